//! A serde `Deserializer` over [`Node`]s that knows where every value was written.
//!
//! Any type with a serde `Deserialize` (the raw scenario types, the emulator's `LinkProfile`, the
//! unit types) can be read from a node tree, and an error says at which node (file, line, column,
//! field path) it arose. [`deserialize_all`] goes further: after an error it removes the node
//! at fault and tries again, so one pass reports every independent mistake of a file. The raw
//! scenario types make every field optional for serde, so removing a bad field never hides the
//! rest of the file; which fields are required is checked afterwards, with positions too.

use super::yaml::{plain_scalar, Mark, Node, NodeKind, PlainScalar};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use std::fmt;

/// Where an error arose.
#[derive(Debug, Clone)]
pub struct Located {
    pub mark: Mark,
    /// Field path, like `calls[0].thresholds[1]`; empty for the document itself.
    pub path: String,
    /// The node to remove before trying again.
    pub remove_id: u64,
}

/// An error from reading a node tree with serde.
#[derive(Debug, Clone)]
pub struct DeError {
    pub message: String,
    pub expected: Option<String>,
    pub found: Option<String>,
    pub suggestion: Option<String>,
    pub located: Option<Box<Located>>,
}

impl DeError {
    fn new(message: String) -> DeError {
        DeError {
            message,
            expected: None,
            found: None,
            suggestion: None,
            located: None,
        }
    }

