//! Call signaling between two agents: offer, answer and hang-up, carried reliably over the
//! emulated (or real) network.
//!
//! Signaling in a real client runs over TCP (SIP over TLS on 5061, or HTTPS), so a lost segment
//! is retransmitted rather than lost. This module gives the same behaviour over a datagram
//! network: every message is acknowledged, and an unacknowledged one is sent again after a
//! retransmission timeout that starts at 1 s and doubles (RFC 6298's initial RTO and back-off),
//! until the signaling deadline passes and the call fails with `signaling-timeout`. Duplicates
//! are acknowledged and otherwise ignored. Pure state machine: time goes in, messages come out.
//!
//! ```
//! use callharness::agent::signaling::{Signaling, SignalBody};
//! let mut alice = Signaling::new(20_000_000_000);
//! alice.send(0, SignalBody::Hangup);
//! let env = alice.poll_send(0).unwrap();           // goes over the network to Bob
//! let mut bob = Signaling::new(20_000_000_000);
//! assert!(matches!(bob.receive(5, env), Some(SignalBody::Hangup)));
//! let ack = bob.poll_send(5).unwrap();             // and the ack comes back
//! alice.receive(10, ack);
//! assert!(alice.is_idle());
//! ```

use std::collections::BTreeSet;

/// Initial retransmission timeout, ns (RFC 6298: 1 s).
pub const INITIAL_RTO_NS: u64 = 1_000_000_000;

/// What a signaling message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalBody {
    /// An SDP offer.
    Offer(String),
    /// An SDP answer.
    Answer(String),
    /// The call was refused by the callee (reason phrase).
    Decline(String),
    /// The other side hung up.
    Hangup,
    /// Acknowledges message `id`.
    Ack(u32),
    /// A request to the calling service (sign-in, sign-out), numbered by the client so its
    /// response can be matched.
    Request(u32, crate::service::Request),
    /// The service's response to the client's request of that number.
    Response(u32, crate::service::Response),
    /// The service refused the call: its response, sent to the caller instead of relaying
    /// the offer (or to either side of a call the service can no longer carry).
    Refused(crate::service::Response),
    /// Something the service sends a client unasked (a delivered IM, a presence change).
    Notice(crate::service::Notice),
}

/// One signaling message on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub id: u32,
    pub body: SignalBody,
}

impl Envelope {
    /// Bytes this message takes on the wire: body plus a 40-byte TCP/IP header and a
    /// 60-byte framing allowance (SIP-like headers), so the emulator charges realistic sizes.
    pub fn wire_size(&self) -> u32 {
        let body = match &self.body {
            SignalBody::Offer(s) | SignalBody::Answer(s) | SignalBody::Decline(s) => s.len(),
            SignalBody::Hangup | SignalBody::Ack(_) => 0,
            // A SIP REGISTER with its credentials, or a response line with a few headers.
            SignalBody::Request(_, r) => 300 + request_text_len(r),
            SignalBody::Response(..) | SignalBody::Refused(_) => 200,
            SignalBody::Notice(n) => 250 + notice_text_len(n),
        };
        (body + 100) as u32
    }
}

/// The variable part of a notice's size.
fn notice_text_len(n: &crate::service::Notice) -> usize {
    use crate::service::Notice;
    match n {
        Notice::Presence {
            watcher, target, ..
        } => watcher.len() + target.len(),
        Notice::Message { from, to, text } => from.len() + to.len() + text.len(),
        Notice::ContactAdded { from, to } => from.len() + to.len(),
    }
}

/// The variable part of a request's size: the addresses and password it carries.
fn request_text_len(r: &crate::service::Request) -> usize {
    use crate::service::Request;
    match r {
        Request::SignIn {
            address, password, ..
        } => address.len() + password.len(),
        Request::SignOut { address }
        | Request::Refresh { address }
        | Request::Publish { address, .. }
        | Request::BlockAllInvites { owner: address, .. } => address.len(),
        Request::Invite { from, to } => from.len() + to.len(),
        Request::Message { from, to, text } => from.len() + to.len() + text.len(),
        Request::Subscribe {
            watcher: a,
            target: b,
        }
        | Request::Unsubscribe {
            watcher: a,
            target: b,
        }
        | Request::AddContact {
            owner: a,
            contact: b,
        }
        | Request::RemoveContact {
            owner: a,
            contact: b,
        }
        | Request::Block {
            owner: a,
            contact: b,
        }
        | Request::Unblock {
            owner: a,
            contact: b,
        } => a.len() + b.len(),
    }
}

