//! The fleet benchmark: several worker processes against one local portal, sharing its
//! bucket and its OAuth pair through a local `redis-server` (started here; it must be
//! installed).
//!
//! `cargo bench -p b24-fleet --bench fleet [-- FILTER...]`, filters `acquire`, `storm`,
//! `redis`, `local`:
//!
//! * `acquire`: the cost of one acquisition (a bucket that never makes anyone wait), p50 and
//!   p99 over 5,000 sequential calls, Redis beside the in-process `LeakyBucket`.
//! * `storm`: 4 processes × 50 concurrent calls whose access token the portal refuses as
//!   expired: token-endpoint hits, failed calls, wall time, whether Redis holds the new pair.
//! * `redis` / `local`: 4 processes × 2,000 `imopenlines.dialog.get` through `Client::many`
//!   on the standard plan (burst 50, 2/s), with the bucket in Redis and, for contrast, each
//!   process with its own in-process bucket. The fleet's bound is
//!   `max(0, ceil(8000/50) - 50) / 2` = 55 s; the ratio is wall time over it. Nothing here is
//!   a pass/fail threshold.
//!
//! `B24_FLEET_N` changes the 2,000; `--test` (as `cargo test --benches` passes) runs a tiny
//! smoke version.

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use b24_fleet::{Fleet, FleetConfig};
use b24_mock_portal::{LimitConfig, MockPortal, OAuthApp, PortalConfig};
use b24_runtime::{LeakyBucket, RateLimit, RateLimiter};
use common::RedisServer;
use serde_json::{json, Value};

const WORKERS: usize = 4;
const ID: &str = "local.fleetbench00001.00000001";
const SECRET: &str = "benchS3cr3tbenchS3cr3tbenchS3cr3tbenchS3cr3t";

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1e6)
}

async fn time_acquisitions(limiter: &dyn RateLimiter, n: usize) -> (f64, f64) {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        limiter.acquire().await.expect("acquired");
        times.push(start.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

async fn acquire_row(redis: &RedisServer, n: usize) -> Value {
    // A bucket that never makes anyone wait: only the cost of counting.
    let limit = RateLimit::custom(u32::MAX, 1e9).expect("a valid limit");
    let fleet = Fleet::connect(&redis.url(), FleetConfig::default()).expect("fleet");
    let shared = fleet.limiter("bench-acquire", limit);
    // Warm up the connection and the script cache.
    for _ in 0..100 {
        shared.acquire().await.expect("acquired");
    }
    let (r50, r99) = time_acquisitions(&shared, n).await;
    let local = LeakyBucket::new(limit);
    let (l50, l99) = time_acquisitions(&local, n).await;
    json!({"row": "acquire", "n": n, "redis_p50_us": r50, "redis_p99_us": r99,
           "local_p50_us": l50, "local_p99_us": l99})
}

async fn wait_all(children: Vec<tokio::process::Child>) -> Vec<Value> {
    let mut lines = Vec::new();
    for child in children {
        let out = child.wait_with_output().await.expect("worker ran");
        let text = String::from_utf8_lossy(&out.stdout);
        lines.push(serde_json::from_str(text.trim()).unwrap_or_else(|_| {
            json!({"failed": out.status.to_string(), "stderr":
                String::from_utf8_lossy(&out.stderr).to_string()})
        }));
    }
    lines
}

fn sum(lines: &[Value], key: &str) -> u64 {
    lines.iter().filter_map(|l| l[key].as_u64()).sum()
}

async fn bulk_row(redis: &RedisServer, limiter: &str, n: usize) -> Value {
    let portal = MockPortal::start(PortalConfig::default())
        .await
        .expect("portal starts");
    let start_at = unix_ms() + 2000;
    let children = (0..WORKERS)
        .map(|_| {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_b24-fleet-worker"))
                .args(["bulk", "--portal", &portal.webhook_url()])
                .args(["--n", &n.to_string(), "--limiter", limiter])
                .args([
                    "--redis",
                    &redis.url(),
                    "--key",
                    &format!("bench-{limiter}"),
                ])
                .args(["--start-at-ms", &start_at.to_string()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("worker starts")
        })
        .collect();
    let lines = wait_all(children).await;
    let wall = (unix_ms().saturating_sub(start_at)) as f64 / 1000.0;
    let slowest = lines
        .iter()
        .filter_map(|l| l["wall_s"].as_f64())
        .fold(0.0, f64::max);
    let c = portal.counters();
    let batches = (WORKERS * n.div_ceil(50)) as f64;
    let bound = (batches - 50.0).max(0.0) / 2.0;
    json!({"row": format!("bulk {limiter}"), "workers": WORKERS, "n": n,
           "wall_s": slowest, "wall_incl_exit_s": wall, "bound_s": bound,
           "ratio": if bound > 0.0 { slowest / bound } else { f64::NAN },
           "http_requests": c.requests, "http_503": c.rejected_by_limiter,
           "ok": sum(&lines, "ok"), "errors": sum(&lines, "errors"),
           "error_sample": lines.iter().find_map(|l| l["error_sample"].as_str()) })
}

async fn storm_row(redis: &RedisServer, calls: usize) -> Value {
    let portal = MockPortal::start(
        PortalConfig::default()
            .with_app(OAuthApp::new(ID, SECRET))
            .with_limits(LimitConfig::unlimited()),
    )
    .await
    .expect("portal starts");
    let pair = portal.issue_tokens(ID).expect("tokens");
    portal.expire_access_tokens();
    let start_at = unix_ms() + 2000;
    let children = (0..WORKERS)
        .map(|_| {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_b24-fleet-worker"))
                .args(["storm", "--portal", &portal.base_url()])
                .args(["--calls", &calls.to_string()])
                .args(["--redis", &redis.url(), "--key", "bench-storm"])
                .args([
                    "--access",
                    &pair.access_token,
                    "--refresh",
                    &pair.refresh_token,
                ])
                .args(["--token-endpoint", &portal.token_endpoint()])
                .args(["--client-id", ID, "--client-secret", SECRET])
                .args(["--start-at-ms", &start_at.to_string()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("worker starts")
        })
        .collect();
    let lines = wait_all(children).await;
    let slowest = lines
        .iter()
        .filter_map(|l| l["wall_s"].as_f64())
        .fold(0.0, f64::max);
    let fleet = Fleet::connect(&redis.url(), FleetConfig::default()).expect("fleet");
    let stored = fleet.tokens("bench-storm").load().await.ok().flatten();
    let rotated = stored.is_some_and(|t| t.refresh_token.expose() != pair.refresh_token);
    let c = portal.counters();
    json!({"row": "storm", "workers": WORKERS, "calls_each": calls, "wall_s": slowest,
           "token_endpoint_hits": c.token_requests, "ok": sum(&lines, "ok"),
           "errors": sum(&lines, "errors"), "new_pair_in_redis": rotated})
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--test");
    let filters: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let n: usize = std::env::var("B24_FLEET_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke { 100 } else { 2000 });
    let redis = Arc::new(RedisServer::start());
    println!("b24-fleet: {WORKERS} worker processes, one local portal, one local redis-server");
    if wanted("acquire") {
        println!(
            "{}",
            acquire_row(&redis, if smoke { 200 } else { 5000 }).await
        );
    }
    if wanted("storm") {
        println!("{}", storm_row(&redis, 50).await);
    }
    if wanted("redis") {
        println!("{}", bulk_row(&redis, "redis", n).await);
    }
    if wanted("local") {
        println!("{}", bulk_row(&redis, "local", n).await);
    }
}
