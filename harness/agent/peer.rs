//! One WebRTC peer connection (webrtc-rs's sans-IO `rtc` core) with one Opus audio track and,
//! for a video call, one video track (VP8 or H.264, NACK and PLI), driven in simulated or real
//! time.
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
use super::video::VideoCodec;
use bytes::{Bytes, BytesMut};
use rtc::interceptor::{NackGeneratorBuilder, NackResponderBuilder};
use rtc::interceptor::{Registry, Slot};
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{
    MediaEngine, MIME_TYPE_H264, MIME_TYPE_OPUS, MIME_TYPE_VP8,
};
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
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::RTCPFeedback;
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
/// VP8 and H.264 payload types we offer (libwebrtc's usual 96 and 102).
pub const VP8_PT: u8 = 96;
pub const H264_PT: u8 = 102;
/// Video RTP clock rate: always 90 kHz.
pub const VIDEO_CLOCK: u32 = 90_000;
/// NACKs per missing video packet before the receiver gives up on it (libwebrtc's 10).
pub const MAX_NACKS_PER_PACKET: u16 = 10;
/// SRTP replay window of a video call, packets (libwebrtc's).
pub const SRTP_REPLAY_WINDOW: usize = 1024;

/// The codec parameters we register and offer for `codec`.
fn video_codec(codec: VideoCodec) -> (RTCRtpCodec, u8) {
    let (mime, fmtp, pt) = match codec {
        VideoCodec::Vp8 => (MIME_TYPE_VP8, "", VP8_PT),
        // Constrained baseline 3.1 in packetization mode 1 (single NAL units and FU-A), what
        // browsers offer first.
        VideoCodec::H264 => (
            MIME_TYPE_H264,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
            H264_PT,
        ),
    };
    (
        RTCRtpCodec {
            mime_type: mime.to_owned(),
            clock_rate: VIDEO_CLOCK,
            channels: 0,
            sdp_fmtp_line: fmtp.to_owned(),
            rtcp_feedback: vec![],
        },
        pt,
    )
}

/// An RTP packet with our header fields.
fn rtp_packet(
    payload_type: u8,
    sequence_number: u16,
    timestamp: u32,
    marker: bool,
    ssrc: u32,
    payload: Bytes,
) -> rtc::rtp::packet::Packet {
    rtc::rtp::packet::Packet {
        header: rtc::rtp::header::Header {
            version: 2,
            marker,
            payload_type,
            sequence_number,
            timestamp,
            ssrc,
            ..Default::default()
        },
        payload,
    }
}

