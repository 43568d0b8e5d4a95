//! `report.json`: the complete report, pretty-printed in a stable order, and read back for
//! `callharness report` (re-rendering) and `callharness compare`.
//!
//! Field order is the model's declaration order and every map is a `BTreeMap`, so the same report
//! always gives the same bytes, and writing what was read gives the file back byte for byte.
//!
//! ```no_run
//! # use callharness::report::{json, fixture};
//! let run = fixture::sample_run();
//! let text = json::to_string(&run)?;
//! assert_eq!(json::from_str(&text, "report.json")?, run);
//! # Ok::<(), callharness::report::ReportError>(())
//! ```

use super::model::{CallReport, RunReport, StreamReport};
use super::ReportError;
use std::path::{Path, PathBuf};

/// The report format this harness writes and the newest it reads (`RunReport::format`).
pub const FORMAT_VERSION: u32 = 1;

/// The report as pretty JSON with a trailing newline. Refuses NaN and infinite numbers (JSON
/// has no way to write them; they would come back as `null` and the file would not read back),
/// naming the field that holds one.
pub fn to_string(report: &RunReport) -> Result<String, ReportError> {
    check_finite(report)?;
    // Serialising plain structs, strings, numbers and BTreeMaps into a String cannot fail.
    let mut text = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| unreachable!("a RunReport always serialises: {e}"));
    text.push('\n');
    Ok(text)
}

/// Parses a report from JSON text; `origin` names where it came from in errors.
pub fn from_str(text: &str, origin: impl AsRef<Path>) -> Result<RunReport, ReportError> {
    let path = origin.as_ref().to_path_buf();
    // Look at the format version first, so a newer report gets "use a newer callharness" rather
    // than a confusing error about a field this version does not know.
    #[derive(serde::Deserialize)]
    struct Version {
        format: Option<u32>,
    }
    if let Ok(Version {
        format: Some(found),
    }) = serde_json::from_str::<Version>(text)
    {
        if found > FORMAT_VERSION {
            return Err(ReportError::NewerFormat {
                path,
                found,
                supported: FORMAT_VERSION,
            });
        }
    }
    serde_json::from_str(text).map_err(|source| ReportError::Parse { path, source })
}

/// Reads a `report.json` from disk.
pub fn read(path: &Path) -> Result<RunReport, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io {
        action: "reading",
        path: path.to_path_buf(),
        source,
    })?;
    from_str(&text, path)
}

/// Checks every floating-point field of the report, returning the first that is NaN or infinite.
fn check_finite(report: &RunReport) -> Result<(), ReportError> {
    let mut bad: Option<(String, f64)> = None;
    let mut check = |path: &dyn Fn() -> String, v: f64| {
        if bad.is_none() && !v.is_finite() {
            bad = Some((path(), v));
        }
    };
    for (si, s) in report.scenarios.iter().enumerate() {
        for (ci, c) in s.calls.iter().enumerate() {
            let call = |field: &str| format!("scenarios[{si}].calls[{ci}].{field}");
            check_call(c, &call, &mut check);
            for (ti, st) in c.streams.iter().enumerate() {
                let base = format!("scenarios[{si}].calls[{ci}].streams[{ti}]");
                check_stream(st, &base, &mut check);
            }
        }
    }
    match bad {
        None => Ok(()),
        Some((field, value)) => Err(ReportError::NonFinite { field, value }),
    }
}

type Check<'a> = dyn FnMut(&dyn Fn() -> String, f64) + 'a;

fn check_call(c: &CallReport, call: &dyn Fn(&str) -> String, check: &mut Check<'_>) {
    for (name, v) in [
        ("setup_ms", c.setup_ms),
        ("first_audio_ms", c.first_audio_ms),
    ] {
        if let Some(v) = v {
            check(&|| call(name), v);
        }
    }
}

