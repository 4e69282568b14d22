//! Many workers, one Bitrix24 portal: the rate-limit bucket and the OAuth pair shared through
//! Redis.
//!
//! The portal keeps one leaky bucket per portal and source address, so every worker of a
//! deployment drains the same bucket; and every worker holds the same OAuth pair, which the
//! portal rotates on each refresh. `b24-runtime`'s in-process bucket and single-flight
//! refresh are right for one process only. This crate shares both through Redis:
//!
//! * [`RedisLimiter`] ([`b24_runtime::RateLimiter`]): one atomic Lua script per acquisition
//!   counts the request into a leaky bucket kept in Redis, on the Redis server's clock
//!   (`TIME`), and answers how long the caller waits; waiters of every process are served in
//!   the order their script ran. Optional fallback to a conservative local bucket when Redis
//!   is down ([`RedisLimiter::with_local_fallback`]).
//! * [`RedisTokens`] ([`b24_runtime::TokenCoordinator`], and a [`b24_runtime::TokenStore`]):
//!   the pair of one portal in Redis, and a fleet-wide single-flight refresh under a lock
//!   with an expiry and a fencing value. One worker exchanges the refresh token; the others
//!   poll Redis for the new pair; the new pair is written before the lock is released.
//! * [`RedisAppStore`] (feature `app`, on by default; [`Fleet::app_store`]): `b24-app`'s
//!   `AppStore` in Redis, keeping each portal's pair where [`Fleet::tokens`] keeps it, and
//!   [`RedisAppStore::per_portal`], the hook that gives `b24-app`'s per-portal clients the
//!   fleet's refresh and bucket: an application's replicas share portals, installs and pairs
//!   (see the README).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use b24_fleet::{Fleet, FleetConfig};
//! use b24_runtime::{Client, OAuthConfig, RateLimit};
//!
//! let fleet = Fleet::connect("redis://127.0.0.1:6379/", FleetConfig::default())?;
//! let portal = "example.bitrix24.ru";
//! let tokens = fleet.tokens(portal);
//! let pair = tokens.load().await?.expect("the pair was put at install time");
//! let client = Client::builder_oauth("https://example.bitrix24.ru/", pair.access_token.expose())
//!     .limiter(Arc::new(fleet.limiter(portal, RateLimit::STANDARD)))
//!     .refresh(
//!         pair.refresh_token.expose(),
//!         OAuthConfig::new("app.id", "app-secret").with_coordinator(Arc::new(tokens)),
//!     )
//!     .build()?;
//! # let _ = client; Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "app")]
mod app_store;
mod limiter;
mod tokens;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

#[cfg(feature = "app")]
pub use app_store::RedisAppStore;
pub use limiter::{LocalFallback, RedisLimiter};
pub use tokens::RedisTokens;

/// Settings shared by the limiters and token stores of one [`Fleet`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FleetConfig {
    /// Prefix of every key (default `b24`). Keys are `<prefix>:{<portal>}:<what>`; the
    /// braces keep one portal's keys in one Redis Cluster slot.
    pub key_prefix: String,
    /// Longest time one Redis command may take, connection included (default 500 ms);
    /// past it the call fails with [`FleetError::Timeout`].
    pub timeout: Duration,
    /// Expiry of the refresh lock (default 10 s). The holder renews it every third of it
    /// while its exchange runs; a holder that dies blocks the fleet no longer than this.
    pub lock_ttl: Duration,
    /// How often a worker waiting for another's refresh looks for the new pair (default
    /// 50 ms, with up to 50% jitter).
    pub poll_interval: Duration,
    /// How long a worker waits for another's refresh before giving up with
    /// [`FleetError::RefreshWait`] (default 60 s).
    pub refresh_wait: Duration,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            key_prefix: "b24".into(),
            timeout: Duration::from_millis(500),
            lock_ttl: Duration::from_secs(10),
            poll_interval: Duration::from_millis(50),
            refresh_wait: Duration::from_secs(60),
        }
    }
}

impl FleetConfig {
    /// Another key prefix.
    pub fn with_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Another per-command timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Another expiry of the refresh lock.
    pub fn with_lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl;
        self
    }

    /// Another polling interval while waiting for another worker's refresh.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Another longest wait for another worker's refresh.
    pub fn with_refresh_wait(mut self, wait: Duration) -> Self {
        self.refresh_wait = wait;
        self
    }
}

