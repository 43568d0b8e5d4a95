//! A call agent: one side of one call, sans-IO.
//!
//! A [`CallLeg`] owns one WebRTC peer connection ([`peer::Peer`], webrtc-rs's `rtc` core), the
//! call's signaling ([`signaling::Signaling`]), an audio source and a receive pipeline
//! ([`media`]). It is handed datagrams and the time, and hands back datagrams to send and when to
//! wake it; it never reads a clock or touches a socket, so the same code runs in simulated time
//! (`sim/`) and, later, on real sockets.
//!
//! ```ignore
//! let mut leg = CallLeg::new(cfg, base_instant, now)?;
//! leg.start(now);                                   // the caller sends its offer
//! loop {
//!     while let Some(t) = leg.poll_transmit(now) { network.send(now, t) }
//!     let wake = leg.poll_timeout();
//!     // ... deliver datagrams with leg.handle_media / leg.handle_signal, or leg.handle_timeout
//! }
//! ```

pub mod account;
pub mod bwe;
pub mod congestion;
pub mod dtls_guard;
mod failure;
pub mod fixed_crypto;
pub mod gather;
pub mod ice;
mod leg_config;
mod leg_video;
pub mod media;
pub mod peer;
pub mod relay;
pub mod rtcp_schedule;
pub mod rtt;
pub mod signaling;
pub mod tls;
pub mod video;
pub mod video_rtp;
pub mod video_sender;
mod wire;

pub use failure::{Failure, FailureClass};
use leg_config::audio_rtp_bps;
pub use leg_config::{AudioSource, CallLegConfig, Transmit, VideoLegConfig};
pub use wire::{fixed_origin, rtp_sequence};

pub use crate::service::Refusal;
use bytes::BytesMut;
use gather::{CandidateKind, Gathering};
use media::{ReceivePipeline, SendPipeline};
use peer::{Peer, PeerConfig, PeerError};
use signaling::{Envelope, SignalBody, Signaling};
use std::net::SocketAddrV4;
use std::time::Instant;

/// Which side of the call this leg is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Caller,
    Callee,
}

/// One side of one call; see the module docs.
pub struct CallLeg {
    cfg: CallLegConfig,
    peer: Peer,
    signaling: Signaling,
    send: SendPipeline,
    recv: ReceivePipeline,
    out: Vec<Transmit>,
    /// When the offer was created (caller) or received (callee), ns.
    pub offer_at: Option<u64>,
    /// When the peer connection reached `connected`, ns.
    pub connected_at: Option<u64>,
    /// When the first audio frame was played out from what we received, ns.
    pub first_audio_at: Option<u64>,
    pub failure: Option<Failure>,
    /// True once the call is over for this leg (hung up, or failed).
    pub ended: bool,
    /// When the leg ended, ns.
    pub ended_at: Option<u64>,
    /// The far end hung up.
    pub remote_hung_up: bool,
    /// RTT samples: (arrival ns, ms).
    pub rtt_samples: Vec<(u64, f64)>,
    /// Our RTP packets the emulated network dropped (counted by the simulation, which sees
    /// the emulator's drop records; stays 0 on a real network).
    pub rtp_dropped_by_network: u64,
    /// Errors the stack returned from its timers and went on from, and the first of them.
    pub stack_errors: u64,
    pub first_stack_error: Option<String>,
    sending: bool,
    /// Audio packets the echo service sent back.
    pub echoed: u64,
    answered: bool,
    /// The peer connection is closed (after the hang-up grace period).
    closed: bool,
    /// A re-offer (ICE restart) is waiting for its answer.
    reoffer_pending: bool,
    /// ICE restarts this leg started.
    pub ice_restarts: u64,
    /// When the peer connection closes after a hang-up, ns.
    close_at: Option<u64>,
    /// Our candidates as they are gathered, and the relays behind them.
    gathering: Gathering,
    /// The caller was asked to start while gathering: it offers when gathering ends.
    offer_wanted: bool,
    /// The first offer, when it came before gathering ended (the callee answers then).
    pending_offer: Option<String>,
    /// The far end's candidates, from its description: (address, type, protocol).
    remote_candidates: Vec<(SocketAddrV4, CandidateKind, String)>,
    /// The path media last took: (our candidate's address, the far end's address).
    path: Option<(SocketAddrV4, SocketAddrV4)>,
    /// Our video, when we send it, and the far end's as we receive it.
    video_send: Option<video_sender::VideoSender>,
    /// Our bandwidth estimator (video calls).
    bwe: Option<congestion::SharedBwe>,
    video_recv: Option<video_rtp::receive::VideoReceivePipeline>,
    /// Video packets the stack sent again (a NACK answered), seen on the wire.
    pub video_retransmitted: u64,
    video_highest_sent: Option<u16>,
}

