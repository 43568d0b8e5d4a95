//! Burst and gap loss metrics (RFC 3611 §4.7.2) and the 2-state Markov burst ratio (G.113).
//!
//! A loss pattern is not described by its loss rate alone: 5 % lost one packet at a time sounds
//! very different from 5 % lost in runs of ten. This module takes the received/lost record of a
//! stream ([`LossRecord`]) and reports:
//! - RFC 3611 burst/gap metrics with threshold `Gmin` (16 by default): burst and gap density,
//!   mean burst and gap duration (ms), number of bursts;
//! - the 2-state Markov estimate `p = P(lost | previous received)`,
//!   `r = P(received | previous lost)` and `BurstR = 1 / (p + r)`, which the E-model's
//!   `Ie_eff` uses ([`emodel`](crate::metrics::emodel)): 1 for random loss, above 1 for bursty.
//!
//! # Definitions
//! - A **loss cluster** is a maximal run of slots that starts and ends with a lost packet and
//!   contains no run of `Gmin` or more consecutively received packets.
//! - A cluster with two or more losses is a **burst**. A cluster of a single loss is an isolated
//!   loss and belongs to the gap: RFC 3611 requires that "any lost or discarded packets within
//!   the gap must be preceded and followed by at least Gmin packets that were received", and
//!   assumes the session is preceded and followed by Gmin received packets; its Appendix A.2
//!   algorithm counts such a loss as gap loss (state 4). Everything not in a burst is **gap**.
//! - **Burst density** = lost / slots over all bursts; **gap density** = lost / slots over all
//!   gap slots (fractions 0..=1, 0 when there is no burst or no gap).
//! - **Mean burst duration** = burst slots / bursts × packet interval; **mean gap duration** =
//!   gap slots / gaps × packet interval, where the gaps are the maximal non-burst stretches
//!   (before the first burst, between bursts, after the last).
//! - Markov estimates count transitions between consecutive slots. Edge cases: with no loss,
//!   `p = 0`, `r = 1` and `BurstR = 1`; when a state has no outgoing transition (the only loss is
//!   the last slot, or every slot is lost), its probability takes the random-loss value
//!   (`p = loss fraction`, `r = 1 - loss fraction`).
//! - Only network loss is in the record: packets discarded late by the jitter buffer are not.
//!
//! # Example
//! ```
//! use callharness::metrics::burst::{analyze, GMIN_DEFAULT};
//! use callharness::metrics::receiver::LossRecord;
//! // 20 received, 3 lost in a row, 20 received.
//! let rec = LossRecord::from_received((0..43).map(|i| !(20..23).contains(&i)));
//! let b = analyze(&rec, GMIN_DEFAULT, 20.0);
//! assert_eq!(b.burst_count, 1);
//! assert_eq!(b.burst_density, 1.0);
//! assert_eq!(b.mean_burst_ms, 60.0);
//! assert!(b.markov.burst_r > 1.0);
//! ```

use crate::metrics::receiver::LossRecord;
use serde::Serialize;

/// RFC 3611's recommended gap threshold.
pub const GMIN_DEFAULT: u32 = 16;

/// The 2-state Markov (Gilbert) loss estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MarkovLoss {
    /// P(lost | previous received).
    pub p: f64,
    /// P(received | previous lost).
    pub r: f64,
    /// `1 / (p + r)`: 1 for random loss, > 1 for bursty loss.
    pub burst_r: f64,
}

/// RFC 3611 burst/gap metrics and the Markov burst ratio of one stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BurstGap {
    /// The gap threshold used.
    pub gmin: u32,
    /// Slots analysed.
    pub packets: u64,
    /// Slots lost.
    pub lost: u64,
    /// Number of bursts.
    pub burst_count: u64,
    /// Slots inside bursts.
    pub burst_packets: u64,
    /// Lost slots inside bursts.
    pub burst_lost: u64,
    /// Number of gaps (maximal stretches between bursts).
    pub gap_count: u64,
    /// Slots inside gaps.
    pub gap_packets: u64,
    /// Lost (isolated) slots inside gaps.
    pub gap_lost: u64,
    /// Lost / slots in bursts, 0..=1.
    pub burst_density: f64,
    /// Lost / slots in gaps, 0..=1.
    pub gap_density: f64,
    /// Mean burst duration, ms.
    pub mean_burst_ms: f64,
    /// Mean gap duration, ms.
    pub mean_gap_ms: f64,
    /// 2-state Markov estimate and BurstR.
    pub markov: MarkovLoss,
}

