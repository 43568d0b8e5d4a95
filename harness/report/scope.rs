//! Where a scenario's failures point (KB CONTACTS-ONE-VS-MANY): given a matrix of callers and
//! callees, do the failing calls follow one user, one contact, one caller, a pair of contacts, a
//! trait the far side or both sides share (domain, site, network profile, client version), or
//! do all calls fail?
//!
//! This is the scoping step of the federation KB article, done on the calls a scenario placed:
//! one contact failing is a problem between contacts, every contact of one domain a problem
//! between domains, everyone a problem of the service or of the network they all share.
//!
//! Each candidate explanation is a predicate over calls ("the call has bob on one side", "the
//! callee is in fabrikam.com", "the two sides are at sites hq and branch"). It is scored by the
//! calls it gets wrong: failing calls it leaves out plus passing calls it takes in. Fewest wrong
//! ranks first; among as many wrong, the one covering more failures. A candidate with none
//! wrong is exact; ties between exact candidates (they then cover the very same calls, which
//! the scenario cannot tell apart) go to the narrower one, a user before a trait, in the order
//! of `Trait` (user, domain, site, network, client version) and [`Side`], and the others are
//! named in the summary. A trait value that only one participant has, picking out the same
//! calls as that user, is left out: the summary names it beside the user instead. A partial
//! candidate covering the same calls as a better-ranked one is left out too.
//!
//! ```
//! # use callharness::report::{fixture, scope};
//! let run = fixture::service_run();
//! let found = scope::scope(&run.scenarios[0]).expect("a matrix of calls");
//! assert_eq!(found.verdict, scope::ScopeVerdict::FollowsUser);
//! assert_eq!(found.subject.as_deref(), Some("bob"));
//! ```

use super::model::{AccountReport, CallReport, ScenarioReport};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[cfg(test)]
mod tests;
mod words;

/// What the failing calls of a scenario follow; `report.json` spells it in kebab-case.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeVerdict {
    /// Every call with one user fails, none without: check that user.
    FollowsUser,
    /// Every call to one contact fails, none other: check that contact.
    FollowsCallee,
    /// Every call one user places fails, none other.
    FollowsCaller,
    /// Only the calls between two users fail; each works with others.
    FollowsPair,
    /// The failing calls share a domain (from the address) on one or both sides.
    SharedDomain,
    /// ... a site.
    SharedSite,
    /// ... a network profile.
    SharedNetwork,
    /// ... a client version.
    SharedClientVersion,
    /// Every call fails: the service or the network they all share.
    AllFail,
    /// Nothing explains the failures exactly.
    NoPattern,
}

impl ScopeVerdict {
    /// Every verdict, in declaration order.
    pub const ALL: [ScopeVerdict; 10] = [
        ScopeVerdict::FollowsUser,
        ScopeVerdict::FollowsCallee,
        ScopeVerdict::FollowsCaller,
        ScopeVerdict::FollowsPair,
        ScopeVerdict::SharedDomain,
        ScopeVerdict::SharedSite,
        ScopeVerdict::SharedNetwork,
        ScopeVerdict::SharedClientVersion,
        ScopeVerdict::AllFail,
        ScopeVerdict::NoPattern,
    ];

    /// The verdict as `report.json` spells it: `follows-user`, `shared-domain`, `no-pattern`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeVerdict::FollowsUser => "follows-user",
            ScopeVerdict::FollowsCallee => "follows-callee",
            ScopeVerdict::FollowsCaller => "follows-caller",
            ScopeVerdict::FollowsPair => "follows-pair",
            ScopeVerdict::SharedDomain => "shared-domain",
            ScopeVerdict::SharedSite => "shared-site",
            ScopeVerdict::SharedNetwork => "shared-network",
            ScopeVerdict::SharedClientVersion => "shared-client-version",
            ScopeVerdict::AllFail => "all-fail",
            ScopeVerdict::NoPattern => "no-pattern",
        }
    }
}

