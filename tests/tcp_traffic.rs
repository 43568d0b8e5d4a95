//! TCP cross-traffic (`transport: tcp`) end to end: a greedy download over the simulation's
//! TCP stacks, what it does to a shared link's queue and to a call behind it, its counters,
//! its determinism, and the scenario errors around it.
//!
//! The closed forms: a link of rate R carrying full-size segments (1500-byte packets, 1460
//! bytes of payload) delivers at most R × 1460 / 1500 of goodput; a full drop-tail queue of Q
//! such packets holds Q × 1500 × 8 / R seconds; the empty path's round trip is the sum of the
//! base delays both ways.

mod common;
use callharness::report::model::{CrossTrafficReport, ScenarioReport, TcpFlowReport};
use callharness::scenario::load_str;
use common::{kb, profiles, run, scenario, stream};
use std::path::Path;

/// The TCP flow on link `link` of `r`, with its TCP counters.
fn tcp_flow<'a>(r: &'a ScenarioReport, link: &str) -> (&'a CrossTrafficReport, &'a TcpFlowReport) {
    let l = r.links.iter().find(|l| l.link == link).expect("the link");
    let f = l
        .cross_traffic
        .iter()
        .find(|f| f.tcp.is_some())
        .unwrap_or_else(|| panic!("no TCP flow on {link}: {l:?}"));
    (f, f.tcp.as_ref().expect("TCP counters"))
}

/// A home site behind a shared link whose downlink is `down` (the `clean` profile: 10 ms each
/// way, nothing else), a download from 0 s to the end, and `rest` (participants, calls).
fn download(duration: &str, down: &str, flow: &str, rest: &str) -> String {
    format!(
        "name: download\ndescription: a download\nduration: {duration}\nsites:\n  home: {{ shared: \
         clean, overrides: {{ down: {down} }} }}\ntimeline:\n  - {{ at: 0s, site: home, \
         cross_traffic: {{ name: movie, transport: tcp{flow} }} }}\n{rest}"
    )
}

#[test]
fn a_greedy_download_alone_fills_the_link_and_a_capped_one_keeps_to_its_cap() {
    // 20 Mbit/s, 60 ms round trip (10 ms of link and 20 ms to the server, each way): the
    // bandwidth-delay product is 150 kB, more than twice a 64 KiB window, so a flow whose
    // window were its buffer's (not the link's) would get at most 64 KiB / 60 ms = 8.7 Mbit/s
    // and fail here. The queue is CoDel with a 30 ms target: a single Cubic flow keeps the link
    // busy through its ×0.7 cut only if the standing queue is at least 0.43 of the round trip
    // (0.7 × (60 + 30) ms ≥ 60 ms); a drop-tail queue makes smoltcp's loss recovery (no SACK,
    // a 1 s minimum timeout) the limit instead. Slow start costs about a second of 60: the
    // bound is 10 %.
    let rest = "participants:\n  alice: { network: wired-lan, site: home }\n";
    let down =
        "{ rate: 20Mbit, queue: 1000pkt, aqm: { codel: { target: 30ms, interval: 100ms } } }";
    let r = run(&scenario(&download("60s", down, "", rest)), 1);
    let (f, tcp) = tcp_flow(&r, "site:home.down");
    let payload_rate = 20_000.0 * 1460.0 / 1500.0; // kbit/s
    assert!(
        tcp.goodput_kbps > 0.9 * payload_rate && tcp.goodput_kbps <= payload_rate,
        "{tcp:?}"
    );
    assert_eq!(tcp.lifetime_ms, 60_000);
    assert_eq!(
        tcp.goodput_kbps,
        (tcp.goodput_bytes as f64 * 8.0 / 60.0).round() / 1000.0
    );
    // Full-size segments: the sender never sends slivers.
    assert!(f.sent_bytes as f64 / f.sent as f64 > 1490.0, "{f:?}");
    assert_eq!(
        f.sent,
        f.delivered + f.dropped.values().sum::<u64>() + f.in_flight_at_end
    );
    assert!(f.dropped.contains_key("codel"), "{f:?}");
    // The path without a queue: 2 × (10 + 20) ms, plus a segment's serialisation.
    let min = tcp.rtt_min_ms.expect("an RTT sample");
    assert!((60.0..62.0).contains(&min), "{tcp:?}");
    // The hidden hosts' own links are not in the report; the shared link is.
    assert!(r.links.iter().all(|l| !l.link.contains("cross-traffic")));
    // The negative control: the same transfer capped at 8 Mbit/s by its application gets 8
    // Mbit/s (the cap counts from the handshake, 90 ms in), well under the bound above.
    let capped = run(&scenario(&download("60s", down, ", rate: 8Mbit", rest)), 1);
    let (_, tcp) = tcp_flow(&capped, "site:home.down");
    let want = 8_000.0 * (60_000.0 - 90.0) / 60_000.0;
    assert!((tcp.goodput_kbps / want - 1.0).abs() < 0.01, "{tcp:?}");
    assert!(tcp.goodput_kbps < 0.9 * payload_rate);
    assert_eq!(tcp.retransmitted_segments, 0, "{tcp:?}");
}

