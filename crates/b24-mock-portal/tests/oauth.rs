//! The portal's token endpoint (`/oauth/token/`, as `oauth.bitrix.info`): refresh-token
//! rotation, its errors, access tokens expired on demand, and `b24_runtime`'s OAuth refresh
//! against it.

mod common;

use b24_mock_portal::{MockPortal, OAuthApp, PortalConfig, TokenPair};
use b24_openlines::imopenlines::dialog_get::Request;
use b24_openlines::{Error, OAuthConfig, TokenRefreshError};
use common::{assert_error, get};
use serde_json::Value;

const ID: &str = "local.6651f00dcafe01.12345678";
const SECRET: &str = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3t00";

async fn portal() -> MockPortal {
    MockPortal::start(PortalConfig::default().with_app(OAuthApp::new(ID, SECRET)))
        .await
        .expect("the portal starts")
}

/// `GET /oauth/token/?grant_type=refresh_token&...` as the docs show it.
async fn refresh(
    portal: &MockPortal,
    client_id: &str,
    secret: &str,
    token: &str,
) -> common::Answer {
    let url = url::Url::parse_with_params(
        &portal.token_endpoint(),
        [
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("client_secret", secret),
            ("refresh_token", token),
        ],
    )
    .expect("a valid URL");
    get(url.as_str()).await
}

async fn dialog_get_status(portal: &MockPortal, token: &str) -> common::Answer {
    get(&format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777&auth={token}",
        portal.client_endpoint()
    ))
    .await
}

