//! The open-lines events: every documented payload, form-encoded exactly as the portal posts
//! it, is verified and decoded into its typed variant with the same values as the documented
//! JSON; a forged POST is refused with a typed error that never shows a token; and the local
//! portal delivers each event over HTTP to a handler built on the parser.

use std::sync::{Arc, Mutex};

use b24_core::php::http_build_query;
use b24_mock_portal::{MockPortal, PortalConfig};
use b24_openlines::events::{self, Event};
use b24_openlines::{ApplicationToken, EventError, ForgeryReason};
use serde_json::{Map, Value};

const TOKEN: &str = "51856fefc120afa4b628cc82d3935cce";

/// A documented payload with our token in `auth`.
fn payload(body: &str, token: &str) -> Map<String, Value> {
    let Value::Object(mut tree) = serde_json::from_str(body).expect("examples are JSON") else {
        panic!("examples are objects");
    };
    let auth = tree
        .entry("auth")
        .or_insert_with(|| Value::Object(Map::new()));
    auth.as_object_mut()
        .expect("auth is an object")
        .insert("application_token".into(), Value::String(token.into()));
    tree
}

/// What form encoding does to a value: every scalar becomes text (`true` → `1`, `false` →
/// `0`), `null` disappears, lists become objects keyed by index.
fn as_form(v: &Value) -> Option<Value> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => Value::String(if *b { "1" } else { "0" }.into()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(s) => Value::String(s.clone()),
        Value::Array(a) => Value::Object(
            a.iter()
                .enumerate()
                .filter_map(|(i, x)| as_form(x).map(|x| (i.to_string(), x)))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .filter_map(|(k, x)| as_form(x).map(|x| (k.clone(), x)))
                .collect(),
        ),
    })
}

/// The typed `data` of an event, serialised (typed fields as their Rust values, untyped
/// ones as received).
fn data_of(event: &Event) -> Value {
    macro_rules! data {
        ($($variant:ident),* $(,)?) => {
            match event {
                $(Event::$variant(d) => serde_json::to_value(&d.data),)*
                Event::Other(d) => Ok(d.data.clone()),
                _ => panic!("an event variant this test does not know: add it to data_of"),
            }
        };
    }
    data!(
        OnImConnectorDialogFinish,
        OnImConnectorDialogStart,
        OnImConnectorLineDelete,
        OnImConnectorMessageAdd,
        OnImConnectorMessageDelete,
        OnImConnectorMessageUpdate,
        OnImConnectorStatusDelete,
        OnOpenLineMessageAdd,
        OnOpenLineMessageDelete,
        OnOpenLineMessageUpdate,
        OnSessionFinish,
        OnSessionStart,
    )
    .expect("generated data types serialise")
}

#[test]
fn every_documented_payload_decodes_from_the_form_the_portal_posts() {
    let token = ApplicationToken::new(TOKEN);
    assert_eq!(events::EXAMPLES.len(), events::EVENTS.len());
    let mut decoded = 0;
    for (name, examples) in events::EXAMPLES {
        assert!(!examples.is_empty(), "{name} documents no payload");
        for ex in *examples {
            let tree = payload(ex.body, TOKEN);
            let form = http_build_query(&tree);
            let from_form = Event::parse(form.as_bytes(), &token)
                .unwrap_or_else(|e| panic!("{name}/{}: {e}", ex.name));
            assert!(
                !matches!(from_form, Event::Other(_)),
                "{name} decoded as an unknown event"
            );
            assert!(from_form.name().eq_ignore_ascii_case(name));
            assert_eq!(
                from_form.auth().domain.as_deref(),
                tree["auth"]["domain"].as_str(),
                "{name}"
            );
            // The JSON the docs show and the form the portal sends give the same typed data,
            // up to what form encoding itself does to untyped values.
            let json = serde_json::to_vec(&tree).expect("serialises");
            let from_json = Event::parse(&json, &token)
                .unwrap_or_else(|e| panic!("{name}/{} as JSON: {e}", ex.name));
            assert_eq!(
                as_form(&data_of(&from_form)),
                as_form(&data_of(&from_json)),
                "{name}/{}",
                ex.name
            );
            decoded += 1;
        }
    }
    assert!(decoded >= events::EVENTS.len(), "{decoded}");
}

