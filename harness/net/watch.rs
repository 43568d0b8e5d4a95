//! Following chosen datagrams hop by hop: for each watched flow (source and destination
//! address), what it met on every link of its path: packets in, delivered, dropped by reason,
//! the wait in the link's queue, and the delay the link added beyond its propagation delay.
//! This is what lets a report say which link hurt a stream, not only that the network did.
//!
//! Off by default, and then it costs one branch per datagram sent and one per hop. On, the
//! caller's filter runs once per datagram sent; a watched datagram costs a map lookup when it
//! enters the network and a few additions per hop.
//!
//! ```
//! use callharness::net::{Network, NetworkConfig, Datagram};
//! let cfg: NetworkConfig = serde_yaml::from_str(r#"
//! sites: [{ name: lan }]
//! hosts:
//!   - { name: a, site: lan, addr: 10.0.0.2, access: { name: lossy, up: { loss: { random: { rate: 50% } } } } }
//!   - { name: b, site: lan, addr: 10.0.0.3 }
//! "#).unwrap();
//! let mut net: Network<u32> = Network::new(&cfg, 7, &[]).unwrap();
//! net.watch(|d| d.payload % 2 == 0); // follow the even-numbered packets only
//! let (a, b) = ("10.0.0.2:5000".parse().unwrap(), "10.0.0.3:5000".parse().unwrap());
//! for i in 0..1000 {
//!     net.send(i as u64 * 1_000_000, Datagram::udp(a, b, 100, i));
//!     net.advance(i as u64 * 1_000_000);
//! }
//! while let Some(t) = net.next_event() { net.advance(t); }
//! let flows = net.watched_flows();
//! let up = &flows[0].links[0];
//! assert_eq!((up.link.as_str(), up.packets_in), ("a.up", 500));
//! assert_eq!(up.delivered + up.total_dropped(), 500);
//! assert_eq!(flows[0].links[1].link, "b.down");
//! ```

use crate::net::datagram::Datagram;
use crate::net::link::DropReason;
use crate::net::Nanos;
use std::collections::BTreeMap;
use std::net::SocketAddrV4;

/// `watch` of a datagram nobody follows.
pub(crate) const NOT_WATCHED: u32 = u32::MAX;

/// What one watched flow's packets met on one link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowLinkStats {
    /// The link's name ("bob.up").
    pub link: String,
    /// The link's place on the flow's path (0 = the sender's uplink).
    pub hop: u8,
    /// The flow's packets that entered the link.
    pub packets_in: u64,
    /// The flow's packets that left it (to the next link or the host).
    pub delivered: u64,
    /// Drops by reason, indexed in [`DropReason::ALL`] order.
    pub dropped: [u64; DropReason::COUNT],
    /// Packets the link accepted (queue waits are summed over these).
    pub accepted: u64,
    /// Sum of the accepted packets' waits in the link's queue before their turn, ns.
    pub queue_wait_total: Nanos,
    /// Longest such wait, ns.
    pub queue_wait_max: Nanos,
    /// Sum over delivered packets of their time in the link beyond its base propagation
    /// delay (serialisation, queueing, jitter, retransmissions, waiting to keep order), ns.
    pub added_delay_total: Nanos,
    /// Largest such added delay, ns.
    pub added_delay_max: Nanos,
    /// Sum of |transit - previous transit| over consecutive delivered packets, ns.
    pub delay_variation_total: Nanos,
    /// Number of terms in `delay_variation_total`.
    pub delay_variation_count: u64,
}

impl FlowLinkStats {
    /// Drops for one reason.
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason as usize]
    }
    /// Drops for all reasons.
    pub fn total_dropped(&self) -> u64 {
        self.dropped.iter().sum()
    }
}

/// One watched flow: its addresses and each link of its path, in path order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchedFlow {
    /// Sender's address and port.
    pub src: SocketAddrV4,
    /// Receiver's address and port.
    pub dst: SocketAddrV4,
    /// What the flow met on each link it crossed, in path order.
    pub links: Vec<FlowLinkStats>,
}

