//! Timed changes to a link: phases (new parameters from a moment on), outages, and address
//! changes (roaming), once or periodically.
//!
//! In a profile:
//! ```yaml
//! schedule:
//!   - at: 10s
//!     name: congested            # optional label shown on the report's time axis
//!     set: { both: { loss: { random: { rate: 3% } } } }
//!   - at: 5s
//!     outage: 300ms              # down in both directions
//!   - at: 20s
//!     address_change: true       # the host gets a new address
//!   - every: 30s                 # roaming: every 30 s from 30 s on (until: optional end)
//!     start: 30s
//!     outage: 200ms
//!     address_change: true
//! ```
//! An entry applies to the attachment whose profile holds it: a host's access link, a site's
//! shared link or a core path (address changes only make sense for hosts). The network runs
//! the entries in time order with its packets ([`crate::net::Network`]).
//!
//! ```
//! use callharness::net::schedule::ScheduleEntry;
//! let e: ScheduleEntry = serde_yaml::from_str("{every: 30s, start: 30s, outage: 200ms}").unwrap();
//! assert_eq!(e.first_time(), 30_000_000_000);
//! assert_eq!(e.next_after(30_000_000_000), Some(60_000_000_000));
//! ```

use crate::net::config::{DirectionConfig, Which};
use crate::net::error::NetError;
use crate::net::Nanos;
use crate::units::Dur;
use serde::{Deserialize, Serialize};

/// One timed change, once (`at`) or periodic (`every`, from `start`, until `until`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEntry {
    /// When a one-off change happens, a duration since the run started (like `10s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Dur>,
    /// Period of a repeating change, a duration (like `30s`; above 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<Dur>,
    /// First occurrence of a repeating change, a duration (default: one period in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Dur>,
    /// No occurrence at or after this time, a duration (default: never stops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Dur>,
    /// A label for the phase, shown in reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New parameters from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<PhaseSet>,
    /// The link goes down, in both directions, for this long (a duration, like `300ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outage: Option<Dur>,
    /// `true`: the host gets a new address.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub address_change: bool,
    /// The phase's `set` replaces the link's whole configuration instead of changing the fields
    /// it names (a scenario switching a participant to another profile). Not a file field.
    #[serde(skip)]
    pub replace: bool,
}

/// Parameters a phase changes, per direction (`both`, then `up` / `down` on top).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseSet {
    /// Changes for both directions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub both: Option<DirectionConfig>,
    /// Changes for the up direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up: Option<DirectionConfig>,
    /// Changes for the down direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<DirectionConfig>,
}

impl PhaseSet {
    /// A change of `cfg` for the directions `which` names.
    pub fn for_direction(cfg: DirectionConfig, which: Which) -> PhaseSet {
        match which {
            Which::Up => PhaseSet {
                up: Some(cfg),
                ..PhaseSet::default()
            },
            Which::Down => PhaseSet {
                down: Some(cfg),
                ..PhaseSet::default()
            },
            Which::Both => PhaseSet {
                both: Some(cfg),
                ..PhaseSet::default()
            },
        }
    }

    /// The change for the up direction, if any.
    pub fn up_change(&self) -> Option<DirectionConfig> {
        combine(&self.both, &self.up)
    }

    /// The change for the down direction, if any.
    pub fn down_change(&self) -> Option<DirectionConfig> {
        combine(&self.both, &self.down)
    }
}

fn combine(
    both: &Option<DirectionConfig>,
    one: &Option<DirectionConfig>,
) -> Option<DirectionConfig> {
    match (both, one) {
        (None, None) => None,
        (Some(b), None) => Some(b.clone()),
        (None, Some(o)) => Some(o.clone()),
        (Some(b), Some(o)) => Some(b.overlay(o)),
    }
}

impl ScheduleEntry {
    /// A one-off outage.
    pub fn outage_at(at: Nanos, dur: Nanos) -> ScheduleEntry {
        ScheduleEntry {
            at: Some(Dur::from_nanos(at)),
            outage: Some(Dur::from_nanos(dur)),
            ..ScheduleEntry::default()
        }
    }

    /// A one-off address change.
    pub fn address_change_at(at: Nanos) -> ScheduleEntry {
        ScheduleEntry {
            at: Some(Dur::from_nanos(at)),
            address_change: true,
            ..ScheduleEntry::default()
        }
    }

