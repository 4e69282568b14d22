//! The install route against the local portal's token endpoint: a genuine install is stored
//! with the pair the authorization server issued in exchange, and installs it does not
//! confirm are refused and store nothing.

use std::sync::Arc;

use b24_app::{App, AppStore, SqliteStore};
use b24_mock_portal::{MockPortal, TokenPair};
use b24_openlines::imopenlines::dialog_get;

mod common;

use common::{portal, post, ID, SECRET};

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The `ONAPPINSTALL` POST of `portal` carrying `pair`, claiming `member_id`.
fn install_body(portal: &MockPortal, pair: &TokenPair, member_id: &str, app_token: &str) -> String {
    format!(
        "event=ONAPPINSTALL&data%5BVERSION%5D=1&data%5BACTIVE%5D=Y&data%5BINSTALLED%5D=Y\
         &data%5BLANGUAGE_ID%5D=ru&ts=1696527000&auth%5Bdomain%5D={}&auth%5Bscope%5D=imopenlines\
         &auth%5Baccess_token%5D={}&auth%5Brefresh_token%5D={}&auth%5Bexpires_in%5D=3600\
         &auth%5Bserver_endpoint%5D={}&auth%5Bstatus%5D=L&auth%5Bclient_endpoint%5D={}\
         &auth%5Bmember_id%5D={}&auth%5Bapplication_token%5D={}",
        enc(portal.domain()),
        pair.access_token,
        pair.refresh_token,
        enc(&portal.server_endpoint()),
        enc(&portal.client_endpoint()),
        enc(member_id),
        app_token,
    )
}

/// Serves the app's router on loopback; the base URL.
async fn serve(app: &App) -> String {
    common::serve(app.router()).await
}

#[tokio::test]
async fn a_verified_install_is_stored_with_the_exchanged_pair() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let portal = portal().await;
    let app = App::builder(ID, SECRET)
        .store(store.clone())
        .oauth_server(
            portal.server_endpoint(),
            portal.token_endpoint().parse().unwrap(),
        )
        .build()
        .unwrap();
    let base = serve(&app).await;

    let pair = portal.issue_tokens(ID).unwrap();
    let app_token = portal.application_token(ID).unwrap();
    let body = install_body(&portal, &pair, portal.member_id(), &app_token);
    assert_eq!(post(&format!("{base}/install"), body.clone()).await, 200);
    let stored = store.portal(portal.member_id()).await.unwrap().unwrap();
    assert_eq!(stored.application_token.expose(), app_token);
    assert_eq!(stored.client_endpoint.as_str(), portal.client_endpoint());
    assert_eq!(stored.domain, portal.domain());
    assert!(stored.tokens.expires_at.is_some());
    // The pair stored is the one the exchange issued; the install's own refresh token is
    // spent, so a replay of the same POST is refused and changes nothing.
    assert_ne!(stored.tokens.refresh_token.expose(), pair.refresh_token);
    assert_eq!(post(&format!("{base}/install"), body).await, 401);
    let after = store.portal(portal.member_id()).await.unwrap().unwrap();
    assert_eq!(after.install_id, stored.install_id);
    // The stored pair works.
    app.client(portal.member_id())
        .await
        .unwrap()
        .dialog_get(dialog_get::Request::chat_id(1777))
        .await
        .unwrap();

    // The same install delivered as an event to the events endpoint is handled the same way
    // (a reinstall): a new install_id, a new pair.
    let pair = portal.issue_tokens(ID).unwrap();
    let body = install_body(&portal, &pair, portal.member_id(), &app_token);
    assert_eq!(post(&format!("{base}/events"), body).await, 200);
    let again = store.portal(portal.member_id()).await.unwrap().unwrap();
    assert_ne!(again.install_id, stored.install_id);
}

#[tokio::test]
async fn installs_the_authorization_server_does_not_confirm_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let (a, b) = (portal().await, portal().await);
    let app = App::builder(ID, SECRET)
        .store(store.clone())
        .oauth_server(a.server_endpoint(), a.token_endpoint().parse().unwrap())
        .oauth_server(b.server_endpoint(), b.token_endpoint().parse().unwrap())
        .build()
        .unwrap();
    let url = format!("{}/install", serve(&app).await);

    // Portal A is installed genuinely.
    let pair_a = a.issue_tokens(ID).unwrap();
    let token_a = a.application_token(ID).unwrap();
    assert_eq!(
        post(&url, install_body(&a, &pair_a, a.member_id(), &token_a)).await,
        200
    );
    let genuine = store.portal(a.member_id()).await.unwrap().unwrap();

    // Portal B's valid pair, claiming to be portal A with a token of B's choosing: the
    // authorization server names B, so it is refused and A's record is untouched.
    let pair_b = b.issue_tokens(ID).unwrap();
    let mut forged = install_body(&b, &pair_b, a.member_id(), "chosen-by-the-attacker");
    assert_eq!(post(&url, forged.clone()).await, 401);
    // Made-up tokens.
    forged = install_body(
        &a,
        &TokenPair {
            refresh_token: "made-up".into(),
            ..pair_b.clone()
        },
        a.member_id(),
        "chosen-by-the-attacker",
    );
    assert_eq!(post(&url, forged).await, 401);
    // Not an install, or missing what it needs.
    assert_eq!(post(&url, "event=ONAPPINSTALL".into()).await, 400);
    assert_eq!(post(&url, "hello".into()).await, 400);
    let after = store.portal(a.member_id()).await.unwrap().unwrap();
    assert_eq!(after.install_id, genuine.install_id);
    assert_eq!(after.application_token.expose(), token_a);
    assert_eq!(
        store.portals().await.unwrap(),
        vec![a.member_id().to_string()]
    );

    // An authorization server that refuses (the app's trial ended) is not an install.
    let pair_b = b.issue_tokens(ID).unwrap();
    b.set_token_endpoint_error(Some("PAYMENT_REQUIRED"));
    let token_b = b.application_token(ID).unwrap();
    assert_eq!(
        post(&url, install_body(&b, &pair_b, b.member_id(), &token_b)).await,
        401
    );
    assert!(store.portal(b.member_id()).await.unwrap().is_none());
}
