//! Mapping and filtering of one NAT in RFC 4787's terms, timers, hairpinning and port choice.

use super::*;
use crate::net::nat_config::NatType;
use crate::units::Dur;

const S: Nanos = 1_000_000_000;
const UDP: NatProto = NatProto::Udp;

fn ep(s: &str) -> SocketAddrV4 {
    s.parse().unwrap()
}

fn nat_with(mapping: NatBehavior, filtering: NatBehavior) -> Nat {
    let mut cfg = NatConfig::preset(NatType::FullCone);
    cfg.mapping = mapping;
    cfg.filtering = filtering;
    Nat::new("home", &cfg, "203.0.113.1".parse().unwrap())
}

fn preset(t: NatType) -> Nat {
    Nat::new(
        "home",
        &NatConfig::preset(t),
        "203.0.113.1".parse().unwrap(),
    )
}

const HOST: &str = "10.0.0.2:50000";
/// Two remote hosts, the first with two ports.
const R1: &str = "198.51.100.1:3478";
const R1_OTHER_PORT: &str = "198.51.100.1:4000";
const R2: &str = "198.51.100.2:3478";

#[test]
fn endpoint_independent_mapping_reuses_one_external_port_for_every_destination() {
    let mut n = preset(NatType::FullCone);
    let a = n.outbound(0, UDP, ep(HOST), ep(R1)).unwrap();
    let b = n.outbound(1, UDP, ep(HOST), ep(R1_OTHER_PORT)).unwrap();
    let c = n.outbound(2, UDP, ep(HOST), ep(R2)).unwrap();
    assert_eq!((a, b, c), (ep("203.0.113.1:50000"), a, a));
    let k = n.counters(2);
    assert_eq!(
        (k.mappings_created, k.mappings_active, k.translated_out),
        (1, 1, 3)
    );
}

#[test]
fn address_and_port_dependent_mapping_gives_each_destination_endpoint_its_own_port() {
    let mut n = preset(NatType::Symmetric);
    let a = n.outbound(0, UDP, ep(HOST), ep(R1)).unwrap();
    let b = n.outbound(1, UDP, ep(HOST), ep(R1_OTHER_PORT)).unwrap();
    let c = n.outbound(2, UDP, ep(HOST), ep(R2)).unwrap();
    // The first keeps the host's port; the others are made from 1024 up.
    assert_eq!(a.port(), 50000);
    assert_eq!((b.port(), c.port()), (1024, 1025));
    // The same destination again uses its own mapping.
    assert_eq!(n.outbound(3, UDP, ep(HOST), ep(R1_OTHER_PORT)), Some(b));
    assert_eq!(n.counters(3).mappings_created, 3);
}

#[test]
fn address_dependent_mapping_gives_each_destination_address_its_own_port() {
    let mut n = nat_with(NatBehavior::AddressDependent, NatBehavior::AddressDependent);
    let a = n.outbound(0, UDP, ep(HOST), ep(R1)).unwrap();
    let b = n.outbound(1, UDP, ep(HOST), ep(R1_OTHER_PORT)).unwrap();
    let c = n.outbound(2, UDP, ep(HOST), ep(R2)).unwrap();
    assert_eq!(a, b, "same address, another port: same mapping");
    assert_ne!(a, c, "another address: another mapping");
}

#[test]
fn endpoint_independent_filtering_lets_anyone_in_once_a_mapping_exists() {
    let mut n = preset(NatType::FullCone);
    assert_eq!(
        n.inbound(0, UDP, ep(R2), 50000),
        Err(NatRefusal::NoMapping),
        "nothing before the host sends"
    );
    n.outbound(1, UDP, ep(HOST), ep(R1)).unwrap();
    assert_eq!(n.inbound(2, UDP, ep(R2), 50000), Ok(ep(HOST)));
    assert_eq!(n.inbound(2, UDP, ep(R1_OTHER_PORT), 50000), Ok(ep(HOST)));
    assert_eq!(n.inbound(2, UDP, ep(R1), 50001), Err(NatRefusal::NoMapping));
    let k = n.counters(2);
    assert_eq!((k.translated_in, k.dropped_no_mapping), (2, 2));
}

