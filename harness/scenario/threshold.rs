//! Thresholds on stream metrics, written as text, and how a measured stream is judged by them.
//!
//! A threshold reads `METRIC OP VALUE[ in every|some WINDOW]`:
//!
//! ```
//! use callharness::scenario::{Threshold, Metric, Cmp, Quantifier};
//! let t: Threshold = "loss < 1% in every 15s".parse().unwrap();
//! assert_eq!((t.metric, t.op, t.value), (Metric::Loss, Cmp::Lt, 1.0));
//! assert_eq!(t.window.map(|w| w.as_nanos()), Some(15_000_000_000));
//! assert_eq!(t.quantifier, Quantifier::Every);
//! // A symptom seen at least once: the most lossy 15 s window is over 5 %.
//! let s: Threshold = "loss > 5% in some 15s".parse().unwrap();
//! assert_eq!(s.quantifier, Quantifier::Some);
//! ```
//!
//! Values carry their unit and are stored in the metric's base unit: percent for ratios, ms for
//! times, kbit/s for bit rates, plain numbers for MOS. `in every W` holds when the condition
//! holds in each window of length W (judged on the worst one: the highest value for `<`/`<=`,
//! the lowest for `>`/`>=`); `in some W` when it holds in at least one (judged on the best
//! one). `in any W` is read as `in every W` with `<`/`<=` (Microsoft's "loss < 1% in any 15 s"),
//! and refused with `>`/`>=`, where it could mean either.
//!
//! Named sets ship Microsoft's published numbers (`../shared/reference/metrics.md`, section 4):
//! `teams-client-edge`, `teams-customer-edge` and `cqd-poor-audio`. The Call Quality Dashboard
//! set describes a *poor* stream; as thresholds a stream passes when none of the poor
//! conditions holds, so each condition `X > v` becomes `X <= v`.

use super::de::nearest;
use crate::units::{Dur, Percent, Rate};
use std::fmt;
use std::str::FromStr;

/// A stream metric the harness measures. The base unit of each is in [`Metric::unit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Metric {
    /// RFC 3550 loss, % of expected packets.
    Loss,
    /// Loss in a short window, % (Microsoft's "burst packet loss"; default window 200 ms).
    BurstLoss,
    /// RFC 3550 interarrival jitter, ms.
    Jitter,
    /// p95 of per-packet delay variation, ms.
    JitterP95,
    /// Round-trip time from RTCP SR/RR, ms.
    Rtt,
    /// Network one-way delay, ms (exact in simulation, where send and arrival share one clock).
    OneWayDelay,
    /// E-model MOS (1..4.5).
    Mos,
    /// MOS(no impairment) - MOS(measured).
    MosDegradation,
    /// Concealed samples / played samples, %.
    ConcealedRatio,
    /// Playout ticks concealed / ticks that should have played, % (what the listener heard).
    PlayoutLoss,
    /// Longest run of concealed playout, ms.
    MaxConcealment,
    /// Longest time with no packet while the stream should flow, ms.
    MaxGap,
    /// Packets that arrived after their playout time, % of received.
    Late,
    /// Packets that arrived below the highest sequence number seen, % of received.
    Reordered,
    /// Offer created to connected, ms.
    Setup,
    /// Offer created to the first audio frame played, ms.
    FirstAudio,
    /// Received media bit rate, kbit/s.
    Bitrate,
    /// Video: freezes by the W3C webrtc-stats rule (an inter-frame interval of at least
    /// max(3 x the average frame duration, average + 150 ms)).
    Freezes,
    /// Video: total freeze duration / the time video should have played, %.
    Frozen,
    /// Video: frames rendered per second, first to last frame.
    Fps,
    /// Video: frames that arrived (in part) but were never decoded, % of frames that arrived.
    FramesDropped,
    /// Video: offer created to the first video frame rendered, ms.
    FirstFrame,
    /// Video, decoded: pictures at black level, % (`video: { decode: true }`).
    Black,
    /// Video, decoded: mean PSNR of luma against the sender's camera, dB.
    Psnr,
    /// Video: the mean height of the frames rendered, px (a sender that stepped down to a
    /// smaller picture shows here).
    Height,
    /// Frames decoded from received packets at or above -60 dBov / such frames, % (what the
    /// receiver's decoder heard: ~0 from a dead microphone).
    Speech,
    /// RMS level of everything decoded from received packets, dBov (-120: digital silence).
    DecodedLevel,
    /// RMS level of what the receiver's speaker played, after its gain, dBov (-120: silence,
    /// a muted output).
    PlayedLevel,
}

