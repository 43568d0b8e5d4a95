//! The process-wide clip cache behind [`VideoClip::cached`](super::VideoClip::cached).
//!
//! One slot per key; the first caller for a key encodes while holding only that key's slot, so
//! other keys encode in parallel and callers of the same key wait for its one encode. Nothing
//! iterates the map, so its order cannot reach any output.

use super::{Scene, VideoClip, VideoCodec, VideoError, VideoLayer};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// (codec, layer, scene, frames, seed): every argument of [`VideoClip::encode`].
pub type Key = (VideoCodec, VideoLayer, Scene, usize, u64);

type Slot = Arc<Mutex<Option<Arc<VideoClip>>>>;

fn slots() -> &'static Mutex<HashMap<Key, Slot>> {
    static SLOTS: OnceLock<Mutex<HashMap<Key, Slot>>> = OnceLock::new();
    SLOTS.get_or_init(Default::default)
}

/// The clip for `key`, encoded on first use.
pub fn get_or_encode(key: Key) -> Result<Arc<VideoClip>, VideoError> {
    let slot = slots()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key)
        .or_default()
        .clone();
    // A panic while encoding leaves None in the slot: the next caller encodes again.
    let mut clip = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(c) = clip.as_ref() {
        return Ok(c.clone());
    }
    let (codec, layer, scene, frames, seed) = key;
    let c = Arc::new(VideoClip::encode(codec, layer, scene, frames, seed)?);
    *clip = Some(c.clone());
    Ok(c)
}
