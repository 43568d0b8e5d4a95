//! Units as types: durations, bit rates, percentages and byte sizes written the way a person
//! writes them in a scenario or profile file ("30ms", "1.5Mbit", "0.5%", "30000B").
//!
//! Every type parses from text with [`std::str::FromStr`], deserializes from that text with
//! serde, and prints back in the same notation with [`std::fmt::Display`]. A bare number is
//! rejected for durations and rates: "30" could be seconds or milliseconds, so the error asks
//! for a unit.
//!
//! ```
//! use callharness::units::{Dur, Percent, Rate};
//! let d: Dur = "1.5s".parse().unwrap();
//! assert_eq!(d.as_nanos(), 1_500_000_000);
//! let r: Rate = "256kbit".parse().unwrap();
//! assert_eq!(r.bits_per_sec(), 256_000);
//! let p: Percent = "0.5%".parse().unwrap();
//! assert_eq!(p.fraction(), 0.005);
//! assert_eq!(d.to_string(), "1500ms");
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Why a unit value could not be parsed: the text found and the form that was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {found:?}: expected {expected}")]
pub struct UnitError {
    /// What was being parsed ("duration", "rate", "percentage", "size").
    pub kind: &'static str,
    /// The text as written.
    pub found: String,
    /// The expected form, with an example.
    pub expected: &'static str,
}

/// Splits "1.5Mbit" into (1.5, "Mbit"); the number must be a plain non-negative decimal.
fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(end);
    if num.is_empty() || num.starts_with('.') && num.len() == 1 {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    v.is_finite().then_some((v, unit.trim()))
}

/// Rounds `v * scale` to an integer, refusing values that do not fit in a u64.
fn scaled(v: f64, scale: f64) -> Option<u64> {
    let x = (v * scale).round();
    (0.0..1.8e19).contains(&x).then_some(x as u64)
}

/// A deserialization error in three parts: what is wrong, what was expected, what was found.
/// The parts are joined by U+001F, which the scenario loader splits into its error's message,
/// `expected` and `found` lines; any other reader shows one line,
/// "message (expected ..., found ...)".
pub fn de_error<E: serde::de::Error>(message: &str, expected: &str, found: &str) -> E {
    E::custom(format!(
        "{message}\u{1f} (expected {expected}\u{1f}, found {found})"
    ))
}

/// Splits a message made by [`de_error`] into (message, expected, found); `None` for any
/// other message.
pub fn split_de_error(text: &str) -> Option<(&str, &str, &str)> {
    let mut parts = text.split('\u{1f}');
    let message = parts.next()?;
    let expected = parts.next()?.strip_prefix(" (expected ")?;
    let found = parts.next()?.strip_prefix(", found ")?.strip_suffix(')')?;
    Some((message, expected, found))
}

/// The error for a unit value that does not parse, naming the common mistakes (a negative
/// value, a percentage over 100, a bare number without its unit) plainly.
pub fn unit_de_error<E: serde::de::Error>(e: &UnitError) -> E {
    let t = e.found.trim();
    let kind = e.kind;
    let message = if t.starts_with('-') {
        format!("a {kind} cannot be negative")
    } else if kind == "percentage"
        && t.strip_suffix('%')
            .and_then(|n| n.trim().parse::<f64>().ok())
            .is_some_and(|v| v > 100.0)
    {
        "a percentage cannot be over 100%".to_string()
    } else if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        format!("a {kind} needs a unit")
    } else {
        format!("invalid {kind}")
    };
    de_error(&message, e.expected, &format!("`{t}`"))
}

macro_rules! serde_via_str {
    ($t:ty, $expected:expr) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Numbers are read as text too, so that the error for a bare `30` names the
                // missing unit; anything else (a list, `true`) is the wrong type.
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $t;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expected)
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$t, E> {
                        v.parse().map_err(|e| unit_de_error(&e))
                    }
                    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<$t, E> {
                        self.visit_str(&v.to_string())
                    }
                    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<$t, E> {
                        self.visit_str(&v.to_string())
                    }
                    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<$t, E> {
                        self.visit_str(&v.to_string())
                    }
                }
                d.deserialize_any(V)
            }
        }
    };
}

/// A JSON Schema for a unit type: a string in the unit's notation (the schema of
/// `callharness schema`, for editors).
macro_rules! schema_as_text {
    ($t:ty, $name:literal, $expected:expr, [$($example:literal),*]) => {
        impl schemars::JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "description": $expected,
                    "examples": [$($example),*]
                })
            }
        }
    };
}

/// A non-negative duration, stored in nanoseconds. Written with a unit: `ns`, `us`, `ms`, `s`,
/// `m` (minutes) or `h`; decimals allowed ("1.5s").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(u64);

impl Dur {
    /// Zero time.
    pub const ZERO: Dur = Dur(0);
    /// A duration of `ns` nanoseconds.
    pub const fn from_nanos(ns: u64) -> Dur {
        Dur(ns)
    }
    /// A duration of `us` microseconds.
    pub const fn from_micros(us: u64) -> Dur {
        Dur(us * 1_000)
    }
    /// A duration of `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Dur {
        Dur(ms * 1_000_000)
    }
    /// A duration of `s` seconds.
    pub const fn from_secs(s: u64) -> Dur {
        Dur(s * 1_000_000_000)
    }
    /// The duration in nanoseconds.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    /// The duration in seconds, as a float (for reports).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// The duration in milliseconds, as a float (for reports).
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

