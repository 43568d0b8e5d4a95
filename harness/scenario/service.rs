//! The calling service of a scenario: `service:` (tenants, users) checked and built into the
//! service's directory, each participant's account (`user`, `password`, `client_version`),
//! and the timeline's service outages.

use super::de::Spanned;
use super::error::{ErrorKind, ScenarioError};
use super::load::Context;
use super::model::*;
use super::raw::{OrderedMap, RawAction, RawParticipant};
use super::raw_service::{RawFederation, SrvText, TenantKindText};
use super::raw_service::{RawService, ServicePart, VersionText};
use crate::service::contacts::ContactList;
use crate::service::directory::{
    Directory, Federation, Policy, SrvRecord, Tenant, TenantKind, User, Version,
};
use crate::service::presence::Timers;
use crate::units::Dur;

/// The tenant of a scenario without a `service:` section.
pub const DEFAULT_TENANT: &str = "example";
/// Its domain: participants are `NAME@example.com`.
pub const DEFAULT_DOMAIN: &str = "example.com";
/// An account's password unless `service.users` gives one.
pub const DEFAULT_PASSWORD: &str = "secret";
/// A client's version unless the scenario gives one (or its tenant requires a newer one).
pub const CURRENT_CLIENT: Version = Version(8, 0, 0);

/// The `service:` section, checked, before the participants' accounts are added.
#[derive(Debug, Clone)]
pub(super) struct ServiceSetup {
    tenants: Vec<Tenant>,
    /// Accounts listed under `service.users`.
    users: Vec<User>,
    declared: bool,
    timers: Timers,
}

impl ServiceSetup {
    fn tenant_of(&self, address: &str) -> Option<&Tenant> {
        let domain = address.split_once('@')?.1;
        self.tenants
            .iter()
            .find(|t| own_domains(t).any(|d| d.eq_ignore_ascii_case(domain)))
    }

    fn all_domains(&self) -> Vec<&str> {
        self.tenants.iter().flat_map(own_domains).collect()
    }
}

/// The domains a tenant's accounts can be on: its own, and a provider's custom domains.
fn own_domains(t: &Tenant) -> impl Iterator<Item = &str> {
    let custom: &[String] = match &t.kind {
        TenantKind::PublicIm { custom_domains } => custom_domains,
        TenantKind::Organisation => &[],
    };
    t.domains.iter().chain(custom).map(String::as_str)
}

impl Context {
    fn version(&mut self, v: &Spanned<VersionText>) -> Option<Version> {
        match v.value.0.parse::<Version>() {
            Ok(x) => Some(x),
            Err(_) => {
                self.push(
                    ScenarioError::at(ErrorKind::BadValue, &v.mark, &v.path, "not a version")
                        .expected("up to three whole numbers joined by dots, like 8.1 or 16.0.4")
                        .found(format!("`{}`", v.value.0)),
                );
                None
            }
        }
    }

