//! The scenario file format exactly as written: serde types with `deny_unknown_fields`, from
//! which the JSON Schema is generated. The loader reads these from a node tree (so every value
//! knows where it was written), then checks and converts them into the typed model in
//! `model.rs`. Every field is an `Option` for serde, so that one missing or bad field does not
//! hide the others; required fields are marked required in the schema and checked by the loader.

use super::de::Spanned;
use crate::units::{Dur, Percent, Rate};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A scenario: who takes part, on which networks, who calls whom, what happens to the network
/// on the way, and what the calls must achieve. Its work is estimated before it runs: over
/// about 5 minutes (calls run ~430x faster than real time, the emulator moves ~57 M packets/s)
/// `validate` and `run` warn; over 1 hour, or 10^10 packet events (cross-traffic packets and
/// repeated network changes), it is refused.
#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "callharness scenario")]
pub struct RawScenario {
    /// Short name, shown in reports (`lossy-wifi-call`); at most 100 bytes.
    #[schemars(required, length(max = 100))]
    pub name: Option<Spanned<String>>,
    /// One or two sentences on what the scenario shows.
    pub description: Option<String>,
    /// IDs from the failure catalog (`shared/kb/CATALOG.md`) this scenario reproduces.
    pub kb: Option<Vec<Spanned<String>>>,
    /// Seed of every random choice; the run's `--seed` is used when absent.
    pub seed: Option<u64>,
    /// Simulated length of the scenario, like `60s`; at most `24h`.
    #[schemars(required)]
    pub duration: Option<Spanned<DurText>>,
    /// `replay` (default): encode each source once and replay its frames; `live`: encode per call.
    pub media: Option<MediaMode>,
    /// Decode received audio (default true); false skips concealment measurement for load runs.
    pub decode: Option<bool>,
    /// Network profiles defined in this file, by name (same format as `scenarios/profiles/*.yaml`;
    /// names of at most 100 bytes).
    #[schemars(extend("propertyNames" = { "maxLength": 100 }))]
    pub profiles: Option<OrderedMap<Opaque<ProfileBody>>>,
    /// Participant templates by name (at most 100 bytes), used as `alice: { template:
    /// office-user }`.
    #[schemars(extend("propertyNames" = { "maxLength": 100 }))]
    pub templates: Option<OrderedMap<Spanned<RawParticipant>>>,
    /// Sites (offices, homes) with an optional shared uplink, by name (at most 100 bytes);
    /// participants without `site` are on the default site `internet`, whose path is ideal.
    #[schemars(extend("propertyNames" = { "maxLength": 100 }))]
    pub sites: Option<OrderedMap<Spanned<RawSite>>>,
    /// The participants by name (at most 100 bytes), in order.
    #[schemars(required, extend("propertyNames" = { "maxLength": 100 }))]
    pub participants: Option<Spanned<OrderedMap<Spanned<RawParticipant>>>>,
    /// Where the failing calls must point, as the report's scope says it: a verdict and
    /// optionally its subject, like `follows-user bob` or `shared-domain fabrikam.com`
    /// (CONTACTS-ONE-VS-MANY). Verdicts: follows-user, follows-callee, follows-caller,
    /// follows-pair, shared-domain, shared-site, shared-network, shared-client-version,
    /// all-fail, no-pattern.
    pub scope: Option<Spanned<String>>,
    /// The calling service (tenants, users, policies); a default one when absent.
    pub service: Option<Spanned<super::raw_service::RawService>>,
    /// The calls to place.
    pub calls: Option<Vec<Spanned<RawCall>>>,
    /// Network actions at given times.
    pub timeline: Option<Vec<Spanned<RawAction>>>,
    /// Thresholds on every stream of every connected call: threshold texts and named sets.
    pub thresholds: Option<ThresholdList>,
    /// Run the scenario once per combination of these values. Keys: `profile` (every
    /// participant's network), `seed`, or a field path like `participants.alice.network`.
    pub matrix: Option<OrderedMap<Vec<MatrixValue>>>,
}

