//! The jitter buffer's settings ([`JitterBufferConfig`]), as a scenario's `jitter_buffer:` and
//! the sender's frame duration set them.

/// How the buffer's delay is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JitterBufferMode {
    /// Fixed delay from the first packet (the initial delay, for the whole stream).
    Fixed,
    /// Target delay follows the delay variation (see the module docs).
    #[default]
    Adaptive,
}

impl JitterBufferMode {
    /// `fixed` or `adaptive`, as scenarios and reports write it.
    pub fn name(self) -> &'static str {
        match self {
            JitterBufferMode::Fixed => "fixed",
            JitterBufferMode::Adaptive => "adaptive",
        }
    }
}

/// Jitter-buffer settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JitterBufferConfig {
    /// Fixed or adaptive (default adaptive).
    pub mode: JitterBufferMode,
    /// Delay from the first packet's arrival to the first tick, ns (40 ms); the whole stream's
    /// delay in fixed mode.
    pub initial_delay_ns: u64,
    /// Adaptive: smallest headroom kept, ns (20 ms).
    pub min_delay_ns: u64,
    /// Adaptive: largest headroom grown to, ns (500 ms).
    pub max_delay_ns: u64,
    /// Adaptive: quantile of recent relative delay to cover (0.97).
    pub quantile: f64,
    /// Adaptive: packets of delay history (250, 5 s of 20 ms frames).
    pub history: usize,
    /// Adaptive: playout time between stretch/shrink decisions, ns (200 ms).
    pub adjust_interval_ns: u64,
    /// Frame duration and tick interval, ns (20 ms).
    pub frame_ns: u64,
    /// RTP timestamp units per frame (960 at 48 kHz).
    pub samples_per_frame: u32,
    /// Payload buffers in the ring (frames of look-ahead); raised to cover `max_delay_ns` plus
    /// half a second.
    pub capacity_frames: usize,
}

impl Default for JitterBufferConfig {
    fn default() -> Self {
        JitterBufferConfig {
            mode: JitterBufferMode::Adaptive,
            initial_delay_ns: 40_000_000,
            min_delay_ns: 20_000_000,
            max_delay_ns: 500_000_000,
            quantile: 0.97,
            history: 250,
            adjust_interval_ns: 200_000_000,
            frame_ns: 20_000_000,
            samples_per_frame: 960,
            capacity_frames: 50,
        }
    }
}

impl JitterBufferConfig {
    /// A fixed buffer of `delay_ns`.
    pub fn fixed(delay_ns: u64) -> Self {
        JitterBufferConfig {
            mode: JitterBufferMode::Fixed,
            initial_delay_ns: delay_ns,
            ..Self::default()
        }
    }
}
