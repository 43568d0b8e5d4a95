//! Reports: what a run measured and judged, written for scripts (JSON), CI (JUnit XML), a job
//! summary or a ticket (Markdown) and people (one self-contained HTML file with charts).
//!
//! `report.json` is the source of truth: every other format is rendered from a [`RunReport`], so
//! `callharness report` can re-render any of them from a stored JSON file, and
//! [`compare`](compare::compare) diffs two of them for CI's baseline check.
//!
//! ```no_run
//! use callharness::report::{self, Format};
//! # fn demo(run: &report::model::RunReport) -> Result<(), report::ReportError> {
//! let dir = std::path::Path::new("reports/latest");
//! // Writes report.json, report.xml, report.md and report.html, each atomically.
//! let written = report::write_all(run, dir, Format::ALL)?;
//! assert_eq!(written.len(), 4);
//!
//! // Later, against a baseline:
//! let old = report::json::read(std::path::Path::new("reports/baseline/report.json"))?;
//! let cmp = report::compare::compare(&old, run, &report::compare::Tolerances::default());
//! print!("{}", cmp.to_text());
//! std::process::exit(if cmp.has_regression() { 1 } else { 0 });
//! # }
//! ```
//!
//! Every writer is a pure function of the report (no clock, no environment), so the same report
//! always renders to the same bytes.

pub mod compare;
pub mod coverage;
pub mod fixture;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod model;
pub mod outcome;
pub mod scope;
pub mod set;
pub(crate) mod summary;
mod svg;

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use model::RunReport;

/// What can go wrong while writing or reading a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file or folder could not be written, read or renamed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`writing`, `reading`, `creating folder`, `renaming into`).
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another process holds the output folder (see [`set`]).
    #[error("another callharness run ({holder}) is writing into {dir}; wait for it to finish or give this run another --out")]
    Busy {
        dir: PathBuf,
        /// Who holds it: `pid N since TIME`.
        holder: String,
    },
    /// A `report.json` that does not parse as a report (the message has line and column).
    #[error("{path}: not a callharness report: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A report written by a newer harness, whose fields this one may not understand.
    #[error(
        "{path}: report format {found} is newer than this callharness reads (up to {supported}); \
         use a newer callharness to read it"
    )]
    NewerFormat {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    /// A number that JSON cannot carry (NaN or infinite); names the field, e.g.
    /// `scenarios[0].calls[1].streams[0].jitter_ms`. JSON would write it as `null` and the report
    /// would no longer read back, so this is refused rather than written.
    #[error("report field {field} is {value}, which JSON cannot carry; the measurement that produced it is wrong")]
    NonFinite { field: String, value: f64 },
    /// A format name that is none of `json`, `junit`, `markdown`, `html`.
    #[error("unknown report format `{0}`; expected one of json, junit, markdown, html")]
    UnknownFormat(String),
}

/// A report format, and the file it is written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// `report.json`: complete and machine-readable; the source the others are made from.
    Json,
    /// `report.xml`: JUnit XML, one test case per expectation, for CI test viewers.
    Junit,
    /// `report.md`: a short summary for a CI job summary or a ticket comment.
    Markdown,
    /// `report.html`: one self-contained page with tables and charts, for people.
    Html,
}

impl Format {
    /// Every format, in the order they are written (the default of `--format`).
    pub const ALL: &'static [Format] =
        &[Format::Json, Format::Junit, Format::Markdown, Format::Html];

    /// The file name this format is written to inside the report folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Json => "report.json",
            Format::Junit => "report.xml",
            Format::Markdown => "report.md",
            Format::Html => "report.html",
        }
    }

    /// The name used on the command line (`--format json,html`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Markdown => "markdown",
            Format::Html => "html",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = ReportError;

    /// Accepts the format names and, for convenience, their file extensions (`xml`, `md`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "junit" | "xml" => Ok(Format::Junit),
            "markdown" | "md" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            _ => Err(ReportError::UnknownFormat(s.to_string())),
        }
    }
}

/// Renders `report` in one format, as the text of its file.
pub fn render(report: &RunReport, format: Format) -> Result<String, ReportError> {
    Ok(match format {
        Format::Json => json::to_string(report)?,
        Format::Junit => junit::to_string(report),
        Format::Markdown => markdown::to_string(report),
        Format::Html => html::to_string(report),
    })
}

