//! Propagation delay and jitter, as netem defines them.
//!
//! A packet's delay is `delay + amount × X`, where X is drawn from the distribution's table
//! (netem's approach: 4096 quantiles, picked by one uniform random number) and the total is
//! never below zero. netem's correlation mixes each uniform number with the previous one,
//! `u = (1 − ρ)·U + ρ·u_prev`, which makes consecutive delays similar (and, as in netem,
//! narrows the distribution). Reordering is decided by the link, which knows the previous
//! packet's delivery time.
//!
//! ```
//! use callharness::net::delay::DelayModel;
//! use callharness::net::{JitterConfig, Distribution, Reorder};
//! use callharness::units::{Dur, Percent};
//! use rand::SeedableRng;
//! let jitter = JitterConfig { amount: Dur::from_millis(5), distribution: Distribution::Normal,
//!     correlation: Percent::ZERO, reorder: Reorder::Forbid };
//! let mut model = DelayModel::new(Some(Dur::from_millis(40)), Some(&jitter));
//! let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
//! let d = model.sample(&mut rng); // nanoseconds, around 40 ms ± 5 ms
//! assert!(d > 10_000_000 && d < 70_000_000);
//! ```

use crate::net::config::{Distribution, JitterConfig};
use crate::net::rng::unit_f64;
use crate::units::Dur;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::sync::OnceLock;

/// Entries in each distribution table (netem's pareto and paretonormal tables have 4096).
pub const TABLE_SIZE: usize = 4096;

/// Base delay plus optional jitter for one direction of a link.
#[derive(Debug, Clone)]
pub struct DelayModel {
    base: f64,
    jitter: Option<Jitter>,
}

#[derive(Debug, Clone)]
struct Jitter {
    amount: f64,
    table: Option<&'static [f64]>,
    rho: f64,
    last_u: f64,
}

impl DelayModel {
    /// A model with `delay` (default 0) and optional jitter.
    pub fn new(delay: Option<Dur>, jitter: Option<&JitterConfig>) -> DelayModel {
        DelayModel {
            base: delay.map_or(0.0, |d| d.as_nanos() as f64),
            jitter: jitter.filter(|j| j.amount.as_nanos() > 0).map(|j| Jitter {
                amount: j.amount.as_nanos() as f64,
                table: match j.distribution {
                    Distribution::Uniform => None,
                    d => Some(table(d)),
                },
                rho: j.correlation.fraction(),
                last_u: 0.5,
            }),
        }
    }

    /// The base propagation delay in nanoseconds.
    pub fn base(&self) -> u64 {
        self.base as u64
    }

    /// One packet's delay in nanoseconds (base plus a jitter draw, at least 0).
    #[inline]
    pub fn sample(&mut self, rng: &mut Xoshiro256PlusPlus) -> u64 {
        let Some(j) = &mut self.jitter else {
            return self.base as u64;
        };
        let mut u = unit_f64(rng);
        if j.rho > 0.0 {
            u = (1.0 - j.rho) * u + j.rho * j.last_u;
            j.last_u = u;
        }
        let x = match j.table {
            None => 2.0 * u - 1.0,
            Some(t) => t[((u * TABLE_SIZE as f64) as usize).min(TABLE_SIZE - 1)],
        };
        (self.base + j.amount * x).max(0.0) as u64
    }
}

/// The standard table for a distribution: `TABLE_SIZE` sorted values of mean ≈ 0.
/// Uniform has no table (it is computed directly); asking for it gives the normal table.
pub fn table(d: Distribution) -> &'static [f64] {
    static NORMAL: OnceLock<Vec<f64>> = OnceLock::new();
    static PARETO: OnceLock<Vec<f64>> = OnceLock::new();
    static PARETONORMAL: OnceLock<Vec<f64>> = OnceLock::new();
    let q = |i: usize| (i as f64 + 0.5) / TABLE_SIZE as f64;
    match d {
        Distribution::Pareto => {
            PARETO.get_or_init(|| (0..TABLE_SIZE).map(|i| pareto(q(i))).collect())
        }
        Distribution::Paretonormal => PARETONORMAL.get_or_init(|| {
            (0..TABLE_SIZE)
                .map(|i| (inverse_normal_cdf(q(i)) + 3.0 * pareto(q(i))) / 4.0)
                .collect()
        }),
        _ => NORMAL.get_or_init(|| (0..TABLE_SIZE).map(|i| inverse_normal_cdf(q(i))).collect()),
    }
}

/// netem's pareto value at quantile `q`: a Pareto of shape 3 and scale 1 (mean 1.5), shifted
/// to mean 0, scaled by 4/3 and clipped at 4 (32767/8192 in netem's fixed point), as iproute2's
/// `pareto.c` builds its table.
fn pareto(q: f64) -> f64 {
    let x = (1.0 - q).powf(-1.0 / 3.0);
    ((x - 1.5) * 4.0 / 3.0).min(32767.0 / 8192.0)
}

