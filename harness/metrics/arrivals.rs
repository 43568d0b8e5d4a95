//! RTP packets counted where they arrive, before anything can discard them.
//!
//! SRTP's replay protection drops a second copy of a packet before the application sees it,
//! so statistics fed with decrypted packets never see a network duplicate. [`ArrivalCounter`]
//! is handed the sequence number of every RTP datagram as it reaches the host (the RTP header
//! is in the clear under SRTP) and counts arrivals and duplicates: copies of a sequence number
//! already seen among the last [`WINDOW`] sequence numbers. Loss stays RFC 3550's, on unique
//! packets, in [`receiver`](crate::metrics::receiver).
//!
//! ```
//! use callharness::metrics::arrivals::ArrivalCounter;
//! let mut a = ArrivalCounter::default();
//! for seq in [65534u16, 65535, 65535, 0, 2, 1, 0] {
//!     a.on_packet(seq);
//! }
//! assert_eq!((a.arrivals(), a.duplicates()), (7, 2));
//! ```

/// Sequence numbers remembered behind the highest one seen.
pub const WINDOW: u64 = 1024;

/// See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrivalCounter {
    /// Highest extended sequence number seen (None before the first packet).
    max_ext: Option<u64>,
    seen: [u64; (WINDOW / 64) as usize],
    arrivals: u64,
    duplicates: u64,
}

impl Default for ArrivalCounter {
    fn default() -> Self {
        ArrivalCounter {
            max_ext: None,
            seen: [0; (WINDOW / 64) as usize],
            arrivals: 0,
            duplicates: 0,
        }
    }
}

impl ArrivalCounter {
    fn bit(ext: u64) -> (usize, u64) {
        let i = ext % WINDOW;
        ((i / 64) as usize, 1 << (i % 64))
    }

    /// Counts one arrival of sequence number `seq`; true when it is a duplicate.
    pub fn on_packet(&mut self, seq: u16) -> bool {
        self.arrivals += 1;
        // Extended numbers start one cycle up so a packet just before the first stays positive.
        let Some(max) = self.max_ext else {
            let ext = (1 << 16) + u64::from(seq);
            self.max_ext = Some(ext);
            let (w, b) = Self::bit(ext);
            self.seen[w] |= b;
            return false;
        };
        let delta = seq.wrapping_sub(max as u16) as i16;
        let ext = (max as i64 + i64::from(delta)) as u64;
        if ext > max {
            // Forget the slots the window moves past.
            for e in (max + 1)..=ext.min(max + WINDOW) {
                let (w, b) = Self::bit(e);
                self.seen[w] &= !b;
            }
            self.max_ext = Some(ext);
        } else if max - ext >= WINDOW {
            return false; // too old to tell
        }
        let (w, b) = Self::bit(ext);
        if self.seen[w] & b != 0 {
            self.duplicates += 1;
            return true;
        }
        self.seen[w] |= b;
        false
    }

    /// RTP packets that arrived, copies included.
    pub fn arrivals(&self) -> u64 {
        self.arrivals
    }

    /// Copies of a packet that had already arrived.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_across_gaps_and_wraps() {
        let mut a = ArrivalCounter::default();
        // 5000 packets with every 7th sent twice and every 11th never: wraps 16 bits too.
        let mut dups = 0;
        for i in 0..70_000u32 {
            if i % 11 == 0 {
                continue;
            }
            let seq = (i + 60_000) as u16;
            assert!(!a.on_packet(seq));
            if i % 7 == 0 {
                assert!(a.on_packet(seq));
                dups += 1;
            }
        }
        assert_eq!(a.duplicates(), dups);
        // A copy from far behind the window is not called a duplicate.
        assert!(!a.on_packet(60_000u32.wrapping_add(70_000 - 2000) as u16));
    }

    #[test]
    fn a_jump_forward_clears_what_it_passes() {
        let mut a = ArrivalCounter::default();
        a.on_packet(10);
        a.on_packet(10 + 2000); // past the window: slot of 10 + 1024 reused
        assert!(!a.on_packet(10 + 1024));
        assert!(a.on_packet(10 + 2000));
    }
}