#[derive(Debug)]
struct Pending {
    env: Envelope,
    first_sent: u64,
    next_send: u64,
    rto: u64,
}

/// One side's reliable signaling channel; see the module docs.
#[derive(Debug)]
pub struct Signaling {
    deadline_ns: u64,
    next_id: u32,
    pending: Vec<Pending>,
    acks: Vec<u32>,
    seen: BTreeSet<u32>,
    timed_out: bool,
    /// Carried by a reliable stream (TCP): each message goes once, the stream retransmits.
    over_stream: bool,
    /// Messages sent including retransmissions.
    pub sent: u64,
    /// Retransmissions among them.
    pub retransmitted: u64,
}

impl Signaling {
    /// A channel that gives up on a message `deadline_ns` after it was first sent.
    pub fn new(deadline_ns: u64) -> Self {
        Signaling {
            deadline_ns,
            next_id: 1,
            pending: Vec::new(),
            acks: Vec::new(),
            seen: BTreeSet::new(),
            timed_out: false,
            over_stream: false,
            sent: 0,
            retransmitted: 0,
        }
    }

    /// The channel runs over a reliable byte stream (real TCP): it sends each message once and
    /// leaves retransmission to the stream; acknowledgements and the deadline stay (as a SIP
    /// transaction's response and timer do over TCP).
    pub fn over_stream(mut self) -> Self {
        self.set_over_stream();
        self
    }

    /// [`Signaling::over_stream`] on a channel already made.
    pub fn set_over_stream(&mut self) {
        self.over_stream = true;
        for p in &mut self.pending {
            if p.next_send > p.first_sent {
                p.next_send = u64::MAX;
            }
        }
    }

    /// The stream under the channel was replaced (the old connection broke): everything not
    /// yet acknowledged goes again, on the new one.
    pub fn resend_pending(&mut self, now: u64) {
        for p in &mut self.pending {
            p.next_send = now;
        }
    }

    /// Queues a message for reliable delivery.
    pub fn send(&mut self, now: u64, body: SignalBody) {
        let id = self.next_id;
        self.next_id += 1;
        self.pending.push(Pending {
            env: Envelope { id, body },
            first_sent: now,
            next_send: now,
            rto: INITIAL_RTO_NS,
        });
    }

    /// The next envelope to put on the network now, if any (acks first, then due messages).
    pub fn poll_send(&mut self, now: u64) -> Option<Envelope> {
        if let Some(id) = self.acks.pop() {
            self.sent += 1;
            return Some(Envelope {
                id: 0,
                body: SignalBody::Ack(id),
            });
        }
        let deadline = self.deadline_ns;
        for p in &mut self.pending {
            if p.next_send <= now && now < p.first_sent + deadline {
                if p.next_send > p.first_sent {
                    self.retransmitted += 1;
                }
                if self.over_stream {
                    p.next_send = u64::MAX;
                } else {
                    p.next_send = now + p.rto;
                    p.rto = p.rto.saturating_mul(2);
                }
                self.sent += 1;
                return Some(p.env.clone());
            }
        }
        None
    }

    /// Takes an envelope that arrived; returns its body if it is new and not an ack.
    pub fn receive(&mut self, _now: u64, env: Envelope) -> Option<SignalBody> {
        if let SignalBody::Ack(id) = env.body {
            self.pending.retain(|p| p.env.id != id);
            return None;
        }
        self.acks.push(env.id);
        if self.seen.insert(env.id) {
            Some(env.body)
        } else {
            None
        }
    }