/// What went wrong talking to Redis. Never carries a token or the Redis password.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// A Redis command did not answer within [`FleetConfig::timeout`].
    #[error("Redis did not answer within {timeout:?}")]
    Timeout {
        /// The configured timeout.
        timeout: Duration,
    },
    /// Redis could not be reached or answered with an error.
    #[error("Redis failed: {message}")]
    Redis {
        /// The client's error, as text (the connection URL is not part of it).
        message: String,
    },
    /// Another worker held the refresh lock and no new pair appeared within
    /// [`FleetConfig::refresh_wait`].
    #[error("no new token pair appeared within {waited:?} while another worker refreshed")]
    RefreshWait {
        /// How long this worker waited.
        waited: Duration,
    },
    /// The pair stored in Redis lacks a field or has a bad one.
    #[error("the token pair stored in Redis is unreadable: {reason}")]
    Corrupt {
        /// What is wrong (never a token).
        reason: String,
    },
    /// The Redis URL or a setting is unusable.
    #[error("invalid fleet configuration: {reason}")]
    Config {
        /// What is wrong (never the URL, which may hold a password).
        reason: String,
    },
}

impl From<redis::RedisError> for FleetError {
    fn from(e: redis::RedisError) -> Self {
        FleetError::Redis {
            message: e.to_string(),
        }
    }
}

/// One connection to Redis (multiplexed, reconnecting) shared by the limiters and token
/// stores of every portal a process talks to. Cheap to clone.
#[derive(Clone)]
pub struct Fleet {
    conn: ConnectionManager,
    config: FleetConfig,
}

impl fmt::Debug for Fleet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Fleet {
    /// A fleet on the Redis at `url` (`redis://[:password@]host:port/db`). Connects lazily:
    /// Redis need not be up yet, and a Redis that is down makes each call fail (or fall
    /// back) after [`FleetConfig::timeout`] rather than this constructor. Must be called
    /// within a tokio runtime.
    pub fn connect(url: &str, config: FleetConfig) -> Result<Fleet, FleetError> {
        if config.timeout.is_zero() || config.lock_ttl < Duration::from_millis(3) {
            return Err(FleetError::Config {
                reason: "the timeout must be positive and the lock TTL at least 3 ms".into(),
            });
        }
        let client = redis::Client::open(url).map_err(|e| FleetError::Config {
            reason: format!("the Redis URL does not parse ({:?})", e.kind()),
        })?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let conn = ConnectionManager::new_lazy_with_config(client, manager)?;
        Ok(Fleet { conn, config })
    }

    /// The settings.
    pub fn config(&self) -> &FleetConfig {
        &self.config
    }

    /// A rate limiter for `portal` (its host, say `example.bitrix24.ru`), shared by every
    /// process that uses the same Redis, key prefix and portal name. All of them must send
    /// from the same address (the portal's bucket is per portal and source address) and use
    /// the same `limit`.
    pub fn limiter(&self, portal: &str, limit: b24_runtime::RateLimit) -> RedisLimiter {
        RedisLimiter::new(self.clone(), self.key(portal, "bucket"), limit)
    }

    /// The shared OAuth pair of `portal` (its host or the application's `member_id`) and its
    /// fleet-wide refresh.
    pub fn tokens(&self, portal: &str) -> RedisTokens {
        RedisTokens::new(
            self.clone(),
            self.key(portal, "tokens"),
            self.key(portal, "refresh-lock"),
        )
    }

    fn key(&self, portal: &str, what: &str) -> String {
        format!("{}:{{{portal}}}:{what}", self.config.key_prefix)
    }

    /// Runs one Redis command (or script) under the timeout.
    pub(crate) async fn run<T, F>(
        &self,
        f: impl FnOnce(ConnectionManager) -> F,
    ) -> Result<T, FleetError>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        let timeout = self.config.timeout;
        match tokio::time::timeout(timeout, f(self.conn.clone())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) if e.is_timeout() => Err(FleetError::Timeout { timeout }),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(FleetError::Timeout { timeout }),
        }
    }
}

// The README's Rust blocks compile.
#[cfg(all(doctest, feature = "app"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
