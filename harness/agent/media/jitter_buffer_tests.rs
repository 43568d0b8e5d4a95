use super::*;

const MS: u64 = 1_000_000;

/// A CELT-only table-of-contents byte: packets that carry no FEC and are no DTX frames (the
/// buffer reads both from real Opus payloads).
const CELT: u8 = 0xf8;

/// Inserts packets (send index, extra delay ms; sent every 20 ms from 0, 20 ms base path) and
/// drains ticks up to `until_ms`; returns what each tick did: the frame index played, -1 for
/// conceal, -2 for stretch.
fn run(jb: &mut JitterBuffer, packets: &[(u32, u64)], until_ms: u64) -> Vec<i64> {
    let mut events: Vec<(u64, u32)> = packets
        .iter()
        .map(|&(i, d)| (u64::from(i) * 20 * MS + 20 * MS + d * MS, i))
        .collect();
    events.sort_by_key(|e| e.0);
    let mut out = Vec::new();
    let mut k = 0;
    loop {
        // Packets due before the next tick, then the tick.
        let tick = jb.next_tick().unwrap_or(u64::MAX);
        if k < events.len() && events[k].0 <= tick {
            let (t, i) = events[k];
            let b = i.to_le_bytes();
            jb.insert(t, i * 960, &[CELT, b[0], b[1], b[2], b[3]]);
            k += 1;
            continue;
        }
        if tick == u64::MAX || tick > until_ms * MS {
            break;
        }
        match jb.pop(tick).unwrap() {
            Playout::Play(p) => out.push(i64::from(u32::from_le_bytes([p[1], p[2], p[3], p[4]]))),
            Playout::Conceal => out.push(-1),
            Playout::Stretch => out.push(-2),
            Playout::Recover(_) | Playout::Silence => panic!("no FEC or DTX packets here"),
        }
    }
    out
}

fn fixed40() -> JitterBuffer {
    JitterBuffer::new(JitterBufferConfig::fixed(40 * MS))
}

/// Concealed ticks before the last frame played (ticks after it conceal because the test's
/// packets ran out, not because any was missing).
fn concealed(out: &[i64]) -> usize {
    let end = out.iter().rposition(|&x| x >= 0).unwrap_or(0);
    out[..end].iter().filter(|&&x| x == -1).count()
}

#[test]
fn in_order_no_concealment_in_either_mode() {
    let pk: Vec<(u32, u64)> = (0..100).map(|i| (i, 0)).collect();
    let mut jb = fixed40();
    let out = run(&mut jb, &pk, 20 + 40 + 99 * 20);
    assert_eq!(out, (0..100).collect::<Vec<i64>>());
    assert_eq!((jb.frames_concealed(), jb.late()), (0, 0));
    assert_eq!(jb.mean_delay_ms(), Some(40.0));
    // Adaptive on a clean path: nothing concealed, and at its first decision (200 ms of
    // playout, ten frames) the buffer shrinks from 40 ms to its 20 ms minimum (one frame
    // dropped, not concealed): ten frames waited 40 ms, the other 89 played 20 ms.
    let mut jb = JitterBuffer::new(JitterBufferConfig::default());
    let out = run(&mut jb, &pk, 20 + 40 + 99 * 20);
    assert_eq!(concealed(&out), 0);
    assert_eq!(
        (jb.late(), jb.frames_shrunk(), jb.frames_stretched()),
        (0, 1, 0)
    );
    let d = jb.mean_delay_ms().unwrap();
    assert!((d - (10.0 * 40.0 + 89.0 * 20.0) / 99.0).abs() < 1e-9, "{d}");
}

#[test]
fn missing_packet_exactly_one_conceal_in_either_mode() {
    let pk: Vec<(u32, u64)> = (0..50).filter(|&i| i != 17).map(|i| (i, 0)).collect();
    for cfg in [
        JitterBufferConfig::fixed(40 * MS),
        JitterBufferConfig::default(),
    ] {
        let mut jb = JitterBuffer::new(cfg);
        let out = run(&mut jb, &pk, 20 + 40 + 49 * 20);
        assert_eq!(concealed(&out), 1, "{:?}", cfg.mode);
        let i = out.iter().position(|&x| x == -1).unwrap();
        assert_eq!((out[i - 1], out[i + 1]), (16, 18));
        assert_eq!(jb.late(), 0);
    }
}

