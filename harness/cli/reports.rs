//! The commands that read what a run wrote, or the scenarios alone: `report` (re-render),
//! `compare` (outcomes, then metrics, of two reports or two scenarios) and `coverage` (the KB
//! catalog: each condition's symptom and its fix).

use super::run::load_all;
use super::{ScenarioArgs, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use crate::report::model::RunReport;
use crate::report::{self, Format};
use crate::scenario;
use std::path::{Path, PathBuf};

/// The KB catalog as the coverage table wants it.
fn catalog_entries() -> Vec<report::coverage::CatalogEntry> {
    scenario::kb_catalog::catalog()
        .iter()
        .map(|(id, _section, condition)| {
            let entry = report::coverage::CatalogEntry::new(*id, *condition);
            match scenario::kb_catalog::needs(id) {
                Some(c) => entry.needing(c.describe()),
                None => entry,
            }
        })
        .collect()
}

/// The `coverage.md` a run writes beside its reports: for each KB condition, whether a
/// scenario that expects its symptom reproduced it, and whether its fix scenarios gave a
/// healthy call.
pub(super) fn coverage_markdown(report: &RunReport) -> String {
    report::coverage::Coverage::from_run(&catalog_entries(), report).to_markdown()
}

/// Reads a report.json, warning when its folder holds a set a killed run left half written
/// (the next run into that folder finishes it; until then its files may be of two runs).
fn read_report(path: &Path) -> Result<RunReport, report::ReportError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if report::set::unfinished(dir) {
        eprintln!(
            "warning: {} holds a report set a killed run left half written; its files may be of two runs until the next run into that folder",
            dir.display()
        );
    }
    report::json::read(path)
}

/// `callharness report`.
pub fn rerender(path: &Path, out: Option<PathBuf>, format: Vec<Format>) -> i32 {
    let report = match read_report(path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let dir = out.unwrap_or_else(|| {
        path.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    });
    let formats = if format.is_empty() {
        vec![Format::Junit, Format::Markdown, Format::Html]
    } else {
        format
    };
    match report::write_all(&report, &dir, &formats) {
        Ok(written) => {
            for w in written {
                outln!("wrote {}", w.display());
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_INPUT
        }
    }
}

/// `callharness compare`: `old` against `new`, or with `new` absent, the pairs within `old`.
pub fn compare(
    old: &Path,
    new: Option<&Path>,
    pairs: &[(String, String)],
    tol: &report::compare::Tolerances,
    markdown: bool,
) -> i32 {
    if new.is_none() && pairs.is_empty() {
        eprintln!(
            "error: compare needs a NEW report.json, or --pair OLD_NAME=NEW_NAME to compare two \
             scenarios of {}",
            old.display()
        );
        return EXIT_BAD_INPUT;
    }
    let a = match read_report(old) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let b = match new.map(report::json::read) {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let pairing = report::compare::Pairing {
        pairs: pairs.to_vec(),
        by_name: b.is_some(),
    };
    let c = match report::compare::compare_with(&a, b.as_ref().unwrap_or(&a), tol, &pairing) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if markdown {
        out!("{}", c.to_markdown());
    } else {
        out!("{}", c.to_text());
    }
    if c.has_regression() {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// `callharness coverage`.
pub fn coverage(paths: &[PathBuf], report_path: Option<&Path>) -> i32 {
    let catalog = catalog_entries();
    let cov = if let Some(rp) = report_path {
        match read_report(rp) {
            Ok(r) => report::coverage::Coverage::from_run(&catalog, &r),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    } else {
        let args = ScenarioArgs {
            paths: paths.to_vec(),
            profiles: Vec::new(),
        };
        let Some(all) = load_all(&args) else {
            return EXIT_BAD_INPUT;
        };
        let kbs: Vec<report::coverage::ScenarioKb> = all
            .iter()
            .map(|s| report::coverage::ScenarioKb {
                file: s.file.display().to_string(),
                kb: s.kb.clone(),
                expects: s.expects(),
                verdict: None,
            })
            .collect();
        report::coverage::Coverage::new(&catalog, &kbs)
    };
    out!("{}", cov.to_markdown());
    EXIT_OK
}
