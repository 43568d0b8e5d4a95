//! The emulated network: hosts on sites, joined by links, carrying datagrams in simulated time.
//!
//! Each host has an access link (its profile's `up` is host → site, `down` site → host). A site
//! may have a shared link (its uplink to the rest of the world, where cross-traffic competes).
//! Sites are joined by core paths. A datagram from A to B on the same site crosses A.up then
//! B.down; across sites, A.up, site A's shared up (if any), core A→B, site B's shared down (if
//! any), B.down. It enters each link when it leaves the previous one.
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
//! Drops are never returned, only counted ([`Network::counters`]). A TCP SYN blocked by a rule
//! with `tcp_block: reset` brings a [`DeliveryKind::TcpReset`] back to the sender (from the
//! sender's own stack at once for an outbound rule; across the network from the receiver for
//! an inbound rule); with `timeout` nothing comes back.

use crate::net::config::LinkProfile;
use crate::net::error::NetError;
use crate::net::firewall::{Firewall, Flow, RuleDirection, TcpBlock, Verdict};
use crate::net::link::{DropReason, Link, LinkCounters, PacketMeta, Transmit};
use crate::net::rng::link_seed;
use crate::net::trace::TraceCache;
use crate::net::Nanos;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::net::Ipv4Addr;
use std::path::PathBuf;

pub use crate::net::datagram::{Datagram, Delivery, DeliveryKind, HostId, Proto};
pub use crate::net::network_config::{CorePath, HostConfig, NetworkConfig, SiteConfig};
pub use crate::net::timeline::NetEvent;

/// Most links a path crosses: access, shared, core, shared, access.
const MAX_HOPS: usize = 5;

pub(crate) struct HostState {
    pub(crate) name: String,
    pub(crate) addr: Ipv4Addr,
    site: usize,
    pub(crate) up: usize,
    pub(crate) down: usize,
    firewall: Firewall,
}

pub(crate) struct SiteState {
    pub(crate) name: String,
    pub(crate) shared: Option<(usize, usize)>,
}

struct InFlight<P> {
    d: Datagram<P>,
    to: usize,
    route: [u32; MAX_HOPS],
    len: u8,
    hop: u8,
    entered: Nanos,
    reset: bool,
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
    seq: u64,
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
    pub(crate) owners: BTreeMap<Ipv4Addr, usize>,
    heap: BinaryHeap<Event>,
    seq: u64,
    inflight: Vec<Option<InFlight<P>>>,
    free: Vec<usize>,
    deliveries: VecDeque<Delivery<P>>,
    pub(crate) events: VecDeque<NetEvent>,
    pub(crate) timeline: crate::net::timeline::Timeline,
    pub(crate) traces: TraceCache,
    unroutable: u64,
    drop_log: Option<Vec<DropRecord<P>>>,
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
            if let Some(&other) = owners.get(&h.addr) {
                let other: &HostState = &hosts[other];
                return Err(NetError::Topology(format!(
                    "hosts {} and {} both have address {}",
                    other.name, h.name, h.addr
                )));
            }
            h.access.validate()?;
            let up = add(format!("{}.up", h.name), &h.access, true, &mut traces)?;
            let down = add(format!("{}.down", h.name), &h.access, false, &mut traces)?;
            owners.insert(h.addr, hosts.len());
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
        let slot = self.alloc(InFlight {
            d,
            to: 0,
            route: [0; MAX_HOPS],
            len: 0,
            hop: 0,
            entered: 0,
            reset: false,
        });
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

