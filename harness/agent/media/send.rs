//! [`SendPipeline`]: one stream's frames, every frame duration (20 ms by default), replayed
//! from a shared clip or encoded live, with RTP sequence numbers, timestamps, markers and send
//! times.
//!
//! **DTX** (`OpusConfig::dtx`): in silence libopus emits DTX frames (a 1-byte table of contents,
//! no audio) with a normal frame every ~400 ms to refresh the far end's comfort noise. As
//! WebRTC's Opus wrapper does, the first DTX frame of a run is sent (it tells the decoder that
//! DTX started) and the following ones are not: the frame time passes, the RTP timestamp moves
//! on, the sequence number does not (RFC 7587: a timestamp jump with no sequence gap is not
//! loss), and the next packet sent carries the marker bit (RFC 3551 §4.1).
//!
//! **Capture stalls** ([`SendPipeline::with_stalls`], an outdated microphone driver): a frame
//! whose capture time falls in a stall is never captured, so nothing is encoded or sent for it;
//! as with DTX the timestamp moves on and the sequence number does not, and the first packet
//! after the stall carries the marker bit. Unlike DTX the far end was sent no DTX frame, so it
//! conceals. The replayed clip (or live source) moves on too: the audio of those frames is lost.

use super::capture::CaptureStalls;
use super::clip::EncodedClip;
use super::codec::{CodecError, OpusConfig, OpusEncoder, DTX_MAX_BYTES};
use super::source::FramedSource;
use std::sync::Arc;

/// One frame ready to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutgoingFrame<'a> {
    /// The Opus payload.
    pub payload: &'a [u8],
    /// RTP sequence number.
    pub seq: u16,
    /// RTP timestamp (48 kHz: +48 per ms of frame, 960 for 20 ms).
    pub timestamp: u32,
    /// RTP marker bit: set on the first packet of the stream, of each talk spurt, and after a
    /// DTX pause (RFC 3551 §4.1).
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
    // Boxed: the source carries its frame buffers (about 6 KB).
    Live {
        source: Box<FramedSource>,
        encoder: OpusEncoder,
    },
}

/// Produces one stream's frames every frame duration: replayed from a shared clip, or encoded
/// live. Frames are due from the time given to [`SendPipeline::start`] (0 until then).
#[derive(Debug)]
pub struct SendPipeline {
    producer: Producer,
    config: OpusConfig,
    seq: u16,
    ts: u32,
    next_ns: u64,
    packets: u64,
    suppressed: u64,
    bytes: u64,
    prev_active: bool,
    /// The last frame was a DTX frame (sent or not).
    in_dtx: bool,
    /// Frames were held back since the last packet sent.
    resumed: bool,
    /// The capture's stalls (an outdated driver), in time since the first frame.
    stalls: Option<CaptureStalls>,
    /// Due time of the first frame, ns (capture time 0 for the stalls).
    first_ns: Option<u64>,
    /// Frames the capture did not deliver (stalls).
    stalled: u64,
    /// The capture's real sample rate against the one the client opened it at (num, den):
    /// frames are due `den / num` frame durations apart (1/1: a right rate).
    capture_rate: (u64, u64),
    /// Frames produced since the first, for due times at a wrong rate.
    produced: u64,
}

/// A 48 kHz device whose driver captures at 44.1 kHz: (44,100, 48,000).
pub const WRONG_RATE: (u64, u64) = (44_100, 48_000);

impl SendPipeline {
    /// Replay mode: frames from `clip` (cycling) starting at frame `clip_offset` (so calls that
    /// share a clip need not be identical), first sequence number and RTP timestamp given. The
    /// clip's settings (frame duration, DTX) apply.
    pub fn replay(
        clip: Arc<EncodedClip>,
        clip_offset: usize,
        first_seq: u16,
        first_ts: u32,
    ) -> Self {
        let next = clip_offset % clip.len().max(1);
        let config = clip.config();
        Self::with(Producer::Replay { clip, next }, config, first_seq, first_ts)
    }

    /// Live mode: the speech source for `seed`, encoded frame by frame with `opus`.
    pub fn live(
        seed: u64,
        opus: OpusConfig,
        first_seq: u16,
        first_ts: u32,
    ) -> Result<Self, CodecError> {
        let producer = Producer::Live {
            source: Box::new(FramedSource::new(seed, opus.frame_samples())),
            encoder: OpusEncoder::new(opus)?,
        };
        Ok(Self::with(producer, opus, first_seq, first_ts))
    }

    /// Live mode with a dead microphone: digital silence encoded frame by frame with `opus`.
    pub fn live_silence(
        opus: OpusConfig,
        first_seq: u16,
        first_ts: u32,
    ) -> Result<Self, CodecError> {
        let producer = Producer::Live {
            source: Box::new(FramedSource::silent(opus.frame_samples())),
            encoder: OpusEncoder::new(opus)?,
        };
        Ok(Self::with(producer, opus, first_seq, first_ts))
    }

