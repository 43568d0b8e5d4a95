//! Verdicts as QA and CI read them (issue 14): a scenario that expects the KB symptom and sees it
//! says `reproduced`, a healthy call `healthy`, and the failures `not reproduced` / `failed`, in
//! the console, report.md, report.html and report.xml; each scenario shows the seed it ran
//! with; `coverage` counts a symptom only by its symptom scenario; `compare` puts outcomes
//! before metrics, prints every verdict change and pairs scenarios explicitly.
//!
//! The binary runs over small scenario files written to a temporary folder, from the crate
//! root (so the built-in profiles resolve). No timing is asserted.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_callharness"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("starting callharness {args:?}: {e}"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn text(o: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_exit(o: &Output, expected: i32, what: &str) {
    assert_eq!(o.status.code(), Some(expected), "{what}\n{}", text(o));
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn p(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A scenario file `name.yaml` in `dir`: one 6 s call between alice and bob, both on
/// `network`, with the given call fields (`expect`, `thresholds`) and top-level extras.
fn scenario(dir: &Path, name: &str, network: &str, call: &str, extra: &str) -> PathBuf {
    let file = dir.join(format!("{name}.yaml"));
    let yaml = format!(
        "name: {name}\n{extra}duration: 20s\n\
         participants:\n  alice: {{ network: {network} }}\n  bob: {{ network: {network} }}\n\
         calls:\n  - {{ caller: alice, callee: bob, at: 1s, duration: 18s, {call} }}\n"
    );
    fs::write(&file, yaml).unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
    file
}

/// The symptom of a lossy link, expected (and seen on `lossy-5pct`).
const LOSSY: &str = r#"thresholds: ["loss > 2%"]"#;
/// A healthy call's targets (met on `wired-lan`).
const CLEAN: &str = r#"thresholds: ["loss < 1%", "mos > 4"]"#;

/// The line of `out` that starts with `mark` and names `scenario`.
fn line_of<'a>(out: &'a str, mark: &str, scenario: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(mark) && l.contains(&format!(" {scenario}  (")))
        .unwrap_or_else(|| panic!("no `{mark}` line for {scenario}:\n{out}"))
}

/// Validates `xml` against the JUnit schema with xmllint, when it is installed.
fn xmllint(xml: &Path) {
    let xsd = root().join("harness/report/testdata/junit.xsd");
    match Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema", p(&xsd), p(xml)])
        .output()
    {
        Err(_) => eprintln!("SKIPPED: JUnit schema validation needs xmllint"),
        Ok(o) => assert!(
            o.status.success(),
            "report.xml is not valid JUnit:\n{}",
            text(&o)
        ),
    }
}

