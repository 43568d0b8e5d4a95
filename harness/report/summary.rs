//! What the Markdown and HTML writers both say about a scenario: its display name, its key
//! numbers (calls connected, worst loss and jitter, lowest MOS) and how numbers are printed.

use super::model::{
    FailureReport, RunReport, ScenarioReport, StreamReport, Verdict, VideoStreamReport,
};
use std::collections::BTreeMap;

/// `param=value, param=value` for a matrix cell, empty when the scenario is not one.
pub(crate) fn cell_label(matrix: &BTreeMap<String, String>) -> String {
    matrix
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scenario's name, with its matrix cell in brackets when it has one.
pub(crate) fn display_name(s: &ScenarioReport) -> String {
    if s.matrix.is_empty() {
        s.name.clone()
    } else {
        format!("{} [{}]", s.name, cell_label(&s.matrix))
    }
}

pub(crate) fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
    }
}

/// A number with a fixed count of decimals; `-0.00` is printed as `0.00`.
pub(crate) fn num(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// An optional number, or an em dash when absent.
pub(crate) fn opt_num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".to_string(), |v| num(v, decimals))
}

/// Simulated milliseconds as seconds for an axis or a list (`12.5 s`).
pub(crate) fn secs(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{} s", num(ms as f64 / 1000.0, 1))
    }
}

/// A duration in ms for a headline: `180 ms`, `29.2 s`.
pub(crate) fn span(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{} ms", num(ms, 0))
    } else {
        format!("{} s", num(ms / 1000.0, 1))
    }
}

/// The service's answer in a failure, `403 Forbidden`, when the service refused.
pub(crate) fn code_reason(f: &FailureReport) -> Option<String> {
    match (f.code, f.reason.as_deref()) {
        (Some(c), Some(r)) if !r.is_empty() => Some(format!("{c} {r}")),
        (Some(c), _) => Some(c.to_string()),
        (None, Some(r)) if !r.is_empty() => Some(r.to_string()),
        _ => None,
    }
}

/// A failure's class with the service's answer: `av-disabled · 403 Forbidden`.
pub(crate) fn failure_head(f: &FailureReport) -> String {
    match code_reason(f) {
        Some(cr) => format!("{} · {cr}", f.class),
        None => f.class.clone(),
    }
}

/// A failure in one line: class, the service's answer and the client's words
/// (`av-disabled · 403 Forbidden — Certain audio and video options are unavailable`).
pub(crate) fn failure_line(f: &FailureReport) -> String {
    if f.message.is_empty() {
        failure_head(f)
    } else {
        format!("{} — {}", failure_head(f), f.message)
    }
}

/// A stream's one-line summary (console and Markdown): loss, what was heard, jitter, RTT, MOS.
pub(crate) fn stream_line(st: &StreamReport) -> String {
    let heard = match (st.playout_loss_pct, st.max_concealment_ms) {
        (Some(c), Some(g)) if g > 0.0 => format!(" concealed {}% (longest {})", num(c, 2), span(g)),
        (Some(c), _) => format!(" concealed {}%", num(c, 2)),
        _ => String::new(),
    };
    // RFC 3550 loss counts against what arrived: with nothing received it reads 0 %, so say
    // what happened instead.
    let loss = if st.packets_received == 0 {
        format!("nothing received ({} sent)", st.packets_sent)
    } else {
        format!("loss {}%", num(st.loss_pct, 2))
    };
    // What the receiver's decoder heard, and, when the speaker played silence of audible
    // speech (a muted output), what it played.
    use crate::agent::media::level::SILENCE_DBOV;
    let speech = match (st.speech_ratio, st.decoded_level_dbov) {
        (Some(r), Some(l)) => {
            let silence = if l < SILENCE_DBOV { " (silence)" } else { "" };
            format!(
                " speech {}% level {} dBov{silence}",
                num(r * 100.0, 0),
                num(l, 0)
            )
        }
        _ => String::new(),
    };
    let played = match (st.decoded_level_dbov, st.played_level_dbov) {
        (Some(d), Some(p)) if d >= SILENCE_DBOV && p < SILENCE_DBOV => {
            format!(" played {} dBov (silent)", num(p, 0))
        }
        _ => String::new(),
    };
    format!(
        "{loss}{heard} jitter {} ms rtt {} mos {}{speech}{played}",
        num(st.jitter_ms, 1),
        st.rtt_ms
            .map_or("-".to_owned(), |r| format!("{} ms", num(r, 0))),
        num(st.mos, 2)
    )
}

