//! A client's account with the calling service: it signs in when the client starts, over its
//! own reliable channel to the service host, and knows whether it is signed in, still trying,
//! or failed and why. Calls wait for it (a client cannot dial before it has signed in) and are
//! not attempted when it failed (SVC-LOGIN: "no call is attempted").
//!
//! A sign-in that goes unanswered until the channel's deadline means the service could not be
//! reached (`network-down`); the client tries again every [`RETRY_NS`] while the scenario
//! runs, as real clients do. A refusal (wrong password, old client) is final: the user must
//! act. A 503 (outage) is retried like a timeout. Sans-IO: time goes in, envelopes come out.
//!
//! ```
//! use callharness::agent::account::{Account, SignIn};
//! use callharness::agent::signaling::{Envelope, SignalBody};
//! use callharness::service::Response;
//! let mut a = Account::new("alice@example.com", "pw", "8.0".parse().unwrap(), 20_000_000_000);
//! a.start(0);
//! let req = a.poll_send(0).unwrap();                  // to the service host
//! let SignalBody::Request(n, _) = req.body else { unreachable!() };
//! a.receive(40_000_000, Envelope { id: 1, body: SignalBody::Response(n, Response::ok()) });
//! assert!(matches!(a.state(), SignIn::SignedIn { at: 40_000_000 }));
//! ```

use super::signaling::{Envelope, SignalBody, Signaling};
use super::{Failure, FailureClass};
use crate::service::{directory::Version, Notice, Refusal, Request, Response};
use std::collections::BTreeMap;

/// How long after a sign-in that could not reach the service, or found it down, the client
/// tries again, ns.
pub const RETRY_NS: u64 = 15_000_000_000;

/// Where the account's sign-in stands.
#[derive(Debug, Clone, PartialEq)]
pub enum SignIn {
    /// Not started (the client has not started yet).
    Idle,
    /// A sign-in is on its way; calls wait.
    Trying { since: u64 },
    /// Signed in at `at`, ns.
    SignedIn { at: u64 },
    /// The last attempt failed; `retry` says when the next one goes, if one will.
    Failed {
        failure: Failure,
        retry: Option<u64>,
    },
}

/// One sign-in attempt's outcome, for the report's time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub started: u64,
    /// When it ended (answered or given up), ns; None while on its way.
    pub ended: Option<u64>,
    /// Its failure, None when it succeeded (or is on its way).
    pub failure: Option<Failure>,
}

/// An IM this client sent, and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct SentIm {
    pub to: String,
    pub text: String,
    pub sent: u64,
    /// When the service answered, and its response; None while unanswered.
    pub answer: Option<(u64, Response)>,
}

/// A client's account; see the module docs.
#[derive(Debug)]
pub struct Account {
    pub address: String,
    password: String,
    pub client: Version,
    channel: Signaling,
    state: SignIn,
    next_request: u32,
    /// The request number of the sign-in on its way.
    waiting: Option<u32>,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
    /// How often a signed-in client renews its registration, ns (None: never).
    refresh_every: Option<u64>,
    next_refresh: Option<u64>,
    /// Requests on their way other than the sign-in: number -> index into `ims`, or
    /// `usize::MAX` for a refresh.
    in_flight: BTreeMap<u32, usize>,
    /// IMs sent, in order.
    pub ims: Vec<SentIm>,
    /// What the service sent unasked (delivered IMs), with their arrival times.
    pub notices: Vec<(u64, Notice)>,
}

impl Account {
    /// An account for `address` that signs in with `password` from a client of version
    /// `client`; a request unanswered for `deadline_ns` has failed.
    /// The account's signaling channel (the simulation carries it over real TCP).
    pub fn signaling(&mut self) -> &mut Signaling {
        &mut self.channel
    }

    pub fn new(address: &str, password: &str, client: Version, deadline_ns: u64) -> Account {
        Account {
            address: address.to_string(),
            password: password.to_string(),
            client,
            channel: Signaling::new(deadline_ns),
            state: SignIn::Idle,
            next_request: 1,
            waiting: None,
            attempts: Vec::new(),
            refresh_every: None,
            next_refresh: None,
            in_flight: BTreeMap::new(),
            ims: Vec::new(),
            notices: Vec::new(),
        }
    }

    /// Renews the registration every `every_ns` while signed in (clients refresh well before
    /// the registrar's expiry; half of it is the usual choice).
    pub fn refreshing_every(mut self, every_ns: u64) -> Account {
        self.refresh_every = Some(every_ns.max(1));
        self
    }

    fn request(&mut self, now: u64, req: Request) -> u32 {
        let n = self.next_request;
        self.next_request += 1;
        self.channel.send(now, SignalBody::Request(n, req));
        n
    }

