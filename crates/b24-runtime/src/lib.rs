//! Transport and auth for Bitrix24 REST calls.
//!
//! [`Client`] sends a generated request (any [`Method`]) to a portal, by incoming webhook
//! (`https://<portal>/rest/<user>/<secret>/`) or by OAuth access token, and decodes the
//! answer into the method's typed result or typed [`Error`]. Secrets never appear in `Debug`,
//! `Display`, logs or errors: the client's `Debug` shows the portal and user only, transport
//! errors are stripped of their URL, and text taken from an answer (a proxy page that echoes
//! the request line, an `error_description` naming the token) has every secret of the client
//! and any webhook path's secret cut out before it goes into an error or a log line.
//!
//! Logging goes through `tracing`; with no `tracing` subscriber set, its records reach the
//! `log` crate's logger instead.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod batch;
mod limiter;
mod oauth;
mod paging;
mod retry;

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use b24_core::php::encode_query;
pub use b24_core::LimiterError;
pub use b24_core::Secret;
pub use b24_core::{
    decode_response, ApiError, ApiErrorCode, Envelope, Error, Method, MethodErrorCode, MethodKind,
    PortalErrorCode, Time, TokenRefreshError, TransportPhase, UndocumentedCode,
};
use b24_core::{decode_response_redacted, Redactor};
pub use batch::{Batch, BatchResults, Handle, BATCH_LIMIT};
pub use limiter::{LeakyBucket, LimiterFuture, RateLimit, RateLimiter};
pub use oauth::{
    Exchange, OAuthConfig, OAuthTokens, Refreshed, StoreError, TokenCoordinator, TokenFuture,
    TokenStore, DEFAULT_STORE_TIMEOUT, DEFAULT_TOKEN_ENDPOINT, MAX_TOKEN_ANSWER_BYTES,
    MAX_TOKEN_LIFETIME,
};
pub use retry::RetryPolicy;
use serde_json::{Map, Value};
use url::Url;

use crate::oauth::OAuthSession;
use crate::retry::{classify, Verdict};

/// A configuration mistake, found when the client is built. Never echoes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The URL does not parse or lacks parts.
    #[error("invalid {what}: {reason}")]
    InvalidUrl {
        /// Which URL.
        what: &'static str,
        /// Why (never contains the URL itself).
        reason: String,
    },
    /// Plain http to a host other than loopback would send the secret in clear text.
    #[error("{what} must use https (plain http is only allowed to loopback hosts)")]
    HttpsRequired {
        /// Which URL.
        what: &'static str,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    /// Rate limits the bucket cannot work with (see [`RateLimit::custom`]).
    #[error("invalid rate limit: {reason}")]
    InvalidRateLimit {
        /// What is wrong.
        reason: String,
    },
}

/// How calls authenticate.
#[derive(Clone)]
enum Auth {
    /// `https://<portal>/rest/<user>/<secret>/<method>.json`.
    Webhook { user: String, secret: Secret },
    /// `https://<portal>/rest/<method>.json` with the access token.
    OAuth {
        tokens: OAuthTokens,
        config: Option<OAuthConfig>,
    },
}

/// Settings of a [`Client`]; start with [`Client::builder_webhook`] or
/// [`Client::builder_oauth`].
///
/// `C` is what [`ClientBuilder::build`] returns: this crate's [`Client`], or a typed facade
/// over it (`b24_openlines::Client`), so a user configures either through the same builder.
#[must_use]
pub struct ClientBuilder<C = Client> {
    portal: Result<Url, ConfigError>,
    auth: Auth,
    connect_timeout: Duration,
    timeout: Duration,
    max_response_bytes: usize,
    root_certificates: Vec<Vec<u8>>,
    user_agent: String,
    rate_limit: Option<RateLimit>,
    bucket: Option<LeakyBucket>,
    limiter: Option<Arc<dyn RateLimiter>>,
    retry: RetryPolicy,
    max_in_flight: usize,
    client: PhantomData<fn() -> C>,
}

impl<C> fmt::Debug for ClientBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("portal", &self.portal.as_ref().map(Url::as_str))
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("rate_limit", &self.rate_limit)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Default cap on the size of one answer: 32 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

impl<C> ClientBuilder<C> {
    fn new(portal: Result<Url, ConfigError>, auth: Auth) -> Self {
        ClientBuilder {
            portal,
            auth,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            root_certificates: Vec::new(),
            user_agent: concat!("b24-openlines/", env!("CARGO_PKG_VERSION")).to_string(),
            rate_limit: Some(RateLimit::STANDARD),
            bucket: None,
            limiter: None,
            retry: RetryPolicy::default(),
            max_in_flight: 16,
            client: PhantomData,
        }
    }

