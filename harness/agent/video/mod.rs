//! The video codec layer: a synthetic camera, VP8 and H.264 encoders, clips encoded once and
//! replayed, pixel decoders, and the measures of what a person would see.
//!
//! A call does not encode live: encoding costs 1-3 ms a frame, replaying a clip costs nothing.
//! Each (codec, layer, scene, seed, length) is encoded once per process into a [`VideoClip`]
//! and shared ([`VideoClip::cached`]); the sender replays it in a loop, and encodes a keyframe
//! only when a receiver asks for one (PLI/FIR), once per frame index, memoized in the clip.
//!
//! ```ignore
//! let layer = VideoLayer { width: 640, height: 360, fps: 30, bitrate_bps: 600_000 };
//! let clip = VideoClip::cached(VideoCodec::Vp8, layer, Scene::Moving, 300, seed)?;
//! let mut player = ClipPlayer::new(clip.clone());   // one per sending track
//! loop {                                             // every 1/fps s
//!     let i = player.next_index();                   // the source frame it shows
//!     let f = player.next_frame(pli_pending)?;       // first keyframe, deltas, keyframes
//!     send(f.keyframe, f.data);                      // packetize (the RTP side)
//! }
//! // Receive side, when decoding (`decode: true`):
//! let mut dec = VideoDecoder::new(VideoCodec::Vp8)?;
//! if let Some(p) = dec.decode(&assembled)? {
//!     let q = psnr_y(&clip.source_luma(i), &p.y);    // quality against the camera
//!     let frozen = same_picture(&last, &p);
//!     let covered = is_black(&p);
//! }
//! ```
//!
//! Send through [`ClipPlayer`] rather than [`VideoClip::delta`] directly: H.264 slices carry a
//! `frame_num` that must count up from the last IDR, which the player rewrites
//! ([`frame_num`]); the raw deltas keep the numbers of their one encode, and OpenH264's decoder
//! drops a frame whose number jumps (`dsRefLost`).
//!
//! Replay is not a live encoder in two ways, measured in the tests (640x360, 600 kbit/s):
//! - after [`VideoClip::keyframe`]`(i)` the clip's deltas `i+1..` were predicted from the live
//!   encoder's picture `i`, not from the keyframe's, so the decoder drifts until the next
//!   keyframe: VP8 under 0.5 dB over 30 frames (its deltas predict from the previous frame
//!   only); H.264 1 to 9 dB mean depending on the source's seed, growing frame after frame
//!   (to 3-15 dB after 30 frames). The player therefore sends H.264 on with the keyframe's own
//!   encoder ([`VideoClip::keyframe_delta`], no drift, about 2 ms a frame encoded the first
//!   time, until the wrap), and VP8 with the clip's deltas (free);
//! - at the loop's wrap, the deltas were predicted from the first keyframe, not from the
//!   wrap-around delta, and the difference compounds pass after pass (VP8 -0.3 dB a pass,
//!   H.264 -3 to -4 dB). The player therefore wraps with the first keyframe by default
//!   ([`Wrap::Keyframe`]: exact, one keyframe a loop); [`Wrap::Delta`] is the keyframe-free
//!   loop.
//!
//! OpenH264 prints one warning line to stderr for each encoder it creates (frame skipping is
//! off, which it does not recommend); the crate gives no way to silence it before it is
//! printed.

mod cache;
pub mod frame_num;
mod h264;
mod player;
mod quality;
mod source;
// libvpx has no safe Rust binding: the FFI is wrapped here, and only here.
#[allow(unsafe_code)]
mod vp8;

#[cfg(test)]
mod tests;

pub use player::{ClipPlayer, Wrap};
pub use quality::{
    is_black, mean_luma, psnr_y, same_picture, ssim_y, BLACK_MEAN_LUMA, PSNR_IDENTICAL_DB,
    SAME_PICTURE_DB,
};
pub use source::BLACK_LUMA;

use source::{Source, I420};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// A video codec a call can negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VideoCodec {
    Vp8,
    H264,
}

impl VideoCodec {
    /// The codec's name as in SDP (`VP8`, `H264`).
    pub fn name(self) -> &'static str {
        match self {
            VideoCodec::Vp8 => "VP8",
            VideoCodec::H264 => "H264",
        }
    }
}

