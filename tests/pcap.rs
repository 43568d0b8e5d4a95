//! `callharness run --pcap DIR` checked by a tool nobody here wrote: tshark (Wireshark) reads
//! the captures of a lossy call and a jittery call, and its RTP stream analysis must agree with
//! the run's `report.json`.
//!
//! tshark is required: `scripts/install-deps.sh` installs it (Debian package `tshark`), and a
//! test that needs it fails with that advice when it is missing, rather than passing without
//! checking anything. `CALLHARNESS_NO_TSHARK=1` skips those tests on purpose (a machine that
//! cannot install it); the tests without tshark still run.
//!
//! The calls run until the scenario ends (no hang-up), so every packet a host received was
//! handed to its receiver statistics: a leg that hangs up ignores what still arrives, which
//! the capture would show and the statistics would not. The profiles duplicate nothing and
//! never reorder, so tshark's counts (which count a duplicate as received, and take "lost" as
//! last minus first sequence number plus one, minus received) mean the same as RFC 3550's.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The lossy call: alice's access link drops 5 % each way at random.
const LOSSY: &str = "name: lossy call\nduration: 20s\nseed: 3\nparticipants:\n  \
    alice: { network: lossy-5pct }\n  bob: { network: wired-lan }\n\
    calls:\n  - { caller: alice, callee: bob, at: 1s, expect: connected }\n";

/// The jittery call: 20 ms each way with 8 ms normal jitter on alice's link, no reordering.
const JITTERY: &str = "name: jittery call\nduration: 20s\nseed: 4\nparticipants:\n  \
    alice:\n    network: wired-lan\n    \
    overrides: { both: { delay: 20ms, jitter: { amount: 8ms, distribution: normal } } }\n  \
    bob: { network: wired-lan }\n\
    calls:\n  - { caller: alice, callee: bob, at: 1s, expect: connected }\n";

/// A call in which alice's address changes at 8 s (she restarts ICE from the new one).
const ROAMING: &str = "name: roaming call\nduration: 15s\nseed: 5\nparticipants:\n  \
    alice: { network: wired-lan, ice_restart: true }\n  bob: { network: wired-lan }\n\
    calls:\n  - { caller: alice, callee: bob, at: 1s, expect: connected }\n\
    timeline:\n  - { at: 8s, participant: alice, address_change: true }\n";

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("creating a temporary folder")
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Writes the scenarios into `dir` and runs them with `--pcap dir/pcap` and `extra` arguments;
/// returns the report.
fn run_with_capture(dir: &Path, scenarios: &[(&str, &str)], extra: &[&str]) -> Value {
    let files = dir.join("scenarios");
    fs::create_dir_all(&files).expect("creating the scenario folder");
    for (name, text) in scenarios {
        fs::write(files.join(format!("{name}.yaml")), text).expect("writing a scenario");
    }
    let (out, pcap) = (dir.join("out"), dir.join("pcap"));
    let mut args = vec!["run", path_str(&files), "--quiet", "--format", "json"];
    args.extend(["--out", path_str(&out), "--pcap", path_str(&pcap)]);
    args.extend(extra);
    let o = callharness(&args);
    assert_eq!(o.status.code(), Some(0), "run failed\n{}", text(&o));
    let t = fs::read_to_string(out.join("report.json")).expect("reading report.json");
    serde_json::from_str(&t).expect("report.json is JSON")
}

fn callharness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_callharness"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("starting callharness {args:?}: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// True when the tshark tests should run; panics with what to do when tshark is missing.
fn tshark_wanted() -> bool {
    if std::env::var_os("CALLHARNESS_NO_TSHARK").is_some_and(|v| v == "1") {
        eprintln!("CALLHARNESS_NO_TSHARK=1: not checking the captures with tshark");
        return false;
    }
    match Command::new("tshark").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        _ => panic!(
            "tshark is not installed, so the packet captures cannot be checked: run \
             scripts/install-deps.sh (it runs `apt-get install -y tshark`), or set \
             CALLHARNESS_NO_TSHARK=1 to skip this check on purpose"
        ),
    }
}

