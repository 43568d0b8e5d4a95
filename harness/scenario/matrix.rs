//! Matrix expansion: one scenario file, run once per combination of parameter values.
//!
//! ```yaml
//! matrix:
//!   profile: [wifi-good, wifi-congested]      # every participant's network
//!   seed: [1, 2, 3]
//!   participants.alice.overrides.up.loss.random.rate: [0%, 1%, 5%]
//! ```
//!
//! gives 2 x 3 x 3 = 18 cells, in the order of nested loops over the keys as written (the first
//! key varies slowest). A key is `profile` (shorthand for `participants.*.network`) or a field
//! path into the scenario (`seed`, `duration`, `participants.NAME.network`, `calls[0].duration`);
//! each cell is the file with those values written in, then checked like any scenario, so a bad
//! value is reported at the matrix entry that put it there.

use super::de::{deserialize_all, nearest, Spanned};
use super::error::{ErrorKind, ScenarioError};
use super::raw::{MatrixValue, OrderedMap};
use super::yaml::{Node, NodeKind};
use std::collections::BTreeMap;

/// At most this many cells; more is almost surely a mistake.
pub const MAX_CELLS: usize = 10_000;

/// One cell: its values by key (text), and the nodes to write in.
#[derive(Debug, Clone)]
pub struct Cell {
    pub values: BTreeMap<String, String>,
    /// Human label, keys in file order: `profile=wifi-good,seed=1`.
    pub label: String,
    writes: Vec<(Target, Node)>,
}

