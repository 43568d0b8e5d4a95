//! The received/lost record of a stream: one bit per RTP sequence slot.
//!
//! [`ReceiverStats`](crate::metrics::receiver::ReceiverStats) keeps it; RFC 3611 burst/gap
//! analysis ([`burst`](crate::metrics::burst)) reads it. A bitset, because a 60 s stream has
//! 3000 slots and a hundred calls run at once: an hour of 50 pps audio takes 22 KiB.
//!
//! # Example
//! ```
//! use callharness::metrics::record::LossRecord;
//! let r = LossRecord::from_received([true, false, true]);
//! assert_eq!((r.len(), r.lost()), (3, 1));
//! assert!(!r.is_received(1));
//! ```

/// Received (true) or lost (false) per sequence slot of a stream, as a bitset: 1 bit a packet,
/// so an hour of 50 pps audio takes 22 KiB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LossRecord {
    words: Vec<u64>,
    len: u64,
}

impl LossRecord {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// A record from a received (true) / lost (false) sequence, for tests and offline analysis.
    pub fn from_received<I: IntoIterator<Item = bool>>(received: I) -> Self {
        let mut r = LossRecord::new();
        for (i, ok) in received.into_iter().enumerate() {
            r.grow_to(i as u64 + 1);
            if ok {
                r.set(i as u64);
            }
        }
        r
    }

    /// Number of slots (received or lost).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when no slot has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether slot `i` was received (false past the end).
    pub fn is_received(&self, i: u64) -> bool {
        i < self.len && self.words[(i / 64) as usize] & (1 << (i % 64)) != 0
    }

    /// Slots not received.
    pub fn lost(&self) -> u64 {
        let ones: u64 = self.words.iter().map(|w| u64::from(w.count_ones())).sum();
        self.len - ones
    }

    /// Received (true) / lost (false) for each slot in order.
    pub fn iter(&self) -> impl Iterator<Item = bool> + '_ {
        (0..self.len).map(|i| self.is_received(i))
    }

    /// Heap memory of the bitset, bytes.
    pub fn memory_bytes(&self) -> usize {
        self.words.capacity() * 8
    }

    pub(crate) fn grow_to(&mut self, len: u64) {
        if len > self.len {
            self.len = len;
            let words = len.div_ceil(64) as usize;
            if self.words.len() < words {
                self.words.resize(words, 0);
            }
        }
    }

    pub(crate) fn set(&mut self, i: u64) {
        self.grow_to(i + 1);
        self.words[(i / 64) as usize] |= 1 << (i % 64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_across_words() {
        let r = LossRecord::from_received((0..200).map(|i| i % 3 != 0));
        assert_eq!(r.len(), 200);
        assert_eq!(r.lost(), 67);
        assert!(!r.is_received(129) && r.is_received(130));
        assert!(!r.is_received(500));
        assert_eq!(r.iter().filter(|&b| !b).count(), 67);
        assert_eq!(r.memory_bytes(), 32);
    }
}
