//! Frames from video RTP packets, and which of them a decoder could decode.
//!
//! A frame is the packets from its first (a packet that starts a frame, or the packet right after
//! the previous frame's marker) to the packet with the marker bit, all with one RTP timestamp and
//! every sequence number in between present. A complete frame is *decodable* when its reference
//! chain is intact: a keyframe always is; a delta frame is when the frame right before it (the
//! one whose last packet has the sequence number before its first) was decoded. Our encoders
//! make one spatial and temporal layer, so every delta frame refers to the frame before it, as a
//! WebRTC stream without temporal layers does.
//!
//! Decoding is in order. When the next frame of the chain is incomplete (a packet missing), the
//! frames after it wait: for a retransmission (NACK) to fill the hole, or for a keyframe, which
//! restarts the chain; the frames skipped then are dropped. While the chain is blocked by a
//! missing packet the assembler says since when (`blocked_since`), from which the receive
//! pipeline decides to ask for a keyframe.
//!
//! Packets are counted once: a duplicate (the network's, or a retransmission of a packet that
//! had arrived after all) is counted as such and changes nothing else, so a stack that
//! retransmits too much cannot inflate what was received.

use super::depacketize::{append_bitstream, inspect};
use crate::agent::video::VideoCodec;
use bytes::Bytes;
use std::collections::{BTreeMap, BTreeSet};

/// Packets kept waiting for a hole to fill; beyond this the oldest are dropped.
pub const MAX_BUFFERED: usize = 4_096;
/// Sequence numbers remembered for duplicate detection.
const SEEN_RING: usize = 4_096;

#[derive(Debug, Clone)]
struct Pkt {
    ts: u32,
    marker: bool,
    keyframe: bool,
    resolution: Option<(u32, u32)>,
    arrived: u64,
    payload: Bytes,
}

/// A frame handed to the decoder.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodableFrame {
    /// RTP timestamp (90 kHz).
    pub timestamp: u32,
    pub keyframe: bool,
    /// The picture size its packets declared (keyframes carry it).
    pub resolution: Option<(u32, u32)>,
    /// Payload bytes and packets.
    pub bytes: usize,
    pub packets: usize,
    /// When its first packet arrived, ns.
    pub first_arrival: u64,
    /// When it became decodable (its last missing packet arrived, or the frame before it was
    /// decoded), ns.
    pub decodable_at: u64,
    /// The codec bitstream, when the assembler keeps it (pixel decode).
    pub bitstream: Option<Vec<u8>>,
}

/// Counters (see the field docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssemblerCounts {
    /// Distinct packets received.
    pub packets: u64,
    /// Copies of a packet already received (network duplicates, needless retransmissions).
    pub duplicates: u64,
    /// Packets that arrived after a later one (reordered, or repaired by a retransmission).
    pub out_of_order: u64,
    /// Packets too old to use (their frame was dropped or decoded without them).
    pub too_late: u64,
    /// Payloads that could not be read.
    pub malformed: u64,
    /// Frames decoded (all their packets, and their reference chain).
    pub frames_decoded: u64,
    pub keyframes_decoded: u64,
    /// Frames of which packets arrived but which were never decoded (skipped when a keyframe
    /// restarted the chain, or before the first keyframe).
    pub frames_dropped: u64,
}

/// See the module docs.
#[derive(Debug)]
pub struct FrameAssembler {
    codec: VideoCodec,
    keep_bitstream: bool,
    last_ext: Option<u64>,
    seen: Vec<u64>,
    packets: BTreeMap<u64, Pkt>,
    keyframe_starts: BTreeSet<u64>,
    /// The first sequence number of the next frame in the chain (None before the first keyframe).
    next: Option<u64>,
    max_seq: Option<u64>,
    blocked_since: Option<u64>,
    counts: AssemblerCounts,
}

impl FrameAssembler {
    /// An assembler for `codec`; `keep_bitstream` rebuilds each frame's bitstream for a decoder.
    pub fn new(codec: VideoCodec, keep_bitstream: bool) -> Self {
        FrameAssembler {
            codec,
            keep_bitstream,
            last_ext: None,
            seen: vec![u64::MAX; SEEN_RING],
            packets: BTreeMap::new(),
            keyframe_starts: BTreeSet::new(),
            next: None,
            max_seq: None,
            blocked_since: None,
            counts: AssemblerCounts::default(),
        }
    }

