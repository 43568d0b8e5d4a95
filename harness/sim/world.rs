//! Building the simulated world from a scenario: the emulated network (one host per
//! participant, its access link from its profile, its firewall; sites and their shared links),
//! the network actions of the scenario's timeline, and each side of each call: its agent's
//! settings from its participant's client settings ([`Client`]), and the encoded clips the
//! agents replay.
//!
//! Which settings act where, for a stream from A to B: A's `audio` makes the packets (A's
//! clip or encoder), B's jitter buffer plays them at A's frame duration and rebuilds lost
//! frames from A's FEC; each side's `ice` timers are its own.

use super::{sub_seed, ClipCache, ClipSignal, RunOptions, Sim, SimError, CLIP_MS};
use crate::agent::media::capture::StallModel;
use crate::agent::media::{EncodedClip, JitterBufferConfig, OpusConfig};
use crate::agent::peer::IceTimeouts;
use crate::agent::{AudioSource, CallLegConfig, Role};
use crate::net::{HostConfig, HostId, Network, NetworkConfig, SiteConfig};
use crate::scenario::raw_devices::{MicrophoneDriver, MicrophoneWorks, SpeakerWorks};
use crate::scenario::{ActionTarget, NetAction, Scenario};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::Arc;

/// The name of the calling service's host (and of its site) on the emulated network; no
/// participant or site may be called this.
pub const SERVICE_HOST: &str = "service";

/// The service host's address: outside the participants' 10.0.0.0/16.
pub const SERVICE_ADDR: Ipv4Addr = Ipv4Addr::new(10, 254, 0, 1);

/// The name of the conferencing edge's host (and of its site): the media relay (TURN on UDP
/// 3478) clients gather relay candidates from; no participant or site may be called this.
pub const EDGE_HOST: &str = "edge";

/// The edge's address: beside the service, outside the participants' 10.0.0.0/16.
pub const EDGE_ADDR: Ipv4Addr = Ipv4Addr::new(10, 254, 0, 2);

/// The prefix of the hidden hosts of TCP cross-traffic (`sim/cross_tcp.rs`) and the name of
/// their servers' site; no participant or site may be called this or start with it.
pub const CROSS_TRAFFIC: &str = "cross-traffic";

/// The edge's one-way distance from every site, ns: a data centre 10 ms away, so a relayed
/// path is 20 ms longer each way than the direct one between two hosts (documented in the
/// README; the direct path between two sites has no core delay unless a scenario gives one).
pub const EDGE_DELAY: &str = "10ms";

/// How long a client gathers candidates before it offers or answers without the missing
/// ones, ns.
pub const GATHER_TIMEOUT_NS: u64 = 3_000_000_000;

/// How long a signaling message (to or from the service) may go unacknowledged, ns.
pub const SIGNALING_DEADLINE_NS: u64 = 20_000_000_000;

/// One participant's client settings, as its call agents use them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Client {
    /// Restart ICE when the host's address changes.
    pub ice_restart: bool,
    /// The receive jitter buffer (its frame duration is set per stream, from the sender).
    pub jitter_buffer: JitterBufferConfig,
    /// The Opus encoder.
    pub audio: OpusConfig,
    /// ICE consent timers.
    pub ice: IceTimeouts,
    /// The TURN transports its policy allows (a relay candidate each).
    pub relay_transports: crate::agent::relay::RelayTransports,
    /// Its video encoder and receiver (in video calls).
    pub video: crate::scenario::video::VideoSettings,
}

/// Every participant's client settings, in participant (host) order.
pub fn clients(s: &Scenario) -> Vec<Client> {
    s.participants
        .iter()
        .map(|p| Client {
            ice_restart: p.ice_restart,
            jitter_buffer: p.jitter_buffer,
            audio: p.audio,
            ice: p.ice,
            relay_transports: p.relay_transports,
            video: p.video,
        })
        .collect()
}

