//! The report's data model: what a run measured and judged, serialised as `report.json`.
//!
//! Field names are a contract (issue 9): scripts rely on them, so fields are added, never renamed.
//! Every map is a `BTreeMap` and every list is built in a deterministic order, so the same scenario
//! and seed give a byte-identical report apart from the wall-clock fields (`started_at`,
//! `wall_ms`), which [`RunReport::without_wall_clock`] blanks for comparisons.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The whole run: every scenario that was run, with the seed that makes it repeatable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunReport {
    /// Format version of this report, bumped when a field changes meaning.
    pub format: u32,
    /// The seed of the run (each scenario's seed is derived from it unless the scenario fixes one).
    pub seed: u64,
    /// The harness's version and the versions of the crates that decide what is measured.
    pub versions: BTreeMap<String, String>,
    /// When the run started (RFC 3339, UTC). Wall-clock field.
    pub started_at: String,
    /// Wall-clock duration of the whole run in ms. Wall-clock field.
    pub wall_ms: u64,
    /// False when the run was interrupted or timed out: what is here is what was measured so far.
    pub complete: bool,
    /// `pass` when every scenario passed, else `fail`.
    pub verdict: Verdict,
    pub scenarios: Vec<ScenarioReport>,
}

/// Pass or fail of a scenario or a run.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

/// What a scenario sets out to show (`scenario::Scenario::expects` holds the rule): the user's
/// symptom (a call expected to fail, or a threshold asserting degradation such as `loss > 3%`
/// or `mos < 3.6`), or a healthy call (every call connects, every threshold a quality target).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Expects {
    /// The scenario reproduces a reported symptom: passing means the symptom was seen.
    Symptom,
    /// The scenario is a healthy call (a baseline, or a fix applied): passing means it was.
    Healthy,
}

/// What a scenario's verdict means, in words (see [`super::outcome`]): the verdict read against
/// what the scenario expects. `pass` is `reproduced` or `healthy`; `fail` is any other.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The symptom was expected and seen.
    Reproduced,
    /// A healthy call was expected and seen.
    Healthy,
    /// The symptom was expected and not seen (some expectation unmet).
    NotReproduced,
    /// A healthy call was expected and something was unmet.
    Failed,
    /// The scenario could not be set up (its world did not build).
    Error,
    /// The scenario was not started before the run was interrupted or timed out.
    NotRun,
}

/// One scenario's outcome.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScenarioReport {
    pub name: String,
    /// The scenario file, as given on the command line.
    pub file: String,
    pub description: String,
    /// KB catalog IDs this scenario reproduces.
    pub kb: Vec<String>,
    /// The seed this scenario ran with.
    pub seed: u64,
    /// Simulated duration in ms.
    pub duration_ms: u64,
    /// Matrix cell values when the scenario is one cell of a matrix (`param` -> value), else empty.
    pub matrix: BTreeMap<String, String>,
    pub verdict: Verdict,
    /// `symptom` or `healthy`: what the scenario expects (see [`Expects`]). Null only in
    /// reports written before the field existed; readers then infer it from the expectations
    /// ([`ScenarioReport::expects`]).
    #[serde(default)]
    pub expects: Option<Expects>,
    /// The verdict in words: `reproduced`, `not-reproduced`, `healthy`, `failed`, `error` or
    /// `not-run` (see [`Outcome`]). Derived from `expects`, `verdict`, `error` and `complete`
    /// ([`ScenarioReport::outcome`]); written for scripts, recomputed by readers.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// False when this scenario was cut short (interrupt, timeout).
    pub complete: bool,
    pub expectations: Vec<Expectation>,
    pub calls: Vec<CallReport>,
    /// Every participant's client and its sign-in to the calling service.
    #[serde(default)]
    pub accounts: Vec<AccountReport>,
    /// The timeline's IMs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<ImReport>,
    /// The timeline's presence looks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presence: Vec<PresenceLookReport>,
    /// Presence lags: shown signed in while unreachable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub presence_lags: Vec<PresenceLagReport>,
    /// The emulator's per-link counters, to set dropped-by-emulator beside lost-at-receiver.
    pub links: Vec<LinkReport>,
    /// Network and call events on the time axis (outages, address changes, profile changes...).
    pub events: Vec<TimelineEvent>,
    /// Where the failures point when the calls form a matrix of callers and callees: one user,
    /// one contact, a shared domain, site, network or client version, all calls, or no pattern
    /// (see [`super::scope`]). Absent when there is no matrix, or in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<super::scope::ScopeReport>,
    /// The conferencing edge's relay: allocations made, released or expired, and still held
    /// at the end. Absent in older reports and where no client asked the relay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<EdgeReport>,
    /// The participants' VPN tunnels over TCP (`tunnel: tls-tcp`). Absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tunnels: Vec<TunnelReport>,
    /// Wall-clock time this scenario took, ms. Wall-clock field.
    pub wall_ms: u64,
    /// The scenario file's own text, so a run can be repeated from the report alone.
    pub source: String,
    /// Why the scenario produced no result: it could not be set up (the world did not build),
    /// or it was not started before the run was interrupted. Its verdict is then `fail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The edge's TURN relay over a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EdgeReport {
    /// Allocations made, over UDP 3478, over TCP 443 and over TLS on TCP 443 (TURNS).
    pub allocations_udp: u64,
    pub allocations_tcp: u64,
    /// (Absent from reports made before TURNS: read as 0.)
    #[serde(default)]
    pub allocations_tls: u64,
    /// Allocations that ended: released by their client (a Refresh with lifetime 0) or
    /// expired (no refresh within their lifetime).
    pub allocations_ended: u64,
    /// Allocations still held when the scenario ended.
    pub allocations_active: u64,
}

