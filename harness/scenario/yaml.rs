//! A YAML document as a tree of nodes that remember where they were written.
//!
//! `serde_yaml` reports only the first error and forgets positions once a value is parsed; the
//! scenario loader needs the file, line and column of every node so that it can report every
//! mistake of a file at once, pointing at the place it was made. This file builds that tree from
//! `saphyr-parser`'s events (YAML 1.2, anchors and aliases resolved by copying).

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a node was written: file, 1-based line and 1-based column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub file: Arc<PathBuf>,
    pub line: usize,
    pub column: usize,
}

/// One YAML node with its position. `id` is unique within one parse and survives edits, so a
/// node can be found again after the tree was changed.
#[derive(Debug, Clone)]
pub struct Node {
    pub id: u64,
    pub mark: Mark,
    pub kind: NodeKind,
}

/// What a node holds.
#[derive(Debug, Clone)]
pub enum NodeKind {
    Null,
    /// A scalar's text; `plain` is false for quoted and block scalars (always strings).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Entries in file order.
    Map(Vec<(Node, Node)>),
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub mark: Mark,
    pub message: String,
}

static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Node {
    /// A new node not written anywhere in a file (an inserted default), placed at `mark`.
    pub fn new(kind: NodeKind, mark: Mark) -> Node {
        Node {
            id: next_id(),
            mark,
            kind,
        }
    }

    /// A plain string scalar.
    pub fn string(text: &str, mark: Mark) -> Node {
        Node::new(
            NodeKind::Scalar {
                text: text.to_string(),
                plain: false,
            },
            mark,
        )
    }

    /// The scalar's text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&Vec<(Node, Node)>> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The entries, mutable, if this is a mapping.
    pub fn as_map_mut(&mut self) -> Option<&mut Vec<(Node, Node)>> {
        match &mut self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value under `key`, if this is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The value under `key`, mutable.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut()?
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Sets `key` to `value` in a mapping (replacing an existing entry in place).
    pub fn set(&mut self, key: &str, value: Node) {
        let mark = self.mark.clone();
        if let Some(m) = self.as_map_mut() {
            if let Some(slot) = m.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
                slot.1 = value;
            } else {
                m.push((Node::string(key, mark), value));
            }
        }
    }

    /// Removes the node with `id` (a map entry whose key or value it is, or a list element)
    /// anywhere below this node. Returns whether it was found.
    pub fn remove_id(&mut self, id: u64) -> bool {
        match &mut self.kind {
            NodeKind::Map(m) => {
                if let Some(i) = m.iter().position(|(k, v)| k.id == id || v.id == id) {
                    m.remove(i);
                    return true;
                }
                m.iter_mut().any(|(_, v)| v.remove_id(id))
            }
            NodeKind::Seq(s) => {
                if let Some(i) = s.iter().position(|v| v.id == id) {
                    s.remove(i);
                    return true;
                }
                s.iter_mut().any(|v| v.remove_id(id))
            }
            _ => false,
        }
    }

    /// The node with `id` (this one or any below it, keys included).
    pub fn find_id(&self, id: u64) -> Option<&Node> {
        if self.id == id {
            return Some(self);
        }
        match &self.kind {
            NodeKind::Map(m) => m
                .iter()
                .find_map(|(k, v)| k.find_id(id).or_else(|| v.find_id(id))),
            NodeKind::Seq(s) => s.iter().find_map(|v| v.find_id(id)),
            _ => None,
        }
    }

    /// Whether a node with `id` is this node or below it.
    pub fn contains_id(&self, id: u64) -> bool {
        if self.id == id {
            return true;
        }
        match &self.kind {
            NodeKind::Map(m) => m.iter().any(|(k, v)| k.id == id || v.contains_id(id)),
            NodeKind::Seq(s) => s.iter().any(|v| v.contains_id(id)),
            _ => false,
        }
    }

    /// A short description of what the node is, for "found ..." in messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Null => "nothing (null)".to_string(),
            NodeKind::Scalar { text, .. } => format!("`{text}`"),
            NodeKind::Seq(_) => "a list".to_string(),
            NodeKind::Map(_) => "a mapping".to_string(),
        }
    }

    /// Converts to a `serde_yaml::Value` (positions are lost).
    pub fn to_value(&self) -> serde_yaml::Value {
        use serde_yaml::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Scalar { text, plain } => {
                if *plain {
                    match plain_scalar(text) {
                        PlainScalar::Null => Value::Null,
                        PlainScalar::Bool(b) => Value::Bool(b),
                        PlainScalar::Int(i) => Value::Number(i.into()),
                        PlainScalar::UInt(u) => Value::Number(u.into()),
                        PlainScalar::Float(f) => Value::Number(f.into()),
                        PlainScalar::Str => Value::String(text.clone()),
                    }
                } else {
                    Value::String(text.clone())
                }
            }
            NodeKind::Seq(s) => Value::Sequence(s.iter().map(Node::to_value).collect()),
            NodeKind::Map(m) => Value::Mapping(
                m.iter()
                    .map(|(k, v)| (k.to_value(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

/// How a plain (unquoted) scalar resolves under the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlainScalar {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str,
}

/// Resolves a plain scalar's text (YAML 1.2 core schema).
pub fn plain_scalar(text: &str) -> PlainScalar {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return PlainScalar::Null,
        "true" | "True" | "TRUE" => return PlainScalar::Bool(true),
        "false" | "False" | "FALSE" => return PlainScalar::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return PlainScalar::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return PlainScalar::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return PlainScalar::Float(f64::NAN),
        _ => {}
    }
    let is_int = {
        let body = text.strip_prefix(['-', '+']).unwrap_or(text);
        !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit())
    };
    if is_int {
        if let Ok(u) = text.trim_start_matches('+').parse::<u64>() {
            return PlainScalar::UInt(u);
        }
        if let Ok(i) = text.parse::<i64>() {
            return PlainScalar::Int(i);
        }
    }
    if let Some(h) = text.strip_prefix("0x") {
        if let Ok(u) = u64::from_str_radix(h, 16) {
            return PlainScalar::UInt(u);
        }
    }
    if let Some(o) = text.strip_prefix("0o") {
        if let Ok(u) = u64::from_str_radix(o, 8) {
            return PlainScalar::UInt(u);
        }
    }
    let looks_float = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if looks_float {
        if let Ok(f) = text.parse::<f64>() {
            return PlainScalar::Float(f);
        }
    }
    PlainScalar::Str
}

/// Deepest nesting of collections a file may have (a scenario needs about ten levels).
pub const MAX_DEPTH: usize = 64;
/// Most nodes a file may hold once its aliases are expanded (a large scenario has a few
/// thousand): a few hundred bytes of nested aliases would otherwise expand to gigabytes.
pub const MAX_NODES: usize = 200_000;

/// Nodes in the subtree of `node`, itself included.
fn node_count(node: &Node) -> usize {
    1 + match &node.kind {
        NodeKind::Seq(s) => s.iter().map(node_count).sum(),
        NodeKind::Map(m) => m.iter().map(|(k, v)| node_count(k) + node_count(v)).sum(),
        _ => 0,
    }
}

/// Parses `text` (the contents of `file`) into a node tree. An empty document is a `Null` node.
/// Nesting deeper than [`MAX_DEPTH`] and more than [`MAX_NODES`] nodes after alias expansion
/// are errors, so no input can exhaust the stack or memory.
pub fn parse(text: &str, file: &Arc<PathBuf>) -> Result<Node, SyntaxError> {
    let mark_of = |span: &Span| Mark {
        file: file.clone(),
        line: span.start.line(),
        column: span.start.col() + 1,
    };
    let mut parser = Parser::new_from_str(text);
    // Open collections: (node under construction, pending key for maps, anchor id).
    enum Open {
        Seq(Node, usize),
        Map(Node, Option<Node>, usize),
    }
    let mut stack: Vec<Open> = Vec::new();
    // Anchored nodes with their node counts.
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut nodes = 0usize;
    let mut root: Option<Node> = None;
    let mut documents = 0usize;

    // Attaches a finished node to the innermost open collection, or makes it the root.
    fn attach(stack: &mut [Open], root: &mut Option<Node>, node: Node) -> Result<(), SyntaxError> {
        match stack.last_mut() {
            None => *root = Some(node),
            Some(Open::Seq(s, _)) => {
                if let NodeKind::Seq(v) = &mut s.kind {
                    v.push(node);
                }
            }
            Some(Open::Map(m, pending, _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let NodeKind::Map(v) = &mut m.kind {
                        if let Some(k) = key.as_str() {
                            if v.iter().any(|(x, _)| x.as_str() == Some(k)) {
                                return Err(SyntaxError {
                                    mark: key.mark.clone(),
                                    message: format!("duplicate key `{k}`"),
                                });
                            }
                        }
                        v.push((key, node));
                    }
                }
            },
        }
        Ok(())
    }

    while let Some(ev) = parser.next_event() {
        let (event, span) = ev.map_err(|e| SyntaxError {
            mark: Mark {
                file: file.clone(),
                line: e.marker().line(),
                column: e.marker().col() + 1,
            },
            message: match e.info() {
                // saphyr-parser stops deep flow nesting itself, before our depth check sees it.
                "recursion limit exceeded" => format!("nested more than {MAX_DEPTH} levels deep"),
                info => info.to_string(),
            },
        })?;
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(SyntaxError {
                        mark: mark_of(&span),
                        message: "expected one YAML document, found a second one (`---`)"
                            .to_string(),
                    });
                }
            }
            Event::Scalar(value, style, anchor, _tag) => {
                let plain = matches!(style, ScalarStyle::Plain);
                let kind = if plain && plain_scalar(&value) == PlainScalar::Null {
                    NodeKind::Null
                } else {
                    NodeKind::Scalar {
                        text: value.to_string(),
                        plain,
                    }
                };
                let node = Node::new(kind, mark_of(&span));
                nodes += 1;
                if anchor > 0 {
                    anchors.insert(anchor, (node.clone(), 1));
                }
                attach(&mut stack, &mut root, node)?;
            }
            Event::Alias(id) => {
                let Some((target, size)) = anchors.get(&id) else {
                    return Err(SyntaxError {
                        mark: mark_of(&span),
                        message: "alias to an unknown anchor".to_string(),
                    });
                };
                nodes += size;
                if nodes > MAX_NODES {
                    return Err(SyntaxError {
                        mark: mark_of(&span),
                        message: format!(
                            "aliases expand this file past {MAX_NODES} values (an alias bomb?)"
                        ),
                    });
                }
                let mut copy = target.clone();
                renumber(&mut copy);
                copy.mark = mark_of(&span);
                attach(&mut stack, &mut root, copy)?;
            }
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                return Err(SyntaxError {
                    mark: mark_of(&span),
                    message: format!("nested more than {MAX_DEPTH} levels deep"),
                });
            }
            Event::SequenceStart(anchor, _) => {
                nodes += 1;
                stack.push(Open::Seq(
                    Node::new(NodeKind::Seq(Vec::new()), mark_of(&span)),
                    anchor,
                ))
            }
            Event::MappingStart(anchor, _) => {
                nodes += 1;
                stack.push(Open::Map(
                    Node::new(NodeKind::Map(Vec::new()), mark_of(&span)),
                    None,
                    anchor,
                ))
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match stack.pop() {
                    Some(Open::Seq(n, a)) => (n, a),
                    Some(Open::Map(n, _, a)) => (n, a),
                    None => continue,
                };
                if anchor > 0 {
                    let size = node_count(&node);
                    anchors.insert(anchor, (node.clone(), size));
                }
                attach(&mut stack, &mut root, node)?;
            }
            Event::StreamEnd => break,
            _ => {}
        }
    }
    Ok(root.unwrap_or_else(|| {
        Node::new(
            NodeKind::Null,
            Mark {
                file: file.clone(),
                line: 1,
                column: 1,
            },
        )
    }))
}

