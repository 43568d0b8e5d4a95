//! The agent's media: what it sends and what it does with what it receives.
//!
//! Plain code with time passed in: it does not know whether it runs in simulated or real time,
//! so the sim and real-network modes measure a stream with the very same code.
//! - [`source`]: a seeded, speech-like signal (P.59 talk spurts and pauses);
//! - [`codec`]: Opus encode/decode, and [`codec::EncodedClip`] for encode-once replay;
//! - [`jitter_buffer`]: playout every 20 ms (adaptive by default, [`delay_target`] its delay
//!   estimate), with late and concealed accounting;
//! - [`level`]: output level, silence, concealed ratio;
//! - this module: [`SendPipeline`] (next frame's payload, sequence number, timestamp and send
//!   time) and [`ReceivePipeline`] (receiver statistics + jitter buffer + decoder + level meter).
//!
//! # Example: one direction of a call, 2 s, with a lost packet
//! ```
//! use callharness::agent::media::{EncodedClip, OpusConfig, ReceiveConfig, ReceivePipeline, SendPipeline};
//! let clip = EncodedClip::from_seed(1, 100, OpusConfig::default()).unwrap();
//! let mut tx = SendPipeline::replay(clip, 0, 1000, 0); // clip offset, first seq, first ts
//! tx.start(0);
//! let mut rx = ReceivePipeline::new(ReceiveConfig::default()).unwrap();
//! const PATH_NS: u64 = 25_000_000; // one-way delay
//! let mut in_flight = std::collections::VecDeque::new();
//! let end = 2_000_000_000;
//! loop {
//!     // The earliest of: next send, next delivery, next playout tick.
//!     let send_at = tx.next_frame_time();
//!     let deliver_at = in_flight.front().map(|p: &(u64, u16, u32, Vec<u8>)| p.0).unwrap_or(u64::MAX);
//!     let tick_at = rx.next_tick().unwrap_or(u64::MAX);
//!     let now = send_at.min(deliver_at).min(tick_at);
//!     if now > end { break; }
//!     if now == deliver_at {
//!         let (t, seq, ts, payload) = in_flight.pop_front().unwrap();
//!         rx.on_rtp(t, seq, ts, &payload);
//!     } else if now == tick_at {
//!         rx.on_tick(now);
//!     } else {
//!         let f = tx.next_frame().unwrap();
//!         if f.seq != 1010 { // the network drops one packet
//!             in_flight.push_back((f.at + PATH_NS, f.seq, f.timestamp, f.payload.to_vec()));
//!         }
//!     }
//! }
//! rx.finish(None);
//! assert_eq!(rx.receiver().lost(), 1);
//! assert_eq!(rx.jitter_buffer().frames_concealed(), 1);
//! let p = rx.playout_stats(&rx.playout_record().summary(end));
//! assert!(p.concealed_ratio.unwrap() > 0.0);
//! assert_eq!(p.frames_concealed, 1);
//! ```

pub mod codec;
pub mod delay_target;
pub mod jitter_buffer;
pub mod level;
pub mod source;

pub use codec::{CodecError, EncodedClip, OpusConfig};
pub use jitter_buffer::{JitterBufferConfig, JitterBufferMode};

use crate::metrics::arrivals::ArrivalCounter;
use crate::metrics::playout::{PlayoutRecord, PlayoutSummary, Tick};
use crate::metrics::receiver::{PacketKind, ReceiverConfig, ReceiverStats};
use crate::metrics::PlayoutStats;
use codec::{OpusDecoder, OpusEncoder};
use jitter_buffer::{JitterBuffer, Playout};
use level::LevelMeter;
use source::{SpeechSource, FRAME_NS, FRAME_SAMPLES};
use std::sync::Arc;

/// Receive-side settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReceiveConfig {
    /// RFC 3550 statistics settings.
    pub receiver: ReceiverConfig,
    /// Jitter-buffer settings.
    pub jitter_buffer: JitterBufferConfig,
    /// Decode every played frame (and conceal gaps with Opus PLC). When false the jitter buffer
    /// still runs (late and concealed frames are counted) but nothing is decoded, and the
    /// concealed ratio and speech-active ratio are None: not measured.
    pub decode: bool,
}

impl Default for ReceiveConfig {
    fn default() -> Self {
        ReceiveConfig {
            receiver: ReceiverConfig::default(),
            jitter_buffer: JitterBufferConfig::default(),
            decode: true,
        }
    }
}

/// One received audio stream: statistics, jitter buffer, decoder and level meter.
#[derive(Debug)]
pub struct ReceivePipeline {
    stats: ReceiverStats,
    jb: JitterBuffer,
    decoder: Option<OpusDecoder>,
    level: LevelMeter,
    decode_errors: u64,
    first_play_ns: Option<u64>,
    record: PlayoutRecord,
    arrivals: ArrivalCounter,
}

