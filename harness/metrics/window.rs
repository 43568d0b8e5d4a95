//! Windowed checks over one stream, and its per-second time series.
//!
//! Microsoft's network thresholds are stated per window: "packet loss < 1 % in any 15 s window",
//! "burst loss < 10 % in any 200 ms window", "jitter < 30 ms in any 15 s window"
//! (`../shared/reference/metrics.md` §4). [`StreamWindows`] evaluates those maxima online, in O(1)
//! amortised time per packet and memory bounded by the longest window (about 750 slots for 15 s of
//! 20 ms packets), and keeps a [`SecondRow`] per second of the call for the report's charts.
//!
//! # Definitions
//! - A **slot** is one RTP sequence number of the stream, received or lost, keyed by its *send
//!   time as the receiver knows it*: the RTP timestamp converted to nanoseconds on the receiver's
//!   clock (anchored at the first packet's arrival; see
//!   [`ReceiverStats`](crate::metrics::receiver::ReceiverStats)). A lost slot has no timestamp,
//!   so it takes the previous slot's send time plus the nominal packet interval. Send times are
//!   made non-decreasing.
//! - A **window of length W** starting at slot *i* holds every slot whose send time lies in
//!   `[t_i, t_i + W)`. Windows slide by one slot; a window is evaluated only once it is complete
//!   (a slot at or past `t_i + W` has been seen). If the stream is shorter than W, the whole
//!   stream is evaluated as one (partial) window at [`StreamWindows::finish`], and
//!   [`WindowMax::partial`] says so.
//! - **Loss % of a window** = lost slots / all slots in it × 100.
//! - **Jitter of a window** = the mean of the RFC 3550 estimate J sampled right after each
//!   received packet whose slot lies in the window (ms). (The maximum of a point sample over all
//!   windows would just be the maximum sample; the mean is what "jitter in a 15 s window" means
//!   for a threshold.)
//!
//! # Example
//! ```
//! use callharness::metrics::window::{Slot, StreamWindows, WindowConfig};
//! let mut w = StreamWindows::new(WindowConfig::default());
//! for i in 0..1000u64 {
//!     let received = i % 50 != 7; // one loss per second
//!     w.push_slot(Slot { send_ns: i * 20_000_000, received, jitter_us: Some(500) });
//! }
//! w.finish(1000 * 20_000_000);
//! let loss = w.max_loss().unwrap();
//! assert!((loss.value - 2.0).abs() < 0.01); // 15 losses in 750 slots
//! assert_eq!(w.max_burst_loss().unwrap().value, 10.0); // 1 of 10 slots in 200 ms
//! ```

use serde::Serialize;
use std::collections::VecDeque;

/// Nanoseconds in one second.
const NS_PER_S: u64 = 1_000_000_000;

/// Window lengths for the windowed checks (ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowConfig {
    /// Window for "max loss %" and "max jitter", ns (15 s in Microsoft's thresholds).
    pub long_ns: u64,
    /// Window for "max burst loss %", ns (200 ms in Microsoft's thresholds).
    pub burst_ns: u64,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            long_ns: 15 * NS_PER_S,
            burst_ns: 200_000_000,
        }
    }
}

/// One sequence-number slot of the stream, in send order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Send time as the receiver knows it, ns on the receiver's clock.
    pub send_ns: u64,
    /// True when the packet arrived (late or not), false when it never did.
    pub received: bool,
    /// The RFC 3550 jitter estimate J right after this packet arrived, µs (None when lost).
    pub jitter_us: Option<u32>,
}

/// The maximum of a windowed quantity, with where it happened.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowMax {
    /// The maximum value (percent for loss, ms for jitter).
    pub value: f64,
    /// Send time of the first slot of the worst window, ns.
    pub at_ns: u64,
    /// True when no complete window existed and the whole (shorter) stream was used.
    pub partial: bool,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    send_ns: u64,
    jitter_us: u32,
    received: bool,
    has_jitter: bool,
}

/// One sliding window with running sums, evaluated each time its first slot leaves.
#[derive(Debug, Clone)]
struct SlidingWindow {
    len_ns: u64,
    entries: VecDeque<Entry>,
    lost: u64,
    jitter_sum_us: u64,
    jitter_n: u64,
    complete: u64,
    max_loss: Option<WindowMax>,
    max_jitter: Option<WindowMax>,
}

