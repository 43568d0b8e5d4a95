//! The configuration a profile file holds: a [`LinkProfile`] with one [`DirectionConfig`] per
//! direction and an optional schedule. Every field is optional, so a phase change can name only
//! the fields it changes ([`DirectionConfig::overlay`]).
//!
//! ```
//! use callharness::net::LinkProfile;
//! let p: LinkProfile = serde_yaml::from_str(r#"
//! name: example
//! both: { delay: 20ms, loss: { random: { rate: 1% } } }
//! up: { rate: 1Mbit, queue: 50pkt }
//! "#).unwrap();
//! assert_eq!(p.up_config().rate.unwrap().bits_per_sec(), 1_000_000);
//! assert!(p.down_config().rate.is_none());
//! ```

use crate::net::error::NetError;
use crate::net::loss::LossConfig;
use crate::net::queue::{AqmConfig, QueueLimit};
use crate::net::schedule::ScheduleEntry;
use crate::net::trace::TraceSpec;
use crate::units::{Dur, Percent, Rate};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A named network condition for one attachment (a host's access link, a site's shared uplink
/// or a core path): its two directions and what changes over time.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NetworkProfile")]
pub struct LinkProfile {
    /// The profile's name (defaults to the file name without `.yaml`).
    #[serde(default)]
    pub name: String,
    /// One or two sentences on what the profile stands for.
    #[serde(default)]
    pub description: String,
    /// Settings for both directions; `up` and `down` override them field by field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub both: Option<DirectionConfig>,
    /// Host to network (or site A to site B on a core path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up: Option<DirectionConfig>,
    /// Network to host (or site B to site A on a core path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<DirectionConfig>,
    /// Timed changes: phases, outages, address changes, once (`at`) or repeating (`every`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<ScheduleEntry>,
    /// `tls-tcp`: the host sends everything through a VPN tunnel that is one TLS-over-TCP
    /// connection across this link to a VPN gateway at its far end (a participant's network
    /// only; see `sim/tunnel.rs`). The link then carries the tunnel's real TCP segments, so
    /// its losses become retransmission delay and head-of-line blocking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<TunnelKind>,
    /// The file the profile was loaded from, if any (set by the loader).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl LinkProfile {
    /// A profile with no impairment at all in either direction.
    pub fn ideal(name: &str) -> LinkProfile {
        LinkProfile {
            name: name.to_string(),
            ..LinkProfile::default()
        }
    }

    /// The effective up-direction settings: `both` overlaid with `up`.
    pub fn up_config(&self) -> DirectionConfig {
        merged(&self.both, &self.up)
    }

    /// The effective down-direction settings: `both` overlaid with `down`.
    pub fn down_config(&self) -> DirectionConfig {
        merged(&self.both, &self.down)
    }

    /// Checks every direction and schedule entry; errors name the profile and the field.
    pub fn validate(&self) -> Result<(), NetError> {
        let label = format!("profile {}", self.name);
        self.up_config().validate(&format!("{label} (up)"))?;
        self.down_config().validate(&format!("{label} (down)"))?;
        for (i, entry) in self.schedule.iter().enumerate() {
            entry.validate(&format!("{label}, schedule entry {}", i + 1))?;
        }
        if self.tunnel.is_some() {
            let modelled = |d: &Option<DirectionConfig>| {
                d.as_ref()
                    .is_some_and(|d| d.encapsulation == Some(Encapsulation::Tcp))
            };
            let phases = self.schedule.iter().filter_map(|e| e.set.as_ref());
            if [&self.both, &self.up, &self.down]
                .into_iter()
                .chain(phases.flat_map(|p| [&p.both, &p.up, &p.down]))
                .any(modelled)
            {
                return Err(NetError::config(
                    &label,
                    "tunnel",
                    "`tunnel: tls-tcp` carries the host's packets in a real TCP connection; \
                     `encapsulation: tcp` (the link-level model of such a tunnel) cannot be \
                     combined with it: give one or the other",
                ));
            }
            if self.schedule.iter().any(|e| e.address_change) {
                return Err(NetError::config(
                    &label,
                    "tunnel",
                    "a host on a VPN tunnel cannot change address on its schedule (the \
                     tunnel's reconnection from a new address is not modelled): drop \
                     `address_change` or `tunnel`",
                ));
            }
        }
        Ok(())
    }
}

pub(crate) use crate::net::one_key::{one_key_map_enum, OneKeyEnum};

fn merged(base: &Option<DirectionConfig>, over: &Option<DirectionConfig>) -> DirectionConfig {
    let base = base.clone().unwrap_or_default();
    match over {
        Some(o) => base.overlay(o),
        None => base,
    }
}

/// Which directions of an attachment a change applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Which {
    /// Host to network.
    Up,
    /// Network to host.
    Down,
    /// Both directions.
    Both,
}

