//! The report set as a unit: one run's files in an output folder, never two runs' mixed.
//!
//! A run holds an exclusive lock on its output folder (`.callharness.lock`, an OS file lock
//! that dies with the process) from before its first scenario until its reports are written,
//! so a second run into the same folder stops at once with a clear error instead of mixing
//! its files with the first's.
//!
//! The files are then committed together: each is written and flushed to a temporary file
//! beside its final name, a journal (`.callharness.commit`) names every rename (and every stale
//! report file of a format this run did not write) before the first rename, the renames run,
//! and the journal goes. A run killed between two renames leaves the journal; whoever takes
//! the lock next finishes the renames before anything else (the temporary files were complete
//! before the journal existed), so the folder always ends up holding one run's set. Temporary
//! files of runs that died before their journal are removed then too.
//!
//! ```
//! # fn demo() -> Result<(), callharness::report::ReportError> {
//! use callharness::report::set::OutputFolder;
//! let dir = tempfile::tempdir().unwrap();
//! let out = OutputFolder::lock(dir.path())?;
//! out.commit(&[("report.json".into(), b"{}".to_vec())], &["report.html"])?;
//! assert!(dir.path().join("report.json").exists());
//! // A second holder is refused while the first holds the folder.
//! assert!(OutputFolder::lock(dir.path()).is_err());
//! # Ok(()) }
//! # demo().unwrap();
//! ```

use super::ReportError;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The lock file's name in the output folder.
pub const LOCK_FILE: &str = ".callharness.lock";
/// The commit journal's name in the output folder.
pub const JOURNAL_FILE: &str = ".callharness.commit";

