//! `report.html`: one self-contained page for people: inline CSS and inline SVG charts, no
//! script, no font, image or stylesheet from anywhere else, so it opens offline, from a CI
//! artefact or an e-mail attachment, and prints.
//!
//! The page: a header with the run's verdict, seed, versions and whether it is complete; a
//! summary table of scenarios (matrices side by side); then per scenario its verdict, KB IDs,
//! expectations (unmet ones highlighted), calls (connected, failure class and message, setup
//! time, time to first audio, candidate pair), streams (every number of the stream report) beside
//! the emulator's link counters (dropped by reason), a timeline of its events, small charts of
//! each stream over time (loss, jitter, bitrate, RTT, MOS) with the events drawn on them, and the
//! scenario's own text. All text from the report is escaped.
//!
//! `check_html.sh` beside this file renders a report to PNG in headless Chromium.
//!
//! ```
//! # use callharness::report::{html, fixture};
//! let page = html::to_string(&fixture::sample_run());
//! assert!(page.starts_with("<!doctype html>"));
//! ```

use super::model::{
    CallReport, Expectation, LinkReport, RunReport, ScenarioReport, SecondSample, StreamReport,
    Verdict,
};
use super::summary::{
    cell_label, counts, groups, matrix_params, num, opt_num, secs, verdict_word, ScenarioSummary,
};
use super::svg::{self, Chart, Mark, MarkKind};
use std::collections::BTreeSet;
use std::fmt::Write;

