//! Opus encode and decode (libopus through the `opus` crate).
//!
//! - [`OpusConfig`]: what a client's encoder is set to: bitrate (6-510 kbit/s), frame duration
//!   (10, 20, 40 or 60 ms), in-band FEC with the loss it plans for, DTX. Defaults: 32 kbit/s,
//!   20 ms, FEC and DTX off.
//! - [`OpusEncoder`] / [`OpusDecoder`]: 48 kHz mono, `Application::Voip`, one frame per packet.
//!   Decoding a missing frame runs the decoder's packet-loss concealment
//!   ([`OpusDecoder::conceal`]) or, when the next packet carries in-band FEC (LBRR) data
//!   ([`has_fec`]), rebuilds the frame from it ([`OpusDecoder::recover`]).
//! - [`EncodedClip`] (in `clip.rs`): a source encoded once and replayed by many calls.
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

pub use super::clip::{ClipFrame, EncodedClip};
use crate::agent::media::source::{FRAME_SAMPLES, SAMPLE_RATE};

/// Largest Opus packet we accept from the encoder, bytes (RFC 6716 caps a frame at 1275).
const MAX_PACKET: usize = 1500;
/// Largest decoded packet, samples: 120 ms at 48 kHz (RFC 6716's longest packet).
const MAX_DECODED: usize = 5760;
/// Lowest bitrate a client may set, bit/s (libopus's lowest useful rate for speech).
pub const MIN_BITRATE_BPS: i32 = 6_000;
/// Highest bitrate a client may set, bit/s (libopus caps at 510 kbit/s).
pub const MAX_BITRATE_BPS: i32 = 510_000;
/// Frame durations the harness encodes, sends and plays out, ms. libopus's 2.5 and 5 ms frames
/// (CELT-only, no FEC) and its 80-120 ms multi-frame packets are not supported.
pub const FRAME_MS_SUPPORTED: [u32; 4] = [10, 20, 40, 60];
/// Payloads of at most this many bytes are DTX frames: a table-of-contents byte and no audio
/// (libopus returns 1 byte in DTX; WebRTC treats up to 2 bytes as DTX).
pub const DTX_MAX_BYTES: usize = 2;

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
    /// A PCM frame of another length than the encoder's frame.
    #[error("PCM frame has {found} samples; a frame of this encoder has {expected}")]
    FrameSize {
        /// Samples expected (48 per ms of frame: 960 for 20 ms).
        expected: usize,
        /// Samples given.
        found: usize,
    },
    /// The decoder returned another number of samples than one frame.
    #[error("decoder returned {found} samples for one packet; expected {expected} (one frame)")]
    DecodedSize {
        /// Samples expected.
        expected: usize,
        /// Samples returned.
        found: usize,
    },
    /// A clip of zero frames was asked for.
    #[error("an encoded clip needs at least one frame; 0 were asked for")]
    EmptyClip,
    /// Settings libopus or the harness cannot honour.
    #[error("unsupported Opus setting: {0}")]
    Config(String),
}

fn opus_err(op: &'static str) -> impl FnOnce(opus::Error) -> CodecError {
    move |source| CodecError::Opus { op, source }
}

/// Encoder settings of one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpusConfig {
    /// Target bitrate, bit/s (32 000 by default; [`MIN_BITRATE_BPS`]..=[`MAX_BITRATE_BPS`]).
    pub bitrate_bps: i32,
    /// Frame (and packet) duration, ms: one of [`FRAME_MS_SUPPORTED`] (20 by default).
    pub frame_ms: u32,
    /// In-band FEC (LBRR), off by default.
    pub inband_fec: bool,
    /// Expected packet loss the encoder plans FEC for, percent (0..=100). libopus adds no FEC
    /// data at 0, so FEC needs a hint above 0.
    pub packet_loss_pct: i32,
    /// Discontinuous transmission: in silence the encoder emits DTX frames, of which only the
    /// first of each run is sent (see the send pipeline). Off by default.
    pub dtx: bool,
    /// Encoder complexity 0..=10; None keeps libopus's default.
    pub complexity: Option<i32>,
}

