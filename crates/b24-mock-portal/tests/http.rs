//! The HTTP surface: envelope and `time`, encoding, routing, input formats, spec-driven
//! validation, paging, keep-alive, runtime spec folders and shutdown.

mod common;

use std::path::PathBuf;

use b24_mock_portal::{ExtraMethod, MockPortal, PortalConfig};
use common::{assert_error, get, post_form, post_json, ACCESS};
use serde_json::{json, Value};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec")
}

fn test_spec_config() -> PortalConfig {
    PortalConfig {
        spec_dir: Some(fixtures()),
        ..PortalConfig::default()
    }
}

fn is_php_date(s: &str) -> bool {
    // YYYY-MM-DDThh:mm:ss+hh:mm, never Z, never fractions.
    let b = s.as_bytes();
    s.len() == 25
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && (b[19] == b'+' || b[19] == b'-')
        && b[22] == b':'
        && s.chars().filter(|c| c.is_ascii_digit()).count() == 18
}

#[tokio::test]
async fn success_envelope_has_a_real_time_block() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let a = get(&format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777",
        portal.webhook_url()
    ))
    .await;
    assert_eq!(a.status, 200);
    assert!(
        a.content_type.starts_with("application/json"),
        "{}",
        a.content_type
    );
    let keys: Vec<&String> = a.json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["result", "time"]);
    let t = &a.json["time"];
    let tkeys: Vec<&String> = t.as_object().unwrap().keys().collect();
    assert_eq!(
        tkeys,
        [
            "start",
            "finish",
            "duration",
            "processing",
            "date_start",
            "date_finish",
            "operating_reset_at",
            "operating"
        ]
    );
    let start = t["start"].as_f64().unwrap();
    assert!((start - before).abs() < 5.0, "start {start} is now");
    assert!(t["finish"].as_f64().unwrap() >= start);
    assert!(t["duration"].is_f64() && t["processing"].is_f64() && t["start"].is_f64());
    assert!(t["operating_reset_at"].is_i64(), "{t}");
    assert!(t["operating_reset_at"].as_i64().unwrap() > start as i64);
    for k in ["date_start", "date_finish"] {
        let d = t[k].as_str().unwrap();
        assert!(is_php_date(d), "{k} = {d}");
        assert!(d.ends_with("+03:00"), "{d}");
        let parsed = chrono::DateTime::parse_from_rfc3339(d).unwrap();
        assert!((parsed.timestamp() - start as i64).abs() <= 1);
    }
    // Compact JSON as PHP writes it.
    assert!(!a.raw.contains(": ") && !a.raw.contains('\n'), "{}", a.raw);
    assert!(a.raw.contains("Салатовый"), "UTF-8 unescaped");
}

#[tokio::test]
async fn slashes_are_escaped_like_php() {
    let cfg = PortalConfig::default().with_extra_method(ExtraMethod::fixed(
        "mock.url.get",
        json!({"url": "https://x.example/a/b"}),
    ));
    let portal = MockPortal::start(cfg).await.unwrap();
    let a = get(&format!("{}mock.url.get", portal.webhook_url())).await;
    assert!(
        a.raw.contains(r#""https:\/\/x.example\/a\/b""#),
        "{}",
        a.raw
    );
    assert_eq!(a.json["result"]["url"], "https://x.example/a/b");
}

#[tokio::test]
async fn routing_names_and_unknown_methods() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let w = portal.webhook_url();
    for m in [
        "imopenlines.dialog.get",
        "imopenlines.dialog.get.json",
        "IMOPENLINES.Dialog.GET",
        "imopenlines.dialog.get.JSON",
    ] {
        let a = get(&format!(
            "{w}{m}?CHAT_ID=1777&__order=3&bx24_request_id=abc"
        ))
        .await;
        assert_eq!(a.status, 200, "{m}: {}", a.raw);
    }
    let a = get(&format!("{w}imopenlines.nothing.here")).await;
    assert_error(&a, 404, "ERROR_METHOD_NOT_FOUND", "Method not found!");
    let a = get(&format!("{}elsewhere", portal.base_url())).await;
    assert_eq!(a.status, 404);
    assert_eq!(portal.counters().calls("imopenlines.dialog.get"), 4);
}

