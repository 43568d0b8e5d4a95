//! One direction of a link: the models of a [`DirectionConfig`] composed in the order a packet
//! meets them, with counters of everything the link did.
//!
//! Order: outage → MTU (fragment or drop) → bottleneck queue (rate or trace; drop-tail or
//! CoDel) → loss (on the wire, after the packet used capacity) → propagation delay and jitter →
//! reordering rule → corruption → duplication.
//!
//! Choices worth knowing:
//! - A corrupted packet is dropped with reason `corrupt`: a UDP datagram whose bits flipped fails
//!   its checksum and the receiving stack discards it, so no application ever sees it.
//! - A duplicate gets its own jitter draw; under `reorder: forbid` it arrives no earlier than
//!   the original.
//! - Under `encapsulation: tcp` (a VPN over TCP) nothing is lost: each loss or corruption costs a
//!   retransmission delay (`tcp_retransmit`, default 200 ms, repeated if the retransmission is
//!   lost too), packets are always delivered in order, so the packets behind a retransmitted one
//!   wait for it (head-of-line blocking), and there are no duplicates. Retransmissions are not
//!   charged against the link's capacity.
//!
//! ```
//! use callharness::net::{Link, PacketMeta, Transmit, DirectionConfig};
//! let cfg: DirectionConfig = serde_yaml::from_str("{delay: 20ms, rate: 1Mbit, queue: 50pkt}").unwrap();
//! let mut link = Link::new(&cfg, 42).unwrap();
//! // 1250 bytes at 1 Mbit/s: 10 ms on the wire, then 20 ms of propagation.
//! assert_eq!(link.transmit(0, &PacketMeta { size: 1250 }), Transmit::Delivered { at: 30_000_000, duplicate: None });
//! ```

use crate::net::config::{DirectionConfig, Encapsulation, Reorder};
use crate::net::delay::DelayModel;
use crate::net::error::NetError;
pub use crate::net::link_counters::{LinkCounters, LinkSecond};
use crate::net::link_counters::{SecondBins, Totals};
use crate::net::loss::LossModel;
use crate::net::mtu::Fragments;
use crate::net::queue::{Bottleneck, QueueLimit};
use crate::net::rng::chance;
use crate::net::trace::{TraceCache, TraceCursor};
use crate::net::Nanos;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use std::fmt;

/// Why a packet did not arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DropReason {
    /// Lost on the wire (a loss model's decision).
    Loss,
    /// The bottleneck queue was full (tail drop).
    Queue,
    /// CoDel dropped it to keep the queue short.
    Codel,
    /// Larger than the MTU with don't-fragment set.
    Mtu,
    /// The link was down.
    Outage,
    /// A firewall rule blocked it.
    Firewall,
    /// Sent to an address the destination host no longer has.
    AddressChanged,
    /// No host has the destination address.
    NoRoute,
    /// Corrupted in transit (and discarded by the receiver's checksum).
    Corrupt,
    /// Sent from another site to a private address of a site behind a NAT (not routable
    /// from outside it).
    PrivateAddress,
    /// Reached a NAT's public address on a port with no live mapping (never made, or
    /// expired), or left a NAT that had no free port for it.
    NatNoMapping,
    /// Reached a NAT's public address on a mapped port whose filter refused its source.
    NatFiltered,
    /// Sent to its own site's public address by a NAT without hairpinning.
    NatHairpin,
}

impl DropReason {
    /// Number of reasons (the length of the counters' array).
    pub const COUNT: usize = 13;
    /// Every reason, in the fixed order counters print them.
    pub const ALL: [DropReason; DropReason::COUNT] = [
        DropReason::Loss,
        DropReason::Queue,
        DropReason::Codel,
        DropReason::Mtu,
        DropReason::Outage,
        DropReason::Firewall,
        DropReason::AddressChanged,
        DropReason::NoRoute,
        DropReason::Corrupt,
        DropReason::PrivateAddress,
        DropReason::NatNoMapping,
        DropReason::NatFiltered,
        DropReason::NatHairpin,
    ];