impl ReceivePipeline {
    /// A pipeline with nothing received; creates the decoder when `decode` is set.
    pub fn new(cfg: ReceiveConfig) -> Result<Self, CodecError> {
        let decoder = if cfg.decode {
            Some(OpusDecoder::new()?)
        } else {
            None
        };
        Ok(ReceivePipeline {
            stats: ReceiverStats::new(cfg.receiver),
            jb: JitterBuffer::new(cfg.jitter_buffer),
            decoder,
            level: LevelMeter::new(),
            decode_errors: 0,
            first_play_ns: None,
            record: PlayoutRecord::new(cfg.jitter_buffer.frame_ns),
            arrivals: ArrivalCounter::default(),
        })
    }

    /// Counts an RTP packet of this stream where it arrived, before the SRTP replay check
    /// drops network duplicates: sequence number from the header (in the clear). Returns true
    /// for a duplicate.
    pub fn on_arrival(&mut self, seq: u16) -> bool {
        self.arrivals.on_packet(seq)
    }

    /// Arrivals as [`ReceivePipeline::on_arrival`] counted them (duplicates included, and
    /// duplicates of them).
    pub fn arrivals(&self) -> &ArrivalCounter {
        &self.arrivals
    }

    /// Hands one received RTP packet (arrival time ns, sequence number, RTP timestamp, payload)
    /// to the statistics and the jitter buffer. Packets the sequence check discards or finds
    /// duplicate do not reach the jitter buffer.
    pub fn on_rtp(&mut self, arrival_ns: u64, seq: u16, rtp_ts: u32, payload: &[u8]) -> PacketKind {
        let kind = self.stats.on_packet(arrival_ns, seq, rtp_ts, payload.len());
        if !matches!(kind, PacketKind::Duplicate | PacketKind::Discarded) {
            self.jb.insert(arrival_ns, rtp_ts, payload);
        }
        kind
    }

    /// Time of the next playout tick, ns; None before the first packet.
    pub fn next_tick(&self) -> Option<u64> {
        self.jb.next_tick()
    }

    /// Runs every playout tick due at or before `now_ns`: decode, conceal or stretch, then
    /// measure. Returns true when at least one frame was played from a received packet (audio
    /// reached the listener); frame counts are in [`ReceivePipeline::jitter_buffer`]. Decoder
    /// errors are counted and the frame is treated as concealed.
    pub fn on_tick(&mut self, now_ns: u64) -> bool {
        let mut played = false;
        while let Some(tick) = self.jb.next_tick() {
            if tick > now_ns {
                break;
            }
            let Some(action) = self.jb.pop(tick) else {
                break;
            };
            if matches!(action, Playout::Play(_)) {
                played = true;
                self.first_play_ns.get_or_insert(tick);
            }
            let is_loss = matches!(action, Playout::Conceal);
            self.record.push(
                tick,
                match action {
                    Playout::Play(_) => Tick::Played,
                    Playout::Conceal => Tick::Concealed,
                    Playout::Stretch => Tick::Stretched,
                },
            );
            match self.decoder.as_mut() {
                None => self.level.on_undecoded(FRAME_SAMPLES, is_loss),
                Some(dec) => {
                    let out = match action {
                        Playout::Play(p) => dec.decode(p),
                        Playout::Conceal | Playout::Stretch => dec.conceal(),
                    };
                    match out {
                        Ok(pcm) => {
                            self.level.on_decoded(pcm, is_loss);
                        }
                        Err(_) => {
                            self.decode_errors += 1;
                            self.level.on_decoded(&[0.0f32; FRAME_SAMPLES], true);
                        }
                    }
                }
            }
        }
        played
    }

    /// Ends the stream (see [`ReceiverStats::finish`]).
    pub fn finish(&mut self, flow_end_ns: Option<u64>) {
        self.stats.finish(flow_end_ns);
    }

    /// The RFC 3550 statistics.
    pub fn receiver(&self) -> &ReceiverStats {
        &self.stats
    }

    /// The RFC 3550 statistics, mutable (for RTCP report blocks and the series' RTT/MOS).
    pub fn receiver_mut(&mut self) -> &mut ReceiverStats {
        &mut self.stats
    }

    /// The jitter buffer's counters.
    pub fn jitter_buffer(&self) -> &JitterBuffer {
        &self.jb
    }

    /// The level meter's counters.
    pub fn level(&self) -> &LevelMeter {
        &self.level
    }

    /// Decoder errors (each frame counted as concealed).
    pub fn decode_errors(&self) -> u64 {
        self.decode_errors
    }

    /// Whether frames are decoded.
    pub fn decodes(&self) -> bool {
        self.decoder.is_some()
    }

    /// Tick time of the first frame played from a packet, ns (time to first audio).
    pub fn first_play_ns(&self) -> Option<u64> {
        self.first_play_ns
    }

