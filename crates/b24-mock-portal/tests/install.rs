//! Installing an application the way the portal does: the installation callback's
//! `ONAPPINSTALL` POST (or the install page's `AUTH_ID`/`REFRESH_ID` POST), fresh tokens and
//! application token per install, and `ONAPPUNINSTALL` with everything of the application
//! gone after it.

mod common;

use std::time::Duration;

use b24_mock_portal::{AppError, MockPortal, OAuthApp, PortalConfig};
use b24_openlines::event::bind;
use common::{app_client, form, get, Receiver};
use serde_json::json;

const ID: &str = "local.installed.app";
const SECRET: &str = "install-secret";
const WAIT: Duration = Duration::from_secs(20);

async fn portal() -> MockPortal {
    MockPortal::start(PortalConfig::default().with_app(OAuthApp::new(ID, SECRET).with_status("F")))
        .await
        .expect("the portal starts")
}

async fn rest_status(portal: &MockPortal, token: &str) -> String {
    let a = get(&format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777&auth={token}",
        portal.client_endpoint()
    ))
    .await;
    if a.status == 200 {
        "ok".into()
    } else {
        a.json["error"].as_str().unwrap_or_default().to_string()
    }
}

async fn refresh(portal: &MockPortal, token: &str) -> serde_json::Value {
    get(&format!(
        "{}?grant_type=refresh_token&client_id={ID}&client_secret={SECRET}&refresh_token={token}",
        portal.token_endpoint()
    ))
    .await
    .json
}

#[tokio::test]
async fn the_installation_callback_gets_onappinstall_with_both_tokens() {
    let portal = portal().await;
    assert!(!portal.is_installed(ID));
    let rx = Receiver::start().await;
    let installed = portal.install_app(ID, &rx.url("/install")).await.unwrap();
    assert_eq!(installed.handler, Ok(200));
    assert!(portal.is_installed(ID));
    assert_eq!(
        portal.application_token(ID).as_deref(),
        Some(installed.application_token.as_str())
    );

    let posts = rx.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].0, "/install");
    let f = form(&posts[0].1);
    assert_eq!(f["event"], "ONAPPINSTALL");
    assert_eq!(
        f["data"],
        json!({"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": "en"})
    );
    let auth = &f["auth"];
    assert_eq!(auth["access_token"], installed.tokens.access_token.as_str());
    assert_eq!(
        auth["refresh_token"],
        installed.tokens.refresh_token.as_str()
    );
    assert_eq!(
        auth["application_token"],
        installed.application_token.as_str()
    );
    assert_eq!(auth["member_id"], portal.member_id());
    assert_eq!(auth["domain"], portal.domain());
    assert_eq!(auth["client_endpoint"], portal.client_endpoint().as_str());
    assert_eq!(auth["server_endpoint"], portal.server_endpoint().as_str());
    assert_eq!(
        (
            auth["expires_in"].clone(),
            auth["status"].clone(),
            auth["user_id"].clone()
        ),
        (json!("3600"), json!("F"), json!("1"))
    );
    assert_eq!(auth["scope"], "imopenlines,imconnector,im");
    assert!(auth["expires"].as_str().unwrap().parse::<u64>().unwrap() > 1_700_000_000);
    // Both tokens work: the access token for calls, the refresh token at the token endpoint.
    assert_eq!(
        rest_status(&portal, &installed.tokens.access_token).await,
        "ok"
    );
    let renewed = refresh(&portal, &installed.tokens.refresh_token).await;
    assert_eq!(
        rest_status(&portal, renewed["access_token"].as_str().unwrap()).await,
        "ok"
    );
    // `Debug` shows no token.
    let shown = format!("{installed:?}");
    for secret in [
        &installed.tokens.access_token,
        &installed.tokens.refresh_token,
        &installed.application_token,
    ] {
        assert!(!shown.contains(secret.as_str()), "{shown}");
    }
}

#[tokio::test]
async fn the_install_page_gets_auth_id_and_refresh_id() {
    let portal = portal().await;
    let rx = Receiver::start().await;
    let installed = portal
        .install_app_page(ID, &rx.url("/app/install.php"))
        .await
        .unwrap();
    assert_eq!(installed.handler, Ok(200));
    let posts = rx.posts();
    let (path, body) = &posts[0];
    assert_eq!(path, "/app/install.php");
    let f = form(body);
    assert_eq!(f["AUTH_ID"], installed.tokens.access_token.as_str());
    assert_eq!(f["REFRESH_ID"], installed.tokens.refresh_token.as_str());
    assert_eq!(f["AUTH_EXPIRES"], "3600");
    assert_eq!(f["APPLICATION_TOKEN"], installed.application_token.as_str());
    assert_eq!(f["member_id"], portal.member_id());
    assert_eq!(
        (f["PLACEMENT"].clone(), f["status"].clone()),
        (json!("DEFAULT"), json!("F"))
    );
    assert_eq!(f["SERVER_ENDPOINT"], portal.server_endpoint().as_str());
    assert_eq!(
        rest_status(&portal, &installed.tokens.access_token).await,
        "ok"
    );
}

