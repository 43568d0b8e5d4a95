//! The emulated network: hosts on sites, joined by links, carrying datagrams in simulated time.
//!
//! Each host has an access link (its profile's `up` is host → site, `down` site → host). A site
//! may have a shared link (its uplink to the rest of the world, where cross-traffic competes).
//! Sites are joined by core paths. A datagram from A to B on the same site crosses A.up then
//! B.down; across sites, A.up, site A's shared up (if any), core A→B, site B's shared down (if
//! any), B.down. It enters each link when it leaves the previous one.
//!
//! A site with a NAT (`nat:`) hides its hosts behind its public address
//! ([`Network::site_public_addr`]): a packet leaving the site is translated when it leaves
//! the sender's access link, one entering it when it is about to enter the receiver's (the
//! NAT chooses the receiver by its mapping); another site's packet to a private address of the
//! site is dropped (`private-address`). Deliveries carry the translated addresses. See
//! `site_nat.rs` for where and how, `nat.rs` for the RFC 4787 behaviours.
//!
//! The network is sans-IO: the caller owns the clock. It sends datagrams, asks when the
//! next internal event is due, advances to a time, and collects deliveries and events:
//!
//! ```
//! use callharness::net::{Network, NetworkConfig, Datagram};
//! let cfg: NetworkConfig = serde_yaml::from_str(r#"
//! sites: [{ name: home }, { name: office }]
//! core: { name: wan, both: { delay: 15ms } }
//! hosts:
//!   - { name: alice, site: home, addr: 10.0.1.2, access: { name: dsl, both: { delay: 5ms } } }
//!   - { name: bob, site: office, addr: 10.0.2.2 }
//! "#).unwrap();
//! let mut net: Network<&str> = Network::new(&cfg, 7, &[]).unwrap();
//! let (alice, bob) = (net.host_id("alice").unwrap(), net.host_id("bob").unwrap());
//! let d = Datagram::udp("10.0.1.2:5000".parse().unwrap(), "10.0.2.2:6000".parse().unwrap(), 160, "hello");
//! net.send(0, d);
//! while let Some(t) = net.next_event() {
//!     net.advance(t);
//! }
//! let got = net.poll_delivery().unwrap();
//! assert_eq!((got.at, got.to_host, got.datagram.payload), (20_000_000, bob, "hello"));
//! assert_eq!(net.path_delay(alice, bob), 20_000_000);
//! ```
//!
//! Drops are never returned, only counted ([`Network::counters`]): each link counts a packet
//! in when it enters, delivered when it leaves (to the next link or the host), dropped where
//! it was dropped, and in flight while it is inside (see `forward.rs`). The calls' own
//! packets can also be followed hop by hop, per flow ([`Network::watch`]). A TCP SYN blocked by a rule
//! with `tcp_block: reset` brings a [`DeliveryKind::TcpReset`] back to the sender (from the
//! sender's own stack at once for an outbound rule; across the network from the receiver for
//! an inbound rule); with `timeout` nothing comes back.

use crate::net::config::LinkProfile;
use crate::net::error::NetError;
use crate::net::firewall::Firewall;
use crate::net::forward::InFlight;
use crate::net::link::{DropReason, Link, LinkCounters};
use crate::net::nat::Nat;
use crate::net::rng::link_seed;
use crate::net::trace::TraceCache;
use crate::net::watch::{Watch, WatchedFlow, NOT_WATCHED};
use crate::net::Nanos;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::net::Ipv4Addr;
use std::path::PathBuf;

pub use crate::net::datagram::{Datagram, Delivery, DeliveryKind, HostId, Proto};
pub use crate::net::network_config::{CorePath, HostConfig, NetworkConfig, SiteConfig};
pub use crate::net::timeline::NetEvent;

pub(crate) struct HostState {
    pub(crate) name: String,
    pub(crate) addr: Ipv4Addr,
    pub(crate) site: usize,
    pub(crate) up: usize,
    pub(crate) down: usize,
    pub(crate) firewall: Firewall,
}

pub(crate) struct SiteState {
    pub(crate) name: String,
    pub(crate) shared: Option<(usize, usize)>,
    /// The NAT hiding the site's hosts, if it has one (`site_nat.rs`).
    pub(crate) nat: Option<Nat>,
}