    /// Reads `service:`; the default service (one tenant) when absent.
    pub(super) fn service_setup(&mut self, raw: Option<&Spanned<RawService>>) -> ServiceSetup {
        let Some(raw) = raw else {
            return ServiceSetup {
                tenants: vec![Tenant::new(DEFAULT_TENANT, &[DEFAULT_DOMAIN])],
                users: Vec::new(),
                declared: false,
                timers: Timers::default(),
            };
        };
        let mut tenants = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let empty = OrderedMap(Vec::new());
        let listed = raw.value.tenants.as_ref().unwrap_or(&empty);
        if listed.0.is_empty() {
            self.push(
                ScenarioError::at(
                    ErrorKind::MissingField,
                    &raw.mark,
                    &raw.path,
                    "the service has no tenants",
                )
                .expected(
                    "`tenants:` with at least one, like `contoso: { domains: [contoso.com] }`",
                ),
            );
        }
        for (name, t) in &listed.0 {
            let mut domains = Vec::new();
            match &t.value.domains {
                None => self.missing(
                    &t.mark,
                    &t.path,
                    "domains",
                    "the domains the tenant owns, like `[contoso.com]`",
                ),
                Some(list) if list.is_empty() => self.push(
                    ScenarioError::at(ErrorKind::BadValue, &t.mark, &t.path, "no domains")
                        .expected("at least one domain, like `[contoso.com]`"),
                ),
                Some(list) => domains = self.owned_domains(list, &mut seen),
            }
            let public_im =
                t.value.kind.as_ref().map(|k| k.value) == Some(TenantKindText::PublicIm);
            let kind = match (&t.value.custom_domains, public_im) {
                (Some(c), true) => TenantKind::PublicIm {
                    custom_domains: self.owned_domains(c, &mut seen),
                },
                (None, true) => TenantKind::PublicIm {
                    custom_domains: Vec::new(),
                },
                (Some(c), false) => {
                    if let Some(first) = c.first() {
                        self.push(
                            ScenarioError::at(
                                ErrorKind::Conflict,
                                &first.mark,
                                &first.path,
                                "only a public IM provider hosts accounts on custom domains",
                            )
                            .expected("`kind: public-im` on this tenant, or no `custom_domains`"),
                        );
                    }
                    TenantKind::Organisation
                }
                (None, false) => TenantKind::Organisation,
            };
            let federation = t
                .value
                .federation
                .as_ref()
                .map(|f| self.federation(f))
                .unwrap_or_default();
            let min_client = t
                .value
                .min_client
                .as_ref()
                .and_then(|v| self.version(v))
                .unwrap_or_default();
            let flag = |b: &Option<Spanned<bool>>| b.as_ref().is_none_or(|b| b.value);
            tenants.push(Tenant {
                domains,
                policy: Policy {
                    audio_video: flag(&t.value.audio_video),
                    external_access: flag(&t.value.external_access),
                    public_im: flag(&t.value.public_im),
                },
                min_client,
                kind,
                federation,
                ..Tenant::new(&name.value, &[])
            });
        }
        let mut timers = Timers::default();
        if let Some(d) = &raw.value.registration_expiry {
            if d.value.0 == Dur::ZERO {
                self.push(
                    ScenarioError::at(
                        ErrorKind::BadValue,
                        &d.mark,
                        &d.path,
                        "a registration of 0s",
                    )
                    .expected("a duration above zero, like `90s`"),
                );
            }
            timers.registration_expiry_ns = d.value.0.as_nanos();
        }
        let mut setup = ServiceSetup {
            tenants,
            users: Vec::new(),
            declared: true,
            timers,
        };
        for (addr, u) in raw.value.users.iter().flat_map(|m| m.0.iter()) {
            if !self.check_address(addr, &setup) {
                continue;
            }
            let u = &u.value;
            let list = |l: &Option<Vec<Spanned<String>>>| {
                l.iter().flatten().map(|c| c.value.clone()).collect()
            };
            setup.users.push(User {
                audio_video: u.audio_video.as_ref().map(|b| b.value),
                external_access: u.external_access.as_ref().map(|b| b.value),
                public_im: u.public_im.as_ref().map(|b| b.value),
                contacts: ContactList {
                    contacts: list(&u.contacts),
                    blocked: list(&u.blocked),
                    block_all_invites: u.block_all_invites.as_ref().is_some_and(|b| b.value),
                },
                ..User::new(
                    &addr.value,
                    u.password
                        .as_ref()
                        .map_or(DEFAULT_PASSWORD, |p| p.value.as_str()),
                )
            });
        }
        setup
    }

    /// Checks a tenant's list of domains (each a domain name, none owned twice).
    fn owned_domains(&mut self, list: &[Spanned<String>], seen: &mut Vec<String>) -> Vec<String> {
        let mut out = Vec::new();
        for d in list {
            if !self.check_domain(d) {
                continue;
            }
            if seen.iter().any(|s| s.eq_ignore_ascii_case(&d.value)) {
                self.push(
                    ScenarioError::at(
                        ErrorKind::Conflict,
                        &d.mark,
                        &d.path,
                        format!("the domain `{}` is listed twice", d.value),
                    )
                    .expected("each domain owned by one tenant"),
                );
            } else {
                seen.push(d.value.clone());
                out.push(d.value.clone());
            }
        }
        out
    }

    fn check_domain(&mut self, d: &Spanned<String>) -> bool {
        let ok = !d.value.is_empty()
            && !d.value.contains(['@', '(', ')'])
            && !d.value.chars().any(char::is_whitespace);
        if !ok {
            self.push(
                ScenarioError::at(ErrorKind::BadValue, &d.mark, &d.path, "not a domain")
                    .expected("a domain name like `contoso.com`")
                    .found(format!("`{}`", d.value)),
            );
        }
        ok
    }

