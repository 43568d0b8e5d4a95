//! The receive side of a video track: packets to frames ([`super::assemble`]), frames rendered
//! when they become decodable, freezes by the W3C rule ([`super::freeze`]), frames per second,
//! resolution and bitrate per second of the call, and when to ask the sender for a keyframe.
//!
//! **Keyframe requests.** When the reference chain is blocked by a missing packet, the receiver
//! first lets NACK repair it (rtc's NACK generator asks every 100 ms), and sends a PLI once the
//! hole has lasted [`pli_wait_ns`]: two NACK rounds (2 x (100 ms + RTT)) with NACK, or a short
//! reordering grace ([`REORDER_GRACE_NS`]) without it. While no keyframe has come, it repeats
//! the PLI every RTT + 100 ms. Before the first keyframe the chain counts as blocked once packets
//! of a second frame have arrived (the first frame cannot be complete any more by itself).

use super::assemble::{AssemblerCounts, DecodableFrame, FrameAssembler};
use super::freeze::FreezeDetector;
use crate::agent::video::VideoCodec;
use bytes::Bytes;

/// rtc's NACK generator interval.
pub const NACK_INTERVAL_NS: u64 = 100_000_000;
/// How long a hole may last without NACK before it counts as a loss (reordering).
pub const REORDER_GRACE_NS: u64 = 30_000_000;
/// The round-trip time assumed before one is measured.
pub const DEFAULT_RTT_NS: u64 = 100_000_000;

/// How long a hole in the chain lasts before the receiver asks for a keyframe.
pub fn pli_wait_ns(nack: bool, rtt_ns: u64) -> u64 {
    if nack {
        2 * (NACK_INTERVAL_NS + rtt_ns)
    } else {
        REORDER_GRACE_NS
    }
}

/// The receive side's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoReceiveConfig {
    /// NACK is negotiated (the stack repairs losses): wait for it before a PLI.
    pub nack: bool,
    /// Keep each frame's bitstream for a pixel decoder.
    pub keep_bitstream: bool,
}

/// One second of the call as the receiver saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VideoSecond {
    /// Frames rendered.
    pub frames: u32,
    /// Payload bytes of those frames.
    pub bytes: u64,
    /// The picture height last rendered in this second (0: none yet).
    pub height: u32,
    /// Freeze time ending in this second, ms.
    pub freeze_ms: u32,
}

/// What the receiver measured (see the field docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VideoReceiveStats {
    pub codec: Option<VideoCodec>,
    pub counts: AssemblerCounts,
    pub freeze_count: u64,
    pub total_freeze_ms: f64,
    /// Keyframe requests sent.
    pub plis_sent: u64,
    /// When the first frame was rendered, ns.
    pub first_frame_at: Option<u64>,
    pub last_frame_at: Option<u64>,
    /// The last picture size rendered, and how often it changed.
    pub resolution: Option<(u32, u32)>,
    pub resolution_changes: u64,
    /// Unique payload bytes of rendered frames.
    pub bytes_rendered: u64,
    /// Per second of the run (index = second).
    pub seconds: Vec<VideoSecond>,
    /// Each PLI sent and when the next keyframe was rendered: (sent, rendered), ns.
    pub recoveries: Vec<(u64, Option<u64>)>,
}

impl VideoReceiveStats {
    /// Frames per second rendered between the first and last frame.
    pub fn mean_fps(&self) -> Option<f64> {
        let (a, b) = (self.first_frame_at?, self.last_frame_at?);
        (b > a && self.counts.frames_decoded > 1)
            .then(|| (self.counts.frames_decoded - 1) as f64 * 1e9 / (b - a) as f64)
    }
}

/// See the module docs.
pub struct VideoReceivePipeline {
    cfg: VideoReceiveConfig,
    assembler: Option<FrameAssembler>,
    /// The SSRC of the far end's video (for PLIs).
    pub remote_ssrc: Option<u32>,
    freeze: FreezeDetector,
    frames: Vec<DecodableFrame>,
    last_pli: Option<u64>,
    first_ts: Option<u32>,
    stats: VideoReceiveStats,
    /// The pixel decode, when the client decodes what it receives.
    pixels: Option<super::pixels::PixelCheck>,
}

impl VideoReceivePipeline {
    pub fn new(cfg: VideoReceiveConfig) -> Self {
        VideoReceivePipeline {
            cfg,
            assembler: None,
            remote_ssrc: None,
            freeze: FreezeDetector::new(),
            frames: Vec::new(),
            last_pli: None,
            first_ts: None,
            stats: VideoReceiveStats::default(),
            pixels: None,
        }
    }

