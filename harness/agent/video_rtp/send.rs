//! The send side of a video track: frames from an encoded clip at the layer's frame rate, a
//! keyframe when the far end asks for one (PLI or FIR), each frame cut into RTP payloads.
//!
//! A sender that adapts switches to another layer of its ladder ([`super::ladder`]) with
//! [`VideoSendPipeline::switch_to`]: the next frame is the new layer's keyframe of the same
//! moment of the scene, and the timestamps go on at 90 kHz of the send time. The frame's
//! packets go to the pacer ([`super::pacer`]).

use super::packetize::{packetize_with, MAX_PAYLOAD};
use crate::agent::video::{ClipPlayer, VideoClip, VideoCodec, VideoLayer};
use bytes::Bytes;
use std::sync::Arc;

/// A camera's encoded frames as one sender sends them, frame after frame (see
/// [`crate::agent::video::ClipPlayer`]): the first frame a keyframe, a keyframe when asked.
pub trait VideoSource: Send {
    fn codec(&self) -> VideoCodec;
    fn layer(&self) -> VideoLayer;
    /// Calls `f` with (is a keyframe, the bitstream) of the next frame; `keyframe`: the far end
    /// asked for one.
    fn next_frame(&mut self, keyframe: bool, f: &mut dyn FnMut(bool, &[u8])) -> Result<(), String>;
}

/// Frames encoded once and shared by every sender of the same settings; each sender plays
/// them through its own [`VideoSource`].
pub trait EncodedVideo: Send + Sync {
    fn codec(&self) -> VideoCodec;
    fn layer(&self) -> VideoLayer;
    /// A new sender's source, starting at the first keyframe.
    fn source(&self) -> Box<dyn VideoSource> {
        self.source_from(0)
    }
    /// A source that joins the camera at its frame `frame` (taken modulo the loop), with a
    /// keyframe of it.
    fn source_from(&self, frame: usize) -> Box<dyn VideoSource>;
    /// The mean encoded rate of the frames it sends, bit/s.
    fn encoded_bps(&self) -> f64 {
        f64::from(self.layer().bitrate_bps)
    }
    /// The encoded clip behind it, when there is one (quality against the camera).
    fn reference(&self) -> Option<Arc<VideoClip>> {
        None
    }
}

/// A [`VideoClip`] shared by its senders, each playing it with its own [`ClipPlayer`].
pub struct SharedClip(pub Arc<VideoClip>);

impl EncodedVideo for SharedClip {
    fn codec(&self) -> VideoCodec {
        self.0.codec()
    }
    fn layer(&self) -> VideoLayer {
        self.0.layer()
    }
    fn source_from(&self, frame: usize) -> Box<dyn VideoSource> {
        Box::new(ClipPlayer::starting_at(self.0.clone(), frame))
    }
    fn encoded_bps(&self) -> f64 {
        self.0.mean_bitrate_bps()
    }
    fn reference(&self) -> Option<Arc<VideoClip>> {
        Some(self.0.clone())
    }
}

impl VideoSource for ClipPlayer {
    fn codec(&self) -> VideoCodec {
        self.clip().codec()
    }
    fn layer(&self) -> VideoLayer {
        self.clip().layer()
    }
    fn next_frame(&mut self, keyframe: bool, f: &mut dyn FnMut(bool, &[u8])) -> Result<(), String> {
        let frame = ClipPlayer::next_frame(self, keyframe).map_err(|e| e.to_string())?;
        f(frame.keyframe, frame.data);
        Ok(())
    }
}

/// What the send side did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VideoSendCounts {
    pub frames: u64,
    pub keyframes: u64,
    /// Keyframe requests (PLI, FIR) that arrived.
    pub keyframe_requests: u64,
    /// Keyframes sent because of a request.
    pub keyframes_on_request: u64,
    pub packets: u64,
    /// Payload bytes.
    pub bytes: u64,
}

/// One frame's RTP packets: (sequence number, marker, payload), all with `timestamp`.
pub struct OutgoingVideo<'a> {
    pub timestamp: u32,
    pub keyframe: bool,
    pub packets: &'a [(u16, bool, Bytes)],
}

/// See the module docs.
pub struct VideoSendPipeline {
    clip: Box<dyn VideoSource>,
    /// A layer to switch to at the next frame.
    pending: Option<Box<dyn VideoSource>>,
    seq: u16,
    first_ts: u32,
    start: Option<u64>,
    /// Frame times count from here: (time ns, timestamp), moved at each change of frame rate.
    anchor: (u64, u32),
    /// Frames sent since the anchor.
    since_anchor: u64,
    keyframe_wanted: bool,
    /// The next frame goes out in at least this many packets (the initial probe).
    min_packets: usize,
    payloads: Vec<Bytes>,
    packets: Vec<(u16, bool, Bytes)>,
    counts: VideoSendCounts,
}

