//! What a link did, counted as it happens: packets and bytes in, accepted, delivered (when they
//! leave the link), dropped by reason, still inside; queue high-water marks; cross-traffic;
//! and the same per second of simulated time.
//!
//! "Delivered" means the packet left the link, to the next link or to its host: the network
//! counts it at that moment ([`crate::net::Link::count_delivered`]), so packets still queued
//! or propagating when the run ends are not delivered but `in_flight`. A [`crate::net::Link`]
//! used on its own, whose owner never reports departures, counts its packets as `accepted`.
//!
//! ```
//! use callharness::net::{Link, PacketMeta, DirectionConfig};
//! let cfg: DirectionConfig = serde_yaml::from_str("{delay: 100ms}").unwrap();
//! let mut link = Link::new(&cfg, 1).unwrap();
//! link.transmit(0, &PacketMeta { size: 200 });
//! let c = link.counters_at(50_000_000); // half way
//! assert_eq!((c.packets_in, c.accepted, c.delivered, c.in_flight), (1, 1, 0, 1));
//! link.count_delivered(100_000_000, 200); // what the network does when it leaves
//! let c = link.counters_at(100_000_000);
//! assert_eq!((c.delivered, c.delivered_bytes, c.in_flight), (1, 200, 0));
//! assert_eq!(c.series[0].delivered, 1);
//! ```

use crate::net::cross_run::CrossFlowCounters;
use crate::net::link::DropReason;
use crate::net::Nanos;
use std::fmt;

/// What a link did: packets and bytes in and out, drops by reason, what is still inside,
/// queue high-water marks, cross-traffic separately, and a per-second series.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkCounters {
    /// The link's name ("alice.up", "core:hq->branch", "site:home.down").
    pub name: String,
    /// Packets offered to the link (cross-traffic excluded).
    pub packets_in: u64,
    /// Bytes offered (IP sizes, before overhead).
    pub bytes_in: u64,
    /// Packets that passed the link's models and were given a departure time (delivered
    /// since, still inside, or lost inside later).
    pub accepted: u64,
    /// Packets that left the link, to the next link or the host, by the time the counters
    /// were read (duplicates not counted).
    pub delivered: u64,
    /// Bytes that left the link (IP sizes).
    pub delivered_bytes: u64,
    /// Drops by reason, indexed in [`DropReason::ALL`] order.
    pub dropped: [u64; DropReason::COUNT],
    /// Packets inside the link (queued or propagating) when the counters were read:
    /// `packets_in - delivered - dropped`.
    pub in_flight: u64,
    /// Packets (fragments, on the wire) in the link's queue, or being sent, when the counters
    /// were read, cross-traffic included.
    pub queued_packets: u64,
    /// Bytes on the wire in the link's queue when the counters were read, cross-traffic
    /// included.
    pub queued_bytes: u64,
    /// Extra copies made by duplication.
    pub duplicates: u64,
    /// Packets that had to be fragmented (larger than the MTU after overhead).
    pub fragmented: u64,
    /// Retransmissions under TCP encapsulation (losses turned into delay).
    pub retransmissions: u64,
    /// Most packets the queue held at once.
    pub queue_hwm_packets: u64,
    /// Most bytes the queue held at once.
    pub queue_hwm_bytes: u64,
    /// Longest wait a packet had before its turn, ns.
    pub queue_hwm_wait: Nanos,
    /// Cross-traffic packets offered.
    pub cross_in: u64,
    /// Cross-traffic packets that left the link (filled in by the network from its flows).
    pub cross_delivered: u64,
    /// Cross-traffic packets dropped (any reason).
    pub cross_dropped: u64,
    /// Each cross-traffic flow on this link (filled in by the network).
    pub cross_flows: Vec<CrossFlowCounters>,
    /// One entry per second of simulated time, from second 0 to the last second the link
    /// saw a packet.
    pub series: Vec<LinkSecond>,
}

impl LinkCounters {
    /// Drops for one reason.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason as usize]
    }
    /// Drops for all reasons.
    pub fn total_dropped(&self) -> u64 {
        self.dropped.iter().sum()
    }
}

impl fmt::Display for LinkCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: in {} pkts / {} B, accepted {}, delivered {} pkts / {} B, in flight {}, dropped",
            self.name,
            self.packets_in,
            self.bytes_in,
            self.accepted,
            self.delivered,
            self.delivered_bytes,
            self.in_flight
        )?;
        for r in DropReason::ALL {
            write!(f, " {}={}", r, self.dropped(r))?;
        }
        write!(
            f,
            ", queue max {} pkts / {} B / {:.1} ms",
            self.queue_hwm_packets,
            self.queue_hwm_bytes,
            self.queue_hwm_wait as f64 / 1e6
        )
    }
}

