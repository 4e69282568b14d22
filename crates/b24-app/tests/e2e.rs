//! End to end against two local portals: install → events bound → the portal raises an
//! event → the handler runs with that portal's client → its reply reaches that portal; a
//! portal posting in another's name is refused; uninstall stops delivery.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_app::events::OnImConnectorMessageAdd;
use b24_app::{App, AppStore, SqliteStore};
use b24_mock_portal::MockPortal;
use b24_openlines::imconnector::{activate, register, send_messages, send_status_delivery};
use b24_openlines::Client;
use common::{operator_message, portal, post, reserve, serve_on, ID, SECRET};

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
        .on_install(|_installation, client: Client| async move {
            let icon = register::Icon::new("data:image/svg+xml;charset=US-ASCII,x");
            client
                .call(&register::Request::new(
                    "echo",
                    "Echo",
                    icon,
                    "https://echo.example/settings",
                ))
                .await?;
            client.call(&activate::Request::new("echo", 1, "1")).await?;
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        })
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
                    let delivered = send_status_delivery::Messages::new()
                        .im(send_status_delivery::Im::new()
                            .chat_id(m.im.chat_id)
                            .message_id(m.im.message_id))
                        .chat(send_status_delivery::Chat::new().id(m.chat.id.clone()));
                    ctx.client()
                        .call(&send_status_delivery::Request::new(
                            e.data.connector.clone(),
                            e.data.line,
                            vec![delivered],
                        ))
                        .await?;
                }
                Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
            }
        })
        .build()
        .unwrap()
}

/// A client of the external channel writes `text` in chat `chat`: the connector delivers it
/// with `imconnector.send.messages`.
async fn client_writes(app: &App, portal: &MockPortal, chat: &str, text: &str) {
    let message = send_messages::Messages::new()
        .user(send_messages::User::new("client-1"))
        .chat(send_messages::Chat::new(chat))
        .message(send_messages::Message::new().id("ext-1").text(text));
    app.client(portal.member_id())
        .await
        .unwrap()
        .call(&send_messages::Request::new("echo", 1, vec![message]))
        .await
        .unwrap();
}

/// The messages of the portal's conversation on line 1: (from the client, text, delivered:
/// an operator's message is delivered once the connector marks it so).
fn conversation(portal: &MockPortal) -> Vec<(bool, String, bool)> {
    portal
        .conversations(Some(1))
        .iter()
        .flat_map(|c| c.messages.iter())
        .map(|m| (m.from_client, m.text.clone(), m.delivered))
        .collect()
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
        let installed = p.install_app(ID, &format!("{base}/install")).await.unwrap();
        assert_eq!(installed.handler, Ok(200));
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

    // A client writes in each portal's channel (the connector delivers it), then an operator
    // of A answers: A raises OnImConnectorMessageAdd to this app, the handler runs with A's
    // client, and its echo and delivery mark land in A's conversation only.
    for (p, chat) in [(&a, "chan-a"), (&b, "chan-b")] {
        client_writes(&app, p, chat, "Hi, I need help").await;
    }
    a.operator_message(1, "chan-a", "hello from A").unwrap();
    assert_eq!(delivered(&a, 1).await, 200);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![(a.member_id().to_string(), "hello from A".to_string())]
    );
    assert_eq!(
        conversation(&a),
        [
            (true, "Hi, I need help".to_string(), true),
            (false, "hello from A".to_string(), true),
            (true, "echo: hello from A".to_string(), true),
        ]
    );
    assert_eq!(
        conversation(&b),
        [(true, "Hi, I need help".to_string(), true)]
    );

    // And on portal B.
    b.operator_message(1, "chan-b", "hello from B").unwrap();
    assert_eq!(delivered(&b, 1).await, 200);
    assert_eq!(seen.lock().unwrap().len(), 2);
    assert_eq!(seen.lock().unwrap()[1].0, b.member_id());
    assert_eq!(conversation(&a).len(), 3);
    assert_eq!(conversation(&b).len(), 3);
    assert_eq!(conversation(&b)[2].1, "echo: hello from B");

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
    assert_eq!(conversation(&a).len(), 3);
    // The stored tokens of the two portals differ.
    let (ta, tb) = (
        store.portal(a.member_id()).await.unwrap().unwrap(),
        store.portal(b.member_id()).await.unwrap().unwrap(),
    );
    assert_ne!(ta.application_token, tb.application_token);
    assert_ne!(ta.tokens.refresh_token, tb.tokens.refresh_token);
}

