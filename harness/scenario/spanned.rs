//! [`Spanned`]: a value with the place it was written, which only the node deserializer of
//! [`super::de`] can produce (it asks for the position through a struct of a reserved name).

use super::yaml::Mark;
use serde::de::{self, Visitor};
use std::fmt;

/// The struct name by which [`Spanned`] asks this deserializer for the node's position.
pub(super) const SPANNED: &str = "$callharness::scenario::Spanned";
pub(super) const SPANNED_FIELDS: &[&str] = &["$file", "$line", "$column", "$path", "$id", "$value"];

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
