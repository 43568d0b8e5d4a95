//! KB coverage: for each catalog ID, whether its symptom is reproduced and, separately, whether
//! its fix gives a healthy call.
//!
//! A scenario counts for the ID's **symptom** only when it expects the symptom (a call expected
//! to fail, a threshold asserting degradation: [`Expects::Symptom`]); a scenario that names the
//! ID and expects a healthy call is its **fix** (or a baseline). So a healthy call passing never
//! makes an ID "reproduced". Symptom status: `reproduced` (a symptom scenario passed), `not
//! reproduced` (symptom scenarios ran, none passed), `has a scenario` (not run), `no symptom
//! scenario` (only healthy ones name it), `no scenario`, or `not expressible yet (needs ...)`
//! when nothing shows the symptom and the catalog says the harness lacks a capability for it.
//! Fix status: `fix healthy` (every fix scenario passed), `fix failed` (one did not), `has a fix
//! scenario` (not run), `no fix scenario`.
//!
//! The catalog (ID, condition, missing capability) belongs to the scenario module and is passed
//! in, as is the list of scenarios, so this works from a run ([`Coverage::from_run`]) and
//! without one, from the scenario files alone ([`Coverage::new`] with no verdicts). IDs that
//! scenarios name but the catalog lacks are listed too.
//!
//! ```
//! # use callharness::report::{coverage::{Coverage, CatalogEntry}, fixture};
//! let catalog = [
//!     CatalogEntry::new("KB-3105", "Call drops when the laptop roams between access points"),
//!     CatalogEntry::new("KB-7000", "Video freezes").needing("video, issue 17"),
//! ];
//! let table = Coverage::from_run(&catalog, &fixture::sample_run());
//! let md = table.to_markdown();
//! assert!(md.contains("| KB-3105 |"));
//! assert!(md.contains("not expressible yet (needs video, issue 17)"));
//! ```

use super::model::{Expects, RunReport, Verdict};
use std::collections::BTreeMap;

mod render;
#[cfg(test)]
mod tests;

/// One catalog entry: a KB ID, the condition it describes, and what the harness still needs to
/// express it (none when it can be written today).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    pub id: String,
    pub condition: String,
    /// The missing capability in words, with its issue: `the service, issue 15`.
    pub needs: Option<String>,
}

impl CatalogEntry {
    /// An entry from its ID and condition, expressible today.
    pub fn new(id: impl Into<String>, condition: impl Into<String>) -> Self {
        CatalogEntry {
            id: id.into(),
            condition: condition.into(),
            needs: None,
        }
    }

    /// The entry marked as needing `capability` before a scenario can show its symptom.
    pub fn needing(mut self, capability: impl Into<String>) -> Self {
        self.needs = Some(capability.into());
        self
    }
}

/// A catalog given as (ID, condition) pairs converts entry by entry.
impl<I: Into<String>, C: Into<String>> From<(I, C)> for CatalogEntry {
    fn from((id, condition): (I, C)) -> Self {
        CatalogEntry::new(id, condition)
    }
}

/// A scenario as coverage sees it: where it is, which IDs it names, what it expects, and its
/// verdict when it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioKb {
    /// The scenario file.
    pub file: String,
    pub kb: Vec<String>,
    /// The symptom (it counts for the IDs' symptoms) or a healthy call (their fixes).
    pub expects: Expects,
    /// None when the scenario has not been run (coverage from the scenario list alone).
    pub verdict: Option<Verdict>,
}

/// Where an ID's symptom stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Symptom {
    /// No scenario shows it, and the harness lacks what it needs (the row's `needs`).
    NotExpressible,
    /// No scenario names the ID.
    NoScenario,
    /// Scenarios name the ID, but all of them expect a healthy call.
    NoSymptomScenario,
    /// A symptom scenario names it; no run to say whether it reproduces.
    HasScenario,
    /// Symptom scenarios ran, and none passed.
    NotReproduced,
    /// A symptom scenario ran and passed: the symptom was seen.
    Reproduced,
}

