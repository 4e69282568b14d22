//! `event.bind` / `event.unbind` / `event.get` and the offline queue (`event.offline.*`) with
//! state, and online events POSTed to a handler from the background, as the server code does
//! them.

mod common;

use std::time::Duration;

use b24_mock_portal::{BoundHandler, MockPortal, OAuthApp, OAuthToken, PortalConfig, TokenPair};
use b24_openlines::event::{
    bind, get, offline_clear, offline_error, offline_get, offline_list, unbind,
};
use b24_openlines::events::Event;
use b24_openlines::{ApplicationToken, Client, Error, MethodErrorCode};
use common::{app_client, form, Receiver};
use serde_json::json;

const ID: &str = "local.6651f00dcafe01.12345678";
const SECRET: &str = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3t00";
const WAIT: Duration = Duration::from_secs(20);

async fn setup() -> (MockPortal, TokenPair, Client) {
    let portal = MockPortal::start(
        PortalConfig::default()
            .with_app(OAuthApp::new(ID, SECRET))
            .with_token(OAuthToken::new("no-app-token", &["imopenlines"])),
    )
    .await
    .expect("the portal starts");
    let pair = portal.issue_tokens(ID).expect("a configured app");
    let client = app_client(&pair);
    (portal, pair, client)
}

/// Status, code and message of a failed call.
fn failure<T: std::fmt::Debug, C: MethodErrorCode>(
    r: Result<T, Error<C>>,
) -> (u16, String, String) {
    match r {
        Err(Error::Api { error, .. }) => (
            error.status,
            error.code.as_str().to_string(),
            error.description.clone(),
        ),
        other => panic!("expected an error answer, got {other:?}"),
    }
}

fn online(event: &str, url: &str) -> bind::Request {
    bind::Request::new(event).handler(url)
}

fn offline(event: &str) -> bind::Request {
    bind::Request::new(event).event_type(bind::EventType::Offline)
}

#[tokio::test]
async fn only_an_application_may_bind() {
    let (portal, _, _) = setup().await;
    let webhook = common::raw_client(&portal.webhook_url());
    let (status, code, message) = failure(
        webhook
            .event_bind(online("ONAPPTEST", "https://a.example/h"))
            .await,
    );
    assert_eq!(
        (status, code.as_str(), message.as_str()),
        (
            403,
            "WRONG_AUTH_TYPE",
            "Current authorization type is denied for this method"
        )
    );
    assert_eq!(
        failure(webhook.event_get(get::Request::new()).await).1,
        "WRONG_AUTH_TYPE"
    );
    // A token that belongs to no application is no better.
    let tokenonly = Client::from(
        b24_runtime::Client::builder_oauth(&portal.base_url(), "no-app-token")
            .retry(b24_runtime::RetryPolicy::none())
            .build()
            .unwrap(),
    );
    assert_eq!(
        failure(
            tokenonly
                .event_offline_list(offline_list::Request::new())
                .await
        )
        .1,
        "WRONG_AUTH_TYPE"
    );
}

