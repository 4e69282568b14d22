//! The OAuth pair shared through a real Redis: a refresh storm of worker processes, a worker
//! that dies holding the refresh lock, a newer pair found in Redis, and Redis down; against
//! the local portal's token endpoint, which spends a refresh token on its first exchange.

mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use b24_core::{Error, MethodKind, Secret, TokenRefreshError};
use b24_fleet::{Fleet, FleetConfig};
use b24_mock_portal::{LimitConfig, MockPortal, OAuthApp, PortalConfig, TokenPair};
use b24_runtime::{Client, OAuthConfig, OAuthTokens};
use common::RedisServer;
use serde_json::{Map, Value};

const ID: &str = "local.fleet0000000001.00000001";
const SECRET: &str = "fleetS3cr3tfleetS3cr3tfleetS3cr3tfleetS3cr3t";

/// A portal without a rate limit (the limiter is tested apart): 200 calls at once.
async fn portal() -> MockPortal {
    MockPortal::start(
        PortalConfig::default()
            .with_app(OAuthApp::new(ID, SECRET))
            .with_limits(LimitConfig::unlimited()),
    )
    .await
    .unwrap()
}

/// A pair issued by the portal whose access token the portal now refuses as expired.
fn expired_pair(portal: &MockPortal) -> TokenPair {
    let pair = portal.issue_tokens(ID).unwrap();
    assert!(portal.expire_access_tokens() > 0);
    pair
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn storm_worker(
    portal: &MockPortal,
    redis: &RedisServer,
    pair: &TokenPair,
    calls: usize,
    extra: &[&str],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_b24-fleet-worker"));
    cmd.args(["storm", "--portal", &portal.base_url()])
        .args(["--calls", &calls.to_string()])
        .args(["--redis", &redis.url(), "--key", "portal"])
        .args([
            "--access",
            &pair.access_token,
            "--refresh",
            &pair.refresh_token,
        ])
        .args(["--token-endpoint", &portal.token_endpoint()])
        .args(["--client-id", ID, "--client-secret", SECRET])
        .args(extra)
        .kill_on_drop(true)
        .stdout(Stdio::piped());
    cmd
}

async fn outputs(children: Vec<tokio::process::Child>) -> Vec<Value> {
    let mut lines = Vec::new();
    for child in children {
        let out = child.wait_with_output().await.unwrap();
        assert!(out.status.success(), "worker failed: {:?}", out.status);
        let line = String::from_utf8(out.stdout).unwrap();
        lines.push(serde_json::from_str::<Value>(line.trim()).unwrap());
    }
    lines
}

/// Four worker processes × 50 concurrent calls all meet `expired_token` at once: exactly one
/// refresh reaches the token endpoint, every call succeeds, and the new pair is in Redis.
/// The same storm without the coordinator (each process on its own, as before this crate)
/// exchanges the refresh token more than once, and the later exchanges are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_storm_of_four_processes_reaches_the_token_endpoint_once() {
    let redis = RedisServer::start();
    let portal = portal().await;
    let pair = expired_pair(&portal);
    let start = (unix_ms() + 1500).to_string();
    let children = (0..4)
        .map(|_| {
            storm_worker(&portal, &redis, &pair, 50, &["--start-at-ms", &start])
                .spawn()
                .unwrap()
        })
        .collect();
    let lines = outputs(children).await;
    for line in &lines {
        assert_eq!(line["ok"], 50, "{line}");
        assert_eq!(line["errors"], 0, "{line}");
    }
    let c = portal.counters();
    assert_eq!(c.token_requests, 1, "{c:?}");
    assert_eq!(c.tokens_refreshed, 1, "{c:?}");
    let fleet = Fleet::connect(&redis.url(), FleetConfig::default()).unwrap();
    let stored = fleet.tokens("portal").load().await.unwrap().unwrap();
    assert_ne!(stored.access_token.expose(), pair.access_token);
    assert_ne!(stored.refresh_token.expose(), pair.refresh_token);
    // The stored pair is the live one: its access token works and its refresh token is not
    // spent.
    let client = Client::builder_oauth(&portal.base_url(), stored.access_token.expose())
        .build()
        .unwrap();
    client
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await
        .unwrap();

    // Without the coordinator.
    let portal = self::portal().await;
    let pair = expired_pair(&portal);
    let start = (unix_ms() + 1500).to_string();
    let children = (0..4)
        .map(|_| {
            storm_worker(
                &portal,
                &redis,
                &pair,
                50,
                &["--start-at-ms", &start, "--coordinator", "none"],
            )
            .spawn()
            .unwrap()
        })
        .collect();
    let lines = outputs(children).await;
    let c = portal.counters();
    assert!(c.token_requests > 1, "{c:?}");
    let failed: u64 = lines.iter().filter_map(|l| l["errors"].as_u64()).sum();
    assert!(
        failed > 0,
        "a spent refresh token fails the others: {lines:?}"
    );
}

