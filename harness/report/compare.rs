//! `callharness compare OLD.json NEW.json`: what changed between two runs, and whether anything
//! got worse beyond its tolerance (CI runs this against a baseline in `reports/baseline/`).
//!
//! Scenarios are matched by (name, matrix cell), calls within a scenario by (caller, callee) and
//! their order among calls of that pair, streams within a call by (from, to) and their order. A
//! regression is any of:
//! - a metric worse by more than its tolerance ([`Tolerances`], defaults: loss +0.5 percentage
//!   points, jitter +5 ms, RTT +10 ms, MOS −0.1, setup +100 ms, longest gap +100 ms, concealed
//!   ratio +0.01);
//! - a verdict that went from pass to fail;
//! - a scenario, call or stream of the old run missing from the new one;
//! - a new run (or one of its scenarios) that is incomplete where the old one was complete.
//!
//! Scenarios and streams that only the new run has are listed, not counted as regressions.
//!
//! ```
//! # use callharness::report::{compare::{compare, Tolerances}, fixture};
//! let old = fixture::sample_run();
//! let mut new = old.clone();
//! new.scenarios[0].calls[0].streams[0].loss_pct += 2.0;
//! let cmp = compare(&old, &new, &Tolerances::default());
//! assert!(cmp.has_regression());
//! println!("{}", cmp.to_text());
//! ```

use super::model::{CallReport, RunReport, ScenarioReport, StreamReport, Verdict};
use super::summary::{cell_label, num, verdict_word};
use std::collections::BTreeMap;
use std::fmt::{self, Write};

/// How much worse a metric may get before it counts as a regression. Each value is the largest
/// allowed worsening, in the metric's unit; a change of exactly the tolerance is allowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    /// Loss increase, percentage points (0.5 = from 1.0 % to 1.5 %).
    pub loss_pct: f64,
    /// RFC 3550 jitter increase, ms.
    pub jitter_ms: f64,
    /// Mean RTT increase, ms.
    pub rtt_ms: f64,
    /// MOS decrease, MOS points (positive number: 0.1 allows 4.2 -> 4.1).
    pub mos: f64,
    /// Call setup time increase, ms.
    pub setup_ms: f64,
    /// Longest media gap increase, ms.
    pub max_gap_ms: f64,
    /// Concealed-samples ratio increase, as a ratio (0.01 = one percentage point of samples).
    pub concealed_ratio: f64,
    /// Playout loss (what the listener heard) increase, percentage points.
    pub playout_loss_pct: f64,
}

impl Default for Tolerances {
    fn default() -> Self {
        Tolerances {
            loss_pct: 0.5,
            jitter_ms: 5.0,
            rtt_ms: 10.0,
            mos: 0.1,
            setup_ms: 100.0,
            max_gap_ms: 100.0,
            concealed_ratio: 0.01,
            playout_loss_pct: 0.5,
        }
    }
}

/// A compared metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    LossPct,
    JitterMs,
    RttMs,
    Mos,
    SetupMs,
    MaxGapMs,
    ConcealedRatio,
    PlayoutLossPct,
}

impl Metric {
    /// The metric's field name in `report.json`.
    pub fn name(self) -> &'static str {
        match self {
            Metric::LossPct => "loss_pct",
            Metric::JitterMs => "jitter_ms",
            Metric::RttMs => "rtt_ms",
            Metric::Mos => "mos",
            Metric::SetupMs => "setup_ms",
            Metric::MaxGapMs => "max_gap_ms",
            Metric::ConcealedRatio => "concealed_ratio",
            Metric::PlayoutLossPct => "playout_loss_pct",
        }
    }

    /// True when a larger value is worse (all but MOS).
    pub fn higher_is_worse(self) -> bool {
        self != Metric::Mos
    }

    /// The tolerance that applies to this metric.
    pub fn tolerance(self, t: &Tolerances) -> f64 {
        match self {
            Metric::LossPct => t.loss_pct,
            Metric::JitterMs => t.jitter_ms,
            Metric::RttMs => t.rtt_ms,
            Metric::Mos => t.mos,
            Metric::SetupMs => t.setup_ms,
            Metric::MaxGapMs => t.max_gap_ms,
            Metric::ConcealedRatio => t.concealed_ratio,
            Metric::PlayoutLossPct => t.playout_loss_pct,
        }
    }

    fn decimals(self) -> usize {
        match self {
            Metric::LossPct | Metric::Mos | Metric::JitterMs | Metric::PlayoutLossPct => 2,
            Metric::RttMs | Metric::SetupMs | Metric::MaxGapMs => 1,
            Metric::ConcealedRatio => 4,
        }
    }

    const STREAM: [Metric; 7] = [
        Metric::LossPct,
        Metric::PlayoutLossPct,
        Metric::JitterMs,
        Metric::RttMs,
        Metric::Mos,
        Metric::MaxGapMs,
        Metric::ConcealedRatio,
    ];
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One metric of one call or stream in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDelta {
    /// Scenario display name (`name [param=value]`).
    pub scenario: String,
    /// What the metric belongs to: `call alice→bob` or `alice→bob audio`.
    pub subject: String,
    pub metric: Metric,
    /// None when the run did not measure it (no RTCP RR, decoding off, call not connected).
    pub old: Option<f64>,
    pub new: Option<f64>,
    /// The tolerance that was applied.
    pub tolerance: f64,
    /// Worse by more than the tolerance.
    pub regression: bool,
}