/// One participant (or a template for participants).
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawParticipant {
    /// A template to start from; the fields here override it.
    pub template: Option<Spanned<String>>,
    /// The network profile of the participant's access link, by name.
    pub network: Option<Spanned<String>>,
    /// Changes to that profile: `up`, `down`, `both` with the fields to replace.
    pub overrides: Option<Opaque<ProfileBody>>,
    /// Firewall rules on the participant's host.
    pub firewall: Option<Vec<Opaque<FirewallRuleText>>>,
    /// The site the participant is at (default `internet`).
    pub site: Option<Spanned<String>>,
    /// The client restarts ICE when its network changes, e.g. roaming to another access point
    /// (default false: the old path is lost and the call drops, the KB's symptom).
    pub ice_restart: Option<Spanned<bool>>,
    /// The client's receive jitter buffer (default: adaptive, 40 ms to start, 20-500 ms).
    pub jitter_buffer: Option<Spanned<RawJitterBuffer>>,
    /// The client's Opus encoder (default: 32kbit, 20ms frames, no FEC, no DTX).
    pub audio: Option<Spanned<super::raw_client::RawAudio>>,
    /// The client's video, in calls with `video: true` (default: vp8, 640x360, 30 fps,
    /// 600kbit, NACK on).
    pub video: Option<Spanned<super::raw_client::RawVideo>>,
    /// The client's ICE consent timers (default: disconnected 5s, failed 30s, keepalive 2s).
    pub ice: Option<Spanned<super::raw_client::RawIce>>,
    /// The TURN transports the client's policy lets it reach the relay over, each a relay
    /// candidate it gathers: `udp`, `tcp`, `tls` (default all three, as `turn:` over UDP,
    /// `turn:` over TCP and `turns:` URLs). A locked-down client that allows only TLS is
    /// `[tls]`; `[]` allows no relay at all.
    pub relay_transports: Option<Vec<Spanned<super::raw_client::RelayTransportText>>>,
    /// The account the client signs in with, `name@domain` of a tenant under `service:`
    /// (default: the participant's name at the first tenant's first domain). Not in templates.
    pub user: Option<Spanned<String>>,
    /// The password the client enters (default: the account's own; another one is refused
    /// with 401 and no call is attempted: SVC-LOGIN).
    pub password: Option<Spanned<String>>,
    /// The client's version, like `8.1` (default 8.0, or its tenant's `min_client` when that
    /// is newer: an up-to-date client).
    pub client_version: Option<Spanned<super::raw_service::VersionText>>,
    /// The machine's socket layer (the article's Winsock): `healthy` (default), or broken:
    /// `bind-fails` (no socket can be opened), `send-fails` (every send fails),
    /// `receive-stops` (nothing sent to the machine reaches the client).
    pub socket_layer: Option<Spanned<SocketLayer>>,
    /// The machine's audio devices (default: present, free, permitted, working):
    /// `{ microphone: { state, permission, works }, speaker: { state, works } }`.
    pub devices: Option<Spanned<super::raw_devices::RawDevices>>,
}

/// A client's receive jitter buffer.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawJitterBuffer {
    /// `adaptive` (default): the delay follows the observed delay variation (NetEq-style, with
    /// time-stretching); `fixed`: the `initial` delay for the whole call, anchored to the first
    /// packet.
    pub mode: Option<Spanned<JitterBufferModeText>>,
    /// Delay from the first packet to the first frame played (default 40ms); the whole delay
    /// in `fixed` mode.
    pub initial: Option<Spanned<DurText>>,
    /// Adaptive: the least headroom kept (default 20ms).
    pub min: Option<Spanned<DurText>>,
    /// Adaptive: the most headroom grown to (default 500ms).
    pub max: Option<Spanned<DurText>>,
}

/// How a jitter buffer chooses its delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum JitterBufferModeText {
    /// The delay follows the delay variation.
    Adaptive,
    /// A fixed delay from the first packet.
    Fixed,
}

/// A site: a place several participants share, with an optional shared uplink and NAT.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    /// Profile of the site's shared uplink (the bottleneck its participants share).
    pub shared: Option<Spanned<String>>,
    /// Changes to the shared profile.
    pub overrides: Option<Opaque<ProfileBody>>,
    /// A NAT its participants are behind: `full-cone`, `restricted-cone`, `port-restricted`,
    /// `symmetric`, or `{ mapping: ..., filtering: ..., public: ..., udp_timeout: ... }`.
    pub nat: Option<Opaque<NatText>>,
}

