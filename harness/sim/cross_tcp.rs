//! TCP cross-traffic (`transport: tcp`, see [`crate::net::cross_transport`]): a bulk transfer
//! between two hidden hosts over the simulation's real TCP stacks (`streams.rs`).
//!
//! Each TCP flow of the timeline gets two hosts that no scenario can name (their names start
//! with [`CROSS_TRAFFIC`], which the scenario reader reserves), added after every other host
//! so the participants' addresses and order stay as they were:
//! - `cross-traffic:N`, on the flow's site at 10.253.0.N+1: the household's other computer,
//!   behind the site's shared link (and its NAT, if it has one) on an ideal LAN link;
//! - `cross-traffic:N:server` at 10.252.0.N+1, in the site `cross-traffic`: the server,
//!   `server_delay` away (20 ms by default) on a link with no other impairment.
//!
//! At `start` the server listens on port 443 and the site's host connects to it. Once the
//! handshake is over the sender (the server for `down`, the site's host for `up`) always has
//! data: its send buffer is kept full, or filled at `rate` when the flow caps it (every
//! [`PACE_NS`]). The receiver reads everything at once, so its window never closes. At `stop`
//! the site's host aborts the connection (a cancelled download: a RST, nothing more sent).
//!
//! Buffers: the sender's send buffer is 4 MiB and the receiver's receive buffer (its largest
//! window) 6 MiB, the maxima Linux's autotuning allows by default (`net.ipv4.tcp_wmem` and
//! `tcp_rmem`): more than the bandwidth-delay product plus the deepest queue a scenario
//! plausibly gives (100 Mbit/s × 100 ms is 1.25 MB; a 1000-packet queue 1.5 MB), so the window
//! is the bottleneck queue's, never the buffer's. The other directions carry only ACKs: 16 KiB.
//! smoltcp allocates buffers whole: about 10 MiB per flow while it runs.
//!
//! What the flow did goes in the report beside the other flows of its link
//! ([`add_reports`]): its data segments sent, delivered and dropped (only the shared link can
//! drop them on this path), and the transfer's goodput, retransmissions and round trip.

use super::world::CROSS_TRAFFIC;
use super::{Sim, CROSS_TIMER};
use crate::net::cross::{CrossTrafficFlow, FlowDirection, FlowTransport};
use crate::net::{DropReason, HostConfig, HostId, LinkProfile, NetError, Network, SiteConfig};
use crate::report::model::{CrossTrafficReport, LinkReport, TcpFlowReport};
use crate::scenario::{ActionTarget, NetAction, Scenario};
use crate::tcp::{ConnId, TcpEvent, TcpOptions};
use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};

/// The port the flows' servers listen on (HTTPS).
pub const SERVER_PORT: u16 = 443;
/// How often a flow with a `rate` cap hands its application's bytes to TCP, ns (10 ms).
pub const PACE_NS: u64 = 10_000_000;
/// The sender's send buffer, bytes (Linux's `tcp_wmem` maximum, 4 MiB).
pub const SEND_BUFFER: usize = 4 << 20;
/// The receiver's receive buffer, bytes (Linux's `tcp_rmem` maximum, 6 MiB).
pub const RECV_BUFFER: usize = 6 << 20;
/// The buffers of the directions that carry only ACKs, bytes.
const ACK_BUFFER: usize = 16 << 10;
/// What the sender writes: zeros, at most this many bytes a call.
static ZEROS: [u8; 64 << 10] = [0; 64 << 10];

/// One TCP flow of the timeline: its site and the flow, its start and stop resolved.
#[derive(Debug, Clone)]
pub struct TcpFlowSpec {
    /// The site whose shared link it loads.
    pub site: String,
    /// The flow (`start` and `stop` as the timeline gives them).
    pub flow: CrossTrafficFlow,
}