/// An event as the portal posts it, claiming `member_id` and carrying `app_token`.
fn event_body(portal: &MockPortal, member_id: &str, app_token: &str, text: &str) -> String {
    let mut form = serde_json::Map::new();
    form.insert("event".into(), "ONIMCONNECTORMESSAGEADD".into());
    form.insert("data".into(), operator_message(1, "chan", 900, text));
    form.insert(
        "auth".into(),
        serde_json::json!({
            "domain": portal.domain(),
            "member_id": member_id,
            "application_token": app_token,
        }),
    );
    b24_core::php::http_build_query(&form)
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
    let installed = a.install_app(ID, &format!("{base}/install")).await.unwrap();
    assert_eq!(installed.handler, Ok(200));
    let stored = store.portal(a.member_id()).await.unwrap().unwrap();
    assert_eq!(
        stored.application_token.expose(),
        installed.application_token
    );

    a.raise_event(
        "OnImConnectorMessageAdd",
        operator_message(1, "c", 1, "before"),
    );
    assert_eq!(delivered(&a, 1).await, 200);

    // The portal posts ONAPPUNINSTALL to the bound handler: the portal and its data go.
    let sent = a.uninstall_app(ID, true).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].outcome, Ok(200));
    assert!(store.portal(a.member_id()).await.unwrap().is_none());
    assert!(app.client(a.member_id()).await.is_err());

    // The portal sends nothing more; a replay of its events (the old token) is refused.
    assert_eq!(
        a.raise_event(
            "OnImConnectorMessageAdd",
            operator_message(1, "c", 2, "after")
        ),
        0
    );
    let replay = event_body(&a, a.member_id(), &installed.application_token, "replayed");
    assert_eq!(post(&format!("{base}/events"), replay).await, 401);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_reinstall_replaces_the_token_and_the_frame_install_works_too() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("app.db")).await.unwrap());
    let a = portal().await;
    let (listener, base) = reserve().await;
    let seen: Seen = Arc::default();
    let app = app(Arc::clone(&store), &base, &[&a], Arc::clone(&seen));
    serve_on(listener, app.router());
    let first = a.install_app(ID, &format!("{base}/install")).await.unwrap();
    assert_eq!(first.handler, Ok(200));
    let first_install = store
        .portal(a.member_id())
        .await
        .unwrap()
        .unwrap()
        .install_id;

    // Reinstalled from an install page in the frame (AUTH_ID, REFRESH_ID, DOMAIN in the query).
    let second = a
        .install_app_page(ID, &format!("{base}/install"))
        .await
        .unwrap();
    assert_eq!(second.handler, Ok(200));
    assert_ne!(first.application_token, second.application_token);
    let stored = store.portal(a.member_id()).await.unwrap().unwrap();
    assert_eq!(stored.application_token.expose(), second.application_token);
    assert_ne!(stored.install_id, first_install);
    assert_eq!(stored.client_endpoint.as_str(), a.client_endpoint());
    // The reinstall bound the events again.
    assert_eq!(a.bindings(ID).len(), 2);

    // The old token is refused, the new one accepted.
    let url = format!("{base}/events");
    let old = event_body(&a, a.member_id(), &first.application_token, "old");
    assert_eq!(post(&url, old).await, 401);
    let new = event_body(&a, a.member_id(), &second.application_token, "new");
    assert_eq!(post(&url, new).await, 200);
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert_eq!(seen.lock().unwrap()[0].1, "new");
}
