//! Cross-traffic on the network: flows scheduled on sites' shared links, their packets sent in
//! time order with everything else, and what became of them ([`CrossFlowCounters`], in each
//! link's [`crate::net::LinkCounters`]).
//!
//! A cross-traffic packet takes capacity and queue space on its link and may be lost there;
//! then it goes nowhere, so it is counted delivered once it would have left the link (its
//! departure from the queue plus the link's base delay), and a packet still inside the link
//! when the counters are read is counted in flight.
//!
//! ```
//! use callharness::net::{Network, NetworkConfig};
//! let cfg: NetworkConfig = serde_yaml::from_str(r#"
//! sites:
//!   - name: home
//!     shared: { name: dsl, up: { rate: 1Mbit, queue: 50pkt } }
//!     cross_traffic: [{ name: backup, rate: 2Mbit, direction: up, stop: 10s }]
//! hosts: []
//! "#).unwrap();
//! let mut net: Network<()> = Network::new(&cfg, 1, &[]).unwrap();
//! while let Some(t) = net.next_event() { net.advance(t); }
//! let up = net.counters().into_iter().find(|c| c.name == "site:home.up").unwrap();
//! let f = &up.cross_flows[0];
//! assert_eq!(f.flow, "backup");
//! // Twice what the link carries: about half is dropped at the full queue.
//! assert!(f.total_dropped() > f.sent / 3 && f.delivered > f.sent / 3, "{f:?}");
//! assert_eq!(f.sent, f.delivered + f.total_dropped() + f.in_flight);
//! ```

use crate::net::cross::{CrossTrafficFlow, FlowDirection};
use crate::net::cross_source::CrossTrafficSource;
use crate::net::error::NetError;
use crate::net::link::DropReason;
use crate::net::rng::link_seed;
use crate::net::timeline::NetEvent;
use crate::net::topology::{EventKind, Network};
use crate::net::Nanos;
use std::collections::VecDeque;

/// What one cross-traffic flow's packets did on its link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrossFlowCounters {
    /// The flow's name.
    pub flow: String,
    /// The site whose shared link it loads.
    pub site: String,
    /// When it started, ns.
    pub start: Nanos,
    /// Packets it sent into the link.
    pub sent: u64,
    /// Bytes it sent (IP sizes).
    pub sent_bytes: u64,
    /// Packets that left the link by the time the counters were read.
    pub delivered: u64,
    /// Drops by reason, indexed in [`DropReason::ALL`] order.
    pub dropped: [u64; DropReason::COUNT],
    /// Packets still inside the link (queued or propagating) when the counters were read.
    pub in_flight: u64,
}

impl CrossFlowCounters {
    /// Drops for all reasons.
    pub fn total_dropped(&self) -> u64 {
        self.dropped.iter().sum()
    }
}

/// A scheduled flow while the network runs.
#[derive(Debug)]
pub(crate) struct FlowState {
    site: usize,
    link: usize,
    source: CrossTrafficSource,
    counters: CrossFlowCounters,
    /// When each accepted packet leaves the link, for packets that may still be inside it.
    leaving: VecDeque<Nanos>,
}

impl FlowState {
    fn record(&mut self, now: Nanos, size: u32, fate: Result<Nanos, DropReason>) {
        self.counters.sent += 1;
        self.counters.sent_bytes += u64::from(size);
        match fate {
            Ok(leaves) => {
                while self.leaving.front().is_some_and(|&l| l <= now) {
                    self.leaving.pop_front();
                    self.counters.delivered += 1;
                }
                self.leaving.push_back(leaves);
            }
            Err(r) => self.counters.dropped[r as usize] += 1,
        }
    }

    /// The counters at `now`: the packets that have left by then counted delivered.
    fn at(&self, now: Nanos) -> CrossFlowCounters {
        let inside = self.leaving.iter().filter(|&&l| l > now).count() as u64;
        let mut c = self.counters.clone();
        c.delivered += self.leaving.len() as u64 - inside;
        c.in_flight = inside;
        c
    }
}

