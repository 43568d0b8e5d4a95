//! `report.xml`: the run as JUnit XML, for the test viewers of CI systems.
//!
//! One `<testsuite>` per scenario (a matrix cell is its own suite, named `name [param=value]`),
//! one `<testcase>` per expectation (`classname` the scenario's display name, `name` the
//! expectation's `what`), and for an unmet one a `<failure message="expected X, observed Y">`
//! whose text also says how to repeat the run. When the expectation is about a call the service
//! refused, the message ends with the service's code and reason (`(403 Forbidden)`) and the
//! text gives the failure in the client's words and what the harness saw. A scenario that was cut short gets one more test
//! case, `scenario ran to the end`, with an `<error>`, so CI shows it red rather than green-but-
//! partial. Each suite's `<properties>` carry its seed, KB IDs, file, matrix cell, what it
//! `expects` (`symptom` or `healthy`) and its `outcome` (`reproduced`, `healthy`,
//! `not-reproduced`, `failed`, `error`, `not-run`).
//!
//! A scenario that ran to the end also gets a test case that sums it up, named for what it
//! expects so its history stays one line in a CI viewer: `outcome: symptom reproduced` (green:
//! the KB symptom was expected and seen; red with `not reproduced` in its message: it was not)
//! or `outcome: healthy call` (green: healthy; red: `failed`). A reproduced symptom is a passing
//! test case, as its verdict is `pass`; the name says it is the symptom that passed.
//!
//! The document keeps to the strictest of the schemas CI viewers use (the Ant JUnit task's
//! schema as published by Windy Road, which is stricter than Jenkins' `junit-10.xsd`): a bare
//! `<testsuites>` root; every suite with `name`, `timestamp` (no zone), `hostname`, `tests`,
//! `failures`, `errors`, `time`, `id`, `package`, a `<properties>` element and `<system-out>` /
//! `<system-err>`; at most one `<failure>` or `<error>` per case, each with a `type`.
//! `testdata/junit.xsd` states that structure and a test validates against it with `xmllint`.
//!
//! ```
//! # use callharness::report::{junit, fixture};
//! let xml = junit::to_string(&fixture::sample_run());
//! assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>"));
//! ```

use super::model::{Expectation, Expects, FailureReport, RunReport, ScenarioReport};
use super::summary::display_name;
use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;
use std::io;

/// The `hostname` of every suite: the harness reads no environment when rendering, and in
/// simulation mode the "host" is the emulated world anyway. (The schema asks for `localhost` when
/// the host is unknown; a fixed, honest name says more.)
const HOSTNAME: &str = "callharness";

/// The `timestamp` used when the report has no start time (a report with wall-clock fields
/// blanked): the schema requires one.
const NO_TIMESTAMP: &str = "1970-01-01T00:00:00";

/// The report as a JUnit XML document (UTF-8, trailing newline).
pub fn to_string(report: &RunReport) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail; the io::Result is an artefact of the Write trait.
    write_document(&mut w, report).unwrap_or_else(|e| unreachable!("writing to memory: {e}"));
    let mut bytes = w.into_inner();
    bytes.push(b'\n');
    // Every piece written is a &str, so the document is UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|e| unreachable!("XML from &str is UTF-8: {e}"))
}

fn write_document(w: &mut Writer<Vec<u8>>, report: &RunReport) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("testsuites").write_inner_content(|w| {
        for (id, s) in report.scenarios.iter().enumerate() {
            write_suite(w, report, id, s)?;
        }
        Ok(())
    })?;
    Ok(())
}

