//! Tests of `compare`: outcomes before metrics, every verdict change, pairs.

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
            "loss sweep [loss=1%, profile=dsl]: verdict PASS (healthy) -> FAIL (failed)",
        ]
    );
    assert_eq!(c.added.len(), 1);
    assert!(
        c.added[0].starts_with("transatlantic call (interrupted): scenario only in the new run")
    );
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

/// The clean call of the fixture as `name`, its first call dropped (connected, then
/// `call-dropped`) when `dropped`, with its first stream's MOS set to `mos`.
fn call(name: &str, expects: Expects, dropped: bool, mos: f64) -> ScenarioReport {
    let mut s = complete_run().scenarios[0].clone();
    s.name = name.into();
    s.expects = Some(expects);
    let c = &mut s.calls[0];
    c.failure = dropped.then(|| FailureReport {
        class: "call-dropped".into(),
        message: "The call was dropped.".into(),
        code: None,
        reason: None,
        detail: String::new(),
    });
    c.streams[0].mos = mos;
    s.with_outcome()
}

fn run_of(scenarios: Vec<ScenarioReport>) -> RunReport {
    RunReport {
        scenarios,
        ..complete_run()
    }
}

use crate::report::model::{Expects, FailureReport};

#[test]
fn a_call_that_now_drops_is_a_regression_and_its_better_mos_is_not_called_better() {
    let old = run_of(vec![call("roaming", Expects::Healthy, false, 3.91)]);
    let new = run_of(vec![call("roaming", Expects::Healthy, true, 4.35)]);
    let c = compare(&old, &new, &Tolerances::default());
    assert_eq!(c.regressions.len(), 1, "{}", c.to_text());
    let Regression::Outcome(change) = &c.regressions[0] else {
        panic!("not an outcome regression: {:?}", c.regressions);
    };
    assert_eq!(
        change.to_string(),
        "roaming: call alice→bob connected -> call-dropped"
    );
    assert_eq!(change.direction, Direction::Worse);
    let mos = c
        .deltas
        .iter()
        .find(|d| d.metric == Metric::Mos && d.subject == "alice→bob audio")
        .unwrap();
    assert!(!mos.comparable && !mos.regression);
    let text = c.to_text();
    assert!(!text.contains("better"), "{text}");
    let mos_line = text.lines().find(|l| l.contains(" mos ")).unwrap();
    assert!(
        mos_line.ends_with("not comparable: outcome changed"),
        "{mos_line}"
    );
    // The outcome is reported before any metric.
    let outcome_at = text.find("REGRESSION  roaming: call alice→bob connected -> call-dropped");
    assert!(
        outcome_at.is_some_and(|i| i < text.find(" mos ").unwrap()),
        "{text}"
    );
    assert!(!text.contains("No verdict or call outcome changed."));
    // The other way round is an improvement, not a regression, and its numbers still do not
    // compare.
    let back = compare(&new, &old, &Tolerances::default());
    assert!(!back.has_regression(), "{}", back.to_text());
    assert!(back
        .to_text()
        .contains("IMPROVED    roaming: call alice→bob call-dropped -> connected"));
    assert_eq!(back.improvements().count(), 1);
    assert!(!back.to_text().contains("better"));
}

#[test]
fn every_verdict_change_is_printed_fail_to_pass_as_fixed() {
    let old = complete_run();
    let mut new = old.clone();
    new.scenarios[1].verdict = Verdict::Pass; // wifi roaming: failed -> healthy
    new.scenarios[2].expects = Some(Expects::Symptom);
    let old_symptom = {
        let mut o = old.clone();
        o.scenarios[2].expects = Some(Expects::Symptom);
        o
    };
    new.scenarios[2].verdict = Verdict::Fail; // loss sweep 1%: reproduced -> not reproduced
    let c = compare(&old_symptom, &new, &Tolerances::default());
    let text = c.to_text();
    assert!(
        text.contains(
            "FIXED       wifi roaming with outage: verdict FAIL (failed) -> PASS (healthy)"
        ),
        "{text}"
    );
    assert!(
        text.contains("REGRESSION  loss sweep [loss=1%, profile=dsl]: verdict PASS (reproduced) -> FAIL (not reproduced)"),
        "{text}"
    );
    assert_eq!(c.regressions.len(), 1);
    assert!(c
        .headline()
        .starts_with("compare: 1 regression · 1 improvement · 4 scenarios compared"));
    let md = c.to_markdown();
    assert!(
        md.contains(
            "- **fixed**: wifi roaming with outage: verdict FAIL (failed) -\\> PASS (healthy)"
        ),
        "{md}"
    );
}

