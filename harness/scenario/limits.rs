//! How big a scenario may be: name lengths, its simulated duration, and the work it asks of
//! the machine, estimated before it runs.
//!
//! The estimate counts what costs time: the emulator's packet events (cross-traffic packets,
//! repeating schedule changes), which it moves at about
//! [`EMULATOR_PACKETS_PER_SEC`], and the calls, each of which runs about
//! [`CALL_REAL_TIME_FACTOR`] times faster than real time (the figures of `cargo bench --bench
//! emulator` and `--bench call` on the reference machine). A scenario is refused, with the
//! field at fault and the limit, above [`MAX_DURATION`], [`MAX_FLOW_PACKET_RATE`] for one flow,
//! [`MAX_PACKET_EVENTS`] or [`MAX_WALL_SECS`] of estimated work; above [`WARN_WALL_SECS`] it
//! loads with a warning that `validate` and `run` print before anything runs.

use super::de::key_path;
use super::error::{ErrorKind, ScenarioError};
use super::load::Context;
use super::model::*;
use super::raw::RawScenario;
use super::yaml::Mark;
use crate::net::TrafficPattern;
use crate::units::Dur;

/// Longest name a scenario, participant, site, template, profile or cross-traffic flow may
/// have, in bytes: names become file names (packet captures) and report headings.
pub const MAX_NAME_LEN: usize = 100;
/// Longest simulated duration of a scenario: 24 hours.
pub const MAX_DURATION: Dur = Dur::from_secs(24 * 3600);
/// Most packets per second (of simulated time) one cross-traffic flow may send: its `rate`
/// divided by its mean packet size. 2 M/s is 24 Gbit/s of 1500-byte packets.
pub const MAX_FLOW_PACKET_RATE: f64 = 2e6;
/// Most packet events (cross-traffic packets and repeating network changes) the emulator may
/// be asked for in one scenario: about three minutes of its work.
pub const MAX_PACKET_EVENTS: f64 = 1e10;
/// Most estimated wall-clock time of one scenario, seconds (one hour).
pub const MAX_WALL_SECS: f64 = 3600.0;
/// Estimated wall-clock time above which a scenario loads with a warning, seconds.
pub const WARN_WALL_SECS: f64 = 300.0;
/// Packets the emulator moves per second of wall-clock time (measured: `--bench emulator`).
pub const EMULATOR_PACKETS_PER_SEC: f64 = 57e6;
/// How many times faster than real time one call runs (measured: `--bench call`).
pub const CALL_REAL_TIME_FACTOR: f64 = 430.0;

/// The work a scenario asks for, estimated from its parts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkEstimate {
    /// Simulated seconds.
    pub sim_secs: f64,
    /// Cross-traffic packets of every flow, each with its target, start and name.
    pub flows: Vec<(ActionTarget, Dur, String, f64)>,
    /// Occurrences of repeating schedule entries, by the participant or site whose profile
    /// holds them.
    pub schedules: Vec<(ActionTarget, f64)>,
    /// Seconds of calls, summed over the calls.
    pub call_secs: f64,
    /// Number of calls.
    pub calls: usize,
}

impl WorkEstimate {
    /// Packet events: cross-traffic packets and repeating schedule changes.
    pub fn packet_events(&self) -> f64 {
        self.flows.iter().map(|f| f.3).sum::<f64>()
            + self.schedules.iter().map(|s| s.1).sum::<f64>()
    }

    /// Estimated wall-clock seconds to run the scenario.
    pub fn wall_secs(&self) -> f64 {
        self.packet_events() / EMULATOR_PACKETS_PER_SEC + self.call_secs / CALL_REAL_TIME_FACTOR
    }