/// A worker dies (SIGKILL) while it holds the refresh lock, in the middle of an exchange
/// that never answers: the others wait for the lock to expire, then exactly one of them
/// refreshes, and all their calls succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_dies_holding_the_lock_blocks_the_fleet_only_until_expiry() {
    let redis = RedisServer::start();
    let portal = portal().await;
    let pair = expired_pair(&portal);
    // A token endpoint that accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("http://{}/oauth/token/", silent.local_addr().unwrap());
    let mut doomed = storm_worker(&portal, &redis, &pair, 1, &["--lock-ttl-ms", "1500"]);
    doomed.args(["--token-endpoint", &silent_url]);
    let mut doomed = doomed.spawn().unwrap();
    // Wait until it holds the lock.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let lock = "b24:{portal}:refresh-lock";
    let mut held = false;
    for _ in 0..500 {
        if redis::cmd("EXISTS")
            .arg(lock)
            .query::<i64>(&mut conn)
            .unwrap()
            == 1
        {
            held = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(held, "the first worker took the lock");
    let others: Vec<_> = (0..2)
        .map(|_| {
            storm_worker(&portal, &redis, &pair, 10, &["--lock-ttl-ms", "1500"])
                .spawn()
                .unwrap()
        })
        .collect();
    // Let them find the lock held, then kill its holder.
    tokio::time::sleep(Duration::from_millis(300)).await;
    doomed.kill().await.unwrap();
    let lines = outputs(others).await;
    for line in &lines {
        assert_eq!(line["ok"], 10, "{line}");
    }
    let c = portal.counters();
    assert_eq!(c.token_requests, 1, "{c:?}");
    drop(silent);
}

fn dialog_params() -> Map<String, Value> {
    let mut params = Map::new();
    params.insert("CHAT_ID".into(), Value::from(1777));
    params
}

fn tokens(pair: &TokenPair) -> OAuthTokens {
    OAuthTokens {
        access_token: Secret::new(pair.access_token.clone()),
        refresh_token: Secret::new(pair.refresh_token.clone()),
        expires_at: None,
    }
}

fn client(portal: &MockPortal, pair: &TokenPair, fleet: &Fleet) -> Client {
    let config = OAuthConfig::new(ID, SECRET)
        .with_token_endpoint(portal.token_endpoint().parse().unwrap())
        .with_coordinator(Arc::new(fleet.tokens("portal")));
    Client::builder_oauth(&portal.base_url(), pair.access_token.clone())
        .refresh(pair.refresh_token.clone(), config)
        .build()
        .unwrap()
}

/// A worker whose pair is stale while Redis holds a newer one (another worker refreshed
/// earlier) uses the stored pair: no exchange, and the call succeeds.
#[tokio::test]
async fn a_newer_pair_in_redis_is_used_without_an_exchange() {
    let redis = RedisServer::start();
    let portal = portal().await;
    let stale = expired_pair(&portal);
    let newer = portal.issue_tokens(ID).unwrap();
    let fleet = Fleet::connect(&redis.url(), FleetConfig::default()).unwrap();
    fleet.tokens("portal").put(&tokens(&newer)).await.unwrap();
    let client = client(&portal, &stale, &fleet);
    client
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await
        .unwrap();
    assert_eq!(portal.counters().token_requests, 0);
    let now = client.oauth_tokens().unwrap();
    assert_eq!(now.access_token.expose(), newer.access_token);
}

/// Redis down: the refresh fails with a typed coordination error, and no exchange reaches
/// the token endpoint (a worker cannot know whether another one is refreshing).
#[tokio::test]
async fn redis_down_fails_the_refresh_without_an_exchange() {
    let mut redis = RedisServer::start();
    let portal = portal().await;
    let pair = expired_pair(&portal);
    let fleet = Fleet::connect(
        &redis.url(),
        FleetConfig::default().with_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let client = client(&portal, &pair, &fleet);
    redis.stop();
    match client
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await
    {
        Err(Error::TokenRefresh {
            reason: TokenRefreshError::Coordination { source },
            ..
        }) => {
            let text = format!("{source} {source:?}");
            assert!(!text.contains(&pair.refresh_token), "{text}");
        }
        other => panic!("expected a coordination error, got {other:?}"),
    }
    assert_eq!(portal.counters().token_requests, 0);
}

/// Redis goes down between the exchange and the write of the new pair (the token endpoint
/// here stops it before forwarding the exchange to the portal): the call reports the store
/// failure, the worker keeps the new pair and writes it once Redis is back (empty, as after
/// a restart without persistence), so another worker with the stale pair picks it up
/// instead of exchanging the spent refresh token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pair_that_could_not_be_written_reaches_redis_when_it_is_back() {
    let redis = Arc::new(std::sync::Mutex::new(RedisServer::start()));
    let port = redis.lock().unwrap().port;
    let url = redis.lock().unwrap().url();
    let portal = portal().await;
    let pair = expired_pair(&portal);
    // The token endpoint: stops Redis, then forwards to the portal's endpoint.
    let upstream = portal.token_endpoint();
    let stopper = redis.clone();
    let app = axum::Router::new().route(
        "/oauth/token/",
        axum::routing::get(move |uri: axum::http::Uri| {
            let upstream = upstream.clone();
            let stopper = stopper.clone();
            async move {
                stopper.lock().unwrap().stop();
                let url = format!("{upstream}?{}", uri.query().unwrap_or(""));
                reqwest::get(url).await.unwrap().text().await.unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/oauth/token/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let config = FleetConfig::default()
        .with_timeout(Duration::from_millis(200))
        .with_lock_ttl(Duration::from_millis(600));
    let fleet = Fleet::connect(&url, config).unwrap();
    let oauth = OAuthConfig::new(ID, SECRET)
        .with_token_endpoint(endpoint.parse().unwrap())
        .with_coordinator(Arc::new(fleet.tokens("portal")));
    let client = Client::builder_oauth(&portal.base_url(), pair.access_token.clone())
        .refresh(pair.refresh_token.clone(), oauth)
        .build()
        .unwrap();
    let got = client
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await;
    assert!(
        matches!(
            &got,
            Err(Error::TokenRefresh {
                reason: TokenRefreshError::Store { .. },
                ..
            })
        ),
        "{got:?}"
    );
    let new = client.oauth_tokens().unwrap();
    assert_ne!(new.access_token.expose(), pair.access_token);
    assert_eq!(portal.counters().token_requests, 1);

    let _back = RedisServer::start_on(port);
    let mut stored = None;
    for _ in 0..200 {
        if let Ok(Some(tokens)) = fleet.tokens("portal").load().await {
            stored = Some(tokens);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let stored = stored.expect("the new pair reached Redis");
    assert_eq!(stored.access_token, new.access_token);
    assert_eq!(stored.refresh_token, new.refresh_token);
    // Another worker with the stale pair takes the stored one: no second exchange.
    let other = self::client(&portal, &pair, &fleet);
    other
        .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
        .await
        .unwrap();
    assert_eq!(portal.counters().token_requests, 1);
}