/// A video stream's one-line summary (console and Markdown): what was rendered, how often and
/// how long it froze, what was lost and asked for again.
pub(crate) fn video_line(v: &VideoStreamReport) -> String {
    if v.frames_decoded == 0 {
        let why = if let Some(n) = &v.not_sent {
            n.clone()
        } else if v.packets_sent == 0 {
            "nothing sent".to_owned()
        } else if v.packets_received == 0 {
            format!("nothing received ({} packets sent)", v.packets_sent)
        } else {
            format!(
                "no frame decoded ({} of {} packets received, {} PLI)",
                v.packets_received, v.packets_sent, v.plis_sent
            )
        };
        return format!("no picture: {why}");
    }
    let seen = match &v.pictures {
        Some(p) if p.decoded > 0 && p.black_pct >= 50.0 => {
            format!(", pictures black {}%", num(p.black_pct, 0))
        }
        Some(p) => match p.psnr_mean_db {
            Some(db) => format!(", psnr {} dB", num(db, 1)),
            None => String::new(),
        },
        None => String::new(),
    };
    // An adapting sender: the layers it sent most and least, and what it estimated.
    let adapted = match &v.adaptation {
        Some(a) if !a.switches.is_empty() => {
            let size = |i: usize| {
                a.layers
                    .get(i)
                    .and_then(|l| l.split(' ').next())
                    .unwrap_or("?")
                    .to_owned()
            };
            let mut most = 0;
            for (i, p) in a.time_pct.iter().enumerate() {
                if *p > a.time_pct[most] {
                    most = i;
                }
            }
            let lowest = a.time_pct.iter().rposition(|&p| p > 0.0).unwrap_or(most);
            format!(
                ", sent {} {}% of the time (lowest {}, {} switches, estimate {} kbit/s)",
                size(most),
                num(a.time_pct[most], 0),
                size(lowest),
                a.switches.len(),
                a.estimate_mean_kbps.map_or("-".to_owned(), |e| num(e, 0))
            )
        }
        _ => String::new(),
    };
    format!(
        "{} {} fps {} kbit/s, {} of {} frames decoded, freezes {} ({}%), loss {}% after {} retransmitted, PLI {}{seen}{adapted}",
        v.resolution.as_deref().unwrap_or("?"),
        v.fps.map_or("-".to_owned(), |f| num(f, 1)),
        num(v.bitrate_kbps, 0),
        v.frames_decoded,
        v.frames_sent,
        v.freezes,
        num(v.frozen_pct, 1),
        num(v.loss_pct, 2),
        v.retransmitted,
        v.plis_sent
    )
}

/// The key numbers of one scenario, over all its calls and streams.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScenarioSummary {
    pub calls: usize,
    pub connected: usize,
    /// Highest `loss_pct` of any stream, %.
    pub worst_loss_pct: Option<f64>,
    /// Highest playout loss of any stream (what the listener heard), %.
    pub worst_concealed_pct: Option<f64>,
    /// Longest run of concealment of any stream, ms.
    pub longest_concealment_ms: Option<f64>,
    /// Highest RFC 3550 jitter of any stream, ms.
    pub worst_jitter_ms: Option<f64>,
    /// Lowest MOS of any stream.
    pub min_mos: Option<f64>,
    pub unmet: usize,
}

impl ScenarioSummary {
    pub fn of(s: &ScenarioReport) -> Self {
        let streams: Vec<&StreamReport> = s.calls.iter().flat_map(|c| &c.streams).collect();
        let fold = |f: fn(&StreamReport) -> f64, pick: fn(f64, f64) -> f64| {
            streams.iter().map(|st| f(st)).reduce(pick)
        };
        ScenarioSummary {
            calls: s.calls.len(),
            connected: s.calls.iter().filter(|c| c.connected).count(),
            worst_loss_pct: fold(|st| st.loss_pct, f64::max),
            worst_concealed_pct: streams
                .iter()
                .filter_map(|st| st.playout_loss_pct)
                .reduce(f64::max),
            longest_concealment_ms: streams
                .iter()
                .filter_map(|st| st.max_concealment_ms)
                .reduce(f64::max),
            worst_jitter_ms: fold(|st| st.jitter_ms, f64::max),
            min_mos: fold(|st| st.mos, f64::min),
            unmet: s.expectations.iter().filter(|e| !e.met).count(),
        }
    }
}

/// Scenarios grouped for display: single scenarios in run order, then each matrix (scenarios of
/// one name with a non-empty `matrix`) as one group, in the order its first cell appears.
pub(crate) struct Groups<'a> {
    pub single: Vec<&'a ScenarioReport>,
    pub matrices: Vec<(String, Vec<&'a ScenarioReport>)>,
}

