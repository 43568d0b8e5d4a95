//! Errors of the network emulator: each names the profile, host, site or file concerned and what
//! would have been right.

use std::path::PathBuf;

/// Everything that can go wrong building or configuring the emulated network.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// A profile file could not be read.
    #[error("cannot read network profile {path}: {source}")]
    ProfileRead {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A profile file is not valid YAML for a [`crate::net::LinkProfile`].
    #[error("network profile {path}: {message}")]
    ProfileParse {
        /// The file.
        path: PathBuf,
        /// serde_yaml's message, with line and column.
        message: String,
    },
    /// No profile file of that name in any search folder.
    #[error("no network profile named {name:?}: looked for {name}.yaml in {searched}")]
    ProfileNotFound {
        /// The profile name asked for.
        name: String,
        /// The folders searched, comma separated.
        searched: String,
    },
    /// A capacity trace named by a profile was not found.
    #[error("capacity trace {name:?} not found: looked in {searched} (put the Mahimahi trace file in one of these folders or give its path)")]
    TraceNotFound {
        /// The trace name as written in the profile.
        name: String,
        /// The folders searched, comma separated.
        searched: String,
    },
    /// A capacity trace file is not in Mahimahi's format.
    #[error("capacity trace {path}, line {line}: {message} (expected one integer millisecond timestamp per line, non-decreasing, last one above 0)")]
    TraceFormat {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the problem is the whole file).
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// A value in a link configuration is out of range or inconsistent.
    #[error("link {link}: field `{field}`: {message}")]
    InvalidConfig {
        /// Which link or profile ("alice.up", "profile wifi-good").
        link: String,
        /// The field ("loss.bursty.mean_burst").
        field: String,
        /// What was expected.
        message: String,
    },
    /// A cross-traffic flow's settings are out of range or inconsistent.
    #[error("cross-traffic flow `{flow}`: field `{field}`: {message}")]
    InvalidFlow {
        /// The flow's name.
        flow: String,
        /// The field (`size_mix`, `rate`).
        field: String,
        /// What was wrong and what would be right.
        message: String,
    },
    /// The network description refers to something that does not exist or clashes.
    #[error("network: {0}")]
    Topology(String),
    /// A host name that the network does not know.
    #[error("no host named {0:?} in the network")]
    UnknownHost(String),
    /// A site name that the network does not know.
    #[error("no site named {0:?} in the network")]
    UnknownSite(String),
}

impl NetError {
    /// Shorthand for [`NetError::InvalidConfig`].
    pub(crate) fn config(link: &str, field: &str, message: impl Into<String>) -> NetError {
        NetError::InvalidConfig {
            link: link.to_string(),
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// The folders a file was looked for in, for an error message ("a, b", or that none were given).
pub(crate) fn describe_dirs(dirs: &[std::path::PathBuf]) -> String {
    if dirs.is_empty() {
        return "no folders (none were given)".into();
    }
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
