//! The OAuth pair of one portal in Redis, and the fleet-wide single-flight refresh.
//!
//! The pair is a hash (`access`, `refresh`, `expires` in Unix milliseconds or empty, `gen`,
//! the count of pairs written). A refresh:
//!
//! 1. reads the pair: if its access token differs from the one the portal refused, another
//!    worker already refreshed: use it;
//! 2. otherwise takes the lock (`SET lock <fence> NX PX <ttl>`, the fence a random value of
//!    this attempt), reads the pair again (a holder may have written it meanwhile), and
//!    exchanges the stored refresh token, renewing the lock (only while it still holds this
//!    fence) every third of its TTL;
//! 3. writes the new pair and releases the lock in one script, if the pair's `gen` is still
//!    the one it read; the pair is written before the lock goes, so a worker that takes the
//!    lock next finds it;
//! 4. a worker that does not get the lock polls the pair until it changes (then uses it) or
//!    the lock is gone (then tries to take it).
//!
//! A worker that dies holding the lock blocks the others until the lock expires. A worker
//! whose exchange is refused (`invalid_grant`) looks at the pair again and uses a newer one
//! if another worker wrote it meanwhile. If the write fails (Redis down), the worker keeps
//! the new pair, reports [`TokenRefreshError::Store`] and keeps trying to write it in the
//! background, so the rotated refresh token is not lost.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, UNIX_EPOCH};

use b24_core::{Secret, TokenRefreshError};
use b24_runtime::{
    Exchange, OAuthTokens, Refreshed, StoreError, TokenCoordinator, TokenFuture, TokenStore,
};
use redis::{AsyncCommands, Script};
use tokio::time::Instant;

use crate::{Fleet, FleetError};

/// KEYS: the pair, the lock. ARGV: the fence, the `gen` read, access, refresh, expires.
/// Writes the pair if `gen` is unchanged or no pair is stored (Redis lost its data while
/// down); releases the lock if it holds the fence. Returns `{written (0/1), gen now}`.
const PUBLISH_SCRIPT: &str = r"
local gen = tonumber(redis.call('HGET', KEYS[1], 'gen') or '0') or 0
local written = 0
if gen == tonumber(ARGV[2]) or redis.call('EXISTS', KEYS[1]) == 0 then
  gen = gen + 1
  redis.call('HSET', KEYS[1], 'access', ARGV[3], 'refresh', ARGV[4], 'expires', ARGV[5], 'gen', gen)
  written = 1
end
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
return {written, gen}
";

/// KEYS: the lock. ARGV: the fence. Deletes the lock if it holds the fence.
const RELEASE_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// KEYS: the lock. ARGV: the fence, the TTL in ms. Extends the lock if it holds the fence.
const RENEW_SCRIPT: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// KEYS: the pair. ARGV: access, refresh, expires, `only_if_absent` (0/1). Writes the pair
/// with the next `gen`. Returns the `gen` written, or 0 if a pair was there and
/// `only_if_absent`.
const PUT_SCRIPT: &str = r"
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local gen = (tonumber(redis.call('HGET', KEYS[1], 'gen') or '0') or 0) + 1
redis.call('HSET', KEYS[1], 'access', ARGV[1], 'refresh', ARGV[2], 'expires', ARGV[3], 'gen', gen)
return gen
";

/// The scripts, hashed once (`Script::new` computes the SHA-1 `EVALSHA` uses).
static PUBLISH: LazyLock<Script> = LazyLock::new(|| Script::new(PUBLISH_SCRIPT));
static RELEASE: LazyLock<Script> = LazyLock::new(|| Script::new(RELEASE_SCRIPT));
static RENEW: LazyLock<Script> = LazyLock::new(|| Script::new(RENEW_SCRIPT));
static PUT: LazyLock<Script> = LazyLock::new(|| Script::new(PUT_SCRIPT));

/// How long a worker keeps trying to write a pair it could not write at once: 10 minutes.
const BACKGROUND_PUBLISH: Duration = Duration::from_secs(600);

/// A pair as stored, with its write count.
struct Stored {
    tokens: OAuthTokens,
    gen: i64,
}

