//! What a scenario sets out to show: the user's symptom, or a healthy call. The one place the
//! rule lives; the reports' outcome words (`reproduced`, `healthy`, ...) and KB coverage read it.
//!
//! A scenario **expects a symptom** when any call expects a failure (`expect: call-dropped`,
//! `ice-failed`, ...) or any threshold asserts degradation: a metric where higher is worse (loss,
//! jitter, RTT, gaps, concealment, late packets, setup time...) bounded from below (`>`, `>=`),
//! or a metric where lower is worse (MOS, bit rate, speech heard, audio levels) bounded from above (`<`, `<=`), or a call
//! must take the relay (`path: relay`, `relay-udp`, `relay-tcp`, `relay-tls`: the fallback a
//! blocked network forces). Otherwise it **expects a healthy call**: every call connects and every threshold is a quality target.
//!
//! ```
//! use callharness::scenario::{Threshold, Metric};
//! let symptom: Threshold = "loss > 3%".parse().unwrap();
//! let target: Threshold = "mos > 4".parse().unwrap();
//! assert!(symptom.asserts_degradation() && !target.asserts_degradation());
//! assert!(Metric::Loss.higher_is_worse() && !Metric::Mos.higher_is_worse());
//! ```

use super::model::{CallExpect, ImExpect, Scenario, ServiceAsk};
use super::threshold::{Metric, Threshold};
use crate::report::model::Expects;

impl Metric {
    /// Whether a larger value means a worse call: true for every metric but MOS, bit rate,
    /// speech heard and the audio levels (silence is the symptom there).
    pub fn higher_is_worse(self) -> bool {
        !matches!(
            self,
            Metric::Mos
                | Metric::Bitrate
                | Metric::Speech
                | Metric::DecodedLevel
                | Metric::PlayedLevel
                | Metric::Fps
                | Metric::Psnr
                | Metric::Height
        )
    }
}

impl Threshold {
    /// Whether the threshold asserts that the stream is degraded (`loss > 3%`, `mos < 3.6`)
    /// rather than that it is good enough (`loss < 1%`, `mos > 4`).
    pub fn asserts_degradation(&self) -> bool {
        // An upper bound (`<`) on a higher-is-worse metric is a quality target; so is a lower
        // bound (`>`) on a lower-is-worse one. The other two combinations assert the symptom.
        self.metric.higher_is_worse() != self.op.is_upper_bound()
    }
}

impl CallExpect {
    /// Whether the call is expected to fail (any failure class).
    pub fn expects_failure(&self) -> bool {
        matches!(self, CallExpect::Fails(_))
    }
}

