//! The simulated calling service every client signs in to (issue 15): tenants and users,
//! sign-in, call admission, IM, presence with its timers, contact lists, federation between
//! tenants, and partial outages. Sans-IO like `net/` and `agent/`: it is handed each request
//! with the time and answers with a SIP-like [`Response`]; it tells its driver when it next
//! needs the time ([`Service::poll_timeout`], [`Service::handle_timeout`]) and queues what it
//! sends clients unasked ([`Service::poll_notice`]). It reads no clock and owns no socket.
//!
//! # The model
//! - **Directory** ([`directory`]): tenants, each an organisation or a public IM provider
//!   (consumer accounts, some on custom domains), with domains, a policy (A/V, external
//!   access, public IM), a minimum client version, and federation settings (set up or not,
//!   DNS SRV record, allow and block lists, the oldest consumer client it accepts); users with
//!   a password, their own policy overrides and initial contact lists.
//! - **Sessions**: sign-in checks the password (401) and the client version (488) and
//!   registers the client, shown Available. The registration lives until sign-out, an outage
//!   of signaling, or [`presence::Timers::registration_expiry_ns`] without a
//!   [`Request::Refresh`]. The driver says when a registered client cannot be reached
//!   ([`Service::set_reachable`]); a sign-in or refresh shows it can again.
//! - **Reaching someone** ([`route`]): calls, IMs, presence and contact requests pass the same
//!   checks in a fixed order: the sender's own policy, discovery (address format, SRV
//!   records, federation set up, the account), the domain lists, the far side's policy and
//!   client, then the two users' contact permissions. A call or IM then needs the recipient
//!   signed in (480) and reachable (408).
//! - **IM** ([`Request::Message`]): delivered as a [`Notice::Message`]; a federation refusal
//!   shows the KB article's "This message was not delivered to ..." text and, for a 403 of
//!   the domain kind, logs its "403 Forbidden: From URI not authorized ..." line.
//! - **Presence** ([`presence`]): published states, subscriptions that follow every change,
//!   "Presence Unknown" for a refused pair, and the registration timer that keeps a roaming
//!   user online while unreachable.
//! - **Parts** ([`health`]): signaling and relay up or down on their own; the status page.
//!
//! Not wired into scenarios or the simulation yet: the next step carries its requests over
//! the emulated network (the service on its own host) and gives the scenario language its
//! `service:` section. Until then no scenario field reaches it.
//!
//! ```
//! use callharness::service::{Service, Request, Refusal, directory::*};
//! let contoso = Tenant { min_client: "7.0".parse().unwrap(),
//!     ..Tenant::new("contoso", &["contoso.com"]) };
//! let dir = Directory::new(vec![contoso],
//!     vec![User::new("alice@contoso.com", "pw"), User::new("bob@contoso.com", "pw")]).unwrap();
//! let mut svc = Service::new(dir);
//! let v8 = "8.1".parse().unwrap();
//! let wrong = Request::SignIn { address: "alice@contoso.com".into(), password: "nope".into(), client: v8 };
//! assert_eq!(svc.handle(0, wrong).refusal, Some(Refusal::SignInFailed)); // 401, SVC-LOGIN
//! for a in ["alice@contoso.com", "bob@contoso.com"] {
//!     let ok = Request::SignIn { address: a.into(), password: "pw".into(), client: v8 };
//!     assert!(svc.handle(0, ok).is_ok());
//! }
//! let call = Request::Invite { from: "alice@contoso.com".into(), to: "bob@contoso.com".into() };
//! assert_eq!(svc.handle(1, call).code.number(), 200);
//! ```
//!
//! Federation: fabrikam is not set up for it, so an IM there is refused with the article's
//! words, and its users' presence is unknown.
//! ```
//! use callharness::service::{Service, Request, Refusal, directory::*, presence::PresenceView};
//! let fabrikam = Tenant { federation: Federation { enabled: false, ..Federation::default() },
//!     ..Tenant::new("fabrikam", &["fabrikam.com"]) };
//! let dir = Directory::new(vec![Tenant::new("contoso", &["contoso.com"]), fabrikam],
//!     vec![User::new("alice@contoso.com", "pw"), User::new("bob@fabrikam.com", "pw")]).unwrap();
//! let mut svc = Service::new(dir);
//! for a in ["alice@contoso.com", "bob@fabrikam.com"] {
//!     svc.handle(0, Request::SignIn { address: a.into(), password: "pw".into(), client: Version(8, 0, 0) });
//! }
//! let im = Request::Message { from: "alice@contoso.com".into(), to: "bob@fabrikam.com".into(), text: "hi".into() };
//! let r = svc.handle(1, im);
//! assert_eq!((r.code.number(), r.refusal), (403, Some(Refusal::DomainNotFederated)));
//! assert!(r.shown.unwrap().starts_with("This message was not delivered to bob@fabrikam.com because"));
//! assert_eq!(svc.presence_seen_by("alice@contoso.com", "bob@fabrikam.com"), PresenceView::Unknown);
//! ```