    fn locate(mut self, node: &Node, path: &str) -> DeError {
        if self.located.is_none() {
            self.located = Some(Box::new(Located {
                mark: node.mark.clone(),
                path: path.to_string(),
                remove_id: node.id,
            }));
            if self.found.is_none() && matches!(node.kind, NodeKind::Scalar { .. }) {
                self.found = Some(node.describe());
            }
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

/// The valid name nearest to `name`, if one is close enough to be a likely typo: within a few
/// edits (transpositions count as one) for its length, or sharing most of its letters in order.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let name = name.to_lowercase();
    let mut best: Option<(usize, f64, &str)> = None;
    for c in candidates {
        let lc = c.to_lowercase();
        let edits = strsim::damerau_levenshtein(&name, &lc);
        let similarity = strsim::jaro_winkler(&name, &lc);
        let close = edits <= (name.chars().count().max(lc.chars().count()) / 3).max(1)
            || similarity >= 0.85;
        if close && best.is_none_or(|b| (edits, -similarity) < (b.0, -b.1)) {
            best = Some((edits, similarity, c));
        }
    }
    best.map(|b| b.2.to_string())
}

/// "one of `a`, `b`, `c`".
pub fn one_of(names: &[&str]) -> String {
    match names {
        [] => "nothing here".to_string(),
        [one] => format!("`{one}`"),
        _ => format!(
            "one of {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        // Unit parsers pass "message\u{1f}expected\u{1f}found" (see raw.rs).
        let text = msg.to_string();
        let mut parts = text.split('\u{1f}');
        let mut e = DeError::new(parts.next().unwrap_or_default().to_string());
        e.expected = parts.next().map(str::to_string);
        e.found = parts.next().map(str::to_string);
        e
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let mut e = DeError::new(format!("expected {exp}, found {unexp}"));
        e.expected = Some(exp.to_string());
        e.found = Some(unexp.to_string());
        e
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let mut e = DeError::new(format!("invalid value: expected {exp}, found {unexp}"));
        e.expected = Some(exp.to_string());
        e.found = Some(unexp.to_string());
        e
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(format!("unknown value `{variant}`"));
        e.expected = Some(one_of(expected));
        e.found = Some(format!("`{variant}`"));
        e.suggestion = nearest(variant, expected.iter().copied());
        e
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::new(format!("unknown field `{field}`"));
        e.expected = Some(one_of(expected));
        e.found = Some(format!("`{field}`"));
        e.suggestion = nearest(field, expected.iter().copied());
        e
    }

    fn missing_field(field: &'static str) -> Self {
        let mut e = DeError::new(format!("missing field `{field}`"));
        e.expected = Some(format!("a field `{field}`"));
        e
    }
}

/// Reads `T` from `node`, whose field path is `path`; the first error wins.
pub fn from_node<T: DeserializeOwned>(node: &Node, path: &str) -> Result<T, DeError> {
    T::deserialize(NodeDe { node, path }).map_err(|e| e.locate(node, path))
}

/// Reads `T` from `node`, removing the node at fault after each error and trying again, so
/// that every independent error is found. Gives up after `max_errors` errors, or when the
/// node at fault is the root itself.
///
/// An error at a node that encloses one already removed is taken for a consequence of the
/// removal and not reported (the node is removed all the same): a required field is now
/// missing (`random: { rate: 140% }` without its `rate`), a one-key map is now empty.
pub fn deserialize_all<T: DeserializeOwned>(
    node: &Node,
    path: &str,
    max_errors: usize,
) -> (Option<T>, Vec<DeError>) {
    let mut work = node.clone();
    let mut errors = Vec::new();
    let mut removed: Vec<String> = Vec::new();
    loop {
        match from_node::<T>(&work, path) {
            Ok(v) => return (Some(v), errors),
            Err(e) => {
                let Some((id, at)) = e.located.as_ref().map(|l| (l.remove_id, l.path.clone()))
                else {
                    errors.push(e);
                    return (None, errors);
                };
                if !removed.iter().any(|r| encloses(&at, r)) {
                    errors.push(e);
                }
                if id == work.id || !work.remove_id(id) || errors.len() >= max_errors {
                    return (None, errors);
                }
                removed.push(at);
            }
        }
    }
}

/// Whether field path `inner` lies strictly inside field path `outer`.
fn encloses(outer: &str, inner: &str) -> bool {
    if outer.is_empty() {
        return !inner.is_empty();
    }
    inner
        .strip_prefix(outer)
        .is_some_and(|rest| rest.starts_with(['.', '[']))
}

/// Child path of a mapping key.
pub fn key_path(parent: &str, key: &str) -> String {
    let key = if key.is_empty() || key.contains(['.', ' ', '[', ']']) {
        format!("\"{key}\"")
    } else {
        key.to_string()
    };
    if parent.is_empty() {
        key
    } else {
        format!("{parent}.{key}")
    }
}

/// Child path of a list element.
pub fn index_path(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

struct NodeDe<'a> {
    node: &'a Node,
    path: &'a str,
}

impl<'a> NodeDe<'a> {
    fn err(&self, e: DeError) -> DeError {
        e.locate(self.node, self.path)
    }

    fn invalid<T>(&self, exp: &dyn de::Expected) -> Result<T, DeError> {
        let unexp = match &self.node.kind {
            NodeKind::Null => de::Unexpected::Unit,
            NodeKind::Scalar { text, .. } => de::Unexpected::Str(text),
            NodeKind::Seq(_) => de::Unexpected::Seq,
            NodeKind::Map(_) => de::Unexpected::Map,
        };
        let mut e = <DeError as de::Error>::invalid_type(unexp, exp);
        let exp = exp.to_string();
        // serde names a struct by its Rust name; a person wrote a YAML mapping.
        let exp = if exp.starts_with("struct ") || exp.starts_with("a map") {
            "a mapping of fields (`key: value`)".to_string()
        } else {
            exp
        };
        e.found = Some(self.node.describe());
        e.expected = Some(exp.clone());
        e.message = format!("expected {exp}, found {}", self.node.describe());
        Err(self.err(e))
    }

    fn scalar(&self) -> Option<(&'a str, bool)> {
        match &self.node.kind {
            NodeKind::Scalar { text, plain } => Some((text, *plain)),
            _ => None,
        }
    }
}

macro_rules! forward_to_any {
    ($($m:ident)*) => {$(
        fn $m<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
            self.deserialize_any(v)
        }
    )*};
}

impl<'de, 'a> de::Deserializer<'de> for NodeDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = match &self.node.kind {
            NodeKind::Null => v.visit_unit(),
            NodeKind::Scalar { text, plain: false } => v.visit_str(text),
            NodeKind::Scalar { text, plain: true } => match plain_scalar(text) {
                PlainScalar::Null => v.visit_unit(),
                PlainScalar::Bool(b) => v.visit_bool(b),
                PlainScalar::Int(i) => v.visit_i64(i),
                PlainScalar::UInt(u) => v.visit_u64(u),
                PlainScalar::Float(f) => v.visit_f64(f),
                PlainScalar::Str => v.visit_str(text),
            },
            NodeKind::Seq(items) => v.visit_seq(Seq {
                items: items.iter(),
                path: self.path,
                index: 0,
            }),
            NodeKind::Map(entries) => v.visit_map(Map {
                entries: entries.iter(),
                path: self.path,
                value: None,
                fields: None,
            }),
        };
        r.map_err(|e| self.err(e))
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.scalar() {
            Some((text, _)) => v.visit_str(text).map_err(|e| self.err(e)),
            None => self.invalid(&v),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.node.kind {
            NodeKind::Null => v.visit_none().map_err(|e| self.err(e)),
            _ => {
                let (node, path) = (self.node, self.path);
                v.visit_some(self).map_err(|e| e.locate(node, path))
            }
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match self.node.kind {
            NodeKind::Null => v.visit_unit().map_err(|e| self.err(e)),
            _ => self.invalid(&v),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        let (node, path) = (self.node, self.path);
        v.visit_newtype_struct(self)
            .map_err(|e| e.locate(node, path))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Seq(_) => self.deserialize_any(v),
            _ => self.invalid(&v),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.node.kind {
            NodeKind::Map(_) => self.deserialize_any(v),
            _ => self.invalid(&v),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED {
            let mut pos = SpannedAccess {
                node: self.node,
                path: self.path,
                step: 0,
            };
            return v.visit_map(&mut pos).map_err(|e| self.err(e));
        }
        match &self.node.kind {
            NodeKind::Map(entries) => v
                .visit_map(Map {
                    entries: entries.iter(),
                    path: self.path,
                    value: None,
                    fields: Some(fields),
                })
                .map_err(|e| self.err(e)),
            _ => self.invalid(&v),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        let r = match &self.node.kind {
            NodeKind::Scalar { .. } => v.visit_enum(Enum {
                tag: self.node,
                value: None,
                path: self.path.to_string(),
            }),
            NodeKind::Map(entries) if entries.len() == 1 => {
                let (k, val) = &entries[0];
                v.visit_enum(Enum {
                    tag: k,
                    value: Some(val),
                    path: key_path(self.path, k.as_str().unwrap_or("")),
                })
            }
            _ => return self.invalid(&v),
        };
        r.map_err(|e| self.err(e))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_unit()
    }

    forward_to_any!(deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32
        deserialize_i64 deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32
        deserialize_u64 deserialize_u128 deserialize_f32 deserialize_f64 deserialize_bytes
        deserialize_byte_buf);
}

/// The struct name by which [`Spanned`] asks this deserializer for the node's position.
const SPANNED: &str = "$callharness::scenario::Spanned";
const SPANNED_FIELDS: &[&str] = &["$file", "$line", "$column", "$path", "$id", "$value"];

/// A value with the place it was written: file, line, column, field path and node id (to find
/// the node itself again in the tree). Only `from_node` can produce it.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub mark: Mark,
    pub path: String,
    pub id: u64,
}

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Spanned<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value read by the scenario loader")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Spanned<T>, A::Error> {
                let file: String = m
                    .next_entry::<String, String>()?
                    .map(|e| e.1)
                    .unwrap_or_default();
                let line: u64 = m
                    .next_entry::<String, u64>()?
                    .map(|e| e.1)
                    .unwrap_or_default();
                let column: u64 = m
                    .next_entry::<String, u64>()?
                    .map(|e| e.1)
                    .unwrap_or_default();
                let path: String = m
                    .next_entry::<String, String>()?
                    .map(|e| e.1)
                    .unwrap_or_default();
                let id: u64 = m
                    .next_entry::<String, u64>()?
                    .map(|e| e.1)
                    .unwrap_or_default();
                let Some((_, value)) = m.next_entry::<String, T>()? else {
                    return Err(de::Error::custom("a value read by the scenario loader"));
                };
                Ok(Spanned {
                    value,
                    mark: Mark {
                        file: std::sync::Arc::new(std::path::PathBuf::from(file)),
                        line: line as usize,
                        column: column as usize,
                    },
                    path,
                    id,
                })
            }
        }
        d.deserialize_struct(SPANNED, SPANNED_FIELDS, V(std::marker::PhantomData))
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(g)
    }
}

