//! Tests of the limits on a scenario: name lengths, its duration, the packet rate of a flow,
//! and the work estimate that refuses or warns before anything runs.

use super::input_tests::{assert_ours, scenario, with_site, Dir};
use super::limits::{self, MAX_DURATION, MAX_NAME_LEN};
use super::*;

#[test]
fn schema_states_the_limits() {
    let s = json_schema();
    let p = &s["properties"];
    assert_eq!(p["name"]["maxLength"], MAX_NAME_LEN);
    assert_eq!(
        p["participants"]["propertyNames"]["maxLength"],
        MAX_NAME_LEN
    );
    let duration = p["duration"]["description"].as_str().expect("duration");
    assert!(duration.contains(&MAX_DURATION.to_string()), "{duration}");
    let rate = s["$defs"]["CrossTraffic"]["properties"]["rate"]["description"]
        .as_str()
        .expect("rate");
    assert!(rate.contains("2,000,000 packets per second"), "{rate}");
}

#[test]
fn names_longer_than_the_limit_are_refused() {
    let d = Dir::new();
    let long = "p".repeat(MAX_NAME_LEN + 1);
    let e = d.errors(&format!(
        "name: t\nduration: 60s\nsites: {{ s{long}: {{}} }}\nparticipants:\n  {long}: {{ network: wired-lan }}\n"
    ));
    let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths.len(), 2, "{}", ScenarioErrors(e.clone()));
    assert!(e.iter().all(|e| e.message.contains("too long")));
    assert_eq!((e[0].line, e[1].line), (3, 5));
    // At the limit, a name is fine.
    let ok = "p".repeat(MAX_NAME_LEN);
    d.load(&format!(
        "name: t\nduration: 60s\nparticipants:\n  {ok}: {{ network: wired-lan }}\n"
    ))
    .expect("a name of exactly the limit");
}

#[test]
fn a_duration_over_a_day_is_refused_with_the_limit() {
    let d = Dir::new();
    let e = d.errors("name: t\nduration: 1000h\nparticipants:\n  alice: { network: wired-lan }\n");
    assert_eq!(e.len(), 1, "{}", ScenarioErrors(e.clone()));
    assert_eq!(
        (e[0].line, e[0].column, e[0].path.as_str()),
        (2, 11, "duration")
    );
    assert!(e[0].to_string().contains("at most 24h"), "{}", e[0]);
    let s = d
        .load("name: t\nduration: 24h\nparticipants:\n  alice: { network: wired-lan }\n")
        .expect("24h is the limit");
    assert!(s[0].warnings.is_empty(), "no calls, no work");
}

#[test]
fn a_flood_of_small_packets_is_refused_at_its_rate() {
    let d = Dir::new();
    // 100 Gbit/s of 20-byte packets (the smallest IPv4 packet): 625 M packets per second.
    let e = d.errors(&with_site(
        "  - { at: 1s, site: home, cross_traffic: { name: flood, rate: 100Gbit, packet_size: 20B } }\n",
    ));
    assert_eq!(e.len(), 1, "{}", ScenarioErrors(e.clone()));
    assert_ours(&e[0]);
    assert_eq!(e[0].path, "timeline[0].cross_traffic.rate");
    assert_eq!((e[0].line, e[0].column), (8, 63));
    let text = e[0].to_string();
    assert!(text.contains("625000000 packets per second"), "{text}");
    assert!(
        text.contains("at most 2000000 packets per second"),
        "{text}"
    );
    // With 1-byte packets, the packet size is wrong too.
    let e = d.errors(&with_site(
        "  - { at: 1s, site: home, cross_traffic: { name: flood, rate: 100Gbit, packet_size: 1B } }\n",
    ));
    let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "timeline[0].cross_traffic.rate",
            "timeline[0].cross_traffic.packet_size"
        ]
    );
}

