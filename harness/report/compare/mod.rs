//! `callharness compare OLD.json NEW.json`: what changed between two runs, outcomes first, then
//! metrics, and whether anything got worse (CI runs this against a baseline in
//! `reports/baseline/`).
//!
//! Scenarios are matched by (name, matrix cell), or explicitly by [`Pairing`] (`--pair
//! OLD_NAME=NEW_NAME`: a renamed scenario, or a repro beside its fix, also within one report);
//! calls within a scenario by (caller, callee) and their order among calls of that pair,
//! streams within a call by (from, to) and their order.
//!
//! Outcomes are compared first: each scenario's verdict and outcome word (`reproduced`,
//! `healthy`, ...), and each call's outcome (`connected`, or its failure class such as
//! `call-dropped`). Every change is listed: `FAIL -> PASS` as fixed, a call that now connects as
//! improved. A call whose outcome changed has numbers that do not compare (a MOS measured over a
//! call that then dropped is not "better"): they are shown as "not comparable: outcome changed"
//! and not judged. A regression is any of:
//! - a verdict that went from pass to fail;
//! - a call whose outcome got worse (connected -> call-dropped, connected -> ice-failed) or
//!   changed to another failure (ice-failed -> dtls-failed);
//! - a metric of a call with the same outcome worse by more than its tolerance ([`Tolerances`],
//!   defaults: loss +0.5 percentage points, jitter +5 ms, RTT +10 ms, MOS −0.1, setup +100 ms,
//!   longest gap +100 ms, concealed ratio +0.01);
//! - a scenario, call or stream of the old run missing from the new one;
//! - a new run (or one of its scenarios) that is incomplete where the old one was complete.
//!
//! Scenarios, calls and streams that only the new run has are listed, not counted as
//! regressions.
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

use super::model::{Outcome, RunReport, ScenarioReport, Verdict};
use super::summary::{cell_label, num, verdict_word};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

mod outcomes;
mod pairs;
mod render;

pub use pairs::{compare_with, PairError, Pairing};
#[cfg(test)]
mod tests;

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

    pub(super) fn decimals(self) -> usize {
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
    /// Scenario display name (`name [param=value]`, or `old → new` for a pair).
    pub scenario: String,
    /// What the metric belongs to: `call alice→bob` or `alice→bob audio`.
    pub subject: String,
    pub metric: Metric,
    /// None when the run did not measure it (no RTCP RR, decoding off, call not connected).
    pub old: Option<f64>,
    pub new: Option<f64>,
    /// The tolerance that was applied.
    pub tolerance: f64,
    /// Worse by more than the tolerance (never for a delta that is not comparable).
    pub regression: bool,
    /// False when the call's outcome changed between the runs (connected in one, dropped in
    /// the other): the numbers describe different calls and are shown, not judged.
    pub comparable: bool,
}

impl MetricDelta {
    /// `new - old` when both exist.
    pub fn delta(&self) -> Option<f64> {
        Some(self.new? - self.old?)
    }
}

/// Which way an outcome changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Worse: a verdict from pass to fail, a call that stopped connecting or now fails
    /// otherwise. A regression.
    Worse,
    /// Better: a verdict from fail to pass (fixed), a call that now connects (improved).
    Better,
    /// Neither: the outcome word changed with the verdict (`reproduced -> healthy` between a
    /// repro and its fix, `error -> failed`).
    Other,
}

/// A scenario's verdict or outcome word, or a call's outcome, that differs between the runs.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeChange {
    /// Scenario display name (`name [param=value]`, or `old → new` for a pair).
    pub scenario: String,
    /// `verdict` (pass/fail changed, with the words), `outcome` (only the word changed) or
    /// `call alice→bob`.
    pub subject: String,
    /// `PASS (reproduced)`, `healthy`, `connected`, `call-dropped`...
    pub old: String,
    pub new: String,
    pub direction: Direction,
}

impl OutcomeChange {
    /// The word a listing marks it with: `REGRESSION`, `FIXED` (a verdict from fail to pass),
    /// `IMPROVED` (a call's outcome), `CHANGED`.
    pub fn mark(&self) -> &'static str {
        match (self.direction, self.subject == "verdict") {
            (Direction::Worse, _) => "REGRESSION",
            (Direction::Better, true) => "FIXED",
            (Direction::Better, false) => "IMPROVED",
            (Direction::Other, _) => "CHANGED",
        }
    }
}

impl fmt::Display for OutcomeChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {} -> {}",
            self.scenario, self.subject, self.old, self.new
        )
    }
}

/// Why a comparison fails.
#[derive(Debug, Clone, PartialEq)]
pub enum Regression {
    /// A metric got worse by more than its tolerance.
    Metric(MetricDelta),
    /// A scenario's verdict went from pass to fail, or a call's outcome got worse or changed.
    Outcome(OutcomeChange),
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
                render::fmt_opt(d.old, d.metric),
                render::fmt_opt(d.new, d.metric),
                render::fmt_delta(d.delta(), d.metric),
                num(d.tolerance, d.metric.decimals())
            ),
            Regression::Outcome(o) => o.fmt(f),
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

