//! Every spec file of the workspace validates.

use std::path::Path;

#[test]
fn every_workspace_spec_validates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let specs = b24_spec::load_dir(&root.join("spec"), &root).unwrap_or_else(|e| panic!("{e}"));
    let dialog = specs
        .iter()
        .find(|s| s.method == "imopenlines.dialog.get")
        .expect("dialog.get is described");
    assert_eq!(dialog.one_of[0].params.len(), 4);
    let codes: Vec<&str> = dialog.errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(
        codes,
        ["ACCESS_ERROR", "IM_NOT_INSTALLED", "DIALOG_ID_EMPTY"]
    );
    assert_eq!(dialog.object("Dialog").map(|o| o.fields.len()), Some(38));
}

/// The open-lines events of the docs (`openlines/events`, `imconnector/events`) are all
/// described, each under `spec/events/`, and method loading skips them.
#[test]
fn every_documented_event_is_described() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let family = b24_spec::load_family(&root.join("spec"), &root).unwrap_or_else(|e| panic!("{e}"));
    let mut names: Vec<&str> = family.events.iter().map(|e| e.event.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "OnImConnectorDialogFinish",
            "OnImConnectorDialogStart",
            "OnImConnectorLineDelete",
            "OnImConnectorMessageAdd",
            "OnImConnectorMessageDelete",
            "OnImConnectorMessageUpdate",
            "OnImConnectorStatusDelete",
            "OnOpenLineMessageAdd",
            "OnOpenLineMessageDelete",
            "OnOpenLineMessageUpdate",
            "OnSessionFinish",
            "OnSessionStart",
        ]
    );
    for e in &family.events {
        assert!(
            e.location.file.starts_with("spec/events"),
            "{}",
            e.location.file.display()
        );
        assert!(
            !e.examples.is_empty(),
            "{} has no documented payload",
            e.event
        );
    }
    let methods = b24_spec::load_dir(&root.join("spec"), &root).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(methods.len(), family.methods.len());
    // One method per spec file outside spec/events, counted on disk rather than written here.
    fn method_files(dir: &std::path::Path) -> usize {
        let mut n = 0;
        for entry in std::fs::read_dir(dir).expect("spec/ is readable").flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|f| f != "events") {
                    n += method_files(&path);
                }
            } else if path.extension().is_some_and(|e| e == "toml") {
                n += 1;
            }
        }
        n
    }
    assert_eq!(methods.len(), method_files(&root.join("spec")));
}
