//! The scope finding in words: what the failing calls have in common, what that means, and
//! what to check, in the manner of the KB article's scoping table (one contact: permissions
//! between contacts; one domain: permissions between domains; everyone: the service).

use super::{Candidate, Matrix, Scored, Side, Trait};
use crate::report::model::{AccountReport, CallReport};
use std::fmt::Write;

/// `calls with bob`, `calls to a participant in fabrikam.com`...
pub(super) fn label(c: &Candidate) -> String {
    format!("calls {}", phrase(c))
}

/// The calls a candidate covers, after "calls" or "every call".
fn phrase(c: &Candidate) -> String {
    let s = &c.subject;
    let o = c.other.as_deref().unwrap_or(s);
    if c.tr == Trait::User {
        return match c.side {
            Side::Either => format!("with {s}"),
            Side::Callee => format!("to {s}"),
            Side::Caller => format!("from {s}"),
            Side::Both | Side::Between => format!("between {s} and {o}"),
        };
    }
    let (vs, vo) = (holding(c.tr, s), holding(c.tr, o));
    match c.side {
        Side::Either => format!("with a participant {vs}"),
        Side::Callee => format!("to a participant {vs}"),
        Side::Caller => format!("from a participant {vs}"),
        Side::Both => format!("between two participants {vs}"),
        Side::Between => format!("between a participant {vs} and one {vo}"),
    }
}

/// A participant's trait value, after "a participant": `in fabrikam.com`, `at site hq`.
fn holding(t: Trait, v: &str) -> String {
    match t {
        Trait::User => v.to_string(),
        Trait::Domain => format!("in {v}"),
        Trait::Site => format!("at site {v}"),
        Trait::Network => format!("on network {v}"),
        Trait::ClientVersion => format!("on client {v}"),
    }
}

/// What an exact candidate means and what to check.
fn meaning(c: &Candidate) -> String {
    let s = &c.subject;
    let o = c.other.as_deref().unwrap_or(s);
    match (c.tr, c.side) {
        (Trait::User, Side::Either) => {
            format!("the problem follows {s}; check {s}'s account, policy, client and network")
        }
        (Trait::User, Side::Callee) => format!(
            "the problem is in reaching {s} as a contact; check {s}'s account and policy and \
             the permissions between {s} and the callers"
        ),
        (Trait::User, Side::Caller) => format!(
            "the problem is in the calls {s} places; check {s}'s account, policy and client"
        ),
        (Trait::User, _) => format!(
            "{s} and {o} each call others without trouble, so it is a permissions issue between \
             these two contacts; check that neither blocks the other and that each has the \
             other as a contact"
        ),
        (Trait::Domain, Side::Either) => format!(
            "the problem follows the domain {s}, not one user; check {s}'s tenant policy and \
             federation with {s} (allowed and blocked domains, its federation DNS record)"
        ),
        (Trait::Domain, Side::Callee) => format!(
            "contacts in {s} cannot be reached; check federation with {s} (allowed and blocked \
             domains, its federation DNS record) and {s}'s policy"
        ),
        (Trait::Domain, Side::Caller) => {
            format!("users of {s} cannot place calls; check {s}'s tenant policy")
        }
        (Trait::Domain, Side::Both) => format!(
            "calls inside {s} fail while calls that leave it work; check {s}'s own tenant-wide \
             settings"
        ),
        (Trait::Domain, Side::Between) => format!(
            "{s} and {o} cannot reach each other while their other calls work; check federation \
             between the two domains (allowed and blocked domains, the federation DNS records)"
        ),
        (Trait::Site, Side::Between) => format!(
            "the problem lies between sites {s} and {o}; check the path between them (firewall, \
             routing)"
        ),
        (Trait::Site, _) => format!(
            "the problem follows site {s}; check that site's path to the service and to the \
             other sites (firewall, proxy, routing)"
        ),
        (Trait::Network, Side::Between) => format!(
            "the problem lies between the {s} and {o} networks; check what stands between them \
             (firewalls, NAT)"
        ),
        (Trait::Network, _) => format!(
            "the problem follows the {s} network; check that network (firewall, NAT, bandwidth)"
        ),
        (Trait::ClientVersion, Side::Between) => format!(
            "the problem lies between clients {s} and {o}; check that the two versions work \
             together"
        ),
        (Trait::ClientVersion, _) => format!(
            "the problem follows client version {s}; check it against the service's minimum \
             version and update it"
        ),
    }
}