    /// A switch to another profile at `at`: both directions replaced whole, labelled with the
    /// profile's name.
    pub fn profile_switch_at(at: Nanos, profile: &crate::net::LinkProfile) -> ScheduleEntry {
        ScheduleEntry {
            name: Some(profile.name.clone()),
            replace: true,
            ..ScheduleEntry::phase_at(
                at,
                PhaseSet {
                    up: Some(profile.up_config()),
                    down: Some(profile.down_config()),
                    both: None,
                },
            )
        }
    }

    /// A one-off phase change.
    pub fn phase_at(at: Nanos, set: PhaseSet) -> ScheduleEntry {
        ScheduleEntry {
            at: Some(Dur::from_nanos(at)),
            set: Some(set),
            ..ScheduleEntry::default()
        }
    }

    /// Checks that the entry has a time and something to do; `label` names it in errors.
    pub fn validate(&self, label: &str) -> Result<(), NetError> {
        let err = |field: &str, msg: &str| Err(NetError::config(label, field, msg));
        match (self.at, self.every) {
            (None, None) => return err(
                "at",
                "give `at: <time>` for a one-off change or `every: <period>` for a repeating one",
            ),
            (Some(_), Some(_)) => return err("every", "give either `at` or `every`, not both"),
            (Some(_), None) if self.start.is_some() || self.until.is_some() => {
                return err(
                    "start",
                    "`start` and `until` go with `every`, not with `at`",
                )
            }
            (None, Some(e)) if e.as_nanos() == 0 => {
                return err("every", "the period must be above 0")
            }
            _ => {}
        }
        if self.set.is_none() && self.outage.is_none() && !self.address_change {
            return err(
                "set",
                "the entry does nothing: give `set`, `outage` or `address_change: true`",
            );
        }
        if let Some(set) = &self.set {
            if let Some(c) = set.up_change() {
                c.validate(&format!("{label} (up)"))?;
            }
            if let Some(c) = set.down_change() {
                c.validate(&format!("{label} (down)"))?;
            }
        }
        Ok(())
    }

    /// The time of the first occurrence, ns.
    pub fn first_time(&self) -> Nanos {
        match (self.at, self.every) {
            (Some(at), _) => at.as_nanos(),
            (None, Some(every)) => self.start.unwrap_or(every).as_nanos(),
            (None, None) => 0,
        }
    }

    /// The occurrence after the one at `t`, if the entry repeats and has not ended.
    pub fn next_after(&self, t: Nanos) -> Option<Nanos> {
        let every = self.every?.as_nanos();
        let next = t + every;
        match self.until {
            Some(u) if next >= u.as_nanos() => None,
            _ => Some(next),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_must_have_a_time_and_an_action() {
        let e = |y: &str| {
            serde_yaml::from_str::<ScheduleEntry>(y)
                .unwrap()
                .validate("profile x, schedule entry 1")
                .unwrap_err()
                .to_string()
        };
        assert!(e("{outage: 1s}").contains("give `at: <time>`"));
        assert!(e("{at: 1s}").contains("does nothing"));
        assert!(e("{at: 1s, every: 2s, outage: 1s}").contains("not both"));
        assert!(e("{at: 1s, start: 2s, outage: 1s}").contains("go with `every`"));
    }

    #[test]
    fn periodic_entries_repeat_until_their_end() {
        let e: ScheduleEntry =
            serde_yaml::from_str("{every: 10s, until: 35s, address_change: true}").unwrap();
        let mut times = vec![e.first_time()];
        while let Some(t) = e.next_after(*times.last().unwrap()) {
            times.push(t);
        }
        assert_eq!(times, [10, 20, 30].map(|s| s * 1_000_000_000));
    }

    #[test]
    fn phase_sets_combine_both_with_one_direction() {
        let s: PhaseSet =
            serde_yaml::from_str("{both: {delay: 5ms, mtu: 1400}, up: {delay: 9ms}}").unwrap();
        assert_eq!(s.up_change().unwrap().delay, Some(Dur::from_millis(9)));
        assert_eq!(s.up_change().unwrap().mtu, Some(1400));
        assert_eq!(s.down_change().unwrap().delay, Some(Dur::from_millis(5)));
    }
}