#[tokio::test]
async fn a_refresh_token_is_exchanged_once_for_a_new_pair() {
    let portal = portal().await;
    let first: TokenPair = portal.issue_tokens(ID).expect("a configured app");
    assert_eq!(
        dialog_get_status(&portal, &first.access_token).await.status,
        200
    );

    let a = refresh(&portal, ID, SECRET, &first.refresh_token).await;
    assert_eq!(a.status, 200, "{}", a.raw);
    let j = &a.json;
    let access = j["access_token"].as_str().expect("access_token");
    let rotated = j["refresh_token"].as_str().expect("refresh_token");
    assert_ne!(access, first.access_token);
    assert_ne!(rotated, first.refresh_token);
    assert_eq!(j["expires_in"], 3600);
    assert!(j["expires"].as_u64().expect("expires") > 1_700_000_000);
    assert_eq!(j["member_id"], portal.member_id());
    assert_eq!(j["domain"], portal.domain());
    assert_eq!(j["client_endpoint"], portal.client_endpoint().as_str());
    assert_eq!(j["server_endpoint"], portal.server_endpoint().as_str());
    assert_eq!(j["scope"], "imopenlines,imconnector,im");
    assert_eq!(j["status"], "L");
    assert_eq!(j["user_id"], 1);
    // PHP writes `/` as `\/`.
    assert!(
        a.raw.contains(r#"127.0.0.1:"#) && a.raw.contains(r#"\/rest\/"#),
        "{}",
        a.raw
    );

    // The new access token works; so does the old one until it expires.
    assert_eq!(dialog_get_status(&portal, access).await.status, 200);
    assert_eq!(
        dialog_get_status(&portal, &first.access_token).await.status,
        200
    );

    // The spent refresh token is refused; the rotated one works once.
    let again = refresh(&portal, ID, SECRET, &first.refresh_token).await;
    assert_eq!(again.status, 400, "{}", again.raw);
    assert_eq!(again.json["error"], "invalid_grant");
    assert_eq!(refresh(&portal, ID, SECRET, rotated).await.status, 200);

    let c = portal.counters();
    assert_eq!((c.token_requests, c.tokens_refreshed), (3, 2));
    assert_eq!(c.requests, 3, "token requests are not REST requests");
    assert_eq!(c.to_json()["token_requests"], 3);
}

#[tokio::test]
async fn the_token_endpoint_refuses_bad_clients_and_requests() {
    let portal = portal().await;
    let pair = portal.issue_tokens(ID).expect("a configured app");
    // Wrong secret, unknown client: `invalid_client`; the refresh token is not spent.
    for (id, secret) in [(ID, "wrong"), ("local.unknown", SECRET), (ID, "")] {
        let a = refresh(&portal, id, secret, &pair.refresh_token).await;
        assert_eq!(
            (a.status, a.json["error"].clone()),
            (401, Value::from("invalid_client")),
            "{}",
            a.raw
        );
    }
    // Another application's refresh token is not this one's.
    let other = MockPortal::start(
        PortalConfig::default()
            .with_app(OAuthApp::new(ID, SECRET))
            .with_app(OAuthApp::new("local.other", "other-secret")),
    )
    .await
    .unwrap();
    let theirs = other.issue_tokens("local.other").unwrap();
    assert_eq!(
        refresh(&other, ID, SECRET, &theirs.refresh_token)
            .await
            .json["error"],
        "invalid_grant"
    );
    // Missing grant type or client: `invalid_request`; another grant type too.
    let a = get(&format!("{}?client_id={ID}", portal.token_endpoint())).await;
    assert_eq!(
        (a.status, a.json["error"].clone()),
        (400, Value::from("invalid_request"))
    );
    let a = get(&format!(
        "{}?grant_type=password&client_id={ID}&client_secret={SECRET}",
        portal.token_endpoint()
    ))
    .await;
    assert_eq!(a.json["error"], "invalid_request");
    // A form POST works as well as the docs' GET.
    let a = common::post_form(
        &portal.token_endpoint(),
        &format!(
            "grant_type=refresh_token&client_id={ID}&client_secret={SECRET}&refresh_token={}",
            pair.refresh_token
        ),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.raw);
    // A forced error (an unpaid application).
    portal.set_token_endpoint_error(Some("PAYMENT_REQUIRED"));
    let rotated = a.json["refresh_token"].as_str().unwrap().to_string();
    let a = refresh(&portal, ID, SECRET, &rotated).await;
    assert_eq!(a.json["error"], "PAYMENT_REQUIRED");
    assert_eq!(a.json["error_description"], "Payment required");
    portal.set_token_endpoint_error(None);
    assert_eq!(refresh(&portal, ID, SECRET, &rotated).await.status, 200);
    // Three bad clients, two bad requests, the POST, the forced error and the retry.
    assert_eq!(portal.counters().token_requests, 8);
}

#[tokio::test]
async fn access_tokens_expire_on_demand() {
    let portal = MockPortal::start(PortalConfig {
        admin_endpoints: true,
        ..PortalConfig::default().with_app(OAuthApp::new(ID, SECRET))
    })
    .await
    .unwrap();
    let a = portal.issue_tokens(ID).unwrap();
    let b = portal.issue_tokens(ID).unwrap();
    assert!(portal.expire_access_token(&a.access_token));
    assert!(!portal.expire_access_token("not-a-token"));
    assert_error(
        &dialog_get_status(&portal, &a.access_token).await,
        401,
        "expired_token",
        "The access token provided has expired",
    );
    assert_eq!(
        dialog_get_status(&portal, &b.access_token).await.status,
        200
    );

    // The admin endpoint expires them all (and wants the admin header).
    let url = format!("{}__mock/expire_tokens", portal.base_url());
    let refused = common::http().post(&url).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let ok = common::http()
        .post(&url)
        .header("X-B24-Mock-Admin", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap()["result"], 2);
    assert_eq!(
        dialog_get_status(&portal, &b.access_token).await.json["error"],
        "expired_token"
    );

    // A refresh gives a working pair again.
    let fresh = refresh(&portal, ID, SECRET, &b.refresh_token).await;
    let token = fresh.json["access_token"].as_str().unwrap();
    assert_eq!(dialog_get_status(&portal, token).await.status, 200);
    // And the reset forgets every issued token.
    portal.reset();
    assert_eq!(
        dialog_get_status(&portal, token).await.json["error"],
        "NO_AUTH_FOUND"
    );
}

fn oauth_client(portal: &MockPortal, pair: &TokenPair, secret: &str) -> b24_openlines::Client {
    let endpoint = url::Url::parse(&portal.token_endpoint()).unwrap();
    b24_openlines::Client::builder_oauth(&portal.base_url(), pair.access_token.clone())
        .refresh(
            pair.refresh_token.clone(),
            OAuthConfig::new(ID, secret).with_token_endpoint(endpoint),
        )
        .retry(b24_openlines::RetryPolicy::none())
        .rate_limit(None)
        .build()
        .expect("an OAuth client")
}

#[tokio::test]
async fn the_runtime_refreshes_an_expired_token_once_for_all_callers() {
    let portal = portal().await;
    let pair = portal.issue_tokens(ID).unwrap();
    let client = oauth_client(&portal, &pair, SECRET);
    assert_eq!(
        client.dialog_get(Request::chat_id(1777)).await.unwrap().id,
        1777
    );
    assert_eq!(portal.counters().token_requests, 0);

    portal.expire_access_tokens();
    // Eight calls at once meet the expired token: exactly one refresh reaches the endpoint.
    let calls = (0..8).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.dialog_get(Request::chat_id(1777)).await })
    });
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().id, 1777);
    }
    let c = portal.counters();
    assert_eq!((c.token_requests, c.tokens_refreshed), (1, 1));
    let now = client.oauth_tokens().expect("an OAuth client");
    assert_ne!(now.access_token.expose(), pair.access_token);
    assert_ne!(now.refresh_token.expose(), pair.refresh_token);
    // The client's old refresh token was spent by that refresh.
    assert_eq!(
        refresh(&portal, ID, SECRET, &pair.refresh_token).await.json["error"],
        "invalid_grant"
    );
}

