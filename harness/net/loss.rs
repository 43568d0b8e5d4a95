//! Packet loss models: independent or correlated random loss, Gilbert-Elliott bursts, netem's
//! 4-state Markov model, and a friendly "average loss plus mean burst length" form.
//!
//! Each model is a tiny state machine asked once per packet, `lose(rng) -> bool`.
//!
//! ```
//! use callharness::net::loss::{LossConfig, LossModel};
//! use rand::SeedableRng;
//! let cfg: LossConfig = serde_yaml::from_str("bursty: { average: 2%, mean_burst: 3 }").unwrap();
//! let mut model = LossModel::new(&cfg);
//! let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
//! let lost = (0..100_000).filter(|_| model.lose(&mut rng)).count();
//! assert!(lost > 1_500 && lost < 2_500);
//! ```
//!
//! ## The bursty form
//! `bursty: {average: A, mean_burst: B}` is a simple Gilbert model (every packet lost in the
//! bad state, none in the good one). Its loss bursts are geometric with mean 1/r, so r = 1/B;
//! its loss rate is the bad state's stationary share p/(p + r), so p = A·r/(1 − A). It needs
//! B ≥ 1 and p ≤ 1 (that is, A ≤ B/(B + 1)).

use crate::net::error::NetError;
use crate::net::rng::{chance, unit_f64};
use crate::units::Percent;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// A loss model as written in a profile (one key).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(remote = "Self", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "LossModel")]
pub enum LossConfig {
    /// Each packet lost with probability `rate`; `correlation` makes losses cluster while
    /// keeping the average (a two-state Markov chain with lag-1 correlation ρ).
    Random {
        /// Average loss, a percentage like `2%` (required).
        rate: Percent,
        /// Lag-1 correlation of loss events, a percentage below 100% (default 0%: independent).
        #[serde(default)]
        correlation: Percent,
    },
    /// Gilbert-Elliott with netem's parameter names.
    GilbertElliott {
        /// Good → bad transition probability per packet, a percentage (required).
        p: Percent,
        /// Bad → good transition probability per packet, a percentage (required).
        r: Percent,
        /// Loss probability in the bad state, a percentage (default 100%).
        #[serde(default = "hundred")]
        one_minus_h: Percent,
        /// Loss probability in the good state, a percentage (default 0%).
        #[serde(default)]
        one_minus_k: Percent,
    },
    /// netem's 4-state Markov model (states: 1 received in gap, 2 received in burst, 3 lost
    /// in burst, 4 isolated loss in gap). Missing values take iproute2's defaults.
    FourState {
        /// 1 → 3: a burst starts, a percentage (required).
        p13: Percent,
        /// 3 → 1: a burst ends, a percentage (default 100% − p13).
        #[serde(default)]
        p31: Option<Percent>,
        /// 3 → 2: a received packet inside a burst, a percentage (default 0%).
        #[serde(default)]
        p32: Option<Percent>,
        /// 2 → 3: back to losing inside a burst, a percentage (default 100%).
        #[serde(default)]
        p23: Option<Percent>,
        /// 1 → 4: an isolated loss, a percentage (default 0%).
        #[serde(default)]
        p14: Option<Percent>,
    },
    /// Average loss and mean burst length in packets; see the module docs for the derivation.
    Bursty {
        /// Average loss, a percentage like `2%` (required).
        average: Percent,
        /// Mean number of consecutive lost packets, a number ≥ 1 like `3` (required).
        mean_burst: f64,
    },
}

impl<'de> Deserialize<'de> for LossConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::net::config::one_key_map_enum(d)
    }
}

impl crate::net::config::OneKeyEnum for LossConfig {
    const EXPECTING: &'static str =
        "a loss model with its parameters, like `random: { rate: 1% }` or `bursty: { average: 2%, mean_burst: 3 }`";
    fn derived<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        LossConfig::deserialize(d)
    }
}

impl Serialize for LossConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        LossConfig::serialize(self, s)
    }
}

fn hundred() -> Percent {
    Percent::HUNDRED
}