#[tokio::test]
async fn bind_get_and_unbind_keep_the_applications_handlers() {
    let (portal, _, client) = setup().await;
    let url = "https://app.example.com/b24/events";
    assert!(client
        .event_bind(online("OnImConnectorMessageAdd", url))
        .await
        .unwrap());
    assert!(client
        .event_bind(online("ONAPPTEST", url).auth_type(7))
        .await
        .unwrap());
    assert!(client
        .event_bind(offline("OnOpenLineMessageAdd").auth_connector("sync"))
        .await
        .unwrap());

    // The server's refusals, in its order of checks.
    let cases: Vec<(bind::Request, u16, &str, &str)> = vec![
        (
            online("onimconnectormessageadd", url),
            400,
            "ERROR_CORE",
            "Unable to set event handler: Handler already binded",
        ),
        (
            online("ONCRMLEADADD", url),
            400,
            "ERROR_EVENT_NOT_FOUND",
            "Event not found",
        ),
        (
            online("ONAPPTEST", "http://localhost:8080/h"),
            400,
            "ERROR_WRONG_HANDLER_URL",
            "Wrong handler URL",
        ),
        (
            online("ONAPPTEST", "ftp://files.example.com/h"),
            400,
            "ERROR_UNSUPPORTED_PROTOCOL",
            "Unsupported handler protocol",
        ),
        (
            bind::Request::new("ONAPPTEST"),
            400,
            "ERROR_ARGUMENT",
            "Argument 'HANDLER' is null or empty",
        ),
        (
            bind::Request::new(""),
            400,
            "ERROR_ARGUMENT",
            "Argument 'EVENT' is null or empty",
        ),
        (
            offline("ONOFFLINEEVENT"),
            400,
            "ERROR_ARGUMENT",
            "Offline event cannot be registered for this event.",
        ),
    ];
    for (req, status, code, message) in cases {
        let got = failure(client.event_bind(req).await);
        assert_eq!(
            (got.0, got.1.as_str(), got.2.as_str()),
            (status, code, message)
        );
    }

    let listed = client.event_get(get::Request::new()).await.unwrap();
    let shape: Vec<_> = listed
        .iter()
        .map(|h| {
            (
                h.event.as_str(),
                h.handler.as_deref(),
                h.auth_type,
                h.offline,
                h.connector_id.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("ONIMCONNECTORMESSAGEADD", Some(url), Some(0), false, None),
            ("ONAPPTEST", Some(url), Some(7), false, None),
            ("ONOPENLINEMESSAGEADD", None, None, true, Some("sync")),
        ]
    );
    assert_eq!(
        portal.bindings(ID)[2],
        BoundHandler {
            event: "ONOPENLINEMESSAGEADD".into(),
            handler: None,
            auth_type: 0,
            connector_id: "sync".into()
        }
    );

    // Unbind: the event and URL (any auth_type), then nothing is left to unbind.
    let n = client
        .event_unbind(unbind::Request::new("ONAPPTEST").handler(url))
        .await
        .unwrap();
    assert_eq!(n.count, 1);
    let n = client
        .event_unbind(unbind::Request::new("ONAPPTEST").handler(url))
        .await
        .unwrap();
    assert_eq!(n.count, 0);
    // The offline binding is found by its source key.
    let off =
        || unbind::Request::new("ONOPENLINEMESSAGEADD").event_type(unbind::EventType::Offline);
    assert_eq!(client.event_unbind(off()).await.unwrap().count, 0);
    assert_eq!(
        client
            .event_unbind(off().auth_connector("sync"))
            .await
            .unwrap()
            .count,
        1
    );
    assert_eq!(portal.bindings(ID).len(), 1);
}

#[tokio::test]
async fn the_offline_queue_keeps_the_last_change_and_hands_out_batches() {
    let (portal, _, client) = setup().await;
    assert!(client.event_bind(offline("OnAppTest")).await.unwrap());
    let list = || async {
        client
            .event_offline_list(offline_list::Request::new())
            .await
            .unwrap()
    };

    // The same event about the same object twice: one record (the last change), another
    // object: a second record.
    assert_eq!(
        portal.raise_event("OnAppTest", json!({"FIELDS": {"ID": 1}})),
        1
    );
    assert_eq!(
        portal.raise_event("ONAPPTEST", json!({"FIELDS": {"ID": 1}})),
        1
    );
    portal.raise_event("OnAppTest", json!({"FIELDS": {"ID": 2}}));
    let queued = list().await;
    assert_eq!(queued.len(), 2, "{queued:?}");
    let (first, second) = (queued[0].clone(), queued[1].clone());
    assert_eq!(first.event_name, "ONAPPTEST");
    assert_eq!(first.event_data, json!({"FIELDS": {"ID": 1}}));
    assert_eq!(first.event_additional, json!({"user_id": 1}));
    assert_eq!(
        (
            first.message_id.len(),
            first.process_id.as_str(),
            first.error
        ),
        (32, "", false)
    );
    assert_ne!(first.message_id, second.message_id);
    assert!(
        portal.deliveries().is_empty(),
        "an offline binding gets no POST"
    );

    // Reserve one record, then the next: parallel readers get disjoint batches.
    let a = client
        .event_offline_get(offline_get::Request::new().clear(0).limit(1))
        .await
        .unwrap();
    let pid_a = a
        .process_id
        .clone()
        .expect("clear=0 answers the process id");
    assert_eq!(pid_a.len(), 32);
    assert_eq!(
        a.events.iter().map(|e| e.id).collect::<Vec<_>>(),
        [first.id]
    );
    let b = client
        .event_offline_get(offline_get::Request::new().clear(0))
        .await
        .unwrap();
    let pid_b = b.process_id.clone().unwrap();
    assert_ne!(pid_a, pid_b);
    assert_eq!(
        b.events.iter().map(|e| e.id).collect::<Vec<_>>(),
        [second.id]
    );
    let none = client
        .event_offline_get(offline_get::Request::new().clear(0))
        .await
        .unwrap();
    assert!(none.events.is_empty());
    // The batch can be read again by its process id (without clearing it).
    let again = client
        .event_offline_get(
            offline_get::Request::new()
                .clear(0)
                .process_id(pid_a.clone()),
        )
        .await
        .unwrap();
    assert_eq!(
        (again.process_id.as_deref(), again.events.len()),
        (Some(pid_a.as_str()), 1)
    );

    // The same change while its record is reserved: a new record, not merged into the batch.
    portal.raise_event("OnAppTest", json!({"FIELDS": {"ID": 1}}));
    let queued = list().await;
    assert_eq!(queued.len(), 3);
    assert_eq!(queued[0].process_id, pid_a);
    let third = queued[2].clone();
    assert_eq!(
        (third.message_id.as_str(), third.process_id.as_str()),
        (first.message_id.as_str(), "")
    );

    // Clearing takes exactly the given ids of the given batch: another batch's id is kept.
    assert!(client
        .event_offline_clear(
            offline_clear::Request::new(pid_a.clone()).id(vec![first.id, second.id])
        )
        .await
        .unwrap());
    let ids: Vec<i64> = list().await.iter().map(|e| e.id).collect();
    assert_eq!(ids, [second.id, third.id]);

    // A failed record leaves its batch for the error part of the queue.
    assert!(client
        .event_offline_error(offline_error::Request::new(
            pid_b.clone(),
            vec![second.message_id.clone()]
        ))
        .await
        .unwrap());
    let failed = list().await;
    assert_eq!(
        (failed[0].id, failed[0].error, failed[0].process_id.as_str()),
        (second.id, true, "")
    );
    // Only `error=1` takes it; the default `clear=1` deletes what it answers.
    let errors = client
        .event_offline_get(offline_get::Request::new().error(1))
        .await
        .unwrap();
    assert_eq!(errors.process_id, None);
    assert_eq!(
        errors.events.iter().map(|e| e.id).collect::<Vec<_>>(),
        [second.id]
    );
    let rest = client
        .event_offline_get(offline_get::Request::new())
        .await
        .unwrap();
    assert_eq!(
        rest.events.iter().map(|e| e.id).collect::<Vec<_>>(),
        [third.id]
    );
    assert!(list().await.is_empty());

    // Filters and the server's argument checks.
    portal.raise_event("OnAppTest", json!({"FIELDS": {"ID": 5}}));
    portal.raise_event("OnAppTest", json!({"FIELDS": {"ID": 6}}));
    let all = list().await;
    let newest = client
        .event_offline_list(
            offline_list::Request::new()
                .filter(
                    serde_json::from_value::<serde_json::Map<String, serde_json::Value>>(
                        json!({">ID": all[0].id}),
                    )
                    .unwrap(),
                )
                .order([("ID".to_string(), "DESC".to_string())]),
        )
        .await
        .unwrap();
    assert_eq!(newest.iter().map(|e| e.id).collect::<Vec<_>>(), [all[1].id]);
    let got = failure(
        client
            .event_offline_get(offline_get::Request::new().limit(0))
            .await,
    );
    assert_eq!(
        (got.0, got.1.as_str(), got.2.as_str()),
        (400, "ERROR_ARGUMENT", "Value must be positive integer")
    );
    let got = failure(
        client
            .event_offline_clear(offline_clear::Request::new("p").message_id(vec!["short".into()]))
            .await,
    );
    assert_eq!(
        (got.1.as_str(), got.2.as_str()),
        ("ERROR_ARGUMENT", "Value must be array of MESSAGE_ID values")
    );
    assert_eq!(list().await.len(), 2, "a refused call changes nothing");
}

#[tokio::test]
async fn an_ordinary_user_has_no_offline_queue() {
    let (portal, _, _) = setup().await;
    let user = app_client(&portal.issue_user_tokens(ID, 42).unwrap());
    let denied = |r: (u16, String, String)| assert_eq!((r.0, r.1.as_str()), (403, "ACCESS_DENIED"));
    let got = failure(user.event_bind(offline("ONAPPTEST")).await);
    assert_eq!(
        got.2,
        "Access denied! Offline events binding requires administrator access rights"
    );
    denied(got);
    denied(failure(
        user.event_offline_get(offline_get::Request::new()).await,
    ));
    denied(failure(
        user.event_offline_list(offline_list::Request::new()).await,
    ));
    denied(failure(
        user.event_offline_clear(offline_clear::Request::new("p"))
            .await,
    ));
    denied(failure(
        user.event_offline_error(offline_error::Request::new("p", vec![]))
            .await,
    ));
    let got = failure(
        user.event_bind(online("ONAPPTEST", "https://a.example/h").auth_type(7))
            .await,
    );
    assert_eq!(
        got.2,
        "Access denied! Event binding with AUTH_TYPE requires administrator access rights"
    );
    // An online handler of its own is fine, and bound for that user.
    assert!(user
        .event_bind(online("ONAPPTEST", "https://a.example/h"))
        .await
        .unwrap());
    assert_eq!(portal.bindings(ID)[0].auth_type, 42);
}

#[tokio::test]
async fn online_handlers_get_the_event_posted_with_the_auth_block() {
    let (portal, _, client) = setup().await;
    let rx = Receiver::start().await;
    let url = rx.url("/b24/events");
    assert!(client
        .event_bind(online("OnImConnectorMessageAdd", &url))
        .await
        .unwrap());
    let data = json!({"CONNECTOR": "myconnector", "LINE": 7, "MESSAGES": [{
        "im": {"chat_id": 1807, "message_id": 86497},
        "message": {"user_id": 27, "text": "Hi [b]there[/b]"},
        "chat": {"id": "channel-123"}
    }]});
    assert_eq!(portal.raise_event("OnImConnectorMessageAdd", data), 1);
    assert_eq!(
        portal.raise_event("OnSessionStart", json!({})),
        0,
        "not bound"
    );
    let done = tokio::time::timeout(WAIT, portal.wait_for_deliveries(1))
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(
        (
            done[0].event.as_str(),
            done[0].handler.as_str(),
            done[0].client_id.as_str(),
            &done[0].outcome
        ),
        ("ONIMCONNECTORMESSAGEADD", url.as_str(), ID, &Ok(200))
    );
    let posts = rx.posts();
    assert_eq!(posts.len(), 1);
    let (path, body) = &posts[0];
    assert_eq!(path, "/b24/events");

    // The application's own parser accepts it with the token of its install, typed.
    let app_token = portal.application_token(ID).unwrap();
    let token = ApplicationToken::new(app_token.clone());
    match Event::parse(body.as_bytes(), &token).expect("a genuine event") {
        Event::OnImConnectorMessageAdd(e) => {
            assert_eq!((e.data.connector.as_str(), e.data.line), ("myconnector", 7));
            let m = &e.data.messages[0];
            assert_eq!(
                (m.im.chat_id, m.im.message_id, m.message.text.as_str()),
                (1807, 86497, "Hi [b]there[/b]")
            );
            assert_eq!(e.auth.member_id.as_deref(), Some(portal.member_id()));
            assert_eq!(e.auth.domain.as_deref(), Some(portal.domain()));
        }
        other => panic!("{}", other.name()),
    }
    assert!(Event::parse(body.as_bytes(), &ApplicationToken::new("0".repeat(32))).is_err());

    // The auth block, as PHP reads the form.
    let f = form(body);
    assert_eq!(f["event"], "ONIMCONNECTORMESSAGEADD");
    assert_eq!(f["event_handler_id"], "1");
    assert_eq!(f["auth"]["application_token"], app_token.as_str());
    assert_eq!(
        f["auth"]["client_endpoint"],
        portal.client_endpoint().as_str()
    );
    assert_eq!(f["auth"]["scope"], "imconnector");
    assert_eq!(f["auth"]["expires_in"], "3600");
    assert!(
        f["auth"].get("refresh_token").is_none(),
        "events carry no refresh token"
    );
    // Its access token is a working token of the application.
    let access = f["auth"]["access_token"].as_str().unwrap();
    let a = common::get(&format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777&auth={access}",
        portal.client_endpoint()
    ))
    .await;
    assert_eq!(a.status, 200, "{}", a.raw);
}

