//! The runtime against the local portal: the client-side bucket, retries (and what is never
//! retried), OAuth refresh, typed batch, automatic batching, paging, and secrets kept out of
//! the logs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use b24_core::{ApiErrorCode, Error, MethodKind, PortalErrorCode};
use b24_mock_portal::{
    ExtraMethod, FaultKind, FaultRule, LimitConfig, MockPortal, OAuthToken, PortalConfig,
};
use b24_openlines::imopenlines::dialog_get::{self, ErrorCode, Request};
use b24_runtime::{
    Client, OAuthConfig, OAuthTokens, RateLimit, RetryPolicy, StoreError, TokenStore,
};
use futures_util::StreamExt;
use serde_json::json;

mod leaks;

b24_macros::generate!(spec = "../specs/paged", base = file);

fn limits(burst: f64, drain: f64) -> LimitConfig {
    LimitConfig {
        burst,
        drain_per_sec: drain,
        ..LimitConfig::default()
    }
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        ..RetryPolicy::default()
    }
}

/// A client of `portal` with the default bucket and quick retries.
fn quick_client(portal: &MockPortal) -> Client {
    Client::builder_webhook(&portal.webhook_url())
        .retry(fast_retry())
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_client_bucket_keeps_the_portal_from_ever_saying_503() {
    let portal = MockPortal::start(PortalConfig::default().with_limits(limits(5.0, 20.0)))
        .await
        .unwrap();
    let client = Client::builder_webhook(&portal.webhook_url())
        .rate_limit(Some(RateLimit::custom(5, 20.0).unwrap()))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let start = Instant::now();
    let calls = (0..25).map(|_| {
        let client = client.clone();
        async move { client.call(&Request::chat_id(1777)).await }
    });
    let results = futures_util::future::join_all(calls).await;
    let elapsed = start.elapsed().as_secs_f64();
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(portal.counters().rejected_by_limiter, 0);
    // 20 calls beyond the burst at 20 per second: about one second, not less.
    assert!(elapsed >= 0.95, "{elapsed}");
}

#[tokio::test]
async fn query_limit_exceeded_is_retried_for_any_method() {
    let portal = MockPortal::start(
        PortalConfig::default()
            .with_limits(limits(3.0, 10.0))
            .with_extra_method(ExtraMethod::counter("mock.counter.add")),
    )
    .await
    .unwrap();
    // No client-side bucket: the portal's 503s are what the client must survive.
    let client = Client::builder_webhook(&portal.webhook_url())
        .rate_limit(None)
        .retry(RetryPolicy {
            max_attempts: 30,
            ..fast_retry()
        })
        .build()
        .unwrap();
    let calls = (0..10).map(|_| {
        let client = client.clone();
        async move {
            client
                .call_raw("mock.counter.add", MethodKind::Write, Default::default())
                .await
        }
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let c = portal.counters();
    assert!(
        c.rejected_by_limiter > 0,
        "the portal did refuse some calls"
    );
    assert_eq!(
        c.executed("mock.counter.add"),
        10,
        "each write ran exactly once"
    );
}

#[tokio::test]
async fn lost_answers_are_retried_for_reads_only() {
    let portal = MockPortal::start(
        PortalConfig::default()
            .with_extra_method(ExtraMethod::counter("mock.counter.add"))
            .with_fault(
                FaultRule::new(Some("imopenlines.dialog.get"), FaultKind::DropConnection)
                    .max_count(2),
            )
            .with_fault(
                FaultRule::new(Some("mock.counter.add"), FaultKind::TruncatedBody)
                    .after_execution()
                    .max_count(1),
            ),
    )
    .await
    .unwrap();
    let client = quick_client(&portal);
    let dialog = client.call(&Request::chat_id(1777)).await.unwrap();
    assert_eq!(dialog.id, 1777, "a read survives two dropped connections");
    let err = client
        .call_raw("mock.counter.add", MethodKind::Write, Default::default())
        .await
        .unwrap_err();
    match &err {
        Error::OutcomeUnknown { method, .. } => assert_eq!(method, "mock.counter.add"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("outcome unknown"));
    assert_eq!(
        portal.counters().executed("mock.counter.add"),
        1,
        "the write ran once and was never replayed"
    );
}

/// A portal with a counting write method whose first request answers 500, and a client
/// with quick retries.
async fn portal_with_one_500() -> (MockPortal, Client) {
    let portal = MockPortal::start(
        PortalConfig::default()
            .with_extra_method(ExtraMethod::counter("mock.counter.add"))
            .with_fault(FaultRule::new(None, FaultKind::InternalError).max_count(1)),
    )
    .await
    .unwrap();
    let client = quick_client(&portal);
    (portal, client)
}

#[tokio::test]
async fn a_500_is_retried_for_reads_and_returned_for_writes() {
    let (portal, client) = portal_with_one_500().await;
    client.call(&Request::chat_id(1777)).await.unwrap();
    assert_eq!(portal.counters().requests, 2, "the read was retried once");

    let (portal, client) = portal_with_one_500().await;
    let err = client
        .call_raw("mock.counter.add", MethodKind::Write, Default::default())
        .await
        .unwrap_err();
    assert!(
        err.is_portal(PortalErrorCode::InternalServerError),
        "{err:?}"
    );
    assert_eq!(
        portal.counters().requests,
        1,
        "a write's 500 is not retried"
    );
}

#[tokio::test]
async fn operation_time_limit_waits_for_the_reset() {
    let portal = MockPortal::start(PortalConfig::default().with_limits(LimitConfig {
        operating_limit: Duration::from_millis(250),
        operating_window: Duration::from_secs(2),
        processing: Duration::from_millis(100),
        ..LimitConfig::default()
    }))
    .await
    .unwrap();
    let client = quick_client(&portal);
    for _ in 0..6 {
        client.call(&Request::chat_id(1777)).await.unwrap();
    }
    assert!(
        portal.counters().rejected_by_operating > 0,
        "the budget was exceeded and waited out"
    );
}

#[tokio::test]
async fn typed_batch_with_errors_and_halt() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let client = Client::from_webhook(&portal.webhook_url()).unwrap();
    let mut batch = client.batch();
    let ok = batch.push(&Request::chat_id(1777));
    let bad = batch.push(&Request::chat_id(999_999));
    let by_code = batch.push(&Request::user_code("imol|livechat|1|1373|211"));
    let results = batch.send().await;
    assert_eq!(results.requests(), 1);
    assert_eq!(results.get(ok).unwrap().id, 1777);
    assert_eq!(results.get(by_code).unwrap().id, 1777);
    match results.get(bad) {
        Err(Error::Api { error, .. }) => {
            assert_eq!(error.code, ApiErrorCode::Method(ErrorCode::AccessError));
            assert_eq!(error.status, 400);
        }
        other => panic!("{other:?}"),
    }

    let mut batch = client.batch().halt(true);
    let handles: Vec<_> = (0..120)
        .map(|i| batch.push(&Request::chat_id(if i == 10 { 999_999 } else { 1777 })))
        .collect();
    let results = batch.send().await;
    assert_eq!(
        results.requests(),
        1,
        "the later chunks are not sent after a halt"
    );
    assert!(results.get(handles[9]).is_ok());
    assert!(results.get(handles[10]).is_err());
    assert!(matches!(
        results.get(handles[11]),
        Err(Error::NotExecuted { .. })
    ));
    assert!(matches!(
        results.get(handles[119]),
        Err(Error::NotExecuted { .. })
    ));
}

#[tokio::test]
async fn many_packs_fifty_calls_a_request_in_order() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let client = Client::from_webhook(&portal.webhook_url()).unwrap();
    let requests: Vec<Request> = (0..120)
        .map(|i| {
            if i % 40 == 7 {
                Request::chat_id(999_999)
            } else {
                Request::chat_id(1777)
            }
        })
        .collect();
    let before = portal.counters().requests;
    let results = client.many(requests).await;
    assert_eq!(
        portal.counters().requests - before,
        3,
        "ceil(120 / 50) requests"
    );
    assert_eq!(results.len(), 120);
    for (i, r) in results.iter().enumerate() {
        if i % 40 == 7 {
            assert!(r.is_err(), "{i}");
        } else {
            assert_eq!(r.as_ref().map(|d| d.id).ok(), Some(1777), "{i}");
        }
    }
}

#[tokio::test]
async fn paging_walks_every_page_once() {
    let items: Vec<_> = (1..=123).map(|i| json!({"ID": i})).collect();
    let portal = MockPortal::start(
        PortalConfig::default().with_extra_method(ExtraMethod::list("mock.items.list", items)),
    )
    .await
    .unwrap();
    let client = Client::from_webhook(&portal.webhook_url()).unwrap();
    let ids: Vec<i64> = client
        .paginate(mock::items_list::Request::new())
        .map(|r| r.map(|item| item.id))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ids, (1..=123).collect::<Vec<i64>>());
    assert_eq!(portal.counters().requests, 3, "start = 0, 50, 100");
}

#[derive(Default)]
struct MemoryStore {
    saved: Mutex<Vec<OAuthTokens>>,
}

impl TokenStore for MemoryStore {
    fn save<'a>(
        &'a self,
        tokens: &'a OAuthTokens,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StoreError>> + Send + 'a>>
    {
        Box::pin(async move {
            self.saved.lock().unwrap().push(tokens.clone());
            Ok(())
        })
    }
}

#[tokio::test]
async fn expired_token_is_refreshed_once_for_all_concurrent_callers() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let portal = MockPortal::start(
        PortalConfig::default()
            .with_token(OAuthToken::new("old-access-token", &["imopenlines"]).expired())
            .with_token(OAuthToken::new("new-access-token", &["imopenlines"])),
    )
    .await
    .unwrap();
    let oauth_server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/oauth/token/"))
        .and(query_param("grant_type", "refresh_token"))
        .and(query_param("refresh_token", "old-refresh-token"))
        .and(query_param("client_secret", "app-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "new-access-token",
            "refresh_token": "new-refresh-token",
            "expires_in": 3600
        })))
        .expect(1)
        .mount(&oauth_server)
        .await;
    let store = Arc::new(MemoryStore::default());
    let client = Client::builder_oauth(&portal.base_url(), "old-access-token")
        .refresh(
            "old-refresh-token",
            OAuthConfig::new("app.1", "app-secret")
                .with_token_endpoint(
                    format!("{}/oauth/token/", oauth_server.uri())
                        .parse()
                        .unwrap(),
                )
                .with_store(store.clone()),
        )
        .build()
        .unwrap();
    let calls = (0..8).map(|_| {
        let client = client.clone();
        async move { client.call(&Request::chat_id(1777)).await }
    });
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let saved = store.saved.lock().unwrap();
    assert_eq!(saved.len(), 1, "one refresh, persisted once");
    assert_eq!(saved[0].refresh_token.expose(), "new-refresh-token");
    assert_eq!(
        client.oauth_tokens().unwrap().access_token.expose(),
        "new-access-token"
    );
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

