//! RTP receiver statistics for one stream (one SSRC), as RFC 3550 appendix A defines them.
//!
//! [`ReceiverStats`] is handed every RTP packet of a stream with its arrival time and keeps:
//! - sequence-number validity (A.1: probation, `MAX_DROPOUT`, `MAX_MISORDER`, 16-bit wraps,
//!   restart on a confirmed big jump);
//! - expected, received and lost counts, and RR-style report blocks with the fraction lost per
//!   interval (A.3);
//! - the interarrival jitter estimate J (A.8) at a given RTP clock rate, and every packet's
//!   delay variation |D| in an HdrHistogram (p50/p95/p99);
//! - duplicates (not counted as received: webrtc-rs retransmissions can duplicate), reordered
//!   packets, and the longest gap between consecutive arrivals (less the media time a DTX
//!   sender skipped on purpose: a timestamp jump with no sequence gap);
//! - a bitset of received/lost per sequence slot ([`LossRecord`], for RFC 3611 burst/gap
//!   metrics in [`burst`](crate::metrics::burst)) and the windowed checks and per-second series
//!   of [`window`](crate::metrics::window).
//!
//! Times are nanoseconds of the caller's clock (simulated or real); nothing here reads a clock.
//!
//! # Where this differs from the RFC's sample code, and why
//! - **Probation packets are counted.** The sample code drops the packets seen while the source
//!   is on probation, so a clean stream would report one packet fewer than was sent. Here the
//!   probation packets are held (at most 8) and, when the source validates, those lying up to
//!   `MAX_DROPOUT` before the validating packet are counted and `base_seq` is the earliest of
//!   them. A clean stream then reports `received == sent` and `lost == 0`, and a loss among the
//!   first packets is still seen.
//! - **Duplicates are not received.** A packet whose sequence slot is already marked received is
//!   counted in [`ReceiverStats::duplicates`] only (the sample code counts it, which can make
//!   `lost` negative). `lost` stays signed: a reordered packet from before `base_seq` is still
//!   counted as received, as the RFC does.
//! - **Counters carry across a restart.** When a big jump is confirmed the sequence state is
//!   re-initialised as `init_seq` says, but `expected` and `received` of the earlier segment are
//!   kept, so the totals cover the whole stream.
//! - **Jitter skips duplicates and discarded packets** (a retransmitted copy measures the
//!   retransmission, not the path) and starts afresh after a restart.
//!
//! # Example
//! ```
//! use callharness::metrics::receiver::{ReceiverConfig, ReceiverStats};
//! let mut rx = ReceiverStats::new(ReceiverConfig::default());
//! for i in 0..100u16 {
//!     if i == 50 { continue; } // one loss
//!     // 20 ms Opus frames (960 ticks at 48 kHz), 30 ms one-way delay.
//!     rx.on_packet(i as u64 * 20_000_000 + 30_000_000, 1000 + i, i as u32 * 960, 80);
//! }
//! rx.finish(None);
//! assert_eq!(rx.received(), 99);
//! assert_eq!(rx.lost(), 1);
//! assert!(rx.jitter_ms() < 1e-9);
//! ```

pub use crate::metrics::record::LossRecord;
use crate::metrics::window::{Slot, StreamWindows, WindowConfig};
use hdrhistogram::Histogram;

/// Packets in sequence before a new source is valid (RFC 3550 A.1).
pub const MIN_SEQUENTIAL: u32 = 2;
/// Largest forward jump still taken as "in order with a gap" (RFC 3550 A.1).
pub const MAX_DROPOUT: u16 = 3000;
/// Largest backward jump taken as a late or duplicate packet (RFC 3550 A.1).
pub const MAX_MISORDER: u16 = 100;

const SEQ_MOD: u64 = 1 << 16;
/// Internal extended sequence numbers start one cycle up, so a base before a wrap stays positive.
const CYCLE_BASE: u64 = SEQ_MOD;
/// Ring of not-yet-final slots; must exceed `MAX_MISORDER`.
const PENDING: usize = 128;
/// Probation packets held at most.
const PROBATION_HOLD: usize = 8;
const NO_BAD_SEQ: u32 = (SEQ_MOD + 1) as u32;