impl SlidingWindow {
    fn new(len_ns: u64) -> Self {
        SlidingWindow {
            len_ns,
            entries: VecDeque::new(),
            lost: 0,
            jitter_sum_us: 0,
            jitter_n: 0,
            complete: 0,
            max_loss: None,
            max_jitter: None,
        }
    }

    fn push(&mut self, e: Entry) {
        self.close_until(e.send_ns);
        self.lost += u64::from(!e.received);
        if e.has_jitter {
            self.jitter_sum_us += u64::from(e.jitter_us);
            self.jitter_n += 1;
        }
        self.entries.push_back(e);
    }

    fn evaluate(&mut self, partial: bool) {
        let Some(front) = self.entries.front() else {
            return;
        };
        let at_ns = front.send_ns;
        let loss = self.lost as f64 * 100.0 / self.entries.len() as f64;
        if self.max_loss.is_none_or(|m| loss > m.value) {
            self.max_loss = Some(WindowMax {
                value: loss,
                at_ns,
                partial,
            });
        }
        if self.jitter_n > 0 {
            let j = self.jitter_sum_us as f64 / self.jitter_n as f64 / 1000.0;
            if self.max_jitter.is_none_or(|m| j > m.value) {
                self.max_jitter = Some(WindowMax {
                    value: j,
                    at_ns,
                    partial,
                });
            }
        }
    }

    /// Evaluates the windows that the stream's end (`end_ns`) completes, then, if none was
    /// complete, the whole stream as one partial window.
    fn finish(&mut self, end_ns: u64) {
        self.close_until(end_ns);
        if self.complete == 0 {
            self.evaluate(true);
        }
    }

    /// Evaluates and drops every window that ends at or before `t_ns`.
    fn close_until(&mut self, t_ns: u64) {
        while let Some(front) = self.entries.front().copied() {
            if front.send_ns.saturating_add(self.len_ns) > t_ns {
                break;
            }
            self.complete += 1;
            self.evaluate(false);
            self.entries.pop_front();
            self.lost -= u64::from(!front.received);
            if front.has_jitter {
                self.jitter_sum_us -= u64::from(front.jitter_us);
                self.jitter_n -= 1;
            }
        }
    }
}

/// One second of one stream. Counts by send time (slots), bytes and jitter by arrival time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecondRow {
    /// Second index on the receiver's clock (simulated seconds since the run started).
    pub t: u64,
    /// Slots whose send time falls in this second.
    pub expected: u32,
    /// Of those, received.
    pub received: u32,
    /// Of those, never received.
    pub lost: u32,
    /// `lost / expected × 100` (0 when nothing was expected).
    pub loss_pct: f64,
    /// The RFC 3550 jitter estimate at the last arrival in or before this second, ms.
    pub jitter_ms: f64,
    /// RTP payload bytes of unique packets that arrived in this second.
    pub bytes: u64,
    /// `bytes × 8 / 1000`: received payload bitrate, kbit/s.
    pub bitrate_kbps: f64,
    /// Round-trip time in this second, ms: filled by the caller (RTCP is not seen here).
    pub rtt_ms: Option<f64>,
    /// MOS for this second: filled by the caller.
    pub mos: Option<f64>,
    #[serde(skip)]
    jitter_set: bool,
}

impl SecondRow {
    fn new(t: u64) -> Self {
        SecondRow {
            t,
            expected: 0,
            received: 0,
            lost: 0,
            loss_pct: 0.0,
            jitter_ms: 0.0,
            bytes: 0,
            bitrate_kbps: 0.0,
            rtt_ms: None,
            mos: None,
            jitter_set: false,
        }
    }
}

/// Windowed maxima and the per-second series of one stream. Fed by
/// [`ReceiverStats`](crate::metrics::receiver::ReceiverStats), or directly in tests.
#[derive(Debug, Clone)]
pub struct StreamWindows {
    long: SlidingWindow,
    burst: SlidingWindow,
    rows: Vec<SecondRow>,
    first_second: u64,
    last_send_ns: u64,
    finished: bool,
}

impl StreamWindows {
    /// Empty windows with the given lengths.
    pub fn new(config: WindowConfig) -> Self {
        StreamWindows {
            long: SlidingWindow::new(config.long_ns.max(1)),
            burst: SlidingWindow::new(config.burst_ns.max(1)),
            rows: Vec::new(),
            first_second: 0,
            last_send_ns: 0,
            finished: false,
        }
    }