    /// The codec whose payloads this reads.
    pub fn codec(&self) -> VideoCodec {
        self.codec
    }

    fn unwrap(&mut self, seq: u16) -> u64 {
        let ext = match self.last_ext {
            None => u64::from(seq) + (1 << 16),
            Some(last) => {
                let base = last & !0xffff;
                let cands = [base.wrapping_sub(1 << 16), base, base + (1 << 16)];
                cands
                    .iter()
                    .map(|b| b.wrapping_add(u64::from(seq)))
                    .min_by_key(|c| c.abs_diff(last))
                    .unwrap_or(last)
            }
        };
        if self.last_ext.is_none_or(|l| ext > l) {
            self.last_ext = Some(ext);
        }
        ext
    }

    /// One packet arrived at `at` (ns); decodable frames are appended to `out` in decode order.
    pub fn insert(
        &mut self,
        at: u64,
        seq: u16,
        ts: u32,
        marker: bool,
        payload: Bytes,
        out: &mut Vec<DecodableFrame>,
    ) {
        let ext = self.unwrap(seq);
        let slot = (ext as usize) % SEEN_RING;
        if self.seen[slot] == ext {
            self.counts.duplicates += 1;
            return;
        }
        self.seen[slot] = ext;
        self.counts.packets += 1;
        if self.max_seq.is_some_and(|m| ext < m) {
            self.counts.out_of_order += 1;
        }
        if self.next.is_some_and(|n| ext < n) {
            self.counts.too_late += 1;
            return;
        }
        let info = match inspect(self.codec, &payload) {
            Ok(i) => i,
            Err(_) => {
                self.counts.malformed += 1;
                return;
            }
        };
        if info.starts_frame && info.keyframe {
            self.keyframe_starts.insert(ext);
        }
        self.packets.insert(
            ext,
            Pkt {
                ts,
                marker,
                keyframe: info.keyframe,
                resolution: info.resolution,
                arrived: at,
                payload,
            },
        );
        self.max_seq = Some(self.max_seq.map_or(ext, |m| m.max(ext)));
        if self.packets.len() > MAX_BUFFERED {
            let below = self
                .packets
                .keys()
                .nth(self.packets.len() - MAX_BUFFERED)
                .copied();
            self.discard_below(below);
        }
        self.advance(at, out);
        self.update_blocked(at);
    }

    /// The last sequence number of the complete frame starting at `s`, if it is complete.
    fn frame_end(&self, s: u64) -> Option<u64> {
        let ts = self.packets.get(&s)?.ts;
        let mut e = s;
        loop {
            let p = self.packets.get(&e)?;
            if p.ts != ts {
                return None;
            }
            if p.marker {
                return Some(e);
            }
            e += 1;
        }
    }

    fn advance(&mut self, at: u64, out: &mut Vec<DecodableFrame>) {
        loop {
            if let Some(n) = self.next {
                if let Some(e) = self.frame_end(n) {
                    self.emit(n, e, at, out);
                    continue;
                }
            }
            // The chain is stuck (or not started): restart it at the first complete keyframe.
            let from = self.next.map_or(0, |n| n + 1);
            let key = self
                .keyframe_starts
                .range(from..)
                .copied()
                .find_map(|k| self.frame_end(k).map(|e| (k, e)));
            match key {
                Some((k, e)) => {
                    self.discard_below(Some(k));
                    self.emit(k, e, at, out);
                }
                None => return,
            }
        }
    }

    /// Drops every packet before `below` (counting the frames they belonged to as dropped).
    fn discard_below(&mut self, below: Option<u64>) {
        let Some(below) = below else { return };
        let keep = self.packets.split_off(&below);
        let old = std::mem::replace(&mut self.packets, keep);
        let mut last_ts = None;
        for p in old.values() {
            if last_ts != Some(p.ts) {
                self.counts.frames_dropped += 1;
                last_ts = Some(p.ts);
            }
        }
        self.keyframe_starts = self.keyframe_starts.split_off(&below);
        if self.next.is_some_and(|n| n < below) {
            self.next = Some(below);
        }
    }