/// The timeline's TCP flows, in timeline order (a `cross_traffic_stop` ends the flow of that
/// name started last before it on that site).
pub fn tcp_flows(s: &Scenario) -> Vec<TcpFlowSpec> {
    let mut out = Vec::new();
    for a in &s.timeline {
        let (ActionTarget::Site(site), NetAction::CrossTrafficStart { flow }) =
            (&a.target, &a.action)
        else {
            continue;
        };
        if flow.transport != FlowTransport::Tcp {
            continue;
        }
        let mut flow = flow.clone();
        flow.start = a.at;
        let stop = s
            .timeline
            .iter()
            .find_map(|b| match (&b.target, &b.action) {
                (ActionTarget::Site(x), NetAction::CrossTrafficStop { name })
                    if x == site && *name == flow.name && b.at >= a.at =>
                {
                    Some(b.at)
                }
                _ => None,
            });
        flow.stop = stop.or(flow.stop.map(|d| d.max(a.at)));
        out.push(TcpFlowSpec {
            site: site.clone(),
            flow,
        });
    }
    out
}

fn client_name(i: usize) -> String {
    format!("{CROSS_TRAFFIC}:{i}")
}

fn server_name(i: usize) -> String {
    format!("{CROSS_TRAFFIC}:{i}:server")
}

fn numbered(net: u8, i: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, net, (i / 250) as u8, (i % 250 + 1) as u8)
}

/// Adds the hidden hosts of the scenario's TCP flows, and their servers' site, after the
/// others (`world::network_config`).
pub(crate) fn add_hosts(s: &Scenario, sites: &mut Vec<SiteConfig>, hosts: &mut Vec<HostConfig>) {
    let flows = tcp_flows(s);
    if flows.is_empty() {
        return;
    }
    sites.push(SiteConfig {
        name: CROSS_TRAFFIC.into(),
        ..SiteConfig::default()
    });
    for (i, f) in flows.iter().enumerate() {
        hosts.push(HostConfig {
            name: client_name(i),
            site: f.site.clone(),
            addr: numbered(253, i),
            access: LinkProfile::ideal("lan"),
            firewall: Vec::new(),
        });
        let both = crate::net::DirectionConfig {
            delay: Some(f.flow.server_delay()),
            ..Default::default()
        };
        hosts.push(HostConfig {
            name: server_name(i),
            site: CROSS_TRAFFIC.into(),
            addr: numbered(252, i),
            access: LinkProfile {
                both: Some(both),
                ..LinkProfile::ideal("server")
            },
            firewall: Vec::new(),
        });
    }
}

/// Refuses a TCP flow on a site without a shared link (there is nothing for it to load).
pub(crate) fn check_site<P: Clone>(
    net: &Network<P>,
    site: &str,
    flow: &CrossTrafficFlow,
) -> Result<(), NetError> {
    if net.link(&format!("site:{site}.up")).is_some() {
        return Ok(());
    }
    Err(NetError::Topology(format!(
        "cross-traffic {:?} needs a shared link on site {site}: give the site a `shared` profile",
        flow.name
    )))
}

/// A TCP flow while the simulation runs.
struct TcpFlow {
    spec: TcpFlowSpec,
    client: HostId,
    server: HostId,
    server_addr: Ipv4Addr,
    client_conn: Option<ConnId>,
    server_conn: Option<ConnId>,
    started: bool,
    stopped: bool,
    connected_at: Option<u64>,
    /// Bytes the sending application handed to TCP.
    written: u64,
    /// Segments (and their IP bytes) the sender sent, and the receiver's host received.
    sent: u64,
    sent_bytes: u64,
    delivered: u64,
    /// Drops of the sender's segments, by reason ([`DropReason::ALL`] order).
    dropped: [u64; DropReason::COUNT],
    scheduled: Option<u64>,
}

impl TcpFlow {
    fn sends_down(&self) -> bool {
        self.spec.flow.direction == FlowDirection::Down
    }

    /// The sending host and its connection (once it has one).
    fn sender(&self) -> (HostId, Option<ConnId>) {
        if self.sends_down() {
            (self.server, self.server_conn)
        } else {
            (self.client, self.client_conn)
        }
    }

