//! Measuring a video stream at the end of a run: what the receiver assembled, decoded and
//! rendered (from [`crate::agent::video_rtp`]), with what the sender sent, judged by the
//! call's video thresholds.

use crate::agent::video::VideoCodec;
use crate::agent::video::VideoLayer;
use crate::agent::video_sender::{layer_of, VideoSender};
use crate::agent::CallLeg;
use crate::report::model::{
    AdaptationReport, LayerSwitchReport, PictureReport, VideoSecondSample, VideoStreamReport,
};
use crate::scenario::{Extreme, Metric, StreamView, WindowFigure};

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

/// One measured video stream with what the judge needs.
pub(super) struct MeasuredVideo {
    pub report: VideoStreamReport,
}

impl StreamView for MeasuredVideo {
    fn value(&self, m: Metric) -> Option<f64> {
        let r = &self.report;
        Some(match m {
            Metric::Loss => r.loss_pct,
            Metric::Bitrate => r.bitrate_kbps,
            Metric::Freezes => r.freezes as f64,
            Metric::Frozen => r.frozen_pct,
            // Nothing rendered is no frame a second.
            Metric::Fps => r.fps.unwrap_or(0.0),
            Metric::FramesDropped => {
                let arrived = r.frames_decoded + r.frames_dropped;
                if arrived == 0 {
                    return None;
                }
                r.frames_dropped as f64 * 100.0 / arrived as f64
            }
            Metric::FirstFrame => r.first_frame_ms?,
            Metric::Black => r.pictures.as_ref()?.black_pct,
            Metric::Psnr => r.pictures.as_ref()?.psnr_mean_db?,
            Metric::Height => r.mean_height?,
            _ => return None,
        })
    }

    fn window(&self, m: Metric, window_ns: u64, which: Extreme) -> Option<WindowFigure> {
        // Per-second figures: bitrate and fps over windows of whole seconds.
        let secs = (window_ns / 1_000_000_000).max(1) as usize;
        let s = &self.report.series;
        if s.len() < secs {
            return None;
        }
        let value = |w: &[VideoSecondSample]| match m {
            Metric::Bitrate => Some(w.iter().map(|x| x.bitrate_kbps).sum::<f64>() / secs as f64),
            Metric::Fps => Some(w.iter().map(|x| f64::from(x.fps)).sum::<f64>() / secs as f64),
            _ => None,
        };
        let mut best: Option<(f64, u64)> = None;
        for w in s.windows(secs) {
            let v = value(w)?;
            let better = match (best, which) {
                (None, _) => true,
                (Some((b, _)), Extreme::Highest) => v > b,
                (Some((b, _)), Extreme::Lowest) => v < b,
            };
            if better {
                best = Some((v, w[0].t));
            }
        }
        best.map(|(value, t)| WindowFigure {
            value,
            start_ns: Some(t * 1_000_000_000),
        })
    }

    fn label(&self) -> String {
        format!("{}->{} video", self.report.from, self.report.to)
    }
}

