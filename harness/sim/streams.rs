//! TCP in the simulation: a smoltcp stack ([`crate::tcp::TcpHost`]) on every host that needs
//! one, and the byte streams the agents and the edge open on them.
//!
//! A host's stack is made the first time something on the host opens or accepts a connection
//! (an idle host has none and costs nothing). Its packets travel the emulated links as
//! [`Wire::Tcp`] datagrams, so loss, queues, NATs and firewalls act on real segments, and
//! retransmission, congestion control and head-of-line blocking are the stack's. A stream is
//! named by its host and its two ends; bytes written before the handshake completes (or while
//! the send buffer is full) wait here and go when the stack can take them.
//!
//! Who reads what arrives is the stream's owner: a call leg (its TURN client's connection to
//! the relay over TCP 443) or the edge (a client's connection to its relay).

use super::world::Wire;
use super::Sim;
use crate::net::{Datagram, HostId};
use crate::tcp::{ConnId, TcpEvent, TcpHost, TcpOptions};
use std::collections::BTreeMap;
use std::net::SocketAddrV4;

/// Who reads a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamOwner {
    /// Call leg `usize` (it opened the stream).
    Leg(usize),
    /// The edge (a connection to its relay port, accepted).
    Edge,
    /// Participant `usize`'s client: its signaling connection to the service.
    Signaling(usize),
    /// The service host (a client's signaling connection, accepted).
    Service,
}

/// What a stream's owner is told, with the stream's two ends (local, remote): a leg may have
/// two streams to one server (TURN over TCP and over TLS, both to 443).
pub(crate) enum StreamNews {
    /// Bytes arrived from `remote`.
    Data(SocketAddrV4, SocketAddrV4, Vec<u8>),
    /// The stream to `remote` is gone (refused, reset, timed out or closed).
    Closed(SocketAddrV4, SocketAddrV4),
}

/// The path MTU every stack assumes, bytes (smoltcp has no path-MTU discovery).
pub const TCP_MTU: u16 = 1500;

/// The options of the simulation's streams: Nagle off, and 16 KiB buffers each way (a TURN
/// control connection carries a few kbit/s of audio and its signaling; smoltcp allocates the
/// buffers whole, so the 64 KiB default would cost 256 KiB per relayed leg, client and edge).
fn stream_options() -> TcpOptions {
    TcpOptions {
        send_buffer: 16 * 1024,
        recv_buffer: 16 * 1024,
        ..TcpOptions::default()
    }
}

/// A segment a stack wrote, as the emulated network carries it.
pub(crate) fn segment_datagram(p: crate::tcp::OutPacket) -> Datagram<Wire> {
    let d = p.into_datagram();
    Datagram {
        src: d.src,
        dst: d.dst,
        proto: d.proto,
        size: d.size,
        payload: Wire::Tcp(d.payload),
    }
}

/// See the module docs.
#[derive(Default)]
pub(crate) struct Streams {
    hosts: Vec<Option<TcpHost>>,
    pub(crate) scheduled: Vec<Option<u64>>,
    by_ends: BTreeMap<(HostId, SocketAddrV4, SocketAddrV4), ConnId>,
    ends: BTreeMap<(HostId, ConnId), (SocketAddrV4, SocketAddrV4, StreamOwner)>,
    pending: BTreeMap<(HostId, ConnId), Vec<u8>>,
    /// Who reads the connections each listener accepts.
    listeners: BTreeMap<(HostId, crate::tcp::ListenerId), StreamOwner>,
    /// Hosts whose stack has work to hand out.
    dirty: Vec<HostId>,
}

impl Streams {
    /// The stack of `host` at `addr`, made on first use.
    fn stack(&mut self, host: HostId, addr: std::net::Ipv4Addr, seed: u64) -> &mut TcpHost {
        let i = host.0 as usize;
        if self.hosts.len() <= i {
            self.hosts.resize_with(i + 1, || None);
            self.scheduled.resize(i + 1, None);
        }
        self.hosts[i].get_or_insert_with(|| {
            // An address and MTU that TcpHost accepts: neither can fail here.
            TcpHost::new(
                addr,
                crate::sim::sub_seed(seed, &format!("tcp:{}", host.0)),
                TCP_MTU,
            )
            .unwrap_or_else(|e| unreachable!("a TCP stack for {addr}: {e}"))
        })
    }

    /// The stack of `host` if it has one.
    pub(crate) fn existing(&mut self, host: HostId) -> Option<&mut TcpHost> {
        self.hosts.get_mut(host.0 as usize).and_then(Option::as_mut)
    }

    /// Whether no stack has work to hand out.
    pub(crate) fn is_idle(&self) -> bool {
        self.dirty.is_empty()
    }

    pub(crate) fn mark(&mut self, host: HostId) {
        if !self.dirty.contains(&host) {
            self.dirty.push(host);
        }
    }
}

impl Sim {
    /// Starts accepting TCP connections on `port` of `host`, for `owner` to read.
    pub(crate) fn tcp_listen(&mut self, host: HostId, port: u16, owner: StreamOwner) {
        let addr = self.local_addr(host);
        let seed = self.seed;
        if let Ok(l) = self
            .streams
            .stack(host, addr, seed)
            .listen_with(port, stream_options())
        {
            self.streams.listeners.insert((host, l), owner);
        }
        self.streams.mark(host);
    }

