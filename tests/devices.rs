//! A participant's audio devices (issue 17, DEV-*): a missing or busy microphone or speaker
//! keeps its client from placing or answering a call, before any network traffic for it,
//! while the same device model on another machine works; without microphone permission the
//! call connects but that side sends no audio; a dead microphone sends silence the receiver
//! detects, a muted speaker decodes and plays nothing, an old driver's capture stalls are
//! concealed on that endpoint's stream only, a driver at the wrong sample rate sends too slowly
//! and the receiver runs dry; bad values are errors at their field.

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
        ("{ microphone: { works: loud } }", "works", "silent"),
        ("{ speaker: { works: silent } }", "works", "muted"),
        ("{ microphone: { driver: ancient } }", "driver", "old"),
        ("{ speaker: { driver: old } }", "driver", "works"),
        ("{ keyboard: {} }", "keyboard", "microphone"),
    ] {
        let errors = load_errors(devices);
        let e = errors
            .iter()
            .find(|e| e.path.ends_with(field))
            .unwrap_or_else(|| panic!("{devices}: {errors:?}"));
        assert_eq!(e.line, 6, "{e:?}");
        assert!(e.to_string().contains(choice), "{devices}: {e}");
        // The message names the file, line and field.
        assert!(e.to_string().starts_with("s.yaml:6:"), "{e}");
        assert!(e.to_string().contains(field), "{e}");
    }
    // Every value is built: each loads.
    for devices in [
        "{ microphone: { works: silent } }",
        "{ speaker: { works: muted } }",
        "{ microphone: { driver: old } }",
        "{ microphone: { works: yes, driver: current }, speaker: { works: yes } }",
        "{ camera: { state: in-use, permission: denied, works: black } }",
    ] {
        let text = with_devices(devices, "{}");
        let loaded = callharness::scenario::load_str(
            &text,
            std::path::Path::new("s.yaml"),
            &common::profiles(),
        );
        assert!(loaded.is_ok(), "{devices}: {:?}", loaded.err());
    }
    // A camera that captures something else: an error at its field with the values.
    let errors = load_errors("{ camera: { works: blurry } }");
    let e = errors
        .iter()
        .find(|e| e.path.ends_with("camera.works"))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert_eq!(e.line, 6, "{e:?}");
    assert!(e.to_string().contains("one of `yes`, `black`"), "{e}");
}

#[test]
fn the_device_kb_scenarios_give_the_same_report_for_the_same_seed() {
    for f in [
        "dev-missing.yaml",
        "dev-in-use.yaml",
        "dev-permission.yaml",
        "dev-mic-dead.yaml",
        "dev-output-muted.yaml",
        "dev-driver-old.yaml",
        "dev-broken.yaml",
    ] {
        let s = scenario(&common::kb(f));
        let (a, b) = (common::report_json(&s, 3), common::report_json(&s, 3));
        assert_eq!(a, b, "{f}");
    }
}

/// The stream `from` -> `to` of report `r` (any call).
fn stream_of<'a>(
    r: &'a callharness::report::model::ScenarioReport,
    from: &str,
    to: &str,
) -> &'a callharness::report::model::StreamReport {
    r.calls
        .iter()
        .flat_map(|c| &c.streams)
        .find(|s| s.from == from && s.to == to)
        .unwrap_or_else(|| panic!("no stream {from} -> {to}"))
}

#[test]
fn a_dead_microphone_sends_silence_at_the_usual_rate_and_the_receiver_hears_it() {
    let r = run(
        &scenario(&with_devices("{ microphone: { works: silent } }", "{}")),
        1,
    );
    assert!(r.calls.iter().all(|c| c.connected), "{:?}", r.calls);
    // Alice's packets flow as usual (DTX off: one every 20 ms of the 20 s call, from when it
    // connected; 35-byte silent frames, 14 kbit/s) and all arrive...
    let dead = stream_of(&r, "alice", "carol");
    assert!(dead.packets_sent >= 950, "{dead:?}");
    assert_eq!(dead.packets_received, dead.packets_sent, "{dead:?}");
    assert_eq!(dead.playout_loss_pct, Some(0.0), "{dead:?}");
    // ... and Carol's decoder hears silence: no frame at or above -60 dBov, and the level of
    // what it decoded below one 16-bit step (-90.3 dBov): digital silence in, silence out.
    assert_eq!(dead.speech_ratio, Some(0.0), "{dead:?}");
    assert!(dead.decoded_level_dbov.unwrap() < -90.3, "{dead:?}");
    assert!(dead.played_level_dbov.unwrap() < -90.3, "{dead:?}");
    // The other direction, and Bob's call, carry speech.
    for (from, to) in [("carol", "alice"), ("bob", "carol"), ("carol", "bob")] {
        let st = stream_of(&r, from, to);
        assert!(st.speech_ratio.unwrap() > 0.1, "{from}: {st:?}");
        let level = st.decoded_level_dbov.unwrap();
        assert!((-40.0..-20.0).contains(&level), "{from}: {st:?}");
    }
}

