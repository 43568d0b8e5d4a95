//! A leg's video send side as a client runs it: frames from the current layer of its ladder
//! at their times, into the pacer, and out at the pacing rate; with adaptation, the layer
//! follows the bandwidth estimate less what audio takes ([`super::video_rtp::ladder`]).
//!
//! The estimate comes from our send-side estimator ([`super::bwe`]) inside the stack's
//! congestion-control interceptor, which matches transport-wide feedback to what left. The
//! pacing rate is [`PACING_FACTOR`] times the estimate (times the layer's rate without
//! adaptation).

use super::bwe::BweStats;
use super::video_rtp::ladder::{LayerSelector, LayerSwitch, VideoLadder};
use super::video_rtp::pacer::{
    PacedPacket, Pacer, BURST_NS, KEYFRAME_PACING_FACTOR, PACING_FACTOR,
};
use super::video_rtp::send::VideoSendPipeline;
use std::sync::Arc;

/// How the send side stood, once a second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SendSecond {
    /// The second of the run it opens (simulated time / 1 s).
    pub t: u64,
    /// The layer being sent (an index into the ladder, 0 the top).
    pub layer: usize,
    /// The estimator's view at that moment (None without one).
    pub estimate: Option<BweStats>,
}

/// See the module docs.
pub struct VideoSender {
    pipeline: VideoSendPipeline,
    ladder: Arc<VideoLadder>,
    /// Each rung's RTP rate, bit/s.
    rates: Vec<f64>,
    /// None: no adaptation (the top layer whatever the estimate).
    selector: Option<LayerSelector>,
    pacer: Pacer,
    switches: Vec<LayerSwitch>,
    seconds: Vec<SendSecond>,
    started: Option<u64>,
    /// Audio RTP bytes sent in the current second, and the rate of the last whole one.
    audio_bytes: u64,
    audio_bps: f64,
    audio_second: u64,
    /// The first keyframe leaves as the initial probe at this rate, bit/s (adapting only).
    probe_bps: f64,
    probe: Probe,
    stepped_up: bool,
}

/// Where the initial probe stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// The next frame is it.
    Due,
    /// Its packets are leaving: how many are left, and when the first left (ns).
    Leaving { left: usize, from: Option<u64> },
    /// All left between these times (ns); not yet handed to the estimator.
    Sent { from: u64, to: u64 },
    /// Handed to the estimator; its last packet left at `to` (ns). Waiting for the result.
    Handed { to: u64 },
    /// Its result (or the wait for it) set the layer; or no probe at all (no adaptation).
    Done,
}

/// The initial probe's keyframe goes out in at least this many packets (a train long enough
/// for its dispersion to measure the link; libwebrtc's probe clusters have at least 5).
pub const PROBE_PACKETS: usize = 6;

/// The lowest rate the initial probe is sent at, bit/s: libwebrtc's second initial probe, six
/// times its 300 kbit/s start.
pub const PROBE_MIN_BPS: f64 = 1_800_000.0;
/// Without a probe result this long after the probe left, the sender adapts on the estimate it
/// has, ns.
pub const PROBE_WAIT_NS: u64 = 1_000_000_000;

impl VideoSender {
    /// A sender of `ladder` (its top layer first). Without `adaptation` it sends the top layer
    /// at its own pace. With it, it starts on the layer the estimator's start rate carries beside
    /// audio (`start_bps`, `audio_bps`), sends its first keyframe as the initial probe at
    /// `probe_bps` (at least [`PROBE_MIN_BPS`]) and goes to the layer the probe's result carries.
    pub fn new(
        ladder: Arc<VideoLadder>,
        first_seq: u16,
        first_ts: u32,
        adaptation: bool,
        (start_bps, probe_bps, audio_bps): (f64, f64, f64),
    ) -> Self {
        let rates = ladder.rtp_rates();
        let selector = (adaptation && rates.len() > 1).then(|| {
            let mut s = LayerSelector::new(rates.clone(), 0);
            s.jump(0, start_bps - audio_bps);
            s
        });
        let start = selector.as_ref().map_or(0, |s| s.current());
        let mut pipeline =
            VideoSendPipeline::new(ladder.rungs()[start].source(), first_seq, first_ts);
        if adaptation {
            pipeline.split_next_frame(PROBE_PACKETS);
        }
        VideoSender {
            pipeline,
            pacer: Pacer::new(rates[0] * PACING_FACTOR),
            rates,
            ladder,
            selector,
            switches: Vec::new(),
            seconds: Vec::new(),
            started: None,
            audio_bytes: 0,
            audio_bps: 0.0,
            audio_second: 0,
            probe_bps: probe_bps.max(PROBE_MIN_BPS),
            probe: if adaptation { Probe::Due } else { Probe::Done },
            stepped_up: false,
        }
    }

    /// The most the estimate needs to reach, bit/s: what the top layer and audio need, and half
    /// as much again for room (the estimator's cap).
    pub fn max_bps(ladder: &VideoLadder, audio_bps: f64) -> u64 {
        ((ladder.rtp_rates()[0] + audio_bps) * 1.5) as u64
    }

    /// The initial probe's packets went out between these times (ns), once, when they have.
    pub fn take_probe(&mut self) -> Option<(u64, u64)> {
        let Probe::Sent { from, to } = self.probe else {
            return None;
        };
        self.probe = Probe::Handed { to };
        Some((from, to))
    }

    /// Starts sending at `now` (ns).
    pub fn start(&mut self, now: u64) {
        self.pipeline.start(now);
        self.started.get_or_insert(now);
        self.audio_second = now;
    }

