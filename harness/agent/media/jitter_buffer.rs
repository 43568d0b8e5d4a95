//! Receive-side jitter buffer: orders packets and decides, every frame duration (`frame_ns`,
//! 20 ms by default), what is played.
//!
//! Packets go in with their arrival time, RTP timestamp and payload. Playout starts at the
//! first packet's arrival plus the initial delay and then ticks every frame. At each tick
//! [`JitterBuffer::pop`] says what the decoder should do:
//! - [`Playout::Play`] with a frame's payload, or
//! - [`Playout::Recover`] when the frame due is missing but the next one is buffered and
//!   carries in-band FEC ([`has_fec`]): the decoder rebuilds the lost frame from it (NetEq does
//!   the same); counted *recovered*, not concealed;
//! - [`Playout::Silence`] when the frame due is missing because the sender is in DTX (the last
//!   frame played was a DTX frame, [`DTX_MAX_BYTES`] or less): the decoder's comfort noise;
//!   intended silence, counted *silent*, not concealed, and playout moves on as if the frames
//!   had come (NetEq's comfort-noise mode), so the next talk spurt plays at the same delay. A
//!   packet lost right at the end of a pause is heard as silence too (RFC 3550 still counts it),
//!   unless its successor's FEC rebuilds it;
//! - [`Playout::Conceal`] when the frame due is missing otherwise (the listener hears loss
//!   concealment),
//! - [`Playout::Stretch`] (adaptive mode): one extra frame of decoder-generated audio that
//!   grows the buffer by one frame; it is not concealment of a loss.
//!
//! A packet for a frame whose tick has passed is counted **late** and discarded. A packet
//! arriving exactly at its tick's time is on time if the caller inserts it before calling `pop`
//! for that time. Payloads are Opus packets: the buffer reads their table of contents and first
//! SILK byte for DTX frames and FEC. Duplicates are discarded and counted. Memory is bounded: a ring of
//! `capacity_frames` payload buffers (at least 1 s), reused without reallocation. A packet more
//! than the ring ahead of playout (a timestamp jump) resynchronises playout to it.
//!
//! # Fixed mode
//! Playout is anchored to the first packet: tick *k* plays the frame whose RTP timestamp is the
//! first packet's + *k* × `samples_per_frame`. A missing frame is concealed and skipped. A lasting delay step up
//! makes every later packet late (a 10 → 100 ms step behind a 40 ms buffer conceals the rest of
//! the call); that is why it is not the default.
//!
//! # Adaptive mode (the default), in the spirit of WebRTC's NetEq
//! - **Target delay follows the observed delay variation.** [`DelayTarget`] keeps the offsets
//!   (arrival minus media time) of the last `history` packets; the buffer's *headroom* is how
//!   much later than the least-delayed of them a packet may arrive and still be played. Every
//!   `adjust_interval_ns` of playout the headroom is compared with the `quantile` of recent
//!   relative delays, bounded to `[min_delay_ns, max_delay_ns]`: if short, the buffer
//!   **stretches** (one extra decoder frame, like NetEq's preemptive expand); if one whole frame
//!   more than needed and the next two frames are buffered, it **shrinks** (drops one frame,
//!   like NetEq's accelerate; counted `shrunk`, not late and not concealed).
//! - **Underflow waits instead of skipping.** When the frame due is missing and *nothing* later
//!   is buffered either, the buffer conceals without moving on (NetEq's expand): if the frame
//!   was only delayed (a delay step, a queue filling), it is played when it arrives, and the
//!   step costs one short burst of concealment instead of the rest of the call. When a later
//!   frame is buffered, the missing one is taken as lost: concealed and skipped, or, after a
//!   wait, playout moves straight on to the first buffered frame (NetEq's merge) so a long
//!   outage is not concealed twice.
//!
//! Mean buffer delay is webrtc-stats' `jitterBufferDelay / jitterBufferEmittedCount`: the mean
//! time from a played packet's arrival to its tick (what the E-model adds to mouth-to-ear delay).
//!
//! # Example
//! ```
//! use callharness::agent::media::jitter_buffer::{JitterBuffer, JitterBufferConfig, Playout};
//! let mut jb = JitterBuffer::new(JitterBufferConfig::fixed(40_000_000)); // fixed 40 ms
//! const MS: u64 = 1_000_000;
//! for i in 0..10u32 {
//!     if i == 4 { continue; } // lost
//!     // CELT-only packets: no FEC in them, and longer than a DTX frame.
//!     jb.insert(i as u64 * 20 * MS + 30 * MS, i * 960, &[0xf8, i as u8, 0]);
//! }
//! let mut played = Vec::new();
//! while let Some(t) = jb.next_tick() {
//!     if t > 300 * MS { break; }
//!     match jb.pop(t).unwrap() {
//!         Playout::Play(p) => played.push(p[1] as i32),
//!         Playout::Conceal => played.push(-1),
//!         _ => {} // stretch; no FEC to recover from, no DTX silence here
//!     }
//! }
//! assert_eq!(&played[..10], &[0, 1, 2, 3, -1, 5, 6, 7, 8, 9]);
//! ```