#[test]
fn a_repro_beside_its_fix_in_one_report() {
    let run = run_of(vec![
        call("net-roaming", Expects::Symptom, true, 1.2),
        call("net-roaming-fixed", Expects::Healthy, false, 4.3),
    ]);
    let pairing = Pairing {
        pairs: vec![("net-roaming".into(), "net-roaming-fixed".into())],
        by_name: false,
    };
    let c = compare_with(&run, &run, &Tolerances::default(), &pairing).unwrap();
    // Only the pair is compared: nothing else, nothing missing or new.
    assert_eq!(c.scenarios.len(), 1);
    assert_eq!(c.scenarios[0].scenario, "net-roaming → net-roaming-fixed");
    assert!(c.added.is_empty());
    assert!(!c.has_regression(), "{}", c.to_text());
    let shown: Vec<String> = c
        .outcomes
        .iter()
        .map(|o| format!("{} {o}", o.mark()))
        .collect();
    assert_eq!(
        shown,
        [
            "CHANGED net-roaming → net-roaming-fixed: outcome reproduced -> healthy",
            "IMPROVED net-roaming → net-roaming-fixed: call alice→bob call-dropped -> connected",
        ]
    );
    let bad = Pairing {
        pairs: vec![("net-roamin".into(), "net-roaming-fixed".into())],
        by_name: false,
    };
    let err = compare_with(&run, &run, &Tolerances::default(), &bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--pair: no scenario named `net-roamin` in the old report; did you mean `net-roaming`?"
    );
}

#[test]
fn a_renamed_scenario_paired_across_reports_is_neither_missing_nor_new() {
    let old = run_of(vec![
        call("roaming", Expects::Healthy, false, 4.3),
        call("same", Expects::Healthy, false, 4.3),
    ]);
    let new = run_of(vec![
        call("net-roaming", Expects::Healthy, false, 4.3),
        call("same", Expects::Healthy, false, 4.3),
    ]);
    // By name alone, the renamed scenario is missing (a regression) and another is new.
    let plain = compare(&old, &new, &Tolerances::default());
    assert!(plain.has_regression());
    let pairing = Pairing {
        pairs: vec![("roaming".into(), "net-roaming".into())],
        by_name: true,
    };
    let c = compare_with(&old, &new, &Tolerances::default(), &pairing).unwrap();
    assert!(!c.has_regression(), "{}", c.to_text());
    assert!(c.added.is_empty(), "{:?}", c.added);
    let names: Vec<&str> = c.scenarios.iter().map(|s| s.scenario.as_str()).collect();
    assert_eq!(names, ["same", "roaming → net-roaming"]);
}

#[test]
fn a_matrix_pair_compares_cell_by_cell() {
    let old = complete_run();
    let mut new = old.clone();
    for s in &mut new.scenarios {
        if s.name == "loss sweep" {
            s.name = "loss sweep fixed".into();
        }
    }
    new.scenarios.remove(3);
    let pairing = Pairing {
        pairs: vec![("loss sweep".into(), "loss sweep fixed".into())],
        by_name: false,
    };
    let c = compare_with(&old, &new, &Tolerances::default(), &pairing).unwrap();
    assert_eq!(
        c.scenarios[0].scenario,
        "loss sweep [loss=1%, profile=dsl] → loss sweep fixed [loss=1%, profile=dsl]"
    );
    assert_eq!(
        c.added,
        ["loss sweep [loss=5%, profile=dsl]: cell only in the old report's side of the pair"]
    );
    // One cell by its display name.
    let one = Pairing {
        pairs: vec![(
            "loss sweep [loss=5%, profile=dsl]".into(),
            "clean wired call".into(),
        )],
        by_name: false,
    };
    let c = compare_with(&old, &new, &Tolerances::default(), &one).unwrap();
    assert_eq!(c.scenarios.len(), 1);
}