    /// This pipeline with a capture that runs at `num / den` of the rate the client opened it
    /// at (a driver at the wrong sample rate, [`WRONG_RATE`]): each frame takes `den / num` of
    /// its duration to fill, while its timestamp still advances by one frame's samples, so the
    /// stream arrives slower than it plays and the receiver's buffer runs dry again and again.
    pub fn with_capture_rate(mut self, (num, den): (u64, u64)) -> Self {
        self.capture_rate = (num.max(1), den.max(1));
        self
    }

    /// This pipeline with a capture that stalls on `stalls`' schedule (see the module docs).
    pub fn with_stalls(mut self, stalls: CaptureStalls) -> Self {
        self.stalls = Some(stalls);
        self
    }

    fn with(producer: Producer, config: OpusConfig, seq: u16, ts: u32) -> Self {
        SendPipeline {
            producer,
            config,
            seq,
            ts,
            next_ns: 0,
            packets: 0,
            suppressed: 0,
            bytes: 0,
            prev_active: false,
            in_dtx: false,
            resumed: false,
            stalls: None,
            capture_rate: (1, 1),
            produced: 0,
            first_ns: None,
            stalled: 0,
        }
    }

    /// The encoder settings of this stream.
    pub fn config(&self) -> OpusConfig {
        self.config
    }

    /// Makes the next frame due at `at_ns` (and the following ones every frame duration after
    /// it), e.g. when the connection comes up. Sequence numbers and timestamps continue.
    pub fn start(&mut self, at_ns: u64) {
        self.next_ns = at_ns;
    }

    /// When the next frame is due, ns.
    pub fn next_frame_time(&self) -> u64 {
        self.next_ns
    }

