//! The client over real HTTP on loopback against a stub server: success, every documented
//! error code, portal-wide errors, an HTML 502 page, truncated bodies, a dropped connection,
//! quirky bodies, and secrets kept out of every error.

use b24_core::{ApiErrorCode, Error, PortalErrorCode, TransportPhase};
use b24_openlines::imopenlines::dialog_get::{self, ErrorCode, Request};
use b24_openlines::Client;
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "s3cr3t-webhook-code";
const TOKEN: &str = "t0ken-value-abc";
const METHOD_PATH: &str = "/rest/1/s3cr3t-webhook-code/imopenlines.dialog.get.json";

fn example_body(name: &str) -> Value {
    let ex = dialog_get::EXAMPLES
        .iter()
        .find(|e| e.name == name)
        .unwrap();
    serde_json::from_str(ex.body).unwrap()
}

/// These tests pin what one call does with one answer, so retries are off (the retry
/// policy has tests of its own).
fn client_at(base: &str) -> Client {
    b24_runtime::Client::builder_webhook(&format!("{base}/rest/1/{SECRET}/"))
        .retry(b24_runtime::RetryPolicy::none())
        .build()
        .unwrap()
        .into()
}

async fn client_for(server: &MockServer) -> Client {
    client_at(&server.uri())
}

/// No error, whatever its kind, shows the webhook secret or token.
fn assert_no_secret<E: std::fmt::Debug + std::fmt::Display>(e: &E) {
    for text in [format!("{e}"), format!("{e:?}")] {
        assert!(
            !text.contains(SECRET) && !text.contains(TOKEN),
            "secret leaked: {text}"
        );
    }
}

/// A stub that gives every dialog.get call `template`, and a client for it.
async fn serve(template: ResponseTemplate) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(METHOD_PATH))
        .respond_with(template)
        .mount(&server)
        .await;
    let client = client_for(&server).await;
    (server, client)
}

async fn answer(status: u16, body: Value) -> (MockServer, Client) {
    serve(ResponseTemplate::new(status).set_body_json(body)).await
}

#[tokio::test]
async fn success_by_each_identifier_sends_exactly_that_identifier() {
    let cases = [
        (Request::chat_id(1777), json!({"CHAT_ID": 1777})),
        (
            Request::dialog_id("chat1777"),
            json!({"DIALOG_ID": "chat1777"}),
        ),
        (Request::session_id(1743), json!({"SESSION_ID": 1743})),
        (
            Request::user_code("livechat|1|1373|211"),
            json!({"USER_CODE": "livechat|1|1373|211"}),
        ),
    ];
    for (request, wire) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(METHOD_PATH))
            .and(header("content-type", "application/json"))
            .and(body_json(&wire))
            .respond_with(ResponseTemplate::new(200).set_body_json(example_body("current")))
            .expect(1)
            .mount(&server)
            .await;
        let client = client_for(&server).await;
        let dialog = client.dialog_get(request).await.unwrap();
        assert_eq!(dialog.id, 1777);
        assert_eq!(dialog.dialog_id.as_deref(), Some("chat1777"));
    }
}

#[tokio::test]
async fn envelope_time_is_returned_by_call_envelope() {
    let (_server, client) = answer(200, example_body("current")).await;
    let env = client
        .runtime()
        .call_envelope(&Request::chat_id(1777))
        .await
        .unwrap();
    let time = env.time.unwrap();
    assert_eq!(time.operating_reset_at, Some(1773684278));
    assert_eq!(
        env.result.name,
        "Салатовый гость №17 - Документация Битрикс24"
    );
}

#[tokio::test]
async fn oauth_sends_the_token_as_auth_and_hides_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/imopenlines.dialog.get.json"))
        .and(body_json(json!({"CHAT_ID": 1777, "auth": TOKEN})))
        .respond_with(ResponseTemplate::new(200).set_body_json(example_body("current")))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::from_oauth(&server.uri(), TOKEN).unwrap();
    assert_no_secret(&format!("{client:?}"));
    assert_eq!(
        client.dialog_get(Request::chat_id(1777)).await.unwrap().id,
        1777
    );
}

