//! The video pacer: a frame's packets leave spread at a pacing rate rather than in one burst
//! (libwebrtc's paced sender: [`PACING_FACTOR`] times the bandwidth estimate, so a keyframe of
//! ten packets does not hit the bottleneck's queue at once). Audio is not paced (libwebrtc sends
//! it first, ahead of queued video).
//!
//! When the queue would not drain before its oldest packet has waited [`MAX_QUEUE_NS`], it is
//! sent faster, at the rate that drains it by then (libwebrtc's queue time limit): the pacer
//! delays video, it never lets it pile up.

use crate::agent::congestion::RTP_OVERHEAD;
use bytes::Bytes;
use std::collections::VecDeque;

/// Pacing rate / bandwidth estimate (libwebrtc's default pacing factor).
pub const PACING_FACTOR: f64 = 2.5;
/// Pacing rate / bandwidth estimate for a keyframe's packets. Ours, not libwebrtc's: a keyframe
/// is four or five frames' worth of bytes, and at 2.5 times the estimate it queues at a
/// bottleneck the estimate matches (a 10 KB keyframe, 45 ms on a 1 Mbit/s link), which the
/// delay-based estimator reads as overuse; paced at the estimate it spreads over a few frame
/// times instead and queues nowhere.
pub const KEYFRAME_PACING_FACTOR: f64 = 1.0;
/// The longest the queue may take to drain, ns (libwebrtc: 2 s).
pub const MAX_QUEUE_NS: u64 = 2_000_000_000;
/// After an idle spell the pacer may send this much of its rate at once, ns (libwebrtc's
/// pacer burst interval, 40 ms): a delta frame's few packets leave together, as one send
/// group for the delay-based estimator, instead of one by one at 2.5 times the estimate, which
/// a link a little faster than the video spreads again, a queue growing within each frame that
/// the estimator reads as overuse.
pub const BURST_NS: u64 = 40_000_000;

/// One video packet waiting to leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacedPacket {
    pub seq: u16,
    pub timestamp: u32,
    pub marker: bool,
    pub payload: Bytes,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct Pacer {
    /// (queued at ns, packet).
    queue: VecDeque<(u64, PacedPacket)>,
    queued_bytes: usize,
    rate_bps: f64,
    /// When the next packet may leave, ns.
    next_send: u64,
    /// How far behind `now` the schedule may start after an idle spell, ns.
    burst: u64,
    /// The latest time it was handed, ns.
    now: u64,
}

impl Pacer {
    /// A pacer sending at `rate_bps` (bit/s).
    pub fn new(rate_bps: f64) -> Self {
        Pacer {
            queue: VecDeque::new(),
            queued_bytes: 0,
            rate_bps: rate_bps.max(1.0),
            next_send: 0,
            burst: BURST_NS,
            now: 0,
        }
    }

    pub fn set_rate(&mut self, rate_bps: f64) {
        self.rate_bps = rate_bps.max(1.0);
    }

    /// The burst allowance, ns (0: every packet at the rate, as a probe's train must leave).
    pub fn set_burst(&mut self, ns: u64) {
        self.burst = ns;
    }

    /// Queues a packet at `now` (ns).
    pub fn push(&mut self, now: u64, packet: PacedPacket) {
        self.now = self.now.max(now);
        if self.queue.is_empty() {
            // Idle: up to the burst allowance of the rate is unused, and may go at once.
            self.next_send = self.next_send.max(now.saturating_sub(self.burst));
        }
        self.queued_bytes += packet.payload.len() + RTP_OVERHEAD;
        self.queue.push_back((now, packet));
    }

    /// When the next packet may leave, ns (None: nothing queued).
    pub fn poll_timeout(&self) -> Option<u64> {
        (!self.queue.is_empty()).then_some(self.next_send.max(self.now))
    }

    /// The next packet, if it may leave at `now` (ns).
    pub fn pop(&mut self, now: u64) -> Option<PacedPacket> {
        self.now = self.now.max(now);
        if self.next_send > now {
            return None;
        }
        let (_, p) = self.queue.pop_front()?;
        let bytes = p.payload.len() + RTP_OVERHEAD;
        self.queued_bytes -= bytes;
        // What is still queued must be gone before the oldest has waited the limit.
        let rate = match self.queue.front() {
            Some(&(at, _)) => {
                let left = MAX_QUEUE_NS
                    .saturating_sub(now.saturating_sub(at))
                    .max(1_000_000);
                self.rate_bps
                    .max(self.queued_bytes as f64 * 8.0 * 1e9 / left as f64)
            }
            None => self.rate_bps,
        };
        self.next_send = self.next_send.max(now.saturating_sub(self.burst))
            + (bytes as f64 * 8.0 * 1e9 / rate) as u64;
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, bytes: usize) -> PacedPacket {
        PacedPacket {
            seq,
            timestamp: 0,
            marker: false,
            payload: Bytes::from(vec![0u8; bytes - RTP_OVERHEAD]),
        }
    }

    /// Runs the pacer as the leg does: wakes at its timeout, sends what may leave.
    fn departures(p: &mut Pacer) -> Vec<(u16, u64)> {
        let mut out = Vec::new();
        while let Some(t) = p.poll_timeout() {
            while let Some(x) = p.pop(t) {
                out.push((x.seq, t));
            }
        }
        out
    }

    #[test]
    fn a_burst_leaves_at_the_pacing_rate() {
        // Ten 1,000-byte packets at 1 Mbit/s, no burst allowance: one every 8 ms.
        let mut p = Pacer::new(1e6);
        p.set_burst(0);
        for s in 0..10 {
            p.push(5_000_000, packet(s, 1_000));
        }
        let d = departures(&mut p);
        let times: Vec<u64> = d.iter().map(|x| x.1).collect();
        let want: Vec<u64> = (0..10).map(|k| 5_000_000 + k * 8_000_000).collect();
        assert_eq!(times, want);
        assert_eq!(
            d.iter().map(|x| x.0).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        // Idle since: the next packet leaves when it is queued.
        p.push(500_000_000, packet(10, 1_000));
        assert_eq!(p.poll_timeout(), Some(500_000_000));
    }

    #[test]
    fn a_queue_longer_than_two_seconds_drains_faster() {
        // 500 kbytes queued at 100 kbit/s would take 40 s; it takes about 2 s.
        let mut p = Pacer::new(100e3);
        for s in 0..500 {
            p.push(0, packet(s, 1_000));
        }
        let d = departures(&mut p);
        let last = d.last().unwrap().1;
        assert!(last <= MAX_QUEUE_NS, "{last}");
        assert!(last > MAX_QUEUE_NS / 2, "{last}");
    }

    #[test]
    fn after_an_idle_spell_up_to_forty_ms_of_the_rate_leaves_at_once() {
        // 1 Mbit/s: 40 ms is 5,000 bytes, five 1,000-byte packets; the rest at the rate.
        let mut p = Pacer::new(1e6);
        for s in 0..8 {
            p.push(1_000_000_000, packet(s, 1_000));
        }
        let times: Vec<u64> = departures(&mut p).iter().map(|x| x.1).collect();
        let ms = |t: u64| (t - 1_000_000_000) / 1_000_000;
        assert_eq!(
            times.iter().map(|&t| ms(t)).collect::<Vec<_>>(),
            [0, 0, 0, 0, 0, 0, 8, 16]
        );
        // A frame that comes while the pacer is busy waits its turn: no second burst.
        p.push(1_020_000_000, packet(8, 1_000));
        assert!(p.poll_timeout().unwrap() >= 1_020_000_000);
    }
}
