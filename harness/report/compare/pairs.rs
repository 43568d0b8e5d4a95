//! Explicit pairs: `compare OLD NEW --pair OLD_NAME=NEW_NAME` compares two scenarios whatever
//! their names (a renamed scenario, a repro beside its fix), and `compare REPORT --pair A=B`
//! two scenarios of one report.

use super::{compare_runs, compare_scenario, label, Comparison, Tolerances};
use crate::report::model::{RunReport, ScenarioReport};

/// Which scenarios to compare besides, or instead of, those of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pairing {
    /// Explicit pairs (old scenario name, new scenario name). A name is a scenario's `name`
    /// (every matrix cell, matched cell by cell) or its display name with the cell
    /// (`name [param=value]`). A scenario named on the old side of a pair is not reported
    /// missing from the new run, nor one on the new side as only in the new run.
    pub pairs: Vec<(String, String)>,
    /// Also match every scenario to the one of the same name and cell (two reports). False
    /// to compare only the pairs (two scenarios of one report).
    pub by_name: bool,
}

impl Default for Pairing {
    /// Match by name, no explicit pairs: a baseline against a new run.
    fn default() -> Self {
        Pairing {
            pairs: Vec::new(),
            by_name: true,
        }
    }
}

/// A pair that names a scenario the report does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--pair: no scenario named `{name}` in the {side} report{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
pub struct PairError {
    /// `old` or `new`.
    pub side: &'static str,
    pub name: String,
    /// The nearest scenario name, when one is close.
    pub suggestion: Option<String>,
}

/// Compares `new` against `old` with explicit pairs (and, with [`Pairing::by_name`], every
/// scenario of the same name). `old` and `new` may be the same report.
pub fn compare_with(
    old: &RunReport,
    new: &RunReport,
    tolerances: &Tolerances,
    pairing: &Pairing,
) -> Result<Comparison, PairError> {
    let mut resolved = Vec::new();
    for (a, b) in &pairing.pairs {
        resolved.push((candidates(old, a, "old")?, candidates(new, b, "new")?));
    }
    let mut c = Comparison::new(*tolerances);
    if pairing.by_name {
        let paired_old: Vec<&ScenarioReport> = resolved.iter().flat_map(|p| p.0.clone()).collect();
        let paired_new: Vec<&ScenarioReport> = resolved.iter().flat_map(|p| p.1.clone()).collect();
        compare_runs(&mut c, old, new, &paired_old, &paired_new);
    }
    for (olds, news) in resolved {
        if let ([o], [n]) = (olds.as_slice(), news.as_slice()) {
            compare_scenario(&mut c, &pair_label(o, n), o, n);
            continue;
        }
        for o in &olds {
            match news.iter().find(|n| n.matrix == o.matrix) {
                Some(n) => compare_scenario(&mut c, &pair_label(o, n), o, n),
                None => c.added.push(format!(
                    "{}: cell only in the old report's side of the pair",
                    label(o)
                )),
            }
        }
        for n in news
            .iter()
            .filter(|n| !olds.iter().any(|o| o.matrix == n.matrix))
        {
            c.added.push(format!(
                "{}: cell only in the new report's side of the pair",
                label(n)
            ));
        }
    }
    Ok(c)
}

/// The scenarios `name` picks in `run`: those of that name, or the one cell of that display name.
fn candidates<'a>(
    run: &'a RunReport,
    name: &str,
    side: &'static str,
) -> Result<Vec<&'a ScenarioReport>, PairError> {
    let found: Vec<&ScenarioReport> = run
        .scenarios
        .iter()
        .filter(|s| s.name == name || label(s) == name)
        .collect();
    if !found.is_empty() {
        return Ok(found);
    }
    let suggestion = run
        .scenarios
        .iter()
        .map(|s| (strsim::jaro_winkler(name, &s.name), &s.name))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, n)| n.clone());
    Err(PairError {
        side,
        name: name.to_string(),
        suggestion,
    })
}

/// `old → new` for a pair of differently named scenarios, the name alone otherwise.
fn pair_label(o: &ScenarioReport, n: &ScenarioReport) -> String {
    let (a, b) = (label(o), label(n));
    if a == b {
        a
    } else {
        format!("{a} → {b}")
    }
}
