//! What the host keeps per connection beside smoltcp's socket: the last state it saw (events
//! are the differences), and counters read from the headers of the segments that pass.

use crate::net::Nanos;
use crate::tcp::segment::{seq_before, Segment};
use crate::tcp::types::{ConnId, ConnStats, ListenerId, TcpEnd, TcpEvent, TcpOptions, TcpState};
use smoltcp::iface::SocketHandle;
use std::collections::VecDeque;
use std::net::SocketAddrV4;

/// Where a state change was seen, which tells a RST from a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// While a packet was processed (a RST, an ACK of a FIN...).
    Ingress,
    /// While smoltcp ran its timers and sent (a timeout, TIME-WAIT's end).
    Egress,
    /// In a call by the application (close, abort).
    Local,
}

/// One connection's bookkeeping.
pub(crate) struct Conn {
    /// The smoltcp socket, until it is released.
    pub(crate) handle: Option<SocketHandle>,
    /// The listener that accepted it, for a server-side connection.
    pub(crate) listener: Option<ListenerId>,
    /// Local port and remote address: the key segments are matched by.
    pub(crate) local_port: u16,
    pub(crate) remote: SocketAddrV4,
    /// The state last seen.
    pub(crate) state: TcpState,
    pub(crate) stats: ConnStats,
    /// A `Readable` was emitted and the buffer has not been drained since.
    pub(crate) readable_pending: bool,
    /// `send` refused bytes: emit `Writable` when space frees.
    pub(crate) want_write: bool,
    /// Bytes the application read.
    pub(crate) bytes_read: u64,
    /// The first SYN's sequence number.
    pub(crate) isn: Option<u32>,
    /// One past the highest sequence number sent, and the highest acknowledged.
    snd_max: Option<u32>,
    snd_una: Option<u32>,
    /// The segment being timed for an RTT sample: (end sequence number, sent at).
    probe: Option<(u32, Nanos)>,
    /// The poll epoch in which the connection last received a segment, or last counted an RTO.
    pub(crate) rx_epoch: u64,
    rto_epoch: u64,
    /// The `timeout` option, and whether keep-alives are on (then silence alone counts).
    pub(crate) timeout: Option<Nanos>,
    pub(crate) keep_alive: bool,
    /// When a segment last arrived, and since when something has been waiting for the peer.
    last_heard: Nanos,
    outstanding_since: Option<Nanos>,
}

impl Conn {
    /// A connection to or from `remote` on `local_port`, started at `now`.
    pub(crate) fn new(
        handle: SocketHandle,
        listener: Option<ListenerId>,
        local_port: u16,
        remote: SocketAddrV4,
        state: TcpState,
        opts: &TcpOptions,
        now: Nanos,
    ) -> Conn {
        Conn {
            handle: Some(handle),
            listener,
            local_port,
            remote,
            state,
            stats: ConnStats {
                started_at: now,
                ..ConnStats::default()
            },
            readable_pending: false,
            want_write: false,
            bytes_read: 0,
            isn: None,
            snd_max: None,
            snd_una: None,
            probe: None,
            rx_epoch: 0,
            rto_epoch: 0,
            timeout: opts.timeout,
            keep_alive: opts.keep_alive.is_some(),
            last_heard: now,
            outstanding_since: None,
        }
    }

    /// Notes whether anything waits for the peer at `now`: a SYN or FIN not yet acknowledged
    /// (or, in FIN-WAIT-2, the peer's FIN), bytes in the send buffer, or keep-alives.
    pub(crate) fn set_outstanding(&mut self, state: TcpState, send_queue: usize, now: Nanos) {
        let waiting = self.keep_alive
            || send_queue > 0
            || matches!(
                state,
                TcpState::SynSent
                    | TcpState::SynReceived
                    | TcpState::FinWait1
                    | TcpState::FinWait2
                    | TcpState::Closing
                    | TcpState::LastAck
            );
        if !waiting {
            self.outstanding_since = None;
        } else if self.outstanding_since.is_none() {
            self.outstanding_since = Some(now);
        }
    }

    /// When the connection gives up if the peer stays silent: `timeout` after the later of
    /// the last segment heard and the moment something began to wait for it.
    pub(crate) fn deadline(&self) -> Option<Nanos> {
        let since = self.outstanding_since?;
        Some(since.max(self.last_heard) + self.timeout?)
    }

    /// The application knows of this connection (it connected, or was told of the accept).
    pub(crate) fn known_to_app(&self) -> bool {
        self.listener.is_none() || self.stats.connected_at.is_some()
    }

