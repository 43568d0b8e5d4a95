//! The conferencing edge on its host: a TURN relay (RFC 8656) that also answers STUN Binding
//! requests (what clients gather server-reflexive candidates from).
//!
//! The protocol is `turn-server-proto`'s: one `TurnServer` per listening transport (UDP 3478
//! and TCP 443); this file gives them sockets on the emulated network (the TCP connections are
//! real TCP, `sim/streams.rs`; the server frames the stream itself). An Allocate gets the next free
//! relayed port on the edge's address (from 49152, in order, so a seed gives the same ports);
//! what a peer sends to a relayed port goes to the server instance that allocated it.
//! Credentials are the service's: every account gets a long-term user on the relay
//! (see [`relay_credentials`]).

use crate::agent::relay::{instant, v4};
use crate::net::HostId;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use turn_server_proto::api::{TurnServerApi, TurnServerPollRet};
use turn_server_proto::server::TurnServer;
use turn_server_proto::stun::agent::Transmit;
use turn_server_proto::types::TransportType;

/// The relay's UDP port (STUN and TURN).
pub const TURN_UDP_PORT: u16 = 3478;
/// The relay's TCP port (TURN over TCP, where firewalls that block UDP still let HTTPS by).
pub const TURN_TCP_PORT: u16 = 443;
/// The realm the relay authenticates in.
pub const REALM: &str = "callharness";
/// First relayed port the edge hands out.
const FIRST_RELAYED_PORT: u16 = 49_152;

/// The long-term relay credentials the service gives the account `address`: the user is the
/// address, the password derived from the run's seed (the service and its edge share them).
pub fn relay_credentials(seed: u64, address: &str) -> (String, String) {
    let p = crate::sim::sub_seed(seed, &format!("relay-password:{address}"));
    (address.to_owned(), format!("{p:016x}"))
}

/// See the module docs.
pub struct Edge {
    pub host: HostId,
    addr: Ipv4Addr,
    servers: Vec<TurnServer>,
    /// Relayed port -> the server instance that allocated it.
    relayed: BTreeMap<u16, usize>,
    next_port: u16,
    wake: Option<u64>,
    /// A poll asked for besides the servers' own timers (after a Refresh).
    extra_wake: Option<u64>,
    /// UDP datagrams to send: (from, to, bytes).
    out: Vec<(SocketAddrV4, SocketAddrV4, Vec<u8>)>,
    /// Bytes for the TCP clients' streams: (client, bytes).
    tcp_out: Vec<(SocketAddrV4, Vec<u8>)>,
    /// Allocations made per server instance (UDP, TCP), and ended (released or expired).
    allocations: [u64; 2],
    ended: u64,
}

impl Edge {
    /// The edge on `host` at `addr`, its relay accepting `users` (user, password).
    pub fn new(host: HostId, addr: Ipv4Addr, users: &[(String, String)]) -> Edge {
        let mut udp = TurnServer::new(
            TransportType::Udp,
            SocketAddr::V4(SocketAddrV4::new(addr, TURN_UDP_PORT)),
            REALM.to_owned(),
        );
        let mut tcp = TurnServer::new(
            TransportType::Tcp,
            SocketAddr::V4(SocketAddrV4::new(addr, TURN_TCP_PORT)),
            REALM.to_owned(),
        );
        for (u, p) in users {
            udp.add_user(u.clone(), p.clone());
            tcp.add_user(u.clone(), p.clone());
        }
        Edge {
            host,
            addr,
            servers: vec![udp, tcp],
            tcp_out: Vec::new(),
            relayed: BTreeMap::new(),
            next_port: FIRST_RELAYED_PORT,
            wake: Some(0),
            extra_wake: None,
            out: Vec::new(),
            allocations: [0; 2],
            ended: 0,
        }
    }

    /// A UDP datagram arrived at the edge (to its relay port or to a relayed port).
    pub fn handle_udp(&mut self, now: u64, from: SocketAddrV4, to: SocketAddrV4, bytes: &[u8]) {
        self.note_refresh(now, bytes);
        let server = if to.port() == TURN_UDP_PORT {
            Some(0)
        } else {
            self.relayed.get(&to.port()).copied()
        };
        let Some(si) = server else {
            return;
        };
        let t = Transmit {
            data: bytes,
            transport: TransportType::Udp,
            from: SocketAddr::V4(from),
            to: SocketAddr::V4(to),
        };
        if let Some(reply) = self.servers[si].recv(t, instant(now)) {
            let reply = reply.build();
            self.route(reply.transport, reply.from, reply.to, reply.data);
        }
        self.poll(now);
    }