    fn emit(&mut self, s: u64, e: u64, at: u64, out: &mut Vec<DecodableFrame>) {
        let rest = self.packets.split_off(&(e + 1));
        let frame = std::mem::replace(&mut self.packets, rest);
        self.keyframe_starts = self.keyframe_starts.split_off(&(e + 1));
        let first = frame.get(&s).cloned();
        let Some(first) = first else { return };
        let mut bitstream = self.keep_bitstream.then(Vec::new);
        let mut bytes = 0;
        let mut resolution = None;
        for p in frame.values() {
            bytes += p.payload.len();
            resolution = resolution.or(p.resolution);
            if let Some(b) = bitstream.as_mut() {
                if append_bitstream(self.codec, &p.payload, b).is_err() {
                    self.counts.malformed += 1;
                }
            }
        }
        let keyframe = first.keyframe || frame.values().any(|p| p.keyframe);
        self.counts.frames_decoded += 1;
        if keyframe {
            self.counts.keyframes_decoded += 1;
        }
        self.next = Some(e + 1);
        out.push(DecodableFrame {
            timestamp: first.ts,
            keyframe,
            resolution,
            bytes,
            packets: frame.len(),
            first_arrival: first.arrived,
            decodable_at: at,
            bitstream,
        });
    }

    fn update_blocked(&mut self, at: u64) {
        let blocked = match (self.next, self.max_seq) {
            // Nothing decoded yet: blocked while anything waits for a keyframe.
            (None, _) => !self.packets.is_empty(),
            (Some(n), Some(m)) if m >= n => {
                let have = self.packets.range(n..).count() as u64;
                have < m - n + 1
            }
            _ => false,
        };
        if !blocked {
            self.blocked_since = None;
        } else if self.blocked_since.is_none() {
            self.blocked_since = Some(at);
        }
    }

    /// Since when the chain has been blocked by a missing packet (or waiting for a first
    /// keyframe), ns; None while nothing is missing.
    pub fn blocked_since(&self) -> Option<u64> {
        self.blocked_since
    }

    /// Whether a first keyframe has been decoded.
    pub fn started(&self) -> bool {
        self.next.is_some()
    }

    /// The counters.
    pub fn counts(&self) -> AssemblerCounts {
        self.counts
    }

    /// Packets waiting now.
    pub fn buffered(&self) -> usize {
        self.packets.len()
    }

    /// Distinct RTP timestamps among the packets waiting now.
    pub fn waiting_timestamps(&self) -> usize {
        let mut n = 0;
        let mut last = None;
        for p in self.packets.values() {
            if last != Some(p.ts) {
                n += 1;
                last = Some(p.ts);
            }
        }
        n
    }

