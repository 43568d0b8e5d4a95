//! Calls through the conferencing edge's TURN relay: a call whose direct path is blocked
//! connects through a relay candidate and measures the relayed path's round trip; a call with
//! a direct path keeps it; with the edge blocked as well, nothing is left.

mod common;
use callharness::net::Network;
use callharness::sim::world;
use common::{run, scenario, stream};

/// Alice and Bob on `clean` (10 ms each way per access link); `bob_rules` is Bob's firewall.
fn call_with(bob_rules: &str, alice_rules: &str) -> String {
    format!(
        r#"
name: relay
description: a call whose direct path may be blocked by Bob's firewall
duration: 20s
participants:
  alice: {{ network: clean, firewall: [{alice_rules}] }}
  bob: {{ network: clean, firewall: [{bob_rules}] }}
calls:
  - {{ caller: alice, callee: bob, at: 1s, duration: 18s, expect: connected }}
"#
    )
}

/// The direct UDP path between the two is blocked; each can reach the edge.
const NO_DIRECT: &str = "{ action: block, proto: udp, peer: alice }";

#[test]
fn a_call_without_a_direct_path_goes_through_the_relay_at_the_relayed_paths_round_trip() {
    let s = scenario(&call_with(NO_DIRECT, ""));
    let r = run(&s, 3);
    let call = &r.calls[0];
    assert!(call.connected, "{call:?}");
    // Bob's host candidate cannot be reached and cannot reach Alice: the pair that works is
    // Alice's host candidate with Bob's relay candidate, or Alice's relay with Bob's.
    let pair = call.candidate_pair.as_deref().unwrap_or("");
    assert!(pair.contains("relay/udp"), "{pair}");

    // The relayed round trip, from the emulator's path delays: alice -> edge -> bob and
    // back, each leg of it an access link of 10 ms and the edge's own 10 ms.
    let net: Network<()> = Network::new(&world::network_config(&s), 1, &[]).unwrap();
    let h = |n: &str| net.host_id(n).unwrap();
    let (a, b, e) = (h("alice"), h("bob"), h(world::EDGE_HOST));
    let relayed_ns =
        net.path_delay(a, e) + net.path_delay(e, b) + net.path_delay(b, e) + net.path_delay(e, a);
    let relayed_ms = relayed_ns as f64 / 1e6;
    assert_eq!(
        relayed_ms, 80.0,
        "4 access links of 10 ms and the edge's 10 ms, twice"
    );
    for from in ["alice", "bob"] {
        let st = stream(&r, from);
        let rtt = st.rtt_ms.expect("RTCP round trips");
        assert!((rtt - relayed_ms).abs() < 1.0, "{from}: RTT {rtt} ms");
        let one_way = st.one_way_delay_ms.expect("measured in simulation");
        assert!(
            (one_way - relayed_ms / 2.0).abs() < 1.0,
            "{from}: {one_way} ms"
        );
        assert_eq!(st.lost, 0, "{from}");
        assert!(st.packets_received > 700, "{from}: {}", st.packets_received);
    }
    // rtc accepts a relay pair only 2 s after checks began (its relay acceptance wait), as
    // real clients hold out for a direct pair.
    assert!(call.setup_ms.is_some_and(|s| s > 2000.0), "{call:?}");
}

#[test]
fn a_call_with_a_direct_path_keeps_it_although_it_gathered_a_relay_candidate() {
    let s = scenario(&call_with("", ""));
    let r = run(&s, 3);
    let call = &r.calls[0];
    assert!(call.connected);
    assert_eq!(call.candidate_pair.as_deref(), Some("host/udp -> host/udp"));
    for from in ["alice", "bob"] {
        let rtt = stream(&r, from).rtt_ms.unwrap();
        assert!((rtt - 40.0).abs() < 1.0, "{from}: {rtt}");
    }
    // The offer waited for the three relay allocations, 40 ms round trips to the edge each
    // step: over UDP two Allocate requests (the first is challenged for credentials, RFC 8656
    // section 7.2; turn-client-proto sends a request at least 50 ms after the one before),
    // answered at 90 ms; over TCP the handshake, then the two Allocates, answered at 120 ms;
    // over TLS the TCP handshake (40 ms), the TLS 1.3 handshake (40 ms), the first Allocate
    // with the client's Finished, its challenge 40 ms later and the second Allocate 50 ms
    // after the first: answered at 40 + 40 + 50 + 40 = 170 ms.
    let gathered = |t: &str| {
        call.candidates
            .iter()
            .find(|c| c.side == "alice" && c.kind == "relay" && c.transport == t)
            .and_then(|c| c.gathered_ms)
            .unwrap_or_else(|| panic!("alice's relay over {t}"))
    };
    assert!((gathered("udp") - 90.0).abs() < 1.0, "{}", gathered("udp"));
    assert!((gathered("tcp") - 120.0).abs() < 1.0, "{}", gathered("tcp"));
    assert!((gathered("tls") - 170.0).abs() < 1.0, "{}", gathered("tls"));
    let offer = call.offer_ms.unwrap() - call.start_ms as f64;
    assert!(
        (offer - 170.0).abs() < 1.0,
        "offer {offer} ms after the call started"
    );
}

