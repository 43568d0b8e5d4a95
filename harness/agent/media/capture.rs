//! [`CaptureStalls`]: an outdated microphone driver that stops delivering audio now and then
//! (DEV-DRIVER-OLD), as a seeded schedule of stalls in capture time.
//!
//! The model ([`StallModel::OLD_DRIVER`]): the capture runs for a time drawn uniformly from
//! 2-6 s (mean 4 s), then delivers nothing for a time drawn uniformly from 200-600 ms (mean
//! 400 ms), and so on, from the moment the client starts capturing. A frame whose capture
//! time falls inside a stall never reaches the encoder: the client sends nothing for it, the
//! RTP timestamp moves on with the clock and the sequence number does not (no packet was made),
//! so RFC 3550 sees no loss; the far end's jitter buffer has nothing to play and conceals.
//! The expected share of stalled capture time is `E[stall] / (E[run] + E[stall])` =
//! 0.4 / 4.4 = 9.09 %; the number of frames stalled in a call follows from the schedule, so the
//! far end's concealment is checked against it (see the tests).
//!
//! Everything is a function of the seed (the run's seed, split per call leg), so the same seed
//! stalls at the same frames; only the stalled endpoint's outgoing stream is touched.
//!
//! # Example
//! ```
//! use callharness::agent::media::capture::{CaptureStalls, StallModel};
//! let mut s = CaptureStalls::new(StallModel::OLD_DRIVER, 7);
//! let frame_ns = 20_000_000;
//! let stalled = (0..50 * 3600).filter(|&k| s.stalled_at(k * frame_ns)).count();
//! let share = stalled as f64 / (50.0 * 3600.0);
//! assert!((share - StallModel::OLD_DRIVER.expected_share()).abs() < 0.01, "{share}");
//! ```

use crate::net::rng::splitmix64;

/// How an outdated driver stalls: uniform running and stall times, ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StallModel {
    /// Shortest time the capture runs between stalls, ns.
    pub run_min_ns: u64,
    /// Longest time the capture runs between stalls, ns.
    pub run_max_ns: u64,
    /// Shortest stall, ns.
    pub stall_min_ns: u64,
    /// Longest stall, ns.
    pub stall_max_ns: u64,
}

impl StallModel {
    /// The old driver of DEV-DRIVER-OLD: runs 2-6 s, stalls 200-600 ms (both uniform).
    pub const OLD_DRIVER: StallModel = StallModel {
        run_min_ns: 2_000_000_000,
        run_max_ns: 6_000_000_000,
        stall_min_ns: 200_000_000,
        stall_max_ns: 600_000_000,
    };

    /// Mean running time between stalls, ns.
    pub fn mean_run_ns(&self) -> f64 {
        (self.run_min_ns as f64 + self.run_max_ns as f64) / 2.0
    }

    /// Mean stall, ns.
    pub fn mean_stall_ns(&self) -> f64 {
        (self.stall_min_ns as f64 + self.stall_max_ns as f64) / 2.0
    }

    /// Expected share of capture time stalled, 0..1: `E[stall] / (E[run] + E[stall])`.
    pub fn expected_share(&self) -> f64 {
        self.mean_stall_ns() / (self.mean_run_ns() + self.mean_stall_ns())
    }
}

/// The stall schedule of one capture: asked frame by frame, in capture-time order.
#[derive(Debug, Clone)]
pub struct CaptureStalls {
    model: StallModel,
    rng: u64,
    /// The current (or next) stall: [start, end) in capture time, ns.
    stall_start: u64,
    stall_end: u64,
    stalls: u64,
}

impl CaptureStalls {
    /// The schedule of `model` for `seed`, from capture time 0 (the first stall comes after a
    /// first running time).
    pub fn new(model: StallModel, seed: u64) -> Self {
        let mut s = CaptureStalls {
            model,
            rng: seed,
            stall_start: 0,
            stall_end: 0,
            stalls: 0,
        };
        s.schedule_after(0);
        s
    }

    fn uniform(&mut self, lo: u64, hi: u64) -> u64 {
        self.rng = splitmix64(self.rng);
        lo + self.rng % (hi.saturating_sub(lo) + 1)
    }

