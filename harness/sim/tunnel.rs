//! VPN tunnels over real TCP: a participant whose network profile has `tunnel: tls-tcp` sends
//! everything through one TLS-over-TCP connection (an SSL VPN on TCP 443) to a VPN gateway at
//! the far end of its access link, and receives everything back through it.
//!
//! The world gets one hidden gateway host per tunnelled participant ([`gateway_name`], in a
//! site of its own with an ideal link), and the participant's client uses the gateway's
//! address as its own (the address the VPN gives it: what its ICE host candidate, its
//! signaling and its relay allocations carry, as behind a concentrator that translates its
//! clients to its own address). Inside the participant's machine, what its client sends goes
//! into the tunnel as one TLS application-data record per packet: 5 bytes of record header,
//! the packet, 1 byte of inner content type and a 16-byte AEAD tag (RFC 8446 section 5.2),
//! written on a TCP connection from the participant's real address to the gateway's port 443.
//! The gateway takes each record out in order and sends its packet on from its own host, and
//! wraps whatever arrives for it into the tunnel the other way.
//!
//! The connection is [`crate::tcp::TcpHost`] (smoltcp) at both ends, so what the profile's
//! link does to the tunnel's segments (loss, queues, outages) becomes what TCP makes of it:
//! retransmission delay, head-of-line blocking (every packet behind a lost segment waits for
//! its retransmission), congestion-window backoff. Nothing inside the tunnel is lost on the
//! link; a packet is lost only when the tunnel's queue overflows or the connection breaks
//! (then the VPN client connects again, as real ones do).
//!
//! The records carry no real ciphertext: their bytes are the record header, a frame number
//! and filler of the right length, and the packets themselves wait beside the connection
//! (TCP delivers in order, so the receiving end takes them in the order their records
//! arrive). Sizes and timing are exact; a capture shows valid TLS 1.3 record headers.
//! Where smoltcp differs from Linux: its minimum retransmission timeout is 1 s (Linux 200 ms),
//! so a lost retransmission stalls the tunnel longer; a single loss is repaired by fast
//! retransmit after three duplicate ACKs, within a round trip or two at 50 packets/s.

use super::world::Wire;
use super::{Sim, SimError};
use crate::net::{Datagram, DeliveryKind, HostId};
use crate::tcp::{ConnId, TcpEvent, TcpHost, TcpOptions};
use std::cmp::Reverse;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};

/// The gateway's TCP port.
pub const TUNNEL_PORT: u16 = 443;
/// The participant's end of the connection.
const CLIENT_PORT: u16 = 40_000;
/// TLS 1.3 record framing per packet, bytes: 5 of header, 1 of content type, 16 of tag.
pub const RECORD_OVERHEAD: u32 = 22;
/// The TLS record header's length.
const RECORD_HEADER: usize = 5;
/// Bytes a tunnel end holds above its TCP send buffer before it drops packets (about 2.5 s of
/// a call's audio): a VPN client's bounded queue.
const QUEUE_LIMIT: usize = 64 * 1024;
/// How long the VPN client waits before connecting again after its connection broke, ns.
const RECONNECT_NS: u64 = 1_000_000_000;
/// Timer keys of tunnel ends: this bit, the tunnel index times two, plus the end.
pub(crate) const TUNNEL_TIMER: usize = 1 << 45;

/// The hidden gateway host of participant `name` (also its site's name).
pub fn gateway_name(name: &str) -> String {
    format!("{name}/vpn-gateway")
}

/// The address of the `i`-th participant's gateway: 10.251.0.0/16, outside the participants'
/// 10.0.0.0/16 and the service's and edge's 10.254.0.0/24.
pub fn gateway_addr(i: usize) -> Ipv4Addr {
    let n = i as u32;
    Ipv4Addr::new(10, 251, (n / 250) as u8, (n % 250 + 1) as u8)
}

/// The two ends of a tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The participant's machine.
    Client = 0,
    /// The VPN gateway.
    Gateway = 1,
}

