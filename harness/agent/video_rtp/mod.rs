//! Video over RTP: payload formats, frame assembly, freezes, and the send and receive pipelines
//! of a video track. The codecs (and the clips they encode) are in [`super::video`]; everything
//! the receiver reports is computed here from what arrived (rtc 0.21's own video statistics are
//! zeros).

pub mod assemble;
pub mod depacketize;
pub mod freeze;
pub mod ladder;
pub mod pacer;
pub mod packetize;
pub mod pixels;
pub mod receive;
pub mod send;