impl Default for OpusConfig {
    fn default() -> Self {
        OpusConfig {
            bitrate_bps: 32_000,
            frame_ms: 20,
            inband_fec: false,
            packet_loss_pct: 0,
            dtx: false,
            complexity: None,
        }
    }
}

impl OpusConfig {
    /// Samples in one frame at 48 kHz (960 for 20 ms).
    pub fn frame_samples(&self) -> usize {
        SAMPLE_RATE as usize / 1000 * self.frame_ms as usize
    }

    /// One frame, ns.
    pub fn frame_ns(&self) -> u64 {
        u64::from(self.frame_ms) * 1_000_000
    }

    /// Checks the settings against what libopus and the playout path accept.
    pub fn check(&self) -> Result<(), CodecError> {
        if !(MIN_BITRATE_BPS..=MAX_BITRATE_BPS).contains(&self.bitrate_bps) {
            return Err(CodecError::Config(format!(
                "bitrate {} bit/s is outside {MIN_BITRATE_BPS}..={MAX_BITRATE_BPS}",
                self.bitrate_bps
            )));
        }
        if !FRAME_MS_SUPPORTED.contains(&self.frame_ms) {
            return Err(CodecError::Config(format!(
                "frame of {} ms; supported: {FRAME_MS_SUPPORTED:?} ms",
                self.frame_ms
            )));
        }
        if !(0..=100).contains(&self.packet_loss_pct) {
            return Err(CodecError::Config(format!(
                "packet loss {} % is outside 0..=100",
                self.packet_loss_pct
            )));
        }
        Ok(())
    }
}

/// A 48 kHz mono VoIP Opus encoder for frames of its configured duration.
pub struct OpusEncoder {
    inner: opus::Encoder,
    out: Vec<u8>,
    config: OpusConfig,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder").finish_non_exhaustive()
    }
}

impl OpusEncoder {
    /// An encoder with `config` applied (checked first).
    pub fn new(config: OpusConfig) -> Result<Self, CodecError> {
        config.check()?;
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
        if config.dtx {
            inner.set_dtx(true).map_err(opus_err("set dtx"))?;
        }
        if let Some(c) = config.complexity {
            inner
                .set_complexity(c)
                .map_err(opus_err("set complexity"))?;
        }
        Ok(OpusEncoder {
            inner,
            out: vec![0; MAX_PACKET],
            config,
        })
    }

    /// The settings this encoder was made with.
    pub fn config(&self) -> OpusConfig {
        self.config
    }

