//! A representative [`RunReport`], made by hand, for the writers' tests, the CLI's tests
//! (`callharness report`, `compare`) and the HTML check script (`check_html.sh`).
//!
//! It holds what a report can show: a passing scenario, a failing one with an outage, an address
//! change, a profile change and cross-traffic on its timeline, a matrix pair (a loss sweep) and a
//! scenario that was cut short, so the whole run is marked incomplete. Numbers are made up but
//! consistent (loss at the receiver matches the link's drops, MOS falls with loss). Nothing
//! random: the same report every time. [`service_run`] is a second run, with the calling service
//! in it (accounts, refused calls with their codes, sign-in and IM events, a scope finding).

use super::model::*;
use std::collections::BTreeMap;

mod service;
pub use service::service_run;

/// The sample run: five scenarios, 60 s each, seed 42, incomplete.
pub fn sample_run() -> RunReport {
    let scenarios = [
        clean_call(),
        roaming_call(),
        loss_sweep_cell("1%", 1.0, Verdict::Pass),
        loss_sweep_cell("5%", 5.0, Verdict::Fail),
        interrupted(),
    ]
    .into_iter()
    .map(ScenarioReport::with_outcome)
    .collect();
    RunReport {
        format: super::json::FORMAT_VERSION,
        seed: 42,
        versions: BTreeMap::from([
            ("callharness".to_string(), "0.1.0".to_string()),
            ("opus".to_string(), "1.3.1".to_string()),
            ("rtc".to_string(), "0.21.1".to_string()),
        ]),
        started_at: "2025-06-02T09:30:00Z".to_string(),
        wall_ms: 1840,
        complete: false,
        verdict: Verdict::Fail,
        scenarios,
    }
}

/// A smooth, deterministic wobble in [-1, 1] for second `t` (no RNG: the fixture is data).
fn wobble(t: u64, k: u64) -> f64 {
    let x = (t * 7 + k * 13) as f64;
    (x * 0.9).sin() * 0.6 + (x * 0.37).cos() * 0.4
}

/// Per-second shape of a stream: base values plus what the timeline does to them.
struct Shape {
    loss_pct: f64,
    jitter_ms: f64,
    rtt_ms: f64,
    /// (from s, to s) with no packets at all.
    outage: Option<(u64, u64)>,
    /// (from s, to s) with cross-traffic queueing: more RTT and jitter.
    contention: Option<(u64, u64)>,
    /// From this second on, jitter is doubled (profile change).
    worse_from: Option<u64>,
    /// A one-second loss burst (address change).
    blip: Option<u64>,
    seconds: u64,
    k: u64,
}

fn series(shape: &Shape) -> Vec<SecondSample> {
    (0..shape.seconds)
        .map(|t| {
            let in_span = |s: Option<(u64, u64)>| s.is_some_and(|(a, b)| t >= a && t < b);
            if in_span(shape.outage) {
                return SecondSample {
                    t,
                    loss_pct: Some(100.0),
                    concealed_pct: Some(100.0),
                    jitter_ms: 0.0,
                    bitrate_kbps: 0.0,
                    rtt_ms: None,
                    one_way_ms: None,
                    mos: None,
                };
            }
            let w = wobble(t, shape.k);
            let mut loss = (shape.loss_pct * (1.0 + 0.5 * w)).max(0.0);
            let mut jitter = shape.jitter_ms * (1.0 + 0.25 * w);
            let mut rtt = shape.rtt_ms + 2.0 * w;
            if in_span(shape.contention) {
                rtt += 38.0 + 6.0 * w;
                jitter += 6.0 + 2.0 * w;
            }
            if shape.worse_from.is_some_and(|f| t >= f) {
                jitter *= 2.0;
            }
            if shape.blip == Some(t) {
                loss = 35.0;
            }
            if shape.outage.is_some_and(|(_, b)| t == b) {
                jitter += 18.0; // the queue drains in a burst after the outage
            }
            loss = round(loss, 2);
            let mos = round((4.41 - 0.09 * loss - 0.004 * jitter).clamp(1.0, 4.5), 2);
            SecondSample {
                t,
                loss_pct: Some(loss),
                concealed_pct: Some(loss),
                jitter_ms: round(jitter, 2),
                bitrate_kbps: round(40.0 * (1.0 - loss / 100.0) + 1.5 * w, 1),
                rtt_ms: Some(round(rtt, 1)),
                one_way_ms: Some(round(rtt / 2.0, 1)),
                mos: Some(mos),
            }
        })
        .collect()
}

