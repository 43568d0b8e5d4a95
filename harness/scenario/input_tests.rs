//! Tests of hostile and careless input: every error in our own words at its file, line,
//! column and field path (never serde's), all of a rule's or flow's mistakes at once, files
//! that are not UTF-8, huge names, and scenarios that ask for too much work.

use super::limits::MAX_NAME_LEN;
use super::*;
use serde_json::Value;

/// A folder with a `wired-lan` profile and the scenario file `s.yaml`.
pub(super) struct Dir(tempfile::TempDir);

impl Dir {
    pub(super) fn new() -> Dir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("lib")).expect("mkdir");
        std::fs::write(
            dir.path().join("lib/wired-lan.yaml"),
            "both: { delay: 2ms }\n",
        )
        .expect("write");
        Dir(dir)
    }

    pub(super) fn load_bytes(&self, bytes: &[u8]) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
        let file = self.0.path().join("s.yaml");
        std::fs::write(&file, bytes).expect("write");
        validate_file(&file, &[self.0.path().join("lib")])
    }

    pub(super) fn load(&self, text: &str) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
        self.load_bytes(text.as_bytes())
    }

    pub(super) fn errors(&self, text: &str) -> Vec<ScenarioError> {
        match self.load(text) {
            Ok(_) => panic!("expected errors for:\n{text}"),
            Err(e) => e,
        }
    }
}

/// Two participants on `wired-lan`; `alice` gets `extra` (indented under her), the file gets
/// `tail`. Alice's extra fields start on line 6.
pub(super) fn scenario(extra: &str, tail: &str) -> String {
    format!(
        "name: t\nduration: 60s\nparticipants:\n  alice:\n    network: wired-lan\n{extra}  bob: {{ network: wired-lan }}\n{tail}"
    )
}

/// A site `home` with a shared link that alice is on, and `timeline` entries (from line 8).
pub(super) fn with_site(timeline: &str) -> String {
    format!(
        "name: t\nduration: 60s\nsites: {{ home: {{ shared: wired-lan }} }}\nparticipants:\n  alice: {{ network: wired-lan, site: home }}\n  bob: {{ network: wired-lan }}\ntimeline:\n{timeline}"
    )
}

/// serde's own phrases, which must never reach the user.
const SERDE_PHRASES: &[&str] = &[
    "invalid type",
    "invalid value:",
    "unit variant",
    "struct variant",
    "expected struct",
    "String(",
    "Bool(",
    "Number(",
    "Sequence",
    "Mapping",
    "a sequence",
    "YAML tag",
    "u32",
    "u64",
];

/// Asserts the error is ours: no serde phrase, and a line, column and field path.
pub(super) fn assert_ours(e: &ScenarioError) {
    let text = e.to_string();
    for p in SERDE_PHRASES {
        assert!(!text.contains(p), "serde's {p:?} reached the user:\n{text}");
    }
    assert!(e.line > 0 && e.column > 0, "no position:\n{text}");
    assert!(!e.path.is_empty(), "no field path:\n{text}");
    assert!(
        text.contains(&format!(":{}:{}: error: ", e.line, e.column)),
        "{text}"
    );
}

/// The schema node `v` points at, following a `$ref` and an `anyOf` with `null`.
fn resolve<'a>(schema: &'a Value, v: &'a Value) -> &'a Value {
    if let Some(r) = v["$ref"].as_str() {
        let name = r.trim_start_matches("#/$defs/");
        return resolve(schema, &schema["$defs"][name]);
    }
    if let Some(any) = v["anyOf"].as_array() {
        let real: Vec<&Value> = any.iter().filter(|x| x["type"] != "null").collect();
        if real.len() == 1 {
            return resolve(schema, real[0]);
        }
    }
    v
}