/// The page's stylesheet, inlined into every page this module and [`super::coverage`] write.
pub(crate) const STYLE: &str = include_str!("report.css");

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
    let (total, passed, _) = counts(report);
    page(
        &format!(
            "{} · {passed}/{total} passed · callharness report",
            verdict_word(report.verdict).to_uppercase()
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

fn badge(v: Verdict) -> String {
    let w = verdict_word(v);
    format!(r#"<span class="badge {w}">{w}</span>"#)
}

fn incomplete_badge() -> &'static str {
    r#"<span class="badge warn">incomplete</span>"#
}

fn write_header(h: &mut String, run: &RunReport) {
    let (total, passed, incomplete) = counts(run);
    let v = verdict_word(run.verdict);
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
        r#"<header class="run {v}"><div class="verdict-big">{}</div><div><h1>callharness report</h1><p class="meta"><b>{passed} of {total}</b> scenarios passed · seed <b>{}</b>{started} · took <b>{}</b> · {}</p><p class="meta">{versions}</p></div></header>"#,
        v.to_uppercase(),
        run.seed,
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
        r#"<td>{} {warn}</td><td>{kb}</td><td class="num">{}/{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="{unmet_class}">{}</td>"#,
        badge(s.verdict),
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

const SUMMARY_HEAD: &str = r#"<th>Verdict</th><th>KB</th><th class="num">Calls connected</th><th class="num">Worst loss</th><th class="num">Worst concealed</th><th class="num">Longest concealment</th><th class="num">Worst jitter</th><th class="num">Min MOS</th><th class="num">Unmet</th>"#;

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
        badge(s.verdict),
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
        r#"<p class="meta"><span class="mono">{}</span> · seed <b>{}</b> · simulated <b>{}</b>{} · KB {kb}</p>"#,
        esc(&s.file),
        s.seed,
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
    write_calls(h, &s.calls);
    write_streams_and_links(h, s);
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

fn write_calls(h: &mut String, calls: &[CallReport]) {
    let _ = write!(h, "<h3>Calls · {}</h3>", calls.len());
    if calls.is_empty() {
        h.push_str(r#"<p class="muted">No call was placed.</p>"#);
        return;
    }
    h.push_str(r#"<div class="tablewrap"><table><thead><tr><th>Call</th><th class="num">Placed</th><th class="num">Ended</th><th>Connected</th><th>Failure</th><th class="num">Setup</th><th class="num">First audio</th><th>Candidate pair</th></tr></thead><tbody>"#);
    for c in calls {
        let connected = if c.connected {
            r#"<td class="ok">✓ connected</td>"#
        } else {
            r#"<td class="bad">✗ not connected</td>"#
        };
        let failure = match &c.failure {
            None => r#"<span class="muted">—</span>"#.to_string(),
            Some(f) => format!(r#"<code>{}</code><br>“{}”"#, esc(&f.class), esc(&f.message)),
        };
        let _ = write!(
            h,
            r#"<tr><td>{} → {}</td><td class="num">{}</td><td class="num">{}</td>{connected}<td>{failure}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            esc(&c.caller),
            esc(&c.callee),
            secs(c.start_ms),
            secs(c.end_ms),
            unit(c.setup_ms, 0, " ms"),
            unit(c.first_audio_ms, 0, " ms"),
            c.candidate_pair
                .as_deref()
                .map_or_else(|| "—".to_string(), esc)
        );
    }
    h.push_str("</tbody></table></div>");
}

/// One row of the stream table: label, and how to print the value of a stream.
type StreamRow = (&'static str, fn(&StreamReport) -> String);

const STREAM_ROWS: &[StreamRow] = &[
    ("Packets sent", |s| s.packets_sent.to_string()),
    ("Packets received", |s| s.packets_received.to_string()),
    ("Lost (RFC 3550)", |s| s.lost.to_string()),
    ("Loss", |s| format!("{} %", num(s.loss_pct, 2))),
    ("Concealed playout (heard)", |s| {
        unit(s.playout_loss_pct, 2, " %")
    }),
    ("Longest concealment", |s| {
        unit(s.max_concealment_ms, 0, " ms")
    }),
    ("One-way delay", |s| {
        let src = s.one_way_delay_source.as_deref().unwrap_or("");
        match s.one_way_delay_ms {
            Some(v) => format!("{} ms ({})", num(v, 1), esc(src)),
            None => "—".to_string(),
        }
    }),
    ("Jitter (RFC 3550 estimate)", |s| {
        format!("{} ms", num(s.jitter_ms, 2))
    }),
    ("Delay variation p95", |s| {
        format!("{} ms", num(s.jitter_p95_ms, 2))
    }),
    ("RTT (RTCP)", |s| unit(s.rtt_ms, 1, " ms")),
    ("Late", |s| s.late.to_string()),
    ("Duplicates", |s| s.duplicates.to_string()),
    ("Reordered", |s| s.reordered.to_string()),
    ("Concealed", |s| {
        s.concealed_ratio.map_or_else(
            || "not measured".to_string(),
            |r| format!("{} %", num(r * 100.0, 2)),
        )
    }),
    ("Longest media gap", |s| {
        format!("{} ms", num(s.max_gap_ms, 0))
    }),
    ("E-model R", |s| num(s.r_factor, 1)),
    ("MOS", |s| num(s.mos, 2)),
    ("MOS degradation", |s| num(s.mos_degradation, 2)),
];

fn write_streams_and_links(h: &mut String, s: &ScenarioReport) {
    let streams: Vec<&StreamReport> = s.calls.iter().flat_map(|c| &c.streams).collect();
    h.push_str(r#"<h3>Streams and links</h3><div class="pair"><div><h4>Streams, measured at the receiver</h4>"#);
    if streams.is_empty() {
        h.push_str(r#"<p class="muted">No media flowed.</p>"#);
    } else {
        h.push_str(r#"<div class="tablewrap"><table><thead><tr><th></th>"#);
        for st in &streams {
            let _ = write!(
                h,
                r#"<th class="num">{} → {}<br><span class="muted">{}</span></th>"#,
                esc(&st.from),
                esc(&st.to),
                esc(&st.kind)
            );
        }
        h.push_str("</tr></thead><tbody>");
        for (label, value) in STREAM_ROWS {
            let _ = write!(h, r#"<tr><th class="rowhead">{label}</th>"#);
            for st in &streams {
                let _ = write!(h, r#"<td class="num">{}</td>"#, esc(&value(st)));
            }
            h.push_str("</tr>");
        }
        let extra: BTreeSet<&String> = streams.iter().flat_map(|st| st.extra.keys()).collect();
        for key in extra {
            let _ = write!(
                h,
                r#"<tr class="extra"><th class="rowhead mono">{}</th>"#,
                esc(key)
            );
            for st in &streams {
                let v = st
                    .extra
                    .get(key)
                    .map_or_else(|| "—".to_string(), |v| short(*v));
                let _ = write!(h, r#"<td class="num">{v}</td>"#);
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table></div>");
        for st in streams.iter().filter(|st| st.fault.is_some()) {
            let _ = write!(
                h,
                r#"<p class="caption">Where {} → {} was hurt: {}</p>"#,
                esc(&st.from),
                esc(&st.to),
                esc(st.fault.as_deref().unwrap_or_default())
            );
        }
    }
    h.push_str("</div><div><h4>Emulated links, counted by the emulator</h4>");
    write_links(h, &s.links);
    let dropped: u64 = s.links.iter().flat_map(|l| l.dropped.values()).sum();
    let lost: i64 = streams.iter().map(|st| st.lost).sum();
    let _ = write!(
        h,
        r#"<p class="caption">The emulator dropped <b>{dropped}</b> packets on these links; the receivers counted <b>{lost}</b> lost. Links also carry signaling, RTCP and cross-traffic, so the two can differ.</p>"#
    );
    h.push_str("</div></div>");
}

fn write_links(h: &mut String, links: &[LinkReport]) {
    if links.is_empty() {
        h.push_str(r#"<p class="muted">No link counters in this report.</p>"#);
        return;
    }
    let reasons: BTreeSet<&String> = links.iter().flat_map(|l| l.dropped.keys()).collect();
    // Only when some packet was still inside a link at the end: a column of zeros says nothing.
    let inside = links.iter().any(|l| l.in_flight_at_end > 0);
    h.push_str(r#"<div class="tablewrap"><table><thead><tr><th>Link</th><th class="num">In</th><th class="num">Delivered</th>"#);
    if inside {
        h.push_str(r#"<th class="num">Inside<br><span class="muted">at the end</span></th>"#);
    }
    for r in &reasons {
        let _ = write!(
            h,
            r#"<th class="num">Dropped<br><span class="muted">{}</span></th>"#,
            esc(r)
        );
    }
    h.push_str(r#"<th class="num">Dropped<br><span class="muted">total</span></th><th class="num">Queue<br><span class="muted">peak</span></th></tr></thead><tbody>"#);
    for l in links {
        let _ = write!(
            h,
            r#"<tr><td class="mono link">{}</td><td class="num">{}</td><td class="num">{}</td>"#,
            esc(&l.link),
            l.packets_in,
            l.delivered
        );
        if inside {
            let _ = write!(h, r#"<td class="num">{}</td>"#, l.in_flight_at_end);
        }
        for r in &reasons {
            let n = l.dropped.get(*r).copied().unwrap_or(0);
            let class = if n > 0 { "num bad" } else { "num muted" };
            let _ = write!(h, r#"<td class="{class}">{n}</td>"#);
        }
        let total: u64 = l.dropped.values().sum();
        let pct = if l.packets_in > 0 {
            total as f64 * 100.0 / l.packets_in as f64
        } else {
            0.0
        };
        let wait = if l.queue_high_water_ms > 0.0 {
            format!(
                r#"<br><span class="muted">{} ms</span>"#,
                num(l.queue_high_water_ms, 0)
            )
        } else {
            String::new()
        };
        let _ = write!(
            h,
            r#"<td class="num">{} %</td><td class="num">{}{wait}</td></tr>"#,
            num(pct, 2),
            l.queue_high_water
        );
    }
    h.push_str("</tbody></table></div>");
    for l in links {
        for f in &l.cross_traffic {
            let dropped: u64 = f.dropped.values().sum();
            let why = f
                .dropped
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = write!(
                h,
                r#"<p class="caption">Cross-traffic <b>{}</b> on <span class="mono">{}</span> from {}: sent {}, delivered {}, dropped {}{}{}.</p>"#,
                esc(&f.flow),
                esc(&l.link),
                esc(&super::summary::secs(f.start_ms)),
                f.sent,
                f.delivered,
                dropped,
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", esc(&why))
                },
                if f.in_flight_at_end > 0 {
                    format!(", {} still inside at the end", f.in_flight_at_end)
                } else {
                    String::new()
                }
            );
        }
    }
}

fn write_legend(h: &mut String, marks: &[Mark]) {
    let kinds = [
        (MarkKind::Outage, "outage (shaded: its duration)", false),
        (
            MarkKind::CrossTraffic,
            "cross-traffic (shaded: start to stop)",
            false,
        ),
        (MarkKind::AddressChange, "address change", true),
        (MarkKind::ProfileChange, "profile change", true),
        (MarkKind::CallOk, "call event", true),
        (MarkKind::CallFailed, "call failed", true),
        (MarkKind::Other, "other", true),
    ];
    h.push_str(r#"<div class="legend">"#);
    for (kind, label, is_line) in kinds {
        if marks.iter().any(|m| m.kind == kind) {
            let line = if is_line { " line" } else { "" };
            let _ = write!(h, r#"<span class="{}{line}">{label}</span>"#, kind.class());
        }
    }
    h.push_str("</div>");
}

/// One small chart of a stream's per-second series.
struct Panel {
    title: &'static str,
    unit: &'static str,
    value: fn(&SecondSample) -> Option<f64>,
    /// A fixed y range; None to fit 0..max.
    y_range: Option<(f64, f64)>,
    decimals: usize,
    /// MOS: the caption gives the minimum rather than the maximum.
    lower_is_worse: bool,
}

const PANELS: [Panel; 6] = [
    Panel {
        title: "Concealed",
        unit: "%",
        value: |p| p.concealed_pct,
        y_range: None,
        decimals: 1,
        lower_is_worse: false,
    },
    Panel {
        title: "Loss",
        unit: "%",
        value: |p| p.loss_pct,
        y_range: None,
        decimals: 1,
        lower_is_worse: false,
    },
    Panel {
        title: "Jitter",
        unit: "ms",
        value: |p| Some(p.jitter_ms),
        y_range: None,
        decimals: 1,
        lower_is_worse: false,
    },
    Panel {
        title: "Bitrate",
        unit: "kbit/s",
        value: |p| Some(p.bitrate_kbps),
        y_range: None,
        decimals: 0,
        lower_is_worse: false,
    },
    Panel {
        title: "RTT",
        unit: "ms",
        value: |p| p.rtt_ms,
        y_range: None,
        decimals: 0,
        lower_is_worse: false,
    },
    Panel {
        title: "MOS",
        unit: "",
        value: |p| p.mos,
        y_range: Some((1.0, 4.5)),
        decimals: 2,
        lower_is_worse: true,
    },
];

fn write_time(h: &mut String, s: &ScenarioReport) {
    let end_s = s.duration_ms as f64 / 1000.0;
    let marks = svg::marks(&s.events, end_s);
    let streams: Vec<&StreamReport> = s.calls.iter().flat_map(|c| &c.streams).collect();
    h.push_str("<h3>Over time</h3>");
    if !marks.is_empty() {
        write_legend(h, &marks);
        let _ = write!(
            h,
            r#"<div class="timelinebox">{}</div>"#,
            svg::timeline(&marks, end_s)
        );
    }
    if streams.iter().all(|st| st.series.is_empty()) {
        h.push_str(r#"<p class="muted">No per-second series in this report.</p>"#);
        return;
    }
    for st in streams.iter().filter(|st| !st.series.is_empty()) {
        let _ = write!(
            h,
            r#"<div class="stream"><h4>{} → {} <span class="muted">· {}</span></h4><div class="charts">"#,
            esc(&st.from),
            esc(&st.to),
            esc(&st.kind)
        );
        for panel in &PANELS {
            let points: Vec<(f64, Option<f64>)> = st
                .series
                .iter()
                .map(|p| (p.t as f64, (panel.value)(p)))
                .collect();
            let (title, u, decimals) = (panel.title, panel.unit, panel.decimals);
            let values: Vec<f64> = points.iter().filter_map(|(_, v)| *v).collect();
            let stats = if values.is_empty() {
                "no data".to_string()
            } else {
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                let (lo, hi) = values
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                        (a.min(*v), b.max(*v))
                    });
                if panel.lower_is_worse {
                    format!("mean {} · min {}", num(mean, decimals), num(lo, decimals))
                } else {
                    format!("mean {} · max {}", num(mean, decimals), num(hi, decimals))
                }
            };
            let name = format!(
                "{} → {} {}{}",
                st.from,
                st.to,
                title.to_lowercase(),
                if u.is_empty() {
                    String::new()
                } else {
                    format!(" ({u})")
                }
            );
            let chart = svg::line_chart(
                &Chart {
                    name: &name,
                    points,
                    x_max_s: end_s,
                    y_range: panel.y_range,
                },
                &marks,
            );
            let unit_label = if u.is_empty() {
                String::new()
            } else {
                format!(" <span class=\"muted\">{u}</span>")
            };
            let _ = write!(
                h,
                r#"<figure><figcaption><span>{title}{unit_label}</span><span class="muted">{stats}</span></figcaption>{chart}</figure>"#
            );
        }
        h.push_str("</div></div>");
    }
    let numbered: Vec<&Mark> = marks.iter().filter(|m| m.number > 0).collect();
    if !numbered.is_empty() {
        h.push_str(r#"<p class="caption">Numbers on the charts: "#);
        let list = numbered
            .iter()
            .map(|m| format!("<b>{}</b> {}", m.number, esc(&m.title)))
            .collect::<Vec<_>>()
            .join("; ");
        h.push_str(&list);
        h.push_str(".</p>");
    }
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
    fn highlights_unmet_expectations_and_failed_calls() {
        let page = to_string(&sample_run());
        assert!(page.contains(r#"<tr class="unmet"><td class="status">✗ unmet</td><td>alice→bob audio loss &lt; 1% in any 15s</td>"#));
        assert!(page.contains("<code>ice-failed</code>"));
        assert!(page.contains(r#"<div class="alert"><b>Incomplete run.</b>"#));
        assert!(page.contains("<details><summary>Scenario source"));
        assert!(page.contains(r#"Dropped<br><span class="muted">outage</span>"#));
    }
}