#[tokio::test]
async fn delivery_never_blocks_the_call_that_raised_it() {
    let (portal, _, client) = setup().await;
    let rx = Receiver::start_held().await;
    assert!(client
        .event_bind(online("ONAPPTEST", &rx.url("/slow")))
        .await
        .unwrap());
    assert!(client
        .event_bind(online("ONAPPUPDATE", &rx.url("/slow")))
        .await
        .unwrap());
    // A handler on a closed port: its delivery fails, the others go on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/gone", l.local_addr().unwrap())
    };
    assert!(client
        .event_bind(online("ONAPPTEST", &closed))
        .await
        .unwrap());

    assert_eq!(portal.raise_event("ONAPPTEST", json!({"n": 1})), 2);
    assert_eq!(portal.raise_event("ONAPPUPDATE", json!({"n": 2})), 1);
    // The first POST is at the handler, which holds it; the portal still answers calls.
    rx.wait(1).await;
    assert!(portal.deliveries().is_empty());
    assert_eq!(
        client.event_get(get::Request::new()).await.unwrap().len(),
        3
    );
    // Released, the rest follows in the order the events were raised.
    rx.release();
    rx.release();
    let done = tokio::time::timeout(WAIT, portal.wait_for_deliveries(3))
        .await
        .unwrap();
    let seen: Vec<_> = done
        .iter()
        .map(|d| (d.event.as_str(), d.outcome.is_ok()))
        .collect();
    assert_eq!(
        seen,
        [
            ("ONAPPTEST", true),
            ("ONAPPTEST", false),
            ("ONAPPUPDATE", true)
        ]
    );
    let bodies: Vec<serde_json::Value> = rx.posts().iter().map(|(_, b)| form(b)).collect();
    assert_eq!(bodies[0]["data"]["n"], "1");
    assert_eq!(bodies[1]["data"]["n"], "2");
    // The failure names the handler, never a token.
    let failed = format!("{:?}", done[1]);
    assert!(
        failed.contains("/gone") && !failed.contains(&portal.application_token(ID).unwrap()),
        "{failed}"
    );
}

