//! Tests of the whole loader: each error kind with its position, matrix, templates, timeline,
//! schema, and the example scenarios against the real profile folder.

use super::*;
use std::path::{Path, PathBuf};

/// A folder with a scenario file and two profiles, `wired-lan` and `wifi-congested`.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let profiles = dir.path().join("lib");
        std::fs::create_dir(&profiles).expect("mkdir");
        std::fs::write(
            profiles.join("wired-lan.yaml"),
            "name: wired-lan\ndescription: A wired office LAN.\nboth: { delay: 2ms }\n",
        )
        .expect("write");
        std::fs::write(
            profiles.join("wifi-congested.yaml"),
            "description: Busy Wi-Fi.\nboth: { delay: 8ms, loss: { bursty: { average: 2%, mean_burst: 3 } } }\n",
        )
        .expect("write");
        std::fs::write(
            profiles.join("throttled-256k.yaml"),
            "up: { rate: 256kbit }\ndown: { rate: 256kbit }\n",
        )
        .expect("write");
        Fixture { dir }
    }

    fn dirs(&self) -> Vec<PathBuf> {
        vec![self.dir.path().join("lib")]
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("s.yaml")
    }

    fn load(&self, text: &str) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
        std::fs::write(self.path(), text).expect("write");
        validate_file(&self.path(), &self.dirs())
    }

    fn errors(&self, text: &str) -> Vec<ScenarioError> {
        match self.load(text) {
            Ok(_) => panic!("expected errors for:\n{text}"),
            Err(e) => e,
        }
    }

    fn one_error(&self, text: &str) -> ScenarioError {
        let e = self.errors(text);
        assert_eq!(
            e.len(),
            1,
            "expected one error, got: {}",
            ScenarioErrors(e.clone())
        );
        e.into_iter().next().expect("one")
    }
}

const BASE: &str = "name: t
duration: 60s
participants:
  alice: { network: wifi-congested }
  bob: { network: wired-lan }
