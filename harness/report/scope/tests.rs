use super::*;
use crate::report::model::FailureReport;

/// A call: `ok` connected, else refused with 403.
fn call(caller: &str, callee: &str, ok: bool) -> CallReport {
    CallReport {
        caller: caller.into(),
        callee: callee.into(),
        start_ms: 0,
        end_ms: 1,
        connected: ok,
        failure: (!ok).then(|| FailureReport {
            class: "av-disabled".into(),
            message: "Certain audio and video options are unavailable".into(),
            code: Some(403),
            reason: Some("Forbidden".into()),
            detail: String::new(),
        }),
        offer_ms: None,
        setup_ms: None,
        first_audio_ms: None,
        candidate_pair: None,
        candidates: Vec::new(),
        test_call: None,
        streams: Vec::new(),
        video: Vec::new(),
    }
}

/// Calls from `(caller, callee, connected)`.
fn calls(list: &[(&str, &str, bool)]) -> Vec<CallReport> {
    list.iter().map(|(a, b, ok)| call(a, b, *ok)).collect()
}

/// An account: `domain`, `site`, `network`, `version`; signed in.
fn account(p: &str, domain: &str, site: &str, network: &str, version: &str) -> AccountReport {
    AccountReport {
        participant: p.into(),
        address: format!("{p}@{domain}"),
        client_version: version.into(),
        site: site.into(),
        network: network.into(),
        signed_in_ms: Some(1),
        attempts: 1,
        failure: None,
    }
}

/// alice, bob, carol and dave, alike in everything.
fn alike() -> Vec<AccountReport> {
    ["alice", "bob", "carol", "dave"]
        .iter()
        .map(|p| account(p, "contoso.com", "hq", "wired-lan", "8.0.0"))
        .collect()
}

/// The matrix the KB article scopes by domain: alice and bob on one side of every trait but
/// `which`, carol and dave on the other.
fn two_groups(which: Trait) -> Vec<AccountReport> {
    ["alice", "bob", "carol", "dave"]
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let far = i >= 2;
            let pick = |t: Trait, near: &'static str, other: &'static str| {
                if t == which && far {
                    other
                } else {
                    near
                }
            };
            account(
                p,
                pick(Trait::Domain, "contoso.com", "fabrikam.com"),
                pick(Trait::Site, "hq", "branch"),
                pick(Trait::Network, "wired-lan", "wifi-good"),
                pick(Trait::ClientVersion, "8.0.0", "7.2.0"),
            )
        })
        .collect()
}

fn found(calls: &[CallReport], accounts: &[AccountReport]) -> ScopeReport {
    scope_of(calls, accounts).expect("a matrix")
}

#[test]
fn fewer_than_three_calls_or_none_failing_is_no_matrix() {
    let two = calls(&[("alice", "bob", false), ("bob", "carol", false)]);
    assert_eq!(scope_of(&two, &alike()), None);
    let fine = calls(&[
        ("alice", "bob", true),
        ("bob", "carol", true),
        ("carol", "alice", true),
    ]);
    assert_eq!(scope_of(&fine, &alike()), None);
    assert_eq!(scope_of(&[], &[]), None);
}

#[test]
fn failures_that_follow_one_user_in_both_directions() {
    let c = calls(&[
        ("alice", "bob", false),
        ("carol", "bob", false),
        ("alice", "carol", true),
        ("dave", "alice", true),
        ("bob", "dave", false),
    ]);
    let s = found(&c, &alike());
    assert_eq!(s.verdict, ScopeVerdict::FollowsUser);
    assert_eq!(s.subject.as_deref(), Some("bob"));
    assert_eq!(s.side, Some(Side::Either));
    assert_eq!((s.calls, s.failing), (5, 3));
    assert_eq!(s.failing_pairs, ["alice->bob", "carol->bob", "bob->dave"]);
    assert_eq!(
        s.summary,
        "Every call with bob fails (3 of 3) and no other call does (0 of 2): the problem follows \
         bob; check bob's account, policy, client and network."
    );
    let e = &s.evidence[0];
    assert_eq!(
        (e.label.as_str(), e.failing, e.calls, e.exact),
        ("calls with bob", 3, 3, true)
    );
    // The partial ones follow with their counts: calls to bob miss bob -> dave.
    let to_bob = s
        .evidence
        .iter()
        .find(|e| e.label == "calls to bob")
        .unwrap();
    assert_eq!((to_bob.failing, to_bob.calls, to_bob.exact), (2, 2, false));
    assert!(s.evidence.iter().skip(1).all(|e| !e.exact));
}

