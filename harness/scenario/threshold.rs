//! Thresholds on stream metrics, written as text, and how a measured stream is judged by them.
//!
//! A threshold reads `METRIC OP VALUE[ in any WINDOW]`:
//!
//! ```
//! use callharness::scenario::{Threshold, Metric, Cmp};
//! let t: Threshold = "loss < 1% in any 15s".parse().unwrap();
//! assert_eq!((t.metric, t.op, t.value), (Metric::Loss, Cmp::Lt, 1.0));
//! assert_eq!(t.window.map(|w| w.as_nanos()), Some(15_000_000_000));
//! ```
//!
//! Values carry their unit and are stored in the metric's base unit: percent for ratios, ms for
//! times, kbit/s for bit rates, plain numbers for MOS. A window asks for the worst window of that
//! length: the highest value for `<`/`<=`, the lowest for `>`/`>=`.
//!
//! Named sets ship Microsoft's published numbers (`../shared/reference/metrics.md`, section 4):
//! `teams-client-edge`, `teams-customer-edge` and `cqd-poor-audio`. The Call Quality Dashboard
//! set describes a *poor* stream; as thresholds a stream passes when none of the poor
//! conditions holds, so each condition `X > v` becomes `X <= v`.

use super::de::nearest;
use crate::report::model::Expectation;
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
];

/// Default window of `burst loss` when none is written.
pub const BURST_LOSS_WINDOW: Dur = Dur::from_millis(200);

impl Metric {
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

