//! Tests of the network as a whole: paths, schedules, firewalls, cross-traffic, determinism.

use super::*;
use crate::net::config::{DirectionConfig, Which};
use std::net::SocketAddrV4;

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

fn net(yaml: &str, seed: u64) -> Network<u64> {
    let cfg: NetworkConfig = serde_yaml::from_str(yaml).unwrap();
    Network::new(&cfg, seed, &[]).unwrap()
}

fn addr(s: &str) -> SocketAddrV4 {
    s.parse().unwrap()
}

/// Sends `n` datagrams `gap` apart from `from` to `to` (payload = sequence number), runs to
/// the end, and returns every delivery.
fn stream(
    net: &mut Network<u64>,
    from: &str,
    to: &str,
    n: u64,
    gap: Nanos,
    bytes: u32,
) -> Vec<Delivery<u64>> {
    for i in 0..n {
        let t = i * gap;
        net.advance(t);
        net.send(t, Datagram::udp(addr(from), addr(to), bytes, i));
    }
    drain(net)
}

fn drain(net: &mut Network<u64>) -> Vec<Delivery<u64>> {
    while let Some(t) = net.next_event() {
        if t > 3600 * S {
            break; // endless cross-traffic
        }
        net.advance(t);
    }
    std::iter::from_fn(|| net.poll_delivery()).collect()
}

fn counter(net: &Network<u64>, name: &str) -> LinkCounters {
    net.counters().into_iter().find(|c| c.name == name).unwrap()
}

const THREE_SITES: &str = r#"
sites:
  - { name: home, shared: { name: dsl, up: { delay: 4ms }, down: { delay: 3ms } } }
  - { name: office }
  - { name: dc }
core: { name: wan, up: { delay: 10ms }, down: { delay: 11ms } }
core_paths: [{ a: dc, b: office, profile: { name: metro, both: { delay: 2ms } } }]
hosts:
  - { name: alice, site: home, addr: 10.0.1.2, access: { name: a, up: { delay: 1ms }, down: { delay: 2ms } } }
  - { name: bob, site: office, addr: 10.0.2.2, access: { name: b, both: { delay: 5ms } } }
  - { name: carol, site: home, addr: 10.0.1.3, access: { name: c, both: { delay: 7ms } } }
  - { name: edge, site: dc, addr: 10.0.3.2 }
"#;

#[test]
fn path_delay_is_the_sum_of_the_links_and_packets_take_exactly_that() {
    let mut n = net(THREE_SITES, 1);
    let id = |n: &Network<u64>, s| n.host_id(s).unwrap();
    let (alice, bob, carol, edge) = (
        id(&n, "alice"),
        id(&n, "bob"),
        id(&n, "carol"),
        id(&n, "edge"),
    );
    // alice.up 1 + home shared up 4 + core home->office 10 (up: listed first) + bob.down 5.
    assert_eq!(n.path_delay(alice, bob), 20 * MS);
    // bob.up 5 + core office->home 11 + home shared down 3 + alice.down 2.
    assert_eq!(n.path_delay(bob, alice), 21 * MS);
    // Same site: alice.up 1 + carol.down 7, no shared link, no core.
    assert_eq!(n.path_delay(alice, carol), 8 * MS);
    // The dc-office pair has its own 2 ms path.
    assert_eq!(n.path_delay(edge, bob), 7 * MS);
    let got = stream(&mut n, "10.0.1.2:1", "10.0.2.2:2", 1, 0, 100);
    assert_eq!(
        (got[0].at, got[0].to_host, got[0].kind),
        (20 * MS, bob, DeliveryKind::Datagram)
    );
    let mut back = net(THREE_SITES, 1);
    let got = stream(&mut back, "10.0.2.2:2", "10.0.1.2:1", 1, 0, 100);
    assert_eq!((got[0].at, got[0].to_host), (21 * MS, alice));
    let names: Vec<String> = n.counters().into_iter().map(|c| c.name).collect();
    assert_eq!(
        &names[..4],
        ["alice.up", "alice.down", "bob.up", "bob.down"]
    );
    assert!(names.contains(&"site:home.up".into()) && names.contains(&"core:office->dc".into()));
}

