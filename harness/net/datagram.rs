//! What travels through the network: datagrams between hosts, and what arrives.
//!
//! ```
//! use callharness::net::{Datagram, Proto};
//! let d = Datagram::udp("10.0.0.2:5000".parse().unwrap(), "10.0.0.3:6000".parse().unwrap(), 160, ());
//! assert_eq!((d.size, d.proto), (188, Proto::Udp)); // 160 bytes of payload + UDP/IPv4 headers
//! ```

use crate::net::Nanos;
use serde::{Deserialize, Serialize};
use std::net::SocketAddrV4;

/// A host's index in the network (its position in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct HostId(pub u32);

/// Transport protocol of a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
    /// UDP.
    Udp,
    /// A TCP segment; `syn` marks a connection attempt.
    Tcp {
        /// True for a SYN (connection attempt).
        syn: bool,
    },
}

/// IPv4 (20) plus UDP (8) header bytes.
pub const UDP_IP_HEADERS: u32 = 28;
/// IPv4 (20) plus TCP (20) header bytes.
pub const TCP_IP_HEADERS: u32 = 40;

/// A packet between two hosts. `size` is the whole IP packet in bytes (headers included:
/// UDP payload + 28, TCP payload + 40); it is what links count, queue and fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram<P> {
    /// Sender's address and port.
    pub src: SocketAddrV4,
    /// Receiver's address and port.
    pub dst: SocketAddrV4,
    /// UDP or TCP.
    pub proto: Proto,
    /// IP packet size in bytes.
    pub size: u32,
    /// What it carries (opaque to the network).
    pub payload: P,
}

impl<P> Datagram<P> {
    /// A UDP datagram carrying `payload_len` bytes.
    pub fn udp(src: SocketAddrV4, dst: SocketAddrV4, payload_len: u32, payload: P) -> Self {
        let size = payload_len + UDP_IP_HEADERS;
        Datagram {
            src,
            dst,
            proto: Proto::Udp,
            size,
            payload,
        }
    }

    /// A TCP segment carrying `payload_len` bytes; `syn` for a connection attempt.
    pub fn tcp(
        src: SocketAddrV4,
        dst: SocketAddrV4,
        payload_len: u32,
        syn: bool,
        payload: P,
    ) -> Self {
        let size = payload_len + TCP_IP_HEADERS;
        Datagram {
            src,
            dst,
            proto: Proto::Tcp { syn },
            size,
            payload,
        }
    }
}

/// What arrived at a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryKind {
    /// A datagram some host sent.
    Datagram,
    /// A TCP reset refusing a connection attempt: the datagram is the SYN's reply (source and
    /// destination swapped, no data) and carries the SYN's payload so the caller knows which
    /// attempt failed.
    TcpReset,
}

/// A datagram handed to a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery<P> {
    /// When it arrived, ns.
    pub at: Nanos,
    /// The host it arrived at.
    pub to_host: HostId,
    /// The datagram.
    pub datagram: Datagram<P>,
    /// A datagram or a TCP reset.
    pub kind: DeliveryKind,
}
