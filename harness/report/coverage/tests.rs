//! Tests of the coverage table: symptom and fix counted apart, not expressible yet.

use super::*;
use crate::report::fixture::sample_run;

fn catalog() -> Vec<CatalogEntry> {
    vec![
        CatalogEntry::new("KB-2001", "Baseline call quality on a wired LAN"),
        CatalogEntry::new("KB-2002", "Audio breaks up on a lossy link"),
        CatalogEntry::new(
            "KB-3105",
            "Call drops when the laptop roams between access points",
        ),
        CatalogEntry::new(
            "KB-9999",
            "Cannot start video: camera in use <by another app>",
        )
        .needing("devices, issue 17"),
    ]
}

fn kb(file: &str, ids: &[&str], expects: Expects, verdict: Option<Verdict>) -> ScenarioKb {
    ScenarioKb {
        file: file.into(),
        kb: ids.iter().map(|s| s.to_string()).collect(),
        expects,
        verdict,
    }
}

#[test]
fn a_symptom_is_reproduced_only_by_a_scenario_that_expects_it() {
    use Expects::{Healthy, Symptom as S};
    use Verdict::{Fail, Pass};
    let scenarios = [
        // KB-2001: only a healthy call passed: not a reproduction, a healthy fix.
        kb("baseline.yaml", &["KB-2001"], Healthy, Some(Pass)),
        // KB-2002: the symptom seen in one cell of two; the fix failed.
        kb("lossy.yaml", &["KB-2002"], S, Some(Fail)),
        kb("lossy.yaml", &["KB-2002"], S, Some(Pass)),
        kb("lossy-fixed.yaml", &["KB-2002"], Healthy, Some(Fail)),
        // KB-3105: the symptom not seen, its fix healthy.
        kb("roaming.yaml", &["KB-3105"], S, Some(Fail)),
        kb(
            "roaming-fixed.yaml",
            &["KB-3105", "KB-3105"],
            Healthy,
            Some(Pass),
        ),
        // Named but not in the catalog.
        kb("roaming.yaml", &["KB-3107"], S, Some(Fail)),
    ];
    let cov = Coverage::new(&catalog(), &scenarios);
    let status: Vec<(&str, Symptom, Fix)> = cov
        .rows
        .iter()
        .map(|r| (r.id.as_str(), r.symptom, r.fix))
        .collect();
    assert_eq!(
        status,
        [
            ("KB-2001", Symptom::NoSymptomScenario, Fix::Healthy),
            ("KB-2002", Symptom::Reproduced, Fix::Failed),
            ("KB-3105", Symptom::NotReproduced, Fix::Healthy),
            ("KB-9999", Symptom::NotExpressible, Fix::NoFixScenario),
            ("KB-3107", Symptom::NotReproduced, Fix::NoFixScenario),
        ]
    );
    assert_eq!(cov.rows[1].symptom_files, ["lossy.yaml"]);
    assert_eq!(cov.rows[1].fix_files, ["lossy-fixed.yaml"]);
    assert!(!cov.rows[4].in_catalog);
    let c = cov.counts();
    assert_eq!(
        (c.catalog, c.reproduced, c.fixes_healthy, c.not_expressible),
        (4, 1, 2, 1)
    );
    let md = cov.to_markdown();
    assert!(
        md.starts_with(
            "### KB coverage: reproduced 1 of 4 · fixes healthy 2 · not expressible yet 1\n"
        ),
        "{md}"
    );
    assert!(md.contains("| KB-3105 | Call drops when the laptop roams between access points | not reproduced | fix healthy | `roaming.yaml` | `roaming-fixed.yaml` |"), "{md}");
    assert!(md.contains("| KB-9999 | Cannot start video: camera in use \\<by another app\\> | not expressible yet (needs devices, issue 17) | no fix scenario | — | — |"), "{md}");
    let html = cov.to_html();
    assert!(html.contains(r#"<span class="badge pass">reproduced</span>"#));
    assert!(html.contains(r#"<span class="badge fail">fix failed</span>"#));
    assert!(html.contains("camera in use &lt;by another app&gt;"));
    assert!(!html.to_lowercase().contains("http"));
}

#[test]
fn a_scenario_for_a_condition_marked_not_expressible_counts_as_it_runs() {
    let scenarios = [kb(
        "camera.yaml",
        &["KB-9999"],
        Expects::Symptom,
        Some(Verdict::Pass),
    )];
    let cov = Coverage::new(&catalog(), &scenarios);
    assert_eq!(cov.rows[3].symptom, Symptom::Reproduced);
    assert_eq!(cov.counts().not_expressible, 0);
}

#[test]
fn from_a_run_each_scenario_counts_by_what_it_expects() {
    let mut run = sample_run();
    // The fixture's scenarios all expect healthy calls: none reproduces anything.
    let cov = Coverage::from_run(&catalog(), &run);
    assert_eq!(cov.counts().reproduced, 0);
    assert_eq!(cov.rows[0].fix, Fix::Healthy);
    // One loss-sweep cell passed, the other failed: the fix is not healthy.
    assert_eq!(cov.rows[1].fix, Fix::Failed);
    run.scenarios[2].expects = Some(Expects::Symptom);
    let cov = Coverage::from_run(&catalog(), &run);
    assert_eq!(cov.rows[1].symptom, Symptom::Reproduced);
    assert_eq!(cov.rows[1].fix, Fix::Failed);
}

#[test]
fn works_without_a_run() {
    let scenarios = vec![
        kb("roaming.yaml", &["KB-3105"], Expects::Symptom, None),
        kb("roaming-fixed.yaml", &["KB-3105"], Expects::Healthy, None),
    ];
    let pairs = [
        ("KB-3105", "Call drops when roaming"),
        ("KB-2001", "Baseline"),
    ];
    let from_pairs: Vec<CatalogEntry> = pairs.into_iter().map(Into::into).collect();
    assert_eq!(
        Coverage::new(&from_pairs, &scenarios)
            .counts()
            .symptom_scenarios,
        1
    );
    let cov = Coverage::new(&catalog(), &scenarios);
    assert!(!cov.from_run);
    assert_eq!(cov.rows[2].symptom, Symptom::HasScenario);
    assert_eq!(cov.rows[2].fix, Fix::HasFixScenario);
    assert_eq!(cov.rows[0].symptom, Symptom::NoScenario);
    assert!(cov.to_markdown().starts_with(
        "### KB coverage (not run): symptom scenarios for 1 of 4 · fix scenarios for 1 · not expressible yet 1"
    ));
}
