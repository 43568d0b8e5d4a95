//! One simulated 60 s two-way audio call on a 20 ms one-way path (both participants on the
//! `clean` profile: 10 ms each way on each access link), run through the public API
//! (`scenario::load_str` + `sim::run_scenario`), in the group `call`:
//! - `replay`: frames encoded once and replayed, decoded on receive (the default);
//! - `live`: encoded and decoded per frame (`media: live`);
//! - `no-decode`: replayed, not decoded (`decode: false`: network metrics only);
//! - `replay-pcap`: `replay` with the packet capture on (`RunOptions::pcap`, as `run --pcap`),
//!   writing both hosts' pcapng files to a temporary folder, so its cost is `replay`'s minus
//!   this;
//! - `replay-turn-tcp`: `replay` with the callee's UDP media ports blocked
//!   (NET-UDP-MEDIA-BLOCKED), so the call goes through the edge's relay over TCP 443: every
//!   packet of the callee's media through its smoltcp stack, the edge's, and the TURN server
//!   (the goal: above 150x real time);
//! - `replay-video`: `replay` with video both ways (`video: true`: VP8 640x360 at 30 fps and
//!   600 kbit/s, replayed from a clip encoded once, assembled and judged at the receiver without
//!   a pixel decode; the goal: at least 100x real time);
//! - `replay-video-decode`: `replay-video` with both receivers decoding every frame to pixels
//!   (`video: { decode: true }`: black, repeated pictures and PSNR against the camera).
//!
//! Each id also prints what users wait for: seconds per simulated call-minute and the speed as
//! "x real time" (60 s / wall time per call), from every call criterion timed.
//!
//! `call/memory-100-calls` (run once, after the timed ids) runs 100 calls at once in one
//! process (200 participants, all calls active for 20 s, replay mode) and prints the peak heap
//! per active call (counted by this binary's global allocator) and the process's peak RSS.
//!
//! The replayed clip is encoded once per run of the CLI and shared by every scenario in it; the
//! bench does the same (one `RunOptions::clips` cache for all iterations) and prints the one-off
//! cost of encoding the clip separately.
//!
//! For profilers, `CALL_BENCH_PROFILE=replay:N` (or replay-pcap, live, no-decode,
//! memory-100-calls) skips criterion and runs N calls inside `profiled_calls`, e.g.
//! `valgrind --tool=callgrind --toggle-collect='*profiled_calls*' target/release/deps/call-*`.

