//! Round-trip time from RTCP sender and receiver reports (RFC 3550 §6.4.1), on the sim clock.
//!
//! A sender report (SR) carries a 64-bit NTP timestamp; the receiver's report block echoes its
//! middle 32 bits as LSR and adds DLSR, the delay between receiving that SR and sending the
//! block, in units of 1/65536 s. When the block arrives back at time A (same compact units):
//! `RTT = A - LSR - DLSR`. webrtc-rs's `rtc` 0.21 reports 0 here, so the agent computes it with
//! these functions where it sees RTCP.
//!
//! Sim time 0 maps to [`NTP_EPOCH_OFFSET_S`] seconds after the NTP era start (2026-01-01
//! 00:00:00 UTC), so timestamps look plausible in a capture and LSR is never 0 by accident.
//!
//! # Example
//! ```
//! use callharness::metrics::rtt::{ntp_from_nanos, ntp_middle32, rtt_from_report, RttEstimator};
//! // SR sent at 1 s, arrives at 1.020 s; RR sent 100 ms later, arrives at 1.140 s.
//! let lsr = ntp_middle32(ntp_from_nanos(1_000_000_000));
//! let dlsr = (0.100 * 65536.0) as u32;
//! let a = ntp_middle32(ntp_from_nanos(1_140_000_000));
//! let rtt = rtt_from_report(a, lsr, dlsr).unwrap();
//! assert!((rtt - 40.0).abs() < 0.05);
//! let mut est = RttEstimator::default();
//! est.add(rtt);
//! assert_eq!(est.count(), 1);
//! ```

use serde::Serialize;

/// NTP seconds of sim time 0: 2026-01-01T00:00:00Z (Unix 1 767 225 600 + 2 208 988 800).
pub const NTP_EPOCH_OFFSET_S: u64 = 3_976_214_400;

/// Nanoseconds of sim time to a 64-bit NTP timestamp (32.32 fixed point seconds).
pub fn ntp_from_nanos(sim_ns: u64) -> u64 {
    let secs = NTP_EPOCH_OFFSET_S + sim_ns / 1_000_000_000;
    let frac = ((u128::from(sim_ns % 1_000_000_000) << 32) / 1_000_000_000) as u64;
    (secs << 32) | frac
}

/// The middle 32 bits of an NTP timestamp (16.16 fixed point seconds), as LSR and A use.
pub fn ntp_middle32(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// Sim time to the compact NTP form directly.
pub fn middle32_from_nanos(sim_ns: u64) -> u32 {
    ntp_middle32(ntp_from_nanos(sim_ns))
}

/// DLSR (1/65536 s units) for a delay in ns, as a receiver writes it.
pub fn dlsr_from_nanos(delay_ns: u64) -> u32 {
    ((u128::from(delay_ns) << 16) / 1_000_000_000).min(u128::from(u32::MAX)) as u32
}

/// RTT in ms from the report block's arrival time `a`, its LSR and DLSR (all compact units).
/// None when LSR is 0 (no SR received yet) or the result is negative (clocks inconsistent).
/// The subtraction wraps, so the 18-hour wrap of the compact form is harmless.
pub fn rtt_from_report(a: u32, lsr: u32, dlsr: u32) -> Option<f64> {
    if lsr == 0 {
        return None;
    }
    let rtt = a.wrapping_sub(lsr).wrapping_sub(dlsr);
    if rtt as i32 >= 0 {
        Some(f64::from(rtt) * 1000.0 / 65536.0)
    } else {
        None
    }
}

/// RTT samples of one stream: last, mean, min, max (ms).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RttEstimator {
    count: u64,
    sum_ms: f64,
    last_ms: Option<f64>,
    min_ms: Option<f64>,
    max_ms: Option<f64>,
}

