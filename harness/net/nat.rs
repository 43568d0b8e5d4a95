//! One site's NAT (RFC 4787 for UDP, RFC 5382 for TCP) as a state machine: handed a packet's
//! endpoints and the time, it answers with the translated endpoint or a refusal. It never
//! reads a clock; a mapping expires when a packet finds it idle past its protocol's timeout.
//!
//! - **Mapping**: an outbound packet from internal endpoint X to remote endpoint Y uses the
//!   mapping of (X, Y's address and port) under address-and-port-dependent mapping, of (X, Y's
//!   address) under address-dependent, of X alone under endpoint-independent; a missing or
//!   expired one is made. Its external port is X's own port when `port_preservation` is on
//!   and that port is free, else the next free port from 1024 up (wrapping at 65535), per
//!   protocol, in the order mappings are made: deterministic for a given run.
//! - **Refresh**: only outbound packets refresh a mapping (RFC 4787 REQ-6's outbound refresh);
//!   each one also opens the mapping's filter to its destination.
//! - **Filtering**: an inbound packet to external port P is let in to the internal endpoint of
//!   P's live mapping if anyone may (endpoint-independent), if the internal endpoint sent to
//!   the packet's source address (address-dependent), or to its source address and port
//!   (address-and-port-dependent), through that mapping. What the filter remembers lives as
//!   long as the mapping (no timer of its own).
//! - TCP is mapped like UDP, segment by segment (no connection tracking: any outbound segment
//!   makes or refreshes a mapping), in its own port space and with its own timeout.
//!
//! ```
//! use callharness::net::nat::{Nat, NatProto};
//! use callharness::net::{NatConfig, NatType};
//! let mut nat = Nat::new("home", &NatConfig::preset(NatType::PortRestricted), "203.0.113.1".parse().unwrap());
//! let (me, stun) = ("10.0.0.2:50000".parse().unwrap(), "198.51.100.1:3478".parse().unwrap());
//! let ext = nat.outbound(0, NatProto::Udp, me, stun).unwrap();
//! assert_eq!(ext.to_string(), "203.0.113.1:50000"); // port preserved
//! assert_eq!(nat.inbound(1, NatProto::Udp, stun, 50000), Ok(me)); // the reply gets in
//! let other = "198.51.100.1:9".parse().unwrap();
//! assert!(nat.inbound(1, NatProto::Udp, other, 50000).is_err()); // another port does not
//! ```

use crate::net::datagram::Proto;
use crate::net::nat_config::{NatBehavior, NatConfig};
use crate::net::Nanos;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

/// The first port handed out when the internal port is not kept.
pub const FIRST_DYNAMIC_PORT: u16 = 1024;

/// A mapping's protocol: UDP and TCP have their own ports and timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NatProto {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

impl From<Proto> for NatProto {
    fn from(p: Proto) -> NatProto {
        match p {
            Proto::Udp => NatProto::Udp,
            Proto::Tcp { .. } => NatProto::Tcp,
        }
    }
}

impl fmt::Display for NatProto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NatProto::Udp => "udp",
            NatProto::Tcp => "tcp",
        })
    }
}

/// Why the NAT did not let an inbound packet in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatRefusal {
    /// No live mapping has that external port (never made, or expired).
    NoMapping,
    /// A mapping has the port, but its filter does not admit the packet's source.
    Filtered,
}

/// A live mapping, for reports: "mapped 10.0.0.1:50000 -> 203.0.113.1:50000".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NatMapping {
    /// Its protocol.
    pub proto: NatProto,
    /// The host's own endpoint.
    pub internal: SocketAddrV4,
    /// The endpoint the rest of the world sees.
    pub external: SocketAddrV4,
    /// When an outbound packet last used it, ns.
    pub last_used: Nanos,
}

impl fmt::Display for NatMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mapped {} {} -> {}",
            self.proto, self.internal, self.external
        )
    }
}

/// What a NAT did, counted as it happens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatCounters {
    /// The site whose NAT it is.
    pub site: String,
    /// Its public address.
    pub public: Option<Ipv4Addr>,
    /// Mappings made.
    pub mappings_created: u64,
    /// Mappings that went idle past their timeout (when the counters were read, or earlier).
    pub mappings_expired: u64,
    /// Mappings live when the counters were read.
    pub mappings_active: u64,
    /// Outbound packets whose source was translated (hairpinned ones included).
    pub translated_out: u64,
    /// Inbound packets whose destination was translated (hairpinned ones included).
    pub translated_in: u64,
    /// Packets a host sent to its own site's public address that came back in (hairpinning).
    pub hairpinned: u64,
    /// Inbound packets refused by a mapping's filter.
    pub dropped_filtered: u64,
    /// Inbound packets for a port with no live mapping, and outbound ones with no free port.
    pub dropped_no_mapping: u64,
    /// Packets to the site's own public address refused because hairpinning is off.
    pub dropped_hairpin: u64,
}