    /// Every playout tick so far (what the listener heard).
    pub fn playout_record(&self) -> &PlayoutRecord {
        &self.record
    }

    /// What [`StreamMetrics::build`](crate::metrics::StreamMetrics::build) needs from playout,
    /// with the playout loss of `summary` (this pipeline's record up to the stream's end).
    pub fn playout_stats(&self, summary: &PlayoutSummary) -> PlayoutStats {
        PlayoutStats {
            late: self.jb.late(),
            concealed_ratio: self.level.concealed_ratio(),
            mean_buffer_delay_ms: self.jb.mean_delay_ms(),
            frames_played: summary.played,
            frames_concealed: summary.concealed,
            frames_stretched: summary.stretched,
            frames_shrunk: self.jb.frames_shrunk(),
            loss_pct: summary.loss_pct,
            longest_concealment_ms: summary.longest_concealment_ms,
            burst_r: summary.bursts.markov.burst_r,
        }
    }
}

/// One frame ready to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutgoingFrame<'a> {
    /// The Opus payload.
    pub payload: &'a [u8],
    /// RTP sequence number.
    pub seq: u16,
    /// RTP timestamp (48 kHz, +960 per frame).
    pub timestamp: u32,
    /// RTP marker bit: set on the first packet of the stream and of each talk spurt
    /// (RFC 3551 §4.1).
    pub marker: bool,
    /// When this frame is due, ns.
    pub at: u64,
    /// Whether the source was in a talk spurt.
    pub active: bool,
}

#[derive(Debug)]
enum Producer {
    Replay {
        clip: Arc<EncodedClip>,
        next: usize,
    },
    // Boxed: the source carries its 20 ms frame buffers (about 6 KB).
    Live {
        source: Box<SpeechSource>,
        encoder: OpusEncoder,
    },
}

/// Produces one stream's frames every 20 ms: replayed from a shared clip, or encoded live.
/// Frames are due from the time given to [`SendPipeline::start`] (0 until then).
#[derive(Debug)]
pub struct SendPipeline {
    producer: Producer,
    seq: u16,
    ts: u32,
    next_ns: u64,
    frames: u64,
    bytes: u64,
    prev_active: bool,
}

impl SendPipeline {
    /// Replay mode: frames from `clip` (cycling) starting at frame `clip_offset` (so calls that
    /// share a clip need not be identical), first sequence number and RTP timestamp given.
    pub fn replay(
        clip: Arc<EncodedClip>,
        clip_offset: usize,
        first_seq: u16,
        first_ts: u32,
    ) -> Self {
        let next = clip_offset % clip.len().max(1);
        Self::with(Producer::Replay { clip, next }, first_seq, first_ts)
    }

    /// Live mode: a [`SpeechSource`] for `seed`, encoded frame by frame with `opus`.
    pub fn live(
        seed: u64,
        opus: OpusConfig,
        first_seq: u16,
        first_ts: u32,
    ) -> Result<Self, CodecError> {
        let producer = Producer::Live {
            source: Box::new(SpeechSource::new(seed)),
            encoder: OpusEncoder::new(opus)?,
        };
        Ok(Self::with(producer, first_seq, first_ts))
    }

    fn with(producer: Producer, seq: u16, ts: u32) -> Self {
        SendPipeline {
            producer,
            seq,
            ts,
            next_ns: 0,
            frames: 0,
            bytes: 0,
            prev_active: false,
        }
    }

    /// Makes the next frame due at `at_ns` (and the following ones every 20 ms after it), e.g.
    /// when the connection comes up. Sequence numbers and timestamps continue.
    pub fn start(&mut self, at_ns: u64) {
        self.next_ns = at_ns;
    }

    /// When the next frame is due, ns.
    pub fn next_frame_time(&self) -> u64 {
        self.next_ns
    }

