//! `report.md`: a short summary for a CI job summary (GitHub's `$GITHUB_STEP_SUMMARY`, GitLab's
//! job description) or a ticket comment.
//!
//! In order: a warning when the run is incomplete; a heading counting the outcomes
//! (`12 of 12 scenarios as expected (7 reproduced, 5 healthy)`); one verdict line (with the
//! seeds the scenarios ran with and the version); a table of the single scenarios (outcome, own
//! seed, calls connected, worst loss, worst jitter, lowest MOS); each matrix as its own table,
//! one row per cell with the matrix parameters as columns; then every unmet expectation with
//! what was expected and what was observed; where the failures of each matrix of calls point
//! (one user, one contact, a shared domain...); for each scenario where a sign-in or a call
//! failed, its accounts and its failed calls with the service's code and reason; where the
//! network hurt the streams; a line per video stream (what its receiver saw, the layers an
//! adapting sender went through). Details live in `report.html` and `report.json`; this stays
//! short.
//!
//! ```
//! # use callharness::report::{markdown, fixture};
//! let md = markdown::to_string(&fixture::sample_run());
//! assert!(md.starts_with("> [!WARNING]"));
//! ```

use super::model::{Outcome, RunReport, ScenarioReport, Verdict};
use super::outcome::{seeds_label, Tally};
use super::summary::{counts, display_name, groups, matrix_params, num, opt_num, ScenarioSummary};
use std::fmt::Write;

mod service;

/// The report as Markdown (GitHub-flavoured: tables and an alert block), trailing newline.
pub fn to_string(report: &RunReport) -> String {
    let mut md = String::new();
    // `write!` into a String cannot fail.
    let _ = write_report(&mut md, report);
    md
}

fn write_report(md: &mut String, run: &RunReport) -> std::fmt::Result {
    let (total, _, incomplete) = counts(run);
    if !run.complete || incomplete > 0 {
        writeln!(md, "> [!WARNING]")?;
        writeln!(
            md,
            "> **Incomplete run**: interrupted or timed out; {incomplete} of {total} scenarios \
             were cut short. The results below are what was measured until then."
        )?;
        writeln!(md)?;
    }
    let version = run
        .versions
        .get("callharness")
        .map(|v| format!(" · callharness {}", esc(v)))
        .unwrap_or_default();
    writeln!(
        md,
        "### {} callharness: {}\n",
        verdict_mark(run.verdict),
        Tally::of(run).headline()
    )?;
    writeln!(
        md,
        "Verdict **{}** · {}{}\n",
        word(run.verdict),
        seeds_label(run),
        version
    )?;

    let g = groups(run);
    if !g.single.is_empty() {
        writeln!(
            md,
            "| Scenario | Outcome | Seed | Calls connected | Worst loss | Worst concealed | Longest concealment | Worst jitter | Min MOS |"
        )?;
        writeln!(md, "|---|---|--:|--:|--:|--:|--:|--:|--:|")?;
        for s in &g.single {
            writeln!(md, "| {} | {}", esc(&s.name), summary_cells(s))?;
        }
        writeln!(md)?;
    }

    for (name, cells) in &g.matrices {
        let params = matrix_params(cells);
        writeln!(md, "**Matrix: {}**\n", esc(name))?;
        let mut head = String::from("|");
        let mut rule = String::from("|");
        for p in &params {
            let _ = write!(head, " {} |", esc(p));
            rule.push_str("---|");
        }
        writeln!(
            md,
            "{head} Outcome | Seed | Calls connected | Worst loss | Worst concealed | Longest concealment | Worst jitter | Min MOS |"
        )?;
        writeln!(md, "{rule}---|--:|--:|--:|--:|--:|--:|--:|")?;
        for s in cells {
            let mut row = String::from("|");
            for p in &params {
                let _ = write!(
                    row,
                    " {} |",
                    esc(s.matrix.get(p).map_or("", |v| v.as_str()))
                );
            }
            writeln!(md, "{row} {}", summary_cells(s))?;
        }
        writeln!(md)?;
    }

    let unmet: Vec<(&ScenarioReport, _)> = run
        .scenarios
        .iter()
        .flat_map(|s| {
            s.expectations
                .iter()
                .filter(|e| !e.met)
                .map(move |e| (s, e))
        })
        .collect();
    if !unmet.is_empty() {
        writeln!(md, "**Unmet expectations**\n")?;
        for (s, e) in unmet {
            writeln!(
                md,
                "- **{}**: {}: expected {}, observed {}",
                esc(&display_name(s)),
                esc(&e.what),
                esc(&e.expected),
                esc(&e.observed)
            )?;
        }
        writeln!(md)?;
    }
    let failed: Vec<(&ScenarioReport, &String)> = run
        .scenarios
        .iter()
        .filter_map(|s| s.error.as_ref().map(|e| (s, e)))
        .collect();
    if !failed.is_empty() {
        writeln!(md, "**No result**\n")?;
        for (s, e) in failed {
            writeln!(md, "- **{}**: {}", esc(&display_name(s)), esc(e))?;
        }
        writeln!(md)?;
    }
    service::write_scopes(md, run)?;
    service::write_service(md, run)?;
    write_faults(md, run)?;
    write_video(md, run)?;
    let cut: Vec<&ScenarioReport> = run
        .scenarios
        .iter()
        .filter(|s| !s.complete && s.error.is_none())
        .collect();
    if !cut.is_empty() {
        writeln!(md, "**Cut short**\n")?;
        for s in cut {
            writeln!(
                md,
                "- **{}**: stopped at {} of simulated time",
                esc(&display_name(s)),
                super::summary::secs(s.duration_ms)
            )?;
        }
        writeln!(md)?;
    }
    writeln!(
        md,
        "<sub>Outcome: *reproduced*, the symptom the scenario expects was seen; *healthy*, the \
         healthy call it expects was seen; *not reproduced* and *failed*, they were not; *error*, \
         it could not be set up; *not run*, the run stopped first. Loss (RFC 3550), concealed (playout ticks concealed: what the listener heard), \
         longest concealment and jitter (the RFC 3550 estimate): worst stream of the scenario; \
         MOS: E-model (G.107) from what was heard, lowest stream. Full detail in report.html and \
         report.json.</sub>"
    )?;
    Ok(())
}