impl MetricDelta {
    /// `new - old` when both exist.
    pub fn delta(&self) -> Option<f64> {
        Some(self.new? - self.old?)
    }
}

/// Why a comparison fails.
#[derive(Debug, Clone, PartialEq)]
pub enum Regression {
    /// A metric got worse by more than its tolerance.
    Metric(MetricDelta),
    /// A scenario passed in the old run and fails in the new one.
    VerdictFailed { scenario: String },
    /// A scenario of the old run is not in the new one.
    ScenarioMissing { scenario: String },
    /// A call or stream of the old run is not in the new one.
    Missing { scenario: String, subject: String },
    /// The new run, or one of its scenarios, was cut short where the old one was complete.
    Incomplete { scenario: Option<String> },
}

impl fmt::Display for Regression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Regression::Metric(d) => write!(
                f,
                "{}: {} {} worse beyond tolerance: {} -> {} ({}, tolerance {})",
                d.scenario,
                d.subject,
                d.metric,
                fmt_opt(d.old, d.metric),
                fmt_opt(d.new, d.metric),
                fmt_delta(d.delta(), d.metric),
                num(d.tolerance, d.metric.decimals())
            ),
            Regression::VerdictFailed { scenario } => {
                write!(f, "{scenario}: verdict went from pass to fail")
            }
            Regression::ScenarioMissing { scenario } => {
                write!(f, "{scenario}: scenario is missing from the new run")
            }
            Regression::Missing { scenario, subject } => {
                write!(f, "{scenario}: {subject} is missing from the new run")
            }
            Regression::Incomplete { scenario: None } => {
                write!(f, "the new run is incomplete (interrupted or timed out)")
            }
            Regression::Incomplete {
                scenario: Some(scenario),
            } => write!(f, "{scenario}: cut short in the new run"),
        }
    }
}

/// One scenario in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioDiff {
    /// Display name (`name [param=value]`).
    pub scenario: String,
    pub old_verdict: Option<Verdict>,
    pub new_verdict: Option<Verdict>,
}

/// The result of comparing two runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub tolerances: Tolerances,
    /// Every scenario of either run, old run's order first, then the new run's additions.
    pub scenarios: Vec<ScenarioDiff>,
    /// Every metric present in both runs, in scenario, call, stream order.
    pub deltas: Vec<MetricDelta>,
    /// Calls and streams only the new run has (`scenario: subject`), for information.
    pub added: Vec<String>,
    /// What got worse; empty when nothing did.
    pub regressions: Vec<Regression>,
}

impl Comparison {
    /// True when anything got worse: `callharness compare` then exits with code 1.
    pub fn has_regression(&self) -> bool {
        !self.regressions.is_empty()
    }

    /// Deltas worth showing: regressions and every metric that changed at all.
    fn shown(&self) -> impl Iterator<Item = &MetricDelta> {
        self.deltas
            .iter()
            .filter(|d| d.regression || d.old != d.new)
    }