/// Analyses a stream's loss record with threshold `gmin` (use [`GMIN_DEFAULT`]) and the
/// stream's packet interval in ms (20 for Opus 20 ms frames).
pub fn analyze(record: &LossRecord, gmin: u32, packet_interval_ms: f64) -> BurstGap {
    analyze_iter(record.iter(), gmin, packet_interval_ms)
}

/// As [`analyze`], over any received (true) / lost (false) sequence.
pub fn analyze_iter<I: IntoIterator<Item = bool>>(
    received: I,
    gmin: u32,
    packet_interval_ms: f64,
) -> BurstGap {
    let gmin = u64::from(gmin.max(1));
    let mut n = 0u64;
    let mut lost = 0u64;
    // Open cluster: first and last lost slot, losses in it.
    let mut cluster: Option<(u64, u64, u64)> = None;
    let mut run = 0u64; // received since the last loss
    let mut bursts = Bursts::default();
    // Markov transitions.
    let (mut rl, mut rr, mut lr, mut ll) = (0u64, 0u64, 0u64, 0u64);
    let mut prev: Option<bool> = None;

    for ok in received {
        let i = n;
        n += 1;
        match (prev, ok) {
            (Some(true), true) => rr += 1,
            (Some(true), false) => rl += 1,
            (Some(false), true) => lr += 1,
            (Some(false), false) => ll += 1,
            (None, _) => {}
        }
        prev = Some(ok);
        if ok {
            run += 1;
            continue;
        }
        lost += 1;
        cluster = match cluster {
            Some((start, _, count)) if run < gmin => Some((start, i, count + 1)),
            other => {
                if let Some(c) = other {
                    bursts.close(c);
                }
                Some((i, i, 1))
            }
        };
        run = 0;
    }
    if let Some(c) = cluster {
        bursts.close(c);
    }

    let gap_packets = n - bursts.packets;
    let gap_lost = lost - bursts.lost;
    let gap_count = if n == 0 {
        0
    } else if bursts.count == 0 {
        1
    } else {
        bursts.count + 1 - u64::from(bursts.first_start == 0) - u64::from(bursts.last_end + 1 == n)
    };
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };

    let loss_fraction = ratio(lost, n);
    let markov = if lost == 0 {
        MarkovLoss {
            p: 0.0,
            r: 1.0,
            burst_r: 1.0,
        }
    } else {
        let p = if rl + rr == 0 {
            loss_fraction
        } else {
            ratio(rl, rl + rr)
        };
        let r = if lr + ll == 0 {
            1.0 - loss_fraction
        } else {
            ratio(lr, lr + ll)
        };
        let burst_r = if p + r > 0.0 { 1.0 / (p + r) } else { 1.0 };
        MarkovLoss { p, r, burst_r }
    };

    BurstGap {
        gmin: gmin as u32,
        packets: n,
        lost,
        burst_count: bursts.count,
        burst_packets: bursts.packets,
        burst_lost: bursts.lost,
        gap_count,
        gap_packets,
        gap_lost,
        burst_density: ratio(bursts.lost, bursts.packets),
        gap_density: ratio(gap_lost, gap_packets),
        mean_burst_ms: ratio(bursts.packets, bursts.count) * packet_interval_ms,
        mean_gap_ms: ratio(gap_packets, gap_count) * packet_interval_ms,
        markov,
    }
}

#[derive(Default)]
struct Bursts {
    count: u64,
    packets: u64,
    lost: u64,
    first_start: u64,
    last_end: u64,
}

impl Bursts {
    fn close(&mut self, (start, end, losses): (u64, u64, u64)) {
        if losses < 2 {
            return; // an isolated loss: gap
        }
        if self.count == 0 {
            self.first_start = start;
        }
        self.count += 1;
        self.packets += end - start + 1;
        self.lost += losses;
        self.last_end = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn pattern(s: &str) -> Vec<bool> {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c == 'R')
            .collect()
    }

    fn rep(c: char, n: usize) -> String {
        std::iter::repeat_n(c, n).collect()
    }

