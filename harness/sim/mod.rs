//! The simulation mode: a single-threaded discrete-event loop in simulated time.
//!
//! [`run_scenario`] builds the world of a scenario (the emulated network, one call agent per side
//! of each call), then repeatedly jumps the virtual clock to the earliest pending event (a
//! delivery out of the emulator, an agent's timer or media tick, a call starting or hanging up)
//! and handles it. No OS threads, no wall clock, no async executor: a run is exact for a seed,
//! and runs as fast as the work in it allows.
//!
//! ```no_run
//! use callharness::sim::{run_scenario, RunOptions};
//! # fn demo(scenario: &callharness::scenario::Scenario) {
//! let report = run_scenario(scenario, 7, &RunOptions::default()).unwrap();
//! println!("{}: {:?}", report.name, report.verdict);
//! # }
//! ```

pub mod capture;
mod cross_tcp;
pub mod edge;
mod fault;
mod links;
pub mod measure;
mod measure_service;
mod measure_video;
pub mod pcapng;
mod service_host;
mod service_world;
mod signal_conn;
mod streams;
pub mod tunnel;
mod video;
pub mod world;

use crate::agent::account::Account;
use crate::agent::media::{EncodedClip, OpusConfig};
use crate::agent::relay::unwrap_turn;
use crate::agent::{rtp_sequence, CallLeg, Role, Transmit};
use crate::metrics::one_way::OneWayDelay;
use crate::net::{Datagram, DeliveryKind, HostId, NetEvent, Network};
use crate::report::model::ScenarioReport;
use crate::scenario::{MediaMode, Scenario};
use bytes::BytesMut;
use service_host::ServiceHost;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use world::Wire;

/// The TCP port signaling uses (SIP over TLS).
pub const SIGNALING_PORT: u16 = 5061;
/// Length of the replayed clip, ms: 30 s of audio, cycled (1500 frames of 20 ms).
pub const CLIP_MS: u32 = 30_000;
/// Frames in the replayed clip at the default 20 ms frame (other frames: [`world::clip_frames`]).
pub const CLIP_FRAMES: usize = (CLIP_MS / 20) as usize;

/// Encoded clips shared by the scenarios of one run, keyed by what was captured (the speech
/// source's seed, or a dead microphone's silence) and the encoder settings.
pub type ClipCache = Arc<std::sync::Mutex<BTreeMap<(ClipSignal, OpusConfig), Arc<EncodedClip>>>>;

/// What a cached clip holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ClipSignal {
    /// The speech source for this seed.
    Speech(u64),
    /// Digital silence (a dead microphone, DEV-MIC-DEAD).
    Silence,
}

/// How a run is controlled from outside: trace folders, a stop flag, progress counters.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Folders to look for capacity traces in.
    pub trace_dirs: Vec<PathBuf>,
    /// Set to stop the run early; what was measured is reported, marked incomplete.
    pub stop: Option<Arc<AtomicBool>>,
    /// Simulated ms reached, updated as the run goes (for progress display).
    pub progress_ms: Option<Arc<AtomicU64>>,
    /// Calls currently connected (for progress display).
    pub calls_up: Option<Arc<AtomicU64>>,
    /// Encoded clips shared between scenarios of one run (keyed by seed and settings).
    pub clips: Option<ClipCache>,
    /// Folder to write this run's packet capture to, one pcapng file per host (see
    /// [`capture`]); created if missing. None: no capture, and no cost.
    pub pcap: Option<PathBuf>,
}

