//! The E-model (ITU-T G.107, narrowband, 0..100 scale): R factor and MOS from delay and loss.
//!
//! `R = Ro - Is - Id - Ie_eff + A`. With every G.107 default and no delay or loss, `Ro - Is`
//! and the default-condition delay terms give **R = 93.2** ([`R_DEFAULT`]); this module starts
//! from that value and subtracts what the call adds:
//! - `Id` from the mouth-to-ear delay `Ta` = one-way network delay + jitter-buffer delay +
//!   codec delay (packetisation + look-ahead; for Opus 20 ms frames: 20 + 6.5 = 26.5 ms, the
//!   6.5 ms being libopus's encoder look-ahead at 48 kHz, `OPUS_GET_LOOKAHEAD` = 312 samples).
//!   [`DelayFormula`] says which formula: Cole and Rosenbluth's simplification (the default,
//!   `Id = 0.024 Ta + 0.11 (Ta - 177.3) H(Ta - 177.3)`) or G.107's `Idd` term (0 up to 100 ms,
//!   then `25 ((1 + X^6)^(1/6) - 3 (1 + (X/3)^6)^(1/6) + 2)`, `X = log2(Ta / 100)`), with the
//!   talker- and listener-echo terms left at their default-condition values (already in 93.2;
//!   with G.107's default TELR of 65 dB echo is negligible).
//! - `Ie_eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)` with the codec's `Ie` and `Bpl` from
//!   a [`CodecTable`] and `BurstR` from [`burst`](crate::metrics::burst).
//!
//! MOS is G.107's mapping ([`mos_from_r`]). The *network MOS degradation* is the MOS the same
//! codec would get with no network delay, no jitter-buffer delay and no loss, minus the MOS
//! measured: the drop the network caused (codec delay and `Ie` are in both, so they cancel).
//!
//! The wideband E-model (G.107.1, 0..129) is not mixed in: every R here is narrowband.
//!
//! # Example
//! ```
//! use callharness::metrics::emodel::{mos_from_r, CodecTable, EModel, EModelInput};
//! assert!((mos_from_r(93.2) - 4.41).abs() < 0.005);
//! let table = CodecTable::default();
//! let opus = table.get("opus").unwrap();
//! let r = EModel::default().rate(opus, &EModelInput {
//!     one_way_network_ms: 20.0, jitter_buffer_ms: 40.0, loss_pct: 1.0, burst_r: 1.0,
//! });
//! assert!(r.r_factor < 93.2 && r.mos > 4.0);
//! assert!(r.codec_assumed); // Opus has no G.113 entry
//! ```

pub use super::opus_ie::opus_ie_assumed;
use serde::{Deserialize, Serialize};

/// R with every G.107 default and no delay or loss (narrowband).
pub const R_DEFAULT: f64 = 93.2;

/// Which delay-impairment formula computes `Id` from `Ta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DelayFormula {
    /// Cole and Rosenbluth (2001): `Id = 0.024 Ta + 0.11 (Ta - 177.3) H(Ta - 177.3)`.
    #[default]
    ColeRosenbluth,
    /// ITU-T G.107 `Idd` (absolute delay term), echo terms at their defaults.
    G107Idd,
}

impl DelayFormula {
    /// A name for reports: `cole-rosenbluth` or `g107-idd`.
    pub fn name(self) -> &'static str {
        match self {
            DelayFormula::ColeRosenbluth => "cole-rosenbluth",
            DelayFormula::G107Idd => "g107-idd",
        }
    }

    /// `Id` for mouth-to-ear delay `ta_ms`.
    pub fn id(self, ta_ms: f64) -> f64 {
        match self {
            DelayFormula::ColeRosenbluth => id_cole_rosenbluth(ta_ms),
            DelayFormula::G107Idd => idd_g107(ta_ms),
        }
    }
}

/// Cole–Rosenbluth delay impairment for mouth-to-ear delay `ta_ms` (ms).
pub fn id_cole_rosenbluth(ta_ms: f64) -> f64 {
    let ta = ta_ms.max(0.0);
    let knee = if ta > 177.3 { 0.11 * (ta - 177.3) } else { 0.0 };
    0.024 * ta + knee
}

/// G.107 `Idd` for absolute delay `ta_ms` (ms): 0 up to 100 ms.
pub fn idd_g107(ta_ms: f64) -> f64 {
    if ta_ms <= 100.0 {
        return 0.0;
    }
    let x = (ta_ms / 100.0).log2();
    25.0 * ((1.0 + x.powi(6)).powf(1.0 / 6.0) - 3.0 * (1.0 + (x / 3.0).powi(6)).powf(1.0 / 6.0)
        + 2.0)
}

