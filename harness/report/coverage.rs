//! KB coverage: for each catalog ID, which scenario files name it in `kb:` and whether it
//! reproduces (a scenario naming it passed in the run).
//!
//! The catalog (ID and condition) belongs to the scenario module and is passed in, as is the list
//! of scenarios, so this works from a run ([`Coverage::from_run`]) and without one, from the
//! scenario files alone ([`Coverage::new`] with no verdicts: "has a scenario" only). IDs that
//! scenarios name but the catalog lacks are listed too.
//!
//! ```
//! # use callharness::report::{coverage::{Coverage, CatalogEntry}, fixture};
//! let catalog = [CatalogEntry::new("KB-3105", "Call drops when the laptop roams between access points")];
//! let table = Coverage::from_run(&catalog, &fixture::sample_run());
//! assert!(table.to_markdown().contains("| KB-3105 |"));
//! ```

use super::model::{RunReport, Verdict};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One catalog entry: a KB ID and the condition it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    pub id: String,
    pub condition: String,
}

impl CatalogEntry {
    /// An entry from its ID and condition.
    pub fn new(id: impl Into<String>, condition: impl Into<String>) -> Self {
        CatalogEntry {
            id: id.into(),
            condition: condition.into(),
        }
    }
}

/// A catalog given as (ID, condition) pairs converts entry by entry.
impl<I: Into<String>, C: Into<String>> From<(I, C)> for CatalogEntry {
    fn from((id, condition): (I, C)) -> Self {
        CatalogEntry::new(id, condition)
    }
}

/// A scenario as coverage sees it: where it is, which IDs it names, and its verdict when it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioKb {
    /// The scenario file.
    pub file: String,
    pub kb: Vec<String>,
    /// None when the scenario has not been run (coverage from the scenario list alone).
    pub verdict: Option<Verdict>,
}

/// Where an ID stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// No scenario names the ID.
    NoScenario,
    /// A scenario names it; no run to say whether it reproduces.
    HasScenario,
    /// Scenarios name it and ran, and none passed.
    NotReproduced,
    /// A scenario naming it ran and passed.
    Reproduces,
}

impl Status {
    /// Words for the table.
    pub fn label(self) -> &'static str {
        match self {
            Status::NoScenario => "no scenario",
            Status::HasScenario => "has a scenario",
            Status::NotReproduced => "does not reproduce",
            Status::Reproduces => "reproduces",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Status::NoScenario => "warn",
            Status::HasScenario => "cell",
            Status::NotReproduced => "fail",
            Status::Reproduces => "pass",
        }
    }
}

/// One row of the coverage table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageRow {
    pub id: String,
    /// The catalog's condition; empty for IDs that are not in the catalog.
    pub condition: String,
    /// Scenario files naming this ID, sorted, each once.
    pub files: Vec<String>,
    pub status: Status,
    /// False for an ID named by a scenario but missing from the catalog.
    pub in_catalog: bool,
}

/// The coverage table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Catalog IDs in catalog order, then unknown IDs in sorted order.
    pub rows: Vec<CoverageRow>,
    /// True when verdicts were known (built from a run).
    pub from_run: bool,
}

