//! The command line: `run`, `validate`, `list`, `report`, `compare`, `coverage`, `schema`,
//! `completions`.
//!
//! Exit codes: 0 every expectation met (or nothing to judge), 1 some expectation not met (or a
//! regression found by `compare`), 2 bad input (a scenario or report that does not parse, a
//! missing file), 128 + the signal's number when stopped by a signal: 130 Ctrl-C (SIGINT), 143
//! SIGTERM, 129 SIGHUP (the report is still written, marked incomplete).

/// Writes to standard output like `print!`; a closed pipe (`callharness list | head`) ends
/// the output quietly instead of panicking, and the command goes on to its own exit code.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// As [`out!`], with a newline, like `println!`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod console;
mod progress;
mod reports;
mod run;

use clap::{CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

/// Exit code: every expectation met.
pub const EXIT_OK: i32 = 0;
/// Exit code: some expectation not met, or a regression.
pub const EXIT_FAILED: i32 = 1;
/// Exit code: bad input.
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit code: interrupted by Ctrl-C (SIGINT); SIGTERM gives 143 and SIGHUP 129, 128 plus the
/// signal's number, the same way.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Synthetic media calls over emulated networks: reproduce a call failure, prove the fix.
///
/// Agents place real WebRTC calls (ICE, DTLS-SRTP, Opus over RTP/RTCP) across an emulated
/// network in simulated time, measure every stream (loss, jitter, RTT, concealment, MOS) and
/// judge them against the scenario's expectations.
#[derive(Parser, Debug)]
#[command(name = "callharness", version, about, long_about = None)]
#[command(
    after_help = "Examples:\n  callharness run scenarios/examples\n  callharness validate my-ticket.yaml\n  callharness compare reports/baseline/report.json reports/latest/report.json\n  callharness compare reports/latest/report.json --pair net-roaming=net-roaming-fixed"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by commands that read scenarios.
#[derive(clap::Args, Debug, Clone)]
pub struct ScenarioArgs {
    /// Scenario files or folders (every *.yaml under a folder, profiles/ and templates/ skipped).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Extra folder of network profiles, searched before the built-in scenarios/profiles.
    #[arg(long = "profiles", value_name = "DIR")]
    pub profiles: Vec<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run scenarios and write report.json, report.xml (JUnit), report.md and report.html.
    Run(run::RunArgs),
    /// Check scenario files without running them; every error of a file is reported at once.
    Validate {
        #[command(flatten)]
        scenarios: ScenarioArgs,
        /// Folder of capacity traces (Mahimahi format), searched as `run --traces` searches.
        #[arg(long = "traces", value_name = "DIR")]
        traces: Vec<PathBuf>,
    },
    /// List scenarios with their KB IDs, calls and matrix cells.
    List {
        #[command(flatten)]
        scenarios: ScenarioArgs,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Re-render the other report formats from a report.json.
    Report {
        /// The report.json to read.
        report: PathBuf,
        /// Where to write (default: the report's own folder).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Formats to write (comma-separated: json, junit, md, html; default all but json).
        #[arg(long, value_delimiter = ',')]
        format: Vec<crate::report::Format>,
    },
    /// Compare two report.json files, outcomes first, then metrics; exit 1 on a regression (a
    /// verdict from pass to fail, a call outcome worse, a metric worse beyond its tolerance).
    ///
    /// With --pair, compare two scenarios by name whatever they are called; without NEW, the two
    /// scenarios of each pair come from OLD (a repro beside its fix).
    Compare {
        /// The old (baseline) report.json.
        old: PathBuf,
        /// The new report.json; without it, --pair compares scenarios within OLD.
        new: Option<PathBuf>,
        /// Compare OLD's scenario OLD_NAME with NEW's NEW_NAME (repeatable). A name is a
        /// scenario's name (matrix cells matched cell by cell) or `name [param=value]`.
        #[arg(long = "pair", value_name = "OLD_NAME=NEW_NAME", value_parser = parse_pair)]
        pair: Vec<(String, String)>,
        /// Tolerated loss increase, percentage points.
        #[arg(long, default_value_t = 0.5)]
        loss_pct: f64,
        /// Tolerated jitter increase, ms.
        #[arg(long, default_value_t = 5.0)]
        jitter_ms: f64,
        /// Tolerated RTT increase, ms.
        #[arg(long, default_value_t = 10.0)]
        rtt_ms: f64,
        /// Tolerated MOS decrease.
        #[arg(long, default_value_t = 0.1)]
        mos: f64,
        /// Tolerated setup time increase, ms.
        #[arg(long, default_value_t = 100.0)]
        setup_ms: f64,
        /// Print Markdown instead of a text table.
        #[arg(long)]
        markdown: bool,
    },
    /// KB coverage: per catalog condition, its symptom (reproduced, not reproduced, not
    /// expressible yet...) and its fix (healthy, failed...), with --report from a run.
    Coverage {
        /// Scenario files or folders.
        #[arg(value_name = "PATH", default_value = "scenarios")]
        paths: Vec<PathBuf>,
        /// A report.json whose verdicts tell which conditions reproduce.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Print the JSON Schema of the scenario format (point your editor's YAML plugin at it).
    Schema,
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `OLD_NAME=NEW_NAME` for `compare --pair`: both names non-empty, split at the first `=`.
fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((a, b)) if !a.trim().is_empty() && !b.trim().is_empty() => {
            Ok((a.trim().to_string(), b.trim().to_string()))
        }
        _ => Err(format!(
            "expected OLD_NAME=NEW_NAME (two scenario names), like net-roaming=net-roaming-fixed; found `{s}`"
        )),
    }
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate { scenarios, traces } => run::validate(&scenarios, &traces),
        Command::List { scenarios, json } => run::list(&scenarios, json),
        Command::Report {
            report,
            out,
            format,
        } => reports::rerender(&report, out, format),
        Command::Compare {
            old,
            new,
            pair,
            loss_pct,
            jitter_ms,
            rtt_ms,
            mos,
            setup_ms,
            markdown,
        } => {
            let tol = crate::report::compare::Tolerances {
                loss_pct,
                jitter_ms,
                rtt_ms,
                mos,
                setup_ms,
                ..Default::default()
            };
            reports::compare(&old, new.as_deref(), &pair, &tol, markdown)
        }
        Command::Coverage { paths, report } => reports::coverage(&paths, report.as_deref()),
        Command::Schema => {
            match serde_json::to_string_pretty(&crate::scenario::json_schema()) {
                Ok(s) => outln!("{s}"),
                Err(e) => {
                    eprintln!("error: {e}");
                    return EXIT_BAD_INPUT;
                }
            }
            EXIT_OK
        }
        Command::Completions { shell } => {
            // Into memory first: the generator panics when its writer fails.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "callharness", &mut script);
            out!("{}", String::from_utf8_lossy(&script));
            EXIT_OK
        }
    }
}
