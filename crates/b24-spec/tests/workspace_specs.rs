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
