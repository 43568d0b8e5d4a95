//! The video pacer: a frame's packets leave spread at a pacing rate rather than in one burst
//! (libwebrtc's paced sender: [`PACING_FACTOR`] times the bandwidth estimate, so a keyframe of
//! ten packets does not hit the bottleneck's queue at once). Audio is not paced (libwebrtc sends
//! it first, ahead of queued video).
//!
//! When the queue would not drain before its oldest packet has waited [`MAX_QUEUE_NS`], it is
//! sent faster, at the rate that drains it by then (libwebrtc's queue time limit): the pacer
//! delays video, it never lets it pile up.

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
/// Bytes counted for a packet besides its payload: the RTP header and the transport-wide
/// sequence number extension.
pub const PACKET_OVERHEAD: usize = 20;

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
}

impl Pacer {
    /// A pacer sending at `rate_bps` (bit/s).
    pub fn new(rate_bps: f64) -> Self {
        Pacer {
            queue: VecDeque::new(),
            queued_bytes: 0,
            rate_bps: rate_bps.max(1.0),
            next_send: 0,
        }
    }

    pub fn set_rate(&mut self, rate_bps: f64) {
        self.rate_bps = rate_bps.max(1.0);
    }

    pub fn rate_bps(&self) -> f64 {
        self.rate_bps
    }

    /// Packets waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Queues a packet at `now` (ns).
    pub fn push(&mut self, now: u64, packet: PacedPacket) {
        if self.queue.is_empty() {
            self.next_send = self.next_send.max(now);
        }
        self.queued_bytes += packet.payload.len() + PACKET_OVERHEAD;
        self.queue.push_back((now, packet));
    }

    /// When the next packet may leave, ns (None: nothing queued).
    pub fn poll_timeout(&self) -> Option<u64> {
        (!self.queue.is_empty()).then_some(self.next_send)
    }

    /// The next packet, if it may leave at `now` (ns).
    pub fn pop(&mut self, now: u64) -> Option<PacedPacket> {
        if self.next_send > now {
            return None;
        }
        let (_, p) = self.queue.pop_front()?;
        let bytes = p.payload.len() + PACKET_OVERHEAD;
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
        self.next_send = self.next_send.max(now.saturating_sub(1_000_000))
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
            payload: Bytes::from(vec![0u8; bytes - PACKET_OVERHEAD]),
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
        // Ten 1,000-byte packets at 1 Mbit/s: one every 8 ms.
        let mut p = Pacer::new(1e6);
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
}