const ROAMING: &str = r#"
sites: [{ name: lan }]
hosts:
  - name: alice
    site: lan
    addr: 10.0.0.10
    access:
      name: roam
      both: { delay: 20ms }
      schedule:
        - { at: 1s, outage: 300ms }
        - { at: 2s, address_change: true }
  - { name: bob, site: lan, addr: 10.0.0.20 }
"#;

#[test]
fn outages_drop_at_their_scheduled_times_including_packets_in_flight() {
    let mut n = net(ROAMING, 2);
    // A packet every 10 ms from alice to bob; alice.up is 20 ms long.
    let got = stream(&mut n, "10.0.0.10:1", "10.0.0.20:1", 200, 10 * MS, 100);
    let seqs: Vec<u64> = got.iter().map(|d| d.datagram.payload).collect();
    // Sent at 0.98 s and 0.99 s: inside alice.up when it goes down at 1 s: lost.
    // Sent 1.00 .. 1.29 s: enter a down link: lost. From 1.30 s: delivered.
    let lost: Vec<u64> = (0..200).filter(|i| !seqs.contains(i)).collect();
    assert_eq!(lost, (98..130).collect::<Vec<_>>());
    let c = counter(&n, "alice.up");
    assert_eq!(c.dropped(DropReason::Outage), 32);
    assert_eq!(c.delivered, 168);
    let events: Vec<NetEvent> = std::iter::from_fn(|| n.poll_event()).collect();
    assert_eq!(
        events[0],
        NetEvent::OutageStart {
            target: "alice".into(),
            at: S,
            until: 1300 * MS
        }
    );
    assert_eq!(
        events[1],
        NetEvent::OutageEnd {
            target: "alice".into(),
            at: 1300 * MS
        }
    );
}

#[test]
fn address_change_drops_packets_to_the_old_address_even_in_flight() {
    let mut n = net(ROAMING, 3);
    let alice = n.host_id("alice").unwrap();
    // bob sends to alice's first address every 10 ms; alice.down takes 20 ms.
    let got = stream(&mut n, "10.0.0.20:1", "10.0.0.10:1", 300, 10 * MS, 100);
    let last = got.iter().map(|d| d.datagram.payload).max().unwrap();
    // Sent at 1.97 s arrives at 1.99 s; sent at 1.98 s would arrive at 2.00 s, after the
    // change at 2 s (the change is ordered before arrivals at the same instant).
    assert_eq!(last, 197);
    let new = n.host_addr(alice);
    assert_eq!(new, Ipv4Addr::new(10, 0, 0, 11));
    let events: Vec<NetEvent> = std::iter::from_fn(|| n.poll_event()).collect();
    assert!(events.contains(&NetEvent::AddressChanged {
        host: alice,
        old: Ipv4Addr::new(10, 0, 0, 10),
        new,
        at: 2 * S
    }));
    let c = counter(&n, "alice.down");
    // alice's 1.0-1.3 s outage also hits alice.down: 30 packets enter it while down and 2
    // (sent at 0.98 and 0.99 s) are inside it when it goes down. Of the 300 sent, 0..=197
    // arrive before the change, less those 32; the 102 sent from 1.98 s on hit the change.
    assert_eq!(c.dropped(DropReason::Outage), 32);
    assert_eq!(c.dropped(DropReason::AddressChanged), 102);
    assert_eq!(c.delivered, 166);
    // To the new address, delivery works again.
    let t = n.now();
    n.send(
        t,
        Datagram::udp(addr("10.0.0.20:1"), SocketAddrV4::new(new, 1), 100, 999),
    );
    let got = drain(&mut n);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].at, t + 20 * MS);
    // And the moved host can no longer send from its old address.
    let before = counter(&n, "alice.up").dropped(DropReason::AddressChanged);
    // (Now, not `t`: the network has advanced past `t` delivering the datagram above.)
    n.send(
        n.now(),
        Datagram::udp(addr("10.0.0.10:1"), addr("10.0.0.20:1"), 100, 1000),
    );
    assert!(drain(&mut n).is_empty());
    assert_eq!(
        counter(&n, "alice.up").dropped(DropReason::AddressChanged),
        before + 1
    );
}