#[tokio::test]
async fn each_documented_error_code() {
    for (code, variant) in [
        ("ACCESS_ERROR", ErrorCode::AccessError),
        ("IM_NOT_INSTALLED", ErrorCode::ImNotInstalled),
        ("DIALOG_ID_EMPTY", ErrorCode::DialogIdEmpty),
    ] {
        let (_s, client) = answer(400, json!({"error": code, "error_description": "text"})).await;
        let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
        assert_no_secret(&err);
        assert_eq!(err.status(), Some(400));
        assert_eq!(err.code(), Some(&ApiErrorCode::Method(variant)), "{code}");
        assert_eq!(err.method(), "imopenlines.dialog.get");
    }
    let (_s, client) = answer(
        400,
        json!({"error": "BRAND_NEW_CODE", "error_description": "?"}),
    )
    .await;
    let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
    let Some(ApiErrorCode::Method(ErrorCode::Unknown(code))) = err.code() else {
        panic!("an undocumented code is Unknown: {err:?}");
    };
    assert_eq!(code.as_str(), "BRAND_NEW_CODE");
}

#[tokio::test]
async fn portal_wide_errors_keep_their_status() {
    for (status, code, want) in [
        (
            503,
            "QUERY_LIMIT_EXCEEDED",
            PortalErrorCode::QueryLimitExceeded,
        ),
        (
            429,
            "OPERATION_TIME_LIMIT",
            PortalErrorCode::OperationTimeLimit,
        ),
        (401, "NO_AUTH_FOUND", PortalErrorCode::NoAuthFound),
        (401, "expired_token", PortalErrorCode::ExpiredToken),
        (
            403,
            "insufficient_scope",
            PortalErrorCode::InsufficientScope,
        ),
        (
            401,
            "insufficient_scope",
            PortalErrorCode::InsufficientScope,
        ),
        (
            500,
            "INTERNAL_SERVER_ERROR",
            PortalErrorCode::InternalServerError,
        ),
        (
            404,
            "ERROR_METHOD_NOT_FOUND",
            PortalErrorCode::ErrorMethodNotFound,
        ),
    ] {
        let (_s, client) = answer(status, json!({"error": code, "error_description": "d"})).await;
        let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
        assert_no_secret(&err);
        assert!(err.is_portal(want), "{code}: {err:?}");
        assert_eq!(err.status(), Some(status));
    }
}

