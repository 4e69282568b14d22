//! An application run on two replicas (two `b24_app::App`s, each with its own client cache)
//! over one `RedisAppStore` on a real redis-server, against local portals: an install through
//! one replica serves events on the other, an uninstall through one is seen by the other, and
//! both replicas meeting an expired token refresh it once.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_app::events::OnImConnectorMessageAdd;
use b24_app::{App, AppStore, Installation};
use b24_fleet::{Fleet, FleetConfig, FleetError, RedisAppStore};
use b24_mock_portal::{MockPortal, OAuthApp, PortalConfig};
use b24_openlines::imopenlines::dialog_get;
use b24_openlines::{OAuthTokens, RateLimit, Secret};
use common::RedisServer;

const ID: &str = "app.6651f00dcafe01.12345678";
const SECRET: &str = "app-secret-0123456789abcdef0123456789abcdef";
const DIALOG_GET: &str = "imopenlines.dialog.get";

/// (replica, member_id) of every event a handler ran for.
type Seen = Arc<Mutex<Vec<(&'static str, String)>>>;

async fn portal() -> MockPortal {
    MockPortal::start(PortalConfig::default().with_app(OAuthApp::new(ID, SECRET)))
        .await
        .unwrap()
}

fn store(redis: &RedisServer) -> RedisAppStore {
    Fleet::connect(
        &redis.url(),
        FleetConfig::default().with_timeout(Duration::from_secs(2)),
    )
    .unwrap()
    .app_store()
}

/// A replica: events bound to `events_base` (the URL the portal reaches, the same for every
/// replica), clients refreshing through the fleet; its handler records the event and calls
/// `imopenlines.dialog.get` with the portal's client.
fn replica(
    name: &'static str,
    store: &RedisAppStore,
    events_base: &str,
    portals: &[&MockPortal],
    seen: &Seen,
    shared: bool,
) -> App {
    replica_with(name, store, events_base, portals, seen, shared, None)
}

/// [`replica`], its clients also drawing from the fleet's bucket `limit` when `shared`.
fn replica_with(
    name: &'static str,
    store: &RedisAppStore,
    events_base: &str,
    portals: &[&MockPortal],
    seen: &Seen,
    shared: bool,
    limit: Option<RateLimit>,
) -> App {
    let mut builder = App::builder(ID, SECRET)
        .store(Arc::new(store.clone()))
        .events_url(format!("{events_base}/events").parse().unwrap());
    if shared {
        builder = builder.per_portal(store.per_portal(limit));
    }
    for p in portals {
        builder = builder.oauth_server(p.server_endpoint(), p.token_endpoint().parse().unwrap());
    }
    let seen = Arc::clone(seen);
    builder
        .on(move |_e: OnImConnectorMessageAdd, ctx| {
            let seen = Arc::clone(&seen);
            async move {
                seen.lock()
                    .unwrap()
                    .push((name, ctx.member_id().to_string()));
                ctx.client()
                    .dialog_get(dialog_get::Request::chat_id(1777))
                    .await?;
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            }
        })
        .build()
        .unwrap()
}

async fn reserve() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, format!("http://{addr}/b24"))
}

