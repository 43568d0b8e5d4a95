//! Quality numbers that follow what the listener heard (issue 13): MOS from playout, an adaptive
//! jitter buffer by default, measured one-way delay, duplicates counted where they arrive.
//! Each test states the closed form or the independent count it is checked against.

mod common;
use callharness::report::model::ScenarioReport;
use callharness::sim::{run_scenario, world, RunOptions};
use common::{scenario, stream};

fn run(yaml: &str, seed: u64) -> ScenarioReport {
    common::run(&scenario(yaml), seed)
}

/// The KB roaming case: the media path is lost at 20 s, the call drops when ICE gives up
/// (5 s disconnected + 25 s failed). RFC 3550 loss stays near 0 (nothing after the last packet
/// received is "expected"), but the listener heard silence from 20 s to the drop.
#[test]
fn a_dropped_call_reads_as_what_the_listener_heard() {
    let r = run(
        r#"
name: roaming
duration: 60s
participants:
  alice: { network: clean }
  bob: { network: clean }
timeline:
  - { at: 20s, participant: alice, address_change: true }
calls:
  - { caller: alice, callee: bob, at: 0s, expect: call-dropped }
"#,
        1,
    );
    let failed_at = r
        .events
        .iter()
        .find(|e| e.kind == "call-failed")
        .unwrap()
        .at_ms as f64;
    for from in ["alice", "bob"] {
        let st = stream(&r, from);
        assert!(
            st.loss_pct < 1.0,
            "RFC 3550 loss is what it is: {}",
            st.loss_pct
        );
        // Closed form: about 20 s heard, (drop - 20 s) concealed.
        let dead = (failed_at - 20_000.0) / failed_at * 100.0;
        let heard = st.playout_loss_pct.unwrap();
        assert!((heard - dead).abs() < 2.0, "{from}: {heard} vs {dead}");
        let gap = st.max_concealment_ms.unwrap();
        assert!((gap - (failed_at - 20_000.0)).abs() < 200.0, "{gap}");
        assert!(
            st.mos < 1.5,
            "{from}: MOS {} for a call that went silent",
            st.mos
        );
        // The per-second MOS is low in every silent second, and healthy before the move.
        for s in &st.series {
            let t = s.t as f64 * 1000.0;
            if t > 21_000.0 && t + 1000.0 < failed_at {
                assert!(s.mos.is_some_and(|m| m < 1.5), "{s:?}");
                assert_eq!(s.concealed_pct, Some(100.0), "{s:?}");
            }
            if (2_000.0..19_000.0).contains(&t) {
                assert!(s.mos.is_some_and(|m| m > 4.0), "{s:?}");
            }
        }
    }
}

/// The issue's case: the path delay steps from about 10 ms to 100 ms with no loss at all.
fn delay_step(jitter_buffer: &str) -> ScenarioReport {
    run(
        &format!(
            r#"
name: delay-step
duration: 40s
participants:
  alice: {{ network: clean, jitter_buffer: {jitter_buffer} }}
  bob: {{ network: clean, jitter_buffer: {jitter_buffer} }}
timeline:
  - {{ at: 10s, participant: bob, set: {{ down.delay: 100ms }} }}
calls:
  - {{ caller: alice, callee: bob, at: 0s, duration: 39s }}
"#
        ),
        3,
    )
}

#[test]
fn a_delay_step_costs_a_short_burst_with_the_default_buffer_and_the_call_with_a_fixed_one() {
    let fixed = delay_step("{ mode: fixed, initial: 40ms }");
    let st = stream(&fixed, "alice");
    assert_eq!(st.loss_pct, 0.0);
    // 90 ms later behind a 40 ms buffer: every packet after 10 s is late, about 29 s of 39.
    assert!(st.playout_loss_pct.unwrap() > 65.0, "{st:?}");
    assert!(st.late > 1400, "{}", st.late);
    assert!(st.mos < 2.0, "{}", st.mos);

    let adaptive = delay_step("{ mode: adaptive }");
    let st = stream(&adaptive, "alice");
    assert_eq!((st.loss_pct, st.late), (0.0, 0));
    // The buffer waits for the delayed frames: 90 ms is under five frames of concealment, once.
    let gap = st.max_concealment_ms.unwrap();
    assert!(gap <= 100.0, "{gap}");
    assert!(st.playout_loss_pct.unwrap() < 0.3, "{st:?}");
    assert!(st.mos > 4.0, "{}", st.mos);
    // The default is the adaptive buffer.
    let default = run(
        r#"
name: delay-step-default
duration: 40s
participants:
  alice: { network: clean }
  bob: { network: clean }
timeline:
  - { at: 10s, participant: bob, set: { down.delay: 100ms } }
calls:
  - { caller: alice, callee: bob, at: 0s, duration: 39s }
"#,
        3,
    );
    assert_eq!(
        stream(&default, "alice").playout_loss_pct,
        stream(&adaptive, "alice").playout_loss_pct
    );
}

