//! Errors of a REST call: the portal's codes (per method and portal-wide), HTTP, transport
//! and decoding. No error ever carries the request URL, the webhook secret or a token: text
//! taken from an answer passes a [`crate::Redactor`] before it is stored in one.

use std::fmt;

use serde_json::{Map, Value};

/// A method's documented error codes, generated from its spec, with an `Unknown` fallback
/// so that a code the spec does not know never breaks a caller.
pub trait MethodErrorCode: Clone + fmt::Debug + PartialEq + Send + Sync + 'static {
    /// The documented code for `code`, if the spec lists it.
    fn documented(code: &str) -> Option<Self>;
    /// The fallback for a code neither the method nor the portal documents.
    fn unknown(code: String) -> Self;
    /// The wire code.
    fn as_str(&self) -> &str;
    /// The HTTP status the docs give for this code.
    fn documented_status(&self) -> Option<u16>;
}

/// Error codes of a method without documented codes (raw calls by name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndocumentedCode(pub String);

impl MethodErrorCode for UndocumentedCode {
    fn documented(_: &str) -> Option<Self> {
        None
    }
    fn unknown(code: String) -> Self {
        UndocumentedCode(code)
    }
    fn as_str(&self) -> &str {
        &self.0
    }
    fn documented_status(&self) -> Option<u16> {
        None
    }
}

impl fmt::Display for UndocumentedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! portal_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $status:literal, $desc:literal; )*) => {
        /// Error codes any method may answer (`_includes/system-errors.md` of the docs, plus
        /// the ones the server code shows).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum PortalErrorCode {
            $( $(#[$doc])* $variant, )*
        }

        impl PortalErrorCode {
            /// Every portal-wide code.
            pub const ALL: &'static [PortalErrorCode] = &[$(PortalErrorCode::$variant,)*];

            /// The portal-wide code for `code`, matched exactly, then ignoring ASCII case.
            pub fn parse(code: &str) -> Option<PortalErrorCode> {
                match code {
                    $( $code => Some(PortalErrorCode::$variant), )*
                    _ => Self::ALL.iter().copied().find(|c| c.as_str().eq_ignore_ascii_case(code)),
                }
            }

            /// The wire code.
            pub fn as_str(self) -> &'static str {
                match self { $( PortalErrorCode::$variant => $code, )* }
            }

            /// The HTTP status the docs give for this code.
            pub fn documented_status(self) -> u16 {
                match self { $( PortalErrorCode::$variant => $status, )* }
            }

            /// The `error_description` the portal sends with this code when nothing more
            /// specific is said (the docs' system-errors table).
            pub fn default_description(self) -> &'static str {
                match self { $( PortalErrorCode::$variant => $desc, )* }
            }
        }
    };
}

portal_codes! {
    /// 500: internal server error.
    InternalServerError = "INTERNAL_SERVER_ERROR", 500,
        "Internal server error";
    /// 500: the server returned an unexpected response.
    ErrorUnexpectedAnswer = "ERROR_UNEXPECTED_ANSWER", 500,
        "Server returned an unexpected response";
    /// 503: the portal's request-rate limit (leaky bucket) is exceeded; the call did not run.
    QueryLimitExceeded = "QUERY_LIMIT_EXCEEDED", 503,
        "Too many requests";
    /// 429: the method is blocked for exceeding its operating-time budget.
    OperationTimeLimit = "OPERATION_TIME_LIMIT", 429,
        "Method is blocked due to operation time limit.";
    /// 405: the method may not be called inside `batch`.
    ErrorBatchMethodNotAllowed = "ERROR_BATCH_METHOD_NOT_ALLOWED", 405,
        "Method is not allowed for batch usage";
    /// 400: more than 50 commands in one `batch`.
    ErrorBatchLengthExceeded = "ERROR_BATCH_LENGTH_EXCEEDED", 400,
        "Max batch length exceeded";
    /// 401: wrong access token or webhook code.
    NoAuthFound = "NO_AUTH_FOUND", 401,
        "Wrong authorization data";
    /// 400: HTTPS required.
    InvalidRequest = "INVALID_REQUEST", 400,
        "Https required.";
    /// 503: REST API blocked for overload (manual block).
    OverloadLimit = "OVERLOAD_LIMIT", 503,
        "REST API is blocked due to overload";
    /// 403: REST API is available only on commercial plans (the server code answers 401).
    AccessDenied = "ACCESS_DENIED", 403,
        "REST API is available only on commercial plans";
    /// 403: the user behind the token or webhook lacks rights (the server code answers 401).
    InvalidCredentials = "INVALID_CREDENTIALS", 403,
        "Invalid request credentials";
    /// 404: manifest is not available.
    ErrorManifestIsNotAvailable = "ERROR_MANIFEST_IS_NOT_AVAILABLE", 404,
        "Manifest is not available";
    /// 403: the token lacks the method's scope (the server code answers 401).
    InsufficientScope = "insufficient_scope", 403,
        "The request requires higher privileges than provided by the webhook token";
    /// 401: the access token has expired; refresh it.
    ExpiredToken = "expired_token", 401,
        "The access token provided has expired";
    /// 401: the access token is not valid.
    InvalidToken = "invalid_token", 401,
        "The access token provided is invalid";
    /// 403: the user has no access to the application.
    UserAccessError = "user_access_error", 403,
        "The user does not have access to the application";
    /// 500: the portal was deleted or its public part is closed.
    PortalDeleted = "PORTAL_DELETED", 500,
        "Portal was deleted";
    /// 404: no such method.
    ErrorMethodNotFound = "ERROR_METHOD_NOT_FOUND", 404,
        "Method not found!";
}

