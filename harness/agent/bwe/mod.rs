//! Send-side bandwidth estimation: the target bitrate for our video sender, from transport-wide
//! congestion control feedback, after Google Congestion Control (draft-ietf-rmcat-gcc-02) as
//! libwebrtc runs it on the sending side.
//!
//! The stack parses the receiver's transport-wide feedback; we get, per packet, when it left
//! (our clock), when it arrived (the receiver's clock, any offset) or that it was lost, and its
//! size. [`SendSideBwe`] takes those batches (about every 100 ms) and RTTs from RTCP, and keeps
//! two rates; the target is the smaller, within [`BweConfig::min_bps`]..[`BweConfig::max_bps`]:
//!
//! - **Delay-based**: a queue at the bottleneck shows as packets arriving further apart than
//!   they left. Packets are grouped into send bursts ([`groups`]: 5 ms), and each pair of groups
//!   gives a delay variation `d` (ms). A trendline filter ([`trendline`]) fits a line to the
//!   smoothed accumulated `d` over the last 20 groups; its slope, scaled as libwebrtc scales it
//!   (× min(groups, 60) × 4, so ms), is the *trend*, compared with an adaptive *threshold*
//!   (12.5 ms to start, 6-600 ms): over it for 10 ms and rising is overuse, under minus it is
//!   underuse. An AIMD controller ([`aimd`]) grows the rate while the detector says normal
//!   (8 % per second, or about a packet per response time near the last decrease), cuts it to
//!   0.85 × the acknowledged throughput on overuse, and holds on underuse.
//! - **Loss-based** ([`loss`]): the loss fraction over the last second of feedback cuts the rate
//!   above 10 % (× (1 - loss / 2)), lets it grow 5 % per 200 ms + RTT below 2 %, and holds it
//!   in between; it never exceeds the delay-based rate.
//!
//! The acknowledged throughput ([`throughput`]) is what arrived over the last 500 ms of the
//! receiver's clock. Once known, it bounds the delay-based rate to 1.5 × it + 10 kbit/s.
//! Every constant is documented where it is defined, with where its value comes from.
//!
//! The initial probe ([`probe`]): the first video keyframe leaves as a fast train, and the rate
//! at which it came through sets both rates (libwebrtc probes at 3 and 6 times its start in the
//! call's first second for the same reason: 8 % a second from 300 kbit/s would take ten
//! seconds to reach a 600 kbit/s camera).
//!
//! Deterministic: no clock, no randomness, no I/O. Times are u64 ns, rates bit/s.
//!
//! ```ignore
//! let mut bwe = SendSideBwe::new(BweConfig::default());
//! // for every feedback message the stack parsed, packets in send order:
//! bwe.on_feedback(now, &results);
//! // for every RTT RTCP measured:
//! bwe.on_rtt(now, rtt);
//! pacer.set_rate(bwe.target_bps());
//! ```

pub mod aimd;
pub mod groups;
pub mod loss;
pub mod probe;
pub mod throughput;
pub mod trendline;

#[cfg(test)]
mod tests;

use aimd::{AimdRateControl, RateState};
use groups::Grouper;
use loss::LossBasedControl;
use probe::ProbeCluster;
use throughput::AckedThroughput;
use trendline::DelayDetector;

/// The RTT assumed until one is measured, ns. libwebrtc's default (200 ms).
pub const DEFAULT_RTT: u64 = 200_000_000;

/// One sent packet as transport-wide feedback reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketResult {
    /// When it left, on our clock, ns.
    pub departure: u64,
    /// When it arrived, on the receiver's clock (any offset from ours), ns; None: lost.
    pub arrival: Option<u64>,
    /// The whole packet on the wire as counted for rate (RTP header + payload), bytes.
    pub size: u32,
}

/// The estimator's rates, bit/s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BweConfig {
    /// The target before any feedback.
    pub start_bps: u64,
    /// The target never goes under this.
    pub min_bps: u64,
    /// The target never goes over this.
    pub max_bps: u64,
}

impl Default for BweConfig {
    /// libwebrtc's defaults for a video sender: start at 300 kbit/s (its default start bitrate),
    /// floor 30 kbit/s (its default minimum video bitrate); the cap is our video's top rate
    /// (2.5 Mbit/s).
    fn default() -> Self {
        BweConfig {
            start_bps: 300_000,
            min_bps: 30_000,
            max_bps: 2_500_000,
        }
    }
}

/// What the delay detector concludes about the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Usage {
    /// Delay is steady: the link has room.
    #[default]
    Normal,
    /// Delay grows: a queue builds, we send faster than the link carries.
    Overusing,
    /// Delay falls: a queue drains.
    Underusing,
}