/// A participant's VPN tunnel over TCP over a run: what went in at each end, what came out
/// at the other, and what TCP did to carry it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TunnelReport {
    /// The participant whose traffic the tunnel carried.
    pub participant: String,
    /// The tunnel's kind (`tls-tcp`).
    pub kind: String,
    /// The gateway's address: the participant's address inside the VPN.
    pub gateway: String,
    /// Times the TCP connection was made (more than 1: it broke and the VPN reconnected).
    pub connects: u64,
    /// Packets the participant sent into the tunnel, and those that came out at the gateway.
    pub up_in: u64,
    pub up_out: u64,
    /// Packets the gateway sent into the tunnel, and those that came out at the participant.
    pub down_in: u64,
    pub down_out: u64,
    /// Packets dropped because the tunnel's queue was full, or lost with a broken connection
    /// (the rest of `in` minus `out` were still inside when the scenario ended).
    pub dropped_full: u64,
    pub dropped_broken: u64,
    /// TCP segments either end sent again (retransmissions: the link's losses, made delay).
    pub retransmitted_segments: u64,
    /// Mean and largest time a packet spent in the tunnel, ms (from entering at one end to
    /// leaving at the other: the link's delay, queueing, and waiting for retransmissions).
    pub transit_mean_ms: f64,
    pub transit_max_ms: f64,
}

/// One checked expectation: what was expected, what was observed, and whether it was met.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Expectation {
    pub what: String,
    pub expected: String,
    pub observed: String,
    pub met: bool,
}

/// A failure as a client would have shown it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailureReport {
    /// A stable class name, like `ice-failed` or `signaling-timeout`.
    pub class: String,
    /// The message in the words a client would show.
    pub message: String,
    /// The service's response code when the service refused (`403`), else absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// Its reason phrase (`Forbidden`), with the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the harness saw, for people reading the report ("sign-in refused: 401
    /// Unauthorized", "no ICE candidate pair succeeded within 30 s").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// What a test call (to the echo / sound test service) tells its user.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TestCallReport {
    /// The round trip of the user's own audio through the network, ms: the mean one-way
    /// delay of the audio to the echo service plus that of its echo back (the echo service
    /// sends each packet back as it arrives). Null when nothing came back.
    pub round_trip_ms: Option<f64>,
    /// Audio packets that reached the echo service (the microphone's audio got out).
    pub reached_service: u64,
    /// Audio packets the echo service sent back.
    pub echoed: u64,
    /// `works`: the user's audio reached the service; else why not.
    pub microphone: String,
    /// `works`: the echo came back and was played; else why not.
    pub speaker: String,
}

