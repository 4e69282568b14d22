//! End to end against two local portals: install → events bound → the portal raises an
//! event → the handler runs with that portal's client → its reply reaches that portal; a
//! portal posting in another's name is refused; uninstall stops delivery.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_app::events::OnImConnectorMessageAdd;
use b24_app::{App, AppStore, SqliteStore};
use b24_mock_portal::MockPortal;
use b24_openlines::imconnector::send_messages;
use common::{install_body, operator_message, portal, post, reserve, serve_on, ID, SECRET};

type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// An app whose handler records (portal, text) and answers each message back into the
/// channel with `imconnector.send.messages` through the portal's client.
fn app(store: Arc<SqliteStore>, base: &str, portals: &[&MockPortal], seen: Seen) -> App {
    let mut builder = App::builder(ID, SECRET)
        .store(store)
        .events_url(format!("{base}/events").parse().unwrap());
    for p in portals {
        builder = builder.oauth_server(p.server_endpoint(), p.token_endpoint().parse().unwrap());
    }
    builder
        .on(move |e: OnImConnectorMessageAdd, ctx| {
            let seen = Arc::clone(&seen);
            async move {
                for m in &e.data.messages {
                    seen.lock()
                        .unwrap()
                        .push((ctx.member_id().to_string(), m.message.text.clone()));
                    let reply = send_messages::Messages::new()
                        .user(send_messages::User::new(m.chat.id.clone()))
                        .chat(send_messages::Chat::new(m.chat.id.clone()))
                        .message(
                            send_messages::Message::new().text(format!("echo: {}", m.message.text)),
                        );
                    ctx.client()
                        .call(&send_messages::Request::new(
                            e.data.connector.clone(),
                            e.data.line,
                            vec![reply],
                        ))
                        .await?;
                }
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            }
        })
        .build()
        .unwrap()
}

/// Waits for the `n`-th delivery of `portal` and returns its status.
async fn delivered(portal: &MockPortal, n: usize) -> u16 {
    let all = tokio::time::timeout(Duration::from_secs(30), portal.wait_for_deliveries(n))
        .await
        .expect("the portal delivers the event");
    match &all[n - 1].outcome {
        Ok(status) => *status,
        Err(e) => panic!("delivery failed: {e}"),
    }
}

#[tokio::test]
async fn installed_portals_get_their_own_events_and_replies() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let (a, b) = (portal().await, portal().await);
    let (listener, base) = reserve().await;
    let seen: Seen = Arc::default();
    let app = app(Arc::clone(&store), &base, &[&a, &b], Arc::clone(&seen));
    serve_on(listener, app.router());

    // Install both; each install binds the handler's event and the uninstall notice.
    for p in [&a, &b] {
        assert_eq!(post(&format!("{base}/install"), install_body(p)).await, 200);
        let mut bound: Vec<(String, Option<String>)> = p
            .bindings(ID)
            .into_iter()
            .map(|h| (h.event, h.handler))
            .collect();
        bound.sort();
        let events = Some(format!("{base}/events"));
        assert_eq!(
            bound,
            vec![
                ("ONAPPUNINSTALL".to_string(), events.clone()),
                ("ONIMCONNECTORMESSAGEADD".to_string(), events),
            ]
        );
    }
    // Installing again binds nothing twice.
    assert_eq!(app.bind_events(a.member_id()).await.unwrap(), 0);

    // An operator writes on portal A: A's handler runs with A's client, the reply lands on A.
    assert_eq!(
        a.raise_event(
            "OnImConnectorMessageAdd",
            operator_message(1, "chan-a", 501, "hello from A")
        ),
        1
    );
    assert_eq!(delivered(&a, 1).await, 200);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(a.member_id().to_string(), "hello from A".to_string())]
    );
    assert_eq!(a.counters().executed("imconnector.send.messages"), 1);
    assert_eq!(b.counters().executed("imconnector.send.messages"), 0);

    // And on portal B.
    b.raise_event(
        "OnImConnectorMessageAdd",
        operator_message(2, "chan-b", 502, "hello from B"),
    );
    assert_eq!(delivered(&b, 1).await, 200);
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(seen.lock().unwrap()[1].0, b.member_id());
    assert_eq!(a.counters().executed("imconnector.send.messages"), 1);
    assert_eq!(b.counters().executed("imconnector.send.messages"), 1);

    // Portal B, with its own valid application token, posts an event naming portal A.
    let mut forged = serde_json::Map::new();
    forged.insert("event".into(), "ONIMCONNECTORMESSAGEADD".into());
    forged.insert("data".into(), operator_message(1, "chan-a", 503, "forged"));
    forged.insert(
        "auth".into(),
        serde_json::json!({
            "domain": a.domain(),
            "member_id": a.member_id(),
            "application_token": b.application_token(ID).unwrap(),
        }),
    );
    let body = b24_core::php::http_build_query(&forged);
    assert_eq!(post(&format!("{base}/events"), body).await, 401);
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(a.counters().executed("imconnector.send.messages"), 1);
    // The stored tokens of the two portals differ.
    let (ta, tb) = (
        store.portal(a.member_id()).await.unwrap().unwrap(),
        store.portal(b.member_id()).await.unwrap().unwrap(),
    );
    assert_ne!(ta.application_token, tb.application_token);
    assert_ne!(ta.tokens.refresh_token, tb.tokens.refresh_token);
}

#[tokio::test]
async fn uninstall_stops_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let a = portal().await;
    let (listener, base) = reserve().await;
    let seen: Seen = Arc::default();
    let app = app(Arc::clone(&store), &base, &[&a], Arc::clone(&seen));
    serve_on(listener, app.router());
    assert_eq!(
        post(&format!("{base}/install"), install_body(&a)).await,
        200
    );

    a.raise_event(
        "OnImConnectorMessageAdd",
        operator_message(1, "c", 1, "before"),
    );
    assert_eq!(delivered(&a, 1).await, 200);

    // The portal's ONAPPUNINSTALL, as it posts it to the bound handler.
    let mut uninstall = serde_json::Map::new();
    uninstall.insert("event".into(), "ONAPPUNINSTALL".into());
    uninstall.insert(
        "data".into(),
        serde_json::json!({"LANGUAGE_ID": "ru", "CLEAN": 1}),
    );
    uninstall.insert(
        "auth".into(),
        serde_json::json!({
            "domain": a.domain(),
            "member_id": a.member_id(),
            "application_token": a.application_token(ID).unwrap(),
        }),
    );
    let body = b24_core::php::http_build_query(&uninstall);
    assert_eq!(post(&format!("{base}/events"), body).await, 200);
    assert!(store.portal(a.member_id()).await.unwrap().is_none());

    // Still bound on the portal's side: the event is posted, refused, and no handler runs.
    a.raise_event(
        "OnImConnectorMessageAdd",
        operator_message(1, "c", 2, "after"),
    );
    assert_eq!(delivered(&a, 2).await, 401);
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(a.counters().executed("imconnector.send.messages"), 1);
}