    /// Adds the next slot in sequence order. Send times going backwards are clamped to the
    /// previous one, so windows stay well defined.
    pub fn push_slot(&mut self, slot: Slot) {
        let send_ns = slot.send_ns.max(self.last_send_ns);
        self.last_send_ns = send_ns;
        let e = Entry {
            send_ns,
            jitter_us: slot.jitter_us.unwrap_or(0),
            received: slot.received,
            has_jitter: slot.received && slot.jitter_us.is_some(),
        };
        self.long.push(e);
        self.burst.push(e);
        let row = self.row_mut(send_ns / NS_PER_S);
        row.expected += 1;
        if slot.received {
            row.received += 1;
        } else {
            row.lost += 1;
        }
    }

    /// Records a unique packet's arrival for the series: its payload bytes, and the jitter
    /// estimate after it (µs).
    pub fn on_arrival(&mut self, arrival_ns: u64, payload_bytes: usize, jitter_us: u32) {
        let row = self.row_mut(arrival_ns / NS_PER_S);
        row.bytes += payload_bytes as u64;
        row.jitter_ms = f64::from(jitter_us) / 1000.0;
        row.jitter_set = true;
    }

    fn row_mut(&mut self, second: u64) -> &mut SecondRow {
        if self.rows.is_empty() {
            self.first_second = second;
            self.rows.push(SecondRow::new(second));
        }
        if second < self.first_second {
            // A second before the first row (a packet sent before the first one arrived):
            // prepend rows so the series stays contiguous.
            let missing = (self.first_second - second) as usize;
            let mut front: Vec<SecondRow> = (0..missing as u64)
                .map(|i| SecondRow::new(second + i))
                .collect();
            front.append(&mut self.rows);
            self.rows = front;
            self.first_second = second;
        }
        let idx = (second - self.first_second) as usize;
        while self.rows.len() <= idx {
            let t = self.first_second + self.rows.len() as u64;
            self.rows.push(SecondRow::new(t));
        }
        &mut self.rows[idx]
    }

    /// Ends the stream at `end_ns` (the last slot's send time plus one packet interval): evaluates
    /// the windows that completes (or one partial window if none was complete), and computes the
    /// series' derived fields (loss %, bitrate, jitter carried over seconds with no arrival).
    /// Calling it again is harmless.
    pub fn finish(&mut self, end_ns: u64) {
        if !self.finished {
            self.long.finish(end_ns);
            self.burst.finish(end_ns);
            self.finished = true;
        }
        let mut jitter = 0.0;
        for row in &mut self.rows {
            row.loss_pct = if row.expected > 0 {
                f64::from(row.lost) * 100.0 / f64::from(row.expected)
            } else {
                0.0
            };
            row.bitrate_kbps = row.bytes as f64 * 8.0 / 1000.0;
            if row.jitter_set {
                jitter = row.jitter_ms;
            } else {
                row.jitter_ms = jitter;
            }
        }
    }

    /// Approximate heap memory of the windows and series, bytes.
    pub fn memory_bytes(&self) -> usize {
        (self.long.entries.capacity() + self.burst.entries.capacity())
            * std::mem::size_of::<Entry>()
            + self.rows.capacity() * std::mem::size_of::<SecondRow>()
    }

    /// Highest loss % in any long (15 s) window. None before any slot.
    pub fn max_loss(&self) -> Option<WindowMax> {
        self.long.max_loss
    }

    /// Highest loss % in any burst (200 ms) window. None before any slot.
    pub fn max_burst_loss(&self) -> Option<WindowMax> {
        self.burst.max_loss
    }

    /// Highest mean jitter estimate (ms) in any long (15 s) window. None before any packet.
    pub fn max_jitter(&self) -> Option<WindowMax> {
        self.long.max_jitter
    }

    /// The per-second series (complete after [`StreamWindows::finish`]).
    pub fn series(&self) -> &[SecondRow] {
        &self.rows
    }

