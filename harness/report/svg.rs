//! Inline SVG charts for `report.html`: small line charts of one per-second series, with the
//! scenario's network events drawn on them, and a labelled timeline strip of all events.
//!
//! Plain SVG text, no script and no external reference, sized by `viewBox` so the page's CSS sets
//! the width. Colours are CSS classes (`ev-outage`, `ev-address`...) defined once in the page's
//! stylesheet, so meaning is styled in one place.

use super::html::esc;
use super::model::TimelineEvent;
use std::fmt::Write;

/// How an event is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarkKind {
    Outage,
    AddressChange,
    ProfileChange,
    CrossTraffic,
    CallOk,
    CallFailed,
    /// A client signed in to the service.
    SignIn,
    /// A sign-in the service refused or never answered.
    SignInFailed,
    /// The service itself was down (a span, like a network outage).
    ServiceOutage,
    ImDelivered,
    ImRefused,
    Presence,
    Other,
}

impl MarkKind {
    fn of(kind: &str) -> MarkKind {
        match kind {
            "outage" => MarkKind::Outage,
            "address-change" => MarkKind::AddressChange,
            "profile-change" => MarkKind::ProfileChange,
            "cross-traffic-start" | "cross-traffic-stop" | "cross-traffic" => {
                MarkKind::CrossTraffic
            }
            "call-start" | "call-connected" | "call-end" => MarkKind::CallOk,
            "call-failed" => MarkKind::CallFailed,
            "sign-in" => MarkKind::SignIn,
            "sign-in-failed" => MarkKind::SignInFailed,
            "service-outage" => MarkKind::ServiceOutage,
            "im-delivered" => MarkKind::ImDelivered,
            "im-refused" => MarkKind::ImRefused,
            "presence" => MarkKind::Presence,
            _ => MarkKind::Other,
        }
    }

    /// The CSS class that colours this kind of mark.
    pub(crate) fn class(self) -> &'static str {
        match self {
            MarkKind::Outage => "ev-outage",
            MarkKind::AddressChange => "ev-address",
            MarkKind::ProfileChange => "ev-profile",
            MarkKind::CrossTraffic => "ev-cross",
            MarkKind::CallOk => "ev-call",
            MarkKind::CallFailed => "ev-failed",
            MarkKind::SignIn => "ev-signin",
            MarkKind::SignInFailed => "ev-signin-failed",
            MarkKind::ServiceOutage => "ev-svc-outage",
            MarkKind::ImDelivered => "ev-im",
            MarkKind::ImRefused => "ev-im-refused",
            MarkKind::Presence => "ev-presence",
            MarkKind::Other => "ev-other",
        }
    }

    /// Network events and failures are drawn on every chart; call events, sign-ins, messages
    /// and presence only on the timeline strip (they do not change what the media does).
    fn on_charts(self) -> bool {
        !matches!(
            self,
            MarkKind::CallOk
                | MarkKind::SignIn
                | MarkKind::ImDelivered
                | MarkKind::ImRefused
                | MarkKind::Presence
        )
    }
}

/// An event or a span of time to mark, in seconds of simulated time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mark {
    /// 1-based number shown on charts and in the events table; 0 for call events (unnumbered).
    pub number: usize,
    pub kind: MarkKind,
    pub start_s: f64,
    /// End of a span (outage, cross-traffic from start to stop); None for an instant.
    pub end_s: Option<f64>,
    /// Short label for the timeline strip.
    pub label: String,
    /// Full description for the tooltip.
    pub title: String,
}

