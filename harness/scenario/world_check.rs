//! Checks that need more than one field: what the emulator would refuse when the world is
//! built, found here with the file, line and field, so `validate` says it before `run` fails.
//!
//! - A firewall rule's `peer` must be an IPv4 address, a participant of the scenario, or one
//!   of the world's own hosts: `edge` (the media relay) or `service` (signaling).
//! - A profile that changes address (a schedule entry with `address_change: true`) can only be
//!   a participant's own access link: a site's shared uplink, or a site switching to such a
//!   profile on the timeline, has no host whose address could change.
//!
//! `sim::world::check` builds the whole network without running it as a last net for what
//! these checks do not cover (traces, for one).

use super::error::{ErrorKind, ScenarioError};
use super::load::Context;
use super::yaml::Node;
use crate::net::LinkProfile;
use std::net::Ipv4Addr;

impl Context {
    /// Refuses each firewall rule (a node of `rules`, with its field path) whose `peer` is
    /// neither an IPv4 address, a participant of the scenario, nor the edge or the service.
    pub(super) fn check_firewall_peers(&mut self, rules: &[(Node, String)]) {
        let mut participants = self.keys_of("participants");
        participants.push(crate::sim::world::EDGE_HOST.to_owned());
        participants.push(crate::sim::world::SERVICE_HOST.to_owned());
        for (rule, path) in rules {
            let Some(peer) = rule.get("peer") else {
                continue;
            };
            let Some(name) = peer.as_str() else {
                continue; // a non-string peer is the rule reader's error
            };
            if name.parse::<Ipv4Addr>().is_ok() || participants.iter().any(|p| p == name) {
                continue;
            }
            let shown = super::de::nearest(name, participants.iter().map(String::as_str));
            self.push(
                ScenarioError::at(
                    ErrorKind::UnknownName,
                    &peer.mark,
                    &format!("{path}.peer"),
                    format!(
                        "firewall peer `{name}` is neither an IPv4 address, a participant, nor \
                         the edge or the service"
                    ),
                )
                .expected(format!(
                    "an IPv4 address like `10.0.0.2`, or a host: {}",
                    list(&participants)
                ))
                .found(format!("`{name}`"))
                .suggest(shown),
            );
        }
    }

    /// Refuses `profile` (named at `at`, a node of field `path`) for a site's shared link when
    /// it changes address. `how` says where it is used ("as site `home`'s shared link").
    pub(super) fn check_site_profile(
        &mut self,
        profile: &LinkProfile,
        name: &str,
        at: &super::yaml::Mark,
        path: &str,
        how: &str,
    ) {
        if profile.tunnel.is_some() {
            self.push(
                ScenarioError::at(
                    ErrorKind::Conflict,
                    at,
                    path,
                    format!(
                        "profile `{name}` is a VPN tunnel (`tunnel: tls-tcp`), which only a participant's own network can be: a site's shared link has no host to run the tunnel; used {how}"
                    ),
                )
                .expected("a profile without `tunnel` for a site; give the VPN profile to a participant's `network:` instead"),
            );
            return;
        }
        let Some(i) = profile.schedule.iter().position(|e| e.address_change) else {
            return;
        };
        self.push(
            ScenarioError::at(
                ErrorKind::Conflict,
                at,
                path,
                format!(
                    "profile `{name}` changes address (its schedule entry {} has `address_change: true`), which a site's shared link cannot do: there is no host on it to get a new address; used {how}",
                    i + 1
                ),
            )
            .expected(
                "a profile without `address_change` for a site; give the roaming profile to a participant's `network:` instead",
            ),
        );
    }
}

/// Names as `` `a`, `b` ``, or "none" when there are none.
fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use crate::scenario::{load_str, ScenarioError};
    use std::path::{Path, PathBuf};

    fn profiles() -> Vec<PathBuf> {
        vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/profiles")]
    }

    /// The errors of `text` as a scenario file; panics when it loads.
    fn errors(text: &str) -> Vec<ScenarioError> {
        match load_str(text, Path::new("s.yaml"), &profiles()) {
            Ok(_) => panic!("loaded, but should have been refused:\n{text}"),
            Err(e) => e,
        }
    }

    const CALL: &str = "calls:\n  - { caller: alice, callee: bob, at: 1s }\n";

    #[test]
    fn a_firewall_peer_must_be_a_participant_or_an_address() {
        let text = format!(
            "name: t\nduration: 5s\nparticipants:\n  alice:\n    network: wired-lan\n    firewall:\n      - {{ action: block, proto: udp, peer: bobb }}\n  bob: {{ network: wired-lan }}\n{CALL}"
        );
        let e = errors(&text);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!((e[0].line, e[0].column), (7, 44), "{e:?}");
        assert_eq!(e[0].path, "participants.alice.firewall[0].peer");
        assert_eq!(e[0].suggestion.as_deref(), Some("bob"));
        // A participant's name and an address are both fine.
        for peer in ["bob", "10.9.8.7"] {
            let ok = text.replace("bobb", peer);
            assert!(
                load_str(&ok, Path::new("s.yaml"), &profiles()).is_ok(),
                "{peer}"
            );
        }
    }

    #[test]
    fn a_roaming_profile_cannot_be_a_sites_shared_link() {
        let text = format!(
            "name: t\nduration: 5s\nsites:\n  home: {{ shared: wifi-roaming }}\nparticipants:\n  alice: {{ network: wired-lan, site: home }}\n  bob: {{ network: wifi-roaming }}\n{CALL}"
        );
        let e = errors(&text);
        assert_eq!(e.len(), 1, "only the site's use is wrong: {e:?}");
        assert_eq!((e[0].line, e[0].path.as_str()), (4, "sites.home.shared"));
        assert!(e[0].message.contains("address_change"), "{}", e[0].message);
    }

    #[test]
    fn a_site_cannot_switch_to_a_roaming_profile() {
        let text = format!(
            "name: t\nduration: 5s\nsites:\n  home: {{ shared: wired-lan }}\nparticipants:\n  alice: {{ network: wired-lan, site: home }}\n  bob: {{ network: wired-lan }}\ntimeline:\n  - {{ at: 2s, site: home, profile: wifi-roaming }}\n  - {{ at: 3s, participant: bob, profile: wifi-roaming }}\n{CALL}"
        );
        let e = errors(&text);
        assert_eq!(e.len(), 1, "the participant's switch is fine: {e:?}");
        assert_eq!((e[0].line, e[0].path.as_str()), (9, "timeline[0].profile"));
    }

    /// What the loader accepts, the emulator builds: every scenario the project ships.
    #[test]
    fn every_shipped_scenario_builds_its_world() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let files = crate::scenario::find_scenarios(&[root.join("scenarios")]).unwrap();
        let traces = [root.join("../shared/traces")];
        let mut n = 0;
        for f in files
            .iter()
            .filter(|f| !f.starts_with(root.join("scenarios/profiles")))
        {
            for s in crate::scenario::load(f, &profiles()).unwrap() {
                crate::sim::world::check(&s, &traces)
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                n += 1;
            }
        }
        assert!(n >= 16, "only {n} scenarios found");
    }
}
