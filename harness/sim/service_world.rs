//! The simulation's side of the calling service: clients signing in and renewing their
//! registration, calls waiting for their caller's sign-in, the service host's traffic sent
//! where the service reaches each client, the timeline's IMs and presence looks, and the
//! presence lags (shown signed in while unreachable) measured against the network's truth.

use super::service_host::To;
use super::world::Wire;
use super::{Sim, SimError, ACCOUNT_TIMER, SERVICE_TIMER, SIGNALING_PORT};
use crate::agent::account::SignIn;
use crate::net::{Datagram, HostId};
use crate::scenario::Scenario;
use std::cmp::Reverse;
use std::net::SocketAddrV4;

impl Sim {
    /// Places call `ci` now, or holds it until its caller has signed in; a caller whose
    /// sign-in failed does not attempt the call (its legs are made, and end at once with
    /// the sign-in's failure).
    pub(super) fn place_call(&mut self, ci: usize) -> Result<(), SimError> {
        let p = self.calls[ci].caller_host.0 as usize;
        match self.accounts[p].state().clone() {
            SignIn::Idle | SignIn::Trying { .. } => {
                self.waiting_calls.push(ci);
                Ok(())
            }
            SignIn::SignedIn { .. } => match self.device_refusal(ci) {
                None => self.start_call(ci),
                Some((failure, callee_too)) => self.not_attempted(ci, failure, callee_too),
            },
            SignIn::Failed { failure, .. } => self.not_attempted(ci, failure, false),
        }
    }

    /// Ends call `ci` before any network traffic for it: its legs are made and end at once
    /// with `failure` (the callee's too when `callee_too`, else without a failure: it never
    /// hears of the call).
    fn not_attempted(
        &mut self,
        ci: usize,
        failure: crate::agent::Failure,
        callee_too: bool,
    ) -> Result<(), SimError> {
        self.start_call_legs(ci)?;
        if let Some((a, b)) = self.calls[ci].legs {
            let now = self.now;
            self.legs[a].not_attempted(now, failure.clone());
            self.legs[b].not_attempted(now, failure);
            if !callee_too {
                self.legs[b].failure = None;
            }
            self.after_touch(a);
            self.after_touch(b);
        }
        Ok(())
    }

    /// The device failure that keeps call `ci` from being placed: the caller's microphone or
    /// speaker is missing or in use (its client places nothing), or the callee's is (its
    /// client cannot answer; this slice decides that at placement, without the invite and
    /// its decline on the network). With whether the callee's leg fails too.
    fn device_refusal(&self, ci: usize) -> Option<(crate::agent::Failure, bool)> {
        let call = &self.calls[ci];
        let sides = [
            ("caller", call.caller_host, &call.caller),
            ("callee", call.callee_host, &call.callee),
        ];
        for (side, host, name) in sides {
            let Some((device, state)) = self
                .devices
                .get(host.0 as usize)
                .and_then(|d| d.unavailable())
            else {
                continue;
            };
            let detail = format!(
                "{name}'s {device} is {} ({side}): {}",
                state.name(),
                crate::agent::FailureClass::AudioDeviceUnavailable.client_message()
            );
            let failure = crate::agent::Failure {
                class: crate::agent::FailureClass::AudioDeviceUnavailable,
                code: None,
                at: self.now,
                detail,
            };
            return Some((failure, side == "callee"));
        }
        None
    }

    /// Sends what participant `p`'s account produced, reschedules it, and places the calls
    /// that waited for its sign-in once that is decided.
    pub(super) fn after_account(&mut self, p: usize) -> Result<(), SimError> {
        let now = self.now;
        while let Some(env) = self.accounts[p].poll_send(now) {
            let wire = Wire::Account {
                participant: p,
                to_service: true,
                env,
            };
            self.client_signal_send(p, wire);
        }
        let t = self.accounts[p].poll_timeout().map(|t| t.max(now));
        if t != self.account_scheduled[p] {
            self.account_scheduled[p] = t;
            if let Some(t) = t {
                self.timers.push(Reverse((t, ACCOUNT_TIMER | p)));
            }
        }
        if !matches!(self.accounts[p].state(), SignIn::Trying { .. }) {
            let ready: Vec<usize> = self
                .waiting_calls
                .iter()
                .copied()
                .filter(|&ci| self.calls[ci].caller_host.0 as usize == p)
                .collect();
            self.waiting_calls.retain(|ci| !ready.contains(ci));
            for ci in ready {
                self.place_call(ci)?;
            }
        }
        Ok(())
    }