    /// A plain-text rendering for a terminal or a CI log.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "{}", self.headline());
        for r in &self.regressions {
            let _ = writeln!(t, "  REGRESSION  {r}");
        }
        for a in &self.added {
            let _ = writeln!(t, "  new         {a}");
        }
        let rows: Vec<[String; 8]> = self.shown().map(row).collect();
        if rows.is_empty() {
            let _ = writeln!(t, "\nNo metric changed.");
            return t;
        }
        let head = [
            "scenario",
            "subject",
            "metric",
            "old",
            "new",
            "delta",
            "tolerance",
            "",
        ]
        .map(String::from);
        let mut widths = [0usize; 8];
        for r in std::iter::once(&head).chain(&rows) {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let _ = writeln!(t);
        for (i, r) in std::iter::once(&head).chain(&rows).enumerate() {
            let mut line = String::new();
            for (j, (c, w)) in r.iter().zip(widths).enumerate() {
                let pad = w - c.chars().count();
                // Names left-aligned, numbers right-aligned.
                if (3..7).contains(&j) {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    line.push_str(&" ".repeat(pad));
                }
                line.push_str("  ");
            }
            let _ = writeln!(t, "{}", line.trim_end());
            if i == 0 {
                let total: usize = widths.iter().sum::<usize>() + 2 * 7;
                let _ = writeln!(t, "{}", "-".repeat(total));
            }
        }
        t
    }

    /// A Markdown rendering for a CI job summary or a pull-request comment.
    pub fn to_markdown(&self) -> String {
        use super::markdown::esc;
        let mut m = String::new();
        let mark = if self.has_regression() { "❌" } else { "✅" };
        let _ = writeln!(m, "### {mark} {}\n", esc(&self.headline()));
        if !self.regressions.is_empty() {
            for r in &self.regressions {
                let _ = writeln!(m, "- **regression**: {}", esc(&r.to_string()));
            }
            let _ = writeln!(m);
        }
        for a in &self.added {
            let _ = writeln!(m, "- new: {}", esc(a));
        }
        if !self.added.is_empty() {
            let _ = writeln!(m);
        }
        let rows: Vec<[String; 8]> = self.shown().map(row).collect();
        if rows.is_empty() {
            let _ = writeln!(m, "No metric changed.");
            return m;
        }
        let _ = writeln!(
            m,
            "| Scenario | Subject | Metric | Old | New | Δ | Tolerance | |"
        );
        let _ = writeln!(m, "|---|---|---|--:|--:|--:|--:|---|");
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| esc(c)).collect();
            let _ = writeln!(m, "| {} |", cells.join(" | "));
        }
        m
    }

    fn headline(&self) -> String {
        let compared = self
            .scenarios
            .iter()
            .filter(|s| s.old_verdict.is_some() && s.new_verdict.is_some())
            .count();
        let changed = self.shown().count();
        format!(
            "compare: {} regression{} · {compared} scenarios compared · {changed} metric{} changed",
            self.regressions.len(),
            if self.regressions.len() == 1 { "" } else { "s" },
            if changed == 1 { "" } else { "s" }
        )
    }
}

fn row(d: &MetricDelta) -> [String; 8] {
    let status = if d.regression {
        "REGRESSION"
    } else {
        match (d.delta(), d.metric.higher_is_worse()) {
            (Some(x), true) if x < 0.0 => "better",
            (Some(x), false) if x > 0.0 => "better",
            (Some(_), _) => "within tolerance",
            (None, _) => "not measured in one run",
        }
    };
    let tol_sign = if d.metric.higher_is_worse() { "+" } else { "-" };
    [
        d.scenario.clone(),
        d.subject.clone(),
        d.metric.name().to_string(),
        fmt_opt(d.old, d.metric),
        fmt_opt(d.new, d.metric),
        fmt_delta(d.delta(), d.metric),
        format!("{tol_sign}{}", num(d.tolerance, d.metric.decimals())),
        status.to_string(),
    ]
}

fn fmt_opt(v: Option<f64>, m: Metric) -> String {
    v.map_or_else(|| "—".to_string(), |v| num(v, m.decimals()))
}

fn fmt_delta(v: Option<f64>, m: Metric) -> String {
    match v {
        None => "—".to_string(),
        Some(v) if v > 0.0 => format!("+{}", num(v, m.decimals())),
        Some(v) => num(v, m.decimals()),
    }
}

/// Float noise below this is not a change (values in reports are rounded far coarser).
const EPSILON: f64 = 1e-9;