    fn schedule_after(&mut self, t: u64) {
        let run = self.uniform(self.model.run_min_ns, self.model.run_max_ns);
        let stall = self.uniform(self.model.stall_min_ns, self.model.stall_max_ns);
        self.stall_start = t + run;
        self.stall_end = self.stall_start + stall;
    }

    /// Whether the capture delivers nothing at capture time `t_ns` (times asked must not go
    /// back).
    pub fn stalled_at(&mut self, t_ns: u64) -> bool {
        while t_ns >= self.stall_end {
            self.stalls += 1;
            self.schedule_after(self.stall_end);
        }
        t_ns >= self.stall_start
    }

    /// Stalls that ended before the last time asked.
    pub fn stalls_ended(&self) -> u64 {
        self.stalls
    }

    /// The model.
    pub fn model(&self) -> StallModel {
        self.model
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME_NS: u64 = 20_000_000;

    #[test]
    fn same_seed_same_stalls_other_seed_other_stalls() {
        let run = |seed| {
            let mut s = CaptureStalls::new(StallModel::OLD_DRIVER, seed);
            (0..3000u64)
                .filter(|&k| s.stalled_at(k * FRAME_NS))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn stalls_have_the_model_lengths_and_spacing() {
        let mut s = CaptureStalls::new(StallModel::OLD_DRIVER, 11);
        let flags: Vec<bool> = (0..50 * 600u64)
            .map(|k| s.stalled_at(k * FRAME_NS))
            .collect();
        // Runs of stalled frames: 200-600 ms is 10-30 frames (a run can round to one more).
        let mut runs = Vec::new();
        let mut gaps = Vec::new();
        let (mut cur, mut prev) = (0u64, false);
        for &f in &flags {
            if f != prev && cur > 0 {
                if prev {
                    runs.push(cur);
                } else {
                    gaps.push(cur);
                }
                cur = 0;
            }
            cur += 1;
            prev = f;
        }
        assert!(runs.len() > 100, "{}", runs.len());
        assert!(runs.iter().all(|&r| (10..=31).contains(&r)), "{runs:?}");
        assert!(gaps.iter().all(|&g| (100..=301).contains(&g)), "{gaps:?}");
        // The first stall comes after a first running time.
        assert!(!flags[..100].iter().any(|&f| f));
    }

    #[test]
    fn a_calls_stalled_share_over_many_seeds_matches_the_finite_window_expectation() {
        // A 29.6 s call (1480 frames) starts with the capture running, so its expected share
        // is below the stationary 1/11: 8.52 % by a Monte Carlo of the same model (2e5 runs of
        // uniform 2-6 s runs and 0.2-0.6 s stalls, independent of this code), with a spread of
        // 1.34 points per call. Over 400 seeds the mean's standard error is 0.067 points;
        // 0.3 points is 4.5 of them.
        let n = 1480u64;
        let mean = (0..400u64)
            .map(|seed| {
                let mut s = CaptureStalls::new(StallModel::OLD_DRIVER, seed);
                (0..n).filter(|&k| s.stalled_at(k * FRAME_NS)).count() as f64 / n as f64
            })
            .sum::<f64>()
            / 400.0;
        eprintln!("mean share over 400 calls {mean}");
        assert!((mean - 0.0852).abs() < 0.003, "{mean}");
    }

    #[test]
    fn stalled_share_matches_the_closed_form() {
        // 10 simulated hours: ~8200 cycles; the share's standard error is about 0.05 points,
        // so 0.3 points is over 5 sigma.
        let m = StallModel::OLD_DRIVER;
        assert!((m.expected_share() - 1.0 / 11.0).abs() < 1e-12);
        let mut s = CaptureStalls::new(m, 5);
        let n = 50 * 36_000u64;
        let stalled = (0..n).filter(|&k| s.stalled_at(k * FRAME_NS)).count();
        let share = stalled as f64 / n as f64;
        assert!((share - m.expected_share()).abs() < 0.003, "{share}");
    }
}
