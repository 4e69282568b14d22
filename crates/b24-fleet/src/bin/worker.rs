//! A worker process of a fleet, for the tests and the benchmark of `b24-fleet`: it calls a
//! portal through a limiter shared in Redis (or an in-process one) and prints one JSON line
//! with what happened.
//!
//! ```text
//! b24-fleet-worker bulk  --portal <webhook URL> --n 2000 --limiter redis|local
//!                        --redis <URL> --key <portal key> [--fallback <workers>]
//!                        [--start-at-ms <Unix ms>] [--max-attempts 10] [--timeout-ms 500]
//! b24-fleet-worker storm --portal <portal URL> --calls 50 --redis <URL> --key <portal key>
//!                        --access <token> --refresh <token> --token-endpoint <URL>
//!                        --client-id <id> --client-secret <secret>
//!                        [--coordinator redis|none] [--start-at-ms <Unix ms>]
//!                        [--lock-ttl-ms 10000]
//! ```
//!
//! `bulk` sends `--n` `imopenlines.dialog.get` through `Client::many`; `storm` sends
//! `--calls` of them at once with an OAuth pair whose access token the portal refuses as
//! expired, so that every call needs the refreshed pair. `--start-at-ms` makes every
//! worker of a run start at the same moment.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use b24_core::{Error, Method, MethodKind, UndocumentedCode};
use b24_fleet::{Fleet, FleetConfig, LocalFallback};
use b24_runtime::{Client, ClientBuilder, OAuthConfig, RateLimit, RetryPolicy};
use serde_json::{json, Map, Value};

/// `imopenlines.dialog.get` by chat id, with an untyped result.
struct DialogGet(i64);

impl Method for DialogGet {
    const NAME: &'static str = "imopenlines.dialog.get";
    const SCOPE: &'static str = "imopenlines";
    const KIND: MethodKind = MethodKind::Read;
    type Output = Value;
    type ErrorCode = UndocumentedCode;

    fn params(&self) -> Map<String, Value> {
        let mut params = Map::new();
        params.insert("CHAT_ID".into(), Value::from(self.0));
        params
    }
}

struct Args(HashMap<String, String>);

impl Args {
    fn parse() -> Result<(String, Args), String> {
        let mut argv = std::env::args().skip(1);
        let mode = argv
            .next()
            .ok_or("usage: b24-fleet-worker <bulk|storm> --name value...")?;
        let mut map = HashMap::new();
        while let Some(name) = argv.next() {
            let Some(name) = name.strip_prefix("--") else {
                return Err(format!("expected --name, got `{name}`"));
            };
            let value = argv.next().ok_or(format!("--{name} needs a value"))?;
            map.insert(name.to_string(), value);
        }
        Ok((mode, Args(map)))
    }

    fn get(&self, name: &str) -> Result<&str, String> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or(format!("--{name} is required"))
    }

    fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: not a number: {v}")),
        }
    }
}

fn fleet(args: &Args) -> Result<Fleet, String> {
    let config = FleetConfig::default()
        .with_timeout(Duration::from_millis(args.num("timeout-ms", 500)?))
        .with_lock_ttl(Duration::from_millis(args.num("lock-ttl-ms", 10_000)?));
    Fleet::connect(args.get("redis")?, config).map_err(|e| e.to_string())
}

/// Sleeps until `--start-at-ms`, if given.
async fn start_line(args: &Args) -> Result<(), String> {
    let at: u64 = args.num("start-at-ms", 0)?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    if at > now {
        tokio::time::sleep(Duration::from_millis(at - now)).await;
    }
    Ok(())
}

fn summary(results: &[Result<Value, Error>], wall: Duration) -> Value {
    let ok = results
        .iter()
        .filter(|r| matches!(r, Ok(v) if v.get("id").and_then(Value::as_i64) == Some(1777)))
        .count();
    let errors: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(ToString::to_string))
        .collect();
    json!({
        "ok": ok,
        "errors": errors.len(),
        "error_sample": errors.first(),
        "wall_s": wall.as_secs_f64(),
    })
}