    /// Whether `host` has a live stream `local` -> `remote` (accepted ones have port 0 locally).
    pub(crate) fn has_stream(
        &self,
        host: HostId,
        local: SocketAddrV4,
        remote: SocketAddrV4,
    ) -> bool {
        self.streams.by_ends.contains_key(&(host, local, remote))
    }

    /// `host`'s address changed: its TCP stack and every connection on it are gone (their
    /// owners are told), and the next connection gets a stack at the new address.
    pub(crate) fn reset_streams(&mut self, host: HostId) {
        let i = host.0 as usize;
        let Some(slot) = self.streams.hosts.get_mut(i) else {
            return;
        };
        if slot.take().is_none() {
            return;
        }
        self.streams.scheduled[i] = None;
        self.streams.dirty.retain(|h| *h != host);
        let gone: Vec<_> = self
            .streams
            .ends
            .range((host, ConnId(0))..=(host, ConnId(u32::MAX)))
            .map(|(k, v)| (*k, *v))
            .collect();
        self.streams.listeners.retain(|(h, _), _| *h != host);
        for ((h, conn), (local, remote, owner)) in gone {
            self.streams.ends.remove(&(h, conn));
            self.streams.by_ends.remove(&(h, local, remote));
            self.streams.pending.remove(&(h, conn));
            self.tell_stream_owner(owner, StreamNews::Closed(local, remote));
        }
    }

    /// Listens on `port` of `host` with `opts`, and opens a connection from `host` to `remote`
    /// with `opts`: the TCP cross-traffic's own (`cross_tcp.rs`), whose events go there.
    pub(crate) fn tcp_listen_with(&mut self, host: HostId, port: u16, opts: TcpOptions) {
        let (addr, seed) = (self.net.host_addr(host), self.seed);
        let _ = self.streams.stack(host, addr, seed).listen_with(port, opts);
        self.streams.mark(host);
    }

    /// See [`Sim::tcp_listen_with`].
    pub(crate) fn tcp_open(
        &mut self,
        host: HostId,
        remote: SocketAddrV4,
        opts: TcpOptions,
    ) -> Option<ConnId> {
        let (now, addr, seed) = (self.now, self.net.host_addr(host), self.seed);
        let conn = self
            .streams
            .stack(host, addr, seed)
            .connect(now, 0, remote, opts);
        self.streams.mark(host);
        conn.ok()
    }

    /// Writes `bytes` on the stream `local` -> `remote` of `host`, opening it first if needed.
    pub(crate) fn stream_send(
        &mut self,
        host: HostId,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        bytes: &[u8],
        owner: StreamOwner,
    ) {
        let now = self.now;
        let addr = self.local_addr(host);
        let seed = self.seed;
        let key = (host, local, remote);
        let conn = match self.streams.by_ends.get(&key) {
            Some(&c) => c,
            None => {
                let stack = self.streams.stack(host, addr, seed);
                let Ok(c) = stack.connect(now, local.port(), remote, stream_options()) else {
                    return;
                };
                self.streams.by_ends.insert(key, c);
                self.streams.ends.insert((host, c), (local, remote, owner));
                c
            }
        };
        self.streams
            .pending
            .entry((host, conn))
            .or_default()
            .extend_from_slice(bytes);
        self.flush_pending(host, conn);
        self.streams.mark(host);
    }

    /// Hands the stack what waited for it (as much as its send buffer takes).
    fn flush_pending(&mut self, host: HostId, conn: ConnId) {
        let Some(buf) = self.streams.pending.get_mut(&(host, conn)) else {
            return;
        };
        let Some(stack) = self
            .streams
            .hosts
            .get_mut(host.0 as usize)
            .and_then(Option::as_mut)
        else {
            return;
        };
        if !stack.state(conn).is_synchronized() {
            return;
        }
        let n = stack.send(conn, buf);
        buf.drain(..n);
    }

    /// A TCP segment arrived at `host`.
    pub(crate) fn tcp_deliver(&mut self, at: u64, host: HostId, d: Datagram<Wire>) {
        let Wire::Tcp(bytes) = d.payload else {
            return;
        };
        self.cross_tcp.arrived(host);
        if let Some(stack) = self.streams.existing(host) {
            let spare = stack.handle_packet_buf(at, d.src, d.dst, bytes);
            stack.recycle(spare);
            self.streams.mark(host);
        }
    }

    /// A firewall refused the SYN `src` -> `dst` that `host` sent.
    pub(crate) fn tcp_refused(
        &mut self,
        at: u64,
        host: HostId,
        src: SocketAddrV4,
        dst: SocketAddrV4,
    ) {
        if let Some(stack) = self.streams.existing(host) {
            stack.handle_reset(at, src, dst);
            self.streams.mark(host);
        }
    }

