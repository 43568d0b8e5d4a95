//! One-way network delay of a stream, measured packet by packet.
//!
//! In simulation the sender's send time and the receiver's arrival time share one clock, so each
//! RTP packet's one-way delay (arrival minus send, whatever queues, jitter and paths it met) is
//! exact. [`OneWayDelay`] accumulates them: mean and maximum over the stream, and per-second
//! means by arrival time (for the per-second MOS). Where no shared clock exists (a real network)
//! nothing is measured and the report falls back to half the RTCP round trip, named as such.
//!
//! ```
//! use callharness::metrics::one_way::OneWayDelay;
//! let mut d = OneWayDelay::default();
//! d.add(1_500_000_000, 30_000_000);
//! d.add(1_520_000_000, 50_000_000);
//! assert_eq!(d.mean_ms(), Some(40.0));
//! assert_eq!(d.max_ms(), Some(50.0));
//! assert_eq!(d.second_mean_ms(1), Some(40.0));
//! assert_eq!(d.second_mean_ms(2), None);
//! ```

/// See the module docs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OneWayDelay {
    sum_ns: u128,
    count: u64,
    max_ns: u64,
    /// (first second index, per-second (sum ns, count)).
    seconds: (u64, Vec<(u64, u32)>),
}

impl OneWayDelay {
    /// Adds one packet that arrived at `arrival_ns` after `delay_ns` in the network.
    pub fn add(&mut self, arrival_ns: u64, delay_ns: u64) {
        self.sum_ns += u128::from(delay_ns);
        self.count += 1;
        self.max_ns = self.max_ns.max(delay_ns);
        let sec = arrival_ns / 1_000_000_000;
        let (first, rows) = &mut self.seconds;
        if rows.is_empty() {
            *first = sec;
        }
        if sec >= *first {
            let i = (sec - *first) as usize;
            if rows.len() <= i {
                rows.resize(i + 1, (0, 0));
            }
            rows[i].0 += delay_ns;
            rows[i].1 += 1;
        }
    }

    /// Packets measured.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Mean one-way delay, ms; None before any packet.
    pub fn mean_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_ns as f64 / self.count as f64 / 1e6)
    }

    /// Largest one-way delay, ms; None before any packet.
    pub fn max_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.max_ns as f64 / 1e6)
    }

    /// Mean one-way delay of the packets that arrived in second `t`, ms.
    pub fn second_mean_ms(&self, t: u64) -> Option<f64> {
        let (first, rows) = &self.seconds;
        let (sum, n) = *rows.get(usize::try_from(t.checked_sub(*first)?).ok()?)?;
        (n > 0).then(|| sum as f64 / f64::from(n) / 1e6)
    }
}
