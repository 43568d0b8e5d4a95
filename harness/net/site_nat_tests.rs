//! NATs in the network: hole punching through cone NATs, its failure between two symmetric
//! NATs (where a relay is needed), replies from a server, hairpinning, expiry, TCP resets,
//! and the drops each refusal is counted as.

use crate::net::{
    Datagram, Delivery, DeliveryKind, DropReason, LinkCounters, Nanos, Network, NetworkConfig,
    Proto,
};
use std::net::SocketAddrV4;

const S: Nanos = 1_000_000_000;

/// alice and carol at `home` behind `{a}`, bob at `office` behind `{b}`, a STUN server at
/// `dc` without a NAT; 10 ms core paths.
fn net(a: &str, b: &str) -> Network<u32> {
    let yaml = format!(
        r#"
sites:
  - {{ name: home, nat: {a} }}
  - {{ name: office, nat: {b} }}
  - {{ name: dc }}
core: {{ name: wan, both: {{ delay: 10ms }} }}
hosts:
  - {{ name: alice, site: home, addr: 10.0.1.2 }}
  - {{ name: carol, site: home, addr: 10.0.1.3 }}
  - {{ name: bob, site: office, addr: 10.0.2.2 }}
  - {{ name: stun, site: dc, addr: 10.0.9.2 }}
"#
    );
    let cfg: NetworkConfig = serde_yaml::from_str(&yaml).unwrap();
    Network::new(&cfg, 1, &[]).unwrap()
}

fn ep(s: &str) -> SocketAddrV4 {
    s.parse().unwrap()
}

const ALICE: &str = "10.0.1.2:50000";
const CAROL: &str = "10.0.1.3:50000";
const BOB: &str = "10.0.2.2:50000";
const STUN: &str = "10.0.9.2:3478";

/// Sends one UDP datagram at the network's time and runs until everything has arrived; the
/// deliveries.
fn send(n: &mut Network<u32>, from: &str, to: SocketAddrV4, tag: u32) -> Vec<Delivery<u32>> {
    let t = n.now();
    n.send(t, Datagram::udp(ep(from), to, 100, tag));
    while let Some(t) = n.next_event() {
        n.advance(t);
    }
    std::iter::from_fn(|| n.poll_delivery()).collect()
}

/// What the STUN server sees as the source of a packet from `from`.
fn reflexive(n: &mut Network<u32>, from: &str) -> SocketAddrV4 {
    let got = send(n, from, ep(STUN), 0);
    assert_eq!(got.len(), 1, "{from} reaches the STUN server");
    got[0].datagram.src
}

fn counter(n: &Network<u32>, name: &str) -> LinkCounters {
    n.counters().into_iter().find(|c| c.name == name).unwrap()
}

#[test]
fn public_addresses_default_to_test_net_3_in_site_order() {
    let n = net("symmetric", "full-cone");
    assert_eq!(
        n.site_public_addr("home"),
        Some("203.0.113.1".parse().unwrap())
    );
    assert_eq!(
        n.site_public_addr("office"),
        Some("203.0.113.2".parse().unwrap())
    );
    assert_eq!(n.site_public_addr("dc"), None);
    let n = net("{ type: symmetric, public: 203.0.113.1 }", "symmetric");
    assert_eq!(
        n.site_public_addr("office"),
        Some("203.0.113.2".parse().unwrap())
    );
    let bad = "{sites: [{name: a, nat: {type: symmetric, public: 10.0.0.1}}], hosts: [{name: h, site: a, addr: 10.0.0.1}]}";
    let cfg: NetworkConfig = serde_yaml::from_str(bad).unwrap();
    let e = Network::<u32>::new(&cfg, 1, &[]).err().unwrap().to_string();
    assert!(e.contains("10.0.0.1") && e.contains("host h"), "{e}");
}

