//! Client settings in scenarios: defaults, templates, and every mistake at its own field.

use super::super::load_str;
use super::super::{Scenario, ScenarioError};
use crate::agent::media::OpusConfig;
use crate::agent::peer::IceTimeouts;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The scenario of `body` (participants and after) against a folder with a `lan` profile.
fn load(body: &str) -> Result<Scenario, Vec<ScenarioError>> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("lan.yaml"), "both: { delay: 2ms }\n").expect("write");
    let text = format!(
        "name: client\nduration: 60s\n{body}calls:\n  - {{ caller: alice, callee: bob }}\n"
    );
    load_str(&text, Path::new("s.yaml"), &[PathBuf::from(dir.path())]).map(|mut v| v.remove(0))
}

/// (line, field path, message) of each error.
fn errors(body: &str) -> Vec<(usize, String, String)> {
    let errs = load(body).expect_err("invalid");
    errs.iter()
        .map(|e| (e.line, e.path.clone(), e.to_string()))
        .collect()
}

fn has(errs: &[(usize, String, String)], line: usize, path: &str, text: &str) -> bool {
    errs.iter()
        .any(|(l, p, m)| *l == line && p == path && m.contains(text))
}

#[test]
fn audio_and_ice_settings_defaults_and_templates() {
    let s = load(
        "templates:
  fec-client: { network: lan, audio: { bitrate: 24kbit, frame: 40ms, fec: true } }
participants:
  alice: { template: fec-client, ice: { disconnected_timeout: 3s, failed_timeout: 12s } }
  bob:
    network: lan
    audio: { bitrate: 510kbit, frame: 10ms, fec: true, expected_loss: 25%, dtx: true }
    ice: { keepalive: 600ms }
  carol: { network: lan }
",
    )
    .expect("valid");
    let p = |n: &str| s.participant(n).expect(n).clone();
    let alice = p("alice");
    assert_eq!(
        alice.audio,
        OpusConfig {
            bitrate_bps: 24_000,
            frame_ms: 40,
            inband_fec: true,
            packet_loss_pct: 10, // FEC's default plan
            ..OpusConfig::default()
        }
    );
    assert_eq!(
        (
            alice.ice.disconnected,
            alice.ice.failed,
            alice.ice.keepalive
        ),
        (
            Duration::from_secs(3),
            Duration::from_secs(12),
            Duration::from_secs(2)
        )
    );
    let bob = p("bob");
    assert_eq!(
        (
            bob.audio.bitrate_bps,
            bob.audio.frame_ms,
            bob.audio.packet_loss_pct
        ),
        (510_000, 10, 25)
    );
    assert!(bob.audio.inband_fec && bob.audio.dtx);
    assert_eq!(bob.ice.keepalive, Duration::from_millis(600));
    assert_eq!(bob.ice.failed, Duration::from_secs(30));
    let carol = p("carol");
    assert_eq!(carol.audio, OpusConfig::default());
    assert_eq!(carol.ice, IceTimeouts::default());
}

#[test]
fn audio_settings_libopus_or_the_playout_cannot_honour_are_located_errors() {
    let errs = errors(
        "participants:
  alice: { network: lan, audio: { bitrate: 5kbit, frame: 25ms } }
  bob: { network: lan, audio: { bitrate: 600kbit, frame: 5ms } }
  carol: { network: lan, audio: { frame: 2.5ms, expected_loss: 10% } }
  dave: { network: lan, audio: { fec: true, expected_loss: 2.5% } }
  erin: { network: lan, audio: { frame: 120ms, fec: yes } }
  frank: { network: lan, audio: { bitrate: 32kbit, vbr: false } }
  gina: { network: lan, audio: { bitrate: 24kbit, fec: true, expected_loss: 5% } }
  hal: { network: lan, audio: { fec: true, expected_loss: 0% } }
",
    );
    for (line, path, text) in [
        (4, "participants.alice.audio.bitrate", "6kbit to 510kbit"),
        (
            4,
            "participants.alice.audio.frame",
            "10ms, 20ms, 40ms or 60ms",
        ),
        (5, "participants.bob.audio.bitrate", "600kbit"),
        (5, "participants.bob.audio.frame", "does not support"),
        (6, "participants.carol.audio.frame", "2.5 and 5 ms"),
        (6, "participants.carol.audio.expected_loss", "fec: true"),
        (7, "participants.dave.audio.expected_loss", "whole percent"),
        (8, "participants.erin.audio.frame", "120 ms"),
        (8, "participants.erin.audio.fec", ""),
        (9, "participants.frank.audio.vbr", ""),
        (10, "participants.gina.audio.fec", "at least 32kbit at 5%"),
        (11, "participants.hal.audio.expected_loss", "above 0%"),
    ] {
        assert!(
            has(&errs, line, path, text),
            "{line} {path} {text}: {errs:#?}"
        );
    }
}

#[test]
fn ice_timers_out_of_order_are_located_errors() {
    let errs = errors(
        "participants:
  alice: { network: lan, ice: { keepalive: 5s } }
  bob: { network: lan, ice: { disconnected_timeout: 10s, failed_timeout: 8s } }
  carol: { network: lan, ice: { failed_timeout: 4s } }
  dave: { network: lan, ice: { keepalive: 0s } }
  erin: { network: lan, ice: { disconnected_timeout: 40s } }
  frank: { network: lan, ice: { keepalive: 500ms } }
",
    );
    for (line, path, text) in [
        (
            4,
            "participants.alice.ice.keepalive",
            "shorter than disconnected_timeout",
        ),
        (
            5,
            "participants.bob.ice.failed_timeout",
            "longer than disconnected_timeout",
        ),
        (
            6,
            "participants.carol.ice.failed_timeout",
            "longer than disconnected_timeout",
        ),
        (7, "participants.dave.ice.keepalive", "above 0"),
        (
            8,
            "participants.erin.ice.disconnected_timeout",
            "longer than",
        ),
        (9, "participants.frank.ice.keepalive", "every 600 ms"),
    ] {
        assert!(
            has(&errs, line, path, text),
            "{line} {path} {text}: {errs:#?}"
        );
    }
    assert!(errs
        .iter()
        .all(|(_, _, m)| m.contains("keepalive < disconnected_timeout")));
}