#[test]
fn periodic_roaming_repeats() {
    let yaml = r#"
sites: [{ name: lan }]
hosts:
  - name: a
    site: lan
    addr: 10.0.0.10
    access:
      schedule: [{ every: 30s, start: 30s, until: 100s, outage: 200ms, address_change: true }]
"#;
    let mut n = net(yaml, 4);
    drain(&mut n);
    let events: Vec<NetEvent> = std::iter::from_fn(|| n.poll_event()).collect();
    let changes: Vec<(Nanos, Ipv4Addr)> = events
        .iter()
        .filter_map(|e| match e {
            NetEvent::AddressChanged { at, new, .. } => Some((*at, *new)),
            _ => None,
        })
        .collect();
    let want: Vec<_> = [(30, 11), (60, 12), (90, 13)]
        .iter()
        .map(|&(s, d)| (s * S, Ipv4Addr::new(10, 0, 0, d)))
        .collect();
    assert_eq!(changes, want);
    let outages = events
        .iter()
        .filter(|e| matches!(e, NetEvent::OutageStart { .. }))
        .count();
    assert_eq!(outages, 3);
}

const FIREWALLED: &str = r#"
sites: [{ name: lan }, { name: dc }]
core: { name: wan, both: { delay: 10ms } }
hosts:
  - name: alice
    site: lan
    addr: 10.0.0.2
    firewall:
      - { action: block, proto: tcp, ports: "8443", direction: out, tcp_block: reset }
  - name: edge
    site: dc
    addr: 10.0.9.2
    firewall:
      - { action: block, proto: udp, ports: "50000-59999", direction: in }
      - { action: block, proto: tcp, ports: "443", direction: in, tcp_block: reset }
      - { action: block, proto: tcp, ports: "80", direction: in }
"#;

#[test]
fn firewall_blocks_by_port_range_and_counts_the_reason() {
    let mut n = net(FIREWALLED, 5);
    let mut sent = 0;
    for port in [49_999u16, 50_000, 59_999, 60_000] {
        n.send(
            0,
            Datagram::udp(
                addr("10.0.0.2:4000"),
                SocketAddrV4::new(Ipv4Addr::new(10, 0, 9, 2), port),
                100,
                u64::from(port),
            ),
        );
        sent += 1;
    }
    let got: Vec<u64> = drain(&mut n).iter().map(|d| d.datagram.payload).collect();
    assert_eq!((sent, got), (4, vec![49_999, 60_000]));
    assert_eq!(counter(&n, "edge.down").dropped(DropReason::Firewall), 2);
}

#[test]
fn tcp_reset_comes_back_and_timeout_brings_nothing() {
    let mut n = net(FIREWALLED, 6);
    let alice = n.host_id("alice").unwrap();
    let syn = |port: u16, tag| {
        Datagram::tcp(
            addr("10.0.0.2:40000"),
            SocketAddrV4::new(Ipv4Addr::new(10, 0, 9, 2), port),
            0,
            true,
            tag,
        )
    };
    n.send(0, syn(443, 1)); // inbound block with reset at edge: RST after a round trip
    n.send(0, syn(80, 2)); // inbound block, timeout: nothing
    n.send(0, syn(8443, 3)); // alice's own outbound block with reset: RST at once
    let got = drain(&mut n);
    assert_eq!(got.len(), 2);
    assert!(got
        .iter()
        .all(|d| d.kind == DeliveryKind::TcpReset && d.to_host == alice));
    assert_eq!((got[0].at, got[0].datagram.payload), (0, 3));
    assert_eq!((got[1].at, got[1].datagram.payload), (20 * MS, 1));
    assert_eq!(
        got[1].datagram.src,
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 9, 2), 443)
    );
    assert_eq!(got[1].datagram.proto, Proto::Tcp { syn: false });
}

