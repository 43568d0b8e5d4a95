//! CoDel (RFC 8289), the queue discipline [`crate::net::queue::Bottleneck`] can run: it drops
//! packets at dequeue once the queueing delay has stayed above `target` for an `interval`, at
//! a rate that rises with the square root of the drop count, to keep the standing queue short.
//! Tested through the bottleneck (`queue.rs`).

use crate::net::Nanos;
use crate::units::Dur;

/// CoDel's control state (RFC 8289, section 5), run once per packet at its dequeue time.
#[derive(Debug, Clone)]
pub(crate) struct Codel {
    target: Nanos,
    interval: Nanos,
    first_above: Nanos,
    drop_next: Nanos,
    count: u32,
    last_count: u32,
    dropping: bool,
}

/// CoDel's "maxpacket": below one full-size packet of backlog it never drops.
const CODEL_MTU: u64 = 1500;

impl Codel {
    /// CoDel with the given target delay and interval.
    pub(crate) fn new(target: Dur, interval: Dur) -> Codel {
        Codel {
            target: target.as_nanos(),
            interval: interval.as_nanos(),
            first_above: 0,
            drop_next: 0,
            count: 0,
            last_count: 0,
            dropping: false,
        }
    }

    fn control_law(&self, t: Nanos) -> Nanos {
        t + (self.interval as f64 / f64::from(self.count.max(1)).sqrt()) as Nanos
    }

    fn ok_to_drop(&mut self, now: Nanos, sojourn: Nanos, backlog: u64) -> bool {
        if sojourn < self.target || backlog <= CODEL_MTU {
            self.first_above = 0;
            return false;
        }
        if self.first_above == 0 {
            self.first_above = now + self.interval;
            return false;
        }
        now >= self.first_above
    }

    /// Whether the packet dequeued at `now` after `sojourn` ns, with `backlog` bytes queued
    /// ahead of it, is dropped.
    pub(crate) fn should_drop(&mut self, now: Nanos, sojourn: Nanos, backlog: u64) -> bool {
        let ok = self.ok_to_drop(now, sojourn, backlog);
        if self.dropping {
            if !ok {
                self.dropping = false;
                return false;
            }
            if now >= self.drop_next {
                self.count += 1;
                self.drop_next = self.control_law(self.drop_next);
                return true;
            }
            false
        } else if ok {
            self.dropping = true;
            let delta = self.count.wrapping_sub(self.last_count);
            self.count = if delta > 1 && now.saturating_sub(self.drop_next) < 16 * self.interval {
                delta
            } else {
                1
            };
            self.drop_next = self.control_law(now);
            self.last_count = self.count;
            true
        } else {
            false
        }
    }
}
