//! Auth like the portal: webhook paths, OAuth tokens in `auth`, `access_token` or
//! `Authorization: Bearer`, expiry and scopes (403 by the docs, 401 by the server code).

mod common;

use b24_mock_portal::{MockPortal, OAuthToken, PortalConfig};
use b24_openlines::imopenlines::dialog_get::Request;
use b24_openlines::{ApiErrorCode, Client, Error, PortalErrorCode};
use common::{assert_error, get, post_json};
use serde_json::json;

const SCOPE_MSG: &str = "The request requires higher privileges than provided by the webhook token";

fn config() -> PortalConfig {
    PortalConfig::default()
        .with_token(OAuthToken::new("good-token", &["imopenlines"]))
        .with_token(OAuthToken::new("crm-only", &["crm"]))
        .with_token(OAuthToken::new("old-token", &["imopenlines"]).expired())
}

#[tokio::test]
async fn webhook_secret_and_user_must_match() {
    let portal = MockPortal::start(config()).await.unwrap();
    let base = portal.base_url();
    let ok = get(&format!(
        "{base}rest/1/{}/imopenlines.dialog.get?CHAT_ID=1777",
        b24_mock_portal::DEFAULT_WEBHOOK_SECRET
    ))
    .await;
    assert_eq!(ok.status, 200);
    for path in [
        "rest/1/wrongsecret/imopenlines.dialog.get.json?CHAT_ID=1777".to_string(),
        format!(
            "rest/2/{}/imopenlines.dialog.get?CHAT_ID=1777",
            b24_mock_portal::DEFAULT_WEBHOOK_SECRET
        ),
    ] {
        let a = get(&format!("{base}{path}")).await;
        assert_error(&a, 401, "NO_AUTH_FOUND", "Wrong authorization data");
    }
    // Configurable webhook user and secret.
    let cfg = PortalConfig {
        webhook_user: "27".into(),
        webhook_secret: "abc123".into(),
        ..PortalConfig::default()
    };
    let portal = MockPortal::start(cfg).await.unwrap();
    assert!(portal.webhook_url().ends_with("/rest/27/abc123/"));
    let client = common::raw_client(&portal.webhook_url());
    assert_eq!(
        client.dialog_get(Request::chat_id(1777)).await.unwrap().id,
        1777
    );
}

