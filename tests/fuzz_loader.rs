//! A fuzz target over the scenario loader, run as a normal test with a fixed budget: every
//! shipped scenario file, mutated the way people and tools break files (a value replaced by a
//! hostile one, a key misspelt, lines deleted, duplicated, moved, re-indented, truncated, deep
//! nesting, aliases, invalid UTF-8), must load or be refused with located errors, never panic,
//! never show serde's internal wording, never echo megabytes; and what loads must build its
//! world (what `validate` accepts, `run` can set up).
//!
//! The budget is fixed and the generator seeded, so CI is repeatable: `FUZZ_CASES` (default
//! 1500) and `FUZZ_SEED` (default 14) explore further, e.g.
//! `FUZZ_CASES=50000 FUZZ_SEED=$RANDOM cargo test --release --test fuzz_loader`.
//! The test prints the cases tried and how each ended.

use callharness::scenario::{self, load_str, ScenarioError};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn profile_dirs() -> Vec<PathBuf> {
    vec![root().join("scenarios/profiles")]
}

/// The shipped scenario files (not the profiles), as (name, text).
fn seeds() -> Vec<(String, String)> {
    let files = scenario::find_scenarios(&[root().join("scenarios")]).expect("scenarios/");
    files
        .into_iter()
        .filter(|f| !f.starts_with(root().join("scenarios/profiles")))
        .map(|f| {
            let text = std::fs::read_to_string(&f).expect("readable");
            (f.display().to_string(), text)
        })
        .collect()
}

/// Values people and generators put where they should not.
const HOSTILE: &[&str] = &[
    "",
    "~",
    "null",
    "-1s",
    "0",
    "-0",
    "1e309",
    "NaN",
    ".inf",
    "99999999999999999999999",
    "18446744073709551616ms",
    "1000h",
    "100Gbit",
    "1B",
    "0B",
    "101%",
    "-5%",
    "1.5.5ms",
    "5 ms",
    "0x10",
    "yes",
    "[]",
    "{}",
    "[1, 2",
    "{ a: 1",
    "'unterminated",
    "\"\\uZZZZ\"",
    "!!binary AAAA",
    "!custom x",
    "*nowhere",
    "&anchor x",
    "é✓",
    "\t",
    "a: b: c",
    "- x",
    "{ random: { rate: 2% } }",
    "{ gilbert_elliott: { p: 1%, r: 50% } }",
    "random",
    "{ on_off: { on: 1s, off: 1s, extra: 1 } }",
    "zzz",
    "alice",
    "wifi-roaming",
    "lte",
];

/// Keys, right and wrong, to put in place of a key.
const KEYS: &[&str] = &[
    "name",
    "duration",
    "participants",
    "calls",
    "timeline",
    "sites",
    "network",
    "overrides",
    "firewall",
    "peer",
    "ports",
    "action",
    "proto",
    "loss",
    "aqm",
    "rate",
    "queue",
    "delay",
    "jitter",
    "shared",
    "cross_traffic",
    "pattern",
    "on_off",
    "address_change",
    "outage",
    "profile",
    "set",
    "expect",
    "thresholds",
    "matrix",
    "seed",
    "templates",
    "jitter_buffer",
    "durattion",
    "<<",
    "? complex",
];

/// One change to a file's text.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the value after the n-th `: ` with a hostile value.
    Value(usize, usize),
    /// Replace the n-th key with another key.
    Key(usize, usize),
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    /// Indent (true) or dedent a line by two spaces.
    Indent(usize, bool),
    /// Insert a line of another seed file.
    Transplant(usize, usize),
    Truncate(usize),
    /// Wrap the n-th value in this many levels of flow (true) or block nesting.
    Nest(usize, u16, bool),
    /// Replace the n-th value with a long string of this many kilobytes.
    Long(usize, u16),
    /// An alias that repeats a growing anchor (a small "billion laughs").
    AliasBomb(u8),
    /// Set a raw byte at a position (may make the file invalid UTF-8).
    Byte(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let n = 0usize..400;
    prop_oneof![
        4 => (n.clone(), 0..HOSTILE.len()).prop_map(|(a, b)| Mutation::Value(a, b)),
        3 => (n.clone(), 0..KEYS.len()).prop_map(|(a, b)| Mutation::Key(a, b)),
        2 => n.clone().prop_map(Mutation::DeleteLine),
        2 => n.clone().prop_map(Mutation::DuplicateLine),
        1 => (n.clone(), n.clone()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        1 => (n.clone(), any::<bool>()).prop_map(|(a, b)| Mutation::Indent(a, b)),
        2 => (n.clone(), n.clone()).prop_map(|(a, b)| Mutation::Transplant(a, b)),
        1 => (0usize..4000).prop_map(Mutation::Truncate),
        1 => (n.clone(), prop_oneof![1u16..20, 60u16..200, 5_000u16..50_000], any::<bool>())
            .prop_map(|(a, b, c)| Mutation::Nest(a, b, c)),
        1 => (n.clone(), prop_oneof![1u16..4, 900u16..1100]).prop_map(|(a, b)| Mutation::Long(a, b)),
        1 => (2u8..12).prop_map(Mutation::AliasBomb),
        1 => (0usize..4000, any::<u8>()).prop_map(|(a, b)| Mutation::Byte(a, b)),
    ]
}

/// A byte range of the text.
type Span = (usize, usize);

/// Byte ranges of each value after `: ` and of each key before it, line by line.
fn spans(text: &str) -> (Vec<Span>, Vec<Span>) {
    let (mut values, mut keys) = (Vec::new(), Vec::new());
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        if let Some(i) = body.find(": ") {
            let start = body[..i].rfind([' ', '{', '-', ',']).map_or(0, |j| j + 1);
            keys.push((at + start, at + i));
            let end = body[i + 2..]
                .find([',', '}', '#'])
                .map_or(body.len(), |j| i + 2 + j);
            values.push((at + i + 2, at + end));
        }
        at += line.len();
    }
    (values, keys)
}