/// What an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A host (its index): its address now, or one it had.
    Host(usize),
    /// The NAT of a site (its index): its public address.
    Nat(usize),
}

impl Owner {
    /// The host, if the address is a host's.
    #[inline]
    pub(crate) fn host(self) -> Option<usize> {
        match self {
            Owner::Host(h) => Some(h),
            Owner::Nat(_) => None,
        }
    }
}

/// What a queued internal event does.
#[derive(Debug, Clone, Copy)]
pub(crate) enum EventKind {
    /// A datagram enters the network at its sender.
    Send(usize),
    /// A datagram reaches the next link on its path (or its destination).
    Hop(usize),
    /// A schedule entry occurs.
    Entry(usize),
    /// An outage ends.
    OutageEnd(usize),
    /// A cross-traffic flow starts, sends a packet, or stops.
    FlowStart(usize),
    FlowPacket(usize),
    FlowStop(usize),
}

pub(crate) struct Event {
    at: Nanos,
    pub(crate) seq: u64,
    pub(crate) kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Event {
    /// Reversed, so the max-heap pops the earliest event; ties go in insertion order.
    fn cmp(&self, o: &Self) -> Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// A datagram the network dropped (see [`Network::record_drops`]).
#[derive(Debug, Clone)]
pub struct DropRecord<P> {
    /// When, ns.
    pub at: Nanos,
    /// The link that dropped it (its counters' name).
    pub link: String,
    /// Why.
    pub reason: DropReason,
    /// The datagram.
    pub datagram: Datagram<P>,
}

/// The emulated network (see the module docs).
pub struct Network<P> {
    pub(crate) now: Nanos,
    /// The run's seed, from which every link's and flow's random stream derives.
    pub(crate) seed: u64,
    pub(crate) links: Vec<Link>,
    pub(crate) hosts: Vec<HostState>,
    pub(crate) sites: Vec<SiteState>,
    /// Core link index for each ordered pair of sites, `a * sites + b`.
    pub(crate) core: Vec<usize>,
    pub(crate) owners: BTreeMap<Ipv4Addr, Owner>,
    pub(crate) heap: BinaryHeap<Event>,
    seq: u64,
    pub(crate) inflight: Vec<Option<InFlight<P>>>,
    pub(crate) free: Vec<usize>,
    pub(crate) deliveries: VecDeque<Delivery<P>>,
    pub(crate) events: VecDeque<NetEvent>,
    pub(crate) timeline: crate::net::timeline::Timeline,
    pub(crate) traces: TraceCache,
    pub(crate) unroutable: u64,
    pub(crate) drop_log: Option<Vec<DropRecord<P>>>,
    pub(crate) watch: Option<Watch<P>>,
}

impl<P: Clone> Network<P> {
    /// Builds the network; every random choice derives from `seed`; trace files are looked
    /// for in each profile's folder, then in `trace_dirs`.
    pub fn new(
        cfg: &NetworkConfig,
        seed: u64,
        trace_dirs: &[PathBuf],
    ) -> Result<Network<P>, NetError> {
        let mut traces = TraceCache::new(trace_dirs);
        let mut links = Vec::new();
        let mut add = |name: String, profile: &LinkProfile, up: bool, traces: &mut TraceCache| {
            let dir = if up {
                profile.up_config()
            } else {
                profile.down_config()
            };
            let link = Link::with_traces(&dir, link_seed(seed, &name), traces)?.named(&name);
            links.push(link);
            Ok::<usize, NetError>(links.len() - 1)
        };
        let mut site_index = BTreeMap::new();
        let mut sites = Vec::new();
        for s in &cfg.sites {
            if site_index.insert(s.name.clone(), sites.len()).is_some() {
                return Err(NetError::Topology(format!(
                    "site {:?} is listed twice",
                    s.name
                )));
            }
            sites.push(SiteState {
                name: s.name.clone(),
                shared: None,
                nat: None,
            });
        }
        let mut hosts = Vec::new();
        let mut owners = BTreeMap::new();
        for h in &cfg.hosts {
            let &site = site_index.get(&h.site).ok_or_else(|| {
                NetError::Topology(format!(
                    "host {}: no site named {:?} (sites: {})",
                    h.name,
                    h.site,
                    names(&cfg.sites)
                ))
            })?;
            if hosts.iter().any(|x: &HostState| x.name == h.name) {
                return Err(NetError::Topology(format!(
                    "host {:?} is listed twice",
                    h.name
                )));
            }
            if let Some(&Owner::Host(other)) = owners.get(&h.addr) {
                let other: &HostState = &hosts[other];
                return Err(NetError::Topology(format!(
                    "hosts {} and {} both have address {}",
                    other.name, h.name, h.addr
                )));
            }
            h.access.validate()?;
            let up = add(format!("{}.up", h.name), &h.access, true, &mut traces)?;
            let down = add(format!("{}.down", h.name), &h.access, false, &mut traces)?;
            owners.insert(h.addr, Owner::Host(hosts.len()));
            hosts.push(HostState {
                name: h.name.clone(),
                addr: h.addr,
                site,
                up,
                down,
                firewall: Firewall::default(),
            });
        }
        for (i, h) in cfg.hosts.iter().enumerate() {
            let lookup = |n: &str| {
                hosts
                    .iter()
                    .position(|x| x.name == n)
                    .map(|i| HostId(i as u32))
            };
            hosts[i].firewall = Firewall::compile(&h.firewall, &h.name, lookup)?;
        }
        for (i, s) in cfg.sites.iter().enumerate() {
            if let Some(p) = &s.shared {
                p.validate()?;
                let up = add(format!("site:{}.up", s.name), p, true, &mut traces)?;
                let down = add(format!("site:{}.down", s.name), p, false, &mut traces)?;
                sites[i].shared = Some((up, down));
            }
        }
        crate::net::site_nat::build_nats(cfg, &mut sites, &mut owners)?;
        let n = sites.len();
        let ideal = LinkProfile::ideal("ideal");
        let mut core = vec![usize::MAX; n * n];
        let mut core_profiles: Vec<(usize, usize, &LinkProfile)> = Vec::new();
        for c in &cfg.core_paths {
            let find = |s: &String| {
                site_index.get(s).copied().ok_or_else(|| {
                    NetError::Topology(format!(
                        "core path {}-{}: no site named {s:?} (sites: {})",
                        c.a,
                        c.b,
                        names(&cfg.sites)
                    ))
                })
            };
            let (a, b) = (find(&c.a)?, find(&c.b)?);
            c.profile.validate()?;
            core_profiles.push((a, b, &c.profile));
        }
        for a in 0..n {
            for b in a + 1..n {
                let given = core_profiles
                    .iter()
                    .find(|(x, y, _)| (*x, *y) == (a, b) || (*x, *y) == (b, a));
                let (from, to, p) = match given {
                    Some(&(x, y, p)) => (x, y, p),
                    None => (a, b, cfg.core.as_ref().unwrap_or(&ideal)),
                };
                if given.is_none() {
                    p.validate()?;
                }
                core[from * n + to] = add(
                    format!("core:{}->{}", sites[from].name, sites[to].name),
                    p,
                    true,
                    &mut traces,
                )?;
                core[to * n + from] = add(
                    format!("core:{}->{}", sites[to].name, sites[from].name),
                    p,
                    false,
                    &mut traces,
                )?;
            }
        }
        let mut net = Network {
            now: 0,
            seed,
            links,
            hosts,
            sites,
            core,
            owners,
            heap: BinaryHeap::new(),
            seq: 0,
            inflight: Vec::new(),
            free: Vec::new(),
            deliveries: VecDeque::new(),
            events: VecDeque::new(),
            timeline: Default::default(),
            traces,
            unroutable: 0,
            drop_log: None,
            watch: None,
        };
        net.load_schedules(cfg)?;
        Ok(net)
    }

    /// Hands a datagram to the network at `now` (its sender is the host owning `d.src`). It is
    /// processed by the next [`Network::advance`] to `now` or later. `now` must not be earlier
    /// than a time already advanced to (it is raised to that time if it is).
    pub fn send(&mut self, now: Nanos, d: Datagram<P>) {
        debug_assert!(
            now >= self.now,
            "send at {now} after advancing to {}",
            self.now
        );
        let watch = match self.watch.as_mut() {
            Some(w) => w.classify(&d),
            None => NOT_WATCHED,
        };
        let slot = self.alloc(InFlight::new(d, false, watch));
        self.push(now.max(self.now), EventKind::Send(slot));
    }

    /// The time of the earliest pending internal event (a hop, a delivery, a schedule entry, a
    /// cross-traffic packet), if any.
    pub fn next_event(&self) -> Option<Nanos> {
        self.heap.peek().map(|e| e.at)
    }

    /// Processes, in time order, every internal event at or before `now`.
    pub fn advance(&mut self, now: Nanos) {
        while let Some(e) = self.heap.peek() {
            if e.at > now {
                break;
            }
            let Some(e) = self.heap.pop() else { break };
            self.now = e.at;
            match e.kind {
                EventKind::Send(slot) => self.depart(slot, e.at),
                EventKind::Hop(slot) => self.enter_hop(slot, e.at),
                other => self.run_timeline(other, e.at),
            }
        }
        self.now = self.now.max(now);
    }

    /// The next delivery, in time order.
    pub fn poll_delivery(&mut self) -> Option<Delivery<P>> {
        self.deliveries.pop_front()
    }

    /// The next network event (address change, outage, phase, cross-traffic), in time order.
    pub fn poll_event(&mut self) -> Option<NetEvent> {
        self.events.pop_front()
    }

    /// The host named `name`.
    pub fn host_id(&self, name: &str) -> Option<HostId> {
        self.hosts
            .iter()
            .position(|h| h.name == name)
            .map(|i| HostId(i as u32))
    }

    /// A host's name.
    pub fn host_name(&self, host: HostId) -> &str {
        &self.hosts[host.0 as usize].name
    }

    /// A host's current address.
    pub fn host_addr(&self, host: HostId) -> Ipv4Addr {
        self.hosts[host.0 as usize].addr
    }

    /// The time advanced to.
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// Every link's counters as they stand now (what is still inside a link is in flight,
    /// not delivered): hosts' access links (up, down) in configuration order, then sites'
    /// shared links, then core links.
    pub fn counters(&self) -> Vec<LinkCounters> {
        self.links
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut c = l.counters_at(self.now);
                c.cross_flows = self.flow_counters(i);
                c.cross_delivered = c.cross_flows.iter().map(|f| f.delivered).sum();
                c
            })
            .collect()
    }

