//! Rust names the generator derives from wire names that would clash with its own items.

use std::path::Path;

fn generate(src: &str) -> Result<String, String> {
    let spec =
        b24_spec::parse_spec(Path::new("spec/test/names.toml"), src).map_err(|e| e.to_string())?;
    let tokens = b24_codegen::generate(&[spec], &b24_codegen::Options::default())
        .map_err(|e| e.to_string())?;
    b24_codegen::pretty(&tokens).map_err(|e| e.to_string())
}

const EXTRA_KEY: &str = r#"
method = "test.names.get"
scope = "test"
summary = "A result with a key named like the catch-all map."
docs = "https://example.invalid/"
kind = "read"

[result]
type = "Item"
description = "The item."

[objects.Item]
description = "An item."

[objects.Item.fields]
extra = { type = "boolean", description = "A documented key called `extra`." }
"#;

#[test]
fn a_key_named_extra_gets_extra_underscore_and_keeps_its_wire_name() {
    let code = generate(EXTRA_KEY).expect("a key named `extra` is a valid spec");
    assert!(code.contains("pub extra_: bool"), "{code}");
    assert!(code.contains("#[serde(rename = \"extra\")]"), "{code}");
    // The catch-all map is still there, under its own name.
    assert!(code.contains("pub extra: "), "{code}");
}

/// The clash is refused by `b24_spec` at the key, before anything is generated.
#[test]
fn keys_that_still_collide_are_refused() {
    let src = EXTRA_KEY.replace(
        "extra = {",
        "extra_ = { type = \"string\", description = \"Clash.\" }\nextra = {",
    );
    let err = generate(&src).expect_err("`extra_` and `extra` both give `extra_`");
    assert!(err.contains("already taken"), "{err}");
    assert!(err.contains("objects.Item.fields.extra"), "{err}");
}

/// Specs handed to the generator directly, not loaded as one family, get the family's check:
/// two files giving one module are a spec error, not a rustc error in generated code.
#[test]
fn specs_giving_one_module_are_refused_as_in_a_family() {
    let spec =
        b24_spec::parse_spec(Path::new("spec/test/names.toml"), EXTRA_KEY).expect("a valid spec");
    let renamed = b24_spec::parse_spec(
        Path::new("spec/test/other.toml"),
        &EXTRA_KEY.replace("test.names.get", "test.namesGet"),
    )
    .expect("a valid spec");
    let options = b24_codegen::Options::default();
    for pair in [[spec.clone(), spec.clone()], [spec.clone(), renamed]] {
        let err = b24_codegen::generate(&pair, &options)
            .expect_err("two methods in one module")
            .to_string();
        assert!(err.contains("already"), "{err}");
    }
    assert!(b24_codegen::generate(&[spec], &options).is_ok());

    let src = r#"
event = "OnTestHappened"
scope = "test"
summary = "s"
docs = "https://example.invalid/"

[data]
type = "object"
description = "d"
"#;
    let event = |name: &str| match b24_spec::parse_file(
        Path::new("spec/events/x.toml"),
        &src.replace("OnTestHappened", name),
    ) {
        Ok(b24_spec::SpecFile::Event(e)) => e,
        other => panic!("an event spec: {other:?}"),
    };
    let err = b24_codegen::generate_family(
        &[],
        &[event("OnTestHappened"), event("OnTESTHappened")],
        &options,
    )
    .expect_err("one event, spelled in two cases")
    .to_string();
    assert!(err.contains("already described"), "{err}");
    assert!(b24_codegen::generate_family(
        &[],
        &[event("OnTestHappened"), event("OnTestDone")],
        &options
    )
    .is_ok());
}