impl fmt::Display for PortalErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `error` code of a failed call: one the method documents (or its `Unknown` fallback),
/// or one any method may answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiErrorCode<C> {
    /// A code of this method (or `C`'s unknown fallback).
    Method(C),
    /// A portal-wide code.
    Portal(PortalErrorCode),
}

impl<C: MethodErrorCode> ApiErrorCode<C> {
    /// Classifies a wire code: the method's documented codes first, then the portal-wide
    /// ones, then the method's unknown fallback.
    pub fn parse(code: &str) -> Self {
        if let Some(c) = C::documented(code) {
            ApiErrorCode::Method(c)
        } else if let Some(p) = PortalErrorCode::parse(code) {
            ApiErrorCode::Portal(p)
        } else {
            ApiErrorCode::Method(C::unknown(code.to_string()))
        }
    }

    /// The wire code.
    pub fn as_str(&self) -> &str {
        match self {
            ApiErrorCode::Method(c) => c.as_str(),
            ApiErrorCode::Portal(p) => p.as_str(),
        }
    }
}

impl<C: MethodErrorCode> fmt::Display for ApiErrorCode<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error the portal answered with: `{"error": CODE, "error_description": TEXT}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError<C> {
    /// HTTP status.
    pub status: u16,
    /// The code.
    pub code: ApiErrorCode<C>,
    /// `error_description`.
    pub description: String,
    /// Other keys of the error body (some methods add e.g. `argument`).
    pub extra: Map<String, Value>,
}

/// When a transport failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportPhase {
    /// Before the request was sent (connect, TLS, DNS): the portal did not see it.
    Connect,
    /// After the request was sent and before any answer (the connection closed or timed
    /// out): the portal may have run the call.
    AfterSend,
    /// The answer's status arrived and its body broke off: the portal ran the call.
    Reading,
}

/// Everything that can go wrong in a typed call of method `M`, with its error codes `C`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<C = UndocumentedCode> {
    /// The portal answered with an error code.
    #[error("{method}: {error}")]
    Api {
        /// REST method.
        method: String,
        /// The error (boxed: it is the large variant).
        error: Box<ApiError<C>>,
    },
    /// The answer is not a REST envelope (an HTML error page from a proxy, an empty body...).
    #[error(
        "{method}: HTTP {status}: the answer is not a REST envelope ({content_type}): {excerpt:?}"
    )]
    UnexpectedResponse {
        /// REST method.
        method: String,
        /// HTTP status.
        status: u16,
        /// `Content-Type` of the answer (or `unknown`).
        content_type: String,
        /// The first characters of the body.
        excerpt: String,
    },
    /// The envelope is JSON but does not match the method's types, or is cut short.
    #[error("{method}: cannot decode the answer (HTTP {status}) at `{path}`: {message}")]
    Decode {
        /// REST method.
        method: String,
        /// HTTP status.
        status: u16,
        /// JSON path of the bad value (`result.readed_list[0].date`).
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The connection failed or timed out.
    #[error("{method}: transport failure ({phase:?}): {source}")]
    Transport {
        /// REST method.
        method: String,
        /// Whether the request had been sent.
        phase: TransportPhase,
        /// The cause (never carries the URL).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A call whose request may have reached the portal but whose answer was lost, cut off or
    /// unreadable (or, in a `batch`, an answer that lacks this command): it may or may not
    /// have run, and a write is never replayed automatically.
    #[error("{method}: outcome unknown: the request was sent but its answer was lost or unreadable ({source}); the call may or may not have run and was not retried")]
    OutcomeUnknown {
        /// REST method.
        method: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A command of a `batch` that the portal provably did not run: `halt` stopped the batch
    /// at an earlier error, or the batch request was refused before anything ran (no
    /// connection, the rate or operating-time limit, an auth error).
    #[error("{method}: not executed: {reason}")]
    NotExecuted {
        /// REST method.
        method: String,
        /// Why.
        reason: String,
    },
    /// The OAuth access token expired and could not be refreshed.
    #[error("{method}: the access token expired and refreshing it failed: {reason}")]
    TokenRefresh {
        /// REST method.
        method: String,
        /// Why (never contains a token).
        #[source]
        reason: crate::TokenRefreshError,
    },
    /// The client's rate limiter could not give the request a slot (a limiter shared
    /// through another service, such as Redis, that is down or slow): nothing was sent.
    #[error("{method}: not sent: {source}")]
    RateLimiter {
        /// REST method.
        method: String,
        /// Why.
        #[source]
        source: crate::LimiterError,
    },
    /// The request could not be built (bad parameters, bad configuration).
    #[error("{method}: invalid request: {message}")]
    InvalidRequest {
        /// REST method.
        method: String,
        /// What is wrong.
        message: String,
    },
}

impl<C: MethodErrorCode> fmt::Display for ApiError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (HTTP {}): {}",
            self.code.as_str(),
            self.status,
            self.description
        )
    }
}

impl<C: MethodErrorCode> Error<C> {
    /// The REST method the error is about.
    pub fn method(&self) -> &str {
        match self {
            Error::Api { method, .. }
            | Error::UnexpectedResponse { method, .. }
            | Error::Decode { method, .. }
            | Error::Transport { method, .. }
            | Error::OutcomeUnknown { method, .. }
            | Error::NotExecuted { method, .. }
            | Error::TokenRefresh { method, .. }
            | Error::RateLimiter { method, .. }
            | Error::InvalidRequest { method, .. } => method,
        }
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { error, .. } => Some(error.status),
            Error::UnexpectedResponse { status, .. } | Error::Decode { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// The portal's error code, when it answered with one.
    pub fn code(&self) -> Option<&ApiErrorCode<C>> {
        match self {
            Error::Api { error, .. } => Some(&error.code),
            _ => None,
        }
    }

    /// Whether the portal answered with this portal-wide code.
    pub fn is_portal(&self, code: PortalErrorCode) -> bool {
        matches!(self.code(), Some(ApiErrorCode::Portal(p)) if *p == code)
    }

    /// The same error with the method's codes erased to strings, so errors of different
    /// methods fit one type.
    pub fn into_untyped(self) -> Error<UndocumentedCode> {
        match self {
            Error::Api { method, error } => Error::Api {
                method,
                error: Box::new(ApiError {
                    status: error.status,
                    code: match error.code {
                        ApiErrorCode::Method(c) => {
                            ApiErrorCode::Method(UndocumentedCode(c.as_str().to_string()))
                        }
                        ApiErrorCode::Portal(p) => ApiErrorCode::Portal(p),
                    },
                    description: error.description,
                    extra: error.extra,
                }),
            },
            Error::UnexpectedResponse {
                method,
                status,
                content_type,
                excerpt,
            } => Error::UnexpectedResponse {
                method,
                status,
                content_type,
                excerpt,
            },
            Error::Decode {
                method,
                status,
                path,
                message,
            } => Error::Decode {
                method,
                status,
                path,
                message,
            },
            Error::Transport {
                method,
                phase,
                source,
            } => Error::Transport {
                method,
                phase,
                source,
            },
            Error::OutcomeUnknown { method, source } => Error::OutcomeUnknown { method, source },
            Error::NotExecuted { method, reason } => Error::NotExecuted { method, reason },
            Error::TokenRefresh { method, reason } => Error::TokenRefresh { method, reason },
            Error::RateLimiter { method, source } => Error::RateLimiter { method, source },
            Error::InvalidRequest { method, message } => Error::InvalidRequest { method, message },
        }
    }
}
