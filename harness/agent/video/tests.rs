//! The codec layer against the source it encodes: quality, sizes, keyframes, the loop's seam,
//! determinism. The measured numbers are printed (`--nocapture`) and bounded.

use super::*;

const VGA: VideoLayer = VideoLayer {
    width: 640,
    height: 360,
    fps: 30,
    bitrate_bps: 600_000,
};
const CODECS: [VideoCodec; 2] = [VideoCodec::Vp8, VideoCodec::H264];
/// Every decoded frame of a clean stream at 640x360, 600 kbit/s, is at least this close to the
/// source. The moving source codes at 33-40 dB there; 30 dB is the floor people start to see
/// blocking below.
const PSNR_FLOOR_DB: f64 = 30.0;
/// The mean over a 10 s loop at 640x360, 600 kbit/s (slower motion than the short test clips).
const PSNR_MEAN_FLOOR_DB: f64 = 34.0;

fn decode_seq<'a>(codec: VideoCodec, frames: impl IntoIterator<Item = &'a [u8]>) -> Vec<Picture> {
    let mut dec = VideoDecoder::new(codec).unwrap();
    frames
        .into_iter()
        .enumerate()
        .map(|(n, f)| {
            dec.decode(f)
                .unwrap_or_else(|e| panic!("{codec} frame {n}: {e}"))
                .unwrap_or_else(|| panic!("{codec} frame {n}: no picture"))
        })
        .collect()
}

/// The first `n` frames a sender sends (owned), with a keyframe requested at the indices in
/// `keys`.
fn play(clip: &Arc<VideoClip>, n: usize, keys: &[usize]) -> Vec<Vec<u8>> {
    let mut p = ClipPlayer::new(clip.clone());
    (0..n)
        .map(|i| p.next_frame(keys.contains(&i)).unwrap().data.to_vec())
        .collect()
}

