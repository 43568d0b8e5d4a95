//! Properties over any sequence of requests, time advances and outages, checked against the
//! model in `model.rs` after every step.

use super::super::directory::*;
use super::super::*;
use super::model::*;
use super::{ALICE, BOB};
use proptest::prelude::*;
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
enum Step {
    SignIn(usize, bool, bool),
    SignOut(usize),
    Refresh(usize),
    Advance(u64),
    Publish(usize, usize),
    Subscribe(usize, usize),
    Unsubscribe(usize, usize),
    Message(usize, usize),
    Add(usize, usize),
    Remove(usize, usize),
    Block(usize, usize, bool),
    BlockAll(usize, bool),
    Reachable(usize, bool),
    Outage,
}

fn step() -> impl Strategy<Value = Step> {
    let u = || 0..USERS.len();
    let t = || 0..WRITTEN.len();
    prop_oneof![
        5 => (u(), prop::bool::weighted(0.9), prop::bool::weighted(0.2))
            .prop_map(|(a, p, o)| Step::SignIn(a, p, o)),
        1 => u().prop_map(Step::SignOut),
        3 => u().prop_map(Step::Refresh),
        3 => (0u64..20).prop_map(Step::Advance),
        2 => (u(), 0..Availability::ALL.len()).prop_map(|(a, s)| Step::Publish(a, s)),
        5 => (u(), t()).prop_map(|(a, b)| Step::Subscribe(a, b)),
        1 => (u(), t()).prop_map(|(a, b)| Step::Unsubscribe(a, b)),
        5 => (u(), t()).prop_map(|(a, b)| Step::Message(a, b)),
        2 => (u(), t()).prop_map(|(a, b)| Step::Add(a, b)),
        1 => (u(), t()).prop_map(|(a, b)| Step::Remove(a, b)),
        1 => (u(), t(), any::<bool>()).prop_map(|(a, b, on)| Step::Block(a, b, on)),
        1 => (u(), any::<bool>()).prop_map(|(a, on)| Step::BlockAll(a, on)),
        1 => (u(), any::<bool>()).prop_map(|(a, on)| Step::Reachable(a, on)),
        1 => Just(Step::Outage),
    ]
}

