//! Helpers shared by the integration tests: raw HTTP calls over loopback.
#![allow(dead_code)]

use serde_json::Value;

/// Status, decoded JSON (Null when the body is not JSON) and raw body.
pub struct Answer {
    pub status: u16,
    pub json: Value,
    pub raw: String,
    pub content_type: String,
}

async fn finish(r: reqwest::Response) -> Answer {
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let raw = r.text().await.expect("body");
    let json = serde_json::from_str(&raw).unwrap_or(Value::Null);
    Answer {
        status,
        json,
        raw,
        content_type,
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().build().expect("client")
}

pub async fn get(url: &str) -> Answer {
    finish(http().get(url).send().await.expect("send")).await
}

pub async fn post_json(url: &str, body: &Value) -> Answer {
    finish(
        http()
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("send"),
    )
    .await
}

pub async fn post_form(url: &str, body: &str) -> Answer {
    finish(
        http()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
            .await
            .expect("send"),
    )
    .await
}

/// Checks an error body: status, code, message, and no `time`.
pub fn assert_error(a: &Answer, status: u16, code: &str, message: &str) {
    assert_eq!(a.status, status, "{}", a.raw);
    assert_eq!(a.json["error"], code, "{}", a.raw);
    assert_eq!(a.json["error_description"], message, "{}", a.raw);
    assert!(
        a.json.get("time").is_none(),
        "error bodies have no time: {}",
        a.raw
    );
}

pub const ACCESS: &str = "You do not have access to the specified dialog";

/// A client of the workspace's own crate that shows exactly what the portal answers: no
/// retries and no client-side bucket (those belong to the runtime's own tests).
pub fn raw_client(webhook_url: &str) -> b24_openlines::Client {
    b24_openlines::Client::from(
        b24_runtime::Client::builder_webhook(webhook_url)
            .retry(b24_runtime::RetryPolicy::none())
            .rate_limit(None)
            .build()
            .expect("the portal's webhook URL is valid"),
    )
}