/// Effective equipment impairment with `ppl_pct` packet loss (%), burst ratio `burst_r`.
pub fn ie_eff(ie: f64, bpl: f64, ppl_pct: f64, burst_r: f64) -> f64 {
    let ppl = ppl_pct.clamp(0.0, 100.0);
    let burst_r = if burst_r.is_finite() && burst_r > 0.0 {
        burst_r
    } else {
        1.0
    };
    if ppl == 0.0 {
        return ie;
    }
    ie + (95.0 - ie) * ppl / (ppl / burst_r + bpl)
}

/// G.107 MOS from R: 1 below 0, 4.5 above 100, else `1 + 0.035 R + R (R - 60)(100 - R) 7e-6`,
/// floored at 1 (the polynomial dips to 0.99 for 0 < R < 6.5, which would make MOS non-monotone).
pub fn mos_from_r(r: f64) -> f64 {
    if r.is_nan() || r < 0.0 {
        1.0
    } else if r > 100.0 {
        4.5
    } else {
        (1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6).max(1.0)
    }
}

/// One codec's E-model values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodecProfile {
    /// Name the table is looked up by (`opus`, `g711`, `g711-plc`, `g729a`).
    pub name: String,
    /// Equipment impairment factor `Ie`.
    pub ie: f64,
    /// Packet-loss robustness factor `Bpl`.
    pub bpl: f64,
    /// Packetisation (frame per packet) delay, ms.
    pub frame_ms: f64,
    /// Encoder look-ahead, ms.
    pub lookahead_ms: f64,
    /// True when the values are an assumption, not from G.113 Appendix I.
    pub assumed: bool,
    /// Where the values come from.
    pub source: String,
}

impl CodecProfile {
    /// Codec delay added to `Ta`: packetisation + look-ahead, ms.
    pub fn delay_ms(&self) -> f64 {
        self.frame_ms + self.lookahead_ms
    }
}

/// The codec values the E-model uses, in one place. [`CodecTable::default`] is the built-in
/// table; [`CodecTable::set`] replaces or adds an entry (a scenario can override Opus's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodecTable {
    entries: Vec<CodecProfile>,
}

impl Default for CodecTable {
    fn default() -> Self {
        let p = |name: &str, ie, bpl, frame_ms, lookahead_ms, assumed, source: &str| CodecProfile {
            name: name.to_string(),
            ie,
            bpl,
            frame_ms,
            lookahead_ms,
            assumed,
            source: source.to_string(),
        };
        CodecTable {
            entries: vec![
                // ASSUMED. Opus has no narrowband G.113 entry. At 32 kbit/s Opus speech is at
                // least toll quality on the narrowband scale, so Ie = 0 (as G.711). Its PLC is
                // good but, without in-band FEC (our default), not better than G.711's Appendix I
                // PLC, so Bpl sits just below it (20 vs 25.1) and above G.729A's 19: a
                // conservative middle that makes loss cost slightly more than for G.711+PLC.
                p(
                    "opus",
                    0.0,
                    20.0,
                    20.0,
                    6.5,
                    true,
                    "assumed: Ie 0 (32 kbit/s speech), Bpl 20 (PLC, no FEC); 20 ms frame + 6.5 ms look-ahead",
                ),
                p(
                    "g711-plc",
                    0.0,
                    25.1,
                    20.0,
                    0.0,
                    false,
                    "ITU-T G.113 Appendix I: G.711 with PLC",
                ),
                p(
                    "g711",
                    0.0,
                    4.3,
                    20.0,
                    0.0,
                    false,
                    "ITU-T G.113 Appendix I: G.711 without PLC",
                ),
                p(
                    "g729a",
                    11.0,
                    19.0,
                    20.0,
                    5.0,
                    false,
                    "ITU-T G.113 Appendix I: G.729A with VAD; 2 x 10 ms frames + 5 ms look-ahead",
                ),
            ],
        }
    }
}

impl CodecTable {
    /// The entry called `name`.
    pub fn get(&self, name: &str) -> Option<&CodecProfile> {
        self.entries.iter().find(|c| c.name == name)
    }

    /// Replaces the entry with the same name, or adds it.
    pub fn set(&mut self, profile: CodecProfile) {
        match self.entries.iter_mut().find(|c| c.name == profile.name) {
            Some(e) => *e = profile,
            None => self.entries.push(profile),
        }
    }

