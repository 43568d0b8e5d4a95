//! A verdict in words: a scenario that expects the user's symptom and sees it passes, like a
//! healthy call does, but the two say different things. Every report (console, Markdown, HTML,
//! JUnit) and `compare` name the [`Outcome`]:
//!
//! | expects | verdict `pass` | verdict `fail` |
//! |---|---|---|
//! | `symptom` | `reproduced` | `not reproduced` |
//! | `healthy` | `healthy` | `failed` |
//!
//! and, whatever it expects, `error` for a scenario that could not be set up and `not run` for
//! one not started before an interrupt. Exit codes follow the verdict alone, as before.
//!
//! ```
//! use callharness::report::model::{Expects, Outcome, Verdict};
//! assert_eq!(Outcome::of(Expects::Symptom, Verdict::Pass, None), Outcome::Reproduced);
//! assert_eq!(Outcome::of(Expects::Healthy, Verdict::Fail, None), Outcome::Failed);
//! assert_eq!(Outcome::Reproduced.word(), "reproduced");
//! ```

use super::model::{Expectation, Expects, Outcome, RunReport, ScenarioReport, Verdict};
use crate::scenario::Threshold;
use std::collections::BTreeMap;

/// Why a scenario has no result, for [`Outcome::of`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoResult {
    /// It could not be set up.
    SetupError,
    /// It was not started before the run stopped.
    NotRun,
}

impl Outcome {
    /// The outcome of a scenario that expects `expects` and got `verdict`; `no_result` when it
    /// produced none (then the verdict is `fail` and the reason decides).
    pub fn of(expects: Expects, verdict: Verdict, no_result: Option<NoResult>) -> Outcome {
        match (no_result, expects, verdict) {
            (Some(NoResult::SetupError), _, _) => Outcome::Error,
            (Some(NoResult::NotRun), _, _) => Outcome::NotRun,
            (None, Expects::Symptom, Verdict::Pass) => Outcome::Reproduced,
            (None, Expects::Symptom, Verdict::Fail) => Outcome::NotReproduced,
            (None, Expects::Healthy, Verdict::Pass) => Outcome::Healthy,
            (None, Expects::Healthy, Verdict::Fail) => Outcome::Failed,
        }
    }

    /// Every outcome, passing ones first, in the order counts are printed.
    pub const ALL: [Outcome; 6] = [
        Outcome::Reproduced,
        Outcome::Healthy,
        Outcome::NotReproduced,
        Outcome::Failed,
        Outcome::Error,
        Outcome::NotRun,
    ];

    /// The outcome as printed: `reproduced`, `healthy`, `not reproduced`, `failed`, `error`,
    /// `not run` (JSON writes `not-reproduced` and `not-run`).
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Reproduced => "reproduced",
            Outcome::Healthy => "healthy",
            Outcome::NotReproduced => "not reproduced",
            Outcome::Failed => "failed",
            Outcome::Error => "error",
            Outcome::NotRun => "not run",
        }
    }

    /// One sentence on what the outcome means, for a tooltip, a JUnit message or a legend.
    pub fn meaning(self) -> &'static str {
        match self {
            Outcome::Reproduced => "the symptom was expected and seen",
            Outcome::Healthy => "a healthy call was expected and seen",
            Outcome::NotReproduced => "the symptom was expected and not seen",
            Outcome::Failed => "a healthy call was expected and not seen",
            Outcome::Error => "the scenario could not be set up",
            Outcome::NotRun => "the scenario was not started before the run stopped",
        }
    }

    /// Whether the scenario met its expectations (its verdict is `pass`).
    pub fn passed(self) -> bool {
        matches!(self, Outcome::Reproduced | Outcome::Healthy)
    }
}

impl Expects {
    /// `symptom` or `healthy`, as in the JSON.
    pub fn word(self) -> &'static str {
        match self {
            Expects::Symptom => "symptom",
            Expects::Healthy => "healthy",
        }
    }
}

impl ScenarioReport {
    /// What the scenario expects: the `expects` field, or for a report written before it
    /// existed, inferred from the expectations by the same rule ([`infer_expects`]).
    pub fn expects(&self) -> Expects {
        self.expects
            .unwrap_or_else(|| infer_expects(&self.expectations))
    }