/// Frames of a clip of [`CLIP_MS`] at `audio`'s frame duration (1500 at 20 ms).
pub fn clip_frames(audio: OpusConfig) -> usize {
    (CLIP_MS / audio.frame_ms.max(1)) as usize
}

/// The encoded clip for `seed` and `audio`: from the run's cache when the caller gives one,
/// else from a process-wide cache, so a clip is encoded once per process and setting however
/// the library is called (encoding is most of a replayed call's cost).
pub(super) fn shared_clip(
    signal: ClipSignal,
    audio: OpusConfig,
    opts: &RunOptions,
) -> Result<Arc<EncodedClip>, SimError> {
    static PROCESS_CLIPS: std::sync::OnceLock<ClipCache> = std::sync::OnceLock::new();
    let cache = match &opts.clips {
        Some(c) => c,
        None => PROCESS_CLIPS.get_or_init(ClipCache::default),
    };
    let mut map = cache
        .lock()
        .map_err(|_| SimError::Codec("clip cache poisoned".into()))?;
    if let Some(c) = map.get(&(signal, audio)) {
        return Ok(c.clone());
    }
    let c = match signal {
        ClipSignal::Speech(seed) => EncodedClip::from_seed(seed, clip_frames(audio), audio),
        ClipSignal::Silence => EncodedClip::silence(clip_frames(audio), audio),
    }
    .map_err(|e| SimError::Codec(e.to_string()))?;
    map.insert((signal, audio), c.clone());
    Ok(c)
}

