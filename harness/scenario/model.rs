//! The typed scenario the simulation consumes: every name resolved, every value checked.
//! Built by [`super::load`]; nothing here needs checking again.

use super::threshold::Threshold;
use crate::net::LinkProfile;
use crate::units::Dur;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub use super::raw::MediaMode;

/// The site participants are on when they name none: its path to every other site is ideal.
pub const DEFAULT_SITE: &str = "internet";

/// A firewall rule on a participant's host, as the emulator reads it.
pub type FirewallRule = crate::net::firewall::FirewallRule;
/// A cross-traffic flow, as the emulator reads it.
pub type CrossTrafficFlow = crate::net::cross::CrossTrafficFlow;

/// One scenario (one cell of its matrix, if it has one).
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Failure catalog IDs, checked against [`super::kb_catalog::catalog`].
    pub kb: Vec<String>,
    /// The scenario file.
    pub file: PathBuf,
    /// The file's own text, for the report.
    pub source: String,
    /// The scenario's own seed; `None` means the run's seed.
    pub seed: Option<u64>,
    /// Simulated length.
    pub duration: Dur,
    pub media: MediaMode,
    /// Decode received audio (concealment is measured only then).
    pub decode: bool,
    /// Sites in file order, the default site [`DEFAULT_SITE`] first when anyone is on it.
    pub sites: Vec<Site>,
    /// Participants in file order.
    pub participants: Vec<Participant>,
    /// The calling service every participant signs in to.
    pub service: ServiceSpec,
    /// IMs and presence looks on the timeline, sorted by time.
    pub service_checks: Vec<ServiceCheck>,
    /// What the report's scope must say: its verdict and, when given, its subject.
    pub expect_scope: Option<(crate::report::scope::ScopeVerdict, Option<String>)>,
    /// Calls in file order.
    pub calls: Vec<CallSpec>,
    /// Network actions, sorted by time (stable: same-time actions keep file order).
    pub timeline: Vec<TimedAction>,
    /// Thresholds for every stream of every connected call.
    pub thresholds: Vec<Threshold>,
    /// This cell's parameter values (`profile` -> `wifi-good`); empty without a matrix.
    pub matrix: BTreeMap<String, String>,
    /// What the loader warns about (a long run ahead, see [`super::limits`]); `validate` and
    /// `run` print these before anything runs.
    pub warnings: Vec<super::error::ScenarioError>,
}

impl Scenario {
    /// The participant of that name.
    pub fn participant(&self, name: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.name == name)
    }

    /// The matrix cell as `key=value,key=value` (empty without a matrix), for names in reports.
    pub fn cell_label(&self) -> String {
        self.matrix
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A place several participants share (an office, a home). Its `shared` link is the uplink all
/// of them go through; without one, they reach the rest of the world directly.
#[derive(Debug, Clone)]
pub struct Site {
    pub name: String,
    /// The shared uplink's profile name and profile (overrides applied).
    pub shared: Option<(String, LinkProfile)>,
    /// The NAT its participants are behind, if any.
    pub nat: Option<crate::net::NatConfig>,
}

/// One participant: a host on a site behind its access link.
#[derive(Debug, Clone)]
pub struct Participant {
    pub name: String,
    /// The site the participant is at ([`DEFAULT_SITE`] unless given).
    pub site: String,
    /// The profile name as written (after templates and matrix).
    pub profile_name: String,
    /// The access link's profile with the scenario's overrides applied.
    pub profile: LinkProfile,
    /// Firewall rules on the host, template rules first.
    pub firewall: Vec<FirewallRule>,
    /// The client restarts ICE when its network changes (roaming to another access point).
    pub ice_restart: bool,
    /// The machine's socket layer (healthy unless the scenario breaks it: NET-SOCKET-STACK).
    pub socket_layer: super::raw::SocketLayer,
    /// The machine's microphone and speaker (all working unless the scenario says otherwise:
    /// DEV-MISSING, DEV-IN-USE, DEV-PERMISSION, DEV-MIC-DEAD, DEV-OUTPUT-MUTED, DEV-DRIVER-OLD).
    pub devices: super::raw_devices::Devices,
    /// The client's receive jitter buffer.
    pub jitter_buffer: crate::agent::media::JitterBufferConfig,
    /// The client's Opus encoder (bitrate, frame duration, FEC, DTX).
    pub audio: crate::agent::media::OpusConfig,
    /// The client's video encoder and receiver, used in video calls.
    pub video: super::video::VideoSettings,
    /// The client's ICE consent timers.
    pub ice: crate::agent::peer::IceTimeouts,
    /// The TURN transports the client's policy allows (all three unless the scenario
    /// restricts them).
    pub relay_transports: crate::agent::relay::RelayTransports,
    /// The account the client signs in with.
    pub account: AccountSpec,
}

/// Something a participant's client does with the service on the timeline, and what must
/// come of it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceCheck {
    pub at: Dur,
    pub participant: String,
    pub what: ServiceAsk,
}

/// An IM or a look at someone's presence.
#[derive(Debug, Clone, PartialEq)]
pub enum ServiceAsk {
    /// Send `text` to `to` (as written).
    Im {
        to: String,
        text: String,
        expect: Option<ImExpect>,
    },
    /// What the client shows for `of` (as written).
    Presence {
        of: String,
        expect: Option<crate::service::PresenceView>,
    },
    /// The client sets its own state.
    Publish { state: crate::service::Availability },
    /// The user changes their contact list.
    Contact { op: ContactOp, address: String },
}