    fn receiver(&self) -> (HostId, Option<ConnId>) {
        if self.sends_down() {
            (self.client, self.client_conn)
        } else {
            (self.server, self.server_conn)
        }
    }

    /// When the flow next needs its timer: its start, its stop, or its next pacing tick.
    fn next_due(&self, now: u64) -> Option<u64> {
        let f = &self.spec.flow;
        if !self.started {
            return Some(f.start.as_nanos());
        }
        if self.stopped {
            return None;
        }
        let stop = f.stop.map(|d| d.as_nanos());
        let pace = (f.rate.is_some() && self.connected_at.is_some()).then(|| now + PACE_NS);
        match (stop, pace) {
            (Some(s), Some(p)) => Some(s.min(p)),
            (s, p) => s.or(p),
        }
    }
}

/// The TCP flows of a run (see the module docs).
#[derive(Default)]
pub(crate) struct CrossTcp {
    flows: Vec<TcpFlow>,
    /// Flow by hidden host.
    by_host: BTreeMap<HostId, usize>,
    /// Where the receivers read to, reused.
    scratch: Vec<u8>,
}

impl CrossTcp {
    /// The scenario's TCP flows on `net`, whose hidden hosts [`add_hosts`] added.
    pub(crate) fn new<P: Clone>(s: &Scenario, net: &Network<P>) -> CrossTcp {
        let mut out = CrossTcp::default();
        for (i, spec) in tcp_flows(s).into_iter().enumerate() {
            let (Some(client), Some(server)) =
                (net.host_id(&client_name(i)), net.host_id(&server_name(i)))
            else {
                continue;
            };
            let k = out.flows.len();
            out.by_host.insert(client, k);
            out.by_host.insert(server, k);
            out.flows.push(TcpFlow {
                spec,
                client,
                server,
                server_addr: net.host_addr(server),
                client_conn: None,
                server_conn: None,
                started: false,
                stopped: false,
                connected_at: None,
                written: 0,
                sent: 0,
                sent_bytes: 0,
                delivered: 0,
                dropped: [0; DropReason::COUNT],
                scheduled: None,
            });
        }
        out
    }

    /// `host` sent a TCP packet of `size` bytes (counted if it is a flow's sender).
    #[inline]
    pub(crate) fn sent(&mut self, host: HostId, size: u32) {
        if let Some(f) = self.flow_mut(host) {
            if f.sender().0 == host {
                f.sent += 1;
                f.sent_bytes += u64::from(size);
            }
        }
    }

    /// A TCP packet arrived at `host` (counted if it is a flow's receiver).
    #[inline]
    pub(crate) fn arrived(&mut self, host: HostId) {
        if let Some(f) = self.flow_mut(host) {
            if f.receiver().0 == host {
                f.delivered += 1;
            }
        }
    }

    /// The network dropped a TCP packet `src` -> `dst` for `reason` (counted if it is a
    /// flow's data, which always has the flow's server at one end).
    pub(crate) fn dropped(&mut self, src: Ipv4Addr, dst: Ipv4Addr, reason: DropReason) {
        for f in &mut self.flows {
            let data = if f.sends_down() {
                src == f.server_addr
            } else {
                dst == f.server_addr
            };
            if data {
                f.dropped[reason as usize] += 1;
                return;
            }
        }
    }

    #[inline]
    fn flow_mut(&mut self, host: HostId) -> Option<&mut TcpFlow> {
        if self.flows.is_empty() {
            return None;
        }
        let &i = self.by_host.get(&host)?;
        self.flows.get_mut(i)
    }
}

impl Sim {
    /// Schedules every TCP flow's start (at the start of the run).
    pub(crate) fn cross_tcp_schedule(&mut self) {
        for i in 0..self.cross_tcp.flows.len() {
            self.cross_tcp_reschedule(i);
        }
    }

    fn cross_tcp_reschedule(&mut self, i: usize) {
        let now = self.now;
        let f = &mut self.cross_tcp.flows[i];
        let t = f.next_due(now).map(|t| t.max(now));
        if t != f.scheduled {
            f.scheduled = t;
            if let Some(t) = t {
                self.timers.push(Reverse((t, CROSS_TIMER | i)));
            }
        }
    }