impl CallLeg {
    /// Builds the leg (the peer connection with its track and host candidate).
    pub fn new(cfg: CallLegConfig, base: Instant, now: u64) -> Result<Self, PeerError> {
        // Every video client runs transport-wide congestion control (and answers with
        // feedback); only one that adapts follows the estimate.
        let audio_bps = audio_rtp_bps(&cfg.opus);
        let bwe_cfg = |v: &VideoLegConfig| bwe::BweConfig {
            max_bps: v
                .clip
                .as_ref()
                .map_or(bwe::BweConfig::default().max_bps, |l| {
                    video_sender::VideoSender::max_bps(l, audio_bps)
                }),
            ..bwe::BweConfig::default()
        };
        let bwe = cfg
            .video
            .as_ref()
            .map(|v| congestion::SharedBwe::new(base, bwe_cfg(v)));
        let peer = Peer::new(
            &PeerConfig {
                local: cfg.media_addr,
                ssrc: cfg.ssrc,
                ice_ufrag: cfg.ice_ufrag.clone(),
                ice_pwd: cfg.ice_pwd.clone(),
                ice: cfg.ice,
                crypto_seed: cfg.crypto_seed,
                ice_restart: cfg.ice_restart,
                rtcp_seed: cfg.rtcp_seed,
                video: cfg.video.as_ref().map(|v| peer::PeerVideo {
                    ssrc: v.ssrc,
                    codec: v.codec,
                    nack: v.nack,
                }),
                bwe: bwe.clone(),
            },
            base,
            now,
        )?;
        let encoder_error = |e: media::codec::CodecError| PeerError {
            doing: "creating the Opus encoder",
            source: rtc::shared::error::Error::Other(e.to_string()),
        };
        let send = match &cfg.source {
            AudioSource::Replay(clip, offset) => {
                SendPipeline::replay(clip.clone(), *offset, cfg.first_seq, cfg.first_timestamp)
            }
            AudioSource::Live(seed) => {
                SendPipeline::live(*seed, cfg.opus, cfg.first_seq, cfg.first_timestamp)
                    .map_err(encoder_error)?
            }
            AudioSource::LiveSilence => {
                SendPipeline::live_silence(cfg.opus, cfg.first_seq, cfg.first_timestamp)
                    .map_err(encoder_error)?
            }
        };
        let send = if cfg.capture_wrong_rate {
            send.with_capture_rate(media::send::WRONG_RATE)
        } else {
            send
        };
        let send = match cfg.capture_stalls {
            Some((model, seed)) => {
                send.with_stalls(media::capture::CaptureStalls::new(model, seed))
            }
            None => send,
        };
        let recv = ReceivePipeline::new(cfg.receive).map_err(|e| PeerError {
            doing: "creating the Opus decoder",
            source: rtc::shared::error::Error::Other(e.to_string()),
        })?;
        let gathering = Gathering::start(now, cfg.media_addr, &cfg.relays, cfg.gather_timeout);
        let video_send = cfg.video.as_ref().and_then(|v| {
            v.clip.as_ref().map(|c| {
                video_sender::VideoSender::new(
                    c.clone(),
                    v.first_seq,
                    v.first_timestamp,
                    v.adaptation,
                    (
                        bwe_cfg(v).start_bps as f64,
                        bwe_cfg(v).max_bps as f64,
                        audio_bps,
                    ),
                )
            })
        });
        let video_recv = cfg.video.as_ref().map(|v| {
            let p = video_rtp::receive::VideoReceivePipeline::new(v.receive);
            match &v.pixels {
                Some(reference) => p.with_pixels(reference.clone()),
                None => p,
            }
        });
        let mut leg = CallLeg {
            bwe,
            video_send,
            video_recv,
            video_retransmitted: 0,
            video_highest_sent: None,
            gathering,
            offer_wanted: false,
            pending_offer: None,
            remote_candidates: Vec::new(),
            path: None,
            signaling: Signaling::new(cfg.signaling_deadline),
            cfg,
            peer,
            send,
            recv,
            out: Vec::new(),
            offer_at: None,
            connected_at: None,
            first_audio_at: None,
            failure: None,
            ended: false,
            ended_at: None,
            remote_hung_up: false,
            rtt_samples: Vec::new(),
            rtp_dropped_by_network: 0,
            stack_errors: 0,
            first_stack_error: None,
            sending: false,
            echoed: 0,
            answered: false,
            closed: false,
            close_at: None,
            reoffer_pending: false,
            ice_restarts: 0,
        };
        // Gathering starts now: the allocation requests go out with the leg's first transmits.
        leg.drain_relays();
        Ok(leg)
    }

