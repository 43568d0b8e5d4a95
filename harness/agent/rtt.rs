//! Round-trip time from RTCP, RFC 3550 section 6.4.1, measured inside the `rtc` interceptor chain.
//!
//! rtc 0.21 reports `roundTripTime` as 0 and does not surface RTCP to the application, so this
//! interceptor does both halves itself:
//! - on the way out it rewrites each Sender Report's NTP timestamp to one derived from simulated
//!   time (the stock SR interceptor uses the wall clock, which would make reports differ from run
//!   to run and would not share a clock with our arrival times);
//! - on the way in it reads every reception report block (in an RR or inside an SR) about our own
//!   SSRC and computes `RTT = A - LSR - DLSR`, with `A` the arrival time in the same NTP clock.
//!
//! ```ignore
//! let (interceptor, log) = RtcpRtt::new(base_instant, our_ssrc);
//! let registry = registry.with(Slot::Custom(500), interceptor);
//! // ... later: log.lock().unwrap().samples()
//! ```

use crate::metrics::rtt::{ntp_from_nanos, ntp_middle32, rtt_from_report};
use rtc::interceptor::{Interceptor, Packet, StreamInfo, TaggedPacket};
use rtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::reception_report::ReceptionReport;
use rtc::rtcp::sender_report::SenderReport;
use rtc::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// RTT samples measured from RTCP, in arrival order, and the keyframe requests for our video.
#[derive(Debug, Default, Clone)]
pub struct RttLog {
    /// (arrival time in ns since simulation start, RTT in ms).
    pub samples: Vec<(u64, f64)>,
    /// PLI and FIR packets that asked for a keyframe of our video (rtc routes RTCP to the
    /// tracks it receives, not to the ones it sends, so the application would never see them).
    pub keyframe_requests: u32,
}

/// The interceptor; see the module docs.
pub struct RtcpRtt {
    base: Instant,
    local_ssrc: u32,
    video_ssrc: Option<u32>,
    twcc: Option<super::congestion::TwccCoverage>,
    log: Arc<Mutex<RttLog>>,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl RtcpRtt {
    /// An interceptor for a connection whose simulated time zero is `base` and whose outgoing
    /// audio uses `local_ssrc`; returns it with the shared log it writes RTT samples to.
    pub fn new(base: Instant, local_ssrc: u32) -> (Self, Arc<Mutex<RttLog>>) {
        let log = Arc::new(Mutex::new(RttLog::default()));
        (
            RtcpRtt {
                base,
                local_ssrc,
                video_ssrc: None,
                twcc: None,
                log: log.clone(),
                read_queue: VecDeque::new(),
                write_queue: VecDeque::new(),
            },
            log,
        )
    }

    /// Also counts keyframe requests (PLI, FIR) for our video `ssrc`.
    pub fn with_video(mut self, ssrc: Option<u32>) -> Self {
        self.video_ssrc = ssrc;
        self
    }

    /// Also notes which transport-wide sequence numbers each incoming feedback covered (see
    /// [`super::congestion::TwccCoverage`]).
    pub fn with_twcc_coverage(mut self, twcc: Option<super::congestion::TwccCoverage>) -> Self {
        self.twcc = twcc;
        self
    }

    fn nanos(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.base).as_nanos() as u64
    }

    fn on_reports(&self, now_ns: u64, reports: &[ReceptionReport]) {
        let arrival = ntp_middle32(ntp_from_nanos(now_ns));
        for r in reports.iter().filter(|r| r.ssrc == self.local_ssrc) {
            if let Some(ms) = rtt_from_report(arrival, r.last_sender_report, r.delay) {
                if let Ok(mut log) = self.log.lock() {
                    log.samples.push((now_ns, ms));
                }
            }
        }
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for RtcpRtt {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            let now_ns = self.nanos(msg.now);
            for p in packets {
                let any = p.as_any();
                if let Some(rr) = any.downcast_ref::<ReceiverReport>() {
                    self.on_reports(now_ns, &rr.reports);
                } else if let Some(sr) = any.downcast_ref::<SenderReport>() {
                    self.on_reports(now_ns, &sr.reports);
                } else if let (Some(cc), Some(t)) =
                    (any.downcast_ref::<TransportLayerCc>(), &self.twcc)
                {
                    t.cover(cc.base_sequence_number, cc.packet_status_count);
                } else if let Some(v) = self.video_ssrc {
                    let asks = any
                        .downcast_ref::<PictureLossIndication>()
                        .is_some_and(|p| p.media_ssrc == v)
                        || any
                            .downcast_ref::<FullIntraRequest>()
                            .is_some_and(|f| f.fir.iter().any(|e| e.ssrc == v));
                    if asks {
                        if let Ok(mut log) = self.log.lock() {
                            log.keyframe_requests += 1;
                        }
                    }
                }
            }
        }
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        let ntp = ntp_from_nanos(self.nanos(msg.now));
        if let Packet::Rtcp(packets) = &mut msg.message.packet {
            for p in packets.iter_mut() {
                if let Some(sr) = p.as_any().downcast_ref::<SenderReport>() {
                    let mut sr = sr.clone();
                    sr.ntp_time = ntp;
                    *p = Box::new(sr);
                }
            }
        }
        self.write_queue.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write_queue.pop_front()
    }

    fn handle_timeout(&mut self, _now: Instant) -> Result<(), Self::Error> {
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Self::Time> {
        None
    }
}

impl Interceptor for RtcpRtt {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}
    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}
    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