impl Sim {
    /// The settings of call `call`'s leg in `role` on `host`: addresses, seeded identifiers,
    /// the host's audio and ICE timers, and a receive side for the far end's packets.
    pub(super) fn leg_config(&self, call: usize, role: Role, host: HostId) -> CallLegConfig {
        let label = format!(
            "call{call}:{}",
            if role == Role::Caller {
                "caller"
            } else {
                "callee"
            }
        );
        let s = sub_seed(self.seed, &label);
        let ip = self.local_addr(host);
        // A media port in the range clients use (50000-59999), distinct per leg on a host.
        let mut port = 50_000 + (s % 10_000) as u16;
        while self.media_route.contains_key(&(host, port)) {
            port = 50_000 + (port - 50_000 + 1) % 10_000;
        }
        let cred = |salt: &str, len: usize| -> String {
            const ALPHABET: &[u8] =
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
            let mut x = sub_seed(s, salt);
            (0..len)
                .map(|_| {
                    x = crate::net::rng::splitmix64(x);
                    ALPHABET[(x % 64) as usize] as char
                })
                .collect()
        };
        // The echo service mirrors its caller's client settings.
        let client_of = |h: HostId| {
            self.clients
                .get(h.0 as usize)
                .unwrap_or(&self.clients[self.calls[call].caller_host.0 as usize])
        };
        let me = client_of(host);
        let far = {
            let c = &self.calls[call];
            let other = if role == Role::Caller {
                c.callee_host
            } else {
                c.caller_host
            };
            client_of(other)
        };
        let echo = self.calls[call].test_call && role == Role::Callee;
        // What the microphone captures: speech, or digital silence from a dead one.
        let devices = self
            .devices
            .get(host.0 as usize)
            .copied()
            .unwrap_or_default();
        let dead_mic = devices.microphone_works == MicrophoneWorks::Silent;
        let clips = if dead_mic {
            &self.silent_clips
        } else {
            &self.clips
        };
        let source = match clips.get(&me.audio) {
            Some(clip) => {
                AudioSource::Replay(clip.clone(), (s % clip.len().max(1) as u64) as usize)
            }
            None if dead_mic => AudioSource::LiveSilence,
            None => AudioSource::Live(sub_seed(s, "speech")),
        };
        let receive = crate::agent::media::ReceiveConfig {
            jitter_buffer: me.jitter_buffer,
            speaker_muted: devices.speaker_works == SpeakerWorks::Muted,
            ..self.receive
        }
        .with_frame_ms(far.audio.frame_ms);
        CallLegConfig {
            role,
            media_addr: SocketAddrV4::new(ip, port),
            ssrc: (sub_seed(s, "ssrc") as u32).max(1),
            first_seq: sub_seed(s, "seq") as u16,
            first_timestamp: sub_seed(s, "ts") as u32,
            ice_ufrag: cred("ufrag", 16),
            ice_pwd: cred("pwd", 32),
            source,
            receive,
            signaling_deadline: SIGNALING_DEADLINE_NS,
            connect_timeout: 30_000_000_000,
            ice: me.ice,
            opus: me.audio,
            crypto_seed: Some(sub_seed(s, "crypto")),
            ice_restart: me.ice_restart,
            hangup_grace: 1_000_000_000,
            rtcp_seed: sub_seed(s, "rtcp"),
            echo,
            send_audio: devices.sends_audio(),
            capture_wrong_rate: devices.microphone_driver == MicrophoneDriver::WrongRate,
            capture_stalls: (devices.microphone_driver == MicrophoneDriver::Old)
                .then(|| (StallModel::OLD_DRIVER, sub_seed(s, "capture-stalls"))),
            relays: self.relays_for(host),
            gather_timeout: GATHER_TIMEOUT_NS,
            video: (self.calls[call].video && self.calls[call].video_unavailable.is_none()).then(
                || crate::agent::VideoLegConfig {
                    ssrc: (sub_seed(s, "video-ssrc") as u32).max(1),
                    first_seq: sub_seed(s, "video-seq") as u16,
                    first_timestamp: sub_seed(s, "video-ts") as u32,
                    codec: me.video.codec,
                    // No camera it may use: no video sent (the call goes on with audio).
                    clip: match devices.no_video() {
                        Some(_) => None,
                        None => self
                            .video_clips
                            .get(&(
                                me.video.codec,
                                me.video.layer,
                                devices.camera_works
                                    == crate::scenario::raw_devices::CameraWorks::Black,
                                me.video.adaptation,
                            ))
                            .cloned(),
                    },
                    adaptation: me.video.adaptation,
                    no_video: devices.no_video().map(|(said, why)| (said.to_owned(), why)),
                    pixels: me.video.decode.then(|| self.far_camera(call, role)),
                    receive: crate::agent::video_rtp::receive::VideoReceiveConfig {
                        nack: me.video.nack && far.video.nack,
                        keep_bitstream: false,
                    },
                    nack: me.video.nack && far.video.nack,
                },
            ),
        }
    }
}

impl Sim {
    /// The camera the far end of call `call` (seen from `role`) sends, for quality against
    /// it: its clip and first video timestamp (None when it sends no video).
    fn far_camera(
        &self,
        call: usize,
        role: Role,
    ) -> Option<crate::agent::video_rtp::pixels::Reference> {
        let c = &self.calls[call];
        let (other, other_role) = if role == Role::Caller {
            (c.callee_host, "callee")
        } else {
            (c.caller_host, "caller")
        };
        let far = self.clients.get(other.0 as usize)?;
        let devices = self
            .devices
            .get(other.0 as usize)
            .copied()
            .unwrap_or_default();
        if devices.no_video().is_some() {
            return None;
        }
        let black = devices.camera_works == crate::scenario::raw_devices::CameraWorks::Black;
        let clips = self
            .video_clips
            .get(&(
                far.video.codec,
                far.video.layer,
                black,
                far.video.adaptation,
            ))?
            .rungs()
            .iter()
            .filter_map(|r| r.reference())
            .collect();
        let far_s = sub_seed(self.seed, &format!("call{call}:{other_role}"));
        Some(crate::agent::video_rtp::pixels::Reference {
            clips,
            first_timestamp: sub_seed(far_s, "video-ts") as u32,
        })
    }