#[test]
fn failures_that_follow_one_contact() {
    // Calls to bob fail; the call bob places connects.
    let c = calls(&[
        ("alice", "bob", false),
        ("carol", "bob", false),
        ("bob", "carol", true),
        ("alice", "carol", true),
    ]);
    let s = found(&c, &alike());
    assert_eq!(s.verdict, ScopeVerdict::FollowsCallee);
    assert_eq!(s.subject.as_deref(), Some("bob"));
    assert!(
        s.summary.starts_with("Every call to bob fails (2 of 2)"),
        "{}",
        s.summary
    );
    assert!(s.summary.contains("reaching bob as a contact"));
}

#[test]
fn failures_that_follow_one_caller() {
    let c = calls(&[
        ("alice", "bob", false),
        ("alice", "carol", false),
        ("bob", "alice", true),
        ("carol", "bob", true),
    ]);
    let s = found(&c, &alike());
    assert_eq!(s.verdict, ScopeVerdict::FollowsCaller);
    assert_eq!(s.subject.as_deref(), Some("alice"));
    assert_eq!(s.side, Some(Side::Caller));
    assert!(
        s.summary.contains("the calls alice places"),
        "{}",
        s.summary
    );
}

#[test]
fn failures_between_two_contacts_who_each_reach_others() {
    let c = calls(&[
        ("alice", "bob", false),
        ("bob", "alice", false),
        ("alice", "carol", true),
        ("bob", "carol", true),
        ("carol", "dave", true),
    ]);
    let s = found(&c, &alike());
    assert_eq!(s.verdict, ScopeVerdict::FollowsPair);
    assert_eq!(
        (s.subject.as_deref(), s.other.as_deref(), s.side),
        (Some("alice"), Some("bob"), Some(Side::Between))
    );
    assert!(s
        .summary
        .contains("permissions issue between these two contacts"));
}

#[test]
fn failures_that_follow_a_domain() {
    // fabrikam.com's policy turns audio/video off: every call with carol or dave fails.
    let c = calls(&[
        ("alice", "carol", false),
        ("dave", "bob", false),
        ("carol", "dave", false),
        ("alice", "bob", true),
        ("bob", "alice", true),
    ]);
    let s = found(&c, &two_groups(Trait::Domain));
    assert_eq!(s.verdict, ScopeVerdict::SharedDomain);
    assert_eq!(s.subject.as_deref(), Some("fabrikam.com"));
    assert_eq!(s.side, Some(Side::Either));
    assert!(
        s.summary.starts_with(
            "Every call with a participant in fabrikam.com fails (3 of 3) and no other call does \
             (0 of 2): the problem follows the domain fabrikam.com, not one user"
        ),
        "{}",
        s.summary
    );
}

#[test]
fn failures_between_two_domains_point_to_federation() {
    let c = calls(&[
        ("alice", "carol", false),
        ("dave", "bob", false),
        ("alice", "bob", true),
        ("carol", "dave", true),
    ]);
    let s = found(&c, &two_groups(Trait::Domain));
    assert_eq!(s.verdict, ScopeVerdict::SharedDomain);
    assert_eq!(s.side, Some(Side::Between));
    assert_eq!(
        (s.subject.as_deref(), s.other.as_deref()),
        (Some("contoso.com"), Some("fabrikam.com"))
    );
    assert!(s
        .summary
        .contains("check federation between the two domains"));
    // Calls with fabrikam.com alone take in carol -> dave, which connects.
    let with = s
        .evidence
        .iter()
        .find(|e| e.label == "calls with a participant in fabrikam.com")
        .unwrap_or_else(|| panic!("{:#?}", s.evidence));
    assert_eq!((with.failing, with.calls, with.exact), (2, 3, false));
}

