//! Packet groups and the delay variation between consecutive ones (GCC draft section 5.2,
//! "pre-filtering"; libwebrtc's `InterArrivalDelta`).
//!
//! A group is what the sender put on the wire as one burst: packets whose departures fall within
//! [`BURST_SPAN`] of the group's first. A group's times are those of its last packet (its last
//! departure, its latest arrival). When the first packet of the next group is reported, the group
//! before it is complete and the variation between the two previous complete groups is
//! `d = (arrival delta) - (departure delta)`: zero on a path whose delay is constant, positive
//! while a queue on it grows, negative while one drains. The arrival clock is the receiver's;
//! only its differences are used, so its offset from ours does not matter.

/// Packets that left within this span of their group's first packet belong to the group, ns.
/// GCC draft section 5.2 (a 5 ms burst time); libwebrtc's `kSendTimeGroupLength` (5 ms).
pub const BURST_SPAN: u64 = 5_000_000;

/// A later packet still joins the group if it arrived within this of the group's last arrival
/// and was less delayed than it (the path held the packets and released them together), ns.
/// libwebrtc's `kBurstDeltaThreshold` (5 ms).
pub const BURST_ARRIVAL_GAP: u64 = 5_000_000;

/// The longest arrival span a group grown by arrival bursts may cover, ns. libwebrtc's
/// `kMaxBurstDuration` (100 ms).
pub const MAX_BURST: u64 = 100_000_000;

/// One group's span: departures on our clock, arrivals on the receiver's, ns.
#[derive(Debug, Clone, Copy)]
struct Group {
    first_departure: u64,
    last_departure: u64,
    first_arrival: u64,
    last_arrival: u64,
}

impl Group {
    fn new(departure: u64, arrival: u64) -> Self {
        Group {
            first_departure: departure,
            last_departure: departure,
            first_arrival: arrival,
            last_arrival: arrival,
        }
    }

    /// Whether a packet sent after this group's span belongs to it anyway, as part of a burst
    /// the path released at once (see [`BURST_ARRIVAL_GAP`] and [`MAX_BURST`]).
    fn takes_burst(&self, departure: u64, arrival: u64) -> bool {
        let arrival_delta = signed_ns(arrival, self.last_arrival);
        let departure_delta = signed_ns(departure, self.last_departure);
        arrival_delta < departure_delta
            && arrival_delta <= BURST_ARRIVAL_GAP as i64
            && signed_ns(arrival, self.first_arrival) < MAX_BURST as i64
    }
}

/// `later - earlier`, ns, signed (saturating at the ends of `i64`).
pub fn signed_ns(later: u64, earlier: u64) -> i64 {
    let d = i128::from(later) - i128::from(earlier);
    d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// ns to ms.
fn ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

/// The delay variation between two consecutive groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DelayVariation {
    /// The later group's last departure minus the earlier one's, ms.
    pub departure_delta_ms: f64,
    /// The later group's last arrival minus the earlier one's (receiver clock), ms.
    pub arrival_delta_ms: f64,
    /// The later group's last arrival, receiver clock, ns.
    pub arrival: u64,
}

impl DelayVariation {
    /// `d = arrival delta - departure delta`, ms.
    pub fn d_ms(&self) -> f64 {
        self.arrival_delta_ms - self.departure_delta_ms
    }
}

/// Sorts received packets, reported in send order, into groups; yields a [`DelayVariation`]
/// each time a group completes.
#[derive(Debug, Clone, Default)]
pub struct Grouper {
    current: Option<Group>,
    previous: Option<Group>,
}