    /// The same settings, building a `D` (a facade over [`Client`], such as
    /// `b24_openlines::Client`) instead of a `C`.
    pub fn building<D>(self) -> ClientBuilder<D> {
        ClientBuilder {
            portal: self.portal,
            auth: self.auth,
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            max_response_bytes: self.max_response_bytes,
            root_certificates: self.root_certificates,
            user_agent: self.user_agent,
            rate_limit: self.rate_limit,
            bucket: self.bucket,
            limiter: self.limiter,
            retry: self.retry,
            max_in_flight: self.max_in_flight,
            client: PhantomData,
        }
    }

    /// Time allowed to connect (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Time allowed for a whole call, answer included (default 60 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Largest answer accepted, in bytes (default [`DEFAULT_MAX_RESPONSE_BYTES`]).
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// Trusts an extra root certificate (PEM), e.g. the local portal's self-signed CA.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// The portal's request-rate limits (default [`RateLimit::STANDARD`]); `None` sends
    /// without a client-side bucket (503 answers are still retried).
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Shares a bucket with other clients of the same portal (the portal counts per portal
    /// and source address, so clients of one process should share one bucket).
    pub fn shared_bucket(mut self, bucket: LeakyBucket) -> Self {
        self.bucket = Some(bucket);
        self
    }

    /// Another rate limiter instead of the in-process bucket: one shared by every process
    /// that calls the portal from the same address (`b24_fleet::RedisLimiter`). Takes
    /// precedence over [`ClientBuilder::rate_limit`] and [`ClientBuilder::shared_bucket`].
    pub fn limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Retry settings (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How many batch requests [`Client::many`] keeps in flight at once (default 16); the
    /// bucket still decides when each is sent.
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// OAuth only: refresh the access token on `expired_token` with this refresh token and
    /// application credentials, at `config.token_endpoint` (https, or http to loopback only:
    /// [`ClientBuilder::build`] refuses other endpoints with [`ConfigError::HttpsRequired`]).
    pub fn refresh(mut self, refresh_token: impl Into<String>, config: OAuthConfig) -> Self {
        if let Auth::OAuth { tokens, config: c } = &mut self.auth {
            tokens.refresh_token = Secret::new(refresh_token);
            *c = Some(config);
        }
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<C, ConfigError>
    where
        C: From<Client>,
    {
        self.build_runtime().map(C::from)
    }

    fn build_runtime(self) -> Result<Client, ConfigError> {
        let portal = self.portal?;
        if let Auth::OAuth {
            config: Some(config),
            ..
        } = &self.auth
        {
            // The client secret and the refresh token travel in the query.
            check_scheme(&config.token_endpoint, "OAuth token endpoint")?;
        }
        let mut http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(self.user_agent)
            .redirect(reqwest::redirect::Policy::none());
        for pem in &self.root_certificates {
            let cert = reqwest::Certificate::from_pem(pem).map_err(|e| {
                ConfigError::Http(format!("bad root certificate: {}", e.without_url()))
            })?;
            http = http.add_root_certificate(cert);
        }
        let http = http
            .build()
            .map_err(|e| ConfigError::Http(e.without_url().to_string()))?;
        let (bucket, limiter) = match self.limiter {
            Some(limiter) => (None, Some(limiter)),
            None => {
                let bucket = self
                    .bucket
                    .or_else(|| self.rate_limit.map(LeakyBucket::new));
                let limiter = bucket.clone().map(|b| Arc::new(b) as Arc<dyn RateLimiter>);
                (bucket, limiter)
            }
        };
        let (auth, oauth) = match self.auth {
            Auth::OAuth { tokens, config } => {
                (None, Some(Arc::new(OAuthSession::new(tokens, config))))
            }
            Auth::Webhook { user, secret } => (Some((user, secret)), None),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                portal,
                webhook: auth,
                oauth,
                max_response_bytes: self.max_response_bytes,
                bucket,
                limiter,
                retry: self.retry,
                max_in_flight: self.max_in_flight,
                operating_reset: Mutex::new(HashMap::new()),
                failure_streak: std::sync::atomic::AtomicU32::new(0),
            }),
        })
    }
}

