//! Where a matrix of calls points (KB CONTACTS-ONE-VS-MANY), end to end: a scenario with the
//! calling service is run in simulated time and its report says whether the refused calls
//! follow one user or one domain, in `scope` and in the Markdown and HTML written from it.

mod common;
use callharness::report::model::{RunReport, ScenarioReport, Verdict};
use callharness::report::scope::{ScopeVerdict, Side};
use callharness::report::{render, Format};
use common::{run, scenario};

/// Every expectation met: the calls with `expect: av-disabled` were refused, the others
/// connected.
fn all_met(r: &ScenarioReport) {
    assert!(
        r.expectations.iter().all(|e| e.met),
        "{}: {:#?}",
        r.name,
        r.expectations
    );
}

fn run_of(s: ScenarioReport) -> RunReport {
    RunReport {
        format: callharness::report::json::FORMAT_VERSION,
        seed: 1,
        versions: Default::default(),
        started_at: String::new(),
        wall_ms: 0,
        complete: true,
        verdict: Verdict::Pass,
        scenarios: vec![s],
    }
}

#[test]
fn refusals_that_follow_one_user_are_scoped_to_that_user() {
    let s = scenario(
        r#"
name: bob-av-off
description: Bob's own policy turns audio/video off; every call with him is refused.
duration: 12s
service:
  tenants:
    contoso: { domains: [contoso.com] }
  users:
    bob@contoso.com: { audio_video: false }
participants:
  alice: { network: wired-lan }
  bob: { network: wired-lan }
  carol: { network: wired-lan }
  dave: { network: wired-lan }
calls:
  - { caller: alice, callee: bob, at: 1s, expect: av-disabled }
  - { caller: carol, callee: bob, at: 2s, expect: av-disabled }
  - { caller: alice, callee: carol, at: 3s }
  - { caller: dave, callee: alice, at: 4s }
  - { caller: bob, callee: dave, at: 5s, expect: av-disabled }
"#,
    );
    let r = run(&s, 1);
    all_met(&r);
    let scope = r
        .scope
        .as_ref()
        .expect("five calls, three refused: a matrix");
    assert_eq!(
        scope.verdict,
        ScopeVerdict::FollowsUser,
        "{}",
        scope.summary
    );
    assert_eq!(scope.subject.as_deref(), Some("bob"));
    assert_eq!(scope.side, Some(Side::Either));
    assert_eq!((scope.calls, scope.failing), (5, 3));
    assert_eq!(
        scope.failing_pairs,
        ["alice->bob", "carol->bob", "bob->dave"]
    );
    assert!(
        scope
            .summary
            .starts_with("Every call with bob fails (3 of 3) and no other call does (0 of 2)"),
        "{}",
        scope.summary
    );
    let best = &scope.evidence[0];
    assert!(
        best.exact && best.failing == 3 && best.calls == 3,
        "{best:?}"
    );

    // The same finding in the writers, and in the JSON for scripts.
    let run = run_of(r);
    let md = render(&run, Format::Markdown).unwrap();
    assert!(md.contains("**Where the failures point**"), "{md}");
    assert!(
        md.contains("`follows-user` **bob** (3 of 5 calls fail)"),
        "{md}"
    );
    assert!(md.contains("403 Forbidden — Certain audio and video options are unavailable"));
    let html = render(&run, Format::Html).unwrap();
    assert!(html.contains("Where the failures point · 3 of 5 calls fail"));
    assert!(html.contains(r#"<span class="chip verdict">follows-user</span> <b>bob</b>"#));
    let json = render(&run, Format::Json).unwrap();
    assert!(json.contains(r#""verdict": "follows-user","#), "{json}");
}

#[test]
fn refusals_that_follow_one_tenant_are_scoped_to_its_domain() {
    // Fabrikam turns audio/video off for its whole tenant: every call with one of its users is
    // refused, whoever places it; the calls between Contoso's users connect.
    let s = scenario(
        r#"
name: fabrikam-av-off
duration: 12s
service:
  tenants:
    contoso: { domains: [contoso.com] }
    fabrikam: { domains: [fabrikam.com], audio_video: false }
participants:
  alice: { network: wired-lan, user: alice@contoso.com }
  bob: { network: wired-lan, user: bob@contoso.com }
  carol: { network: wired-lan, user: carol@fabrikam.com }
  dave: { network: wired-lan, user: dave@fabrikam.com }
calls:
  - { caller: alice, callee: carol, at: 1s, expect: av-disabled }
  - { caller: dave, callee: bob, at: 2s, expect: av-disabled }
  - { caller: carol, callee: dave, at: 3s, expect: av-disabled }
  - { caller: alice, callee: bob, at: 4s }
  - { caller: bob, callee: alice, at: 5s }
"#,
    );
    let r = run(&s, 2);
    all_met(&r);
    let scope = r.scope.as_ref().expect("a matrix");
    assert_eq!(
        scope.verdict,
        ScopeVerdict::SharedDomain,
        "{}",
        scope.summary
    );
    assert_eq!(scope.subject.as_deref(), Some("fabrikam.com"));
    assert_eq!(scope.side, Some(Side::Either));
    assert!(
        scope
            .summary
            .contains("the problem follows the domain fabrikam.com, not one user"),
        "{}",
        scope.summary
    );
    // One user of the tenant is not enough: each of carol and dave has a refused call
    // without the other.
    for user in ["carol", "dave"] {
        let e = scope
            .evidence
            .iter()
            .find(|e| e.label == format!("calls with {user}"))
            .unwrap_or_else(|| panic!("{:#?}", scope.evidence));
        assert!(!e.exact && e.failing == 2, "{e:?}");
    }
}

#[test]
fn two_calls_are_no_matrix() {
    let s = scenario(
        r#"
name: two-calls
duration: 8s
service:
  tenants:
    contoso: { domains: [contoso.com], audio_video: false }
participants:
  alice: { network: wired-lan }
  bob: { network: wired-lan }
calls:
  - { caller: alice, callee: bob, at: 1s, expect: av-disabled }
  - { caller: bob, callee: alice, at: 2s, expect: av-disabled }
"#,
    );
    let r = run(&s, 3);
    all_met(&r);
    assert_eq!(r.scope, None);
    let json = render(&run_of(r), Format::Json).unwrap();
    assert!(!json.contains("\"scope\""));
}