#[test]
fn a_muted_speaker_decodes_speech_and_plays_silence() {
    let r = run(
        &scenario(&with_devices("{}", "{ speaker: { works: muted } }")),
        1,
    );
    // Carol's audio reaches Bob and decodes at a normal level; his speaker plays nothing.
    let muted = stream_of(&r, "carol", "bob");
    assert_eq!(muted.packets_received, muted.packets_sent, "{muted:?}");
    assert!(muted.speech_ratio.unwrap() > 0.1, "{muted:?}");
    assert!(muted.decoded_level_dbov.unwrap() > -40.0, "{muted:?}");
    assert_eq!(muted.played_level_dbov, Some(-120.0), "{muted:?}");
    // Everyone else's speaker plays what was decoded (within a dB: concealment and comfort
    // noise frames count at the speaker too).
    for (from, to) in [("bob", "carol"), ("alice", "carol"), ("carol", "alice")] {
        let st = stream_of(&r, from, to);
        let (d, p) = (
            st.decoded_level_dbov.unwrap(),
            st.played_level_dbov.unwrap(),
        );
        assert!(d > -40.0 && (d - p).abs() < 1.0, "{from}: {st:?}");
    }
}

#[test]
fn an_old_driver_stalls_only_its_own_outgoing_stream_and_the_receiver_conceals_it() {
    let old = scenario(&with_devices("{ microphone: { driver: old } }", "{}"));
    let r = run(&old, 1);
    let st = stream_of(&r, "alice", "carol");
    // No packet is lost on the network (no sequence gap: nothing was sent for a stall)...
    assert_eq!(st.lost, 0, "{st:?}");
    assert_eq!(st.loss_pct, 0.0, "{st:?}");
    // ... yet Carol conceals: each stall, less up to two frames of buffer headroom.
    let stalled = st.extra["capture_frames_stalled"];
    let concealed = st.extra["frames_concealed"];
    assert!(stalled >= 10.0, "{st:?}");
    assert!(
        (concealed - stalled).abs() <= stalled / 5.0,
        "{concealed} vs {stalled}"
    );
    assert!(st.playout_loss_pct.unwrap() > 3.0, "{st:?}");
    assert!(st.max_concealment_ms.unwrap() >= 150.0, "{st:?}");
    assert!(st.mos < 4.0, "{st:?}");
    // Closed form: 1/11 of capture time stalls (mean 400 ms every 4.4 s); one 20 s call holds
    // only ~4-5 stalls, so the share strays: within 2-16 % of the frames.
    let share = stalled / (st.packets_sent as f64 + stalled);
    assert!((0.02..0.16).contains(&share), "{share}");
    // Only that endpoint's outgoing stream: Carol's audio to Alice and Bob's call are clean.
    for (from, to) in [("carol", "alice"), ("bob", "carol"), ("carol", "bob")] {
        let st = stream_of(&r, from, to);
        assert_eq!(st.playout_loss_pct, Some(0.0), "{from}: {st:?}");
        assert!(
            !st.extra.contains_key("capture_frames_stalled"),
            "{from}: {st:?}"
        );
    }
    // Same seed, same stalls; another seed, another schedule.
    let again = run(&old, 1);
    assert_eq!(
        stream_of(&again, "alice", "carol").extra,
        st.extra,
        "same seed"
    );
    let other = run(&old, 2);
    assert_ne!(
        stream_of(&other, "alice", "carol").extra["capture_frames_stalled"],
        stalled,
        "another seed"
    );
}

