//! Cross-traffic, link counters and fault attribution, end to end: KB scenarios loaded from
//! `scenarios/kb/` through the library (`scenario::load_str` + `sim::run_scenario`) and run.

mod common;
use callharness::report::model::StreamReport;
use callharness::scenario::load_str;
use common::{kb, root, run, scenario, stream};
use std::path::Path;

/// Every drop the emulator made of the stream's RTP packets is on one of its links.
fn drops_on_links(st: &StreamReport) -> u64 {
    st.links.iter().flat_map(|l| l.dropped.values()).sum()
}

/// NET-CONTENTION with the backup's start moved `shift_ms` later, and `extra` added to the
/// flow (like `arrivals: constant`): (call connected and not dropped, loss % of the stream
/// alice sends).
fn contention(shift_ms: u64, extra: &str) -> (bool, f64) {
    let text = kb("net-contention.yaml");
    let from = "{ at: 10s, site: home, cross_traffic: { name: backup,";
    assert!(text.contains(from), "the scenario's flow line changed");
    let to = format!(
        "{{ at: {}ms, site: home, cross_traffic: {{ name: backup,{extra}",
        10_000 + shift_ms
    );
    let r = run(&scenario(&text.replace(from, &to)), 1);
    let call = &r.calls[0];
    let ok = call.connected && call.failure.is_none();
    (ok, call.streams.first().map_or(100.0, |s| s.loss_pct))
}

#[test]
fn poisson_cross_traffic_does_not_phase_lock_with_the_call() {
    // Moving the backup's start by 0..5 ms changes nothing about the load, so it must not
    // change the outcome. With Poisson arrivals each shift is in effect another random
    // sample of the same load: during the 20 s of contention alice sends ~1000 packets and
    // about 5 % are lost; a binomial count of 50 has a standard deviation of about 7 packets
    // (0.33 points of the whole stream's 2150 packets). Drops in a full queue come in short
    // runs, so allow twice that spread and 4 of those: every shift within ±2.7 points of
    // the mean. Periodic arrivals phase-lock with the 20 ms packets instead: today's
    // behaviour, kept as `arrivals: constant`, swings between a lossy and a dropped call.
    let runs: Vec<(bool, f64)> = (0..=5).map(|ms| contention(ms, "")).collect();
    assert!(runs.iter().all(|r| r.0), "a call failed: {runs:?}");
    let mean = runs.iter().map(|r| r.1).sum::<f64>() / runs.len() as f64;
    assert!(
        mean > 1.0,
        "the contention no longer hurts the call: {runs:?}"
    );
    for r in &runs {
        assert!((r.1 - mean).abs() < 2.7, "{runs:?}");
    }
    let constant: Vec<(bool, f64)> = (0..=5)
        .map(|ms| contention(ms, " arrivals: constant,"))
        .collect();
    // Not a requirement on constant arrivals, a check that this test can tell: the band
    // above would have caught the phase-lock.
    let lo = constant.iter().map(|r| r.1).fold(f64::MAX, f64::min);
    let hi = constant.iter().map(|r| r.1).fold(f64::MIN, f64::max);
    assert!(
        constant.iter().any(|r| !r.0) || hi - lo > 5.4,
        "constant arrivals no longer phase-lock: {constant:?}"
    );
}

#[test]
fn a_bad_flow_in_a_scenario_is_reported_where_it_was_written() {
    let text = kb("net-contention.yaml").replace(
        "packet_size: 1500B",
        "size_mix: [{ size: 1500B, share: 60% }, { size: 80B, share: 30% }]",
    );
    let line = 1 + text
        .lines()
        .position(|l| l.contains("size_mix"))
        .expect("the flow line");
    let profiles = [root().join("scenarios/profiles")];
    let errors = load_str(&text, Path::new("bad.yaml"), &profiles).expect_err("a bad mix");
    let e = errors
        .iter()
        .find(|e| e.path.ends_with("cross_traffic.size_mix"))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert!(e.message.contains("add up to 90%"), "{e:?}");
    assert_eq!(e.line, line, "{e:?}");
}

#[test]
fn the_report_counts_every_packet_on_every_link_and_the_backup_on_its_link() {
    let r = run(&scenario(&kb("net-contention.yaml")), 1);
    for l in &r.links {
        let dropped: u64 = l.dropped.values().sum();
        assert_eq!(
            l.packets_in,
            l.delivered + dropped + l.in_flight_at_end,
            "{l:?}"
        );
        let sum = |f: fn(&callharness::report::model::LinkSecondSample) -> u64| {
            l.series.iter().map(f).sum::<u64>()
        };
        assert_eq!(sum(|s| s.packets_in), l.packets_in, "{}", l.link);
        assert_eq!(sum(|s| s.delivered), l.delivered, "{}", l.link);
        assert_eq!(sum(|s| s.dropped), dropped, "{}", l.link);
        assert!(
            l.series.len() as u64 <= r.duration_ms / 1000 + 1,
            "{}",
            l.link
        );
    }
    let up = r.links.iter().find(|l| l.link == "site:home.up").unwrap();
    let backup = &up.cross_traffic[0];
    // 1.2 Mbit/s of 1500-byte packets for 20 s: 2000 packets, a Poisson count (sd 45).
    assert_eq!((backup.flow.as_str(), backup.start_ms), ("backup", 10_000));
    assert!(
        (backup.sent as f64 - 2000.0).abs() < 4.0 * 2000f64.sqrt(),
        "{backup:?}"
    );
    assert_eq!(backup.sent_bytes, backup.sent * 1500);
    let dropped: u64 = backup.dropped.values().sum();
    assert!(
        backup.dropped.contains_key("queue") && dropped > 200,
        "{backup:?}"
    );
    assert_eq!(
        backup.sent,
        backup.delivered + dropped + backup.in_flight_at_end
    );
    // The 100-packet queue holds 1.2 s of 1500-byte packets at 1 Mbit/s (less with the call's
    // small packets among them, but more than 0.7 s): full while the backup runs (10-30 s),
    // near empty before and after.
    assert_eq!(up.queue_high_water, 100);
    assert!(up.queue_high_water_ms > 700.0, "{up:?}");
    assert!(up.queue_high_water_bytes > 100_000);
    let second = |t: usize| &up.series[t];
    assert!(second(20).queue_high_water > 90 && second(20).queue_high_water_ms > 700.0);
    // Before and after, only the call's own packets meet in the queue now and then (an RTP
    // packet, an RTCP report and an ICE consent check leaving together): a handful at most.
    assert!(second(5).queue_high_water <= 5 && second(40).queue_high_water <= 5);
    assert!(second(20).dropped > 0 && second(5).dropped == 0);
}

