//! The delay detector: a trendline over the groups' delay variations, compared with an adaptive
//! threshold (GCC draft sections 5.3-5.4, with the trendline filter libwebrtc uses in place of
//! the draft's Kalman filter: `TrendlineEstimator`).
//!
//! Each variation `d` (ms) is added to an accumulated delay, which is smoothed exponentially
//! ([`SMOOTHING`]). The last [`WINDOW`] smoothed values, against their arrival times (ms since
//! the first group), are fitted with a least-squares line; its slope is the delay's trend (ms of
//! queueing gained per ms). The trend compared is `slope × min(groups seen, MAX_DELTAS) × GAIN`,
//! the scale libwebrtc uses, so it reads as ms and starts small while few groups are known. Above
//! the threshold for [`OVERUSE_TIME_MS`] and two samples, with the slope not falling, the link is
//! overused; below minus the threshold, underused; otherwise normal. The threshold follows the
//! trend's magnitude ([`AdaptiveThreshold`]) so that a path whose delay jitters on its own (Wi-Fi)
//! does not read as overuse, while a growing queue still does.

use super::groups::DelayVariation;
use super::Usage;
use std::collections::VecDeque;

/// Groups in the regression. libwebrtc's `kDefaultTrendlineWindowSize` (20).
pub const WINDOW: usize = 20;

/// Weight of the previous smoothed delay in the exponential smoothing of the accumulated delay.
/// libwebrtc's `kDefaultTrendlineSmoothingCoeff` (0.9).
pub const SMOOTHING: f64 = 0.9;

/// Gain on the slope before it is compared with the threshold. libwebrtc's
/// `kDefaultTrendlineThresholdGain` (4).
pub const GAIN: f64 = 4.0;

/// Most groups counted in the trend's scale factor. libwebrtc's `kMinNumDeltas` (60).
pub const MAX_DELTAS: u32 = 60;

/// How long the trend must stay above the threshold before the link counts as overused, ms
/// (measured in departure time). GCC draft section 5.4 (`overuse_time_th`, 10 ms); libwebrtc's
/// `kOverUsingTimeThreshold` (10 ms).
pub const OVERUSE_TIME_MS: f64 = 10.0;

/// The threshold's starting value, ms. GCC draft section 5.4 (`del_var_th` starts at 12.5 ms);
/// libwebrtc's initial `threshold_`.
pub const THRESHOLD_START_MS: f64 = 12.5;

/// Rate at which the threshold rises towards a trend above it, per ms. libwebrtc's `k_up_`
/// (0.0087; the draft's `K_u` is 0.01 for its own filter).
pub const K_UP: f64 = 0.0087;

/// Rate at which the threshold falls towards a trend below it, per ms. libwebrtc's `k_down_`
/// (0.039; the draft's `K_d`, 0.00018, belongs to its Kalman filter's scale).
pub const K_DOWN: f64 = 0.039;

/// Bounds on the threshold, ms. GCC draft section 5.4 (clamped to [6, 600] ms); libwebrtc the same.
pub const THRESHOLD_MIN_MS: f64 = 6.0;
/// See [`THRESHOLD_MIN_MS`].
pub const THRESHOLD_MAX_MS: f64 = 600.0;

/// A trend further than this beyond the threshold leaves it unchanged (a spike, e.g. a route
/// change, should not teach the threshold), ms. GCC draft section 5.4 (15 ms); libwebrtc's
/// `kMaxAdaptOffsetMs`.
pub const MAX_ADAPT_OFFSET_MS: f64 = 15.0;

/// The longest time step one adaptation takes, ms, so that a gap in feedback does not move the
/// threshold all at once. libwebrtc's `kMaxTimeDeltaMs` (100 ms).
pub const MAX_ADAPT_STEP_MS: f64 = 100.0;

/// The threshold the trend is compared with, adapted to the trends seen.
#[derive(Debug, Clone)]
pub struct AdaptiveThreshold {
    value_ms: f64,
    /// Arrival time of the last update (receiver clock), ns.
    last_update: Option<u64>,
}

