//! Turning a finished (or stopped) simulation into a [`ScenarioReport`]: each stream measured,
//! each call's outcome, every expectation and threshold judged, the emulator's counters and the
//! timeline of events.

use super::measure_video::measure_video;
use super::tunnel::tunnel_reports;
use super::Sim;
use crate::agent::CallLeg;
use crate::metrics::emodel::{CodecTable, EModel, EModelInput};
use crate::metrics::one_way::OneWayDelay;
use crate::metrics::playout::{PlayoutRecord, PlayoutSecond, PlayoutSummary, Tick};
use crate::metrics::rtt::RttEstimator;
use crate::metrics::{StreamInputs, StreamMetrics};
use crate::net::NetEvent;
use crate::report::model::{
    CallReport, Expectation, ScenarioReport, SecondSample, StreamReport, TimelineEvent, Verdict,
};
use crate::scenario::Scenario;
use crate::scenario::{judge_call, judge_thresholds, Extreme, Metric, StreamView, WindowFigure};
use std::collections::BTreeMap;

const MS: f64 = 1_000_000.0;

/// What was measured of one stream, with what the threshold judge needs.
struct MeasuredStream {
    report: StreamReport,
    metrics: StreamMetrics,
    setup_ms: Option<f64>,
    first_audio_ms: Option<f64>,
    /// Loss record: received flag per expected packet, in order (20 ms apart).
    received: Vec<bool>,
    /// Nominal send time of the loss record's first packet (anchored at its first arrival), ns.
    received_start_ns: u64,
    interval_ns: u64,
    jitter_window_ns: u64,
}

impl StreamView for MeasuredStream {
    fn value(&self, m: Metric) -> Option<f64> {
        let r = &self.report;
        Some(match m {
            Metric::Loss => r.loss_pct,
            Metric::BurstLoss => self.metrics.max_burst_loss_pct_200ms?,
            Metric::Jitter => r.jitter_ms,
            Metric::JitterP95 => r.jitter_p95_ms,
            Metric::Rtt => r.rtt_ms?,
            Metric::OneWayDelay => r.one_way_delay_ms?,
            Metric::PlayoutLoss => r.playout_loss_pct?,
            Metric::MaxConcealment => r.max_concealment_ms?,
            Metric::Mos => r.mos,
            Metric::MosDegradation => r.mos_degradation,
            Metric::ConcealedRatio => r.concealed_ratio? * 100.0,
            Metric::MaxGap => r.max_gap_ms,
            Metric::Late => r.late as f64,
            Metric::Reordered => {
                if r.packets_received == 0 {
                    0.0
                } else {
                    r.reordered as f64 * 100.0 / r.packets_received as f64
                }
            }
            Metric::Setup => self.setup_ms?,
            Metric::FirstAudio => self.first_audio_ms?,
            Metric::Speech => r.speech_ratio? * 100.0,
            Metric::DecodedLevel => r.decoded_level_dbov?,
            Metric::PlayedLevel => r.played_level_dbov?,
            Metric::Bitrate => {
                let secs = r.series.len().max(1) as f64;
                r.series.iter().map(|s| s.bitrate_kbps).sum::<f64>() / secs
            }
            // Video metrics: an audio stream has none (the loader keeps them off audio lists).
            Metric::Freezes
            | Metric::Frozen
            | Metric::Fps
            | Metric::FramesDropped
            | Metric::FirstFrame
            | Metric::Black
            | Metric::Psnr
            | Metric::Height => return None,
        })
    }

    fn window(&self, m: Metric, window_ns: u64, which: Extreme) -> Option<WindowFigure> {
        let highest = which == Extreme::Highest;
        match m {
            Metric::Loss | Metric::BurstLoss => {
                let w = window_loss(&self.received, window_ns, self.interval_ns)?;
                let (value, first) = if highest { w.highest } else { w.lowest };
                Some(WindowFigure {
                    value,
                    start_ns: Some(self.received_start_ns + first as u64 * self.interval_ns),
                })
            }
            // The receiver keeps the maximum over the window the scenario's jitter threshold
            // names (15 s by default); any other window, or the lowest, is "not measured".
            Metric::Jitter if highest && window_ns == self.jitter_window_ns => {
                self.metrics.max_jitter_ms_15s.map(|value| WindowFigure {
                    value,
                    start_ns: self.metrics.max_jitter_at_ns,
                })
            }
            Metric::Mos | Metric::PlayoutLoss | Metric::Bitrate => {
                let per_second: Vec<(u64, Option<f64>)> = self
                    .report
                    .series
                    .iter()
                    .map(|s| {
                        let v = match m {
                            Metric::Mos => s.mos,
                            Metric::PlayoutLoss => s.concealed_pct,
                            _ => Some(s.bitrate_kbps),
                        };
                        (s.t, v)
                    })
                    .collect();
                series_window(&per_second, window_ns, highest)
            }
            _ => None,
        }
    }