impl LossConfig {
    /// Checks the parameters; `link` names the link in errors.
    pub fn validate(&self, link: &str) -> Result<(), NetError> {
        match self {
            LossConfig::Random { correlation, .. } if correlation.fraction() >= 1.0 => Err(
                NetError::config(link, "loss.random.correlation", "must be below 100%"),
            ),
            LossConfig::Bursty {
                average,
                mean_burst,
            } => {
                if !(mean_burst.is_finite() && *mean_burst >= 1.0) {
                    return Err(NetError::config(
                        link,
                        "loss.bursty.mean_burst",
                        format!(
                            "{mean_burst} is not a burst length: expected a number of packets ≥ 1"
                        ),
                    ));
                }
                let a = average.fraction();
                if a >= 1.0 || a / (1.0 - a) / mean_burst > 1.0 {
                    return Err(NetError::config(
                        link,
                        "loss.bursty.average",
                        format!(
                            "{average} average loss cannot be reached with bursts of {mean_burst} packets: at most {:.1}%",
                            100.0 * mean_burst / (mean_burst + 1.0)
                        ),
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The parameters (p, r) of the simple Gilbert model for a bursty form, as fractions.
    pub fn bursty_to_gilbert(average: Percent, mean_burst: f64) -> (f64, f64) {
        let a = average.fraction();
        let r = 1.0 / mean_burst;
        ((a * r / (1.0 - a)).min(1.0), r)
    }
}

/// A running loss model.
#[derive(Debug, Clone)]
pub enum LossModel {
    /// No loss.
    None,
    /// Random loss, possibly correlated.
    Random(CorrelatedRandom),
    /// Gilbert-Elliott (also the bursty form).
    GilbertElliott(GilbertElliott),
    /// netem's 4-state model.
    FourState(FourState),
}

impl LossModel {
    /// A model for `cfg` (already validated).
    pub fn new(cfg: &LossConfig) -> LossModel {
        match *cfg {
            LossConfig::Random { rate, correlation } => LossModel::Random(CorrelatedRandom {
                rate: rate.fraction(),
                rho: correlation.fraction(),
                last_lost: false,
            }),
            LossConfig::GilbertElliott {
                p,
                r,
                one_minus_h,
                one_minus_k,
            } => LossModel::GilbertElliott(GilbertElliott::new(
                p.fraction(),
                r.fraction(),
                one_minus_h.fraction(),
                one_minus_k.fraction(),
            )),
            LossConfig::Bursty {
                average,
                mean_burst,
            } => {
                let (p, r) = LossConfig::bursty_to_gilbert(average, mean_burst);
                LossModel::GilbertElliott(GilbertElliott::new(p, r, 1.0, 0.0))
            }
            LossConfig::FourState {
                p13,
                p31,
                p32,
                p23,
                p14,
            } => {
                let p13 = p13.fraction();
                LossModel::FourState(FourState {
                    p13,
                    p31: p31.map_or(1.0 - p13, Percent::fraction),
                    p32: p32.map_or(0.0, Percent::fraction),
                    p23: p23.map_or(1.0, Percent::fraction),
                    p14: p14.map_or(0.0, Percent::fraction),
                    state: 1,
                })
            }
        }
    }

    /// Whether the next packet is lost.
    #[inline]
    pub fn lose(&mut self, rng: &mut Xoshiro256PlusPlus) -> bool {
        match self {
            LossModel::None => false,
            LossModel::Random(m) => m.lose(rng),
            LossModel::GilbertElliott(m) => m.lose(rng),
            LossModel::FourState(m) => m.lose(rng),
        }
    }
}

/// Random loss with mean `rate` and lag-1 correlation `rho` between consecutive loss events:
/// P(lost | previous lost) = rate + ρ(1 − rate), P(lost | previous kept) = rate(1 − ρ). The
/// stationary loss rate is exactly `rate` (unlike netem's correlated uniform draws, which bias
/// it).
#[derive(Debug, Clone)]
pub struct CorrelatedRandom {
    rate: f64,
    rho: f64,
    last_lost: bool,
}

impl CorrelatedRandom {
    #[inline]
    fn lose(&mut self, rng: &mut Xoshiro256PlusPlus) -> bool {
        let p = if self.rho == 0.0 {
            self.rate
        } else if self.last_lost {
            self.rate + self.rho * (1.0 - self.rate)
        } else {
            self.rate * (1.0 - self.rho)
        };
        self.last_lost = chance(rng, p);
        self.last_lost
    }
}

/// The Gilbert-Elliott model: a good and a bad state, each losing packets with its own
/// probability (1−k and 1−h); after each packet the state moves good → bad with probability p
/// and bad → good with probability r.
#[derive(Debug, Clone)]
pub struct GilbertElliott {
    p: f64,
    r: f64,
    loss_bad: f64,
    loss_good: f64,
    bad: bool,
}

impl GilbertElliott {
    /// A model from netem's p, r, 1−h, 1−k (fractions), starting in the good state.
    pub fn new(p: f64, r: f64, one_minus_h: f64, one_minus_k: f64) -> GilbertElliott {
        GilbertElliott {
            p,
            r,
            loss_bad: one_minus_h,
            loss_good: one_minus_k,
            bad: false,
        }
    }

    /// The long-run loss rate: π_good(1−k) + π_bad(1−h), with π_bad = p/(p + r).
    pub fn stationary_loss(&self) -> f64 {
        if self.p + self.r == 0.0 {
            return self.loss_good;
        }
        let pb = self.p / (self.p + self.r);
        (1.0 - pb) * self.loss_good + pb * self.loss_bad
    }

    #[inline]
    fn lose(&mut self, rng: &mut Xoshiro256PlusPlus) -> bool {
        let lost = chance(
            rng,
            if self.bad {
                self.loss_bad
            } else {
                self.loss_good
            },
        );
        let u = unit_f64(rng);
        self.bad = if self.bad { u >= self.r } else { u < self.p };
        lost
    }
}

/// netem's 4-state model: state 1 (received, gap), 2 (received, burst), 3 (lost, burst),
/// 4 (isolated loss, gap). Each packet first moves the state, then is lost in states 3 and 4.
#[derive(Debug, Clone)]
pub struct FourState {
    p13: f64,
    p31: f64,
    p32: f64,
    p23: f64,
    p14: f64,
    state: u8,
}

impl FourState {
    /// The transition matrix, rows = from state 1..4, for computing theory in tests.
    pub fn matrix(&self) -> [[f64; 4]; 4] {
        [
            [1.0 - self.p13 - self.p14, 0.0, self.p13, self.p14],
            [0.0, 1.0 - self.p23, self.p23, 0.0],
            [self.p31, self.p32, 1.0 - self.p31 - self.p32, 0.0],
            [1.0, 0.0, 0.0, 0.0],
        ]
    }

    #[inline]
    fn lose(&mut self, rng: &mut Xoshiro256PlusPlus) -> bool {
        let u = unit_f64(rng);
        self.state = match self.state {
            1 if u < self.p13 => 3,
            1 if u < self.p13 + self.p14 => 4,
            1 => 1,
            2 if u < self.p23 => 3,
            2 => 2,
            3 if u < self.p31 => 1,
            3 if u < self.p31 + self.p32 => 2,
            3 => 3,
            _ => 1,
        };
        self.state >= 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn run(cfg: &str, n: usize, seed: u64) -> Vec<bool> {
        let cfg: LossConfig = serde_yaml::from_str(cfg).unwrap();
        cfg.validate("test").unwrap();
        let mut m = LossModel::new(&cfg);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n).map(|_| m.lose(&mut rng)).collect()
    }

    /// Mean length of runs of consecutive losses.
    fn mean_burst(v: &[bool]) -> f64 {
        let bursts = v.windows(2).filter(|w| w[1] && !w[0]).count() + usize::from(v[0]);
        v.iter().filter(|&&l| l).count() as f64 / bursts as f64
    }

    fn rate(v: &[bool]) -> f64 {
        v.iter().filter(|&&l| l).count() as f64 / v.len() as f64
    }

    #[test]
    fn random_loss_is_within_the_binomial_bound() {
        // 200k independent trials at p = 5 %: the count is Binomial(n, p); 99.9 % of outcomes
        // lie within p ± 3.29·√(p(1−p)/n) = 5 % ± 0.16 %.
        for seed in 1..=3 {
            let v = run("random: { rate: 5% }", 200_000, seed);
            let bound = 3.29 * (0.05f64 * 0.95 / 200_000.0).sqrt();
            assert!((rate(&v) - 0.05).abs() < bound, "seed {seed}: {}", rate(&v));
        }
    }

    #[test]
    fn correlated_random_loss_keeps_its_rate_and_clusters() {
        // ρ = 50 %: P(loss | loss) = 0.05 + 0.5·0.95 = 0.525. Correlation widens the se of the
        // rate by √((1+ρ)/(1−ρ)) = 1.73, so the bound is 3.29·1.73·σ_binomial over 1M packets.
        let n = 1_000_000;
        let v = run("random: { rate: 5%, correlation: 50% }", n, 4);
        let bound = 3.29 * 1.74 * (0.05f64 * 0.95 / n as f64).sqrt();
        assert!((rate(&v) - 0.05).abs() < bound, "{}", rate(&v));
        let after_loss: Vec<bool> = v.windows(2).filter(|w| w[0]).map(|w| w[1]).collect();
        // ~50k conditioning events: se of a proportion near 0.5 is 0.0022; ±0.01 is > 4σ.
        assert!(
            (rate(&after_loss) - 0.525).abs() < 0.01,
            "{}",
            rate(&after_loss)
        );
    }

    #[test]
    fn gilbert_burst_length_and_rate_match_theory() {
        // Simple Gilbert p = 2 %, r = 25 %: loss p/(p+r) = 7.41 %, bursts geometric with
        // mean 1/r = 4 (sd √(1−r)/r = 3.46). 1M packets give ~18.5k bursts: se of the mean
        // burst 0.025 (0.6 %), se of the rate ≈ 0.1 % relative, so 5 % is far beyond 4σ.
        let v = run("gilbert_elliott: { p: 2%, r: 25% }", 1_000_000, 5);
        let want = 0.02 / 0.27;
        assert!((rate(&v) / want - 1.0).abs() < 0.05, "{}", rate(&v));
        assert!(
            (mean_burst(&v) / 4.0 - 1.0).abs() < 0.05,
            "{}",
            mean_burst(&v)
        );
    }

    #[test]
    fn gilbert_elliott_with_partial_loss_matches_stationary_rate() {
        // p 1 %, r 10 %, 1−h 80 %, 1−k 0.5 %: π_bad = 1/11, loss = 10/11·0.005 + 1/11·0.8.
        let v = run(
            "gilbert_elliott: { p: 1%, r: 10%, one_minus_h: 80%, one_minus_k: 0.5% }",
            1_000_000,
            6,
        );
        let want = GilbertElliott::new(0.01, 0.1, 0.8, 0.005).stationary_loss();
        assert!((want - (10.0 / 11.0 * 0.005 + 0.8 / 11.0)).abs() < 1e-12);
        assert!(
            (rate(&v) / want - 1.0).abs() < 0.05,
            "{} vs {want}",
            rate(&v)
        );
    }

    #[test]
    fn bursty_form_derives_gilbert_parameters() {
        // average 3 %, mean burst 2.5 → r = 0.4, p = 0.03·0.4/0.97.
        let (p, r) = LossConfig::bursty_to_gilbert(Percent::new(3.0).unwrap(), 2.5);
        assert!((r - 0.4).abs() < 1e-12 && (p - 0.012 / 0.97).abs() < 1e-12);
        let v = run("bursty: { average: 3%, mean_burst: 2.5 }", 1_000_000, 7);
        assert!((rate(&v) / 0.03 - 1.0).abs() < 0.05, "{}", rate(&v));
        assert!(
            (mean_burst(&v) / 2.5 - 1.0).abs() < 0.05,
            "{}",
            mean_burst(&v)
        );
    }

    #[test]
    fn bursty_rejects_impossible_combinations() {
        let cfg: LossConfig =
            serde_yaml::from_str("bursty: { average: 80%, mean_burst: 1 }").unwrap();
        let e = cfg.validate("x").unwrap_err().to_string();
        assert!(e.contains("at most 50.0%"), "{e}");
        let cfg: LossConfig =
            serde_yaml::from_str("bursty: { average: 1%, mean_burst: 0.5 }").unwrap();
        assert!(cfg.validate("x").is_err());
    }

    #[test]
    fn four_state_matches_its_stationary_loss() {
        let cfg = "four_state: { p13: 1%, p31: 30%, p32: 20%, p23: 40%, p14: 0.5% }";
        let v = run(cfg, 1_000_000, 8);
        let LossModel::FourState(m) = LossModel::new(&serde_yaml::from_str(cfg).unwrap()) else {
            unreachable!()
        };
        // Stationary distribution by power iteration; loss = π3 + π4.
        let t = m.matrix();
        let mut pi = [0.25; 4];
        for _ in 0..10_000 {
            let mut next = [0.0; 4];
            for (i, row) in t.iter().enumerate() {
                for j in 0..4 {
                    next[j] += pi[i] * row[j];
                }
            }
            pi = next;
        }
        let want = pi[2] + pi[3];
        assert!(
            (rate(&v) / want - 1.0).abs() < 0.05,
            "{} vs {want}",
            rate(&v)
        );
    }
}