#[test]
fn with_the_edge_blocked_too_a_call_without_a_direct_path_fails_ice() {
    let bob = format!("{NO_DIRECT}, {{ action: block, peer: edge }}");
    // The call is not hung up: it fails when its client gives up connecting (30 s).
    let text = call_with(&bob, "{ action: block, peer: edge }")
        .replace("duration: 20s", "duration: 40s")
        .replace("duration: 18s, expect: connected", "expect: ice-failed");
    let r = run(&scenario(&text), 3);
    let call = &r.calls[0];
    assert!(!call.connected);
    let f = call.failure.as_ref().expect("a failure");
    assert_eq!(f.class, "ice-failed", "{f:?}");
}

/// Alice and Bob at two homes, each behind a NAT of type `nat`.
fn behind_nats(nat: &str) -> String {
    format!(
        r#"
name: nat-{nat}
description: two homes behind {nat} NATs
duration: 20s
sites:
  home-a: {{ nat: {nat} }}
  home-b: {{ nat: {nat} }}
participants:
  alice: {{ network: clean, site: home-a }}
  bob: {{ network: clean, site: home-b }}
calls:
  - {{ caller: alice, callee: bob, at: 1s, duration: 18s, expect: connected }}
"#
    )
}

#[test]
fn behind_cone_nats_the_call_goes_direct_through_the_reflexive_addresses() {
    for nat in ["full-cone", "restricted-cone", "port-restricted"] {
        let r = run(&scenario(&behind_nats(nat)), 3);
        let call = &r.calls[0];
        assert!(call.connected, "{nat}: {call:?}");
        // Each side learnt its public address from the edge (the Allocate answer's mapped
        // address) and offered it; the checks punch through the other's NAT, and each side's
        // media goes to the other's reflexive address.
        for side in ["alice", "bob"] {
            let srflx = call
                .candidates
                .iter()
                .find(|c| c.side == side && c.kind == "srflx")
                .unwrap_or_else(|| panic!("{nat}: {side} has no srflx candidate"));
            assert!(
                srflx
                    .address
                    .as_deref()
                    .unwrap_or("")
                    .starts_with("203.0.113."),
                "{nat}: {srflx:?}"
            );
        }
        assert_eq!(
            call.candidate_pair.as_deref(),
            Some("srflx/udp -> srflx/udp"),
            "{nat}"
        );
        for from in ["alice", "bob"] {
            let rtt = stream(&r, from).rtt_ms.unwrap();
            assert!((rtt - 40.0).abs() < 1.0, "{nat} {from}: {rtt}");
        }
    }
}

#[test]
fn behind_two_symmetric_nats_only_the_relay_joins_them() {
    let r = run(&scenario(&behind_nats("symmetric")), 3);
    let call = &r.calls[0];
    assert!(call.connected, "{call:?}");
    let pair = call.candidate_pair.as_deref().unwrap_or("");
    assert!(pair.contains("relay/udp"), "{pair}");
    for from in ["alice", "bob"] {
        let rtt = stream(&r, from).rtt_ms.unwrap();
        assert!((rtt - 80.0).abs() < 1.0, "{from}: {rtt}");
    }
}