impl std::fmt::Display for VideoCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One encoding: picture size (pixels), frame rate (frames/s), target bitrate (bit/s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VideoLayer {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_bps: u32,
}

impl VideoLayer {
    /// Checks what both encoders need: even sides from 16x16 to 3840x2160, 1-120 frames/s,
    /// 10 kbit/s to 50 Mbit/s.
    pub fn validate(&self) -> Result<(), VideoError> {
        let bad = |reason: &str| {
            Err(VideoError::InvalidLayer {
                layer: *self,
                reason: reason.to_owned(),
            })
        };
        if !self.width.is_multiple_of(2) || !self.height.is_multiple_of(2) {
            return bad("width and height must be even (I420 halves them for chroma)");
        }
        if self.width < 16 || self.height < 16 {
            return bad("width and height must be at least 16 pixels");
        }
        if self.width.max(self.height) > 3840 || self.width.min(self.height) > 2160 {
            return bad("the picture must fit in 3840x2160 (OpenH264's limit)");
        }
        if !(1..=120).contains(&self.fps) {
            return bad("fps must be 1 to 120");
        }
        if !(10_000..=50_000_000).contains(&self.bitrate_bps) {
            return bad("bitrate_bps must be 10,000 to 50,000,000");
        }
        Ok(())
    }
}

/// What the camera shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scene {
    /// A moving, textured, slightly noisy picture (see `source.rs`).
    Moving,
    /// Black: a covered camera, or the wrong camera selected.
    Black,
}

/// What went wrong in the video layer.
#[derive(Debug, thiserror::Error)]
pub enum VideoError {
    #[error("{0}")]
    Unsupported(String),
    #[error("video layer {}x{} {} fps {} bit/s is not usable: {reason}", layer.width, layer.height, layer.fps, layer.bitrate_bps)]
    InvalidLayer { layer: VideoLayer, reason: String },
    #[error("a clip needs at least 1 frame, got {0}")]
    EmptyClip(usize),
    #[error("could not create the {codec} codec: {detail}")]
    Init { codec: VideoCodec, detail: String },
    #[error("{codec} encoder failed on frame {frame}: {detail}")]
    Encode {
        codec: VideoCodec,
        frame: u64,
        detail: String,
    },
    #[error("{codec} decoder rejected the frame: {detail}")]
    Decode { codec: VideoCodec, detail: String },
}

/// One encoded frame: the codec bitstream (H.264: an Annex B access unit with start codes;
/// VP8: one raw frame, as the RTP payloader takes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoFrame<'a> {
    /// An intra frame (VP8 keyframe, H.264 IDR with SPS and PPS) a decoder can start from.
    pub keyframe: bool,
    pub data: &'a [u8],
}

/// A decoded picture, 8-bit I420 without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    /// Luma, width x height.
    pub y: Vec<u8>,
    /// Chroma, ceil(width/2) x ceil(height/2) each.
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

/// The synthetic source's frame `i` luma (width x height), the source looping over `frames`
/// frames (the clip's length: the source's motion period), for quality against the source.
/// [`VideoClip::source_luma`] is the same for a clip's own arguments.
pub fn source_luma(layer: VideoLayer, scene: Scene, seed: u64, frames: usize, i: usize) -> Vec<u8> {
    Source::new(layer, scene, seed, frames).frame(i).y
}

/// An encoder of either codec, as the clip drives it.
enum Encoder {
    H264(Box<h264::H264Encoder>),
    Vp8(vp8::Vp8Encoder),
}

impl Encoder {
    fn new(codec: VideoCodec, layer: VideoLayer) -> Result<Self, VideoError> {
        Self::with_qp(codec, layer, None)
    }

    fn with_qp(codec: VideoCodec, layer: VideoLayer, qp: Option<u8>) -> Result<Self, VideoError> {
        Ok(match codec {
            VideoCodec::H264 => Encoder::H264(Box::new(h264::H264Encoder::new(layer, qp)?)),
            VideoCodec::Vp8 => Encoder::Vp8(vp8::Vp8Encoder::new(layer)?),
        })
    }

    fn encode(&mut self, pic: &I420, keyframe: bool) -> Result<(Vec<u8>, bool), VideoError> {
        match self {
            Encoder::H264(e) => e.encode(pic, keyframe),
            Encoder::Vp8(e) => e.encode(pic, keyframe),
        }
    }
}

/// Frames encoded once per (codec, layer, scene, length, seed) and replayed in a loop.
pub struct VideoClip {
    codec: VideoCodec,
    layer: VideoLayer,
    scene: Scene,
    seed: u64,
    /// Frame 0 as the first keyframe.
    first: Box<[u8]>,
    /// Delta frame i following frame i-1; index 0 is the wrap-around delta following the last.
    deltas: Vec<Box<[u8]>>,
    /// Keyframe alternates, encoded on first request.
    keyframes: Vec<OnceLock<Box<[u8]>>>,
    /// The encoders that went on after a keyframe alternate, by its frame index.
    chains: Mutex<BTreeMap<usize, Arc<Mutex<Chain>>>>,
    /// The camera itself, kept for rendering reference pictures (a pixel-decoding receiver
    /// asks for one every frame; building the source's texture each time cost a third of it).
    camera: Source,
}

