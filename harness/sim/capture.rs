//! Packet capture of a simulated run: one pcapng file per emulated host, of every datagram it
//! sent and received, for Wireshark and tshark.
//!
//! The simulation hands [`Capture::record`] each datagram twice: when a host sends it (at the
//! send time, into the sender's file, marked outbound) and when the network delivers it (at the
//! delivery time, into the receiver's file, marked inbound). A datagram the network drops is
//! therefore only in the sender's file, and the gap between a packet's two time stamps is what
//! the emulated path did to it. The addresses are the emulated ones at that moment, so a host
//! whose address changes (roaming) writes its new address from then on.
//!
//! What the files carry:
//! - media datagrams as IPv4/UDP with their real bytes: STUN, DTLS, SRTP and SRTCP (SRTP
//!   leaves the RTP header in the clear, so RTP stream analysis works on it);
//! - signaling messages as IPv4/TCP segments on port 5061, their payload the message as text
//!   (its kind, id, call, then the SDP), padded or cut to the size the emulator charged for it.
//!   Sequence numbers run per direction of a host pair; a message sent again (the signaling
//!   retransmits until acknowledged) reuses the segment of its first sending, as a TCP
//!   retransmission does, so both files agree on every segment's numbers.
//!
//! Time stamps are simulated time since the scenario started (so a capture starts at
//! 1970-01-01T00:00:00Z), in nanoseconds. Files are written through a 64 KiB buffer per host
//! as the run goes: memory does not grow with the number of packets (only a few dozen bytes per
//! signaling message, for its TCP numbers). Off (no [`crate::sim::RunOptions::pcap`]), the
//! simulation pays one branch per datagram.
//!
//! Determinism: the same scenario and seed give the same files in everything the seed decides
//! (every time stamp, address, port, length, RTP header, TCP number and signaling text), but
//! not byte for byte: bytes the WebRTC stack draws from the operating system's random
//! generator (STUN transaction IDs, the DTLS handshake's randoms, keys, signatures and
//! certificate, hence every SRTP/SRTCP payload and the checksums over them) differ per run.

use crate::agent::signaling::{Envelope, SignalBody};
use crate::net::datagram::TCP_IP_HEADERS;
use crate::net::{Datagram, HostId};
use crate::scenario::Scenario;
use crate::sim::pcapng::{self, Direction, PcapngWriter, TcpSegment};
use crate::sim::world::Wire;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};

/// Bytes buffered per host file before a write to the file system (a few hundred packets).
const WRITE_BUFFER: usize = 64 * 1024;

/// A capture that could not be written: what was being done, to which path, and why.
#[derive(Debug, thiserror::Error)]
#[error("{what} {}: {source}", path.display())]
pub struct CaptureError {
    /// What failed ("creating the capture folder", "writing the capture file", ...).
    pub what: &'static str,
    /// The folder or file.
    pub path: PathBuf,
    /// The operating system's error.
    #[source]
    pub source: io::Error,
}

/// One host's capture file.
struct HostFile {
    path: PathBuf,
    w: PcapngWriter<BufWriter<File>>,
}

/// The capture of one scenario run (see the module docs).
pub struct Capture {
    hosts: Vec<HostFile>,
    tcp: TcpStreams,
    /// The packet being written, reused (no allocation per datagram once grown).
    packet: Vec<u8>,
    /// A signaling message's text, reused.
    text: Vec<u8>,
    /// The first write error; nothing more is written after it.
    error: Option<CaptureError>,
}

impl Capture {
    /// Creates `dir` (and its parents) and one file per host in it, `<host>.pcapng` (names
    /// made safe for a file system, in host order); `comment` goes into every file's header.
    pub fn create(dir: &Path, hosts: &[&str], comment: &str) -> Result<Capture, CaptureError> {
        std::fs::create_dir_all(dir).map_err(|source| CaptureError {
            what: "creating the capture folder",
            path: dir.to_path_buf(),
            source,
        })?;
        let app = concat!("callharness ", env!("CARGO_PKG_VERSION"));
        let mut files = Vec::with_capacity(hosts.len());
        for (name, host) in host_file_names(hosts).into_iter().zip(hosts) {
            let path = dir.join(name);
            let opened = File::create(&path).and_then(|f| {
                let comment = format!("{comment}; host {host}");
                PcapngWriter::new(
                    BufWriter::with_capacity(WRITE_BUFFER, f),
                    app,
                    host,
                    &comment,
                )
            });
            let w = opened.map_err(|source| CaptureError {
                what: "creating the capture file",
                path: path.clone(),
                source,
            })?;
            files.push(HostFile { path, w });
        }
        Ok(Capture {
            hosts: files,
            tcp: TcpStreams::default(),
            packet: Vec::with_capacity(2048),
            text: Vec::new(),
            error: None,
        })
    }

