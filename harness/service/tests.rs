//! The service state machine: every response code it can give, each policy combination, and a
//! property over any sequence of requests.

use super::directory::*;
use super::*;
use proptest::prelude::*;

const ALICE: &str = "alice@contoso.com";
const BOB: &str = "bob@contoso.com";
const CAROL: &str = "carol@fabrikam.com";

fn v(s: &str) -> Version {
    s.parse().unwrap()
}

/// contoso (min client 7.0) with alice and bob; fabrikam (A/V off for the tenant) with carol.
fn service(contoso_av: bool, bob_av: Option<bool>) -> Service {
    let tenant = |name: &str, av: bool| Tenant {
        name: name.into(),
        domains: vec![format!("{name}.com")],
        policy: Policy {
            audio_video: av,
            ..Policy::default()
        },
        min_client: v("7.0"),
    };
    let user = |a: &str, av: Option<bool>| User {
        address: a.into(),
        password: "pw".into(),
        audio_video: av,
    };
    let dir = Directory::new(
        vec![tenant("contoso", contoso_av), tenant("fabrikam", false)],
        vec![user(ALICE, None), user(BOB, bob_av), user(CAROL, None)],
    )
    .unwrap();
    Service::new(dir)
}

fn sign_in(s: &mut Service, a: &str, pw: &str, client: &str) -> Response {
    s.handle(
        0,
        Request::SignIn {
            address: a.into(),
            password: pw.into(),
            client: v(client),
        },
    )
}

fn invite(s: &mut Service, from: &str, to: &str) -> Response {
    s.handle(
        1,
        Request::Invite {
            from: from.into(),
            to: to.into(),
        },
    )
}

#[test]
fn sign_in_answers_401_for_a_wrong_password_or_account_and_488_for_an_old_client() {
    let mut s = service(true, None);
    let r = sign_in(&mut s, ALICE, "wrong", "8.0");
    assert_eq!(
        (r.code.number(), r.refusal),
        (401, Some(Refusal::SignInFailed))
    );
    let r = sign_in(&mut s, "nobody@contoso.com", "pw", "8.0");
    assert_eq!(
        r.refusal,
        Some(Refusal::SignInFailed),
        "same answer as a wrong password"
    );
    let r = sign_in(&mut s, ALICE, "pw", "6.9.9");
    assert_eq!(
        (r.code.number(), r.refusal),
        (488, Some(Refusal::ClientOutdated))
    );
    assert!(s.session(ALICE).is_none());
    assert!(
        sign_in(&mut s, ALICE, "pw", "7.0").is_ok(),
        "the minimum itself is enough"
    );
    assert_eq!(s.session(ALICE).unwrap().client, v("7.0"));
}

#[test]
fn invite_codes_in_order_of_the_checks() {
    let mut s = service(true, None);
    assert_eq!(
        invite(&mut s, ALICE, BOB).code.number(),
        401,
        "caller not signed in"
    );
    sign_in(&mut s, ALICE, "pw", "8");
    assert_eq!(invite(&mut s, ALICE, "zed@contoso.com").code.number(), 404);
    assert_eq!(
        invite(&mut s, ALICE, BOB).code.number(),
        480,
        "bob not signed in"
    );
    sign_in(&mut s, BOB, "pw", "8");
    let ok = invite(&mut s, ALICE, BOB);
    assert_eq!((ok.code, ok.refusal), (Code::Ok, None));
    assert!(s
        .handle(
            2,
            Request::SignOut {
                address: BOB.into()
            }
        )
        .is_ok());
    assert_eq!(invite(&mut s, ALICE, BOB).code.number(), 480, "signed out");
    assert_eq!(
        s.handle(
            3,
            Request::SignOut {
                address: BOB.into()
            }
        )
        .code
        .number(),
        401
    );
}

/// A/V policy: the tenant's (AV-POLICY-DOMAIN), a user's own over it (AV-POLICY-USER), and
/// either side of the call refusing it.
#[test]
fn av_policy_by_tenant_and_user_on_either_side() {
    // (tenant A/V, bob's own setting) -> alice calls bob, bob calls alice
    let cases = [
        (true, None, 200, 200),
        (true, Some(false), 403, 403),
        (false, None, 403, 403),
        (false, Some(true), 403, 403),
    ];
    for (tenant, bob, a_to_b, b_to_a) in cases {
        let mut s = service(tenant, bob);
        sign_in(&mut s, ALICE, "pw", "8");
        sign_in(&mut s, BOB, "pw", "8");
        let ab = invite(&mut s, ALICE, BOB);
        let ba = invite(&mut s, BOB, ALICE);
        assert_eq!(
            (ab.code.number(), ba.code.number()),
            (a_to_b, b_to_a),
            "tenant {tenant}, bob {bob:?}"
        );
        if !ab.is_ok() {
            assert_eq!(ab.refusal, Some(Refusal::AvDisabled));
        }
    }
    // A user allowed A/V in a tenant that has it off can call only where the far end allows it.
    let mut s = service(false, Some(true));
    sign_in(&mut s, BOB, "pw", "8");
    sign_in(&mut s, CAROL, "pw", "8");
    assert_eq!(
        invite(&mut s, BOB, CAROL).refusal,
        Some(Refusal::AvDisabled)
    );
}