/// The models of one direction of a link. Every field is optional; absent means "no such
/// impairment" (or, in a phase change, "unchanged").
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectionConfig {
    /// Propagation delay, added to every packet after the queue (a duration, like `20ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Dur>,
    /// Random extra delay per packet: `{ amount: 5ms, distribution: normal }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<JitterConfig>,
    /// Packet loss model: `random`, `gilbert_elliott`, `four_state` or `bursty`, with its
    /// parameters (`random: { rate: 1% }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss: Option<LossConfig>,
    /// Capacity of the bottleneck, a bit rate like `2Mbit` (exclusive with `trace`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    /// Size of the bottleneck queue in packets, bytes or waiting time (`50pkt`, `30000B`,
    /// `100ms`); default 1000pkt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueLimit>,
    /// Queue discipline: `droptail` (default), `codel`, or `codel: { target, interval }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aqm: Option<AqmConfig>,
    /// Bytes added to every packet (tunnel headers) and counted against capacity and MTU (a
    /// whole number of bytes, like `60`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overhead: Option<u32>,
    /// A Mahimahi capacity trace, by file name or path (exclusive with `rate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceSpec>,
    /// Path MTU, a whole number of bytes (outer packet, overhead included; at least 68);
    /// default none (no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// `true`: drop packets over the MTU (reason `mtu`) instead of fragmenting them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dont_fragment: Option<bool>,
    /// Share of packets delivered twice (a percentage, like `1%`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate: Option<Percent>,
    /// Share of packets corrupted in transit, a percentage (dropped with reason `corrupt`: see
    /// the link docs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt: Option<Percent>,
    /// `none` (default) or `tcp`: the link is a tunnel over TCP; a loss becomes a
    /// retransmission delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encapsulation: Option<Encapsulation>,
    /// Delay a lost packet waits for its retransmission under `encapsulation: tcp`
    /// (default 200ms, Linux's minimum retransmission timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_retransmit: Option<Dur>,
}

/// A VPN tunnel a host's traffic rides ([`LinkProfile::tunnel`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TunnelKind {
    /// One TLS 1.3 connection over TCP to port 443 of the gateway (an SSL VPN): each packet
    /// is one TLS application-data record (5 B header, 1 B content type, 16 B AEAD tag).
    TlsTcp,
}

/// How packets are carried: directly (default) or inside a TCP tunnel (a model: the link
/// itself retransmits lost packets after `tcp_retransmit`; for the real thing, a TCP
/// connection whose segments cross the link, see [`LinkProfile::tunnel`]).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Encapsulation {
    /// Packets are sent as they are.
    #[default]
    None,
    /// Packets ride a TCP stream (VPN over TLS/TCP): in order, lost ones retransmitted.
    Tcp,
}

/// Jitter: extra random delay per packet, as netem defines it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JitterConfig {
    /// The spread, a duration like `5ms`: half-width for `uniform`, standard deviation
    /// (scale) for the others (required).
    pub amount: Dur,
    /// The distribution's shape: `uniform` (default, netem's default without a table),
    /// `normal`, `pareto` or `paretonormal`.
    #[serde(default)]
    pub distribution: Distribution,
    /// netem's correlation of consecutive random values, a percentage (default 0%:
    /// independent).
    #[serde(default)]
    pub correlation: Percent,
    /// Whether a packet may overtake the one before it: `forbid` (default) or `allow`.
    #[serde(default)]
    pub reorder: Reorder,
}

