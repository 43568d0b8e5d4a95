//! The synthetic camera: a seeded, periodic I420 picture that costs about what a camera costs to
//! code.
//!
//! [`Scene::Moving`] is a diagonal luma gradient drifting one gradient period per loop, a
//! textured box (a seeded 8-level texture) circling the picture once per loop, a slowly shifting
//! chroma wash, and a little sensor noise (a seeded table, ±2 luma levels, different every
//! frame). Everything is a function of the frame's phase `i % frames`, so the source repeats
//! exactly with period `frames` and a clip of `frames` frames loops without a seam.
//! [`Scene::Black`] is a covered camera: luma at the black level 16, chroma neutral at 128.

use super::{Scene, VideoLayer};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::f64::consts::TAU;

/// Studio-range black (BT.601), the luma of [`Scene::Black`].
pub const BLACK_LUMA: u8 = 16;
/// Neutral chroma.
const NEUTRAL_CHROMA: u8 = 128;
/// Side of the box's texture tile, pixels (the texture repeats inside a bigger box).
const TILE: usize = 32;
/// Length of the noise table; a prime, so a frame's noise is not a shifted copy of the next row's.
const NOISE_LEN: usize = 65_521;

/// One I420 picture: `y` is width x height, `u` and `v` are (width/2) x (height/2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct I420 {
    pub width: usize,
    pub height: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

/// A source with its seeded texture and noise, rendering frame `i` of a loop of `frames`.
pub struct Source {
    layer: VideoLayer,
    scene: Scene,
    frames: usize,
    texture: Vec<u8>,
    noise: Vec<i8>,
}

impl Source {
    /// `frames` is the period (at least 1); `layer` must have even, non-zero sides.
    pub fn new(layer: VideoLayer, scene: Scene, seed: u64, frames: usize) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5eed_51de_0fca_1100);
        let texture = (0..TILE * TILE)
            .map(|_| 40 + 24 * rng.gen_range(0u8..8))
            .collect();
        let noise = (0..NOISE_LEN).map(|_| rng.gen_range(-2i8..=2)).collect();
        Source {
            layer,
            scene,
            frames: frames.max(1),
            texture,
            noise,
        }
    }

    /// Frame `i` (taken modulo the period).
    pub fn frame(&self, i: usize) -> I420 {
        let (w, h) = (self.layer.width as usize, self.layer.height as usize);
        let (cw, ch) = (w / 2, h / 2);
        if self.scene == Scene::Black {
            return I420 {
                width: w,
                height: h,
                y: vec![BLACK_LUMA; w * h],
                u: vec![NEUTRAL_CHROMA; cw * ch],
                v: vec![NEUTRAL_CHROMA; cw * ch],
            };
        }
        let t = i % self.frames;
        let phase = t as f64 / self.frames as f64;
        let mut y = self.background(t);
        // The box: a fifth of the width, a quarter of the height, circling once per loop.
        let (bw, bh) = ((w / 5).max(2), (h / 4).max(2));
        let bx = ((w - bw) as f64 * (0.5 + 0.4 * (TAU * phase).cos())) as usize;
        let by = ((h - bh) as f64 * (0.5 + 0.4 * (TAU * phase).sin())) as usize;
        for r in 0..bh {
            let row = &mut y[(by + r) * w + bx..(by + r) * w + bx + bw];
            let tex = &self.texture[(r % TILE) * TILE..(r % TILE + 1) * TILE];
            for (c, px) in row.iter_mut().enumerate() {
                *px = tex[c % TILE];
            }
        }
        // Sensor noise, a different stretch of the table every frame.
        let start = t.wrapping_mul(7_919) % NOISE_LEN;
        let noise = self.noise[start..].iter().chain(self.noise.iter()).cycle();
        for (px, &n) in y.iter_mut().zip(noise) {
            *px = (i16::from(*px) + i16::from(n)).clamp(16, 235) as u8;
        }
        // Chroma: two washes drifting with the loop, the box tinted.
        let shift = (phase * cw as f64) as usize;
        let mut u = vec![0u8; cw * ch];
        let mut v = vec![0u8; cw * ch];
        let u_wave: Vec<u8> = (0..2 * cw)
            .map(|c| 108 + ((c % cw) * 40 / cw) as u8)
            .collect();
        for r in 0..ch {
            let from = shift % cw;
            u[r * cw..(r + 1) * cw].copy_from_slice(&u_wave[from..from + cw]);
            v[r * cw..(r + 1) * cw].fill(118 + (r * 20 / ch) as u8);
        }
        for r in by / 2..(by + bh) / 2 {
            u[r * cw + bx / 2..r * cw + (bx + bw) / 2].fill(90);
            v[r * cw + bx / 2..r * cw + (bx + bw) / 2].fill(170);
        }
        I420 {
            width: w,
            height: h,
            y,
            u,
            v,
        }
    }

    /// The luma gradient: a triangle wave along x + y whose period is the picture's width,
    /// shifted by `width * t / frames` pixels (so it moves a whole period per loop).
    fn background(&self, t: usize) -> Vec<u8> {
        let (w, h) = (self.layer.width as usize, self.layer.height as usize);
        let shift = t * w / self.frames;
        // One period, twice over, so that every row is a slice of it.
        let wave: Vec<u8> = (0..2 * w)
            .map(|p| {
                let p = p % w;
                let tri = if p < w / 2 { p } else { w - p };
                (48 + tri * 320 / w) as u8
            })
            .collect();
        let mut y = Vec::with_capacity(w * h);
        for r in 0..h {
            let from = (r + shift) % w;
            y.extend_from_slice(&wave[from..from + w]);
        }
        y
    }
}
