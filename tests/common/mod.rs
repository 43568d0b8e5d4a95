//! What the end-to-end tests share: load a scenario against the project's profiles, run it in
//! simulated time, find a stream in the report.
#![allow(dead_code)] // each test file uses its own subset

use callharness::report::model::{ScenarioReport, StreamReport};
use callharness::scenario::{load_str, Scenario};
use callharness::sim::{run_scenario, RunOptions};
use std::path::{Path, PathBuf};

/// The crate's root folder.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The profile folders scenarios are loaded against.
pub fn profiles() -> Vec<PathBuf> {
    vec![root().join("scenarios/profiles")]
}

/// The text of `scenarios/kb/NAME`.
pub fn kb(name: &str) -> String {
    let path = root().join("scenarios/kb").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The one scenario of `yaml` (a file without a matrix).
pub fn scenario(yaml: &str) -> Scenario {
    let mut cells = load_str(yaml, Path::new("test.yaml"), &profiles())
        .unwrap_or_else(|e| panic!("scenario does not load: {e:?}"));
    assert_eq!(cells.len(), 1);
    cells.remove(0)
}

/// Runs `s` with `seed`.
pub fn run(s: &Scenario, seed: u64) -> ScenarioReport {
    run_scenario(s, seed, &RunOptions::default()).expect("the scenario runs")
}

/// The first call's stream sent by `from`.
pub fn stream<'a>(r: &'a ScenarioReport, from: &str) -> &'a StreamReport {
    r.calls[0]
        .streams
        .iter()
        .find(|s| s.from == from)
        .unwrap_or_else(|| panic!("no stream from {from}"))
}

/// The report of `s` run with `seed` as JSON, without its one wall-clock field (`wall_ms`):
/// what determinism tests compare byte for byte.
pub fn report_json(s: &Scenario, seed: u64) -> String {
    let mut r = run(s, seed);
    r.wall_ms = 0;
    serde_json::to_string(&r).expect("a report serialises")
}