fn refs(v: &[Vec<u8>]) -> impl Iterator<Item = &[u8]> {
    v.iter().map(|f| f.as_slice())
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn psnr_of_a_uniform_offset_is_the_closed_form() {
    let a: Vec<u8> = (0..10_000).map(|k| (k % 200) as u8).collect();
    for d in 1..=8u8 {
        let b: Vec<u8> = a.iter().map(|&v| v + d).collect();
        let want = 10.0 * (255.0f64 * 255.0 / f64::from(d) / f64::from(d)).log10();
        assert!((psnr_y(&a, &b) - want).abs() < 1e-9, "d={d}");
    }
    assert_eq!(psnr_y(&a, &a), PSNR_IDENTICAL_DB);
    assert_eq!(psnr_y(&a, &a[1..]), 0.0);
    assert_eq!(psnr_y(&[], &[]), 0.0);
}

#[test]
fn ssim_is_one_for_identical_planes_and_falls_with_damage() {
    let (w, h) = (64u32, 48u32);
    let a: Vec<u8> = (0..w * h).map(|k| ((k * 37) % 251) as u8).collect();
    assert!((ssim_y(&a, &a, w, h) - 1.0).abs() < 1e-12);
    let shifted: Vec<u8> = a.iter().map(|&v| v.saturating_add(10)).collect();
    let flat = vec![128u8; a.len()];
    let s_shift = ssim_y(&a, &shifted, w, h);
    let s_flat = ssim_y(&a, &flat, w, h);
    assert!(s_shift < 1.0 && s_shift > 0.9, "{s_shift}");
    assert!(s_flat < 0.1, "{s_flat}");
    assert_eq!(ssim_y(&a, &a[1..], w, h), 0.0);
}

#[test]
fn the_source_is_periodic_seeded_and_moving() {
    let at = |seed, i| source_luma(VGA, Scene::Moving, seed, 60, i);
    assert_eq!(at(1, 3), at(1, 63));
    assert_ne!(at(1, 3), at(2, 3));
    assert!(psnr_y(&at(1, 3), &at(1, 4)) < 25.0);
    assert!(source_luma(VGA, Scene::Black, 1, 60, 5)
        .iter()
        .all(|&v| v == BLACK_LUMA));
}

#[test]
fn a_clean_stream_decodes_close_to_the_source_at_a_realistic_size_and_bitrate() {
    for codec in CODECS {
        let t = std::time::Instant::now();
        let clip = Arc::new(VideoClip::encode(codec, VGA, Scene::Moving, 300, 7).unwrap());
        let enc_ms = t.elapsed().as_secs_f64() * 1000.0 / 301.0;
        let frames = play(&clip, clip.len(), &[]);
        let t = std::time::Instant::now();
        let pics = decode_seq(codec, refs(&frames));
        let dec_ms = t.elapsed().as_secs_f64() * 1000.0 / pics.len() as f64;
        let psnr: Vec<f64> = pics
            .iter()
            .enumerate()
            .map(|(i, p)| psnr_y(&clip.source_luma(i), &p.y))
            .collect();
        let (at, min) = psnr
            .iter()
            .cloned()
            .enumerate()
            .fold((0, f64::MAX), |a, (i, q)| if q < a.1 { (i, q) } else { a });
        let mean_delta =
            clip.deltas.iter().map(|d| d.len()).sum::<usize>() as f64 / clip.len() as f64;
        let rate = clip.mean_bitrate_bps();
        eprintln!(
            "{codec}: encode {enc_ms:.2} ms/frame, decode {dec_ms:.2} ms/frame, keyframe {} B, \
             mean delta {mean_delta:.0} B, loop {:.0} kbit/s (target {}), PSNR mean {:.1} min {min:.1} dB (frame {at}), \
             {} KiB",
            clip.first().data.len(),
            rate / 1000.0,
            VGA.bitrate_bps / 1000,
            mean(&psnr),
            clip.memory_bytes() / 1024
        );
        // Measured: VP8 39 dB mean, H.264 37 dB mean with a dip to 26 dB around frame 50
        // (OpenH264's rate control after its keyframe overshoot).
        assert!(
            mean(&psnr) > PSNR_MEAN_FLOOR_DB,
            "{codec}: mean PSNR {:.1} dB",
            mean(&psnr)
        );
        assert!(
            min > PSNR_FLOOR_DB - 5.0,
            "{codec}: min PSNR {min:.1} dB at frame {at}"
        );
        // CBR encoders hold their target within a few percent over 10 s; 25 % catches a
        // wrong unit (kbit vs bit) or rate control being off.
        let err = (rate - f64::from(VGA.bitrate_bps)).abs() / f64::from(VGA.bitrate_bps);
        assert!(
            err < 0.25,
            "{codec}: {rate:.0} bit/s against {}",
            VGA.bitrate_bps
        );
        // A keyframe costs several deltas (video.md: 10-14 KB against 2.5 KB).
        let key = clip.first().data.len() as f64;
        assert!(
            key > 3.0 * mean_delta && key < 30_000.0,
            "{codec}: keyframe {key} B"
        );
    }
}

#[test]
fn a_keyframe_alternate_decodes_with_its_deltas_and_drifts_little() {
    for codec in CODECS {
        let clip = Arc::new(VideoClip::encode(codec, VGA, Scene::Moving, 90, 3).unwrap());
        let (i, k) = (40, 30);
        let live = decode_seq(codec, refs(&play(&clip, i + k, &[])));
        let t = std::time::Instant::now();
        let key = clip.keyframe(i).unwrap();
        let key_ms = t.elapsed().as_secs_f64() * 1000.0;
        assert!(key.keyframe);
        let key_len = key.data.len();
        // A receiver that lost everything before frame i and asked for a keyframe.
        let sent = play(&clip, i + k, &[i]);
        assert_eq!(sent[i], key.data);
        // The clip's own deltas after the alternate (renumbered): what drifts.
        let raw: Vec<Vec<u8>> = std::iter::once(key.data.to_vec())
            .chain((i + 1..i + k).map(|j| {
                let mut out = Vec::new();
                match codec {
                    VideoCodec::H264 => {
                        frame_num::set_frame_num(clip.delta(j).data, (j - i) as u32, &mut out)
                            .unwrap()
                    }
                    VideoCodec::Vp8 => out.extend_from_slice(clip.delta(j).data),
                }
                out
            }))
            .collect();
        if codec == VideoCodec::Vp8 {
            assert_eq!(raw, sent[i..]);
        }
        let replay = decode_seq(codec, refs(&raw));
        let drift: Vec<f64> = replay
            .iter()
            .enumerate()
            .map(|(n, p)| {
                let src = clip.source_luma(i + n);
                psnr_y(&src, &live[i + n].y) - psnr_y(&src, &p.y)
            })
            .collect();
        let worst = replay
            .iter()
            .enumerate()
            .map(|(n, p)| psnr_y(&clip.source_luma(i + n), &p.y))
            .fold(f64::MAX, f64::min);
        eprintln!(
            "{codec}: keyframe({i}) {key_len} B in {key_ms:.1} ms; drift over the next {k} frames: \
             mean {:.2} dB, max {:.2} dB; worst PSNR {worst:.1} dB",
            mean(&drift),
            drift.iter().cloned().fold(f64::MIN, f64::max)
        );
        // Measured (640x360, 600 kbit/s, 30 frames after the keyframe): VP8 under 0.5 dB
        // mean, its deltas predicting from the previous frame only; H.264 1-9 dB mean
        // depending on the seed, and growing (OpenH264's deltas spread the keyframe's
        // difference from the live picture).
        let (bound, floor) = match codec {
            VideoCodec::Vp8 => (1.5, PSNR_FLOOR_DB - 2.0),
            VideoCodec::H264 => (12.0, 20.0),
        };
        // What the player sends for H.264 instead: the keyframe's own encoder's deltas, no
        // drift at all (the same pictures as a live encoder asked for a keyframe at i).
        if codec == VideoCodec::H264 {
            let chained = decode_seq(codec, refs(&sent[i..]));
            for j in 1..k {
                let mut own = Vec::new();
                frame_num::set_frame_num(&clip.keyframe_delta(i, j).unwrap(), j as u32, &mut own)
                    .unwrap();
                assert_eq!(own, sent[i + j]);
            }
            let q: Vec<f64> = chained
                .iter()
                .enumerate()
                .map(|(n, p)| psnr_y(&clip.source_luma(i + n), &p.y))
                .collect();
            eprintln!(
                "{codec}: with its own deltas: PSNR mean {:.1} min {:.1} dB",
                mean(&q),
                q.iter().cloned().fold(f64::MAX, f64::min)
            );
            assert!(q.iter().all(|&x| x > PSNR_FLOOR_DB - 1.5), "{q:?}");
            assert!(
                clip.keyframe_delta(i, 0).is_err() && clip.keyframe_delta(i, clip.len()).is_err()
            );
        }
        assert!(worst > floor, "{codec}: {worst:.1} dB");
        assert!(mean(&drift) < bound, "{codec}: drift {drift:?}");
        // Memoized: the same bytes, from the clip's storage.
        assert_eq!(
            clip.keyframe(i).unwrap().data.as_ptr(),
            clip.keyframe(i).unwrap().data.as_ptr()
        );
        assert_eq!(clip.keyframe(0).unwrap(), clip.first());
    }
}

#[test]
fn the_loop_wraps_without_a_seam() {
    for codec in CODECS {
        let clip = Arc::new(VideoClip::encode(codec, VGA, Scene::Moving, 60, 5).unwrap());
        let n = clip.len();
        let psnr = |pics: &[Picture]| -> Vec<f64> {
            pics.iter()
                .enumerate()
                .map(|(i, p)| psnr_y(&clip.source_luma(i), &p.y))
                .collect()
        };
        // Wrapping with the first keyframe: every pass decodes to the same pictures.
        let pics = decode_seq(codec, refs(&play(&clip, 3 * n, &[])));
        assert!(
            (0..n).all(|j| pics[j] == pics[n + j] && pics[j] == pics[2 * n + j]),
            "{codec}"
        );
        let exact = psnr(&pics);
        // Wrapping with the wrap-around delta: it decodes, a little worse each pass.
        let mut p = ClipPlayer::with_wrap(clip.clone(), Wrap::Delta);
        let sent: Vec<Vec<u8>> = (0..3 * n)
            .map(|_| p.next_frame(false).unwrap().data.to_vec())
            .collect();
        assert!(!ClipPlayer::with_wrap(clip.clone(), Wrap::Delta)
            .next_frame(false)
            .unwrap()
            .data
            .is_empty());
        let drifting = psnr(&decode_seq(codec, refs(&sent)));
        let pass = |v: &[f64], k: usize| mean(&v[k * n..(k + 1) * n]);
        let worst = drifting[n..].iter().cloned().fold(f64::MAX, f64::min);
        eprintln!(
            "{codec}: wrap by keyframe {:.1} dB every pass; by delta: passes {:.1} / {:.1} / {:.1} dB, worst {worst:.1}",
            pass(&exact, 0),
            pass(&drifting, 0),
            pass(&drifting, 1),
            pass(&drifting, 2)
        );
        // H.264 dips to 29.8 dB three frames after the keyframe (its rate control paying for it).
        assert!(
            exact.iter().all(|&q| q > PSNR_FLOOR_DB - 1.5),
            "{codec}: {exact:?}"
        );
        // Measured: VP8 0.4 dB a pass, H.264 4 then 2 dB.
        let per_pass = match codec {
            VideoCodec::Vp8 => 1.0,
            VideoCodec::H264 => 6.0,
        };
        assert!(
            pass(&drifting, 1) > pass(&drifting, 0) - per_pass,
            "{codec}"
        );
        assert!(
            pass(&drifting, 2) > pass(&drifting, 1) - per_pass,
            "{codec}"
        );
    }
}

#[test]
fn black_decodes_black_and_moving_does_not() {
    for codec in CODECS {
        let black = Arc::new(VideoClip::encode(codec, VGA, Scene::Black, 10, 1).unwrap());
        let pics = decode_seq(codec, refs(&play(&black, 10, &[])));
        assert!(pics.iter().all(is_black), "{codec}");
        let moving = Arc::new(VideoClip::encode(codec, VGA, Scene::Moving, 10, 1).unwrap());
        let pics = decode_seq(codec, refs(&play(&moving, 10, &[])));
        assert!(pics.iter().all(|p| !is_black(p)), "{codec}");
        assert!(pics.iter().all(|p| (p.width, p.height) == (640, 360)));
        assert!(black.mean_bitrate_bps() < moving.mean_bitrate_bps());
    }
}

#[test]
fn same_picture_spots_a_repeat_not_motion() {
    for codec in CODECS {
        let clip = VideoClip::encode(codec, VGA, Scene::Moving, 10, 2).unwrap();
        let a = decode_seq(codec, [clip.first().data, clip.delta(1).data]);
        let b = decode_seq(codec, [clip.first().data]);
        assert!(same_picture(&a[0], &b[0]), "{codec}");
        assert!(!same_picture(&a[0], &a[1]), "{codec}");
    }
}

#[test]
fn encoding_is_deterministic_per_seed() {
    for codec in CODECS {
        let a = VideoClip::encode(codec, VGA, Scene::Moving, 30, 9).unwrap();
        let b = VideoClip::encode(codec, VGA, Scene::Moving, 30, 9).unwrap();
        let c = VideoClip::encode(codec, VGA, Scene::Moving, 30, 10).unwrap();
        assert_eq!(a.first(), b.first());
        assert!((0..30).all(|i| a.delta(i) == b.delta(i)), "{codec}");
        assert_eq!(a.keyframe(17).unwrap(), b.keyframe(17).unwrap());
        assert_ne!(a.first(), c.first());
    }
}

#[test]
fn the_cache_shares_one_clip_per_key() {
    let layer = VideoLayer {
        width: 160,
        height: 96,
        fps: 15,
        bitrate_bps: 150_000,
    };
    let a = VideoClip::cached(VideoCodec::Vp8, layer, Scene::Moving, 12, 1).unwrap();
    let b = VideoClip::cached(VideoCodec::Vp8, layer, Scene::Moving, 12, 1).unwrap();
    let c = VideoClip::cached(VideoCodec::Vp8, layer, Scene::Moving, 12, 2).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert!(!Arc::ptr_eq(&a, &c));
    assert!(a.memory_bytes() > a.first().data.len());
}

#[test]
fn garbage_and_bad_arguments_are_errors_not_panics() {
    let mut noise = 0x2545_f491_4f6c_dd1du64;
    let mut bytes = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                noise ^= noise << 13;
                noise ^= noise >> 7;
                noise ^= noise << 17;
                noise as u8
            })
            .collect()
    };
    for codec in CODECS {
        let mut dec = VideoDecoder::new(codec).unwrap();
        assert!(dec.decode(&[]).is_err(), "{codec}");
        let junk = bytes(3000);
        assert!(dec.decode(&junk).is_err(), "{codec}");
        let msg = dec.decode(&junk).unwrap_err().to_string();
        assert!(msg.contains(codec.name()), "{msg}");
    }
    // Garbage after a start code: OpenH264 must reject it too.
    let mut dec = VideoDecoder::new(VideoCodec::H264).unwrap();
    let mut au = vec![0, 0, 0, 1, 0x65];
    au.extend(bytes(3000));
    assert!(dec.decode(&au).is_err());

    let odd = VideoLayer { width: 641, ..VGA };
    let e = VideoClip::encode(VideoCodec::H264, odd, Scene::Moving, 10, 1)
        .err()
        .unwrap();
    assert!(e.to_string().contains("even"), "{e}");
    assert!(matches!(
        VideoClip::encode(VideoCodec::Vp8, VGA, Scene::Moving, 0, 1),
        Err(VideoError::EmptyClip(0))
    ));
}

