//! Addresses as a client writes them, and where they lead from one tenant.
//!
//! A public IM account on a custom domain (`erin@live-contoso.com`, the KB's "Microsoft
//! accounts that have a custom (EASI) domain") is hosted by its provider, but its domain
//! routes nowhere. Inside the provider the plain address works; from anywhere else it must be
//! written in the special format the article refers to (its KB 2566829), the custom domain in
//! parentheses on a standard provider domain: `erin(live-contoso.com)@msn.com`. Written
//! plainly it is unreachable (FED-PIC-FORMAT) until the contact is re-added that way.
//!
//! ```
//! use callharness::service::address::special_format;
//! assert_eq!(special_format("erin@live-contoso.com", "msn.com").as_deref(),
//!            Some("erin(live-contoso.com)@msn.com"));
//! ```

use super::directory::Directory;

/// Where an address, as written, leads from a sender's tenant, before anyone is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The sender's own tenant.
    Internal,
    /// Another tenant, by index; its domain routes there.
    External(usize),
    /// Outside the sender's tenant and routing nowhere. `plain_custom` when it is the plain
    /// address of an existing custom-domain public IM account (FED-PIC-FORMAT).
    Unroutable { plain_custom: bool },
}

impl Destination {
    /// Whether it leaves the sender's tenant.
    pub fn is_external(self) -> bool {
        self != Destination::Internal
    }
}

/// `name@custom.domain` written for a contact outside its provider: `name(custom.domain)@
/// provider_domain`. `None` when `address` is not `name@domain`.
pub fn special_format(address: &str, provider_domain: &str) -> Option<String> {
    let (name, domain) = address.split_once('@')?;
    Some(format!("{name}({domain})@{provider_domain}"))
}

/// `name(custom.domain)@domain` split into the account's own address and the domain it was
/// written on.
fn parse_special(written: &str) -> Option<(String, &str)> {
    let (local, domain) = written.rsplit_once('@')?;
    let (name, rest) = local.split_once('(')?;
    let custom = rest.strip_suffix(')')?;
    if name.is_empty() || custom.is_empty() || custom.contains(['(', ')']) {
        return None;
    }
    Some((format!("{name}@{custom}"), domain))
}

impl Directory {
    /// The account address `written` stands for: the special format on a public IM provider's
    /// domain, for one of its custom domains, stands for the plain address; anything else for
    /// itself.
    pub fn canonical(&self, written: &str) -> String {
        if let Some((account, domain)) = parse_special(written) {
            if let Some(t) = self.routing_index(domain) {
                let custom = account.rsplit_once('@').map_or("", |(_, d)| d);
                if self.tenant(t).hosts_custom(custom) {
                    return account;
                }
            }
        }
        written.to_string()
    }

    /// Where `written` leads from tenant `from`.
    pub fn destination(&self, from: usize, written: &str) -> Destination {
        let account = self.canonical(written);
        let routed_domain = if account != written {
            parse_special(written).map_or("", |(_, d)| d)
        } else {
            written.rsplit_once('@').map_or("", |(_, d)| d)
        };
        let own = self.tenant(from);
        if own.owns(routed_domain) || own.hosts_custom(routed_domain) {
            return Destination::Internal;
        }
        if let Some(t) = self.routing_index(routed_domain) {
            return Destination::External(t);
        }
        let plain_custom = self.user(written).is_some()
            && self
                .home_index(written)
                .is_some_and(|t| self.tenant(t).hosts_custom(routed_domain));
        Destination::Unroutable { plain_custom }
    }

    /// The account `written` reaches from tenant `from`, federation aside: the user it names,
    /// when that user lives where the address leads.
    pub fn resolve(&self, from: usize, written: &str) -> Option<&str> {
        let tenant = match self.destination(from, written) {
            Destination::Internal => from,
            Destination::External(t) => t,
            Destination::Unroutable { .. } => return None,
        };
        let user = self.user(&self.canonical(written))?;
        (self.home_index(&user.address) == Some(tenant)).then_some(user.address.as_str())
    }
}