use callharness::scenario::{load_str, Scenario};
use callharness::sim::{run_scenario, RunOptions};
use criterion::{criterion_group, Criterion, SamplingMode};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Counts live heap bytes and their peak, for the memory figure (one relaxed atomic add per
/// allocation and per free: a few ns, well under 1 % of a call's time).
struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                let grow = new_size - layout.size();
                let now = LIVE.fetch_add(grow, Ordering::Relaxed) + grow;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Simulated length of the timed call, s.
const CALL_S: u64 = 60;
/// Simultaneous calls in the memory run.
const MEMORY_CALLS: usize = 100;
/// How long the memory run's calls are all active, s.
const MEMORY_S: u64 = 20;
const MIB: f64 = 1024.0 * 1024.0;

/// A scenario of `calls` calls, each between two fresh participants on the `clean` profile,
/// all starting at 0 and lasting the whole `duration_s`.
fn scenario(id: &str, media: &str, decode: bool, calls: usize, duration_s: u64) -> Scenario {
    let mut y = format!(
        "name: bench-{id}\ndescription: criterion bench {id}\nkb: []\nseed: 7\n\
         duration: {duration_s}s\nmedia: {media}\ndecode: {decode}\nparticipants:\n"
    );
    // The callees' firewalls block UDP media for the relayed id.
    let firewall = if id.ends_with("turn-tcp") {
        ", firewall: [{ action: block, proto: udp, ports: 50000-59999 }]"
    } else {
        ""
    };
    // Pixel decode of the received video on both sides for the `-decode` id.
    let pixels = if id.ends_with("video-decode") {
        ", video: { decode: true }"
    } else {
        ""
    };
    for i in 0..2 * calls {
        let fw = if i >= calls { firewall } else { "" };
        writeln!(y, "  p{i}: {{ network: clean{fw}{pixels} }}").expect("writing to a String");
    }
    y.push_str("calls:\n");
    let video = if id.contains("video") {
        ", video: true"
    } else {
        ""
    };
    for i in 0..calls {
        writeln!(
            y,
            "  - {{ caller: p{i}, callee: p{}, at: 0s, duration: {duration_s}s, expect: connected{video} }}",
            i + calls
        )
        .expect("writing to a String");
    }
    // As if the file were in scenarios/, so `scenarios/profiles/clean.yaml` is found beside it.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench-call.yaml");
    let mut all = load_str(&y, &path, &[])
        .unwrap_or_else(|e| panic!("bench scenario {id} does not load: {e:?}"));
    assert_eq!(all.len(), 1, "one scenario, no matrix");
    all.remove(0)
}

/// Options with a clip cache shared by every run, as the CLI shares one across scenarios.
fn options() -> RunOptions {
    RunOptions {
        clips: Some(Arc::new(Mutex::new(BTreeMap::new()))),
        ..RunOptions::default()
    }
}

/// Runs once and checks that every call connected and carried audio both ways, so the bench
/// never times a call that failed early.
fn run_checked(s: &Scenario, opts: &RunOptions) -> callharness::report::model::ScenarioReport {
    let r = run_scenario(s, 7, opts).expect("bench scenario runs");
    // All but the first second (setup takes about 0.3 s; a relayed call over TCP about 5.5 s:
    // the UDP relay's 3 s gathering timeout and rtc's 2 s relay wait), 10 % slack.
    let relayed = s.name.ends_with("turn-tcp");
    let setup_ns = if relayed {
        6_000_000_000
    } else {
        1_000_000_000
    };
    let min_packets = (s.duration.as_nanos().saturating_sub(setup_ns) / 20_000_000) * 9 / 10;
    for c in &r.calls {
        assert!(c.connected, "{} -> {} did not connect", c.caller, c.callee);
        if relayed {
            assert_eq!(c.candidate_pair.as_deref(), Some("host/udp -> relay/tcp"));
        }
        if s.name.contains("video") {
            for v in &c.video {
                let want = (s.duration.as_nanos() - setup_ns) / 33_333_334;
                assert!(
                    v.frames_decoded >= want,
                    "{} -> {}: {} video frames decoded, expected >= {want}",
                    v.from,
                    v.to,
                    v.frames_decoded
                );
            }
        }
        for st in &c.streams {
            assert!(
                st.packets_received >= min_packets,
                "{} -> {}: {} packets received, expected >= {min_packets}",
                st.from,
                st.to,
                st.packets_received
            );
        }
    }
    r
}

fn call(c: &mut Criterion) {
    let mut group = c.benchmark_group("call");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(12));
    let base = options();
    let pcap_dir = tempfile::tempdir().expect("a temporary folder for the capture");
    let mut lines = Vec::new();
    for (id, media, decode, pcap) in [
        ("replay", "replay", true, false),
        ("replay-pcap", "replay", true, true),
        ("replay-turn-tcp", "replay", true, false),
        ("live", "live", true, false),
        ("no-decode", "replay", false, false),
        ("replay-video", "replay", true, false),
        ("replay-video-decode", "replay", true, false),
    ] {
        let opts = RunOptions {
            pcap: pcap.then(|| pcap_dir.path().join("bench-call")),
            ..base.clone()
        };
        let opts = &opts;
        let s = scenario(id, media, decode, 1, CALL_S);
        if media == "replay" {
            // The clip cache is empty on the first replay run: time that run on its own.
            let t = Instant::now();
            run_checked(&s, opts);
            if id == "replay" {
                eprintln!(
                    "call/{id}: first run, with the one-off clip encode ({} frames): {:.3} s",
                    callharness::sim::CLIP_FRAMES,
                    t.elapsed().as_secs_f64()
                );
            }
        } else {
            run_checked(&s, opts);
        }
        // Every call criterion times (warm-up included), for the x-real-time figure.
        let timed: Arc<Mutex<Vec<Duration>>> = Arc::default();
        let log = timed.clone();
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut log = log.lock().expect("timing log");
                for _ in 0..iters {
                    let t = Instant::now();
                    let r = run_scenario(&s, 7, opts).expect("bench scenario runs");
                    let d = t.elapsed();
                    std::hint::black_box(r);
                    log.push(d);
                    total += d;
                }
                total
            })
        });
        let mut d = timed.lock().expect("timing log").clone();
        d.sort();
        if d.is_empty() {
            continue; // filtered out on the command line
        }
        let mean = d.iter().sum::<Duration>().as_secs_f64() / d.len().max(1) as f64;
        let median = d[d.len() / 2].as_secs_f64();
        let best = d[0].as_secs_f64();
        let line = format!(
            "call/{id}: {median:.3} s per simulated {CALL_S} s call (median of {} calls; mean \
             {mean:.3} s, best {best:.3} s) = {:.0}x real time (best {:.0}x)",
            d.len(),
            CALL_S as f64 / median,
            CALL_S as f64 / best
        );
        eprintln!("{line}");
        lines.push(line);
    }
    group.finish();
    eprintln!("\nsummary, one core:");
    for l in &lines {
        eprintln!("  {l}");
    }
}