/// One second of one link.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkSecond {
    /// Second index from the start of the run.
    pub t: u64,
    /// Packets offered in this second (cross-traffic excluded).
    pub packets_in: u64,
    /// Packets that left the link in this second.
    pub delivered: u64,
    /// Packets dropped in this second (any reason).
    pub dropped: u64,
    /// Most packets the queue held at an arrival in this second (cross-traffic included).
    pub queue_hwm_packets: u64,
    /// Longest wait before its turn of a packet that arrived in this second, ns.
    pub queue_hwm_wait: Nanos,
}

const SECOND: Nanos = 1_000_000_000;

/// The running totals a second's counts are the differences of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    packets_in: u64,
    delivered: u64,
    dropped: u64,
}

impl Totals {
    /// The totals of `c` now.
    #[inline]
    pub(crate) fn of(c: &LinkCounters) -> Totals {
        Totals {
            packets_in: c.packets_in,
            delivered: c.delivered,
            dropped: c.total_dropped(),
        }
    }
}

/// The per-second series as it is built: finished seconds, and where the current one started.
/// Nothing is counted per packet: when a second ends, its counts are the running totals'
/// differences, so the link's hot path only compares the time with the second's end.
#[derive(Debug, Clone, Default)]
pub(crate) struct SecondBins {
    done: Vec<LinkSecond>,
    /// The current second's index.
    t: u64,
    /// The totals when the current second started.
    start: Totals,
    /// When the current second ends (0 before the first packet).
    end: Nanos,
}

impl SecondBins {
    /// Makes the second holding `now` current. `at_close` gives the running totals and the
    /// queue's high-water marks (packets, wait ns) since the last call; it is called only
    /// when a second ends, before anything of `now` is counted.
    #[inline]
    pub(crate) fn touch(&mut self, now: Nanos, at_close: impl FnOnce() -> (Totals, (u64, Nanos))) {
        if now >= self.end {
            self.roll(now, at_close);
        }
    }

    #[cold]
    fn roll(&mut self, now: Nanos, at_close: impl FnOnce() -> (Totals, (u64, Nanos))) {
        let (totals, marks) = at_close();
        if self.end > 0 {
            let closed = self.second(totals, marks);
            self.done.push(closed);
        }
        let t = now / SECOND;
        let from = self.done.len() as u64;
        self.done.extend((from..t).map(|t| LinkSecond {
            t,
            ..LinkSecond::default()
        }));
        self.t = t;
        self.start = totals;
        self.end = (t + 1).saturating_mul(SECOND);
    }

    /// The current second as it stands, given the totals and queue marks now.
    fn second(&self, totals: Totals, marks: (u64, Nanos)) -> LinkSecond {
        LinkSecond {
            t: self.t,
            packets_in: totals.packets_in - self.start.packets_in,
            delivered: totals.delivered - self.start.delivered,
            dropped: totals.dropped - self.start.dropped,
            queue_hwm_packets: marks.0,
            queue_hwm_wait: marks.1,
        }
    }

    /// The whole series, the current second completed with the totals and the queue's marks
    /// so far.
    pub(crate) fn snapshot(&self, totals: Totals, marks: (u64, Nanos)) -> Vec<LinkSecond> {
        let mut v = self.done.clone();
        if self.end > 0 {
            v.push(self.second(totals, marks));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(packets_in: u64, delivered: u64, dropped: u64) -> Totals {
        Totals {
            packets_in,
            delivered,
            dropped,
        }
    }

    #[test]
    fn seconds_are_differences_of_the_totals_and_get_their_queue_marks() {
        let mut b = SecondBins::default();
        // Nothing counted before the first packet, at 1.5 s.
        b.touch(1_500_000_000, || (totals(0, 0, 0), (0, 0)));
        b.touch(1_900_000_000, || unreachable!("same second"));
        // Two packets in, one out during second 1; the next event is at 4 s.
        b.touch(4_000_000_000, || (totals(2, 1, 0), (7, 30)));
        let s = b.snapshot(totals(3, 1, 1), (2, 10));
        let t: Vec<u64> = s.iter().map(|x| x.t).collect();
        assert_eq!(t, vec![0, 1, 2, 3, 4]);
        assert_eq!(s[0], LinkSecond::default());
        let one = (
            s[1].packets_in,
            s[1].delivered,
            s[1].queue_hwm_packets,
            s[1].queue_hwm_wait,
        );
        assert_eq!(one, (2, 1, 7, 30));
        assert_eq!(
            s[2],
            LinkSecond {
                t: 2,
                ..LinkSecond::default()
            }
        );
        assert_eq!(
            (s[4].packets_in, s[4].dropped, s[4].queue_hwm_packets),
            (1, 1, 2)
        );
        assert!(SecondBins::default()
            .snapshot(totals(0, 0, 0), (0, 0))
            .is_empty());
    }
}