/// Settings of one stream's receiver statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// RTP clock rate, Hz (48 000 for Opus, always: RFC 7587).
    pub clock_rate: u32,
    /// Nominal packet interval, ns (20 ms): the send time given to a lost slot after the
    /// previous one.
    pub packet_interval_ns: u64,
    /// Window lengths of the windowed checks.
    pub windows: WindowConfig,
    /// Largest delay variation the histogram records, ms (larger values saturate).
    pub max_delay_variation_ms: u64,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        ReceiverConfig {
            clock_rate: 48_000,
            packet_interval_ns: 20_000_000,
            windows: WindowConfig::default(),
            max_delay_variation_ms: 30_000,
        }
    }
}

/// What the sequence check made of one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// The source is not valid yet; the packet is held and counted if the source validates.
    Probation,
    /// Counted as received, in order (possibly after a gap).
    InOrder,
    /// Counted as received, with a sequence number below the highest seen.
    Reordered,
    /// Its sequence slot was already received: counted as a duplicate only.
    Duplicate,
    /// A big jump not (yet) confirmed by the next packet: not counted.
    Discarded,
    /// A confirmed big jump: the sequence state restarted at this packet, which is counted.
    Restarted,
}

/// One RTCP reception report block's numbers (RFC 3550 6.4.1), from [`ReceiverStats::report_block`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// Lost / expected since the previous block, 8-bit fixed point (0..=255).
    pub fraction_lost: u8,
    /// Cumulative lost, clamped to the 24-bit signed range RTCP carries.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles << 16 | max_seq).
    pub extended_highest_seq: u32,
    /// Interarrival jitter, RTP timestamp units.
    pub jitter: u32,
}

#[derive(Debug, Clone, Copy)]
struct PendingSlot {
    slot: u64,
    send_ns: u64,
    jitter_us: u32,
}

#[derive(Debug, Clone, Copy)]
struct HeldPacket {
    seq: u16,
    send_ns: u64,
    jitter_us: u32,
}

/// RFC 3550 receiver statistics of one stream. See the module docs.
#[derive(Debug, Clone)]
pub struct ReceiverStats {
    cfg: ReceiverConfig,
    // A.1 sequence state.
    started: bool,
    valid: bool,
    probation: u32,
    max_seq: u16,
    bad_seq: u32,
    cycles: u64,
    base_ext: u64,
    seg_offset: u64,
    held: Vec<HeldPacket>,
    // A.3 counters.
    received: u64,
    expected_carried: u64,
    expected_prior: u64,
    received_prior: u64,
    duplicates: u64,
    reordered: u64,
    discarded: u64,
    restarts: u64,
    bytes: u64,
    // A.8 jitter, RTP units.
    jitter: f64,
    prev: Option<(u64, u32)>,
    variation_us: Histogram<u64>,
    // Arrival gaps.
    first_arrival_ns: Option<u64>,
    last_arrival_ns: u64,
    /// Sequence number, RTP timestamp and payload bytes of the last packet handed in.
    last_arrival: (u16, u32, usize),
    max_gap_ns: u64,
    // RTP timestamp extension and send-time anchor.
    ts_last: u32,
    ts_ext_last: i64,
    anchor_arrival_ns: u64,
    anchor_ext_ts: i64,
    // Per-slot records.
    record: LossRecord,
    pending: Vec<PendingSlot>,
    finalized: u64,
    last_send_ns: u64,
    windows: StreamWindows,
}

impl ReceiverStats {
    /// Statistics for a new stream; nothing received yet.
    pub fn new(cfg: ReceiverConfig) -> Self {
        let max_us = cfg.max_delay_variation_ms.max(1) * 1000;
        // Bounds 1 µs .. max with 2 significant digits: about 20 KiB of counters.
        let variation_us = Histogram::new_with_bounds(1, max_us.max(2), 2)
            .expect("static histogram bounds are valid");
        ReceiverStats {
            cfg,
            started: false,
            valid: false,
            probation: MIN_SEQUENTIAL,
            max_seq: 0,
            bad_seq: NO_BAD_SEQ,
            cycles: CYCLE_BASE,
            base_ext: CYCLE_BASE,
            seg_offset: 0,
            held: Vec::with_capacity(PROBATION_HOLD),
            received: 0,
            expected_carried: 0,
            expected_prior: 0,
            received_prior: 0,
            duplicates: 0,
            reordered: 0,
            discarded: 0,
            restarts: 0,
            bytes: 0,
            jitter: 0.0,
            prev: None,
            variation_us,
            first_arrival_ns: None,
            last_arrival_ns: 0,
            last_arrival: (0, 0, 0),
            max_gap_ns: 0,
            ts_last: 0,
            ts_ext_last: 0,
            anchor_arrival_ns: 0,
            anchor_ext_ts: 0,
            record: LossRecord::new(),
            pending: vec![
                PendingSlot {
                    slot: u64::MAX,
                    send_ns: 0,
                    jitter_us: 0,
                };
                PENDING
            ],
            finalized: 0,
            last_send_ns: 0,
            windows: StreamWindows::new(cfg.windows),
        }
    }