    /// The estimate in words: "2 calls lasting 48h in all, 1.2e9 cross-traffic packets".
    pub fn describe(&self) -> String {
        let cross: f64 = self.flows.iter().map(|f| f.3).sum();
        let sched: f64 = self.schedules.iter().map(|s| s.1).sum();
        let mut parts = vec![if self.calls == 0 {
            "no calls".to_string()
        } else {
            format!(
                "{} call{} lasting {} in all (~{} at {}x real time)",
                self.calls,
                if self.calls == 1 { "" } else { "s" },
                human_secs(self.call_secs),
                human_secs(self.call_secs / CALL_REAL_TIME_FACTOR),
                CALL_REAL_TIME_FACTOR
            )
        }];
        if cross > 0.0 {
            parts.push(format!(
                "{} cross-traffic packets (~{} at {} M packets/s)",
                count(cross),
                human_secs(cross / EMULATOR_PACKETS_PER_SEC),
                EMULATOR_PACKETS_PER_SEC / 1e6
            ));
        }
        if sched > 0.0 {
            parts.push(format!("{} repeated network changes", count(sched)));
        }
        parts.join(", ")
    }
}

/// A count for messages: `2000000`, `3.4e10`.
pub fn count(n: f64) -> String {
    if n < 1e9 {
        format!("{}", n.round() as u64)
    } else {
        format!("{n:.1e}")
    }
}

