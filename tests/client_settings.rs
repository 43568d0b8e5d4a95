//! A participant's client settings, end to end: each `audio:` and `ice:` field changes what the
//! report shows, checked against a closed form or against the same call without the setting.

mod common;
use callharness::report::model::{ScenarioReport, StreamReport};
use common::{run, scenario};

/// The stream `from` sends, in whichever call.
fn sent_by<'a>(r: &'a ScenarioReport, from: &str) -> &'a StreamReport {
    r.calls
        .iter()
        .flat_map(|c| c.streams.iter())
        .find(|s| s.from == from)
        .unwrap_or_else(|| panic!("no stream from {from}"))
}

/// Mean received payload bitrate over the stream's seconds, kbit/s (the `bitrate` metric).
fn bitrate_kbps(s: &StreamReport) -> f64 {
    s.series.iter().map(|x| x.bitrate_kbps).sum::<f64>() / s.series.len() as f64
}

fn extra(s: &StreamReport, key: &str) -> f64 {
    *s.extra
        .get(key)
        .unwrap_or_else(|| panic!("no `{key}` in {:?}", s.extra))
}

/// A scenario of 62 s with `participants` and two 61 s calls a->b and c->d from t = 0.
fn two_calls(participants: &str) -> String {
    format!(
        "name: client-settings\nduration: 62s\nparticipants:\n{participants}calls:
  - {{ caller: a, callee: b, at: 0s, duration: 61s }}
  - {{ caller: c, callee: d, at: 0s, duration: 61s }}\n"
    )
}

#[test]
fn bitrate_sets_the_received_bitrate_and_the_mos() {
    let r = run(
        &scenario(&two_calls(
            "  a: { network: clean, audio: { bitrate: 12kbit } }
  b: { network: clean, audio: { bitrate: 64kbit } }
  c: { network: clean, audio: { bitrate: 24kbit } }
  d: { network: clean }
",
        )),
        3,
    );
    let mut last = 0.0;
    for (who, target) in [("a", 12.0), ("c", 24.0), ("d", 32.0), ("b", 64.0)] {
        let s = sent_by(&r, who);
        let kbps = bitrate_kbps(s);
        // libopus's VBR spends the target on speech and less in the pauses (about 60 % of the
        // P.59 source): the mean is below the target, and well above half of it.
        assert!(
            kbps <= target * 1.05 && kbps >= target * 0.55,
            "{who}: {kbps:.2} kbit/s for a {target} kbit/s target"
        );
        assert!(kbps > last, "{who}: {kbps} not above {last}");
        last = kbps;
        assert_eq!(s.lost, 0);
    }
    // The E-model's assumed Ie for low-rate Opus: 12 kbit/s costs MOS on a clean path.
    assert!(sent_by(&r, "a").mos < sent_by(&r, "b").mos - 0.1);
    assert_eq!(sent_by(&r, "d").mos, sent_by(&r, "c").mos);
}

#[test]
fn frame_duration_sets_the_packet_rate_and_the_codec_delay() {
    let r = run(
        &scenario(&two_calls(
            "  a: { network: clean, audio: { frame: 10ms } }
  b: { network: clean, audio: { frame: 40ms } }
  c: { network: clean, audio: { frame: 60ms } }
  d: { network: clean }
",
        )),
        5,
    );
    for (who, frame_ms) in [("a", 10.0), ("b", 40.0), ("c", 60.0), ("d", 20.0)] {
        let call = r
            .calls
            .iter()
            .find(|c| c.caller == who || c.callee == who)
            .unwrap();
        let s = sent_by(&r, who);
        // Closed form: one packet per frame from connection to hang-up.
        let sending_ms = call.end_ms as f64 - call.offer_ms.unwrap() - call.setup_ms.unwrap();
        let expected = sending_ms / frame_ms;
        assert!(
            (s.packets_sent as f64 - expected).abs() <= 1.0,
            "{who}: {} packets of {frame_ms} ms in {sending_ms} ms",
            s.packets_sent
        );
        assert_eq!(s.packets_received, s.packets_sent, "{who}");
        // The receiver plays the sender's frames: no concealment, and RFC 3550 jitter stays 0
        // only if the timestamps step 48 units per ms of frame.
        assert_eq!(s.playout_loss_pct, Some(0.0), "{who}");
        assert!(s.jitter_ms < 0.01, "{who}: jitter {}", s.jitter_ms);
        assert_eq!(s.max_gap_ms, frame_ms, "{who}");
        // Mouth-to-ear delay: network + buffer + one frame of packetisation + 6.5 ms look-ahead.
        let codec_ms =
            extra(s, "ta_ms") - s.one_way_delay_ms.unwrap() - extra(s, "jitter_buffer_delay_ms");
        assert!(
            (codec_ms - (frame_ms + 6.5)).abs() < 0.01,
            "{who}: {codec_ms}"
        );
    }
}

