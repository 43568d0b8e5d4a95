//! Audio level of what would be played, and the concealment counters webrtc-stats defines.
//!
//! [`LevelMeter`] is handed every 20 ms frame the receiver plays out, decoded or concealed, and
//! counts what the report needs:
//! - **concealed ratio** = concealed samples / all played samples (webrtc-stats
//!   `concealedSamples / totalSamplesReceived`), and `concealmentEvents` (runs of concealment);
//! - **speech-active ratio** = played frames above the silence threshold (−60 dBov RMS) / played
//!   frames, to tell a silent microphone from a talking one;
//! - the level of the last frame, dBov.
//!
//! Frames played without decoding (`decode: false`) are counted by number only: the ratios
//! are then `None`, since nothing was measured.
//!
//! # Example
//! ```
//! use callharness::agent::media::level::{rms_dbov, LevelMeter};
//! let loud = [1642i16; 960]; // about -26 dBov
//! assert!((rms_dbov(&loud) + 26.0).abs() < 0.1);
//! let mut m = LevelMeter::default();
//! m.on_decoded(&loud, false);
//! m.on_decoded(&[0; 960], true);
//! assert_eq!(m.concealed_ratio(), Some(0.5));
//! assert_eq!(m.speech_active_ratio(), Some(0.5));
//! ```

/// A frame whose RMS is below this level (dBov) is silent.
pub const SILENCE_DBOV: f64 = -60.0;
/// The level reported for digital silence, dBov.
pub const FLOOR_DBOV: f64 = -120.0;

/// A PCM sample: 16-bit integer (full scale 32768) or float (full scale 1.0, what libopus's
/// float decoder gives without the soft clipping its 16-bit output needs).
pub trait Sample: Copy {
    /// The sample as a fraction of full scale.
    fn fraction(self) -> f64;
}

impl Sample for i16 {
    fn fraction(self) -> f64 {
        f64::from(self) / 32768.0
    }
}

impl Sample for f32 {
    fn fraction(self) -> f64 {
        f64::from(self)
    }
}

/// RMS level of `samples` in dBov (`20 log10(rms / full scale)`), at least [`FLOOR_DBOV`].
pub fn rms_dbov<S: Sample>(samples: &[S]) -> f64 {
    if samples.is_empty() {
        return FLOOR_DBOV;
    }
    let sum_sq: f64 = samples
        .iter()
        .map(|&s| {
            let x = s.fraction();
            x * x
        })
        .sum();
    let rms = (sum_sq / samples.len() as f64).sqrt();
    if rms <= 0.0 {
        FLOOR_DBOV
    } else {
        (20.0 * rms.log10()).max(FLOOR_DBOV)
    }
}

/// Counters over the played-out frames of one stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LevelMeter {
    frames: u64,
    decoded_frames: u64,
    total_samples: u64,
    concealed_samples: u64,
    decoded_samples: u64,
    decoded_concealed_samples: u64,
    concealment_events: u64,
    active_frames: u64,
    in_concealment: bool,
    last_dbov: Option<f64>,
}

impl LevelMeter {
    /// A meter with nothing counted.
    pub fn new() -> Self {
        Self::default()
    }

    /// One decoded (or PLC-generated, when `concealed`) frame; returns its level in dBov.
    pub fn on_decoded<S: Sample>(&mut self, samples: &[S], concealed: bool) -> f64 {
        let db = rms_dbov(samples);
        let n = samples.len() as u64;
        self.count(n, concealed);
        self.decoded_frames += 1;
        self.decoded_samples += n;
        if concealed {
            self.decoded_concealed_samples += n;
        }
        if db >= SILENCE_DBOV {
            self.active_frames += 1;
        }
        self.last_dbov = Some(db);
        db
    }

    /// One frame played without decoding (`decode: false`): counted, not measured.
    pub fn on_undecoded(&mut self, n_samples: usize, concealed: bool) {
        self.count(n_samples as u64, concealed);
    }

    fn count(&mut self, n: u64, concealed: bool) {
        self.frames += 1;
        self.total_samples += n;
        if concealed {
            self.concealed_samples += n;
            if !self.in_concealment {
                self.concealment_events += 1;
            }
        }
        self.in_concealment = concealed;
    }

    /// Concealed / all samples over decoded frames; None when no frame was decoded.
    pub fn concealed_ratio(&self) -> Option<f64> {
        (self.decoded_samples > 0)
            .then(|| self.decoded_concealed_samples as f64 / self.decoded_samples as f64)
    }

    /// Decoded frames at or above [`SILENCE_DBOV`] / decoded frames; None when none was decoded.
    pub fn speech_active_ratio(&self) -> Option<f64> {
        (self.decoded_frames > 0).then(|| self.active_frames as f64 / self.decoded_frames as f64)
    }

    /// Frames played (decoded or not).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Frames decoded (including PLC frames).
    pub fn decoded_frames(&self) -> u64 {
        self.decoded_frames
    }

    /// Samples played (webrtc-stats `totalSamplesReceived`).
    pub fn total_samples(&self) -> u64 {
        self.total_samples
    }

    /// Samples concealed (webrtc-stats `concealedSamples`), counted with or without decoding.
    pub fn concealed_samples(&self) -> u64 {
        self.concealed_samples
    }

    /// Runs of consecutive concealed frames (webrtc-stats `concealmentEvents`).
    pub fn concealment_events(&self) -> u64 {
        self.concealment_events
    }

    /// Level of the last decoded frame, dBov.
    pub fn last_level_dbov(&self) -> Option<f64> {
        self.last_dbov
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dbov_reference_points() {
        assert_eq!(rms_dbov(&[0; 960]), FLOOR_DBOV);
        // Full-scale square wave is 0 dBov; a full-scale sine is -3 dBov.
        let square: Vec<i16> = (0..960)
            .map(|i| if i % 2 == 0 { 32767 } else { -32768 })
            .collect();
        assert!(rms_dbov(&square).abs() < 0.01);
        let sine: Vec<i16> = (0..960)
            .map(|i| {
                (32767.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / 48000.0).sin()) as i16
            })
            .collect();
        assert!((rms_dbov(&sine) + 3.01).abs() < 0.02);
        // Float samples on their own full scale read the same.
        let sine_f: Vec<f32> = sine.iter().map(|&x| f32::from(x) / 32768.0).collect();
        assert!((rms_dbov(&sine_f) - rms_dbov(&sine)).abs() < 1e-6);
    }

    #[test]
    fn concealment_counters() {
        let mut m = LevelMeter::new();
        let speech = [1642i16; 960];
        let quiet = [10i16; 960]; // -70 dBov
        for c in [false, true, true, false, true, false] {
            m.on_decoded(if c { &quiet } else { &speech }, c);
        }
        assert_eq!(m.concealment_events(), 2);
        assert_eq!(m.concealed_ratio(), Some(0.5));
        assert_eq!(m.speech_active_ratio(), Some(0.5));
        assert_eq!(m.total_samples(), 6 * 960);
    }

    #[test]
    fn undecoded_gives_no_ratio() {
        let mut m = LevelMeter::new();
        m.on_undecoded(960, true);
        m.on_undecoded(960, false);
        assert_eq!(m.concealed_ratio(), None);
        assert_eq!(m.speech_active_ratio(), None);
        assert_eq!(m.concealed_samples(), 960);
        assert_eq!(m.concealment_events(), 1);
    }
}
