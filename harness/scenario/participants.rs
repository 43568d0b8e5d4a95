//! Participants: templates applied, network profiles found and overridden, firewall rules read.

use super::de::{deserialize_all, from_node, key_path, nearest, Spanned};
use super::error::{ErrorKind, ScenarioError};
use super::load::{Context, ProfileSource, Resolved, MAX_ERRORS};
use super::model::*;
use super::profile_shape::ProfileShape;
use super::raw::RawParticipant;
use super::video::VideoSettings;
use super::yaml::{self, Node, NodeKind};
use crate::agent::media::{JitterBufferConfig, OpusConfig};
use crate::agent::peer::IceTimeouts;
use crate::net::LinkProfile;
use std::path::Path;
use std::sync::Arc;

impl Context {
    /// Applies the participant's template, if any.
    fn apply_template(
        &mut self,
        p: &Spanned<RawParticipant>,
        templates: &super::raw::OrderedMap<Spanned<RawParticipant>>,
    ) -> Option<Resolved> {
        let own = Resolved {
            network: p.value.network.clone(),
            overrides: self.own_overrides(p),
            firewall: p
                .value
                .firewall
                .iter()
                .flatten()
                .filter_map(|r| self.opaque_node(r).map(|n| (n, r.at.path.clone())))
                .collect(),
            site: p.value.site.clone(),
            ice_restart: p.value.ice_restart.as_ref().map(|b| b.value),
            jitter_buffer: p.value.jitter_buffer.clone(),
            audio: p.value.audio.clone(),
            video: p.value.video.clone(),
            ice: p.value.ice.clone(),
            relay_transports: p
                .value
                .relay_transports
                .as_ref()
                .map(|l| l.iter().map(|t| t.value.transport()).collect()),
            password: p.value.password.clone(),
            client_version: p.value.client_version.clone(),
            socket_layer: p.value.socket_layer.as_ref().map(|s| s.value),
            devices: p.value.devices.clone(),
        };
        let Some(tname) = &p.value.template else {
            return Some(own);
        };
        // In the file, or templates/NAME.yaml beside it.
        let (tmpl, troot): (Spanned<RawParticipant>, Node) =
            if let Some((_, t)) = templates.0.iter().find(|(k, _)| k.value == tname.value) {
                (t.clone(), self.root.clone())
            } else if self.keys_of("templates").contains(&tname.value) {
                // Written in the file but dropped for an error already reported.
                return None;
            } else {
                let file = self.template_dir.join(format!("{}.yaml", tname.value));
                let text = match super::files::read_text(&file) {
                    Ok(t) => Some(t),
                    Err(e) if file.is_file() => {
                        self.push(*e);
                        return None;
                    }
                    Err(_) => None,
                };
                let Some(text) = text else {
                    let mut known: Vec<String> =
                        templates.0.iter().map(|(k, _)| k.value.clone()).collect();
                    known.extend(yaml_stems(&self.template_dir));
                    self.push(
                        ScenarioError::at(
                            ErrorKind::UnknownName,
                            &tname.mark,
                            &tname.path,
                            format!("unknown template `{}`", tname.value),
                        )
                        .expected(format!(
                            "a template under `templates:` or in {}",
                            self.template_dir.display()
                        ))
                        .found(format!("`{}`", tname.value))
                        .suggest(nearest(&tname.value, known.iter().map(String::as_str))),
                    );
                    return None;
                };
                let node = match yaml::parse(&text, &Arc::new(file.clone())) {
                    Ok(n) => n,
                    Err(e) => {
                        self.push(ScenarioError::at(ErrorKind::Syntax, &e.mark, "", e.message));
                        return None;
                    }
                };
                let (t, errs) = deserialize_all::<Spanned<RawParticipant>>(&node, "", MAX_ERRORS);
                let failed = !errs.is_empty();
                for e in errs {
                    self.push(ScenarioError::from_de(e, &node.mark));
                }
                match t {
                    Some(t) if !failed => (t, node),
                    _ => return None,
                }
            };
        if let Some(inner) = &tmpl.value.template {
            self.push(
                ScenarioError::at(
                    ErrorKind::Conflict,
                    &inner.mark,
                    &inner.path,
                    "a template cannot use another template",
                )
                .expected("the template's own fields"),
            );
            return None;
        }
        let find = |id: u64| troot.find_id(id).cloned();
        let mut overrides: Vec<(Node, String)> = tmpl
            .value
            .overrides
            .as_ref()
            .and_then(|o| find(o.at.id).map(|n| (n, o.at.path.clone())))
            .into_iter()
            .collect();
        overrides.extend(own.overrides);
        let mut firewall: Vec<(Node, String)> = tmpl
            .value
            .firewall
            .iter()
            .flatten()
            .filter_map(|r| find(r.at.id).map(|n| (n, r.at.path.clone())))
            .collect();
        firewall.extend(own.firewall);
        Some(Resolved {
            network: own.network.or(tmpl.value.network.clone()),
            overrides,
            firewall,
            site: own.site.or(tmpl.value.site.clone()),
            ice_restart: own
                .ice_restart
                .or(tmpl.value.ice_restart.as_ref().map(|b| b.value)),
            jitter_buffer: own.jitter_buffer.or(tmpl.value.jitter_buffer.clone()),
            audio: own.audio.or(tmpl.value.audio.clone()),
            video: own.video.or(tmpl.value.video.clone()),
            ice: own.ice.or(tmpl.value.ice.clone()),
            relay_transports: own.relay_transports.or_else(|| {
                tmpl.value
                    .relay_transports
                    .as_ref()
                    .map(|l| l.iter().map(|t| t.value.transport()).collect())
            }),
            password: own.password.or(tmpl.value.password.clone()),
            client_version: own.client_version.or(tmpl.value.client_version.clone()),
            socket_layer: own
                .socket_layer
                .or(tmpl.value.socket_layer.as_ref().map(|s| s.value)),
            devices: own.devices.or(tmpl.value.devices.clone()),
        })
    }

