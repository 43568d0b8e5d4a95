//! The bottleneck: a FIFO queue in front of a fixed-rate or trace-driven transmitter, with a
//! finite size and drop-tail or CoDel. Queueing delay emerges from capacity and load; it is
//! never configured.
//!
//! Because the queue is FIFO, a packet's departure time is known the moment it is enqueued:
//! it starts when the packet ahead of it has left (or now, if the queue is empty) and takes
//! `bytes × 8 / rate` (or the trace's next delivery opportunities). The model computes it at
//! enqueue and remembers the departure times of the packets still queued, which is exact for
//! drop-tail. CoDel decides at dequeue; its decision for a packet is run at that packet's
//! computed dequeue time, in FIFO order, which is the order a real CoDel would see. One part is
//! approximated: CoDel's "backlog no more than one MTU" exemption uses the bytes queued ahead of
//! the packet when it arrives (the packets that will arrive behind it are not known yet).
//!
//! ```
//! use callharness::net::queue::{Bottleneck, QueueLimit};
//! use callharness::units::Rate;
//! let mut q = Bottleneck::rate(Rate::from_kbit(1000), "10pkt".parse().unwrap(), None);
//! // 1250 bytes at 1 Mbit/s take 10 ms; the second packet waits for the first.
//! assert_eq!(q.enqueue(0, 1250), Ok(10_000_000));
//! assert_eq!(q.enqueue(0, 1250), Ok(20_000_000));
//! ```

use crate::net::codel::Codel;
use crate::net::link::DropReason;
use crate::net::trace::TraceCursor;
use crate::net::Nanos;
use crate::units::Rate;
use std::collections::VecDeque;

pub use crate::net::queue_config::{AqmConfig, QueueLimit, QUEUE_EXPECTED};

/// What sets the pace at which packets leave.
#[derive(Debug, Clone)]
enum Capacity {
    /// No bottleneck: packets leave as they arrive, nothing queues.
    Unlimited,
    /// A fixed rate; `rem` carries the sub-nanosecond remainder so long runs do not drift.
    Rate { bps: u64, rem: u64 },
    /// Delivery opportunities from a Mahimahi trace.
    Trace(TraceCursor),
}

/// A FIFO bottleneck queue with its transmitter.
#[derive(Debug, Clone)]
pub struct Bottleneck {
    capacity: Capacity,
    limit: QueueLimit,
    codel: Option<Codel>,
    /// (time the packet leaves the queue, bytes) for every packet still in it, in FIFO order.
    queued: VecDeque<(Nanos, u32)>,
    queued_bytes: u64,
    /// When the last accepted packet has fully left.
    busy_until: Nanos,
    hwm_packets: u64,
    hwm_bytes: u64,
    hwm_wait: Nanos,
    /// High-water marks since the link last took them (packets, wait ns), for its series.
    period_packets: u64,
    period_wait: Nanos,
    /// How long the last accepted packet waited before its turn, ns.
    last_wait: Nanos,
}

impl Bottleneck {
    /// No capacity limit: every packet leaves when it arrives.
    pub fn unlimited() -> Bottleneck {
        Bottleneck::with(Capacity::Unlimited, QueueLimit::DEFAULT, None)
    }

    /// A fixed-rate transmitter with a queue of `limit` and optional CoDel.
    pub fn rate(rate: Rate, limit: QueueLimit, aqm: Option<AqmConfig>) -> Bottleneck {
        let cap = Capacity::Rate {
            bps: rate.bits_per_sec(),
            rem: 0,
        };
        Bottleneck::with(cap, limit, aqm)
    }

    /// A trace-driven transmitter with a queue of `limit` and optional CoDel.
    pub(crate) fn trace(
        cursor: TraceCursor,
        limit: QueueLimit,
        aqm: Option<AqmConfig>,
    ) -> Bottleneck {
        Bottleneck::with(Capacity::Trace(cursor), limit, aqm)
    }

    fn with(capacity: Capacity, limit: QueueLimit, aqm: Option<AqmConfig>) -> Bottleneck {
        let cap = match limit {
            QueueLimit::Packets(n) => (n as usize + 1).min(65_536),
            _ => 1024,
        };
        Bottleneck {
            capacity,
            limit,
            codel: match aqm {
                Some(AqmConfig::Codel { target, interval }) => Some(Codel::new(target, interval)),
                _ => None,
            },
            queued: VecDeque::with_capacity(cap),
            queued_bytes: 0,
            busy_until: 0,
            hwm_packets: 0,
            hwm_bytes: 0,
            hwm_wait: 0,
            period_packets: 0,
            period_wait: 0,
            last_wait: 0,
        }
    }

