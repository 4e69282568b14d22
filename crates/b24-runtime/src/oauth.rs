//! OAuth 2.0 tokens: refresh on `expired_token`, one refresh for all concurrent callers, and a
//! store the application persists new tokens with.
//!
//! A refresh runs as a task of its own, and callers only wait for its outcome: a caller
//! dropped mid-refresh (a timeout, a cancelled request handler) neither cancels the exchange
//! nor the saving of the new pair, whose old refresh token is spent the moment the
//! authorization server answers. Its outcome is recorded: callers that were waiting for it,
//! or whose call was sent with the old token before it ended, get its error at once instead
//! of trying again one after another.
//!
//! That makes the refresh single-flight within one process. Several processes holding the
//! same pair (replicas of one application) would still each refresh it, and the portal
//! rotates the refresh token on each refresh: the second exchange of a spent refresh token
//! fails, and the pair issued to the first is lost if the second overwrites it. A
//! [`TokenCoordinator`] ([`OAuthConfig::with_coordinator`]) makes the refresh fleet-wide:
//! the client hands it the exchange, and the coordinator runs it in at most one process and
//! gives every other process the pair it issued (`b24-fleet` does this through Redis).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use b24_core::TokenRefreshError;
use serde_json::Value;
use tokio::sync::watch;
use url::Url;

use crate::Secret;

/// The default token endpoint of Bitrix24's OAuth server.
pub const DEFAULT_TOKEN_ENDPOINT: &str = "https://oauth.bitrix.info/oauth/token/";

/// How long a [`TokenStore::save`] may take by default: 10 s.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer of the token endpoint read: 64 KiB (a real one is under 1 KiB).
pub const MAX_TOKEN_ANSWER_BYTES: usize = 64 * 1024;

/// The longest access-token lifetime believed from `expires_in`: one day (Bitrix24 issues
/// tokens for an hour). A larger value, up to `u64::MAX` seconds, is cut to this.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Longest `error_description` of the authorization server kept in an error.
const MAX_DESCRIPTION_CHARS: usize = 300;

/// A pair of tokens, as issued by the OAuth server.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthTokens {
    /// Access token (sent with every call).
    pub access_token: Secret,
    /// Refresh token (exchanged for a new pair).
    pub refresh_token: Secret,
    /// When the access token expires, if the server said.
    pub expires_at: Option<SystemTime>,
}

impl fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A boxed error of a token store.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// Where new tokens go after a refresh, so a restarted process does not lose them (the old
/// refresh token is spent).
pub trait TokenStore: Send + Sync {
    /// Persists a freshly issued pair. Given at most [`OAuthConfig::store_timeout`]; a save
    /// still running then is dropped and the refresh reports
    /// [`TokenRefreshError::StoreTimeout`].
    fn save<'a>(
        &'a self,
        tokens: &'a OAuthTokens,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;
}

/// The boxed future of a [`TokenCoordinator`].
pub type TokenFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The exchange of a refresh token for a new pair at the token endpoint, which a client hands
/// to [`TokenCoordinator::refresh`]. It only asks the endpoint: the client puts the pair in
/// use and saves it to its [`TokenStore`] once the coordinator returns it.
pub type Exchange<'a> =
    Box<dyn FnOnce(Secret) -> TokenFuture<'a, Result<OAuthTokens, TokenRefreshError>> + Send + 'a>;

/// What [`TokenCoordinator::refresh`] got: a pair newer than the stale one.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Refreshed {
    /// Another process (or an earlier refresh) had already put this newer pair in place; no
    /// token was exchanged here.
    Found(OAuthTokens),
    /// This call ran the exchange and got `tokens`. `shared` is `Err` (a
    /// [`TokenRefreshError::Store`]) when the coordinator could not make the pair known to
    /// the other processes yet; the tokens are valid and in use here all the same.
    Exchanged {
        /// The new pair.
        tokens: OAuthTokens,
        /// Whether the other processes can see the new pair.
        shared: Result<(), TokenRefreshError>,
    },
}

/// Makes an OAuth refresh fleet-wide: every process that holds the pair of one portal asks the
/// same coordinator, which runs the exchange in one of them at a time and hands the issued
/// pair to the others, so a refresh token is never exchanged twice. One coordinator serves
/// one portal (one pair); a store of many portals hands out one per portal.
///
/// Without one, a client refreshes on its own (single-flight within the process only).
pub trait TokenCoordinator: Send + Sync {
    /// The pair the processes share now, if the coordinator holds one.
    fn current(&self) -> TokenFuture<'_, Result<Option<OAuthTokens>, TokenRefreshError>>;