#[test]
fn packet_later_than_fixed_delay_is_late_and_concealed() {
    let mut jb = fixed40();
    // Packet 10 is 60 ms late: its tick is at 20+40+200 = 260 ms, it arrives at 280 ms.
    let pk: Vec<(u32, u64)> = (0..30).map(|i| (i, if i == 10 { 60 } else { 0 })).collect();
    let out = run(&mut jb, &pk, 20 + 40 + 29 * 20);
    assert_eq!(out[10], -1);
    assert_eq!(
        (jb.late(), jb.frames_concealed(), jb.frames_played()),
        (1, 1, 29)
    );
    // 40 ms late is still on time (arrives with its tick).
    let mut jb = fixed40();
    let pk: Vec<(u32, u64)> = (0..30).map(|i| (i, if i == 10 { 40 } else { 0 })).collect();
    let out = run(&mut jb, &pk, 20 + 40 + 29 * 20);
    assert_eq!(out[10], 10);
    assert_eq!(jb.late(), 0);
}

#[test]
fn reorder_within_delay_is_played_in_order() {
    let mut jb = fixed40();
    let pk = [(0, 0), (1, 0), (2, 30), (3, 0), (4, 0), (5, 0)];
    let out = run(&mut jb, &pk, 20 + 40 + 5 * 20);
    assert_eq!(out, vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn duplicates_discarded() {
    let mut jb = fixed40();
    assert_eq!(jb.insert(0, 0, &[CELT, 0, 0]), Insert::Buffered);
    assert_eq!(jb.insert(MS, 0, &[CELT, 0, 0]), Insert::Duplicate);
    assert!(matches!(jb.pop(40 * MS), Some(Playout::Play(_))));
    assert_eq!(jb.insert(41 * MS, 0, &[CELT, 0, 0]), Insert::Duplicate); // already played
    assert!(matches!(jb.pop(60 * MS), Some(Playout::Conceal)));
    assert_eq!(jb.insert(61 * MS, 960, &[CELT, 1, 0]), Insert::Late); // concealed, then arrived
    assert_eq!((jb.duplicates(), jb.late()), (2, 1));
}

#[test]
fn timestamp_jump_resyncs() {
    let mut jb = fixed40();
    jb.insert(0, 0, &[CELT, 0, 0]);
    assert_eq!(
        jb.insert(20 * MS, 960 * 1000, &[CELT, 1, 0]),
        Insert::Resync
    );
    let mut out = Vec::new();
    while let Some(t) = jb.next_tick() {
        if t > 200 * MS {
            break;
        }
        out.push(matches!(jb.pop(t), Some(Playout::Play(_))));
    }
    assert!(out.iter().any(|&p| p));
    assert_eq!(jb.resyncs(), 1);
}

/// The case: the path delay steps from 10 to 100 ms at 2 s, with no loss at all.
fn delay_step(cfg: JitterBufferConfig) -> (JitterBuffer, Vec<i64>) {
    let mut jb = JitterBuffer::new(cfg);
    let pk: Vec<(u32, u64)> = (0..1000)
        .map(|i| (i, if i < 100 { 0 } else { 90 }))
        .collect();
    // Until the last packet (sent at 19.98 s) has arrived and been played.
    let out = run(&mut jb, &pk, 20 * 1000 + 200);
    (jb, out)
}

#[test]
fn a_delay_step_costs_the_fixed_buffer_the_rest_of_the_call() {
    let (jb, out) = delay_step(JitterBufferConfig::fixed(40 * MS));
    // From the step on every packet is 50 ms past its tick: 900 late, and every tick from
    // frame 100 on concealed.
    assert_eq!(jb.late(), 900);
    assert_eq!(out[..100], (0..100).collect::<Vec<i64>>()[..]);
    assert!(out[100..].iter().all(|&x| x == -1));
}

#[test]
fn a_delay_step_costs_the_adaptive_buffer_one_short_burst() {
    let (jb, out) = delay_step(JitterBufferConfig::default());
    // The buffer waits for the delayed frame: 90 ms more delay is 4.5 frame times, so at most
    // five ticks conceal, in one run, and nothing arrives late.
    assert_eq!(jb.late(), 0);
    let c = concealed(&out);
    assert!((4..=5).contains(&c), "{c}");
    let first = out.iter().position(|&x| x == -1).unwrap();
    assert!(out[first..first + c].iter().all(|&x| x == -1));
    // Every frame is played, in order (shrinks drop a few to bring the delay back down).
    let played: Vec<i64> = out.iter().copied().filter(|&x| x >= 0).collect();
    assert!(played.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(played.len() as u64 + jb.frames_shrunk(), 1000);
}

#[test]
fn an_outage_is_concealed_once_not_twice() {
    // Packets 100..199 (2 s) never arrive: the adaptive buffer conceals while it waits, then
    // moves straight on to frame 200 when it arrives instead of concealing the 100 lost
    // frames again.
    let pk: Vec<(u32, u64)> = (0..400)
        .filter(|i| !(100..200).contains(i))
        .map(|i| (i, 0))
        .collect();
    let mut jb = JitterBuffer::new(JitterBufferConfig::default());
    let out = run(&mut jb, &pk, 20 * 400);
    let c = concealed(&out);
    assert!((99..=101).contains(&c), "{c}");
    let i = out.iter().position(|&x| x == 200).unwrap();
    assert_eq!(out[i - 1], -1);
    assert_eq!(jb.late(), 0);
}

#[test]
fn adaptive_grows_under_jitter_and_stays_bounded() {
    let cfg = JitterBufferConfig {
        initial_delay_ns: 20 * MS,
        ..JitterBufferConfig::default()
    };
    // Every 5th packet is 70 ms late (with reordering): a fixed 20 ms buffer loses 20 %.
    let pk: Vec<(u32, u64)> = (0..1500)
        .map(|i| (i, if i % 5 == 2 { 70 } else { 0 }))
        .collect();
    let mut jb = JitterBuffer::new(cfg);
    run(&mut jb, &pk, 20 * 1510);
    // 20 % of packets 70 ms late: the 95th percentile is 70 ms, so the buffer grows by about
    // three frames and then the late packets stop.
    assert!(
        (3..=8).contains(&jb.frames_stretched()),
        "{}",
        jb.frames_stretched()
    );
    assert!(jb.late() < 30, "{}", jb.late());
    let mut fixed = JitterBuffer::new(JitterBufferConfig::fixed(20 * MS));
    run(&mut fixed, &pk, 20 * 1510);
    assert_eq!(fixed.late(), 300);
}

#[test]
fn adaptive_shrinks_when_jitter_stops() {
    let cfg = JitterBufferConfig {
        initial_delay_ns: 160 * MS,
        ..JitterBufferConfig::default()
    };
    let mut jb = JitterBuffer::new(cfg);
    let pk: Vec<(u32, u64)> = (0..1000).map(|i| (i, 0)).collect();
    run(&mut jb, &pk, 20 * 1000);
    // 160 ms down to the 20 ms minimum: seven frames.
    assert_eq!(jb.frames_shrunk(), 7);
    assert_eq!((jb.late(), jb.frames_concealed()), (0, 0));
}

#[test]
fn adaptive_respects_its_bounds() {
    // Every other packet 300 ms late: the need is far above a 100 ms maximum.
    let cfg = JitterBufferConfig {
        max_delay_ns: 100 * MS,
        ..JitterBufferConfig::default()
    };
    let mut jb = JitterBuffer::new(cfg);
    let pk: Vec<(u32, u64)> = (0..1000)
        .map(|i| (i, if i % 2 == 1 { 300 } else { 0 }))
        .collect();
    run(&mut jb, &pk, 20 * 1000);
    let d = jb.mean_delay_ms().unwrap();
    assert!(d <= 100.0 + 20.0, "{d}");
}

/// Adaptive, starting at its 20 ms minimum (so that on a clean path it neither shrinks nor
/// stretches, and tick k plays frame k).
fn adaptive20() -> JitterBufferConfig {
    JitterBufferConfig {
        initial_delay_ns: 20 * MS,
        ..JitterBufferConfig::default()
    }
}

/// A 20 ms SILK wideband packet whose LBRR flag says it carries FEC for the frame before it
/// (TOC config 9, code 0; first SILK byte: VAD 0, LBRR 1), with the frame index after it.
fn fec_packet(i: u8) -> Vec<u8> {
    vec![9 << 3, 0x40, i]
}

/// Plays frames 0..n (20 ms apart, 20 ms path), `payload(i)` for each, `None` for a frame
/// never sent or lost; returns each tick's action: frame index played, -1 conceal, -2 stretch,
/// -3 recovered (with the index of the packet it came from checked), -4 silence.
fn play(jb: &mut JitterBuffer, n: u32, payload: impl Fn(u32) -> Option<Vec<u8>>) -> Vec<i64> {
    let mut out = Vec::new();
    for i in 0..n + 5 {
        let t = u64::from(i) * 20 * MS + 20 * MS;
        while let Some(tick) = jb.next_tick().filter(|&x| x < t) {
            out.push(match jb.pop(tick).unwrap() {
                Playout::Play(p) => i64::from(p[p.len() - 1]),
                Playout::Conceal => -1,
                Playout::Stretch => -2,
                Playout::Recover(p) => {
                    assert_eq!(
                        i64::from(p[2]),
                        out.len() as i64 + 1,
                        "FEC of the next frame"
                    );
                    -3
                }
                Playout::Silence => -4,
            });
        }
        if let Some(p) = (i < n).then(|| payload(i)).flatten() {
            jb.insert(t, i * 960, &p);
        }
    }
    out
}

#[test]
fn a_missing_frame_is_rebuilt_from_the_next_packets_fec_in_either_mode() {
    for cfg in [JitterBufferConfig::fixed(40 * MS), adaptive20()] {
        let mut jb = JitterBuffer::new(cfg);
        let out = play(&mut jb, 30, |i| (i != 7).then(|| fec_packet(i as u8)));
        assert_eq!(out[6..9], [6, -3, 8], "{:?}: {out:?}", cfg.mode);
        assert_eq!((jb.frames_recovered(), concealed(&out)), (1, 0));
        // Two in a row: the first one's FEC was in the lost second.
        let mut jb = JitterBuffer::new(cfg);
        let out = play(&mut jb, 30, |i| {
            (!(7..9).contains(&i)).then(|| fec_packet(i as u8))
        });
        assert_eq!(out[6..10], [6, -1, -3, 9], "{:?}: {out:?}", cfg.mode);
        // Packets without FEC: concealed.
        let mut jb = JitterBuffer::new(cfg);
        let out = play(&mut jb, 30, |i| (i != 7).then(|| vec![CELT, 0, i as u8]));
        assert_eq!(out[6..9], [6, -1, 8]);
        assert_eq!(jb.frames_recovered(), 0);
    }
}

#[test]
fn a_dtx_pause_is_silence_on_schedule_not_concealment() {
    // Frame 10 is a DTX frame (a 1-byte table of contents); 11..=29 are never sent; speech
    // resumes at 30 with its timestamp, as a DTX sender's would.
    for cfg in [JitterBufferConfig::fixed(40 * MS), adaptive20()] {
        let mut jb = JitterBuffer::new(cfg);
        let out = play(&mut jb, 60, |i| match i {
            10 => Some(vec![10]),
            11..=29 => None,
            _ => Some(vec![CELT, 0, i as u8]),
        });
        assert_eq!(out[10], 10);
        assert!(
            out[11..30].iter().all(|&x| x == -4),
            "{:?}: {out:?}",
            cfg.mode
        );
        assert_eq!(
            out[30], 30,
            "{:?}: the talk spurt plays at its own tick",
            cfg.mode
        );
        assert_eq!((jb.frames_silent(), concealed(&out), jb.late()), (19, 0, 0));
        // A loss in speech is still concealed: DTX silence ends with the next frame played.
        let mut jb = JitterBuffer::new(cfg);
        let out = play(&mut jb, 60, |i| match i {
            10 => Some(vec![10]),
            11..=29 | 40 => None,
            _ => Some(vec![CELT, 0, i as u8]),
        });
        assert_eq!(out[38..42], [38, 39, -1, 41]);
    }
}