    /// Our role.
    pub fn role(&self) -> Role {
        self.cfg.role
    }

    /// The SSRC of the audio we send.
    pub fn ssrc(&self) -> u32 {
        self.cfg.ssrc
    }

    /// The leg's signaling channel (the simulation carries it over real TCP).
    pub fn signaling(&mut self) -> &mut Signaling {
        &mut self.signaling
    }

    /// Our media address.
    pub fn media_addr(&self) -> SocketAddrV4 {
        self.cfg.media_addr
    }

    /// The caller places the call: creates the offer and sends it, once its candidates are
    /// gathered (at once when they are).
    pub fn start(&mut self, now: u64) {
        if self.cfg.role != Role::Caller {
            return;
        }
        if !self.gathering.is_done() {
            self.offer_wanted = true;
            self.pump(now);
            return;
        }
        self.offer(now);
        self.pump(now);
    }

    fn offer(&mut self, now: u64) {
        self.offer_wanted = false;
        match self.peer.create_offer(now) {
            Ok(sdp) => {
                self.offer_at = Some(now);
                let sdp = fixed_origin(&sdp, self.cfg.ssrc);
                self.signaling.send(now, SignalBody::Offer(sdp));
            }
            Err(e) => self.fail(now, FailureClass::StackError, e.to_string()),
        }
    }

    /// Answers the far end's offer `sdp`.
    fn answer(&mut self, now: u64, sdp: &str) {
        match self.peer.answer(now, sdp) {
            Ok(answer) => {
                self.remote_candidates = gather::remote_candidates(sdp);
                let answer = fixed_origin(&answer, self.cfg.ssrc);
                self.signaling.send(now, SignalBody::Answer(answer))
            }
            Err(e) => self.fail(now, FailureClass::StackError, e.to_string()),
        }
    }

    /// Takes in what the relays did; when gathering ends, sends what waited for it.
    fn update_gathering(&mut self, now: u64) {
        match self.gathering.update(now, Some(&mut self.peer)) {
            Ok(true) if !self.ended => {
                if self.offer_wanted {
                    self.offer(now);
                }
                if let Some(sdp) = self.pending_offer.take() {
                    self.answer(now, &sdp);
                }
            }
            Ok(_) => {}
            Err(e) => self.fail(now, FailureClass::StackError, e.to_string()),
        }
    }