#[test]
fn an_outage_answers_503_to_everything_and_loses_the_sessions() {
    let mut s = service(true, None);
    sign_in(&mut s, ALICE, "pw", "8");
    s.set_up(false);
    assert!(!s.is_up());
    let r = sign_in(&mut s, BOB, "pw", "8");
    assert_eq!(
        (r.code.number(), r.refusal),
        (503, Some(Refusal::ServiceDown))
    );
    assert_eq!(invite(&mut s, ALICE, BOB).code.number(), 503);
    s.set_up(true);
    assert_eq!(
        invite(&mut s, ALICE, BOB).code.number(),
        401,
        "signed out by the outage"
    );
}

#[test]
fn every_refusal_has_its_code_reason_and_words() {
    use Refusal::*;
    for r in [
        SignInFailed,
        ClientOutdated,
        NotSignedIn,
        AvDisabled,
        NoSuchUser,
        Unavailable,
        ServiceDown,
    ] {
        let resp = Response::refused(r);
        assert!(!resp.is_ok());
        assert!(!r.client_words().is_empty() && !r.class().is_empty());
        assert!(resp
            .code
            .to_string()
            .starts_with(&resp.code.number().to_string()));
    }
    assert_eq!(Code::Forbidden.to_string(), "403 Forbidden");
    assert_eq!(
        AvDisabled.client_words(),
        "Certain audio and video options are unavailable",
        "KB 2386553's words"
    );
}

#[test]
fn directories_refuse_contradictions() {
    let t = |d: &str| Tenant {
        name: d.into(),
        domains: vec![d.into()],
        policy: Policy::default(),
        min_client: Version::default(),
    };
    let u = |a: &str| User {
        address: a.into(),
        password: String::new(),
        audio_video: None,
    };
    assert_eq!(
        Directory::new(vec![t("a.com"), t("a.com")], vec![]).unwrap_err(),
        DirectoryError::DomainTwice("a.com".into())
    );
    assert!(matches!(
        Directory::new(vec![t("a.com")], vec![u("x@b.com")]),
        Err(DirectoryError::NoTenant { .. })
    ));
    assert!(matches!(
        Directory::new(vec![t("a.com")], vec![u("x")]),
        Err(DirectoryError::BadAddress(_))
    ));
    assert!(matches!(
        Directory::new(vec![t("a.com")], vec![u("x@a.com"), u("x@a.com")]),
        Err(DirectoryError::UserTwice(_))
    ));
    assert!("6.x".parse::<Version>().is_err());
    assert!(v("6.3") < v("6.10") && v("7") == v("7.0.0"));
}

fn request() -> impl Strategy<Value = Request> {
    let who = prop_oneof![Just(ALICE), Just(BOB), Just(CAROL), Just("zed@contoso.com")];
    let pw = prop_oneof![Just("pw"), Just("bad")];
    let client = prop_oneof![Just("6.3"), Just("7.0"), Just("8.2")];
    prop_oneof![
        (who.clone(), pw, client).prop_map(|(a, p, c)| Request::SignIn {
            address: a.into(),
            password: p.into(),
            client: v(c),
        }),
        who.clone()
            .prop_map(|a| Request::SignOut { address: a.into() }),
        (who.clone(), who).prop_map(|(f, t)| Request::Invite {
            from: f.into(),
            to: t.into(),
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any sequence of requests and outages: an admitted call always has both ends signed in
    /// with A/V allowed, only known users with the right password and a recent client are
    /// ever signed in, and the same sequence always gives the same answers.
    #[test]
    fn any_sequence_keeps_sessions_and_admissions_consistent(
        steps in prop::collection::vec((request(), any::<bool>(), 0u8..20), 1..40),
        bob_av in prop_oneof![Just(None), Just(Some(false)), Just(Some(true))],
    ) {
        let mut s = service(true, bob_av);
        let mut again = service(true, bob_av);
        for (i, (req, _, outage)) in steps.iter().enumerate() {
            if *outage == 0 {
                s.set_up(!s.is_up());
                again.set_up(!again.is_up());
            }
            let r = s.handle(i as u64, req.clone());
            prop_assert_eq!(&r, &again.handle(i as u64, req.clone()));
            prop_assert_eq!(r.is_ok(), r.refusal.is_none());
            if let Request::Invite { from, to } = req {
                if r.is_ok() {
                    prop_assert!(s.session(from).is_some() && s.session(to).is_some());
                    prop_assert!(s.directory.audio_video_allowed(from));
                    prop_assert!(s.directory.audio_video_allowed(to));
                }
            }
            for (a, sess) in &s.sessions {
                prop_assert!(s.directory.user(a).is_some());
                prop_assert!(sess.client >= v("7.0"));
            }
            if !s.is_up() {
                prop_assert!(s.sessions.is_empty());
            }
        }
    }
}
