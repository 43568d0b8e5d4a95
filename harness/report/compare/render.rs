//! The comparison as text for a terminal or CI log, and as Markdown for a job summary: the
//! headline, every outcome change (regressions, fixes, improvements and other changes), the
//! other regressions, what only the new run has, then the metrics that changed.

use super::{Comparison, Metric, MetricDelta, Regression};
use crate::report::summary::num;
use std::fmt::Write;

impl Comparison {
    /// Deltas worth showing: regressions and every metric that changed at all.
    pub(super) fn shown(&self) -> impl Iterator<Item = &MetricDelta> {
        self.deltas
            .iter()
            .filter(|d| d.regression || d.old != d.new)
    }

    /// Regressions other than outcome changes (those are listed with the outcomes).
    fn other_regressions(&self) -> impl Iterator<Item = &Regression> {
        self.regressions
            .iter()
            .filter(|r| !matches!(r, Regression::Outcome(_)))
    }

    /// A plain-text rendering for a terminal or a CI log.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "{}", self.headline());
        if self.outcomes.is_empty() {
            let _ = writeln!(t, "\nNo verdict or call outcome changed.");
        } else {
            let _ = writeln!(t, "\nOutcomes:");
            for o in &self.outcomes {
                let _ = writeln!(t, "  {:<10}  {o}", o.mark());
            }
        }
        let mut others = self.other_regressions().peekable();
        if others.peek().is_some() || !self.added.is_empty() {
            let _ = writeln!(t);
        }
        for r in others {
            let _ = writeln!(t, "  REGRESSION  {r}");
        }
        for a in &self.added {
            let _ = writeln!(t, "  new         {a}");
        }
        let rows: Vec<[String; 8]> = self.shown().map(row).collect();
        if rows.is_empty() {
            let _ = writeln!(t, "\nNo metric changed.");
            return t;
        }
        let head = [
            "scenario",
            "subject",
            "metric",
            "old",
            "new",
            "delta",
            "tolerance",
            "",
        ]
        .map(String::from);
        let mut widths = [0usize; 8];
        for r in std::iter::once(&head).chain(&rows) {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let _ = writeln!(t);
        for (i, r) in std::iter::once(&head).chain(&rows).enumerate() {
            let mut line = String::new();
            for (j, (c, w)) in r.iter().zip(widths).enumerate() {
                let pad = w - c.chars().count();
                // Names left-aligned, numbers right-aligned.
                if (3..7).contains(&j) {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    line.push_str(&" ".repeat(pad));
                }
                line.push_str("  ");
            }
            let _ = writeln!(t, "{}", line.trim_end());
            if i == 0 {
                let total: usize = widths.iter().sum::<usize>() + 2 * 7;
                let _ = writeln!(t, "{}", "-".repeat(total));
            }
        }
        t
    }

    /// A Markdown rendering for a CI job summary or a pull-request comment.
    pub fn to_markdown(&self) -> String {
        use crate::report::markdown::esc;
        let mut m = String::new();
        let mark = if self.has_regression() { "❌" } else { "✅" };
        let _ = writeln!(m, "### {mark} {}\n", esc(&self.headline()));
        if self.outcomes.is_empty() {
            let _ = writeln!(m, "No verdict or call outcome changed.\n");
        } else {
            for o in &self.outcomes {
                let _ = writeln!(
                    m,
                    "- **{}**: {}",
                    o.mark().to_lowercase(),
                    esc(&o.to_string())
                );
            }
            let _ = writeln!(m);
        }
        let mut any = false;
        for r in self.other_regressions() {
            any = true;
            let _ = writeln!(m, "- **regression**: {}", esc(&r.to_string()));
        }
        for a in &self.added {
            any = true;
            let _ = writeln!(m, "- new: {}", esc(a));
        }
        if any {
            let _ = writeln!(m);
        }
        let rows: Vec<[String; 8]> = self.shown().map(row).collect();
        if rows.is_empty() {
            let _ = writeln!(m, "No metric changed.");
            return m;
        }
        let _ = writeln!(
            m,
            "| Scenario | Subject | Metric | Old | New | Δ | Tolerance | |"
        );
        let _ = writeln!(m, "|---|---|---|--:|--:|--:|--:|---|");
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| esc(c)).collect();
            let _ = writeln!(m, "| {} |", cells.join(" | "));
        }
        m
    }

    /// `compare: 1 regression · 1 improvement · 20 scenarios compared · 3 metrics changed`.
    pub fn headline(&self) -> String {
        let compared = self
            .scenarios
            .iter()
            .filter(|s| s.old_verdict.is_some() && s.new_verdict.is_some())
            .count();
        let changed = self.shown().count();
        let better = self.improvements().count();
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        format!(
            "compare: {} regression{} · {better} improvement{} · {compared} scenario{} compared · \
             {changed} metric{} changed",
            self.regressions.len(),
            plural(self.regressions.len()),
            plural(better),
            plural(compared),
            plural(changed)
        )
    }
}

fn row(d: &MetricDelta) -> [String; 8] {
    let status = if d.regression {
        "REGRESSION"
    } else if !d.comparable {
        "not comparable: outcome changed"
    } else {
        match (d.delta(), d.metric.higher_is_worse()) {
            (Some(x), true) if x < 0.0 => "better",
            (Some(x), false) if x > 0.0 => "better",
            (Some(_), _) => "within tolerance",
            (None, _) => "not measured in one run",
        }
    };
    let tol_sign = if d.metric.higher_is_worse() { "+" } else { "-" };
    [
        d.scenario.clone(),
        d.subject.clone(),
        d.metric.name().to_string(),
        fmt_opt(d.old, d.metric),
        fmt_opt(d.new, d.metric),
        fmt_delta(d.delta(), d.metric),
        format!("{tol_sign}{}", num(d.tolerance, d.metric.decimals())),
        status.to_string(),
    ]
}

pub(super) fn fmt_opt(v: Option<f64>, m: Metric) -> String {
    v.map_or_else(|| "—".to_string(), |v| num(v, m.decimals()))
}

pub(super) fn fmt_delta(v: Option<f64>, m: Metric) -> String {
    match v {
        None => "—".to_string(),
        Some(v) if v > 0.0 => format!("+{}", num(v, m.decimals())),
        Some(v) => num(v, m.decimals()),
    }
}
