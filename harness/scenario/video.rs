//! A client's video settings as the scenario gives them: `video: { codec, resolution, fps,
//! bitrate, nack, decode, adaptation }` on a participant (used in calls with `video: true`).

use super::de::Spanned;
use super::error::{ErrorKind, ScenarioError};
use super::load::Context;
use super::raw_client::{RawVideo, VideoCodecText};
use crate::agent::video::{VideoCodec, VideoLayer};

/// Smallest and largest picture a scenario may ask for.
pub const MIN_RESOLUTION: (u32, u32) = (160, 90);
pub const MAX_RESOLUTION: (u32, u32) = (1920, 1080);
/// Bitrate bounds, bit/s.
pub const MIN_VIDEO_BPS: u64 = 50_000;
pub const MAX_VIDEO_BPS: u64 = 4_000_000;

/// A client's video: what its camera encoder sends, and whether it asks for retransmissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoSettings {
    pub codec: VideoCodec,
    pub layer: VideoLayer,
    pub nack: bool,
    /// Decode what it receives to pixels.
    pub decode: bool,
    /// Step through the layer ladder as the bandwidth estimate moves
    /// ([`crate::agent::video_rtp::ladder`]); false: always the configured layer.
    pub adaptation: bool,
}

impl Default for VideoSettings {
    fn default() -> Self {
        VideoSettings {
            codec: VideoCodec::Vp8,
            layer: VideoLayer {
                width: 640,
                height: 360,
                fps: 30,
                bitrate_bps: 600_000,
            },
            nack: true,
            decode: false,
            adaptation: true,
        }
    }
}

/// Reads `WIDTHxHEIGHT`.
pub fn parse_resolution(text: &str) -> Option<(u32, u32)> {
    let (w, h) = text.trim().split_once(['x', 'X'])?;
    Some((w.trim().parse().ok()?, h.trim().parse().ok()?))
}

impl Context {
    /// The participant's video settings; each mistake at its field.
    pub(super) fn video(&mut self, v: &Spanned<RawVideo>) -> Option<VideoSettings> {
        let d = VideoSettings::default();
        let r = &v.value;
        let mut ok = true;
        let mut out = VideoSettings {
            codec: match r.codec.as_ref().map(|c| c.value) {
                Some(VideoCodecText::H264) => VideoCodec::H264,
                Some(VideoCodecText::Vp8) | None => d.codec,
            },
            nack: r.nack.as_ref().is_none_or(|n| n.value),
            decode: r.decode.as_ref().is_some_and(|d| d.value),
            adaptation: r.adaptation.as_ref().is_none_or(|a| a.value),
            ..d
        };
        if let Some(res) = &r.resolution {
            let (lo, hi) = (MIN_RESOLUTION, MAX_RESOLUTION);
            match parse_resolution(&res.value) {
                Some((w, h))
                    if (lo.0..=hi.0).contains(&w)
                        && (lo.1..=hi.1).contains(&h)
                        && w % 2 == 0
                        && h % 2 == 0 =>
                {
                    out.layer.width = w;
                    out.layer.height = h;
                }
                _ => {
                    self.push(
                        ScenarioError::at(
                            ErrorKind::BadValue,
                            &res.mark,
                            &res.path,
                            "a picture size the encoder cannot make",
                        )
                        .expected(format!(
                            "WIDTHxHEIGHT in even numbers, {}x{} to {}x{}, like 640x360",
                            lo.0, lo.1, hi.0, hi.1
                        ))
                        .found(format!("`{}`", res.value)),
                    );
                    ok = false;
                }
            }
        }
        if let Some(f) = &r.fps {
            if (1..=60).contains(&f.value) {
                out.layer.fps = f.value;
            } else {
                self.push(
                    ScenarioError::at(ErrorKind::BadValue, &f.mark, &f.path, "a frame rate")
                        .expected("1 to 60 frames per second")
                        .found(f.value.to_string()),
                );
                ok = false;
            }
        }
        if let Some(b) = &r.bitrate {
            let bps = b.value.0.bits_per_sec();
            if (MIN_VIDEO_BPS..=MAX_VIDEO_BPS).contains(&bps) {
                out.layer.bitrate_bps = bps as u32;
            } else {
                self.push(
                    ScenarioError::at(
                        ErrorKind::BadValue,
                        &b.mark,
                        &b.path,
                        "a video bitrate the encoder cannot hold",
                    )
                    .expected("50kbit to 4Mbit")
                    .found(b.value.0.to_string()),
                );
                ok = false;
            }
        }
        ok.then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_as_written() {
        assert_eq!(parse_resolution("640x360"), Some((640, 360)));
        assert_eq!(parse_resolution(" 1280X720 "), Some((1280, 720)));
        assert_eq!(parse_resolution("640"), None);
        assert_eq!(parse_resolution("axb"), None);
    }
}