/// alice's stream over a 10 % random-loss path (5 % each way), with or without FEC.
fn lossy_call(audio: &str) -> StreamReport {
    let s = scenario(&format!(
        "name: fec
duration: 62s
participants:
  alice: {{ network: lossy-5pct, audio: {audio} }}
  bob: {{ network: lossy-5pct }}
calls:
  - {{ caller: alice, callee: bob, at: 0s, duration: 61s }}
"
    ));
    sent_by(&run(&s, 11), "alice").clone()
}

#[test]
fn fec_rebuilds_lost_frames_the_listener_would_otherwise_hear_concealed() {
    let off = lossy_call("{ fec: false }");
    let on = lossy_call("{ fec: true, expected_loss: 10% }");
    // The same network drops (the loss model does not depend on packet sizes).
    assert_eq!(on.lost, off.lost);
    assert!(off.lost > 200, "{}", off.lost);
    let recovered = extra(&on, "frames_fec_recovered");
    let (c_on, c_off) = (
        extra(&on, "frames_concealed"),
        extra(&off, "frames_concealed"),
    );
    eprintln!(
        "FEC: lost {}, recovered {recovered}, concealed {c_on} vs {c_off}; playout loss {:?} vs {:?}; MOS {} vs {}",
        on.lost, on.playout_loss_pct, off.playout_loss_pct, on.mos, off.mos
    );
    // Only talk-spurt frames get redundancy (the pauses carry none): a share of the losses.
    assert!(
        recovered >= 0.1 * on.lost as f64,
        "{recovered} of {}",
        on.lost
    );
    // Each recovered frame is one concealment less, within the adaptive buffer's
    // underflow-and-merge ticks (after waiting for a missing frame it moves straight on to the
    // next one that arrived), which differ between the runs: 6-7 % of the concealments on
    // seeds 11 and 13. A 10 % bound still fails if FEC rebuilt nothing the listener hears
    // (then c_on + recovered - c_off = recovered, about 40 % of c_off here).
    assert!(
        (c_on + recovered - c_off).abs() <= 0.10 * c_off,
        "{c_on} + {recovered} vs {c_off}"
    );
    let (p_on, p_off) = (on.playout_loss_pct.unwrap(), off.playout_loss_pct.unwrap());
    assert!(
        p_on < p_off - 1.0,
        "playout loss {p_on} % with FEC, {p_off} % without"
    );
    assert!(on.mos > off.mos);
    assert!(!off.extra.contains_key("frames_fec_recovered"));
}

#[test]
fn dtx_sends_nothing_in_silence_and_the_pause_is_not_loss() {
    let r = run(
        &scenario(&two_calls(
            "  a: { network: clean, audio: { dtx: true } }
  b: { network: clean }
  c: { network: clean, audio: { dtx: true, frame: 60ms } }
  d: { network: clean }
",
        )),
        9,
    );
    let (dtx, plain) = (sent_by(&r, "a"), sent_by(&r, "b"));
    let held = extra(dtx, "dtx_frames_not_sent");
    eprintln!(
        "DTX: {} packets sent, {held} held back; without: {}",
        dtx.packets_sent, plain.packets_sent
    );
    // Every frame is either sent or held back: the packets without DTX (same call time, to
    // a frame: the two calls' signaling crosses different TCP connections, so one call's
    // media may start a frame earlier).
    let frames = dtx.packets_sent as f64 + held;
    assert!(
        (frames - plain.packets_sent as f64).abs() <= 1.0,
        "{frames} frames with DTX, {} without",
        plain.packets_sent
    );
    assert!(held > 0.2 * plain.packets_sent as f64, "{held}");
    assert!(bitrate_kbps(dtx) < bitrate_kbps(plain));
    for s in [dtx, sent_by(&r, "c")] {
        // RFC 3550 counts sequence numbers: the pause is no loss; nor is it an arrival gap,
        // concealment, or a MOS cost.
        assert_eq!((s.lost, s.late), (0, 0), "{}", s.from);
        assert_eq!(s.playout_loss_pct, Some(0.0), "{}", s.from);
        assert_eq!(s.concealed_ratio, Some(0.0), "{}", s.from);
        let frame = if s.from == "c" { 60.0 } else { 20.0 };
        assert_eq!(s.max_gap_ms, frame, "{}", s.from);
        // The receiver played comfort noise for (nearly) every frame held back: those still
        // due when the call ended are not played.
        let silent = extra(s, "frames_dtx_silent");
        let held = extra(s, "dtx_frames_not_sent");
        assert!(
            silent <= held && silent >= held - 100.0 / frame,
            "{silent} vs {held}"
        );
    }
    assert_eq!(dtx.mos, plain.mos);
}