#[test]
fn an_older_report_without_the_new_link_fields_still_reads() {
    let old = r#"{"link": "alice.up", "packets_in": 10, "bytes_in": 1000, "delivered": 9,
                  "dropped": {"loss": 1}, "queue_high_water": 3}"#;
    let l: callharness::report::model::LinkReport = serde_json::from_str(old).unwrap();
    assert_eq!((l.delivered, l.in_flight_at_end, l.series.len()), (9, 0, 0));
}

#[test]
fn remote_side_puts_the_fault_on_the_far_ends_uplink() {
    let r = run(&scenario(&kb("remote-side.yaml")), 1);
    let bad = stream(&r, "bob");
    let fault = bad.fault.as_deref().expect("a fault for the lossy stream");
    assert!(
        fault.starts_with("bob's uplink (bob.up, bob's side, the far end for alice): "),
        "{fault}"
    );
    assert!(
        fault.ends_with("% of packets dropped (random loss)"),
        "{fault}"
    );
    let links: Vec<&str> = bad.links.iter().map(|l| l.link.as_str()).collect();
    assert_eq!(links, ["bob.up", "alice.down"], "the path, in order");
    let up = &bad.links[0];
    assert_eq!(up.packets_in, bad.packets_sent);
    assert_eq!(Some(drops_on_links(bad)), bad.emulator_dropped);
    assert_eq!(up.dropped.keys().collect::<Vec<_>>(), ["loss"]);
    // 5 % configured: within 4 binomial standard deviations over ~1900 packets (±2 points).
    let n = up.packets_in as f64;
    assert!(
        (up.dropped_pct - 5.0).abs() < 400.0 * (0.05 * 0.95 / n).sqrt(),
        "{up:?}"
    );
    assert!(bad.links[1].dropped.is_empty());
    // Alice's stream went through clean links: nothing to blame.
    let good = stream(&r, "alice");
    assert_eq!(good.fault, None);
    assert_eq!(drops_on_links(good), 0);
}

#[test]
fn a_full_shared_queue_is_named_with_its_delay_and_the_other_links_are_not() {
    let r = run(&scenario(&kb("net-contention.yaml")), 1);
    let st = stream(&r, "alice");
    let fault = st.fault.as_deref().expect("a fault");
    assert!(
        fault.starts_with(
            "site home's shared uplink (site:home.up, alice's side, the far end for bob): "
        ),
        "{fault}"
    );
    assert!(
        fault.contains("queue full") && fault.contains("; queueing added "),
        "{fault}"
    );
    assert_eq!(Some(drops_on_links(st)), st.emulator_dropped);
    let links: Vec<&str> = st.links.iter().map(|l| l.link.as_str()).collect();
    assert_eq!(
        links,
        [
            "alice.up",
            "site:home.up",
            "core:home->internet",
            "bob.down"
        ]
    );
    let shared = &st.links[1];
    // While the backup runs the 1.2 s queue is full: RTP packets wait most of a second;
    // averaged over the whole call (about half of it contended) still hundreds of ms.
    assert!(shared.queue_delay_max_ms > 700.0, "{shared:?}");
    assert!(shared.queue_delay_mean_ms > 100.0, "{shared:?}");
    assert!(shared.added_delay_mean_ms >= shared.queue_delay_mean_ms);
    assert!(shared.dropped.contains_key("queue"));
    for l in [&st.links[0], &st.links[2], &st.links[3]] {
        assert!(l.queue_delay_max_ms < 5.0 && l.dropped.is_empty(), "{l:?}");
    }
    // Bob's stream comes down the uncontended downlink.
    let back = stream(&r, "bob");
    assert!(
        back.links.iter().all(|l| l.queue_delay_max_ms < 5.0),
        "{back:?}"
    );
}

#[test]
fn the_same_seed_gives_a_byte_identical_report_with_cross_traffic_and_attribution() {
    let s = scenario(&kb("net-contention.yaml"));
    let json = |seed| common::report_json(&s, seed);
    let a = json(4);
    assert_eq!(a, json(4));
    assert_ne!(a, json(5));
}
