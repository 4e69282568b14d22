//! Where an application keeps what each portal gave it at install: the portal's addresses,
//! its OAuth pair and its `application_token`.
//!
//! [`AppStore`] is the interface; [`SqliteStore`] the embedded implementation (one file).
//! Another backend (Redis for a fleet of application servers) implements the same trait.

mod sqlite;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use b24_runtime::{OAuthTokens, Secret};
use url::Url;

pub use sqlite::SqliteStore;

/// The future an [`AppStore`] method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppStoreError>> + Send + 'a>>;

/// Why the store failed. Never carries a token: SQL parameters are bound, never written into
/// statements, and a backend's own error is kept as its message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppStoreError {
    /// The SQLite file could not be opened, read or written.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer version of this crate (its schema is ahead of every
    /// migration this build knows), or a migration failed.
    #[error("store schema: {0}")]
    Schema(String),
    /// A stored row does not decode (a URL that no longer parses, a negative time).
    #[error("stored data of portal `{member_id}` is invalid: {reason}")]
    Corrupt {
        /// The portal whose row is bad.
        member_id: String,
        /// What is wrong (never a token).
        reason: String,
    },
    /// The blocking task running the query was cancelled or panicked.
    #[error("store task failed: {0}")]
    Task(String),
    /// Another backend's error.
    #[error("store backend: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

/// One installation of the application on one portal: everything an install request gave
/// and the verification confirmed. Its `Debug` shows no secret.
#[derive(Clone)]
#[non_exhaustive]
pub struct Installation {
    /// `member_id`: the portal's identity, the key of every lookup.
    pub member_id: String,
    /// A random id of this install; a reinstall gets a new one (see
    /// [`AppStore::save_tokens`]).
    pub install_id: String,
    /// The portal's domain (`example.bitrix24.ru`).
    pub domain: String,
    /// REST endpoint (`https://example.bitrix24.ru/rest/`).
    pub client_endpoint: Url,
    /// The OAuth server's REST endpoint as the install named it.
    pub server_endpoint: Option<String>,
    /// Scopes granted.
    pub scope: Option<String>,
    /// Application status (`L`, `F`, `S`...).
    pub status: Option<String>,
    /// The token every event of this portal carries.
    pub application_token: Secret,
    /// The OAuth pair, as last saved.
    pub tokens: OAuthTokens,
    /// When it was installed.
    pub installed_at: SystemTime,
}

impl Installation {
    /// An installation with a fresh random `install_id`, installed now.
    pub fn new(
        member_id: impl Into<String>,
        domain: impl Into<String>,
        client_endpoint: Url,
        application_token: Secret,
        tokens: OAuthTokens,
    ) -> Installation {
        Installation {
            member_id: member_id.into(),
            install_id: new_install_id(),
            domain: domain.into(),
            client_endpoint,
            server_endpoint: None,
            scope: None,
            status: None,
            application_token,
            tokens,
            installed_at: SystemTime::now(),
        }
    }

    /// With the OAuth server endpoint, scope and status the install named.
    pub fn with_details(
        mut self,
        server_endpoint: Option<String>,
        scope: Option<String>,
        status: Option<String>,
    ) -> Installation {
        self.server_endpoint = server_endpoint;
        self.scope = scope;
        self.status = status;
        self
    }
}

impl fmt::Debug for Installation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Installation")
            .field("member_id", &self.member_id)
            .field("install_id", &self.install_id)
            .field("domain", &self.domain)
            .field("client_endpoint", &self.client_endpoint.as_str())
            .field("server_endpoint", &self.server_endpoint)
            .field("scope", &self.scope)
            .field("status", &self.status)
            .field("application_token", &self.application_token)
            .field("tokens", &self.tokens)
            .field("installed_at", &self.installed_at)
            .finish()
    }
}

/// 128 random bits as hex: unique per install (not a secret).
pub(crate) fn new_install_id() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

/// Portals, their OAuth pairs and application tokens. Every method is safe to call from
/// many tasks at once; an implementation makes each one atomic.
pub trait AppStore: Send + Sync + 'static {
    /// Stores an installation. A portal already stored is replaced whole (a reinstall: new
    /// domain, tokens, application token and `install_id`), except its offline process id.
    fn install<'a>(&'a self, installation: &'a Installation) -> StoreFuture<'a, ()>;

    /// The installation of `member_id`, with its latest saved tokens; `None` if the portal is
    /// not installed (never was, or was uninstalled).
    fn portal<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<Installation>>;

    /// The `member_id` of every installed portal.
    fn portals(&self) -> StoreFuture<'_, Vec<String>>;

    /// Saves a refreshed OAuth pair of the install `install_id` of `member_id`. Returns
    /// `false`, saving nothing, when that install is gone: the portal was uninstalled or
    /// reinstalled since (its new tokens must not be overwritten by an old client's refresh).
    fn save_tokens<'a>(
        &'a self,
        member_id: &'a str,
        install_id: &'a str,
        tokens: &'a OAuthTokens,
    ) -> StoreFuture<'a, bool>;

    /// Removes the portal and everything stored for it (tokens, application token, offline
    /// process id). Returns whether it was installed.
    fn uninstall<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, bool>;

    /// The `process_id` of the offline batch the consumer reserved on `member_id` and has not
    /// finished (`None` when there is none, or the portal is not installed).
    fn offline_process_id<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<String>>;

    /// Records (`Some`) or forgets (`None`) the `process_id` of the offline batch under way
    /// on `member_id` (no-op if the portal is not installed).
    fn set_offline_process_id<'a>(
        &'a self,
        member_id: &'a str,
        process_id: Option<&'a str>,
    ) -> StoreFuture<'a, ()>;
}