/// Runs tshark on `file` with `args` and returns its standard output.
fn tshark(file: &Path, args: &[&str]) -> String {
    let o = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["--enable-heuristic", "rtp_udp"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("starting tshark: {e}"));
    assert!(
        o.status.success(),
        "tshark -r {} {args:?}\n{}",
        file.display(),
        text(&o)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// One row of tshark's `-z rtp,streams` table.
#[derive(Debug, Clone)]
struct TsharkStream {
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ssrc: String,
    packets: u64,
    lost: i64,
}

/// tshark's RTP stream analysis of a capture, one row per stream.
fn rtp_streams(file: &Path) -> Vec<TsharkStream> {
    let out = tshark(file, &["-q", "-z", "rtp,streams"]);
    // Start, end, src, port, dst, port, SSRC, payload, packets, lost, (lost %), deltas...
    out.lines()
        .map(str::split_whitespace)
        .map(Iterator::collect::<Vec<_>>)
        .filter(|t| t.len() >= 11 && t[6].starts_with("0x"))
        .map(|t| TsharkStream {
            src: t[2].parse().expect("a source address"),
            dst: t[4].parse().expect("a destination address"),
            ssrc: t[6].to_ascii_lowercase(),
            packets: t[8].parse().expect("a packet count"),
            lost: t[9].parse().expect("a lost count"),
        })
        .collect()
}

/// The RTP packets with `ssrc` from `src` in `file`, as tshark decodes them: (capture time
/// ns, extended sequence number, RTP timestamp), in capture order.
///
/// The jitter is computed from these by [`rfc3550_jitter_ms`]. Why not tshark's own jitter columns: tshark only computes jitter when it knows the payload
/// type's clock rate. For a dynamic type such as Opus's 111 it learns that from an SDP that
/// sets up the RTP conversation, and a WebRTC SDP names `c=IN IP4 0.0.0.0` and port 9 (the
/// addresses are in ICE candidates, which Wireshark does not follow), so none is set up;
/// Wireshark 4.0 (Debian 12) also has no fallback clock rate for "opus". It then prints -1 /
/// 0 / 0 as min / mean / max jitter. So the test takes what tshark decoded (arrival times and
/// timestamps) and applies the RFC's estimator, which is the report's `jitter_ms` definition:
/// this checks that the capture's time stamps are the arrival times the receiver measured and
/// that the receiver computes the RFC's estimate, with nothing of ours reading the capture.
fn rtp_packets(file: &Path, src: Ipv4Addr, ssrc: &str) -> Vec<(u64, u64, u32)> {
    let filter = format!("rtp.ssrc == {ssrc} && ip.src == {src}");
    let fields = [
        "-T",
        "fields",
        "-E",
        "separator=,",
        "-e",
        "frame.time_epoch",
        "-e",
        "rtp.seq",
        "-e",
        "rtp.timestamp",
    ];
    let out = tshark(file, &[&["-Y", &filter], &fields[..]].concat());
    let mut last: Option<u64> = None;
    out.lines()
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let seq: u16 = f[1].parse().expect("an RTP sequence number");
            // Extend the 16-bit sequence number (RFC 3550 A.1): the nearest value to the last.
            let ext = match last {
                None => u64::from(seq),
                Some(l) => {
                    let base = l & !0xffff;
                    [base.wrapping_sub(0x10000), base, base + 0x10000]
                        .into_iter()
                        .map(|b| b.wrapping_add(u64::from(seq)))
                        .min_by_key(|c| c.abs_diff(l))
                        .unwrap_or(u64::from(seq))
                }
            };
            last = Some(ext);
            (epoch_ns(f[0]), ext, f[2].parse().expect("an RTP timestamp"))
        })
        .collect()
}