/// A packet waiting in the tunnel: its frame number, when it entered, and the packet.
struct Frame {
    id: u64,
    entered: u64,
    kind: DeliveryKind,
    datagram: Datagram<Wire>,
}

/// The frame number of the record a client writes first on the connection that carries the
/// gateway's packets to it, so the gateway knows which connection is which.
const DOWN_MARKER: u64 = u64::MAX;

/// One end's TCP stack and what it has to send.
struct EndState {
    stack: TcpHost,
    /// The connection this end sends its packets on, and the one it receives on.
    send: Option<ConnId>,
    recv: Option<ConnId>,
    /// Connections the gateway accepted and has not told apart yet, with what arrived on them.
    unknown: Vec<(ConnId, Vec<u8>)>,
    /// Record bytes not yet taken by the sending connection's buffer.
    unsent: Vec<u8>,
    /// Received bytes of a record not yet complete.
    partial: Vec<u8>,
    /// The packets this end sent, in order, until the other end takes them out.
    frames: VecDeque<Frame>,
    scheduled: Option<u64>,
}

/// What a tunnel did, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TunnelCounters {
    /// Packets into the tunnel at the participant's end, and out of it at the gateway.
    pub up_in: u64,
    pub up_out: u64,
    /// Packets into the tunnel at the gateway, and out of it at the participant.
    pub down_in: u64,
    pub down_out: u64,
    /// Packets dropped because the tunnel's queue was full.
    pub dropped_full: u64,
    /// Packets lost with a broken connection (in the tunnel when it broke).
    pub dropped_broken: u64,
    /// Times the tunnel was connected (1 when it never broke).
    pub connects: u64,
    /// Sum and maximum of the time packets spent in the tunnel, ns (entry to exit).
    pub transit_sum_ns: u64,
    pub transit_max_ns: u64,
}

/// See the module docs.
pub(crate) struct Tunnel {
    /// The participant (its host index).
    pub(crate) client: HostId,
    pub(crate) gateway: HostId,
    /// The participant's real address on its access link.
    outer: Ipv4Addr,
    /// The gateway's address: the participant's address inside the VPN.
    pub(crate) inner: Ipv4Addr,
    ends: [EndState; 2],
    reconnect_at: Option<u64>,
    pub(crate) counters: TunnelCounters,
    /// Retransmitted segments of connections that broke (the live ones' are read at the end).
    retransmitted_before: u64,
}

fn options() -> TcpOptions {
    TcpOptions {
        send_buffer: 64 * 1024,
        recv_buffer: 64 * 1024,
        // The VPN client notices a dead connection: after 15 s without an acknowledgement.
        timeout: Some(15_000_000_000),
        ..TcpOptions::default()
    }
}

/// The record `id` for a packet of `size` bytes: its TLS header, the frame number, filler.
fn write_record(out: &mut Vec<u8>, id: u64, size: u32) {
    let len = (size + RECORD_OVERHEAD - RECORD_HEADER as u32).max(8);
    out.extend_from_slice(&[0x17, 0x03, 0x03, (len >> 8) as u8, len as u8]);
    out.extend_from_slice(&id.to_be_bytes());
    out.resize(out.len() + len as usize - 8, 0);
}

/// The frame numbers of the whole records at the front of `buf`, which it drains of them.
fn read_records(buf: &mut Vec<u8>) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut used = 0;
    while buf.len() - used >= RECORD_HEADER + 8 {
        let h = &buf[used..];
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        if h.len() < RECORD_HEADER + len {
            break;
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&h[RECORD_HEADER..RECORD_HEADER + 8]);
        ids.push(u64::from_be_bytes(id));
        used += RECORD_HEADER + len;
    }
    buf.drain(..used);
    ids
}

