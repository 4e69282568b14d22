//! The events endpoint against the local portal: portals stored directly (the install flow
//! has its own tests), events as the portal posts them, handlers calling the portal back.

use std::sync::{Arc, Mutex};

use b24_app::events::{OnImConnectorMessageAdd, OnSessionStart};
use b24_app::{App, AppStore, Installation, SqliteStore};
use b24_mock_portal::{MockPortal, OAuthToken, PortalConfig};
use b24_openlines::imopenlines::dialog_get;
use b24_openlines::{OAuthTokens, Secret};

mod common;

use common::post;

struct Portal {
    portal: MockPortal,
    member_id: String,
    app_token: String,
}

async fn portal(member_id: &str, app_token: &str, access: &str) -> Portal {
    let mut config = PortalConfig::default()
        .with_token(OAuthToken::new(access, &["imopenlines", "imconnector"]));
    config.member_id = member_id.to_string();
    config.application_token = app_token.to_string();
    Portal {
        portal: MockPortal::start(config).await.unwrap(),
        member_id: member_id.to_string(),
        app_token: app_token.to_string(),
    }
}

fn installation(p: &Portal, access: &str) -> Installation {
    Installation::new(
        p.member_id.clone(),
        p.portal.addr().to_string(),
        format!("{}rest/", p.portal.base_url()).parse().unwrap(),
        Secret::new(p.app_token.clone()),
        OAuthTokens {
            access_token: Secret::new(access),
            refresh_token: Secret::new("unused-refresh"),
            expires_at: None,
        },
    )
}

/// Serves the app's router on loopback; the events URL.
async fn serve(app: &App) -> String {
    format!("{}/events", common::serve(app.router()).await)
}

type Seen = Arc<Mutex<Vec<(String, i64)>>>;

/// An app whose `OnImConnectorMessageAdd` handler records (portal, chat) and calls
/// `imopenlines.dialog.get` on the portal it came from, and whose `OnSessionStart` handler
/// fails.
async fn app(store: Arc<SqliteStore>, seen: Seen) -> App {
    App::builder("app.test", "secret")
        .store(store)
        .on(move |e: OnImConnectorMessageAdd, ctx| {
            let seen = Arc::clone(&seen);
            async move {
                let chat = e.data.messages.first().map_or(0, |m| m.im.chat_id);
                ctx.client()
                    .dialog_get(dialog_get::Request::chat_id(1777))
                    .await?;
                seen.lock()
                    .unwrap()
                    .push((ctx.member_id().to_string(), chat));
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            }
        })
        .on(|_: OnSessionStart, _ctx| async { Err::<(), _>(std::io::Error::other("boom")) })
        .build()
        .unwrap()
}

#[tokio::test]
async fn events_reach_the_right_portals_handler_and_forgeries_touch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let a = portal("member-a", "apptoken-a-0123456789abcdef0123", "access-a").await;
    let b = portal("member-b", "apptoken-b-0123456789abcdef0123", "access-b").await;
    store.install(&installation(&a, "access-a")).await.unwrap();
    store.install(&installation(&b, "access-b")).await.unwrap();
    let seen: Seen = Arc::default();
    let app = app(Arc::clone(&store), Arc::clone(&seen)).await;
    let url = serve(&app).await;

    // A genuine event of each portal runs the handler with that portal's client.
    for p in [&a, &b] {
        let status = p
            .portal
            .deliver_event("OnImConnectorMessageAdd", &url)
            .await
            .unwrap();
        assert_eq!(status, 200);
    }
    assert_eq!(
        *seen.lock().unwrap(),
        vec![
            ("member-a".to_string(), 1807),
            ("member-b".to_string(), 1807)
        ]
    );
    for p in [&a, &b] {
        assert_eq!(p.portal.counters().executed("imopenlines.dialog.get"), 1);
    }

    // Portal B, with its own valid token, posts an event naming portal A: refused, and no
    // handler runs, no call reaches either portal.
    let forged = b
        .portal
        .event_body("OnImConnectorMessageAdd")
        .unwrap()
        .replace("member-b", "member-a");
    assert!(forged.contains("member-a") && forged.contains("apptoken-b"));
    assert_eq!(post(&url, forged).await, 401);
    // A wrong token, no token, an unknown portal, no portal: all 401.
    let body = a.portal.event_body("OnImConnectorMessageAdd").unwrap();
    for bad in [
        body.replace("apptoken-a", "apptoken-x"),
        body.replace("application_token", "application_tokem"),
        body.replace("member-a", "member-z"),
        body.replace("member_id", "member_ix"),
    ] {
        assert_eq!(post(&url, bad).await, 401);
    }
    // The token and the claim are A's, but a later key turns the decoded `auth[member_id]`
    // into something else: the delivered identity is not the verified one, so it is refused.
    let split = format!("{body}&auth%5Bmember_id%5D%5Bx%5D=member-b");
    assert_eq!(post(&url, split).await, 401);
    // Not an event at all.
    assert_eq!(post(&url, "hello=1".into()).await, 400);
    assert_eq!(seen.lock().unwrap().len(), 2);
    for p in [&a, &b] {
        assert_eq!(p.portal.counters().executed("imopenlines.dialog.get"), 1);
    }

    // A failing handler answers 500 (the portal records a failed delivery).
    assert_eq!(
        a.portal
            .deliver_event("OnSessionStart", &url)
            .await
            .unwrap(),
        500
    );
    // An event no handler takes (and no fallback) is accepted and dropped.
    assert_eq!(
        a.portal
            .deliver_event("OnSessionFinish", &url)
            .await
            .unwrap(),
        200
    );
}

