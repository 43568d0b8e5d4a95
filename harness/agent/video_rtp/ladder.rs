//! Video adaptation: the layers a sender steps down through when the bandwidth estimate falls
//! (a smaller picture, then a lower frame rate), and the rule that picks one.
//!
//! A real encoder follows its target bitrate continuously and drops resolution when its
//! quantizer runs out of room (libwebrtc's quality scaler, "balanced" degradation). Our
//! encoders run once per layer and are replayed, so the sender holds a ladder of encoded
//! layers, each about 1.5 times the one below, and switches between them at a keyframe.
//!
//! [`LayerSelector`] decides from the budget (the estimate minus what audio takes):
//! - **down** when the budget has stayed under [`DOWN_TOLERANCE`] of the current layer's rate
//!   for [`DOWN_HOLD_NS`], or at once when it is under [`DOWN_AT_ONCE`] of it; to the highest
//!   layer the budget carries. The tolerance is there because one decrease of the estimator
//!   (to 0.85 x the acknowledged throughput, after a transient queue such as a keyframe through
//!   a link only a little faster than the layer) would otherwise cost a whole rung, and the
//!   trial back up another keyframe; a link that cannot carry the layer brings the budget under
//!   it within a decrease or two. (A real encoder follows such a dip by coarser quantization at
//!   the same picture size; our replayed layers cannot.)
//! - **up** one layer when the budget has covered the next layer's rate for the up hold
//!   ([`UP_HOLD_NS`] at first). The estimator cannot see a link's room beyond 1.5 times what
//!   is sent (GCC's cap on the acknowledged rate), so going up is a trial, as real clients'
//!   probes are: a trial that ends in a step down within [`TRIAL_NS`] doubles the hold before
//!   the next one (up to [`UP_HOLD_MAX_NS`]) and goes back to the layer it came from (not
//!   further, unless the budget is under [`DOWN_AT_ONCE`] of that layer's rate).

use super::packetize::MAX_PAYLOAD;
use super::send::EncodedVideo;
use crate::agent::congestion::RTP_OVERHEAD;
use crate::agent::video::VideoLayer;
use std::sync::Arc;

/// A sender's encoded layers, highest first (one alone for a sender that does not adapt).
pub struct VideoLadder {
    rungs: Vec<Arc<dyn EncodedVideo>>,
}

impl VideoLadder {
    /// `top` (what the camera is configured to send), then the smaller layers, highest first.
    pub fn new(top: Arc<dyn EncodedVideo>, lower: Vec<Arc<dyn EncodedVideo>>) -> Self {
        let mut rungs = vec![top];
        rungs.extend(lower);
        VideoLadder { rungs }
    }

    /// The top layer.
    pub fn top(&self) -> &Arc<dyn EncodedVideo> {
        &self.rungs[0]
    }

    /// Every layer, highest first (never empty).
    pub fn rungs(&self) -> &[Arc<dyn EncodedVideo>] {
        &self.rungs
    }

    /// Each rung's rate at the RTP level, bit/s ([`rtp_rate_bps`] of what it encodes).
    pub fn rtp_rates(&self) -> Vec<f64> {
        self.rungs
            .iter()
            .map(|r| {
                let fps = r.layer().fps.max(1);
                let frame_bytes = r.encoded_bps() / 8.0 / f64::from(fps);
                let packets = (frame_bytes / MAX_PAYLOAD as f64).ceil().max(1.0);
                rtp_rate_bps(r.encoded_bps(), fps, packets)
            })
            .collect()
    }
}

/// Each rung below the top: (share of the top's picture side, share of its frame rate, share
/// of its bitrate). About 1.5x between rungs, as simulcast and quality-scaler steps are;
/// resolution goes first, the frame rate last (motion matters more to a call than detail).
const RUNGS: [(f64, u32, f64); 4] = [
    (0.75, 1, 0.65),
    (0.5, 1, 0.42),
    (0.5, 2, 0.27),
    (0.25, 2, 0.17),
];

/// No rung below this bitrate (the scenario's lowest video bitrate).
pub const MIN_RUNG_BPS: u32 = 50_000;
/// No rung smaller than this picture.
const MIN_SIDE: (u32, u32) = (160, 90);

/// The ladder for a client whose camera encodes `top`: `top` first, then each smaller rung
/// (none under [`MIN_RUNG_BPS`], none twice).
pub fn ladder_layers(top: VideoLayer) -> Vec<VideoLayer> {
    let mut out = vec![top];
    for (side, fps_div, rate) in RUNGS {
        let even = |v: f64, min: u32| ((v / 2.0).round() as u32 * 2).max(min);
        let layer = VideoLayer {
            width: even(f64::from(top.width) * side, MIN_SIDE.0.min(top.width)),
            height: even(f64::from(top.height) * side, MIN_SIDE.1.min(top.height)),
            fps: (top.fps / fps_div).max(1),
            bitrate_bps: (f64::from(top.bitrate_bps) * rate) as u32,
        };
        if layer.bitrate_bps < MIN_RUNG_BPS || out.contains(&layer) {
            break;
        }
        out.push(layer);
    }
    out
}