    /// The outcome, from what the scenario expects, its verdict and why it has no result (an
    /// `error` on a complete scenario is a setup error, on an incomplete one a scenario that was
    /// not run). Always recomputed, so a report whose verdict was edited reads consistently.
    pub fn outcome(&self) -> Outcome {
        let no_result = self.error.as_ref().map(|_| {
            if self.complete {
                NoResult::SetupError
            } else {
                NoResult::NotRun
            }
        });
        Outcome::of(self.expects(), self.verdict, no_result)
    }

    /// The report with its `outcome` field filled in from the others.
    pub fn with_outcome(mut self) -> ScenarioReport {
        self.outcome = Some(self.outcome());
        self
    }
}

/// What a scenario expects, read back from its judged expectations (for reports that predate
/// the `expects` field): a call outcome expected to fail (`fails with call-dropped`), or a
/// threshold expectation whose text asserts degradation (`alice->bob audio: loss > 3%`).
pub fn infer_expects(expectations: &[Expectation]) -> Expects {
    let symptom = expectations.iter().any(|e| {
        if e.expected.starts_with("fails with ") {
            return true;
        }
        // `what` is `<call or stream>: [<set>] <threshold as written>`.
        let text = e.what.rsplit_once(": ").map_or(e.what.as_str(), |(_, t)| t);
        let text = match text.strip_prefix('[') {
            Some(rest) => rest.split_once("] ").map_or(rest, |(_, t)| t),
            None => text,
        };
        text.parse::<Threshold>()
            .is_ok_and(|t| t.asserts_degradation())
    });
    if symptom {
        Expects::Symptom
    } else {
        Expects::Healthy
    }
}

/// How many scenarios of a run had each outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    counts: BTreeMap<Outcome, usize>,
}

impl Tally {
    /// The outcomes of every scenario of `run`.
    pub fn of(run: &RunReport) -> Tally {
        let mut counts = BTreeMap::new();
        for s in &run.scenarios {
            *counts.entry(s.outcome()).or_insert(0) += 1;
        }
        Tally { counts }
    }

    /// Scenarios with this outcome.
    pub fn count(&self, o: Outcome) -> usize {
        self.counts.get(&o).copied().unwrap_or(0)
    }

    /// Scenarios that met their expectations (reproduced or healthy).
    pub fn as_expected(&self) -> usize {
        self.count(Outcome::Reproduced) + self.count(Outcome::Healthy)
    }

    /// Every scenario counted.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }

