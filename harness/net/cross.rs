//! Cross-traffic: flows of other people's packets on a site's shared link, competing with the
//! calls for its capacity and queue (the "others on your network" condition).
//!
//! A flow offers `rate` bits per second, in one direction of the site's shared link, from
//! `start` until `stop`, always or in on/off bursts. Its packets arrive at random (a Poisson
//! process, the default: many independent users and applications) or evenly spaced
//! (`arrivals: constant`, one sender pacing its packets), all of `packet_size` or drawn from a
//! `size_mix`. Its packets are counted apart in the link's counters and delivered to no one.
//!
//! Poisson is the default because evenly spaced packets phase-lock with the calls' own 20 ms
//! packets: whether a voice packet finds the queue full then depends on where the two
//! periodic streams happen to line up, so moving a flow's start by a millisecond can turn a
//! lossy call into a dropped one. Random arrivals make the outcome depend on the load only.
//!
//! ```
//! use callharness::net::cross::{Arrivals, CrossTrafficFlow};
//! let f: CrossTrafficFlow = serde_yaml::from_str(
//!     "{name: browsing, rate: 2Mbit, size_mix: [{size: 1500B, share: 60%}, {size: 80B, share: 40%}]}",
//! ).unwrap();
//! assert_eq!(f.arrivals, Arrivals::Poisson);
//! assert_eq!(f.mean_size(), 932.0); // 0.6 × 1500 + 0.4 × 80 bytes
//! let e = serde_yaml::from_str::<CrossTrafficFlow>(
//!     "{name: x, rate: 1Mbit, size_mix: [{size: 1500B, share: 60%}]}",
//! ).unwrap_err();
//! assert!(e.to_string().contains("add up to 60%"), "{e}");
//! ```
//!
//! On/off patterns work with either kind of arrivals; the gate below is what both use:
//!
//! ```
//! use callharness::net::cross::CrossTrafficFlow;
//! let f: CrossTrafficFlow = serde_yaml::from_str(
//!     "{name: backup, rate: 8Mbit, packet_size: 1000B, arrivals: constant, pattern: {on_off: {on: 1s, off: 1s}}, start: 5s}",
//! ).unwrap();
//! assert_eq!(f.interval(), 1_000_000); // 1000 bytes at 8 Mbit/s: one packet per ms
//! assert_eq!(f.next_send(5_000_000_000 + 999_000_000), Some(5_000_000_000 + 999_000_000));
//! assert_eq!(f.next_send(5_000_000_000 + 1_000_000_000), Some(7_000_000_000)); // off second
//! ```

pub use crate::net::cross_transport::FlowTransport;
use crate::net::error::NetError;
use crate::net::Nanos;
use crate::units::{Bytes, Dur, Percent, Rate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One cross-traffic flow.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(remote = "Self", deny_unknown_fields)]
#[schemars(rename = "CrossTraffic", deny_unknown_fields)]
pub struct CrossTrafficFlow {
    /// A label for reports and for `cross_traffic_stop` ("video-stream", "backup"; in a
    /// scenario at most 100 bytes).
    pub name: String,
    /// Mean offered load while on, in bits per second (like `1200kbit`): the packets' sizes
    /// divided by their spacing, averaged over the flow. A scenario refuses more than
    /// 2,000,000 packets per second (`rate` / mean packet size) in one flow. Required for
    /// `transport: udp`; with `transport: tcp` optional, a cap on the rate the application
    /// hands bytes to TCP (an app-limited transfer; without it the sender is greedy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Rate>,
    /// What carries the flow: `udp` (default: the open-loop packets described here) or `tcp`
    /// (a bulk transfer over real TCP between a hidden host on the site and a hidden server
    /// outside it, see [`crate::net::cross_transport`]).
    #[serde(default, skip_serializing_if = "FlowTransport::is_udp")]
    pub transport: FlowTransport,
    /// With `transport: tcp`: the one-way delay between the site and the flow's server, each
    /// way (default 20ms; the server's own link, beyond the site's shared link).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_delay: Option<Dur>,
    /// Size of every packet, IP headers included (default 1500B); leave it out when giving
    /// `size_mix`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub packet_size: Option<Bytes>,
    /// A mix of packet sizes instead of one size: each `size` with its `share` of the packets
    /// (shares add up to 100%), like `[{size: 1500B, share: 60%}, {size: 80B, share: 40%}]`.
    /// Sizes are drawn at random, packet by packet, from the flow's own random stream.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub size_mix: Vec<SizeShare>,
    /// How packets are spaced: `poisson` (default: random, exponential gaps with mean
    /// size × 8 / rate) or `constant` (evenly spaced).
    #[serde(default)]
    pub arrivals: Arrivals,
    /// Always on (`constant`, the default) or in bursts: `{on_off: {on: 1s, off: 2s}}`.
    #[serde(default)]
    pub pattern: TrafficPattern,
    /// When the flow starts (default at once; on a scenario's timeline, its `at`).
    #[serde(default)]
    pub start: Dur,
    /// When it stops (default never; on a scenario's timeline, a later `cross_traffic_stop`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Dur>,
    /// Which direction of the shared link it loads (default down, a download).
    #[serde(default)]
    pub direction: FlowDirection,
}

