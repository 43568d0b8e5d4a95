//! Candidate gathering for one call leg: the host candidate at once, a relay candidate per
//! configured TURN server once its allocation succeeds, and the end of gathering when every
//! server has answered or failed, or the gathering timeout passed.
//!
//! Clients of the Skype for Business / Teams family gather before they offer ("vanilla" ICE,
//! no trickling), so the offer (and the answer) carries every candidate gathered: the caller
//! offers, and the callee answers, when gathering ends. Each candidate records when it was
//! gathered (or why it failed) for the report; the selected pair is read from what the stack
//! actually sends, not from its statistics (rtc 0.21's candidate-pair ids do not match its
//! candidate ids, and it keeps no remote-candidate statistics).

use super::peer::{Peer, PeerError};
use super::relay::{tls_source_port, AllocationState, RelayClient, RelayTransport};
use std::net::SocketAddrV4;

/// One TURN server a client gathers a relay candidate from.
#[derive(Debug, Clone)]
pub struct RelaySpec {
    pub transport: RelayTransport,
    pub server: SocketAddrV4,
    pub user: String,
    pub password: String,
    /// Over TLS: the root store and server name the client checks (without it a TLS relay
    /// fails at once: no trust anchor, no connection).
    pub tls: Option<super::tls::TlsClient>,
}

/// A candidate type, as ICE names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CandidateKind {
    Host,
    ServerReflexive,
    Relay,
}

impl CandidateKind {
    /// The SDP name: `host`, `srflx`, `relay`.
    pub fn name(self) -> &'static str {
        match self {
            CandidateKind::Host => "host",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::Relay => "relay",
        }
    }

    fn from_sdp(s: &str) -> Option<CandidateKind> {
        match s {
            "host" => Some(CandidateKind::Host),
            "srflx" | "prflx" => Some(CandidateKind::ServerReflexive),
            "relay" => Some(CandidateKind::Relay),
            _ => None,
        }
    }
}

/// One of our candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCandidate {
    pub kind: CandidateKind,
    /// How it reaches the network: `udp`, or for a relay candidate the transport to the relay
    /// server (`udp`, `tcp`, `tls`).
    pub transport: &'static str,
    /// Its address (for a relay candidate: the relayed address, once allocated).
    pub addr: Option<SocketAddrV4>,
    /// The server it came from (relay and srflx).
    pub server: Option<SocketAddrV4>,
    /// When gathering it started and when it was gathered, ns.
    pub started_at: u64,
    pub gathered_at: Option<u64>,
    /// Why it was not gathered.
    pub failed: Option<&'static str>,
}

/// See the module docs.
pub struct Gathering {
    deadline: u64,
    relays: Vec<RelayClient>,
    /// Per relay: its entry in `candidates`.
    relay_candidate: Vec<usize>,
    pub candidates: Vec<LocalCandidate>,
    pub done_at: Option<u64>,
}

impl Gathering {
    /// Starts gathering at `now` from `host` (the leg's media socket), asking each of
    /// `relays`, for at most `timeout` ns.
    pub fn start(now: u64, host: SocketAddrV4, relays: &[RelaySpec], timeout: u64) -> Gathering {
        let mut g = Gathering {
            deadline: now.saturating_add(timeout),
            relays: Vec::new(),
            relay_candidate: Vec::new(),
            candidates: vec![LocalCandidate {
                kind: CandidateKind::Host,
                transport: "udp",
                addr: Some(host),
                server: None,
                started_at: now,
                gathered_at: Some(now),
                failed: None,
            }],
            done_at: None,
        };
        for r in relays {
            let mut c = match (r.transport, &r.tls) {
                // A TCP connection of its own, beside the plain TCP one to the same port.
                (RelayTransport::Tls, Some(tls)) => {
                    let local = SocketAddrV4::new(*host.ip(), tls_source_port(host.port()));
                    RelayClient::new_tls(local, r.server, &r.user, &r.password, tls)
                }
                _ => RelayClient::new(r.transport, host, r.server, &r.user, &r.password),
            };
            c.poll(now);
            g.relay_candidate.push(g.candidates.len());
            g.candidates.push(LocalCandidate {
                kind: CandidateKind::Relay,
                transport: r.transport.name(),
                addr: None,
                server: Some(r.server),
                started_at: now,
                gathered_at: None,
                failed: None,
            });
            g.relays.push(c);
        }
        g.update(now, None).ok();
        g
    }

