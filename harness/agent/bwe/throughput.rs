//! The acknowledged throughput: what the receiver says arrived, as a smoothed rate.
//!
//! Arrivals are summed over windows of the receiver's clock ([`FIRST_WINDOW`] for the first
//! sample, [`WINDOW`] after), and each window's rate is one sample. Samples are combined as
//! libwebrtc's acknowledged-bitrate estimator combines them, a one-dimensional Bayesian
//! update: a sample far from the estimate is trusted less (its uncertainty is
//! [`UNCERTAINTY_SCALE`] × its relative distance from the estimate), and the estimate's own
//! variance grows by [`PROCESS_VARIANCE`] a sample. One window that came out low because a
//! feedback message was lost, or because the sender paused between frames, moves the estimate
//! a little; a rate that stays low moves it all the way within a few windows.

/// The first window, receiver clock, ns (libwebrtc: 500 ms).
pub const FIRST_WINDOW: u64 = 500_000_000;
/// Each later window, ns (libwebrtc: 150 ms).
pub const WINDOW: u64 = 150_000_000;
/// A sample's uncertainty per unit of relative distance from the estimate (libwebrtc: 10).
pub const UNCERTAINTY_SCALE: f64 = 10.0;
/// Variance added to the estimate's before each sample, (kbit/s)² (libwebrtc: 5).
pub const PROCESS_VARIANCE: f64 = 5.0;
/// The estimate's variance before the first sample, (kbit/s)² (libwebrtc: 50).
pub const INITIAL_VARIANCE: f64 = 50.0;
/// Variance added when the sender expects its rate to change fast (a probe's result, a larger
/// layer), (kbit/s)² (libwebrtc's `ExpectFastRateChange`: 200).
pub const FAST_CHANGE_VARIANCE: f64 = 200.0;

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub struct AckedThroughput {
    /// The latest arrival seen, ns (None before the first).
    prev: Option<u64>,
    /// Receiver time covered by the current window so far, and its bytes.
    covered: u64,
    bytes: u64,
    /// The estimate and its variance, kbit/s and (kbit/s)² (None before the first sample).
    estimate: Option<(f64, f64)>,
}

impl AckedThroughput {
    /// A packet of `size` bytes arrived at `arrival` (receiver clock, ns).
    pub fn on_arrival(&mut self, arrival: u64, size: u32) {
        match self.prev {
            // Out of order by the receiver's clock: the window starts again.
            Some(p) if arrival < p => {
                self.covered = 0;
                self.bytes = 0;
            }
            Some(p) => self.covered += arrival - p,
            None => {}
        }
        self.prev = Some(arrival);
        let window = if self.estimate.is_some() {
            WINDOW
        } else {
            FIRST_WINDOW
        };
        if self.covered >= window {
            let sample = self.bytes as f64 * 8.0 / (window as f64 / 1e9) / 1e3;
            self.covered -= window;
            self.bytes = 0;
            self.update(sample);
        }
        self.bytes += u64::from(size);
    }

    fn update(&mut self, sample_kbps: f64) {
        let Some((est, var)) = self.estimate else {
            self.estimate = Some((sample_kbps, INITIAL_VARIANCE));
            return;
        };
        let uncertainty = UNCERTAINTY_SCALE * (est - sample_kbps).abs() / est.max(1e-9);
        let sample_var = uncertainty * uncertainty;
        let pred_var = var + PROCESS_VARIANCE;
        let e = (sample_var * est + pred_var * sample_kbps) / (sample_var + pred_var);
        self.estimate = Some((e.max(0.0), sample_var * pred_var / (sample_var + pred_var)));
    }

    /// The sender's rate is about to change fast: the next windows weigh more.
    pub fn expect_fast_change(&mut self) {
        if let Some((_, var)) = self.estimate.as_mut() {
            *var += FAST_CHANGE_VARIANCE;
        }
    }

    /// The throughput, bit/s (None before the first window is complete).
    pub fn bps(&self) -> Option<u64> {
        self.estimate.map(|(kbps, _)| (kbps * 1e3) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn a_steady_stream_reads_its_rate_once_the_first_window_is_covered() {
        let mut t = AckedThroughput::default();
        // 1000-byte packets every 10 ms: 800 kbit/s.
        for k in 0..=50u64 {
            assert_eq!(t.bps(), None);
            t.on_arrival(5_000 * MS + k * 10 * MS, 1000);
        }
        assert_eq!(t.bps(), Some(800_000));
        for k in 51..300u64 {
            t.on_arrival(5_000 * MS + k * 10 * MS, 1000);
        }
        assert_eq!(t.bps(), Some(800_000));
    }

    #[test]
    fn one_low_window_moves_it_a_little_a_lasting_change_all_the_way() {
        let mut t = AckedThroughput::default();
        for _ in 0..20 {
            t.update(800.0);
        }
        // Equal samples: the estimate is the sample and its variance 0.
        assert_eq!(t.estimate, Some((800.0, 0.0)));
        // One window at half (a lost feedback message): the closed form of one update. The
        // sample's uncertainty is 10 x 400 / 800 = 5 (variance 25), the estimate's 0 + 5, so
        // (25 x 800 + 5 x 400) / 30.
        t.update(400.0);
        let (e, var) = t.estimate.unwrap();
        assert!((e - 733.333).abs() < 0.01, "{e}");
        assert!((var - 25.0 * 5.0 / 30.0).abs() < 1e-9, "{var}");
        // The rate halves for good: within ten windows (1.5 s) it is within 5 % of it.
        for _ in 0..10 {
            t.update(400.0);
        }
        let low = t.bps().unwrap() as f64 / 1e3;
        assert!((low - 400.0).abs() < 20.0, "{low}");
        // Expecting a fast change, one window takes it most of the way back.
        t.expect_fast_change();
        t.update(800.0);
        let back = t.bps().unwrap() as f64 / 1e3;
        assert!(back > 650.0, "{back}");
    }
}
