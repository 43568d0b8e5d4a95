//! Tests of the composed link (the models' own statistics are tested beside each model).

use super::*;

const MS: u64 = 1_000_000;

fn link(yaml: &str, seed: u64) -> Link {
    let cfg: DirectionConfig = serde_yaml::from_str(yaml).unwrap();
    Link::new(&cfg, seed).unwrap()
}

fn send_all(l: &mut Link, n: u64, gap: Nanos, size: u32) -> Vec<Transmit> {
    (0..n)
        .map(|i| l.transmit(i * gap, &PacketMeta { size }))
        .collect()
}

fn times(v: &[Transmit]) -> Vec<Nanos> {
    v.iter()
        .filter_map(|t| match t {
            Transmit::Delivered { at, .. } => Some(*at),
            _ => None,
        })
        .collect()
}

/// Binomial 99.9 % half-width for a rate `p` over `n` trials (z = 3.29).
fn bound(p: f64, n: u64) -> f64 {
    3.29 * (p * (1.0 - p) / n as f64).sqrt()
}

#[test]
fn forbid_never_reorders_and_allow_does() {
    // 20 ms of uniform jitter on packets 1 ms apart: independent delays would reorder about
    // a third of neighbours; `forbid` must reorder none.
    let jitter = "jitter: {amount: 20ms, distribution: uniform, reorder: ";
    let mut forbid = link(&format!("{{delay: 50ms, {jitter}forbid}}}}"), 1);
    let t = times(&send_all(&mut forbid, 100_000, MS, 200));
    assert!(t.windows(2).all(|w| w[0] <= w[1]));
    let mut allow = link(&format!("{{delay: 50ms, {jitter}allow}}}}"), 1);
    let t = times(&send_all(&mut allow, 100_000, MS, 200));
    let reordered = t.windows(2).filter(|w| w[1] < w[0]).count();
    assert!(reordered > 10_000, "{reordered}");
}

#[test]
fn mean_delay_and_spread_through_a_link() {
    // Normal jitter sd 5 ms on a 40 ms link, packets 100 ms apart (so `forbid` never has to
    // hold one back): mean 40 ms ± 4σ (σ = 5/√100k = 0.016 ms), sd within 2 %.
    let mut l = link(
        "{delay: 40ms, jitter: {amount: 5ms, distribution: normal}}",
        3,
    );
    let n = 100_000u64;
    let d: Vec<f64> = times(&send_all(&mut l, n, 100 * MS, 200))
        .iter()
        .enumerate()
        .map(|(i, &t)| (t - i as u64 * 100 * MS) as f64 / 1e6)
        .collect();
    let (mean, sd) = crate::net::delay::table_stats(&d);
    assert!((mean - 40.0).abs() < 0.07, "{mean}");
    assert!((sd / 5.0 - 1.0).abs() < 0.02, "{sd}");
}

#[test]
fn duplication_and_corruption_rates() {
    let n = 200_000;
    let mut l = link("{delay: 10ms, duplicate: 2%, corrupt: 1%}", 4);
    let v = send_all(&mut l, n, MS, 200);
    let dups = v
        .iter()
        .filter(|t| {
            matches!(
                t,
                Transmit::Delivered {
                    duplicate: Some(_),
                    ..
                }
            )
        })
        .count() as f64;
    let corrupt = v
        .iter()
        .filter(|t| **t == Transmit::Dropped(DropReason::Corrupt))
        .count() as f64;
    // Duplication is decided only for the 99 % that were not corrupted.
    let delivered = n as f64 - corrupt;
    assert!((dups / delivered - 0.02).abs() < bound(0.02, n), "{dups}");
    assert!(
        (corrupt / n as f64 - 0.01).abs() < bound(0.01, n),
        "{corrupt}"
    );
    let c = l.counters();
    assert_eq!(c.duplicates as f64, dups);
    assert_eq!(c.dropped(DropReason::Corrupt) as f64, corrupt);
    assert_eq!(c.accepted + c.total_dropped(), c.packets_in);
    assert_eq!(
        c.in_flight, c.accepted,
        "alone, a link is told of no departures"
    );
}

