//! Loading named network profiles (`scenarios/profiles/*.yaml`).
//!
//! A profile file is one [`LinkProfile`] in YAML. Loading it checks every field, names the
//! profile after its file if it has no `name`, and records the file's folder so trace files it
//! names are looked for there first.
//!
//! ```
//! use callharness::net::profiles::{find_profile, profile_names};
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/profiles");
//! # if !dir.is_dir() { return; }
//! let p = find_profile("clean", &[dir.clone()]).unwrap();
//! assert_eq!(p.up_config().delay.unwrap().to_string(), "10ms");
//! assert!(profile_names(&dir).unwrap().contains(&"wifi-roaming".to_string()));
//! ```

use crate::net::config::{DirectionConfig, LinkProfile};
use crate::net::error::NetError;
use std::path::{Path, PathBuf};

/// Reads, parses and validates the profile file at `path`.
pub fn load_profile(path: &Path) -> Result<LinkProfile, NetError> {
    let text = std::fs::read_to_string(path).map_err(|source| NetError::ProfileRead {
        path: path.to_path_buf(),
        source,
    })?;
    let mut p: LinkProfile = serde_yaml::from_str(&text).map_err(|e| NetError::ProfileParse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if p.name.is_empty() {
        p.name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    let dir = path.parent().map(Path::to_path_buf);
    set_trace_dir(&mut p, dir.as_deref());
    p.source = Some(path.to_path_buf());
    p.validate()?;
    Ok(p)
}

/// Finds the profile `name` (file `name.yaml` or `name.yml`) in the first of `search_dirs`
/// that has it.
pub fn find_profile(name: &str, search_dirs: &[PathBuf]) -> Result<LinkProfile, NetError> {
    for dir in search_dirs {
        for ext in ["yaml", "yml"] {
            let path = dir.join(format!("{name}.{ext}"));
            if path.is_file() {
                return load_profile(&path);
            }
        }
    }
    Err(NetError::ProfileNotFound {
        name: name.to_string(),
        searched: crate::net::error::describe_dirs(search_dirs),
    })
}

/// The names of the profiles in `dir`, sorted.
pub fn profile_names(dir: &Path) -> Result<Vec<String>, NetError> {
    let entries = std::fs::read_dir(dir).map_err(|source| NetError::ProfileRead {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

/// Records `dir` as the folder to search first for every trace the profile names.
fn set_trace_dir(p: &mut LinkProfile, dir: Option<&Path>) {
    let set = |c: &mut Option<DirectionConfig>| {
        if let Some(spec) = c.as_mut().and_then(|c| c.trace.as_mut()) {
            spec.profile_dir = dir.map(Path::to_path_buf);
        }
    };
    set(&mut p.both);
    set(&mut p.up);
    set(&mut p.down);
    for e in &mut p.schedule {
        if let Some(s) = &mut e.set {
            set(&mut s.both);
            set(&mut s.up);
            set(&mut s.down);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::link::{Link, PacketMeta, Transmit};
    use crate::net::trace::TraceCache;

    fn profiles_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/profiles")
    }

    fn shared_traces() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces")
    }

    #[test]
    fn every_profile_loads_and_builds_links_in_both_directions() {
        let names = profile_names(&profiles_dir()).unwrap();
        let wanted = [
            "wired-lan",
            "wifi-good",
            "wifi-congested",
            "wifi-roaming",
            "vpn-ipsec",
            "vpn-tls-tcp",
            "home-office-dsl",
            "throttled-256k",
            "throttled-64k",
            "lte",
            "3g",
            "satellite",
            "clean",
            "lossy-5pct",
        ];
        for w in wanted {
            assert!(names.iter().any(|n| n == w), "missing profile {w}");
        }
        let mut traces = TraceCache::new(&[shared_traces()]);
        for name in names {
            let p = find_profile(&name, &[profiles_dir()]).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(p.name, name, "the name inside {name}.yaml");
            assert!(!p.description.is_empty(), "{name} has no description");
            for cfg in [p.up_config(), p.down_config()] {
                let mut l = Link::with_traces(&cfg, 1, &mut traces)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
                // A 100-byte packet every 20 ms (40 kbit/s, a low-rate voice stream) for 10 s:
                // every profile, even throttled-64k, must carry most of it.
                let ok = (0..500)
                    .filter(|i| {
                        matches!(
                            l.transmit(i * 20_000_000, &PacketMeta { size: 100 }),
                            Transmit::Delivered { .. }
                        )
                    })
                    .count();
                assert!(ok > 400, "{name}: only {ok}/500 delivered");
            }
        }
    }

    #[test]
    fn missing_profiles_and_traces_are_explained() {
        let e = find_profile("no-such", &[profiles_dir()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no-such.yaml") && e.contains("profiles"), "{e}");
        let lte = find_profile("lte", &[profiles_dir()]).unwrap();
        // Without the shared traces folder, the trace is looked for only next to the profile.
        let e = Link::with_traces(&lte.up_config(), 1, &mut TraceCache::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Verizon-LTE-short.up") && e.contains("profiles"),
            "{e}"
        );
    }
}
