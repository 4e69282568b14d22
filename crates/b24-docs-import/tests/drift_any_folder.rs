//! `drift` for a spec folder that is not `spec/`, against any docs checkout: specs of the
//! corpus sections (`../shared/b24-rest-docs/corpus/{current,2024-09-06}`, ten sections other
//! than open lines), written into a temporary folder, and the real `spec/` against the English
//! translation (`../shared/b24-rest-docs/en`). `B24_REST_DOCS` points elsewhere.

use std::path::PathBuf;

use b24_docs_import::drift::{compare, drift, Change, DocsIndex, DriftOptions, Finding, Item};
use b24_docs_import::Imported;

mod common;

use common::workspace;

fn docs(revision: &str) -> PathBuf {
    common::checkout(revision)
}

/// A fresh folder of this test process.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("b24-drift-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Corpus pages the specs are made from. `bizproc.task.delegate` is documented by the
/// current docs only: its name appears nowhere in the 2024 corpus.
const DISK_RENAME: &str = "api-reference/disk/file/disk-file-rename.md";
const ELAPSED_ADD: &str = "api-reference/tasks/elapsed-item/task-elapsed-item-add.md";
const DELEGATE: &str = "api-reference/bizproc/bizproc-task/bizproc-task-delegate.md";

fn import(revision: &str, rel: &str) -> Imported {
    let page = docs(revision).join(rel);
    b24_docs_import::import_file(&page).unwrap_or_else(|e| panic!("{e}"))
}

/// Writes spec files (`<namespace>/<rest>.toml`, as `xtask import` does) into a fresh folder,
/// loads the folder as `xtask drift --spec` does, and removes it.
fn spec_folder(name: &str, files: &[(&str, String)]) -> Vec<b24_spec::Spec> {
    let dir = temp_dir(name);
    for (method, toml) in files {
        let path = dir.join(b24_docs_import::spec_path(method));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, toml).unwrap();
    }
    let specs = b24_spec::load_dir(&dir, &dir).unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&dir);
    specs
}

fn only_specced() -> DriftOptions {
    DriftOptions {
        only_specced: true,
        methods: Vec::new(),
    }
}

/// The spec file with parameter `name`'s type replaced.
fn retype_param(toml: &str, name: &str, ty: &str) -> String {
    let mut out = Vec::new();
    let (mut in_param, mut done) = (false, false);
    for line in toml.lines() {
        if line.starts_with('[') {
            in_param = false;
        }
        if line == format!("name = \"{name}\"") {
            in_param = true;
        }
        if in_param && !done && line.starts_with("type = ") {
            out.push(format!("type = \"{ty}\""));
            done = true;
            continue;
        }
        out.push(line.to_string());
    }
    assert!(done, "no parameter `{name}` in\n{toml}");
    out.join("\n") + "\n"
}

/// The spec file without the `[[errors]]` entry of `code`.
fn drop_error(toml: &str, code: &str) -> String {
    let lines: Vec<&str> = toml.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut dropped = false;
    while i < lines.len() {
        if lines[i] == "[[errors]]" {
            let end = (i + 1..lines.len())
                .find(|&j| lines[j].starts_with('['))
                .unwrap_or(lines.len());
            if lines[i..end].contains(&format!("code = \"{code}\"").as_str()) {
                dropped = true;
                i = end;
                continue;
            }
        }
        out.push(lines[i]);
        i += 1;
    }
    assert!(dropped, "no error `{code}` in\n{toml}");
    out.join("\n") + "\n"
}

fn summary(f: &Finding) -> (String, Item, String, Change, String, bool) {
    (
        f.method.clone(),
        f.item,
        f.name.clone(),
        f.change,
        f.detail.clone(),
        f.is_drift(),
    )
}

