//! What the listener heard: the record of every playout tick of a stream, and the playout loss
//! the E-model and the headline use.
//!
//! RFC 3550 loss counts packets that never arrived *before the last one that did*: a stream
//! whose path dies stays at the loss it had, whatever follows. What the listener hears is
//! different: every frame duration (20 ms by default) the jitter buffer plays a frame from a
//! packet, or conceals one because the frame due was lost, arrived too late, or never arrived
//! while the stream should have been flowing. [`PlayoutRecord`] keeps 2 bits per tick and
//! [`PlayoutRecord::summary`] turns the ticks up to a cut-off into:
//! - **playout loss** = concealed ticks / (played + concealed ticks) × 100: the harness's own
//!   metric, the `Ppl` of the E-model here (a late packet is as lost to the listener as a
//!   dropped one). A frame rebuilt from the next packet's FEC is recorded as played. Stretch
//!   ticks (adaptive growth) and silence ticks (comfort noise in the sender's DTX pauses:
//!   intended silence) are neither;
//! - the **longest concealment**, ms: the longest run of consecutive concealed ticks (a
//!   silence tick ends a run);
//! - RFC 3611 burst/gap metrics and the Markov `BurstR` over the played/concealed sequence;
//! - per-second played and concealed counts, by tick time.
//!
//! ```
//! use callharness::metrics::playout::{PlayoutRecord, Tick};
//! let mut r = PlayoutRecord::new(20_000_000);
//! for i in 0..100u64 {
//!     let t = 1_000_000_000 + i * 20_000_000;
//!     r.push(t, if (40..50).contains(&i) { Tick::Concealed } else { Tick::Played });
//! }
//! let s = r.summary(u64::MAX);
//! assert_eq!((s.played, s.concealed), (90, 10));
//! assert_eq!(s.loss_pct, 10.0);
//! assert_eq!(s.longest_concealment_ms, 200.0);
//! assert_eq!(s.per_second[0].t, 1);
//! ```

use crate::metrics::burst::{self, BurstGap};
use crate::metrics::record::LossRecord;

/// What one playout tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// A frame decoded from a packet.
    Played,
    /// Loss concealment: the frame due was missing.
    Concealed,
    /// Adaptive growth: an extra frame, not a loss.
    Stretched,
    /// Comfort noise in the sender's DTX pause: intended silence, not a loss.
    Silence,
}

/// One second of playout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayoutSecond {
    /// Second index of the tick times.
    pub t: u64,
    /// Ticks played from a packet.
    pub played: u32,
    /// Ticks concealed.
    pub concealed: u32,
}

impl PlayoutSecond {
    /// Concealed / (played + concealed) × 100; None for a second with neither.
    pub fn loss_pct(&self) -> Option<f64> {
        let n = self.played + self.concealed;
        (n > 0).then(|| f64::from(self.concealed) * 100.0 / f64::from(n))
    }
}

/// The playout of a stream up to a cut-off; see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayoutSummary {
    /// Ticks played from a packet.
    pub played: u64,
    /// Ticks concealed.
    pub concealed: u64,
    /// Stretch ticks.
    pub stretched: u64,
    /// Silence ticks (the sender's DTX pauses).
    pub silent: u64,
    /// Concealed / (played + concealed) × 100; 0 with no ticks.
    pub loss_pct: f64,
    /// Longest run of concealed ticks, ms.
    pub longest_concealment_ms: f64,
    /// RFC 3611 burst/gap metrics over played (received) / concealed (lost) ticks.
    pub bursts: BurstGap,
    /// Per-second counts, contiguous from the first tick's second.
    pub per_second: Vec<PlayoutSecond>,
}

/// The tick-by-tick record of one stream's playout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlayoutRecord {
    frame_ns: u64,
    first_tick_ns: Option<u64>,
    /// Bit per tick: played (with the `stretched` bit too: a silence tick).
    played: LossRecord,
    /// Bit per tick: a stretch tick (with the `played` bit too: a silence tick).
    stretched: LossRecord,
}

impl PlayoutRecord {
    /// An empty record for ticks `frame_ns` apart.
    pub fn new(frame_ns: u64) -> Self {
        PlayoutRecord {
            frame_ns: frame_ns.max(1),
            ..Default::default()
        }
    }

    /// Records the tick at `tick_ns` (ticks come `frame_ns` apart, in order).
    pub fn push(&mut self, tick_ns: u64, tick: Tick) {
        let first = *self.first_tick_ns.get_or_insert(tick_ns);
        let i = tick_ns.saturating_sub(first) / self.frame_ns;
        self.played.grow_to(i + 1);
        self.stretched.grow_to(i + 1);
        match tick {
            Tick::Played => self.played.set(i),
            Tick::Stretched => self.stretched.set(i),
            Tick::Silence => {
                self.played.set(i);
                self.stretched.set(i);
            }
            Tick::Concealed => {}
        }
    }

    /// What tick `i` (0 = the first) did.
    fn tick(&self, i: u64) -> Tick {
        match (self.played.is_received(i), self.stretched.is_received(i)) {
            (true, false) => Tick::Played,
            (false, true) => Tick::Stretched,
            (true, true) => Tick::Silence,
            (false, false) => Tick::Concealed,
        }
    }

    /// Time of the first tick, ns.
    pub fn first_tick_ns(&self) -> Option<u64> {
        self.first_tick_ns
    }

    /// Time of the last tick that played a frame, ns.
    pub fn last_played_ns(&self) -> Option<u64> {
        let first = self.first_tick_ns?;
        (0..self.len())
            .rev()
            .find(|&i| self.tick(i) == Tick::Played)
            .map(|i| first + i * self.frame_ns)
    }

