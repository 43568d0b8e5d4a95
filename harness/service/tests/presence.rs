//! Presence and its timers (the roaming user who shows online while unreachable), IM
//! delivery, and partial outages with the status page.

use super::super::health::Part;
use super::super::*;
use super::*;

const S: u64 = 1_000_000_000;

fn req(s: &mut Service, now: u64, r: Request) -> Response {
    s.handle(now, r)
}

fn seen(view: Availability) -> PresenceView {
    PresenceView::Shown(view)
}

fn presence(watcher: &str, target: &str, view: PresenceView) -> Notice {
    Notice::Presence {
        watcher: watcher.into(),
        target: target.into(),
        view,
    }
}

#[test]
fn sign_in_publishes_available_and_watchers_follow_every_change() {
    let mut s = World::healthy().service();
    assert!(subscribe(&mut s, BOB, ALICE).is_ok());
    assert_eq!(
        drain(&mut s),
        vec![presence(BOB, ALICE, seen(Availability::Available))],
        "the first view at once"
    );
    let publish = |state| Request::Publish {
        address: ALICE.into(),
        state,
    };
    assert!(req(&mut s, 2, publish(Availability::Busy)).is_ok());
    assert!(req(&mut s, 3, publish(Availability::Busy)).is_ok());
    assert_eq!(
        drain(&mut s),
        vec![presence(BOB, ALICE, seen(Availability::Busy))],
        "one notice per change, none for the same state again"
    );
    let out = Request::SignOut {
        address: ALICE.into(),
    };
    assert!(req(&mut s, 4, out).is_ok());
    assert_eq!(
        drain(&mut s),
        vec![presence(BOB, ALICE, seen(Availability::Offline))]
    );
    assert_eq!(
        req(&mut s, 5, publish(Availability::Away)).refusal,
        Some(Refusal::NotSignedIn)
    );
    assert!(sign_in(&mut s, ALICE, "pw", v("8")).is_ok());
    assert_eq!(
        drain(&mut s),
        vec![presence(BOB, ALICE, seen(Availability::Available))]
    );
    let unsub = Request::Unsubscribe {
        watcher: BOB.into(),
        target: ALICE.into(),
    };
    assert!(req(&mut s, 6, unsub).is_ok());
    assert!(req(&mut s, 7, publish(Availability::DoNotDisturb)).is_ok());
    assert!(drain(&mut s).is_empty(), "nothing after unsubscribing");
    assert_eq!(s.subscriptions().count(), 0);
    for a in Availability::ALL {
        assert!(!seen(a).to_string().is_empty());
    }
}

/// NET-ROAMING, presence half: while alice roams her client cannot be reached (calls and IMs
/// time out, 408) but she shows Available until her registration expires unrefreshed.
#[test]
fn a_roaming_user_shows_online_while_unreachable_until_her_registration_expires() {
    let timers = Timers {
        registration_expiry_ns: 30 * S,
    };
    let mut s = World::healthy().service_with(timers);
    assert_eq!(s.poll_timeout(), Some(30 * S));
    subscribe(&mut s, BOB, ALICE);
    subscribe(&mut s, CAROL, ALICE);
    drain(&mut s);
    s.set_reachable(ALICE, false);
    let r = req(
        &mut s,
        10 * S,
        Request::Message {
            from: BOB.into(),
            to: ALICE.into(),
            text: "there?".into(),
        },
    );
    assert_eq!(
        (r.code.number(), r.refusal),
        (408, Some(Refusal::Unreachable))
    );
    assert_eq!(
        invite(&mut s, CAROL, ALICE).refusal,
        Some(Refusal::Unreachable)
    );
    s.handle_timeout(30 * S - 1);
    assert_eq!(
        s.presence_seen_by(BOB, ALICE),
        seen(Availability::Available)
    );
    assert!(drain(&mut s).is_empty(), "no change seen before the expiry");
    // Everyone else refreshed meanwhile; alice could not.
    for a in [BOB, CAROL, DAVE, ERIN] {
        let r = req(&mut s, 20 * S, Request::Refresh { address: a.into() });
        assert!(r.is_ok());
    }
    assert_eq!(s.poll_timeout(), Some(30 * S), "alice's is the earliest");
    s.handle_timeout(30 * S);
    assert!(s.session(ALICE).is_none());
    let mut got = drain(&mut s);
    got.sort_by(|a, b| a.recipient().cmp(b.recipient()));
    assert_eq!(
        got,
        vec![
            presence(BOB, ALICE, seen(Availability::Offline)),
            presence(CAROL, ALICE, seen(Availability::Offline)),
        ]
    );
    assert_eq!(s.poll_timeout(), Some(50 * S));
    // Back on a network, her keepalive finds the registration gone; she signs in again.
    let r = req(
        &mut s,
        31 * S,
        Request::Refresh {
            address: ALICE.into(),
        },
    );
    assert_eq!(r.refusal, Some(Refusal::NotSignedIn));
    assert!(s
        .handle(
            31 * S,
            Request::SignIn {
                address: ALICE.into(),
                password: "pw".into(),
                client: v("8")
            }
        )
        .is_ok());
    assert!(s.session(ALICE).unwrap().reachable);
    assert_eq!(s.session(ALICE).unwrap().expires_ns, 61 * S);
    assert_eq!(
        s.presence_seen_by(BOB, ALICE),
        seen(Availability::Available)
    );
}

