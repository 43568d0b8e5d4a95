//! The shape of a network profile, read from the positioned tree so that every mistake in a
//! profile body or in `overrides:` is reported at its own line, column and field path.
//!
//! A single serde pass stops at the first error. These types mirror the emulator's
//! [`LinkProfile`](crate::net::LinkProfile), `DirectionConfig`, `ScheduleEntry` and `PhaseSet`
//! field for field, with the emulator's own field types and defaults (which read one-key maps
//! like the loss model straight from the node tree, so positions inside them are kept). The
//! loader checks a body against [`ProfileShape`] with `deserialize_all` (every error at once)
//! before it merges overrides and reads the `LinkProfile` itself. A test keeps the field lists
//! equal to the emulator's. [`FlowShape`] does the same for a cross-traffic flow.
//!
//! ```text
//! participants:
//!   bob:
//!     network: wired-lan
//!     overrides:
//!       up:
//!         delay: 30 parsecs      <- participants.bob.overrides.up.delay
//!         loss:
//!           random:
//!             rate: 140%         <- participants.bob.overrides.up.loss.random.rate
//! ```

// The fields are read for their errors only; the values are read again as a `LinkProfile`.
#![allow(dead_code)]

use super::yaml::{Node, NodeKind};
use crate::net::NetError;
use crate::net::{
    AqmConfig, CrossTrafficFlow, Encapsulation, JitterConfig, LossConfig, QueueLimit, TraceSpec,
};
use crate::units::{Dur, Percent, Rate};
use serde::{Deserialize, Deserializer};

/// A network profile body or its overrides (the emulator's `LinkProfile`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProfileShape {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    both: Option<DirectionShape>,
    up: Option<DirectionShape>,
    down: Option<DirectionShape>,
    #[serde(default)]
    schedule: Vec<ScheduleShape>,
    tunnel: Option<crate::net::TunnelKind>,
}

/// One direction of a link (the emulator's `DirectionConfig`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DirectionShape {
    delay: Option<Dur>,
    jitter: Option<JitterConfig>,
    loss: Option<LossConfig>,
    rate: Option<Rate>,
    queue: Option<QueueLimit>,
    aqm: Option<AqmConfig>,
    overhead: Option<u32>,
    trace: Option<TraceSpec>,
    mtu: Option<u32>,
    dont_fragment: Option<bool>,
    duplicate: Option<Percent>,
    corrupt: Option<Percent>,
    encapsulation: Option<Encapsulation>,
    tcp_retransmit: Option<Dur>,
}

/// One timed change (the emulator's `ScheduleEntry`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ScheduleShape {
    at: Option<Dur>,
    every: Option<Dur>,
    start: Option<Dur>,
    until: Option<Dur>,
    name: Option<String>,
    set: Option<PhaseShape>,
    outage: Option<Dur>,
    #[serde(default)]
    address_change: bool,
}

/// A phase's new parameters (the emulator's `PhaseSet`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PhaseShape {
    both: Option<DirectionShape>,
    up: Option<DirectionShape>,
    down: Option<DirectionShape>,
}

/// A cross-traffic flow read without its checks ([`CrossTrafficFlow::validate`]), so that
/// `deserialize_all` finds every mistake of its form first and the loader then places each
/// failed check at the field it names.
#[derive(Debug)]
pub(super) struct FlowShape(pub(super) CrossTrafficFlow);

impl<'de> Deserialize<'de> for FlowShape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The inherent function serde's `remote = "Self"` derive generates, not the trait's
        // (which validates too).
        CrossTrafficFlow::deserialize(d).map(FlowShape)
    }
}

/// Where in a profile body (overrides merged in) the field a failed emulator check names was
/// written: the node's place and its field path within the body, and the check's message.
/// The check names its link as `profile NAME (up)` or `profile NAME, schedule entry 2 (down)`
/// and its field as `loss.bursty.average`.
pub(super) fn locate_check(e: &NetError, body: &Node) -> Option<(Node, String, String)> {
    let NetError::InvalidConfig {
        link,
        field,
        message,
    } = e
    else {
        return None;
    };
    let dir = if link.ends_with("(up)") {
        Some("up")
    } else if link.ends_with("(down)") {
        Some("down")
    } else {
        None
    };
    let entry = link
        .split_once("schedule entry ")
        .and_then(|(_, rest)| rest.split(' ').next()?.parse::<usize>().ok());
    let (base, base_path) = match entry {
        Some(n) => {
            let NodeKind::Seq(items) = &body.get("schedule")?.kind else {
                return None;
            };
            let item = items.get(n.checked_sub(1)?)?;
            match dir {
                Some(_) => (item.get("set")?, format!("schedule[{}].set", n - 1)),
                None => (item, format!("schedule[{}]", n - 1)),
            }
        }
        None => (body, String::new()),
    };
    let walk = |start: &Node| {
        field
            .split('.')
            .try_fold(start.clone(), |n, seg| n.get(seg).cloned())
    };
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            format!("{a}.{b}")
        }
    };
    let found = match dir {
        // The direction's own field, else the one it takes from `both`.
        Some(d) => [d, "both"].iter().find_map(|d| {
            let n = walk(base.get(d)?)?;
            Some((n, join(&base_path, &format!("{d}.{field}"))))
        }),
        None => walk(base).map(|n| (n, join(&base_path, field))),
    };
    let (node, path) = found.unwrap_or_else(|| (base.clone(), base_path));
    Some((node, path, message.clone()))
}