/// A video track's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerVideo {
    /// SSRC of our outgoing video.
    pub ssrc: u32,
    /// The codec we send (offered first; both are offered and received).
    pub codec: VideoCodec,
    /// Offer NACK (and run rtc's NACK generator and responder). PLI is ours either way.
    pub nack: bool,
}

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
    /// A video track beside the audio (None: an audio call).
    pub video: Option<PeerVideo>,
    /// Transport-wide congestion control with this estimator (video calls).
    pub bwe: Option<super::congestion::SharedBwe>,
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
    /// The video codec its payload type stands for (None: audio).
    pub video: Option<VideoCodec>,
    pub marker: bool,
    pub ssrc: u32,
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
    video: Option<PeerVideo>,
    video_sender: Option<RTCRtpSenderId>,
    video_pt: Option<u8>,
    /// Keyframe requests (PLI or FIR) for our video taken so far.
    keyframe_requests: u32,
    /// Video payload types seen and the codec each stands for.
    received_pts: Vec<(u8, VideoCodec)>,
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
        if let Some(v) = cfg.video {
            // Our codec first (the one we would rather receive too), then the other.
            let other = match v.codec {
                VideoCodec::Vp8 => VideoCodec::H264,
                VideoCodec::H264 => VideoCodec::Vp8,
            };
            for c in [v.codec, other] {
                let (rtp_codec, payload_type) = video_codec(c);
                media
                    .register_codec(
                        RTCRtpCodecParameters {
                            rtp_codec,
                            payload_type,
                        },
                        RtpCodecKind::Video,
                    )
                    .map_err(ctx("registering a video codec"))?;
            }
        }
        let (rtt, rtt_log) = RtcpRtt::new(base, cfg.ssrc);
        let rtt = rtt
            .with_video(cfg.video.map(|v| v.ssrc))
            .with_twcc_coverage(cfg.bwe.as_ref().map(|b| b.coverage()));
        let mut registry = configure_scheduled_reports(Registry::new(), cfg.rtcp_seed)
            .with(Slot::Custom(500), rtt);
        if cfg.video.is_some_and(|v| v.nack) {
            // NACK and PLI feedback for video, and rtc's NACK generator and responder. No RTX
            // codec: without one the responder resends the original packet, and the receiver
            // counts each packet once (see `video_rtp::assemble`).
            // At most 10 requests a packet, as libwebrtc's kMaxNackRetries.
            for parameter in ["", "pli"] {
                media.register_feedback(
                    RTCPFeedback {
                        typ: "nack".to_owned(),
                        parameter: parameter.to_owned(),
                    },
                    RtpCodecKind::Video,
                );
            }
            registry = registry
                .with(Slot::NackResponder, NackResponderBuilder::new().build())
                .with(
                    Slot::NackGenerator,
                    NackGeneratorBuilder::new()
                        .with_max_nacks_per_packet(MAX_NACKS_PER_PACKET)
                        .build(),
                );
        }
        if let Some(bwe) = &cfg.bwe {
            registry = super::congestion::configure(registry, &mut media, bwe.clone())
                .map_err(ctx("configuring congestion control"))?;
        }
        let mut settings = SettingEngineBuilder::new();
        // Seeded ICE credentials, except for a client that restarts ICE: rtc 0.21 reuses the
        // setting engine's credentials on a restart, and a restart the far end can see needs new
        // ones, so those come from rtc's own generator (same lengths, so timing still repeats).
        if !cfg.ice_restart {
            settings = settings.with_ice_credentials(cfg.ice_ufrag.clone(), cfg.ice_pwd.clone());
        }
        // rtc fails `failed` after `disconnected`; ours counts both from the last packet heard.
        if cfg.video.is_some() {
            // A retransmission answers a NACK with the original packet (no RTX), which comes
            // after packets sent later: SRTP's default 64-packet replay window would refuse the
            // repairs of a loss longer than about a second of video. libwebrtc uses 1024.
            settings = settings.with_srtp_replay_protection_window(SRTP_REPLAY_WINDOW);
        }
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
        let video_sender = match cfg.video {
            Some(v) => {
                let (codec, _) = video_codec(v.codec);
                let track = MediaStreamTrack::new(
                    "callharness".to_owned(),
                    "video".to_owned(),
                    "video".to_owned(),
                    RtpCodecKind::Video,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters {
                            ssrc: Some(v.ssrc),
                            ..Default::default()
                        },
                        codec,
                        ..Default::default()
                    }],
                );
                Some(pc.add_track(track).map_err(ctx("adding the video track"))?)
            }
            None => None,
        };
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
            video: cfg.video,
            video_sender,
            video_pt: None,
            keyframe_requests: 0,
            received_pts: Vec::new(),
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

    /// The next received RTP packet, audio or video (RTCP is handled inside the chain).
    pub fn poll_rtp(&mut self, now: u64) -> Option<ReceivedRtp> {
        loop {
            let TaggedRTCMessage { message, .. } = self.pc.poll_read()?;
            if let RTCMessage::RtpPacket(_, p) = message {
                let pt = p.header.payload_type;
                let video = match pt {
                    OPUS_PT => None,
                    _ => match self.received_pts.iter().find(|(t, _)| *t == pt) {
                        Some(&(_, c)) => Some(c),
                        None => {
                            let c = self.video_codec_of(pt);
                            if let Some(c) = c {
                                self.received_pts.push((pt, c));
                            }
                            c
                        }
                    },
                };
                if pt != OPUS_PT && video.is_none() {
                    continue; // a payload type we did not negotiate
                }
                return Some(ReceivedRtp {
                    at: now,
                    seq: p.header.sequence_number,
                    timestamp: p.header.timestamp,
                    payload: p.payload,
                    video,
                    marker: p.header.marker,
                    ssrc: p.header.ssrc,
                });
            }
        }
    }

    /// The video codec a received payload type stands for, from what was negotiated.
    fn video_codec_of(&mut self, pt: u8) -> Option<VideoCodec> {
        self.video?;
        let ids: Vec<_> = self.pc.get_receivers().collect();
        for id in ids {
            let Some(mut r) = self.pc.rtp_receiver(id) else {
                continue;
            };
            if r.track().kind() != RtpCodecKind::Video {
                continue;
            }
            for c in &r.get_parameters().rtp_parameters.codecs {
                if c.payload_type == pt {
                    let mime = c.rtp_codec.mime_type.to_ascii_lowercase();
                    if mime == MIME_TYPE_VP8.to_ascii_lowercase() {
                        return Some(VideoCodec::Vp8);
                    }
                    if mime == MIME_TYPE_H264.to_ascii_lowercase() {
                        return Some(VideoCodec::H264);
                    }
                }
            }
        }
        // Before the receiver knows its parameters, our own registration says the same.
        match pt {
            VP8_PT => Some(VideoCodec::Vp8),
            H264_PT => Some(VideoCodec::H264),
            _ => None,
        }
    }

    /// Keyframe requests (PLI, FIR) for our video that arrived since the last call (counted in
    /// the chain by [`RtcpRtt`]).
    pub fn take_keyframe_requests(&mut self) -> u32 {
        let total = self.rtt.lock().map_or(0, |l| l.keyframe_requests);
        let new = total.saturating_sub(self.keyframe_requests);
        self.keyframe_requests = total;
        new
    }

    /// Asks the far end for a keyframe of its video `media_ssrc` (a PLI, RFC 4585 6.3.1).
    pub fn send_pli(&mut self, now: u64, media_ssrc: u32) -> Result<(), PeerError> {
        let Some(v) = self.video else { return Ok(()) };
        let instant = self.instant(now);
        let ids: Vec<_> = self.pc.get_receivers().collect();
        for id in ids {
            let Some(mut r) = self.pc.rtp_receiver(id) else {
                continue;
            };
            if r.track().kind() == RtpCodecKind::Video {
                let pli = PictureLossIndication {
                    sender_ssrc: v.ssrc,
                    media_ssrc,
                };
                return r
                    .write_rtcp(instant, vec![Box::new(pli)])
                    .map_err(ctx("sending a PLI"));
            }
        }
        Ok(())
    }

    /// Sends one video RTP packet of our video track (payload type: our codec's, as
    /// negotiated).
    pub fn send_video(
        &mut self,
        now: u64,
        seq: u16,
        timestamp: u32,
        marker: bool,
        payload: Bytes,
    ) -> Result<(), PeerError> {
        let (Some(v), Some(id)) = (self.video, self.video_sender) else {
            return Ok(());
        };
        let instant = self.instant(now);
        let Some(mut sender) = self.pc.rtp_sender(id) else {
            return Ok(());
        };
        let pt = match self.video_pt {
            Some(pt) => pt,
            None => {
                let want = video_codec(v.codec).0.mime_type.to_ascii_lowercase();
                let negotiated = sender
                    .get_parameters()
                    .rtp_parameters
                    .codecs
                    .iter()
                    .find(|c| c.rtp_codec.mime_type.to_ascii_lowercase() == want)
                    .map(|c| c.payload_type);
                let Some(pt) = negotiated else {
                    // Connected without our codec: the far end did not accept it. Say so
                    // rather than count frames nobody could send.
                    return Err(PeerError {
                        doing: "sending video",
                        source: rtc::shared::error::Error::Other(format!(
                            "the far end did not accept {}",
                            v.codec.name()
                        )),
                    });
                };
                self.video_pt = Some(pt);
                pt
            }
        };
        sender
            .write_rtp(
                instant,
                rtp_packet(pt, seq, timestamp, marker, v.ssrc, payload),
            )
            .map_err(ctx("sending a video RTP packet"))
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
        sender
            .write_rtp(
                instant,
                rtp_packet(pt, seq, timestamp, marker, self.ssrc, payload),
            )
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