#[test]
fn failures_that_share_a_site_a_network_or_a_client_version() {
    let c = calls(&[
        ("alice", "carol", false),
        ("dave", "bob", false),
        ("carol", "dave", false),
        ("alice", "bob", true),
        ("bob", "alice", true),
    ]);
    for (t, verdict, subject) in [
        (Trait::Site, ScopeVerdict::SharedSite, "branch"),
        (Trait::Network, ScopeVerdict::SharedNetwork, "wifi-good"),
        (
            Trait::ClientVersion,
            ScopeVerdict::SharedClientVersion,
            "7.2.0",
        ),
    ] {
        let s = found(&c, &two_groups(t));
        assert_eq!(s.verdict, verdict, "{t:?}: {}", s.summary);
        assert_eq!(s.subject.as_deref(), Some(subject));
        assert_eq!(s.side, Some(Side::Either));
        assert!(s.evidence[0].exact);
    }
}

#[test]
fn every_call_failing_points_to_the_service_or_the_shared_network() {
    let c = calls(&[
        ("alice", "bob", false),
        ("carol", "dave", false),
        ("bob", "carol", false),
    ]);
    let mut accounts = alike();
    for a in &mut accounts {
        a.signed_in_ms = None;
    }
    let s = found(&c, &accounts);
    assert_eq!(s.verdict, ScopeVerdict::AllFail);
    assert_eq!((s.subject.as_ref(), s.side), (None, None));
    assert!(s.evidence.is_empty());
    assert_eq!(
        s.summary,
        "Every call fails (3 of 3), whoever places it and whoever it reaches: the problem is not \
         one user or contact but something all of them share, the service or the network \
         between them. Each fails with av-disabled · 403 Forbidden. No client signed in: start \
         with the service (an outage, sign-in) and the network that reaches it. Every \
         participant is in contoso.com, so contoso.com's tenant-wide settings are a suspect too."
    );
    // Signed in, so the service answers.
    let s = found(&c, &alike());
    assert!(s
        .summary
        .contains("Every client signed in, so the service answers"));
}

#[test]
fn no_pattern_lists_the_failing_pairs_and_the_closest_candidate() {
    let c = calls(&[
        ("alice", "bob", false),
        ("alice", "carol", true),
        ("carol", "dave", false),
        ("bob", "dave", true),
        ("alice", "dave", true),
    ]);
    let s = found(&c, &alike());
    assert_eq!(s.verdict, ScopeVerdict::NoPattern);
    assert_eq!(s.subject, None);
    assert_eq!(s.failing_pairs, ["alice->bob", "carol->dave"]);
    assert_eq!(
        s.summary,
        "No single user, contact or shared trait explains the failures: 2 of 5 calls fail \
         (alice->bob, carol->dave); each may have its own cause, so read each one's failure. \
         Closest: calls to bob, 1 of 1 failing, covering 1 of 2 failures."
    );
    assert!(s.evidence.iter().all(|e| !e.exact));
    assert!(s.evidence.len() <= EVIDENCE);
}

#[test]
fn a_tie_goes_to_the_user_and_names_the_other_explanation() {
    // bob never places a call: "with bob" and "to bob" are the same calls.
    let c = calls(&[
        ("alice", "bob", false),
        ("carol", "bob", false),
        ("alice", "carol", true),
    ]);
    let s = found(&c, &alike());
    assert_eq!(s.verdict, ScopeVerdict::FollowsUser);
    assert!(
        s.summary
            .ends_with(" Equally exact: calls to bob (the same calls)."),
        "{}",
        s.summary
    );
    let exact: Vec<&str> = s
        .evidence
        .iter()
        .filter(|e| e.exact)
        .map(|e| e.label.as_str())
        .collect();
    assert_eq!(exact, ["calls with bob", "calls to bob"]);
}

#[test]
fn a_tie_between_traits_goes_to_the_domain_and_names_the_site() {
    // carol and dave are both of fabrikam.com and both at the branch site.
    let mut accounts = two_groups(Trait::Domain);
    for a in &mut accounts[2..] {
        a.site = "branch".into();
    }
    let c = calls(&[
        ("alice", "carol", false),
        ("dave", "bob", false),
        ("carol", "dave", false),
        ("alice", "bob", true),
    ]);
    let s = found(&c, &accounts);
    assert_eq!(s.verdict, ScopeVerdict::SharedDomain);
    assert!(
        s.summary
            .contains("Equally exact: calls with a participant at site branch"),
        "{}",
        s.summary
    );
}

