//! The loss-based rate (GCC draft section 6; libwebrtc's classic `SendSideBandwidthEstimation`).
//!
//! The loss fraction is taken over the feedback of the last [`LOSS_WINDOW`] (longer if that held
//! fewer than [`LOSS_MIN_PACKETS`] packets, so one loss among few packets is not read as a high
//! fraction). Above [`HIGH_LOSS`] the rate is cut to `rate × (1 - 0.5 × loss)`, at most once
//! per [`DECREASE_INTERVAL`] + RTT (time for the cut to show in the feedback); below
//! [`LOW_LOSS`] it grows by [`INCREASE_FACTOR`], at most once per [`INCREASE_INTERVAL`] + RTT;
//! in between it holds. The draft and libwebrtc use the same 2 % and 10 % bounds: a path with a
//! little random loss (Wi-Fi, 1-3 %) holds or grows, since loss alone is no sign of a queue. The
//! rate never exceeds the delay-based one (libwebrtc caps it there too), so after a cut it climbs
//! back from what was actually sent, not from a figure that grew unchecked meanwhile.

use std::collections::VecDeque;

/// The span of feedback the loss fraction is taken over, our clock, ns (1 s, about one RTCP
/// receiver report's worth, the interval the draft's loss fraction comes from).
pub const LOSS_WINDOW: u64 = 1_000_000_000;

/// The fewest packets a loss fraction is taken over; below this it is not acted on.
/// libwebrtc's `kLimitNumPackets` (20).
pub const LOSS_MIN_PACKETS: u32 = 20;

/// Loss above this fraction cuts the rate. GCC draft section 6 and libwebrtc (10 %).
pub const HIGH_LOSS: f64 = 0.10;

/// Loss below this fraction lets the rate grow. GCC draft section 6 and libwebrtc (2 %).
pub const LOW_LOSS: f64 = 0.02;

/// The least time between two cuts, before the RTT is added, ns. libwebrtc's
/// `kBweDecreaseInterval` (300 ms).
pub const DECREASE_INTERVAL: u64 = 300_000_000;

/// The least time between two increases, before the RTT is added, ns (200 ms: about twice a
/// feedback interval, so that each increase is judged on feedback sent after the last one).
pub const INCREASE_INTERVAL: u64 = 200_000_000;

/// The factor of one increase. GCC draft section 6 (× 1.05); at a short RTT about 20 % per
/// second, faster than the delay-based increase, so after a cut the delay-based rate leads again.
pub const INCREASE_FACTOR: f64 = 1.05;

/// The loss-based controller; see the module docs.
#[derive(Debug, Clone)]
pub struct LossBasedControl {
    rate_bps: f64,
    min_bps: f64,
    /// Per feedback batch: (its time, our clock ns, packets lost, packets reported).
    batches: VecDeque<(u64, u32, u32)>,
    lost: u32,
    reported: u32,
    last_decrease: Option<u64>,
    last_increase: Option<u64>,
}

impl LossBasedControl {
    /// A controller starting at `start_bps`, never under `min_bps`.
    pub fn new(start_bps: u64, min_bps: u64) -> Self {
        LossBasedControl {
            rate_bps: start_bps as f64,
            min_bps: min_bps as f64,
            batches: VecDeque::new(),
            lost: 0,
            reported: 0,
            last_decrease: None,
            last_increase: None,
        }
    }

    /// Sets the rate (a probe's result), at least the minimum.
    pub fn set_rate(&mut self, bps: u64) {
        self.rate_bps = (bps as f64).max(self.min_bps);
    }

    /// The loss-based rate, bit/s.
    pub fn rate_bps(&self) -> u64 {
        self.rate_bps as u64
    }

    /// The loss fraction over the window (0 before any feedback).
    pub fn loss(&self) -> f64 {
        if self.reported == 0 {
            0.0
        } else {
            f64::from(self.lost) / f64::from(self.reported)
        }
    }

    /// Takes one feedback batch at `now` (ns, our clock) with `lost` of `reported` packets lost,
    /// and updates the rate, which stays at or under `delay_based_bps` (and at or over the minimum). `rtt` in ns.
    pub fn on_feedback(
        &mut self,
        now: u64,
        lost: u32,
        reported: u32,
        rtt: u64,
        delay_based_bps: u64,
    ) {
        self.batches.push_back((now, lost, reported));
        self.lost += lost;
        self.reported += reported;
        while let Some(&(at, l, r)) = self.batches.front() {
            if at + LOSS_WINDOW > now || self.reported - r < LOSS_MIN_PACKETS {
                break;
            }
            self.batches.pop_front();
            self.lost -= l;
            self.reported -= r;
        }
        if self.reported >= LOSS_MIN_PACKETS {
            let loss = self.loss();
            let since = |t: Option<u64>| t.map_or(u64::MAX, |t| now.saturating_sub(t));
            if loss > HIGH_LOSS && since(self.last_decrease) >= DECREASE_INTERVAL + rtt {
                self.rate_bps *= 1.0 - 0.5 * loss;
                self.last_decrease = Some(now);
            } else if loss < LOW_LOSS && since(self.last_increase) >= INCREASE_INTERVAL + rtt {
                self.rate_bps *= INCREASE_FACTOR;
                self.last_increase = Some(now);
            }
        }
        self.rate_bps = self.rate_bps.min(delay_based_bps as f64).max(self.min_bps);
    }
}