#[tokio::test]
async fn the_uninstall_event_removes_the_portal_and_stops_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let a = portal("member-a", "apptoken-a-0123456789abcdef0123", "access-a").await;
    store.install(&installation(&a, "access-a")).await.unwrap();
    let seen: Seen = Arc::default();
    let app = app(Arc::clone(&store), Arc::clone(&seen)).await;
    let url = serve(&app).await;

    let uninstall = |token: &str| {
        format!(
            "event=ONAPPUNINSTALL&data%5BLANGUAGE_ID%5D=ru&data%5BCLEAN%5D=1&ts=1466439714\
             &auth%5Bdomain%5D=x&auth%5Bmember_id%5D=member-a&auth%5Bapplication_token%5D={token}"
        )
    };
    // A forged uninstall (wrong token) removes nothing.
    assert_eq!(post(&url, uninstall("guess")).await, 401);
    assert!(store.portal("member-a").await.unwrap().is_some());
    assert_eq!(
        a.portal
            .deliver_event("OnImConnectorMessageAdd", &url)
            .await
            .unwrap(),
        200
    );

    assert_eq!(post(&url, uninstall(&a.app_token)).await, 200);
    assert!(store.portal("member-a").await.unwrap().is_none());
    assert!(app.client("member-a").await.is_err());
    // Its events are refused from now on, and no handler runs.
    assert_eq!(
        a.portal
            .deliver_event("OnImConnectorMessageAdd", &url)
            .await
            .unwrap(),
        401
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_store_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let a = portal("member-a", "apptoken-a-0123456789abcdef0123", "access-a").await;
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store.install(&installation(&a, "access-a")).await.unwrap();
    }
    // A new process: the file reopened, a new app, the same portal's events verified.
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    let seen: Seen = Arc::default();
    let app = app(Arc::clone(&store), Arc::clone(&seen)).await;
    let url = serve(&app).await;
    assert_eq!(
        a.portal
            .deliver_event("OnImConnectorMessageAdd", &url)
            .await
            .unwrap(),
        200
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
    let stored = store.portal("member-a").await.unwrap().unwrap();
    assert_eq!(stored.application_token.expose(), a.app_token);
    assert_eq!(stored.tokens.access_token.expose(), "access-a");
}

#[tokio::test]
async fn events_without_a_handler_reach_the_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let a = portal("member-a", "apptoken-a-0123456789abcdef0123", "access-a").await;
    store.install(&installation(&a, "access-a")).await.unwrap();
    let fallback: Arc<Mutex<Vec<(String, bool, String)>>> = Arc::default();
    let seen = Arc::clone(&fallback);
    let app = App::builder("app.test", "secret")
        .store(Arc::clone(&store) as Arc<dyn AppStore>)
        .on(|_: OnSessionStart, _ctx| async { Ok::<(), std::io::Error>(()) })
        .fallback(move |e: b24_app::events::Event, ctx| {
            let seen = Arc::clone(&seen);
            async move {
                let other = matches!(e, b24_app::events::Event::Other(_));
                seen.lock().unwrap().push((
                    e.name().to_string(),
                    other,
                    ctx.member_id().to_string(),
                ));
                Ok::<(), std::io::Error>(())
            }
        })
        .build()
        .unwrap();
    let url = serve(&app).await;
    // A typed event with no handler of its own, and an event no spec describes.
    assert_eq!(
        a.portal
            .deliver_event("OnSessionFinish", &url)
            .await
            .unwrap(),
        200
    );
    let crm = format!(
        "event=ONCRMDEALADD&data%5BFIELDS%5D%5BID%5D=7405&auth%5Bmember_id%5D=member-a\
         &auth%5Bapplication_token%5D={}",
        a.app_token
    );
    assert_eq!(post(&url, crm).await, 200);
    // The typed handler's event does not reach the fallback.
    assert_eq!(
        a.portal
            .deliver_event("OnSessionStart", &url)
            .await
            .unwrap(),
        200
    );
    assert_eq!(
        *fallback.lock().unwrap(),
        vec![
            ("ONSESSIONFINISH".to_string(), false, "member-a".to_string()),
            ("ONCRMDEALADD".to_string(), true, "member-a".to_string()),
        ]
    );
}