    /// Datagrams sent from an address no host has (not counted on any link).
    /// Keeps a record of every dropped datagram (off by default), so a caller can tell which
    /// flow each drop belonged to (the counters only know links and reasons).
    pub fn record_drops(&mut self, on: bool) {
        self.drop_log = if on { Some(Vec::new()) } else { None };
    }

    /// Takes the drops recorded since the last call (empty when recording is off).
    pub fn take_drops(&mut self) -> Vec<DropRecord<P>> {
        match self.drop_log.as_mut() {
            Some(log) => std::mem::take(log),
            None => Vec::new(),
        }
    }

    /// Follows every datagram `filter` picks from now on, hop by hop, per flow (source and
    /// destination address): see [`Network::watched_flows`]. Replaces an earlier filter and
    /// forgets what it had followed.
    pub fn watch(&mut self, filter: fn(&Datagram<P>) -> bool) {
        self.watch = Some(Watch::new(filter));
    }

    /// What each watched flow met on each link of its path (empty unless [`Network::watch`]
    /// was called), flows in address order, links in path order.
    pub fn watched_flows(&self) -> Vec<WatchedFlow> {
        self.watch
            .as_ref()
            .map_or_else(Vec::new, |w| w.flows(|l| self.links[l].name().to_string()))
    }

    /// The link named `name` ("bob.up", "site:home.down", "core:a->b").
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name() == name)
    }

    /// Datagrams whose source address belongs to no host.
    pub fn unroutable(&self) -> u64 {
        self.unroutable
    }

    /// The sum of the base propagation delays on the path from `src` to `dst`, ns (no jitter,
    /// no queueing, no serialisation).
    pub fn path_delay(&self, src: HostId, dst: HostId) -> Nanos {
        let (route, len) = self.route(src.0 as usize, dst.0 as usize);
        route[..len]
            .iter()
            .map(|&l| self.links[l as usize].base_delay())
            .sum()
    }

    pub(crate) fn push(&mut self, at: Nanos, kind: EventKind) {
        self.seq += 1;
        self.heap.push(Event {
            at,
            seq: self.seq,
            kind,
        });
    }
}

fn names(sites: &[SiteConfig]) -> String {
    sites
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[path = "topology_tests.rs"]
mod tests;
