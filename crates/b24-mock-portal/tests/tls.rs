//! HTTPS with a CA generated at start: the typed client trusts it and talks to the portal; a
//! client without it refuses.

mod common;

use b24_mock_portal::{MockPortal, PortalConfig};
use b24_openlines::imopenlines::dialog_get::{ErrorCode, Request};
use b24_openlines::{ApiErrorCode, Client, Error};

async fn tls_portal() -> MockPortal {
    MockPortal::start(PortalConfig {
        tls: true,
        ..PortalConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn typed_client_over_https_with_the_generated_ca() {
    let portal = tls_portal().await;
    assert!(portal.webhook_url().starts_with("https://127.0.0.1:"));
    let pem = portal.ca_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let runtime = b24_runtime::Client::builder_webhook(&portal.webhook_url())
        .add_root_certificate_pem(pem.as_bytes().to_vec())
        .build()
        .unwrap();
    let client = Client::from(runtime);
    let d = client
        .dialog_get(Request::user_code("livechat|1|1373|211"))
        .await
        .unwrap();
    assert_eq!(d.id, 1777);
    match client.dialog_get(Request::chat_id(5)).await {
        Err(Error::Api { error, .. }) => {
            assert_eq!(error.code, ApiErrorCode::Method(ErrorCode::AccessError))
        }
        other => panic!("{other:?}"),
    }
    // The certificate also names `localhost`.
    let localhost = portal.webhook_url().replace("127.0.0.1", "localhost");
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap())
        .resolve("localhost", portal.addr())
        .build()
        .unwrap();
    let r = http
        .get(format!("{localhost}imopenlines.dialog.get?CHAT_ID=1777"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_client_without_the_ca_refuses_the_certificate() {
    let portal = tls_portal().await;
    let client = common::raw_client(&portal.webhook_url());
    match client.dialog_get(Request::chat_id(1777)).await {
        Err(Error::Transport { .. }) => {}
        other => panic!("expected a TLS failure, got {other:?}"),
    }
    assert_eq!(portal.counters().requests, 0);
    // Each portal has its own CA.
    let other = tls_portal().await;
    assert_ne!(portal.ca_pem(), other.ca_pem());
    // Plain HTTP portals have none.
    let plain = MockPortal::start(PortalConfig::default()).await.unwrap();
    assert!(plain.ca_pem().is_none());
}