    /// Sends an IM to `to` (as written); its outcome lands in [`Account::ims`].
    pub fn send_im(&mut self, now: u64, to: &str, text: &str) {
        let n = self.request(
            now,
            Request::Message {
                from: self.address.clone(),
                to: to.to_string(),
                text: text.to_string(),
            },
        );
        self.in_flight.insert(n, self.ims.len());
        self.ims.push(SentIm {
            to: to.to_string(),
            text: text.to_string(),
            sent: now,
            answer: None,
        });
    }

    /// The user changes their contact list: adds, removes, blocks or unblocks `address`.
    pub fn change_contacts(&mut self, now: u64, op: crate::scenario::ContactOp, address: &str) {
        use crate::scenario::ContactOp;
        let (owner, contact) = (self.address.clone(), address.to_string());
        let req = match op {
            ContactOp::Add => Request::AddContact { owner, contact },
            ContactOp::Remove => Request::RemoveContact { owner, contact },
            ContactOp::Block => Request::Block { owner, contact },
            ContactOp::Unblock => Request::Unblock { owner, contact },
        };
        let n = self.request(now, req);
        self.in_flight.insert(n, usize::MAX);
    }

    /// The user sets their own state.
    pub fn publish(&mut self, now: u64, state: crate::service::Availability) {
        let n = self.request(
            now,
            Request::Publish {
                address: self.address.clone(),
                state,
            },
        );
        self.in_flight.insert(n, usize::MAX);
    }

    /// The client's network changed (a new address): a signed-in client registers again at
    /// once from the new address, as clients reconnect their signaling connection.
    pub fn network_changed(&mut self, now: u64) {
        if self.signed_in() {
            self.refresh(now);
        }
    }

    fn refresh(&mut self, now: u64) {
        let n = self.request(
            now,
            Request::Refresh {
                address: self.address.clone(),
            },
        );
        self.in_flight.insert(n, usize::MAX);
        self.next_refresh = self.refresh_every.map(|e| now + e);
    }

    /// The client starts: it signs in.
    pub fn start(&mut self, now: u64) {
        if self.state == SignIn::Idle {
            self.sign_in(now);
        }
    }

    fn sign_in(&mut self, now: u64) {
        self.channel.clear_timed_out();
        let n = self.request(
            now,
            Request::SignIn {
                address: self.address.clone(),
                password: self.password.clone(),
                client: self.client,
            },
        );
        self.waiting = Some(n);
        self.state = SignIn::Trying { since: now };
        self.attempts.push(Attempt {
            started: now,
            ended: None,
            failure: None,
        });
    }

    /// Where the sign-in stands.
    pub fn state(&self) -> &SignIn {
        &self.state
    }

    /// True once signed in.
    pub fn signed_in(&self) -> bool {
        matches!(self.state, SignIn::SignedIn { .. })
    }

    /// The next envelope for the service host, if any.
    pub fn poll_send(&mut self, now: u64) -> Option<Envelope> {
        self.channel.poll_send(now)
    }

    /// An envelope from the service host arrived.
    pub fn receive(&mut self, now: u64, env: Envelope) {
        let (n, resp) = match self.channel.receive(now, env) {
            Some(SignalBody::Response(n, resp)) => (n, resp),
            Some(SignalBody::Notice(notice)) => {
                self.notices.push((now, notice));
                return;
            }
            _ => return,
        };
        if let Some(i) = self.in_flight.remove(&n) {
            let signed_in = self.signed_in();
            match self.ims.get_mut(i) {
                Some(im) => im.answer = Some((now, resp)),
                // A refresh the service no longer knows (it lost our session): sign in again.
                None if resp.refusal == Some(Refusal::NotSignedIn) && signed_in => {
                    self.next_refresh = None;
                    self.sign_in(now);
                }
                None => {}
            }
            return;
        }
        if self.waiting != Some(n) {
            return;
        }
        self.waiting = None;
        if resp.is_ok() {
            self.state = SignIn::SignedIn { at: now };
            self.next_refresh = self.refresh_every.map(|e| now + e);
            self.end_attempt(now, None);
            return;
        }
        let failure = refusal_failure(now, &resp);
        // An outage passes; a wrong password or an old client does not, until the user acts.
        let retry = (resp.refusal == Some(Refusal::ServiceDown)).then_some(now + RETRY_NS);
        self.end_attempt(now, Some(failure.clone()));
        self.state = SignIn::Failed { failure, retry };
    }

    fn end_attempt(&mut self, now: u64, failure: Option<Failure>) {
        if let Some(a) = self.attempts.last_mut() {
            a.ended = Some(now);
            a.failure = failure;
        }
    }

