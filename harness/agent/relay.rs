//! A call leg's TURN client (RFC 8656): one allocation on the edge's relay, over UDP, over a
//! TCP connection or over TLS on a TCP connection (TURNS), glued to the WebRTC stack as a
//! relay candidate.
//!
//! The protocol is `turn-client-proto`'s (sans-IO, it refreshes the allocation, permissions and
//! channels by itself and retries a stale nonce); this file is the glue. What the stack writes
//! from the relayed address goes to [`RelayClient::send_to`]: the first datagram to a peer
//! address installs a permission for its IP and asks for a channel, datagrams wait for the
//! permission (a TURN server drops data to a peer without one), then go as ChannelData once the
//! channel is bound (4 bytes of overhead) or as Send indications until then (36 bytes). What the
//! server relays in comes out of [`RelayClient::handle_from_server`] as (peer, bytes), for the
//! stack to read as arriving at the relayed address.
//!
//! Over UDP the client speaks from the leg's media socket, as real clients do (one socket for
//! the host and the relay candidate). Over TCP it writes a byte stream that the leg's TCP
//! connection to the server carries; TURN-over-TCP framing is the client's. Over TLS
//! (`turn-client-rustls`, with the run's seeded TLS: [`super::tls`]) the same, inside TLS
//! records, on a TCP connection of its own to the same port 443: its own source port too
//! ([`tls_source_port`]), as a client's second connection to one server needs.
//!
//! ```
//! use callharness::agent::relay::{RelayClient, RelayTransport};
//! let local = "10.0.0.1:50000".parse().unwrap();
//! let server = "10.254.0.2:3478".parse().unwrap();
//! let mut c = RelayClient::new(RelayTransport::Udp, local, server, "alice", "secret");
//! c.poll(0);
//! let (to, first) = c.poll_transmit().unwrap(); // the Allocate request
//! assert_eq!(to, server);
//! assert_eq!(&first[..2], &[0x00, 0x03]); // STUN method Allocate, class request
//! ```

use super::tls::{RecordSplitter, TlsClient};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr, SocketAddrV4};
use turn_client_proto::api::{TurnConfig, TurnEvent, TurnPollRet, TurnRecvRet};
use turn_client_proto::prelude::*;
use turn_client_proto::stun::agent::Transmit;
use turn_client_proto::stun::Instant;
use turn_client_proto::tcp::TurnClientTcp;
use turn_client_proto::types::{TransportType, TurnCredentials};
use turn_client_proto::udp::TurnClientUdp;
use turn_client_rustls::TurnClientRustls;

// The crate's own enum over its clients, with the TLS one beside them.
turn_client_proto::impl_client!(
    TurnClient,
    (Udp, TurnClientUdp),
    (Tcp, TurnClientTcp),
    (Tls, TurnClientRustls)
);

/// How the client reaches the relay server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RelayTransport {
    /// UDP to the server's 3478.
    Udp,
    /// A TCP connection to the server's 443.
    Tcp,
    /// TLS on a TCP connection to the server's 443 (TURNS, `turns:` URLs).
    Tls,
}

impl RelayTransport {
    /// The name reports use: `udp`, `tcp`, `tls`.
    pub fn name(self) -> &'static str {
        match self {
            RelayTransport::Udp => "udp",
            RelayTransport::Tcp => "tcp",
            RelayTransport::Tls => "tls",
        }
    }

    /// Whether the client reaches the server on a TCP stream (TCP or TLS).
    pub fn is_stream(self) -> bool {
        matches!(self, RelayTransport::Tcp | RelayTransport::Tls)
    }
}

/// A set of relay transports: the ones a client's policy allows, gathered in the order UDP,
/// TCP, TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayTransports(u8);

impl RelayTransports {
    /// UDP, TCP and TLS: what a client with no policy against any uses.
    pub const ALL: RelayTransports = RelayTransports(0b111);
    /// None: a client that uses no relay.
    pub const NONE: RelayTransports = RelayTransports(0);

    fn bit(t: RelayTransport) -> u8 {
        match t {
            RelayTransport::Udp => 1,
            RelayTransport::Tcp => 2,
            RelayTransport::Tls => 4,
        }
    }

    /// The set with `t` in it too.
    pub fn with(self, t: RelayTransport) -> RelayTransports {
        RelayTransports(self.0 | Self::bit(t))
    }

