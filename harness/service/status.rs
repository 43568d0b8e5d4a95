//! The service's answers: SIP-like response codes with their reason phrases, the failure a
//! client shows for each refusal (a stable class plus the client's own words from the KB
//! articles), and the text shown for one specific request.

use std::fmt;

/// A response code with the standard reason phrase (RFC 3261, section 21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    /// 200 OK.
    Ok,
    /// 401 Unauthorized: the credentials were rejected, or the client is not signed in.
    Unauthorized,
    /// 403 Forbidden: understood and refused (policy, federation, contact permission).
    Forbidden,
    /// 404 Not Found: no such user, or an address that names nobody as written.
    NotFound,
    /// 408 Request Timeout: the callee's client did not answer (it is registered but cannot be
    /// reached, as while it roams).
    RequestTimeout,
    /// 480 Temporarily Unavailable: the user exists but is not signed in.
    TemporarilyUnavailable,
    /// 488 Not Acceptable Here: the session cannot be accepted (an incompatible client).
    NotAcceptableHere,
    /// 503 Service Unavailable: the service (its signaling) is down.
    ServiceUnavailable,
    /// 504 Server Time-out: a server the service needed (a partner's federation edge) could
    /// not be located or did not answer.
    ServerTimeout,
}

impl Code {
    /// The numeric code.
    pub fn number(self) -> u16 {
        match self {
            Code::Ok => 200,
            Code::Unauthorized => 401,
            Code::Forbidden => 403,
            Code::NotFound => 404,
            Code::RequestTimeout => 408,
            Code::TemporarilyUnavailable => 480,
            Code::NotAcceptableHere => 488,
            Code::ServiceUnavailable => 503,
            Code::ServerTimeout => 504,
        }
    }

    /// RFC 3261's reason phrase.
    pub fn reason(self) -> &'static str {
        match self {
            Code::Ok => "OK",
            Code::Unauthorized => "Unauthorized",
            Code::Forbidden => "Forbidden",
            Code::NotFound => "Not Found",
            Code::RequestTimeout => "Request Timeout",
            Code::TemporarilyUnavailable => "Temporarily Unavailable",
            Code::NotAcceptableHere => "Not Acceptable Here",
            Code::ServiceUnavailable => "Service Unavailable",
            Code::ServerTimeout => "Server Time-out",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.number(), self.reason())
    }
}

/// Why the service refused, as a stable class a scenario can expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Refusal {
    /// Wrong password or unknown account at sign-in (SVC-LOGIN).
    SignInFailed,
    /// The client signing in is older than its own service's minimum (CLIENT-OUTDATED).
    ClientOutdated,
    /// A request from a client that has not signed in (or whose registration expired).
    NotSignedIn,
    /// Audio/video turned off by policy, for the tenant or the user (AV-POLICY-*).
    AvDisabled,
    /// No user of that address.
    NoSuchUser,
    /// The callee is not signed in.
    Unavailable,
    /// The service is down (SVC-OUTAGE).
    ServiceDown,
    /// The callee is registered but its client could not be reached (it roams, or its network
    /// is down), so the request timed out (NET-ROAMING).
    Unreachable,
    /// External communication is off for one end, by its tenant or for the user
    /// (FED-EXTERNAL-OFF).
    ExternalAccessOff,
    /// Public IM connectivity is off for the organisation's end (FED-PIC-OFF).
    PublicImOff,
    /// The other end's organisation (or this one) is not set up for federation
    /// (FED-DOMAIN-NOT-FEDERATED).
    DomainNotFederated,
    /// One side's allow list leaves out, or its block list names, the other's domain
    /// (FED-DOMAIN-NOT-ALLOWED).
    DomainNotAllowed,
    /// A federation DNS SRV record is missing or points to the wrong place, so the partner's
    /// edge cannot be found (FED-SRV-MISSING).
    FederationSrvMissing,
    /// A public IM account on a custom domain addressed plainly instead of in the provider's
    /// special format (FED-PIC-FORMAT).
    PublicImAddressFormat,
    /// The external consumer contact's client is older than the organisation accepts
    /// (FED-CLIENT-OLD).
    ExternalClientOutdated,
    /// One of the two external contacts has blocked the other, or blocks all invites from
    /// public IM contacts (FED-CONTACT-PERMISSION).
    ContactBlocked,
    /// The two external contacts have not both added each other (FED-CONTACT-PERMISSION).
    NotMutualContacts,
}