/// The deltas a fresh encoder made after its keyframe alternate of frame `key`: `frames[j]`
/// follows frame `key + j`, up to and including the wrap-around delta; the encoder is dropped
/// once that is encoded.
struct Chain {
    enc: Option<Encoder>,
    frames: Vec<Arc<[u8]>>,
}

impl VideoClip {
    /// Encodes `frames` frames of the synthetic source (period `frames`) with one live encoder:
    /// frame 0 as a keyframe, frames 1..frames as deltas, then source frame 0 again as the
    /// wrap-around delta (`delta(0)`). No other keyframes.
    pub fn encode(
        codec: VideoCodec,
        layer: VideoLayer,
        scene: Scene,
        frames: usize,
        seed: u64,
    ) -> Result<Self, VideoError> {
        layer.validate()?;
        if frames == 0 {
            return Err(VideoError::EmptyClip(frames));
        }
        let src = Source::new(layer, scene, seed, frames);
        let mut enc = Encoder::new(codec, layer)?;
        let (first, key) = enc.encode(&src.frame(0), true)?;
        debug_assert!(key);
        let mut deltas = vec![Box::<[u8]>::default(); frames];
        for i in 1..=frames {
            let (data, key) = enc.encode(&src.frame(i), false)?;
            if key {
                return Err(VideoError::Encode {
                    codec,
                    frame: i as u64,
                    detail: "the encoder made a keyframe nobody asked for".into(),
                });
            }
            deltas[i % frames] = data.into_boxed_slice();
        }
        let keyframes: Vec<OnceLock<Box<[u8]>>> = (0..frames).map(|_| OnceLock::new()).collect();
        // A fresh encoder's first frame is exactly what keyframe(0) would encode.
        let _ = keyframes[0].set(first.clone().into_boxed_slice());
        Ok(VideoClip {
            codec,
            layer,
            scene,
            seed,
            first: first.into_boxed_slice(),
            deltas,
            keyframes,
            chains: Mutex::default(),
            camera: src,
        })
    }

    /// [`VideoClip::encode`] through a process-wide cache keyed by all the arguments: the first
    /// caller encodes, the others (any thread) wait and share it. Failures are not cached.
    pub fn cached(
        codec: VideoCodec,
        layer: VideoLayer,
        scene: Scene,
        frames: usize,
        seed: u64,
    ) -> Result<Arc<Self>, VideoError> {
        cache::get_or_encode((codec, layer, scene, frames, seed))
    }

    pub fn codec(&self) -> VideoCodec {
        self.codec
    }

    pub fn layer(&self) -> VideoLayer {
        self.layer
    }

    pub fn scene(&self) -> Scene {
        self.scene
    }

    /// Frames in the loop.
    pub fn len(&self) -> usize {
        self.deltas.len()
    }

    /// Never true: a clip has at least one frame.
    pub fn is_empty(&self) -> bool {
        self.deltas.is_empty()
    }

