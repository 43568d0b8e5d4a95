//! Federation between tenants: each refusal from one condition (table-driven, for IM, call
//! and presence), what the client shows and logs, the order of the checks (every condition
//! at once, lifted one at a time), the public IM address format, and contact permissions.

use super::super::directory::*;
use super::super::status::{not_delivered_text, NOT_AUTHORIZED_LOG_LINE, PRESENCE_UNKNOWN};
use super::super::*;
use super::*;

/// One condition that can stand between two users.
#[derive(Debug, Clone, Copy)]
enum Fault {
    UserAv(&'static str),
    UserExternalOff(&'static str),
    UserPicOff(&'static str),
    TenantExternalOff(&'static str),
    TenantPicOff(&'static str),
    /// The user's own setting on, over a tenant's off.
    UserExternalOn(&'static str),
    Srv(&'static str, SrvRecord),
    NotFederated(&'static str),
    AllowOnly(&'static str, &'static str),
    BlockDomain(&'static str, &'static str),
    /// contoso accepts consumer clients from 6.3 (the article's minimum) and this user runs 6.2.
    OldConsumer(&'static str),
    /// (owner, written) blocks.
    Blocks(&'static str, &'static str),
    BlockAll(&'static str),
    /// (owner, written) is not in owner's contacts.
    Drops(&'static str, &'static str),
    SignedOut(&'static str),
    /// The user's client cannot be reached (it roams).
    Cut(&'static str),
}

/// The healthy world with `faults`, everyone signed in but those signed out.
fn build(faults: &[Fault]) -> Service {
    let mut w = World::healthy();
    let off = |p: &mut Option<bool>| *p = Some(false);
    for f in faults {
        match *f {
            Fault::UserAv(u) => off(&mut w.user(u).audio_video),
            Fault::UserExternalOff(u) => off(&mut w.user(u).external_access),
            Fault::UserPicOff(u) => off(&mut w.user(u).public_im),
            Fault::UserExternalOn(u) => w.user(u).external_access = Some(true),
            Fault::TenantExternalOff(t) => w.tenant(t).policy.external_access = false,
            Fault::TenantPicOff(t) => w.tenant(t).policy.public_im = false,
            Fault::Srv(t, srv) => w.tenant(t).federation.srv = srv,
            Fault::NotFederated(t) => w.tenant(t).federation.enabled = false,
            Fault::AllowOnly(t, d) => w.tenant(t).federation.allow = Some(vec![d.into()]),
            Fault::BlockDomain(t, d) => w.tenant(t).federation.block.push(d.into()),
            Fault::OldConsumer(u) => {
                w.tenant("contoso").federation.min_consumer_client =
                    Federation::ARTICLE_MIN_CONSUMER_CLIENT;
                w.clients.push((u.into(), v("6.2")));
            }
            Fault::Blocks(u, x) => {
                w.user(u).contacts.blocked.insert(x.into());
            }
            Fault::BlockAll(u) => w.user(u).contacts.block_all_invites = true,
            Fault::Drops(u, x) => assert!(w.user(u).contacts.contacts.remove(x)),
            Fault::SignedOut(_) | Fault::Cut(_) => {}
        }
    }
    let mut s = w.service();
    for f in faults {
        match *f {
            Fault::SignedOut(u) => assert!(s.end_session(u)),
            Fault::Cut(u) => s.set_reachable(u, false),
            _ => {}
        }
    }
    s
}

use Fault::*;
use Refusal::*;

/// A label, the conditions, sender, recipient as written, and the refusal expected.
type Row = (
    &'static str,
    &'static [Fault],
    &'static str,
    &'static str,
    Option<Refusal>,
);

/// One condition, one refusal: an IM, a call and a subscription from `from` to `to`.
#[test]
fn each_condition_gives_its_refusal_to_im_call_and_presence() {
    #[rustfmt::skip]
    let table: &[Row] = &[
        ("healthy org to org", &[], ALICE, CAROL, None),
        ("healthy org to consumer", &[], ALICE, DAVE, None),
        ("healthy org to custom-domain consumer", &[], ALICE, ERIN_AT_MSN, None),
        ("healthy consumer to org", &[], ERIN, BOB, None),
        ("internal needs no contacts", &[Drops(ALICE, CAROL)], ALICE, BOB, None),
        ("inside msn the plain address works", &[], DAVE, ERIN, None),
        ("external off for the tenant (FED-EXTERNAL-OFF)", &[TenantExternalOff("contoso")], ALICE, CAROL, Some(ExternalAccessOff)),
        ("external off: every external address", &[TenantExternalOff("contoso")], ALICE, "zed@nowhere.example", Some(ExternalAccessOff)),
        ("external off for the user", &[UserExternalOff(ALICE)], ALICE, DAVE, Some(ExternalAccessOff)),
        ("the user's own setting over the tenant's", &[TenantExternalOff("contoso"), UserExternalOn(ALICE)], ALICE, CAROL, None),
        ("external off on the far side", &[UserExternalOff(CAROL)], ALICE, CAROL, Some(ExternalAccessOff)),
        ("external off leaves colleagues alone", &[TenantExternalOff("contoso")], ALICE, BOB, None),
        ("PIC off: consumers refused (FED-PIC-OFF)", &[TenantPicOff("contoso")], ALICE, DAVE, Some(PublicImOff)),
        ("PIC off: business contacts fine", &[TenantPicOff("contoso")], ALICE, CAROL, None),
        ("PIC off for the user", &[UserPicOff(ALICE)], ALICE, ERIN_AT_MSN, Some(PublicImOff)),
        ("PIC off refuses a consumer's IM in", &[TenantPicOff("contoso")], DAVE, ALICE, Some(PublicImOff)),
        ("far domain not federated", &[NotFederated("fabrikam")], ALICE, CAROL, Some(DomainNotFederated)),
        ("own domain not federated", &[NotFederated("contoso")], ALICE, CAROL, Some(DomainNotFederated)),
        ("provider not federated", &[NotFederated("msn")], ALICE, DAVE, Some(DomainNotFederated)),
        ("far SRV missing (FED-SRV-MISSING)", &[Srv("fabrikam", SrvRecord::Missing)], ALICE, CAROL, Some(FederationSrvMissing)),
        ("far SRV wrong", &[Srv("fabrikam", SrvRecord::Wrong)], ALICE, CAROL, Some(FederationSrvMissing)),
        ("own SRV missing: others cannot reach us", &[Srv("contoso", SrvRecord::Missing)], CAROL, ALICE, Some(FederationSrvMissing)),
        ("own SRV missing: all external fails", &[Srv("contoso", SrvRecord::Missing)], ALICE, DAVE, Some(FederationSrvMissing)),
        ("own SRV missing leaves colleagues alone", &[Srv("contoso", SrvRecord::Missing)], ALICE, BOB, None),
        ("not on our allow list (FED-DOMAIN-NOT-ALLOWED)", &[AllowOnly("contoso", "litware.com")], ALICE, CAROL, Some(DomainNotAllowed)),
        ("on our allow list", &[AllowOnly("contoso", "fabrikam.com")], ALICE, CAROL, None),
        ("on our block list", &[BlockDomain("contoso", "fabrikam.com")], ALICE, CAROL, Some(DomainNotAllowed)),
        ("on their block list", &[BlockDomain("fabrikam", "contoso.com")], ALICE, CAROL, Some(DomainNotAllowed)),
        ("their allow list leaves us out", &[AllowOnly("fabrikam", "litware.com")], ALICE, CAROL, Some(DomainNotAllowed)),
        ("domain lists do not govern public IM", &[AllowOnly("contoso", "fabrikam.com"), BlockDomain("contoso", "msn.com")], ALICE, DAVE, None),
        ("unknown external user", &[], ALICE, "zed@fabrikam.com", Some(NoSuchUser)),
        ("unknown domain", &[], ALICE, "zed@nowhere.example", Some(NoSuchUser)),
        ("custom-domain consumer written plainly (FED-PIC-FORMAT)", &[], ALICE, ERIN, Some(PublicImAddressFormat)),
        ("old consumer client (FED-CLIENT-OLD)", &[OldConsumer(DAVE)], ALICE, DAVE, Some(ExternalClientOutdated)),
        ("old consumer client, its IM in", &[OldConsumer(DAVE)], DAVE, ALICE, Some(ExternalClientOutdated)),
        ("old consumer client: other consumers fine", &[OldConsumer(DAVE)], ALICE, ERIN_AT_MSN, None),
        ("the far side blocked us (FED-CONTACT-PERMISSION)", &[Blocks(CAROL, ALICE)], ALICE, CAROL, Some(ContactBlocked)),
        ("we blocked them", &[Blocks(ALICE, ERIN_AT_MSN)], ALICE, ERIN_AT_MSN, Some(ContactBlocked)),
        ("a block only for that pair", &[Blocks(CAROL, ALICE)], BOB, CAROL, None),
        ("block all invites: consumers", &[BlockAll(ALICE)], ALICE, DAVE, Some(ContactBlocked)),
        ("block all invites: a consumer's IM in", &[BlockAll(ALICE)], DAVE, ALICE, Some(ContactBlocked)),
        ("block all invites: business contacts fine", &[BlockAll(ALICE)], ALICE, CAROL, None),
        ("they have not added us", &[Drops(CAROL, ALICE)], ALICE, CAROL, Some(NotMutualContacts)),
        ("we have not added them", &[Drops(ALICE, DAVE)], ALICE, DAVE, Some(NotMutualContacts)),
        ("not added: other pairs fine", &[Drops(CAROL, ALICE)], BOB, CAROL, None),
    ];
    for (label, faults, from, to, want) in table {
        let mut s = build(faults);
        let im = message(&mut s, from, to);
        assert_eq!(im.refusal, *want, "IM: {label}");
        assert_eq!(invite(&mut s, from, to).refusal, *want, "call: {label}");
        let sub = subscribe(&mut s, from, to);
        assert_eq!(sub.refusal, *want, "presence: {label}");
        let view = s.presence_seen_by(from, to);
        match want {
            None => {
                assert!(
                    im.is_ok() && im.shown.is_none() && im.log_line.is_none(),
                    "{label}"
                );
                assert_eq!(
                    view,
                    PresenceView::Shown(Availability::Available),
                    "{label}"
                );
            }
            Some(r) => {
                assert_eq!(im.code, r.code(), "{label}");
                assert_eq!(
                    im.shown.as_deref(),
                    Some(&*not_delivered_text(to)),
                    "{label}"
                );
                let log = r.logs_not_authorized().then_some(NOT_AUTHORIZED_LOG_LINE);
                assert_eq!(im.log_line.as_deref(), log, "{label}");
                assert_eq!(view, PresenceView::Unknown, "{label}");
                assert_eq!(sub.shown.as_deref(), Some(PRESENCE_UNKNOWN), "{label}");
            }
        }
    }
}

/// The article's exact words, with the address filled in.
#[test]
fn the_article_message_and_log_line() {
    let mut s = build(&[NotFederated("fabrikam")]);
    let r = message(&mut s, ALICE, CAROL);
    assert_eq!(r.code.to_string(), "403 Forbidden");
    assert_eq!(
        r.shown.as_deref(),
        Some(
            "This message was not delivered to carol@fabrikam.com because the address is outside \
             your organization and is not federated with your company, or the address is \
             incorrect. Please contact your support team with this information."
        )
    );
    assert_eq!(
        r.log_line.as_deref(),
        Some("403 Forbidden: From URI not authorized to communicate with federated partners.")
    );
    assert_eq!(PresenceView::Unknown.to_string(), "Presence Unknown");
    // A call shows the refusal's own words; a colleague's refusals show theirs.
    let call = invite(&mut s, ALICE, CAROL);
    assert_eq!(
        call.shown.as_deref(),
        Some(DomainNotFederated.client_words())
    );
    let r = message(&mut s, ALICE, "zed@contoso.com");
    assert_eq!(r.shown.as_deref(), Some(NoSuchUser.client_words()));
}

/// Every condition at once, then lifted one at a time in the documented order: each step
/// reveals the next check. `None` ends with a delivered IM.
fn assert_order(from: &str, to: &str, steps: &[(Fault, Refusal)], im: bool) {
    let faults: Vec<Fault> = steps.iter().map(|(f, _)| *f).collect();
    for (i, (_, want)) in steps.iter().enumerate() {
        let mut s = build(&faults[i..]);
        let r = match im {
            true => message(&mut s, from, to),
            false => invite(&mut s, from, to),
        };
        assert_eq!(r.refusal, Some(*want), "step {i}: {:?}", faults[i]);
    }
    let mut s = build(&[]);
    assert!(message(&mut s, from, to).is_ok() && invite(&mut s, from, to).is_ok());
}

#[test]
fn check_order_between_organisations() {
    assert_order(
        ALICE,
        CAROL,
        &[
            (UserAv(ALICE), AvDisabled),
            (UserExternalOff(ALICE), ExternalAccessOff),
            (Srv("fabrikam", SrvRecord::Missing), FederationSrvMissing),
            (Srv("contoso", SrvRecord::Wrong), FederationSrvMissing),
            (NotFederated("fabrikam"), DomainNotFederated),
            (NotFederated("contoso"), DomainNotFederated),
            (BlockDomain("contoso", "fabrikam.com"), DomainNotAllowed),
            (AllowOnly("fabrikam", "litware.com"), DomainNotAllowed),
            (UserExternalOff(CAROL), ExternalAccessOff),
            (UserAv(CAROL), AvDisabled),
            (Blocks(CAROL, ALICE), ContactBlocked),
            (Drops(ALICE, CAROL), NotMutualContacts),
            (SignedOut(CAROL), Unavailable),
            (Cut(CAROL), Unreachable),
        ],
        false,
    );
}

#[test]
fn check_order_towards_a_consumer_and_back() {
    assert_order(
        ALICE,
        DAVE,
        &[
            (UserExternalOff(ALICE), ExternalAccessOff),
            (UserPicOff(ALICE), PublicImOff),
            (Srv("msn", SrvRecord::Missing), FederationSrvMissing),
            (NotFederated("msn"), DomainNotFederated),
            (UserExternalOff(DAVE), ExternalAccessOff),
            (OldConsumer(DAVE), ExternalClientOutdated),
            (BlockAll(ALICE), ContactBlocked),
            (Drops(DAVE, ALICE), NotMutualContacts),
            (Cut(DAVE), Unreachable),
        ],
        true,
    );
    // The client check needs the consumer's session: signed out, it is not asked, and the
    // IM is refused only for that (480).
    let mut s = build(&[OldConsumer(DAVE), SignedOut(DAVE)]);
    assert_eq!(message(&mut s, ALICE, DAVE).refusal, Some(Unavailable));
    assert_order(
        DAVE,
        ALICE,
        &[
            (Srv("contoso", SrvRecord::Missing), FederationSrvMissing),
            (UserPicOff(ALICE), PublicImOff),
            (OldConsumer(DAVE), ExternalClientOutdated),
            (Blocks(ALICE, DAVE), ContactBlocked),
            (Cut(ALICE), Unreachable),
        ],
        true,
    );
}

/// FED-PIC-FORMAT: a contact added plainly stays unreachable until removed and re-added in
/// the special format; the other side is told of the re-add.
#[test]
fn a_custom_domain_consumer_is_reachable_once_re_added_in_the_special_format() {
    let mut w = World::healthy();
    let alice = w.user(ALICE);
    alice.contacts.contacts.remove(ERIN_AT_MSN);
    alice.contacts.contacts.insert(ERIN.into());
    let mut s = w.service();
    let sub = subscribe(&mut s, ALICE, ERIN);
    assert_eq!(sub.refusal, Some(PublicImAddressFormat));
    assert_eq!(
        s.presence_seen_by(ALICE, ERIN_AT_MSN),
        PresenceView::Unknown
    );
    assert_eq!(
        message(&mut s, ERIN, ALICE).refusal,
        Some(NotMutualContacts),
        "her list names alice, but alice's plain entry names nobody"
    );
    let edit = |s: &mut Service, add: bool, c: &str| {
        let (owner, contact) = (ALICE.to_string(), c.to_string());
        s.handle(
            2,
            match add {
                true => Request::AddContact { owner, contact },
                false => Request::RemoveContact { owner, contact },
            },
        )
    };
    assert!(edit(&mut s, false, ERIN).is_ok());
    drain(&mut s);
    assert!(edit(&mut s, true, ERIN_AT_MSN).is_ok());
    let notices = drain(&mut s);
    assert!(notices.contains(&Notice::ContactAdded {
        from: ALICE.into(),
        to: ERIN.into()
    }));
    assert!(message(&mut s, ALICE, ERIN_AT_MSN).is_ok());
    assert_eq!(
        s.presence_seen_by(ALICE, ERIN_AT_MSN),
        PresenceView::Shown(Availability::Available)
    );
    assert_eq!(
        s.directory().canonical(ERIN_AT_MSN),
        ERIN,
        "the special format stands for the account"
    );
    assert_eq!(
        s.directory().canonical("erin(other.example)@msn.com"),
        "erin(other.example)@msn.com",
        "a custom domain msn does not host is just a strange local part"
    );
    assert_eq!(
        message(&mut s, ALICE, "erin(other.example)@msn.com").refusal,
        Some(NoSuchUser)
    );
}

/// FED-CONTACT-PERMISSION's fix: both remove, both re-add, each sees the notification.
#[test]
fn contact_requests_block_and_unblock() {
    let mut s = build(&[Drops(CAROL, ALICE), Drops(ALICE, CAROL)]);
    let req = |s: &mut Service, r: Request| s.handle(3, r);
    let add = |owner: &str, contact: &str| Request::AddContact {
        owner: owner.into(),
        contact: contact.into(),
    };
    assert!(req(&mut s, add(ALICE, CAROL)).is_ok());
    assert_eq!(
        drain(&mut s),
        vec![Notice::ContactAdded {
            from: ALICE.into(),
            to: CAROL.into()
        }]
    );
    assert!(req(&mut s, add(ALICE, CAROL)).is_ok(), "twice is once");
    assert!(drain(&mut s).is_empty());
    assert_eq!(
        message(&mut s, ALICE, CAROL).refusal,
        Some(NotMutualContacts)
    );
    assert!(req(&mut s, add(CAROL, ALICE)).is_ok());
    assert!(message(&mut s, ALICE, CAROL).is_ok());
    let block = Request::Block {
        owner: CAROL.into(),
        contact: ALICE.into(),
    };
    assert!(req(&mut s, block).is_ok());
    assert_eq!(message(&mut s, ALICE, CAROL).refusal, Some(ContactBlocked));
    drain(&mut s);
    assert!(req(&mut s, add(CAROL, ALICE)).is_ok());
    assert!(
        drain(&mut s).is_empty(),
        "no request towards someone who blocks you"
    );
    let unblock = Request::Unblock {
        owner: CAROL.into(),
        contact: ALICE.into(),
    };
    assert!(req(&mut s, unblock).is_ok());
    assert!(message(&mut s, ALICE, CAROL).is_ok());
    let all = |on| Request::BlockAllInvites {
        owner: ALICE.into(),
        on,
    };
    assert!(req(&mut s, all(true)).is_ok());
    assert_eq!(message(&mut s, DAVE, ALICE).refusal, Some(ContactBlocked));
    assert!(req(&mut s, all(false)).is_ok());
    assert!(message(&mut s, DAVE, ALICE).is_ok());
    assert!(!s.contacts(ALICE).unwrap().block_all_invites);
    s.end_session(ALICE);
    assert_eq!(req(&mut s, all(true)).refusal, Some(NotSignedIn));
}
