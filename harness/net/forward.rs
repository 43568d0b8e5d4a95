//! Forwarding one datagram through the network: from its sender's firewall, link by link along
//! its route, to the receiver's firewall and the host, with every drop counted on the link it
//! happened on.
//!
//! A link counts a packet in when it enters, delivered when it leaves (at the hop event, to
//! the next link or the host), and dropped where it was dropped: before the link's models
//! (an outbound firewall, no route, an old source address), by them (loss, a full queue...),
//! or inside after it was accepted (an outage while it was in the link; at the last link, an
//! inbound firewall or a destination address the host no longer has). So for every link,
//! packets in = delivered + dropped + still inside when the counters are read.
//!
//! A packet that crosses a site's NAT (`site_nat.rs`) is translated between two links: when it
//! leaves its sender's access link (source), and when it is about to enter its receiver's
//! access link (destination; that link is known only then). A NAT's drop is counted on the
//! link the packet left to reach it, as a drop inside that link (like an inbound firewall's).
//!
//! A duplicate made by a link is not one of that link's packets (it is counted in its
//! `duplicates`): neither delivered nor dropped there, and never in the drop record. On the
//! links after, it is a packet like any other.

use crate::net::firewall::{Flow, RuleDirection, TcpBlock, Verdict};
use crate::net::link::{DropReason, PacketMeta, Transmit};
use crate::net::topology::{DropRecord, EventKind, Network, Owner};
use crate::net::watch::NOT_WATCHED;
use crate::net::Nanos;

use crate::net::datagram::{Datagram, Delivery, DeliveryKind, HostId, Proto};

/// Most links a path crosses: access, shared, core, shared, access.
pub(crate) const MAX_HOPS: usize = 5;

/// `copy_hop` of a datagram that is not a duplicate.
const ORIGINAL: u8 = u8::MAX;

/// `nat` flag: its source is translated when it leaves its sender's access link.
pub(crate) const NAT_OUT: u8 = 1;
/// `nat` flag: it goes to a NAT's public address; the NAT picks the host (and so the last
/// link) when it reaches the site.
pub(crate) const NAT_IN: u8 = 2;
/// The last link of a route, and the destination host, while a NAT has not chosen them.
pub(crate) const PENDING: u32 = u32::MAX;

/// A datagram inside the network.
pub(crate) struct InFlight<P> {
    pub(crate) d: Datagram<P>,
    /// Destination host.
    pub(crate) to: usize,
    pub(crate) route: [u32; MAX_HOPS],
    pub(crate) len: u8,
    /// The next hop to enter (so `hop - 1` is the link it is in while travelling).
    hop: u8,
    /// When it entered the link it is in.
    entered: Nanos,
    /// A TCP reset coming back (no firewall check on the way).
    reset: bool,
    /// For a duplicate, the hop of the link that made it; [`ORIGINAL`] otherwise.
    copy_hop: u8,
    /// The watched flow it belongs to ([`NOT_WATCHED`] for most).
    pub(crate) watch: u32,
    /// The NAT crossings still ahead ([`NAT_OUT`], [`NAT_IN`]); 0 for most.
    pub(crate) nat: u8,
}

impl<P> InFlight<P> {
    /// A datagram about to enter the network at its sender, in watched flow `watch`.
    #[inline]
    pub(crate) fn new(d: Datagram<P>, reset: bool, watch: u32) -> InFlight<P> {
        InFlight {
            d,
            to: 0,
            route: [0; MAX_HOPS],
            len: 0,
            hop: 0,
            entered: 0,
            reset,
            copy_hop: ORIGINAL,
            watch,
            nat: 0,
        }
    }
}

/// Where, relative to a link's models, a drop happened (who has counted it so far).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Before the link's models ran: the link has not counted the packet in yet.
    Before,
    /// By the link's models: the link counted it in and dropped.
    ByModel,
    /// After the link accepted it (lost inside, or refused at the host).
    Inside,
}

