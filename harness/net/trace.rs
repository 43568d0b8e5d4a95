//! Trace-driven capacity in Mahimahi's format, with mm-link's delivery semantics.
//!
//! A trace file holds one integer per line: a time in milliseconds, each line one opportunity
//! to deliver up to [`OPPORTUNITY_BYTES`] bytes. When the trace ends it repeats, shifted by its
//! last timestamp. As in mm-link's `LinkQueue`, one opportunity can carry several small packets
//! (their bytes add up to at most 1500), a large packet can span opportunities, and the unused
//! bytes of an opportunity are lost if no packet is waiting at that time. A packet can use an
//! opportunity whose time is at or after its arrival. (mm-link counts 1504 bytes per
//! opportunity, the tun header included; our packet sizes are IP sizes, so 1500.)
//!
//! Trace files are looked up by name: first in the profile file's folder, then in the folders
//! the caller gives ([`resolve_trace`]); the project ships none and its profiles refer to the
//! traces in `../shared/traces`.
//!
//! ```
//! use callharness::net::trace::CapacityTrace;
//! // "1" alone: one 1500-byte opportunity every millisecond, 12 Mbit/s.
//! let t = CapacityTrace::parse("1\n", "const.trace").unwrap();
//! assert_eq!(t.opportunity_time(0), 1_000_000);
//! assert_eq!(t.opportunity_time(9), 10_000_000);
//! ```

use crate::net::error::NetError;
use crate::net::Nanos;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes one delivery opportunity can carry.
pub const OPPORTUNITY_BYTES: u32 = 1500;

/// A reference to a trace file in a profile: a file name or path, plus the folder of the
/// profile that named it (set by the profile loader, searched first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSpec {
    /// The name or path as written.
    pub name: String,
    /// The folder of the profile file that named it, if known.
    pub profile_dir: Option<PathBuf>,
}

impl TraceSpec {
    /// A trace reference with no profile folder.
    pub fn new(name: &str) -> TraceSpec {
        TraceSpec {
            name: name.to_string(),
            profile_dir: None,
        }
    }
}

impl Serialize for TraceSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

impl schemars::JsonSchema for TraceSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "TraceSpec".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A Mahimahi capacity trace: a file name (looked up beside the profile, in --traces DIR, $CALLHARNESS_TRACES, then ../shared/traces) or a path",
            "examples": ["Verizon-LTE-short.up"]
        })
    }
}

impl<'de> Deserialize<'de> for TraceSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(TraceSpec::new(&String::deserialize(d)?))
    }
}

