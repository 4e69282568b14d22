//! The bulk job of issue 5: N `imopenlines.dialog.get` (default 5,000) through the client's
//! automatic batching (`Client::many`) against the local portal, under the portal's leaky
//! bucket, with and without injected latency and faults; plus the per-call overhead of a
//! typed call against a hand-written reqwest + serde_json call of the same method.
//!
//! `cargo bench -p b24-tests --bench bulk [-- FILTER...]` prints one table (and JSON lines
//! with `--json`); a filter (`fast`, `faults`, `overhead`) runs only the matching rows.
//! The lower bound of a run is `max(0, ceil(N/50) - burst) / drain` seconds: the bucket lets
//! `burst` requests through at once and then `drain` a second. Ratios are wall time over that
//! bound, measured in this run; nothing here is a pass/fail threshold.

use std::time::{Duration, Instant};

use b24_mock_portal::{FaultKind, FaultRule, LimitConfig, MockPortal, PortalConfig};
use b24_openlines::imopenlines::dialog_get::Request;
use b24_runtime::{Client, RateLimit, RetryPolicy};

struct Scenario {
    name: &'static str,
    burst: u32,
    drain: f64,
    latency: Option<Duration>,
    fault_share: f64,
}

struct Row {
    scenario: &'static str,
    wall_s: f64,
    bound_s: f64,
    http_requests: u64,
    http_503: u64,
    faults: u64,
    results: usize,
    errors: usize,
}

fn portal_config(s: &Scenario) -> PortalConfig {
    let mut config = PortalConfig::default().with_limits(LimitConfig {
        burst: f64::from(s.burst),
        drain_per_sec: s.drain,
        ..LimitConfig::default()
    });
    if let Some(latency) = s.latency {
        config = config.with_fault(FaultRule::new(None, FaultKind::Latency(latency)));
    }
    if s.fault_share > 0.0 {
        // Exactly the share (one request in 1/share; exact for shares 1/n such as 0.1), the
        // four kinds in turn: the same requests fail in every run, without a seed's luck.
        config.faults.extend(FaultRule::rotation_every(
            (1.0 / s.fault_share).round() as u64
        ));
    }
    config
}

async fn bulk(s: &Scenario, n: usize) -> Row {
    let portal = MockPortal::start(portal_config(s))
        .await
        .expect("portal starts");
    let client = Client::builder_webhook(&portal.webhook_url())
        .rate_limit(Some(
            RateLimit::custom(s.burst, s.drain).expect("the scenarios have valid limits"),
        ))
        .retry(RetryPolicy {
            max_attempts: 10,
            ..RetryPolicy::default()
        })
        .build()
        .expect("client builds");
    let requests = (0..n).map(|_| Request::chat_id(1777));
    let start = Instant::now();
    let results = client.many(requests).await;
    let wall_s = start.elapsed().as_secs_f64();
    let c = portal.counters();
    let batches = n.div_ceil(50) as f64;
    Row {
        scenario: s.name,
        wall_s,
        bound_s: ((batches - f64::from(s.burst)).max(0.0)) / s.drain,
        http_requests: c.requests,
        http_503: c.rejected_by_limiter,
        faults: c.faults_injected,
        results: results
            .iter()
            .filter(|r| matches!(r, Ok(d) if d.id == 1777))
            .count(),
        errors: results.iter().filter(|r| r.is_err()).count(),
    }
}