/// Which side of a call carries the subject: a user or a trait value.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// Caller or callee.
    Either,
    /// The callee: the far side for the one who calls.
    Callee,
    /// The caller.
    Caller,
    /// Both sides have the same value.
    Both,
    /// One side has `subject`, the other `other`.
    Between,
}

/// Where a scenario's failures point: `ScenarioReport::scope`, present when the scenario's calls
/// form a matrix (at least 3 calls, at least one failing).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScopeReport {
    /// `follows-user`, `shared-domain`, `all-fail`, `no-pattern`...
    pub verdict: ScopeVerdict,
    /// The user or trait value the failures follow (`bob`, `fabrikam.com`); absent for
    /// `all-fail` and `no-pattern`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The second user or value of a pair (`follows-pair`, side `between`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
    /// Which side of the calls carries the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// The finding in one or two sentences, with what to check.
    pub summary: String,
    /// Calls in the matrix, and how many of them failed (did not connect, or failed later).
    pub calls: u32,
    pub failing: u32,
    /// The failing calls as `caller->callee`, in the scenario's order, each pair once.
    pub failing_pairs: Vec<String>,
    /// The best candidate explanations, best first (the verdict's, when exact, leads).
    pub evidence: Vec<ScopeEvidence>,
}

/// One candidate explanation and how well it separates failing from passing calls.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScopeEvidence {
    /// The verdict this candidate would give.
    pub verdict: ScopeVerdict,
    pub side: Side,
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
    /// The calls it covers, in words: `calls with bob`, `calls to a participant in fabrikam.com`.
    pub label: String,
    /// Calls it covers, and how many of them failed.
    pub calls: u32,
    pub failing: u32,
    /// It covers every failing call and no passing one.
    pub exact: bool,
}

/// How many candidates [`ScopeReport::evidence`] keeps.
const EVIDENCE: usize = 6;

/// The scope of `report`'s failures (see [`scope_of`]).
pub fn scope(report: &ScenarioReport) -> Option<ScopeReport> {
    scope_of(&report.calls, &report.accounts)
}

/// The scope of the failures among `calls`, with each participant's traits from `accounts`;
/// `None` when the calls are no matrix (fewer than 3, or none failing).
pub fn scope_of(calls: &[CallReport], accounts: &[AccountReport]) -> Option<ScopeReport> {
    let m = Matrix::new(calls, accounts);
    let failing = m.calls.iter().filter(|c| c.failed).count();
    if m.calls.len() < 3 || failing == 0 {
        return None;
    }
    let mut pairs: Vec<String> = Vec::new();
    for c in m.calls.iter().filter(|c| c.failed) {
        let pair = format!("{}->{}", c.caller, c.callee);
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    let mut report = ScopeReport {
        verdict: ScopeVerdict::AllFail,
        subject: None,
        other: None,
        side: None,
        summary: String::new(),
        calls: count(m.calls.len()),
        failing: count(failing),
        failing_pairs: pairs,
        evidence: Vec::new(),
    };
    if failing == m.calls.len() {
        report.summary = words::all_fail(&m, calls, accounts);
        return Some(report);
    }
    let ranked = m.ranked();
    let exact: Vec<&Scored> = ranked.iter().filter(|s| s.wrong() == 0).collect();
    report.evidence = ranked
        .iter()
        .take(EVIDENCE.max(exact.len()))
        .map(Scored::evidence)
        .collect();
    match exact.split_first() {
        Some((best, ties)) => {
            let c = &best.candidate;
            report.verdict = c.verdict();
            report.subject = Some(c.subject.clone());
            report.other = c.other.clone();
            report.side = Some(c.side);
            report.summary = words::exact(&m, best, ties);
        }
        None => {
            report.verdict = ScopeVerdict::NoPattern;
            report.summary = words::no_pattern(&m, &report.failing_pairs, ranked.first());
        }
    }
    Some(report)
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A property of a participant that failing calls may share; the order is the tie-break order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Trait {
    /// The participant itself.
    User,
    /// The domain of its address (`fabrikam.com`), lower-cased.
    Domain,
    Site,
    /// Its network profile.
    Network,
    ClientVersion,
}

impl Trait {
    const ALL: [Trait; 5] = [
        Trait::User,
        Trait::Domain,
        Trait::Site,
        Trait::Network,
        Trait::ClientVersion,
    ];
}

/// One call of the matrix: who and whether it failed.
struct Call<'a> {
    caller: &'a str,
    callee: &'a str,
    failed: bool,
}

/// The calls and every participant's trait values.
struct Matrix<'a> {
    calls: Vec<Call<'a>>,
    /// Participant -> its value of each trait, in [`Trait::ALL`] order (None: unknown).
    traits: BTreeMap<&'a str, [Option<String>; 5]>,
}