    /// The portal refused the access token of `stale` as expired: returns a newer pair,
    /// either one another process already put in place ([`Refreshed::Found`]) or the one
    /// `exchange` got, run by at most one process of the fleet at a time
    /// ([`Refreshed::Exchanged`]), stored before any other process may run an exchange.
    fn refresh<'a>(
        &'a self,
        stale: &'a OAuthTokens,
        exchange: Exchange<'a>,
    ) -> TokenFuture<'a, Result<Refreshed, TokenRefreshError>>;
}

/// OAuth settings of a client: `OAuthConfig::new(client_id, client_secret)`, then
/// optionally [`OAuthConfig::with_store`], [`OAuthConfig::with_token_endpoint`],
/// [`OAuthConfig::with_store_timeout`], [`OAuthConfig::with_coordinator`].
#[derive(Clone)]
#[non_exhaustive]
pub struct OAuthConfig {
    /// The application's `client_id`.
    pub client_id: String,
    /// The application's `client_secret`.
    pub client_secret: Secret,
    /// The token endpoint (default [`DEFAULT_TOKEN_ENDPOINT`]). It receives the client
    /// secret and the refresh token, so it must be https (plain http only to loopback):
    /// [`crate::ClientBuilder::build`] refuses anything else.
    pub token_endpoint: Url,
    /// Where new tokens are persisted.
    pub store: Option<Arc<dyn TokenStore>>,
    /// How long [`TokenStore::save`] may take (default [`DEFAULT_STORE_TIMEOUT`]).
    pub store_timeout: Duration,
    /// Shares the pair with other processes and makes the refresh fleet-wide.
    pub coordinator: Option<Arc<dyn TokenCoordinator>>,
}

impl OAuthConfig {
    /// Settings for the application `client_id` with its `client_secret`, at the default
    /// token endpoint, without a store.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        OAuthConfig {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
            token_endpoint: default_token_endpoint(),
            store: None,
            store_timeout: DEFAULT_STORE_TIMEOUT,
            coordinator: None,
        }
    }

    /// Refreshes through `coordinator`, shared with the other processes of the portal
    /// (`b24_fleet::RedisTokens`), instead of on this process's own.
    pub fn with_coordinator(mut self, coordinator: Arc<dyn TokenCoordinator>) -> Self {
        self.coordinator = Some(coordinator);
        self
    }

    /// Another token endpoint (a local authorization server, a test double).
    pub fn with_token_endpoint(mut self, endpoint: Url) -> Self {
        self.token_endpoint = endpoint;
        self
    }

    /// Persists every new pair in `store`.
    pub fn with_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// How long a save may take (default [`DEFAULT_STORE_TIMEOUT`]).
    pub fn with_store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }
}

fn default_token_endpoint() -> Url {
    // A constant, checked by a test; no data from outside reaches this.
    #[allow(clippy::expect_used)]
    Url::parse(DEFAULT_TOKEN_ENDPOINT).expect("DEFAULT_TOKEN_ENDPOINT is a valid URL")
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("token_endpoint", &self.token_endpoint.as_str())
            .field("store", &self.store.is_some())
            .field("store_timeout", &self.store_timeout)
            .field("coordinator", &self.coordinator.is_some())
            .finish()
    }
}

/// The outcome of a refresh, once it has one.
type Outcome = Option<Result<(), TokenRefreshError>>;

struct TokenState {
    tokens: OAuthTokens,
    /// Successful refreshes so far.
    generation: u64,
    /// Refreshes ended so far, successful or not.
    finished: u64,
    /// The error of the last refresh, if it failed to get new tokens.
    failure: Option<TokenRefreshError>,
    /// The refresh under way, if any.
    in_flight: Option<watch::Receiver<Outcome>>,
}

/// What a caller saw of the session when it sent its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    generation: u64,
    finished: u64,
}

/// The live tokens of a client, shared by its clones.
pub(crate) struct OAuthSession {
    pub(crate) config: Option<OAuthConfig>,
    state: Mutex<TokenState>,
}