    /// Takes over the packets still queued in `old` (a phase change keeps the backlog), and
    /// the trace position if both follow the same trace.
    pub(crate) fn inherit(&mut self, old: Bottleneck) {
        if let (Capacity::Trace(new), Capacity::Trace(old)) = (&mut self.capacity, &old.capacity) {
            if new.same_trace(old) {
                *new = old.clone();
            }
        }
        self.queued = old.queued;
        self.queued_bytes = old.queued_bytes;
        self.busy_until = old.busy_until;
        self.hwm_packets = old.hwm_packets;
        self.hwm_bytes = old.hwm_bytes;
        self.hwm_wait = old.hwm_wait;
        self.period_packets = old.period_packets;
        self.period_wait = old.period_wait;
    }

    /// Offers a packet of `bytes` (on the wire) at `now`; returns when its last byte leaves, or
    /// why it was dropped (`Queue` for a full queue, `Codel` for an AQM drop).
    #[inline]
    pub fn enqueue(&mut self, now: Nanos, bytes: u32) -> Result<Nanos, DropReason> {
        if let Capacity::Unlimited = self.capacity {
            return Ok(now);
        }
        while let Some(&(leave, b)) = self.queued.front() {
            if leave > now {
                break;
            }
            self.queued.pop_front();
            self.queued_bytes -= u64::from(b);
        }
        let wait = self.busy_until.saturating_sub(now);
        let full = match self.limit {
            QueueLimit::Packets(n) => self.queued.len() >= n as usize,
            QueueLimit::Bytes(n) => self.queued_bytes + u64::from(bytes) > n,
            QueueLimit::Time(d) => wait > d.as_nanos(),
        };
        if full {
            return Err(DropReason::Queue);
        }
        let start = now + wait;
        if let Some(codel) = &mut self.codel {
            if codel.should_drop(start, wait, self.queued_bytes) {
                // The packet holds its place until CoDel takes it out at `start`.
                self.queued.push_back((start, bytes));
                self.queued_bytes += u64::from(bytes);
                return Err(DropReason::Codel);
            }
        }
        let leave = match &mut self.capacity {
            Capacity::Unlimited => now,
            Capacity::Rate { bps, rem } => {
                let bit_ns = u64::from(bytes) * 8_000_000_000 + *rem;
                *rem = bit_ns % *bps;
                start + bit_ns / *bps
            }
            // FIFO even right after a phase switched to another trace.
            Capacity::Trace(cursor) => cursor.serve(now, bytes).max(self.busy_until),
        };
        self.busy_until = leave;
        self.queued.push_back((leave, bytes));
        self.queued_bytes += u64::from(bytes);
        let len = self.queued.len() as u64;
        self.hwm_packets = self.hwm_packets.max(len);
        self.hwm_bytes = self.hwm_bytes.max(self.queued_bytes);
        self.hwm_wait = self.hwm_wait.max(wait);
        self.period_packets = self.period_packets.max(len);
        self.period_wait = self.period_wait.max(wait);
        self.last_wait = wait;
        Ok(leave)
    }

    /// The most packets, bytes and waiting time (ns) the queue has held.
    pub fn high_water(&self) -> (u64, u64, Nanos) {
        (self.hwm_packets, self.hwm_bytes, self.hwm_wait)
    }

    /// The most packets and the longest wait (ns) since the last call of
    /// [`Bottleneck::take_period_high_water`], without resetting them.
    pub fn period_high_water(&self) -> (u64, Nanos) {
        (self.period_packets, self.period_wait)
    }

    /// The most packets and the longest wait (ns) since the last call, then starts afresh
    /// (a link's per-second series).
    pub fn take_period_high_water(&mut self) -> (u64, Nanos) {
        let marks = self.period_high_water();
        self.period_packets = 0;
        self.period_wait = 0;
        marks
    }

    /// How long the last accepted packet (its last fragment) waited before its turn, ns: 0
    /// on a link without a bottleneck.
    pub fn last_wait(&self) -> Nanos {
        self.last_wait
    }