/// An 8 s outage of `carol`'s link from 10 s, with `ice` on carol's client; the report.
fn outage_with(ice: &str, expect: &str) -> ScenarioReport {
    run(
        &scenario(&format!(
            "name: ice
duration: 40s
participants:
  carol: {{ network: clean, ice: {ice} }}
  dave: {{ network: clean }}
calls:
  - {{ caller: carol, callee: dave, at: 0s, duration: 35s, expect: {expect} }}
timeline:
  - {{ at: 10s, participant: carol, outage: 8s }}
"
        )),
        2,
    )
}

#[test]
fn the_ice_failed_timeout_decides_whether_an_outage_drops_the_call() {
    // Defaults (disconnected 5 s, failed 30 s): an 8 s outage is survived.
    let r = outage_with("{}", "connected");
    assert!(r.expectations.iter().all(|e| e.met), "{:?}", r.expectations);
    assert!(r.calls[0].failure.is_none());
    assert!(sent_by(&r, "dave").max_gap_ms >= 8000.0);
    // failed_timeout 6 s: the call drops during the outage. rtc 0.21 counts from the last
    // consent check heard (not from the last media), so between failed - keepalive and failed
    // after the link went down.
    for (keepalive_s, ice) in [
        (2.0, "{ disconnected_timeout: 3s, failed_timeout: 6s }"),
        (
            0.4,
            "{ disconnected_timeout: 3s, failed_timeout: 6s, keepalive: 400ms }",
        ),
    ] {
        let r = outage_with(ice, "call-dropped");
        assert!(
            r.expectations.iter().all(|e| e.met),
            "{ice}: {:?}",
            r.expectations
        );
        let ended_s = r.calls[0].end_ms as f64 / 1000.0;
        assert!(
            // Within one 200 ms step of rtc's ICE timer.
            ended_s >= 16.0 - keepalive_s - 0.2 && ended_s <= 16.2,
            "{ice}: dropped at {ended_s} s"
        );
    }
    // A failed timeout longer than the outage: disconnected for a while, then back.
    let r = outage_with(
        "{ disconnected_timeout: 3s, failed_timeout: 12s }",
        "connected",
    );
    assert!(r.expectations.iter().all(|e| e.met), "{:?}", r.expectations);
}

/// The uplink packet counts of a 61 s call c->d on clean links, with `ice` on c's client, and
/// how long the call was connected, s.
fn uplinks(ice: &str) -> (f64, f64, f64) {
    let r = run(
        &scenario(&format!(
            "name: keepalive
duration: 62s
participants:
  c: {{ network: clean, ice: {ice} }}
  d: {{ network: clean }}
calls:
  - {{ caller: c, callee: d, at: 0s, duration: 61s }}
"
        )),
        4,
    );
    let up = |host: &str| {
        r.links
            .iter()
            .find(|l| l.link == format!("{host}.up"))
            .unwrap()
            .packets_in as f64
    };
    let call = &r.calls[0];
    let connected_s = ((call.end_ms - call.start_ms) as f64 - call.setup_ms.unwrap()) / 1000.0;
    (up("c"), up("d"), connected_s)
}

#[test]
fn keepalive_sets_the_consent_checks_on_the_link() {
    let (c2, d2, connected_s) = uplinks("{}");
    for keepalive_s in [1.0, 0.4] {
        let (c, d, _) = uplinks(&format!("{{ keepalive: {}ms }}", keepalive_s * 1000.0));
        // Closed form: one consent check per keepalive while connected, each answered, and
        // each drawing a triggered check from d that c answers: two more packets each way per
        // extra check. Everything else (RTP, RTCP) is the same packet for packet.
        let extra_checks = connected_s * (1.0 / keepalive_s - 1.0 / 2.0);
        for (host, more) in [("c", c - c2), ("d", d - d2)] {
            assert!(
                (more - 2.0 * extra_checks).abs() <= 0.05 * extra_checks + 3.0,
                "keepalive {keepalive_s} s: {more} more packets on {host}.up, expected {:.0}",
                2.0 * extra_checks
            );
        }
    }
}