use super::codec::{has_fec, DTX_MAX_BYTES};
use super::delay_target::DelayTarget;

pub use super::jitter_buffer_config::{JitterBufferConfig, JitterBufferMode};

/// What to play at one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playout<'a> {
    /// Decode this payload.
    Play(&'a [u8]),
    /// The frame due is missing: run loss concealment.
    Conceal,
    /// Adaptive growth: generate one extra frame (not a loss).
    Stretch,
    /// The frame due is missing and this next packet carries in-band FEC: decode the missing
    /// frame from it (the packet is still played at the next tick).
    Recover(&'a [u8]),
    /// The sender is in DTX: play comfort noise (intended silence, not a loss).
    Silence,
}

/// What happened to an inserted packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    /// Buffered for playout.
    Buffered,
    /// Its frame is already buffered or was played: discarded.
    Duplicate,
    /// Its frame's tick has passed: discarded and counted late.
    Late,
    /// Too far ahead of playout: playout was resynchronised to it.
    Resync,
}

#[derive(Debug, Clone)]
struct FrameSlot {
    frame: i64,
    arrival_ns: u64,
    payload: Vec<u8>,
}

/// The jitter buffer. See the module docs.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    cfg: JitterBufferConfig,
    started: bool,
    base_ts: u32,
    next_frame: i64,
    next_tick_ns: u64,
    slots: Vec<FrameSlot>,
    /// Bit i: frame `next_frame - 1 - i` was played from a packet.
    played_history: u64,
    /// The last tick concealed because nothing was buffered (adaptive underflow).
    waiting: bool,
    /// The last frame played was a DTX frame: missing frames are the sender's silence.
    in_dtx: bool,
    // Counters.
    played: u64,
    concealed: u64,
    stretched: u64,
    shrunk: u64,
    recovered: u64,
    silent: u64,
    late: u64,
    duplicates: u64,
    resyncs: u64,
    delay_sum_ns: u128,
    target: DelayTarget,
    last_adjust_ns: u64,
}

