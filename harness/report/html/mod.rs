//! `report.html`: one self-contained page for people: inline CSS and inline SVG charts, no
//! script, no font, image or stylesheet from anywhere else, so it opens offline, from a CI
//! artefact or an e-mail attachment, and prints.
//!
//! The page: a header with the run's verdict, its outcomes counted (`7 reproduced, 5 healthy`),
//! the seeds the scenarios ran with, versions and whether it is complete; a summary table of
//! scenarios with each one's outcome and own seed (matrices side by side); then per scenario its
//! outcome (`reproduced`, `healthy`, `not reproduced`, `failed`, `error`, `not run`), KB IDs,
//! expectations (unmet ones highlighted), each participant's account and sign-in (address,
//! client version, site, network, when it signed in, attempts, failure with the service's code),
//! calls (connected, failure class with the service's code and reason, the client's words and
//! what the harness saw, setup time, time to first audio, candidate pair), where the failures
//! of a matrix of calls point (one user, one contact, a shared trait, all), streams (every number of the stream report) beside
//! the emulator's link counters (dropped by reason), a timeline of its events, small charts of
//! each stream over time (loss, jitter, bitrate, RTT, MOS) with the events drawn on them, and the
//! scenario's own text. All text from the report is escaped.
//!
//! The charts over time are in `charts.rs`. `check_html.sh` in `report/` renders a report to PNG in headless Chromium.
//!
//! ```
//! # use callharness::report::{html, fixture};
//! let page = html::to_string(&fixture::sample_run());
//! assert!(page.starts_with("<!doctype html>"));
//! ```

use super::model::{Expectation, Outcome, RunReport, ScenarioReport};
use super::outcome::{seeds_label, Tally};
use super::summary::{
    cell_label, counts, groups, matrix_params, num, opt_num, secs, verdict_word, ScenarioSummary,
};
use std::fmt::Write;

mod calls;
mod charts;
mod network;
mod streams;
mod video;
use calls::{write_accounts, write_calls, write_scope};
use charts::write_time;
use network::write_network;
use streams::write_streams_and_links;

/// The page's stylesheet, inlined into every page this module and [`super::coverage`] write.
pub(crate) const STYLE: &str = include_str!("../report.css");

/// The report as one HTML page.
pub fn to_string(report: &RunReport) -> String {
    let mut body = String::new();
    // `write!` into a String cannot fail; the results are ignored for that reason throughout.
    write_header(&mut body, report);
    write_summary(&mut body, report);
    for (i, s) in report.scenarios.iter().enumerate() {
        write_scenario(&mut body, i, s);
    }
    write_footer(&mut body);
    let tally = Tally::of(report);
    page(
        &format!(
            "{} · {}/{} as expected · callharness report",
            verdict_word(report.verdict).to_uppercase(),
            tally.as_expected(),
            tally.total()
        ),
        &body,
    )
}

/// A whole page around `body` (already HTML) with the report stylesheet.
pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"color-scheme\" content=\"light\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n\
         </head>\n<body>\n{body}</body>\n</html>\n",
        esc(title)
    )
}

/// Text made safe for HTML content and attribute values (`& < > " '`), with control characters
/// other than tab and newline replaced.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The outcome as a badge: green for `reproduced` and `healthy`, red for the others; its title
/// says what the word means.
fn badge(o: Outcome) -> String {
    let class = if o.passed() { "pass" } else { "fail" };
    format!(
        r#"<span class="badge {class}" title="{}">{}</span>"#,
        esc(o.meaning()),
        o.word()
    )
}

fn incomplete_badge() -> &'static str {
    r#"<span class="badge warn">incomplete</span>"#
}

fn write_header(h: &mut String, run: &RunReport) {
    let (total, _, incomplete) = counts(run);
    let v = verdict_word(run.verdict);
    let tally = Tally::of(run);
    let versions = run
        .versions
        .iter()
        .map(|(k, v)| format!("{} <b>{}</b>", esc(k), esc(v)))
        .collect::<Vec<_>>()
        .join(" · ");
    let started = if run.started_at.is_empty() {
        String::new()
    } else {
        format!(" · started <b>{}</b>", esc(&run.started_at))
    };
    let _ = write!(
        h,
        r#"<header class="run {v}"><div class="verdict-big">{}</div><div><h1>callharness report</h1><p class="meta"><b>{} of {}</b> scenarios as expected ({}) · {}{started} · took <b>{}</b> · {}</p><p class="meta">{versions}</p></div></header>"#,
        v.to_uppercase(),
        tally.as_expected(),
        tally.total(),
        esc(&tally.breakdown()),
        esc(&seeds_label(run)),
        esc(&wall(run.wall_ms)),
        if run.complete {
            "complete"
        } else {
            "<b>incomplete</b>"
        },
    );
    if !run.complete || incomplete > 0 {
        let _ = writeln!(
            h,
            r#"<div class="alert"><b>Incomplete run.</b> The run was interrupted or timed out: {incomplete} of {total} scenarios were cut short. Everything below is what was measured until then; scenarios cut short are marked <span class="badge warn">incomplete</span>.</div>"#
        );
    }
}