/// One link of one flow while the network runs.
#[derive(Debug, Clone)]
struct Hop {
    link: u32,
    stats: FlowLinkStats,
    last_transit: Option<Nanos>,
}

/// The flows being followed.
pub(crate) struct Watch<P> {
    filter: fn(&Datagram<P>) -> bool,
    keys: BTreeMap<(SocketAddrV4, SocketAddrV4), u32>,
    flows: Vec<(SocketAddrV4, SocketAddrV4, Vec<Hop>)>,
}

impl<P> Watch<P> {
    pub(crate) fn new(filter: fn(&Datagram<P>) -> bool) -> Watch<P> {
        Watch {
            filter,
            keys: BTreeMap::new(),
            flows: Vec::new(),
        }
    }

    /// The flow index of `d`, or [`NOT_WATCHED`].
    #[inline]
    pub(crate) fn classify(&mut self, d: &Datagram<P>) -> u32 {
        if !(self.filter)(d) {
            return NOT_WATCHED;
        }
        let next = self.flows.len() as u32;
        let i = *self.keys.entry((d.src, d.dst)).or_insert(next);
        if i == next {
            self.flows.push((d.src, d.dst, Vec::new()));
        }
        i
    }

    fn hop(&mut self, flow: u32, link: usize, hop: u8) -> &mut Hop {
        let hops = &mut self.flows[flow as usize].2;
        let i = match hops.iter().position(|h| h.link as usize == link) {
            Some(i) => i,
            None => {
                hops.push(Hop {
                    link: link as u32,
                    stats: FlowLinkStats {
                        hop,
                        ..FlowLinkStats::default()
                    },
                    last_transit: None,
                });
                hops.len() - 1
            }
        };
        &mut hops[i]
    }

    /// A packet of `flow` entered `link` and was accepted after waiting `wait` ns in its queue.
    pub(crate) fn accepted(&mut self, flow: u32, link: usize, hop: u8, wait: Nanos) {
        let s = &mut self.hop(flow, link, hop).stats;
        s.packets_in += 1;
        s.accepted += 1;
        s.queue_wait_total += wait;
        s.queue_wait_max = s.queue_wait_max.max(wait);
    }

    /// A packet of `flow` left `link` after `transit` ns in it (`base` ns of which are the
    /// link's propagation delay).
    pub(crate) fn left(&mut self, flow: u32, link: usize, hop: u8, transit: Nanos, base: Nanos) {
        let h = self.hop(flow, link, hop);
        let s = &mut h.stats;
        s.delivered += 1;
        let added = transit.saturating_sub(base);
        s.added_delay_total += added;
        s.added_delay_max = s.added_delay_max.max(added);
        if let Some(prev) = h.last_transit {
            s.delay_variation_total += transit.abs_diff(prev);
            s.delay_variation_count += 1;
        }
        h.last_transit = Some(transit);
    }

    /// A packet of `flow` was dropped on `link`; `entered` says whether [`Watch::accepted`]
    /// already counted it in.
    pub(crate) fn dropped(
        &mut self,
        flow: u32,
        link: usize,
        hop: u8,
        why: DropReason,
        entered: bool,
    ) {
        let s = &mut self.hop(flow, link, hop).stats;
        s.packets_in += u64::from(!entered);
        s.dropped[why as usize] += 1;
    }

    /// Every flow in address order, its links in path order, named by `name`.
    pub(crate) fn flows(&self, name: impl Fn(usize) -> String) -> Vec<WatchedFlow> {
        self.keys
            .values()
            .map(|&i| {
                let (src, dst, hops) = &self.flows[i as usize];
                let mut links: Vec<(u8, u32, FlowLinkStats)> = hops
                    .iter()
                    .map(|h| {
                        let mut s = h.stats.clone();
                        s.link = name(h.link as usize);
                        (s.hop, h.link, s)
                    })
                    .collect();
                links.sort_by_key(|(hop, link, _)| (*hop, *link));
                WatchedFlow {
                    src: *src,
                    dst: *dst,
                    links: links.into_iter().map(|(_, _, s)| s).collect(),
                }
            })
            .collect()
    }
}