impl Tunnel {
    pub(crate) fn new(
        client: HostId,
        outer: Ipv4Addr,
        gateway: HostId,
        inner: Ipv4Addr,
        seed: u64,
    ) -> Tunnel {
        let stack = |addr: Ipv4Addr, label: &str| {
            // A unicast address and a valid MTU: neither can fail.
            TcpHost::new(
                addr,
                super::sub_seed(seed, &format!("tunnel:{}:{label}", client.0)),
                super::streams::TCP_MTU,
            )
            .unwrap_or_else(|e| unreachable!("a tunnel stack at {addr}: {e}"))
        };
        let end = |stack: TcpHost| EndState {
            stack,
            send: None,
            recv: None,
            unknown: Vec::new(),
            unsent: Vec::new(),
            partial: Vec::new(),
            frames: VecDeque::new(),
            scheduled: None,
        };
        Tunnel {
            client,
            gateway,
            outer,
            inner,
            ends: [end(stack(outer, "client")), end(stack(inner, "gateway"))],
            reconnect_at: None,
            counters: TunnelCounters::default(),
            retransmitted_before: 0,
        }
    }

    fn host(&self, end: End) -> HostId {
        match end {
            End::Client => self.client,
            End::Gateway => self.gateway,
        }
    }

    fn live_retransmitted(&self) -> u64 {
        self.ends
            .iter()
            .flat_map(|e| [e.send, e.recv].into_iter().flatten().map(move |c| (e, c)))
            .filter_map(|(e, c)| e.stack.stats(c))
            .map(|s| s.retransmitted_segments)
            .sum()
    }

    /// Segments retransmitted by both ends, over every connection the tunnel made.
    pub(crate) fn retransmitted(&self) -> u64 {
        self.retransmitted_before + self.live_retransmitted()
    }

    /// Opens the tunnel's two connections from the participant to the gateway: one for each
    /// direction's packets.
    fn connect(&mut self, now: u64) {
        let gw = SocketAddrV4::new(self.inner, TUNNEL_PORT);
        let c = &mut self.ends[End::Client as usize];
        c.send = c.stack.connect(now, CLIENT_PORT, gw, options()).ok();
        c.recv = c.stack.connect(now, CLIENT_PORT + 1, gw, options()).ok();
        self.counters.connects += 1;
    }

    /// Forgets a broken tunnel and what was in it; the client connects again later.
    fn broken(&mut self, now: u64) {
        self.retransmitted_before += self.live_retransmitted();
        for e in &mut self.ends {
            for c in [e.send.take(), e.recv.take()].into_iter().flatten() {
                e.stack.abort(c, now);
            }
            for (c, _) in e.unknown.drain(..) {
                e.stack.abort(c, now);
            }
            self.counters.dropped_broken += e.frames.len() as u64;
            e.frames.clear();
            e.unsent.clear();
            e.partial.clear();
        }
        self.reconnect_at = Some(now + RECONNECT_NS);
    }

    /// Whether `conn` is one of the tunnel's connections at `end`.
    fn owns(&self, end: End, conn: ConnId) -> bool {
        let e = &self.ends[end as usize];
        e.send == Some(conn) || e.recv == Some(conn) || e.unknown.iter().any(|(c, _)| *c == conn)
    }

    /// Puts `d` in the tunnel at `end`, to come out at the other end.
    fn push(&mut self, end: End, now: u64, d: Datagram<Wire>, kind: DeliveryKind) {
        match end {
            End::Client => self.counters.up_in += 1,
            End::Gateway => self.counters.down_in += 1,
        }
        let e = &mut self.ends[end as usize];
        if e.unsent.len() >= QUEUE_LIMIT {
            self.counters.dropped_full += 1;
            return;
        }
        let id = self.counters.up_in + self.counters.down_in;
        write_record(&mut e.unsent, id, d.size);
        e.frames.push_back(Frame {
            id,
            entered: now,
            kind,
            datagram: d,
        });
        Self::flush(e);
    }

    /// Hands the sending connection what waited (as much as its buffer takes).
    fn flush(e: &mut EndState) {
        let Some(c) = e.send else {
            return;
        };
        if e.unsent.is_empty() || !e.stack.state(c).is_synchronized() {
            return;
        }
        let n = e.stack.send(c, &e.unsent);
        e.unsent.drain(..n);
    }