fn write_suite(
    w: &mut Writer<Vec<u8>>,
    report: &RunReport,
    id: usize,
    s: &ScenarioReport,
) -> io::Result<()> {
    let suite_name = token(&display_name(s), "(unnamed scenario)");
    let summed_up = has_outcome_case(s);
    let failures = s.expectations.iter().filter(|e| !e.met).count()
        + usize::from(summed_up && !s.outcome().passed());
    let errors = usize::from(!s.complete || s.error.is_some());
    let tests = s.expectations.len() + errors + usize::from(summed_up);
    let timestamp = timestamp(&report.started_at);
    let package = token(&s.file, "(no file)");
    w.create_element("testsuite")
        .with_attributes([
            ("name", suite_name.as_str()),
            ("tests", tests.to_string().as_str()),
            ("failures", failures.to_string().as_str()),
            ("errors", errors.to_string().as_str()),
            ("skipped", "0"),
            ("time", seconds(s.wall_ms).as_str()),
            ("timestamp", timestamp.as_str()),
            ("hostname", HOSTNAME),
            ("id", id.to_string().as_str()),
            ("package", package.as_str()),
        ])
        .write_inner_content(|w| {
            write_properties(w, report, s)?;
            if summed_up {
                write_outcome_case(w, s, &suite_name)?;
            }
            for e in &s.expectations {
                write_case(w, s, &suite_name, e)?;
            }
            if s.error.is_some() || !s.complete {
                write_incomplete_case(w, s, &suite_name)?;
            }
            let out = format!(
                "{}\nscenario: {}\nexpects: {}\noutcome: {} ({})\nverdict: {}\nseed: {}\nsimulated duration: {} ms\n",
                clean(&s.description),
                clean(&s.file),
                s.expects().word(),
                s.outcome().word(),
                s.outcome().meaning(),
                super::summary::verdict_word(s.verdict),
                s.seed,
                s.duration_ms
            );
            w.create_element("system-out")
                .write_text_content(BytesText::new(&out))?;
            w.create_element("system-err")
                .write_text_content(BytesText::new(""))?;
            Ok(())
        })?;
    Ok(())
}