/// Highest loss over any `window` consecutive seconds, %, and the window's first second.
fn max_window_loss(series: &[SecondSample], window: usize) -> (f64, u64) {
    series
        .windows(window.min(series.len()).max(1))
        .map(|w| {
            let lost: f64 = w
                .iter()
                .map(|s| (s.loss_pct.unwrap_or(0.0) / 100.0 * 50.0).round())
                .sum();
            (round(lost * 100.0 / (50.0 * w.len() as f64), 2), w[0].t)
        })
        .fold((0.0, 0), |best, x| if x.0 > best.0 { x } else { best })
}

fn round(v: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    (v * p).round() / p
}

/// A stream whose totals are the sums and means of its series.
fn stream(from: &str, to: &str, shape: &Shape) -> StreamReport {
    let series = series(shape);
    let sent = shape.seconds * 50;
    let lost = series
        .iter()
        .map(|s| (s.loss_pct.unwrap_or(0.0) / 100.0 * 50.0).round() as i64)
        .sum::<i64>();
    let received = sent - lost as u64;
    let loss_pct = round(lost as f64 * 100.0 / sent as f64, 2);
    let jitter_ms = round(series.last().map_or(0.0, |s| s.jitter_ms), 2);
    let rtts: Vec<f64> = series.iter().filter_map(|s| s.rtt_ms).collect();
    let rtt_ms = (!rtts.is_empty()).then(|| round(rtts.iter().sum::<f64>() / rtts.len() as f64, 1));
    let r_factor = round(93.2 - 2.5 * loss_pct - 0.1 * jitter_ms, 1);
    let mos = round(
        1.0 + 0.035 * r_factor + r_factor * (r_factor - 60.0) * (100.0 - r_factor) * 7e-6,
        2,
    );
    let max_gap_ms = match shape.outage {
        Some((a, b)) => ((b - a) * 1000 + 20) as f64,
        None => 40.0 + 20.0 * (shape.loss_pct / 2.0).ceil(),
    };
    StreamReport {
        from: from.to_string(),
        to: to.to_string(),
        kind: "audio".to_string(),
        packets_sent: sent,
        packets_received: received,
        lost,
        loss_pct,
        jitter_ms,
        jitter_p95_ms: round(jitter_ms * 2.4 + 0.3, 2),
        rtt_ms,
        one_way_delay_ms: rtt_ms.map(|r| round(r / 2.0, 1)),
        one_way_delay_source: Some("measured".to_string()),
        late: (lost as u64) / 20,
        emulator_dropped: Some(lost.max(0) as u64),
        duplicates: 0,
        reordered: u64::from(shape.jitter_ms > 5.0) * 3,
        concealed_ratio: Some(round(loss_pct / 100.0 * 0.9, 4)),
        playout_loss_pct: Some(loss_pct),
        max_concealment_ms: Some(max_gap_ms - 20.0),
        speech_ratio: Some(0.39),
        decoded_level_dbov: Some(-27.5),
        played_level_dbov: Some(-27.6),
        max_gap_ms,
        r_factor,
        mos,
        mos_degradation: round(4.41 - mos, 2),
        extra: BTreeMap::from([
            (
                "burst_density".to_string(),
                round(loss_pct / 100.0 * 3.0, 3),
            ),
            (
                "jitter_buffer_delay_ms".to_string(),
                round(40.0 + jitter_ms * 2.0, 1),
            ),
            (
                "loss_max_15s_pct".to_string(),
                max_window_loss(&series, 15).0,
            ),
        ]),
        series,
        links: Vec::new(),
        fault: (loss_pct > 1.0).then(|| {
            format!(
                "{from}'s uplink ({from}.up, {from}'s side, the far end for {to}): {loss_pct} % of packets dropped (random loss)"
            )
        }),
    }
}