#[tokio::test]
async fn form_bodies_query_strings_and_json_are_all_read() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let m = format!("{}imopenlines.dialog.get", portal.webhook_url());
    let a = post_form(&m, "CHAT_ID=1364").await;
    assert_eq!(a.json["result"]["id"], 1364, "{}", a.raw);
    // Query string on a POST is merged with the body; the body wins on conflicts.
    let a = post_form(&format!("{m}?DIALOG_ID=chat1777"), "x=1").await;
    assert_eq!(a.json["result"]["id"], 1777, "{}", a.raw);
    let a = post_json(&format!("{m}?CHAT_ID=1364"), &json!({"CHAT_ID": 1777})).await;
    assert_eq!(a.json["result"]["id"], 1777, "{}", a.raw);
    let a = post_form(
        &format!("{m}?USER_CODE=x"),
        "USER_CODE=imol%7Clivechat%7C1%7C1373%7C211",
    )
    .await;
    assert_eq!(a.json["result"]["id"], 1777, "{}", a.raw);
    // A body without a content type is sniffed.
    let a = common::http()
        .post(&m)
        .body(r#"{"CHAT_ID":1364}"#)
        .send()
        .await
        .unwrap();
    let v: Value = a.json().await.unwrap();
    assert_eq!(v["result"]["id"], 1364);
}

#[tokio::test]
async fn spec_params_are_validated_with_php_leniency() {
    let portal = MockPortal::start(test_spec_config()).await.unwrap();
    let m = format!("{}test.item.add", portal.webhook_url());
    // Nested form keys, numeric strings, Y/N booleans, PHP arrays.
    let ok = post_form(
        &m,
        "FIELDS[NAME]=x&FIELDS[WEIGHT]=1.5&COUNT=3&ACTIVE=Y&TAGS[]=a&TAGS[]=b&WHEN=2026-01-02",
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.raw);
    assert_eq!(ok.json["result"], 42, "the documented example");
    for good in [
        json!({"FIELDS": {"name": "x"}, "ACTIVE": "true", "COUNT": 3}),
        json!({"fields": {"NAME": "x"}, "active": 0, "count": "-4"}),
        json!({"FIELDS": {"name": 5}, "ACTIVE": "n", "TAGS": ["a"]}),
    ] {
        let a = post_json(&m, &good).await;
        assert_eq!(a.status, 200, "{good}: {}", a.raw);
    }
    for (bad, what) in [
        (json!({}), "FIELDS"),
        (json!({"FIELDS": "x"}), "FIELDS"),
        (json!({"FIELDS": {"name": "x"}, "COUNT": "3x"}), "COUNT"),
        (json!({"FIELDS": {"name": "x"}, "COUNT": 1.5}), "COUNT"),
        (
            json!({"FIELDS": {"name": "x"}, "ACTIVE": "maybe"}),
            "ACTIVE",
        ),
        (json!({"FIELDS": {"name": "x"}, "TAGS": "a"}), "TAGS"),
        (
            json!({"FIELDS": {"name": "x"}, "WHEN": "02.01.2026"}),
            "WHEN",
        ),
        (json!({"FIELDS": {"weight": "heavy"}}), "FIELDS"),
    ] {
        let a = post_json(&m, &bad).await;
        assert_eq!(a.status, 400, "{bad}: {}", a.raw);
        assert_eq!(a.json["error"], "ERROR_ARGUMENT");
        assert!(
            a.json["error_description"].as_str().unwrap().contains(what),
            "{}",
            a.raw
        );
        assert!(a.json.get("time").is_none());
    }
    // One-of: none given fails; either one passes.
    let g = format!("{}test.item.get", portal.webhook_url());
    assert_eq!(post_json(&g, &json!({})).await.status, 400);
    assert_eq!(
        post_json(&g, &json!({"code": "a"})).await.json["result"],
        true
    );
    assert_eq!(post_json(&g, &json!({"ID": "7"})).await.status, 200);
    // The embedded dialog.get is not served from this folder.
    let a = get(&format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777",
        portal.webhook_url()
    ))
    .await;
    assert_eq!(a.status, 404);
}

