//! Receive-side jitter buffer: orders packets and decides, every 20 ms, what is played.
//!
//! Packets go in with their arrival time, sequence number, RTP timestamp and payload. Playout
//! starts at the first packet's arrival plus the target delay and then ticks every 20 ms; tick
//! *k* plays the frame whose RTP timestamp is the first packet's + *k* × 960. At each tick
//! [`JitterBuffer::pop`] says what the decoder should do:
//! - [`Playout::Play`] with the frame's payload, or
//! - [`Playout::Conceal`] when the frame is missing (lost, or not here yet: a packet that then
//!   arrives after its tick is counted **late** and discarded), or
//! - [`Playout::Stretch`] (adaptive mode only): one extra frame of decoder-generated audio that
//!   adds 20 ms of buffering; it is not concealment of a loss.
//!
//! A packet arriving exactly at its tick's time is on time if the caller inserts it before
//! calling `pop` for that time. Duplicates are discarded and counted. Memory is bounded: a ring
//! of `capacity_frames` payload buffers (default 50, 1 s), reused without reallocation.
//! A packet more than the ring ahead of playout (a timestamp jump) resynchronises playout to it.
//!
//! # Adaptive mode (optional, off by default)
//! Each packet's *delay variation* is its arrival minus its RTP-timestamp time, relative to the
//! smallest such offset among the last `history` packets (the least-delayed recent packet). Once
//! per `interval_ns` of playout the buffer compares its current headroom (how late a packet can
//! be, relative to that least-delayed one, and still play) with the `quantile` of recent
//! variation, bounded to `[min_delay_ns, max_delay_ns]`: if the headroom is short it stretches
//! by one frame; if it exceeds the need by a whole frame and the next two frames are both
//! buffered, it drops one frame (counted `shrunk`, not late). One step per interval keeps it
//! simple and audible changes rare.
//!
//! Mean buffer delay is webrtc-stats' `jitterBufferDelay / jitterBufferEmittedCount`: the mean
//! time from a played packet's arrival to its tick.
//!
//! # Example
//! ```
//! use callharness::agent::media::jitter_buffer::{JitterBuffer, JitterBufferConfig, Playout};
//! let mut jb = JitterBuffer::new(JitterBufferConfig::default()); // 40 ms target
//! const MS: u64 = 1_000_000;
//! for i in 0..10u32 {
//!     if i == 4 { continue; } // lost
//!     jb.insert(i as u64 * 20 * MS + 30 * MS, i as u16, i * 960, &[i as u8]);
//! }
//! let mut played = Vec::new();
//! while let Some(t) = jb.next_tick() {
//!     if t > 300 * MS { break; }
//!     match jb.pop(t).unwrap() {
//!         Playout::Play(p) => played.push(p[0] as i32),
//!         Playout::Conceal => played.push(-1),
//!         Playout::Stretch => {}
//!     }
//! }
//! assert_eq!(&played[..10], &[0, 1, 2, 3, -1, 5, 6, 7, 8, 9]);
//! ```

/// Settings of the adaptive mode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptiveConfig {
    /// Smallest headroom the buffer keeps, ns.
    pub min_delay_ns: u64,
    /// Largest headroom the buffer grows to, ns.
    pub max_delay_ns: u64,
    /// Quantile of recent delay variation to cover (0..=1).
    pub quantile: f64,
    /// Packets of delay-variation history.
    pub history: usize,
    /// Playout time between adjustments, ns.
    pub interval_ns: u64,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        AdaptiveConfig {
            min_delay_ns: 20_000_000,
            max_delay_ns: 200_000_000,
            quantile: 0.95,
            history: 128,
            interval_ns: 1_000_000_000,
        }
    }
}

/// Jitter-buffer settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JitterBufferConfig {
    /// Delay from the first packet's arrival to the first tick, ns (40 ms).
    pub target_delay_ns: u64,
    /// Frame duration and tick interval, ns (20 ms).
    pub frame_ns: u64,
    /// RTP timestamp units per frame (960 at 48 kHz).
    pub samples_per_frame: u32,
    /// RTP clock rate, Hz (48 000).
    pub clock_rate: u32,
    /// Payload buffers in the ring (frames of look-ahead), at least 2.
    pub capacity_frames: usize,
    /// Adaptive mode; None for a fixed delay.
    pub adaptive: Option<AdaptiveConfig>,
}