/// An output folder this process holds: no other run writes into it until this is dropped.
#[derive(Debug)]
pub struct OutputFolder {
    dir: PathBuf,
    /// Holds the OS lock; released when dropped (or when the process dies).
    _lock: File,
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ReportError {
    let path = path.to_path_buf();
    move |source| ReportError::Io {
        action,
        path,
        source,
    }
}

impl OutputFolder {
    /// Creates `dir` when missing and locks it, refusing when another process holds it. Then
    /// finishes a set a killed run left half renamed and removes dead runs' temporary files.
    pub fn lock(dir: &Path) -> Result<OutputFolder, ReportError> {
        fs::create_dir_all(dir).map_err(io("creating folder", dir))?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io("opening", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = fs::read_to_string(&path).unwrap_or_default();
                return Err(ReportError::Busy {
                    dir: dir.to_path_buf(),
                    holder: holder.trim().to_string(),
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io("locking", &path)(e)),
        }
        // Who holds it, for the error a second run prints.
        let me = format!(
            "pid {} since {}",
            std::process::id(),
            humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        );
        file.set_len(0).map_err(io("writing", &path))?;
        file.write_all(me.as_bytes())
            .map_err(io("writing", &path))?;
        let out = OutputFolder {
            dir: dir.to_path_buf(),
            _lock: file,
        };
        out.recover()?;
        Ok(out)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Replaces the set: writes each `(file name, bytes)` and removes each name in `stale`
    /// (reports of formats not written this time, so none of an older run stays beside the
    /// new ones), as one commit. Returns the paths written.
    pub fn commit(
        &self,
        files: &[(String, Vec<u8>)],
        stale: &[&str],
    ) -> Result<Vec<PathBuf>, ReportError> {
        let mut journal = String::new();
        for (name, bytes) in files {
            let tmp = temp_name(name);
            let path = self.dir.join(&tmp);
            if let Err(e) = super::write_synced(&path, bytes) {
                self.remove_temporaries();
                return Err(io("writing", &path)(e));
            }
            journal.push_str(&format!("{tmp}\t{name}\n"));
        }
        for name in stale {
            if !files.iter().any(|(n, _)| n == name) {
                journal.push_str(&format!("-\t{name}\n"));
            }
        }
        super::write_atomically(&self.dir.join(JOURNAL_FILE), journal.as_bytes())?;
        self.replay(&journal)?;
        Ok(files.iter().map(|(n, _)| self.dir.join(n)).collect())
    }

    /// Performs a journal's renames and removals, then removes the journal.
    fn replay(&self, journal: &str) -> Result<(), ReportError> {
        for line in journal.lines() {
            let Some((from, to)) = line.split_once('\t') else {
                continue;
            };
            if !safe_name(to) || (from != "-" && !safe_name(from)) {
                continue; // not a journal we wrote
            }
            let target = self.dir.join(to);
            if from == "-" {
                match fs::remove_file(&target) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(io("removing", &target)(e))
                    }
                    _ => {}
                }
            } else {
                let source = self.dir.join(from);
                if source.exists() {
                    fs::rename(&source, &target).map_err(io("renaming into", &target))?;
                }
            }
        }
        let journal = self.dir.join(JOURNAL_FILE);
        fs::remove_file(&journal).map_err(io("removing", &journal))?;
        // Make the renames durable before the run says it wrote them.
        if let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Finishes a commit a killed run left, then removes temporary files of dead runs (this
    /// process holds the lock, so no live run owns any).
    fn recover(&self) -> Result<(), ReportError> {
        let journal = self.dir.join(JOURNAL_FILE);
        if let Ok(text) = fs::read_to_string(&journal) {
            self.replay(&text)?;
        }
        self.remove_temporaries();
        Ok(())
    }

    fn remove_temporaries(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if is_temporary(&name) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Whether a report set in `dir` was left half written (a run was killed between renames, and
/// no run has taken the folder since).
pub fn unfinished(dir: &Path) -> bool {
    dir.join(JOURNAL_FILE).exists()
}

/// The temporary file a file is written to before its rename (shared with
/// [`super::write_atomically`], so dead runs' leftovers of either are recognised).
pub(super) fn temp_name(name: &str) -> String {
    format!(".{name}.tmp-{}", std::process::id())
}

fn is_temporary(name: &str) -> bool {
    name.starts_with('.')
        && name
            .rsplit_once(".tmp-")
            .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
}

/// A plain file name in the folder (no separators, not `..`), as every journal line we write.
fn safe_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(tag: &str) -> Vec<(String, Vec<u8>)> {
        ["report.json", "report.md"]
            .iter()
            .map(|n| (n.to_string(), format!("{tag} {n}").into_bytes()))
            .collect()
    }

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = OutputFolder::lock(dir.path()).unwrap();
        let err = OutputFolder::lock(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        OutputFolder::lock(dir.path()).expect("free again once dropped");
    }

    #[test]
    fn a_commit_replaces_the_set_and_removes_stale_formats() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutputFolder::lock(dir.path()).unwrap();
        out.commit(&files("old"), &[]).unwrap();
        fs::write(dir.path().join("report.html"), "old html").unwrap();
        out.commit(&files("new"), &["report.html", "report.md"])
            .unwrap();
        let read = |n: &str| fs::read_to_string(dir.path().join(n)).unwrap();
        assert_eq!(read("report.json"), "new report.json");
        assert_eq!(read("report.md"), "new report.md", "written, so not stale");
        assert!(
            !dir.path().join("report.html").exists(),
            "stale format removed"
        );
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.') && n != LOCK_FILE)
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    /// A run killed after its journal and its first rename: the next holder finishes the set,
    /// so the folder holds one run's files, not two runs' mixed.
    #[test]
    fn a_set_left_half_renamed_is_finished_by_the_next_holder() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("report.json"), "old json").unwrap();
        fs::write(d.join("report.md"), "old md").unwrap();
        fs::write(d.join("report.html"), "old html").unwrap();
        // What a killed run (pid 4242) left: both temporaries, its journal, one rename done.
        fs::write(d.join(".report.md.tmp-4242"), "new md").unwrap();
        fs::write(d.join("report.json"), "new json").unwrap();
        fs::write(
            d.join(JOURNAL_FILE),
            ".report.json.tmp-4242\treport.json\n.report.md.tmp-4242\treport.md\n-\treport.html\n",
        )
        .unwrap();
        // And a temporary of a run that died before its journal.
        fs::write(d.join(".report.xml.tmp-999"), "partial").unwrap();
        assert!(unfinished(d));
        let _out = OutputFolder::lock(d).unwrap();
        let read = |n: &str| fs::read_to_string(d.join(n)).unwrap();
        assert_eq!(read("report.json"), "new json");
        assert_eq!(read("report.md"), "new md");
        assert!(!d.join("report.html").exists());
        assert!(
            !d.join(".report.xml.tmp-999").exists(),
            "dead run's temporary"
        );
        assert!(!unfinished(d));
    }

    #[test]
    fn a_journal_cannot_reach_outside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside.txt");
        fs::write(&outside, "keep").unwrap();
        let d = dir.path().join("out");
        fs::create_dir(&d).unwrap();
        fs::write(d.join(JOURNAL_FILE), "-\t../outside.txt\n").unwrap();
        let _out = OutputFolder::lock(&d).unwrap();
        assert!(outside.exists());
    }
}