/// One packet size of a mix and its share of the flow's packets.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SizeShare {
    /// The packet size, IP headers included (like `1500B`).
    pub size: Bytes,
    /// The share of the flow's packets that have this size (like `60%`), counted in packets,
    /// not bytes.
    pub share: Percent,
}

/// How a flow's packets are spaced in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// At random: a Poisson process, exponential gaps with mean = mean size × 8 / rate. What
    /// many independent users and applications sharing a link look like.
    #[default]
    Poisson,
    /// Evenly spaced, one packet every mean size × 8 / rate: a single paced sender. Periodic
    /// flows can phase-lock with the calls' 20 ms packets.
    Constant,
}

/// How a flow sends over time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(remote = "Self", rename_all = "snake_case", deny_unknown_fields)]
#[schemars(rename = "TrafficPattern")]
pub enum TrafficPattern {
    /// Always at `rate`.
    #[default]
    Constant,
    /// At `rate` for `on`, then silent for `off`, repeating from `start`.
    OnOff {
        /// Length of a burst (more than 0).
        on: Dur,
        /// Length of a pause.
        off: Dur,
    },
}

impl<'de> Deserialize<'de> for TrafficPattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::net::config::one_key_map_enum(d)
    }
}

impl crate::net::config::OneKeyEnum for TrafficPattern {
    const EXPECTING: &'static str = "a pattern: `constant`, or `on_off: { on: 1s, off: 2s }`";
    fn derived<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        TrafficPattern::deserialize(d)
    }
}

impl Serialize for TrafficPattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TrafficPattern::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for CrossTrafficFlow {
    /// Reads a flow and checks it ([`CrossTrafficFlow::validate`]), so a bad flow is an error
    /// where it was written.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let flow = CrossTrafficFlow::deserialize(d)?;
        flow.validate().map_err(serde::de::Error::custom)?;
        Ok(flow)
    }
}

impl Serialize for CrossTrafficFlow {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        CrossTrafficFlow::serialize(self, s)
    }
}

/// Which direction of the shared link a flow loads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FlowDirection {
    /// From the site towards the core (uploads).
    Up,
    /// From the core into the site (downloads).
    #[default]
    Down,
}

/// Smallest packet a flow may send, bytes: an IPv4 header.
pub const MIN_PACKET: u64 = 20;
/// Largest packet a flow may send, bytes: the largest IPv4 packet.
pub const MAX_PACKET: u64 = 65_535;
/// How far the shares of a size mix may add up from 100 %, in percentage points (room for
/// thirds written as 33.33%).
const SHARE_TOLERANCE: f64 = 0.1;

impl CrossTrafficFlow {
    /// The default packet size, bytes.
    pub const DEFAULT_SIZE: u64 = 1500;

    /// A flow of `packet_size` packets at `rate`, Poisson arrivals, always on, down, from 0.
    pub fn new(name: &str, rate: Rate, packet_size: Bytes) -> CrossTrafficFlow {
        CrossTrafficFlow {
            name: name.to_string(),
            rate: Some(rate),
            transport: FlowTransport::Udp,
            server_delay: None,
            packet_size: Some(packet_size),
            size_mix: Vec::new(),
            arrivals: Arrivals::Poisson,
            pattern: TrafficPattern::Constant,
            start: Dur::ZERO,
            stop: None,
            direction: FlowDirection::Down,
        }
    }

