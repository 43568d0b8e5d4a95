//! The network's timeline: schedule entries (phases, outages, address changes) and
//! cross-traffic flows, run in time order with the packets, and the [`NetEvent`]s they report.
//!
//! Entries come from the profiles in the [`NetworkConfig`] (a host's access profile, a site's
//! shared profile, a core profile) and from the scenario at run time through
//! [`Network::schedule_outage`], [`Network::schedule_address_change`],
//! [`Network::schedule_profile_change`] and [`Network::schedule_cross_traffic`] (whose
//! flows run in `cross_run.rs`).
//!
//! An address change gives the host the next free address in its /24 (last octet + 1, skipping
//! .0, .255 and addresses in use or used before), like a new DHCP lease after roaming. Packets
//! addressed to the old address, including those already in flight, are dropped with reason
//! `address-changed` when they reach the host.
//!
//! ```
//! use callharness::net::{Network, NetworkConfig, NetEvent};
//! let cfg: NetworkConfig = serde_yaml::from_str(
//!     "{sites: [{name: lan}], hosts: [{name: a, site: lan, addr: 10.0.0.5}]}").unwrap();
//! let mut net: Network<()> = Network::new(&cfg, 1, &[]).unwrap();
//! let a = net.host_id("a").unwrap();
//! net.schedule_address_change(a, 1_000);
//! net.advance(1_000);
//! assert_eq!(net.host_addr(a), "10.0.0.6".parse::<std::net::Ipv4Addr>().unwrap());
//! assert!(matches!(net.poll_event(), Some(NetEvent::AddressChanged { at: 1_000, .. })));
//! ```

use crate::net::config::{DirectionConfig, Which};
use crate::net::error::NetError;
use crate::net::schedule::{PhaseSet, ScheduleEntry};
use crate::net::topology::{EventKind, HostId, Network, NetworkConfig};
use crate::net::LinkProfile;
use crate::net::Nanos;
use std::net::Ipv4Addr;

/// Something that happened to the network, for the report's time axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// A host got a new address.
    AddressChanged {
        /// The host.
        host: HostId,
        /// Its address before.
        old: Ipv4Addr,
        /// Its address from now on.
        new: Ipv4Addr,
        /// When, ns.
        at: Nanos,
    },
    /// A link went down (both directions).
    OutageStart {
        /// A host name, "site:NAME" or "core:A<->B".
        target: String,
        /// When, ns.
        at: Nanos,
        /// When it comes back, ns.
        until: Nanos,
    },
    /// A link came back.
    OutageEnd {
        /// As in `OutageStart`.
        target: String,
        /// When, ns.
        at: Nanos,
    },
    /// A link's parameters changed.
    PhaseChange {
        /// As in `OutageStart`.
        target: String,
        /// The phase's label, if the entry has one.
        name: Option<String>,
        /// When, ns.
        at: Nanos,
    },
    /// A cross-traffic flow began.
    CrossTrafficStart {
        /// The site.
        site: String,
        /// The flow's name.
        flow: String,
        /// When, ns.
        at: Nanos,
    },
    /// A cross-traffic flow ended.
    CrossTrafficStop {
        /// The site.
        site: String,
        /// The flow's name.
        flow: String,
        /// When, ns.
        at: Nanos,
    },
}

impl NetEvent {
    /// When it happened, ns.
    pub fn at(&self) -> Nanos {
        match self {
            NetEvent::AddressChanged { at, .. }
            | NetEvent::OutageStart { at, .. }
            | NetEvent::OutageEnd { at, .. }
            | NetEvent::PhaseChange { at, .. }
            | NetEvent::CrossTrafficStart { at, .. }
            | NetEvent::CrossTrafficStop { at, .. } => *at,
        }
    }
}

/// What a schedule entry applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Host(usize),
    Site(usize),
    Core(usize, usize),
}

/// Schedule entries, outage ends and cross-traffic flows, indexed by their events.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    entries: Vec<(Target, ScheduleEntry)>,
    outage_ends: Vec<Target>,
    pub(crate) flows: Vec<crate::net::cross_run::FlowState>,
}