impl Coverage {
    /// Coverage of `catalog` by `scenarios`. Verdicts may be absent (scenarios not run); an ID
    /// reproduces when any scenario naming it passed (a matrix where one cell passes reproduces
    /// the condition in that cell).
    pub fn new(catalog: &[CatalogEntry], scenarios: &[ScenarioKb]) -> Coverage {
        let mut named: BTreeMap<&str, (Vec<String>, Option<bool>)> = BTreeMap::new();
        for s in scenarios {
            for id in &s.kb {
                let entry = named.entry(id.as_str()).or_default();
                if !entry.0.contains(&s.file) {
                    entry.0.push(s.file.clone());
                }
                if let Some(v) = s.verdict {
                    let passed = v == Verdict::Pass;
                    entry.1 = Some(entry.1.unwrap_or(false) || passed);
                }
            }
        }
        let status_of = |e: Option<&(Vec<String>, Option<bool>)>| match e {
            None => Status::NoScenario,
            Some((_, None)) => Status::HasScenario,
            Some((_, Some(true))) => Status::Reproduces,
            Some((_, Some(false))) => Status::NotReproduced,
        };
        let mut rows: Vec<CoverageRow> = catalog
            .iter()
            .map(|c| {
                let e = named.get(c.id.as_str());
                let mut files = e.map(|e| e.0.clone()).unwrap_or_default();
                files.sort();
                CoverageRow {
                    id: c.id.clone(),
                    condition: c.condition.clone(),
                    files,
                    status: status_of(e),
                    in_catalog: true,
                }
            })
            .collect();
        for (id, e) in &named {
            if !catalog.iter().any(|c| c.id == *id) {
                let mut files = e.0.clone();
                files.sort();
                rows.push(CoverageRow {
                    id: id.to_string(),
                    condition: String::new(),
                    files,
                    status: status_of(Some(e)),
                    in_catalog: false,
                });
            }
        }
        Coverage {
            rows,
            from_run: scenarios.iter().any(|s| s.verdict.is_some()),
        }
    }

    /// Coverage from a run's scenarios and their verdicts.
    pub fn from_run(catalog: &[CatalogEntry], run: &RunReport) -> Coverage {
        let scenarios: Vec<ScenarioKb> = run
            .scenarios
            .iter()
            .map(|s| ScenarioKb {
                file: s.file.clone(),
                kb: s.kb.clone(),
                verdict: Some(s.verdict),
            })
            .collect();
        Coverage::new(catalog, &scenarios)
    }

    /// (catalog IDs with a scenario, catalog IDs that reproduce, catalog IDs).
    pub fn counts(&self) -> (usize, usize, usize) {
        let catalog: Vec<&CoverageRow> = self.rows.iter().filter(|r| r.in_catalog).collect();
        let with = catalog
            .iter()
            .filter(|r| r.status != Status::NoScenario)
            .count();
        let repro = catalog
            .iter()
            .filter(|r| r.status == Status::Reproduces)
            .count();
        (with, repro, catalog.len())
    }

    fn headline(&self) -> String {
        let (with, repro, total) = self.counts();
        if self.from_run {
            format!("KB coverage: {with} of {total} IDs have a scenario, {repro} reproduce")
        } else {
            format!("KB coverage: {with} of {total} IDs have a scenario (not run)")
        }
    }

