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

#[test]
fn keys_that_still_collide_are_refused() {
    let src = EXTRA_KEY.replace(
        "extra = {",
        "extra_ = { type = \"string\", description = \"Clash.\" }\nextra = {",
    );
    let err = generate(&src).expect_err("`extra_` and `extra` both give `extra_`");
    assert!(err.contains("already taken"), "{err}");
}
