//! The network as a scenario describes it: sites, core paths, hosts with their access
//! profiles and firewall rules, cross-traffic. [`crate::net::Network::new`] builds it.
//!
//! ```
//! use callharness::net::NetworkConfig;
//! let cfg: NetworkConfig = serde_yaml::from_str(r#"
//! sites:
//!   - { name: home, shared: { name: dsl, up: { rate: 1Mbit } }, nat: port-restricted }
//!   - { name: dc }
//! core: { name: wan, both: { delay: 20ms } }
//! hosts:
//!   - { name: alice, site: home, addr: 10.0.1.2, firewall: [{ action: block, proto: udp }] }
//!   - { name: relay, site: dc, addr: 10.0.9.2 }
//! "#).unwrap();
//! assert_eq!(cfg.hosts.len(), 2);
//! ```

use crate::net::config::LinkProfile;
use crate::net::cross::CrossTrafficFlow;
use crate::net::firewall::FirewallRule;
use crate::net::nat_config::NatConfig;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// The network as a scenario describes it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The sites (LANs, homes, offices, the service's data centre).
    pub sites: Vec<SiteConfig>,
    /// The core path between any two sites without their own `core_paths` entry (default: ideal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub core: Option<LinkProfile>,
    /// Core paths for particular pairs of sites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub core_paths: Vec<CorePath>,
    /// The hosts.
    pub hosts: Vec<HostConfig>,
}

/// A site.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Its name.
    pub name: String,
    /// A bottleneck all the site's traffic to other sites crosses (`up`: leaving the site).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared: Option<LinkProfile>,
    /// Cross-traffic on the shared link.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cross_traffic: Vec<CrossTrafficFlow>,
    /// A NAT hiding the site's hosts behind one public address (`nat.rs`, `site_nat.rs`):
    /// a preset name (`symmetric`) or the full map. None: the hosts are reachable from
    /// everywhere at their own addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat: Option<NatConfig>,
}

/// The core path between two sites: the profile's `up` is `a` → `b`, `down` is `b` → `a`
/// (also for the default `core`, with `a` the site listed first).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CorePath {
    /// One site.
    pub a: String,
    /// The other site.
    pub b: String,
    /// The path's conditions.
    pub profile: LinkProfile,
}

/// A host.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// Its name.
    pub name: String,
    /// The site it is attached to.
    pub site: String,
    /// Its IPv4 address at the start.
    pub addr: Ipv4Addr,
    /// Its access link (default: ideal).
    #[serde(default)]
    pub access: LinkProfile,
    /// Its firewall rules, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firewall: Vec<FirewallRule>,
}