    /// Ends a call that has not connected, with the failure class its state shows: no answer
    /// (signaling), no working candidate pair (ICE), or ICE up but no secure connection (DTLS).
    /// `when` says when it was given up ("within 30 s", "when the scenario ended").
    pub fn give_up_connecting(&mut self, now: u64, when: &str) {
        if self.connected_at.is_some() || self.ended {
            return;
        }
        let st = self.peer.poll_events(now);
        let (class, detail) = if self.cfg.role == Role::Caller && !self.answered {
            (FailureClass::SignalingTimeout, "no answer arrived")
        } else if st.ice_connected {
            (FailureClass::DtlsFailed, "ICE connected but DTLS did not")
        } else {
            (FailureClass::IceFailed, "no ICE candidate pair succeeded")
        };
        let errors = match &self.first_stack_error {
            Some(e) => format!(
                " (the stack reported {} error(s), the first: {e})",
                self.stack_errors
            ),
            None => String::new(),
        };
        self.fail(now, class, format!("{detail} {when}{errors}"));
    }

    /// Our host got a new address. With `ice_restart`, a connected call restarts ICE from the
    /// new address and re-offers; without it the old path is simply gone (the stack notices when
    /// its checks stop being answered: disconnected, then failed, and the call drops).
    pub fn network_changed(&mut self, now: u64, new_ip: std::net::Ipv4Addr) {
        let new_addr = SocketAddrV4::new(new_ip, self.cfg.media_addr.port());
        if !self.cfg.ice_restart || self.ended || self.connected_at.is_none() {
            return;
        }
        self.cfg.media_addr = new_addr;
        match self.peer.restart_on(now, new_addr) {
            Ok(sdp) => {
                self.ice_restarts += 1;
                self.reoffer_pending = true;
                let sdp = fixed_origin(&sdp, self.cfg.ssrc);
                self.signaling.send(now, SignalBody::Offer(sdp));
            }
            Err(e) => self.fail(now, FailureClass::StackError, e.to_string()),
        }
        self.pump(now);
    }

    /// Hangs up: tells the far end and stops.
    pub fn hang_up(&mut self, now: u64) {
        if self.ended {
            return;
        }
        self.signaling.send(now, SignalBody::Hangup);
        self.end(now);
        self.pump(now);
    }

    /// The call is over for this leg: nothing more is sent. Media already in flight is still
    /// taken in for the grace period (a hang-up, not a failure), then the connection closes.
    fn end(&mut self, now: u64) {
        self.ended = true;
        self.ended_at = Some(now);
        self.sending = false;
        if self.failure.is_some() || self.cfg.hangup_grace == 0 {
            self.close();
        } else {
            self.close_at = Some(now + self.cfg.hangup_grace);
        }
    }

    fn close(&mut self) {
        if !self.closed {
            // When it closes: at the end of the hang-up grace, or when the call ended.
            let at = self.close_at.or(self.ended_at).unwrap_or(0);
            self.closed = true;
            self.close_at = None;
            self.peer.close();
            self.gathering.release(at);
            self.drain_relays();
        }
    }

    fn fail(&mut self, now: u64, class: FailureClass, detail: String) {
        if self.failure.is_none() {
            self.failure = Some(Failure {
                class,
                code: None,
                at: now,
                detail,
            });
        }
        if !self.ended {
            // Tell the other side, as a client ending a failed call does (best effort: the
            // signaling path may be what failed).
            if !self.remote_hung_up {
                self.signaling.send(now, SignalBody::Hangup);
            }
            self.end(now);
        }
    }

    /// Ends the call with the service's refusal `resp` (its code and class), `what` saying
    /// at which step: a call whose caller could not sign in is never attempted, one the
    /// service turns down fails at the invite.
    pub fn refuse(&mut self, now: u64, resp: &crate::service::Response, what: &str) {
        let class = match resp.refusal {
            Some(r) => FailureClass::Refused(r),
            None => FailureClass::StackError,
        };
        self.fail(now, class, format!("{what}: {}", resp.code));
        if let Some(f) = &mut self.failure {
            if f.at == now && f.class == class {
                f.code = Some(resp.code);
            }
        }
    }

