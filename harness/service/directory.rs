//! Who exists: tenants (organisations and public IM providers) with their domains, policy,
//! minimum client version and federation settings, and users with their credentials, policy
//! overrides and initial contact lists.

use super::contacts::ContactList;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A client version, `major.minor.patch` (missing parts are 0), compared part by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Version(pub u32, pub u32, pub u32);

impl FromStr for Version {
    type Err = String;

    fn from_str(s: &str) -> Result<Version, String> {
        let parts: Vec<&str> = s.trim().split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(format!("`{s}` is not a version like 6.3 or 8.1.2"));
        }
        let mut n = [0u32; 3];
        for (i, p) in parts.iter().enumerate() {
            n[i] = p
                .parse()
                .map_err(|_| format!("`{s}` is not a version like 6.3 or 8.1.2"))?;
        }
        Ok(Version(n[0], n[1], n[2]))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// What a tenant (or one user) may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Audio and video calls allowed.
    pub audio_video: bool,
    /// Communication with anyone outside the tenant allowed (other organisations and public
    /// IM alike; FED-EXTERNAL-OFF when off).
    pub external_access: bool,
    /// Communication with public IM (consumer) accounts allowed (FED-PIC-OFF when off).
    pub public_im: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            audio_video: true,
            external_access: true,
            public_im: true,
        }
    }
}

/// What a tenant is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TenantKind {
    /// A company or school: its users are business accounts on its own domains.
    #[default]
    Organisation,
    /// A public IM provider: consumer accounts on its standard domains (`msn.com`), and
    /// accounts whose addresses use a custom domain of their owner's (`custom_domains`, "EASI"
    /// accounts). Those domains route nowhere: from outside the provider such an account is
    /// reached only as `name(custom.domain)@<a standard domain>` (FED-PIC-FORMAT).
    PublicIm { custom_domains: Vec<String> },
}

/// A tenant's federation DNS SRV record, through which other tenants find its edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SrvRecord {
    /// In place and pointing at the tenant's edge.
    #[default]
    Present,
    /// Absent from DNS.
    Missing,
    /// Present but pointing somewhere other than the tenant's edge.
    Wrong,
}

/// How a tenant federates with others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Federation {
    /// Set up for federation at all (FED-DOMAIN-NOT-FEDERATED when not).
    pub enabled: bool,
    /// Its DNS SRV record (FED-SRV-MISSING unless present).
    pub srv: SrvRecord,
    /// Partner domains it federates with; `None` is open federation (anyone not blocked).
    pub allow: Option<Vec<String>>,
    /// Partner domains it refuses.
    pub block: Vec<String>,
    /// The oldest consumer client an organisation accepts from an external public IM contact
    /// (FED-CLIENT-OLD); the article asks Skype users for 6.3 or later
    /// ([`Federation::ARTICLE_MIN_CONSUMER_CLIENT`]). Unused on a public IM provider.
    pub min_consumer_client: Version,
}

impl Federation {
    /// The consumer client version the KB article asks external Skype contacts to run.
    pub const ARTICLE_MIN_CONSUMER_CLIENT: Version = Version(6, 3, 0);

    /// Whether its lists let it federate with `domain`.
    pub fn admits(&self, domain: &str) -> bool {
        let listed = |l: &[String]| l.iter().any(|d| d.eq_ignore_ascii_case(domain));
        !listed(&self.block) && self.allow.as_deref().is_none_or(listed)
    }
}

impl Default for Federation {
    /// Federated, SRV record in place, open federation, any consumer client.
    fn default() -> Federation {
        Federation {
            enabled: true,
            srv: SrvRecord::Present,
            allow: None,
            block: Vec::new(),
            min_consumer_client: Version::default(),
        }
    }
}

/// An organisation or a public IM provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// A name for reports (`contoso`).
    pub name: String,
    /// The SIP domains it owns and that route to it (`contoso.com`).
    pub domains: Vec<String>,
    /// What its users may do, unless a user's own setting says otherwise.
    pub policy: Policy,
    /// Clients older than this are refused as incompatible at sign-in.
    pub min_client: Version,
    /// Organisation or public IM provider.
    pub kind: TenantKind,
    /// How it federates with other tenants.
    pub federation: Federation,
}

impl Tenant {
    /// An organisation owning `domains`, with the default policy, any client, and default
    /// (open) federation. Change the rest with struct update syntax:
    /// `Tenant { policy, ..Tenant::new("contoso", &["contoso.com"]) }`.
    pub fn new(name: &str, domains: &[&str]) -> Tenant {
        Tenant {
            name: name.to_string(),
            domains: domains.iter().map(|d| d.to_string()).collect(),
            policy: Policy::default(),
            min_client: Version::default(),
            kind: TenantKind::Organisation,
            federation: Federation::default(),
        }
    }

    /// A public IM provider on its standard `domains`, hosting accounts on `custom_domains`.
    pub fn public_im(name: &str, domains: &[&str], custom_domains: &[&str]) -> Tenant {
        Tenant {
            kind: TenantKind::PublicIm {
                custom_domains: custom_domains.iter().map(|d| d.to_string()).collect(),
            },
            ..Tenant::new(name, domains)
        }
    }

    /// Whether it is a public IM provider.
    pub fn is_public_im(&self) -> bool {
        matches!(self.kind, TenantKind::PublicIm { .. })
    }

    /// Whether `domain` routes to it.
    pub fn owns(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }

    /// Whether it hosts accounts on the custom (non-routing) `domain`.
    pub fn hosts_custom(&self, domain: &str) -> bool {
        match &self.kind {
            TenantKind::PublicIm { custom_domains } => custom_domains
                .iter()
                .any(|d| d.eq_ignore_ascii_case(domain)),
            TenantKind::Organisation => false,
        }
    }
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `alice@contoso.com` (for a custom-domain consumer account, its own address,
    /// `erin@live-contoso.com`, which is what it signs in with).
    pub address: String,
    /// What sign-in checks.
    pub password: String,
    /// The user's own A/V setting, over the tenant's when given (AV-POLICY-USER).
    pub audio_video: Option<bool>,
    /// The user's own external access setting, over the tenant's when given.
    pub external_access: Option<bool>,
    /// The user's own public IM setting, over the tenant's when given.
    pub public_im: Option<bool>,
    /// Contacts and blocks when the service starts.
    pub contacts: ContactList,
}

impl User {
    /// A user with no policy of its own and empty lists.
    pub fn new(address: &str, password: &str) -> User {
        User {
            address: address.to_string(),
            password: password.to_string(),
            audio_video: None,
            external_access: None,
            public_im: None,
            contacts: ContactList::default(),
        }
    }
}

/// Tenants and users; a user belongs to the tenant that owns (or, for a public IM provider,
/// hosts as a custom domain) its address's domain.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    tenants: Vec<Tenant>,
    users: BTreeMap<String, User>,
}

/// A directory that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("domain `{0}` belongs to two tenants")]
    DomainTwice(String),
    #[error("user `{0}` is listed twice")]
    UserTwice(String),
    #[error("user `{0}`: the address must be user@domain")]
    BadAddress(String),
    #[error("user `{address}`: no tenant owns the domain `{domain}`")]
    NoTenant { address: String, domain: String },
}

impl Directory {
    /// A directory of `tenants` and `users`, each domain (routing or custom) owned by exactly
    /// one tenant and each user's domain owned by one.
    pub fn new(tenants: Vec<Tenant>, users: Vec<User>) -> Result<Directory, DirectoryError> {
        let mut seen: Vec<String> = Vec::new();
        for t in &tenants {
            let custom = match &t.kind {
                TenantKind::PublicIm { custom_domains } => custom_domains.as_slice(),
                TenantKind::Organisation => &[],
            };
            for d in t.domains.iter().chain(custom) {
                let d = d.to_ascii_lowercase();
                if seen.contains(&d) {
                    return Err(DirectoryError::DomainTwice(d));
                }
                seen.push(d);
            }
        }
        let mut dir = Directory {
            tenants,
            users: BTreeMap::new(),
        };
        for u in users {
            let Some((_, domain)) = u.address.split_once('@') else {
                return Err(DirectoryError::BadAddress(u.address));
            };
            if dir.home_of_domain(domain).is_none() {
                return Err(DirectoryError::NoTenant {
                    domain: domain.to_string(),
                    address: u.address,
                });
            }
            if dir.users.contains_key(&u.address) {
                return Err(DirectoryError::UserTwice(u.address));
            }
            dir.users.insert(u.address.clone(), u);
        }
        Ok(dir)
    }

    /// The tenants, in the order given.
    pub fn tenants(&self) -> &[Tenant] {
        &self.tenants
    }

    /// The users, by address.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    /// The tenant `index` (as [`Directory::home_index`] gives).
    pub fn tenant(&self, index: usize) -> &Tenant {
        &self.tenants[index]
    }

    fn home_of_domain(&self, domain: &str) -> Option<usize> {
        self.tenants
            .iter()
            .position(|t| t.owns(domain) || t.hosts_custom(domain))
    }

    /// The index of the tenant whose accounts use `address`'s domain.
    pub fn home_index(&self, address: &str) -> Option<usize> {
        self.home_of_domain(address.split_once('@')?.1)
    }

    /// The index of the tenant `domain` routes to (custom domains route nowhere).
    pub fn routing_index(&self, domain: &str) -> Option<usize> {
        self.tenants.iter().position(|t| t.owns(domain))
    }

    /// The user of `address`.
    pub fn user(&self, address: &str) -> Option<&User> {
        self.users.get(address)
    }

    /// The tenant `address` belongs to.
    pub fn tenant_of(&self, address: &str) -> Option<&Tenant> {
        self.home_index(address).map(|i| &self.tenants[i])
    }

    /// What `address` may do: the user's own settings over its tenant's policy (nothing at
    /// all for an unknown address).
    pub fn policy_of(&self, address: &str) -> Policy {
        let none = Policy {
            audio_video: false,
            external_access: false,
            public_im: false,
        };
        let tenant = self.tenant_of(address).map_or(none, |t| t.policy);
        let Some(user) = self.user(address) else {
            return none;
        };
        Policy {
            audio_video: user.audio_video.unwrap_or(tenant.audio_video),
            external_access: user.external_access.unwrap_or(tenant.external_access),
            public_im: user.public_im.unwrap_or(tenant.public_im),
        }
    }

    /// Why a call between `a` and `b` can carry no video although both may call (FED-NO-VIDEO):
    /// a business account and a Microsoft (public IM) account on the consumer client talk with
    /// audio only. None: video is available.
    pub fn video_unavailable(&self, a: &str, b: &str) -> Option<String> {
        let consumer = |x: &str| self.tenant_of(x).is_some_and(|t| t.is_public_im());
        let business = |x: &str| self.tenant_of(x).is_some_and(|t| !t.is_public_im());
        let (c, _) = if consumer(a) && business(b) {
            (a, b)
        } else if consumer(b) && business(a) {
            (b, a)
        } else {
            return None;
        };
        Some(format!(
            "{c} is a Microsoft account on the consumer client: calls with it carry audio only, \
             video is unavailable"
        ))
    }

    /// Whether `address` may make or take audio/video calls: the user's own setting, else the
    /// tenant's policy.
    pub fn audio_video_allowed(&self, address: &str) -> bool {
        self.policy_of(address).audio_video
    }
}