/// What a layer costs on the wire at the RTP level (what the estimator measures), bit/s: its
/// encoded rate plus [`RTP_OVERHEAD`] bytes a packet (RTP header and the transport-wide
/// sequence number) for about `packets_per_frame` packets a frame.
pub fn rtp_rate_bps(encoded_bps: f64, fps: u32, packets_per_frame: f64) -> f64 {
    encoded_bps + f64::from(fps) * packets_per_frame * (RTP_OVERHEAD * 8) as f64
}

/// A layer holds while the budget is at least this share of its rate.
pub const DOWN_TOLERANCE: f64 = 0.8;
/// Budget under the tolerance for this long: step down, ns.
pub const DOWN_HOLD_NS: u64 = 500_000_000;
/// Budget under this share of the current layer's rate: step down at once.
pub const DOWN_AT_ONCE: f64 = 0.6;
/// Budget over the next layer's rate for this long: try it, ns (the first time).
pub const UP_HOLD_NS: u64 = 2_000_000_000;
/// The longest the up hold grows to after failed trials, ns.
pub const UP_HOLD_MAX_NS: u64 = 32_000_000_000;
/// A step down this soon after a step up: the trial failed, ns.
pub const TRIAL_NS: u64 = 5_000_000_000;

/// A change of layer the selector made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerSwitch {
    /// When, ns.
    pub at: u64,
    pub from: usize,
    pub to: usize,
    /// The budget that decided it, bit/s.
    pub budget_bps: u64,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct LayerSelector {
    /// Each rung's RTP rate, bit/s, highest first.
    rates: Vec<f64>,
    current: usize,
    below_since: Option<u64>,
    above_since: Option<u64>,
    up_hold: u64,
    last_up: Option<u64>,
}

impl LayerSelector {
    /// A selector over rungs of these RTP rates (bit/s, highest first), starting on `start`.
    pub fn new(rates: Vec<f64>, start: usize) -> Self {
        let current = start.min(rates.len().saturating_sub(1));
        LayerSelector {
            rates,
            current,
            below_since: None,
            above_since: None,
            up_hold: UP_HOLD_NS,
            last_up: None,
        }
    }

    /// The highest rung `budget` carries (the lowest when it carries none).
    pub fn fitting(&self, budget_bps: f64) -> usize {
        self.rates
            .iter()
            .position(|&r| r <= budget_bps)
            .unwrap_or(self.rates.len().saturating_sub(1))
    }

    pub fn current(&self) -> usize {
        self.current
    }

    /// The hold before the next trial up, ns.
    pub fn up_hold(&self) -> u64 {
        self.up_hold
    }

    /// Goes straight to the rung `budget` carries, up or down (the initial probe measured the
    /// link: no trial is needed).
    pub fn jump(&mut self, now: u64, budget_bps: f64) -> Option<LayerSwitch> {
        let to = self.fitting(budget_bps);
        self.below_since = None;
        self.above_since = None;
        let from = std::mem::replace(&mut self.current, to);
        (from != to).then_some(LayerSwitch {
            at: now,
            from,
            to,
            budget_bps: budget_bps as u64,
        })
    }

