//! The `service:` section, participants' accounts and service outages in scenarios: defaults,
//! and every mistake at its own line and field.

use super::super::load_str;
use super::super::{ActionTarget, NetAction, Scenario, ScenarioError};
use crate::service::directory::Version;
use std::path::{Path, PathBuf};

fn load(text: &str) -> Result<Scenario, Vec<ScenarioError>> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("lan.yaml"), "both: { delay: 2ms }\n").expect("write");
    let text = format!("name: svc\nduration: 60s\n{text}");
    load_str(&text, Path::new("s.yaml"), &[PathBuf::from(dir.path())]).map(|mut v| v.remove(0))
}

/// (line, field path, message) of each error.
fn errors(text: &str) -> Vec<(usize, String, String)> {
    load(text)
        .expect_err("invalid")
        .iter()
        .map(|e| (e.line, e.path.clone(), e.to_string()))
        .collect()
}

fn has(errs: &[(usize, String, String)], line: usize, path: &str, text: &str) -> bool {
    errs.iter()
        .any(|(l, p, m)| *l == line && p == path && m.contains(text))
}

const TWO: &str = "participants:\n  alice: { network: lan }\n  bob: { network: lan }\n";

#[test]
fn without_a_service_section_everyone_is_a_user_of_one_default_tenant() {
    let s = load(TWO).expect("valid");
    assert!(!s.service.declared);
    let a = &s.participant("alice").unwrap().account;
    assert_eq!(a.address, "alice@example.com");
    assert_eq!(a.password, super::DEFAULT_PASSWORD);
    assert_eq!(a.client, Version(8, 0, 0));
    let dir = &s.service.directory;
    assert_eq!(dir.user("bob@example.com").unwrap().password, "secret");
    assert!(dir.audio_video_allowed("bob@example.com"));
}