struct SpannedAccess<'a> {
    node: &'a Node,
    path: &'a str,
    step: usize,
}

impl<'de, 'a> de::MapAccess<'de> for &mut SpannedAccess<'a> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(name) = SPANNED_FIELDS.get(self.step) else {
            return Ok(None);
        };
        let d: de::value::StrDeserializer<'_, DeError> = name.into_deserializer();
        seed.deserialize(d).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let step = self.step;
        self.step += 1;
        let m = &self.node.mark;
        match step {
            0 => seed.deserialize(m.file.display().to_string().into_deserializer()),
            1 => seed.deserialize((m.line as u64).into_deserializer()),
            2 => seed.deserialize((m.column as u64).into_deserializer()),
            3 => seed.deserialize(self.path.to_string().into_deserializer()),
            4 => seed.deserialize(self.node.id.into_deserializer()),
            _ => seed.deserialize(NodeDe {
                node: self.node,
                path: self.path,
            }),
        }
    }
}

struct Seq<'a> {
    items: std::slice::Iter<'a, Node>,
    path: &'a str,
    index: usize,
}

impl<'de, 'a> de::SeqAccess<'de> for Seq<'a> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let path = index_path(self.path, self.index);
        self.index += 1;
        seed.deserialize(NodeDe { node, path: &path })
            .map(Some)
            .map_err(|e| e.locate(node, &path))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    path: &'a str,
    value: Option<(&'a Node, String)>,
    /// The struct's field names: a key outside them is an error even where the type itself
    /// would ignore it (every field the language accepts must do something).
    fields: Option<&'static [&'static str]>,
}