impl Symptom {
    fn class(self) -> &'static str {
        match self {
            Symptom::NotExpressible | Symptom::HasScenario => "cell",
            Symptom::NoScenario | Symptom::NoSymptomScenario => "warn",
            Symptom::NotReproduced => "fail",
            Symptom::Reproduced => "pass",
        }
    }
}

/// Where an ID's fix stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fix {
    /// No scenario naming the ID expects a healthy call.
    NoFixScenario,
    /// Fix scenarios exist; no run.
    HasFixScenario,
    /// A fix scenario ran and did not give a healthy call.
    Failed,
    /// Every fix scenario that ran gave a healthy call.
    Healthy,
}

impl Fix {
    /// Words for the table.
    pub fn label(self) -> &'static str {
        match self {
            Fix::NoFixScenario => "no fix scenario",
            Fix::HasFixScenario => "has a fix scenario",
            Fix::Failed => "fix failed",
            Fix::Healthy => "fix healthy",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Fix::NoFixScenario | Fix::HasFixScenario => "cell",
            Fix::Failed => "fail",
            Fix::Healthy => "pass",
        }
    }
}

/// One row of the coverage table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageRow {
    pub id: String,
    /// The catalog's condition; empty for IDs that are not in the catalog.
    pub condition: String,
    /// What the harness still needs to express the condition, from the catalog.
    pub needs: Option<String>,
    /// Files of the scenarios that expect the symptom, sorted, each once.
    pub symptom_files: Vec<String>,
    /// Files of the scenarios that name the ID and expect a healthy call, sorted, each once.
    pub fix_files: Vec<String>,
    pub symptom: Symptom,
    pub fix: Fix,
    /// False for an ID named by a scenario but missing from the catalog.
    pub in_catalog: bool,
}

impl CoverageRow {
    /// The symptom status in words: `reproduced`, ..., `not expressible yet (needs the
    /// service, issue 15)`.
    pub fn symptom_label(&self) -> String {
        match self.symptom {
            Symptom::NotExpressible => format!(
                "not expressible yet (needs {})",
                self.needs
                    .as_deref()
                    .unwrap_or("a capability the harness lacks")
            ),
            Symptom::NoScenario => "no scenario".into(),
            Symptom::NoSymptomScenario => "no symptom scenario".into(),
            Symptom::HasScenario => "has a scenario".into(),
            Symptom::NotReproduced => "not reproduced".into(),
            Symptom::Reproduced => "reproduced".into(),
        }
    }
}

/// The table's counts, over catalog IDs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CoverageCounts {
    /// Catalog IDs.
    pub catalog: usize,
    /// IDs with a scenario that expects the symptom.
    pub symptom_scenarios: usize,
    /// IDs whose symptom was reproduced.
    pub reproduced: usize,
    /// IDs with a fix scenario.
    pub fix_scenarios: usize,
    /// IDs whose fix gave a healthy call.
    pub fixes_healthy: usize,
    /// IDs whose symptom the harness cannot express yet.
    pub not_expressible: usize,
}

/// The coverage table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Catalog IDs in catalog order, then unknown IDs in sorted order.
    pub rows: Vec<CoverageRow>,
    /// True when verdicts were known (built from a run).
    pub from_run: bool,
}

/// What the scenarios of one kind (symptom or fix) naming one ID gave: their files, and how
/// many ran and passed.
#[derive(Debug, Clone, Default)]
struct Named {
    files: Vec<String>,
    ran: usize,
    passed: usize,
}