#[tokio::test]
async fn html_502_page_is_an_unexpected_response() {
    let (_server, client) = serve(ResponseTemplate::new(502).set_body_raw(
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>",
        "text/html",
    ))
    .await;
    let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
    assert_no_secret(&err);
    match err {
        Error::UnexpectedResponse {
            status,
            content_type,
            excerpt,
            ..
        } => {
            assert_eq!(status, 502);
            assert_eq!(content_type, "text/html");
            assert!(excerpt.contains("502 Bad Gateway"), "{excerpt}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn truncated_json_body_is_a_decode_error() {
    let full = example_body("current").to_string();
    let (_server, client) = serve(
        ResponseTemplate::new(200)
            .set_body_raw(full[..full.len() / 2].to_string(), "application/json"),
    )
    .await;
    let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
    assert_no_secret(&err);
    match err {
        Error::Decode {
            status, message, ..
        } => {
            assert_eq!(status, 200);
            assert!(message.contains("EOF"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn body_shorter_than_its_content_length_is_a_transport_error_while_reading() {
    let body = example_body("current").to_string();
    let raw = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
        body.len(),
        &body[..100]
    );
    let addr = b24_tests::raw_http_once(raw.into_bytes()).await.unwrap();
    let client = client_at(&format!("http://{addr}"));
    let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
    assert_no_secret(&err);
    assert!(
        matches!(
            err,
            Error::Transport {
                phase: TransportPhase::Reading,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn dropped_connection_is_a_transport_error() {
    let addr = b24_tests::raw_http_once(Vec::new()).await.unwrap();
    let client = client_at(&format!("http://{addr}"));
    let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
    assert_no_secret(&err);
    assert!(
        matches!(
            err,
            Error::Transport {
                phase: TransportPhase::AfterSend,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn refused_connection_is_a_transport_error_before_send() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = client_at(&format!("http://{addr}"));
    let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
    assert_no_secret(&err);
    assert!(
        matches!(
            err,
            Error::Transport {
                phase: TransportPhase::Connect,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn quirky_body_over_http() {
    let mut body = example_body("current");
    let r = &mut body["result"];
    r["id"] = json!("1777");
    r["owner"] = json!("27");
    r["extranet"] = json!("N");
    r["restrictions"] = json!([]);
    r["permissions"] = json!([]);
    r["public"] = json!({"code": "x1", "link": "https://example.invalid/x1"});
    r["manager_list"] = json!(["27"]);
    r["is_new"] = json!(1);
    r["new_portal_key"] = json!(true);
    // PHP's json_encode writes `/` as `\/`.
    let php = body.to_string().replace('/', "\\/");
    assert!(php.contains("https:\\/\\/example.invalid"));
    let (_server, client) =
        serve(ResponseTemplate::new(200).set_body_raw(php, "application/json")).await;
    let d = client.dialog_get(Request::chat_id(1777)).await.unwrap();
    assert_eq!((d.id, d.owner, d.extranet), (1777, 27, false));
    assert_eq!(d.restrictions, None);
    assert_eq!(d.permissions, None);
    assert_eq!(
        d.public.map(|p| p.link),
        Some("https://example.invalid/x1".to_string())
    );
    assert_eq!(d.manager_list, vec![27]);
    assert_eq!(d.is_new, Some(true));
    assert_eq!(d.extra["new_portal_key"], json!(true));
}

#[tokio::test]
async fn oversized_answers_are_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(example_body("current")))
        .mount(&server)
        .await;
    let client: Client =
        b24_runtime::Client::builder_webhook(&format!("{}/rest/1/{SECRET}/", server.uri()))
            .max_response_bytes(512)
            .build()
            .unwrap()
            .into();
    let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
    assert!(
        matches!(err, Error::UnexpectedResponse { ref excerpt, .. } if excerpt.contains("512-byte")),
        "{err:?}"
    );
}

#[tokio::test]
async fn raw_calls_share_the_envelope_and_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(
            "/rest/1/s3cr3t-webhook-code/imopenlines.revision.get.json",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"result": {"rest": 1, "web": 2}, "time": {"start": 1}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/1/s3cr3t-webhook-code/no.such.method.json"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}),
        ))
        .mount(&server)
        .await;
    let client = client_for(&server).await;
    let env = client
        .runtime()
        .call_raw(
            "imopenlines.revision.get",
            b24_core::MethodKind::Read,
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(env.result["web"], 2);
    let err = client
        .runtime()
        .call_raw(
            "no.such.method",
            b24_core::MethodKind::Read,
            Default::default(),
        )
        .await
        .unwrap_err();
    assert!(err.is_portal(PortalErrorCode::ErrorMethodNotFound));
    assert_no_secret(&err);
}

/// A proxy's 502 page that echoes the request line it got, as some proxies' pages do.
fn echoing_proxy_page(head: &str) -> Vec<u8> {
    let line = head.lines().next().unwrap_or_default();
    let body = format!(
        "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>\
         <pre>{line}</pre></body></html>"
    );
    format!(
        "HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test]
async fn a_proxy_page_echoing_the_request_line_keeps_the_secret_out() {
    let addr = b24_tests::raw_http_echo(echoing_proxy_page).await.unwrap();
    let client = client_at(&format!("http://{addr}"));
    let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
    assert_no_secret(&err);
    match &err {
        Error::UnexpectedResponse {
            status: 502,
            excerpt,
            ..
        } => assert!(
            excerpt.contains("POST /rest/1/***/imopenlines.dialog.get.json HTTP/1.1"),
            "the page did echo the request line: {excerpt}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_redirect_page_naming_the_webhook_url_keeps_the_secret_out() {
    let target = format!("https://portal.example/rest/1/{SECRET}/imopenlines.dialog.get.json");
    let (_server, client) = serve(
        ResponseTemplate::new(301)
            .insert_header("location", target.as_str())
            .set_body_raw(
                format!("<html><body>Moved to <a href=\"{target}\">{target}</a></body></html>"),
                "text/html",
            ),
    )
    .await;
    let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
    assert_no_secret(&err);
    assert!(
        matches!(err, Error::UnexpectedResponse { status: 301, ref excerpt, .. } if excerpt.contains("/rest/1/***/")),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_error_description_naming_the_access_token_keeps_it_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/rest/imopenlines.dialog.get.json"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "invalid_token",
            "error_description": format!("The access token provided ({TOKEN}) is invalid"),
            "request": {"auth": TOKEN}
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/rest/batch.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "result": {
                "result": [],
                "result_error": {"c0": {
                    "error": "invalid_token",
                    "error_description": format!("token {TOKEN} refused")
                }},
                "result_total": [], "result_next": [], "result_time": []
            }
        })))
        .mount(&server)
        .await;
    let client = Client::from_oauth(&server.uri(), TOKEN).unwrap();
    let err = client.dialog_get(Request::chat_id(1)).await.unwrap_err();
    assert_no_secret(&err);
    assert!(err.is_portal(PortalErrorCode::InvalidToken), "{err:?}");
    assert!(
        err.to_string().contains("The access token provided (***)"),
        "{err}"
    );

    let mut batch = client.runtime().batch();
    let handle = batch.push(&Request::chat_id(1));
    let err = batch.send().await.get(handle).unwrap_err();
    assert_no_secret(&err);
    assert!(err.to_string().contains("token *** refused"), "{err}");
}
