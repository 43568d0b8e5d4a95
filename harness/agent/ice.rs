//! A client's ICE consent timers ([`IceTimeouts`]), as a scenario sets them and the peer hands
//! them to rtc.

use std::time::Duration;

/// The step of rtc's ICE timer: it runs every 200 ms (`DEFAULT_CHECK_INTERVAL`), so consent
/// checks go out on that grid and timeouts are noticed within one step.
pub const ICE_TIMER_STEP: Duration = Duration::from_millis(200);

/// A client's ICE consent timers (RFC 7675 consent freshness). rtc 0.21 measures both timeouts
/// from the last STUN message heard from the far end (a check or an answer), not from the last
/// media: a path that dies is reported between `timeout - keepalive` and `timeout` later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IceTimeouts {
    /// Silence after which ICE reports `disconnected` (5 s).
    pub disconnected: Duration,
    /// Silence after which ICE reports `failed` and the call drops (30 s). rtc counts its
    /// failed timeout from `disconnected`, so the stack is given `failed - disconnected`
    /// (25 s by default: rtc's own defaults).
    pub failed: Duration,
    /// Interval between consent checks (STUN binding requests) on the selected pair (2 s); a
    /// multiple of [`ICE_TIMER_STEP`]. Each check draws an answer and, from the far end, a
    /// triggered check of its own, which is answered too.
    pub keepalive: Duration,
}

impl Default for IceTimeouts {
    fn default() -> Self {
        IceTimeouts {
            disconnected: Duration::from_secs(5),
            failed: Duration::from_secs(30),
            keepalive: Duration::from_secs(2),
        }
    }
}

impl IceTimeouts {
    /// The problem with these timers, if any: each must be above 0, the keepalive a multiple
    /// of [`ICE_TIMER_STEP`], and keepalive < disconnected < failed (a keepalive as long as the
    /// disconnected timeout would report a healthy but quiet path disconnected; a failed
    /// timeout not above disconnected would hand rtc a failed timeout of 0, which it takes as
    /// "never fail"). Returns the field at fault and why.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let ms = |d: Duration| d.as_millis();
        for (field, d) in [
            ("keepalive", self.keepalive),
            ("disconnected_timeout", self.disconnected),
            ("failed_timeout", self.failed),
        ] {
            if d.is_zero() {
                return Some((field, "must be above 0".to_string()));
            }
        }
        if !self
            .keepalive
            .as_nanos()
            .is_multiple_of(ICE_TIMER_STEP.as_nanos())
        {
            return Some((
                "keepalive",
                format!(
                    "keepalive ({} ms) is not a multiple of 200 ms: rtc's ICE timer runs every \
                     200 ms and would send every {} ms",
                    ms(self.keepalive),
                    ms(self.keepalive).div_ceil(200) * 200
                ),
            ));
        }
        if self.keepalive >= self.disconnected {
            return Some((
                "keepalive",
                format!(
                    "keepalive ({} ms) must be shorter than disconnected_timeout ({} ms)",
                    ms(self.keepalive),
                    ms(self.disconnected)
                ),
            ));
        }
        if self.disconnected >= self.failed {
            return Some((
                "failed_timeout",
                format!(
                    "failed_timeout ({} ms) must be longer than disconnected_timeout ({} ms)",
                    ms(self.failed),
                    ms(self.disconnected)
                ),
            ));
        }
        None
    }
}
