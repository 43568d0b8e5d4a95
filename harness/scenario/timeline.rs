//! Calls and timeline actions: who calls whom and when, and what happens to which link.

use super::de::{from_node, key_path, nearest, one_of, Spanned};
use super::error::{ErrorKind, ScenarioError};
use super::load::Context;
use super::model::*;
use super::raw::{ExpectText, RawAction, RawCall, ThresholdList};
use super::threshold::Threshold;
use super::yaml::{Node, NodeKind};
use crate::net::{DirectionConfig, Which};
use crate::units::Dur;

impl Context {
    /// Checks that a time falls before the scenario's end; reports `why` at it otherwise.
    pub(super) fn before_end(
        &mut self,
        at: &Spanned<super::raw::DurText>,
        total: Dur,
        why: &str,
    ) -> bool {
        if at.value.0 < total {
            return true;
        }
        self.push(
            ScenarioError::at(ErrorKind::BadValue, &at.mark, &at.path, why)
                .expected(format!("a time before the scenario's duration ({total})"))
                .found(format!("`{}`", at.value.0)),
        );
        false
    }

    /// Reports `who` as an unknown `what` (participant, site), listing the known names and
    /// suggesting the nearest.
    pub(super) fn unknown_name(&mut self, what: &str, who: &Spanned<String>, known: &[String]) {
        self.push(
            ScenarioError::at(
                ErrorKind::UnknownName,
                &who.mark,
                &who.path,
                format!("unknown {what} `{}`", who.value),
            )
            .expected(one_of(
                &known.iter().map(String::as_str).collect::<Vec<_>>(),
            ))
            .found(format!("`{}`", who.value))
            .suggest(nearest(&who.value, known.iter().map(String::as_str))),
        );
    }

    fn check_participant(&mut self, who: &Spanned<String>, names: &[String]) -> bool {
        if names.contains(&who.value) {
            return true;
        }
        self.unknown_name("participant", who, names);
        false
    }

