//! What `callharness run` prints when it is done: one line per scenario with its outcome word
//! (`REPRODUCED`, `HEALTHY`, `NOT REPRODUCED`, `FAILED`, `ERROR`, `NOT RUN`), its own seed, its
//! calls and streams and every unmet expectation; then the files written and the verdict line,
//! which counts the outcomes: `PASS: 12 of 12 scenarios as expected (7 reproduced, 5 healthy)`.
//!
//! On a terminal (and without `NO_COLOR`) passing outcomes are green, failing ones red and
//! scenarios without a result yellow; into a pipe or a file the text is plain.

use crate::report::model::{Outcome, RunReport, ScenarioReport, Verdict};
use crate::report::outcome::{seeds_label, Tally};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Width of the outcome column: the longest word, `NOT REPRODUCED`, and a space.
const MARK_WIDTH: usize = 15;

/// How text is coloured: ANSI colours, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Paint {
    on: bool,
}

impl Paint {
    /// Colours when standard output is a terminal and `NO_COLOR` is unset or empty.
    pub(crate) fn for_stdout() -> Paint {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Paint {
            on: !no_color && std::io::stdout().is_terminal(),
        }
    }

    /// `text` in the colour of `outcome`: green when it passed, yellow without a result, red
    /// otherwise.
    fn outcome(self, outcome: Outcome, text: &str) -> String {
        let code = match outcome {
            o if o.passed() => "32",
            Outcome::Error | Outcome::NotRun => "33",
            _ => "31",
        };
        self.wrap(code, text)
    }

    fn verdict(self, v: Verdict, text: &str) -> String {
        self.wrap(if v == Verdict::Pass { "32" } else { "31" }, text)
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[1;{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// The scenario's outcome as the console marks it, padded to the column.
fn mark(s: &ScenarioReport, paint: Paint) -> String {
    let o = s.outcome();
    let word = format!("{:<MARK_WIDTH$}", o.word().to_uppercase());
    paint.outcome(o, &word)
}

/// The lines about one scenario.
fn scenario_lines(s: &ScenarioReport, paint: Paint) -> Vec<String> {
    let cell = if s.matrix.is_empty() {
        String::new()
    } else {
        format!(
            " [{}]",
            s.matrix
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let cut = if !s.complete && s.error.is_none() {
        "  cut short"
    } else {
        ""
    };
    let pad = " ".repeat(MARK_WIDTH);
    let mut lines = vec![format!(
        "{} {}{cell}  ({}, seed {}){cut}",
        mark(s, paint),
        s.name,
        s.file,
        s.seed
    )];
    if let Some(e) = &s.error {
        lines.push(format!("{pad} {e}"));
    }
    for c in &s.calls {
        let state = match &c.failure {
            Some(f) => format!("failed: {} ({})", f.class, f.message),
            None if c.connected => {
                format!("connected in {:.0} ms", c.setup_ms.unwrap_or_default())
            }
            None => "not connected".to_owned(),
        };
        lines.push(format!("{pad} {} -> {}: {state}", c.caller, c.callee));
        for st in &c.streams {
            lines.push(format!(
                "{pad}   {} -> {} {}: {}",
                st.from,
                st.to,
                st.kind,
                crate::report::summary::stream_line(st)
            ));
        }
        for v in &c.video {
            lines.push(format!(
                "{pad}   {} -> {} video: {}",
                v.from,
                v.to,
                crate::report::summary::video_line(v)
            ));
        }
    }
    for e in s.expectations.iter().filter(|e| !e.met) {
        lines.push(format!(
            "{pad} unmet: {}: expected {}, observed {}",
            e.what, e.expected, e.observed
        ));
    }
    lines
}

/// The run's last line: verdict, outcomes counted, completeness, seeds, wall time.
pub(crate) fn verdict_line(report: &RunReport, paint: Paint) -> String {
    let word = match report.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
    };
    format!(
        "{}: {}{} ({}, {:.1} s)",
        paint.verdict(report.verdict, word),
        Tally::of(report).headline(),
        if report.complete {
            ""
        } else {
            ", run incomplete"
        },
        seeds_label(report),
        report.wall_ms as f64 / 1000.0
    )
}

/// Prints the run's summary (only the verdict line with `quiet`).
pub(crate) fn print_summary(report: &RunReport, written: &[PathBuf], quiet: bool, not_run: usize) {
    let paint = Paint::for_stdout();
    if !quiet {
        for s in &report.scenarios {
            for line in scenario_lines(s, paint) {
                outln!("{line}");
            }
        }
        if not_run > 0 {
            outln!("{not_run} scenario(s) not run (interrupted or timed out)");
        }
        for w in written {
            outln!("wrote {}", w.display());
        }
    }
    outln!("{}", verdict_line(report, paint));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_run;
    use crate::report::model::Expects;

    const PLAIN: Paint = Paint { on: false };

    #[test]
    fn each_scenario_is_marked_with_its_outcome_and_its_own_seed() {
        let mut run = sample_run();
        run.scenarios[1].expects = Some(Expects::Symptom);
        run.scenarios[1].verdict = Verdict::Pass;
        let lines = scenario_lines(&run.scenarios[1], PLAIN);
        assert_eq!(
            lines[0],
            "REPRODUCED      wifi roaming with outage  (scenarios/kb/wifi-roaming.yaml, seed 7)"
        );
        run.scenarios[1].verdict = Verdict::Fail;
        assert!(scenario_lines(&run.scenarios[1], PLAIN)[0].starts_with("NOT REPRODUCED  wifi"));
        assert!(scenario_lines(&run.scenarios[0], PLAIN)[0].starts_with("HEALTHY         clean"));
        let cut = scenario_lines(&run.scenarios[4], PLAIN);
        assert!(
            cut[0].starts_with("FAILED          transatlantic"),
            "{cut:?}"
        );
        assert!(cut[0].ends_with("cut short"), "{cut:?}");
        let colour = Paint { on: true };
        assert!(mark(&run.scenarios[0], colour).starts_with("\x1b[1;32mHEALTHY"));
        assert!(mark(&run.scenarios[1], colour).starts_with("\x1b[1;31mNOT REPRODUCED"));
    }

    #[test]
    fn the_verdict_line_counts_outcomes_and_names_the_seeds() {
        let mut run = sample_run();
        run.scenarios[1].expects = Some(Expects::Symptom);
        run.scenarios[3].error = Some("could not run: bad world".into());
        assert_eq!(
            verdict_line(&run, PLAIN),
            "FAIL: 2 of 5 scenarios as expected (2 healthy, 1 not reproduced, 1 failed, 1 error), \
             run incomplete (seeds 7, 42, 43 and 47, 1.8 s)"
        );
    }
}
