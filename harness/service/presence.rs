//! Presence: what each signed-in user publishes, who watches whom, the registration timer that
//! decides when a silent client is shown offline, and the notices the service sends.
//!
//! A registration lives [`Timers::registration_expiry_ns`] from its sign-in or last refresh.
//! Until it runs out the service keeps showing the user's last published state, whether or not
//! its client can still be reached: that is why a user roaming between access points shows
//! online while calls and IMs to it time out (NET-ROAMING, 408). Only expiry, sign-out or an
//! outage show it offline.
//!
//! A subscription is the watcher's interest in one address as written (a contact-list entry)
//! and lasts until it unsubscribes or its own registration ends. Its view follows every change
//! of the target's state and of the permission between the two: while federation, policy or
//! the contact lists refuse the pair the view is [`PresenceView::Unknown`] ("Presence
//! Unknown"), and it becomes the target's state as soon as the pair is fixed (the article's
//! re-adding of contacts). The watcher is sent a notice with the first view and with every
//! change, never otherwise.

use super::{Refusal, Service};
use std::fmt;

/// A state a user publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Availability {
    /// Signed in and free (what sign-in publishes).
    Available,
    /// In a call or a meeting, or set so.
    Busy,
    /// Only urgent contacts get through, in the real client; here a state like the others.
    DoNotDisturb,
    /// Away for a moment.
    BeRightBack,
    /// Away, or idle for a while.
    Away,
    /// Signed out, expired, or appearing offline.
    Offline,
}

impl Availability {
    /// Every state, in declaration order.
    pub const ALL: [Availability; 6] = [
        Availability::Available,
        Availability::Busy,
        Availability::DoNotDisturb,
        Availability::BeRightBack,
        Availability::Away,
        Availability::Offline,
    ];

    /// The label a client shows.
    pub fn label(self) -> &'static str {
        match self {
            Availability::Available => "Available",
            Availability::Busy => "Busy",
            Availability::DoNotDisturb => "Do Not Disturb",
            Availability::BeRightBack => "Be Right Back",
            Availability::Away => "Away",
            Availability::Offline => "Offline",
        }
    }
}

/// What a watcher sees of a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PresenceView {
    /// The target's state (offline when it is not signed in).
    Shown(Availability),
    /// Federation, policy or permission refuses the pair, or the address reaches nobody: the
    /// client dims the icon and shows "Presence Unknown".
    Unknown,
}

impl fmt::Display for PresenceView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PresenceView::Shown(a) => f.write_str(a.label()),
            PresenceView::Unknown => f.write_str(super::status::PRESENCE_UNKNOWN),
        }
    }
}

/// Something the service sends a signed-in client without being asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// What `watcher` now sees of `target` (the address it subscribed to, as written).
    Presence {
        watcher: String,
        target: String,
        view: PresenceView,
    },
    /// An IM delivered to `to` (its account address).
    Message {
        from: String,
        to: String,
        text: String,
    },
    /// `from` added `to` to its contacts: the notification the article asks each side to see
    /// and accept (by adding back).
    ContactAdded { from: String, to: String },
}

impl Notice {
    /// Whom it is for.
    pub fn recipient(&self) -> &str {
        match self {
            Notice::Presence { watcher, .. } => watcher,
            Notice::Message { to, .. } | Notice::ContactAdded { to, .. } => to,
        }
    }
}

/// The service's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// How long a registration lives without a refresh, ns. Default 3600 s: the registrar
    /// default of Kamailio's and OpenSIPS's `registrar` modules (`default_expires`), the usual
    /// SIP choice when a client asks for none (RFC 3261 leaves it to the registrar, section
    /// 10.3). Scenarios about roaming shorten it to see the user go offline.
    pub registration_expiry_ns: u64,
}

impl Timers {
    /// [`Timers::registration_expiry_ns`]'s default, ns.
    pub const DEFAULT_REGISTRATION_EXPIRY_NS: u64 = 3_600_000_000_000;
}

impl Default for Timers {
    fn default() -> Timers {
        Timers {
            registration_expiry_ns: Timers::DEFAULT_REGISTRATION_EXPIRY_NS,
        }
    }
}

impl Service {
    /// What `watcher` would see of `target` (as written) now: [`PresenceView::Unknown`] when
    /// the checks of [`super::route`] refuse the pair, else the target's published state, or
    /// offline when it is not signed in.
    pub fn presence_seen_by(&self, watcher: &str, target: &str) -> PresenceView {
        match self.route(watcher, target, super::route::Purpose::Talk) {
            Err(_) => PresenceView::Unknown,
            Ok(account) => PresenceView::Shown(
                self.sessions
                    .get(&account)
                    .map_or(Availability::Offline, |s| s.availability),
            ),
        }
    }

    /// The subscriptions, as (watcher, target as written).
    pub fn subscriptions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.subscriptions
            .keys()
            .map(|(w, t)| (w.as_str(), t.as_str()))
    }

    /// When the service next needs [`Service::handle_timeout`], ns: the earliest registration
    /// expiry. `None` when nobody is signed in.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.sessions.values().map(|s| s.expires_ns).min()
    }

    /// Lets time pass to `now_ns`: every registration whose expiry is at or before it ends,
    /// its user is shown offline and its subscriptions end. [`Service::handle`] does the same
    /// first, so a late call changes nothing.
    pub fn handle_timeout(&mut self, now_ns: u64) {
        self.expire(now_ns);
        self.renotify();
    }

    /// The next notice for a client, oldest first.
    pub fn poll_notice(&mut self) -> Option<Notice> {
        self.notices.pop_front()
    }

    /// Ends every registration due at or before `now_ns`.
    pub(super) fn expire(&mut self, now_ns: u64) {
        let gone: Vec<String> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.expires_ns <= now_ns)
            .map(|(a, _)| a.clone())
            .collect();
        for a in gone {
            self.end_session(&a);
        }
    }

    /// Ends `address`'s registration and the subscriptions it holds.
    pub(super) fn end_session(&mut self, address: &str) -> bool {
        self.subscriptions.retain(|(w, _), _| w != address);
        self.sessions.remove(address).is_some()
    }

    /// Starts (or restarts) `watcher`'s subscription to `target`, sending the first view;
    /// answers the refusal that makes it unknown, if one does.
    pub(super) fn subscribe(&mut self, watcher: &str, target: &str) -> Result<(), Refusal> {
        let verdict = self
            .route(watcher, target, super::route::Purpose::Talk)
            .map(|_| ());
        let view = self.presence_seen_by(watcher, target);
        self.subscriptions
            .insert((watcher.to_string(), target.to_string()), view);
        self.notices.push_back(Notice::Presence {
            watcher: watcher.to_string(),
            target: target.to_string(),
            view,
        });
        verdict
    }

    /// Sends a notice for every subscription whose view changed since its last notice.
    pub(super) fn renotify(&mut self) {
        let changed: Vec<((String, String), PresenceView)> = self
            .subscriptions
            .iter()
            .filter_map(|((w, t), last)| {
                let now = self.presence_seen_by(w, t);
                (now != *last).then(|| ((w.clone(), t.clone()), now))
            })
            .collect();
        for ((watcher, target), view) in changed {
            self.notices.push_back(Notice::Presence {
                watcher: watcher.clone(),
                target: target.clone(),
                view,
            });
            self.subscriptions.insert((watcher, target), view);
        }
    }
}
