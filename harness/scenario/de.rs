//! A serde `Deserializer` over [`Node`]s that knows where every value was written.
//!
//! Any type with a serde `Deserialize` (the raw scenario types, the emulator's `LinkProfile`, the
//! unit types) can be read from a node tree, and an error says at which node (file, line, column,
//! field path) it arose. [`deserialize_all`] goes further: after an error it removes the node
//! at fault and tries again, so one pass reports every independent mistake of a file. The raw
//! scenario types make every field optional for serde, so removing a bad field never hides the
//! rest of the file; which fields are required is checked afterwards, with positions too.

pub use super::de_error::{nearest, one_of, DeError};
pub use super::spanned::Spanned;
use super::yaml::{plain_scalar, Node, NodeKind, PlainScalar};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

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
        self.invalid_as(super::de_error::plain_expected(&exp.to_string()))
    }

    /// The wrong-type error: `expected` in plain words, found what the node is.
    fn invalid_as<T>(&self, expected: String) -> Result<T, DeError> {
        let found = self.node.describe();
        let mut e = DeError::new(format!("expected {expected}, found {found}"));
        e.found = Some(found);
        e.expected = Some(expected);
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
            _ if fields.is_empty() => self.invalid(&v),
            _ => self.invalid_as(format!(
                "a mapping of fields (`key: value`): {}",
                one_of(fields)
            )),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
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
            NodeKind::Map(entries) => {
                let found = format!("a mapping with {} keys", entries.len());
                let mut e = DeError::new(format!("expected one key, found {found}"));
                e.expected = Some(format!("one key: {}", one_of(variants)));
                e.found = Some(found);
                return Err(self.err(e));
            }
            _ => return self.invalid_as(one_of(variants)),
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

use super::spanned::{SPANNED, SPANNED_FIELDS};

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
            Some(n) => {
                let tag = self.tag.as_str().unwrap_or("");
                let mut e = DeError::new(format!("`{tag}` takes no parameters"));
                e.expected = Some(format!("`{tag}` alone"));
                e.found = Some(n.describe());
                Err(e.locate(n, &self.path))
            }
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        match self.value {
            Some(node) => seed.deserialize(NodeDe {
                node,
                path: &self.path,
            }),
            None => Err(self.needs("VALUE")),
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
            None => Err(self.needs("[...]")),
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
                let fields = fields
                    .iter()
                    .map(|f| format!("{f}: ..."))
                    .collect::<Vec<_>>()
                    .join(", ");
                Err(self.needs(&format!("{{ {fields} }}")))
            }
        }
    }
}

impl Enum<'_> {
    /// A name given alone where it needs parameters (`loss: random`).
    fn needs(&self, what: &str) -> DeError {
        let tag = self.tag.as_str().unwrap_or("");
        let mut e = DeError::new(format!("`{tag}` needs its parameters"));
        e.expected = Some(format!("`{tag}: {what}`"));
        e.found = Some(format!("`{tag}` alone"));
        e.locate(self.tag, &self.path)
    }
}

#[cfg(test)]
#[path = "de_tests.rs"]
mod tests;
