//! Transport-wide congestion control on a video call, with our estimator in the stack's place.
//!
//! rtc 0.21 has the parts a send-side estimate needs: the transport-wide sequence number on
//! every RTP packet we send (audio and video), the receiver's feedback every 100 ms
//! (draft-holmer-rmcat-transport-wide-cc-extensions-01), and a congestion-control interceptor
//! that keeps the send history and matches the feedback to it, at the wire end of the chain
//! (departure times after any pacing). Its estimator is pluggable: ours
//! ([`super::bwe::SendSideBwe`]) goes in, and its pacer stays out (measured: it live-locks and
//! starves audio; see `../shared/reference/webrtc-rs.md`); our own pacer is
//! [`super::video_rtp::pacer`].

use super::bwe::{BweConfig, BweStats, PacketResult, SendSideBwe};
use rtc::interceptor::{
    BandwidthEstimator, CongestionControlBuilder, PacketReport, Registry, Slot,
};
use rtc::peer_connection::configuration::interceptor_registry::configure_twcc;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Bytes an RTP packet of a call with transport-wide congestion control carries besides its
/// payload, as the estimator counts them (rtc's send history records the RTP packet's size):
/// the 12-byte header and the 8-byte transport-wide sequence number extension (one-byte
/// header form, padded to 4). The audio rate, the layers' rates and the pacer all count it.
pub const RTP_OVERHEAD: usize = 20;

/// Which transport-wide sequence numbers the far end's feedback has covered, one bit each.
///
/// rtc's send history reports a packet that no feedback mentioned (the feedback message itself
/// was lost) the same way as one the feedback said was lost. Counting those as lost would make
/// one lost feedback message look like ten lost packets, on exactly the congested links where
/// feedback is lost; so our RTCP interceptor ([`super::rtt::RtcpRtt`], nearer the wire than the
/// congestion-control interceptor) marks each covered number here, and a packet reported lost
/// without its mark is left out of the estimate (libwebrtc, too, ignores packets no feedback
/// covered).
#[derive(Clone)]
pub struct TwccCoverage(Arc<Mutex<Vec<u64>>>);

impl Default for TwccCoverage {
    fn default() -> Self {
        TwccCoverage(Arc::new(Mutex::new(vec![0; 1 << 10])))
    }
}

impl TwccCoverage {
    /// A feedback covered `count` numbers from `base`.
    pub fn cover(&self, base: u16, count: u16) {
        let mut bits = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for k in 0..count {
            let s = usize::from(base.wrapping_add(k));
            bits[s / 64] |= 1 << (s % 64);
        }
    }

    /// Whether a feedback covered `seq`, clearing its mark (numbers wrap after 65,536 packets).
    fn take(bits: &mut [u64], seq: u16) -> bool {
        let s = usize::from(seq);
        let was = bits[s / 64] & (1 << (s % 64)) != 0;
        bits[s / 64] &= !(1 << (s % 64));
        was
    }
}

/// Our estimator, shared between the interceptor that feeds it and the leg that reads it.
#[derive(Clone)]
pub struct SharedBwe {
    base: Instant,
    bwe: Arc<Mutex<SendSideBwe>>,
    coverage: TwccCoverage,
}

impl std::fmt::Debug for SharedBwe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBwe")
            .field("stats", &self.stats())
            .finish()
    }
}

impl SharedBwe {
    /// A fresh estimator for a connection whose simulated time zero is `base`.
    pub fn new(base: Instant, cfg: BweConfig) -> Self {
        SharedBwe {
            base,
            bwe: Arc::new(Mutex::new(SendSideBwe::new(cfg))),
            coverage: TwccCoverage::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SendSideBwe> {
        self.bwe.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What our RTCP interceptor marks feedback coverage in.
    pub fn coverage(&self) -> TwccCoverage {
        self.coverage.clone()
    }

    /// The estimator's view now.
    pub fn stats(&self) -> BweStats {
        self.lock().stats()
    }

    /// The packets that left in `[from, to]` (ns) were the initial probe.
    pub fn probe(&self, from: u64, to: u64) {
        self.lock().probe(from, to);
    }

    /// The sender is about to send much faster.
    pub fn expect_fast_rate_change(&self) {
        self.lock().expect_fast_rate_change();
    }

    /// A round-trip time measured from RTCP (ns) at `now` (ns).
    pub fn on_rtt(&self, now: u64, rtt: u64) {
        self.lock().on_rtt(now, rtt);
    }

    fn nanos(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.base).as_nanos() as u64
    }
}

impl BandwidthEstimator for SharedBwe {
    fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) {
        let mut covered = self
            .coverage
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let packets: Vec<PacketResult> = reports
            .iter()
            .filter(|r| {
                let seen = TwccCoverage::take(&mut covered, r.twcc_sequence_number);
                r.arrived || (r.is_twcc && seen)
            })
            .map(|r| PacketResult {
                departure: self.nanos(r.departure),
                arrival: r.arrival.filter(|_| r.arrived).map(|d| d.as_nanos() as u64),
                size: r.size as u32,
            })
            .collect();
        drop(covered);
        let now = self.nanos(now);
        self.lock().on_feedback(now, &packets);
    }

    fn target_bitrate(&self) -> f64 {
        self.lock().target_bps() as f64
    }
}

/// Negotiates transport-wide CC for audio and video, and adds the feedback generator, the
/// sequence numbering and the congestion-control interceptor with our estimator.
pub fn configure(
    registry: Registry,
    media: &mut MediaEngine,
    bwe: SharedBwe,
) -> Result<Registry, rtc::shared::error::Error> {
    let registry = configure_twcc(registry, media)?;
    Ok(registry.with(
        Slot::CongestionControl,
        CongestionControlBuilder::new(bwe).build(),
    ))
}
