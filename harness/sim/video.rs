//! Video in the simulation: each video client's encoded clip, built once per codec, layer and
//! scene, and shared by the process ([`VideoClip::cached`]).

use super::SimError;
use crate::agent::video::{Scene, VideoClip};
use crate::agent::video_rtp::send::{EncodedVideo, SharedClip};
use crate::scenario::video::VideoSettings;
use std::sync::Arc;

/// Seconds of camera in a clip: the loop the sender plays (one keyframe a loop).
pub const VIDEO_CLIP_S: u32 = 10;
/// The synthetic camera's seed: every client films the same moving scene.
const CAMERA_SEED: u64 = 1;

/// The encoded clip a client with `settings` sends (black frames when its camera is covered).
pub(super) fn clip_for(
    settings: &VideoSettings,
    black: bool,
) -> Result<Arc<dyn EncodedVideo>, SimError> {
    let scene = if black { Scene::Black } else { Scene::Moving };
    let frames = (settings.layer.fps * VIDEO_CLIP_S) as usize;
    let clip = VideoClip::cached(settings.codec, settings.layer, scene, frames, CAMERA_SEED)
        .map_err(|e| SimError::Video(format!("encoding the video clip: {e}")))?;
    Ok(Arc::new(SharedClip(clip)))
}
