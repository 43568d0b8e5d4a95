//! [`TcpHost`]: one emulated host's TCP stack, smoltcp's interface and sockets over a virtual
//! device, driven by time and packets (see the module docs of [`crate::tcp`]).

use crate::net::Nanos;
use crate::tcp::conn::{Conn, Phase};
use crate::tcp::device::VirtualDevice;
use crate::tcp::types::{
    ConnId, ConnStats, ListenerId, OutPacket, TcpError, TcpEvent, TcpOptions, TcpState,
};
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::socket::tcp::{Socket, SocketBuffer};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr, IpListenEndpoint};
use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};

/// The first port [`TcpHost::ephemeral_port`] hands out (IANA's dynamic range, 49152-65535).
pub const EPHEMERAL_PORTS: std::ops::RangeInclusive<u16> = 49152..=65535;
/// The smallest device MTU: the 40 bytes of headers plus smoltcp's smallest MSS (48).
pub const MIN_MTU: u16 = 88;
/// How far [`TcpHost::poll_at`] looks ahead when smoltcp asks again for a poll it just had
/// (it cannot progress): 1 ms, the resolution of its timers' arithmetic.
const STALL_GUARD: Nanos = 1_000_000;

/// A listening port: the sockets waiting in LISTEN (one per connection smoltcp can accept at
/// once; a fresh one replaces each that leaves LISTEN).
struct Listener {
    port: u16,
    opts: TcpOptions,
    idle: Vec<SocketHandle>,
    open: bool,
}

/// One host's TCP stack (see the module docs of [`crate::tcp`]).
pub struct TcpHost {
    addr: Ipv4Addr,
    iface: Interface,
    device: VirtualDevice,
    sockets: SocketSet<'static>,
    pub(crate) conns: Vec<Conn>,
    /// Connections holding a socket, in creation order.
    live: Vec<ConnId>,
    by_tuple: BTreeMap<(u16, SocketAddrV4), ConnId>,
    listeners: Vec<Listener>,
    out: VecDeque<OutPacket>,
    events: VecDeque<TcpEvent>,
    next_port: u16,
    /// Counts polls (from 1): what an RTO is told apart from a fast retransmit by.
    epoch: u64,
    /// Something happened since the last poll (a packet, a send, a close...).
    dirty: bool,
    last_poll: Option<Nanos>,
    malformed: u64,
}

#[path = "packet_path.rs"]
mod packet_path;

fn instant(now: Nanos) -> Instant {
    Instant::from_micros((now / 1_000) as i64)
}

fn duration(ns: Nanos) -> Duration {
    Duration::from_micros(ns / 1_000)
}

fn check_buffers(opts: &TcpOptions) -> Result<(), TcpError> {
    for (which, bytes) in [("send", opts.send_buffer), ("recv", opts.recv_buffer)] {
        if bytes == 0 || bytes > 1 << 30 {
            return Err(TcpError::BufferSize { which, bytes });
        }
    }
    Ok(())
}

fn new_socket(opts: &TcpOptions) -> Socket<'static> {
    let rx = SocketBuffer::new(vec![0u8; opts.recv_buffer]);
    let tx = SocketBuffer::new(vec![0u8; opts.send_buffer]);
    let mut s = Socket::new(rx, tx);
    s.set_nagle_enabled(!opts.nodelay);
    // smoltcp's own timeout is an idle timeout (it also ends a connection that merely has
    // nothing to say); the host applies `timeout` itself, only while something is waiting.
    s.set_timeout(None);
    s.set_keep_alive(opts.keep_alive.map(duration));
    s.set_ack_delay(opts.ack_delay.map(duration));
    s
}

