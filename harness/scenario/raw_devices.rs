//! A participant's audio devices as written: `devices: { microphone: {...}, speaker: {...} }`
//! (issue 17) and `camera:` (used in video calls).
//! Read like the rest of `raw.rs`; the values are used as they are by the agent.

use super::de::Spanned;
use schemars::JsonSchema;

/// The devices on a participant's machine (default: all present, free, permitted, working).
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDevices {
    /// The microphone: what the client captures and sends.
    pub microphone: Option<Spanned<RawMicrophone>>,
    /// The speaker (the audio output): where the client plays what it received.
    pub speaker: Option<Spanned<RawSpeaker>>,
    /// The camera: what the client sends in video calls.
    pub camera: Option<Spanned<RawCamera>>,
}

/// A camera: whether the client can open it, may use it, and what it captures.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCamera {
    /// `present` (default), `missing` or `in-use` (held by another program): the client says
    /// "Your webcam is not configured or is in use." and sends no video; the call goes on with
    /// audio.
    pub state: Option<Spanned<DeviceState>>,
    /// `granted` (default) or `denied`: the app may not use the camera; no video is sent.
    pub permission: Option<Spanned<Permission>>,
    /// `yes` (default) or `black`: the lens is covered or the wrong camera is selected; black
    /// frames are sent at the usual rate.
    pub works: Option<Spanned<CameraWorks>>,
}

/// What a camera captures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CameraWorks {
    /// The scene in front of it.
    #[default]
    Yes,
    /// Black frames.
    Black,
}

/// A microphone: whether the client can open it, may use it, and what it captures.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMicrophone {
    /// `present` (default), `missing` (no such device) or `in-use` (held exclusively by
    /// another program on that machine).
    pub state: Option<Spanned<DeviceState>>,
    /// `granted` (default) or `denied`: the app may not use the microphone, although it exists.
    pub permission: Option<Spanned<Permission>>,
    /// `yes` (default) or `silent`: a dead microphone that captures digital silence.
    pub works: Option<Spanned<MicrophoneWorks>>,
    /// `current` (default), `old`: an outdated driver whose capture stalls now and then
    /// (runs 2-6 s, then delivers nothing for 200-600 ms; seeded from the run's seed), or
    /// `wrong-rate`: an outdated driver that captures at 44.1 kHz a device the client opened at
    /// 48 kHz (each 20 ms frame takes 21.8 ms to fill).
    pub driver: Option<Spanned<MicrophoneDriver>>,
}

/// A speaker: whether the client can open it and whether what it plays is heard.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSpeaker {
    /// `present` (default), `missing` or `in-use`.
    pub state: Option<Spanned<DeviceState>>,
    /// `yes` (default) or `muted`: the system output is muted, nothing is heard.
    pub works: Option<Spanned<SpeakerWorks>>,
}

/// Whether the client can open a device.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceState {
    /// There, and free.
    #[default]
    Present,
    /// Not on the machine (or not configured).
    Missing,
    /// Held exclusively by another program on the same machine.
    InUse,
}

impl DeviceState {
    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            DeviceState::Present => "present",
            DeviceState::Missing => "missing",
            DeviceState::InUse => "in-use",
        }
    }
}

/// Whether the app may use the microphone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Permission {
    /// It may.
    #[default]
    Granted,
    /// It may not: the client captures and sends no audio.
    Denied,
}

/// What a microphone captures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MicrophoneWorks {
    /// The speaker's voice (the speech clip).
    #[default]
    Yes,
    /// Digital silence (a dead microphone).
    Silent,
}

/// The microphone's driver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MicrophoneDriver {
    /// An up-to-date driver: the capture delivers every frame.
    #[default]
    Current,
    /// An outdated driver (DEV-DRIVER-OLD): the capture stalls, uniformly 200-600 ms after
    /// every 2-6 s of running (see `agent::media::capture`).
    Old,
    /// An outdated driver (DEV-DRIVER-OLD) at the wrong sample rate: the device delivers
    /// 44,100 samples a second to a client that opened it at 48,000, so frames fill and leave
    /// 48,000 / 44,100 times slower than their timestamps say (see `agent::media::send`).
    WrongRate,
}

/// What a speaker does with what is played.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SpeakerWorks {
    /// Plays it.
    #[default]
    Yes,
    /// Muted: nothing is heard.
    Muted,
}

/// A participant's audio devices, checked (see [`RawDevices`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Devices {
    /// The microphone's state.
    pub microphone: DeviceState,
    /// Whether the app may use the microphone.
    pub permission: Permission,
    /// What the microphone captures.
    pub microphone_works: MicrophoneWorks,
    /// The microphone's driver.
    pub microphone_driver: MicrophoneDriver,
    /// The speaker's state.
    pub speaker: DeviceState,
    /// Whether the speaker is heard.
    pub speaker_works: SpeakerWorks,
    /// The camera's state, permission and what it captures.
    pub camera: DeviceState,
    pub camera_permission: Permission,
    pub camera_works: CameraWorks,
}

impl Devices {
    /// The device that keeps the client from placing or answering a call, with its state
    /// (`None`: both are there and free).
    pub fn unavailable(&self) -> Option<(&'static str, DeviceState)> {
        if self.microphone != DeviceState::Present {
            return Some(("microphone", self.microphone));
        }
        if self.speaker != DeviceState::Present {
            return Some(("speaker", self.speaker));
        }
        None
    }

    /// Why the client sends no video in a video call, in its own words and the harness's
    /// (`None`: it sends what its camera captures).
    pub fn no_video(&self) -> Option<(&'static str, String)> {
        match (self.camera, self.camera_permission) {
            (DeviceState::Present, Permission::Granted) => None,
            (DeviceState::Present, Permission::Denied) => {
                Some(("", "the app has no permission for the camera".to_owned()))
            }
            (state, _) => Some((
                "Your webcam is not configured or is in use.",
                format!("the camera is {}", state.name()),
            )),
        }
    }

    /// Whether the client sends audio: a microphone it may use.
    pub fn sends_audio(&self) -> bool {
        self.permission == Permission::Granted
    }

    /// Reads the written devices.
    pub fn from_raw(r: &RawDevices) -> Self {
        let mic = r.microphone.as_ref().map(|m| &m.value);
        let spk = r.speaker.as_ref().map(|s| &s.value);
        let cam = r.camera.as_ref().map(|c| &c.value);
        Devices {
            microphone: mic
                .and_then(|m| m.state.as_ref())
                .map_or_else(Default::default, |s| s.value),
            permission: mic
                .and_then(|m| m.permission.as_ref())
                .map_or_else(Default::default, |s| s.value),
            microphone_works: mic
                .and_then(|m| m.works.as_ref())
                .map_or_else(Default::default, |s| s.value),
            microphone_driver: mic
                .and_then(|m| m.driver.as_ref())
                .map_or_else(Default::default, |s| s.value),
            speaker: spk
                .and_then(|m| m.state.as_ref())
                .map_or_else(Default::default, |s| s.value),
            speaker_works: spk
                .and_then(|m| m.works.as_ref())
                .map_or_else(Default::default, |s| s.value),
            camera: cam
                .and_then(|c| c.state.as_ref())
                .map_or_else(Default::default, |s| s.value),
            camera_permission: cam
                .and_then(|c| c.permission.as_ref())
                .map_or_else(Default::default, |s| s.value),
            camera_works: cam
                .and_then(|c| c.works.as_ref())
                .map_or_else(Default::default, |s| s.value),
        }
    }
}