    /// Whether `t` is in the set.
    pub fn contains(self, t: RelayTransport) -> bool {
        self.0 & Self::bit(t) != 0
    }
}

impl Default for RelayTransports {
    fn default() -> Self {
        RelayTransports::ALL
    }
}

impl FromIterator<RelayTransport> for RelayTransports {
    fn from_iter<I: IntoIterator<Item = RelayTransport>>(iter: I) -> Self {
        iter.into_iter()
            .fold(RelayTransports::NONE, RelayTransports::with)
    }
}

/// Where the allocation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllocationState {
    /// Asked for, no answer yet.
    Pending,
    /// Allocated at this relayed address.
    Allocated(SocketAddrV4),
    /// Refused or timed out.
    Failed,
}

/// Datagrams waiting for a permission are capped per peer (a stack keeps trying; a relay that
/// never grants the permission must not grow memory).
const MAX_WAITING: usize = 64;

/// The TCP source port of a TLS connection to the relay from a leg whose media port is
/// `media_port`: 10000 below it (40000-49999 for the clients' 50000-59999), so that it differs
/// from the plain TCP connection's (which takes the media port's number) and from every other
/// leg's on the host, and follows from the seed as the media port does.
pub fn tls_source_port(media_port: u16) -> u16 {
    media_port
        .checked_sub(10_000)
        .unwrap_or(media_port.saturating_add(10_000))
}

/// Most rounds of [`RelayClient::poll`] at one instant.
const MAX_ROUNDS: usize = 64;

/// See the module docs.
pub struct RelayClient {
    client: TurnClient,
    transport: RelayTransport,
    /// Over TLS: the clock rustls reads (set before every call) and the records arriving.
    tls: Option<(TlsClient, RecordSplitter)>,
    server: SocketAddrV4,
    state: AllocationState,
    /// Peer IPs a permission was asked for, and whether it is installed.
    permissions: BTreeMap<IpAddr, bool>,
    /// Peers a channel was asked for.
    channels: BTreeSet<SocketAddrV4>,
    /// Data for peers whose permission is not installed yet.
    waiting: BTreeMap<IpAddr, Vec<(SocketAddrV4, Vec<u8>)>>,
    /// To the server: datagrams (UDP) or stream bytes (TCP), with the destination.
    out: VecDeque<(SocketAddrV4, Vec<u8>)>,
    wake: Option<u64>,
    /// Our address as the server saw it (the Allocate answer's XOR-MAPPED-ADDRESS, RFC 8656
    /// section 7.3): over UDP, the server-reflexive candidate.
    mapped: Option<SocketAddrV4>,
    /// Bytes relayed to peers and received from them (payload, without TURN framing).
    pub sent_bytes: u64,
    pub received_bytes: u64,
}

/// Our time (ns since the run's start) as the TURN crates' `Instant` (the client's and the
/// server's are one type: `stun-proto`'s).
pub(crate) fn instant(ns: u64) -> Instant {
    Instant::from_nanos(ns.min(i64::MAX as u64) as i64)
}

/// An IPv4 socket address (the emulated network has no IPv6).
pub(crate) fn v4(a: SocketAddr) -> Option<SocketAddrV4> {
    match a {
        SocketAddr::V4(a) => Some(a),
        SocketAddr::V6(_) => None,
    }
}

impl RelayClient {
    /// A client that asks `server` for a UDP allocation from `local` over `transport`, with
    /// long-term credentials `user` / `password`.
    pub fn new(
        transport: RelayTransport,
        local: SocketAddrV4,
        server: SocketAddrV4,
        user: &str,
        password: &str,
    ) -> Self {
        let mut config = TurnConfig::new(TurnCredentials::new(user, password));
        config.set_allocation_transport(TransportType::Udp);
        let (l, s) = (SocketAddr::V4(local), SocketAddr::V4(server));
        let (client, state) = match transport {
            RelayTransport::Udp => (
                TurnClient::from(TurnClientUdp::allocate(l, s, config)),
                AllocationState::Pending,
            ),
            RelayTransport::Tcp => (
                TurnClient::from(TurnClientTcp::allocate(l, s, config)),
                AllocationState::Pending,
            ),
            // No trust anchor given (see `RelayClient::new_tls`): nothing can be asked.
            RelayTransport::Tls => (
                TurnClient::from(TurnClientTcp::allocate(l, s, config)),
                AllocationState::Failed,
            ),
        };
        RelayClient::with(client, transport, None, server, state)
    }