/// Turns a scenario's events into marks: an outage with a duration becomes a span, a
/// cross-traffic start is joined with the next stop on the same subject into one span (or runs
/// to `end_s` when it never stops), and network events are numbered in time order.
pub(crate) fn marks(events: &[TimelineEvent], end_s: f64) -> Vec<Mark> {
    let mut sorted: Vec<&TimelineEvent> = events.iter().collect();
    sorted.sort_by_key(|e| e.at_ms);
    let mut out = Vec::new();
    let mut used_stops: Vec<usize> = Vec::new();
    let mut number = 0;
    for (i, e) in sorted.iter().enumerate() {
        let kind = MarkKind::of(&e.kind);
        let start_s = e.at_ms as f64 / 1000.0;
        let mut end = e.duration_ms.map(|d| (e.at_ms + d) as f64 / 1000.0);
        if e.kind == "cross-traffic-stop" {
            if used_stops.contains(&i) {
                continue;
            }
        } else if e.kind == "cross-traffic-start" && end.is_none() {
            let stop = sorted.iter().enumerate().skip(i + 1).find(|(j, s)| {
                s.kind == "cross-traffic-stop" && s.subject == e.subject && !used_stops.contains(j)
            });
            end = Some(match stop {
                Some((j, s)) => {
                    used_stops.push(j);
                    s.at_ms as f64 / 1000.0
                }
                None => end_s,
            });
        }
        let short = match e.kind.as_str() {
            "cross-traffic-start" if end.is_some() => "cross-traffic",
            k => k,
        };
        let when = match end {
            Some(end) => format!("{}–{} s", trim(start_s), trim(end)),
            None => format!("{} s", trim(start_s)),
        };
        let n = if kind.on_charts() {
            number += 1;
            number
        } else {
            0
        };
        let label = if n > 0 {
            format!("{n} {short} {}", e.subject)
        } else {
            format!("{short} {}", e.subject)
        };
        let mut title = format!("{short} · {} · {when}", e.subject);
        if !e.detail.is_empty() {
            let _ = write!(title, " · {}", e.detail);
        }
        out.push(Mark {
            number: n,
            kind,
            start_s,
            end_s: end,
            label,
            title,
        });
    }
    out
}

fn trim(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

// Geometry of a small chart, in viewBox units.
const W: f64 = 240.0;
const H: f64 = 120.0;
const LEFT: f64 = 30.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 17.0;

/// One small line chart of a per-second series.
pub(crate) struct Chart<'a> {
    /// Accessible name, e.g. `alice→bob loss (%)`.
    pub name: &'a str,
    /// (second, value); None where there is no value (no RTT yet, no audio during an outage).
    pub points: Vec<(f64, Option<f64>)>,
    /// Length of the x axis, s.
    pub x_max_s: f64,
    /// A fixed y range (MOS is always 1..4.5); None to fit 0..max.
    pub y_range: Option<(f64, f64)>,
}

/// Renders `chart` with `marks` drawn as bands (spans) and lines (instants), numbered at the top.
pub(crate) fn line_chart(chart: &Chart<'_>, marks: &[Mark]) -> String {
    let (y0, y1, step) = match chart.y_range {
        Some((lo, hi)) => (lo, hi, nice_step((hi - lo) / 4.0)),
        None => {
            let max = chart
                .points
                .iter()
                .filter_map(|(_, v)| *v)
                .fold(0.0f64, f64::max);
            // An all-zero series gets a 0..1 axis rather than a meaningless tiny one.
            let step = nice_step(if max > 0.0 { max / 4.0 } else { 0.5 });
            (0.0, (max / step).ceil().max(1.0) * step, step)
        }
    };
    let x_max = if chart.x_max_s > 0.0 {
        chart.x_max_s
    } else {
        1.0
    };
    let px = |t: f64| LEFT + (t / x_max).clamp(0.0, 1.0) * (W - LEFT - RIGHT);
    let py = |v: f64| {
        let f = ((v - y0) / (y1 - y0)).clamp(0.0, 1.0);
        H - BOTTOM - f * (H - TOP - BOTTOM)
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
        esc(chart.name)
    );
    // Event marks first, so the data line stays on top.
    for m in marks.iter().filter(|m| m.kind.on_charts()) {
        let x = px(m.start_s);
        let _ = write!(
            s,
            r#"<g class="{}"><title>{}</title>"#,
            m.kind.class(),
            esc(&m.title)
        );
        match m.end_s {
            Some(end) => {
                let w = (px(end) - x).max(1.5);
                let _ = write!(
                    s,
                    r#"<rect class="band" x="{x:.1}" y="{TOP}" width="{w:.1}" height="{:.1}"/>"#,
                    H - TOP - BOTTOM
                );
            }
            None => {
                let _ = write!(
                    s,
                    r#"<line class="mark" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{:.1}"/>"#,
                    H - BOTTOM
                );
            }
        }
        let _ = write!(
            s,
            r#"<text class="tag" x="{:.1}" y="{:.1}">{}</text></g>"#,
            x + 2.0,
            TOP - 4.0,
            m.number
        );
    }
    // Grid and y labels.
    let mut v = y0;
    while v <= y1 + step * 1e-6 {
        let y = py(v);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/><text class="ylab" x="{:.1}" y="{:.1}">{}</text>"#,
            W - RIGHT,
            LEFT - 3.0,
            y + 3.0,
            tick_label(v, step)
        );
        v += step;
    }
    // X axis and labels.
    let xstep = nice_step(x_max / 6.0).max(1.0);
    let _ = write!(
        s,
        r#"<line class="axis" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/>"#,
        W - RIGHT,
        H - BOTTOM,
        H - BOTTOM
    );
    let mut t = 0.0;
    while t <= x_max + 1e-9 {
        let _ = write!(
            s,
            r#"<text class="xlab" x="{:.1}" y="{:.1}">{}</text>"#,
            px(t),
            H - BOTTOM + 11.0,
            tick_label(t, xstep)
        );
        t += xstep;
    }
    // The series: one path per run of present values, an area under it, dots for lone points.
    for run in runs(&chart.points) {
        if run.len() == 1 {
            let (t, v) = run[0];
            let _ = write!(
                s,
                r#"<circle class="dot" cx="{:.1}" cy="{:.1}" r="1.8"/>"#,
                px(t),
                py(v)
            );
            continue;
        }
        let mut d = String::new();
        for (i, (t, v)) in run.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { "L" },
                px(*t),
                py(*v)
            );
        }
        let (first, last) = (run[0].0, run[run.len() - 1].0);
        let base = py(y0.max(0.0).min(y1));
        let _ = write!(
            s,
            r#"<path class="area" d="{d}L{:.1},{base:.1}L{:.1},{base:.1}Z"/><path class="line" d="{d}"/>"#,
            px(last),
            px(first)
        );
    }
    s.push_str("</svg>");
    s
}