fn link(name: &str, packets_in: u64, dropped: &[(&str, u64)], queue_high_water: u64) -> LinkReport {
    let dropped: BTreeMap<String, u64> = dropped
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| (r.to_string(), *n))
        .collect();
    LinkReport {
        link: name.to_string(),
        packets_in,
        bytes_in: packets_in * 132,
        delivered: packets_in - dropped.values().sum::<u64>(),
        dropped,
        queue_high_water,
        ..LinkReport::default()
    }
}

fn event(
    at_ms: u64,
    duration_ms: Option<u64>,
    kind: &str,
    subject: &str,
    detail: &str,
) -> TimelineEvent {
    TimelineEvent {
        at_ms,
        duration_ms,
        kind: kind.to_string(),
        subject: subject.to_string(),
        detail: detail.to_string(),
    }
}

fn expect(what: &str, expected: &str, observed: &str, met: bool) -> Expectation {
    Expectation {
        what: what.to_string(),
        expected: expected.to_string(),
        observed: observed.to_string(),
        met,
    }
}

fn plain_shape(loss_pct: f64, jitter_ms: f64, rtt_ms: f64, k: u64) -> Shape {
    Shape {
        loss_pct,
        jitter_ms,
        rtt_ms,
        outage: None,
        contention: None,
        worse_from: None,
        blip: None,
        seconds: 60,
        k,
    }
}

fn connected_call(
    caller: &str,
    callee: &str,
    pair: &str,
    streams: Vec<StreamReport>,
) -> CallReport {
    CallReport {
        caller: caller.to_string(),
        callee: callee.to_string(),
        start_ms: 0,
        end_ms: 60_000,
        connected: true,
        failure: None,
        offer_ms: None,
        setup_ms: Some(182.0),
        first_audio_ms: Some(243.5),
        candidate_pair: Some(pair.to_string()),
        candidates: Vec::new(),
        test_call: None,
        streams,
        video: Vec::new(),
    }
}

fn call_events(caller: &str, callee: &str) -> Vec<TimelineEvent> {
    let call = format!("{caller}→{callee}");
    vec![
        event(0, None, "call-start", &call, "offer sent"),
        event(182, None, "call-connected", &call, "host/udp"),
        event(60_000, None, "call-end", &call, "hang-up"),
    ]
}

fn clean_call() -> ScenarioReport {
    let ab = stream("alice", "bob", &plain_shape(0.0, 0.4, 40.0, 1));
    let ba = stream("bob", "alice", &plain_shape(0.0, 0.4, 40.0, 2));
    let (ab_sent, ba_sent) = (ab.packets_sent, ba.packets_sent);
    ScenarioReport {
        name: "clean wired call".to_string(),
        file: "scenarios/examples/clean-wired.yaml".to_string(),
        description: "Two wired desktops on the same office LAN: the baseline every other scenario is measured against.".to_string(),
        kb: vec!["KB-2001".to_string()],
        seed: 42,
        duration_ms: 60_000,
        matrix: BTreeMap::new(),
        verdict: Verdict::Pass,
        expects: Some(Expects::Healthy),
        outcome: None,
        complete: true,
        expectations: vec![
            expect("alice→bob call connects", "connected", "connected in 182 ms", true),
            expect("alice→bob audio loss < 1% in any 15s", "< 1 %", "0.00 %", true),
            expect("bob→alice audio MOS ≥ 4.0", "≥ 4.0", &format!("{:.2}", ba.mos), true),
        ],
        calls: vec![connected_call("alice", "bob", "host/udp ↔ host/udp", vec![ab, ba])],
        accounts: Vec::new(),
        messages: Vec::new(),
        presence: Vec::new(),
        presence_lags: Vec::new(),
        links: vec![
            link("alice.up", ab_sent + 12, &[], 1),
            link("bob.down", ab_sent + 12, &[], 1),
            link("bob.up", ba_sent + 12, &[], 1),
            link("alice.down", ba_sent + 12, &[], 1),
        ],
        events: call_events("alice", "bob"),
        scope: None,
        edge: None,
        tunnels: Vec::new(),
        wall_ms: 310,
        source: "name: clean wired call\nkb: [KB-2001]\nduration: 60s\nparticipants:\n  alice: { profile: office-lan }\n  bob: { profile: office-lan }\ncalls:\n  - { from: alice, to: bob, at: 0s, hangup: 60s }\nexpect:\n  - call: alice->bob\n    connected: true\nthresholds:\n  - loss < 1% in any 15s\n  - mos >= 4.0\n".to_string(),
        error: None,
    }
}

