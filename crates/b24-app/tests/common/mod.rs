//! Helpers of the end-to-end tests: a local portal with the application configured, the
//! application's router served on loopback, the install POST the portal sends.
#![allow(dead_code)]

use b24_mock_portal::{MockPortal, OAuthApp, PortalConfig};

pub const ID: &str = "app.6651f00dcafe01.12345678";
pub const SECRET: &str = "app-secret-0123456789abcdef0123456789abcdef";

/// A portal that knows the application.
pub async fn portal() -> MockPortal {
    MockPortal::start(PortalConfig::default().with_app(OAuthApp::new(ID, SECRET)))
        .await
        .unwrap()
}

/// Serves `router` under `/b24` on loopback; the base URL (`http://127.0.0.1:PORT/b24`).
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = axum::Router::new().nest("/b24", router);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}/b24")
}

/// A listener bound now (so its URL is known before the app is built) and served later.
pub async fn reserve() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, format!("http://{addr}/b24"))
}

/// Serves `router` under `/b24` on a reserved listener.
pub fn serve_on(listener: tokio::net::TcpListener, router: axum::Router) {
    let router = axum::Router::new().nest("/b24", router);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
}

/// POSTs a form body; the status.
pub async fn post(url: &str, body: String) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The data of an operator's message to the connector's channel.
pub fn operator_message(line: i64, chat: &str, message_id: i64, text: &str) -> serde_json::Value {
    serde_json::json!({
        "CONNECTOR": "echo",
        "LINE": line,
        "MESSAGES": [{
            "im": {"chat_id": 1777, "message_id": message_id},
            "message": {"user_id": 1, "text": text},
            "chat": {"id": chat},
        }],
    })
}
