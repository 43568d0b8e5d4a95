//! What a person would see (`video: { decode: true }`): each rendered frame decoded to pixels,
//! then counted as black (a covered camera, the wrong camera), frozen (the same picture as the
//! one before, although a new frame came), and compared with the camera's own picture (PSNR of
//! luma on every [`PSNR_EVERY`]-th frame, named as such: a full-reference measure, since the
//! harness knows what the sender's camera saw).

use super::assemble::DecodableFrame;
use crate::agent::video::{
    is_black, psnr_y, same_picture, Picture, VideoClip, VideoCodec, VideoDecoder,
};
use std::sync::Arc;

/// PSNR is measured on every this many-th of the sender's frames (rendering the camera's
/// reference picture costs more than decoding one; black and repeated pictures are counted on
/// every picture).
pub const PSNR_EVERY: u32 = 5;

/// The camera a stream came from, for quality against it: the sender's clips (one per layer
/// it may send, highest first) and the RTP timestamp of its first frame. A picture is compared
/// with the clip of its size (and, between layers of one size, of its frame rate), at the
/// frame of its timestamp: timestamps run at 90 kHz of the send time through every switch.
#[derive(Clone)]
pub struct Reference {
    pub clips: Vec<Arc<VideoClip>>,
    pub first_timestamp: u32,
}

impl Reference {
    /// The clip a `width` x `height` picture `step` RTP ticks after the one before (None: the
    /// first) came from.
    fn clip_for(&self, width: u32, height: u32, step: Option<u32>) -> Option<&Arc<VideoClip>> {
        let mut sized = self.clips.iter().filter(|c| {
            let l = c.layer();
            (l.width, l.height) == (width, height)
        });
        let first = sized.next()?;
        let by_rate = |c: &&Arc<VideoClip>| Some(90_000 / c.layer().fps.max(1)) == step;
        if by_rate(&first) {
            return Some(first);
        }
        Some(sized.find(by_rate).unwrap_or(first))
    }
}

/// Counters of the decoded pictures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PixelStats {
    /// Frames the decoder turned into a picture.
    pub pictures: u64,
    /// Frames it refused or made nothing of.
    pub decode_errors: u64,
    /// Pictures at black level (mean luma at most [`crate::agent::video::BLACK_MEAN_LUMA`]).
    pub black: u64,
    /// Pictures the same as the one before (PSNR >= 50 dB) on a moving source.
    pub repeated: u64,
    /// Mean and lowest PSNR of luma against the camera's picture, dB (None without a
    /// reference).
    pub psnr_mean_db: Option<f64>,
    pub psnr_min_db: Option<f64>,
}

/// See the module docs.
pub struct PixelCheck {
    decoder: Option<(VideoCodec, VideoDecoder)>,
    reference: Option<Reference>,
    last: Option<Picture>,
    last_timestamp: Option<u32>,
    psnr_sum: f64,
    psnr_n: u64,
    stats: PixelStats,
}

impl PixelCheck {
    pub fn new(reference: Option<Reference>) -> Self {
        PixelCheck {
            decoder: None,
            reference,
            last: None,
            last_timestamp: None,
            psnr_sum: 0.0,
            psnr_n: 0,
            stats: PixelStats::default(),
        }
    }

    /// Decodes one rendered frame (its bitstream must have been kept).
    pub fn on_frame(&mut self, codec: VideoCodec, f: &DecodableFrame) {
        let Some(bits) = f.bitstream.as_deref() else {
            return;
        };
        if self.decoder.as_ref().is_none_or(|(c, _)| *c != codec) {
            match VideoDecoder::new(codec) {
                Ok(d) => self.decoder = Some((codec, d)),
                Err(_) => {
                    self.stats.decode_errors += 1;
                    return;
                }
            }
        }
        let Some((_, dec)) = self.decoder.as_mut() else {
            return;
        };
        let pic = match dec.decode(bits) {
            Ok(Some(p)) => p,
            Ok(None) | Err(_) => {
                self.stats.decode_errors += 1;
                return;
            }
        };
        self.stats.pictures += 1;
        if is_black(&pic) {
            self.stats.black += 1;
        }
        if self.last.as_ref().is_some_and(|l| same_picture(l, &pic)) {
            self.stats.repeated += 1;
        }
        let since = self.last_timestamp.map(|t| f.timestamp.wrapping_sub(t));
        self.last_timestamp = Some(f.timestamp);
        let clip = self
            .reference
            .as_ref()
            .and_then(|r| Some((r.first_timestamp, r.clip_for(pic.width, pic.height, since)?)));
        if let Some((first_timestamp, clip)) = clip {
            let step = 90_000 / clip.layer().fps.max(1);
            let n = f.timestamp.wrapping_sub(first_timestamp) / step;
            if n % PSNR_EVERY != 0 {
                self.last = Some(pic);
                return;
            }
            let want = clip.source_luma(n as usize);
            if want.len() == pic.y.len() {
                let db = psnr_y(&want, &pic.y);
                self.psnr_sum += db;
                self.psnr_n += 1;
                self.stats.psnr_min_db = Some(self.stats.psnr_min_db.map_or(db, |m| m.min(db)));
            }
        }
        self.last = Some(pic);
    }

    pub fn stats(&self) -> PixelStats {
        let mut s = self.stats.clone();
        s.psnr_mean_db = (self.psnr_n > 0).then(|| self.psnr_sum / self.psnr_n as f64);
        s
    }
}