/// The summary of an exact finding: the calls, the counts, the meaning; then what the subject
/// alone has (which the calls cannot tell apart from it), and the other exact candidates.
pub(super) fn exact(m: &Matrix<'_>, best: &Scored, ties: &[&Scored]) -> String {
    let c = &best.candidate;
    let mut out = format!(
        "Every call {} fails ({} of {}) and no other call does (0 of {}): {}.",
        phrase(c),
        best.failing,
        best.calls,
        m.calls.len() - best.calls,
        meaning(c)
    );
    if c.tr == Trait::User && c.other.is_none() {
        let alone: Vec<String> = Trait::ALL[1..]
            .iter()
            .filter_map(|t| {
                let v = m.value(&c.subject, *t)?;
                (m.holders(*t, v).len() == 1).then(|| holding(*t, v))
            })
            .collect();
        if !alone.is_empty() {
            let _ = write!(
                out,
                " {} is also the only participant {}, which these calls cannot tell apart from {}.",
                c.subject,
                and_list(&alone),
                c.subject
            );
        }
    }
    if !ties.is_empty() {
        let others: Vec<String> = ties.iter().map(|t| label(&t.candidate)).collect();
        let _ = write!(
            out,
            " Equally exact: {} (the same calls).",
            others.join("; ")
        );
    }
    out
}

/// The summary when every call fails: what they all share, and what sign-in says about the
/// service.
pub(super) fn all_fail(m: &Matrix<'_>, calls: &[CallReport], accounts: &[AccountReport]) -> String {
    let n = m.calls.len();
    let mut out = format!(
        "Every call fails ({n} of {n}), whoever places it and whoever it reaches: the problem is \
         not one user or contact but something all of them share, the service or the network \
         between them."
    );
    let mut classes: Vec<String> = calls
        .iter()
        .filter_map(|c| c.failure.as_ref())
        .map(crate::report::summary::failure_head)
        .collect();
    classes.sort();
    classes.dedup();
    if classes.len() == 1 {
        let _ = write!(out, " Each fails with {}.", classes[0]);
    }
    let clients: Vec<&AccountReport> = accounts
        .iter()
        .filter(|a| m.traits.contains_key(a.participant.as_str()))
        .collect();
    let unsigned: Vec<&str> = clients
        .iter()
        .filter(|a| a.signed_in_ms.is_none())
        .map(|a| a.participant.as_str())
        .collect();
    if !clients.is_empty() {
        if unsigned.len() == clients.len() {
            out.push_str(
                " No client signed in: start with the service (an outage, sign-in) and the \
                 network that reaches it.",
            );
        } else if unsigned.is_empty() {
            out.push_str(
                " Every client signed in, so the service answers: check a policy they all share \
                 (the tenant's) and the path their media takes.",
            );
        } else {
            let _ = write!(
                out,
                " {} of {} clients did not sign in ({}).",
                unsigned.len(),
                clients.len(),
                unsigned.join(", ")
            );
        }
    }
    let domains: std::collections::BTreeSet<Option<&str>> =
        m.traits.keys().map(|p| m.value(p, Trait::Domain)).collect();
    if let [Some(d)] = domains.into_iter().collect::<Vec<_>>()[..] {
        let _ = write!(
            out,
            " Every participant is in {d}, so {d}'s tenant-wide settings are a suspect too."
        );
    }
    out
}

/// The summary when nothing is exact: the failing calls, and the closest candidate.
pub(super) fn no_pattern(m: &Matrix<'_>, pairs: &[String], closest: Option<&Scored>) -> String {
    let failing = m.calls.iter().filter(|c| c.failed).count();
    let mut out = format!(
        "No single user, contact or shared trait explains the failures: {failing} of {} calls \
         fail ({}); each may have its own cause, so read each one's failure.",
        m.calls.len(),
        pairs.join(", ")
    );
    if let Some(s) = closest {
        let _ = write!(
            out,
            " Closest: {}, {} of {} failing, covering {} of {failing} failures.",
            label(&s.candidate),
            s.failing,
            s.calls,
            s.failing
        );
    }
    out
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