#[test]
fn a_host_behind_a_nat_reaches_a_server_and_the_reply_comes_back() {
    let mut n = net("port-restricted", "port-restricted");
    let seen = reflexive(&mut n, ALICE);
    assert_eq!(
        seen,
        ep("203.0.113.1:50000"),
        "the server sees the public endpoint"
    );
    let m = n.nat_mapping(Proto::Udp, ep(ALICE), ep(STUN)).unwrap();
    assert_eq!(
        m.to_string(),
        "mapped udp 10.0.1.2:50000 -> 203.0.113.1:50000"
    );
    // The reply, to the public endpoint, reaches alice at her own address.
    let got = send(&mut n, STUN, seen, 1);
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(
        (d.to_host, d.datagram.src, d.datagram.dst),
        (n.host_id("alice").unwrap(), ep(STUN), ep(ALICE))
    );
    // Her private address does not route from outside; an unmapped public port is closed.
    assert!(send(&mut n, STUN, ep(ALICE), 2).is_empty());
    assert_eq!(
        counter(&n, "stun.up").dropped(DropReason::PrivateAddress),
        1
    );
    assert!(send(&mut n, STUN, ep("203.0.113.1:50001"), 3).is_empty());
    assert_eq!(
        counter(&n, "core:dc->home").dropped(DropReason::NatNoMapping),
        1
    );
    let k = &n.nat_counters()[0];
    assert_eq!(
        (
            k.site.as_str(),
            k.mappings_created,
            k.translated_out,
            k.translated_in
        ),
        ("home", 1, 1, 1)
    );
    assert_eq!(k.dropped_no_mapping, 1);
    // Between two hosts of one site nothing is translated.
    let got = send(&mut n, ALICE, ep(CAROL), 4);
    assert_eq!(got[0].datagram.src, ep(ALICE));
    assert_eq!(n.nat_counters()[0].translated_out, 1);
    assert!(n.nat_mapping(Proto::Udp, ep(ALICE), ep(CAROL)).is_none());
}

#[test]
fn cone_nats_let_a_direct_path_open_once_both_sides_have_sent() {
    let mut n = net("port-restricted", "port-restricted");
    let (a, b) = (reflexive(&mut n, ALICE), reflexive(&mut n, BOB));
    // alice's first packet opens her side and is refused by bob's filter...
    assert!(send(&mut n, ALICE, b, 1).is_empty());
    assert_eq!(
        counter(&n, "core:home->office").dropped(DropReason::NatFiltered),
        1
    );
    // ... bob's, to the endpoint alice used (the one the server saw: endpoint-independent
    // mapping), gets through, and from then on both ways work.
    let got = send(&mut n, BOB, a, 2);
    assert_eq!(
        (got.len(), got[0].datagram.src, got[0].datagram.dst),
        (1, b, ep(ALICE))
    );
    let got = send(&mut n, ALICE, b, 3);
    assert_eq!(
        (got.len(), got[0].datagram.src, got[0].datagram.dst),
        (1, a, ep(BOB))
    );
    assert_eq!(n.nat_counters()[1].dropped_filtered, 1);
    // A full cone lets the first packet in.
    let mut n = net("full-cone", "full-cone");
    let b = {
        reflexive(&mut n, ALICE);
        reflexive(&mut n, BOB)
    };
    assert_eq!(send(&mut n, ALICE, b, 1).len(), 1);
}