    /// The capture of scenario `s` run with `seed`, in `dir`: a file per participant, named
    /// after it, each saying in its header which scenario, matrix cell and seed it is of.
    pub fn for_scenario(dir: &Path, s: &Scenario, seed: u64) -> Result<Capture, CaptureError> {
        let hosts: Vec<&str> = s
            .participants
            .iter()
            .map(|p| p.name.as_str())
            .chain([super::world::SERVICE_HOST, super::world::EDGE_HOST])
            .collect();
        let cell = if s.matrix.is_empty() {
            String::new()
        } else {
            format!(" [{}]", s.cell_label())
        };
        let comment = format!(
            "callharness scenario {}{cell}, seed {seed}; time stamps are simulated time since \
             the scenario started",
            s.name
        );
        Capture::create(dir, &hosts, &comment)
    }

    /// Writes datagram `d` into `host`'s file at `at` ns, as sent (outbound) or received.
    pub fn record(&mut self, at: u64, host: HostId, dir: Direction, d: &Datagram<Wire>) {
        if self.error.is_some() {
            return;
        }
        let Some(file) = self.hosts.get_mut(host.0 as usize) else {
            return;
        };
        match &d.payload {
            Wire::Media(bytes) => pcapng::ipv4_udp(&mut self.packet, d.src, d.dst, bytes),
            Wire::Tcp(packet) => {
                pcapng::ipv4_tcp_as_carried(&mut self.packet, d.src, d.dst, packet)
            }
            Wire::Signal { leg: n, env, .. }
            | Wire::Account {
                participant: n,
                env,
                ..
            } => {
                let len = d.size.saturating_sub(TCP_IP_HEADERS) as usize;
                let account = matches!(d.payload, Wire::Account { .. });
                signal_text(&mut self.text, env, (account, *n), len);
                let key = SegmentKey {
                    src: d.src,
                    dst: d.dst,
                    account,
                    channel: *n,
                    message: message_key(env),
                };
                let seg = self.tcp.segment(key, len as u32);
                pcapng::ipv4_tcp(&mut self.packet, d.src, d.dst, seg, &self.text);
            }
        }
        if let Err(source) = file.w.packet(at, dir, &self.packet) {
            self.error = Some(CaptureError {
                what: "writing the capture file",
                path: file.path.clone(),
                source,
            });
        }
    }

    /// Flushes every file; returns their paths, or the first error met while writing.
    pub fn finish(self) -> Result<Vec<PathBuf>, CaptureError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut paths = Vec::with_capacity(self.hosts.len());
        for h in self.hosts {
            h.w.finish().map_err(|source| CaptureError {
                what: "writing the capture file",
                path: h.path.clone(),
                source,
            })?;
            paths.push(h.path);
        }
        Ok(paths)
    }
}

/// Which message a segment carries: (is an acknowledgement, message id or acknowledged id).
type MessageKey = (bool, u32);

fn message_key(env: &Envelope) -> MessageKey {
    match env.body {
        SignalBody::Ack(id) => (true, id),
        _ => (false, env.id),
    }
}

/// A signaling segment's identity: the same message of the same call between the same
/// addresses is the same segment, however often it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct SegmentKey {
    src: SocketAddrV4,
    dst: SocketAddrV4,
    /// An account's channel (else a call leg's), and its index.
    account: bool,
    channel: usize,
    message: MessageKey,
}

/// TCP numbering of the signaling connections: the next sequence number per direction of an
/// address pair, and the numbers given to each message when it was first sent.
#[derive(Default)]
struct TcpStreams {
    next: BTreeMap<(SocketAddrV4, SocketAddrV4), u32>,
    segments: BTreeMap<SegmentKey, TcpSegment>,
}

impl TcpStreams {
    /// The segment for `key` (`len` payload bytes): the one it had, else the next in its
    /// direction, acknowledging everything the other direction has sent so far.
    fn segment(&mut self, key: SegmentKey, len: u32) -> TcpSegment {
        if let Some(s) = self.segments.get(&key) {
            return *s;
        }
        let ack = self.next_seq(key.dst, key.src);
        let next = self
            .next
            .entry((key.src, key.dst))
            .or_insert(isn(key.src, key.dst));
        let seg = TcpSegment {
            seq: *next,
            ack,
            flags: pcapng::TCP_ACK | pcapng::TCP_PSH,
        };
        *next = next.wrapping_add(len);
        self.segments.insert(key, seg);
        seg
    }