pub mod address;
pub mod contacts;
pub mod directory;
pub mod health;
pub mod presence;
pub mod route;
pub mod status;

pub use presence::{Availability, Notice, PresenceView, Timers};
pub use status::{Code, Refusal, Response};

use contacts::ContactList;
use directory::{Directory, Version};
use health::{Part, Status};
use route::Purpose;
use std::collections::{BTreeMap, VecDeque};

/// A request a client makes of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Sign in (and register) with a password, from a client of this version.
    SignIn {
        address: String,
        password: String,
        client: Version,
    },
    /// Sign out.
    SignOut { address: String },
    /// Renew the registration (the client's keepalive); also shows the client reachable.
    Refresh { address: String },
    /// Place an audio/video call.
    Invite { from: String, to: String },
    /// Send an instant message.
    Message {
        from: String,
        to: String,
        text: String,
    },
    /// Publish one's own state.
    Publish {
        address: String,
        state: Availability,
    },
    /// Watch `target` (as written) until unsubscribed or signed out. A refused pair answers
    /// its refusal and is shown "Presence Unknown", but the subscription stays and follows a
    /// fix (a contact re-added, a block lifted).
    Subscribe { watcher: String, target: String },
    /// Stop watching `target`.
    Unsubscribe { watcher: String, target: String },
    /// Add `contact` (as written) to one's contact list; the contact is told.
    AddContact { owner: String, contact: String },
    /// Remove `contact`, exactly as written, from one's contact list.
    RemoveContact { owner: String, contact: String },
    /// Block `contact` (as written).
    Block { owner: String, contact: String },
    /// Unblock `contact`, exactly as written.
    Unblock { owner: String, contact: String },
    /// Set or clear "Block all invites and communications" (public IM contacts).
    BlockAllInvites { owner: String, on: bool },
}

/// A signed-in client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// The version it signed in with.
    pub client: Version,
    /// When it signed in, ns.
    pub since_ns: u64,
    /// When it last signed in or refreshed, ns.
    pub refreshed_ns: u64,
    /// When the registration ends without another refresh, ns.
    pub expires_ns: u64,
    /// What it last published.
    pub availability: Availability,
    /// Whether requests can reach its client (the driver says; see [`Service::set_reachable`]).
    pub reachable: bool,
}

/// The service: its directory, who is signed in and watches whom, each user's lists, what it
/// has to send, and which of its parts are up.
#[derive(Debug, Clone)]
pub struct Service {
    directory: Directory,
    timers: Timers,
    sessions: BTreeMap<String, Session>,
    lists: BTreeMap<String, ContactList>,
    /// (watcher, target as written) -> the view last sent.
    subscriptions: BTreeMap<(String, String), PresenceView>,
    notices: VecDeque<Notice>,
    signaling_up: bool,
    relay_up: bool,
}

impl Service {
    /// A running service over `directory` with the default timers, nobody signed in.
    pub fn new(directory: Directory) -> Service {
        Service::with_timers(directory, Timers::default())
    }

    /// A running service over `directory` with `timers`.
    pub fn with_timers(directory: Directory, timers: Timers) -> Service {
        let lists = directory
            .users()
            .map(|u| (u.address.clone(), u.contacts.clone()))
            .collect();
        Service {
            directory,
            timers,
            sessions: BTreeMap::new(),
            lists,
            subscriptions: BTreeMap::new(),
            notices: VecDeque::new(),
            signaling_up: true,
            relay_up: true,
        }
    }

