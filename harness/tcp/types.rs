//! The TCP host's vocabulary: identifiers, options, states, events, errors, counters and the
//! packets it hands out.

use crate::net::datagram::TCP_IP_HEADERS;
use crate::net::{Datagram, Nanos};
use std::fmt;
use std::net::SocketAddrV4;

/// One connection of one host (never reused within the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u32);

/// One listening port of one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenerId(pub u32);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

impl fmt::Display for ListenerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "listener#{}", self.0)
    }
}

const MS: Nanos = 1_000_000;

/// How a connection (or every connection a listener accepts) is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpOptions {
    /// Nagle's algorithm off (`TCP_NODELAY`). Default `true`: media carried over TCP (TURN-TCP,
    /// a VPN) turns it off, as real media clients do; with it on, small messages wait for the
    /// previous one's ACK.
    pub nodelay: bool,
    /// Send buffer, bytes (what the application may queue, in flight or not). Default 64 KiB.
    pub send_buffer: usize,
    /// Receive buffer, bytes; it is also the largest window advertised (window scaling
    /// follows from it). Default 64 KiB; at most 1 GiB.
    pub recv_buffer: usize,
    /// Give up (send a RST, [`TcpEvent::TimedOut`]) when something has waited for the peer
    /// this long, ns, without a segment from it: a SYN, data or a FIN unacknowledged (or the
    /// peer's FIN in FIN-WAIT-2; with `keep_alive`, any silence). Linux's `TCP_USER_TIMEOUT`;
    /// a connection with nothing outstanding never times out. Default 30 s: browsers give up
    /// a connection attempt after about 20-30 s.
    pub timeout: Option<Nanos>,
    /// Send a keep-alive after this long without traffic, ns. Default off.
    pub keep_alive: Option<Nanos>,
    /// Delay of a pure ACK, ns (smoltcp still ACKs every full segment at once). Default 10 ms
    /// (smoltcp's default); `None` ACKs every segment at once.
    pub ack_delay: Option<Nanos>,
}

impl Default for TcpOptions {
    fn default() -> TcpOptions {
        TcpOptions {
            nodelay: true,
            send_buffer: 64 * 1024,
            recv_buffer: 64 * 1024,
            timeout: Some(30_000 * MS),
            keep_alive: None,
            ack_delay: Some(10 * MS),
        }
    }
}

/// The RFC 793 state of a connection, as smoltcp keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum TcpState {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl From<smoltcp::socket::tcp::State> for TcpState {
    fn from(s: smoltcp::socket::tcp::State) -> TcpState {
        use smoltcp::socket::tcp::State as S;
        match s {
            S::Closed => TcpState::Closed,
            S::Listen => TcpState::Listen,
            S::SynSent => TcpState::SynSent,
            S::SynReceived => TcpState::SynReceived,
            S::Established => TcpState::Established,
            S::FinWait1 => TcpState::FinWait1,
            S::FinWait2 => TcpState::FinWait2,
            S::CloseWait => TcpState::CloseWait,
            S::Closing => TcpState::Closing,
            S::LastAck => TcpState::LastAck,
            S::TimeWait => TcpState::TimeWait,
        }
    }
}

impl TcpState {
    /// The handshake is over (data may flow or has flowed).
    pub fn is_synchronized(self) -> bool {
        !matches!(
            self,
            TcpState::Closed | TcpState::Listen | TcpState::SynSent | TcpState::SynReceived
        )
    }

    /// The peer's FIN has been received.
    pub fn peer_closed(self) -> bool {
        matches!(
            self,
            TcpState::CloseWait | TcpState::LastAck | TcpState::Closing | TcpState::TimeWait
        )
    }
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEnd {
    /// Both sides closed (FINs exchanged and acknowledged).
    Closed,
    /// The peer answered the SYN with a RST (or the emulator reported one): connection refused.
    Refused,
    /// A RST arrived after the handshake.
    Reset,
    /// The peer stayed silent for the `timeout` option.
    TimedOut,
    /// The application aborted it (or closed it before the handshake ended).
    Aborted,
}

/// What happened on a host, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEvent {
    /// A connection this host opened completed its handshake.
    Connected(ConnId),
    /// A listener accepted a connection (its handshake completed).
    Accepted {
        /// The listener.
        listener: ListenerId,
        /// The new connection.
        conn: ConnId,
        /// The peer's address, as this host sees it.
        remote: SocketAddrV4,
    },
    /// Data arrived while none was waiting unread: drain it with [`super::TcpHost::recv`]
    /// (the next `Readable` comes once the buffer has been emptied).
    Readable(ConnId),
    /// Space freed in a send buffer that had refused bytes.
    Writable(ConnId),
    /// The peer sent its FIN (no more data will arrive after what is buffered).
    PeerClosed(ConnId),
    /// The connection ended cleanly ([`TcpEnd::Closed`]).
    Closed(ConnId),
    /// The connection attempt was refused by a RST ([`TcpEnd::Refused`]).
    Refused(ConnId),
    /// The connection was reset after the handshake ([`TcpEnd::Reset`]).
    Reset(ConnId),
    /// The connection timed out ([`TcpEnd::TimedOut`]).
    TimedOut(ConnId),
}