#[test]
fn a_download_behind_a_deep_drop_tail_queue_adds_its_drain_time_to_the_call_and_codel_does_not() {
    // 8 Mbit/s with a 300-packet drop-tail queue: full of 1500-byte segments it holds
    // 300 × 1500 × 8 / 8 Mbit/s = 450 ms. The call's empty path: wired-lan 0.5 ms at each end
    // and the site's 10 ms, each way: a round trip of 22 ms.
    let rest = "participants:\n  alice: { network: wired-lan, site: home }\n  bob: { network: \
                wired-lan }\ncalls:\n  - { caller: alice, callee: bob, at: 0s }\n";
    let drain = 450.0;
    let base = 22.0;
    let bloat = run(
        &scenario(&download("60s", "{ rate: 8Mbit, queue: 300pkt }", "", rest)),
        1,
    );
    let st = stream(&bloat, "bob");
    let peak = st
        .series
        .iter()
        .filter_map(|s| s.rtt_ms)
        .fold(0.0, f64::max);
    // At its peak the queue is full: the round trip rises by the drain time, less the part of
    // the packet being sent and what the RTCP samples miss (at most 15 %).
    let rise = peak - base;
    assert!(rise > 0.85 * drain && rise < drain + 5.0, "peak {peak} ms");
    // On average the queue stands at between a third and all of it: smoltcp's Cubic refills it
    // after each overflow, but its recovery from a burst of drops (a 1 s timeout, no SACK)
    // empties it for a while each time, where Linux would keep it nearer full.
    let mean = st.rtt_ms.expect("an RTT") - base;
    assert!(mean > drain / 3.0 && mean < drain, "mean rise {mean} ms");
    let shared = st
        .links
        .iter()
        .find(|l| l.link == "site:home.down")
        .unwrap();
    assert!(shared.queue_delay_max_ms > 0.85 * drain && shared.queue_delay_max_ms < drain);
    // Alice's stream goes up an empty uplink: its one-way delay does not move.
    assert!(stream(&bloat, "alice").one_way_delay_ms.unwrap() < 12.0);
    // CoDel (target 5 ms) on the same queue: the call's mean round trip rises by less than the
    // target, and its packets wait less than the target on average.
    let codel = run(
        &scenario(&download(
            "60s",
            "{ rate: 8Mbit, queue: 300pkt, aqm: codel }",
            "",
            rest,
        )),
        1,
    );
    let st = stream(&codel, "bob");
    let mean = st.rtt_ms.expect("an RTT") - base;
    assert!(mean < 5.0, "mean rise {mean} ms");
    let shared = st
        .links
        .iter()
        .find(|l| l.link == "site:home.down")
        .unwrap();
    assert!(shared.queue_delay_mean_ms < 5.0, "{shared:?}");
    // And the download still gets most of the link.
    let (_, tcp) = tcp_flow(&codel, "site:home.down");
    assert!(
        tcp.goodput_kbps > 0.85 * 8_000.0 * 1460.0 / 1500.0,
        "{tcp:?}"
    );
}

#[test]
fn the_same_seed_gives_a_byte_identical_report_with_a_tcp_flow() {
    let s = scenario(&kb("net-contention-tcp.yaml"));
    let json = |seed| common::report_json(&s, seed);
    let a = json(4);
    assert_eq!(a, json(4));
    assert_ne!(a, json(5));
}

