//! The calling service on its own emulated host: every client's account talks to it, and every
//! call's signaling goes through it (caller -> service -> callee and back), over the emulated
//! network like any other traffic, so an outage, a firewall rule or a roaming client affects it
//! as it would affect the real thing.
//!
//! The host keeps one reliable channel per account and one per call leg (the service's end of
//! the client's signaling connection). A call's first offer is the invite: the service admits
//! it ([`Service::handle`] with [`Request::Invite`]) and relays it to the callee, or answers the
//! caller with its refusal instead. Everything after an admitted offer (answer, re-offers,
//! hang-up) is relayed as it comes. When the service cannot deliver to one side of a call
//! (that client's channel gives up), it tells the other side, as a SIP proxy answers 480.

use crate::agent::signaling::{Envelope, SignalBody, Signaling};
use crate::net::HostId;
use crate::service::{Refusal, Request, Response, Service};

/// The service's end of one call leg's signaling.
#[derive(Debug)]
struct LegChannel {
    channel: Signaling,
    /// The other leg of the call.
    peer: usize,
    /// Whether this is the caller's leg.
    caller: bool,
    /// The addresses of the caller and the callee.
    from: String,
    to: String,
    /// The invite was admitted: the call's messages are relayed.
    admitted: bool,
    /// The service told the other side that this side cannot be reached.
    gave_up: bool,
}

/// Where an envelope from the service host goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum To {
    /// The account of participant `p`.
    Account(usize),
    /// Call leg `l`.
    Leg(usize),
}

/// The service and its ends of the clients' channels.
pub(crate) struct ServiceHost {
    pub(crate) host: HostId,
    pub(crate) service: Service,
    accounts: Vec<Signaling>,
    /// Each account's address, in participant order.
    addresses: Vec<String>,
    legs: Vec<LegChannel>,
    deadline_ns: u64,
    /// Envelopes ready to go, in the order made.
    out: Vec<(To, Envelope)>,
}

impl ServiceHost {
    /// The service on `host`, with a channel per account (`addresses` in participant order);
    /// `deadline_ns` as the clients'.
    pub(crate) fn new(
        host: HostId,
        service: Service,
        addresses: Vec<String>,
        deadline_ns: u64,
    ) -> Self {
        ServiceHost {
            host,
            service,
            accounts: addresses
                .iter()
                .map(|_| Signaling::new(deadline_ns))
                .collect(),
            addresses,
            legs: Vec::new(),
            deadline_ns,
            out: Vec::new(),
        }
    }

    /// The service's end of participant `p`'s account channel.
    pub(crate) fn account_channel(&mut self, p: usize) -> Option<&mut Signaling> {
        self.accounts.get_mut(p)
    }

    /// The service's end of leg `leg`'s channel.
    pub(crate) fn leg_channel(&mut self, leg: usize) -> Option<&mut Signaling> {
        self.legs.get_mut(leg).map(|l| &mut l.channel)
    }

    /// A call's two legs (caller's first): their channels, and the addresses of the call.
    pub(crate) fn add_call(&mut self, caller_leg: usize, callee_leg: usize, from: &str, to: &str) {
        for (leg, peer, caller) in [
            (caller_leg, callee_leg, true),
            (callee_leg, caller_leg, false),
        ] {
            while self.legs.len() <= leg {
                self.legs.push(LegChannel {
                    channel: Signaling::new(self.deadline_ns),
                    peer: usize::MAX,
                    caller: false,
                    from: String::new(),
                    to: String::new(),
                    admitted: false,
                    gave_up: false,
                });
            }
            let l = &mut self.legs[leg];
            l.peer = peer;
            l.caller = caller;
            l.from = from.to_string();
            l.to = to.to_string();
        }
    }

    /// An envelope from participant `p`'s account.
    pub(crate) fn on_account(&mut self, now: u64, p: usize, env: Envelope) {
        let Some(ch) = self.accounts.get_mut(p) else {
            return;
        };
        let body = ch.receive(now, env);
        // Heard from: its connection works (again).
        self.service.set_reachable(&self.addresses[p], true);
        if let Some(SignalBody::Request(n, req)) = body {
            let resp = self.service.handle(now, req);
            self.accounts[p].send(now, SignalBody::Response(n, resp));
        }
        self.flush_account(now, p);
        self.deliver_notices(now);
    }

