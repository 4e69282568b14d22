//! The tools on the two docs revisions the project ships (`../shared/b24-rest-docs/current`
//! and `../shared/b24-rest-docs/2024-09-06` next to the workspace; `B24_REST_DOCS` points
//! elsewhere).

use std::path::PathBuf;

use b24_docs_import::drift::{docs_path_of_url, drift, Change, DriftOptions, Item};

mod common;

use common::workspace;

fn docs(revision: &str) -> PathBuf {
    let dir = common::checkout(revision);
    assert!(
        dir.join("api-reference/imopenlines").is_dir(),
        "{} holds no open-lines section",
        dir.display()
    );
    dir
}

fn specs() -> Vec<b24_spec::Spec> {
    let root = workspace();
    b24_spec::load_dir(&root.join("spec"), &root).unwrap_or_else(|e| panic!("{e}"))
}

/// Every method the current docs summarise (`_assets/simulator/spec/methods/*.json`) imports
/// into a valid spec whose examples pass `check`.
#[test]
fn all_fifty_current_pages_import() {
    let root = docs("current");
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(root.join("_assets/simulator/spec/methods")).unwrap() {
        let path = entry.unwrap().path();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        pages.push(root.join(v["source"]["file"].as_str().unwrap()));
    }
    pages.sort();
    assert_eq!(pages.len(), 50);
    let mut with_todos = 0;
    for page in &pages {
        let imp = b24_docs_import::import_file(page).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            b24_docs_import::check::check_spec(&imp.spec),
            Vec::new(),
            "{}",
            page.display()
        );
        // Every guess is both a warning and a comment in the file.
        assert_eq!(
            imp.toml.matches("# TODO(review)").count(),
            imp.warnings().len(),
            "{}",
            page.display()
        );
        if !imp.warnings().is_empty() {
            with_todos += 1;
        }
    }
    assert!(with_todos > 0 && with_todos < 50, "{with_todos}");
}

/// The specs whose pages lie under `api-reference/imopenlines/` (all but `event.*`): the
/// methods drift compared before it walked the whole checkout.
fn open_lines_methods(specs: &[b24_spec::Spec]) -> Vec<String> {
    specs
        .iter()
        .filter(|s| s.docs.contains("/api-reference/imopenlines/"))
        .map(|s| s.method.clone())
        .collect()
}

#[test]
fn drift_against_current_docs_is_only_reviewed_differences_for_dialog_get() {
    let specs = specs();
    let methods = open_lines_methods(&specs);
    assert_eq!(methods.len(), specs.len() - 7);
    let report = drift(
        &specs,
        &docs("current"),
        &DriftOptions {
            only_specced: true,
            methods,
        },
    );
    assert!(report.unreadable.is_empty(), "{report}");
    let found: Vec<(Item, &str, Change, bool)> = report
        .for_method("imopenlines.dialog.get")
        .map(|f| (f.item, f.name.as_str(), f.change, f.is_drift()))
        .collect();
    assert_eq!(
        found,
        [
            (
                Item::ResultKey,
                "result.background_id",
                Change::Changed,
                false
            ),
            (Item::ResultKey, "result.public", Change::Changed, false),
            (Item::Error, "DIALOG_ID_EMPTY", Change::Removed, false),
        ],
        "{report}"
    );
    assert!(!report.drifted(), "{report}");
}