/// One scenario (or pair) in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioDiff {
    /// Display name (`name [param=value]`, or `old → new` for a pair).
    pub scenario: String,
    pub old_verdict: Option<Verdict>,
    pub new_verdict: Option<Verdict>,
    pub old_outcome: Option<Outcome>,
    pub new_outcome: Option<Outcome>,
}

/// The result of comparing two runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub tolerances: Tolerances,
    /// Every scenario of either run, old run's order first, then the new run's additions, then
    /// the explicit pairs.
    pub scenarios: Vec<ScenarioDiff>,
    /// Every verdict, outcome word and call outcome that changed, better, worse or neither, in
    /// scenario order (the worse ones are also in `regressions`).
    pub outcomes: Vec<OutcomeChange>,
    /// Every metric present in both runs, in scenario, call, stream order.
    pub deltas: Vec<MetricDelta>,
    /// Scenarios, calls and streams only the new run has (`scenario: subject`), for information.
    pub added: Vec<String>,
    /// What got worse; empty when nothing did.
    pub regressions: Vec<Regression>,
}

impl Comparison {
    fn new(tolerances: Tolerances) -> Comparison {
        Comparison {
            tolerances,
            scenarios: Vec::new(),
            outcomes: Vec::new(),
            deltas: Vec::new(),
            added: Vec::new(),
            regressions: Vec::new(),
        }
    }

    /// True when anything got worse: `callharness compare` then exits with code 1.
    pub fn has_regression(&self) -> bool {
        !self.regressions.is_empty()
    }

    /// Outcome changes for the better: verdicts fixed and calls that now connect.
    pub fn improvements(&self) -> impl Iterator<Item = &OutcomeChange> {
        self.outcomes
            .iter()
            .filter(|o| o.direction == Direction::Better)
    }

    fn push_outcome(&mut self, change: OutcomeChange) {
        if change.direction == Direction::Worse {
            self.regressions.push(Regression::Outcome(change.clone()));
        }
        self.outcomes.push(change);
    }
}

/// Float noise below this is not a change (values in reports are rounded far coarser).
const EPSILON: f64 = 1e-9;

/// Compares `new` against `old` with the given tolerances, scenarios matched by name.
pub fn compare(old: &RunReport, new: &RunReport, tolerances: &Tolerances) -> Comparison {
    let mut c = Comparison::new(*tolerances);
    compare_runs(&mut c, old, new, &[], &[]);
    c
}

/// Matches the runs' scenarios by name and cell. A scenario in `paired_old` without a match is
/// not missing, one in `paired_new` is not new: explicit pairs compare them.
pub(super) fn compare_runs(
    c: &mut Comparison,
    old: &RunReport,
    new: &RunReport,
    paired_old: &[&ScenarioReport],
    paired_new: &[&ScenarioReport],
) {
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
    let is_in =
        |list: &[&ScenarioReport], s: &ScenarioReport| list.iter().any(|p| std::ptr::eq(*p, s));
    let mut seen = BTreeSet::new();
    for o in &old.scenarios {
        let k = key(o);
        if !seen.insert(k.clone()) {
            continue;
        }
        let name = label(o);
        match new_by_key.get(&k) {
            Some(n) => compare_scenario(c, &name, o, n),
            None if is_in(paired_old, o) => {}
            None => {
                c.scenarios.push(ScenarioDiff {
                    scenario: name.clone(),
                    old_verdict: Some(o.verdict),
                    new_verdict: None,
                    old_outcome: Some(o.outcome()),
                    new_outcome: None,
                });
                c.regressions
                    .push(Regression::ScenarioMissing { scenario: name });
            }
        }
    }
    for n in &new.scenarios {
        if seen.insert(key(n)) && !is_in(paired_new, n) {
            c.scenarios.push(ScenarioDiff {
                scenario: label(n),
                old_verdict: None,
                new_verdict: Some(n.verdict),
                old_outcome: None,
                new_outcome: Some(n.outcome()),
            });
            c.added.push(format!(
                "{}: scenario only in the new run ({}, {})",
                label(n),
                verdict_word(n.verdict),
                n.outcome().word()
            ));
        }
    }
}

/// Compares one scenario of the old run with one of the new: outcomes, then calls.
pub(super) fn compare_scenario(
    c: &mut Comparison,
    name: &str,
    o: &ScenarioReport,
    n: &ScenarioReport,
) {
    c.scenarios.push(ScenarioDiff {
        scenario: name.to_string(),
        old_verdict: Some(o.verdict),
        new_verdict: Some(n.verdict),
        old_outcome: Some(o.outcome()),
        new_outcome: Some(n.outcome()),
    });
    if let Some(change) = outcomes::scenario_change(name, o, n) {
        c.push_outcome(change);
    }
    if o.complete && !n.complete {
        c.regressions.push(Regression::Incomplete {
            scenario: Some(name.to_string()),
        });
    }
    outcomes::compare_calls(c, name, &o.calls, &n.calls);
}

fn label(s: &ScenarioReport) -> String {
    if s.matrix.is_empty() {
        s.name.clone()
    } else {
        format!("{} [{}]", s.name, cell_label(&s.matrix))
    }
}