pub(crate) fn groups(run: &RunReport) -> Groups<'_> {
    let mut single = Vec::new();
    let mut matrices: Vec<(String, Vec<&ScenarioReport>)> = Vec::new();
    for s in &run.scenarios {
        if s.matrix.is_empty() {
            single.push(s);
        } else if let Some((_, cells)) = matrices.iter_mut().find(|(n, _)| *n == s.name) {
            cells.push(s);
        } else {
            matrices.push((s.name.clone(), vec![s]));
        }
    }
    Groups { single, matrices }
}

/// The matrix parameters of a group of cells, in order (a cell may lack one: shown empty).
pub(crate) fn matrix_params(cells: &[&ScenarioReport]) -> Vec<String> {
    let mut params: Vec<String> = Vec::new();
    for c in cells {
        for k in c.matrix.keys() {
            if !params.contains(k) {
                params.push(k.clone());
            }
        }
    }
    params.sort();
    params
}

/// Counts for the headline: scenarios, passed, incomplete.
pub(crate) fn counts(run: &RunReport) -> (usize, usize, usize) {
    let passed = run
        .scenarios
        .iter()
        .filter(|s| s.verdict == Verdict::Pass)
        .count();
    let incomplete = run.scenarios.iter().filter(|s| !s.complete).count();
    (run.scenarios.len(), passed, incomplete)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::sample_run;

    #[test]
    fn numbers_print_without_negative_zero() {
        assert_eq!(num(-0.0001, 2), "0.00");
        assert_eq!(num(-1.5, 1), "-1.5");
        assert_eq!(opt_num(None, 1), "—");
        assert_eq!(secs(20_000), "20 s");
        assert_eq!(secs(20_500), "20.5 s");
    }

    #[test]
    fn stream_line_shows_what_was_heard_beside_loss() {
        let run = sample_run();
        let mut st = run.scenarios[1].calls[0].streams[0].clone();
        st.loss_pct = 0.11;
        st.playout_loss_pct = Some(60.9);
        st.max_concealment_ms = Some(29_180.0);
        st.mos = 1.0;
        let line = stream_line(&st);
        assert!(
            line.starts_with("loss 0.11% concealed 60.90% (longest 29.2 s) jitter"),
            "{line}"
        );
        assert!(
            line.ends_with("mos 1.00 speech 39% level -28 dBov"),
            "{line}"
        );
        // A muted speaker: speech decoded, silence played.
        let mut muted = st.clone();
        muted.played_level_dbov = Some(-120.0);
        assert!(
            stream_line(&muted).ends_with("speech 39% level -28 dBov played -120 dBov (silent)")
        );
        // A dead microphone: silence decoded and played, nothing more to say.
        muted.speech_ratio = Some(0.0);
        muted.decoded_level_dbov = Some(-120.0);
        assert!(stream_line(&muted).ends_with("mos 1.00 speech 0% level -120 dBov (silence)"));
        st.max_concealment_ms = Some(0.0);
        st.playout_loss_pct = Some(0.0);
        assert!(stream_line(&st).starts_with("loss 0.11% concealed 0.00% jitter"));
        assert_eq!(span(180.0), "180 ms");
        // Nothing arrived: RFC 3550's 0 % would mislead, so the line says so.
        st.packets_received = 0;
        st.packets_sent = 119;
        st.loss_pct = 0.0;
        st.playout_loss_pct = Some(100.0);
        assert!(
            stream_line(&st).starts_with("nothing received (119 sent) concealed 100.00%"),
            "{}",
            stream_line(&st)
        );
    }

    #[test]
    fn summary_takes_worst_of_all_streams() {
        let run = sample_run();
        let s = ScenarioSummary::of(&run.scenarios[1]);
        assert_eq!((s.calls, s.connected, s.unmet), (1, 1, 2));
        let streams = &run.scenarios[1].calls[0].streams;
        assert_eq!(
            s.worst_loss_pct,
            Some(streams[0].loss_pct.max(streams[1].loss_pct))
        );
        let heard = |st: &StreamReport| st.playout_loss_pct.unwrap();
        assert_eq!(
            s.worst_concealed_pct,
            Some(heard(&streams[0]).max(heard(&streams[1])))
        );
        assert!(s.longest_concealment_ms.is_some());
        let none = ScenarioSummary::of(&ScenarioReport {
            calls: vec![],
            ..run.scenarios[0].clone()
        });
        assert_eq!(none.min_mos, None);
    }

    #[test]
    fn matrix_cells_group_by_name() {
        let run = sample_run();
        let g = groups(&run);
        assert_eq!(g.single.len(), 3);
        assert_eq!(g.matrices.len(), 1);
        assert_eq!(g.matrices[0].1.len(), 2);
        assert_eq!(matrix_params(&g.matrices[0].1), ["loss", "profile"]);
        assert_eq!(
            display_name(g.matrices[0].1[0]),
            "loss sweep [loss=1%, profile=dsl]"
        );
    }
}