    /// Checks what the types cannot: a name, a rate above 0, one way of giving sizes, sizes
    /// an IP packet can have, shares adding up to 100 %, bursts longer than 0, a stop after
    /// the start.
    pub fn validate(&self) -> Result<(), NetError> {
        let err = |field: &str, message: String| {
            Err(NetError::InvalidFlow {
                flow: self.name.clone(),
                field: field.to_string(),
                message,
            })
        };
        if self.name.trim().is_empty() {
            return err(
                "name",
                "a flow needs a name to report and stop it by".into(),
            );
        }
        if let Some(stop) = self.stop {
            if stop < self.start {
                return err(
                    "stop",
                    format!(
                        "the flow stops at {stop}, before it starts at {}",
                        self.start
                    ),
                );
            }
        }
        if self.transport == FlowTransport::Tcp {
            return self.validate_tcp();
        }
        if let Some(d) = self.server_delay {
            return err(
                "server_delay",
                format!(
                    "a `transport: udp` flow has no server (its packets go to no one), so a \
                     server delay of {d} would do nothing: leave it out, or give `transport: tcp`"
                ),
            );
        }
        match self.rate {
            None => {
                return err(
                    "rate",
                    "a `transport: udp` flow needs the load it offers, like `rate: 1200kbit`"
                        .into(),
                )
            }
            Some(r) if r.bits_per_sec() == 0 => {
                return err("rate", "the rate must be above 0, like 1200kbit".into())
            }
            Some(_) => {}
        }
        if self.packet_size.is_some() && !self.size_mix.is_empty() {
            return err(
                "size_mix",
                "give either `packet_size` (one size) or `size_mix` (several), not both".into(),
            );
        }
        let sizes: Vec<Bytes> = match self.packet_size {
            Some(s) => vec![s],
            None => self.size_mix.iter().map(|m| m.size).collect(),
        };
        for s in sizes {
            if !(MIN_PACKET..=MAX_PACKET).contains(&s.get()) {
                let field = if self.packet_size.is_some() {
                    "packet_size"
                } else {
                    "size_mix"
                };
                return err(
                    field,
                    format!(
                        "a packet of {s} cannot be sent: sizes go from {MIN_PACKET}B (an IPv4 \
                         header) to {MAX_PACKET}B (the largest IPv4 packet)"
                    ),
                );
            }
        }
        if self.packet_size.is_none() {
            if let Some(m) = self.size_mix.iter().find(|m| m.share.percent() <= 0.0) {
                return err(
                    "size_mix",
                    format!("the share of {} is 0%: leave the size out instead", m.size),
                );
            }
            let total: f64 = self.size_mix.iter().map(|m| m.share.percent()).sum();
            if !self.size_mix.is_empty() && (total - 100.0).abs() > SHARE_TOLERANCE {
                return err(
                    "size_mix",
                    format!(
                        "the shares add up to {}%; they must add up to 100%",
                        (total * 1000.0).round() / 1000.0
                    ),
                );
            }
        }
        if let TrafficPattern::OnOff { on, .. } = self.pattern {
            if on.as_nanos() == 0 {
                return err(
                    "pattern",
                    "`on` must be longer than 0 (a flow that is never on sends nothing)".into(),
                );
            }
        }
        Ok(())
    }

    /// The flow's `rate`, bits per second (0 when none is given).
    pub fn rate_bps(&self) -> u64 {
        self.rate.map_or(0, Rate::bits_per_sec)
    }

    /// The packet sizes and their shares as fractions that add up to 1, bytes.
    pub fn sizes(&self) -> Vec<(u32, f64)> {
        let clamp = |b: Bytes| b.get().min(MAX_PACKET) as u32;
        if self.size_mix.is_empty() {
            let size = self.packet_size.unwrap_or(Bytes::new(Self::DEFAULT_SIZE));
            return vec![(clamp(size), 1.0)];
        }
        let total: f64 = self.size_mix.iter().map(|m| m.share.fraction()).sum();
        self.size_mix
            .iter()
            .map(|m| {
                (
                    clamp(m.size),
                    m.share.fraction() / total.max(f64::MIN_POSITIVE),
                )
            })
            .collect()
    }

    /// The mean packet size over the mix, bytes.
    pub fn mean_size(&self) -> f64 {
        self.sizes()
            .iter()
            .map(|&(s, share)| f64::from(s) * share)
            .sum()
    }

    /// The mean time between packets while on, ns: mean size × 8 / rate. With one packet
    /// size it is exact (rounded down to the ns) and is the spacing of `arrivals: constant`.
    pub fn mean_interval(&self) -> f64 {
        self.mean_size() * 8e9 / self.rate_bps().max(1) as f64
    }

    /// The spacing of `arrivals: constant` while on, ns (at least 1).
    pub fn interval(&self) -> Nanos {
        let bps = self.rate_bps().max(1);
        match (self.size_mix.is_empty(), self.packet_size) {
            (true, size) => {
                let size = size.map_or(Self::DEFAULT_SIZE, Bytes::get);
                (size * 8_000_000_000 / bps).max(1)
            }
            (false, _) => (self.mean_interval().round() as Nanos).max(1),
        }
    }

    /// The first time at or after `t` that the flow is on, or None once it has stopped (or
    /// if it is never on).
    pub fn next_send(&self, t: Nanos) -> Option<Nanos> {
        let (t, _) = self.on_window(t)?;
        Some(t)
    }