#[test]
fn tenants_users_and_accounts_reach_the_directory() {
    let s = load(
        "service:
  tenants:
    contoso: { domains: [contoso.com, contoso.net], audio_video: false, min_client: \"8.2\" }
    fabrikam: { domains: [fabrikam.com] }
  users:
    bob@contoso.net: { password: hunter2, audio_video: true }
templates:
  old: { network: lan, client_version: 6.1, password: guess }
participants:
  alice: { template: old }
  bob: { network: lan, user: bob@contoso.net }
  carol: { network: lan, user: carol@fabrikam.com, client_version: 9 }
",
    )
    .expect("valid");
    assert!(s.service.declared);
    let acc = |n: &str| s.participant(n).unwrap().account.clone();
    // No `user`: the name at the first tenant's first domain; the template's version and
    // password.
    assert_eq!(acc("alice").address, "alice@contoso.com");
    assert_eq!(
        (acc("alice").client, acc("alice").password.as_str()),
        (Version(6, 1, 0), "guess")
    );
    // The account's own password is what the client enters unless told otherwise.
    assert_eq!(acc("bob").password, "hunter2");
    // Up to date by default: the tenant's minimum when above 8.0.
    assert_eq!(acc("bob").client, Version(8, 2, 0));
    assert_eq!(acc("carol").client, Version(9, 0, 0));
    let dir = &s.service.directory;
    assert!(
        !dir.audio_video_allowed("alice@contoso.com"),
        "the tenant's policy"
    );
    assert!(
        dir.audio_video_allowed("bob@contoso.net"),
        "bob's own setting"
    );
    assert!(dir.audio_video_allowed("carol@fabrikam.com"));
    assert_eq!(
        dir.tenant_of("bob@contoso.net").unwrap().min_client,
        Version(8, 2, 0)
    );
}

#[test]
fn a_service_outage_is_a_timeline_action_on_the_service() {
    let s = load(&format!(
        "{TWO}timeline:\n  - {{ at: 5s, service: signaling, outage: 10s }}\n"
    ))
    .expect("valid");
    assert_eq!(s.timeline.len(), 1);
    assert_eq!(s.timeline[0].target, ActionTarget::Service);
    assert!(matches!(
        s.timeline[0].action,
        NetAction::Outage { duration } if duration.as_nanos() == 10_000_000_000
    ));
}

#[test]
fn service_mistakes_are_named_at_their_line_and_field() {
    let errs = errors(
        "service:
  tenants:
    contoso: { domains: [contoso.com, \"a b\"], min_client: 7.x }
    fabrikam: { domains: [CONTOSO.com] }
    empty: { audio_video: false }
  users:
    dave@nowhere.org: {}
    nobody: {}
participants:
  alice: { network: lan, user: alice@elsewhere.com }
  bob: { network: lan, client_version: \"eight\" }
",
    );
    assert!(
        has(
            &errs,
            5,
            "service.tenants.contoso.domains[1]",
            "not a domain"
        ),
        "{errs:?}"
    );
    assert!(
        has(
            &errs,
            5,
            "service.tenants.contoso.min_client",
            "not a version"
        ),
        "{errs:?}"
    );
    assert!(
        has(
            &errs,
            6,
            "service.tenants.fabrikam.domains[0]",
            "listed twice"
        ),
        "{errs:?}"
    );
    assert!(
        has(&errs, 7, "service.tenants.empty", "domains"),
        "{errs:?}"
    );
    assert!(
        has(
            &errs,
            9,
            "service.users.\"dave@nowhere.org\"",
            "no tenant owns the domain of `dave@nowhere.org`"
        ),
        "{errs:?}"
    );
    assert!(
        has(&errs, 10, "service.users.nobody", "not an address"),
        "{errs:?}"
    );
    assert!(
        has(&errs, 12, "participants.alice.user", "no tenant owns"),
        "{errs:?}"
    );
    assert!(
        has(
            &errs,
            13,
            "participants.bob.client_version",
            "not a version"
        ),
        "{errs:?}"
    );
}

#[test]
fn accounts_cannot_be_shared_and_reserved_names_are_refused() {
    let errs = errors(
        "service:
  tenants:
    contoso: { domains: [contoso.com] }
participants:
  alice: { network: lan, user: pat@contoso.com }
  bob: { network: lan, user: pat@contoso.com }
",
    );
    assert!(
        has(
            &errs,
            8,
            "participants.bob.user",
            "`alice` and `bob` both sign in as `pat@contoso.com`"
        ),
        "{errs:?}"
    );
    let errs = errors("participants:\n  service: { network: lan }\n  bob: { network: lan }\n");
    assert!(
        has(&errs, 4, "participants.service", "reserved"),
        "{errs:?}"
    );
    let errs = errors(
        "templates:\n  t: { network: lan, user: a@example.com }\nparticipants:\n  alice: { template: t }\n",
    );
    assert!(
        has(
            &errs,
            4,
            "templates.t.user",
            "a template cannot give `user`"
        ),
        "{errs:?}"
    );
    let errs = errors("service: {}\nparticipants:\n  alice: { network: lan }\n");
    assert!(has(&errs, 3, "service", "no tenants"), "{errs:?}");
}

#[test]
fn a_service_action_takes_only_an_outage_on_the_service_alone() {
    let t = |entry: &str| errors(&format!("{TWO}timeline:\n  - {entry}\n"));
    let errs = t("{ at: 5s, service: signaling, participant: alice, outage: 1s }");
    assert!(
        has(
            &errs,
            7,
            "timeline[0].participant",
            "give `service` or `participant`"
        ),
        "{errs:?}"
    );
    let errs = t("{ at: 5s, service: signaling, profile: lan }");
    assert!(
        has(
            &errs,
            7,
            "timeline[0].service",
            "`profile` cannot apply to the service"
        ),
        "{errs:?}"
    );
    let errs = t("{ at: 5s, service: signaling }");
    assert!(has(&errs, 7, "timeline[0]", "outage"), "{errs:?}");
    let errs = t("{ at: 5s, service: signaling, outage: 0s }");
    assert!(
        has(&errs, 7, "timeline[0].outage", "an outage of 0s"),
        "{errs:?}"
    );
    let errs = t("{ at: 5s, service: relay, outage: 1s }");
    assert!(
        has(&errs, 7, "timeline[0].service", "signaling"),
        "{errs:?}"
    );
}

#[test]
fn federation_settings_reach_the_directory() {
    use crate::service::directory::{SrvRecord, TenantKind};
    let s = load(
        "service:
  registration_expiry: 90s
  tenants:
    contoso:
      domains: [contoso.com]
      external_access: false
      federation: { enabled: false, srv: wrong, allow: [fabrikam.com], block: [litware.com], min_consumer_client: \"6.3\" }
    consumer: { kind: public-im, domains: [msn.com], custom_domains: [home.org], public_im: false }
  users:
    alice@contoso.com: { external_access: true, public_im: false, contacts: [\"pat(home.org)@msn.com\"], blocked: [x@msn.com], block_all_invites: true }
participants:
  alice: { network: lan }
  pat: { network: lan, user: pat@home.org }
",
    )
    .expect("valid");
    assert_eq!(s.service.timers.registration_expiry_ns, 90_000_000_000);
    let dir = &s.service.directory;
    let contoso = dir.tenant_of("alice@contoso.com").unwrap();
    assert!(!contoso.policy.external_access && contoso.policy.public_im);
    let f = &contoso.federation;
    assert!(!f.enabled);
    assert_eq!(f.srv, SrvRecord::Wrong);
    assert_eq!(f.allow.as_deref(), Some(&["fabrikam.com".to_string()][..]));
    assert_eq!(f.block, vec!["litware.com".to_string()]);
    assert_eq!(f.min_consumer_client, Version(6, 3, 0));
    let consumer = dir.tenant_of("pat@home.org").unwrap();
    assert_eq!(
        consumer.kind,
        TenantKind::PublicIm {
            custom_domains: vec!["home.org".into()]
        }
    );
    assert!(!consumer.policy.public_im);
    let alice = dir.user("alice@contoso.com").unwrap();
    assert_eq!(
        (alice.external_access, alice.public_im),
        (Some(true), Some(false))
    );
    assert!(alice.contacts.contacts.contains("pat(home.org)@msn.com"));
    assert!(alice.contacts.blocked.contains("x@msn.com") && alice.contacts.block_all_invites);
}

#[test]
fn ims_and_presence_looks_are_read_with_their_expectations() {
    use super::super::{ImExpect, ServiceAsk};
    use crate::service::{Availability, PresenceView, Refusal};
    let s = load(&format!(
        "{TWO}timeline:
  - {{ at: 9s, participant: alice, presence_of: bob@example.com, expect: do-not-disturb }}
  - {{ at: 2s, participant: alice, im: \"p(home.org)@msn.com\", text: hi, expect: domain-not-allowed, code: 403 }}
  - {{ at: 3s, participant: bob, im: alice@example.com }}
  - {{ at: 4s, participant: bob, presence_of: x@y.com, expect: unknown }}
  - {{ at: 5s, participant: bob, im: x@y.com, expect: refused }}
"
    ))
    .expect("valid");
    let c = &s.service_checks;
    assert_eq!(c.len(), 5);
    assert!(c.windows(2).all(|w| w[0].at <= w[1].at), "sorted by time");
    assert_eq!(
        c[0].what,
        ServiceAsk::Im {
            to: "p(home.org)@msn.com".into(),
            text: "hi".into(),
            expect: Some(ImExpect::Refused {
                class: Some(Refusal::DomainNotAllowed),
                code: Some(403)
            })
        }
    );
    assert!(matches!(&c[1].what, ServiceAsk::Im { text, expect: None, .. } if text == "hello"));
    assert!(matches!(
        &c[2].what,
        ServiceAsk::Presence {
            expect: Some(PresenceView::Unknown),
            ..
        }
    ));
    assert!(matches!(
        &c[3].what,
        ServiceAsk::Im {
            expect: Some(ImExpect::Refused {
                class: None,
                code: None
            }),
            ..
        }
    ));
    assert!(matches!(
        &c[4].what,
        ServiceAsk::Presence {
            expect: Some(PresenceView::Shown(Availability::DoNotDisturb)),
            ..
        }
    ));
    assert_eq!(s.expects(), crate::report::model::Expects::Symptom);
}

#[test]
fn im_and_presence_mistakes_are_named_at_their_field() {
    let t = |entry: &str| errors(&format!("{TWO}timeline:\n  - {entry}\n"));
    let errs = t("{ at: 2s, participant: alice, im: bob, expect: delivered }");
    assert!(
        has(&errs, 7, "timeline[0].im", "not an address"),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, participant: alice, im: b@x.com, expect: deliverd }");
    assert!(
        has(
            &errs,
            7,
            "timeline[0].expect",
            "`deliverd` is not an IM outcome"
        ),
        "{errs:?}"
    );
    assert!(errs[0].2.contains("did you mean `delivered`"), "{errs:?}");
    let errs = t("{ at: 2s, participant: alice, im: b@x.com, code: 403 }");
    assert!(
        has(
            &errs,
            7,
            "timeline[0].code",
            "goes with an IM expected to be refused"
        ),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, participant: alice, presence_of: b@x.com, expect: online }");
    assert!(
        has(&errs, 7, "timeline[0].expect", "not a presence state"),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, participant: alice, presence_of: b@x.com, text: hi }");
    assert!(
        has(&errs, 7, "timeline[0].text", "goes with `im`"),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, participant: alice, im: b@x.com, outage: 1s }");
    assert!(
        has(&errs, 7, "timeline[0].im", "`im` and `outage`"),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, participant: alice, outage: 1s, expect: delivered }");
    assert!(
        has(
            &errs,
            7,
            "timeline[0].expect",
            "goes with `im` or `presence_of`"
        ),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, participant: alice, publish: sleeping }");
    assert!(
        has(
            &errs,
            7,
            "timeline[0].publish",
            "`sleeping` is not a presence state"
        ),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, participant: alice, publish: busy, expect: busy }");
    assert!(
        has(&errs, 7, "timeline[0].expect", "does not go with `publish`"),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, participant: alice, publish: busy, im: b@x.com }");
    assert!(
        has(&errs, 7, "timeline[0].im", "`im` and `publish`"),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, participant: zed, im: b@x.com }");
    assert!(
        has(&errs, 7, "timeline[0].participant", "unknown participant"),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, im: b@x.com }");
    assert!(has(&errs, 7, "timeline[0]", "participant"), "{errs:?}");
    let errs = errors(
        "service:\n  tenants:\n    c: { domains: [c.com], custom_domains: [h.org] }\nparticipants:\n  alice: { network: lan }\n",
    );
    assert!(
        has(
            &errs,
            5,
            "service.tenants.c.custom_domains[0]",
            "only a public IM provider"
        ),
        "{errs:?}"
    );
}

#[test]
fn a_scope_expectation_is_a_verdict_and_an_optional_subject() {
    use crate::report::scope::ScopeVerdict;
    let s = load(&format!("scope: follows-user bob\n{TWO}")).expect("valid");
    assert_eq!(
        s.expect_scope,
        Some((ScopeVerdict::FollowsUser, Some("bob".into())))
    );
    assert_eq!(s.expects(), crate::report::model::Expects::Symptom);
    let s = load(&format!("scope: all-fail\n{TWO}")).expect("valid");
    assert_eq!(s.expect_scope, Some((ScopeVerdict::AllFail, None)));
    let errs = errors(&format!("scope: follows-usr bob\n{TWO}"));
    assert!(
        has(&errs, 3, "scope", "`follows-usr` is not a scope verdict"),
        "{errs:?}"
    );
    assert!(
        errs[0].2.contains("did you mean `follows-user`"),
        "{errs:?}"
    );
    let errs = errors(&format!("scope: shared-site a b\n{TWO}"));
    assert!(
        has(&errs, 3, "scope", "a verdict and one subject"),
        "{errs:?}"
    );
}

#[test]
fn contact_changes_are_read_and_their_mistakes_named() {
    use super::super::{ContactOp, ServiceAsk};
    let s = load(&format!(
        "{TWO}timeline:\n  - {{ at: 2s, participant: bob, block: x@y.com }}\n"
    ))
    .expect("valid");
    assert_eq!(
        s.service_checks[0].what,
        ServiceAsk::Contact {
            op: ContactOp::Block,
            address: "x@y.com".into()
        }
    );
    let t = |entry: &str| errors(&format!("{TWO}timeline:\n  - {entry}\n"));
    let errs = t("{ at: 2s, participant: bob, add_contact: x@y.com, block: x@y.com }");
    assert!(
        has(
            &errs,
            7,
            "timeline[0].add_contact",
            "`add_contact` and `block`"
        ),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, participant: bob, unblock: nobody }");
    assert!(
        has(&errs, 7, "timeline[0].unblock", "not an address"),
        "{errs:?}"
    );
    let errs = t("{ at: 2s, participant: bob, remove_contact: x@y.com, expect: delivered }");
    assert!(
        has(
            &errs,
            7,
            "timeline[0].remove_contact",
            "`remove_contact` and `expect`"
        ),
        "{errs:?}"
    );
}