fn apply(mut bytes: Vec<u8>, m: &Mutation, others: &[(String, String)]) -> Vec<u8> {
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (values, keys) = spans(&text);
    let replace = |range: Span, with: &str| {
        let mut t = text.clone();
        t.replace_range(range.0..range.1, with);
        t.into_bytes()
    };
    let pick = |v: &[Span], n: usize| (!v.is_empty()).then(|| v[n % v.len()]);
    let relined = |f: &dyn Fn(&mut Vec<String>)| {
        let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        if !l.is_empty() {
            f(&mut l);
        }
        l.concat().into_bytes()
    };
    match *m {
        Mutation::Value(n, h) => pick(&values, n).map_or(bytes, |r| replace(r, HOSTILE[h])),
        Mutation::Key(n, k) => pick(&keys, n).map_or(bytes, |r| replace(r, KEYS[k])),
        Mutation::DeleteLine(n) => relined(&|l| {
            let i = n % l.len();
            l.remove(i);
        }),
        Mutation::DuplicateLine(n) => relined(&|l| {
            let i = n % l.len();
            let d = l[i].clone();
            l.insert(i, d);
        }),
        Mutation::SwapLines(a, b) => relined(&|l| {
            let n = l.len();
            l.swap(a % n, b % n);
        }),
        Mutation::Indent(n, more) => relined(&|l| {
            let i = n % l.len();
            if more {
                l[i] = format!("  {}", l[i]);
            } else if let Some(s) = l[i].strip_prefix("  ") {
                l[i] = s.to_string();
            }
        }),
        Mutation::Transplant(a, b) => {
            let (_, other) = &others[a % others.len()];
            let donor: Vec<&str> = other.split_inclusive('\n').collect();
            let line = donor[b % donor.len()].to_string();
            relined(&|l| {
                let i = a % l.len();
                l.insert(i, line.clone());
            })
        }
        Mutation::Truncate(n) => {
            let n = n % (bytes.len() + 1);
            bytes.truncate(n);
            bytes
        }
        Mutation::Nest(n, depth, flow) => pick(&values, n).map_or(bytes, |r| {
            let depth = depth as usize;
            let inner = &text[r.0..r.1];
            let nested = if flow {
                format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
            } else {
                let mut s = String::from("\n");
                for d in 0..depth.min(20_000) {
                    s.push_str(&" ".repeat(d + 1));
                    s.push_str("- \n");
                }
                s.push_str(inner);
                s
            };
            replace(r, &nested)
        }),
        Mutation::Long(n, kb) => {
            pick(&values, n).map_or(bytes, |r| replace(r, &"x".repeat(kb as usize * 1024)))
        }
        Mutation::AliasBomb(levels) => {
            let mut bomb = String::from("bomb0: &b0 [x, x, x, x, x, x, x, x, x, x]\n");
            for i in 1..levels {
                let refs = vec![format!("*b{}", i - 1); 10].join(", ");
                bomb.push_str(&format!("bomb{i}: &b{i} [{refs}]\n"));
            }
            let mut t = bomb.into_bytes();
            t.extend_from_slice(&bytes);
            t
        }
        Mutation::Byte(at, b) => {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] = b;
            }
            bytes
        }
    }
}

/// What the cases came to.
#[derive(Debug, Default)]
struct Tally {
    cases: usize,
    loaded: usize,
    refused: usize,
    not_utf8: usize,
    /// Findings: (what went wrong, the mutations, the message), all of them.
    findings: Vec<(String, String, String)>,
}