fn roaming_call() -> ScenarioReport {
    let shape = |k| Shape {
        loss_pct: 1.2,
        jitter_ms: 6.0,
        rtt_ms: 62.0,
        outage: Some((20, 25)),
        contention: Some((8, 17)),
        worse_from: Some(45),
        blip: Some(35),
        seconds: 60,
        k,
    };
    let ab = stream("alice", "bob", &shape(3));
    let ba = stream("bob", "alice", &shape(4));
    let ab_loss = ab.lost as u64;
    let ba_loss = ba.lost as u64;
    let (worst, from) = max_window_loss(&ab.series, 15);
    let observed_loss = format!("{worst:.2} % (window {from}–{} s)", from + 15);
    let mos = ab.mos;
    let mut events = vec![
        event(0, None, "call-start", "alice→bob", "offer sent"),
        event(214, None, "call-connected", "alice→bob", "srflx/udp"),
        event(
            8_000,
            None,
            "cross-traffic-start",
            "core",
            "bulk TCP download, 8 Mbit/s",
        ),
        event(
            17_000,
            None,
            "cross-traffic-stop",
            "core",
            "bulk download ends",
        ),
        event(
            20_000,
            Some(5_000),
            "outage",
            "alice.wifi",
            "access point reboots",
        ),
        event(
            35_000,
            None,
            "address-change",
            "alice",
            "10.0.1.23 → 10.0.2.41 (new access point)",
        ),
        event(
            45_000,
            None,
            "profile-change",
            "alice.wifi",
            "wifi-good → wifi-congested",
        ),
        event(60_000, None, "call-end", "alice→bob", "hang-up"),
    ];
    events.sort_by_key(|e| e.at_ms);
    ScenarioReport {
        name: "wifi roaming with outage".to_string(),
        file: "scenarios/kb/wifi-roaming.yaml".to_string(),
        description: "Alice walks between access points during a call: a 5 s outage, then a new address, then a congested cell. The call should survive the move.".to_string(),
        kb: vec!["KB-3105".to_string(), "KB-3107".to_string()],
        seed: 7,
        duration_ms: 60_000,
        matrix: BTreeMap::new(),
        verdict: Verdict::Fail,
        expects: Some(Expects::Healthy),
        outcome: None,
        complete: true,
        expectations: vec![
            expect("alice→bob call connects", "connected", "connected in 214 ms", true),
            expect("alice→bob call survives the address change", "connected until hang-up", "connected until hang-up (ICE restart at 35.4 s)", true),
            expect("alice→bob audio loss < 1% in any 15s", "< 1 %", &observed_loss, false),
            expect("alice→bob audio MOS ≥ 3.6", "≥ 3.6", &format!("{mos:.2}"), mos >= 3.6),
            expect("alice→bob audio longest media gap ≤ 6s", "≤ 6000 ms", "5020 ms", true),
        ],
        calls: vec![CallReport {
            offer_ms: None,
            setup_ms: Some(214.0),
            first_audio_ms: Some(281.0),
            ..connected_call("alice", "bob", "srflx/udp ↔ host/udp", vec![ab, ba])
        }],
        accounts: Vec::new(),
        messages: Vec::new(),
        presence: Vec::new(),
        presence_lags: Vec::new(),
        links: vec![
            link("alice.wifi.up", 3000 + 14, &[("loss", ab_loss - 250), ("outage", 250)], 6),
            link("core:office->isp", 3000 + 14 + 21_000, &[("queue", 9)], 64),
            link("alice.wifi.down", 3000 + 14, &[("loss", ba_loss - 250), ("outage", 250)], 4),
        ],
        events,
        scope: None,
        edge: None,
        tunnels: Vec::new(),
        wall_ms: 420,
        source: "name: wifi roaming with outage\nkb: [KB-3105, KB-3107]\nduration: 60s\nparticipants:\n  alice: { profile: wifi-good }\n  bob: { profile: office-lan }\ncalls:\n  - { from: alice, to: bob, at: 0s, hangup: 60s }\ntimeline:\n  - at: 8s\n    cross-traffic: { link: core, rate: 8Mbit, until: 17s }\n  - at: 20s\n    outage: { link: alice, for: 5s }\n  - at: 35s\n    address-change: alice\n  - at: 45s\n    profile: { participant: alice, to: wifi-congested }\nthresholds:\n  - loss < 1% in any 15s\n  - mos >= 3.6\n  - max gap <= 6s\n".to_string(),
        error: None,
    }
}

