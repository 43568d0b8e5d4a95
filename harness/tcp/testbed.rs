//! A small world for tests and benchmarks: one [`TcpHost`] per host of a [`NetworkConfig`],
//! joined by the emulator, run in simulated time by the loop the simulation will run itself.
//!
//! Each turn of [`TcpTestbed::run_until`]:
//! 1. every host whose stack is due (its `poll_at` reached) is polled; what it sends goes to
//!    `net.send(now, packet.into_datagram())`; its events go to the caller's handler, which
//!    may send, read or close (the host is then polled again at the same instant);
//! 2. time advances to the earliest of `net.next_event()` and the stacks' `poll_at`;
//! 3. each delivery goes to its host's stack: `handle_packet_buf` (a datagram) or `handle_reset`
//!    (a reset the emulator made for a refused SYN), and its buffer back to the sender.
//!
//! ```
//! use callharness::net::NetworkConfig;
//! use callharness::tcp::{testbed::TcpTestbed, TcpEvent, TcpOptions};
//! let cfg: NetworkConfig = serde_yaml::from_str(r#"
//! sites: [{ name: lan }]
//! hosts:
//!   - { name: client, site: lan, addr: 10.0.0.2, access: { name: wan, both: { delay: 10ms } } }
//!   - { name: server, site: lan, addr: 10.0.0.3 }
//! "#).unwrap();
//! let mut bed = TcpTestbed::new(&cfg, 7, 1500).unwrap();
//! let (client, server) = (bed.host_id("client").unwrap(), bed.host_id("server").unwrap());
//! bed.stack(server).listen(443).unwrap();
//! let to = "10.0.0.3:443".parse().unwrap();
//! bed.stack(client).connect(0, 0, to, TcpOptions::default()).unwrap();
//! let mut got = Vec::new();
//! bed.run_until(1_000_000_000, |stack, _host, _now, event| match event {
//!     TcpEvent::Connected(c) => assert_eq!(stack.send(c, b"hello"), 5),
//!     TcpEvent::Readable(c) => _ = stack.recv(c, &mut got),
//!     _ => {}
//! });
//! assert_eq!(got, b"hello");
//! ```

use crate::net::error::NetError;
use crate::net::rng::link_seed;
use crate::net::{DeliveryKind, HostId, Nanos, Network, NetworkConfig};
use crate::tcp::{TcpError, TcpEvent, TcpHost};
use std::collections::BTreeMap;
use std::hash::Hasher;
use std::net::Ipv4Addr;

