//! Media-quality measurement: pure functions of packets and times, no clocks.
//!
//! Every number here is defined in `../shared/reference/metrics.md`:
//! - [`receiver`]: RFC 3550 receiver statistics (sequence validity, loss, fraction lost,
//!   interarrival jitter and per-packet delay variation, duplicates, reordering, arrival gaps);
//! - [`record`]: the per-packet received/lost bitset;
//! - [`arrivals`]: RTP packets counted where they arrive (network duplicates);
//! - [`one_way`]: one-way network delay per packet (simulation);
//! - [`playout`]: what the listener heard, tick by tick: playout loss, longest concealment;
//! - [`burst`]: RFC 3611 burst/gap metrics and the Markov burst ratio `BurstR`;
//! - [`emodel`]: the ITU-T G.107 E-model (narrowband R, MOS, network MOS degradation);
//! - [`window`]: windowed maxima (15 s loss and jitter, 200 ms burst loss) and the per-second
//!   series;
//! - [`rtt`]: NTP timestamps on the sim clock and RTT from RTCP LSR/DLSR;
//! - this module: [`StreamMetrics`], the per-stream summary the report prints, built by
//!   [`StreamMetrics::build`].
//!
//! Times are `u64` nanoseconds since the start of the run, handed in by the caller.
//!
//! # Example
//! ```
//! use callharness::metrics::{emodel::CodecTable, receiver::{ReceiverConfig, ReceiverStats}};
//! use callharness::metrics::{PlayoutStats, StreamInputs, StreamMetrics};
//! let mut rx = ReceiverStats::new(ReceiverConfig::default());
//! for i in 0..500u32 {
//!     if i % 20 == 10 { continue; } // 5 % loss
//!     rx.on_packet(u64::from(i) * 20_000_000 + 20_000_000, i as u16, i * 960, 80);
//! }
//! rx.finish(None);
//! let codecs = CodecTable::default();
//! let playout = PlayoutStats {
//!     loss_pct: 5.0, frames_played: 475, frames_concealed: 25,
//!     mean_buffer_delay_ms: Some(40.0), ..PlayoutStats::default()
//! };
//! let m = StreamMetrics::build(&StreamInputs {
//!     packets_sent: 500,
//!     playout: Some(playout),
//!     one_way_delay_ms: Some(20.0),
//!     ..StreamInputs::new(&rx, codecs.get("opus").unwrap())
//! });
//! assert_eq!(m.lost, 25);
//! assert!((m.loss_pct - 5.0).abs() < 1e-9);
//! assert_eq!(m.playout_loss_pct, Some(5.0));
//! assert!(m.mos < 4.0 && m.mos_degradation > 0.3);
//! ```

pub mod arrivals;
pub mod burst;
pub mod emodel;
pub mod one_way;
mod opus_ie;
pub mod playout;
pub mod receiver;
pub mod record;
pub mod rtt;
pub mod window;

use burst::{BurstGap, GMIN_DEFAULT};
use emodel::{CodecProfile, DelayFormula, EModel, EModelInput};
use receiver::ReceiverStats;
use rtt::RttEstimator;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the jitter buffer and decoder measured for a stream (from the agent's receive pipeline),
/// up to the end of the stream (see [`playout`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PlayoutStats {
    /// Packets that arrived after their playout time and were discarded.
    pub late: u64,
    /// Concealed samples / all played samples (webrtc-stats); None when decoding was off.
    pub concealed_ratio: Option<f64>,
    /// Mean time a played packet waited in the jitter buffer, ms (jitterBufferDelay /
    /// jitterBufferEmittedCount); None before anything was played.
    pub mean_buffer_delay_ms: Option<f64>,
    /// Playout ticks played from a packet.
    pub frames_played: u64,
    /// Playout ticks concealed (the frame due was lost, late or never came).
    pub frames_concealed: u64,
    /// Extra frames the adaptive buffer generated to grow.
    pub frames_stretched: u64,
    /// Frames the adaptive buffer dropped to shrink.
    pub frames_shrunk: u64,
    /// Missing frames rebuilt from the next packet's in-band FEC (counted as played, not as
    /// concealed).
    pub frames_recovered: u64,
    /// Ticks of comfort noise in the sender's DTX pauses (neither played nor concealed).
    pub frames_silent: u64,
    /// Playout loss: concealed / (played + concealed) × 100.
    pub loss_pct: f64,
    /// Longest run of concealed ticks, ms.
    pub longest_concealment_ms: f64,
    /// Markov burst ratio of the played/concealed sequence (1 for random concealment).
    pub burst_r: f64,
}