fn write_properties(
    w: &mut Writer<Vec<u8>>,
    report: &RunReport,
    s: &ScenarioReport,
) -> io::Result<()> {
    let mut props: Vec<(String, String)> = vec![
        ("seed".into(), s.seed.to_string()),
        ("run_seed".into(), report.seed.to_string()),
        ("kb".into(), s.kb.join(",")),
        ("file".into(), s.file.clone()),
        ("complete".into(), s.complete.to_string()),
        ("expects".into(), s.expects().word().into()),
        ("outcome".into(), outcome_token(s).into()),
    ];
    for (k, v) in &s.matrix {
        props.push((format!("matrix.{k}"), v.clone()));
    }
    w.create_element("properties").write_inner_content(|w| {
        for (name, value) in &props {
            w.create_element("property")
                .with_attributes([
                    ("name", token(name, "property").as_str()),
                    ("value", clean(value).as_str()),
                ])
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

/// The outcome as `report.json` spells it (`not-reproduced`).
fn outcome_token(s: &ScenarioReport) -> &'static str {
    match s.outcome() {
        super::model::Outcome::NotReproduced => "not-reproduced",
        super::model::Outcome::NotRun => "not-run",
        o => o.word(),
    }
}

/// Whether the suite gets the test case that sums the scenario up: it ran to the end.
fn has_outcome_case(s: &ScenarioReport) -> bool {
    s.complete && s.error.is_none()
}

/// `outcome: symptom reproduced` or `outcome: healthy call`, passing when the scenario did.
fn write_outcome_case(
    w: &mut Writer<Vec<u8>>,
    s: &ScenarioReport,
    classname: &str,
) -> io::Result<()> {
    let name = match s.expects() {
        Expects::Symptom => "outcome: symptom reproduced",
        Expects::Healthy => "outcome: healthy call",
    };
    let case = w.create_element("testcase").with_attributes([
        ("name", name),
        ("classname", classname),
        ("time", "0"),
    ]);
    let o = s.outcome();
    if o.passed() {
        case.write_empty()?;
        return Ok(());
    }
    let unmet = s.expectations.iter().filter(|e| !e.met).count();
    let message = format!(
        "{}: {} ({unmet} of {} expectations unmet)",
        o.word(),
        o.meaning(),
        s.expectations.len()
    );
    let body = clean(&format!(
        "{message}\nscenario: {} (seed {})\nrepeat: callharness run {} --seed {}\n",
        s.file, s.seed, s.file, s.seed
    ));
    case.write_inner_content(|w| {
        w.create_element("failure")
            .with_attributes([("message", message.as_str()), ("type", outcome_token(s))])
            .write_text_content(BytesText::new(&body))?;
        Ok(())
    })?;
    Ok(())
}

fn write_case(
    w: &mut Writer<Vec<u8>>,
    s: &ScenarioReport,
    classname: &str,
    e: &Expectation,
) -> io::Result<()> {
    let name = token(&e.what, "(unnamed expectation)");
    let case = w.create_element("testcase").with_attributes([
        ("name", name.as_str()),
        ("classname", classname),
        ("time", "0"),
    ]);
    if e.met {
        case.write_empty()?;
        return Ok(());
    }
    let failure = call_failure(s, e);
    let answer = failure
        .and_then(super::summary::code_reason)
        .map(|cr| format!(" ({cr})"))
        .unwrap_or_default();
    let message = clean(&format!(
        "expected {}, observed {}{answer}",
        e.expected, e.observed
    ));
    let seen = failure
        .map(|f| {
            let mut t = format!("call failure: {}\n", super::summary::failure_line(f));
            if !f.detail.is_empty() {
                t.push_str(&format!("detail: {}\n", f.detail));
            }
            t
        })
        .unwrap_or_default();
    // The scenario's own seed: `--seed` overrides a file's `seed:`, so the run's would not
    // repeat a scenario that fixes its own.
    let body = clean(&format!(
        "{}\nexpected: {}\nobserved: {}\n{seen}scenario: {} (scenario seed {})\nrepeat: callharness run {} --seed {}\n",
        e.what, e.expected, e.observed, s.file, s.seed, s.file, s.seed
    ));
    case.write_inner_content(|w| {
        w.create_element("failure")
            .with_attributes([("message", message.as_str()), ("type", "expectation-unmet")])
            .write_text_content(BytesText::new(&body))?;
        Ok(())
    })?;
    Ok(())
}

/// The failure of the call an expectation is about (`alice->bob: call outcome`), preferring a
/// call of that pair whose failure class the observation names.
fn call_failure<'a>(s: &'a ScenarioReport, e: &Expectation) -> Option<&'a FailureReport> {
    let (pair, _) = e.what.split_once(": ")?;
    let (caller, callee) = pair.split_once("->")?;
    let failures: Vec<&FailureReport> = s
        .calls
        .iter()
        .filter(|c| c.caller == caller && c.callee == callee)
        .filter_map(|c| c.failure.as_ref())
        .collect();
    failures
        .iter()
        .find(|f| e.observed.contains(f.class.as_str()))
        .or(failures.first())
        .copied()
}

fn write_incomplete_case(
    w: &mut Writer<Vec<u8>>,
    s: &ScenarioReport,
    classname: &str,
) -> io::Result<()> {
    // A scenario with no result says why; one cut short says that its results are partial.
    let (message, kind) = match &s.error {
        Some(e) => (clean(e), if s.complete { "setup-error" } else { "not-run" }),
        None => (
            format!(
                "the scenario was cut short (interrupt or timeout) after {} ms of simulated \
                 time; its results are partial",
                s.duration_ms
            ),
            "incomplete",
        ),
    };
    w.create_element("testcase")
        .with_attributes([
            ("name", "scenario ran to the end"),
            ("classname", classname),
            ("time", "0"),
        ])
        .write_inner_content(|w| {
            w.create_element("error")
                .with_attributes([("message", message.as_str()), ("type", kind)])
                .write_text_content(BytesText::new(&message))?;
            Ok(())
        })?;
    Ok(())
}

/// Text with the characters XML 1.0 cannot carry at all (control characters other than tab,
/// newline and carriage return; U+FFFE, U+FFFF) replaced by U+FFFD. Escaping of `<&"'>` is
/// quick-xml's job.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// A value for an `xs:token` attribute that must not be empty: cleaned, whitespace collapsed,
/// and `fallback` when nothing is left.
fn token(s: &str, fallback: &str) -> String {
    let collapsed = clean(s).split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        fallback.to_string()
    } else {
        collapsed
    }
}