calls:
  - { caller: alice, callee: bob, at: 1s, duration: 50s, thresholds: [\"loss < 3%\"] }
";

/// Asserts the error's place, path and that its printed form names them.
fn assert_at(e: &ScenarioError, line: usize, column: usize, path: &str) {
    assert_eq!(
        (e.line, e.column, e.path.as_str()),
        (line, column, path),
        "{e}"
    );
    let shown = e.to_string();
    assert!(
        shown.contains(&format!("s.yaml:{line}:{column}: error: ")),
        "{shown}"
    );
    if !path.is_empty() {
        assert!(shown.contains(&format!("`{path}`")), "{shown}");
    }
}

#[test]
fn a_good_file_loads_into_the_typed_model() {
    let f = Fixture::new();
    let s = f.load(BASE).expect("valid");
    assert_eq!(s.len(), 1);
    let s = &s[0];
    assert_eq!(s.name, "t");
    assert_eq!(s.duration, crate::units::Dur::from_secs(60));
    assert_eq!(s.media, MediaMode::Replay);
    assert!(s.decode);
    assert_eq!(s.participants.len(), 2);
    assert_eq!(s.participants[0].name, "alice");
    assert_eq!(s.participants[0].site, DEFAULT_SITE);
    assert_eq!(s.participants[0].profile.name, "wifi-congested");
    assert_eq!(s.participants[1].profile.name, "wired-lan");
    assert_eq!(s.sites.len(), 1);
    assert_eq!(s.calls[0].expect, CallExpect::Connected);
    assert_eq!(s.calls[0].duration, Some(crate::units::Dur::from_secs(50)));
    assert_eq!(s.calls[0].thresholds[0].metric, Metric::Loss);
    assert!(s.matrix.is_empty());
    assert_eq!(s.source, BASE);
}

#[test]
fn unknown_field_names_place_path_and_nearest_field() {
    let f = Fixture::new();
    let e = f.one_error(&BASE.replace("duration: 60s", "duraton: 60s"));
    assert_eq!(e.kind, ErrorKind::UnknownField);
    assert_at(&e, 2, 1, "duraton");
    assert_eq!(e.suggestion.as_deref(), Some("duration"));
    assert!(e.to_string().contains("did you mean `duration`?"), "{e}");
    assert!(e
        .expected
        .as_deref()
        .unwrap_or("")
        .contains("`participants`"));

    let e = f.one_error(&BASE.replace("callee: bob", "calee: bob"));
    assert_at(&e, 7, 22, "calls[0].calee");
    assert_eq!(e.suggestion.as_deref(), Some("callee"));
}

#[test]
fn bad_unit_is_an_error_at_the_value() {
    let f = Fixture::new();
    let e = f.one_error(&BASE.replace("duration: 60s", "duration: 60"));
    assert_eq!(e.kind, ErrorKind::BadValue);
    assert_at(&e, 2, 11, "duration");
    assert!(e.message.contains("needs a unit"), "{e}");
    assert_eq!(e.found.as_deref(), Some("`60`"));
    assert!(e.expected.as_deref().unwrap_or("").contains("30ms"), "{e}");

    let e = f.one_error(&BASE.replace("at: 1s", "at: 1 sec"));
    assert_at(&e, 7, 39, "calls[0].at");
    assert!(e.message.contains("invalid duration"), "{e}");
}

#[test]
fn negative_duration_is_an_error() {
    let f = Fixture::new();
    let text = format!("{BASE}timeline:\n  - {{ at: 20s, participant: alice, outage: -2s }}\n");
    let e = f.one_error(&text);
    assert_at(&e, 9, 44, "timeline[0].outage");
    assert!(e.message.contains("cannot be negative"), "{e}");
}

#[test]
fn percentage_over_100_is_an_error() {
    let f = Fixture::new();
    let text = BASE.replace(
        "bob: { network: wired-lan }",
        "bob:\n    network: wired-lan\n    overrides: { down: { loss: { random: { rate: 140% } } } }",
    );
    let e = f.one_error(&text);
    assert_eq!(e.kind, ErrorKind::BadValue);
    // At the rate itself, not at `loss:`'s value (see `profile_shape.rs`).
    assert_at(
        &e,
        7,
        50,
        "participants.bob.overrides.down.loss.random.rate",
    );
    assert!(e.message.contains("over 100%"), "{e}");
    assert_eq!(e.found.as_deref(), Some("`140%`"));

    let e = f.one_error(&BASE.replace("loss < 3%", "loss < 140%"));
    assert_at(&e, 7, 71, "calls[0].thresholds[0]");
    assert!(
        e.expected.as_deref().unwrap_or("").contains("0% to 100%"),
        "{e}"
    );
}

#[test]
fn missing_profile_suggests_the_nearest() {
    let f = Fixture::new();
    let e = f.one_error(&BASE.replace("network: wifi-congested", "network: wifi-congestd"));
    assert_eq!(e.kind, ErrorKind::UnknownName);
    assert_at(&e, 4, 21, "participants.alice.network");
    assert_eq!(e.suggestion.as_deref(), Some("wifi-congested"));
    assert!(
        e.message
            .contains("no network profile named `wifi-congestd`"),
        "{e}"
    );
}

#[test]
fn unknown_participant_in_a_call() {
    let f = Fixture::new();
    let e = f.one_error(&BASE.replace("callee: bob", "callee: bbo"));
    assert_eq!(e.kind, ErrorKind::UnknownName);
    assert_at(&e, 7, 30, "calls[0].callee");
    assert_eq!(e.suggestion.as_deref(), Some("bob"));
    assert_eq!(e.expected.as_deref(), Some("one of `alice`, `bob`"));
}

#[test]
fn unknown_named_set() {
    let f = Fixture::new();
    let e = f.one_error(&format!("{BASE}thresholds: teams-client-egde\n"));
    assert_eq!(e.kind, ErrorKind::UnknownName);
    assert_at(&e, 8, 13, "thresholds");
    assert_eq!(e.suggestion.as_deref(), Some("teams-client-edge"));

    let e = f.one_error(&format!(
        "{BASE}thresholds: [teams-client-edge, \"jiter < 30ms\"]\n"
    ));
    assert_at(&e, 8, 33, "thresholds[1]");
    assert_eq!(e.suggestion.as_deref(), Some("jitter"));
}

#[test]
fn unknown_kb_id_and_failure_class() {
    let f = Fixture::new();
    let e = f.one_error(&format!("kb: [NET-BANDWITH]\n{BASE}"));
    assert_at(&e, 1, 6, "kb[0]");
    assert_eq!(e.suggestion.as_deref(), Some("NET-BANDWIDTH"));
    let e = f.one_error(&BASE.replace("duration: 50s,", "duration: 50s, expect: ice-faild,"));
    assert_at(&e, 7, 66, "calls[0].expect");
    assert_eq!(e.suggestion.as_deref(), Some("ice-failed"));
}

#[test]
fn three_mistakes_are_reported_together() {
    let f = Fixture::new();
    let text = "name: t
duraton: 60s
participants:
  alice: { network: wifi-congestd }
  bob: { network: wired-lan }
calls:
  - { caller: alice, callee: bob, at: 5 sec }
";
    let errors = f.errors(text);
    let shown = ScenarioErrors(errors.clone()).to_string();
    let places: Vec<(usize, usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.column, e.path.as_str()))
        .collect();
    assert_eq!(
        places,
        [
            (2, 1, "duraton"),
            (4, 21, "participants.alice.network"),
            (7, 39, "calls[0].at"),
        ],
        "{shown}"
    );
    // `duration` is missing too, but that is the typo's consequence: reported once, as the typo.
    assert!(shown.ends_with("3 errors"), "{shown}");
    assert!(shown.contains("did you mean `duration`?"));
    assert!(shown.contains("did you mean `wifi-congested`?"));
    assert!(shown.contains("invalid duration"));
    // rustc-like: the source line and a caret under the column.
    assert!(
        shown.contains("4 |   alice: { network: wifi-congestd }\n  |                     ^"),
        "{shown}"
    );
}

#[test]
fn missing_required_fields_and_conflicts() {
    let f = Fixture::new();
    let errors = f.errors(
        "name: t\nparticipants:\n  alice: {}\ncalls:\n  - { caller: alice, callee: alice }\n",
    );
    let msgs: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
    assert!(
        msgs.iter()
            .any(|m| m == "missing field `duration` in the scenario"),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("missing field `network`")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("cannot call itself")),
        "{msgs:?}"
    );
    let e = f.one_error(&BASE.replace("duration: 50s", "duration: 70s"));
    assert!(e.message.contains("after the scenario's 1m"), "{e}");
}

