//! H.264 through OpenH264 (the `openh264` crate, built from source; with `nasm` on the build
//! machine its assembly is in, 2-3x faster).
//!
//! The encoder is set up as a WebRTC sender's: constrained baseline (OpenH264's baseline
//! profile has no B-frames and CAVLC only), camera real-time usage, bitrate rate control at the
//! layer's bitrate and frame rate, one thread (deterministic), no frame skipping, no periodic or
//! scene-change IDRs: an IDR only when asked for one. Output is Annex B (start codes), one
//! access unit per frame, SPS and PPS in front of every IDR.

use super::source::I420;
use super::{Picture, VideoCodec, VideoError, VideoLayer};
use openh264::decoder::Decoder;
use openh264::encoder::{
    BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, Profile, QpRange,
    RateControlMode, UsageType,
};
use openh264::formats::{YUVSlices, YUVSource};
use openh264::{OpenH264API, Timestamp};

/// A live H.264 encoder for one layer.
pub struct H264Encoder {
    enc: Encoder,
    fps: u32,
    frame: u64,
}

impl H264Encoder {
    /// `qp`: a fixed quantizer (0-51) instead of rate control's choice, for keyframe
    /// alternates matched to the stream they stand in for.
    pub fn new(layer: VideoLayer, qp: Option<u8>) -> Result<Self, VideoError> {
        let mut config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(layer.bitrate_bps))
            .max_frame_rate(FrameRate::from_hz(layer.fps as f32))
            .rate_control_mode(RateControlMode::Bitrate)
            .usage_type(UsageType::CameraVideoRealTime)
            .profile(Profile::Baseline)
            .skip_frames(false)
            .scene_change_detect(false)
            .intra_frame_period(IntraFramePeriod::from_num_frames(0))
            .num_threads(1);
        if let Some(q) = qp {
            let q = q.min(51);
            config = config.qp(QpRange::new(q, q));
        }
        let enc = Encoder::with_api_config(OpenH264API::from_source(), config).map_err(|e| {
            VideoError::Init {
                codec: VideoCodec::H264,
                detail: e.to_string(),
            }
        })?;
        Ok(H264Encoder {
            enc,
            fps: layer.fps,
            frame: 0,
        })
    }

    /// Encodes the next frame (an IDR when `keyframe`); returns the access unit and whether it
    /// is an IDR. A frame the encoder skipped is an error: every frame must be produced.
    pub fn encode(&mut self, pic: &I420, keyframe: bool) -> Result<(Vec<u8>, bool), VideoError> {
        let n = self.frame;
        self.frame += 1;
        let err = |detail: String| VideoError::Encode {
            codec: VideoCodec::H264,
            frame: n,
            detail,
        };
        if keyframe {
            self.enc.force_intra_frame();
        }
        let src = YUVSlices::new(
            (&pic.y, &pic.u, &pic.v),
            (pic.width, pic.height),
            (pic.width, pic.width / 2, pic.width / 2),
        );
        let ts = Timestamp::from_millis(n * 1000 / u64::from(self.fps.max(1)));
        let bs = self
            .enc
            .encode_at(&src, ts)
            .map_err(|e| err(e.to_string()))?;
        let kind = bs.frame_type();
        let data = bs.to_vec();
        match kind {
            FrameType::IDR | FrameType::I | FrameType::P if !data.is_empty() => {
                Ok((data, kind == FrameType::IDR))
            }
            other => Err(err(format!(
                "the encoder produced no picture (frame type {other:?}, {} bytes); \
                 frame skipping is off, so this should not happen",
                data.len()
            ))),
        }
    }
}

/// An OpenH264 decoder handing back the luma and chroma planes, unpadded.
pub struct H264Decoder {
    dec: Decoder,
}

impl H264Decoder {
    pub fn new() -> Result<Self, VideoError> {
        let dec = Decoder::with_api_config(
            OpenH264API::from_source(),
            openh264::decoder::DecoderConfig::new(),
        )
        .map_err(|e| VideoError::Init {
            codec: VideoCodec::H264,
            detail: e.to_string(),
        })?;
        Ok(H264Decoder { dec })
    }

    pub fn decode(&mut self, data: &[u8]) -> Result<Option<Picture>, VideoError> {
        let err = |detail: String| VideoError::Decode {
            codec: VideoCodec::H264,
            detail,
        };
        if !(data.starts_with(&[0, 0, 1]) || data.starts_with(&[0, 0, 0, 1])) {
            return Err(err(format!(
                "not an Annex B access unit: it must start with a start code 00 00 01, found {:02x?}",
                &data[..data.len().min(4)]
            )));
        }
        let Some(yuv) = self.dec.decode(data).map_err(|e| err(e.to_string()))? else {
            return Ok(None);
        };
        let (w, h) = yuv.dimensions();
        let (sy, su, sv) = yuv.strides();
        let plane = |src: &[u8], stride: usize, pw: usize, ph: usize| -> Vec<u8> {
            let mut out = Vec::with_capacity(pw * ph);
            for r in 0..ph {
                out.extend_from_slice(&src[r * stride..r * stride + pw]);
            }
            out
        };
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        Ok(Some(Picture {
            width: w as u32,
            height: h as u32,
            y: plane(yuv.y(), sy, w, h),
            u: plane(yuv.u(), su, cw, ch),
            v: plane(yuv.v(), sv, cw, ch),
        }))
    }
}
