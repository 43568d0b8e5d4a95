//! IMs and presence looks on the timeline (`im:`, `presence_of:` with their `expect`),
//! checked into [`ServiceCheck`]s.

use super::de::Spanned;
use super::error::{ErrorKind, ScenarioError};
use super::load::Context;
use super::model::*;
use super::raw::RawAction;
use crate::service::Availability;
use crate::units::Dur;

impl Context {
    /// A contact-list change on the timeline (`add_contact`, `remove_contact`, `block`,
    /// `unblock`): `None` when the entry is not one, `Some(None)` after an error.
    pub(super) fn contact_change(
        &mut self,
        a: &Spanned<RawAction>,
        names: &[String],
    ) -> Option<Option<ServiceCheck>> {
        let r = &a.value;
        let ops = [
            (ContactOp::Add, &r.add_contact),
            (ContactOp::Remove, &r.remove_contact),
            (ContactOp::Block, &r.block),
            (ContactOp::Unblock, &r.unblock),
        ];
        let given: Vec<(ContactOp, &Spanned<String>)> = ops
            .iter()
            .filter_map(|(op, v)| v.as_ref().map(|v| (*op, v)))
            .collect();
        let (op, address) = *given.first()?;
        let mut others = vec![
            ("im", r.im.is_some()),
            ("presence_of", r.presence_of.is_some()),
            ("publish", r.publish.is_some()),
            ("expect", r.expect.is_some()),
            ("text", r.text.is_some()),
            ("code", r.code.is_some()),
        ];
        others.extend(network_fields(r));
        let second = given.get(1).map(|(o, _)| o.field());
        if let Some(field) = second.or(others.iter().find(|x| x.1).map(|x| x.0)) {
            self.push(
                ScenarioError::at(
                    ErrorKind::Conflict,
                    &address.mark,
                    &address.path,
                    format!("`{}` and `{field}` in one timeline entry", op.field()),
                )
                .expected("one action per entry"),
            );
            return Some(None);
        }
        let Some((at, participant)) =
            self.actor(a, names, None, "the participant whose contact list changes")
        else {
            return Some(None);
        };
        if !self.typed_address(address) {
            return Some(None);
        }
        Some(Some(ServiceCheck {
            at,
            participant,
            what: ServiceAsk::Contact {
                op,
                address: address.value.clone(),
            },
        }))
    }
    /// `scope: follows-user bob`: a scope verdict and an optional subject. `Some(None)` when
    /// absent; `None` after an error.
    #[allow(clippy::type_complexity)]
    pub(super) fn expect_scope(
        &mut self,
        raw: Option<&Spanned<String>>,
    ) -> Option<Option<(crate::report::scope::ScopeVerdict, Option<String>)>> {
        use crate::report::scope::ScopeVerdict;
        let Some(text) = raw else {
            return Some(None);
        };
        let mut words = text.value.split_whitespace();
        let name = words.next().unwrap_or("");
        let subject = words.next().map(str::to_string);
        let known: Vec<&str> = ScopeVerdict::ALL.iter().map(|v| v.as_str()).collect();
        let Some(v) = ScopeVerdict::ALL.into_iter().find(|v| v.as_str() == name) else {
            self.push(
                ScenarioError::at(
                    ErrorKind::BadValue,
                    &text.mark,
                    &text.path,
                    format!("`{name}` is not a scope verdict"),
                )
                .expected(format!(
                    "a verdict and optionally its subject, like `follows-user bob`: {}",
                    super::de::one_of(&known)
                ))
                .suggest(super::de::nearest(name, known.iter().copied())),
            );
            return None;
        };
        if words.next().is_some() {
            self.push(
                ScenarioError::at(
                    ErrorKind::BadValue,
                    &text.mark,
                    &text.path,
                    "a scope is a verdict and one subject",
                )
                .expected("like `follows-user bob` or `shared-domain fabrikam.com`")
                .found(format!("`{}`", text.value)),
            );
            return None;
        }
        Some(Some((v, subject)))
    }
    /// An IM or a presence look on the timeline:
    /// `{ at: 5s, participant: alice, im: bob@fabrikam.com, expect: domain-not-federated }`.
    pub(super) fn service_check(
        &mut self,
        a: &Spanned<RawAction>,
        names: &[String],
        duration: Option<Dur>,
    ) -> Option<ServiceCheck> {
        use crate::service::{PresenceView, Refusal};
        let r = &a.value;
        let (at, participant) = self.actor(
            a,
            names,
            duration,
            "the participant whose client sends the IM or looks",
        )?;
        let mut others = network_fields(r).to_vec();
        others.extend([
            ("presence_of", r.im.is_some() && r.presence_of.is_some()),
            (
                "publish",
                (r.im.is_some() || r.presence_of.is_some()) && r.publish.is_some(),
            ),
        ]);
        if let Some((field, _)) = others.iter().find(|x| x.1) {
            let what = if r.im.is_some() {
                "im"
            } else if r.presence_of.is_some() {
                "presence_of"
            } else {
                "publish"
            };
            let (mark, path) =
                r.im.as_ref()
                    .or(r.presence_of.as_ref())
                    .or(r.publish.as_ref())
                    .map(|x| (&x.mark, &x.path))?;
            self.push(
                ScenarioError::at(
                    ErrorKind::Conflict,
                    mark,
                    path,
                    format!("`{what}` and `{field}` in one timeline entry"),
                )
                .expected("one action per entry"),
            );
            return None;
        }
        let what = if let Some(to) = &r.im {
            if !self.typed_address(to) {
                return None;
            }
            let expect = match &r.expect {
                None => None,
                Some(e) if e.value == "delivered" => Some(ImExpect::Delivered),
                Some(e) if e.value == "refused" => Some(ImExpect::Refused {
                    class: None,
                    code: None,
                }),
                Some(e) => match Refusal::ALL.into_iter().find(|c| c.class() == e.value) {
                    Some(c) => Some(ImExpect::Refused {
                        class: Some(c),
                        code: None,
                    }),
                    None => {
                        let mut known = vec!["delivered", "refused"];
                        known.extend(Refusal::ALL.iter().map(|c| c.class()));
                        self.not_one_of(e, "an IM outcome", &known);
                        return None;
                    }
                },
            };
            let expect = match (expect, &r.code) {
                (Some(ImExpect::Refused { class, .. }), Some(c)) => Some(ImExpect::Refused {
                    class,
                    code: Some(c.value),
                }),
                (_, Some(c)) => {
                    self.push(
                        ScenarioError::at(
                            ErrorKind::Conflict,
                            &c.mark,
                            &c.path,
                            "`code` goes with an IM expected to be refused",
                        )
                        .expected("`expect: refused` (or a refusal class) beside `code`"),
                    );
                    return None;
                }
                (e, None) => e,
            };
            ServiceAsk::Im {
                to: to.value.clone(),
                text: r.text.as_ref().map_or("hello".into(), |t| t.value.clone()),
                expect,
            }
        } else if let Some(state) = &r.publish {
            let stray = r
                .expect
                .as_ref()
                .map(|x| ("expect", &x.mark, &x.path))
                .or(r.text.as_ref().map(|t| ("text", &t.mark, &t.path)))
                .or(r.code.as_ref().map(|c| ("code", &c.mark, &c.path)));
            if let Some((field, mark, path)) = stray {
                self.push(
                    ScenarioError::at(
                        ErrorKind::Conflict,
                        mark,
                        path,
                        format!("`{field}` does not go with `publish`"),
                    )
                    .expected("`publish: STATE` alone; look with `presence_of` to check it"),
                );
                return None;
            }
            ServiceAsk::Publish {
                state: self.presence_state(state, false)?,
            }
        } else {
            let of = r.presence_of.as_ref()?;
            if !self.typed_address(of) {
                return None;
            }
            let stray = r
                .text
                .as_ref()
                .map(|t| ("text", &t.mark, &t.path))
                .or(r.code.as_ref().map(|c| ("code", &c.mark, &c.path)));
            if let Some((field, mark, path)) = stray {
                self.push(
                    ScenarioError::at(
                        ErrorKind::Conflict,
                        mark,
                        path,
                        format!("`{field}` goes with `im`, not `presence_of`"),
                    )
                    .expected("`expect` with a presence state"),
                );
                return None;
            }
            let expect = match &r.expect {
                None => None,
                Some(e) if e.value == "unknown" => Some(PresenceView::Unknown),
                Some(e) => Some(PresenceView::Shown(self.presence_state(e, true)?)),
            };
            ServiceAsk::Presence {
                of: of.value.clone(),
                expect,
            }
        };
        Some(ServiceCheck {
            at,
            participant,
            what,
        })
    }