    /// `7 reproduced, 5 healthy, 1 not reproduced`: each outcome that occurred, in
    /// [`Outcome::ALL`] order; `no scenarios` when there were none.
    pub fn breakdown(&self) -> String {
        let parts: Vec<String> = Outcome::ALL
            .iter()
            .filter(|o| self.count(**o) > 0)
            .map(|o| format!("{} {}", self.count(*o), o.word()))
            .collect();
        if parts.is_empty() {
            "no scenarios".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// The run's one-line account: `12 of 12 scenarios as expected (7 reproduced, 5 healthy)`.
    pub fn headline(&self) -> String {
        format!(
            "{} of {} scenario{} as expected ({})",
            self.as_expected(),
            self.total(),
            if self.total() == 1 { "" } else { "s" },
            self.breakdown()
        )
    }
}

/// The seeds the run's scenarios ran with, for a header: `seed 7` when they share one, `seeds
/// 1, 3 and 7` when they differ (up to six, else `seeds per scenario, 1 to 40`), the run's seed
/// when there are no scenarios. A scenario that fixes its own `seed:` keeps it, so the run's
/// default alone would be wrong.
pub fn seeds_label(run: &RunReport) -> String {
    let mut seeds: Vec<u64> = run.scenarios.iter().map(|s| s.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    match seeds.as_slice() {
        [] => format!("seed {}", run.seed),
        [one] => format!("seed {one}"),
        many if many.len() <= 6 => {
            let (last, rest) = many.split_last().unwrap_or((&0, &[]));
            let rest: Vec<String> = rest.iter().map(u64::to_string).collect();
            format!("seeds {} and {last}", rest.join(", "))
        }
        many => format!(
            "seeds per scenario, {} to {}",
            many[0],
            many[many.len() - 1]
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_run;

    #[test]
    fn the_outcome_reads_the_verdict_against_what_was_expected() {
        use Expects::*;
        use Verdict::*;
        assert_eq!(Outcome::of(Symptom, Pass, None), Outcome::Reproduced);
        assert_eq!(Outcome::of(Symptom, Fail, None), Outcome::NotReproduced);
        assert_eq!(Outcome::of(Healthy, Pass, None), Outcome::Healthy);
        assert_eq!(Outcome::of(Healthy, Fail, None), Outcome::Failed);
        for e in [Symptom, Healthy] {
            let err = Outcome::of(e, Fail, Some(NoResult::SetupError));
            assert_eq!(err, Outcome::Error);
            assert_eq!(
                Outcome::of(e, Fail, Some(NoResult::NotRun)),
                Outcome::NotRun
            );
        }
        let passing: Vec<Outcome> = Outcome::ALL.into_iter().filter(|o| o.passed()).collect();
        assert_eq!(passing, [Outcome::Reproduced, Outcome::Healthy]);
        assert_eq!(
            serde_json::to_string(&Outcome::NotReproduced).unwrap(),
            "\"not-reproduced\""
        );
        assert_eq!(Outcome::NotRun.word(), "not run");
    }

    #[test]
    fn a_scenario_report_says_error_or_not_run_by_completeness() {
        let run = sample_run();
        let mut s = run.scenarios[0].clone();
        assert_eq!(s.outcome(), Outcome::Healthy);
        s.verdict = Verdict::Fail;
        s.error = Some("could not run: no route".into());
        assert_eq!(s.outcome(), Outcome::Error);
        s.complete = false;
        assert_eq!(s.outcome(), Outcome::NotRun);
        let s = s.with_outcome();
        assert_eq!(s.outcome, Some(Outcome::NotRun));
    }

    #[test]
    fn an_old_report_without_the_field_is_read_by_the_same_rule() {
        let e = |what: &str, expected: &str| Expectation {
            what: what.into(),
            expected: expected.into(),
            observed: String::new(),
            met: true,
        };
        let healthy = [
            e("alice->bob: call outcome", "connected"),
            e("alice->bob audio: loss < 1%", "< 1%"),
            e("alice->bob audio: [cqd-poor-audio] loss <= 10%", "<= 10%"),
        ];
        assert_eq!(infer_expects(&healthy), Expects::Healthy);
        let dropped = [e("alice->bob: call outcome", "fails with call-dropped")];
        assert_eq!(infer_expects(&dropped), Expects::Symptom);
        let degraded = [healthy[0].clone(), e("bob->alice audio: mos < 4", "< 4")];
        assert_eq!(infer_expects(&degraded), Expects::Symptom);
        let not_measured = [e("alice->bob: max gap > 5s", "> 5s")];
        assert_eq!(infer_expects(&not_measured), Expects::Symptom);
        let mut s = sample_run().scenarios[0].clone();
        s.expects = None;
        s.expectations = degraded.to_vec();
        assert_eq!(s.outcome(), Outcome::Reproduced);
    }

    #[test]
    fn the_tally_counts_each_outcome_and_the_seeds_are_each_scenarios_own() {
        let mut run = sample_run();
        run.scenarios[2].expects = Some(Expects::Symptom);
        let t = Tally::of(&run);
        assert_eq!(t.total(), 5);
        assert_eq!(t.as_expected(), 2);
        assert_eq!(
            t.headline(),
            "2 of 5 scenarios as expected (1 reproduced, 1 healthy, 3 failed)"
        );
        assert_eq!(Tally::default().breakdown(), "no scenarios");
        // The scenarios share seed 7 while the run's is 42.
        for s in &mut run.scenarios {
            s.seed = 7;
        }
        assert_eq!(seeds_label(&run), "seed 7");
        run.scenarios[1].seed = 3;
        run.scenarios[3].seed = 11;
        assert_eq!(seeds_label(&run), "seeds 3, 7 and 11");
        for (i, s) in run.scenarios.iter_mut().enumerate() {
            s.seed = i as u64 * 10;
        }
        run.scenarios
            .extend(run.scenarios.clone().into_iter().map(|mut s| {
                s.seed += 1;
                s
            }));
        assert_eq!(seeds_label(&run), "seeds per scenario, 0 to 41");
        run.scenarios.clear();
        assert_eq!(seeds_label(&run), "seed 42");
    }
}