fn retry(args: &Args) -> Result<RetryPolicy, String> {
    Ok(RetryPolicy {
        max_attempts: args.num("max-attempts", 10)?,
        ..RetryPolicy::default()
    })
}

async fn bulk(args: &Args) -> Result<Value, String> {
    let limit = RateLimit::custom(args.num("burst", 50)?, args.num("drain", 2.0)?)
        .map_err(|e| e.to_string())?;
    let mut builder: ClientBuilder = Client::builder_webhook(args.get("portal")?)
        .retry(retry(args)?)
        .rate_limit(Some(limit));
    let mut shared = None;
    match args.get("limiter")? {
        "local" => {}
        "redis" => {
            let mut limiter = fleet(args)?.limiter(args.get("key")?, limit);
            let workers: u32 = args.num("fallback", 0)?;
            if workers > 0 {
                limiter = limiter.with_local_fallback(LocalFallback::new(workers));
            }
            shared = Some(limiter.clone());
            builder = builder.limiter(Arc::new(limiter));
        }
        other => return Err(format!("--limiter: `{other}` is not redis or local")),
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let n: usize = args.num("n", 2000)?;
    start_line(args).await?;
    let start = Instant::now();
    let results = client.many((0..n).map(|_| DialogGet(1777))).await;
    let results: Vec<_> = results
        .into_iter()
        .map(|r| r.map_err(Error::into_untyped))
        .collect();
    let mut out = summary(&results, start.elapsed());
    if let (Some(limiter), Value::Object(map)) = (shared, &mut out) {
        map.insert("fallback".into(), limiter.fallback_acquisitions().into());
    }
    Ok(out)
}

async fn storm(args: &Args) -> Result<Value, String> {
    let endpoint = args
        .get("token-endpoint")?
        .parse()
        .map_err(|_| "--token-endpoint: not a URL".to_string())?;
    let mut config = OAuthConfig::new(args.get("client-id")?, args.get("client-secret")?)
        .with_token_endpoint(endpoint);
    match args.0.get("coordinator").map_or("redis", String::as_str) {
        "redis" => {
            let tokens = fleet(args)?.tokens(args.get("key")?);
            config = config.with_coordinator(Arc::new(tokens));
        }
        "none" => {}
        other => return Err(format!("--coordinator: `{other}` is not redis or none")),
    }
    let client = Client::builder_oauth(args.get("portal")?, args.get("access")?)
        .rate_limit(None)
        .retry(retry(args)?)
        .refresh(args.get("refresh")?, config)
        .build()
        .map_err(|e| e.to_string())?;
    let calls: usize = args.num("calls", 50)?;
    start_line(args).await?;
    let start = Instant::now();
    let results = futures_join(
        (0..calls)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.call(&DialogGet(1777)).await })
            })
            .collect(),
    )
    .await;
    Ok(summary(&results, start.elapsed()))
}

async fn futures_join(
    tasks: Vec<tokio::task::JoinHandle<Result<Value, Error<UndocumentedCode>>>>,
) -> Vec<Result<Value, Error>> {
    let mut out = Vec::with_capacity(tasks.len());
    for task in tasks {
        out.push(match task.await {
            Ok(r) => r,
            Err(e) => Err(Error::InvalidRequest {
                method: DialogGet::NAME.into(),
                message: format!("the task failed: {e}"),
            }),
        });
    }
    out
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let outcome = match Args::parse() {
        Ok((mode, args)) => match mode.as_str() {
            "bulk" => bulk(&args).await,
            "storm" => storm(&args).await,
            other => Err(format!("unknown mode `{other}` (bulk or storm)")),
        },
        Err(e) => Err(e),
    };
    match outcome {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("b24-fleet-worker: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
