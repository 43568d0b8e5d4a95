//! Signaling over real TCP: each participant's client keeps one TCP connection to the service
//! host's port 5061 (as a SIP client keeps its connection to its registrar), opened when it
//! first has something to say, and carries its account's messages and all its call legs'
//! signaling both ways on it. The service answers on the connection a client opened: it never
//! connects to a client (a client behind a NAT or a firewall could not be reached that way).
//!
//! The connection is a stream of [`crate::sim::streams`] (smoltcp at both ends), so loss,
//! outages, NATs and firewalls act on its segments, and retransmission, back-off and
//! head-of-line blocking are TCP's. The signaling channels above it ([`Signaling`] in its
//! stream mode) no longer retransmit; their acknowledgements (a SIP transaction's response)
//! and deadline stay. When a connection breaks (reset, timed out, or the host's address
//! changed) the client opens a new one with its next message and sends again what it had not
//! had acknowledged; the service answers on the newest connection and does not replay what it
//! sent on the old one (its deadline tells it the client was not reached, as before).
//!
//! On the wire each message is a frame of its charged size ([`Envelope::wire_size`] less the
//! TCP/IP headers): a 12-byte header (frame length, participant, connection generation), then
//! the message as text (what a capture shows, [`super::capture::signal_text`]). The messages
//! themselves wait beside the connection and are taken in the order their frames arrive.
//!
//! A call leg on the service host itself (the echo test service's) keeps the datagram path.
//!
//! [`Signaling`]: crate::agent::signaling::Signaling
//! [`Envelope::wire_size`]: crate::agent::signaling::Envelope::wire_size

use super::streams::StreamOwner;
use super::world::Wire;
use super::{Sim, SIGNALING_PORT};
use crate::net::datagram::TCP_IP_HEADERS;
use crate::net::HostId;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddrV4;

/// Frame header: length (u32, the whole frame), participant (u32), generation (u32).
const FRAME_HEADER: usize = 12;
/// The client's local port for its `generation`-th connection.
const FIRST_CLIENT_PORT: u16 = 41_000;

/// One client's signaling connection and the messages on it.
#[derive(Default)]
struct ClientConn {
    /// How many connections the client opened; the live one's number.
    generation: u32,
    /// The live connection's local port (none before the first or after one broke).
    port: Option<u16>,
    /// Messages the client sent (with their connection's generation), until the service
    /// reads their frames.
    up: VecDeque<(u32, Wire)>,
    /// Messages the service sent to this client, until the client reads their frames.
    down: VecDeque<(u32, Wire)>,
    /// Bytes at the client not yet a whole frame.
    partial: Vec<u8>,
    /// Where the service's end of the live connection reaches the client, and its generation.
    service_remote: Option<SocketAddrV4>,
    service_generation: u32,
}

/// Every client's signaling connection.
#[derive(Default)]
pub(crate) struct SignalConns {
    clients: Vec<ClientConn>,
    /// At the service: bytes of each accepted connection not yet a whole frame.
    service_partial: BTreeMap<SocketAddrV4, Vec<u8>>,
    /// Messages the service could not send: no live connection from their client.
    pub(crate) undeliverable: u64,
    /// Connections opened by clients, all together.
    pub(crate) connections: u64,
}

impl SignalConns {
    fn client(&mut self, p: usize) -> &mut ClientConn {
        if self.clients.len() <= p {
            self.clients.resize_with(p + 1, ClientConn::default);
        }
        &mut self.clients[p]
    }
}

/// The frame of `wire` (a signaling message) for participant `p` on connection `generation`.
fn frame(wire: &Wire, p: usize, generation: u32) -> Vec<u8> {
    let (env, account, n) = match wire {
        Wire::Account {
            participant, env, ..
        } => (env, true, *participant),
        Wire::Signal { leg, env, .. } => (env, false, *leg),
        Wire::Media(_) | Wire::Tcp(_) => unreachable!("only signaling goes in frames"),
    };
    let len = (env.wire_size().saturating_sub(TCP_IP_HEADERS) as usize).max(FRAME_HEADER);
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&(len as u32).to_be_bytes());
    out.extend_from_slice(&(p as u32).to_be_bytes());
    out.extend_from_slice(&generation.to_be_bytes());
    let mut text = Vec::new();
    super::capture::signal_text(&mut text, env, (account, n), len - FRAME_HEADER);
    out.extend_from_slice(&text);
    out
}