/// Everything [`StreamMetrics::build`] needs. Start from [`StreamInputs::new`] and override.
#[derive(Debug, Clone, Copy)]
pub struct StreamInputs<'a> {
    /// The receiver's statistics, after [`ReceiverStats::finish`].
    pub receiver: &'a ReceiverStats,
    /// Packets the sender sent (its own count).
    pub packets_sent: u64,
    /// Jitter-buffer and decoder results; None when no receive pipeline ran.
    pub playout: Option<PlayoutStats>,
    /// RTT samples from RTCP; None when none were taken.
    pub rtt: Option<&'a RttEstimator>,
    /// Measured mean one-way network delay of this stream, ms (simulation: each packet's
    /// arrival minus send time). None: estimated as half the mean RTT, else 0.
    pub one_way_delay_ms: Option<f64>,
    /// The codec's E-model values.
    pub codec: &'a CodecProfile,
    /// E-model settings (base R, A, delay formula).
    pub emodel: EModel,
    /// RFC 3611 gap threshold.
    pub gmin: u32,
}

impl<'a> StreamInputs<'a> {
    /// Inputs with defaults: nothing sent, no playout, no RTT, default E-model, Gmin 16.
    pub fn new(receiver: &'a ReceiverStats, codec: &'a CodecProfile) -> Self {
        StreamInputs {
            receiver,
            packets_sent: 0,
            playout: None,
            rtt: None,
            one_way_delay_ms: None,
            codec,
            emodel: EModel::default(),
            gmin: GMIN_DEFAULT,
        }
    }
}

/// One stream's summary, with the field names the report uses (issue 9).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamMetrics {
    /// Packets the sender sent.
    pub packets_sent: u64,
    /// Unique packets received (RFC 3550, duplicates excluded).
    pub packets_received: u64,
    /// RFC 3550 expected (highest extended sequence - base + 1).
    pub expected: u64,
    /// RFC 3550 cumulative lost, expected - received (signed).
    pub lost: i64,
    /// Lost / expected × 100.
    pub loss_pct: f64,
    /// RFC 3550 interarrival jitter estimate at the end of the stream, ms (smoothed mean of
    /// |D|, not a standard deviation).
    pub jitter_ms: f64,
    /// p50 of per-packet delay variation |D|, ms.
    pub jitter_p50_ms: f64,
    /// p95 of per-packet delay variation |D|, ms.
    pub jitter_p95_ms: f64,
    /// p99 of per-packet delay variation |D|, ms.
    pub jitter_p99_ms: f64,
    /// Mean RTT from RTCP SR/RR, ms; None when no report block came back.
    pub rtt_ms: Option<f64>,
    /// Packets that arrived after their playout time.
    pub late: u64,
    /// Duplicate packets.
    pub duplicates: u64,
    /// Packets that arrived below the highest sequence number seen.
    pub reordered: u64,
    /// Concealed samples / played samples; None when decoding was off.
    pub concealed_ratio: Option<f64>,
    /// Playout loss, % of ticks that should have played (see [`playout`]); None without
    /// playout.
    pub playout_loss_pct: Option<f64>,
    /// Longest run of concealment, ms; None without playout.
    pub max_concealment_ms: Option<f64>,
    /// One-way network delay used for the E-model and the one-way threshold, ms; None when
    /// neither measured nor estimable.
    pub one_way_delay_ms: Option<f64>,
    /// `measured` (per packet, simulation) or `rtt/2` (an estimate from RTCP).
    pub one_way_delay_source: Option<&'static str>,
    /// Mean jitter-buffer delay, ms; None without playout.
    pub jitter_buffer_delay_ms: Option<f64>,
    /// Longest time without a packet while the stream flowed, ms.
    pub max_gap_ms: f64,
    /// Highest loss % in any 15 s window (None before any packet).
    pub max_loss_pct_15s: Option<f64>,
    /// Highest loss % in any 200 ms window.
    pub max_burst_loss_pct_200ms: Option<f64>,
    /// Highest mean jitter estimate in any 15 s window, ms.
    pub max_jitter_ms_15s: Option<f64>,
    /// Send time of the first packet of that worst jitter window, ns from the scenario's start.
    pub max_jitter_at_ns: Option<u64>,
    /// RFC 3611 burst density (lost / packets in bursts, 0..=1).
    pub burst_density: f64,
    /// RFC 3611 gap density (lost / packets in gaps, 0..=1).
    pub gap_density: f64,
    /// Mean burst duration, ms.
    pub burst_duration_ms: f64,
    /// Mean gap duration, ms.
    pub gap_duration_ms: f64,
    /// Number of bursts.
    pub burst_count: u64,
    /// Markov burst ratio 1 / (p + r) (1 for random loss).
    pub burst_r: f64,
    /// E-model R (G.107 narrowband).
    pub r_factor: f64,
    /// MOS from R.
    pub mos: f64,
    /// MOS(no network impairment) - MOS(measured).
    pub mos_degradation: f64,
    /// Mouth-to-ear delay used for Id, ms.
    pub ta_ms: f64,
    /// The Id formula used.
    pub delay_formula: DelayFormula,
    /// The codec table entry used.
    pub codec: String,
    /// True when that entry's values are assumed (Opus).
    pub codec_assumed: bool,
}