    /// The per-second series, for the caller to fill `rtt_ms` and `mos`.
    pub fn series_mut(&mut self) -> &mut [SecondRow] {
        &mut self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn feed(w: &mut StreamWindows, lost: &[bool]) {
        for (i, &l) in lost.iter().enumerate() {
            w.push_slot(Slot {
                send_ns: i as u64 * 20 * MS,
                received: !l,
                jitter_us: if l { None } else { Some(1000) },
            });
        }
    }

    #[test]
    fn crafted_sequence_max_loss_and_burst() {
        // 60 s at 50 pps = 3000 slots. Losses: 5 consecutive at slot 1000, and 10 scattered
        // ones at slots 2000, 2010, ... 2090 (all within 2 s).
        let mut lost = vec![false; 3000];
        for s in lost.iter_mut().skip(1000).take(5) {
            *s = true;
        }
        for k in 0..10 {
            lost[2000 + 10 * k] = true;
        }
        let mut w = StreamWindows::new(WindowConfig::default());
        feed(&mut w, &lost);
        w.finish(3000 * 20 * MS);
        // Worst 15 s window (750 slots) holds the 10 scattered losses (the 5-run is 1000 slots
        // away): 10 / 750 = 1.333 %.
        let m = w.max_loss().unwrap();
        assert!((m.value - 10.0 * 100.0 / 750.0).abs() < 1e-9, "{m:?}");
        assert!(!m.partial);
        // Worst 200 ms window (10 slots) holds the 5-run: 50 %.
        let b = w.max_burst_loss().unwrap();
        assert_eq!(b.value, 50.0);
        // The first window holding all five starts at slot 995 (slots 995..=1004).
        assert_eq!(b.at_ns, 995 * 20 * MS);
    }

    #[test]
    fn window_slides_by_one_packet() {
        // Two losses 749 slots apart fit in one 15 s window (750 slots); 750 apart do not.
        let mut lost = vec![false; 2000];
        lost[100] = true;
        lost[849] = true;
        let mut w = StreamWindows::new(WindowConfig::default());
        feed(&mut w, &lost);
        w.finish(2000 * 20 * MS);
        assert!((w.max_loss().unwrap().value - 200.0 / 750.0).abs() < 1e-9);

        let mut lost = vec![false; 2000];
        lost[100] = true;
        lost[850] = true;
        let mut w = StreamWindows::new(WindowConfig::default());
        feed(&mut w, &lost);
        w.finish(2000 * 20 * MS);
        assert!((w.max_loss().unwrap().value - 100.0 / 750.0).abs() < 1e-9);
    }

    #[test]
    fn short_stream_is_one_partial_window() {
        let mut lost = vec![false; 100]; // 2 s
        lost[3] = true;
        let mut w = StreamWindows::new(WindowConfig::default());
        feed(&mut w, &lost);
        w.finish(100 * 20 * MS);
        let m = w.max_loss().unwrap();
        assert!(m.partial);
        assert!((m.value - 1.0).abs() < 1e-9);
    }

    #[test]
    fn jitter_window_is_mean_of_samples() {
        let mut w = StreamWindows::new(WindowConfig::default());
        // 20 s: first 10 s J = 1 ms, next 10 s J = 5 ms. Worst 15 s window: the last 750
        // slots (250 at 1 ms, 500 at 5 ms) -> (250 + 2500) / 750 = 3.667 ms. That window is
        // complete only because the stream's end (20 s) reaches its end.
        for i in 0..1000u64 {
            let j = if i < 500 { 1000 } else { 5000 };
            w.push_slot(Slot {
                send_ns: i * 20 * MS,
                received: true,
                jitter_us: Some(j),
            });
        }
        w.finish(1000 * 20 * MS);
        let m = w.max_jitter().unwrap();
        assert!((m.value - 2750.0 / 750.0).abs() < 1e-9, "{m:?}");
    }

    #[test]
    fn series_per_second() {
        let mut w = StreamWindows::new(WindowConfig::default());
        for i in 0..150u64 {
            let send = 1_000 * MS + i * 20 * MS; // starts at t = 1 s
            let received = i != 60;
            w.push_slot(Slot {
                send_ns: send,
                received,
                jitter_us: received.then_some(2000),
            });
            if received {
                w.on_arrival(send + 30 * MS, 100, 2000);
            }
        }
        w.finish(4000 * MS);
        let s = w.series();
        assert_eq!(s[0].t, 1);
        assert_eq!(s[0].expected, 50);
        assert_eq!(s[1].lost, 1);
        assert!((s[1].loss_pct - 2.0).abs() < 1e-9);
        // Second 1 (t = 1 s): arrivals at 1.03 .. 1.99 s -> 49 packets of 100 B.
        assert!((s[0].bitrate_kbps - 49.0 * 0.8).abs() < 1e-9);
        assert_eq!(s[0].jitter_ms, 2.0);
    }
}