/// 300 ms one way, 10 ms back: half the RTT would give both directions the same delay.
#[test]
fn one_way_delay_is_measured_per_direction() {
    let yaml = r#"
name: asymmetric
duration: 30s
participants:
  alice: { network: clean, overrides: { up: { delay: 290ms } } }
  bob: { network: clean }
calls:
  - { caller: alice, callee: bob, at: 0s, duration: 29s }
"#;
    let s = scenario(yaml);
    let r = run_scenario(&s, 5, &RunOptions::default()).unwrap();
    let net: callharness::net::Network<()> =
        callharness::net::Network::new(&world::network_config(&s), 1, &[]).unwrap();
    let (a, b) = (net.host_id("alice").unwrap(), net.host_id("bob").unwrap());
    for (from, path) in [
        ("alice", net.path_delay(a, b)),
        ("bob", net.path_delay(b, a)),
    ] {
        let st = stream(&r, from);
        let path_ms = path as f64 / 1e6;
        let owd = st.one_way_delay_ms.unwrap();
        // Fixed delays only: every packet takes exactly the path delay (plus serialisation,
        // none on a link without a rate).
        assert!((owd - path_ms).abs() < 0.01, "{from}: {owd} vs {path_ms}");
        assert_eq!(st.one_way_delay_source.as_deref(), Some("measured"));
    }
    let (slow, fast) = (stream(&r, "alice"), stream(&r, "bob"));
    let rtt = slow.rtt_ms.unwrap();
    assert!((rtt - 320.0).abs() < 1.0, "{rtt}");
    // Ta = one way + buffer + 26.5 ms: the E-model's knee at 177.3 ms separates them.
    assert!(
        slow.mos < 3.6 && fast.mos > 4.3,
        "{} {}",
        slow.mos,
        fast.mos
    );
    assert!(fast.mos - slow.mos > 0.8);
}

/// Network duplicates are counted at the host, before SRTP's replay check drops them, and do
/// not change RFC 3550 loss (unique packets).
#[test]
fn network_duplicates_are_counted_where_they_arrive() {
    let r = run(
        r#"
name: duplicating
duration: 62s
participants:
  alice: { network: clean, overrides: { up: { duplicate: 5% } } }
  bob: { network: clean }
calls:
  - { caller: alice, callee: bob, at: 0s, duration: 61s }
"#,
        9,
    );
    let st = stream(&r, "alice");
    assert_eq!(st.lost, 0);
    // Binomial: n ≈ 3050 packets, p = 0.05: mean 152, σ = 12; ±5σ cannot fail by chance.
    let n = st.packets_sent as f64;
    let (mean, sigma) = (n * 0.05, (n * 0.05 * 0.95).sqrt());
    let d = st.duplicates as f64;
    assert!((d - mean).abs() < 5.0 * sigma, "{d} duplicates of {n}");
    assert_eq!(
        st.extra["arrivals"] as u64,
        st.packets_received + st.duplicates
    );
    assert_eq!(stream(&r, "bob").duplicates, 0);
}

/// A participant's `profile:` action switches its access link to another profile mid-call
/// (the README's own example): `lossy-5pct` after 20 s on a clean link loses about 5 % of
/// what crosses it from then on, and nothing before.
#[test]
fn a_profile_switch_on_the_timeline_changes_the_link_from_then_on() {
    let r = run(
        r#"
name: switch
duration: 42s
participants:
  alice: { network: clean }
  bob: { network: clean }
timeline:
  - { at: 20s, participant: bob, profile: lossy-5pct }
calls:
  - { caller: alice, callee: bob, at: 0s, duration: 41s }
"#,
        4,
    );
    assert!(r
        .events
        .iter()
        .any(|e| e.kind == "profile-change" && e.at_ms == 20_000));
    let st = stream(&r, "alice");
    let lost_by_second = |from: u64, to: u64| -> f64 {
        let secs: Vec<f64> = st
            .series
            .iter()
            .filter(|s| s.t >= from && s.t < to)
            .filter_map(|s| s.loss_pct)
            .collect();
        secs.iter().sum::<f64>() / secs.len() as f64
    };
    assert_eq!(lost_by_second(1, 20), 0.0);
    // About 1000 packets after the switch at 5 %: σ = 0.7 points; 5σ bounds.
    let after = lost_by_second(21, 40);
    assert!((after - 5.0).abs() < 3.5, "{after}");
}