    fn label(&self) -> String {
        format!(
            "{}->{} {}",
            self.report.from, self.report.to, self.report.kind
        )
    }
}

/// The least and most lossy windows of a loss record: (loss %, index of the window's first
/// packet) each.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossWindows {
    pub lowest: (f64, usize),
    pub highest: (f64, usize),
}

/// Lowest and highest loss % over any run of `window_ns / interval_ns` consecutive packets
/// (sliding by one packet; packets are `interval_ns` apart in send time), with where each
/// starts (the first such window on a tie).
pub fn window_loss(received: &[bool], window_ns: u64, interval_ns: u64) -> Option<LossWindows> {
    if received.is_empty() || interval_ns == 0 {
        return None;
    }
    let w = ((window_ns / interval_ns).max(1) as usize).min(received.len());
    let mut lost = received[..w].iter().filter(|r| !**r).count();
    let (mut min, mut max) = ((lost, 0), (lost, 0));
    for i in w..received.len() {
        lost += usize::from(!received[i]);
        lost -= usize::from(!received[i - w]);
        if lost < min.0 {
            min = (lost, i + 1 - w);
        }
        if lost > max.0 {
            max = (lost, i + 1 - w);
        }
    }
    let pct = |n: usize| n as f64 * 100.0 / w as f64;
    Some(LossWindows {
        lowest: (pct(min.0), min.1),
        highest: (pct(max.0), max.1),
    })
}

/// The highest (or lowest) mean over `window_ns` of consecutive whole seconds of a per-second
/// series (second from the scenario's start, value), with the window's start; a window with a
/// second that has no value is skipped.
fn series_window(
    per_second: &[(u64, Option<f64>)],
    window_ns: u64,
    highest: bool,
) -> Option<WindowFigure> {
    let w = ((window_ns / 1_000_000_000).max(1) as usize).min(per_second.len());
    if w == 0 {
        return None;
    }
    let mut best: Option<(f64, u64)> = None;
    for win in per_second.windows(w) {
        let Some(sum) = win.iter().map(|(_, v)| *v).sum::<Option<f64>>() else {
            continue;
        };
        let mean = sum / w as f64;
        if best.is_none_or(|(b, _)| if highest { mean > b } else { mean < b }) {
            best = Some((mean, win[0].0));
        }
    }
    best.map(|(value, t)| WindowFigure {
        value,
        start_ns: Some(t * 1_000_000_000),
    })
}

/// The playout of the stream `sender` -> `receiver`, up to when it should have flowed: all of
/// it while the sender kept sending; once the sender stopped (hung up or failed), nothing after
/// both its stop and the last frame played (frames concealed because nothing was sent any more
/// are not a loss). A receiver whose jitter buffer never got a packet heard one concealment as
/// long as the sending, or as long as its own side of the call was up if that is longer (a far
/// end that never started sending: its frames were due all the same).
fn playout_summary(sender: &CallLeg, receiver: &CallLeg, flow_end: u64) -> PlayoutSummary {
    let rx = receiver.receiver();
    let record = rx.playout_record();
    let frame_ns = rx.jitter_buffer().config().frame_ns;
    if record.is_empty() {
        let up_frames = receiver.connected_at.map_or(0, |c| {
            let end = receiver.ended_at.unwrap_or(flow_end).min(flow_end);
            end.saturating_sub(c) / frame_ns.max(1)
        });
        let mut silent = PlayoutRecord::new(frame_ns);
        for i in 0..sender.sender().frames_sent().max(up_frames) {
            silent.push(i * frame_ns, Tick::Concealed);
        }
        return silent.summary(u64::MAX);
    }
    let cutoff = match sender.ended_at {
        Some(stop) => stop.max(record.last_played_ns().unwrap_or(0)),
        None => u64::MAX,
    };
    record.summary(cutoff)
}