    /// The configuration this stream was created with.
    pub fn config(&self) -> &ReceiverConfig {
        &self.cfg
    }

    /// Hands one RTP packet to the statistics: arrival time (ns), sequence number, RTP
    /// timestamp and payload length (bytes). Returns what the sequence check made of it.
    pub fn on_packet(
        &mut self,
        arrival_ns: u64,
        seq: u16,
        rtp_ts: u32,
        payload_len: usize,
    ) -> PacketKind {
        match self.first_arrival_ns {
            None => self.first_arrival_ns = Some(arrival_ns),
            Some(_) => {
                let gap = arrival_ns.saturating_sub(self.last_arrival_ns);
                let gap = gap.saturating_sub(self.intended_pause_ns(seq, rtp_ts));
                self.max_gap_ns = self.max_gap_ns.max(gap);
            }
        }
        self.last_arrival_ns = self.last_arrival_ns.max(arrival_ns);
        self.last_arrival = (seq, rtp_ts, payload_len);

        if !self.started {
            self.started = true;
            self.max_seq = seq.wrapping_sub(1);
            self.probation = MIN_SEQUENTIAL;
            self.ts_last = rtp_ts;
            self.ts_ext_last = 0;
            self.anchor_arrival_ns = arrival_ns;
            self.anchor_ext_ts = 0;
        }
        let ext_ts = self.extend_ts(rtp_ts);
        let send_ns = self.send_ns(ext_ts);

        if !self.valid {
            return self.on_probation(arrival_ns, seq, rtp_ts, payload_len, send_ns);
        }

        let udelta = seq.wrapping_sub(self.max_seq);
        if udelta < MAX_DROPOUT {
            if udelta == 0 {
                self.duplicates += 1;
                return PacketKind::Duplicate;
            }
            if seq < self.max_seq {
                self.cycles += SEQ_MOD;
            }
            self.max_seq = seq;
            let ext = self.cycles + u64::from(seq);
            self.accept(arrival_ns, rtp_ts, payload_len, ext, send_ns);
            PacketKind::InOrder
        } else if u64::from(udelta) <= SEQ_MOD - u64::from(MAX_MISORDER) {
            if u32::from(seq) == self.bad_seq {
                self.restart(seq, arrival_ns, ext_ts);
                let send_ns = self.send_ns(ext_ts);
                self.accept(arrival_ns, rtp_ts, payload_len, self.base_ext, send_ns);
                PacketKind::Restarted
            } else {
                self.bad_seq = u32::from(seq.wrapping_add(1));
                self.discarded += 1;
                PacketKind::Discarded
            }
        } else {
            let back = u64::from(self.max_seq.wrapping_sub(seq));
            let ext = self.ext_max() - back;
            if ext >= self.base_ext && self.record.is_received(self.slot_of(ext)) {
                self.duplicates += 1;
                return PacketKind::Duplicate;
            }
            self.reordered += 1;
            if ext >= self.base_ext {
                self.accept(arrival_ns, rtp_ts, payload_len, ext, send_ns);
            } else {
                // Before base_seq: counted as received (RFC), but has no slot.
                self.received += 1;
                self.bytes += payload_len as u64;
                let j = self.update_jitter(arrival_ns, rtp_ts);
                self.windows.on_arrival(arrival_ns, payload_len, j);
            }
            PacketKind::Reordered
        }
    }