    /// A client that asks `server` for a UDP allocation over TLS from `local` (a TCP address
    /// of its own, see [`tls_source_port`]), trusting and expecting what `tls` says.
    pub fn new_tls(
        local: SocketAddrV4,
        server: SocketAddrV4,
        user: &str,
        password: &str,
        tls: &TlsClient,
    ) -> Self {
        let mut config = TurnConfig::new(TurnCredentials::new(user, password));
        config.set_allocation_transport(TransportType::Udp);
        let (l, s) = (SocketAddr::V4(local), SocketAddr::V4(server));
        let client = TurnClient::from(TurnClientRustls::allocate(
            l,
            s,
            config,
            tls.name(),
            tls.config(),
        ));
        RelayClient::with(
            client,
            RelayTransport::Tls,
            Some((tls.clone(), RecordSplitter::default())),
            server,
            AllocationState::Pending,
        )
    }

    fn with(
        client: TurnClient,
        transport: RelayTransport,
        tls: Option<(TlsClient, RecordSplitter)>,
        server: SocketAddrV4,
        state: AllocationState,
    ) -> Self {
        RelayClient {
            client,
            transport,
            tls,
            server,
            state,
            permissions: BTreeMap::new(),
            channels: BTreeSet::new(),
            waiting: BTreeMap::new(),
            out: VecDeque::new(),
            wake: None,
            mapped: None,
            sent_bytes: 0,
            received_bytes: 0,
        }
    }

    /// How the client reaches its server.
    pub fn transport(&self) -> RelayTransport {
        self.transport
    }

    /// The address the client sends from: the media socket (UDP, and TCP with its port number),
    /// or the TLS connection's own.
    pub fn local(&self) -> SocketAddrV4 {
        v4(self.client.local_addr()).unwrap_or(SocketAddrV4::new(0.into(), 0))
    }

    /// Over TLS, sets the clock rustls reads.
    fn tick(&self, now: u64) {
        if let Some((tls, _)) = &self.tls {
            tls.set_time(now);
        }
    }

    /// The relay server's address.
    pub fn server(&self) -> SocketAddrV4 {
        self.server
    }

    /// The allocation's state.
    pub fn state(&self) -> AllocationState {
        self.state
    }

    /// The relayed address, once allocated.
    pub fn relayed(&self) -> Option<SocketAddrV4> {
        match self.state {
            AllocationState::Allocated(a) => Some(a),
            _ => None,
        }
    }

    /// Our address as the relay server saw it, once it answered an Allocate (over UDP: what a
    /// NAT between us made of our media socket).
    pub fn mapped(&self) -> Option<SocketAddrV4> {
        self.mapped
    }

    /// Bytes (a datagram over UDP, part of the stream over TCP or TLS) that came from the
    /// server; returns the peers' data it carried, in arrival order.
    pub fn handle_from_server(&mut self, now: u64, bytes: &[u8]) -> Vec<(SocketAddrV4, Vec<u8>)> {
        self.tick(now);
        let mut got = Vec::new();
        if self.mapped.is_none() && self.transport == RelayTransport::Udp {
            self.mapped = allocate_success_mapped(bytes);
        }
        if let Some((_, records)) = &mut self.tls {
            // One TLS record at a time (see `RecordSplitter`).
            records.push(bytes);
            while let Some(r) = self.tls.as_mut().and_then(|(_, s)| s.next_record()) {
                self.recv_one(now, &r, &mut got);
            }
        } else {
            self.recv_one(now, bytes, &mut got);
        }
        for (_, d) in &got {
            self.received_bytes += d.len() as u64;
        }
        self.poll(now);
        got
    }