/// Jitter distributions, as netem's tables define them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Uniform in [-amount, +amount).
    #[default]
    Uniform,
    /// Normal with standard deviation `amount`.
    Normal,
    /// netem's pareto table (shape 3, shifted to mean 0), scaled by `amount`.
    Pareto,
    /// netem's paretonormal table (¼ normal + ¾ pareto), scaled by `amount`.
    Paretonormal,
}

/// Whether jitter may reorder packets.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Reorder {
    /// A packet is never delivered before the one sent before it (a single-path link).
    #[default]
    Forbid,
    /// Each packet keeps its own delay, so later packets may arrive first (netem-like).
    Allow,
}

macro_rules! overlay_fields {
    ($base:expr, $over:expr, $($f:ident),*) => {
        DirectionConfig { $($f: $over.$f.clone().or_else(|| $base.$f.clone()),)* }
    };
}

impl DirectionConfig {
    /// These settings with every field that `other` sets replaced by `other`'s value.
    pub fn overlay(&self, other: &DirectionConfig) -> DirectionConfig {
        overlay_fields!(
            self,
            other,
            delay,
            jitter,
            loss,
            rate,
            queue,
            aqm,
            overhead,
            trace,
            mtu,
            dont_fragment,
            duplicate,
            corrupt,
            encapsulation,
            tcp_retransmit
        )
    }

    /// Checks values that the types alone cannot; `link` names the link in errors.
    pub fn validate(&self, link: &str) -> Result<(), NetError> {
        if self.rate.is_some() && self.trace.is_some() {
            return Err(NetError::config(
                link,
                "rate",
                "give either `rate` or `trace` for a direction, not both",
            ));
        }
        if let Some(loss) = &self.loss {
            loss.validate(link)?;
        }
        if let Some(mtu) = self.mtu {
            let overhead = self.overhead.unwrap_or(0);
            // IPv4's minimum MTU is 68 bytes (RFC 791); the tunnel overhead comes on top.
            if mtu < 68 + overhead {
                return Err(NetError::config(
                    link,
                    "mtu",
                    format!(
                        "{mtu} is too small: at least 68 bytes (IPv4's minimum) plus the {overhead}-byte overhead"
                    ),
                ));
            }
        }
        if let Some(q) = self.queue {
            if q.is_zero() {
                return Err(NetError::config(
                    link,
                    "queue",
                    "a queue must hold at least one packet, byte or nanosecond",
                ));
            }
        }
        if let Some(AqmConfig::Codel { interval, .. }) = &self.aqm {
            if interval.as_nanos() == 0 {
                return Err(NetError::config(
                    link,
                    "aqm.codel.interval",
                    "must be above 0",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_is_overridden_field_by_field() {
        let p: LinkProfile =
            serde_yaml::from_str("name: x\nboth: {delay: 10ms, mtu: 1400}\ndown: {delay: 30ms}\n")
                .unwrap();
        assert_eq!(p.down_config().delay, Some(Dur::from_millis(30)));
        assert_eq!(p.down_config().mtu, Some(1400));
        assert_eq!(p.up_config().delay, Some(Dur::from_millis(10)));
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_name() {
        let e = serde_yaml::from_str::<LinkProfile>("name: x\nup: {dealy: 10ms}\n").unwrap_err();
        assert!(e.to_string().contains("dealy"), "{e}");
    }

    #[test]
    fn rate_and_trace_together_are_an_error() {
        let p: LinkProfile =
            serde_yaml::from_str("name: x\nup: {rate: 1Mbit, trace: foo.up}\n").unwrap();
        let e = p.validate().unwrap_err().to_string();
        assert!(e.contains("either `rate` or `trace`"), "{e}");
    }
}