/// An IM a participant sent on the timeline, and what came of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImReport {
    pub from: String,
    /// The address as the sender wrote it.
    pub to: String,
    pub text: String,
    /// When it was sent, simulated ms.
    pub at_ms: u64,
    /// `delivered`, `refused`, or `unanswered` (no response before the end).
    pub outcome: String,
    /// The refusal's class (`domain-not-federated`), when refused.
    pub class: Option<String>,
    pub code: Option<u16>,
    pub reason: Option<String>,
    /// What the sender's client shows, in the KB article's words.
    pub shown: Option<String>,
    /// What the sender's client logs, where the article gives a line.
    pub log_line: Option<String>,
    /// When the recipient's client got it, ms (a participant recipient only).
    pub delivered_ms: Option<u64>,
}

/// What a participant's client showed as someone's presence, at a look on the timeline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PresenceLookReport {
    pub watcher: String,
    /// The address looked at, as written.
    pub of: String,
    pub at_ms: u64,
    /// `Available`, `Offline`, ... or `Presence Unknown`.
    pub shown: String,
}

/// A stretch of time in which the service showed a participant signed in (its last state)
/// while it could not reach the participant's client: the presence lag of a client that lost
/// its link or moved (NET-ROAMING).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PresenceLagReport {
    pub participant: String,
    pub from_ms: f64,
    pub to_ms: f64,
    pub lag_ms: f64,
    /// `reachable again` (the client registered again), `registration expired` (the service
    /// showed it offline), or `scenario ended`.
    pub ended_by: String,
}

/// One participant's client and its sign-in to the service.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccountReport {
    pub participant: String,
    /// The account it signs in as (`alice@contoso.com`).
    pub address: String,
    /// The client's version.
    pub client_version: String,
    /// The site it is on and its network profile, for telling what failing calls share.
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub network: String,
    /// When it was signed in, simulated ms (null: never).
    pub signed_in_ms: Option<u64>,
    /// Sign-in attempts made (a client that cannot reach the service keeps trying).
    pub attempts: u32,
    /// Why its last attempt failed, when it did.
    pub failure: Option<FailureReport>,
}

/// One call between two participants.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CallReport {
    pub caller: String,
    pub callee: String,
    /// Simulated time the call was placed, ms.
    pub start_ms: u64,
    /// Simulated time the call ended (hang-up, failure or end of run), ms.
    pub end_ms: u64,
    pub connected: bool,
    pub failure: Option<FailureReport>,
    /// Simulated time the offer went out, ms: after `start_ms` when the call was placed while
    /// its caller was still signing in (null: never sent, the call was not attempted).
    #[serde(default)]
    pub offer_ms: Option<f64>,
    /// Offer created to peer connection connected, ms (null when not connected).
    pub setup_ms: Option<f64>,
    /// Offer created to the first audio frame played at the callee, ms.
    pub first_audio_ms: Option<f64>,
    /// ICE candidate pair media took: the caller's candidate type and its transport, then the
    /// callee's (`host/udp -> host/udp`; `relay/tcp -> host/udp`: the caller's relay
    /// candidate, reached over TCP, to the callee's host candidate).
    pub candidate_pair: Option<String>,
    /// Every candidate each side gathered, with the time it took, and those that failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<CandidateReport>,
    /// A call to the echo test service: what it tells the user (TEST-CALL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_call: Option<TestCallReport>,
    pub streams: Vec<StreamReport>,
    /// The video streams of a video call (empty for an audio call).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub video: Vec<VideoStreamReport>,
}

/// One ICE candidate a side of a call gathered (or failed to).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CandidateReport {
    /// The participant whose candidate it is.
    pub side: String,
    /// `host`, `srflx` or `relay`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `udp`; for a relay candidate, the transport to the relay server (`udp`, `tcp`).
    pub transport: String,
    /// Its address (a relay candidate's relayed address), when gathered.
    pub address: Option<String>,
    /// The server it was gathered from (STUN or TURN), for srflx and relay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Gathering start to this candidate, ms (null: not gathered).
    pub gathered_ms: Option<f64>,
    /// Why it was not gathered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// The candidate the call's media used.
    #[serde(default)]
    pub selected: bool,
}

