//! [`RedisAppStore`]: `b24-app`'s [`AppStore`] in Redis, so that several replicas of one
//! application serve the same portals.
//!
//! Keys, per portal (`member_id`), in one Redis Cluster slot:
//!
//! * `<prefix>:{<member_id>}:portal`, a hash: `install_id`, `domain`, `client_endpoint`,
//!   `server_endpoint`, `scope`, `status` (the last three only when set),
//!   `application_token`, `installed_at` (Unix milliseconds);
//! * `<prefix>:{<member_id>}:tokens`, the OAuth pair in [`RedisTokens`]' format (the same
//!   key as [`Fleet::tokens`]`(member_id)`, so the refresh coordinator and the store see one
//!   pair);
//! * `<prefix>:{<member_id>}:offline`, the offline consumer's `process_id`;
//!
//! and `<prefix>:portals`, the set of installed `member_id`s.
//!
//! [`RedisTokens`]: crate::RedisTokens

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use b24_app::{AppStore, AppStoreError, Installation, PortalShare, StoreFuture};
use b24_runtime::{OAuthTokens, RateLimit, Secret};
use redis::{AsyncCommands, Script};
use url::Url;

use crate::{Fleet, FleetError};

/// KEYS: portal, tokens. ARGV: access, refresh, expires, then the portal's field/value
/// pairs. Replaces the portal hash whole and writes the pair with the next `gen` (a refresh
/// of the old install that publishes after this sees `gen` moved and writes nothing).
const INSTALL_SCRIPT: &str = r"
redis.call('DEL', KEYS[1])
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
local gen = (tonumber(redis.call('HGET', KEYS[2], 'gen') or '0') or 0) + 1
redis.call('HSET', KEYS[2], 'access', ARGV[1], 'refresh', ARGV[2], 'expires', ARGV[3], 'gen', gen)
return gen
";

/// KEYS: portal, tokens. ARGV: install_id, access, refresh, expires. Writes the pair (next
/// `gen`) only while the portal is installed under `install_id`. Returns 1 if written.
const SAVE_SCRIPT: &str = r"
if redis.call('HGET', KEYS[1], 'install_id') ~= ARGV[1] then
  return 0
end
local gen = (tonumber(redis.call('HGET', KEYS[2], 'gen') or '0') or 0) + 1
redis.call('HSET', KEYS[2], 'access', ARGV[2], 'refresh', ARGV[3], 'expires', ARGV[4], 'gen', gen)
return 1
";

/// KEYS: portal, tokens, offline. Deletes all three. Returns 1 if the portal was installed.
const UNINSTALL_SCRIPT: &str = r"
local was = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2], KEYS[3])
return was
";

/// KEYS: portal, offline. ARGV: the process id, or nothing to forget it. No-op when the
/// portal is not installed.
const SET_OFFLINE_SCRIPT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
if #ARGV == 0 then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[1])
end
return 1
";

/// The scripts, hashed once (`Script::new` computes the SHA-1 `EVALSHA` uses).
static INSTALL: LazyLock<Script> = LazyLock::new(|| Script::new(INSTALL_SCRIPT));
static SAVE: LazyLock<Script> = LazyLock::new(|| Script::new(SAVE_SCRIPT));
static UNINSTALL: LazyLock<Script> = LazyLock::new(|| Script::new(UNINSTALL_SCRIPT));
static SET_OFFLINE: LazyLock<Script> = LazyLock::new(|| Script::new(SET_OFFLINE_SCRIPT));

/// `b24-app`'s [`AppStore`] in Redis ([`Fleet::app_store`]): every replica of an application
/// built on the same Redis and key prefix sees the same portals, installs, token pairs,
/// application tokens and offline process ids. Every call runs under
/// [`crate::FleetConfig::timeout`]; failures are [`AppStoreError::Backend`] holding a
/// [`FleetError`], or [`AppStoreError::Corrupt`] for a stored value that does not decode.
///
/// Give the application's clients the fleet's refresh coordinator (and, if wanted, its
/// rate limiter) with [`RedisAppStore::per_portal`]; then replicas never exchange one
/// portal's refresh token twice. Cheap to clone.
#[derive(Clone, Debug)]
pub struct RedisAppStore {
    fleet: Fleet,
}

fn backend(e: FleetError) -> AppStoreError {
    AppStoreError::Backend(Box::new(e))
}

fn millis(t: SystemTime) -> String {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis().to_string())
        .unwrap_or_else(|_| "0".into())
}

fn expires_field(tokens: &OAuthTokens) -> String {
    tokens.expires_at.map(millis).unwrap_or_default()
}