/// What the estimator thinks of the link, for the report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BweStats {
    /// The rate the sender should send at, bit/s.
    pub target_bps: u64,
    /// The delay-based rate, bit/s.
    pub delay_based_bps: u64,
    /// The loss-based rate, bit/s.
    pub loss_based_bps: u64,
    /// Throughput the receiver acknowledged over the last 500 ms of its clock, bit/s (None
    /// before the feedback spans that).
    pub acked_bps: Option<u64>,
    /// Loss fraction (0..1) over the last second of feedback (see [`loss::LOSS_WINDOW`]).
    pub loss: f64,
    /// The delay detector's view.
    pub usage: Usage,
    /// The delay-based controller's state.
    pub rate_state: RateState,
    /// The scaled delay trend the detector compared (slope × min(groups, 60) × 4), ms.
    pub trend: f64,
    /// The adaptive threshold it compared the trend with, ms.
    pub threshold: f64,
    /// What the initial probe measured, bit/s (None before its result, or without one).
    pub probe_bps: Option<u64>,
}

/// The send-side estimator; see the module docs.
#[derive(Debug, Clone)]
pub struct SendSideBwe {
    cfg: BweConfig,
    groups: Grouper,
    detector: DelayDetector,
    delay_based: AimdRateControl,
    loss_based: LossBasedControl,
    acked: AckedThroughput,
    /// The latest RTT, ns.
    rtt: u64,
    target_bps: u64,
    probe: Option<ProbeCluster>,
    probe_bps: Option<u64>,
}

impl SendSideBwe {
    /// An estimator at `cfg.start_bps` (clamped to the configured bounds).
    pub fn new(cfg: BweConfig) -> Self {
        let start = cfg
            .start_bps
            .clamp(cfg.min_bps, cfg.max_bps.max(cfg.min_bps));
        SendSideBwe {
            cfg,
            groups: Grouper::default(),
            detector: DelayDetector::default(),
            delay_based: AimdRateControl::new(start, cfg.min_bps, cfg.max_bps),
            loss_based: LossBasedControl::new(start, cfg.min_bps),
            acked: AckedThroughput::default(),
            rtt: DEFAULT_RTT,
            target_bps: start,
            probe: None,
            probe_bps: None,
        }
    }

    /// Feedback that arrived at `now` (our clock, ns): packets in send order (lost ones
    /// included), each reported once. Batches come about every 100 ms.
    pub fn on_feedback(&mut self, now: u64, packets: &[PacketResult]) {
        let mut lost = 0;
        for p in packets {
            match p.arrival {
                None => lost += 1,
                Some(arrival) => {
                    self.acked.on_arrival(arrival, p.size);
                    if let Some(v) = self.groups.on_packet(p.departure, arrival) {
                        self.detector.on_variation(&v);
                    }
                }
            }
        }
        let reported = u32::try_from(packets.len()).unwrap_or(u32::MAX);
        self.delay_based
            .update(now, self.detector.usage(), self.acked.bps(), self.rtt);
        self.loss_based
            .on_feedback(now, lost, reported, self.rtt, self.delay_based.rate_bps());
        if let Some(result) = self.probe.as_mut().and_then(|c| c.on_feedback(packets)) {
            self.probe = None;
            if let Some(bps) = result {
                // The probe measured the link: both rates start from what it found.
                let bps = bps.clamp(self.cfg.min_bps, self.cfg.max_bps.max(self.cfg.min_bps));
                self.probe_bps = Some(bps);
                self.acked.expect_fast_change();
                self.delay_based.set_rate(bps);
                self.loss_based.set_rate(bps);
            }
        }
        self.target_bps = self
            .delay_based
            .rate_bps()
            .min(self.loss_based.rate_bps())
            .clamp(self.cfg.min_bps, self.cfg.max_bps.max(self.cfg.min_bps));
    }

    /// The packets that left in `[from, to]` (our clock, ns) were sent as a probe cluster
    /// ([`probe`]): once feedback has reported them, the rates start from what they measured.
    pub fn probe(&mut self, from: u64, to: u64) {
        self.probe = Some(ProbeCluster::new(from, to));
    }

    /// The sender is about to send much faster (a larger layer): the acknowledged throughput
    /// should follow it quickly ([`throughput::FAST_CHANGE_VARIANCE`]).
    pub fn expect_fast_rate_change(&mut self) {
        self.acked.expect_fast_change();
    }

    /// A round-trip time measured elsewhere (RTCP), ns.
    pub fn on_rtt(&mut self, _now: u64, rtt: u64) {
        self.rtt = rtt;
    }

    /// The rate the sender should send at, bit/s.
    pub fn target_bps(&self) -> u64 {
        self.target_bps
    }

    /// What the estimator thinks of the link now.
    pub fn stats(&self) -> BweStats {
        BweStats {
            target_bps: self.target_bps,
            delay_based_bps: self.delay_based.rate_bps(),
            loss_based_bps: self.loss_based.rate_bps(),
            acked_bps: self.acked.bps(),
            loss: self.loss_based.loss(),
            usage: self.detector.usage(),
            rate_state: self.delay_based.state(),
            trend: self.detector.trend_ms(),
            threshold: self.detector.threshold_ms(),
            probe_bps: self.probe_bps,
        }
    }
}
