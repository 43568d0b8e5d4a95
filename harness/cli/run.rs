//! The commands' implementations.

use super::{ScenarioArgs, EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use crate::report::model::{RunReport, ScenarioReport, Verdict};
use crate::report::{self, Format};
use crate::scenario::{self, Scenario};
use crate::sim::{self, RunOptions};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::progress::Progress;

/// The seed used when neither the command line nor the scenario gives one.
pub const DEFAULT_SEED: u64 = 1;

/// `callharness run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub scenarios: ScenarioArgs,
    /// Seed for every scenario (overrides a file's `seed:`, not a matrix's seed axis).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Folder to write the reports to.
    #[arg(long, value_name = "DIR", default_value = "reports/latest")]
    pub out: PathBuf,
    /// Run only scenarios whose name, file or KB IDs contain this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Scenarios to run at once (the report is the same whatever the number).
    #[arg(long, short = 'j', default_value_t = 1)]
    pub jobs: usize,
    /// Print only the verdict line (and errors).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Report formats to write (comma-separated: json, junit, md, html; default all).
    #[arg(long, value_delimiter = ',')]
    pub format: Vec<Format>,
    /// Stop after this much wall-clock time (e.g. 30s, 5m); the report is written, incomplete.
    #[arg(long, value_parser = parse_wall_duration)]
    pub timeout: Option<Duration>,
    /// Folder of capacity traces (Mahimahi format) for trace-driven profiles.
    #[arg(long = "traces", value_name = "DIR")]
    pub traces: Vec<PathBuf>,
    /// Write packet captures for Wireshark: a folder per scenario run in DIR
    /// (`<scenario>[--<matrix cell>]--seed<N>`), a pcapng file per participant in it.
    #[arg(long, value_name = "DIR")]
    pub pcap: Option<PathBuf>,
}

fn parse_wall_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("expected a duration like 30s or 5m: {e}"))
}

