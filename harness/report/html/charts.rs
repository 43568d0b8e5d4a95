//! The page's charts over time: the scenario's events on a timeline strip, and one small line
//! chart per stream and metric (concealed, loss, jitter, bitrate, RTT, MOS) with the events
//! drawn on each.

use super::esc;
use crate::report::model::{ScenarioReport, SecondSample, StreamReport};
use crate::report::summary::num;
use crate::report::svg::{self, Chart, Mark, MarkKind};
use std::fmt::Write;

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
        (
            MarkKind::ServiceOutage,
            "service outage (shaded: its duration)",
            false,
        ),
        (MarkKind::CallOk, "call event", true),
        (MarkKind::CallFailed, "call failed", true),
        (MarkKind::SignIn, "signed in", true),
        (MarkKind::SignInFailed, "sign-in failed", true),
        (MarkKind::ImDelivered, "message delivered", true),
        (MarkKind::ImRefused, "message refused", true),
        (MarkKind::Presence, "presence", true),
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
pub(super) struct Panel {
    title: &'static str,
    unit: &'static str,
    value: fn(&SecondSample) -> Option<f64>,
    /// A fixed y range; None to fit 0..max.
    y_range: Option<(f64, f64)>,
    decimals: usize,
    /// MOS: the caption gives the minimum rather than the maximum.
    lower_is_worse: bool,
}

pub(super) const PANELS: [Panel; 6] = [
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

pub(super) fn write_time(h: &mut String, s: &ScenarioReport) {
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