    /// `expect`, `code` and `text` belong to IMs and presence looks: refused on a network
    /// action.
    pub(super) fn no_check_fields(&mut self, a: &Spanned<RawAction>) {
        let r = &a.value;
        let stray = [
            r.expect.as_ref().map(|x| ("expect", &x.mark, &x.path)),
            r.text.as_ref().map(|x| ("text", &x.mark, &x.path)),
            r.code.as_ref().map(|x| ("code", &x.mark, &x.path)),
        ];
        for (field, mark, path) in stray.into_iter().flatten() {
            self.push(
                ScenarioError::at(
                    ErrorKind::Conflict,
                    mark,
                    path,
                    format!("`{field}` goes with `im` or `presence_of`"),
                )
                .expected("`im: ADDRESS` or `presence_of: ADDRESS` in the same entry"),
            );
        }
    }

    /// The time and participant of a service action (both required, the time before the
    /// end, the participant known); `who` says what the participant does.
    fn actor(
        &mut self,
        a: &Spanned<RawAction>,
        names: &[String],
        duration: Option<Dur>,
        who: &str,
    ) -> Option<(Dur, String)> {
        let r = &a.value;
        let Some(at) = &r.at else {
            self.missing(&a.mark, &a.path, "at", "the time of the action, like `20s`");
            return None;
        };
        if let Some(total) = duration {
            if !self.before_end(at, total, "the action comes after the scenario ends") {
                return None;
            }
        }
        let Some(p) = &r.participant else {
            self.missing(&a.mark, &a.path, "participant", who);
            return None;
        };
        if !names.contains(&p.value) {
            self.unknown_name("participant", p, names);
            return None;
        }
        Some((at.value.0, p.value.clone()))
    }