    /// Flow `i`'s timer fired at `at`: it starts, stops, or hands its capped bytes to TCP.
    pub(crate) fn cross_tcp_timer(&mut self, i: usize, at: u64) {
        let Some(f) = self.cross_tcp.flows.get_mut(i) else {
            return;
        };
        if f.scheduled != Some(at) {
            return;
        }
        f.scheduled = None;
        let now = self.now;
        let (site, name) = (f.spec.site.clone(), f.spec.flow.name.clone());
        if !f.started {
            f.started = true;
            let (client, server) = (f.client, f.server);
            let remote = SocketAddrV4::new(f.server_addr, SERVER_PORT);
            let (send, recv) = if f.sends_down() {
                (SEND_BUFFER, ACK_BUFFER)
            } else {
                (ACK_BUFFER, RECV_BUFFER)
            };
            let server_opts = options(send, recv);
            self.tcp_listen_with(server, SERVER_PORT, server_opts);
            let conn = self.tcp_open(client, remote, options(recv, send));
            self.cross_tcp.flows[i].client_conn = conn;
            self.events.push(crate::net::NetEvent::CrossTrafficStart {
                site,
                flow: name,
                at: now,
            });
        } else if f.spec.flow.stop.is_some_and(|s| s.as_nanos() <= now) {
            f.stopped = true;
            if let Some(conn) = f.client_conn {
                let client = f.client;
                if let Some(stack) = self.streams.existing(client) {
                    stack.abort(conn, now);
                }
                self.streams.mark(client);
            }
            self.events.push(crate::net::NetEvent::CrossTrafficStop {
                site,
                flow: name,
                at: now,
            });
        } else {
            self.cross_tcp_fill(i);
        }
        self.cross_tcp_reschedule(i);
    }

    /// Hands the sender's application bytes to TCP: as many as its send buffer takes, or, with
    /// a `rate` cap, what the cap allows since the handshake.
    fn cross_tcp_fill(&mut self, i: usize) {
        let now = self.now;
        let f = &mut self.cross_tcp.flows[i];
        let (host, Some(conn)) = f.sender() else {
            return;
        };
        if f.stopped {
            return;
        }
        let allowed = match (f.spec.flow.rate, f.connected_at) {
            (None, _) => u64::MAX,
            (Some(r), Some(t0)) => {
                (u128::from(now - t0) * u128::from(r.bits_per_sec()) / 8_000_000_000) as u64
            }
            (Some(_), None) => 0,
        };
        let Some(stack) = self.streams.existing(host) else {
            return;
        };
        loop {
            let want = allowed.saturating_sub(f.written).min(ZEROS.len() as u64) as usize;
            if want == 0 {
                break;
            }
            let n = stack.send(conn, &ZEROS[..want]);
            f.written += n as u64;
            if n < want {
                break;
            }
        }
        self.streams.mark(host);
    }

    /// Handles `e` if it happened on a TCP flow's host; false if it is not theirs.
    pub(crate) fn cross_tcp_event(&mut self, host: HostId, e: TcpEvent) -> bool {
        let Some(&i) = self.cross_tcp.by_host.get(&host) else {
            return false;
        };
        let now = self.now;
        let f = &mut self.cross_tcp.flows[i];
        match e {
            TcpEvent::Accepted { listener, conn, .. } if host == f.server => {
                f.server_conn = Some(conn);
                // One connection per server: free the listening socket put in its place.
                if let Some(stack) = self.streams.existing(host) {
                    stack.unlisten(listener);
                }
                if f.sends_down() {
                    f.connected_at = Some(now);
                    self.cross_tcp_fill(i);
                    self.cross_tcp_reschedule(i);
                }
            }
            TcpEvent::Connected(_) if host == f.client && !f.sends_down() => {
                f.connected_at = Some(now);
                self.cross_tcp_fill(i);
                self.cross_tcp_reschedule(i);
            }
            TcpEvent::Writable(_) => self.cross_tcp_fill(i),
            TcpEvent::Readable(conn) => {
                let mut buf = std::mem::take(&mut self.cross_tcp.scratch);
                buf.resize(ZEROS.len(), 0);
                if let Some(stack) = self.streams.existing(host) {
                    while stack.recv_slice(conn, &mut buf) > 0 {}
                }
                self.cross_tcp.scratch = buf;
                self.streams.mark(host);
            }
            _ => {}
        }
        true
    }
}