/// Compares `new` against `old` with the given tolerances.
pub fn compare(old: &RunReport, new: &RunReport, tolerances: &Tolerances) -> Comparison {
    let mut c = Comparison {
        tolerances: *tolerances,
        scenarios: Vec::new(),
        deltas: Vec::new(),
        added: Vec::new(),
        regressions: Vec::new(),
    };
    if old.complete && !new.complete {
        c.regressions
            .push(Regression::Incomplete { scenario: None });
    }
    let key = |s: &ScenarioReport| (s.name.clone(), s.matrix.clone());
    let mut new_by_key: BTreeMap<(String, BTreeMap<String, String>), &ScenarioReport> =
        BTreeMap::new();
    for s in &new.scenarios {
        // A duplicate key (the same scenario twice) keeps the first, like the old side.
        new_by_key.entry(key(s)).or_insert(s);
    }
    let mut seen = std::collections::BTreeSet::new();
    for o in &old.scenarios {
        let k = key(o);
        if !seen.insert(k.clone()) {
            continue;
        }
        let name = label(o);
        let Some(n) = new_by_key.get(&k) else {
            c.scenarios.push(ScenarioDiff {
                scenario: name.clone(),
                old_verdict: Some(o.verdict),
                new_verdict: None,
            });
            c.regressions
                .push(Regression::ScenarioMissing { scenario: name });
            continue;
        };
        c.scenarios.push(ScenarioDiff {
            scenario: name.clone(),
            old_verdict: Some(o.verdict),
            new_verdict: Some(n.verdict),
        });
        if o.verdict == Verdict::Pass && n.verdict == Verdict::Fail {
            c.regressions.push(Regression::VerdictFailed {
                scenario: name.clone(),
            });
        }
        if o.complete && !n.complete {
            c.regressions.push(Regression::Incomplete {
                scenario: Some(name.clone()),
            });
        }
        compare_calls(&mut c, &name, &o.calls, &n.calls, tolerances);
    }
    for n in &new.scenarios {
        if seen.insert(key(n)) {
            c.scenarios.push(ScenarioDiff {
                scenario: label(n),
                old_verdict: None,
                new_verdict: Some(n.verdict),
            });
            c.added.push(format!(
                "{}: scenario only in the new run ({})",
                label(n),
                verdict_word(n.verdict)
            ));
        }
    }
    c
}