/// A field of /proc/self/status in KiB (VmRSS, VmHWM), if the kernel has it.
fn proc_status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the kernel's peak-RSS mark (VmHWM) to the current RSS; false where unsupported.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak heap (bytes above what was live before) and peak RSS (MiB, if measured) of one run.
fn peak_of(s: &Scenario, opts: &RunOptions) -> (usize, Option<f64>, f64) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let rss_reset = reset_peak_rss();
    let t = Instant::now();
    let r = run_checked(s, opts);
    let wall = t.elapsed().as_secs_f64();
    let heap = PEAK.load(Ordering::Relaxed) - base;
    drop(r);
    let hwm = if rss_reset {
        proc_status_kib("VmHWM:").map(|k| k as f64 / 1024.0)
    } else {
        None
    };
    (heap, hwm, wall)
}

fn memory(_c: &mut Criterion) {
    let opts = options();
    // Warm the clip cache and the allocator with a short call, so neither counts below.
    run_checked(&scenario("memory-warm", "replay", true, 1, 2), &opts);
    let one = scenario("memory-1-call", "replay", true, 1, MEMORY_S);
    let many = scenario("memory-100-calls", "replay", true, MEMORY_CALLS, MEMORY_S);
    let (heap1, _, _) = peak_of(&one, &opts);
    let rss_before = proc_status_kib("VmRSS:").map(|k| k as f64 / 1024.0);
    let (heap, hwm, wall) = peak_of(&many, &opts);
    let n = MEMORY_CALLS as f64;
    eprintln!(
        "call/memory-100-calls: {MEMORY_CALLS} calls active at once for {MEMORY_S} s \
         (replay, decoded) in {wall:.2} s wall = {:.3} s per call-minute, {:.0}x real time \
         in aggregate (simulated call-seconds per wall second)",
        wall / n * 60.0 / MEMORY_S as f64,
        n * MEMORY_S as f64 / wall
    );
    eprintln!(
        "call/memory-100-calls: peak heap {:.1} MiB = {:.2} MiB per active call (goal <= 2); \
         marginal {:.2} MiB per added call (1 call alone: {:.2} MiB)",
        heap as f64 / MIB,
        heap as f64 / MIB / n,
        (heap as f64 - heap1 as f64) / MIB / (n - 1.0),
        heap1 as f64 / MIB
    );
    match (hwm, rss_before) {
        (Some(hwm), Some(before)) => eprintln!(
            "call/memory-100-calls: peak RSS {hwm:.1} MiB (process RSS before the run \
             {before:.1} MiB) = {:.2} MiB per active call above it",
            (hwm - before) / n
        ),
        _ => eprintln!("call/memory-100-calls: peak RSS not measurable here (no clear_refs)"),
    }
}

/// The timed call in profiling mode, kept out of line so a profiler can select it
/// (`valgrind --tool=callgrind --toggle-collect='*profiled_calls*'`).
#[inline(never)]
fn profiled_calls(s: &Scenario, opts: &RunOptions, n: u32) {
    for _ in 0..n {
        std::hint::black_box(run_scenario(s, 7, opts).expect("bench scenario runs"));
    }
}

/// `CALL_BENCH_PROFILE=ID[:N]` (ID one of replay, replay-pcap, live, no-decode,
/// memory-100-calls): no
/// criterion; warms the clip cache, then runs ID's scenario N times (default 1) inside
/// [`profiled_calls`], for a profiler.
fn profile(spec: &str) {
    let (id, n) = spec.split_once(':').unwrap_or((spec, "1"));
    let n: u32 = n.parse().expect("CALL_BENCH_PROFILE=ID[:N], N a count");
    let (media, decode, calls, secs) = match id {
        "replay" | "replay-pcap" => ("replay", true, 1, CALL_S),
        "live" => ("live", true, 1, CALL_S),
        "no-decode" => ("replay", false, 1, CALL_S),
        "memory-100-calls" => ("replay", true, MEMORY_CALLS, MEMORY_S),
        _ => panic!(
            "CALL_BENCH_PROFILE: `{id}` is not replay, replay-pcap, live, no-decode or \
             memory-100-calls"
        ),
    };
    let pcap_dir = tempfile::tempdir().expect("a temporary folder for the capture");
    let opts = RunOptions {
        pcap: (id == "replay-pcap").then(|| pcap_dir.path().join("bench-call")),
        ..options()
    };
    run_checked(&scenario("warm", "replay", true, 1, 2), &opts);
    let s = scenario(id, media, decode, calls, secs);
    let t = Instant::now();
    profiled_calls(&s, &opts, n);
    eprintln!("call/{id}: {n} runs in {:.3} s", t.elapsed().as_secs_f64());
}

criterion_group!(benches, call, memory);

fn main() {
    match std::env::var("CALL_BENCH_PROFILE") {
        Ok(spec) => profile(&spec),
        Err(_) => {
            benches();
            Criterion::default().configure_from_args().final_summary();
        }
    }
}