#[test]
fn what_only_the_user_has_is_named_as_a_suspect_too() {
    let mut accounts = alike();
    accounts[1].network = "wifi-good".into();
    accounts[1].address = "bob@Fabrikam.com".into();
    let c = calls(&[
        ("alice", "bob", false),
        ("bob", "carol", false),
        ("alice", "carol", true),
    ]);
    let s = found(&c, &accounts);
    assert_eq!(s.verdict, ScopeVerdict::FollowsUser);
    assert!(
        s.summary.contains(
            " bob is also the only participant in fabrikam.com and on network wifi-good, which \
             these calls cannot tell apart from bob."
        ),
        "{}",
        s.summary
    );
    // Those traits are bob's own candidates, not listed again as evidence.
    assert!(s
        .evidence
        .iter()
        .all(|e| e.verdict != ScopeVerdict::SharedNetwork));
}

#[test]
fn a_call_that_connected_and_then_failed_counts_as_failing() {
    let mut c = calls(&[
        ("alice", "bob", true),
        ("carol", "bob", false),
        ("alice", "carol", true),
        ("carol", "alice", true),
    ]);
    c[0].failure = Some(FailureReport {
        class: "call-dropped".into(),
        message: "The call was dropped.".into(),
        code: None,
        reason: None,
        detail: String::new(),
    });
    let s = found(&c, &alike());
    assert_eq!(s.failing, 2);
    assert_eq!(s.verdict, ScopeVerdict::FollowsUser);
    assert_eq!(s.subject.as_deref(), Some("bob"));
}

#[test]
fn without_accounts_only_users_are_candidates() {
    let c = calls(&[
        ("alice", "bob", false),
        ("carol", "bob", false),
        ("bob", "dave", false),
        ("alice", "carol", true),
    ]);
    let s = found(&c, &[]);
    assert_eq!(s.verdict, ScopeVerdict::FollowsUser);
    assert!(s.evidence.iter().all(|e| matches!(
        e.verdict,
        ScopeVerdict::FollowsUser
            | ScopeVerdict::FollowsCallee
            | ScopeVerdict::FollowsCaller
            | ScopeVerdict::FollowsPair
    )));
}

#[test]
fn verdicts_are_spelled_for_scripts_and_the_report_reads_back() {
    let words: Vec<String> = [
        ScopeVerdict::FollowsUser,
        ScopeVerdict::FollowsCallee,
        ScopeVerdict::FollowsCaller,
        ScopeVerdict::FollowsPair,
        ScopeVerdict::SharedDomain,
        ScopeVerdict::SharedSite,
        ScopeVerdict::SharedNetwork,
        ScopeVerdict::SharedClientVersion,
        ScopeVerdict::AllFail,
        ScopeVerdict::NoPattern,
    ]
    .iter()
    .map(|v| {
        let json = serde_json::to_string(v).unwrap();
        assert_eq!(json, format!("\"{}\"", v.as_str()));
        json
    })
    .collect();
    assert_eq!(
        words.join(" "),
        "\"follows-user\" \"follows-callee\" \"follows-caller\" \"follows-pair\" \
         \"shared-domain\" \"shared-site\" \"shared-network\" \"shared-client-version\" \
         \"all-fail\" \"no-pattern\""
    );
    let run = crate::report::fixture::service_run();
    let text = serde_json::to_string(&run.scenarios[0]).unwrap();
    assert!(text.contains(r#""scope":{"verdict":"follows-user","subject":"bob","side":"either""#));
    let back: ScenarioReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, run.scenarios[0]);
    // No matrix, no key.
    let plain = crate::report::fixture::sample_run();
    assert!(!serde_json::to_string(&plain).unwrap().contains("\"scope\""));
}

#[test]
fn partial_candidates_that_cover_the_same_calls_are_listed_once() {
    // In the service fixture contoso.com, site hq and client 8.0.0 are the same three people.
    let run = crate::report::fixture::service_run();
    let s = run.scenarios[0].scope.as_ref().unwrap();
    let labels: Vec<&str> = s.evidence.iter().map(|e| e.label.as_str()).collect();
    assert!(
        labels.contains(&"calls from a participant in contoso.com"),
        "{labels:?}"
    );
    assert!(!labels.contains(&"calls from a participant at site hq"));
    assert!(!labels.contains(&"calls from a participant on client 8.0.0"));
}