    /// All entries, in table order.
    pub fn entries(&self) -> &[CodecProfile] {
        &self.entries
    }
}

/// What the network and receiver contributed to one stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EModelInput {
    /// One-way network delay, ms (the path's, or RTT / 2).
    pub one_way_network_ms: f64,
    /// Mean jitter-buffer delay, ms.
    pub jitter_buffer_ms: f64,
    /// Packet loss `Ppl`, percent (network loss plus late discards).
    pub loss_pct: f64,
    /// Burst ratio (1 for random loss).
    pub burst_r: f64,
}

/// The E-model's settings: base R, advantage factor and delay formula.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EModel {
    /// R with no impairment (93.2 with G.107 defaults).
    pub r_base: f64,
    /// Advantage factor A (0 for wired and conventional calls).
    pub advantage: f64,
    /// Which `Id` formula.
    pub delay_formula: DelayFormula,
}

impl Default for EModel {
    fn default() -> Self {
        EModel {
            r_base: R_DEFAULT,
            advantage: 0.0,
            delay_formula: DelayFormula::ColeRosenbluth,
        }
    }
}

/// One stream's E-model result, with its inputs' names so a report can say what was used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EModelResult {
    /// R factor (narrowband, can be below 0 or above 100 before the MOS mapping clamps it).
    pub r_factor: f64,
    /// MOS from R.
    pub mos: f64,
    /// Mouth-to-ear delay Ta, ms.
    pub ta_ms: f64,
    /// Delay impairment Id.
    pub id: f64,
    /// Effective equipment impairment Ie_eff.
    pub ie_eff: f64,
    /// MOS with the same codec and no network delay, jitter-buffer delay or loss.
    pub mos_no_impairment: f64,
    /// `mos_no_impairment - mos`.
    pub mos_degradation: f64,
    /// Which `Id` formula was used.
    pub delay_formula: DelayFormula,
    /// The codec table entry's name.
    pub codec: String,
    /// True when the codec's values are assumed (Opus).
    pub codec_assumed: bool,
}

impl EModel {
    /// R for the given codec delay `Ta` (ms), `Ppl` (%) and BurstR.
    pub fn r(&self, codec: &CodecProfile, ta_ms: f64, loss_pct: f64, burst_r: f64) -> f64 {
        self.r_base - self.delay_formula.id(ta_ms) - ie_eff(codec.ie, codec.bpl, loss_pct, burst_r)
            + self.advantage
    }

