//! A deterministic, speech-like test signal: talk spurts and pauses, voiced sound, room noise.
//!
//! A steady tone would not exercise what matters in a call (the codec's bitrate swings between
//! speech and silence, concealment of a lost voiced frame, a silence detector), so the agents
//! send something shaped like conversation instead:
//! - **On/off pattern** from ITU-T P.59 ("Artificial conversational speech", 1993), Table 1:
//!   talk spurts with mean 1.004 s and pauses with mean 1.587 s, both exponentially distributed
//!   ([`TalkModel`]), quantised to 20 ms frames.
//! - **Voiced sound** during spurts: a glottal-pulse train at a fundamental F0 drawn per spurt in
//!   100..220 Hz and drifting slowly (±8 %), with a little aspiration noise, shaped by two formant
//!   resonators whose targets change per syllable (150..250 ms), with a syllable envelope;
//!   normalised to an active speech level of about −26 dBov.
//! - **Pauses**: white noise at about −70 dBov (a quiet room), which a −60 dBov silence detector
//!   calls silent.
//!
//! Levels are dBov: `20 log10(rms / 32768)`, so a full-scale sine is −3 dBov.
//! Everything is a function of the seed; one frame costs a few µs.
//!
//! # Example
//! ```
//! use callharness::agent::media::source::{SpeechSource, FRAME_SAMPLES};
//! let mut a = SpeechSource::new(7);
//! let mut b = SpeechSource::new(7);
//! for _ in 0..50 {
//!     let (fa, active) = a.next_frame();
//!     let fa = *fa;
//!     let (fb, _) = b.next_frame();
//!     assert_eq!(&fa[..], &fb[..]);
//!     assert_eq!(fa.len(), FRAME_SAMPLES);
//!     let _ = active;
//! }
//! ```

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Sample rate of the signal, Hz.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms frame at 48 kHz.
pub const FRAME_SAMPLES: usize = 960;
/// One frame, ns.
pub const FRAME_NS: u64 = 20_000_000;
/// ITU-T P.59 mean talk-spurt duration, s.
pub const TALKSPURT_MEAN_S: f64 = 1.004;
/// ITU-T P.59 mean pause duration, s.
pub const PAUSE_MEAN_S: f64 = 1.587;
/// Active speech level, dBov.
pub const ACTIVE_LEVEL_DBOV: f64 = -26.0;
/// Level of the noise in pauses (and under speech), dBov.
pub const NOISE_LEVEL_DBOV: f64 = -70.0;

const FULL_SCALE: f32 = 32768.0;
const FS: f32 = SAMPLE_RATE as f32;
/// Mean power of the syllable envelope `0.6 + 0.4 sin(pi x)` over a syllable.
const ENVELOPE_MEAN_POWER: f32 = 0.36 + 0.48 * std::f32::consts::FRAC_2_PI + 0.08;

/// The on/off (talk spurt / pause) pattern: one boolean per 20 ms frame.
#[derive(Debug, Clone)]
pub struct TalkModel {
    rng: Xoshiro256PlusPlus,
    active: bool,
    frames_left: u32,
    spurt_mean_frames: f64,
    pause_mean_frames: f64,
}

impl TalkModel {
    /// P.59 means (1.004 s talk, 1.587 s pause); starts with a talk spurt.
    pub fn new(seed: u64) -> Self {
        Self::with_means(seed, TALKSPURT_MEAN_S, PAUSE_MEAN_S)
    }

    /// Custom mean durations, s.
    pub fn with_means(seed: u64, talk_mean_s: f64, pause_mean_s: f64) -> Self {
        let frame_s = FRAME_NS as f64 / 1e9;
        let mut m = TalkModel {
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            active: true,
            frames_left: 0,
            spurt_mean_frames: talk_mean_s / frame_s,
            pause_mean_frames: pause_mean_s / frame_s,
        };
        m.frames_left = m.draw(m.spurt_mean_frames);
        m
    }

    /// Exponential duration in whole frames (at least one).
    fn draw(&mut self, mean_frames: f64) -> u32 {
        let u: f64 = self.rng.gen_range(f64::EPSILON..1.0);
        (-u.ln() * mean_frames).round().max(1.0) as u32
    }

    /// Whether the next frame is inside a talk spurt.
    pub fn next_frame(&mut self) -> bool {
        if self.frames_left == 0 {
            self.active = !self.active;
            let mean = if self.active {
                self.spurt_mean_frames
            } else {
                self.pause_mean_frames
            };
            self.frames_left = self.draw(mean);
        }
        self.frames_left -= 1;
        self.active
    }

    /// Frames left in the current spurt or pause, after the last one returned.
    pub fn frames_left(&self) -> u32 {
        self.frames_left
    }
}