/// Writes `report` into `dir` in each of `formats` (each once, in the order given; the folder is
/// created when missing) and returns the paths written.
///
/// The files are written as one set ([`set`]): the folder is locked against other runs, each
/// file goes to a flushed temporary file, and the renames over the final names are journaled,
/// so a reader never sees half a file and a folder never ends up holding two runs' files.
/// Everything is rendered before anything is written, so a report that cannot be rendered (a
/// NaN in a metric) leaves the folder as it was.
pub fn write_all(
    report: &RunReport,
    dir: &Path,
    formats: &[Format],
) -> Result<Vec<PathBuf>, ReportError> {
    // Rendered before the folder is touched: a report that cannot render creates nothing.
    let files = render_set(report, formats)?;
    set::OutputFolder::lock(dir)?.commit(&files, &[])
}

/// Writes `report` in each of `formats`, and the `extra` files (name, bytes), into a folder
/// this process holds, as one commit; `stale` names files to remove in the same commit (a
/// format an earlier run wrote and this one does not). Returns the paths written.
pub fn write_set(
    folder: &set::OutputFolder,
    report: &RunReport,
    formats: &[Format],
    extra: Vec<(String, Vec<u8>)>,
    stale: &[&str],
) -> Result<Vec<PathBuf>, ReportError> {
    let mut files = render_set(report, formats)?;
    files.extend(extra);
    folder.commit(&files, stale)
}

/// Each of `formats` once, in the order given, as (file name, bytes).
fn render_set(
    report: &RunReport,
    formats: &[Format],
) -> Result<Vec<(String, Vec<u8>)>, ReportError> {
    let mut unique: Vec<Format> = Vec::new();
    for f in formats {
        if !unique.contains(f) {
            unique.push(*f);
        }
    }
    unique
        .iter()
        .map(|f| render(report, *f).map(|text| (f.file_name().to_string(), text.into_bytes())))
        .collect()
}

/// Writes `bytes` to `path` through a temporary sibling file and a rename, so that `path` is
/// either absent, the old file, or the whole new file, never a part of it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_string());
    let tmp = path.with_file_name(set::temp_name(&file_name));
    let io = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |source| ReportError::Io {
            action,
            path: p,
            source,
        }
    };
    let result = write_synced(&tmp, bytes)
        .map_err(io("writing", &tmp))
        .and_then(|()| fs::rename(&tmp, path).map_err(io("renaming into", path)));
    if result.is_err() {
        // Best effort: the temporary file is ours and useless now; the error that matters is
        // the one returned.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Creates (or truncates) `path` with `bytes` and flushes it to disk.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_all_writes_each_format_once_and_leaves_no_temporary_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("nested/latest");
        let run = fixture::sample_run();
        let written = write_all(
            &run,
            &out,
            &[
                Format::Html,
                Format::Json,
                Format::Html,
                Format::Junit,
                Format::Markdown,
            ],
        )
        .expect("write");
        let names: Vec<_> = written
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["report.html", "report.json", "report.xml", "report.md"]
        );
        let mut on_disk: Vec<_> = fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != set::LOCK_FILE)
            .collect();
        on_disk.sort();
        assert_eq!(
            on_disk,
            ["report.html", "report.json", "report.md", "report.xml"]
        );
        let json = fs::read_to_string(out.join("report.json")).unwrap();
        assert_eq!(json, render(&run, Format::Json).unwrap());
    }

    #[test]
    fn write_atomically_replaces_an_existing_file_whole() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("report.md");
        fs::write(&path, "old and much longer content than the new one").unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_report_that_cannot_render_writes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut run = fixture::sample_run();
        run.scenarios[0].calls[0].streams[0].jitter_ms = f64::NAN;
        let err = write_all(&run, dir.path(), Format::ALL).unwrap_err();
        assert!(
            err.to_string()
                .contains("scenarios[0].calls[0].streams[0].jitter_ms"),
            "{err}"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn every_format_renders_the_same_bytes_twice_and_from_the_json_read_back() {
        let run = fixture::sample_run();
        let back = json::from_str(&json::to_string(&run).unwrap(), "mem").unwrap();
        for f in Format::ALL {
            let a = render(&run, *f).unwrap();
            assert_eq!(a, render(&run, *f).unwrap(), "{f}");
            assert_eq!(a, render(&back, *f).unwrap(), "{f} re-rendered from JSON");
            assert!(a.ends_with('\n'), "{f} ends with a newline");
        }
    }

    #[test]
    fn formats_parse_from_their_names_and_extensions() {
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), *f);
        }
        assert_eq!("xml".parse::<Format>().unwrap(), Format::Junit);
        assert_eq!("MD".parse::<Format>().unwrap(), Format::Markdown);
        let err = "pdf".parse::<Format>().unwrap_err().to_string();
        assert!(err.contains("json, junit, markdown, html"), "{err}");
    }
}
