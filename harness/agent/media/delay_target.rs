//! The adaptive jitter buffer's delay estimate: how late, relative to the fastest recent
//! packet, a packet may arrive and still be played.
//!
//! In the spirit of WebRTC's NetEq delay manager: every packet's *offset* is its arrival time
//! minus its media time (frame index × frame duration, from the RTP timestamp), so a packet that
//! took longer through the network has a larger offset. The *relative delay* of a packet is its
//! offset minus the smallest offset among the last `history` packets (the least-delayed recent
//! packet: clock offsets and the fixed part of the path delay cancel). The buffer's target
//! headroom is the `quantile` (0.97 by default) of the recent relative delays: with that much
//! headroom, about 3 % of packets would arrive after their playout time.
//!
//! ```
//! use callharness::agent::media::delay_target::DelayTarget;
//! let mut t = DelayTarget::new(100, 0.95);
//! const MS: i64 = 1_000_000;
//! for i in 0..100 {
//!     // every tenth packet 30 ms late, the rest on time
//!     t.note(if i % 10 == 3 { 30 * MS } else { 0 });
//! }
//! assert_eq!(t.min_offset(), Some(0));
//! assert_eq!(t.quantile_ns(), Some(30 * MS));
//! ```

/// Recent packet offsets and the quantile of their relative delay; see the module docs.
#[derive(Debug, Clone)]
pub struct DelayTarget {
    history: usize,
    quantile: f64,
    offsets: Vec<i64>,
    pos: usize,
    /// Reused for sorting (no allocation per adjustment).
    scratch: Vec<i64>,
}

impl DelayTarget {
    /// An estimate over the last `history` packets (at least 1), covering `quantile` (0..=1).
    pub fn new(history: usize, quantile: f64) -> Self {
        let history = history.max(1);
        DelayTarget {
            history,
            quantile: quantile.clamp(0.0, 1.0),
            offsets: Vec::with_capacity(history),
            pos: 0,
            scratch: Vec::with_capacity(history),
        }
    }

    /// Records one packet's offset (arrival minus media time), ns.
    pub fn note(&mut self, offset_ns: i64) {
        if self.offsets.len() < self.history {
            self.offsets.push(offset_ns);
        } else {
            self.offsets[self.pos] = offset_ns;
            self.pos = (self.pos + 1) % self.history;
        }
    }

    /// The smallest recent offset (the least-delayed packet), ns; None before any packet.
    pub fn min_offset(&self) -> Option<i64> {
        self.offsets.iter().copied().min()
    }

    /// The `quantile` of recent relative delays (offset minus the smallest offset), ns; None
    /// before any packet.
    pub fn quantile_ns(&mut self) -> Option<i64> {
        let min = self.min_offset()?;
        self.scratch.clear();
        self.scratch.extend(self.offsets.iter().map(|o| o - min));
        self.scratch.sort_unstable();
        let q = ((self.scratch.len() - 1) as f64 * self.quantile).round() as usize;
        Some(self.scratch[q])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_packets_leave_the_history() {
        let mut t = DelayTarget::new(4, 1.0);
        for o in [5, 50, 7, 9] {
            t.note(o);
        }
        assert_eq!((t.min_offset(), t.quantile_ns()), (Some(5), Some(45)));
        // Four more packets push the first four out.
        for o in [100, 101, 102, 103] {
            t.note(o);
        }
        assert_eq!((t.min_offset(), t.quantile_ns()), (Some(100), Some(3)));
    }

    #[test]
    fn empty_has_no_estimate() {
        let mut t = DelayTarget::new(0, 0.5);
        assert_eq!((t.min_offset(), t.quantile_ns()), (None, None));
        t.note(-3);
        assert_eq!((t.min_offset(), t.quantile_ns()), (Some(-3), Some(0)));
    }
}