/// Per-sample white noise in [-1, 1): xorshift32, seeded per frame from the source's RNG
/// (a full RNG call per sample would cost more than the rest of the synthesis).
struct FastNoise(u32);

impl FastNoise {
    fn new(seed: u32) -> Self {
        FastNoise(seed | 1)
    }

    #[inline]
    fn next(&mut self) -> f32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        (x as f32 / 2_147_483_648.0) - 1.0
    }
}

/// Two-pole resonator (a formant).
#[derive(Debug, Clone, Copy, Default)]
struct Resonator {
    a1: f32,
    a2: f32,
    y1: f32,
    y2: f32,
}

impl Resonator {
    fn tune(&mut self, freq_hz: f32, bandwidth_hz: f32) {
        let r = (-std::f32::consts::PI * bandwidth_hz / FS).exp();
        let theta = 2.0 * std::f32::consts::PI * freq_hz / FS;
        self.a1 = 2.0 * r * theta.cos();
        self.a2 = -r * r;
    }

    #[inline]
    fn run(&mut self, x: f32) -> f32 {
        let y = x + self.a1 * self.y1 + self.a2 * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// Speech-like 48 kHz mono signal in 20 ms frames. See the module docs.
#[derive(Debug, Clone)]
pub struct SpeechSource {
    talk: TalkModel,
    rng: Xoshiro256PlusPlus,
    frame: [i16; FRAME_SAMPLES],
    raw: [f32; FRAME_SAMPLES],
    t_frames: u64,
    // Voice state.
    f0_base: f32,
    drift_phase: f32,
    pulse_phase: f32,
    glottal: f32,
    f1: Resonator,
    f2: Resonator,
    dc_x1: f32,
    dc_y1: f32,
    syllable_frames: u32,
    syllable_pos: u32,
    gain: f32,
    was_active: bool,
}

impl SpeechSource {
    /// A source for `seed`: the same seed gives the same samples.
    pub fn new(seed: u64) -> Self {
        // Independent streams for the on/off pattern and the waveform, so the pattern is
        // exactly TalkModel::new(seed)'s.
        let mut s = SpeechSource {
            talk: TalkModel::new(seed),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5eec_4c0d_e5a1_7e57),
            frame: [0; FRAME_SAMPLES],
            raw: [0.0; FRAME_SAMPLES],
            t_frames: 0,
            f0_base: 150.0,
            drift_phase: 0.0,
            pulse_phase: 0.0,
            glottal: 0.0,
            f1: Resonator::default(),
            f2: Resonator::default(),
            dc_x1: 0.0,
            dc_y1: 0.0,
            syllable_frames: 0,
            syllable_pos: 0,
            gain: 0.0,
            was_active: false,
        };
        s.new_syllable();
        s
    }

    fn new_syllable(&mut self) {
        self.syllable_frames = self.rng.gen_range(8..=12); // 160..240 ms
        self.syllable_pos = 0;
        let f1 = self.rng.gen_range(300.0..800.0);
        let f2 = self.rng.gen_range(900.0..2300.0);
        self.f1.tune(f1, 80.0);
        self.f2.tune(f2, 120.0);
    }

    /// The next 20 ms frame and whether it is inside a talk spurt. The slice is valid until
    /// the next call.
    pub fn next_frame(&mut self) -> (&[i16; FRAME_SAMPLES], bool) {
        let active = self.talk.next_frame();
        let noise_rms = FULL_SCALE * 10f32.powf(NOISE_LEVEL_DBOV as f32 / 20.0);
        // Uniform noise in [-1, 1) has rms 1/sqrt(3).
        let noise_amp = noise_rms * 3f32.sqrt();
        if active {
            if !self.was_active {
                self.f0_base = self.rng.gen_range(100.0..220.0);
                self.gain = 0.0; // fade in over the first frame
                self.new_syllable();
            }
            self.voice_frame();
        }
        self.was_active = active;
        let mut noise = FastNoise::new(self.rng.gen());
        for (i, out) in self.frame.iter_mut().enumerate() {
            let n = noise.next() * noise_amp;
            let v = if active { self.raw[i] } else { 0.0 };
            // `as` saturates and truncates; truncation's bias is far below the noise floor.
            *out = (v + n) as i16;
        }
        self.t_frames += 1;
        (&self.frame, active)
    }

    /// Synthesises one voiced frame into `raw`, normalised to the active level.
    fn voice_frame(&mut self) {
        if self.syllable_pos >= self.syllable_frames {
            self.new_syllable();
        }
        let x = (self.syllable_pos as f32 + 0.5) / self.syllable_frames as f32;
        let envelope = 0.6 + 0.4 * (std::f32::consts::PI * x).sin();
        self.syllable_pos += 1;

        // Slow F0 drift (0.7 Hz, ±8 %), constant within a 20 ms frame.
        self.drift_phase = (self.drift_phase + 0.7 * FRAME_SAMPLES as f32 / FS).fract();
        let f0 =
            self.f0_base * (1.0 + 0.08 * (2.0 * std::f32::consts::PI * self.drift_phase).sin());
        let step = f0 / FS;
        let mut noise = FastNoise::new(self.rng.gen());
        let mut sum_sq = 0.0f32;
        for i in 0..FRAME_SAMPLES {
            self.pulse_phase += step;
            let pulse = if self.pulse_phase >= 1.0 {
                self.pulse_phase -= 1.0;
                1.0
            } else {
                0.0
            };
            // Glottal pulse shaping (spectral tilt) plus aspiration noise.
            self.glottal = 0.9 * self.glottal + pulse;
            let excitation = self.glottal + 0.05 * noise.next();
            let y = self.f2.run(self.f1.run(excitation));
            // DC blocker.
            let out = y - self.dc_x1 + 0.995 * self.dc_y1;
            self.dc_x1 = y;
            self.dc_y1 = out;
            self.raw[i] = out;
            sum_sq += out * out;
        }
        let rms = (sum_sq / FRAME_SAMPLES as f32).sqrt();
        let target_rms = FULL_SCALE * 10f32.powf(ACTIVE_LEVEL_DBOV as f32 / 20.0) * envelope
            / ENVELOPE_MEAN_POWER.sqrt();
        let new_gain = if rms > 1e-9 { target_rms / rms } else { 0.0 };
        // Ramp the gain across the frame to avoid steps at frame edges.
        let step = (new_gain - self.gain) / FRAME_SAMPLES as f32;
        let mut g = self.gain;
        for v in self.raw.iter_mut() {
            g += step;
            *v *= g;
        }
        self.gain = new_gain;
    }

    /// Frames produced so far.
    pub fn frames(&self) -> u64 {
        self.t_frames
    }
}

/// A [`SpeechSource`] cut into frames of another duration (10, 40, 60 ms...): the same
/// samples whatever the frame, so settings compare on the same speech. A frame is active when
/// any 20 ms source frame it covers is (a 10 ms frame has its source frame's flag).
#[derive(Debug, Clone)]
pub struct FramedSource {
    src: SpeechSource,
    frame_samples: usize,
    /// Samples of the last source frame not handed out yet: `buf[pos..]`.
    buf: Vec<i16>,
    pos: usize,
    buf_active: bool,
    out: Vec<i16>,
    /// A dead microphone: every frame is digital silence (all zeros), never in a talk spurt.
    silent: bool,
}

impl FramedSource {
    /// `SpeechSource::new(seed)` in frames of `frame_samples` samples (at least 1).
    pub fn new(seed: u64, frame_samples: usize) -> Self {
        FramedSource {
            src: SpeechSource::new(seed),
            frame_samples: frame_samples.max(1),
            buf: Vec::with_capacity(FRAME_SAMPLES),
            pos: 0,
            buf_active: false,
            out: Vec::with_capacity(frame_samples),
            silent: false,
        }
    }