#[test]
fn renumbering_sets_frame_num_and_only_that() {
    let clip = VideoClip::encode(VideoCodec::H264, VGA, Scene::Moving, 20, 4).unwrap();
    let mut out = Vec::new();
    for i in 1..20 {
        let d = clip.delta(i).data;
        assert_eq!(frame_num::frame_num(d).unwrap(), i as u32);
        // Writing back its own number changes nothing, byte for byte.
        frame_num::set_frame_num(d, i as u32, &mut out).unwrap();
        assert_eq!(out, d);
        for want in [0u32, 1, 0x3f, 0x1234, 0x7fff] {
            frame_num::set_frame_num(d, want, &mut out).unwrap();
            assert_eq!(frame_num::frame_num(&out).unwrap(), want);
        }
    }
    assert_eq!(frame_num::frame_num(clip.first().data).unwrap(), 0);
    assert!(frame_num::set_frame_num(&[1, 2, 3], 1, &mut out).is_err());
}

#[test]
fn the_player_loops_and_answers_keyframe_requests() {
    for codec in CODECS {
        let clip = Arc::new(VideoClip::encode(codec, VGA, Scene::Moving, 12, 8).unwrap());
        let mut p = ClipPlayer::new(clip.clone());
        let kinds: Vec<bool> = (0..30)
            .map(|i| p.next_frame(i == 17).unwrap().keyframe)
            .collect();
        // The first, the request at 17, and the wraps at 12 and 24.
        let keys: Vec<usize> = (0..30).filter(|&i| kinds[i]).collect();
        assert_eq!(keys, [0, 12, 17, 24], "{codec}");
        assert_eq!(p.frames_sent(), 30);
        assert_eq!(p.next_index(), 6);
        // Keyframe requests with the keyframe-free wrap: H.264's own deltas run to the wrap
        // and hand back to the clip's; every frame decodes.
        let mut p = ClipPlayer::with_wrap(clip.clone(), Wrap::Delta);
        let sent: Vec<Vec<u8>> = (0..40)
            .map(|i| p.next_frame(i == 5 || i == 30).unwrap().data.to_vec())
            .collect();
        let pics = decode_seq(codec, refs(&sent));
        let worst = pics
            .iter()
            .enumerate()
            .map(|(i, p)| psnr_y(&clip.source_luma(i), &p.y))
            .fold(f64::MAX, f64::min);
        assert!(worst > 24.0, "{codec}: {worst:.1} dB");
    }
}

#[test]
fn a_player_joining_mid_loop_starts_with_a_keyframe_of_that_frame_and_decodes_on() {
    for codec in CODECS {
        let clip = Arc::new(VideoClip::encode(codec, VGA, Scene::Moving, 12, 8).unwrap());
        let mut p = ClipPlayer::starting_at(clip.clone(), 17);
        assert_eq!(p.next_index(), 5);
        let sent: Vec<Vec<u8>> = (0..10)
            .map(|_| {
                let f = p.next_frame(false).unwrap();
                (f.keyframe, f.data.to_vec())
            })
            .enumerate()
            .map(|(i, (key, data))| {
                // Its own keyframe first, then the wrap's at source frame 0 (frame 24).
                assert_eq!(key, i == 0 || i == 7, "{codec} frame {i}");
                data
            })
            .collect();
        assert_eq!(p.frames_sent(), 10);
        let pics = decode_seq(codec, refs(&sent));
        assert_eq!(pics.len(), 10, "{codec}");
        // Each picture is the source at its own moment of the loop.
        for (i, pic) in pics.iter().enumerate() {
            let db = psnr_y(&clip.source_luma(17 + i), &pic.y);
            assert!(db > 28.0, "{codec} frame {i}: {db:.1} dB");
        }
    }
}