/// What went wrong with a request to the host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TcpError {
    /// A device MTU too small to carry a TCP segment.
    #[error("MTU of {0} bytes: expected at least 88 (40 bytes of IPv4 and TCP headers and smoltcp's smallest MSS of 48)")]
    Mtu(u16),
    /// Port 0 was given where a port is required.
    #[error("port 0 is not a port to listen on or connect to")]
    PortZero,
    /// The port is taken (listened on, or the same local port to the same peer).
    #[error("port {port} is already in use on {addr}")]
    PortInUse {
        /// The host's address.
        addr: std::net::Ipv4Addr,
        /// The port.
        port: u16,
    },
    /// Every ephemeral port (49152-65535) is in use.
    #[error("no ephemeral port left on {0} (49152-65535 all in use)")]
    NoEphemeralPort(std::net::Ipv4Addr),
    /// A buffer size outside 1 byte ..= 1 GiB.
    #[error("{which} buffer of {bytes} bytes: expected 1 byte to 1 GiB")]
    BufferSize {
        /// `send` or `recv`.
        which: &'static str,
        /// The size asked for.
        bytes: usize,
    },
    /// The remote address cannot be connected to (unspecified address or port 0).
    #[error("cannot connect to {0}")]
    Unaddressable(SocketAddrV4),
}

/// Per-connection counters (cheap: updated from headers the host already reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnStats {
    /// When `connect` was called or the SYN arrived, ns.
    pub started_at: Nanos,
    /// When the handshake completed, ns.
    pub connected_at: Option<Nanos>,
    /// When the connection ended, ns, and how.
    pub ended: Option<(Nanos, TcpEnd)>,
    /// Bytes the application handed to `send` (accepted into the send buffer).
    pub bytes_queued: u64,
    /// Payload bytes put on the wire, retransmissions included.
    pub bytes_sent: u64,
    /// Bytes the peer acknowledged.
    pub bytes_acked: u64,
    /// Bytes received in order (read by the application or waiting to be read).
    pub bytes_received: u64,
    /// Segments sent (pure ACKs included).
    pub segments_sent: u64,
    /// Segments received.
    pub segments_received: u64,
    /// Segments sent whose sequence range (payload, SYN or FIN) had been sent before.
    pub retransmitted_segments: u64,
    /// Payload bytes in those segments.
    pub retransmitted_bytes: u64,
    /// Retransmission timeouts, inferred: a retransmission sent by a `poll` in which the
    /// connection had received nothing (a fast retransmit follows an arriving duplicate ACK).
    pub rtos: u64,
    /// Smallest measured round-trip time, ns (one segment at a time, never a retransmitted
    /// one; smoltcp keeps its own estimate private).
    pub rtt_min: Option<Nanos>,
    /// Smoothed round-trip time (RFC 6298: 7/8 old + 1/8 sample), ns.
    pub rtt_smoothed: Option<Nanos>,
    /// The latest round-trip sample, ns.
    pub rtt_latest: Option<Nanos>,
}

/// A packet the host sends: a whole IPv4 packet with a TCP segment, as smoltcp wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutPacket {
    /// Source address and port.
    pub src: SocketAddrV4,
    /// Destination address and port.
    pub dst: SocketAddrV4,
    /// A connection attempt (SYN without ACK), what firewalls block or reset.
    pub syn: bool,
    /// TCP payload bytes.
    pub payload_len: u32,
    /// The IPv4 packet.
    pub bytes: Vec<u8>,
}

impl OutPacket {
    /// The datagram for the emulator. Its `size` is the packet's length: TCP options (MSS,
    /// window scale, SACK) count, so the payload length given is everything past the 40
    /// bytes of fixed headers.
    pub fn into_datagram(self) -> Datagram<Vec<u8>> {
        let past_headers = (self.bytes.len() as u32).saturating_sub(TCP_IP_HEADERS);
        Datagram::tcp(self.src, self.dst, past_headers, self.syn, self.bytes)
    }
}
