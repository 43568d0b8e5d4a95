//! A participant's audio devices (issue 17, DEV-*): a missing or busy microphone or speaker
//! keeps its client from placing or answering a call, before any network traffic for it,
//! while the same device model on another machine works; without microphone permission the
//! call connects but that side sends no audio; bad values are errors at their field.

mod common;
use common::{run, scenario};

fn with_devices(alice: &str, bob: &str) -> String {
    format!(
        r#"
name: devices
description: alice's and bob's devices
duration: 30s
participants:
  alice: {{ network: clean, devices: {alice} }}
  bob: {{ network: clean, devices: {bob} }}
  carol: {{ network: clean }}
calls:
  - {{ caller: alice, callee: carol, at: 1s, duration: 20s }}
  - {{ caller: carol, callee: bob, at: 1s, duration: 20s }}
"#
    )
}

#[test]
fn an_unavailable_device_refuses_the_call_before_any_traffic_and_only_on_its_machine() {
    for (device, state) in [
        ("microphone", "missing"),
        ("microphone", "in-use"),
        ("speaker", "missing"),
        ("speaker", "in-use"),
    ] {
        let bad = format!("{{ {device}: {{ state: {state} }} }}");
        // Alice (caller) and Bob (callee) have the device in that state; Carol does not.
        let r = run(&scenario(&with_devices(&bad, &bad)), 1);
        for (ci, who, side) in [(0, "alice", "caller"), (1, "bob", "callee")] {
            let c = &r.calls[ci];
            let f = c.failure.as_ref().expect("a failure");
            assert_eq!(
                f.class, "audio-device-unavailable",
                "{device} {state}: {f:?}"
            );
            assert_eq!(
                f.message,
                "Your audio device is not configured or is in use."
            );
            assert!(
                f.detail
                    .contains(&format!("{who}'s {device} is {state} ({side})")),
                "{f:?}"
            );
            // No offer, no ICE, no media: nothing on the network for this call.
            assert!(
                !c.connected && c.offer_ms.is_none() && c.setup_ms.is_none(),
                "{c:?}"
            );
            assert!(c.candidate_pair.is_none() && c.streams.is_empty(), "{c:?}");
        }
        // The time axis says the calls were placed but not attempted.
        let starts: Vec<&str> = r
            .events
            .iter()
            .filter(|e| e.kind == "call-start")
            .map(|e| e.detail.as_str())
            .collect();
        assert_eq!(
            starts, ["placed; not attempted, no offer sent"; 2],
            "{device} {state}"
        );
        // Devices are not needed to sign in.
        for p in ["alice", "bob", "carol"] {
            let a = r.accounts.iter().find(|a| a.participant == p).unwrap();
            assert!(
                a.signed_in_ms.is_some() && a.failure.is_none(),
                "{p}: {a:?}"
            );
        }
    }
    // The same device model, present, on both: both calls connect.
    let ok = "{ microphone: { state: present }, speaker: { state: present } }";
    let r = run(&scenario(&with_devices(ok, ok)), 1);
    assert!(r.calls.iter().all(|c| c.connected), "{:?}", r.calls);
}

#[test]
fn a_missing_microphone_on_one_machine_leaves_the_same_model_on_another_working() {
    let r = run(
        &scenario(&with_devices(
            "{ microphone: { state: in-use } }",
            "{ microphone: { state: present } }",
        )),
        1,
    );
    assert_eq!(
        r.calls[0].failure.as_ref().map(|f| f.class.as_str()),
        Some("audio-device-unavailable")
    );
    assert!(r.calls[1].connected, "{:?}", r.calls[1]);
}

#[test]
fn without_microphone_permission_the_call_connects_and_that_side_sends_no_audio() {
    let r = run(
        &scenario(&with_devices(
            "{ microphone: { permission: denied } }",
            "{}",
        )),
        1,
    );
    let c = &r.calls[0];
    assert!(c.connected && c.failure.is_none(), "{c:?}");
    let from = |who: &str| c.streams.iter().find(|s| s.from == who).unwrap();
    // No RTP from Alice at all: Carol receives nothing and conceals throughout.
    let alice = from("alice");
    assert_eq!(
        (alice.packets_sent, alice.packets_received),
        (0, 0),
        "{alice:?}"
    );
    assert!(alice.mos < 1.5, "{alice:?}");
    // Carol's audio reaches Alice as usual.
    let carol = from("carol");
    assert!(carol.packets_sent > 900, "{carol:?}");
    assert_eq!(carol.packets_received, carol.packets_sent, "{carol:?}");
    // Bob (permission granted by default) sends as usual on his call.
    let bob = r.calls[1].streams.iter().find(|s| s.from == "bob").unwrap();
    assert!(bob.packets_sent > 900 && bob.packets_received == bob.packets_sent);
}

fn load_errors(devices: &str) -> Vec<callharness::scenario::ScenarioError> {
    let text = with_devices(devices, "{}");
    callharness::scenario::load_str(&text, std::path::Path::new("s.yaml"), &common::profiles())
        .expect_err("bad devices")
        .to_vec()
}

#[test]
fn bad_device_values_are_errors_at_their_field_listing_the_choices() {
    for (devices, field, choice) in [
        ("{ microphone: { state: broken } }", "state", "in-use"),
        (
            "{ microphone: { permission: maybe } }",
            "permission",
            "denied",
        ),
        ("{ microphone: { works: muted } }", "works", "silent"),
        ("{ speaker: { works: silent } }", "works", "muted"),
        ("{ keyboard: {} }", "keyboard", "microphone"),
    ] {
        let errors = load_errors(devices);
        let e = errors
            .iter()
            .find(|e| e.path.ends_with(field))
            .unwrap_or_else(|| panic!("{devices}: {errors:?}"));
        assert_eq!(e.line, 6, "{e:?}");
        assert!(e.to_string().contains(choice), "{devices}: {e}");
    }
    // Values whose behaviour is not built yet are errors at their field, not no-ops.
    for (devices, field) in [
        ("{ microphone: { works: silent } }", "works"),
        ("{ speaker: { works: muted } }", "works"),
    ] {
        let errors = load_errors(devices);
        let e = errors
            .iter()
            .find(|e| e.path.ends_with(field))
            .unwrap_or_else(|| panic!("{devices}: {errors:?}"));
        assert_eq!(e.line, 6, "{e:?}");
        assert!(e.to_string().contains("not built yet"), "{devices}: {e}");
    }
    // A camera is not built yet: an error naming the step it arrives with.
    let errors = load_errors("{ camera: { state: missing } }");
    let e = errors
        .iter()
        .find(|e| e.path.ends_with("camera"))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert_eq!(e.line, 6, "{e:?}");
    assert!(e.to_string().contains("issue 17's video step"), "{e}");
}

#[test]
fn the_device_kb_scenarios_give_the_same_report_for_the_same_seed() {
    for f in ["dev-missing.yaml", "dev-in-use.yaml", "dev-permission.yaml"] {
        let s = scenario(&common::kb(f));
        let (a, b) = (common::report_json(&s, 3), common::report_json(&s, 3));
        assert_eq!(a, b, "{f}");
    }
}