    fn recv_one(&mut self, now: u64, bytes: &[u8], got: &mut Vec<(SocketAddrV4, Vec<u8>)>) {
        let t = Transmit {
            data: bytes,
            transport: match self.transport {
                RelayTransport::Udp => TransportType::Udp,
                RelayTransport::Tcp | RelayTransport::Tls => TransportType::Tcp,
            },
            from: SocketAddr::V4(self.server),
            to: self.client.local_addr(),
        };
        match self.client.recv(t, instant(now)) {
            TurnRecvRet::PeerData(d) => {
                if let Some(p) = v4(d.peer) {
                    got.push((p, d.data().to_vec()));
                }
            }
            TurnRecvRet::Handled | TurnRecvRet::Ignored(_) | TurnRecvRet::PeerIcmp { .. } => {}
        }
        // Over TCP one read may hold several messages: the client keeps the rest.
        while let Some(d) = self.client.poll_recv(instant(now)) {
            if let Some(p) = v4(d.peer) {
                got.push((p, d.data().to_vec()));
            }
        }
    }

    /// Sends `data` to `peer` through the relay (held until the peer's permission exists).
    pub fn send_to(&mut self, now: u64, peer: SocketAddrV4, data: &[u8]) {
        self.tick(now);
        if self.relayed().is_none() {
            return;
        }
        let ip = IpAddr::V4(*peer.ip());
        match self.permissions.get(&ip) {
            Some(true) => {
                if self.channels.insert(peer) {
                    let _ = self.client.bind_channel(
                        TransportType::Udp,
                        SocketAddr::V4(peer),
                        instant(now),
                    );
                }
                self.write(now, peer, data);
            }
            Some(false) => self.hold(ip, peer, data),
            None => {
                if self
                    .client
                    .create_permission(TransportType::Udp, ip, instant(now))
                    .is_ok()
                {
                    self.permissions.insert(ip, false);
                    self.hold(ip, peer, data);
                }
            }
        }
        self.poll(now);
    }

    fn hold(&mut self, ip: IpAddr, peer: SocketAddrV4, data: &[u8]) {
        let q = self.waiting.entry(ip).or_default();
        if q.len() < MAX_WAITING {
            q.push((peer, data.to_vec()));
        }
    }

    fn write(&mut self, now: u64, peer: SocketAddrV4, data: &[u8]) {
        if let Ok(Some(t)) =
            self.client
                .send_to(TransportType::Udp, SocketAddr::V4(peer), data, instant(now))
        {
            self.sent_bytes += data.len() as u64;
            let t = t.build();
            if let Some(to) = v4(t.to) {
                self.out.push_back((to, t.data));
            }
        }
    }

    /// Runs the client's timers and takes in its events; call after every input.
    pub fn poll(&mut self, now: u64) {
        self.tick(now);
        // A same-instant livelock guard: a client cannot have more to do at one instant than
        // this many rounds of events and transmits.
        for _ in 0..MAX_ROUNDS {
            let mut progressed = false;
            while let Some(ev) = self.client.poll_event() {
                progressed = true;
                self.on_event(now, ev);
            }
            while let Some(t) = self.client.poll_transmit(instant(now)) {
                // turn-client-rustls hands out empty transmits without end once its TLS
                // connection has failed (the alert written, nothing left): not progress.
                if t.data.is_empty() {
                    break;
                }
                progressed = true;
                if let Some(to) = v4(t.to) {
                    self.out.push_back((to, t.data.to_vec()));
                }
            }
            match self.client.poll(instant(now)) {
                TurnPollRet::WaitUntil(t) => {
                    let t = t.as_nanos().max(0) as u64;
                    // The client answers "now" while it has events queued: drain them first.
                    if t <= now && progressed {
                        continue;
                    }
                    self.wake = Some(t.max(now + 1));
                }
                TurnPollRet::Closed => {
                    if self.state == AllocationState::Pending {
                        self.state = AllocationState::Failed;
                    }
                    self.wake = None;
                }
                // TCP allocations (RFC 6062) are never asked for.
                TurnPollRet::AllocateTcpSocket { .. } | TurnPollRet::TcpClose { .. } => {
                    self.wake = Some(now + 1);
                }
            }
            if !progressed {
                break;
            }
        }
    }