/// The kind of value a metric takes, which decides the unit its threshold is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Written "1%"; stored in percent.
    Percent,
    /// Written "30ms", "2s"; stored in ms.
    Millis,
    /// Written "256kbit"; stored in kbit/s.
    KbitPerSec,
    /// A plain number (MOS).
    Number,
    /// An audio level, written "-60dBov" (from -120, the floor, to 0, full scale); stored in dBov.
    Dbov,
}

/// Every metric with its names as written in a threshold (the first is the canonical one).
const METRICS: &[(Metric, &[&str], Unit, bool)] = &[
    (Metric::Loss, &["loss", "packet loss"], Unit::Percent, true),
    (Metric::BurstLoss, &["burst loss"], Unit::Percent, true),
    (Metric::Jitter, &["jitter"], Unit::Millis, true),
    (Metric::JitterP95, &["jitter p95"], Unit::Millis, false),
    (Metric::Rtt, &["rtt", "round trip"], Unit::Millis, true),
    (
        Metric::OneWayDelay,
        &["one-way delay", "latency"],
        Unit::Millis,
        true,
    ),
    (Metric::Mos, &["mos"], Unit::Number, true),
    (
        Metric::MosDegradation,
        &["mos degradation"],
        Unit::Number,
        true,
    ),
    (Metric::ConcealedRatio, &["concealed"], Unit::Percent, true),
    (
        Metric::PlayoutLoss,
        &["playout loss", "concealment"],
        Unit::Percent,
        true,
    ),
    (
        Metric::MaxConcealment,
        &["max concealment"],
        Unit::Millis,
        false,
    ),
    (Metric::MaxGap, &["max gap"], Unit::Millis, false),
    (Metric::Late, &["late"], Unit::Percent, false),
    (
        Metric::Reordered,
        &["reordered", "reordering"],
        Unit::Percent,
        false,
    ),
    (Metric::Setup, &["setup"], Unit::Millis, false),
    (Metric::FirstAudio, &["first audio"], Unit::Millis, false),
    (Metric::Bitrate, &["bitrate"], Unit::KbitPerSec, true),
    (
        Metric::Freezes,
        &["freezes", "freeze count"],
        Unit::Number,
        false,
    ),
    (
        Metric::Frozen,
        &["frozen", "freeze time"],
        Unit::Percent,
        false,
    ),
    (Metric::Fps, &["fps", "frame rate"], Unit::Number, false),
    (
        Metric::FramesDropped,
        &["frames dropped", "dropped frames"],
        Unit::Percent,
        false,
    ),
    (Metric::FirstFrame, &["first frame"], Unit::Millis, false),
    (
        Metric::Black,
        &["black", "black pictures"],
        Unit::Percent,
        false,
    ),
    (Metric::Psnr, &["psnr"], Unit::Number, false),
    (
        Metric::Height,
        &["height", "picture height"],
        Unit::Number,
        false,
    ),
    (
        Metric::Speech,
        &["speech", "speech ratio"],
        Unit::Percent,
        false,
    ),
    (
        Metric::DecodedLevel,
        &["decoded level", "level"],
        Unit::Dbov,
        false,
    ),
    (
        Metric::PlayedLevel,
        &["played level", "speaker level"],
        Unit::Dbov,
        false,
    ),
];

/// Default window of `burst loss` when none is written.
pub const BURST_LOSS_WINDOW: Dur = Dur::from_millis(200);

