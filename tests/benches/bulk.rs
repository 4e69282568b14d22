//! The bulk job of issue 5: N `imopenlines.dialog.get` (default 5,000) through the client's
//! automatic batching (`Client::many`) against the local portal, under the portal's leaky
//! bucket, with and without injected latency and faults; plus the per-call overhead of a
//! typed call against a hand-written reqwest + serde_json call of the same method.
//!
//! `cargo bench -p b24-tests --bench bulk [-- FILTER...]` prints one table (and JSON lines
//! with `--json`); a filter (`fast`, `faults`, `random`, `overhead`) runs only the matching rows;
//! `B24_BENCH_SEEDS=1,2,3` picks the seeds of the `random` rows (default 1 to 6).
//! The lower bound of a run is `max(0, ceil(N/50) - burst) / drain` seconds: the bucket lets
//! `burst` requests through at once and then `drain` a second. With faults, the portal's bucket
//! also counts the retries of the faults its PHP produced (a JSON 500, a cut-off answer), so the
//! fault-adjusted bound is `max(0, counted - burst) / drain` with `counted` the requests the
//! portal's bucket counted (`Counters::counted_by_limiter`). Ratios are wall time over those
//! bounds, measured in this run; nothing here is a pass/fail threshold.
//!
//! The `random` rows fault 10% of the requests at random from a seed
//! (`FaultRule::random`), the kinds drawn uniformly (half counted by the portal, half not),
//! one row per seed; the `10% faults` rows fault exactly every tenth request, the kinds in
//! turn.

use std::time::{Duration, Instant};

use b24_mock_portal::{FaultKind, FaultRule, LimitConfig, MockPortal, PortalConfig};
use b24_openlines::imopenlines::dialog_get::Request;
use b24_runtime::{Client, RateLimit, RetryPolicy};

struct Scenario {
    name: String,
    burst: u32,
    drain: f64,
    latency: Option<Duration>,
    fault_share: f64,
    /// `Some(seed)`: faults drawn at random from this seed; `None`: in rotation.
    fault_seed: Option<u64>,
}

impl Scenario {
    fn new(name: &str, burst: u32, drain: f64) -> Scenario {
        Scenario {
            name: name.to_string(),
            burst,
            drain,
            latency: None,
            fault_share: 0.0,
            fault_seed: None,
        }
    }

    fn latency(mut self, d: Duration) -> Scenario {
        self.latency = Some(d);
        self
    }

    fn faults(mut self, share: f64, seed: Option<u64>) -> Scenario {
        self.fault_share = share;
        self.fault_seed = seed;
        self
    }
}

struct Row {
    scenario: String,
    wall_s: f64,
    bound_s: f64,
    adjusted_bound_s: f64,
    http_requests: u64,
    counted: u64,
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
    match (s.fault_share > 0.0, s.fault_seed) {
        (false, _) => {}
        // Each request faulted at random with the share, the kind drawn uniformly.
        (true, Some(seed)) => config.faults.push(FaultRule::random(s.fault_share, seed)),
        // Exactly the share (one request in 1/share; exact for shares 1/n such as 0.1), the
        // four kinds in turn: the same requests fail in every run, without a seed's luck.
        (true, None) => config.faults.extend(FaultRule::rotation_every(
            (1.0 / s.fault_share).round() as u64,
        )),
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
    let bound = |requests: f64| (requests - f64::from(s.burst)).max(0.0) / s.drain;
    Row {
        scenario: s.name.clone(),
        wall_s,
        bound_s: bound(batches),
        adjusted_bound_s: bound(c.counted_by_limiter as f64),
        http_requests: c.requests,
        counted: c.counted_by_limiter,
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
    let ms50 = Duration::from_millis(50);
    let seeds: Vec<u64> = std::env::var("B24_BENCH_SEEDS")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 2, 3, 4, 5, 6]);
    let mut scenarios = vec![
        Scenario::new("standard (50, 2/s)", 50, 2.0),
        Scenario::new("fast (50, 20/s)", 50, 20.0),
        Scenario::new("standard + 50 ms latency", 50, 2.0).latency(ms50),
        Scenario::new("fast + 50 ms latency", 50, 20.0).latency(ms50),
        Scenario::new("standard + 10% faults", 50, 2.0).faults(0.1, None),
        Scenario::new("fast + 10% faults", 50, 20.0).faults(0.1, None),
    ];
    scenarios.extend(seeds.iter().map(|seed| {
        Scenario::new(&format!("fast + 10% random faults, seed {seed}"), 50, 20.0)
            .faults(0.1, Some(*seed))
    }));
    if let Some(seed) = seeds.first() {
        scenarios.push(
            Scenario::new(
                &format!("standard + 10% random faults, seed {seed}"),
                50,
                2.0,
            )
            .faults(0.1, Some(*seed)),
        );
    }
    println!("b24-openlines bulk job: {n} x imopenlines.dialog.get via Client::many");
    println!("bound: max(0, ceil(N/50) - burst)/drain; adj. bound: max(0, counted - burst)/drain");
    println!(
        "{:<42} {:>7} {:>7} {:>6} {:>7} {:>6} {:>5} {:>7} {:>4} {:>8} {:>7} {:>6}",
        "scenario",
        "wall s",
        "bound",
        "ratio",
        "adj. b",
        "ratio",
        "HTTP",
        "counted",
        "503",
        "injected",
        "results",
        "errors"
    );
    for s in scenarios.iter().filter(|s| wanted(&s.name)) {
        let r = bulk(s, n).await;
        let over = |bound: f64| {
            if bound > 0.0 {
                r.wall_s / bound
            } else {
                f64::NAN
            }
        };
        let (ratio, adjusted_ratio) = (over(r.bound_s), over(r.adjusted_bound_s));
        println!(
            "{:<42} {:>7.2} {:>7.2} {:>6.3} {:>7.2} {:>6.3} {:>5} {:>7} {:>4} {:>8} {:>7} {:>6}",
            r.scenario,
            r.wall_s,
            r.bound_s,
            ratio,
            r.adjusted_bound_s,
            adjusted_ratio,
            r.http_requests,
            r.counted,
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
                    "bound_s": r.bound_s, "ratio": ratio,
                    "adjusted_bound_s": r.adjusted_bound_s, "adjusted_ratio": adjusted_ratio,
                    "http_requests": r.http_requests, "counted": r.counted,
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
