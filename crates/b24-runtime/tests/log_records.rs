//! Applications that log with the `log` crate get the runtime's records: `tracing`'s `log`
//! feature turns every event into a `log` record while no `tracing` subscriber is set. Here,
//! in this crate's own test build, nothing else turns that feature on (in the workspace's
//! tests, axum does). The records, like the errors, hold no secret even when a proxy page
//! echoes the request line or an error description echoes the token.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Mutex;
use std::time::Duration;

use b24_runtime::{Client, Error, MethodKind, RetryPolicy};

const SECRET: &str = "hook-secret-4f1a9";
const TOKEN: &str = "access-token-8c2e7";

/// Every record, as `LEVEL target: message fields`.
struct Records(Mutex<Vec<String>>);

impl log::Log for Records {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    }
    fn flush(&self) {}
}

static RECORDS: Records = Records(Mutex::new(Vec::new()));

/// A loopback server answering every request with `answer(request line, body)`.
fn echo_server(answer: fn(&str, &str) -> String) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { return };
            let _ = socket.set_read_timeout(Some(Duration::from_secs(5)));
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            let request = loop {
                let Ok(n) = socket.read(&mut buf) else {
                    break None;
                };
                if n == 0 {
                    break None;
                }
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).into_owned();
                let Some((head, body)) = text.split_once("\r\n\r\n") else {
                    continue;
                };
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap_or(0))
                    })
                    .unwrap_or(0usize);
                if body.len() >= length {
                    let line = head.lines().next().unwrap_or_default().to_string();
                    break Some((line, body.to_string()));
                }
            };
            if let Some((line, body)) = request {
                let _ = socket.write_all(answer(&line, &body).as_bytes());
            }
        }
    });
    addr
}

fn http(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A proxy's 502 page echoing the request line.
fn proxy_page(line: &str, _: &str) -> String {
    http(
        "502 Bad Gateway",
        "text/html",
        &format!("<html><h1>502 Bad Gateway</h1><pre>{line}</pre></html>"),
    )
}

/// The portal's JSON 500, its description echoing the request body (with the token).
fn echoing_500(_: &str, body: &str) -> String {
    let answer = serde_json::json!({
        "error": "INTERNAL_SERVER_ERROR",
        "error_description": format!("failed on {body}"),
    });
    http(
        "500 Internal Server Error",
        "application/json",
        &answer.to_string(),
    )
}

fn retry_once() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn records_reach_a_log_logger_without_secrets() {
    log::set_logger(&RECORDS).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    let proxy = echo_server(proxy_page);
    let client = Client::builder_webhook(&format!("http://{proxy}/rest/1/{SECRET}/"))
        .retry(retry_once())
        .build()
        .unwrap();
    let read = client
        .call_raw(
            "imopenlines.dialog.get",
            MethodKind::Read,
            Default::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&read, Error::UnexpectedResponse { excerpt, .. } if excerpt.contains("POST /rest/1/***/imopenlines.dialog.get.json")),
        "{read:?}"
    );
    let write = client
        .call_raw(
            "imopenlines.session.start",
            MethodKind::Write,
            Default::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(write, Error::OutcomeUnknown { .. }), "{write:?}");

    let portal = echo_server(echoing_500);
    let client = Client::builder_oauth(&format!("http://{portal}/"), TOKEN)
        .retry(retry_once())
        .build()
        .unwrap();
    let oauth = client
        .call_raw(
            "imopenlines.dialog.get",
            MethodKind::Read,
            Default::default(),
        )
        .await
        .unwrap_err();
    assert!(
        oauth.to_string().contains(r#"failed on {"auth":"***"}"#),
        "{oauth}"
    );

    let log = RECORDS.0.lock().unwrap().join("\n");
    for expected in [
        "b24_runtime: retrying",
        "write not replayed",
        "/rest/1/***/",
        "auth",
    ] {
        assert!(log.contains(expected), "`{expected}` is logged:\n{log}");
    }
    for text in [
        log,
        format!("{read} {read:?}"),
        format!("{write} {write:?}"),
        format!("{oauth} {oauth:?}"),
    ] {
        assert!(
            !text.contains(SECRET) && !text.contains(TOKEN),
            "leaked: {text}"
        );
    }
}