impl Metric {
    /// Whether the metric is measured on video streams only.
    pub fn video_only(self) -> bool {
        matches!(
            self,
            Metric::Freezes
                | Metric::Frozen
                | Metric::Fps
                | Metric::FramesDropped
                | Metric::FirstFrame
                | Metric::Black
                | Metric::Psnr
                | Metric::Height
        )
    }

    /// Whether a video stream measures the metric (the video metrics, loss and bitrate).
    pub fn on_video(self) -> bool {
        self.video_only() || matches!(self, Metric::Loss | Metric::Bitrate)
    }

    /// Every metric, in a fixed order.
    pub fn all() -> impl Iterator<Item = Metric> {
        METRICS.iter().map(|m| m.0)
    }

    fn entry(self) -> &'static (Metric, &'static [&'static str], Unit, bool) {
        METRICS.iter().find(|m| m.0 == self).unwrap_or(&METRICS[0])
    }

    /// The name as written in a threshold ("burst loss").
    pub fn name(self) -> &'static str {
        self.entry().1[0]
    }

    /// The unit its values are written and stored in.
    pub fn unit(self) -> Unit {
        self.entry().2
    }

    /// Whether `in every|some WINDOW` makes sense for it (a per-call number like setup time has none).
    pub fn windowed(self) -> bool {
        self.entry().3
    }

    /// Which windows of it are measured: both the highest and the lowest for loss, playout
    /// loss, MOS and bit rate; only the highest for jitter (the receiver keeps the maximum over
    /// its window). Empty for metrics without windows.
    pub fn window_extremes(self) -> &'static [Extreme] {
        match self {
            _ if !self.windowed() => &[],
            Metric::Jitter => &[Extreme::Highest],
            _ => &[Extreme::Highest, Extreme::Lowest],
        }
    }

    /// The metric whose windows a windowed threshold on this metric asks the view for: burst
    /// loss is loss in the worst short window.
    pub fn window_source(self) -> Metric {
        match self {
            Metric::BurstLoss => Metric::Loss,
            m => m,
        }
    }

    /// Looks a metric up by any of its names (case and spacing ignored).
    pub fn from_name(name: &str) -> Option<Metric> {
        let norm = normalize(name);
        METRICS
            .iter()
            .find(|m| m.1.contains(&norm.as_str()))
            .map(|m| m.0)
    }

    /// Every name a metric may be written with.
    pub fn names() -> impl Iterator<Item = &'static str> {
        METRICS.iter().flat_map(|m| m.1.iter().copied())
    }

    /// Formats a value of this metric with its unit.
    pub fn format(self, v: f64) -> String {
        let n = trim_number(v);
        match self.unit() {
            Unit::Percent => format!("{n}%"),
            Unit::Millis => format!("{n}ms"),
            Unit::KbitPerSec => format!("{n}kbit/s"),
            Unit::Number => n,
            Unit::Dbov => format!("{n}dBov"),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn normalize(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A number with at most 3 decimals and no trailing zeros.
fn trim_number(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// Whether `observed OP limit` holds.
    pub fn holds(self, observed: f64, limit: f64) -> bool {
        match self {
            Cmp::Lt => observed < limit,
            Cmp::Le => observed <= limit,
            Cmp::Gt => observed > limit,
            Cmp::Ge => observed >= limit,
        }
    }

    /// Whether lower values are better (`<`, `<=`): then the worst window is the highest.
    pub fn is_upper_bound(self) -> bool {
        matches!(self, Cmp::Lt | Cmp::Le)
    }
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        })
    }
}

/// One threshold on one stream metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub metric: Metric,
    pub op: Cmp,
    /// The limit in the metric's base unit (see [`Metric::unit`]).
    pub value: f64,
    /// Judge windows of this length instead of the whole stream.
    pub window: Option<Dur>,
    /// With a window: whether the condition must hold in every window or in some window.
    pub quantifier: Quantifier,
    /// The threshold as written.
    pub text: String,
    /// The named set it came from, if any.
    pub set: Option<String>,
}

