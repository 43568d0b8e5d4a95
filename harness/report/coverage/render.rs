//! The coverage table as Markdown (`coverage.md`, `callharness coverage`) and as an HTML page.

use super::Coverage;
use std::fmt::Write;

impl Coverage {
    /// The table in Markdown.
    pub fn to_markdown(&self) -> String {
        use crate::report::markdown::esc;
        let files = |files: &[String]| {
            if files.is_empty() {
                "—".to_string()
            } else {
                files
                    .iter()
                    .map(|f| format!("`{}`", f.replace('`', "'")))
                    .collect::<Vec<_>>()
                    .join(", ")
                    .replace('|', "\\|")
            }
        };
        let mut m = format!("### {}\n\n", self.headline());
        let _ = writeln!(
            m,
            "| KB | Condition | Symptom | Fix | Symptom scenarios | Fix scenarios |"
        );
        let _ = writeln!(m, "|---|---|---|---|---|---|");
        for r in &self.rows {
            let condition = if r.in_catalog {
                esc(&r.condition)
            } else {
                "*not in the catalog*".to_string()
            };
            let _ = writeln!(
                m,
                "| {} | {condition} | {} | {} | {} | {} |",
                esc(&r.id),
                esc(&r.symptom_label()),
                r.fix.label(),
                files(&r.symptom_files),
                files(&r.fix_files)
            );
        }
        let _ = writeln!(
            m,
            "\nA symptom is reproduced only by a scenario that expects it (a call expected to \
             fail, or a threshold asserting degradation); scenarios that expect a healthy call \
             are the fixes."
        );
        m
    }

    /// The table as a self-contained HTML page, styled like `report.html`.
    pub fn to_html(&self) -> String {
        use crate::report::html::{esc, page};
        let files = |files: &[String]| {
            if files.is_empty() {
                r#"<span class="muted">—</span>"#.to_string()
            } else {
                files
                    .iter()
                    .map(|f| format!(r#"<span class="mono">{}</span>"#, esc(f)))
                    .collect::<Vec<_>>()
                    .join("<br>")
            }
        };
        let mut h = format!(
            r#"<h1>{}</h1><p class="meta">From the scenarios' <code>kb:</code> fields against the catalog. A symptom is reproduced only by a scenario that expects it; scenarios that expect a healthy call are the fixes.{}</p><h3>IDs</h3><div class="tablewrap"><table><thead><tr><th>KB</th><th>Condition</th><th>Symptom</th><th>Fix</th><th>Symptom scenarios</th><th>Fix scenarios</th></tr></thead><tbody>"#,
            esc(&self.headline()),
            if self.from_run {
                ""
            } else {
                " No run: whether each reproduces is not known."
            }
        );
        for r in &self.rows {
            let condition = if r.in_catalog {
                esc(&r.condition)
            } else {
                r#"<span class="badge warn">not in the catalog</span>"#.to_string()
            };
            let _ = write!(
                h,
                r#"<tr><td class="mono">{}</td><td>{condition}</td><td><span class="badge {}">{}</span></td><td><span class="badge {}">{}</span></td><td>{}</td><td>{}</td></tr>"#,
                esc(&r.id),
                r.symptom.class(),
                esc(&r.symptom_label()),
                r.fix.class(),
                r.fix.label(),
                files(&r.symptom_files),
                files(&r.fix_files)
            );
        }
        h.push_str("</tbody></table></div>\n");
        page(&self.headline(), &h)
    }
}
