//! `batch`: named and array commands, PHP-style queries, references, halt, the 50 limit, and
//! one request for the rate limiter.

mod common;

use b24_mock_portal::{ExtraMethod, LimitConfig, MockPortal, PortalConfig};
use common::{assert_error, post_form, post_json, ACCESS};
use serde_json::{json, Value};

fn config() -> PortalConfig {
    let items: Vec<Value> = (1..=70).map(|i| json!({"id": i})).collect();
    PortalConfig::default()
        .with_extra_method(ExtraMethod::list("mock.item.list", items))
        .with_extra_method(ExtraMethod::counter("mock.counter.add"))
}

#[tokio::test]
async fn named_commands_answer_keyed_parts() {
    let portal = MockPortal::start(config()).await.unwrap();
    let a = post_json(
        &format!("{}batch", portal.webhook_url()),
        &json!({"halt": 0, "cmd": {
            "first": "imopenlines.dialog.get?CHAT_ID=1777",
            "bad": "imopenlines.dialog.get?CHAT_ID=424242",
            "by_ref": "imopenlines.dialog.get?DIALOG_ID=chat$result[first][id]",
            "list": "mock.item.list?start=0",
            "missing": "no.such.method",
        }}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.raw);
    let r = &a.json["result"];
    let parts: Vec<&String> = r.as_object().unwrap().keys().collect();
    assert_eq!(
        parts,
        [
            "result",
            "result_error",
            "result_total",
            "result_next",
            "result_time"
        ]
    );
    let ok: Vec<&String> = r["result"].as_object().unwrap().keys().collect();
    assert_eq!(ok, ["first", "by_ref", "list"]);
    assert_eq!(r["result"]["by_ref"]["id"], 1777);
    assert_eq!(
        r["result_error"]["bad"],
        json!({"error": "ACCESS_ERROR", "error_description": ACCESS})
    );
    assert_eq!(
        r["result_error"]["missing"]["error"],
        "ERROR_METHOD_NOT_FOUND"
    );
    assert_eq!(r["result_total"], json!({"list": 70}));
    assert_eq!(r["result_next"], json!({"list": 50}));
    let t = &r["result_time"]["first"];
    assert!(t["start"].is_f64() && t["date_start"].is_string(), "{t}");
    assert!(a.json["time"]["date_finish"].is_string());
}

#[tokio::test]
async fn array_commands_answer_in_array_shape() {
    let portal = MockPortal::start(config()).await.unwrap();
    let a = post_json(
        &format!("{}batch", portal.webhook_url()),
        &json!({"cmd": [
            "imopenlines.dialog.get?CHAT_ID=1777",
            "imopenlines.dialog.get?SESSION_ID=$result[0][entity_data_1]",
            "imopenlines.dialog.get?CHAT_ID=$result[0][id]",
        ]}),
    )
    .await;
    let r = &a.json["result"];
    // Keys 0 and 2 are not a list for PHP's json_encode: an object keyed like cmd.
    let ok: Vec<&String> = r["result"].as_object().unwrap().keys().collect();
    assert_eq!(ok, ["0", "2"], "{}", a.raw);
    assert_eq!(r["result"]["2"]["id"], 1777, "$result[0][id] resolved");
    // The failed command keeps its key: PHP encodes {1: ...} as an object.
    assert_eq!(
        r["result_error"],
        json!({"1": {"error": "ACCESS_ERROR", "error_description": ACCESS}})
    );
    assert_eq!(r["result_total"], json!([]));
    assert_eq!(r["result_next"], json!([]));
    assert!(r["result_time"].is_object());
}

#[tokio::test]
async fn all_ok_array_batch_has_empty_error_part() {
    let portal = MockPortal::start(config()).await.unwrap();
    let a = post_json(
        &format!("{}batch.json", portal.webhook_url()),
        &json!({"cmd": ["imopenlines.dialog.get?CHAT_ID=1777", "imopenlines.dialog.get?CHAT_ID=1364"]}),
    )
    .await;
    let r = &a.json["result"];
    assert_eq!(r["result_error"], json!([]));
    assert!(r["result"].is_array(), "{}", a.raw);
    assert_eq!(r["result"][1]["id"], 1364);
    assert!(r["result_time"].is_array(), "{}", a.raw);
}

#[tokio::test]
async fn form_encoded_batch_with_nested_command_queries() {
    let portal = MockPortal::start(config()).await.unwrap();
    // cmd[a]=imopenlines.dialog.get?CHAT_ID=1364 and a nested PHP key inside the command.
    let body = "halt=0&cmd%5Ba%5D=imopenlines.dialog.get%3FCHAT_ID%3D1364&cmd%5Bb%5D=imopenlines.dialog.get%3FFILTER%5BX%5D%5B%5D%3D1%26USER_CODE%3Dimol%257Clivechat%257C1%257C1373%257C211";
    let a = post_form(&format!("{}batch", portal.webhook_url()), body).await;
    assert_eq!(a.status, 200, "{}", a.raw);
    assert_eq!(a.json["result"]["result"]["a"]["id"], 1364, "{}", a.raw);
    assert_eq!(a.json["result"]["result"]["b"]["id"], 1777, "{}", a.raw);
}

#[tokio::test]
async fn halt_stops_at_the_first_error() {
    let portal = MockPortal::start(config()).await.unwrap();
    for (halt, ran) in [
        (json!(1), 1),
        (json!(true), 1),
        (json!("0"), 2),
        (json!(false), 2),
    ] {
        let before = portal.counters().executed("mock.counter.add");
        let a = post_json(
            &format!("{}batch", portal.webhook_url()),
            &json!({"halt": halt, "cmd": {
                "one": "mock.counter.add",
                "err": "imopenlines.dialog.get?CHAT_ID=0",
                "two": "mock.counter.add",
            }}),
        )
        .await;
        assert_eq!(a.status, 200);
        assert_eq!(
            portal.counters().executed("mock.counter.add") - before,
            ran,
            "halt={halt}"
        );
        assert_eq!(
            a.json["result"]["result_error"]["err"]["error"],
            "ACCESS_ERROR"
        );
        assert_eq!(a.json["result"]["result"].get("two").is_some(), ran == 2);
    }
}

#[tokio::test]
async fn more_than_fifty_commands_is_an_error_and_nesting_is_refused() {
    let portal = MockPortal::start(config()).await.unwrap();
    let cmd: Vec<String> = (0..51).map(|_| "mock.counter.add".to_string()).collect();
    let a = post_json(
        &format!("{}batch", portal.webhook_url()),
        &json!({"cmd": cmd}),
    )
    .await;
    assert_error(
        &a,
        400,
        "ERROR_BATCH_LENGTH_EXCEEDED",
        "Max batch length exceeded",
    );
    assert_eq!(portal.counters().executed("mock.counter.add"), 0);
    let cmd: Vec<String> = (0..50).map(|_| "mock.counter.add".to_string()).collect();
    let a = post_json(
        &format!("{}batch", portal.webhook_url()),
        &json!({"cmd": cmd}),
    )
    .await;
    assert_eq!(a.json["result"]["result"][49], 50, "{}", a.raw);
    let a = post_json(
        &format!("{}batch", portal.webhook_url()),
        &json!({"cmd": {"inner": "batch?cmd[a]=mock.counter.add"}}),
    )
    .await;
    assert_eq!(
        a.json["result"]["result_error"]["inner"]["error"],
        "ERROR_BATCH_METHOD_NOT_ALLOWED"
    );
}

#[tokio::test]
async fn a_batch_is_one_request_for_the_limiter() {
    let cfg = config().with_limits(LimitConfig {
        burst: 2.0,
        drain_per_sec: 0.01,
        ..LimitConfig::default()
    });
    let portal = MockPortal::start(cfg).await.unwrap();
    let cmd: Vec<String> = (0..50)
        .map(|_| "imopenlines.dialog.get?CHAT_ID=1777".to_string())
        .collect();
    let url = format!("{}batch", portal.webhook_url());
    for _ in 0..2 {
        let a = post_json(&url, &json!({"cmd": cmd})).await;
        assert_eq!(a.status, 200, "{}", a.raw);
        assert_eq!(a.json["result"]["result"].as_array().unwrap().len(), 50);
    }
    let a = post_json(&url, &json!({"cmd": cmd})).await;
    assert_error(&a, 503, "QUERY_LIMIT_EXCEEDED", "Too many requests");
    let c = portal.counters();
    assert_eq!((c.requests, c.rejected_by_limiter), (3, 1));
    assert_eq!(c.executed("imopenlines.dialog.get"), 100);
}

#[tokio::test]
async fn mock_error_works_inside_commands() {
    let portal = MockPortal::start(config()).await.unwrap();
    let a = post_form(
        &format!("{}batch", portal.webhook_url()),
        "cmd[a]=imopenlines.dialog.get%3FCHAT_ID%3D1777%26__mock_error%3DIM_NOT_INSTALLED&cmd[b]=imopenlines.dialog.get%3FCHAT_ID%3D1777",
    )
    .await;
    let r = &a.json["result"];
    assert_eq!(
        r["result_error"]["a"]["error"], "IM_NOT_INSTALLED",
        "{}",
        a.raw
    );
    assert_eq!(
        r["result_error"]["a"]["error_description"],
        "Messenger is not installed."
    );
    assert_eq!(r["result"]["b"]["id"], 1777);
    assert_eq!(portal.counters().executed("imopenlines.dialog.get"), 1);
}