#[test]
fn corpus_specs_in_another_folder_do_not_drift_until_edited() {
    let specs = [DISK_RENAME, ELAPSED_ADD, DELEGATE].map(|rel| import("corpus/current", rel));
    let files: Vec<(&str, String)> = specs
        .iter()
        .map(|i| (i.spec.method.as_str(), i.toml.clone()))
        .collect();
    let specs = spec_folder("untouched", &files);
    let report = drift(&specs, &docs("corpus/current"), &only_specced());
    assert!(report.findings.is_empty(), "{report}");
    assert!(report.unreadable.is_empty(), "{report}");
    assert_eq!(report.pages, 3, "{report}");
    assert!(!report.drifted(), "{report}");

    // A parameter retyped and an error code removed: exactly these two findings.
    let edited: Vec<(&str, String)> = files
        .iter()
        .map(|(m, toml)| {
            let toml = match *m {
                "disk.file.rename" => retype_param(toml, "newName", "integer"),
                "task.elapseditem.add" => drop_error(toml, "0x000001"),
                _ => toml.clone(),
            };
            (*m, toml)
        })
        .collect();
    let specs = spec_folder("edited", &edited);
    let report = drift(&specs, &docs("corpus/current"), &only_specced());
    let found: Vec<_> = report.findings.iter().map(summary).collect();
    assert_eq!(
        found,
        [
            (
                "disk.file.rename".to_string(),
                Item::Param,
                "newName".to_string(),
                Change::Changed,
                "type `string` in the docs, `integer` in the spec".to_string(),
                true
            ),
            (
                "task.elapseditem.add".to_string(),
                Item::Error,
                "0x000001".to_string(),
                Change::Added,
                "status 400".to_string(),
                true
            ),
        ],
        "{report}"
    );
    assert!(report.unreadable.is_empty(), "{report}");
    assert!(report.drifted());
}

/// The first parameter whose type the page states as a plain scalar, and a type of
/// another coarse kind.
fn retypable(imp: &Imported) -> Option<(String, String, String)> {
    imp.spec.params.iter().find_map(|p| {
        let ty = p.ty.to_string();
        let scalar = ["integer", "string", "boolean", "double"].contains(&ty.as_str());
        let guessed = imp
            .notes
            .ty_guessed(&b24_docs_import::Target::Param(p.name.clone()));
        (scalar && !guessed).then(|| {
            let to = if ty == "boolean" {
                "integer"
            } else {
                "boolean"
            };
            (p.name.clone(), ty, to.to_string())
        })
    })
}

/// Against each corpus revision, the spec imported from that revision's own page does not
/// drift, and a retyped parameter or a removed error code is found exactly. A page the
/// importer cannot read (yet) is reported as unreadable, by its path, never as a method
/// missing from the docs.
#[test]
fn each_corpus_revision_against_its_own_import() {
    for revision in ["corpus/current", "corpus/2024-09-06"] {
        let root = docs(revision);
        let mut compared = 0;
        for rel in [DISK_RENAME, ELAPSED_ADD] {
            let page = root.join(rel);
            assert!(page.is_file(), "{}", page.display());
            // What drift itself reads: the import, refused when a table was not read.
            let cx = b24_docs_import::DocsContext {
                root: Some(root.clone()),
            };
            match b24_docs_import::drift::import_for_drift(&page, &cx) {
                Ok(imp) => {
                    let method = imp.spec.method.clone();
                    let specs = spec_folder("own", &[(method.as_str(), imp.toml.clone())]);
                    let report = drift(&specs, &root, &only_specced());
                    assert!(report.findings.is_empty(), "{revision}: {report}");
                    assert!(report.unreadable.is_empty(), "{revision}: {report}");
                    let mut edited = imp.toml.clone();
                    let mut expected = Vec::new();
                    if let Some((name, from, to)) = retypable(&imp) {
                        edited = retype_param(&edited, &name, &to);
                        expected.push((
                            method.clone(),
                            Item::Param,
                            name,
                            Change::Changed,
                            format!("type `{from}` in the docs, `{to}` in the spec"),
                            true,
                        ));
                    }
                    if let Some(e) = imp.spec.errors.first() {
                        edited = drop_error(&edited, &e.code);
                        expected.push((
                            method.clone(),
                            Item::Error,
                            e.code.clone(),
                            Change::Added,
                            format!("status {}", e.status),
                            true,
                        ));
                    }
                    // A page with no typed parameter and no error code (2024 pages type
                    // parameters `unknown`) gives nothing to edit: the untouched comparison
                    // above is the check.
                    if !expected.is_empty() {
                        let specs = spec_folder("own-edited", &[(method.as_str(), edited)]);
                        let report = drift(&specs, &root, &only_specced());
                        let found: Vec<_> = report.findings.iter().map(summary).collect();
                        assert_eq!(found, expected, "{revision}: {report}");
                    }
                    compared += 1;
                }
                Err(e) => {
                    // The spec of the current page, against a page the importer refuses.
                    let imp = import("corpus/current", rel);
                    let specs =
                        spec_folder("refused", &[(imp.spec.method.as_str(), imp.toml.clone())]);
                    let report = drift(&specs, &root, &only_specced());
                    assert!(
                        report.unreadable.iter().any(|u| u.page == page),
                        "{revision}: {e} not reported in\n{report}"
                    );
                    assert!(
                        !report.findings.iter().any(|f| f.item == Item::Method),
                        "{revision}: {report}"
                    );
                    assert!(report.drifted());
                }
            }
        }
        // Today's pages all import; the 2024 template is the importer's work in progress.
        if revision == "corpus/current" {
            assert_eq!(compared, 2);
        }
    }
}