/// Finds the trace file `name`: as given if it is an absolute path, else in each of
/// `search_dirs` in order. The error names the file and every folder searched.
pub fn resolve_trace(name: &str, search_dirs: &[PathBuf]) -> Result<PathBuf, NetError> {
    let p = Path::new(name);
    if p.is_absolute() {
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
    } else {
        for dir in search_dirs {
            let candidate = dir.join(p);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    let searched = if p.is_absolute() {
        "that absolute path".to_string()
    } else {
        crate::net::error::describe_dirs(search_dirs)
    };
    Err(NetError::TraceNotFound {
        name: name.to_string(),
        searched,
    })
}

/// A parsed capacity trace: opportunity times in ms within one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapacityTrace {
    times_ms: Vec<u64>,
    period_ms: u64,
}

impl CapacityTrace {
    /// Parses a trace's text; `path` is only used in error messages.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<CapacityTrace, NetError> {
        let err = |line, message: String| NetError::TraceFormat {
            path: path.as_ref().to_path_buf(),
            line,
            message,
        };
        let mut times_ms = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let t: u64 = line
                .parse()
                .map_err(|_| err(i + 1, format!("{line:?} is not a whole number of ms")))?;
            if times_ms.last().is_some_and(|&last| t < last) {
                return Err(err(i + 1, format!("{t} is earlier than the line before")));
            }
            times_ms.push(t);
        }
        match times_ms.last() {
            None => Err(err(0, "the file has no opportunities".into())),
            Some(0) => Err(err(
                0,
                "the last timestamp is 0, so the trace cannot repeat".into(),
            )),
            Some(&period_ms) => Ok(CapacityTrace {
                times_ms,
                period_ms,
            }),
        }
    }

    /// Reads and parses a trace file.
    pub fn load(path: &Path) -> Result<CapacityTrace, NetError> {
        let text = std::fs::read_to_string(path).map_err(|e| NetError::TraceFormat {
            path: path.to_path_buf(),
            line: 0,
            message: format!("cannot read: {e}"),
        })?;
        CapacityTrace::parse(&text, path)
    }

    /// Opportunities in one period (lines in the file).
    pub fn len(&self) -> usize {
        self.times_ms.len()
    }

    /// Always false: a parsed trace has at least one opportunity.
    pub fn is_empty(&self) -> bool {
        self.times_ms.is_empty()
    }

    /// The length of one period in ms (the last timestamp).
    pub fn period_ms(&self) -> u64 {
        self.period_ms
    }

    /// Time (ns) of opportunity number `idx`, counting from 0 across repetitions.
    #[inline]
    pub fn opportunity_time(&self, idx: u64) -> Nanos {
        let n = self.times_ms.len() as u64;
        ((idx / n) * self.period_ms + self.times_ms[(idx % n) as usize]) * 1_000_000
    }

    /// The first opportunity at or after `t` (ns).
    fn first_at_or_after(&self, t: Nanos) -> u64 {
        let ms = t.div_ceil(1_000_000);
        let n = self.times_ms.len() as u64;
        let cycle = ms / self.period_ms;
        for c in cycle.saturating_sub(1)..=cycle + 1 {
            let base = c * self.period_ms;
            let pos = self.times_ms.partition_point(|&x| base + x < ms) as u64;
            if pos < n {
                return c * n + pos;
            }
        }
        (cycle + 2) * n
    }

    /// Mean capacity over one period, bits per second.
    pub fn mean_rate_bps(&self) -> f64 {
        self.times_ms.len() as f64 * f64::from(OPPORTUNITY_BYTES) * 8.0 * 1000.0
            / self.period_ms as f64
    }
}

/// Loads each trace file once and shares it between links.
#[derive(Debug, Clone, Default)]
pub struct TraceCache {
    search_dirs: Vec<PathBuf>,
    loaded: Vec<(PathBuf, Arc<CapacityTrace>)>,
}

impl TraceCache {
    /// A cache that looks for trace names in `search_dirs` (after the profile's own folder).
    pub fn new(search_dirs: &[PathBuf]) -> TraceCache {
        TraceCache {
            search_dirs: search_dirs.to_vec(),
            loaded: Vec::new(),
        }
    }

    /// The trace `spec` names, loading it on first use.
    pub fn get(&mut self, spec: &TraceSpec) -> Result<Arc<CapacityTrace>, NetError> {
        let mut dirs: Vec<PathBuf> = spec.profile_dir.iter().cloned().collect();
        dirs.extend(self.search_dirs.iter().cloned());
        let path = resolve_trace(&spec.name, &dirs)?;
        if let Some((_, t)) = self.loaded.iter().find(|(p, _)| *p == path) {
            return Ok(t.clone());
        }
        let trace = Arc::new(CapacityTrace::load(&path)?);
        self.loaded.push((path, trace.clone()));
        Ok(trace)
    }
}

/// mm-link's delivery loop, run ahead in FIFO order: where the next packet's bytes will go.
#[derive(Debug, Clone)]
pub(crate) struct TraceCursor {
    trace: Arc<CapacityTrace>,
    /// The next opportunity no packet has used yet.
    next: u64,
    /// Time and unused bytes of the last opportunity used.
    left_at: Nanos,
    left_bytes: u32,
}

impl TraceCursor {
    pub(crate) fn new(trace: Arc<CapacityTrace>) -> TraceCursor {
        TraceCursor {
            trace,
            next: 0,
            left_at: 0,
            left_bytes: 0,
        }
    }

    /// True if both cursors follow the same loaded trace.
    pub(crate) fn same_trace(&self, other: &TraceCursor) -> bool {
        Arc::ptr_eq(&self.trace, &other.trace)
    }

