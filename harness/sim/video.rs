//! Video in the simulation: each video client's encoded clip, built once per codec and layer.

use super::SimError;
use crate::agent::video_rtp::send::EncodedVideo;
use crate::scenario::video::VideoSettings;
use std::sync::Arc;

/// The encoded clip a client with `settings` sends.
pub(super) fn clip_for(
    settings: &VideoSettings,
    black: bool,
) -> Result<Arc<dyn EncodedVideo>, SimError> {
    let _ = black;
    Err(SimError::Codec(format!(
        "video encoding ({:?} {}x{}) is not built yet: it lands with the codec layer of issue 17",
        settings.codec, settings.layer.width, settings.layer.height
    )))
}
