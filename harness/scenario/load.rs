//! From a scenario file to checked [`Scenario`]s: parse with positions, expand the matrix, read
//! the raw types (collecting every error), then resolve names (profiles, templates, sites,
//! participants, threshold sets, KB IDs) and check what the types alone cannot.

use super::de::{deserialize_all, key_path, nearest, one_of, Spanned};
use super::error::{tidy, ErrorKind, ScenarioError};
use super::kb_catalog;
use super::matrix;
use super::model::*;
use super::raw::{Opaque, RawScenario, ThresholdList};
use super::threshold::{named_set, named_set_names, Threshold};
use super::yaml::{self, Mark, Node, NodeKind};
use crate::net::NatConfig;
use crate::units::Dur;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Most errors reported for one file before giving up on it.
pub(super) const MAX_ERRORS: usize = 100;

/// Loads a scenario file: one [`Scenario`] per matrix cell (one without a matrix), or every
/// error in the file. Profiles are looked up by name in the file's own `profiles:`, then in a
/// `profiles/` folder beside the file, then in `profile_dirs` in order.
pub fn validate_file(
    path: &Path,
    profile_dirs: &[PathBuf],
) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    let text = super::files::read_text(path).map_err(|e| vec![*e])?;
    load_str(&text, path, profile_dirs)
}