    /// True once gathering has ended.
    pub fn is_done(&self) -> bool {
        self.done_at.is_some()
    }

    /// Takes in what the relays did: a new allocation becomes a relay candidate of `peer`
    /// (when given); ends gathering when every relay has settled or the deadline passed.
    /// Returns true when gathering ended in this call.
    pub fn update(&mut self, now: u64, mut peer: Option<&mut Peer>) -> Result<bool, PeerError> {
        let host = self.candidates[0].addr;
        let mut reflexive = Vec::new();
        for (ri, r) in self.relays.iter().enumerate() {
            let c = &mut self.candidates[self.relay_candidate[ri]];
            if c.gathered_at.is_some() || c.failed.is_some() {
                continue;
            }
            match r.state() {
                AllocationState::Allocated(addr) if self.done_at.is_none() => {
                    c.addr = Some(addr);
                    c.gathered_at = Some(now);
                    // Over UDP the server saw our media socket: behind a NAT, that is our
                    // server-reflexive address (a redundant one, equal to the host's, is not
                    // offered: RFC 8445 section 5.1.3).
                    if let Some(m) = r.mapped().filter(|m| Some(*m) != host) {
                        reflexive.push((m, r.server(), c.started_at));
                        if let Some(p) = peer.as_deref_mut() {
                            p.add_srflx_candidate(m, r.server())?;
                        }
                    }
                    if let Some(p) = peer.as_deref_mut() {
                        p.add_relay_candidate(addr, r.transport(), r.server())?;
                    }
                }
                AllocationState::Allocated(_) => c.failed = Some("allocated after gathering ended"),
                AllocationState::Failed => c.failed = Some("allocation refused or timed out"),
                AllocationState::Pending => {}
            }
        }
        for (m, server, started_at) in reflexive {
            if !self.candidates.iter().any(|c| c.addr == Some(m)) {
                self.candidates.push(LocalCandidate {
                    kind: CandidateKind::ServerReflexive,
                    transport: "udp",
                    addr: Some(m),
                    server: Some(server),
                    started_at,
                    gathered_at: Some(now),
                    failed: None,
                });
            }
        }
        if self.done_at.is_some() {
            return Ok(false);
        }
        let settled = self
            .relays
            .iter()
            .all(|r| r.state() != AllocationState::Pending);
        if settled || now >= self.deadline {
            for c in &mut self.candidates {
                if c.gathered_at.is_none() && c.failed.is_none() {
                    c.failed = Some("no answer before the gathering timeout");
                }
            }
            self.done_at = Some(now);
            return Ok(true);
        }
        Ok(false)
    }

    /// The relay whose server is `from` (a datagram from a relay server, over UDP).
    pub fn relay_from(&mut self, from: SocketAddrV4) -> Option<&mut RelayClient> {
        self.relays
            .iter_mut()
            .find(|r| r.transport() == RelayTransport::Udp && r.server() == from)
    }

    /// The relay whose stream (TCP or TLS) runs from our `local` to `server` (bytes of it
    /// arrived, or it closed).
    pub fn relay_stream(
        &mut self,
        local: SocketAddrV4,
        server: SocketAddrV4,
    ) -> Option<&mut RelayClient> {
        self.relays
            .iter_mut()
            .find(|r| r.transport().is_stream() && r.server() == server && r.local() == local)
    }

    /// The relay whose relayed address is `local` (what the stack sends from it goes there).
    pub fn relay_at(&mut self, local: SocketAddrV4) -> Option<&mut RelayClient> {
        self.relays.iter_mut().find(|r| r.relayed() == Some(local))
    }

    /// The relays (to drain what they send).
    pub fn relays_mut(&mut self) -> &mut [RelayClient] {
        &mut self.relays
    }