#[derive(Debug, Clone)]
enum Target {
    /// Every participant's `network`.
    AllNetworks,
    /// A field path.
    Path(Vec<Seg>),
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Top-level fields a matrix key may start with.
const TOP_FIELDS: &[&str] = &[
    "name",
    "description",
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
];

/// Reads the `matrix` of `root` and lists its cells; a file without one is a single empty
/// cell. Errors name the matrix entry at fault.
pub fn expand(root: &Node, errors: &mut Vec<ScenarioError>) -> Vec<Cell> {
    let single = vec![Cell {
        values: BTreeMap::new(),
        label: String::new(),
        writes: Vec::new(),
    }];
    let Some(m) = root.get("matrix") else {
        return single;
    };
    let (parsed, errs) = deserialize_all::<OrderedMap<Vec<MatrixValue>>>(m, "matrix", 50);
    let failed = !errs.is_empty();
    errors.extend(errs.into_iter().map(|e| ScenarioError::from_de(e, &m.mark)));
    let Some(parsed) = parsed else {
        return single;
    };
    // (key, what it sets, its values as text and node)
    type Axis = (String, Target, Vec<(String, Node)>);
    let mut axes: Vec<Axis> = Vec::new();
    let mut ok = !failed;
    for (key, values) in &parsed.0 {
        let target = match parse_target(key, root) {
            Ok(t) => t,
            Err(e) => {
                errors.push(*e);
                ok = false;
                continue;
            }
        };
        if values.is_empty() {
            errors.push(
                ScenarioError::at(
                    ErrorKind::BadValue,
                    &key.mark,
                    &key.path,
                    format!("matrix entry `{}` has no values", key.value),
                )
                .expected("a list of one or more values")
                .found("an empty list"),
            );
            ok = false;
            continue;
        }
        let nodes = values
            .iter()
            .filter_map(|v| m.find_id(v.0.id).map(|n| (v.0.value.clone(), n.clone())))
            .collect();
        axes.push((key.value.clone(), target, nodes));
    }
    if !ok {
        return single;
    }
    let count: usize = axes.iter().map(|a| a.2.len()).product();
    if count > MAX_CELLS {
        errors.push(
            ScenarioError::at(ErrorKind::BadValue, &m.mark, "matrix", "matrix too large")
                .expected(format!("at most {MAX_CELLS} cells"))
                .found(format!("{count} cells")),
        );
        return single;
    }
    // Nested loops, first key slowest: cell i picks value (i / stride_k) % len_k for key k.
    let mut cells = Vec::with_capacity(count);
    for i in 0..count {
        let mut rest = i;
        let mut picks = vec![0; axes.len()];
        for (k, axis) in axes.iter().enumerate().rev() {
            picks[k] = rest % axis.2.len();
            rest /= axis.2.len();
        }
        let mut cell = Cell {
            values: BTreeMap::new(),
            label: String::new(),
            writes: Vec::new(),
        };
        let mut label = Vec::new();
        for (k, (key, target, values)) in axes.iter().enumerate() {
            let (text, node) = &values[picks[k]];
            cell.values.insert(key.clone(), text.clone());
            label.push(format!("{key}={text}"));
            cell.writes.push((target.clone(), node.clone()));
        }
        cell.label = label.join(",");
        cells.push(cell);
    }
    cells
}

/// Writes the cell's values into a copy of the document.
pub fn apply(root: &Node, cell: &Cell) -> Node {
    let mut doc = root.clone();
    for (target, value) in &cell.writes {
        match target {
            Target::AllNetworks => {
                if let Some(NodeKind::Map(ps)) = doc.get_mut("participants").map(|p| &mut p.kind) {
                    for (_, p) in ps.iter_mut() {
                        if matches!(p.kind, NodeKind::Map(_)) {
                            p.set("network", value.clone());
                        }
                    }
                }
            }
            Target::Path(segs) => set_path(&mut doc, segs, value.clone()),
        }
    }
    doc
}

/// Sets the node at `segs`, creating mappings on the way.
fn set_path(node: &mut Node, segs: &[Seg], value: Node) {
    let Some((first, rest)) = segs.split_first() else {
        *node = value;
        return;
    };
    match first {
        Seg::Key(k) => {
            if matches!(node.kind, NodeKind::Null | NodeKind::Scalar { .. }) && !rest.is_empty() {
                node.kind = NodeKind::Map(Vec::new());
            }
            if node.get(k).is_none() {
                let mark = value.mark.clone();
                node.set(k, Node::new(NodeKind::Map(Vec::new()), mark));
            }
            if let Some(child) = node.get_mut(k) {
                set_path(child, rest, value);
            }
        }
        Seg::Index(i) => {
            if let NodeKind::Seq(items) = &mut node.kind {
                if let Some(child) = items.get_mut(*i) {
                    set_path(child, rest, value);
                }
            }
        }
    }
}

fn parse_target(key: &Spanned<String>, root: &Node) -> Result<Target, Box<ScenarioError>> {
    let bad = |msg: String| {
        Box::new(ScenarioError::at(
            ErrorKind::BadValue,
            &key.mark,
            &key.path,
            msg,
        ))
    };
    if key.value == "profile" {
        return Ok(Target::AllNetworks);
    }
    let mut segs = Vec::new();
    for part in key.value.split('.') {
        let (name, mut idx) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() {
            let e = bad(format!("bad matrix key `{}`", key.value));
            return Err(Box::new(
                e.expected("`profile`, `seed` or a field path like `participants.alice.network`")
                    .found(format!("`{}`", key.value)),
            ));
        }
        segs.push(Seg::Key(name.to_string()));
        while let Some(r) = idx.strip_prefix('[') {
            let Some(end) = r.find(']') else { break };
            let Ok(i) = r[..end].parse::<usize>() else {
                return Err(bad(format!("bad index in matrix key `{}`", key.value)));
            };
            segs.push(Seg::Index(i));
            idx = &r[end + 1..];
        }
    }
    let Some(Seg::Key(top)) = segs.first() else {
        return Err(bad("empty matrix key".into()));
    };
    let mut candidates = TOP_FIELDS.to_vec();
    candidates.push("profile");
    if !TOP_FIELDS.contains(&top.as_str()) {
        return Err(Box::new(
            ScenarioError::at(
                ErrorKind::UnknownField,
                &key.mark,
                &key.path,
                format!("matrix key `{}` names no field of a scenario", key.value),
            )
            .expected(format!(
                "`profile`, or a path starting with one of {}",
                TOP_FIELDS
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .found(format!("`{top}`"))
            .suggest(nearest(top, candidates)),
        ));
    }
    if let (Some(Seg::Key(t)), Some(Seg::Key(name))) = (segs.first(), segs.get(1)) {
        for (section, what) in [("participants", "participant"), ("sites", "site")] {
            if t == section {
                let names: Vec<&str> = root
                    .get(section)
                    .and_then(Node::as_map)
                    .map(|m| m.iter().filter_map(|(k, _)| k.as_str()).collect())
                    .unwrap_or_default();
                if !names.contains(&name.as_str()) {
                    return Err(Box::new(
                        ScenarioError::at(
                            ErrorKind::UnknownName,
                            &key.mark,
                            &key.path,
                            format!("matrix key `{}`: no {what} named `{name}`", key.value),
                        )
                        .expected(super::de::one_of(&names))
                        .found(format!("`{name}`"))
                        .suggest(nearest(name, names.iter().copied())),
                    ));
                }
            }
        }
    }
    // A list index must exist in the file.
    let mut node = Some(root);
    for s in &segs {
        node = match (node, s) {
            (Some(n), Seg::Key(k)) => n.get(k),
            (Some(n), Seg::Index(i)) => match &n.kind {
                NodeKind::Seq(items) => {
                    if items.get(*i).is_none() {
                        return Err(bad(format!(
                            "matrix key `{}`: index {i} is past the end of the list ({} entries)",
                            key.value,
                            items.len()
                        )));
                    }
                    items.get(*i)
                }
                _ => None,
            },
            (None, _) => None,
        };
    }
    Ok(Target::Path(segs))
}
