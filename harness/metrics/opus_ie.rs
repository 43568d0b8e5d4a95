//! The E-model's Opus entry for a client's settings: packetisation delay from the frame
//! duration and an assumed `Ie` at low bitrates ([`opus_ie_assumed`]).

use super::emodel::CodecProfile;

impl CodecProfile {
    /// This (Opus) entry for a client's settings: the packetisation delay is the frame
    /// duration (`frame_ms`, ms), and `Ie` is at least [`opus_ie_assumed`] for `bitrate_bps`
    /// (bit/s). At 32 kbit/s and 20 ms the entry is returned unchanged. In-band FEC does not
    /// change `Bpl`: the frames it rebuilds are already left out of the playout loss (`Ppl`), so
    /// crediting it again in `Bpl` would count it twice.
    pub fn for_opus_settings(&self, bitrate_bps: i32, frame_ms: u32) -> CodecProfile {
        let ie = self.ie.max(opus_ie_assumed(bitrate_bps));
        let frame = f64::from(frame_ms);
        if ie == self.ie && frame == self.frame_ms {
            return self.clone();
        }
        CodecProfile {
            ie,
            frame_ms: frame,
            source: format!(
                "{}; at {} kbit/s and {frame_ms} ms frames: Ie {ie} (assumed), {frame_ms} ms packetisation",
                self.source,
                f64::from(bitrate_bps) / 1000.0
            ),
            ..self.clone()
        }
    }
}

/// ASSUMED equipment impairment `Ie` (narrowband scale) of Opus speech at `bitrate_bps`. No
/// standard gives one; the points borrow G.113 Appendix I's values for codecs of about the
/// same rate, which Opus matches or beats, so they err on the pessimistic side: G.723.1
/// (6.3 kbit/s, Ie 15) at 6 kbit/s, G.729A (8 kbit/s, Ie 11) at 8 kbit/s, GSM-EFR
/// (12.2 kbit/s, Ie 5) at 12 kbit/s, 2 at 16 kbit/s and 0 (toll quality, as the table's
/// 32 kbit/s entry) from 24 kbit/s up; linear in between.
pub fn opus_ie_assumed(bitrate_bps: i32) -> f64 {
    const POINTS: [(f64, f64); 5] = [
        (6.0, 15.0),
        (8.0, 11.0),
        (12.0, 5.0),
        (16.0, 2.0),
        (24.0, 0.0),
    ];
    let k = f64::from(bitrate_bps) / 1000.0;
    if k <= POINTS[0].0 {
        return POINTS[0].1;
    }
    for w in POINTS.windows(2) {
        let ((k0, ie0), (k1, ie1)) = (w[0], w[1]);
        if k <= k1 {
            return ie0 + (ie1 - ie0) * (k - k0) / (k1 - k0);
        }
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::emodel::{CodecTable, EModel, EModelInput};

    #[test]
    fn opus_settings_set_packetisation_delay_and_low_rate_impairment() {
        let table = CodecTable::default();
        let opus = table.get("opus").unwrap();
        assert_eq!(&opus.for_opus_settings(32_000, 20), opus);
        let p60 = opus.for_opus_settings(32_000, 60);
        assert_eq!(p60.delay_ms(), 66.5, "60 ms frame + 6.5 ms look-ahead");
        assert_eq!(p60.ie, 0.0);
        let p10 = opus.for_opus_settings(64_000, 10);
        assert_eq!((p10.delay_ms(), p10.ie), (16.5, 0.0));
        assert_eq!(opus_ie_assumed(8_000), 11.0);
        assert_eq!(opus_ie_assumed(10_000), 8.0);
        assert_eq!(opus_ie_assumed(6_000), 15.0);
        assert_eq!(opus_ie_assumed(510_000), 0.0);
        let low = opus.for_opus_settings(8_000, 20);
        assert_eq!(low.ie, 11.0);
        // Same path: the longer frame and the lower rate both cost MOS.
        let input = EModelInput {
            one_way_network_ms: 30.0,
            jitter_buffer_ms: 40.0,
            loss_pct: 0.0,
            burst_r: 1.0,
        };
        let m = |c: &CodecProfile| EModel::default().rate(c, &input).mos;
        assert!(m(&p60) < m(opus) && m(&low) < m(opus));
        // Id for 60 ms frames, by hand: Ta = 30 + 40 + 66.5 = 136.5 ms, Id = 0.024 Ta.
        let r = EModel::default().rate(&p60, &input);
        assert!((r.r_factor - (93.2 - 0.024 * 136.5)).abs() < 1e-9);
    }
}
