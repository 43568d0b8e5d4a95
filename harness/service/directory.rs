//! Who exists: tenants with their domains, policy and minimum client version, and users with
//! their credentials and policy overrides.

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
    /// Communication with other organisations allowed.
    pub external_access: bool,
    /// Communication with public IM (consumer) accounts allowed.
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

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub name: String,
    /// The SIP domains it owns (`contoso.com`).
    pub domains: Vec<String>,
    pub policy: Policy,
    /// Clients older than this are refused as incompatible.
    pub min_client: Version,
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `alice@contoso.com`.
    pub address: String,
    pub password: String,
    /// The user's own A/V setting, over the tenant's when given (AV-POLICY-USER).
    pub audio_video: Option<bool>,
}

/// Tenants and users; users belong to the tenant that owns their address's domain.
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
    /// A directory of `tenants` and `users`, each user's domain owned by exactly one tenant.
    pub fn new(tenants: Vec<Tenant>, users: Vec<User>) -> Result<Directory, DirectoryError> {
        let mut seen = Vec::new();
        for d in tenants.iter().flat_map(|t| &t.domains) {
            if seen.contains(&d) {
                return Err(DirectoryError::DomainTwice(d.clone()));
            }
            seen.push(d);
        }
        let mut dir = Directory {
            tenants,
            users: BTreeMap::new(),
        };
        for u in users {
            let Some((_, domain)) = u.address.split_once('@') else {
                return Err(DirectoryError::BadAddress(u.address));
            };
            if dir.tenant_of_domain(domain).is_none() {
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

    fn tenant_of_domain(&self, domain: &str) -> Option<&Tenant> {
        self.tenants
            .iter()
            .find(|t| t.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)))
    }

    /// The user of `address`.
    pub fn user(&self, address: &str) -> Option<&User> {
        self.users.get(address)
    }

    /// The tenant `address` belongs to.
    pub fn tenant_of(&self, address: &str) -> Option<&Tenant> {
        self.tenant_of_domain(address.split_once('@')?.1)
    }

    /// Whether `address` may make or take audio/video calls: the user's own setting, else the
    /// tenant's policy.
    pub fn audio_video_allowed(&self, address: &str) -> bool {
        let tenant = self
            .tenant_of(address)
            .is_some_and(|t| t.policy.audio_video);
        self.user(address)
            .and_then(|u| u.audio_video)
            .unwrap_or(tenant)
    }
}