fn options(send_buffer: usize, recv_buffer: usize) -> TcpOptions {
    TcpOptions {
        send_buffer,
        recv_buffer,
        // Nagle on: a bulk sender always has data, and Nagle's rule is what keeps smoltcp from
        // sending a sliver whenever the window opens by less than a segment (sender-side silly
        // window avoidance, RFC 1122 4.2.3.4, which Linux applies to bulk data).
        nodelay: false,
        ..TcpOptions::default()
    }
}

fn ms(ns: u64) -> f64 {
    (ns as f64 / 1_000.0).round() / 1_000.0
}

/// Puts each TCP flow's counters beside the other flows of the shared link it loads, and
/// leaves the hidden hosts' own links out of the report.
pub(crate) fn add_reports(sim: &mut Sim, links: &mut Vec<LinkReport>) {
    let end = sim.now;
    for k in 0..sim.cross_tcp.flows.len() {
        let f = &sim.cross_tcp.flows[k];
        let (sender, receiver) = (f.sender(), f.receiver());
        let flow = &f.spec.flow;
        let dir = if f.sends_down() { "down" } else { "up" };
        let link = format!("site:{}.{dir}", f.spec.site);
        let start = flow.start.as_nanos();
        let life_end = flow.stop.map_or(end, |s| s.as_nanos().min(end));
        let lifetime = life_end.saturating_sub(start);
        let dropped: u64 = f.dropped.iter().sum();
        let mut entry = CrossTrafficReport {
            flow: flow.name.clone(),
            start_ms: start / 1_000_000,
            sent: f.sent,
            sent_bytes: f.sent_bytes,
            delivered: f.delivered,
            dropped: super::links::drop_map(&f.dropped),
            in_flight_at_end: f.sent.saturating_sub(f.delivered + dropped),
            tcp: None,
        };
        let connected_ms = f.connected_at.map(|t| t / 1_000_000);
        let stats = |sim: &mut Sim, (h, c): (HostId, Option<ConnId>)| {
            c.and_then(|c| sim.streams.existing(h).and_then(|s| s.stats(c)))
        };
        let tx = stats(sim, sender).unwrap_or_default();
        let rx = stats(sim, receiver).unwrap_or_default();
        let goodput = rx.bytes_received;
        entry.tcp = Some(TcpFlowReport {
            direction: dir.into(),
            connected_ms,
            lifetime_ms: lifetime / 1_000_000,
            goodput_bytes: goodput,
            goodput_kbps: if lifetime == 0 {
                0.0
            } else {
                (goodput as f64 * 8e9 / lifetime as f64).round() / 1_000.0
            },
            retransmitted_segments: tx.retransmitted_segments,
            retransmitted_bytes: tx.retransmitted_bytes,
            rtos: tx.rtos,
            srtt_ms: tx.rtt_smoothed.map(ms),
            rtt_min_ms: tx.rtt_min.map(ms),
        });
        if let Some(l) = links.iter_mut().find(|l| l.link == link) {
            l.cross_traffic.push(entry);
        }
    }
    if !sim.cross_tcp.flows.is_empty() {
        links.retain(|l| !is_hidden_link(&l.link));
    }
}

/// A link of a hidden host (`cross-traffic:0.up`) or to the servers' site
/// (`core:home->cross-traffic`).
fn is_hidden_link(name: &str) -> bool {
    name.starts_with(CROSS_TRAFFIC)
        || name.contains(&format!(":{CROSS_TRAFFIC}->"))
        || name.ends_with(&format!("->{CROSS_TRAFFIC}"))
}