#[test]
fn a_lost_fragment_loses_the_packet() {
    // 3000 bytes over a 1500 MTU: 3 fragments, each lost with 10 %; the packet survives with
    // 0.9³ = 72.9 %, so 27.1 % of packets are lost.
    let n = 200_000;
    let mut l = link("{mtu: 1500, loss: {random: {rate: 10%}}}", 5);
    let v = send_all(&mut l, n, MS, 3000);
    let lost = v
        .iter()
        .filter(|t| **t == Transmit::Dropped(DropReason::Loss))
        .count();
    let p = 1.0 - 0.9f64.powi(3);
    assert!((lost as f64 / n as f64 - p).abs() < bound(p, n), "{lost}");
    assert_eq!(l.counters().fragmented, n);
}

#[test]
fn dont_fragment_drops_with_reason_mtu_and_overhead_lowers_the_mtu() {
    let mut l = link("{mtu: 1500, dont_fragment: true, overhead: 73}", 6);
    assert!(matches!(
        l.transmit(0, &PacketMeta { size: 1427 }),
        Transmit::Delivered { .. }
    ));
    assert_eq!(
        l.transmit(1, &PacketMeta { size: 1428 }),
        Transmit::Dropped(DropReason::Mtu)
    );
    let mut plain = link("{mtu: 1500, dont_fragment: true}", 6);
    assert!(matches!(
        plain.transmit(0, &PacketMeta { size: 1500 }),
        Transmit::Delivered { .. }
    ));
}

#[test]
fn overhead_is_counted_against_capacity() {
    // 1000-byte packets + 250 bytes overhead = 1250 on the wire: 10 ms at 1 Mbit/s.
    let mut l = link("{rate: 1Mbit, overhead: 250}", 7);
    assert_eq!(
        l.transmit(0, &PacketMeta { size: 1000 }),
        Transmit::Delivered {
            at: 10 * MS,
            duplicate: None
        }
    );
}

#[test]
fn tcp_encapsulation_turns_loss_into_delay_with_head_of_line_blocking() {
    // 5 % loss, 30 ms delay, 200 ms retransmission, a packet every 20 ms: nothing is dropped,
    // order is kept, and a lost packet holds back the ones sent after it.
    let n = 100_000;
    let mut l = link(
        "{delay: 30ms, loss: {random: {rate: 5%}}, encapsulation: tcp}",
        8,
    );
    let v = send_all(&mut l, n, 20 * MS, 200);
    let t = times(&v);
    assert_eq!(t.len() as u64, n, "no drops under TCP encapsulation");
    assert!(t.windows(2).all(|w| w[0] <= w[1]));
    let delays: Vec<u64> = t
        .iter()
        .enumerate()
        .map(|(i, &at)| at - i as u64 * 20 * MS)
        .collect();
    let late = delays.iter().filter(|&&d| d >= 230 * MS).count() as f64 / n as f64;
    // Lost (≈5 %) plus blocked behind a loss: with 200 ms timeouts and 20 ms spacing, each
    // loss holds back about 9 packets, so well over 5 % are late, and some are on time.
    assert!(late > 0.05 + 3.0 * bound(0.05, n) && late < 0.6, "{late}");
    assert!(delays.contains(&(30 * MS)));
    let c = l.counters();
    // Retransmissions: ~5 % of packets, each try lost again with 5 % (mean 1/0.95 tries).
    let want = 0.05 / 0.95;
    assert!((c.retransmissions as f64 / n as f64 - want).abs() < 4.0 * bound(want, n));
}

