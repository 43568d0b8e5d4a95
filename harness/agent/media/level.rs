//! Audio level of what would be played, and the concealment counters webrtc-stats defines.
//!
//! [`LevelMeter`] is handed every 20 ms frame the receiver plays out, decoded or concealed, and
//! counts what the report needs:
//! - **concealed ratio** = concealed samples / all played samples (webrtc-stats
//!   `concealedSamples / totalSamplesReceived`), and `concealmentEvents` (runs of concealment);
//! - **speech-active ratio** = played frames above the silence threshold (−60 dBov RMS) / played
//!   frames, to tell a silent microphone from a talking one;
//! - the level of the last frame, dBov;
//! - what reached the listener, from what was received and decoded (never from the sender's
//!   settings): the **decoded level** (RMS over every sample of the frames decoded from a
//!   received packet, concealed and generated frames left out, dBov), the **speech ratio**
//!   (those frames at or above [`SILENCE_DBOV`] / those frames) and the **played level** (RMS
//!   over every frame handed to the speaker, after the speaker's gain: a muted output plays
//!   digital silence, [`FLOOR_DBOV`]). Levels are floored at [`FLOOR_DBOV`] so a report can
//!   hold them (JSON has no -inf).
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

/// Sum of the squared samples, as fractions of full scale.
fn sum_squares<S: Sample>(samples: &[S]) -> f64 {
    samples
        .iter()
        .map(|&s| {
            let x = s.fraction();
            x * x
        })
        .sum()
}

/// RMS level of `samples` in dBov (`20 log10(rms / full scale)`), at least [`FLOOR_DBOV`].
pub fn rms_dbov<S: Sample>(samples: &[S]) -> f64 {
    if samples.is_empty() {
        return FLOOR_DBOV;
    }
    let rms = (sum_squares(samples) / samples.len() as f64).sqrt();
    if rms <= 0.0 {
        FLOOR_DBOV
    } else {
        (20.0 * rms.log10()).max(FLOOR_DBOV)
    }
}

/// Where a decoded frame came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameOrigin {
    /// Decoded from a received packet (or rebuilt from the next one's in-band FEC).
    Packet,
    /// Packet-loss concealment: the frame due was missing.
    Concealed,
    /// Made by the decoder without a loss: comfort noise in a DTX pause, or an extra frame
    /// the adaptive buffer plays to grow.
    Generated,
}

/// RMS level of a sum of squares over `n` samples (fractions of full scale), dBov, at least
/// [`FLOOR_DBOV`]; None for no samples.
fn level_of(sum_sq: f64, n: u64) -> Option<f64> {
    (n > 0).then(|| {
        let ms = sum_sq / n as f64;
        if ms <= 0.0 {
            FLOOR_DBOV
        } else {
            (10.0 * ms.log10()).max(FLOOR_DBOV)
        }
    })
}

