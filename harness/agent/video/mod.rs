//! Placeholder for the video codec layer (replaced by the codec branch at merge).

/// A video codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoCodec {
    Vp8,
    H264,
}

/// One encoding's size, rate and bitrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VideoLayer {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub bitrate_bps: u32,
}