impl StreamMetrics {
    /// Builds the summary. The E-model rates what the listener heard: its `Ppl` and `BurstR`
    /// are the playout loss and its burst ratio (without playout: RFC 3550 loss plus late
    /// discards, as a percentage of expected, and the loss record's burst ratio); its one-way
    /// delay is the measured `one_way_delay_ms`, else half the mean RTT, else 0; its
    /// jitter-buffer delay is the playout's mean buffer delay (0 without playout).
    pub fn build(inputs: &StreamInputs<'_>) -> StreamMetrics {
        let rx = inputs.receiver;
        let interval_ms = rx.config().packet_interval_ns as f64 / 1e6;
        let bg: BurstGap = burst::analyze(rx.loss_record(), inputs.gmin, interval_ms);
        let late = inputs.playout.map_or(0, |p| p.late);
        let expected = rx.expected();
        let (ppl, burst_r) = match inputs.playout {
            Some(p) => (p.loss_pct, p.burst_r),
            None if expected == 0 => (0.0, bg.markov.burst_r),
            None => (
                (rx.lost().max(0) as f64 + late as f64) * 100.0 / expected as f64,
                bg.markov.burst_r,
            ),
        };
        let rtt_ms = inputs.rtt.and_then(RttEstimator::mean_ms);
        let (one_way, one_way_source) = match (inputs.one_way_delay_ms, rtt_ms) {
            (Some(d), _) => (Some(d), Some("measured")),
            (None, Some(r)) => (Some(r / 2.0), Some("rtt/2")),
            (None, None) => (None, None),
        };
        let buffer_ms = inputs.playout.and_then(|p| p.mean_buffer_delay_ms);
        let e = inputs.emodel.rate(
            inputs.codec,
            &EModelInput {
                one_way_network_ms: one_way.unwrap_or(0.0),
                jitter_buffer_ms: buffer_ms.unwrap_or(0.0),
                loss_pct: ppl,
                burst_r,
            },
        );
        let w = rx.windows();
        StreamMetrics {
            packets_sent: inputs.packets_sent,
            packets_received: rx.received(),
            expected,
            lost: rx.lost(),
            loss_pct: rx.loss_pct(),
            jitter_ms: rx.jitter_ms(),
            jitter_p50_ms: rx.delay_variation_p50_ms(),
            jitter_p95_ms: rx.delay_variation_p95_ms(),
            jitter_p99_ms: rx.delay_variation_p99_ms(),
            rtt_ms,
            late,
            duplicates: rx.duplicates(),
            reordered: rx.reordered(),
            concealed_ratio: inputs.playout.and_then(|p| p.concealed_ratio),
            playout_loss_pct: inputs.playout.map(|p| p.loss_pct),
            max_concealment_ms: inputs.playout.map(|p| p.longest_concealment_ms),
            one_way_delay_ms: one_way,
            one_way_delay_source: one_way_source,
            jitter_buffer_delay_ms: buffer_ms,
            max_gap_ms: rx.max_gap_ms(),
            max_loss_pct_15s: w.max_loss().map(|m| m.value),
            max_burst_loss_pct_200ms: w.max_burst_loss().map(|m| m.value),
            max_jitter_ms_15s: w.max_jitter().map(|m| m.value),
            max_jitter_at_ns: w.max_jitter().map(|m| m.at_ns),
            burst_density: bg.burst_density,
            gap_density: bg.gap_density,
            burst_duration_ms: bg.mean_burst_ms,
            gap_duration_ms: bg.mean_gap_ms,
            burst_count: bg.burst_count,
            burst_r: bg.markov.burst_r,
            r_factor: e.r_factor,
            mos: e.mos,
            mos_degradation: e.mos_degradation,
            ta_ms: e.ta_ms,
            delay_formula: e.delay_formula,
            codec: e.codec,
            codec_assumed: e.codec_assumed,
        }
    }