/// The RFC 3550 (A.8) interarrival jitter estimate at the end of `packets` (arrival ns, _,
/// RTP timestamp, in arrival order), ms at Opus's 48 kHz clock.
fn rfc3550_jitter_ms(packets: &[(u64, u64, u32)]) -> f64 {
    let (mut j, mut prev) = (0.0f64, None::<(u64, u32)>);
    for &(arrival, _, ts) in packets {
        if let Some((pa, pts)) = prev {
            let d_arrival = (arrival as f64 - pa as f64) * 48_000.0 / 1e9;
            let d = (d_arrival - f64::from(ts.wrapping_sub(pts) as i32)).abs();
            j += (d - j) / 16.0;
        }
        prev = Some((arrival, ts));
    }
    j * 1000.0 / 48_000.0
}

/// `frame.time_epoch` ("12.345678901") in ns.
fn epoch_ns(t: &str) -> u64 {
    let (s, frac) = t.split_once('.').unwrap_or((t, "0"));
    let frac = format!("{frac:0<9}");
    s.parse::<u64>().expect("seconds") * 1_000_000_000 + frac[..9].parse::<u64>().expect("ns")
}

/// How many packets of `file` tshark decodes as each of STUN, DTLS.
fn stun_dtls(file: &Path) -> (usize, usize) {
    let out = tshark(
        file,
        &["-T", "fields", "-E", "separator=,", "-e", "stun.type"],
    );
    let stun = out.lines().filter(|l| !l.is_empty()).count();
    let out = tshark(
        file,
        &[
            "-Y",
            "dtls.record.content_type",
            "-T",
            "fields",
            "-e",
            "frame.number",
        ],
    );
    (stun, out.lines().filter(|l| !l.is_empty()).count())
}

fn num(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no number `{key}` in {v}"))
}

/// The folder of one scenario's capture, which must hold exactly `alice`, `bob` and the
/// calling service's host.
fn capture_folder(pcap: &Path, folder: &str) -> PathBuf {
    let dir = pcap.join(folder);
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| {
            e.expect("a folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "alice.pcapng",
            "bob.pcapng",
            "edge.pcapng",
            "service.pcapng"
        ],
        "in {}",
        dir.display()
    );
    dir
}

