//! The conferencing edge on its host: a TURN relay (RFC 8656) that also answers STUN Binding
//! requests (what clients gather server-reflexive candidates from).
//!
//! The protocol is `turn-server-proto`'s: one `TurnServer` per listening transport (UDP 3478
//! and TCP 443), and on the same TCP 443 TURN over TLS (TURNS) through `turn-server-rustls`'s
//! `RustlsTurnServer`; this file gives them sockets on the emulated network (the TCP
//! connections are real TCP, `sim/streams.rs`; the servers frame the stream themselves). As real
//! relays do (coturn), the edge tells the two apart on each accepted connection by its first
//! byte: 0x16 opens a TLS ClientHello, anything else is STUN (a TURN client's first message).
//! The TLS is the run's seeded one ([`crate::agent::tls`]): the same seed gives the same
//! handshake bytes. An Allocate gets the next free
//! relayed port on the edge's address (from 49152, in order, so a seed gives the same ports);
//! what a peer sends to a relayed port goes to the server instance that allocated it.
//! Credentials are the service's: every account gets a long-term user on the relay
//! (see [`relay_credentials`]).

use crate::agent::relay::{instant, v4};
use crate::agent::tls::{RecordSplitter, TlsClient, TlsSetup};
use crate::net::HostId;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use turn_server_proto::api::{
    DelayedMessageOrChannelSend, SocketAllocateError, TurnServerApi, TurnServerPollRet,
};
use turn_server_proto::server::TurnServer;
use turn_server_proto::stun::agent::Transmit;
use turn_server_proto::types::transmit::TransmitBuild;
use turn_server_proto::types::{AddressFamily, Instant, TransportType};
use turn_server_rustls::RustlsTurnServer;

/// The relay's UDP port (STUN and TURN).
pub const TURN_UDP_PORT: u16 = 3478;
/// The relay's TCP port (TURN over TCP and over TLS, where firewalls that block UDP still let
/// HTTPS by).
pub const TURN_TCP_PORT: u16 = 443;
/// The first byte of a TLS connection: a handshake record (RFC 8446 section 5.1).
const TLS_HANDSHAKE: u8 = 0x16;
/// The server instances, in `Edge::servers`.
const UDP: usize = 0;
const TCP: usize = 1;
const TLS: usize = 2;
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

/// One of the edge's server instances: plain TURN (over UDP or TCP) or TURN over TLS.
enum RelayServer {
    Plain(TurnServer),
    Tls(RustlsTurnServer),
}

/// What the edge calls on a server, whichever it is.
impl RelayServer {
    fn api(&mut self) -> &mut dyn ServerCalls {
        match self {
            RelayServer::Plain(s) => s,
            RelayServer::Tls(s) => s,
        }
    }
}

/// `TurnServerApi`'s calls that the edge makes, object-safe (the trait's `recv` is generic).
trait ServerCalls {
    fn recv_bytes(
        &mut self,
        t: Transmit<&[u8]>,
        now: Instant,
    ) -> Option<(TransportType, SocketAddr, SocketAddr, Vec<u8>)>;
    fn poll_at(&mut self, now: Instant) -> TurnServerPollRet;
    fn transmit(&mut self, now: Instant) -> Option<Transmit<Vec<u8>>>;
    #[allow(clippy::too_many_arguments)]
    fn allocated(
        &mut self,
        transport: TransportType,
        listen: SocketAddr,
        client: SocketAddr,
        allocation: TransportType,
        family: AddressFamily,
        addr: Result<SocketAddr, SocketAllocateError>,
        now: Instant,
    );
    fn user(&mut self, user: String, password: String);
}

impl<S: TurnServerApi> ServerCalls for S {
    fn recv_bytes(
        &mut self,
        t: Transmit<&[u8]>,
        now: Instant,
    ) -> Option<(TransportType, SocketAddr, SocketAddr, Vec<u8>)> {
        let reply: TransmitBuild<DelayedMessageOrChannelSend<&[u8]>> = self.recv(t, now)?;
        let reply = reply.build();
        Some((reply.transport, reply.from, reply.to, reply.data))
    }
    fn poll_at(&mut self, now: Instant) -> TurnServerPollRet {
        self.poll(now)
    }
    fn transmit(&mut self, now: Instant) -> Option<Transmit<Vec<u8>>> {
        self.poll_transmit(now)
    }
    fn allocated(
        &mut self,
        transport: TransportType,
        listen: SocketAddr,
        client: SocketAddr,
        allocation: TransportType,
        family: AddressFamily,
        addr: Result<SocketAddr, SocketAllocateError>,
        now: Instant,
    ) {
        self.allocated_socket(transport, listen, client, allocation, family, addr, now);
    }
    fn user(&mut self, user: String, password: String) {
        self.add_user(user, password);
    }
}