impl Refusal {
    /// Every refusal, in declaration order.
    pub const ALL: [Refusal; 17] = [
        Refusal::SignInFailed,
        Refusal::ClientOutdated,
        Refusal::NotSignedIn,
        Refusal::AvDisabled,
        Refusal::NoSuchUser,
        Refusal::Unavailable,
        Refusal::ServiceDown,
        Refusal::Unreachable,
        Refusal::ExternalAccessOff,
        Refusal::PublicImOff,
        Refusal::DomainNotFederated,
        Refusal::DomainNotAllowed,
        Refusal::FederationSrvMissing,
        Refusal::PublicImAddressFormat,
        Refusal::ExternalClientOutdated,
        Refusal::ContactBlocked,
        Refusal::NotMutualContacts,
    ];

    /// The class name reports and scenarios use (`sign-in-failed`...).
    pub fn class(self) -> &'static str {
        match self {
            Refusal::SignInFailed => "sign-in-failed",
            Refusal::ClientOutdated => "client-outdated",
            Refusal::NotSignedIn => "not-signed-in",
            Refusal::AvDisabled => "av-disabled",
            Refusal::NoSuchUser => "no-such-user",
            Refusal::Unavailable => "unavailable",
            Refusal::ServiceDown => "service-down",
            Refusal::Unreachable => "unreachable",
            Refusal::ExternalAccessOff => "external-access-off",
            Refusal::PublicImOff => "public-im-off",
            Refusal::DomainNotFederated => "domain-not-federated",
            Refusal::DomainNotAllowed => "domain-not-allowed",
            Refusal::FederationSrvMissing => "federation-srv-missing",
            Refusal::PublicImAddressFormat => "public-im-address-format",
            Refusal::ExternalClientOutdated => "external-client-outdated",
            Refusal::ContactBlocked => "contact-blocked",
            Refusal::NotMutualContacts => "not-mutual-contacts",
        }
    }

    /// The code the service answers with.
    pub fn code(self) -> Code {
        match self {
            Refusal::SignInFailed | Refusal::NotSignedIn => Code::Unauthorized,
            Refusal::ClientOutdated | Refusal::ExternalClientOutdated => Code::NotAcceptableHere,
            Refusal::AvDisabled
            | Refusal::ExternalAccessOff
            | Refusal::PublicImOff
            | Refusal::DomainNotFederated
            | Refusal::DomainNotAllowed
            | Refusal::ContactBlocked
            | Refusal::NotMutualContacts => Code::Forbidden,
            Refusal::NoSuchUser | Refusal::PublicImAddressFormat => Code::NotFound,
            Refusal::Unreachable => Code::RequestTimeout,
            Refusal::Unavailable => Code::TemporarilyUnavailable,
            Refusal::ServiceDown => Code::ServiceUnavailable,
            Refusal::FederationSrvMissing => Code::ServerTimeout,
        }
    }

    /// The failure-catalog ID (`../shared/kb/CATALOG.md`) this refusal reproduces, if any.
    pub fn kb(self) -> Option<&'static str> {
        Some(match self {
            Refusal::SignInFailed => "SVC-LOGIN",
            Refusal::ClientOutdated => "CLIENT-OUTDATED",
            Refusal::ServiceDown => "SVC-OUTAGE",
            Refusal::Unreachable => "NET-ROAMING",
            Refusal::ExternalAccessOff => "FED-EXTERNAL-OFF",
            Refusal::PublicImOff => "FED-PIC-OFF",
            Refusal::DomainNotFederated => "FED-DOMAIN-NOT-FEDERATED",
            Refusal::DomainNotAllowed => "FED-DOMAIN-NOT-ALLOWED",
            Refusal::FederationSrvMissing => "FED-SRV-MISSING",
            Refusal::PublicImAddressFormat => "FED-PIC-FORMAT",
            Refusal::ExternalClientOutdated => "FED-CLIENT-OLD",
            Refusal::ContactBlocked | Refusal::NotMutualContacts => "FED-CONTACT-PERMISSION",
            Refusal::NotSignedIn
            | Refusal::AvDisabled
            | Refusal::NoSuchUser
            | Refusal::Unavailable => return None,
        })
    }

    /// Whether this is a failure to communicate across organisations: an IM refused for one
    /// of these shows the KB article's "not delivered ... not federated" message.
    pub fn is_federation(self) -> bool {
        matches!(
            self,
            Refusal::ExternalAccessOff
                | Refusal::PublicImOff
                | Refusal::DomainNotFederated
                | Refusal::DomainNotAllowed
                | Refusal::FederationSrvMissing
                | Refusal::PublicImAddressFormat
                | Refusal::ExternalClientOutdated
                | Refusal::ContactBlocked
                | Refusal::NotMutualContacts
        )
    }

    /// Whether the client logs the KB article's 403 line for it: the refusals where the
    /// sender's address is not authorised to reach the partner's domain at all.
    pub fn logs_not_authorized(self) -> bool {
        matches!(
            self,
            Refusal::ExternalAccessOff
                | Refusal::PublicImOff
                | Refusal::DomainNotFederated
                | Refusal::DomainNotAllowed
        )
    }

    /// What the client shows, in general terms (the KB articles' words where they give them);
    /// [`Response::shown`] has the text for one specific request.
    pub fn client_words(self) -> &'static str {
        match self {
            Refusal::SignInFailed => {
                "You can't log in: the password or account is not recognised (reset your password)"
            }
            Refusal::ClientOutdated => {
                "This version is no longer supported: update to the latest version to communicate"
            }
            Refusal::NotSignedIn => "You are not signed in",
            Refusal::AvDisabled => "Certain audio and video options are unavailable",
            Refusal::NoSuchUser => "This contact could not be found",
            Refusal::Unavailable => "The contact is not available",
            Refusal::ServiceDown => "The service is having problems: it is not your connection",
            Refusal::Unreachable => "The contact appears signed in but could not be reached",
            Refusal::ExternalAccessOff => {
                "Communication with people outside your organization is turned off"
            }
            Refusal::PublicImOff => "Communication with public IM contacts is turned off",
            Refusal::DomainNotFederated => {
                "The contact's organization is not set up for federation with yours"
            }
            Refusal::DomainNotAllowed => {
                "The contact's domain is not on the allowed list, or is on the blocked list"
            }
            Refusal::FederationSrvMissing => {
                "The contact's organization could not be located (its federation DNS record is missing or wrong)"
            }
            Refusal::PublicImAddressFormat => {
                "This public IM contact has to be added in the special format for custom-domain accounts"
            }
            Refusal::ExternalClientOutdated => {
                "The contact's client is too old to communicate with your organization until it is upgraded"
            }
            Refusal::ContactBlocked => {
                "One of you has blocked the other, or blocks all invites and communications"
            }
            Refusal::NotMutualContacts => {
                "You and this contact have to add each other to your contact lists"
            }
        }
    }
}