#[tokio::test]
async fn paged_spec_methods_page_by_start() {
    let mut cfg = test_spec_config();
    let items: Vec<Value> = (1..=120).map(|i| json!({"id": i, "url": "u"})).collect();
    cfg.lists.insert("test.item.list".into(), items);
    let portal = MockPortal::start(cfg).await.unwrap();
    let m = format!("{}test.item.list", portal.webhook_url());
    let mut seen = Vec::new();
    let mut start = Some(0u64);
    let mut pages = 0;
    while let Some(s) = start {
        let a = post_json(&m, &json!({"start": s})).await;
        assert_eq!(a.status, 200, "{}", a.raw);
        assert_eq!(a.json["total"], 120);
        let keys: Vec<&String> = a.json.as_object().unwrap().keys().collect();
        assert_eq!(keys.first().map(|k| k.as_str()), Some("result"));
        assert_eq!(keys.last().map(|k| k.as_str()), Some("time"));
        seen.extend(
            a.json["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_i64().unwrap()),
        );
        start = a.json.get("next").and_then(Value::as_u64);
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, (1..=120).collect::<Vec<_>>());
    // Without configured data the documented example's items are the list.
    let portal = MockPortal::start(test_spec_config()).await.unwrap();
    let a = get(&format!("{}test.item.list", portal.webhook_url())).await;
    assert_eq!(a.json["result"].as_array().unwrap().len(), 3);
    assert_eq!(a.json["total"], 3);
    assert!(a.json.get("next").is_none());
    assert!(a.raw.contains(r#""https:\/\/a.example\/x""#));
}

#[tokio::test]
async fn extra_list_methods_page_too() {
    let items: Vec<Value> = (0..51).map(Value::from).collect();
    let cfg = PortalConfig::default().with_extra_method(ExtraMethod::list("mock.item.list", items));
    let portal = MockPortal::start(cfg).await.unwrap();
    let m = format!("{}mock.item.list", portal.webhook_url());
    let a = get(&m).await;
    assert_eq!(
        (a.json["next"].clone(), a.json["total"].clone()),
        (json!(50), json!(51))
    );
    let a = get(&format!("{m}?start=50")).await;
    assert_eq!(a.json["result"], json!([50]));
    assert!(a.json.get("next").is_none());
}

#[tokio::test]
async fn keep_alive_reuses_one_connection() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let client = reqwest::Client::builder().http1_only().build().unwrap();
    for _ in 0..5 {
        let r = client
            .get(format!(
                "{}imopenlines.dialog.get?CHAT_ID=1777",
                portal.webhook_url()
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.version(), reqwest::Version::HTTP_11);
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
    }
    let c = portal.counters();
    assert_eq!(c.requests, 5);
    assert_eq!(c.connections, 1, "keep-alive");
}

#[tokio::test]
async fn counting_write_method_counts_executions() {
    let cfg = PortalConfig::default().with_extra_method(ExtraMethod::counter("mock.counter.add"));
    let portal = MockPortal::start(cfg).await.unwrap();
    let m = format!("{}mock.counter.add", portal.webhook_url());
    assert_eq!(get(&m).await.json["result"], 1);
    assert_eq!(get(&m).await.json["result"], 2);
    let a = get(&format!("{m}?__mock_error=ACCESS_DENIED")).await;
    assert_error(
        &a,
        403,
        "ACCESS_DENIED",
        "REST API is available only on commercial plans",
    );
    let c = portal.counters();
    assert_eq!(c.method("mock.counter.add").calls, 3);
    assert_eq!(c.executed("mock.counter.add"), 2);
    assert_eq!(c.method("mock.counter.add").errors, 1);
}

#[tokio::test]
async fn shutdown_stops_serving_and_drop_does_too() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let url = format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777",
        portal.webhook_url()
    );
    assert_eq!(get(&url).await.status, 200);
    portal.shutdown().await;
    assert!(reqwest::get(&url).await.is_err());

    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let url = format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777",
        portal.webhook_url()
    );
    drop(portal);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(reqwest::get(&url).await.is_err());
}

#[tokio::test]
async fn embedded_specs_cover_the_workspace_spec_folder() {
    let files = b24_mock_portal::embedded_spec_files();
    let spec_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec");
    let on_disk = b24_spec::spec_files(&spec_dir).unwrap();
    assert_eq!(files.len(), on_disk.len());
    assert!(files
        .iter()
        .any(|(p, _)| *p == "imopenlines/dialog.get.toml"));
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    assert!(portal
        .methods()
        .contains(&"imopenlines.dialog.get".to_string()));
    // Error bodies of the portal carry the spec's message.
    let a = get(&format!(
        "{}imopenlines.dialog.get?CHAT_ID=1",
        portal.webhook_url()
    ))
    .await;
    assert_error(&a, 400, "ACCESS_ERROR", ACCESS);
}

#[tokio::test]
async fn admin_paths_are_unknown_paths_unless_enabled() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let a = get(&format!("{}__mock/counters", portal.base_url())).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.json["error"], "ERROR_METHOD_NOT_FOUND");
    assert_eq!(portal.counters().requests, 1);

    let portal = MockPortal::start(PortalConfig {
        admin_endpoints: true,
        ..PortalConfig::default()
    })
    .await
    .unwrap();
    get(&format!(
        "{}imopenlines.dialog.get?CHAT_ID=1777",
        portal.webhook_url()
    ))
    .await;
    let a = get(&format!("{}__mock/counters", portal.base_url())).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json, portal.counters().to_json());
    assert_eq!(a.json["requests"], 1);
    assert_eq!(portal.counters().requests, 1);
    portal.reset();
    assert_eq!(portal.counters(), b24_mock_portal::Counters::default());
    assert_eq!(portal.bucket_level(), 0.0);
}
