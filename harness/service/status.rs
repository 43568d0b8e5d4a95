//! The service's answers: SIP-like response codes with their reason phrases, and the failure a
//! client shows for each refusal (a stable class plus the client's own words from the KB
//! articles).

use std::fmt;

/// A response code with the standard reason phrase (RFC 3261, section 21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    /// 200 OK.
    Ok,
    /// 401 Unauthorized: the credentials were rejected.
    Unauthorized,
    /// 403 Forbidden: understood and refused (policy, federation).
    Forbidden,
    /// 404 Not Found: no such user.
    NotFound,
    /// 480 Temporarily Unavailable: the user exists but is not signed in.
    TemporarilyUnavailable,
    /// 488 Not Acceptable Here: the offered session cannot be accepted (incompatible client).
    NotAcceptableHere,
    /// 503 Service Unavailable: the service is down.
    ServiceUnavailable,
}

impl Code {
    /// The numeric code.
    pub fn number(self) -> u16 {
        match self {
            Code::Ok => 200,
            Code::Unauthorized => 401,
            Code::Forbidden => 403,
            Code::NotFound => 404,
            Code::TemporarilyUnavailable => 480,
            Code::NotAcceptableHere => 488,
            Code::ServiceUnavailable => 503,
        }
    }

    /// RFC 3261's reason phrase.
    pub fn reason(self) -> &'static str {
        match self {
            Code::Ok => "OK",
            Code::Unauthorized => "Unauthorized",
            Code::Forbidden => "Forbidden",
            Code::NotFound => "Not Found",
            Code::TemporarilyUnavailable => "Temporarily Unavailable",
            Code::NotAcceptableHere => "Not Acceptable Here",
            Code::ServiceUnavailable => "Service Unavailable",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.number(), self.reason())
    }
}

/// Why the service refused, as a stable class a scenario can expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Refusal {
    /// Wrong password or unknown account at sign-in (SVC-LOGIN).
    SignInFailed,
    /// The client is older than the service's minimum (CLIENT-OUTDATED, FED-CLIENT-OLD).
    ClientOutdated,
    /// A request from a client that has not signed in.
    NotSignedIn,
    /// Audio/video turned off by policy, for the tenant or the user (AV-POLICY-*).
    AvDisabled,
    /// No user of that address.
    NoSuchUser,
    /// The callee is not signed in.
    Unavailable,
    /// The service is down (SVC-OUTAGE).
    ServiceDown,
}

impl Refusal {
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
        }
    }

    /// The code the service answers with.
    pub fn code(self) -> Code {
        match self {
            Refusal::SignInFailed | Refusal::NotSignedIn => Code::Unauthorized,
            Refusal::ClientOutdated => Code::NotAcceptableHere,
            Refusal::AvDisabled => Code::Forbidden,
            Refusal::NoSuchUser => Code::NotFound,
            Refusal::Unavailable => Code::TemporarilyUnavailable,
            Refusal::ServiceDown => Code::ServiceUnavailable,
        }
    }

    /// What the client shows, in the words of the KB articles where they give them.
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
        }
    }
}

/// The service's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub code: Code,
    /// Why, when refused.
    pub refusal: Option<Refusal>,
}

impl Response {
    /// 200 OK.
    pub fn ok() -> Response {
        Response {
            code: Code::Ok,
            refusal: None,
        }
    }

    /// A refusal with its code.
    pub fn refused(r: Refusal) -> Response {
        Response {
            code: r.code(),
            refusal: Some(r),
        }
    }

    /// Whether the request was accepted.
    pub fn is_ok(&self) -> bool {
        self.code == Code::Ok
    }
}