/// How a windowed threshold reads its windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantifier {
    /// `in every W`: the condition holds in each window (judged on the worst one).
    Every,
    /// `in some W`: the condition holds in at least one window (judged on the best one).
    Some,
}

impl fmt::Display for Quantifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Quantifier::Every => "every",
            Quantifier::Some => "some",
        })
    }
}

/// Which window of a stream decides a windowed threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extreme {
    /// The window with the highest value.
    Highest,
    /// The window with the lowest value.
    Lowest,
}

impl Threshold {
    /// The window that decides this threshold: in every window `< v` holds when the highest is
    /// under v; in some window `< v` holds when the lowest is. `None` without a window.
    pub fn deciding_window(&self) -> Option<Extreme> {
        self.window?;
        let upper = self.op.is_upper_bound();
        Some(match (self.quantifier, upper) {
            (Quantifier::Every, true) | (Quantifier::Some, false) => Extreme::Highest,
            (Quantifier::Every, false) | (Quantifier::Some, true) => Extreme::Lowest,
        })
    }

    /// The expectation as the report prints it: `< 1% in every 15s`.
    pub fn expected_text(&self) -> String {
        match self.window {
            Some(w) => format!(
                "{} {} in {} {w}",
                self.op,
                self.metric.format(self.value),
                self.quantifier
            ),
            None => format!("{} {}", self.op, self.metric.format(self.value)),
        }
    }
}

/// Why a threshold's text could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ThresholdError {
    pub message: String,
    pub expected: String,
    pub found: String,
    pub suggestion: Option<String>,
}

const FORM: &str =
    "`METRIC OP VALUE[ in every|some WINDOW]`, like `loss < 1% in every 15s` or `loss > 5% in some 15s`";

impl FromStr for Threshold {
    type Err = ThresholdError;