    /// The participant's own `overrides:` node with its field path, if it has one.
    fn own_overrides(&self, p: &Spanned<RawParticipant>) -> Vec<(Node, String)> {
        p.value
            .overrides
            .as_ref()
            .and_then(|o| self.opaque_node(o).map(|n| (n, o.at.path.clone())))
            .into_iter()
            .collect()
    }

    pub(super) fn participant(
        &mut self,
        key: &Spanned<String>,
        p: &Spanned<RawParticipant>,
        templates: &super::raw::OrderedMap<Spanned<RawParticipant>>,
        inline_profiles: &[(String, Node)],
        sites: &[Site],
        setup: &super::service::ServiceSetup,
    ) -> Option<Participant> {
        let Some(r) = self.apply_template(p, templates) else {
            // The template's mistake is reported; the participant's own overrides are still
            // checked.
            let own = self.own_overrides(p);
            self.check_profile_shape(&own);
            return None;
        };
        let Some(network) = &r.network else {
            self.missing(
                &p.mark,
                &p.path,
                "network",
                "a network profile name, like `wired-lan`",
            );
            self.check_profile_shape(&r.overrides);
            return None;
        };
        let profile = self.resolve_profile(network, &r.overrides, inline_profiles);
        let site = match &r.site {
            None => DEFAULT_SITE.to_string(),
            Some(s) if s.value == DEFAULT_SITE || self.keys_of("sites").contains(&s.value) => {
                s.value.clone()
            }
            Some(s) => {
                let mut known: Vec<&str> = sites.iter().map(|x| x.name.as_str()).collect();
                known.push(DEFAULT_SITE);
                self.push(
                    ScenarioError::at(
                        ErrorKind::UnknownName,
                        &s.mark,
                        &s.path,
                        format!("unknown site `{}`", s.value),
                    )
                    .expected(format!("a site under `sites:`, or `{DEFAULT_SITE}`"))
                    .found(format!("`{}`", s.value))
                    .suggest(nearest(&s.value, known)),
                );
                return None;
            }
        };
        self.check_firewall_peers(&r.firewall);
        let mut firewall = Vec::new();
        for (node, path) in &r.firewall {
            // Every mistake of a rule at once (a bad action, bad ports and an unknown key).
            let (rule, errs) = deserialize_all::<FirewallRule>(node, path, MAX_ERRORS);
            for e in errs {
                self.push(ScenarioError::from_de(e, &node.mark));
            }
            firewall.extend(rule);
        }
        let jitter_buffer = r.jitter_buffer.as_ref().map(|jb| self.jitter_buffer(jb));
        let audio = r.audio.as_ref().map(|a| self.audio(a));
        let video = r.video.as_ref().map(|v| self.video(v));
        let ice = r.ice.as_ref().map(|i| self.ice(i));
        let devices = self.devices(r.devices.as_ref());
        let account = self.account(
            &key.value,
            &p.value,
            r.password.as_ref(),
            r.client_version.as_ref(),
            setup,
        );
        Some(Participant {
            name: key.value.clone(),
            site,
            profile_name: network.value.clone(),
            profile: profile?,
            firewall,
            ice_restart: r.ice_restart.unwrap_or(false),
            jitter_buffer: jitter_buffer.unwrap_or(Some(JitterBufferConfig::default()))?,
            audio: audio.unwrap_or(Some(OpusConfig::default()))?,
            video: video.unwrap_or(Some(VideoSettings::default()))?,
            ice: ice.unwrap_or(Some(IceTimeouts::default()))?,
            relay_transports: r.relay_transports.unwrap_or_default(),
            account: account?,
            socket_layer: r.socket_layer.unwrap_or_default(),
            devices: devices?,
        })
    }