    /// Takes the whole service down (every request answers 503, SVC-OUTAGE; registrations and
    /// subscriptions are lost) or brings it back up.
    pub fn set_up(&mut self, up: bool) {
        for p in Part::ALL {
            self.set_part_up(p, up);
        }
    }

    /// Takes one part down or brings it back up.
    pub fn set_part_up(&mut self, part: Part, up: bool) {
        match part {
            Part::Signaling => {
                if !up {
                    self.sessions.clear();
                    self.subscriptions.clear();
                }
                self.signaling_up = up;
            }
            Part::Relay => self.relay_up = up,
        }
    }

    /// Whether `part` is up.
    pub fn part_is_up(&self, part: Part) -> bool {
        self.status().is_up(part)
    }

    /// Whether the whole service is up.
    pub fn is_up(&self) -> bool {
        self.status().all_up()
    }

    /// What the status endpoint reports.
    pub fn status(&self) -> Status {
        Status {
            signaling_up: self.signaling_up,
            relay_up: self.relay_up,
        }
    }

    /// The directory it serves.
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Its timers.
    pub fn timers(&self) -> Timers {
        self.timers
    }

    /// The session of `address`, when signed in.
    pub fn session(&self, address: &str) -> Option<&Session> {
        self.sessions.get(address)
    }

    /// `address`'s contact list, blocked list and "block all invites" box.
    pub fn contacts(&self, address: &str) -> Option<&ContactList> {
        self.lists.get(address)
    }

    /// Tells the service whether requests can reach `address`'s client (the driver knows the
    /// network: a roaming outage, an address change). Presence does not change.
    pub fn set_reachable(&mut self, address: &str, reachable: bool) {
        if let Some(s) = self.sessions.get_mut(address) {
            s.reachable = reachable;
        }
    }

    /// Answers one request at `now_ns`, after ending the registrations due by then.
    pub fn handle(&mut self, now_ns: u64, req: Request) -> Response {
        if !self.signaling_up {
            return Response::refused(Refusal::ServiceDown);
        }
        self.expire(now_ns);
        let response = self.answer(now_ns, req);
        self.renotify();
        response
    }

    fn answer(&mut self, now_ns: u64, req: Request) -> Response {
        let signed_in = |s: &Service, a: &str| s.sessions.contains_key(a);
        let own_edit = |s: &mut Service, owner: &str, edit: &dyn Fn(&mut ContactList)| {
            if !signed_in(s, owner) {
                return Response::refused(Refusal::NotSignedIn);
            }
            edit(s.lists.entry(owner.to_string()).or_default());
            Response::ok()
        };
        match req {
            Request::SignIn {
                address,
                password,
                client,
            } => self.sign_in(now_ns, address, &password, client),
            Request::SignOut { address } => match self.end_session(&address) {
                true => Response::ok(),
                false => Response::refused(Refusal::NotSignedIn),
            },
            Request::Refresh { address } => {
                let expiry = self.timers.registration_expiry_ns;
                match self.sessions.get_mut(&address) {
                    Some(s) => {
                        s.refreshed_ns = now_ns;
                        s.expires_ns = now_ns.saturating_add(expiry);
                        s.reachable = true;
                        Response::ok()
                    }
                    None => Response::refused(Refusal::NotSignedIn),
                }
            }
            Request::Invite { from, to } => self.deliver(&from, &to, None),
            Request::Message { from, to, text } => self.deliver(&from, &to, Some(text)),
            Request::Publish { address, state } => match self.sessions.get_mut(&address) {
                Some(s) => {
                    s.availability = state;
                    Response::ok()
                }
                None => Response::refused(Refusal::NotSignedIn),
            },
            Request::Subscribe { watcher, target } => {
                if !signed_in(self, &watcher) {
                    return Response::refused(Refusal::NotSignedIn);
                }
                match self.subscribe(&watcher, &target) {
                    Ok(()) => Response::ok(),
                    Err(r) => refusal(r).showing(status::PRESENCE_UNKNOWN),
                }
            }
            Request::Unsubscribe { watcher, target } => {
                if !signed_in(self, &watcher) {
                    return Response::refused(Refusal::NotSignedIn);
                }
                self.subscriptions.remove(&(watcher, target));
                Response::ok()
            }
            Request::AddContact { owner, contact } => self.add_contact(&owner, &contact),
            Request::RemoveContact { owner, contact } => own_edit(self, &owner, &|l| {
                l.contacts.remove(&contact);
            }),
            Request::Block { owner, contact } => own_edit(self, &owner, &|l| {
                l.blocked.insert(contact.clone());
            }),
            Request::Unblock { owner, contact } => own_edit(self, &owner, &|l| {
                l.blocked.remove(&contact);
            }),
            Request::BlockAllInvites { owner, on } => {
                own_edit(self, &owner, &|l| l.block_all_invites = on)
            }
        }
    }

