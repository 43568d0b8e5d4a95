//! When RTCP reports go out: a randomised interval, as RFC 3550 section 6.3.1 asks, wrapped
//! around rtc 0.21's own report generators.
//!
//! rtc's `SenderReportInterceptor` and `ReceiverReportInterceptor` fire every `interval` (1 s)
//! exactly, each timer started by the first RTP packet it sees, and the interval cannot be
//! randomised. The sender's timer starts when its first packet leaves, the receiver's when that
//! packet arrives, so every Receiver Report leaves one first-packet delay after the Sender Report
//! it should echo was sent. On a jittery path that SR has arrived only if its delay was shorter
//! than the first packet's: the RR echoes the SRs that came early and repeats the previous one
//! for those that came late, and RTT (`A - LSR - DLSR`) comes out low by up to half the
//! jitter's standard deviation (an eighth of the range of a uniform jitter), for the whole call.
//! The fixed phase also lines reports up with other periodic traffic: on a full drop-tail queue
//! they meet it at the same point of its cycle every second, and are lost (or kept) together.
//! A randomised interval (RFC 3550 6.3.1: the computed interval times a uniform factor in
//! [0.5, 1.5]) keeps the timers from locking together, so the SR an RR echoes is the latest one
//! at an instant unrelated to its delay.
//!
//! [`ScheduledReports`] wraps a stock generator built with a zero interval (so it is due whenever
//! it is asked), passes every packet through it, and runs its timer only when our
//! [`RtcpSchedule`] says so; the chain sees our deadline, never the inner one.
//!
//! The nominal interval, [`REPORT_INTERVAL`], is 1 s. For two participants RFC 3550's
//! bandwidth-based interval (5 % of an Opus call's ~100 kbit/s shared by 2 members, ~100-byte
//! compound packets) is about 0.3 s, below its recommended 5 s minimum; RTP/AVPF (RFC 4585), the
//! profile WebRTC uses, lifts that minimum, and clients pick a fixed interval instead. We keep
//! the stack's own 1 s, so the report rate, RTCP bandwidth and number of RTT samples are what
//! they were; only their timing changes. There is no timer reconsideration (RFC 3550 6.3.3):
//! with a fixed membership of two it has nothing to reconsider, and without it the
//! `1 / (e - 3/2)` compensation of appendix A.7 (which offsets reconsideration's lengthening of
//! the mean interval: with both and two fixed members the mean comes back to 1.000 x nominal)
//! must not be applied either, so the mean interval is exactly the nominal.
//!
//! ```
//! use callharness::agent::rtcp_schedule::RtcpSchedule;
//! use std::time::Duration;
//! let mut s = RtcpSchedule::new(Duration::from_secs(1), 7);
//! let d = s.next_interval();
//! assert!(d >= Duration::from_millis(500) && d < Duration::from_millis(1500));
//! ```

use crate::net::rng::{link_seed, unit_f64};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use rtc::interceptor::{
    Interceptor, ReceiverReportBuilder, Registry, SenderReportBuilder, Slot, StreamInfo,
    TaggedPacket,
};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use std::time::{Duration, Instant};

/// The nominal interval between one generator's reports (the stack's default; see the module
/// docs for why).
pub const REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// Randomised report intervals: each is the nominal interval times a uniform factor in
/// [0.5, 1.5), from a seeded generator (the same seed gives the same intervals).
#[derive(Debug, Clone)]
pub struct RtcpSchedule {
    nominal_ns: f64,
    rng: Xoshiro256PlusPlus,
}

