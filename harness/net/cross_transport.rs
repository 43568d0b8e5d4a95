//! What carries a cross-traffic flow: open-loop packets (`transport: udp`, the default, made
//! by [`crate::net::cross_source`] inside the emulator) or a bulk TCP transfer
//! (`transport: tcp`), the "someone else is downloading a film" case.
//!
//! A TCP flow is a real connection between two hidden hosts the simulation adds
//! (`sim/cross_tcp.rs`): one on the flow's site, behind the site's shared link with an ideal
//! LAN link of its own (the household's other computer), and a server outside, in a site of
//! its own, [`FlowTransport::DEFAULT_SERVER_DELAY`] away each way unless `server_delay` says
//! otherwise. The site host opens the connection; with `direction: down` the server sends
//! (a download), with `up` the site host does (an upload). The sender always has data, from
//! `start` until `stop`: its congestion control (smoltcp's Cubic) grows the window until the
//! bottleneck queue overflows, backs off on loss and keeps the queue standing, as a real
//! download does to a deep drop-tail buffer. `rate` caps what the application hands to TCP
//! (an app-limited transfer); without it the sender is greedy.
//!
//! Fields that describe packets the emulator makes mean nothing for TCP, whose stack sizes
//! and times its own segments: `packet_size`, `size_mix`, `arrivals` and an on/off `pattern`
//! are refused with `transport: tcp`, as `server_delay` is without it.
//!
//! ```
//! use callharness::net::cross::{CrossTrafficFlow, FlowTransport};
//! let f: CrossTrafficFlow =
//!     serde_yaml::from_str("{name: movie, transport: tcp, direction: down}").unwrap();
//! assert_eq!(f.transport, FlowTransport::Tcp);
//! assert_eq!(f.server_delay().as_nanos(), 20_000_000);
//! let e = serde_yaml::from_str::<CrossTrafficFlow>(
//!     "{name: movie, transport: tcp, packet_size: 1500B}",
//! ).unwrap_err();
//! assert!(e.to_string().contains("field `packet_size`"), "{e}");
//! ```

use crate::net::cross::{Arrivals, CrossTrafficFlow, TrafficPattern};
use crate::net::error::NetError;
use crate::units::Dur;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What carries a cross-traffic flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FlowTransport {
    /// Open-loop packets at `rate`, delivered to no one: what many independent users and
    /// applications (or one paced UDP sender) look like.
    #[default]
    Udp,
    /// A bulk TCP transfer over the simulation's TCP stacks, greedy unless `rate` caps it.
    Tcp,
}

impl FlowTransport {
    /// The server's one-way delay from the site when the flow gives none: 20 ms, a content
    /// server in a nearby data centre (a CDN node in the same country; the household's
    /// round trip to it is then 40 ms plus the site's own links).
    pub const DEFAULT_SERVER_DELAY: Dur = Dur::from_millis(20);
    /// The longest `server_delay` a flow may give: 10 s one way.
    pub const MAX_SERVER_DELAY: Dur = Dur::from_millis(10_000);

    /// True for `udp` (the default, left out when written back).
    pub fn is_udp(&self) -> bool {
        *self == FlowTransport::Udp
    }
}

impl CrossTrafficFlow {
    /// The one-way delay to a TCP flow's server ([`FlowTransport::DEFAULT_SERVER_DELAY`]
    /// unless given).
    pub fn server_delay(&self) -> Dur {
        self.server_delay
            .unwrap_or(FlowTransport::DEFAULT_SERVER_DELAY)
    }

