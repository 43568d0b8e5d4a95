//! Host firewalls: ordered rules, first match wins, default allow.
//!
//! A rule matches on protocol, a port set (of the destination port by default, or the source
//! port), the peer (the other end: a host name or an IPv4 address) and the direction (`out`:
//! the host sends; `in`: the host receives). A block drops the packet with reason `firewall`;
//! for a TCP connection attempt (SYN), `tcp_block: reset` makes the connection fail at once
//! with a reset, `timeout` (the default) makes it hang until the sender gives up.
//!
//! ```
//! use callharness::net::firewall::{Firewall, FirewallRule, Verdict, Flow, RuleDirection};
//! use callharness::net::Proto;
//! let rules: Vec<FirewallRule> = serde_yaml::from_str(r#"
//! - { action: allow, proto: tcp, ports: "443" }
//! - { action: block, proto: any, ports: ["50000-59999", 3478] }
//! "#).unwrap();
//! let fw = Firewall::compile(&rules, "alice", |_| None).unwrap();
//! let udp = |port| Flow { direction: RuleDirection::Out, proto: Proto::Udp, src_port: 40000,
//!     dst_port: port, peer_addr: "10.0.0.2".parse().unwrap(), peer_host: None };
//! assert!(matches!(fw.check(&udp(50000)), Verdict::Block(_)));
//! assert_eq!(fw.check(&udp(60000)), Verdict::Allow);
//! ```

use crate::net::datagram::{HostId, Proto};
use crate::net::error::NetError;
use crate::units::de_error;
use schemars::JsonSchema;
use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use std::net::Ipv4Addr;

/// One firewall rule as written in a scenario, like `{ action: block, proto: udp, ports:
/// 50000-59999 }`: the first rule that matches a packet decides; no match allows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FirewallRule {
    /// `allow` or `block` what the rule matches (required).
    pub action: FirewallAction,
    /// Protocol matched: `udp`, `tcp` or `any` (default).
    #[serde(default)]
    pub proto: ProtoMatch,
    /// Ports matched (default all): a port (`443`), a range (`50000-59999`), or a list of those.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<PortSet>,
    /// Which port `ports` looks at: `dst` (the destination port, default) or `src`.
    #[serde(default)]
    pub port_of: PortOf,
    /// The other end: a participant's name or an IPv4 address like `192.0.2.1` (default
    /// anyone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
    /// Traffic the host sends (`out`), receives (`in`) or `both` (default).
    #[serde(default)]
    pub direction: RuleDirection,
    /// How a blocked TCP connection attempt fails: `timeout` (default: it hangs until the
    /// sender gives up) or `reset` (it fails at once).
    #[serde(default)]
    pub tcp_block: TcpBlock,
}

/// Allow or block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FirewallAction {
    /// Let it through (and stop looking at later rules).
    Allow,
    /// Drop it.
    Block,
}

/// Protocols a rule matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProtoMatch {
    /// UDP only.
    Udp,
    /// TCP only.
    Tcp,
    /// Both.
    #[default]
    Any,
}

/// Which port of the packet a rule's port set is compared with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortOf {
    /// The destination port.
    #[default]
    Dst,
    /// The source port.
    Src,
}

/// Which traffic of the host a rule applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleDirection {
    /// Packets the host sends.
    Out,
    /// Packets the host receives.
    In,
    /// Both.
    #[default]
    Both,
}

/// How a blocked TCP connection attempt fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TcpBlock {
    /// Silently dropped: the sender waits until its own timeout.
    #[default]
    Timeout,
    /// Rejected: a TCP reset comes back to the sender.
    Reset,
}

/// A set of inclusive port ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortSet(pub Vec<(u16, u16)>);

impl PortSet {
    /// True if `port` is in one of the ranges.
    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| lo <= port && port <= hi)
    }

    fn parse_one<E: serde::de::Error>(text: &str) -> Result<(u16, u16), E> {
        let found = format!("`{}`", text.trim());
        let err = || de_error("invalid port or range", PORTS_EXPECTED, &found);
        let p = |s: &str| s.trim().parse::<u16>().map_err(|_| err());
        match text.split_once('-') {
            Some((a, b)) => {
                let (lo, hi) = (p(a)?, p(b)?);
                if lo > hi {
                    return Err(de_error(
                        "the range starts above its end",
                        "a range from the lower port to the higher, like 50000-59999",
                        &found,
                    ));
                }
                Ok((lo, hi))
            }
            None => p(text).map(|x| (x, x)),
        }
    }
}