/// Why a testbed could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TestbedError {
    /// The network configuration is wrong.
    #[error(transparent)]
    Net(#[from] NetError),
    /// A host's stack could not be made.
    #[error(transparent)]
    Tcp(#[from] TcpError),
}

/// Hosts with TCP stacks over an emulated network (see the module docs).
pub struct TcpTestbed {
    /// The emulator (its counters, links and schedules are the caller's to read).
    pub net: Network<Vec<u8>>,
    hosts: Vec<TcpHost>,
    /// When each host's stack next needs a poll.
    wake: Vec<Option<Nanos>>,
    by_addr: BTreeMap<Ipv4Addr, usize>,
    now: Nanos,
    packets: u64,
    trace: Option<std::collections::hash_map::DefaultHasher>,
}

impl TcpTestbed {
    /// The network of `cfg` (seeded with `seed`) with a stack on every host, each seeded from
    /// `seed` and its name, all with a device MTU of `mtu` bytes.
    pub fn new(cfg: &NetworkConfig, seed: u64, mtu: u16) -> Result<TcpTestbed, TestbedError> {
        let net = Network::new(cfg, seed, &[])?;
        let mut hosts = Vec::new();
        let mut by_addr = BTreeMap::new();
        for (i, h) in cfg.hosts.iter().enumerate() {
            let host_seed = link_seed(seed, &format!("tcp:{}", h.name));
            hosts.push(TcpHost::new(h.addr, host_seed, mtu)?);
            by_addr.insert(h.addr, i);
        }
        Ok(TcpTestbed {
            net,
            wake: vec![None; hosts.len()],
            hosts,
            by_addr,
            now: 0,
            packets: 0,
            trace: None,
        })
    }

    /// The host named `name`.
    pub fn host_id(&self, name: &str) -> Option<HostId> {
        self.net.host_id(name)
    }

    /// A host's stack, to listen, connect, send or read (it is polled at the current time
    /// afterwards).
    pub fn stack(&mut self, host: HostId) -> &mut TcpHost {
        let i = host.0 as usize;
        self.wake[i] = Some(self.now);
        &mut self.hosts[i]
    }

    /// The time run to, ns.
    pub fn now(&self) -> Nanos {
        self.now
    }

    /// Packets the stacks handed to the network so far.
    pub fn packets_sent(&self) -> u64 {
        self.packets
    }

    /// Hashes every packet sent from now on, with its send time (see [`Self::trace_hash`]).
    pub fn record_trace(&mut self) {
        self.trace = Some(Default::default());
    }

    /// The hash of every (send time, packet bytes) since [`Self::record_trace`]: equal for two
    /// runs exactly when they sent the same packets at the same times (with overwhelming
    /// probability).
    pub fn trace_hash(&self) -> Option<u64> {
        self.trace.as_ref().map(|h| h.finish())
    }

    /// Runs until `until`, ns, handing each host's events to `on_event(stack, host, now,
    /// event)`; returns whether anything is still pending (a packet in flight, a timer).
    pub fn run_until<F>(&mut self, until: Nanos, mut on_event: F) -> bool
    where
        F: FnMut(&mut TcpHost, HostId, Nanos, TcpEvent),
    {
        loop {
            self.poll_due(&mut on_event);
            let stacks = self.wake.iter().flatten().min().copied();
            let next = match (self.net.next_event(), stacks) {
                (Some(a), Some(b)) => a.min(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => {
                        self.now = self.now.max(until);
                        return false;
                    }
                },
            };
            if next > until {
                self.now = self.now.max(until);
                self.net.advance(self.now);
                return true;
            }
            self.now = self.now.max(next);
            self.net.advance(self.now);
            self.deliver();
        }
    }

    /// Polls every host that is due until none is, sending what they send.
    fn poll_due<F>(&mut self, on_event: &mut F)
    where
        F: FnMut(&mut TcpHost, HostId, Nanos, TcpEvent),
    {
        let now = self.now;
        loop {
            let mut any = false;
            for i in 0..self.hosts.len() {
                if self.wake[i].is_none_or(|t| t > now) {
                    continue;
                }
                any = true;
                let host = &mut self.hosts[i];
                host.poll(now);
                while let Some(p) = host.poll_transmit() {
                    if let Some(h) = self.trace.as_mut() {
                        h.write_u64(now);
                        h.write(&p.bytes);
                    }
                    self.packets += 1;
                    self.net.send(now, p.into_datagram());
                }
                while let Some(e) = host.poll_event() {
                    on_event(host, HostId(i as u32), now, e);
                }
                self.wake[i] = host.poll_at(now);
            }
            if !any {
                return;
            }
        }
    }

    /// Hands every delivery to its host's stack.
    fn deliver(&mut self) {
        while let Some(d) = self.net.poll_delivery() {
            let to = d.to_host.0 as usize;
            let g = d.datagram;
            let host = &mut self.hosts[to];
            let spare = match d.kind {
                DeliveryKind::Datagram => host.handle_packet_buf(d.at, g.src, g.dst, g.payload),
                DeliveryKind::TcpReset => {
                    host.handle_reset(d.at, g.src, g.dst);
                    g.payload
                }
            };
            self.wake[to] = Some(d.at);
            let from = self.by_addr.get(g.src.ip()).copied().unwrap_or(to);
            self.hosts[from].recycle(spare);
        }
    }
}