/// The timeline strip: every event of the scenario with its label, over the same time axis,
/// labels placed in lanes so they do not overlap.
pub(crate) fn timeline(marks: &[Mark], x_max_s: f64) -> String {
    const TW: f64 = 1000.0;
    const LANE: f64 = 15.0;
    const L: f64 = 10.0;
    const R: f64 = 10.0;
    // Approximate width of a label (11.5 px, semi-bold) in viewBox units, with a gap: the strip
    // is drawn at about 1:1.2 on a wide page, wider when narrower, so this errs on the wide side.
    let text_w = |label: &str| label.chars().count() as f64 * 7.0 + 14.0;
    let x_max = if x_max_s > 0.0 { x_max_s } else { 1.0 };
    let px = |t: f64| L + (t / x_max).clamp(0.0, 1.0) * (TW - L - R);
    let mut lane_ends: Vec<f64> = Vec::new();
    let mut placed: Vec<(usize, f64)> = Vec::new();
    for m in marks {
        let x = px(m.start_s);
        let w = text_w(&m.label);
        // Labels near the right edge run leftwards from the mark.
        let x_text = if x + w > TW - R { (x - w).max(L) } else { x };
        let lane = lane_ends
            .iter()
            .position(|end| *end <= x_text)
            .unwrap_or(lane_ends.len());
        if lane == lane_ends.len() {
            lane_ends.push(0.0);
        }
        lane_ends[lane] = x_text + w;
        placed.push((lane, x_text));
    }
    let lanes = lane_ends.len().max(1) as f64;
    let axis_y = 8.0 + lanes * LANE + 6.0;
    let th = axis_y + 18.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="timeline" viewBox="0 0 {TW} {th:.0}" role="img" aria-label="timeline of events">"#
    );
    for (m, (lane, x_text)) in marks.iter().zip(&placed) {
        let x = px(m.start_s);
        let y_text = 8.0 + (*lane as f64 + 1.0) * LANE - 4.0;
        let _ = write!(
            s,
            r#"<g class="{}"><title>{}</title>"#,
            m.kind.class(),
            esc(&m.title)
        );
        if let Some(end) = m.end_s {
            let _ = write!(
                s,
                r#"<rect class="band" x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}"/>"#,
                y_text - 10.0,
                (px(end) - x).max(2.0),
                axis_y - (y_text - 10.0)
            );
        }
        let _ = write!(
            s,
            r#"<line class="mark" x1="{x:.1}" x2="{x:.1}" y1="{:.1}" y2="{axis_y:.1}"/><text class="label" x="{:.1}" y="{y_text:.1}">{}</text></g>"#,
            y_text - 10.0,
            x_text + 3.0,
            esc(&m.label)
        );
    }
    let _ = write!(
        s,
        r#"<line class="axis" x1="{L}" x2="{:.1}" y1="{axis_y:.1}" y2="{axis_y:.1}"/>"#,
        TW - R
    );
    let xstep = nice_step(x_max / 12.0).max(1.0);
    let mut t = 0.0;
    while t <= x_max + 1e-9 {
        let x = px(t);
        let anchor = if t == 0.0 {
            "start"
        } else if t + xstep > x_max + 1e-9 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            s,
            r#"<line class="axis" x1="{x:.1}" x2="{x:.1}" y1="{axis_y:.1}" y2="{:.1}"/><text class="xlab" text-anchor="{anchor}" x="{x:.1}" y="{:.1}">{} s</text>"#,
            axis_y + 4.0,
            axis_y + 15.0,
            tick_label(t, xstep)
        );
        t += xstep;
    }
    s.push_str("</svg>");
    s
}