impl Default for JitterBufferConfig {
    fn default() -> Self {
        JitterBufferConfig {
            target_delay_ns: 40_000_000,
            frame_ns: 20_000_000,
            samples_per_frame: 960,
            clock_rate: 48_000,
            capacity_frames: 50,
            adaptive: None,
        }
    }
}

/// What to play at one tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Playout<'a> {
    /// Decode this payload.
    Play(&'a [u8]),
    /// The frame is missing: run loss concealment.
    Conceal,
    /// Adaptive growth: generate one extra frame (not a loss).
    Stretch,
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
    // Counters.
    played: u64,
    concealed: u64,
    stretched: u64,
    shrunk: u64,
    late: u64,
    duplicates: u64,
    resyncs: u64,
    delay_sum_ns: u128,
    // Adaptive state.
    offsets_ns: Vec<i64>,
    offsets_pos: usize,
    last_adjust_ns: u64,
}

impl JitterBuffer {
    /// An empty buffer; playout starts with the first packet.
    pub fn new(cfg: JitterBufferConfig) -> Self {
        let cap = cfg.capacity_frames.max(2);
        let history = cfg.adaptive.map_or(0, |a| a.history.max(1));
        JitterBuffer {
            cfg: JitterBufferConfig {
                capacity_frames: cap,
                ..cfg
            },
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
            played: 0,
            concealed: 0,
            stretched: 0,
            shrunk: 0,
            late: 0,
            duplicates: 0,
            resyncs: 0,
            delay_sum_ns: 0,
            offsets_ns: Vec::with_capacity(history),
            offsets_pos: 0,
            last_adjust_ns: 0,
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &JitterBufferConfig {
        &self.cfg
    }

    fn frame_of(&self, rtp_ts: u32) -> i64 {
        i64::from(rtp_ts.wrapping_sub(self.base_ts) as i32)
            .div_euclid(i64::from(self.cfg.samples_per_frame.max(1)))
    }

    fn slot_index(&self, frame: i64) -> usize {
        frame.rem_euclid(self.slots.len() as i64) as usize
    }

    /// Hands one packet to the buffer. The sequence number is not needed for ordering (the
    /// RTP timestamp is) and is accepted for symmetry with the receiver statistics.
    pub fn insert(&mut self, arrival_ns: u64, _seq: u16, rtp_ts: u32, payload: &[u8]) -> Insert {
        if !self.started {
            self.started = true;
            self.base_ts = rtp_ts;
            self.next_frame = 0;
            self.next_tick_ns = arrival_ns + self.cfg.target_delay_ns;
            self.last_adjust_ns = self.next_tick_ns;
        }
        let frame = self.frame_of(rtp_ts);
        self.note_offset(arrival_ns, frame);
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
            // A timestamp jump past the ring: play this packet after the target delay.
            self.resyncs += 1;
            for s in &mut self.slots {
                s.frame = i64::MIN;
            }
            let lead = self.cfg.target_delay_ns.div_ceil(self.cfg.frame_ns.max(1)) as i64;
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

    fn note_offset(&mut self, arrival_ns: u64, frame: i64) {
        let Some(a) = self.cfg.adaptive else {
            return;
        };
        let offset = arrival_ns as i64 - frame * self.cfg.frame_ns as i64;
        if self.offsets_ns.len() < a.history.max(1) {
            self.offsets_ns.push(offset);
        } else {
            self.offsets_ns[self.offsets_pos] = offset;
            self.offsets_pos = (self.offsets_pos + 1) % self.offsets_ns.len();
        }
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
        if let Some(a) = self.cfg.adaptive {
            if tick >= self.last_adjust_ns + a.interval_ns {
                self.last_adjust_ns = tick;
                match self.adjustment(tick, &a) {
                    Adjust::Stretch => {
                        self.stretched += 1;
                        return Some(Playout::Stretch);
                    }
                    Adjust::Shrink => {
                        let idx = self.slot_index(self.next_frame);
                        self.slots[idx].frame = i64::MIN;
                        self.shrunk += 1;
                        self.played_history <<= 1;
                        self.next_frame += 1;
                    }
                    Adjust::Hold => {}
                }
            }
        }
        let frame = self.next_frame;
        self.next_frame += 1;
        self.played_history <<= 1;
        let idx = self.slot_index(frame);
        if self.slots[idx].frame == frame {
            self.slots[idx].frame = i64::MIN;
            self.played_history |= 1;
            self.played += 1;
            self.delay_sum_ns += u128::from(tick.saturating_sub(self.slots[idx].arrival_ns));
            Some(Playout::Play(&self.slots[idx].payload))
        } else {
            self.concealed += 1;
            Some(Playout::Conceal)
        }
    }

    fn adjustment(&self, tick: u64, a: &AdaptiveConfig) -> Adjust {
        if self.offsets_ns.is_empty() {
            return Adjust::Hold;
        }
        let min = *self.offsets_ns.iter().min().unwrap_or(&0);
        let mut var: Vec<i64> = self.offsets_ns.iter().map(|o| o - min).collect();
        var.sort_unstable();
        let q = ((var.len() - 1) as f64 * a.quantile.clamp(0.0, 1.0)).round() as usize;
        let need =
            (var[q].max(0) as u64).clamp(a.min_delay_ns, a.max_delay_ns.max(a.min_delay_ns)) as i64;
        // Playout offset: tick of frame k minus frame k's timestamp time.
        let playout_offset = tick as i64 - self.next_frame * self.cfg.frame_ns as i64;
        let headroom = playout_offset - min;
        let frame = self.cfg.frame_ns as i64;
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

    fn has(&self, frame: i64) -> bool {
        self.slots[self.slot_index(frame)].frame == frame
    }

    /// Frames played from a packet.
    pub fn frames_played(&self) -> u64 {
        self.played
    }

    /// Frames concealed (missing at their tick).
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
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// Inserts packets (send index, extra delay ms) and drains ticks up to `until_ms`;
    /// returns what each tick did: frame payload byte, -1 for conceal, -2 for stretch.
    fn run(jb: &mut JitterBuffer, packets: &[(u32, u64)], until_ms: u64) -> Vec<i32> {
        let mut events: Vec<(u64, Option<u32>)> = packets
            .iter()
            .map(|&(i, d)| (u64::from(i) * 20 * MS + 20 * MS + d * MS, Some(i)))
            .collect();
        events.sort_by_key(|e| e.0);
        let mut out = Vec::new();
        let mut k = 0;
        let mut now = 0;
        while now <= until_ms * MS {
            // Packets due before the next tick, then the tick.
            let tick = jb.next_tick().unwrap_or(u64::MAX);
            if k < events.len() && events[k].0 <= tick {
                let (t, i) = events[k];
                let i = i.unwrap_or(0);
                jb.insert(t, i as u16, i * 960, &[i as u8]);
                now = t;
                k += 1;
                continue;
            }
            if tick == u64::MAX || tick > until_ms * MS {
                break;
            }
            now = tick;
            match jb.pop(now).unwrap() {
                Playout::Play(p) => out.push(i32::from(p[0])),
                Playout::Conceal => out.push(-1),
                Playout::Stretch => out.push(-2),
            }
        }
        out
    }

    #[test]
    fn in_order_no_concealment() {
        let mut jb = JitterBuffer::new(JitterBufferConfig::default());
        let pk: Vec<(u32, u64)> = (0..100).map(|i| (i, 0)).collect();
        let out = run(&mut jb, &pk, 20 + 40 + 99 * 20);
        assert_eq!(out, (0..100).collect::<Vec<i32>>());
        assert_eq!(jb.frames_concealed(), 0);
        assert_eq!(jb.late(), 0);
        assert_eq!(jb.mean_delay_ms(), Some(40.0));
    }

    #[test]
    fn missing_packet_exactly_one_conceal() {
        let mut jb = JitterBuffer::new(JitterBufferConfig::default());
        let pk: Vec<(u32, u64)> = (0..50).filter(|&i| i != 17).map(|i| (i, 0)).collect();
        let out = run(&mut jb, &pk, 20 + 40 + 49 * 20);
        assert_eq!(out.len(), 50);
        assert_eq!(out.iter().filter(|&&x| x == -1).count(), 1);
        assert_eq!(out[17], -1);
        assert_eq!(jb.frames_concealed(), 1);
        assert_eq!(jb.late(), 0);
    }

    #[test]
    fn packet_later_than_target_is_late_and_concealed() {
        let mut jb = JitterBuffer::new(JitterBufferConfig::default());
        // Packet 10 is 60 ms late: its tick is at 20+40+200 = 260 ms, it arrives at 280 ms.
        let pk: Vec<(u32, u64)> = (0..30).map(|i| (i, if i == 10 { 60 } else { 0 })).collect();
        let out = run(&mut jb, &pk, 20 + 40 + 29 * 20);
        assert_eq!(out[10], -1);
        assert_eq!(jb.late(), 1);
        assert_eq!(jb.frames_concealed(), 1);
        assert_eq!(jb.frames_played(), 29);
        // 40 ms late is still on time (arrives with its tick).
        let mut jb = JitterBuffer::new(JitterBufferConfig::default());
        let pk: Vec<(u32, u64)> = (0..30).map(|i| (i, if i == 10 { 40 } else { 0 })).collect();
        let out = run(&mut jb, &pk, 20 + 40 + 29 * 20);
        assert_eq!(out[10], 10);
        assert_eq!(jb.late(), 0);
    }

    #[test]
    fn reorder_within_target_is_played_in_order() {
        let mut jb = JitterBuffer::new(JitterBufferConfig::default());
        let pk = [(0, 0), (1, 0), (2, 30), (3, 0), (4, 0), (5, 0)];
        let out = run(&mut jb, &pk, 20 + 40 + 5 * 20);
        assert_eq!(out, vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn duplicates_discarded() {
        let mut jb = JitterBuffer::new(JitterBufferConfig::default());
        assert_eq!(jb.insert(0, 0, 0, &[0]), Insert::Buffered);
        assert_eq!(jb.insert(MS, 0, 0, &[0]), Insert::Duplicate);
        assert!(matches!(jb.pop(40 * MS), Some(Playout::Play(_))));
        assert_eq!(jb.insert(41 * MS, 0, 0, &[0]), Insert::Duplicate); // already played
        assert!(matches!(jb.pop(60 * MS), Some(Playout::Conceal)));
        assert_eq!(jb.insert(61 * MS, 1, 960, &[1]), Insert::Late); // concealed, then arrived
        assert_eq!(jb.duplicates(), 2);
        assert_eq!(jb.late(), 1);
    }

    #[test]
    fn timestamp_jump_resyncs() {
        let mut jb = JitterBuffer::new(JitterBufferConfig::default());
        jb.insert(0, 0, 0, &[0]);
        assert_eq!(jb.insert(20 * MS, 1, 960 * 1000, &[1]), Insert::Resync);
        let mut out = Vec::new();
        while let Some(t) = jb.next_tick() {
            if t > 200 * MS {
                break;
            }
            out.push(matches!(jb.pop(t), Some(Playout::Play(_))));
        }
        assert!(out.iter().any(|&p| p));
        assert_eq!(jb.resyncs(), 1);
    }

    #[test]
    fn adaptive_grows_under_jitter_and_stays_bounded() {
        let cfg = JitterBufferConfig {
            target_delay_ns: 20 * MS,
            adaptive: Some(AdaptiveConfig::default()),
            ..JitterBufferConfig::default()
        };
        let mut jb = JitterBuffer::new(cfg);
        // Every 5th packet is 70 ms late: a fixed 20 ms buffer would lose 20 %.
        let pk: Vec<(u32, u64)> = (0..1500)
            .map(|i| (i, if i % 5 == 2 { 70 } else { 0 }))
            .collect();
        run(&mut jb, &pk, 20 * 1510);
        assert!(jb.frames_stretched() >= 3, "{}", jb.frames_stretched());
        assert!(jb.frames_stretched() <= 12);
        // Once grown, the late packets stop: far fewer than 300 late.
        assert!(jb.late() < 60, "{}", jb.late());
        let fixed = {
            let mut jb = JitterBuffer::new(JitterBufferConfig {
                target_delay_ns: 20 * MS,
                ..JitterBufferConfig::default()
            });
            run(&mut jb, &pk, 20 * 1510);
            jb.late()
        };
        assert_eq!(fixed, 300);
    }

    #[test]
    fn adaptive_shrinks_when_jitter_stops() {
        let cfg = JitterBufferConfig {
            target_delay_ns: 160 * MS,
            adaptive: Some(AdaptiveConfig::default()),
            ..JitterBufferConfig::default()
        };
        let mut jb = JitterBuffer::new(cfg);
        let pk: Vec<(u32, u64)> = (0..1000).map(|i| (i, 0)).collect();
        run(&mut jb, &pk, 20 * 1000);
        assert!(jb.frames_shrunk() >= 5, "{}", jb.frames_shrunk());
        assert_eq!(jb.late(), 0);
        assert_eq!(jb.frames_concealed(), 0);
    }
}
