//! [`EncodedClip`]: a source encoded once into a sequence of frames that many calls replay,
//! cycling, without re-encoding (encoding is ~100 µs a frame, most of a simulated call's cost;
//! see `../shared/reference/webrtc-rs.md`). All payloads sit in one `Vec<u8>` with an offset
//! table, so a minute of 32 kbit/s audio takes about 240 KB, shared through an `Arc`. A clip
//! keeps the [`OpusConfig`] it was encoded with: its frame duration sets the replaying stream's
//! packet rate and RTP timestamp step, and a cache of clips must key on it.

use super::codec::{CodecError, OpusConfig, OpusEncoder};
use super::source::FramedSource;
use std::sync::Arc;

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
    config: OpusConfig,
}

impl EncodedClip {
    /// Encodes `frames` frames of `source` with `encoder` (whose frame duration the source's
    /// must match).
    pub fn encode(
        source: &mut FramedSource,
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
            config: encoder.config(),
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

    /// Encodes `frames` frames of the speech source for `seed` (cut to `config`'s frame
    /// duration) with a new encoder, ready to share.
    pub fn from_seed(
        seed: u64,
        frames: usize,
        config: OpusConfig,
    ) -> Result<Arc<Self>, CodecError> {
        let mut encoder = OpusEncoder::new(config)?;
        let mut source = FramedSource::new(seed, config.frame_samples());
        Ok(Arc::new(Self::encode(&mut source, &mut encoder, frames)?))
    }

    /// Encodes `frames` frames of digital silence (a dead microphone's capture) with
    /// `config` and a new encoder, ready to share. With DTX off every frame is a normal (small)
    /// Opus frame, so the stream keeps its packet rate.
    pub fn silence(frames: usize, config: OpusConfig) -> Result<Arc<Self>, CodecError> {
        let mut encoder = OpusEncoder::new(config)?;
        let mut source = FramedSource::silent(config.frame_samples());
        Ok(Arc::new(Self::encode(&mut source, &mut encoder, frames)?))
    }

    /// The encoder settings of the clip.
    pub fn config(&self) -> OpusConfig {
        self.config
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

    #[test]
    fn a_clip_keeps_its_settings_and_other_settings_give_another_clip() {
        let c20 = EncodedClip::from_seed(4, 50, OpusConfig::default()).unwrap();
        let cfg40 = OpusConfig {
            frame_ms: 40,
            ..OpusConfig::default()
        };
        let c40 = EncodedClip::from_seed(4, 25, cfg40).unwrap();
        assert_eq!(c40.config(), cfg40);
        assert_ne!(c20.config(), c40.config());
        // The same second of the same source: a 40 ms frame covers two 20 ms frames, active
        // when either is.
        for i in 0..25 {
            let either = c20.frame(2 * i).active || c20.frame(2 * i + 1).active;
            assert_eq!(c40.frame(i).active, either, "frame {i}");
        }
    }
}