fn serve_on(listener: tokio::net::TcpListener, app: &App) {
    let router = axum::Router::new().nest("/b24", app.router());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

async fn post(url: &str, body: String) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// An operator's message event as `portal` posts it, with `app_token`.
fn event_body(portal: &MockPortal, app_token: &str) -> String {
    let mut form = serde_json::Map::new();
    form.insert("event".into(), "ONIMCONNECTORMESSAGEADD".into());
    form.insert("data".into(), message());
    form.insert(
        "auth".into(),
        serde_json::json!({
            "domain": portal.domain(),
            "member_id": portal.member_id(),
            "application_token": app_token,
        }),
    );
    b24_core::php::http_build_query(&form)
}

fn message() -> serde_json::Value {
    serde_json::json!({
        "CONNECTOR": "echo",
        "LINE": 1,
        "MESSAGES": [{
            "im": {"chat_id": 1777, "message_id": 1},
            "message": {"user_id": 1, "text": "hi"},
            "chat": {"id": "chan"},
        }],
    })
}

async fn delivered(portal: &MockPortal, n: usize) -> u16 {
    let all = tokio::time::timeout(Duration::from_secs(30), portal.wait_for_deliveries(n))
        .await
        .expect("the portal delivers the event");
    match &all[n - 1].outcome {
        Ok(status) => *status,
        Err(e) => panic!("delivery failed: {e}"),
    }
}

#[tokio::test]
async fn an_install_through_one_replica_serves_events_on_the_other() {
    let redis = RedisServer::start();
    let store = store(&redis);
    let (one, two) = (portal().await, portal().await);
    let seen: Seen = Arc::default();
    let (listener_a, base_a) = reserve().await;
    let (listener_b, base_b) = reserve().await;
    // The portals reach the application at B (the address behind the load balancer); the
    // installs go to A.
    let a = replica("A", &store, &base_b, &[&one, &two], &seen, true);
    let b = replica("B", &store, &base_b, &[&one, &two], &seen, true);
    serve_on(listener_a, &a);
    serve_on(listener_b, &b);
    for p in [&one, &two] {
        let installed = p
            .install_app(ID, &format!("{base_a}/install"))
            .await
            .unwrap();
        assert_eq!(installed.handler, Ok(200));
    }
    let mut members = vec![one.member_id().to_string(), two.member_id().to_string()];
    members.sort();
    assert_eq!(store.portals().await.unwrap(), members);

    // Portal two raises an event: B verifies it against what A stored and runs the handler
    // with portal two's client.
    assert_eq!(two.raise_event("OnImConnectorMessageAdd", message()), 1);
    assert_eq!(delivered(&two, 1).await, 200);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![("B", two.member_id().to_string())]
    );
    assert_eq!(two.counters().executed(DIALOG_GET), 1);
    assert_eq!(one.counters().executed(DIALOG_GET), 0);
}

#[tokio::test]
async fn an_uninstall_through_one_replica_is_seen_by_the_other() {
    let redis = RedisServer::start();
    let store = store(&redis);
    let portal = portal().await;
    let seen: Seen = Arc::default();
    let (listener_a, base_a) = reserve().await;
    let (listener_b, base_b) = reserve().await;
    let a = replica("A", &store, &base_b, &[&portal], &seen, true);
    let b = replica("B", &store, &base_b, &[&portal], &seen, true);
    serve_on(listener_a, &a);
    serve_on(listener_b, &b);
    let installed = portal
        .install_app(ID, &format!("{base_a}/install"))
        .await
        .unwrap();
    assert_eq!(installed.handler, Ok(200));

    // A takes the portal's events (and caches its client) while it is installed.
    let event = event_body(&portal, &installed.application_token);
    assert_eq!(post(&format!("{base_a}/events"), event.clone()).await, 200);
    assert_eq!(seen.lock().unwrap().len(), 1);

    // The portal posts ONAPPUNINSTALL to B.
    let sent = portal.uninstall_app(ID, true).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].outcome, Ok(200));

    // A refuses that portal's events from now on, and has no client for it.
    assert_eq!(post(&format!("{base_a}/events"), event).await, 401);
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(a.client(portal.member_id()).await.is_err());
    assert!(store.portal(portal.member_id()).await.unwrap().is_none());
    assert!(store.portals().await.unwrap().is_empty());
}

