//! Batches with writes over loopback: once a `batch` request may have reached the portal
//! (its answer lost, cut off, not JSON, too large, a JSON 500, or lacking a command), every
//! write in it is `OutcomeUnknown`, never `NotExecuted`; `NotExecuted` is kept for what the
//! portal provably did not run (no connection, 503/429, auth errors, `halt` after an earlier
//! error). Reads alone are replayed as single reads are.

use b24_core::{Error, Method, MethodKind, UndocumentedCode};
use b24_mock_portal::{ExtraMethod, FaultKind, FaultRule, MockPortal, PortalConfig};
use b24_openlines::imopenlines::dialog_get::Request;
use b24_runtime::{Client, RetryPolicy};
use serde_json::{json, Map, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const COUNTER: &str = "mock.counter.add";
const SECRET: &str = "batch-webhook-secret";

/// The mock portal's counting write method: each call adds one and answers the new value.
#[derive(Clone)]
struct CounterAdd;

impl Method for CounterAdd {
    const NAME: &'static str = COUNTER;
    const SCOPE: &'static str = "imopenlines";
    const KIND: MethodKind = MethodKind::Write;
    type Output = i64;
    type ErrorCode = UndocumentedCode;
    fn params(&self) -> Map<String, Value> {
        Map::new()
    }
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy {
        base_delay: std::time::Duration::from_millis(10),
        max_delay: std::time::Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

/// A portal with the counting write method and `faults`.
async fn portal(faults: Vec<FaultRule>) -> MockPortal {
    let mut config = PortalConfig::default().with_extra_method(ExtraMethod::counter(COUNTER));
    for f in faults {
        config = config.with_fault(f);
    }
    MockPortal::start(config).await.unwrap()
}

fn is_unknown<T: std::fmt::Debug, C: std::fmt::Debug>(r: &Result<T, Error<C>>) -> bool {
    matches!(r, Err(Error::OutcomeUnknown { .. }))
}

/// A batch of two writes around a read, against `client`; the typed results.
async fn write_read_write(
    client: &Client,
    halt: bool,
) -> (
    [Result<i64, Error>; 2],
    Result<i64, Error<b24_openlines::imopenlines::dialog_get::ErrorCode>>,
    usize,
) {
    let mut batch = client.batch().halt(halt);
    let first = batch.push(&CounterAdd);
    let read = batch.push(&Request::chat_id(1777));
    let second = batch.push(&CounterAdd);
    let results = batch.send().await;
    (
        [results.get(first), results.get(second)],
        results.get(read).map(|d| d.id),
        results.requests(),
    )
}

#[tokio::test]
async fn writes_whose_batch_answer_was_lost_cut_off_or_a_500_are_outcome_unknown() {
    for kind in [
        FaultKind::DropConnection,
        FaultKind::TruncatedBody,
        FaultKind::InternalError,
        FaultKind::BadGatewayHtml,
    ] {
        let portal = portal(vec![FaultRule::new(Some("batch"), kind.clone())
            .after_execution()
            .max_count(1)])
        .await;
        let client = Client::builder_webhook(&portal.webhook_url())
            .retry(quick_retries())
            .build()
            .unwrap();
        let (writes, read, requests) = write_read_write(&client, false).await;
        for w in &writes {
            assert!(is_unknown(w), "{kind:?}: {w:?}");
        }
        // The read shared the lost answer: its outcome is unknown too, not "not executed".
        assert!(is_unknown(&read), "{kind:?}: {read:?}");
        assert_eq!(requests, 1, "{kind:?}");
        let c = portal.counters();
        assert_eq!(
            c.requests, 1,
            "{kind:?}: a batch with writes is not replayed"
        );
        assert_eq!(c.executed(COUNTER), 2, "{kind:?}: both writes did run");
    }
}

#[tokio::test]
async fn writes_whose_batch_answer_is_too_large_are_outcome_unknown() {
    let portal = portal(Vec::new()).await;
    let client = Client::builder_webhook(&portal.webhook_url())
        .max_response_bytes(300)
        .retry(quick_retries())
        .build()
        .unwrap();
    let (writes, read, _) = write_read_write(&client, false).await;
    assert!(writes.iter().all(is_unknown), "{writes:?}");
    assert!(is_unknown(&read), "{read:?}");
    assert_eq!(portal.counters().executed(COUNTER), 2);
}

/// A stub portal whose `batch` answers `template`, and a webhook client for it.
async fn stub(template: ResponseTemplate) -> (MockServer, Client) {
    stub_with(template, quick_retries()).await
}

async fn stub_with(template: ResponseTemplate, retry: RetryPolicy) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/rest/1/{SECRET}/batch.json")))
        .respond_with(template)
        .mount(&server)
        .await;
    let client = Client::builder_webhook(&format!("{}/rest/1/{SECRET}/", server.uri()))
        .retry(retry)
        .build()
        .unwrap();
    (server, client)
}

#[tokio::test]
async fn writes_whose_batch_answer_is_not_a_readable_envelope_are_outcome_unknown() {
    for template in [
        // A maintenance page with 200.
        ResponseTemplate::new(200).set_body_raw("<html>Back soon</html>", "text/html"),
        // JSON, but neither `result` nor `error`.
        ResponseTemplate::new(200).set_body_json(json!({"time": {"start": 1}})),
        // A 404 page of a proxy.
        ResponseTemplate::new(404).set_body_raw("<html>Not Found</html>", "text/html"),
    ] {
        let (server, client) = stub(template).await;
        let many = client.many([CounterAdd, CounterAdd]).await;
        assert_eq!(many.len(), 2);
        for r in &many {
            assert!(is_unknown(r), "{r:?}");
        }
        let requests = server.received_requests().await.unwrap_or_default().len();
        assert_eq!(requests, 1, "not replayed");
    }
}

fn batch_answer(result: Value, errors: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "result": {
            "result": result, "result_error": errors,
            "result_total": [], "result_next": [], "result_time": []
        },
        "time": {"start": 1}
    }))
}