    /// Rates one stream.
    pub fn rate(&self, codec: &CodecProfile, input: &EModelInput) -> EModelResult {
        let ta_ms =
            input.one_way_network_ms.max(0.0) + input.jitter_buffer_ms.max(0.0) + codec.delay_ms();
        let id = self.delay_formula.id(ta_ms);
        let ie = ie_eff(codec.ie, codec.bpl, input.loss_pct, input.burst_r);
        let r_factor = self.r_base - id - ie + self.advantage;
        let mos = mos_from_r(r_factor);
        let mos_no_impairment = mos_from_r(self.r(codec, codec.delay_ms(), 0.0, 1.0));
        EModelResult {
            r_factor,
            mos,
            ta_ms,
            id,
            ie_eff: ie,
            mos_no_impairment,
            mos_degradation: (mos_no_impairment - mos).max(0.0),
            delay_formula: self.delay_formula,
            codec: codec.name.clone(),
            codec_assumed: codec.assumed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn mos_mapping_spot_values_and_edges() {
        assert!(close(mos_from_r(93.2), 4.41, 0.005));
        assert!(close(mos_from_r(80.0), 4.024, 1e-9));
        assert!(close(mos_from_r(70.0), 3.597, 1e-9));
        assert!(close(mos_from_r(60.0), 3.1, 1e-9));
        assert!(close(mos_from_r(50.0), 2.575, 1e-9));
        assert_eq!(mos_from_r(-5.0), 1.0);
        assert_eq!(mos_from_r(0.0), 1.0);
        assert_eq!(mos_from_r(100.0), 4.5);
        assert_eq!(mos_from_r(120.0), 4.5);
        assert_eq!(mos_from_r(f64::NAN), 1.0);
        // Monotone over the range.
        let mut last = 0.0;
        for i in 0..=1000 {
            let m = mos_from_r(i as f64 / 10.0);
            assert!(m >= last);
            last = m;
        }
    }

    #[test]
    fn no_impairment_gives_93_2() {
        let g711 = CodecTable::default().get("g711-plc").unwrap().clone();
        let m = EModel::default();
        assert_eq!(m.r(&g711, 0.0, 0.0, 1.0), 93.2);
        let g = EModel {
            delay_formula: DelayFormula::G107Idd,
            ..EModel::default()
        };
        assert_eq!(g.r(&g711, 100.0, 0.0, 1.0), 93.2);
    }

    #[test]
    fn delay_impairment_values() {
        assert!(close(id_cole_rosenbluth(100.0), 2.4, 1e-12));
        assert!(close(id_cole_rosenbluth(177.3), 0.024 * 177.3, 1e-12));
        assert!(close(id_cole_rosenbluth(200.0), 4.8 + 0.11 * 22.7, 1e-9));
        assert!(close(id_cole_rosenbluth(400.0), 9.6 + 0.11 * 222.7, 1e-9));
        assert_eq!(idd_g107(100.0), 0.0);
        assert_eq!(idd_g107(50.0), 0.0);
        // X = 1: 25 (2^(1/6) - 3 (1 + 3^-6)^(1/6) + 2) = 3.04.
        assert!(close(idd_g107(200.0), 3.044, 0.002), "{}", idd_g107(200.0));
        // X = 2: 25 (65^(1/6) - 3 (1 + (2/3)^6)^(1/6) + 2) = 24.07.
        assert!(close(idd_g107(400.0), 24.07, 0.01), "{}", idd_g107(400.0));
    }

    #[test]
    fn equipment_impairment_published_values() {
        // From G.113 Appendix I's Ie/Bpl: G.711 + PLC at 2 % random loss -> Ie_eff 7.01
        // (R 86.2); G.711 without PLC at 1 % -> 17.92; G.729A with no loss -> R 82.2 (the
        // value commonly quoted for G.729A).
        assert!(close(ie_eff(0.0, 25.1, 2.0, 1.0), 190.0 / 27.1, 1e-12));
        assert!(close(93.2 - ie_eff(0.0, 25.1, 2.0, 1.0), 86.19, 0.01));
        assert!(close(ie_eff(0.0, 4.3, 1.0, 1.0), 95.0 / 5.3, 1e-12));
        let t = CodecTable::default();
        let g729 = t.get("g729a").unwrap();
        assert!(close(EModel::default().r(g729, 0.0, 0.0, 1.0), 82.2, 1e-9));
        // Burstiness makes the same loss worse: BurstR 2 at 2 % -> 95*2/(1+25.1) = 7.28.
        assert!(close(ie_eff(0.0, 25.1, 2.0, 2.0), 190.0 / 26.1, 1e-12));
        assert!(ie_eff(0.0, 25.1, 2.0, 2.0) > ie_eff(0.0, 25.1, 2.0, 1.0));
        // 100 % loss approaches 95.
        assert!(ie_eff(0.0, 25.1, 100.0, 1.0) > 75.0);
    }

    #[test]
    fn rate_clean_and_lossy_opus() {
        let t = CodecTable::default();
        let opus = t.get("opus").unwrap();
        assert!(opus.assumed);
        assert_eq!(opus.delay_ms(), 26.5);
        let m = EModel::default();
        let clean = m.rate(
            opus,
            &EModelInput {
                one_way_network_ms: 0.0,
                jitter_buffer_ms: 0.0,
                loss_pct: 0.0,
                burst_r: 1.0,
            },
        );
        assert!(close(clean.r_factor, 93.2 - 0.024 * 26.5, 1e-9));
        assert!(close(clean.mos_degradation, 0.0, 1e-12));
        let lossy = m.rate(
            opus,
            &EModelInput {
                one_way_network_ms: 50.0,
                jitter_buffer_ms: 40.0,
                loss_pct: 5.0,
                burst_r: 1.0,
            },
        );
        assert!(close(lossy.ta_ms, 116.5, 1e-9));
        let expect_r = 93.2 - 0.024 * 116.5 - 95.0 * 5.0 / 25.0;
        assert!(close(lossy.r_factor, expect_r, 1e-9));
        assert!(close(lossy.mos_degradation, clean.mos - lossy.mos, 1e-12));
        assert_eq!(lossy.delay_formula.name(), "cole-rosenbluth");
    }

    #[test]
    fn table_is_configurable() {
        let mut t = CodecTable::default();
        let mut opus = t.get("opus").unwrap().clone();
        opus.bpl = 30.0;
        opus.source = "override".into();
        t.set(opus);
        assert_eq!(t.get("opus").unwrap().bpl, 30.0);
        assert_eq!(t.entries().len(), 4);
    }
}
