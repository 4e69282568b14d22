//! The portal as a server others run: secrets stay out of `Debug`, counters stay bounded,
//! validation errors stay short, bodies and connections are limited, slow clients are dropped,
//! the admin endpoints refuse cross-site requests.

mod common;

use std::time::Duration;

use b24_mock_portal::{MockPortal, OAuthToken, PortalConfig, UNKNOWN_METHOD};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[test]
fn config_debug_redacts_the_secrets() {
    let config = PortalConfig {
        webhook_secret: "hook-secret-4711".into(),
        application_token: "app-token-4712".into(),
        ..PortalConfig::default()
    }
    .with_token(OAuthToken::new("oauth-token-4713", &["imopenlines"]));
    let shown = format!("{config:?} {:#?}", config);
    for secret in ["hook-secret-4711", "app-token-4712", "oauth-token-4713"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    // The rest is still there.
    assert!(shown.contains("imopenlines"), "{shown}");
    assert!(shown.contains("webhook_user"), "{shown}");
    let token = format!("{:?}", OAuthToken::new("oauth-token-4714", &[]));
    assert!(!token.contains("oauth-token-4714"), "{token}");
}

#[tokio::test]
async fn random_method_names_share_one_counter() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let http = common::http();
    for i in 0..20 {
        let r = http
            .get(format!("{}no.such.method{i}", portal.webhook_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
    // Inside a batch as well.
    let a = common::post_json(
        &format!("{}batch", portal.webhook_url()),
        &serde_json::json!({"cmd": {"a": "other.unknown1", "b": "other.unknown2"}}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.raw);
    let c = portal.counters();
    let names: Vec<&String> = c.methods.keys().collect();
    assert_eq!(names, [UNKNOWN_METHOD]);
    assert_eq!(c.method(UNKNOWN_METHOD).errors, 22);
    assert_eq!(c.requests, 21);
    // A served method still has its own entry.
    common::get(&format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777",
        portal.webhook_url()
    ))
    .await;
    assert_eq!(portal.counters().executed("imopenlines.dialog.get"), 1);
}

#[tokio::test]
async fn a_validation_error_quotes_a_short_prefix_of_the_value() {
    let portal = MockPortal::start(PortalConfig {
        spec_dir: Some(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec"),
        ),
        ..PortalConfig::default()
    })
    .await
    .unwrap();
    let huge = format!("1{}", "ж".repeat(100_000));
    let a = common::post_json(
        &format!("{}test.item.add", portal.webhook_url()),
        &serde_json::json!({"FIELDS": {"name": "x"}, "COUNT": huge}),
    )
    .await;
    assert_eq!(
        a.status,
        400,
        "{}",
        a.raw.chars().take(200).collect::<String>()
    );
    assert_eq!(a.json["error"], "ERROR_ARGUMENT");
    let message = a.json["error_description"].as_str().unwrap();
    assert!(message.contains("'COUNT'"), "{message}");
    assert!(message.contains("\"1жжж"), "{message}");
    assert!(message.ends_with('…'), "{message}");
    assert!(message.chars().count() < 150, "{message}");
}

/// Longest a test waits for the portal before it fails (the portal's own timeouts in these
/// tests are a fraction of a second; this only keeps a broken portal from hanging the run).
const WATCHDOG: Duration = Duration::from_secs(30);

/// A request head for the webhook path of `portal`.
fn head(portal: &MockPortal, method: &str, extra: &str) -> String {
    let path = portal
        .webhook_url()
        .split_once("127.0.0.1")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, path)| format!("/{path}"))
        .unwrap();
    format!("{method} {path}imopenlines.dialog.get HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}")
}

/// One answer read off a raw connection: status, head (lower case) and body; `None` when the
/// connection ends before a whole head.
async fn read_answer(s: &mut (impl AsyncRead + Unpin)) -> Option<(u16, String, Vec<u8>)> {
    let read = async {
        let mut buf = Vec::new();
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let status = head.get(9..12)?.parse().ok()?;
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = buf[end..].to_vec();
        while body.len() < length {
            let mut chunk = [0u8; 4096];
            match s.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
        Some((status, head, body))
    };
    tokio::time::timeout(WATCHDOG, read)
        .await
        .expect("the portal neither answered nor closed the connection")
}

/// Whether the portal closes the connection (end of stream or reset) before sending a byte.
async fn closes_silently(s: &mut (impl AsyncRead + Unpin)) -> bool {
    let mut chunk = [0u8; 64];
    let read = tokio::time::timeout(WATCHDOG, s.read(&mut chunk))
        .await
        .expect("the portal did not close the connection");
    matches!(read, Ok(0) | Err(_))
}

async fn portal_with(config: PortalConfig) -> MockPortal {
    MockPortal::start(config).await.unwrap()
}

#[tokio::test]
async fn a_body_announced_too_large_is_refused_unread() {
    let portal = portal_with(PortalConfig {
        max_body_bytes: 1024,
        ..PortalConfig::default()
    })
    .await;
    let mut s = TcpStream::connect(portal.addr()).await.unwrap();
    let h = head(
        &portal,
        "POST",
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000000000\r\n\r\n",
    );
    s.write_all(h.as_bytes()).await.unwrap();
    let (status, head, body) = read_answer(&mut s).await.expect("an answer");
    assert_eq!(status, 413, "{head}");
    assert!(head.contains("connection: close"), "{head}");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "REQUEST_ENTITY_TOO_LARGE");
    assert!(closes_silently(&mut s).await);
    // At the limit a body is read; one byte more is refused.
    let url = format!("{}imopenlines.dialog.get", portal.webhook_url());
    let form = |len: usize| {
        let mut f = "CHAT_ID=1777&pad=".to_string();
        f.push_str(&"x".repeat(len - f.len()));
        f
    };
    let a = common::post_form(&url, &form(1024)).await;
    assert_eq!(a.status, 200, "{}", a.raw);
    let a = common::post_form(&url, &form(1025)).await;
    assert_eq!(a.status, 413, "{}", a.raw);
    // Refusals take no fault decision and reach no method.
    let c = portal.counters();
    assert_eq!((c.requests, c.calls("imopenlines.dialog.get")), (3, 1));
}

#[tokio::test]
async fn a_chunked_body_is_refused_as_soon_as_it_grows_past_the_limit() {
    let portal = portal_with(PortalConfig {
        max_body_bytes: 64 * 1024,
        ..PortalConfig::default()
    })
    .await;
    let s = TcpStream::connect(portal.addr()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let h = head(
        &portal,
        "POST",
        "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    // A body that never ends: the answer must come while it is still being sent.
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = sent.clone();
    let writer = tokio::spawn(async move {
        wr.write_all(h.as_bytes()).await?;
        let chunk = format!("1000\r\n{}\r\n", "a".repeat(0x1000));
        loop {
            wr.write_all(chunk.as_bytes()).await?;
            counted.fetch_add(chunk.len(), std::sync::atomic::Ordering::SeqCst);
        }
        #[allow(unreachable_code)]
        Ok::<(), std::io::Error>(())
    });
    let (status, head, _) = read_answer(&mut rd).await.expect("an answer");
    let sent = sent.load(std::sync::atomic::Ordering::SeqCst);
    writer.abort();
    assert_eq!(status, 413, "{head}");
    // What the portal read (64 KiB and a chunk), what it drained while closing (1 MiB at most)
    // and what the kernel buffers on loopback (4 MiB to send, 32 MiB to receive at most): the
    // answer came long before a body of the old hard-coded 64 MiB limit could be sent.
    assert!(
        sent < 48 * 1024 * 1024,
        "{sent} bytes sent before the answer"
    );
    assert!(head.contains("connection: close"), "{head}");
}

#[tokio::test]
async fn an_idle_connection_is_closed() {
    let portal = portal_with(PortalConfig {
        idle_timeout: Duration::from_millis(200),
        ..PortalConfig::default()
    })
    .await;
    // Connected, nothing sent.
    let mut s = TcpStream::connect(portal.addr()).await.unwrap();
    assert!(closes_silently(&mut s).await);
    // Kept alive after an answer, nothing more sent.
    let mut s = TcpStream::connect(portal.addr()).await.unwrap();
    s.write_all(
        head(&portal, "GET", "\r\n")
            .replace("get HTTP", "get?CHAT_ID=1777 HTTP")
            .as_bytes(),
    )
    .await
    .unwrap();
    let (status, head, _) = read_answer(&mut s).await.expect("an answer");
    assert_eq!(status, 200, "{head}");
    assert!(closes_silently(&mut s).await);
    assert_eq!(portal.counters().requests, 1);
}

#[tokio::test]
async fn a_head_sent_byte_by_byte_is_dropped() {
    let portal = portal_with(PortalConfig {
        header_read_timeout: Duration::from_millis(300),
        ..PortalConfig::default()
    })
    .await;
    let s = TcpStream::connect(portal.addr()).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let h = head(&portal, "GET", "X-Slow: ");
    let writer = tokio::spawn(async move {
        for b in h.bytes().chain(std::iter::repeat(b'a')) {
            wr.write_all(&[b]).await?;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok::<(), std::io::Error>(())
    });
    assert!(closes_silently(&mut rd).await);
    writer.abort();
    assert_eq!(portal.counters().requests, 0);
}

#[tokio::test]
async fn a_body_that_stalls_is_answered_408_and_closed() {
    let portal = portal_with(PortalConfig {
        body_read_timeout: Duration::from_millis(300),
        ..PortalConfig::default()
    })
    .await;
    let mut s = TcpStream::connect(portal.addr()).await.unwrap();
    let h = head(
        &portal,
        "POST",
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nCHAT_ID=17",
    );
    s.write_all(h.as_bytes()).await.unwrap();
    let (status, head, body) = read_answer(&mut s).await.expect("an answer");
    assert_eq!(status, 408, "{head}");
    assert!(head.contains("connection: close"), "{head}");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "REQUEST_TIMEOUT");
    assert!(closes_silently(&mut s).await);
    assert_eq!(portal.counters().calls("imopenlines.dialog.get"), 0);
}

#[tokio::test]
async fn connections_past_the_cap_wait_for_a_free_slot() {
    let portal = portal_with(PortalConfig {
        max_connections: 1,
        ..PortalConfig::default()
    })
    .await;
    let get = head(&portal, "GET", "\r\n").replace("get HTTP", "get?CHAT_ID=1777 HTTP");
    let mut a = TcpStream::connect(portal.addr()).await.unwrap();
    a.write_all(get.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut a).await.map(|r| r.0), Some(200));
    // The second connection is made (the kernel queues it) and sends its request...
    let mut b = TcpStream::connect(portal.addr()).await.unwrap();
    b.write_all(get.as_bytes()).await.unwrap();
    // ...but while the first one is open it is not accepted, however long that lasts.
    a.write_all(get.as_bytes()).await.unwrap();
    assert_eq!(read_answer(&mut a).await.map(|r| r.0), Some(200));
    let c = portal.counters();
    assert_eq!((c.connections, c.requests), (1, 2));
    // Once the first closes, the second is served.
    drop(a);
    assert_eq!(read_answer(&mut b).await.map(|r| r.0), Some(200));
    let c = portal.counters();
    assert_eq!((c.connections, c.requests), (2, 3));
}

#[tokio::test]
async fn a_browser_page_of_another_site_cannot_reset_the_portal() {
    let portal = portal_with(PortalConfig {
        admin_endpoints: true,
        ..PortalConfig::default()
    })
    .await;
    let http = common::http();
    let call = format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777",
        portal.webhook_url()
    );
    let reset = format!("{}__mock/reset", portal.base_url());
    let counters = format!("{}__mock/counters", portal.base_url());
    assert_eq!(common::get(&call).await.status, 200);
    let own = portal.base_url().trim_end_matches('/').to_string();
    let refused: [&[(&str, &str)]; 6] = [
        // A form or a `fetch(.., {mode: "no-cors"})` of any page: only simple headers.
        &[("content-type", "application/x-www-form-urlencoded")],
        &[("content-type", "text/plain")],
        // Non-simple headers, but from another site.
        &[("x-b24-mock-admin", "1"), ("origin", "http://evil.example")],
        &[("x-b24-mock-admin", "1"), ("origin", "null")],
        &[
            ("content-type", "application/json"),
            ("sec-fetch-site", "cross-site"),
        ],
        // Another port of the same host is the same site, not the same origin.
        &[("x-b24-mock-admin", "1"), ("sec-fetch-site", "same-site")],
    ];
    for headers in refused {
        let mut r = http.post(&reset);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 403, "{headers:?}");
        assert_eq!(
            portal.counters().requests,
            1,
            "{headers:?} reset the portal"
        );
    }
    // Reading the counters from another origin is refused too.
    let r = http
        .get(&counters)
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http
        .get(&counters)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(common::get(&counters).await.json["requests"], 1);
    // What a script, or the portal's own page, sends is accepted.
    let accepted: [&[(&str, &str)]; 4] = [
        &[("x-b24-mock-admin", "1")],
        &[("content-type", "application/json")],
        &[
            ("x-b24-mock-admin", "1"),
            ("origin", own.as_str()),
            ("sec-fetch-site", "same-origin"),
        ],
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("sec-fetch-site", "none"),
        ],
    ];
    for headers in accepted {
        assert_eq!(common::get(&call).await.status, 200);
        let mut r = http.post(&reset);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 200, "{headers:?}");
        assert_eq!(portal.counters().requests, 0, "{headers:?}");
    }
    let localhost = own.replace("127.0.0.1", "localhost");
    let r = http
        .post(&reset)
        .header("x-b24-mock-admin", "1")
        .header("origin", localhost)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
