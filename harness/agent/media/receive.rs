//! [`ReceivePipeline`]: one received audio stream: RFC 3550 statistics, jitter buffer, Opus
//! decoder and level meter, ticking every frame duration of the far end's packets.
//!
//! What each playout tick does (see [`Playout`]): decode the frame due; rebuild a missing frame
//! from the next packet's in-band FEC when it carries some (counted *recovered*, heard as
//! audio, not as concealment); run packet-loss concealment (counted *concealed*); generate one
//! extra frame to grow the buffer (*stretched*); or, during the far end's DTX pause, play the
//! decoder's comfort noise (*silent*: intended silence, neither played audio nor loss).

use super::codec::{CodecError, OpusDecoder};
use super::jitter_buffer::{JitterBuffer, JitterBufferConfig, Playout};
use super::level::{FrameOrigin, LevelMeter};
use crate::metrics::arrivals::ArrivalCounter;
use crate::metrics::playout::{PlayoutRecord, PlayoutSummary, Tick};
use crate::metrics::receiver::{PacketKind, ReceiverConfig, ReceiverStats};
use crate::metrics::PlayoutStats;

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
    /// The listener's speaker is muted (DEV-OUTPUT-MUTED): frames are decoded as usual, and
    /// what reaches the speaker is silence (the played level reads the floor).
    pub speaker_muted: bool,
}

impl Default for ReceiveConfig {
    fn default() -> Self {
        ReceiveConfig {
            receiver: ReceiverConfig::default(),
            jitter_buffer: JitterBufferConfig::default(),
            decode: true,
            speaker_muted: false,
        }
    }
}

impl ReceiveConfig {
    /// These settings for packets of `frame_ms` ms (what the far end sends, as SDP's `ptime`
    /// would say): the jitter buffer's tick and timestamp step, its delay history (kept at 5 s
    /// of packets), and the statistics' packet interval. 20 ms changes nothing.
    pub fn with_frame_ms(mut self, frame_ms: u32) -> Self {
        let frame_ns = u64::from(frame_ms.max(1)) * 1_000_000;
        let jb = &mut self.jitter_buffer;
        if jb.frame_ns != frame_ns {
            let history_ns = jb.history as u64 * jb.frame_ns;
            jb.frame_ns = frame_ns;
            jb.samples_per_frame = 48 * frame_ms;
            jb.history = (history_ns / frame_ns).max(1) as usize;
        }
        self.receiver.packet_interval_ns = frame_ns;
        self
    }
}

/// One received audio stream: statistics, jitter buffer, decoder and level meter.
#[derive(Debug)]
pub struct ReceivePipeline {
    stats: ReceiverStats,
    jb: JitterBuffer,
    decoder: Option<OpusDecoder>,
    level: LevelMeter,
    frame_samples: usize,
    decode_errors: u64,
    first_play_ns: Option<u64>,
    record: PlayoutRecord,
    arrivals: ArrivalCounter,
}

impl ReceivePipeline {
    /// A pipeline with nothing received; creates the decoder when `decode` is set.
    pub fn new(cfg: ReceiveConfig) -> Result<Self, CodecError> {
        let frame_samples = cfg.jitter_buffer.samples_per_frame as usize;
        let decoder = if cfg.decode {
            Some(OpusDecoder::with_frame(frame_samples)?)
        } else {
            None
        };
        Ok(ReceivePipeline {
            stats: ReceiverStats::new(cfg.receiver),
            jb: JitterBuffer::new(cfg.jitter_buffer),
            decoder,
            level: LevelMeter::with_output_muted(cfg.speaker_muted),
            frame_samples,
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

    /// Runs every playout tick due at or before `now_ns`: decode, recover, conceal, stretch or
    /// play comfort noise, then measure. Returns true when at least one frame was played from
    /// a received packet (audio reached the listener); frame counts are in
    /// [`ReceivePipeline::jitter_buffer`]. Decoder errors are counted and the frame is treated
    /// as concealed.
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
                    Playout::Play(_) | Playout::Recover(_) => Tick::Played,
                    Playout::Conceal => Tick::Concealed,
                    Playout::Stretch => Tick::Stretched,
                    Playout::Silence => Tick::Silence,
                },
            );
            match self.decoder.as_mut() {
                None => self.level.on_undecoded(self.frame_samples, is_loss),
                Some(dec) => {
                    let (out, origin) = match action {
                        Playout::Play(p) => (dec.decode(p), FrameOrigin::Packet),
                        Playout::Recover(next) => (dec.recover(next), FrameOrigin::Packet),
                        Playout::Conceal => (dec.conceal(), FrameOrigin::Concealed),
                        Playout::Stretch | Playout::Silence => {
                            (dec.conceal(), FrameOrigin::Generated)
                        }
                    };
                    match out {
                        Ok(pcm) => {
                            self.level.on_frame(pcm, origin);
                        }
                        Err(_) => {
                            self.decode_errors += 1;
                            let silence = vec![0.0f32; self.frame_samples];
                            self.level.on_frame(&silence, FrameOrigin::Concealed);
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
            frames_recovered: self.jb.frames_recovered(),
            frames_silent: summary.silent,
            loss_pct: summary.loss_pct,
            longest_concealment_ms: summary.longest_concealment_ms,
            burst_r: summary.bursts.markov.burst_r,
        }
    }
}
