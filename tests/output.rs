//! The output folder as a unit, through the binary: one run's report set at a time, never two
//! runs' files mixed, no stale format of an earlier run beside a new one, no temporary files
//! of dead runs left behind. Nothing here waits for a duration: the tests wait for states (a
//! lock file naming the first run's pid, a process exited).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn callharness() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_callharness"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    callharness()
        .args(args)
        .output()
        .expect("starting callharness")
}

fn text(o: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// Names in `dir` starting with a dot, but the lock file.
fn hidden(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != ".callharness.lock")
        .collect()
}

const CLEAN: &str = "scenarios/examples/clean-wired-call.yaml";

/// A scenario that runs for minutes of wall time, to hold the folder while a second run tries.
fn long_scenario(dir: &Path) -> PathBuf {
    let file = dir.join("long.yaml");
    let calls: String = (0..8)
        .map(|_| "  - { caller: alice, callee: bob, at: 1s }\n")
        .collect();
    fs::write(
        &file,
        format!(
            "name: long\nduration: 1h\nparticipants:\n  alice: {{ network: wired-lan }}\n  bob: {{ network: wired-lan }}\ncalls:\n{calls}"
        ),
    )
    .unwrap();
    file
}

#[test]
fn a_second_run_into_a_busy_folder_is_refused_and_the_first_ones_set_is_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let long = long_scenario(tmp.path());
    let mut first = callharness()
        .args(["run", s(&long), "--out", s(&out), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = first.id();
    // Wait until the first run holds the folder (its lock file names it).
    let start = Instant::now();
    while !fs::read_to_string(out.join(".callharness.lock"))
        .is_ok_and(|t| t.contains(&format!("pid {pid} ")))
    {
        assert!(first.try_wait().unwrap().is_none(), "the long run ended");
        assert!(start.elapsed() < Duration::from_secs(120), "never locked");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = run(&["run", CLEAN, "--out", s(&out)]);
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains(&format!("another callharness run (pid {pid} since"))
            && err.contains("another --out"),
        "{err}"
    );
    assert!(
        !out.join("report.json").exists(),
        "the refused run wrote nothing"
    );

    // The first run, stopped, writes its own whole set.
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let code = loop {
        if let Some(st) = first.try_wait().unwrap() {
            break st.code();
        }
        if start.elapsed() > Duration::from_secs(300) {
            let _ = first.kill();
            panic!("the stopped run did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(143));
    let json = fs::read_to_string(out.join("report.json")).unwrap();
    assert!(
        json.contains("\"name\": \"long\""),
        "the first run's report"
    );
    assert!(fs::read_to_string(out.join("report.md"))
        .unwrap()
        .contains("long"));
    assert!(hidden(&out).is_empty(), "{:?}", hidden(&out));
    // Free again: a later run takes the folder.
    let again = run(&["run", CLEAN, "--out", s(&out), "--quiet"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[test]
fn a_run_replaces_the_whole_set_and_cleans_dead_runs_leftovers() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = run(&["run", CLEAN, "--out", s(&out), "--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.join("report.html").exists() && out.join("report.xml").exists());
    // Leftovers of a run killed while writing (pid 999999 is no live run of ours).
    fs::write(out.join(".report.json.tmp-999999"), "half").unwrap();
    fs::write(out.join(".report.html.tmp-999999"), "half").unwrap();

    let o = run(&[
        "run",
        CLEAN,
        "--out",
        s(&out),
        "--quiet",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.join("report.json").exists());
    for stale in ["report.html", "report.xml", "report.md"] {
        assert!(
            !out.join(stale).exists(),
            "{stale} of the earlier run is still beside the new report.json"
        );
    }
    assert!(out.join("coverage.md").exists());
    assert!(hidden(&out).is_empty(), "{:?}", hidden(&out));
}
