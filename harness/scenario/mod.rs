//! The scenario language: a YAML file describing who takes part, on which networks, who calls
//! whom, what happens to the network on the way, and what the calls must achieve.
//!
//! ```
//! use callharness::scenario;
//! let dir = tempfile::tempdir().unwrap();
//! std::fs::write(dir.path().join("wired.yaml"), "both: { delay: 5ms }\n").unwrap();
//! let file = dir.path().join("call.yaml");
//! std::fs::write(&file, r#"
//! name: clean-call
//! duration: 60s
//! participants:
//!   alice: { network: wired }
//!   bob: { network: wired }
//! calls:
//!   - { caller: alice, callee: bob, at: 1s, thresholds: ["loss < 1%", "mos > 4"] }
//! thresholds: teams-client-edge
//! "#).unwrap();
//! let cells = scenario::load(&file, &[dir.path().to_path_buf()]).unwrap();
//! assert_eq!(cells[0].participants[1].profile_name, "wired");
//! assert_eq!(cells[0].thresholds.len(), 6); // the named set
//! ```
//!
//! Loading goes: parse with positions (`yaml.rs`), expand the matrix (`matrix.rs`), read the
//! raw file-format types collecting every error (`raw.rs`, `de.rs`), then resolve names and
//! check what types cannot (`load.rs`) into the typed model (`model.rs`). Every error names
//! file, line, column and field path, what was expected and found, and the nearest valid name
//! (`error.rs`). Thresholds and their judging are in `threshold.rs`; whether a scenario expects
//! the user's symptom or a healthy call in `expects.rs`; the failure catalog IDs in
//! `kb_catalog.rs`.
//!
//! Conventions a scenario author needs:
//! - Participants without `site:` are on the default site `internet`, whose path is ideal; a
//!   declared site may give a `shared:` uplink profile all its participants go through, and a
//!   `nat:` they are behind (a preset like `symmetric`, or the map of its RFC 4787 settings).
//! - `overrides:` replace fields of the profile: inside `up`/`down`/`both`, each field is
//!   replaced whole (`loss: { random: { rate: 2% } }` replaces the profile's loss model).
//! - Templates: `templates:` in the file, or `templates/NAME.yaml` beside it; a participant's
//!   own fields win, its overrides apply after the template's, its firewall rules follow.
//! - Profiles: the file's `profiles:`, then `profiles/` beside the file, then the folders the
//!   caller passes (the built-in `scenarios/profiles/`, `--profiles DIR`).
//! - Matrix key `profile` sets every participant's network.

mod client;
mod de;
mod de_error;
mod error;
mod expects;
mod files;
mod flows;
mod judge;
pub mod kb_catalog;
pub mod limits;
mod load;
mod matrix;
mod model;
mod participants;
mod profile_shape;
pub mod raw;
pub mod raw_client;
pub mod raw_devices;
pub mod raw_service;
mod service;
mod service_checks;
mod spanned;
mod threshold;
mod timeline;
pub mod video;
mod world_check;
mod yaml;

pub use de::Spanned;
pub use error::{ErrorKind, ScenarioError, ScenarioErrors, Severity};
pub use files::{find_scenarios, MAX_FILE_BYTES};
pub use judge::{judge_thresholds, StreamView, WindowFigure};
pub use load::{load_str, validate_file};
pub use model::*;
pub use threshold::{
    named_set, named_set_description, named_set_names, Cmp, Extreme, Metric, Quantifier, Threshold,
    ThresholdError, Unit, BURST_LOSS_WINDOW,
};
pub use yaml::Mark;

use crate::report::model::Expectation;
use std::path::{Path, PathBuf};

/// Loads a scenario file: one [`Scenario`] per matrix cell, or every error in it.
/// `profile_dirs` are searched in order after the file's own `profiles:` and a `profiles/`
/// folder beside it.
pub fn load(path: &Path, profile_dirs: &[PathBuf]) -> Result<Vec<Scenario>, ScenarioErrors> {
    validate_file(path, profile_dirs).map_err(ScenarioErrors)
}

/// Judges a call's outcome against what was expected. `failure_class` is the outcome's class
/// name (`ice-failed`) when the call failed. The caller puts the call's name in front of
/// `what` ("alice->bob: call outcome").
pub fn judge_call(
    expect: &CallExpect,
    outcome_connected: bool,
    failure_class: Option<&str>,
) -> Expectation {
    let observed = match (outcome_connected, failure_class) {
        (true, None) => "connected".to_string(),
        (true, Some(c)) => format!("connected, then {c}"),
        (false, Some(c)) => format!("failed: {c}"),
        (false, None) => "not connected".to_string(),
    };
    let met = match expect {
        CallExpect::Connected => outcome_connected && failure_class.is_none(),
        CallExpect::Fails(class) => failure_class == Some(class.name()),
    };
    Expectation {
        what: "call outcome".to_string(),
        expected: expect.to_string(),
        observed,
        met,
    }
}

/// The JSON Schema of the scenario file format, generated from the file-format types
/// (`callharness schema` prints it; editors use it to check and complete scenario files).
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(raw::RawScenario).to_value()
}

#[cfg(test)]
mod input_tests;
#[cfg(test)]
mod limits_tests;
#[cfg(test)]
mod nat_tests;
#[cfg(test)]
mod tests;