#[tokio::test]
async fn a_command_the_answer_lacks_is_outcome_unknown_unless_halt_stopped_it() {
    // halt=false: every command runs, so one missing from the answer is not "halted".
    let (_s, client) = stub(batch_answer(json!({"c0": 1}), json!([]))).await;
    let mut batch = client.batch();
    let handles: Vec<_> = (0..3).map(|_| batch.push(&CounterAdd)).collect();
    let results = batch.send().await;
    assert_eq!(results.get(handles[0]).unwrap(), 1);
    for h in &handles[1..] {
        match results.get(*h) {
            Err(e @ Error::OutcomeUnknown { .. }) => {
                assert!(
                    e.to_string().contains("neither a result nor an error"),
                    "{e}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    // halt=true without an earlier error: the missing command is unexplained as well.
    let (_s, client) = stub(batch_answer(json!({"c0": 1}), json!([]))).await;
    let mut batch = client.batch().halt(true);
    let handles: Vec<_> = (0..2).map(|_| batch.push(&CounterAdd)).collect();
    let results = batch.send().await;
    assert!(is_unknown(&results.get(handles[1])));

    // halt=true after a failed command: the rest provably did not run.
    let (_s, client) = stub(batch_answer(
        json!([]),
        json!({"c0": {"error": "ACCESS_ERROR", "error_description": "no"}}),
    ))
    .await;
    let mut batch = client.batch().halt(true);
    let handles: Vec<_> = (0..3).map(|_| batch.push(&CounterAdd)).collect();
    let results = batch.send().await;
    assert!(matches!(results.get(handles[0]), Err(Error::Api { .. })));
    for h in &handles[1..] {
        assert!(
            matches!(results.get(*h), Err(Error::NotExecuted { .. })),
            "{:?}",
            results.get(*h)
        );
    }
}

#[tokio::test]
async fn writes_the_portal_provably_did_not_run_are_not_executed() {
    let not_executed = |r: &Result<i64, Error>| matches!(r, Err(Error::NotExecuted { .. }));

    // Refused by the portal's limits before anything ran.
    for (status, code) in [(503, "QUERY_LIMIT_EXCEEDED"), (429, "OPERATION_TIME_LIMIT")] {
        let (_s, client) = stub_with(
            ResponseTemplate::new(status)
                .set_body_json(json!({"error": code, "error_description": "later"})),
            RetryPolicy::none(),
        )
        .await;
        let r = client.many([CounterAdd]).await;
        assert!(r.iter().all(not_executed), "{code}: {r:?}");
    }

    // No connection at all.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let client = Client::builder_webhook(&format!("http://{addr}/rest/1/{SECRET}/"))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let r = client.many([CounterAdd]).await;
    assert!(r.iter().all(not_executed), "{r:?}");

    // A wrong webhook secret: NO_AUTH_FOUND.
    let portal = portal(Vec::new()).await;
    let wrong = Client::from_webhook(&format!("{}rest/1/wrong/", portal.base_url())).unwrap();
    let r = wrong.many([CounterAdd]).await;
    assert!(r.iter().all(not_executed), "{r:?}");

    // `halt` after an earlier failed command.
    let client = Client::from_webhook(&portal.webhook_url()).unwrap();
    let mut batch = client.batch().halt(true);
    let bad = batch.push(&Request::chat_id(999_999));
    let write = batch.push(&CounterAdd);
    let results = batch.send().await;
    assert!(matches!(results.get(bad), Err(Error::Api { .. })));
    assert!(
        not_executed(&results.get(write)),
        "{:?}",
        results.get(write)
    );
    assert_eq!(portal.counters().executed(COUNTER), 0);
}

#[tokio::test]
async fn a_batch_of_reads_whose_answer_was_lost_is_replayed() {
    let portal = portal(vec![FaultRule::new(
        Some("batch"),
        FaultKind::DropConnection,
    )
    .after_execution()
    .max_count(1)])
    .await;
    let client = Client::builder_webhook(&portal.webhook_url())
        .retry(quick_retries())
        .build()
        .unwrap();
    let results = client
        .many([Request::chat_id(1777), Request::chat_id(1777)])
        .await;
    assert!(results
        .iter()
        .all(|r| r.as_ref().is_ok_and(|d| d.id == 1777)));
    assert_eq!(portal.counters().requests, 2);
}
