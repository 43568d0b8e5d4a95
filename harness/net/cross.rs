//! Cross-traffic: flows of other people's packets on a site's shared link, competing with the
//! calls for its capacity and queue (the "others on your network" condition).
//!
//! A flow sends `packet_size` packets at `rate`, constantly or in on/off bursts, from `start`
//! until `stop`, in one direction of the site's shared link. Its packets are counted apart in
//! the link's counters and delivered to no one.
//!
//! ```
//! use callharness::net::cross::CrossTrafficFlow;
//! let f: CrossTrafficFlow = serde_yaml::from_str(
//!     "{name: backup, rate: 8Mbit, packet_size: 1000B, pattern: {on_off: {on: 1s, off: 1s}}, start: 5s, direction: up}",
//! ).unwrap();
//! assert_eq!(f.interval(), 1_000_000); // 1000 bytes at 8 Mbit/s: one packet per ms
//! assert_eq!(f.next_send(5_000_000_000 + 999_000_000), Some(5_000_000_000 + 999_000_000));
//! assert_eq!(f.next_send(5_000_000_000 + 1_000_000_000), Some(7_000_000_000)); // off second
//! ```

use crate::net::Nanos;
use crate::units::{Bytes, Dur, Rate};
use serde::{Deserialize, Serialize};

/// One cross-traffic flow.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CrossTrafficFlow {
    /// A label for reports ("video-stream", "backup").
    pub name: String,
    /// Sending rate while on.
    pub rate: Rate,
    /// Size of each packet (default 1500B).
    #[serde(default = "default_size")]
    pub packet_size: Bytes,
    /// Constant or on/off (default constant).
    #[serde(default)]
    pub pattern: TrafficPattern,
    /// When the flow starts (default at once).
    #[serde(default)]
    pub start: Dur,
    /// When it stops (default never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Dur>,
    /// Which direction of the shared link it loads (default down, a download).
    #[serde(default)]
    pub direction: FlowDirection,
}

fn default_size() -> Bytes {
    Bytes::new(1500)
}

/// How a flow sends over time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(remote = "Self", rename_all = "snake_case")]
pub enum TrafficPattern {
    /// Always at `rate`.
    #[default]
    Constant,
    /// At `rate` for `on`, then silent for `off`, repeating from `start`.
    OnOff {
        /// Length of a burst.
        on: Dur,
        /// Length of a pause.
        off: Dur,
    },
}

impl<'de> Deserialize<'de> for TrafficPattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::net::config::one_key_map_enum(d, TrafficPattern::deserialize)
    }
}

impl Serialize for TrafficPattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TrafficPattern::serialize(self, s)
    }
}

/// Which direction of the shared link a flow loads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowDirection {
    /// From the site towards the core (uploads).
    Up,
    /// From the core into the site (downloads).
    #[default]
    Down,
}

impl CrossTrafficFlow {
    /// Time between packets while sending, ns (at least 1).
    pub fn interval(&self) -> Nanos {
        (self.packet_size.get() * 8_000_000_000 / self.rate.bits_per_sec()).max(1)
    }

    /// The packet size in bytes, as the link counts it.
    pub fn size(&self) -> u32 {
        self.packet_size.get().min(u64::from(u32::MAX)) as u32
    }

    /// The first send time at or after `t`, or None once the flow has stopped.
    pub fn next_send(&self, t: Nanos) -> Option<Nanos> {
        let start = self.start.as_nanos();
        let mut t = t.max(start);
        if let TrafficPattern::OnOff { on, off } = self.pattern {
            let (on, cycle) = (on.as_nanos(), on.as_nanos() + off.as_nanos());
            if on == 0 {
                return None;
            }
            if cycle > 0 {
                let into = (t - start) % cycle;
                if into >= on {
                    t += cycle - into;
                }
            }
        }
        match self.stop {
            Some(stop) if t >= stop.as_nanos() => None,
            _ => Some(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_flow_sends_evenly_until_it_stops() {
        let f: CrossTrafficFlow =
            serde_yaml::from_str("{name: x, rate: 12Mbit, start: 1s, stop: 2s}").unwrap();
        assert_eq!(f.interval(), 1_000_000);
        assert_eq!(f.next_send(0), Some(1_000_000_000));
        assert_eq!(f.next_send(1_999_999_999), Some(1_999_999_999));
        assert_eq!(f.next_send(2_000_000_000), None);
    }

    #[test]
    fn on_off_flow_skips_its_pauses() {
        let f: CrossTrafficFlow = serde_yaml::from_str(
            "{name: x, rate: 1Mbit, pattern: {on_off: {on: 100ms, off: 300ms}}}",
        )
        .unwrap();
        assert_eq!(f.next_send(50_000_000), Some(50_000_000));
        assert_eq!(f.next_send(100_000_000), Some(400_000_000));
        assert_eq!(f.next_send(450_000_000), Some(450_000_000));
    }
}