/// Maximal runs of consecutive present values.
fn runs(points: &[(f64, Option<f64>)]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    for (t, v) in points {
        match v {
            Some(v) if v.is_finite() => cur.push((*t, *v)),
            _ => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A step of 1, 2, 2.5 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// A tick value with as many decimals as its step needs (0.25 -> 2, 2.5 -> 1, 10 -> 0).
fn tick_label(v: f64, step: f64) -> String {
    let decimals = (0..=4)
        .find(|d| {
            let scaled = step * 10f64.powi(*d);
            (scaled - scaled.round()).abs() < 1e-6
        })
        .unwrap_or(4) as usize;
    super::summary::num(v, decimals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(at_ms: u64, duration_ms: Option<u64>, kind: &str, subject: &str) -> TimelineEvent {
        TimelineEvent {
            at_ms,
            duration_ms,
            kind: kind.into(),
            subject: subject.into(),
            detail: String::new(),
        }
    }

    #[test]
    fn spans_are_built_from_durations_and_start_stop_pairs() {
        let m = marks(
            &[
                ev(30_000, None, "cross-traffic-stop", "core"),
                ev(10_000, None, "cross-traffic-start", "core"),
                ev(20_000, Some(5_000), "outage", "alice"),
                ev(0, None, "call-start", "a→b"),
                ev(50_000, None, "cross-traffic-start", "edge"),
            ],
            60.0,
        );
        let summary: Vec<_> = m.iter().map(|m| (m.number, m.start_s, m.end_s)).collect();
        assert_eq!(
            summary,
            [
                (0, 0.0, None),
                (1, 10.0, Some(30.0)),
                (2, 20.0, Some(25.0)),
                (3, 50.0, Some(60.0)),
            ]
        );
        assert_eq!(m[1].label, "1 cross-traffic core");
        assert_eq!(m[2].title, "outage · alice · 20–25 s");
    }

    #[test]
    fn the_services_events_get_their_own_marks() {
        let m = marks(
            &[
                ev(0, Some(2_000), "service-outage", "service"),
                ev(2_000, None, "sign-in", "alice"),
                ev(2_500, None, "sign-in-failed", "erin"),
                ev(3_000, None, "im-delivered", "alice->bob"),
                ev(4_000, None, "im-refused", "bob->erin"),
                ev(5_000, None, "presence", "carol"),
            ],
            20.0,
        );
        let kinds: Vec<_> = m.iter().map(|m| (m.kind, m.number, m.end_s)).collect();
        assert_eq!(
            kinds,
            [
                (MarkKind::ServiceOutage, 1, Some(2.0)),
                (MarkKind::SignIn, 0, None),
                (MarkKind::SignInFailed, 2, None),
                (MarkKind::ImDelivered, 0, None),
                (MarkKind::ImRefused, 0, None),
                (MarkKind::Presence, 0, None),
            ]
        );
        let classes: std::collections::BTreeSet<_> = m.iter().map(|m| m.kind.class()).collect();
        assert_eq!(classes.len(), m.len(), "a class each");
    }

    #[test]
    fn nice_steps_and_labels() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(7.0), 10.0);
        assert_eq!(nice_step(22.0), 25.0);
        assert_eq!(tick_label(2.5, 2.5), "2.5");
        assert_eq!(tick_label(0.25, 0.25), "0.25");
        assert_eq!(tick_label(50.0, 25.0), "50");
    }

    #[test]
    fn gaps_break_the_line() {
        let points = vec![
            (0.0, Some(1.0)),
            (1.0, Some(2.0)),
            (2.0, None),
            (3.0, Some(1.0)),
        ];
        assert_eq!(runs(&points).len(), 2);
        let svg = line_chart(
            &Chart {
                name: "x",
                points,
                x_max_s: 3.0,
                y_range: None,
            },
            &[],
        );
        assert_eq!(svg.matches(r#"class="line""#).count(), 1);
        assert_eq!(svg.matches("<circle").count(), 1);
    }
}