    /// The numeric fields beyond issue 9's fixed stream fields, by name, for the report's
    /// `extra` map (absent values are left out).
    pub fn extra(&self) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: Option<f64>| {
            if let Some(v) = v {
                m.insert(k.to_string(), v);
            }
        };
        put("expected", Some(self.expected as f64));
        put("jitter_p50_ms", Some(self.jitter_p50_ms));
        put("jitter_p99_ms", Some(self.jitter_p99_ms));
        put("jitter_buffer_delay_ms", self.jitter_buffer_delay_ms);
        put("one_way_delay_ms", self.one_way_delay_ms);
        put("max_loss_pct_15s", self.max_loss_pct_15s);
        put("max_burst_loss_pct_200ms", self.max_burst_loss_pct_200ms);
        put("max_jitter_ms_15s", self.max_jitter_ms_15s);
        put("burst_density", Some(self.burst_density));
        put("gap_density", Some(self.gap_density));
        put("burst_duration_ms", Some(self.burst_duration_ms));
        put("gap_duration_ms", Some(self.gap_duration_ms));
        put("burst_count", Some(self.burst_count as f64));
        put("burst_r", Some(self.burst_r));
        put("ta_ms", Some(self.ta_ms));
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use emodel::CodecTable;
    use receiver::ReceiverConfig;

    #[test]
    fn clean_stream_summary() {
        let mut rx = ReceiverStats::new(ReceiverConfig::default());
        for i in 0..3000u32 {
            rx.on_packet(
                u64::from(i) * 20_000_000 + 20_000_000,
                i as u16,
                i * 960,
                80,
            );
        }
        rx.finish(None);
        let mut rtt = RttEstimator::default();
        rtt.add(40.0);
        let codecs = CodecTable::default();
        let m = StreamMetrics::build(&StreamInputs {
            packets_sent: 3000,
            playout: Some(PlayoutStats {
                concealed_ratio: Some(0.0),
                mean_buffer_delay_ms: Some(40.0),
                frames_played: 3000,
                burst_r: 1.0,
                ..PlayoutStats::default()
            }),
            rtt: Some(&rtt),
            ..StreamInputs::new(&rx, codecs.get("opus").unwrap())
        });
        assert_eq!(
            (m.packets_sent, m.packets_received, m.lost),
            (3000, 3000, 0)
        );
        assert_eq!(m.jitter_ms, 0.0);
        assert_eq!(m.rtt_ms, Some(40.0));
        assert_eq!(m.burst_r, 1.0);
        // Ta = 20 (RTT / 2) + 40 (buffer) + 26.5 (Opus) = 86.5 ms.
        assert!((m.ta_ms - 86.5).abs() < 1e-9);
        assert_eq!(m.one_way_delay_source, Some("rtt/2"));
        assert!((m.r_factor - (93.2 - 0.024 * 86.5)).abs() < 1e-9);
        assert!(m.mos > 4.3);
        let json = serde_json::to_value(&m).unwrap();
        for k in [
            "packets_sent",
            "packets_received",
            "lost",
            "loss_pct",
            "jitter_ms",
            "jitter_p95_ms",
            "rtt_ms",
            "late",
            "duplicates",
            "reordered",
            "concealed_ratio",
            "max_gap_ms",
            "mos",
            "r_factor",
            "mos_degradation",
            "burst_density",
            "burst_r",
        ] {
            assert!(json.get(k).is_some(), "{k}");
        }
        assert_eq!(json["delay_formula"], "cole-rosenbluth");
        assert!(m.extra().contains_key("max_loss_pct_15s"));
    }