    /// The first frame sent: the keyframe version of frame 0.
    pub fn first(&self) -> VideoFrame<'_> {
        VideoFrame {
            keyframe: true,
            data: &self.first,
        }
    }

    /// Frame `i` (modulo the length) as a delta frame following frame `i - 1`; for `i % len ==
    /// 0`, the wrap-around delta following the last frame. H.264: as encoded, with the
    /// `frame_num` of frame `i`'s first encode; send through [`ClipPlayer`], which renumbers.
    pub fn delta(&self, i: usize) -> VideoFrame<'_> {
        VideoFrame {
            keyframe: false,
            data: &self.deltas[i % self.len()],
        }
    }

    /// Frame `i` (modulo the length) as a keyframe, what the sender sends when a receiver asked
    /// for one (PLI/FIR): an intra-only encode of source frame `i` by a fresh encoder, encoded
    /// on first request and memoized in the clip (it depends only on `i`). `keyframe(0)` is
    /// [`VideoClip::first`].
    ///
    /// The deltas that follow (`delta(i + 1)`, ...) were predicted from the live encoder's
    /// picture `i`, not from this keyframe's, so the decoded pictures drift from what a live
    /// encoder would give until the next keyframe (see the module docs for the measured drift:
    /// small for VP8, large for H.264). Costs one encode, about 10-20 ms, the first time.
    pub fn keyframe(&self, i: usize) -> Result<VideoFrame<'_>, VideoError> {
        let i = i % self.len();
        let slot = &self.keyframes[i];
        if slot.get().is_none() {
            let src = Source::new(self.layer, self.scene, self.seed, self.len());
            let mut enc = Encoder::new(self.codec, self.layer)?;
            let (data, key) = enc.encode(&src.frame(i), true)?;
            if !key {
                return Err(VideoError::Encode {
                    codec: self.codec,
                    frame: i as u64,
                    detail: "asked for a keyframe, the encoder made a delta frame".into(),
                });
            }
            // Another thread may have set it meanwhile: the same bytes (deterministic).
            let _ = slot.set(data.into_boxed_slice());
        }
        Ok(VideoFrame {
            keyframe: true,
            data: slot.get().map_or(&[][..], |d| d),
        })
    }

    /// The delta of frame `key + j` (`j` from 1 to `len - key % len`, the last being the
    /// wrap-around delta) as the encoder that made `keyframe(key)` goes on after it: what a live
    /// encoder sends after the keyframe a receiver asked for, without the drift of
    /// [`VideoClip::delta`] there. Encoded on first request, one frame at a time, and memoized
    /// (it depends only on `key` and `j`).
    pub fn keyframe_delta(&self, key: usize, j: usize) -> Result<Arc<[u8]>, VideoError> {
        let (len, key) = (self.len(), key % self.len());
        if j == 0 || j > len - key {
            return Err(VideoError::Encode {
                codec: self.codec,
                frame: (key + j) as u64,
                detail: format!(
                    "a keyframe alternate of frame {key} has deltas 1 to {} (to the wrap), not {j}",
                    len - key
                ),
            });
        }
        let slot = self
            .chains
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_insert_with(|| {
                Arc::new(Mutex::new(Chain {
                    enc: None,
                    frames: Vec::new(),
                }))
            })
            .clone();
        let mut chain = slot.lock().unwrap_or_else(PoisonError::into_inner);
        if chain.frames.len() >= j {
            return Ok(chain.frames[j - 1].clone());
        }
        let src = Source::new(self.layer, self.scene, self.seed, len);
        if chain.enc.is_none() {
            let mut enc = Encoder::new(self.codec, self.layer)?;
            enc.encode(&src.frame(key), true)?;
            for k in 1..=chain.frames.len() {
                enc.encode(&src.frame(key + k), false)?;
            }
            chain.enc = Some(enc);
        }
        while chain.frames.len() < j {
            let next = key + chain.frames.len() + 1;
            let Some(enc) = chain.enc.as_mut() else {
                break;
            };
            let (data, _) = enc.encode(&src.frame(next), false)?;
            chain.frames.push(data.into());
        }
        if chain.frames.len() == len - key {
            chain.enc = None;
        }
        Ok(chain.frames[j - 1].clone())
    }

    /// The source's luma for frame `i` (modulo the length), what the camera saw.
    pub fn source_luma(&self, i: usize) -> Vec<u8> {
        self.camera.frame(i).y
    }

    /// Bytes the clip holds: the frames and the keyframes encoded so far.
    pub fn memory_bytes(&self) -> usize {
        let keys: usize = self
            .keyframes
            .iter()
            .filter_map(|k| k.get())
            .map(|k| k.len())
            .sum();
        std::mem::size_of::<Self>()
            + self.first.len()
            + self.deltas.iter().map(|d| d.len()).sum::<usize>()
            + self.deltas.len() * std::mem::size_of::<Box<[u8]>>()
            + self.keyframes.len() * std::mem::size_of::<OnceLock<Box<[u8]>>>()
            + keys
            + self
                .chains
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .map(|c| {
                    let c = c.lock().unwrap_or_else(PoisonError::into_inner);
                    c.frames.iter().map(|f| f.len()).sum::<usize>()
                })
                .sum::<usize>()
    }

    /// The mean bitrate of the loop replayed (every delta once, the wrap-around one
    /// included; no keyframe), bit/s at the layer's frame rate.
    pub fn mean_bitrate_bps(&self) -> f64 {
        let bytes: usize = self.deltas.iter().map(|d| d.len()).sum();
        bytes as f64 * 8.0 * f64::from(self.layer.fps) / self.len() as f64
    }
}

/// A pixel decoder, for calls with `decode: true` (what a person would see).
pub struct VideoDecoder {
    inner: DecoderInner,
}

enum DecoderInner {
    H264(h264::H264Decoder),
    Vp8(vp8::Vp8Decoder),
}

impl VideoDecoder {
    pub fn new(codec: VideoCodec) -> Result<Self, VideoError> {
        let inner = match codec {
            VideoCodec::H264 => DecoderInner::H264(h264::H264Decoder::new()?),
            VideoCodec::Vp8 => DecoderInner::Vp8(vp8::Vp8Decoder::new()?),
        };
        Ok(VideoDecoder { inner })
    }

    /// Decodes one complete frame; `Ok(None)` when the decoder produced no picture (e.g. a
    /// delta before any keyframe). A frame the decoder cannot parse is an error.
    pub fn decode(&mut self, data: &[u8]) -> Result<Option<Picture>, VideoError> {
        match &mut self.inner {
            DecoderInner::H264(d) => d.decode(data),
            DecoderInner::Vp8(d) => d.decode(data),
        }
    }
}