#[test]
fn outage_drops_entering_and_in_flight_packets() {
    let mut l = link("{delay: 10ms}", 9);
    l.set_outage(100 * MS, 200 * MS);
    assert!(matches!(
        l.transmit(99 * MS, &PacketMeta { size: 100 }),
        Transmit::Delivered { .. }
    ));
    assert!(
        l.was_down_during(99 * MS, 109 * MS),
        "inside the link when it went down"
    );
    assert_eq!(
        l.transmit(100 * MS, &PacketMeta { size: 100 }),
        Transmit::Dropped(DropReason::Outage)
    );
    assert_eq!(
        l.transmit(199 * MS, &PacketMeta { size: 100 }),
        Transmit::Dropped(DropReason::Outage)
    );
    assert!(matches!(
        l.transmit(200 * MS, &PacketMeta { size: 100 }),
        Transmit::Delivered { .. }
    ));
    assert!(!l.was_down_during(200 * MS, 210 * MS));
    assert_eq!(l.counters().dropped(DropReason::Outage), 2);
}

#[test]
fn queueing_delay_emerges_from_load() {
    // 1 Mbit/s, 1000-byte packets (8 ms each). At 80 % load (every 10 ms) nothing waits; at
    // 125 % (every 6.4 ms) the queue fills to its 20-packet limit and the wait approaches
    // 19 × 8 ms.
    let mut light = link("{rate: 1Mbit, queue: 20pkt}", 10);
    send_all(&mut light, 1000, 10 * MS, 1000);
    assert_eq!(light.counters().queue_hwm_wait, 0);
    let mut heavy = link("{rate: 1Mbit, queue: 20pkt}", 10);
    send_all(&mut heavy, 1000, 6_400_000, 1000);
    let c = heavy.counters();
    assert_eq!(c.queue_hwm_packets, 20);
    assert!(
        c.queue_hwm_wait > 140 * MS && c.queue_hwm_wait <= 160 * MS,
        "{}",
        c.queue_hwm_wait
    );
    assert!(c.dropped(DropReason::Queue) > 100);
}

#[test]
fn a_phase_change_applies_from_then_on() {
    let mut l = link("{delay: 10ms, rate: 1Mbit}", 11);
    assert_eq!(
        l.transmit(0, &PacketMeta { size: 125 }),
        Transmit::Delivered {
            at: 11 * MS,
            duplicate: None
        }
    );
    let change: DirectionConfig = serde_yaml::from_str("{delay: 50ms}").unwrap();
    l.apply(&change, &mut TraceCache::default()).unwrap();
    assert_eq!(
        l.transmit(100 * MS, &PacketMeta { size: 125 }),
        Transmit::Delivered {
            at: 151 * MS,
            duplicate: None
        }
    );
    assert_eq!(
        l.config().rate.unwrap().bits_per_sec(),
        1_000_000,
        "unchanged fields kept"
    );
}

#[test]
fn same_seed_same_fate_different_seed_different_fate() {
    let cfg = "{delay: 20ms, jitter: {amount: 5ms, distribution: paretonormal}, \
               loss: {gilbert_elliott: {p: 1%, r: 30%}}, rate: 10Mbit, queue: 30pkt, duplicate: 1%}";
    let run = |seed| send_all(&mut link(cfg, seed), 50_000, 900_000, 1200);
    let a = run(1);
    assert_eq!(a, run(1));
    assert_ne!(a, run(2));
}

#[test]
fn a_phase_change_on_a_trace_link_keeps_its_place_in_the_trace() {
    let traces = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces");
    let mut cache = TraceCache::new(&[traces]);
    let cfg: DirectionConfig =
        serde_yaml::from_str("{trace: Verizon-LTE-short.down, queue: 1000pkt}").unwrap();
    let mut l = Link::with_traces(&cfg, 12, &mut cache).unwrap();
    let before = times(
        &(0..200)
            .map(|_| l.transmit(0, &PacketMeta { size: 1500 }))
            .collect::<Vec<_>>(),
    );
    l.apply(&serde_yaml::from_str("{delay: 5ms}").unwrap(), &mut cache)
        .unwrap();
    let after = times(&[l.transmit(0, &PacketMeta { size: 1500 })]);
    // The 201st packet uses the 201st opportunity (then 5 ms of delay), not the first again.
    assert!(
        after[0] > *before.last().unwrap(),
        "{} vs {}",
        after[0],
        before.last().unwrap()
    );
}
