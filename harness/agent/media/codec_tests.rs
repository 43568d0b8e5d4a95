use super::*;
use crate::agent::media::level::rms_dbov;
use crate::agent::media::source::{FramedSource, SpeechSource};

fn cfg(bitrate_bps: i32, frame_ms: u32) -> OpusConfig {
    OpusConfig {
        bitrate_bps,
        frame_ms,
        ..OpusConfig::default()
    }
}

#[test]
fn round_trip_keeps_level() {
    let mut src = SpeechSource::new(21);
    let mut enc = OpusEncoder::new(OpusConfig::default()).unwrap();
    let mut dec = OpusDecoder::new().unwrap();
    let (mut p_in, mut p_out) = (0.0f64, 0.0f64);
    let mut bytes = 0usize;
    let frames = 250; // 5 s
    for i in 0..frames {
        let (pcm, _) = src.next_frame();
        let pcm = *pcm;
        let payload = enc.encode(&pcm).unwrap();
        bytes += payload.len();
        let out = dec.decode(payload).unwrap();
        if i >= 5 {
            // Skip the codec's start-up; compare total power (delay-insensitive).
            p_in += pcm.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>();
            p_out += out
                .iter()
                .map(|&x| (f64::from(x) * 32768.0).powi(2))
                .sum::<f64>();
        }
    }
    let diff_db = 10.0 * (p_out / p_in).log10();
    assert!(diff_db.abs() < 3.0, "level changed by {diff_db} dB");
    // About 32 kbit/s on speech, less in pauses: 5 s -> well under 32 kbit/s * 5 s * 1.2.
    let kbps = bytes as f64 * 8.0 / 5.0 / 1000.0;
    assert!(kbps > 8.0 && kbps < 40.0, "{kbps} kbit/s");
}

#[test]
fn conceal_produces_a_frame() {
    let mut src = SpeechSource::new(2);
    let mut enc = OpusEncoder::new(OpusConfig::default()).unwrap();
    let mut dec = OpusDecoder::new().unwrap();
    for _ in 0..20 {
        let (pcm, _) = src.next_frame();
        let pcm = *pcm;
        let p = enc.encode(&pcm).unwrap().to_vec();
        dec.decode(&p).unwrap();
    }
    let plc = dec.conceal().unwrap();
    assert_eq!(plc.len(), FRAME_SAMPLES);
    assert!(rms_dbov(plc) > -80.0); // PLC continues the voiced signal, not silence
}

#[test]
fn wrong_frame_size_is_an_error() {
    let mut enc = OpusEncoder::new(OpusConfig::default()).unwrap();
    let err = enc.encode(&[0; 480]).unwrap_err();
    assert!(err.to_string().contains("480 samples"), "{err}");
    let mut dec = OpusDecoder::new().unwrap();
    assert!(matches!(
        dec.decode(&[0xff; 3]),
        Err(CodecError::Opus { .. }) | Err(CodecError::DecodedSize { .. })
    ));
    // A 10 ms packet to a decoder set for 20 ms frames.
    let mut enc10 = OpusEncoder::new(cfg(32_000, 10)).unwrap();
    let p = enc10.encode(&[0; 480]).unwrap().to_vec();
    assert!(matches!(
        dec.decode(&p),
        Err(CodecError::DecodedSize {
            expected: 960,
            found: 480
        })
    ));
}

#[test]
fn settings_libopus_or_the_playout_cannot_honour_are_refused() {
    for bad in [
        cfg(5_999, 20),
        cfg(510_001, 20),
        cfg(32_000, 5),
        cfg(32_000, 25),
        cfg(32_000, 120),
        OpusConfig {
            packet_loss_pct: 101,
            ..OpusConfig::default()
        },
    ] {
        assert!(
            matches!(OpusEncoder::new(bad), Err(CodecError::Config(_))),
            "{bad:?}"
        );
    }
    for ok in [cfg(6_000, 10), cfg(510_000, 60), cfg(24_000, 40)] {
        assert!(OpusEncoder::new(ok).is_ok(), "{ok:?}");
    }
}

/// Mean payload bytes of the talk-spurt frames of 20 s of speech, and of the pause frames.
fn payload_means(c: OpusConfig) -> (f64, f64) {
    let mut src = FramedSource::new(31, c.frame_samples());
    let mut enc = OpusEncoder::new(c).unwrap();
    let (mut active, mut pause) = ((0usize, 0usize), (0usize, 0usize));
    let frames = 20_000 / c.frame_ms as usize;
    for i in 0..frames {
        let (pcm, a) = src.next_frame();
        let n = enc.encode(pcm).unwrap().len();
        if i < 10 {
            continue; // start-up
        }
        let acc = if a { &mut active } else { &mut pause };
        acc.0 += n;
        acc.1 += 1;
    }
    (
        active.0 as f64 / active.1 as f64,
        pause.0 as f64 / pause.1.max(1) as f64,
    )
}