fn wall(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{} s", num(ms as f64 / 1000.0, 1))
    }
}

fn summary_cells(h: &mut String, s: &ScenarioReport) {
    let sum = ScenarioSummary::of(s);
    let warn = if s.complete { "" } else { incomplete_badge() };
    let kb =
        s.kb.iter()
            .map(|k| format!(r#"<span class="chip kb">{}</span>"#, esc(k)))
            .collect::<String>();
    let unmet_class = if sum.unmet > 0 { "num bad" } else { "num" };
    let _ = write!(
        h,
        r#"<td>{} {warn}</td><td class="num">{}</td><td>{kb}</td><td class="num">{}/{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="{unmet_class}">{}</td>"#,
        badge(s.outcome()),
        s.seed,
        sum.connected,
        sum.calls,
        unit(sum.worst_loss_pct, 2, " %"),
        unit(sum.worst_concealed_pct, 2, " %"),
        sum.longest_concealment_ms
            .map_or_else(|| "—".to_string(), crate::report::summary::span),
        unit(sum.worst_jitter_ms, 1, " ms"),
        opt_num(sum.min_mos, 2),
        sum.unmet
    );
}

const SUMMARY_HEAD: &str = r#"<th>Outcome</th><th class="num">Seed</th><th>KB</th><th class="num">Calls connected</th><th class="num">Worst loss</th><th class="num">Worst concealed</th><th class="num">Longest concealment</th><th class="num">Worst jitter</th><th class="num">Min MOS</th><th class="num">Unmet</th>"#;

fn write_summary(h: &mut String, run: &RunReport) {
    let g = groups(run);
    let index_of = |s: &ScenarioReport| {
        run.scenarios
            .iter()
            .position(|x| std::ptr::eq(x, s))
            .unwrap_or(0)
    };
    h.push_str("<nav class=\"summary\">");
    if !g.single.is_empty() {
        let _ = write!(
            h,
            r#"<h3>Scenarios</h3><div class="tablewrap"><table><thead><tr><th>Scenario</th>{SUMMARY_HEAD}</tr></thead><tbody>"#
        );
        for s in &g.single {
            let _ = write!(
                h,
                r##"<tr><td><a href="#s{}">{}</a></td>"##,
                index_of(s),
                esc(&s.name)
            );
            summary_cells(h, s);
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table></div>");
    }
    for (name, cells) in &g.matrices {
        let params = matrix_params(cells);
        let _ = write!(
            h,
            r#"<h3>Matrix: {}</h3><div class="tablewrap"><table><thead><tr>"#,
            esc(name)
        );
        for p in &params {
            let _ = write!(h, "<th>{}</th>", esc(p));
        }
        let _ = write!(h, "{SUMMARY_HEAD}</tr></thead><tbody>");
        for s in cells {
            h.push_str("<tr>");
            for (i, p) in params.iter().enumerate() {
                let v = esc(s.matrix.get(p).map_or("", String::as_str));
                if i == 0 {
                    let _ = write!(h, r##"<td><a href="#s{}">{v}</a></td>"##, index_of(s));
                } else {
                    let _ = write!(h, "<td>{v}</td>");
                }
            }
            summary_cells(h, s);
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table></div>");
    }
    h.push_str("</nav>\n");
}

fn write_scenario(h: &mut String, index: usize, s: &ScenarioReport) {
    let v = verdict_word(s.verdict);
    let cell = if s.matrix.is_empty() {
        String::new()
    } else {
        format!(
            r#"<span class="chip cell">{}</span>"#,
            esc(&cell_label(&s.matrix))
        )
    };
    let warn = if s.complete { "" } else { incomplete_badge() };
    let _ = write!(
        h,
        r#"<section class="scenario {v}" id="s{index}"><h2>{} {warn} <span>{}</span> {cell}</h2>"#,
        badge(s.outcome()),
        esc(&s.name)
    );
    let kb = if s.kb.is_empty() {
        "none".to_string()
    } else {
        s.kb.iter()
            .map(|k| format!(r#"<span class="chip kb">{}</span>"#, esc(k)))
            .collect()
    };
    let _ = write!(
        h,
        r#"<p class="meta"><span class="mono">{}</span> · seed <b>{}</b> · expects {} · simulated <b>{}</b>{} · KB {kb}</p>"#,
        esc(&s.file),
        s.seed,
        match s.expects() {
            super::model::Expects::Symptom => "<b>the symptom</b>",
            super::model::Expects::Healthy => "<b>a healthy call</b>",
        },
        secs(s.duration_ms),
        if s.complete { "" } else { " (cut short)" }
    );
    if !s.description.is_empty() {
        let _ = write!(h, r#"<p class="desc">{}</p>"#, esc(&s.description));
    }
    if let Some(e) = &s.error {
        let _ = write!(
            h,
            r#"<div class="alert"><b>No result.</b> {}</div>"#,
            esc(e)
        );
    }
    write_expectations(h, &s.expectations);
    write_accounts(h, &s.accounts);
    write_calls(h, &s.calls);
    write_scope(h, s);
    write_streams_and_links(h, s);
    video::write_video(h, s);
    write_network(h, s);
    write_time(h, s);
    let _ = writeln!(
        h,
        "<details><summary>Scenario source · {}</summary><pre>{}</pre></details></section>",
        esc(&s.file),
        esc(&s.source)
    );
}

fn write_expectations(h: &mut String, expectations: &[Expectation]) {
    let unmet = expectations.iter().filter(|e| !e.met).count();
    let _ = write!(
        h,
        "<h3>Expectations · {} met, {unmet} unmet</h3>",
        expectations.len() - unmet
    );
    if expectations.is_empty() {
        h.push_str(r#"<p class="muted">This scenario states no expectations.</p>"#);
        return;
    }
    h.push_str(r#"<div class="tablewrap"><table><thead><tr><th>Status</th><th>Expectation</th><th>Expected</th><th>Observed</th></tr></thead><tbody>"#);
    for e in expectations {
        let (class, status) = if e.met {
            ("met", "✓ met")
        } else {
            ("unmet", "✗ unmet")
        };
        let _ = write!(
            h,
            r#"<tr class="{class}"><td class="status">{status}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&e.what),
            esc(&e.expected),
            esc(&e.observed)
        );
    }
    h.push_str("</tbody></table></div>");
}

fn write_footer(h: &mut String) {
    h.push_str(
        "<footer><p><b>How to read the numbers.</b> Loss: RFC 3550 expected minus received, over \
         packets expected (packets after the last one received are not expected, so a call whose \
         path died keeps its earlier loss). Concealed playout: the share of 20 ms playout ticks \
         the listener heard as concealment (frame lost, late, or never arrived while the stream \
         should have flowed); MOS is computed from it. One-way delay: measured per packet in \
         simulation, else half the RTT. Jitter: the RFC 3550 interarrival jitter estimate (smoothed, 1/16 gain), \
         not the standard deviation of delay; delay variation p95 is the 95th percentile of the \
         per-packet |D|. RTT: from RTCP sender and receiver reports (LSR/DLSR). MOS: ITU-T G.107 \
         E-model, narrowband scale; MOS degradation is MOS without impairment minus MOS measured. \
         Charts show one value per second of simulated time. Link counters are the emulator's own: \
         what it dropped and why.</p><p>Written by callharness from report.json; \
         <code>callharness report</code> renders it again.</p></footer>\n",
    );
}

/// A number of unknown scale, with up to 3 decimals and no trailing zeros (`40.9`, `0.012`).
fn short(v: f64) -> String {
    let s = num(v, 3);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// An optional number with a unit, or an em dash.
fn unit(v: Option<f64>, decimals: usize, unit: &str) -> String {
    v.map_or_else(
        || "—".to_string(),
        |v| format!("{}{unit}", num(v, decimals)),
    )
}

#[cfg(test)]
mod tests {
    use super::charts::PANELS;
    use super::*;
    use crate::report::fixture::sample_run;

    #[test]
    fn has_no_external_references() {
        let page = to_string(&sample_run());
        let lower = page.to_lowercase();
        for needle in ["http", "src=", "<script", "<link", "@import", "url(", "//"] {
            assert!(!lower.contains(needle), "found {needle:?} in report.html");
        }
        // Links are in-page anchors only.
        for href in lower.split("href=\"").skip(1) {
            assert!(
                href.starts_with('#'),
                "external href: {}",
                &href[..40.min(href.len())]
            );
        }
    }

    #[test]
    fn escapes_a_script_in_a_scenario_name() {
        let mut run = sample_run();
        run.scenarios[1].name = "<script>alert('x')</script>".into();
        run.scenarios[1].expectations[0].observed = "\"><img onerror=x>".into();
        run.scenarios[1].events[2].subject = "<b>link</b>".into();
        let page = to_string(&run);
        assert!(!page.contains("<script"));
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(!page.contains("<img"));
        assert!(!page.contains("<b>link</b>"));
    }

    #[test]
    fn draws_an_svg_per_chart_and_the_events() {
        let run = sample_run();
        let page = to_string(&run);
        let streams_with_series: usize = run
            .scenarios
            .iter()
            .flat_map(|s| s.calls.iter().flat_map(|c| &c.streams))
            .filter(|st| !st.series.is_empty())
            .count();
        assert_eq!(
            page.matches(r#"<svg class="chart""#).count(),
            streams_with_series * PANELS.len()
        );
        // One timeline strip per scenario with events.
        assert_eq!(
            page.matches(r#"<svg class="timeline""#).count(),
            run.scenarios.len()
        );
        // The roaming scenario: the outage as a shaded band with its duration, the other events
        // as marks, on each of its charts (two streams) and on its timeline.
        let roaming = page
            .split(r#"id="s1""#)
            .nth(1)
            .unwrap()
            .split(r#"id="s2""#)
            .next()
            .unwrap();
        assert_eq!(
            roaming
                .matches(r#"<g class="ev-outage"><title>outage · alice.wifi · 20–25 s"#)
                .count(),
            2 * PANELS.len() + 1
        );
        // 20 s of 60 on a 202-unit plot starting at 30: x = 97.3; 5 s wide.
        assert!(
            roaming.contains(r#"<rect class="band" x="97.3" y="14" width="16.8""#),
            "outage band on a chart"
        );
        assert_eq!(
            roaming.matches(r#"<g class="ev-address">"#).count(),
            2 * PANELS.len() + 1
        );
        assert_eq!(
            roaming.matches(r#"<g class="ev-profile">"#).count(),
            2 * PANELS.len() + 1
        );
        assert_eq!(
            roaming.matches(r#"<g class="ev-cross">"#).count(),
            2 * PANELS.len() + 1
        );
        assert!(roaming.contains("2 outage alice.wifi"));
        assert!(roaming.contains("3 address-change alice"));
    }

    #[test]
    fn badges_say_reproduced_or_healthy_and_each_scenario_shows_its_own_seed() {
        let mut run = sample_run();
        run.scenarios[1].expects = Some(crate::report::model::Expects::Symptom);
        run.scenarios[1].verdict = crate::report::model::Verdict::Pass;
        let page = to_string(&run);
        assert!(page.contains(
            r#"<span class="badge pass" title="the symptom was expected and seen">reproduced</span>"#
        ));
        assert!(page.contains(r#"<span class="badge pass" title="a healthy call was expected and seen">healthy</span>"#));
        assert!(page.contains(r#">failed</span>"#));
        // The summary row of the roaming scenario gives its seed, 7, not the run's 42.
        let row = page
            .split(r##"<a href="#s1">wifi roaming with outage</a></td>"##)
            .nth(1)
            .unwrap();
        assert!(
            row.starts_with(r#"<td><span class="badge pass""#),
            "{}",
            &row[..80]
        );
        assert!(row.contains(r#"</td><td class="num">7</td>"#));
        assert!(page.contains(
            "scenarios as expected (1 reproduced, 2 healthy, 2 failed) · seeds 7, 42, 43 and 47"
        ));
        assert!(page.contains("expects <b>the symptom</b>"));
    }

    #[test]
    fn highlights_unmet_expectations_and_failed_calls() {
        let page = to_string(&sample_run());
        assert!(page.contains(r#"<tr class="unmet"><td class="status">✗ unmet</td><td>alice→bob audio loss &lt; 1% in any 15s</td>"#));
        assert!(page.contains("<code>ice-failed</code>"));
        assert!(page.contains(r#"<div class="alert"><b>Incomplete run.</b>"#));
        assert!(page.contains("<details><summary>Scenario source"));
        assert!(page.contains(r#"Dropped<br><span class="muted">outage</span>"#));
    }
}