/// One call.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCall {
    /// The participant who places the call.
    #[schemars(required)]
    pub caller: Option<Spanned<String>>,
    /// The participant who answers (not with `test_call`).
    pub callee: Option<Spanned<String>>,
    /// `true`: a call to the service's echo / sound test service instead of a participant; it
    /// plays the caller's audio straight back, and the report gives the round trip of the
    /// caller's own audio and whether microphone and speaker work (TEST-CALL).
    pub test_call: Option<Spanned<bool>>,
    /// When the call is placed (default `0s`).
    pub at: Option<Spanned<DurText>>,
    /// How long the call lasts before hang-up (default: until the scenario ends).
    pub duration: Option<Spanned<DurText>>,
    /// `connected` (default), or the failure class the call must fail with.
    pub expect: Option<ExpectText>,
    /// Thresholds on both streams of this call, besides the scenario's.
    pub thresholds: Option<ThresholdList>,
    /// Thresholds on the stream the caller sends (caller -> callee) only.
    pub caller_stream: Option<ThresholdList>,
    /// Thresholds on the stream the callee sends (callee -> caller) only.
    pub callee_stream: Option<ThresholdList>,
    /// A video call (default false): both clients send video beside audio (each with its
    /// `video:` settings) and measure what they receive.
    pub video: Option<Spanned<bool>>,
    /// Thresholds on the caller's video (caller -> callee), like `freezes < 1` or `fps > 25`;
    /// only on a video call.
    pub caller_video: Option<Spanned<ThresholdList>>,
    /// Thresholds on the callee's video (callee -> caller); only on a video call.
    pub callee_video: Option<Spanned<ThresholdList>>,
    /// The path the call's media must take: `direct` (no relay on either side), `relay`
    /// (through the edge's relay), `relay-udp`, `relay-tcp` or `relay-tls` (a side reaches the
    /// relay over that transport: UDP 3478, TCP 443, TLS on TCP 443). Judged like `expect`.
    pub path: Option<Spanned<MediaPath>>,
}

/// A machine's socket layer (see [`RawParticipant::socket_layer`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SocketLayer {
    /// Works.
    #[default]
    Healthy,
    /// No socket can be opened: nothing is sent or received.
    BindFails,
    /// Sockets open but every send fails: nothing leaves the machine.
    SendFails,
    /// Sends work, but nothing that arrives reaches the client.
    ReceiveStops,
}

impl SocketLayer {
    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            SocketLayer::Healthy => "healthy",
            SocketLayer::BindFails => "bind-fails",
            SocketLayer::SendFails => "send-fails",
            SocketLayer::ReceiveStops => "receive-stops",
        }
    }

    /// Whether what the machine sends is lost.
    pub fn sends_fail(self) -> bool {
        matches!(self, SocketLayer::BindFails | SocketLayer::SendFails)
    }

    /// Whether what arrives at the machine is lost.
    pub fn receives_fail(self) -> bool {
        matches!(self, SocketLayer::BindFails | SocketLayer::ReceiveStops)
    }
}

/// The path a call's media takes (see [`RawCall::path`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MediaPath {
    /// Host to host (or through the reflexive addresses a NAT gave): no relay.
    Direct,
    /// Through the edge's relay, over any transport.
    Relay,
    /// Through the relay, a side reaching it over UDP (3478).
    RelayUdp,
    /// Through the relay, a side reaching it over TCP (443).
    RelayTcp,
    /// Through the relay, a side reaching it over TLS (TURNS on TCP 443).
    RelayTls,
}

impl MediaPath {
    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            MediaPath::Direct => "direct",
            MediaPath::Relay => "relay",
            MediaPath::RelayUdp => "relay-udp",
            MediaPath::RelayTcp => "relay-tcp",
            MediaPath::RelayTls => "relay-tls",
        }
    }

    /// Whether media that took local candidates `a` and `b` (`type/transport`, e.g.
    /// `relay/tcp`, `relay/tls`) took this path.
    pub fn matches(self, a: &str, b: &str) -> bool {
        let relay = |t: &str| [a, b].iter().any(|c| *c == format!("relay/{t}"));
        match self {
            MediaPath::Direct => !a.starts_with("relay/") && !b.starts_with("relay/"),
            MediaPath::Relay => a.starts_with("relay/") || b.starts_with("relay/"),
            MediaPath::RelayUdp => relay("udp"),
            MediaPath::RelayTcp => relay("tcp"),
            MediaPath::RelayTls => relay("tls"),
        }
    }
}