    /// When the account next needs to run, ns.
    pub fn poll_timeout(&self) -> Option<u64> {
        let retry = match &self.state {
            SignIn::Failed { retry, .. } => *retry,
            SignIn::SignedIn { .. } => self.next_refresh,
            _ => None,
        };
        match (self.channel.poll_timeout(), retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the account's timers: retransmissions, the sign-in deadline, the next retry.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.channel.handle_timeout(now) && self.waiting.is_some() {
            self.waiting = None;
            let failure = Failure {
                class: FailureClass::NetworkDown,
                code: None,
                at: now,
                detail: format!(
                    "signing in as {}: the service did not answer (the client could not reach it)",
                    self.address
                ),
            };
            self.end_attempt(now, Some(failure.clone()));
            self.state = SignIn::Failed {
                failure,
                retry: Some(now + RETRY_NS),
            };
        }
        if let SignIn::Failed {
            retry: Some(at), ..
        } = self.state
        {
            if at <= now {
                self.sign_in(now);
            }
        }
        if self.signed_in() && self.next_refresh.is_some_and(|t| t <= now) {
            self.refresh(now);
        }
    }
}

/// The failure a refused sign-in leaves the client with.
fn refusal_failure(now: u64, resp: &Response) -> Failure {
    Failure {
        class: match resp.refusal {
            Some(r) => FailureClass::Refused(r),
            None => FailureClass::StackError,
        },
        code: Some(resp.code),
        at: now,
        detail: format!("sign-in refused: {}", resp.code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(a: &mut Account, now: u64, resp: Response) {
        let env = a.poll_send(now).expect("a request to send");
        let SignalBody::Request(n, _) = env.body else {
            panic!("not a request: {env:?}")
        };
        // The service host acknowledges the request, then answers it.
        a.receive(
            now + 1,
            Envelope {
                id: 0,
                body: SignalBody::Ack(env.id),
            },
        );
        a.receive(
            now + 1,
            Envelope {
                id: 100 + n,
                body: SignalBody::Response(n, resp),
            },
        );
    }

    fn account() -> Account {
        Account::new("a@x.com", "pw", Version(8, 0, 0), 20_000_000_000)
    }

    #[test]
    fn a_wrong_password_is_final() {
        let mut a = account();
        a.start(0);
        answer(&mut a, 0, Response::refused(Refusal::SignInFailed));
        let SignIn::Failed { failure, retry } = a.state().clone() else {
            panic!("{:?}", a.state())
        };
        assert_eq!(failure.class.name(), "sign-in-failed");
        assert_eq!(failure.code.map(|c| c.number()), Some(401));
        assert_eq!(retry, None);
        assert_eq!(
            a.poll_timeout(),
            Some(0),
            "the ack of the response is still to go"
        );
        while a.poll_send(2).is_some() {}
        assert_eq!(a.poll_timeout(), None);
    }

    #[test]
    fn an_outage_is_retried_and_can_succeed() {
        let mut a = account();
        a.start(0);
        answer(&mut a, 0, Response::refused(Refusal::ServiceDown));
        assert!(matches!(
            a.state(),
            SignIn::Failed {
                retry: Some(RETRY_NS_PLUS_1),
                ..
            }
        ));
        while a.poll_send(2).is_some() {}
        a.handle_timeout(RETRY_NS + 1);
        assert!(matches!(a.state(), SignIn::Trying { .. }));
        answer(&mut a, RETRY_NS + 1, Response::ok());
        assert!(a.signed_in());
        assert_eq!(a.attempts.len(), 2);
        assert!(a.attempts[0].failure.is_some() && a.attempts[1].failure.is_none());
    }
    const RETRY_NS_PLUS_1: u64 = RETRY_NS + 1;

    #[test]
    fn an_unanswered_sign_in_means_the_network_is_down() {
        let mut a = account();
        a.start(0);
        let mut now = 0;
        // Nothing ever answers: the request goes at 0, 1, 3, 7, 15 s, then the 20 s deadline.
        while !matches!(a.state(), SignIn::Failed { .. }) {
            now = a.poll_timeout().unwrap().max(now);
            a.handle_timeout(now);
            while a.poll_send(now).is_some() {}
        }
        assert_eq!(now, 20_000_000_000);
        let SignIn::Failed { failure, retry } = a.state().clone() else {
            unreachable!()
        };
        assert_eq!(failure.class, FailureClass::NetworkDown);
        assert_eq!(retry, Some(now + RETRY_NS));
        // The retry goes out on time, as a fresh request.
        a.handle_timeout(now + RETRY_NS);
        let env = a.poll_send(now + RETRY_NS).unwrap();
        assert!(matches!(
            env.body,
            SignalBody::Request(2, Request::SignIn { .. })
        ));
    }

    #[test]
    fn a_stale_response_is_ignored() {
        let mut a = account();
        a.start(0);
        let _ = a.poll_send(0);
        a.receive(
            5,
            Envelope {
                id: 9,
                body: SignalBody::Response(77, Response::ok()),
            },
        );
        assert!(matches!(a.state(), SignIn::Trying { since: 0 }));
    }
}
