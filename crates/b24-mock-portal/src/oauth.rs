//! The portal's OAuth side: the applications it knows (`client_id`, `client_secret`), the
//! access and refresh tokens it has issued, and `/oauth/token/` answered the way
//! `oauth.bitrix.info` answers it (`settings/oauth/auto-renewal.md`,
//! `settings/oauth/error-codes.md`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::config::{OAuthToken, REDACTED};
use crate::errors::ApiErr;

/// The default lifetime of an access token the portal issues: one hour, as Bitrix24's.
pub const DEFAULT_ACCESS_LIFETIME: Duration = Duration::from_secs(3600);

/// An application the portal knows: a local application's form or a market application's card
/// (`client_id`, `client_secret`, the scopes it asks for). Its `Debug` leaves out the secret.
#[derive(Clone)]
pub struct OAuthApp {
    /// The application's `client_id` (`local.…` or `app.…`).
    pub client_id: String,
    /// The application's `client_secret`; only the token endpoint sees it.
    pub client_secret: String,
    /// Scopes granted to its tokens (default `imopenlines`, `imconnector`, `im`; the global
    /// methods such as `event.*` need none).
    pub scopes: Vec<String>,
    /// How long an access token lives (default [`DEFAULT_ACCESS_LIFETIME`]); the token
    /// endpoint answers it as `expires_in`.
    pub access_lifetime: Duration,
    /// The application's status letter (`L` local, `F` free, `D` demo, `T` trial, `P` paid;
    /// default `L`), sent as `status`.
    pub status: String,
    /// The version the install reports (`data[VERSION]` of `ONAPPINSTALL`; default `1`).
    pub version: String,
}

impl std::fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &REDACTED)
            .field("scopes", &self.scopes)
            .field("access_lifetime", &self.access_lifetime)
            .field("status", &self.status)
            .field("version", &self.version)
            .finish()
    }
}

impl OAuthApp {
    /// A local application (`status` `L`) with the open-lines scopes and one-hour tokens.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        OAuthApp {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scopes: ["imopenlines", "imconnector", "im"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            access_lifetime: DEFAULT_ACCESS_LIFETIME,
            status: "L".into(),
            version: "1".into(),
        }
    }

    /// The same application with these scopes.
    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| s.to_string()).collect();
        self
    }

    /// The same application with access tokens living this long.
    pub fn with_access_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_lifetime = lifetime;
        self
    }

    /// The same application with another status letter (`F`, `D`, `T`, `P`).
    pub fn with_status(mut self, status: impl Into<String>) -> Self {
        self.status = status.into();
        self
    }
}

/// A token pair the portal issued to an application, with what the token endpoint answers
/// beside it. Its `Debug` leaves out both tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// The access token (`auth` of every call).
    pub access_token: String,
    /// The refresh token (exchanged once at the token endpoint; the exchange spends it).
    pub refresh_token: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
    /// The application it was issued to.
    pub client_id: String,
    /// The user it acts for.
    pub user_id: i64,
    /// The scopes, comma-separated as the token endpoint answers them.
    pub scope: String,
    /// The portal's `member_id`.
    pub member_id: String,
    /// The portal's domain (`127.0.0.1:PORT`).
    pub domain: String,
    /// `http://127.0.0.1:PORT/rest/`: where calls go.
    pub client_endpoint: String,
    /// The authorization server's REST address (this portal's `rest/`).
    pub server_endpoint: String,
    /// The application's status letter.
    pub status: String,
}

impl std::fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenPair")
            .field("access_token", &REDACTED)
            .field("refresh_token", &REDACTED)
            .field("expires_in", &self.expires_in)
            .field("client_id", &self.client_id)
            .field("user_id", &self.user_id)
            .field("scope", &self.scope)
            .field("member_id", &self.member_id)
            .field("domain", &self.domain)
            .field("client_endpoint", &self.client_endpoint)
            .field("server_endpoint", &self.server_endpoint)
            .field("status", &self.status)
            .finish()
    }
}

/// Why the portal refused a request about an application.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// No application with this `client_id` is configured (`PortalConfig::apps`).
    #[error("no application `{0}` is configured on this portal")]
    UnknownApp(String),
    /// The application is not installed.
    #[error("the application `{0}` is not installed")]
    NotInstalled(String),
    /// No conversation of this open line with this external chat.
    #[error("no conversation of line {line} with the external chat `{chat}`")]
    UnknownChat {
        /// The open line.
        line: i64,
        /// The external chat id.
        chat: String,
    },
}

/// The user tokens act for when nobody else is named: the portal's administrator.
pub(crate) const ADMIN_USER: i64 = 1;

/// An access token the portal accepts.
#[derive(Clone)]
pub(crate) struct AccessRecord {
    pub(crate) token: String,
    /// The application it was issued to; `None` for a token of `PortalConfig::oauth_tokens`
    /// that names none.
    pub(crate) client_id: Option<String>,
    pub(crate) scopes: Vec<String>,
    pub(crate) expires_at: Option<SystemTime>,
    pub(crate) user_id: i64,
    pub(crate) admin: bool,
}