    #[test]
    fn hand_made_pattern() {
        let r20 = rep('R', 20);
        let s = format!("{r20} L {r20} LRLRRL {r20} LL {r20}");
        let b = analyze_iter(pattern(&s), 16, 20.0);
        assert_eq!(b.packets, 89);
        assert_eq!(b.lost, 6);
        assert_eq!(b.burst_count, 2);
        assert_eq!((b.burst_packets, b.burst_lost), (8, 5));
        assert_eq!((b.gap_packets, b.gap_lost), (81, 1));
        assert_eq!(b.gap_count, 3);
        assert!((b.burst_density - 0.625).abs() < 1e-12);
        assert!((b.gap_density - 1.0 / 81.0).abs() < 1e-12);
        assert!((b.mean_burst_ms - 80.0).abs() < 1e-12);
        assert!((b.mean_gap_ms - 540.0).abs() < 1e-12);
    }

    #[test]
    fn gmin_boundary() {
        // 15 received between two losses: one burst of 17 slots. 16 received: two isolated.
        let s = format!("{} L {} L {}", rep('R', 20), rep('R', 15), rep('R', 20));
        let b = analyze_iter(pattern(&s), 16, 20.0);
        assert_eq!((b.burst_count, b.burst_packets), (1, 17));
        let s = format!("{} L {} L {}", rep('R', 20), rep('R', 16), rep('R', 20));
        let b = analyze_iter(pattern(&s), 16, 20.0);
        assert_eq!(b.burst_count, 0);
        assert_eq!(b.gap_lost, 2);
        assert_eq!(b.gap_count, 1);
    }

    #[test]
    fn burst_at_edges_counts_gaps() {
        let s = format!("LL {} LL", rep('R', 30));
        let b = analyze_iter(pattern(&s), 16, 20.0);
        assert_eq!(b.burst_count, 2);
        assert_eq!(b.gap_count, 1);
        assert!((b.mean_gap_ms - 600.0).abs() < 1e-12);
    }

    #[test]
    fn no_loss_and_all_lost_edges() {
        let b = analyze_iter(vec![true; 100], 16, 20.0);
        assert_eq!(b.markov.burst_r, 1.0);
        assert_eq!(b.burst_count, 0);
        assert_eq!(b.gap_density, 0.0);
        let b = analyze_iter(vec![false; 100], 16, 20.0);
        assert_eq!(b.burst_density, 1.0);
        assert!(b.markov.burst_r.is_finite());
        let b = analyze_iter(Vec::<bool>::new(), 16, 20.0);
        assert_eq!((b.packets, b.gap_count), (0, 0));
    }

    #[test]
    fn markov_exact_on_small_pattern() {
        // R R L L R R R L: transitions RR 3, RL 2, LL 1, LR 1 -> p = 2/5, r = 1/2.
        let b = analyze_iter(pattern("RRLLRRRL"), 16, 20.0);
        assert!((b.markov.p - 0.4).abs() < 1e-12);
        assert!((b.markov.r - 0.5).abs() < 1e-12);
        assert!((b.markov.burst_r - 1.0 / 0.9).abs() < 1e-12);
    }

    /// Two-state Gilbert chain: in Good, lose with prob p; in Bad (lost), recover with prob r.
    fn gilbert(seed: u64, n: usize, p: f64, r: f64) -> Vec<bool> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut ok = true;
        (0..n)
            .map(|_| {
                ok = if ok {
                    !rng.gen_bool(p)
                } else {
                    rng.gen_bool(r)
                };
                ok
            })
            .collect()
    }

    #[test]
    fn bursty_vs_uniform_burst_ratio() {
        // 200 000 slots: the estimates have standard errors around 2-3 %, so a 10 % bound on
        // BurstR is about 4 sigma.
        let ge = gilbert(7, 200_000, 0.02, 0.25);
        let b = analyze_iter(ge, 16, 20.0);
        let expect = 1.0 / 0.27;
        assert!(
            (b.markov.burst_r - expect).abs() / expect < 0.10,
            "{:?}",
            b.markov
        );
        assert!(b.burst_count > 100);
        assert!(b.burst_density > 0.5, "{}", b.burst_density);

        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let uniform: Vec<bool> = (0..200_000).map(|_| !rng.gen_bool(0.05)).collect();
        let u = analyze_iter(uniform, 16, 20.0);
        assert!((u.markov.burst_r - 1.0).abs() < 0.05, "{:?}", u.markov);
    }
}