    /// What a dead microphone captures: digital silence (every sample 0) in frames of
    /// `frame_samples` samples, never in a talk spurt (DEV-MIC-DEAD).
    pub fn silent(frame_samples: usize) -> Self {
        let frame_samples = frame_samples.max(1);
        FramedSource {
            out: vec![0; frame_samples],
            silent: true,
            ..Self::new(0, frame_samples)
        }
    }

    /// Samples per frame.
    pub fn frame_samples(&self) -> usize {
        self.frame_samples
    }

    /// The next frame and whether it is inside a talk spurt; valid until the next call.
    pub fn next_frame(&mut self) -> (&[i16], bool) {
        if self.silent {
            return (&self.out, false);
        }
        if self.frame_samples == FRAME_SAMPLES && self.pos == self.buf.len() {
            let (f, active) = self.src.next_frame();
            return (&f[..], active);
        }
        self.out.clear();
        let mut active = false;
        while self.out.len() < self.frame_samples {
            if self.pos == self.buf.len() {
                let (f, a) = self.src.next_frame();
                self.buf.clear();
                self.buf.extend_from_slice(&f[..]);
                self.pos = 0;
                self.buf_active = a;
            }
            let take = (self.frame_samples - self.out.len()).min(self.buf.len() - self.pos);
            self.out
                .extend_from_slice(&self.buf[self.pos..self.pos + take]);
            self.pos += take;
            active |= self.buf_active;
        }
        (&self.out, active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::media::level::rms_dbov;

    #[test]
    fn deterministic_for_a_seed() {
        let mut a = SpeechSource::new(42);
        let mut b = SpeechSource::new(42);
        let mut c = SpeechSource::new(43);
        let mut differs = false;
        for _ in 0..200 {
            let (fa, aa) = a.next_frame();
            let fa = *fa;
            let (fb, ab) = b.next_frame();
            assert_eq!(&fa[..], &fb[..]);
            assert_eq!(aa, ab);
            let (fc, _) = c.next_frame();
            differs |= fa[..] != fc[..];
        }
        assert!(differs);
    }

    #[test]
    fn activity_follows_the_talk_model() {
        let mut s = SpeechSource::new(5);
        let mut m = TalkModel::new(5);
        for _ in 0..1000 {
            assert_eq!(s.next_frame().1, m.next_frame());
        }
    }

    #[test]
    fn on_off_statistics_match_p59() {
        // >= 2000 spurts. The mean of n exponential samples has relative standard error
        // 1/sqrt(n) = 2.2 % at n = 2000, so 10 % is > 4 sigma; frame rounding adds < 1 %.
        let mut m = TalkModel::new(11);
        let (mut spurts, mut pauses) = (Vec::new(), Vec::new());
        let mut run = 0u32;
        let mut state = true;
        while spurts.len() < 2500 {
            let a = m.next_frame();
            if a == state {
                run += 1;
            } else {
                if state {
                    spurts.push(run);
                } else {
                    pauses.push(run);
                }
                state = a;
                run = 1;
            }
        }
        let mean_s =
            |v: &[u32]| v.iter().map(|&f| f64::from(f)).sum::<f64>() * 0.02 / v.len() as f64;
        let talk = mean_s(&spurts);
        let pause = mean_s(&pauses);
        assert!(
            (talk - TALKSPURT_MEAN_S).abs() / TALKSPURT_MEAN_S < 0.10,
            "{talk}"
        );
        assert!(
            (pause - PAUSE_MEAN_S).abs() / PAUSE_MEAN_S < 0.10,
            "{pause}"
        );
        // Exponential, not fixed: the standard deviation is close to the mean.
        let sd = {
            let mu = talk / 0.02;
            (spurts
                .iter()
                .map(|&f| (f64::from(f) - mu).powi(2))
                .sum::<f64>()
                / spurts.len() as f64)
                .sqrt()
                * 0.02
        };
        assert!((sd / talk - 1.0).abs() < 0.15, "{sd} {talk}");
    }

    #[test]
    fn framed_source_cuts_the_same_samples() {
        let mut whole = SpeechSource::new(8);
        let mut reference = Vec::new();
        let mut flags = Vec::new();
        for _ in 0..30 {
            let (f, a) = whole.next_frame();
            reference.extend_from_slice(&f[..]);
            flags.push(a);
        }
        for n in [480, 960, 1920, 2880] {
            let mut s = FramedSource::new(8, n);
            let mut got = Vec::new();
            for k in 0..(30 * 960 / n) {
                let (f, a) = s.next_frame();
                assert_eq!(f.len(), n);
                got.extend_from_slice(f);
                // Active when a covered 20 ms frame is.
                let (lo, hi) = (k * n / 960, ((k + 1) * n).div_ceil(960));
                assert_eq!(a, flags[lo..hi].iter().any(|&x| x), "{n}: frame {k}");
            }
            assert_eq!(got, reference, "{n}");
        }
    }

    #[test]
    fn levels_active_and_pause() {
        let mut s = SpeechSource::new(3);
        let (mut active_pow, mut n_active) = (0.0f64, 0u32);
        let (mut pause_pow, mut n_pause) = (0.0f64, 0u32);
        let mut peak = 0i32;
        let mut pauses_silent = true;
        for _ in 0..1500 {
            let (f, active) = s.next_frame();
            let p: f64 = f.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / f.len() as f64;
            peak = peak.max(f.iter().map(|&x| i32::from(x).abs()).max().unwrap_or(0));
            if active {
                active_pow += p;
                n_active += 1;
            } else {
                pause_pow += p;
                n_pause += 1;
                pauses_silent &= rms_dbov(f) < -60.0;
            }
        }
        assert!(n_active > 200 && n_pause > 200);
        let active_db = 10.0 * (active_pow / f64::from(n_active)).log10() - 20.0 * 32768f64.log10();
        let pause_db = 10.0 * (pause_pow / f64::from(n_pause)).log10() - 20.0 * 32768f64.log10();
        assert!((active_db - ACTIVE_LEVEL_DBOV).abs() < 1.5, "{active_db}");
        assert!((pause_db - NOISE_LEVEL_DBOV).abs() < 2.0, "{pause_db}");
        assert!(
            pauses_silent,
            "a pause frame was above the silence threshold"
        );
        assert!(peak < 32767, "clipped");
    }
}