/// What an accepted connection to 443 turned out to carry (from its first byte).
enum StreamKind {
    Plain,
    /// TLS, with the records still arriving (handed to the server one at a time).
    Tls(RecordSplitter),
}

/// See the module docs.
pub struct Edge {
    pub host: HostId,
    addr: Ipv4Addr,
    /// UDP, TCP and TLS, in that order (indices `UDP`, `TCP`, `TLS`).
    servers: Vec<RelayServer>,
    /// The run's TLS (the server's certificate, the clients' trust in it, the clock).
    tls: TlsSetup,
    /// Accepted connections to 443, by client address: which server reads them.
    streams: BTreeMap<SocketAddrV4, StreamKind>,
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
    /// Allocations made per server instance (UDP, TCP, TLS), and ended (released or expired).
    allocations: [u64; 3],
    ended: u64,
}

impl Edge {
    /// The edge on `host` at `addr`, its relay accepting `users` (user, password), its TLS
    /// seeded from the run's `seed`.
    pub fn new(host: HostId, addr: Ipv4Addr, users: &[(String, String)], seed: u64) -> Edge {
        let udp = TurnServer::new(
            TransportType::Udp,
            SocketAddr::V4(SocketAddrV4::new(addr, TURN_UDP_PORT)),
            REALM.to_owned(),
        );
        let tcp = TurnServer::new(
            TransportType::Tcp,
            SocketAddr::V4(SocketAddrV4::new(addr, TURN_TCP_PORT)),
            REALM.to_owned(),
        );
        // Made from constants: only a bug can fail it (the module's tests make it).
        let tls = TlsSetup::new(seed).unwrap_or_else(|e| unreachable!("the edge's TLS: {e}"));
        let tls_server = RustlsTurnServer::new(
            SocketAddr::V4(SocketAddrV4::new(addr, TURN_TCP_PORT)),
            REALM.to_owned(),
            tls.server(),
        );
        let mut servers = vec![
            RelayServer::Plain(udp),
            RelayServer::Plain(tcp),
            RelayServer::Tls(tls_server),
        ];
        for s in &mut servers {
            for (u, p) in users {
                s.api().user(u.clone(), p.clone());
            }
        }
        Edge {
            host,
            addr,
            servers,
            tls,
            streams: BTreeMap::new(),
            tcp_out: Vec::new(),
            relayed: BTreeMap::new(),
            next_port: FIRST_RELAYED_PORT,
            wake: Some(0),
            extra_wake: None,
            out: Vec::new(),
            allocations: [0; 3],
            ended: 0,
        }
    }

