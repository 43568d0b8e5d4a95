//! VPN tunnels over real TCP (`tunnel: tls-tcp`, NET-VPN): what a tunnel costs on a clean
//! link (its round trip, nothing more), what it makes of a lossy one (no loss, delay instead,
//! retransmitted segments), determinism, and the combinations it refuses.

mod common;
use callharness::report::model::{ScenarioReport, TunnelReport};
use callharness::scenario::load_str;
use common::{profiles, run, scenario, stream};
use std::path::Path;

/// Alice behind a link of 20 ms each way with `loss`, through a tunnel or not; Bob on `clean`.
fn call(tunnel: bool, loss: &str) -> String {
    let t = if tunnel { "tunnel: tls-tcp," } else { "" };
    format!(
        r#"
name: vpn-call
description: alice on a VPN
duration: 40s
profiles:
  vpn: {{ {t} both: {{ delay: 20ms, loss: {{ random: {{ rate: {loss} }} }} }} }}
participants:
  alice: {{ network: vpn }}
  bob: {{ network: clean }}
calls:
  - {{ caller: alice, callee: bob, at: 1s, duration: 35s, expect: connected }}
"#
    )
}

fn tunnel_of(r: &ScenarioReport) -> &TunnelReport {
    assert_eq!(r.tunnels.len(), 1, "{:?}", r.tunnels);
    &r.tunnels[0]
}

#[test]
fn on_a_clean_link_the_tunnel_costs_its_round_trip_and_nothing_is_lost() {
    let r = run(&scenario(&call(true, "0%")), 1);
    assert!(r.calls[0].connected, "{:?}", r.calls[0].failure);
    let t = tunnel_of(&r);
    assert_eq!(
        (t.participant.as_str(), t.kind.as_str()),
        ("alice", "tls-tcp")
    );
    assert_eq!(t.connects, 1);
    assert_eq!(t.retransmitted_segments, 0, "{t:?}");
    assert_eq!(t.dropped_full + t.dropped_broken, 0, "{t:?}");
    // Everything that went in came out, but for what was on its way when the scenario ended.
    assert!(
        t.up_in - t.up_out <= 2 && t.down_in - t.down_out <= 2,
        "{t:?}"
    );
    assert!(t.up_in > 1500 && t.down_in > 1500, "{t:?}");
    // A packet's time in the tunnel is the link's 20 ms plus serialisation (none: no rate).
    assert!(
        (t.transit_mean_ms - 20.0).abs() < 0.5,
        "mean transit {} ms",
        t.transit_mean_ms
    );
    // The call's round trip is the direct path's: 2 x (20 + 10) ms (the gateway is at the far
    // end of Alice's link, on an ideal link of its own).
    for from in ["alice", "bob"] {
        let s = stream(&r, from);
        let rtt = s.rtt_ms.expect("an RTT");
        assert!((rtt - 60.0).abs() <= 1.0, "{from}: rtt {rtt}");
        assert_eq!(s.lost, 0, "{from}");
    }
}

#[test]
fn through_the_tunnel_loss_on_the_link_becomes_delay() {
    let direct = run(&scenario(&call(false, "2%")), 3);
    let tunnelled = run(&scenario(&call(true, "2%")), 3);
    let t = tunnel_of(&tunnelled);
    assert!(t.retransmitted_segments > 20, "{t:?}");
    assert_eq!(t.connects, 1, "{t:?}");
    // Waiting for a retransmission: well above the link's 20 ms, in the tunnel only.
    assert!(t.transit_max_ms > 60.0, "{t:?}");
    for from in ["alice", "bob"] {
        let d = stream(&direct, from);
        let v = stream(&tunnelled, from);
        // Without the tunnel the link's 2 % is lost; through it, nothing is.
        assert!(d.loss_pct > 1.0, "{from} direct: {}", d.loss_pct);
        assert_eq!(v.lost, 0, "{from} tunnelled: {v:?}");
        // ...but packets held up behind a lost segment arrive in bursts: longer gaps.
        assert!(
            v.max_gap_ms > d.max_gap_ms + 40.0,
            "{from}: gap {} vs {}",
            v.max_gap_ms,
            d.max_gap_ms
        );
    }
    // Direct calls see none of it.
    assert!(direct.tunnels.is_empty());
}

#[test]
fn the_same_seed_gives_the_same_report_with_a_tunnel() {
    let s = scenario(&call(true, "2%"));
    let a = common::report_json(&s, 7);
    assert_eq!(a, common::report_json(&s, 7));
    assert_ne!(
        a,
        common::report_json(&s, 8),
        "another seed, another loss pattern"
    );
}

#[test]
fn a_tunnel_blocked_by_the_firewall_leaves_the_client_offline() {
    // The VPN connects to TCP 443 of its gateway; with that blocked, nothing gets through.
    let text = call(true, "0%").replace(
        "alice: { network: vpn }",
        "alice: { network: vpn, firewall: [ { action: block, proto: tcp, ports: 443 } ] }",
    );
    let r = run(&scenario(&text), 1);
    assert!(!r.calls[0].connected);
    let alice = r
        .accounts
        .iter()
        .find(|a| a.participant == "alice")
        .unwrap();
    assert_eq!(alice.signed_in_ms, None, "{alice:?}");
    let t = tunnel_of(&r);
    assert_eq!(t.up_out, 0, "{t:?}");
    assert!(t.connects > 1, "the VPN client keeps trying: {t:?}");
}

fn load_errors(text: &str) -> String {
    match load_str(text, Path::new("s.yaml"), &profiles()) {
        Ok(cells) => {
            // Some refusals come from building the world (`validate` does that too).
            let e = callharness::sim::world::check(&cells[0], &[])
                .expect_err("the scenario should be refused");
            e.to_string()
        }
        Err(errs) => errs
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn combinations_a_tunnel_cannot_follow_are_refused() {
    // Beside the link-level model of the same tunnel.
    let both = call(true, "0%").replace("both: {", "both: { encapsulation: tcp,");
    let e = load_errors(&both);
    assert!(e.contains("tunnel") && e.contains("encapsulation"), "{e}");
    // On a site's shared link.
    let site = call(false, "0%")
        .replace(
            "participants:",
            "sites:\n  home: { shared: vpn-tls-tcp }\nparticipants:",
        )
        .replace(
            "alice: { network: vpn }",
            "alice: { network: clean, site: home }",
        );
    let e = load_errors(&site);
    assert!(e.contains("VPN tunnel") && e.contains("site"), "{e}");
    // A new address on the timeline.
    let moved = format!(
        "{}timeline:\n  - {{ at: 5s, participant: alice, address_change: true }}\n",
        call(true, "0%")
    );
    let e = load_errors(&moved);
    assert!(e.contains("address") && e.contains("tunnel"), "{e}");
    // Switching the tunnel on mid-run.
    let switched = format!(
        "{}timeline:\n  - {{ at: 5s, participant: bob, profile: vpn-tls-tcp }}\n",
        call(true, "0%")
    );
    let e = load_errors(&switched);
    assert!(e.contains("vpn-tls-tcp") && e.contains("tunnel"), "{e}");
}