impl<'a> Matrix<'a> {
    fn new(calls: &'a [CallReport], accounts: &'a [AccountReport]) -> Matrix<'a> {
        let calls: Vec<Call<'a>> = calls
            .iter()
            .map(|c| Call {
                caller: &c.caller,
                callee: &c.callee,
                failed: !c.connected || c.failure.is_some(),
            })
            .collect();
        let mut traits = BTreeMap::new();
        for c in &calls {
            for p in [c.caller, c.callee] {
                traits.entry(p).or_insert_with(|| {
                    let account = accounts.iter().find(|a| a.participant == p);
                    let text = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(str::to_owned);
                    [
                        Some(p.to_owned()),
                        account.and_then(|a| domain(&a.address)),
                        text(account.map(|a| a.site.as_str())),
                        text(account.map(|a| a.network.as_str())),
                        text(account.map(|a| a.client_version.as_str())),
                    ]
                });
            }
        }
        Matrix { calls, traits }
    }

    fn value(&self, p: &str, t: Trait) -> Option<&str> {
        self.traits.get(p)?[t as usize].as_deref()
    }

    /// The participants in calls that have value `v` of trait `t`.
    fn holders(&self, t: Trait, v: &str) -> Vec<&'a str> {
        self.traits
            .iter()
            .filter(|(_, vals)| vals[t as usize].as_deref() == Some(v))
            .map(|(p, _)| *p)
            .collect()
    }

    /// Every candidate that covers at least one failing call and not every call, scored and
    /// sorted best first.
    fn ranked(&self) -> Vec<Scored> {
        let mut keys: BTreeSet<Candidate> = BTreeSet::new();
        for c in self.calls.iter().filter(|c| c.failed) {
            for t in Trait::ALL {
                let (Some(a), Some(b)) = (self.value(c.caller, t), self.value(c.callee, t)) else {
                    continue;
                };
                let mut add = |side, subject: &str, other: Option<&str>| {
                    keys.insert(Candidate {
                        tr: t,
                        side,
                        subject: subject.to_owned(),
                        other: other.map(str::to_owned),
                    });
                };
                add(Side::Either, a, None);
                add(Side::Either, b, None);
                add(Side::Caller, a, None);
                add(Side::Callee, b, None);
                if a == b {
                    add(Side::Both, a, None);
                } else {
                    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                    add(Side::Between, lo, Some(hi));
                }
            }
        }
        let total = self.calls.len();
        let failing = self.calls.iter().filter(|c| c.failed).count();
        let covered: Vec<(Candidate, Vec<bool>)> = keys
            .into_iter()
            .map(|k| {
                let set = self.calls.iter().map(|c| k.covers(self, c)).collect();
                (k, set)
            })
            .collect();
        let users: BTreeSet<&Vec<bool>> = covered
            .iter()
            .filter(|(k, _)| k.tr == Trait::User)
            .map(|(_, set)| set)
            .collect();
        let mut scored: Vec<Scored> = covered
            .iter()
            .filter(|(k, set)| !(self.names_one_holder(k) && users.contains(set)))
            .map(|(k, set)| {
                let in_set = || self.calls.iter().zip(set).filter(|(_, i)| **i);
                Scored {
                    candidate: k.clone(),
                    covers: set.clone(),
                    calls: in_set().count(),
                    failing: in_set().filter(|(c, _)| c.failed).count(),
                    all_failing: failing,
                }
            })
            .filter(|s| s.calls < total)
            .collect();
        scored.sort_by(|x, y| {
            (x.wrong(), std::cmp::Reverse(x.failing), &x.candidate).cmp(&(
                y.wrong(),
                std::cmp::Reverse(y.failing),
                &y.candidate,
            ))
        });
        // A partial candidate that covers the same calls as a better one adds nothing (calls
        // from contoso.com, when contoso.com is all of site hq); exact ties are all kept.
        let mut seen: BTreeSet<Vec<bool>> = BTreeSet::new();
        scored.retain(|s| seen.insert(s.covers.clone()) || s.wrong() == 0);
        scored
    }

    /// Whether a trait candidate names a value only one participant has: when it also covers
    /// the same calls as a user candidate, it says nothing more than that user (bob's site,
    /// when bob alone is there) and is left out.
    fn names_one_holder(&self, k: &Candidate) -> bool {
        k.tr != Trait::User
            && std::iter::once(&k.subject)
                .chain(&k.other)
                .any(|v| self.holders(k.tr, v).len() == 1)
    }
}

