//! [`SqliteStore`]: the embedded store, one SQLite file (compiled in, no system library).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use b24_runtime::{OAuthTokens, Secret};
use rusqlite::{params, Connection, OptionalExtension};
use url::Url;

use super::{AppStore, AppStoreError, Installation, StoreFuture};

/// The schema migrations, in order: (version, SQL). `PRAGMA user_version` records the last
/// one applied.
const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("../../migrations/0001_init.sql"))];

/// An [`AppStore`] in one SQLite file.
///
/// Queries run on Tokio's blocking pool, one at a time on one connection (writes are a few
/// per hour per portal; reads are single-row lookups by primary key). Installations read are
/// kept in memory and every write updates them under the same lock, so the events endpoint's
/// lookup costs no query; the file must therefore have one writer, this store (open it once
/// per process, and from one process). The file is created
/// with mode 0600 on Unix, in WAL mode with `synchronous=FULL`: a refreshed token pair is on
/// disk before the refresh is reported done, because the old refresh token is already spent.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// Installations as last read or written, by member_id; changed only while `conn` is
    /// locked, after the write committed.
    cache: Arc<Mutex<HashMap<String, Installation>>>,
    path: Arc<PathBuf>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

fn unix(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn from_unix(secs: i64) -> Option<SystemTime> {
    u64::try_from(secs)
        .ok()
        .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)))
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, AppStoreError> {
        let path = path.as_ref().to_path_buf();
        let opened = path.clone();
        let conn = tokio::task::spawn_blocking(move || open_blocking(&opened))
            .await
            .map_err(|e| AppStoreError::Task(e.to_string()))??;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            cache: Arc::default(),
            path: Arc::new(path),
        })
    }

    /// The file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the connection and the cache on the blocking pool.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(
                &mut Connection,
                &Mutex<HashMap<String, Installation>>,
            ) -> Result<T, AppStoreError>
            + Send
            + 'static,
    ) -> Result<T, AppStoreError> {
        let conn = Arc::clone(&self.conn);
        let cache = Arc::clone(&self.cache);
        tokio::task::spawn_blocking(move || {
            let mut guard = lock(&conn);
            f(&mut guard, &cache)
        })
        .await
        .map_err(|e| AppStoreError::Task(e.to_string()))?
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic mid-query leaves SQLite consistent (the statement's transaction rolls back),
    // and the cache is only changed after a commit.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn open_blocking(path: &Path) -> Result<Connection, AppStoreError> {
    let existed = path.exists();
    let mut conn = Connection::open(path)?;
    #[cfg(unix)]
    if !existed {
        use std::os::unix::fs::PermissionsExt;
        // Tokens at rest: readable by the application's user only.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| AppStoreError::Schema(format!("cannot restrict the file's mode: {e}")))?;
    }
    #[cfg(not(unix))]
    let _ = existed;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Applies every migration newer than the file's `user_version`, each in its own transaction.
fn migrate(conn: &mut Connection) -> Result<(), AppStoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let latest = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > latest {
        return Err(AppStoreError::Schema(format!(
            "the file is at schema version {current}, this build knows up to {latest}"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .map_err(|e| AppStoreError::Schema(format!("migration {version} failed: {e}")))?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}

/// The columns `portal` reads, in order.
const PORTAL_COLUMNS: &str = "p.member_id, p.install_id, p.domain, p.client_endpoint, \
     p.server_endpoint, p.scope, p.status, p.application_token, p.installed_at, \
     t.access_token, t.refresh_token, t.expires_at";

type PortalRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
    String,
    String,
    Option<i64>,
);

fn installation(row: PortalRow) -> Result<Installation, AppStoreError> {
    let (member_id, install_id, domain, endpoint, server, scope, status, app_token, at, a, r, exp) =
        row;
    let corrupt = |reason: &str| AppStoreError::Corrupt {
        member_id: member_id.clone(),
        reason: reason.to_string(),
    };
    let client_endpoint =
        Url::parse(&endpoint).map_err(|_| corrupt("client_endpoint is not a URL"))?;
    let installed_at = from_unix(at).ok_or_else(|| corrupt("installed_at is out of range"))?;
    let expires_at = match exp {
        Some(e) => Some(from_unix(e).ok_or_else(|| corrupt("expires_at is out of range"))?),
        None => None,
    };
    Ok(Installation {
        member_id,
        install_id,
        domain,
        client_endpoint,
        server_endpoint: server,
        scope,
        status,
        application_token: Secret::new(app_token),
        tokens: OAuthTokens {
            access_token: Secret::new(a),
            refresh_token: Secret::new(r),
            expires_at,
        },
        installed_at,
    })
}

impl AppStore for SqliteStore {
    fn install<'a>(&'a self, installation: &'a Installation) -> StoreFuture<'a, ()> {
        let i = installation.clone();
        Box::pin(self.with(move |conn, cache| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO portals (member_id, install_id, domain, client_endpoint, \
                 server_endpoint, scope, status, application_token, installed_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (member_id) DO UPDATE SET install_id = excluded.install_id, \
                 domain = excluded.domain, client_endpoint = excluded.client_endpoint, \
                 server_endpoint = excluded.server_endpoint, scope = excluded.scope, \
                 status = excluded.status, application_token = excluded.application_token, \
                 installed_at = excluded.installed_at",
                params![
                    i.member_id,
                    i.install_id,
                    i.domain,
                    i.client_endpoint.as_str(),
                    i.server_endpoint,
                    i.scope,
                    i.status,
                    i.application_token.expose(),
                    unix(i.installed_at),
                ],
            )?;
            tx.execute(
                "INSERT INTO tokens (member_id, install_id, access_token, refresh_token, \
                 expires_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (member_id) DO UPDATE SET install_id = excluded.install_id, \
                 access_token = excluded.access_token, refresh_token = excluded.refresh_token, \
                 expires_at = excluded.expires_at, updated_at = excluded.updated_at",
                params![
                    i.member_id,
                    i.install_id,
                    i.tokens.access_token.expose(),
                    i.tokens.refresh_token.expose(),
                    i.tokens.expires_at.map(unix),
                    unix(SystemTime::now()),
                ],
            )?;
            tx.commit()?;
            lock(cache).insert(i.member_id.clone(), i);
            Ok(())
        }))
    }

    fn portal<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<Installation>> {
        if let Some(i) = lock(&self.cache).get(member_id) {
            let i = i.clone();
            return Box::pin(async move { Ok(Some(i)) });
        }
        let member_id = member_id.to_string();
        Box::pin(self.with(move |conn, cache| {
            let sql = format!(
                "SELECT {PORTAL_COLUMNS} FROM portals p JOIN tokens t USING (member_id) \
                 WHERE p.member_id = ?1"
            );
            let row: Option<PortalRow> = conn
                .prepare_cached(&sql)?
                .query_row(params![member_id], |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                        r.get(11)?,
                    ))
                })
                .optional()?;
            let found = row.map(installation).transpose()?;
            if let Some(i) = &found {
                lock(cache).insert(i.member_id.clone(), i.clone());
            }
            Ok(found)
        }))
    }

    fn portals(&self) -> StoreFuture<'_, Vec<String>> {
        Box::pin(self.with(|conn, _| {
            let mut stmt =
                conn.prepare_cached("SELECT member_id FROM portals ORDER BY member_id")?;
            let ids = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            Ok(ids)
        }))
    }

    fn save_tokens<'a>(
        &'a self,
        member_id: &'a str,
        install_id: &'a str,
        tokens: &'a OAuthTokens,
    ) -> StoreFuture<'a, bool> {
        let (member_id, install_id, tokens) = (
            member_id.to_string(),
            install_id.to_string(),
            tokens.clone(),
        );
        Box::pin(self.with(move |conn, cache| {
            let n = conn
                .prepare_cached(
                    "UPDATE tokens SET access_token = ?3, refresh_token = ?4, expires_at = ?5, \
                 updated_at = ?6 WHERE member_id = ?1 AND install_id = ?2",
                )?
                .execute(params![
                    member_id,
                    install_id,
                    tokens.access_token.expose(),
                    tokens.refresh_token.expose(),
                    tokens.expires_at.map(unix),
                    unix(SystemTime::now()),
                ])?;
            if n == 1 {
                if let Some(i) = lock(cache).get_mut(&member_id) {
                    i.tokens = tokens;
                }
            }
            Ok(n == 1)
        }))
    }

    fn uninstall<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, bool> {
        let member_id = member_id.to_string();
        Box::pin(self.with(move |conn, cache| {
            // Tokens go with the portal (ON DELETE CASCADE).
            let n = conn.execute(
                "DELETE FROM portals WHERE member_id = ?1",
                params![member_id],
            )?;
            lock(cache).remove(&member_id);
            Ok(n == 1)
        }))
    }

    fn offline_process_id<'a>(&'a self, member_id: &'a str) -> StoreFuture<'a, Option<String>> {
        let member_id = member_id.to_string();
        Box::pin(self.with(move |conn, _| {
            let id: Option<Option<String>> = conn
                .prepare_cached("SELECT offline_process_id FROM portals WHERE member_id = ?1")?
                .query_row(params![member_id], |r| r.get(0))
                .optional()?;
            Ok(id.flatten())
        }))
    }

    fn set_offline_process_id<'a>(
        &'a self,
        member_id: &'a str,
        process_id: Option<&'a str>,
    ) -> StoreFuture<'a, ()> {
        let (member_id, process_id) = (member_id.to_string(), process_id.map(str::to_string));
        Box::pin(self.with(move |conn, _| {
            conn.prepare_cached("UPDATE portals SET offline_process_id = ?2 WHERE member_id = ?1")?
                .execute(params![member_id, process_id])?;
            Ok(())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(a: &str, r: &str) -> OAuthTokens {
        OAuthTokens {
            access_token: Secret::new(a),
            refresh_token: Secret::new(r),
            expires_at: Some(UNIX_EPOCH + Duration::from_secs(1_800_000_000)),
        }
    }

    fn install(member: &str, app_token: &str) -> Installation {
        Installation::new(
            member,
            format!("{member}.example"),
            Url::parse(&format!("https://{member}.example/rest/")).unwrap(),
            Secret::new(app_token),
            tokens("access-1", "refresh-1"),
        )
    }

    #[tokio::test]
    async fn reinstall_replaces_and_stale_refreshes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("app.db")).await.unwrap();
        let first = install("m1", "apptoken-1");
        store.install(&first).await.unwrap();
        assert!(store
            .save_tokens("m1", &first.install_id, &tokens("access-2", "refresh-2"))
            .await
            .unwrap());
        let got = store.portal("m1").await.unwrap().unwrap();
        assert_eq!(got.tokens.refresh_token.expose(), "refresh-2");
        store
            .set_offline_process_id("m1", Some("proc-1"))
            .await
            .unwrap();

        let second = install("m1", "apptoken-2");
        store.install(&second).await.unwrap();
        // A refresh by a client of the first install does not overwrite the new pair.
        assert!(!store
            .save_tokens("m1", &first.install_id, &tokens("access-x", "refresh-x"))
            .await
            .unwrap());
        let got = store.portal("m1").await.unwrap().unwrap();
        assert_eq!(got.application_token.expose(), "apptoken-2");
        assert_eq!(got.tokens.refresh_token.expose(), "refresh-1");
        assert_eq!(got.install_id, second.install_id);
        // The offline reservation survives a reinstall.
        assert_eq!(
            store.offline_process_id("m1").await.unwrap().as_deref(),
            Some("proc-1")
        );

        assert!(store.uninstall("m1").await.unwrap());
        assert!(store.portal("m1").await.unwrap().is_none());
        assert!(!store
            .save_tokens("m1", &second.install_id, &tokens("a", "r"))
            .await
            .unwrap());
        assert_eq!(store.offline_process_id("m1").await.unwrap(), None);
        assert!(!store.uninstall("m1").await.unwrap());
    }

    #[tokio::test]
    async fn a_file_from_a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        drop(SqliteStore::open(&path).await.unwrap());
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = SqliteStore::open(&path).await.unwrap_err();
        assert!(matches!(err, AppStoreError::Schema(_)), "{err}");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_file_is_private_and_debug_shows_no_secret() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
        let i = install("m1", "apptoken-secret");
        store.install(&i).await.unwrap();
        let shown = format!("{:?} {:?}", store.portal("m1").await.unwrap(), store);
        for secret in ["apptoken-secret", "access-1", "refresh-1"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
