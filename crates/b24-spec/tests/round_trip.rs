//! The writer and the reader agree: every spec file of the workspace, read, written with
//! `b24_spec::render` and read again, gives the same model (comments and where things are
//! written aside).

use std::path::Path;

use b24_spec::render::{file_to_toml, no_comments};
use b24_spec::{parse_file, SpecFile};

mod common;
use common::unlocated;

#[test]
fn every_workspace_spec_reads_back_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = b24_spec::spec_files(&root.join("spec")).unwrap_or_else(|e| panic!("{e}"));
    assert!(files.len() >= 60, "{}", files.len());
    let (mut methods, mut events) = (0, 0);
    for path in &files {
        let display = path.strip_prefix(&root).unwrap_or(path);
        let first = b24_spec::load_any_file(path, display).unwrap_or_else(|e| panic!("{e}"));
        let text = file_to_toml(&first, &no_comments);
        let again = parse_file(display, &text).unwrap_or_else(|e| {
            panic!(
                "{}: the written file does not read: {e}\n{text}",
                display.display()
            )
        });
        match &first {
            SpecFile::Method(_) => methods += 1,
            SpecFile::Event(_) => events += 1,
        }
        assert_eq!(
            unlocated(again),
            unlocated(first),
            "{}: written as\n{text}",
            display.display()
        );
    }
    assert!(
        methods > 0 && events > 0,
        "{methods} methods, {events} events"
    );
}

#[test]
fn comments_go_above_their_items() {
    let src = r#"
method = "imopenlines.test.get"
scope = "imopenlines"
summary = "A test."
docs = "https://example.invalid"
kind = "read"

[[params]]
name = "ID"
type = "integer"
description = "d"

[result]
type = "Thing"
description = "d"

[objects.Thing]
description = "d"

[objects.Thing.fields]
id = { type = "integer", description = "d" }
role = { type = "enum", values = ["a", { value = "b", description = "B" }], description = "r" }

[[errors]]
code = "MINE"
status = 400
description = "d"
"#;
    let file = parse_file(Path::new("t.toml"), src).unwrap_or_else(|e| panic!("{e}"));
    let comments = |item: b24_spec::render::Item<'_>| -> Vec<String> {
        use b24_spec::render::Item;
        match item {
            Item::File => vec!["head".into(), String::new()],
            Item::Method => vec!["whole".into()],
            Item::Param("ID") => vec!["param".into()],
            Item::Field {
                object: "Thing",
                field: "role",
            } => vec!["field".into()],
            Item::Error("MINE") => vec!["error".into()],
            _ => Vec::new(),
        }
    };
    let text = file_to_toml(&file, &comments);
    assert!(text.starts_with("# head\n#\n\nmethod = "), "{text}");
    assert!(text.contains("# whole\nkind = \"read\""), "{text}");
    assert!(text.contains("\n# param\n[[params]]\n"), "{text}");
    assert!(
        text.contains("\n# field\nrole = { type = \"Role\""),
        "{text}"
    );
    assert!(text.contains("\n# error\n[[errors]]\n"), "{text}");
    // The inline enum is written as the named enum the model holds.
    assert!(
        text.contains("[enums.Role]\ndescription = \"r\"\nvalues = [\"a\", { value = \"b\", description = \"B\" }]"),
        "{text}"
    );
    let again = parse_file(Path::new("t.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(unlocated(again), unlocated(file));
}

/// Every key of the format, in one method file and one event file (the workspace's files do
/// not use them all).
#[test]
fn every_key_reads_back_as_written() {
    let method = r##"
method = "imopenlines.test.get"
scope = "imopenlines"
summary = "A test."
description = "Long text.\nTwo lines, a \"quote\" and a tab\t."
docs = "https://example.invalid"
access = "anyone"
kind = "write"
auth = "application"
rust_name = "my_test"

[[params]]
name = "A"
type = "integer"
description = "a"
example = 1777
note = "a param note"

[[params]]
name = "B"
type = "enum | null"
values = ["x", 2]
enum_name = "BKind"
description = "b"
example = { deep = [1.5, "two", { three = true }], "odd key" = 2.0 }

[[params]]
name = "C"
type = "string[]"
required = true
description = "c"

[[one_of]]
name = "target"
params = ["A", "B"]
description = "one of them"

[result]
type = "map<Thing[]> | null"
description = "d"
paged = true
note = "a result note"

[objects.Thing]
description = "d"
untyped_keys = ["legacy", "other"]

[objects.Thing.fields]
id = { type = "integer", description = "d", aliases = ["ID2", "Ident"], note = "a note" }
"odd key" = { type = "Level", optional = true, description = "d" }
when = { type = "datetime | null", description = "d" }

[enums.Level]
description = "levels"
values = [{ value = "hi", description = "high" }, "lo"]

[[errors]]
code = "WRONG_AUTH_TYPE"
status = 401
description = "webhooks may not"

[[errors]]
code = "MINE"
status = 403
message = "Message"
description = "d"
note = "n"

[[examples]]
name = "ok"
description = "d"
request = { A = 1, list = [1, 2] }
status = 200
body = '{"result": null}'

[[examples]]
name = "err"
description = "d"
status = 403
body = """
{"error": "MINE",
 "error_description": "it's '''"}"""
"##;
    let event = r##"
event = "OnSomething"
scope = "imopenlines"
summary = "s"
description = "d"
docs = "https://example.invalid"
access = "anyone"

[data]
type = "D"
description = "d"

[objects.D]
description = "d"

[objects.D.fields]
kind = { type = "enum", values = ["a"], description = "k" }

[[examples]]
name = "a"
description = "d"
body = '''
{"event": "ONSOMETHING", "data": {"kind": "a"}}
'''
"##;
    for src in [method, event] {
        let file = parse_file(Path::new("t.toml"), src).unwrap_or_else(|e| panic!("{e}"));
        let text = file_to_toml(&file, &no_comments);
        let again = parse_file(Path::new("t.toml"), &text)
            .unwrap_or_else(|e| panic!("the written file does not read: {e}\n{text}"));
        assert_eq!(unlocated(again), unlocated(file), "written as\n{text}");
    }
}