/// A refresh token not yet spent.
#[derive(Clone)]
struct RefreshRecord {
    token: String,
    client_id: String,
    user_id: i64,
}

/// An application and its install.
#[derive(Clone)]
pub(crate) struct AppRecord {
    pub(crate) app: OAuthApp,
    /// The token of its current install (`auth[application_token]` of its events); `None`
    /// while it is not installed.
    pub(crate) application_token: Option<String>,
}

/// Who may call: the applications, the tokens issued, the token endpoint's forced error.
pub(crate) struct Registry {
    pub(crate) apps: Vec<AppRecord>,
    pub(crate) access: Vec<AccessRecord>,
    refresh: Vec<RefreshRecord>,
    /// An error every token request answers (`PAYMENT_REQUIRED`...), set by a test.
    pub(crate) forced_error: Option<String>,
}

/// `len` random characters of `alphabet`, from the operating system's generator.
pub(crate) fn random_string(len: usize, alphabet: &[u8]) -> String {
    let mut bytes = vec![0u8; len];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No OS generator (never on the platforms the tests run on): the clock and a
        // counter keep tokens distinct, which is all a local portal needs.
        use std::sync::atomic::{AtomicU64, Ordering};
        static FALLBACK: AtomicU64 = AtomicU64::new(0x9E37_79B9_7F4A_7C15);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        for (i, b) in bytes.iter_mut().enumerate() {
            let x = FALLBACK
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
                .wrapping_add(now)
                .wrapping_mul(i as u64 + 1);
            *b = (x >> 29) as u8;
        }
    }
    let n = alphabet.len().max(1);
    bytes
        .iter()
        .map(|b| alphabet.get(*b as usize % n).copied().unwrap_or(b'0') as char)
        .collect()
}

/// A token like the portal's: 32 lower-case letters and digits.
pub(crate) fn new_token() -> String {
    random_string(32, b"abcdefghijklmnopqrstuvwxyz0123456789")
}

/// 32 hex digits (an application token, a `member_id`).
pub(crate) fn new_hex32() -> String {
    random_string(32, b"0123456789abcdef")
}

/// Where the portal is, for the answers that name it.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub(crate) base_url: String,
    pub(crate) domain: String,
    pub(crate) member_id: String,
}

impl Place {
    pub(crate) fn client_endpoint(&self) -> String {
        format!("{}rest/", self.base_url)
    }
}

impl Registry {
    pub(crate) fn new(apps: &[OAuthApp], tokens: &[OAuthToken]) -> Self {
        Registry {
            apps: apps
                .iter()
                .map(|a| AppRecord {
                    app: a.clone(),
                    application_token: None,
                })
                .collect(),
            access: tokens
                .iter()
                .map(|t| AccessRecord {
                    token: t.token.clone(),
                    client_id: t.client_id.clone(),
                    scopes: t.scopes.clone(),
                    expires_at: t.expires_at,
                    user_id: ADMIN_USER,
                    admin: true,
                })
                .collect(),
            refresh: Vec::new(),
            forced_error: None,
        }
    }

    pub(crate) fn app(&self, client_id: &str) -> Option<&AppRecord> {
        self.apps.iter().find(|a| a.app.client_id == client_id)
    }

    pub(crate) fn app_mut(&mut self, client_id: &str) -> Option<&mut AppRecord> {
        self.apps.iter_mut().find(|a| a.app.client_id == client_id)
    }

    /// The access token `token`, if the portal knows it.
    pub(crate) fn access(&self, token: &str) -> Option<&AccessRecord> {
        self.access.iter().find(|t| t.token == token)
    }

    /// Issues a new pair to `client_id` for `user_id`.
    pub(crate) fn issue(
        &mut self,
        client_id: &str,
        user_id: i64,
        place: &Place,
    ) -> Result<TokenPair, AppError> {
        let app = self
            .app(client_id)
            .ok_or_else(|| AppError::UnknownApp(client_id.to_string()))?
            .app
            .clone();
        let access_token = self
            .issue_access(client_id, user_id)
            .ok_or_else(|| AppError::UnknownApp(client_id.to_string()))?
            .token;
        let refresh_token = new_token();
        self.refresh.push(RefreshRecord {
            token: refresh_token.clone(),
            client_id: client_id.to_string(),
            user_id,
        });
        Ok(TokenPair {
            access_token,
            refresh_token,
            expires_in: app.access_lifetime.as_secs(),
            client_id: client_id.to_string(),
            user_id,
            scope: app.scopes.join(","),
            member_id: place.member_id.clone(),
            domain: place.domain.clone(),
            client_endpoint: place.client_endpoint(),
            server_endpoint: place.client_endpoint(),
            status: app.status.clone(),
        })
    }