    /// The first time at or after `t` that the flow is on, with the end of that on period
    /// (`Nanos::MAX` when the flow is always on); None once the flow has stopped.
    pub fn on_window(&self, t: Nanos) -> Option<(Nanos, Nanos)> {
        let start = self.start.as_nanos();
        let mut t = t.max(start);
        let mut end = Nanos::MAX;
        if let TrafficPattern::OnOff { on, off } = self.pattern {
            let (on, cycle) = (on.as_nanos(), on.as_nanos().saturating_add(off.as_nanos()));
            if on == 0 {
                return None;
            }
            if cycle > 0 {
                let into = (t - start) % cycle;
                if into >= on {
                    t = t.saturating_add(cycle - into);
                    end = t.saturating_add(on);
                } else {
                    end = t.saturating_add(on - into);
                }
            }
        }
        match self.stop {
            Some(stop) if t >= stop.as_nanos() => None,
            _ => Some((t, end)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(yaml: &str) -> CrossTrafficFlow {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn error(yaml: &str) -> String {
        serde_yaml::from_str::<CrossTrafficFlow>(yaml)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn constant_flow_sends_evenly_until_it_stops() {
        let f = flow("{name: x, rate: 12Mbit, arrivals: constant, start: 1s, stop: 2s}");
        assert_eq!(f.interval(), 1_000_000);
        assert_eq!(f.next_send(0), Some(1_000_000_000));
        assert_eq!(f.next_send(1_999_999_999), Some(1_999_999_999));
        assert_eq!(f.next_send(2_000_000_000), None);
    }

    #[test]
    fn on_off_flow_skips_its_pauses() {
        let f = flow("{name: x, rate: 1Mbit, pattern: {on_off: {on: 100ms, off: 300ms}}}");
        assert_eq!(f.on_window(50_000_000), Some((50_000_000, 100_000_000)));
        assert_eq!(f.on_window(100_000_000), Some((400_000_000, 500_000_000)));
        assert_eq!(f.next_send(450_000_000), Some(450_000_000));
    }

    #[test]
    fn defaults_are_poisson_1500_byte_packets_downstream() {
        let f = flow("{name: x, rate: 1200kbit}");
        assert_eq!(f.arrivals, Arrivals::Poisson);
        assert_eq!(f.sizes(), vec![(1500, 1.0)]);
        assert_eq!(f.direction, FlowDirection::Down);
        assert_eq!(f.interval(), 10_000_000);
        assert_eq!(f.mean_interval(), 10_000_000.0);
        let back: CrossTrafficFlow =
            serde_yaml::from_str(&serde_yaml::to_string(&f).unwrap()).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn a_size_mix_sets_the_mean_size_and_keeps_the_mean_rate() {
        let f = flow(
            "{name: x, rate: 1Mbit, size_mix: [{size: 1500B, share: 50%}, {size: 500B, share: 50%}]}",
        );
        assert_eq!(f.mean_size(), 1000.0);
        // 1000 bytes on average at 1 Mbit/s: 8 ms between packets on average.
        assert_eq!(f.mean_interval(), 8_000_000.0);
        assert_eq!(f.interval(), 8_000_000);
        let thirds = flow(
            "{name: x, rate: 1Mbit, size_mix: [{size: 100B, share: 33.33%}, {size: 200B, share: 33.33%}, {size: 300B, share: 33.33%}]}",
        );
        let total: f64 = thirds.sizes().iter().map(|s| s.1).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    #[test]
    fn bad_flows_are_refused_with_what_would_be_right() {
        for (yaml, want) in [
            ("{name: '', rate: 1Mbit}", "needs a name"),
            ("{name: x, rate: 1Mbit, packet_size: 10B}", "from 20B"),
            ("{name: x, rate: 1Mbit, packet_size: 70000B}", "to 65535B"),
            (
                "{name: x, rate: 1Mbit, packet_size: 1500B, size_mix: [{size: 80B, share: 100%}]}",
                "not both",
            ),
            (
                "{name: x, rate: 1Mbit, size_mix: [{size: 80B, share: 40%}, {size: 1500B, share: 50%}]}",
                "add up to 90%; they must add up to 100%",
            ),
            (
                "{name: x, rate: 1Mbit, size_mix: [{size: 80B, share: 0%}, {size: 1500B, share: 100%}]}",
                "share of 80B is 0%",
            ),
            (
                "{name: x, rate: 1Mbit, pattern: {on_off: {on: 0s, off: 1s}}}",
                "`on` must be longer than 0",
            ),
            ("{name: x, rate: 1Mbit, start: 5s, stop: 2s}", "before it starts"),
            ("{name: x, rate: 1Mbit, arrivals: bursty}", "poisson"),
            ("{name: x, rate: 1Mbit, size_mix: [{size: 80B}]}", "share"),
            ("{name: x, rate: 0kbit}", "rate"),
        ] {
            let e = error(yaml);
            assert!(e.contains(want), "{yaml}: {e}");
        }
    }
}