    /// Names of every profile that can be found, for suggestions.
    fn known_profiles(&self, inline: &[(String, Node)]) -> Vec<String> {
        let mut names: Vec<String> = inline.iter().map(|p| p.0.clone()).collect();
        for d in &self.profile_dirs {
            names.extend(yaml_stems(d));
        }
        names.sort();
        names.dedup();
        names
    }

    fn find_profile(&self, name: &str, inline: &[(String, Node)]) -> Option<ProfileSource> {
        if let Some((_, n)) = inline.iter().find(|p| p.0 == name) {
            return Some(ProfileSource::Inline(n.clone()));
        }
        if name.contains(['/', '\\']) || name.starts_with('.') {
            return None;
        }
        for d in &self.profile_dirs {
            for ext in ["yaml", "yml"] {
                let f = d.join(format!("{name}.{ext}"));
                if f.is_file() {
                    return Some(ProfileSource::File(f));
                }
            }
        }
        None
    }

    /// Checks profile bodies or overrides (each with its field path) against the profile's
    /// shape, reporting every mistake at its own place; true when there is none.
    fn check_profile_shape(&mut self, bodies: &[(Node, String)]) -> bool {
        let mut ok = true;
        for (node, path) in bodies {
            let (_, errs) = deserialize_all::<ProfileShape>(node, path, MAX_ERRORS);
            ok &= errs.is_empty();
            for e in errs {
                self.push(ScenarioError::from_de(e, &node.mark));
            }
        }
        ok
    }