impl Scenario {
    /// What the scenario expects: [`Expects::Symptom`] when a call expects a failure, a
    /// threshold (the scenario's, a call's, or a stream's) asserts degradation, an IM is
    /// expected refused or a presence "Presence Unknown", else [`Expects::Healthy`].
    pub fn expects(&self) -> Expects {
        let call_thresholds = self.calls.iter().flat_map(|c| {
            c.thresholds
                .iter()
                .chain(&c.caller_stream)
                .chain(&c.callee_stream)
                .chain(&c.caller_video)
                .chain(&c.callee_video)
        });
        let degraded = self
            .thresholds
            .iter()
            .chain(call_thresholds)
            .any(Threshold::asserts_degradation);
        let refused = self.service_checks.iter().any(|c| match &c.what {
            ServiceAsk::Im { expect, .. } => matches!(expect, Some(ImExpect::Refused { .. })),
            ServiceAsk::Presence { expect, .. } => {
                *expect == Some(crate::service::PresenceView::Unknown)
            }
            ServiceAsk::Publish { .. } | ServiceAsk::Contact { .. } => false,
        });
        let scoped = self.expect_scope.is_some();
        let relayed = self.calls.iter().any(|c| {
            c.path
                .is_some_and(|p| p != crate::scenario::raw::MediaPath::Direct)
        });
        if degraded
            || refused
            || scoped
            || relayed
            || self.calls.iter().any(|c| c.expect.expects_failure())
        {
            Expects::Symptom
        } else {
            Expects::Healthy
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn t(s: &str) -> Threshold {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn only_mos_bitrate_fps_psnr_and_levels_are_better_when_higher() {
        let better_high: Vec<Metric> = Metric::all().filter(|m| !m.higher_is_worse()).collect();
        assert_eq!(
            better_high,
            [
                Metric::Mos,
                Metric::Bitrate,
                Metric::Fps,
                Metric::Psnr,
                Metric::Height,
                Metric::Speech,
                Metric::DecodedLevel,
                Metric::PlayedLevel
            ]
        );
    }

    #[test]
    fn a_threshold_asserts_degradation_by_metric_direction_and_operator() {
        for symptom in [
            "loss > 3%",
            "loss >= 3%",
            "jitter p95 > 15ms",
            "max gap > 5s",
            "concealed > 1%",
            "playout loss >= 2%",
            "late > 1%",
            "setup > 2s",
            "rtt > 200ms",
            "mos degradation > 1",
            "mos < 3.6",
            "mos <= 3.6",
            "bitrate < 20kbit",
            "loss > 1% in some 15s",
        ] {
            assert!(t(symptom).asserts_degradation(), "{symptom}");
        }
        for target in [
            "loss < 1%",
            "loss <= 10%",
            "jitter < 30ms",
            "max gap < 2s",
            "setup < 10s",
            "mos > 4",
            "mos >= 3.5",
            "bitrate > 30kbit",
            "mos > 3.5 in every 10s",
        ] {
            assert!(!t(target).asserts_degradation(), "{target}");
        }
        // A named set is a set of targets, the CQD "poor" rules turned around included.
        for set in super::super::named_set_names() {
            let set = super::super::named_set(set).unwrap_or_default();
            assert!(set.iter().all(|t| !t.asserts_degradation()), "{set:?}");
        }
    }

    fn scenario(calls: &str, thresholds: &str) -> Scenario {
        let text = format!(
            "name: s\nduration: 20s\nprofiles:\n  lan: {{ both: {{ delay: 1ms }} }}\n\
             participants:\n  alice: {{ network: lan }}\n  bob: {{ network: lan }}\n\
             calls:\n{calls}thresholds: {thresholds}\n"
        );
        let mut cells = super::super::load_str(&text, Path::new("s.yaml"), &[])
            .unwrap_or_else(|e| panic!("{text}\n{e:?}"));
        cells.remove(0)
    }

    #[test]
    fn a_scenario_expects_the_symptom_from_any_failure_or_degradation_threshold() {
        let healthy = "  - { caller: alice, callee: bob, at: 1s, thresholds: [\"loss < 1%\"] }\n";
        assert_eq!(scenario(healthy, "[]").expects(), Expects::Healthy);
        assert_eq!(
            scenario(healthy, "teams-client-edge").expects(),
            Expects::Healthy
        );
        let dropped = "  - { caller: alice, callee: bob, at: 1s, expect: call-dropped }\n";
        assert_eq!(scenario(dropped, "[]").expects(), Expects::Symptom);
        // A degradation threshold anywhere: the scenario's, a call's, one stream's.
        assert_eq!(
            scenario(healthy, "[\"mos < 3\"]").expects(),
            Expects::Symptom
        );
        let call = "  - { caller: alice, callee: bob, at: 1s, thresholds: [\"loss < 1%\", \"max gap > 5s\"] }\n";
        assert_eq!(scenario(call, "[]").expects(), Expects::Symptom);
        let stream = "  - { caller: alice, callee: bob, at: 1s, callee_stream: [\"loss > 2%\"] }\n";
        assert_eq!(scenario(stream, "[]").expects(), Expects::Symptom);
        // One healthy call beside one that must fail: the scenario shows a symptom.
        let two =
            format!("{healthy}  - {{ caller: bob, callee: alice, at: 2s, expect: ice-failed }}\n");
        assert_eq!(scenario(&two, "[]").expects(), Expects::Symptom);
    }
}