#[test]
fn address_dependent_filtering_admits_only_addresses_sent_to() {
    let mut n = preset(NatType::RestrictedCone);
    n.outbound(0, UDP, ep(HOST), ep(R1)).unwrap();
    assert_eq!(n.inbound(1, UDP, ep(R1), 50000), Ok(ep(HOST)));
    assert_eq!(n.inbound(1, UDP, ep(R1_OTHER_PORT), 50000), Ok(ep(HOST)));
    assert_eq!(n.inbound(1, UDP, ep(R2), 50000), Err(NatRefusal::Filtered));
    // Sending to R2 (on the same mapping: endpoint-independent) opens it for R2.
    n.outbound(2, UDP, ep(HOST), ep(R2)).unwrap();
    assert_eq!(n.inbound(3, UDP, ep(R2), 50000), Ok(ep(HOST)));
    assert_eq!(n.counters(3).dropped_filtered, 1);
}

#[test]
fn address_and_port_dependent_filtering_admits_only_endpoints_sent_to() {
    let mut n = preset(NatType::PortRestricted);
    n.outbound(0, UDP, ep(HOST), ep(R1)).unwrap();
    assert_eq!(n.inbound(1, UDP, ep(R1), 50000), Ok(ep(HOST)));
    assert_eq!(
        n.inbound(1, UDP, ep(R1_OTHER_PORT), 50000),
        Err(NatRefusal::Filtered)
    );
    assert_eq!(n.inbound(1, UDP, ep(R2), 50000), Err(NatRefusal::Filtered));
}

#[test]
fn a_mapping_expires_after_its_idle_timeout_and_outbound_traffic_refreshes_it() {
    let mut cfg = NatConfig::preset(NatType::FullCone);
    cfg.udp_timeout = Dur::from_secs(30);
    let mut n = Nat::new("home", &cfg, "203.0.113.1".parse().unwrap());
    n.outbound(0, UDP, ep(HOST), ep(R1)).unwrap();
    // Inbound traffic does not refresh it.
    assert!(n.inbound(20 * S, UDP, ep(R1), 50000).is_ok());
    // Refreshed at 25 s by an outbound packet: alive until 55 s.
    n.outbound(25 * S, UDP, ep(HOST), ep(R1)).unwrap();
    assert!(n.inbound(54 * S, UDP, ep(R1), 50000).is_ok());
    assert!(n.mapping(54 * S, UDP, ep(HOST), ep(R1)).is_some());
    assert_eq!(n.counters(54 * S).mappings_expired, 0);
    // Idle 30 s: gone; counted as expired as soon as it is idle, found or not.
    assert!(n.mapping(55 * S, UDP, ep(HOST), ep(R1)).is_none());
    assert_eq!(n.counters(55 * S).mappings_expired, 1);
    assert_eq!(
        n.inbound(55 * S, UDP, ep(R1), 50000),
        Err(NatRefusal::NoMapping)
    );
    let k = n.counters(55 * S);
    assert_eq!((k.mappings_expired, k.mappings_active), (1, 0));
    // The next outbound packet makes a new mapping.
    n.outbound(60 * S, UDP, ep(HOST), ep(R1)).unwrap();
    let k = n.counters(60 * S);
    assert_eq!(
        (k.mappings_created, k.mappings_expired, k.mappings_active),
        (2, 1, 1)
    );
}

#[test]
fn udp_and_tcp_have_their_own_ports_and_timeouts() {
    let mut n = preset(NatType::FullCone);
    let tcp = NatProto::Tcp;
    let u = n.outbound(0, UDP, ep(HOST), ep(R1)).unwrap();
    let t = n.outbound(0, tcp, ep(HOST), ep(R1)).unwrap();
    assert_eq!((u.port(), t.port()), (50000, 50000), "separate port spaces");
    // 121 s idle: past UDP's 120 s, well within TCP's 7440 s.
    assert!(n.inbound(121 * S, UDP, ep(R1), 50000).is_err());
    assert_eq!(n.inbound(121 * S, tcp, ep(R1), 50000), Ok(ep(HOST)));
    assert!(n.inbound(7440 * S, tcp, ep(R1), 50000).is_err());
}

#[test]
fn two_hosts_on_one_port_get_distinct_external_ports() {
    let mut n = preset(NatType::FullCone);
    let a = n.outbound(0, UDP, ep("10.0.0.2:50000"), ep(R1)).unwrap();
    let b = n.outbound(1, UDP, ep("10.0.0.3:50000"), ep(R1)).unwrap();
    assert_eq!((a.port(), b.port()), (50000, 1024));
    // Each reply reaches its own host.
    assert_eq!(n.inbound(2, UDP, ep(R1), 50000), Ok(ep("10.0.0.2:50000")));
    assert_eq!(n.inbound(2, UDP, ep(R1), 1024), Ok(ep("10.0.0.3:50000")));
    // Without port preservation every mapping comes from the counter.
    let mut cfg = NatConfig::preset(NatType::FullCone);
    cfg.port_preservation = false;
    let mut n = Nat::new("home", &cfg, "203.0.113.1".parse().unwrap());
    assert_eq!(n.outbound(0, UDP, ep(HOST), ep(R1)).unwrap().port(), 1024);
    // A host already on port 1024 does not get it twice.
    assert_eq!(
        n.outbound(0, UDP, ep("10.0.0.9:1024"), ep(R1))
            .unwrap()
            .port(),
        1025
    );
}