const DUR_EXPECTED: &str = "a duration with a unit, like 30ms, 1.5s, 250us or 1m";

impl FromStr for Dur {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        let err = || UnitError {
            kind: "duration",
            found: s.to_string(),
            expected: DUR_EXPECTED,
        };
        let (v, unit) = split_number(s).ok_or_else(err)?;
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" | "min" => 60e9,
            "h" => 3600e9,
            _ => return Err(err()),
        };
        scaled(v, scale).map(Dur).ok_or_else(err)
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let units: [(u64, &str); 5] = [
            (3_600_000_000_000, "h"),
            (60_000_000_000, "m"),
            (1_000_000_000, "s"),
            (1_000_000, "ms"),
            (1_000, "us"),
        ];
        for (scale, name) in units {
            if ns >= scale && ns.is_multiple_of(scale) {
                return write!(f, "{}{}", ns / scale, name);
            }
        }
        if ns == 0 {
            return write!(f, "0s");
        }
        write!(f, "{ns}ns")
    }
}
serde_via_str!(Dur, DUR_EXPECTED);
schema_as_text!(Dur, "Duration", DUR_EXPECTED, ["30ms", "1.5s", "2m"]);

/// A bit rate, stored in bits per second. Written with a unit: `bit`, `kbit`, `Mbit`, `Gbit`
/// (also `bps`, `kbps`, `Mbps`, `Gbps` and `/s` forms, all meaning bits per second; k = 1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u64);

impl Rate {
    /// A rate of `bps` bits per second.
    pub const fn from_bits_per_sec(bps: u64) -> Rate {
        Rate(bps)
    }
    /// A rate of `kbps` kilobits (1000 bits) per second.
    pub const fn from_kbit(kbps: u64) -> Rate {
        Rate(kbps * 1000)
    }
    /// The rate in bits per second.
    pub const fn bits_per_sec(self) -> u64 {
        self.0
    }
}

const RATE_EXPECTED: &str = "a rate with a unit, like 256kbit, 1.5Mbit, 64kbps or 12Mbit";

impl FromStr for Rate {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        let err = || UnitError {
            kind: "rate",
            found: s.to_string(),
            expected: RATE_EXPECTED,
        };
        let (v, unit) = split_number(s).ok_or_else(err)?;
        let unit = unit.strip_suffix("/s").unwrap_or(unit);
        let scale = match unit {
            "bit" | "bps" => 1.0,
            "kbit" | "kbps" | "Kbit" | "Kbps" => 1e3,
            "Mbit" | "Mbps" | "mbit" => 1e6,
            "Gbit" | "Gbps" | "gbit" => 1e9,
            _ => return Err(err()),
        };
        match scaled(v, scale) {
            Some(0) | None => Err(err()),
            Some(bps) => Ok(Rate(bps)),
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (scale, name) in [
            (1_000_000_000, "Gbit"),
            (1_000_000, "Mbit"),
            (1_000, "kbit"),
        ] {
            if self.0 >= scale && self.0.is_multiple_of(scale) {
                return write!(f, "{}{}", self.0 / scale, name);
            }
        }
        write!(f, "{}bit", self.0)
    }
}
serde_via_str!(Rate, RATE_EXPECTED);
schema_as_text!(
    Rate,
    "Rate",
    RATE_EXPECTED,
    ["256kbit", "1.5Mbit", "12Mbit"]
);

/// A percentage between 0 % and 100 %, written with a `%` sign ("1%", "0.5%").
#[derive(Debug, Clone, Copy, Default, PartialEq, PartialOrd)]
pub struct Percent(f64);

impl Percent {
    /// 0 %.
    pub const ZERO: Percent = Percent(0.0);
    /// 100 %.
    pub const HUNDRED: Percent = Percent(100.0);
    /// A percentage from its value in percent (0..=100); `None` outside that range.
    pub fn new(percent: f64) -> Option<Percent> {
        (0.0..=100.0).contains(&percent).then_some(Percent(percent))
    }
    /// A percentage from a fraction (0..=1); `None` outside that range.
    pub fn from_fraction(fraction: f64) -> Option<Percent> {
        Percent::new(fraction * 100.0)
    }
    /// The value in percent (0..=100).
    pub fn percent(self) -> f64 {
        self.0
    }
    /// The value as a fraction (0..=1).
    pub fn fraction(self) -> f64 {
        self.0 / 100.0
    }
}

const PERCENT_EXPECTED: &str = "a percentage from 0% to 100% with a % sign, like 1% or 0.5%";

impl FromStr for Percent {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        let err = || UnitError {
            kind: "percentage",
            found: s.to_string(),
            expected: PERCENT_EXPECTED,
        };
        let (v, unit) = split_number(s).ok_or_else(err)?;
        if unit != "%" {
            return Err(err());
        }
        Percent::new(v).ok_or_else(err)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}