    /// The earliest time the gathering needs to run, ns.
    pub fn poll_timeout(&self) -> Option<u64> {
        let mut t = if self.done_at.is_none() {
            Some(self.deadline)
        } else {
            None
        };
        for r in &self.relays {
            if let Some(w) = r.poll_timeout() {
                t = Some(t.map_or(w, |t: u64| t.min(w)));
            }
        }
        t
    }

    /// Runs the relays' timers.
    pub fn handle_timeout(&mut self, now: u64) {
        for r in &mut self.relays {
            if r.poll_timeout().is_some_and(|w| w <= now) {
                r.poll(now);
            }
        }
    }

    /// Stops gathering before anything was asked (the call is not attempted): the relays'
    /// requests are dropped unsent.
    pub fn abandon(&mut self) {
        for r in &mut self.relays {
            r.connection_lost();
        }
    }

    /// Releases every allocation (the call is over).
    pub fn release(&mut self, now: u64) {
        for r in &mut self.relays {
            r.release(now);
        }
    }

    /// Our candidate at `local`, if it is one of ours (what the stack sends from: the host
    /// address or a relayed one; a server-reflexive candidate sends from its host base).
    pub fn local(&self, local: SocketAddrV4) -> Option<&LocalCandidate> {
        self.candidates
            .iter()
            .find(|c| c.addr == Some(local) && c.kind != CandidateKind::ServerReflexive)
    }
}

/// The candidates of a remote description: (address, type, protocol).
pub fn remote_candidates(sdp: &str) -> Vec<(SocketAddrV4, CandidateKind, String)> {
    sdp.lines()
        .filter_map(|l| {
            // a=candidate:<foundation> <component> <protocol> <priority> <ip> <port> typ <type>
            let rest = l.trim_end().strip_prefix("a=candidate:")?;
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ip = f.get(4)?.parse().ok()?;
            let port = f.get(5)?.parse().ok()?;
            let typ = f
                .iter()
                .position(|x| *x == "typ")
                .and_then(|i| f.get(i + 1))?;
            Some((
                SocketAddrV4::new(ip, port),
                CandidateKind::from_sdp(typ)?,
                f.get(2)?.to_lowercase(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_candidates_are_read_from_the_sdp() {
        let sdp = "v=0\r\na=candidate:1 1 udp 2130706431 10.0.0.2 50001 typ host\r\n\
                   a=candidate:2 1 UDP 16777215 10.254.0.2 49152 typ relay raddr 10.0.0.2 rport 50001\r\n\
                   a=end-of-candidates\r\n";
        let c = remote_candidates(sdp);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].0, "10.0.0.2:50001".parse::<SocketAddrV4>().unwrap());
        assert_eq!(c[0].1, CandidateKind::Host);
        assert_eq!((c[1].1, c[1].2.as_str()), (CandidateKind::Relay, "udp"));
    }

    #[test]
    fn gathering_without_relays_ends_at_once_with_the_host_candidate() {
        let host = "10.0.0.1:50000".parse().unwrap();
        let g = Gathering::start(5, host, &[], 3_000_000_000);
        assert_eq!(g.done_at, Some(5));
        assert_eq!(g.candidates.len(), 1);
        assert_eq!(g.local(host).map(|c| c.kind), Some(CandidateKind::Host));
    }

    #[test]
    fn a_relay_that_never_answers_fails_at_the_gathering_timeout() {
        let host = "10.0.0.1:50000".parse().unwrap();
        let spec = RelaySpec {
            transport: RelayTransport::Udp,
            server: "10.254.0.2:3478".parse().unwrap(),
            user: "u".into(),
            password: "p".into(),
            tls: None,
        };
        let mut g = Gathering::start(0, host, &[spec], 3_000_000_000);
        assert!(!g.is_done());
        assert!(g.poll_timeout().unwrap() <= 3_000_000_000);
        assert!(g.update(3_000_000_000, None).unwrap());
        assert_eq!(
            g.candidates[1].failed,
            Some("no answer before the gathering timeout")
        );
    }
}
