//! Opus encode and decode (libopus through the `opus` crate), and encoded clips for replay.
//!
//! - [`OpusEncoder`] / [`OpusDecoder`]: 48 kHz mono, `Application::Voip`, 20 ms frames, bitrate
//!   32 kbit/s by default, in-band FEC off by default. Decoding a missing frame runs the
//!   decoder's packet-loss concealment ([`OpusDecoder::conceal`]).
//! - [`EncodedClip`]: a source encoded once into a sequence of frames that many calls replay,
//!   cycling, without re-encoding (encoding is ~100 µs a frame, most of a simulated call's cost;
//!   see `../shared/reference/webrtc-rs.md`). All payloads sit in one `Vec<u8>` with an offset
//!   table, so a minute of 32 kbit/s audio takes about 240 KB, shared through an `Arc`.
//!
//! # Example
//! ```
//! use callharness::agent::media::codec::{EncodedClip, OpusConfig, OpusDecoder};
//! let clip = EncodedClip::from_seed(1, 50, OpusConfig::default()).unwrap(); // 1 s
//! let mut dec = OpusDecoder::new().unwrap();
//! for i in 0..60 { // cycles past the end
//!     let f = clip.frame(i);
//!     assert_eq!(dec.decode(f.payload).unwrap().len(), 960);
//! }
//! assert_eq!(dec.conceal().unwrap().len(), 960); // a lost frame
//! ```

use crate::agent::media::source::{SpeechSource, FRAME_SAMPLES, SAMPLE_RATE};
use std::sync::Arc;

/// Largest Opus packet we accept from the encoder, bytes (RFC 6716 caps a frame at 1275).
const MAX_PACKET: usize = 1500;

/// Opus failures, and frames of the wrong shape.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// libopus returned an error.
    #[error("opus {op} failed: {source}")]
    Opus {
        /// What we were doing (`create encoder`, `encode`, `decode`, `set bitrate`...).
        op: &'static str,
        /// libopus's error.
        #[source]
        source: opus::Error,
    },
    /// A PCM frame that is not 20 ms of 48 kHz mono.
    #[error("PCM frame has {found} samples; a 20 ms mono frame at 48 kHz has {expected}")]
    FrameSize {
        /// Samples expected (960).
        expected: usize,
        /// Samples given.
        found: usize,
    },
    /// The decoder returned a frame of another length than 20 ms.
    #[error(
        "decoder returned {found} samples for one packet; expected {expected} (a 20 ms frame)"
    )]
    DecodedSize {
        /// Samples expected (960).
        expected: usize,
        /// Samples returned.
        found: usize,
    },
    /// A clip of zero frames was asked for.
    #[error("an encoded clip needs at least one frame; 0 were asked for")]
    EmptyClip,
}

fn opus_err(op: &'static str) -> impl FnOnce(opus::Error) -> CodecError {
    move |source| CodecError::Opus { op, source }
}

/// Encoder settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusConfig {
    /// Target bitrate, bit/s (32 000 by default).
    pub bitrate_bps: i32,
    /// In-band FEC (LBRR), off by default.
    pub inband_fec: bool,
    /// Expected packet loss the encoder plans FEC for, percent (0..=100).
    pub packet_loss_pct: i32,
    /// Encoder complexity 0..=10; None keeps libopus's default.
    pub complexity: Option<i32>,
}

impl Default for OpusConfig {
    fn default() -> Self {
        OpusConfig {
            bitrate_bps: 32_000,
            inband_fec: false,
            packet_loss_pct: 0,
            complexity: None,
        }
    }
}

/// A 48 kHz mono VoIP Opus encoder for 20 ms frames.
pub struct OpusEncoder {
    inner: opus::Encoder,
    out: Vec<u8>,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder").finish_non_exhaustive()
    }
}

impl OpusEncoder {
    /// An encoder with `config` applied.
    pub fn new(config: OpusConfig) -> Result<Self, CodecError> {
        let mut inner =
            opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
                .map_err(opus_err("create encoder"))?;
        inner
            .set_bitrate(opus::Bitrate::Bits(config.bitrate_bps))
            .map_err(opus_err("set bitrate"))?;
        inner
            .set_inband_fec(config.inband_fec)
            .map_err(opus_err("set inband fec"))?;
        inner
            .set_packet_loss_perc(config.packet_loss_pct)
            .map_err(opus_err("set packet loss"))?;
        if let Some(c) = config.complexity {
            inner
                .set_complexity(c)
                .map_err(opus_err("set complexity"))?;
        }
        Ok(OpusEncoder {
            inner,
            out: vec![0; MAX_PACKET],
        })
    }

