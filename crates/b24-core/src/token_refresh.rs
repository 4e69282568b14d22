//! Why an OAuth token refresh failed, as a type: the application reacts differently to a
//! refresh token that is spent (authorize again), wrong credentials or an application that
//! is not installed (fix the configuration), and a token endpoint that could not be reached
//! (try later).

use std::sync::Arc;
use std::time::Duration;

/// A failed OAuth token refresh. Never carries a token or the client secret: descriptions
/// from the authorization server are cut short and scrubbed of both.
///
/// Cheap to clone: every caller waiting for one refresh gets the same error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRefreshError {
    /// The client has no refresh token and application credentials to refresh with.
    #[error("no refresh token configured (use ClientBuilder::refresh)")]
    NotConfigured,
    /// `invalid_grant`: the refresh token was revoked, has expired (it lives 180 days) or was
    /// already exchanged once. Refreshing again cannot help: the application must be
    /// authorized again to get a new pair.
    #[error("the refresh token was refused (invalid_grant): {description}")]
    InvalidGrant {
        /// `error_description` of the authorization server.
        description: String,
    },
    /// `invalid_client`: the `client_id` or `client_secret` is wrong, or the application is
    /// not installed on this portal.
    #[error("the application credentials were refused (invalid_client): {description}")]
    InvalidClient {
        /// `error_description` of the authorization server.
        description: String,
    },
    /// `PAYMENT_REQUIRED`: the application's trial or paid period is over; no tokens are
    /// issued until it is renewed.
    #[error("the application's paid period is over (PAYMENT_REQUIRED): {description}")]
    PaymentRequired {
        /// `error_description` of the authorization server.
        description: String,
    },
    /// Another error code of the authorization server (`invalid_request`, `invalid_scope`...).
    #[error("the token endpoint refused (HTTP {status}): {code}: {description}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The `error` code.
        code: String,
        /// `error_description`.
        description: String,
    },
    /// The token endpoint could not be reached, or its answer was lost or timed out.
    #[error("the token endpoint could not be reached: {source}")]
    Transport {
        /// The cause (never carries the URL, whose query holds the secrets).
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// The token endpoint answered, but not with a pair of tokens or an OAuth error (not
    /// JSON, a token missing, larger than the size limit...).
    #[error("the token endpoint answered HTTP {status} with no usable tokens: {reason}")]
    InvalidAnswer {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        reason: String,
    },
    /// New tokens were issued and are in use, but the token store failed to save them: a
    /// restarted process would only have the spent refresh token.
    #[error("refreshed, but the token store failed to save the new tokens: {source}")]
    Store {
        /// The store's error.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// New tokens were issued and are in use, but the token store did not save them within
    /// its timeout.
    #[error("refreshed, but the token store did not save the new tokens within {timeout:?}")]
    StoreTimeout {
        /// The configured timeout.
        timeout: Duration,
    },
    /// The store that shares the tokens between processes (Redis) could not be reached, did
    /// not answer in time, or another process's refresh did not end in time: no token was
    /// exchanged by this process.
    #[error("the shared token store failed: {source}")]
    Coordination {
        /// The store's error (never carries a token).
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// The refresh stopped before it finished (the async runtime is shutting down).
    #[error("the token refresh was interrupted")]
    Interrupted,
}

impl TokenRefreshError {
    /// Whether new tokens were issued (and are in use) despite the error: the store failed.
    pub fn tokens_refreshed(&self) -> bool {
        matches!(
            self,
            TokenRefreshError::Store { .. } | TokenRefreshError::StoreTimeout { .. }
        )
    }

    /// Whether retrying the refresh with the same refresh token and credentials cannot
    /// succeed (`invalid_grant`, `invalid_client`, nothing configured).
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            TokenRefreshError::NotConfigured
                | TokenRefreshError::InvalidGrant { .. }
                | TokenRefreshError::InvalidClient { .. }
        )
    }
}

/// Why a rate limiter shared between processes (through Redis, say) could not give a request
/// its slot. The request was not sent.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LimiterError {
    /// The shared limiter did not answer within its timeout.
    #[error("the shared rate limiter did not answer within {timeout:?}")]
    Timeout {
        /// The configured timeout.
        timeout: Duration,
    },
    /// The shared limiter could not be reached or refused the request.
    #[error("the shared rate limiter is unavailable: {source}")]
    Unavailable {
        /// The cause.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
}
