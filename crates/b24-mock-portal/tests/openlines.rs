//! A custom connector's round trip on the portal: `imconnector.register` / `.activate`, a
//! client's message delivered with `imconnector.send.messages` (which raises `OnSessionStart`
//! and `OnOpenLineMessageAdd`), an operator's answer (which raises `OnImConnectorMessageAdd`
//! for the connector's application), and the delivery status coming back.

mod common;

use std::time::Duration;

use b24_mock_portal::{AppError, LineMessage, MockPortal, OAuthApp, PortalConfig};
use b24_openlines::event::bind;
use b24_openlines::events::Event;
use b24_openlines::imconnector::{activate, register, send_messages, send_status_delivery};
use b24_openlines::{ApplicationToken, Client, Error};
use common::{app_client, form, Receiver};
use serde_json::json;

const ID: &str = "local.connector.app";
const OTHER: &str = "local.other.app";
const LINE: i64 = 7;
const WAIT: Duration = Duration::from_secs(20);

async fn portal() -> MockPortal {
    MockPortal::start(
        PortalConfig::default()
            .with_app(OAuthApp::new(ID, "secret-1"))
            .with_app(OAuthApp::new(OTHER, "secret-2")),
    )
    .await
    .expect("the portal starts")
}

async fn register_connector(client: &Client) {
    let icon: register::Icon =
        serde_json::from_value(json!({"DATA_IMAGE": "data:image/svg+xml,%3Csvg%2F%3E"})).unwrap();
    let reg = client
        .imconnector_register(register::Request::new(
            "MyConn",
            "My connector",
            icon,
            "https://app.example.com/placement",
        ))
        .await
        .unwrap();
    assert!(reg.result);
    assert!(client
        .imconnector_activate(activate::Request::new("myconn", LINE, "1"))
        .await
        .unwrap());
}

fn client_message(chat: &str, id: &str, text: &str) -> send_messages::Messages {
    serde_json::from_value(json!({
        "user": {"id": "ext-user-42", "name": "Ivan"},
        "message": {"id": id, "date": 1773265993, "text": text},
        "chat": {"id": chat, "name": "Support channel"}
    }))
    .unwrap()
}

async fn bind_all(client: &Client, url: &str, events: &[&str]) {
    for e in events {
        assert!(client
            .event_bind(bind::Request::new(*e).handler(url))
            .await
            .unwrap());
    }
}

#[tokio::test]
async fn a_clients_message_lands_in_the_line_and_raises_session_and_message_events() {
    let portal = portal().await;
    let pair = portal.issue_tokens(ID).unwrap();
    let app = app_client(&pair);
    let rx = Receiver::start().await;
    let url = rx.url("/events");
    bind_all(
        &app,
        &url,
        &[
            "OnImConnectorMessageAdd",
            "OnOpenLineMessageAdd",
            "OnSessionStart",
        ],
    )
    .await;
    register_connector(&app).await;
    assert_eq!(portal.connectors()[0].id, "myconn");
    assert_eq!(portal.connectors()[0].client_id.as_deref(), Some(ID));
    assert_eq!(portal.connectors()[0].active_lines, [LINE]);

    let sent = app
        .imconnector_send_messages(send_messages::Request::new(
            "myconn",
            LINE,
            vec![client_message("chat-1", "m-1", "Hello, I need help")],
        ))
        .await
        .unwrap();
    assert!(sent.success);
    let conv = &portal.conversations(Some(LINE))[0];
    let item = &sent.data.result[0];
    assert!(item.success);
    assert_eq!(
        item.user.as_deref(),
        Some(conv.user_id.to_string().as_str())
    );
    let session = item.session.as_ref().expect("a session");
    assert_eq!(
        (session.id.clone(), session.chat_id.clone()),
        (conv.session_id.to_string(), conv.chat_id.to_string())
    );
    assert_eq!(
        (
            conv.connector.as_str(),
            conv.external_chat_id.as_str(),
            conv.external_user_id.as_str()
        ),
        ("myconn", "chat-1", "ext-user-42")
    );
    assert_eq!(conv.messages.len(), 1);
    assert_eq!(
        (
            conv.messages[0].from_client,
            conv.messages[0].text.as_str(),
            conv.messages[0].external_id.as_deref()
        ),
        (true, "Hello, I need help", Some("m-1"))
    );

    // A second message of the same chat: same conversation, no new session.
    app.imconnector_send_messages(send_messages::Request::new(
        "myconn",
        LINE,
        vec![client_message("chat-1", "m-2", "Anyone?")],
    ))
    .await
    .unwrap();
    assert_eq!(portal.conversations(None).len(), 1);
    assert_eq!(portal.conversations(Some(LINE))[0].messages.len(), 2);

    // OnSessionStart once, OnOpenLineMessageAdd twice; no OnImConnectorMessageAdd (that one
    // is for messages going out to the channel).
    let done = tokio::time::timeout(WAIT, portal.wait_for_deliveries(3))
        .await
        .unwrap();
    let names: Vec<&str> = done.iter().map(|d| d.event.as_str()).collect();
    assert_eq!(
        names,
        [
            "ONSESSIONSTART",
            "ONOPENLINEMESSAGEADD",
            "ONOPENLINEMESSAGEADD"
        ]
    );
    let token = ApplicationToken::new(portal.application_token(ID).unwrap());
    let posts = rx.wait(3).await;
    match Event::parse(posts[1].1.as_bytes(), &token).unwrap() {
        Event::OnOpenLineMessageAdd(e) => {
            let d = &e.data.data[0];
            assert_eq!(
                (
                    d.connector.connector_id.as_str(),
                    d.connector.line_id,
                    d.connector.chat_id.as_str()
                ),
                ("myconn", LINE, "chat-1")
            );
            assert_eq!(
                (
                    d.message.id.as_str(),
                    d.message.text.as_str(),
                    d.message.user_id
                ),
                ("m-1", "Hello, I need help", conv.user_id)
            );
            assert_eq!(d.chat.as_ref().map(|c| c.id.as_str()), Some("chat-1"));
        }
        other => panic!("{}", other.name()),
    }
    match Event::parse(posts[0].1.as_bytes(), &token).unwrap() {
        Event::OnSessionStart(_) => {
            let f = form(&posts[0].1);
            assert_eq!(
                f["data"]["DATA"]["chat"]["chat_id"],
                conv.chat_id.to_string()
            );
            assert_eq!(f["data"]["DATA"]["line"]["id"], LINE.to_string());
        }
        other => panic!("{}", other.name()),
    }
}