#[test]
fn too_many_packet_events_are_refused_at_what_costs_most() {
    let d = Dir::new();
    // 1.67 M packets/s (under the per-flow limit) for a day: 1.4e11 packets.
    let text = with_site(
        "  - { at: 1s, site: home, cross_traffic: { name: bulk, rate: 20Gbit, packet_size: 1500B } }\n",
    )
    .replace("duration: 60s", "duration: 24h");
    let e = d.errors(&text);
    assert_eq!(e.len(), 1, "{}", ScenarioErrors(e.clone()));
    assert_ours(&e[0]);
    assert_eq!(e[0].path, "timeline[0].cross_traffic.rate");
    assert!(
        e[0].message.contains("over the limit of 1.0e10"),
        "{}",
        e[0]
    );
    assert!(e[0].message.contains("`bulk` costs most"), "{}", e[0]);
    // A schedule repeating every microsecond, in overrides: at the profile that holds it.
    let e = d.errors(
        &scenario(
            "    overrides: { schedule: [ { every: 1us, outage: 1ns } ] }\n",
            "",
        )
        .replace("duration: 60s", "duration: 24h"),
    );
    assert_eq!(e.len(), 1, "{}", ScenarioErrors(e.clone()));
    assert_eq!(e[0].path, "participants.alice.network");
    assert!(e[0].message.contains("packet events"), "{}", e[0]);
}

#[test]
fn a_long_run_warns_and_a_longer_one_is_refused() {
    let d = Dir::new();
    let calls = |n: usize| -> String {
        "calls:\n".to_string() + &"  - { caller: alice, callee: bob }\n".repeat(n)
    };
    // Two calls of a day: about 7 minutes of work.
    let text = scenario("", &calls(2)).replace("duration: 60s", "duration: 24h");
    let s = d.load(&text).expect("loads with a warning");
    assert_eq!(s[0].warnings.len(), 1);
    let w = &s[0].warnings[0];
    assert_eq!(w.severity, Severity::Warning);
    assert_eq!((w.line, w.column, w.path.as_str()), (2, 11, "duration"));
    let shown = w.to_string();
    assert!(
        shown.contains("s.yaml:2:11: warning: this scenario will take about 7 min"),
        "{shown}"
    );
    // Twenty: over an hour.
    let text = scenario("", &calls(20)).replace("duration: 60s", "duration: 24h");
    let e = d.errors(&text);
    assert_eq!(e.len(), 1, "{}", ScenarioErrors(e.clone()));
    assert_eq!(e[0].severity, Severity::Error);
    assert!(e[0].message.contains("over the limit of 1.0 h"), "{}", e[0]);
    // A minute-long call: nothing to say.
    let s = d.load(&scenario("", &calls(1))).expect("loads");
    assert!(s[0].warnings.is_empty());
}

#[test]
fn the_estimate_counts_calls_flows_and_repeated_changes() {
    let d = Dir::new();
    let text = "name: t\nduration: 60s\nsites: { home: { shared: wired-lan } }\nparticipants:\n  alice: { network: wired-lan, site: home, overrides: { schedule: [ { every: 10s, outage: 1s } ] } }\n  bob: { network: wired-lan }\ncalls:\n  - { caller: alice, callee: bob, at: 5s, duration: 50s }\n  - { caller: bob, callee: alice, at: 30s }\ntimeline:\n  - { at: 10s, site: home, cross_traffic: { name: x, rate: 12Mbit, packet_size: 1500B, pattern: { on_off: { on: 1s, off: 1s } } } }\n  - { at: 30s, site: home, cross_traffic_stop: x }\n";
    let s = d.load(text).expect("valid").remove(0);
    let w = limits::estimate(&s);
    assert_eq!(w.calls, 2);
    assert_eq!(w.call_secs, 80.0, "50 s, then from 30 s to the end");
    // 1000 packets/s, half the time, for 20 s.
    assert_eq!(w.flows.len(), 1);
    assert_eq!(w.flows[0].3, 10_000.0);
    // Every 10 s from 10 s to 60 s.
    assert_eq!(w.schedules.len(), 1);
    assert_eq!(w.schedules[0].1, 5.0);
    assert_eq!(w.packet_events(), 10_005.0);
}