thread_local! {
    /// Where this thread's `tracing` output goes while a test captures it.
    static SINK: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// Stops this thread's capture when dropped.
struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        SINK.with(|s| s.borrow_mut().take());
    }
}

/// Writes to the capture of the thread that logs, if any.
struct ThreadSink;

impl std::io::Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        SINK.with(|s| {
            if let Some(c) = s.borrow().as_ref() {
                c.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Captures this thread's `tracing` output, every level, until the guard drops.
    ///
    /// One global subscriber serves every test of this binary and routes each line to the
    /// capture of the thread that wrote it (a `#[tokio::test]` runs its client and portal on
    /// its own thread). Per-thread scoped subscribers raced: tests installing and dropping
    /// them on other threads made tracing re-evaluate its callsite interest, and a retry line
    /// was now and then not emitted at all.
    fn install() -> (Captured, CaptureGuard) {
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(|| ThreadSink)
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("the only global subscriber");
        });
        let captured = Captured::default();
        SINK.with(|s| *s.borrow_mut() = Some(captured.clone()));
        (captured, CaptureGuard)
    }
}

/// Every way a secret could leak (see `leaks`): no error, client or `tracing` line holds one.
/// `log_records.rs` runs the same calls into a `log` logger.
#[tokio::test]
async fn no_secret_in_any_log_line_or_error() {
    let (captured, _guard) = Captured::install();
    let texts = leaks::leaky_calls().await;
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    leaks::assert_logged_without_secrets(&texts, &log);
    let _ = dialog_get::METHOD;
}