#[tokio::test]
async fn an_operators_answer_goes_to_the_connectors_application_only() {
    let portal = portal().await;
    let app = app_client(&portal.issue_tokens(ID).unwrap());
    let other = app_client(&portal.issue_tokens(OTHER).unwrap());
    let (rx, rx_other) = (Receiver::start().await, Receiver::start().await);
    bind_all(
        &app,
        &rx.url("/mine"),
        &["OnImConnectorMessageAdd", "OnOpenLineMessageAdd"],
    )
    .await;
    bind_all(
        &other,
        &rx_other.url("/theirs"),
        &["OnImConnectorMessageAdd", "OnOpenLineMessageAdd"],
    )
    .await;
    register_connector(&app).await;

    // No conversation yet: nothing to answer.
    assert_eq!(
        portal.operator_message(LINE, "chat-1", "Hi"),
        Err(AppError::UnknownChat {
            line: LINE,
            chat: "chat-1".into()
        })
    );
    app.imconnector_send_messages(send_messages::Request::new(
        "myconn",
        LINE,
        vec![client_message("chat-1", "m-1", "Hello")],
    ))
    .await
    .unwrap();
    // Both applications hear about the client's message.
    tokio::time::timeout(WAIT, portal.wait_for_deliveries(2))
        .await
        .unwrap();

    let sent = portal
        .operator_message(LINE, "chat-1", "Hello! How can I help?")
        .unwrap();
    let conv = portal.conversations(Some(LINE))[0].clone();
    assert_eq!(sent.chat_id, conv.chat_id);
    assert_eq!(
        conv.messages[1],
        LineMessage {
            id: sent.message_id,
            from_client: false,
            author_id: 1,
            external_id: None,
            text: "Hello! How can I help?".into(),
            delivered: false,
            read: false
        }
    );
    let done = tokio::time::timeout(WAIT, portal.wait_for_deliveries(5))
        .await
        .unwrap();
    let mut late: Vec<(&str, &str)> = done[2..]
        .iter()
        .map(|d| (d.event.as_str(), d.client_id.as_str()))
        .collect();
    late.sort_unstable();
    assert_eq!(
        late,
        [
            ("ONIMCONNECTORMESSAGEADD", ID),
            ("ONOPENLINEMESSAGEADD", ID),
            ("ONOPENLINEMESSAGEADD", OTHER),
        ],
        "the connector's event goes to its application only"
    );
    let token = ApplicationToken::new(portal.application_token(ID).unwrap());
    let mine = rx.wait(3).await;
    let (im_chat, im_message) = mine
        .iter()
        .find_map(|(_, body)| match Event::parse(body.as_bytes(), &token) {
            Ok(Event::OnImConnectorMessageAdd(e)) => {
                assert_eq!((e.data.connector.as_str(), e.data.line), ("myconn", LINE));
                let m = &e.data.messages[0];
                assert_eq!(
                    (
                        m.message.user_id,
                        m.message.text.as_str(),
                        m.chat.id.as_str()
                    ),
                    (1, "Hello! How can I help?", "chat-1")
                );
                Some((m.im.chat_id, m.im.message_id))
            }
            _ => None,
        })
        .expect("OnImConnectorMessageAdd reached the connector's application");
    assert_eq!((im_chat, im_message), (sent.chat_id, sent.message_id));
    // The outgoing OnOpenLineMessageAdd names the connector and the operator's message.
    let outgoing = mine
        .iter()
        .map(|(_, b)| form(b))
        .find(|f| f["event"] == "ONOPENLINEMESSAGEADD" && f["data"]["CONNECTOR"] == "myconn")
        .expect("the outgoing shape");
    assert_eq!(
        outgoing["data"]["DATA"]["message"]["id"],
        sent.message_id.to_string()
    );
    assert_eq!(outgoing["data"]["DATA"]["message"]["user_id"], "1");

    // The connector reports the message delivered: the portal's state shows it.
    let status: send_status_delivery::Messages = serde_json::from_value(json!({
        "im": {"chat_id": im_chat, "message_id": im_message},
        "message": {"id": ["ext-out-1"]},
        "chat": {"id": "chat-1"}
    }))
    .unwrap();
    app.imconnector_send_status_delivery(send_status_delivery::Request::new(
        "myconn",
        LINE,
        vec![status],
    ))
    .await
    .unwrap();
    assert!(portal.conversations(Some(LINE))[0].messages[1].delivered);
}