/// A connection to one portal. Cheap to clone; clones share the connection pool, the rate
/// limiter and the OAuth tokens.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    portal: Url,
    webhook: Option<(String, Secret)>,
    oauth: Option<Arc<OAuthSession>>,
    max_response_bytes: usize,
    /// The in-process bucket, when that is the limiter.
    bucket: Option<LeakyBucket>,
    limiter: Option<Arc<dyn RateLimiter>>,
    retry: RetryPolicy,
    max_in_flight: usize,
    /// Per method: when its operating-time window resets (Unix seconds), from `time`.
    operating_reset: Mutex<HashMap<String, i64>>,
    /// Failed attempts since the last successful call, across every task: retries
    /// back off by this (`RetryPolicy::retry_delay`), so one unlucky call among healthy ones
    /// retries at once while a portal that fails everything is backed off exponentially.
    failure_streak: std::sync::atomic::AtomicU32,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Client");
        d.field("portal", &self.inner.portal.as_str());
        if let Some((user, secret)) = &self.inner.webhook {
            d.field("webhook_user", user).field("secret", secret);
        }
        if let Some(o) = &self.inner.oauth {
            d.field("access_token", &o.current().0);
        }
        d.field(
            "rate_limit",
            &self.inner.limiter.as_ref().map(|l| l.limit()),
        );
        d.finish()
    }
}

/// Whether `url` points at this machine (`localhost`, 127.0.0.0/8, `::1`): the one place
/// plain http may carry a secret.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn check_scheme(url: &Url, what: &'static str) -> Result<(), ConfigError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(ConfigError::HttpsRequired { what }),
        _ => Err(ConfigError::InvalidUrl {
            what,
            reason: "the scheme must be https".into(),
        }),
    }
}

/// Splits `https://<portal>/rest/<user>/<secret>/` into the portal root, user and secret.
fn parse_webhook(url: &str) -> Result<(Url, String, Secret), ConfigError> {
    const WHAT: &str = "webhook URL";
    let shape = || ConfigError::InvalidUrl {
        what: WHAT,
        reason: "expected https://<portal>/rest/<user id>/<secret>/".into(),
    };
    let parsed = Url::parse(url.trim()).map_err(|_| shape())?;
    check_scheme(&parsed, WHAT)?;
    let segments: Vec<&str> = parsed
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let [.., rest, user, secret] = segments.as_slice() else {
        return Err(shape());
    };
    if *rest != "rest" || user.is_empty() || secret.is_empty() {
        return Err(shape());
    }
    let prefix_len = segments.len() - 3;
    let mut portal = parsed.clone();
    portal.set_query(None);
    portal.set_fragment(None);
    let prefix: String = segments[..prefix_len]
        .iter()
        .map(|s| format!("/{s}"))
        .collect();
    portal.set_path(&format!("{prefix}/"));
    Ok((portal, (*user).to_string(), Secret::new(*secret)))
}

