//! The report's service parts: each participant's sign-in, the timeline's IMs and presence
//! looks (judged against their `expect`), the presence lags, and a failure as a client shows it.

use super::measure::ms;
use super::Sim;
use crate::metrics::one_way::OneWayDelay;
use crate::report::model::{
    AccountReport, Expectation, FailureReport, ImReport, PresenceLagReport, PresenceLookReport,
    TestCallReport, TimelineEvent,
};
use crate::scenario::{ActionTarget, NetAction, Scenario};

/// A failure as the report shows it: class, the client's words, the service's code.
pub(crate) fn failure_report(f: &crate::agent::Failure) -> FailureReport {
    FailureReport {
        class: f.class.name().to_owned(),
        message: f.class.client_message().to_owned(),
        code: f.code.map(|c| c.number()),
        reason: f.code.map(|c| c.reason().to_owned()),
        detail: f.detail.clone(),
    }
}

/// Every participant's sign-in, and its attempts and the service's outages on the time axis.
pub(super) fn accounts_report(
    s: &Scenario,
    sim: &Sim,
    events: &mut Vec<TimelineEvent>,
) -> Vec<AccountReport> {
    use crate::agent::account::SignIn;
    let mut out = Vec::new();
    for (i, (p, acc)) in s.participants.iter().zip(&sim.accounts).enumerate() {
        for a in &acc.attempts {
            let (kind, detail) = match (&a.failure, a.ended) {
                (None, Some(_)) => ("sign-in", format!("{} signed in", acc.address)),
                (Some(f), _) => (
                    "sign-in-failed",
                    format!("{}: {}", f.class.name(), f.detail),
                ),
                (None, None) => continue,
            };
            events.push(TimelineEvent {
                at_ms: a.ended.unwrap_or(a.started) / 1_000_000,
                duration_ms: None,
                kind: kind.into(),
                subject: p.name.clone(),
                detail,
            });
        }
        let (signed_in_ms, mut failure) = match acc.state() {
            SignIn::SignedIn { at } => (Some(at / 1_000_000), None),
            // Still trying at the end: the last attempt's failure says why it is not in.
            _ => (
                None,
                acc.attempts
                    .iter()
                    .rev()
                    .find_map(|a| a.failure.as_ref())
                    .map(failure_report),
            ),
        };
        // What the harness broke on this machine, beside what the client saw.
        if let (Some(f), Some((layer, sent_lost, recv_lost))) = (&mut failure, sim.socket.get(i)) {
            if *layer != crate::scenario::raw::SocketLayer::Healthy {
                f.detail = format!(
                    "{} (this machine's socket layer: {}; {sent_lost} datagrams not sent, \
                     {recv_lost} arrived but not received)",
                    f.detail,
                    layer.name()
                );
            }
        }
        out.push(AccountReport {
            participant: p.name.clone(),
            address: acc.address.clone(),
            client_version: acc.client.to_string(),
            site: p.site.clone(),
            network: p.profile_name.clone(),
            signed_in_ms,
            attempts: acc.attempts.len() as u32,
            failure,
        });
    }
    for a in &s.timeline {
        if let (ActionTarget::Service, NetAction::Outage { duration }) = (&a.target, &a.action) {
            events.push(TimelineEvent {
                at_ms: a.at.as_nanos() / 1_000_000,
                duration_ms: Some(duration.as_nanos() / 1_000_000),
                kind: "service-outage".into(),
                subject: "service".into(),
                detail: "signaling down: every request answered 503; the status page says so"
                    .into(),
            });
        }
    }
    out
}