#[tokio::test]
async fn a_reinstall_issues_new_tokens_and_drops_the_old_ones() {
    let portal = portal().await;
    let rx = Receiver::start().await;
    let first = portal.install_app(ID, &rx.url("/install")).await.unwrap();
    let app = app_client(&first.tokens);
    assert!(app
        .event_bind(bind::Request::new("ONAPPTEST").handler(rx.url("/events")))
        .await
        .unwrap());
    let second = portal.install_app(ID, &rx.url("/install")).await.unwrap();
    assert_ne!(first.tokens.access_token, second.tokens.access_token);
    assert_ne!(first.tokens.refresh_token, second.tokens.refresh_token);
    assert_ne!(first.application_token, second.application_token);
    assert_eq!(
        rest_status(&portal, &first.tokens.access_token).await,
        "NO_AUTH_FOUND"
    );
    assert_eq!(
        refresh(&portal, &first.tokens.refresh_token).await["error"],
        "invalid_grant"
    );
    assert_eq!(
        rest_status(&portal, &second.tokens.access_token).await,
        "ok"
    );
    // The handlers of the old install are gone (the installer binds them again).
    assert!(portal.bindings(ID).is_empty());
    assert_eq!(portal.raise_event("ONAPPTEST", json!({})), 0);
    // An application the portal does not know cannot be installed.
    assert_eq!(
        portal
            .install_app("local.nobody", &rx.url("/x"))
            .await
            .err(),
        Some(AppError::UnknownApp("local.nobody".into()))
    );
    // An unreachable handler does not stop the install.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/install", l.local_addr().unwrap())
    };
    let third = portal.install_app(ID, &closed).await.unwrap();
    assert!(third.handler.is_err());
    assert_eq!(rest_status(&portal, &third.tokens.access_token).await, "ok");
}

#[tokio::test]
async fn uninstall_sends_onappuninstall_and_forgets_the_application() {
    let portal = portal().await;
    let rx = Receiver::start().await;
    let installed = portal.install_app(ID, &rx.url("/install")).await.unwrap();
    let app = app_client(&installed.tokens);
    for e in ["ONAPPUNINSTALL", "ONAPPTEST"] {
        assert!(app
            .event_bind(bind::Request::new(e).handler(rx.url("/events")))
            .await
            .unwrap());
    }
    assert!(app
        .event_bind(bind::Request::new("ONAPPTEST").event_type(bind::EventType::Offline))
        .await
        .unwrap());
    portal.raise_event("ONAPPTEST", json!({"n": 1}));
    tokio::time::timeout(WAIT, portal.wait_for_deliveries(1))
        .await
        .unwrap();

    let sent = portal.uninstall_app(ID, true).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(
        (sent[0].event.as_str(), &sent[0].outcome),
        ("ONAPPUNINSTALL", &Ok(200))
    );
    assert_eq!(portal.deliveries().len(), 2);
    let f = form(&rx.posts().last().unwrap().1);
    assert_eq!(f["event"], "ONAPPUNINSTALL");
    assert_eq!(f["data"], json!({"LANGUAGE_ID": "en", "CLEAN": "1"}));
    assert_eq!(
        f["auth"]["application_token"],
        installed.application_token.as_str()
    );
    assert_eq!(f["auth"]["member_id"], portal.member_id());
    assert!(f["auth"].get("access_token").is_none() && f["auth"].get("refresh_token").is_none());

    // Everything of the application is gone.
    assert!(!portal.is_installed(ID));
    assert!(portal.bindings(ID).is_empty());
    assert_eq!(portal.raise_event("ONAPPTEST", json!({"n": 2})), 0);
    assert_eq!(
        rest_status(&portal, &installed.tokens.access_token).await,
        "NO_AUTH_FOUND"
    );
    assert_eq!(
        refresh(&portal, &installed.tokens.refresh_token).await["error"],
        "invalid_grant"
    );
    assert_eq!(
        portal.uninstall_app(ID, false).await.err(),
        Some(AppError::NotInstalled(ID.into()))
    );
    // Installed again, it starts from nothing (the old queue is gone too).
    let again = portal.install_app(ID, &rx.url("/install")).await.unwrap();
    let app = app_client(&again.tokens);
    assert!(app
        .event_get(b24_openlines::event::get::Request::new())
        .await
        .unwrap()
        .is_empty());
    assert!(app
        .event_offline_list(b24_openlines::event::offline_list::Request::new())
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn two_portals_install_the_same_application_apart() {
    let (a, b) = (portal().await, portal().await);
    let rx = Receiver::start().await;
    let on_a = a.install_app(ID, &rx.url("/a")).await.unwrap();
    let on_b = b.install_app(ID, &rx.url("/b")).await.unwrap();
    assert_ne!(on_a.tokens.member_id, on_b.tokens.member_id);
    assert_ne!(on_a.tokens.domain, on_b.tokens.domain);
    assert_ne!(on_a.tokens.access_token, on_b.tokens.access_token);
    assert_ne!(on_a.application_token, on_b.application_token);
    let posts = rx.posts();
    let members: Vec<String> = posts
        .iter()
        .map(|(_, body)| {
            form(body)["auth"]["member_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(members.len(), 2);
    assert!(
        members.contains(&a.member_id().to_string())
            && members.contains(&b.member_id().to_string())
    );
    // Each portal's events carry its own identity and its own install's token.
    for (portal, installed, path) in [(&a, &on_a, "/ev-a"), (&b, &on_b, "/ev-b")] {
        let app = app_client(&installed.tokens);
        assert!(app
            .event_bind(bind::Request::new("ONAPPTEST").handler(rx.url(path)))
            .await
            .unwrap());
        portal.raise_event("ONAPPTEST", json!({}));
        tokio::time::timeout(WAIT, portal.wait_for_deliveries(1))
            .await
            .unwrap();
    }
    let events = rx.posts();
    assert_eq!(events.len(), 4);
    for (path, body) in &events[2..] {
        let (portal, installed) = if path == "/ev-a" {
            (&a, &on_a)
        } else {
            (&b, &on_b)
        };
        let f = form(body);
        assert_eq!(f["auth"]["member_id"], portal.member_id());
        assert_eq!(f["auth"]["domain"], portal.domain());
        assert_eq!(
            f["auth"]["application_token"],
            installed.application_token.as_str()
        );
    }
}
