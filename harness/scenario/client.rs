//! A participant's client settings, checked: the jitter buffer (`jitter_buffer:`), the Opus
//! encoder (`audio:`) and the ICE consent timers (`ice:`). Defaults where a field is not
//! written; every value the client cannot honour is an error at its own field, saying what is
//! accepted.

use super::de::Spanned;
use super::error::{ErrorKind, ScenarioError};
use super::load::Context;
use super::raw::DurText;
use super::raw_client::{RawAudio, RawIce};
use crate::agent::media::codec::{
    fec_in_speech, FRAME_MS_SUPPORTED, MAX_BITRATE_BPS, MIN_BITRATE_BPS,
};
use crate::agent::media::{JitterBufferConfig, JitterBufferMode, OpusConfig};
use crate::agent::peer::IceTimeouts;
use std::time::Duration;

/// Longest jitter-buffer delay a scenario may set, ns (2 s).
pub const MAX_JITTER_BUFFER_NS: u64 = 2_000_000_000;
/// The packet loss FEC plans for when `fec: true` gives no `expected_loss`, percent.
pub const DEFAULT_FEC_LOSS_PCT: i32 = 10;

impl Context {
    /// The jitter-buffer settings: defaults where not written; `min <= initial`-style bounds
    /// checked, each mistake at its field.
    pub(super) fn jitter_buffer(
        &mut self,
        jb: &Spanned<super::raw::RawJitterBuffer>,
    ) -> Option<JitterBufferConfig> {
        use super::raw::JitterBufferModeText;
        let d = JitterBufferConfig::default();
        let j = &jb.value;
        let ns = |v: &Option<Spanned<super::raw::DurText>>, dflt: u64| {
            v.as_ref().map_or(dflt, |x| x.value.0.as_nanos())
        };
        let mode = match j.mode.as_ref().map(|m| m.value) {
            Some(JitterBufferModeText::Fixed) => JitterBufferMode::Fixed,
            _ => JitterBufferMode::Adaptive,
        };
        let cfg = JitterBufferConfig {
            mode,
            initial_delay_ns: ns(&j.initial, d.initial_delay_ns),
            min_delay_ns: ns(&j.min, d.min_delay_ns),
            max_delay_ns: ns(&j.max, d.max_delay_ns),
            ..d
        };
        let mut ok = true;
        if mode == JitterBufferMode::Fixed {
            for (field, v) in [("min", &j.min), ("max", &j.max)] {
                if let Some(v) = v {
                    self.push(
                        ScenarioError::at(
                            ErrorKind::Conflict,
                            &v.mark,
                            &v.path,
                            format!("`{field}` applies to an adaptive jitter buffer only"),
                        )
                        .expected("`mode: adaptive`, or `initial:` alone for a fixed buffer"),
                    );
                    ok = false;
                }
            }
        }
        let limit = MAX_JITTER_BUFFER_NS;
        for (field, v, value) in [
            ("initial", &j.initial, cfg.initial_delay_ns),
            ("max", &j.max, cfg.max_delay_ns),
        ] {
            if let Some(v) = v.as_ref().filter(|_| value > limit) {
                self.push(
                    ScenarioError::at(
                        ErrorKind::BadValue,
                        &v.mark,
                        &v.path,
                        format!("a jitter buffer `{field}` of more than 2s"),
                    )
                    .expected("at most 2s")
                    .found(format!("{} ms", value / 1_000_000)),
                );
                ok = false;
            }
        }
        if mode == JitterBufferMode::Adaptive && cfg.min_delay_ns > cfg.max_delay_ns {
            let (mark, path) = match (&j.min, &j.max) {
                (_, Some(m)) | (Some(m), None) => (&m.mark, &m.path),
                (None, None) => (&jb.mark, &jb.path),
            };
            self.push(
                ScenarioError::at(
                    ErrorKind::BadValue,
                    mark,
                    path,
                    "the jitter buffer's `min` is above its `max`".to_string(),
                )
                .expected(format!(
                    "min <= max (min {} ms, max {} ms)",
                    cfg.min_delay_ns / 1_000_000,
                    cfg.max_delay_ns / 1_000_000
                )),
            );
            ok = false;
        }
        ok.then_some(cfg)
    }