/// One direction of media of one call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StreamReport {
    pub from: String,
    pub to: String,
    /// `audio` (video follows in a later issue).
    pub kind: String,
    pub packets_sent: u64,
    pub packets_received: u64,
    /// RFC 3550 cumulative lost (expected - received); may be negative with duplicates.
    pub lost: i64,
    /// This stream's RTP packets the emulated network dropped (any link, any reason): set
    /// beside `lost` to tell network loss from loss elsewhere. Null in real-network mode.
    #[serde(default)]
    pub emulator_dropped: Option<u64>,
    pub loss_pct: f64,
    /// RFC 3550 interarrival jitter estimate at the end of the stream, ms.
    pub jitter_ms: f64,
    /// p95 of per-packet delay variation |D|, ms.
    pub jitter_p95_ms: f64,
    /// Mean round-trip time from RTCP SR/RR (LSR/DLSR), ms; null when no RR came back.
    pub rtt_ms: Option<f64>,
    /// Mean one-way network delay of this stream, ms: measured per packet in simulation
    /// (`one_way_delay_source: measured`), else half the RTT (`rtt/2`); null when neither.
    #[serde(default)]
    pub one_way_delay_ms: Option<f64>,
    /// `measured` or `rtt/2`: where `one_way_delay_ms` comes from.
    #[serde(default)]
    pub one_way_delay_source: Option<String>,
    /// Packets that arrived after their playout time.
    pub late: u64,
    /// Network duplicates: copies of an RTP packet that had already arrived, counted at the
    /// host before SRTP's replay check discards them.
    pub duplicates: u64,
    pub reordered: u64,
    /// Concealed samples / all played samples; null when decoding was off (`decode: false`).
    pub concealed_ratio: Option<f64>,
    /// What the listener heard: playout ticks concealed (the frame was lost, late, or never
    /// arrived while the stream should have flowed) / ticks that should have played × 100.
    /// MOS is computed from this, not from `loss_pct`.
    #[serde(default)]
    pub playout_loss_pct: Option<f64>,
    /// Longest run of concealed playout, ms.
    #[serde(default)]
    pub max_concealment_ms: Option<f64>,
    /// What the receiver's decoder heard, measured on what it received (never the sender's
    /// settings): frames decoded from received packets whose RMS level is at or above -60 dBov
    /// / such frames, 0..1 (concealed and comfort-noise frames left out). Healthy speech reads
    /// its talk-spurt share; a dead microphone 0. Null when decoding was off (`decode: false`)
    /// or nothing was decoded.
    #[serde(default)]
    pub speech_ratio: Option<f64>,
    /// RMS level over every sample decoded from received packets, dBov; -120 is the floor
    /// (digital silence). Null as `speech_ratio`.
    #[serde(default)]
    pub decoded_level_dbov: Option<f64>,
    /// RMS level of everything the receiver's speaker played (decoded, concealed and comfort
    /// noise), after the speaker's gain, dBov; -120 (the floor) when it played digital silence,
    /// as a muted output does while `decoded_level_dbov` stays normal. Null as `speech_ratio`.
    #[serde(default)]
    pub played_level_dbov: Option<f64>,
    /// Longest time with no packet while the stream should flow, ms.
    pub max_gap_ms: f64,
    /// E-model (G.107, narrowband) R factor.
    pub r_factor: f64,
    /// MOS from R (G.107 Annex B mapping).
    pub mos: f64,
    /// MOS(no impairment) - MOS(measured).
    pub mos_degradation: f64,
    /// Everything else measured (burst/gap metrics, jitter buffer delay, windowed maxima...).
    pub extra: BTreeMap<String, f64>,
    /// Per-second time series of this stream.
    pub series: Vec<SecondSample>,
    /// What each emulated link on the stream's path did to its RTP packets, in path order
    /// (empty in real-network mode).
    #[serde(default)]
    pub links: Vec<StreamLinkReport>,
    /// The link that hurt the stream most, in plain words, with how ("bob's uplink (bob.up,
    /// bob's side, the far end for alice): 5.2 % of packets dropped (random loss)"); null
    /// when no link dropped or noticeably delayed its packets.
    #[serde(default)]
    pub fault: Option<String>,
}