#[test]
fn with_udp_media_blocked_the_call_goes_through_the_relay_over_tcp_and_repeats_exactly() {
    let s = scenario(&common::kb("net-udp-media-blocked.yaml"));
    let a = run(&s, 5);
    let call = &a.calls[0];
    assert!(call.connected, "{call:?}");
    // Bob's side reaches the relay over TCP 443 (his UDP allocation never heard back: the
    // edge's answers go to his blocked media port); Alice's side is her host candidate.
    assert_eq!(
        call.candidate_pair.as_deref(),
        Some("host/udp -> relay/tcp")
    );
    let bob_udp_relay = call
        .candidates
        .iter()
        .find(|c| c.side == "bob" && c.kind == "relay" && c.transport == "udp")
        .expect("bob asked the relay over UDP too");
    assert!(bob_udp_relay.failed.is_some(), "{bob_udp_relay:?}");
    // TCP delivers what Wi-Fi lost: no RTP is lost, but retransmissions arrive late. The
    // relay's detour adds 2 x 2 x 10 ms to the round trip.
    for from in ["alice", "bob"] {
        let st = stream(&a, from);
        assert_eq!(st.lost, 0, "{from}: TCP repairs every loss");
        assert!(
            st.rtt_ms.is_some_and(|r| r > 40.0),
            "{from}: {:?}",
            st.rtt_ms
        );
    }
    // TCP, TURN and the NAT-free edge in the path: the same seed gives the same report.
    let mut b = run(&s, 5);
    let mut a = a;
    a.wall_ms = 0;
    b.wall_ms = 0;
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

/// Bob's client allows only TURN over TLS (`turns:`, a locked-down client policy) and his
/// network blocks UDP altogether: the one way left is TLS to the edge's 443.
fn tls_only(rules: &str) -> String {
    call_with(rules, "").replace(
        "bob: { network: clean,",
        "bob: { network: clean, relay_transports: [tls],",
    )
}

/// Every UDP datagram to or from Bob is dropped.
const NO_UDP: &str = "{ action: block, proto: udp }";

#[test]
fn a_call_relayed_over_tls_connects_at_the_relayed_paths_round_trip_and_repeats_exactly() {
    let text = tls_only(NO_UDP).replace("expect: connected", "expect: connected, path: relay-tls");
    let s = scenario(&text);
    let a = run(&s, 3);
    let call = &a.calls[0];
    assert!(call.connected, "{call:?}");
    assert_eq!(
        call.candidate_pair.as_deref(),
        Some("host/udp -> relay/tls")
    );
    assert!(a.expectations.iter().all(|e| e.met), "{:?}", a.expectations);
    // Bob gathered his host candidate and the TLS relay only: 40 ms for TCP's handshake, 40
    // for TLS 1.3's, 50 + 40 for the two Allocates (see the gathering test above).
    let bob: Vec<_> = call.candidates.iter().filter(|c| c.side == "bob").collect();
    assert_eq!(bob.len(), 2, "{bob:?}");
    let relay = bob.iter().find(|c| c.kind == "relay").expect("bob's relay");
    assert_eq!(relay.transport, "tls");
    assert_eq!(relay.server.as_deref(), Some("10.254.0.2:443"));
    assert!(
        relay.gathered_ms.is_some_and(|g| (g - 170.0).abs() < 1.0),
        "{relay:?}"
    );
    // The relayed round trip from the emulator's path delays, as over UDP: TLS adds bytes,
    // not time, on an unloaded path.
    let net: Network<()> = Network::new(&world::network_config(&s), 1, &[]).unwrap();
    let h = |n: &str| net.host_id(n).unwrap();
    let (al, b, e) = (h("alice"), h("bob"), h(world::EDGE_HOST));
    let relayed_ms = (net.path_delay(al, e)
        + net.path_delay(e, b)
        + net.path_delay(b, e)
        + net.path_delay(e, al)) as f64
        / 1e6;
    for from in ["alice", "bob"] {
        let st = stream(&a, from);
        let rtt = st.rtt_ms.expect("RTCP round trips");
        assert!((rtt - relayed_ms).abs() < 1.0, "{from}: RTT {rtt} ms");
        assert_eq!(st.lost, 0, "{from}");
        assert!(st.packets_received > 700, "{from}: {}", st.packets_received);
    }
    let edge = a.edge.as_ref().expect("the relay was used");
    assert_eq!(edge.allocations_tls, 2, "alice's and bob's: {edge:?}");
    assert_eq!(edge.allocations_tcp, 1, "alice's only: {edge:?}");

    // The same seed, the same report, byte for byte (the TLS handshakes are seeded).
    let mut b2 = run(&s, 3);
    let mut a = a;
    a.wall_ms = 0;
    b2.wall_ms = 0;
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b2).unwrap()
    );
    // Another seed: other keys, other ports, still a call over TLS.
    let c = run(&s, 11);
    assert!(c.calls[0].connected, "{:?}", c.calls[0]);
    assert_eq!(
        c.calls[0].candidate_pair.as_deref(),
        Some("host/udp -> relay/tls")
    );
}