#[tokio::test]
async fn a_refused_refresh_reaches_the_caller_typed() {
    let portal = portal().await;
    let pair = portal.issue_tokens(ID).unwrap();
    portal.expire_access_tokens();
    let wrong_secret = oauth_client(&portal, &pair, "not-the-secret");
    match wrong_secret.dialog_get(Request::chat_id(1777)).await {
        Err(Error::TokenRefresh {
            reason: TokenRefreshError::InvalidClient { .. },
            ..
        }) => {}
        other => panic!("expected invalid_client, got {other:?}"),
    }
    portal.set_token_endpoint_error(Some("PAYMENT_REQUIRED"));
    let client = oauth_client(&portal, &pair, SECRET);
    match client.dialog_get(Request::chat_id(1777)).await {
        Err(Error::TokenRefresh {
            reason: TokenRefreshError::PaymentRequired { .. },
            ..
        }) => {}
        other => panic!("expected PAYMENT_REQUIRED, got {other:?}"),
    }
    assert_eq!(portal.counters().token_requests, 2);
}

#[tokio::test]
async fn two_portals_are_told_apart() {
    let a = portal().await;
    let b = portal().await;
    assert_ne!(a.member_id(), b.member_id());
    assert_ne!(a.domain(), b.domain());
    assert_eq!(a.member_id().len(), 32);
    let (ta, tb) = (a.issue_tokens(ID).unwrap(), b.issue_tokens(ID).unwrap());
    assert_ne!(ta.access_token, tb.access_token);
    assert_eq!(ta.member_id, a.member_id());
    // A token of one portal means nothing to the other.
    assert_eq!(
        dialog_get_status(&b, &ta.access_token).await.json["error"],
        "NO_AUTH_FOUND"
    );
    // Nor does the other portal's refresh token.
    assert_eq!(
        refresh(&b, ID, SECRET, &ta.refresh_token).await.json["error"],
        "invalid_grant"
    );
    assert!(a.application_token(ID).is_some());
    assert_ne!(a.application_token(ID), b.application_token(ID));
    // `Debug` shows no token.
    let shown = format!("{ta:?}");
    assert!(
        !shown.contains(&ta.access_token) && !shown.contains(&ta.refresh_token),
        "{shown}"
    );
    let app = format!("{:?}", OAuthApp::new(ID, SECRET));
    assert!(!app.contains(SECRET), "{app}");
}
