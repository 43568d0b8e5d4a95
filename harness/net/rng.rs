//! Seeds and random numbers for the emulator: one fast seeded generator per link, with each
//! link's seed derived from the run's seed and the link's name by a fixed hash (never std's
//! randomly keyed hasher), so adding a host does not change the other links' random streams.
//!
//! ```
//! use callharness::net::rng::link_seed;
//! assert_eq!(link_seed(42, "alice.up"), link_seed(42, "alice.up"));
//! assert_ne!(link_seed(42, "alice.up"), link_seed(42, "alice.down"));
//! ```

use rand::RngCore;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The seed for the link named `name` in a run seeded with `seed`: FNV-1a of the name mixed
/// with the seed by SplitMix64's finaliser.
pub fn link_seed(seed: u64, name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix64(seed ^ splitmix64(h))
}

/// SplitMix64's output function: a fixed bijective mix of 64 bits.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform float in [0, 1) from the top 53 bits of one draw.
#[inline]
pub fn unit_f64(rng: &mut Xoshiro256PlusPlus) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// True with probability `p` (0..=1); draws nothing when `p` is 0 or 1.
#[inline]
pub fn chance(rng: &mut Xoshiro256PlusPlus, p: f64) -> bool {
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        unit_f64(rng) < p
    }
}