    /// Decodes every rendered frame to pixels (what a person would see), against `reference`
    /// when given. Needs `keep_bitstream`.
    pub fn with_pixels(mut self, reference: Option<super::pixels::Reference>) -> Self {
        self.cfg.keep_bitstream = true;
        self.pixels = Some(super::pixels::PixelCheck::new(reference));
        self
    }

    /// The pixel decode's counters (None: not decoding).
    pub fn pixel_stats(&self) -> Option<super::pixels::PixelStats> {
        self.pixels.as_ref().map(|p| p.stats())
    }

    /// One video RTP packet arrived.
    #[allow(clippy::too_many_arguments)]
    pub fn on_rtp(
        &mut self,
        at: u64,
        codec: VideoCodec,
        ssrc: u32,
        seq: u16,
        ts: u32,
        marker: bool,
        payload: Bytes,
    ) {
        self.remote_ssrc = Some(ssrc);
        let keep = self.cfg.keep_bitstream;
        let a = self
            .assembler
            .get_or_insert_with(|| FrameAssembler::new(codec, keep));
        if a.codec() != codec {
            // The sender changed codec: a new decoder, starting at its keyframe.
            *a = FrameAssembler::new(codec, keep);
        }
        self.stats.codec = Some(codec);
        self.first_ts.get_or_insert(ts);
        let mut frames = std::mem::take(&mut self.frames);
        a.insert(at, seq, ts, marker, payload, &mut frames);
        for f in frames.drain(..) {
            self.render(f);
        }
        self.frames = frames;
    }

    fn render(&mut self, f: DecodableFrame) {
        let at = f.decodable_at;
        if self.freeze.on_rendered(at) {
            let (s, e) = *self.freeze.freezes().last().unwrap_or(&(at, at));
            let sec = self.second(e);
            sec.freeze_ms += ((e - s) / 1_000_000) as u32;
        }
        if f.keyframe {
            for r in self.stats.recoveries.iter_mut().filter(|r| r.1.is_none()) {
                r.1 = Some(at);
            }
        }
        if let Some(res) = f.resolution {
            if self.stats.resolution.is_some_and(|r| r != res) {
                self.stats.resolution_changes += 1;
            }
            self.stats.resolution = Some(res);
        }
        let height = self.stats.resolution.map_or(0, |r| r.1);
        let sec = self.second(at);
        sec.frames += 1;
        sec.bytes += f.bytes as u64;
        sec.height = height;
        self.stats.bytes_rendered += f.bytes as u64;
        self.stats.first_frame_at.get_or_insert(at);
        self.stats.last_frame_at = Some(at);
        if let (Some(p), Some(codec)) = (self.pixels.as_mut(), self.stats.codec) {
            p.on_frame(codec, &f);
        }
    }

    fn second(&mut self, at: u64) -> &mut VideoSecond {
        let i = (at / 1_000_000_000) as usize;
        if self.stats.seconds.len() <= i {
            self.stats.seconds.resize(i + 1, VideoSecond::default());
        }
        &mut self.stats.seconds[i]
    }

    /// Since when the chain has been blocked, as this pipeline counts it (see the module docs).
    fn blocked_since(&self) -> Option<u64> {
        let a = self.assembler.as_ref()?;
        let b = a.blocked_since()?;
        if !a.started() && a.buffered() > 0 {
            // Before the first keyframe: blocked once a second frame has begun.
            return (a.counts().frames_dropped > 0 || self.frames_waiting() > 1).then_some(b);
        }
        Some(b)
    }

    fn frames_waiting(&self) -> usize {
        self.assembler
            .as_ref()
            .map_or(0, |a| a.waiting_timestamps())
    }

    /// When a PLI will be due, ns (None: none is).
    pub fn next_pli_at(&self, rtt_ns: Option<u64>) -> Option<u64> {
        let b = self.blocked_since()?;
        let rtt = rtt_ns.unwrap_or(DEFAULT_RTT_NS);
        let due = b + pli_wait_ns(self.cfg.nack, rtt);
        Some(match self.last_pli {
            Some(l) if l >= b => due.max(l + rtt + NACK_INTERVAL_NS),
            _ => due,
        })
    }

    /// Whether to send a PLI now (counts it when so).
    pub fn take_pli(&mut self, now: u64, rtt_ns: Option<u64>) -> bool {
        if self.next_pli_at(rtt_ns).is_some_and(|t| t <= now) {
            self.last_pli = Some(now);
            self.stats.plis_sent += 1;
            self.stats.recoveries.push((now, None));
            true
        } else {
            false
        }
    }

    /// The stream ended at `end` (ns): a picture standing since its last frame is a freeze when
    /// long enough, and what still waits is dropped.
    pub fn finish(&mut self, end: u64) {
        self.freeze.finish(end);
        if let Some(a) = self.assembler.as_mut() {
            a.finish();
        }
    }

