//! A site's NAT as a scenario writes it: a preset name (`nat: symmetric`) or the full map of its
//! RFC 4787 behaviours. What the NAT then does with packets is `nat.rs`.
//!
//! The presets are the classic names for four combinations of mapping and filtering:
//!
//! | `type`            | mapping                    | filtering                  |
//! |-------------------|----------------------------|----------------------------|
//! | `full-cone`       | endpoint-independent       | endpoint-independent       |
//! | `restricted-cone` | endpoint-independent       | address-dependent          |
//! | `port-restricted` | endpoint-independent       | address-and-port-dependent |
//! | `symmetric`       | address-and-port-dependent | address-and-port-dependent |
//!
//! The map form gives either `type:` or both `mapping:` and `filtering:`, plus any of the other
//! settings (their defaults: a public address from 203.0.113.0/24, `udp_timeout: 120s`,
//! `tcp_timeout: 7440s`, `port_preservation: true`, `hairpinning: true`).
//!
//! ```
//! use callharness::net::{NatBehavior, NatConfig};
//! let n: NatConfig = serde_yaml::from_str("symmetric").unwrap();
//! assert_eq!(n.mapping, NatBehavior::AddressAndPortDependent);
//! let n: NatConfig = serde_yaml::from_str(
//!     "{ mapping: endpoint-independent, filtering: address-dependent, udp_timeout: 30s }",
//! ).unwrap();
//! assert_eq!((n.filtering, n.udp_timeout.as_nanos()), (NatBehavior::AddressDependent, 30_000_000_000));
//! assert!(serde_yaml::from_str::<NatConfig>("{ type: symmetric, mapping: address-dependent }").is_err());
//! ```

use crate::units::{de_error, Dur};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::net::Ipv4Addr;

/// How a NAT chooses the external endpoint of a packet, or which packets it lets in (RFC 4787
/// section 4.1 for mapping, 5 for filtering), by what the remote end must share with the
/// packets the internal endpoint sent.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum NatBehavior {
    /// Mapping: one external port for every destination. Filtering: anyone may send in once
    /// the mapping exists.
    EndpointIndependent,
    /// Mapping: one external port per destination address. Filtering: only addresses the
    /// internal endpoint has sent to.
    AddressDependent,
    /// Mapping: one external port per destination address and port. Filtering: only the
    /// addresses and ports the internal endpoint has sent to.
    AddressAndPortDependent,
}

/// A preset: the classic name of a mapping and filtering pair (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NatType {
    /// Endpoint-independent mapping and filtering.
    FullCone,
    /// Endpoint-independent mapping, address-dependent filtering.
    RestrictedCone,
    /// Endpoint-independent mapping, address-and-port-dependent filtering.
    PortRestricted,
    /// Address-and-port-dependent mapping and filtering: each destination gets its own
    /// external port, so a peer cannot reuse what a STUN server saw (a relay is needed
    /// between two of these).
    Symmetric,
}

impl NatType {
    /// Its (mapping, filtering).
    pub fn behaviours(self) -> (NatBehavior, NatBehavior) {
        use NatBehavior::*;
        match self {
            NatType::FullCone => (EndpointIndependent, EndpointIndependent),
            NatType::RestrictedCone => (EndpointIndependent, AddressDependent),
            NatType::PortRestricted => (EndpointIndependent, AddressAndPortDependent),
            NatType::Symmetric => (AddressAndPortDependent, AddressAndPortDependent),
        }
    }

    /// Its name as written (`port-restricted`).
    pub fn as_str(self) -> &'static str {
        match self {
            NatType::FullCone => "full-cone",
            NatType::RestrictedCone => "restricted-cone",
            NatType::PortRestricted => "port-restricted",
            NatType::Symmetric => "symmetric",
        }
    }
}

/// Idle time after which a UDP mapping expires by default: 120 s, the least RFC 4787 REQ-5
/// allows.
pub const DEFAULT_UDP_TIMEOUT: Dur = Dur::from_secs(120);
/// Idle time after which a TCP mapping expires by default: 7440 s (2 h 4 min), the least RFC
/// 5382 REQ-5 allows for an established connection.
pub const DEFAULT_TCP_TIMEOUT: Dur = Dur::from_secs(7440);

/// A site's NAT: how it maps and filters, its public address, its timers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NatConfig {
    /// How the external port is chosen per destination.
    pub mapping: NatBehavior,
    /// Which inbound packets a mapping lets in.
    pub filtering: NatBehavior,
    /// The NAT's public address; `None`: the n-th NAT without one (in the network's site
    /// order) gets 203.0.113.n (TEST-NET-3), skipping addresses another NAT or a host has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public: Option<Ipv4Addr>,
    /// A UDP mapping expires after this long without an outbound packet.
    pub udp_timeout: Dur,
    /// A TCP mapping expires after this long without an outbound segment.
    pub tcp_timeout: Dur,
    /// Try the internal port as the external port first (else ports from 1024 up).
    pub port_preservation: bool,
    /// A host may reach another host of its site through the site's public address.
    pub hairpinning: bool,
}

impl NatConfig {
    /// A preset with every other setting at its default.
    pub fn preset(t: NatType) -> NatConfig {
        let (mapping, filtering) = t.behaviours();
        NatConfig {
            mapping,
            filtering,
            public: None,
            udp_timeout: DEFAULT_UDP_TIMEOUT,
            tcp_timeout: DEFAULT_TCP_TIMEOUT,
            port_preservation: true,
            hairpinning: true,
        }
    }

    /// The preset this mapping and filtering make, if they make one.
    pub fn preset_name(&self) -> Option<NatType> {
        [
            NatType::FullCone,
            NatType::RestrictedCone,
            NatType::PortRestricted,
            NatType::Symmetric,
        ]
        .into_iter()
        .find(|t| t.behaviours() == (self.mapping, self.filtering))
    }
}

