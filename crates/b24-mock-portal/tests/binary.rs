//! The `b24-mock-portal` binary: prints its URLs, writes the CA with --tls, and serves.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary and reads its `key: value` lines up to `methods:`.
fn start(args: &[&str]) -> (Running, Vec<(String, String)>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_b24-mock-portal"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let running = Running(child);
    let mut lines = Vec::new();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        let (k, v) = line.split_once(": ").unwrap();
        lines.push((k.to_string(), v.to_string()));
        if k == "methods" {
            break;
        }
    }
    (running, lines)
}

fn value<'a>(lines: &'a [(String, String)], key: &str) -> &'a str {
    lines
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap()
}

#[tokio::test]
async fn binary_serves_https_and_writes_the_ca() {
    let ca_file =
        std::env::temp_dir().join(format!("b24-mock-portal-test-{}.pem", std::process::id()));
    let (_portal, lines) = start(&[
        "--port",
        "0",
        "--tls",
        "--ca-file",
        ca_file.to_str().unwrap(),
        "--secret",
        "s3",
    ]);
    let hook = value(&lines, "webhook");
    assert!(
        hook.starts_with("https://127.0.0.1:") && hook.ends_with("/rest/1/s3/"),
        "{hook}"
    );
    assert_eq!(value(&lines, "ca"), ca_file.to_str().unwrap());
    assert!(value(&lines, "methods").contains("imopenlines.dialog.get"));
    let pem = std::fs::read(&ca_file).unwrap();
    let runtime = b24_runtime::Client::builder_webhook(hook)
        .add_root_certificate_pem(pem)
        .build()
        .unwrap();
    let client = b24_openlines::Client::from(runtime);
    let d = client
        .dialog_get(b24_openlines::imopenlines::dialog_get::Request::chat_id(
            1777,
        ))
        .await
        .unwrap();
    assert_eq!(d.id, 1777);
    let _ = std::fs::remove_file(&ca_file);
}