/// Runs `steps`, checking the service against the model after each.
fn run(cfg: &Config, steps: &[Step]) -> Result<(), TestCaseError> {
    let timers = Timers {
        registration_expiry_ns: EXPIRY,
    };
    let dir = directory(cfg);
    let mut s = Service::with_timers(dir.clone(), timers);
    let mut m = Model {
        lists: dir
            .users()
            .map(|u| {
                (
                    USERS.iter().find(|&&a| a == u.address).copied().unwrap(),
                    u.contacts.clone(),
                )
            })
            .collect(),
        ..Model::default()
    };
    let mut now = 0u64;
    let everyone = (0..USERS.len()).map(|a| Step::SignIn(a, true, false));
    for step in &everyone.chain(steps.iter().cloned()).collect::<Vec<_>>() {
        let mut delivered: Option<(String, String)> = None;
        if let Step::Advance(dt) = step {
            now += dt;
            // A driver wakes at each timeout and passes on what it sent before going on.
            while let Some(t) = s.poll_timeout().filter(|&t| t <= now) {
                s.handle_timeout(t);
                m.expire(t);
                check(&mut s, &mut m, cfg, None)?;
            }
        }
        m.expire(now);
        let signed = |m: &Model, a: &str| m.regs.contains_key(a);
        match *step {
            Step::Advance(_) => {}
            Step::Outage => {
                // Down and back up: everyone is signed out, every subscription gone.
                s.set_up(false);
                prop_assert_eq!(
                    s.handle(
                        now,
                        Request::Refresh {
                            address: ALICE.into()
                        }
                    )
                    .refusal,
                    Some(Refusal::ServiceDown)
                );
                s.set_up(true);
                m.regs.clear();
                m.subs.clear();
            }
            Step::Reachable(a, on) => {
                s.set_reachable(USERS[a], on);
                if let Some(r) = m.regs.get_mut(USERS[a]) {
                    r.reachable = on;
                }
            }
            ref other => {
                let req = request(other);
                let r = s.handle(now, req);
                prop_assert_eq!(r.is_ok(), r.refusal.is_none());
                let want_ok = match *other {
                    Step::SignIn(a, pw, old) => {
                        if pw {
                            let client = if old {
                                Version(6, 2, 0)
                            } else {
                                Version(8, 0, 0)
                            };
                            let reg = Reg {
                                expires: now + EXPIRY,
                                state: Availability::Available,
                                client,
                                reachable: true,
                            };
                            m.regs.insert(USERS[a], reg);
                        }
                        pw
                    }
                    Step::SignOut(a) => {
                        let was = signed(&m, USERS[a]);
                        m.end(USERS[a]);
                        was
                    }
                    Step::Refresh(a) => m
                        .regs
                        .get_mut(USERS[a])
                        .map(|r| {
                            r.expires = now + EXPIRY;
                            r.reachable = true;
                        })
                        .is_some(),
                    Step::Publish(a, st) => m
                        .regs
                        .get_mut(USERS[a])
                        .map(|r| r.state = Availability::ALL[st])
                        .is_some(),
                    Step::Subscribe(a, t) => {
                        if signed(&m, USERS[a]) {
                            m.subs.insert((USERS[a], WRITTEN[t]));
                        }
                        signed(&m, USERS[a]) && m.allowed(cfg, USERS[a], WRITTEN[t]).is_some()
                    }
                    Step::Unsubscribe(a, t) => {
                        m.subs.remove(&(USERS[a], WRITTEN[t]));
                        signed(&m, USERS[a])
                    }
                    Step::Message(a, t) => {
                        let to = m.allowed(cfg, USERS[a], WRITTEN[t]);
                        let ok = signed(&m, USERS[a])
                            && to.is_some_and(|x| m.regs.get(x).is_some_and(|r| r.reachable));
                        if ok {
                            delivered = Some((USERS[a].into(), to.unwrap().into()));
                        }
                        ok
                    }
                    Step::Add(a, t) | Step::Remove(a, t) | Step::Block(a, t, _) => {
                        let ok = signed(&m, USERS[a]);
                        if ok {
                            let l = m.lists.entry(USERS[a]).or_default();
                            let entry = WRITTEN[t].to_string();
                            let (set, add) = match *other {
                                Step::Add(..) => (&mut l.contacts, true),
                                Step::Remove(..) => (&mut l.contacts, false),
                                Step::Block(.., on) => (&mut l.blocked, on),
                                _ => unreachable!(),
                            };
                            if add {
                                set.insert(entry);
                            } else {
                                set.remove(&entry);
                            }
                        }
                        ok
                    }
                    Step::BlockAll(a, on) => {
                        let ok = signed(&m, USERS[a]);
                        if ok {
                            m.lists.entry(USERS[a]).or_default().block_all_invites = on;
                        }
                        ok
                    }
                    Step::Advance(_) | Step::Outage | Step::Reachable(..) => unreachable!(),
                };
                prop_assert_eq!(r.is_ok(), want_ok, "{:?} answered {:?}", other, r);
            }
        }
        check(&mut s, &mut m, cfg, delivered)?;
    }
    Ok(())
}

fn request(step: &Step) -> Request {
    let (u, t) = (
        |a: usize| USERS[a].to_string(),
        |b: usize| WRITTEN[b].to_string(),
    );
    match *step {
        Step::SignIn(a, pw, old) => Request::SignIn {
            address: u(a),
            password: if pw { "pw" } else { "bad" }.into(),
            client: if old {
                Version(6, 2, 0)
            } else {
                Version(8, 0, 0)
            },
        },
        Step::SignOut(a) => Request::SignOut { address: u(a) },
        Step::Refresh(a) => Request::Refresh { address: u(a) },
        Step::Publish(a, st) => Request::Publish {
            address: u(a),
            state: Availability::ALL[st],
        },
        Step::Subscribe(a, b) => Request::Subscribe {
            watcher: u(a),
            target: t(b),
        },
        Step::Unsubscribe(a, b) => Request::Unsubscribe {
            watcher: u(a),
            target: t(b),
        },
        Step::Message(a, b) => Request::Message {
            from: u(a),
            to: t(b),
            text: "x".into(),
        },
        Step::Add(a, b) => Request::AddContact {
            owner: u(a),
            contact: t(b),
        },
        Step::Remove(a, b) => Request::RemoveContact {
            owner: u(a),
            contact: t(b),
        },
        Step::Block(a, b, true) => Request::Block {
            owner: u(a),
            contact: t(b),
        },
        Step::Block(a, b, false) => Request::Unblock {
            owner: u(a),
            contact: t(b),
        },
        Step::BlockAll(a, on) => Request::BlockAllInvites { owner: u(a), on },
        Step::Advance(_) | Step::Outage | Step::Reachable(..) => unreachable!(),
    }
}

