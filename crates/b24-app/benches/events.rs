//! Events per second through the events endpoint (look up the portal, verify its
//! application token, decode the typed event, dispatch to a no-op handler), beside a plain
//! axum handler that only reads the body; in process (the router called directly) and over
//! loopback HTTP. Then the offline consumer against the local portal (every event raised
//! first, then polled in batches of 50 until the queue is empty: get, handle, clear), without
//! a client-side limit and with the standard one. One run, printed.
//!
//! `cargo bench -p b24-app --bench events` (set `B24_BENCH_EVENTS` for another count).

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::Router;
use b24_app::events::OnImConnectorMessageAdd;
use b24_app::{App, AppStore, Installation, OfflineConfig, SqliteStore};
use b24_mock_portal::{LimitConfig, MockPortal, OAuthApp, PortalConfig};
use b24_openlines::{OAuthTokens, RateLimit, Secret};
use tower::ServiceExt;

const APP_TOKEN: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";

fn count() -> usize {
    std::env::var("B24_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

/// Calls `router` in process `n` times with `body`; events per second.
async fn in_process(router: &Router, body: &Bytes, n: usize) -> f64 {
    let started = Instant::now();
    for _ in 0..n {
        let request = Request::post("/events")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.clone()))
            .unwrap_or_default();
        let response = router.clone().oneshot(request).await;
        assert!(matches!(response, Ok(ref r) if r.status() == StatusCode::OK));
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// POSTs `body` to `url` `n` times from `tasks` tasks over keep-alive connections.
async fn over_http(url: &str, body: &Bytes, n: usize, tasks: usize) -> f64 {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for t in 0..tasks {
        let (client, url, body) = (client.clone(), url.to_string(), body.clone());
        let share = n / tasks + usize::from(t < n % tasks);
        set.spawn(async move {
            for _ in 0..share {
                let r = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body.clone())
                    .send()
                    .await;
                assert!(matches!(r, Ok(ref r) if r.status() == 200));
            }
        });
    }
    while set.join_next().await.is_some() {}
    n as f64 / started.elapsed().as_secs_f64()
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}/events")
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let n = count();
    let config = PortalConfig {
        application_token: APP_TOKEN.into(),
        ..PortalConfig::default()
    };
    let portal = MockPortal::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(dir.path().join("bench.db"))
            .await
            .unwrap(),
    );
    store
        .install(&Installation::new(
            portal.member_id(),
            portal.domain(),
            portal.client_endpoint().parse().unwrap(),
            Secret::new(APP_TOKEN),
            OAuthTokens {
                access_token: Secret::new("unused"),
                refresh_token: Secret::new("unused"),
                expires_at: None,
            },
        ))
        .await
        .unwrap();
    let app = App::builder("app.bench", "secret")
        .store(store)
        .on(|_: OnImConnectorMessageAdd, _ctx| async { Ok::<(), std::io::Error>(()) })
        .build()
        .unwrap();
    let body = Bytes::from(portal.event_body("OnImConnectorMessageAdd").unwrap());
    let ours = app.router();
    let plain = Router::new().route("/events", post(|_: Bytes| async { StatusCode::OK }));

    println!(
        "events endpoint bench: {n} `OnImConnectorMessageAdd` events of {} bytes, one run",
        body.len()
    );
    // Warm up both (connection pools, the store's statement cache, the client cache).
    in_process(&ours, &body, 200).await;
    in_process(&plain, &body, 200).await;
    let ours_rate = in_process(&ours, &body, n).await;
    let plain_rate = in_process(&plain, &body, n).await;
    println!(
        "in process: events endpoint {ours_rate:>10.0} events/s; plain axum handler {plain_rate:>10.0} requests/s; ratio {:.2}",
        plain_rate / ours_rate
    );

    // The parts: verify + decode alone, and the store lookup alone.
    let token = b24_openlines::ApplicationToken::new(APP_TOKEN);
    let started = Instant::now();
    for _ in 0..n {
        let e = b24_openlines::events::Event::parse_with(&body, |_| Some(token.clone()));
        assert!(e.is_ok());
    }
    let decode_rate = n as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 0..n {
        assert!(matches!(
            app.store().portal(portal.member_id()).await,
            Ok(Some(_))
        ));
    }
    let lookup_rate = n as f64 / started.elapsed().as_secs_f64();
    println!(
        "parts: verify + decode alone {decode_rate:>10.0}/s; store lookup alone {lookup_rate:>10.0}/s"
    );

    let ours_url = serve(app.router()).await;
    let plain_url = serve(plain).await;
    for tasks in [1, 8] {
        over_http(&ours_url, &body, 200, tasks).await;
        over_http(&plain_url, &body, 200, tasks).await;
        let ours_rate = over_http(&ours_url, &body, n, tasks).await;
        let plain_rate = over_http(&plain_url, &body, n, tasks).await;
        println!(
            "loopback HTTP, {tasks} client task(s): events endpoint {ours_rate:>8.0} events/s; plain axum handler {plain_rate:>8.0} requests/s; ratio {:.2}",
            plain_rate / ours_rate
        );
    }

    let offline_n = (n / 4).max(100);
    let rate = offline(offline_n, None).await;
    println!(
        "offline consumer, batches of 50, no rate limit: {offline_n} events in {:.2} s, {rate:>8.0} events/s",
        offline_n as f64 / rate
    );
    let standard_n = 1500;
    let rate = offline(standard_n, Some(RateLimit::STANDARD)).await;
    println!(
        "offline consumer, batches of 50, standard limit (50, 2/s): {standard_n} events in {:.2} s, {rate:>8.0} events/s",
        standard_n as f64 / rate
    );
}

