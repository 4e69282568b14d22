//! Hostile nesting in a spec file is a spec error naming the file, line and key, never a
//! stack overflow. Each case runs on a thread with a small stack, so unbounded recursion
//! would overflow there (aborting the test binary) instead of passing on a large stack.

use std::path::Path;

use b24_spec::{parse_file, parse_spec, SpecError, TypeExpr, MAX_TYPE_DEPTH, MAX_VALUE_DEPTH};

/// Half the 2 MiB of a test thread. The TOML reader's own nesting limit (80 levels of inline
/// arrays or tables) needs about 0.5 MiB of stack in a debug build; the old unbounded type
/// parser needed megabytes for the types below.
const SMALL_STACK: usize = 1024 * 1024;

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .map(std::thread::JoinHandle::join)
    {
        Ok(Ok(v)) => v,
        Ok(Err(_)) => panic!("the parser panicked"),
        Err(e) => panic!("cannot spawn a thread: {e}"),
    }
}

fn parse(src: String) -> Result<b24_spec::Spec, SpecError> {
    on_small_stack(move || parse_spec(Path::new("spec/x/deep.toml"), &src))
}

/// A minimal method spec whose `result.type` (line 8) is `ty`, followed by `tail`.
fn spec(ty: &str, tail: &str) -> String {
    format!(
        "method = \"imopenlines.deep.get\"\nscope = \"imopenlines\"\nsummary = \"s\"\n\
         docs = \"https://example.invalid\"\nkind = \"read\"\n\n[result]\ntype = \"{ty}\"\n\
         description = \"d\"\n{tail}"
    )
}

fn nested(depth: usize, open: &str, inner: &str, close: &str) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

#[test]
fn thousands_of_array_layers_are_a_spec_error() {
    let ty = format!("integer{}", "[]".repeat(100_000));
    let e = parse(spec(&ty, "")).unwrap_err();
    assert_eq!(e.key, "result.type");
    assert_eq!((e.location.line, e.location.column), (8, 8));
    assert_eq!(e.location.file, Path::new("spec/x/deep.toml"));
    assert!(e.message.contains("at most 8"), "{e}");
    // The message quotes the type, shortened.
    assert!(e.message.len() < 400, "{}", e.message.len());
}

#[test]
fn thousands_of_map_layers_are_a_spec_error() {
    let ty = nested(100_000, "map<", "string", ">");
    let e = parse(spec(&ty, "")).unwrap_err();
    assert_eq!(e.key, "result.type");
    assert!(e.message.contains("at most 8"), "{e}");
    let ty = format!("{}[] | null", nested(50_000, "map<", "string[]", ">"));
    let e = parse(spec(&ty, "")).unwrap_err();
    assert_eq!(e.key, "result.type");
}

#[test]
fn the_type_depth_limit_is_exact() {
    let ok = format!("integer{}", "[]".repeat(MAX_TYPE_DEPTH));
    assert_eq!(TypeExpr::parse(&ok).map(|t| t.to_string()), Ok(ok.clone()));
    let mixed = format!(
        "map<{}>[] | null",
        nested(MAX_TYPE_DEPTH - 2, "map<", "Thing", ">")
    );
    assert_eq!(
        TypeExpr::parse(&mixed).map(|t| t.to_string()),
        Ok(mixed.clone())
    );
    let too_deep = format!("{ok}[]");
    assert!(TypeExpr::parse(&too_deep)
        .unwrap_err()
        .contains("nests 9 levels"));
    assert!(TypeExpr::parse(&format!("map<{mixed}>")).is_err());
    assert!(TypeExpr::parse(&format!("map<{}>", mixed.trim_end_matches(" | null"))).is_err());
}

#[test]
fn deep_parameter_field_and_event_types_are_a_spec_error() {
    let deep = format!("Role{}", "[]".repeat(20_000));
    let field = format!(
        "[objects.Thing]\ndescription = \"t\"\n[objects.Thing.fields]\nrole = {{ type = \"{deep}\", description = \"r\" }}\n"
    );
    let e = parse(spec("Thing", &field)).unwrap_err();
    assert_eq!(e.key, "objects.Thing.fields.role.type");
    assert_eq!(e.location.line, 13);
    assert!(e.message.contains("at most 8"), "{e}");
    let param =
        format!("\n[[params]]\nname = \"A\"\ntype = \"{deep} | null\"\ndescription = \"a\"\n");
    let e = parse(spec("boolean", &param)).unwrap_err();
    assert_eq!(e.key, "params[0].type");
    assert_eq!(e.location.line, 13);
    let event = format!(
        "event = \"OnDeep\"\nscope = \"imopenlines\"\nsummary = \"s\"\ndocs = \"https://example.invalid\"\n\n[data]\ntype = \"map<{}>\"\ndescription = \"d\"\n",
        deep.replace("Role", "any")
    );
    let e = on_small_stack(move || parse_file(Path::new("spec/events/OnDeep.toml"), &event))
        .unwrap_err();
    assert_eq!((e.key.as_str(), e.location.line), ("data.type", 7));
    // An inline enum may be `enum` or `enum[]`, nothing deeper.
    let inline = format!(
        "[objects.Thing]\ndescription = \"t\"\n[objects.Thing.fields]\nrole = {{ type = \"enum{}\", values = [\"a\"], description = \"r\" }}\n",
        "[]".repeat(20_000)
    );
    let e = parse(spec("Thing", &inline)).unwrap_err();
    assert_eq!(e.key, "objects.Thing.fields.role.type");
    assert!(e.message.len() < 400, "{}", e.message.len());
}