    /// The table in Markdown.
    pub fn to_markdown(&self) -> String {
        use super::markdown::esc;
        let mut m = format!("### {}\n\n", self.headline());
        let _ = writeln!(m, "| KB | Condition | Scenarios | Status |");
        let _ = writeln!(m, "|---|---|---|---|");
        for r in &self.rows {
            let files = if r.files.is_empty() {
                "—".to_string()
            } else {
                r.files
                    .iter()
                    .map(|f| format!("`{}`", f.replace('`', "'")))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let condition = if r.in_catalog {
                esc(&r.condition)
            } else {
                "*not in the catalog*".to_string()
            };
            let _ = writeln!(
                m,
                "| {} | {condition} | {} | {} |",
                esc(&r.id),
                files.replace('|', "\\|"),
                r.status.label()
            );
        }
        m
    }

    /// The table as a self-contained HTML page, styled like `report.html`.
    pub fn to_html(&self) -> String {
        use super::html::{esc, page};
        let mut h = format!(
            r#"<h1>{}</h1><p class="meta">From the scenarios' <code>kb:</code> fields against the catalog.{}</p><h3>IDs</h3><div class="tablewrap"><table><thead><tr><th>KB</th><th>Condition</th><th>Scenarios</th><th>Status</th></tr></thead><tbody>"#,
            esc(&self.headline()),
            if self.from_run {
                " An ID reproduces when a scenario naming it passed."
            } else {
                " No run: whether each reproduces is not known."
            }
        );
        for r in &self.rows {
            let files = if r.files.is_empty() {
                r#"<span class="muted">—</span>"#.to_string()
            } else {
                r.files
                    .iter()
                    .map(|f| format!(r#"<span class="mono">{}</span>"#, esc(f)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            };
            let condition = if r.in_catalog {
                esc(&r.condition)
            } else {
                r#"<span class="badge warn">not in the catalog</span>"#.to_string()
            };
            let _ = write!(
                h,
                r#"<tr><td class="mono">{}</td><td>{condition}</td><td>{files}</td><td><span class="badge {}">{}</span></td></tr>"#,
                esc(&r.id),
                r.status.class(),
                r.status.label()
            );
        }
        h.push_str("</tbody></table></div>\n");
        page(&self.headline(), &h)
    }
}

#[cfg(test)]
mod tests {
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
            ),
        ]
    }

    #[test]
    fn marks_reproduced_and_not() {
        let cov = Coverage::from_run(&catalog(), &sample_run());
        let status: Vec<(&str, Status)> =
            cov.rows.iter().map(|r| (r.id.as_str(), r.status)).collect();
        assert_eq!(
            status,
            [
                ("KB-2001", Status::Reproduces),
                // One cell of the loss sweep passed.
                ("KB-2002", Status::Reproduces),
                // The roaming scenario failed.
                ("KB-3105", Status::NotReproduced),
                ("KB-9999", Status::NoScenario),
                // Named by a scenario, not in the catalog.
                ("KB-3107", Status::NotReproduced),
            ]
        );
        assert_eq!(cov.rows[1].files, ["scenarios/examples/loss-sweep.yaml"]);
        assert!(!cov.rows[4].in_catalog);
        assert_eq!(cov.counts(), (3, 2, 4));
        let md = cov.to_markdown();
        assert!(md.contains("### KB coverage: 3 of 4 IDs have a scenario, 2 reproduce"));
        assert!(md.contains("| KB-3105 | Call drops when the laptop roams between access points | `scenarios/kb/wifi-roaming.yaml` | does not reproduce |"), "{md}");
        assert!(md.contains("| KB-9999 | Cannot start video: camera in use \\<by another app\\> | — | no scenario |"));
        let html = cov.to_html();
        assert!(html.contains(r#"<span class="badge pass">reproduces</span>"#));
        assert!(html.contains("camera in use &lt;by another app&gt;"));
        assert!(!html.to_lowercase().contains("http"));
    }

    #[test]
    fn works_without_a_run() {
        let scenarios = vec![
            ScenarioKb {
                file: "scenarios/kb/wifi-roaming.yaml".into(),
                kb: vec!["KB-3105".into()],
                verdict: None,
            },
            ScenarioKb {
                file: "scenarios/kb/wifi-roaming-5ghz.yaml".into(),
                kb: vec!["KB-3105".into(), "KB-3105".into()],
                verdict: None,
            },
        ];
        let pairs = [
            ("KB-3105", "Call drops when roaming"),
            ("KB-2001", "Baseline"),
        ];
        let from_pairs: Vec<CatalogEntry> = pairs.into_iter().map(Into::into).collect();
        assert_eq!(Coverage::new(&from_pairs, &scenarios).counts(), (1, 0, 2));
        let cov = Coverage::new(&catalog(), &scenarios);
        assert!(!cov.from_run);
        assert_eq!(cov.rows[2].status, Status::HasScenario);
        assert_eq!(
            cov.rows[2].files,
            [
                "scenarios/kb/wifi-roaming-5ghz.yaml",
                "scenarios/kb/wifi-roaming.yaml"
            ]
        );
        assert_eq!(cov.rows[0].status, Status::NoScenario);
        assert!(cov
            .to_markdown()
            .contains("1 of 4 IDs have a scenario (not run)"));
    }
}
