//! One WebRTC peer connection (webrtc-rs's sans-IO `rtc` core) with one Opus audio track,
//! driven in simulated or real time.
//!
//! `Peer` is the only place that talks to `rtc`. It is sans-IO: datagrams and time go in, datagrams
//! to send and the next wake-up time come out. Time is nanoseconds since the run's start; `rtc`
//! wants `Instant`s, so a fixed `base` instant stands for time zero.
//!
//! ```ignore
//! let mut peer = Peer::new(PeerConfig { .. }, 0)?;
//! let offer = peer.create_offer(0)?;            // SDP text, with our host candidate in it
//! // ... signaling carries it; the answer comes back:
//! peer.apply_answer(now, &answer_sdp)?;
//! peer.handle_datagram(now, from, bytes)?;
//! while let Some(d) = peer.poll_datagram() { /* send d over the network */ }
//! ```

use super::rtcp_schedule::configure_scheduled_reports;
use super::rtt::{RtcpRtt, RttLog};
use bytes::{Bytes, BytesMut};
use rtc::interceptor::{Registry, Slot};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{MediaEngine, MIME_TYPE_OPUS};
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::event::RTCPeerConnectionEvent;
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::state::{RTCIceConnectionState, RTCPeerConnectionState};
use rtc::peer_connection::transport::{
    CandidateConfig, CandidateHostConfig, CandidateRelayConfig, CandidateServerReflexiveConfig,
    RTCIceCandidate,
};
use rtc::peer_connection::RTCPeerConnection;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};
use std::net::{SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Opus payload type we offer (the browsers' usual 111).
pub const OPUS_PT: u8 = 111;
/// Opus RTP clock rate: always 48 kHz (RFC 7587).
pub const OPUS_CLOCK: u32 = 48_000;

pub use super::ice::{IceTimeouts, ICE_TIMER_STEP};

/// What a peer needs to know to be built.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// Our media address (host candidate) on the emulated or real network.
    pub local: SocketAddrV4,
    /// SSRC of our outgoing audio, derived from the run's seed.
    pub ssrc: u32,
    /// ICE username fragment and password, derived from the run's seed.
    pub ice_ufrag: String,
    pub ice_pwd: String,
    /// ICE consent timers.
    pub ice: IceTimeouts,
    /// Seed for a fixed-size crypto provider (simulated time: see [`super::fixed_crypto`]);
    /// None uses the default provider.
    pub crypto_seed: Option<u64>,
    /// This client restarts ICE when its network changes (see [`Peer::restart_on`]).
    pub ice_restart: bool,
    /// Seed for the randomised RTCP report intervals (see [`super::rtcp_schedule`]).
    pub rtcp_seed: u64,
}

/// An error from the WebRTC stack, with what we were doing.
#[derive(Debug, thiserror::Error)]
#[error("{doing}: {source}")]
pub struct PeerError {
    pub doing: &'static str,
    #[source]
    pub source: rtc::shared::error::Error,
}

fn ctx(doing: &'static str) -> impl FnOnce(rtc::shared::error::Error) -> PeerError {
    move |source| PeerError { doing, source }
}

/// Connection milestones, as the stack reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerState {
    pub ice_connected: bool,
    pub connected: bool,
    pub ice_failed: bool,
    pub failed: bool,
    pub disconnected: bool,
}

/// A received RTP packet handed to the media code.
#[derive(Debug, Clone)]
pub struct ReceivedRtp {
    pub at: u64,
    pub seq: u16,
    pub timestamp: u32,
    pub payload: Bytes,
}