impl OAuthSession {
    pub(crate) fn new(tokens: OAuthTokens, config: Option<OAuthConfig>) -> Self {
        OAuthSession {
            config,
            state: Mutex::new(TokenState {
                tokens,
                generation: 0,
                finished: 0,
                failure: None,
                in_flight: None,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, TokenState> {
        // A poisoned lock only means a task panicked mid-update; the tokens are whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current access token and what a caller sending it has seen.
    pub(crate) fn current(&self) -> (Secret, Seen) {
        let s = self.lock();
        (
            s.tokens.access_token.clone(),
            Seen {
                generation: s.generation,
                finished: s.finished,
            },
        )
    }

    /// The current pair.
    pub(crate) fn tokens(&self) -> OAuthTokens {
        self.lock().tokens.clone()
    }

    /// Gets the access token past the one `seen` refreshed: `Ok` at once if another caller
    /// already did, the recorded error if a refresh of that token failed since, and otherwise
    /// the outcome of the refresh under way, started here if there is none.
    pub(crate) async fn refresh(
        self: &Arc<Self>,
        http: &reqwest::Client,
        seen: Seen,
    ) -> Result<(), TokenRefreshError> {
        if self.config.is_none() {
            return Err(TokenRefreshError::NotConfigured);
        }
        let mut outcome = {
            let mut s = self.lock();
            if s.generation != seen.generation {
                return Ok(());
            }
            if let Some(failure) = &s.failure {
                // The caller sent with the old token before that refresh ended, so it was
                // queued behind it; or no retry can help.
                // With a coordinator, another process may put a new pair in place after a
                // permanent failure here: ask it again.
                let coordinated = self
                    .config
                    .as_ref()
                    .is_some_and(|c| c.coordinator.is_some());
                if s.finished != seen.finished || (failure.is_permanent() && !coordinated) {
                    return Err(failure.clone());
                }
            }
            match &s.in_flight {
                // A closed channel means the task is gone without an outcome (runtime
                // shutdown): start over.
                Some(rx) if rx.has_changed().is_ok() => rx.clone(),
                _ => {
                    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                        return Err(TokenRefreshError::Interrupted);
                    };
                    let (tx, rx) = watch::channel(None);
                    let stale = s.tokens.clone();
                    let session = Arc::clone(self);
                    let http = http.clone();
                    runtime.spawn(async move {
                        let result = session.renew(&http, &stale).await;
                        session.finish(&result);
                        tx.send_replace(Some(result));
                    });
                    s.in_flight = Some(rx.clone());
                    rx
                }
            }
        };
        let result = match outcome.wait_for(Option::is_some).await {
            Ok(done) => (*done).clone(),
            Err(_) => None,
        };
        result.unwrap_or(Err(TokenRefreshError::Interrupted))
    }

    /// Records the outcome of the refresh that just ended.
    fn finish(&self, result: &Result<(), TokenRefreshError>) {
        let mut s = self.lock();
        s.finished = s.finished.wrapping_add(1);
        s.in_flight = None;
        s.failure = match result {
            Err(e) if !e.tokens_refreshed() => Some(e.clone()),
            _ => None,
        };
    }

    /// Gets a pair newer than `stale` (through the coordinator, if there is one), puts it in
    /// use and saves it.
    async fn renew(
        &self,
        http: &reqwest::Client,
        stale: &OAuthTokens,
    ) -> Result<(), TokenRefreshError> {
        let Some(config) = &self.config else {
            return Err(TokenRefreshError::NotConfigured);
        };
        let Some(coordinator) = &config.coordinator else {
            let tokens = self.exchange(http, &stale.refresh_token).await?;
            return self.install(config, tokens, true).await;
        };
        let exchange: Exchange<'_> =
            Box::new(move |refresh_token| Box::pin(self.exchange_owned(http, refresh_token)));
        match coordinator.refresh(stale, exchange).await? {
            Refreshed::Found(tokens) => {
                tracing::info!("OAuth access token taken from the shared store");
                self.install(config, tokens, false).await
            }
            Refreshed::Exchanged { tokens, shared } => {
                let saved = self.install(config, tokens, true).await;
                // Both say the tokens are in use; the shared store's failure comes first.
                shared.and(saved)
            }
        }
    }

    async fn exchange_owned(
        &self,
        http: &reqwest::Client,
        refresh_token: Secret,
    ) -> Result<OAuthTokens, TokenRefreshError> {
        self.exchange(http, &refresh_token).await
    }

    /// Puts `tokens` in use, and saves them to the store if this process `exchanged` them.
    async fn install(
        &self,
        config: &OAuthConfig,
        tokens: OAuthTokens,
        exchanged: bool,
    ) -> Result<(), TokenRefreshError> {
        {
            let mut s = self.lock();
            s.tokens = tokens.clone();
            s.generation = s.generation.wrapping_add(1);
        }
        if !exchanged {
            return Ok(());
        }
        // The old refresh token is spent: the new pair is in use from here on, and a store
        // failure is reported so the application knows a restart would lose it.
        if let Some(store) = &config.store {
            match tokio::time::timeout(config.store_timeout, store.save(&tokens)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    return Err(TokenRefreshError::Store {
                        source: Arc::from(e),
                    })
                }
                Err(_) => {
                    return Err(TokenRefreshError::StoreTimeout {
                        timeout: config.store_timeout,
                    })
                }
            }
        }
        Ok(())
    }

    /// Exchanges `refresh_token` for a new pair at the token endpoint.
    async fn exchange(
        &self,
        http: &reqwest::Client,
        refresh_token: &Secret,
    ) -> Result<OAuthTokens, TokenRefreshError> {
        let Some(config) = &self.config else {
            return Err(TokenRefreshError::NotConfigured);
        };
        tracing::info!(
            endpoint = config.token_endpoint.as_str(),
            "refreshing the OAuth access token"
        );
        let transport = |e: reqwest::Error| TokenRefreshError::Transport {
            source: Arc::new(e.without_url()),
        };
        let mut response = http
            .get(config.token_endpoint.clone())
            .query(&[
                ("grant_type", "refresh_token"),
                ("client_id", config.client_id.as_str()),
                ("client_secret", config.client_secret.expose()),
                ("refresh_token", refresh_token.expose()),
            ])
            .send()
            .await
            .map_err(transport)?;
        let status = response.status().as_u16();
        let too_large = || TokenRefreshError::InvalidAnswer {
            status,
            reason: format!("the answer is larger than the {MAX_TOKEN_ANSWER_BYTES}-byte limit"),
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_TOKEN_ANSWER_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_TOKEN_ANSWER_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        let secrets = [config.client_secret.expose(), refresh_token.expose()];
        let tokens = parse_token_answer(status, &body, SystemTime::now(), &secrets)?;
        tracing::info!("OAuth access token refreshed");
        Ok(tokens)
    }
}

/// Reads the token endpoint's answer: a new pair, or why there is none. `secrets` (the
/// client secret and the refresh token sent) are blotted out of anything kept from the
/// answer.
pub(crate) fn parse_token_answer(
    status: u16,
    body: &[u8],
    now: SystemTime,
    secrets: &[&str],
) -> Result<OAuthTokens, TokenRefreshError> {
    let invalid = |reason: &str| TokenRefreshError::InvalidAnswer {
        status,
        reason: reason.to_string(),
    };
    let Ok(Value::Object(answer)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid("not a JSON object"));
    };
    if let Some(code) = answer.get("error").filter(|v| !v.is_null()) {
        let Some(code) = code.as_str() else {
            return Err(invalid("an `error` that is not a string"));
        };
        let description = answer
            .get("error_description")
            .and_then(Value::as_str)
            .map(|d| scrub(d, secrets))
            .unwrap_or_default();
        return Err(if code.eq_ignore_ascii_case("invalid_grant") {
            TokenRefreshError::InvalidGrant { description }
        } else if code.eq_ignore_ascii_case("invalid_client") {
            TokenRefreshError::InvalidClient { description }
        } else if code.eq_ignore_ascii_case("payment_required") {
            TokenRefreshError::PaymentRequired { description }
        } else {
            TokenRefreshError::Refused {
                status,
                code: scrub(code, secrets),
                description,
            }
        });
    }
    if !(200..300).contains(&status) {
        return Err(invalid("an error status without an OAuth error code"));
    }
    let token = |key: &str| {
        answer
            .get(key)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
    };
    let (Some(access), Some(refresh)) = (token("access_token"), token("refresh_token")) else {
        return Err(invalid(
            "`access_token` or `refresh_token` missing or empty",
        ));
    };
    let expires_at = answer
        .get("expires_in")
        .and_then(lifetime)
        .and_then(|d| now.checked_add(d));
    Ok(OAuthTokens {
        access_token: Secret::new(access),
        refresh_token: Secret::new(refresh),
        expires_at,
    })
}

/// `expires_in` (seconds, as a number or a string of digits), capped at
/// [`MAX_TOKEN_LIFETIME`]; `None` when it is not a count of seconds.
fn lifetime(value: &Value) -> Option<Duration> {
    let secs = match value {
        Value::Number(n) => n.as_u64().or_else(|| {
            // Beyond u64 or fractional: `as` saturates.
            n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)
        })?,
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // All digits: only too many of them fail to parse.
            s.parse().unwrap_or(u64::MAX)
        }
        _ => return None,
    };
    Some(Duration::from_secs(secs).min(MAX_TOKEN_LIFETIME))
}

/// `text` cut to [`MAX_DESCRIPTION_CHARS`] with every secret replaced by `***`.
fn scrub(text: &str, secrets: &[&str]) -> String {
    let redactor = b24_core::Redactor::new(secrets.iter().map(|s| Secret::new(*s)));
    let text = redactor.redact_owned(text.to_string());
    match text.char_indices().nth(MAX_DESCRIPTION_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    const SECRET: &str = "app-secret-8d1f";
    const REFRESH: &str = "old-refresh-9c2e";

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000)
    }