    /// The Opus encoder settings: bitrate in libopus's range, a supported frame duration, a
    /// whole-percent loss hint that only FEC uses.
    pub(super) fn audio(&mut self, a: &Spanned<RawAudio>) -> Option<OpusConfig> {
        let d = OpusConfig::default();
        let v = &a.value;
        let mut ok = true;
        let mut cfg = OpusConfig {
            inband_fec: v.fec.as_ref().is_some_and(|f| f.value),
            dtx: v.dtx.as_ref().is_some_and(|f| f.value),
            ..d
        };
        if let Some(b) = &v.bitrate {
            let bps = b.value.0.bits_per_sec();
            let range = i64::from(MIN_BITRATE_BPS)..=i64::from(MAX_BITRATE_BPS);
            match i32::try_from(bps)
                .ok()
                .filter(|x| range.contains(&i64::from(*x)))
            {
                Some(x) => cfg.bitrate_bps = x,
                None => {
                    self.push(
                        ScenarioError::at(
                            ErrorKind::BadValue,
                            &b.mark,
                            &b.path,
                            "an Opus bitrate libopus cannot encode at",
                        )
                        .expected("6kbit to 510kbit")
                        .found(b.value.0.to_string()),
                    );
                    ok = false;
                }
            }
        }
        if let Some(f) = &v.frame {
            let ns = f.value.0.as_nanos();
            let supported = FRAME_MS_SUPPORTED
                .iter()
                .find(|&&ms| u64::from(ms) * 1_000_000 == ns);
            match supported {
                Some(&ms) => cfg.frame_ms = ms,
                None => {
                    let why = if ns == 2_500_000 || ns == 5_000_000 {
                        "an Opus frame the harness does not support (2.5 and 5 ms frames are \
                         CELT-only, without FEC, and below the playout's 10 ms tick)"
                    } else {
                        "an Opus frame duration libopus does not send in one frame"
                    };
                    self.push(
                        ScenarioError::at(ErrorKind::BadValue, &f.mark, &f.path, why)
                            .expected("10ms, 20ms, 40ms or 60ms")
                            .found(format!("{} ms", ns as f64 / 1e6)),
                    );
                    ok = false;
                }
            }
        }
        match (&v.expected_loss, cfg.inband_fec) {
            (Some(l), false) => {
                self.push(
                    ScenarioError::at(
                        ErrorKind::Conflict,
                        &l.mark,
                        &l.path,
                        "`expected_loss` is the loss FEC plans for; FEC is off",
                    )
                    .expected("`fec: true` with it, or no `expected_loss`"),
                );
                ok = false;
            }
            (Some(l), true) => {
                let pct = l.value.0.percent();
                if pct.fract() != 0.0 {
                    self.push(
                        ScenarioError::at(
                            ErrorKind::BadValue,
                            &l.mark,
                            &l.path,
                            "libopus takes the expected loss in whole percent",
                        )
                        .expected("a whole percentage from 0% to 100%, like 10%")
                        .found(format!("{pct}%")),
                    );
                    ok = false;
                } else {
                    cfg.packet_loss_pct = pct as i32;
                }
            }
            (None, true) => cfg.packet_loss_pct = DEFAULT_FEC_LOSS_PCT,
            (None, false) => {}
        }
        if ok && cfg.inband_fec {
            ok = self.fec_effective(a, cfg);
        }
        ok.then_some(cfg)
    }