    /// Counts a segment this host sent in poll `epoch` (see [`ConnStats`]).
    pub(crate) fn on_sent(&mut self, seg: &Segment, now: Nanos, epoch: u64) {
        let s = &mut self.stats;
        s.segments_sent += 1;
        s.bytes_sent += u64::from(seg.payload_len);
        if seg.syn && self.isn.is_none() {
            self.isn = Some(seg.seq);
        }
        let len = seg.seq_len();
        if len == 0 || seg.rst {
            return;
        }
        let end = seg.seq.wrapping_add(len);
        let Some(max) = self.snd_max else {
            self.snd_max = Some(end);
            self.probe = Some((end, now));
            return;
        };
        if !seq_before(seg.seq, max) {
            self.snd_max = Some(end);
            self.probe.get_or_insert((end, now));
            return;
        }
        // smoltcp's keep-alive: one byte below everything sent, with nothing in flight.
        let idle = self.snd_una == Some(max);
        if seg.payload_len == 1 && end == max && idle {
            return;
        }
        s.retransmitted_segments += 1;
        s.retransmitted_bytes += u64::from(seg.payload_len);
        if self.rx_epoch != epoch && self.rto_epoch != epoch {
            s.rtos += 1;
            self.rto_epoch = epoch;
        }
        self.probe = None; // Karn: no sample from a retransmitted range
        if seq_before(max, end) {
            self.snd_max = Some(end);
        }
    }

    /// Counts a segment received at `now` in poll `epoch`; takes an RTT sample when it
    /// acknowledges the timed segment.
    pub(crate) fn on_received(&mut self, seg: &Segment, now: Nanos, epoch: u64) {
        self.stats.segments_received += 1;
        self.rx_epoch = epoch;
        self.last_heard = now;
        let Some(ack) = seg.ack else { return };
        if self.snd_una.is_none_or(|una| seq_before(una, ack)) {
            self.snd_una = Some(ack);
        }
        if let Some((end, at)) = self.probe {
            if !seq_before(ack, end) {
                self.probe = None;
                let sample = now.saturating_sub(at);
                let s = &mut self.stats;
                s.rtt_latest = Some(sample);
                s.rtt_min = Some(s.rtt_min.map_or(sample, |m| m.min(sample)));
                s.rtt_smoothed = Some(s.rtt_smoothed.map_or(sample, |r| (7 * r + sample) / 8));
            }
        }
    }

    /// Records the socket's state `new`, seen in `phase` at `now`, and queues the events the
    /// change means.
    pub(crate) fn transition(
        &mut self,
        id: ConnId,
        new: TcpState,
        phase: Phase,
        now: Nanos,
        events: &mut VecDeque<TcpEvent>,
    ) {
        let prev = self.state;
        if new == prev {
            return;
        }
        self.state = new;
        if !prev.is_synchronized() && prev != TcpState::Closed && new.is_synchronized() {
            self.stats.connected_at = Some(now);
            events.push_back(match self.listener {
                Some(listener) => TcpEvent::Accepted {
                    listener,
                    conn: id,
                    remote: self.remote,
                },
                None => TcpEvent::Connected(id),
            });
        }
        let known = self.known_to_app();
        if new.peer_closed() && !prev.peer_closed() && known {
            events.push_back(TcpEvent::PeerClosed(id));
        }
        if self.stats.ended.is_some() {
            return;
        }
        let end = match (new, prev, phase) {
            (TcpState::TimeWait, _, _) | (TcpState::Closed, TcpState::LastAck, _) => TcpEnd::Closed,
            (TcpState::Closed, _, Phase::Local) => TcpEnd::Aborted,
            (TcpState::Closed, TcpState::SynSent, Phase::Ingress) => TcpEnd::Refused,
            (TcpState::Closed, _, Phase::Ingress) => TcpEnd::Reset,
            (TcpState::Closed, _, Phase::Egress) => TcpEnd::TimedOut,
            _ => return,
        };
        self.end(id, end, now, events);
    }

    /// Marks the connection ended at `now` (once), with its event if the application knows
    /// the connection and did not end it itself.
    pub(crate) fn end(
        &mut self,
        id: ConnId,
        end: TcpEnd,
        now: Nanos,
        events: &mut VecDeque<TcpEvent>,
    ) {
        if self.stats.ended.is_some() {
            return;
        }
        self.stats.ended = Some((now, end));
        if !self.known_to_app() {
            return;
        }
        let event = match end {
            TcpEnd::Closed => TcpEvent::Closed(id),
            TcpEnd::Refused => TcpEvent::Refused(id),
            TcpEnd::Reset => TcpEvent::Reset(id),
            TcpEnd::TimedOut => TcpEvent::TimedOut(id),
            TcpEnd::Aborted => return,
        };
        events.push_back(event);
    }
}