const ID: &str = "app.bench.00000001";
const SECRET: &str = "bench-secret-0123456789";

/// `n` events through the offline queue of a fresh portal: raised, then polled until the
/// queue is empty; events per second of the polling.
async fn offline(n: usize, limit: Option<RateLimit>) -> f64 {
    let portal = MockPortal::start(
        PortalConfig::default()
            .with_app(OAuthApp::new(ID, SECRET))
            .with_limits(LimitConfig::unlimited()),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        SqliteStore::open(dir.path().join("offline.db"))
            .await
            .unwrap(),
    );
    let app = App::builder(ID, SECRET)
        .store(store)
        .offline_events(true)
        .oauth_server(
            portal.server_endpoint(),
            portal.token_endpoint().parse().unwrap(),
        )
        .client_settings(move |b| b.rate_limit(limit))
        .on(|_: OnImConnectorMessageAdd, _ctx| async { Ok::<(), std::io::Error>(()) })
        .build()
        .unwrap();
    let pair = portal.issue_tokens(ID).unwrap();
    let mut form = serde_json::Map::new();
    form.insert("event".into(), "ONAPPINSTALL".into());
    form.insert(
        "auth".into(),
        serde_json::json!({
            "domain": portal.domain(),
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "server_endpoint": portal.server_endpoint(),
            "client_endpoint": portal.client_endpoint(),
            "member_id": portal.member_id(),
            "application_token": portal.application_token(ID).unwrap(),
        }),
    );
    let installed = app
        .install(b24_core::php::http_build_query(&form).as_bytes(), None)
        .await;
    assert!(installed.is_ok());
    for i in 0..n {
        let data = serde_json::json!({
            "CONNECTOR": "bench", "LINE": 1,
            "MESSAGES": [{"im": {"chat_id": 1777, "message_id": i}, "message": {"user_id": 1, "text": "hi"}, "chat": {"id": "c"}}],
        });
        assert_eq!(portal.raise_event("OnImConnectorMessageAdd", data), 1);
    }
    let consumer = app.offline_consumer(OfflineConfig::default());
    let started = Instant::now();
    let mut handled = 0;
    loop {
        let report = consumer.poll_portal(portal.member_id()).await.unwrap();
        handled += report.handled;
        if report.fetched == 0 {
            break;
        }
    }
    assert_eq!(handled, n);
    n as f64 / started.elapsed().as_secs_f64()
}
