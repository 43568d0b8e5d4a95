//! Measuring a video stream at the end of a run: what the receiver assembled, decoded and
//! rendered (from [`crate::agent::video_rtp`]), with what the sender sent, judged by the
//! call's video thresholds.

use crate::agent::video::VideoCodec;
use crate::agent::CallLeg;
use crate::report::model::{PictureReport, VideoSecondSample, VideoStreamReport};
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
    let tx = sender.video_sender();
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
        .map(|(t, s)| VideoSecondSample {
            t: t as u64,
            fps: s.frames,
            bitrate_kbps: round(s.bytes as f64 * 8.0 / 1000.0, 3),
            height: s.height,
            freeze_ms: s.freeze_ms,
        })
        .collect();
    let report = VideoStreamReport {
        from: from.to_owned(),
        to: to.to_owned(),
        codec: rx.codec.map(|c| match c {
            VideoCodec::Vp8 => "vp8".to_owned(),
            VideoCodec::H264 => "h264".to_owned(),
        }),
        sent_layer: tx.map(|t| {
            let l = t.layer();
            format!(
                "{}x{} {}fps {}kbit",
                l.width,
                l.height,
                l.fps,
                l.bitrate_bps / 1000
            )
        }),
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
        series,
    };
    MeasuredVideo { report }
}