#[test]
fn typed_fields_carry_the_documented_values() {
    let token = ApplicationToken::new(TOKEN);
    let parse = |name: &str| {
        let (_, examples) = events::EXAMPLES
            .iter()
            .find(|(n, _)| *n == name)
            .expect("documented");
        let form = http_build_query(&payload(examples[0].body, TOKEN));
        Event::parse(form.as_bytes(), &token).expect("verifies and decodes")
    };
    let Event::OnImConnectorMessageAdd(e) = parse("OnImConnectorMessageAdd") else {
        panic!("wrong variant");
    };
    assert_eq!(e.event, "ONIMCONNECTORMESSAGEADD");
    assert_eq!(e.handler_id, Some(555));
    assert_eq!(e.ts.map(|t| t.timestamp()), Some(1_773_759_161));
    assert_eq!(
        (e.data.connector.as_str(), e.data.line),
        ("myconnector", 107)
    );
    let m = &e.data.messages[0];
    assert_eq!((m.im.chat_id, m.im.message_id), (1807, 86497));
    assert_eq!(m.message.user_id, 27);
    assert_eq!(m.message.text, "[b]Светлана Иванова:[/b] [br]Добрый день!");
    assert_eq!(m.chat.id, "channel-123");
    assert_eq!(e.auth.user_id, Some(27));
    assert_eq!(
        e.auth.access_token.as_ref().map(|t| t.expose()),
        Some("c978b990071b0008440001b0895f697a")
    );
    assert!(
        !format!("{e:?}").contains("c978b990071b"),
        "tokens never print"
    );

    let Event::OnSessionStart(e) = parse("OnSessionStart") else {
        panic!("wrong variant");
    };
    assert_eq!(e.event_id, Some(1));
    let item = &e.data.data[0];
    let session = item
        .session
        .as_ref()
        .expect("the docs' shape has a session");
    assert_eq!((session.id, session.closed), (42, false));
}

#[test]
fn forged_posts_are_refused_with_a_typed_error() {
    let token = ApplicationToken::new(TOKEN);
    for (name, examples) in events::EXAMPLES {
        let body = examples[0].body;
        let wrong = http_build_query(&payload(body, "ffffffffffffffffffffffffffffffff"));
        let e = Event::parse(wrong.as_bytes(), &token).unwrap_err();
        assert!(
            matches!(&e, EventError::Forged { reason: ForgeryReason::WrongToken, event, .. } if event.eq_ignore_ascii_case(name)),
            "{name}: {e:?}"
        );
        let text = e.to_string();
        assert!(text.contains("forged") && !text.contains("ffffffff") && !text.contains(TOKEN));
        let mut tree = payload(body, TOKEN);
        tree["auth"]
            .as_object_mut()
            .expect("auth")
            .remove("application_token");
        let e = Event::parse(http_build_query(&tree).as_bytes(), &token).unwrap_err();
        assert!(matches!(
            e,
            EventError::Forged {
                reason: ForgeryReason::MissingToken,
                ..
            }
        ));
    }
    // Not an event at all.
    let e = Event::parse(b"hello=world", &token).unwrap_err();
    assert!(matches!(e, EventError::Malformed { .. }), "{e:?}");
}

/// Issue 10: an attacker who installed the application on their own portal has a genuine
/// token; a second spelling of `auth[member_id]` must not make their event the victim's.
#[test]
fn another_portal_cannot_be_named_with_ones_own_token() {
    const ATTACKER: &str = "a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7";
    let lookup = |c: &b24_openlines::PortalClaim<'_>| match c.member_id {
        Some("ATTACKER") => Some(ApplicationToken::new(ATTACKER)),
        Some("VICTIM") => Some(ApplicationToken::new(TOKEN)),
        _ => None,
    };
    let body = format!(
        "event=ONSESSIONSTART&auth[member_id]=ATTACKER&auth[application_token]={ATTACKER}\
         &auth[member_id]x=VICTIM&auth[domain]x=victim.bitrix24.com"
    );
    let e = Event::parse_with(body.as_bytes(), lookup).unwrap_err();
    assert!(
        matches!(
            e,
            EventError::Forged {
                reason: ForgeryReason::DuplicateAuthKey,
                ..
            }
        ),
        "{e:?}"
    );
    // A JSON member_id that is not a string is not "no member_id".
    let body = format!(
        r#"{{"event":"ONSESSIONSTART","auth":{{"member_id":["VICTIM"],"application_token":"{TOKEN}"}}}}"#
    );
    let e = Event::parse_with(body.as_bytes(), |c| {
        (c.member_id.is_none()).then(|| ApplicationToken::new(TOKEN))
    })
    .unwrap_err();
    assert!(
        matches!(
            e,
            EventError::Forged {
                reason: ForgeryReason::MalformedClaim,
                ..
            }
        ),
        "{e:?}"
    );
    // The attacker's own event is theirs.
    let own =
        format!("event=ONSESSIONSTART&auth[member_id]=ATTACKER&auth[application_token]={ATTACKER}");
    let event = Event::parse_with(own.as_bytes(), lookup).expect("a genuine event");
    assert_eq!(event.auth().member_id.as_deref(), Some("ATTACKER"));
}