impl<P: Clone> Network<P> {
    #[inline]
    pub(crate) fn alloc(&mut self, f: InFlight<P>) -> usize {
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

    pub(crate) fn release(&mut self, slot: usize) -> Option<InFlight<P>> {
        let f = self.inflight[slot].take();
        self.free.push(slot);
        f
    }

    pub(crate) fn route(&self, src: usize, dst: usize) -> ([u32; MAX_HOPS], usize) {
        let h = &self.hosts[dst];
        self.route_to(src, h.site, h.down as u32)
    }

    /// The route from host `src` to site `b`, ending on link `last` (the receiver's access
    /// link, or [`PENDING`]).
    fn route_to(&self, src: usize, b: usize, last: u32) -> ([u32; MAX_HOPS], usize) {
        let mut r = [0u32; MAX_HOPS];
        let mut n = 0;
        let mut push = |l: u32| {
            r[n] = l;
            n += 1;
        };
        push(self.hosts[src].up as u32);
        let a = self.hosts[src].site;
        if a != b {
            if let Some((up, _)) = self.sites[a].shared {
                push(up as u32);
            }
            push(self.core[a * self.sites.len() + b] as u32);
            if let Some((_, down)) = self.sites[b].shared {
                push(down as u32);
            }
        }
        push(last);
        (r, n)
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
            peer_host: self
                .owners
                .get(&peer)
                .and_then(|o| o.host())
                .map(|h| HostId(h as u32)),
        }
    }

    /// The reply a refused SYN brings back.
    fn reset_of(d: &Datagram<P>) -> Datagram<P> {
        Datagram::tcp(d.dst, d.src, 0, false, d.payload.clone())
    }

    /// Counts a drop of `f` on `link` (as `stage` says it still needs counting) and records it.
    pub(crate) fn dropped(
        &mut self,
        f: &InFlight<P>,
        link: usize,
        hop: u8,
        stage: Stage,
        why: DropReason,
        t: Nanos,
    ) {
        let made_here = f.copy_hop == hop;
        match stage {
            Stage::Before => self.links[link].count_dropped(t, f.d.size, why),
            Stage::Inside if !made_here => self.links[link].count_dropped_inside(t, why),
            Stage::Inside | Stage::ByModel => {}
        }
        if f.copy_hop != ORIGINAL {
            return;
        }
        if f.watch != NOT_WATCHED {
            if let Some(w) = self.watch.as_mut() {
                w.dropped(f.watch, link, hop, why, stage == Stage::Inside);
            }
        }
        if let Some(log) = self.drop_log.as_mut() {
            log.push(DropRecord {
                at: t,
                link: self.links[link].name().to_string(),
                reason: why,
                datagram: f.d.clone(),
            });
        }
    }

    pub(crate) fn depart(&mut self, slot: usize, t: Nanos) {
        let Some(f) = self.inflight[slot].as_ref() else {
            return;
        };
        let Some(&Owner::Host(src)) = self.owners.get(f.d.src.ip()) else {
            self.unroutable += 1;
            self.release(slot);
            return;
        };
        let up = self.hosts[src].up;
        let refused = if *f.d.src.ip() != self.hosts[src].addr {
            // Sent from an address the host no longer has (it moved to another access point):
            // that socket is gone, nothing leaves on it.
            Some((DropReason::AddressChanged, None))
        } else if f.reset {
            None
        } else {
            match self.hosts[src]
                .firewall
                .check(&self.flow(f, RuleDirection::Out))
            {
                Verdict::Block(how) => Some((DropReason::Firewall, Some(how))),
                Verdict::Allow => None,
            }
        };
        let here = self.hosts[src].site;
        // Where it goes: a host (its site), or a NAT's public address (its site; the host
        // is the NAT's choice).
        let dst = self.owners.get(f.d.dst.ip()).map(|&o| match o {
            Owner::Host(h) => (self.hosts[h].site, Some(h)),
            Owner::Nat(s) => (s, None),
        });
        let unroutable = match dst {
            None => Some(DropReason::NoRoute),
            Some((site, Some(_))) if site != here && self.sites[site].nat.is_some() => {
                Some(DropReason::PrivateAddress)
            }
            _ => None,
        };
        let refused = refused.or(unroutable.map(|why| (why, None)));
        if let Some((why, how)) = refused {
            let Some(f) = self.release(slot) else { return };
            self.dropped(&f, up, 0, Stage::Before, why, t);
            if how == Some(TcpBlock::Reset) && f.d.proto == (Proto::Tcp { syn: true }) {
                self.deliveries.push_back(Delivery {
                    at: t,
                    to_host: HostId(src as u32),
                    datagram: Self::reset_of(&f.d),
                    kind: DeliveryKind::TcpReset,
                });
            }
            return;
        }
        let Some((site, host)) = dst else { return };
        let (last, to) = match host {
            Some(h) => (self.hosts[h].down as u32, h),
            None => (PENDING, PENDING as usize),
        };
        let (route, len) = self.route_to(src, site, last);
        let mut nat = if host.is_none() { NAT_IN } else { 0 };
        if (site != here || host.is_none()) && self.sites[here].nat.is_some() {
            nat |= NAT_OUT;
        }
        if let Some(f) = self.inflight[slot].as_mut() {
            f.to = to;
            f.route = route;
            f.len = len as u8;
            f.nat = nat;
        }
        self.enter_hop(slot, t);
    }

