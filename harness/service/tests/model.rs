//! The model the property tests check the service against, written independently of the
//! service's code: the federation settings a run starts from, who is signed in until when,
//! each user's lists, who watches whom, and which pairs federation and permissions allow (an
//! unordered restatement of the rules in `route`, from the settings themselves).

use super::super::contacts::ContactList;
use super::super::directory::*;
use super::super::*;
use super::{written_by, World, ALICE, BOB, CAROL, DAVE, ERIN, ERIN_AT_MSN};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

pub(super) const USERS: [&str; 5] = [ALICE, BOB, CAROL, DAVE, ERIN];
/// Every address a step may name: the users as each writes them, the plain custom-domain
/// address, and two nobodies.
pub(super) const WRITTEN: [&str; 8] = [
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    ERIN_AT_MSN,
    "zed@contoso.com",
    "zed@fabrikam.com",
];
pub(super) const EXPIRY: u64 = 60;

/// The federation settings a run starts from.
#[derive(Debug, Clone)]
pub(super) struct Config {
    contoso_ext: bool,
    contoso_pic: bool,
    alice_ext: Option<bool>,
    alice_pic: Option<bool>,
    contoso_srv: SrvRecord,
    fabrikam_srv: SrvRecord,
    fabrikam_federated: bool,
    msn_federated: bool,
    /// None: open; Some(true): allows only fabrikam; Some(false): allows only litware.
    contoso_allow: Option<bool>,
    fabrikam_blocks_contoso: bool,
    min_consumer_6_3: bool,
    /// Whether each external (owner, other) pair starts in owner's contacts.
    contacts: Vec<bool>,
}

pub(super) fn tenant(a: &str) -> &'static str {
    match a {
        ALICE | BOB => "contoso",
        CAROL => "fabrikam",
        _ => "msn",
    }
}

pub(super) fn external_pairs() -> Vec<(&'static str, &'static str)> {
    let mut pairs = Vec::new();
    for o in USERS {
        for x in USERS {
            if tenant(o) != tenant(x) {
                pairs.push((o, x));
            }
        }
    }
    pairs
}

pub(super) fn config() -> impl Strategy<Value = Config> {
    let opt = || prop_oneof![Just(None), Just(Some(false)), Just(Some(true))];
    let srv = || {
        prop_oneof![
            4 => Just(SrvRecord::Present),
            1 => Just(SrvRecord::Missing),
            1 => Just(SrvRecord::Wrong),
        ]
    };
    let mostly = || prop::bool::weighted(0.8);
    (
        (mostly(), mostly(), opt(), opt()),
        (srv(), srv(), mostly(), mostly()),
        (opt(), prop::bool::weighted(0.2), any::<bool>()),
        prop::collection::vec(prop::bool::weighted(0.8), external_pairs().len()),
    )
        .prop_map(
            |((ce, cp, ae, ap), (cs, fs, ff, mf), (al, fb, mc), contacts)| Config {
                contoso_ext: ce,
                contoso_pic: cp,
                alice_ext: ae,
                alice_pic: ap,
                contoso_srv: cs,
                fabrikam_srv: fs,
                fabrikam_federated: ff,
                msn_federated: mf,
                contoso_allow: al,
                fabrikam_blocks_contoso: fb,
                min_consumer_6_3: mc,
                contacts,
            },
        )
}