#[test]
fn yaml_syntax_errors_have_positions() {
    let f = Fixture::new();
    let e = f.one_error("name: t\nparticipants: [a\n");
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert!(e.line >= 2, "{e}");
}

#[test]
fn site_overrides_without_a_shared_profile_are_an_error() {
    let f = Fixture::new();
    let e = f.one_error(&format!(
        "{BASE}sites:\n  home: {{ overrides: {{ up: {{ delay: 5ms }} }} }}\n"
    ));
    assert_eq!(e.kind, ErrorKind::MissingField);
    assert_at(&e, 9, 22, "sites.home.overrides");
    assert!(e.to_string().contains("no `shared` profile"), "{e}");
}

#[test]
fn actions_on_the_wrong_kind_of_link_are_errors() {
    let f = Fixture::new();
    let sites = "sites:\n  home: { shared: throttled-256k }\n";
    let e = f.one_error(&format!(
        "{BASE}{sites}timeline:\n  - {{ at: 5s, site: home, address_change: true }}\n"
    ));
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_at(&e, 11, 21, "timeline[0].site");
    assert!(e.to_string().contains("participant"), "{e}");
    // A site action needs a shared link to act on.
    let e = f.one_error(&format!(
        "{BASE}{sites}timeline:\n  - {{ at: 5s, site: internet, outage: 1s }}\n"
    ));
    assert_eq!(e.kind, ErrorKind::BadValue);
    assert_at(&e, 11, 21, "timeline[0].site");
    assert!(e.to_string().contains("no shared link"), "{e}");
    assert!(e.to_string().contains("`home`"), "{e}");
    let e = f.one_error(&format!(
        "{BASE}timeline:\n  - {{ at: 5s, participant: bob, cross_traffic: {{ name: x, rate: 1Mbit }} }}\n"
    ));
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_at(&e, 9, 28, "timeline[0].participant");
    assert!(e.to_string().contains("shared link"), "{e}");
}