#[test]
fn a_symptom_seen_says_reproduced_and_a_healthy_call_healthy_in_every_report() {
    let tmp = tempfile::tempdir().unwrap();
    let repro = scenario(tmp.path(), "lossy-repro", "lossy-5pct", LOSSY, "");
    let healthy = scenario(tmp.path(), "clean-call", "wired-lan", CLEAN, "");
    let out = tmp.path().join("out");
    let o = run(&["run", p(&repro), p(&healthy), "--out", p(&out)]);
    assert_exit(&o, 0, "a reproduced symptom and a healthy call both pass");
    let console = stdout(&o);
    line_of(&console, "REPRODUCED ", "lossy-repro");
    line_of(&console, "HEALTHY ", "clean-call");
    assert!(
        console.contains("PASS: 2 of 2 scenarios as expected (1 reproduced, 1 healthy)"),
        "{console}"
    );

    let json: Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    let s = &json["scenarios"];
    assert_eq!(
        (&s[0]["expects"], &s[0]["outcome"]),
        (&"symptom".into(), &"reproduced".into())
    );
    assert_eq!(
        (&s[1]["expects"], &s[1]["outcome"]),
        (&"healthy".into(), &"healthy".into())
    );
    assert_eq!(s[0]["verdict"], "pass");

    let md = read(&out.join("report.md"));
    assert!(md.contains("| lossy-repro | ✅ reproduced |"), "{md}");
    assert!(md.contains("| clean-call | ✅ healthy |"), "{md}");
    let html = read(&out.join("report.html"));
    assert!(html.contains(r#"title="the symptom was expected and seen">reproduced</span>"#));
    assert!(html.contains(r#"title="a healthy call was expected and seen">healthy</span>"#));

    let xml_path = out.join("report.xml");
    let xml = read(&xml_path);
    assert!(
        xml.contains(
            r#"<testcase name="outcome: symptom reproduced" classname="lossy-repro" time="0"/>"#
        ),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="outcome: healthy call" classname="clean-call" time="0"/>"#)
    );
    assert!(xml.contains(r#"<property name="outcome" value="reproduced"/>"#));
    assert_eq!(xml.matches("<failure").count(), 0, "{xml}");
    xmllint(&xml_path);
}

#[test]
fn a_symptom_not_seen_says_not_reproduced_and_a_sick_healthy_call_failed() {
    let tmp = tempfile::tempdir().unwrap();
    // Expects the lossy symptom on a clean link: not reproduced. Expects a clean call on a
    // lossy link: failed.
    let repro = scenario(tmp.path(), "lossy-repro", "wired-lan", LOSSY, "");
    let healthy = scenario(tmp.path(), "clean-call", "lossy-5pct", CLEAN, "");
    let out = tmp.path().join("out");
    let o = run(&["run", p(&repro), p(&healthy), "--out", p(&out)]);
    assert_exit(&o, 1, "expectations unmet: exit 1 as before");
    let console = stdout(&o);
    line_of(&console, "NOT REPRODUCED ", "lossy-repro");
    line_of(&console, "FAILED ", "clean-call");
    assert!(
        console.contains("FAIL: 0 of 2 scenarios as expected (1 not reproduced, 1 failed)"),
        "{console}"
    );
    let md = read(&out.join("report.md"));
    assert!(md.contains("| lossy-repro | ❌ not reproduced |"), "{md}");
    assert!(md.contains("| clean-call | ❌ failed |"), "{md}");
    let html = read(&out.join("report.html"));
    assert!(html.contains(r#"<span class="badge fail" title="the symptom was expected and not seen">not reproduced</span>"#));
    let xml_path = out.join("report.xml");
    let xml = read(&xml_path);
    assert!(xml.contains(r#"type="not-reproduced""#), "{xml}");
    assert!(xml.contains(r#"<failure message="failed: a healthy call was expected and not seen"#));
    xmllint(&xml_path);
}

#[test]
fn each_scenario_shows_the_seed_it_ran_with() {
    let tmp = tempfile::tempdir().unwrap();
    let own = scenario(
        tmp.path(),
        "own-seed",
        "wired-lan",
        r#"thresholds: ["mos > 4.9"]"#,
        "seed: 7\n",
    );
    let default = scenario(tmp.path(), "run-seed", "wired-lan", CLEAN, "");
    let out = tmp.path().join("out");
    let o = run(&["run", p(&own), p(&default), "--out", p(&out)]);
    assert_exit(&o, 1, "mos > 4.9 cannot hold");
    let console = stdout(&o);
    assert!(line_of(&console, "FAILED ", "own-seed").ends_with("own-seed.yaml, seed 7)"));
    assert!(line_of(&console, "HEALTHY ", "run-seed").ends_with("run-seed.yaml, seed 1)"));
    assert!(console.contains("(seeds 1 and 7, "), "{console}");
    let md = read(&out.join("report.md"));
    assert!(md.contains("Verdict **FAIL** · seeds 1 and 7 ·"), "{md}");
    assert!(md.contains("| own-seed | ❌ failed | 7 |"), "{md}");
    assert!(md.contains("| run-seed | ✅ healthy | 1 |"), "{md}");
    let html = read(&out.join("report.html"));
    assert!(html.contains("seeds 1 and 7"));
    assert!(html.contains(r#"own-seed</a></td><td><span class="badge fail""#));
    // The repeat line repeats the scenario's run: its own seed, not the run's.
    let xml = read(&out.join("report.xml"));
    assert!(xml.contains("own-seed.yaml --seed 7\n"), "{xml}");
    assert!(!xml.contains("own-seed.yaml --seed 1\n"), "{xml}");
}

#[test]
fn coverage_counts_a_symptom_only_by_the_scenario_that_expects_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kb");
    fs::create_dir(&dir).unwrap();
    let kb = |id: &str| format!("kb: [{id}]\n");
    scenario(&dir, "bw", "lossy-5pct", LOSSY, &kb("NET-BANDWIDTH"));
    scenario(&dir, "bw-fixed", "wired-lan", CLEAN, &kb("NET-BANDWIDTH"));
    // Only a healthy call names NET-VPN: its symptom is not reproduced by it.
    scenario(&dir, "vpn-ok", "wired-lan", CLEAN, &kb("NET-VPN"));
    let out = tmp.path().join("out");
    assert_exit(
        &run(&["run", p(&dir), "--out", p(&out), "--quiet"]),
        0,
        "all pass",
    );

    let o = run(&["coverage", "--report", p(&out.join("report.json"))]);
    assert_exit(&o, 0, "coverage from a run");
    let cov = stdout(&o);
    assert!(
        cov.starts_with(
            "### KB coverage: reproduced 1 of 36 · fixes healthy 2 · not expressible yet 1\n"
        ),
        "{cov}"
    );
    let row = |id: &str| {
        cov.lines()
            .find(|l| l.starts_with(&format!("| {id} |")))
            .unwrap_or_else(|| panic!("no row {id}:\n{cov}"))
            .to_string()
    };
    assert!(
        row("NET-BANDWIDTH").contains("| reproduced | fix healthy |"),
        "{cov}"
    );
    assert!(
        row("NET-VPN").contains("| no symptom scenario | fix healthy |"),
        "{cov}"
    );
    assert!(row("FED-MEETING-JOIN").contains(
        "| not expressible yet (needs meetings and the SFU, issue 18) | no fix scenario |"
    ));
    assert!(row("FED-PIC-OFF").contains("| no scenario | no fix scenario |"));
    assert!(row("NET-UDP-MEDIA-BLOCKED").contains("| no scenario | no fix scenario |"));
    assert!(row("FED-NO-VIDEO").contains("| no scenario | no fix scenario |"));
    assert!(row("DEV-CAMERA-BLOCKED").contains("| no scenario | no fix scenario |"));
    assert!(row("DEV-MIC-DEAD").contains("| no scenario | no fix scenario |"));
    assert!(row("NET-ROAMING").contains("| no scenario | no fix scenario |"));
    // The run writes the same table beside its reports.
    assert_eq!(read(&out.join("coverage.md")), cov);

    // Without a run, each scenario's kind comes from the files.
    let o = run(&["coverage", p(&dir)]);
    assert_exit(&o, 0, "coverage from scenario files");
    let files = stdout(&o);
    assert!(
        files.starts_with(
            "### KB coverage (not run): symptom scenarios for 1 of 36 · fix scenarios for 2"
        ),
        "{files}"
    );
    assert!(
        files.contains("| has a scenario | has a fix scenario |"),
        "{files}"
    );

    // The shipped scenarios: no condition they show is marked as not expressible.
    let o = run(&["coverage", "scenarios"]);
    assert_exit(&o, 0, "coverage of scenarios/");
    for l in stdout(&o)
        .lines()
        .filter(|l| l.contains("not expressible yet ("))
    {
        assert!(
            l.ends_with("| — | — |"),
            "a condition with a scenario is marked not expressible: {l}"
        );
    }
}

#[test]
fn compare_puts_outcomes_first_and_prints_every_verdict_change() {
    let tmp = tempfile::tempdir().unwrap();
    let old_dir = tmp.path().join("old");
    let new_dir = tmp.path().join("new");
    fs::create_dir_all(&old_dir).unwrap();
    fs::create_dir_all(&new_dir).unwrap();
    // The same scenario failing (an impossible MOS), then passing: FAIL -> PASS.
    let old = scenario(
        &old_dir,
        "call",
        "wired-lan",
        r#"thresholds: ["mos > 4.9"]"#,
        "",
    );
    let new = scenario(&new_dir, "call", "wired-lan", CLEAN, "");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    assert_exit(
        &run(&["run", p(&old), "--out", p(&a), "--quiet"]),
        1,
        "old run fails",
    );
    assert_exit(
        &run(&["run", p(&new), "--out", p(&b), "--quiet"]),
        0,
        "new run passes",
    );
    let (a, b) = (a.join("report.json"), b.join("report.json"));
    let o = run(&["compare", p(&a), p(&b)]);
    assert_exit(&o, 0, "a fix is not a regression");
    assert!(
        stdout(&o).contains("FIXED       call: verdict FAIL (failed) -> PASS (healthy)"),
        "{}",
        text(&o)
    );
    let o = run(&["compare", p(&b), p(&a)]);
    assert_exit(&o, 1, "PASS -> FAIL is a regression");
    assert!(stdout(&o).contains("REGRESSION  call: verdict PASS (healthy) -> FAIL (failed)"));

    // The call of the passing run, edited to have dropped with a better MOS.
    let mut dropped: Value = serde_json::from_str(&read(&b)).unwrap();
    let c = &mut dropped["scenarios"][0]["calls"][0];
    c["failure"] =
        serde_json::json!({ "class": "call-dropped", "message": "The call was dropped." });
    let mos = c["streams"][0]["mos"].as_f64().unwrap();
    c["streams"][0]["mos"] = (mos + 0.3).into();
    let d = tmp.path().join("dropped.json");
    fs::write(&d, serde_json::to_string_pretty(&dropped).unwrap()).unwrap();
    let o = run(&["compare", p(&b), p(&d)]);
    assert_exit(&o, 1, "connected -> call-dropped is a regression");
    let out = stdout(&o);
    let outcome = out
        .find("REGRESSION  call: call alice→bob connected -> call-dropped")
        .unwrap_or_else(|| panic!("no outcome regression:\n{out}"));
    let mos_row = out
        .lines()
        .find(|l| l.contains("alice→bob audio") && l.contains(" mos "))
        .unwrap_or_else(|| panic!("no MOS row:\n{out}"));
    assert!(
        mos_row.ends_with("not comparable: outcome changed"),
        "{mos_row}"
    );
    assert!(
        outcome < out.find(mos_row).unwrap(),
        "outcomes come first:\n{out}"
    );
    assert!(!out.contains("better"), "{out}");
    let o = run(&["compare", p(&d), p(&b)]);
    assert_exit(&o, 0, "call-dropped -> connected is an improvement");
    assert!(stdout(&o).contains("IMPROVED    call: call alice→bob call-dropped -> connected"));
}

#[test]
fn compare_pairs_a_repro_with_its_fix_within_one_report() {
    let tmp = tempfile::tempdir().unwrap();
    let kb = "kb: [NET-BANDWIDTH]\n";
    let repro = scenario(tmp.path(), "bw", "lossy-5pct", LOSSY, kb);
    let fix = scenario(tmp.path(), "bw-fixed", "wired-lan", CLEAN, kb);
    let out = tmp.path().join("out");
    assert_exit(
        &run(&["run", p(&repro), p(&fix), "--out", p(&out), "--quiet"]),
        0,
        "both pass",
    );
    let report = out.join("report.json");
    let o = run(&["compare", p(&report), "--pair", "bw=bw-fixed"]);
    assert_exit(&o, 0, "the fix beside its repro");
    let text_out = stdout(&o);
    assert!(
        text_out.starts_with("compare: 0 regressions · 0 improvements · 1 scenario compared"),
        "{text_out}"
    );
    assert!(
        text_out.contains("CHANGED     bw → bw-fixed: outcome reproduced -> healthy"),
        "{text_out}"
    );
    let loss = text_out
        .lines()
        .find(|l| l.starts_with("bw → bw-fixed  alice→bob audio  loss_pct"))
        .unwrap_or_else(|| panic!("no loss row:\n{text_out}"));
    assert!(loss.ends_with("better"), "{loss}");
    let md = run(&["compare", p(&report), "--pair", "bw=bw-fixed", "--markdown"]);
    assert!(stdout(&md).contains("- **changed**: bw → bw-fixed: outcome reproduced -\\> healthy"));

    let o = run(&["compare", p(&report), "--pair", "bw=bw-fixd"]);
    assert_exit(&o, 2, "a pair naming no scenario");
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("no scenario named `bw-fixd` in the new report; did you mean `bw-fixed`?"),
        "{}",
        text(&o)
    );
    assert_exit(&run(&["compare", p(&report)]), 2, "one report and no pair");
}
