//! Building the simulated world from a scenario: the emulated network (one host per
//! participant, its access link from its profile, its firewall; sites and their shared links)
//! and the network actions of the scenario's timeline.

use crate::net::{HostConfig, HostId, Network, NetworkConfig, SiteConfig};
use crate::scenario::{ActionTarget, NetAction, Scenario};
use std::net::Ipv4Addr;
use std::path::PathBuf;

/// What a datagram on the emulated network carries.
#[derive(Debug, Clone)]
pub enum Wire {
    /// Media path: STUN, DTLS, SRTP, SRTCP bytes.
    Media(bytes::BytesMut),
    /// A signaling message of call `call`, addressed to its caller or its callee.
    Signal {
        call: usize,
        to_caller: bool,
        env: crate::agent::signaling::Envelope,
    },
}

/// The address the `i`-th participant starts with: 10.0.0.0/16, in file order, skipping .0 and
/// .255. Emulated only: nothing is ever sent to it on a real interface.
pub fn participant_addr(i: usize) -> Ipv4Addr {
    let n = i as u32;
    Ipv4Addr::new(10, 0, (n / 250) as u8, (n % 250 + 1) as u8)
}

/// The emulator's configuration for a scenario.
pub fn network_config(s: &Scenario) -> NetworkConfig {
    let mut sites: Vec<SiteConfig> = s
        .sites
        .iter()
        .map(|site| SiteConfig {
            name: site.name.clone(),
            shared: site.shared.as_ref().map(|(_, p)| p.clone()),
            cross_traffic: Vec::new(),
        })
        .collect();
    for p in &s.participants {
        if !sites.iter().any(|x| x.name == p.site) {
            sites.push(SiteConfig {
                name: p.site.clone(),
                shared: None,
                cross_traffic: Vec::new(),
            });
        }
    }
    let hosts = s
        .participants
        .iter()
        .enumerate()
        .map(|(i, p)| HostConfig {
            name: p.name.clone(),
            site: p.site.clone(),
            addr: participant_addr(i),
            access: p.profile.clone(),
            firewall: p.firewall.clone(),
        })
        .collect();
    NetworkConfig {
        sites,
        core: None,
        core_paths: Vec::new(),
        hosts,
    }
}

/// Builds the network and schedules the timeline's actions on it.
pub fn build_network(
    s: &Scenario,
    seed: u64,
    trace_dirs: &[PathBuf],
) -> Result<Network<Wire>, crate::net::NetError> {
    let mut net = Network::new(&network_config(s), seed, trace_dirs)?;
    // A flow's stop is set on its start, so pair each stop with the start before it.
    let mut stops: Vec<(String, String, crate::units::Dur)> = Vec::new();
    for a in &s.timeline {
        if let (ActionTarget::Site(site), NetAction::CrossTrafficStop { name }) =
            (&a.target, &a.action)
        {
            stops.push((site.clone(), name.clone(), a.at));
        }
    }
    for a in &s.timeline {
        let at = a.at.as_nanos();
        let host = |name: &str| -> Result<HostId, crate::net::NetError> { net_host(&net, name) };
        match (&a.target, &a.action) {
            (ActionTarget::Participant(p), NetAction::Outage { duration }) => {
                let h = host(p)?;
                net.schedule_outage(h, at, duration.as_nanos());
            }
            (ActionTarget::Participant(p), NetAction::AddressChange) => {
                let h = host(p)?;
                net.schedule_address_change(h, at);
            }
            (ActionTarget::Participant(p), NetAction::SetProfile { profile, .. }) => {
                let h = host(p)?;
                net.schedule_profile_replace(h, at, profile)?;
            }
            (
                ActionTarget::Participant(p),
                NetAction::SetParam {
                    direction, change, ..
                },
            ) => {
                let h = host(p)?;
                net.schedule_profile_change(h, at, change.clone(), *direction)?;
            }
            (ActionTarget::Site(site), NetAction::CrossTrafficStart { flow }) => {
                let mut flow = flow.clone();
                flow.start = a.at;
                flow.stop = stops
                    .iter()
                    .find(|(s, n, t)| s == site && *n == flow.name && *t >= a.at)
                    .map(|(_, _, t)| *t);
                net.schedule_cross_traffic(site, flow)?;
            }
            (ActionTarget::Site(_), NetAction::CrossTrafficStop { .. }) => {}
            (ActionTarget::Site(site), NetAction::Outage { duration }) => {
                net.schedule_site_outage(site, at, duration.as_nanos())?;
            }
            (ActionTarget::Site(site), NetAction::SetProfile { profile, .. }) => {
                net.schedule_site_profile_replace(site, at, profile)?;
            }
            (
                ActionTarget::Site(site),
                NetAction::SetParam {
                    direction, change, ..
                },
            ) => {
                net.schedule_site_profile_change(site, at, change.clone(), *direction)?;
            }
            (target, action) => {
                return Err(crate::net::NetError::Topology(format!(
                    "the action `{}` cannot apply to {target}",
                    action.kind()
                )))
            }
        }
    }
    Ok(net)
}

fn net_host(net: &Network<Wire>, name: &str) -> Result<HostId, crate::net::NetError> {
    net.host_id(name)
        .ok_or_else(|| crate::net::NetError::Topology(format!("no host named `{name}`")))
}

/// Builds the world of `s` without running it: everything [`build_network`] would refuse
/// (a trace that cannot be found or read, a link the emulator cannot make, an action the
/// emulator cannot schedule) is refused here too, so `validate` and `run` agree.
pub fn check(s: &Scenario, trace_dirs: &[PathBuf]) -> Result<(), crate::net::NetError> {
    let net = build_network(s, 0, trace_dirs)?;
    for c in &s.calls {
        net_host(&net, &c.caller)?;
        net_host(&net, &c.callee)?;
    }
    Ok(())
}