    fn on_probation(
        &mut self,
        arrival_ns: u64,
        seq: u16,
        rtp_ts: u32,
        payload_len: usize,
        send_ns: u64,
    ) -> PacketKind {
        let jitter_us = self.update_jitter(arrival_ns, rtp_ts);
        self.windows.on_arrival(arrival_ns, payload_len, jitter_us);
        self.bytes += payload_len as u64;
        if seq == self.max_seq.wrapping_add(1) {
            self.probation -= 1;
            self.max_seq = seq;
            if self.probation == 0 {
                self.validate(seq, send_ns, jitter_us);
                return PacketKind::InOrder;
            }
        } else {
            self.probation = MIN_SEQUENTIAL - 1;
            self.max_seq = seq;
        }
        if self.held.len() == PROBATION_HOLD {
            self.held.remove(0);
            self.discarded += 1;
        }
        self.held.push(HeldPacket {
            seq,
            send_ns,
            jitter_us,
        });
        PacketKind::Probation
    }

    /// The source became valid at `seq`: count the held probation packets just before it.
    fn validate(&mut self, seq: u16, send_ns: u64, jitter_us: u32) {
        self.valid = true;
        self.cycles = CYCLE_BASE;
        self.max_seq = seq;
        self.bad_seq = NO_BAD_SEQ;
        let ext_v = CYCLE_BASE + u64::from(seq);
        let mut held = std::mem::take(&mut self.held);
        let dist = |p: &HeldPacket| seq.wrapping_sub(p.seq);
        let before = |p: &HeldPacket| (1..MAX_DROPOUT).contains(&dist(p));
        let max_dist = held
            .iter()
            .filter(|p| before(p))
            .map(dist)
            .max()
            .unwrap_or(0);
        self.base_ext = ext_v - u64::from(max_dist);
        self.seg_offset = self.record.len();
        // Oldest first, so the pending ring fills in slot order.
        held.sort_by_key(|p| std::cmp::Reverse(dist(p)));
        for p in &held {
            if !before(p) {
                self.discarded += 1;
                continue;
            }
            let slot = self.slot_of(ext_v - u64::from(dist(p)));
            if self.record.is_received(slot) {
                self.duplicates += 1;
                continue;
            }
            self.received += 1;
            self.mark(slot, p.send_ns, p.jitter_us);
        }
        held.clear();
        self.held = held;
        self.received += 1;
        self.mark(self.slot_of(ext_v), send_ns, jitter_us);
    }

    /// RFC 3550 `init_seq` on a confirmed jump, keeping the earlier segment's totals.
    fn restart(&mut self, seq: u16, arrival_ns: u64, ext_ts: i64) {
        let end = self.record.len();
        self.finalize_below(end);
        self.expected_carried += self.ext_max() - self.base_ext + 1;
        self.seg_offset = end;
        self.cycles = CYCLE_BASE;
        self.max_seq = seq;
        self.base_ext = CYCLE_BASE + u64::from(seq);
        self.bad_seq = NO_BAD_SEQ;
        self.restarts += 1;
        self.prev = None;
        self.anchor_arrival_ns = arrival_ns;
        self.anchor_ext_ts = ext_ts;
    }

    fn accept(&mut self, arrival_ns: u64, rtp_ts: u32, payload_len: usize, ext: u64, send_ns: u64) {
        self.received += 1;
        self.bytes += payload_len as u64;
        let jitter_us = self.update_jitter(arrival_ns, rtp_ts);
        self.windows.on_arrival(arrival_ns, payload_len, jitter_us);
        let slot = self.slot_of(ext);
        self.mark(slot, send_ns, jitter_us);
    }

    /// Marks `slot` received and parks it in the pending ring until it is final.
    fn mark(&mut self, slot: u64, send_ns: u64, jitter_us: u32) {
        self.record.set(slot);
        // Slots more than MAX_MISORDER behind can no longer change: hand them to the windows.
        self.finalize_below(slot.saturating_sub(u64::from(MAX_MISORDER) - 1));
        self.pending[(slot % PENDING as u64) as usize] = PendingSlot {
            slot,
            send_ns,
            jitter_us,
        };
    }

    /// Hands every slot below `end` (exclusive) to the windows.
    fn finalize_below(&mut self, end: u64) {
        while self.finalized < end.min(self.record.len()) {
            let s = self.finalized;
            let p = self.pending[(s % PENDING as u64) as usize];
            let slot = if p.slot == s {
                Slot {
                    send_ns: p.send_ns,
                    received: true,
                    jitter_us: Some(p.jitter_us),
                }
            } else {
                Slot {
                    send_ns: self.last_send_ns + self.cfg.packet_interval_ns,
                    received: false,
                    jitter_us: None,
                }
            };
            self.last_send_ns = slot.send_ns.max(self.last_send_ns);
            self.windows.push_slot(slot);
            self.finalized += 1;
        }
    }