    /// The time the last byte of a `bytes`-byte packet arriving at `arrival` leaves, given every
    /// earlier packet has been served.
    pub(crate) fn serve(&mut self, arrival: Nanos, bytes: u32) -> Nanos {
        let mut remaining = bytes;
        if self.left_bytes > 0 && self.left_at >= arrival {
            let used = remaining.min(self.left_bytes);
            remaining -= used;
            self.left_bytes -= used;
            if remaining == 0 {
                return self.left_at;
            }
        }
        if self.trace.opportunity_time(self.next) < arrival {
            self.next = self.next.max(self.trace.first_at_or_after(arrival));
        }
        loop {
            let t = self.trace.opportunity_time(self.next);
            self.next += 1;
            let used = remaining.min(OPPORTUNITY_BYTES);
            remaining -= used;
            if remaining == 0 {
                self.left_at = t;
                self.left_bytes = OPPORTUNITY_BYTES - used;
                return t;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::queue::{Bottleneck, QueueLimit};

    pub(crate) fn shared_traces() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces")
    }

    fn verizon() -> Arc<CapacityTrace> {
        TraceCache::new(&[shared_traces()])
            .get(&TraceSpec::new("Verizon-LTE-short.down"))
            .unwrap()
    }

    #[test]
    fn replay_delivers_exactly_the_traces_opportunities() {
        // A queue that always has 1500-byte packets waiting uses every opportunity once, in
        // order, so departure i is opportunity i, across the wrap into the second period.
        let trace = verizon();
        let n = trace.len() as u64 + 500;
        let mut q = Bottleneck::trace(
            TraceCursor::new(trace.clone()),
            QueueLimit::Packets(u32::MAX),
            None,
        );
        for i in 0..n {
            assert_eq!(
                q.enqueue(0, 1500),
                Ok(trace.opportunity_time(i)),
                "packet {i}"
            );
        }
        assert_eq!(
            trace.opportunity_time(trace.len() as u64),
            (trace.period_ms() + trace.times_ms[0]) * 1_000_000
        );
    }

    #[test]
    fn small_packets_share_an_opportunity_and_large_ones_span_two() {
        let t = Arc::new(CapacityTrace::parse("10\n20\n30\n", "t").unwrap());
        let mut c = TraceCursor::new(t.clone());
        // Three 500-byte packets fill the 10 ms opportunity; the fourth takes the next one.
        let times: Vec<_> = (0..4).map(|_| c.serve(0, 500) / 1_000_000).collect();
        assert_eq!(times, [10, 10, 10, 20]);
        // 1000 bytes left at 20 ms: a 2000-byte packet uses them and 1000 of the 30 ms one.
        assert_eq!(c.serve(0, 2000) / 1_000_000, 30);
        // An idle gap wastes opportunities: a packet at 41 ms waits for 50 ms (period 30 + 20).
        assert_eq!(c.serve(41_000_000, 100) / 1_000_000, 50);
        // Leftover bytes of an opportunity that passed before arrival are not used.
        assert_eq!(c.serve(51_000_000, 100) / 1_000_000, 60);
    }

    #[test]
    fn constant_trace_is_twelve_megabits() {
        let t = CapacityTrace::parse("1\n", "one").unwrap();
        assert_eq!(t.mean_rate_bps(), 12_000_000.0);
        assert_eq!(t.first_at_or_after(2_500_000), 2);
        assert_eq!(t.opportunity_time(2), 3_000_000);
    }

    #[test]
    fn bad_traces_and_missing_files_say_what_is_wrong() {
        let e = CapacityTrace::parse("5\n3\n", "x.up")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("earlier"), "{e}");
        let e = CapacityTrace::parse("", "x.up").unwrap_err().to_string();
        assert!(e.contains("no opportunities"), "{e}");
        let e = resolve_trace(
            "nope.up",
            &[PathBuf::from("/tmp/a"), PathBuf::from("/tmp/b")],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("nope.up") && e.contains("/tmp/a, /tmp/b"), "{e}");
    }
}
