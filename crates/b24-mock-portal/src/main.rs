//! `b24-mock-portal`: a local Bitrix24 portal serving the workspace's `spec/` on loopback.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use b24_mock_portal::{ExtraMethod, FaultKind, FaultRule, LimitConfig, MockPortal, PortalConfig};
use clap::Parser;

/// A faithful local Bitrix24 portal for tests (spec-driven, like stripe-mock).
// No `Debug`: it holds the webhook secret and the OAuth tokens.
#[derive(Parser)]
#[command(name = "b24-mock-portal", version)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Serve HTTPS with a certificate generated at start; the CA is written to --ca-file.
    #[arg(long)]
    tls: bool,
    /// Where to write the CA PEM with --tls (default: a file in the temp folder).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// Read specs from this folder instead of the embedded ones.
    #[arg(long)]
    spec_dir: Option<PathBuf>,
    /// Webhook user id.
    #[arg(long, default_value = "1")]
    user: String,
    /// Webhook secret.
    #[arg(long, default_value = b24_mock_portal::DEFAULT_WEBHOOK_SECRET)]
    secret: String,
    /// Leaky bucket size (requests).
    #[arg(long)]
    burst: Option<f64>,
    /// Leaky bucket drain (requests per second).
    #[arg(long)]
    drain: Option<f64>,
    /// Enterprise limits (burst 250, 5/s).
    #[arg(long)]
    enterprise: bool,
    /// Add a counting write method of this name (answers 1, 2, ...).
    #[arg(long)]
    counter_method: Vec<String>,
    /// Accept this OAuth token (all scopes of the served methods).
    #[arg(long)]
    token: Vec<String>,
    /// Add this many milliseconds of latency to every request.
    #[arg(long)]
    latency_ms: Option<u64>,
    /// Share of requests (0..=1) that get a fault before they run, each independently at
    /// random: 500 JSON, 502 HTML, truncated body or dropped connection, each a quarter of
    /// the share (`FaultRule::random`).
    #[arg(long, value_parser = share)]
    fault_share: Option<f64>,
    /// Seed of the generator that picks the faulted requests and their kinds (the same seed
    /// faults the same requests, by order of arrival).
    #[arg(long)]
    fault_seed: Option<u64>,
    /// Fault exactly one request in N (the N-th, 2N-th...), the four kinds in turn: 500
    /// JSON, 502 HTML, truncated body, dropped connection. Deterministic, unlike
    /// `--fault-share`.
    #[arg(long, conflicts_with = "fault_share")]
    fault_every: Option<u64>,
    /// Largest request body in bytes; a larger one is answered 413 without being read.
    #[arg(long, default_value_t = b24_mock_portal::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Milliseconds a request's head may take from its first byte (slower clients are
    /// dropped).
    #[arg(long, default_value_t = millis(b24_mock_portal::DEFAULT_HEADER_READ_TIMEOUT))]
    header_timeout_ms: u64,
    /// Milliseconds a request's body may take after its head (then 408 and closed).
    #[arg(long, default_value_t = millis(b24_mock_portal::DEFAULT_BODY_READ_TIMEOUT))]
    body_timeout_ms: u64,
    /// Milliseconds a connection may wait for the next request (then closed).
    #[arg(long, default_value_t = millis(b24_mock_portal::DEFAULT_IDLE_TIMEOUT))]
    idle_timeout_ms: u64,
    /// Most connections served at once; more wait (unaccepted) until one closes.
    #[arg(long, default_value_t = b24_mock_portal::DEFAULT_MAX_CONNECTIONS, value_parser = at_least_one)]
    max_connections: usize,
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn share(s: &str) -> Result<f64, String> {
    let f: f64 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&f) {
        Ok(f)
    } else {
        Err("must be between 0 and 1".into())
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut limits = if args.enterprise {
        LimitConfig::enterprise()
    } else {
        LimitConfig::default()
    };
    if let Some(b) = args.burst {
        limits.burst = b;
    }
    if let Some(d) = args.drain {
        limits.drain_per_sec = d;
    }
    let mut config = PortalConfig {
        port: args.port,
        tls: args.tls,
        spec_dir: args.spec_dir,
        webhook_user: args.user,
        webhook_secret: args.secret,
        limits,
        admin_endpoints: true,
        max_body_bytes: args.max_body_bytes,
        header_read_timeout: std::time::Duration::from_millis(args.header_timeout_ms),
        body_read_timeout: std::time::Duration::from_millis(args.body_timeout_ms),
        idle_timeout: std::time::Duration::from_millis(args.idle_timeout_ms),
        max_connections: args.max_connections,
        ..PortalConfig::default()
    };
    if let Some(ms) = args.latency_ms.filter(|ms| *ms > 0) {
        config.faults.push(FaultRule::new(
            None,
            FaultKind::Latency(std::time::Duration::from_millis(ms)),
        ));
    }
    if let Some(seed) = args.fault_seed {
        config.fault_seed = seed;
    }
    if let Some(share) = args.fault_share.filter(|s| *s > 0.0) {
        config
            .faults
            .push(FaultRule::random(share, config.fault_seed));
    }
    if let Some(n) = args.fault_every.filter(|n| *n > 0) {
        config.faults.extend(FaultRule::rotation_every(n));
    }
    for name in args.counter_method {
        config.extra_methods.push(ExtraMethod::counter(name));
    }
    for token in args.token {
        config.oauth_tokens.push(b24_mock_portal::OAuthToken::new(
            token,
            &["imopenlines", "imconnector", "im", "crm", "user"],
        ));
    }
    let portal = MockPortal::start(config).await?;
    println!("webhook: {}", portal.webhook_url());
    println!("oauth: {}rest/", portal.base_url());
    if portal.ca_pem().is_some() {
        let path = args.ca_file.unwrap_or_else(|| {
            std::env::temp_dir().join(format!("b24-mock-portal-{}-ca.pem", portal.addr().port()))
        });
        // Never through a symlink someone planted at the (predictable) path.
        portal
            .write_ca_file(&path)
            .map_err(|e| format!("cannot write the CA file {}: {e}", path.display()))?;
        println!("ca: {}", path.display());
    }
    println!("admin: {}__mock/", portal.base_url());
    println!("methods: {}", portal.methods().join(", "));
    use std::io::Write as _;
    std::io::stdout().flush()?;
    tokio::signal::ctrl_c().await?;
    portal.shutdown().await;
    Ok(())
}