#[tokio::test]
async fn a_webhook_is_no_connector_and_the_call_never_waits_for_handlers() {
    let portal = portal().await;
    let webhook = common::raw_client(&portal.webhook_url());
    match webhook
        .imconnector_send_messages(send_messages::Request::new(
            "myconn",
            LINE,
            vec![client_message("c", "m", "t")],
        ))
        .await
    {
        Err(Error::Api { error, .. }) => {
            assert_eq!(
                (error.status, error.code.as_str()),
                (403, "WRONG_AUTH_TYPE")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(portal.conversations(None).is_empty());

    // A handler that holds its POST: the REST call that raised the event is answered anyway.
    let app = app_client(&portal.issue_tokens(ID).unwrap());
    let rx = Receiver::start_held().await;
    bind_all(&app, &rx.url("/held"), &["OnOpenLineMessageAdd"]).await;
    register_connector(&app).await;
    let sent = tokio::time::timeout(
        WAIT,
        app.imconnector_send_messages(send_messages::Request::new(
            "myconn",
            LINE,
            vec![client_message("c", "m", "t")],
        )),
    )
    .await
    .expect("answered while the handler holds the event")
    .unwrap();
    assert!(sent.success);
    rx.wait(1).await;
    assert!(portal.deliveries().is_empty(), "the POST is still held");
    rx.release();
    let done = tokio::time::timeout(WAIT, portal.wait_for_deliveries(1))
        .await
        .unwrap();
    assert_eq!(done[0].outcome, Ok(200));
}

#[tokio::test]
async fn the_source_key_keeps_an_applications_own_changes_out_of_its_queue() {
    let portal = portal().await;
    let app = app_client(&portal.issue_tokens(ID).unwrap());
    register_connector(&app).await;
    let offline = |connector: &str| {
        bind::Request::new("OnOpenLineMessageAdd")
            .event_type(bind::EventType::Offline)
            .auth_connector(connector)
    };
    assert!(app.event_bind(offline("sync")).await.unwrap());
    assert!(app.event_bind(offline("")).await.unwrap());
    // The change is made with `auth_connector=sync`: the `sync` queue does not record it.
    let params: serde_json::Map<String, serde_json::Value> = serde_json::from_value(json!({
        "CONNECTOR": "myconn", "LINE": LINE, "auth_connector": "sync",
        "MESSAGES": [{"user": {"id": "u"}, "message": {"id": "m", "text": "t"}, "chat": {"id": "c"}}]
    }))
    .unwrap();
    app.call_raw(
        "imconnector.send.messages",
        b24_openlines::MethodKind::Write,
        params,
    )
    .await
    .unwrap();
    let list = |connector: &'static str| {
        let app = app.clone();
        async move {
            let params: serde_json::Map<String, serde_json::Value> =
                serde_json::from_value(json!({"auth_connector": connector})).unwrap();
            app.call_raw(
                "event.offline.list",
                b24_openlines::MethodKind::Read,
                params,
            )
            .await
            .unwrap()
            .result
            .as_array()
            .map_or(0, Vec::len)
        }
    };
    assert_eq!((list("sync").await, list("").await), (0, 1));
}