/// Where the emulated network hurt a stream: its fault line, for streams that lost at least
/// 1 % or were only delayed (a stray random loss on a clean link is left to report.json).
/// One line per video stream: what its receiver saw and, for a sender that adapts, the layers
/// it sent (the console's video line).
fn write_video(md: &mut String, run: &RunReport) -> std::fmt::Result {
    let streams: Vec<(&ScenarioReport, &crate::report::model::VideoStreamReport)> = run
        .scenarios
        .iter()
        .flat_map(|s| s.calls.iter().flat_map(|c| &c.video).map(move |v| (s, v)))
        .collect();
    if streams.is_empty() {
        return Ok(());
    }
    writeln!(md, "**Video**\n")?;
    for (s, v) in streams {
        writeln!(
            md,
            "- **{}** {} → {}: {}",
            esc(&display_name(s)),
            esc(&v.from),
            esc(&v.to),
            esc(&crate::report::summary::video_line(v))
        )?;
    }
    writeln!(md)
}

fn write_faults(md: &mut String, run: &RunReport) -> std::fmt::Result {
    let hurt: Vec<(&ScenarioReport, &crate::report::model::StreamReport, &str)> = run
        .scenarios
        .iter()
        .flat_map(|s| {
            s.calls
                .iter()
                .flat_map(|c| &c.streams)
                .filter_map(move |st| Some((s, st, st.fault.as_deref()?)))
        })
        .filter(|(_, st, _)| st.loss_pct >= 1.0 || st.links.iter().all(|l| l.dropped.is_empty()))
        .collect();
    if hurt.is_empty() {
        return Ok(());
    }
    writeln!(md, "**Where the network hurt the streams**\n")?;
    for (s, st, fault) in hurt {
        writeln!(
            md,
            "- **{}** {} → {}: {}",
            esc(&display_name(s)),
            esc(&st.from),
            esc(&st.to),
            esc(fault)
        )?;
    }
    writeln!(md)
}

fn word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    }
}

fn verdict_mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
    }
}

/// The cells every summary row ends with: outcome, seed, calls connected, worst loss, worst
/// concealed, longest concealment, worst jitter, lowest MOS (each followed by its `|`).
fn summary_cells(s: &ScenarioReport) -> String {
    let sum = ScenarioSummary::of(s);
    format!(
        "{} | {} | {}/{} | {} | {} | {} | {} | {} |",
        outcome_cell(s),
        s.seed,
        sum.connected,
        sum.calls,
        pct(sum.worst_loss_pct),
        pct(sum.worst_concealed_pct),
        sum.longest_concealment_ms
            .map_or_else(|| "—".to_string(), super::summary::span),
        ms(sum.worst_jitter_ms),
        opt_num(sum.min_mos, 2)
    )
}

/// `✅ reproduced`, `❌ not reproduced`...: the mark follows the verdict, the word the outcome.
fn outcome_cell(s: &ScenarioReport) -> String {
    let o: Outcome = s.outcome();
    let base = format!("{} {}", verdict_mark(s.verdict), o.word());
    if s.complete {
        base
    } else {
        format!("{base} ⚠️ incomplete")
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{} %", num(v, 2)))
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), |v| format!("{} ms", num(v, 1)))
}