serde_via_str!(Percent, PERCENT_EXPECTED);
schema_as_text!(Percent, "Percent", PERCENT_EXPECTED, ["1%", "0.5%"]);

/// A size in bytes. Written with a unit: `B`, `kB` (1000), `KiB` (1024), `MB`, `MiB`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(u64);

impl Bytes {
    /// A size of `n` bytes.
    pub const fn new(n: u64) -> Bytes {
        Bytes(n)
    }
    /// The size in bytes.
    pub const fn get(self) -> u64 {
        self.0
    }
}

const BYTES_EXPECTED: &str = "a size with a unit, like 1500B, 30kB or 64KiB";

impl FromStr for Bytes {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        let err = || UnitError {
            kind: "size",
            found: s.to_string(),
            expected: BYTES_EXPECTED,
        };
        let (v, unit) = split_number(s).ok_or_else(err)?;
        let scale = match unit {
            "B" => 1.0,
            "kB" | "KB" => 1e3,
            "KiB" => 1024.0,
            "MB" => 1e6,
            "MiB" => 1024.0 * 1024.0,
            _ => return Err(err()),
        };
        scaled(v, scale).map(Bytes).ok_or_else(err)
    }
}

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}B", self.0)
    }
}
serde_via_str!(Bytes, BYTES_EXPECTED);
schema_as_text!(Bytes, "Bytes", BYTES_EXPECTED, ["1500B", "30kB", "64KiB"]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_unit() {
        let cases = [
            ("30ms", 30_000_000),
            ("2s", 2_000_000_000),
            ("1.5s", 1_500_000_000),
            ("250us", 250_000),
            ("1m", 60_000_000_000),
            ("0ms", 0),
            ("7ns", 7),
        ];
        for (text, ns) in cases {
            assert_eq!(text.parse::<Dur>().unwrap().as_nanos(), ns, "{text}");
        }
    }

    #[test]
    fn durations_need_a_unit_and_a_sign_free_number() {
        for bad in ["30", "-5ms", "ms", "", "5 parsecs", "1.2.3s"] {
            let e = bad.parse::<Dur>().unwrap_err();
            assert!(e.to_string().contains("like 30ms"), "{bad}: {e}");
        }
    }

    #[test]
    fn durations_print_back_in_the_same_notation() {
        for text in ["30ms", "2s", "250us", "1m", "0s", "7ns", "1500ms"] {
            assert_eq!(text.parse::<Dur>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn rates_parse_and_print() {
        let cases = [
            ("256kbit", 256_000),
            ("1.5Mbit", 1_500_000),
            ("64kbps", 64_000),
            ("12Mbit", 12_000_000),
            ("1Gbit/s", 1_000_000_000),
            ("300bit", 300),
        ];
        for (text, bps) in cases {
            assert_eq!(text.parse::<Rate>().unwrap().bits_per_sec(), bps, "{text}");
        }
        assert_eq!(Rate::from_bits_per_sec(1_500_000).to_string(), "1500kbit");
        assert_eq!(Rate::from_kbit(256).to_string(), "256kbit");
        for bad in ["256", "0kbit", "5 furlongs", "kbit"] {
            let e = bad.parse::<Rate>().unwrap_err();
            assert!(e.to_string().contains("like 256kbit"), "{bad}: {e}");
        }
    }

    #[test]
    fn percentages_stay_within_0_and_100() {
        assert_eq!("1%".parse::<Percent>().unwrap().fraction(), 0.01);
        assert_eq!("0.5%".parse::<Percent>().unwrap().percent(), 0.5);
        assert_eq!("100%".parse::<Percent>().unwrap().fraction(), 1.0);
        for bad in ["140%", "-1%", "1", "0.5", "%"] {
            let e = bad.parse::<Percent>().unwrap_err();
            assert!(e.to_string().contains("from 0% to 100%"), "{bad}: {e}");
        }
        assert_eq!("0.5%".parse::<Percent>().unwrap().to_string(), "0.5%");
    }

    #[test]
    fn sizes_parse() {
        assert_eq!("30000B".parse::<Bytes>().unwrap().get(), 30_000);
        assert_eq!("64KiB".parse::<Bytes>().unwrap().get(), 65_536);
        assert_eq!("30kB".parse::<Bytes>().unwrap().get(), 30_000);
        assert!("30000".parse::<Bytes>().is_err());
    }

    #[test]
    fn serde_reads_text_and_names_the_missing_unit() {
        #[derive(Deserialize, Serialize, Debug, PartialEq)]
        struct S {
            d: Dur,
            r: Rate,
            p: Percent,
        }
        let s: S = serde_yaml::from_str("d: 30ms\nr: 1.5Mbit\np: 2%\n").unwrap();
        assert_eq!(s.d, Dur::from_millis(30));
        let back = serde_yaml::to_string(&s).unwrap();
        assert_eq!(serde_yaml::from_str::<S>(&back).unwrap(), s);
        let e = serde_yaml::from_str::<S>("d: 30\nr: 1Mbit\np: 1%\n").unwrap_err();
        assert!(e.to_string().contains("duration with a unit"), "{e}");
    }
}