fn check_stream(st: &StreamReport, base: &str, check: &mut Check<'_>) {
    let plain = [
        ("loss_pct", Some(st.loss_pct)),
        ("jitter_ms", Some(st.jitter_ms)),
        ("jitter_p95_ms", Some(st.jitter_p95_ms)),
        ("rtt_ms", st.rtt_ms),
        ("one_way_delay_ms", st.one_way_delay_ms),
        ("concealed_ratio", st.concealed_ratio),
        ("playout_loss_pct", st.playout_loss_pct),
        ("max_concealment_ms", st.max_concealment_ms),
        ("speech_ratio", st.speech_ratio),
        ("decoded_level_dbov", st.decoded_level_dbov),
        ("played_level_dbov", st.played_level_dbov),
        ("max_gap_ms", Some(st.max_gap_ms)),
        ("r_factor", Some(st.r_factor)),
        ("mos", Some(st.mos)),
        ("mos_degradation", Some(st.mos_degradation)),
    ];
    for (name, v) in plain {
        if let Some(v) = v {
            check(&|| format!("{base}.{name}"), v);
        }
    }
    for (key, v) in &st.extra {
        check(&|| format!("{base}.extra.{key}"), *v);
    }
    for (i, s) in st.series.iter().enumerate() {
        let fields = [
            ("loss_pct", s.loss_pct),
            ("concealed_pct", s.concealed_pct),
            ("one_way_ms", s.one_way_ms),
            ("jitter_ms", Some(s.jitter_ms)),
            ("bitrate_kbps", Some(s.bitrate_kbps)),
            ("rtt_ms", s.rtt_ms),
            ("mos", s.mos),
        ];
        for (name, v) in fields {
            if let Some(v) = v {
                check(&|| format!("{base}.series[{i}].{name}"), v);
            }
        }
    }
}

/// The default path of a report inside an output folder.
pub fn path_in(dir: &Path) -> PathBuf {
    dir.join(super::Format::Json.file_name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture;

    #[test]
    fn round_trips_byte_identically() {
        let run = fixture::sample_run();
        let first = to_string(&run).unwrap();
        let back = from_str(&first, "mem").unwrap();
        assert_eq!(back, run);
        let second = to_string(&back).unwrap();
        assert_eq!(first, second);
        assert!(first.ends_with("}\n") && !first.ends_with("\n\n"));
    }

    #[test]
    fn round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let run = fixture::sample_run();
        let written =
            crate::report::write_all(&run, dir.path(), &[crate::report::Format::Json]).unwrap();
        assert_eq!(written[0], path_in(dir.path()));
        let bytes = std::fs::read(&written[0]).unwrap();
        let back = read(&written[0]).unwrap();
        assert_eq!(to_string(&back).unwrap().as_bytes(), &bytes[..]);
    }

    #[test]
    fn keeps_the_contract_names_in_order() {
        let text = to_string(&fixture::sample_run()).unwrap();
        // Top-level names scripts rely on (issue 9), in declaration order.
        let seed = text.find("\n  \"seed\"").unwrap();
        let scenarios = text.find("\n  \"scenarios\"").unwrap();
        assert!(seed < scenarios);
        for name in [
            "\"verdict\": \"fail\"",
            "\"expectations\"",
            "\"failure\": null",
            "\"loss_pct\"",
            "\"jitter_p95_ms\"",
            "\"concealed_ratio\"",
            "\"series\"",
            "\"dropped\"",
        ] {
            assert!(text.contains(name), "missing {name}");
        }
    }

    #[test]
    fn refuses_nan_and_names_the_field() {
        let mut run = fixture::sample_run();
        run.scenarios[1].calls[0].streams[1].series[3].rtt_ms = Some(f64::INFINITY);
        let err = to_string(&run).unwrap_err().to_string();
        assert!(
            err.contains("scenarios[1].calls[0].streams[1].series[3].rtt_ms"),
            "{err}"
        );
    }

    #[test]
    fn a_newer_format_says_so() {
        let mut run = fixture::sample_run();
        run.format = FORMAT_VERSION + 1;
        let text = to_string(&run).unwrap();
        let err = from_str(&text, "baseline.json").unwrap_err().to_string();
        assert!(err.contains("newer than this callharness reads"), "{err}");
    }

    #[test]
    fn a_broken_file_names_line_and_column() {
        let err = from_str("{\n  \"format\": 1,\n  \"seed\": \"x\"\n}", "r.json")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("r.json: not a callharness report"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }
}