/// Asserts every listed property of the object schema `v` has a description and a type
/// (a JSON type, values, or alternatives), not a bare `object`.
fn assert_typed(schema: &Value, v: &Value, props: &[&str], what: &str) {
    let obj = resolve(schema, v);
    for p in props {
        let field = &obj["properties"][*p];
        assert!(
            field["description"].as_str().is_some_and(|d| d.len() > 10),
            "{what}.{p} has no description: {field}"
        );
        let t = resolve(schema, field);
        let typed = t["type"].is_string() && t["type"] != "object"
            || t["type"] == "object" && t["properties"].is_object()
            || t["type"].is_array()
            || t["enum"].is_array()
            || t["oneOf"].is_array()
            || t["anyOf"].is_array();
        assert!(typed, "{what}.{p} is untyped: {t}");
    }
}

#[test]
fn schema_types_and_documents_firewall_loss_aqm_and_cross_traffic() {
    let s = json_schema();
    let defs = &s["$defs"];
    let rule = &defs["FirewallRule"];
    assert_typed(
        &s,
        rule,
        &[
            "action",
            "proto",
            "ports",
            "port_of",
            "peer",
            "direction",
            "tcp_block",
        ],
        "firewall rule",
    );
    assert_eq!(rule["required"], serde_json::json!(["action"]));
    assert_eq!(rule["additionalProperties"], false);
    let action = serde_json::to_string(&resolve(&s, &rule["properties"]["action"])).expect("json");
    assert!(
        action.contains("allow") && action.contains("block"),
        "{action}"
    );

    let dir = &defs["DirectionConfig"];
    assert_typed(
        &s,
        dir,
        &[
            "delay", "jitter", "loss", "rate", "queue", "aqm", "overhead", "trace", "mtu",
        ],
        "direction",
    );
    // The loss models with their parameters, each described.
    let loss = resolve(&s, &dir["properties"]["loss"]);
    let variants = loss["oneOf"].as_array().expect("loss variants");
    let by_key = |k: &str| {
        variants
            .iter()
            .find(|v| v["properties"][k].is_object())
            .unwrap_or_else(|| panic!("no loss model {k}: {loss}"))
    };
    for (model, params) in [
        ("random", &["rate", "correlation"][..]),
        ("gilbert_elliott", &["p", "r", "one_minus_h", "one_minus_k"]),
        ("four_state", &["p13", "p31", "p32", "p23", "p14"]),
        ("bursty", &["average", "mean_burst"]),
    ] {
        let v = by_key(model);
        assert_typed(&s, &v["properties"][model], params, model);
        assert_eq!(v["properties"][model]["additionalProperties"], false);
    }
    // aqm: its names and the parameterised form.
    let aqm = serde_json::to_string(resolve(&s, &dir["properties"]["aqm"])).expect("json");
    for w in ["droptail", "codel", "target", "interval"] {
        assert!(aqm.contains(w), "aqm schema lacks {w}: {aqm}");
    }
    // Cross-traffic, down to on_off, which refuses unknown keys.
    let cross = &defs["CrossTraffic"];
    assert_typed(
        &s,
        cross,
        &[
            "name",
            "rate",
            "packet_size",
            "size_mix",
            "arrivals",
            "pattern",
            "direction",
        ],
        "cross-traffic",
    );
    let pattern = resolve(&s, &cross["properties"]["pattern"]);
    let on_off = pattern["oneOf"]
        .as_array()
        .expect("pattern variants")
        .iter()
        .find_map(|v| v["properties"]["on_off"].as_object())
        .expect("on_off");
    assert_eq!(on_off["additionalProperties"], false);
    // The participant's firewall and overrides point at these definitions.
    let part = &defs["RawParticipant"]["properties"];
    assert_eq!(part["firewall"]["items"]["$ref"], "#/$defs/FirewallRule");
    assert_eq!(
        resolve(&s, &part["overrides"])["properties"]["up"]["anyOf"][0]["$ref"],
        "#/$defs/DirectionConfig"
    );
}

