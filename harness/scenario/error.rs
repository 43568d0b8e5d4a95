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

/// Whether a finding stops the scenario from loading.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Severity {
    /// The scenario does not load.
    #[default]
    Error,
    /// The scenario loads; the finding is printed before anything runs (a long run ahead).
    Warning,
}

/// Longest piece of the input (a name, value or key) an error quotes, in characters; a
/// longer one is cut and its length given, so a 1 MB name costs a line, not a megabyte.
pub const MAX_ECHO: usize = 80;
/// Longest text of one part of an error (message, expected, found), in characters.
const MAX_PART: usize = 1000;
/// Longest source line shown under an error, in characters (a window around the column).
const MAX_SOURCE: usize = 120;

/// One mistake in a scenario file (or in a profile or template it uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    pub kind: ErrorKind,
    /// An error (the default) or a warning.
    pub severity: Severity,
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
    /// The source line the error points at (or a window of it), for the caret display.
    pub source_line: Option<String>,
    /// 1-based column of the caret within `source_line`.
    pub caret: usize,
}

impl ScenarioError {
    /// An error at `mark`.
    pub fn at(kind: ErrorKind, mark: &Mark, path: &str, message: impl Into<String>) -> Self {
        ScenarioError {
            kind,
            severity: Severity::Error,
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
            caret: 0,
        }
    }

    /// An error about a whole file (it cannot be read, a folder cannot be listed).
    pub fn io(file: PathBuf, message: impl Into<String>) -> Self {
        ScenarioError {
            kind: ErrorKind::Io,
            severity: Severity::Error,
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
            caret: 0,
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

    /// Makes it a warning.
    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
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
        let mut err = ScenarioError::at(kind, &mark, &path, e.message);
        err.expected = e.expected;
        err.found = e.found;
        err.suggestion = e.suggestion;
        err
    }

    /// Fills `source_line` from the file's text (a window around the column when the line is
    /// long) and shortens every quoted piece of input (see [`ScenarioError::capped`]).
    pub(crate) fn with_source(mut self, text: &str) -> Self {
        if self.line > 0 {
            if let Some(line) = text.lines().nth(self.line - 1) {
                let (window, caret) = window(line, self.column);
                self.source_line = Some(window);
                self.caret = caret;
            }
        }
        self.capped()
    }

    /// The error with every piece of input it quotes (names, values, keys, path segments)
    /// cut to [`MAX_ECHO`] characters, its length given: "`aaaa…` (1000000 bytes)".
    pub(crate) fn capped(mut self) -> Self {
        self.message = cap_text(&self.message);
        self.expected = self.expected.map(|t| cap_text(&t));
        self.found = self.found.map(|t| cap_text(&t));
        self.suggestion = self.suggestion.map(|t| cap_piece(&t));
        self.cell = self.cell.map(|t| cap_text(&t));
        self.path = self
            .path
            .split('.')
            .map(cap_piece)
            .collect::<Vec<_>>()
            .join(".");
        self
    }
}

/// `piece` cut to [`MAX_ECHO`] characters with "…", or as it is.
fn cap_piece(piece: &str) -> String {
    if piece.chars().count() <= MAX_ECHO {
        return piece.to_string();
    }
    let head: String = piece.chars().take(MAX_ECHO).collect();
    format!("{head}… ({} bytes)", piece.len())
}

/// Shortens the quoted spans (between backticks) and the long words of `text`, then the
/// whole, so that no piece of input is echoed at length.
fn cap_text(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        // Odd parts lie between backticks; the last one is closed only if a part follows.
        let quoted = i % 2 == 1;
        let closed = quoted && i + 1 < parts.len();
        if quoted {
            out.push('`');
        }
        if quoted && part.chars().count() > MAX_ECHO {
            out.extend(part.chars().take(MAX_ECHO));
            out.push('…');
            if closed {
                out.push('`');
            }
            out.push_str(&format!(" ({} bytes)", part.len()));
            continue;
        }
        let words: Vec<String> = part.split(' ').map(cap_piece).collect();
        out.push_str(&words.join(" "));
        if closed {
            out.push('`');
        }
    }
    if out.chars().count() <= MAX_PART {
        return out;
    }
    let head: String = out.chars().take(MAX_PART).collect();
    format!("{head}… ({} bytes in all)", out.len())
}

/// A window of `line` around `column` (1-based) at most [`MAX_SOURCE`] characters wide, and
/// the caret's column in it.
fn window(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= MAX_SOURCE {
        return (line.to_string(), column);
    }
    let at = column.saturating_sub(1).min(chars.len());
    let start = at.saturating_sub(MAX_SOURCE / 3);
    let end = (start + MAX_SOURCE).min(chars.len());
    let mut w = String::new();
    if start > 0 {
        w.push('…');
    }
    w.extend(&chars[start..end]);
    if end < chars.len() {
        w.push('…');
    }
    (w, at - start + 1 + usize::from(start > 0))
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        let what = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.line > 0 {
            write!(f, "{file}:{}:{}: {what}: ", self.line, self.column)?;
        } else {
            write!(f, "{file}: {what}: ")?;
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
            let caret = " ".repeat(self.caret.saturating_sub(1));
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