/// The schema's timestamp: `YYYY-MM-DDTHH:MM:SS` with no zone, taken from the RFC 3339 start.
fn timestamp(started_at: &str) -> String {
    let head: String = started_at.chars().take(19).collect();
    let shape_ok = head.len() == 19
        && head.char_indices().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == 'T' || c == 't' || c == ' ',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        });
    if shape_ok {
        let mut t = head.into_bytes();
        t[10] = b'T';
        String::from_utf8(t).unwrap_or_else(|_| NO_TIMESTAMP.to_string())
    } else {
        NO_TIMESTAMP.to_string()
    }
}

/// Milliseconds as the schema's `xs:decimal` seconds.
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_run;
    use std::path::Path;
    use std::process::Command;

    /// Validates `xml` against `testdata/junit.xsd` with xmllint; `None` when xmllint is missing.
    fn xmllint(xml: &str) -> Option<Result<(), String>> {
        let xsd = Path::new(file!())
            .parent()
            .map(|p| p.join("testdata/junit.xsd"))
            .filter(|p| p.exists())
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("harness/report/testdata/junit.xsd")
            });
        let dir = tempfile::tempdir().ok()?;
        let file = dir.path().join("report.xml");
        std::fs::write(&file, xml).ok()?;
        let out = Command::new("xmllint")
            .arg("--noout")
            .arg("--nonet")
            .arg("--schema")
            .arg(&xsd)
            .arg(&file)
            .output()
            .ok()?;
        Some(if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        })
    }

    fn validate_or_skip(xml: &str) {
        match xmllint(xml) {
            None => eprintln!(
                "SKIPPED: JUnit schema validation needs xmllint (Debian/Ubuntu: apt-get install -y libxml2-utils)"
            ),
            Some(Ok(())) => {}
            Some(Err(e)) => panic!("report.xml does not validate against junit.xsd:\n{e}\n{xml}"),
        }
    }

    #[test]
    fn validates_against_the_junit_schema() {
        validate_or_skip(&to_string(&sample_run()));
    }

    #[test]
    fn hostile_text_still_validates() {
        let mut run = sample_run();
        run.started_at = String::new();
        let s = &mut run.scenarios[1];
        s.name = "  <script>alert(\"x\")</script> & \u{7} ]]> ".into();
        s.file = String::new();
        s.expectations[2].what = "\n\t".into();
        s.expectations[2].observed = "a\u{0}b \"quoted\" 'single' <tag>".into();
        let xml = to_string(&run);
        assert!(!xml.contains("<script>"));
        assert!(xml.contains("&lt;script&gt;"));
        validate_or_skip(&xml);
    }

    #[test]
    fn counts_failures_and_errors() {
        let run = sample_run();
        let xml = to_string(&run);
        let suites: Vec<&str> = xml.split("<testsuite ").skip(1).collect();
        assert_eq!(suites.len(), run.scenarios.len());
        // wifi roaming: 5 expectations, 2 unmet, and the failed outcome case.
        assert!(suites[1].starts_with(
            "name=\"wifi roaming with outage\" tests=\"6\" failures=\"3\" errors=\"0\""
        ));
        // The interrupted scenario: 2 expectations (1 unmet) and the incomplete error case.
        assert!(suites[4].contains("tests=\"3\" failures=\"1\" errors=\"1\""));
        assert!(suites[4].contains("type=\"incomplete\""));
        // Matrix cells are separate suites with their cell in the name and properties.
        assert!(suites[3].starts_with("name=\"loss sweep [loss=5%, profile=dsl]\""));
        assert!(suites[3].contains("<property name=\"matrix.loss\" value=\"5%\"/>"));
        let failures = xml.matches("<failure ").count();
        let unmet: usize = run
            .scenarios
            .iter()
            .map(|s| s.expectations.iter().filter(|e| !e.met).count())
            .sum();
        // Every unmet expectation, and the outcome of the two that ran to the end and failed.
        assert_eq!(failures, unmet + 2);
        assert!(xml.contains("message=\"expected &lt; 1 %, observed "));
        assert!(xml.contains("<property name=\"kb\" value=\"KB-3105,KB-3107\"/>"));
        assert!(xml.contains("<property name=\"seed\" value=\"7\"/>"));
        assert!(xml.contains("timestamp=\"2025-06-02T09:30:00\""));
    }

    #[test]
    fn a_reproduced_symptom_is_a_passing_case_that_says_so() {
        let mut run = sample_run();
        let s = &mut run.scenarios[1];
        s.expects = Some(Expects::Symptom);
        s.verdict = crate::report::model::Verdict::Pass;
        for e in &mut s.expectations {
            e.met = true;
        }
        run.scenarios[0].expects = Some(Expects::Symptom);
        run.scenarios[0].verdict = crate::report::model::Verdict::Fail;
        let xml = to_string(&run);
        let suites: Vec<&str> = xml.split("<testsuite ").skip(1).collect();
        assert!(suites[1].contains(
            r#"<testcase name="outcome: symptom reproduced" classname="wifi roaming with outage" time="0"/>"#
        ), "{}", suites[1]);
        assert!(suites[1].contains(r#"<property name="outcome" value="reproduced"/>"#));
        assert!(suites[1].contains(r#"<property name="expects" value="symptom"/>"#));
        assert!(suites[1].contains("outcome: reproduced (the symptom was expected and seen)"));
        assert!(suites[1].contains(r#"failures="0""#));
        // A symptom expected and not seen: the same case, red, saying "not reproduced".
        assert!(suites[0].contains(r#"<failure message="not reproduced: the symptom was expected and not seen (0 of 3 expectations unmet)" type="not-reproduced">"#), "{}", suites[0]);
        // A healthy call that was healthy, and one cut short (no outcome case, its error case).
        assert!(suites[2].contains(r#"<testcase name="outcome: healthy call" classname="loss sweep [loss=1%, profile=dsl]" time="0"/>"#));
        assert!(!suites[4].contains("outcome: healthy call"));
        validate_or_skip(&xml);
    }

    #[test]
    fn the_repeat_line_gives_the_scenarios_own_seed() {
        let run = sample_run();
        let xml = to_string(&run);
        // The roaming scenario ran with seed 7; the run's seed is 42.
        assert!(xml.contains("repeat: callharness run scenarios/kb/wifi-roaming.yaml --seed 7\n"));
        assert!(!xml.contains("wifi-roaming.yaml --seed 42"));
    }

    #[test]
    fn a_refused_call_gives_the_services_code_and_reason() {
        let xml = to_string(&crate::report::fixture::service_run());
        assert!(xml.contains(
            r#"<failure message="expected connected, observed failed: av-disabled (403 Forbidden)" type="expectation-unmet">"#
        ), "{xml}");
        assert!(xml.contains(
            "call failure: av-disabled · 403 Forbidden — Certain audio and video options are unavailable\ndetail: the service refused the call: 403 Forbidden\nscenario: "
        ));
        // A failure without a code: the message stays as it was, the text names the failure.
        let plain = to_string(&sample_run());
        assert!(
            plain.contains(r#"message="expected connected, observed not connected: ice-failed""#)
        );
        assert!(!plain.contains("(403"));
        validate_or_skip(&xml);
    }

    #[test]
    fn timestamps_and_seconds_fit_the_schema() {
        assert_eq!(timestamp("2025-06-02T09:30:00.123Z"), "2025-06-02T09:30:00");
        assert_eq!(
            timestamp("2025-06-02 09:30:00+02:00"),
            "2025-06-02T09:30:00"
        );
        assert_eq!(timestamp(""), NO_TIMESTAMP);
        assert_eq!(timestamp("yesterday at noon, roughly"), NO_TIMESTAMP);
        assert_eq!(seconds(1840), "1.840");
        assert_eq!(seconds(5), "0.005");
    }
}
