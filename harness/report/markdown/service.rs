//! The service in `report.md`: where the failures of each matrix of calls point, and for each
//! scenario where a sign-in or a call failed, every participant's account and each failed call
//! with what the service answered. Scenarios where everyone signed in and every call connected
//! are left to report.html, to keep the summary short.

use super::esc;
use crate::report::model::{AccountReport, RunReport, ScenarioReport};
use crate::report::summary::{display_name, failure_line, span};
use std::fmt::Write;

/// "Where the failures point": one line per scenario with a scope finding.
pub(super) fn write_scopes(md: &mut String, run: &RunReport) -> std::fmt::Result {
    let found: Vec<&ScenarioReport> = run.scenarios.iter().filter(|s| s.scope.is_some()).collect();
    if found.is_empty() {
        return Ok(());
    }
    writeln!(md, "**Where the failures point**\n")?;
    for s in found {
        let Some(scope) = &s.scope else { continue };
        let subject = scope
            .subject
            .as_deref()
            .map(|v| format!(" **{}**", esc(v)))
            .unwrap_or_default();
        writeln!(
            md,
            "- **{}**: `{}`{subject} ({} of {} calls fail). {}",
            esc(&display_name(s)),
            scope.verdict.as_str(),
            scope.failing,
            scope.calls,
            esc(&scope.summary)
        )?;
    }
    writeln!(md)
}

/// Whether a scenario's sign-ins or calls have something to explain.
fn has_failure(s: &ScenarioReport) -> bool {
    s.calls.iter().any(|c| c.failure.is_some() || !c.connected)
        || s.accounts.iter().any(|a| a.failure.is_some())
}

/// For each scenario where a sign-in or a call failed: its accounts and its failed calls.
pub(super) fn write_service(md: &mut String, run: &RunReport) -> std::fmt::Result {
    for s in run.scenarios.iter().filter(|s| has_failure(s)) {
        writeln!(
            md,
            "**Sign-in and failed calls: {}**\n",
            esc(&display_name(s))
        )?;
        write_accounts(md, &s.accounts)?;
        for c in s
            .calls
            .iter()
            .filter(|c| c.failure.is_some() || !c.connected)
        {
            let what = match &c.failure {
                Some(f) if f.detail.is_empty() => esc(&failure_line(f)),
                Some(f) => format!("{} ({})", esc(&failure_line(f)), esc(&f.detail)),
                None => "did not connect".to_string(),
            };
            writeln!(md, "- {} → {}: {what}", esc(&c.caller), esc(&c.callee))?;
        }
        writeln!(md)?;
    }
    Ok(())
}

fn write_accounts(md: &mut String, accounts: &[AccountReport]) -> std::fmt::Result {
    if accounts.is_empty() {
        return Ok(());
    }
    writeln!(
        md,
        "| Participant | Address | Client | Site | Network | Signed in at | Attempts | Sign-in failure |"
    )?;
    writeln!(md, "|---|---|---|---|---|--:|--:|---|")?;
    let cell = |v: &str| {
        if v.is_empty() {
            "—".to_string()
        } else {
            esc(v)
        }
    };
    for a in accounts {
        writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            esc(&a.participant),
            cell(&a.address),
            cell(&a.client_version),
            cell(&a.site),
            cell(&a.network),
            a.signed_in_ms
                .map_or_else(|| "never".to_string(), |ms| span(ms as f64)),
            a.attempts,
            a.failure
                .as_ref()
                .map_or_else(|| "—".to_string(), |f| esc(&failure_line(f)))
        )?;
    }
    writeln!(md)
}

#[cfg(test)]
mod tests {
    use crate::report::fixture::{sample_run, service_run};
    use crate::report::markdown::to_string;

    #[test]
    fn says_where_the_failures_point() {
        let md = to_string(&service_run());
        assert!(md.contains(
            "**Where the failures point**\n\n- **bob's audio/video is off**: `follows-user` **bob** \
             (3 of 5 calls fail). Every call with bob fails (3 of 3) and no other call does (0 of \
             2): the problem follows bob; check bob's account, policy, client and network.\n"
        ), "{md}");
        assert!(!to_string(&sample_run()).contains("Where the failures point"));
    }

    #[test]
    fn tabulates_the_accounts_and_gives_each_refusal_its_code_and_words() {
        let md = to_string(&service_run());
        assert!(md.contains("**Sign-in and failed calls: bob's audio/video is off**\n\n| Participant | Address | Client | Site | Network | Signed in at | Attempts | Sign-in failure |\n|---|---|---|---|---|--:|--:|---|\n| alice | alice@contoso.com | 8.0.0 | hq | wired-lan | 2.0 s | 2 | — |\n"), "{md}");
        assert!(md.contains(
            "| erin | erin@fabrikam.com | 7.1.0 | branch | wifi-good | never | 1 | sign-in-failed · 401 Unauthorized — You can't log in: the password or account is not recognised |\n"
        ));
        assert!(md.contains(
            "- bob → dave: av-disabled · 403 Forbidden — Certain audio and video options are \
             unavailable (the service refused the call: 403 Forbidden)\n"
        ));
        // Only the failed calls are listed.
        assert!(!md.contains("- alice → carol:"));
        // A failed call without the service: its class and words, no code.
        let plain = to_string(&sample_run());
        assert!(plain.contains("- dave → carol: ice-failed — We couldn't connect the call. Check your network and try again.\n"), "{plain}");
    }
}