/// One timed network action on a participant's link or a site's shared link. Exactly one of
/// `participant`/`site` and exactly one action field.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAction {
    /// When, from the scenario's start.
    #[schemars(required)]
    pub at: Option<Spanned<DurText>>,
    /// The participant whose access link is acted on.
    pub participant: Option<Spanned<String>>,
    /// The site whose shared link is acted on.
    pub site: Option<Spanned<String>>,
    /// The part of the calling service acted on (`signaling`); takes only `outage`.
    pub service: Option<Spanned<super::raw_service::ServicePart>>,
    /// The link (or the service) is down for this long.
    pub outage: Option<Spanned<DurText>>,
    /// The host moves to another access point and gets a new address (`true`).
    pub address_change: Option<Spanned<bool>>,
    /// Switch to another profile, by name.
    pub profile: Option<Spanned<String>>,
    /// Change one parameter: `{ up.delay: 80ms }` (`up`, `down` or `both`, then the field).
    pub set: Option<OrderedMap<Opaque<AnyValue>>>,
    /// Start a cross-traffic flow on the site's shared link (its start is `at`; at most
    /// 2,000,000 packets per second: `rate` / mean packet size).
    pub cross_traffic: Option<Opaque<crate::net::CrossTrafficFlow>>,
    /// Stop the cross-traffic flow of this name.
    pub cross_traffic_stop: Option<Spanned<String>>,
    /// The participant sends an instant message to this address, as written
    /// (`bob@fabrikam.com`, `pat(example.org)@msn.com`).
    pub im: Option<Spanned<String>>,
    /// The message's text (default `hello`).
    pub text: Option<Spanned<String>>,
    /// What the participant's client shows as this address's presence at `at`.
    pub presence_of: Option<Spanned<String>>,
    /// The participant adds this address (as written) to its contact list.
    pub add_contact: Option<Spanned<String>>,
    /// ... removes it (exactly as written).
    pub remove_contact: Option<Spanned<String>>,
    /// ... blocks it.
    pub block: Option<Spanned<String>>,
    /// ... unblocks it (exactly as written).
    pub unblock: Option<Spanned<String>>,
    /// The participant sets its own state: `available`, `busy`, `do-not-disturb`,
    /// `be-right-back`, `away` or `offline` (appear offline).
    pub publish: Option<Spanned<String>>,
    /// With `im`: `delivered`, `refused`, or the refusal class (`domain-not-federated`...).
    /// With `presence_of`: `unknown` ("Presence Unknown") or a state: `available`, `busy`,
    /// `do-not-disturb`, `be-right-back`, `away`, `offline`.
    pub expect: Option<Spanned<String>>,
    /// With `im` refused: the response code expected too (`403`).
    pub code: Option<Spanned<u16>>,
}

/// How media is produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaMode {
    /// Each distinct source is encoded once per run and its frames replayed.
    #[default]
    Replay,
    /// Every call encodes its own audio.
    Live,
}

/// What a call must do: `connected`, or fail with a given class: the agent's (`ice-failed`,
/// `dtls-failed`, `signaling-timeout`, `call-dropped`, `network-down`...) or a refusal of the
/// service (`sign-in-failed`, `av-disabled`, `domain-not-federated`...).
#[derive(Debug, Clone, Copy)]
pub struct ExpectText(pub Option<crate::agent::FailureClass>);

/// Every `expect` value, in the order the schema lists them.
pub const EXPECT_NAMES: &[&str] = &[
    "connected",
    "ice-failed",
    "dtls-failed",
    "signaling-timeout",
    "call-dropped",
    "stack-error",
    "network-down",
    "sign-in-failed",
    "client-outdated",
    "not-signed-in",
    "av-disabled",
    "no-such-user",
    "unavailable",
    "service-down",
    "unreachable",
    "external-access-off",
    "public-im-off",
    "domain-not-federated",
    "domain-not-allowed",
    "federation-srv-missing",
    "public-im-address-format",
    "external-client-outdated",
    "contact-blocked",
    "not-mutual-contacts",
];

impl<'de> Deserialize<'de> for ExpectText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "connected" {
            return Ok(ExpectText(None));
        }
        match crate::agent::FailureClass::from_name(&s) {
            Some(c) => Ok(ExpectText(Some(c))),
            None => Err(de::Error::unknown_variant(&s, EXPECT_NAMES)),
        }
    }
}

impl JsonSchema for ExpectText {
    fn schema_name() -> Cow<'static, str> {
        "ExpectText".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "enum": EXPECT_NAMES,
            "description": "`connected`, or the failure class the call must end with"
        })
    }
}

/// A list of thresholds and named sets, or a single one.
#[derive(Debug, Clone)]
pub struct ThresholdList(pub Vec<Spanned<String>>);

impl<'de> Deserialize<'de> for ThresholdList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<OneOrMany>::deserialize(d)?;
        Ok(match s.value {
            OneOrMany::Many(list) => ThresholdList(list),
            OneOrMany::One(text) => ThresholdList(vec![Spanned {
                value: text,
                mark: s.mark,
                path: s.path,
                id: s.id,
            }]),
        })
    }
}

