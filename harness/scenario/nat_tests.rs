//! A site's `nat:`: the preset form, the full map, mistakes at their field, the schema, and
//! the NAT reaching the emulator's configuration.

use super::input_tests::{assert_ours, Dir};
use super::*;
use crate::net::{NatBehavior, NatConfig, NatType};

/// alice at site `home`, whose body is `home` (written on line 4, from column 9), bob on the
/// default site.
fn with_home(home: &str) -> String {
    format!(
        "name: t\nduration: 60s\nsites:\n  home: {home}\nparticipants:\n  alice: {{ network: wired-lan, site: home }}\n  bob: {{ network: wired-lan }}\n"
    )
}

fn home_nat(s: &Scenario) -> Option<&NatConfig> {
    s.sites.iter().find(|x| x.name == "home")?.nat.as_ref()
}

#[test]
fn a_preset_name_gives_its_mapping_and_filtering() {
    let s = Dir::new()
        .load(&with_home("{ nat: symmetric }"))
        .expect("valid")
        .remove(0);
    assert_eq!(home_nat(&s), Some(&NatConfig::preset(NatType::Symmetric)));
    // The default site has none, and the emulator gets the site's.
    assert!(s.sites.iter().all(|x| x.name == "home" || x.nat.is_none()));
    let cfg = crate::sim::world::network_config(&s);
    let home = cfg.sites.iter().find(|x| x.name == "home").expect("home");
    assert_eq!(
        home.nat.as_ref().and_then(|n| n.preset_name()),
        Some(NatType::Symmetric)
    );
    let net: crate::net::Network<()> = crate::net::Network::new(&cfg, 1, &[]).expect("builds");
    assert_eq!(
        net.site_public_addr("home"),
        Some("203.0.113.1".parse().unwrap())
    );
}

#[test]
fn the_full_map_sets_every_field() {
    let s = Dir::new()
        .load(&with_home(
            "{ shared: wired-lan, nat: { mapping: address-dependent, filtering: endpoint-independent, public: 198.51.100.7, udp_timeout: 30s, tcp_timeout: 1h, port_preservation: false, hairpinning: false } }",
        ))
        .expect("valid")
        .remove(0);
    let n = home_nat(&s).expect("a NAT");
    assert_eq!(
        (n.mapping, n.filtering),
        (
            NatBehavior::AddressDependent,
            NatBehavior::EndpointIndependent
        )
    );
    assert_eq!(n.public, Some("198.51.100.7".parse().unwrap()));
    assert_eq!(n.udp_timeout.as_nanos(), 30_000_000_000);
    assert_eq!(n.tcp_timeout.as_nanos(), 3_600_000_000_000);
    assert!(!n.port_preservation && !n.hairpinning);
    assert_eq!(n.preset_name(), None);
    let s = Dir::new()
        .load(&with_home(
            "{ nat: { type: restricted-cone, udp_timeout: 5m } }",
        ))
        .expect("valid")
        .remove(0);
    let n = home_nat(&s).expect("a NAT");
    assert_eq!(n.preset_name(), Some(NatType::RestrictedCone));
    assert_eq!(n.udp_timeout.as_nanos(), 300_000_000_000);
}

#[test]
fn a_bad_nat_is_reported_at_its_file_line_and_field() {
    let d = Dir::new();
    let e = d.errors(&with_home("{ nat: symetric }"));
    assert_eq!(e.len(), 1, "{}", ScenarioErrors(e.clone()));
    let e = &e[0];
    assert_ours(e);
    assert_eq!(
        (e.line, e.column, e.path.as_str()),
        (4, 16, "sites.home.nat")
    );
    assert_eq!(e.suggestion.as_deref(), Some("symmetric"));
    let text = e.to_string();
    assert!(
        text.contains("s.yaml:4:16") && text.contains("`symetric`"),
        "{text}"
    );
    assert!(
        text.contains("port-restricted"),
        "lists the presets: {text}"
    );

    // Every mistake inside the map at its own field.
    let e = d.errors(&with_home(
        "{ nat: { mapping: address-dependent, filtering: everyone, udp_timeout: 0s } }",
    ));
    let paths: Vec<&str> = e.iter().map(|x| x.path.as_str()).collect();
    assert_eq!(
        paths,
        ["sites.home.nat.filtering", "sites.home.nat.udp_timeout"],
        "{}",
        ScenarioErrors(e.clone())
    );
    e.iter().for_each(assert_ours);
    assert!(e[1].to_string().contains("cannot be 0s"), "{}", e[1]);

    // A preset and explicit behaviours at once, or half of the behaviours.
    for (nat, says) in [
        (
            "{ type: symmetric, mapping: address-dependent }",
            "both given",
        ),
        ("{ mapping: address-dependent }", "no `filtering`"),
        ("{ public: 203.0.113.9 }", "no `type`"),
        (
            "{ type: full-cone, public: 203.0.113 }",
            "invalid IPv4 address",
        ),
        (
            "{ type: full-cone, hairpin: true }",
            "unknown field `hairpin`",
        ),
        ("true", "a NAT type"),
    ] {
        let e = d.errors(&with_home(&format!("{{ nat: {nat} }}")));
        assert_eq!(e.len(), 1, "{nat}: {}", ScenarioErrors(e.clone()));
        assert_ours(&e[0]);
        assert!(e[0].path.starts_with("sites.home.nat"), "{nat}: {}", e[0]);
        assert!(e[0].to_string().contains(says), "{nat}: {}", e[0]);
    }
}

#[test]
fn the_schema_documents_nat_as_a_preset_or_a_map() {
    let s = json_schema();
    let site = &s["$defs"]["RawSite"]["properties"]["nat"];
    assert!(
        site["description"]
            .as_str()
            .is_some_and(|d| d.contains("symmetric")),
        "{site}"
    );
    let text = s.to_string();
    for word in [
        "full-cone",
        "address-and-port-dependent",
        "udp_timeout",
        "hairpinning",
    ] {
        assert!(text.contains(word), "schema lacks {word}");
    }
}