    /// Produces the next frame and advances sequence number (wrapping), timestamp (+960) and
    /// due time (+20 ms). Fails only in live mode, when the encoder does.
    pub fn next_frame(&mut self) -> Result<OutgoingFrame<'_>, CodecError> {
        let at = self.next_ns;
        let seq = self.seq;
        let timestamp = self.ts;
        let first = self.frames == 0;
        let (payload, active) = match &mut self.producer {
            Producer::Replay { clip, next } => {
                let f = clip.frame(*next);
                *next = (*next + 1) % clip.len();
                (f.payload, f.active)
            }
            Producer::Live { source, encoder } => {
                let (pcm, active) = source.next_frame();
                (encoder.encode(pcm)?, active)
            }
        };
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(FRAME_SAMPLES as u32);
        self.next_ns += FRAME_NS;
        self.frames += 1;
        self.bytes += payload.len() as u64;
        let marker = first || (active && !self.prev_active);
        self.prev_active = active;
        Ok(OutgoingFrame {
            payload,
            seq,
            timestamp,
            marker,
            at,
            active,
        })
    }

    /// Frames produced so far (webrtc-stats `packetsSent` when each is sent).
    pub fn frames_sent(&self) -> u64 {
        self.frames
    }

    /// Payload bytes produced so far.
    pub fn bytes_sent(&self) -> u64 {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn send_pipeline_numbers() {
        let clip = EncodedClip::from_seed(3, 10, OpusConfig::default()).unwrap();
        let mut tx = SendPipeline::replay(clip.clone(), 8, 65_534, u32::MAX - 959);
        tx.start(5 * MS);
        let f0 = tx.next_frame().unwrap();
        assert_eq!(
            (f0.seq, f0.timestamp, f0.at),
            (65_534, u32::MAX - 959, 5 * MS)
        );
        assert!(f0.marker);
        assert_eq!(f0.payload, clip.frame(8).payload);
        let f1 = tx.next_frame().unwrap();
        assert_eq!((f1.seq, f1.timestamp, f1.at), (65_535, 0, 25 * MS));
        let f2 = tx.next_frame().unwrap();
        assert_eq!(f2.seq, 0);
        assert_eq!(f2.payload, clip.frame(0).payload); // cycled
        assert_eq!(tx.next_frame_time(), 65 * MS);
        assert_eq!(tx.frames_sent(), 3);
    }

    #[test]
    fn live_and_replay_of_same_seed_match() {
        let clip = EncodedClip::from_seed(9, 20, OpusConfig::default()).unwrap();
        let mut live = SendPipeline::live(9, OpusConfig::default(), 0, 0).unwrap();
        let mut markers = 0;
        for i in 0..20 {
            let f = live.next_frame().unwrap();
            assert_eq!(f.payload, clip.frame(i).payload);
            markers += usize::from(f.marker);
        }
        assert!(markers >= 1);
    }

    /// Sends `n` frames over a fixed-delay path, dropping `drop`, and plays them out.
    fn one_way(decode: bool, n: u64, drop: &[u16]) -> ReceivePipeline {
        let clip = EncodedClip::from_seed(5, 250, OpusConfig::default()).unwrap();
        let mut tx = SendPipeline::replay(clip, 0, 0, 0);
        let mut rx = ReceivePipeline::new(ReceiveConfig {
            decode,
            jitter_buffer: JitterBufferConfig::fixed(40 * MS),
            ..ReceiveConfig::default()
        })
        .unwrap();
        for _ in 0..n {
            let f = tx.next_frame().unwrap();
            let arrival = f.at + 30 * MS;
            rx.on_tick(arrival.saturating_sub(1));
            if !drop.contains(&f.seq) {
                rx.on_rtp(arrival, f.seq, f.timestamp, f.payload);
            }
        }
        rx.on_tick(n * 20 * MS + 30 * MS);
        rx.finish(None);
        rx
    }

    #[test]
    fn receive_pipeline_decodes_and_conceals() {
        let rx = one_way(true, 250, &[100, 101, 150]);
        assert_eq!(rx.receiver().received(), 247);
        assert_eq!(rx.receiver().lost(), 3);
        assert_eq!(rx.jitter_buffer().frames_concealed(), 3);
        assert_eq!(rx.level().concealment_events(), 2);
        let p = rx.playout_stats(&rx.playout_record().summary(u64::MAX));
        assert_eq!(p.late, 0);
        let ratio = p.concealed_ratio.unwrap();
        // Frames still in the buffer when the test stops are not played: divide by what was.
        let played = rx.level().frames();
        assert!(played >= 248, "{played}");
        assert!((ratio - 3.0 / played as f64).abs() < 1e-9, "{ratio}");
        assert_eq!(p.mean_buffer_delay_ms, Some(40.0));
        assert_eq!((p.frames_concealed, p.frames_played), (3, played - 3));
        assert!((p.loss_pct - 300.0 / played as f64).abs() < 1e-9);
        assert_eq!(p.longest_concealment_ms, 40.0);
        assert_eq!(rx.first_play_ns(), Some(30 * MS + 40 * MS));
        let active = rx.level().speech_active_ratio().unwrap();
        assert!(active > 0.1 && active < 0.9, "{active}");
        assert_eq!(rx.decode_errors(), 0);
    }

    #[test]
    fn no_decode_reports_no_concealed_ratio() {
        let rx = one_way(false, 100, &[10]);
        assert!(!rx.decodes());
        assert_eq!(rx.jitter_buffer().frames_concealed(), 1);
        let p = rx.playout_stats(&rx.playout_record().summary(u64::MAX));
        assert_eq!(p.concealed_ratio, None);
        assert_eq!(p.frames_concealed, 1);
        assert_eq!(rx.level().concealed_samples(), 960);
    }
}
