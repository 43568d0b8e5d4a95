//! callharness: synthetic media calls over emulated networks, measured and judged.
//!
//! The crate is split by concern (see `../shared/design.md`):
//! - [`net`]: the sans-IO network emulator (links, profiles, topology);
//! - [`metrics`]: RFC 3550 receiver statistics, RFC 3611 burst/gap, E-model MOS;
//! - [`agent`]: a sans-IO call agent around webrtc-rs's `rtc` core, with media and measurement;
//! - [`sim`]: the discrete-event loop that runs agents over the emulator in simulated time;
//! - [`tcp`]: a sans-IO TCP stack (smoltcp) per emulated host, for TCP over the emulated links;
//! - [`scenario`]: the YAML scenario language and its validation;
//! - [`report`]: report model and writers (JSON, JUnit, Markdown, HTML).
// No unsafe code, except the VP8 codec's FFI to libvpx (`agent/video/vp8.rs`, the one module
// that allows it: small safe types, each unsafe block with its SAFETY comment).
#![deny(unsafe_code)]

pub mod agent;
pub mod cli;
pub mod metrics;
pub mod net;
pub mod report;
pub mod scenario;
pub mod service;
pub mod sim;
pub mod tcp;
pub mod units;
