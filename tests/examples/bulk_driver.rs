//! b24-openlines as one more driver of `tests/third_party/bulk.sh`: N x
//! `imopenlines.dialog.get` through `Client::many` against the given webhook, with the
//! client-side bucket set to the scenario's plan, like the other drivers' rate settings.
//!
//! `bulk_driver <webhook>` (env N, BURST, DRAIN; trusts the CA in SSL_CERT_FILE). Prints one
//! JSON line: `{"results": int, "error": str|null, "wall_s": float}`.

use std::time::Instant;

use b24_openlines::imopenlines::dialog_get::Request;
use b24_runtime::{Client, RateLimit};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let hook = std::env::args().nth(1).unwrap_or_default();
    let n: usize = env("N", 5000);
    let limit = RateLimit::custom(env("BURST", 50), env("DRAIN", 2.0));
    let mut builder = Client::builder_webhook(&hook);
    match limit {
        Ok(limit) => builder = builder.rate_limit(Some(limit)),
        Err(e) => {
            println!(
                "{}",
                serde_json::json!({"results": 0, "error": e.to_string(), "wall_s": 0.0})
            );
            return;
        }
    }
    if let Ok(path) = std::env::var("SSL_CERT_FILE") {
        match std::fs::read(&path) {
            Ok(pem) => builder = builder.add_root_certificate_pem(pem),
            Err(e) => eprintln!("cannot read SSL_CERT_FILE: {e}"),
        }
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            println!(
                "{}",
                serde_json::json!({"results": 0, "error": e.to_string(), "wall_s": 0.0})
            );
            return;
        }
    };
    let start = Instant::now();
    let results = client.many((0..n).map(|_| Request::chat_id(1777))).await;
    let wall_s = start.elapsed().as_secs_f64();
    let ok = results
        .iter()
        .filter(
            |r| matches!(r, Ok(d) if d.id == 1777 && d.dialog_id.as_deref() == Some("chat1777")),
        )
        .count();
    let error = results
        .iter()
        .find_map(|r| r.as_ref().err())
        .map(|e| e.to_string());
    println!(
        "{}",
        serde_json::json!({"results": ok, "error": error, "wall_s": (wall_s * 1000.0).round() / 1000.0})
    );
}