#[test]
fn tshark_rtp_analysis_of_each_receivers_capture_matches_the_report() {
    if !tshark_wanted() {
        return;
    }
    let tmp = tempdir();
    let report = run_with_capture(tmp.path(), &[("lossy", LOSSY), ("jittery", JITTERY)], &[]);
    let addr = |name: &str| callharness::sim::world::participant_addr(usize::from(name == "bob"));
    let mut checked = BTreeMap::new();
    for s in report["scenarios"].as_array().expect("scenarios") {
        let name = s["name"].as_str().expect("a name");
        let dir = capture_folder(
            &tmp.path().join("pcap"),
            &format!("{}--seed{}", name.replace(' ', "_"), s["seed"]),
        );
        for st in s["calls"][0]["streams"].as_array().expect("streams") {
            let (from, to) = (
                st["from"].as_str().expect("from"),
                st["to"].as_str().expect("to"),
            );
            let what = format!("{name}: {from} -> {to}");
            let (rx_file, tx_file) = (
                dir.join(format!("{to}.pcapng")),
                dir.join(format!("{from}.pcapng")),
            );
            let find = |file: &Path| {
                let rows = rtp_streams(file);
                let row = rows
                    .iter()
                    .find(|r| (r.src, r.dst) == (addr(from), addr(to)));
                row.cloned().unwrap_or_else(|| {
                    panic!("{what}: no RTP stream in {}: {rows:?}", file.display())
                })
            };
            // The receiver's capture holds what arrived: every RTP packet, the report's
            // arrivals. The report counts as received and lost only the range it could read
            // (from the first packet after its DTLS handshake finished): its last `expected`
            // sequence numbers, and within them the capture must agree exactly.
            let rx = find(&rx_file);
            let packets = rtp_packets(&rx_file, addr(from), &rx.ssrc);
            assert_eq!(
                packets.len() as u64,
                rx.packets,
                "{what}: per-packet decode"
            );
            assert_eq!(
                rx.packets,
                st["extra"]["arrivals"].as_f64().expect("arrivals") as u64,
                "{what}: packets that arrived"
            );
            let expected = num(st, "packets_received") as i64 + num(st, "lost") as i64;
            let highest = packets.iter().map(|p| p.1).max().expect("packets");
            let first = highest + 1 - expected as u64;
            let readable: Vec<(u64, u64, u32)> =
                packets.iter().copied().filter(|p| p.1 >= first).collect();
            let mut seqs: Vec<u64> = readable.iter().map(|p| p.1).collect();
            seqs.sort_unstable();
            seqs.dedup();
            assert_eq!(
                seqs.len() as u64,
                num(st, "packets_received") as u64,
                "{what}: packets received"
            );
            assert_eq!(
                expected - seqs.len() as i64,
                num(st, "lost") as i64,
                "{what}: lost"
            );
            // The sender's holds what was sent, the network's drops included.
            let tx = find(&tx_file);
            assert_eq!(tx.ssrc, rx.ssrc, "{what}: one stream in both files");
            assert_eq!(
                tx.packets,
                num(st, "packets_sent") as u64,
                "{what}: packets sent"
            );
            assert_eq!(tx.lost, 0, "{what}: the sender's copy has no gap");
            let jitter = rfc3550_jitter_ms(&readable);
            let want = num(st, "jitter_ms");
            assert!(
                (jitter - want).abs() <= 0.01 * want.max(0.01),
                "{what}: jitter from tshark's decode {jitter:.4} ms, report {want:.4} ms"
            );
            let lost_seen = expected - seqs.len() as i64;
            checked.insert(what, (tx.packets - rx.packets, lost_seen, want));
        }
    }
    // What was compared must be what these calls are about, or the comparisons prove little.
    assert_eq!(checked.len(), 4, "{checked:?}");
    let lossy = checked["lossy call: alice -> bob"];
    assert!(
        lossy.0 > 20 && lossy.1 > 20,
        "the lossy call lost packets (sent - received, lost): {lossy:?}"
    );
    let jittery = checked["jittery call: alice -> bob"];
    assert!(jittery.2 > 3.0, "the jittery call has jitter: {jittery:?}");
}