impl JitterBuffer {
    /// An empty buffer; playout starts with the first packet.
    pub fn new(cfg: JitterBufferConfig) -> Self {
        let frame = cfg.frame_ns.max(1);
        let cover = (cfg.max_delay_ns.max(cfg.initial_delay_ns) + 500_000_000).div_ceil(frame);
        let cap = cfg.capacity_frames.max(cover as usize).max(2);
        let cfg = JitterBufferConfig {
            capacity_frames: cap,
            frame_ns: frame,
            ..cfg
        };
        JitterBuffer {
            target: DelayTarget::new(cfg.history, cfg.quantile),
            cfg,
            started: false,
            base_ts: 0,
            next_frame: 0,
            next_tick_ns: 0,
            slots: (0..cap)
                .map(|_| FrameSlot {
                    frame: i64::MIN,
                    arrival_ns: 0,
                    payload: Vec::new(),
                })
                .collect(),
            played_history: 0,
            waiting: false,
            in_dtx: false,
            played: 0,
            concealed: 0,
            stretched: 0,
            shrunk: 0,
            recovered: 0,
            silent: 0,
            late: 0,
            duplicates: 0,
            resyncs: 0,
            delay_sum_ns: 0,
            last_adjust_ns: 0,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &JitterBufferConfig {
        &self.cfg
    }

    fn adaptive(&self) -> bool {
        self.cfg.mode == JitterBufferMode::Adaptive
    }

    fn frame_of(&self, rtp_ts: u32) -> i64 {
        i64::from(rtp_ts.wrapping_sub(self.base_ts) as i32)
            .div_euclid(i64::from(self.cfg.samples_per_frame.max(1)))
    }

    fn slot_index(&self, frame: i64) -> usize {
        frame.rem_euclid(self.slots.len() as i64) as usize
    }

    fn has(&self, frame: i64) -> bool {
        self.slots[self.slot_index(frame)].frame == frame
    }

    /// Hands one packet (arrival time ns, RTP timestamp, payload) to the buffer.
    pub fn insert(&mut self, arrival_ns: u64, rtp_ts: u32, payload: &[u8]) -> Insert {
        if !self.started {
            self.started = true;
            self.base_ts = rtp_ts;
            self.next_frame = 0;
            self.next_tick_ns = arrival_ns + self.cfg.initial_delay_ns;
            self.last_adjust_ns = self.next_tick_ns;
        }
        let frame = self.frame_of(rtp_ts);
        if self.adaptive() {
            self.target
                .note(arrival_ns as i64 - frame * self.cfg.frame_ns as i64);
        }
        if frame < self.next_frame {
            let back = self.next_frame - 1 - frame;
            if back < 64 && self.played_history & (1 << back) != 0 {
                self.duplicates += 1;
                return Insert::Duplicate;
            }
            self.late += 1;
            return Insert::Late;
        }
        let mut outcome = Insert::Buffered;
        if frame >= self.next_frame + self.slots.len() as i64 {
            // A timestamp jump past the ring: play this packet after the initial delay.
            self.resyncs += 1;
            for s in &mut self.slots {
                s.frame = i64::MIN;
            }
            let lead = self.cfg.initial_delay_ns.div_ceil(self.cfg.frame_ns) as i64;
            self.next_frame = frame - lead.min(self.slots.len() as i64 - 1);
            self.played_history = 0;
            outcome = Insert::Resync;
        }
        let idx = self.slot_index(frame);
        let slot = &mut self.slots[idx];
        if slot.frame == frame {
            self.duplicates += 1;
            return Insert::Duplicate;
        }
        slot.frame = frame;
        slot.arrival_ns = arrival_ns;
        slot.payload.clear();
        slot.payload.extend_from_slice(payload);
        outcome
    }

    /// Time of the next playout tick, ns; None before the first packet.
    pub fn next_tick(&self) -> Option<u64> {
        self.started.then_some(self.next_tick_ns)
    }

    /// Runs the tick due at or before `now_ns`, if any, and says what to play. Call it until it
    /// returns None to catch up after a pause.
    pub fn pop(&mut self, now_ns: u64) -> Option<Playout<'_>> {
        if !self.started || now_ns < self.next_tick_ns {
            return None;
        }
        let tick = self.next_tick_ns;
        self.next_tick_ns += self.cfg.frame_ns;
        if self.adaptive()
            && !self.waiting
            && tick >= self.last_adjust_ns + self.cfg.adjust_interval_ns
        {
            self.last_adjust_ns = tick;
            match self.adjustment(tick) {
                Adjust::Stretch => {
                    self.stretched += 1;
                    return Some(Playout::Stretch);
                }
                Adjust::Shrink => {
                    let idx = self.slot_index(self.next_frame);
                    self.slots[idx].frame = i64::MIN;
                    self.shrunk += 1;
                    self.advance(1);
                }
                Adjust::Hold => {}
            }
        }
        let mut frame = self.next_frame;
        if !self.has(frame) {
            let later = if self.adaptive() {
                self.first_buffered_after(frame)
            } else {
                None
            };
            match later {
                // The next frame's FEC rebuilds this one: recover it and move on.
                _ if self.has(frame + 1)
                    && has_fec(&self.slots[self.slot_index(frame + 1)].payload) =>
                {
                    self.advance(1);
                    self.waiting = false;
                    self.in_dtx = false;
                    self.recovered += 1;
                    let idx = self.slot_index(frame + 1);
                    return Some(Playout::Recover(&self.slots[idx].payload));
                }
                // After an underflow, the frame just before what arrived, from its FEC (the
                // frames before were concealed while waiting)...
                Some(j)
                    if self.waiting
                        && j - 1 > frame
                        && has_fec(&self.slots[self.slot_index(j)].payload) =>
                {
                    self.advance((j - frame) as u64);
                    self.waiting = false;
                    self.in_dtx = false;
                    self.recovered += 1;
                    let idx = self.slot_index(j);
                    return Some(Playout::Recover(&self.slots[idx].payload));
                }
                // ... or straight on to what arrived.
                Some(j) if self.waiting => {
                    self.advance((j - frame) as u64);
                    frame = j;
                }
                // The sender's DTX pause: comfort noise, on schedule.
                _ if self.in_dtx => {
                    self.advance(1);
                    self.silent += 1;
                    return Some(Playout::Silence);
                }
                // Adaptive underflow: conceal and wait for the frame.
                None if self.adaptive() => {
                    self.waiting = true;
                    self.concealed += 1;
                    return Some(Playout::Conceal);
                }
                // Lost (or late): conceal it and move on.
                _ => {
                    self.advance(1);
                    self.concealed += 1;
                    return Some(Playout::Conceal);
                }
            }
        }
        self.waiting = false;
        self.advance(1);
        self.played_history |= 1;
        self.played += 1;
        let idx = self.slot_index(frame);
        self.slots[idx].frame = i64::MIN;
        self.delay_sum_ns += u128::from(tick.saturating_sub(self.slots[idx].arrival_ns));
        self.in_dtx = self.slots[idx].payload.len() <= DTX_MAX_BYTES;
        Some(Playout::Play(&self.slots[idx].payload))
    }

    /// Moves playout `n` frames on.
    fn advance(&mut self, n: u64) {
        self.next_frame += n as i64;
        self.played_history = if n >= 64 { 0 } else { self.played_history << n };
    }

    /// The first buffered frame after `frame`, within the ring.
    fn first_buffered_after(&self, frame: i64) -> Option<i64> {
        (frame + 1..frame + self.slots.len() as i64).find(|&f| self.has(f))
    }

    fn adjustment(&mut self, tick: u64) -> Adjust {
        let (Some(min), Some(q)) = (self.target.min_offset(), self.target.quantile_ns()) else {
            return Adjust::Hold;
        };
        let c = &self.cfg;
        let need =
            (q.max(0) as u64).clamp(c.min_delay_ns, c.max_delay_ns.max(c.min_delay_ns)) as i64;
        // Playout offset: tick of the frame due minus that frame's media time.
        let playout_offset = tick as i64 - self.next_frame * c.frame_ns as i64;
        let headroom = playout_offset - min;
        let frame = c.frame_ns as i64;
        if headroom < need {
            Adjust::Stretch
        } else if headroom - frame >= need
            && self.has(self.next_frame)
            && self.has(self.next_frame + 1)
        {
            Adjust::Shrink
        } else {
            Adjust::Hold
        }
    }

    /// Frames played from a packet.
    pub fn frames_played(&self) -> u64 {
        self.played
    }

    /// Ticks concealed (the frame due was missing).
    pub fn frames_concealed(&self) -> u64 {
        self.concealed
    }

    /// Extra frames generated to grow the buffer (adaptive mode).
    pub fn frames_stretched(&self) -> u64 {
        self.stretched
    }

    /// Frames dropped to shrink the buffer (adaptive mode).
    pub fn frames_shrunk(&self) -> u64 {
        self.shrunk
    }

    /// Missing frames rebuilt from the next packet's in-band FEC.
    pub fn frames_recovered(&self) -> u64 {
        self.recovered
    }

    /// Ticks of comfort noise during the sender's DTX pauses.
    pub fn frames_silent(&self) -> u64 {
        self.silent
    }

    /// Packets that arrived after their frame's tick.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Packets for a frame already buffered or played.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Playout resynchronisations after timestamp jumps.
    pub fn resyncs(&self) -> u64 {
        self.resyncs
    }

    /// Mean time from a played packet's arrival to its tick, ms; None before any was played.
    pub fn mean_delay_ms(&self) -> Option<f64> {
        (self.played > 0).then(|| self.delay_sum_ns as f64 / self.played as f64 / 1e6)
    }
}

enum Adjust {
    Hold,
    Stretch,
    Shrink,
}

#[cfg(test)]
#[path = "jitter_buffer_tests.rs"]
mod tests;