/// A method whose page the checkout no longer has is reported as removed from the docs
/// (drift), not a crash; a spec of a section the checkout does not hold at all is only a
/// reviewed difference (the shared checkouts are partial); a folder that is no checkout is
/// an unreadable page.
#[test]
fn a_method_without_a_page_is_removed_from_the_docs() {
    let delegate = import("corpus/current", DELEGATE);
    let rename = import("corpus/current", DISK_RENAME);
    // The same spec under a name and page no revision has.
    let vanished = rename
        .toml
        .replace(
            "method = \"disk.file.rename\"",
            "method = \"disk.file.vanish\"",
        )
        .replace("disk-file-rename.html", "disk-file-vanish.html");
    // A spec of a section none of the corpus checkouts holds.
    let elsewhere = rename
        .toml
        .replace(
            "method = \"disk.file.rename\"",
            "method = \"crm.item.rename\"",
        )
        .replace("/api-reference/disk/file/", "/api-reference/crm/item/");
    let specs = spec_folder(
        "gone",
        &[
            ("bizproc.task.delegate", delegate.toml.clone()),
            ("disk.file.vanish", vanished),
            ("crm.item.rename", elsewhere),
        ],
    );

    let report = drift(&specs, &docs("corpus/2024-09-06"), &only_specced());
    let methods: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.item == Item::Method)
        .map(|f| (f.method.as_str(), f.change, f.is_drift()))
        .collect();
    assert_eq!(
        methods,
        [
            ("bizproc.task.delegate", Change::Removed, true),
            ("crm.item.rename", Change::Removed, false),
            ("disk.file.vanish", Change::Removed, true),
        ],
        "{report}"
    );
    assert!(report.drifted());
    let f = report.for_method("disk.file.vanish").next().unwrap();
    assert!(
        f.detail
            .contains("api-reference/disk/file/disk-file-vanish.md is gone"),
        "{f}"
    );
    let f = report.for_method("crm.item.rename").next().unwrap();
    assert!(
        f.reviewed
            .as_deref()
            .is_some_and(|n| n.contains("api-reference/crm/")),
        "{f}"
    );

    // In today's corpus `bizproc.task.delegate` has its page again.
    let report = drift(&specs, &docs("corpus/current"), &only_specced());
    assert_eq!(report.for_method("bizproc.task.delegate").count(), 0);
    assert_eq!(report.for_method("disk.file.vanish").count(), 1);

    // Not a checkout: reported, not a crash, and it counts.
    let empty = temp_dir("no-checkout");
    let report = drift(&specs, &empty, &only_specced());
    let _ = std::fs::remove_dir_all(&empty);
    assert!(report.findings.is_empty(), "{report}");
    assert_eq!(report.unreadable.len(), 1, "{report}");
    assert!(report.drifted());
}

/// Without `only_specced`, docs-only methods come from the sections the folder covers only.
#[test]
fn docs_only_methods_come_from_the_covered_sections() {
    let specs = [DISK_RENAME, ELAPSED_ADD].map(|rel| import("corpus/current", rel));
    let files: Vec<(&str, String)> = specs
        .iter()
        .map(|i| (i.spec.method.as_str(), i.toml.clone()))
        .collect();
    let specs = spec_folder("sections", &files);
    let root = docs("corpus/current");
    let index = DocsIndex::read(&root);
    let report = drift(&specs, &root, &DriftOptions::default());
    let added: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.item == Item::Method && f.change == Change::Added)
        .map(|f| f.method.as_str())
        .collect();
    assert!(added.contains(&"disk.folder.get"), "{report}");
    assert!(added.contains(&"task.elapseditem.delete"), "{report}");
    for m in &added {
        let page = index
            .pages_of(m)
            .next()
            .unwrap_or_else(|| panic!("{m} has no page"));
        assert!(
            ["disk", "tasks"].contains(&page.section())
                || m.starts_with("disk.")
                || m.starts_with("task."),
            "{m} ({}) is outside the folder's sections",
            page.rel
        );
    }
    // The other eight sections hold most of the corpus's method pages: none is listed.
    assert!(index.pages_of("user.get").next().is_some());
    assert!(!added.contains(&"user.get"));
    let outside = index
        .pages
        .iter()
        .filter(|p| !["disk", "tasks"].contains(&p.section()))
        .count();
    assert!(outside > 100, "{outside}");
}