/// Median of `rounds` timings of `calls` sequential calls each, typed vs hand-written,
/// interleaved so both see the same machine.
async fn overhead(calls: usize, rounds: usize) -> (f64, f64) {
    let portal = MockPortal::start(PortalConfig::default().with_limits(LimitConfig::unlimited()))
        .await
        .expect("portal starts");
    let typed = b24_openlines::Client::from(
        Client::builder_webhook(&portal.webhook_url())
            .rate_limit(None)
            .build()
            .expect("client builds"),
    );
    // The hand-written call gets the same transport safety as the typed client (timeouts, no
    // redirects), so the ratio measures the typed layer, not the settings.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest builds");
    let url = format!("{}imopenlines.dialog.get.json", portal.webhook_url());
    let mut t_typed = Vec::new();
    let mut t_raw = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..calls {
            let d = typed
                .dialog_get(Request::chat_id(1777))
                .await
                .expect("typed call");
            assert_eq!(d.id, 1777);
        }
        t_typed.push(start.elapsed().as_secs_f64() / calls as f64);
        let start = Instant::now();
        for _ in 0..calls {
            let body = http
                .post(&url)
                .header("content-type", "application/json")
                .body(r#"{"CHAT_ID":1777}"#)
                .send()
                .await
                .expect("sent")
                .bytes()
                .await
                .expect("read");
            let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(v["result"]["id"], 1777);
        }
        t_raw.push(start.elapsed().as_secs_f64() / calls as f64);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (median(t_typed), median(t_raw))
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let json = args.iter().any(|a| a == "--json");
    // `cargo test --benches` runs this with `--test`: a tiny smoke run, no measurement.
    let smoke = args.iter().any(|a| a == "--test");
    // Optional filters (`-- fast`, `-- overhead`): run only what matches.
    let filters: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let n: usize = std::env::var("B24_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke { 120 } else { 5000 });
    let ms50 = Some(Duration::from_millis(50));
    let scenarios = [
        Scenario {
            name: "standard (50, 2/s)",
            burst: 50,
            drain: 2.0,
            latency: None,
            fault_share: 0.0,
        },
        Scenario {
            name: "fast (50, 20/s)",
            burst: 50,
            drain: 20.0,
            latency: None,
            fault_share: 0.0,
        },
        Scenario {
            name: "standard + 50 ms latency",
            burst: 50,
            drain: 2.0,
            latency: ms50,
            fault_share: 0.0,
        },
        Scenario {
            name: "fast + 50 ms latency",
            burst: 50,
            drain: 20.0,
            latency: ms50,
            fault_share: 0.0,
        },
        Scenario {
            name: "standard + 10% faults",
            burst: 50,
            drain: 2.0,
            latency: None,
            fault_share: 0.1,
        },
        Scenario {
            name: "fast + 10% faults",
            burst: 50,
            drain: 20.0,
            latency: None,
            fault_share: 0.1,
        },
    ];
    println!("b24-openlines bulk job: {n} x imopenlines.dialog.get via Client::many");
    println!(
        "{:<28} {:>8} {:>8} {:>7} {:>6} {:>5} {:>7} {:>8} {:>6}",
        "scenario", "wall s", "bound s", "ratio", "HTTP", "503", "injected", "results", "errors"
    );
    for s in scenarios.iter().filter(|s| wanted(s.name)) {
        let r = bulk(s, n).await;
        let ratio = if r.bound_s > 0.0 {
            r.wall_s / r.bound_s
        } else {
            f64::NAN
        };
        println!(
            "{:<28} {:>8.2} {:>8.2} {:>7.3} {:>6} {:>5} {:>7} {:>8} {:>6}",
            r.scenario,
            r.wall_s,
            r.bound_s,
            ratio,
            r.http_requests,
            r.http_503,
            r.faults,
            r.results,
            r.errors
        );
        if json {
            println!(
                "{}",
                serde_json::json!({
                    "client": "b24-openlines", "scenario": r.scenario, "wall_s": r.wall_s,
                    "bound_s": r.bound_s, "ratio": ratio, "http_requests": r.http_requests,
                    "http_503": r.http_503, "results": r.results, "error": r.errors
                })
            );
        }
    }
    if !wanted("overhead") {
        return;
    }
    let (calls, rounds) = if smoke { (20, 3) } else { (300, 9) };
    let (typed, raw) = overhead(calls, rounds).await;
    println!(
        "per-call: typed {:.1} µs, hand-written reqwest + serde_json {:.1} µs, ratio typed/raw = {:.3}",
        typed * 1e6,
        raw * 1e6,
        typed / raw
    );
}