#[test]
fn a_driver_at_the_wrong_sample_rate_sends_slow_and_the_receiver_runs_dry() {
    let r = run(
        &scenario(&with_devices(
            "{ microphone: { driver: wrong-rate } }",
            "{}",
        )),
        1,
    );
    let st = stream_of(&r, "alice", "carol");
    // Nothing lost on the network...
    assert_eq!((st.lost, st.loss_pct), (0, 0.0), "{st:?}");
    // ... but 44,100 samples a second fill 48 kHz frames: Alice sends 44.1/48 = 0.91875 of the
    // frames Carol sends her over the same time, and Carol, playing 50 a second, conceals
    // 1 - 0.91875 = 8.125 % of her playout (a little less: the buffer's first frames).
    let back = stream_of(&r, "carol", "alice");
    let ratio = st.packets_sent as f64 / back.packets_sent as f64;
    assert!((ratio - 0.91875).abs() < 0.003, "{ratio}");
    let concealed = st.concealed_ratio.unwrap() * 100.0;
    assert!((7.5..=8.2).contains(&concealed), "{concealed} {st:?}");
    // RFC 3550 jitter of a constant drift D converges to |D|: 21.769 - 20 = 1.769 ms.
    assert!((st.jitter_ms - 1.769).abs() < 0.1, "{st:?}");
    assert!(st.mos < 4.0, "{st:?}");
    // Only that endpoint's outgoing stream.
    assert_eq!(back.playout_loss_pct, Some(0.0), "{back:?}");
    assert!(back.jitter_ms < 0.5, "{back:?}");
}

#[test]
fn the_device_kb_scenarios_show_the_symptom_and_their_fixes_are_healthy() {
    use callharness::report::model::Outcome;
    for (f, want) in [
        ("dev-mic-dead.yaml", Outcome::Reproduced),
        ("dev-mic-dead-fixed.yaml", Outcome::Healthy),
        ("dev-output-muted.yaml", Outcome::Reproduced),
        ("dev-output-muted-fixed.yaml", Outcome::Healthy),
        ("dev-driver-old.yaml", Outcome::Reproduced),
        ("dev-driver-old-fixed.yaml", Outcome::Healthy),
        ("dev-driver-wrong-rate.yaml", Outcome::Reproduced),
        ("dev-broken.yaml", Outcome::Reproduced),
        ("dev-broken-fixed.yaml", Outcome::Healthy),
    ] {
        let r = run(&scenario(&common::kb(f)), 1);
        assert_eq!(r.outcome, Some(want), "{f}: {:?}", r.expectations);
    }
}

#[test]
fn live_mode_captures_the_same_devices_and_decode_off_measures_no_levels() {
    let text = with_devices(
        "{ microphone: { works: silent } }",
        "{ speaker: { works: muted }, microphone: { driver: old } }",
    );
    let live = text.replace("duration: 30s\n", "duration: 30s\nmedia: live\n");
    assert_ne!(live, text);
    let r = run(&scenario(&live), 1);
    // Alice's dead microphone, encoded live: silence, at the usual rate.
    let dead = stream_of(&r, "alice", "carol");
    assert!(dead.packets_sent >= 950, "{dead:?}");
    assert_eq!(dead.speech_ratio, Some(0.0), "{dead:?}");
    assert!(dead.decoded_level_dbov.unwrap() < -90.3, "{dead:?}");
    // Bob's speaker is muted; his old driver stalls what he sends.
    let to_bob = stream_of(&r, "carol", "bob");
    assert!(to_bob.speech_ratio.unwrap() > 0.1, "{to_bob:?}");
    assert_eq!(to_bob.played_level_dbov, Some(-120.0), "{to_bob:?}");
    let from_bob = stream_of(&r, "bob", "carol");
    assert!(
        from_bob.extra["capture_frames_stalled"] >= 10.0,
        "{from_bob:?}"
    );
    assert!(from_bob.playout_loss_pct.unwrap() > 1.0, "{from_bob:?}");
    assert_eq!(from_bob.lost, 0, "{from_bob:?}");

    // Without decoding nothing is heard, so nothing is measured: null, not a made-up number.
    let off = text.replace("duration: 30s\n", "duration: 30s\ndecode: false\n");
    let r = run(&scenario(&off), 1);
    for st in r.calls.iter().flat_map(|c| &c.streams) {
        assert_eq!(
            (st.speech_ratio, st.decoded_level_dbov, st.played_level_dbov),
            (None, None, None),
            "{st:?}"
        );
    }
}