    /// Ends the call before it is attempted because the caller's client is not signed in:
    /// `failure` is why (the sign-in's own failure). Nothing is sent.
    pub fn not_attempted(&mut self, now: u64, failure: Failure) {
        // A client that is not signed in has no relay credentials: it gathers nothing.
        self.out.clear();
        self.gathering.abandon();
        if self.failure.is_none() {
            self.failure = Some(Failure { at: now, ..failure });
        }
        self.remote_hung_up = true;
        if !self.ended {
            self.end(now);
        }
    }

    /// A media-path datagram arrived at our address: from a relay server (TURN: what it relays
    /// goes to the stack as arriving at the relayed address), or from the far end directly.
    pub fn handle_media(&mut self, now: u64, from: SocketAddrV4, bytes: BytesMut) {
        if self.closed {
            return;
        }
        if let Some(relay) = self.gathering.relay_from(from) {
            let local = relay.relayed();
            let got = relay.handle_from_server(now, &bytes);
            if let Some(local) = local {
                for (peer, data) in got {
                    self.take_in(now, local, peer, BytesMut::from(&data[..]));
                }
            }
            self.update_gathering(now);
        } else {
            self.take_in(now, self.cfg.media_addr, from, bytes);
        }
        self.pump(now);
    }

    fn take_in(&mut self, now: u64, local: SocketAddrV4, from: SocketAddrV4, bytes: BytesMut) {
        if let Some(seq) = rtp_sequence(&bytes) {
            // Counted before SRTP's replay check, which drops network duplicates unseen.
            if bytes[1] & 0x7f == peer::OPUS_PT {
                self.recv.on_arrival(seq);
            }
        }
        if let Err(e) = self.peer.handle_datagram_on(now, local, from, bytes) {
            // A datagram the stack rejects (corrupted, say) is dropped, as a real stack would.
            let _ = e;
        }
    }

    /// A signaling message arrived.
    pub fn handle_signal(&mut self, now: u64, env: Envelope) {
        let body = self.signaling.receive(now, env);
        match body {
            // The first offer (callee), or a re-offer after the far end restarted ICE (either).
            Some(SignalBody::Offer(sdp))
                if !self.ended
                    && (self.cfg.role == Role::Callee || self.connected_at.is_some()) =>
            {
                if self.offer_at.is_none() {
                    self.offer_at = Some(now);
                }
                if self.gathering.is_done() {
                    self.answer(now, &sdp);
                } else {
                    self.pending_offer = Some(sdp);
                }
            }
            Some(SignalBody::Answer(sdp))
                if !self.ended
                    && ((self.cfg.role == Role::Caller && !self.answered)
                        || self.reoffer_pending) =>
            {
                self.answered = true;
                self.reoffer_pending = false;
                self.remote_candidates = gather::remote_candidates(&sdp);
                if let Err(e) = self.peer.apply_answer(now, &sdp) {
                    self.fail(now, FailureClass::StackError, e.to_string());
                }
            }
            Some(SignalBody::Hangup) => {
                self.remote_hung_up = true;
                if !self.ended {
                    self.end(now);
                }
            }
            Some(SignalBody::Decline(reason)) => {
                self.fail(now, FailureClass::SignalingTimeout, reason);
            }
            // The service refused the call, or can no longer carry it; a call already up keeps
            // its media path (the service is not on it).
            Some(SignalBody::Refused(resp)) if self.connected_at.is_none() => {
                self.refuse(now, &resp, "the service refused the call");
            }
            _ => {}
        }
        self.pump(now);
    }