impl<P: Clone> Network<P> {
    pub(crate) fn load_schedules(&mut self, cfg: &NetworkConfig) -> Result<(), NetError> {
        for (i, h) in cfg.hosts.iter().enumerate() {
            for e in &h.access.schedule {
                self.add_entry(Target::Host(i), e.clone())?;
            }
        }
        for (i, s) in cfg.sites.iter().enumerate() {
            for e in s.shared.iter().flat_map(|p| &p.schedule) {
                self.add_entry(Target::Site(i), e.clone())?;
            }
            for f in &s.cross_traffic {
                self.schedule_cross_traffic(&s.name, f.clone())?;
            }
        }
        let n = self.sites.len();
        let site = |name: &str| self.sites.iter().position(|s| s.name == name);
        let mut core_entries = Vec::new();
        for a in 0..n {
            for b in a + 1..n {
                let own = cfg.core_paths.iter().find(|c| {
                    let (x, y) = (site(&c.a), site(&c.b));
                    (x, y) == (Some(a), Some(b)) || (x, y) == (Some(b), Some(a))
                });
                let (target, profile) = match own {
                    Some(c) => (
                        Target::Core(site(&c.a).unwrap_or(a), site(&c.b).unwrap_or(b)),
                        Some(&c.profile),
                    ),
                    None => (Target::Core(a, b), cfg.core.as_ref()),
                };
                for e in profile.iter().flat_map(|p| &p.schedule) {
                    core_entries.push((target, e.clone()));
                }
            }
        }
        for (t, e) in core_entries {
            self.add_entry(t, e)?;
        }
        Ok(())
    }

    fn add_entry(&mut self, target: Target, entry: ScheduleEntry) -> Result<(), NetError> {
        let name = self.target_name(target);
        entry.validate(&format!("{name}: schedule"))?;
        if entry.address_change && !matches!(target, Target::Host(_)) {
            return Err(NetError::config(
                &name,
                "address_change",
                "only a host's access profile can change address",
            ));
        }
        if let Some(set) = &entry.set {
            // Load any trace now, so a missing file is an error at build time, not mid-run.
            for spec in [set.up_change(), set.down_change()]
                .iter()
                .flatten()
                .filter_map(|c| c.trace.as_ref())
            {
                self.traces.get(spec)?;
            }
        }
        let at = entry.first_time().max(self.now);
        self.timeline.entries.push((target, entry));
        self.push(at, EventKind::Entry(self.timeline.entries.len() - 1));
        Ok(())
    }

    /// Takes `host`'s access link down in both directions from `at` for `dur` ns.
    pub fn schedule_outage(&mut self, host: HostId, at: Nanos, dur: Nanos) {
        let e = ScheduleEntry::outage_at(at, dur);
        self.add_entry(Target::Host(host.0 as usize), e)
            .expect("a plain outage entry is valid");
    }

    /// Gives `host` a new address at `at`.
    pub fn schedule_address_change(&mut self, host: HostId, at: Nanos) {
        let e = ScheduleEntry::address_change_at(at);
        self.add_entry(Target::Host(host.0 as usize), e)
            .expect("a plain address change is valid");
    }

    /// Changes `host`'s access link from `at` on: the fields `change` sets, in the directions
    /// `which` names.
    pub fn schedule_profile_change(
        &mut self,
        host: HostId,
        at: Nanos,
        change: DirectionConfig,
        which: Which,
    ) -> Result<(), NetError> {
        let e = ScheduleEntry::phase_at(at, PhaseSet::for_direction(change, which));
        self.add_entry(Target::Host(host.0 as usize), e)
    }

    /// Switches `host`'s access link to `profile` from `at` on: every parameter of both
    /// directions is replaced (fields the new profile leaves out go back to ideal). The phase is
    /// labelled with the profile's name. The profile's own schedule is not applied.
    pub fn schedule_profile_replace(
        &mut self,
        host: HostId,
        at: Nanos,
        profile: &LinkProfile,
    ) -> Result<(), NetError> {
        let e = ScheduleEntry::profile_switch_at(at, profile);
        self.add_entry(Target::Host(host.0 as usize), e)
    }

    /// Takes `site`'s shared link down (both directions) from `at` for `dur`.
    pub fn schedule_site_outage(
        &mut self,
        site: &str,
        at: Nanos,
        dur: Nanos,
    ) -> Result<(), NetError> {
        let s = self.shared_site(site)?;
        self.add_entry(Target::Site(s), ScheduleEntry::outage_at(at, dur))
    }

    /// Changes `site`'s shared link from `at` on: the fields `change` sets, in the directions
    /// `which` names.
    pub fn schedule_site_profile_change(
        &mut self,
        site: &str,
        at: Nanos,
        change: DirectionConfig,
        which: Which,
    ) -> Result<(), NetError> {
        let s = self.shared_site(site)?;
        let e = ScheduleEntry::phase_at(at, PhaseSet::for_direction(change, which));
        self.add_entry(Target::Site(s), e)
    }