#[test]
fn cross_traffic_takes_capacity_while_it_runs() {
    // The home's 2 Mbit/s uplink carries a 160-byte call packet every 20 ms (64 kbit/s). An
    // upload of 2.4 Mbit/s (more than the link) runs from 10 s to 20 s: the queue fills to
    // its 100-packet limit and the call waits ~100 × 6 ms; after the upload stops and the
    // queue drains, the call sees no queueing again.
    let yaml = r#"
sites:
  - name: home
    shared: { name: uplink, up: { rate: 2Mbit, queue: 100pkt } }
    cross_traffic: [{ name: upload, rate: 2.4Mbit, arrivals: constant, start: 10s, stop: 20s, direction: up }]
  - { name: dc }
hosts:
  - { name: alice, site: home, addr: 10.0.0.2 }
  - { name: edge, site: dc, addr: 10.0.9.2 }
"#;
    let mut n = net(yaml, 7);
    let got = stream(&mut n, "10.0.0.2:1", "10.0.9.2:1", 1500, 20 * MS, 160);
    let delay = |i: u64| {
        got.iter()
            .find(|d| d.datagram.payload == i)
            .map(|d| d.at - i * 20 * MS)
    };
    // Alone: 188 bytes at 2 Mbit/s = 752 µs, nothing else.
    assert_eq!(delay(100), Some(752_000));
    // During the upload: some call packets are lost, the rest wait hundreds of ms.
    let during: Vec<Nanos> = (700..1000).filter_map(delay).collect();
    assert!(
        during.len() < 300 && during.iter().all(|&d| d > 300 * MS),
        "{:?}",
        &during[..5]
    );
    assert_eq!(delay(1400), Some(752_000));
    let c = counter(&n, "site:home.up");
    // 1500 bytes at 2.4 Mbit/s: one packet per 5 ms for 10 s.
    assert_eq!(c.cross_in, 2000);
    assert!(c.cross_dropped > 0, "{c}");
    let ev: Vec<NetEvent> = std::iter::from_fn(|| n.poll_event()).collect();
    assert_eq!(
        ev[0],
        NetEvent::CrossTrafficStart {
            site: "home".into(),
            flow: "upload".into(),
            at: 10 * S
        }
    );
    assert_eq!(
        ev[1],
        NetEvent::CrossTrafficStop {
            site: "home".into(),
            flow: "upload".into(),
            at: 20 * S
        }
    );
}

#[test]
fn same_seed_same_run_bit_for_bit() {
    let yaml = r#"
sites: [{ name: a }, { name: b }]
core: { name: wan, both: { delay: 30ms, jitter: { amount: 8ms, distribution: pareto }, loss: { bursty: { average: 3%, mean_burst: 2 } } } }
hosts:
  - { name: x, site: a, addr: 10.0.0.2, access: { name: w, both: { rate: 1Mbit, queue: 20pkt, duplicate: 1% } } }
  - { name: y, site: b, addr: 10.0.1.2 }
"#;
    let run = |seed| {
        let mut n = net(yaml, seed);
        let got = stream(&mut n, "10.0.0.2:1", "10.0.1.2:1", 20_000, 5 * MS, 500);
        let times: Vec<(Nanos, u64)> = got.iter().map(|d| (d.at, d.datagram.payload)).collect();
        (times, n.counters())
    };
    let (a, ca) = run(11);
    let (b, cb) = run(11);
    assert_eq!(a, b);
    assert_eq!(ca, cb);
    let (c, _) = run(12);
    assert_ne!(a, c);
    assert!(
        a.windows(2).all(|w| w[0].0 <= w[1].0),
        "deliveries come out in time order"
    );
}

#[test]
fn scenario_actions_change_the_network_at_their_time() {
    let mut n = net(ROAMING, 8);
    let bob = n.host_id("bob").unwrap();
    let change: DirectionConfig = serde_yaml::from_str("{delay: 40ms}").unwrap();
    n.schedule_profile_change(bob, 5 * S, change, Which::Down)
        .unwrap();
    n.schedule_outage(bob, 7 * S, 100 * MS);
    n.advance(5 * S);
    // alice moved at 2 s (her profile's schedule): she sends from her current address.
    let alice = SocketAddrV4::new(n.host_addr(n.host_id("alice").unwrap()), 1);
    n.send(5 * S, Datagram::udp(alice, addr("10.0.0.20:1"), 10, 1));
    n.advance(7 * S);
    n.send(7 * S, Datagram::udp(alice, addr("10.0.0.20:1"), 10, 2));
    let got = drain(&mut n);
    // alice.up 20 ms + bob.down now 40 ms; the second is sent into bob's outage... but it
    // reaches bob.down at 7.02 s, inside the 7.0-7.1 s outage: dropped.
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].at, 5 * S + 60 * MS);
    assert_eq!(counter(&n, "bob.down").dropped(DropReason::Outage), 1);
    let ev: Vec<NetEvent> = std::iter::from_fn(|| n.poll_event()).collect();
    assert!(ev
        .iter()
        .any(|e| matches!(e, NetEvent::PhaseChange { at, .. } if *at == 5 * S)));
}