    /// What was measured.
    pub fn stats(&self) -> VideoReceiveStats {
        let mut s = self.stats.clone();
        if let Some(a) = &self.assembler {
            s.counts = a.counts();
        }
        s.freeze_count = self.freeze.freeze_count();
        s.total_freeze_ms = self.freeze.total_freeze_ns() as f64 / 1e6;
        s
    }

    /// Whether any video packet arrived.
    pub fn received_any(&self) -> bool {
        self.assembler.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::video_rtp::send::{tests::shaped, VideoSendPipeline};

    const MS: u64 = 1_000_000;

    /// Sends `frames` frames over a path of `one_way` ns, dropping the packets `drop` says;
    /// the receiver's PLIs reach the sender `one_way` later. Returns the receiver.
    fn call(
        frames: u64,
        one_way: u64,
        nack: bool,
        drop: impl Fn(u64, usize) -> bool,
    ) -> VideoReceivePipeline {
        let mut tx = VideoSendPipeline::new(shaped(), 100, 0);
        let mut rx = VideoReceivePipeline::new(VideoReceiveConfig {
            nack,
            keep_bitstream: false,
        });
        tx.start(0);
        let mut plis_in_flight: Vec<u64> = Vec::new();
        let rtt = Some(2 * one_way);
        for n in 0..frames {
            let t = tx.next_frame_time().unwrap();
            // PLIs that reached the sender by now.
            let (due, later): (Vec<u64>, Vec<u64>) =
                plis_in_flight.iter().partition(|&&p| p + one_way <= t);
            plis_in_flight = later;
            if !due.is_empty() {
                tx.request_keyframe();
            }
            let f = tx.next_frame().unwrap();
            let ts = f.timestamp;
            let pkts: Vec<_> = f.packets.to_vec();
            for (k, (seq, m, p)) in pkts.into_iter().enumerate() {
                let arrive = t + one_way + k as u64 * 100_000;
                // The receiver's timers run up to each arrival.
                while let Some(at) = rx.next_pli_at(rtt).filter(|&at| at <= arrive) {
                    assert!(rx.take_pli(at, rtt));
                    plis_in_flight.push(at);
                }
                if !drop(n, k) {
                    rx.on_rtp(arrive, VideoCodec::H264, 7, seq, ts, m, p);
                }
            }
        }
        rx.finish(frames * 33_333_333 + one_way);
        rx
    }

    #[test]
    fn on_a_clean_path_every_frame_is_decoded_and_none_freezes() {
        let rx = call(300, 20 * MS, true, |_, _| false);
        let s = rx.stats();
        assert_eq!(s.counts.frames_decoded, 300);
        assert_eq!(s.counts.frames_dropped, 0);
        assert_eq!(s.freeze_count, 0);
        assert_eq!(s.plis_sent, 0);
        let fps = s.mean_fps().unwrap();
        assert!((fps - 30.0).abs() < 0.01, "{fps}");
        assert_eq!(s.seconds[5].frames, 30);
    }

    #[test]
    fn a_lost_keyframe_brings_a_pli_and_recovery_within_a_round_trip_and_a_frame() {
        // The first keyframe's third packet is lost, no NACK: the receiver asks as soon as the
        // next frame shows the first cannot complete.
        let one_way = 40 * MS;
        let rx = call(60, one_way, false, |n, k| n == 0 && k == 2);
        let s = rx.stats();
        assert_eq!(s.plis_sent, 1, "{:?}", s.recoveries);
        let (sent, got) = s.recoveries[0];
        let got = got.expect("a keyframe came");
        let frame = 33_333_333;
        assert!(
            got - sent <= 2 * one_way + frame + 2 * MS,
            "recovered {} ms after the PLI",
            (got - sent) / MS
        );
        // Nothing decoded before the recovery keyframe; everything after it.
        assert_eq!(s.counts.keyframes_decoded, 1);
        assert!(s.counts.frames_decoded >= 60 - 1 - (got / frame) - 1);
    }

    #[test]
    fn a_hole_waits_for_nack_before_a_pli() {
        let one_way = 20 * MS;
        // A packet of frame 30 lost for good: with NACK the PLI waits two NACK rounds.
        let rx = call(120, one_way, true, |n, k| n == 30 && k == 0);
        let s = rx.stats();
        assert_eq!(s.plis_sent, 1);
        // The hole shows when the frame's second packet arrives (0.1 ms after the first).
        let hole_seen = 30 * 1_000_000_000 / 30 + one_way + 100_000;
        let (sent, got) = s.recoveries[0];
        assert_eq!(sent, hole_seen + pli_wait_ns(true, 2 * one_way));
        assert_eq!(pli_wait_ns(true, 2 * one_way), 280 * MS);
        assert!(got.is_some());
        // The picture stood still from frame 29 to the keyframe: one freeze.
        assert_eq!(s.freeze_count, 1);
    }
}
