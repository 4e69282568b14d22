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

/// An application's handler on loopback: it records every POST (path and body) and answers
/// 200, or waits for [`Receiver::release`] first when built with [`Receiver::start_held`].
#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    posts: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
    arrived: std::sync::Arc<tokio::sync::Notify>,
    gate: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        Self::with_gate(tokio::sync::Semaphore::MAX_PERMITS).await
    }

    /// Every POST waits for a [`Receiver::release`] before it is answered.
    pub async fn start_held() -> Receiver {
        Self::with_gate(0).await
    }

    async fn with_gate(permits: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let r = Receiver {
            base,
            posts: Default::default(),
            arrived: Default::default(),
            gate: std::sync::Arc::new(tokio::sync::Semaphore::new(permits)),
        };
        let state = r.clone();
        let app = axum::Router::new()
            .fallback(axum::routing::post(
                |axum::extract::State(s): axum::extract::State<Receiver>,
                 uri: axum::http::Uri,
                 body: String| async move {
                    s.posts.lock().unwrap().push((uri.path().to_string(), body));
                    s.arrived.notify_waiters();
                    if let Ok(permit) = s.gate.acquire().await {
                        permit.forget();
                    }
                    axum::http::StatusCode::OK
                },
            ))
            .with_state(state);
        tokio::spawn(async move { axum::serve(listener, app).await });
        r
    }

    /// `http://127.0.0.1:PORT<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The POSTs so far: (path, body).
    pub fn posts(&self) -> Vec<(String, String)> {
        self.posts.lock().unwrap().clone()
    }

    /// Waits until at least `n` POSTs have arrived (answered or not).
    pub async fn wait(&self, n: usize) -> Vec<(String, String)> {
        loop {
            let notified = self.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let posts = self.posts();
            if posts.len() >= n {
                return posts;
            }
            notified.await;
        }
    }

    /// Lets one held POST be answered.
    pub fn release(&self) {
        self.gate.add_permits(1);
    }
}

/// An OAuth client of `pair` on `portal` (no retries, no client bucket).
pub fn app_client(pair: &b24_mock_portal::TokenPair) -> b24_openlines::Client {
    b24_openlines::Client::from(
        b24_runtime::Client::builder_oauth(
            pair.client_endpoint.trim_end_matches("rest/"),
            pair.access_token.clone(),
        )
        .retry(b24_runtime::RetryPolicy::none())
        .rate_limit(None)
        .build()
        .expect("an OAuth client"),
    )
}

/// The form body of an event as PHP would read it (`$_POST`).
pub fn form(body: &str) -> serde_json::Value {
    serde_json::Value::Object(b24_core::php::parse_query(body))
}