fn measure_stream(
    from: &str,
    to: &str,
    sender: &CallLeg,
    receiver: &mut CallLeg,
    one_way: &OneWayDelay,
    flow_end: u64,
    codecs: &CodecTable,
) -> MeasuredStream {
    let stack_errors = receiver.stack_errors;
    let playout = playout_summary(sender, receiver, flow_end);
    let rx = receiver.receiver_mut();
    rx.finish(Some(flow_end));
    let mut rtt = RttEstimator::default();
    for &(_, ms) in &sender.rtt_samples {
        rtt.add(ms);
    }
    // The E-model's Opus entry at the sender's bitrate and frame duration.
    let audio = sender.sender().config();
    let codec = codecs
        .get("opus")
        .unwrap_or(&codecs.entries()[0])
        .for_opus_settings(audio.bitrate_bps, audio.frame_ms);
    let mut inputs = StreamInputs::new(rx.receiver(), &codec);
    inputs.packets_sent = sender.sender().frames_sent();
    inputs.playout = Some(rx.playout_stats(&playout));
    inputs.rtt = (rtt.count() > 0).then_some(&rtt);
    inputs.one_way_delay_ms = one_way.mean_ms();
    let m = StreamMetrics::build(&inputs);
    let model = EModel::default();
    let buffer = m.jitter_buffer_delay_ms.unwrap_or(0.0);
    let rows = rx.receiver().windows().series();
    let seconds = {
        let first = rows.first().map(|r| r.t).into_iter();
        let last = rows.last().map(|r| r.t).into_iter();
        let pfirst = playout.per_second.first().map(|r| r.t).into_iter();
        let plast = playout.per_second.last().map(|r| r.t).into_iter();
        match (first.chain(pfirst).min(), last.chain(plast).max()) {
            (Some(a), Some(b)) => a..b + 1,
            _ => 0..0,
        }
    };
    let mut series = Vec::new();
    for t in seconds {
        // Both series are contiguous by second: index them.
        let at = |first: Option<u64>| first.and_then(|f| usize::try_from(t.checked_sub(f)?).ok());
        let row = at(rows.first().map(|r| r.t)).and_then(|i| rows.get(i));
        let heard = at(playout.per_second.first().map(|r| r.t))
            .and_then(|i| playout.per_second.get(i))
            .and_then(PlayoutSecond::loss_pct);
        let lo = t * 1_000_000_000;
        let hi = lo + 1_000_000_000;
        let in_sec: Vec<f64> = sender
            .rtt_samples
            .iter()
            .filter(|(at, _)| *at >= lo && *at < hi)
            .map(|(_, ms)| *ms)
            .collect();
        let rtt_ms = (!in_sec.is_empty()).then(|| in_sec.iter().sum::<f64>() / in_sec.len() as f64);
        let one_way_ms = one_way
            .second_mean_ms(t)
            .or(m.one_way_delay_ms)
            .or(rtt_ms.map(|r| r / 2.0));
        let mos = heard.map(|loss| {
            model
                .rate(
                    &codec,
                    &EModelInput {
                        one_way_network_ms: one_way_ms.unwrap_or(0.0),
                        jitter_buffer_ms: buffer,
                        loss_pct: loss,
                        burst_r: 1.0,
                    },
                )
                .mos
        });
        series.push(SecondSample {
            t,
            loss_pct: row.filter(|r| r.expected > 0).map(|r| round(r.loss_pct, 3)),
            concealed_pct: heard.map(|c| round(c, 3)),
            jitter_ms: round(row.map_or(0.0, |r| r.jitter_ms), 3),
            bitrate_kbps: round(row.map_or(0.0, |r| r.bitrate_kbps), 3),
            rtt_ms: rtt_ms.map(|r| round(r, 3)),
            one_way_ms: one_way_ms.map(|r| round(r, 3)),
            mos: mos.map(|m| round(m, 3)),
        });
    }
    let received: Vec<bool> = rx.receiver().loss_record().iter().collect();
    let interval_ns = rx.receiver().config().packet_interval_ns;
    let arrivals = rx.arrivals();
    let report = StreamReport {
        from: from.to_owned(),
        to: to.to_owned(),
        kind: "audio".to_owned(),
        packets_sent: m.packets_sent,
        packets_received: m.packets_received,
        lost: m.lost,
        emulator_dropped: Some(sender.rtp_dropped_by_network),
        loss_pct: round(m.loss_pct, 4),
        jitter_ms: round(m.jitter_ms, 4),
        jitter_p95_ms: round(m.jitter_p95_ms, 4),
        rtt_ms: m.rtt_ms.map(|r| round(r, 3)),
        one_way_delay_ms: m.one_way_delay_ms.map(|r| round(r, 3)),
        one_way_delay_source: m.one_way_delay_source.map(str::to_owned),
        late: m.late,
        duplicates: arrivals.duplicates(),
        reordered: m.reordered,
        concealed_ratio: m.concealed_ratio.map(|c| round(c, 6)),
        playout_loss_pct: m.playout_loss_pct.map(|c| round(c, 4)),
        max_concealment_ms: m.max_concealment_ms.map(|c| round(c, 3)),
        speech_ratio: rx.level().speech_ratio().map(|r| round(r, 4)),
        decoded_level_dbov: rx.level().decoded_level_dbov().map(|l| round(l, 2)),
        played_level_dbov: rx.level().played_level_dbov().map(|l| round(l, 2)),
        max_gap_ms: round(m.max_gap_ms, 3),
        r_factor: round(m.r_factor, 3),
        mos: round(m.mos, 3),
        mos_degradation: round(m.mos_degradation, 3),
        extra: {
            let mut extra: BTreeMap<String, f64> = m
                .extra()
                .into_iter()
                .map(|(k, v)| (k, round(v, 4)))
                .collect();
            // Errors the receiving side's WebRTC stack reported from its timers and went on from.
            extra.insert("stack_errors".into(), stack_errors as f64);
            extra.insert("arrivals".into(), arrivals.arrivals() as f64);
            if let Some(p) = inputs.playout {
                extra.insert("frames_played".into(), p.frames_played as f64);
                extra.insert("frames_concealed".into(), p.frames_concealed as f64);
                extra.insert("frames_stretched".into(), p.frames_stretched as f64);
                extra.insert("frames_shrunk".into(), p.frames_shrunk as f64);
                extra.insert("playout_burst_r".into(), round(p.burst_r, 4));
                // Only for streams that use them, so other reports keep their fields.
                if audio.inband_fec || p.frames_recovered > 0 {
                    extra.insert("frames_fec_recovered".into(), p.frames_recovered as f64);
                }
                if audio.dtx || p.frames_silent > 0 {
                    extra.insert("frames_dtx_silent".into(), p.frames_silent as f64);
                }
            }
            // The sender's own count of frames its stalling capture never delivered (an old
            // driver): set beside the receiver's concealment, never used to judge it.
            let stalled = sender.sender().frames_stalled();
            if stalled > 0 {
                extra.insert("capture_frames_stalled".into(), stalled as f64);
            }
            if audio.dtx {
                let held = sender.sender().frames_suppressed();
                extra.insert("dtx_frames_not_sent".into(), held as f64);
            }
            if let Some(max) = one_way.max_ms() {
                extra.insert("one_way_delay_max_ms".into(), round(max, 3));
            }
            extra
        },
        series,
        links: Vec::new(),
        fault: None,
    };
    MeasuredStream {
        report,
        metrics: m,
        setup_ms: None,
        first_audio_ms: None,
        received,
        received_start_ns: rx.receiver().first_arrival_ns().unwrap_or(0),
        interval_ns,
        jitter_window_ns: rx.receiver().config().windows.long_ns,
    }
}