impl<P: Clone> Network<P> {
    /// Adds a cross-traffic flow on `site`'s shared link. Its random stream is seeded from the
    /// network's seed and the flow's site, direction and name (and how many flows of that
    /// name came before it there).
    pub fn schedule_cross_traffic(
        &mut self,
        site: &str,
        flow: CrossTrafficFlow,
    ) -> Result<(), NetError> {
        flow.validate()?;
        if flow.transport == crate::net::cross::FlowTransport::Tcp {
            return Err(NetError::InvalidFlow {
                flow: flow.name.clone(),
                field: "transport".into(),
                message: "a TCP flow runs over the simulation's TCP stacks, not inside the \
                          emulator: give it on a scenario's timeline (`cross_traffic:` at a site)"
                    .into(),
            });
        }
        let s = self
            .sites
            .iter()
            .position(|x| x.name == site)
            .ok_or_else(|| NetError::UnknownSite(site.to_string()))?;
        let (up, down) = self.sites[s].shared.ok_or_else(|| {
            NetError::Topology(format!(
                "cross-traffic {:?} needs a shared link on site {site}: give the site a `shared` profile",
                flow.name
            ))
        })?;
        let (link, dir) = if flow.direction == FlowDirection::Up {
            (up, "up")
        } else {
            (down, "down")
        };
        let before = self
            .timeline
            .flows
            .iter()
            .filter(|f| f.link == link && f.source.flow().name == flow.name)
            .count();
        let seed = link_seed(
            self.seed,
            &format!("cross:{site}:{dir}:{}#{before}", flow.name),
        );
        let start = flow.start.as_nanos().max(self.now);
        let stop = flow.stop.map(|d| d.as_nanos().max(start));
        let counters = CrossFlowCounters {
            flow: flow.name.clone(),
            site: site.to_string(),
            start,
            ..CrossFlowCounters::default()
        };
        let mut flow = flow;
        flow.start = crate::units::Dur::from_nanos(start);
        self.timeline.flows.push(FlowState {
            site: s,
            link,
            source: CrossTrafficSource::new(flow, seed),
            counters,
            leaving: VecDeque::new(),
        });
        let i = self.timeline.flows.len() - 1;
        self.push(start, EventKind::FlowStart(i));
        if let Some(stop) = stop {
            self.push(stop, EventKind::FlowStop(i));
        }
        Ok(())
    }

    /// Runs a flow's start, packet or stop event.
    pub(crate) fn run_flow(&mut self, kind: EventKind, t: Nanos) {
        match kind {
            EventKind::FlowStart(i) => {
                let f = &mut self.timeline.flows[i];
                let first = f.source.first();
                let (site, flow) = (
                    self.sites[f.site].name.clone(),
                    f.source.flow().name.clone(),
                );
                self.events
                    .push_back(NetEvent::CrossTrafficStart { site, flow, at: t });
                if let Some(first) = first {
                    self.push(first, EventKind::FlowPacket(i));
                }
            }
            EventKind::FlowPacket(i) => {
                let f = &mut self.timeline.flows[i];
                let size = f.source.next_size();
                let next = f.source.next_after(t);
                let fate = self.links[f.link].transmit_cross(t, size);
                f.record(t, size, fate);
                if let Some(next) = next {
                    self.push(next, EventKind::FlowPacket(i));
                }
            }
            EventKind::FlowStop(i) => {
                let f = &self.timeline.flows[i];
                let (site, flow) = (
                    self.sites[f.site].name.clone(),
                    f.source.flow().name.clone(),
                );
                self.events
                    .push_back(NetEvent::CrossTrafficStop { site, flow, at: t });
            }
            _ => {}
        }
    }

    /// The counters of the flows on link `link`, in the order they were scheduled.
    pub(crate) fn flow_counters(&self, link: usize) -> Vec<CrossFlowCounters> {
        self.timeline
            .flows
            .iter()
            .filter(|f| f.link == link)
            .map(|f| f.at(self.now))
            .collect()
    }
}
