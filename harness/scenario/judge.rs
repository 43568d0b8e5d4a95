//! Judging a measured stream by thresholds: each threshold becomes an [`Expectation`] saying
//! what was expected, what was observed (for a windowed threshold: which window, and when it
//! started), and whether it was met.
//!
//! ```
//! use callharness::scenario::{judge_thresholds, Extreme, Metric, StreamView, Threshold, WindowFigure};
//! struct Stream;
//! impl StreamView for Stream {
//!     fn value(&self, _: Metric) -> Option<f64> { Some(0.8) }
//!     fn window(&self, _: Metric, _: u64, e: Extreme) -> Option<WindowFigure> {
//!         // The least lossy 15 s window lost 0.2 %, the most lossy 10.1 %, from 20 s on.
//!         Some(match e {
//!             Extreme::Lowest => WindowFigure { value: 0.2, start_ns: Some(3_000_000_000) },
//!             Extreme::Highest => WindowFigure { value: 10.1, start_ns: Some(20_000_000_000) },
//!         })
//!     }
//!     fn label(&self) -> String { "alice->bob audio".into() }
//! }
//! let t: Threshold = "loss > 5% in some 15s".parse().unwrap();
//! let e = &judge_thresholds(&[t], &Stream)[0];
//! assert!(e.met);
//! assert_eq!(e.observed, "10.1% (the highest 15s window, from 20.0 s)");
//! ```

use super::threshold::{Extreme, Metric, Threshold};
use crate::report::model::Expectation;

/// One window's value of a metric, and where the window starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowFigure {
    /// The metric over the window, in its base unit.
    pub value: f64,
    /// When the window starts (send time of its first packet, or its first second), ns from
    /// the start of the scenario; `None` when the measurement does not keep it.
    pub start_ns: Option<u64>,
}

/// What the judge needs from one measured stream; the simulation implements it.
///
/// Values are in the metric's base unit ([`Metric::unit`]): percent (not fractions) for loss,
/// concealment, late and reordered; ms for times; kbit/s for bit rates.
pub trait StreamView {
    /// The metric over the whole stream; `None` when it was not measured.
    fn value(&self, m: Metric) -> Option<f64>;
    /// The highest or lowest value of the metric over the windows of `window_ns` nanoseconds,
    /// with where that window starts; `None` when not measured. For burst loss the judge asks
    /// for [`Metric::Loss`] (see [`Metric::window_source`]).
    fn window(&self, m: Metric, window_ns: u64, which: Extreme) -> Option<WindowFigure>;
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
            let observed = match (t.window, t.deciding_window()) {
                (Some(w), Some(which)) => {
                    view.window(t.metric.window_source(), w.as_nanos(), which)
                }
                _ => view.value(t.metric).map(|value| WindowFigure {
                    value,
                    start_ns: None,
                }),
            };
            let set = t
                .set
                .as_ref()
                .map(|s| format!("[{s}] "))
                .unwrap_or_default();
            let (observed, met) = match observed {
                Some(f) if f.value.is_finite() => (
                    format!("{}{}", t.metric.format(f.value), which_window(t, f)),
                    t.op.holds(f.value, t.value),
                ),
                _ => ("not measured".to_string(), false),
            };
            Expectation {
                what: format!("{label}: {set}{}", t.text),
                expected: t.expected_text(),
                observed,
                met,
            }
        })
        .collect()
}

/// ` (the highest 15s window, from 20.0 s)`: which window a windowed figure comes from.
fn which_window(t: &Threshold, f: WindowFigure) -> String {
    let (Some(w), Some(which)) = (t.window, t.deciding_window()) else {
        return String::new();
    };
    let which = match which {
        Extreme::Highest => "highest",
        Extreme::Lowest => "lowest",
    };
    let from = f
        .start_ns
        .map(|ns| format!(", from {:.1} s", ns as f64 / 1e9))
        .unwrap_or_default();
    format!(" (the {which} {w} window{from})")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::named_set;
    use std::collections::BTreeMap;

    fn t(s: &str) -> Threshold {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    struct FakeStream {
        values: BTreeMap<Metric, f64>,
        /// (metric, window ns) -> (lowest, highest), both from 5 s.
        windows: BTreeMap<(Metric, u64), (f64, f64)>,
    }

    impl StreamView for FakeStream {
        fn value(&self, m: Metric) -> Option<f64> {
            self.values.get(&m).copied()
        }
        fn window(&self, m: Metric, window_ns: u64, which: Extreme) -> Option<WindowFigure> {
            let (lo, hi) = *self.windows.get(&(m, window_ns))?;
            Some(WindowFigure {
                value: if which == Extreme::Lowest { lo } else { hi },
                start_ns: Some(5_000_000_000),
            })
        }
        fn label(&self) -> String {
            "alice->bob audio".into()
        }
    }

    fn view() -> FakeStream {
        FakeStream {
            values: BTreeMap::from([
                (Metric::Loss, 0.4),
                (Metric::Jitter, 12.0),
                (Metric::Mos, 4.1),
            ]),
            windows: BTreeMap::from([((Metric::Loss, 15_000_000_000), (0.2, 2.5))]),
        }
    }

    #[test]
    fn judging_a_stream() {
        let view = view();
        let ths = [
            t("loss < 1%"),
            t("loss < 1% in any 15s"),
            t("jitter < 30ms"),
            t("mos > 3.6"),
            t("rtt < 100ms"),
            t("mos > 3.6 in every 10s"),
        ];
        let out = judge_thresholds(&ths, &view);
        let met: Vec<bool> = out.iter().map(|e| e.met).collect();
        assert_eq!(met, [true, false, true, true, false, false]);
        assert_eq!(out[0].what, "alice->bob audio: loss < 1%");
        assert_eq!(out[0].expected, "< 1%");
        assert_eq!(out[0].observed, "0.4%");
        assert_eq!(out[1].expected, "< 1% in every 15s");
        assert_eq!(out[1].observed, "2.5% (the highest 15s window, from 5.0 s)");
        assert_eq!(out[4].observed, "not measured");
        assert_eq!(out[5].observed, "not measured");
        let set = judge_thresholds(&named_set("cqd-poor-audio").expect("set"), &view);
        assert!(set[0]
            .what
            .starts_with("alice->bob audio: [cqd-poor-audio] "));
    }

    /// The two readings of a windowed symptom: over 1 % in some window (the most lossy one
    /// decides, 2.5 %: met) and over 1 % in every window (the least lossy one decides, 0.2 %:
    /// not met), each saying which window its figure is.
    #[test]
    fn every_and_some_are_judged_on_their_own_windows() {
        let out = judge_thresholds(
            &[
                t("loss > 1% in some 15s"),
                t("loss > 1% in every 15s"),
                t("loss < 1% in some 15s"),
                t("loss < 1% in every 15s"),
            ],
            &view(),
        );
        let got: Vec<(&str, bool)> = out.iter().map(|e| (e.observed.as_str(), e.met)).collect();
        assert_eq!(
            got,
            [
                ("2.5% (the highest 15s window, from 5.0 s)", true),
                ("0.2% (the lowest 15s window, from 5.0 s)", false),
                ("0.2% (the lowest 15s window, from 5.0 s)", true),
                ("2.5% (the highest 15s window, from 5.0 s)", false),
            ]
        );
        assert_eq!(out[0].expected, "> 1% in some 15s");
    }
}