impl Default for AdaptiveThreshold {
    fn default() -> Self {
        AdaptiveThreshold {
            value_ms: THRESHOLD_START_MS,
            last_update: None,
        }
    }
}

impl AdaptiveThreshold {
    /// The threshold now, ms.
    pub fn value_ms(&self) -> f64 {
        self.value_ms
    }

    /// Moves the threshold towards `|trend|` (ms) by `k × (|trend| - threshold) × Δt` with
    /// `k` [`K_UP`] or [`K_DOWN`] and `Δt` the ms since the last update (at most
    /// [`MAX_ADAPT_STEP_MS`]); leaves it when `|trend|` is more than [`MAX_ADAPT_OFFSET_MS`]
    /// above it. `at` is the sample's arrival time, receiver clock, ns.
    pub fn update(&mut self, trend_ms: f64, at: u64) {
        let last = self.last_update.replace(at).unwrap_or(at);
        let magnitude = trend_ms.abs();
        if magnitude > self.value_ms + MAX_ADAPT_OFFSET_MS {
            return;
        }
        let k = if magnitude < self.value_ms {
            K_DOWN
        } else {
            K_UP
        };
        let dt_ms = (at.saturating_sub(last) as f64 / 1e6).min(MAX_ADAPT_STEP_MS);
        self.value_ms += k * (magnitude - self.value_ms) * dt_ms;
        self.value_ms = self.value_ms.clamp(THRESHOLD_MIN_MS, THRESHOLD_MAX_MS);
    }
}

/// The trendline filter and the overuse detector after it.
#[derive(Debug, Clone, Default)]
pub struct DelayDetector {
    /// Variations seen (counted up to [`MAX_DELTAS`], all the scale needs).
    deltas: u32,
    /// The first group's arrival, receiver clock, ns: the regression's time origin.
    first_arrival: Option<u64>,
    accumulated_ms: f64,
    smoothed_ms: f64,
    /// (arrival ms since the first group, smoothed accumulated delay ms), the last [`WINDOW`].
    history: VecDeque<(f64, f64)>,
    /// The last fitted slope (kept while the window fills or when a fit is degenerate).
    slope: f64,
    /// The trend last compared (slope scaled), ms.
    trend_ms: f64,
    threshold: AdaptiveThreshold,
    /// Departure time spent above the threshold so far, ms (None: not above it).
    over_ms: Option<f64>,
    /// Consecutive samples above the threshold.
    over_samples: u32,
    usage: Usage,
}

impl DelayDetector {
    /// Takes one group's delay variation and updates the trend, the threshold and the usage.
    pub fn on_variation(&mut self, v: &DelayVariation) {
        self.deltas = (self.deltas + 1).min(MAX_DELTAS);
        let first = *self.first_arrival.get_or_insert(v.arrival);
        self.accumulated_ms += v.d_ms();
        self.smoothed_ms = SMOOTHING * self.smoothed_ms + (1.0 - SMOOTHING) * self.accumulated_ms;
        let x = v.arrival.saturating_sub(first) as f64 / 1e6;
        self.history.push_back((x, self.smoothed_ms));
        if self.history.len() > WINDOW {
            self.history.pop_front();
        }
        let previous_slope = self.slope;
        if self.history.len() == WINDOW {
            if let Some(s) = fit_slope(&self.history) {
                self.slope = s;
            }
        }
        self.detect(previous_slope, v.departure_delta_ms, v.arrival);
    }