/// Counters over the played-out frames of one stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LevelMeter {
    /// The speaker is muted: what is played is not heard (gain 0).
    output_muted: bool,
    /// Frames decoded from packets, their samples, their sum of squares, and those with speech.
    packet_frames: u64,
    packet_samples: u64,
    packet_sum_sq: f64,
    packet_active_frames: u64,
    /// Samples handed to the speaker and their sum of squares after its gain.
    played_samples: u64,
    played_sum_sq: f64,
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

    /// A meter for a speaker that is muted (`true`) or plays (`false`).
    pub fn with_output_muted(muted: bool) -> Self {
        LevelMeter {
            output_muted: muted,
            ..Self::default()
        }
    }

    /// One decoded (or PLC-generated, when `concealed`) frame; returns its level in dBov.
    /// A frame that is not concealed counts as decoded from a packet; see
    /// [`LevelMeter::on_frame`] to say where it came from.
    pub fn on_decoded<S: Sample>(&mut self, samples: &[S], concealed: bool) -> f64 {
        let origin = if concealed {
            FrameOrigin::Concealed
        } else {
            FrameOrigin::Packet
        };
        self.on_frame(samples, origin)
    }

    /// One decoded frame and where it came from; returns its level in dBov (before the
    /// speaker's gain).
    pub fn on_frame<S: Sample>(&mut self, samples: &[S], origin: FrameOrigin) -> f64 {
        let concealed = origin == FrameOrigin::Concealed;
        let sum_sq = sum_squares(samples);
        let n = samples.len() as u64;
        let db = level_of(sum_sq, n).unwrap_or(FLOOR_DBOV);
        if origin == FrameOrigin::Packet {
            self.packet_frames += 1;
            self.packet_samples += n;
            self.packet_sum_sq += sum_sq;
            if db >= SILENCE_DBOV {
                self.packet_active_frames += 1;
            }
        }
        self.played_samples += n;
        if !self.output_muted {
            self.played_sum_sq += sum_sq;
        }
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

    /// Frames decoded from received packets (concealed and generated frames left out).
    pub fn packet_frames(&self) -> u64 {
        self.packet_frames
    }

    /// RMS level over every sample decoded from a received packet, dBov ([`FLOOR_DBOV`] for
    /// digital silence); None when no packet was decoded.
    pub fn decoded_level_dbov(&self) -> Option<f64> {
        level_of(self.packet_sum_sq, self.packet_samples)
    }

    /// Frames decoded from received packets at or above [`SILENCE_DBOV`] / such frames (0..1);
    /// None when no packet was decoded.
    pub fn speech_ratio(&self) -> Option<f64> {
        (self.packet_frames > 0)
            .then(|| self.packet_active_frames as f64 / self.packet_frames as f64)
    }

    /// RMS level over every decoded sample handed to the speaker, after its gain, dBov
    /// ([`FLOOR_DBOV`] when muted); None when nothing was decoded.
    pub fn played_level_dbov(&self) -> Option<f64> {
        level_of(self.played_sum_sq, self.played_samples)
    }

    /// Whether the speaker is muted.
    pub fn output_muted(&self) -> bool {
        self.output_muted
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
    fn decoded_level_and_speech_ratio_come_from_packet_frames_only() {
        let mut m = LevelMeter::new();
        let speech = [1642i16; 960]; // -26.0 dBov
        m.on_frame(&speech, FrameOrigin::Packet);
        m.on_frame(&[0i16; 960], FrameOrigin::Packet);
        m.on_frame(&speech, FrameOrigin::Concealed);
        m.on_frame(&speech, FrameOrigin::Generated);
        assert_eq!(m.packet_frames(), 2);
        assert_eq!(m.speech_ratio(), Some(0.5));
        // Half the samples at -26 dBov, half silent: the mean power halves, -3.01 dB.
        let closed = 20.0 * (1642.0f64 / 32768.0).log10() - 10.0 * 2f64.log10();
        assert!((m.decoded_level_dbov().unwrap() - closed).abs() < 1e-9);
        // Played: 3 of the 4 frames at -26 dBov.
        let played = 20.0 * (1642.0f64 / 32768.0).log10() + 10.0 * 0.75f64.log10();
        assert!((m.played_level_dbov().unwrap() - played).abs() < 1e-9);
    }

    #[test]
    fn digital_silence_reads_the_floor() {
        let mut m = LevelMeter::new();
        for _ in 0..50 {
            m.on_frame(&[0.0f32; 960], FrameOrigin::Packet);
        }
        assert_eq!(m.decoded_level_dbov(), Some(FLOOR_DBOV));
        assert_eq!(m.speech_ratio(), Some(0.0));
        assert_eq!(m.played_level_dbov(), Some(FLOOR_DBOV));
    }

    #[test]
    fn a_muted_speaker_plays_silence_of_what_was_decoded() {
        let mut m = LevelMeter::with_output_muted(true);
        m.on_frame(&[1642i16; 960], FrameOrigin::Packet);
        assert!((m.decoded_level_dbov().unwrap() + 26.0).abs() < 0.1);
        assert_eq!(m.speech_ratio(), Some(1.0));
        assert_eq!(m.played_level_dbov(), Some(FLOOR_DBOV));
        assert!(m.output_muted());
    }

    #[test]
    fn nothing_decoded_gives_no_levels() {
        let mut m = LevelMeter::new();
        m.on_undecoded(960, false);
        assert_eq!(m.decoded_level_dbov(), None);
        assert_eq!(m.played_level_dbov(), None);
        assert_eq!(m.speech_ratio(), None);
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
