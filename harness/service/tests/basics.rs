//! One tenant at a time: sign-in, call admission by A/V policy, whole-service outages, the
//! code, class and words of every refusal, and directories that contradict themselves.

use super::super::directory::*;
use super::super::*;
use super::{invite, sign_in, v, ALICE, BOB};

const CAROL: &str = "carol@fabrikam.com";

/// contoso (min client 7.0) with alice and bob; fabrikam (A/V off for the tenant) with carol.
fn service(contoso_av: bool, bob_av: Option<bool>) -> Service {
    let tenant = |name: &str, av: bool| Tenant {
        policy: Policy {
            audio_video: av,
            ..Policy::default()
        },
        min_client: v("7.0"),
        ..Tenant::new(name, &[&format!("{name}.com")])
    };
    let dir = Directory::new(
        vec![tenant("contoso", contoso_av), tenant("fabrikam", false)],
        vec![
            User::new(ALICE, "pw"),
            User {
                audio_video: bob_av,
                ..User::new(BOB, "pw")
            },
            User::new(CAROL, "pw"),
        ],
    )
    .unwrap();
    Service::new(dir)
}

#[test]
fn sign_in_answers_401_for_a_wrong_password_or_account_and_488_for_an_old_client() {
    let mut s = service(true, None);
    let r = sign_in(&mut s, ALICE, "wrong", v("8.0"));
    assert_eq!(
        (r.code.number(), r.refusal),
        (401, Some(Refusal::SignInFailed))
    );
    let r = sign_in(&mut s, "nobody@contoso.com", "pw", v("8.0"));
    assert_eq!(
        r.refusal,
        Some(Refusal::SignInFailed),
        "same answer as a wrong password"
    );
    let r = sign_in(&mut s, ALICE, "pw", v("6.9.9"));
    assert_eq!(
        (r.code.number(), r.refusal),
        (488, Some(Refusal::ClientOutdated))
    );
    assert!(s.session(ALICE).is_none());
    assert!(
        sign_in(&mut s, ALICE, "pw", v("7.0")).is_ok(),
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
    sign_in(&mut s, ALICE, "pw", v("8"));
    assert_eq!(invite(&mut s, ALICE, "zed@contoso.com").code.number(), 404);
    assert_eq!(
        invite(&mut s, ALICE, BOB).code.number(),
        480,
        "bob not signed in"
    );
    sign_in(&mut s, BOB, "pw", v("8"));
    let ok = invite(&mut s, ALICE, BOB);
    assert_eq!((ok.code, ok.refusal, ok.shown), (Code::Ok, None, None));
    let sign_out = |s: &mut Service| {
        s.handle(
            2,
            Request::SignOut {
                address: BOB.into(),
            },
        )
    };
    assert!(sign_out(&mut s).is_ok());
    assert_eq!(invite(&mut s, ALICE, BOB).code.number(), 480, "signed out");
    assert_eq!(sign_out(&mut s).code.number(), 401);
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
        sign_in(&mut s, ALICE, "pw", v("8"));
        sign_in(&mut s, BOB, "pw", v("8"));
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
    sign_in(&mut s, BOB, "pw", v("8"));
    sign_in(&mut s, CAROL, "pw", v("8"));
    assert_eq!(
        invite(&mut s, BOB, CAROL).refusal,
        Some(Refusal::AvDisabled)
    );
}

#[test]
fn an_outage_answers_503_to_everything_and_loses_the_sessions() {
    let mut s = service(true, None);
    sign_in(&mut s, ALICE, "pw", v("8"));
    s.set_up(false);
    assert!(!s.is_up());
    let r = sign_in(&mut s, BOB, "pw", v("8"));
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

/// Each refusal's code and class, pinned: scenarios and reports depend on them.
#[test]
fn every_refusal_has_its_code_class_and_words() {
    use Refusal::*;
    let table = [
        (SignInFailed, 401, "sign-in-failed"),
        (ClientOutdated, 488, "client-outdated"),
        (NotSignedIn, 401, "not-signed-in"),
        (AvDisabled, 403, "av-disabled"),
        (NoSuchUser, 404, "no-such-user"),
        (Unavailable, 480, "unavailable"),
        (ServiceDown, 503, "service-down"),
        (Unreachable, 408, "unreachable"),
        (ExternalAccessOff, 403, "external-access-off"),
        (PublicImOff, 403, "public-im-off"),
        (DomainNotFederated, 403, "domain-not-federated"),
        (DomainNotAllowed, 403, "domain-not-allowed"),
        (FederationSrvMissing, 504, "federation-srv-missing"),
        (PublicImAddressFormat, 404, "public-im-address-format"),
        (ExternalClientOutdated, 488, "external-client-outdated"),
        (ContactBlocked, 403, "contact-blocked"),
        (NotMutualContacts, 403, "not-mutual-contacts"),
    ];
    assert_eq!(table.len(), Refusal::ALL.len());
    for ((r, code, class), all) in table.into_iter().zip(Refusal::ALL) {
        assert_eq!(r, all, "table in declaration order");
        let resp = Response::refused(r);
        assert!(!resp.is_ok());
        assert_eq!((resp.code.number(), r.class()), (code, class));
        assert_eq!(resp.shown.as_deref(), Some(r.client_words()));
        assert!(!r.client_words().is_empty());
        assert!(resp
            .code
            .to_string()
            .starts_with(&resp.code.number().to_string()));
        if r.is_federation() {
            assert!(r.kb().unwrap().starts_with("FED-"), "{r:?}");
        }
    }
    assert_eq!(Code::Forbidden.to_string(), "403 Forbidden");
    assert_eq!(Code::RequestTimeout.to_string(), "408 Request Timeout");
    assert_eq!(Code::ServerTimeout.to_string(), "504 Server Time-out");
    assert_eq!(
        AvDisabled.client_words(),
        "Certain audio and video options are unavailable",
        "KB 2386553's words"
    );
}

#[test]
fn directories_refuse_contradictions() {
    let t = |d: &str| Tenant::new(d, &[d]);
    let u = |a: &str| User::new(a, "");
    assert_eq!(
        Directory::new(vec![t("a.com"), t("a.com")], vec![]).unwrap_err(),
        DirectoryError::DomainTwice("a.com".into())
    );
    let pic = Tenant::public_im("p", &["p.com"], &["A.com"]);
    assert_eq!(
        Directory::new(vec![t("a.com"), pic], vec![]).unwrap_err(),
        DirectoryError::DomainTwice("a.com".into()),
        "a custom domain counts, whatever its case"
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
    let pic = Tenant::public_im("p", &["p.com"], &["c.com"]);
    let dir = Directory::new(vec![pic], vec![u("x@c.com")]).unwrap();
    assert_eq!(
        dir.tenant_of("x@c.com").unwrap().name,
        "p",
        "hosted custom domain"
    );
    assert!("6.x".parse::<Version>().is_err());
    assert!(v("6.3") < v("6.10") && v("7") == v("7.0.0"));
}