    /// Media time the sender meant to skip between the previous packet and this one, ns: the
    /// timestamp step beyond one packet interval per sequence step (a DTX pause: the timestamp
    /// jumps, the sequence number does not). 0 for a stream that never pauses.
    fn intended_pause_ns(&self, seq: u16, rtp_ts: u32) -> u64 {
        let (prev_seq, prev_ts, _) = self.last_arrival;
        let seq_steps = i64::from(seq.wrapping_sub(prev_seq) as i16);
        let ts_step = i64::from(rtp_ts.wrapping_sub(prev_ts) as i32);
        if seq_steps <= 0 || ts_step <= 0 {
            return 0;
        }
        let media_ns = ts_step as i128 * 1_000_000_000 / i128::from(self.cfg.clock_rate.max(1));
        let nominal = i128::from(seq_steps) * i128::from(self.cfg.packet_interval_ns);
        (media_ns - nominal).max(0) as u64
    }

    /// RFC 3550 A.8: updates J with this packet's |D|; returns J in µs.
    fn update_jitter(&mut self, arrival_ns: u64, rtp_ts: u32) -> u32 {
        let rate = f64::from(self.cfg.clock_rate);
        if let Some((prev_arrival, prev_ts)) = self.prev {
            let d_arrival = (i128::from(arrival_ns) - i128::from(prev_arrival)) as f64 * rate / 1e9;
            let d_ts = f64::from(rtp_ts.wrapping_sub(prev_ts) as i32);
            let d = (d_arrival - d_ts).abs();
            self.jitter += (d - self.jitter) / 16.0;
            self.variation_us
                .saturating_record((d * 1e6 / rate).round() as u64);
        }
        self.prev = Some((arrival_ns, rtp_ts));
        (self.jitter * 1e6 / rate).round() as u32
    }

    fn extend_ts(&mut self, ts: u32) -> i64 {
        let ext = self.ts_ext_last + i64::from(ts.wrapping_sub(self.ts_last) as i32);
        self.ts_last = ts;
        self.ts_ext_last = ext;
        ext
    }

    /// Send time of an extended RTP timestamp on the receiver's clock, ns.
    fn send_ns(&self, ext_ts: i64) -> u64 {
        let delta = i128::from(ext_ts - self.anchor_ext_ts) * 1_000_000_000
            / i128::from(self.cfg.clock_rate.max(1));
        (i128::from(self.anchor_arrival_ns) + delta).max(0) as u64
    }

    fn ext_max(&self) -> u64 {
        self.cycles + u64::from(self.max_seq)
    }

    fn slot_of(&self, ext: u64) -> u64 {
        self.seg_offset + ext - self.base_ext
    }

    /// Ends the stream: hands the last slots to the windows and completes the series. When
    /// `flow_end_ns` is given (the time by which the last packet should have arrived), the time
    /// from the last arrival to it counts as an arrival gap, unless that last packet was a DTX
    /// frame (2 bytes or less: the sender went quiet on purpose). Call once, after the last
    /// packet.
    pub fn finish(&mut self, flow_end_ns: Option<u64>) {
        if let Some(end) = flow_end_ns {
            if self.first_arrival_ns.is_some()
                && self.last_arrival.2 > crate::agent::media::codec::DTX_MAX_BYTES
            {
                self.max_gap_ns = self
                    .max_gap_ns
                    .max(end.saturating_sub(self.last_arrival_ns));
            }
        }
        self.finalize_below(self.record.len());
        let end = self.last_send_ns + self.cfg.packet_interval_ns;
        self.windows.finish(end);
    }