impl Coverage {
    /// Coverage of `catalog` by `scenarios`. Verdicts may be absent (scenarios not run). An ID's
    /// symptom reproduces when any symptom scenario naming it passed (a matrix where one cell
    /// shows the symptom reproduces it in that cell); its fix is healthy when every fix scenario
    /// that ran passed.
    pub fn new(catalog: &[CatalogEntry], scenarios: &[ScenarioKb]) -> Coverage {
        let mut named: BTreeMap<&str, [Named; 2]> = BTreeMap::new();
        for s in scenarios {
            let kind = usize::from(s.expects == Expects::Healthy);
            for id in &s.kb {
                let n = &mut named.entry(id.as_str()).or_default()[kind];
                if !n.files.contains(&s.file) {
                    n.files.push(s.file.clone());
                }
                if let Some(v) = s.verdict {
                    n.ran += 1;
                    n.passed += usize::from(v == Verdict::Pass);
                }
            }
        }
        let row = |id: &str, condition: &str, needs: Option<&String>, in_catalog: bool| {
            let [symptom, fix] = named.get(id).cloned().unwrap_or_default();
            let status = if !symptom.files.is_empty() {
                match (symptom.ran, symptom.passed) {
                    (0, _) => Symptom::HasScenario,
                    (_, 0) => Symptom::NotReproduced,
                    _ => Symptom::Reproduced,
                }
            } else if needs.is_some() {
                Symptom::NotExpressible
            } else if fix.files.is_empty() {
                Symptom::NoScenario
            } else {
                Symptom::NoSymptomScenario
            };
            let fix_status = match (fix.files.is_empty(), fix.ran, fix.passed) {
                (true, _, _) => Fix::NoFixScenario,
                (false, 0, _) => Fix::HasFixScenario,
                (false, ran, passed) if passed == ran => Fix::Healthy,
                _ => Fix::Failed,
            };
            let sorted = |mut v: Vec<String>| {
                v.sort();
                v
            };
            CoverageRow {
                id: id.to_string(),
                condition: condition.to_string(),
                needs: needs.cloned(),
                symptom_files: sorted(symptom.files),
                fix_files: sorted(fix.files),
                symptom: status,
                fix: fix_status,
                in_catalog,
            }
        };
        let mut rows: Vec<CoverageRow> = catalog
            .iter()
            .map(|c| row(&c.id, &c.condition, c.needs.as_ref(), true))
            .collect();
        for id in named.keys() {
            if !catalog.iter().any(|c| c.id == *id) {
                rows.push(row(id, "", None, false));
            }
        }
        Coverage {
            rows,
            from_run: scenarios.iter().any(|s| s.verdict.is_some()),
        }
    }

    /// Coverage from a run's scenarios, what each expects and their verdicts.
    pub fn from_run(catalog: &[CatalogEntry], run: &RunReport) -> Coverage {
        let scenarios: Vec<ScenarioKb> = run
            .scenarios
            .iter()
            .map(|s| ScenarioKb {
                file: s.file.clone(),
                kb: s.kb.clone(),
                expects: s.expects(),
                verdict: Some(s.verdict),
            })
            .collect();
        Coverage::new(catalog, &scenarios)
    }

    /// The counts over catalog IDs.
    pub fn counts(&self) -> CoverageCounts {
        let mut c = CoverageCounts::default();
        for r in self.rows.iter().filter(|r| r.in_catalog) {
            c.catalog += 1;
            c.symptom_scenarios += usize::from(!r.symptom_files.is_empty());
            c.reproduced += usize::from(r.symptom == Symptom::Reproduced);
            c.fix_scenarios += usize::from(!r.fix_files.is_empty());
            c.fixes_healthy += usize::from(r.fix == Fix::Healthy);
            c.not_expressible += usize::from(r.symptom == Symptom::NotExpressible);
        }
        c
    }

    /// The summary line: `KB coverage: reproduced 8 of 36 · fixes healthy 6 · not expressible
    /// yet 27`, or without a run, the scenarios there are.
    pub fn headline(&self) -> String {
        let c = self.counts();
        if self.from_run {
            format!(
                "KB coverage: reproduced {} of {} · fixes healthy {} · not expressible yet {}",
                c.reproduced, c.catalog, c.fixes_healthy, c.not_expressible
            )
        } else {
            format!(
                "KB coverage (not run): symptom scenarios for {} of {} · fix scenarios for {} · \
                 not expressible yet {}",
                c.symptom_scenarios, c.catalog, c.fix_scenarios, c.not_expressible
            )
        }
    }
}