/// Rounds for the report (the JSON stays readable and byte-stable across platforms' printing).
fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

pub(super) fn ms(ns: u64) -> f64 {
    round(ns as f64 / MS, 3)
}

/// A report of `s` with its identity filled in and nothing measured yet.
fn blank_report(s: &Scenario, seed: u64, verdict: Verdict, complete: bool) -> ScenarioReport {
    ScenarioReport {
        name: s.name.clone(),
        file: s.file.display().to_string(),
        description: s.description.clone(),
        kb: s.kb.clone(),
        seed,
        duration_ms: s.duration.as_nanos() / 1_000_000,
        matrix: s.matrix.clone(),
        verdict,
        expects: Some(s.expects()),
        outcome: None,
        complete,
        expectations: Vec::new(),
        calls: Vec::new(),
        accounts: Vec::new(),
        messages: Vec::new(),
        presence: Vec::new(),
        presence_lags: Vec::new(),
        links: Vec::new(),
        events: Vec::new(),
        scope: None,
        edge: None,
        tunnels: Vec::new(),
        wall_ms: 0,
        source: s.source.clone(),
        error: None,
    }
    .with_outcome()
}

/// The report of a scenario that produced no result: `error` says why (it could not be set up,
/// or was never started). `complete` is false for one that was not started.
pub fn error_report(s: &Scenario, seed: u64, error: String, complete: bool) -> ScenarioReport {
    ScenarioReport {
        error: Some(error),
        ..blank_report(s, seed, Verdict::Fail, complete)
    }
    .with_outcome()
}