    fn from_str(text: &str) -> Result<Threshold, ThresholdError> {
        let bad = |message: String, expected: String, found: &str| ThresholdError {
            message,
            expected,
            found: format!("`{found}`"),
            suggestion: None,
        };
        let Some(op_at) = text.find(['<', '>']) else {
            return Err(bad(
                "a threshold needs a comparison (<, <=, >, >=)".into(),
                FORM.into(),
                text,
            ));
        };
        let (name, rest) = text.split_at(op_at);
        let (op, rest) = if let Some(r) = rest.strip_prefix("<=") {
            (Cmp::Le, r)
        } else if let Some(r) = rest.strip_prefix(">=") {
            (Cmp::Ge, r)
        } else if let Some(r) = rest.strip_prefix('<') {
            (Cmp::Lt, r)
        } else {
            (Cmp::Gt, &rest[1..])
        };
        let metric = Metric::from_name(name).ok_or_else(|| ThresholdError {
            message: format!("unknown metric `{}`", name.trim()),
            expected: format!(
                "one of {}",
                Metric::all()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            found: format!("`{}`", name.trim()),
            suggestion: nearest(&normalize(name), Metric::names()),
        })?;
        let rest = rest.trim();
        let (value_text, window_text) = match rest.find(" in ") {
            Some(i) => (rest[..i].trim(), Some(rest[i + 4..].trim())),
            None => (rest, None),
        };
        let (window, quantifier) = match window_text {
            None => (None, Quantifier::Every),
            Some(w) => {
                let (quantifier, w) = if let Some(w) = w.strip_prefix("every ") {
                    (Quantifier::Every, w)
                } else if let Some(w) = w.strip_prefix("some ") {
                    (Quantifier::Some, w)
                } else if let Some(w) = w.strip_prefix("any ") {
                    if !op.is_upper_bound() {
                        return Err(bad(
                            format!("`in any` is ambiguous with `{op}`: it could mean every window or at least one"),
                            format!("`{} {op} {value_text} in every {w}` (each window) or `... in some {w}` (at least one window)", name.trim()),
                            text,
                        ));
                    }
                    (Quantifier::Every, w)
                } else {
                    return Err(bad(
                        "a window is written `in every DURATION` or `in some DURATION`".into(),
                        "`in every 15s` (each 15 s window) or `in some 15s` (at least one)".into(),
                        &format!("in {w}"),
                    ));
                };
                if !metric.windowed() {
                    return Err(bad(
                        format!("`{metric}` is one number per stream and has no windows"),
                        format!("`{metric} {op} {value_text}`"),
                        text,
                    ));
                }
                let d: Dur = w.trim().parse().map_err(|e: crate::units::UnitError| {
                    bad(format!("bad window: {e}"), e.expected.to_string(), w.trim())
                })?;
                if d == Dur::ZERO {
                    return Err(bad(
                        "a window must be longer than zero".into(),
                        "a duration like `15s`".into(),
                        w,
                    ));
                }
                (Some(d), quantifier)
            }
        };
        let value = parse_value(metric, value_text)?;
        // Burst loss is the loss of the worst short window: `burst loss > 10%` asks whether
        // some 200 ms window lost more than 10 %, `burst loss < 10%` whether none did.
        let (window, quantifier) = match (metric, window) {
            (Metric::BurstLoss, None) if op.is_upper_bound() => {
                (Some(BURST_LOSS_WINDOW), Quantifier::Every)
            }
            (Metric::BurstLoss, None) => (Some(BURST_LOSS_WINDOW), Quantifier::Some),
            (_, w) => (w, quantifier),
        };
        let t = Threshold {
            metric,
            op,
            value,
            window,
            quantifier,
            text: text.trim().to_string(),
            set: None,
        };
        if let Some(extreme) = t.deciding_window() {
            if !metric.window_extremes().contains(&extreme) {
                let has = match metric.window_extremes() {
                    [Extreme::Highest] => {
                        "its highest window (for `< X in every W`, `> X in some W`)"
                    }
                    _ => "its lowest window (for `> X in every W`, `< X in some W`)",
                };
                return Err(bad(
                    format!("`{metric}` windows are measured only as {has}"),
                    format!("a `{metric}` threshold judged on {has}"),
                    text,
                ));
            }
        }
        Ok(t)
    }
}

fn parse_value(metric: Metric, text: &str) -> Result<f64, ThresholdError> {
    let unit_err = |e: crate::units::UnitError, what: &str| ThresholdError {
        message: format!("bad value for `{metric}`: {what}"),
        expected: e.expected.to_string(),
        found: format!("`{text}`"),
        suggestion: None,
    };
    // Levels are negative (dBov); every other limit is zero or more.
    if metric.unit() != Unit::Dbov && text.starts_with('-') {
        return Err(ThresholdError {
            message: format!("a limit on `{metric}` cannot be negative"),
            expected: "a value of zero or more".into(),
            found: format!("`{text}`"),
            suggestion: None,
        });
    }
    match metric.unit() {
        Unit::Percent
            if text
                .strip_suffix('%')
                .and_then(|n| n.trim().parse::<f64>().ok())
                .is_some_and(|v| v > 100.0) =>
        {
            Err(ThresholdError {
                message: format!("bad value for `{metric}`: a percentage cannot be over 100%"),
                expected: "a percentage from 0% to 100%".into(),
                found: format!("`{text}`"),
                suggestion: None,
            })
        }
        Unit::Percent => text
            .parse::<Percent>()
            .map(Percent::percent)
            .map_err(|e| unit_err(e, "expected a percentage (0% to 100%)")),
        Unit::Millis => text
            .parse::<Dur>()
            .map(Dur::as_millis_f64)
            .map_err(|e| unit_err(e, "expected a duration")),
        Unit::KbitPerSec => text
            .parse::<Rate>()
            .map(|r| r.bits_per_sec() as f64 / 1000.0)
            .map_err(|e| unit_err(e, "expected a bit rate")),
        Unit::Number => {
            let v: f64 = text.parse().map_err(|_| ThresholdError {
                message: format!("bad value for `{metric}`: expected a plain number"),
                expected: "a number like 3.5".into(),
                found: format!("`{text}`"),
                suggestion: None,
            })?;
            // MOS tops at 5 (4.5 for its degradation); counts and frame rates are bounded only
            // by what a run can reach (a day of frames at 60 fps).
            let max = match metric {
                Metric::Mos => 5.0,
                Metric::MosDegradation => 4.5,
                Metric::Fps => 60.0,
                Metric::Height => 4320.0,
                _ => 1e7,
            };
            if !(0.0..=max).contains(&v) {
                return Err(ThresholdError {
                    message: format!("`{metric}` is between 0 and {max}"),
                    expected: format!("a number from 0 to {max}"),
                    found: format!("`{text}`"),
                    suggestion: None,
                });
            }
            Ok(v)
        }
        Unit::Dbov => parse_dbov(metric, text),
    }
}

/// A level written `-60dBov` (the unit may be left out): from -120 dBov (the floor, digital
/// silence) to 0 dBov (full scale).
fn parse_dbov(metric: Metric, text: &str) -> Result<f64, ThresholdError> {
    let bad = |message: String| ThresholdError {
        message,
        expected:
            "a level in dBov from -120dBov (digital silence) to 0dBov (full scale), like `-60dBov`"
                .into(),
        found: format!("`{text}`"),
        suggestion: None,
    };
    let lower = text.trim().to_ascii_lowercase();
    let number = lower.strip_suffix("dbov").unwrap_or(&lower).trim();
    let v: f64 = number.parse().map_err(|_| {
        bad(format!(
            "bad value for `{metric}`: expected a level in dBov"
        ))
    })?;
    if !(-120.0..=0.0).contains(&v) {
        return Err(bad(format!("`{metric}` is between -120dBov and 0dBov")));
    }
    Ok(v)
}

/// The named threshold sets, by name, as written (metrics.md, section 4).
const NAMED_SETS: &[(&str, &str, &[&str])] = &[
    (
        "teams-client-edge",
        "Microsoft Teams network requirements, client to the service edge",
        &[
            "one-way delay < 50ms",
            "rtt < 100ms",
            "loss < 1% in every 15s",
            "burst loss < 10% in every 200ms",
            "jitter < 30ms in every 15s",
            "reordered < 0.05%",
        ],
    ),
    (
        "teams-customer-edge",
        "Microsoft Teams network requirements, customer edge to the service edge",
        &[
            "one-way delay < 30ms",
            "rtt < 60ms",
            "loss < 0.1% in every 15s",
            "burst loss < 1% in every 200ms",
            "jitter < 15ms in every 15s",
            "reordered < 0.01%",
        ],
    ),
    (
        "cqd-poor-audio",
        "Call Quality Dashboard: a stream passes when none of the poor-audio conditions holds",
        &[
            "mos degradation <= 1.0",
            "rtt <= 500ms",
            "loss <= 10%",
            "jitter <= 30ms",
            "concealed <= 7%",
        ],
    ),
];

/// Names of the built-in threshold sets.
pub fn named_set_names() -> impl Iterator<Item = &'static str> {
    NAMED_SETS.iter().map(|s| s.0)
}

/// A built-in threshold set by name, each threshold marked with the set's name.
pub fn named_set(name: &str) -> Option<Vec<Threshold>> {
    let set = NAMED_SETS.iter().find(|s| s.0 == name)?;
    Some(
        set.2
            .iter()
            .filter_map(|t| t.parse::<Threshold>().ok())
            .map(|mut t| {
                t.set = Some(name.to_string());
                t
            })
            .collect(),
    )
}

/// One-line description of a built-in set.
pub fn named_set_description(name: &str) -> Option<&'static str> {
    NAMED_SETS.iter().find(|s| s.0 == name).map(|s| s.1)
}

#[cfg(test)]
#[path = "threshold_tests.rs"]
mod tests;