    /// A connection of `end` became readable: the packets whose records fully arrived on
    /// it (sent by the other end), in order. The gateway tells its two connections apart
    /// by their first record.
    fn take_arrived(
        &mut self,
        end: End,
        conn: ConnId,
        now: u64,
    ) -> Vec<(DeliveryKind, Datagram<Wire>)> {
        let [client, gateway] = &mut self.ends;
        let (me, far) = match end {
            End::Client => (client, gateway),
            End::Gateway => (gateway, client),
        };
        if let Some(i) = me.unknown.iter().position(|(c, _)| *c == conn) {
            let buf = &mut me.unknown[i].1;
            me.stack.recv(conn, buf);
            if buf.len() < RECORD_HEADER + 8 {
                return Vec::new();
            }
            let (_, mut buf) = me.unknown.remove(i);
            let mut first = [0u8; 8];
            first.copy_from_slice(&buf[RECORD_HEADER..RECORD_HEADER + 8]);
            if u64::from_be_bytes(first) == DOWN_MARKER {
                read_records(&mut buf);
                me.send = Some(conn);
                Self::flush(me);
                return Vec::new();
            }
            me.recv = Some(conn);
            me.partial = buf;
        } else if me.recv == Some(conn) {
            me.stack.recv(conn, &mut me.partial);
        } else {
            return Vec::new();
        }
        let mut out = Vec::new();
        for id in read_records(&mut me.partial) {
            let Some(f) = far.frames.pop_front() else {
                break;
            };
            debug_assert_eq!(f.id, id, "tunnel records out of order");
            let transit = now.saturating_sub(f.entered);
            self.counters.transit_sum_ns += transit;
            self.counters.transit_max_ns = self.counters.transit_max_ns.max(transit);
            match end {
                End::Client => self.counters.down_out += 1,
                End::Gateway => self.counters.up_out += 1,
            }
            out.push((f.kind, f.datagram));
        }
        out
    }

    /// The client's receiving connection is up: it names itself to the gateway.
    fn connected(&mut self, end: End, conn: ConnId) {
        let e = &mut self.ends[end as usize];
        if end == End::Client && e.recv == Some(conn) {
            let mut marker = Vec::new();
            write_record(&mut marker, DOWN_MARKER, 0);
            e.stack.send(conn, &marker);
        }
        Self::flush(e);
    }
}

impl Sim {
    /// The address `host`'s own programs send from: inside its VPN if it has one.
    pub(crate) fn local_addr(&self, host: HostId) -> Ipv4Addr {
        match self.tunnel_end(host) {
            Some((ti, End::Client)) => self.tunnels[ti].inner,
            _ => self.net.host_addr(host),
        }
    }

    /// The tunnel `host` is an end of, if any.
    pub(crate) fn tunnel_end(&self, host: HostId) -> Option<(usize, End)> {
        if self.tunnels.is_empty() {
            return None;
        }
        self.tunnels.iter().enumerate().find_map(|(i, t)| {
            if t.client == host {
                Some((i, End::Client))
            } else if t.gateway == host {
                Some((i, End::Gateway))
            } else {
                None
            }
        })
    }

    /// Every tunnel's gateway starts listening and its client connects.
    pub(super) fn start_tunnels(&mut self) {
        let now = self.now;
        for ti in 0..self.tunnels.len() {
            let t = &mut self.tunnels[ti];
            let _ = t.ends[End::Gateway as usize]
                .stack
                .listen_with(TUNNEL_PORT, options());
            t.connect(now);
            self.mark_tunnel(ti);
        }
    }

    /// What `host`'s programs send, into its tunnel (the tunnel's client end).
    pub(super) fn tunnel_send(&mut self, ti: usize, d: Datagram<Wire>) {
        let now = self.now;
        self.tunnels[ti].push(End::Client, now, d, DeliveryKind::Datagram);
        self.mark_tunnel(ti);
    }

