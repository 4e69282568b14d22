//! OAuth 2.0 tokens: refresh on `expired_token`, one refresh for all concurrent callers, and a
//! store the application persists new tokens with.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use url::Url;

use crate::Secret;

/// The default token endpoint of Bitrix24's OAuth server.
pub const DEFAULT_TOKEN_ENDPOINT: &str = "https://oauth.bitrix.info/oauth/token/";

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
    /// Persists a freshly issued pair.
    fn save<'a>(
        &'a self,
        tokens: &'a OAuthTokens,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;
}

/// OAuth settings of a client.
#[derive(Clone)]
pub struct OAuthConfig {
    /// The application's `client_id`.
    pub client_id: String,
    /// The application's `client_secret`.
    pub client_secret: Secret,
    /// The token endpoint (default [`DEFAULT_TOKEN_ENDPOINT`]).
    pub token_endpoint: Url,
    /// Where new tokens are persisted.
    pub store: Option<Arc<dyn TokenStore>>,
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("token_endpoint", &self.token_endpoint.as_str())
            .field("store", &self.store.is_some())
            .finish()
    }
}

pub(crate) struct TokenState {
    pub(crate) tokens: OAuthTokens,
    pub(crate) generation: u64,
}

/// The live tokens of a client, shared by its clones.
pub(crate) struct OAuthSession {
    pub(crate) config: Option<OAuthConfig>,
    pub(crate) state: RwLock<TokenState>,
    pub(crate) refresh_lock: tokio::sync::Mutex<()>,
}

impl OAuthSession {
    pub(crate) fn new(tokens: OAuthTokens, config: Option<OAuthConfig>) -> Self {
        OAuthSession {
            config,
            state: RwLock::new(TokenState {
                tokens,
                generation: 0,
            }),
            refresh_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// The current access token and its generation.
    pub(crate) fn current(&self) -> (Secret, u64) {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        (s.tokens.access_token.clone(), s.generation)
    }

    /// The current pair.
    pub(crate) fn tokens(&self) -> OAuthTokens {
        self.state
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .tokens
            .clone()
    }

    /// Refreshes unless another caller already did since `seen` was read. Returns a message
    /// without secrets on failure.
    pub(crate) async fn refresh(&self, http: &reqwest::Client, seen: u64) -> Result<(), String> {
        let Some(config) = &self.config else {
            return Err(
                "no refresh token configured (use Client::builder_oauth(..).refresh(..))".into(),
            );
        };
        let _guard = self.refresh_lock.lock().await;
        let refresh_token = {
            let s = self.state.read().unwrap_or_else(|p| p.into_inner());
            if s.generation != seen {
                return Ok(());
            }
            s.tokens.refresh_token.clone()
        };
        tracing::info!(
            endpoint = config.token_endpoint.as_str(),
            "refreshing the OAuth access token"
        );
        let response = http
            .get(config.token_endpoint.clone())
            .query(&[
                ("grant_type", "refresh_token"),
                ("client_id", config.client_id.as_str()),
                ("client_secret", config.client_secret.expose()),
                ("refresh_token", refresh_token.expose()),
            ])
            .send()
            .await
            .map_err(|e| format!("token endpoint unreachable: {}", e.without_url()))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| format!("token endpoint answer lost: {}", e.without_url()))?;
        let v: Value = serde_json::from_slice(&body)
            .map_err(|_| format!("token endpoint answered HTTP {status} without JSON"))?;
        if let Some(err) = v.get("error").and_then(Value::as_str) {
            let desc = v
                .get("error_description")
                .and_then(Value::as_str)
                .unwrap_or("");
            return Err(format!(
                "token endpoint refused (HTTP {status}): {err}: {desc}"
            ));
        }
        let (Some(access), Some(refresh)) = (
            v.get("access_token").and_then(Value::as_str),
            v.get("refresh_token").and_then(Value::as_str),
        ) else {
            return Err(format!(
                "token endpoint answered HTTP {status} without both tokens"
            ));
        };
        let expires_at = v
            .get("expires_in")
            .and_then(|n| {
                n.as_u64()
                    .or_else(|| n.as_str().and_then(|s| s.parse().ok()))
            })
            .map(|secs| SystemTime::now() + Duration::from_secs(secs));
        let tokens = OAuthTokens {
            access_token: Secret::new(access),
            refresh_token: Secret::new(refresh),
            expires_at,
        };
        {
            let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
            s.tokens = tokens.clone();
            s.generation += 1;
        }
        // The old refresh token is spent: the new pair is in use from here on, and a store
        // failure is reported so the application knows a restart would lose it.
        if let Some(store) = &config.store {
            store.save(&tokens).await.map_err(|e| {
                format!("refreshed, but the token store failed to save the new tokens: {e}")
            })?;
        }
        Ok(())
    }
}
