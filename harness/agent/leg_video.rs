//! A leg's video: sending the frames that are due through the pacer (and the initial probe and
//! step-ups to the estimator), asking for keyframes, counting the stack's retransmissions, and
//! what the measurement reads of both directions.

use super::{video_rtp, video_sender, CallLeg, FailureClass};

impl CallLeg {
    /// Sends the video frames due by `now`, and a keyframe request when one is due.
    pub(super) fn send_video_due(&mut self, now: u64) {
        if self.sending {
            if let Some(v) = self.video_send.as_mut() {
                let bwe = self.bwe.as_ref();
                if let Err(e) = v.produce(now, || bwe.map(|b| b.stats())) {
                    self.fail(now, FailureClass::StackError, e);
                    return;
                }
                while let Some(p) = v.pop(now) {
                    if let Err(e) =
                        self.peer
                            .send_video(now, p.seq, p.timestamp, p.marker, p.payload)
                    {
                        self.fail(now, FailureClass::StackError, e.to_string());
                        return;
                    }
                }
                if let Some(b) = &self.bwe {
                    if let Some((from, to)) = v.take_probe() {
                        b.probe(from, to);
                    }
                    if v.take_step_up() {
                        b.expect_fast_rate_change();
                    }
                }
            }
        }
        if !self.closed {
            let rtt = self.rtt_ns();
            if let Some(v) = self.video_recv.as_mut() {
                if v.take_pli(now, rtt) {
                    if let Some(ssrc) = v.remote_ssrc {
                        if let Err(e) = self.peer.send_pli(now, ssrc) {
                            self.stack_errors += 1;
                            self.first_stack_error.get_or_insert_with(|| e.to_string());
                        }
                    }
                }
            }
        }
    }

    /// A video packet left: a sequence number at or below the highest sent is the stack
    /// answering a NACK.
    pub(super) fn note_video_sent(&mut self, seq: u16) {
        match self.video_highest_sent {
            Some(h) if seq.wrapping_sub(h) == 0 || seq.wrapping_sub(h) >= 0x8000 => {
                self.video_retransmitted += 1;
            }
            _ => self.video_highest_sent = Some(seq),
        }
    }

    /// Why we send no video in this video call (what the client says, what the harness saw).
    pub fn no_video(&self) -> Option<&(String, String)> {
        self.cfg.video.as_ref().and_then(|v| v.no_video.as_ref())
    }

    /// Our video's send side (None: we send none).
    pub fn video_sender(&self) -> Option<&video_sender::VideoSender> {
        self.video_send.as_ref()
    }

    /// The far end's video as we receive it (None: an audio call).
    pub fn video_receiver(&self) -> Option<&video_rtp::receive::VideoReceivePipeline> {
        self.video_recv.as_ref()
    }

    /// Ends the video receiver's measurement at `end` (ns).
    pub fn finish_video(&mut self, end: u64) {
        if let Some(v) = self.video_recv.as_mut() {
            v.finish(end);
        }
    }
}