impl VideoSendPipeline {
    /// A pipeline sending `clip`, starting at these sequence number and timestamp.
    pub fn new(clip: Box<dyn VideoSource>, first_seq: u16, first_ts: u32) -> Self {
        VideoSendPipeline {
            clip,
            pending: None,
            seq: first_seq,
            first_ts,
            start: None,
            anchor: (0, first_ts),
            since_anchor: 0,
            keyframe_wanted: false,
            min_packets: 1,
            payloads: Vec::new(),
            packets: Vec::new(),
            counts: VideoSendCounts::default(),
        }
    }

    /// The layer being sent.
    pub fn layer(&self) -> VideoLayer {
        self.clip.layer()
    }

    /// The codec being sent.
    pub fn codec(&self) -> VideoCodec {
        self.clip.codec()
    }

    /// Starts sending at `at` (ns): the first frame is due then.
    pub fn start(&mut self, at: u64) {
        if self.start.is_none() {
            self.start = Some(at);
            self.anchor = (at, self.first_ts);
        }
    }

    /// When the next frame is due, ns (None before `start`).
    pub fn next_frame_time(&self) -> Option<u64> {
        let fps = u64::from(self.clip.layer().fps.max(1));
        self.start?;
        Some(self.anchor.0 + self.since_anchor * 1_000_000_000 / fps)
    }

    /// Sends `video` from the next frame on, starting with its keyframe of the scene's frame at
    /// that moment (the layer to switch to, when adapting).
    pub fn switch_to(&mut self, video: &dyn EncodedVideo) {
        if self.start.is_none() {
            self.clip = video.source();
            return;
        }
        // The scene's frame at the next frame's timestamp (90 kHz from the first frame; exact,
        // where nanoseconds at 30 fps are not), rounded to the new layer's frame.
        let elapsed = u64::from(self.next_timestamp().wrapping_sub(self.first_ts));
        let fps = u64::from(video.layer().fps.max(1));
        let frame = ((elapsed * fps + 45_000) / 90_000) as usize;
        self.pending = Some(video.source_from(frame));
    }

    /// The next frame goes out in at least `n` packets (smaller ones), for a probe.
    pub fn split_next_frame(&mut self, n: usize) {
        self.min_packets = n.max(1);
    }

    /// The far end asked for a keyframe: the next frame is one.
    pub fn request_keyframe(&mut self) {
        self.counts.keyframe_requests += 1;
        self.keyframe_wanted = true;
    }

    /// The next frame's packets (call when it is due).
    /// The RTP timestamp of the next frame.
    fn next_timestamp(&self) -> u32 {
        let fps = u64::from(self.clip.layer().fps.max(1));
        self.anchor
            .1
            .wrapping_add((self.since_anchor * 90_000 / fps) as u32)
    }