/// One direction of video of one call, as the receiver measured it from what arrived (frames
/// assembled and decodable by their reference chain; freezes by the W3C rule).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VideoStreamReport {
    pub from: String,
    pub to: String,
    /// `vp8` or `h264`, as the receiver read it from the payload type.
    pub codec: Option<String>,
    /// What the sender's camera was set to send (the top of its ladder when it adapts):
    /// `640x360 30fps 600kbit`; null when it sent none.
    pub sent_layer: Option<String>,
    /// Why the sender sent no video, with what its client said: `alice's camera is in-use:
    /// "Your webcam is not configured or is in use."`; null when it sent video.
    #[serde(default)]
    pub not_sent: Option<String>,
    pub packets_sent: u64,
    /// Distinct packets received (originals and repairs, each once).
    pub packets_received: u64,
    /// Packets sent and never received, even after retransmission, % of packets sent.
    pub loss_pct: f64,
    /// Packets the sender's stack sent again when asked (NACK), seen on the wire.
    pub retransmitted: u64,
    /// Copies of packets already received (network duplicates and needless retransmissions).
    pub duplicates: u64,
    pub frames_sent: u64,
    pub keyframes_sent: u64,
    /// Frames whose packets all arrived and whose reference chain was intact.
    pub frames_decoded: u64,
    pub keyframes_decoded: u64,
    /// Frames of which packets arrived but which were never decoded.
    pub frames_dropped: u64,
    /// Keyframe requests (PLI) the receiver sent, and the keyframes the sender made for them.
    pub plis_sent: u64,
    pub keyframes_on_request: u64,
    /// Mean and longest time from a PLI to the next keyframe rendered, ms.
    pub recovery_mean_ms: Option<f64>,
    pub recovery_max_ms: Option<f64>,
    /// W3C freezeCount and totalFreezesDuration.
    pub freezes: u64,
    pub freeze_ms: f64,
    /// Freeze time / the time the video should have played (first frame due to the stream's
    /// end), %.
    pub frozen_pct: f64,
    /// Frames rendered per second, first to last frame.
    pub fps: Option<f64>,
    /// The last picture size rendered, `640x360`, read from the bitstream.
    pub resolution: Option<String>,
    pub resolution_changes: u64,
    /// Mean height of the frames rendered, px (null: none rendered).
    #[serde(default)]
    pub mean_height: Option<f64>,
    /// Received video bit rate (payload of rendered frames), kbit/s.
    pub bitrate_kbps: f64,
    /// Offer to the first frame rendered, ms.
    pub first_frame_ms: Option<f64>,
    /// What a person would see, from the receiver's pixel decode (`video: { decode: true }`);
    /// null without it.
    #[serde(default)]
    pub pictures: Option<PictureReport>,
    /// How the sender followed its bandwidth estimate; null when it sent no video or does not
    /// adapt (`video: { adaptation: false }`).
    #[serde(default)]
    pub adaptation: Option<AdaptationReport>,
    /// Per second: frames rendered, kbit/s, picture height, freeze time ending in it, and the
    /// sender's layer and estimate.
    pub series: Vec<VideoSecondSample>,
}

/// A video sender's adaptation: its layers, its bandwidth estimate, and when it switched.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AdaptationReport {
    /// The layers it could send, highest first: `640x360 30fps 600kbit`.
    pub layers: Vec<String>,
    /// Share of the sending time on each layer (same order), %.
    pub time_pct: Vec<f64>,
    /// What the initial probe measured, kbit/s (null: no result).
    pub probe_kbps: Option<f64>,
    /// The send-side estimate (audio and video, RTP level) over the call: mean and lowest of
    /// its per-second samples, kbit/s.
    pub estimate_mean_kbps: Option<f64>,
    pub estimate_min_kbps: Option<f64>,
    /// Every switch of layer, in order.
    pub switches: Vec<LayerSwitchReport>,
}

/// One switch of a sender's layer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LayerSwitchReport {
    /// When, ms since the call's offer.
    pub t_ms: f64,
    pub from: String,
    pub to: String,
    /// The estimate less audio that decided it, kbit/s.
    pub budget_kbps: f64,
}

/// The decoded pictures of a video stream.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PictureReport {
    /// Frames decoded to a picture, and frames the decoder refused.
    pub decoded: u64,
    pub decode_errors: u64,
    /// Pictures at black level (mean luma at most 28 of 255: a covered or wrong camera), % of
    /// pictures.
    pub black_pct: f64,
    /// Pictures the same as the one before (PSNR of luma at least 50 dB), % of pictures.
    pub repeated_pct: f64,
    /// PSNR of luma against the sender's camera, mean and lowest, dB (99 = identical).
    pub psnr_mean_db: Option<f64>,
    pub psnr_min_db: Option<f64>,
}

