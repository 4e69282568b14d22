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
