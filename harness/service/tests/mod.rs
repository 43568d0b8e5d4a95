//! The service state machine: every response code it can give, each policy combination and
//! the order of the checks, presence and its timers, outages, and properties over any
//! sequence of requests.
//!
//! The federated world most tests start from ([`World::healthy`]): two organisations,
//! contoso (alice, bob) and fabrikam (carol), and a public IM provider, msn, with dave on its
//! standard domain and erin on the custom domain live-contoso.com. Everyone has every external
//! user in their contacts (erin in the special format), so every pair can talk until a test
//! breaks something.

mod basics;
mod federation;
mod model;
mod presence;
mod props;

use super::contacts::ContactList;
use super::directory::*;
use super::*;

pub(super) const ALICE: &str = "alice@contoso.com";
pub(super) const BOB: &str = "bob@contoso.com";
pub(super) const CAROL: &str = "carol@fabrikam.com";
pub(super) const DAVE: &str = "dave@msn.com";
pub(super) const ERIN: &str = "erin@live-contoso.com";
/// erin as written from outside msn.
pub(super) const ERIN_AT_MSN: &str = "erin(live-contoso.com)@msn.com";

pub(super) fn v(s: &str) -> Version {
    s.parse().unwrap()
}

/// How each user writes each other user.
pub(super) fn written_by(owner: &str, other: &str) -> &'static str {
    let at_msn = |a: &str| a == DAVE || a == ERIN;
    match other {
        ERIN if !at_msn(owner) => ERIN_AT_MSN,
        ALICE => ALICE,
        BOB => BOB,
        CAROL => CAROL,
        DAVE => DAVE,
        _ => ERIN,
    }
}

/// Tenants and users before the service is built, so a test can change them.
pub(super) struct World {
    pub tenants: Vec<Tenant>,
    pub users: Vec<User>,
    /// Client version each user signs in with (default 8.0).
    pub clients: Vec<(String, Version)>,
}

impl World {
    pub fn healthy() -> World {
        let tenants = vec![
            Tenant::new("contoso", &["contoso.com"]),
            Tenant::new("fabrikam", &["fabrikam.com"]),
            Tenant::public_im("msn", &["msn.com", "live.com"], &["live-contoso.com"]),
        ];
        let all = [ALICE, BOB, CAROL, DAVE, ERIN];
        let dir = Directory::new(tenants.clone(), vec![]).unwrap();
        let users = all
            .iter()
            .map(|&a| {
                let home = dir.home_index(a);
                let others: Vec<&str> = all
                    .iter()
                    .filter(|&&o| dir.home_index(o) != home)
                    .map(|&o| written_by(a, o))
                    .collect();
                User {
                    contacts: ContactList::with(&others),
                    ..User::new(a, "pw")
                }
            })
            .collect();
        World {
            tenants,
            users,
            clients: Vec::new(),
        }
    }

    pub fn tenant(&mut self, name: &str) -> &mut Tenant {
        self.tenants.iter_mut().find(|t| t.name == name).unwrap()
    }

    pub fn user(&mut self, address: &str) -> &mut User {
        self.users
            .iter_mut()
            .find(|u| u.address == address)
            .unwrap()
    }

    /// The service with everyone signed in at 0 ns.
    pub fn service(self) -> Service {
        self.service_with(Timers::default())
    }

    pub fn service_with(self, timers: Timers) -> Service {
        let addresses: Vec<String> = self.users.iter().map(|u| u.address.clone()).collect();
        let mut s = Service::with_timers(Directory::new(self.tenants, self.users).unwrap(), timers);
        for a in addresses {
            let client = self
                .clients
                .iter()
                .find(|(c, _)| *c == a)
                .map_or(v("8.0"), |c| c.1);
            assert!(sign_in(&mut s, &a, "pw", client).is_ok(), "{a} signs in");
        }
        drain(&mut s);
        s
    }
}

pub(super) fn sign_in(s: &mut Service, a: &str, pw: &str, client: Version) -> Response {
    s.handle(
        0,
        Request::SignIn {
            address: a.into(),
            password: pw.into(),
            client,
        },
    )
}

pub(super) fn invite(s: &mut Service, from: &str, to: &str) -> Response {
    s.handle(
        1,
        Request::Invite {
            from: from.into(),
            to: to.into(),
        },
    )
}

pub(super) fn message(s: &mut Service, from: &str, to: &str) -> Response {
    s.handle(
        1,
        Request::Message {
            from: from.into(),
            to: to.into(),
            text: "hello".into(),
        },
    )
}

pub(super) fn subscribe(s: &mut Service, watcher: &str, target: &str) -> Response {
    s.handle(
        1,
        Request::Subscribe {
            watcher: watcher.into(),
            target: target.into(),
        },
    )
}

/// Every notice waiting.
pub(super) fn drain(s: &mut Service) -> Vec<Notice> {
    std::iter::from_fn(|| s.poll_notice()).collect()
}