/// Seconds for messages: `40 s`, `7 min`, `3.2 h`.
pub fn human_secs(s: f64) -> String {
    if s < 120.0 {
        format!("{} s", s.round() as u64)
    } else if s < 3600.0 {
        format!("{} min", (s / 60.0).round() as u64)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// Packets per second a flow sends while on.
pub fn flow_packet_rate(f: &CrossTrafficFlow) -> f64 {
    f.rate_bps() as f64 / (f.mean_size().max(1.0) * 8.0)
}

/// What one packet of a TCP flow costs, in the estimate's packet events: measured at about
/// 3 us of wall time per segment (its stack, its hops and the event loop), 170 times an
/// emulator packet event.
const TCP_PACKET_WEIGHT: f64 = 170.0;

/// A TCP flow's packet events per second: its segments at its `rate` cap, else at its shared
/// link's rate in its direction (else 1 Gbit/s), of 1500 bytes, and an ACK for every two.
fn tcp_packet_events(s: &Scenario, target: &ActionTarget, f: &CrossTrafficFlow) -> f64 {
    let link = match target {
        ActionTarget::Site(site) => s
            .sites
            .iter()
            .find(|x| &x.name == site)
            .and_then(|x| x.shared.as_ref())
            .and_then(|(_, p)| match f.direction {
                crate::net::FlowDirection::Up => p.up_config().rate,
                crate::net::FlowDirection::Down => p.down_config().rate,
            }),
        _ => None,
    };
    let bps = f.rate.or(link).map_or(1e9, |r| r.bits_per_sec() as f64);
    bps / (1500.0 * 8.0) * 1.5 * TCP_PACKET_WEIGHT
}

/// The share of time a flow is on.
fn on_share(f: &CrossTrafficFlow) -> f64 {
    match f.pattern {
        TrafficPattern::Constant => 1.0,
        TrafficPattern::OnOff { on, off } => {
            let cycle = on.as_nanos() as f64 + off.as_nanos() as f64;
            if cycle > 0.0 {
                on.as_nanos() as f64 / cycle
            } else {
                1.0
            }
        }
    }
}

/// Occurrences of a profile's repeating schedule entries within `end`.
fn schedule_events(p: &crate::net::LinkProfile, end: Dur) -> f64 {
    p.schedule
        .iter()
        .filter_map(|e| {
            let every = e.every?.as_nanos().max(1) as f64;
            let stop = e.until.map_or(end, |u| u.min(end)).as_nanos() as f64;
            let first = e.first_time() as f64;
            Some(((stop - first) / every).max(0.0))
        })
        .sum()
}

/// Estimates the work of a scenario.
pub fn estimate(s: &Scenario) -> WorkEstimate {
    let end = s.duration;
    let mut w = WorkEstimate {
        sim_secs: end.as_secs_f64(),
        calls: s.calls.len(),
        ..WorkEstimate::default()
    };
    for c in &s.calls {
        let d = c.duration.unwrap_or(Dur::from_nanos(
            end.as_nanos().saturating_sub(c.at.as_nanos()),
        ));
        w.call_secs += d.as_secs_f64();
    }
    for a in &s.timeline {
        if let NetAction::CrossTrafficStart { flow } = &a.action {
            let stop = s
                .timeline
                .iter()
                .find(|b| {
                    b.target == a.target
                        && b.at >= a.at
                        && matches!(&b.action, NetAction::CrossTrafficStop { name } if *name == flow.name)
                })
                .map_or(end, |b| b.at.min(end));
            let secs = stop.as_secs_f64() - a.at.as_secs_f64();
            let packets = if flow.transport == crate::net::cross::FlowTransport::Tcp {
                tcp_packet_events(s, &a.target, flow) * secs.max(0.0)
            } else {
                flow_packet_rate(flow) * on_share(flow) * secs.max(0.0)
            };
            w.flows
                .push((a.target.clone(), a.at, flow.name.clone(), packets));
        }
    }
    for p in &s.participants {
        let n = schedule_events(&p.profile, end);
        if n > 0.0 {
            w.schedules
                .push((ActionTarget::Participant(p.name.clone()), n));
        }
    }
    for site in &s.sites {
        if let Some((_, profile)) = &site.shared {
            let n = schedule_events(profile, end);
            if n > 0.0 {
                w.schedules.push((ActionTarget::Site(site.name.clone()), n));
            }
        }
    }
    w
}

impl Context {
    /// Refuses a name longer than [`MAX_NAME_LEN`]; true when it is within.
    pub(super) fn name_ok(&mut self, what: &str, name: &str, mark: &Mark, path: &str) -> bool {
        if name.len() <= MAX_NAME_LEN {
            return true;
        }
        self.push(
            ScenarioError::at(
                ErrorKind::BadValue,
                mark,
                path,
                format!("a {what} name of {} bytes is too long", name.len()),
            )
            .expected(format!("at most {MAX_NAME_LEN} bytes"))
            .found(format!("`{name}`")),
        );
        false
    }

    /// Refuses a scenario duration over [`MAX_DURATION`].
    pub(super) fn duration_ok(&mut self, d: Dur, mark: &Mark, path: &str) -> bool {
        if d <= MAX_DURATION {
            return true;
        }
        self.push(
            ScenarioError::at(
                ErrorKind::BadValue,
                mark,
                path,
                format!("a scenario of {d} is longer than the limit of {MAX_DURATION}"),
            )
            .expected(format!(
                "a duration of at most {MAX_DURATION} (simulated time; split longer runs)"
            ))
            .found(format!("`{d}`")),
        );
        false
    }

    /// Refuses a flow sending more than [`MAX_FLOW_PACKET_RATE`] packets per second, at its
    /// `rate` (`rate_at`, with its path).
    pub(super) fn flow_rate_ok(
        &mut self,
        flow: &CrossTrafficFlow,
        rate_at: &Mark,
        rate_path: &str,
    ) -> bool {
        let pps = flow_packet_rate(flow);
        if pps <= MAX_FLOW_PACKET_RATE {
            return true;
        }
        self.push(
            ScenarioError::at(
                ErrorKind::BadValue,
                rate_at,
                rate_path,
                format!(
                    "cross-traffic flow `{}` would send {} packets per second, over the limit of {}",
                    flow.name,
                    count(pps),
                    count(MAX_FLOW_PACKET_RATE)
                ),
            )
            .expected(format!(
                "at most {} packets per second per flow (`rate` / mean packet size): a lower \
                 `rate` or larger packets",
                count(MAX_FLOW_PACKET_RATE)
            ))
            .found(format!("{} of {} B packets", flow.rate.unwrap_or(crate::units::Rate::from_bits_per_sec(0)), flow.mean_size())),
        );
        false
    }

    /// Estimates the work of a built scenario: refuses it above [`MAX_PACKET_EVENTS`] or
    /// [`MAX_WALL_SECS`], at the part that costs most, and returns a warning above
    /// [`WARN_WALL_SECS`].
    pub(super) fn check_work(&mut self, s: &Scenario, raw: &RawScenario) -> Option<ScenarioError> {
        let w = estimate(s);
        let (dmark, dpath) = match &raw.duration {
            Some(d) => (d.mark.clone(), d.path.clone()),
            None => (self.root.mark.clone(), String::new()),
        };
        let events = w.packet_events();
        if events > MAX_PACKET_EVENTS {
            let (mark, path, what) = self.costliest(&w, raw).unwrap_or((
                dmark.clone(),
                dpath.clone(),
                "the scenario".to_string(),
            ));
            self.push(
                ScenarioError::at(
                    ErrorKind::BadValue,
                    &mark,
                    &path,
                    format!(
                        "this scenario asks for {} packet events, over the limit of {} ({what} costs most)",
                        count(events),
                        count(MAX_PACKET_EVENTS)
                    ),
                )
                .expected(format!(
                    "at most {} packet events (cross-traffic packets and repeated network \
                     changes) per scenario: a shorter `duration`, a lower `rate` or larger packets",
                    count(MAX_PACKET_EVENTS)
                ))
                .found(w.describe()),
            );
            return None;
        }
        let wall = w.wall_secs();
        if wall > MAX_WALL_SECS {
            self.push(
                ScenarioError::at(
                    ErrorKind::BadValue,
                    &dmark,
                    &dpath,
                    format!(
                        "this scenario would take about {} to run, over the limit of {}",
                        human_secs(wall),
                        human_secs(MAX_WALL_SECS)
                    ),
                )
                .expected(format!(
                    "at most {} of estimated work per scenario: fewer or shorter calls, or \
                     split it into several scenarios",
                    human_secs(MAX_WALL_SECS)
                ))
                .found(w.describe()),
            );
            return None;
        }
        (wall > WARN_WALL_SECS).then(|| {
            ScenarioError::at(
                ErrorKind::BadValue,
                &dmark,
                &dpath,
                format!("this scenario will take about {} to run", human_secs(wall)),
            )
            .expected(format!(
                "under {} of estimated work for no warning (refused above {})",
                human_secs(WARN_WALL_SECS),
                human_secs(MAX_WALL_SECS)
            ))
            .found(w.describe())
            .warning()
        })
    }

    /// Where the costliest part of the estimate was written: a flow's `rate`, or the
    /// `network`/`shared` profile name whose schedule repeats.
    fn costliest(&self, w: &WorkEstimate, raw: &RawScenario) -> Option<(Mark, String, String)> {
        let flow = w.flows.iter().max_by(|a, b| a.3.total_cmp(&b.3));
        let sched = w.schedules.iter().max_by(|a, b| a.1.total_cmp(&b.1));
        let flow_first = match (flow, sched) {
            (Some(f), Some(s)) => f.3 >= s.1,
            (f, _) => f.is_some(),
        };
        if flow_first {
            let (target, at, name, _) = flow?;
            for a in raw.timeline.iter().flatten() {
                let r = &a.value;
                let here = match (&r.participant, &r.site) {
                    (None, Some(s)) => ActionTarget::Site(s.value.clone()),
                    (Some(p), None) => ActionTarget::Participant(p.value.clone()),
                    _ => continue,
                };
                let Some(node) = r.cross_traffic.as_ref().and_then(|c| self.opaque_node(c)) else {
                    continue;
                };
                if here == *target
                    && r.at.as_ref().map(|x| x.value.0) == Some(*at)
                    && node.get("name").and_then(|n| n.as_str()) == Some(name)
                {
                    let rate = node.get("rate").unwrap_or(&node);
                    let path = key_path(&r.cross_traffic.as_ref()?.at.path, "rate");
                    return Some((
                        rate.mark.clone(),
                        path,
                        format!("cross-traffic flow `{name}`"),
                    ));
                }
            }
            return None;
        }
        let (who, _) = sched?;
        match who {
            ActionTarget::Participant(p) => {
                let (_, part) = raw
                    .participants
                    .as_ref()?
                    .value
                    .0
                    .iter()
                    .find(|(k, _)| k.value == *p)?;
                let n = part.value.network.as_ref()?;
                Some((
                    n.mark.clone(),
                    n.path.clone(),
                    format!("the schedule of {p}'s profile"),
                ))
            }
            ActionTarget::Site(site) => {
                let (_, s) = raw
                    .sites
                    .as_ref()?
                    .0
                    .iter()
                    .find(|(k, _)| k.value == *site)?;
                let n = s.value.shared.as_ref()?;
                Some((
                    n.mark.clone(),
                    n.path.clone(),
                    format!("the schedule of site {site}'s shared profile"),
                ))
            }
            ActionTarget::Service => None,
        }
    }
}