    /// The pipeline (what was sent, the layer now).
    pub fn pipeline(&self) -> &VideoSendPipeline {
        &self.pipeline
    }

    /// The layers it switched between, in order.
    pub fn switches(&self) -> &[LayerSwitch] {
        &self.switches
    }

    /// One sample a second from the start.
    pub fn seconds(&self) -> &[SendSecond] {
        &self.seconds
    }

    /// The ladder it sends from.
    pub fn ladder(&self) -> &VideoLadder {
        &self.ladder
    }

    /// Whether it follows the estimate through its ladder.
    pub fn adapts(&self) -> bool {
        self.selector.is_some()
    }

    /// A switch to a larger layer since the last call (the estimator's throughput should
    /// follow it quickly).
    pub fn take_step_up(&mut self) -> bool {
        std::mem::take(&mut self.stepped_up)
    }

    /// The index of the layer being sent.
    pub fn layer_index(&self) -> usize {
        self.selector.as_ref().map_or(0, |s| s.current())
    }

    /// The far end asked for a keyframe.
    pub fn request_keyframe(&mut self) {
        self.pipeline.request_keyframe();
    }

    /// An audio packet of `bytes` (RTP header and payload) left at `now`.
    pub fn note_audio(&mut self, now: u64, bytes: usize) {
        self.roll_audio(now);
        self.audio_bytes += bytes as u64;
    }

    fn roll_audio(&mut self, now: u64) {
        while now >= self.audio_second + 1_000_000_000 {
            self.audio_bps = self.audio_bytes as f64 * 8.0;
            self.audio_bytes = 0;
            self.audio_second += 1_000_000_000;
        }
    }

    /// When it next needs to run, ns.
    pub fn poll_timeout(&self) -> Option<u64> {
        match (self.pipeline.next_frame_time(), self.pacer.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The frames due by `now` into the pacer, each after choosing its layer from the
    /// estimator's view now (`estimate`, asked only when a frame is due; None without one).
    pub fn produce(
        &mut self,
        now: u64,
        estimate: impl FnOnce() -> Option<BweStats>,
    ) -> Result<(), String> {
        self.roll_audio(now);
        if self.pipeline.next_frame_time().is_none_or(|t| t > now) {
            return Ok(());
        }
        let estimate = estimate();
        while let Some(due) = self.pipeline.next_frame_time().filter(|&t| t <= now) {
            self.sample(due, estimate);
            // Layers follow the estimate once the probe has measured the link (or failed to):
            // the probe's result takes the sender straight to its layer, trials after that.
            let probed = match self.probe {
                Probe::Done => true,
                Probe::Handed { to } => {
                    estimate.is_some_and(|e| e.probe_bps.is_some()) || due >= to + PROBE_WAIT_NS
                }
                _ => false,
            };
            if let (Some(sel), Some(e), true) = (self.selector.as_mut(), estimate, probed) {
                let budget = e.target_bps as f64 - self.audio_bps;
                let switch = if self.probe == Probe::Done {
                    sel.update(due, budget)
                } else {
                    self.probe = Probe::Done;
                    sel.jump(due, budget)
                };
                if let Some(sw) = switch {
                    self.stepped_up |= sw.to < sw.from;
                    let rung = self.ladder.rungs()[sw.to].clone();
                    self.pipeline.switch_to(&*rung);
                    self.switches.push(sw);
                }
            }
            let pacing = match (&self.selector, estimate) {
                (Some(_), Some(e)) => e.target_bps as f64,
                _ => self.rates[0] + self.audio_bps,
            };
            let first = self.probe == Probe::Due;
            let probing = first || matches!(self.probe, Probe::Leaving { .. });
            if probing {
                // The probe's train leaves packet by packet at its rate (no burst).
                self.pacer.set_rate(self.probe_bps);
                self.pacer.set_burst(0);
            }
            let frame = self.pipeline.next_frame()?;
            if first {
                self.probe = Probe::Leaving {
                    left: frame.packets.len(),
                    from: None,
                };
            } else if !probing {
                let factor = if frame.keyframe {
                    KEYFRAME_PACING_FACTOR
                } else {
                    PACING_FACTOR
                };
                self.pacer.set_rate(pacing * factor);
                self.pacer.set_burst(BURST_NS);
            }
            let ts = frame.timestamp;
            for (seq, marker, payload) in frame.packets {
                self.pacer.push(
                    now,
                    PacedPacket {
                        seq: *seq,
                        timestamp: ts,
                        marker: *marker,
                        payload: payload.clone(),
                    },
                );
            }
        }
        Ok(())
    }

    /// The next packet that may leave at `now`.
    pub fn pop(&mut self, now: u64) -> Option<PacedPacket> {
        let p = self.pacer.pop(now)?;
        if let Probe::Leaving { left, from } = self.probe {
            let from = from.unwrap_or(now);
            self.probe = match left.saturating_sub(1) {
                0 => Probe::Sent { from, to: now },
                left => Probe::Leaving {
                    left,
                    from: Some(from),
                },
            };
        }
        Some(p)
    }

    fn sample(&mut self, at: u64, estimate: Option<BweStats>) {
        if self.started.is_none() {
            return;
        }
        let t = at / 1_000_000_000;
        if self.seconds.last().is_some_and(|s| s.t >= t) {
            return;
        }
        self.seconds.push(SendSecond {
            t,
            layer: self.layer_index(),
            estimate,
        });
    }
}

/// The layer of `ladder` at index `i`, for the report.
pub fn layer_of(ladder: &VideoLadder, i: usize) -> crate::agent::video::VideoLayer {
    ladder.rungs()[i.min(ladder.rungs().len() - 1)].layer()
}