    /// When this channel next needs to run (a retransmission or the give-up deadline), ns.
    pub fn poll_timeout(&self) -> Option<u64> {
        if !self.acks.is_empty() {
            return Some(0);
        }
        self.pending
            .iter()
            .map(|p| p.next_send.min(p.first_sent + self.deadline_ns))
            .min()
    }

    /// Drops messages past their deadline; returns true once any message has timed out.
    pub fn handle_timeout(&mut self, now: u64) -> bool {
        let deadline = self.deadline_ns;
        let before = self.pending.len();
        self.pending.retain(|p| now < p.first_sent + deadline);
        if self.pending.len() != before {
            self.timed_out = true;
        }
        self.timed_out
    }

    /// True when nothing is waiting to be sent or acknowledged.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.acks.is_empty()
    }

    /// True once a message went unacknowledged past the deadline.
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// Forgets that a message timed out, so the channel can be tried again (a client that
    /// could not reach the service signs in again later over the same channel).
    pub fn clear_timed_out(&mut self) {
        self.timed_out = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmits_with_backoff_until_acked() {
        let mut s = Signaling::new(20_000_000_000);
        s.send(0, SignalBody::Offer("v=0".into()));
        assert_eq!(s.poll_send(0).map(|e| e.id), Some(1));
        assert!(s.poll_send(0).is_none());
        assert_eq!(s.poll_timeout(), Some(1_000_000_000));
        // lost; retransmitted at 1 s, then at 3 s (RTO doubled to 2 s)
        assert!(s.poll_send(999_999_999).is_none());
        assert!(s.poll_send(1_000_000_000).is_some());
        assert_eq!(s.poll_timeout(), Some(3_000_000_000));
        assert!(s.poll_send(3_000_000_000).is_some());
        assert_eq!(s.retransmitted, 2);
        s.receive(
            3_100_000_000,
            Envelope {
                id: 0,
                body: SignalBody::Ack(1),
            },
        );
        assert!(s.is_idle());
        assert!(!s.handle_timeout(100_000_000_000));
    }

    #[test]
    fn over_a_stream_each_message_goes_once_until_the_stream_is_replaced() {
        let mut s = Signaling::new(5_000_000_000).over_stream();
        s.send(0, SignalBody::Hangup);
        assert!(s.poll_send(0).is_some());
        // No retransmission timer: the next wake-up is the deadline.
        assert_eq!(s.poll_timeout(), Some(5_000_000_000));
        assert!(s.poll_send(3_000_000_000).is_none());
        // A new connection: what was not acknowledged goes again, once.
        s.resend_pending(4_000_000_000);
        assert!(s.poll_send(4_000_000_000).is_some());
        assert!(s.poll_send(4_500_000_000).is_none());
        assert_eq!((s.sent, s.retransmitted), (2, 1));
        assert!(s.handle_timeout(5_000_000_000), "the deadline still holds");
    }

    #[test]
    fn gives_up_at_the_deadline() {
        let mut s = Signaling::new(5_000_000_000);
        s.send(0, SignalBody::Hangup);
        let mut now = 0;
        let mut sends = 0;
        while let Some(t) = s.poll_timeout() {
            now = t.max(now);
            if s.handle_timeout(now) {
                break;
            }
            while s.poll_send(now).is_some() {
                sends += 1;
            }
        }
        // sent at 0, 1 s, 3 s; the next (7 s) is past the 5 s deadline
        assert_eq!(sends, 3);
        assert!(s.timed_out());
        assert_eq!(now, 5_000_000_000);
    }

    #[test]
    fn duplicates_are_acked_but_delivered_once() {
        let mut s = Signaling::new(1);
        let env = Envelope {
            id: 7,
            body: SignalBody::Answer("x".into()),
        };
        assert!(s.receive(0, env.clone()).is_some());
        assert!(s.receive(1, env).is_none());
        assert!(matches!(
            s.poll_send(1).map(|e| e.body),
            Some(SignalBody::Ack(7))
        ));
        assert!(matches!(
            s.poll_send(1).map(|e| e.body),
            Some(SignalBody::Ack(7))
        ));
    }
}