    /// Something arrived at an end of tunnel `ti`: its own segments go to its stack; at the
    /// gateway, anything else goes into the tunnel to the participant.
    pub(super) fn tunnel_arrival(
        &mut self,
        at: u64,
        ti: usize,
        end: End,
        d: Datagram<Wire>,
        kind: DeliveryKind,
    ) -> Result<(), SimError> {
        let t = &self.tunnels[ti];
        let own = matches!(d.payload, Wire::Tcp(_))
            && match end {
                End::Client => *d.dst.ip() == t.outer && (d.dst.port() & !1) == CLIENT_PORT,
                End::Gateway => d.dst == SocketAddrV4::new(t.inner, TUNNEL_PORT),
            };
        if !own {
            if end == End::Gateway {
                self.tunnels[ti].push(End::Gateway, at, d, kind);
                self.mark_tunnel(ti);
            }
            // At the participant, only the tunnel reaches its real address.
            return Ok(());
        }
        let host = self.tunnels[ti].host(end);
        if kind == DeliveryKind::Datagram {
            if let Some(c) = &mut self.capture {
                c.record(at, host, super::pcapng::Direction::Inbound, &d);
            }
        }
        let stack = &mut self.tunnels[ti].ends[end as usize].stack;
        match (kind, d.payload) {
            (DeliveryKind::TcpReset, _) => stack.handle_reset(at, d.src, d.dst),
            (DeliveryKind::Datagram, Wire::Tcp(bytes)) => {
                let spare = stack.handle_packet_buf(at, d.src, d.dst, bytes);
                stack.recycle(spare);
            }
            _ => {}
        }
        self.mark_tunnel(ti);
        Ok(())
    }

    fn mark_tunnel(&mut self, ti: usize) {
        if !self.dirty_tunnels.contains(&ti) {
            self.dirty_tunnels.push(ti);
        }
    }

    /// Runs every tunnel with work until none is left at this instant.
    pub(super) fn run_tunnels(&mut self) -> Result<(), SimError> {
        while let Some(ti) = self.dirty_tunnels.pop() {
            self.run_tunnel(ti)?;
        }
        Ok(())
    }

    /// Runs both ends of tunnel `ti`: their segments out, the packets that came through
    /// sent on (gateway) or handed to the participant's programs, timers rescheduled.
    fn run_tunnel(&mut self, ti: usize) -> Result<(), SimError> {
        let now = self.now;
        if self.tunnels[ti].reconnect_at.is_some_and(|r| r <= now) {
            self.tunnels[ti].reconnect_at = None;
            self.tunnels[ti].connect(now);
        }
        for end in [End::Client, End::Gateway] {
            let mut segments = Vec::new();
            let mut events = Vec::new();
            {
                let e = &mut self.tunnels[ti].ends[end as usize];
                e.stack.poll(now);
                while let Some(p) = e.stack.poll_transmit() {
                    segments.push(p);
                }
                while let Some(ev) = e.stack.poll_event() {
                    events.push(ev);
                }
            }
            let host = self.tunnels[ti].host(end);
            for p in segments {
                self.send_outer(host, super::streams::segment_datagram(p));
            }
            for ev in events {
                let t = &mut self.tunnels[ti];
                match ev {
                    TcpEvent::Accepted { conn, .. } => {
                        t.ends[End::Gateway as usize]
                            .unknown
                            .push((conn, Vec::new()));
                    }
                    TcpEvent::Connected(conn) => t.connected(end, conn),
                    TcpEvent::Writable(_) => Tunnel::flush(&mut t.ends[end as usize]),
                    TcpEvent::Readable(conn) => {
                        let arrived = t.take_arrived(end, conn, now);
                        for (kind, d) in arrived {
                            match end {
                                End::Gateway => self.send_outer(self.tunnels[ti].gateway, d),
                                End::Client => {
                                    let host = self.tunnels[ti].client;
                                    self.deliver_here(now, host, d, kind)?;
                                }
                            }
                        }
                    }
                    TcpEvent::PeerClosed(_) => {}
                    TcpEvent::Closed(c)
                    | TcpEvent::Refused(c)
                    | TcpEvent::Reset(c)
                    | TcpEvent::TimedOut(c) => {
                        if t.owns(end, c) {
                            t.broken(now);
                        }
                    }
                }
            }
        }
        self.schedule_tunnel(ti);
        Ok(())
    }