#[test]
fn deeply_nested_values_are_a_spec_error() {
    // Within what the TOML reader takes, beyond what a spec value may nest.
    let deep = nested(MAX_VALUE_DEPTH + 1, "[", "1", "]");
    let src = spec(
        "boolean",
        &format!(
            "\n[[params]]\nname = \"A\"\ntype = \"any\"\ndescription = \"a\"\nexample = {deep}\n"
        ),
    );
    let e = parse(src).unwrap_err();
    assert_eq!(e.key, "params[0].example");
    assert_eq!(e.location.line, 15);
    assert!(e.message.contains("at most 32"), "{e}");
    let ok = nested(MAX_VALUE_DEPTH, "[", "1", "]");
    let src = spec(
        "boolean",
        &format!(
            "\n[[params]]\nname = \"A\"\ntype = \"any\"\ndescription = \"a\"\nexample = {ok}\n"
        ),
    );
    parse(src).unwrap();
}

#[test]
fn values_nested_through_headers_dotted_keys_and_inline_tables_are_a_spec_error() {
    // Each of the three ways to nest stays within the TOML reader's own limit; together they
    // go deeper than any one of them.
    let header: Vec<String> = (0..60).map(|i| format!("h{i}")).collect();
    let dotted: Vec<String> = (0..60).map(|i| format!("d{i}")).collect();
    let inline = nested(60, "{ i = ", "1", " }");
    let tail = format!(
        "\n[[examples]]\nname = \"n\"\ndescription = \"d\"\nstatus = 200\nbody = '{{\"result\": true}}'\n\
         [examples.request.{}]\n{} = {inline}\n",
        header.join("."),
        dotted.join(".")
    );
    let e = parse(spec("boolean", &tail)).unwrap_err();
    assert_eq!(e.key, "examples[0].request");
    assert!(e.message.contains("at most 32"), "{e}");
}

#[test]
fn nesting_beyond_the_toml_reader_is_invalid_toml_with_a_line() {
    for value in [
        nested(10_000, "[", "1", "]"),
        nested(10_000, "{ a = ", "1", " }"),
        format!("{{ {} = 1 }}", vec!["k"; 10_000].join(".")),
    ] {
        let src = spec(
            "boolean",
            &format!("\n[[params]]\nname = \"A\"\ntype = \"any\"\ndescription = \"a\"\nexample = {value}\n"),
        );
        let e = parse(src).unwrap_err();
        assert!(e.message.starts_with("invalid TOML"), "{e}");
        assert_eq!(e.location.line, 15, "{e}");
    }
    let src = format!("[{}]\nx = 1\n", vec!["t"; 10_000].join("."));
    let e = on_small_stack(move || parse_file(Path::new("spec/x/deep.toml"), &src)).unwrap_err();
    assert!(e.message.starts_with("invalid TOML"), "{e}");
    assert_eq!(e.location.line, 1);
}

#[test]
fn an_object_that_contains_itself_is_a_spec_error() {
    let objects = "[objects.Thing]\ndescription = \"t\"\n[objects.Thing.fields]\n\
                   id = { type = \"integer\", description = \"i\" }\n\
                   other = { type = \"Other | null\", description = \"o\" }\n\
                   [objects.Other]\ndescription = \"o\"\n[objects.Other.fields]\n\
                   back = { type = \"Thing\", optional = true, description = \"b\" }\n";
    let e = parse(spec("Thing", objects)).unwrap_err();
    assert_eq!(e.key, "objects.Thing.fields.other.type");
    assert_eq!(e.location.line, 14);
    assert!(
        e.message.contains("`Thing.other` → `Other.back` → `Thing`"),
        "{e}"
    );
    // Through an array or a map the generated types are finite.
    parse(spec("Thing", &objects.replace("\"Thing\"", "\"Thing[]\""))).unwrap();
    parse(spec(
        "Thing",
        &objects.replace("\"Other | null\"", "\"map<Other>\""),
    ))
    .unwrap();
    let direct = "[objects.Thing]\ndescription = \"t\"\n[objects.Thing.fields]\n\
                  me = { type = \"Thing | null\", description = \"m\" }\n";
    let e = parse(spec("Thing", direct)).unwrap_err();
    assert_eq!(e.key, "objects.Thing.fields.me.type");
}

#[test]
fn a_deeply_nested_example_body_is_a_spec_error() {
    let body = nested(10_000, "[", "1", "]");
    let tail = format!(
        "\n[[examples]]\nname = \"n\"\ndescription = \"d\"\nstatus = 200\nbody = '{{\"result\": {body}}}'\n"
    );
    let e = parse(spec("boolean", &tail)).unwrap_err();
    assert_eq!((e.key.as_str(), e.location.line), ("examples[0].body", 15));
    assert!(e.message.contains("not JSON"), "{e}");
}