    /// Sends what the service host produced and reschedules it.
    pub(super) fn after_service(&mut self) {
        let now = self.now;
        let host = self.service.host;
        let out: Vec<(To, crate::agent::signaling::Envelope)> = self.service.drain().collect();
        for (to, env) in out {
            let (dst_host, wire) = match to {
                To::Account(p) => (
                    HostId(p as u32),
                    Wire::Account {
                        participant: p,
                        to_service: false,
                        env,
                    },
                ),
                To::Leg(leg) => (
                    self.leg_host[leg],
                    Wire::Signal {
                        leg,
                        to_service: false,
                        env,
                    },
                ),
            };
            if dst_host != host {
                // A client: on the connection it opened.
                self.service_signal_send(dst_host.0 as usize, wire);
                continue;
            }
            let ip = match &wire {
                Wire::Signal { leg, .. } => self.leg_src.get(*leg).copied().flatten(),
                _ => None,
            }
            .or(self.contact.get(dst_host.0 as usize).copied())
            // The echo test service's own leg, on the service host.
            .unwrap_or(self.net.host_addr(dst_host));
            let src = SocketAddrV4::new(self.net.host_addr(host), SIGNALING_PORT);
            let dst = SocketAddrV4::new(ip, SIGNALING_PORT);
            let len = match &wire {
                Wire::Account { env, .. } | Wire::Signal { env, .. } => env.wire_size(),
                Wire::Media(_) | Wire::Tcp(_) => 0,
            };
            self.send_datagram(host, Datagram::tcp(src, dst, len, false, wire));
        }
        let t = self.service.poll_timeout().map(|t| t.max(now));
        if t != self.service_scheduled {
            self.service_scheduled = t;
            if let Some(t) = t {
                self.timers.push(Reverse((t, SERVICE_TIMER)));
            }
        }
    }

    /// The service host got account traffic (a sign-in, a refresh, an IM) from participant
    /// `p`'s client at `ip`: that is where it reaches the client from now on, and a presence
    /// lag ends (reachable again).
    pub(super) fn heard_from(&mut self, p: usize, ip: std::net::Ipv4Addr) {
        self.contact[p] = ip;
        if let Some((from, expires)) = self.lost[p].take() {
            let (to, how) = if expires <= self.now {
                (expires, "registration expired")
            } else {
                (self.now, "reachable again")
            };
            self.presence_lags.push((p, from, to.max(from), how));
        }
    }

    /// Participant `p`'s client stopped being reachable where the service reaches it (its
    /// link went down, or it moved): while its registration lasts, it still shows signed in.
    pub(super) fn lost_reach(&mut self, p: usize) {
        if self.lost[p].is_some() {
            return;
        }
        let address = &self.accounts[p].address;
        if let Some(session) = self.service.service.session(address) {
            self.lost[p] = Some((self.now, session.expires_ns));
        }
    }

    /// The presence lags still open when the scenario ends.
    pub(super) fn close_presence_lags(&mut self) {
        for p in 0..self.lost.len() {
            if let Some((from, expires)) = self.lost[p].take() {
                let (to, how) = if expires <= self.now {
                    (expires, "registration expired")
                } else {
                    (self.now, "scenario ended")
                };
                self.presence_lags.push((p, from, to.max(from), how));
            }
        }
    }

    /// Runs the timeline's IMs and presence looks due at `t`.
    pub(super) fn run_checks(
        &mut self,
        s: &Scenario,
        next: &mut usize,
        t: u64,
    ) -> Result<(), SimError> {
        while let Some(&(ct, i)) = self.checks.get(*next) {
            if ct > t {
                break;
            }
            *next += 1;
            let c = &s.service_checks[i];
            let Some(p) = s.participants.iter().position(|x| x.name == c.participant) else {
                continue;
            };
            match &c.what {
                crate::scenario::ServiceAsk::Im { to, text, .. } => {
                    self.accounts[p].send_im(t, to, text);
                    self.after_account(p)?;
                }
                crate::scenario::ServiceAsk::Contact { op, address } => {
                    self.accounts[p].change_contacts(t, *op, address);
                    self.after_account(p)?;
                }
                crate::scenario::ServiceAsk::Publish { state } => {
                    self.accounts[p].publish(t, *state);
                    self.after_account(p)?;
                }
                crate::scenario::ServiceAsk::Presence { of, .. } => {
                    let view = self
                        .service
                        .service
                        .presence_seen_by(&self.accounts[p].address, of);
                    self.looks.push((i, t, view));
                }
            }
        }
        Ok(())
    }
}
