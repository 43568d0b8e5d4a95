//! The acknowledged throughput: what the receiver says arrived, over a sliding window of arrival
//! times.
//!
//! The window is [`WINDOW`] of the receiver's clock, ending at the latest arrival reported; the
//! throughput is the bytes that arrived within it × 8 / its length. It is unknown until the
//! arrivals span a whole window. libwebrtc's `AcknowledgedBitrateEstimator` smooths a similar
//! measure (windows of 150-500 ms); a plain 500 ms window is easier to state in a report and
//! long enough to hold several packets at the lowest rates video is sent at.

use std::collections::VecDeque;

/// Length of the window, receiver clock, ns (500 ms).
pub const WINDOW: u64 = 500_000_000;

/// Arrivals in the current window and their byte count.
#[derive(Debug, Clone, Default)]
pub struct AckedThroughput {
    /// (arrival, receiver clock ns, bytes), in the order reported.
    arrivals: VecDeque<(u64, u32)>,
    bytes: u64,
    /// The first arrival ever reported, ns.
    first: Option<u64>,
    /// The latest arrival reported, ns.
    latest: u64,
}

impl AckedThroughput {
    /// Counts a packet of `size` bytes that arrived at `arrival` (receiver clock, ns).
    pub fn on_arrival(&mut self, arrival: u64, size: u32) {
        self.first.get_or_insert(arrival);
        self.latest = self.latest.max(arrival);
        self.arrivals.push_back((arrival, size));
        self.bytes += u64::from(size);
        while let Some(&(at, bytes)) = self.arrivals.front() {
            if at + WINDOW > self.latest {
                break;
            }
            self.arrivals.pop_front();
            self.bytes -= u64::from(bytes);
        }
    }

    /// The throughput over the window, bit/s; None until the arrivals span a window.
    pub fn bps(&self) -> Option<u64> {
        let first = self.first?;
        (self.latest >= first + WINDOW).then(|| self.bytes * 8 * 1_000_000_000 / WINDOW)
    }
}

#[cfg(test)]
mod tests {
    use super::AckedThroughput;

    #[test]
    fn a_steady_stream_reads_its_rate_once_a_window_is_covered() {
        let mut t = AckedThroughput::default();
        // 1000-byte packets every 10 ms: 800 kbit/s.
        for k in 0..50u64 {
            t.on_arrival(5_000_000_000 + k * 10_000_000, 1000);
            assert_eq!(t.bps(), None);
        }
        t.on_arrival(5_500_000_000, 1000);
        assert_eq!(t.bps(), Some(800_000));
    }
}