    fn sign_in(
        &mut self,
        now_ns: u64,
        address: String,
        password: &str,
        client: Version,
    ) -> Response {
        // Unknown account and wrong password answer alike, as real services do.
        let Some(user) = self.directory.user(&address) else {
            return Response::refused(Refusal::SignInFailed);
        };
        if user.password != password {
            return Response::refused(Refusal::SignInFailed);
        }
        let min = self
            .directory
            .tenant_of(&address)
            .map(|t| t.min_client)
            .unwrap_or_default();
        if client < min {
            return Response::refused(Refusal::ClientOutdated);
        }
        let session = Session {
            client,
            since_ns: now_ns,
            refreshed_ns: now_ns,
            expires_ns: now_ns.saturating_add(self.timers.registration_expiry_ns),
            availability: Availability::Available,
            reachable: true,
        };
        self.sessions.insert(address, session);
        Response::ok()
    }

    /// A call (`text` none) or an IM from `from` to `to` as written: the sender signed in,
    /// the checks of [`route`], then the recipient signed in and reachable.
    fn deliver(&mut self, from: &str, to: &str, text: Option<String>) -> Response {
        if !self.sessions.contains_key(from) {
            return Response::refused(Refusal::NotSignedIn);
        }
        let purpose = match text {
            Some(_) => Purpose::Talk,
            None => Purpose::Call,
        };
        let target = match self.route(from, to, purpose) {
            Ok(t) => t,
            Err(r) => {
                let response = refusal(r);
                return match text {
                    Some(_)
                        if r.is_federation()
                            || (r == Refusal::NoSuchUser && self.is_external(from, to)) =>
                    {
                        response.showing(status::not_delivered_text(to))
                    }
                    _ => response,
                };
            }
        };
        match self.sessions.get(&target) {
            None => return Response::refused(Refusal::Unavailable),
            Some(s) if !s.reachable => return Response::refused(Refusal::Unreachable),
            Some(_) => {}
        }
        if let Some(text) = text {
            self.notices.push_back(Notice::Message {
                from: from.to_string(),
                to: target,
                text,
            });
        }
        Response::ok()
    }

    fn is_external(&self, from: &str, to: &str) -> bool {
        self.directory
            .home_index(from)
            .is_some_and(|h| self.directory.destination(h, to).is_external())
    }

    /// Adds `contact` to `owner`'s list and, when it is new there and nothing but the missing
    /// other half of the pair stands between them, tells the contact if signed in.
    fn add_contact(&mut self, owner: &str, contact: &str) -> Response {
        if !self.sessions.contains_key(owner) {
            return Response::refused(Refusal::NotSignedIn);
        }
        let list = self.lists.entry(owner.to_string()).or_default();
        if !list.contacts.insert(contact.to_string()) {
            return Response::ok();
        }
        let open = matches!(
            self.route(owner, contact, Purpose::Talk),
            Ok(_) | Err(Refusal::NotMutualContacts)
        );
        let account = self
            .directory
            .home_index(owner)
            .and_then(|h| self.directory.resolve(h, contact))
            .map(str::to_string);
        if let Some(account) = account.filter(|a| open && self.sessions.contains_key(a)) {
            self.notices.push_back(Notice::ContactAdded {
                from: owner.to_string(),
                to: account,
            });
        }
        Response::ok()
    }
}

/// The response for refusal `r`, with the KB article's log line where it applies.
fn refusal(r: Refusal) -> Response {
    let response = Response::refused(r);
    if r.logs_not_authorized() {
        response.logging(status::NOT_AUTHORIZED_LOG_LINE)
    } else {
        response
    }
}

#[cfg(test)]
mod tests;