/// The OAuth pair of one portal in Redis and its fleet-wide refresh ([`Fleet::tokens`]):
/// a [`TokenCoordinator`] for [`b24_runtime::OAuthConfig::with_coordinator`], and a
/// [`TokenStore`] (its `save` is [`RedisTokens::put`]). An application installed on many
/// portals gets one per portal, keyed by the portal's host or `member_id`. Cheap to clone.
#[derive(Clone)]
pub struct RedisTokens {
    fleet: Fleet,
    key: Arc<str>,
    lock_key: Arc<str>,
}

impl fmt::Debug for RedisTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokens")
            .field("key", &&*self.key)
            .finish_non_exhaustive()
    }
}

fn expires_field(tokens: &OAuthTokens) -> String {
    tokens
        .expires_at
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis().to_string())
        .unwrap_or_default()
}

fn coordination(e: FleetError) -> TokenRefreshError {
    TokenRefreshError::Coordination {
        source: Arc::new(e),
    }
}

/// A fence: random enough that two attempts never share one.
fn fence() -> String {
    format!(
        "{:016x}{:016x}-{}",
        fastrand::u64(..),
        fastrand::u64(..),
        std::process::id()
    )
}

impl RedisTokens {
    pub(crate) fn new(fleet: Fleet, key: String, lock_key: String) -> Self {
        RedisTokens {
            fleet,
            key: key.into(),
            lock_key: lock_key.into(),
        }
    }

    /// The pair stored for this portal, if any.
    pub async fn load(&self) -> Result<Option<OAuthTokens>, FleetError> {
        Ok(self.read().await?.map(|s| s.tokens))
    }

    /// Stores `tokens` as the portal's pair, replacing any: for a new installation or a
    /// re-authorization, whose pair is newer than whatever is stored.
    pub async fn put(&self, tokens: &OAuthTokens) -> Result<(), FleetError> {
        self.write(tokens, false).await.map(|_| ())
    }

    /// Stores `tokens` only if no pair is stored yet. Returns whether it did.
    pub async fn put_if_absent(&self, tokens: &OAuthTokens) -> Result<bool, FleetError> {
        self.write(tokens, true).await
    }

    /// Removes the pair (the application was uninstalled).
    pub async fn remove(&self) -> Result<(), FleetError> {
        let key = self.key.clone();
        self.fleet
            .run(|mut c| async move { c.del::<_, ()>(&*key).await })
            .await
    }

