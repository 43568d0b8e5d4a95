//! The client settings of a participant as written: `audio:` (the Opus encoder), `ice:`
//! (consent timers) and `relay_transports:` (the TURN transports its policy allows). Read like the rest of `raw.rs`; checked and converted in `client.rs`.

use super::de::Spanned;
use super::raw::{DurText, PercentText, RateText};
use schemars::JsonSchema;

/// The client's Opus encoder: what it sends. The far end's receiver plays packets of this
/// frame duration and rebuilds lost frames from the FEC in them.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAudio {
    /// Target bitrate, 6kbit to 510kbit (default 32kbit). libopus's VBR spends about this on
    /// speech and less in pauses.
    pub bitrate: Option<Spanned<RateText>>,
    /// Frame (packet) duration: 10ms, 20ms (default), 40ms or 60ms. Sets the packet rate
    /// (1000 / ms a second), the RTP timestamp step and the E-model's packetisation delay.
    pub frame: Option<Spanned<DurText>>,
    /// In-band FEC (default false): each talk-spurt packet carries a low-rate copy of the frame
    /// before it, from which the receiver rebuilds a lost frame when the next packet arrives.
    /// libopus adds FEC only above a bitrate that falls as `expected_loss` rises (at 20 ms:
    /// 18kbit at 10%, 32kbit at 5%); settings below it are refused, naming the bitrate needed.
    pub fec: Option<Spanned<bool>>,
    /// With `fec: true`, the packet loss the encoder plans its FEC for, a whole percentage
    /// (default 10%; libopus adds no FEC data at 0%).
    pub expected_loss: Option<Spanned<PercentText>>,
    /// Discontinuous transmission (default false): in silence the client sends one DTX frame,
    /// then a comfort-noise update about every 400 ms instead of every frame. Receivers play
    /// comfort noise; the pause is not loss, not an arrival gap and not concealment.
    pub dtx: Option<Spanned<bool>>,
}

/// A TURN transport a client's policy may allow (see
/// [`super::raw::RawParticipant::relay_transports`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RelayTransportText {
    /// `turn:` over UDP, to the relay's 3478.
    Udp,
    /// `turn:` over TCP, to the relay's 443.
    Tcp,
    /// `turns:`, TLS over TCP to the relay's 443.
    Tls,
}

impl RelayTransportText {
    /// The transport the client uses.
    pub fn transport(self) -> crate::agent::relay::RelayTransport {
        use crate::agent::relay::RelayTransport;
        match self {
            RelayTransportText::Udp => RelayTransport::Udp,
            RelayTransportText::Tcp => RelayTransport::Tcp,
            RelayTransportText::Tls => RelayTransport::Tls,
        }
    }
}

/// The client's ICE consent timers. Both timeouts count from the last ICE check or answer heard
/// from the far end (not from the last media), so a path that dies is reported between
/// `timeout - keepalive` and `timeout` later.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawIce {
    /// Silence before ICE reports disconnected (default 5s).
    pub disconnected_timeout: Option<Spanned<DurText>>,
    /// Silence before ICE reports failed and the call drops (default 30s; longer than
    /// `disconnected_timeout`).
    pub failed_timeout: Option<Spanned<DurText>>,
    /// Interval between consent checks on the path in use (default 2s; shorter than
    /// `disconnected_timeout`, a multiple of 200ms: the stack's ICE timer step).
    pub keepalive: Option<Spanned<DurText>>,
}

/// A client's camera encoder and video receiver, for calls with `video: true`.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawVideo {
    /// `vp8` (default: the codec every WebRTC endpoint must support) or `h264` (constrained
    /// baseline). Both are offered; this one is sent and offered first.
    pub codec: Option<Spanned<VideoCodecText>>,
    /// Picture size `WIDTHxHEIGHT`, even numbers from 160x90 to 1920x1080 (default 640x360).
    pub resolution: Option<Spanned<String>>,
    /// Frames per second, 1 to 60 (default 30).
    pub fps: Option<Spanned<u32>>,
    /// Target bitrate, 50kbit to 4Mbit (default 600kbit).
    pub bitrate: Option<Spanned<RateText>>,
    /// Ask for retransmission of lost video packets (NACK, default true); without it a loss
    /// costs a keyframe request.
    pub nack: Option<Spanned<bool>>,
    /// Decode received video to pixels (default false): what a person would see, black or
    /// frozen pictures and PSNR against the sender's camera. About 0.5 ms a frame.
    pub decode: Option<Spanned<bool>>,
    /// Follow the bandwidth estimate (default true), as real clients do: a smaller picture,
    /// then a lower frame rate, when the link cannot carry the layer, and back up when it can.
    /// `false`: a client without congestion control, sending its layer whatever the link.
    pub adaptation: Option<Spanned<bool>>,
}

/// A video codec as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum VideoCodecText {
    Vp8,
    H264,
}