#[test]
fn timeline_actions_become_typed_and_sorted() {
    let f = Fixture::new();
    let text = format!(
        "{BASE}timeline:
  - {{ at: 30s, participant: alice, address_change: true }}
  - {{ at: 20s, participant: alice, outage: 2s }}
  - {{ at: 40s, participant: bob, profile: throttled-256k }}
  - {{ at: 45s, participant: bob, set: {{ up.delay: 80ms }} }}
  - {{ at: 46s, site: home, cross_traffic: {{ name: backup, rate: 1Mbit }} }}
  - {{ at: 50s, site: home, cross_traffic_stop: backup }}
sites:
  home: {{ shared: throttled-256k }}
"
    );
    let s = f.load(&text).expect("valid").remove(0);
    let kinds: Vec<(u64, &str)> = s
        .timeline
        .iter()
        .map(|a| (a.at.as_nanos() / 1_000_000_000, a.action.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            (20, "outage"),
            (30, "address-change"),
            (40, "profile-change"),
            (45, "profile-change"),
            (46, "cross-traffic-start"),
            (50, "cross-traffic-stop"),
        ]
    );
    match &s.timeline[3].action {
        NetAction::SetParam {
            direction,
            path,
            change,
            ..
        } => {
            assert_eq!(*direction, crate::net::Which::Up);
            assert_eq!(path, "delay");
            assert_eq!(change.delay, Some(crate::units::Dur::from_millis(80)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        s.timeline[0].target,
        ActionTarget::Participant("alice".into())
    );

    let bad = format!(
        "{BASE}timeline:
  - {{ at: 20s, participant: alice, outage: 2s, address_change: true }}
  - {{ at: 21s, participant: alice, set: {{ upp.delay: 80ms }} }}
  - {{ at: 22s, participant: alice, set: {{ up.dealy: 80ms }} }}
  - {{ at: 23s, site: home, cross_traffic_stop: bakup }}
sites:
  home: {{ shared: throttled-256k }}
"
    );
    let errors = f.errors(&bad);
    let shown = ScenarioErrors(errors.clone()).to_string();
    assert_eq!(errors.len(), 4, "{shown}");
    assert!(errors[0].message.contains("takes one action"), "{shown}");
    assert_eq!(errors[1].suggestion.as_deref(), Some("up.delay"), "{shown}");
    assert_eq!(errors[2].suggestion.as_deref(), Some("delay"), "{shown}");
    assert_eq!(errors[2].path, "timeline[2].set.\"up.dealy\"", "{shown}");
    assert!(
        errors[3].message.contains("no cross-traffic flow `bakup`"),
        "{shown}"
    );
}

#[test]
fn matrix_expands_in_nested_loop_order() {
    let f = Fixture::new();
    let text = format!(
        "{BASE}matrix:
  profile: [wired-lan, wifi-congested]
  seed: [1, 2, 3]
  participants.alice.overrides.up.loss.random.rate: [0%, 1%, 5%]
"
    );
    let cells = f.load(&text).expect("valid");
    assert_eq!(cells.len(), 18);
    let labels: Vec<String> = cells.iter().map(Scenario::cell_label).collect();
    assert_eq!(cells[0].matrix["profile"], "wired-lan");
    assert_eq!(cells[0].matrix["seed"], "1");
    assert_eq!(
        cells[0].matrix["participants.alice.overrides.up.loss.random.rate"],
        "0%"
    );
    assert_eq!(
        cells[1].matrix["participants.alice.overrides.up.loss.random.rate"],
        "1%"
    );
    assert_eq!(cells[3].matrix["seed"], "2");
    assert_eq!(cells[9].matrix["profile"], "wifi-congested");
    assert_eq!(cells[17].seed, Some(3));
    assert!(cells
        .iter()
        .take(9)
        .all(|c| c.participants.iter().all(|p| p.profile_name == "wired-lan")));
    assert_eq!(cells[2].participants[0].profile.name, "wired-lan");
    assert!(
        format!("{:?}", cells[2].participants[0].profile.up).contains("5.0"),
        "{:?}",
        cells[2].participants[0].profile.up
    );
    let mut unique = labels.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 18);

    // A bad value is reported once, at the matrix entry, with its cell.
    let e = f.one_error(&format!(
        "{BASE}matrix:\n  profile: [wired-lan, wifi-bad]\n"
    ));
    assert_at(&e, 9, 24, "participants.alice.network");
    assert_eq!(e.cell.as_deref(), Some("profile=wifi-bad"));
    // Keys are checked.
    let e = f.one_error(&format!(
        "{BASE}matrix:\n  participants.alcie.network: [wired-lan]\n"
    ));
    assert_eq!(e.suggestion.as_deref(), Some("alice"));
    let e = f.one_error(&format!("{BASE}matrix:\n  sed: [1, 2]\n"));
    assert_eq!(e.suggestion.as_deref(), Some("seed"));
}

#[test]
fn templates_in_the_file_and_beside_it() {
    let f = Fixture::new();
    let text = "name: t
duration: 60s
templates:
  office-user:
    network: wired-lan
    overrides: { down: { delay: 10ms } }
    firewall: [ { action: block, proto: udp, ports: 50000-59999 } ]
    ice_restart: true
participants:
  alice: { template: office-user }
  bob:
    template: home-user
    firewall: [ { action: allow, proto: tcp } ]
calls:
  - { caller: alice, callee: bob }
";
    std::fs::create_dir(f.dir.path().join("templates")).expect("mkdir");
    std::fs::write(
        f.dir.path().join("templates/home-user.yaml"),
        "network: wifi-congested\nfirewall: [ { action: block, proto: udp } ]\n",
    )
    .expect("write");
    let s = f.load(text).expect("valid").remove(0);
    let alice = s.participant("alice").expect("alice");
    assert_eq!(alice.profile_name, "wired-lan");
    assert_eq!(alice.firewall.len(), 1);
    assert!(alice.ice_restart, "from the template");
    assert!(
        format!("{:?}", alice.profile.down).contains("10000000"),
        "{:?}",
        alice.profile.down
    );
    let bob = s.participant("bob").expect("bob");
    assert_eq!(bob.profile_name, "wifi-congested");
    assert!(!bob.ice_restart, "off unless asked for");
    assert_eq!(
        bob.firewall.len(),
        2,
        "template rules first, then the participant's"
    );

    let e = f.one_error(&text.replace("template: office-user", "template: ofice-user"));
    assert_eq!(e.suggestion.as_deref(), Some("office-user"));
    // An error inside a template file points into that file.
    std::fs::write(
        f.dir.path().join("templates/home-user.yaml"),
        "netwrok: wired-lan\n",
    )
    .expect("write");
    let errors = f.errors(text);
    assert!(errors
        .iter()
        .any(|e| e.file.ends_with("templates/home-user.yaml")
            && e.line == 1
            && e.suggestion.as_deref() == Some("network")));
}

#[test]
fn sites_and_inline_profiles() {
    let f = Fixture::new();
    let text = "name: t
duration: 60s
profiles:
  office-uplink: { both: { rate: 2Mbit } }
sites:
  office: { shared: office-uplink }
participants:
  alice: { network: wired-lan, site: office }
  bob: { network: wired-lan }
";
    let s = f.load(text).expect("valid").remove(0);
    let names: Vec<&str> = s.sites.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, [DEFAULT_SITE, "office"]);
    assert_eq!(
        s.sites[1].shared.as_ref().map(|x| x.1.name.as_str()),
        Some("office-uplink")
    );
    let e = f.one_error(&text.replace("site: office", "site: ofice"));
    assert_eq!(e.suggestion.as_deref(), Some("office"));
}

#[test]
fn overrides_replace_a_direction_field_whole() {
    let f = Fixture::new();
    let text = BASE.replace(
        "alice: { network: wifi-congested }",
        "alice: { network: wifi-congested, overrides: { both: { loss: { random: { rate: 2% } } } } }",
    );
    let s = f.load(&text).expect("valid").remove(0);
    let both = format!("{:?}", s.participants[0].profile.both);
    assert!(
        both.contains("Random") && !both.contains("Bursty"),
        "{both}"
    );
    assert!(both.contains("8000000"), "delay kept: {both}");
}

/// The three ways profile overrides used to hide mistakes: only the first was reported, none
/// when the profile name was unknown, and a loss model's at `loss` instead of its own value.
const OVERRIDES: &str = "name: t
duration: 60s
participants:
  alice:
    network: wifi-congestd
    overrides: { up: { jitter: 3 parsecs, dealy: 5ms } }
  bob:
    network: wired-lan
    overrides:
      up:
        delay: 30 parsecs
        loss:
          random:
            rate: 140%
            correlation: 2 percent
calls:
  - { caller: alice, callee: bob }
";

/// Every error's (line, column, path), in file order.
fn places(errors: &[ScenarioError]) -> Vec<(usize, usize, &str)> {
    errors
        .iter()
        .map(|e| (e.line, e.column, e.path.as_str()))
        .collect()
}

#[test]
fn every_mistake_in_overrides_is_reported_at_its_place() {
    let f = Fixture::new();
    let errors = f.errors(&OVERRIDES.replace("network: wifi-congestd", "network: wifi-congested"));
    let shown = ScenarioErrors(errors.clone()).to_string();
    assert_eq!(
        places(&errors),
        [
            (6, 32, "participants.alice.overrides.up.jitter"),
            (6, 43, "participants.alice.overrides.up.dealy"),
            (11, 16, "participants.bob.overrides.up.delay"),
            (14, 19, "participants.bob.overrides.up.loss.random.rate"),
            (
                15,
                26,
                "participants.bob.overrides.up.loss.random.correlation"
            ),
        ],
        "{shown}"
    );
    // Removing the bad `rate` leaves `random` without its required rate: a consequence of
    // the first mistake, not reported again.
    assert!(shown.ends_with("5 errors"), "{shown}");
    assert!(!shown.contains("missing field"), "{shown}");
    assert_eq!(errors[1].kind, ErrorKind::UnknownField);
    assert_eq!(errors[1].suggestion.as_deref(), Some("delay"));
    assert!(errors[2].message.contains("duration"), "{shown}");
    assert!(errors[3].message.contains("over 100%"), "{shown}");
}

#[test]
fn overrides_are_checked_when_the_profile_is_unknown() {
    let f = Fixture::new();
    let errors = f.errors(&OVERRIDES.replace("        delay: 30 parsecs\n", ""));
    let shown = ScenarioErrors(errors.clone()).to_string();
    assert_eq!(
        places(&errors),
        [
            (5, 14, "participants.alice.network"),
            (6, 32, "participants.alice.overrides.up.jitter"),
            (6, 43, "participants.alice.overrides.up.dealy"),
            (13, 19, "participants.bob.overrides.up.loss.random.rate"),
            (
                14,
                26,
                "participants.bob.overrides.up.loss.random.correlation"
            ),
        ],
        "{shown}"
    );
    assert_eq!(errors[0].suggestion.as_deref(), Some("wifi-congested"));

    // And when the participant's template is unknown, or its network missing.
    let text = BASE.replace(
        "alice: { network: wifi-congested }",
        "alice: { template: ofice, overrides: { down: { delay: 1 parsec } } }",
    );
    let errors = f.errors(&text);
    assert_eq!(
        places(&errors),
        [
            (4, 22, "participants.alice.template"),
            (4, 57, "participants.alice.overrides.down.delay"),
        ],
        "{}",
        ScenarioErrors(errors.clone())
    );
    let text = BASE.replace(
        "alice: { network: wifi-congested }",
        "alice: { overrides: { down: { delay: 1 parsec } } }",
    );
    let errors = f.errors(&text);
    assert_eq!(
        places(&errors),
        [
            (4, 10, "participants.alice"),
            (4, 40, "participants.alice.overrides.down.delay"),
        ],
        "{}",
        ScenarioErrors(errors.clone())
    );
}

#[test]
fn a_loss_model_mistake_is_placed_inside_the_model() {
    let f = Fixture::new();
    let with = |over: &str| {
        BASE.replace(
            "bob: { network: wired-lan }",
            &format!("bob: {{ network: wired-lan, overrides: {{ up: {{ loss: {over} }} }} }}"),
        )
    };
    // A typo in the model's name suggests the nearest one.
    let e = f.one_error(&with("{ randon: { rate: 1% } }"));
    assert_at(&e, 5, 57, "participants.bob.overrides.up.loss.randon");
    assert_eq!(e.suggestion.as_deref(), Some("random"));
    // A typo in one of its fields, and a bad value of another.
    let errors = f.errors(&with("{ bursty: { average: 2%, mean_brust: 3 } }"));
    assert_eq!(
        places(&errors),
        [(
            5,
            80,
            "participants.bob.overrides.up.loss.bursty.mean_brust"
        )],
        "{}",
        ScenarioErrors(errors.clone())
    );
    assert_eq!(errors[0].suggestion.as_deref(), Some("mean_burst"));
    let e = f.one_error(&with("{ gilbert_elliott: { p: 1%, r: -3% } }"));
    assert_at(
        &e,
        5,
        86,
        "participants.bob.overrides.up.loss.gilbert_elliott.r",
    );
    assert!(e.message.contains("cannot be negative"), "{e}");
}

#[test]
fn template_and_inline_profile_mistakes_are_all_reported() {
    let f = Fixture::new();
    let text = "name: t
duration: 60s
profiles:
  uplink: { both: { rate: fast, loss: { random: { rate: 101% } } } }
templates:
  office-user:
    network: uplink
    overrides: { down: { delay: 10 parsecs, mtu: big } }
participants:
  alice: { template: office-user }
  bob: { network: wired-lan }
";
    let errors = f.errors(text);
    assert_eq!(
        places(&errors),
        [
            (4, 27, "profiles.uplink.both.rate"),
            (4, 57, "profiles.uplink.both.loss.random.rate"),
            (8, 33, "templates.office-user.overrides.down.delay"),
            (8, 50, "templates.office-user.overrides.down.mtu"),
        ],
        "{}",
        ScenarioErrors(errors.clone())
    );
    // A template file's overrides point into that file.
    std::fs::create_dir(f.dir.path().join("templates")).expect("mkdir");
    std::fs::write(
        f.dir.path().join("templates/home-user.yaml"),
        "network: wired-lan\noverrides:\n  up: { delay: 2 parsecs, loss: { random: { rate: 200% } } }\n",
    )
    .expect("write");
    let errors = f.errors(&BASE.replace(
        "bob: { network: wired-lan }",
        "bob: { template: home-user }",
    ));
    let at: Vec<(bool, usize, usize, &str)> = errors
        .iter()
        .map(|e| {
            (
                e.file.ends_with("templates/home-user.yaml"),
                e.line,
                e.column,
                e.path.as_str(),
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            (true, 3, 16, "overrides.up.delay"),
            (true, 3, 51, "overrides.up.loss.random.rate"),
        ],
        "{}",
        ScenarioErrors(errors.clone())
    );
    // The caret display shows the template file's line, not the scenario's.
    assert!(
        errors[0]
            .source_line
            .as_deref()
            .is_some_and(|l| l.contains("delay: 2 parsecs")),
        "{}",
        errors[0]
    );
}

/// The profile shape the loader checks bodies and overrides against lists exactly the
/// emulator's fields (serde names them all in an unknown-field error).
#[test]
fn profile_shape_fields_match_the_emulator() {
    use super::profile_shape::{DirectionShape, PhaseShape, ProfileShape, ScheduleShape};
    use serde::de::DeserializeOwned;
    fn fields<T: DeserializeOwned>() -> String {
        let file = std::sync::Arc::new(PathBuf::from("t.yaml"));
        let node = super::yaml::parse("zzz: 1\n", &file).expect("yaml");
        match super::de::from_node::<T>(&node, "") {
            Ok(_) => panic!("unknown field accepted"),
            Err(e) => e.expected.expect("expected list"),
        }
    }
    use crate::net::{DirectionConfig, LinkProfile, PhaseSet, ScheduleEntry};
    assert_eq!(fields::<ProfileShape>(), fields::<LinkProfile>());
    assert_eq!(fields::<DirectionShape>(), fields::<DirectionConfig>());
    assert_eq!(fields::<ScheduleShape>(), fields::<ScheduleEntry>());
    assert_eq!(fields::<PhaseShape>(), fields::<PhaseSet>());
}

#[test]
fn thresholds_at_every_level() {
    let f = Fixture::new();
    let text = format!("{BASE}thresholds: [cqd-poor-audio, \"mos > 3.5\"]\n");
    let s = f.load(&text).expect("valid").remove(0);
    assert_eq!(s.thresholds.len(), 6);
    assert_eq!(s.thresholds[0].set.as_deref(), Some("cqd-poor-audio"));
    assert_eq!(s.thresholds[5].set, None);
}

#[test]
fn judging_a_call() {
    let e = judge_call(&CallExpect::Connected, true, None);
    assert!(e.met);
    assert_eq!(
        (e.expected.as_str(), e.observed.as_str()),
        ("connected", "connected")
    );
    let e = judge_call(&CallExpect::Connected, false, Some("ice-failed"));
    assert!(!e.met);
    assert_eq!(e.observed, "failed: ice-failed");
    let e = judge_call(
        &CallExpect::Fails(FailureClass::IceFailed),
        false,
        Some("ice-failed"),
    );
    assert!(e.met);
    assert_eq!(e.expected, "fails with ice-failed");
    assert!(!judge_call(&CallExpect::Fails(FailureClass::IceFailed), true, None).met);
    assert_eq!(
        FailureClass::from_name("dtls-failed"),
        Some(FailureClass::DtlsFailed)
    );
}

#[test]
fn schema_has_the_top_level_fields() {
    let s = json_schema();
    let props = s["properties"].as_object().expect("properties");
    for f in [
        "name",
        "description",
        "kb",
        "seed",
        "duration",
        "media",
        "decode",
        "profiles",
        "templates",
        "sites",
        "participants",
        "calls",
        "timeline",
        "thresholds",
        "matrix",
    ] {
        assert!(props.contains_key(f), "schema lacks {f}");
    }
    assert_eq!(s["additionalProperties"], serde_json::json!(false));
    let required: Vec<&str> = s["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(required, ["name", "duration", "participants"]);
    let text = serde_json::to_string(&s).expect("json");
    assert!(text.contains("ice-failed") && text.contains("teams-client-edge"));
}

#[test]
fn find_scenarios_walks_folders_sorted_skipping_profiles_and_templates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    for f in [
        "b.yaml",
        "a.yml",
        "sub/c.yaml",
        "profiles/x.yaml",
        "templates/t.yaml",
        "notes.txt",
    ] {
        let path = p.join(f);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, "x: 1\n").expect("write");
    }
    let found = find_scenarios(&[p.to_path_buf()]).expect("found");
    let rel: Vec<String> = found
        .iter()
        .map(|f| f.strip_prefix(p).expect("under").display().to_string())
        .collect();
    assert_eq!(rel, ["a.yml", "b.yaml", "sub/c.yaml"]);
    let e = find_scenarios(&[p.join("missing")]).unwrap_err();
    assert_eq!(e.0[0].kind, ErrorKind::Io);
}

/// The repository's `scenarios/` folder.
fn repo_scenarios() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("scenarios"))
        .find(|s| s.join("examples").is_dir())
        .unwrap_or_else(|| PathBuf::from("/work/main/scenarios"))
}

