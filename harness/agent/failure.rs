//! How a call ended badly, typed: the class a client would show and what the harness saw.

use crate::service::Refusal;

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