#[test]
fn payload_size_is_bitrate_times_frame_duration() {
    // Closed form: a frame of d ms at b bit/s carries b × d / 8000 bytes. libopus's VBR spends
    // about the target on speech (measured: within 10 %, 27 B of 30 at 12 kbit/s, 120 B of 120
    // at 24 kbit/s and 40 ms) and less in pauses.
    for (bitrate, frame_ms) in [
        (12_000, 20),
        (24_000, 20),
        (64_000, 20),
        (24_000, 10),
        (24_000, 40),
        (24_000, 60),
    ] {
        let (talk, pause) = payload_means(cfg(bitrate, frame_ms));
        let closed = f64::from(bitrate) * f64::from(frame_ms) / 8000.0;
        eprintln!("{bitrate} {frame_ms}: talk {talk:.1} pause {pause:.1} closed {closed:.1}");
        assert!(
            (talk / closed - 1.0).abs() < 0.15,
            "{bitrate} bit/s, {frame_ms} ms: {talk:.1} B vs {closed:.1} B"
        );
        assert!(pause < talk, "{bitrate} {frame_ms}: pause {pause:.1} B");
    }
}

#[test]
fn dtx_sends_table_of_contents_bytes_in_pauses_only() {
    let count = |dtx: bool| {
        let c = OpusConfig {
            dtx,
            ..OpusConfig::default()
        };
        let mut src = FramedSource::new(31, 960);
        let mut enc = OpusEncoder::new(c).unwrap();
        let (mut tiny_talk, mut tiny_pause, mut pause) = (0, 0, 0);
        for _ in 0..1000 {
            let (pcm, a) = src.next_frame();
            let tiny = enc.encode(pcm).unwrap().len() <= DTX_MAX_BYTES;
            match (a, tiny) {
                (true, true) => tiny_talk += 1,
                (false, t) => {
                    pause += 1;
                    tiny_pause += usize::from(t);
                }
                _ => {}
            }
        }
        (tiny_talk, tiny_pause, pause)
    };
    assert_eq!(count(false).1, 0, "no DTX frames without DTX");
    let (talk, tiny, pause) = count(true);
    eprintln!("dtx: talk {talk} tiny {tiny} of pause {pause}");
    assert_eq!(talk, 0, "speech is never DTX");
    // libopus (1.3) switches to SILK and enters DTX only after ~300-500 ms of silence, then
    // refreshes its noise every ~400 ms: P.59 pauses (exponential, mean 1.587 s) give about a
    // third of the pause frames as DTX frames with this source.
    assert!(tiny * 4 > pause, "{tiny} of {pause}");
}

/// Signal-to-error ratio, dB, of `out` against `reference`.
fn snr_db(signal: f64, error: f64) -> f64 {
    10.0 * (signal / error.max(1e-30)).log10()
}

/// Drops every 7th talk-spurt frame of 30 s of speech and rebuilds it with FEC and with PLC;
/// returns the SNR (dB) of each against the source (aligned by the encoder's look-ahead), and
/// the share of next packets that carried FEC.
fn fec_vs_plc(frame_ms: u32) -> (f64, f64, f64) {
    let c = OpusConfig {
        bitrate_bps: 32_000,
        frame_ms,
        inband_fec: true,
        packet_loss_pct: 10,
        ..OpusConfig::default()
    };
    let n = c.frame_samples();
    let mut src = FramedSource::new(12, n);
    let mut enc = OpusEncoder::new(c).unwrap();
    let delay = enc.inner.get_lookahead().unwrap() as usize;
    let frames = 30_000 / frame_ms as usize;
    let mut pcm_all: Vec<i16> = Vec::new();
    let mut packets = Vec::new();
    for _ in 0..frames {
        let (pcm, a) = src.next_frame();
        pcm_all.extend_from_slice(pcm);
        packets.push((enc.encode(pcm).unwrap().to_vec(), a));
    }
    let mut fec = OpusDecoder::with_frame(n).unwrap();
    let mut plc = OpusDecoder::with_frame(n).unwrap();
    let (mut sig, mut err_fec, mut err_plc) = (0.0, 0.0, 0.0);
    let (mut lost, mut with_fec) = (0, 0);
    let mut talk = 0;
    for k in 0..frames - 1 {
        let (p, active) = &packets[k];
        talk += usize::from(*active);
        let drop = k > 50 && *active && talk.is_multiple_of(7);
        if !drop {
            fec.decode(p).unwrap();
            plc.decode(p).unwrap();
            continue;
        }
        lost += 1;
        let next = &packets[k + 1].0;
        with_fec += usize::from(has_fec(next));
        let start = k * n;
        let reference: Vec<f64> = (0..n)
            .map(|i| {
                start
                    .checked_add(i)
                    .and_then(|t| t.checked_sub(delay))
                    .map_or(0.0, |t| f64::from(pcm_all[t]) / 32768.0)
            })
            .collect();
        let a = fec.recover(next).unwrap();
        let b = plc.conceal().unwrap();
        for i in 0..n {
            sig += reference[i] * reference[i];
            err_fec += (f64::from(a[i]) - reference[i]).powi(2);
            err_plc += (f64::from(b[i]) - reference[i]).powi(2);
        }
    }
    (
        snr_db(sig, err_fec),
        snr_db(sig, err_plc),
        with_fec as f64 / lost as f64,
    )
}

