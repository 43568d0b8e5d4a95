//! Tests of the node deserializer: positions, every error at once, values like serde_yaml's.

use super::super::yaml::parse;
use super::*;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Inner {
    count: Option<u32>,
    kind: Option<Kind>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "kebab-case")]
enum Kind {
    IceFailed,
    Connected,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Outer {
    name: Option<String>,
    items: Option<Vec<Inner>>,
}

fn node(text: &str) -> Node {
    parse(text, &Arc::new(PathBuf::from("t.yaml"))).expect("yaml")
}

#[test]
fn errors_carry_position_and_path() {
    let n = node("name: x\nitems:\n  - { count: 1 }\n  - { count: many }\n");
    let e = from_node::<Outer>(&n, "").unwrap_err();
    let ok = from_node::<Outer>(&node("items: [{ count: 2, kind: connected }]"), "").expect("ok");
    let items = ok.items.expect("items");
    assert_eq!(
        (items[0].count, items[0].kind.as_ref()),
        (Some(2), Some(&Kind::Connected))
    );
    assert!(ok.name.is_none());
    let l = e.located.expect("located");
    assert_eq!(l.path, "items[1].count");
    assert_eq!((l.mark.line, l.mark.column), (4, 14));
}

#[test]
fn all_independent_errors_are_found() {
    let n =
        node("name: x\nnmae: y\nitems:\n  - { count: -1, kind: ice-faild }\n  - { cuont: 2 }\n");
    let (v, errors) = deserialize_all::<Outer>(&n, "", 10);
    let v = v.expect("what is left reads");
    assert_eq!(v.name.as_deref(), Some("x"));
    let items = v.items.expect("items");
    assert_eq!((items[0].count, items[0].kind.as_ref()), (None, None));
    assert_eq!(items.len(), 2);
    let paths: Vec<_> = errors
        .iter()
        .map(|e| e.located.as_ref().expect("located").path.clone())
        .collect();
    assert_eq!(
        paths,
        ["nmae", "items[0].count", "items[0].kind", "items[1].cuont"]
    );
    assert_eq!(errors[0].suggestion.as_deref(), Some("name"));
    assert_eq!(errors[2].suggestion.as_deref(), Some("ice-failed"));
    assert_eq!(errors[3].suggestion.as_deref(), Some("count"));
}

#[test]
fn values_deserialize_like_serde_yaml() {
    let n = node("a: [1, 2.5, true, x, ~]\nb: { c: '7' }\n");
    let v: serde_yaml::Value = from_node(&n, "").expect("value");
    let w: serde_yaml::Value =
        serde_yaml::from_str("a: [1, 2.5, true, x, ~]\nb: { c: '7' }\n").expect("yaml");
    assert_eq!(v, w);
    assert_eq!(n.to_value(), w);
}