/// Builds the scenario's report from the simulation's state.
pub(crate) fn scenario_report(
    s: &Scenario,
    seed: u64,
    sim: &mut Sim,
    complete: bool,
) -> ScenarioReport {
    let end = sim.now;
    let codecs = CodecTable::default();
    let mut expectations = Vec::new();
    let mut calls = Vec::new();
    let mut events: Vec<TimelineEvent> = Vec::new();
    for (ci, spec) in s.calls.iter().enumerate() {
        let slot = &sim.calls[ci];
        let name = format!("{}->{}", slot.caller, slot.callee);
        let Some((a, b)) = slot.legs else {
            // The run stopped before this call started.
            if complete {
                expectations.push(Expectation {
                    what: format!("{name}: call outcome"),
                    expected: spec.expect.to_string(),
                    observed: "not placed (starts after the scenario ends)".into(),
                    met: false,
                });
            }
            continue;
        };
        let (caller_name, callee_name) = (slot.caller.clone(), slot.callee.clone());
        let start = slot.start;
        let (ra, rb) = if a < b {
            let (x, y) = sim.legs.split_at_mut(b);
            (&mut x[a], &mut y[0])
        } else {
            let (x, y) = sim.legs.split_at_mut(a);
            (&mut y[0], &mut x[b])
        };
        let connected = ra.connected_at.is_some() && rb.connected_at.is_some();
        let failure = [ra.failure.clone(), rb.failure.clone()]
            .into_iter()
            .flatten()
            .min_by_key(|f| f.at);
        let offer_at = ra.offer_at.unwrap_or(start);
        let setup_ms = ra.connected_at.map(|c| ms(c - offer_at));
        let call_end = ra.ended_at.or(rb.ended_at).unwrap_or(end).min(end);
        events.push(TimelineEvent {
            at_ms: start / 1_000_000,
            duration_ms: None,
            kind: "call-start".into(),
            subject: name.clone(),
            // A call its client never attempted (sign-in failed, no audio device) sent nothing.
            detail: if ra.offer_at.is_some() {
                "offer sent".into()
            } else {
                "placed; not attempted, no offer sent".into()
            },
        });
        if let Some(c) = ra.connected_at {
            events.push(TimelineEvent {
                at_ms: c / 1_000_000,
                duration_ms: None,
                kind: "call-connected".into(),
                subject: name.clone(),
                detail: format!("setup {:.0} ms", setup_ms.unwrap_or_default()),
            });
        }
        if let Some(f) = &failure {
            events.push(TimelineEvent {
                at_ms: f.at / 1_000_000,
                duration_ms: None,
                kind: "call-failed".into(),
                subject: name.clone(),
                detail: format!("{}: {}", f.class.name(), f.detail),
            });
        } else if ra.ended_at.is_some() || rb.ended_at.is_some() {
            events.push(TimelineEvent {
                at_ms: call_end / 1_000_000,
                duration_ms: None,
                kind: "call-end".into(),
                subject: name.clone(),
                detail: "hung up".into(),
            });
        }
        let mut exp = judge_call(
            &spec.expect,
            connected || ra.connected_at.is_some(),
            failure.as_ref().map(|f| f.class.name()),
        );
        exp.what = format!("{name}: {}", exp.what);
        expectations.push(exp);

        let mut streams = Vec::new();
        let mut measured = Vec::new();
        let mut videos = Vec::new();
        if ra.connected_at.is_some() || rb.connected_at.is_some() {
            let flow_end_ab = rb.ended_at.unwrap_or(call_end).min(call_end);
            let (owd_a, owd_b) = (&sim.one_way[a], &sim.one_way[b]);
            let mut ab = measure_stream(
                &caller_name,
                &callee_name,
                ra,
                rb,
                owd_b,
                flow_end_ab,
                &codecs,
            );
            let flow_end_ba = ra.ended_at.unwrap_or(call_end).min(call_end);
            let mut ba = measure_stream(
                &callee_name,
                &caller_name,
                rb,
                ra,
                owd_a,
                flow_end_ba,
                &codecs,
            );
            ab.setup_ms = setup_ms;
            ba.setup_ms = setup_ms;
            ab.first_audio_ms = rb
                .receiver()
                .first_play_ns()
                .map(|t| ms(t.saturating_sub(offer_at)));
            ba.first_audio_ms = ra
                .receiver()
                .first_play_ns()
                .map(|t| ms(t.saturating_sub(offer_at)));
            measured.push(ab);
            measured.push(ba);
            if let Some(why) = slot.video_unavailable.as_ref().filter(|_| slot.video) {
                for (from, to) in [(&caller_name, &callee_name), (&callee_name, &caller_name)] {
                    videos.push(super::measure_video::MeasuredVideo {
                        report: crate::report::model::VideoStreamReport {
                            from: from.to_string(),
                            to: to.to_string(),
                            not_sent: Some(format!("the service offered audio only: {why}")),
                            ..Default::default()
                        },
                    });
                }
            } else if slot.video {
                let offer = ra.offer_at.unwrap_or(start);
                videos.push(measure_video(
                    &caller_name,
                    &callee_name,
                    ra,
                    rb,
                    flow_end_ab,
                    offer,
                ));
                videos.push(measure_video(
                    &callee_name,
                    &caller_name,
                    rb,
                    ra,
                    flow_end_ba,
                    offer,
                ));
            }
        }
        for (v, list) in videos.iter().zip([&spec.caller_video, &spec.callee_video]) {
            for mut e in judge_thresholds(list, v) {
                if !e.what.starts_with(&v.label()) {
                    e.what = format!("{}: {}", v.label(), e.what);
                }
                expectations.push(e);
            }
        }
        if videos.is_empty() {
            for t in spec.caller_video.iter().chain(&spec.callee_video) {
                expectations.push(Expectation {
                    what: format!("{name}: {}", t.text),
                    expected: t.text.clone(),
                    observed: "not measured: the call did not connect".into(),
                    met: false,
                });
            }
        }
        let common: Vec<_> = s
            .thresholds
            .iter()
            .chain(spec.thresholds.iter())
            .cloned()
            .collect();
        // Stream 0 is the caller's (caller -> callee), stream 1 the callee's.
        let per_stream = [
            common
                .iter()
                .chain(&spec.caller_stream)
                .cloned()
                .collect::<Vec<_>>(),
            common
                .iter()
                .chain(&spec.callee_stream)
                .cloned()
                .collect::<Vec<_>>(),
        ];
        let thresholds: Vec<_> = per_stream[0]
            .iter()
            .chain(spec.callee_stream.iter())
            .cloned()
            .collect();
        if !thresholds.is_empty() {
            if measured.is_empty() {
                for t in &thresholds {
                    expectations.push(Expectation {
                        what: format!("{name}: {}", t.text),
                        expected: t.text.clone(),
                        observed: "not measured: the call did not connect".into(),
                        met: false,
                    });
                }
            }
            for (m, list) in measured.iter().zip(&per_stream) {
                for mut e in judge_thresholds(list, m) {
                    if !e.what.starts_with(&m.label()) {
                        e.what = format!("{}: {}", m.label(), e.what);
                    }
                    expectations.push(e);
                }
            }
        }
        let first_audio_ms = measured.first().and_then(|m| m.first_audio_ms);
        let test_call = slot.test_call.then(|| {
            let t = super::measure_service::test_call_report(
                &sim.one_way[b],
                &sim.one_way[a],
                rb.echoed,
                ra.first_audio_at.is_some(),
            );
            if spec.expect == crate::scenario::CallExpect::Connected {
                for (what, got) in [("microphone", &t.microphone), ("speaker", &t.speaker)] {
                    expectations.push(Expectation {
                        what: format!("{name}: test call: {what}"),
                        expected: "works".into(),
                        observed: got.clone(),
                        met: got == "works",
                    });
                }
            }
            t
        });
        if let Some(want) = spec.path {
            let (met, observed) = match pair_seen(ra, rb) {
                Some(p) => {
                    let (a, b) = p.split_once(" -> ").unwrap_or((&p, ""));
                    (want.matches(a, b), p.clone())
                }
                None => (false, "no media flowed".to_string()),
            };
            expectations.push(Expectation {
                what: format!("{name}: media path"),
                expected: want.name().to_string(),
                observed,
                met,
            });
        }
        for m in measured {
            streams.push(m.report);
        }
        calls.push(CallReport {
            caller: caller_name.to_string(),
            callee: callee_name.to_string(),
            start_ms: start / 1_000_000,
            end_ms: call_end / 1_000_000,
            connected: ra.connected_at.is_some(),
            failure: failure.as_ref().map(super::measure_service::failure_report),
            offer_ms: ra.offer_at.map(ms),
            setup_ms,
            first_audio_ms,
            candidate_pair: pair_seen(ra, rb),
            candidates: [(caller_name, ra), (callee_name, rb)]
                .iter()
                .flat_map(|(who, leg)| candidate_reports(who, leg))
                .collect(),
            test_call,
            streams,
            video: videos.into_iter().map(|v| v.report).collect(),
        });
    }
    if !complete {
        expectations.push(Expectation {
            what: "scenario ran to the end".into(),
            expected: format!("{} ms simulated", s.duration.as_nanos() / 1_000_000),
            observed: format!(
                "stopped at {} ms (interrupted or timed out)",
                end / 1_000_000
            ),
            met: false,
        });
    }
    for e in &sim.events {
        events.push(timeline_event(sim, e));
    }
    let accounts = super::measure_service::accounts_report(s, sim, &mut events);
    let (messages, presence, presence_lags) =
        super::measure_service::service_checks_report(s, sim, &mut events, &mut expectations);
    events.sort_by(|x, y| (x.at_ms, &x.kind, &x.subject).cmp(&(y.at_ms, &y.kind, &y.subject)));
    let mut links = sim
        .net
        .counters()
        .iter()
        .map(super::links::link_report)
        .collect();
    super::cross_tcp::add_reports(sim, &mut links);
    super::fault::attribute(sim, s, &mut calls);
    let scope = crate::report::scope::scope_of(&calls, &accounts);
    if let Some((want, subject)) = &s.expect_scope {
        let expected = match subject {
            Some(x) => format!("{} {x}", want.as_str()),
            None => want.as_str().to_string(),
        };
        let (observed, met) = match &scope {
            Some(sc) => (
                match &sc.subject {
                    Some(x) => format!("{} {x}", sc.verdict.as_str()),
                    None => sc.verdict.as_str().to_string(),
                },
                sc.verdict == *want
                    && subject
                        .as_ref()
                        .is_none_or(|x| sc.subject.as_deref() == Some(x.as_str())),
            ),
            None => (
                "no scope (fewer than 3 calls, or none failed)".into(),
                false,
            ),
        };
        expectations.push(Expectation {
            what: "where the failures point".into(),
            expected,
            observed,
            met,
        });
    }
    let verdict = if complete && expectations.iter().all(|e| e.met) {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    ScenarioReport {
        scope,
        edge: sim.edge.report(),
        tunnels: tunnel_reports(sim),
        expectations,
        calls,
        accounts,
        messages,
        presence,
        presence_lags,
        links,
        events,
        ..blank_report(s, seed, verdict, complete)
    }
}

fn timeline_event(sim: &Sim, e: &NetEvent) -> TimelineEvent {
    let ev =
        |at: u64, dur: Option<u64>, kind: &str, subject: String, detail: String| TimelineEvent {
            at_ms: at / 1_000_000,
            duration_ms: dur.map(|d| d / 1_000_000),
            kind: kind.to_owned(),
            subject,
            detail,
        };
    match e {
        NetEvent::AddressChanged { host, old, new, at } => ev(
            *at,
            None,
            "address-change",
            sim.net.host_name(*host).to_owned(),
            format!("{old} -> {new}"),
        ),
        NetEvent::OutageStart { target, at, until } => ev(
            *at,
            Some(until - at),
            "outage",
            target.clone(),
            format!("link down for {} ms", (until - at) / 1_000_000),
        ),
        NetEvent::OutageEnd { target, at } => ev(
            *at,
            None,
            "outage-end",
            target.clone(),
            "link back up".into(),
        ),
        NetEvent::PhaseChange { target, name, at } => ev(
            *at,
            None,
            "profile-change",
            target.clone(),
            name.clone().unwrap_or_else(|| "parameters changed".into()),
        ),
        NetEvent::CrossTrafficStart { site, flow, at } => {
            ev(*at, None, "cross-traffic-start", site.clone(), flow.clone())
        }
        NetEvent::CrossTrafficStop { site, flow, at } => {
            ev(*at, None, "cross-traffic-stop", site.clone(), flow.clone())
        }
    }
}

/// The candidate pair media took, `caller -> callee`, each side's candidate named by that
/// side (only it knows how it reaches its relay) at the address the other side sends to (so
/// a NAT's reflexive address reads `srflx`); None before media flowed both ways.
fn pair_seen(ra: &crate::agent::CallLeg, rb: &crate::agent::CallLeg) -> Option<String> {
    let (Some((_, to_b)), Some((_, to_a))) = (ra.path(), rb.path()) else {
        return ra.candidate_pair();
    };
    Some(format!(
        "{} -> {}",
        ra.candidate_at(to_a),
        rb.candidate_at(to_b)
    ))
}

/// A leg's candidates for the report: each with the time gathering it took from the start of
/// gathering, the one media used marked.
fn candidate_reports(
    side: &str,
    leg: &crate::agent::CallLeg,
) -> Vec<crate::report::model::CandidateReport> {
    let used = leg.path().map(|(local, _)| local);
    leg.candidates()
        .iter()
        .map(|c| crate::report::model::CandidateReport {
            side: side.to_owned(),
            kind: c.kind.name().to_owned(),
            transport: c.transport.to_owned(),
            address: c.addr.map(|a| a.to_string()),
            server: c.server.map(|a| a.to_string()),
            gathered_ms: c.gathered_at.map(|t| ms(t.saturating_sub(c.started_at))),
            failed: c.failed.map(str::to_owned),
            selected: c.addr.is_some() && c.addr == used,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{series_window, window_loss};

    #[test]
    fn window_loss_slides_one_packet_at_a_time() {
        // 10 packets 20 ms apart, two adjacent losses: a 100 ms window (5 packets) sees at
        // most 2 lost (40 %), and at least 0 (the last five).
        // The most lossy window starts at packet 0 (the first with both losses), the least
        // lossy at packet 4 (the first without any).
        let r = [true, true, false, false, true, true, true, true, true, true];
        let w = window_loss(&r, 100_000_000, 20_000_000).unwrap();
        assert_eq!((w.lowest, w.highest), ((0.0, 4), (40.0, 0)));
        // A window longer than the stream is the whole stream.
        let w = window_loss(&r, 10_000_000_000, 20_000_000).unwrap();
        assert_eq!((w.lowest, w.highest), ((20.0, 0), (20.0, 0)));
        assert_eq!(window_loss(&[], 1, 1), None);
    }

    #[test]
    fn series_windows_skip_seconds_without_a_value() {
        // Seconds 3..9; second 6 has no MOS. 2 s windows: (3,4) 4.0, (4,5) 3.0, (7,8) 2.5,
        // (8,9) 3.5; the windows touching second 6 are skipped.
        let s = [
            (3, Some(4.2)),
            (4, Some(3.8)),
            (5, Some(2.2)),
            (6, None),
            (7, Some(1.0)),
            (8, Some(4.0)),
            (9, Some(3.0)),
        ];
        let lo = series_window(&s, 2_000_000_000, false).unwrap();
        let hi = series_window(&s, 2_000_000_000, true).unwrap();
        assert_eq!(
            (lo.start_ns, hi.start_ns),
            (Some(7_000_000_000), Some(3_000_000_000))
        );
        assert!((lo.value - 2.5).abs() < 1e-12 && (hi.value - 4.0).abs() < 1e-12);
        assert_eq!(series_window(&[], 1_000_000_000, true), None);
    }
}
