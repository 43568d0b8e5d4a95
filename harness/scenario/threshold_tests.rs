//! Tests of threshold parsing, the named sets and which window decides.

use super::*;

fn t(s: &str) -> Threshold {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn every_form_parses() {
    let cases: &[(&str, Metric, Cmp, f64, Option<u64>)] = &[
        ("loss < 1%", Metric::Loss, Cmp::Lt, 1.0, None),
        (
            "loss < 1% in any 15s",
            Metric::Loss,
            Cmp::Lt,
            1.0,
            Some(15_000),
        ),
        (
            "burst loss < 10% in any 200ms",
            Metric::BurstLoss,
            Cmp::Lt,
            10.0,
            Some(200),
        ),
        (
            "burst loss < 10%",
            Metric::BurstLoss,
            Cmp::Lt,
            10.0,
            Some(200),
        ),
        ("jitter < 30ms", Metric::Jitter, Cmp::Lt, 30.0, None),
        (
            "jitter <= 30ms in any 15s",
            Metric::Jitter,
            Cmp::Le,
            30.0,
            Some(15_000),
        ),
        ("jitter p95 < 40ms", Metric::JitterP95, Cmp::Lt, 40.0, None),
        ("rtt < 100ms", Metric::Rtt, Cmp::Lt, 100.0, None),
        (
            "one-way delay < 50ms",
            Metric::OneWayDelay,
            Cmp::Lt,
            50.0,
            None,
        ),
        ("mos > 3.6", Metric::Mos, Cmp::Gt, 3.6, None),
        (
            "mos >= 3.5 in every 10s",
            Metric::Mos,
            Cmp::Ge,
            3.5,
            Some(10_000),
        ),
        (
            "mos degradation <= 1.0",
            Metric::MosDegradation,
            Cmp::Le,
            1.0,
            None,
        ),
        ("setup < 2s", Metric::Setup, Cmp::Lt, 2000.0, None),
        (
            "first audio < 3s",
            Metric::FirstAudio,
            Cmp::Lt,
            3000.0,
            None,
        ),
        ("concealed < 7%", Metric::ConcealedRatio, Cmp::Lt, 7.0, None),
        ("max gap < 300ms", Metric::MaxGap, Cmp::Lt, 300.0, None),
        ("late < 1%", Metric::Late, Cmp::Lt, 1.0, None),
        ("reordered < 0.05%", Metric::Reordered, Cmp::Lt, 0.05, None),
        ("bitrate > 20kbit", Metric::Bitrate, Cmp::Gt, 20.0, None),
        ("  Packet   Loss<0.5%  ", Metric::Loss, Cmp::Lt, 0.5, None),
        ("speech < 5%", Metric::Speech, Cmp::Lt, 5.0, None),
        ("speech ratio > 20%", Metric::Speech, Cmp::Gt, 20.0, None),
        (
            "decoded level < -60dBov",
            Metric::DecodedLevel,
            Cmp::Lt,
            -60.0,
            None,
        ),
        (
            "level > -40 dBov",
            Metric::DecodedLevel,
            Cmp::Gt,
            -40.0,
            None,
        ),
        (
            "played level < -100dBov",
            Metric::PlayedLevel,
            Cmp::Lt,
            -100.0,
            None,
        ),
        (
            "speaker level >= -120",
            Metric::PlayedLevel,
            Cmp::Ge,
            -120.0,
            None,
        ),
    ];
    for (text, m, op, v, w) in cases {
        let th = t(text);
        assert_eq!((th.metric, th.op, th.value), (*m, *op, *v), "{text}");
        assert_eq!(th.window.map(|d| d.as_nanos() / 1_000_000), *w, "{text}");
        assert_eq!(th.text, text.trim());
    }
}

#[test]
fn levels_are_written_in_dbov_between_the_floor_and_full_scale() {
    assert_eq!(t("played level < -100dBov").expected_text(), "< -100dBov");
    for bad in [
        "decoded level < 3dBov",
        "decoded level < -130dBov",
        "played level < quiet",
    ] {
        let e = bad.parse::<Threshold>().unwrap_err();
        assert!(e.expected.contains("-120dBov"), "{bad}: {e:?}");
    }
    let e = "speech < 5% in every 15s".parse::<Threshold>().unwrap_err();
    assert!(e.message.contains("no windows"), "{e:?}");
    // Silence is the symptom: a level or speech bounded from above asserts degradation.
    assert!(t("speech < 5%").asserts_degradation());
    assert!(t("played level < -100dBov").asserts_degradation());
    assert!(!t("decoded level > -40dBov").asserts_degradation());
}

#[test]
fn bad_thresholds_say_why() {
    let e = "jiter < 30ms".parse::<Threshold>().unwrap_err();
    assert_eq!(e.suggestion.as_deref(), Some("jitter"));
    let e = "loss < 140%".parse::<Threshold>().unwrap_err();
    assert!(e.expected.contains("0% to 100%"), "{e:?}");
    let e = "jitter < 30".parse::<Threshold>().unwrap_err();
    assert!(e.message.contains("expected a duration"), "{e:?}");
    let e = "setup < 2s in any 15s".parse::<Threshold>().unwrap_err();
    assert!(e.message.contains("no windows"));
    let e = "loss 1%".parse::<Threshold>().unwrap_err();
    assert!(e.message.contains("comparison"));
    let e = "rtt < -5ms".parse::<Threshold>().unwrap_err();
    assert!(e.message.contains("negative"));
    let e = "loss < 1% in 15s".parse::<Threshold>().unwrap_err();
    assert!(e.message.contains("in every DURATION"), "{e:?}");
    let e = "mos > 7".parse::<Threshold>().unwrap_err();
    assert!(e.message.contains("between 0 and 5"));
}

#[test]
fn named_sets_match_metrics_md() {
    let client = named_set("teams-client-edge").expect("set");
    assert_eq!(client.len(), 6);
    assert!(client
        .iter()
        .all(|t| t.set.as_deref() == Some("teams-client-edge")));
    let loss = client
        .iter()
        .find(|t| t.metric == Metric::Loss)
        .expect("loss");
    assert_eq!((loss.value, loss.window), (1.0, Some(Dur::from_secs(15))));
    let burst = client
        .iter()
        .find(|t| t.metric == Metric::BurstLoss)
        .expect("burst");
    assert_eq!(
        (burst.value, burst.window),
        (10.0, Some(Dur::from_millis(200)))
    );
    assert_eq!(named_set("teams-customer-edge").expect("set").len(), 6);
    let cqd = named_set("cqd-poor-audio").expect("set");
    assert_eq!(cqd.len(), 5);
    assert!(cqd.iter().all(|t| t.op == Cmp::Le));
    assert!(named_set("nope").is_none());
}

#[test]
fn every_and_some_read_as_written_and_any_only_where_it_is_plain() {
    assert_eq!(t("loss < 1% in every 15s").quantifier, Quantifier::Every);
    assert_eq!(t("loss > 5% in some 15s").quantifier, Quantifier::Some);
    assert_eq!(t("loss < 1% in any 15s").quantifier, Quantifier::Every);
    let e = "loss > 1% in any 15s".parse::<Threshold>().unwrap_err();
    assert!(e.message.contains("ambiguous"), "{e:?}");
    assert!(e.expected.contains("in every 15s") && e.expected.contains("in some 15s"));
    // Which window decides.
    let w = |s: &str| t(s).deciding_window();
    assert_eq!(w("loss < 1% in every 15s"), Some(Extreme::Highest));
    assert_eq!(w("loss > 1% in every 15s"), Some(Extreme::Lowest));
    assert_eq!(w("loss < 1% in some 15s"), Some(Extreme::Lowest));
    assert_eq!(w("loss > 1% in some 15s"), Some(Extreme::Highest));
    assert_eq!(w("mos > 3.5 in every 10s"), Some(Extreme::Lowest));
    assert_eq!(w("burst loss > 10%"), Some(Extreme::Highest));
    assert_eq!(w("burst loss < 10%"), Some(Extreme::Highest));
    assert_eq!(w("loss < 1%"), None);
    // Jitter keeps only its highest window: a threshold needing the lowest is refused.
    let e = "jitter < 30ms in some 15s"
        .parse::<Threshold>()
        .unwrap_err();
    assert!(e.message.contains("highest window"), "{e:?}");
    assert!("jitter > 30ms in some 15s".parse::<Threshold>().is_ok());
}