/// A failed attempt the portal never counted (a dropped connection, a proxy's HTML 502) gives
/// its bucket slot back; one the portal did count (its JSON 500, a cut-off answer) keeps it.
/// Either way the client's bucket ends where the portal's is, and no call meets a 503.
#[tokio::test]
async fn the_bucket_is_charged_only_for_attempts_the_portal_counted() {
    for (kind, counted) in [
        (FaultKind::DropConnection, false),
        (FaultKind::BadGatewayHtml, false),
        (FaultKind::InternalError, true),
        (FaultKind::TruncatedBody, true),
    ] {
        let portal = MockPortal::start(
            PortalConfig::default()
                .with_limits(limits(50.0, 0.01))
                .with_fault(
                    FaultRule::new(Some("imopenlines.dialog.get"), kind.clone()).max_count(3),
                ),
        )
        .await
        .unwrap();
        let client = Client::builder_webhook(&portal.webhook_url())
            .rate_limit(Some(RateLimit::custom(50, 0.01).unwrap()))
            .retry(fast_retry())
            .build()
            .unwrap();
        for _ in 0..4 {
            client.call(&Request::chat_id(1777)).await.unwrap();
        }
        let c = portal.counters();
        assert_eq!(
            (c.requests, c.faults_injected, c.rejected_by_limiter),
            (7, 3, 0)
        );
        let want = if counted { 7.0 } else { 4.0 };
        let ours = client.bucket().unwrap().level();
        let theirs = portal.bucket_level();
        assert!((ours - want).abs() < 0.05, "{kind:?}: client {ours}");
        assert!((theirs - want).abs() < 0.05, "{kind:?}: portal {theirs}");
    }
}

