//! What a crate that depends on `b24-openlines` alone can configure: the facade's builders
//! carry every setting to the client they build (the README compiles against them, see
//! `tests/downstream/run.sh`).

use std::time::Duration;

use b24_mock_portal::{MockPortal, PortalConfig};
use b24_openlines::imopenlines::dialog_get::Request;
use b24_openlines::{Client, ClientBuilder, RateLimit, RetryPolicy};

#[tokio::test]
async fn webhook_builder_builds_the_facade_with_its_settings() {
    let portal = MockPortal::start(PortalConfig::default())
        .await
        .expect("portal starts");
    let builder: ClientBuilder = Client::builder_webhook(&portal.webhook_url())
        .rate_limit(Some(RateLimit::ENTERPRISE))
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(5));
    let client: Client = builder.build().expect("valid webhook");
    let bucket = client.bucket().expect("a rate limit was set");
    assert_eq!(bucket.limit(), RateLimit::ENTERPRISE);
    let dialog = client
        .dialog_get(Request::chat_id(1777))
        .await
        .expect("the local portal knows chat 1777");
    assert_eq!(dialog.id, 1777);

    let unlimited = Client::builder_webhook(&portal.webhook_url())
        .rate_limit(None)
        .build()
        .expect("valid webhook");
    assert!(unlimited.bucket().is_none());
}

#[tokio::test]
async fn oauth_builder_builds_the_facade_and_keeps_the_token_secret() {
    let client = Client::builder_oauth("https://example.bitrix24.ru/", "very-secret-access")
        .build()
        .expect("valid portal");
    assert_eq!(client.portal().as_str(), "https://example.bitrix24.ru/");
    let tokens = client.oauth_tokens().expect("an OAuth client");
    assert_eq!(tokens.access_token.expose(), "very-secret-access");
    assert!(!format!("{client:?}").contains("very-secret-access"));
}

#[test]
fn builder_errors_are_typed_and_never_echo_the_secret() {
    let err = Client::builder_webhook("http://example.bitrix24.ru/rest/1/topsecret/")
        .build()
        .expect_err("plain http to a public host");
    assert!(matches!(
        err,
        b24_openlines::ConfigError::HttpsRequired { .. }
    ));
    assert!(!err.to_string().contains("topsecret"));
}
