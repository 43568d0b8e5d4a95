//! Real TCP over the emulated links: a sans-IO stack per emulated host, built on smoltcp.
//!
//! A [`TcpHost`] is one smoltcp `Interface` over a virtual device and a set of sockets. Like
//! the emulator it never reads a clock and owns no socket: the caller passes the time in,
//! hands it the packets the network delivered, and takes out the packets it sends and the
//! events it saw. Retransmission timeouts, congestion control (smoltcp's Cubic) and
//! head-of-line blocking are smoltcp's, not modelled here; the host adds what smoltcp leaves to
//! its user: local ports, a listening socket per waiting connection, events, counters, and
//! the addresses a NAT rewrote.
//!
//! The loop, with `net` a [`crate::net::Network<Vec<u8>>`] ([`testbed`] runs exactly this):
//! 1. after any call on a host (`connect`, `send`, `recv`, `close`, `handle_packet`...) and
//!    whenever its [`TcpHost::poll_at`] comes, call [`TcpHost::poll`]`(now)`, then send each
//!    [`TcpHost::poll_transmit`] packet with `net.send(now, packet.into_datagram())` and act
//!    on each [`TcpHost::poll_event`];
//! 2. advance to the earliest of `net.next_event()` and the hosts' `poll_at`;
//! 3. hand each delivery to its host: [`TcpHost::handle_packet`]`(at, src, dst, &bytes)` (or
//!    `handle_packet_buf`, which takes the buffer without a copy), or
//!    [`TcpHost::handle_reset`]`(at, src, dst)` for a [`crate::net::DeliveryKind::TcpReset`]
//!    (a firewall refused the SYN); give spent buffers back with [`TcpHost::recycle`].
//!
//! ```
//! use callharness::tcp::{TcpEvent, TcpHost, TcpOptions};
//! let mut client = TcpHost::new("10.0.0.2".parse().unwrap(), 1, 1500).unwrap();
//! let mut server = TcpHost::new("10.0.0.3".parse().unwrap(), 2, 1500).unwrap();
//! server.listen(443).unwrap();
//! let conn = client.connect(0, 0, "10.0.0.3:443".parse().unwrap(), TcpOptions::default()).unwrap();
//! // A wire of 5 ms each way, by hand: poll, carry the packets over, repeat.
//! let mut now = 0;
//! for _ in 0..3 {
//!     client.poll(now);
//!     while let Some(p) = client.poll_transmit() { server.handle_packet(now + 5_000_000, p.src, p.dst, &p.bytes) }
//!     server.poll(now + 5_000_000);
//!     while let Some(p) = server.poll_transmit() { client.handle_packet(now + 10_000_000, p.src, p.dst, &p.bytes) }
//!     now += 10_000_000;
//! }
//! assert_eq!(client.poll_event(), Some(TcpEvent::Connected(conn)));
//! assert!(matches!(server.poll_event(), Some(TcpEvent::Accepted { .. })));
//! assert_eq!(client.stats(conn).unwrap().rtt_min, Some(10_000_000));
//! ```
//!
//! What smoltcp 0.14 does and does not do (measured: `../shared/reference/edge-and-tcp.md`):
//! - minimum and initial RTO 1 s (RFC 6298; Linux uses 200 ms), no SACK on the sending side,
//!   fast retransmit of one segment after three duplicate ACKs, initial window 2 x 1024 bytes:
//!   loss recovery is weaker than a modern kernel's;
//! - MSS = device MTU - 40, no path-MTU discovery: give the host the emulated path's MTU;
//! - TCP timestamps are off (smoltcp's default): their generator would be a bare
//!   `fn() -> u32`, and virtual time would have to reach it through a thread-local;
//! - no ephemeral ports of its own ([`TcpHost::ephemeral_port`] picks them, in order).

pub(crate) mod conn;
pub(crate) mod device;
pub mod host;
pub mod segment;
pub mod testbed;
pub mod types;

pub use host::{TcpHost, EPHEMERAL_PORTS, MIN_MTU};
pub use types::{
    ConnId, ConnStats, ListenerId, OutPacket, TcpEnd, TcpError, TcpEvent, TcpOptions, TcpState,
};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod transfer_tests;
