//! Pins the generated code of the workspace specs. Review every diff as code.

use std::path::Path;

fn workspace_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn dialog_get_generated_code() {
    let root = workspace_root();
    let spec = b24_spec::load_file(
        &root.join("spec/imopenlines/dialog.get.toml"),
        Path::new("spec/imopenlines/dialog.get.toml"),
    )
    .unwrap();
    let tokens = b24_codegen::generate(
        &[spec],
        &b24_codegen::Options {
            client: Some(syn::parse_quote!(crate::Client)),
            track_files: Vec::new(),
        },
    )
    .unwrap();
    insta::assert_snapshot!(b24_codegen::pretty(&tokens).unwrap());
}

/// The `events` module of one event: its data types, the `Event` enum and the parser.
#[test]
fn im_connector_message_add_event_code() {
    let root = workspace_root();
    let rel = Path::new("spec/events/OnImConnectorMessageAdd.toml");
    let src = std::fs::read_to_string(root.join(rel)).unwrap();
    let b24_spec::SpecFile::Event(event) = b24_spec::parse_file(rel, &src).unwrap() else {
        panic!("an event spec");
    };
    let tokens =
        b24_codegen::generate_family(&[], &[event], &b24_codegen::Options::default()).unwrap();
    insta::assert_snapshot!(b24_codegen::pretty(&tokens).unwrap());
}
