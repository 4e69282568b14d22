//! Typed async client for the Bitrix24 open lines REST API.
//!
//! Every method of `spec/` is generated into a module (`imopenlines::dialog_get`) with its
//! `Request`, `Response`, `ErrorCode` and documented `EXAMPLES`, and into a method of
//! [`Client`]:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use b24_openlines::{imopenlines::dialog_get, Client};
//!
//! let client = Client::from_webhook("https://example.bitrix24.ru/rest/1/secret/")?;
//! let dialog = client.dialog_get(dialog_get::Request::chat_id(1777)).await?;
//! println!("{} ({})", dialog.name, dialog.dialog_id.unwrap_or_default());
//! # Ok(()) }
//! ```
//!
//! The events the portal posts to an application (`spec/events/`) are generated into
//! [`events`]: [`events::Event::parse`] checks `auth[application_token]` and decodes the
//! form-encoded body into one typed variant per event.
//!
//! ```
//! use b24_openlines::{events::Event, ApplicationToken};
//!
//! # let body = b"event=ONIMCONNECTORMESSAGEADD&data[CONNECTOR]=my&data[LINE]=107&data[MESSAGES][0][im][chat_id]=1807&data[MESSAGES][0][im][message_id]=86497&data[MESSAGES][0][message][user_id]=27&data[MESSAGES][0][message][text]=Hi&data[MESSAGES][0][chat][id]=channel-123&auth[application_token]=831c76b092f9f135d9b6b36c3a720757";
//! let token = ApplicationToken::new("831c76b092f9f135d9b6b36c3a720757"); // saved at install
//! match Event::parse(body, &token)? {
//!     Event::OnImConnectorMessageAdd(e) => {
//!         let m = &e.data.messages[0];
//!         assert_eq!((m.im.chat_id, m.message.text.as_str()), (1807, "Hi"));
//!     }
//!     other => println!("not handled: {}", other.name()),
//! }
//! # Ok::<(), b24_openlines::EventError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;

pub use b24_core::event::{
    ApplicationToken, Delivery, EventAuth, EventError, ForgeryReason, PortalClaim,
};
pub use b24_core::{
    decode_json, ApiError, ApiErrorCode, Call, DecodeError, Envelope, Error, Example, Method,
    MethodErrorCode, MethodKind, PortalErrorCode, Time, TokenRefreshError, TransportPhase,
    UndocumentedCode,
};
pub use b24_runtime::{
    Batch, BatchResults, ConfigError, Exchange, Handle, LeakyBucket, LimiterError, LimiterFuture,
    OAuthConfig, OAuthTokens, RateLimit, RateLimiter, Refreshed, RetryPolicy, Secret, StoreError,
    TokenCoordinator, TokenFuture, TokenStore, BATCH_LIMIT, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TOKEN_ENDPOINT,
};

/// Settings of a [`Client`]: timeouts, rate limit, retries, OAuth refresh, TLS roots; from
/// [`Client::builder_webhook`] or [`Client::builder_oauth`], finished with `build()`.
pub type ClientBuilder = b24_runtime::ClientBuilder<Client>;

// Every Rust block of the workspace README compiles against this crate alone.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// A client of one portal's open lines. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    runtime: b24_runtime::Client,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.runtime.fmt(f)
    }
}

impl From<b24_runtime::Client> for Client {
    fn from(runtime: b24_runtime::Client) -> Self {
        Client { runtime }
    }
}

impl Client {
    /// A client for an incoming webhook `https://<portal>/rest/<user>/<secret>/`.
    pub fn from_webhook(url: &str) -> Result<Client, ConfigError> {
        b24_runtime::Client::from_webhook(url).map(Client::from)
    }

    /// A client for an OAuth access token on `portal`.
    pub fn from_oauth(
        portal: &str,
        access_token: impl Into<String>,
    ) -> Result<Client, ConfigError> {
        b24_runtime::Client::from_oauth(portal, access_token).map(Client::from)
    }

    /// Settings for a webhook client (`https://<portal>/rest/<user>/<secret>/`): rate limit,
    /// retries, timeouts, extra root certificates; finish with `build()`.
    pub fn builder_webhook(url: &str) -> ClientBuilder {
        b24_runtime::Client::builder_webhook(url).building()
    }

    /// Settings for an OAuth client on `portal`; add [`ClientBuilder::refresh`] so an
    /// expired token is refreshed and the new pair handed to your [`TokenStore`].
    pub fn builder_oauth(portal: &str, access_token: impl Into<String>) -> ClientBuilder {
        b24_runtime::Client::builder_oauth(portal, access_token).building()
    }

    /// The portal root (`https://<portal>/`), without secrets.
    pub fn portal(&self) -> &url::Url {
        self.runtime.portal()
    }

    /// The client-side rate-limit bucket, if any (share it with
    /// [`ClientBuilder::shared_bucket`]).
    pub fn bucket(&self) -> Option<&LeakyBucket> {
        self.runtime.bucket()
    }

    /// The current OAuth pair (after any refresh), for OAuth clients.
    pub fn oauth_tokens(&self) -> Option<OAuthTokens> {
        self.runtime.oauth_tokens()
    }

    /// The transport under this client (raw calls, envelopes).
    pub fn runtime(&self) -> &b24_runtime::Client {
        &self.runtime
    }

    /// Calls any generated method: `client.call(&dialog_get::Request::chat_id(1)).await`.
    pub async fn call<M: Method>(&self, request: &M) -> Result<M::Output, Error<M::ErrorCode>> {
        self.runtime.call(request).await
    }

    /// An empty typed batch: `let h = batch.push(&req); batch.send().await.get(h)`.
    pub fn batch(&self) -> b24_runtime::Batch {
        self.runtime.batch()
    }

    /// Independent calls of one method, 50 to a `batch` request, results in order.
    pub async fn many<M: Method>(
        &self,
        requests: impl IntoIterator<Item = M>,
    ) -> Vec<Result<M::Output, Error<M::ErrorCode>>> {
        self.runtime.many(requests).await
    }

    /// Every item of a list method, page after page, one page in memory.
    pub fn paginate<M: b24_core::PagedMethod + 'static>(
        &self,
        request: M,
    ) -> impl futures_core::Stream<Item = Result<M::Item, Error<M::ErrorCode>>> {
        self.runtime.paginate(request)
    }

    /// Any method by name with untyped parameters, with the same envelope, errors, limits and
    /// retries; `kind` says whether a lost answer may be replayed.
    pub async fn call_raw(
        &self,
        method: &str,
        kind: MethodKind,
        params: serde_json::Map<String, serde_json::Value>,
    ) -> Result<Envelope<serde_json::Value>, Error> {
        self.runtime.call_raw(method, kind, params).await
    }
}

/// The client methods `generate!` adds call through this.
impl Call for Client {
    fn call<M: Method>(
        &self,
        request: &M,
    ) -> impl std::future::Future<Output = Result<M::Output, Error<M::ErrorCode>>> + Send {
        self.runtime.call(request)
    }
}

b24_macros::generate!(spec = "spec", client = Client);