#[cfg(unix)]
#[test]
fn binary_replaces_a_symlink_planted_at_the_ca_file() {
    let dir = std::env::temp_dir().join(format!("b24-mock-portal-ca-link-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let ca_file = dir.join("ca.pem");
    std::os::unix::fs::symlink(&victim, &ca_file).unwrap();
    let (portal, lines) = start(&[
        "--port",
        "0",
        "--tls",
        "--ca-file",
        ca_file.to_str().unwrap(),
    ]);
    assert_eq!(value(&lines, "ca"), ca_file.to_str().unwrap());
    drop(portal);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let meta = std::fs::symlink_metadata(&ca_file).unwrap();
    assert!(meta.file_type().is_file(), "{meta:?}");
    let pem = std::fs::read_to_string(&ca_file).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn binary_plain_http_with_limits_and_counter_method() {
    let (_portal, lines) = start(&[
        "--port",
        "0",
        "--burst",
        "2",
        "--drain",
        "0.01",
        "--counter-method",
        "mock.counter.add",
    ]);
    let hook = value(&lines, "webhook").to_string();
    assert!(hook.starts_with("http://127.0.0.1:"));
    assert!(lines.iter().all(|(k, _)| k != "ca"));
    let http = reqwest::Client::new();
    let mut got = Vec::new();
    for _ in 0..3 {
        let r = http
            .post(format!("{hook}mock.counter.add"))
            .send()
            .await
            .unwrap();
        got.push((r.status().as_u16(), r.text().await.unwrap()));
    }
    assert_eq!(got[0].0, 200);
    assert!(
        got[1].1.starts_with(r#"{"result":2,"time":"#),
        "{}",
        got[1].1
    );
    assert_eq!(got[2].0, 503);
}

async fn counters(admin: &str) -> serde_json::Value {
    let r = reqwest::get(format!("{admin}counters")).await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn binary_admin_endpoints_read_and_reset_the_counters() {
    let (_portal, lines) = start(&["--port", "0", "--burst", "2", "--drain", "0.01"]);
    let hook = value(&lines, "webhook").to_string();
    let admin = value(&lines, "admin").to_string();
    assert!(admin.ends_with("/__mock/"), "{admin}");
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let r = http
            .get(format!("{hook}imopenlines.dialog.get?CHAT_ID=1777"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 503]);
    // Reading the counters is not a request and does not touch the bucket.
    // (`connections` counts TCP connections, the admin ones included.)
    let mut c = counters(&admin).await;
    let mut c2 = counters(&admin).await;
    c.as_object_mut().unwrap().remove("connections");
    c2.as_object_mut().unwrap().remove("connections");
    assert_eq!(c, c2);
    assert_eq!(c["requests"], 3);
    assert_eq!(c["rejected_by_limiter"], 1);
    assert_eq!(c["faults_injected"], 0);
    assert_eq!(
        c["methods"]["imopenlines.dialog.get"],
        serde_json::json!({"calls": 2, "executed": 2, "errors": 0})
    );
    // Wrong verb, unknown admin path.
    let r = http.get(format!("{admin}reset")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let r = http.post(format!("{admin}counters")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let r = http.get(format!("{admin}nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    // Reset zeroes the counters and empties the bucket; it needs the admin header.
    let r = http.post(format!("{admin}reset")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .post(format!("{admin}reset"))
        .header("X-B24-Mock-Admin", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c = counters(&admin).await;
    assert_eq!(c["requests"], 0);
    assert_eq!(c["rejected_by_limiter"], 0);
    assert_eq!(c["methods"], serde_json::json!({}));
    let r = http
        .get(format!("{hook}imopenlines.dialog.get?CHAT_ID=1777"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A method named like the admin endpoint is still routed under /rest/.
    let r = http.get(format!("{hook}__mock")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "ERROR_METHOD_NOT_FOUND");
}

#[tokio::test]
async fn binary_fault_share_mixes_the_four_kinds_reproducibly() {
    async fn run(seed: &str) -> (Vec<String>, serde_json::Value) {
        let (_portal, lines) = start(&[
            "--port",
            "0",
            "--burst",
            "100000",
            "--fault-share",
            "0.4",
            "--fault-seed",
            seed,
        ]);
        let hook = value(&lines, "webhook").to_string();
        let admin = value(&lines, "admin").to_string();
        let mut outcomes = Vec::new();
        for _ in 0..200 {
            // A fresh client each time: a dropped or truncated answer spoils the connection.
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap();
            let outcome = match http
                .get(format!("{hook}imopenlines.dialog.get?CHAT_ID=1777"))
                .send()
                .await
            {
                Err(_) => "dropped".to_string(),
                Ok(r) => {
                    let status = r.status().as_u16();
                    match r.text().await {
                        Ok(_) => status.to_string(),
                        Err(_) => format!("{status}-truncated"),
                    }
                }
            };
            outcomes.push(outcome);
        }
        (outcomes, counters(&admin).await)
    }
    let (a, ca) = run("7").await;
    let count = |k: &str| a.iter().filter(|o| *o == k).count() as u64;
    let faults = ca["faults"].clone();
    assert_eq!(count("500"), faults["internal_error"].as_u64().unwrap());
    assert_eq!(count("502"), faults["bad_gateway_html"].as_u64().unwrap());
    assert_eq!(
        count("200-truncated"),
        faults["truncated_body"].as_u64().unwrap()
    );
    assert_eq!(
        count("dropped"),
        faults["drop_connection"].as_u64().unwrap()
    );
    let total = ca["faults_injected"].as_u64().unwrap();
    assert_eq!(count("200") + total, 200);
    // 40% of 200 = 80, each kind about 20.
    assert!((55..=105).contains(&total), "{total}");
    for kind in [
        "internal_error",
        "bad_gateway_html",
        "truncated_body",
        "drop_connection",
    ] {
        assert!(faults[kind].as_u64().unwrap() >= 8, "{faults}");
    }
    assert_eq!(ca["requests"], 200);
    // The same seed gives the same sequence.
    let (b, _) = run("7").await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn binary_latency_ms_delays_every_request() {
    let (_portal, lines) = start(&["--port", "0", "--latency-ms", "300"]);
    let hook = value(&lines, "webhook").to_string();
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let t = std::time::Instant::now();
        let r = http
            .get(format!("{hook}imopenlines.dialog.get?CHAT_ID=1777"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(t.elapsed() >= std::time::Duration::from_millis(300));
    }
}

#[tokio::test]
async fn binary_takes_the_server_limits_from_its_options() {
    let (_portal, lines) = start(&[
        "--port",
        "0",
        "--max-body-bytes",
        "100",
        "--idle-timeout-ms",
        "200",
        "--header-timeout-ms",
        "5000",
        "--body-timeout-ms",
        "5000",
        "--max-connections",
        "4",
    ]);
    let hook = value(&lines, "webhook").to_string();
    // A fresh connection each time: the portal closes idle ones after 200 ms.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let post = |len: usize| {
        http.post(format!("{hook}imopenlines.dialog.get"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("CHAT_ID=1777&p={}", "x".repeat(len - 15)))
            .send()
    };
    assert_eq!(post(100).await.unwrap().status(), 200);
    assert_eq!(post(101).await.unwrap().status(), 413);
    // An idle connection is closed by the portal.
    let addr = hook
        .strip_prefix("http://")
        .and_then(|h| h.split_once('/'))
        .map(|(a, _)| a.to_string())
        .unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        tokio::io::AsyncReadExt::read(&mut s, &mut buf),
    )
    .await
    .expect("the idle connection is closed");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    // A cap of 0 is refused.
    let out = Command::new(env!("CARGO_BIN_EXE_b24-mock-portal"))
        .args(["--port", "0", "--max-connections", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn binary_rejects_a_fault_share_above_one() {
    let out = Command::new(env!("CARGO_BIN_EXE_b24-mock-portal"))
        .args(["--port", "0", "--fault-share", "1.5"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("between 0 and 1"));
}
