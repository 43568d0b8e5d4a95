//! [`ClipPlayer`]: a clip sent frame after frame as one live stream.

use super::{frame_num, VideoClip, VideoCodec, VideoError, VideoFrame};
use std::sync::Arc;

/// How the loop goes from the clip's last frame back to its first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Wrap {
    /// Frame 0 as the clip's first keyframe again, once a loop: the decoder's state repeats
    /// exactly, so every pass decodes as well as the first, for as long as the call lasts.
    /// Costs one keyframe a loop (about 10 KB every 10 s at 640x360, 600 kbit/s: 1.3 % more).
    #[default]
    Keyframe,
    /// The wrap-around delta ([`VideoClip::delta`] of 0) and then the first pass's deltas, no
    /// periodic keyframe. The deltas after the wrap were predicted from the first keyframe's
    /// picture, not from the wrap-around delta's, so each pass decodes a little worse than the
    /// one before (measured at 640x360, 600 kbit/s, a 2 s loop: VP8 -0.4 dB a pass, H.264 -2 to
    /// -4 dB a pass; see the tests).
    Delta,
}

/// Sends a [`VideoClip`] in a loop as a live encoder would: the first keyframe, then the deltas
/// round and round ([`Wrap`] says how a loop ends), a keyframe alternate when a receiver asked
/// for one, and, for H.264, each delta renumbered (`frame_num` counting from the last IDR; see
/// `frame_num.rs`), so that a decoder sees one consistent stream. VP8 frames are sent as
/// stored.
pub struct ClipPlayer {
    clip: Arc<VideoClip>,
    wrap: Wrap,
    /// Source frames played so far, counted from the clip's start (a player that started
    /// later counts from there); the next frame is source frame `sent % len`.
    sent: usize,
    /// The frame it started at ([`ClipPlayer::starting_at`]), and whether its first frame,
    /// a keyframe, is still to come.
    start: usize,
    fresh: bool,
    /// Go on after the first keyframe with that keyframe's own encoder's deltas, for either
    /// codec ([`ClipPlayer::starting_at`]).
    join_chain: bool,
    /// Frames since the last keyframe.
    since_key: u32,
    /// H.264: the frame number (frames sent) of the keyframe alternate whose own encoder's
    /// deltas ([`VideoClip::keyframe_delta`]) are being sent, until the wrap.
    chain: Option<usize>,
    buf: Vec<u8>,
}

impl ClipPlayer {
    /// A player that wraps with a keyframe ([`Wrap::Keyframe`]).
    pub fn new(clip: Arc<VideoClip>) -> Self {
        Self::with_wrap(clip, Wrap::default())
    }

    pub fn with_wrap(clip: Arc<VideoClip>, wrap: Wrap) -> Self {
        ClipPlayer {
            clip,
            wrap,
            sent: 0,
            start: 0,
            fresh: true,
            join_chain: false,
            since_key: 0,
            chain: None,
            buf: Vec::new(),
        }
    }

    /// A player that joins the loop at source frame `frame` with a keyframe of it (a sender
    /// switching to this layer mid-call: the scene goes on where it was), then that keyframe's
    /// own encoder's deltas up to the wrap, for VP8 as for H.264: the clip's own deltas after a
    /// keyframe alternate drift little over a few frames but a whole loop's worth of them
    /// (seconds) would take the picture 15 dB under the clip's.
    pub fn starting_at(clip: Arc<VideoClip>, frame: usize) -> Self {
        let mut p = Self::new(clip);
        p.sent = frame;
        p.start = frame;
        p.join_chain = !frame.is_multiple_of(p.clip.len());
        p
    }

    pub fn clip(&self) -> &Arc<VideoClip> {
        &self.clip
    }

    /// Frames sent so far.
    pub fn frames_sent(&self) -> usize {
        self.sent - self.start
    }

    /// The source frame index (into the clip) the next frame shows.
    pub fn next_index(&self) -> usize {
        self.sent % self.clip.len()
    }

    /// The next frame: the first keyframe for the first frame (and, with [`Wrap::Keyframe`],
    /// at every wrap); otherwise a keyframe alternate of the current frame when `keyframe` (a
    /// PLI/FIR is pending), else its delta. H.264 after a keyframe alternate: the deltas its
    /// own encoder made ([`VideoClip::keyframe_delta`], encoded as they are first sent, about
    /// 2 ms a frame, then shared), until the wrap.
    pub fn next_frame(&mut self, keyframe: bool) -> Result<VideoFrame<'_>, VideoError> {
        let keyframe = keyframe || std::mem::take(&mut self.fresh);
        let n = self.sent;
        let clip = &*self.clip;
        let len = clip.len();
        let wrap_key = self.wrap == Wrap::Keyframe && n.is_multiple_of(len);
        // After a keyframe alternate, its own encoder's deltas up to the wrap.
        let chained = match self.chain {
            Some(k) if !keyframe && !wrap_key && n > k && n - k <= len - k % len => {
                Some(clip.keyframe_delta(k, n - k)?)
            }
            _ => None,
        };
        if let Some(d) = chained {
            self.sent += 1;
            self.since_key += 1;
            if clip.codec() == VideoCodec::H264 {
                frame_num::set_frame_num(&d, self.since_key, &mut self.buf)?;
            } else {
                self.buf.clear();
                self.buf.extend_from_slice(&d);
            }
            return Ok(VideoFrame {
                keyframe: false,
                data: &self.buf,
            });
        }
        self.chain = None;
        let f = if n == 0 || wrap_key {
            clip.first()
        } else if keyframe {
            // H.264 goes on with the keyframe's own encoder (its drift is large, see the
            // module docs); VP8's drift is small and its replay stays free.
            if clip.codec() == VideoCodec::H264 || std::mem::take(&mut self.join_chain) {
                self.chain = Some(n);
            }
            clip.keyframe(n)?
        } else {
            clip.delta(n)
        };
        self.sent += 1;
        if f.keyframe {
            self.since_key = 0;
            return Ok(f);
        }
        self.since_key += 1;
        if clip.codec() == VideoCodec::H264 {
            frame_num::set_frame_num(f.data, self.since_key, &mut self.buf)?;
            return Ok(VideoFrame {
                keyframe: false,
                data: &self.buf,
            });
        }
        Ok(f)
    }
}