    /// Compares the scaled trend with the threshold (see the module docs), then adapts it.
    fn detect(&mut self, previous_slope: f64, departure_delta_ms: f64, at: u64) {
        if self.deltas < 2 {
            self.usage = Usage::Normal;
            return;
        }
        self.trend_ms = self.slope * f64::from(self.deltas) * GAIN;
        let threshold = self.threshold.value_ms();
        if self.trend_ms > threshold {
            let over = match self.over_ms {
                None => departure_delta_ms / 2.0,
                Some(t) => t + departure_delta_ms,
            };
            self.over_ms = Some(over);
            self.over_samples += 1;
            if over >= OVERUSE_TIME_MS && self.over_samples > 1 && self.slope >= previous_slope {
                self.over_ms = Some(0.0);
                self.over_samples = 0;
                self.usage = Usage::Overusing;
            }
        } else {
            self.over_ms = None;
            self.over_samples = 0;
            self.usage = if self.trend_ms < -threshold {
                Usage::Underusing
            } else {
                Usage::Normal
            };
        }
        self.threshold.update(self.trend_ms, at);
    }

    /// What the detector last concluded.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// The scaled trend last compared, ms.
    pub fn trend_ms(&self) -> f64 {
        self.trend_ms
    }

    /// The threshold now, ms.
    pub fn threshold_ms(&self) -> f64 {
        self.threshold.value_ms()
    }
}

/// The least-squares slope of `y` against `x`; None when all `x` are equal.
fn fit_slope(points: &VecDeque<(f64, f64)>) -> Option<f64> {
    let n = points.len() as f64;
    let x_mean = points.iter().map(|p| p.0).sum::<f64>() / n;
    let y_mean = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for &(x, y) in points {
        num += (x - x_mean) * (y - y_mean);
        den += (x - x_mean) * (x - x_mean);
    }
    (den > 0.0).then(|| num / den)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::bwe::groups::DelayVariation;

    const MS: u64 = 1_000_000;

    #[test]
    fn the_threshold_adapts_by_hand_computed_steps() {
        let mut t = AdaptiveThreshold::default();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        // First sample: no time has passed, no change.
        t.update(20.0, 1_000 * MS);
        assert!(close(t.value_ms(), 12.5));
        // 50 ms later, trend 20 above 12.5: 12.5 + 0.0087 × 7.5 × 50 = 15.7625.
        t.update(20.0, 1_050 * MS);
        assert!(close(t.value_ms(), 15.7625), "{}", t.value_ms());
        // A negative trend counts by its magnitude: 15.7625 + 0.039 × (14 - 15.7625) × 10.
        t.update(-14.0, 1_060 * MS);
        assert!(close(t.value_ms(), 15.7625 - 0.039 * 1.7625 * 10.0));
        // 50 ms later, trend 5: 15.07 + 0.039 × (5 - 15.07) × 50 < 6: clamped to 6.
        t.update(5.0, 1_110 * MS);
        assert!(close(t.value_ms(), 6.0));
        // 40 is more than 15 beyond 6: no change.
        t.update(40.0, 1_400 * MS);
        assert!(close(t.value_ms(), 6.0));
        // 300 ms later, but the step is capped at 100 ms: 6 + 0.0087 × 4 × 100 = 9.48.
        t.update(10.0, 1_700 * MS);
        assert!(close(t.value_ms(), 9.48), "{}", t.value_ms());
    }

    /// Variations of `d` ms between groups 20 ms apart, `n` of them.
    fn feed(det: &mut DelayDetector, n: u64, d: f64, start: u64) {
        for k in 0..n {
            det.on_variation(&DelayVariation {
                departure_delta_ms: 20.0,
                arrival_delta_ms: 20.0 + d,
                arrival: start + k * 20 * MS,
            });
        }
    }

    #[test]
    fn a_growing_queue_is_overuse_a_steady_path_is_not() {
        let mut det = DelayDetector::default();
        feed(&mut det, 100, 0.0, 0);
        assert_eq!(det.usage(), Usage::Normal);
        assert_eq!(det.trend_ms(), 0.0);
        // 2 ms more queueing per 20 ms group: slope 0.1, × 60 × 4 = 24 ms once the smoothing
        // has caught up, well above 12.5.
        feed(&mut det, 40, 2.0, 2_000 * MS);
        assert_eq!(det.usage(), Usage::Overusing);
        // The queue drains as fast: underuse.
        feed(&mut det, 40, -2.0, 2_800 * MS);
        assert_eq!(det.usage(), Usage::Underusing);
    }
}
