//! What video costs a run, per frame at 640x360, 30 fps, 600 kbit/s, the moving source:
//! - `encode/<codec>`: encoding a 30-frame clip (31 frames: the keyframe, the deltas, the
//!   wrap-around delta), in criterion's elements/s (= frames/s); the ms a frame is printed;
//! - `decode/<codec>`: decoding that clip (keyframe and 29 deltas), as a receiver with
//!   `decode: true` does.
//!
//! OpenH264 is built without its assembly when `nasm` was missing at build time (2-3x slower);
//! `scripts/install-deps.sh` installs it.

use callharness::agent::video::{Scene, VideoClip, VideoCodec, VideoDecoder, VideoLayer};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const LAYER: VideoLayer = VideoLayer {
    width: 640,
    height: 360,
    fps: 30,
    bitrate_bps: 600_000,
};
const FRAMES: usize = 30;

fn codecs(c: &mut Criterion) {
    for codec in [VideoCodec::Vp8, VideoCodec::H264] {
        let mut group = c.benchmark_group("encode");
        group.sample_size(10);
        group.throughput(Throughput::Elements(FRAMES as u64 + 1));
        group.bench_function(codec.name(), |b| {
            b.iter(|| {
                VideoClip::encode(codec, LAYER, Scene::Moving, FRAMES, black_box(1))
                    .expect("encode")
            })
        });
        group.finish();

        let clip = VideoClip::encode(codec, LAYER, Scene::Moving, FRAMES, 1).expect("encode");
        let t = std::time::Instant::now();
        let rounds = 5;
        for _ in 0..rounds {
            black_box(VideoClip::encode(codec, LAYER, Scene::Moving, FRAMES, 1).expect("encode"));
        }
        let enc_ms = t.elapsed().as_secs_f64() * 1000.0 / (rounds * (FRAMES + 1)) as f64;

        let mut group = c.benchmark_group("decode");
        group.sample_size(10);
        group.throughput(Throughput::Elements(FRAMES as u64));
        let decode_all = || {
            let mut dec = VideoDecoder::new(codec).expect("decoder");
            let mut n = 0;
            for i in 0..FRAMES {
                let f = if i == 0 { clip.first() } else { clip.delta(i) };
                n += usize::from(dec.decode(black_box(f.data)).expect("decode").is_some());
            }
            n
        };
        group.bench_function(codec.name(), |b| b.iter(decode_all));
        group.finish();
        let t = std::time::Instant::now();
        for _ in 0..rounds {
            black_box(decode_all());
        }
        let dec_ms = t.elapsed().as_secs_f64() * 1000.0 / (rounds * FRAMES) as f64;
        println!(
            "{codec} 640x360 30 fps 600 kbit/s: encode {enc_ms:.2} ms/frame, decode {dec_ms:.2} ms/frame, \
             keyframe {} B, mean delta {:.0} B",
            clip.first().data.len(),
            (1..FRAMES).map(|i| clip.delta(i).data.len()).sum::<usize>() as f64 / (FRAMES - 1) as f64
        );
    }
}

criterion_group!(benches, codecs);
criterion_main!(benches);