/// The service agrees with the model, and its notices with its own views.
fn check(
    s: &mut Service,
    m: &mut Model,
    cfg: &Config,
    delivered: Option<(String, String)>,
) -> Result<(), TestCaseError> {
    let mut ims = Vec::new();
    while let Some(n) = s.poll_notice() {
        prop_assert!(
            m.regs.contains_key(n.recipient()),
            "notice to a signed-out client: {:?}",
            n
        );
        match n {
            Notice::Presence {
                watcher,
                target,
                view,
            } => {
                let subscribed = m.subs.iter().any(|&(w, t)| w == watcher && t == target);
                prop_assert!(subscribed, "unsubscribed {} got {}", watcher, target);
                m.last.insert((watcher, target), view);
            }
            Notice::Message { from, to, .. } => ims.push((from, to)),
            Notice::ContactAdded { .. } => {}
        }
    }
    prop_assert_eq!(ims, delivered.into_iter().collect::<Vec<_>>());
    for u in USERS {
        let want = m.regs.get(u).copied();
        let got = s.session(u).map(|s| Reg {
            expires: s.expires_ns,
            state: s.availability,
            client: s.client,
            reachable: s.reachable,
        });
        prop_assert_eq!(got, want, "session of {}", u);
        prop_assert_eq!(s.contacts(u), m.lists.get(u), "lists of {}", u);
    }
    let subs: BTreeSet<(&str, &str)> = s.subscriptions().collect();
    let model: BTreeSet<(&str, &str)> = m.subs.iter().copied().collect();
    prop_assert_eq!(subs, model);
    for &(w, t) in &m.subs {
        let last = m.last.get(&(w.to_string(), t.to_string()));
        prop_assert_eq!(
            last,
            Some(&s.presence_seen_by(w, t)),
            "{} watching {}",
            w,
            t
        );
    }
    for w in USERS {
        for t in WRITTEN {
            prop_assert_eq!(
                s.presence_seen_by(w, t),
                m.view(cfg, w, t),
                "{} sees {}",
                w,
                t
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any sequence of sign-ins, sign-outs, refreshes, time advances, publishes,
    /// subscriptions, messages, contact edits, reachability changes and outages, under any
    /// federation settings: sessions, lists and subscriptions are what the requests imply; a
    /// watcher's last notice about a target is what `presence_seen_by` says; a refused pair is
    /// Unknown; a signed-out or expired user is Offline to every allowed watcher; no notice
    /// reaches anyone not subscribed (or not signed in); an IM is delivered exactly when the
    /// model allows it.
    #[test]
    fn presence_and_delivery_follow_the_model(cfg in config(), steps in prop::collection::vec(step(), 1..60)) {
        run(&cfg, &steps)?;
    }

    /// The same sequence always gives the same answers and notices; an admitted call has both
    /// ends signed in with A/V allowed.
    #[test]
    fn any_sequence_is_deterministic_and_admits_only_allowed_calls(
        cfg in config(),
        steps in prop::collection::vec((step(), 0..USERS.len(), 0..WRITTEN.len()), 1..40),
        bob_av in prop_oneof![Just(None), Just(Some(false)), Just(Some(true))],
    ) {
        let mut dir = directory(&cfg);
        if let Some(av) = bob_av {
            let mut users: Vec<User> = dir.users().cloned().collect();
            users.iter_mut().find(|u| u.address == BOB).unwrap().audio_video = Some(av);
            dir = Directory::new(dir.tenants().to_vec(), users).unwrap();
        }
        let timers = Timers { registration_expiry_ns: EXPIRY };
        let (mut a, mut b) = (Service::with_timers(dir.clone(), timers), Service::with_timers(dir, timers));
        for (i, (step, from, to)) in steps.iter().enumerate() {
            let now = i as u64 * 3;
            let req = match step {
                Step::Advance(_) | Step::Outage | Step::Reachable(..) => {
                    Request::Invite { from: USERS[*from].into(), to: WRITTEN[*to].into() }
                }
                other => request(other),
            };
            let r = a.handle(now, req.clone());
            prop_assert_eq!(&r, &b.handle(now, req.clone()));
            prop_assert_eq!(a.poll_notice(), b.poll_notice());
            if let (Request::Invite { from, to }, true) = (&req, r.is_ok()) {
                let dir = a.directory();
                let callee = dir.home_index(from).and_then(|h| dir.resolve(h, to)).unwrap();
                prop_assert!(a.session(from).is_some() && a.session(callee).is_some());
                prop_assert!(dir.audio_video_allowed(from) && dir.audio_video_allowed(callee));
            }
        }
    }
}