    fn on_event(&mut self, now: u64, ev: TurnEvent) {
        match ev {
            TurnEvent::AllocationCreated(_, addr) => {
                if let Some(a) = v4(addr) {
                    self.state = AllocationState::Allocated(a);
                }
            }
            TurnEvent::AllocationCreateFailed(_) => self.state = AllocationState::Failed,
            TurnEvent::PermissionCreated(_, ip) => {
                self.permissions.insert(ip, true);
                for (peer, data) in self.waiting.remove(&ip).unwrap_or_default() {
                    if self.channels.insert(peer) {
                        let _ = self.client.bind_channel(
                            TransportType::Udp,
                            SocketAddr::V4(peer),
                            instant(now),
                        );
                    }
                    self.write(now, peer, &data);
                }
            }
            TurnEvent::PermissionCreateFailed(_, ip) => {
                self.permissions.remove(&ip);
                self.waiting.remove(&ip);
            }
            TurnEvent::ChannelCreateFailed(_, peer) => {
                if let Some(p) = v4(peer) {
                    self.channels.remove(&p);
                }
            }
            TurnEvent::ChannelCreated(..)
            | TurnEvent::TcpConnected(_)
            | TurnEvent::TcpConnectFailed(_) => {}
        }
    }

    /// The next thing to send to the server: (destination, bytes).
    pub fn poll_transmit(&mut self) -> Option<(SocketAddrV4, Vec<u8>)> {
        self.out.pop_front()
    }

    /// When the client next needs [`RelayClient::poll`], ns.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            AllocationState::Failed => None,
            _ => self.wake,
        }
    }

    /// The connection to the server is gone (TCP refused, reset or timed out): the allocation
    /// cannot be used (or made) any more.
    pub fn connection_lost(&mut self) {
        self.state = AllocationState::Failed;
        self.wake = None;
        self.out.clear();
        self.waiting.clear();
    }

    /// Releases the allocation (a Refresh with lifetime 0), as a client does at hang-up.
    pub fn release(&mut self, now: u64) {
        if self.relayed().is_some() {
            self.tick(now);
            let _ = self.client.delete(instant(now));
            self.poll(now);
        }
    }
}

/// The XOR-MAPPED-ADDRESS (RFC 8489 section 14.2) of an Allocate success response, if `b`
/// is one.
fn allocate_success_mapped(b: &[u8]) -> Option<SocketAddrV4> {
    const COOKIE: u32 = 0x2112_a442;
    // Method Allocate (0x003), class success response: 0x0103.
    if b.len() < 20 || b[0] != 0x01 || b[1] != 0x03 {
        return None;
    }
    let mut at = 20;
    while at + 4 <= b.len() {
        let kind = u16::from_be_bytes([b[at], b[at + 1]]);
        let len = usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]]));
        let v = b.get(at + 4..at + 4 + len)?;
        if kind == 0x0020 && len == 8 && v[1] == 0x01 {
            let port = u16::from_be_bytes([v[2], v[3]]) ^ (COOKIE >> 16) as u16;
            let ip = u32::from_be_bytes([v[4], v[5], v[6], v[7]]) ^ COOKIE;
            return Some(SocketAddrV4::new(ip.into(), port));
        }
        at += 4 + len.div_ceil(4) * 4;
    }
    None
}

/// The datagram inside TURN framing: the payload of a ChannelData message (RFC 8656 12.4) or
/// the DATA attribute of a Send or Data indication (RFC 8656 10-11); anything else is
/// returned as it is. For following a stream's packets through the relay.
pub fn unwrap_turn(b: &[u8]) -> &[u8] {
    match b.first() {
        // Channel numbers 0x4000-0x4FFF: 2 bytes channel, 2 bytes length, the data.
        Some(0x40..=0x4f) if b.len() >= 4 => {
            let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
            b.get(4..4 + len).unwrap_or(b)
        }
        // A STUN indication (class bits 0b01) of Send (0x006) or Data (0x007).
        Some(0x00) if b.len() >= 20 && (b[1] == 0x16 || b[1] == 0x17) => {
            let mut at = 20;
            while at + 4 <= b.len() {
                let kind = u16::from_be_bytes([b[at], b[at + 1]]);
                let len = usize::from(u16::from_be_bytes([b[at + 2], b[at + 3]]));
                if kind == 0x0013 {
                    return b.get(at + 4..at + 4 + len).unwrap_or(b);
                }
                at += 4 + len.div_ceil(4) * 4;
            }
            b
        }
        _ => b,
    }
}

#[cfg(test)]
mod tests {
    use super::{allocate_success_mapped, tls_source_port, unwrap_turn};
    use super::{AllocationState, RelayClient, RelayTransport, RelayTransports};