    #[test]
    fn without_playout_late_packets_count_as_loss_for_the_emodel() {
        let mut rx = ReceiverStats::new(ReceiverConfig::default());
        for i in 0..1000u32 {
            rx.on_packet(u64::from(i) * 20_000_000, i as u16, i * 960, 80);
        }
        rx.finish(None);
        let codecs = CodecTable::default();
        let base = StreamInputs::new(&rx, codecs.get("g711-plc").unwrap());
        let on_time = StreamMetrics::build(&base);
        assert_eq!(on_time.playout_loss_pct, None);
        let lossy = StreamInputs {
            playout: Some(PlayoutStats {
                loss_pct: 2.0,
                burst_r: 1.0,
                ..PlayoutStats::default()
            }),
            ..base
        };
        let heard = StreamMetrics::build(&lossy);
        assert_eq!(heard.loss_pct, 0.0);
        assert_eq!(heard.playout_loss_pct, Some(2.0));
        assert!(heard.r_factor < on_time.r_factor - 5.0);
    }

    /// The issue's case: a call whose path died. RFC 3550 loss stays small (the packets after
    /// the last one received are outside `expected`), but the listener heard 61 % concealment,
    /// and MOS must say so.
    #[test]
    fn mos_follows_what_the_listener_heard_not_rfc3550_loss() {
        let mut rx = ReceiverStats::new(ReceiverConfig::default());
        for i in 0..1000u32 {
            rx.on_packet(u64::from(i) * 20_000_000, i as u16, i * 960, 80);
        }
        rx.finish(None);
        let codecs = CodecTable::default();
        let opus = codecs.get("opus").unwrap();
        let dead = StreamMetrics::build(&StreamInputs {
            playout: Some(PlayoutStats {
                loss_pct: 61.0,
                frames_played: 1000,
                frames_concealed: 1564,
                longest_concealment_ms: 29_200.0,
                burst_r: 200.0,
                ..PlayoutStats::default()
            }),
            one_way_delay_ms: Some(5.0),
            ..StreamInputs::new(&rx, opus)
        });
        assert_eq!(dead.loss_pct, 0.0);
        assert!(dead.mos < 2.0, "{}", dead.mos);
        assert_eq!(dead.max_concealment_ms, Some(29_200.0));
        assert_eq!(dead.one_way_delay_source, Some("measured"));
    }

    /// Asymmetric path: 300 ms one way, 20 ms back. RTT/2 gives both directions 160 ms; the
    /// measured one-way delays rate them apart (the issue's 3.28 and 4.37, with a 40 ms buffer).
    #[test]
    fn measured_one_way_delay_rates_directions_apart() {
        let mut rx = ReceiverStats::new(ReceiverConfig::default());
        for i in 0..100u32 {
            rx.on_packet(u64::from(i) * 20_000_000, i as u16, i * 960, 80);
        }
        rx.finish(None);
        let codecs = CodecTable::default();
        let mut rtt = RttEstimator::default();
        rtt.add(320.0);
        let playout = Some(PlayoutStats {
            mean_buffer_delay_ms: Some(40.0),
            burst_r: 1.0,
            ..PlayoutStats::default()
        });
        let base = StreamInputs {
            playout,
            rtt: Some(&rtt),
            ..StreamInputs::new(&rx, codecs.get("opus").unwrap())
        };
        let estimated = StreamMetrics::build(&base);
        let slow = StreamMetrics::build(&StreamInputs {
            one_way_delay_ms: Some(300.0),
            ..base
        });
        let fast = StreamMetrics::build(&StreamInputs {
            one_way_delay_ms: Some(20.0),
            ..base
        });
        assert_eq!(estimated.one_way_delay_ms, Some(160.0));
        // Ta = 300 + 40 + 26.5 = 366.5 ms: Id = 0.024 Ta + 0.11 (Ta - 177.3) = 29.61.
        assert!((slow.ta_ms - 366.5).abs() < 1e-9);
        assert!((slow.r_factor - (93.2 - 29.6076)).abs() < 1e-3);
        assert!((slow.mos - 3.28).abs() < 0.01, "{}", slow.mos);
        assert!((fast.mos - 4.37).abs() < 0.01, "{}", fast.mos);
        assert!((estimated.mos - 4.11).abs() < 0.01, "{}", estimated.mos);
    }
}