#[tokio::test]
async fn onofflineevent_signals_new_records_at_most_once_per_min_timeout() {
    let (portal, _, client) = setup().await;
    let rx = Receiver::start().await;
    assert!(client.event_bind(offline("ONAPPTEST")).await.unwrap());
    let with_timeout = |path: &str, seconds: i64| {
        online("ONOFFLINEEVENT", &rx.url(path)).options(
            serde_json::from_value::<serde_json::Map<String, serde_json::Value>>(
                json!({"minTimeout": seconds}),
            )
            .unwrap(),
        )
    };
    assert!(client
        .event_bind(with_timeout("/hourly", 3600))
        .await
        .unwrap());
    assert!(client.event_bind(with_timeout("/each", 0)).await.unwrap());
    assert!(client
        .event_bind(online("ONAPPUPDATE", &rx.url("/sentinel")))
        .await
        .unwrap());
    for n in 0..3 {
        assert_eq!(portal.raise_event("ONAPPTEST", json!({"n": n})), 1);
    }
    // Deliveries go in order: once the sentinel is through, every notification is.
    portal.raise_event("ONAPPUPDATE", json!({}));
    let done = tokio::time::timeout(WAIT, portal.wait_for_deliveries(5))
        .await
        .unwrap();
    let paths: Vec<String> = rx.wait(5).await.into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["/hourly", "/each", "/each", "/each", "/sentinel"]);
    assert_eq!(
        done.iter().filter(|d| d.event == "ONOFFLINEEVENT").count(),
        4
    );
    // No data, and, unlike other events, a refresh token that works.
    let f = form(&rx.posts()[0].1);
    assert_eq!(f["event"], "ONOFFLINEEVENT");
    assert!(
        f.get("data").is_none(),
        "an empty array is not in a form body"
    );
    let refresh = f["auth"]["refresh_token"]
        .as_str()
        .expect("a refresh token");
    let a = common::get(&format!(
        "{}?grant_type=refresh_token&client_id={ID}&client_secret={SECRET}&refresh_token={refresh}",
        portal.token_endpoint()
    ))
    .await;
    assert_eq!(a.status, 200, "{}", a.raw);
    // The queue has the three records it signalled.
    assert_eq!(
        client
            .event_offline_list(offline_list::Request::new())
            .await
            .unwrap()
            .len(),
        3
    );
}
