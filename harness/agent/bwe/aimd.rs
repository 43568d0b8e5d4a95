//! The delay-based rate: additive-increase, multiplicative-decrease driven by the delay
//! detector (GCC draft section 5.5; libwebrtc's `AimdRateControl` and `LinkCapacityEstimator`).
//!
//! Three states. *Increase* while the detector says normal: multiplicatively
//! ([`MULTIPLICATIVE_GAIN`] per second) while the link's capacity is unknown, additively (about
//! one [`ADDITIVE_PACKET_BITS`] packet per response time, RTT + [`RESPONSE_EXTRA`]) once a
//! decrease has given an estimate of it and the throughput is still within three deviations of
//! that estimate. *Decrease* on overuse: to [`BETA`] × the acknowledged throughput, so the queue
//! the sender built drains, at most once per RTT (see [`AimdRateControl::update`]); the
//! throughput at each decrease feeds the capacity estimate. *Hold* after a decrease and on
//! underuse (a queue is draining: sending faster now would refill it), until the detector says
//! normal again. Once the throughput is known an increase never takes the rate over
//! [`THROUGHPUT_GAIN`] × it + [`THROUGHPUT_HEADROOM_BPS`], so an estimate cannot run away from
//! what the link is seen to carry; a rate already over it is not pulled down (libwebrtc's
//! rule: a sender that sends less than its estimate is not a congested one).

use super::Usage;

/// Rate increase per second while the capacity is unknown (×1.08 per s, compounded over the time
/// since the last change, at most one second of it at once). GCC draft section 5.5 (`eta` 1.08)
/// and libwebrtc's `MultiplicativeRateIncrease`.
pub const MULTIPLICATIVE_GAIN: f64 = 1.08;

/// The smallest multiplicative step, bit/s. libwebrtc's (1 kbit/s).
pub const MIN_MULTIPLICATIVE_STEP_BPS: f64 = 1_000.0;

/// One packet's worth for the additive increase, bits (a full 1200-byte video packet).
/// libwebrtc derives its packet size from the frame size; a whole packet is the draft's "one
/// packet per response time" (section 5.5).
pub const ADDITIVE_PACKET_BITS: f64 = 1_200.0 * 8.0;

/// Added to the RTT for the response time of the additive increase, ns: the time the detector
/// needs to see the effect of a change. GCC draft section 5.5 and libwebrtc (100 ms).
pub const RESPONSE_EXTRA: u64 = 100_000_000;

/// The smallest additive increase, bit/s per second. libwebrtc's
/// `GetNearMaxIncreaseRateBpsPerSecond` floor (4 kbit/s per s).
pub const MIN_ADDITIVE_BPS_PER_S: f64 = 4_000.0;

/// On overuse the rate becomes this × the acknowledged throughput. GCC draft section 5.5
/// (`beta` 0.85); libwebrtc's `kDefaultBackoffFactor`.
pub const BETA: f64 = 0.85;

/// An increase stops at this × the acknowledged throughput + [`THROUGHPUT_HEADROOM_BPS`].
/// GCC draft section 5.5 ("never exceed 1.5 × the incoming rate"); libwebrtc the same.
pub const THROUGHPUT_GAIN: f64 = 1.5;

/// See [`THROUGHPUT_GAIN`], bit/s. libwebrtc (10 kbit/s).
pub const THROUGHPUT_HEADROOM_BPS: f64 = 10_000.0;

/// Bounds on the time between two decreases: the RTT, clamped to this range, ns. libwebrtc's
/// `TimeToReduceFurther` (10-200 ms).
pub const REDUCE_INTERVAL_MIN: u64 = 10_000_000;
/// See [`REDUCE_INTERVAL_MIN`].
pub const REDUCE_INTERVAL_MAX: u64 = 200_000_000;

/// Weight of each new throughput at a decrease in the capacity estimate. libwebrtc's
/// `LinkCapacityEstimator` (0.05).
pub const CAPACITY_ALPHA: f64 = 0.05;

/// Bounds on the capacity estimate's normalised variance (kbit/s). libwebrtc's (0.4-2.5).
pub const CAPACITY_VARIANCE_MIN: f64 = 0.4;
/// See [`CAPACITY_VARIANCE_MIN`].
pub const CAPACITY_VARIANCE_MAX: f64 = 2.5;

/// The rate controller's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateState {
    /// The rate stays: after a decrease, or while a queue drains (underuse).
    Hold,
    /// The rate grows, multiplicatively or additively.
    Increase,
    /// Overuse is detected: the rate was just cut, or is cut once a reduction is due.
    Decrease,
}

/// What the throughput was when overuse was detected: where the link's capacity seems to be.
#[derive(Debug, Clone, Copy)]
struct LinkCapacity {
    /// Mean throughput at decreases, kbit/s (None: no decrease yet, or reset).
    estimate_kbps: Option<f64>,
    /// Normalised variance of it, kbit/s.
    variance: f64,
}

impl LinkCapacity {
    fn new() -> Self {
        LinkCapacity {
            estimate_kbps: None,
            variance: CAPACITY_VARIANCE_MIN,
        }
    }

    /// (lower, upper) bounds, three deviations either side of the estimate, bit/s.
    fn bounds_bps(&self) -> Option<(f64, f64)> {
        let e = self.estimate_kbps?;
        let deviation = (self.variance * e).sqrt();
        Some((
            (e - 3.0 * deviation).max(0.0) * 1e3,
            (e + 3.0 * deviation) * 1e3,
        ))
    }