#[test]
fn every_example_scenario_validates_against_the_real_profiles() {
    let root = repo_scenarios();
    let files = find_scenarios(&[root.join("examples")]).expect("examples");
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        match validate_file(&f, &[root.join("profiles")]) {
            Ok(s) => assert!(!s.is_empty()),
            Err(e) => panic!("{}", ScenarioErrors(e)),
        }
    }
}

/// The schema of a network profile lists exactly the fields the loader reads (serde names
/// them all in an unknown-field error).
#[test]
fn schema_profile_fields_match_the_emulator() {
    let s = json_schema();
    let profile = &s["$defs"]["NetworkProfile"];
    let names = |v: &serde_json::Value| -> Vec<String> {
        let mut n: Vec<String> = v["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        n.sort();
        n
    };
    let serde_fields = |text: &str| -> Vec<String> {
        let file = std::sync::Arc::new(PathBuf::from("t.yaml"));
        let node = super::yaml::parse(text, &file).expect("yaml");
        let e = match super::de::from_node::<crate::net::LinkProfile>(&node, "") {
            Ok(_) => panic!("unknown field accepted"),
            Err(e) => e,
        };
        let mut n: Vec<String> = e
            .expected
            .expect("expected list")
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(profile), serde_fields("zzz: 1\n"));
    assert_eq!(
        profile["properties"]["up"]["anyOf"][0]["$ref"],
        "#/$defs/DirectionConfig"
    );
    assert_eq!(
        names(&s["$defs"]["DirectionConfig"]),
        serde_fields("up: { zzz: 1 }\n")
    );
}

#[test]
fn jitter_buffer_settings_defaults_templates_and_mistakes() {
    use crate::agent::media::JitterBufferMode;
    let f = Fixture::new();
    let text = "name: jb
duration: 60s
templates:
  old-client: { network: wired-lan, jitter_buffer: { mode: fixed, initial: 60ms } }
participants:
  alice: { template: old-client }
  bob: { network: wired-lan, jitter_buffer: { min: 40ms, max: 200ms } }
  carol: { network: wired-lan }
calls:
  - { caller: alice, callee: bob }
";
    let s = f.load(text).expect("valid").remove(0);
    let jb = |n: &str| s.participant(n).expect(n).jitter_buffer;
    let ms = 1_000_000;
    assert_eq!(jb("alice").mode, JitterBufferMode::Fixed);
    assert_eq!(jb("alice").initial_delay_ns, 60 * ms);
    assert_eq!(jb("bob").mode, JitterBufferMode::Adaptive);
    assert_eq!(
        (jb("bob").min_delay_ns, jb("bob").max_delay_ns),
        (40 * ms, 200 * ms)
    );
    assert_eq!(jb("bob").initial_delay_ns, 40 * ms, "default initial");
    assert_eq!(
        jb("carol"),
        crate::agent::media::JitterBufferConfig::default()
    );

    let bad = "name: jb
duration: 60s
participants:
  alice: { network: wired-lan, jitter_buffer: { mode: fixed, max: 100ms } }
  bob: { network: wired-lan, jitter_buffer: { min: 300ms, max: 100ms } }
  carol: { network: wired-lan, jitter_buffer: { initial: 3s, mode: fxed } }
  dave: { network: wired-lan, jitter_buffer: { initial: 3s } }
calls:
  - { caller: alice, callee: bob }
";
    let errs = f.errors(bad);
    let at: Vec<(usize, &str)> = errs.iter().map(|e| (e.line, e.path.as_str())).collect();
    assert!(
        at.contains(&(4, "participants.alice.jitter_buffer.max")),
        "{errs:?}"
    );
    assert!(
        at.contains(&(5, "participants.bob.jitter_buffer.max")),
        "{errs:?}"
    );
    assert!(
        at.contains(&(6, "participants.carol.jitter_buffer.mode")),
        "{errs:?}"
    );
    assert!(
        at.contains(&(7, "participants.dave.jitter_buffer.initial")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.to_string().contains("did you mean `fixed`")),
        "{errs:?}"
    );
}

/// A FIFO named `*.yaml` would block reading forever, and a link loop repeats a folder until
/// the OS gives up: regular files only, each folder and file once.
#[cfg(unix)]
#[test]
fn only_regular_files_each_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(root.join("a.yaml"), "name: a\n").expect("write");
    std::fs::create_dir(root.join("sub")).expect("mkdir");
    std::os::unix::fs::symlink("..", root.join("sub/loop")).expect("symlink");
    std::os::unix::fs::symlink("../a.yaml", root.join("sub/again.yaml")).expect("symlink");
    let found = find_scenarios(&[root.to_path_buf()]).expect("listed");
    assert_eq!(found, [root.join("a.yaml")], "once, through neither link");
    let made = std::process::Command::new("mkfifo")
        .arg(root.join("pipe.yaml"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    for arg in [root.to_path_buf(), root.join("pipe.yaml")] {
        let errs = find_scenarios(&[arg]).expect_err("a FIFO is refused").0;
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].to_string().contains("not a regular file"),
            "{}",
            errs[0]
        );
    }
}