#[test]
fn unknown_destinations_and_bad_configs_are_reported() {
    let mut n = net(ROAMING, 9);
    n.send(
        0,
        Datagram::udp(addr("10.0.0.10:1"), addr("192.0.2.1:1"), 10, 1),
    );
    n.send(
        0,
        Datagram::udp(addr("192.0.2.7:1"), addr("10.0.0.10:1"), 10, 2),
    );
    assert!(drain(&mut n).is_empty());
    assert_eq!(counter(&n, "alice.up").dropped(DropReason::NoRoute), 1);
    assert_eq!(n.unroutable(), 1);
    let bad = |y: &str| {
        Network::<u64>::new(&serde_yaml::from_str(y).unwrap(), 1, &[])
            .err()
            .unwrap()
            .to_string()
    };
    let e = bad("{sites: [{name: a}], hosts: [{name: h, site: b, addr: 10.0.0.1}]}");
    assert!(e.contains("host h: no site named \"b\" (sites: a)"), "{e}");
    let e = bad("{sites: [{name: a}], hosts: [{name: h, site: a, addr: 10.0.0.1}, {name: g, site: a, addr: 10.0.0.1}]}");
    assert!(e.contains("both have address 10.0.0.1"), "{e}");
    let e = bad("{sites: [{name: a, cross_traffic: [{name: f, rate: 1Mbit}]}], hosts: []}");
    assert!(e.contains("give the site a `shared` profile"), "{e}");
}

#[test]
fn a_profile_switch_replaces_every_parameter_and_drops_are_recorded_by_flow() {
    let yaml = r#"
sites: [{ name: lan }]
hosts:
  - { name: alice, site: lan, addr: 10.0.0.10, access: { name: a, up: { delay: 30ms, loss: { random: { rate: 100% } } } } }
  - { name: bob, site: lan, addr: 10.0.0.20 }
"#;
    let mut n = net(yaml, 3);
    n.record_drops(true);
    let alice = n.host_id("alice").unwrap();
    let clean: LinkProfile = serde_yaml::from_str("{name: clean, up: {delay: 5ms}}").unwrap();
    n.schedule_profile_replace(alice, S, &clean).unwrap();
    n.send(
        0,
        Datagram::udp(addr("10.0.0.10:1"), addr("10.0.0.20:1"), 10, 1),
    );
    n.advance(S);
    n.send(
        S,
        Datagram::udp(addr("10.0.0.10:1"), addr("10.0.0.20:1"), 10, 2),
    );
    let got = drain(&mut n);
    // Before the switch everything is lost; after it the loss model is gone (not merged) and
    // the delay is the new profile's.
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].datagram.payload, 2);
    assert_eq!(got[0].at, S + 5 * MS);
    let drops = n.take_drops();
    assert_eq!(drops.len(), 1);
    assert_eq!(drops[0].datagram.payload, 1);
    assert_eq!(drops[0].reason, DropReason::Loss);
    assert_eq!(drops[0].link, "alice.up");
    assert!(n.take_drops().is_empty());
    let ev: Vec<NetEvent> = std::iter::from_fn(|| n.poll_event()).collect();
    assert!(ev.iter().any(
        |e| matches!(e, NetEvent::PhaseChange { at, name: Some(p), .. } if *at == S && p == "clean")
    ));
}

#[test]
fn a_site_outage_takes_its_shared_link_down_and_sites_without_one_are_refused() {
    let mut n = net(THREE_SITES, 4);
    n.schedule_site_outage("home", S, 500 * MS).unwrap();
    assert!(n.schedule_site_outage("office", S, MS).is_err());
    assert!(n.schedule_site_outage("nowhere", S, MS).is_err());
    // alice (home) -> bob (office) crosses site:home.up; one datagram in the outage, one after.
    n.advance(S + 100 * MS);
    n.send(
        n.now(),
        Datagram::udp(addr("10.0.1.2:1"), addr("10.0.2.2:1"), 10, 1),
    );
    n.advance(2 * S);
    n.send(
        2 * S,
        Datagram::udp(addr("10.0.1.2:1"), addr("10.0.2.2:1"), 10, 2),
    );
    let got = drain(&mut n);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].datagram.payload, 2);
    assert_eq!(counter(&n, "site:home.up").dropped(DropReason::Outage), 1);
}
