//! Calls that fail in every way a secret could leak through: a proxy page echoing the
//! request line, an `error_description` naming the token, a failed token refresh, retries and
//! writes not replayed (both logged with the error). Shared by the test of `tracing` output
//! (`runtime.rs`) and the test of `log` records (`log_records.rs`).

use std::time::Duration;

use b24_core::{Error, Method, MethodKind, PortalErrorCode, UndocumentedCode};
use b24_mock_portal::{ErrorRule, ExtraMethod, FaultKind, FaultRule, MockPortal, PortalConfig};
use b24_openlines::imopenlines::dialog_get::Request;
use b24_runtime::{Client, OAuthConfig, RetryPolicy};
use serde_json::{json, Map, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The webhook secret of the portals.
pub const WEBHOOK_SECRET: &str = "supersecretwebhookcode42";
/// The OAuth client's access token.
pub const ACCESS_TOKEN: &str = "accesstokenvalue77";
/// Its refresh token.
pub const REFRESH_TOKEN: &str = "refreshtokenvalue88";
/// The application's `client_secret`.
pub const CLIENT_SECRET: &str = "clientsecretvalue99";

/// A write method of the mock portal (`mock.counter.add`).
struct CounterAdd;

impl Method for CounterAdd {
    const NAME: &'static str = "mock.counter.add";
    const SCOPE: &'static str = "imopenlines";
    const KIND: MethodKind = MethodKind::Write;
    type Output = i64;
    type ErrorCode = UndocumentedCode;
    fn params(&self) -> Map<String, Value> {
        Map::new()
    }
}

fn two_quick_attempts() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 2,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

/// A proxy's 502 page echoing the request line it got.
fn echoing_proxy_page(head: &str) -> Vec<u8> {
    let line = head.lines().next().unwrap_or_default();
    let body = format!("<html><body><h1>502 Bad Gateway</h1><pre>{line}</pre></body></html>");
    format!(
        "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Runs the calls; returns the `Display` and `Debug` of every client and error.
pub async fn leaky_calls() -> Vec<String> {
    let mut texts = Vec::new();
    let mut note = |e: &dyn std::fmt::Debug, d: String| texts.push(format!("{d} {e:?}"));

    // The local portal: proxy pages, a dropped answer to a write, a 503, a wrong secret.
    let portal = MockPortal::start(PortalConfig {
        webhook_secret: WEBHOOK_SECRET.into(),
        ..PortalConfig::default()
            .with_extra_method(ExtraMethod::counter("mock.counter.add"))
            .with_fault(FaultRule::new(None, FaultKind::BadGatewayHtml).max_count(2))
            .with_fault(
                FaultRule::new(Some("mock.counter.add"), FaultKind::DropConnection)
                    .after_execution()
                    .max_count(1),
            )
            .with_error_rule(
                ErrorRule::new("imopenlines.dialog.get", "QUERY_LIMIT_EXCEEDED").times(1),
            )
    })
    .await
    .unwrap();
    let client = Client::builder_webhook(&portal.webhook_url())
        .retry(RetryPolicy {
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    note(&client, String::new());
    let r = client.call(&Request::chat_id(1777)).await.map(|d| d.id);
    note(&r, String::new());
    let e = client
        .call_raw("mock.counter.add", MethodKind::Write, Default::default())
        .await
        .unwrap_err();
    note(&e, e.to_string());
    let e = client.call(&Request::chat_id(999_999)).await.unwrap_err();
    note(&e, e.to_string());
    let wrong = Client::from_webhook(&format!(
        "{}rest/1/wrong-{WEBHOOK_SECRET}/",
        portal.base_url()
    ))
    .unwrap();
    let e = wrong.call(&Request::chat_id(1)).await.unwrap_err();
    assert!(e.is_portal(PortalErrorCode::NoAuthFound));
    note(&e, format!("{e} {wrong:?}"));

    // A proxy whose 502 page echoes the request line: a read (retried), a write and a
    // batch with a write (not replayed).
    let proxy = b24_tests::raw_http_echo(echoing_proxy_page).await.unwrap();
    let client = Client::builder_webhook(&format!("http://{proxy}/rest/1/{WEBHOOK_SECRET}/"))
        .retry(two_quick_attempts())
        .build()
        .unwrap();
    let e = client.call(&Request::chat_id(1)).await.unwrap_err();
    assert!(
        matches!(&e, Error::UnexpectedResponse { excerpt, .. } if excerpt.contains("POST /rest/1/***/")),
        "the page echoes the request line: {e:?}"
    );
    note(&e, e.to_string());
    let e = client
        .call_raw("mock.counter.add", MethodKind::Write, Default::default())
        .await
        .unwrap_err();
    note(&e, e.to_string());
    for r in client.many([CounterAdd]).await {
        note(
            &r,
            r.as_ref()
                .map_err(ToString::to_string)
                .err()
                .unwrap_or_default(),
        );
    }

    // OAuth: a 500 whose description names the token (a read, retried), and an expired
    // token whose refresh is refused with a description naming the refresh token and the
    // application's secret.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/imopenlines.dialog.get.json"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({
            "error": "INTERNAL_SERVER_ERROR",
            "error_description": format!("failed for auth={ACCESS_TOKEN}")
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/batch.json"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "expired_token",
            "error_description": format!("The access token provided ({ACCESS_TOKEN}) has expired")
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/oauth/token/"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description":
                format!("refresh_token {REFRESH_TOKEN} of client secret {CLIENT_SECRET} is invalid")
        })))
        .mount(&server)
        .await;
    let client = Client::builder_oauth(&server.uri(), ACCESS_TOKEN)
        .retry(two_quick_attempts())
        .refresh(
            REFRESH_TOKEN,
            OAuthConfig::new("app.1", CLIENT_SECRET)
                .with_token_endpoint(format!("{}/oauth/token/", server.uri()).parse().unwrap()),
        )
        .build()
        .unwrap();
    note(&client, String::new());
    let e = client.call(&Request::chat_id(1)).await.unwrap_err();
    assert!(e.is_portal(PortalErrorCode::InternalServerError), "{e:?}");
    note(&e, e.to_string());
    for r in client.many([CounterAdd]).await {
        assert!(matches!(r, Err(Error::NotExecuted { .. })), "{r:?}");
        note(
            &r,
            r.as_ref()
                .map_err(ToString::to_string)
                .err()
                .unwrap_or_default(),
        );
    }
    texts
}

/// The log shows the retries, the write not replayed and the failed refresh, and neither it
/// nor any text holds a secret.
pub fn assert_logged_without_secrets(texts: &[String], log: &str) {
    for expected in [
        "retrying",
        "write not replayed",
        "token refresh failed",
        "/rest/1/***/",
    ] {
        assert!(log.contains(expected), "`{expected}` is logged:\n{log}");
    }
    for text in texts.iter().map(String::as_str).chain([log]) {
        for secret in [WEBHOOK_SECRET, ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
}
