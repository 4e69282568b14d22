//! Stateful `imopenlines.dialog.get`: each identifier through the workspace's typed client,
//! the server's precedence rules and every ACCESS_ERROR path over raw HTTP.

mod common;

use b24_mock_portal::{MockPortal, PortalConfig, SeedChat};
use b24_openlines::imopenlines::dialog_get::{self, ErrorCode, Request};
use b24_openlines::{ApiErrorCode, Error};
use common::{assert_error, get, post_json, ACCESS};
use serde_json::json;

#[tokio::test]
async fn typed_client_reads_the_seeded_chat_by_each_identifier() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let client = common::raw_client(&portal.webhook_url());
    for req in [
        Request::chat_id(1777),
        Request::dialog_id("chat1777"),
        Request::session_id(1743),
        Request::user_code("livechat|1|1373|211"),
        Request::user_code("imol|livechat|1|1373|211"),
    ] {
        let d = client.dialog_get(req.clone()).await.unwrap();
        assert_eq!(d.id, 1777, "{req:?}");
        assert_eq!(d.entity_id, "livechat|1|1373|211");
        assert_eq!(d.dialog_id.as_deref(), Some("chat1777"));
        assert_eq!(d.type_, "lines");
    }
    let other = client.dialog_get(Request::session_id(1800)).await.unwrap();
    assert_eq!(
        (other.id, other.entity_id.as_str()),
        (2043, "telegrambot|2|555|777")
    );
    assert_eq!(other.entity_data_1.split('|').nth(5), Some("1800"));
    assert_eq!(portal.counters().executed("imopenlines.dialog.get"), 6);
}

#[tokio::test]
async fn typed_client_sees_access_error_for_unknown_chat() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let client = common::raw_client(&portal.webhook_url());
    for req in [
        Request::chat_id(999_999),
        Request::chat_id(15),   // not an open-lines chat
        Request::chat_id(2050), // no access
        Request::dialog_id("sg12"),
        Request::session_id(1),
        Request::user_code("livechat|9|9|9"),
    ] {
        match client.dialog_get(req.clone()).await {
            Err(Error::Api { error, .. }) => {
                assert_eq!(error.status, 400);
                assert_eq!(
                    error.code,
                    ApiErrorCode::Method(ErrorCode::AccessError),
                    "{req:?}"
                );
                assert_eq!(error.description, ACCESS);
            }
            other => panic!("{req:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn answer_has_the_documented_shape_with_seeded_values() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let url = format!(
        "{}imopenlines.dialog.get.json?CHAT_ID=1364",
        portal.webhook_url()
    );
    let a = get(&url).await;
    assert_eq!(a.status, 200, "{}", a.raw);
    let r = a.json["result"].as_object().unwrap();
    let doc = dialog_get::EXAMPLES
        .iter()
        .find(|e| e.name == "current")
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(doc.body).unwrap();
    let doc_keys: Vec<&String> = doc["result"].as_object().unwrap().keys().collect();
    assert_eq!(
        r.keys().collect::<Vec<_>>(),
        doc_keys,
        "same keys, same order"
    );
    assert_eq!(r.keys().next_back().map(String::as_str), Some("dialog_id"));
    assert_eq!(r["id"], 1364);
    assert_eq!(r["dialog_id"], "chat1364");
    assert_eq!(r["entity_id"], "livechat|1|1363|203");
    assert_eq!(r["manager_list"], json!([]));
}

#[tokio::test]
async fn first_present_identifier_wins_like_php_isset() {
    let mut cfg = PortalConfig::default();
    cfg.chats.push(SeedChat {
        id: 12,
        name: "Twelve".into(),
        lines: true,
        accessible: true,
        session_id: Some(77),
        user_code: Some("livechat|5|12|12".into()),
        owner: 3,
    });
    let portal = MockPortal::start(cfg).await.unwrap();
    let m = format!("{}imopenlines.dialog.get", portal.webhook_url());
    // CHAT_ID="" is present: it beats a valid DIALOG_ID and fails.
    let a = post_json(&m, &json!({"CHAT_ID": "", "DIALOG_ID": "chat1777"})).await;
    assert_error(&a, 400, "ACCESS_ERROR", ACCESS);
    // null is not present (isset): DIALOG_ID decides.
    let a = post_json(&m, &json!({"CHAT_ID": null, "DIALOG_ID": "chat1777"})).await;
    assert_eq!(a.json["result"]["id"], 1777, "{}", a.raw);
    // "12abc" is read as 12.
    let a = post_json(&m, &json!({"CHAT_ID": "12abc"})).await;
    assert_eq!(a.json["result"]["id"], 12, "{}", a.raw);
    // Order CHAT_ID, DIALOG_ID, SESSION_ID, USER_CODE, whatever the order sent.
    let a = post_json(
        &m,
        &json!({"USER_CODE": "livechat|1|1373|211", "SESSION_ID": 77}),
    )
    .await;
    assert_eq!(a.json["result"]["id"], 12, "{}", a.raw);
    let a = post_json(&m, &json!({"SESSION_ID": 77, "DIALOG_ID": "CHAT1777"})).await;
    assert_eq!(a.json["result"]["id"], 1777, "{}", a.raw);
    // Names are case-insensitive; numeric strings are fine.
    let a = post_json(&m, &json!({"chat_id": "1777"})).await;
    assert_eq!(a.json["result"]["id"], 1777, "{}", a.raw);
    let a = get(&format!("{m}?Dialog_Id=chat12")).await;
    assert_eq!(a.json["result"]["id"], 12, "{}", a.raw);
}

#[tokio::test]
async fn every_bad_input_is_access_error() {
    let portal = MockPortal::start(PortalConfig::default()).await.unwrap();
    let m = format!("{}imopenlines.dialog.get", portal.webhook_url());
    for body in [
        json!({}),
        json!({"CHAT_ID": 999999}),
        json!({"CHAT_ID": "abc"}),
        json!({"CHAT_ID": 15}),
        json!({"CHAT_ID": 2050}),
        json!({"DIALOG_ID": "1777"}),
        json!({"DIALOG_ID": "chat"}),
        json!({"DIALOG_ID": "user1777"}),
        json!({"DIALOG_ID": "crm5"}),
        json!({"SESSION_ID": 0}),
        json!({"USER_CODE": ""}),
        json!({"USER_CODE": "imol|"}),
        json!({"UNRELATED": 1777}),
    ] {
        let a = post_json(&m, &body).await;
        assert_error(&a, 400, "ACCESS_ERROR", ACCESS);
    }
}
