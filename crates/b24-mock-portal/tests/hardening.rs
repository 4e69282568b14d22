//! The portal as a server others run: secrets stay out of `Debug`, counters stay bounded,
//! validation errors stay short, bodies and connections are limited, slow clients are dropped,
//! the admin endpoints refuse cross-site requests.

mod common;

use b24_mock_portal::{MockPortal, OAuthToken, PortalConfig, UNKNOWN_METHOD};

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
