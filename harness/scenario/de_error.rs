//! The error of reading a node tree with serde ([`super::de`]), in a scenario author's words:
//! where it arose, what was expected and found (serde's `u32`, `struct X` and `unit variant`
//! become "a whole number from 0 to 4294967295", "a mapping of fields", "a name alone"), and
//! the nearest valid name for a typo. No serde phrase reaches the user.

use super::yaml::{Mark, Node, NodeKind};
use serde::de;
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
    pub(super) fn new(message: String) -> DeError {
        DeError {
            message,
            expected: None,
            found: None,
            suggestion: None,
            located: None,
        }
    }

    pub(super) fn locate(mut self, node: &Node, path: &str) -> DeError {
        if self.located.is_none() {
            self.located = Some(Box::new(Located {
                mark: node.mark.clone(),
                path: path.to_string(),
                remove_id: node.id,
            }));
            if self.found.is_none() && !matches!(node.kind, NodeKind::Map(_)) {
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

/// serde's name for what a visitor expects, in a scenario author's words: `u32` is "a whole
/// number from 0 to 4294967295", `struct X` is a mapping of fields.
pub fn plain_expected(serde_text: &str) -> String {
    let t = serde_text;
    let range = |max: u64| format!("a whole number from 0 to {max}");
    match t {
        "u8" => range(u8::MAX.into()),
        "u16" => range(u16::MAX.into()),
        "u32" => range(u32::MAX.into()),
        "u64" | "usize" | "u128" => "a whole number, 0 or more".to_string(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".to_string(),
        "f32" | "f64" => "a number".to_string(),
        "a boolean" => "`true` or `false`".to_string(),
        "a character" | "char" => "a single character".to_string(),
        "a sequence" => "a list".to_string(),
        "unit" => "nothing (no value)".to_string(),
        "unit variant" => "a name alone".to_string(),
        "option" | "newtype variant" | "tuple variant" => "a value".to_string(),
        "variant identifier" | "field identifier" => "a name".to_string(),
        _ if t.starts_with("struct ") || t.starts_with("a map") || t == "struct variant" => {
            "a mapping of fields (`key: value`)".to_string()
        }
        _ if t.starts_with("enum ") => "one of the names listed in the schema".to_string(),
        _ if t.starts_with("tuple") => "a list".to_string(),
        _ => t.to_string(),
    }
}

/// What serde found, in a scenario author's words.
fn plain_unexpected(u: &de::Unexpected<'_>) -> String {
    use de::Unexpected as U;
    match u {
        U::Bool(b) => format!("`{b}`"),
        U::Unsigned(n) => format!("`{n}`"),
        U::Signed(n) => format!("`{n}`"),
        U::Float(n) => format!("`{n}`"),
        U::Char(c) => format!("`{c}`"),
        U::Str(s) => format!("`{s}`"),
        U::Bytes(_) => "bytes".to_string(),
        U::Unit => "nothing (null)".to_string(),
        U::Option | U::NewtypeStruct => "a value".to_string(),
        U::Seq => "a list".to_string(),
        U::Map => "a mapping".to_string(),
        U::Enum => "a named value".to_string(),
        U::UnitVariant => "a name alone".to_string(),
        U::NewtypeVariant | U::TupleVariant | U::StructVariant => {
            "a name with parameters".to_string()
        }
        U::Other(o) => o.to_string(),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        // Our own readers pass "message, expected, found" (`units::de_error`).
        let text = msg.to_string();
        match crate::units::split_de_error(&text) {
            Some((message, expected, found)) => {
                let mut e = DeError::new(message.to_string());
                e.expected = Some(expected.to_string());
                e.found = Some(found.to_string());
                e
            }
            None => DeError::new(text),
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let expected = plain_expected(&exp.to_string());
        let found = plain_unexpected(&unexp);
        let mut e = DeError::new(format!("expected {expected}, found {found}"));
        e.expected = Some(expected);
        e.found = Some(found);
        e
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let expected = plain_expected(&exp.to_string());
        let found = plain_unexpected(&unexp);
        let mut e = DeError::new(format!("out of range: expected {expected}, found {found}"));
        e.expected = Some(expected);
        e.found = Some(found);
        e
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        let expected = plain_expected(&exp.to_string());
        let mut e = DeError::new(format!("expected {expected}, found {len} items"));
        e.expected = Some(expected);
        e.found = Some(format!("{len} items"));
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

    fn duplicate_field(field: &'static str) -> Self {
        let mut e = DeError::new(format!("field `{field}` given twice"));
        e.expected = Some(format!("`{field}` once"));
        e
    }
}