    /// The relay servers a client on `host` gathers from, with the credentials the service
    /// gave its account (the echo service on the service host needs none).
    fn relays_for(&self, host: HostId) -> Vec<crate::agent::gather::RelaySpec> {
        let Some(account) = self.accounts.get(host.0 as usize) else {
            return Vec::new();
        };
        let (user, password) = super::edge::relay_credentials(self.seed, &account.address);
        use crate::agent::relay::RelayTransport;
        let allowed = self
            .clients
            .get(host.0 as usize)
            .map_or(Default::default(), |c| c.relay_transports);
        // As browsers list them: `turn:` over UDP, `turn:` over TCP, `turns:`; TLS shares the
        // TCP port (the edge tells the two apart by a connection's first byte).
        [
            (RelayTransport::Udp, super::edge::TURN_UDP_PORT),
            (RelayTransport::Tcp, super::edge::TURN_TCP_PORT),
            (RelayTransport::Tls, super::edge::TURN_TCP_PORT),
        ]
        .into_iter()
        .filter(|(transport, _)| allowed.contains(*transport))
        .map(|(transport, port)| crate::agent::gather::RelaySpec {
            transport,
            server: SocketAddrV4::new(EDGE_ADDR, port),
            user: user.clone(),
            password: password.clone(),
            tls: (transport == RelayTransport::Tls).then(|| self.edge.tls_client()),
        })
        .collect()
    }
}

/// What a datagram on the emulated network carries.
#[derive(Debug, Clone)]
pub enum Wire {
    /// Media path: STUN, DTLS, SRTP, SRTCP bytes.
    Media(bytes::BytesMut),
    /// A call's signaling between call leg `leg` and the service host, either way.
    Signal {
        leg: usize,
        to_service: bool,
        env: crate::agent::signaling::Envelope,
    },
    /// A TCP segment: the whole IPv4 packet a host's stack wrote (`sim/streams.rs`).
    Tcp(Vec<u8>),
    /// Account traffic (sign-in) between participant `participant`'s client and the
    /// service host, either way.
    Account {
        participant: usize,
        to_service: bool,
        env: crate::agent::signaling::Envelope,
    },
}

/// The service's whole-service outages of the timeline as (time, up) changes, in time order.
pub fn service_changes(s: &Scenario) -> Vec<(u64, bool)> {
    let mut out = Vec::new();
    for a in &s.timeline {
        if let (ActionTarget::Service, NetAction::Outage { duration }) = (&a.target, &a.action) {
            let at = a.at.as_nanos();
            out.push((at, false));
            out.push((at.saturating_add(duration.as_nanos()), true));
        }
    }
    out.sort();
    out
}

/// The address the `i`-th participant starts with: 10.0.0.0/16, in file order, skipping .0 and
/// .255. Emulated only: nothing is ever sent to it on a real interface.
pub fn participant_addr(i: usize) -> Ipv4Addr {
    let n = i as u32;
    Ipv4Addr::new(10, 0, (n / 250) as u8, (n % 250 + 1) as u8)
}

