//! What a [`super::CallLeg`] is built from ([`CallLegConfig`], with its video track's
//! [`VideoLegConfig`]) and what it hands back to send ([`Transmit`]).

use super::gather::RelaySpec;
use super::media::{self, OpusConfig, ReceiveConfig};
use super::signaling::Envelope;
use super::{peer, video, video_rtp, Role};
use bytes::BytesMut;
use std::net::SocketAddrV4;

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

/// The audio send rate at the RTP level, bit/s (the Opus bitrate and the headers,
/// [`super::congestion::RTP_OVERHEAD`] a packet).
pub(super) fn audio_rtp_bps(opus: &media::codec::OpusConfig) -> f64 {
    let packets = 1000.0 / f64::from(opus.frame_ms.max(1));
    f64::from(opus.bitrate_bps) + packets * super::congestion::RTP_OVERHEAD as f64 * 8.0
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