    /// Every link's counters: hosts' access links (up, down) in configuration order, then
    /// sites' shared links, then core links.
    pub fn counters(&self) -> Vec<LinkCounters> {
        self.links
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut c = l.counters();
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

    fn log_drop(&mut self, at: Nanos, link: usize, reason: DropReason, d: &Datagram<P>) {
        if let Some(log) = self.drop_log.as_mut() {
            log.push(DropRecord {
                at,
                link: self.links[link].counters().name.clone(),
                reason,
                datagram: d.clone(),
            });
        }
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

    fn route(&self, src: usize, dst: usize) -> ([u32; MAX_HOPS], usize) {
        let mut r = [0u32; MAX_HOPS];
        let mut n = 0;
        let mut push = |l: usize| {
            r[n] = l as u32;
            n += 1;
        };
        push(self.hosts[src].up);
        let (a, b) = (self.hosts[src].site, self.hosts[dst].site);
        if a != b {
            if let Some((up, _)) = self.sites[a].shared {
                push(up);
            }
            push(self.core[a * self.sites.len() + b]);
            if let Some((_, down)) = self.sites[b].shared {
                push(down);
            }
        }
        push(self.hosts[dst].down);
        (r, n)
    }

    pub(crate) fn push(&mut self, at: Nanos, kind: EventKind) {
        self.seq += 1;
        self.heap.push(Event {
            at,
            seq: self.seq,
            kind,
        });
    }

    fn alloc(&mut self, f: InFlight<P>) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.inflight[i] = Some(f);
                i
            }
            None => {
                self.inflight.push(Some(f));
                self.inflight.len() - 1
            }
        }
    }

    fn release(&mut self, slot: usize) -> Option<InFlight<P>> {
        let f = self.inflight[slot].take();
        self.free.push(slot);
        f
    }

    fn flow(&self, f: &InFlight<P>, direction: RuleDirection) -> Flow {
        let peer = if direction == RuleDirection::Out {
            *f.d.dst.ip()
        } else {
            *f.d.src.ip()
        };
        Flow {
            direction,
            proto: f.d.proto,
            src_port: f.d.src.port(),
            dst_port: f.d.dst.port(),
            peer_addr: peer,
            peer_host: self.owners.get(&peer).map(|&h| HostId(h as u32)),
        }
    }

    /// The reply a refused SYN brings back.
    fn reset_of(d: &Datagram<P>) -> Datagram<P> {
        Datagram::tcp(d.dst, d.src, 0, false, d.payload.clone())
    }

    fn depart(&mut self, slot: usize, t: Nanos) {
        let Some(f) = self.inflight[slot].as_ref() else {
            return;
        };
        let Some(&src) = self.owners.get(f.d.src.ip()) else {
            self.unroutable += 1;
            self.release(slot);
            return;
        };
        let up = self.hosts[src].up;
        if *f.d.src.ip() != self.hosts[src].addr {
            // Sent from an address the host no longer has (it moved to another access point):
            // that socket is gone, nothing leaves on it.
            self.links[up].count_dropped(f.d.size, DropReason::AddressChanged);
            if let Some(f) = self.release(slot) {
                self.log_drop(t, up, DropReason::AddressChanged, &f.d);
            }
            return;
        }
        if !f.reset {
            if let Verdict::Block(how) = self.hosts[src]
                .firewall
                .check(&self.flow(f, RuleDirection::Out))
            {
                self.links[up].count_dropped(f.d.size, DropReason::Firewall);
                let d = f.d.clone();
                self.log_drop(t, up, DropReason::Firewall, &d);
                let Some(f) = self.inflight[slot].as_ref() else {
                    return;
                };
                if how == TcpBlock::Reset && f.d.proto == (Proto::Tcp { syn: true }) {
                    let reset = Self::reset_of(&f.d);
                    self.deliveries.push_back(Delivery {
                        at: t,
                        to_host: HostId(src as u32),
                        datagram: reset,
                        kind: DeliveryKind::TcpReset,
                    });
                }
                self.release(slot);
                return;
            }
        }
        let Some(&dst) = self.owners.get(f.d.dst.ip()) else {
            self.links[up].count_dropped(f.d.size, DropReason::NoRoute);
            let d = f.d.clone();
            self.log_drop(t, up, DropReason::NoRoute, &d);
            self.release(slot);
            return;
        };
        let (route, len) = self.route(src, dst);
        if let Some(f) = self.inflight[slot].as_mut() {
            f.to = dst;
            f.route = route;
            f.len = len as u8;
        }
        self.enter_hop(slot, t);
    }

    fn enter_hop(&mut self, slot: usize, t: Nanos) {
        let Some(f) = self.inflight[slot].as_mut() else {
            return;
        };
        let hop = f.hop as usize;
        if hop > 0 {
            let prev = f.route[hop - 1] as usize;
            if self.links[prev].was_down_during(f.entered, t) {
                let size = f.d.size;
                self.links[prev].recount_as_dropped(size, DropReason::Outage);
                if let Some(f) = self.release(slot) {
                    self.log_drop(t, prev, DropReason::Outage, &f.d);
                }
                return;
            }
        }
        if hop == f.len as usize {
            self.arrive(slot, t);
            return;
        }
        let link = f.route[hop] as usize;
        match self.links[link].transmit(t, &PacketMeta { size: f.d.size }) {
            Transmit::Dropped(reason) => {
                if let Some(f) = self.release(slot) {
                    self.log_drop(t, link, reason, &f.d);
                }
            }
            Transmit::Delivered { at, duplicate } => {
                f.hop += 1;
                f.entered = t;
                if let Some(dup_at) = duplicate {
                    let copy = InFlight {
                        d: f.d.clone(),
                        ..*f
                    };
                    let copy = self.alloc(copy);
                    self.push(dup_at, EventKind::Hop(copy));
                }
                self.push(at, EventKind::Hop(slot));
            }
        }
    }

    fn arrive(&mut self, slot: usize, t: Nanos) {
        let Some(f) = self.release(slot) else { return };
        let last = f.route[f.len as usize - 1] as usize;
        let host = &self.hosts[f.to];
        if *f.d.dst.ip() != host.addr {
            self.links[last].recount_as_dropped(f.d.size, DropReason::AddressChanged);
            self.log_drop(t, last, DropReason::AddressChanged, &f.d);
            return;
        }
        if !f.reset {
            if let Verdict::Block(how) = host.firewall.check(&self.flow(&f, RuleDirection::In)) {
                self.links[last].recount_as_dropped(f.d.size, DropReason::Firewall);
                self.log_drop(t, last, DropReason::Firewall, &f.d);
                if how == TcpBlock::Reset && f.d.proto == (Proto::Tcp { syn: true }) {
                    let reset = Self::reset_of(&f.d);
                    let slot = self.alloc(InFlight {
                        d: reset,
                        to: 0,
                        route: [0; MAX_HOPS],
                        len: 0,
                        hop: 0,
                        entered: 0,
                        reset: true,
                    });
                    self.push(t, EventKind::Send(slot));
                }
                return;
            }
        }
        let kind = if f.reset {
            DeliveryKind::TcpReset
        } else {
            DeliveryKind::Datagram
        };
        self.deliveries.push_back(Delivery {
            at: t,
            to_host: HostId(f.to as u32),
            datagram: f.d,
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
