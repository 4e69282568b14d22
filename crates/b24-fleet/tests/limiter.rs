//! The bucket shared through a real Redis: worker processes against one local portal, the
//! order of reservations across connections, and Redis down or slow.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use b24_core::{Error, LimiterError, MethodKind};
use b24_fleet::{Fleet, FleetConfig, LocalFallback};
use b24_mock_portal::{LimitConfig, MockPortal, PortalConfig};
use b24_runtime::{Client, RateLimit, RateLimiter};
use common::RedisServer;
use serde_json::{Map, Value};

const BURST: u32 = 10;
const DRAIN: f64 = 4.0;

async fn portal(burst: u32, drain: f64) -> MockPortal {
    MockPortal::start(PortalConfig::default().with_limits(LimitConfig {
        burst: f64::from(burst),
        drain_per_sec: drain,
        ..LimitConfig::default()
    }))
    .await
    .unwrap()
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Runs `workers` worker processes of `n` `dialog.get` each with `limiter` (`redis` or
/// `local`), all starting at the same moment, and returns their JSON lines.
async fn run_workers(
    portal: &MockPortal,
    redis: &RedisServer,
    key: &str,
    workers: usize,
    n: usize,
    limiter: &str,
) -> Vec<Value> {
    let start_at = unix_ms() + 1500;
    let children: Vec<_> = (0..workers)
        .map(|_| {
            let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_b24-fleet-worker"));
            cmd.args(["bulk", "--portal", &portal.webhook_url()])
                .args(["--n", &n.to_string(), "--limiter", limiter])
                .args(["--redis", &redis.url(), "--key", key])
                .args(["--burst", &BURST.to_string(), "--drain", &DRAIN.to_string()])
                .args(["--start-at-ms", &start_at.to_string()])
                .kill_on_drop(true)
                .stdout(std::process::Stdio::piped());
            cmd.spawn().expect("the worker starts")
        })
        .collect();
    let mut lines = Vec::new();
    for child in children {
        let out = child.wait_with_output().await.unwrap();
        assert!(out.status.success(), "worker failed: {:?}", out.status);
        let line = String::from_utf8(out.stdout).unwrap();
        lines.push(serde_json::from_str::<Value>(line.trim()).unwrap());
    }
    lines
}

/// Four worker processes share the portal's bucket through Redis: the portal refuses none
/// of their requests, and every call returns the dialog. The same four with the in-process
/// limiter each believe they have the whole bucket, and the portal refuses some (the
/// behaviour before this crate; the check that the test can fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_processes_share_one_bucket_and_meet_no_503() {
    let redis = RedisServer::start();
    let portal = portal(BURST, DRAIN).await;
    let (workers, n) = (4, 400);

    let lines = run_workers(&portal, &redis, "portal-a", workers, n, "redis").await;
    for line in &lines {
        assert_eq!(line["ok"], n, "{line}");
        assert_eq!(line["errors"], 0, "{line}");
    }
    let c = portal.counters();
    assert_eq!(
        c.rejected_by_limiter, 0,
        "503s with the shared bucket: {c:?}"
    );
    let batches = (workers * n.div_ceil(50)) as u64;
    assert_eq!(c.requests, batches, "no retries: {c:?}");
    assert_eq!(c.executed("imopenlines.dialog.get"), (workers * n) as u64);

    portal.reset();
    let lines = run_workers(&portal, &redis, "portal-b", workers, n, "local").await;
    let c = portal.counters();
    assert!(
        c.rejected_by_limiter > 0,
        "four in-process buckets overfill the portal's: {c:?} {lines:?}"
    );
}

fn fleet(redis: &RedisServer) -> Fleet {
    Fleet::connect(&redis.url(), FleetConfig::default()).unwrap()
}

/// Reservations made through separate connections (as by separate processes) are served in
/// the order the script ran: past the burst, each waits one drain interval more than the
/// one before, whichever connection it came through.
#[tokio::test]
async fn reservations_across_connections_leave_in_order_one_interval_apart() {
    let redis = RedisServer::start();
    let limit = RateLimit::custom(5, 10.0).unwrap();
    let a = fleet(&redis).limiter("p", limit);
    let b = fleet(&redis).limiter("p", limit);
    let started = std::time::Instant::now();
    let mut waits = Vec::new();
    for i in 0..20 {
        let limiter = if i % 2 == 0 { &a } else { &b };
        waits.push(limiter.reserve().await.unwrap());
    }
    let elapsed = started.elapsed();
    // The usable burst (4) leaves at once.
    assert!(waits[..4].iter().all(Duration::is_zero), "{waits:?}");
    let interval = Duration::from_millis(100);
    for (k, w) in waits.iter().enumerate().skip(4) {
        // Request k (from 0) leaves (k - 3) intervals after the first, less the time that
        // passed on the server's clock between the reservations.
        let planned = interval * (k as u32 - 3);
        assert!(
            *w <= planned && *w + elapsed >= planned,
            "request {k}: waits {w:?}, planned {planned:?} (elapsed {elapsed:?})"
        );
        assert!(*w > waits[k - 1], "in order: {waits:?}");
    }
    // Refund gives a slot back; saturate fills the bucket.
    let t = std::time::Instant::now();
    let before = a.level().await.unwrap();
    a.refund().await;
    let after = a.level().await.unwrap();
    let drained = 10.0 * t.elapsed().as_secs_f64();
    assert!(
        after <= before - 1.0 + 1e-6 && after >= before - 1.0 - drained - 1e-6,
        "{before} {after} {drained}"
    );
    let fresh = fleet(&redis).limiter("q", limit);
    let t = std::time::Instant::now();
    fresh.saturate().await;
    let level = fresh.level().await.unwrap();
    let drained = 10.0 * t.elapsed().as_secs_f64();
    assert!(
        level <= 4.0 + 1e-6 && level >= 4.0 - drained - 1e-6,
        "{level}"
    );
}

/// A waiter dropped while it sleeps gives its slot back in Redis.
#[tokio::test]
async fn a_dropped_waiter_gives_its_slot_back() {
    let redis = RedisServer::start();
    let limiter = fleet(&redis).limiter("p", RateLimit::custom(2, 1.0).unwrap());
    RateLimiter::acquire(&limiter).await.unwrap();
    let gave_up =
        tokio::time::timeout(Duration::from_millis(100), RateLimiter::acquire(&limiter)).await;
    assert!(gave_up.is_err(), "the second waits a second");
    // The refund runs in the background.
    let mut level = f64::MAX;
    for _ in 0..100 {
        level = limiter.level().await.unwrap();
        if level < 1.5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(level < 1.0 + 1e-6, "{level}");
}

fn dialog_params() -> Map<String, Value> {
    let mut params = Map::new();
    params.insert("CHAT_ID".into(), Value::from(1777));
    params
}

/// Redis down, no fallback: the call fails with a typed error, and nothing reaches the
/// portal. Redis that accepts connections and never answers: a timeout, within the
/// configured time, not a hang.
#[tokio::test]
async fn redis_down_or_silent_is_a_typed_error_and_nothing_is_sent() {
    let mut redis = RedisServer::start();
    let portal = portal(50, 2.0).await;
    let fleet = Fleet::connect(
        &redis.url(),
        FleetConfig::default().with_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    let client = Client::builder_webhook(&portal.webhook_url())
        .limiter(Arc::new(fleet.limiter("p", RateLimit::STANDARD)))
        .build()
        .unwrap();
    let call = || client.call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params());
    call().await.expect("Redis up: the call goes through");
    redis.stop();
    match call().await {
        Err(Error::RateLimiter { source, .. }) => assert!(
            matches!(
                source,
                LimiterError::Unavailable { .. } | LimiterError::Timeout { .. }
            ),
            "{source:?}"
        ),
        other => panic!("expected a limiter error, got {other:?}"),
    }
    assert_eq!(portal.counters().requests, 1, "nothing sent without a slot");

    // A "Redis" that accepts and stays silent.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("redis://{}/", silent.local_addr().unwrap());
    let fleet = Fleet::connect(
        &url,
        FleetConfig::default().with_timeout(Duration::from_millis(200)),
    )
    .unwrap();
    let limiter = fleet.limiter("p", RateLimit::STANDARD);
    let got = tokio::time::timeout(Duration::from_secs(5), RateLimiter::acquire(&limiter)).await;
    match got {
        Ok(Err(LimiterError::Timeout { timeout })) => {
            assert_eq!(timeout, Duration::from_millis(200))
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

/// Redis down with the opt-in fallback: two workers each take their half of the portal's
/// rate from a local bucket that starts full, so together they never overfill the portal's
/// bucket (already full from before the outage); every call succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_opt_in_fallback_keeps_to_a_share_of_the_rate() {
    let mut redis = RedisServer::start();
    let (burst, drain) = (6, 10.0);
    let portal = portal(burst, drain).await;
    let limit = RateLimit::custom(burst, drain).unwrap();
    let fallback = LocalFallback::new(2);
    assert_eq!(fallback.share(limit), RateLimit::custom(3, 5.0).unwrap());
    let config = FleetConfig::default().with_timeout(Duration::from_millis(300));
    let limiters: Vec<_> = (0..2)
        .map(|_| {
            Fleet::connect(&redis.url(), config.clone())
                .unwrap()
                .limiter("p", limit)
                .with_local_fallback(fallback)
        })
        .collect();
    let clients: Vec<Client> = limiters
        .iter()
        .map(|l| {
            Client::builder_webhook(&portal.webhook_url())
                .limiter(Arc::new(l.clone()))
                .build()
                .unwrap()
        })
        .collect();
    // Fill the portal's bucket through Redis (5 usable slots).
    for i in 0..5 {
        clients[i % 2]
            .call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params())
            .await
            .unwrap();
    }
    redis.stop();
    let calls = clients.iter().flat_map(|c| {
        (0..8).map(move |_| c.call_raw("imopenlines.dialog.get", MethodKind::Read, dialog_params()))
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let c = portal.counters();
    assert_eq!(c.rejected_by_limiter, 0, "{c:?}");
    assert_eq!(c.requests, 5 + 16);
    for l in &limiters {
        assert_eq!(l.fallback_acquisitions(), 8);
    }
}
