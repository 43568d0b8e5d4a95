//! The packet path of a [`TcpHost`]: packets in, smoltcp run, state changes turned into
//! events, packets out, and when to run again.

use super::{instant, TcpHost, STALL_GUARD};
use crate::net::Nanos;
use crate::tcp::conn::{Conn, Phase};
use crate::tcp::segment::{rewrite_addrs, rst_ack, Segment};
use crate::tcp::types::{ConnId, ListenerId, OutPacket, TcpEnd, TcpEvent, TcpState};
use smoltcp::iface::PollResult;
use smoltcp::socket::tcp::Socket;
use std::net::SocketAddrV4;

impl TcpHost {
    /// Takes an IPv4 TCP packet the emulator delivered at `now`, ns. `src` and `dst` are the
    /// datagram's: they win over the addresses in `bytes` (a NAT on the path may have
    /// rewritten them), and are written into the copy smoltcp reads. Call
    /// [`poll`](Self::poll) before `now` passes to send what it calls for.
    pub fn handle_packet(
        &mut self,
        now: Nanos,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        bytes: &[u8],
    ) {
        let Some(seg) = Segment::parse(bytes) else {
            self.malformed += 1;
            return;
        };
        self.device.rx.clear();
        self.device.rx.extend_from_slice(bytes);
        self.ingress(now, src, dst, seg);
    }

    /// [`handle_packet`](Self::handle_packet) for a packet the caller owns: the host takes the
    /// buffer (no copy) and returns a spare one for [`recycle`](Self::recycle).
    pub fn handle_packet_buf(
        &mut self,
        now: Nanos,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        bytes: Vec<u8>,
    ) -> Vec<u8> {
        let Some(seg) = Segment::parse(&bytes) else {
            self.malformed += 1;
            return bytes;
        };
        let spare = std::mem::replace(&mut self.device.rx, bytes);
        self.ingress(now, src, dst, seg);
        spare
    }

    /// The emulator refused this host's SYN from `dst` to `src` with a reset
    /// ([`crate::net::DeliveryKind::TcpReset`]: its datagram goes from `src`, the peer, to
    /// `dst`, this host). smoltcp is handed the RST|ACK the peer would have sent, so the
    /// attempt fails with [`TcpEvent::Refused`] as from a real RST.
    pub fn handle_reset(&mut self, now: Nanos, src: SocketAddrV4, dst: SocketAddrV4) {
        let Some(&id) = self.by_tuple.get(&(dst.port(), src)) else {
            return;
        };
        let c = &self.conns[id.0 as usize];
        let (TcpState::SynSent, Some(isn)) = (c.state, c.isn) else {
            return;
        };
        let rst = rst_ack(src, dst, isn.wrapping_add(1));
        let spare = self.handle_packet_buf(now, src, dst, rst);
        self.recycle(spare);
    }

    /// Runs smoltcp on the packet in the device's receive slot (`seg` read from it, the
    /// datagram's `src` and `dst` written into it first), then looks at what it changed.
    pub(super) fn ingress(
        &mut self,
        now: Nanos,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        seg: Segment,
    ) {
        if (seg.src, seg.dst) != (src, dst) {
            rewrite_addrs(&mut self.device.rx, seg.tcp_offset, src, dst);
        }
        let seg = &Segment { src, dst, ..seg };
        let conn = self.by_tuple.get(&(seg.dst.port(), seg.src)).copied();
        if let Some(id) = conn {
            self.conns[id.0 as usize].on_received(seg, now, self.epoch);
        }
        let listener = match conn {
            None if seg.is_attempt() => self
                .listeners
                .iter()
                .position(|l| l.open && l.port == seg.dst.port()),
            _ => None,
        };
        self.device.rx_ready = true;
        self.iface
            .poll_ingress_single(instant(now), &mut self.device, &mut self.sockets);
        self.device.rx_ready = false;
        self.account_tx(now);
        if let Some(id) = conn {
            self.sync(id, Phase::Ingress, now);
        }
        if let Some(l) = listener {
            self.check_listener(l, now, seg);
        }
        self.dirty = true;
    }

    /// A listening socket that left LISTEN took a SYN: it is now a connection, and a fresh
    /// socket listens in its place.
    pub(super) fn check_listener(&mut self, l: usize, now: Nanos, seg: &Segment) {
        let listener = &mut self.listeners[l];
        let sockets = &self.sockets;
        let Some(i) = listener
            .idle
            .iter()
            .position(|&h| !sockets.get::<Socket>(h).is_listening())
        else {
            return;
        };
        let h = listener.idle.swap_remove(i);
        let (port, opts) = (listener.port, listener.opts);
        if listener.idle.is_empty() {
            let fresh = self.listening_socket(port, &opts);
            self.listeners[l].idle.push(fresh);
        }
        let state = self.sockets.get::<Socket>(h).state().into();
        let mut c = Conn::new(
            h,
            Some(ListenerId(l as u32)),
            port,
            seg.src,
            state,
            &opts,
            now,
        );
        c.on_received(seg, now, self.epoch);
        self.add_conn(c);
    }