/// Why a scenario could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("building the network: {0}")]
    Network(#[from] crate::net::NetError),
    #[error("setting up the call {caller} -> {callee}: {source}")]
    Agent {
        caller: String,
        callee: String,
        #[source]
        source: crate::agent::peer::PeerError,
    },
    #[error("encoding the audio clip: {0}")]
    Codec(String),
    #[error("{0}")]
    Video(String),
    #[error("packet capture: {0}")]
    Capture(#[from] capture::CaptureError),
}

/// Derives an independent seed for a named part of the world (fixed hash, stable across runs).
pub fn sub_seed(seed: u64, label: &str) -> u64 {
    crate::net::rng::link_seed(seed, label)
}

/// One call of the scenario while it runs.
pub(crate) struct CallSlot {
    pub(crate) index: usize,
    pub(crate) caller: String,
    pub(crate) callee: String,
    pub(crate) caller_host: HostId,
    pub(crate) callee_host: HostId,
    pub(crate) start: u64,
    pub(crate) hangup: u64,
    /// A call to the service's echo test service (its callee leg runs on the service host).
    pub(crate) test_call: bool,
    /// A video call.
    pub(crate) video: bool,
    /// Why the service offers this video call audio only (FED-NO-VIDEO): both legs are then
    /// built without video, and the report says why.
    pub(crate) video_unavailable: Option<String>,
    /// Leg indices (caller, callee) once started.
    pub(crate) legs: Option<(usize, usize)>,
}

/// The event loop's state.
pub(crate) struct Sim {
    pub(crate) net: Network<Wire>,
    pub(crate) legs: Vec<CallLeg>,
    pub(crate) leg_host: Vec<HostId>,
    /// Per leg: (call index, whether its messages go to the caller, the other side's host).
    pub(crate) calls: Vec<CallSlot>,
    media_route: BTreeMap<(HostId, u16), usize>,
    /// Leg by its media address, to attribute the emulator's drops to streams.
    pub(crate) leg_by_addr: BTreeMap<SocketAddrV4, usize>,
    /// Leg by the SSRC of the audio it sends (what follows a packet through a relay).
    leg_by_ssrc: BTreeMap<u32, usize>,
    timers: BinaryHeap<Reverse<(u64, usize)>>,
    scheduled: Vec<Option<u64>>,
    pub(crate) events: Vec<NetEvent>,
    /// Reused for each leg's outgoing datagrams (no allocation per datagram).
    transmit_buf: Vec<Transmit>,
    base: Instant,
    seed: u64,
    /// Replay mode: the clip of each encoder setting the participants use.
    clips: BTreeMap<OpusConfig, Arc<EncodedClip>>,
    /// Each video client's layers, by codec, configured layer, covered camera and adaptation.
    /// (Looked up only, never iterated: a hash map keeps the order of nothing.)
    video_clips: std::collections::HashMap<
        (
            crate::agent::video::VideoCodec,
            crate::agent::video::VideoLayer,
            bool,
            bool,
        ),
        Arc<crate::agent::video_rtp::ladder::VideoLadder>,
    >,
    /// Replay mode: the silent clip of each encoder setting a dead microphone uses.
    silent_clips: BTreeMap<OpusConfig, Arc<EncodedClip>>,
    receive: crate::agent::media::ReceiveConfig,
    /// Per host (participant order): the client's settings.
    clients: Vec<world::Client>,
    /// Per leg: send time of its last RTP packets, by sequence number modulo [`SENT_RING`]
    /// (`u64::MAX` once delivered), to measure each packet's one-way delay.
    sent_rtp: Vec<Box<[u64; SENT_RING]>>,
    /// Per leg: one-way delay of the RTP packets it received.
    pub(crate) one_way: Vec<OneWayDelay>,
    /// The packet capture, when asked for (`RunOptions::pcap`).
    capture: Option<capture::Capture>,
    /// Per participant (host order): its client's account with the service.
    pub(crate) accounts: Vec<Account>,
    account_scheduled: Vec<Option<u64>>,
    /// The calling service on its host.
    pub(crate) service: ServiceHost,
    /// The conferencing edge (the media relay) on its host.
    pub(crate) edge: edge::Edge,
    edge_scheduled: Option<u64>,
    /// The hosts' TCP stacks and the streams on them.
    pub(crate) streams: streams::Streams,
    /// The participants' VPN tunnels over TCP, and those with work to do now.
    pub(crate) tunnels: Vec<tunnel::Tunnel>,
    dirty_tunnels: Vec<usize>,
    /// The clients' signaling connections to the service (real TCP).
    signal: signal_conn::SignalConns,
    /// Accounts and legs a signaling connection gave work to, to run after the stacks.
    touched_accounts: Vec<usize>,
    touched_legs: Vec<usize>,
    /// The TCP cross-traffic flows and their hidden hosts.
    cross_tcp: cross_tcp::CrossTcp,
    /// Per participant (host order): its machine's socket layer, and what it lost: datagrams
    /// that could not be sent, and that arrived but never reached the client.
    pub(crate) socket: Vec<(crate::scenario::raw::SocketLayer, u64, u64)>,
    /// Per participant (host order): its machine's microphone and speaker.
    pub(crate) devices: Vec<crate::scenario::raw_devices::Devices>,
    service_scheduled: Option<u64>,
    /// Calls placed while their caller was still signing in, waiting for it.
    waiting_calls: Vec<usize>,
    /// The service's parts going down and up: (time, up), in time order.
    service_changes: Vec<(u64, bool)>,
    /// Per participant: the address its client registered from, where the service reaches it
    /// with anything new (a client that moved is unreachable there until it registers again).
    contact: Vec<std::net::Ipv4Addr>,
    /// Per leg: the address its last message to the service came from, where the service
    /// answers it (as a SIP proxy answers over the connection a request came on).
    leg_src: Vec<Option<std::net::Ipv4Addr>>,
    /// The timeline's IMs and presence looks: (time, index into `Scenario::service_checks`).
    checks: Vec<(u64, usize)>,
    /// What each presence look saw: (check index, time, view).
    pub(crate) looks: Vec<(usize, u64, crate::service::PresenceView)>,
    /// Per participant: since when the service cannot reach it while still showing it signed
    /// in, and until when that registration lasts.
    lost: Vec<Option<(u64, u64)>>,
    /// Closed intervals of that: (participant, from, to, how it ended).
    pub(crate) presence_lags: Vec<(usize, u64, u64, &'static str)>,
    pub(crate) now: u64,
}

/// Timer keys above the legs' indices: accounts, then the service host.
const ACCOUNT_TIMER: usize = 1 << 40;
const SERVICE_TIMER: usize = 1 << 41;
const EDGE_TIMER: usize = 1 << 42;
/// A host's TCP stack (its host index in the low bits).
pub(crate) const TCP_TIMER: usize = 1 << 43;
/// A TCP cross-traffic flow (its index in the low bits).
pub(crate) const CROSS_TIMER: usize = 1 << 44;

/// Send times remembered per leg: 1024 packets, 20 s of 20 ms audio.
const SENT_RING: usize = 1024;

impl Sim {
    fn new(s: &Scenario, seed: u64, opts: &RunOptions) -> Result<Sim, SimError> {
        let mut net = world::build_network(s, sub_seed(seed, "network"), &opts.trace_dirs)?;
        net.record_drops(true);
        net.watch(fault::is_stream_packet);
        let end = s.duration.as_nanos();
        let mut calls = Vec::new();
        for (i, c) in s.calls.iter().enumerate() {
            let host = |n: &str| {
                net.host_id(n).ok_or_else(|| {
                    SimError::Network(crate::net::NetError::Topology(format!(
                        "no host named `{n}`"
                    )))
                })
            };
            let start = c.at.as_nanos();
            let hangup = c
                .duration
                .map(|d| start.saturating_add(d.as_nanos()))
                .unwrap_or(u64::MAX)
                .min(end);
            calls.push(CallSlot {
                index: i,
                caller: c.caller.clone(),
                callee: c.callee.clone(),
                caller_host: host(&c.caller)?,
                callee_host: if c.test_call {
                    host(world::SERVICE_HOST)?
                } else {
                    host(&c.callee)?
                },
                test_call: c.test_call,
                video: c.video,
                video_unavailable: c
                    .video
                    .then(|| {
                        let address = |n: &str| {
                            s.participants
                                .iter()
                                .find(|p| p.name == n)
                                .map(|p| p.account.address.clone())
                        };
                        let (a, b) = (address(&c.caller)?, address(&c.callee)?);
                        s.service.directory.video_unavailable(&a, &b)
                    })
                    .flatten(),
                start,
                hangup,
                legs: None,
            });
        }
        let clients = world::clients(s);
        let deadline = world::SIGNALING_DEADLINE_NS;
        let accounts: Vec<Account> = s
            .participants
            .iter()
            .map(|p| {
                Account::new(
                    &p.account.address,
                    &p.account.password,
                    p.account.client,
                    deadline,
                )
                .refreshing_every(s.service.timers.registration_expiry_ns / 2)
            })
            .collect();
        let service_host = net.host_id(world::SERVICE_HOST).ok_or_else(|| {
            SimError::Network(crate::net::NetError::Topology(
                "the service host is missing".into(),
            ))
        })?;
        let service = ServiceHost::new(
            service_host,
            crate::service::Service::with_timers(s.service.directory.clone(), s.service.timers),
            accounts.iter().map(|a| a.address.clone()).collect(),
            deadline,
        );
        let edge_host = net.host_id(world::EDGE_HOST).ok_or_else(|| {
            SimError::Network(crate::net::NetError::Topology(
                "the edge host is missing".into(),
            ))
        })?;
        let relay_users: Vec<(String, String)> = accounts
            .iter()
            .map(|a| edge::relay_credentials(seed, &a.address))
            .collect();
        let edge = edge::Edge::new(edge_host, world::EDGE_ADDR, &relay_users, seed);
        let service_changes = world::service_changes(s);
        let mut tunnels = Vec::new();
        for (i, p) in s.participants.iter().enumerate() {
            if p.profile.tunnel.is_some() {
                let gw = net.host_id(&tunnel::gateway_name(&p.name)).ok_or_else(|| {
                    SimError::Network(crate::net::NetError::Topology(format!(
                        "the VPN gateway of `{}` is missing",
                        p.name
                    )))
                })?;
                let client = HostId(i as u32);
                tunnels.push(tunnel::Tunnel::new(
                    client,
                    net.host_addr(client),
                    gw,
                    net.host_addr(gw),
                    seed,
                ));
            }
        }
        // Where the service reaches each client: the address it sends from (inside its VPN).
        let contact = (0..s.participants.len())
            .map(|i| {
                let h = HostId(i as u32);
                tunnels
                    .iter()
                    .find(|t| t.client == h)
                    .map_or(net.host_addr(h), |t| t.inner)
            })
            .collect();
        let mut clips = BTreeMap::new();
        let mut silent_clips = BTreeMap::new();
        if s.media == MediaMode::Replay {
            let clip_seed = sub_seed(seed, "clip");
            for (c, p) in clients.iter().zip(&s.participants) {
                if let std::collections::btree_map::Entry::Vacant(e) = clips.entry(c.audio) {
                    e.insert(world::shared_clip(
                        ClipSignal::Speech(clip_seed),
                        c.audio,
                        opts,
                    )?);
                }
                let dead = p.devices.microphone_works
                    == crate::scenario::raw_devices::MicrophoneWorks::Silent;
                if let (true, std::collections::btree_map::Entry::Vacant(e)) =
                    (dead, silent_clips.entry(c.audio))
                {
                    e.insert(world::shared_clip(ClipSignal::Silence, c.audio, opts)?);
                }
            }
        }
        // The clip each video client sends, once per codec, layer and scene (a covered camera
        // sends black frames).
        let mut video_clips = std::collections::HashMap::new();
        for c in s.calls.iter().filter(|c| c.video) {
            if s.media == MediaMode::Live {
                return Err(SimError::Video(
                    "a video call in `media: live`: live video encoding is not built; video is \
                     always replayed from clips (use `media: replay`)"
                        .into(),
                ));
            }
            let codec_of = |name: &str| {
                s.participants
                    .iter()
                    .position(|p| p.name == name)
                    .map(|i| clients[i].video.codec)
            };
            if let (Some(a), Some(b)) = (codec_of(&c.caller), codec_of(&c.callee)) {
                if a != b && !c.test_call {
                    return Err(SimError::Video(format!(
                        "the video call {} -> {}: {} sends {} and {} sends {}; choosing one \
                         codec between different preferences is not built yet, so both clients \
                         of a video call must set the same `video: {{ codec }}`",
                        c.caller,
                        c.callee,
                        c.caller,
                        a.name(),
                        c.callee,
                        b.name()
                    )));
                }
            }
            for name in [&c.caller, &c.callee] {
                if let Some(i) = s.participants.iter().position(|p| &p.name == name) {
                    let v = clients[i].video;
                    let black = s.participants[i].devices.camera_works
                        == crate::scenario::raw_devices::CameraWorks::Black;
                    if let std::collections::hash_map::Entry::Vacant(e) =
                        video_clips.entry((v.codec, v.layer, black, v.adaptation))
                    {
                        e.insert(Arc::new(video::ladder_for(&v, black)?));
                    }
                }
            }
        }
        let cross_tcp = cross_tcp::CrossTcp::new(s, &net);
        Ok(Sim {
            video_clips,
            net,
            legs: Vec::new(),
            leg_host: Vec::new(),
            calls,
            media_route: BTreeMap::new(),
            leg_by_addr: BTreeMap::new(),
            leg_by_ssrc: BTreeMap::new(),
            timers: BinaryHeap::new(),
            scheduled: Vec::new(),
            events: Vec::new(),
            transmit_buf: Vec::new(),
            // An opaque anchor for `rtc`'s Instants; only differences from it are ever used, so
            // nothing in a report depends on when the run happened.
            base: Instant::now(),
            seed,
            clips,
            silent_clips,
            receive: receive_config(s),
            clients,
            sent_rtp: Vec::new(),
            one_way: Vec::new(),
            capture: opts
                .pcap
                .as_deref()
                .map(|dir| capture::Capture::for_scenario(dir, s, seed))
                .transpose()?,
            account_scheduled: vec![None; accounts.len()],
            accounts,
            service,
            service_scheduled: None,
            edge,
            edge_scheduled: None,
            streams: streams::Streams::default(),
            tunnels,
            dirty_tunnels: Vec::new(),
            signal: signal_conn::SignalConns::default(),
            touched_accounts: Vec::new(),
            touched_legs: Vec::new(),
            cross_tcp,
            socket: s
                .participants
                .iter()
                .map(|p| (p.socket_layer, 0, 0))
                .collect(),
            devices: s.participants.iter().map(|p| p.devices).collect(),
            waiting_calls: Vec::new(),
            service_changes,
            contact,
            leg_src: Vec::new(),
            checks: s
                .service_checks
                .iter()
                .enumerate()
                .map(|(i, c)| (c.at.as_nanos(), i))
                .collect(),
            looks: Vec::new(),
            lost: vec![None; s.participants.len()],
            presence_lags: Vec::new(),
            now: 0,
        })
    }

    /// Whether `host`'s socket layer loses what it sends (counted when it does).
    fn send_fails(&mut self, host: HostId) -> bool {
        match self.socket.get_mut(host.0 as usize) {
            Some((layer, lost, _)) if layer.sends_fail() => {
                *lost += 1;
                true
            }
            _ => false,
        }
    }

    /// Sends what a program on `host` sent: into its VPN tunnel if it has one, else onto
    /// its link.
    fn send_datagram(&mut self, host: HostId, d: Datagram<Wire>) {
        if let Some((ti, tunnel::End::Client)) = self.tunnel_end(host) {
            self.tunnel_send(ti, d);
            return;
        }
        self.send_outer(host, d);
    }

    /// Sends `d` from `host` onto its link (through its socket layer; captured).
    fn send_outer(&mut self, host: HostId, d: Datagram<Wire>) {
        if self.send_fails(host) {
            return;
        }
        if let Some(c) = &mut self.capture {
            c.record(self.now, host, pcapng::Direction::Outbound, &d);
        }
        self.net.send(self.now, d);
    }

    fn start_call(&mut self, ci: usize) -> Result<(), SimError> {
        self.start_call_legs(ci)?;
        if let Some((a, b)) = self.calls[ci].legs {
            self.legs[a].start(self.now);
            self.after_touch(a);
            self.after_touch(b);
        }
        Ok(())
    }

    /// Makes call `ci`'s two legs and their channels at the service, without starting it.
    fn start_call_legs(&mut self, ci: usize) -> Result<(), SimError> {
        let now = self.now;
        let (caller_host, callee_host) = (self.calls[ci].caller_host, self.calls[ci].callee_host);
        let mut idx = [0usize; 2];
        for (k, (role, host)) in [(Role::Caller, caller_host), (Role::Callee, callee_host)]
            .into_iter()
            .enumerate()
        {
            let cfg = self.leg_config(ci, role, host);
            let port = cfg.media_addr.port();
            let leg = CallLeg::new(cfg, self.base, now).map_err(|e| SimError::Agent {
                caller: self.calls[ci].caller.clone(),
                callee: self.calls[ci].callee.clone(),
                source: e,
            })?;
            let li = self.legs.len();
            self.legs.push(leg);
            self.leg_host.push(host);
            self.scheduled.push(None);
            self.sent_rtp.push(Box::new([u64::MAX; SENT_RING]));
            self.one_way.push(OneWayDelay::default());
            self.media_route.insert((host, port), li);
            self.leg_by_addr.insert(self.legs[li].media_addr(), li);
            self.leg_by_ssrc.insert(self.legs[li].ssrc(), li);
            idx[k] = li;
        }
        self.calls[ci].legs = Some((idx[0], idx[1]));
        let from = self.accounts[caller_host.0 as usize].address.clone();
        // A test call is admitted as the caller's own call (signed in, A/V allowed).
        let to = match self.accounts.get(callee_host.0 as usize) {
            Some(a) if !self.calls[ci].test_call => a.address.clone(),
            _ => from.clone(),
        };
        self.service.add_call(idx[0], idx[1], &from, &to);
        // Legs on participants' hosts signal over their client's TCP connection.
        for li in idx {
            if self.leg_host[li] != self.service.host {
                self.legs[li].signaling().set_over_stream();
                if let Some(ch) = self.service.leg_channel(li) {
                    ch.set_over_stream();
                }
            }
        }
        Ok(())
    }

    /// Sends what leg `li` produced and reschedules its timer.
    fn after_touch(&mut self, li: usize) {
        let now = self.now;
        let host = self.leg_host[li];
        // A buffer kept between calls: this runs for every datagram a leg sends or takes in.
        let mut out = std::mem::take(&mut self.transmit_buf);
        out.extend(self.legs[li].drain_transmits());
        for t in out.drain(..) {
            let d = match t {
                Transmit::Media { from, to, bytes } => {
                    let rtp = unwrap_turn(&bytes);
                    if is_audio_rtp(rtp) {
                        if let Some(seq) = rtp_sequence(rtp) {
                            self.sent_rtp[li][usize::from(seq) % SENT_RING] = now;
                        }
                    }
                    let len = bytes.len() as u32;
                    Datagram::udp(from, to, len, Wire::Media(bytes))
                }
                Transmit::Stream { from, to, bytes } => {
                    self.stream_send(host, from, to, &bytes, streams::StreamOwner::Leg(li));
                    continue;
                }
                Transmit::Signal(env) if host != self.service.host => {
                    let wire = Wire::Signal {
                        leg: li,
                        to_service: true,
                        env,
                    };
                    self.client_signal_send(host.0 as usize, wire);
                    continue;
                }
                // The echo test service's leg, on the service host: straight to the service.
                Transmit::Signal(env) => {
                    let src = SocketAddrV4::new(self.local_addr(host), SIGNALING_PORT);
                    let dst =
                        SocketAddrV4::new(self.net.host_addr(self.service.host), SIGNALING_PORT);
                    let len = env.wire_size();
                    let wire = Wire::Signal {
                        leg: li,
                        to_service: true,
                        env,
                    };
                    Datagram::tcp(src, dst, len, false, wire)
                }
            };
            self.send_datagram(host, d);
        }
        self.transmit_buf = out;
        let t = self.legs[li].poll_timeout().map(|t| t.max(now));
        if t != self.scheduled[li] {
            self.scheduled[li] = t;
            if let Some(t) = t {
                self.timers.push(Reverse((t, li)));
            }
        }
    }

    /// Hands what arrived at `to_host` to its end of a VPN tunnel, or to its programs.
    fn deliver(
        &mut self,
        at: u64,
        to_host: HostId,
        d: Datagram<Wire>,
        kind: DeliveryKind,
    ) -> Result<(), SimError> {
        match self.tunnel_end(to_host) {
            Some((ti, end)) => self.tunnel_arrival(at, ti, end, d, kind),
            None => self.deliver_here(at, to_host, d, kind),
        }
    }

    /// Hands what arrived at `to_host` to the program it is for.
    fn deliver_here(
        &mut self,
        at: u64,
        to_host: HostId,
        d: Datagram<Wire>,
        kind: DeliveryKind,
    ) -> Result<(), SimError> {
        if let Some((layer, _, lost)) = self.socket.get_mut(to_host.0 as usize) {
            if layer.receives_fail() {
                *lost += 1;
                return Ok(());
            }
        }
        if kind == DeliveryKind::TcpReset {
            if matches!(d.payload, Wire::Tcp(_)) {
                self.tcp_refused(at, to_host, d.src, d.dst);
            }
            return Ok(());
        }
        if kind != DeliveryKind::Datagram {
            return Ok(());
        }
        if let Some(c) = &mut self.capture {
            c.record(at, to_host, pcapng::Direction::Inbound, &d);
        }
        match d.payload {
            Wire::Tcp(_) => self.tcp_deliver(at, to_host, d),
            Wire::Media(bytes) if to_host == self.edge.host => {
                self.edge.handle_udp(at, d.src, d.dst, &bytes);
                self.after_edge();
            }
            Wire::Media(bytes) => {
                if let Some(&li) = self.media_route.get(&(to_host, d.dst.port())) {
                    self.note_one_way(li, at, &bytes);
                    self.legs[li].handle_media(at, d.src, bytes);
                    self.after_touch(li);
                }
            }
            Wire::Signal {
                leg,
                to_service,
                env,
            } => {
                if to_service {
                    if self.leg_src.len() <= leg {
                        self.leg_src.resize(leg + 1, None);
                    }
                    self.leg_src[leg] = Some(*d.src.ip());
                    self.service.on_leg(at, leg, env);
                    self.after_service();
                } else if leg < self.legs.len() {
                    self.legs[leg].handle_signal(at, env);
                    self.after_touch(leg);
                }
            }
            Wire::Account {
                participant,
                to_service,
                env,
            } => {
                if to_service {
                    self.heard_from(participant, *d.src.ip());
                    self.service.on_account(at, participant, env);
                    self.after_service();
                } else if participant < self.accounts.len() {
                    self.accounts[participant].receive(at, env);
                    self.after_account(participant)?;
                }
            }
        }
        Ok(())
    }

    /// Measures the one-way delay of an RTP packet from `src` arriving at leg `li` at `at` (its
    /// first copy only: a duplicate measures the duplication, not the path).
    fn note_one_way(&mut self, li: usize, at: u64, bytes: &[u8]) {
        let bytes = unwrap_turn(bytes);
        let Some(&from) = audio_ssrc(bytes).and_then(|s| self.leg_by_ssrc.get(&s)) else {
            return;
        };
        let Some(seq) = rtp_sequence(bytes) else {
            return;
        };
        let sent = &mut self.sent_rtp[from][usize::from(seq) % SENT_RING];
        if *sent != u64::MAX && *sent <= at {
            self.one_way[li].add(at, at - *sent);
            *sent = u64::MAX;
        }
    }

    /// Runs until `end` (ns) or until `stop` is set; returns whether it reached the end.
    fn run(&mut self, s: &Scenario, end: u64, opts: &RunOptions) -> Result<bool, SimError> {
        let mut call_events: Vec<(u64, bool, usize)> = Vec::new();
        for c in &self.calls {
            if c.start < end {
                call_events.push((c.start, true, c.index));
                call_events.push((c.hangup, false, c.index));
            }
        }
        call_events.sort();
        let mut next_call = 0;
        let mut next_change = 0;
        let mut next_check = 0;
        self.edge.poll(self.now);
        self.tcp_listen(
            self.edge.host,
            edge::TURN_TCP_PORT,
            streams::StreamOwner::Edge,
        );
        self.after_edge();
        self.cross_tcp_schedule();
        // The service takes the clients' signaling connections.
        self.tcp_listen(
            self.service.host,
            SIGNALING_PORT,
            streams::StreamOwner::Service,
        );
        for p in 0..self.accounts.len() {
            self.accounts[p].signaling().set_over_stream();
            if let Some(ch) = self.service.account_channel(p) {
                ch.set_over_stream();
            }
        }
        // VPNs connect first, as they do when a machine starts.
        self.start_tunnels();
        self.run_tunnels()?;
        // Every client starts, and signs in, when the scenario starts.
        for p in 0..self.accounts.len() {
            self.accounts[p].start(self.now);
            self.after_account(p)?;
        }
        self.settle_streams()?;
        let mut same_time_spins = 0u32;
        let mut iterations = 0u64;
        loop {
            let mut t = end;
            if let Some(n) = self.net.next_event() {
                t = t.min(n);
            }
            if let Some(Reverse((lt, _))) = self.timers.peek() {
                t = t.min(*lt);
            }
            if let Some((ct, _, _)) = call_events.get(next_call) {
                t = t.min(*ct);
            }
            if let Some((st, _)) = self.service_changes.get(next_change) {
                t = t.min(*st);
            }
            if let Some((ct, _)) = self.checks.get(next_check) {
                t = t.min(*ct);
            }
            let t = t.max(self.now);
            if t >= end {
                self.now = end;
                self.close_presence_lags();
                // A call still trying to connect when the scenario ends has failed to connect
                // in the time it had; say how, as a client giving up would.
                for c in &self.calls {
                    if let Some((a, _)) = c.legs {
                        self.legs[a].give_up_connecting(end, "when the scenario ended");
                    }
                }
                return Ok(true);
            }
            if t == self.now {
                same_time_spins += 1;
            } else {
                same_time_spins = 0;
            }
            self.now = t;
            iterations += 1;
            if iterations.is_multiple_of(4096) {
                if let Some(p) = &opts.progress_ms {
                    p.store(t / 1_000_000, Ordering::Relaxed);
                }
                if let Some(c) = &opts.calls_up {
                    c.store(self.calls_connected(), Ordering::Relaxed);
                }
                if opts
                    .stop
                    .as_ref()
                    .is_some_and(|s| s.load(Ordering::Relaxed))
                {
                    return Ok(false);
                }
            }
            // The service going down or coming back.
            while let Some(&(st, up)) = self.service_changes.get(next_change) {
                if st > t {
                    break;
                }
                next_change += 1;
                self.service.service.set_up(up);
            }
            // IMs and presence looks now.
            self.run_checks(s, &mut next_check, t)?;
            // Calls starting or hanging up now.
            while let Some(&(ct, is_start, ci)) = call_events.get(next_call) {
                if ct > t {
                    break;
                }
                next_call += 1;
                if is_start {
                    self.place_call(ci)?;
                } else if let Some((a, _)) = self.calls[ci].legs {
                    self.legs[a].hang_up(t);
                    self.after_touch(a);
                }
            }
            // The network up to now.
            self.net.advance(t);
            while let Some(d) = self.net.poll_delivery() {
                self.deliver(d.at, d.to_host, d.datagram, d.kind)?;
            }
            for d in self.net.take_drops() {
                if let Wire::Media(bytes) = &d.datagram.payload {
                    let ssrc = audio_ssrc(unwrap_turn(bytes));
                    if let Some(&li) = ssrc.and_then(|s| self.leg_by_ssrc.get(&s)) {
                        self.legs[li].rtp_dropped_by_network += 1;
                    }
                } else if let Wire::Tcp(_) = &d.datagram.payload {
                    let (src, dst) = (*d.datagram.src.ip(), *d.datagram.dst.ip());
                    self.cross_tcp.dropped(src, dst, d.reason);
                }
            }
            while let Some(e) = self.net.poll_event() {
                match &e {
                    NetEvent::AddressChanged { host, .. }
                        if (host.0 as usize) < self.lost.len() =>
                    {
                        let p = host.0 as usize;
                        self.lost_reach(p);
                        // A client that handles network changes (the one that restarts ICE)
                        // registers again from its new address at once; an older one only
                        // at its next refresh.
                        if self.clients[p].ice_restart {
                            self.accounts[p].network_changed(t);
                            self.after_account(p)?;
                        }
                    }
                    NetEvent::OutageStart { target, .. } => {
                        if let Some(p) = s.participants.iter().position(|x| &x.name == target) {
                            self.lost_reach(p);
                        }
                    }
                    _ => {}
                }
                if let NetEvent::AddressChanged { host, .. } = &e {
                    // Every TCP connection on the old address is gone.
                    self.reset_streams(*host);
                }
                if let NetEvent::AddressChanged { host, new, .. } = &e {
                    // Tell every leg on the moved host (a client sees its interface change).
                    let moved: Vec<usize> = (0..self.legs.len())
                        .filter(|&li| self.leg_host[li] == *host)
                        .collect();
                    for li in moved {
                        let old = self.legs[li].media_addr();
                        self.legs[li].network_changed(t, *new);
                        let now_addr = self.legs[li].media_addr();
                        if now_addr != old {
                            self.leg_by_addr.insert(now_addr, li);
                        }
                        self.after_touch(li);
                    }
                }
                self.events.push(e);
            }
            // Agents whose timers are due, each at most once per pass (a leg that asks to run
            // again at the same instant runs on the next pass).
            let mut due = Vec::new();
            while let Some(&Reverse((lt, li))) = self.timers.peek() {
                if lt > t {
                    break;
                }
                self.timers.pop();
                if li & tunnel::TUNNEL_TIMER != 0 {
                    self.tunnel_timer(li & !tunnel::TUNNEL_TIMER, lt)?;
                } else if li & CROSS_TIMER != 0 {
                    self.cross_tcp_timer(li & !CROSS_TIMER, lt);
                } else if li & TCP_TIMER != 0 {
                    self.stream_timer(HostId((li & !TCP_TIMER) as u32), lt);
                } else if li == EDGE_TIMER {
                    if self.edge_scheduled == Some(lt) {
                        self.edge_scheduled = None;
                        self.edge.poll(t);
                        self.after_edge();
                    }
                } else if li == SERVICE_TIMER {
                    if self.service_scheduled == Some(lt) {
                        self.service_scheduled = None;
                        self.service.handle_timeout(t);
                        self.after_service();
                    }
                } else if li & ACCOUNT_TIMER != 0 {
                    let p = li & !ACCOUNT_TIMER;
                    if self.account_scheduled[p] == Some(lt) {
                        self.account_scheduled[p] = None;
                        self.accounts[p].handle_timeout(t);
                        self.after_account(p)?;
                    }
                } else if self.scheduled[li] == Some(lt) {
                    self.scheduled[li] = None;
                    due.push(li);
                }
            }
            for li in due {
                self.legs[li].handle_timeout(t);
                self.after_touch(li);
                // A stack that keeps asking to run at the same instant without progress would
                // stall the clock: after many passes at one instant, move it 1 ms on.
                if same_time_spins > 10_000 && self.scheduled[li].is_some_and(|s| s <= t) {
                    self.scheduled[li] = Some(t + 1_000_000);
                    self.timers.push(Reverse((t + 1_000_000, li)));
                }
            }
            // The TCP stacks touched in this pass send and tell their streams' owners; what a
            // tunnel takes in or gives out may touch stacks again.
            self.settle_streams()?;
        }
    }

    /// Runs the TCP stacks touched so far, and what they give work to, until nothing is
    /// left at this instant: a tunnel's packets may touch stacks again, a signaling message
    /// an account or a leg.
    fn settle_streams(&mut self) -> Result<(), SimError> {
        loop {
            self.run_streams();
            self.run_tunnels()?;
            self.run_touched()?;
            if self.streams.is_idle() && !self.touched() {
                return Ok(());
            }
        }
    }

    /// Sends what the edge produced and reschedules its timer.
    fn after_edge(&mut self) {
        let now = self.now;
        let host = self.edge.host;
        let out: Vec<_> = self.edge.drain().collect();
        for (from, to, bytes) in out {
            let len = bytes.len() as u32;
            let d = Datagram::udp(from, to, len, Wire::Media(BytesMut::from(&bytes[..])));
            self.send_datagram(host, d);
        }
        let tcp = self.edge.drain_tcp();
        self.edge_streams(tcp);
        let t = self.edge.poll_timeout().map(|t| t.max(now));
        if t != self.edge_scheduled {
            self.edge_scheduled = t;
            if let Some(t) = t {
                self.timers.push(Reverse((t, EDGE_TIMER)));
            }
        }
    }

    fn calls_connected(&self) -> u64 {
        self.calls
            .iter()
            .filter(|c| {
                c.legs.is_some_and(|(a, _)| {
                    self.legs[a].connected_at.is_some() && !self.legs[a].ended
                })
            })
            .count() as u64
    }
}

/// Runs one scenario with `seed` and returns its report (measured, judged).
pub fn run_scenario(
    s: &Scenario,
    seed: u64,
    opts: &RunOptions,
) -> Result<ScenarioReport, SimError> {
    let wall = Instant::now();
    let mut sim = Sim::new(s, seed, opts)?;
    let end = s.duration.as_nanos();
    let complete = sim.run(s, end, opts)?;
    if let Some(c) = sim.capture.take() {
        c.finish()?;
    }
    let mut report = measure::scenario_report(s, seed, &mut sim, complete);
    report.wall_ms = wall.elapsed().as_millis() as u64;
    Ok(report)
}

/// The receive side's settings for a scenario: decoding on or off, and the statistics windows
/// its thresholds ask for (15 s and 200 ms unless a threshold names another).
fn receive_config(s: &Scenario) -> crate::agent::media::ReceiveConfig {
    use crate::scenario::Metric;
    let mut cfg = crate::agent::media::ReceiveConfig {
        decode: s.decode,
        ..Default::default()
    };
    let all = s
        .thresholds
        .iter()
        .chain(s.calls.iter().flat_map(|c| c.thresholds.iter()));
    for t in all {
        if let Some(w) = t.window {
            match t.metric {
                Metric::Jitter => cfg.receiver.windows.long_ns = w.as_nanos(),
                Metric::BurstLoss => cfg.receiver.windows.burst_ns = w.as_nanos(),
                _ => {}
            }
        }
    }
    cfg
}

/// The SSRC of an RTP packet of our Opus payload type.
fn audio_ssrc(b: &[u8]) -> Option<u32> {
    is_audio_rtp(b).then(|| u32::from_be_bytes([b[8], b[9], b[10], b[11]]))
}

/// True for an RTP packet of our Opus payload type (SRTP leaves the header in the clear; RTCP
/// packet types 200-206 and STUN/DTLS first bytes never match).
fn is_audio_rtp(b: &[u8]) -> bool {
    b.len() >= 12 && b[0] >> 6 == 2 && (b[1] & 0x7f) == crate::agent::peer::OPUS_PT
}

#[cfg(test)]
mod tests {
    use super::is_audio_rtp;

    #[test]
    fn only_our_audio_rtp_counts_as_a_stream_drop() {
        let mut rtp = [0u8; 20];
        rtp[0] = 0x80; // version 2
        rtp[1] = crate::agent::peer::OPUS_PT;
        assert!(is_audio_rtp(&rtp));
        rtp[1] |= 0x80; // marker bit set: still our payload type
        assert!(is_audio_rtp(&rtp));
        rtp[1] = 200; // RTCP sender report
        assert!(!is_audio_rtp(&rtp));
        let stun = [0x00u8, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0];
        assert!(!is_audio_rtp(&stun));
        let dtls = [22u8, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert!(!is_audio_rtp(&dtls));
        assert!(!is_audio_rtp(&rtp[..8]));
    }
}