/// The (participant, generation) of each whole frame at the front of `buf`, drained.
fn frames(buf: &mut Vec<u8>) -> Vec<(usize, u32)> {
    let mut out = Vec::new();
    let mut used = 0;
    while buf.len() - used >= FRAME_HEADER {
        let h = &buf[used..];
        let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let len = (word(0) as usize).max(FRAME_HEADER);
        if h.len() < len {
            break;
        }
        out.push((word(4) as usize, word(8)));
        used += len;
    }
    buf.drain(..used);
    out
}

/// Takes the message of a frame of `generation` from `queue`, dropping older connections'.
fn take(queue: &mut VecDeque<(u32, Wire)>, generation: u32) -> Option<Wire> {
    while let Some((g, _)) = queue.front() {
        if *g >= generation {
            break;
        }
        queue.pop_front();
    }
    match queue.front() {
        Some((g, _)) if *g == generation => queue.pop_front().map(|(_, w)| w),
        _ => None,
    }
}

impl Sim {
    /// Runs what signaling touched while the TCP stacks ran (accounts and legs that got a
    /// message or must send again).
    pub(super) fn run_touched(&mut self) -> Result<(), super::SimError> {
        while let Some(li) = self.touched_legs.pop() {
            self.after_touch(li);
        }
        while let Some(p) = self.touched_accounts.pop() {
            self.after_account(p)?;
        }
        Ok(())
    }

    /// Whether signaling left accounts or legs to run.
    pub(super) fn touched(&self) -> bool {
        !self.touched_legs.is_empty() || !self.touched_accounts.is_empty()
    }

    fn service_end(&self) -> SocketAddrV4 {
        SocketAddrV4::new(self.net.host_addr(self.service.host), SIGNALING_PORT)
    }

    /// Participant `p`'s client sends `wire` (its account's or one of its legs' message) on
    /// its signaling connection, opening one first if it has none.
    pub(super) fn client_signal_send(&mut self, p: usize, wire: Wire) {
        let host = HostId(p as u32);
        let c = self.signal.client(p);
        let reopened = c.port.is_none() && c.generation > 0;
        if c.port.is_none() {
            c.generation += 1;
            c.port = Some(FIRST_CLIENT_PORT + (c.generation % 1000) as u16);
            self.signal.connections += 1;
        }
        let c = self.signal.client(p);
        let (generation, port) = (c.generation, c.port.unwrap_or(FIRST_CLIENT_PORT));
        let bytes = frame(&wire, p, generation);
        c.up.push_back((generation, wire));
        let local = SocketAddrV4::new(self.local_addr(host), port);
        let remote = self.service_end();
        self.stream_send(host, local, remote, &bytes, StreamOwner::Signaling(p));
        if reopened {
            // A new connection: what the old one lost goes again.
            let now = self.now;
            self.accounts[p].signaling().resend_pending(now);
            for li in 0..self.legs.len() {
                if self.leg_host[li] == host {
                    self.legs[li].signaling().resend_pending(now);
                }
            }
            self.touched_accounts.push(p);
            for li in 0..self.legs.len() {
                if self.leg_host[li] == host {
                    self.touched_legs.push(li);
                }
            }
        }
    }

    /// Bytes arrived on participant `p`'s signaling connection (from the service).
    pub(super) fn client_signal_bytes(&mut self, p: usize, bytes: &[u8]) {
        let now = self.now;
        let c = self.signal.client(p);
        c.partial.extend_from_slice(bytes);
        let mut buf = std::mem::take(&mut c.partial);
        let got = frames(&mut buf);
        self.signal.client(p).partial = buf;
        for (_, generation) in got {
            let Some(wire) = take(&mut self.signal.client(p).down, generation) else {
                continue;
            };
            match wire {
                Wire::Account { env, .. } => {
                    self.accounts[p].receive(now, env);
                    self.touched_accounts.push(p);
                }
                Wire::Signal { leg, env, .. } if leg < self.legs.len() => {
                    self.legs[leg].handle_signal(now, env);
                    self.touched_legs.push(leg);
                }
                _ => {}
            }
        }
    }

    /// Participant `p`'s signaling connection broke; its next message opens a new one.
    pub(super) fn client_signal_closed(&mut self, p: usize) {
        let c = self.signal.client(p);
        c.port = None;
        c.partial.clear();
        let g = c.generation;
        c.up.retain(|(x, _)| *x != g);
        c.down.retain(|(x, _)| *x != g);
    }