    /// Packets (fragments) and bytes on the wire still in the queue, or being sent, at `now`
    /// (cross-traffic included; for `now` no earlier than the last arrival; 0 gives the queue
    /// as the last arrival found it).
    pub fn queued_at(&self, now: Nanos) -> (u64, u64) {
        self.queued
            .iter()
            .filter(|(leave, _)| *leave > now)
            .fold((0, 0), |(n, b), (_, bytes)| (n + 1, b + u64::from(*bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Dur;

    const MS: u64 = 1_000_000;

    /// Offers `n` packets of `size` bytes every `gap` ns; returns (delivered bytes, last
    /// departure, drops, max sojourn) and checks FIFO order.
    fn offer(q: &mut Bottleneck, n: u64, size: u32, gap: u64) -> (u64, Nanos, u64, Nanos) {
        let (mut bytes, mut last, mut drops, mut sojourn) = (0, 0, 0, 0);
        for i in 0..n {
            let now = i * gap;
            match q.enqueue(now, size) {
                Ok(t) => {
                    assert!(t >= last, "FIFO order");
                    bytes += u64::from(size);
                    last = t;
                    sojourn = sojourn.max(t - now);
                }
                Err(_) => drops += 1,
            }
        }
        (bytes, last, drops, sojourn)
    }

    #[test]
    fn saturated_rate_limited_link_runs_at_capacity_with_the_queue_bounded() {
        // 2 Mbit/s offered as 1200-byte packets every 2.4 ms (4 Mbit/s, twice capacity) for
        // 100k packets. Throughput is exact by construction except for the start-up and the
        // final queue drain, so 1 % is a real check that no capacity is lost or invented.
        let mut q = Bottleneck::rate(Rate::from_kbit(2000), QueueLimit::Packets(50), None);
        let (bytes, last, drops, sojourn) = offer(&mut q, 100_000, 1200, 2_400_000);
        let bps = bytes as f64 * 8.0 / (last as f64 / 1e9);
        assert!((bps / 2e6 - 1.0).abs() < 0.01, "{bps}");
        assert!(
            drops > 45_000,
            "half the offered load must be dropped: {drops}"
        );
        let (hwm, _, _) = q.high_water();
        assert_eq!(hwm, 50, "queue limit respected and reached");
        // 50 packets of 4.8 ms each: no packet can spend more than 50 × 4.8 ms inside.
        assert!(sojourn <= 50 * 4_800_000, "{sojourn}");
    }

    #[test]
    fn byte_and_time_limits_hold() {
        let mut q = Bottleneck::rate(Rate::from_kbit(1000), QueueLimit::Bytes(30_000), None);
        offer(&mut q, 10_000, 1000, 1_000_000);
        assert!(q.high_water().1 <= 30_000);
        let mut q = Bottleneck::rate(Rate::from_kbit(1000), "100ms".parse().unwrap(), None);
        let (_, _, _, sojourn) = offer(&mut q, 10_000, 1000, 1_000_000);
        // A packet is accepted only if it waits ≤ 100 ms, then needs 8 ms to be sent.
        assert!(sojourn <= 108 * MS, "{sojourn}");
        assert!(q.high_water().2 <= 100 * MS && q.high_water().2 > 90 * MS);
    }

    #[test]
    fn an_idle_link_adds_only_serialisation_time() {
        let mut q = Bottleneck::rate(Rate::from_kbit(8000), QueueLimit::DEFAULT, None);
        assert_eq!(q.enqueue(5 * MS, 1000), Ok(6 * MS));
        assert_eq!(q.enqueue(50 * MS, 1000), Ok(51 * MS));
    }

    #[test]
    fn codel_keeps_the_standing_queue_near_target() {
        // 1 Mbit/s, 1000-byte packets (8 ms each) offered at 1.25× capacity with a deep
        // queue: drop-tail fills all 1000 packets (seconds of delay); CoDel must hold the
        // sojourn of delivered packets to tens of milliseconds at steady state.
        let run = |aqm| {
            let mut q = Bottleneck::rate(Rate::from_kbit(1000), QueueLimit::Packets(1000), aqm);
            let mut worst_late = 0;
            let mut drops = 0;
            for i in 0..20_000u64 {
                let now = i * 6_400_000;
                match q.enqueue(now, 1000) {
                    Ok(t) if i > 10_000 => worst_late = worst_late.max(t - now),
                    Err(r) => {
                        drops += 1;
                        assert!(aqm.is_none() || r == DropReason::Codel);
                    }
                    _ => {}
                }
            }
            (worst_late, drops)
        };
        let (tail, _) = run(None);
        let (codel, drops) = run(Some(AqmConfig::CODEL));
        assert!(
            tail > 5_000 * MS,
            "drop-tail builds a standing queue: {tail}"
        );
        assert!(codel < 150 * MS, "codel keeps the queue short: {codel}");
        // 20 % excess load must be shed: ~4000 of 20000 packets.
        assert!(drops > 3_000, "{drops}");
    }

    #[test]
    fn queue_limits_parse_and_explain_errors() {
        assert_eq!("50pkt".parse::<QueueLimit>(), Ok(QueueLimit::Packets(50)));
        assert_eq!(
            "30000B".parse::<QueueLimit>(),
            Ok(QueueLimit::Bytes(30_000))
        );
        assert_eq!(
            "100ms".parse::<QueueLimit>(),
            Ok(QueueLimit::Time(Dur::from_millis(100)))
        );
        let e = "50".parse::<QueueLimit>().unwrap_err();
        assert!(e.contains("like 50pkt, 30000B or 100ms"), "{e}");
        let a: AqmConfig = serde_yaml::from_str("codel").unwrap();
        assert_eq!(a, AqmConfig::CODEL);
        let a: AqmConfig = serde_yaml::from_str("{codel: {target: 10ms}}").unwrap();
        assert_eq!(
            a,
            AqmConfig::Codel {
                target: Dur::from_millis(10),
                interval: Dur::from_millis(100)
            }
        );
        assert!(serde_yaml::from_str::<AqmConfig>("red").is_err());
    }
}