#[tokio::test]
async fn oauth_token_in_each_place() {
    let portal = MockPortal::start(config()).await.unwrap();
    let m = format!("{}rest/imopenlines.dialog.get.json", portal.base_url());
    assert_eq!(
        get(&format!("{m}?CHAT_ID=1777&auth=good-token"))
            .await
            .status,
        200
    );
    assert_eq!(
        get(&format!("{m}?CHAT_ID=1777&access_token=good-token"))
            .await
            .status,
        200
    );
    let a = post_json(&m, &json!({"CHAT_ID": 1777, "auth": "good-token"})).await;
    assert_eq!(a.status, 200, "{}", a.raw);
    let r = common::http()
        .post(&m)
        .bearer_auth("good-token")
        .json(&json!({"CHAT_ID": 1777}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The typed client's OAuth mode.
    let client = Client::from_oauth(&portal.base_url(), "good-token").unwrap();
    assert_eq!(
        client
            .dialog_get(Request::dialog_id("chat1777"))
            .await
            .unwrap()
            .id,
        1777
    );
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let portal = MockPortal::start(config()).await.unwrap();
    let m = format!("{}rest/imopenlines.dialog.get", portal.base_url());
    let a = get(&format!("{m}?CHAT_ID=1777")).await;
    assert_error(&a, 401, "NO_AUTH_FOUND", "Wrong authorization data");
    let a = get(&format!("{m}?CHAT_ID=1777&auth=nope")).await;
    assert_error(&a, 401, "NO_AUTH_FOUND", "Wrong authorization data");
    let a = get(&format!("{m}?CHAT_ID=1777&auth=old-token")).await;
    assert_error(
        &a,
        401,
        "expired_token",
        "The access token provided has expired",
    );
    let a = get(&format!("{m}?CHAT_ID=1777&auth=crm-only")).await;
    assert_error(&a, 403, "insufficient_scope", SCOPE_MSG);
    // The typed client classifies them.
    let client = Client::from_oauth(&portal.base_url(), "old-token").unwrap();
    match client.dialog_get(Request::chat_id(1777)).await {
        Err(Error::Api { error, .. }) => {
            assert_eq!(
                error.code,
                ApiErrorCode::Portal(PortalErrorCode::ExpiredToken)
            );
        }
        other => panic!("{other:?}"),
    }
    // Refused calls never ran.
    assert_eq!(portal.counters().executed("imopenlines.dialog.get"), 0);
}

#[tokio::test]
async fn insufficient_scope_status_is_configurable() {
    let mut cfg = config();
    cfg.insufficient_scope_status = 401;
    let portal = MockPortal::start(cfg).await.unwrap();
    let a = get(&format!(
        "{}rest/imopenlines.dialog.get?CHAT_ID=1777&auth=crm-only",
        portal.base_url()
    ))
    .await;
    assert_error(&a, 401, "insufficient_scope", SCOPE_MSG);
    let client = Client::from_oauth(&portal.base_url(), "crm-only").unwrap();
    match client.dialog_get(Request::chat_id(1777)).await {
        Err(Error::Api { error, .. }) => {
            assert_eq!(error.status, 401);
            assert_eq!(
                error.code,
                ApiErrorCode::Portal(PortalErrorCode::InsufficientScope)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn webhook_scopes_limit_methods() {
    let cfg = PortalConfig {
        webhook_scopes: Some(vec!["crm".into()]),
        ..PortalConfig::default()
    };
    let portal = MockPortal::start(cfg).await.unwrap();
    let a = get(&format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777",
        portal.webhook_url()
    ))
    .await;
    assert_error(&a, 403, "insufficient_scope", SCOPE_MSG);
    // Inside a batch the same check fails the command, not the batch.
    let a = post_json(
        &format!("{}batch", portal.webhook_url()),
        &json!({"cmd": {"d": "imopenlines.dialog.get?CHAT_ID=1777"}}),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.json["result"]["result_error"]["d"]["error"],
        "insufficient_scope"
    );
}

#[tokio::test]
async fn webhooks_over_plain_http_can_require_https() {
    let cfg = PortalConfig {
        require_https: true,
        ..config()
    };
    let portal = MockPortal::start(cfg).await.unwrap();
    let a = get(&format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777",
        portal.webhook_url()
    ))
    .await;
    assert_error(&a, 400, "INVALID_REQUEST", "Https required.");
    // OAuth calls are not affected; TLS portals accept webhooks.
    let a = get(&format!(
        "{}rest/imopenlines.dialog.get?CHAT_ID=1777&auth=good-token",
        portal.base_url()
    ))
    .await;
    assert_eq!(a.status, 200);
    let tls = MockPortal::start(PortalConfig {
        require_https: true,
        tls: true,
        ..config()
    })
    .await
    .unwrap();
    let runtime = b24_runtime::Client::builder_webhook(&tls.webhook_url())
        .add_root_certificate_pem(tls.ca_pem().unwrap().as_bytes().to_vec())
        .build()
        .unwrap();
    assert!(Client::from(runtime)
        .dialog_get(Request::chat_id(1777))
        .await
        .is_ok());
}

/// A method file in the `test` scope; `auth_line` goes after `kind`.
fn auth_spec(method: &str, auth_line: &str) -> String {
    format!(
        "method = \"{method}\"\nscope = \"test\"\nsummary = \"s\"\n\
         docs = \"https://example.invalid\"\nkind = \"read\"\n{auth_line}\n\
         [result]\ntype = \"boolean\"\ndescription = \"r\"\n\n\
         [[errors]]\ncode = \"WRONG_AUTH_TYPE\"\nstatus = 403\n\
         message = \"Only applications, says the spec\"\ndescription = \"d\"\n"
    )
}

#[tokio::test]
async fn the_specs_auth_key_decides_whether_a_webhook_is_refused() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("auth-key-specs");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("test")).unwrap();
    std::fs::write(
        dir.join("test/open.get.toml"),
        auth_spec("test.open.get", ""),
    )
    .unwrap();
    std::fs::write(
        dir.join("test/closed.get.toml"),
        auth_spec("test.closed.get", "auth = \"application\""),
    )
    .unwrap();
    let app = "local.app.1";
    let portal = MockPortal::start(
        PortalConfig {
            spec_dir: Some(dir),
            ..PortalConfig::default()
        }
        .with_app(b24_mock_portal::OAuthApp::new(
            app,
            "secret-of-the-test-app",
        ))
        .with_token(OAuthToken::new("app-token", &["test"]).for_app(app))
        .with_token(OAuthToken::new("no-app-token", &["test"])),
    )
    .await
    .unwrap();
    let hook = portal.webhook_url();
    let rest = format!("{}rest/", portal.base_url());
    // Without the key, a webhook (and a token of no application) may call the method.
    let a = get(&format!("{hook}test.open.get")).await;
    assert_eq!(
        (a.status, &a.json["result"]),
        (200, &json!(true)),
        "{}",
        a.raw
    );
    let a = get(&format!("{rest}test.open.get?auth=no-app-token")).await;
    assert_eq!(a.status, 200, "{}", a.raw);
    // With `auth = "application"`, both get the spec's own WRONG_AUTH_TYPE answer...
    for url in [
        format!("{hook}test.closed.get"),
        format!("{rest}test.closed.get?auth=no-app-token"),
    ] {
        let a = get(&url).await;
        assert_error(
            &a,
            403,
            "WRONG_AUTH_TYPE",
            "Only applications, says the spec",
        );
    }
    // ...and an application's token passes.
    let a = get(&format!("{rest}test.closed.get?auth=app-token")).await;
    assert_eq!(
        (a.status, &a.json["result"]),
        (200, &json!(true)),
        "{}",
        a.raw
    );
}