    /// Sends the service's notices (delivered IMs, presence changes) to the participants
    /// they are for; one for an address no participant signs in as goes nowhere.
    fn deliver_notices(&mut self, now: u64) {
        while let Some(n) = self.service.poll_notice() {
            let Some(p) = self.addresses.iter().position(|a| a == n.recipient()) else {
                continue;
            };
            self.accounts[p].send(now, SignalBody::Notice(n));
            self.flush_account(now, p);
        }
    }

    /// An envelope from call leg `leg`.
    pub(crate) fn on_leg(&mut self, now: u64, leg: usize, env: Envelope) {
        let Some(l) = self.legs.get_mut(leg) else {
            return;
        };
        let Some(body) = l.channel.receive(now, env) else {
            self.flush_leg(now, leg);
            return;
        };
        let peer = l.peer;
        let me = if l.caller { &l.from } else { &l.to }.clone();
        self.service.set_reachable(&me, true);
        let l = &mut self.legs[leg];
        match body {
            SignalBody::Offer(_) if l.caller && !l.admitted => {
                let resp = self.service.handle(
                    now,
                    Request::Invite {
                        from: l.from.clone(),
                        to: l.to.clone(),
                    },
                );
                if resp.is_ok() {
                    l.admitted = true;
                    self.legs[peer].admitted = true;
                    self.legs[peer].channel.send(now, body);
                } else {
                    l.channel.send(now, SignalBody::Refused(resp));
                }
            }
            _ if !l.admitted => {}
            _ if !self.service.is_up() => {
                l.channel.send(
                    now,
                    SignalBody::Refused(Response::refused(Refusal::ServiceDown)),
                );
            }
            body => self.legs[peer].channel.send(now, body),
        }
        self.flush_leg(now, leg);
        if peer < self.legs.len() {
            self.flush_leg(now, peer);
        }
    }

    fn flush_account(&mut self, now: u64, p: usize) {
        while let Some(env) = self.accounts[p].poll_send(now) {
            self.out.push((To::Account(p), env));
        }
    }

    fn flush_leg(&mut self, now: u64, leg: usize) {
        while let Some(env) = self.legs[leg].channel.poll_send(now) {
            self.out.push((To::Leg(leg), env));
        }
    }

    /// Envelopes ready to go.
    pub(crate) fn drain(&mut self) -> std::vec::Drain<'_, (To, Envelope)> {
        self.out.drain(..)
    }

    /// When the host next needs to run, ns.
    pub(crate) fn poll_timeout(&self) -> Option<u64> {
        self.accounts
            .iter()
            .chain(self.legs.iter().map(|l| &l.channel))
            .filter_map(Signaling::poll_timeout)
            .chain(self.service.poll_timeout())
            .min()
    }

    /// Retransmissions and deadlines. A leg whose channel gave up cannot be reached: the
    /// other side of its call is told (408), once, and the service marks that client
    /// unreachable until it is heard from again.
    pub(crate) fn handle_timeout(&mut self, now: u64) {
        if self.service.poll_timeout().is_some_and(|t| t <= now) {
            self.service.handle_timeout(now);
            self.deliver_notices(now);
        }
        for p in 0..self.accounts.len() {
            if self.accounts[p].poll_timeout().is_some_and(|t| t <= now) {
                if self.accounts[p].handle_timeout(now) {
                    self.service.set_reachable(&self.addresses[p], false);
                    self.accounts[p].clear_timed_out();
                }
                self.flush_account(now, p);
            }
        }
        for leg in 0..self.legs.len() {
            if self.legs[leg]
                .channel
                .poll_timeout()
                .is_none_or(|t| t > now)
            {
                continue;
            }
            let l = &mut self.legs[leg];
            if l.channel.handle_timeout(now) && !l.gave_up && l.peer < usize::MAX {
                l.gave_up = true;
                let peer = l.peer;
                let gone = if l.caller { &l.from } else { &l.to }.clone();
                // The service now knows that client's connection is dead.
                self.service.set_reachable(&gone, false);
                self.legs[peer].channel.send(
                    now,
                    SignalBody::Refused(Response::refused(Refusal::Unreachable)),
                );
                self.flush_leg(now, peer);
            }
            self.flush_leg(now, leg);
        }
    }
}
