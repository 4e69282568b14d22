//! Snapshots of what the importer makes of real docs pages, of both templates.
//!
//! Each snapshot is the spec file followed by the importer's warnings (the same notes are the
//! file's `TODO(review)` comments). Review a snapshot diff as you would review the spec.

use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn import(rel: &str) -> b24_docs_import::Imported {
    b24_docs_import::import_file(&fixture(rel)).unwrap_or_else(|e| panic!("{e}"))
}

fn snapshot(rel: &str) -> String {
    let imp = import(rel);
    let mut out = imp.toml.clone();
    out.push_str("\n# ---- warnings ----\n");
    for w in imp.warnings() {
        out.push_str(&format!("# {w}\n"));
    }
    out
}

const CURRENT: &str = "current/api-reference/imopenlines";
const OLD: &str = "2024-09-06/api-reference/imopenlines";

#[test]
fn current_dialog_get() {
    insta::assert_snapshot!(snapshot(&format!(
        "{CURRENT}/openlines/sessions/imopenlines-dialog-get.md"
    )));
}

#[test]
fn current_session_open() {
    insta::assert_snapshot!(snapshot(&format!(
        "{CURRENT}/openlines/sessions/imopenlines-session-open.md"
    )));
}

#[test]
fn current_config_get() {
    insta::assert_snapshot!(snapshot(&format!(
        "{CURRENT}/openlines/imopenlines-config-get.md"
    )));
}

#[test]
fn current_crm_chat_get() {
    insta::assert_snapshot!(snapshot(&format!(
        "{CURRENT}/openlines/chats/imopenlines-crm-chat-get.md"
    )));
}

#[test]
fn current_imconnector_register() {
    insta::assert_snapshot!(snapshot(&format!(
        "{CURRENT}/imconnector/imconnector-register.md"
    )));
}

#[test]
fn old_dialog_get() {
    insta::assert_snapshot!(snapshot(&format!(
        "{OLD}/openlines/sessions/imopenlines-dialog-get.md"
    )));
}

#[test]
fn old_operator_answer() {
    insta::assert_snapshot!(snapshot(&format!(
        "{OLD}/openlines/operators/imopenlines-operator-answer.md"
    )));
}

#[test]
fn old_config_add() {
    insta::assert_snapshot!(snapshot(&format!(
        "{OLD}/openlines/imopenlines-config-add.md"
    )));
}

#[test]
fn old_imconnector_status() {
    insta::assert_snapshot!(snapshot(&format!(
        "{OLD}/imconnector/imconnector-status.md"
    )));
}

/// The current page describes the same keys as the reviewed spec's `Dialog` object, with the
/// same nested objects; the importer must find all of them.
#[test]
fn current_dialog_get_has_the_reviewed_keys() {
    let imp = import(&format!(
        "{CURRENT}/openlines/sessions/imopenlines-dialog-get.md"
    ));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let reviewed = b24_spec::load_file(
        &root.join("spec/imopenlines/dialog.get.toml"),
        Path::new("spec/imopenlines/dialog.get.toml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let keys = |spec: &b24_spec::Spec, obj: &str| {
        let mut k: Vec<String> = spec
            .object(obj)
            .map(|o| o.fields.iter().map(|f| f.name.clone()).collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(imp.spec.result.ty.to_string(), "DialogGetResult");
    assert_eq!(
        keys(&imp.spec, "DialogGetResult"),
        keys(&reviewed, "Dialog")
    );
    assert_eq!(
        keys(&imp.spec, "ReadedListItem"),
        keys(&reviewed, "ReadedListItem")
    );
    assert_eq!(
        imp.spec.kind,
        b24_spec::MethodKind::Read,
        "kind comes from the simulator summary"
    );
    let codes: Vec<&str> = imp.spec.errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["IM_NOT_INSTALLED", "ACCESS_ERROR"]);
    let access = imp.spec.errors.iter().find(|e| e.code == "ACCESS_ERROR");
    assert_eq!(
        access.and_then(|e| e.message.as_deref()),
        Some("You do not have access to the specified dialog")
    );
    // The success example carries the request of the page's cURL example.
    let success = &imp.spec.examples[0];
    assert_eq!(success.status, 200);
    assert_eq!(
        success.request,
        Some(serde_json::json!({"USER_CODE": "livechat|1|1373|211"}))
    );
    // The only guesses: an `array` typed from the example, an `array` that stays untyped,
    // and the one-of hint.
    assert!(imp.toml.contains("manager_list = { type = \"integer[]\""));
    assert!(imp
        .warnings()
        .iter()
        .any(|w| w.message.contains("mute_list")));
}

/// The 2024 page has no types for `operator.answer`: the parameter is `any` with a TODO, the
/// kind comes from the verb (`answer` writes, so no TODO), and the file still validates.
#[test]
fn old_untyped_parameter_is_a_todo() {
    let imp = import(&format!(
        "{OLD}/openlines/operators/imopenlines-operator-answer.md"
    ));
    assert_eq!(imp.spec.params[0].name, "CHAT_ID");
    assert_eq!(imp.spec.params[0].ty.to_string(), "any");
    assert!(imp.toml.contains("# TODO(review): the docs type `unknown`"));
    assert_eq!(imp.spec.kind, b24_spec::MethodKind::Write);
    assert!(!imp.toml.contains("`kind` is `write` by default"));
}

/// A verb the importer does not know gives `write` (never replayed) and a TODO.
#[test]
fn unknown_verb_is_a_write_with_a_todo() {
    assert_eq!(
        b24_docs_import::import::kind_from_name("user.current"),
        ("read", true)
    );
    assert_eq!(
        b24_docs_import::import::kind_from_name("tasks.api.scrum.kanban.addStage"),
        ("write", true)
    );
    assert_eq!(
        b24_docs_import::import::kind_from_name("tasks.api.scrum.kanban.getFields"),
        ("read", true)
    );
    assert_eq!(
        b24_docs_import::import::kind_from_name("calendar.event.get.nearest"),
        ("write", false)
    );
}
