//! A call agent: one side of one call, sans-IO.
//!
//! A [`CallLeg`] owns one WebRTC peer connection ([`peer::Peer`], webrtc-rs's `rtc` core), the
//! call's signaling ([`signaling::Signaling`]), an audio source and a receive pipeline
//! ([`media`]). It is handed datagrams and the time, and hands back datagrams to send and when to
//! wake it; it never reads a clock or touches a socket, so the same code runs in simulated time
//! (`sim/`) and, later, on real sockets.
//!
//! ```ignore
//! let mut leg = CallLeg::new(cfg, base_instant, now)?;
//! leg.start(now);                                   // the caller sends its offer
//! loop {
//!     while let Some(t) = leg.poll_transmit(now) { network.send(now, t) }
//!     let wake = leg.poll_timeout();
//!     // ... deliver datagrams with leg.handle_media / leg.handle_signal, or leg.handle_timeout
//! }
//! ```

pub mod account;
pub mod bwe;
pub mod congestion;
pub mod dtls_guard;
pub mod fixed_crypto;
pub mod gather;
pub mod ice;
pub mod media;
pub mod peer;
pub mod relay;
pub mod rtcp_schedule;
pub mod rtt;
pub mod signaling;
pub mod tls;
pub mod video;
pub mod video_rtp;
pub mod video_sender;

pub use crate::service::Refusal;
use bytes::BytesMut;
use gather::{CandidateKind, Gathering, RelaySpec};
use media::{OpusConfig, ReceiveConfig, ReceivePipeline, SendPipeline};
use peer::{Peer, PeerConfig, PeerError};
use signaling::{Envelope, SignalBody, Signaling};
use std::net::SocketAddrV4;
use std::time::Instant;

/// Which side of the call this leg is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Caller,
    Callee,
}

/// Why a call did not connect, or ended badly: what the client would show, typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FailureClass {
    /// Signaling never completed (offer or answer not delivered in time).
    SignalingTimeout,
    /// ICE found no working candidate pair.
    IceFailed,
    /// ICE connected but the DTLS handshake did not complete.
    DtlsFailed,
    /// The call connected, then lost its media path (ICE failed afterwards).
    CallDropped,
    /// The WebRTC stack reported an error we could not go on from.
    StackError,
    /// The client could not reach the calling service at all (its sign-in went unanswered):
    /// the network is down, not the service (NET-OFFLINE).
    NetworkDown,
    /// The client's microphone or speaker is missing or held by another program: it places
    /// and answers no call, before any network traffic for it (DEV-MISSING, DEV-IN-USE).
    AudioDeviceUnavailable,
    /// The calling service refused: sign-in, policy, version, outage (see [`Refusal`]).
    Refused(Refusal),
}

impl FailureClass {
    /// The stable kebab-case name used in scenarios and reports.
    pub fn name(self) -> &'static str {
        match self {
            FailureClass::SignalingTimeout => "signaling-timeout",
            FailureClass::IceFailed => "ice-failed",
            FailureClass::DtlsFailed => "dtls-failed",
            FailureClass::CallDropped => "call-dropped",
            FailureClass::StackError => "stack-error",
            FailureClass::NetworkDown => "network-down",
            FailureClass::AudioDeviceUnavailable => "audio-device-unavailable",
            FailureClass::Refused(r) => r.class(),
        }
    }

    /// Every class the agent itself gives, in a fixed order (the service's refusals are in
    /// [`Refusal::ALL`]).
    pub const ALL: [FailureClass; 7] = [
        FailureClass::SignalingTimeout,
        FailureClass::IceFailed,
        FailureClass::DtlsFailed,
        FailureClass::CallDropped,
        FailureClass::StackError,
        FailureClass::NetworkDown,
        FailureClass::AudioDeviceUnavailable,
    ];

    /// Parses a kebab-case name (the agent's classes and the service's refusals).
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain(Refusal::ALL.into_iter().map(FailureClass::Refused))
            .find(|c| c.name() == s)
    }

    /// The message a client would show, in the KB articles' words where they have one.
    pub fn client_message(self) -> &'static str {
        match self {
            FailureClass::SignalingTimeout => {
                "The call could not be set up: the other party could not be reached."
            }
            FailureClass::IceFailed => "Cannot start audio/video due to network issues.",
            FailureClass::DtlsFailed => {
                "The call could not be connected securely. Cannot start audio/video due to network issues."
            }
            FailureClass::CallDropped => {
                "The call was dropped: network issues are affecting the quality of audio/video."
            }
            FailureClass::StackError => "The call failed because of an internal error.",
            FailureClass::NetworkDown => {
                "Can't connect: check your network connection (the service itself reports no problem)."
            }
            FailureClass::AudioDeviceUnavailable => {
                "Your audio device is not configured or is in use."
            }
            FailureClass::Refused(r) => r.client_words(),
        }
    }
}