impl fmt::Display for NatCounters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let public = self.public.map_or("-".to_string(), |a| a.to_string());
        write!(
            f,
            "nat:{} ({public}): mappings created {}, expired {}, active {}; translated out {}, in {}, hairpinned {}; dropped filtered {}, no mapping {}, hairpin {}",
            self.site,
            self.mappings_created,
            self.mappings_expired,
            self.mappings_active,
            self.translated_out,
            self.translated_in,
            self.hairpinned,
            self.dropped_filtered,
            self.dropped_no_mapping,
            self.dropped_hairpin
        )
    }
}

/// What selects a mapping for an outbound packet: the remote part is zeroed as far as the
/// mapping behaviour ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct MapKey {
    proto: NatProto,
    internal: SocketAddrV4,
    remote: (Ipv4Addr, u16),
}

#[derive(Debug, Clone)]
struct Binding {
    key: MapKey,
    last_out: Nanos,
    /// The remote ends sent to through it, as far as the filtering looks (address, or
    /// address and port); empty under endpoint-independent filtering.
    sent_to: BTreeSet<(Ipv4Addr, u16)>,
}

/// One site's NAT (see the module docs).
#[derive(Debug, Clone)]
pub struct Nat {
    cfg: NatConfig,
    public: Ipv4Addr,
    by_key: BTreeMap<MapKey, u16>,
    by_port: BTreeMap<(NatProto, u16), Binding>,
    /// The next port to try, per protocol, when the internal one is not kept.
    next_port: [u16; 2],
    counters: NatCounters,
}

impl Nat {
    /// The NAT of site `site`, with public address `public`.
    pub fn new(site: &str, cfg: &NatConfig, public: Ipv4Addr) -> Nat {
        Nat {
            cfg: cfg.clone(),
            public,
            by_key: BTreeMap::new(),
            by_port: BTreeMap::new(),
            next_port: [FIRST_DYNAMIC_PORT; 2],
            counters: NatCounters {
                site: site.to_string(),
                public: Some(public),
                ..NatCounters::default()
            },
        }
    }

    /// Its public address.
    pub fn public_addr(&self) -> Ipv4Addr {
        self.public
    }

    /// Its configuration.
    pub fn config(&self) -> &NatConfig {
        &self.cfg
    }

    fn timeout(&self, proto: NatProto) -> Nanos {
        match proto {
            NatProto::Udp => self.cfg.udp_timeout.as_nanos(),
            NatProto::Tcp => self.cfg.tcp_timeout.as_nanos(),
        }
    }

    fn live(&self, b: &Binding, now: Nanos) -> bool {
        now.saturating_sub(b.last_out) < self.timeout(b.key.proto)
    }

    fn key(&self, proto: NatProto, internal: SocketAddrV4, remote: SocketAddrV4) -> MapKey {
        let remote = match self.cfg.mapping {
            NatBehavior::EndpointIndependent => (Ipv4Addr::UNSPECIFIED, 0),
            NatBehavior::AddressDependent => (*remote.ip(), 0),
            NatBehavior::AddressAndPortDependent => (*remote.ip(), remote.port()),
        };
        MapKey {
            proto,
            internal,
            remote,
        }
    }

    /// What the filter remembers of a destination.
    fn permit(&self, remote: SocketAddrV4) -> Option<(Ipv4Addr, u16)> {
        match self.cfg.filtering {
            NatBehavior::EndpointIndependent => None,
            NatBehavior::AddressDependent => Some((*remote.ip(), 0)),
            NatBehavior::AddressAndPortDependent => Some((*remote.ip(), remote.port())),
        }
    }

    fn expire(&mut self, proto: NatProto, port: u16) {
        if let Some(b) = self.by_port.remove(&(proto, port)) {
            self.by_key.remove(&b.key);
            self.counters.mappings_expired += 1;
        }
    }

    /// True if `port` is free for a new mapping (an expired mapping holding it is removed).
    fn port_free(&mut self, now: Nanos, proto: NatProto, port: u16) -> bool {
        match self.by_port.get(&(proto, port)) {
            None => true,
            Some(b) if !self.live(b, now) => {
                self.expire(proto, port);
                true
            }
            Some(_) => false,
        }
    }

    fn allocate(&mut self, now: Nanos, proto: NatProto, wanted: u16) -> Option<u16> {
        if self.cfg.port_preservation && wanted != 0 && self.port_free(now, proto, wanted) {
            return Some(wanted);
        }
        let i = proto as usize;
        for _ in FIRST_DYNAMIC_PORT..=u16::MAX {
            let p = self.next_port[i];
            self.next_port[i] = p.checked_add(1).unwrap_or(FIRST_DYNAMIC_PORT);
            if self.port_free(now, proto, p) {
                return Some(p);
            }
        }
        None
    }