    /// The reason's name in reports: `loss`, `queue`, `codel`, `mtu`, `outage`, `firewall`,
    /// `address-changed`, `no-route`, `corrupt`, `private-address`, `nat-no-mapping`,
    /// `nat-filtered`, `nat-hairpin`.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Queue => "queue",
            DropReason::Codel => "codel",
            DropReason::Mtu => "mtu",
            DropReason::Outage => "outage",
            DropReason::Firewall => "firewall",
            DropReason::AddressChanged => "address-changed",
            DropReason::NoRoute => "no-route",
            DropReason::Corrupt => "corrupt",
            DropReason::PrivateAddress => "private-address",
            DropReason::NatNoMapping => "nat-no-mapping",
            DropReason::NatFiltered => "nat-filtered",
            DropReason::NatHairpin => "nat-hairpin",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the link needs to know about a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketMeta {
    /// The packet's IP size in bytes (IP and transport headers included).
    pub size: u32,
}

/// The fate of one packet on one link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transmit {
    /// Leaves the link at `at` (ns); a duplicate copy, if any, at `duplicate`.
    Delivered {
        /// When the packet comes out of the link.
        at: Nanos,
        /// When a duplicate copy comes out, if the link duplicated it.
        duplicate: Option<Nanos>,
    },
    /// Dropped, for this reason.
    Dropped(DropReason),
}

/// One direction of a link.
#[derive(Debug, Clone)]
pub struct Link {
    cfg: DirectionConfig,
    rng: Xoshiro256PlusPlus,
    delay: DelayModel,
    loss: LossModel,
    queue: Bottleneck,
    overhead: u32,
    mtu: Option<u32>,
    dont_fragment: bool,
    duplicate: f64,
    corrupt: f64,
    in_order: bool,
    tcp_retransmit: Option<Nanos>,
    last_delivery: Nanos,
    outage: (Nanos, Nanos),
    counters: LinkCounters,
    series: SecondBins,
}

/// Retransmissions tried before a TCP tunnel gives a packet up as lost (bounds the loop when
/// loss is 100 %).
const MAX_RETRANSMISSIONS: u32 = 15;

impl Link {
    /// A link from `cfg` with its own random stream from `seed`. Trace files are looked up in
    /// the trace's profile folder only; use [`Link::with_traces`] to give more folders.
    pub fn new(cfg: &DirectionConfig, seed: u64) -> Result<Link, NetError> {
        Link::with_traces(cfg, seed, &mut TraceCache::default())
    }

    /// A link from `cfg`, loading trace files through `traces`.
    pub fn with_traces(
        cfg: &DirectionConfig,
        seed: u64,
        traces: &mut TraceCache,
    ) -> Result<Link, NetError> {
        let mut link = Link {
            cfg: DirectionConfig::default(),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            delay: DelayModel::new(None, None),
            loss: LossModel::None,
            queue: Bottleneck::unlimited(),
            overhead: 0,
            mtu: None,
            dont_fragment: false,
            duplicate: 0.0,
            corrupt: 0.0,
            in_order: true,
            tcp_retransmit: None,
            last_delivery: 0,
            outage: (0, 0),
            counters: LinkCounters {
                name: "link".into(),
                ..LinkCounters::default()
            },
            series: SecondBins::default(),
        };
        link.configure(cfg.clone(), traces, false)?;
        Ok(link)
    }

    /// Names the link in its counters and error messages.
    pub fn named(mut self, name: &str) -> Link {
        self.counters.name = name.to_string();
        self
    }

    /// The link's name.
    pub fn name(&self) -> &str {
        &self.counters.name
    }

    /// The settings in force.
    pub fn config(&self) -> &DirectionConfig {
        &self.cfg
    }

    /// The base propagation delay, ns (no jitter, no queueing).
    pub fn base_delay(&self) -> Nanos {
        self.delay.base()
    }

    /// A phase change: the fields `change` sets replace the current ones from now on. The
    /// random stream, the queued packets and the in-order rule carry over.
    pub fn apply(
        &mut self,
        change: &DirectionConfig,
        traces: &mut TraceCache,
    ) -> Result<(), NetError> {
        let cfg = self.cfg.overlay(change);
        self.configure(cfg, traces, true)
    }

    /// A profile switch: `cfg` becomes the whole configuration from now on (fields it leaves
    /// out go back to ideal). The random stream and the queued packets carry over.
    pub fn replace(
        &mut self,
        cfg: &DirectionConfig,
        traces: &mut TraceCache,
    ) -> Result<(), NetError> {
        self.configure(cfg.clone(), traces, true)
    }