impl<'de, 'a> de::MapAccess<'de> for Map<'a> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((k, v)) = self.entries.next() else {
            return Ok(None);
        };
        let name = k.as_str().unwrap_or("");
        let path = key_path(self.path, name);
        if let Some(fields) = self.fields {
            if !fields.contains(&name) {
                let e = <DeError as de::Error>::unknown_field(name, fields);
                return Err(e.locate(k, &path));
            }
        }
        self.value = Some((v, path.clone()));
        seed.deserialize(NodeDe {
            node: k,
            path: &path,
        })
        .map(Some)
        .map_err(|e| e.locate(k, &path))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((node, path)) = self.value.take() else {
            return Err(<DeError as de::Error>::custom("value without a key"));
        };
        seed.deserialize(NodeDe { node, path: &path })
            .map_err(|e| e.locate(node, &path))
    }
}

struct Enum<'a> {
    tag: &'a Node,
    value: Option<&'a Node>,
    path: String,
}

impl<'de, 'a> de::EnumAccess<'de> for Enum<'a> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self), DeError> {
        let name = self.tag.as_str().unwrap_or("").to_string();
        let d: de::value::StrDeserializer<'_, DeError> = name.as_str().into_deserializer();
        let v = seed
            .deserialize(d)
            .map_err(|e| e.locate(self.tag, &self.path))?;
        Ok((v, self))
    }
}

impl<'de, 'a> de::VariantAccess<'de> for Enum<'a> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.value {
            None => Ok(()),
            Some(n) if matches!(n.kind, NodeKind::Null) => Ok(()),
            Some(n) => Err(<DeError as de::Error>::custom(format!(
                "expected no value after `{}`, found {}",
                self.tag.as_str().unwrap_or(""),
                n.describe()
            ))
            .locate(n, &self.path)),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        match self.value {
            Some(node) => seed.deserialize(NodeDe {
                node,
                path: &self.path,
            }),
            None => Err(<DeError as de::Error>::custom(format!(
                "`{}` needs a value",
                self.tag.as_str().unwrap_or("")
            ))
            .locate(self.tag, &self.path)),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        match self.value {
            Some(node) => de::Deserializer::deserialize_seq(
                NodeDe {
                    node,
                    path: &self.path,
                },
                v,
            ),
            None => {
                Err(<DeError as de::Error>::custom("expected a list").locate(self.tag, &self.path))
            }
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Some(node) => de::Deserializer::deserialize_struct(
                NodeDe {
                    node,
                    path: &self.path,
                },
                "",
                fields,
                v,
            ),
            None => {
                Err(<DeError as de::Error>::custom("expected a mapping")
                    .locate(self.tag, &self.path))
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
        let ok =
            from_node::<Outer>(&node("items: [{ count: 2, kind: connected }]"), "").expect("ok");
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
        let n = node(
            "name: x\nnmae: y\nitems:\n  - { count: -1, kind: ice-faild }\n  - { cuont: 2 }\n",
        );
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
}