    /// Encodes one 20 ms frame (960 samples); the payload is valid until the next call.
    pub fn encode(&mut self, pcm: &[i16]) -> Result<&[u8], CodecError> {
        if pcm.len() != FRAME_SAMPLES {
            return Err(CodecError::FrameSize {
                expected: FRAME_SAMPLES,
                found: pcm.len(),
            });
        }
        let n = self
            .inner
            .encode(pcm, &mut self.out)
            .map_err(opus_err("encode"))?;
        Ok(&self.out[..n])
    }
}

/// A 48 kHz mono Opus decoder producing 20 ms frames of float samples (full scale 1.0).
/// libopus decodes in float either way; its 16-bit output adds a soft-clipping pass (about 5 %
/// of a replayed call's instructions) that measuring levels does not need.
pub struct OpusDecoder {
    inner: opus::Decoder,
    out: [f32; FRAME_SAMPLES],
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder").finish_non_exhaustive()
    }
}

impl OpusDecoder {
    /// A fresh decoder.
    pub fn new() -> Result<Self, CodecError> {
        let inner = opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)
            .map_err(opus_err("create decoder"))?;
        Ok(OpusDecoder {
            inner,
            out: [0.0; FRAME_SAMPLES],
        })
    }

    /// Decodes one packet into 960 samples, valid until the next call.
    pub fn decode(&mut self, payload: &[u8]) -> Result<&[f32], CodecError> {
        let n = self
            .inner
            .decode_float(payload, &mut self.out, false)
            .map_err(opus_err("decode"))?;
        if n != FRAME_SAMPLES {
            return Err(CodecError::DecodedSize {
                expected: FRAME_SAMPLES,
                found: n,
            });
        }
        Ok(&self.out[..])
    }

    /// Conceals one missing 20 ms frame (libopus PLC: decode with no input).
    pub fn conceal(&mut self) -> Result<&[f32], CodecError> {
        let n = self
            .inner
            .decode_float(&[], &mut self.out, false)
            .map_err(opus_err("conceal"))?;
        if n != FRAME_SAMPLES {
            return Err(CodecError::DecodedSize {
                expected: FRAME_SAMPLES,
                found: n,
            });
        }
        Ok(&self.out[..])
    }
}

/// One frame of an [`EncodedClip`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClipFrame<'a> {
    /// The Opus packet.
    pub payload: &'a [u8],
    /// Whether the source was in a talk spurt.
    pub active: bool,
}

/// Opus frames encoded once, replayed (cycling) by many calls. See the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedClip {
    data: Vec<u8>,
    /// End offset of each frame in `data`.
    ends: Vec<u32>,
    /// Talk-spurt flag per frame, as a bitset.
    active: Vec<u64>,
}

impl EncodedClip {
    /// Encodes `frames` frames of `source` with `encoder`.
    pub fn encode(
        source: &mut SpeechSource,
        encoder: &mut OpusEncoder,
        frames: usize,
    ) -> Result<Self, CodecError> {
        if frames == 0 {
            return Err(CodecError::EmptyClip);
        }
        let mut clip = EncodedClip {
            data: Vec::with_capacity(frames * 100),
            ends: Vec::with_capacity(frames),
            active: vec![0; frames.div_ceil(64)],
        };
        for i in 0..frames {
            let (pcm, active) = source.next_frame();
            let payload = encoder.encode(pcm)?;
            clip.data.extend_from_slice(payload);
            clip.ends.push(clip.data.len() as u32);
            if active {
                clip.active[i / 64] |= 1 << (i % 64);
            }
        }
        clip.data.shrink_to_fit();
        Ok(clip)
    }

    /// Encodes `frames` frames of `SpeechSource::new(seed)` with a new encoder, ready to share.
    pub fn from_seed(
        seed: u64,
        frames: usize,
        config: OpusConfig,
    ) -> Result<Arc<Self>, CodecError> {
        let mut source = SpeechSource::new(seed);
        let mut encoder = OpusEncoder::new(config)?;
        Ok(Arc::new(Self::encode(&mut source, &mut encoder, frames)?))
    }