    fn federation(&mut self, f: &Spanned<RawFederation>) -> Federation {
        let f = &f.value;
        let mut list = |l: &Option<Vec<Spanned<String>>>| -> Vec<String> {
            l.iter()
                .flatten()
                .filter(|d| self.check_domain(d))
                .map(|d| d.value.clone())
                .collect()
        };
        let allow = f.allow.as_ref().map(|_| list(&f.allow));
        let block = list(&f.block);
        Federation {
            enabled: f.enabled.as_ref().is_none_or(|b| b.value),
            srv: match f.srv.as_ref().map(|s| s.value) {
                None | Some(SrvText::Present) => SrvRecord::Present,
                Some(SrvText::Missing) => SrvRecord::Missing,
                Some(SrvText::Wrong) => SrvRecord::Wrong,
            },
            allow,
            block,
            min_consumer_client: f
                .min_consumer_client
                .as_ref()
                .and_then(|v| self.version(v))
                .unwrap_or_default(),
        }
    }

    /// Checks that `addr` is `user@domain` with the domain owned by a tenant.
    fn check_address(&mut self, addr: &Spanned<String>, setup: &ServiceSetup) -> bool {
        let user = addr.value.split_once('@').map_or("", |(u, _)| u);
        if user.is_empty() || addr.value.chars().any(char::is_whitespace) {
            self.push(
                ScenarioError::at(
                    ErrorKind::BadValue,
                    &addr.mark,
                    &addr.path,
                    "not an address",
                )
                .expected("an address `name@domain` without spaces, like `alice@contoso.com`")
                .found(format!("`{}`", addr.value)),
            );
            return false;
        }
        if setup.tenant_of(&addr.value).is_none() {
            let domains = setup.all_domains();
            self.push(
                ScenarioError::at(
                    ErrorKind::UnknownName,
                    &addr.mark,
                    &addr.path,
                    format!("no tenant owns the domain of `{}`", addr.value),
                )
                .expected(format!("an address at {}", super::de::one_of(&domains)))
                .found(format!("`{}`", addr.value)),
            );
            return false;
        }
        true
    }

    /// The account participant `name` signs in with (`user`, `password`, `client_version`,
    /// the last two possibly from its template).
    pub(super) fn account(
        &mut self,
        name: &str,
        own: &RawParticipant,
        password: Option<&Spanned<String>>,
        client_version: Option<&Spanned<VersionText>>,
        setup: &ServiceSetup,
    ) -> Option<AccountSpec> {
        let address = match &own.user {
            Some(u) => {
                if !self.check_address(u, setup) {
                    return None;
                }
                u.value.clone()
            }
            None => format!(
                "{name}@{}",
                setup
                    .tenants
                    .first()?
                    .domains
                    .first()
                    .map_or("", |d| d.as_str())
            ),
        };
        let own_password = setup
            .users
            .iter()
            .find(|u| u.address == address)
            .map_or(DEFAULT_PASSWORD.to_string(), |u| u.password.clone());
        let client = match client_version {
            Some(v) => self.version(v)?,
            None => setup
                .tenant_of(&address)
                .map(|t| t.min_client.max(CURRENT_CLIENT))?,
        };
        Some(AccountSpec {
            address,
            password: password.map_or(own_password, |p| p.value.clone()),
            client,
        })
    }

    /// The service's directory: its tenants, the listed users and every participant's account
    /// (two participants cannot share one).
    pub(super) fn service_spec(
        &mut self,
        setup: ServiceSetup,
        participants: &[Participant],
        raw: &OrderedMap<Spanned<RawParticipant>>,
    ) -> Option<ServiceSpec> {
        let mut users: Vec<User> = setup.users.clone();
        for (i, p) in participants.iter().enumerate() {
            let address = &p.account.address;
            if let Some(other) = participants[..i]
                .iter()
                .find(|o| &o.account.address == address)
            {
                let (mark, path) =
                    raw.0
                        .iter()
                        .find(|(k, _)| k.value == p.name)
                        .map(|(_, v)| match &v.value.user {
                            Some(u) => (u.mark.clone(), u.path.clone()),
                            None => (v.mark.clone(), v.path.clone()),
                        })?;
                self.push(
                    ScenarioError::at(
                        ErrorKind::Conflict,
                        &mark,
                        &path,
                        format!(
                            "`{}` and `{}` both sign in as `{address}`",
                            other.name, p.name
                        ),
                    )
                    .expected("one account per participant: give each its own `user`"),
                );
                return None;
            }
            if !users.iter().any(|u| &u.address == address) {
                users.push(User::new(address, DEFAULT_PASSWORD));
            }
        }
        let directory = match Directory::new(setup.tenants, users) {
            Ok(d) => d,
            Err(e) => {
                // What the checks above let through (they report each case at its field).
                let (mark, path) = raw
                    .0
                    .first()
                    .map(|(k, _)| (k.mark.clone(), "service".to_string()))?;
                self.push(
                    ScenarioError::at(ErrorKind::Conflict, &mark, &path, e.to_string())
                        .expected("tenants and users the service can be built from"),
                );
                return None;
            }
        };
        Some(ServiceSpec {
            directory,
            declared: setup.declared,
            timers: setup.timers,
        })
    }