    fn parse(status: u16, answer: &Value) -> Result<OAuthTokens, TokenRefreshError> {
        let body = serde_json::to_vec(answer).unwrap();
        parse_token_answer(status, &body, now(), &[SECRET, REFRESH])
    }

    fn expires_in(value: Value) -> Option<SystemTime> {
        let answer = json!({"access_token": "a", "refresh_token": "r", "expires_in": value});
        parse(200, &answer).unwrap().expires_at
    }

    #[test]
    fn a_pair_is_read_with_its_lifetime() {
        let tokens = parse(
            200,
            &json!({"access_token": "new-a", "refresh_token": "new-r", "expires_in": 3600,
                    "member_id": "m", "scope": "imopenlines"}),
        )
        .unwrap();
        assert_eq!(tokens.access_token.expose(), "new-a");
        assert_eq!(tokens.refresh_token.expose(), "new-r");
        assert_eq!(tokens.expires_at, Some(now() + Duration::from_secs(3600)));
    }

    /// `expires_in` up to `u64::MAX`, as a number or a string, is capped instead of
    /// overflowing `SystemTime` (which panicked); what is not a count of seconds is unknown.
    #[test]
    fn any_expires_in_is_capped_and_never_overflows() {
        let capped = Some(now() + MAX_TOKEN_LIFETIME);
        assert_eq!(expires_in(json!(u64::MAX)), capped);
        assert_eq!(expires_in(json!(u64::MAX.to_string())), capped);
        assert_eq!(expires_in(json!("184467440737095516150000")), capped);
        assert_eq!(expires_in(json!(1e300)), capped);
        assert_eq!(
            expires_in(json!(" 7200 ")),
            Some(now() + Duration::from_secs(7200))
        );
        assert_eq!(
            expires_in(json!(90.9)),
            Some(now() + Duration::from_secs(90))
        );
        assert_eq!(expires_in(json!(0)), Some(now()));
        for unknown in [
            json!(-1),
            json!(-1.5),
            json!("-5"),
            json!("1h"),
            json!(""),
            json!(null),
        ] {
            assert_eq!(expires_in(unknown.clone()), None, "{unknown}");
        }
        // At the far end of `SystemTime` the lifetime is dropped rather than overflowing.
        let far = SystemTime::UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 - 10);
        let body = br#"{"access_token":"a","refresh_token":"r","expires_in":3600}"#;
        if let Ok(tokens) = parse_token_answer(200, body, far, &[]) {
            assert_eq!(
                tokens.expires_at,
                far.checked_add(Duration::from_secs(3600))
            );
        }
    }

    #[test]
    fn oauth_error_codes_are_typed() {
        let answer = |code: &str| json!({"error": code, "error_description": "why"});
        assert!(matches!(
            parse(400, &answer("invalid_grant")),
            Err(TokenRefreshError::InvalidGrant { description }) if description == "why"
        ));
        assert!(matches!(
            parse(400, &answer("INVALID_GRANT")),
            Err(TokenRefreshError::InvalidGrant { .. })
        ));
        assert!(matches!(
            parse(401, &answer("invalid_client")),
            Err(TokenRefreshError::InvalidClient { .. })
        ));
        assert!(matches!(
            parse(200, &answer("PAYMENT_REQUIRED")),
            Err(TokenRefreshError::PaymentRequired { .. })
        ));
        assert!(matches!(
            parse(400, &answer("invalid_scope")),
            Err(TokenRefreshError::Refused { status: 400, code, .. }) if code == "invalid_scope"
        ));
        // An error code wins over tokens in the same answer.
        let both = json!({"error": "invalid_grant", "access_token": "a", "refresh_token": "r"});
        assert!(matches!(
            parse(200, &both),
            Err(TokenRefreshError::InvalidGrant { .. })
        ));
        assert!(TokenRefreshError::InvalidGrant {
            description: String::new()
        }
        .is_permanent());
    }

    #[test]
    fn answers_without_a_pair_are_invalid() {
        for (status, body) in [
            (200, &b"<html>502</html>"[..]),
            (200, b""),
            (200, b"[]"),
            (200, b"\"token\""),
            (200, br#"{"access_token":"a"}"#),
            (200, br#"{"access_token":"a","refresh_token":""}"#),
            (200, br#"{"access_token":7,"refresh_token":"r"}"#),
            (200, br#"{"error":{"code":1}}"#),
            (500, br#"{"access_token":"a","refresh_token":"r"}"#),
        ] {
            let got = parse_token_answer(status, body, now(), &[]);
            assert!(
                matches!(got, Err(TokenRefreshError::InvalidAnswer { status: s, .. }) if s == status),
                "{}: {got:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn descriptions_lose_secrets_and_length() {
        let echo = json!({
            "error": format!("bad_{SECRET}"),
            "error_description": format!("refresh token {REFRESH} for {SECRET} {}", "x".repeat(5000)),
        });
        let err = parse(400, &echo).unwrap_err();
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(SECRET) && !text.contains(REFRESH), "{text}");
            assert!(text.len() < 1000, "{}", text.len());
        }
    }

    #[test]
    fn config_defaults_and_debug() {
        let config = OAuthConfig::new("app.1", SECRET);
        assert_eq!(config.token_endpoint.as_str(), DEFAULT_TOKEN_ENDPOINT);
        assert_eq!(config.store_timeout, DEFAULT_STORE_TIMEOUT);
        assert!(config.store.is_none());
        let config = config.with_store_timeout(Duration::from_millis(5));
        assert_eq!(config.store_timeout, Duration::from_millis(5));
        let debug = format!("{config:?}");
        assert!(
            debug.contains("app.1") && !debug.contains(SECRET),
            "{debug}"
        );
    }

    /// JSON values of every kind, nested a little, with the strings the parser looks for.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter_map("JSON numbers are finite", |f| {
                serde_json::Number::from_f64(f).map(Value::Number)
            }),
            "[0-9]{0,25}".prop_map(Value::String),
            ".{0,12}".prop_map(Value::String),
            prop_oneof![
                Just("invalid_grant"),
                Just("invalid_client"),
                Just("PAYMENT_REQUIRED"),
                Just(SECRET),
                Just(REFRESH),
            ]
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(("[a-z_]{0,8}", inner), 0..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// Token-endpoint answers: objects whose keys are mostly the ones the parser reads.
    fn token_answer() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("access_token".to_string()),
            Just("refresh_token".to_string()),
            Just("expires_in".to_string()),
            Just("error".to_string()),
            Just("error_description".to_string()),
            "[a-z_]{1,10}",
        ];
        prop_oneof![
            4 => proptest::collection::vec((key, json_value()), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            1 => json_value(),
        ]
    }

    fn check(status: u16, body: &[u8]) -> Result<(), TestCaseError> {
        match parse_token_answer(status, body, now(), &[SECRET, REFRESH]) {
            Ok(tokens) => {
                prop_assert!((200..300).contains(&status));
                prop_assert!(!tokens.access_token.expose().is_empty());
                prop_assert!(!tokens.refresh_token.expose().is_empty());
                if let Some(at) = tokens.expires_at {
                    prop_assert!(at >= now() && at <= now() + MAX_TOKEN_LIFETIME);
                }
            }
            Err(e) => {
                let text = format!("{e} {e:?}");
                prop_assert!(
                    !text.contains(SECRET) && !text.contains(REFRESH),
                    "{}",
                    text
                );
            }
        }
        Ok(())
    }

    proptest! {
        /// Any bytes: a pair or a typed error, never a panic.
        #[test]
        fn any_bytes_parse_without_panic(
            status in 100u16..600,
            body in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            check(status, &body)?;
        }

        /// Any JSON answer: a pair with non-empty tokens and a capped lifetime, or a typed
        /// error that carries neither the client secret nor the refresh token.
        #[test]
        fn any_json_answer_is_tokens_or_a_typed_error(
            status in prop_oneof![3 => Just(200u16), 1 => 100u16..600],
            answer in token_answer(),
        ) {
            check(status, &serde_json::to_vec(&answer).unwrap())?;
        }
    }
}
