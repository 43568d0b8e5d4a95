//! The simulated calling service every client signs in to (issue 15, first step): tenants and
//! users, sign-in with credentials and a minimum client version, call admission by A/V policy,
//! and outages. Sans-IO like `net/` and `agent/`: it is handed each request with the time and
//! answers with a SIP-like [`Response`]; it reads no clock and owns no socket.
//!
//! Not wired into scenarios or the simulation yet: the next step carries its requests over
//! the emulated network (the service on its own host) and gives the scenario language its
//! `service:` section. Until then no scenario field reaches it.
//!
//! ```
//! use callharness::service::{Service, Request, Refusal, directory::*};
//! let contoso = Tenant { name: "contoso".into(), domains: vec!["contoso.com".into()],
//!     policy: Policy::default(), min_client: "7.0".parse().unwrap() };
//! let user = |a: &str| User { address: a.into(), password: "pw".into(), audio_video: None };
//! let dir = Directory::new(vec![contoso], vec![user("alice@contoso.com"), user("bob@contoso.com")]).unwrap();
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

pub mod directory;
pub mod status;

pub use status::{Code, Refusal, Response};

use directory::{Directory, Version};
use std::collections::BTreeMap;

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
    /// Place an audio/video call.
    Invite { from: String, to: String },
}

/// A signed-in client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub client: Version,
    /// When it signed in, ns.
    pub since_ns: u64,
}

/// The service: its directory, who is signed in, and whether it is up.
#[derive(Debug, Clone)]
pub struct Service {
    directory: Directory,
    sessions: BTreeMap<String, Session>,
    up: bool,
}

impl Service {
    /// A running service over `directory`, nobody signed in.
    pub fn new(directory: Directory) -> Service {
        Service {
            directory,
            sessions: BTreeMap::new(),
            up: true,
        }
    }

    /// Takes the service down (every request answers 503, SVC-OUTAGE; sessions are lost) or
    /// brings it back up.
    pub fn set_up(&mut self, up: bool) {
        if !up {
            self.sessions.clear();
        }
        self.up = up;
    }

    /// Whether the service is up: what its status endpoint reports.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// The session of `address`, when signed in.
    pub fn session(&self, address: &str) -> Option<&Session> {
        self.sessions.get(address)
    }

    /// Answers one request at `now_ns`.
    pub fn handle(&mut self, now_ns: u64, req: Request) -> Response {
        if !self.up {
            return Response::refused(Refusal::ServiceDown);
        }
        match req {
            Request::SignIn {
                address,
                password,
                client,
            } => {
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
                self.sessions.insert(
                    address,
                    Session {
                        client,
                        since_ns: now_ns,
                    },
                );
                Response::ok()
            }
            Request::SignOut { address } => match self.sessions.remove(&address) {
                Some(_) => Response::ok(),
                None => Response::refused(Refusal::NotSignedIn),
            },
            Request::Invite { from, to } => self.admit(&from, &to),
        }
    }

    /// Call admission: the caller signed in, the callee known, A/V allowed for both (the
    /// caller's policy first), the callee signed in.
    fn admit(&self, from: &str, to: &str) -> Response {
        if !self.sessions.contains_key(from) {
            return Response::refused(Refusal::NotSignedIn);
        }
        if !self.directory.audio_video_allowed(from) {
            return Response::refused(Refusal::AvDisabled);
        }
        if self.directory.user(to).is_none() {
            return Response::refused(Refusal::NoSuchUser);
        }
        if !self.directory.audio_video_allowed(to) {
            return Response::refused(Refusal::AvDisabled);
        }
        if !self.sessions.contains_key(to) {
            return Response::refused(Refusal::Unavailable);
        }
        Response::ok()
    }
}

#[cfg(test)]
mod tests;
