//! A machine whose socket layer is broken (NET-SOCKET-STACK): each kind of failure keeps its
//! client from signing in and its calls from starting, and affects that machine only.

mod common;
use common::{run, scenario};

fn with_layer(layer: &str) -> String {
    format!(
        r#"
name: socket-{layer}
description: alice's socket layer is {layer}
duration: 30s
participants:
  alice: {{ network: clean, socket_layer: {layer} }}
  bob: {{ network: clean }}
  carol: {{ network: clean }}
calls:
  - {{ caller: bob, callee: carol, at: 1s, duration: 20s, expect: connected }}
"#
    )
}

/// (datagrams not sent, datagrams that arrived but were not received) from the detail.
fn counts(detail: &str) -> (u64, u64) {
    let num = |before: &str| -> u64 {
        let i = detail
            .find(before)
            .unwrap_or_else(|| panic!("{before:?} in {detail}"));
        let head = &detail[..i];
        let start = head
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |k| k + 1);
        head[start..].parse().expect("a count")
    };
    (num(" datagrams not sent"), num(" arrived but not received"))
}

#[test]
fn a_broken_socket_layer_keeps_the_client_off_and_leaves_the_others_alone() {
    for layer in ["bind-fails", "send-fails", "receive-stops"] {
        let r = run(&scenario(&with_layer(layer)), 1);
        let alice = r
            .accounts
            .iter()
            .find(|a| a.participant == "alice")
            .unwrap();
        assert_eq!(alice.signed_in_ms, None, "{layer}");
        let f = alice.failure.as_ref().expect("a sign-in failure");
        assert_eq!(f.class, "network-down", "{layer}: {f:?}");
        assert!(
            f.detail.contains(&format!("socket layer: {layer}")),
            "{f:?}"
        );
        let (not_sent, not_received) = counts(&f.detail);
        match layer {
            // Nothing leaves the machine, so nothing comes back either.
            "bind-fails" | "send-fails" => {
                assert!(not_sent > 0, "{layer}: {f:?}");
                assert_eq!(not_received, 0, "{layer}: {f:?}");
            }
            // The sign-in goes out and is answered; the answers never reach the client.
            _ => {
                assert_eq!(not_sent, 0, "{layer}: {f:?}");
                assert!(not_received > 0, "{layer}: {f:?}");
            }
        }
        // Bob and Carol, on the same network, are not affected.
        assert!(r.calls[0].connected, "{layer}: {:?}", r.calls[0]);
        for p in ["bob", "carol"] {
            let a = r.accounts.iter().find(|a| a.participant == p).unwrap();
            assert!(a.signed_in_ms.is_some(), "{layer}: {p}");
        }
    }
    let healthy = run(&scenario(&with_layer("healthy")), 1);
    let alice = healthy
        .accounts
        .iter()
        .find(|a| a.participant == "alice")
        .unwrap();
    assert!(alice.signed_in_ms.is_some() && alice.failure.is_none());
}

#[test]
fn an_unknown_socket_layer_is_an_error_that_lists_the_known_ones() {
    let text = with_layer("flaky");
    let errors =
        callharness::scenario::load_str(&text, std::path::Path::new("s.yaml"), &common::profiles())
            .expect_err("an unknown socket layer");
    let e = errors
        .iter()
        .find(|e| e.path.ends_with("socket_layer"))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert_eq!(e.line, 6, "{e:?}");
    assert!(e.to_string().contains("send-fails"), "{e}");
}