impl std::fmt::Display for FailureClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The SDP with its `o=` line's session id and version replaced by fixed-width values derived
/// from `seed`. rtc 0.21 fills them from an unseeded RNG and the wall clock, so their digit
/// count (and the signaling message's size on the emulated network) changed from run to run.
/// The far end only compares the session id between offers, which this keeps stable.
pub fn fixed_origin(sdp: &str, seed: u32) -> String {
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        match line.strip_prefix("o=") {
            Some(rest) => {
                let f: Vec<&str> = rest.split_whitespace().collect();
                if f.len() == 6 {
                    let id = 1_000_000_000_000_000_000u64 + u64::from(seed) * 1_000_003;
                    let eol = if line.ends_with("\r\n") { "\r\n" } else { "\n" };
                    out.push_str(&format!(
                        "o={} {id} 2 {} {} {}{eol}",
                        f[0], f[3], f[4], f[5]
                    ));
                } else {
                    out.push_str(line);
                }
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The sequence number of an RTP (not RTCP) datagram, read from its header (in the clear under
/// SRTP); None for STUN, DTLS, RTCP or anything shorter than an RTP header. RFC 7983: a first
/// byte of 128-191 is RTP or RTCP; RTCP's packet types 192-223 put the second byte's low seven
/// bits in 64-95, which no dynamic RTP payload type we negotiate uses.
pub fn rtp_sequence(b: &[u8]) -> Option<u16> {
    if b.len() < 12 || b[0] >> 6 != 2 || (64..=95).contains(&(b[1] & 0x7f)) {
        return None;
    }
    Some(u16::from_be_bytes([b[2], b[3]]))
}

/// A failure with its class and the detail of what happened.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub class: FailureClass,
    /// The service's response code, when the service refused.
    pub code: Option<crate::service::Code>,
    /// Simulated time, ns.
    pub at: u64,
    /// What the harness saw, for people reading the report.
    pub detail: String,
}

/// Where the audio comes from.
#[derive(Clone)]
pub enum AudioSource {
    /// Frames encoded once per run and replayed from `offset` (cycling).
    Replay(std::sync::Arc<media::EncodedClip>, usize),
    /// A speech-like source with this seed, encoded frame by frame.
    Live(u64),
    /// A dead microphone in live mode: digital silence, encoded frame by frame.
    LiveSilence,
}

/// Everything a leg needs to be built.
#[derive(Clone)]
pub struct CallLegConfig {
    pub role: Role,
    /// Our media address (host candidate).
    pub media_addr: SocketAddrV4,
    pub ssrc: u32,
    pub first_seq: u16,
    pub first_timestamp: u32,
    pub ice_ufrag: String,
    pub ice_pwd: String,
    pub source: AudioSource,
    /// Receive side: statistics windows, jitter buffer, and whether to decode (measures
    /// concealment; off for network-only load runs).
    pub receive: ReceiveConfig,
    /// How long a signaling message may go unacknowledged, ns.
    pub signaling_deadline: u64,
    /// How long after the offer the call must be connected, ns.
    pub connect_timeout: u64,
    /// ICE consent timers (disconnected, failed, keepalive).
    pub ice: peer::IceTimeouts,
    /// Our encoder's settings in live mode (a replayed clip carries its own).
    pub opus: OpusConfig,
    /// Seed for the fixed-size crypto provider (simulated time), None for the default.
    pub crypto_seed: Option<u64>,
    /// Restart ICE when our host's network changes (a new address): what newer clients do,
    /// and the KB's fix for calls dropped while roaming between access points.
    pub ice_restart: bool,
    /// After hanging up, how long media still arriving is taken in (packets already in
    /// flight), ns.
    pub hangup_grace: u64,
    /// Seed for the randomised RTCP report intervals.
    pub rtcp_seed: u64,
    /// The echo test service's side of a test call: every audio packet received is sent
    /// straight back (own sequence numbers, the sender's timing), nothing of its own.
    pub echo: bool,
    /// Whether the client may capture and send audio: false when the app has no permission
    /// for the microphone (DEV-PERMISSION). The call still connects; no RTP leaves this leg.
    pub send_audio: bool,
    /// The microphone's capture stalls (an outdated driver, DEV-DRIVER-OLD): the model and the
    /// seed of its schedule; None for a healthy capture.
    pub capture_stalls: Option<(media::capture::StallModel, u64)>,
    /// The microphone's driver captures at 44.1 kHz what the client opened at 48 kHz
    /// ([`media::send::WRONG_RATE`]).
    pub capture_wrong_rate: bool,
    /// The TURN servers to gather relay candidates from (none: host candidate only).
    pub relays: Vec<RelaySpec>,
    /// How long gathering may take before the offer (or answer) goes without the candidates
    /// still missing, ns.
    pub gather_timeout: u64,
    /// A video track beside the audio (None: an audio call).
    pub video: Option<VideoLegConfig>,
}

/// A leg's video track.
#[derive(Clone)]
pub struct VideoLegConfig {
    /// Our video SSRC and the first sequence number and timestamp we send.
    pub ssrc: u32,
    pub first_seq: u16,
    pub first_timestamp: u32,
    /// The codec we send and offer first.
    pub codec: video::VideoCodec,
    /// What the camera gives, encoded: the configured layer and, for a client that adapts, the
    /// smaller ones (None: we send no video; we still receive it).
    pub clip: Option<std::sync::Arc<video_rtp::ladder::VideoLadder>>,
    /// Follow the bandwidth estimate down and up the ladder.
    pub adaptation: bool,
    pub receive: video_rtp::receive::VideoReceiveConfig,
    /// NACK and PLI feedback negotiated (both clients ask for retransmissions).
    pub nack: bool,
    /// Decode received video to pixels, against the far end's camera when known.
    pub pixels: Option<Option<video_rtp::pixels::Reference>>,
    /// Why we send no video although the call has it: (what the client says, empty when it
    /// says nothing; what the harness saw), e.g. a camera in use.
    pub no_video: Option<(String, String)>,
}

/// Bytes an audio packet carries besides its Opus payload at the RTP level: the 12-byte
/// header and, on a video call, the transport-wide sequence number extension (8 bytes).
const AUDIO_RTP_OVERHEAD: usize = 20;

/// The audio send rate at the RTP level, bit/s (the Opus bitrate and the headers).
fn audio_rtp_bps(opus: &media::codec::OpusConfig) -> f64 {
    let packets = 1000.0 / f64::from(opus.frame_ms.max(1));
    f64::from(opus.bitrate_bps) + packets * AUDIO_RTP_OVERHEAD as f64 * 8.0
}

/// Something the leg wants sent.
#[derive(Debug)]
pub enum Transmit {
    /// A media-path datagram (STUN, DTLS, SRTP, SRTCP) from our media address.
    Media {
        from: SocketAddrV4,
        to: SocketAddrV4,
        bytes: BytesMut,
    },
    /// A signaling message to the other side of the call.
    Signal(Envelope),
    /// Bytes for the TCP stream from our `from` to `to` (opened by the host's stack if it is
    /// not open yet): our TURN client's connection to a relay over TCP.
    Stream {
        from: SocketAddrV4,
        to: SocketAddrV4,
        bytes: Vec<u8>,
    },
}

/// One side of one call; see the module docs.
pub struct CallLeg {
    cfg: CallLegConfig,
    peer: Peer,
    signaling: Signaling,
    send: SendPipeline,
    recv: ReceivePipeline,
    out: Vec<Transmit>,
    /// When the offer was created (caller) or received (callee), ns.
    pub offer_at: Option<u64>,
    /// When the peer connection reached `connected`, ns.
    pub connected_at: Option<u64>,
    /// When the first audio frame was played out from what we received, ns.
    pub first_audio_at: Option<u64>,
    pub failure: Option<Failure>,
    /// True once the call is over for this leg (hung up, or failed).
    pub ended: bool,
    /// When the leg ended, ns.
    pub ended_at: Option<u64>,
    /// The far end hung up.
    pub remote_hung_up: bool,
    /// RTT samples: (arrival ns, ms).
    pub rtt_samples: Vec<(u64, f64)>,
    /// Our RTP packets the emulated network dropped (counted by the simulation, which sees
    /// the emulator's drop records; stays 0 on a real network).
    pub rtp_dropped_by_network: u64,
    /// Errors the stack returned from its timers and went on from, and the first of them.
    pub stack_errors: u64,
    pub first_stack_error: Option<String>,
    sending: bool,
    /// Audio packets the echo service sent back.
    pub echoed: u64,
    answered: bool,
    /// The peer connection is closed (after the hang-up grace period).
    closed: bool,
    /// A re-offer (ICE restart) is waiting for its answer.
    reoffer_pending: bool,
    /// ICE restarts this leg started.
    pub ice_restarts: u64,
    /// When the peer connection closes after a hang-up, ns.
    close_at: Option<u64>,
    /// Our candidates as they are gathered, and the relays behind them.
    gathering: Gathering,
    /// The caller was asked to start while gathering: it offers when gathering ends.
    offer_wanted: bool,
    /// The first offer, when it came before gathering ended (the callee answers then).
    pending_offer: Option<String>,
    /// The far end's candidates, from its description: (address, type, protocol).
    remote_candidates: Vec<(SocketAddrV4, CandidateKind, String)>,
    /// The path media last took: (our candidate's address, the far end's address).
    path: Option<(SocketAddrV4, SocketAddrV4)>,
    /// Our video, when we send it, and the far end's as we receive it.
    video_send: Option<video_sender::VideoSender>,
    /// Our bandwidth estimator (video calls).
    bwe: Option<congestion::SharedBwe>,
    video_recv: Option<video_rtp::receive::VideoReceivePipeline>,
    /// Video packets the stack sent again (a NACK answered), seen on the wire.
    pub video_retransmitted: u64,
    video_highest_sent: Option<u16>,
}

impl CallLeg {
    /// Builds the leg (the peer connection with its track and host candidate).
    pub fn new(cfg: CallLegConfig, base: Instant, now: u64) -> Result<Self, PeerError> {
        // Every video client runs transport-wide congestion control (and answers with
        // feedback); only one that adapts follows the estimate.
        let audio_bps = audio_rtp_bps(&cfg.opus);
        let bwe_cfg = |v: &VideoLegConfig| bwe::BweConfig {
            max_bps: v
                .clip
                .as_ref()
                .map_or(bwe::BweConfig::default().max_bps, |l| {
                    video_sender::VideoSender::max_bps(l, audio_bps)
                }),
            ..bwe::BweConfig::default()
        };
        let bwe = cfg
            .video
            .as_ref()
            .map(|v| congestion::SharedBwe::new(base, bwe_cfg(v)));
        let peer = Peer::new(
            &PeerConfig {
                local: cfg.media_addr,
                ssrc: cfg.ssrc,
                ice_ufrag: cfg.ice_ufrag.clone(),
                ice_pwd: cfg.ice_pwd.clone(),
                ice: cfg.ice,
                crypto_seed: cfg.crypto_seed,
                ice_restart: cfg.ice_restart,
                rtcp_seed: cfg.rtcp_seed,
                video: cfg.video.as_ref().map(|v| peer::PeerVideo {
                    ssrc: v.ssrc,
                    codec: v.codec,
                    nack: v.nack,
                }),
                bwe: bwe.clone(),
            },
            base,
            now,
        )?;
        let encoder_error = |e: media::codec::CodecError| PeerError {
            doing: "creating the Opus encoder",
            source: rtc::shared::error::Error::Other(e.to_string()),
        };
        let send = match &cfg.source {
            AudioSource::Replay(clip, offset) => {
                SendPipeline::replay(clip.clone(), *offset, cfg.first_seq, cfg.first_timestamp)
            }
            AudioSource::Live(seed) => {
                SendPipeline::live(*seed, cfg.opus, cfg.first_seq, cfg.first_timestamp)
                    .map_err(encoder_error)?
            }
            AudioSource::LiveSilence => {
                SendPipeline::live_silence(cfg.opus, cfg.first_seq, cfg.first_timestamp)
                    .map_err(encoder_error)?
            }
        };
        let send = if cfg.capture_wrong_rate {
            send.with_capture_rate(media::send::WRONG_RATE)
        } else {
            send
        };
        let send = match cfg.capture_stalls {
            Some((model, seed)) => {
                send.with_stalls(media::capture::CaptureStalls::new(model, seed))
            }
            None => send,
        };
        let recv = ReceivePipeline::new(cfg.receive).map_err(|e| PeerError {
            doing: "creating the Opus decoder",
            source: rtc::shared::error::Error::Other(e.to_string()),
        })?;
        let gathering = Gathering::start(now, cfg.media_addr, &cfg.relays, cfg.gather_timeout);
        let video_send = cfg.video.as_ref().and_then(|v| {
            v.clip.as_ref().map(|c| {
                video_sender::VideoSender::new(
                    c.clone(),
                    v.first_seq,
                    v.first_timestamp,
                    v.adaptation,
                    (
                        bwe_cfg(v).start_bps as f64,
                        bwe_cfg(v).max_bps as f64,
                        audio_bps,
                    ),
                )
            })
        });
        let video_recv = cfg.video.as_ref().map(|v| {
            let p = video_rtp::receive::VideoReceivePipeline::new(v.receive);
            match &v.pixels {
                Some(reference) => p.with_pixels(reference.clone()),
                None => p,
            }
        });
        let mut leg = CallLeg {
            bwe,
            video_send,
            video_recv,
            video_retransmitted: 0,
            video_highest_sent: None,
            gathering,
            offer_wanted: false,
            pending_offer: None,
            remote_candidates: Vec::new(),
            path: None,
            signaling: Signaling::new(cfg.signaling_deadline),
            cfg,
            peer,
            send,
            recv,
            out: Vec::new(),
            offer_at: None,
            connected_at: None,
            first_audio_at: None,
            failure: None,
            ended: false,
            ended_at: None,
            remote_hung_up: false,
            rtt_samples: Vec::new(),
            rtp_dropped_by_network: 0,
            stack_errors: 0,
            first_stack_error: None,
            sending: false,
            echoed: 0,
            answered: false,
            closed: false,
            close_at: None,
            reoffer_pending: false,
            ice_restarts: 0,
        };
        // Gathering starts now: the allocation requests go out with the leg's first transmits.
        leg.drain_relays();
        Ok(leg)
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.cfg.role
    }

    /// The SSRC of the audio we send.
    pub fn ssrc(&self) -> u32 {
        self.cfg.ssrc
    }

    /// The leg's signaling channel (the simulation carries it over real TCP).
    pub fn signaling(&mut self) -> &mut Signaling {
        &mut self.signaling
    }

    /// Our media address.
    pub fn media_addr(&self) -> SocketAddrV4 {
        self.cfg.media_addr
    }

    /// The caller places the call: creates the offer and sends it, once its candidates are
    /// gathered (at once when they are).
    pub fn start(&mut self, now: u64) {
        if self.cfg.role != Role::Caller {
            return;
        }
        if !self.gathering.is_done() {
            self.offer_wanted = true;
            self.pump(now);
            return;
        }
        self.offer(now);
        self.pump(now);
    }

    fn offer(&mut self, now: u64) {
        self.offer_wanted = false;
        match self.peer.create_offer(now) {
            Ok(sdp) => {
                self.offer_at = Some(now);
                let sdp = fixed_origin(&sdp, self.cfg.ssrc);
                self.signaling.send(now, SignalBody::Offer(sdp));
            }
            Err(e) => self.fail(now, FailureClass::StackError, e.to_string()),
        }
    }

    /// Answers the far end's offer `sdp`.
    fn answer(&mut self, now: u64, sdp: &str) {
        match self.peer.answer(now, sdp) {
            Ok(answer) => {
                self.remote_candidates = gather::remote_candidates(sdp);
                let answer = fixed_origin(&answer, self.cfg.ssrc);
                self.signaling.send(now, SignalBody::Answer(answer))
            }
            Err(e) => self.fail(now, FailureClass::StackError, e.to_string()),
        }
    }

    /// Takes in what the relays did; when gathering ends, sends what waited for it.
    fn update_gathering(&mut self, now: u64) {
        match self.gathering.update(now, Some(&mut self.peer)) {
            Ok(true) if !self.ended => {
                if self.offer_wanted {
                    self.offer(now);
                }
                if let Some(sdp) = self.pending_offer.take() {
                    self.answer(now, &sdp);
                }
            }
            Ok(_) => {}
            Err(e) => self.fail(now, FailureClass::StackError, e.to_string()),
        }
    }

    /// Ends a call that has not connected, with the failure class its state shows: no answer
    /// (signaling), no working candidate pair (ICE), or ICE up but no secure connection (DTLS).
    /// `when` says when it was given up ("within 30 s", "when the scenario ended").
    pub fn give_up_connecting(&mut self, now: u64, when: &str) {
        if self.connected_at.is_some() || self.ended {
            return;
        }
        let st = self.peer.poll_events(now);
        let (class, detail) = if self.cfg.role == Role::Caller && !self.answered {
            (FailureClass::SignalingTimeout, "no answer arrived")
        } else if st.ice_connected {
            (FailureClass::DtlsFailed, "ICE connected but DTLS did not")
        } else {
            (FailureClass::IceFailed, "no ICE candidate pair succeeded")
        };
        let errors = match &self.first_stack_error {
            Some(e) => format!(
                " (the stack reported {} error(s), the first: {e})",
                self.stack_errors
            ),
            None => String::new(),
        };
        self.fail(now, class, format!("{detail} {when}{errors}"));
    }

    /// Our host got a new address. With `ice_restart`, a connected call restarts ICE from the
    /// new address and re-offers; without it the old path is simply gone (the stack notices when
    /// its checks stop being answered: disconnected, then failed, and the call drops).
    pub fn network_changed(&mut self, now: u64, new_ip: std::net::Ipv4Addr) {
        let new_addr = SocketAddrV4::new(new_ip, self.cfg.media_addr.port());
        if !self.cfg.ice_restart || self.ended || self.connected_at.is_none() {
            return;
        }
        self.cfg.media_addr = new_addr;
        match self.peer.restart_on(now, new_addr) {
            Ok(sdp) => {
                self.ice_restarts += 1;
                self.reoffer_pending = true;
                let sdp = fixed_origin(&sdp, self.cfg.ssrc);
                self.signaling.send(now, SignalBody::Offer(sdp));
            }
            Err(e) => self.fail(now, FailureClass::StackError, e.to_string()),
        }
        self.pump(now);
    }

    /// Hangs up: tells the far end and stops.
    pub fn hang_up(&mut self, now: u64) {
        if self.ended {
            return;
        }
        self.signaling.send(now, SignalBody::Hangup);
        self.end(now);
        self.pump(now);
    }

    /// The call is over for this leg: nothing more is sent. Media already in flight is still
    /// taken in for the grace period (a hang-up, not a failure), then the connection closes.
    fn end(&mut self, now: u64) {
        self.ended = true;
        self.ended_at = Some(now);
        self.sending = false;
        if self.failure.is_some() || self.cfg.hangup_grace == 0 {
            self.close();
        } else {
            self.close_at = Some(now + self.cfg.hangup_grace);
        }
    }

    fn close(&mut self) {
        if !self.closed {
            // When it closes: at the end of the hang-up grace, or when the call ended.
            let at = self.close_at.or(self.ended_at).unwrap_or(0);
            self.closed = true;
            self.close_at = None;
            self.peer.close();
            self.gathering.release(at);
            self.drain_relays();
        }
    }

    fn fail(&mut self, now: u64, class: FailureClass, detail: String) {
        if self.failure.is_none() {
            self.failure = Some(Failure {
                class,
                code: None,
                at: now,
                detail,
            });
        }
        if !self.ended {
            // Tell the other side, as a client ending a failed call does (best effort: the
            // signaling path may be what failed).
            if !self.remote_hung_up {
                self.signaling.send(now, SignalBody::Hangup);
            }
            self.end(now);
        }
    }

    /// Ends the call with the service's refusal `resp` (its code and class), `what` saying
    /// at which step: a call whose caller could not sign in is never attempted, one the
    /// service turns down fails at the invite.
    pub fn refuse(&mut self, now: u64, resp: &crate::service::Response, what: &str) {
        let class = match resp.refusal {
            Some(r) => FailureClass::Refused(r),
            None => FailureClass::StackError,
        };
        self.fail(now, class, format!("{what}: {}", resp.code));
        if let Some(f) = &mut self.failure {
            if f.at == now && f.class == class {
                f.code = Some(resp.code);
            }
        }
    }

    /// Ends the call before it is attempted because the caller's client is not signed in:
    /// `failure` is why (the sign-in's own failure). Nothing is sent.
    pub fn not_attempted(&mut self, now: u64, failure: Failure) {
        // A client that is not signed in has no relay credentials: it gathers nothing.
        self.out.clear();
        self.gathering.abandon();
        if self.failure.is_none() {
            self.failure = Some(Failure { at: now, ..failure });
        }
        self.remote_hung_up = true;
        if !self.ended {
            self.end(now);
        }
    }

    /// A media-path datagram arrived at our address: from a relay server (TURN: what it relays
    /// goes to the stack as arriving at the relayed address), or from the far end directly.
    pub fn handle_media(&mut self, now: u64, from: SocketAddrV4, bytes: BytesMut) {
        if self.closed {
            return;
        }
        if let Some(relay) = self.gathering.relay_from(from) {
            let local = relay.relayed();
            let got = relay.handle_from_server(now, &bytes);
            if let Some(local) = local {
                for (peer, data) in got {
                    self.take_in(now, local, peer, BytesMut::from(&data[..]));
                }
            }
            self.update_gathering(now);
        } else {
            self.take_in(now, self.cfg.media_addr, from, bytes);
        }
        self.pump(now);
    }

    fn take_in(&mut self, now: u64, local: SocketAddrV4, from: SocketAddrV4, bytes: BytesMut) {
        if let Some(seq) = rtp_sequence(&bytes) {
            // Counted before SRTP's replay check, which drops network duplicates unseen.
            if bytes[1] & 0x7f == peer::OPUS_PT {
                self.recv.on_arrival(seq);
            }
        }
        if let Err(e) = self.peer.handle_datagram_on(now, local, from, bytes) {
            // A datagram the stack rejects (corrupted, say) is dropped, as a real stack would.
            let _ = e;
        }
    }

    /// A signaling message arrived.
    pub fn handle_signal(&mut self, now: u64, env: Envelope) {
        let body = self.signaling.receive(now, env);
        match body {
            // The first offer (callee), or a re-offer after the far end restarted ICE (either).
            Some(SignalBody::Offer(sdp))
                if !self.ended
                    && (self.cfg.role == Role::Callee || self.connected_at.is_some()) =>
            {
                if self.offer_at.is_none() {
                    self.offer_at = Some(now);
                }
                if self.gathering.is_done() {
                    self.answer(now, &sdp);
                } else {
                    self.pending_offer = Some(sdp);
                }
            }
            Some(SignalBody::Answer(sdp))
                if !self.ended
                    && ((self.cfg.role == Role::Caller && !self.answered)
                        || self.reoffer_pending) =>
            {
                self.answered = true;
                self.reoffer_pending = false;
                self.remote_candidates = gather::remote_candidates(&sdp);
                if let Err(e) = self.peer.apply_answer(now, &sdp) {
                    self.fail(now, FailureClass::StackError, e.to_string());
                }
            }
            Some(SignalBody::Hangup) => {
                self.remote_hung_up = true;
                if !self.ended {
                    self.end(now);
                }
            }
            Some(SignalBody::Decline(reason)) => {
                self.fail(now, FailureClass::SignalingTimeout, reason);
            }
            // The service refused the call, or can no longer carry it; a call already up keeps
            // its media path (the service is not on it).
            Some(SignalBody::Refused(resp)) if self.connected_at.is_none() => {
                self.refuse(now, &resp, "the service refused the call");
            }
            _ => {}
        }
        self.pump(now);
    }

    /// The earliest time this leg needs to run, ns.
    pub fn poll_timeout(&mut self) -> Option<u64> {
        let mut t = self.signaling.poll_timeout();
        let mut min = |x: Option<u64>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t: u64| t.min(x)));
            }
        };
        min(self.close_at);
        if !self.closed {
            min(self.peer.poll_timeout());
            min(self.gathering.poll_timeout());
        }
        if !self.ended {
            if self.sending {
                min(Some(self.send.next_frame_time()));
                min(self.video_send.as_ref().and_then(|v| v.poll_timeout()));
            }
            min(self.recv.next_tick());
            if !self.closed {
                let rtt = self.rtt_ns();
                min(self.video_recv.as_ref().and_then(|v| v.next_pli_at(rtt)));
            }
            if self.connected_at.is_none() {
                min(self.offer_at.map(|o| o + self.cfg.connect_timeout));
            }
        }
        t
    }

    /// Runs timers, media and playout up to `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.signaling.handle_timeout(now) && self.connected_at.is_none() && !self.ended {
            self.fail(
                now,
                FailureClass::SignalingTimeout,
                "a signaling message was not acknowledged before the deadline".into(),
            );
        }
        if self.close_at.is_some_and(|t| t <= now) {
            self.close();
        }
        if !self.closed && self.gathering.poll_timeout().is_some_and(|t| t <= now) {
            self.gathering.handle_timeout(now);
            self.update_gathering(now);
        }
        if !self.closed && self.peer.poll_timeout().is_some_and(|t| t <= now) {
            if let Err(e) = self.peer.handle_timeout(now) {
                self.stack_errors += 1;
                self.first_stack_error.get_or_insert_with(|| e.to_string());
                let st = self.peer.poll_events(now);
                if !self.ended && self.connected_at.is_none() && st.ice_connected {
                    // rtc 0.21's DTLS handshake gives up after its last retransmission with
                    // `ErrInvalidFsmTransition`: the secure connection cannot be made.
                    self.fail(
                        now,
                        FailureClass::DtlsFailed,
                        format!("the DTLS handshake gave up ({e})"),
                    );
                }
                // Anything else the stack reports from its timers, a client goes on from; if
                // the connection cannot recover, the connect timeout or ICE fails the call.
            }
        }
        if !self.ended {
            if let Some(offer) = self.offer_at {
                if self.connected_at.is_none() && now >= offer + self.cfg.connect_timeout {
                    let within = format!("within {} s", self.cfg.connect_timeout / 1_000_000_000);
                    self.give_up_connecting(now, &within);
                }
            }
        }
        while self.sending && self.send.next_frame_time() <= now {
            let frame = match self.send.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => continue, // a DTX frame held back
                Err(e) => {
                    self.fail(now, FailureClass::StackError, e.to_string());
                    break;
                }
            };
            let (seq, ts, marker) = (frame.seq, frame.timestamp, frame.marker);
            let payload = bytes::Bytes::copy_from_slice(frame.payload);
            if let Some(v) = self.video_send.as_mut() {
                v.note_audio(now, payload.len() + AUDIO_RTP_OVERHEAD);
            }
            if let Err(e) = self.peer.send_audio(now, seq, ts, marker, payload) {
                self.fail(now, FailureClass::StackError, e.to_string());
                break;
            }
        }
        self.send_video_due(now);
        // Playout stops when the call ends for this leg (nobody listens after hanging up).
        let play_until = self.ended_at.map_or(now, |e| e.min(now));
        while let Some(t) = self.recv.next_tick() {
            if t > play_until {
                break;
            }
            if self.recv.on_tick(t) && self.first_audio_at.is_none() {
                self.first_audio_at = Some(t);
            }
        }
        self.pump(now);
    }

    /// The latest RTT measured, ns.
    fn rtt_ns(&self) -> Option<u64> {
        self.rtt_samples.last().map(|&(_, ms)| (ms * 1e6) as u64)
    }

    /// Sends the video frames due by `now`, and a keyframe request when one is due.
    fn send_video_due(&mut self, now: u64) {
        if self.sending {
            if let Some(v) = self.video_send.as_mut() {
                let estimate = self.bwe.as_ref().map(|b| b.stats());
                if let Err(e) = v.produce(now, estimate) {
                    self.fail(now, FailureClass::StackError, e);
                    return;
                }
                while let Some(p) = v.pop(now) {
                    if let Err(e) =
                        self.peer
                            .send_video(now, p.seq, p.timestamp, p.marker, p.payload)
                    {
                        self.fail(now, FailureClass::StackError, e.to_string());
                        return;
                    }
                }
                if let Some(b) = &self.bwe {
                    if let Some((from, to)) = v.take_probe() {
                        b.probe(from, to);
                    }
                    if v.take_step_up() {
                        b.expect_fast_rate_change();
                    }
                }
            }
        }
        if !self.closed {
            let rtt = self.rtt_ns();
            if let Some(v) = self.video_recv.as_mut() {
                if v.take_pli(now, rtt) {
                    if let Some(ssrc) = v.remote_ssrc {
                        if let Err(e) = self.peer.send_pli(now, ssrc) {
                            self.stack_errors += 1;
                            self.first_stack_error.get_or_insert_with(|| e.to_string());
                        }
                    }
                }
            }
        }
    }

    /// Moves everything the stack produced into our queues and updates the call's state.
    fn pump(&mut self, now: u64) {
        let st = self.peer.poll_events(now);
        if st.connected && self.connected_at.is_none() {
            self.connected_at = Some(now);
            // The echo service sends only what it hears.
            self.sending = !self.ended && !self.cfg.echo && self.cfg.send_audio;
            self.send.start(now);
            if let Some(v) = self.video_send.as_mut() {
                v.start(now);
            }
        }
        if !self.ended && (st.ice_failed || st.failed) {
            let class = if self.connected_at.is_some() {
                FailureClass::CallDropped
            } else if st.ice_connected {
                FailureClass::DtlsFailed
            } else {
                FailureClass::IceFailed
            };
            self.fail(
                now,
                class,
                "the WebRTC stack reported the connection failed".into(),
            );
        }
        while let Some(rtp) = self.peer.poll_rtp(now) {
            if let Some(codec) = rtp.video {
                if let Some(v) = self.video_recv.as_mut() {
                    v.on_rtp(
                        rtp.at,
                        codec,
                        rtp.ssrc,
                        rtp.seq,
                        rtp.timestamp,
                        rtp.marker,
                        rtp.payload,
                    );
                }
                continue;
            }
            self.recv
                .on_rtp(rtp.at, rtp.seq, rtp.timestamp, &rtp.payload);
            if self.cfg.echo && !self.ended {
                let seq = self.cfg.first_seq.wrapping_add(self.echoed as u16);
                let ts = rtp.timestamp.wrapping_add(self.cfg.first_timestamp);
                self.echoed += 1;
                if let Err(e) = self.peer.send_audio(now, seq, ts, false, rtp.payload) {
                    self.fail(now, FailureClass::StackError, e.to_string());
                }
            }
        }
        let known = self.rtt_samples.len();
        self.peer.take_rtt_samples(&mut self.rtt_samples);
        if let Some(b) = &self.bwe {
            for &(at, ms) in &self.rtt_samples[known..] {
                b.on_rtt(at, (ms * 1e6) as u64);
            }
        }
        if let Some(v) = self.video_send.as_mut() {
            // (A lock on the chain's log: only for a leg that sends video.)
            for _ in 0..self.peer.take_keyframe_requests() {
                v.request_keyframe();
            }
        }
        if !self.closed {
            // While closing, the stack may still answer (RTCP, STUN); media sending stopped.
            while let Some((local, to, bytes)) = self.peer.poll_datagram() {
                if let Some(seq) = rtp_sequence(&bytes) {
                    if self.connected_at.is_some() {
                        self.path = Some((local, to));
                    }
                    if bytes[1] & 0x7f != peer::OPUS_PT {
                        self.note_video_sent(seq);
                    }
                }
                if local == self.cfg.media_addr {
                    self.out.push(Transmit::Media {
                        from: local,
                        to,
                        bytes,
                    });
                } else if let Some(relay) = self.gathering.relay_at(local) {
                    relay.send_to(now, to, &bytes);
                }
            }
            self.drain_relays();
        }
        while let Some(env) = self.signaling.poll_send(now) {
            self.out.push(Transmit::Signal(env));
        }
    }

    /// A video packet left: a sequence number at or below the highest sent is the stack
    /// answering a NACK.
    fn note_video_sent(&mut self, seq: u16) {
        match self.video_highest_sent {
            Some(h) if seq.wrapping_sub(h) == 0 || seq.wrapping_sub(h) >= 0x8000 => {
                self.video_retransmitted += 1;
            }
            _ => self.video_highest_sent = Some(seq),
        }
    }

    /// Why we send no video in this video call (what the client says, what the harness saw).
    pub fn no_video(&self) -> Option<&(String, String)> {
        self.cfg.video.as_ref().and_then(|v| v.no_video.as_ref())
    }

    /// Our video's send side (None: we send none).
    pub fn video_sender(&self) -> Option<&video_sender::VideoSender> {
        self.video_send.as_ref()
    }

    /// The far end's video as we receive it (None: an audio call).
    pub fn video_receiver(&self) -> Option<&video_rtp::receive::VideoReceivePipeline> {
        self.video_recv.as_ref()
    }

    /// Ends the video receiver's measurement at `end` (ns).
    pub fn finish_video(&mut self, end: u64) {
        if let Some(v) = self.video_recv.as_mut() {
            v.finish(end);
        }
    }

    /// Moves what the relay clients want sent to their servers into our queue: datagrams from
    /// our media socket, or bytes for a TCP stream (plain TCP from the same port number, TCP's
    /// own; TLS from a port of its own).
    fn drain_relays(&mut self) {
        for relay in self.gathering.relays_mut() {
            let tcp = relay.transport().is_stream();
            let from = relay.local();
            while let Some((to, bytes)) = relay.poll_transmit() {
                self.out.push(if tcp {
                    Transmit::Stream { from, to, bytes }
                } else {
                    Transmit::Media {
                        from,
                        to,
                        bytes: BytesMut::from(&bytes[..]),
                    }
                });
            }
        }
    }

    /// Bytes arrived on our TCP stream `local` -> `from` (a relay server over TCP or TLS).
    pub fn handle_stream(
        &mut self,
        now: u64,
        local: SocketAddrV4,
        from: SocketAddrV4,
        bytes: &[u8],
    ) {
        if self.closed {
            return;
        }
        if let Some(relay) = self.gathering.relay_stream(local, from) {
            let relayed = relay.relayed();
            let got = relay.handle_from_server(now, bytes);
            if let Some(relayed) = relayed {
                for (peer, data) in got {
                    self.take_in(now, relayed, peer, BytesMut::from(&data[..]));
                }
            }
            self.update_gathering(now);
        }
        self.pump(now);
    }

    /// Our TCP stream `local` -> `from` is gone (refused, reset, timed out).
    pub fn stream_closed(&mut self, now: u64, local: SocketAddrV4, from: SocketAddrV4) {
        if let Some(relay) = self.gathering.relay_stream(local, from) {
            relay.connection_lost();
        }
        self.update_gathering(now);
        self.pump(now);
    }

    /// Takes what this leg wants sent now.
    pub fn drain_transmits(&mut self) -> std::vec::Drain<'_, Transmit> {
        self.out.drain(..)
    }

    /// The receive side's measurements.
    pub fn receiver(&self) -> &ReceivePipeline {
        &self.recv
    }

    /// The receive side, mutable (to finish the stream before measuring it).
    pub fn receiver_mut(&mut self) -> &mut ReceivePipeline {
        &mut self.recv
    }

    /// The send side (frames sent).
    pub fn sender(&self) -> &SendPipeline {
        &self.send
    }

    /// The candidate pair media took last, as `local-type/transport -> remote-type/transport`
    /// (e.g. `relay/tcp -> host/udp`: our relay candidate, reached over TCP, to the far end's
    /// host candidate); None before the call connected.
    pub fn candidate_pair(&self) -> Option<String> {
        let (local, remote) = self.path?;
        let l = self.gathering.local(local)?;
        let r = self
            .remote_candidates
            .iter()
            .find(|c| c.0 == remote)
            .map(|c| format!("{}/{}", c.1.name(), c.2))
            // A peer-reflexive address (learnt from a check, not in the description).
            .unwrap_or_else(|| "prflx/udp".to_owned());
        Some(format!("{}/{} -> {r}", l.kind.name(), l.transport))
    }

    /// Our candidate media took last, as `type/transport` (`relay/tcp`: our relay candidate,
    /// reached over TCP); None before media flowed.
    pub fn local_candidate(&self) -> Option<String> {
        let (local, _) = self.path?;
        let l = self.gathering.local(local)?;
        Some(format!("{}/{}", l.kind.name(), l.transport))
    }

    /// Our candidate at `addr` (where the far end sends our media), as `type/transport`: the
    /// host, the server-reflexive address a NAT gave us, or the relayed address; `prflx/udp`
    /// for an address of ours the far end learnt from our checks alone (a NAT mapping no
    /// server told us about).
    pub fn candidate_at(&self, addr: SocketAddrV4) -> String {
        match self
            .gathering
            .candidates
            .iter()
            .find(|c| c.addr == Some(addr))
        {
            Some(c) => format!("{}/{}", c.kind.name(), c.transport),
            None => "prflx/udp".to_owned(),
        }
    }

    /// The selected path: (our candidate, the far end's address).
    pub fn path(&self) -> Option<(SocketAddrV4, SocketAddrV4)> {
        self.path
    }

    /// Our candidates: what was gathered, when, and what failed.
    pub fn candidates(&self) -> &[gather::LocalCandidate] {
        &self.gathering.candidates
    }

    /// When gathering ended, ns.
    pub fn gathered_at(&self) -> Option<u64> {
        self.gathering.done_at
    }

    /// Peer connection milestones (time ns, name).
    pub fn milestones(&self) -> &[(u64, &'static str)] {
        &self.peer.milestones
    }
}