/// Text made inert for Markdown: every ASCII punctuation character that Markdown or inline HTML
/// could read as syntax is backslash-escaped (CommonMark allows that for any ASCII punctuation),
/// line breaks become spaces so a value cannot break out of a table row or list item.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '&' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_run;

    #[test]
    fn flags_an_incomplete_run_at_the_top() {
        let md = to_string(&sample_run());
        let first = md.lines().next().unwrap();
        assert_eq!(first, "> [!WARNING]");
        assert!(md.contains("1 of 5 scenarios were cut short"));
        let mut complete = sample_run();
        complete.complete = true;
        complete.scenarios.pop();
        assert!(!to_string(&complete).contains("Incomplete"));
    }

    #[test]
    fn lists_each_video_stream_with_the_layers_its_sender_adapted_through() {
        use crate::report::model::{AdaptationReport, LayerSwitchReport, VideoStreamReport};
        assert!(
            !to_string(&sample_run()).contains("**Video**"),
            "no video, no section"
        );
        let mut run = sample_run();
        let call = run
            .scenarios
            .iter_mut()
            .find_map(|s| s.calls.first_mut())
            .unwrap();
        call.video.push(VideoStreamReport {
            from: "alice".into(),
            to: "bob".into(),
            resolution: Some("160x90".into()),
            fps: Some(15.2),
            bitrate_kbps: 132.0,
            frames_sent: 439,
            frames_decoded: 439,
            adaptation: Some(AdaptationReport {
                layers: vec![
                    "640x360 30fps 600kbit".into(),
                    "160x90 15fps 102kbit".into(),
                ],
                time_pct: vec![10.0, 90.0],
                probe_kbps: Some(229.0),
                estimate_mean_kbps: Some(200.0),
                estimate_min_kbps: Some(150.0),
                switches: vec![LayerSwitchReport::default(); 2],
            }),
            ..Default::default()
        });
        let md = to_string(&run);
        assert!(md.contains("**Video**"), "{md}");
        assert!(
            md.contains("alice → bob: 160x90 15.2 fps 132 kbit/s, 439 of 439 frames decoded"),
            "{md}"
        );
        assert!(
            md.contains(
                "sent 160x90 90% of the time (lowest 160x90, 2 switches, estimate 200 kbit/s)"
            ),
            "{md}"
        );
    }

    #[test]
    fn lists_the_failing_expectation() {
        let run = sample_run();
        let md = to_string(&run);
        let e = &run.scenarios[1].expectations[2];
        assert!(!e.met);
        let line = format!(
            "- **wifi roaming with outage**: {}: expected {}, observed {}",
            esc(&e.what),
            esc(&e.expected),
            esc(&e.observed)
        );
        assert!(md.contains(&line), "{md}");
        // Met expectations are not listed.
        assert!(!md.contains("call survives the address change"));
    }

    #[test]
    fn tabulates_the_matrix_side_by_side() {
        let run = sample_run();
        let md = to_string(&run);
        assert!(md.contains("**Matrix: loss sweep**"));
        assert!(md.contains(
            "| loss | profile | Outcome | Seed | Calls connected | Worst loss | Worst concealed | Longest concealment | Worst jitter | Min MOS |"
        ));
        let cells: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with("| 1% |") || l.starts_with("| 5% |"))
            .collect();
        assert_eq!(cells.len(), 2, "{md}");
        assert!(cells[0].starts_with("| 1% | dsl | ✅ healthy | 43 | 1/1 |"));
        assert!(cells[1].starts_with("| 5% | dsl | ❌ failed | 47 | 1/1 |"));
        // The main table holds the single scenarios only.
        assert!(md.contains("| clean wired call | ✅ healthy | 42 | 1/1 | 0.00 % |"));
        assert!(!md.contains("| loss sweep |"));
        assert_eq!(
            crate::report::summary::cell_label(&run.scenarios[2].matrix),
            "loss=1%, profile=dsl"
        );
    }

    #[test]
    fn says_reproduced_for_a_symptom_seen_and_gives_each_scenarios_own_seed() {
        let mut run = sample_run();
        run.scenarios[1].expects = Some(crate::report::model::Expects::Symptom);
        run.scenarios[1].verdict = Verdict::Pass;
        run.scenarios[0].expects = Some(crate::report::model::Expects::Symptom);
        run.scenarios[0].verdict = Verdict::Fail;
        let md = to_string(&run);
        assert!(
            md.contains("| wifi roaming with outage | ✅ reproduced | 7 |"),
            "{md}"
        );
        assert!(
            md.contains("| clean wired call | ❌ not reproduced | 42 |"),
            "{md}"
        );
        assert!(md.contains(
            "### ❌ callharness: 2 of 5 scenarios as expected (1 reproduced, 1 healthy, 1 not reproduced, 2 failed)"
        ), "{md}");
        // The header names the seeds the scenarios ran with, not only the run's 42.
        assert!(
            md.contains("Verdict **FAIL** · seeds 7, 42, 43 and 47 ·"),
            "{md}"
        );
    }

    #[test]
    fn scenario_text_cannot_break_the_table_or_inject_html() {
        let mut run = sample_run();
        run.scenarios[0].name = "a | b <script>\nnext".into();
        let md = to_string(&run);
        assert!(md.contains("| a \\| b \\<script\\> next |"));
        assert!(!md.contains("<script>"));
    }
}
