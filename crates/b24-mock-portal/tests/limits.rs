//! The leaky bucket (503 QUERY_LIMIT_EXCEEDED) and the operating-time budget
//! (429 OPERATION_TIME_LIMIT), through the typed client and raw HTTP.

mod common;

use std::time::{Duration, Instant};

use b24_mock_portal::{LimitConfig, MockPortal, PortalConfig};
use b24_openlines::imopenlines::dialog_get::Request;
use b24_openlines::{ApiErrorCode, Error, PortalErrorCode};
use common::{assert_error, get};

#[tokio::test]
async fn typed_client_hits_query_limit_exceeded_and_the_bucket_drains() {
    let cfg = PortalConfig::default().with_limits(LimitConfig {
        burst: 5.0,
        drain_per_sec: 4.0,
        ..LimitConfig::default()
    });
    let portal = MockPortal::start(cfg).await.unwrap();
    let client = common::raw_client(&portal.webhook_url());
    let mut ok = 0;
    let mut limited = 0;
    for _ in 0..8 {
        match client.dialog_get(Request::chat_id(1777)).await {
            Ok(_) => ok += 1,
            Err(Error::Api { error, .. }) => {
                assert_eq!(error.status, 503);
                assert_eq!(
                    error.code,
                    ApiErrorCode::Portal(PortalErrorCode::QueryLimitExceeded)
                );
                assert_eq!(error.description, "Too many requests");
                limited += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    // 8 calls take well under 1/4 s each, so at most one more drained in.
    assert!((5..=6).contains(&ok), "ok = {ok}");
    assert_eq!(ok + limited, 8);
    assert_eq!(portal.counters().rejected_by_limiter, limited);
    assert_eq!(portal.counters().executed("imopenlines.dialog.get"), ok);
    // After 0.5 s two requests have drained.
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert!(client.dialog_get(Request::chat_id(1777)).await.is_ok());
    assert!(client.dialog_get(Request::chat_id(1777)).await.is_ok());
}

#[tokio::test]
async fn default_and_enterprise_buckets() {
    let d = LimitConfig::default();
    assert_eq!((d.burst, d.drain_per_sec), (50.0, 2.0));
    let e = LimitConfig::enterprise();
    assert_eq!((e.burst, e.drain_per_sec), (250.0, 5.0));
    // The default portal admits 50 quick requests, then refuses.
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let url = format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777",
        portal.webhook_url()
    );
    let client = common::http();
    let started = Instant::now();
    let mut statuses = Vec::new();
    for _ in 0..52 {
        statuses.push(client.get(&url).send().await.unwrap().status().as_u16());
    }
    let drained = (started.elapsed().as_secs_f64() * 2.0).floor() as usize;
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        ok >= 50 && ok <= 50 + drained,
        "ok = {ok}, drained {drained}"
    );
    assert_eq!(statuses.last(), Some(&503), "{statuses:?}");
    assert!(portal.bucket_level() > 49.0);
    portal.reset_limits();
    assert!(portal.bucket_level() < 1.0);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn operating_budget_blocks_a_method_until_its_window_passes() {
    let limits = LimitConfig {
        operating_limit: Duration::from_millis(500),
        operating_window: Duration::from_secs(2),
        ..LimitConfig::unlimited()
    }
    .with_processing("imopenlines.dialog.get", Duration::from_millis(300));
    let cfg = PortalConfig::default()
        .with_limits(limits)
        .with_extra_method(b24_mock_portal::ExtraMethod::counter("mock.counter.add"));
    let portal = MockPortal::start(cfg).await.unwrap();
    let url = format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777",
        portal.webhook_url()
    );
    let a = get(&url).await;
    let t = &a.json["time"];
    let op1 = t["operating"].as_f64().unwrap();
    assert!((0.3..0.4).contains(&op1), "{t}");
    assert!(t["processing"].as_f64().unwrap() >= 0.3);
    let reset_at = t["operating_reset_at"].as_i64().unwrap();
    let now = t["start"].as_f64().unwrap();
    assert!(reset_at as f64 > now && reset_at as f64 <= now + 3.0, "{t}");
    let a = get(&url).await;
    let op2 = a.json["time"]["operating"].as_f64().unwrap();
    assert!(op2 > 0.6 && op2 < 0.8, "{}", a.raw);
    // Now above the 0.5 s budget: blocked before running.
    let a = get(&url).await;
    assert_error(
        &a,
        429,
        "OPERATION_TIME_LIMIT",
        "Method is blocked due to operation time limit.",
    );
    // Other methods are not blocked.
    assert_eq!(
        get(&format!("{}mock.counter.add", portal.webhook_url()))
            .await
            .status,
        200
    );
    // The typed client classifies it.
    let client = common::raw_client(&portal.webhook_url());
    match client.dialog_get(Request::chat_id(1777)).await {
        Err(Error::Api { error, .. }) => {
            assert_eq!(
                error.code,
                ApiErrorCode::Portal(PortalErrorCode::OperationTimeLimit)
            );
            assert_eq!(error.status, 429);
        }
        other => panic!("{other:?}"),
    }
    let c = portal.counters();
    assert_eq!(c.rejected_by_operating, 2);
    assert_eq!(c.executed("imopenlines.dialog.get"), 2);
    // After the window the buckets are gone.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let a = get(&url).await;
    assert_eq!(a.status, 200, "{}", a.raw);
    assert!(a.json["time"]["operating"].as_f64().unwrap() < 0.4);
}