#[test]
fn two_symmetric_nats_never_open_a_direct_path_so_a_relay_is_needed() {
    let mut n = net("symmetric", "symmetric");
    let (a, b) = (reflexive(&mut n, ALICE), reflexive(&mut n, BOB));
    for i in 0..3 {
        assert!(
            send(&mut n, ALICE, b, i).is_empty(),
            "alice -> bob, try {i}"
        );
        assert!(send(&mut n, BOB, a, i).is_empty(), "bob -> alice, try {i}");
    }
    // Towards the peer each uses another port than the one the server saw.
    let to_peer = n.nat_mapping(Proto::Udp, ep(ALICE), b).unwrap();
    let to_server = n.nat_mapping(Proto::Udp, ep(ALICE), ep(STUN)).unwrap();
    assert_eq!(to_server.external, a);
    assert_ne!(to_peer.external, a);
    assert_eq!(
        counter(&n, "core:home->office").dropped(DropReason::NatFiltered),
        3
    );
    assert_eq!(
        counter(&n, "core:office->home").dropped(DropReason::NatFiltered),
        3
    );
    // Both still reach a relay on a public host, which can forward between them.
    assert_eq!(send(&mut n, STUN, a, 9).len(), 1);
    assert_eq!(send(&mut n, STUN, b, 9).len(), 1);
    assert_eq!(n.nat_mappings().len(), 4);
}

#[test]
fn hairpinning_loops_a_packet_back_inside_unless_it_is_off() {
    let mut n = net("full-cone", "full-cone");
    let a = reflexive(&mut n, ALICE);
    let got = send(&mut n, CAROL, a, 1);
    assert_eq!(got.len(), 1);
    // alice sees carol's public endpoint (50000 is alice's), as from outside; the packet
    // crossed no core link.
    let d = &got[0].datagram;
    assert_eq!((d.src, d.dst), (ep("203.0.113.1:1024"), ep(ALICE)));
    assert_eq!(counter(&n, "core:home->office").packets_in, 0);
    assert_eq!(counter(&n, "core:home->dc").packets_in, 1);
    assert_eq!(n.nat_counters()[0].hairpinned, 1);
    let mut n = net("{ type: full-cone, hairpinning: false }", "full-cone");
    let a = reflexive(&mut n, ALICE);
    assert!(send(&mut n, CAROL, a, 1).is_empty());
    assert_eq!(counter(&n, "carol.up").dropped(DropReason::NatHairpin), 1);
}

#[test]
fn an_idle_mapping_expires_and_its_replies_are_dropped() {
    let mut n = net("{ type: port-restricted, udp_timeout: 30s }", "symmetric");
    let a = reflexive(&mut n, ALICE);
    n.advance(29 * S);
    assert_eq!(send(&mut n, STUN, a, 1).len(), 1, "29 s idle: still open");
    n.advance(61 * S);
    assert!(
        send(&mut n, STUN, a, 2).is_empty(),
        "over 30 s idle: closed"
    );
    assert_eq!(
        counter(&n, "core:dc->home").dropped(DropReason::NatNoMapping),
        1
    );
    let k = &n.nat_counters()[0];
    assert_eq!(
        (k.mappings_created, k.mappings_expired, k.mappings_active),
        (1, 1, 0)
    );
}

#[test]
fn a_tcp_reset_finds_its_way_back_through_the_nat() {
    let yaml = r#"
sites: [{ name: home, nat: symmetric }, { name: dc }]
hosts:
  - { name: alice, site: home, addr: 10.0.1.2 }
  - { name: web, site: dc, addr: 10.0.9.2, firewall: [{ action: block, proto: tcp, ports: 443, direction: in, tcp_block: reset }] }
"#;
    let cfg: NetworkConfig = serde_yaml::from_str(yaml).unwrap();
    let mut n: Network<u32> = Network::new(&cfg, 1, &[]).unwrap();
    let syn = Datagram::tcp(ep("10.0.1.2:40000"), ep("10.0.9.2:443"), 0, true, 7);
    n.send(0, syn);
    while let Some(t) = n.next_event() {
        n.advance(t);
    }
    let d = n.poll_delivery().expect("the reset");
    assert_eq!(
        (d.kind, d.to_host, d.datagram.payload),
        (DeliveryKind::TcpReset, n.host_id("alice").unwrap(), 7)
    );
    assert_eq!(
        (d.datagram.src, d.datagram.dst),
        (ep("10.0.9.2:443"), ep("10.0.1.2:40000"))
    );
    let k = &n.nat_counters()[0];
    assert_eq!((k.translated_out, k.translated_in), (1, 1));
}