    /// Finds a profile by name, applies overrides (each a node with its field path, in order)
    /// and reads it as a `LinkProfile`. Every mistake in the overrides is reported, even when
    /// the profile is not found, and so is every mistake in the profile's own body.
    pub(super) fn resolve_profile(
        &mut self,
        name: &Spanned<String>,
        overrides: &[(Node, String)],
        inline: &[(String, Node)],
    ) -> Option<LinkProfile> {
        let overrides_ok = self.check_profile_shape(overrides);
        let Some(src) = self.find_profile(&name.value, inline) else {
            let known = self.known_profiles(inline);
            let searched = self
                .profile_dirs
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            self.push(
                ScenarioError::at(
                    ErrorKind::UnknownName,
                    &name.mark,
                    &name.path,
                    format!("no network profile named `{}`", name.value),
                )
                .expected(format!(
                    "a profile under `profiles:` or a file {}.yaml in: {}",
                    name.value,
                    if searched.is_empty() {
                        "(no profile folders)".to_string()
                    } else {
                        searched
                    }
                ))
                .found(format!("`{}`", name.value))
                .suggest(nearest(&name.value, known.iter().map(String::as_str))),
            );
            return None;
        };
        let (mut body, source) = match src {
            ProfileSource::Inline(n) => (n, None),
            ProfileSource::File(f) => {
                let text = match super::files::read_text(&f) {
                    Ok(t) => t,
                    Err(e) => {
                        self.push(*e);
                        return None;
                    }
                };
                match yaml::parse(&text, &Arc::new(f.clone())) {
                    Ok(n) => (n, Some(f)),
                    Err(e) => {
                        self.push(ScenarioError::at(ErrorKind::Syntax, &e.mark, "", e.message));
                        return None;
                    }
                }
            }
        };
        // An inline profile's path is the scenario's; a profile file's starts at its top.
        let body_path = match &source {
            None => key_path("profiles", &name.value),
            Some(_) => String::new(),
        };
        let body_ok = self.check_profile_shape(&[(body.clone(), body_path.clone())]);
        if !(overrides_ok && body_ok) {
            return None;
        }
        let mut ok = true;
        for (o, _) in overrides {
            if let Err(e) = merge_profile(&mut body, o) {
                self.push(*e);
                ok = false;
            }
        }
        if !ok {
            return None;
        }
        let mut profile = match from_node::<LinkProfile>(&body, "") {
            Ok(p) => p,
            Err(e) => {
                // Name the path from the scenario when the bad value came from its overrides.
                let mut err = ScenarioError::from_de(e.clone(), &name.mark);
                if let Some(l) = &e.located {
                    if let Some((_, path)) =
                        overrides.iter().find(|(o, _)| o.contains_id(l.remove_id))
                    {
                        err.path = join_path(path, &l.path);
                    } else {
                        err.path = join_path(&body_path, &l.path);
                    }
                }
                self.push(err);
                return None;
            }
        };
        if profile.name.is_empty() {
            profile.name = name.value.clone();
        }
        // Traces named by a profile file are looked for beside it first (as the emulator's
        // own profile loader does).
        let dir = source
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        for c in [&mut profile.both, &mut profile.up, &mut profile.down] {
            if let Some(spec) = c.as_mut().and_then(|c| c.trace.as_mut()) {
                spec.profile_dir = dir.clone();
            }
        }
        for e in &mut profile.schedule {
            if let Some(s) = &mut e.set {
                for c in [&mut s.both, &mut s.up, &mut s.down] {
                    if let Some(spec) = c.as_mut().and_then(|c| c.trace.as_mut()) {
                        spec.profile_dir = dir.clone();
                    }
                }
            }
        }
        profile.source = source;
        if let Err(e) = profile.validate() {
            // At the field the check names, in the overrides or the profile's own body.
            let err = match super::profile_shape::locate_check(&e, &body) {
                Some((node, rel, message)) => {
                    let base = overrides
                        .iter()
                        .find(|(o, _)| o.contains_id(node.id))
                        .map_or(body_path.as_str(), |(_, p)| p.as_str());
                    ScenarioError::at(
                        ErrorKind::BadValue,
                        &node.mark,
                        &join_path(base, &rel),
                        format!("profile `{}`: {message}", name.value),
                    )
                }
                None => ScenarioError::at(
                    ErrorKind::BadValue,
                    &name.mark,
                    &name.path,
                    format!("profile `{}` (with overrides): {e}", name.value),
                ),
            };
            self.push(err);
            return None;
        }
        Some(profile)
    }
}

/// Applies overrides to a profile body: top-level fields replace; inside `up`, `down` and
/// `both`, each field replaces the profile's field of that name whole (as the emulator overlays
/// a phase change), so `loss: { random: ... }` replaces a bursty loss model instead of mixing.
fn merge_profile(body: &mut Node, over: &Node) -> Result<(), Box<ScenarioError>> {
    let Some(entries) = over.as_map() else {
        return Err(Box::new(
            ScenarioError::at(
                ErrorKind::BadValue,
                &over.mark,
                "",
                "overrides are a mapping",
            )
            .expected("fields of a profile, like `down: { delay: 30ms }`")
            .found(over.describe()),
        ));
    };
    if matches!(body.kind, NodeKind::Null) {
        body.kind = NodeKind::Map(Vec::new());
    }
    for (k, v) in entries {
        let key = k.as_str().unwrap_or_default();
        let is_dir = matches!(key, "up" | "down" | "both");
        match (is_dir, body.get_mut(key), v.as_map()) {
            (true, Some(base), Some(fields)) if base.as_map().is_some() => {
                for (fk, fv) in fields {
                    base.set(fk.as_str().unwrap_or_default(), fv.clone());
                }
            }
            _ => body.set(key, v.clone()),
        }
    }
    Ok(())
}

/// `parent.child` for a child path that is already a path.
fn join_path(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (true, _) => child.to_string(),
        (_, true) => parent.to_string(),
        _ if child.starts_with('[') => format!("{parent}{child}"),
        _ => format!("{parent}.{child}"),
    }
}

/// File stems of `*.yaml`/`*.yml` files in `dir`, sorted.
fn yaml_stems(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
        .collect();
    out.sort();
    out
}