    /// Bytes arrived at the service on the connection from `remote`.
    pub(super) fn service_signal_bytes(&mut self, remote: SocketAddrV4, bytes: &[u8]) {
        let now = self.now;
        let buf = self.signal.service_partial.entry(remote).or_default();
        buf.extend_from_slice(bytes);
        let got = frames(buf);
        for (p, generation) in got {
            if p >= self.accounts.len() {
                continue;
            }
            let c = self.signal.client(p);
            if generation > c.service_generation {
                // The client's new connection: the service answers there from now on. What
                // it sent on the old one is not sent again (a proxy does not replay a request
                // on a new flow): its channel's deadline tells it the client was not reached.
                c.service_generation = generation;
                c.service_remote = Some(remote);
            }
            let Some(wire) = take(&mut self.signal.client(p).up, generation) else {
                continue;
            };
            match wire {
                Wire::Account { env, .. } => {
                    self.heard_from(p, *remote.ip());
                    self.service.on_account(now, p, env);
                }
                Wire::Signal { leg, env, .. } => {
                    if self.leg_src.len() <= leg {
                        self.leg_src.resize(leg + 1, None);
                    }
                    self.leg_src[leg] = Some(*remote.ip());
                    self.service.on_leg(now, leg, env);
                }
                _ => {}
            }
            self.after_service();
        }
    }

    /// The service's end of the connection from `remote` is gone.
    pub(super) fn service_signal_closed(&mut self, remote: SocketAddrV4) {
        self.signal.service_partial.remove(&remote);
        for c in &mut self.signal.clients {
            if c.service_remote == Some(remote) {
                c.service_remote = None;
            }
        }
    }

    /// The service sends `wire` to participant `p` on the connection `p` opened; with none
    /// alive, the message cannot go (its channel's deadline tells the service).
    pub(super) fn service_signal_send(&mut self, p: usize, wire: Wire) {
        let host = self.service.host;
        let local = SocketAddrV4::new(self.net.host_addr(host), 0);
        let c = self.signal.client(p);
        let Some(remote) = c.service_remote else {
            self.signal.undeliverable += 1;
            return;
        };
        if !self.has_stream(host, local, remote) {
            self.signal.undeliverable += 1;
            return;
        }
        let c = self.signal.client(p);
        let generation = c.service_generation;
        let bytes = frame(&wire, p, generation);
        c.down.push_back((generation, wire));
        self.stream_send(host, local, remote, &bytes, StreamOwner::Service);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::signaling::{Envelope, SignalBody};

    #[test]
    fn a_message_is_one_frame_of_its_charged_size_and_frames_come_out_whole() {
        let env = Envelope {
            id: 3,
            body: SignalBody::Offer("v=0\r\n".into()),
        };
        let size = env.wire_size();
        let w = Wire::Signal {
            leg: 5,
            to_service: true,
            env,
        };
        let f = frame(&w, 2, 7);
        assert_eq!(f.len() as u32, size - TCP_IP_HEADERS);
        let text = String::from_utf8_lossy(&f[FRAME_HEADER..]);
        assert!(text.starts_with("OFFER id=3 leg=5"), "{text}");
        let mut buf = f.clone();
        buf.extend_from_slice(&f[..10]);
        assert_eq!(frames(&mut buf), vec![(2, 7)]);
        assert_eq!(buf.len(), 10, "a partial frame waits");
        buf.extend_from_slice(&f[10..]);
        assert_eq!(frames(&mut buf), vec![(2, 7)]);
        assert!(buf.is_empty());
    }

    #[test]
    fn a_frame_takes_its_connections_message_and_drops_older_ones() {
        let w = |id| Wire::Account {
            participant: 0,
            to_service: true,
            env: Envelope {
                id,
                body: SignalBody::Hangup,
            },
        };
        let mut q: VecDeque<(u32, Wire)> = [(1, w(1)), (1, w(2)), (2, w(3))].into();
        let Some(Wire::Account { env, .. }) = take(&mut q, 2) else {
            panic!("the second connection's message");
        };
        assert_eq!(env.id, 3);
        assert!(q.is_empty());
        assert!(take(&mut q, 2).is_none());
    }
}