/// The standard normal quantile function (P. J. Acklam's rational approximation, relative
/// error below 1.2e-9), used to build the normal table.
#[allow(clippy::excessive_precision)] // Acklam's coefficients, quoted as published
pub fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383577518672690e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758276161838e+00,
        -2.549671010422304e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    const LOW: f64 = 0.02425;
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

/// Mean and standard deviation of a table (what `amount` scales).
pub fn table_stats(t: &[f64]) -> (f64, f64) {
    let n = t.len() as f64;
    let mean = t.iter().sum::<f64>() / n;
    let var = t.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::config::Reorder;
    use crate::units::Percent;
    use rand::SeedableRng;

    const N: usize = 200_000;

    fn run(dist: Distribution, rho: f64) -> (f64, f64) {
        let j = JitterConfig {
            amount: Dur::from_millis(10),
            distribution: dist,
            correlation: Percent::from_fraction(rho).unwrap(),
            reorder: Reorder::Allow,
        };
        let mut m = DelayModel::new(Some(Dur::from_millis(50)), Some(&j));
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let xs: Vec<f64> = (0..N).map(|_| m.sample(&mut rng) as f64 / 1e6).collect();
        table_stats(&xs)
    }

    #[test]
    fn tables_are_centred_and_scaled_like_netem() {
        let (m, s) = table_stats(table(Distribution::Normal));
        // 4096 mid-quantiles of N(0,1): symmetric (mean 0 to rounding) and truncated at
        // ±3.6σ, which loses under 0.2 % of the variance.
        assert!(m.abs() < 1e-9 && (s - 1.0).abs() < 0.003, "normal {m} {s}");
        let (m, s) = table_stats(table(Distribution::Pareto));
        // Pareto(3) − 1.5 has mean 0 and sd √3/2; ×4/3 gives sd 1.155. Clipping at 4 (netem's
        // 16-bit table limit) cuts the top 1.1 % of the mass, where the heavy tail carries much
        // of the variance: the table's mean is −0.033 and its sd 0.82, as netem's table.
        assert!(
            (m + 0.033).abs() < 0.005 && (s - 0.82).abs() < 0.01,
            "pareto {m} {s}"
        );
        let (m, _) = table_stats(table(Distribution::Paretonormal));
        // ¾ of the pareto table's mean, plus ¼ of the normal's 0.
        assert!((m + 0.75 * 0.033).abs() < 0.005, "paretonormal {m}");
    }

    #[test]
    fn mean_and_spread_match_each_distribution() {
        // Base 50 ms, amount 10 ms, 200k samples. Standard error of the mean is
        // sd/√N ≈ 10/447 ≈ 0.022 ms, so ±0.1 ms is over 4σ. The sample sd of 200k draws is
        // within ~0.5 % of the true sd at 4σ (its relative se is ≈ √(κ−1)/(2√N)); we allow 2 %.
        for dist in [
            Distribution::Uniform,
            Distribution::Normal,
            Distribution::Pareto,
            Distribution::Paretonormal,
        ] {
            let (mean, sd) = run(dist, 0.0);
            let (tm, ts) = match dist {
                // Uniform on [−a, a): mean 0, sd a/√3.
                Distribution::Uniform => (0.0, 1.0 / 3f64.sqrt()),
                d => table_stats(table(d)),
            };
            let (want_mean, want_sd) = (50.0 + 10.0 * tm, 10.0 * ts);
            assert!(
                (mean - want_mean).abs() < 0.1,
                "{dist:?}: mean {mean} want {want_mean}"
            );
            assert!(
                (sd / want_sd - 1.0).abs() < 0.02,
                "{dist:?}: sd {sd} want {want_sd}"
            );
        }
    }

    #[test]
    fn correlation_keeps_the_mean_and_narrows_the_spread() {
        // netem's correlation u = (1−ρ)U + ρu' keeps E[u] = ½ (mean unchanged) and shrinks
        // var(u) by (1−ρ)²/(1−ρ²) = (1−ρ)/(1+ρ): for ρ = 0.5 the uniform sd becomes
        // 10/√3 × √(1/3) = 3.33 ms. Correlated samples have a larger standard error
        // (×√((1+ρ)/(1−ρ)) = ×1.7), still well inside these bounds.
        let (mean, sd) = run(Distribution::Uniform, 0.5);
        assert!((mean - 50.0).abs() < 0.1, "{mean}");
        let want = 10.0 / 3f64.sqrt() * (1.0f64 / 3.0).sqrt();
        assert!((sd / want - 1.0).abs() < 0.03, "{sd} vs {want}");
    }

    #[test]
    fn no_jitter_is_exactly_the_base_delay() {
        let mut m = DelayModel::new(Some(Dur::from_millis(30)), None);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        assert!((0..1000).all(|_| m.sample(&mut rng) == 30_000_000));
    }
}