impl Grouper {
    /// Takes one received packet (departure on our clock, arrival on the receiver's, ns).
    /// Returns the variation between the last two complete groups when this packet opens a new
    /// group and so completes the one before it; None otherwise, or when the complete group
    /// arrived before the one ahead of it (reordering: no sample).
    pub fn on_packet(&mut self, departure: u64, arrival: u64) -> Option<DelayVariation> {
        let Some(current) = self.current.as_mut() else {
            self.current = Some(Group::new(departure, arrival));
            return None;
        };
        if departure < current.first_departure {
            // Sent before the group it was reported after: a stray, not part of any burst.
            return None;
        }
        if departure - current.first_departure <= BURST_SPAN
            || current.takes_burst(departure, arrival)
        {
            current.last_departure = current.last_departure.max(departure);
            current.last_arrival = current.last_arrival.max(arrival);
            return None;
        }
        let complete = *current;
        self.current = Some(Group::new(departure, arrival));
        let previous = self.previous.replace(complete)?;
        let arrival_delta = signed_ns(complete.last_arrival, previous.last_arrival);
        if arrival_delta < 0 {
            return None;
        }
        Some(DelayVariation {
            departure_delta_ms: ms(signed_ns(complete.last_departure, previous.last_departure)),
            arrival_delta_ms: ms(arrival_delta),
            arrival: complete.last_arrival,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Grouper;

    const MS: u64 = 1_000_000;
    /// The receiver's clock runs this far ahead of ours, ns.
    const OFFSET: u64 = 7_000_000_000_000;

    /// Feeds `groups` bursts of five packets 1 ms apart, one burst every 20 ms, each packet
    /// delayed 30 ms plus `growth` ms per group; returns the variations, in ms, and how many
    /// packets yielded one.
    fn run(groups: u64, growth: u64) -> (Vec<(f64, f64, f64)>, usize) {
        let mut g = Grouper::default();
        let mut out = Vec::new();
        let mut yielded = 0;
        for k in 0..groups {
            for i in 0..5 {
                let departure = k * 20 * MS + i * MS;
                let arrival = departure + OFFSET + 30 * MS + k * growth * MS;
                if let Some(v) = g.on_packet(departure, arrival) {
                    yielded += 1;
                    out.push((v.departure_delta_ms, v.arrival_delta_ms, v.d_ms()));
                }
            }
        }
        (out, yielded)
    }

    #[test]
    fn a_five_ms_burst_is_one_group_and_constant_delay_gives_zero() {
        let (v, yielded) = run(6, 0);
        // Six groups: the 3rd..6th first packets each complete a group with one before it.
        assert_eq!(yielded, 4);
        for (dep, arr, d) in v {
            // 20 ms between the groups' last packets: all five packets of a burst in one group.
            assert!((dep - 20.0).abs() < 1e-9, "departure delta {dep}");
            assert!((arr - 20.0).abs() < 1e-9, "arrival delta {arr}");
            assert!(d.abs() < 1e-9, "d {d}");
        }
    }

    #[test]
    fn a_queue_growing_one_ms_per_group_gives_one_ms() {
        let (v, _) = run(6, 1);
        assert_eq!(v.len(), 4);
        for (dep, arr, d) in v {
            assert!((dep - 20.0).abs() < 1e-9);
            assert!((arr - 21.0).abs() < 1e-9);
            assert!((d - 1.0).abs() < 1e-9, "d {d}");
        }
    }

    #[test]
    fn packets_released_together_after_a_hold_join_the_group() {
        let mut g = Grouper::default();
        // Two packets 10 ms apart (two groups by departure), held by the path and delivered
        // 1 ms apart: one burst.
        assert!(g.on_packet(0, OFFSET + 50 * MS).is_none());
        assert!(g.on_packet(10 * MS, OFFSET + 51 * MS).is_none());
        // Then regular spacing again: groups at 30 and 50 ms.
        assert!(g.on_packet(30 * MS, OFFSET + 71 * MS).is_none());
        let v = g.on_packet(50 * MS, OFFSET + 91 * MS).expect("a variation");
        // Between the burst (last departure 10 ms, arrival 51 ms) and the group at 30 ms.
        assert!((v.departure_delta_ms - 20.0).abs() < 1e-9);
        assert!((v.arrival_delta_ms - 20.0).abs() < 1e-9);
    }
}