    #[test]
    fn over_tls_the_client_opens_with_a_client_hello_from_its_own_port() {
        let tls = crate::agent::tls::TlsSetup::new(4).unwrap();
        let local = "10.0.0.1:40000".parse().unwrap();
        let server = "10.254.0.2:443".parse().unwrap();
        let mut c = RelayClient::new_tls(local, server, "alice", "secret", &tls.client());
        c.poll(0);
        assert_eq!(c.local(), local);
        let (to, first) = c.poll_transmit().expect("the ClientHello");
        assert_eq!(to, server);
        // A TLS handshake record (0x16) carrying a ClientHello (handshake type 1).
        assert_eq!((first[0], first[5]), (0x16, 0x01));
        // Nothing else before the server answers: the Allocate waits for the handshake.
        assert!(c.poll_transmit().is_none());
        assert_eq!(c.state(), AllocationState::Pending);
        // Without a trust anchor, no TLS client at all.
        let none = RelayClient::new(RelayTransport::Tls, local, server, "alice", "secret");
        assert_eq!(none.state(), AllocationState::Failed);
        assert_eq!(tls_source_port(50_521), 40_521);
        assert_eq!(tls_source_port(5_000), 15_000);
    }

    #[test]
    fn a_set_of_relay_transports_holds_what_was_put_in() {
        let tls: RelayTransports = [RelayTransport::Tls].into_iter().collect();
        assert!(tls.contains(RelayTransport::Tls));
        assert!(!tls.contains(RelayTransport::Udp) && !tls.contains(RelayTransport::Tcp));
        for t in [
            RelayTransport::Udp,
            RelayTransport::Tcp,
            RelayTransport::Tls,
        ] {
            assert!(RelayTransports::ALL.contains(t) && !RelayTransports::NONE.contains(t));
        }
        assert_eq!(RelayTransports::default(), RelayTransports::ALL);
    }

    #[test]
    fn the_mapped_address_is_read_from_an_allocate_success_only() {
        // 10.0.0.1:50521 XOR-ed with the magic cookie, after an XOR-RELAYED-ADDRESS.
        let mut m = vec![0x01, 0x03, 0, 24, 0x21, 0x12, 0xa4, 0x42];
        m.extend_from_slice(&[1; 12]);
        m.extend_from_slice(&[0x00, 0x16, 0, 8, 0, 1, 0, 0, 0, 0, 0, 0]);
        let port = 50521u16 ^ 0x2112;
        let ip = u32::from(std::net::Ipv4Addr::new(10, 0, 0, 1)) ^ 0x2112_a442;
        m.extend_from_slice(&[0x00, 0x20, 0, 8, 0, 1]);
        m.extend_from_slice(&port.to_be_bytes());
        m.extend_from_slice(&ip.to_be_bytes());
        assert_eq!(
            allocate_success_mapped(&m),
            Some("10.0.0.1:50521".parse().unwrap())
        );
        m[1] = 0x13; // an error response
        assert_eq!(allocate_success_mapped(&m), None);
    }

    #[test]
    fn channel_data_and_indications_are_unwrapped_and_nothing_else() {
        let rtp = [0x80u8, 111, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 9, 9];
        let mut cd = vec![0x40, 0x01, 0, rtp.len() as u8];
        cd.extend_from_slice(&rtp);
        cd.extend_from_slice(&[0, 0]); // padding over TCP
        assert_eq!(unwrap_turn(&cd), &rtp);
        // A Data indication: header, an XOR-PEER-ADDRESS (8 bytes), then DATA.
        let mut ind = vec![0x00, 0x17, 0, 0, 0x21, 0x12, 0xa4, 0x42];
        ind.extend_from_slice(&[7; 12]);
        ind.extend_from_slice(&[0x00, 0x12, 0, 8, 0, 1, 0, 0, 1, 2, 3, 4]);
        ind.extend_from_slice(&[0x00, 0x13, 0, rtp.len() as u8]);
        ind.extend_from_slice(&rtp);
        assert_eq!(unwrap_turn(&ind), &rtp);
        assert_eq!(unwrap_turn(&rtp), &rtp);
        let binding = [0x00u8, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0];
        assert_eq!(unwrap_turn(&binding), &binding);
    }
}