    /// FEC that libopus would not add at these settings is a no-op: an error at `fec` (or at
    /// `expected_loss` when it is 0%) naming the lowest bitrate that gets FEC.
    fn fec_effective(&mut self, a: &Spanned<RawAudio>, cfg: OpusConfig) -> bool {
        if fec_in_speech(cfg).unwrap_or(true) {
            return true;
        }
        let v = &a.value;
        let (mark, path) = match (&v.expected_loss, &v.fec) {
            (Some(l), _) if cfg.packet_loss_pct == 0 => (&l.mark, &l.path),
            (_, Some(f)) => (&f.mark, &f.path),
            _ => (&a.mark, &a.path),
        };
        let pct = cfg.packet_loss_pct;
        let msg = format!(
            "libopus adds no FEC data at {} kbit/s with {pct}% expected loss and {} ms frames",
            f64::from(cfg.bitrate_bps) / 1000.0,
            cfg.frame_ms
        );
        let enough = (cfg.bitrate_bps / 1000 + 1..=64)
            .map(|k| k * 1000)
            .find(|&b| {
                fec_in_speech(OpusConfig {
                    bitrate_bps: b,
                    ..cfg
                })
                .unwrap_or(false)
            });
        let expected = match (pct, enough) {
            (0, _) => "an expected_loss above 0% (libopus plans no FEC for no loss)".to_string(),
            (_, Some(b)) => format!(
                "a bitrate of at least {}kbit at {pct}% expected loss (or a higher \
                 expected_loss: above 5% libopus narrows the audio band to make room)",
                b / 1000
            ),
            (_, None) => format!("a higher expected_loss: none up to 64kbit at {pct}%"),
        };
        self.push(
            ScenarioError::at(ErrorKind::BadValue, mark, path, msg)
                .expected(expected)
                .found(format!(
                    "bitrate {}kbit, expected_loss {pct}%",
                    cfg.bitrate_bps / 1000
                )),
        );
        false
    }

    /// The ICE consent timers: each above 0, keepalive < disconnected < failed, the keepalive
    /// on rtc's 200 ms timer grid.
    pub(super) fn ice(&mut self, i: &Spanned<RawIce>) -> Option<IceTimeouts> {
        let d = IceTimeouts::default();
        let v = &i.value;
        let dur = |x: &Option<Spanned<DurText>>, dflt: Duration| {
            x.as_ref()
                .map_or(dflt, |t| Duration::from_nanos(t.value.0.as_nanos()))
        };
        let t = IceTimeouts {
            disconnected: dur(&v.disconnected_timeout, d.disconnected),
            failed: dur(&v.failed_timeout, d.failed),
            keepalive: dur(&v.keepalive, d.keepalive),
        };
        let Some((field, why)) = t.problem() else {
            return Some(t);
        };
        // At the field at fault if written, else at the one written that makes it so.
        let written = |f: &str| match f {
            "keepalive" => v.keepalive.as_ref(),
            "disconnected_timeout" => v.disconnected_timeout.as_ref(),
            _ => v.failed_timeout.as_ref(),
        };
        let at = written(field)
            .or_else(|| written("disconnected_timeout"))
            .or_else(|| written("keepalive"))
            .or_else(|| written("failed_timeout"));
        let (mark, path) = match at {
            Some(s) => (&s.mark, s.path.clone()),
            None => (&i.mark, i.path.clone()),
        };
        self.push(
            ScenarioError::at(
                ErrorKind::BadValue,
                mark,
                &path,
                format!("ICE timers the client cannot run: {why}"),
            )
            .expected(
                "0 < keepalive < disconnected_timeout < failed_timeout (defaults 2s, 5s, 30s), \
                 keepalive a multiple of 200ms",
            ),
        );
        None
    }
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;

impl Context {
    /// The participant's devices.
    pub(super) fn devices(
        &mut self,
        d: Option<&Spanned<super::raw_devices::RawDevices>>,
    ) -> Option<super::raw_devices::Devices> {
        let Some(d) = d else {
            return Some(Default::default());
        };
        Some(super::raw_devices::Devices::from_raw(&d.value))
    }
}