#[test]
fn a_client_that_allows_no_relay_gathers_none_and_without_udp_fails_ice() {
    let text = call_with(NO_UDP, "")
        .replace(
            "bob: { network: clean,",
            "bob: { network: clean, relay_transports: [],",
        )
        .replace("duration: 20s", "duration: 40s")
        .replace("duration: 18s, expect: connected", "expect: ice-failed");
    let r = run(&scenario(&text), 3);
    let call = &r.calls[0];
    assert!(!call.connected);
    assert!(
        call.candidates
            .iter()
            .all(|c| c.side != "bob" || c.kind == "host"),
        "{:?}",
        call.candidates
    );
    assert_eq!(
        call.failure.as_ref().map(|f| f.class.as_str()),
        Some("ice-failed")
    );
}

/// A relayed call of `minutes`, the direct path blocked by `bob_rules`.
fn long_relayed(bob_rules: &str, minutes: u64) -> String {
    call_with(bob_rules, "")
        .replace(
            "duration: 20s",
            &format!("duration: {}s", minutes * 60 + 10),
        )
        .replace("duration: 18s", &format!("duration: {}s", minutes * 60))
}

#[test]
fn a_32_minute_relayed_call_keeps_its_permissions_channels_and_allocation_alive() {
    // Over UDP (the direct path blocked), over TCP (bob's UDP media ports blocked) and over
    // TLS (bob's UDP blocked, his client allowing only TLS). The client refreshes permissions
    // (5 min lifetime), channels (10 min) and the allocation (30 min, refreshed at 29):
    // without any of them the relay would drop the media at 5, 10 or 30 minutes.
    for (rules, transport, tls) in [
        (NO_DIRECT, "relay/udp", false),
        (
            "{ action: block, proto: udp, ports: 50000-59999 }",
            "relay/tcp",
            false,
        ),
        (NO_UDP, "relay/tls", true),
    ] {
        let mut text = long_relayed(rules, 32);
        if tls {
            text = text.replace(
                "bob: { network: clean,",
                "bob: { network: clean, relay_transports: [tls],",
            );
        }
        let r = run(&scenario(&text), 2);
        let call = &r.calls[0];
        assert!(call.connected, "{transport}: {call:?}");
        let pair = call.candidate_pair.as_deref().unwrap_or("");
        assert!(pair.contains(transport), "{transport}: {pair}");
        for from in ["alice", "bob"] {
            let st = stream(&r, from);
            // 32 minutes of 20 ms packets, less the few seconds of setup.
            assert!(st.packets_received > 95_000, "{transport} {from}: {st:?}");
            assert_eq!(st.lost, 0, "{transport} {from}");
            assert!(
                st.max_gap_ms < 1_200.0,
                "{transport} {from}: {}",
                st.max_gap_ms
            );
        }
        // Every allocation (each side's over UDP, TCP and TLS, those that succeeded) was
        // released when the call ended.
        let edge = r.edge.as_ref().expect("the relay was used");
        assert!(
            edge.allocations_udp + edge.allocations_tcp + edge.allocations_tls >= 4,
            "{edge:?}"
        );
        assert_eq!(edge.allocations_active, 0, "{transport}: {edge:?}");
    }
}

#[test]
fn an_allocation_nobody_refreshes_expires_with_its_lifetime() {
    // Alice's machine drops off the network for good 60 s into the call: her client can
    // neither refresh nor release her allocations. They outlive the call until their
    // 30-minute lifetime (RFC 8656 section 7.2: 1800 s asked for) runs out.
    let text = |end_s: u64| {
        call_with(NO_DIRECT, "")
            .replace("duration: 20s", &format!("duration: {end_s}s"))
            .replace("duration: 18s, expect: connected", "expect: call-dropped")
            .replace(
                "calls:",
                &format!(
                    "timeline:\n  - {{ at: 60s, participant: alice, outage: {}s }}\ncalls:",
                    end_s
                ),
            )
    };
    let before = run(&scenario(&text(1500)), 2);
    let held = before.edge.as_ref().expect("the relay was used");
    assert_eq!(
        held.allocations_active, 3,
        "alice's three (UDP, TCP, TLS), not yet expired: {held:?}"
    );
    let after = run(&scenario(&text(2000)), 2);
    let gone = after.edge.as_ref().expect("the relay was used");
    assert_eq!(gone.allocations_active, 0, "expired: {gone:?}");
    // Over TLS too: each side made one, alice's expired with the others.
    assert_eq!(gone.allocations_tls, 2, "{gone:?}");
    assert_eq!(
        gone.allocations_ended,
        gone.allocations_udp + gone.allocations_tcp + gone.allocations_tls
    );
}
