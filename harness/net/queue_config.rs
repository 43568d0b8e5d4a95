//! How a bottleneck queue is configured: its size ([`QueueLimit`]: packets, bytes or waiting
//! time) and its discipline ([`AqmConfig`]: drop-tail or CoDel), as profiles write them.

use crate::units::{de_error, Bytes, Dur};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// How much the queue holds before it drops: packets, bytes, or waiting time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueLimit {
    /// At most this many packets queued (including the one being sent): "50pkt".
    Packets(u32),
    /// At most this many bytes queued: "30000B".
    Bytes(u64),
    /// A packet is dropped if it would wait longer than this before its turn: "100ms".
    Time(Dur),
}

impl QueueLimit {
    /// Linux's default transmit queue length (txqueuelen) and netem's default limit.
    pub const DEFAULT: QueueLimit = QueueLimit::Packets(1000);

    /// True for a limit that can hold nothing.
    pub fn is_zero(self) -> bool {
        match self {
            QueueLimit::Packets(n) => n == 0,
            QueueLimit::Bytes(n) => n == 0,
            QueueLimit::Time(d) => d.as_nanos() == 0,
        }
    }
}

impl FromStr for QueueLimit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        for suffix in ["packets", "pkts", "pkt"] {
            if let Some(n) = t.strip_suffix(suffix) {
                if let Ok(n) = n.trim().parse() {
                    return Ok(QueueLimit::Packets(n));
                }
            }
        }
        if let Ok(b) = t.parse::<Bytes>() {
            return Ok(QueueLimit::Bytes(b.get()));
        }
        if let Ok(d) = t.parse::<Dur>() {
            return Ok(QueueLimit::Time(d));
        }
        Err(format!(
            "invalid queue size {s:?}: expected packets, bytes or time, like 50pkt, 30000B or 100ms"
        ))
    }
}

impl fmt::Display for QueueLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueueLimit::Packets(n) => write!(f, "{n}pkt"),
            QueueLimit::Bytes(b) => write!(f, "{b}B"),
            QueueLimit::Time(d) => write!(f, "{d}"),
        }
    }
}

impl Serialize for QueueLimit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a queue size looks like, for errors and the schema.
pub const QUEUE_EXPECTED: &str = "packets, bytes or time, like 50pkt, 30000B or 100ms";

impl<'de> Deserialize<'de> for QueueLimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = QueueLimit;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(QUEUE_EXPECTED)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<QueueLimit, E> {
                v.parse()
                    .map_err(|_| de_error("invalid queue size", QUEUE_EXPECTED, &format!("`{v}`")))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<QueueLimit, E> {
                Err(de_error(
                    "a queue size needs a unit",
                    QUEUE_EXPECTED,
                    &format!("`{v}`"),
                ))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<QueueLimit, E> {
                Err(de_error(
                    "invalid queue size",
                    QUEUE_EXPECTED,
                    &format!("`{v}`"),
                ))
            }
        }
        d.deserialize_any(V)
    }
}

impl schemars::JsonSchema for QueueLimit {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "QueueLimit".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": QUEUE_EXPECTED,
            "examples": ["50pkt", "30000B", "100ms"]
        })
    }
}

/// The queue discipline: `droptail`, `codel`, or `{codel: {target: 5ms, interval: 100ms}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AqmConfig {
    /// Drop arrivals when the queue is full.
    Droptail,
    /// CoDel (RFC 8289) on top of the queue limit.
    Codel {
        /// Acceptable standing queue delay (RFC 8289: 5 ms).
        target: Dur,
        /// Window over which the delay must stay above target (RFC 8289: 100 ms).
        interval: Dur,
    },
}

impl AqmConfig {
    /// CoDel with RFC 8289's recommended 5 ms target and 100 ms interval.
    pub const CODEL: AqmConfig = AqmConfig::Codel {
        target: Dur::from_millis(5),
        interval: Dur::from_millis(100),
    };
}

impl Serialize for AqmConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AqmConfig::Droptail => s.serialize_str("droptail"),
            c if *c == AqmConfig::CODEL => s.serialize_str("codel"),
            AqmConfig::Codel { target, interval } => {
                #[derive(Serialize)]
                struct P<'a> {
                    target: &'a Dur,
                    interval: &'a Dur,
                }
                #[derive(Serialize)]
                struct W<'a> {
                    codel: P<'a>,
                }
                W {
                    codel: P { target, interval },
                }
                .serialize(s)
            }
        }
    }
}

/// What an `aqm` value looks like, for errors.
const AQM_EXPECTED: &str = "`droptail`, `codel` or `codel: { target: 5ms, interval: 100ms }`";

impl<'de> Deserialize<'de> for AqmConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// CoDel's parameters; each defaults to RFC 8289's value.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Params {
            target: Option<Dur>,
            interval: Option<Dur>,
        }
        /// The one key of the mapping form.
        #[derive(Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Key {
            Codel,
        }
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = AqmConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(AQM_EXPECTED)
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AqmConfig, E> {
                match v {
                    "droptail" => Ok(AqmConfig::Droptail),
                    "codel" => Ok(AqmConfig::CODEL),
                    _ => Err(E::unknown_variant(v, &["droptail", "codel"])),
                }
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<AqmConfig, A::Error> {
                let Some(Key::Codel) = m.next_key::<Key>()? else {
                    return Err(de_error("an empty mapping", AQM_EXPECTED, "`{}`"));
                };
                let p: Option<Params> = m.next_value()?;
                if m.next_key::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(de_error(
                        "more than one key",
                        AQM_EXPECTED,
                        "a mapping with several keys",
                    ));
                }
                let (target, interval) = p.map_or((None, None), |p| (p.target, p.interval));
                Ok(AqmConfig::Codel {
                    target: target.unwrap_or(Dur::from_millis(5)),
                    interval: interval.unwrap_or(Dur::from_millis(100)),
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl schemars::JsonSchema for AqmConfig {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Aqm".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "The queue discipline: `droptail` (default: drop arrivals when the queue is full), `codel` (CoDel, RFC 8289, with its 5 ms target and 100 ms interval) or `codel: { target, interval }`",
            "oneOf": [
                {
                    "type": "string",
                    "enum": ["droptail", "codel"]
                },
                {
                    "type": "object",
                    "properties": {
                        "codel": {
                            "type": ["object", "null"],
                            "description": "CoDel with its parameters",
                            "properties": {
                                "target": {
                                    "description": "Acceptable standing queue delay (a duration, default 5ms)",
                                    "type": "string",
                                    "examples": ["5ms", "100ms"]
                                },
                                "interval": {
                                    "description": "Window over which the delay must stay above target (a duration, default 100ms)",
                                    "type": "string",
                                    "examples": ["5ms", "100ms"]
                                }
                            },
                            "additionalProperties": false
                        }
                    },
                    "required": ["codel"],
                    "additionalProperties": false
                }
            ]
        })
    }
}