    /// Compares the connection's socket with what was last seen: state changes become events,
    /// new data `Readable`, freed space `Writable`; a finished socket is released.
    pub(super) fn sync(&mut self, id: ConnId, phase: Phase, now: Nanos) {
        let c = &mut self.conns[id.0 as usize];
        let Some(h) = c.handle else { return };
        let s = self.sockets.get::<Socket>(h);
        let state: TcpState = s.state().into();
        if let (TcpState::Listen, Some(l)) = (state, c.listener) {
            // A RST during the handshake put the socket back in LISTEN: the connection never
            // was; the socket listens on among the listener's.
            c.end(id, TcpEnd::Reset, now, &mut self.events);
            c.state = state;
            c.handle = None;
            self.forget(id);
            let listener = &mut self.listeners[l.0 as usize];
            if listener.open {
                listener.idle.push(h);
            } else {
                self.sockets.remove(h);
            }
            return;
        }
        c.transition(id, state, phase, now, &mut self.events);
        c.set_outstanding(state, s.send_queue(), now);
        if !c.readable_pending && s.recv_queue() > 0 && c.known_to_app() {
            c.readable_pending = true;
            self.events.push_back(TcpEvent::Readable(id));
        }
        if c.want_write && s.can_send() {
            c.want_write = false;
            self.events.push_back(TcpEvent::Writable(id));
        }
        let graceful = matches!(c.stats.ended, Some((_, TcpEnd::Closed)));
        if state == TcpState::Closed
            && s.local_endpoint().is_none()
            && (s.recv_queue() == 0 || !graceful)
        {
            self.release(id);
        }
    }

    /// Frees the connection's socket, keeping its final counters.
    pub(super) fn release(&mut self, id: ConnId) {
        let c = &mut self.conns[id.0 as usize];
        let Some(h) = c.handle.take() else { return };
        let s = self.sockets.get::<Socket>(h);
        c.stats.bytes_acked = c.stats.bytes_queued - s.send_queue() as u64;
        c.stats.bytes_received = c.bytes_read + s.recv_queue() as u64;
        self.sockets.remove(h);
        self.forget(id);
    }

    pub(super) fn forget(&mut self, id: ConnId) {
        let c = &self.conns[id.0 as usize];
        let key = (c.local_port, c.remote);
        if self.by_tuple.get(&key) == Some(&id) {
            self.by_tuple.remove(&key);
        }
        if let Some(i) = self.live.iter().position(|&x| x == id) {
            self.live.remove(i);
        }
    }

    /// Runs the stack at `now`, ns: timers (retransmission, delayed ACK, keep-alive, timeout),
    /// and everything due to be sent, which [`poll_transmit`](Self::poll_transmit) then hands
    /// out. Call it when [`poll_at`](Self::poll_at) says, and after any other call.
    pub fn poll(&mut self, now: Nanos) {
        let t = instant(now);
        for &id in &self.live {
            let c = &mut self.conns[id.0 as usize];
            if let (Some(h), Some(deadline)) = (c.handle, c.deadline()) {
                if deadline <= now {
                    // The peer stayed silent too long: give up with a RST, as smoltcp would.
                    self.sockets.get_mut::<Socket>(h).abort();
                    c.end(id, TcpEnd::TimedOut, now, &mut self.events);
                }
            }
        }
        while self
            .iface
            .poll_egress(t, &mut self.device, &mut self.sockets)
            != PollResult::None
        {}
        self.account_tx(now);
        let mut i = 0;
        while i < self.live.len() {
            let (id, before) = (self.live[i], self.live.len());
            self.sync(id, Phase::Egress, now);
            if self.live.len() == before {
                i += 1;
            }
        }
        self.epoch += 1;
        self.dirty = false;
        self.last_poll = Some(now);
    }

    /// Moves what smoltcp wrote to the outgoing queue, counting each segment on its connection.
    pub(super) fn account_tx(&mut self, now: Nanos) {
        let mut last: Option<((u16, SocketAddrV4), ConnId)> = None;
        while let Some(bytes) = self.device.tx.pop_front() {
            let Some(seg) = Segment::parse(&bytes) else {
                continue; // smoltcp writes only IPv4 TCP here
            };
            let key = (seg.src.port(), seg.dst);
            let id = match last {
                Some((k, id)) if k == key => Some(id),
                _ => self.by_tuple.get(&key).copied(),
            };
            if let Some(id) = id {
                self.conns[id.0 as usize].on_sent(&seg, now, self.epoch);
                last = Some((key, id));
            }
            self.out.push_back(OutPacket {
                src: seg.src,
                dst: seg.dst,
                syn: seg.is_attempt(),
                payload_len: seg.payload_len,
                bytes,
            });
        }
    }

    /// The next packet to hand to the emulator (see [`OutPacket::into_datagram`]).
    pub fn poll_transmit(&mut self) -> Option<OutPacket> {
        self.out.pop_front()
    }

    /// When the stack next needs [`poll`](Self::poll), ns (`now` if at once), or `None` until
    /// a packet arrives or the application acts. Never a time already polled at (smoltcp
    /// asking again for a poll it just had would spin a loop: it gets a poll 1 ms later).
    pub fn poll_at(&mut self, now: Nanos) -> Option<Nanos> {
        if self.dirty {
            return Some(now);
        }
        let stack = self.iface.poll_at(instant(now), &self.sockets);
        let stack = stack.map(|at| at.total_micros().max(0) as u64 * 1_000);
        let deadlines = self
            .live
            .iter()
            .filter_map(|&id| self.conns[id.0 as usize].deadline());
        let at = stack.into_iter().chain(deadlines).min()?;
        match self.last_poll {
            Some(polled) if at <= polled => Some((polled + STALL_GUARD).max(now)),
            _ => Some(at.max(now)),
        }
    }
}