    /// Translates an outbound packet from `internal` to `remote` at `now`: the external
    /// endpoint it leaves with, its mapping made or refreshed; `None` if no port is free.
    pub fn outbound(
        &mut self,
        now: Nanos,
        proto: NatProto,
        internal: SocketAddrV4,
        remote: SocketAddrV4,
    ) -> Option<SocketAddrV4> {
        let key = self.key(proto, internal, remote);
        let permit = self.permit(remote);
        if let Some(&port) = self.by_key.get(&key) {
            let live = self.by_port.get(&(proto, port)).map(|b| self.live(b, now));
            match live {
                Some(true) => {
                    if let Some(b) = self.by_port.get_mut(&(proto, port)) {
                        b.last_out = now;
                        b.sent_to.extend(permit);
                    }
                    self.counters.translated_out += 1;
                    return Some(SocketAddrV4::new(self.public, port));
                }
                _ => self.expire(proto, port),
            }
        }
        let Some(port) = self.allocate(now, proto, internal.port()) else {
            self.counters.dropped_no_mapping += 1;
            return None;
        };
        self.by_key.insert(key, port);
        self.by_port.insert(
            (proto, port),
            Binding {
                key,
                last_out: now,
                sent_to: permit.into_iter().collect(),
            },
        );
        self.counters.mappings_created += 1;
        self.counters.translated_out += 1;
        Some(SocketAddrV4::new(self.public, port))
    }

    /// Checks an inbound packet from `remote` to the public address's `port` at `now`: the
    /// internal endpoint it goes to, or why it is refused.
    pub fn inbound(
        &mut self,
        now: Nanos,
        proto: NatProto,
        remote: SocketAddrV4,
        port: u16,
    ) -> Result<SocketAddrV4, NatRefusal> {
        let found = self.by_port.get(&(proto, port)).map(|b| self.live(b, now));
        match found {
            Some(true) => {}
            Some(false) => {
                self.expire(proto, port);
                self.counters.dropped_no_mapping += 1;
                return Err(NatRefusal::NoMapping);
            }
            None => {
                self.counters.dropped_no_mapping += 1;
                return Err(NatRefusal::NoMapping);
            }
        }
        let permit = self.permit(remote);
        let Some(b) = self.by_port.get(&(proto, port)) else {
            return Err(NatRefusal::NoMapping);
        };
        if permit.is_some_and(|p| !b.sent_to.contains(&p)) {
            self.counters.dropped_filtered += 1;
            return Err(NatRefusal::Filtered);
        }
        self.counters.translated_in += 1;
        Ok(b.key.internal)
    }

    /// Whether a host of the site may send to the site's own public address; counts the
    /// packet as hairpinned or refused.
    pub fn hairpin(&mut self) -> bool {
        if self.cfg.hairpinning {
            self.counters.hairpinned += 1;
        } else {
            self.counters.dropped_hairpin += 1;
        }
        self.cfg.hairpinning
    }

    /// The live mapping a packet from `internal` to `remote` would use at `now`, if any
    /// (nothing is made or refreshed).
    pub fn mapping(
        &self,
        now: Nanos,
        proto: NatProto,
        internal: SocketAddrV4,
        remote: SocketAddrV4,
    ) -> Option<NatMapping> {
        let port = *self.by_key.get(&self.key(proto, internal, remote))?;
        let b = self.by_port.get(&(proto, port))?;
        self.live(b, now).then(|| self.describe(port, b))
    }

    /// Every live mapping at `now`, by protocol and external port.
    pub fn mappings(&self, now: Nanos) -> Vec<NatMapping> {
        self.by_port
            .iter()
            .filter(|(_, b)| self.live(b, now))
            .map(|(&(_, port), b)| self.describe(port, b))
            .collect()
    }

    fn describe(&self, port: u16, b: &Binding) -> NatMapping {
        NatMapping {
            proto: b.key.proto,
            internal: b.key.internal,
            external: SocketAddrV4::new(self.public, port),
            last_used: b.last_out,
        }
    }

    /// Its counters as they stand at `now` (mappings idle past their timeout count as
    /// expired even if no packet has found them yet).
    pub fn counters(&self, now: Nanos) -> NatCounters {
        let idle = self.by_port.values().filter(|b| !self.live(b, now)).count() as u64;
        NatCounters {
            mappings_expired: self.counters.mappings_expired + idle,
            mappings_active: self.by_port.len() as u64 - idle,
            ..self.counters.clone()
        }
    }
}

#[cfg(test)]
#[path = "nat_tests.rs"]
mod tests;