impl Fleet {
    /// The application store of this fleet: `b24-app`'s [`AppStore`] in Redis.
    pub fn app_store(&self) -> RedisAppStore {
        RedisAppStore {
            fleet: self.clone(),
        }
    }
}

impl RedisAppStore {
    /// The fleet it uses.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// A hook for [`b24_app::AppBuilder::per_portal`]: each portal's clients refresh through
    /// [`Fleet::tokens`]`(member_id)` (the pair this store keeps: one exchange per refresh
    /// across all replicas) and, with `limit`, take their requests from the shared bucket
    /// [`Fleet::limiter`]`(member_id, limit)`. Every replica must pass the same `limit`.
    pub fn per_portal(
        &self,
        limit: Option<RateLimit>,
    ) -> impl Fn(&str) -> PortalShare + Send + Sync + 'static {
        let fleet = self.fleet.clone();
        move |member_id: &str| {
            let share = PortalShare::new().coordinator(Arc::new(fleet.tokens(member_id)));
            match limit {
                Some(limit) => share.limiter(Arc::new(fleet.limiter(member_id, limit))),
                None => share,
            }
        }
    }

    fn portal_key(&self, member_id: &str) -> String {
        self.fleet.key(member_id, "portal")
    }

    fn tokens_key(&self, member_id: &str) -> String {
        self.fleet.key(member_id, "tokens")
    }

    fn offline_key(&self, member_id: &str) -> String {
        self.fleet.key(member_id, "offline")
    }

    fn set_key(&self) -> String {
        format!("{}:portals", self.fleet.config.key_prefix)
    }

    async fn install_impl(&self, i: &Installation) -> Result<(), AppStoreError> {
        let mut fields: Vec<(&str, String)> = vec![
            ("install_id", i.install_id.clone()),
            ("domain", i.domain.clone()),
            ("client_endpoint", i.client_endpoint.to_string()),
            (
                "application_token",
                i.application_token.expose().to_string(),
            ),
            ("installed_at", millis(i.installed_at)),
        ];
        for (name, value) in [
            ("server_endpoint", &i.server_endpoint),
            ("scope", &i.scope),
            ("status", &i.status),
        ] {
            if let Some(v) = value {
                fields.push((name, v.clone()));
            }
        }
        let (portal, tokens) = (self.portal_key(&i.member_id), self.tokens_key(&i.member_id));
        let expires = expires_field(&i.tokens);
        self.fleet
            .run(|mut c| async move {
                let mut invocation = INSTALL.key(portal);
                invocation
                    .key(tokens)
                    .arg(i.tokens.access_token.expose())
                    .arg(i.tokens.refresh_token.expose())
                    .arg(expires);
                for (name, value) in &fields {
                    invocation.arg(*name).arg(value.as_str());
                }
                invocation.invoke_async::<i64>(&mut c).await
            })
            .await
            .map_err(backend)?;
        let set = self.set_key();
        self.fleet
            .run(|mut c| async move { c.sadd::<_, _, ()>(set, &i.member_id).await })
            .await
            .map_err(backend)
    }

    async fn portal_impl(&self, member_id: &str) -> Result<Option<Installation>, AppStoreError> {
        let (portal, tokens) = (self.portal_key(member_id), self.tokens_key(member_id));
        let (mut p, mut t): (HashMap<String, String>, HashMap<String, String>) = self
            .fleet
            .run(|mut c| async move {
                redis::pipe()
                    .atomic()
                    .hgetall(portal)
                    .hgetall(tokens)
                    .query_async(&mut c)
                    .await
            })
            .await
            .map_err(backend)?;
        if p.is_empty() {
            return Ok(None);
        }
        let corrupt = |reason: &str| AppStoreError::Corrupt {
            member_id: member_id.to_string(),
            reason: reason.to_string(),
        };
        let mut take = |name: &str| {
            p.remove(name)
                .ok_or_else(|| corrupt(&format!("`{name}` missing")))
        };
        let install_id = take("install_id")?;
        let domain = take("domain")?;
        let client_endpoint = Url::parse(&take("client_endpoint")?)
            .map_err(|_| corrupt("`client_endpoint` is not a URL"))?;
        let application_token = Secret::new(take("application_token")?);
        let installed_at = take("installed_at")?
            .parse::<u64>()
            .ok()
            .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
            .ok_or_else(|| corrupt("`installed_at` is not a count of milliseconds"))?;
        let (Some(access), Some(refresh)) = (t.remove("access"), t.remove("refresh")) else {
            return Err(corrupt("the token pair is missing"));
        };
        let expires_at = match t.get("expires").map(String::as_str) {
            None | Some("") => None,
            Some(ms) => ms
                .parse::<u64>()
                .ok()
                .and_then(|ms| UNIX_EPOCH.checked_add(Duration::from_millis(ms)))
                .map(Some)
                .ok_or_else(|| corrupt("`expires` is not a count of milliseconds"))?,
        };
        let tokens = OAuthTokens {
            access_token: Secret::new(access),
            refresh_token: Secret::new(refresh),
            expires_at,
        };
        let mut installation = Installation::new(
            member_id,
            domain,
            client_endpoint,
            application_token,
            tokens,
        )
        .with_details(
            p.remove("server_endpoint"),
            p.remove("scope"),
            p.remove("status"),
        );
        installation.install_id = install_id;
        installation.installed_at = installed_at;
        Ok(Some(installation))
    }

    async fn portals_impl(&self) -> Result<Vec<String>, AppStoreError> {
        let set = self.set_key();
        let mut all: Vec<String> = self
            .fleet
            .run(|mut c| async move { c.smembers(set).await })
            .await
            .map_err(backend)?;
        all.sort();
        Ok(all)
    }

    async fn save_tokens_impl(
        &self,
        member_id: &str,
        install_id: &str,
        tokens: &OAuthTokens,
    ) -> Result<bool, AppStoreError> {
        let (portal, key) = (self.portal_key(member_id), self.tokens_key(member_id));
        let expires = expires_field(tokens);
        let written: i64 = self
            .fleet
            .run(|mut c| async move {
                SAVE.key(portal)
                    .key(key)
                    .arg(install_id)
                    .arg(tokens.access_token.expose())
                    .arg(tokens.refresh_token.expose())
                    .arg(expires)
                    .invoke_async(&mut c)
                    .await
            })
            .await
            .map_err(backend)?;
        Ok(written == 1)
    }

    async fn uninstall_impl(&self, member_id: &str) -> Result<bool, AppStoreError> {
        let keys = [
            self.portal_key(member_id),
            self.tokens_key(member_id),
            self.offline_key(member_id),
        ];
        let was: i64 = self
            .fleet
            .run(|mut c| async move {
                let mut invocation = UNINSTALL.prepare_invoke();
                for k in &keys {
                    invocation.key(k.as_str());
                }
                invocation.invoke_async(&mut c).await
            })
            .await
            .map_err(backend)?;
        let set = self.set_key();
        self.fleet
            .run(|mut c| async move { c.srem::<_, _, ()>(set, member_id).await })
            .await
            .map_err(backend)?;
        Ok(was == 1)
    }

    async fn offline_impl(&self, member_id: &str) -> Result<Option<String>, AppStoreError> {
        let (portal, offline) = (self.portal_key(member_id), self.offline_key(member_id));
        let (installed, pid): (bool, Option<String>) = self
            .fleet
            .run(|mut c| async move {
                redis::pipe()
                    .atomic()
                    .exists(portal)
                    .get(offline)
                    .query_async(&mut c)
                    .await
            })
            .await
            .map_err(backend)?;
        Ok(pid.filter(|_| installed))
    }

    async fn set_offline_impl(
        &self,
        member_id: &str,
        process_id: Option<&str>,
    ) -> Result<(), AppStoreError> {
        let (portal, offline) = (self.portal_key(member_id), self.offline_key(member_id));
        self.fleet
            .run(|mut c| async move {
                let mut invocation = SET_OFFLINE.key(portal);
                invocation.key(offline);
                if let Some(pid) = process_id {
                    invocation.arg(pid);
                }
                invocation.invoke_async::<i64>(&mut c).await
            })
            .await
            .map(|_| ())
            .map_err(backend)
    }
}

impl AppStore for RedisAppStore {
    fn install<'a>(&'a self, installation: &'a Installation) -> StoreFuture<'a, ()> {
        Box::pin(self.install_impl(installation))
    }

    fn portal<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<Installation>> {
        Box::pin(self.portal_impl(member_id))
    }

    fn portals(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(self.portals_impl())
    }

    fn save_tokens<'a>(
        &'a self,
        member_id: &'a str,
        install_id: &'a str,
        tokens: &'a OAuthTokens,
    ) -> StoreFuture<'a, bool> {
        Box::pin(self.save_tokens_impl(member_id, install_id, tokens))
    }

    fn uninstall<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(self.uninstall_impl(member_id))
    }

    fn offline_process_id<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<String>> {
        Box::pin(self.offline_impl(member_id))
    }

    fn set_offline_process_id<'a>(
        &'a self,
        member_id: &'a str,
        process_id: Option<&'a str>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(self.set_offline_impl(member_id, process_id))
    }
}