/// Gives a copied subtree fresh ids, so that removing one copy leaves the other.
fn renumber(node: &mut Node) {
    node.id = next_id();
    match &mut node.kind {
        NodeKind::Seq(s) => s.iter_mut().for_each(renumber),
        NodeKind::Map(m) => m.iter_mut().for_each(|(k, v)| {
            renumber(k);
            renumber(v);
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Node {
        parse(text, &Arc::new(PathBuf::from("t.yaml"))).expect("parses")
    }

    #[test]
    fn positions_are_one_based_line_and_column() {
        let n = p("name: x\nduration: 60s\nlist:\n  - a\n  - b\n");
        let d = n.get("duration").expect("duration");
        assert_eq!((d.mark.line, d.mark.column), (2, 11));
        let NodeKind::Seq(l) = &n.get("list").expect("list").kind else {
            panic!("list")
        };
        assert_eq!((l[1].mark.line, l[1].mark.column), (5, 5));
    }

    #[test]
    fn scalars_resolve_by_core_schema() {
        assert_eq!(plain_scalar("7"), PlainScalar::UInt(7));
        assert_eq!(plain_scalar("-3"), PlainScalar::Int(-3));
        assert_eq!(plain_scalar("2.5"), PlainScalar::Float(2.5));
        assert_eq!(plain_scalar("true"), PlainScalar::Bool(true));
        assert_eq!(plain_scalar("30ms"), PlainScalar::Str);
        assert_eq!(plain_scalar("~"), PlainScalar::Null);
    }

    #[test]
    fn an_alias_bomb_and_deep_nesting_are_errors_not_exhaustion() {
        let file = Arc::new(PathBuf::from("bomb.yaml"));
        // Nine levels of ten aliases each: 10^9 values once expanded, from about 600 bytes.
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = format!("*a{}", i - 1);
            bomb.push_str(&format!("a{i}: &a{i} [{}]\n", [p.as_str(); 10].join(", ")));
        }
        assert!(bomb.len() < 700);
        let e = parse(&bomb, &file).unwrap_err();
        assert!(e.message.contains("alias bomb"), "{}", e.message);
        assert!(e.mark.line > 1);
        // 40 000 levels of flow and of block nesting: an error at the level past the limit.
        // (saphyr-parser refuses deep flow nesting itself, past its own recursion limit; the
        // message is ours either way.)
        let flow = "[".repeat(40_000) + &"]".repeat(40_000);
        let e = parse(&flow, &file).unwrap_err();
        assert_eq!(e.message, "nested more than 64 levels deep");
        let flow = "[".repeat(65) + &"]".repeat(65);
        let e = parse(&flow, &file).unwrap_err();
        assert!(e.message.contains("nested more than 64"), "{}", e.message);
        let block: String = (0..40_000)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        let e = parse(&block, &file).unwrap_err();
        assert!(e.message.contains("nested more than 64"), "{}", e.message);
        assert_eq!(e.mark.line, 65);
        // Within the limits, aliases still expand.
        let ok = parse("a: &a [1, 2]\nb: *a\n", &file).unwrap();
        // The map, two keys, and the list of two twice.
        assert_eq!(node_count(&ok), 9);
    }

    #[test]
    fn duplicate_keys_and_aliases() {
        let e = parse("a: 1\na: 2\n", &Arc::new(PathBuf::from("t.yaml"))).unwrap_err();
        assert_eq!(e.mark.line, 2);
        assert!(e.message.contains("duplicate key `a`"));
        let n = p("x: &n { k: 1 }\ny: *n\n");
        assert_eq!(
            n.get("y").and_then(|y| y.get("k")).and_then(Node::as_str),
            Some("1")
        );
    }
}