    fn configure(
        &mut self,
        cfg: DirectionConfig,
        traces: &mut TraceCache,
        keep_queue: bool,
    ) -> Result<(), NetError> {
        cfg.validate(&self.counters.name)?;
        let limit = cfg.queue.unwrap_or(QueueLimit::DEFAULT);
        let mut queue = match (&cfg.rate, &cfg.trace) {
            (Some(rate), _) => Bottleneck::rate(*rate, limit, cfg.aqm),
            (None, Some(spec)) => {
                Bottleneck::trace(TraceCursor::new(traces.get(spec)?), limit, cfg.aqm)
            }
            (None, None) => Bottleneck::unlimited(),
        };
        if keep_queue {
            let old = std::mem::replace(&mut self.queue, Bottleneck::unlimited());
            queue.inherit(old);
        }
        self.queue = queue;
        self.delay = DelayModel::new(cfg.delay, cfg.jitter.as_ref());
        self.loss = cfg.loss.as_ref().map_or(LossModel::None, LossModel::new);
        self.overhead = cfg.overhead.unwrap_or(0);
        self.mtu = cfg.mtu;
        self.dont_fragment = cfg.dont_fragment.unwrap_or(false);
        self.duplicate = cfg.duplicate.map_or(0.0, |p| p.fraction());
        self.corrupt = cfg.corrupt.map_or(0.0, |p| p.fraction());
        let tcp = cfg.encapsulation == Some(Encapsulation::Tcp);
        self.tcp_retransmit = tcp.then(|| cfg.tcp_retransmit.map_or(200_000_000, |d| d.as_nanos()));
        self.in_order = tcp
            || cfg
                .jitter
                .as_ref()
                .is_none_or(|j| j.reorder == Reorder::Forbid);
        self.cfg = cfg;
        Ok(())
    }

    /// Takes the link down from `from` until `until` (ns): packets entering meanwhile, and
    /// packets inside the link when it goes down, are dropped with reason `outage`.
    pub fn set_outage(&mut self, from: Nanos, until: Nanos) {
        self.outage = if from <= self.outage.1 && self.outage.0 < until {
            (self.outage.0.min(from), self.outage.1.max(until))
        } else {
            (from, until)
        };
    }

    /// True if the link was down at some moment in (entered, left]: a packet that was inside
    /// it then was lost.
    pub fn was_down_during(&self, entered: Nanos, left: Nanos) -> bool {
        self.outage.0 <= left && self.outage.1 > entered && self.outage.0 < self.outage.1
    }

    /// Sends one packet at `now` (calls come in non-decreasing `now`): when it comes out, or
    /// why it does not.
    #[inline]
    pub fn transmit(&mut self, now: Nanos, pkt: &PacketMeta) -> Transmit {
        self.tick(now);
        self.counters.packets_in += 1;
        self.counters.bytes_in += u64::from(pkt.size);
        if now >= self.outage.0 && now < self.outage.1 {
            return self.drop(DropReason::Outage);
        }
        let frags = Fragments::of(pkt.size, self.overhead, self.mtu);
        if frags.needed() {
            if self.dont_fragment {
                return self.drop(DropReason::Mtu);
            }
            self.counters.fragmented += 1;
        }
        let mut departure = now;
        let mut dropped = None;
        let mut extra = 0;
        for i in 0..frags.count {
            match self.queue.enqueue(now, frags.wire_size(i)) {
                Ok(t) => departure = t,
                Err(r) => {
                    dropped.get_or_insert(r);
                    continue;
                }
            }
            if self.loss.lose(&mut self.rng) {
                match self.tcp_retransmit {
                    None => {
                        dropped.get_or_insert(DropReason::Loss);
                    }
                    Some(rto) => extra += self.retransmit(rto),
                }
            }
        }
        if let Some(r) = dropped {
            return self.drop(r);
        }
        let mut at = departure + self.delay.sample(&mut self.rng) + extra;
        if chance(&mut self.rng, self.corrupt) {
            match self.tcp_retransmit {
                None => return self.drop(DropReason::Corrupt),
                Some(rto) => at += self.retransmit(rto),
            }
        }
        if self.in_order {
            at = at.max(self.last_delivery);
        }
        self.last_delivery = self.last_delivery.max(at);
        let mut duplicate = None;
        if self.tcp_retransmit.is_none() && chance(&mut self.rng, self.duplicate) {
            let mut dup = departure + self.delay.sample(&mut self.rng);
            if self.in_order {
                dup = dup.max(at);
            }
            self.last_delivery = self.last_delivery.max(dup);
            self.counters.duplicates += 1;
            duplicate = Some(dup);
        }
        self.counters.accepted += 1;
        Transmit::Delivered { at, duplicate }
    }

