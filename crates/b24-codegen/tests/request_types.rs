//! Only the types a request contains are sent, so only they get the wire form (`ToParam`)
//! and, for objects, a builder; result-only types get neither.

use std::path::Path;

const SPEC: &str = r#"
method = "test.things.set"
scope = "test"
summary = "A request object that nests an object and an enum; a result that has its own."
docs = "https://example.invalid/"
kind = "write"

[[params]]
name = "FIELDS"
type = "Fields"
required = true
description = "What to set."

[result]
type = "Outcome"
description = "What happened."

[objects.Fields]
description = "Sent."

[objects.Fields.fields]
inner = { type = "Inner", description = "Nested in the request." }
colour = { type = "Colour", description = "An enum in the request." }

[objects.Inner]
description = "Sent, inside Fields."

[objects.Inner.fields]
id = { type = "integer", description = "Id." }

[objects.Outcome]
description = "Received only."

[objects.Outcome.fields]
state = { type = "State", description = "An enum only in the result." }
colour = { type = "Colour", description = "The enum the request has too." }

[enums.Colour]
description = "In the request and the result."
values = [{ value = "red" }, { value = "blue" }]

[enums.State]
description = "Only in the result."
values = [{ value = "done" }, { value = "failed" }]
"#;

fn generated() -> String {
    let spec = b24_spec::parse_spec(Path::new("spec/test/things.set.toml"), SPEC)
        .expect("the spec is valid");
    let tokens = b24_codegen::generate(&[spec], &b24_codegen::Options::default())
        .expect("the spec generates");
    b24_codegen::pretty(&tokens).expect("the code parses")
}

fn has_to_param(code: &str, ty: &str) -> bool {
    code.contains(&format!("impl ::b24_core::ToParam for {ty} {{"))
}

#[test]
fn types_a_request_contains_get_the_wire_form() {
    let code = generated();
    for ty in ["Fields", "Inner", "Colour"] {
        assert!(has_to_param(&code, ty), "{ty} is sent:\n{code}");
    }
}

#[test]
fn result_only_types_get_no_wire_form_nor_builder() {
    let code = generated();
    for ty in ["Outcome", "State"] {
        assert!(!has_to_param(&code, ty), "{ty} is never sent:\n{code}");
    }
    assert!(
        code.contains("impl Fields {"),
        "a request object has a builder"
    );
    assert!(!code.contains("impl Outcome {"), "a result object has none");
}