/// What a port set looks like, for errors.
const PORTS_EXPECTED: &str =
    "a port from 0 to 65535 like 443, a range like 50000-59999, or a list of those";

/// One port or range of a port set.
struct OnePort((u16, u16));

/// Reads a port or a range from text or a number (the list form is [`PortSet`]'s).
struct PortVisitor;

impl<'de> Visitor<'de> for PortVisitor {
    type Value = (u16, u16);
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(PORTS_EXPECTED)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(u16, u16), E> {
        PortSet::parse_one(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(u16, u16), E> {
        PortSet::parse_one(&v.to_string())
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(u16, u16), E> {
        PortSet::parse_one(&v.to_string())
    }
}

impl<'de> Deserialize<'de> for OnePort {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PortVisitor).map(OnePort)
    }
}

impl<'de> Deserialize<'de> for PortSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PortSet;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(PORTS_EXPECTED)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PortSet, E> {
                PortVisitor.visit_str(v).map(|r| PortSet(vec![r]))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<PortSet, E> {
                PortVisitor.visit_u64(v).map(|r| PortSet(vec![r]))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<PortSet, E> {
                PortVisitor.visit_i64(v).map(|r| PortSet(vec![r]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<PortSet, A::Error> {
                let mut ranges = Vec::new();
                while let Some(OnePort(r)) = s.next_element()? {
                    ranges.push(r);
                }
                Ok(PortSet(ranges))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for PortSet {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PortSet".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let one = schemars::json_schema!({
            "type": ["string", "integer"],
            "description": "a port from 0 to 65535 (443) or a range of ports (\"50000-59999\")",
            "examples": [443, "50000-59999"]
        });
        schemars::json_schema!({
            "description": PORTS_EXPECTED,
            "anyOf": [one.clone(), { "type": "array", "items": one }]
        })
    }
}

/// The other end of a rule, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Peer {
    Any,
    Host(HostId),
    Addr(Ipv4Addr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    block: bool,
    proto: ProtoMatch,
    ports: Option<PortSet>,
    port_of: PortOf,
    peer: Peer,
    direction: RuleDirection,
    tcp_block: TcpBlock,
}

/// What the firewall sees of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    /// Whether the host sends or receives it.
    pub direction: RuleDirection,
    /// Its protocol.
    pub proto: Proto,
    /// Its source port.
    pub src_port: u16,
    /// Its destination port.
    pub dst_port: u16,
    /// The other end's address.
    pub peer_addr: Ipv4Addr,
    /// The other end's host, if it is one of the network's hosts.
    pub peer_host: Option<HostId>,
}

/// The firewall's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Let through.
    Allow,
    /// Dropped; for a TCP SYN, how the connection attempt fails.
    Block(TcpBlock),
}

/// A host's compiled rule list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Firewall {
    rules: Vec<Rule>,
}

impl Firewall {
    /// Compiles `rules` for host `host`; `lookup` resolves a peer host name to its id.
    pub fn compile(
        rules: &[FirewallRule],
        host: &str,
        lookup: impl Fn(&str) -> Option<HostId>,
    ) -> Result<Firewall, NetError> {
        let rules = rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let peer = match &r.peer {
                    None => Peer::Any,
                    Some(p) => match p.parse::<Ipv4Addr>() {
                        Ok(a) => Peer::Addr(a),
                        Err(_) => Peer::Host(lookup(p).ok_or_else(|| {
                            NetError::Topology(format!(
                                "host {host}, firewall rule {}: peer {p:?} is neither an IPv4 address nor a host of the network",
                                i + 1
                            ))
                        })?),
                    },
                };
                Ok(Rule {
                    block: r.action == FirewallAction::Block,
                    proto: r.proto,
                    ports: r.ports.clone(),
                    port_of: r.port_of,
                    peer,
                    direction: r.direction,
                    tcp_block: r.tcp_block,
                })
            })
            .collect::<Result<_, NetError>>()?;
        Ok(Firewall { rules })
    }

    /// True if the host has no rules (everything allowed).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The first matching rule's decision, or allow.
    pub fn check(&self, f: &Flow) -> Verdict {
        for r in &self.rules {
            let dir_ok = r.direction == RuleDirection::Both || r.direction == f.direction;
            let proto_ok = matches!(
                (r.proto, f.proto),
                (ProtoMatch::Any, _)
                    | (ProtoMatch::Udp, Proto::Udp)
                    | (ProtoMatch::Tcp, Proto::Tcp { .. })
            );
            let port = match r.port_of {
                PortOf::Dst => f.dst_port,
                PortOf::Src => f.src_port,
            };
            let port_ok = r.ports.as_ref().is_none_or(|p| p.contains(port));
            let peer_ok = match r.peer {
                Peer::Any => true,
                Peer::Host(h) => f.peer_host == Some(h),
                Peer::Addr(a) => f.peer_addr == a,
            };
            if dir_ok && proto_ok && port_ok && peer_ok {
                return if r.block {
                    Verdict::Block(r.tcp_block)
                } else {
                    Verdict::Allow
                };
            }
        }
        Verdict::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fw(yaml: &str) -> Firewall {
        let rules: Vec<FirewallRule> = serde_yaml::from_str(yaml).unwrap();
        Firewall::compile(&rules, "h", |n| (n == "edge").then_some(HostId(7))).unwrap()
    }

    fn flow(direction: RuleDirection, proto: Proto, dst_port: u16) -> Flow {
        Flow {
            direction,
            proto,
            src_port: 5000,
            dst_port,
            peer_addr: Ipv4Addr::new(10, 0, 0, 9),
            peer_host: None,
        }
    }

    #[test]
    fn port_range_edges() {
        let f = fw(r#"[{ action: block, proto: udp, ports: "50000-59999" }]"#);
        let v = |p| f.check(&flow(RuleDirection::Out, Proto::Udp, p));
        assert_eq!(v(49_999), Verdict::Allow);
        assert_eq!(v(50_000), Verdict::Block(TcpBlock::Timeout));
        assert_eq!(v(59_999), Verdict::Block(TcpBlock::Timeout));
        assert_eq!(v(60_000), Verdict::Allow);
    }

    #[test]
    fn first_match_wins() {
        let f = fw(r#"
- { action: allow, proto: udp, ports: "55000" }
- { action: block, proto: udp, ports: "50000-59999" }
- { action: allow, proto: udp, ports: "50001" }
"#);
        let v = |p| f.check(&flow(RuleDirection::Out, Proto::Udp, p));
        assert_eq!(v(55_000), Verdict::Allow, "earlier allow beats later block");
        assert_eq!(
            v(50_001),
            Verdict::Block(TcpBlock::Timeout),
            "later allow never reached"
        );
    }

    #[test]
    fn protocol_direction_peer_and_source_port() {
        let f = fw(r#"
- { action: block, proto: tcp, ports: [443, "8000-8080"], direction: in, tcp_block: reset }
- { action: block, peer: edge }
- { action: block, peer: 192.0.2.1, direction: out }
- { action: block, proto: udp, ports: "3478", port_of: src }
"#);
        let syn = Proto::Tcp { syn: true };
        assert_eq!(
            f.check(&flow(RuleDirection::In, syn, 443)),
            Verdict::Block(TcpBlock::Reset)
        );
        assert_eq!(
            f.check(&flow(RuleDirection::In, syn, 8080)),
            Verdict::Block(TcpBlock::Reset)
        );
        assert_eq!(
            f.check(&flow(RuleDirection::Out, syn, 443)),
            Verdict::Allow,
            "direction"
        );
        assert_eq!(
            f.check(&flow(RuleDirection::In, Proto::Udp, 443)),
            Verdict::Allow,
            "proto"
        );
        let mut to_edge = flow(RuleDirection::Out, Proto::Udp, 1);
        to_edge.peer_host = Some(HostId(7));
        assert!(matches!(f.check(&to_edge), Verdict::Block(_)));
        let mut to_addr = flow(RuleDirection::Out, Proto::Udp, 1);
        to_addr.peer_addr = Ipv4Addr::new(192, 0, 2, 1);
        assert!(matches!(f.check(&to_addr), Verdict::Block(_)));
        to_addr.direction = RuleDirection::In;
        assert_eq!(f.check(&to_addr), Verdict::Allow);
        let mut from_3478 = flow(RuleDirection::Out, Proto::Udp, 1);
        from_3478.src_port = 3478;
        assert!(matches!(f.check(&from_3478), Verdict::Block(_)));
    }

    #[test]
    fn bad_rules_are_explained() {
        let e =
            serde_yaml::from_str::<Vec<FirewallRule>>(r#"[{action: block, ports: "60000-50000"}]"#)
                .unwrap_err()
                .to_string();
        assert!(e.contains("like 50000-59999"), "{e}");
        let rules: Vec<FirewallRule> =
            serde_yaml::from_str("[{action: block, peer: nobody}]").unwrap();
        let e = Firewall::compile(&rules, "alice", |_| None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("alice") && e.contains("nobody"), "{e}");
    }
}
