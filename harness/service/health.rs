//! The service's parts, each up or down on its own, and what its status page says about them
//! (SVC-OUTAGE: "the status check tells 'not your problem'").
//!
//! ```
//! use callharness::service::{Service, directory::Directory, health::Part};
//! let mut svc = Service::new(Directory::default());
//! svc.set_part_up(Part::Relay, false);
//! assert!(!svc.is_up() && svc.part_is_up(Part::Signaling));
//! assert!(svc.status().headline().contains("relay"));
//! ```

use std::fmt;

/// A part of the service that can fail on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// Sign-in, presence, IM and call setup. Down: every request answers 503 and every
    /// registration is lost.
    Signaling,
    /// The media relay (TURN) at the edge. Down: signaling still answers; calls that need the
    /// relay fail in the media path, which the simulation reads from
    /// [`super::Service::part_is_up`].
    Relay,
}

impl Part {
    /// Every part.
    pub const ALL: [Part; 2] = [Part::Signaling, Part::Relay];

    /// The name a status page gives it.
    pub fn label(self) -> &'static str {
        match self {
            Part::Signaling => "Sign-in, presence and messaging",
            Part::Relay => "Calls through the media relay",
        }
    }
}

/// What the status endpoint reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Whether sign-in, presence, IM and call setup answer.
    pub signaling_up: bool,
    /// Whether the media relay (TURN) serves.
    pub relay_up: bool,
}

impl Status {
    /// Whether `part` is up.
    pub fn is_up(self, part: Part) -> bool {
        match part {
            Part::Signaling => self.signaling_up,
            Part::Relay => self.relay_up,
        }
    }

    /// Whether every part is up.
    pub fn all_up(self) -> bool {
        self.signaling_up && self.relay_up
    }

    /// The one line at the top of the page.
    pub fn headline(self) -> &'static str {
        match (self.signaling_up, self.relay_up) {
            (true, true) => "All systems operational",
            (false, true) => {
                "Sign-in, presence, messaging and calls are down for everyone: the problem is ours, not your connection"
            }
            (true, false) => {
                "Calls that need the media relay may fail for everyone; sign-in, presence and messaging work"
            }
            (false, false) => {
                "The service is down for everyone: the problem is ours, not your connection"
            }
        }
    }
}

impl fmt::Display for Status {
    /// The headline, then one line per part.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.headline())?;
        for p in Part::ALL {
            let state = if self.is_up(p) { "up" } else { "down" };
            writeln!(f, "  {}: {state}", p.label())?;
        }
        Ok(())
    }
}
