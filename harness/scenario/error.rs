//! Errors in scenario files: where (file, line, column, field path), what was expected, what was
//! found, and the nearest valid name for a typo. They print like rustc and ripgrep do:
//!
//! ```text
//! scenarios/x.yaml:7:5: error: unknown field `duraton` in `calls[0]`
//!   |
//! 7 |     duraton: 50s
//!   |     ^
//!   = expected: one of `caller`, `callee`, `at`, `duration`, `expect`, `thresholds`
//!   = found: `duraton`
//!   = help: did you mean `duration`?
//! ```

use super::de::DeError;
use super::yaml::Mark;
use std::fmt;
use std::path::PathBuf;

/// What kind of mistake an error is (for tests and tools; people read the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file could not be read, or a folder could not be listed.
    Io,
    /// Not valid YAML.
    Syntax,
    /// A field that the format does not have.
    UnknownField,
    /// A required field is missing.
    MissingField,
    /// A value of the wrong type or form (bad unit, negative duration, percentage over 100...).
    BadValue,
    /// A name that refers to nothing: profile, participant, site, template, threshold set, KB ID.
    UnknownName,
    /// Fields that contradict each other (two actions in one timeline entry, a call to oneself).
    Conflict,
}

/// One mistake in a scenario file (or in a profile or template it uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub kind: ErrorKind,
    /// The file the mistake is in (a profile or template file when it is there).
    pub file: PathBuf,
    /// 1-based line; 0 when the error concerns the whole file.
    pub line: usize,
    /// 1-based column; 0 when the error concerns the whole file.
    pub column: usize,
    /// Field path, like `calls[0].thresholds[1]`; empty for the document itself.
    pub path: String,
    /// What is wrong, in one line.
    pub message: String,
    pub expected: Option<String>,
    pub found: Option<String>,
    /// The nearest valid name, for a typo.
    pub suggestion: Option<String>,
    /// The matrix cell the error was found in, like `profile=wifi-bad`.
    pub cell: Option<String>,
    /// The source line the error points at, for the caret display.
    pub source_line: Option<String>,
}

impl ScenarioError {
    /// An error at `mark`.
    pub fn at(kind: ErrorKind, mark: &Mark, path: &str, message: impl Into<String>) -> Self {
        ScenarioError {
            kind,
            file: mark.file.as_ref().clone(),
            line: mark.line,
            column: mark.column,
            path: path.to_string(),
            message: message.into(),
            expected: None,
            found: None,
            suggestion: None,
            cell: None,
            source_line: None,
        }
    }

    /// An error about a whole file (it cannot be read, a folder cannot be listed).
    pub fn io(file: PathBuf, message: impl Into<String>) -> Self {
        ScenarioError {
            kind: ErrorKind::Io,
            file,
            line: 0,
            column: 0,
            path: String::new(),
            message: message.into(),
            expected: None,
            found: None,
            suggestion: None,
            cell: None,
            source_line: None,
        }
    }

    /// Sets what was expected.
    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }

    /// Sets what was found.
    pub fn found(mut self, f: impl Into<String>) -> Self {
        self.found = Some(f.into());
        self
    }

    /// Sets the suggestion.
    pub fn suggest(mut self, s: Option<String>) -> Self {
        self.suggestion = s;
        self
    }

    /// Converts a serde error on a node tree.
    pub(crate) fn from_de(e: DeError, fallback: &Mark) -> Self {
        let (mark, path) = match &e.located {
            Some(l) => (l.mark.clone(), l.path.clone()),
            None => (fallback.clone(), String::new()),
        };
        let kind = if e.message.starts_with("unknown field") {
            ErrorKind::UnknownField
        } else if e.message.starts_with("missing field") {
            ErrorKind::MissingField
        } else {
            ErrorKind::BadValue
        };
        let mut err = ScenarioError::at(kind, &mark, &path, e.message.clone());
        err.expected = e.expected;
        err.found = e.found;
        // A unit error from a type we do not own (`invalid percentage "140%": expected ...`):
        // split it into message, expected and found like our own.
        if let Some((head, expected)) = e.message.split_once("\": expected ") {
            if let Some((kind_text, found)) = head
                .strip_prefix("invalid ")
                .and_then(|h| h.split_once(" \""))
            {
                let number = found.trim_end_matches(|c: char| c.is_alphabetic() || c == '%');
                err.message = if found.starts_with('-') {
                    format!("a {kind_text} cannot be negative")
                } else if kind_text == "percentage"
                    && number.parse::<f64>().is_ok_and(|v| v > 100.0)
                {
                    "a percentage cannot be over 100%".to_string()
                } else {
                    format!("invalid {kind_text}")
                };
                err.expected = Some(expected.to_string());
                err.found = Some(format!("`{found}`"));
            }
        }
        err.suggestion = e.suggestion;
        err
    }

    /// Fills `source_line` from the file's text.
    pub(crate) fn with_source(mut self, text: &str) -> Self {
        if self.line > 0 {
            self.source_line = text.lines().nth(self.line - 1).map(str::to_string);
        }
        self
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        if self.line > 0 {
            write!(f, "{file}:{}:{}: error: ", self.line, self.column)?;
        } else {
            write!(f, "{file}: error: ")?;
        }
        f.write_str(&self.message)?;
        if !self.path.is_empty() {
            write!(f, " (at `{}`)", self.path)?;
        }
        if let Some(cell) = &self.cell {
            write!(f, " [matrix cell {cell}]")?;
        }
        if let Some(src) = &self.source_line {
            let n = self.line.to_string();
            let pad = " ".repeat(n.len());
            let caret = " ".repeat(self.column.saturating_sub(1));
            write!(f, "\n{pad} |\n{n} | {src}\n{pad} | {caret}^")?;
        }
        let pad = " ".repeat(self.line.max(1).to_string().len());
        if let Some(e) = &self.expected {
            write!(f, "\n{pad} = expected: {e}")?;
        }
        if let Some(found) = &self.found {
            write!(f, "\n{pad} = found: {found}")?;
        }
        if let Some(s) = &self.suggestion {
            write!(f, "\n{pad} = help: did you mean `{s}`?")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Every error of one or more files, in file order then position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ScenarioErrors(pub Vec<ScenarioError>);

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            writeln!(f, "{e}\n")?;
        }
        let n = self.0.len();
        write!(f, "{n} error{}", if n == 1 { "" } else { "s" })
    }
}

/// Sorts by file, line, column and drops exact repeats (a matrix repeats a file's errors in
/// every cell).
pub(crate) fn tidy(errors: &mut Vec<ScenarioError>) {
    errors.sort_by(|a, b| {
        (&a.file, a.line, a.column, &a.path, &a.message)
            .cmp(&(&b.file, b.line, b.column, &b.path, &b.message))
    });
    // The same mistake at the same place under two paths is one mistake copied (a matrix value
    // written into every participant, a YAML alias).
    let mut seen = std::collections::BTreeSet::new();
    errors.retain(|e| seen.insert((e.file.clone(), e.line, e.column, e.message.clone())));
}