    /// Counts what still waits as dropped (the stream ended).
    pub fn finish(&mut self) {
        let end = self.packets.keys().next_back().map(|k| k + 1);
        self.discard_below(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::video_rtp::packetize::packetize;

    const MS: u64 = 1_000_000;

    /// An H.264-shaped frame: an IDR or non-IDR slice of `len` bytes.
    fn h264_frame(key: bool, len: usize) -> Vec<u8> {
        let mut f = vec![0, 0, 0, 1, if key { 0x65 } else { 0x41 }, 0x88];
        f.resize(len + 4, 0x5a);
        f
    }

    /// Packets (seq, ts, marker, payload) of `frames` frames (keyframes where `key(i)`).
    fn stream(
        frames: usize,
        len: usize,
        key: impl Fn(usize) -> bool,
    ) -> Vec<(u16, u32, bool, Bytes)> {
        let mut v = Vec::new();
        let mut seq = 65_500u16; // wraps during the test
        for i in 0..frames {
            let mut out = Vec::new();
            packetize(VideoCodec::H264, &h264_frame(key(i), len), 0, &mut out);
            let n = out.len();
            for (k, p) in out.into_iter().enumerate() {
                v.push((seq, (i as u32) * 3_000, k + 1 == n, p));
                seq = seq.wrapping_add(1);
            }
        }
        v
    }

    fn feed(
        a: &mut FrameAssembler,
        pkts: &[(u16, u32, bool, Bytes)],
        skip: &[usize],
    ) -> Vec<DecodableFrame> {
        let mut out = Vec::new();
        for (i, (s, t, m, p)) in pkts.iter().enumerate() {
            if !skip.contains(&i) {
                a.insert(i as u64 * MS, *s, *t, *m, p.clone(), &mut out);
            }
        }
        out
    }

    #[test]
    fn a_clean_stream_decodes_every_frame_across_the_sequence_wrap() {
        let pkts = stream(100, 2_500, |i| i == 0);
        let mut a = FrameAssembler::new(VideoCodec::H264, false);
        let out = feed(&mut a, &pkts, &[]);
        assert_eq!(out.len(), 100);
        assert!(out[0].keyframe && out[1..].iter().all(|f| !f.keyframe));
        assert_eq!(a.counts().frames_dropped, 0);
        assert_eq!(a.counts().packets, pkts.len() as u64);
        assert_eq!(a.blocked_since(), None);
        let ts: Vec<u32> = out.iter().map(|f| f.timestamp).collect();
        assert!(ts.windows(2).all(|w| w[1] == w[0] + 3_000));
    }

    #[test]
    fn a_lost_packet_blocks_the_chain_until_a_keyframe() {
        // Frame 3's second packet is lost; frame 10 is a keyframe.
        let pkts = stream(20, 2_500, |i| i == 0 || i == 10);
        let per = 3; // 2,500 bytes: three packets a frame
        let lost = 3 * per + 1;
        let mut a = FrameAssembler::new(VideoCodec::H264, false);
        let mut out = Vec::new();
        for (i, (s, t, m, p)) in pkts.iter().enumerate() {
            if i != lost {
                a.insert(i as u64 * MS, *s, *t, *m, p.clone(), &mut out);
            }
            if i == lost + 1 {
                assert_eq!(a.blocked_since(), Some(i as u64 * MS));
            }
        }
        let ts: Vec<u32> = out.iter().map(|f| f.timestamp / 3_000).collect();
        assert_eq!(ts, [0, 1, 2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
        // Frames 3..=9 had packets and were never decoded.
        assert_eq!(a.counts().frames_dropped, 7);
        assert_eq!(a.blocked_since(), None);
    }

    #[test]
    fn a_retransmission_fills_the_hole_and_releases_the_waiting_frames() {
        let pkts = stream(10, 2_500, |i| i == 0);
        let lost = 4;
        let mut a = FrameAssembler::new(VideoCodec::H264, false);
        let mut out = feed(&mut a, &pkts, &[lost]);
        assert_eq!(out.len(), 1, "only frame 0 before the hole");
        assert!(a.blocked_since().is_some());
        let (s, t, m, p) = pkts[lost].clone();
        a.insert(100 * MS, s, t, m, p.clone(), &mut out);
        assert_eq!(out.len(), 10);
        assert!(out[1..].iter().all(|f| f.decodable_at == 100 * MS));
        assert_eq!(a.counts().out_of_order, 1);
        // The same packet again is a duplicate and changes nothing.
        a.insert(101 * MS, s, t, m, p, &mut out);
        assert_eq!(a.counts().duplicates, 1);
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn a_lost_keyframe_leaves_nothing_decodable_until_the_next() {
        let pkts = stream(8, 2_500, |i| i == 0 || i == 5);
        let mut a = FrameAssembler::new(VideoCodec::H264, false);
        let out = feed(&mut a, &pkts, &[0]);
        let ts: Vec<u32> = out.iter().map(|f| f.timestamp / 3_000).collect();
        assert_eq!(ts, [5, 6, 7]);
        assert_eq!(a.counts().frames_dropped, 5);
    }

    #[test]
    fn the_bitstream_comes_back_whole() {
        let pkts = stream(3, 5_000, |i| i == 0);
        let mut a = FrameAssembler::new(VideoCodec::H264, true);
        let out = feed(&mut a, &pkts, &[]);
        assert_eq!(
            out[0].bitstream.as_deref(),
            Some(&h264_frame(true, 5_000)[..])
        );
        assert_eq!(
            out[2].bitstream.as_deref(),
            Some(&h264_frame(false, 5_000)[..])
        );
    }
}