#[test]
fn wrong_values_get_our_words_at_their_place() {
    let d = Dir::new();
    // (alice's extra line 6, the column of the value, path, words of the message or
    // expected/found).
    for (extra, col, path, words) in [
        (
            "    overrides: { up: { loss: random } }\n",
            30,
            "participants.alice.overrides.up.loss",
            &["`random` needs its parameters", "`random: { rate: ..."][..],
        ),
        (
            "    overrides: { up: { loss: { gilbert_elliott: 5% } } }\n",
            49,
            "participants.alice.overrides.up.loss.gilbert_elliott",
            &["a mapping of fields", "`p`", "`5%`"],
        ),
        (
            "    overrides: { up: { aqm: zzz } }\n",
            29,
            "participants.alice.overrides.up.aqm",
            &["unknown value `zzz`", "`droptail`, `codel`"],
        ),
        (
            "    overrides: { up: { aqm: { codel: { targt: 5ms } } } }\n",
            40,
            "participants.alice.overrides.up.aqm.codel.targt",
            &["unknown field `targt`", "did you mean `target`?"],
        ),
        (
            "    overrides: { up: { delay: true } }\n",
            31,
            "participants.alice.overrides.up.delay",
            &["a duration with a unit", "found: `true`"],
        ),
        (
            "    overrides: { up: { queue: [1] } }\n",
            31,
            "participants.alice.overrides.up.queue",
            &["like 50pkt", "found: a list"],
        ),
        (
            "    overrides: { up: { mtu: big } }\n",
            29,
            "participants.alice.overrides.up.mtu",
            &["a whole number from 0 to 4294967295", "`big`"],
        ),
        (
            "    overrides: { up: { jitter: 5ms } }\n",
            32,
            "participants.alice.overrides.up.jitter",
            &["`amount`", "found: `5ms`"],
        ),
        (
            "    firewall: [ { action: [block] } ]\n",
            27,
            "participants.alice.firewall[0].action",
            &["one of `allow`, `block`", "found: a list"],
        ),
    ] {
        let errors = d.errors(&scenario(extra, ""));
        assert_eq!(errors.len(), 1, "{}", ScenarioErrors(errors.clone()));
        let e = &errors[0];
        assert_ours(e);
        assert_eq!((e.line, e.column, e.path.as_str()), (6, col, path), "{e}");
        let text = e.to_string();
        for w in words {
            assert!(text.contains(w), "{w:?} missing:\n{text}");
        }
    }
    // The same readers behind `set:` and cross-traffic.
    let tail =
        "timeline:\n  - { at: 1s, participant: alice, set: { up.loss: random, up.aqm: zzz } }\n";
    let errors = d.errors(&scenario("", tail));
    assert_eq!(errors.len(), 2, "{}", ScenarioErrors(errors.clone()));
    errors.iter().for_each(assert_ours);
    assert!(errors[0].message.contains("`random` needs its parameters"));
    assert!(errors[1].message.contains("unknown value `zzz`"));
    let e = &d.errors(&with_site(
        "  - { at: 1s, site: home, cross_traffic: { name: x, rate: 1Mbit, pattern: on_off } }\n",
    ))[0];
    assert_ours(e);
    assert_eq!(e.path, "timeline[0].cross_traffic.pattern");
    assert_eq!(
        e.expected.as_deref(),
        Some("`on_off: { on: ..., off: ... }`")
    );
}

#[test]
fn unknown_keys_inside_on_off_are_refused() {
    let d = Dir::new();
    let errors = d.errors(&with_site(
        "  - { at: 1s, site: home, cross_traffic: { name: x, rate: 1Mbit, pattern: { on_off: { on: 1s, off: 2s, of: 3s } } } }\n",
    ));
    assert_eq!(errors.len(), 1, "{}", ScenarioErrors(errors.clone()));
    let e = &errors[0];
    assert_ours(e);
    assert_eq!(e.kind, ErrorKind::UnknownField);
    assert_eq!(e.path, "timeline[0].cross_traffic.pattern.on_off.of");
    assert_eq!(e.line, 8);
    assert_eq!(e.suggestion.as_deref(), Some("off"));
}

#[test]
fn every_mistake_of_a_firewall_rule_is_reported_at_once() {
    let d = Dir::new();
    let errors = d.errors(&scenario(
        "    firewall:\n      - { action: blok, ports: 99999, colour: red }\n",
        "",
    ));
    let places: Vec<(usize, usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.column, e.path.as_str()))
        .collect();
    assert_eq!(
        places,
        [
            (7, 19, "participants.alice.firewall[0].action"),
            (7, 32, "participants.alice.firewall[0].ports"),
            (7, 39, "participants.alice.firewall[0].colour"),
        ],
        "{}",
        ScenarioErrors(errors.clone())
    );
    errors.iter().for_each(assert_ours);
    assert_eq!(errors[0].suggestion.as_deref(), Some("block"));
    assert_eq!(errors[1].found.as_deref(), Some("`99999`"));
    assert!(errors[1]
        .expected
        .as_deref()
        .unwrap_or("")
        .contains("65535"));
    assert_eq!(errors[2].kind, ErrorKind::UnknownField);
}