    /// Runs every stack with work, sends its segments and tells the streams' owners what
    /// happened, until nothing is left to do at this instant.
    pub(crate) fn run_streams(&mut self) {
        let now = self.now;
        while let Some(host) = self.streams.dirty.pop() {
            let mut out = Vec::new();
            let mut events = Vec::new();
            if let Some(stack) = self.streams.existing(host) {
                stack.poll(now);
                while let Some(p) = stack.poll_transmit() {
                    out.push(p);
                }
                while let Some(e) = stack.poll_event() {
                    events.push(e);
                }
            }
            for p in out {
                let d = segment_datagram(p);
                self.cross_tcp.sent(host, d.size);
                self.send_datagram(host, d);
            }
            for e in events {
                self.on_stream_event(host, e);
            }
            self.schedule_stream(host);
        }
    }

    fn schedule_stream(&mut self, host: HostId) {
        let now = self.now;
        let Some(t) = self.streams.existing(host).and_then(|s| s.poll_at(now)) else {
            return;
        };
        let t = t.max(now);
        let i = host.0 as usize;
        if self.streams.scheduled[i] != Some(t) {
            self.streams.scheduled[i] = Some(t);
            self.timers
                .push(std::cmp::Reverse((t, super::TCP_TIMER | i)));
        }
    }

    /// The stack of `host` is due (its timer fired).
    pub(crate) fn stream_timer(&mut self, host: HostId, at: u64) {
        let i = host.0 as usize;
        if self.streams.scheduled.get(i) == Some(&Some(at)) {
            self.streams.scheduled[i] = None;
            self.streams.mark(host);
            self.run_streams();
        }
    }

    fn on_stream_event(&mut self, host: HostId, e: TcpEvent) {
        if self.cross_tcp_event(host, e) {
            return;
        }
        match e {
            TcpEvent::Accepted {
                listener,
                conn,
                remote,
            } => {
                // Accepted streams are named by the peer alone (port 0 on our side).
                let local = SocketAddrV4::new(self.local_addr(host), 0);
                let owner = self
                    .streams
                    .listeners
                    .get(&(host, listener))
                    .copied()
                    .unwrap_or(StreamOwner::Edge);
                self.streams.by_ends.insert((host, local, remote), conn);
                self.streams
                    .ends
                    .insert((host, conn), (local, remote, owner));
            }
            TcpEvent::Connected(conn) | TcpEvent::Writable(conn) => {
                self.flush_pending(host, conn);
                self.streams.mark(host);
            }
            TcpEvent::Readable(conn) => {
                let mut data = Vec::new();
                if let Some(stack) = self.streams.existing(host) {
                    stack.recv(conn, &mut data);
                }
                self.streams.mark(host);
                if let Some(&(local, remote, owner)) = self.streams.ends.get(&(host, conn)) {
                    self.tell_stream_owner(owner, StreamNews::Data(local, remote, data));
                }
            }
            TcpEvent::PeerClosed(_) => {}
            TcpEvent::Closed(conn)
            | TcpEvent::Refused(conn)
            | TcpEvent::Reset(conn)
            | TcpEvent::TimedOut(conn) => {
                if let Some((local, remote, owner)) = self.streams.ends.remove(&(host, conn)) {
                    self.streams.by_ends.remove(&(host, local, remote));
                    self.streams.pending.remove(&(host, conn));
                    self.tell_stream_owner(owner, StreamNews::Closed(local, remote));
                }
            }
        }
    }

    fn tell_stream_owner(&mut self, owner: StreamOwner, news: StreamNews) {
        let now = self.now;
        match owner {
            StreamOwner::Leg(li) => {
                match news {
                    StreamNews::Data(local, from, bytes) => {
                        self.legs[li].handle_stream(now, local, from, &bytes)
                    }
                    StreamNews::Closed(local, from) => {
                        self.legs[li].stream_closed(now, local, from)
                    }
                }
                self.after_touch(li);
            }
            StreamOwner::Edge => {
                match news {
                    StreamNews::Data(_, from, bytes) => self.edge.handle_tcp(now, from, &bytes),
                    StreamNews::Closed(_, from) => self.edge.tcp_closed(from),
                }
                self.after_edge();
            }
            StreamOwner::Signaling(p) => match news {
                StreamNews::Data(_, _, bytes) => self.client_signal_bytes(p, &bytes),
                StreamNews::Closed(..) => self.client_signal_closed(p),
            },
            StreamOwner::Service => match news {
                StreamNews::Data(_, from, bytes) => self.service_signal_bytes(from, &bytes),
                StreamNews::Closed(_, from) => self.service_signal_closed(from),
            },
        }
    }

    /// Writes what the edge wants sent to its TCP clients.
    pub(crate) fn edge_streams(&mut self, out: Vec<(SocketAddrV4, Vec<u8>)>) {
        let host = self.edge.host;
        let local = SocketAddrV4::new(self.local_addr(host), 0);
        for (to, bytes) in out {
            if let Some(&conn) = self.streams.by_ends.get(&(host, local, to)) {
                self.streams
                    .pending
                    .entry((host, conn))
                    .or_default()
                    .extend_from_slice(&bytes);
                self.flush_pending(host, conn);
                self.streams.mark(host);
            }
        }
    }
}