#[test]
fn a_calls_media_path_is_read_and_a_wrong_one_is_an_error_at_its_value() {
    let f = Fixture::new();
    let s = f
        .load(&BASE.replace("at: 1s,", "at: 1s, path: relay-tcp,"))
        .expect("valid");
    assert_eq!(s[0].calls[0].path, Some(super::raw::MediaPath::RelayTcp));
    assert_eq!(f.load(BASE).expect("valid")[0].calls[0].path, None);
    // A relay the network forces is the symptom; `direct` is a healthy call's.
    assert_eq!(s[0].expects(), crate::report::model::Expects::Symptom);
    let direct = f
        .load(&BASE.replace("at: 1s,", "at: 1s, path: direct,"))
        .expect("valid");
    assert_eq!(direct[0].expects(), crate::report::model::Expects::Healthy);

    let e = f.one_error(&BASE.replace("at: 1s,", "at: 1s, path: relay-sctp,"));
    assert_eq!(e.line, 7, "{e}");
    assert_eq!(e.path, "calls[0].path", "{e}");
    assert!(e.to_string().contains("relay-tcp"), "{e}");
    assert!(e.to_string().contains("relay-tls"), "{e}");
    let tls = f
        .load(&BASE.replace("at: 1s,", "at: 1s, path: relay-tls,"))
        .expect("valid");
    assert_eq!(tls[0].calls[0].path, Some(super::raw::MediaPath::RelayTls));

    let e = f.one_error(&BASE.replace("at: 1s,", "at: 1s, path: relay, expect: ice-failed,"));
    assert_eq!(e.kind, ErrorKind::Conflict, "{e}");
    assert_eq!(e.path, "calls[0].path", "{e}");
}

