//! Finding scenario files in folders and reading them: a file must be a regular file of
//! UTF-8 text of at most [`MAX_FILE_BYTES`]; otherwise the error says where it went wrong
//! (the line and column of the first byte that is not UTF-8).

use super::error::{ErrorKind, ScenarioError};
use super::yaml::Mark;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest scenario, profile or template file read, in bytes (16 MiB; a large scenario has a
/// few hundred kilobytes).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Reads a scenario, profile or template file as text. Not UTF-8: an error at the line and
/// column of the first byte that is not; larger than [`MAX_FILE_BYTES`]: an error too.
pub fn read_text(path: &Path) -> Result<String, Box<ScenarioError>> {
    let io = |m: String| Box::new(ScenarioError::io(path.to_path_buf(), m));
    let file = std::fs::File::open(path).map_err(|e| io(format!("cannot read: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(io(format!(
            "larger than {} MiB: not read (is it a scenario file?)",
            MAX_FILE_BYTES / 1024 / 1024
        )));
    }
    String::from_utf8(bytes).map_err(|e| Box::new(not_utf8(path, e.as_bytes(), e.utf8_error())))
}

/// The error for a file that is not UTF-8, at the first byte that is not.
fn not_utf8(path: &Path, bytes: &[u8], e: std::str::Utf8Error) -> ScenarioError {
    let at = e.valid_up_to();
    // Everything before `at` is valid UTF-8.
    let before = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    let bad: Vec<String> = bytes[at..]
        .iter()
        .take(e.error_len().unwrap_or(1).max(1))
        .map(|b| format!("0x{b:02x}"))
        .collect();
    let utf16 = at == 0 && bytes.len() >= 2 && matches!(bytes[..2], [0xff, 0xfe] | [0xfe, 0xff]);
    let mark = Mark {
        file: Arc::new(path.to_path_buf()),
        line,
        column,
    };
    let mut err = ScenarioError::at(
        ErrorKind::Syntax,
        &mark,
        "",
        format!(
            "not UTF-8 text: byte {} at offset {at} starts no character",
            bad[0]
        ),
    )
    .expected(if utf16 {
        "UTF-8 text (this looks like UTF-16: save the file as UTF-8)".to_string()
    } else {
        "UTF-8 text".to_string()
    })
    .found(format!(
        "byte{} {}",
        if bad.len() == 1 { "" } else { "s" },
        bad.join(" ")
    ));
    // The line as far as it is text, for the caret display.
    let end = bytes[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| at + i);
    let shown = String::from_utf8_lossy(&bytes[line_start..end]).into_owned();
    err = err.with_source(&format!("{}{shown}", "\n".repeat(line - 1)));
    err
}

/// Lists the scenario files at `paths`: a file is taken as it is; a folder gives every
/// `*.yaml`/`*.yml` under it, recursively and sorted, skipping `profiles/` and `templates/`
/// folders (and hidden ones). Only regular files are read (a FIFO, socket or device named
/// `*.yaml` is an error, not a hang); a folder reached twice through symbolic links is walked
/// once (a link loop ends), and a file reached twice is listed once, first occurrence kept.
pub fn find_scenarios(paths: &[PathBuf]) -> Result<Vec<PathBuf>, super::ScenarioErrors> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut visited = std::collections::BTreeSet::new();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                walk(p, &mut found, &mut errors, &mut visited);
                found.sort();
                out.extend(found);
            }
            Ok(m) if m.is_file() => out.push(p.clone()),
            Ok(_) => errors.push(not_regular(p)),
            Err(_) => errors.push(ScenarioError::io(p.clone(), "no such file or folder")),
        }
    }
    if !errors.is_empty() {
        return Err(super::ScenarioErrors(errors));
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    Ok(out)
}

fn not_regular(p: &Path) -> ScenarioError {
    ScenarioError::io(
        p.to_path_buf(),
        "not a regular file (a FIFO, socket or device): not read",
    )
}

fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    errors: &mut Vec<ScenarioError>,
    visited: &mut std::collections::BTreeSet<PathBuf>,
) {
    let canonical = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if !visited.insert(canonical) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(ScenarioError::io(
                dir.to_path_buf(),
                format!("cannot list folder: {e}"),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue; // a dangling link
        };
        if meta.is_dir() {
            if name != "profiles" && name != "templates" && !name.starts_with('.') {
                walk(&path, out, errors, visited);
            }
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            if meta.is_file() {
                out.push(path);
            } else {
                errors.push(not_regular(&path));
            }
        }
    }
}