/// A change to one's contact list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactOp {
    Add,
    Remove,
    Block,
    Unblock,
}

impl ContactOp {
    /// The timeline field that asks for it.
    pub fn field(self) -> &'static str {
        match self {
            ContactOp::Add => "add_contact",
            ContactOp::Remove => "remove_contact",
            ContactOp::Block => "block",
            ContactOp::Unblock => "unblock",
        }
    }
}

/// What must come of an IM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImExpect {
    Delivered,
    /// Refused: for this reason (any when None), with this code (any when None).
    Refused {
        class: Option<crate::service::Refusal>,
        code: Option<u16>,
    },
}

impl fmt::Display for ImExpect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImExpect::Delivered => f.write_str("delivered"),
            ImExpect::Refused { class, code } => {
                f.write_str("refused")?;
                if let Some(c) = class {
                    write!(f, ": {}", c.class())?;
                }
                if let Some(n) = code {
                    write!(f, " ({n})")?;
                }
                Ok(())
            }
        }
    }
}

/// How a participant's client signs in to the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSpec {
    /// `alice@example.com`.
    pub address: String,
    /// What the client enters (the account's own password unless the scenario says).
    pub password: String,
    /// The client's version.
    pub client: crate::service::directory::Version,
}

/// The calling service of a scenario: its directory (tenants, users, policies).
#[derive(Debug, Clone, Default)]
pub struct ServiceSpec {
    pub directory: crate::service::directory::Directory,
    /// Whether the file has a `service:` section (else the default service of one tenant).
    pub declared: bool,
    /// Its registration timers.
    pub timers: crate::service::presence::Timers,
}

/// One call.
#[derive(Debug, Clone)]
pub struct CallSpec {
    pub caller: String,
    /// The participant called, or [`TEST_CALL`] for a test call.
    pub callee: String,
    /// A call to the service's echo test service.
    pub test_call: bool,
    /// When the call is placed.
    pub at: Dur,
    /// How long before hang-up; `None`: until the scenario ends.
    pub duration: Option<Dur>,
    pub expect: CallExpect,
    /// This call's own thresholds (the scenario's apply too).
    pub thresholds: Vec<Threshold>,
    /// Thresholds on the caller's stream (caller -> callee) only.
    pub caller_stream: Vec<Threshold>,
    /// Thresholds on the callee's stream (callee -> caller) only.
    pub callee_stream: Vec<Threshold>,
    /// A video call: both sides send video beside audio.
    pub video: bool,
    /// Thresholds on the caller's and the callee's video.
    pub caller_video: Vec<Threshold>,
    pub callee_video: Vec<Threshold>,
    /// The path its media must take, when the scenario says.
    pub path: Option<super::raw::MediaPath>,
}

/// The callee name of a test call in reports (the echo service is no participant).
pub const TEST_CALL: &str = "echo-test-service";

/// What a call must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallExpect {
    Connected,
    Fails(FailureClass),
}

impl fmt::Display for CallExpect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallExpect::Connected => f.write_str("connected"),
            CallExpect::Fails(c) => write!(f, "fails with {c}"),
        }
    }
}

/// Why a call fails: the agent's classes (`ice-failed`, `dtls-failed`, `signaling-timeout`,
/// `call-dropped`), one definition for the scenario language and the outcome.
pub use crate::agent::FailureClass;

/// A network action at a point of simulated time.
#[derive(Debug, Clone)]
pub struct TimedAction {
    pub at: Dur,
    pub target: ActionTarget,
    pub action: NetAction,
}

/// Whose link an action is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionTarget {
    /// The participant's access link.
    Participant(String),
    /// The site's shared uplink.
    Site(String),
    /// The calling service (an outage: every request answered 503).
    Service,
}

impl fmt::Display for ActionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionTarget::Participant(p) => f.write_str(p),
            ActionTarget::Site(s) => write!(f, "site {s}"),
            ActionTarget::Service => f.write_str("the service"),
        }
    }
}

/// What happens to a link.
// A profile change carries the whole profile; actions are few, so boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum NetAction {
    /// The link drops everything for `duration`.
    Outage { duration: Dur },
    /// The host moves to another access point and gets a new address.
    AddressChange,
    /// The link switches to another profile (from now on, until changed again).
    SetProfile {
        profile_name: String,
        profile: LinkProfile,
    },
    /// One parameter of the link changes: `change` holds just that field, to be overlaid on
    /// the current settings of `direction` (`DirectionConfig::overlay`).
    SetParam {
        direction: crate::net::Which,
        /// The field path as written after the direction (`delay`, `loss`).
        path: String,
        /// The value as written.
        value: serde_yaml::Value,
        /// The checked change: a direction config with only that field set.
        change: crate::net::DirectionConfig,
    },
    /// A cross-traffic flow starts on the link.
    CrossTrafficStart { flow: CrossTrafficFlow },
    /// The cross-traffic flow of that name stops.
    CrossTrafficStop { name: String },
}

impl NetAction {
    /// The event kind name used on the report's time axis.
    pub fn kind(&self) -> &'static str {
        match self {
            NetAction::Outage { .. } => "outage",
            NetAction::AddressChange => "address-change",
            NetAction::SetProfile { .. } | NetAction::SetParam { .. } => "profile-change",
            NetAction::CrossTrafficStart { .. } => "cross-traffic-start",
            NetAction::CrossTrafficStop { .. } => "cross-traffic-stop",
        }
    }
}