impl RtcpSchedule {
    /// A schedule around `nominal` whose randomness comes from `seed`.
    pub fn new(nominal: Duration, seed: u64) -> RtcpSchedule {
        RtcpSchedule {
            nominal_ns: nominal.as_nanos() as f64,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// The time from one report (or from the first packet) to the next: nominal × U[0.5, 1.5).
    pub fn next_interval(&mut self) -> Duration {
        let factor = 0.5 + unit_f64(&mut self.rng);
        Duration::from_nanos((self.nominal_ns * factor) as u64)
    }
}

/// A report generator whose timer runs on an [`RtcpSchedule`]; see the module docs.
///
/// The inner interceptor must only generate reports from `handle_timeout`, and must be due
/// whenever asked once armed (a stock generator built with a zero interval): its own deadline
/// is read once, as the instant it was armed (its first packet), and then ignored.
pub struct ScheduledReports<I> {
    inner: I,
    schedule: RtcpSchedule,
    /// Our next report; None until the inner generator has seen its first packet.
    next: Option<Instant>,
    /// What the generator wrote when its timer ran, reports in SSRC order (see
    /// [`report_ssrc`]).
    due: std::collections::VecDeque<TaggedPacket>,
}

/// The SSRC a generated report is about (the sender's in an SR, the first source's in an RR),
/// for putting the reports of one round in a fixed order: rtc's generators keep their streams
/// in a `HashMap` and write one report per stream in its (per-process random) order, and with
/// audio and video the order decides which report meets a queue first.
fn report_ssrc(msg: &TaggedPacket) -> Option<u32> {
    let rtc::interceptor::Packet::Rtcp(packets) = &msg.message.packet else {
        return None;
    };
    let any = packets.first()?.as_any();
    if let Some(sr) = any.downcast_ref::<rtc::rtcp::sender_report::SenderReport>() {
        return Some(sr.ssrc);
    }
    any.downcast_ref::<rtc::rtcp::receiver_report::ReceiverReport>()
        .and_then(|rr| rr.reports.first().map(|r| r.ssrc))
}

impl<I: Interceptor> ScheduledReports<I> {
    /// Wraps `inner` (built with a zero interval) to report on `schedule`.
    pub fn new(inner: I, schedule: RtcpSchedule) -> ScheduledReports<I> {
        ScheduledReports {
            inner,
            schedule,
            next: None,
            due: std::collections::VecDeque::new(),
        }
    }

    /// Starts our timer when the inner one has started: the first report is one randomised
    /// interval after the packet that armed it.
    fn arm(&mut self) {
        if self.next.is_none() {
            if let Some(armed) = self.inner.poll_timeout() {
                self.next = Some(armed + self.schedule.next_interval());
            }
        }
    }
}

/// The registry `rtc`'s `configure_rtcp_reports` builds (SR and RR generators at their slots),
/// with each generator on its own randomised schedule; the two seeds are derived from `seed`.
pub fn configure_scheduled_reports(registry: Registry, seed: u64) -> Registry {
    let schedule = |label| RtcpSchedule::new(REPORT_INTERVAL, link_seed(seed, label));
    registry
        .with(
            Slot::ReceiverReport,
            ScheduledReports::new(
                ReceiverReportBuilder::new()
                    .with_interval(Duration::ZERO)
                    .build(),
                schedule("rr"),
            ),
        )
        .with(
            Slot::SenderReport,
            ScheduledReports::new(
                SenderReportBuilder::new()
                    .with_interval(Duration::ZERO)
                    .build(),
                schedule("sr"),
            ),
        )
}

impl<I: Interceptor> Protocol<TaggedPacket, TaggedPacket, ()> for ScheduledReports<I> {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.inner.handle_read(msg)?;
        self.arm();
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.inner.poll_read()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.inner.handle_write(msg)?;
        self.arm();
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.due.pop_front().or_else(|| self.inner.poll_write())
    }

    fn handle_event(&mut self, evt: ()) -> Result<(), Self::Error> {
        self.inner.handle_event(evt)
    }

    fn poll_event(&mut self) -> Option<Self::Eout> {
        self.inner.poll_event()
    }

    /// Lets the inner generator report only when our schedule is due, then draws the next
    /// interval from now (a late call does not bunch reports up).
    fn handle_timeout(&mut self, now: Instant) -> Result<(), Self::Error> {
        self.arm();
        match self.next {
            Some(due) if now >= due => {
                self.next = Some(now + self.schedule.next_interval());
                self.inner.handle_timeout(now)?;
                let mut round: Vec<TaggedPacket> =
                    std::iter::from_fn(|| self.inner.poll_write()).collect();
                // Stable: what passed through keeps its order, ahead of the reports.
                round.sort_by_key(report_ssrc);
                self.due.extend(round);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn poll_timeout(&mut self) -> Option<Self::Time> {
        self.arm();
        self.next
    }

    fn close(&mut self) -> Result<(), Self::Error> {
        self.inner.close()
    }
}

impl<I: Interceptor> Interceptor for ScheduledReports<I> {
    fn bind_local_stream(&mut self, info: &StreamInfo) {
        self.inner.bind_local_stream(info);
    }

    fn unbind_local_stream(&mut self, info: &StreamInfo) {
        self.inner.unbind_local_stream(info);
    }

    fn bind_remote_stream(&mut self, info: &StreamInfo) {
        self.inner.bind_remote_stream(info);
    }

    fn unbind_remote_stream(&mut self, info: &StreamInfo) {
        self.inner.unbind_remote_stream(info);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::{AttributedPacket, Packet};
    use rtc::rtcp::sender_report::SenderReport;
    use rtc::shared::TransportContext;

    const NOMINAL: Duration = Duration::from_secs(1);

    #[test]
    fn intervals_stay_within_half_and_one_and_a_half_times_nominal_and_average_to_it() {
        const N: u32 = 10_000;
        let mut s = RtcpSchedule::new(NOMINAL, 42);
        let draws: Vec<Duration> = (0..N).map(|_| s.next_interval()).collect();
        let (lo, hi) = (NOMINAL / 2, NOMINAL * 3 / 2);
        assert!(
            draws.iter().all(|d| *d >= lo && *d < hi),
            "outside [0.5, 1.5)"
        );
        // The whole range is used: 10,000 uniform draws all miss a 1 % band at either end with
        // probability 0.99^10000, about 2e-44.
        assert!(draws.iter().any(|d| *d < lo + NOMINAL / 100));
        assert!(draws.iter().any(|d| *d >= hi - NOMINAL / 100));
        // Uniform on [0.5, 1.5) s has mean 1 s and sd 1/sqrt(12) = 0.289 s, so the mean of 10,000
        // draws has a standard error of 2.9 ms; 12 ms is over 4 standard errors (a false failure
        // about once in 30,000 seeds), and a compensated A.7 interval (mean 0.82 s) or a
        // one-sided factor would miss it by far.
        let mean_ms = draws.iter().map(|d| d.as_secs_f64()).sum::<f64>() / f64::from(N) * 1e3;
        assert!((mean_ms - 1000.0).abs() < 12.0, "mean {mean_ms} ms");
    }

    #[test]
    fn the_same_seed_gives_the_same_intervals_and_another_seed_others() {
        let run = |seed| {
            let mut s = RtcpSchedule::new(NOMINAL, seed);
            (0..100).map(|_| s.next_interval()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    fn rtp(now: Instant, seq: u16) -> TaggedPacket {
        let mut packet = rtc::rtp::packet::Packet::default();
        packet.header.ssrc = 1;
        packet.header.sequence_number = seq;
        TaggedPacket {
            now,
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtp(packet)),
        }
    }

    /// Sender Reports the wrapper has ready (RTP passing through is dropped here).
    fn reports(w: &mut ScheduledReports<rtc::interceptor::SenderReportInterceptor>) -> usize {
        let mut n = 0;
        while let Some(p) = w.poll_write() {
            if let Packet::Rtcp(ps) = &p.message.packet {
                n += ps
                    .iter()
                    .filter(|p| p.as_any().downcast_ref::<SenderReport>().is_some())
                    .count();
            }
        }
        n
    }

    #[test]
    fn the_stock_generator_reports_exactly_when_the_schedule_says() {
        let seed = 3;
        let inner = SenderReportBuilder::new()
            .with_interval(Duration::ZERO)
            .build();
        let mut w = ScheduledReports::new(inner, RtcpSchedule::new(NOMINAL, seed));
        w.bind_local_stream(&StreamInfo {
            ssrc: 1,
            clock_rate: 48_000,
            ..Default::default()
        });
        // An opaque anchor for the test's instants (all times below are relative to it).
        let t0 = Instant::now();
        assert_eq!(w.poll_timeout(), None, "no timer before the first packet");
        w.handle_write(rtp(t0, 0)).unwrap();
        let mut expected = RtcpSchedule::new(NOMINAL, seed);
        let mut due = t0 + expected.next_interval();
        let (mut t, mut seq) = (t0, 0);
        for _ in 0..20 {
            assert_eq!(w.poll_timeout(), Some(due));
            // Media keeps flowing every 20 ms and the stack runs timers at each packet; before
            // the deadline nothing is reported, though the inner generator is always due.
            t += Duration::from_millis(20);
            while t < due {
                seq += 1;
                w.handle_write(rtp(t, seq)).unwrap();
                w.handle_timeout(t).unwrap();
                t += Duration::from_millis(20);
            }
            assert_eq!(reports(&mut w), 0);
            w.handle_timeout(due).unwrap();
            assert_eq!(reports(&mut w), 1, "one report at the deadline");
            w.handle_timeout(due).unwrap();
            assert_eq!(reports(&mut w), 0, "and only one");
            due += expected.next_interval();
        }
    }
}