/// One second of one video stream.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VideoSecondSample {
    pub t: u64,
    pub fps: u32,
    pub bitrate_kbps: f64,
    /// Height of the picture last rendered in this second (0: none).
    pub height: u32,
    pub freeze_ms: u32,
    /// Height of the layer the sender was sending at the start of this second (0: none).
    #[serde(default)]
    pub sent_height: u32,
    /// The sender's bandwidth estimate at the start of this second, kbit/s (null: none yet).
    #[serde(default)]
    pub estimate_kbps: Option<f64>,
}

/// What one emulated link did to one stream's RTP packets.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StreamLinkReport {
    /// The link, e.g. `bob.up`.
    pub link: String,
    /// The stream's RTP packets that entered the link.
    pub packets_in: u64,
    /// Those that left it (to the next link or the receiver).
    pub delivered: u64,
    /// Those it dropped, per reason (`loss`, `queue`...), zero counts omitted.
    pub dropped: BTreeMap<String, u64>,
    /// Dropped over entered, %.
    pub dropped_pct: f64,
    /// Mean wait in the link's queue before the packet's turn, ms.
    pub queue_delay_mean_ms: f64,
    /// Longest such wait, ms.
    pub queue_delay_max_ms: f64,
    /// Mean time in the link beyond its propagation delay (serialisation, queueing, jitter,
    /// retransmissions, waiting to keep order), ms.
    pub added_delay_mean_ms: f64,
    /// Largest such added delay, ms.
    pub added_delay_max_ms: f64,
    /// Mean change in time through the link from one packet to the next, ms: this link's
    /// share of the stream's jitter (unsmoothed, unlike RFC 3550's estimate).
    pub delay_variation_ms: f64,
}

/// One second of one stream.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecondSample {
    /// Second index from the scenario's start.
    pub t: u64,
    /// RFC 3550 loss of the packets sent in this second, %; null for a second after the last
    /// packet that arrived (RFC 3550 cannot see those).
    pub loss_pct: Option<f64>,
    /// Playout loss of the ticks in this second, %; null when nothing was played or concealed.
    #[serde(default)]
    pub concealed_pct: Option<f64>,
    pub jitter_ms: f64,
    pub bitrate_kbps: f64,
    pub rtt_ms: Option<f64>,
    /// Mean one-way delay of the packets that arrived in this second (else the stream's), ms.
    #[serde(default)]
    pub one_way_ms: Option<f64>,
    /// MOS of this second, from its playout loss and delay.
    pub mos: Option<f64>,
}

/// One direction of one emulated link, as the emulator counted it. Every packet that entered
/// is delivered, dropped, or still inside at the end: `packets_in = delivered + dropped +
/// in_flight_at_end`. Cross-traffic is counted apart, per flow.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LinkReport {
    /// Stable link name, e.g. `alice.up`, `core:a->b`, `bob.down`.
    pub link: String,
    /// Packets that entered the link (the emulator's own cross-traffic excluded; a
    /// `transport: tcp` flow's segments are real packets and count here too).
    pub packets_in: u64,
    /// Bytes that entered (IP sizes, before any tunnel overhead).
    pub bytes_in: u64,
    /// Packets that left the link, to the next link or the host, before the run ended
    /// (duplicates not counted).
    pub delivered: u64,
    /// Bytes that left the link (IP sizes).
    #[serde(default)]
    pub delivered_bytes: u64,
    /// Dropped packets per reason (`loss`, `queue`, `outage`, `firewall`...), zero counts omitted.
    pub dropped: BTreeMap<String, u64>,
    /// Packets still inside the link (queued or propagating) when the run ended.
    #[serde(default)]
    pub in_flight_at_end: u64,
    /// Bytes (on the wire) still in the link's queue when the run ended, cross-traffic included.
    #[serde(default)]
    pub queued_at_end_bytes: u64,
    /// Highest queue occupancy seen, packets.
    pub queue_high_water: u64,
    /// Highest queue occupancy seen, bytes on the wire.
    #[serde(default)]
    pub queue_high_water_bytes: u64,
    /// Longest time a packet waited in the queue before its turn, ms.
    #[serde(default)]
    pub queue_high_water_ms: f64,
    /// Extra copies the link made (duplication).
    #[serde(default)]
    pub duplicates: u64,
    /// Packets the link had to fragment (larger than its MTU after overhead).
    #[serde(default)]
    pub fragmented: u64,
    /// Retransmissions inside a TCP tunnel (losses turned into delay).
    #[serde(default)]
    pub retransmissions: u64,
    /// The cross-traffic flows that loaded this link, in the order they started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cross_traffic: Vec<CrossTrafficReport>,
    /// Per-second counts, from second 0 to the last second the link carried a packet.
    #[serde(default)]
    pub series: Vec<LinkSecondSample>,
}

