//! The calling service as written: `service:` (tenants, users), and a participant's account
//! fields. Read like the rest of `raw.rs`; checked and converted in `service.rs`.

use super::de::Spanned;
use super::raw::OrderedMap;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;

/// The calling service every participant signs in to and every call's signaling goes
/// through. Without this section: one tenant, `example`, owning `example.com`, with every
/// participant a user `NAME@example.com`, A/V allowed and any client version accepted.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// How long a registration lasts without a refresh (default 3600s, a SIP registrar's
    /// usual default). Until it runs out, a client that vanished still shows as available.
    pub registration_expiry: Option<Spanned<super::raw::DurText>>,
    /// Organisations (and public IM providers) by name (at most 100 bytes); each owns its
    /// domains.
    #[schemars(extend("propertyNames" = { "maxLength": 100 }))]
    pub tenants: Option<OrderedMap<Spanned<RawTenant>>>,
    /// Accounts by address (`alice@contoso.com`), for the ones that need a password or a
    /// policy of their own; a participant's `user` not listed here is an account with the
    /// default password `secret` and its tenant's policy.
    pub users: Option<OrderedMap<Spanned<RawUser>>>,
}

/// One organisation.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTenant {
    /// The domains it owns (`[contoso.com]`); at least one.
    #[schemars(required)]
    pub domains: Option<Vec<Spanned<String>>>,
    /// Audio and video calls allowed for its users (default true). False: every user's
    /// calls are refused with 403 and the client shows its A/V options as unavailable
    /// (AV-POLICY-DOMAIN).
    pub audio_video: Option<Spanned<bool>>,
    /// Oldest client version it accepts (default: any). An older client's sign-in is
    /// refused with 488 as incompatible (CLIENT-OUTDATED).
    pub min_client: Option<Spanned<VersionText>>,
    /// Communication with other organisations and public IM allowed (default true; false:
    /// 403 for every external address, FED-EXTERNAL-OFF).
    pub external_access: Option<Spanned<bool>>,
    /// Communication with public IM (consumer) accounts allowed (default true; false: those
    /// contacts are unreachable, business partners fine, FED-PIC-OFF).
    pub public_im: Option<Spanned<bool>>,
    /// `organisation` (default) or `public-im`: a consumer IM provider, whose users are
    /// consumer accounts.
    pub kind: Option<Spanned<TenantKindText>>,
    /// A public IM provider's accounts on their owners' own domains (`example.org`): from
    /// outside they are reached only as `name(example.org)@<provider domain>`
    /// (FED-PIC-FORMAT).
    pub custom_domains: Option<Vec<Spanned<String>>>,
    /// How it federates with other tenants.
    pub federation: Option<Spanned<RawFederation>>,
}

/// What kind of tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TenantKindText {
    Organisation,
    PublicIm,
}

/// A tenant's federation settings.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFederation {
    /// Set up for federation (default true; false: FED-DOMAIN-NOT-FEDERATED).
    pub enabled: Option<Spanned<bool>>,
    /// Its federation DNS SRV record: `present` (default), `missing` or `wrong`; otherwise
    /// other organisations cannot find it (504, FED-SRV-MISSING).
    pub srv: Option<Spanned<SrvText>>,
    /// The only partner domains it federates with (default: any not blocked).
    pub allow: Option<Vec<Spanned<String>>>,
    /// Partner domains it refuses (FED-DOMAIN-NOT-ALLOWED).
    pub block: Option<Vec<Spanned<String>>>,
    /// Oldest consumer client it accepts from an external public IM contact (default: any;
    /// the article asks for 6.3): FED-CLIENT-OLD.
    pub min_consumer_client: Option<Spanned<VersionText>>,
}

/// A federation DNS SRV record's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SrvText {
    Present,
    Missing,
    Wrong,
}

/// One account.
#[derive(Debug, Clone, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawUser {
    /// The account's password (default `secret`).
    pub password: Option<Spanned<String>>,
    /// This user's own A/V setting, over the tenant's (AV-POLICY-USER).
    pub audio_video: Option<Spanned<bool>>,
    /// This user's own external access setting, over the tenant's (FED-EXTERNAL-OFF).
    pub external_access: Option<Spanned<bool>>,
    /// This user's own public IM setting, over the tenant's (FED-PIC-OFF).
    pub public_im: Option<Spanned<bool>>,
    /// Addresses on the contact list, as written (an external contact must be on it, and
    /// have this user on theirs: FED-CONTACT-PERMISSION).
    pub contacts: Option<Vec<Spanned<String>>>,
    /// Addresses blocked, as written.
    pub blocked: Option<Vec<Spanned<String>>>,
    /// "Block all invites and communications" from public IM contacts (default false).
    pub block_all_invites: Option<Spanned<bool>>,
}

/// A client version as written, like `8.1` or `16.0.4`: the text, read as written (so `7.10`
/// is 7.10, not the number 7.1).
#[derive(Debug, Clone)]
pub struct VersionText(pub String);

impl<'de> Deserialize<'de> for VersionText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(VersionText)
    }
}

impl JsonSchema for VersionText {
    fn schema_name() -> Cow<'static, str> {
        "VersionText".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "number"],
            "description": "A client version: up to three numbers joined by dots, like 8.1 or 16.0.4"
        })
    }
}

/// What part of the service a timeline entry acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ServicePart {
    /// Sign-in and call signaling: while it is out every request is answered 503 and
    /// sessions are lost (SVC-OUTAGE).
    Signaling,
}