pub(super) fn directory(cfg: &Config) -> Directory {
    let mut w = World::healthy();
    for u in &mut w.users {
        u.contacts = ContactList::default();
    }
    for (&(o, x), &on) in external_pairs().iter().zip(&cfg.contacts) {
        if on {
            w.user(o).contacts.contacts.insert(written_by(o, x).into());
        }
    }
    let c = w.tenant("contoso");
    c.policy.external_access = cfg.contoso_ext;
    c.policy.public_im = cfg.contoso_pic;
    c.federation.srv = cfg.contoso_srv;
    c.federation.allow = cfg
        .contoso_allow
        .map(|f| vec![if f { "fabrikam.com" } else { "litware.com" }.to_string()]);
    if cfg.min_consumer_6_3 {
        c.federation.min_consumer_client = Federation::ARTICLE_MIN_CONSUMER_CLIENT;
    }
    let f = w.tenant("fabrikam");
    f.federation.srv = cfg.fabrikam_srv;
    f.federation.enabled = cfg.fabrikam_federated;
    if cfg.fabrikam_blocks_contoso {
        f.federation.block.push("contoso.com".into());
    }
    w.tenant("msn").federation.enabled = cfg.msn_federated;
    let a = w.user(ALICE);
    a.external_access = cfg.alice_ext;
    a.public_im = cfg.alice_pic;
    Directory::new(w.tenants, w.users).unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Reg {
    pub(super) expires: u64,
    pub(super) state: Availability,
    pub(super) client: Version,
    pub(super) reachable: bool,
}

/// The model: registrations, lists and subscriptions as the requests so far imply.
#[derive(Default)]
pub(super) struct Model {
    pub(super) regs: BTreeMap<&'static str, Reg>,
    pub(super) lists: BTreeMap<&'static str, ContactList>,
    pub(super) subs: BTreeSet<(&'static str, &'static str)>,
    /// The last view notified per subscription.
    pub(super) last: BTreeMap<(String, String), PresenceView>,
}

impl Model {
    pub(super) fn end(&mut self, u: &str) {
        self.regs.remove(u);
        self.subs.retain(|(w, _)| *w != u);
    }

    pub(super) fn expire(&mut self, now: u64) {
        let due: Vec<&str> = self
            .regs
            .iter()
            .filter(|(_, r)| r.expires <= now)
            .map(|(u, _)| *u)
            .collect();
        for u in due {
            self.end(u);
        }
    }

    /// Whether `w` may reach what it writes as `t`, and the account it is.
    pub(super) fn allowed(&self, cfg: &Config, w: &str, t: &str) -> Option<&'static str> {
        let x = match t {
            ERIN_AT_MSN => ERIN,
            ERIN if tenant(w) == "msn" => ERIN,
            ERIN => return None,
            _ => *USERS.iter().find(|&&u| u == t)?,
        };
        let (tw, tx) = (tenant(w), tenant(x));
        if tw == tx {
            return Some(x);
        }
        let ext = |u: &str| match u {
            ALICE => cfg.alice_ext.unwrap_or(cfg.contoso_ext),
            BOB => cfg.contoso_ext,
            _ => true,
        };
        let pic = |u: &str| match u {
            ALICE => cfg.alice_pic.unwrap_or(cfg.contoso_pic),
            BOB => cfg.contoso_pic,
            _ => true,
        };
        let srv = |t: &str| match t {
            "contoso" => cfg.contoso_srv == SrvRecord::Present,
            "fabrikam" => cfg.fabrikam_srv == SrvRecord::Present,
            _ => true,
        };
        let fed = |t: &str| match t {
            "fabrikam" => cfg.fabrikam_federated,
            "msn" => cfg.msn_federated,
            _ => true,
        };
        if !(ext(w) && ext(x) && srv(tw) && srv(tx) && fed(tw) && fed(tx)) {
            return None;
        }
        if tw != "msn" && tx != "msn" {
            if cfg.contoso_allow == Some(false) || cfg.fabrikam_blocks_contoso {
                return None;
            }
        } else {
            let (org, consumer) = if tw == "msn" { (x, w) } else { (w, x) };
            let old = self
                .regs
                .get(consumer)
                .is_some_and(|r| r.client < Version(6, 3, 0));
            if !pic(org) || (tenant(org) == "contoso" && cfg.min_consumer_6_3 && old) {
                return None;
            }
        }
        let empty = ContactList::default();
        let (lw, lx) = (
            self.lists.get(w).unwrap_or(&empty),
            self.lists.get(x).unwrap_or(&empty),
        );
        let names =
            |l: &BTreeSet<String>, owner: &str, other: &str| l.contains(written_by(owner, other));
        let blocked = names(&lw.blocked, w, x)
            || names(&lx.blocked, x, w)
            || (lw.block_all_invites && tx == "msn")
            || (lx.block_all_invites && tw == "msn");
        let mutual = names(&lw.contacts, w, x) && names(&lx.contacts, x, w);
        (!blocked && mutual).then_some(x)
    }

    pub(super) fn view(&self, cfg: &Config, w: &str, t: &str) -> PresenceView {
        match self.allowed(cfg, w, t) {
            None => PresenceView::Unknown,
            Some(x) => {
                PresenceView::Shown(self.regs.get(x).map_or(Availability::Offline, |r| r.state))
            }
        }
    }
}