    pub fn next_frame(&mut self) -> Result<OutgoingVideo<'_>, String> {
        let n = self.counts.frames;
        let timestamp = self.next_timestamp();
        if let Some(next) = self.pending.take() {
            // The frame rate may change: times and timestamps go on from this frame.
            let due = self.next_frame_time().unwrap_or(self.anchor.0);
            self.anchor = (due, timestamp);
            self.since_anchor = 0;
            self.clip = next;
        }
        let requested = self.keyframe_wanted && n > 0;
        self.keyframe_wanted = false;
        let codec = self.clip.codec();
        let picture_id = (n & 0x7fff) as u16;
        let mut key = false;
        let payloads = &mut self.payloads;
        payloads.clear();
        let min_packets = std::mem::replace(&mut self.min_packets, 1);
        self.clip.next_frame(requested, &mut |k, data| {
            key = k;
            let max = (data.len() / min_packets + 8).min(MAX_PAYLOAD);
            packetize_with(codec, data, picture_id, max, payloads);
        })?;
        self.packets.clear();
        let count = self.payloads.len();
        for (k, p) in self.payloads.drain(..).enumerate() {
            self.counts.bytes += p.len() as u64;
            self.packets.push((self.seq, k + 1 == count, p));
            self.seq = self.seq.wrapping_add(1);
        }
        self.counts.frames += 1;
        self.since_anchor += 1;
        self.counts.packets += count as u64;
        if key {
            self.counts.keyframes += 1;
            if requested {
                self.counts.keyframes_on_request += 1;
            }
        }
        Ok(OutgoingVideo {
            timestamp,
            keyframe: key,
            packets: &self.packets,
        })
    }

    /// The counters.
    pub fn counts(&self) -> VideoSendCounts {
        self.counts
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Frames shaped like H.264 (an IDR or a non-IDR slice NAL) of fixed sizes: enough for the
    /// RTP path, which never looks past the NAL header and the slice's first bit.
    pub(crate) struct ShapedH264 {
        pub layer: VideoLayer,
        pub key_bytes: usize,
        pub delta_bytes: usize,
    }

    impl EncodedVideo for ShapedH264 {
        fn codec(&self) -> VideoCodec {
            VideoCodec::H264
        }
        fn layer(&self) -> VideoLayer {
            self.layer
        }
        fn source_from(&self, _frame: usize) -> Box<dyn VideoSource> {
            Box::new(ShapedSource {
                layer: self.layer,
                key_bytes: self.key_bytes,
                delta_bytes: self.delta_bytes,
                sent: 0,
            })
        }
    }

    struct ShapedSource {
        layer: VideoLayer,
        key_bytes: usize,
        delta_bytes: usize,
        sent: u64,
    }

    impl VideoSource for ShapedSource {
        fn codec(&self) -> VideoCodec {
            VideoCodec::H264
        }
        fn layer(&self) -> VideoLayer {
            self.layer
        }
        fn next_frame(
            &mut self,
            keyframe: bool,
            f: &mut dyn FnMut(bool, &[u8]),
        ) -> Result<(), String> {
            let key = keyframe || self.sent == 0;
            self.sent += 1;
            let n = if key {
                self.key_bytes
            } else {
                self.delta_bytes
            };
            let mut b = vec![0, 0, 0, 1, if key { 0x65 } else { 0x41 }, 0x88];
            b.resize(n + 4, 0x5a);
            f(key, &b);
            Ok(())
        }
    }

    pub(crate) fn shaped() -> Box<dyn VideoSource> {
        ShapedH264 {
            layer: VideoLayer {
                width: 640,
                height: 360,
                fps: 30,
                bitrate_bps: 600_000,
            },
            key_bytes: 12_000,
            delta_bytes: 2_500,
        }
        .source()
    }

    #[test]
    fn frames_at_the_frame_rate_with_90khz_timestamps_and_a_keyframe_on_request() {
        let mut s = VideoSendPipeline::new(shaped(), 65_530, 1_000);
        assert_eq!(s.next_frame_time(), None);
        s.start(5_000);
        let mut times = Vec::new();
        let mut keys = Vec::new();
        let mut seqs = Vec::new();
        for n in 0..31u64 {
            times.push(s.next_frame_time().unwrap());
            if n == 10 {
                s.request_keyframe();
            }
            let f = s.next_frame().unwrap();
            keys.push(f.keyframe);
            assert_eq!(f.timestamp, 1_000 + (n as u32) * 3_000);
            assert!(f.packets.last().unwrap().1, "marker on the last packet");
            assert!(f.packets[..f.packets.len() - 1].iter().all(|p| !p.1));
            seqs.extend(f.packets.iter().map(|p| p.0));
        }
        assert_eq!(times[30] - times[0], 1_000_000_000);
        assert_eq!(times[1] - times[0], 33_333_333);
        assert!(keys[0] && keys[10]);
        assert_eq!(keys.iter().filter(|k| **k).count(), 2);
        // Consecutive sequence numbers through the wrap.
        assert!(seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
        let c = s.counts();
        assert_eq!(
            (
                c.frames,
                c.keyframes,
                c.keyframe_requests,
                c.keyframes_on_request
            ),
            (31, 2, 1, 1)
        );
        assert_eq!(c.packets, seqs.len() as u64);
    }

    #[test]
    fn a_switch_starts_the_new_layer_with_a_keyframe_and_time_goes_on() {
        let mut s = VideoSendPipeline::new(shaped(), 0, 0);
        s.start(0);
        for _ in 0..10 {
            s.next_frame().unwrap();
        }
        let low = ShapedH264 {
            layer: VideoLayer {
                width: 320,
                height: 180,
                fps: 15,
                bitrate_bps: 150_000,
            },
            key_bytes: 4_000,
            delta_bytes: 600,
        };
        s.switch_to(&low);
        // The frame due at 10/30 s is the low layer's keyframe, at the same timestamp.
        assert_eq!(s.next_frame_time(), Some(333_333_333));
        let f = s.next_frame().unwrap();
        assert!(f.keyframe);
        assert_eq!(f.timestamp, 30_000);
        assert_eq!(f.packets.len(), 4);
        assert_eq!(s.layer().height, 180);
        // Then 15 frames a second: 1/15 s and 6,000 ticks apart.
        let t1 = s.next_frame_time().unwrap();
        assert_eq!(t1, 333_333_333 + 66_666_666);
        let f = s.next_frame().unwrap();
        assert!(!f.keyframe);
        assert_eq!(f.timestamp, 36_000);
        assert_eq!(s.counts().keyframes, 2);
    }
}
