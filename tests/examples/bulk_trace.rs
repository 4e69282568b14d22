//! One bulk job (5,000 `imopenlines.dialog.get` through `Client::many`) against an in-process
//! local portal, with every request and retry logged with its time: where the wall time of
//! `cargo bench --bench bulk` goes.
//!
//! `cargo run --release -p b24-tests --example bulk_trace` (env `DRAIN`, default 20;
//! `FAULTS`, a share of requests that get one of the four faults, default 0, in rotation, or
//! drawn at random from `FAULT_SEED` when that is set).

use b24_mock_portal::{FaultRule, LimitConfig, MockPortal, PortalConfig};
use b24_openlines::imopenlines::dialog_get::Request;
use b24_runtime::{Client, RateLimit};
use std::time::Instant;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_timer(tracing_subscriber::fmt::time::Uptime::default())
        .with_writer(std::io::stderr)
        .init();
    let drain: f64 = std::env::var("DRAIN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20.0);
    let mut cfg = PortalConfig::default().with_limits(LimitConfig {
        burst: 50.0,
        drain_per_sec: drain,
        ..LimitConfig::default()
    });
    let share: f64 = std::env::var("FAULTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let seed: Option<u64> = std::env::var("FAULT_SEED")
        .ok()
        .and_then(|v| v.parse().ok());
    match seed {
        _ if share <= 0.0 => {}
        Some(seed) => cfg.faults.push(FaultRule::random(share, seed)),
        None => cfg
            .faults
            .extend(FaultRule::rotation_every((1.0 / share).round() as u64)),
    }
    let portal = MockPortal::start(cfg).await.unwrap();
    let client = Client::builder_webhook(&portal.webhook_url())
        .rate_limit(Some(RateLimit::custom(50, drain).unwrap()))
        .retry(b24_runtime::RetryPolicy {
            max_attempts: 10,
            ..b24_runtime::RetryPolicy::default()
        })
        .build()
        .unwrap();
    let start = Instant::now();
    let r = client.many((0..5000).map(|_| Request::chat_id(1777))).await;
    let c = portal.counters();
    let wall = start.elapsed().as_secs_f64();
    eprintln!(
        "requests {} counted {} faults {:?} 503 {}",
        c.requests, c.counted_by_limiter, c.faults, c.rejected_by_limiter
    );
    // The fault-adjusted bound: what the portal's bucket counted, beyond the burst, drained.
    let bound = (c.counted_by_limiter as f64 - 50.0).max(0.0) / drain;
    eprintln!(
        "wall {wall:.3} adjusted bound {bound:.3} ratio {:.3} ok {}",
        wall / bound,
        r.iter().filter(|x| x.is_ok()).count()
    );
}