    /// Bytes arrived on the TCP stream from client `from` (to the relay's port 443).
    pub fn handle_tcp(&mut self, now: u64, from: SocketAddrV4, bytes: &[u8]) {
        self.note_refresh(now, bytes);
        let t = Transmit {
            data: bytes,
            transport: TransportType::Tcp,
            from: SocketAddr::V4(from),
            to: SocketAddr::V4(SocketAddrV4::new(self.addr, TURN_TCP_PORT)),
        };
        if let Some(reply) = self.servers[1].recv(t, instant(now)) {
            let reply = reply.build();
            self.route(reply.transport, reply.from, reply.to, reply.data);
        }
        self.poll(now);
    }

    /// The TCP stream from client `from` is gone: its allocation lapses with its lifetime (a
    /// server keeps no state for a 5-tuple that no longer exists beyond that).
    pub fn tcp_closed(&mut self, from: SocketAddrV4) {
        let _ = from;
    }

    fn route(&mut self, transport: TransportType, from: SocketAddr, to: SocketAddr, data: Vec<u8>) {
        let (Some(f), Some(t)) = (v4(from), v4(to)) else {
            return;
        };
        match transport {
            TransportType::Tcp => self.tcp_out.push((t, data)),
            TransportType::Udp => self.out.push((f, t, data)),
        }
    }

    /// Takes the bytes the edge writes to its TCP clients' streams.
    pub fn drain_tcp(&mut self) -> Vec<(SocketAddrV4, Vec<u8>)> {
        std::mem::take(&mut self.tcp_out)
    }

    /// A Refresh request in `bytes` (a release is a Refresh with lifetime 0): the server
    /// removes a released allocation only at a poll after its expiry instant, so poll again
    /// 1 ms later rather than at its next timer, which may be minutes away.
    fn note_refresh(&mut self, now: u64, bytes: &[u8]) {
        // A STUN Refresh request: type 0x0004, then the length, then the magic cookie.
        let refresh = bytes
            .windows(8)
            .any(|w| w[..2] == [0x00, 0x04] && w[4..] == [0x21, 0x12, 0xa4, 0x42]);
        if refresh {
            self.extra_wake = Some(now + 1_000_000);
        }
    }

    /// Runs the servers' timers and answers their requests for sockets.
    pub fn poll(&mut self, now: u64) {
        let mut wake = u64::MAX;
        for si in 0..self.servers.len() {
            loop {
                match self.servers[si].poll(instant(now)) {
                    TurnServerPollRet::AllocateSocket {
                        transport,
                        listen_addr,
                        client_addr,
                        allocation_transport,
                        family,
                    } => {
                        let port = self.next_port;
                        self.next_port =
                            self.next_port.checked_add(1).unwrap_or(FIRST_RELAYED_PORT);
                        self.relayed.insert(port, si);
                        self.allocations[si.min(1)] += 1;
                        self.servers[si].allocated_socket(
                            transport,
                            listen_addr,
                            client_addr,
                            allocation_transport,
                            family,
                            Ok(SocketAddr::V4(SocketAddrV4::new(self.addr, port))),
                            instant(now),
                        );
                    }
                    TurnServerPollRet::WaitUntil(t) => {
                        wake = wake.min((t.as_nanos().max(0) as u64).max(now + 1));
                        break;
                    }
                    TurnServerPollRet::SocketClose { listen_addr, .. } => {
                        if let Some(a) = v4(listen_addr) {
                            if self.relayed.remove(&a.port()).is_some() {
                                self.ended += 1;
                            }
                        }
                    }
                    // Peer TCP connections (RFC 6062) are not offered.
                    TurnServerPollRet::TcpConnect { .. } | TurnServerPollRet::TcpClose { .. } => {}
                }
            }
            while let Some(t) = self.servers[si].poll_transmit(instant(now)) {
                self.route(t.transport, t.from, t.to, t.data);
            }
        }
        if self.extra_wake.is_some_and(|t| t <= now) {
            self.extra_wake = None;
        }
        let wake = self.extra_wake.map_or(wake, |t| t.min(wake));
        self.wake = (wake != u64::MAX).then_some(wake);
    }

    /// What the relay did over the run; None when nobody asked it for anything.
    pub fn report(&self) -> Option<crate::report::model::EdgeReport> {
        let made = self.allocations[0] + self.allocations[1];
        (made > 0).then(|| crate::report::model::EdgeReport {
            allocations_udp: self.allocations[0],
            allocations_tcp: self.allocations[1],
            allocations_ended: self.ended,
            allocations_active: self.relayed.len() as u64,
        })
    }

    /// When the edge next needs [`Edge::poll`], ns.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.wake
    }

    /// Takes the datagrams the edge sends.
    pub fn drain(&mut self) -> std::vec::Drain<'_, (SocketAddrV4, SocketAddrV4, Vec<u8>)> {
        self.out.drain(..)
    }
}
