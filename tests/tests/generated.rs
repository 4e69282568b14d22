//! The generated `imopenlines.dialog.get` types: request encoding for each identifier and the
//! typed value of each documented answer, pinned by snapshots and checked field by field.

use b24_core::{decode_response, ApiErrorCode, Error, Method, MethodErrorCode};
use b24_openlines::imopenlines::dialog_get::{self, ChatRole, ErrorCode, Request, Target};
use serde_json::{json, Value};

fn decode(
    ex: &b24_core::Example,
) -> Result<b24_core::Envelope<dialog_get::Response>, dialog_get::Error> {
    decode_response(
        dialog_get::METHOD,
        ex.status,
        Some("application/json"),
        ex.body.as_bytes(),
    )
}

fn example(name: &str) -> &'static b24_core::Example {
    dialog_get::EXAMPLES
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no example {name}"))
}

#[test]
fn request_body_for_each_identifier() {
    let cases = [
        ("chat_id", Request::chat_id(1777)),
        ("dialog_id", Request::dialog_id("chat1777")),
        ("session_id", Request::session_id(1743)),
        ("user_code", Request::user_code("livechat|1|1373|211")),
        (
            "target_enum",
            Request::new(Target::UserCode("imol|livechat|1|1373|211".into())),
        ),
    ];
    for (name, request) in cases {
        let params = request.params();
        assert_eq!(
            params.len(),
            1,
            "{name}: exactly one identifier goes on the wire"
        );
        insta::assert_json_snapshot!(format!("request_{name}"), Value::Object(params));
    }
    assert_eq!(<Request as Method>::NAME, "imopenlines.dialog.get");
    assert_eq!(<Request as Method>::KIND, b24_core::MethodKind::Read);
}

/// The spec model and the generated `Method::KIND` share one `MethodKind` type (there were
/// two, mapped by hand in the generator).
#[test]
fn spec_and_generated_code_share_one_method_kind() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let rel = std::path::Path::new("spec/imopenlines/dialog.get.toml");
    let spec = b24_spec::load_file(&root.join(rel), rel).expect("the workspace spec loads");
    let kind: b24_core::MethodKind = spec.kind;
    assert_eq!(kind, <Request as Method>::KIND);
    assert_eq!(kind.as_str(), "read");
}

#[test]
fn every_documented_example_decodes_as_pinned() {
    assert_eq!(dialog_get::EXAMPLES.len(), 4);
    for ex in dialog_get::EXAMPLES {
        insta::assert_debug_snapshot!(format!("example_{}", ex.name), decode(ex));
    }
}

#[test]
fn current_example_has_real_types() {
    let dialog = decode(example("current")).unwrap().result;
    assert_eq!(dialog.id, 1777);
    assert_eq!(dialog.dialog_id.as_deref(), Some("chat1777"));
    let created = dialog.date_create.expect("date_create is set");
    assert_eq!(created.to_rfc3339(), "2026-03-13T16:50:15+03:00");
    assert_eq!(created.offset().local_minus_utc(), 3 * 3600);
    assert_eq!(dialog.role, Some(ChatRole::Owner));
    assert_eq!(dialog.public, None, "\"\" is no public link");
    assert_eq!(dialog.background_id, None);
    assert_eq!(dialog.description, None);
    assert_eq!(dialog.manager_list, vec![27]);
    assert!(dialog.mute_list.is_empty());
    assert_eq!(
        dialog.restrictions.as_ref().and_then(|r| r.leave_owner),
        Some(true)
    );
    let perms = dialog.permissions.as_ref().expect("permissions");
    assert_eq!(perms.manage_settings, Some(ChatRole::Owner));
    assert_eq!(perms.manage_users_delete, Some(ChatRole::Manager));
    assert_eq!(dialog.readed_list[0].date, None);
    assert_eq!(dialog.readed_list[0].user_name, "Гость");
    let views = dialog.last_message_views.as_ref().expect("views");
    assert_eq!(
        views.first_viewers[0].date.map(|d| d.to_rfc3339()),
        Some("2026-03-16T20:50:37+03:00".to_string())
    );
    let link = dialog.entity_link.as_ref().expect("entity_link");
    assert_eq!(link.id.as_deref(), Some("livechat|22|1775|599"));
    assert!(
        dialog.extra.is_empty(),
        "every key of the current page is typed: {:?}",
        dialog.extra.keys()
    );
}

#[test]
fn docs_2024_example_decodes_with_the_older_key_set() {
    let env = decode(example("docs-2024")).unwrap();
    assert!(env.time.is_none());
    let dialog = env.result;
    assert_eq!(dialog.id, 1364);
    assert_eq!(dialog.dialog_id, None);
    assert_eq!(dialog.parent_chat_id, None);
    assert_eq!(dialog.entity_data_2, "");
    assert!(dialog.readed_list.is_empty());
}