    fn on_overuse(&mut self, throughput_bps: f64) {
        let sample = throughput_bps / 1e3;
        let e = match self.estimate_kbps {
            None => sample,
            Some(e) => (1.0 - CAPACITY_ALPHA) * e + CAPACITY_ALPHA * sample,
        };
        let error = e - sample;
        self.variance = ((1.0 - CAPACITY_ALPHA) * self.variance
            + CAPACITY_ALPHA * error * error / e.max(1.0))
        .clamp(CAPACITY_VARIANCE_MIN, CAPACITY_VARIANCE_MAX);
        self.estimate_kbps = Some(e);
    }
}

/// The AIMD controller; see the module docs.
#[derive(Debug, Clone)]
pub struct AimdRateControl {
    rate_bps: f64,
    min_bps: f64,
    max_bps: f64,
    state: RateState,
    /// When the rate last changed (or an increase began), our clock, ns.
    last_change: Option<u64>,
    capacity: LinkCapacity,
}

impl AimdRateControl {
    /// A controller starting at `start_bps`, kept within `[min_bps, max_bps]`.
    pub fn new(start_bps: u64, min_bps: u64, max_bps: u64) -> Self {
        AimdRateControl {
            rate_bps: start_bps as f64,
            min_bps: min_bps as f64,
            max_bps: max_bps as f64,
            state: RateState::Hold,
            last_change: None,
            capacity: LinkCapacity::new(),
        }
    }

    /// Sets the rate (a probe's result), within the bounds; the capacity is unknown again.
    pub fn set_rate(&mut self, bps: u64) {
        self.rate_bps = (bps as f64).clamp(self.min_bps, self.max_bps);
        self.capacity = LinkCapacity::new();
    }

    /// The controller's state.
    pub fn state(&self) -> RateState {
        self.state
    }

    /// The delay-based rate, bit/s.
    pub fn rate_bps(&self) -> u64 {
        self.rate_bps as u64
    }

    /// Updates the rate at `now` (ns, our clock) from the detector's `usage`, the acknowledged
    /// throughput (bit/s, None while unknown) and the RTT (ns). A decrease needs an RTT
    /// (clamped to [`REDUCE_INTERVAL_MIN`]..[`REDUCE_INTERVAL_MAX`]) since the last change, or
    /// the throughput under half the rate (the link dropped sharply); until then overuse waits.
    pub fn update(&mut self, now: u64, usage: Usage, throughput_bps: Option<u64>, rtt: u64) {
        let throughput = throughput_bps.map(|t| t as f64);
        match usage {
            Usage::Overusing => {
                self.state = RateState::Decrease;
                if self.time_to_reduce(now, throughput, rtt) {
                    self.decrease(now, throughput);
                }
            }
            Usage::Underusing => self.state = RateState::Hold,
            Usage::Normal => {
                // Entering the increase restarts its clock: the time held does not count as growth.
                if self.state != RateState::Increase {
                    self.state = RateState::Increase;
                    self.last_change = Some(now);
                }
                self.increase(now, throughput, rtt);
            }
        }
        self.rate_bps = self.rate_bps.clamp(self.min_bps, self.max_bps);
    }

    fn time_to_reduce(&self, now: u64, throughput: Option<f64>, rtt: u64) -> bool {
        let Some(last) = self.last_change else {
            return true;
        };
        let interval = rtt.clamp(REDUCE_INTERVAL_MIN, REDUCE_INTERVAL_MAX);
        now.saturating_sub(last) >= interval || throughput.is_some_and(|t| t < 0.5 * self.rate_bps)
    }

    fn decrease(&mut self, now: u64, throughput: Option<f64>) {
        // Without a throughput yet (overuse in the first window), back off from the rate itself.
        let measured = throughput.unwrap_or(self.rate_bps);
        let mut decreased = BETA * measured;
        if decreased > self.rate_bps {
            if let Some(e) = self.capacity.estimate_kbps {
                decreased = BETA * e * 1e3;
            }
        }
        if decreased < self.rate_bps {
            self.rate_bps = decreased;
        }
        if let Some((lower, _)) = self.capacity.bounds_bps() {
            if measured < lower {
                // Far below where the link was: start the estimate afresh from here.
                self.capacity = LinkCapacity::new();
            }
        }
        self.capacity.on_overuse(measured);
        self.last_change = Some(now);
    }

    fn increase(&mut self, now: u64, throughput: Option<f64>, rtt: u64) {
        if let (Some(t), Some((_, upper))) = (throughput, self.capacity.bounds_bps()) {
            if t > upper {
                // The link carries more than it did at the last decreases: capacity unknown again.
                self.capacity = LinkCapacity::new();
            }
        }
        let elapsed_s = self
            .last_change
            .map(|t| (now.saturating_sub(t) as f64 / 1e9).min(1.0));
        let step = if self.capacity.estimate_kbps.is_some() {
            let response_s = (rtt + RESPONSE_EXTRA) as f64 / 1e9;
            let per_s = (ADDITIVE_PACKET_BITS / response_s).max(MIN_ADDITIVE_BPS_PER_S);
            per_s * elapsed_s.unwrap_or(0.0)
        } else {
            let alpha = MULTIPLICATIVE_GAIN.powf(elapsed_s.unwrap_or(1.0));
            (self.rate_bps * (alpha - 1.0)).max(MIN_MULTIPLICATIVE_STEP_BPS)
        };
        // An increase stops at the cap; a rate already above it stays (a sender that sends
        // less than its estimate, between frames or on a quiet source, is not congested).
        let cap = throughput.map_or(f64::MAX, |t| THROUGHPUT_GAIN * t + THROUGHPUT_HEADROOM_BPS);
        if self.rate_bps < cap {
            self.rate_bps = (self.rate_bps + step).min(cap);
        }
        self.last_change = Some(now);
    }
}
