//! Fault injection (latency, 500, HTML 502, truncated body, dropped connection), its seeded
//! share, error rules, `__mock_error`, and the counters that prove what ran.

mod common;

use std::time::{Duration, Instant};

use b24_mock_portal::{ErrorRule, ExtraMethod, FaultKind, FaultRule, MockPortal, PortalConfig};
use b24_openlines::imopenlines::dialog_get::Request;
use b24_openlines::Error;
use common::{assert_error, get, ACCESS};

const DG: &str = "imopenlines.dialog.get";

fn with_fault(rule: FaultRule) -> PortalConfig {
    PortalConfig::default()
        .with_extra_method(ExtraMethod::counter("mock.counter.add"))
        .with_fault(rule)
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let portal = MockPortal::start(with_fault(FaultRule::new(
        Some(DG),
        FaultKind::Latency(Duration::from_millis(300)),
    )))
    .await
    .unwrap();
    let t = Instant::now();
    let a = get(&format!("{}{DG}?CHAT_ID=1777", portal.webhook_url())).await;
    assert_eq!(a.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    get(&format!("{}mock.counter.add", portal.webhook_url())).await;
    assert!(
        t.elapsed() < Duration::from_millis(250),
        "other methods are not delayed"
    );
    assert_eq!(portal.counters().faults.get("latency"), Some(&1));
}

#[tokio::test]
async fn internal_error_and_html_bad_gateway() {
    let portal = MockPortal::start(with_fault(
        FaultRule::new(Some(DG), FaultKind::InternalError).max_count(1),
    ))
    .await
    .unwrap();
    let url = format!("{}{DG}?CHAT_ID=1777", portal.webhook_url());
    let a = get(&url).await;
    assert_error(&a, 500, "INTERNAL_SERVER_ERROR", "Internal server error");
    assert_eq!(get(&url).await.status, 200, "max_count(1)");
    assert_eq!(
        portal.counters().executed(DG),
        1,
        "the faulted call never ran"
    );

    let portal = MockPortal::start(with_fault(FaultRule::new(None, FaultKind::BadGatewayHtml)))
        .await
        .unwrap();
    let a = get(&format!("{}{DG}?CHAT_ID=1777", portal.webhook_url())).await;
    assert_eq!(a.status, 502);
    assert!(a.content_type.starts_with("text/html"));
    assert!(a.raw.contains("502 Bad Gateway"));
    let client = common::raw_client(&portal.webhook_url());
    match client.dialog_get(Request::chat_id(1777)).await {
        Err(Error::UnexpectedResponse { status, .. }) => assert_eq!(status, 502),
        other => panic!("{other:?}"),
    }
    assert_eq!(portal.counters().faults_injected, 2);
}

#[tokio::test]
async fn truncated_body_after_execution() {
    let portal = MockPortal::start(with_fault(
        FaultRule::new(Some("mock.counter.add"), FaultKind::TruncatedBody).after_execution(),
    ))
    .await
    .unwrap();
    let r = common::http()
        .get(format!("{}mock.counter.add", portal.webhook_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let announced = r.content_length().unwrap();
    assert!(announced > 10);
    assert!(r.bytes().await.is_err(), "the body is cut short");
    // The write happened although its answer was lost.
    let c = portal.counters();
    assert_eq!(c.executed("mock.counter.add"), 1);
    assert_eq!(c.faults.get("truncated_body"), Some(&1));
    // The typed client reports a failure after sending, never a success.
    let client = common::raw_client(&portal.webhook_url());
    let e = client
        .runtime()
        .call_raw(
            "mock.counter.add",
            b24_openlines::MethodKind::Write,
            Default::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Transport { .. } | Error::OutcomeUnknown { .. } | Error::Decode { .. }
        ),
        "{e:?}"
    );
    assert_eq!(portal.counters().executed("mock.counter.add"), 2);
}

#[tokio::test]
async fn dropped_connection_before_and_after_execution() {
    let portal = MockPortal::start(with_fault(FaultRule::new(
        Some("mock.counter.add"),
        FaultKind::DropConnection,
    )))
    .await
    .unwrap();
    let e = common::http()
        .get(format!("{}mock.counter.add", portal.webhook_url()))
        .send()
        .await
        .unwrap_err();
    assert!(!e.is_status(), "{e}");
    assert_eq!(
        portal.counters().executed("mock.counter.add"),
        0,
        "dropped before it ran"
    );

    let portal = MockPortal::start(with_fault(
        FaultRule::new(Some("mock.counter.add"), FaultKind::DropConnection).after_execution(),
    ))
    .await
    .unwrap();
    assert!(common::http()
        .get(format!("{}mock.counter.add", portal.webhook_url()))
        .send()
        .await
        .is_err());
    assert_eq!(
        portal.counters().executed("mock.counter.add"),
        1,
        "ran, answer lost"
    );
    // Other methods are untouched.
    assert_eq!(
        get(&format!("{}{DG}?CHAT_ID=1777", portal.webhook_url()))
            .await
            .status,
        200
    );
}

async fn fault_pattern(seed: u64) -> Vec<u16> {
    let mut cfg = with_fault(FaultRule::new(Some(DG), FaultKind::InternalError).probability(0.5));
    cfg.fault_seed = seed;
    let portal = MockPortal::start(cfg).await.unwrap();
    let url = format!("{}{DG}?CHAT_ID=1777", portal.webhook_url());
    let mut out = Vec::new();
    for _ in 0..40 {
        out.push(get(&url).await.status);
    }
    let c = portal.counters();
    assert_eq!(
        c.faults_injected,
        out.iter().filter(|s| **s == 500).count() as u64
    );
    assert_eq!(c.requests, 40);
    out
}

#[tokio::test]
async fn a_seeded_share_of_calls_fails_reproducibly() {
    let a = fault_pattern(7).await;
    let failed = a.iter().filter(|s| **s == 500).count();
    assert!((8..=32).contains(&failed), "about half: {failed}");
    assert_eq!(a, fault_pattern(7).await, "same seed, same pattern");
    assert_ne!(a, fault_pattern(8).await, "another seed, another pattern");
}

#[tokio::test]
async fn error_rules_and_the_mock_error_parameter() {
    let cfg = PortalConfig::default()
        .with_error_rule(ErrorRule::new("IMOPENLINES.DIALOG.GET", "IM_NOT_INSTALLED").times(2))
        .with_error_rule(ErrorRule::new("mock.counter.add", "QUERY_LIMIT_EXCEEDED"))
        .with_extra_method(ExtraMethod::counter("mock.counter.add"));
    let portal = MockPortal::start(cfg).await.unwrap();
    let url = format!("{}{DG}?CHAT_ID=1777", portal.webhook_url());
    for _ in 0..2 {
        assert_error(
            &get(&url).await,
            400,
            "IM_NOT_INSTALLED",
            "Messenger is not installed.",
        );
    }
    assert_eq!(get(&url).await.status, 200, "times(2)");
    let a = get(&format!("{}mock.counter.add", portal.webhook_url())).await;
    assert_error(&a, 503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
    // The well-known parameter: the method's own codes, portal-wide codes, any other code.
    for (code, status, msg) in [
        ("ACCESS_ERROR", 400, ACCESS),
        ("access_error", 400, ACCESS),
        ("DIALOG_ID_EMPTY", 400, "Dialog ID can't be empty"),
        (
            "OPERATION_TIME_LIMIT",
            429,
            "Method is blocked due to operation time limit.",
        ),
        ("INTERNAL_SERVER_ERROR", 500, "Internal server error"),
        ("SOMETHING_ELSE", 400, "Error triggered by the mock portal"),
    ] {
        let a = get(&format!("{url}&__mock_error={code}")).await;
        let expected = if code == "access_error" {
            "ACCESS_ERROR"
        } else {
            code
        };
        assert_error(&a, status, expected, msg);
    }
    assert_eq!(portal.counters().executed(DG), 1);
    assert_eq!(portal.counters().executed("mock.counter.add"), 0);
}

/// The status of a call whose answer arrived whole; 0 for a cut-off or missing answer.
async fn whole_answer_status(url: &str) -> u16 {
    match reqwest::get(url).await {
        Ok(r) => {
            let status = r.status().as_u16();
            r.bytes().await.map_or(0, |_| status)
        }
        Err(_) => 0,
    }
}

/// `rotation_every(n)`: exactly one call in `n` fails, the four kinds in turn, the same
/// calls every run (and again after a reset).
#[tokio::test]
async fn a_rotation_faults_exactly_one_call_in_n() {
    let mut cfg = PortalConfig::default();
    cfg.faults.extend(FaultRule::rotation_every(5));
    let portal = MockPortal::start(cfg).await.unwrap();
    let url = format!("{}{DG}?CHAT_ID=1777", portal.webhook_url());
    let mut statuses = Vec::new();
    for round in 0..2 {
        let mut got = Vec::new();
        for _ in 0..40 {
            got.push(whole_answer_status(&url).await);
        }
        let c = portal.counters();
        assert_eq!(c.faults_injected, 8, "round {round}");
        for kind in [
            "internal_error",
            "bad_gateway_html",
            "truncated_body",
            "drop_connection",
        ] {
            assert_eq!(c.faults.get(kind), Some(&2), "{kind}: {:?}", c.faults);
        }
        statuses.push(got);
        portal.reset();
    }
    assert_eq!(
        statuses[0], statuses[1],
        "the same calls fail after a reset"
    );
    // Calls 4, 9, 14... (from 0) are the faulted ones; the others answer 200.
    for (i, s) in statuses[0].iter().enumerate() {
        if i % 5 != 4 {
            assert_eq!(*s, 200, "call {i}");
        } else {
            assert_ne!(*s, 200, "call {i}");
        }
    }
}

/// A fault the portal's PHP produces (a JSON 500) passes the leaky bucket first: with the
/// bucket full the call is answered 503 and no fault is counted; a proxy's 502 is not
/// counted in the bucket at all.
#[tokio::test]
async fn faults_from_the_portal_pass_its_bucket_and_proxy_faults_do_not() {
    let limits = b24_mock_portal::LimitConfig {
        burst: 2.0,
        drain_per_sec: 0.001,
        ..b24_mock_portal::LimitConfig::default()
    };
    let portal = MockPortal::start(
        PortalConfig::default()
            .with_limits(limits.clone())
            .with_fault(FaultRule::new(Some(DG), FaultKind::InternalError)),
    )
    .await
    .unwrap();
    let url = format!("{}{DG}?CHAT_ID=1777", portal.webhook_url());
    let statuses = [
        get(&url).await.status,
        get(&url).await.status,
        get(&url).await.status,
    ];
    assert_eq!(statuses, [500, 500, 503]);
    let c = portal.counters();
    assert_eq!((c.faults_injected, c.rejected_by_limiter), (2, 1));
    assert_eq!(c.counted_by_limiter, 2, "the two 500s, not the 503");

    let proxy = MockPortal::start(
        PortalConfig::default()
            .with_limits(limits)
            .with_fault(FaultRule::new(Some(DG), FaultKind::BadGatewayHtml).max_count(3)),
    )
    .await
    .unwrap();
    let url = format!("{}{DG}?CHAT_ID=1777", proxy.webhook_url());
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(get(&url).await.status);
    }
    assert_eq!(
        got,
        [502, 502, 502, 200, 200],
        "the 502s left the bucket empty"
    );
    assert!((proxy.bucket_level() - 2.0).abs() < 0.01);
    assert_eq!(proxy.counters().counted_by_limiter, 2, "the two 200s");
}

/// `FaultRule::random`: the seeded share of calls fails with the four kinds mixed, and the
/// portal counts in its bucket exactly the calls that reached its PHP: the answered ones, its
/// 500s and its cut-off answers, not the proxy's 502s or the dropped connections.
#[tokio::test]
async fn a_random_rule_mixes_the_kinds_and_the_bucket_counts_the_portal_ones() {
    async fn run(seed: u64) -> (Vec<u16>, b24_mock_portal::Counters) {
        let portal = MockPortal::start(
            PortalConfig::default()
                .with_limits(b24_mock_portal::LimitConfig::unlimited())
                .with_fault(FaultRule::random(0.4, seed)),
        )
        .await
        .unwrap();
        let url = format!("{}{DG}?CHAT_ID=1777", portal.webhook_url());
        let mut got = Vec::new();
        for _ in 0..120 {
            got.push(whole_answer_status(&url).await);
        }
        (got, portal.counters())
    }
    let (a, c) = run(3).await;
    let count = |s: u16| a.iter().filter(|x| **x == s).count() as u64;
    assert_eq!(c.requests, 120);
    assert_eq!(
        count(500),
        c.faults.get("internal_error").copied().unwrap_or(0)
    );
    assert_eq!(
        count(502),
        c.faults.get("bad_gateway_html").copied().unwrap_or(0)
    );
    // A cut-off answer and a dropped connection both leave no whole answer.
    let lost = c.faults.get("truncated_body").copied().unwrap_or(0)
        + c.faults.get("drop_connection").copied().unwrap_or(0);
    assert_eq!(count(0), lost);
    assert_eq!(count(200) + c.faults_injected, 120);
    for kind in [
        "internal_error",
        "bad_gateway_html",
        "truncated_body",
        "drop_connection",
    ] {
        assert!(
            c.faults.get(kind).copied().unwrap_or(0) >= 3,
            "{kind}: {:?}",
            c.faults
        );
    }
    assert_eq!(
        c.counted_by_limiter,
        count(200) + count(500) + c.faults.get("truncated_body").copied().unwrap_or(0)
    );
    let (b, _) = run(3).await;
    assert_eq!(a, b, "same seed, same calls");
}