/// The video stream `sender` -> `receiver`, flowing until `flow_end` (ns); `offer_at` is when
/// the call's offer was made.
pub(super) fn measure_video(
    from: &str,
    to: &str,
    sender: &CallLeg,
    receiver: &mut CallLeg,
    flow_end: u64,
    offer_at: u64,
) -> MeasuredVideo {
    receiver.finish_video(flow_end);
    let rx = receiver
        .video_receiver()
        .map(|v| v.stats())
        .unwrap_or_default();
    let vs = sender.video_sender();
    let tx = vs.map(|t| t.pipeline());
    let sent = tx.map(|t| t.counts()).unwrap_or_default();
    let c = rx.counts;
    let loss_pct = if sent.packets > 0 {
        sent.packets.saturating_sub(c.packets) as f64 * 100.0 / sent.packets as f64
    } else {
        0.0
    };
    // The video should have played from when the first frame could have arrived (the
    // sender's first frame) to the stream's end.
    let should_play_from = rx
        .first_frame_at
        .or(sender.connected_at)
        .unwrap_or(flow_end);
    let should_play = flow_end.saturating_sub(should_play_from) as f64 / 1e6;
    let frozen_pct = if should_play > 0.0 {
        (rx.total_freeze_ms / should_play * 100.0).min(100.0)
    } else {
        0.0
    };
    let recoveries: Vec<f64> = rx
        .recoveries
        .iter()
        .filter_map(|&(s, e)| e.map(|e| (e - s) as f64 / 1e6))
        .collect();
    let played_secs = rx
        .first_frame_at
        .zip(rx.last_frame_at)
        .map_or(0.0, |(a, b)| (flow_end.max(b) - a) as f64 / 1e9);
    let first_second = rx.first_frame_at.map_or(0, |t| t / 1_000_000_000) as usize;
    let series = rx
        .seconds
        .iter()
        .enumerate()
        .skip(first_second)
        .map(|(t, s)| {
            // (The sender's seconds are in order: one lookup each.)
            let sent = vs.and_then(|v| {
                let secs = v.seconds();
                let i = secs.binary_search_by_key(&(t as u64), |x| x.t).ok()?;
                Some((v, &secs[i]))
            });
            VideoSecondSample {
                t: t as u64,
                fps: s.frames,
                bitrate_kbps: round(s.bytes as f64 * 8.0 / 1000.0, 3),
                height: s.height,
                freeze_ms: s.freeze_ms,
                sent_height: sent.map_or(0, |(v, x)| layer_of(v.ladder(), x.layer).height),
                estimate_kbps: sent
                    .and_then(|(_, x)| x.estimate)
                    .map(|e| round(e.target_bps as f64 / 1000.0, 3)),
            }
        })
        .collect::<Vec<_>>();
    let rendered: u64 = series.iter().map(|s| u64::from(s.fps)).sum();
    let mean_height = (rendered > 0).then(|| {
        let sum: u64 = series
            .iter()
            .map(|s| u64::from(s.fps) * u64::from(s.height))
            .sum();
        round(sum as f64 / rendered as f64, 1)
    });
    let report = VideoStreamReport {
        from: from.to_owned(),
        to: to.to_owned(),
        codec: rx.codec.map(|c| match c {
            VideoCodec::Vp8 => "vp8".to_owned(),
            VideoCodec::H264 => "h264".to_owned(),
        }),
        sent_layer: vs.map(|v| layer_name(v.ladder().top().layer())),
        not_sent: sender.no_video().map(|(said, why)| {
            if said.is_empty() {
                format!("{from}'s client sent no video: {why}")
            } else {
                format!("{from}'s client sent no video: {why}: \"{said}\"")
            }
        }),
        packets_sent: sent.packets,
        packets_received: c.packets,
        loss_pct: round(loss_pct, 4),
        retransmitted: sender.video_retransmitted,
        duplicates: c.duplicates,
        frames_sent: sent.frames,
        keyframes_sent: sent.keyframes,
        frames_decoded: c.frames_decoded,
        keyframes_decoded: c.keyframes_decoded,
        frames_dropped: c.frames_dropped,
        plis_sent: rx.plis_sent,
        keyframes_on_request: sent.keyframes_on_request,
        recovery_mean_ms: (!recoveries.is_empty())
            .then(|| round(recoveries.iter().sum::<f64>() / recoveries.len() as f64, 3)),
        recovery_max_ms: recoveries
            .iter()
            .copied()
            .reduce(f64::max)
            .map(|v| round(v, 3)),
        freezes: rx.freeze_count,
        freeze_ms: round(rx.total_freeze_ms, 3),
        frozen_pct: round(frozen_pct, 3),
        fps: rx.mean_fps().map(|f| round(f, 3)),
        resolution: rx.resolution.map(|(w, h)| format!("{w}x{h}")),
        resolution_changes: rx.resolution_changes,
        mean_height,
        bitrate_kbps: if played_secs > 0.0 {
            round(rx.bytes_rendered as f64 * 8.0 / 1000.0 / played_secs, 3)
        } else {
            0.0
        },
        first_frame_ms: rx
            .first_frame_at
            .map(|t| round(t.saturating_sub(offer_at) as f64 / 1e6, 3)),
        pictures: receiver
            .video_receiver()
            .and_then(|v| v.pixel_stats())
            .map(|p| {
                let pct = |n: u64| {
                    if p.pictures == 0 {
                        0.0
                    } else {
                        round(n as f64 * 100.0 / p.pictures as f64, 3)
                    }
                };
                PictureReport {
                    decoded: p.pictures,
                    decode_errors: p.decode_errors,
                    black_pct: pct(p.black),
                    repeated_pct: pct(p.repeated),
                    psnr_mean_db: p.psnr_mean_db.map(|v| round(v, 2)),
                    psnr_min_db: p.psnr_min_db.map(|v| round(v, 2)),
                }
            }),
        adaptation: vs.filter(|v| v.adapts()).map(|v| adaptation(v, offer_at)),
        series,
    };
    MeasuredVideo { report }
}

fn layer_name(l: VideoLayer) -> String {
    format!(
        "{}x{} {}fps {}kbit",
        l.width,
        l.height,
        l.fps,
        l.bitrate_bps / 1000
    )
}

/// What an adapting sender did: its layers, the time on each, its estimate and its switches.
fn adaptation(v: &VideoSender, offer_at: u64) -> AdaptationReport {
    let ladder = v.ladder();
    let secs = v.seconds();
    let n = secs.len().max(1) as f64;
    let estimates: Vec<f64> = secs
        .iter()
        .filter_map(|s| s.estimate.map(|e| e.target_bps as f64 / 1000.0))
        .collect();
    AdaptationReport {
        layers: ladder
            .rungs()
            .iter()
            .map(|r| layer_name(r.layer()))
            .collect(),
        time_pct: (0..ladder.rungs().len())
            .map(|i| {
                round(
                    secs.iter().filter(|s| s.layer == i).count() as f64 * 100.0 / n,
                    1,
                )
            })
            .collect(),
        probe_kbps: secs
            .iter()
            .rev()
            .find_map(|s| s.estimate?.probe_bps)
            .map(|b| round(b as f64 / 1000.0, 3)),
        estimate_mean_kbps: (!estimates.is_empty())
            .then(|| round(estimates.iter().sum::<f64>() / estimates.len() as f64, 3)),
        estimate_min_kbps: estimates
            .iter()
            .copied()
            .reduce(f64::min)
            .map(|e| round(e, 3)),
        switches: v
            .switches()
            .iter()
            .map(|s| LayerSwitchReport {
                t_ms: round(s.at.saturating_sub(offer_at) as f64 / 1e6, 3),
                from: layer_name(layer_of(ladder, s.from)),
                to: layer_name(layer_of(ladder, s.to)),
                budget_kbps: round(s.budget_bps as f64 / 1000.0, 3),
            })
            .collect(),
    }
}
