//! The page's video section: each video stream's numbers as its receiver measured them, and
//! its frames per second, bitrate, picture height and freezes over time; for a sender that
//! adapts, its layers, estimate and switches, and the estimate and the height it sent over time.

use super::{esc, unit};
use crate::report::model::{ScenarioReport, VideoStreamReport};
use crate::report::summary::num;
use crate::report::svg::{self, Chart};
use std::fmt::Write;

type VideoRow = (&'static str, fn(&VideoStreamReport) -> String);

const ROWS: &[VideoRow] = &[
    ("Codec", |v| v.codec.clone().unwrap_or_else(|| "—".into())),
    ("Sent as", |v| {
        v.sent_layer
            .clone()
            .unwrap_or_else(|| "nothing sent".into())
    }),
    ("Resolution received", |v| {
        v.resolution.clone().unwrap_or_else(|| "—".into())
    }),
    ("Frames per second", |v| unit(v.fps, 1, "")),
    ("Bitrate received", |v| {
        format!("{} kbit/s", num(v.bitrate_kbps, 0))
    }),
    ("Frames sent", |v| v.frames_sent.to_string()),
    ("Frames decoded", |v| v.frames_decoded.to_string()),
    ("Frames dropped", |v| v.frames_dropped.to_string()),
    ("Keyframes sent / decoded", |v| {
        format!("{} / {}", v.keyframes_sent, v.keyframes_decoded)
    }),
    ("Freezes (W3C)", |v| v.freezes.to_string()),
    ("Time frozen", |v| {
        format!("{} ms ({} %)", num(v.freeze_ms, 0), num(v.frozen_pct, 1))
    }),
    ("Packets sent / received", |v| {
        format!("{} / {}", v.packets_sent, v.packets_received)
    }),
    ("Loss after repair", |v| format!("{} %", num(v.loss_pct, 2))),
    ("Retransmitted (NACK)", |v| v.retransmitted.to_string()),
    ("Duplicates", |v| v.duplicates.to_string()),
    ("PLI sent / keyframes for them", |v| {
        format!("{} / {}", v.plis_sent, v.keyframes_on_request)
    }),
    ("PLI to keyframe (mean, max)", |v| {
        match (v.recovery_mean_ms, v.recovery_max_ms) {
            (Some(a), Some(b)) => format!("{} ms, {} ms", num(a, 0), num(b, 0)),
            _ => "—".into(),
        }
    }),
    ("First frame after the offer", |v| {
        unit(v.first_frame_ms, 0, " ms")
    }),
    ("Adaptation", |v| match &v.adaptation {
        None => "off".into(),
        Some(a) => a
            .layers
            .iter()
            .zip(&a.time_pct)
            .filter(|(_, p)| **p > 0.0)
            .map(|(l, p)| {
                format!(
                    "{} {} %",
                    l.split(' ').take(2).collect::<Vec<_>>().join(" "),
                    num(*p, 0)
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
    }),
    ("Initial probe / mean / lowest estimate", |v| {
        match &v.adaptation {
            None => "—".into(),
            Some(a) => format!(
                "{} / {} / {} kbit/s",
                a.probe_kbps.map_or("—".into(), |p| num(p, 0)),
                a.estimate_mean_kbps.map_or("—".into(), |p| num(p, 0)),
                a.estimate_min_kbps.map_or("—".into(), |p| num(p, 0)),
            ),
        }
    }),
    ("Layer switches", |v| match &v.adaptation {
        None => "—".into(),
        Some(a) if a.switches.is_empty() => "none".into(),
        Some(a) => a
            .switches
            .iter()
            .map(|s| {
                format!(
                    "{} s → {}",
                    num(s.t_ms / 1000.0, 1),
                    s.to.split(' ').take(2).collect::<Vec<_>>().join(" ")
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
    }),
];

type Panel = (
    &'static str,
    &'static str,
    fn(&crate::report::model::VideoSecondSample) -> f64,
);

const PANELS: &[Panel] = &[
    ("Frames per second", "", |s| f64::from(s.fps)),
    ("Bitrate", "kbit/s", |s| s.bitrate_kbps),
    ("Picture height", "px", |s| f64::from(s.height)),
    ("Frozen", "ms", |s| f64::from(s.freeze_ms)),
];

/// Panels of the sender's side, drawn when it adapts.
const SENDER_PANELS: &[Panel] = &[
    ("Bandwidth estimate", "kbit/s", |s| {
        s.estimate_kbps.unwrap_or(f64::NAN)
    }),
    ("Height sent", "px", |s| f64::from(s.sent_height)),
];

/// Writes the section (nothing for a scenario without video).
pub(super) fn write_video(h: &mut String, s: &ScenarioReport) {
    let streams: Vec<&VideoStreamReport> = s.calls.iter().flat_map(|c| &c.video).collect();
    if streams.is_empty() {
        return;
    }
    h.push_str(r#"<h3>Video, measured at the receiver</h3><div class="tablewrap"><table><thead><tr><th></th>"#);
    for v in &streams {
        let _ = write!(
            h,
            r#"<th class="num">{} → {}<br><span class="muted">video</span></th>"#,
            esc(&v.from),
            esc(&v.to)
        );
    }
    h.push_str("</tr></thead><tbody>");
    for (label, value) in ROWS {
        let _ = write!(h, r#"<tr><th class="rowhead">{label}</th>"#);
        for v in &streams {
            let _ = write!(h, r#"<td class="num">{}</td>"#, esc(&value(v)));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></div>");
    let end_s = s.duration_ms as f64 / 1000.0;
    let marks = svg::marks(&s.events, end_s);
    for v in streams.iter().filter(|v| !v.series.is_empty()) {
        let _ = write!(
            h,
            r#"<div class="stream"><h4>{} → {} <span class="muted">· video</span></h4><div class="charts">"#,
            esc(&v.from),
            esc(&v.to)
        );
        let sender: &[Panel] = if v.adaptation.is_some() {
            SENDER_PANELS
        } else {
            &[]
        };
        for (title, u, value) in PANELS.iter().chain(sender) {
            let points: Vec<(f64, Option<f64>)> = v
                .series
                .iter()
                .map(|p| (p.t as f64, Some(value(p)).filter(|x| x.is_finite())))
                .collect();
            let name = format!("{} → {} video {}", v.from, v.to, title.to_lowercase());
            let chart = svg::line_chart(
                &Chart {
                    name: &name,
                    points,
                    x_max_s: end_s,
                    y_range: None,
                },
                &marks,
            );
            let _ = write!(
                h,
                r#"<figure><figcaption><span>{title} <span class="muted">{u}</span></span></figcaption>{chart}</figure>"#
            );
        }
        h.push_str("</div></div>");
    }
}