impl RttEstimator {
    /// Adds one sample (ms).
    pub fn add(&mut self, rtt_ms: f64) {
        self.count += 1;
        self.sum_ms += rtt_ms;
        self.last_ms = Some(rtt_ms);
        self.min_ms = Some(self.min_ms.map_or(rtt_ms, |m| m.min(rtt_ms)));
        self.max_ms = Some(self.max_ms.map_or(rtt_ms, |m| m.max(rtt_ms)));
    }

    /// Computes RTT from a report block and adds it; returns it (None when no SR was echoed).
    pub fn on_report_block(&mut self, arrival_ns: u64, lsr: u32, dlsr: u32) -> Option<f64> {
        let rtt = rtt_from_report(middle32_from_nanos(arrival_ns), lsr, dlsr)?;
        self.add(rtt);
        Some(rtt)
    }

    /// Samples so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Latest sample, ms.
    pub fn last_ms(&self) -> Option<f64> {
        self.last_ms
    }

    /// Mean of the samples, ms.
    pub fn mean_ms(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum_ms / self.count as f64)
    }

    /// Smallest sample, ms.
    pub fn min_ms(&self) -> Option<f64> {
        self.min_ms
    }

    /// Largest sample, ms.
    pub fn max_ms(&self) -> Option<f64> {
        self.max_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn ntp_conversion() {
        assert_eq!(ntp_from_nanos(0), NTP_EPOCH_OFFSET_S << 32);
        assert_eq!(
            ntp_from_nanos(1_500 * MS),
            ((NTP_EPOCH_OFFSET_S + 1) << 32) | 0x8000_0000
        );
        // Middle 32 bits: low 16 bits of seconds, high 16 bits of the fraction.
        let c = ntp_middle32(ntp_from_nanos(1_500 * MS));
        assert_eq!(
            c,
            (((NTP_EPOCH_OFFSET_S + 1) as u32 & 0xffff) << 16) | 0x8000
        );
        assert_ne!(middle32_from_nanos(0), 0);
    }

    #[test]
    fn rtt_on_known_40ms_path() {
        // 20 ms each way; the receiver holds the SR for 137 ms before its RR.
        let sr_sent = 5_000 * MS;
        let sr_arrived = sr_sent + 20 * MS;
        let rr_sent = sr_arrived + 137 * MS;
        let rr_arrived = rr_sent + 20 * MS;
        let lsr = middle32_from_nanos(sr_sent);
        let dlsr = dlsr_from_nanos(rr_sent - sr_arrived);
        let mut est = RttEstimator::default();
        let rtt = est.on_report_block(rr_arrived, lsr, dlsr).unwrap();
        // Compact units are 15.3 µs; three truncations stay within 0.05 ms.
        assert!((rtt - 40.0).abs() < 0.05, "{rtt}");
        assert_eq!(est.count(), 1);
    }

    #[test]
    fn no_sr_yet_gives_no_rtt() {
        assert_eq!(rtt_from_report(12345, 0, 0), None);
        let mut est = RttEstimator::default();
        assert_eq!(est.on_report_block(MS, 0, 0), None);
        assert_eq!(est.mean_ms(), None);
    }

    #[test]
    fn rtt_across_compact_wrap() {
        // LSR just before the 16.16 wrap, A just after it.
        let lsr = u32::MAX - 655; // ~10 ms before the wrap
        let a = 1966; // ~30 ms after
        let rtt = rtt_from_report(a, lsr, 0).unwrap();
        assert!((rtt - (656.0 + 1966.0) * 1000.0 / 65536.0).abs() < 1e-9);
        // A negative result is rejected, not wrapped into 18 hours.
        assert_eq!(rtt_from_report(1000, 2000, 0), None);
    }

    #[test]
    fn estimator_stats() {
        let mut e = RttEstimator::default();
        for v in [40.0, 42.0, 38.0, 44.0] {
            e.add(v);
        }
        assert_eq!(e.last_ms(), Some(44.0));
        assert_eq!(e.mean_ms(), Some(41.0));
        assert_eq!(e.min_ms(), Some(38.0));
        assert_eq!(e.max_ms(), Some(44.0));
    }
}