/// Both replicas' clients are refused with `expired_token` at once: the portal's token
/// endpoint sees one refresh, both replicas use its pair, and Redis holds it.
#[tokio::test]
async fn replicas_meeting_an_expired_token_at_once_refresh_it_once() {
    let redis = RedisServer::start();
    let store = store(&redis);
    let portal = portal().await;
    let seen: Seen = Arc::default();
    let (listener_a, base_a) = reserve().await;
    let a = replica("A", &store, &base_a, &[&portal], &seen, true);
    let b = replica("B", &store, &base_a, &[&portal], &seen, true);
    serve_on(listener_a, &a);
    let installed = portal
        .install_app(ID, &format!("{base_a}/install"))
        .await
        .unwrap();
    assert_eq!(installed.handler, Ok(200));
    let member = portal.member_id();
    let (client_a, client_b) = (
        a.client(member).await.unwrap(),
        b.client(member).await.unwrap(),
    );
    let request = || dialog_get::Request::chat_id(1777);
    client_a.dialog_get(request()).await.unwrap();
    client_b.dialog_get(request()).await.unwrap();
    let before = store.portal(member).await.unwrap().unwrap().tokens;

    portal.expire_access_tokens();
    let counted = portal.counters();
    let (ra, rb) = tokio::join!(
        client_a.dialog_get(request()),
        client_b.dialog_get(request())
    );
    ra.unwrap();
    rb.unwrap();
    let after = portal.counters();
    assert_eq!(after.token_requests - counted.token_requests, 1);
    assert_eq!(after.tokens_refreshed - counted.tokens_refreshed, 1);

    let saved = store.portal(member).await.unwrap().unwrap().tokens;
    assert_ne!(saved.refresh_token, before.refresh_token);
    assert_ne!(saved.access_token, before.access_token);
    for client in [&client_a, &client_b] {
        let used = client.oauth_tokens().unwrap();
        assert_eq!(used.access_token, saved.access_token);
        assert_eq!(used.refresh_token, saved.refresh_token);
    }
    // The fleet's coordinator reads the same pair.
    let shared = store.fleet().tokens(member).load().await.unwrap().unwrap();
    assert_eq!(shared.refresh_token, saved.refresh_token);
}

/// With a shared limit, the requests of both replicas' clients of one portal fill one bucket
/// in Redis.
#[tokio::test]
async fn replicas_draw_from_one_bucket_per_portal() {
    let redis = RedisServer::start();
    let store = store(&redis);
    let portal = portal().await;
    let seen: Seen = Arc::default();
    let (listener_a, base_a) = reserve().await;
    let limit = RateLimit::custom(100, RateLimit::MIN_DRAIN_PER_SEC).unwrap();
    let a = replica_with("A", &store, &base_a, &[&portal], &seen, true, Some(limit));
    let b = replica_with("B", &store, &base_a, &[&portal], &seen, true, Some(limit));
    serve_on(listener_a, &a);
    let installed = portal
        .install_app(ID, &format!("{base_a}/install"))
        .await
        .unwrap();
    assert_eq!(installed.handler, Ok(200));
    let member = portal.member_id();
    let bucket = store.fleet().limiter(member, limit);
    let (client_a, client_b) = (
        a.client(member).await.unwrap(),
        b.client(member).await.unwrap(),
    );
    let started = std::time::Instant::now();
    let before = bucket.level().await.unwrap();
    for _ in 0..3 {
        client_a
            .dialog_get(dialog_get::Request::chat_id(1777))
            .await
            .unwrap();
    }
    for _ in 0..2 {
        client_b
            .dialog_get(dialog_get::Request::chat_id(1777))
            .await
            .unwrap();
    }
    let after = bucket.level().await.unwrap();
    let drained = RateLimit::MIN_DRAIN_PER_SEC * started.elapsed().as_secs_f64();
    assert!(
        after - before <= 5.0 + 1e-6 && after - before >= 5.0 - drained - 1e-6,
        "{before} -> {after}"
    );
}

fn installation(member_id: &str, access: &str) -> Installation {
    Installation::new(
        member_id,
        "a.bitrix24.ru",
        "https://a.bitrix24.ru/rest/".parse().unwrap(),
        Secret::new("app-token-1"),
        OAuthTokens {
            access_token: Secret::new(access),
            refresh_token: Secret::new(format!("refresh-of-{access}")),
            expires_at: Some(std::time::UNIX_EPOCH + Duration::from_millis(1_800_000_000_123)),
        },
    )
    .with_details(
        Some("https://oauth.bitrix.info/rest/".into()),
        Some("imopenlines".into()),
        None,
    )
}

