//! The network emulator: links that behave like wired, Wi-Fi, roaming, VPN, throttled,
//! cellular and firewalled networks, in simulated time.
//!
//! It is sans-IO: no sockets, no clock, no tasks. A packet goes in with its send time and
//! comes out with a delivery time, or is dropped with a [`DropReason`] and counted. Every
//! random choice comes from one seeded generator per link, so a run repeats exactly for a seed.
//!
//! Two levels:
//! - [`Link`]: one direction of one link, composing the models of a [`DirectionConfig`]
//!   (delay and jitter, loss, rate or trace-driven capacity with a finite queue and drop-tail or
//!   CoDel, overhead and MTU, duplication, corruption, TCP encapsulation, outages).
//! - [`Network`]: hosts on sites, joined by access links, shared site links with cross-traffic
//!   and core paths; host firewalls; NATs on sites (RFC 4787 mapping and filtering); schedules
//!   of phases, outages and address changes. This is what the simulation loop drives.
//!
//! ```
//! use callharness::net::{Network, NetworkConfig, Datagram, profiles::find_profile};
//! let profiles = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/profiles");
//! # if !profiles.is_dir() { return; }
//! let mut cfg: NetworkConfig = serde_yaml::from_str(r#"
//! sites: [{ name: lan }]
//! hosts: [{ name: alice, site: lan, addr: 10.0.0.2 }, { name: bob, site: lan, addr: 10.0.0.3 }]
//! "#).unwrap();
//! cfg.hosts[0].access = find_profile("wifi-good", &[profiles]).unwrap();
//! let mut net: Network<Vec<u8>> = Network::new(&cfg, 42, &[]).unwrap();
//! let (a, b) = ("10.0.0.2:5000".parse().unwrap(), "10.0.0.3:5000".parse().unwrap());
//! for i in 0..50u64 {
//!     net.send(i * 20_000_000, Datagram::udp(a, b, 160, vec![0; 160])); // 20 ms voice frames
//!     net.advance(i * 20_000_000);
//! }
//! while let Some(t) = net.next_event() { net.advance(t); }
//! let mut got = 0;
//! while let Some(d) = net.poll_delivery() { got += 1; assert_eq!(d.datagram.size, 188); }
//! assert!(got > 45);
//! for c in net.counters() { println!("{c}"); }
//! ```

pub(crate) mod codel;
pub mod config;
pub mod cross;
pub mod cross_run;
pub mod cross_source;
pub mod cross_transport;
pub mod datagram;
pub mod delay;
pub mod error;
pub mod firewall;
pub(crate) mod forward;
pub mod link;
pub mod link_counters;
pub mod loss;
pub mod mtu;
pub mod nat;
pub mod nat_config;
pub mod network_config;
mod one_key;
pub mod profiles;
pub mod queue;
mod queue_config;
pub mod rng;
pub mod schedule;
mod site_nat;
pub mod timeline;
pub mod topology;
pub mod trace;
pub mod watch;

/// Simulated time: nanoseconds since the start of the run.
pub type Nanos = u64;

pub use config::{
    DirectionConfig, Distribution, Encapsulation, JitterConfig, LinkProfile, Reorder, TunnelKind,
    Which,
};
pub use cross::{Arrivals, CrossTrafficFlow, FlowDirection, SizeShare, TrafficPattern};
pub use cross_run::CrossFlowCounters;
pub use cross_source::CrossTrafficSource;
pub use error::NetError;
pub use firewall::{FirewallAction, FirewallRule, TcpBlock};
pub use link::{DropReason, Link, LinkCounters, LinkSecond, PacketMeta, Transmit};
pub use loss::LossConfig;
pub use nat::{NatCounters, NatMapping, NatProto};
pub use nat_config::{NatBehavior, NatConfig, NatType};
pub use queue::{AqmConfig, QueueLimit};
pub use schedule::{PhaseSet, ScheduleEntry};
pub use timeline::NetEvent;
pub use topology::{
    CorePath, Datagram, Delivery, DeliveryKind, DropRecord, HostConfig, HostId, Network,
    NetworkConfig, Proto, SiteConfig,
};
pub use trace::{resolve_trace, CapacityTrace, TraceCache, TraceSpec};
pub use watch::{FlowLinkStats, WatchedFlow};