    /// A UDP datagram arrived at the edge (to its relay port or to a relayed port).
    pub fn handle_udp(&mut self, now: u64, from: SocketAddrV4, to: SocketAddrV4, bytes: &[u8]) {
        self.note_refresh(now, bytes);
        let server = if to.port() == TURN_UDP_PORT {
            Some(UDP)
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
        self.tls.set_time(now);
        if let Some((tr, f, to, data)) = self.servers[si].api().recv_bytes(t, instant(now)) {
            self.route(tr, f, to, data);
        }
        self.poll(now);
    }

    /// Bytes arrived on the TCP stream from client `from` (to the relay's port 443): the
    /// first byte of the stream decides whether the plain server or the TLS one reads it.
    pub fn handle_tcp(&mut self, now: u64, from: SocketAddrV4, bytes: &[u8]) {
        let Some(&first) = bytes.first() else {
            return;
        };
        let kind = self.streams.entry(from).or_insert_with(|| {
            if first == TLS_HANDSHAKE {
                StreamKind::Tls(RecordSplitter::default())
            } else {
                StreamKind::Plain
            }
        });
        let records = match kind {
            StreamKind::Plain => None,
            StreamKind::Tls(split) => {
                split.push(bytes);
                Some(std::iter::from_fn(|| split.next_record()).collect::<Vec<_>>())
            }
        };
        match records {
            None => {
                self.note_refresh(now, bytes);
                self.recv_stream(now, TCP, from, bytes);
            }
            // A Refresh inside TLS cannot be seen: poll 1 ms after any record (at most one
            // extra poll a millisecond, and only while TLS traffic flows).
            Some(records) => {
                if !records.is_empty() && self.extra_wake.is_none() {
                    self.extra_wake = Some(now + 1_000_000);
                }
                for r in records {
                    self.recv_stream(now, TLS, from, &r);
                }
            }
        }
        self.poll(now);
    }

    fn recv_stream(&mut self, now: u64, si: usize, from: SocketAddrV4, bytes: &[u8]) {
        let t = Transmit {
            data: bytes,
            transport: TransportType::Tcp,
            from: SocketAddr::V4(from),
            to: SocketAddr::V4(SocketAddrV4::new(self.addr, TURN_TCP_PORT)),
        };
        self.tls.set_time(now);
        if let Some((tr, f, to, data)) = self.servers[si].api().recv_bytes(t, instant(now)) {
            self.route(tr, f, to, data);
        }
    }

    /// The TCP stream from client `from` is gone: its allocation lapses with its lifetime (a
    /// server keeps no state for a 5-tuple that no longer exists beyond that). The TLS server
    /// keeps its session for the address (`turn-server-rustls` forgets one only after a TLS
    /// close_notify each way): a later connection from the same address and port, which only a
    /// NAT reusing a mapping would make, would not complete its handshake.
    pub fn tcp_closed(&mut self, from: SocketAddrV4) {
        self.streams.remove(&from);
    }

    /// What the clients need to reach this edge over TLS (its certificate in their root store,
    /// its name, the run's clock).
    pub fn tls_client(&self) -> TlsClient {
        self.tls.client()
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
        self.tls.set_time(now);
        for si in 0..self.servers.len() {
            loop {
                match self.servers[si].api().poll_at(instant(now)) {
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
                        self.allocations[si] += 1;
                        self.servers[si].api().allocated(
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
            while let Some(t) = self.servers[si].api().transmit(instant(now)) {
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
        let made: u64 = self.allocations.iter().sum();
        (made > 0).then(|| crate::report::model::EdgeReport {
            allocations_udp: self.allocations[UDP],
            allocations_tcp: self.allocations[TCP],
            allocations_tls: self.allocations[TLS],
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::relay::{RelayClient, RelayTransport};

    /// Carries bytes between `clients` (each on its own TCP connection to 443) and `edge`,
    /// 1 ms a step, for 500 ms (turn-client-proto spaces its requests 50 ms apart); returns
    /// the time reached, ns.
    fn exchange(edge: &mut Edge, clients: &mut [&mut RelayClient], mut now: u64) -> u64 {
        for _ in 0..500 {
            for c in clients.iter_mut() {
                c.poll(now);
                while let Some((_, bytes)) = c.poll_transmit() {
                    edge.handle_tcp(now, c.local(), &bytes);
                }
            }
            edge.poll(now);
            for (to, bytes) in edge.drain_tcp() {
                if let Some(c) = clients.iter_mut().find(|c| c.local() == to) {
                    c.handle_from_server(now, &bytes);
                }
            }
            now += 1_000_000;
        }
        now
    }

    #[test]
    fn one_port_serves_turn_over_tcp_and_over_tls_told_apart_by_the_first_byte() {
        let addr = Ipv4Addr::new(10, 254, 0, 2);
        let users = [("alice".to_owned(), "pw".to_owned())];
        let mut edge = Edge::new(HostId(2), addr, &users, 7);
        let server = SocketAddrV4::new(addr, TURN_TCP_PORT);
        let mut tcp = RelayClient::new(
            RelayTransport::Tcp,
            "10.0.0.1:50000".parse().unwrap(),
            server,
            "alice",
            "pw",
        );
        let tls = edge.tls_client();
        let mut over_tls = RelayClient::new_tls(
            "10.0.0.1:40000".parse().unwrap(),
            server,
            "alice",
            "pw",
            &tls,
        );
        exchange(&mut edge, &mut [&mut tcp, &mut over_tls], 0);
        let (a, b) = (
            tcp.relayed().expect("over TCP"),
            over_tls.relayed().expect("over TLS"),
        );
        assert_ne!(a, b);
        let report = edge.report().expect("allocations were made");
        assert_eq!((report.allocations_tcp, report.allocations_tls), (1, 1));
        assert_eq!(report.allocations_udp, 0);

        // Released over TLS (the Refresh cannot be seen inside TLS): gone within 1 ms.
        let now = 10_000_000_000;
        over_tls.release(now);
        let now = exchange(&mut edge, &mut [&mut over_tls], now);
        edge.poll(now + 2_000_000);
        let report = edge.report().unwrap();
        assert_eq!(
            (report.allocations_ended, report.allocations_active),
            (1, 1)
        );
    }

    #[test]
    fn a_tls_client_expecting_another_name_gets_no_allocation() {
        let addr = Ipv4Addr::new(10, 254, 0, 2);
        let users = [("alice".to_owned(), "pw".to_owned())];
        let mut edge = Edge::new(HostId(2), addr, &users, 7);
        let server = SocketAddrV4::new(addr, TURN_TCP_PORT);
        let wrong = edge.tls_client().expecting("turn.example.test").unwrap();
        let mut c = RelayClient::new_tls(
            "10.0.0.1:40000".parse().unwrap(),
            server,
            "alice",
            "pw",
            &wrong,
        );
        exchange(&mut edge, &mut [&mut c], 0);
        assert_eq!(c.relayed(), None);
        // Failed at once (gathering does not wait for its timeout).
        assert_eq!(c.state(), crate::agent::relay::AllocationState::Failed);
        assert_eq!(edge.report(), None, "nothing was allocated");
    }
}