/// The message the KB article quotes when an IM to an external contact is refused, for the
/// address written `to`. The article prints its placeholder run into "because"
/// (`joe@contoso-federated.combecause`); the placeholder is the address alone, so the space
/// is kept here.
pub fn not_delivered_text(to: &str) -> String {
    format!(
        "This message was not delivered to {to} because the address is outside your organization \
         and is not federated with your company, or the address is incorrect. Please contact \
         your support team with this information."
    )
}

/// The line the KB article says the client (Lync 2010 UCCAPI) logs for a federation 403.
pub const NOT_AUTHORIZED_LOG_LINE: &str =
    "403 Forbidden: From URI not authorized to communicate with federated partners.";

/// What a client shows for a contact whose presence it may not see.
pub const PRESENCE_UNKNOWN: &str = "Presence Unknown";

/// The service's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The SIP-like code and reason phrase.
    pub code: Code,
    /// Why, when refused.
    pub refusal: Option<Refusal>,
    /// What the client shows for this request (the address filled in), when refused: the KB
    /// article's text where it has one, else the refusal's [`Refusal::client_words`].
    pub shown: Option<String>,
    /// The line the client logs, where the KB article gives one.
    pub log_line: Option<String>,
}

impl Response {
    /// 200 OK.
    pub fn ok() -> Response {
        Response {
            code: Code::Ok,
            refusal: None,
            shown: None,
            log_line: None,
        }
    }

    /// A refusal with its code, showing the refusal's general words.
    pub fn refused(r: Refusal) -> Response {
        Response {
            code: r.code(),
            refusal: Some(r),
            shown: Some(r.client_words().to_string()),
            log_line: None,
        }
    }

    /// The same response showing `text` instead.
    pub fn showing(mut self, text: impl Into<String>) -> Response {
        self.shown = Some(text.into());
        self
    }

    /// The same response with the client logging `line`.
    pub fn logging(mut self, line: impl Into<String>) -> Response {
        self.log_line = Some(line.into());
        self
    }

    /// Whether the request was accepted.
    pub fn is_ok(&self) -> bool {
        self.code == Code::Ok
    }
}