fn parse_portal(url: &str) -> Result<Url, ConfigError> {
    const WHAT: &str = "portal URL";
    let mut parsed = Url::parse(url.trim()).map_err(|_| ConfigError::InvalidUrl {
        what: WHAT,
        reason: "expected https://<portal>/".into(),
    })?;
    check_scheme(&parsed, WHAT)?;
    parsed.set_query(None);
    parsed.set_fragment(None);
    if !parsed.path().ends_with('/') {
        let p = format!("{}/", parsed.path());
        parsed.set_path(&p);
    }
    Ok(parsed)
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Client {
    /// A client for an incoming webhook `https://<portal>/rest/<user>/<secret>/`.
    pub fn from_webhook(url: &str) -> Result<Client, ConfigError> {
        Self::builder_webhook(url).build()
    }

    /// A client for an OAuth access token on `portal` (`https://<portal>/`), without refresh.
    pub fn from_oauth(
        portal: &str,
        access_token: impl Into<String>,
    ) -> Result<Client, ConfigError> {
        Self::builder_oauth(portal, access_token).build()
    }

    /// Settings for a webhook client.
    pub fn builder_webhook(url: &str) -> ClientBuilder {
        match parse_webhook(url) {
            Ok((portal, user, secret)) => {
                ClientBuilder::new(Ok(portal), Auth::Webhook { user, secret })
            }
            Err(e) => ClientBuilder::new(
                Err(e),
                Auth::Webhook {
                    user: String::new(),
                    secret: Secret::new(""),
                },
            ),
        }
    }

    /// Settings for an OAuth client; add [`ClientBuilder::refresh`] for long-running use.
    pub fn builder_oauth(portal: &str, access_token: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(
            parse_portal(portal),
            Auth::OAuth {
                tokens: OAuthTokens {
                    access_token: Secret::new(access_token),
                    refresh_token: Secret::new(""),
                    expires_at: None,
                },
                config: None,
            },
        )
    }

    /// The portal root (`https://<portal>/`), without secrets.
    pub fn portal(&self) -> &Url {
        &self.inner.portal
    }

    /// The client-side bucket, if the client uses the in-process one.
    pub fn bucket(&self) -> Option<&LeakyBucket> {
        self.inner.bucket.as_ref()
    }

    /// The rate limiter the client waits on, if any (the in-process bucket or the one given
    /// to [`ClientBuilder::limiter`]).
    pub fn limiter(&self) -> Option<&Arc<dyn RateLimiter>> {
        self.inner.limiter.as_ref()
    }

    /// The current OAuth tokens (after refreshes), if this is an OAuth client.
    pub fn oauth_tokens(&self) -> Option<OAuthTokens> {
        self.inner.oauth.as_ref().map(|o| o.tokens())
    }

    /// Cuts every secret of this client out of text taken from an answer: the webhook
    /// secret, the access token `sent` with the request and the current one, the refresh
    /// token and the application's `client_secret`.
    pub(crate) fn redactor(&self, sent: Option<Secret>) -> Redactor {
        let mut secrets: Vec<Secret> = sent.into_iter().collect();
        if let Some((_, secret)) = &self.inner.webhook {
            secrets.push(secret.clone());
        }
        if let Some(oauth) = &self.inner.oauth {
            let tokens = oauth.tokens();
            secrets.push(tokens.access_token);
            secrets.push(tokens.refresh_token);
            secrets.extend(oauth.config.as_ref().map(|c| c.client_secret.clone()));
        }
        Redactor::new(secrets)
    }

    /// The URL of a method. Contains the webhook secret: never log it.
    fn method_url(&self, method: &str) -> Result<Url, String> {
        if method.is_empty()
            || !method
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
        {
            return Err(format!("`{method}` is not a REST method name"));
        }
        // The portal root ends with `/` and the method name is plain ASCII, so appending is
        // a valid URL; no relative-path resolution needed on every call.
        let mut url = self.inner.portal.clone();
        let base = url.path().to_string();
        let path = match &self.inner.webhook {
            Some((user, secret)) => format!("{base}rest/{user}/{}/{method}.json", secret.expose()),
            None => format!("{base}rest/{method}.json"),
        };
        url.set_path(&path);
        Ok(url)
    }

    /// Calls a generated method and returns its typed result, with rate limiting, retries
    /// and token refresh.
    pub async fn call<M: Method>(&self, request: &M) -> Result<M::Output, Error<M::ErrorCode>> {
        self.call_envelope(request).await.map(|e| e.result)
    }

    /// Calls a generated method and returns the whole envelope (`time`, `next`, `total`).
    pub async fn call_envelope<M: Method>(
        &self,
        request: &M,
    ) -> Result<Envelope<M::Output>, Error<M::ErrorCode>> {
        self.execute::<M::Output, M::ErrorCode>(M::NAME, M::KIND, &request.params())
            .await
    }

    /// Calls any method by name with untyped parameters: the same envelope, errors, limits
    /// and retries as typed calls. `kind` says whether a lost answer may be replayed.
    pub async fn call_raw(
        &self,
        method: &str,
        kind: MethodKind,
        params: Map<String, Value>,
    ) -> Result<Envelope<Value>, Error> {
        self.execute::<Value, UndocumentedCode>(method, kind, &params)
            .await
    }

    /// One call with the whole policy: wait for the bucket, send, judge the failure, retry or
    /// refresh, and turn a lost write into `OutcomeUnknown`.
    pub(crate) async fn execute<T: b24_core::Lenient, C: MethodErrorCode>(
        &self,
        method: &str,
        kind: MethodKind,
        params: &Map<String, Value>,
    ) -> Result<Envelope<T>, Error<C>> {
        let policy = &self.inner.retry;
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            if let Some(limiter) = &self.inner.limiter {
                if let Err(source) = limiter.acquire().await {
                    tracing::warn!(method, error = %source, "not sent: no rate-limiter slot");
                    return Err(Error::RateLimiter {
                        method: method.to_string(),
                        source,
                    });
                }
            }
            let seen = self.inner.oauth.as_ref().map(|o| o.current().1);
            let err = match self.send_once::<T, C>(method, params.clone()).await {
                Ok(env) => {
                    self.inner.failure_streak.store(0, Ordering::Relaxed);
                    if let Some(reset) = env.time.as_ref().and_then(|t| t.operating_reset_at) {
                        let mut known = self
                            .inner
                            .operating_reset
                            .lock()
                            .unwrap_or_else(|p| p.into_inner());
                        match known.get_mut(method) {
                            Some(at) => *at = reset,
                            None => {
                                known.insert(method.to_string(), reset);
                            }
                        }
                    }
                    return Ok(env);
                }
                Err(e) => e,
            };
            if let Some(limiter) = &self.inner.limiter {
                if retry::slot_unused(&err) {
                    limiter.refund().await;
                }
            }
            let verdict = classify(&err, kind);
            let exhausted = attempt >= policy.max_attempts.max(1);
            let delay = match verdict {
                Verdict::Fail => return Err(err),
                Verdict::OutcomeUnknown => {
                    tracing::warn!(method, error = %err, "write not replayed: its answer was lost");
                    return Err(Error::OutcomeUnknown {
                        method: method.to_string(),
                        source: Box::new(err.into_untyped()),
                    });
                }
                Verdict::ExpiredToken => {
                    let (Some(oauth), Some(seen)) = (&self.inner.oauth, seen) else {
                        return Err(err);
                    };
                    // Without a refresh token the caller gets the portal's own answer.
                    if refreshed || oauth.config.is_none() {
                        return Err(err);
                    }
                    refreshed = true;
                    if let Err(reason) = oauth.refresh(&self.inner.http, seen).await {
                        tracing::warn!(method, error = %reason, "token refresh failed");
                        return Err(Error::TokenRefresh {
                            method: method.to_string(),
                            reason,
                        });
                    }
                    tracing::info!(method, "access token refreshed; replaying the call");
                    attempt -= 1;
                    continue;
                }
                _ if exhausted => return Err(err),
                Verdict::RateLimited => match &self.inner.limiter {
                    // The portal's bucket is full whatever ours says: fill ours so every task
                    // waits for the drain, plus a little jitter.
                    Some(limiter) => {
                        limiter.saturate().await;
                        policy.backoff(1)
                    }
                    None => policy.backoff(attempt),
                },
                Verdict::OperatingLimit => {
                    let reset = self
                        .inner
                        .operating_reset
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(method)
                        .copied();
                    match reset {
                        Some(at) if at > now_unix() => {
                            Duration::from_secs((at - now_unix()) as u64)
                                .min(policy.max_operating_wait)
                                + policy.backoff(1)
                        }
                        _ => policy.backoff(attempt),
                    }
                }
                Verdict::Retry => {
                    let failures = self
                        .inner
                        .failure_streak
                        .fetch_add(1, Ordering::Relaxed)
                        .saturating_add(1);
                    if retry::load_signal(&err) {
                        policy.backoff(failures)
                    } else {
                        policy.retry_delay(failures)
                    }
                }
            };
            tracing::warn!(
                method,
                attempt,
                next_attempt_in_ms = delay.as_millis() as u64,
                reason = ?verdict,
                error = %err,
                "retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn send_once<T: b24_core::Lenient, C: MethodErrorCode>(
        &self,
        method: &str,
        mut params: Map<String, Value>,
    ) -> Result<Envelope<T>, Error<C>> {
        let url = self
            .method_url(method)
            .map_err(|message| Error::InvalidRequest {
                method: method.to_string(),
                message,
            })?;
        let sent = self.inner.oauth.as_ref().map(|o| o.current().0);
        if let Some(token) = &sent {
            params.insert("auth".into(), Value::String(token.expose().to_string()));
        }
        let redactor = self.redactor(sent);
        let body = serde_json::to_vec(&params).map_err(|e| Error::InvalidRequest {
            method: method.to_string(),
            message: e.to_string(),
        })?;
        tracing::debug!(method, bytes = body.len(), "calling");
        let failed = |e: reqwest::Error, phase: TransportPhase| Error::Transport {
            method: method.to_string(),
            phase: if e.is_connect() {
                TransportPhase::Connect
            } else {
                phase
            },
            source: Box::new(e.without_url()),
        };
        let transport = |e| failed(e, TransportPhase::AfterSend);
        let reading = |e| failed(e, TransportPhase::Reading);
        let mut response = self
            .inner
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body)
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let cap = self.inner.max_response_bytes;
        let too_large = |content_type: Option<String>| Error::UnexpectedResponse {
            method: method.to_string(),
            status,
            content_type: content_type
                .map_or_else(|| "unknown".into(), |t| redactor.redact_owned(t)),
            excerpt: format!("the answer is larger than the {cap}-byte limit"),
        };
        // A declared length within the cap is read in one piece; otherwise the body is
        // streamed and cut off at the cap.
        if let Some(len) = response.content_length() {
            if len > cap as u64 {
                return Err(too_large(content_type));
            }
            let bytes = response.bytes().await.map_err(reading)?;
            if bytes.len() > cap {
                return Err(too_large(content_type));
            }
            tracing::debug!(method, status, bytes = bytes.len(), "answered");
            return decode_response_redacted(
                method,
                status,
                content_type.as_deref(),
                &bytes,
                &redactor,
            );
        }
        let mut bytes = Vec::with_capacity(
            response
                .content_length()
                .map_or(8 * 1024, |n| (n as usize).min(cap)),
        );
        while let Some(chunk) = response.chunk().await.map_err(reading)? {
            if bytes.len() + chunk.len() > cap {
                return Err(too_large(content_type));
            }
            bytes.extend_from_slice(&chunk);
        }
        tracing::debug!(method, status, bytes = bytes.len(), "answered");
        decode_response_redacted(method, status, content_type.as_deref(), &bytes, &redactor)
    }
}

/// The client methods `generate!` adds call through this.
impl b24_core::Call for Client {
    fn call<M: Method>(
        &self,
        request: &M,
    ) -> impl std::future::Future<Output = Result<M::Output, Error<M::ErrorCode>>> + Send {
        Client::call(self, request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_split_into_portal_user_and_secret() {
        let (portal, user, secret) =
            parse_webhook("https://example.bitrix24.ru/rest/1/s3cr3tvalue/").unwrap();
        assert_eq!(portal.as_str(), "https://example.bitrix24.ru/");
        assert_eq!(user, "1");
        assert_eq!(secret.expose(), "s3cr3tvalue");
        let (portal, _, _) = parse_webhook("http://127.0.0.1:8080/sub/rest/7/abc").unwrap();
        assert_eq!(portal.as_str(), "http://127.0.0.1:8080/sub/");
    }

    #[test]
    fn bad_webhooks_are_refused_without_echoing_the_secret() {
        for bad in [
            "https://example.bitrix24.ru/rest/1/",
            "https://example.bitrix24.ru/api/1/s3cr3tvalue/",
            "not a url s3cr3tvalue",
            "ftp://example.bitrix24.ru/rest/1/s3cr3tvalue/",
        ] {
            let e = Client::from_webhook(bad).unwrap_err();
            assert!(!e.to_string().contains("s3cr3tvalue"), "{e}");
            assert!(!format!("{e:?}").contains("s3cr3tvalue"), "{e:?}");
        }
        let e = Client::from_webhook("http://example.bitrix24.ru/rest/1/s3cr3tvalue/").unwrap_err();
        assert_eq!(
            e,
            ConfigError::HttpsRequired {
                what: "webhook URL"
            }
        );
        assert!(Client::from_webhook("http://localhost:1/rest/1/x/").is_ok());
        assert!(Client::from_webhook("http://[::1]:1/rest/1/x/").is_ok());
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Client::from_webhook("https://example.bitrix24.ru/rest/1/s3cr3tvalue/").unwrap();
        let d = format!("{c:?}");
        assert!(
            d.contains("example.bitrix24.ru") && !d.contains("s3cr3tvalue"),
            "{d}"
        );
        let c = Client::from_oauth("https://example.bitrix24.ru", "tok3nvalue").unwrap();
        assert!(c.inner.webhook.is_none());
        let d = format!("{c:?}");
        assert!(!d.contains("tok3nvalue"), "{d}");
        assert_eq!(
            c.method_url("imopenlines.dialog.get").unwrap().as_str(),
            "https://example.bitrix24.ru/rest/imopenlines.dialog.get.json"
        );
        assert!(c.method_url("../x").is_err());
        assert!(c.method_url("").is_err());
        let c = Client::from_webhook("http://127.0.0.1:1/sub/rest/1/abc/").unwrap();
        assert_eq!(
            c.method_url("batch").unwrap().as_str(),
            "http://127.0.0.1:1/sub/rest/1/abc/batch.json"
        );
    }
}
