//! `callharness validate` (and `run`) on hostile and careless files, the way a user meets
//! them: every error in our own words with file:line:col and the field, all of a firewall
//! rule's mistakes at once, a file that is not UTF-8, a 1 MB name, and scenarios that ask
//! for too much work, refused or warned about before anything runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary with `args` in `dir` (the built-in profiles are found beside the crate).
fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_callharness"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("starting callharness {args:?}: {e}"))
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed by a signal")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A temporary folder with `files` written in it.
fn folder(files: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        fs::write(tmp.path().join(name), text).expect("write");
    }
    let p = tmp.path().to_path_buf();
    (tmp, p)
}

/// serde's own phrases, which must never reach the user.
const SERDE_PHRASES: &[&str] = &[
    "invalid type",
    "unit variant",
    "struct variant",
    "String(",
    "Bool(",
    "Sequence",
    "expected struct",
    "YAML tag",
];

fn assert_no_serde(err: &str) {
    for p in SERDE_PHRASES {
        assert!(!err.contains(p), "serde's {p:?} reached the user:\n{err}");
    }
}

const HOSTILE: &str = "name: hostile
duration: 60s
sites: { home: { shared: wired-lan } }
participants:
  alice:
    network: wired-lan
    site: home
    overrides: { up: { loss: random, aqm: zzz } }
    firewall:
      - { action: blok, ports: 99999, colour: red }
  bob: { network: wired-lan }
timeline:
  - { at: 1s, site: home, cross_traffic: { name: x, rate: 1Mbit, pattern: { on_off: { on: 1s, off: 1s, of: 1s } } } }
";

#[test]
fn validate_reports_hostile_values_in_our_words_each_at_its_place() {
    let (_t, dir) = folder(&[("hostile.yaml", HOSTILE.as_bytes())]);
    let o = run_in(&dir, &["validate", "hostile.yaml"]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert_no_serde(&err);
    for (place, path) in [
        ("hostile.yaml:8:30:", "participants.alice.overrides.up.loss"),
        ("hostile.yaml:8:43:", "participants.alice.overrides.up.aqm"),
        (
            "hostile.yaml:10:19:",
            "participants.alice.firewall[0].action",
        ),
        (
            "hostile.yaml:10:32:",
            "participants.alice.firewall[0].ports",
        ),
        (
            "hostile.yaml:10:39:",
            "participants.alice.firewall[0].colour",
        ),
        (
            "hostile.yaml:13:104:",
            "timeline[0].cross_traffic.pattern.on_off.of",
        ),
    ] {
        let line = err
            .lines()
            .find(|l| l.starts_with(place))
            .unwrap_or_else(|| panic!("no error at {place}:\n{err}"));
        assert!(line.contains(&format!("(at `{path}`)")), "{line}");
    }
    assert!(err.contains("`random` needs its parameters"), "{err}");
    assert!(err.contains("did you mean `off`?"), "{err}");
    assert!(err.contains("6 errors"), "{err}");
}

#[test]
fn validate_places_a_non_utf8_byte_and_keeps_a_huge_name_short() {
    let big = "n".repeat(1 << 20);
    let huge =
        format!("name: {big}\nduration: 60s\nparticipants:\n  alice: {{ network: {big} }}\n");
    let (_t, dir) = folder(&[
        ("latin1.yaml", b"name: caf\xe9\nduration: 60s\n"),
        ("huge.yaml", huge.as_bytes()),
    ]);
    let o = run_in(&dir, &["validate", "latin1.yaml"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("latin1.yaml:1:10: error: not UTF-8 text: byte 0xe9"),
        "{}",
        stderr(&o)
    );
    let o = run_in(&dir, &["validate", "huge.yaml"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.len() < 4096,
        "{} bytes of errors for a 2 MB file",
        err.len()
    );
    assert!(
        err.contains("huge.yaml:1:7: error: a scenario name of 1048576 bytes is too long"),
        "{err}"
    );
    assert!(err.contains("at most 100 bytes"), "{err}");
}

const LONG_RUN: &str = "name: day-long
duration: 24h
participants:
  alice: { network: wired-lan }
  bob: { network: wired-lan }
calls:
  - { caller: alice, callee: bob }
  - { caller: bob, callee: alice }
";

const TOO_MUCH: &str = "name: too-much
duration: 1000h
sites: { home: { shared: wired-lan } }
participants:
  alice: { network: wired-lan, site: home }
timeline:
  - { at: 1s, site: home, cross_traffic: { name: flood, rate: 100Gbit, packet_size: 20B } }
";

#[test]
fn too_much_work_is_refused_and_a_long_run_warned_about_before_running() {
    let (_t, dir) = folder(&[
        ("too-much.yaml", TOO_MUCH.as_bytes()),
        ("long.yaml", LONG_RUN.as_bytes()),
    ]);
    for cmd in ["validate", "run"] {
        let args: &[&str] = match cmd {
            "run" => &["run", "too-much.yaml", "--out", "out"],
            _ => &["validate", "too-much.yaml"],
        };
        let o = run_in(&dir, args);
        assert_eq!(code(&o), 2, "{cmd}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(
                "too-much.yaml:2:11: error: a scenario of 1000h is longer than the limit of 24h"
            ),
            "{cmd}: {err}"
        );
        assert!(
            err.contains("too-much.yaml:7:63: error: cross-traffic flow `flood` would send 625000000 packets per second, over the limit of 2000000 (at `timeline[0].cross_traffic.rate`)"),
            "{cmd}: {err}"
        );
        assert!(!dir.join("out/report.json").exists(), "{cmd} ran it");
    }
    let o = run_in(&dir, &["validate", "long.yaml"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "long.yaml:2:11: warning: this scenario will take about 7 min to run (at `duration`)"
        ),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).starts_with("ok: 1 file"), "{}", stdout(&o));
}