    /// Whether `in any WINDOW` makes sense for it (a per-call number like setup time has none).
    pub fn windowed(self) -> bool {
        self.entry().3
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
    /// Judge the worst window of this length instead of the whole stream.
    pub window: Option<Dur>,
    /// The threshold as written.
    pub text: String,
    /// The named set it came from, if any.
    pub set: Option<String>,
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

const FORM: &str = "`METRIC OP VALUE[ in any WINDOW]`, like `loss < 1% in any 15s`";

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
        let window = match window_text {
            None => None,
            Some(w) => {
                let Some(w) = w.strip_prefix("any ") else {
                    return Err(bad(
                        "a window is written `in any DURATION`".into(),
                        "`in any 15s`".into(),
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
                Some(d)
            }
        };
        let value = parse_value(metric, value_text)?;
        let window = match (metric, window) {
            (Metric::BurstLoss, None) => Some(BURST_LOSS_WINDOW),
            (_, w) => w,
        };
        Ok(Threshold {
            metric,
            op,
            value,
            window,
            text: text.trim().to_string(),
            set: None,
        })
    }
}

fn parse_value(metric: Metric, text: &str) -> Result<f64, ThresholdError> {
    let unit_err = |e: crate::units::UnitError, what: &str| ThresholdError {
        message: format!("bad value for `{metric}`: {what}"),
        expected: e.expected.to_string(),
        found: format!("`{text}`"),
        suggestion: None,
    };
    if text.starts_with('-') {
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
            let max = if metric == Metric::Mos { 5.0 } else { 4.5 };
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
    }
}

/// The named threshold sets, by name, as written (metrics.md, section 4).
const NAMED_SETS: &[(&str, &str, &[&str])] = &[
    (
        "teams-client-edge",
        "Microsoft Teams network requirements, client to the service edge",
        &[
            "one-way delay < 50ms",
            "rtt < 100ms",
            "loss < 1% in any 15s",
            "burst loss < 10% in any 200ms",
            "jitter < 30ms in any 15s",
            "reordered < 0.05%",
        ],
    ),
    (
        "teams-customer-edge",
        "Microsoft Teams network requirements, customer edge to the service edge",
        &[
            "one-way delay < 30ms",
            "rtt < 60ms",
            "loss < 0.1% in any 15s",
            "burst loss < 1% in any 200ms",
            "jitter < 15ms in any 15s",
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

/// What the judge needs from one measured stream; the simulation implements it.
///
/// Values are in the metric's base unit ([`Metric::unit`]): percent (not fractions) for loss,
/// concealment, late and reordered; ms for times; kbit/s for bit rates.
pub trait StreamView {
    /// The metric over the whole stream; `None` when it was not measured.
    fn value(&self, m: Metric) -> Option<f64>;
    /// The highest value of the metric over any window of `window_ns` nanoseconds.
    /// For burst loss the judge asks for [`Metric::Loss`] (see [`Metric::window_source`]).
    fn windowed_max(&self, m: Metric, window_ns: u64) -> Option<f64>;
    /// The lowest value over any window (asked for `>` thresholds such as `mos > 3.5 in any
    /// 10s`); `None` by default, which judges such a threshold "not measured".
    fn windowed_min(&self, _m: Metric, _window_ns: u64) -> Option<f64> {
        None
    }
    /// The stream's name in reports, like `alice->bob audio`.
    fn label(&self) -> String;
}

/// Judges each threshold on one stream. A metric the view cannot give is an unmet expectation
/// saying "not measured", never a silent pass.
pub fn judge_thresholds(thresholds: &[Threshold], view: &dyn StreamView) -> Vec<Expectation> {
    let label = view.label();
    thresholds
        .iter()
        .map(|t| {
            let observed = match t.window {
                None => view.value(t.metric),
                Some(w) if t.op.is_upper_bound() => {
                    view.windowed_max(t.metric.window_source(), w.as_nanos())
                }
                Some(w) => view.windowed_min(t.metric.window_source(), w.as_nanos()),
            };
            let set = t
                .set
                .as_ref()
                .map(|s| format!("[{s}] "))
                .unwrap_or_default();
            let expected = match t.window {
                Some(w) => format!("{} {} in any {w}", t.op, t.metric.format(t.value)),
                None => format!("{} {}", t.op, t.metric.format(t.value)),
            };
            let (observed, met) = match observed {
                Some(v) if v.is_finite() => {
                    let worst = match t.window {
                        Some(w) => format!(" (worst {w} window)"),
                        None => String::new(),
                    };
                    (
                        format!("{}{worst}", t.metric.format(v)),
                        t.op.holds(v, t.value),
                    )
                }
                _ => ("not measured".to_string(), false),
            };
            Expectation {
                what: format!("{label}: {set}{}", t.text),
                expected,
                observed,
                met,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn t(s: &str) -> Threshold {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn every_form_parses() {
        let cases: &[(&str, Metric, Cmp, f64, Option<u64>)] = &[
            ("loss < 1%", Metric::Loss, Cmp::Lt, 1.0, None),
            (
                "loss < 1% in any 15s",
                Metric::Loss,
                Cmp::Lt,
                1.0,
                Some(15_000),
            ),
            (
                "burst loss < 10% in any 200ms",
                Metric::BurstLoss,
                Cmp::Lt,
                10.0,
                Some(200),
            ),
            (
                "burst loss < 10%",
                Metric::BurstLoss,
                Cmp::Lt,
                10.0,
                Some(200),
            ),
            ("jitter < 30ms", Metric::Jitter, Cmp::Lt, 30.0, None),
            (
                "jitter <= 30ms in any 15s",
                Metric::Jitter,
                Cmp::Le,
                30.0,
                Some(15_000),
            ),
            ("jitter p95 < 40ms", Metric::JitterP95, Cmp::Lt, 40.0, None),
            ("rtt < 100ms", Metric::Rtt, Cmp::Lt, 100.0, None),
            (
                "one-way delay < 50ms",
                Metric::OneWayDelay,
                Cmp::Lt,
                50.0,
                None,
            ),
            ("mos > 3.6", Metric::Mos, Cmp::Gt, 3.6, None),
            (
                "mos >= 3.5 in any 10s",
                Metric::Mos,
                Cmp::Ge,
                3.5,
                Some(10_000),
            ),
            (
                "mos degradation <= 1.0",
                Metric::MosDegradation,
                Cmp::Le,
                1.0,
                None,
            ),
            ("setup < 2s", Metric::Setup, Cmp::Lt, 2000.0, None),
            (
                "first audio < 3s",
                Metric::FirstAudio,
                Cmp::Lt,
                3000.0,
                None,
            ),
            ("concealed < 7%", Metric::ConcealedRatio, Cmp::Lt, 7.0, None),
            ("max gap < 300ms", Metric::MaxGap, Cmp::Lt, 300.0, None),
            ("late < 1%", Metric::Late, Cmp::Lt, 1.0, None),
            ("reordered < 0.05%", Metric::Reordered, Cmp::Lt, 0.05, None),
            ("bitrate > 20kbit", Metric::Bitrate, Cmp::Gt, 20.0, None),
            ("  Packet   Loss<0.5%  ", Metric::Loss, Cmp::Lt, 0.5, None),
        ];
        for (text, m, op, v, w) in cases {
            let th = t(text);
            assert_eq!((th.metric, th.op, th.value), (*m, *op, *v), "{text}");
            assert_eq!(th.window.map(|d| d.as_nanos() / 1_000_000), *w, "{text}");
            assert_eq!(th.text, text.trim());
        }
    }

    #[test]
    fn bad_thresholds_say_why() {
        let e = "jiter < 30ms".parse::<Threshold>().unwrap_err();
        assert_eq!(e.suggestion.as_deref(), Some("jitter"));
        let e = "loss < 140%".parse::<Threshold>().unwrap_err();
        assert!(e.expected.contains("0% to 100%"), "{e:?}");
        let e = "jitter < 30".parse::<Threshold>().unwrap_err();
        assert!(e.message.contains("expected a duration"), "{e:?}");
        let e = "setup < 2s in any 15s".parse::<Threshold>().unwrap_err();
        assert!(e.message.contains("no windows"));
        let e = "loss 1%".parse::<Threshold>().unwrap_err();
        assert!(e.message.contains("comparison"));
        let e = "rtt < -5ms".parse::<Threshold>().unwrap_err();
        assert!(e.message.contains("negative"));
        let e = "loss < 1% in 15s".parse::<Threshold>().unwrap_err();
        assert!(e.message.contains("in any"));
        let e = "mos > 7".parse::<Threshold>().unwrap_err();
        assert!(e.message.contains("between 0 and 5"));
    }

    #[test]
    fn named_sets_match_metrics_md() {
        let client = named_set("teams-client-edge").expect("set");
        assert_eq!(client.len(), 6);
        assert!(client
            .iter()
            .all(|t| t.set.as_deref() == Some("teams-client-edge")));
        let loss = client
            .iter()
            .find(|t| t.metric == Metric::Loss)
            .expect("loss");
        assert_eq!((loss.value, loss.window), (1.0, Some(Dur::from_secs(15))));
        let burst = client
            .iter()
            .find(|t| t.metric == Metric::BurstLoss)
            .expect("burst");
        assert_eq!(
            (burst.value, burst.window),
            (10.0, Some(Dur::from_millis(200)))
        );
        assert_eq!(named_set("teams-customer-edge").expect("set").len(), 6);
        let cqd = named_set("cqd-poor-audio").expect("set");
        assert_eq!(cqd.len(), 5);
        assert!(cqd.iter().all(|t| t.op == Cmp::Le));
        assert!(named_set("nope").is_none());
    }

    struct FakeStream {
        values: BTreeMap<Metric, f64>,
        windows: BTreeMap<(Metric, u64), f64>,
    }

    impl StreamView for FakeStream {
        fn value(&self, m: Metric) -> Option<f64> {
            self.values.get(&m).copied()
        }
        fn windowed_max(&self, m: Metric, window_ns: u64) -> Option<f64> {
            self.windows.get(&(m, window_ns)).copied()
        }
        fn label(&self) -> String {
            "alice->bob audio".into()
        }
    }

    #[test]
    fn judging_a_stream() {
        let view = FakeStream {
            values: BTreeMap::from([
                (Metric::Loss, 0.4),
                (Metric::Jitter, 12.0),
                (Metric::Mos, 4.1),
            ]),
            windows: BTreeMap::from([((Metric::Loss, 15_000_000_000), 2.5)]),
        };
        let ths = [
            t("loss < 1%"),
            t("loss < 1% in any 15s"),
            t("jitter < 30ms"),
            t("mos > 3.6"),
            t("rtt < 100ms"),
            t("mos > 3.6 in any 10s"),
        ];
        let out = judge_thresholds(&ths, &view);
        let met: Vec<bool> = out.iter().map(|e| e.met).collect();
        assert_eq!(met, [true, false, true, true, false, false]);
        assert_eq!(out[0].what, "alice->bob audio: loss < 1%");
        assert_eq!(out[0].expected, "< 1%");
        assert_eq!(out[0].observed, "0.4%");
        assert_eq!(out[1].expected, "< 1% in any 15s");
        assert_eq!(out[1].observed, "2.5% (worst 15s window)");
        assert_eq!(out[4].observed, "not measured");
        assert_eq!(out[5].observed, "not measured");
        let set = judge_thresholds(&named_set("cqd-poor-audio").expect("set"), &view);
        assert!(set[0]
            .what
            .starts_with("alice->bob audio: [cqd-poor-audio] "));
    }
}