impl TcpHost {
    /// A stack for the host at `addr`. `seed` seeds smoltcp's generator (initial sequence
    /// numbers, IPv4 identification): give every host its own. `mtu` is the largest IP
    /// packet, bytes; the MSS is `mtu - 40` (smoltcp has no path-MTU discovery, so use the
    /// emulated path's MTU, 1500 on most).
    pub fn new(addr: Ipv4Addr, seed: u64, mtu: u16) -> Result<TcpHost, TcpError> {
        if mtu < MIN_MTU {
            return Err(TcpError::Mtu(mtu));
        }
        let mut device = VirtualDevice::new(mtu);
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut device, Instant::ZERO);
        iface.update_ip_addrs(|a| {
            let _ = a.push(IpCidr::new(IpAddress::Ipv4(addr), 32));
        });
        // Every destination is reached through the emulator: a default route "via" ourselves.
        let _ = iface.routes_mut().add_default_ipv4_route(addr);
        Ok(TcpHost {
            addr,
            iface,
            device,
            sockets: SocketSet::new(Vec::new()),
            conns: Vec::new(),
            live: Vec::new(),
            by_tuple: BTreeMap::new(),
            listeners: Vec::new(),
            out: VecDeque::new(),
            events: VecDeque::new(),
            next_port: *EPHEMERAL_PORTS.start(),
            epoch: 1,
            dirty: false,
            last_poll: None,
            malformed: 0,
        })
    }

    /// The host's address.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// Accepts connections on `port` with the default options.
    pub fn listen(&mut self, port: u16) -> Result<ListenerId, TcpError> {
        self.listen_with(port, TcpOptions::default())
    }

    /// Accepts connections on `port`, each set up with `opts`; any number of clients may
    /// connect (each accept puts a fresh listening socket in place).
    pub fn listen_with(&mut self, port: u16, opts: TcpOptions) -> Result<ListenerId, TcpError> {
        if port == 0 {
            return Err(TcpError::PortZero);
        }
        check_buffers(&opts)?;
        if self.port_in_use(port) {
            return Err(TcpError::PortInUse {
                addr: self.addr,
                port,
            });
        }
        let h = self.listening_socket(port, &opts);
        self.listeners.push(Listener {
            port,
            opts,
            idle: vec![h],
            open: true,
        });
        Ok(ListenerId(self.listeners.len() as u32 - 1))
    }

    /// Stops accepting on the listener's port (connections already accepted go on).
    pub fn unlisten(&mut self, listener: ListenerId) {
        if let Some(l) = self.listeners.get_mut(listener.0 as usize) {
            l.open = false;
            for h in l.idle.drain(..) {
                self.sockets.remove(h);
            }
        }
    }

    fn listening_socket(&mut self, port: u16, opts: &TcpOptions) -> SocketHandle {
        let mut s = new_socket(opts);
        let local = IpListenEndpoint {
            addr: Some(IpAddress::Ipv4(self.addr)),
            port,
        };
        // Cannot fail: the port is not 0 and the socket is fresh.
        let _ = s.listen(local);
        self.sockets.add(s)
    }

    fn port_in_use(&self, port: u16) -> bool {
        let (lo, hi) = (
            SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            SocketAddrV4::new(Ipv4Addr::BROADCAST, u16::MAX),
        );
        self.listeners.iter().any(|l| l.open && l.port == port)
            || self
                .by_tuple
                .range((port, lo)..=(port, hi))
                .next()
                .is_some()
    }

    /// A local port for a new connection: the next free one of 49152-65535, in order, wrapping
    /// (deterministic).
    pub fn ephemeral_port(&mut self) -> Result<u16, TcpError> {
        let (first, last) = (*EPHEMERAL_PORTS.start(), *EPHEMERAL_PORTS.end());
        for _ in EPHEMERAL_PORTS {
            let port = self.next_port;
            self.next_port = if port == last { first } else { port + 1 };
            if !self.port_in_use(port) {
                return Ok(port);
            }
        }
        Err(TcpError::NoEphemeralPort(self.addr))
    }

    /// Opens a connection from `local_port` (0: an [`ephemeral_port`](Self::ephemeral_port))
    /// to `remote` at `now`, ns. The SYN leaves at the next [`poll`](Self::poll); a
    /// [`TcpEvent::Connected`], `Refused` or `TimedOut` follows.
    pub fn connect(
        &mut self,
        now: Nanos,
        local_port: u16,
        remote: SocketAddrV4,
        opts: TcpOptions,
    ) -> Result<ConnId, TcpError> {
        check_buffers(&opts)?;
        if remote.port() == 0 || remote.ip().is_unspecified() {
            return Err(TcpError::Unaddressable(remote));
        }
        let port = match local_port {
            0 => self.ephemeral_port()?,
            p => p,
        };
        let taken = self.by_tuple.contains_key(&(port, remote))
            || self.listeners.iter().any(|l| l.open && l.port == port);
        if taken {
            return Err(TcpError::PortInUse {
                addr: self.addr,
                port,
            });
        }
        let mut s = new_socket(&opts);
        let local = IpListenEndpoint {
            addr: Some(IpAddress::Ipv4(self.addr)),
            port,
        };
        s.connect(
            self.iface.context(),
            (IpAddress::Ipv4(*remote.ip()), remote.port()),
            local,
        )
        .map_err(|_| TcpError::Unaddressable(remote))?;
        let h = self.sockets.add(s);
        let id = self.add_conn(Conn::new(
            h,
            None,
            port,
            remote,
            TcpState::SynSent,
            &opts,
            now,
        ));
        self.dirty = true;
        Ok(id)
    }

    fn add_conn(&mut self, c: Conn) -> ConnId {
        let id = ConnId(self.conns.len() as u32);
        self.by_tuple.insert((c.local_port, c.remote), id);
        self.conns.push(c);
        self.live.push(id);
        id
    }

    fn socket(&mut self, id: ConnId) -> Option<(&mut Conn, &mut Socket<'static>)> {
        let c = self.conns.get_mut(id.0 as usize)?;
        let h = c.handle?;
        Some((c, self.sockets.get_mut::<Socket>(h)))
    }

    /// Queues bytes to send; returns how many the send buffer took (0 before the handshake
    /// ends, after a close, or when full: a [`TcpEvent::Writable`] follows when space frees).
    pub fn send(&mut self, conn: ConnId, data: &[u8]) -> usize {
        let Some((c, s)) = self.socket(conn) else {
            return 0;
        };
        let n = s.send_slice(data).unwrap_or(0);
        c.stats.bytes_queued += n as u64;
        if n < data.len() && s.may_send() {
            c.want_write = true;
        }
        self.dirty |= n > 0;
        n
    }

    /// Appends every byte received in order and not yet read to `out`; returns how many.
    pub fn recv(&mut self, conn: ConnId, out: &mut Vec<u8>) -> usize {
        let Some((_, s)) = self.socket(conn) else {
            return 0;
        };
        let mut total = 0;
        while let Ok(n) = s.recv(|b| {
            out.extend_from_slice(b);
            (b.len(), b.len())
        }) {
            if n == 0 {
                break;
            }
            total += n;
        }
        self.after_read(conn, total)
    }

    /// Reads received bytes into `buf`; returns how many (a `Readable` comes again only once
    /// everything waiting has been read).
    pub fn recv_slice(&mut self, conn: ConnId, buf: &mut [u8]) -> usize {
        let Some((_, s)) = self.socket(conn) else {
            return 0;
        };
        let n = s.recv_slice(buf).unwrap_or(0);
        self.after_read(conn, n)
    }

    fn after_read(&mut self, conn: ConnId, n: usize) -> usize {
        let Some((c, s)) = self.socket(conn) else {
            return n;
        };
        c.bytes_read += n as u64;
        if s.recv_queue() == 0 {
            c.readable_pending = false;
            if s.state() == smoltcp::socket::tcp::State::Closed && s.local_endpoint().is_none() {
                self.release(conn);
            }
        }
        self.dirty |= n > 0; // the window opened
        n
    }

    /// Closes the sending half (a FIN after the data queued); the connection ends with
    /// [`TcpEvent::Closed`] once the peer has closed too. Before the handshake ends it aborts.
    pub fn close(&mut self, conn: ConnId, now: Nanos) {
        if let Some((_, s)) = self.socket(conn) {
            s.close();
            self.sync(conn, Phase::Local, now);
            self.dirty = true;
        }
    }

    /// Drops the connection at once: a RST goes to the peer, unread data is discarded, and no
    /// event follows ([`TcpEnd::Aborted`]).
    pub fn abort(&mut self, conn: ConnId, now: Nanos) {
        if let Some((c, s)) = self.socket(conn) {
            s.abort();
            c.readable_pending = false;
            self.sync(conn, Phase::Local, now);
            self.dirty = true;
        }
    }

    /// The connection's state (`Closed` for an unknown one).
    pub fn state(&self, conn: ConnId) -> TcpState {
        self.conns
            .get(conn.0 as usize)
            .map_or(TcpState::Closed, |c| c.state)
    }

    /// The peer's address of a connection.
    pub fn remote(&self, conn: ConnId) -> Option<SocketAddrV4> {
        self.conns.get(conn.0 as usize).map(|c| c.remote)
    }

    /// The connection's counters, as they stand.
    pub fn stats(&self, conn: ConnId) -> Option<ConnStats> {
        let c = self.conns.get(conn.0 as usize)?;
        let mut stats = c.stats.clone();
        if let Some(h) = c.handle {
            let s = self.sockets.get::<Socket>(h);
            stats.bytes_acked = stats.bytes_queued - s.send_queue() as u64;
            stats.bytes_received = c.bytes_read + s.recv_queue() as u64;
        }
        Some(stats)
    }

    /// Packets that were not IPv4 TCP (ignored), a count.
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Gives a delivered packet's buffer back for reuse (to any host; its sender's is best),
    /// so a steady transfer allocates nothing per packet.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        self.device.recycle(buf);
    }

    /// The next event, in order.
    pub fn poll_event(&mut self) -> Option<TcpEvent> {
        self.events.pop_front()
    }

    /// Turns congestion control off on a connection (tests only: what the link does to a
    /// sender without it).
    #[cfg(test)]
    pub(crate) fn disable_congestion_control(&mut self, conn: ConnId) {
        if let Some((_, s)) = self.socket(conn) {
            s.set_congestion_control(smoltcp::socket::tcp::CongestionControl::None);
        }
    }
}