    /// Switches `site`'s shared link to `profile` from `at` on (every parameter replaced).
    pub fn schedule_site_profile_replace(
        &mut self,
        site: &str,
        at: Nanos,
        profile: &LinkProfile,
    ) -> Result<(), NetError> {
        let s = self.shared_site(site)?;
        let e = ScheduleEntry::profile_switch_at(at, profile);
        self.add_entry(Target::Site(s), e)
    }

    /// The index of `site`, which must have a shared link.
    fn shared_site(&self, site: &str) -> Result<usize, NetError> {
        let s = self
            .sites
            .iter()
            .position(|x| x.name == site)
            .ok_or_else(|| NetError::UnknownSite(site.to_string()))?;
        if self.sites[s].shared.is_none() {
            return Err(NetError::Topology(format!(
                "site `{site}` has no shared link to act on (give it `shared:`)"
            )));
        }
        Ok(s)
    }

    fn target_name(&self, t: Target) -> String {
        match t {
            Target::Host(h) => self.hosts[h].name.clone(),
            Target::Site(s) => format!("site:{}", self.sites[s].name),
            Target::Core(a, b) => format!("core:{}<->{}", self.sites[a].name, self.sites[b].name),
        }
    }

    /// The (up, down) links of a target.
    fn target_links(&self, t: Target) -> Option<(usize, usize)> {
        match t {
            Target::Host(h) => Some((self.hosts[h].up, self.hosts[h].down)),
            Target::Site(s) => self.sites[s].shared,
            Target::Core(a, b) => {
                let n = self.sites.len();
                Some((self.core[a * n + b], self.core[b * n + a]))
            }
        }
    }

    pub(crate) fn run_timeline(&mut self, kind: EventKind, t: Nanos) {
        match kind {
            EventKind::Entry(i) => self.run_entry(i, t),
            EventKind::OutageEnd(i) => {
                let target = self.target_name(self.timeline.outage_ends[i]);
                self.events.push_back(NetEvent::OutageEnd { target, at: t });
            }
            EventKind::FlowStart(_) | EventKind::FlowPacket(_) | EventKind::FlowStop(_) => {
                self.run_flow(kind, t)
            }
            EventKind::Send(_) | EventKind::Hop(_) => {}
        }
    }

    fn run_entry(&mut self, i: usize, t: Nanos) {
        let (target, entry) = self.timeline.entries[i].clone();
        let name = self.target_name(target);
        let links = self.target_links(target);
        if let (Some(set), Some((up, down))) = (&entry.set, links) {
            for (link, change) in [(up, set.up_change()), (down, set.down_change())] {
                if let Some(change) = change {
                    // Validated and traces loaded when the entry was added.
                    let applied = if entry.replace {
                        self.links[link].replace(&change, &mut self.traces)
                    } else {
                        self.links[link].apply(&change, &mut self.traces)
                    };
                    debug_assert!(applied.is_ok(), "{applied:?}");
                }
            }
            self.events.push_back(NetEvent::PhaseChange {
                target: name.clone(),
                name: entry.name.clone(),
                at: t,
            });
        }
        if let (Some(dur), Some((up, down))) = (entry.outage, links) {
            let until = t + dur.as_nanos();
            self.links[up].set_outage(t, until);
            self.links[down].set_outage(t, until);
            self.events.push_back(NetEvent::OutageStart {
                target: name,
                at: t,
                until,
            });
            self.timeline.outage_ends.push(target);
            self.push(
                until,
                EventKind::OutageEnd(self.timeline.outage_ends.len() - 1),
            );
        }
        if let (true, Target::Host(h)) = (entry.address_change, target) {
            let old = self.hosts[h].addr;
            if let Some(new) = self.next_free_address(old) {
                self.hosts[h].addr = new;
                self.owners
                    .insert(new, crate::net::topology::Owner::Host(h));
                self.events.push_back(NetEvent::AddressChanged {
                    host: HostId(h as u32),
                    old,
                    new,
                    at: t,
                });
            }
        }
        if let Some(next) = entry.next_after(t) {
            self.push(next, EventKind::Entry(i));
        }
    }

    /// The next address in `old`'s /24 that no host has or had.
    fn next_free_address(&self, old: Ipv4Addr) -> Option<Ipv4Addr> {
        let [a, b, c, d] = old.octets();
        (1..=254u32)
            .map(|k| Ipv4Addr::new(a, b, c, ((u32::from(d) + k - 1) % 254 + 1) as u8))
            .find(|x| !self.owners.contains_key(x))
    }
}