#[test]
fn a_verified_payload_that_does_not_fit_names_the_path() {
    let token = ApplicationToken::new(TOKEN);
    let body = format!(
        "event=ONIMCONNECTORMESSAGEADD&data[CONNECTOR]=c&data[LINE]=seven&auth[application_token]={TOKEN}"
    );
    let e = Event::parse(body.as_bytes(), &token).unwrap_err();
    match e {
        EventError::Decode { event, path, .. } => {
            assert_eq!(event, "ONIMCONNECTORMESSAGEADD");
            assert_eq!(path, "data.LINE");
        }
        other => panic!("{other:?}"),
    }
    // An event no spec describes is kept, untyped.
    let body = format!("event=ONCRMLEADADD&data[FIELDS][ID]=5&auth[application_token]={TOKEN}");
    let Event::Other(e) = Event::parse(body.as_bytes(), &token).expect("verified") else {
        panic!("unknown events are Other");
    };
    assert_eq!(e.data["FIELDS"]["ID"], "5");
}

/// What the test handler saw.
type Seen = Arc<Mutex<Vec<Result<Event, EventError>>>>;

/// A handler as an application writes it: verify, decode, answer 200 (or 401 for a forgery).
async fn handler(
    state: axum::extract::State<Seen>,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    let parsed = Event::parse(&body, &ApplicationToken::new(TOKEN));
    let status = match &parsed {
        Ok(_) => axum::http::StatusCode::OK,
        Err(EventError::Forged { .. }) => axum::http::StatusCode::UNAUTHORIZED,
        Err(_) => axum::http::StatusCode::BAD_REQUEST,
    };
    state.0.lock().expect("not poisoned").push(parsed);
    status
}

#[tokio::test]
async fn the_local_portal_delivers_every_event_to_a_handler() {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route("/b24/events", axum::routing::post(handler))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let url = format!("http://{}/b24/events", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let portal = MockPortal::start(PortalConfig {
        application_token: TOKEN.into(),
        ..PortalConfig::default()
    })
    .await
    .expect("portal starts");
    let names = portal.events();
    assert_eq!(names.len(), events::EVENTS.len());
    for name in &names {
        let status = portal.deliver_event(name, &url).await.expect("delivered");
        assert_eq!(status, 200, "{name}");
    }
    {
        let seen = seen.lock().expect("not poisoned");
        assert_eq!(seen.len(), names.len());
        for (name, parsed) in names.iter().zip(seen.iter()) {
            let event = parsed.as_ref().expect("verified");
            assert!(event.name().eq_ignore_ascii_case(name));
            assert!(!matches!(event, Event::Other(_)), "{name}");
            // The portal addressed it from itself.
            let expected_domain = portal.addr().to_string();
            assert_eq!(
                event.auth().domain.as_deref(),
                Some(expected_domain.as_str())
            );
            assert_eq!(event.auth().member_id.as_deref(), Some(portal.member_id()));
        }
    }

    // A portal whose application token is not ours: the handler refuses every event.
    let stranger = MockPortal::start(PortalConfig::default())
        .await
        .expect("portal starts");
    let status = stranger
        .deliver_event("OnSessionStart", &url)
        .await
        .expect("delivered");
    assert_eq!(status, 401);
    assert!(matches!(
        seen.lock().expect("not poisoned").last(),
        Some(Err(EventError::Forged {
            reason: ForgeryReason::WrongToken,
            ..
        }))
    ));
    assert!(matches!(
        portal.deliver_event("OnNothing", &url).await,
        Err(b24_mock_portal::DeliveryError::UnknownEvent(_))
    ));
    assert!(matches!(
        portal
            .deliver_event("OnSessionStart", "http://example.com/x")
            .await,
        Err(b24_mock_portal::DeliveryError::BadHandler(_))
    ));
}