    fn next_seq(&self, src: SocketAddrV4, dst: SocketAddrV4) -> u32 {
        self.next
            .get(&(src, dst))
            .copied()
            .unwrap_or_else(|| isn(src, dst))
    }
}

/// A connection direction's initial sequence number: fixed for its addresses.
fn isn(src: SocketAddrV4, dst: SocketAddrV4) -> u32 {
    crate::net::rng::link_seed(0, &format!("tcp {src} {dst}")) as u32
}

/// Writes a signaling message as text into `out`, exactly `len` bytes: a request-like line,
/// `Content-Length`, a `Pad` header filling the framing allowance, a blank line, the body.
pub(crate) fn signal_text(
    out: &mut Vec<u8>,
    env: &Envelope,
    (account, n): (bool, usize),
    len: usize,
) {
    let status;
    let (kind, id, body) = match &env.body {
        SignalBody::Offer(s) => ("OFFER", env.id, s.as_str()),
        SignalBody::Answer(s) => ("ANSWER", env.id, s.as_str()),
        SignalBody::Decline(s) => ("DECLINE", env.id, s.as_str()),
        SignalBody::Hangup => ("HANGUP", env.id, ""),
        SignalBody::Ack(n) => ("ACK", *n, ""),
        SignalBody::Request(_, r) => (request_kind(r), env.id, ""),
        SignalBody::Response(_, r) | SignalBody::Refused(r) => {
            status = r.code.to_string();
            ("STATUS", env.id, status.as_str())
        }
        SignalBody::Notice(_) => ("NOTIFY", env.id, ""),
    };
    out.clear();
    let channel = if account { "account" } else { "leg" };
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "{kind} id={id} {channel}={n}\r\nContent-Length: {}\r\n",
        body.len()
    );
    let tail = 2 + body.len();
    const PAD_LINE: usize = "Pad: \r\n".len();
    if out.len() + PAD_LINE + tail <= len {
        let pad = len - out.len() - PAD_LINE - tail;
        out.extend_from_slice(b"Pad: ");
        out.resize(out.len() + pad, b'.');
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
    out.resize(len, b' ');
}

/// The request line's method for a service request.
fn request_kind(r: &crate::service::Request) -> &'static str {
    use crate::service::Request;
    match r {
        Request::SignIn { .. } | Request::Refresh { .. } => "REGISTER",
        Request::SignOut { .. } => "UNREGISTER",
        Request::Invite { .. } => "INVITE",
        Request::Message { .. } => "MESSAGE",
        Request::Publish { .. } => "PUBLISH",
        Request::Subscribe { .. } | Request::Unsubscribe { .. } => "SUBSCRIBE",
        Request::AddContact { .. }
        | Request::RemoveContact { .. }
        | Request::Block { .. }
        | Request::Unblock { .. }
        | Request::BlockAllInvites { .. } => "SERVICE",
    }
}

/// File names for hosts, in order: the name made safe, `.pcapng`; a name already taken (two
/// hosts whose names differ only in unsafe characters) gets its host index appended.
fn host_file_names(hosts: &[&str]) -> Vec<String> {
    let mut taken = BTreeSet::new();
    hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut name = format!("{}.pcapng", safe_name(h));
            if !taken.insert(name.clone()) {
                name = format!("{}-{i}.pcapng", safe_name(h));
                taken.insert(name.clone());
            }
            name
        })
        .collect()
}

/// `s` as a file or folder name: ASCII letters, digits and `-_.=,+` kept, anything else `_`,
/// no leading `.`, at most 100 characters, never empty.
pub fn safe_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.=,+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    if out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// The capture folder of each scenario run under `base`, which is created:
/// `<name>[--<matrix cell>]--seed<N>`, made safe; runs that would still share a folder (two
/// files with one scenario name, say) get `--2`, `--3`... in run order, so no run overwrites
/// another's files.
pub fn run_folders(
    base: &Path,
    scenarios: &[Scenario],
    seeds: &[u64],
) -> Result<Vec<PathBuf>, CaptureError> {
    std::fs::create_dir_all(base).map_err(|source| CaptureError {
        what: "creating the capture folder",
        path: base.to_path_buf(),
        source,
    })?;
    Ok(folder_names(scenarios, seeds)
        .into_iter()
        .map(|n| base.join(n))
        .collect())
}