    /// Ticks recorded.
    pub fn len(&self) -> u64 {
        self.played.len()
    }

    /// True before the first tick.
    pub fn is_empty(&self) -> bool {
        self.played.is_empty()
    }

    /// Heap memory, bytes.
    pub fn memory_bytes(&self) -> usize {
        self.played.memory_bytes() + self.stretched.memory_bytes()
    }

    /// The ticks at or before `cutoff_ns`, summarised.
    pub fn summary(&self, cutoff_ns: u64) -> PlayoutSummary {
        let first = self.first_tick_ns.unwrap_or(0);
        let n = match self.first_tick_ns {
            Some(f) if cutoff_ns >= f => ((cutoff_ns - f) / self.frame_ns + 1).min(self.len()),
            _ => 0,
        };
        let ticks = (0..n).map(|i| (first + i * self.frame_ns, self.tick(i)));
        let (mut played, mut concealed, mut stretched, mut silent) = (0u64, 0u64, 0u64, 0u64);
        let (mut run, mut longest) = (0u64, 0u64);
        let mut per_second: Vec<PlayoutSecond> = Vec::new();
        for (t, tick) in ticks.clone() {
            let sec = t / 1_000_000_000;
            let start = per_second.first().map_or(sec, |s| s.t);
            while per_second.len() as u64 <= sec - start {
                let t = start + per_second.len() as u64;
                per_second.push(PlayoutSecond {
                    t,
                    played: 0,
                    concealed: 0,
                });
            }
            let row = &mut per_second[(sec - start) as usize];
            match tick {
                Tick::Played => {
                    played += 1;
                    row.played += 1;
                    run = 0;
                }
                Tick::Concealed => {
                    concealed += 1;
                    row.concealed += 1;
                    run += 1;
                    longest = longest.max(run);
                }
                Tick::Stretched => stretched += 1,
                Tick::Silence => {
                    silent += 1;
                    run = 0;
                }
            }
        }
        let content = ticks.filter_map(|(_, t)| match t {
            Tick::Played => Some(true),
            Tick::Concealed => Some(false),
            Tick::Stretched | Tick::Silence => None,
        });
        let frame_ms = self.frame_ns as f64 / 1e6;
        let total = played + concealed;
        PlayoutSummary {
            played,
            concealed,
            stretched,
            silent,
            loss_pct: if total == 0 {
                0.0
            } else {
                concealed as f64 * 100.0 / total as f64
            },
            longest_concealment_ms: longest as f64 * frame_ms,
            bursts: burst::analyze_iter(content, burst::GMIN_DEFAULT, frame_ms),
            per_second,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn cutoff_and_stretch_ticks() {
        let mut r = PlayoutRecord::new(20 * MS);
        // 10 played, 1 stretch, 5 concealed, 4 played, then 10 trailing concealed.
        let mut t = 990 * MS;
        let mut push = |tick, k| {
            for _ in 0..k {
                r.push(t, tick);
                t += 20 * MS;
            }
        };
        push(Tick::Played, 10);
        push(Tick::Stretched, 1);
        push(Tick::Concealed, 5);
        push(Tick::Played, 4);
        push(Tick::Concealed, 10);
        let all = r.summary(u64::MAX);
        assert_eq!((all.played, all.concealed, all.stretched), (14, 15, 1));
        assert_eq!(all.longest_concealment_ms, 200.0);
        // Cut after the last played tick (index 19, at 990 + 19 × 20 = 1370 ms).
        let cut = r.summary(1370 * MS);
        assert_eq!((cut.played, cut.concealed, cut.stretched), (14, 5, 1));
        assert!((cut.loss_pct - 5.0 * 100.0 / 19.0).abs() < 1e-12);
        assert_eq!(cut.longest_concealment_ms, 100.0);
        // Seconds 0 (one tick at 990 ms) and 1.
        assert_eq!(cut.per_second.len(), 2);
        assert_eq!(
            cut.per_second[0],
            PlayoutSecond {
                t: 0,
                played: 1,
                concealed: 0
            }
        );
        assert_eq!(cut.per_second[1].played + cut.per_second[1].concealed, 18);
        assert_eq!(cut.bursts.lost, 5);
        assert!(cut.bursts.markov.burst_r > 1.0); // one run of five: bursty
        assert_eq!(r.summary(0).played, 0);
        assert_eq!(r.last_played_ns(), Some(1370 * MS));
        assert_eq!(PlayoutRecord::new(20 * MS).summary(u64::MAX).loss_pct, 0.0);
    }

    #[test]
    fn silence_ticks_are_neither_heard_nor_lost_and_end_a_concealment_run() {
        // 60 ms frames: 5 played, 2 concealed, 10 silent, 1 concealed, 2 played.
        let mut r = PlayoutRecord::new(60 * MS);
        let ticks = [
            (Tick::Played, 5),
            (Tick::Concealed, 2),
            (Tick::Silence, 10),
            (Tick::Concealed, 1),
            (Tick::Played, 2),
        ];
        let mut t = 0;
        for (tick, k) in ticks {
            for _ in 0..k {
                r.push(t, tick);
                t += 60 * MS;
            }
        }
        let s = r.summary(u64::MAX);
        assert_eq!(
            (s.played, s.concealed, s.silent, s.stretched),
            (7, 3, 10, 0)
        );
        assert!((s.loss_pct - 30.0).abs() < 1e-12, "{}", s.loss_pct);
        assert_eq!(
            s.longest_concealment_ms, 120.0,
            "two 60 ms ticks, not three"
        );
        assert_eq!(r.last_played_ns(), Some(19 * 60 * MS));
        assert_eq!(s.bursts.lost, 3);
    }
}