fn loss_sweep_cell(loss: &str, loss_pct: f64, verdict: Verdict) -> ScenarioReport {
    let k = loss_pct as u64;
    let ab = stream("alice", "bob", &plain_shape(loss_pct, 2.0, 48.0, 10 + k));
    let ba = stream("bob", "alice", &plain_shape(loss_pct, 2.0, 48.0, 20 + k));
    let (ab_lost, ba_lost) = (ab.lost as u64, ba.lost as u64);
    let mos_ok = ab.mos.min(ba.mos) >= 3.8;
    ScenarioReport {
        name: "loss sweep".to_string(),
        file: "scenarios/examples/loss-sweep.yaml".to_string(),
        description: "Random loss on Alice's uplink and downlink, swept over a matrix of values.".to_string(),
        kb: vec!["KB-2002".to_string()],
        seed: 42 + k,
        duration_ms: 60_000,
        matrix: BTreeMap::from([
            ("loss".to_string(), loss.to_string()),
            ("profile".to_string(), "dsl".to_string()),
        ]),
        verdict,
        expects: Some(Expects::Healthy),
        outcome: None,
        complete: true,
        expectations: vec![
            expect("alice→bob call connects", "connected", "connected in 182 ms", true),
            expect(
                "audio MOS ≥ 3.8 both ways",
                "≥ 3.8",
                &format!("{:.2}", ab.mos.min(ba.mos)),
                mos_ok,
            ),
        ],
        calls: vec![connected_call("alice", "bob", "host/udp ↔ host/udp", vec![ab, ba])],
        accounts: Vec::new(),
        messages: Vec::new(),
        presence: Vec::new(),
        presence_lags: Vec::new(),
        links: vec![
            link("alice.up", 3012, &[("loss", ab_lost)], 2),
            link("alice.down", 3012, &[("loss", ba_lost)], 2),
        ],
        events: call_events("alice", "bob"),
        scope: None,
        edge: None,
        tunnels: Vec::new(),
        wall_ms: 290,
        source: format!("name: loss sweep\nkb: [KB-2002]\nmatrix:\n  loss: [1%, 5%]\n  profile: [dsl]\nparticipants:\n  alice: {{ profile: \"${{profile}}\", loss: \"${{loss}}\" }}\n  bob: {{ profile: office-lan }}\n# this cell: loss={loss}\n"),
        error: None,
    }
}