    /// The budget at `now` (ns): the rung to send, when it changes.
    pub fn update(&mut self, now: u64, budget_bps: f64) -> Option<LayerSwitch> {
        let rate = self.rates[self.current];
        let switch = |s: &mut Self, to: usize| {
            let from = s.current;
            s.current = to;
            s.below_since = None;
            s.above_since = None;
            Some(LayerSwitch {
                at: now,
                from,
                to,
                budget_bps: budget_bps as u64,
            })
        };
        if budget_bps < rate * DOWN_TOLERANCE && self.current + 1 < self.rates.len() {
            self.above_since = None;
            let since = *self.below_since.get_or_insert(now);
            if budget_bps < rate * DOWN_AT_ONCE || now - since >= DOWN_HOLD_NS {
                let mut to = self.fitting(budget_bps).max(self.current + 1);
                match self.last_up.take() {
                    Some(u) if now - u < TRIAL_NS => {
                        self.up_hold = (self.up_hold * 2).min(UP_HOLD_MAX_NS);
                        let back = self.current + 1;
                        if budget_bps >= self.rates[back] * DOWN_AT_ONCE {
                            to = back;
                        }
                    }
                    // The last step up held: the next trial needs no longer hold.
                    Some(_) => self.up_hold = UP_HOLD_NS,
                    None => {}
                }
                return switch(self, to);
            }
            return None;
        }
        self.below_since = None;
        if self.current > 0 && budget_bps >= self.rates[self.current - 1] {
            let since = *self.above_since.get_or_insert(now);
            if now - since >= self.up_hold {
                if self.last_up.is_some_and(|u| now - u >= TRIAL_NS) {
                    // The last step up held: the next trial needs no longer hold.
                    self.up_hold = UP_HOLD_NS;
                }
                self.last_up = Some(now);
                let to = self.current - 1;
                return switch(self, to);
            }
        } else {
            self.above_since = None;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn layer(w: u32, h: u32, fps: u32, kbps: u32) -> VideoLayer {
        VideoLayer {
            width: w,
            height: h,
            fps,
            bitrate_bps: kbps * 1000,
        }
    }

    #[test]
    fn the_ladder_halves_the_picture_then_the_frame_rate() {
        let l = ladder_layers(layer(640, 360, 30, 600));
        assert_eq!(
            l,
            vec![
                layer(640, 360, 30, 600),
                layer(480, 270, 30, 390),
                layer(320, 180, 30, 252),
                layer(320, 180, 15, 162),
                layer(160, 90, 15, 102),
            ]
        );
        // Each rung 1.5-1.7x the one below.
        for w in l.windows(2) {
            let r = f64::from(w[0].bitrate_bps) / f64::from(w[1].bitrate_bps);
            assert!((1.5..1.7).contains(&r), "{r}");
        }
        // A small, cheap camera: sides never under 160x90 (or its own), no rung under 50 kbit/s.
        let small = ladder_layers(layer(320, 180, 15, 150));
        assert_eq!(
            small,
            vec![
                layer(320, 180, 15, 150),
                VideoLayer {
                    bitrate_bps: 97_500,
                    ..layer(240, 136, 15, 0)
                },
                layer(160, 90, 15, 63),
            ]
        );
        assert_eq!(ladder_layers(layer(160, 90, 5, 50)).len(), 1);
    }

    #[test]
    fn steps_down_after_the_hold_or_at_once_and_up_only_after_its_hold() {
        let mut s = LayerSelector::new(vec![600e3, 400e3, 260e3, 170e3], 0);
        // Within the tolerance (80 % of the layer's rate): the layer holds.
        for t in 0..10 {
            assert_eq!(s.update(t * 100 * MS, 490e3), None);
        }
        // Under it: nothing until 500 ms have passed.
        assert_eq!(s.update(1_000 * MS, 450e3), None);
        assert_eq!(s.update(1_499 * MS, 450e3), None);
        let d = s.update(1_500 * MS, 450e3).unwrap();
        assert_eq!((d.from, d.to), (0, 1));
        // Far under: at once, straight to the rung that fits.
        let d = s.update(600 * MS, 200e3).unwrap();
        assert_eq!((d.from, d.to), (1, 3));
        // Budget back over the next rung: up after 2 s, one rung at a time.
        assert_eq!(s.update(1_000 * MS, 300e3), None);
        assert_eq!(s.update(2_999 * MS, 300e3), None);
        let u = s.update(3_000 * MS, 300e3).unwrap();
        assert_eq!((u.from, u.to), (3, 2));
        // A budget between rungs holds.
        for t in 0..20 {
            assert_eq!(s.update(3_100 * MS + t * 500 * MS, 300e3), None);
        }
    }

    #[test]
    fn a_failed_trial_doubles_the_hold_and_a_held_one_resets_it() {
        let mut s = LayerSelector::new(vec![400e3, 200e3], 1);
        let mut t = 0;
        let mut ups = Vec::new();
        // The link carries 300 kbit/s: every trial of the top fails 1 s later.
        for _ in 0..4 {
            while s.current() == 1 {
                s.update(t, 450e3);
                t += 100 * MS;
            }
            ups.push(t - 100 * MS);
            s.update(t + 1_000 * MS, 150e3).unwrap();
            t += 1_100 * MS;
        }
        let holds: Vec<u64> = ups.windows(2).map(|w| (w[1] - w[0]) / MS).collect();
        // Holds of 4, 8 and 16 s after the failed trials, each plus the 1.2 s from the step up
        // to the first update after the step down.
        assert_eq!(holds, vec![5_200, 9_200, 17_200]);
        assert_eq!(s.up_hold(), 32_000 * MS);
        // A trial that holds past 5 s resets the hold for the next one.
        while s.current() == 1 {
            s.update(t, 450e3);
            t += 100 * MS;
        }
        s.update(t + 6_000 * MS, 150e3).unwrap();
        assert_eq!(s.up_hold(), UP_HOLD_NS);
    }
}