    /// Frames in the clip (at least 1).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Always false: a clip has at least one frame.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Frame `i`, cycling: frame `len()` is frame 0 again.
    pub fn frame(&self, i: usize) -> ClipFrame<'_> {
        let i = i % self.ends.len();
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends[i] as usize;
        ClipFrame {
            payload: &self.data[start..end],
            active: self.active[i / 64] & (1 << (i % 64)) != 0,
        }
    }

    /// Bytes of payload in the clip.
    pub fn payload_bytes(&self) -> usize {
        self.data.len()
    }

    /// Approximate heap memory of the clip, bytes.
    pub fn memory_bytes(&self) -> usize {
        self.data.capacity() + self.ends.capacity() * 4 + self.active.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::media::level::rms_dbov;

    #[test]
    fn round_trip_keeps_level() {
        let mut src = SpeechSource::new(21);
        let mut enc = OpusEncoder::new(OpusConfig::default()).unwrap();
        let mut dec = OpusDecoder::new().unwrap();
        let (mut p_in, mut p_out) = (0.0f64, 0.0f64);
        let mut bytes = 0usize;
        let frames = 250; // 5 s
        for i in 0..frames {
            let (pcm, _) = src.next_frame();
            let pcm = *pcm;
            let payload = enc.encode(&pcm).unwrap();
            bytes += payload.len();
            let out = dec.decode(payload).unwrap();
            if i >= 5 {
                // Skip the codec's start-up; compare total power (delay-insensitive).
                p_in += pcm.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>();
                p_out += out
                    .iter()
                    .map(|&x| (f64::from(x) * 32768.0).powi(2))
                    .sum::<f64>();
            }
        }
        let diff_db = 10.0 * (p_out / p_in).log10();
        assert!(diff_db.abs() < 3.0, "level changed by {diff_db} dB");
        // About 32 kbit/s on speech, less in pauses: 5 s -> well under 32 kbit/s * 5 s * 1.2.
        let kbps = bytes as f64 * 8.0 / 5.0 / 1000.0;
        assert!(kbps > 8.0 && kbps < 40.0, "{kbps} kbit/s");
    }

    #[test]
    fn conceal_produces_a_frame() {
        let mut src = SpeechSource::new(2);
        let mut enc = OpusEncoder::new(OpusConfig::default()).unwrap();
        let mut dec = OpusDecoder::new().unwrap();
        for _ in 0..20 {
            let (pcm, _) = src.next_frame();
            let pcm = *pcm;
            let p = enc.encode(&pcm).unwrap().to_vec();
            dec.decode(&p).unwrap();
        }
        let plc = dec.conceal().unwrap();
        assert_eq!(plc.len(), FRAME_SAMPLES);
        assert!(rms_dbov(plc) > -80.0); // PLC continues the voiced signal, not silence
    }

    #[test]
    fn wrong_frame_size_is_an_error() {
        let mut enc = OpusEncoder::new(OpusConfig::default()).unwrap();
        let err = enc.encode(&[0; 480]).unwrap_err();
        assert!(err.to_string().contains("480 samples"), "{err}");
        let mut dec = OpusDecoder::new().unwrap();
        assert!(matches!(
            dec.decode(&[0xff; 3]),
            Err(CodecError::Opus { .. }) | Err(CodecError::DecodedSize { .. })
        ));
    }

    #[test]
    fn clip_cycles_and_is_compact() {
        let clip = EncodedClip::from_seed(4, 100, OpusConfig::default()).unwrap();
        assert_eq!(clip.len(), 100);
        assert_eq!(clip.frame(3), clip.frame(103));
        assert_eq!(clip.frame(99), clip.frame(199));
        assert_ne!(clip.frame(0).payload, clip.frame(1).payload);
        // Activity flags are the source's.
        let mut t = crate::agent::media::source::TalkModel::new(4);
        for i in 0..100 {
            assert_eq!(clip.frame(i).active, t.next_frame());
        }
        assert!(
            clip.memory_bytes() < 100 * 200 + 1024,
            "{}",
            clip.memory_bytes()
        );
        assert!(matches!(
            EncodedClip::from_seed(4, 0, OpusConfig::default()),
            Err(CodecError::EmptyClip)
        ));
    }
}