/// Retries back off by the client-wide run of failures: a call that keeps failing while the
/// portal answers other calls retries after a short backoff each time instead of an
/// exponentially growing one (the tail of a bulk job), while a portal that fails everything
/// still sees exponential backoff (one call alone: the run is its own attempts).
#[tokio::test]
async fn one_unlucky_call_among_healthy_ones_retries_promptly() {
    let (captured, _guard) = Captured::install();

    let portal = MockPortal::start(PortalConfig::default().with_fault(
        FaultRule::new(Some("imopenlines.dialog.get"), FaultKind::DropConnection).max_count(6),
    ))
    .await
    .unwrap();
    let base = Duration::from_millis(40);
    let client = Client::builder_webhook(&portal.webhook_url())
        .retry(RetryPolicy {
            max_attempts: 10,
            base_delay: base,
            max_delay: Duration::from_secs(10),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let healthy = {
        let (client, done) = (client.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                client
                    .call_raw(
                        "imopenlines.revision.get",
                        MethodKind::Read,
                        Default::default(),
                    )
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    client.call(&Request::chat_id(1777)).await.unwrap();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    healthy.await.unwrap();

    let delays = retry_delays(&captured);
    assert_eq!(delays.len(), 6, "{delays:?}");
    // Per-call exponential backoff would allow up to 32 x base on the sixth retry.
    let cap = 4 * base.as_millis() as u64;
    assert!(delays.iter().all(|d| *d <= cap), "{delays:?}");
}

/// The delays (ms) the retries of `imopenlines.dialog.get` announced in the log, in order.
fn retry_delays(captured: &Captured) -> Vec<u64> {
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    log.lines()
        .filter(|l| l.contains("retrying") && l.contains("dialog.get"))
        .filter_map(|l| l.split("next_attempt_in_ms=").nth(1))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

/// A read whose answer is lost right after the portal answered is retried at once: the
/// client's bucket, not a backoff, decides when the retry goes out (the tail of a bulk job is
/// a faulted request waiting out its backoff). Failures in a row still back off: a portal
/// that drops everything gets one prompt retry, then capped exponential backoff.
#[tokio::test]
async fn a_lost_answer_after_a_success_is_retried_at_once_and_failures_in_a_row_back_off() {
    let (captured, _guard) = Captured::install();
    let portal = MockPortal::start(PortalConfig::default().with_fault(
        FaultRule::new(Some("imopenlines.dialog.get"), FaultKind::DropConnection).max_count(1),
    ))
    .await
    .unwrap();
    // A backoff of up to 3 s would be drawn for this retry if it backed off.
    let client = Client::builder_webhook(&portal.webhook_url())
        .retry(RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_secs(3),
            max_delay: Duration::from_secs(3),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    client
        .call_raw(
            "imopenlines.revision.get",
            MethodKind::Read,
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(client.call(&Request::chat_id(1777)).await.unwrap().id, 1777);
    assert_eq!(retry_delays(&captured), [0], "retried at once");
    let c = portal.counters();
    assert_eq!((c.requests, c.faults_injected), (3, 1));

    // Everything dropped: the first failure is retried at once, the next ones back off by
    // the run of failures (up to 40 ms, then 80 ms, 160 ms).
    let dying = MockPortal::start(PortalConfig::default().with_fault(FaultRule::new(
        Some("imopenlines.dialog.get"),
        FaultKind::DropConnection,
    )))
    .await
    .unwrap();
    let base = Duration::from_millis(40);
    let client = Client::builder_webhook(&dying.webhook_url())
        .retry(RetryPolicy {
            max_attempts: 4,
            base_delay: base,
            max_delay: Duration::from_secs(10),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    captured.0.lock().unwrap().clear();
    assert!(client.call(&Request::chat_id(1777)).await.is_err());
    let delays = retry_delays(&captured);
    let base = base.as_millis() as u64;
    assert_eq!(delays.len(), 3, "{delays:?}");
    assert_eq!(delays[0], 0, "{delays:?}");
    assert!(delays[1] <= base && delays[2] <= 2 * base, "{delays:?}");
    // Jittered, not zero: the chance that both draws are under 1 ms is 1 in 3,200.
    assert!(delays[1] + delays[2] > 0, "{delays:?}");
    assert_eq!(dying.counters().requests, 4);
}
