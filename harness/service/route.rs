//! Whether one user may reach another, and the first check that says no.
//!
//! The order (the first failing step answers; later steps are not asked):
//!
//! 1. **The sender's own policy** (its user setting over its tenant's): A/V for a call
//!    ([`Refusal::AvDisabled`]); external access for any address outside its tenant
//!    ([`Refusal::ExternalAccessOff`], so every external address, even an unknown one, gets
//!    the 403); public IM for an address on a public IM provider's domain
//!    ([`Refusal::PublicImOff`]).
//! 2. **Discovery**: an address routing nowhere is the plain address of a custom-domain
//!    consumer account ([`Refusal::PublicImAddressFormat`], 404) or nobody
//!    ([`Refusal::NoSuchUser`], 404); the partner's federation SRV record, then the sender's
//!    own ([`Refusal::FederationSrvMissing`], 504: the address may be right, the edge behind
//!    it could not be located; the article: "all communication with external contacts
//!    fails", so a tenant without its record can neither be reached nor be answered); both
//!    tenants set up for federation, the partner's first ([`Refusal::DomainNotFederated`]);
//!    then the account itself ([`Refusal::NoSuchUser`]).
//! 3. **Lists**, between two organisations only (public IM is governed by step 1 and 4's
//!    public IM settings): the sender's tenant's allow and block lists on the recipient's
//!    domain, then the recipient's tenant's on the sender's ([`Refusal::DomainNotAllowed`]).
//! 4. **The far side's policy**: its external access, its public IM setting when the sender
//!    is a consumer, A/V for a call; then, between an organisation and a consumer who is
//!    signed in (its session is how the service knows the version), the consumer's client
//!    against the organisation's minimum ([`Refusal::ExternalClientOutdated`], 488).
//! 5. **Permissions** between the two users ([`super::contacts`]): blocks
//!    ([`Refusal::ContactBlocked`]), then both lists naming each other
//!    ([`Refusal::NotMutualContacts`]).
//!
//! Inside one tenant only the A/V checks and the account's existence apply. Whether the
//! recipient is signed in (480) and reachable (408) is the request's own last step, after
//! these; presence has no such step: a signed-out user is shown offline.

use super::address::Destination;
use super::contacts;
use super::directory::SrvRecord;
use super::{Refusal, Service};

/// What a request asks of the far side, which decides the checks that apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// An audio/video call: the A/V policies apply.
    Call,
    /// An IM, a presence subscription or a contact request.
    Talk,
}

fn domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

impl Service {
    /// The account `to` (as written) reaches from `from`, or the first check that refuses.
    pub(super) fn route(&self, from: &str, to: &str, purpose: Purpose) -> Result<String, Refusal> {
        let dir = &self.directory;
        let call = purpose == Purpose::Call;
        dir.user(from).ok_or(Refusal::NoSuchUser)?;
        let home = dir.home_index(from).ok_or(Refusal::NoSuchUser)?;
        let own = dir.tenant(home);
        let mine = dir.policy_of(from);
        let dest = dir.destination(home, to);

        // 1. The sender's own policy.
        if call && !mine.audio_video {
            return Err(Refusal::AvDisabled);
        }
        if dest.is_external() && !mine.external_access {
            return Err(Refusal::ExternalAccessOff);
        }
        if let Destination::External(t) = dest {
            if dir.tenant(t).is_public_im() && !mine.public_im {
                return Err(Refusal::PublicImOff);
            }
        }

        // 2. Discovery.
        let far = match dest {
            Destination::Internal => home,
            Destination::Unroutable { plain_custom: true } => {
                return Err(Refusal::PublicImAddressFormat)
            }
            Destination::Unroutable {
                plain_custom: false,
            } => return Err(Refusal::NoSuchUser),
            Destination::External(t) => {
                let them = &dir.tenant(t).federation;
                if them.srv != SrvRecord::Present || own.federation.srv != SrvRecord::Present {
                    return Err(Refusal::FederationSrvMissing);
                }
                if !them.enabled || !own.federation.enabled {
                    return Err(Refusal::DomainNotFederated);
                }
                t
            }
        };
        let target = dir
            .resolve(home, to)
            .ok_or(Refusal::NoSuchUser)?
            .to_string();
        if far == home {
            if call && !dir.audio_video_allowed(&target) {
                return Err(Refusal::AvDisabled);
            }
            return Ok(target);
        }
        let them = dir.tenant(far);

        // 3. Lists, between organisations.
        let between_organisations = !own.is_public_im() && !them.is_public_im();
        let listed_in =
            own.federation.admits(domain(&target)) && them.federation.admits(domain(from));
        if between_organisations && !listed_in {
            return Err(Refusal::DomainNotAllowed);
        }

        // 4. The far side's policy, and a consumer's client.
        let theirs = dir.policy_of(&target);
        if !theirs.external_access {
            return Err(Refusal::ExternalAccessOff);
        }
        if own.is_public_im() && !theirs.public_im {
            return Err(Refusal::PublicImOff);
        }
        if call && !theirs.audio_video {
            return Err(Refusal::AvDisabled);
        }
        let org_and_consumer = match (own.is_public_im(), them.is_public_im()) {
            (false, true) => Some((own, target.as_str())),
            (true, false) => Some((them, from)),
            _ => None,
        };
        if let Some((org, consumer)) = org_and_consumer {
            let old = self
                .sessions
                .get(consumer)
                .is_some_and(|s| s.client < org.federation.min_consumer_client);
            if old {
                return Err(Refusal::ExternalClientOutdated);
            }
        }

        // 5. Permissions between the two.
        contacts::permission(dir, |a| self.lists.get(a), from, &target)?;
        Ok(target)
    }
}