#[test]
fn a_request_after_the_expiry_finds_it_expired_without_handle_timeout() {
    let timers = Timers {
        registration_expiry_ns: 10 * S,
    };
    let mut s = World::healthy().service_with(timers);
    subscribe(&mut s, ALICE, BOB);
    drain(&mut s);
    let refresh = |a: &str| Request::Refresh { address: a.into() };
    assert!(req(&mut s, 9 * S, refresh(ALICE)).is_ok());
    assert_eq!(s.session(ALICE).unwrap().refreshed_ns, 9 * S);
    let r = req(&mut s, 10 * S, refresh(BOB));
    assert_eq!(r.refusal, Some(Refusal::NotSignedIn), "due at 10 s exactly");
    assert_eq!(
        drain(&mut s),
        vec![presence(ALICE, BOB, seen(Availability::Offline))]
    );
    assert_eq!(s.poll_timeout(), Some(19 * S));
    s.handle_timeout(19 * S);
    assert_eq!(s.poll_timeout(), None, "nobody left");
    assert_eq!(
        s.subscriptions().count(),
        0,
        "expired watchers watch nothing"
    );
    assert_eq!(
        Timers::default().registration_expiry_ns,
        3600 * S,
        "registrar default"
    );
}

/// A refused pair shows Presence Unknown, and the view follows the fix without a new
/// subscription.
#[test]
fn presence_unknown_until_the_pair_is_fixed() {
    let mut w = World::healthy();
    w.user(CAROL).contacts.contacts.remove(ALICE);
    let mut s = w.service();
    let r = subscribe(&mut s, ALICE, CAROL);
    assert_eq!(r.refusal, Some(Refusal::NotMutualContacts));
    assert_eq!(
        drain(&mut s),
        vec![presence(ALICE, CAROL, PresenceView::Unknown)]
    );
    let add = Request::AddContact {
        owner: CAROL.into(),
        contact: ALICE.into(),
    };
    assert!(req(&mut s, 2, add).is_ok());
    let got = drain(&mut s);
    assert!(got.contains(&presence(ALICE, CAROL, seen(Availability::Available))));
    assert!(got.contains(&Notice::ContactAdded {
        from: CAROL.into(),
        to: ALICE.into()
    }));
    let block = Request::Block {
        owner: ALICE.into(),
        contact: CAROL.into(),
    };
    assert!(req(&mut s, 3, block).is_ok());
    assert_eq!(
        drain(&mut s),
        vec![presence(ALICE, CAROL, PresenceView::Unknown)]
    );
    assert_eq!(
        subscribe(&mut s, ALICE, "zed@contoso.com").refusal,
        Some(Refusal::NoSuchUser)
    );
    assert_eq!(
        s.presence_seen_by("nobody@contoso.com", ALICE),
        PresenceView::Unknown
    );
    s.end_session(BOB);
    assert_eq!(
        subscribe(&mut s, BOB, ALICE).refusal,
        Some(Refusal::NotSignedIn)
    );
}

#[test]
fn a_delivered_im_is_a_notice_for_its_recipient_only() {
    let mut s = World::healthy().service();
    let im = Request::Message {
        from: ALICE.into(),
        to: ERIN_AT_MSN.into(),
        text: "hi erin".into(),
    };
    assert!(req(&mut s, 1, im).is_ok());
    assert_eq!(
        drain(&mut s),
        vec![Notice::Message {
            from: ALICE.into(),
            to: ERIN.into(),
            text: "hi erin".into()
        }]
    );
    s.end_session(ERIN);
    let r = message(&mut s, ALICE, ERIN_AT_MSN);
    assert_eq!(
        (r.code.number(), r.refusal),
        (480, Some(Refusal::Unavailable))
    );
    assert!(drain(&mut s).is_empty());
    s.end_session(ALICE);
    assert_eq!(
        message(&mut s, ALICE, BOB).refusal,
        Some(Refusal::NotSignedIn)
    );
}

#[test]
fn parts_fail_on_their_own_and_the_status_page_says_so() {
    let mut s = World::healthy().service();
    subscribe(&mut s, BOB, ALICE);
    assert!(s.is_up() && s.status().headline() == "All systems operational");
    s.set_part_up(Part::Relay, false);
    assert!(!s.is_up() && s.part_is_up(Part::Signaling) && !s.part_is_up(Part::Relay));
    assert!(
        invite(&mut s, ALICE, BOB).is_ok(),
        "signaling still answers"
    );
    let page = s.status().to_string();
    assert!(
        page.starts_with("Calls that need the media relay may fail"),
        "{page}"
    );
    assert!(
        page.contains("Calls through the media relay: down"),
        "{page}"
    );
    s.set_part_up(Part::Relay, true);
    s.set_part_up(Part::Signaling, false);
    assert_eq!(s.poll_timeout(), None, "registrations lost");
    assert_eq!(s.subscriptions().count(), 0);
    for r in [
        message(&mut s, ALICE, BOB),
        subscribe(&mut s, ALICE, BOB),
        sign_in(&mut s, ALICE, "pw", v("8")),
    ] {
        assert_eq!(
            (r.code.number(), r.refusal),
            (503, Some(Refusal::ServiceDown))
        );
    }
    assert!(s.status().headline().contains("not your connection"));
    s.set_up(false);
    assert!(!s.status().relay_up && s.status().headline().starts_with("The service is down"));
    s.set_up(true);
    assert!(s.is_up());
    assert_eq!(
        message(&mut s, ALICE, BOB).refusal,
        Some(Refusal::NotSignedIn)
    );
}
