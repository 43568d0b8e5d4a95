//! Freezes as the W3C webrtc-stats spec counts them (`freezeCount`, `totalFreezesDuration` of
//! RTCInboundRtpStreamStats): a freeze is an interval between two consecutively rendered frames
//! that is at least `max(3 x avg, avg + 150 ms)`, where `avg` is the linear average of the
//! durations of the last 30 rendered frames (the intervals before this one). The interval that
//! is a freeze counts whole towards the total freeze duration. Like libwebrtc, nothing counts
//! before a first frame has been rendered, and the average needs at least one interval.
//!
//! ```
//! use callharness::agent::video_rtp::freeze::FreezeDetector;
//! let mut f = FreezeDetector::new();
//! let ms = 1_000_000;
//! for i in 0..30 { f.on_rendered(i * 33 * ms); }      // 30 fps
//! f.on_rendered(29 * 33 * ms + 200 * ms);             // 200 ms >= 33 + 150: a freeze
//! assert_eq!(f.freeze_count(), 1);
//! assert_eq!(f.total_freeze_ns(), 200 * ms);
//! ```

use std::collections::VecDeque;

/// How many past frame durations the average is over (the spec's 30).
pub const FREEZE_WINDOW: usize = 30;
/// The spec's minimum margin over the average, ns.
pub const FREEZE_MARGIN_NS: u64 = 150_000_000;

/// Counts freezes from the times frames were rendered (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct FreezeDetector {
    last: Option<u64>,
    durations: VecDeque<u64>,
    sum: u64,
    count: u64,
    total: u64,
    /// (start, end) of every freeze, ns.
    freezes: Vec<(u64, u64)>,
}

impl FreezeDetector {
    /// A detector that has seen no frame.
    pub fn new() -> Self {
        Self::default()
    }

    /// The freeze threshold for the next interval, ns (None before two frames).
    pub fn threshold_ns(&self) -> Option<u64> {
        if self.durations.is_empty() {
            return None;
        }
        let avg = self.sum / self.durations.len() as u64;
        Some((3 * avg).max(avg + FREEZE_MARGIN_NS))
    }

    /// A frame was rendered at `at` (ns, not before the previous one); returns whether the
    /// interval it ends was a freeze.
    pub fn on_rendered(&mut self, at: u64) -> bool {
        let Some(last) = self.last.replace(at) else {
            return false;
        };
        let d = at.saturating_sub(last);
        let frozen = self.threshold_ns().is_some_and(|t| d >= t);
        if frozen {
            self.count += 1;
            self.total += d;
            self.freezes.push((last, at));
        }
        self.durations.push_back(d);
        self.sum += d;
        if self.durations.len() > FREEZE_WINDOW {
            self.sum -= self.durations.pop_front().unwrap_or(0);
        }
        frozen
    }

    /// The picture has stood still since the last frame until `end` (the stream or the call
    /// ended): counted as a freeze when that interval passes the threshold, as the spec would
    /// when the next frame came at `end`. Call once, at the end.
    pub fn finish(&mut self, end: u64) {
        if let (Some(last), Some(t)) = (self.last, self.threshold_ns()) {
            let d = end.saturating_sub(last);
            if d >= t {
                self.count += 1;
                self.total += d;
                self.freezes.push((last, end));
            }
        }
        self.last = None;
    }

    /// Freezes counted so far.
    pub fn freeze_count(&self) -> u64 {
        self.count
    }

    /// Their summed duration, ns.
    pub fn total_freeze_ns(&self) -> u64 {
        self.total
    }

    /// Every freeze as (start, end), ns.
    pub fn freezes(&self) -> &[(u64, u64)] {
        &self.freezes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn run(times_ms: &[u64]) -> FreezeDetector {
        let mut f = FreezeDetector::new();
        for &t in times_ms {
            f.on_rendered(t * MS);
        }
        f
    }

    #[test]
    fn steady_frames_never_freeze() {
        let t: Vec<u64> = (0..300).map(|i| i * 33).collect();
        let f = run(&t);
        assert_eq!(f.freeze_count(), 0);
        assert_eq!(f.total_freeze_ns(), 0);
    }

    #[test]
    fn threshold_is_avg_plus_150_at_high_rates_and_three_avg_at_low() {
        // 30 fps: avg 33 ms, threshold max(99, 183) = 183 ms.
        let mut t: Vec<u64> = (0..31).map(|i| i * 33).collect();
        let f = run(&t);
        assert_eq!(f.threshold_ns(), Some(183 * MS));
        // 182 ms is not a freeze, 183 ms is.
        t.push(30 * 33 + 182);
        assert_eq!(run(&t).freeze_count(), 0);
        *t.last_mut().unwrap() = 30 * 33 + 183;
        assert_eq!(run(&t).freeze_count(), 1);
        // 5 fps: avg 200 ms, threshold max(600, 350) = 600 ms.
        let slow: Vec<u64> = (0..10).map(|i| i * 200).collect();
        assert_eq!(run(&slow).threshold_ns(), Some(600 * MS));
    }

    #[test]
    fn the_average_is_over_the_last_30_intervals_only() {
        // 40 intervals of 100 ms, then 30 of 33 ms: the average has forgotten the slow part.
        let mut t = vec![0u64];
        for _ in 0..40 {
            t.push(t.last().unwrap() + 100);
        }
        for _ in 0..30 {
            t.push(t.last().unwrap() + 33);
        }
        assert_eq!(run(&t).threshold_ns(), Some(183 * MS));
    }

    #[test]
    fn freezes_are_counted_and_summed_and_raise_the_average() {
        // 30 fps with two stalls of 500 ms and 300 ms.
        let mut t = vec![0u64];
        let push = |d: u64, t: &mut Vec<u64>| t.push(t.last().unwrap() + d);
        for _ in 0..30 {
            push(33, &mut t);
        }
        push(500, &mut t);
        for _ in 0..30 {
            push(33, &mut t);
        }
        push(300, &mut t);
        let f = run(&t);
        assert_eq!(f.freeze_count(), 2);
        assert_eq!(f.total_freeze_ns(), 800 * MS);
        let (s, e) = f.freezes()[0];
        assert_eq!(e - s, 500 * MS);
        // Right after a freeze the average includes it: a second stall of 190 ms, which would
        // freeze at a steady 30 fps (>= 183), does not (threshold (29*33+500)/30 + 150 = 198).
        let mut u: Vec<u64> = (0..31).map(|i| i * 33).collect();
        u.push(u.last().unwrap() + 500);
        u.push(u.last().unwrap() + 190);
        let f = run(&u);
        assert_eq!(f.freeze_count(), 1, "{:?}", f.freezes());
    }

    #[test]
    fn a_picture_standing_at_the_end_is_a_freeze_and_a_lone_frame_is_not() {
        let mut f = run(&(0..31).map(|i| i * 33).collect::<Vec<_>>());
        f.finish((30 * 33 + 1_000) * MS);
        assert_eq!(f.freeze_count(), 1);
        let mut one = run(&[0]);
        one.finish(10_000 * MS);
        assert_eq!(one.freeze_count(), 0);
    }
}
