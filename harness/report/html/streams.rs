//! The page's stream and link tables: every number of each stream as measured at its receiver,
//! beside the emulator's own counters of each link (what it delivered, dropped by reason, its
//! queue peaks) and the cross-traffic flows it carried.

use super::{esc, short, unit};
use crate::report::model::{LinkReport, ScenarioReport, StreamReport};
use crate::report::summary::num;
use std::collections::BTreeSet;
use std::fmt::Write;

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
    ("Speech heard (decoded)", |s| {
        s.speech_ratio.map_or_else(
            || "not measured".to_string(),
            |r| format!("{} %", num(r * 100.0, 1)),
        )
    }),
    ("Decoded level", |s| dbov(s.decoded_level_dbov)),
    ("Played level (speaker)", |s| dbov(s.played_level_dbov)),
    ("Longest media gap", |s| {
        format!("{} ms", num(s.max_gap_ms, 0))
    }),
    ("E-model R", |s| num(s.r_factor, 1)),
    ("MOS", |s| num(s.mos, 2)),
    ("MOS degradation", |s| num(s.mos_degradation, 2)),
];

/// A level in dBov, or "not measured" (decoding off); the floor reads as silence.
fn dbov(v: Option<f64>) -> String {
    match v {
        None => "not measured".to_string(),
        Some(l) if l <= crate::agent::media::level::FLOOR_DBOV => "silence (-120 dBov)".to_string(),
        Some(l) => format!("{} dBov", num(l, 1)),
    }
}

pub(super) fn write_streams_and_links(h: &mut String, s: &ScenarioReport) {
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
                esc(&crate::report::summary::secs(f.start_ms)),
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