#[test]
fn tshark_decodes_stun_dtls_and_signaling_and_a_roaming_hosts_new_address() {
    if !tshark_wanted() {
        return;
    }
    let tmp = tempdir();
    run_with_capture(tmp.path(), &[("roaming", ROAMING), ("lossy", LOSSY)], &[]);
    for folder in ["roaming_call--seed5", "lossy_call--seed3"] {
        let dir = capture_folder(&tmp.path().join("pcap"), folder);
        for host in ["alice", "bob"] {
            let file = dir.join(format!("{host}.pcapng"));
            let (stun, dtls) = stun_dtls(&file);
            assert!(
                stun > 4 && dtls >= 4,
                "{folder}/{host}: {stun} STUN, {dtls} DTLS packets"
            );
            // Signaling: one TCP stream to the service host, whose text carries the sign-in
            // and then the SDP offer.
            let sdp = tshark(&file, &["-q", "-z", "follow,tcp,ascii,0"]);
            assert!(
                sdp.contains("REGISTER id=1 account=")
                    && sdp.contains("OFFER id=1 leg=")
                    && sdp.contains("a=rtpmap:111 opus/48000/2"),
                "{folder}/{host}: signaling\n{sdp}"
            );
        }
        // The service took the offer from alice (leg 0) and relayed it to bob (leg 1).
        let file = dir.join("service.pcapng");
        let conv = tshark(&file, &["-q", "-z", "conv,tcp"]);
        assert!(
            conv.contains("10.254.0.1:5061") || conv.contains("10.254.0.1:sip-tls"),
            "{folder}/service: {conv}"
        );
        let both = tshark(&file, &["-q", "-z", "follow,tcp,ascii,0"])
            + &tshark(&file, &["-q", "-z", "follow,tcp,ascii,1"]);
        assert!(
            both.contains("OFFER id=1 leg=0") && both.contains("OFFER id=1 leg=1"),
            "{folder}/service: signaling\n{both}"
        );
    }
    // Alice moves from 10.0.0.1 to the next free address, 10.0.0.3: her file shows her sending
    // from both, and bob's shows packets arriving from the new one.
    let dir = tmp.path().join("pcap/roaming_call--seed5");
    let sources = |file: &str, filter: &str| -> Vec<String> {
        let out = tshark(
            &dir.join(file),
            &["-Y", filter, "-T", "fields", "-e", "ip.src"],
        );
        let mut v: Vec<String> = out.lines().map(str::to_owned).collect();
        v.dedup();
        v
    };
    let alice_out = sources("alice.pcapng", "frame.packet_flags_direction == 2");
    assert_eq!(alice_out.first().map(String::as_str), Some("10.0.0.1"));
    assert!(
        alice_out.iter().any(|a| a == "10.0.0.3"),
        "alice sends from her new address: {alice_out:?}"
    );
    let bob_in = sources("bob.pcapng", "frame.packet_flags_direction == 1 && udp");
    assert!(
        bob_in.iter().any(|a| a == "10.0.0.3"),
        "bob receives from it: {bob_in:?}"
    );
}

/// Every file under `dir`, relative path and bytes.
fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for sub in fs::read_dir(dir).expect("reading the capture folder") {
        let sub = sub.expect("a folder entry").path();
        for f in fs::read_dir(&sub).expect("reading a run folder") {
            let f = f.expect("a folder entry").path();
            let rel = f
                .strip_prefix(dir)
                .expect("under dir")
                .display()
                .to_string();
            out.insert(rel, fs::read(&f).expect("reading a capture"));
        }
    }
    out
}

/// A capture as the seed decides it, read with a minimal pcapng walk (so this runs without
/// tshark): the section and interface blocks byte for byte, then per packet its time stamp,
/// direction flags, length, addresses, protocol, ports, TCP numbers, and the RTP header (PT,
/// sequence number, timestamp, SSRC) of RTP packets or the clear text of signaling with its
/// certificate fingerprint line left out.
///
/// Left out: bytes the WebRTC stack draws from the operating system's random generator rather
/// than from the seed: STUN transaction IDs (rtc 0.21 takes them from `rand::rng()`), the DTLS
/// handshake's randoms, keys and signatures and the certificate (ring's `SystemRandom`), so
/// every SRTP/SRTCP payload, and the checksums and IP identifications computed over them.
/// Their sizes are fixed, which is why reports repeat exactly; the bytes do not.
fn seeded_view(file: &[u8]) -> Vec<String> {
    let u32_at =
        |at: usize| u32::from_le_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]);
    let (mut at, mut view) = (0, Vec::new());
    while at < file.len() {
        let (kind, len) = (u32_at(at), u32_at(at + 4) as usize);
        let block = &file[at..at + len];
        if kind != 6 {
            view.push(format!("block {kind:#x} {block:?}"));
        } else {
            let t = (u64::from(u32_at(at + 12)) << 32) | u64::from(u32_at(at + 16));
            let caplen = u32_at(at + 20) as usize;
            let p = &block[28..28 + caplen];
            let options = &block[28 + caplen.next_multiple_of(4)..];
            let (proto, l4) = (p[9], &p[20..]);
            let mut v = format!(
                "{t} {options:?} len {} {:?} {:?} proto {proto} ports {:?}",
                p.len(),
                &p[12..16],
                &p[16..20],
                &l4[..4]
            );
            let signaling = [&l4[0..2], &l4[2..4]].contains(&&5061u16.to_be_bytes()[..]);
            if proto == 6 && !signaling {
                // TURN over TCP: the segment's sequence, acknowledgement and flags repeat
                // (smoltcp's ISN is seeded); its bytes hold STUN transaction ids, which
                // turn-client-proto draws from an unseeded generator (their sizes are fixed).
                v.push_str(&format!(" tcp {:?}", &l4[4..14]));
            } else if proto == 6 {
                let text = String::from_utf8_lossy(&l4[20..]);
                let text: Vec<&str> = text
                    .lines()
                    .filter(|l| !l.starts_with("a=fingerprint:"))
                    .collect();
                v.push_str(&format!(" tcp {:?} {text:?}", &l4[4..14]));
            } else if l4.len() >= 20 && l4[8] >> 6 == 2 && l4[9] & 0x7f == 111 {
                v.push_str(&format!(" rtp {:?}", &l4[9..20]));
            }
            view.push(v);
        }
        at += len;
    }
    view
}

