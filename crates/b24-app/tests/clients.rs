//! Per-portal clients: one cached client per portal, token refreshes at the portal's token
//! endpoint written back to the store, nothing shared between portals, nothing lost across a
//! restart.

use std::sync::Arc;

use b24_app::{App, AppStore, Installation, SqliteStore};
use b24_mock_portal::MockPortal;
use b24_openlines::imopenlines::dialog_get;
use b24_openlines::{OAuthTokens, Secret};

mod common;

use common::{portal, ID, SECRET};

/// Stores `portal` as installed, with a fresh pair it issued.
async fn install(store: &SqliteStore, portal: &MockPortal) -> Installation {
    let pair = portal.issue_tokens(ID).unwrap();
    let installation = Installation::new(
        portal.member_id(),
        portal.domain(),
        portal.client_endpoint().parse().unwrap(),
        Secret::new(portal.application_token(ID).unwrap()),
        OAuthTokens {
            access_token: Secret::new(pair.access_token),
            refresh_token: Secret::new(pair.refresh_token),
            expires_at: None,
        },
    )
    .with_details(Some(portal.server_endpoint()), None, None);
    store.install(&installation).await.unwrap();
    installation
}

fn app(store: Arc<SqliteStore>, portals: &[&MockPortal]) -> App {
    let mut builder = App::builder(ID, SECRET).store(store);
    for p in portals {
        builder = builder.oauth_server(p.server_endpoint(), p.token_endpoint().parse().unwrap());
    }
    builder.build().unwrap()
}

async fn stored(store: &SqliteStore, member_id: &str) -> OAuthTokens {
    store.portal(member_id).await.unwrap().unwrap().tokens
}

#[tokio::test]
async fn refreshed_tokens_are_written_back_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let portal = portal().await;
    let member = portal.member_id().to_string();
    let original = {
        let store = Arc::new(SqliteStore::open(&path).await.unwrap());
        let installed = install(&store, &portal).await;
        let app = app(Arc::clone(&store), &[&portal]);
        let client = app.client(&member).await.unwrap();
        client
            .dialog_get(dialog_get::Request::chat_id(1777))
            .await
            .unwrap();
        portal.expire_access_tokens();
        client
            .dialog_get(dialog_get::Request::chat_id(1777))
            .await
            .unwrap();
        let saved = stored(&store, &member).await;
        assert_ne!(saved.refresh_token, installed.tokens.refresh_token);
        assert_ne!(saved.access_token, installed.tokens.access_token);
        // What the store has is what the live client uses.
        assert_eq!(
            client.oauth_tokens().unwrap().refresh_token,
            saved.refresh_token
        );
        // The same client (one OAuth session) for every caller.
        let again = app.client(&member).await.unwrap();
        assert_eq!(
            again.oauth_tokens().unwrap().access_token,
            saved.access_token
        );
        installed.tokens
    };
    // A restart: the original refresh token is spent; only the written-back one works.
    portal.expire_access_tokens();
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let app = app(Arc::clone(&store), &[&portal]);
    let client = app.client(&member).await.unwrap();
    client
        .dialog_get(dialog_get::Request::chat_id(1777))
        .await
        .unwrap();
    let saved = stored(&store, &member).await;
    assert_ne!(saved.refresh_token, original.refresh_token);
    assert_eq!(
        client.oauth_tokens().unwrap().refresh_token,
        saved.refresh_token
    );
}

#[tokio::test]
async fn two_portals_never_share_a_client_or_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let (a, b) = (portal().await, portal().await);
    install(&store, &a).await;
    install(&store, &b).await;
    let app = app(Arc::clone(&store), &[&a, &b]);
    let ca = app.client(a.member_id()).await.unwrap();
    let cb = app.client(b.member_id()).await.unwrap();
    assert_eq!(ca.portal().as_str(), a.base_url());
    assert_eq!(cb.portal().as_str(), b.base_url());

    // Only A's tokens expire; A's client refreshes at A's endpoint, B's is untouched.
    a.expire_access_tokens();
    ca.dialog_get(dialog_get::Request::chat_id(1777))
        .await
        .unwrap();
    cb.dialog_get(dialog_get::Request::chat_id(1777))
        .await
        .unwrap();
    let (ta, tb) = (
        stored(&store, a.member_id()).await,
        stored(&store, b.member_id()).await,
    );
    assert_ne!(ta.access_token, tb.access_token);
    assert_ne!(ta.refresh_token, tb.refresh_token);
    assert_eq!(ca.oauth_tokens().unwrap().access_token, ta.access_token);
    assert_eq!(cb.oauth_tokens().unwrap().access_token, tb.access_token);
    for p in [&a, &b] {
        assert_eq!(p.counters().executed("imopenlines.dialog.get"), 1);
    }
    // One bucket per portal: draining A's does not touch B's.
    let (bucket_a, bucket_b) = (ca.bucket().unwrap(), cb.bucket().unwrap());
    bucket_a.saturate();
    assert!(bucket_a.level() > bucket_b.level() + 10.0);
}

#[tokio::test]
async fn a_reinstall_replaces_the_cached_client_and_an_uninstall_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let portal = portal().await;
    let member = portal.member_id().to_string();
    install(&store, &portal).await;
    let app = app(Arc::clone(&store), &[&portal]);
    let before = app.client(&member).await.unwrap();
    let second = install(&store, &portal).await;
    let after = app.client(&member).await.unwrap();
    assert_eq!(
        after.oauth_tokens().unwrap().access_token,
        second.tokens.access_token
    );
    assert_ne!(
        before.oauth_tokens().unwrap().access_token,
        after.oauth_tokens().unwrap().access_token
    );
    // The old client's refresh cannot overwrite the reinstall's tokens.
    portal.expire_access_tokens();
    let _ = before.dialog_get(dialog_get::Request::chat_id(1777)).await;
    assert_eq!(
        stored(&store, &member).await.refresh_token,
        second.tokens.refresh_token
    );

    assert!(app.uninstall(&member).await.unwrap());
    assert!(matches!(
        app.client(&member).await,
        Err(b24_app::AppError::NotInstalled { .. })
    ));
}