/// What a `nat:` value looks like, for errors.
const NAT_EXPECTED: &str = "a NAT type (`full-cone`, `restricted-cone`, `port-restricted`, \
    `symmetric`) or a mapping like `{ mapping: endpoint-independent, filtering: \
    address-dependent }`";

/// The map form, as written.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NatSettings")]
struct NatFields {
    /// A preset: `full-cone`, `restricted-cone`, `port-restricted` or `symmetric` (instead of
    /// `mapping` and `filtering`).
    #[serde(rename = "type")]
    kind: Option<NatType>,
    /// How the external port is chosen: `endpoint-independent` (one for all destinations),
    /// `address-dependent` (one per destination address), `address-and-port-dependent` (one
    /// per destination address and port).
    mapping: Option<NatBehavior>,
    /// Which packets from outside a mapping lets in: `endpoint-independent` (anyone's),
    /// `address-dependent` (from addresses sent to), `address-and-port-dependent` (from
    /// addresses and ports sent to).
    filtering: Option<NatBehavior>,
    /// The public address (default: 203.0.113.n for the n-th NAT without one).
    public: Option<AddrText>,
    /// Idle time before a UDP mapping expires (default 120s, RFC 4787 REQ-5).
    udp_timeout: Option<Timeout>,
    /// Idle time before a TCP mapping expires (default 7440s, RFC 5382 REQ-5).
    tcp_timeout: Option<Timeout>,
    /// Try the internal port as the external one first (default true).
    port_preservation: Option<bool>,
    /// Hosts of the site reach each other through its public address (default true).
    hairpinning: Option<bool>,
}

impl NatFields {
    fn resolve<E: de::Error>(self) -> Result<NatConfig, E> {
        let (mapping, filtering) = match (self.kind, self.mapping, self.filtering) {
            (Some(t), None, None) => t.behaviours(),
            (None, Some(m), Some(f)) => (m, f),
            (Some(t), m, _) => {
                let both = if m.is_some() { "mapping" } else { "filtering" };
                return Err(de_error(
                    &format!("`type: {}` and `{both}` both given", t.as_str()),
                    "either a preset `type:` or both `mapping:` and `filtering:`",
                    &format!("`type` and `{both}`"),
                ));
            }
            (None, m, f) => {
                let missing = match (m, f) {
                    (Some(_), None) => "filtering",
                    (None, Some(_)) => "mapping",
                    _ => "type",
                };
                return Err(de_error(
                    &format!("the NAT has no `{missing}`"),
                    "`type:` (full-cone, restricted-cone, port-restricted, symmetric), or both \
                     `mapping:` and `filtering:` (endpoint-independent, address-dependent, \
                     address-and-port-dependent)",
                    &format!("no `{missing}`"),
                ));
            }
        };
        Ok(NatConfig {
            mapping,
            filtering,
            public: self.public.map(|a| a.0),
            udp_timeout: self.udp_timeout.map_or(DEFAULT_UDP_TIMEOUT, |t| t.0),
            tcp_timeout: self.tcp_timeout.map_or(DEFAULT_TCP_TIMEOUT, |t| t.0),
            port_preservation: self.port_preservation.unwrap_or(true),
            hairpinning: self.hairpinning.unwrap_or(true),
        })
    }
}

impl<'de> Deserialize<'de> for NatConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NatConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(NAT_EXPECTED)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NatConfig, E> {
                let d: de::value::StrDeserializer<'_, E> = v.into_deserializer();
                NatType::deserialize(d).map(NatConfig::preset)
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<NatConfig, A::Error> {
                NatFields::deserialize(MapAccessDeserializer::new(m))?.resolve()
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for NatConfig {
    fn schema_name() -> Cow<'static, str> {
        "NatConfig".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let fields = g.subschema_for::<NatFields>();
        json_schema!({
            "description": "The site's NAT (RFC 4787): a preset (full-cone: endpoint-independent mapping and filtering; restricted-cone: address-dependent filtering; port-restricted: address-and-port-dependent filtering; symmetric: address-and-port-dependent mapping and filtering), or a mapping of its settings. Hosts of the site are then reachable from other sites only through the NAT's public address, on ports their own traffic opened.",
            "anyOf": [
                {
                    "type": "string",
                    "enum": ["full-cone", "restricted-cone", "port-restricted", "symmetric"]
                },
                fields
            ]
        })
    }
}

/// An IPv4 address as written, like `203.0.113.7`.
struct AddrText(Ipv4Addr);

impl<'de> Deserialize<'de> for AddrText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.trim().parse().map(AddrText).map_err(|_| {
            de_error(
                "invalid IPv4 address",
                "an IPv4 address like 203.0.113.7",
                &format!("`{}`", s.trim()),
            )
        })
    }
}

impl JsonSchema for AddrText {
    fn schema_name() -> Cow<'static, str> {
        "Ipv4Text".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "ipv4", "examples": ["203.0.113.7"] })
    }
}

/// A mapping timeout: a duration above zero.
struct Timeout(Dur);

impl<'de> Deserialize<'de> for Timeout {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = Dur::deserialize(d)?;
        if t == Dur::ZERO {
            return Err(de_error(
                "a mapping timeout cannot be 0s",
                "a duration above zero, like 120s",
                "`0s`",
            ));
        }
        Ok(Timeout(t))
    }
}

impl JsonSchema for Timeout {
    fn schema_name() -> Cow<'static, str> {
        "NatTimeout".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "a duration above zero, like 120s or 2h",
            "examples": ["120s", "7440s"]
        })
    }
}