    fn schedule_tunnel(&mut self, ti: usize) {
        let now = self.now;
        for end in [End::Client, End::Gateway] {
            let t = &mut self.tunnels[ti];
            let mut at = t.ends[end as usize].stack.poll_at(now);
            if end == End::Client {
                at = match (at, t.reconnect_at) {
                    (Some(a), Some(r)) => Some(a.min(r)),
                    (a, r) => a.or(r),
                };
            }
            let Some(at) = at.map(|a| a.max(now)) else {
                continue;
            };
            let e = &mut t.ends[end as usize];
            if e.scheduled != Some(at) {
                e.scheduled = Some(at);
                self.timers
                    .push(Reverse((at, TUNNEL_TIMER | (ti * 2 + end as usize))));
            }
        }
    }

    /// A tunnel end's timer fired (`key` without [`TUNNEL_TIMER`]).
    pub(super) fn tunnel_timer(&mut self, key: usize, at: u64) -> Result<(), SimError> {
        let (ti, end) = (key / 2, key % 2);
        let Some(t) = self.tunnels.get_mut(ti) else {
            return Ok(());
        };
        if t.ends[end].scheduled != Some(at) {
            return Ok(());
        }
        t.ends[end].scheduled = None;
        self.run_tunnel(ti)
    }
}

/// The tunnels of `sim`'s participants, for the report.
pub(super) fn tunnel_reports(sim: &Sim) -> Vec<crate::report::model::TunnelReport> {
    use super::measure::ms;
    sim.tunnels
        .iter()
        .map(|t| {
            let c = t.counters;
            let out = c.up_out + c.down_out;
            let mean = if out == 0 {
                0.0
            } else {
                c.transit_sum_ns as f64 / out as f64 / 1e6
            };
            crate::report::model::TunnelReport {
                participant: sim.net.host_name(t.client).to_owned(),
                kind: "tls-tcp".into(),
                gateway: t.inner.to_string(),
                connects: c.connects,
                up_in: c.up_in,
                up_out: c.up_out,
                down_in: c.down_in,
                down_out: c.down_out,
                dropped_full: c.dropped_full,
                dropped_broken: c.dropped_broken,
                retransmitted_segments: t.retransmitted(),
                transit_mean_ms: (mean * 100.0).round() / 100.0,
                transit_max_ms: ms(c.transit_max_ns),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_addresses_are_distinct_and_outside_the_participants() {
        assert_eq!(gateway_addr(0), Ipv4Addr::new(10, 251, 0, 1));
        assert_eq!(gateway_addr(250), Ipv4Addr::new(10, 251, 1, 1));
        assert_ne!(gateway_addr(0), super::super::world::participant_addr(0));
        assert_eq!(gateway_name("alice"), "alice/vpn-gateway");
    }

    #[test]
    fn a_packet_becomes_one_tls_record_of_its_size_plus_22_bytes() {
        let mut buf = Vec::new();
        write_record(&mut buf, 7, 200);
        write_record(&mut buf, 8, 60);
        // A TLS 1.3 application-data record header (RFC 8446 section 5.1).
        assert_eq!(&buf[..3], &[0x17, 0x03, 0x03]);
        assert_eq!(buf.len(), 200 + 22 + 60 + 22);
        assert_eq!(u16::from_be_bytes([buf[3], buf[4]]), 200 + 17);
        // Records come out whole only: a part of the second waits for the rest.
        let mut got = buf[..200 + 22 + 30].to_vec();
        assert_eq!(read_records(&mut got), vec![7]);
        assert_eq!(got.len(), 30);
        got.extend_from_slice(&buf[200 + 22 + 30..]);
        assert_eq!(read_records(&mut got), vec![8]);
        assert!(got.is_empty());
    }
}