/// The timeline's IMs and presence looks, judged, and the presence lags measured.
pub(super) fn service_checks_report(
    s: &Scenario,
    sim: &Sim,
    events: &mut Vec<TimelineEvent>,
    expectations: &mut Vec<Expectation>,
) -> (
    Vec<ImReport>,
    Vec<PresenceLookReport>,
    Vec<PresenceLagReport>,
) {
    use crate::scenario::{ImExpect, ServiceAsk};
    let mut messages = Vec::new();
    let mut sent: Vec<usize> = vec![0; sim.accounts.len()];
    let mut taken: Vec<(usize, usize)> = Vec::new();
    for c in &s.service_checks {
        let Some(p) = s.participants.iter().position(|x| x.name == c.participant) else {
            continue;
        };
        let ServiceAsk::Im { to, expect, .. } = &c.what else {
            continue;
        };
        let Some(im) = sim.accounts[p].ims.get(sent[p]) else {
            continue;
        };
        sent[p] += 1;
        let from = &sim.accounts[p].address;
        let accepted = im.answer.as_ref().is_some_and(|(_, r)| r.is_ok());
        // Its arrival at a participant's client: the first matching notice not yet taken.
        let delivered_ms = accepted
            .then(|| {
                sim.accounts.iter().enumerate().find_map(|(q, a)| {
                    a.notices
                        .iter()
                        .enumerate()
                        .find_map(|(k, (at, n))| match n {
                            crate::service::Notice::Message { from: f, text, .. }
                                if f == from
                                    && *text == im.text
                                    && *at >= im.sent
                                    && !taken.contains(&(q, k)) =>
                            {
                                taken.push((q, k));
                                Some(at / 1_000_000)
                            }
                            _ => None,
                        })
                })
            })
            .flatten();
        let resp = im.answer.as_ref().map(|(_, r)| r);
        let outcome = match resp {
            Some(r) if r.is_ok() => "delivered",
            Some(_) => "refused",
            None => "unanswered",
        };
        let refusal = resp.and_then(|r| r.refusal);
        let report = ImReport {
            from: c.participant.clone(),
            to: to.clone(),
            text: im.text.clone(),
            at_ms: im.sent / 1_000_000,
            outcome: outcome.into(),
            class: refusal.map(|r| r.class().to_string()),
            code: resp.filter(|r| !r.is_ok()).map(|r| r.code.number()),
            reason: resp
                .filter(|r| !r.is_ok())
                .map(|r| r.code.reason().to_string()),
            shown: resp.filter(|r| !r.is_ok()).map(|r| {
                r.shown
                    .clone()
                    .unwrap_or_else(|| refusal.map_or("", |x| x.client_words()).to_string())
            }),
            log_line: resp.and_then(|r| r.log_line.clone()),
            delivered_ms,
        };
        let observed = match (&report.class, report.code) {
            (Some(class), Some(code)) => format!("refused: {class} ({code})"),
            _ => outcome.to_string(),
        };
        events.push(TimelineEvent {
            at_ms: report.at_ms,
            duration_ms: None,
            kind: if outcome == "delivered" {
                "im-delivered"
            } else {
                "im-refused"
            }
            .into(),
            subject: c.participant.clone(),
            detail: format!("IM to {to}: {observed}"),
        });
        if let Some(e) = expect {
            let met = match (e, resp) {
                (ImExpect::Delivered, Some(r)) => r.is_ok(),
                (ImExpect::Refused { class, code }, Some(r)) => {
                    !r.is_ok()
                        && class.is_none_or(|c| r.refusal == Some(c))
                        && code.is_none_or(|n| r.code.number() == n)
                }
                (_, None) => false,
            };
            expectations.push(Expectation {
                what: format!("{} -> {to}: IM", c.participant),
                expected: e.to_string(),
                observed,
                met,
            });
        }
        messages.push(report);
    }
    let mut presence = Vec::new();
    for &(i, at, view) in &sim.looks {
        let c = &s.service_checks[i];
        let ServiceAsk::Presence { of, expect } = &c.what else {
            continue;
        };
        let shown = view.to_string();
        events.push(TimelineEvent {
            at_ms: at / 1_000_000,
            duration_ms: None,
            kind: "presence".into(),
            subject: c.participant.clone(),
            detail: format!("{of} shown as {shown}"),
        });
        if let Some(e) = expect {
            expectations.push(Expectation {
                what: format!("{} sees {of}: presence", c.participant),
                expected: e.to_string(),
                observed: shown.clone(),
                met: *e == view,
            });
        }
        presence.push(PresenceLookReport {
            watcher: c.participant.clone(),
            of: of.clone(),
            at_ms: at / 1_000_000,
            shown,
        });
    }
    let lags = sim
        .presence_lags
        .iter()
        .map(|&(p, from, to, how)| {
            let name = s.participants[p].name.clone();
            events.push(TimelineEvent {
                at_ms: from / 1_000_000,
                duration_ms: Some((to - from) / 1_000_000),
                kind: "presence-lag".into(),
                subject: name.clone(),
                detail: format!(
                    "shown signed in while unreachable for {:.1} s ({how})",
                    (to - from) as f64 / 1e9
                ),
            });
            PresenceLagReport {
                participant: name,
                from_ms: ms(from),
                to_ms: ms(to),
                lag_ms: ms(to - from),
                ended_by: how.into(),
            }
        })
        .collect();
    (messages, presence, lags)
}

/// A test call's findings: `up` the one-way delays of the caller's audio at the echo service,
/// `back` those of the echo at the caller; `echoed` packets sent back; `played` whether the
/// caller played any of it.
pub(super) fn test_call_report(
    up: &OneWayDelay,
    back: &OneWayDelay,
    echoed: u64,
    played: bool,
) -> TestCallReport {
    let round_trip_ms = up.mean_ms().zip(back.mean_ms()).map(|(a, b)| a + b);
    TestCallReport {
        round_trip_ms,
        reached_service: up.count(),
        echoed,
        microphone: if up.count() > 0 {
            "works".into()
        } else {
            "no audio reached the test service".into()
        },
        speaker: match (back.count() > 0, played) {
            (true, true) => "works".into(),
            (true, false) => "the echo arrived but nothing was played".into(),
            (false, _) => "no echo came back".into(),
        },
    }
}
