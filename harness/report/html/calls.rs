//! The page's service tables: each participant's client and sign-in (address, version, site,
//! network, when it signed in, attempts, why it could not), the calls with what the service
//! answered (class, code and reason, the client's words, what the harness saw), and where a
//! matrix of calls points ([`crate::report::scope`]).

use super::{esc, unit};
use crate::report::model::{AccountReport, CallReport, FailureReport, ScenarioReport};
use crate::report::summary::{code_reason, secs, span};
use std::fmt::Write;

/// A failure as a table cell: `<code>class</code> · 403 Forbidden — “the client's words”`,
/// what the harness saw beneath it.
fn failure_cell(f: Option<&FailureReport>) -> String {
    let Some(f) = f else {
        return r#"<span class="muted">—</span>"#.to_string();
    };
    let mut cell = format!("<code>{}</code>", esc(&f.class));
    if let Some(cr) = code_reason(f) {
        let _ = write!(cell, r#" · <span class="code">{}</span>"#, esc(&cr));
    }
    if !f.message.is_empty() {
        let _ = write!(cell, " — “{}”", esc(&f.message));
    }
    if !f.detail.is_empty() {
        let _ = write!(cell, r#"<br><span class="muted">{}</span>"#, esc(&f.detail));
    }
    cell
}

/// Each participant's client and its sign-in to the service.
pub(super) fn write_accounts(h: &mut String, accounts: &[AccountReport]) {
    if accounts.is_empty() {
        return;
    }
    let signed = accounts.iter().filter(|a| a.signed_in_ms.is_some()).count();
    let _ = write!(
        h,
        "<h3>Accounts · {signed} of {} signed in</h3>",
        accounts.len()
    );
    h.push_str(r#"<div class="tablewrap"><table><thead><tr><th>Participant</th><th>Address</th><th>Client</th><th>Site</th><th>Network</th><th class="num">Signed in at</th><th class="num">Attempts</th><th>Sign-in failure</th></tr></thead><tbody>"#);
    for a in accounts {
        let signed_in = match a.signed_in_ms {
            Some(ms) => format!(r#"<td class="num">{}</td>"#, span(ms as f64)),
            None => r#"<td class="num bad">never</td>"#.to_string(),
        };
        let dash = |v: &str| {
            if v.is_empty() {
                "—".to_string()
            } else {
                esc(v)
            }
        };
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td class="mono">{}</td><td class="mono">{}</td><td>{}</td><td>{}</td>{signed_in}<td class="num">{}</td><td>{}</td></tr>"#,
            esc(&a.participant),
            dash(&a.address),
            dash(&a.client_version),
            dash(&a.site),
            dash(&a.network),
            a.attempts,
            failure_cell(a.failure.as_ref())
        );
    }
    h.push_str("</tbody></table></div>");
}

pub(super) fn write_calls(h: &mut String, calls: &[CallReport]) {
    let _ = write!(h, "<h3>Calls · {}</h3>", calls.len());
    if calls.is_empty() {
        h.push_str(r#"<p class="muted">No call was placed.</p>"#);
        return;
    }
    h.push_str(r#"<div class="tablewrap"><table><thead><tr><th>Call</th><th class="num">Placed</th><th class="num">Ended</th><th>Connected</th><th>Failure</th><th class="num">Setup</th><th class="num">First audio</th><th>Candidate pair</th></tr></thead><tbody>"#);
    for c in calls {
        let connected = if c.connected {
            r#"<td class="ok">✓ connected</td>"#
        } else {
            r#"<td class="bad">✗ not connected</td>"#
        };
        let _ = write!(
            h,
            r#"<tr><td>{} → {}</td><td class="num">{}</td><td class="num">{}</td>{connected}<td>{}</td><td class="num">{}</td><td class="num">{}</td><td>{}</td></tr>"#,
            esc(&c.caller),
            esc(&c.callee),
            secs(c.start_ms),
            secs(c.end_ms),
            failure_cell(c.failure.as_ref()),
            unit(c.setup_ms, 0, " ms"),
            unit(c.first_audio_ms, 0, " ms"),
            c.candidate_pair
                .as_deref()
                .map_or_else(|| "—".to_string(), esc)
        );
    }
    h.push_str("</tbody></table></div>");
    write_candidates(h, calls);
}

/// The ICE candidates each side gathered: what, from where, how long it took, what failed
/// and which one the media used. Folded away (a long list on big scenarios).
fn write_candidates(h: &mut String, calls: &[crate::report::model::CallReport]) {
    let n: usize = calls.iter().map(|c| c.candidates.len()).sum();
    if n == 0 {
        return;
    }
    let _ = write!(
        h,
        r#"<details><summary>ICE candidates · {n}</summary><div class="tablewrap"><table><thead><tr><th>Call</th><th>Side</th><th>Type</th><th>Address</th><th>Server</th><th class="num">Gathered in</th><th>Result</th></tr></thead><tbody>"#
    );
    for c in calls {
        for k in &c.candidates {
            let result = match (&k.failed, k.selected) {
                (Some(why), _) => format!(r#"<td class="bad">{}</td>"#, esc(why)),
                (None, true) => r#"<td class="ok">used by the media</td>"#.to_string(),
                (None, false) => "<td>gathered</td>".to_string(),
            };
            let _ = write!(
                h,
                r#"<tr><td>{} → {}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td><td class="num">{}</td>{result}</tr>"#,
                esc(&c.caller),
                esc(&c.callee),
                esc(&k.side),
                esc(&k.kind),
                esc(&k.transport),
                k.address.as_deref().map_or_else(|| "—".to_string(), esc),
                k.server.as_deref().map_or_else(|| "—".to_string(), esc),
                unit(k.gathered_ms, 0, " ms"),
            );
        }
    }
    h.push_str("</tbody></table></div></details>");
}

/// "Where the failures point": the scope finding and the candidates behind it.
pub(super) fn write_scope(h: &mut String, s: &ScenarioReport) {
    let Some(scope) = &s.scope else {
        return;
    };
    let _ = write!(
        h,
        r#"<h3>Where the failures point · {} of {} calls fail</h3><div class="scope"><p><span class="chip verdict">{}</span>{} {}</p>"#,
        scope.failing,
        scope.calls,
        scope.verdict.as_str(),
        scope
            .subject
            .as_deref()
            .map(|v| format!(" <b>{}</b>", esc(v)))
            .unwrap_or_default(),
        esc(&scope.summary)
    );
    if !scope.evidence.is_empty() {
        h.push_str(r#"<div class="tablewrap"><table><thead><tr><th>Candidate</th><th>Verdict</th><th class="num">Failing / calls</th><th class="num">Failures covered</th><th>Separates</th></tr></thead><tbody>"#);
        for e in &scope.evidence {
            let (class, word) = if e.exact {
                ("ok", "exactly")
            } else {
                ("muted", "partly")
            };
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td class="mono">{}</td><td class="num">{} / {}</td><td class="num">{} of {}</td><td class="{class}">{word}</td></tr>"#,
                esc(&e.label),
                e.verdict.as_str(),
                e.failing,
                e.calls,
                e.failing,
                scope.failing
            );
        }
        h.push_str("</tbody></table></div>");
    }
    h.push_str("</div>");
}

#[cfg(test)]
mod tests {
    use crate::report::fixture::{sample_run, service_run};
    use crate::report::html::to_string;
    use std::process::Command;

    /// The parser errors xmllint's HTML 4 parser reports for `page`, less the ones about
    /// elements it does not know (HTML5 sectioning elements, SVG); `None` without xmllint.
    fn html_errors(page: &str) -> Option<Vec<String>> {
        let dir = tempfile::tempdir().ok()?;
        let file = dir.path().join("report.html");
        std::fs::write(&file, page).ok()?;
        let out = Command::new("xmllint")
            .args(["--html", "--noout", "--nonet"])
            .arg(&file)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stderr).into_owned();
        Some(
            text.lines()
                .filter(|l| l.contains("parser error"))
                .filter(|l| !(l.contains(": Tag ") && l.ends_with(" invalid")))
                .map(str::to_owned)
                .collect(),
        )
    }

    #[test]
    fn the_pages_are_well_formed_html() {
        let broken = html_errors("<!doctype html>\n<html><body><p><b>x</p></body></html>\n");
        let Some(broken) = broken else {
            eprintln!("SKIPPED: HTML check needs xmllint (apt-get install -y libxml2-utils)");
            return;
        };
        assert!(!broken.is_empty(), "xmllint reports a tag mismatch");
        for run in [sample_run(), service_run()] {
            let errors = html_errors(&to_string(&run)).unwrap_or_default();
            assert!(errors.is_empty(), "{errors:#?}");
        }
    }

    #[test]
    fn accounts_show_each_sign_in_and_why_one_failed() {
        let page = to_string(&service_run());
        assert!(
            page.contains("<h3>Accounts · 4 of 5 signed in</h3>"),
            "{page}"
        );
        assert!(page.contains(
            r#"<tr><td>dave</td><td class="mono">dave@fabrikam.com</td><td class="mono">7.2.0</td><td>branch</td><td>home-office-dsl</td><td class="num">2.0 s</td><td class="num">2</td><td><span class="muted">—</span></td></tr>"#
        ));
        assert!(page.contains(
            r#"<td class="num bad">never</td><td class="num">1</td><td><code>sign-in-failed</code> · <span class="code">401 Unauthorized</span> — “You can&#39;t log in: the password or account is not recognised”<br><span class="muted">sign-in refused: 401 Unauthorized</span></td>"#
        ));
        // A run without the service shows no accounts table.
        assert!(!to_string(&sample_run()).contains("<h3>Accounts"));
    }

    #[test]
    fn a_refused_call_shows_code_reason_words_and_detail() {
        let page = to_string(&service_run());
        let cell = r#"<td><code>av-disabled</code> · <span class="code">403 Forbidden</span> — “Certain audio and video options are unavailable”<br><span class="muted">the service refused the call: 403 Forbidden</span></td>"#;
        assert_eq!(page.matches(cell).count(), 3, "{page}");
        // A failure without a code keeps its class and words only.
        let plain = to_string(&sample_run());
        assert!(plain.contains("<td><code>ice-failed</code> — “We couldn"));
    }

    #[test]
    fn where_the_failures_point_gives_the_verdict_and_the_candidates() {
        let run = service_run();
        let page = to_string(&run);
        assert!(page.contains(
            r#"<h3>Where the failures point · 3 of 5 calls fail</h3><div class="scope"><p><span class="chip verdict">follows-user</span> <b>bob</b> Every call with bob fails (3 of 3) and no other call does (0 of 2)"#
        ), "{page}");
        assert!(page.contains(
            r#"<tr><td>calls with bob</td><td class="mono">follows-user</td><td class="num">3 / 3</td><td class="num">3 of 3</td><td class="ok">exactly</td></tr>"#
        ));
        assert!(page.contains(
            r#"<tr><td>calls to bob</td><td class="mono">follows-callee</td><td class="num">2 / 2</td><td class="num">2 of 3</td><td class="muted">partly</td></tr>"#
        ));
        assert!(!to_string(&sample_run()).contains("Where the failures point"));
    }

    #[test]
    fn the_timeline_marks_the_service_and_its_messages() {
        let page = to_string(&service_run());
        for (class, legend) in [
            ("ev-svc-outage", "service outage (shaded: its duration)"),
            ("ev-signin", "signed in"),
            ("ev-signin-failed", "sign-in failed"),
            ("ev-im", "message delivered"),
            ("ev-im-refused", "message refused"),
            ("ev-presence", "presence"),
        ] {
            assert!(
                page.contains(&format!(r#"<span class="{class} line">{legend}</span>"#))
                    || page.contains(&format!(r#"<span class="{class}">{legend}</span>"#)),
                "legend {class}"
            );
            assert!(
                page.contains(&format!(r#"<g class="{class}"><title>"#)),
                "{class}"
            );
            assert!(crate::report::html::STYLE.contains(&format!(".{class} {{ --ev:")));
        }
        // The outage is a band over its 2 s on the strip: 0..2 s of 20 on 980 units.
        assert!(page.contains(
            r#"<g class="ev-svc-outage"><title>service-outage · service · 0–2 s · signaling down: every request answered 503</title><rect class="band" x="10.0""#
        ), "{page}");
        assert!(page.contains(r#" width="98.0""#));
    }
}