/// Serde's and the YAML library's own words, which a user must never see.
const INTERNAL: &[&str] = &[
    "invalid type:",
    "unit variant",
    "struct variant",
    "newtype variant",
    "String(\"",
    "Mapping(",
    "Sequence(",
    "untagged enum",
    "data did not match",
];

/// Checks one mutated file: loads or is refused properly, never panics.
fn check(bytes: &[u8], tally: &RefCell<Tally>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
    let path = dir.path().join("case.yaml");
    std::fs::write(&path, bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let loaded = catch_unwind(AssertUnwindSafe(|| {
        match std::str::from_utf8(bytes) {
            Ok(text) => load_str(text, Path::new("case.yaml"), &profile_dirs()),
            // Not text: the file path reads and refuses it.
            Err(_) => scenario::validate_file(&path, &profile_dirs()),
        }
    }));
    let loaded = loaded.map_err(|_| TestCaseError::fail("the loader panicked"))?;
    let mut t = tally.borrow_mut();
    t.cases += 1;
    match loaded {
        Ok(cells) => {
            t.loaded += 1;
            let traces = [root().join("../shared/traces")];
            for s in &cells {
                let built = catch_unwind(AssertUnwindSafe(|| {
                    callharness::sim::world::check(s, &traces)
                }))
                .map_err(|_| TestCaseError::fail("building the world panicked"))?;
                if let Err(e) = built {
                    return Err(TestCaseError::fail(format!(
                        "validate accepted a scenario whose world does not build: {e}"
                    )));
                }
            }
        }
        Err(errors) => {
            t.refused += 1;
            if std::str::from_utf8(bytes).is_err() {
                t.not_utf8 += 1;
            }
            prop_assert!(!errors.is_empty(), "refused without an error");
            for e in &errors {
                judge_error(e)?;
            }
        }
    }
    Ok(())
}

fn judge_error(e: &ScenarioError) -> Result<(), TestCaseError> {
    let shown = e.to_string();
    prop_assert!(
        !e.message.trim().is_empty(),
        "an error without words: {e:?}"
    );
    prop_assert!(
        shown.len() < 4096,
        "an error of {} bytes (input echoed whole?): {}…",
        shown.len(),
        &shown[..shown.floor_char_boundary(300)]
    );
    for w in INTERNAL {
        prop_assert!(
            !shown.contains(w),
            "internal wording {w:?} reached the user:\n{shown}"
        );
    }
    Ok(())
}

#[test]
fn mutated_scenarios_load_or_are_refused_with_located_errors() {
    let cases: u32 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(14);
    let seeds = seeds();
    assert!(seeds.len() >= 16, "only {} seed files", seeds.len());
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &key);
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng);
    let tally = RefCell::new(Tally::default());
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 1..5));
    // Every case runs (a finding is recorded, not stopped at), so the figures count them all.
    let result = runner.run(&strategy, |(file, mutations)| {
        let mut bytes = seeds[file].1.clone().into_bytes();
        for m in &mutations {
            bytes = apply(bytes, m, &seeds);
        }
        if let Err(e) = check(&bytes, &tally) {
            let msg = e.to_string();
            // The finding's kind: its first words, numbers and quoted input left out.
            let first = msg.lines().next().unwrap_or("");
            let kind: String = first
                .split(['"', '`', ':'])
                .take(2)
                .collect::<Vec<_>>()
                .join(":")
                .chars()
                .map(|c| if c.is_ascii_digit() { 'N' } else { c })
                .collect::<String>()
                .replace("NN", "N");
            let case = format!("{} with {mutations:?}", seeds[file].0);
            tally.borrow_mut().findings.push((kind, case, msg));
        }
        Ok(())
    });
    let t = tally.into_inner();
    println!(
        "fuzz: {} cases (seed {seed}): {} loaded, {} refused ({} not UTF-8), {} findings",
        t.cases,
        t.loaded,
        t.refused,
        t.not_utf8,
        t.findings.len()
    );
    result.expect("the runner itself failed");
    let mut kinds = std::collections::BTreeMap::new();
    for (kind, _, _) in &t.findings {
        *kinds.entry(kind.clone()).or_insert(0) += 1;
    }
    for (kind, n) in &kinds {
        println!("  {n:>5}  {kind}");
    }
    if let Some((_, case, msg)) = t.findings.first() {
        panic!("{} findings; the first: {case}\n{msg}", t.findings.len());
    }
    // The mutations must exercise both sides, or the target tests nothing.
    assert!(t.loaded > 20 && t.refused > cases as usize / 3, "{t:?}");
}
