//! NATs on sites: a site with `nat:` hides its hosts behind one public address.
//!
//! Where a packet is translated (see also `forward.rs`):
//! - **Leaving the site**: when a packet from one of the site's hosts to another site (or to
//!   the site's own public address) leaves the sender's access link, before the site's shared
//!   uplink and the core, its source becomes the public address and the mapped port.
//! - **Entering the site**: a packet to the public address is checked against the mapping of
//!   its destination port and the mapping's filter when it has crossed the core and the site's
//!   shared downlink, and goes on to the mapped host's access link with its destination
//!   translated back; else it is dropped (`nat-no-mapping`, `nat-filtered`).
//! - Between two hosts of one site nothing is translated. A packet from another site to a
//!   host's private address is dropped at its sender (`private-address`): those addresses do
//!   not route from outside. Hosts of sites without a NAT are reachable from everywhere, as
//!   before.
//! - **Hairpinning**: a host sending to its own site's public address and a mapped port is
//!   translated out and back in (so the receiver sees the sender's public endpoint) and never
//!   leaves the site; without hairpinning it is dropped (`nat-hairpin`).
//!
//! The delivered [`crate::net::Datagram`] carries the translated addresses: a receiver on the
//! far side sees the NAT's public address and port as its source, as a STUN server does. Only
//! the datagram's `src` and `dst` are rewritten; the payload is opaque to the network (for TCP
//! the simulation keeps its segments' bytes itself). A TCP reset coming back crosses the NATs
//! like any packet, so it reaches the host that sent the refused SYN.
//!
//! The n-th NAT without a `public:` address (in site order) gets 203.0.113.n (TEST-NET-3, RFC
//! 5737), skipping addresses a host or another NAT has.

use crate::net::error::NetError;
use crate::net::forward::{Stage, NAT_IN, NAT_OUT};
use crate::net::link::DropReason;
use crate::net::nat::{Nat, NatCounters, NatMapping, NatProto, NatRefusal};
use crate::net::network_config::NetworkConfig;
use crate::net::topology::{Network, Owner, SiteState};
use crate::net::{Nanos, Proto};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};

/// Gives every site with a NAT its NAT and public address, and the address to `owners`.
pub(crate) fn build_nats(
    cfg: &NetworkConfig,
    sites: &mut [SiteState],
    owners: &mut BTreeMap<Ipv4Addr, Owner>,
) -> Result<(), NetError> {
    let taken = |owners: &BTreeMap<Ipv4Addr, Owner>, a: &Ipv4Addr| -> Option<String> {
        owners.get(a).map(|o| match *o {
            Owner::Host(h) => format!("host {}", cfg.hosts[h].name),
            Owner::Nat(s) => format!("the NAT of site {}", cfg.sites[s].name),
        })
    };
    // Given addresses first, so that a default one never takes a given one.
    for (i, s) in cfg.sites.iter().enumerate() {
        let Some(public) = s.nat.as_ref().and_then(|n| n.public) else {
            continue;
        };
        if public.is_unspecified() || public.is_broadcast() || public.is_multicast() {
            return Err(NetError::Topology(format!(
                "site {}: NAT public address {public} is not a host address (expected a unicast address like 203.0.113.7)",
                s.name
            )));
        }
        if let Some(other) = taken(owners, &public) {
            return Err(NetError::Topology(format!(
                "site {}: NAT public address {public} is also {other}'s",
                s.name
            )));
        }
        owners.insert(public, Owner::Nat(i));
    }
    let mut next = 1u8;
    for (i, s) in cfg.sites.iter().enumerate() {
        let Some(nat) = &s.nat else { continue };
        let public = match nat.public {
            Some(a) => a,
            None => loop {
                let a = Ipv4Addr::new(203, 0, 113, next);
                if next == 255 {
                    return Err(NetError::Topology(format!(
                        "site {}: no free public address left in 203.0.113.0/24 for its NAT (give it `public:`)",
                        s.name
                    )));
                }
                next += 1;
                if let std::collections::btree_map::Entry::Vacant(e) = owners.entry(a) {
                    e.insert(Owner::Nat(i));
                    break a;
                }
            },
        };
        sites[i].nat = Some(Nat::new(&s.name, nat, public));
    }
    Ok(())
}