/// Loads scenario text as if it were the file `path` (folders beside it are used for profiles
/// and templates).
pub fn load_str(
    text: &str,
    path: &Path,
    profile_dirs: &[PathBuf],
) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    let file = Arc::new(path.to_path_buf());
    let root = match yaml::parse(text, &file) {
        Ok(r) => r,
        Err(e) => {
            let err = ScenarioError::at(ErrorKind::Syntax, &e.mark, "", e.message);
            return Err(vec![err.with_source(text)]);
        }
    };
    let mut errors = Vec::new();
    if !matches!(root.kind, NodeKind::Map(_)) {
        errors.push(
            ScenarioError::at(
                ErrorKind::BadValue,
                &root.mark,
                "",
                "a scenario is a mapping",
            )
            .expected("fields like `name:`, `duration:`, `participants:`")
            .found(root.describe()),
        );
        return Err(finish(errors, text, path));
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut dirs = Vec::new();
    let beside = dir.join("profiles");
    if beside.is_dir() {
        dirs.push(beside);
    }
    dirs.extend(profile_dirs.iter().cloned());
    let mut ctx = Context {
        file: file.clone(),
        source: text.to_string(),
        profile_dirs: dirs,
        template_dir: dir.join("templates"),
        errors: Vec::new(),
        removed: Vec::new(),
        root: root.clone(),
    };
    let cells = matrix::expand(&root, &mut errors);
    // Errors at a matrix value are labelled with the cell that wrote it in.
    let marks = matrix_value_marks(&root);
    let mut scenarios = Vec::new();
    for cell in &cells {
        let doc = matrix::apply(&root, cell);
        ctx.root = doc;
        ctx.errors.clear();
        ctx.removed.clear();
        let s = ctx.build(cell.values.clone());
        for mut e in ctx.errors.drain(..) {
            if !cell.label.is_empty() && marks.iter().any(|m| same_place(m, &e)) {
                e.cell = Some(cell.label.clone());
            }
            errors.push(e);
        }
        if let Some(s) = s {
            scenarios.push(s);
        }
        if errors.len() >= MAX_ERRORS {
            break;
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(finish(errors, text, path))
    }
}

/// The keys of an ordered map.
fn keys<V>(entries: &[(Spanned<String>, V)]) -> Vec<&Spanned<String>> {
    entries.iter().map(|(k, _)| k).collect()
}

/// Sorts, deduplicates and adds source lines: from `text` for errors in the scenario file
/// `path`, from the file itself for errors in a profile or template file.
fn finish(mut errors: Vec<ScenarioError>, text: &str, path: &Path) -> Vec<ScenarioError> {
    tidy(&mut errors);
    let mut texts: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    texts.insert(path.to_path_buf(), Some(text.to_string()));
    errors
        .into_iter()
        .map(|e| {
            if e.kind == ErrorKind::Io {
                return e.capped();
            }
            let t = texts
                .entry(e.file.clone())
                .or_insert_with(|| std::fs::read_to_string(&e.file).ok());
            match t {
                Some(t) => e.with_source(t),
                None => e.capped(),
            }
        })
        .collect()
}

/// Marks of the matrix's values (the nodes a cell writes into the document).
fn matrix_value_marks(root: &Node) -> Vec<Mark> {
    let mut marks = Vec::new();
    if let Some(m) = root.get("matrix") {
        collect_marks(m, &mut marks);
    }
    marks
}

fn collect_marks(n: &Node, out: &mut Vec<Mark>) {
    match &n.kind {
        NodeKind::Seq(s) => s.iter().for_each(|x| collect_marks(x, out)),
        NodeKind::Map(m) => m.iter().for_each(|(_, v)| collect_marks(v, out)),
        _ => out.push(n.mark.clone()),
    }
}

fn same_place(m: &Mark, e: &ScenarioError) -> bool {
    *m.file == e.file && m.line == e.line && m.column == e.column
}

/// Where a profile comes from.
pub(super) enum ProfileSource {
    /// Defined in the scenario's `profiles:` (the node of its body).
    Inline(Node),
    /// A file in a profile folder.
    File(PathBuf),
}

pub(super) struct Context {
    pub(super) file: Arc<PathBuf>,
    pub(super) source: String,
    pub(super) profile_dirs: Vec<PathBuf>,
    pub(super) template_dir: PathBuf,
    pub(super) errors: Vec<ScenarioError>,
    /// Paths of fields removed because of an error (not to be reported missing too).
    pub(super) removed: Vec<String>,
    /// The document of the cell being built.
    pub(super) root: Node,
}

/// A participant after its template was applied.
pub(super) struct Resolved {
    pub(super) network: Option<Spanned<String>>,
    /// Profile overrides in the order they apply (template's, then own), with field paths.
    pub(super) overrides: Vec<(Node, String)>,
    pub(super) firewall: Vec<(Node, String)>,
    pub(super) site: Option<Spanned<String>>,
    pub(super) ice_restart: Option<bool>,
    pub(super) jitter_buffer: Option<Spanned<super::raw::RawJitterBuffer>>,
    pub(super) audio: Option<Spanned<super::raw_client::RawAudio>>,
    pub(super) video: Option<Spanned<super::raw_client::RawVideo>>,
    pub(super) ice: Option<Spanned<super::raw_client::RawIce>>,
    pub(super) relay_transports: Option<crate::agent::relay::RelayTransports>,
    pub(super) password: Option<Spanned<String>>,
    pub(super) client_version: Option<Spanned<super::raw_service::VersionText>>,
    pub(super) socket_layer: Option<super::raw::SocketLayer>,
    pub(super) devices: Option<Spanned<super::raw_devices::RawDevices>>,
}

impl Context {
    pub(super) fn push(&mut self, e: ScenarioError) {
        self.errors.push(e);
    }

    /// Keys of a top-level mapping as written in the document.
    pub(super) fn keys_of(&self, section: &str) -> Vec<String> {
        self.root
            .get(section)
            .and_then(Node::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, _)| k.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(super) fn node(&self, id: u64) -> Option<Node> {
        self.root.find_id(id).cloned()
    }

    pub(super) fn opaque_node<S>(&self, o: &Opaque<S>) -> Option<Node> {
        self.node(o.at.id)
    }

    /// Reports a required field as missing unless it was removed for another error.
    pub(super) fn missing(&mut self, mark: &Mark, parent: &str, field: &str, expected: &str) {
        let path = key_path(parent, field);
        if self.removed.contains(&path) {
            return;
        }
        // An unknown field next to it that was taken for this one (`duraton`) says it already.
        let typo = self.errors.iter().any(|e| {
            e.kind == ErrorKind::UnknownField
                && e.suggestion.as_deref() == Some(field)
                && e.path.rsplit_once('.').map_or("", |p| p.0) == parent
        });
        if typo {
            return;
        }
        let what = if parent.is_empty() {
            "the scenario".to_string()
        } else {
            format!("`{parent}`")
        };
        self.push(
            ScenarioError::at(
                ErrorKind::MissingField,
                mark,
                parent,
                format!("missing field `{field}` in {what}"),
            )
            .expected(expected.to_string()),
        );
    }

    fn build(&mut self, matrix: BTreeMap<String, String>) -> Option<Scenario> {
        let (raw, errs) = deserialize_all::<RawScenario>(&self.root, "", MAX_ERRORS);
        for e in errs {
            if let Some(l) = &e.located {
                self.removed.push(l.path.clone());
            }
            let err = ScenarioError::from_de(e, &self.root.mark);
            self.push(err);
        }
        let raw = raw?;
        let doc_mark = self.root.mark.clone();

        let name = match &raw.name {
            Some(n) if n.value.trim().is_empty() => {
                self.push(
                    ScenarioError::at(ErrorKind::BadValue, &n.mark, &n.path, "empty name")
                        .expected("a short name like `lossy-wifi-call`"),
                );
                None
            }
            Some(n) if !self.name_ok("scenario", &n.value, &n.mark, &n.path) => None,
            Some(n) => Some(n.value.clone()),
            None => {
                self.missing(&doc_mark, "", "name", "a short name like `lossy-wifi-call`");
                None
            }
        };
        let duration = match &raw.duration {
            Some(d) if d.value.0 == Dur::ZERO => {
                self.push(
                    ScenarioError::at(
                        ErrorKind::BadValue,
                        &d.mark,
                        &d.path,
                        "a scenario cannot last 0s",
                    )
                    .expected("a duration above zero, like `60s`"),
                );
                None
            }
            Some(d) if !self.duration_ok(d.value.0, &d.mark, &d.path) => None,
            Some(d) => Some(d.value.0),
            None => {
                self.missing(&doc_mark, "", "duration", "a duration like `60s`");
                None
            }
        };

        let mut kb = Vec::new();
        for id in raw.kb.iter().flatten() {
            if kb_catalog::is_known(&id.value) {
                kb.push(id.value.clone());
            } else {
                let ids: Vec<&str> = kb_catalog::catalog().iter().map(|e| e.0).collect();
                self.push(
                    ScenarioError::at(
                        ErrorKind::UnknownName,
                        &id.mark,
                        &id.path,
                        format!("unknown KB catalog ID `{}`", id.value),
                    )
                    .expected("an ID from shared/kb/CATALOG.md, like `NET-BANDWIDTH`")
                    .found(format!("`{}`", id.value))
                    .suggest(nearest(&id.value, ids)),
                );
            }
        }

        // Names of what the file defines, each within the length limit.
        let defined = [
            ("profile", raw.profiles.as_ref().map(|m| keys(&m.0))),
            ("template", raw.templates.as_ref().map(|m| keys(&m.0))),
            ("site", raw.sites.as_ref().map(|m| keys(&m.0))),
            (
                "participant",
                raw.participants.as_ref().map(|m| keys(&m.value.0)),
            ),
        ];
        for (what, names) in defined {
            for k in names.into_iter().flatten() {
                self.name_ok(what, &k.value, &k.mark, &k.path);
            }
        }

        // Profiles defined in the file.
        let mut inline_profiles: Vec<(String, Node)> = Vec::new();
        for (k, body) in raw.profiles.iter().flat_map(|m| m.0.iter()) {
            if let Some(n) = self.opaque_node(body) {
                inline_profiles.push((k.value.clone(), n));
            }
        }

        // Sites.
        let mut sites: Vec<Site> = Vec::new();
        for (k, s) in raw.sites.iter().flat_map(|m| m.0.iter()) {
            let shared = match &s.value.shared {
                Some(p) => {
                    let over: Vec<(Node, String)> = s
                        .value
                        .overrides
                        .as_ref()
                        .and_then(|o| self.opaque_node(o).map(|n| (n, o.at.path.clone())))
                        .into_iter()
                        .collect();
                    let lp = self.resolve_profile(p, &over, &inline_profiles);
                    if let Some(lp) = &lp {
                        let how = format!("as site `{}`'s shared link", k.value);
                        self.check_site_profile(lp, &p.value, &p.mark, &p.path, &how);
                    }
                    lp.map(|lp| (p.value.clone(), lp))
                }
                None => {
                    if let Some(o) = &s.value.overrides {
                        self.push(
                            ScenarioError::at(
                                ErrorKind::MissingField,
                                &o.at.mark,
                                &o.at.path,
                                format!("site `{}` has `overrides` but no `shared` profile to apply them to", k.value),
                            )
                            .expected("`shared: PROFILE` beside `overrides`, or no `overrides`"),
                        );
                    }
                    None
                }
            };
            // A NAT: every mistake in it at its own field.
            let nat = s.value.nat.as_ref().and_then(|o| {
                let node = self.opaque_node(o)?;
                let (nat, errs) = deserialize_all::<NatConfig>(&node, &o.at.path, MAX_ERRORS);
                for e in errs {
                    self.push(ScenarioError::from_de(e, &node.mark));
                }
                nat
            });
            sites.push(Site {
                name: k.value.clone(),
                shared,
                nat,
            });
        }

        // Participants.
        let mut participants = Vec::new();
        let templates = raw.templates.clone().unwrap_or_default();
        let site_keys: Vec<Spanned<String>> = raw
            .sites
            .iter()
            .flat_map(|m| m.0.iter().map(|(k, _)| k.clone()))
            .collect();
        self.check_reserved(
            raw.participants.as_ref().map(|p| &p.value),
            Some(&site_keys),
            raw.templates.as_ref(),
        );
        let setup = self.service_setup(raw.service.as_ref());
        match &raw.participants {
            None => self.missing(
                &doc_mark,
                "",
                "participants",
                "participants by name, like `alice: { network: wired-lan }`",
            ),
            Some(ps) if ps.value.0.is_empty() => self.push(
                ScenarioError::at(ErrorKind::BadValue, &ps.mark, &ps.path, "no participants")
                    .expected("at least one participant, like `alice: { network: wired-lan }`"),
            ),
            Some(ps) => {
                for (k, p) in &ps.value.0 {
                    if let Some(part) =
                        self.participant(k, p, &templates, &inline_profiles, &sites, &setup)
                    {
                        participants.push(part);
                    }
                }
            }
        }
        // Names as written, including entries dropped for an error of their own, so that a
        // mistake in `bob:` is not reported again at every call to bob.
        let names = self.keys_of("participants");
        if participants.iter().any(|p| p.site == DEFAULT_SITE)
            && !sites.iter().any(|s| s.name == DEFAULT_SITE)
        {
            sites.insert(
                0,
                Site {
                    name: DEFAULT_SITE.to_string(),
                    shared: None,
                    nat: None,
                },
            );
        }

        // Calls.
        let mut calls = Vec::new();
        for c in raw.calls.iter().flatten() {
            if let Some(call) = self.call(c, &names, duration) {
                calls.push(call);
            }
        }

        // Timeline.
        let mut timeline = Vec::new();
        let mut site_names = self.keys_of("sites");
        site_names.push(DEFAULT_SITE.to_string());
        // Sites whose shared link a timeline action can act on.
        let shared_sites: Vec<String> = raw
            .sites
            .iter()
            .flat_map(|m| m.0.iter())
            .filter(|(_, site)| site.value.shared.is_some())
            .map(|(k, _)| k.value.clone())
            .collect();
        // Cross-traffic flows started anywhere in the timeline: (link, time, name).
        let flows: Vec<(ActionTarget, Dur, String)> = raw
            .timeline
            .iter()
            .flatten()
            .filter_map(|a| {
                let r = &a.value;
                let target = match (&r.participant, &r.site) {
                    (Some(p), None) => ActionTarget::Participant(p.value.clone()),
                    (None, Some(s)) => ActionTarget::Site(s.value.clone()),
                    _ => return None,
                };
                let node = self.opaque_node(r.cross_traffic.as_ref()?)?;
                let name = node.get("name")?.as_str()?.to_string();
                Some((target, r.at.as_ref()?.value.0, name))
            })
            .collect();
        let mut service_checks = Vec::new();
        for a in raw.timeline.iter().flatten() {
            if let Some(c) = self.contact_change(a, &names) {
                service_checks.extend(c);
                continue;
            }
            if a.value.im.is_some() || a.value.presence_of.is_some() || a.value.publish.is_some() {
                service_checks.extend(self.service_check(a, &names, duration));
                continue;
            }
            self.no_check_fields(a);
            timeline.extend(self.action(
                a,
                &names,
                (&site_names, &shared_sites),
                duration,
                &inline_profiles,
                &flows,
            ));
        }
        timeline.sort_by_key(|a: &TimedAction| a.at);
        service_checks.sort_by_key(|c: &ServiceCheck| c.at);

        let thresholds = self.thresholds(raw.thresholds.as_ref());

        if !self.errors.is_empty() {
            return None;
        }
        let empty = super::raw::OrderedMap(Vec::new());
        let raw_participants = raw.participants.as_ref().map_or(&empty, |p| &p.value);
        let service = self.service_spec(setup, &participants, raw_participants);
        if !self.errors.is_empty() {
            return None;
        }
        let mut scenario = Scenario {
            name: name?,
            description: raw.description.clone().unwrap_or_default(),
            kb,
            file: self.file.as_ref().clone(),
            source: self.source.clone(),
            seed: raw.seed,
            duration: duration?,
            media: raw.media.unwrap_or_default(),
            decode: raw.decode.unwrap_or(true),
            sites,
            participants,
            service: service?,
            service_checks,
            expect_scope: self.expect_scope(raw.scope.as_ref())?,
            calls,
            timeline,
            thresholds,
            matrix,
            warnings: Vec::new(),
        };
        let warning = self.check_work(&scenario, &raw);
        if !self.errors.is_empty() {
            return None;
        }
        scenario.warnings = warning
            .map(|w| w.with_source(&self.source))
            .into_iter()
            .collect();
        Some(scenario)
    }

    pub(super) fn thresholds(&mut self, list: Option<&ThresholdList>) -> Vec<Threshold> {
        let mut out = Vec::new();
        for t in list.iter().flat_map(|l| l.0.iter()) {
            if t.value.contains(['<', '>']) {
                match t.value.parse::<Threshold>() {
                    Ok(th) => out.push(th),
                    Err(e) => self.push(
                        ScenarioError::at(ErrorKind::BadValue, &t.mark, &t.path, e.message)
                            .expected(e.expected)
                            .found(e.found)
                            .suggest(e.suggestion),
                    ),
                }
            } else {
                match named_set(t.value.trim()) {
                    Some(set) => out.extend(set),
                    None => self.push(
                        ScenarioError::at(
                            ErrorKind::UnknownName,
                            &t.mark,
                            &t.path,
                            format!("unknown threshold set `{}`", t.value.trim()),
                        )
                        .expected(format!(
                            "a threshold like `loss < 1%`, or {}",
                            one_of(&named_set_names().collect::<Vec<_>>())
                        ))
                        .found(format!("`{}`", t.value))
                        .suggest(nearest(t.value.trim(), named_set_names())),
                    ),
                }
            }
        }
        out
    }
}