    /// Checks an address as a user types it (`bob@fabrikam.com`, `pat(home.org)@msn.com`).
    fn typed_address(&mut self, x: &Spanned<String>) -> bool {
        let ok = x.value.contains('@') && !x.value.chars().any(char::is_whitespace);
        if !ok {
            self.push(
                ScenarioError::at(ErrorKind::BadValue, &x.mark, &x.path, "not an address")
                    .expected("an address as a user would type it, like `bob@fabrikam.com`")
                    .found(format!("`{}`", x.value)),
            );
        }
        ok
    }

    /// The presence state `x` names (`do-not-disturb`); an error listing the states (and
    /// `unknown`, when `or_unknown` says a look may expect it) otherwise.
    fn presence_state(&mut self, x: &Spanned<String>, or_unknown: bool) -> Option<Availability> {
        let found = Availability::ALL
            .into_iter()
            .find(|a| kebab(a.label()) == x.value);
        if found.is_none() {
            let names: Vec<String> = or_unknown
                .then(|| "unknown".to_string())
                .into_iter()
                .chain(Availability::ALL.iter().map(|a| kebab(a.label())))
                .collect();
            let known: Vec<&str> = names.iter().map(String::as_str).collect();
            self.not_one_of(x, "a presence state", &known);
        }
        found
    }

    /// Reports `x` as not `what` (`a presence state`), listing `known` and the nearest.
    fn not_one_of(&mut self, x: &Spanned<String>, what: &str, known: &[&str]) {
        self.push(
            ScenarioError::at(
                ErrorKind::BadValue,
                &x.mark,
                &x.path,
                format!("`{}` is not {what}", x.value),
            )
            .expected(super::de::one_of(known))
            .suggest(super::de::nearest(&x.value, known.iter().copied())),
        );
    }
}

/// A client's label as a scenario writes it: `Do Not Disturb` -> `do-not-disturb`.
fn kebab(label: &str) -> String {
    label.to_ascii_lowercase().replace(' ', "-")
}

/// The network actions an entry gives (a service action takes none of them).
fn network_fields(r: &RawAction) -> [(&'static str, bool); 8] {
    [
        ("site", r.site.is_some()),
        ("service", r.service.is_some()),
        ("outage", r.outage.is_some()),
        ("address_change", r.address_change.is_some()),
        ("profile", r.profile.is_some()),
        ("set", r.set.is_some()),
        ("cross_traffic", r.cross_traffic.is_some()),
        ("cross_traffic_stop", r.cross_traffic_stop.is_some()),
    ]
}