    /// Produces the next frame and advances the timestamp (+ one frame of samples) and the due
    /// time (+ one frame duration). Returns None for a DTX frame that is not sent (see the
    /// module docs); otherwise the packet, and the sequence number advances (wrapping). Fails
    /// only in live mode, when the encoder does.
    pub fn next_frame(&mut self) -> Result<Option<OutgoingFrame<'_>>, CodecError> {
        let at = self.next_ns;
        let timestamp = self.ts;
        self.ts = self.ts.wrapping_add(self.config.frame_samples() as u32);
        let first = *self.first_ns.get_or_insert(at);
        self.produced += 1;
        self.next_ns = if self.capture_rate == (1, 1) {
            self.next_ns + self.config.frame_ns()
        } else {
            let (num, den) = self.capture_rate;
            first + self.produced * self.config.frame_ns() * den / num
        };
        if let Some(st) = self.stalls.as_mut() {
            if st.stalled_at(at.saturating_sub(first)) {
                // Nothing captured: the frame's audio is lost, nothing is encoded or sent.
                match &mut self.producer {
                    Producer::Replay { clip, next } => *next = (*next + 1) % clip.len(),
                    Producer::Live { source, .. } => {
                        source.next_frame();
                    }
                }
                self.stalled += 1;
                self.resumed = true;
                self.prev_active = false;
                return Ok(None);
            }
        }
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
        let dtx = self.config.dtx && payload.len() <= DTX_MAX_BYTES;
        let hold = dtx && self.in_dtx && self.packets > 0;
        self.in_dtx = dtx;
        let talk_start = active && !self.prev_active;
        self.prev_active = active;
        if hold {
            self.suppressed += 1;
            self.resumed = true;
            return Ok(None);
        }
        let marker = self.packets == 0 || talk_start || self.resumed;
        self.resumed = false;
        let seq = self.seq;
        self.seq = self.seq.wrapping_add(1);
        self.packets += 1;
        self.bytes += payload.len() as u64;
        Ok(Some(OutgoingFrame {
            payload,
            seq,
            timestamp,
            marker,
            at,
            active,
        }))
    }

    /// Packets produced so far (webrtc-stats `packetsSent` when each is sent).
    pub fn frames_sent(&self) -> u64 {
        self.packets
    }

    /// DTX frames held back (not sent) so far.
    pub fn frames_suppressed(&self) -> u64 {
        self.suppressed
    }

    /// Frames the capture did not deliver (stalls) so far: none was sent.
    pub fn frames_stalled(&self) -> u64 {
        self.stalled
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
        let f0 = tx.next_frame().unwrap().unwrap();
        assert_eq!(
            (f0.seq, f0.timestamp, f0.at),
            (65_534, u32::MAX - 959, 5 * MS)
        );
        assert!(f0.marker);
        assert_eq!(f0.payload, clip.frame(8).payload);
        let f1 = tx.next_frame().unwrap().unwrap();
        assert_eq!((f1.seq, f1.timestamp, f1.at), (65_535, 0, 25 * MS));
        let f2 = tx.next_frame().unwrap().unwrap();
        assert_eq!(f2.seq, 0);
        assert_eq!(f2.payload, clip.frame(0).payload); // cycled
        assert_eq!(tx.next_frame_time(), 65 * MS);
        assert_eq!(tx.frames_sent(), 3);
    }

    #[test]
    fn live_and_replay_of_same_seed_match() {
        for frame_ms in [10, 20, 60] {
            let c = OpusConfig {
                frame_ms,
                ..OpusConfig::default()
            };
            let clip = EncodedClip::from_seed(9, 20, c).unwrap();
            let mut live = SendPipeline::live(9, c, 0, 0).unwrap();
            let mut markers = 0;
            for i in 0..20 {
                let f = live.next_frame().unwrap().unwrap();
                assert_eq!(f.payload, clip.frame(i).payload, "{frame_ms} ms, frame {i}");
                markers += usize::from(f.marker);
            }
            assert!(markers >= 1);
        }
    }

    #[test]
    fn packet_rate_and_timestamp_step_follow_the_frame_duration() {
        // Closed form: 1000 / ptime packets a second, 48 × ptime timestamp units apart.
        for frame_ms in [10u32, 20, 40, 60] {
            let c = OpusConfig {
                frame_ms,
                ..OpusConfig::default()
            };
            let clip = EncodedClip::from_seed(2, 50, c).unwrap();
            let mut tx = SendPipeline::replay(clip, 0, 0, 0);
            let mut last = None;
            let mut sent = 0u64;
            while tx.next_frame_time() < 1_000 * MS {
                let f = tx.next_frame().unwrap().unwrap();
                if let Some((ts, at)) = last {
                    assert_eq!(f.timestamp - ts, 48 * frame_ms);
                    assert_eq!(f.at - at, u64::from(frame_ms) * MS);
                }
                last = Some((f.timestamp, f.at));
                sent += 1;
            }
            assert_eq!(sent, u64::from(1000u32.div_ceil(frame_ms)), "{frame_ms} ms");
        }
    }

    #[test]
    fn dtx_holds_back_silence_without_a_sequence_gap() {
        let run = |dtx: bool| {
            let c = OpusConfig {
                dtx,
                ..OpusConfig::default()
            };
            let clip = EncodedClip::from_seed(31, 1000, c).unwrap();
            // Independently: DTX frames that follow a DTX frame are the ones held back.
            let tiny = |i: usize| clip.frame(i).payload.len() <= DTX_MAX_BYTES;
            let held = |i: usize| dtx && i > 0 && tiny(i) && tiny(i - 1);
            let expected_held = (0..1000).filter(|&i| held(i)).count();
            // A timestamp jump wherever a packet is sent after a held frame.
            let expected_jumps = (1..1000).filter(|&i| held(i - 1) && !held(i)).count();
            let mut tx = SendPipeline::replay(clip.clone(), 0, 100, 0);
            let (mut sent_talk, mut sent_pause) = (0, 0);
            let mut prev: Option<(u16, u32)> = None;
            let mut jumps = 0;
            for _ in 0..1000 {
                let Some(f) = tx.next_frame().unwrap() else {
                    continue;
                };
                if let Some((seq, ts)) = prev {
                    assert_eq!(f.seq, seq.wrapping_add(1), "no sequence gap");
                    if f.timestamp - ts > 960 {
                        jumps += 1;
                        assert!(f.marker, "a packet after a DTX pause is marked");
                    }
                }
                prev = Some((f.seq, f.timestamp));
                if f.active {
                    sent_talk += 1;
                } else {
                    sent_pause += 1;
                }
            }
            assert_eq!(tx.frames_sent() + tx.frames_suppressed(), 1000);
            assert_eq!(tx.frames_suppressed() as usize, expected_held);
            assert_eq!(jumps, expected_jumps);
            (sent_talk, sent_pause, jumps, tx.frames_suppressed())
        };
        let (talk, pause, jumps, held) = run(false);
        assert_eq!((jumps, held), (0, 0));
        let (dtx_talk, dtx_pause, dtx_jumps, dtx_held) = run(true);
        eprintln!("pause packets {pause} -> {dtx_pause}, held {dtx_held}");
        assert_eq!(dtx_talk, talk, "every talk-spurt frame is sent");
        assert!(
            dtx_pause * 4 < pause * 3,
            "{dtx_pause} of {pause} pause frames sent"
        );
        assert!(dtx_jumps >= 5, "{dtx_jumps} DTX pauses");
        assert_eq!(dtx_held as usize + dtx_pause, pause);
    }
}