/// The emulator's configuration for a scenario.
pub fn network_config(s: &Scenario) -> NetworkConfig {
    let mut sites: Vec<SiteConfig> = s
        .sites
        .iter()
        .map(|site| SiteConfig {
            name: site.name.clone(),
            shared: site.shared.as_ref().map(|(_, p)| p.clone()),
            cross_traffic: Vec::new(),
            nat: site.nat.clone(),
        })
        .collect();
    for p in &s.participants {
        if !sites.iter().any(|x| x.name == p.site) {
            sites.push(SiteConfig {
                name: p.site.clone(),
                ..SiteConfig::default()
            });
        }
    }
    let mut hosts: Vec<HostConfig> = s
        .participants
        .iter()
        .enumerate()
        .map(|(i, p)| HostConfig {
            name: p.name.clone(),
            site: p.site.clone(),
            addr: participant_addr(i),
            access: p.profile.clone(),
            firewall: p.firewall.clone(),
        })
        .collect();
    // The calling service, in a data centre of its own: an ideal access link, so the path
    // to it is each client's own network (its access link, its site's uplink).
    sites.push(SiteConfig {
        name: SERVICE_HOST.into(),
        ..SiteConfig::default()
    });
    hosts.push(HostConfig {
        name: SERVICE_HOST.into(),
        site: SERVICE_HOST.into(),
        addr: SERVICE_ADDR,
        access: crate::net::LinkProfile::ideal("datacenter"),
        firewall: Vec::new(),
    });
    // The conferencing edge, in its own data centre at a distance from everyone.
    sites.push(SiteConfig {
        name: EDGE_HOST.into(),
        ..SiteConfig::default()
    });
    hosts.push(HostConfig {
        name: EDGE_HOST.into(),
        site: EDGE_HOST.into(),
        addr: EDGE_ADDR,
        access: edge_profile(),
        firewall: Vec::new(),
    });
    // Each tunnelled participant's VPN gateway, in a site of its own at the far end of the
    // participant's access link (the link's delay is the way to it).
    for (i, p) in s.participants.iter().enumerate() {
        if p.profile.tunnel.is_some() {
            let name = super::tunnel::gateway_name(&p.name);
            sites.push(SiteConfig {
                name: name.clone(),
                ..SiteConfig::default()
            });
            hosts.push(HostConfig {
                name: name.clone(),
                site: name,
                addr: super::tunnel::gateway_addr(i),
                access: crate::net::LinkProfile::ideal("vpn-gateway"),
                firewall: Vec::new(),
            });
        }
    }
    super::cross_tcp::add_hosts(s, &mut sites, &mut hosts);
    NetworkConfig {
        sites,
        core: None,
        core_paths: Vec::new(),
        hosts,
    }
}

/// The edge host's access link: [`EDGE_DELAY`] each way, nothing else.
fn edge_profile() -> crate::net::LinkProfile {
    let both: crate::net::config::DirectionConfig =
        serde_yaml::from_str(&format!("{{ delay: {EDGE_DELAY} }}")).unwrap_or_default();
    crate::net::LinkProfile {
        name: "edge-datacenter".into(),
        description: "the conferencing edge, a data centre 10 ms from every site".into(),
        both: Some(both),
        ..crate::net::LinkProfile::ideal("edge-datacenter")
    }
}