#[test]
fn an_expired_mapping_gives_its_port_back() {
    let mut cfg = NatConfig::preset(NatType::FullCone);
    cfg.udp_timeout = Dur::from_secs(10);
    let mut n = Nat::new("home", &cfg, "203.0.113.1".parse().unwrap());
    n.outbound(0, UDP, ep("10.0.0.2:50000"), ep(R1)).unwrap();
    // After the first expired, a second host may have the preserved port.
    let b = n
        .outbound(10 * S, UDP, ep("10.0.0.3:50000"), ep(R1))
        .unwrap();
    assert_eq!(b.port(), 50000);
    assert_eq!(
        n.inbound(11 * S, UDP, ep(R1), 50000),
        Ok(ep("10.0.0.3:50000"))
    );
    assert_eq!(n.counters(11 * S).mappings_expired, 1);
}

#[test]
fn hairpinning_is_counted_and_can_be_refused() {
    let mut n = preset(NatType::FullCone);
    assert!(n.hairpin());
    let mut cfg = NatConfig::preset(NatType::FullCone);
    cfg.hairpinning = false;
    let mut off = Nat::new("home", &cfg, "203.0.113.1".parse().unwrap());
    assert!(!off.hairpin());
    assert_eq!(n.counters(0).hairpinned, 1);
    assert_eq!(off.counters(0).dropped_hairpin, 1);
}

#[test]
fn mappings_are_listed_and_described_for_reports() {
    let mut n = preset(NatType::Symmetric);
    n.outbound(0, UDP, ep(HOST), ep(R1)).unwrap();
    n.outbound(5, UDP, ep(HOST), ep(R2)).unwrap();
    let m = n.mapping(5, UDP, ep(HOST), ep(R2)).unwrap();
    assert_eq!(
        m.to_string(),
        "mapped udp 10.0.0.2:50000 -> 203.0.113.1:1024"
    );
    assert_eq!(m.last_used, 5);
    let all: Vec<u16> = n.mappings(5).iter().map(|m| m.external.port()).collect();
    assert_eq!(all, [1024, 50000]);
    assert!(n.mapping(5, UDP, ep(HOST), ep(R1_OTHER_PORT)).is_none());
}

#[test]
fn presets_and_the_map_form_read_alike() {
    let p: NatConfig = serde_yaml::from_str("port-restricted").unwrap();
    let m: NatConfig = serde_yaml::from_str(
        "{ mapping: endpoint-independent, filtering: address-and-port-dependent }",
    )
    .unwrap();
    assert_eq!(p, m);
    assert_eq!(p.preset_name(), Some(NatType::PortRestricted));
    let t: NatConfig =
        serde_yaml::from_str("{ type: symmetric, public: 192.0.2.9, hairpinning: false }").unwrap();
    assert_eq!(t.public, Some("192.0.2.9".parse().unwrap()));
    assert!(!t.hairpinning && t.port_preservation);
    assert_eq!(t.udp_timeout, Dur::from_secs(120));
    assert_eq!(t.tcp_timeout, Dur::from_secs(7440));
    // What it writes, it reads back.
    let again: NatConfig = serde_yaml::from_str(&serde_yaml::to_string(&t).unwrap()).unwrap();
    assert_eq!(again, t);
    for (text, says) in [
        ("symetric", "symetric"),
        ("{ mapping: endpoint-independent }", "no `filtering`"),
        (
            "{ type: full-cone, filtering: address-dependent }",
            "both given",
        ),
        ("{ type: symmetric, udp_timeout: 0s }", "cannot be 0s"),
        ("{ type: symmetric, public: 1.2.3 }", "IPv4"),
        ("{ type: symmetric, mapings: x }", "mapings"),
    ] {
        let e = serde_yaml::from_str::<NatConfig>(text)
            .unwrap_err()
            .to_string();
        assert!(e.contains(says), "{text}: {e}");
    }
}