#[test]
fn fec_rebuilds_a_lost_frame_closer_to_the_source_than_plc() {
    // Measured (libopus 1.3.1, 32 kbit/s, 10 % loss hint): the clean decode is 8.6 dB from the
    // source at every frame size; FEC 8.6 / 4.0 / 1.2 dB, PLC 5.3 / 0.6 / 0.4 dB at 20 / 40 /
    // 60 ms. A lost 60 ms packet is three 20 ms SILK frames, of which LBRR rebuilds only those
    // active enough to have been given redundancy.
    for (frame_ms, gain_db) in [(20, 3.0), (40, 3.0), (60, 0.5)] {
        let (fec, plc, share) = fec_vs_plc(frame_ms);
        eprintln!("{frame_ms} ms: FEC {fec:.2} dB, PLC {plc:.2} dB, {share:.2} with FEC");
        assert!(
            share > 0.9,
            "{frame_ms} ms: {share} of next packets carried FEC"
        );
        assert!(
            fec > plc + gain_db,
            "{frame_ms} ms: FEC {fec:.2} dB vs PLC {plc:.2} dB"
        );
    }
}

#[test]
fn fec_is_only_in_packets_of_an_encoder_with_fec_and_a_loss_hint() {
    let share = |inband_fec: bool, packet_loss_pct: i32| {
        let c = OpusConfig {
            inband_fec,
            packet_loss_pct,
            ..OpusConfig::default()
        };
        let mut src = FramedSource::new(3, 960);
        let mut enc = OpusEncoder::new(c).unwrap();
        let (mut with, mut talk) = (0, 0);
        for i in 0..1000 {
            let (pcm, a) = src.next_frame();
            let f = has_fec(enc.encode(pcm).unwrap());
            if a && i >= 50 {
                talk += 1;
                with += usize::from(f);
            }
        }
        with as f64 / talk as f64
    };
    assert_eq!(share(false, 10), 0.0);
    assert_eq!(
        share(true, 0),
        0.0,
        "libopus adds no LBRR without a loss hint"
    );
    // Talk-spurt packets after the start-up: all but a spurt's first (its previous frame was
    // a pause, which gets no redundancy) and a few frames of low activity.
    let with = share(true, 10);
    eprintln!("FEC in {with:.3} of talk-spurt packets");
    assert!(with > 0.85, "{with}");
    assert!(!has_fec(&[]));
    assert!(!has_fec(&[0xfc, 0, 0])); // CELT-only TOC
}

#[test]
fn whether_libopus_adds_fec_depends_on_bitrate_and_loss_hint() {
    // libopus 1.3.1 (decide_fec): a per-bandwidth rate threshold that falls as the expected
    // loss rises, and above 5 % it narrows the bandwidth to make room. Measured: at 20 ms,
    // FEC from 18 kbit/s with a 10 % hint, from 31-32 kbit/s with 1-5 %.
    let with = |bitrate_bps, packet_loss_pct| {
        fec_in_speech(OpusConfig {
            bitrate_bps,
            inband_fec: true,
            packet_loss_pct,
            ..OpusConfig::default()
        })
        .unwrap()
    };
    assert!(!with(16_000, 10) && with(18_000, 10));
    assert!(!with(24_000, 5) && with(32_000, 5));
    assert!(!with(64_000, 0), "no FEC without a loss hint");
    assert!(!fec_in_speech(OpusConfig::default()).unwrap(), "FEC off");
}