fn label(s: &ScenarioReport) -> String {
    if s.matrix.is_empty() {
        s.name.clone()
    } else {
        format!("{} [{}]", s.name, cell_label(&s.matrix))
    }
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

fn compare_calls(
    c: &mut Comparison,
    scenario: &str,
    old: &[CallReport],
    new: &[CallReport],
    t: &Tolerances,
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
        push_delta(
            c,
            scenario,
            &subject,
            Metric::SetupMs,
            o.setup_ms,
            n.setup_ms,
            t,
        );
        compare_streams(c, scenario, &o.streams, &n.streams, t);
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
    t: &Tolerances,
) {
    let (pairs, added) = pair_up(old, new, |s| (s.from.clone(), s.to.clone(), s.kind.clone()));
    for (o, n) in pairs {
        let subject = format!("{}→{} {}", o.from, o.to, o.kind);
        let Some(n) = n else {
            c.regressions.push(Regression::Missing {
                scenario: scenario.to_string(),
                subject,
            });
            continue;
        };
        for m in Metric::STREAM {
            push_delta(
                c,
                scenario,
                &subject,
                m,
                stream_metric(o, m),
                stream_metric(n, m),
                t,
            );
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
    old: Option<f64>,
    new: Option<f64>,
    t: &Tolerances,
) {
    if old.is_none() && new.is_none() {
        return;
    }
    let tolerance = metric.tolerance(t);
    let regression = match (old, new) {
        (Some(o), Some(n)) => {
            let worse_by = if metric.higher_is_worse() {
                n - o
            } else {
                o - n
            };
            worse_by > tolerance + EPSILON
        }
        // Not measured in one of the runs (no RTCP, decoding off, call not connected): shown,
        // not judged here; a call that stopped connecting fails its scenario's verdict.
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
    };
    if regression {
        c.regressions.push(Regression::Metric(d.clone()));
    }
    c.deltas.push(d);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_run;

    fn complete_run() -> RunReport {
        let mut r = sample_run();
        r.complete = true;
        r.scenarios.pop();
        r
    }

    #[test]
    fn identical_runs_have_no_regression() {
        let run = sample_run();
        let c = compare(&run, &run, &Tolerances::default());
        assert!(!c.has_regression(), "{}", c.to_text());
        assert!(c.to_text().contains("No metric changed."));
        assert!(c.deltas.iter().all(|d| d.delta().is_none_or(|x| x == 0.0)));
        assert_eq!(c.scenarios.len(), 5);
    }

    #[test]
    fn a_listener_hearing_more_concealment_is_a_regression_even_at_equal_loss() {
        let old = complete_run();
        let mut new = old.clone();
        let st = &mut new.scenarios[0].calls[0].streams[0];
        st.playout_loss_pct = st.playout_loss_pct.map(|p| p + 20.0);
        let c = compare(&old, &new, &Tolerances::default());
        assert_eq!(c.regressions.len(), 1, "{}", c.to_text());
        assert!(c
            .to_text()
            .contains("playout_loss_pct worse beyond tolerance"));
    }

    #[test]
    fn worse_loss_beyond_tolerance_is_a_regression() {
        let old = complete_run();
        let mut new = old.clone();
        new.scenarios[0].calls[0].streams[1].loss_pct += 0.51;
        let c = compare(&old, &new, &Tolerances::default());
        assert!(c.has_regression());
        assert_eq!(c.regressions.len(), 1);
        let text = c.to_text();
        assert!(
            text.contains("REGRESSION  clean wired call: bob→alice audio loss_pct worse beyond tolerance: 0.00 -> 0.51 (+0.51, tolerance 0.50)"),
            "{text}"
        );
        let md = c.to_markdown();
        assert!(md.starts_with("### ❌ compare: 1 regression"), "{md}");
        assert!(md.contains("| clean wired call | bob→alice audio | loss\\_pct | 0.00 | 0.51 | +0.51 | +0.50 | REGRESSION |"), "{md}");
    }

    #[test]
    fn worse_within_tolerance_is_not() {
        let old = complete_run();
        let mut new = old.clone();
        let st = &mut new.scenarios[1].calls[0].streams[0];
        st.loss_pct += 0.5; // exactly the tolerance
        st.jitter_ms += 4.9;
        st.mos -= 0.1;
        new.scenarios[1].calls[0].setup_ms = Some(214.0 + 99.0);
        let c = compare(&old, &new, &Tolerances::default());
        assert!(!c.has_regression(), "{}", c.to_text());
        assert_eq!(c.shown().count(), 4);
        assert!(c.to_text().contains("within tolerance"));
        // Tighter tolerances make the same change a regression.
        let strict = Tolerances {
            jitter_ms: 1.0,
            ..Tolerances::default()
        };
        let c = compare(&old, &new, &strict);
        assert_eq!(c.regressions.len(), 1);
    }

    #[test]
    fn better_is_not_a_regression() {
        let old = complete_run();
        let mut new = old.clone();
        new.scenarios[1].calls[0].streams[0].loss_pct = 0.0;
        new.scenarios[1].calls[0].streams[0].mos = 4.4;
        let c = compare(&old, &new, &Tolerances::default());
        assert!(!c.has_regression());
        assert!(c.to_text().contains("better"));
    }

    #[test]
    fn a_missing_scenario_is_a_regression() {
        let old = complete_run();
        let mut new = old.clone();
        new.scenarios.remove(3); // loss sweep [loss=5%]
        let c = compare(&old, &new, &Tolerances::default());
        assert_eq!(
            c.regressions,
            [Regression::ScenarioMissing {
                scenario: "loss sweep [loss=5%, profile=dsl]".into()
            }]
        );
        // ...and the other cell of the matrix still matched.
        assert!(c
            .scenarios
            .iter()
            .any(|s| s.scenario == "loss sweep [loss=1%, profile=dsl]" && s.new_verdict.is_some()));
    }

    #[test]
    fn a_missing_stream_a_failed_verdict_and_an_incomplete_run_are_regressions() {
        let old = complete_run();
        let mut new = old.clone();
        new.scenarios[0].calls[0].streams.pop();
        new.scenarios[2].verdict = Verdict::Fail;
        new.complete = false;
        new.scenarios.push(sample_run().scenarios[4].clone());
        let c = compare(&old, &new, &Tolerances::default());
        let text: Vec<String> = c.regressions.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "the new run is incomplete (interrupted or timed out)",
                "clean wired call: bob→alice audio is missing from the new run",
                "loss sweep [loss=1%, profile=dsl]: verdict went from pass to fail",
            ]
        );
        assert_eq!(c.added.len(), 1);
        assert!(c.added[0]
            .starts_with("transatlantic call (interrupted): scenario only in the new run"));
    }

    #[test]
    fn fail_to_pass_and_new_scenarios_are_not_regressions() {
        let old = complete_run();
        let mut new = old.clone();
        new.scenarios[1].verdict = Verdict::Pass;
        let mut extra = new.scenarios[0].clone();
        extra.name = "brand new".into();
        new.scenarios.push(extra);
        let c = compare(&old, &new, &Tolerances::default());
        assert!(!c.has_regression(), "{}", c.to_text());
    }
}