/// One string, or a list of spanned strings.
enum OneOrMany {
    One(String),
    Many(Vec<Spanned<String>>),
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a threshold like \"loss < 1%\", a named set, or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany::One(v.to_string()))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<OneOrMany, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = s.next_element::<Spanned<String>>()? {
                    v.push(x);
                }
                Ok(OneOrMany::Many(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for ThresholdList {
    fn schema_name() -> Cow<'static, str> {
        "ThresholdList".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let one = json_schema!({
            "type": "string",
            "description": "`METRIC OP VALUE[ in every|some WINDOW]` or a named set: teams-client-edge, teams-customer-edge, cqd-poor-audio. `loss < 1% in every 15s`: the condition holds in each 15 s window (the report shows the highest window); `loss > 5% in some 15s`: it holds in at least one (the report shows the window that decides, and when it starts). `in any` reads as `in every` with < and <=, and is refused with > and >=, where it could mean either."
        });
        json_schema!({
            "anyOf": [one.clone(), { "type": "array", "items": one }]
        })
    }
}

/// A map that keeps the file's order and where each key was written.
#[derive(Debug, Clone)]
pub struct OrderedMap<V>(pub Vec<(Spanned<String>, V)>);

impl<V> Default for OrderedMap<V> {
    fn default() -> Self {
        OrderedMap(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = OrderedMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<OrderedMap<V>, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = m.next_entry::<Spanned<String>, V>()? {
                    v.push(e);
                }
                Ok(OrderedMap(v))
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}

impl<V: JsonSchema> JsonSchema for OrderedMap<V> {
    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object", "additionalProperties": g.subschema_for::<V>() })
    }
}

/// A value the loader reads later with the emulator's own types (profile bodies, firewall
/// rules, cross-traffic flows): only its position is kept here. `S` names its schema.
#[derive(Debug, Clone)]
pub struct Opaque<S> {
    pub at: Spanned<()>,
    _schema: PhantomData<S>,
}

impl<'de, S> Deserialize<'de> for Opaque<S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Spanned::<IgnoredAny>::deserialize(d)?;
        Ok(Opaque {
            at: Spanned {
                value: (),
                mark: s.mark,
                path: s.path,
                id: s.id,
            },
            _schema: PhantomData,
        })
    }
}

impl<S: JsonSchema> JsonSchema for Opaque<S> {
    fn schema_name() -> Cow<'static, str> {
        S::schema_name()
    }
    fn inline_schema() -> bool {
        S::inline_schema()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        S::json_schema(g)
    }
}

/// A network profile body or its overrides: read by the loader as the emulator's
/// [`LinkProfile`](crate::net::LinkProfile), whose schema it has.
pub type ProfileBody = crate::net::LinkProfile;

/// A firewall rule: read by the loader as the emulator's
/// [`FirewallRule`](crate::net::FirewallRule), whose schema it has.
pub type FirewallRuleText = crate::net::FirewallRule;

/// A site's NAT: read by the loader as the emulator's
/// [`NatConfig`](crate::net::NatConfig), whose schema it has.
pub type NatText = crate::net::NatConfig;

/// Schema of a value whose type depends on the field it sets (`set: { up.delay: 80ms }`).
#[derive(Debug, Clone)]
pub struct AnyValue;

impl JsonSchema for AnyValue {
    fn schema_name() -> Cow<'static, str> {
        "AnyValue".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "description": "the value for that field, like 80ms" })
    }
}

/// A matrix value: a scalar, kept as its text.
#[derive(Debug, Clone)]
pub struct MatrixValue(pub Spanned<String>);

impl<'de> Deserialize<'de> for MatrixValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Spanned::<String>::deserialize(d).map(MatrixValue)
    }
}

impl JsonSchema for MatrixValue {
    fn schema_name() -> Cow<'static, str> {
        "MatrixValue".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number", "boolean"] })
    }
}

macro_rules! unit_text {
    ($name:ident, $unit:ty, $what:literal, $example:literal) => {
        #[doc = concat!("A ", $what, " as written, like `", $example, "`.")]
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub $unit);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$unit>::deserialize(d).map($name)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn inline_schema() -> bool {
                true
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "description": concat!("A ", $what, ", like ", $example)
                })
            }
        }
    };
}

unit_text!(DurText, Dur, "duration", "30ms, 2s or 1m");
unit_text!(RateText, Rate, "bit rate", "256kbit or 2Mbit");
unit_text!(PercentText, Percent, "percentage", "1% or 0.5%");
