//! Video in the simulation: each video client's encoded clips, built once per codec, layer and
//! scene, and shared by the process ([`VideoClip::cached`]): the configured layer, and for a
//! client that adapts, the smaller layers of its ladder
//! ([`crate::agent::video_rtp::ladder::ladder_layers`]).

use super::SimError;
use crate::agent::video::{Scene, VideoClip};
use crate::agent::video_rtp::ladder::{ladder_layers, VideoLadder};
use crate::agent::video_rtp::send::{EncodedVideo, SharedClip};
use crate::scenario::video::VideoSettings;
use std::sync::Arc;

/// Seconds of camera in a clip: the loop the sender plays (one keyframe a loop).
pub const VIDEO_CLIP_S: u32 = 10;
/// The synthetic camera's seed: every client films the same moving scene.
const CAMERA_SEED: u64 = 1;

/// The encoded layers a client with `settings` sends (black frames when its camera is
/// covered): its ladder when it adapts, its configured layer alone when it does not.
pub(super) fn ladder_for(settings: &VideoSettings, black: bool) -> Result<VideoLadder, SimError> {
    let scene = if black { Scene::Black } else { Scene::Moving };
    let layers = if settings.adaptation {
        ladder_layers(settings.layer)
    } else {
        vec![settings.layer]
    };
    let mut clips = Vec::with_capacity(layers.len());
    for layer in layers {
        let frames = (layer.fps * VIDEO_CLIP_S) as usize;
        let clip = VideoClip::cached(settings.codec, layer, scene, frames, CAMERA_SEED)
            .map_err(|e| SimError::Video(format!("encoding the video clip {layer:?}: {e}")))?;
        clips.push(Arc::new(SharedClip(clip)) as Arc<dyn EncodedVideo>);
    }
    let top = clips.remove(0);
    Ok(VideoLadder::new(top, clips))
}