/// Builds the network and schedules the timeline's actions on it.
pub fn build_network(
    s: &Scenario,
    seed: u64,
    trace_dirs: &[PathBuf],
) -> Result<Network<Wire>, crate::net::NetError> {
    let mut net = Network::new(&network_config(s), seed, trace_dirs)?;
    // A flow's stop is set on its start, so pair each stop with the start before it.
    let mut stops: Vec<(String, String, crate::units::Dur)> = Vec::new();
    for a in &s.timeline {
        if let (ActionTarget::Site(site), NetAction::CrossTrafficStop { name }) =
            (&a.target, &a.action)
        {
            stops.push((site.clone(), name.clone(), a.at));
        }
    }
    for a in &s.timeline {
        check_tunnel_action(s, &a.target, &a.action)?;
    }
    for a in &s.timeline {
        let at = a.at.as_nanos();
        let host = |name: &str| -> Result<HostId, crate::net::NetError> { net_host(&net, name) };
        match (&a.target, &a.action) {
            (ActionTarget::Participant(p), NetAction::Outage { duration }) => {
                let h = host(p)?;
                net.schedule_outage(h, at, duration.as_nanos());
            }
            (ActionTarget::Participant(p), NetAction::AddressChange) => {
                let h = host(p)?;
                net.schedule_address_change(h, at);
            }
            (ActionTarget::Participant(p), NetAction::SetProfile { profile, .. }) => {
                let h = host(p)?;
                net.schedule_profile_replace(h, at, profile)?;
            }
            (
                ActionTarget::Participant(p),
                NetAction::SetParam {
                    direction, change, ..
                },
            ) => {
                let h = host(p)?;
                net.schedule_profile_change(h, at, change.clone(), *direction)?;
            }
            (ActionTarget::Site(site), NetAction::CrossTrafficStart { flow })
                if flow.transport == crate::net::cross::FlowTransport::Tcp =>
            {
                super::cross_tcp::check_site(&net, site, flow)?;
            }
            (ActionTarget::Site(site), NetAction::CrossTrafficStart { flow }) => {
                let mut flow = flow.clone();
                flow.start = a.at;
                flow.stop = stops
                    .iter()
                    .find(|(s, n, t)| s == site && *n == flow.name && *t >= a.at)
                    .map(|(_, _, t)| *t);
                net.schedule_cross_traffic(site, flow)?;
            }
            (ActionTarget::Site(_), NetAction::CrossTrafficStop { .. }) => {}
            // The simulation takes the service down and up (`service_changes`).
            (ActionTarget::Service, NetAction::Outage { .. }) => {}
            (ActionTarget::Site(site), NetAction::Outage { duration }) => {
                net.schedule_site_outage(site, at, duration.as_nanos())?;
            }
            (ActionTarget::Site(site), NetAction::SetProfile { profile, .. }) => {
                net.schedule_site_profile_replace(site, at, profile)?;
            }
            (
                ActionTarget::Site(site),
                NetAction::SetParam {
                    direction, change, ..
                },
            ) => {
                net.schedule_site_profile_change(site, at, change.clone(), *direction)?;
            }
            (target, action) => {
                return Err(crate::net::NetError::Topology(format!(
                    "the action `{}` cannot apply to {target}",
                    action.kind()
                )))
            }
        }
    }
    Ok(net)
}

/// Refuses a timeline action the VPN tunnel of its participant cannot follow: a new address,
/// or a profile that adds or removes the tunnel (it is set up when the scenario starts).
fn check_tunnel_action(
    s: &Scenario,
    target: &ActionTarget,
    action: &NetAction,
) -> Result<(), crate::net::NetError> {
    let ActionTarget::Participant(name) = target else {
        return Ok(());
    };
    let Some(p) = s.participants.iter().find(|p| &p.name == name) else {
        return Ok(());
    };
    let refuse = |why: String| Err(crate::net::NetError::Topology(why));
    match action {
        NetAction::AddressChange if p.profile.tunnel.is_some() => refuse(format!(
            "the timeline changes the address of `{name}`, whose network `{}` is a VPN tunnel: \
             the tunnel's reconnection from a new address is not modelled",
            p.profile_name
        )),
        NetAction::SetProfile {
            profile_name,
            profile,
        } if profile.tunnel != p.profile.tunnel => refuse(format!(
            "the timeline gives `{name}` the profile `{profile_name}`, which {} a VPN tunnel \
             that its network `{}` {}: a tunnel is set up when the scenario starts and stays",
            if profile.tunnel.is_some() {
                "is"
            } else {
                "is not"
            },
            p.profile_name,
            if p.profile.tunnel.is_some() {
                "is"
            } else {
                "is not"
            },
        )),
        _ => Ok(()),
    }
}

fn net_host(net: &Network<Wire>, name: &str) -> Result<HostId, crate::net::NetError> {
    net.host_id(name)
        .ok_or_else(|| crate::net::NetError::Topology(format!("no host named `{name}`")))
}

/// Builds the world of `s` without running it: everything [`build_network`] would refuse
/// (a trace that cannot be found or read, a link the emulator cannot make, an action the
/// emulator cannot schedule) is refused here too, so `validate` and `run` agree.
pub fn check(s: &Scenario, trace_dirs: &[PathBuf]) -> Result<(), crate::net::NetError> {
    let net = build_network(s, 0, trace_dirs)?;
    for c in &s.calls {
        net_host(&net, &c.caller)?;
        if !c.test_call {
            net_host(&net, &c.callee)?;
        }
    }
    Ok(())
}