    /// Moves the per-second series to the second holding `now` (work only when a second
    /// ends: the series is the difference of the running totals).
    #[inline]
    fn tick(&mut self, now: Nanos) {
        let (c, queue) = (&self.counters, &mut self.queue);
        self.series
            .touch(now, || (Totals::of(c), queue.take_period_high_water()));
    }

    /// The delay until a retransmitted copy gets through: one timeout per try, each try lost
    /// again with the link's loss model.
    fn retransmit(&mut self, rto: Nanos) -> Nanos {
        let mut extra = rto;
        self.counters.retransmissions += 1;
        let mut tries = 1;
        while tries < MAX_RETRANSMISSIONS && self.loss.lose(&mut self.rng) {
            extra += rto;
            tries += 1;
            self.counters.retransmissions += 1;
        }
        extra
    }

    /// A cross-traffic packet of `size` bytes at `now`: takes capacity and queue space, may be
    /// lost. Returns when it leaves the link (its departure from the queue plus the base
    /// delay; no jitter is drawn for it), or why it was dropped. Counted apart from the link's
    /// own packets.
    pub fn transmit_cross(&mut self, now: Nanos, size: u32) -> Result<Nanos, DropReason> {
        self.tick(now);
        self.counters.cross_in += 1;
        let fate = if now >= self.outage.0 && now < self.outage.1 {
            Err(DropReason::Outage)
        } else {
            match self.queue.enqueue(now, size + self.overhead) {
                Err(r) => Err(r),
                Ok(_) if self.loss.lose(&mut self.rng) => Err(DropReason::Loss),
                Ok(leave) => Ok(leave + self.delay.base()),
            }
        };
        if fate.is_err() {
            self.counters.cross_dropped += 1;
        }
        fate
    }

    /// Counts a packet leaving the link at `now` (to the next link or its host): the network
    /// calls this when the packet's time to leave comes.
    #[inline]
    pub fn count_delivered(&mut self, now: Nanos, size: u32) {
        self.tick(now);
        self.counters.delivered += 1;
        self.counters.delivered_bytes += u64::from(size);
    }

    /// Counts a packet the link had accepted as dropped at `now`: lost inside (an outage while
    /// it was in the link) or refused where it came out (an address change, an inbound
    /// firewall).
    pub fn count_dropped_inside(&mut self, now: Nanos, reason: DropReason) {
        self.tick(now);
        self.counters.dropped[reason as usize] += 1;
    }

    /// Counts a packet that entered at `now` and was dropped before the link's models ran
    /// (firewall, no route, an old source address).
    pub fn count_dropped(&mut self, now: Nanos, size: u32, reason: DropReason) {
        self.tick(now);
        self.counters.packets_in += 1;
        self.counters.bytes_in += u64::from(size);
        self.counters.dropped[reason as usize] += 1;
    }

    fn drop(&mut self, reason: DropReason) -> Transmit {
        self.counters.dropped[reason as usize] += 1;
        Transmit::Dropped(reason)
    }

    /// How long the last packet this link accepted waited in its queue, ns (0 without a
    /// bottleneck).
    pub fn last_queue_wait(&self) -> Nanos {
        self.queue.last_wait()
    }

    /// The counters, with the queue as the last packet to arrive found it.
    pub fn counters(&self) -> LinkCounters {
        self.counters_at(0)
    }

    /// The counters as they stand at `now` (no earlier than the last time the link was used):
    /// what is still inside and queued then, the high-water marks, the per-second series.
    pub fn counters_at(&self, now: Nanos) -> LinkCounters {
        let (p, b, w) = self.queue.high_water();
        let (queued_packets, queued_bytes) = self.queue.queued_at(now);
        let c = &self.counters;
        LinkCounters {
            in_flight: c.packets_in.saturating_sub(c.delivered + c.total_dropped()),
            queued_packets,
            queued_bytes,
            queue_hwm_packets: p,
            queue_hwm_bytes: b,
            queue_hwm_wait: w,
            series: self
                .series
                .snapshot(Totals::of(c), self.queue.period_high_water()),
            ..c.clone()
        }
    }
}

#[cfg(test)]
#[path = "link_tests.rs"]
mod tests;