    /// Encodes one frame (48 samples per ms); the payload is valid until the next call.
    pub fn encode(&mut self, pcm: &[i16]) -> Result<&[u8], CodecError> {
        if pcm.len() != self.config.frame_samples() {
            return Err(CodecError::FrameSize {
                expected: self.config.frame_samples(),
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

/// Whether an Opus packet carries in-band FEC (LBRR) data for the frame before it. SILK puts
/// its per-frame voice-activity flags and the LBRR flag, uncompressed, in the top bits of the
/// first frame's first byte (RFC 6716 §4.2.3); CELT-only packets carry none. (libopus 1.5 has
/// `opus_packet_has_lbrr`; the system's 1.3 does not.)
pub fn has_fec(packet: &[u8]) -> bool {
    let Some(&toc) = packet.first() else {
        return false;
    };
    let config = toc >> 3;
    if config >= 16 {
        return false; // CELT-only
    }
    // SILK and hybrid configurations: 10, 20, 40, 60 ms per frame (hybrid: 10 or 20).
    let frame_ms = if config >= 12 {
        [10, 20][usize::from(config & 1)]
    } else {
        [10, 20, 40, 60][usize::from(config & 3)]
    };
    let silk_frames = if frame_ms > 20 { frame_ms / 20 } else { 1 };
    let Ok(parsed) = opus::packet::parse(packet) else {
        return false;
    };
    let Some(&first) = parsed.frames.first().and_then(|f| f.first()) else {
        return false;
    };
    let mut lbrr = (first >> (7 - silk_frames)) & 1 == 1;
    if toc & 0x4 != 0 {
        // Stereo: the side channel's flags follow the mid channel's.
        lbrr |= (first >> (6 - 2 * silk_frames)) & 1 == 1;
    }
    lbrr
}

/// Whether libopus puts in-band FEC data into speech encoded with `config`: 2 s of the speech
/// source (seed 0) are encoded and any packet with [`has_fec`] says yes. libopus decides by
/// bitrate, frame duration and loss hint (`decide_fec` in 1.3: below a per-bandwidth rate it
/// adds none), so `inband_fec` alone does not promise any. Costs about 10 ms.
pub fn fec_in_speech(config: OpusConfig) -> Result<bool, CodecError> {
    if !config.inband_fec || config.packet_loss_pct == 0 {
        return Ok(false);
    }
    let mut encoder = OpusEncoder::new(config)?;
    let mut source = super::source::FramedSource::new(0, config.frame_samples());
    for _ in 0..2000 / config.frame_ms.max(1) {
        let (pcm, _) = source.next_frame();
        if has_fec(encoder.encode(pcm)?) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A 48 kHz mono Opus decoder producing frames of float samples (full scale 1.0).
/// libopus decodes in float either way; its 16-bit output adds a soft-clipping pass (about 5 %
/// of a replayed call's instructions) that measuring levels does not need.
pub struct OpusDecoder {
    inner: opus::Decoder,
    out: Vec<f32>,
    frame_samples: usize,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder").finish_non_exhaustive()
    }
}

impl OpusDecoder {
    /// A fresh decoder for 20 ms frames.
    pub fn new() -> Result<Self, CodecError> {
        Self::with_frame(FRAME_SAMPLES)
    }

    /// A fresh decoder for frames of `frame_samples` samples (48 per ms).
    pub fn with_frame(frame_samples: usize) -> Result<Self, CodecError> {
        if frame_samples == 0 || frame_samples > MAX_DECODED || !frame_samples.is_multiple_of(120) {
            return Err(CodecError::Config(format!(
                "a decoder frame of {frame_samples} samples (a multiple of 2.5 ms up to 120 ms)"
            )));
        }
        let inner = opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)
            .map_err(opus_err("create decoder"))?;
        Ok(OpusDecoder {
            inner,
            out: vec![0.0; MAX_DECODED],
            frame_samples,
        })
    }

    /// Samples in one frame.
    pub fn frame_samples(&self) -> usize {
        self.frame_samples
    }

    fn checked(&self, n: usize) -> Result<&[f32], CodecError> {
        if n != self.frame_samples {
            return Err(CodecError::DecodedSize {
                expected: self.frame_samples,
                found: n,
            });
        }
        Ok(&self.out[..n])
    }

    /// Decodes one packet into one frame, valid until the next call. A DTX packet (no audio)
    /// decodes to the decoder's comfort noise.
    pub fn decode(&mut self, payload: &[u8]) -> Result<&[f32], CodecError> {
        let n = self
            .inner
            .decode_float(payload, &mut self.out, false)
            .map_err(opus_err("decode"))?;
        self.checked(n)
    }

    /// Conceals one missing frame (libopus PLC: decode with no input); after a DTX packet this
    /// is the decoder's comfort noise.
    pub fn conceal(&mut self) -> Result<&[f32], CodecError> {
        let n = self.frame_samples;
        let n = self
            .inner
            .decode_float(&[], &mut self.out[..n], false)
            .map_err(opus_err("conceal"))?;
        self.checked(n)
    }

    /// Rebuilds the missing frame before `next` from `next`'s in-band FEC data (libopus decode
    /// with `decode_fec`); `next` itself must still be decoded afterwards. Without FEC data in
    /// `next` libopus conceals instead.
    pub fn recover(&mut self, next: &[u8]) -> Result<&[f32], CodecError> {
        let n = self.frame_samples;
        let n = self
            .inner
            .decode_float(next, &mut self.out[..n], true)
            .map_err(opus_err("decode fec"))?;
        self.checked(n)
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
