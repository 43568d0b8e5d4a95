use super::*;

const MS: u64 = 1_000_000;

fn rx() -> ReceiverStats {
    ReceiverStats::new(ReceiverConfig::default())
}

/// Packet `i` of a 20 ms stream, sent at i*20 ms, with `delay_ms` one-way delay.
fn send(r: &mut ReceiverStats, i: u32, seq: u16, delay_ms: f64) -> PacketKind {
    let arrival = u64::from(i) * 20 * MS + (delay_ms * 1e6) as u64;
    r.on_packet(arrival, seq, i.wrapping_mul(960), 100)
}

#[test]
fn clean_stream_counts_every_packet_including_probation() {
    let mut r = rx();
    assert_eq!(send(&mut r, 0, 7, 20.0), PacketKind::Probation);
    assert_eq!(send(&mut r, 1, 8, 20.0), PacketKind::InOrder);
    for i in 2..3000 {
        send(&mut r, i, 7 + i as u16, 20.0);
    }
    r.finish(None);
    assert_eq!(r.received(), 3000);
    assert_eq!(r.expected(), 3000);
    assert_eq!(r.lost(), 0);
    assert_eq!(r.loss_record().len(), 3000);
    assert!(r.jitter_ms() < 1e-9);
    assert_eq!(r.max_gap_ms(), 20.0);
}

#[test]
fn loss_during_probation_is_seen() {
    // Packet 1 lost: 0 is held, 2 restarts probation, 3 validates; 0 and 2 are counted.
    let mut r = rx();
    send(&mut r, 0, 100, 10.0);
    send(&mut r, 2, 102, 10.0);
    send(&mut r, 3, 103, 10.0);
    assert_eq!(r.expected(), 4);
    assert_eq!(r.received(), 3);
    assert_eq!(r.lost(), 1);
}

#[test]
fn wraparound_at_65535() {
    let mut r = rx();
    for i in 0..200u32 {
        send(&mut r, i, 65_436u16.wrapping_add(i as u16), 5.0);
    }
    let rb = r.report_block();
    assert_eq!(r.received(), 200);
    assert_eq!(r.lost(), 0);
    // 65436 + 199 = 65635 = one cycle + 99.
    assert_eq!(rb.extended_highest_seq, 65_536 + 99);
    assert_eq!(rb.fraction_lost, 0);
}

#[test]
fn wrap_during_probation() {
    let mut r = rx();
    send(&mut r, 0, 65_535, 5.0);
    send(&mut r, 1, 0, 5.0);
    send(&mut r, 2, 1, 5.0);
    assert_eq!(r.received(), 3);
    assert_eq!(r.expected(), 3);
}

#[test]
fn reorder_is_counted_received_and_reordered() {
    let mut r = rx();
    for (i, seq) in [(0, 10u16), (1, 11), (2, 13), (3, 12), (4, 14)] {
        send(&mut r, i, seq, 5.0);
    }
    assert_eq!(r.received(), 5);
    assert_eq!(r.reordered(), 1);
    assert_eq!(r.lost(), 0);
}

#[test]
fn duplicate_not_counted_received() {
    let mut r = rx();
    for i in 0..10 {
        send(&mut r, i, i as u16, 5.0);
    }
    assert_eq!(send(&mut r, 10, 9, 5.0), PacketKind::Duplicate); // dup of the max
    assert_eq!(send(&mut r, 11, 4, 5.0), PacketKind::Duplicate); // dup of an older one
    assert_eq!(r.received(), 10);
    assert_eq!(r.duplicates(), 2);
    assert_eq!(r.lost(), 0);
    assert_eq!(r.reordered(), 0);
}

#[test]
fn restart_after_big_jump_needs_confirmation() {
    let mut r = rx();
    for i in 0..10 {
        send(&mut r, i, i as u16, 5.0);
    }
    // A jump of 10000: discarded until the next packet follows it.
    assert_eq!(send(&mut r, 10, 10_009, 5.0), PacketKind::Discarded);
    assert_eq!(send(&mut r, 11, 11, 5.0), PacketKind::InOrder); // old stream goes on
    assert_eq!(send(&mut r, 12, 20_000, 5.0), PacketKind::Discarded);
    assert_eq!(send(&mut r, 13, 20_001, 5.0), PacketKind::Restarted);
    assert_eq!(send(&mut r, 14, 20_002, 5.0), PacketKind::InOrder);
    assert_eq!(r.restarts(), 1);
    assert_eq!(r.discarded(), 2);
    // Segment 1: seqs 0..=11 expected 12, got 11 (10 missing). Segment 2: 20001, 20002.
    assert_eq!(r.expected(), 14);
    assert_eq!(r.received(), 13);
    assert_eq!(r.lost(), 1);
    r.finish(None);
    assert_eq!(r.loss_record().len(), 14);
    assert!(!r.loss_record().is_received(10));
}

#[test]
fn large_backward_jump_is_not_reorder() {
    let mut r = rx();
    for i in 0..300 {
        send(&mut r, i, i as u16, 5.0);
    }
    assert_eq!(send(&mut r, 300, 150, 5.0), PacketKind::Discarded);
    assert_eq!(r.received(), 300);
}