    /// An access token alone (what an event's `auth` carries), for `user_id`.
    pub(crate) fn issue_access(&mut self, client_id: &str, user_id: i64) -> Option<AccessRecord> {
        let app = self.app(client_id)?.app.clone();
        let record = AccessRecord {
            token: new_token(),
            client_id: Some(client_id.to_string()),
            scopes: app.scopes,
            expires_at: SystemTime::now().checked_add(app.access_lifetime),
            user_id,
            admin: user_id == ADMIN_USER,
        };
        self.access.push(record.clone());
        Some(record)
    }

    /// Makes every access token (of `client_id`, or all with `None`) expired; how many.
    pub(crate) fn expire(&mut self, client_id: Option<&str>) -> usize {
        let mut n = 0;
        for t in &mut self.access {
            if client_id.is_none_or(|c| t.client_id.as_deref() == Some(c)) {
                t.expires_at = Some(UNIX_EPOCH);
                n += 1;
            }
        }
        n
    }

    /// Makes one access token expired; whether the portal knew it.
    pub(crate) fn expire_one(&mut self, token: &str) -> bool {
        match self.access.iter_mut().find(|t| t.token == token) {
            Some(t) => {
                t.expires_at = Some(UNIX_EPOCH);
                true
            }
            None => false,
        }
    }

    /// Forgets every token of `client_id` (an uninstall, a reinstall).
    pub(crate) fn revoke(&mut self, client_id: &str) {
        self.access
            .retain(|t| t.client_id.as_deref() != Some(client_id));
        self.refresh.retain(|t| t.client_id != client_id);
    }

    /// One request to `/oauth/token/`: the HTTP status and the JSON answer.
    pub(crate) fn token_request(
        &mut self,
        params: &Map<String, Value>,
        place: &Place,
    ) -> (u16, Value) {
        let text = |name: &str| {
            params
                .get(name)
                .and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .unwrap_or_default()
        };
        if let Some(code) = self.forced_error.clone() {
            return oauth_error(&code);
        }
        let grant_type = text("grant_type");
        let client_id = text("client_id");
        if grant_type.is_empty() || client_id.is_empty() {
            return oauth_error("invalid_request");
        }
        let secret_ok = self
            .app(&client_id)
            .is_some_and(|a| a.app.client_secret == text("client_secret"));
        if !secret_ok {
            return oauth_error("invalid_client");
        }
        if grant_type != "refresh_token" {
            // Codes of the full protocol (`authorization_code`) are not issued here.
            return oauth_error(if grant_type == "authorization_code" {
                "invalid_grant"
            } else {
                "invalid_request"
            });
        }
        let refresh_token = text("refresh_token");
        let Some(pos) = self.refresh.iter().position(|r| {
            !refresh_token.is_empty() && r.token == refresh_token && r.client_id == client_id
        }) else {
            return oauth_error("invalid_grant");
        };
        // The exchange spends the refresh token: a second one with it is `invalid_grant`.
        let spent = self.refresh.remove(pos);
        match self.issue(&client_id, spent.user_id, place) {
            Ok(pair) => (200, token_answer(&pair, place)),
            Err(_) => oauth_error("invalid_client"),
        }
    }
}

/// The token endpoint's success answer (`settings/oauth/auto-renewal.md`).
fn token_answer(pair: &TokenPair, place: &Place) -> Value {
    let expires = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .saturating_add(pair.expires_in);
    let mut m = Map::new();
    m.insert(
        "access_token".into(),
        Value::from(pair.access_token.clone()),
    );
    m.insert(
        "client_endpoint".into(),
        Value::from(pair.client_endpoint.clone()),
    );
    // The authorization server's domain: this portal plays it too.
    m.insert("domain".into(), Value::from(place.domain.clone()));
    m.insert("expires".into(), Value::from(expires));
    m.insert("expires_in".into(), Value::from(pair.expires_in));
    m.insert("member_id".into(), Value::from(pair.member_id.clone()));
    m.insert(
        "refresh_token".into(),
        Value::from(pair.refresh_token.clone()),
    );
    m.insert("scope".into(), Value::from(pair.scope.clone()));
    m.insert(
        "server_endpoint".into(),
        Value::from(pair.server_endpoint.clone()),
    );
    m.insert("status".into(), Value::from(pair.status.clone()));
    m.insert("user_id".into(), Value::from(pair.user_id));
    Value::Object(m)
}

/// The authorization server's errors (`settings/oauth/error-codes.md`); the statuses are
/// RFC 6749's (the docs name none).
fn oauth_error(code: &str) -> (u16, Value) {
    let (status, description) = match code {
        "invalid_request" => (400, "Invalid request"),
        "invalid_client" => (401, "Invalid client credentials"),
        "invalid_grant" => (400, "Invalid grant"),
        "invalid_scope" | "insufficient_scope" => (400, "Invalid scope"),
        "PAYMENT_REQUIRED" => (402, "Payment required"),
        _ => (400, "Error forced by the mock portal"),
    };
    (status, ApiErr::new(status, code, description).body())
}