#[test]
fn a_clients_relay_transports_are_read_and_a_wrong_one_is_an_error_at_its_value() {
    use crate::agent::relay::{RelayTransport, RelayTransports};
    let f = Fixture::new();
    let all = f.load(BASE).expect("valid");
    assert_eq!(
        all[0].participants[1].relay_transports,
        RelayTransports::ALL
    );
    let tls = f
        .load(&BASE.replace(
            "bob: { network: wired-lan }",
            "bob: { network: wired-lan, relay_transports: [tls] }",
        ))
        .expect("valid");
    let bob = tls[0].participants[1].relay_transports;
    assert!(bob.contains(RelayTransport::Tls));
    assert!(!bob.contains(RelayTransport::Udp) && !bob.contains(RelayTransport::Tcp));
    assert_eq!(
        tls[0].participants[0].relay_transports,
        RelayTransports::ALL
    );
    let none = f
        .load(&BASE.replace(
            "bob: { network: wired-lan }",
            "bob: { network: wired-lan, relay_transports: [] }",
        ))
        .expect("valid");
    assert_eq!(
        none[0].participants[1].relay_transports,
        RelayTransports::NONE
    );

    let e = f.one_error(&BASE.replace(
        "bob: { network: wired-lan }",
        "bob: { network: wired-lan, relay_transports: [tls, dtls] }",
    ));
    assert_eq!(e.line, 5, "{e}");
    assert_eq!(e.path, "participants.bob.relay_transports[1]", "{e}");
    for choice in ["udp", "tcp", "tls"] {
        assert!(e.to_string().contains(choice), "{e}");
    }
}

#[test]
fn the_matches_of_a_media_path() {
    use super::raw::MediaPath;
    assert!(MediaPath::Direct.matches("host/udp", "srflx/udp"));
    assert!(!MediaPath::Direct.matches("host/udp", "relay/tcp"));
    assert!(MediaPath::Relay.matches("relay/udp", "host/udp"));
    assert!(MediaPath::RelayTcp.matches("host/udp", "relay/tcp"));
    assert!(!MediaPath::RelayTcp.matches("relay/udp", "host/udp"));
    assert!(MediaPath::RelayUdp.matches("relay/udp", "host/udp"));
    assert!(MediaPath::RelayTls.matches("host/udp", "relay/tls"));
    assert!(!MediaPath::RelayTls.matches("host/udp", "relay/tcp"));
    assert!(!MediaPath::RelayTcp.matches("relay/tls", "host/udp"));
    assert!(MediaPath::Relay.matches("relay/tls", "host/udp"));
    assert!(!MediaPath::Direct.matches("host/udp", "relay/tls"));
}