#[test]
fn same_seed_gives_the_same_captures_whatever_the_jobs() {
    let (a, b, c) = (tempdir(), tempdir(), tempdir());
    let both = [("lossy", LOSSY), ("jittery", JITTERY)];
    run_with_capture(a.path(), &both, &[]);
    run_with_capture(b.path(), &both, &["--jobs", "2"]);
    let (fa, fb) = (
        files_under(&a.path().join("pcap")),
        files_under(&b.path().join("pcap")),
    );
    let names: Vec<&str> = fa.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "jittery_call--seed4/alice.pcapng",
            "jittery_call--seed4/bob.pcapng",
            "jittery_call--seed4/edge.pcapng",
            "jittery_call--seed4/service.pcapng",
            "lossy_call--seed3/alice.pcapng",
            "lossy_call--seed3/bob.pcapng",
            "lossy_call--seed3/edge.pcapng",
            "lossy_call--seed3/service.pcapng"
        ]
    );
    for (name, bytes) in &fa {
        let (va, vb) = (seeded_view(bytes), seeded_view(&fb[name]));
        // A participant's file holds the call's media; the service's only signaling, the
        // edge's the relay allocations (and the ICE checks to them).
        let least = if name.ends_with("service.pcapng") || name.ends_with("edge.pcapng") {
            10
        } else {
            1500
        };
        assert!(va.len() > least, "{name}: {} blocks", va.len());
        assert_eq!(va.len(), vb.len(), "{name}: as many blocks in both runs");
        if let Some(i) = (0..va.len()).find(|&i| va[i] != vb[i]) {
            panic!(
                "{name}: block {i} differs between two runs with one seed:\n{}\n{}",
                va[i], vb[i]
            );
        }
        assert_eq!(bytes.len(), fb[name].len(), "{name}: file sizes");
    }
    // Another seed is another run: other folders, other packets.
    run_with_capture(c.path(), &both, &["--seed", "9"]);
    let fc = files_under(&c.path().join("pcap"));
    let other = fc
        .get("lossy_call--seed9/alice.pcapng")
        .expect("the seed names the folder");
    assert_ne!(
        seeded_view(other)[2..],
        seeded_view(&fa["lossy_call--seed3/alice.pcapng"])[2..]
    );
}

#[test]
fn a_pcap_folder_that_cannot_be_created_is_bad_input_naming_it() {
    let tmp = tempdir();
    let file = tmp.path().join("a-file");
    fs::write(&file, "not a folder").expect("writing a file");
    let bad = file.join("pcap");
    let o = callharness(&[
        "run",
        "scenarios/examples",
        "--out",
        path_str(&tmp.path().join("out")),
        "--pcap",
        path_str(&bad),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(path_str(&bad)) && err.contains("creating the capture folder"),
        "{err}"
    );
}