#[test]
fn drift_against_2024_docs_finds_what_the_old_page_lacked() {
    let report = drift(
        &specs(),
        &docs("2024-09-06"),
        &DriftOptions {
            only_specced: true,
            methods: vec!["imopenlines.dialog.get".into()],
        },
    );
    assert!(report.drifted(), "{report}");
    let find = |name: &str| {
        report
            .for_method("imopenlines.dialog.get")
            .find(|f| f.name == name)
    };
    // Keys the 2024 page does not document and the spec does not explain: drift.
    for key in [
        "result.counter",
        "result.restrictions",
        "result.readed_list",
    ] {
        let f = find(key).unwrap_or_else(|| panic!("{key} missing from\n{report}"));
        assert_eq!((f.change, f.is_drift()), (Change::Removed, true), "{f}");
    }
    let f = find("IM_NOT_INSTALLED").expect("IM_NOT_INSTALLED");
    assert_eq!(
        (f.item, f.change, f.is_drift()),
        (Item::Error, Change::Removed, true)
    );
    // Keys the spec notes as "current docs only": reviewed.
    for key in [
        "result.parent_chat_id",
        "result.entity_link",
        "result.permissions",
    ] {
        let f = find(key).unwrap_or_else(|| panic!("{key} missing from\n{report}"));
        assert!(!f.is_drift(), "{f}");
        assert!(f
            .reviewed
            .as_deref()
            .is_some_and(|n| n.contains("Current docs only")));
    }
    // Documented on both sides: no finding. The 2024 statuses are not stated, so not compared.
    for same in [
        "result.dialog_id",
        "result.id",
        "ACCESS_ERROR",
        "DIALOG_ID_EMPTY",
        "CHAT_ID",
    ] {
        assert!(find(same).is_none(), "{same} should not differ:\n{report}");
    }
    // Nested keys under a key the docs lack are not repeated.
    assert!(find("result.restrictions.avatar").is_none());
}

#[test]
fn drift_lists_docs_only_methods() {
    let report = drift(&specs(), &docs("current"), &DriftOptions::default());
    let added: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.item == Item::Method && f.change == Change::Added)
        .map(|f| f.name.as_str())
        .collect();
    // All 50 documented methods have a spec now (issue 6).
    assert!(added.is_empty(), "{report}");
}

/// Every spec of `spec/` against today's docs: nothing but reviewed differences, every page
/// read.
#[test]
fn drift_of_the_whole_spec_folder_against_current_is_reviewed() {
    let specs = specs();
    let report = drift(
        &specs,
        &docs("current"),
        &DriftOptions {
            only_specced: true,
            methods: Vec::new(),
        },
    );
    assert_eq!(report.pages, specs.len(), "{report}");
    assert!(report.unreadable.is_empty(), "{report}");
    assert!(!report.drifted(), "{report}");
}

/// The `event.*` specs link to `api-reference/events/`, which drift did not read before it
/// walked the whole checkout. Each now finds its page there and is compared, never reported as
/// a method the docs lack. The 2024 checkout holds no `events/` section: there the specs are
/// reviewed differences, as before.
#[test]
fn drift_reads_the_event_pages_outside_open_lines() {
    let specs = specs();
    let events: Vec<&b24_spec::Spec> = specs
        .iter()
        .filter(|s| s.method.starts_with("event."))
        .collect();
    assert_eq!(events.len(), 7);
    let methods: Vec<String> = events.iter().map(|s| s.method.clone()).collect();
    let opts = DriftOptions {
        only_specced: true,
        methods,
    };
    let current = docs("current");
    let report = drift(&specs, &current, &opts);
    assert_eq!(report.pages, 7, "{report}");
    for spec in &events {
        let rel = docs_path_of_url(&spec.docs).expect("an api-reference URL");
        assert!(rel.starts_with("api-reference/events/"), "{rel}");
        assert!(
            !report
                .for_method(&spec.method)
                .any(|f| f.item == Item::Method && f.change == Change::Removed),
            "{report}"
        );
    }
    // Each of the seven is read and compared: the pages state no scope (none is compared),
    // and where the specs follow the server code instead of the page (`handler` optional,
    // `auth_connector`, the results' shapes) a `note` makes the difference reviewed.
    assert!(report.unreadable.is_empty(), "{report}");
    assert!(!report.drifted(), "{report}");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.method == "event.bind" && f.item == Item::Param && f.name == "handler"),
        "{report}"
    );
    assert!(report
        .findings
        .iter()
        .all(|f| f.reviewed.is_some() && f.item != Item::Method));

    let report = drift(&specs, &docs("2024-09-06"), &opts);
    let found: Vec<(&str, Item, Change, bool)> = report
        .findings
        .iter()
        .map(|f| (f.method.as_str(), f.item, f.change, f.is_drift()))
        .collect();
    let expected: Vec<(&str, Item, Change, bool)> = events
        .iter()
        .map(|s| (s.method.as_str(), Item::Method, Change::Removed, false))
        .collect();
    assert_eq!(found, expected, "{report}");
    assert!(report.unreadable.is_empty(), "{report}");
}