    pub(super) fn call(
        &mut self,
        c: &Spanned<RawCall>,
        names: &[String],
        duration: Option<Dur>,
    ) -> Option<CallSpec> {
        let r = &c.value;
        let mut ok = true;
        let caller = match &r.caller {
            Some(x) => Some(x.clone()),
            None => {
                self.missing(&c.mark, &c.path, "caller", "the participant who calls");
                None
            }
        };
        let test_call = r.test_call.as_ref().is_some_and(|t| t.value);
        let callee = match (&r.callee, test_call) {
            (Some(x), false) => Some(x.clone()),
            (None, true) => None,
            (Some(x), true) => {
                self.push(
                    ScenarioError::at(
                        ErrorKind::Conflict,
                        &x.mark,
                        &x.path,
                        "a test call goes to the echo service, not to a participant",
                    )
                    .expected("`test_call: true` without `callee`, or a `callee` without it"),
                );
                ok = false;
                None
            }
            (None, false) => {
                self.missing(&c.mark, &c.path, "callee", "the participant who answers");
                None
            }
        };
        for who in caller.iter().chain(callee.iter()) {
            ok &= self.check_participant(who, names);
        }
        if let (Some(a), Some(b)) = (&caller, &callee) {
            if a.value == b.value {
                self.push(
                    ScenarioError::at(
                        ErrorKind::Conflict,
                        &b.mark,
                        &b.path,
                        format!("`{}` cannot call itself", a.value),
                    )
                    .expected("another participant"),
                );
                ok = false;
            }
        }
        let at = r.at.as_ref().map_or(Dur::ZERO, |d| d.value.0);
        if let (Some(total), Some(a)) = (duration, &r.at) {
            if !self.before_end(a, total, "the call starts after the scenario ends") {
                ok = false;
            }
        }
        if let Some(d) = &r.duration {
            if d.value.0 == Dur::ZERO {
                self.push(
                    ScenarioError::at(
                        ErrorKind::BadValue,
                        &d.mark,
                        &d.path,
                        "a call cannot last 0s",
                    )
                    .expected("a duration above zero, or no `duration` to last until the end"),
                );
                ok = false;
            } else if let Some(total) = duration {
                let end = Dur::from_nanos(at.as_nanos().saturating_add(d.value.0.as_nanos()));
                if end > total {
                    self.push(
                        ScenarioError::at(
                            ErrorKind::BadValue,
                            &d.mark,
                            &d.path,
                            format!("the call would end at {end}, after the scenario's {total}"),
                        )
                        .expected(format!(
                            "at most {}",
                            Dur::from_nanos(total.as_nanos() - at.as_nanos().min(total.as_nanos()))
                        ))
                        .found(format!("`{}`", d.value.0)),
                    );
                    ok = false;
                }
            }
        }
        let expect = match r.expect {
            None | Some(ExpectText(None)) => CallExpect::Connected,
            Some(ExpectText(Some(class))) => CallExpect::Fails(class),
        };
        if let (Some(p), CallExpect::Fails(_)) = (&r.path, &expect) {
            self.push(
                ScenarioError::at(
                    ErrorKind::Conflict,
                    &p.mark,
                    &p.path,
                    "a call expected to fail has no media path to check",
                )
                .expected("`path` on a call that expects `connected`"),
            );
            ok = false;
        }
        let n = self.errors.len();
        let thresholds = self.thresholds(r.thresholds.as_ref());
        let caller_stream = self.thresholds(r.caller_stream.as_ref());
        let callee_stream = self.thresholds(r.callee_stream.as_ref());
        let video = r.video.as_ref().is_some_and(|v| v.value);
        let video_thresholds = |list: &Option<Spanned<ThresholdList>>, ctx: &mut Self| {
            let Some(l) = list else { return Vec::new() };
            if !video {
                ctx.push(
                    ScenarioError::at(
                        ErrorKind::Conflict,
                        &l.mark,
                        &l.path,
                        "video thresholds on a call without video",
                    )
                    .expected("`video: true` on the call, or no video thresholds"),
                );
                return Vec::new();
            }
            ctx.thresholds(Some(&l.value))
        };
        let caller_video = video_thresholds(&r.caller_video, self);
        let callee_video = video_thresholds(&r.callee_video, self);
        // Each metric where it is measured: video metrics on video lists, and only metrics a
        // video stream has there.
        let audio_lists = [
            ("thresholds", r.thresholds.as_ref()),
            ("caller_stream", r.caller_stream.as_ref()),
            ("callee_stream", r.callee_stream.as_ref()),
        ];
        for (field, list) in audio_lists {
            for t in list.iter().flat_map(|l| l.0.iter()) {
                if let Ok(th) = t.value.parse::<Threshold>() {
                    if th.metric.video_only() {
                        self.push(
                            ScenarioError::at(
                                ErrorKind::Conflict,
                                &t.mark,
                                &t.path,
                                format!("`{}` is a video metric, in `{field}`", th.metric.name()),
                            )
                            .expected("video metrics under `caller_video` or `callee_video`"),
                        );
                    }
                }
            }
        }
        for list in [&r.caller_video, &r.callee_video].into_iter().flatten() {
            for t in list.value.0.iter() {
                if let Ok(th) = t.value.parse::<Threshold>() {
                    if !th.metric.on_video() {
                        self.push(
                            ScenarioError::at(
                                ErrorKind::Conflict,
                                &t.mark,
                                &t.path,
                                format!("`{}` is not measured on video", th.metric.name()),
                            )
                            .expected(
                                "freezes, frozen, fps, frames dropped, first frame, black, psnr, \
                                 loss or bitrate",
                            ),
                        );
                    }
                }
            }
        }
        ok &= self.errors.len() == n;
        if !ok {
            return None;
        }
        let callee = match callee {
            Some(c) => c.value,
            None if test_call && ok => TEST_CALL.to_string(),
            None => return None,
        };
        Some(CallSpec {
            caller: caller?.value,
            callee,
            test_call,
            at,
            duration: r.duration.as_ref().map(|d| d.value.0),
            expect,
            thresholds,
            caller_stream,
            callee_stream,
            video,
            caller_video,
            callee_video,
            path: r.path.as_ref().map(|p| p.value),
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn action(
        &mut self,
        a: &Spanned<RawAction>,
        names: &[String],
        (sites, shared_sites): (&[String], &[String]),
        duration: Option<Dur>,
        inline_profiles: &[(String, Node)],
        flows: &[(ActionTarget, Dur, String)],
    ) -> Vec<TimedAction> {
        let r = &a.value;
        let Some(at) = &r.at else {
            self.missing(&a.mark, &a.path, "at", "the time of the action, like `20s`");
            return Vec::new();
        };
        if let Some(total) = duration {
            self.before_end(at, total, "the action comes after the scenario ends");
        }
        if let Some(part) = &r.service {
            return self.service_action(a, part, at);
        }
        let target = match (&r.participant, &r.site) {
            (Some(p), None) => {
                if !self.check_participant(p, names) {
                    return Vec::new();
                }
                ActionTarget::Participant(p.value.clone())
            }
            (None, Some(s)) => {
                if !sites.contains(&s.value) {
                    self.unknown_name("site", s, sites);
                    return Vec::new();
                }
                if !shared_sites.contains(&s.value) {
                    self.push(
                        ScenarioError::at(
                            ErrorKind::BadValue,
                            &s.mark,
                            &s.path,
                            format!("site `{}` has no shared link to act on", s.value),
                        )
                        .expected(if shared_sites.is_empty() {
                            "a site declared under `sites:` with `shared: PROFILE`".to_string()
                        } else {
                            one_of(&shared_sites.iter().map(String::as_str).collect::<Vec<_>>())
                        })
                        .found(format!("`{}`", s.value)),
                    );
                    return Vec::new();
                }
                ActionTarget::Site(s.value.clone())
            }
            (Some(_), Some(s)) => {
                self.push(
                    ScenarioError::at(
                        ErrorKind::Conflict,
                        &s.mark,
                        &s.path,
                        "give `participant` or `site`, not both",
                    )
                    .expected("one link to act on"),
                );
                return Vec::new();
            }
            (None, None) => {
                self.missing(
                    &a.mark,
                    &a.path,
                    "participant",
                    "`participant: NAME`, `site: NAME` or `service: signaling`",
                );
                return Vec::new();
            }
        };
        let given: Vec<&str> = [
            ("outage", r.outage.is_some()),
            ("address_change", r.address_change.is_some()),
            ("profile", r.profile.is_some()),
            ("set", r.set.is_some()),
            ("cross_traffic", r.cross_traffic.is_some()),
            ("cross_traffic_stop", r.cross_traffic_stop.is_some()),
        ]
        .into_iter()
        .filter(|x| x.1)
        .map(|x| x.0)
        .collect();
        const ACTIONS: &str = "one of `outage`, `address_change`, `profile`, `set`, `cross_traffic`, `cross_traffic_stop`";
        if given.len() != 1 {
            let fields = given
                .iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let dropped = given.is_empty()
                && [
                    "outage",
                    "address_change",
                    "profile",
                    "set",
                    "cross_traffic",
                    "cross_traffic_stop",
                ]
                .iter()
                .any(|f| self.removed.contains(&key_path(&a.path, f)));
            if !dropped {
                self.push(
                    ScenarioError::at(
                        if given.is_empty() {
                            ErrorKind::MissingField
                        } else {
                            ErrorKind::Conflict
                        },
                        &a.mark,
                        &a.path,
                        if given.is_empty() {
                            "a timeline entry needs an action".to_string()
                        } else {
                            format!("a timeline entry takes one action, found {fields}")
                        },
                    )
                    .expected(ACTIONS),
                );
            }
            return Vec::new();
        }
        // Which link an action can apply to: a host moves (address change), cross-traffic
        // runs on a site's shared link; outages and profile changes work on either.
        let wrong_target = match (&target, given[0]) {
            (ActionTarget::Site(_), "address_change") => {
                Some("only a participant's host changes address; give `participant: NAME`")
            }
            (ActionTarget::Participant(_), "cross_traffic" | "cross_traffic_stop") => Some(
                "cross-traffic runs on a site's shared link; give `site: NAME` (a site with `shared:`)",
            ),
            _ => None,
        };
        if let Some(why) = wrong_target {
            let (mark, path) = match (&r.participant, &r.site) {
                (Some(p), _) => (&p.mark, &p.path),
                (_, Some(s)) => (&s.mark, &s.path),
                _ => (&a.mark, &a.path),
            };
            self.push(
                ScenarioError::at(
                    ErrorKind::Conflict,
                    mark,
                    path,
                    format!("`{}` cannot apply to {target}", given[0]),
                )
                .expected(why),
            );
            return Vec::new();
        }
        let at_v = at.value.0;
        let one = |action| {
            vec![TimedAction {
                at: at_v,
                target: target.clone(),
                action,
            }]
        };
        if let Some(d) = &r.outage {
            if d.value.0 == Dur::ZERO {
                self.push(
                    ScenarioError::at(
                        ErrorKind::BadValue,
                        &d.mark,
                        &d.path,
                        "an outage cannot last 0s",
                    )
                    .expected("a duration above zero, like `2s`"),
                );
                return Vec::new();
            }
            return one(NetAction::Outage {
                duration: d.value.0,
            });
        }
        if let Some(b) = &r.address_change {
            if !b.value {
                self.push(
                    ScenarioError::at(
                        ErrorKind::BadValue,
                        &b.mark,
                        &b.path,
                        "`address_change` is written `address_change: true`",
                    )
                    .expected("`true`")
                    .found("`false`"),
                );
                return Vec::new();
            }
            if matches!(target, ActionTarget::Site(_)) {
                self.push(
                    ScenarioError::at(
                        ErrorKind::Conflict,
                        &b.mark,
                        &b.path,
                        "only a participant's host changes address",
                    )
                    .expected("`participant: NAME`"),
                );
                return Vec::new();
            }
            return one(NetAction::AddressChange);
        }
        if let Some(p) = &r.profile {
            let Some(profile) = self.resolve_profile(p, &[], inline_profiles) else {
                return Vec::new();
            };
            if let ActionTarget::Site(site) = &target {
                let how = format!("by the timeline on site `{site}`");
                self.check_site_profile(&profile, &p.value, &p.mark, &p.path, &how);
            }
            return one(NetAction::SetProfile {
                profile_name: p.value.clone(),
                profile,
            });
        }
        if let Some(set) = &r.set {
            let mut out = Vec::new();
            for (key, val) in &set.0 {
                let Some(node) = self.opaque_node(val) else {
                    continue;
                };
                let (dir, rest) = key
                    .value
                    .split_once('.')
                    .unwrap_or((key.value.as_str(), ""));
                let direction = match dir {
                    "up" => Which::Up,
                    "down" => Which::Down,
                    "both" => Which::Both,
                    _ => {
                        self.push(
                            ScenarioError::at(
                                ErrorKind::BadValue,
                                &key.mark,
                                &key.path,
                                format!("`{}` does not start with a direction", key.value),
                            )
                            .expected("`up.FIELD`, `down.FIELD` or `both.FIELD`, like `up.delay`")
                            .found(format!("`{}`", key.value))
                            .suggest(
                                nearest(dir, ["up", "down", "both"]).map(|d| format!("{d}.{rest}")),
                            ),
                        );
                        continue;
                    }
                };
                if rest.is_empty() {
                    self.push(
                        ScenarioError::at(
                            ErrorKind::BadValue,
                            &key.mark,
                            &key.path,
                            format!("`{}` names no field", key.value),
                        )
                        .expected("a field after the direction, like `up.delay`"),
                    );
                    continue;
                }
                // Build `{ field: { ...: value } }` and read it as a direction config.
                let mut change_node = node.clone();
                for seg in rest.rsplit('.') {
                    change_node = Node::new(
                        NodeKind::Map(vec![(Node::string(seg, key.mark.clone()), change_node)]),
                        key.mark.clone(),
                    );
                }
                match from_node::<DirectionConfig>(&change_node, &key.path) {
                    Ok(change) => {
                        if let Err(e) = change.validate(&format!("{target} ({dir})")) {
                            self.push(ScenarioError::at(
                                ErrorKind::BadValue,
                                &node.mark,
                                &key.path,
                                e.to_string(),
                            ));
                            continue;
                        }
                        out.push(TimedAction {
                            at: at_v,
                            target: target.clone(),
                            action: NetAction::SetParam {
                                direction,
                                path: rest.to_string(),
                                value: node.to_value(),
                                change,
                            },
                        });
                    }
                    Err(mut e) => {
                        if let Some(l) = &mut e.located {
                            l.path = key.path.clone();
                        }
                        self.push(ScenarioError::from_de(e, &key.mark));
                    }
                }
            }
            return out;
        }
        if let Some(flow) = &r.cross_traffic {
            let Some(node) = self.opaque_node(flow) else {
                return Vec::new();
            };
            return match self.cross_flow(&node, &flow.at.path) {
                Some(flow) => one(NetAction::CrossTrafficStart { flow }),
                None => Vec::new(),
            };
        }
        if let Some(name) = &r.cross_traffic_stop {
            let started: Vec<String> = flows
                .iter()
                .filter(|f| f.0 == target && f.1 <= at_v)
                .map(|f| f.2.clone())
                .collect();
            if !started.contains(&name.value) {
                self.push(
                    ScenarioError::at(
                        ErrorKind::UnknownName,
                        &name.mark,
                        &name.path,
                        format!(
                            "no cross-traffic flow `{}` was started on {target} before {}",
                            name.value, at_v
                        ),
                    )
                    .expected(if started.is_empty() {
                        "the name of a flow started earlier with `cross_traffic:`".to_string()
                    } else {
                        one_of(&started.iter().map(String::as_str).collect::<Vec<_>>())
                    })
                    .found(format!("`{}`", name.value))
                    .suggest(nearest(&name.value, started.iter().map(String::as_str))),
                );
                return Vec::new();
            }
            return one(NetAction::CrossTrafficStop {
                name: name.value.clone(),
            });
        }
        Vec::new()
    }
}