#[cfg(test)]
mod tests {
    use super::{fixed_origin, rtp_sequence};

    #[test]
    fn rtp_sequence_only_from_rtp() {
        let mut rtp = [0u8; 20];
        rtp[0] = 0x80;
        rtp[1] = 111 | 0x80; // Opus, marker set
        rtp[2..4].copy_from_slice(&4242u16.to_be_bytes());
        assert_eq!(rtp_sequence(&rtp), Some(4242));
        rtp[1] = 200; // RTCP sender report
        assert_eq!(rtp_sequence(&rtp), None);
        let stun = [0x00u8, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0];
        assert_eq!(rtp_sequence(&stun), None);
        assert_eq!(rtp_sequence(&[22u8; 12]), None); // DTLS
        assert_eq!(rtp_sequence(&rtp[..11]), None);
    }

    #[test]
    fn the_origin_line_gets_fixed_width_seeded_values_and_nothing_else_changes() {
        let a = "v=0\r\no=- 123456789012345678 987654321 IN IP4 0.0.0.0\r\ns=-\r\n";
        let b = "v=0\r\no=- 9 1 IN IP4 0.0.0.0\r\ns=-\r\n";
        let (fa, fb) = (fixed_origin(a, 7), fixed_origin(b, 7));
        assert_eq!(fa, fb);
        assert_eq!(
            fa,
            "v=0\r\no=- 1000000000007000021 2 IN IP4 0.0.0.0\r\ns=-\r\n"
        );
        assert_ne!(fixed_origin(a, 8), fa);
    }
}