/// The folder names of [`run_folders`].
fn folder_names(scenarios: &[Scenario], seeds: &[u64]) -> Vec<String> {
    let mut taken = BTreeSet::new();
    scenarios
        .iter()
        .zip(seeds)
        .map(|(s, seed)| {
            let mut stem = safe_name(&s.name);
            if !s.matrix.is_empty() {
                stem.push_str("--");
                stem.push_str(&safe_name(&s.cell_label()));
            }
            stem.push_str(&format!("--seed{seed}"));
            let mut name = stem.clone();
            let mut n = 1;
            while !taken.insert(name.clone()) {
                n += 1;
                name = format!("{stem}--{n}");
            }
            name
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(id: u32, body: SignalBody) -> Envelope {
        Envelope { id, body }
    }

    #[test]
    fn signal_text_is_readable_and_exactly_the_charged_size() {
        let offer = env(
            1,
            SignalBody::Offer("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n".into()),
        );
        let len = offer.wire_size() as usize;
        let mut t = Vec::new();
        signal_text(&mut t, &offer, (false, 3), len);
        let s = String::from_utf8(t.clone()).unwrap();
        assert_eq!(t.len(), len);
        assert!(
            s.starts_with("OFFER id=1 leg=3\r\nContent-Length: 29\r\nPad: ."),
            "{s}"
        );
        assert!(
            s.ends_with("\r\n\r\nv=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"),
            "{s}"
        );
        let ack = env(0, SignalBody::Ack(7));
        signal_text(&mut t, &ack, (true, 0), ack.wire_size() as usize);
        assert_eq!(t.len(), 100);
        assert!(t.starts_with(b"ACK id=7 account=0\r\n"));
        // Too little room: cut to the size, never longer.
        signal_text(&mut t, &offer, (false, 3), 10);
        assert_eq!(t, b"OFFER id=1");
    }

    #[test]
    fn tcp_numbering_runs_per_direction_and_reuses_a_resent_message() {
        let (a, b): (SocketAddrV4, SocketAddrV4) = (
            "10.0.0.1:5061".parse().unwrap(),
            "10.0.0.2:5061".parse().unwrap(),
        );
        let key = |src, dst, account, message| SegmentKey {
            src,
            dst,
            account,
            channel: 0,
            message,
        };
        let mut t = TcpStreams::default();
        let offer = t.segment(key(a, b, false, (false, 1)), 300);
        let again = t.segment(key(a, b, false, (false, 1)), 300);
        assert_eq!(offer, again, "a retransmission keeps its numbers");
        let ack = t.segment(key(b, a, true, (true, 1)), 100);
        assert_eq!(ack.ack, offer.seq.wrapping_add(300), "acks what a sent");
        let answer = t.segment(key(b, a, true, (false, 1)), 400);
        assert_eq!(answer.seq, ack.seq.wrapping_add(100));
        let hangup = t.segment(key(a, b, false, (false, 2)), 100);
        assert_eq!(hangup.seq, offer.seq.wrapping_add(300));
        assert_eq!(hangup.ack, answer.seq.wrapping_add(400));
    }

    #[test]
    fn names_are_safe_and_never_collide() {
        assert_eq!(safe_name("lossy wifi/call"), "lossy_wifi_call");
        assert_eq!(safe_name("../x"), "_._x");
        assert_eq!(safe_name(""), "_");
        assert_eq!(safe_name(&"a".repeat(300)).len(), 100);
        assert_eq!(
            host_file_names(&["alice", "bob", "a/b", "a_b"]),
            ["alice.pcapng", "bob.pcapng", "a_b.pcapng", "a_b-3.pcapng"]
        );
    }

    #[test]
    fn run_folders_keep_name_cell_and_seed_apart() {
        let yaml = |name: &str, matrix: &str| {
            format!(
                "name: {name}\nduration: 5s\n{matrix}participants:\n  \
                 a: {{ network: clean }}\n  b: {{ network: clean }}\n\
                 calls:\n  - {{ caller: a, callee: b, at: 0s, expect: connected }}\n"
            )
        };
        let profiles = [Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/profiles")];
        let load = |text: String| crate::scenario::load_str(&text, Path::new("x.yaml"), &profiles);
        let mut all = load(yaml("my call", "matrix: { seed: [1, 2] }\n")).unwrap();
        all.extend(load(yaml("my call", "")).unwrap());
        all.extend(load(yaml("my call", "")).unwrap());
        let seeds = [1, 2, 1, 1];
        assert_eq!(
            folder_names(&all, &seeds),
            [
                "my_call--seed=1--seed1",
                "my_call--seed=2--seed2",
                "my_call--seed1",
                "my_call--seed1--2"
            ]
        );
    }

    #[test]
    fn a_folder_that_cannot_be_created_is_named_in_the_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("not-a-folder");
        std::fs::write(&file, b"x").unwrap();
        let dir = file.join("run");
        let e = Capture::create(&dir, &["alice"], "").err().unwrap();
        let msg = e.to_string();
        assert!(msg.starts_with("creating the capture folder "), "{msg}");
        assert!(msg.contains(&dir.display().to_string()), "{msg}");
    }
}