/// The domain of an address (`bob@Fabrikam.com` -> `fabrikam.com`).
fn domain(address: &str) -> Option<String> {
    let (_, d) = address.rsplit_once('@')?;
    (!d.is_empty()).then(|| d.to_ascii_lowercase())
}

/// A candidate explanation: calls whose `side` has `subject` as its value of trait `tr`.
/// Ordered for ties: trait, then side, then subject.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    tr: Trait,
    side: Side,
    subject: String,
    other: Option<String>,
}

impl Candidate {
    fn covers(&self, m: &Matrix<'_>, c: &Call<'_>) -> bool {
        let (a, b) = (m.value(c.caller, self.tr), m.value(c.callee, self.tr));
        let s = Some(self.subject.as_str());
        match self.side {
            Side::Either => a == s || b == s,
            Side::Caller => a == s,
            Side::Callee => b == s,
            Side::Both => a == s && b == s,
            Side::Between => {
                let o = self.other.as_deref();
                (a == s && b == o) || (a == o && b == s)
            }
        }
    }

    fn verdict(&self) -> ScopeVerdict {
        match (self.tr, self.side) {
            (Trait::User, Side::Callee) => ScopeVerdict::FollowsCallee,
            (Trait::User, Side::Caller) => ScopeVerdict::FollowsCaller,
            (Trait::User, Side::Between) => ScopeVerdict::FollowsPair,
            (Trait::User, _) => ScopeVerdict::FollowsUser,
            (Trait::Domain, _) => ScopeVerdict::SharedDomain,
            (Trait::Site, _) => ScopeVerdict::SharedSite,
            (Trait::Network, _) => ScopeVerdict::SharedNetwork,
            (Trait::ClientVersion, _) => ScopeVerdict::SharedClientVersion,
        }
    }
}

/// A candidate with the calls it covers.
struct Scored {
    candidate: Candidate,
    /// Which of the matrix's calls it covers, in order.
    covers: Vec<bool>,
    /// Calls it covers, and the failing ones among them.
    calls: usize,
    failing: usize,
    /// Failing calls in the whole matrix.
    all_failing: usize,
}

impl Scored {
    /// Calls it gets wrong: failing calls it leaves out plus passing calls it takes in.
    fn wrong(&self) -> usize {
        (self.all_failing - self.failing) + (self.calls - self.failing)
    }

    fn evidence(&self) -> ScopeEvidence {
        let c = &self.candidate;
        ScopeEvidence {
            verdict: c.verdict(),
            side: c.side,
            subject: c.subject.clone(),
            other: c.other.clone(),
            label: words::label(c),
            calls: count(self.calls),
            failing: count(self.failing),
            exact: self.wrong() == 0,
        }
    }
}