    /// RFC 3550 A.3 report block: cumulative numbers, and the fraction lost since the previous
    /// call (which this call advances).
    pub fn report_block(&mut self) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        self.expected_prior = expected;
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            // 256 when every packet was lost: clamp to the field's 255.
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        ReportBlock {
            fraction_lost,
            cumulative_lost: self.lost().clamp(-0x80_0000, 0x7f_ffff) as i32,
            extended_highest_seq: if self.valid {
                (self.ext_max() - CYCLE_BASE) as u32
            } else {
                0
            },
            jitter: self.jitter as u32,
        }
    }

    /// Packets expected: highest extended sequence number - base + 1, over all segments.
    pub fn expected(&self) -> u64 {
        let current = if self.valid {
            self.ext_max() - self.base_ext + 1
        } else {
            0
        };
        self.expected_carried + current
    }

    /// Unique packets received (duplicates excluded; probation packets counted once valid).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Cumulative lost, `expected - received` (signed, RFC 3550 A.3).
    pub fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// Lost as a percentage of expected (0 when nothing was expected; never negative).
    pub fn loss_pct(&self) -> f64 {
        let expected = self.expected();
        if expected == 0 {
            0.0
        } else {
            self.lost().max(0) as f64 * 100.0 / expected as f64
        }
    }

    /// Packets whose sequence slot had already been received.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Packets received with a sequence number below the highest seen.
    pub fn reordered(&self) -> u64 {
        self.reordered
    }

    /// Packets the sequence check did not count (unconfirmed big jumps, stray probation packets).
    pub fn discarded(&self) -> u64 {
        self.discarded
    }

    /// Confirmed sequence restarts.
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// RTP payload bytes of counted packets.
    pub fn bytes_received(&self) -> u64 {
        self.bytes
    }

    /// True once the source passed probation.
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// The RFC 3550 interarrival jitter estimate J, RTP timestamp units.
    pub fn jitter_rtp(&self) -> f64 {
        self.jitter
    }

    /// The RFC 3550 interarrival jitter estimate J, ms (a smoothed mean of |D|, not a standard
    /// deviation).
    pub fn jitter_ms(&self) -> f64 {
        self.jitter * 1000.0 / f64::from(self.cfg.clock_rate)
    }

    /// Quantile `q` (0..=1) of per-packet delay variation |D|, ms (0 before two packets).
    pub fn delay_variation_ms(&self, q: f64) -> f64 {
        if self.variation_us.is_empty() {
            0.0
        } else {
            self.variation_us.value_at_quantile(q) as f64 / 1000.0
        }
    }

    /// Median per-packet delay variation |D|, ms.
    pub fn delay_variation_p50_ms(&self) -> f64 {
        self.delay_variation_ms(0.50)
    }

    /// 95th percentile of per-packet delay variation |D|, ms.
    pub fn delay_variation_p95_ms(&self) -> f64 {
        self.delay_variation_ms(0.95)
    }

    /// 99th percentile of per-packet delay variation |D|, ms.
    pub fn delay_variation_p99_ms(&self) -> f64 {
        self.delay_variation_ms(0.99)
    }

    /// The |D| histogram itself (µs), for merging across streams or shards.
    pub fn delay_variation_histogram(&self) -> &Histogram<u64> {
        &self.variation_us
    }

    /// Longest time between consecutive arrivals, less any intended DTX pause between them
    /// (and, after `finish(Some(end))`, from the last arrival to `end`), ms.
    pub fn max_gap_ms(&self) -> f64 {
        self.max_gap_ns as f64 / 1e6
    }

    /// Arrival time of the first packet, ns.
    pub fn first_arrival_ns(&self) -> Option<u64> {
        self.first_arrival_ns
    }

    /// Arrival time of the latest packet, ns.
    pub fn last_arrival_ns(&self) -> Option<u64> {
        self.first_arrival_ns.map(|_| self.last_arrival_ns)
    }

    /// Received/lost per sequence slot since `base_seq`, across restarts.
    pub fn loss_record(&self) -> &LossRecord {
        &self.record
    }

    /// Windowed maxima and per-second series (complete after [`ReceiverStats::finish`]).
    pub fn windows(&self) -> &StreamWindows {
        &self.windows
    }

    /// Approximate heap memory held by these statistics, bytes (for the per-call budget).
    pub fn memory_bytes(&self) -> usize {
        self.variation_us.distinct_values() * std::mem::size_of::<u64>()
            + self.record.memory_bytes()
            + self.pending.capacity() * std::mem::size_of::<PendingSlot>()
            + self.held.capacity() * std::mem::size_of::<HeldPacket>()
            + self.windows.memory_bytes()
    }

    /// Mutable windows, for the caller to fill the series' RTT and MOS slots.
    pub fn windows_mut(&mut self) -> &mut StreamWindows {
        &mut self.windows
    }
}

#[cfg(test)]
#[path = "receiver_tests.rs"]
mod tests;