impl<P: Clone> Network<P> {
    /// Translates the datagram in `slot` at the NATs it meets on entering hop `hop`; false if
    /// a NAT dropped it (counted on the link it left).
    pub(crate) fn cross_nat(&mut self, slot: usize, hop: usize, t: Nanos) -> bool {
        let Some(f) = self.inflight[slot].as_mut() else {
            return false;
        };
        let (proto, src, dst, flags) = (NatProto::from(f.d.proto), f.d.src, f.d.dst, f.nat);
        let mut refused = None;
        let mut new_src = src;
        if flags & NAT_OUT != 0 && hop == 1 {
            f.nat &= !NAT_OUT;
            let site = match self.owners.get(src.ip()) {
                Some(&Owner::Host(h)) => Some(self.hosts[h].site),
                _ => None,
            };
            if let Some(nat) = site.and_then(|s| self.sites[s].nat.as_mut()) {
                if flags & NAT_IN != 0 && *dst.ip() == nat.public_addr() && !nat.hairpin() {
                    refused = Some(DropReason::NatHairpin);
                } else {
                    match nat.outbound(t, proto, src, dst) {
                        Some(ext) => new_src = ext,
                        None => refused = Some(DropReason::NatNoMapping),
                    }
                }
            }
        }
        let mut inward = None;
        if refused.is_none() && flags & NAT_IN != 0 && hop + 1 == f.len as usize {
            f.nat &= !NAT_IN;
            let nat = match self.owners.get(dst.ip()) {
                Some(&Owner::Nat(s)) => self.sites[s].nat.as_mut(),
                _ => None,
            };
            match nat.map(|n| n.inbound(t, proto, new_src, dst.port())) {
                Some(Ok(internal)) => inward = Some(internal),
                Some(Err(NatRefusal::Filtered)) => refused = Some(DropReason::NatFiltered),
                Some(Err(NatRefusal::NoMapping)) | None => refused = Some(DropReason::NatNoMapping),
            }
        }
        let host = inward.and_then(|a| self.owners.get(a.ip()).and_then(|o| o.host()));
        let Some(f) = self.inflight[slot].as_mut() else {
            return false;
        };
        f.d.src = new_src;
        if let (Some(internal), Some(h)) = (inward, host) {
            f.d.dst = internal;
            f.to = h;
            f.route[hop] = self.hosts[h].down as u32;
        } else if inward.is_some() {
            refused = Some(DropReason::NatNoMapping);
        }
        let Some(why) = refused else { return true };
        let prev = f.route[hop - 1] as usize;
        if let Some(f) = self.release(slot) {
            self.dropped(&f, prev, (hop - 1) as u8, Stage::Inside, why, t);
        }
        false
    }

    /// The public address of site `site`'s NAT (`None` for a site without one, or no such
    /// site).
    pub fn site_public_addr(&self, site: &str) -> Option<Ipv4Addr> {
        let s = self.sites.iter().find(|s| s.name == site)?;
        s.nat.as_ref().map(Nat::public_addr)
    }

    /// The live NAT mapping a `proto` packet from `internal` (a host's own address and port)
    /// to `remote` would leave its site with now, if any: what the far end (a STUN server)
    /// sees as its source. `None` when no NAT lies on the way or no mapping is live. Nothing
    /// is made or refreshed.
    pub fn nat_mapping(
        &self,
        proto: Proto,
        internal: SocketAddrV4,
        remote: SocketAddrV4,
    ) -> Option<NatMapping> {
        let h = self.owners.get(internal.ip())?.host()?;
        let site = self.hosts[h].site;
        let same_site = match self.owners.get(remote.ip()) {
            Some(&Owner::Host(r)) => self.hosts[r].site == site,
            _ => false,
        };
        if same_site {
            return None;
        }
        let nat = self.sites[site].nat.as_ref()?;
        nat.mapping(self.now, proto.into(), internal, remote)
    }

    /// Every live mapping of every NAT now, sites in configuration order.
    pub fn nat_mappings(&self) -> Vec<NatMapping> {
        self.sites
            .iter()
            .filter_map(|s| s.nat.as_ref())
            .flat_map(|n| n.mappings(self.now))
            .collect()
    }

    /// Every NAT's counters as they stand now, sites in configuration order (empty when no
    /// site has a NAT). Their drops are also on the links, by reason.
    pub fn nat_counters(&self) -> Vec<NatCounters> {
        self.sites
            .iter()
            .filter_map(|s| s.nat.as_ref())
            .map(|n| n.counters(self.now))
            .collect()
    }
}

#[cfg(test)]
#[path = "site_nat_tests.rs"]
mod tests;