    async fn write(&self, tokens: &OAuthTokens, only_if_absent: bool) -> Result<bool, FleetError> {
        let script: &Script = &PUT;
        let (access, refresh) = (tokens.access_token.expose(), tokens.refresh_token.expose());
        let expires = expires_field(tokens);
        let gen: i64 = self
            .fleet
            .run(|mut c| async move {
                script
                    .key(&*self.key)
                    .arg(access)
                    .arg(refresh)
                    .arg(expires)
                    .arg(if only_if_absent { "1" } else { "0" })
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(gen > 0)
    }

    async fn read(&self) -> Result<Option<Stored>, FleetError> {
        let key = self.key.clone();
        let mut map: HashMap<String, String> = self
            .fleet
            .run(|mut c| async move { c.hgetall(&*key).await })
            .await?;
        if map.is_empty() {
            return Ok(None);
        }
        let corrupt = |reason: &str| FleetError::Corrupt {
            reason: reason.to_string(),
        };
        let (Some(access), Some(refresh)) = (map.remove("access"), map.remove("refresh")) else {
            return Err(corrupt("`access` or `refresh` missing"));
        };
        if access.is_empty() || refresh.is_empty() {
            return Err(corrupt("`access` or `refresh` empty"));
        }
        let gen = map
            .get("gen")
            .and_then(|g| g.parse::<i64>().ok())
            .ok_or_else(|| corrupt("`gen` missing or not a number"))?;
        let expires_at = match map.get("expires").map(String::as_str) {
            None | Some("") => None,
            Some(ms) => {
                let ms = ms
                    .parse::<u64>()
                    .map_err(|_| corrupt("`expires` is not a count of milliseconds"))?;
                UNIX_EPOCH.checked_add(Duration::from_millis(ms))
            }
        };
        Ok(Some(Stored {
            tokens: OAuthTokens {
                access_token: Secret::new(access),
                refresh_token: Secret::new(refresh),
                expires_at,
            },
            gen,
        }))
    }

    async fn try_lock(&self, fence: &str) -> Result<bool, FleetError> {
        let ttl = self.fleet.config.lock_ttl.as_millis() as u64;
        let key = self.lock_key.clone();
        let fence = fence.to_string();
        let set: Option<String> = self
            .fleet
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(&*key)
                    .arg(fence)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok(set.is_some())
    }

    async fn lock_script(&self, script: &'static Script, fence: &str) -> Result<i64, FleetError> {
        let ttl = self.fleet.config.lock_ttl.as_millis() as u64;
        self.fleet
            .run(|mut c| async move {
                script
                    .key(&*self.lock_key)
                    .arg(fence)
                    .arg(ttl)
                    .invoke_async(&mut c)
                    .await
            })
            .await
    }

    async fn release(&self, fence: &str) {
        if let Err(e) = self.lock_script(&RELEASE, fence).await {
            // It expires on its own.
            tracing::warn!(key = &*self.key, error = %e, "refresh lock not released");
        }
    }

    /// Writes the pair `gen` was read with replaced by `tokens`, and releases the lock.
    /// Returns the `gen` now stored and whether ours was written.
    async fn publish(
        &self,
        fence: &str,
        gen: i64,
        tokens: &OAuthTokens,
    ) -> Result<(bool, i64), FleetError> {
        let script: &Script = &PUBLISH;
        let (access, refresh) = (tokens.access_token.expose(), tokens.refresh_token.expose());
        let expires = expires_field(tokens);
        let (written, now): (i64, i64) = self
            .fleet
            .run(|mut c| async move {
                script
                    .key(&*self.key)
                    .key(&*self.lock_key)
                    .arg(fence)
                    .arg(gen)
                    .arg(access)
                    .arg(refresh)
                    .arg(expires)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok((written == 1, now))
    }

    /// Runs `exchange`, renewing the lock every third of its TTL meanwhile.
    async fn exchange_holding(
        &self,
        fence: &str,
        exchange: Pin<Box<dyn Future<Output = Result<OAuthTokens, TokenRefreshError>> + Send + '_>>,
    ) -> Result<OAuthTokens, TokenRefreshError> {
        let mut exchange = exchange;
        let period = self.fleet.config.lock_ttl / 3;
        let mut next = Instant::now() + period;
        loop {
            tokio::select! {
                result = &mut exchange => return result,
                _ = tokio::time::sleep_until(next) => {
                    next = Instant::now() + period;
                    match self.lock_script(&RENEW, fence).await {
                        Ok(1) => {}
                        Ok(_) => tracing::warn!(
                            key = &*self.key,
                            "refresh lock lost while exchanging (expired): the pair will be \
                             written only if no other worker wrote one meanwhile"
                        ),
                        Err(e) => tracing::warn!(key = &*self.key, error = %e, "refresh lock not renewed"),
                    }
                }
            }
        }
    }

    /// The part of a refresh after this worker took the lock.
    async fn refresh_holding(
        &self,
        fence: &str,
        stale: &OAuthTokens,
        exchange: Exchange<'_>,
    ) -> Result<Refreshed, TokenRefreshError> {
        let stored = match self.read().await {
            Ok(stored) => stored,
            Err(e) => {
                self.release(fence).await;
                return Err(coordination(e));
            }
        };
        let (gen, refresh_token) = match &stored {
            Some(s) if s.tokens.access_token != stale.access_token => {
                self.release(fence).await;
                return Ok(Refreshed::Found(s.tokens.clone()));
            }
            Some(s) => (s.gen, s.tokens.refresh_token.clone()),
            None => (0, stale.refresh_token.clone()),
        };
        let result = self.exchange_holding(fence, exchange(refresh_token)).await;
        let tokens = match result {
            Ok(tokens) => tokens,
            Err(e) => {
                self.release(fence).await;
                // A worker whose lock expired may have written a pair meanwhile.
                if let Ok(Some(s)) = self.read().await {
                    if s.gen != gen {
                        tracing::info!(key = &*self.key, error = %e, "exchange failed, but another worker wrote a newer pair: using it");
                        return Ok(Refreshed::Found(s.tokens));
                    }
                }
                return Err(e);
            }
        };
        // The refresh token we exchanged is spent: the new pair must reach Redis.
        let mut delay = Duration::from_millis(50);
        let deadline = Instant::now() + self.fleet.config.lock_ttl;
        loop {
            match self.publish(fence, gen, &tokens).await {
                Ok((true, _)) => {
                    return Ok(Refreshed::Exchanged {
                        tokens,
                        shared: Ok(()),
                    })
                }
                Ok((false, _)) => {
                    // Our lock expired and another worker wrote a pair: both pairs were
                    // issued; the fleet keeps the one it already has.
                    tracing::warn!(
                        key = &*self.key,
                        "another worker wrote a pair while this one exchanged: using it"
                    );
                    return match self.read().await {
                        Ok(Some(s)) => Ok(Refreshed::Found(s.tokens)),
                        _ => Ok(Refreshed::Exchanged {
                            tokens,
                            shared: Ok(()),
                        }),
                    };
                }
                Err(e) if Instant::now() + delay >= deadline => {
                    tracing::error!(
                        key = &*self.key,
                        error = %e,
                        "the new token pair could not be written to Redis: keeping it here and \
                         retrying in the background"
                    );
                    self.publish_later(fence.to_string(), gen, tokens.clone());
                    return Ok(Refreshed::Exchanged {
                        tokens,
                        shared: Err(TokenRefreshError::Store {
                            source: Arc::new(e),
                        }),
                    });
                }
                Err(_) => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(1));
                }
            }
        }
    }

    /// Keeps trying to write a pair that could not be written at once.
    fn publish_later(&self, fence: String, gen: i64, tokens: OAuthTokens) {
        let this = self.clone();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            let end = Instant::now() + BACKGROUND_PUBLISH;
            while Instant::now() < end {
                tokio::time::sleep(Duration::from_secs(1)).await;
                match this.publish(&fence, gen, &tokens).await {
                    Ok((true, _)) => {
                        tracing::info!(key = &*this.key, "the new token pair reached Redis");
                        return;
                    }
                    Ok((false, _)) => return,
                    Err(_) => {}
                }
            }
            tracing::error!(
                key = &*this.key,
                "gave up writing the new token pair to Redis"
            );
        });
    }