    /// The earliest time this leg needs to run, ns.
    pub fn poll_timeout(&mut self) -> Option<u64> {
        let mut t = self.signaling.poll_timeout();
        let mut min = |x: Option<u64>| {
            if let Some(x) = x {
                t = Some(t.map_or(x, |t: u64| t.min(x)));
            }
        };
        min(self.close_at);
        if !self.closed {
            min(self.peer.poll_timeout());
            min(self.gathering.poll_timeout());
        }
        if !self.ended {
            if self.sending {
                min(Some(self.send.next_frame_time()));
                min(self.video_send.as_ref().and_then(|v| v.poll_timeout()));
            }
            min(self.recv.next_tick());
            if !self.closed {
                let rtt = self.rtt_ns();
                min(self.video_recv.as_ref().and_then(|v| v.next_pli_at(rtt)));
            }
            if self.connected_at.is_none() {
                min(self.offer_at.map(|o| o + self.cfg.connect_timeout));
            }
        }
        t
    }

    /// Runs timers, media and playout up to `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        if self.signaling.handle_timeout(now) && self.connected_at.is_none() && !self.ended {
            self.fail(
                now,
                FailureClass::SignalingTimeout,
                "a signaling message was not acknowledged before the deadline".into(),
            );
        }
        if self.close_at.is_some_and(|t| t <= now) {
            self.close();
        }
        if !self.closed && self.gathering.poll_timeout().is_some_and(|t| t <= now) {
            self.gathering.handle_timeout(now);
            self.update_gathering(now);
        }
        if !self.closed && self.peer.poll_timeout().is_some_and(|t| t <= now) {
            if let Err(e) = self.peer.handle_timeout(now) {
                self.stack_errors += 1;
                self.first_stack_error.get_or_insert_with(|| e.to_string());
                let st = self.peer.poll_events(now);
                if !self.ended && self.connected_at.is_none() && st.ice_connected {
                    // rtc 0.21's DTLS handshake gives up after its last retransmission with
                    // `ErrInvalidFsmTransition`: the secure connection cannot be made.
                    self.fail(
                        now,
                        FailureClass::DtlsFailed,
                        format!("the DTLS handshake gave up ({e})"),
                    );
                }
                // Anything else the stack reports from its timers, a client goes on from; if
                // the connection cannot recover, the connect timeout or ICE fails the call.
            }
        }
        if !self.ended {
            if let Some(offer) = self.offer_at {
                if self.connected_at.is_none() && now >= offer + self.cfg.connect_timeout {
                    let within = format!("within {} s", self.cfg.connect_timeout / 1_000_000_000);
                    self.give_up_connecting(now, &within);
                }
            }
        }
        while self.sending && self.send.next_frame_time() <= now {
            let frame = match self.send.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => continue, // a DTX frame held back
                Err(e) => {
                    self.fail(now, FailureClass::StackError, e.to_string());
                    break;
                }
            };
            let (seq, ts, marker) = (frame.seq, frame.timestamp, frame.marker);
            let payload = bytes::Bytes::copy_from_slice(frame.payload);
            if let Some(v) = self.video_send.as_mut() {
                v.note_audio(now, payload.len() + congestion::RTP_OVERHEAD);
            }
            if let Err(e) = self.peer.send_audio(now, seq, ts, marker, payload) {
                self.fail(now, FailureClass::StackError, e.to_string());
                break;
            }
        }
        self.send_video_due(now);
        // Playout stops when the call ends for this leg (nobody listens after hanging up).
        let play_until = self.ended_at.map_or(now, |e| e.min(now));
        while let Some(t) = self.recv.next_tick() {
            if t > play_until {
                break;
            }
            if self.recv.on_tick(t) && self.first_audio_at.is_none() {
                self.first_audio_at = Some(t);
            }
        }
        self.pump(now);
    }

    /// The latest RTT measured, ns.
    fn rtt_ns(&self) -> Option<u64> {
        self.rtt_samples.last().map(|&(_, ms)| (ms * 1e6) as u64)
    }

    /// Moves everything the stack produced into our queues and updates the call's state.
    fn pump(&mut self, now: u64) {
        let st = self.peer.poll_events(now);
        if st.connected && self.connected_at.is_none() {
            self.connected_at = Some(now);
            // The echo service sends only what it hears.
            self.sending = !self.ended && !self.cfg.echo && self.cfg.send_audio;
            self.send.start(now);
            if let Some(v) = self.video_send.as_mut() {
                v.start(now);
            }
        }
        if !self.ended && (st.ice_failed || st.failed) {
            let class = if self.connected_at.is_some() {
                FailureClass::CallDropped
            } else if st.ice_connected {
                FailureClass::DtlsFailed
            } else {
                FailureClass::IceFailed
            };
            self.fail(
                now,
                class,
                "the WebRTC stack reported the connection failed".into(),
            );
        }
        while let Some(rtp) = self.peer.poll_rtp(now) {
            if let Some(codec) = rtp.video {
                if let Some(v) = self.video_recv.as_mut() {
                    v.on_rtp(
                        rtp.at,
                        codec,
                        rtp.ssrc,
                        rtp.seq,
                        rtp.timestamp,
                        rtp.marker,
                        rtp.payload,
                    );
                }
                continue;
            }
            self.recv
                .on_rtp(rtp.at, rtp.seq, rtp.timestamp, &rtp.payload);
            if self.cfg.echo && !self.ended {
                let seq = self.cfg.first_seq.wrapping_add(self.echoed as u16);
                let ts = rtp.timestamp.wrapping_add(self.cfg.first_timestamp);
                self.echoed += 1;
                if let Err(e) = self.peer.send_audio(now, seq, ts, false, rtp.payload) {
                    self.fail(now, FailureClass::StackError, e.to_string());
                }
            }
        }
        let known = self.rtt_samples.len();
        self.peer.take_rtt_samples(&mut self.rtt_samples);
        if let Some(b) = &self.bwe {
            for &(at, ms) in &self.rtt_samples[known..] {
                b.on_rtt(at, (ms * 1e6) as u64);
            }
        }
        if let Some(v) = self.video_send.as_mut() {
            // (A lock on the chain's log: only for a leg that sends video.)
            for _ in 0..self.peer.take_keyframe_requests() {
                v.request_keyframe();
            }
        }
        if !self.closed {
            // While closing, the stack may still answer (RTCP, STUN); media sending stopped.
            while let Some((local, to, bytes)) = self.peer.poll_datagram() {
                if let Some(seq) = rtp_sequence(&bytes) {
                    if self.connected_at.is_some() {
                        self.path = Some((local, to));
                    }
                    if bytes[1] & 0x7f != peer::OPUS_PT {
                        self.note_video_sent(seq);
                    }
                }
                if local == self.cfg.media_addr {
                    self.out.push(Transmit::Media {
                        from: local,
                        to,
                        bytes,
                    });
                } else if let Some(relay) = self.gathering.relay_at(local) {
                    relay.send_to(now, to, &bytes);
                }
            }
            self.drain_relays();
        }
        while let Some(env) = self.signaling.poll_send(now) {
            self.out.push(Transmit::Signal(env));
        }
    }

    /// Moves what the relay clients want sent to their servers into our queue: datagrams from
    /// our media socket, or bytes for a TCP stream (plain TCP from the same port number, TCP's
    /// own; TLS from a port of its own).
    fn drain_relays(&mut self) {
        for relay in self.gathering.relays_mut() {
            let tcp = relay.transport().is_stream();
            let from = relay.local();
            while let Some((to, bytes)) = relay.poll_transmit() {
                self.out.push(if tcp {
                    Transmit::Stream { from, to, bytes }
                } else {
                    Transmit::Media {
                        from,
                        to,
                        bytes: BytesMut::from(&bytes[..]),
                    }
                });
            }
        }
    }

    /// Bytes arrived on our TCP stream `local` -> `from` (a relay server over TCP or TLS).
    pub fn handle_stream(
        &mut self,
        now: u64,
        local: SocketAddrV4,
        from: SocketAddrV4,
        bytes: &[u8],
    ) {
        if self.closed {
            return;
        }
        if let Some(relay) = self.gathering.relay_stream(local, from) {
            let relayed = relay.relayed();
            let got = relay.handle_from_server(now, bytes);
            if let Some(relayed) = relayed {
                for (peer, data) in got {
                    self.take_in(now, relayed, peer, BytesMut::from(&data[..]));
                }
            }
            self.update_gathering(now);
        }
        self.pump(now);
    }

    /// Our TCP stream `local` -> `from` is gone (refused, reset, timed out).
    pub fn stream_closed(&mut self, now: u64, local: SocketAddrV4, from: SocketAddrV4) {
        if let Some(relay) = self.gathering.relay_stream(local, from) {
            relay.connection_lost();
        }
        self.update_gathering(now);
        self.pump(now);
    }

    /// Takes what this leg wants sent now.
    pub fn drain_transmits(&mut self) -> std::vec::Drain<'_, Transmit> {
        self.out.drain(..)
    }

    /// The receive side's measurements.
    pub fn receiver(&self) -> &ReceivePipeline {
        &self.recv
    }

    /// The receive side, mutable (to finish the stream before measuring it).
    pub fn receiver_mut(&mut self) -> &mut ReceivePipeline {
        &mut self.recv
    }

    /// The send side (frames sent).
    pub fn sender(&self) -> &SendPipeline {
        &self.send
    }

    /// The candidate pair media took last, as `local-type/transport -> remote-type/transport`
    /// (e.g. `relay/tcp -> host/udp`: our relay candidate, reached over TCP, to the far end's
    /// host candidate); None before the call connected.
    pub fn candidate_pair(&self) -> Option<String> {
        let (local, remote) = self.path?;
        let l = self.gathering.local(local)?;
        let r = self
            .remote_candidates
            .iter()
            .find(|c| c.0 == remote)
            .map(|c| format!("{}/{}", c.1.name(), c.2))
            // A peer-reflexive address (learnt from a check, not in the description).
            .unwrap_or_else(|| "prflx/udp".to_owned());
        Some(format!("{}/{} -> {r}", l.kind.name(), l.transport))
    }

    /// Our candidate media took last, as `type/transport` (`relay/tcp`: our relay candidate,
    /// reached over TCP); None before media flowed.
    pub fn local_candidate(&self) -> Option<String> {
        let (local, _) = self.path?;
        let l = self.gathering.local(local)?;
        Some(format!("{}/{}", l.kind.name(), l.transport))
    }

    /// Our candidate at `addr` (where the far end sends our media), as `type/transport`: the
    /// host, the server-reflexive address a NAT gave us, or the relayed address; `prflx/udp`
    /// for an address of ours the far end learnt from our checks alone (a NAT mapping no
    /// server told us about).
    pub fn candidate_at(&self, addr: SocketAddrV4) -> String {
        match self
            .gathering
            .candidates
            .iter()
            .find(|c| c.addr == Some(addr))
        {
            Some(c) => format!("{}/{}", c.kind.name(), c.transport),
            None => "prflx/udp".to_owned(),
        }
    }

    /// The selected path: (our candidate, the far end's address).
    pub fn path(&self) -> Option<(SocketAddrV4, SocketAddrV4)> {
        self.path
    }

    /// Our candidates: what was gathered, when, and what failed.
    pub fn candidates(&self) -> &[gather::LocalCandidate] {
        &self.gathering.candidates
    }

    /// When gathering ended, ns.
    pub fn gathered_at(&self) -> Option<u64> {
        self.gathering.done_at
    }

    /// Peer connection milestones (time ns, name).
    pub fn milestones(&self) -> &[(u64, &'static str)] {
        &self.peer.milestones
    }
}