/// Only facts count: descriptions, summaries and error messages worded in another language
/// (or reworded) are not drift; a status that differs still is.
#[test]
fn wording_is_never_drift() {
    let imp = import(
        "current",
        "api-reference/imopenlines/imconnector/imconnector-unregister.md",
    );
    let spec = imp.spec.clone();
    assert!(spec.errors.iter().any(|e| e
        .message
        .as_deref()
        .is_some_and(|m| m.chars().any(|c| ('а'..='я').contains(&c)))));
    let mut english = imp.clone();
    english.spec.summary = "Unregister a connector".into();
    english.spec.description = Some("The method unregisters a connector.".into());
    for p in &mut english.spec.params {
        p.description = "The connector's identifier.".into();
    }
    for e in &mut english.spec.errors {
        e.message = Some("Error unregistering the application".into());
        e.description = "Failed to remove the connector".into();
    }
    let mut found = Vec::new();
    compare(&spec, &english, &mut found);
    assert_eq!(found, Vec::new());

    english.spec.errors[0].status = 500;
    compare(&spec, &english, &mut found);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].item, found[0].change),
        (Item::Error, Change::Changed)
    );
}

/// The real `spec/` against the English translation: every spec finds its page there (by the
/// method the page names, or by the spec's `docs` path when the title does not end with it),
/// and a page the importer cannot read yet is reported with its path and the reason.
#[test]
fn spec_folder_against_the_english_translation() {
    let root = workspace();
    let specs = b24_spec::load_dir(&root.join("spec"), &root).unwrap_or_else(|e| panic!("{e}"));
    let en = docs("en");
    let report = drift(&specs, &en, &only_specced());
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.item == Item::Method && f.change == Change::Removed),
        "{report}"
    );
    assert_eq!(report.pages, specs.len(), "{report}");
    for u in &report.unreadable {
        assert!(u.page.starts_with(en.join("api-reference")), "{u}");
        assert!(!u.expected.is_empty(), "{u}");
    }
    // A page in a wording the importer does not read is never taken for a page without
    // parameters or errors: no parameter or code the English page names is reported missing.
    for f in report
        .findings
        .iter()
        .filter(|f| f.change == Change::Removed)
    {
        let spec = specs.iter().find(|s| s.method == f.method).unwrap();
        let rel = b24_docs_import::drift::docs_path_of_url(&spec.docs).unwrap();
        let page = std::fs::read_to_string(en.join(&rel)).unwrap_or_default();
        let named = match f.item {
            Item::Param => page.contains(&format!("**{}*", f.name)),
            Item::Error => page.contains(&format!("| `{}` |", f.name)),
            _ => false,
        };
        assert!(!named, "{rel} names {f}");
    }
    // Text is never compared: no finding is about a message or a description.
    for f in &report.findings {
        assert!(
            !f.detail.contains("message") && !f.detail.contains("description"),
            "{f}"
        );
    }
}

proptest::proptest! {
    /// Whatever a spec's `docs` says, the path drift looks up stays inside the checkout's
    /// `api-reference/`: a Markdown file, no `..` or `.` segment, no absolute path.
    #[test]
    fn a_docs_url_never_leaves_api_reference(
        url in proptest::string::string_regex("(https://[a-z.]{0,12})?(/api-reference/)?([a-z.#?]{0,6}/){0,4}[a-z.]{0,8}(\\.html|\\.md|/)?(#[a-z]{0,4})?").unwrap(),
    ) {
        if let Some(rel) = b24_docs_import::drift::docs_path_of_url(&url) {
            proptest::prop_assert!(rel.starts_with("api-reference/"), "{rel}");
            proptest::prop_assert!(rel.ends_with(".md"), "{rel}");
            proptest::prop_assert!(!rel.split('/').any(|p| p == ".." || p == "."), "{rel}");
            proptest::prop_assert!(!rel.contains(['#', '?']), "{rel}");
        } else {
            proptest::prop_assert!(!url.contains("/api-reference/") || url.contains("/.") , "{url}");
        }
    }
}