    async fn refresh_impl(
        &self,
        stale: &OAuthTokens,
        exchange: Exchange<'_>,
    ) -> Result<Refreshed, TokenRefreshError> {
        let config = &self.fleet.config;
        let started = Instant::now();
        let deadline = started + config.refresh_wait;
        let fence = fence();
        loop {
            match self.read().await.map_err(coordination)? {
                Some(s) if s.tokens.access_token != stale.access_token => {
                    return Ok(Refreshed::Found(s.tokens));
                }
                Some(_) => {}
                None => {
                    // Nothing stored yet: the pair this worker holds is the fleet's.
                    self.put_if_absent(stale).await.map_err(coordination)?;
                }
            }
            if self.try_lock(&fence).await.map_err(coordination)? {
                return self.refresh_holding(&fence, stale, exchange).await;
            }
            if Instant::now() >= deadline {
                return Err(coordination(FleetError::RefreshWait {
                    waited: started.elapsed(),
                }));
            }
            let poll = config.poll_interval;
            let jitter = poll.mul_f64(fastrand::f64() * 0.5);
            tokio::time::sleep(poll + jitter).await;
        }
    }
}

impl TokenCoordinator for RedisTokens {
    fn current(&self) -> TokenFuture<'_, Result<Option<OAuthTokens>, TokenRefreshError>> {
        Box::pin(async move { self.load().await.map_err(coordination) })
    }

    fn refresh<'a>(
        &'a self,
        stale: &'a OAuthTokens,
        exchange: Exchange<'a>,
    ) -> TokenFuture<'a, Result<Refreshed, TokenRefreshError>> {
        Box::pin(self.refresh_impl(stale, exchange))
    }
}

impl TokenStore for RedisTokens {
    fn save<'a>(
        &'a self,
        tokens: &'a OAuthTokens,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>> {
        Box::pin(async move {
            self.put(tokens)
                .await
                .map_err(|e| Box::new(e) as StoreError)
        })
    }
}