#[test]
fn error_examples_decode_to_documented_codes() {
    match decode(example("access-error")) {
        Err(Error::Api { error, method }) => {
            assert_eq!(method, "imopenlines.dialog.get");
            assert_eq!(error.status, 400);
            assert_eq!(error.code, ApiErrorCode::Method(ErrorCode::AccessError));
            assert_eq!(
                error.description,
                "You do not have access to the specified dialog"
            );
        }
        other => panic!("{other:?}"),
    }
    match decode(example("dialog-id-empty")) {
        Err(Error::Api { error, .. }) => {
            assert_eq!(error.code, ApiErrorCode::Method(ErrorCode::DialogIdEmpty));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ErrorCode::AccessError.documented_status(), Some(400));
    assert_eq!(
        ErrorCode::documented("IM_NOT_INSTALLED"),
        Some(ErrorCode::ImNotInstalled)
    );
}

#[test]
fn quirky_answer_decodes() {
    // Everything the portal is known to bend, in one body.
    let body = json!({
        "result": {
            "id": "1777", "owner": "27", "extranet": "N", "name": 2043,
            "avatar": "", "color": "#58cc47", "type": "lines",
            "entity_type": "LINES", "entity_id": "livechat|22|1775|599",
            "entity_data_1": "", "entity_data_2": "", "entity_data_3": "",
            "message_type": "L", "date_create": null,
            "restrictions": [], "permissions": [],
            "public": {"code": "abc", "link": "https://example.invalid/abc"},
            "text_field_enabled": "Y", "is_new": 0, "counter": "3",
            "background_id": 12, "role": "superhero",
            "readed_list": {"0": {"user_id": "5", "user_name": "A", "message_id": "9", "date": ""}},
            "mute_list": [],
            "manager_list": ["27", 28],
            "last_message_views": {"message_id": 1, "first_viewers": [], "count_of_viewers": "0"},
            "dialog_id": "chat1777",
            "brand_new_key": {"nested": [1, 2]}
        },
        "time": {"start": 1.5, "date_start": "2026-03-16T20:54:38+03:00"}
    })
    .to_string();
    let dialog = decode_response::<dialog_get::Response, ErrorCode>(
        dialog_get::METHOD,
        200,
        None,
        body.as_bytes(),
    )
    .unwrap()
    .result;
    assert_eq!((dialog.id, dialog.owner), (1777, 27));
    assert!(!dialog.extranet);
    assert_eq!(dialog.name, "2043");
    assert_eq!(dialog.date_create, None);
    assert_eq!(dialog.restrictions, None, "[] is an empty object");
    assert_eq!(dialog.permissions, None);
    assert_eq!(dialog.public.as_ref().map(|p| p.code.as_str()), Some("abc"));
    assert_eq!(dialog.text_field_enabled, Some(true));
    assert_eq!(dialog.is_new, Some(false));
    assert_eq!(dialog.counter, Some(3));
    assert_eq!(dialog.background_id.as_deref(), Some("12"));
    assert!(matches!(dialog.role, Some(ChatRole::Unknown(_))));
    assert_eq!(
        dialog.role.as_ref().map(ChatRole::as_str),
        Some("superhero")
    );
    assert_eq!(dialog.role, Some(ChatRole::parse("superhero")));
    assert_eq!(dialog.readed_list[0].user_id, 5);
    assert_eq!(dialog.readed_list[0].date, None);
    assert_eq!(dialog.manager_list, vec![27, 28]);
    assert_eq!(dialog.extra["brand_new_key"], json!({"nested": [1, 2]}));
}

#[test]
fn decode_errors_name_the_json_path() {
    let mut body: Value = serde_json::from_str(example("current").body).unwrap();
    body["result"]["readed_list"][0]["date"] = json!("not a date");
    let err = decode_response::<dialog_get::Response, ErrorCode>(
        dialog_get::METHOD,
        200,
        None,
        body.to_string().as_bytes(),
    )
    .unwrap_err();
    match &err {
        Error::Decode { path, status, .. } => {
            assert_eq!(path, "result.readed_list[0].date");
            assert_eq!(*status, 200);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().contains("result.readed_list[0].date"),
        "{err}"
    );
    body["result"]["readed_list"][0]["date"] = Value::Null;
    body["result"].as_object_mut().unwrap().remove("id");
    let err = decode_response::<dialog_get::Response, ErrorCode>(
        dialog_get::METHOD,
        200,
        None,
        body.to_string().as_bytes(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("missing field `id`"), "{err}");
}