/// Where the built-in profiles are: `scenarios/profiles` under the current folder, else under
/// the source tree the binary was built from.
pub fn builtin_profile_dirs(extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = extra.to_vec();
    let cwd = PathBuf::from("scenarios/profiles");
    if cwd.is_dir() {
        dirs.push(cwd);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/profiles");
    if built.is_dir() && !dirs.iter().any(|d| same_dir(d, &built)) {
        dirs.push(built);
    }
    dirs
}

/// Where capacity traces are looked for: `--traces`, `$CALLHARNESS_TRACES`, then `../shared/traces`
/// beside the current folder and beside the source tree.
pub fn trace_dirs(extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = extra.to_vec();
    if let Some(env) = std::env::var_os("CALLHARNESS_TRACES") {
        dirs.extend(std::env::split_paths(&env));
    }
    dirs.push(PathBuf::from("../shared/traces"));
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/traces"));
    dirs
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Loads every scenario under `paths`; on errors prints all of them and returns None.
pub(super) fn load_all(args: &ScenarioArgs) -> Option<Vec<Scenario>> {
    load_selected(args, None)
}

/// Whether `s` is selected by `--filter f`: its name, file path or a KB ID contains `f`.
fn selected(s: &Scenario, f: &str) -> bool {
    s.name.contains(f)
        || s.file.display().to_string().contains(f)
        || s.kb.iter().any(|k| k.contains(f))
}

/// As [`load_all`], keeping only what `filter` selects. A file that does not load is reported
/// only when it could be selected (its path or text contains the filter: a name or KB ID that
/// matches must be written in it), so one broken unrelated file does not block a filtered run.
fn load_selected(args: &ScenarioArgs, filter: Option<&str>) -> Option<Vec<Scenario>> {
    let files = match scenario::find_scenarios(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return None;
        }
    };
    if files.is_empty() {
        eprintln!(
            "error: no scenario files (*.yaml, *.yml) under {}",
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return None;
    }
    let dirs = builtin_profile_dirs(&args.profiles);
    let mut all = Vec::new();
    let mut failed = 0;
    for f in &files {
        match scenario::load(f, &dirs) {
            Ok(mut s) => {
                if let Some(sel) = filter {
                    s.retain(|s| selected(s, sel));
                }
                print_warnings(&s);
                all.append(&mut s)
            }
            Err(errs) => {
                let could_match = filter.is_none_or(|sel| {
                    f.display().to_string().contains(sel)
                        || std::fs::read_to_string(f).is_ok_and(|t| t.contains(sel))
                });
                if could_match {
                    failed += 1;
                    eprintln!("{errs}");
                }
            }
        }
    }
    if failed > 0 {
        eprintln!(
            "{failed} of {} scenario file{} had errors; nothing was run",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
        return None;
    }
    Some(all)
}

/// Prints the loader's warnings (a long run ahead) on stderr, each once however many matrix
/// cells repeat it.
fn print_warnings(scenarios: &[Scenario]) {
    let mut seen = std::collections::BTreeSet::new();
    for w in scenarios.iter().flat_map(|s| &s.warnings) {
        let text = w.to_string();
        if seen.insert(text.clone()) {
            eprintln!("{text}\n");
        }
    }
}

/// Builds the world of every scenario without running it (traces looked for in `trace_dirs`),
/// so `validate` refuses what `run` would fail to set up. Prints each failure with its file
/// and matrix cell; returns whether all could be built.
fn check_worlds(all: &[Scenario], trace_dirs: &[PathBuf]) -> bool {
    let mut bad = 0;
    for s in all {
        if let Err(e) = crate::sim::world::check(s, trace_dirs) {
            bad += 1;
            let cell = s.cell_label();
            let cell = if cell.is_empty() {
                String::new()
            } else {
                format!(" [{cell}]")
            };
            eprintln!(
                "error: {}: scenario `{}`{cell}: building the network: {e}",
                s.file.display(),
                s.name
            );
        }
    }
    if bad > 0 {
        eprintln!(
            "{bad} scenario{} could not be set up (`run` reports such a scenario as an error)",
            if bad == 1 { "" } else { "s" }
        );
    }
    bad == 0
}

/// `callharness validate`: loads every file and builds each scenario's world, reporting every
/// error; traces are looked for as `run` looks for them (`--traces`, then the defaults).
pub fn validate(args: &ScenarioArgs, traces: &[PathBuf]) -> i32 {
    match load_all(args) {
        Some(s) if !check_worlds(&s, &trace_dirs(traces)) => EXIT_BAD_INPUT,
        Some(s) => {
            let files: std::collections::BTreeSet<_> = s.iter().map(|s| s.file.clone()).collect();
            outln!(
                "ok: {} file{}, {} scenario{} (matrix cells counted), no errors",
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                s.len(),
                if s.len() == 1 { "" } else { "s" }
            );
            EXIT_OK
        }
        None => EXIT_BAD_INPUT,
    }
}

/// `callharness list`.
pub fn list(args: &ScenarioArgs, json: bool) -> i32 {
    let Some(all) = load_all(args) else {
        return EXIT_BAD_INPUT;
    };
    if json {
        let rows: Vec<serde_json::Value> = all
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.name,
                    "file": s.file.display().to_string(),
                    "kb": s.kb,
                    "matrix": s.matrix,
                    "calls": s.calls.len(),
                    "duration_ms": s.duration.as_nanos() / 1_000_000,
                    "description": s.description,
                    "expects": s.expects(),
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return EXIT_OK;
    }
    let name_w = all
        .iter()
        .map(|s| display_name(s).len())
        .max()
        .unwrap_or(4)
        .max(4);
    outln!("{:<name_w$}  {:>5}  {:>8}  KB", "NAME", "CALLS", "DURATION");
    for s in &all {
        outln!(
            "{:<name_w$}  {:>5}  {:>8}  {}",
            display_name(s),
            s.calls.len(),
            s.duration.to_string(),
            if s.kb.is_empty() {
                "-".to_owned()
            } else {
                s.kb.join(", ")
            }
        );
    }
    EXIT_OK
}

fn display_name(s: &Scenario) -> String {
    if s.matrix.is_empty() {
        s.name.clone()
    } else {
        format!("{} [{}]", s.name, s.cell_label())
    }
}

/// The versions that decide what is measured, for the report.
pub fn versions() -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    v.insert("callharness".into(), env!("CARGO_PKG_VERSION").into());
    v.insert("rtc".into(), "0.21".into());
    v.insert("libopus".into(), opus_version());
    v.insert(
        "emodel".into(),
        "G.107 narrowband, Cole-Rosenbluth Id".into(),
    );
    let table = crate::metrics::emodel::CodecTable::default();
    if let Some(c) = table.get("opus") {
        v.insert(
            "emodel-codec".into(),
            format!(
                "{}{}: Ie {}, Bpl {}, codec delay {} ms ({})",
                c.name,
                if c.assumed { " (assumed)" } else { "" },
                c.ie,
                c.bpl,
                c.delay_ms(),
                c.source
            ),
        );
    }
    v
}

fn opus_version() -> String {
    opus::version().to_owned()
}

/// `callharness run`.
pub fn run(args: RunArgs) -> i32 {
    let started = Instant::now();
    let started_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let Some(all) = load_selected(&args.scenarios, args.filter.as_deref()) else {
        return EXIT_BAD_INPUT;
    };
    if let Some(f) = &args.filter {
        if all.is_empty() {
            eprintln!("error: no scenario matches --filter {f:?}");
            return EXIT_BAD_INPUT;
        }
    }
    // The output folder is this run's until its reports are written: a second run into it
    // stops here, before running anything, instead of mixing its files with this one's.
    let out_folder = match report::set::OutputFolder::lock(&args.out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let run_seed = args.seed.unwrap_or(DEFAULT_SEED);
    let seeds: Vec<u64> = all
        .iter()
        .map(|s| {
            if s.matrix.contains_key("seed") {
                s.seed.unwrap_or(run_seed)
            } else {
                args.seed.or(s.seed).unwrap_or(DEFAULT_SEED)
            }
        })
        .collect();
    // Each run's seed and capture folder (created up front: a bad --pcap fails before anything
    // runs).
    let pcap_dirs: Vec<Option<PathBuf>> = match &args.pcap {
        Some(base) => match sim::capture::run_folders(base, &all, &seeds) {
            Ok(dirs) => dirs.into_iter().map(Some).collect(),
            Err(e) => {
                eprintln!("error: --pcap: {e}");
                return EXIT_BAD_INPUT;
            }
        },
        None => vec![None; all.len()],
    };
    let runs: Vec<(u64, Option<PathBuf>)> = seeds.iter().copied().zip(pcap_dirs).collect();

    let stop = Arc::new(AtomicBool::new(false));
    // The signal that stopped the run (0: none). Ctrl-C (SIGINT), and what CI runners and
    // closing terminals send (SIGTERM, SIGHUP), all stop the run the same way: what was measured
    // is written, marked incomplete, and the exit code is 128 + the signal's number. A second
    // signal exits at once.
    let signalled = Arc::new(AtomicI32::new(0));
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let stop = stop.clone();
        let signalled = signalled.clone();
        match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(mut signals) => {
                std::thread::spawn(move || {
                    for sig in signals.forever() {
                        if signalled.swap(sig, Ordering::SeqCst) != 0 {
                            std::process::exit(128 + sig);
                        }
                        stop.store(true, Ordering::SeqCst);
                    }
                });
            }
            Err(e) => eprintln!("warning: cannot catch interrupts ({e}): Ctrl-C will lose the run"),
        }
    }
    if let Some(limit) = args.timeout {
        let stop = stop.clone();
        std::thread::spawn(move || {
            std::thread::sleep(limit);
            stop.store(true, Ordering::SeqCst);
        });
    }

    let total_sim_ms: u64 = all.iter().map(|s| s.duration.as_nanos() / 1_000_000).sum();
    let progress = Progress::new(all.len() as u64, total_sim_ms, args.quiet);
    let opts = RunOptions {
        trace_dirs: trace_dirs(&args.traces),
        stop: Some(stop.clone()),
        progress_ms: None,
        calls_up: None,
        clips: Some(Arc::new(Mutex::new(BTreeMap::new()))),
        pcap: None,
    };
    let results: Vec<Mutex<Option<Result<ScenarioReport, String>>>> =
        all.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let jobs = args.jobs.clamp(1, all.len().max(1));
    let alive = AtomicUsize::new(jobs);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                run_worker(&all, &runs, &opts, &progress, &results, &next, &stop);
                alive.fetch_sub(1, Ordering::SeqCst);
            });
        }
        progress.drive(&stop, &alive);
    });
    progress.finish();

    let mut scenarios = Vec::new();
    let mut setup_errors = 0;
    let mut not_run = 0;
    // Every selected scenario is in the report: a scenario that could not be set up, or was not
    // started before an interrupt, with its reason as the verdict's cause.
    for (i, slot) in results.into_iter().enumerate() {
        let seed = runs[i].0;
        match slot.into_inner().ok().flatten() {
            Some(Ok(r)) => scenarios.push(r),
            Some(Err(e)) => {
                setup_errors += 1;
                eprintln!("error: {}: {e}", all[i].file.display());
                scenarios.push(crate::sim::measure::error_report(
                    &all[i],
                    seed,
                    format!("could not run: {e}"),
                    true,
                ));
            }
            None => {
                not_run += 1;
                scenarios.push(crate::sim::measure::error_report(
                    &all[i],
                    seed,
                    "not run: the run was stopped before this scenario started".into(),
                    false,
                ));
            }
        }
    }
    let complete = not_run == 0 && scenarios.iter().all(|s| s.complete);
    let verdict =
        if complete && scenarios.iter().all(|s| s.verdict == Verdict::Pass) && setup_errors == 0 {
            Verdict::Pass
        } else {
            Verdict::Fail
        };
    let report = RunReport {
        format: report::json::FORMAT_VERSION,
        seed: run_seed,
        versions: versions(),
        started_at,
        wall_ms: started.elapsed().as_millis() as u64,
        complete,
        verdict,
        scenarios,
    };
    let formats = if args.format.is_empty() {
        Format::ALL.to_vec()
    } else {
        args.format.clone()
    };
    // One commit: the formats asked for and the coverage table, and no file an earlier run
    // wrote in a format this one did not.
    let extra = vec![(
        COVERAGE_FILE.to_string(),
        super::reports::coverage_markdown(&report).into_bytes(),
    )];
    let stale: Vec<&str> = Format::ALL.iter().map(|f| f.file_name()).collect();
    let mut written = match report::write_set(&out_folder, &report, &formats, extra, &stale) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: writing the report: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    drop(out_folder);
    if let Some(dir) = &args.pcap {
        written.push(dir.clone());
    }
    super::console::print_summary(&report, &written, args.quiet, not_run);
    let sig = signalled.load(Ordering::SeqCst);
    if sig != 0 {
        128 + sig
    } else if setup_errors > 0 {
        EXIT_BAD_INPUT
    } else if verdict == Verdict::Pass {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

/// The KB coverage table a run writes beside its reports: which KB conditions its scenarios
/// name, and which of them reproduced.
const COVERAGE_FILE: &str = "coverage.md";

/// One worker of `run --jobs N`: takes the next scenario until none is left or the run stops.
/// `runs` holds each scenario's seed and capture folder.
fn run_worker(
    all: &[Scenario],
    runs: &[(u64, Option<PathBuf>)],
    opts: &RunOptions,
    progress: &Progress,
    results: &[Mutex<Option<Result<ScenarioReport, String>>>],
    next: &AtomicUsize,
    stop: &AtomicBool,
) {
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let i = next.fetch_add(1, Ordering::SeqCst);
        if i >= all.len() {
            break;
        }
        let mut o = opts.clone();
        let (p, c) = progress.slot();
        o.progress_ms = Some(p.clone());
        o.calls_up = Some(c.clone());
        o.pcap = runs[i].1.clone();
        let r = sim::run_scenario(&all[i], runs[i].0, &o).map_err(|e| e.to_string());
        progress.done(&p, all[i].duration.as_nanos() / 1_000_000);
        if let Ok(mut slot) = results[i].lock() {
            *slot = Some(r);
        }
    }
}