    /// A timeline entry on the service: `{ at: 10s, service: signaling, outage: 30s }`.
    pub(super) fn service_action(
        &mut self,
        a: &Spanned<RawAction>,
        part: &Spanned<ServicePart>,
        at: &Spanned<super::raw::DurText>,
    ) -> Vec<TimedAction> {
        let r = &a.value;
        if let Some((field, mark, path)) = r
            .participant
            .as_ref()
            .map(|p| ("participant", &p.mark, &p.path))
            .or(r.site.as_ref().map(|s| ("site", &s.mark, &s.path)))
        {
            self.push(
                ScenarioError::at(
                    ErrorKind::Conflict,
                    mark,
                    path,
                    format!("give `service` or `{field}`, not both"),
                )
                .expected("one thing to act on"),
            );
            return Vec::new();
        }
        let others = [
            ("address_change", r.address_change.is_some()),
            ("profile", r.profile.is_some()),
            ("set", r.set.is_some()),
            ("cross_traffic", r.cross_traffic.is_some()),
            ("cross_traffic_stop", r.cross_traffic_stop.is_some()),
        ];
        if let Some((field, _)) = others.iter().find(|x| x.1) {
            self.push(
                ScenarioError::at(
                    ErrorKind::Conflict,
                    &part.mark,
                    &part.path,
                    format!("`{field}` cannot apply to the service"),
                )
                .expected("`outage: DURATION` (the service is down for that long)"),
            );
            return Vec::new();
        }
        let Some(d) = &r.outage else {
            self.missing(
                &a.mark,
                &a.path,
                "outage",
                "how long the service is down, like `outage: 30s`",
            );
            return Vec::new();
        };
        if d.value.0 == Dur::ZERO {
            self.push(
                ScenarioError::at(ErrorKind::BadValue, &d.mark, &d.path, "an outage of 0s")
                    .expected("a duration above zero"),
            );
            return Vec::new();
        }
        let ServicePart::Signaling = part.value;
        vec![TimedAction {
            at: at.value.0,
            target: ActionTarget::Service,
            action: NetAction::Outage {
                duration: d.value.0,
            },
        }]
    }

    /// Refuses names the world reserves (the service's and the edge's hosts and sites) and
    /// `user` in a template (a template is shared; an account is not).
    pub(super) fn check_reserved(
        &mut self,
        participants: Option<&OrderedMap<Spanned<RawParticipant>>>,
        sites: Option<&[Spanned<String>]>,
        templates: Option<&OrderedMap<Spanned<RawParticipant>>>,
    ) {
        let names = participants
            .into_iter()
            .flat_map(|m| m.0.iter().map(|(k, _)| ("participant", k)))
            .chain(sites.into_iter().flatten().map(|k| ("site", k)));
        let mut errs = Vec::new();
        for (what, k) in names {
            let owner = match k.value.as_str() {
                crate::sim::world::SERVICE_HOST => "the calling service's host",
                crate::sim::world::EDGE_HOST => "the conferencing edge (the media relay)",
                n if n.split(':').next() == Some(crate::sim::world::CROSS_TRAFFIC) => {
                    "the hidden hosts of TCP cross-traffic (`cross-traffic`, `cross-traffic:N`)"
                }
                _ => continue,
            };
            {
                errs.push(
                    ScenarioError::at(
                        ErrorKind::BadValue,
                        &k.mark,
                        &k.path,
                        format!("`{}` is reserved for {owner}", k.value),
                    )
                    .expected(format!("another {what} name")),
                );
            }
        }
        for (_, t) in templates.into_iter().flat_map(|m| m.0.iter()) {
            if let Some(u) = &t.value.user {
                errs.push(
                    ScenarioError::at(
                        ErrorKind::BadValue,
                        &u.mark,
                        &u.path,
                        "a template cannot give `user`",
                    )
                    .expected("`user` on each participant (two clients cannot share an account)"),
                );
            }
        }
        for e in errs {
            self.push(e);
        }
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
