//! Outcomes before numbers: a scenario's verdict and outcome word, each call's outcome, and
//! only then the metrics of calls whose outcome did not change.

use super::{Comparison, Direction, Metric, MetricDelta, OutcomeChange, Regression, EPSILON};
use crate::report::model::{CallReport, ScenarioReport, StreamReport, Verdict};

/// `PASS (reproduced)`: a verdict with its word.
fn verdict_with_word(s: &ScenarioReport) -> String {
    let v = match s.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    };
    format!("{v} ({})", s.outcome().word())
}

/// How the scenario's verdict or outcome word changed, if it did: pass to fail is worse, fail
/// to pass better (fixed); the word alone (`reproduced -> healthy`) neither.
pub(super) fn scenario_change(
    name: &str,
    o: &ScenarioReport,
    n: &ScenarioReport,
) -> Option<OutcomeChange> {
    let change = |subject: &str, old: String, new: String, direction| OutcomeChange {
        scenario: name.to_string(),
        subject: subject.to_string(),
        old,
        new,
        direction,
    };
    if o.verdict != n.verdict {
        let direction = if n.verdict == Verdict::Fail {
            Direction::Worse
        } else {
            Direction::Better
        };
        return Some(change(
            "verdict",
            verdict_with_word(o),
            verdict_with_word(n),
            direction,
        ));
    }
    let (oo, no) = (o.outcome(), n.outcome());
    (oo != no).then(|| {
        change(
            "outcome",
            oo.word().to_string(),
            no.word().to_string(),
            Direction::Other,
        )
    })
}

/// A call's outcome in one word: `connected`, its failure class (`call-dropped`, `ice-failed`),
/// or `not connected`.
pub fn call_state(c: &CallReport) -> String {
    match (&c.failure, c.connected) {
        (Some(f), _) => f.class.clone(),
        (None, true) => "connected".to_string(),
        (None, false) => "not connected".to_string(),
    }
}

/// How far a call got: 2 connected and stayed up, 1 connected then failed, 0 never connected.
fn call_rank(c: &CallReport) -> u8 {
    match (&c.failure, c.connected) {
        (None, true) => 2,
        (Some(_), true) => 1,
        _ => 0,
    }
}

/// How a call's outcome changed, if it did: a call that got less far is worse, further is
/// better; another failure as far along (ice-failed -> dtls-failed) counts as worse, since the
/// call now fails differently.
fn call_change(
    scenario: &str,
    subject: &str,
    o: &CallReport,
    n: &CallReport,
) -> Option<OutcomeChange> {
    let (old, new) = (call_state(o), call_state(n));
    (old != new).then(|| OutcomeChange {
        scenario: scenario.to_string(),
        subject: subject.to_string(),
        direction: if call_rank(n) > call_rank(o) {
            Direction::Better
        } else {
            Direction::Worse
        },
        old,
        new,
    })
}

/// Pairs items by key and by their order among items with that key.
fn pair_up<'a, T, K: Ord>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> K,
) -> (Vec<(&'a T, Option<&'a T>)>, Vec<&'a T>) {
    let mut taken = vec![false; new.len()];
    let mut pairs = Vec::new();
    for o in old {
        let k = key(o);
        let found = new
            .iter()
            .enumerate()
            .find(|(i, n)| !taken[*i] && key(n) == k)
            .map(|(i, n)| {
                taken[i] = true;
                n
            });
        pairs.push((o, found));
    }
    let added = new
        .iter()
        .zip(&taken)
        .filter(|(_, t)| !**t)
        .map(|(n, _)| n)
        .collect();
    (pairs, added)
}

/// Compares the calls of one scenario: each call's outcome, then its numbers (judged only when
/// the outcome is the same).
pub(super) fn compare_calls(
    c: &mut Comparison,
    scenario: &str,
    old: &[CallReport],
    new: &[CallReport],
) {
    let (pairs, added) = pair_up(old, new, |x| (x.caller.clone(), x.callee.clone()));
    for (o, n) in pairs {
        let subject = format!("call {}→{}", o.caller, o.callee);
        let Some(n) = n else {
            c.regressions.push(Regression::Missing {
                scenario: scenario.to_string(),
                subject,
            });
            continue;
        };
        let change = call_change(scenario, &subject, o, n);
        let comparable = change.is_none();
        if let Some(change) = change {
            c.push_outcome(change);
        }
        let m = Metric::SetupMs;
        push_delta(
            c,
            scenario,
            &subject,
            m,
            (o.setup_ms, n.setup_ms),
            comparable,
        );
        compare_streams(c, scenario, &o.streams, &n.streams, comparable);
    }
    for n in added {
        c.added.push(format!(
            "{scenario}: call {}→{} only in the new run",
            n.caller, n.callee
        ));
    }
}

fn stream_metric(s: &StreamReport, m: Metric) -> Option<f64> {
    match m {
        Metric::LossPct => Some(s.loss_pct),
        Metric::JitterMs => Some(s.jitter_ms),
        Metric::RttMs => s.rtt_ms,
        Metric::Mos => Some(s.mos),
        Metric::MaxGapMs => Some(s.max_gap_ms),
        Metric::ConcealedRatio => s.concealed_ratio,
        Metric::PlayoutLossPct => s.playout_loss_pct,
        Metric::SetupMs => None,
    }
}

fn compare_streams(
    c: &mut Comparison,
    scenario: &str,
    old: &[StreamReport],
    new: &[StreamReport],
    comparable: bool,
) {
    let (pairs, added) = pair_up(old, new, |s| (s.from.clone(), s.to.clone(), s.kind.clone()));
    for (o, n) in pairs {
        let subject = format!("{}→{} {}", o.from, o.to, o.kind);
        let Some(n) = n else {
            // A stream that is gone because the call no longer connects is the call's outcome
            // change, already counted.
            if comparable {
                c.regressions.push(Regression::Missing {
                    scenario: scenario.to_string(),
                    subject,
                });
            }
            continue;
        };
        for m in Metric::STREAM {
            let values = (stream_metric(o, m), stream_metric(n, m));
            push_delta(c, scenario, &subject, m, values, comparable);
        }
    }
    for n in added {
        c.added.push(format!(
            "{scenario}: stream {}→{} {} only in the new run",
            n.from, n.to, n.kind
        ));
    }
}

fn push_delta(
    c: &mut Comparison,
    scenario: &str,
    subject: &str,
    metric: Metric,
    (old, new): (Option<f64>, Option<f64>),
    comparable: bool,
) {
    if old.is_none() && new.is_none() {
        return;
    }
    let tolerance = metric.tolerance(&c.tolerances);
    let regression = match (old, new) {
        (Some(o), Some(n)) if comparable => {
            let worse_by = if metric.higher_is_worse() {
                n - o
            } else {
                o - n
            };
            worse_by > tolerance + EPSILON
        }
        // Not measured in one of the runs (no RTCP, decoding off, call not connected), or a
        // call whose outcome changed: shown, not judged here.
        _ => false,
    };
    let d = MetricDelta {
        scenario: scenario.to_string(),
        subject: subject.to_string(),
        metric,
        old,
        new,
        tolerance,
        regression,
        comparable,
    };
    if regression {
        c.regressions.push(Regression::Metric(d.clone()));
    }
    c.deltas.push(d);
}