    pub(crate) fn enter_hop(&mut self, slot: usize, t: Nanos) {
        let Some(f) = self.inflight[slot].as_mut() else {
            return;
        };
        let hop = f.hop as usize;
        if hop > 0 {
            let prev = f.route[hop - 1] as usize;
            let (entered, made_here, watch) = (f.entered, f.copy_hop as usize == hop - 1, f.watch);
            let (size, nat) = (f.d.size, f.nat);
            if self.links[prev].was_down_during(entered, t) {
                if let Some(f) = self.release(slot) {
                    self.dropped(
                        &f,
                        prev,
                        (hop - 1) as u8,
                        Stage::Inside,
                        DropReason::Outage,
                        t,
                    );
                }
                return;
            }
            if hop == f.len as usize {
                self.arrive(slot, t);
                return;
            }
            if nat != 0 && !self.cross_nat(slot, hop, t) {
                return;
            }
            if !made_here {
                self.links[prev].count_delivered(t, size);
            }
            if watch != NOT_WATCHED {
                self.watch_left(watch, prev, hop - 1, t - entered);
            }
        }
        let Some(f) = self.inflight[slot].as_mut() else {
            return;
        };
        let link = f.route[hop] as usize;
        match self.links[link].transmit(t, &PacketMeta { size: f.d.size }) {
            Transmit::Dropped(reason) => {
                if let Some(f) = self.release(slot) {
                    self.dropped(&f, link, hop as u8, Stage::ByModel, reason, t);
                }
            }
            Transmit::Delivered { at, duplicate } => {
                f.hop += 1;
                f.entered = t;
                if f.watch != NOT_WATCHED {
                    if let Some(w) = self.watch.as_mut() {
                        w.accepted(f.watch, link, hop as u8, self.links[link].last_queue_wait());
                    }
                }
                if let Some(dup_at) = duplicate {
                    let copy = InFlight {
                        d: f.d.clone(),
                        copy_hop: hop as u8,
                        watch: NOT_WATCHED,
                        ..*f
                    };
                    let copy = self.alloc(copy);
                    self.push(dup_at, EventKind::Hop(copy));
                }
                self.push(at, EventKind::Hop(slot));
            }
        }
    }

    /// A watched packet left `link` (the `hop`-th of its path) after `transit` ns in it.
    #[cold]
    fn watch_left(&mut self, flow: u32, link: usize, hop: usize, transit: Nanos) {
        let base = self.links[link].base_delay();
        if let Some(w) = self.watch.as_mut() {
            w.left(flow, link, hop as u8, transit, base);
        }
    }

    /// The datagram left the last link of its route: the host takes it, or refuses it.
    fn arrive(&mut self, slot: usize, t: Nanos) {
        let Some(f) = self.release(slot) else { return };
        let hop = f.len - 1;
        let last = f.route[hop as usize] as usize;
        let host = &self.hosts[f.to];
        if *f.d.dst.ip() != host.addr {
            self.dropped(&f, last, hop, Stage::Inside, DropReason::AddressChanged, t);
            return;
        }
        if !f.reset {
            if let Verdict::Block(how) = host.firewall.check(&self.flow(&f, RuleDirection::In)) {
                self.dropped(&f, last, hop, Stage::Inside, DropReason::Firewall, t);
                if how == TcpBlock::Reset && f.d.proto == (Proto::Tcp { syn: true }) {
                    let slot = self.alloc(InFlight::new(Self::reset_of(&f.d), true, NOT_WATCHED));
                    self.push(t, EventKind::Send(slot));
                }
                return;
            }
        }
        if f.copy_hop != hop {
            self.links[last].count_delivered(t, f.d.size);
        }
        if f.watch != NOT_WATCHED {
            self.watch_left(f.watch, last, hop as usize, t - f.entered);
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

#[cfg(test)]
#[path = "counter_tests.rs"]
mod tests;