    /// The checks of a `transport: tcp` flow: no field that only packets made by the
    /// emulator have, a `rate` cap above 0, a server delay within reason.
    pub(crate) fn validate_tcp(&self) -> Result<(), NetError> {
        let err = |field: &str, message: String| {
            Err(NetError::InvalidFlow {
                flow: self.name.clone(),
                field: field.to_string(),
                message,
            })
        };
        let packets = "with `transport: tcp` (the stack sizes and times its own segments: 1460 \
                       bytes of payload in 1500-byte packets, as fast as its window allows)";
        if self.packet_size.is_some() {
            return err(
                "packet_size",
                format!("`packet_size` means nothing {packets}: leave it out"),
            );
        }
        if !self.size_mix.is_empty() {
            return err(
                "size_mix",
                format!("`size_mix` means nothing {packets}: leave it out"),
            );
        }
        if self.arrivals != Arrivals::Poisson {
            return err(
                "arrivals",
                format!("`arrivals` means nothing {packets}: leave it out"),
            );
        }
        if self.pattern != TrafficPattern::Constant {
            return err(
                "pattern",
                "an on/off pattern is not supported with `transport: tcp` yet: start and stop \
                 the transfer on the timeline (`cross_traffic` and `cross_traffic_stop`) instead"
                    .into(),
            );
        }
        if self.rate.is_some_and(|r| r.bits_per_sec() == 0) {
            return err(
                "rate",
                "a cap of 0 would send nothing: give a rate above 0, like 4Mbit, or leave it out \
                 for a greedy transfer"
                    .into(),
            );
        }
        if let Some(d) = self.server_delay {
            if d > FlowTransport::MAX_SERVER_DELAY {
                return err(
                    "server_delay",
                    format!(
                        "a server {d} away is beyond the limit of {}",
                        FlowTransport::MAX_SERVER_DELAY
                    ),
                );
            }
        }
        Ok(())
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
    fn a_tcp_flow_needs_no_rate_and_reads_back_as_written() {
        let f = flow("{name: movie, transport: tcp, direction: up, server_delay: 35ms, stop: 9s}");
        assert_eq!(f.transport, FlowTransport::Tcp);
        assert_eq!(f.rate, None);
        assert_eq!(f.server_delay().as_nanos(), 35_000_000);
        assert_eq!(f.direction, crate::net::FlowDirection::Up);
        let text = serde_yaml::to_string(&f).unwrap();
        assert!(
            !text.contains("packet_size") && !text.contains("rate:"),
            "{text}"
        );
        assert_eq!(flow(&text), f);
        let capped = flow("{name: movie, transport: tcp, rate: 4Mbit}");
        assert_eq!(capped.rate_bps(), 4_000_000);
        assert_eq!(capped.server_delay(), FlowTransport::DEFAULT_SERVER_DELAY);
    }

    #[test]
    fn a_udp_flow_is_written_back_without_the_tcp_fields() {
        let f = flow("{name: x, rate: 1Mbit}");
        let text = serde_yaml::to_string(&f).unwrap();
        assert!(
            !text.contains("transport") && !text.contains("server_delay"),
            "{text}"
        );
    }

    #[test]
    fn fields_that_mean_nothing_for_the_transport_are_refused_by_name() {
        for (yaml, field, want) in [
            (
                "{name: m, transport: tcp, packet_size: 1500B}",
                "packet_size",
                "leave it out",
            ),
            (
                "{name: m, transport: tcp, size_mix: [{size: 1500B, share: 100%}]}",
                "size_mix",
                "leave it out",
            ),
            (
                "{name: m, transport: tcp, arrivals: constant}",
                "arrivals",
                "leave it out",
            ),
            (
                "{name: m, transport: tcp, pattern: {on_off: {on: 1s, off: 1s}}}",
                "pattern",
                "cross_traffic_stop",
            ),
            (
                "{name: m, transport: tcp, rate: 0kbit}",
                "rate",
                "invalid rate",
            ),
            (
                "{name: m, transport: tcp, server_delay: 11s}",
                "server_delay",
                "limit",
            ),
            (
                "{name: m, transport: tcp, start: 5s, stop: 1s}",
                "stop",
                "before it starts",
            ),
            (
                "{name: m, rate: 1Mbit, server_delay: 20ms}",
                "server_delay",
                "transport: tcp",
            ),
            ("{name: m}", "rate", "needs the load it offers"),
            ("{name: m, transport: quic}", "transport", "tcp"),
        ] {
            let e = error(yaml);
            assert!(
                e.contains(&format!("field `{field}`")) || e.contains(field),
                "{yaml}: {e}"
            );
            assert!(e.contains(want), "{yaml}: {e}");
        }
    }
}