#[tokio::test]
async fn the_store_keeps_installs_tokens_and_offline_ids_per_portal() {
    let redis = RedisServer::start();
    let store = store(&redis);
    let first = installation("m1", "access-1");
    store.install(&first).await.unwrap();
    store
        .install(&installation("m2", "access-2"))
        .await
        .unwrap();
    let got = store.portal("m1").await.unwrap().unwrap();
    assert_eq!(got.install_id, first.install_id);
    assert_eq!(got.domain, "a.bitrix24.ru");
    assert_eq!(got.client_endpoint, first.client_endpoint);
    assert_eq!(got.server_endpoint, first.server_endpoint);
    assert_eq!(got.scope.as_deref(), Some("imopenlines"));
    assert_eq!(got.status, None);
    assert_eq!(got.application_token, first.application_token);
    assert_eq!(got.tokens.access_token, first.tokens.access_token);
    assert_eq!(got.tokens.expires_at, first.tokens.expires_at);
    assert!(store.portal("m3").await.unwrap().is_none());

    // Offline process ids: per portal, kept across a reinstall, gone with an uninstall.
    store
        .set_offline_process_id("m1", Some("p1"))
        .await
        .unwrap();
    store
        .set_offline_process_id("m3", Some("px"))
        .await
        .unwrap();
    assert_eq!(
        store.offline_process_id("m1").await.unwrap().as_deref(),
        Some("p1")
    );
    assert_eq!(store.offline_process_id("m2").await.unwrap(), None);
    assert_eq!(store.offline_process_id("m3").await.unwrap(), None);

    // A refresh of the current install is saved; after a reinstall, one of the old install
    // is not.
    let refreshed = installation("m1", "access-1b").tokens;
    assert!(store
        .save_tokens("m1", &first.install_id, &refreshed)
        .await
        .unwrap());
    assert_eq!(
        store
            .portal("m1")
            .await
            .unwrap()
            .unwrap()
            .tokens
            .access_token,
        refreshed.access_token
    );
    let second = installation("m1", "access-new");
    store.install(&second).await.unwrap();
    assert!(!store
        .save_tokens("m1", &first.install_id, &refreshed)
        .await
        .unwrap());
    let got = store.portal("m1").await.unwrap().unwrap();
    assert_eq!(got.install_id, second.install_id);
    assert_eq!(got.tokens.access_token, second.tokens.access_token);
    assert_eq!(
        store.offline_process_id("m1").await.unwrap().as_deref(),
        Some("p1")
    );

    assert!(store.uninstall("m1").await.unwrap());
    assert!(!store.uninstall("m1").await.unwrap());
    assert!(store.portal("m1").await.unwrap().is_none());
    assert_eq!(store.offline_process_id("m1").await.unwrap(), None);
    assert!(!store
        .save_tokens("m1", &second.install_id, &refreshed)
        .await
        .unwrap());
    assert_eq!(store.portals().await.unwrap(), vec!["m2".to_string()]);
    // Nothing of m1 is left in Redis, not even its pair.
    assert!(store.fleet().tokens("m1").load().await.unwrap().is_none());
}

#[tokio::test]
async fn a_redis_that_is_down_is_a_typed_error_within_the_timeout() {
    let mut redis = RedisServer::start();
    let timeout = Duration::from_millis(300);
    let store = Fleet::connect(&redis.url(), FleetConfig::default().with_timeout(timeout))
        .unwrap()
        .app_store();
    store
        .install(&installation("m1", "access-1"))
        .await
        .unwrap();
    redis.stop();
    let err = store.portal("m1").await.unwrap_err();
    let b24_app::AppStoreError::Backend(source) = &err else {
        panic!("not a backend error: {err:?}");
    };
    assert!(source.downcast_ref::<FleetError>().is_some(), "{source:?}");
    assert!(!format!("{err} {err:?}").contains("access-1"));
}