#[test]
fn every_mistake_of_a_cross_traffic_flow_is_reported_at_its_field() {
    let d = Dir::new();
    let errors = d.errors(&with_site(
        "  - { at: 1s, site: home, cross_traffic: { name: y, rate: fast, arrivals: bursty, pattern: onoff } }\n  - { at: 2s, site: home, cross_traffic: { name: z, rate: 1Mbit, packet_size: 10B } }\n",
    ));
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "timeline[0].cross_traffic.rate",
            "timeline[0].cross_traffic.arrivals",
            "timeline[0].cross_traffic.pattern",
            "timeline[1].cross_traffic.packet_size",
        ],
        "{}",
        ScenarioErrors(errors.clone())
    );
    errors.iter().for_each(assert_ours);
    assert_eq!(errors[2].suggestion.as_deref(), Some("on_off"));
    // The emulator's own check, placed at the field it names.
    assert_eq!((errors[3].line, errors[3].column), (9, 79));
    assert!(errors[3].message.contains("from 20B"), "{}", errors[3]);
}

#[test]
fn a_failed_profile_check_is_placed_at_its_field() {
    let d = Dir::new();
    let e = d.errors(&scenario("    overrides: { up: { mtu: 50 } }\n", ""));
    assert_eq!(e.len(), 1, "{}", ScenarioErrors(e.clone()));
    assert_ours(&e[0]);
    assert_eq!(
        (e[0].line, e[0].column, e[0].path.as_str()),
        (6, 29, "participants.alice.overrides.up.mtu")
    );
    assert!(e[0].message.contains("at least 68 bytes"), "{}", e[0]);
}

#[test]
fn a_file_that_is_not_utf8_gets_the_line_and_column_of_the_bad_byte() {
    let d = Dir::new();
    let e = d
        .load_bytes(b"name: t\nduration: 10s\nx: ab\xffc\n")
        .unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].line, e[0].column), (3, 6), "{}", e[0]);
    let text = e[0].to_string();
    assert!(text.contains("s.yaml:3:6: error: not UTF-8"), "{text}");
    assert!(
        text.contains("0xff") && text.contains("offset 27"),
        "{text}"
    );
    // A UTF-16 file is named as such.
    let e = d.load_bytes(b"\xff\xfen\x00a\x00").unwrap_err();
    assert_eq!((e[0].line, e[0].column), (1, 1));
    assert!(e[0].to_string().contains("UTF-16"), "{}", e[0]);
}

#[test]
fn a_megabyte_name_is_refused_in_under_a_kilobyte() {
    let d = Dir::new();
    let big = "a".repeat(1 << 20);
    // YAML itself limits a plain key to 1024 characters.
    let key = "k".repeat(1000);
    let text = format!(
        "name: {big}\nduration: 60s\nparticipants:\n  {key}: {{ network: {big} }}\n  bob: {{ network: wired-lan }}\ncalls:\n  - {{ caller: bob, callee: {big}x }}\n"
    );
    let errors = d.errors(&text);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths.len(), 4, "{paths:?}");
    for e in &errors {
        let shown = e.to_string();
        assert!(
            shown.len() < 1024,
            "{} bytes:\n{}",
            shown.len(),
            &shown[..2000]
        );
        assert!(e.line > 0, "{shown}");
    }
    let name = errors
        .iter()
        .find(|e| e.path == "name")
        .expect("name error");
    assert!(
        name.expected
            .as_deref()
            .is_some_and(|x| x.contains(&MAX_NAME_LEN.to_string())),
        "{name}"
    );
    assert!(name.to_string().contains("(1048576 bytes)"), "{name}");
}