#[test]
fn fraction_lost_per_interval() {
    let mut r = rx();
    // Interval 1: 100 packets, 25 lost (every 4th after the first two).
    for i in 0..100u32 {
        if i >= 2 && i % 4 == 2 {
            continue;
        }
        send(&mut r, i, i as u16, 5.0);
    }
    let b1 = r.report_block();
    assert_eq!(r.expected(), 100);
    assert_eq!(r.lost(), 25);
    assert_eq!(b1.fraction_lost, (25 * 256 / 100) as u8); // 64
    assert_eq!(b1.cumulative_lost, 25);
    // Interval 2: 50 packets, none lost.
    for i in 100..150u32 {
        send(&mut r, i, i as u16, 5.0);
    }
    let b2 = r.report_block();
    assert_eq!(b2.fraction_lost, 0);
    assert_eq!(b2.cumulative_lost, 25);
    // Interval 3: 10 expected, 1 received (the last).
    send(&mut r, 159, 159, 5.0);
    let b3 = r.report_block();
    assert_eq!(b3.fraction_lost, (9 * 256 / 10) as u8);
    // Interval 4: nothing new -> 0.
    assert_eq!(r.report_block().fraction_lost, 0);
}

#[test]
fn jitter_constant_delay_is_zero() {
    let mut r = rx();
    for i in 0..500 {
        send(&mut r, i, i as u16, 37.0);
    }
    assert!(r.jitter_ms().abs() < 1e-9);
    assert_eq!(r.delay_variation_p95_ms(), 0.0);
}

#[test]
fn jitter_alternating_delay_converges_to_step() {
    // Delays 0, 10, 0, 10 ms...: every |D| is 10 ms, so J_n = 10 (1 - (15/16)^n) -> 10 ms.
    let mut r = rx();
    for i in 0..400 {
        send(&mut r, i, i as u16, if i % 2 == 0 { 0.0 } else { 10.0 });
    }
    assert!((r.jitter_ms() - 10.0).abs() < 1e-6, "{}", r.jitter_ms());
    assert!((r.jitter_rtp() - 480.0).abs() < 1e-4);
    assert!((r.delay_variation_p95_ms() - 10.0).abs() < 0.1);
    // After exactly 16 differences: 10 * (1 - (15/16)^16) = 6.44 ms.
    let mut r = rx();
    for i in 0..17 {
        send(&mut r, i, i as u16, if i % 2 == 0 { 0.0 } else { 10.0 });
    }
    let expect = 10.0 * (1.0 - (15.0f64 / 16.0).powi(16));
    assert!((r.jitter_ms() - expect).abs() < 1e-9);
}

#[test]
fn jitter_pattern_0_0_10() {
    // |D| cycles 0, 10, 10 ms: J oscillates around 6.67 ms; check the band after settling.
    let mut r = rx();
    let mut lo = f64::MAX;
    let mut hi = 0.0f64;
    for i in 0..600u32 {
        send(&mut r, i, i as u16, if i % 3 == 2 { 10.0 } else { 0.0 });
        if i > 300 {
            lo = lo.min(r.jitter_ms());
            hi = hi.max(r.jitter_ms());
        }
    }
    assert!(lo > 6.0 && hi < 7.3, "{lo} {hi}");
    assert!((r.delay_variation_p50_ms() - 10.0).abs() < 0.1);
}

#[test]
fn jitter_survives_rtp_timestamp_wrap() {
    let mut r = rx();
    let ts0 = u32::MAX - 960 * 10;
    for i in 0..100u32 {
        r.on_packet(
            u64::from(i) * 20 * MS,
            i as u16,
            ts0.wrapping_add(i * 960),
            80,
        );
    }
    assert!(r.jitter_ms() < 1e-9);
}

#[test]
fn a_dtx_pause_is_not_an_arrival_gap_but_a_loss_in_it_is() {
    // Talk 0..100, a 1 s DTX pause (the timestamp jumps 50 frames, the sequence number
    // does not), talk again; the packet before the pause is a 1-byte DTX frame.
    let mut r = rx();
    let mut ts = 0u32;
    for i in 0..200u16 {
        let len = if i == 99 { 1 } else { 80 };
        let skip = if i == 100 { 50 } else { 0 };
        ts += skip * 960;
        let at = u64::from(ts / 960) * 20 * MS + 20 * MS;
        if i != 150 {
            r.on_packet(at, i, ts, len);
        }
        ts += 960;
    }
    assert_eq!(r.lost(), 1, "the lost packet, not the pause");
    assert!((r.max_gap_ms() - 40.0).abs() < 1e-9, "{}", r.max_gap_ms());
    // A stream that ends in a DTX pause has no tail gap; one that ends in speech does.
    r.on_packet(300 * 20 * MS, 200, 300 * 960, 1);
    r.finish(Some(400 * 20 * MS));
    assert!((r.max_gap_ms() - 40.0).abs() < 1e-9, "{}", r.max_gap_ms());
    let mut q = rx();
    send(&mut q, 0, 0, 20.0);
    send(&mut q, 1, 1, 20.0);
    q.finish(Some(1000 * MS));
    assert!(q.max_gap_ms() > 900.0);
}

#[test]
fn gap_and_windows() {
    let mut r = rx();
    for i in 0..1500u32 {
        if (500..510).contains(&i) {
            continue; // a 200 ms outage
        }
        send(&mut r, i, i as u16, 20.0);
    }
    r.finish(None);
    assert!((r.max_gap_ms() - 220.0).abs() < 1e-9);
    let w = r.windows();
    assert_eq!(w.max_burst_loss().unwrap().value, 100.0);
    assert!((w.max_loss().unwrap().value - 10.0 * 100.0 / 750.0).abs() < 1e-9);
    assert_eq!(r.loss_record().lost(), 10);
    let s = w.series();
    let total: u32 = s.iter().map(|row| row.expected).sum();
    assert_eq!(total, 1500);
}

#[test]
fn memory_is_small() {
    // A 60 s stream (3000 packets): histogram, bitset, pending ring and windows together
    // stay under 64 KiB, far inside the 2 MiB per call budget.
    let mut r = rx();
    for i in 0..3000 {
        send(&mut r, i, i as u16, 20.0 + f64::from(i % 7));
    }
    r.finish(None);
    assert!(r.memory_bytes() < 64 * 1024, "{}", r.memory_bytes());
}