/// See the module docs.
pub struct Peer {
    pc: RTCPeerConnection,
    base: Instant,
    local: SocketAddrV4,
    ssrc: u32,
    sender: RTCRtpSenderId,
    payload_type: Option<u8>,
    state: PeerState,
    rtt: Arc<Mutex<RttLog>>,
    rtt_seen: usize,
    /// Milestones with their times (ns), in the order they happened.
    pub milestones: Vec<(u64, &'static str)>,
    /// Keeps the peer's repeated DTLS flights from cancelling our own retransmissions (an
    /// rtc 0.21 gap, see [`super::dtls_guard`]).
    pub dtls_guard: super::dtls_guard::DtlsRepeatGuard,
}

impl Peer {
    /// Builds the connection with one send-receive Opus track and our host candidate.
    pub fn new(cfg: &PeerConfig, base: Instant, now: u64) -> Result<Self, PeerError> {
        let mut media = MediaEngine::default();
        media
            .register_codec(
                RTCRtpCodecParameters {
                    rtp_codec: RTCRtpCodec {
                        mime_type: MIME_TYPE_OPUS.to_owned(),
                        clock_rate: OPUS_CLOCK,
                        channels: 2,
                        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                        rtcp_feedback: vec![],
                    },
                    payload_type: OPUS_PT,
                },
                RtpCodecKind::Audio,
            )
            .map_err(ctx("registering Opus"))?;
        let (rtt, rtt_log) = RtcpRtt::new(base, cfg.ssrc);
        let registry = configure_scheduled_reports(Registry::new(), cfg.rtcp_seed)
            .with(Slot::Custom(500), rtt);
        let mut settings = SettingEngineBuilder::new();
        // Seeded ICE credentials, except for a client that restarts ICE: rtc 0.21 reuses the
        // setting engine's credentials on a restart, and a restart the far end can see needs new
        // ones, so those come from rtc's own generator (same lengths, so timing still repeats).
        if !cfg.ice_restart {
            settings = settings.with_ice_credentials(cfg.ice_ufrag.clone(), cfg.ice_pwd.clone());
        }
        // rtc fails `failed` after `disconnected`; ours counts both from the last packet heard.
        let mut settings = settings.with_ice_timeouts(
            Some(cfg.ice.disconnected),
            Some(cfg.ice.failed.saturating_sub(cfg.ice.disconnected)),
            Some(cfg.ice.keepalive),
        );
        let mut config = RTCConfigurationBuilder::new();
        if let Some(seed) = cfg.crypto_seed {
            let provider =
                super::fixed_crypto::FixedSizeCrypto::new(seed).map_err(|e| PeerError {
                    doing: "creating the crypto provider",
                    source: rtc::shared::error::Error::Other(e.to_string()),
                })?;
            let cert = super::fixed_crypto::certificate(&*provider, seed)
                .map_err(ctx("generating the DTLS certificate"))?;
            config = config.with_certificates(vec![cert]);
            settings = settings.with_crypto_provider(provider);
        }
        let settings = settings.build();
        let instant = base + Duration::from_nanos(now);
        let mut pc = rtc::peer_connection::RTCPeerConnectionBuilder::new()
            .with_configuration(config.build())
            .with_media_engine(media)
            .with_setting_engine(settings)
            .with_interceptor_registry(registry)
            .build(instant)
            .map_err(ctx("creating the peer connection"))?;
        let track = MediaStreamTrack::new(
            "callharness".to_owned(),
            "audio".to_owned(),
            "audio".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(cfg.ssrc),
                    ..Default::default()
                },
                codec: RTCRtpCodec {
                    mime_type: MIME_TYPE_OPUS.to_owned(),
                    clock_rate: OPUS_CLOCK,
                    channels: 2,
                    sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
                    rtcp_feedback: vec![],
                },
                ..Default::default()
            }],
        );
        let sender = pc.add_track(track).map_err(ctx("adding the audio track"))?;
        let candidate = CandidateHostConfig {
            base_config: CandidateConfig {
                network: "udp".to_owned(),
                address: cfg.local.ip().to_string(),
                port: cfg.local.port(),
                component: 1,
                ..Default::default()
            },
            ..Default::default()
        }
        .new_candidate_host()
        .map_err(ctx("making the host candidate"))?;
        let init = RTCIceCandidate::from(&candidate)
            .to_json()
            .map_err(ctx("encoding the host candidate"))?;
        pc.add_local_candidate(init)
            .map_err(ctx("adding the host candidate"))?;
        Ok(Peer {
            pc,
            base,
            local: cfg.local,
            ssrc: cfg.ssrc,
            sender,
            payload_type: None,
            state: PeerState::default(),
            rtt: rtt_log,
            rtt_seen: 0,
            milestones: Vec::new(),
            dtls_guard: Default::default(),
        })
    }

    fn instant(&self, now: u64) -> Instant {
        self.base + Duration::from_nanos(now)
    }

    /// Our media address.
    pub fn local(&self) -> SocketAddrV4 {
        self.local
    }

    /// Our outgoing SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Creates the offer and sets it as local description; returns the SDP text.
    pub fn create_offer(&mut self, now: u64) -> Result<String, PeerError> {
        let offer = self
            .pc
            .create_offer(None)
            .map_err(ctx("creating the offer"))?;
        let sdp = offer.sdp.clone();
        self.pc
            .set_local_description(self.instant(now), offer)
            .map_err(ctx("setting the local offer"))?;
        Ok(sdp)
    }

    /// Applies a remote offer, creates and sets the answer; returns the answer's SDP text.
    pub fn answer(&mut self, now: u64, offer_sdp: &str) -> Result<String, PeerError> {
        let offer =
            RTCSessionDescription::offer(offer_sdp.to_owned()).map_err(ctx("parsing the offer"))?;
        self.pc
            .set_remote_description(self.instant(now), offer)
            .map_err(ctx("applying the remote offer"))?;
        let answer = self
            .pc
            .create_answer(None)
            .map_err(ctx("creating the answer"))?;
        let sdp = answer.sdp.clone();
        self.pc
            .set_local_description(self.instant(now), answer)
            .map_err(ctx("setting the local answer"))?;
        Ok(sdp)
    }

    /// Applies the remote answer.
    pub fn apply_answer(&mut self, now: u64, answer_sdp: &str) -> Result<(), PeerError> {
        let answer = RTCSessionDescription::answer(answer_sdp.to_owned())
            .map_err(ctx("parsing the answer"))?;
        self.pc
            .set_remote_description(self.instant(now), answer)
            .map_err(ctx("applying the remote answer"))
    }

    /// Our host moved to `new_local` (another access point): adds a host candidate there,
    /// restarts ICE and returns a new offer (SDP) for the far end. Media resumes once the far
    /// end has answered and ICE has checked the new pair.
    pub fn restart_on(&mut self, now: u64, new_local: SocketAddrV4) -> Result<String, PeerError> {
        self.local = new_local;
        let candidate = CandidateHostConfig {
            base_config: CandidateConfig {
                network: "udp".to_owned(),
                address: new_local.ip().to_string(),
                port: new_local.port(),
                component: 1,
                ..Default::default()
            },
            ..Default::default()
        }
        .new_candidate_host()
        .map_err(ctx("making the new host candidate"))?;
        let init = RTCIceCandidate::from(&candidate)
            .to_json()
            .map_err(ctx("encoding the new host candidate"))?;
        self.pc.restart_ice();
        self.pc
            .add_local_candidate(init)
            .map_err(ctx("adding the new host candidate"))?;
        self.create_offer(now)
    }

    /// Adds a relay candidate: `relayed` on the relay `server`, reached over `transport`.
    pub fn add_relay_candidate(
        &mut self,
        relayed: SocketAddrV4,
        transport: super::relay::RelayTransport,
        server: SocketAddrV4,
    ) -> Result<(), PeerError> {
        // RFC 8445 5.1.2: priority = 2^24 type preference (relay: 0) + 2^8 local preference +
        // (256 - component). Browsers prefer a relay reached over UDP to one over TCP, and
        // that to one over TLS (`turn:udp`, `turn:tcp`, `turns:`); so do we (local preference
        // 65535, 32767 and 16383).
        use super::relay::RelayTransport;
        let (local_pref, scheme): (u32, &str) = match transport {
            RelayTransport::Udp => (65_535, "turn"),
            RelayTransport::Tcp => (32_767, "turn"),
            RelayTransport::Tls => (16_383, "turns"),
        };
        let candidate = CandidateRelayConfig {
            base_config: CandidateConfig {
                network: "udp".to_owned(),
                address: relayed.ip().to_string(),
                port: relayed.port(),
                component: 1,
                priority: (local_pref << 8) + 255,
                ..Default::default()
            },
            rel_addr: self.local.ip().to_string(),
            rel_port: self.local.port(),
            url: Some(match transport {
                RelayTransport::Tls => format!("{scheme}:{server}?transport=tcp"),
                _ => format!("{scheme}:{server}?transport={}", transport.name()),
            }),
        }
        .new_candidate_relay()
        .map_err(ctx("making the relay candidate"))?;
        let init = RTCIceCandidate::from(&candidate)
            .to_json()
            .map_err(ctx("encoding the relay candidate"))?;
        self.pc
            .add_local_candidate(init)
            .map_err(ctx("adding the relay candidate"))
    }

    /// Adds a server-reflexive candidate: `mapped`, our host address as `server` saw it.
    pub fn add_srflx_candidate(
        &mut self,
        mapped: SocketAddrV4,
        server: SocketAddrV4,
    ) -> Result<(), PeerError> {
        let candidate = CandidateServerReflexiveConfig {
            base_config: CandidateConfig {
                network: "udp".to_owned(),
                address: mapped.ip().to_string(),
                port: mapped.port(),
                component: 1,
                ..Default::default()
            },
            rel_addr: self.local.ip().to_string(),
            rel_port: self.local.port(),
            url: Some(format!("stun:{server}")),
        }
        .new_candidate_server_reflexive()
        .map_err(ctx("making the server-reflexive candidate"))?;
        let init = RTCIceCandidate::from(&candidate)
            .to_json()
            .map_err(ctx("encoding the server-reflexive candidate"))?;
        self.pc
            .add_local_candidate(init)
            .map_err(ctx("adding the server-reflexive candidate"))
    }

    /// The remote description's SDP text, once set.
    pub fn remote_sdp(&self) -> Option<&str> {
        self.pc.remote_description().map(|d| d.sdp.as_str())
    }

    /// Hands a datagram that arrived at our media address to the stack.
    pub fn handle_datagram(
        &mut self,
        now: u64,
        from: SocketAddrV4,
        bytes: BytesMut,
    ) -> Result<(), PeerError> {
        self.handle_datagram_on(now, self.local, from, bytes)
    }

    /// Hands the stack a datagram that arrived at its candidate `local` (our host address,
    /// or a relayed address when the relay brought it).
    pub fn handle_datagram_on(
        &mut self,
        now: u64,
        local: SocketAddrV4,
        from: SocketAddrV4,
        bytes: BytesMut,
    ) -> Result<(), PeerError> {
        if self.dtls_guard.withhold(&bytes) {
            return Ok(());
        }
        let msg = TaggedBytesMut {
            now: self.instant(now),
            transport: TransportContext {
                local_addr: SocketAddr::V4(local),
                peer_addr: SocketAddr::V4(from),
                ecn: None,
                transport_protocol: TransportProtocol::UDP,
            },
            message: bytes,
        };
        self.pc.handle_read(msg).map_err(ctx("reading a datagram"))
    }

    /// The next datagram the stack wants sent: (from which of our candidates, destination,
    /// bytes).
    pub fn poll_datagram(&mut self) -> Option<(SocketAddrV4, SocketAddrV4, BytesMut)> {
        loop {
            let msg = self.pc.poll_write()?;
            self.dtls_guard.outbound(&msg.message);
            if let SocketAddr::V4(to) = msg.transport.peer_addr {
                let from = match msg.transport.local_addr {
                    SocketAddr::V4(a) => a,
                    SocketAddr::V6(_) => self.local,
                };
                return Some((from, to, msg.message));
            }
        }
    }

    /// The stack's next deadline, ns (None: nothing scheduled).
    pub fn poll_timeout(&mut self) -> Option<u64> {
        self.pc
            .poll_timeout()
            .map(|t| t.saturating_duration_since(self.base).as_nanos() as u64)
    }

    /// Lets the stack run its timers up to `now`.
    pub fn handle_timeout(&mut self, now: u64) -> Result<(), PeerError> {
        self.pc
            .handle_timeout(self.instant(now))
            .map_err(ctx("running timers"))
    }

    /// Drains connection events into our state; call after every input.
    pub fn poll_events(&mut self, now: u64) -> PeerState {
        while let Some(ev) = self.pc.poll_event() {
            match ev {
                RTCPeerConnectionEvent::OnIceConnectionStateChangeEvent(s) => match s {
                    RTCIceConnectionState::Connected | RTCIceConnectionState::Completed => {
                        if !self.state.ice_connected {
                            self.milestones.push((now, "ice-connected"));
                        }
                        self.state.ice_connected = true;
                        self.state.disconnected = false;
                    }
                    RTCIceConnectionState::Disconnected => {
                        self.state.disconnected = true;
                        self.milestones.push((now, "ice-disconnected"));
                    }
                    RTCIceConnectionState::Failed => {
                        self.state.ice_failed = true;
                        self.milestones.push((now, "ice-failed"));
                    }
                    _ => {}
                },
                RTCPeerConnectionEvent::OnConnectionStateChangeEvent(s) => match s {
                    RTCPeerConnectionState::Connected => {
                        if !self.state.connected {
                            self.milestones.push((now, "connected"));
                        }
                        self.state.connected = true;
                    }
                    RTCPeerConnectionState::Failed => {
                        self.state.failed = true;
                        self.milestones.push((now, "failed"));
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        self.state
    }

    /// The next received RTP packet of the remote audio (RTCP is handled inside the chain).
    pub fn poll_rtp(&mut self, now: u64) -> Option<ReceivedRtp> {
        loop {
            let TaggedRTCMessage { message, .. } = self.pc.poll_read()?;
            if let RTCMessage::RtpPacket(_, p) = message {
                return Some(ReceivedRtp {
                    at: now,
                    seq: p.header.sequence_number,
                    timestamp: p.header.timestamp,
                    payload: p.payload,
                });
            }
        }
    }

    /// Sends one audio frame as an RTP packet.
    pub fn send_audio(
        &mut self,
        now: u64,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
    ) -> Result<(), PeerError> {
        let instant = self.instant(now);
        let mut sender = match self.pc.rtp_sender(self.sender) {
            Some(s) => s,
            None => return Ok(()),
        };
        let pt = match self.payload_type {
            Some(pt) => pt,
            None => {
                let pt = sender
                    .get_parameters()
                    .rtp_parameters
                    .codecs
                    .first()
                    .map(|c| c.payload_type)
                    .unwrap_or(OPUS_PT);
                self.payload_type = Some(pt);
                pt
            }
        };
        let packet = rtc::rtp::packet::Packet {
            header: rtc::rtp::header::Header {
                version: 2,
                marker,
                payload_type: pt,
                sequence_number: seq,
                timestamp,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload,
        };
        sender
            .write_rtp(instant, packet)
            .map_err(ctx("sending an RTP packet"))
    }

    /// RTT samples (arrival ns, ms) measured since the last call.
    pub fn take_rtt_samples(&mut self, out: &mut Vec<(u64, f64)>) {
        if let Ok(log) = self.rtt.lock() {
            out.extend_from_slice(&log.samples[self.rtt_seen..]);
            self.rtt_seen = log.samples.len();
        }
    }

    /// Closes the connection.
    pub fn close(&mut self) {
        let _ = self.pc.close();
    }
}