fn interrupted() -> ScenarioReport {
    let mut shape = plain_shape(0.2, 3.0, 90.0, 30);
    shape.seconds = 23;
    let ab = stream("carol", "dave", &shape);
    let (sent, lost) = (ab.packets_sent, ab.lost as u64);
    ScenarioReport {
        name: "transatlantic call (interrupted)".to_string(),
        file: "scenarios/examples/transatlantic.yaml".to_string(),
        description: "A long-haul call; this run was stopped with Ctrl-C at 23 s.".to_string(),
        kb: vec![],
        seed: 42,
        duration_ms: 23_000,
        matrix: BTreeMap::new(),
        verdict: Verdict::Fail,
        expects: Some(Expects::Healthy),
        outcome: None,
        complete: false,
        expectations: vec![
            expect(
                "carol→dave call connects",
                "connected",
                "connected in 402 ms",
                true,
            ),
            expect(
                "dave→carol call connects",
                "connected",
                "not connected: ice-failed",
                false,
            ),
        ],
        calls: vec![
            CallReport {
                start_ms: 0,
                end_ms: 23_000,
                offer_ms: None,
                setup_ms: Some(402.0),
                first_audio_ms: Some(511.0),
                ..connected_call("carol", "dave", "relay/tcp ↔ host/udp", vec![ab])
            },
            CallReport {
                caller: "dave".to_string(),
                callee: "carol".to_string(),
                start_ms: 5_000,
                end_ms: 15_000,
                connected: false,
                failure: Some(FailureReport {
                    class: "ice-failed".to_string(),
                    message: "We couldn't connect the call. Check your network and try again."
                        .to_string(),
                    code: None,
                    reason: None,
                    detail: String::new(),
                }),
                offer_ms: None,
                setup_ms: None,
                first_audio_ms: None,
                candidate_pair: None,
                candidates: Vec::new(),
                test_call: None,
                streams: vec![],
                video: vec![],
            },
        ],
        accounts: Vec::new(),
        messages: Vec::new(),
        presence: Vec::new(),
        presence_lags: Vec::new(),
        links: vec![
            link("carol.up", sent, &[("loss", lost)], 3),
            link("dave.up", 40, &[("firewall", 40)], 0),
        ],
        events: vec![
            event(0, None, "call-start", "carol→dave", "offer sent"),
            event(402, None, "call-connected", "carol→dave", "relay/tcp"),
            event(5_000, None, "call-start", "dave→carol", "offer sent"),
            event(15_000, None, "call-failed", "dave→carol", "ice-failed"),
        ],
        scope: None,
        edge: None,
        tunnels: Vec::new(),
        wall_ms: 820,
        source: "name: transatlantic call (interrupted)\nduration: 120s\n".to_string(),
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes every format of the sample run to `$REPORT_FIXTURE_OUT` (default
    /// `target/report-fixture`), for `check_html.sh` and for looking at by hand.
    #[test]
    #[ignore = "writes files for check_html.sh; run explicitly"]
    fn write_fixture_reports() {
        let dir = std::env::var_os("REPORT_FIXTURE_OUT")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "target/report-fixture".into());
        let written = crate::report::write_all(&sample_run(), &dir, crate::report::Format::ALL)
            .expect("write fixture reports");
        let service = crate::report::write_all(
            &service_run(),
            &dir.join("service"),
            crate::report::Format::ALL,
        )
        .expect("write the service fixture reports");
        for p in written.into_iter().chain(service) {
            println!("wrote {}", p.display());
        }
    }

    #[test]
    fn the_sample_is_consistent() {
        let run = sample_run();
        assert!(!run.complete);
        assert_eq!(run.scenarios.len(), 5);
        let roaming = &run.scenarios[1];
        assert!(roaming
            .events
            .iter()
            .any(|e| e.kind == "outage" && e.duration_ms == Some(5000)));
        for s in &run.scenarios {
            for c in &s.calls {
                for st in &c.streams {
                    assert_eq!(st.packets_sent as i64 - st.packets_received as i64, st.lost);
                }
            }
        }
        // The receiver's loss equals the emulator's drops on the uplink.
        let st = &roaming.calls[0].streams[0];
        let dropped: u64 = roaming.links[0].dropped.values().sum();
        assert_eq!(dropped, st.lost as u64);
    }
}