#[test]
fn the_kb_download_counts_its_segments_and_reports_its_transfer() {
    let r = run(&scenario(&kb("net-contention-tcp.yaml")), 1);
    let (f, tcp) = tcp_flow(&r, "site:home.down");
    assert_eq!((f.flow.as_str(), f.start_ms), ("download", 5_000));
    assert_eq!((tcp.direction.as_str(), tcp.lifetime_ms), ("down", 50_000));
    // The handshake: a round trip of 2 × (12 ms of DSL + 20 ms to the server), and a bit.
    let connected = tcp.connected_ms.expect("connected");
    assert!((5_064..5_100).contains(&connected), "{tcp:?}");
    let dropped: u64 = f.dropped.values().sum();
    assert_eq!(f.sent, f.delivered + dropped + f.in_flight_at_end);
    assert!(f.dropped.contains_key("queue"), "{f:?}");
    // Every byte delivered came in a segment that arrived, at most 1460 bytes each.
    assert!(tcp.goodput_bytes <= f.delivered * 1460);
    assert!(tcp.retransmitted_segments >= dropped / 2, "{tcp:?}");
    // The flow's segments are the shared link's too.
    let down = r.links.iter().find(|l| l.link == "site:home.down").unwrap();
    assert!(down.packets_in >= f.sent && down.dropped.get("queue") >= f.dropped.get("queue"));
    // It stops at 55 s: the report's timeline says so, as for any flow.
    assert!(r
        .events
        .iter()
        .any(|e| e.at_ms == 55_000 && e.kind == "cross-traffic-stop"));
}

/// The first error of loading `text`, as (field path, line, message).
fn first_error(text: &str) -> (String, usize, String) {
    let errors = load_str(text, Path::new("bad.yaml"), &profiles()).expect_err("an error");
    let e = &errors[0];
    (e.path.clone(), e.line, e.message.clone())
}

#[test]
fn fields_that_mean_nothing_for_tcp_are_refused_where_they_were_written() {
    let text = kb("net-contention-tcp.yaml");
    let from = "transport: tcp, direction: down";
    assert!(text.contains(from), "the scenario's flow line changed");
    let line = 1 + text.lines().position(|l| l.contains(from)).unwrap();
    for (extra, field, want) in [
        (
            ", packet_size: 1500B",
            "packet_size",
            "`packet_size` means nothing",
        ),
        (
            ", arrivals: poisson",
            "arrivals",
            "`arrivals` means nothing",
        ),
        (", pattern: constant", "pattern", "`pattern` means nothing"),
        (
            ", pattern: { on_off: { on: 1s, off: 1s } }",
            "pattern",
            "not supported with `transport: tcp`",
        ),
        (", server_delay: 1h", "server_delay", "beyond the limit"),
    ] {
        let bad = text.replace(from, &format!("{from}{extra}"));
        let (path, at, message) = first_error(&bad);
        assert!(path.ends_with(&format!("cross_traffic.{field}")), "{path}");
        assert_eq!(at, line, "{message}");
        assert!(message.contains(want), "{message}");
    }
    // And the other way round: a server delay for packets that go to no one.
    let udp =
        kb("net-contention.yaml").replace("direction: up", "direction: up, server_delay: 5ms");
    let (path, _, message) = first_error(&udp);
    assert!(path.ends_with("cross_traffic.server_delay"), "{path}");
    assert!(message.contains("transport: tcp"), "{message}");
}

#[test]
fn hidden_host_names_are_reserved_and_a_tcp_flow_needs_a_shared_link() {
    let text = kb("net-contention-tcp.yaml").replace("  bob:", "  cross-traffic:0:");
    let (path, _, message) = first_error(&text);
    assert!(path.ends_with("participants.cross-traffic:0"), "{path}");
    assert!(
        message.contains("reserved for the hidden hosts"),
        "{message}"
    );
    // A site without a shared link has nothing for a download to load.
    let bare = "name: x\ndescription: x\nduration: 5s\nsites:\n  home: {}\nparticipants:\n  alice: { network: \
                wired-lan, site: home }\ntimeline:\n  - { at: 0s, site: home, cross_traffic: { \
                name: movie, transport: tcp } }\n";
    let errors = load_str(bare, Path::new("bare.yaml"), &profiles()).expect_err("an error");
    assert!(
        errors.iter().any(|e| e.message.contains("shared")),
        "{errors:?}"
    );
}
