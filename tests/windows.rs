//! Windowed thresholds through a whole call: `in some` and `in every` are judged on their own
//! windows, the figure says which window and when it starts, and the most lossy window agrees
//! with the report's own `max_loss_pct_15s`, computed separately by the receiver's windows.

mod common;
use common::{run, scenario, stream};

/// 40 s of clean wired call with 20 % random loss on Alice's uplink from 20 s to 30 s.
const LOSSY_PHASE: &str = "name: phase
duration: 45s
participants:
  alice:
    network: wired-lan
    overrides:
      schedule:
        - { at: 20s, set: { up: { loss: { random: { rate: 20% } } } } }
        - { at: 30s, set: { up: { loss: { random: { rate: 0% } } } } }
  bob: { network: wired-lan }
calls:
  - caller: alice
    callee: bob
    at: 1s
    duration: 42s
    caller_stream:
      - loss > 5% in some 10s
      - loss > 5% in every 10s
      - loss < 1% in some 10s
      - loss < 1% in every 10s
";

#[test]
fn some_and_every_windows_of_a_lossy_phase() {
    let r = run(&scenario(LOSSY_PHASE), 3);
    let e: Vec<_> = r
        .expectations
        .iter()
        .filter(|e| e.what.starts_with("alice->bob audio"))
        .collect();
    assert_eq!(e.len(), 4, "{:#?}", r.expectations);
    let met: Vec<bool> = e.iter().map(|e| e.met).collect();
    // Over 5 % in the lossy window, not in all; under 1 % in a clean one, not in all.
    assert_eq!(met, [true, false, true, false], "{e:#?}");
    for (x, which) in e.iter().zip(["highest", "lowest", "lowest", "highest"]) {
        assert!(
            x.observed
                .contains(&format!("(the {which} 10s window, from ")),
            "{}",
            x.observed
        );
    }
    // The most lossy 10 s window is (about) the lossy phase: it starts within a second of
    // 20 s and lost about 20 % (binomial over 500 packets: sd 1.8 points; 6 sd bound).
    let start: f64 = e[0]
        .observed
        .rsplit("from ")
        .next()
        .and_then(|t| t.trim_end_matches(" s)").parse().ok())
        .unwrap_or_else(|| panic!("{}", e[0].observed));
    assert!((19.0..=21.0).contains(&start), "{}", e[0].observed);
    let value: f64 = e[0].observed.split('%').next().unwrap().parse().unwrap();
    assert!((value - 20.0).abs() < 11.0, "{}", e[0].observed);
    assert!(e[1].observed.starts_with("0%"), "{}", e[1].observed);
}

/// With the window the receiver keeps (15 s), the judge's most lossy window and the report's
/// `max_loss_pct_15s` are the same figure within a packet or two: two computations, one by
/// packet count over the loss record and one by send-time slots in the receiver.
#[test]
fn the_most_lossy_window_agrees_with_max_loss_pct_15s() {
    let text = LOSSY_PHASE.replace(" 10s\n", " 15s\n");
    let r = run(&scenario(&text), 3);
    let s = stream(&r, "alice");
    let max15 = s.extra["max_loss_pct_15s"];
    let e = &r
        .expectations
        .iter()
        .find(|e| e.what.ends_with("loss > 5% in some 15s"))
        .unwrap();
    let judged: f64 = e.observed.split('%').next().unwrap().parse().unwrap();
    // 750 packets a window: one packet is 0.13 points.
    assert!(
        (judged - max15).abs() <= 0.3,
        "judge {judged} vs receiver {max15}"
    );
    assert!(max15 > 10.0, "{max15}");
}