/// One cross-traffic flow on one link: what it sent and what became of it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CrossTrafficReport {
    /// The flow's name.
    pub flow: String,
    /// When it started, ms.
    pub start_ms: u64,
    /// Packets it sent into the link.
    pub sent: u64,
    /// Bytes it sent (IP sizes).
    pub sent_bytes: u64,
    /// Packets that left the link before the run ended.
    pub delivered: u64,
    /// Dropped packets per reason, zero counts omitted.
    pub dropped: BTreeMap<String, u64>,
    /// Packets still inside the link when the run ended.
    pub in_flight_at_end: u64,
    /// A `transport: tcp` flow: what the transfer achieved (its packets above are the data
    /// direction's segments, sent by the sending stack and received by the other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpFlowReport>,
}

/// What a TCP cross-traffic flow's transfer achieved, from its sending and receiving stacks.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TcpFlowReport {
    /// `down` (the server sends to the site's host) or `up` (the site's host sends).
    pub direction: String,
    /// When the handshake completed, ms (none: it never did).
    pub connected_ms: Option<u64>,
    /// The flow's life, from its start to its stop or the end of the run, ms.
    pub lifetime_ms: u64,
    /// Goodput: bytes the receiving application got, in order, over the flow's life.
    pub goodput_bytes: u64,
    /// Mean goodput over the flow's life: `goodput_bytes` × 8 / `lifetime_ms`, kbit/s (the
    /// handshake and slow start included).
    pub goodput_kbps: f64,
    /// Data segments the sender sent again (fast retransmits and timeouts).
    pub retransmitted_segments: u64,
    /// Payload bytes in those segments.
    pub retransmitted_bytes: u64,
    /// Retransmission timeouts the sender took (inferred, see `tcp::ConnStats::rtos`).
    pub rtos: u64,
    /// The sender's smoothed round-trip time at the end (RFC 6298), ms: the standing queue
    /// shows here.
    pub srtt_ms: Option<f64>,
    /// The smallest round trip it measured, ms: the path without a queue.
    pub rtt_min_ms: Option<f64>,
}

/// One second of one link.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LinkSecondSample {
    /// Second index from the scenario's start.
    pub t: u64,
    /// Packets that entered the link in this second (the emulator's own cross-traffic excluded,
    /// a TCP flow's segments included).
    pub packets_in: u64,
    /// Packets that left it in this second.
    pub delivered: u64,
    /// Packets it dropped in this second (any reason).
    pub dropped: u64,
    /// Most packets its queue held at an arrival in this second (cross-traffic included).
    pub queue_high_water: u64,
    /// Longest wait in its queue of a packet that arrived in this second, ms.
    pub queue_high_water_ms: f64,
}

/// Something that happened at a point of simulated time, drawn on the report's time axis.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TimelineEvent {
    /// Simulated time, ms.
    pub at_ms: u64,
    /// Duration for events with one (outage), ms.
    pub duration_ms: Option<u64>,
    /// Event kind: `outage`, `address-change`, `profile-change`, `cross-traffic-start`,
    /// `cross-traffic-stop`, `call-start`, `call-connected`, `call-end`, `call-failed`,
    /// `sign-in`, `sign-in-failed`, `service-outage`, `im-delivered`, `im-refused`, `presence`.
    pub kind: String,
    /// Who or what it concerns (a participant, a link, a call).
    pub subject: String,
    pub detail: String,
}

impl RunReport {
    /// A copy with the wall-clock fields blanked, for byte-equal comparisons of two runs.
    pub fn without_wall_clock(&self) -> RunReport {
        let mut r = self.clone();
        r.started_at = String::new();
        r.wall_ms = 0;
        for s in &mut r.scenarios {
            s.wall_ms = 0;
        }
        r
    }
}
