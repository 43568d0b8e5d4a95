//! Each user's contact list, blocked list and "block all invites" box, and the permission they
//! give between two external contacts (FED-CONTACT-PERMISSION).
//!
//! The article: "Both external contacts have to be added to one another's contact lists", and
//! the Lync box **Block all invites and communications** sits under "Contacts not using
//! Lync", so here it refuses every external party hosted by a public IM provider and leaves
//! federated business contacts alone. Entries are kept as written: a custom-domain consumer
//! added plainly stays unreachable until it is removed and re-added in the special format
//! (see [`super::address`]). None of this applies inside one tenant.

use super::directory::Directory;
use super::Refusal;
use std::collections::BTreeSet;

/// One user's lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactList {
    /// Addresses added, as written.
    pub contacts: BTreeSet<String>,
    /// Addresses blocked, as written.
    pub blocked: BTreeSet<String>,
    /// "Block all invites and communications" from contacts not using Lync (public IM).
    pub block_all_invites: bool,
}

impl ContactList {
    /// A list with `contacts` added.
    pub fn with(contacts: &[&str]) -> ContactList {
        ContactList {
            contacts: contacts.iter().map(|c| c.to_string()).collect(),
            ..ContactList::default()
        }
    }
}

/// Whether some entry of `entries`, written by `owner`, reaches `other`.
fn names(dir: &Directory, owner: &str, entries: &BTreeSet<String>, other: &str) -> bool {
    let Some(home) = dir.home_index(owner) else {
        return false;
    };
    entries.iter().any(|e| dir.resolve(home, e) == Some(other))
}

/// The permission two users of different tenants give each other: blocks first (either side's
/// blocked list, then either side's "block all invites" against a public IM party), then the
/// two lists naming each other. `lists` gives a user's lists.
pub(super) fn permission<'a>(
    dir: &Directory,
    lists: impl Fn(&str) -> Option<&'a ContactList>,
    a: &str,
    b: &str,
) -> Result<(), Refusal> {
    let empty = ContactList::default();
    let (la, lb) = (lists(a).unwrap_or(&empty), lists(b).unwrap_or(&empty));
    if names(dir, a, &la.blocked, b) || names(dir, b, &lb.blocked, a) {
        return Err(Refusal::ContactBlocked);
    }
    let consumer = |x: &str| dir.tenant_of(x).is_some_and(|t| t.is_public_im());
    if (la.block_all_invites && consumer(b)) || (lb.block_all_invites && consumer(a)) {
        return Err(Refusal::ContactBlocked);
    }
    if !(names(dir, a, &la.contacts, b) && names(dir, b, &lb.contacts, a)) {
        return Err(Refusal::NotMutualContacts);
    }
    Ok(())
}
