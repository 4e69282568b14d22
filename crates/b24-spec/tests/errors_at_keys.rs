//! Every mistake is a spec error at the key it is about (file, line and column of that key or
//! its value), including the names the generated code would clash on.

use std::path::Path;

use b24_spec::{parse_file, parse_spec, Auth, Family, Spec, SpecError, SpecFile};

const FILE: &str = "spec/imopenlines/t.toml";

fn parse(src: &str) -> Result<Spec, SpecError> {
    parse_spec(Path::new(FILE), src)
}

fn err(src: &str) -> SpecError {
    match parse(src) {
        Ok(_) => panic!("a spec error expected:\n{src}"),
        Err(e) => e,
    }
}

/// A method spec whose result is `result` (line 8), followed by `tail`.
fn method(result: &str, tail: &str) -> String {
    format!(
        "method = \"imopenlines.test.get\"\nscope = \"imopenlines\"\nsummary = \"s\"\n\
         docs = \"https://example.invalid\"\nkind = \"read\"\n\n[result]\ntype = \"{result}\"\n\
         description = \"r\"\n{tail}"
    )
}

/// 1-based line and column of the `nth` (0-based) occurrence of `needle` in `src`.
fn position(src: &str, needle: &str, nth: usize) -> (usize, usize) {
    let (at, _) = src
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` #{nth} is not in\n{src}"));
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// The error has `key`, says `says`, and is located at the `nth` `needle`.
#[track_caller]
fn assert_at(src: &str, e: &SpecError, key: &str, needle: &str, nth: usize, says: &str) {
    assert_eq!(e.key, key, "{e}");
    assert!(e.message.contains(says), "{e}");
    assert_eq!(e.location.file, Path::new(FILE));
    assert_eq!(
        (e.location.line, e.location.column),
        position(src, needle, nth),
        "{e}"
    );
}

const THING: &str = "\n[objects.Thing]\ndescription = \"t\"\n[objects.Thing.fields]\n";

fn param(name: &str, ty: &str, required: bool) -> String {
    format!(
        "\n[[params]]\nname = \"{name}\"\ntype = \"{ty}\"\nrequired = {required}\ndescription = \"p\"\n"
    )
}

fn group(name: &str, members: &[&str]) -> String {
    let members: Vec<String> = members.iter().map(|m| format!("\"{m}\"")).collect();
    format!(
        "\n[[one_of]]\nname = \"{name}\"\nparams = [{}]\ndescription = \"g\"\n",
        members.join(", ")
    )
}

#[test]
fn an_undefined_result_or_data_type_is_at_its_value() {
    let src = method("Missing", "");
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "result.type",
        "\"Missing\"",
        0,
        "`Missing` is not defined",
    );
    let event = "event = \"OnThing\"\nscope = \"imopenlines\"\nsummary = \"s\"\n\
                 docs = \"https://example.invalid\"\n\n[data]\ntype = \"Missing[]\"\ndescription = \"d\"\n";
    let e = parse_file(Path::new(FILE), event).unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.location.line, e.location.column),
        ("data.type", 7, 8)
    );
}

#[test]
fn an_undefined_field_or_parameter_type_is_at_its_value() {
    let src = method(
        "Thing",
        &format!("{THING}id = {{ type = \"Other\", description = \"i\" }}\n"),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "objects.Thing.fields.id.type",
        "\"Other\"",
        0,
        "`Other` is not defined",
    );
    let src = method("boolean", &param("A", "Other[]", false));
    let e = err(&src);
    assert_at(&src, &e, "params[0].type", "\"Other[]\"", 0, "not defined");
}

#[test]
fn error_codes_giving_one_variant_are_at_the_second_code() {
    let errors = "\n[[errors]]\ncode = \"ACCESS_ERROR\"\nstatus = 400\ndescription = \"a\"\n\
                  \n[[errors]]\ncode = \"ACCESS-ERROR\"\nstatus = 400\ndescription = \"b\"\n";
    let src = method("boolean", errors);
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "errors[1].code",
        "\"ACCESS-ERROR\"",
        0,
        "gives the variant `AccessError`, which is already taken",
    );
    let src = method("boolean", &errors.replace("ACCESS-ERROR", "UNKNOWN"));
    let e = err(&src);
    assert_at(&src, &e, "errors[1].code", "\"UNKNOWN\"", 0, "`Unknown`");
    // A malformed code is at the code too, not at its table.
    let src = method("boolean", &errors.replace("ACCESS-ERROR", "A.B"));
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "errors[1].code",
        "\"A.B\"",
        0,
        "is not an error code",
    );
}

#[test]
fn enum_values_giving_one_variant_are_at_the_second_value() {
    let src = method(
        "Role",
        "\n[enums.Role]\ndescription = \"r\"\nvalues = [\"a-b\", \"a_b\"]\n",
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "enums.Role.values[1]",
        "\"a_b\"",
        0,
        "`a_b` gives the variant `AB`, which is already taken",
    );
    let src = method(
        "Thing",
        &format!(
            "{THING}role = {{ type = \"enum\", values = [\"x\", {{ value = \"unknown\" }}], description = \"r\" }}\n"
        ),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "objects.Thing.fields.role.values[1]",
        "{ value",
        0,
        "`Unknown`",
    );
}

#[test]
fn a_type_named_like_a_one_of_group_type_is_at_the_type() {
    let tail = format!(
        "{}{}{}\n[objects.Target]\ndescription = \"t\"\n[objects.Target.fields]\nid = {{ type = \"integer\", description = \"i\" }}\n",
        param("CHAT_ID", "integer", false),
        param("USER_CODE", "Target", false),
        group("target", &["CHAT_ID", "USER_CODE"]),
    );
    let src = method("boolean", &tail);
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "objects.Target",
        "Target]",
        0,
        "is the type of the one-of group `target` (one_of[0].name)",
    );
}

#[test]
fn a_one_of_group_giving_a_reserved_or_taken_type_is_at_its_name() {
    let params = format!(
        "{}{}{}{}",
        param("A", "integer", false),
        param("B", "integer", false),
        param("C", "integer", false),
        param("D", "integer", false)
    );
    let src = method(
        "boolean",
        &format!("{params}{}", group("request", &["A", "B"])),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "one_of[0].name",
        "\"request\"",
        0,
        "gives the type `Request`, which is reserved",
    );
    let src = method(
        "boolean",
        &format!(
            "{params}{}{}",
            group("a_b", &["A", "B"]),
            group("a__b", &["C", "D"])
        ),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "one_of[1].name",
        "\"a__b\"",
        0,
        "another one-of group already has",
    );
}

#[test]
fn reserved_type_names_are_refused_at_their_key() {
    for name in ["Request", "ErrorCode", "EXAMPLES", "METHOD", "Self"] {
        let src = method(
            name,
            &format!(
                "\n[objects.{name}]\ndescription = \"x\"\n[objects.{name}.fields]\nid = {{ type = \"integer\", description = \"i\" }}\n"
            ),
        );
        let e = err(&src);
        assert_at(
            &src,
            &e,
            &format!("objects.{name}"),
            &format!("{name}]"),
            0,
            "is reserved for the generated types",
        );
    }
    // An inline enum is named after its key: at that key's type.
    let src = method(
        "Thing",
        &format!(
            "{THING}response = {{ type = \"enum\", values = [\"a\"], description = \"r\" }}\n"
        ),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "objects.Thing.fields.response.type",
        "\"enum\"",
        0,
        "`Response` is reserved",
    );
    let event = "event = \"OnThing\"\nscope = \"imopenlines\"\nsummary = \"s\"\n\
                 docs = \"https://example.invalid\"\n\n[data]\ntype = \"EVENT\"\ndescription = \"d\"\n\
                 \n[enums.EVENT]\ndescription = \"e\"\nvalues = [\"a\"]\n";
    let e = parse_file(Path::new(FILE), event).unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.location.line),
        ("enums.EVENT", 10),
        "{e}"
    );
    assert!(e.message.contains("reserved"), "{e}");
}

#[test]
fn the_events_namespace_is_reserved() {
    let src = method("boolean", "").replace("imopenlines.test.get", "events.test.get");
    let e = err(&src);
    assert_at(&src, &e, "method", "\"events.test.get\"", 0, "reserved");
}

#[test]
fn keys_giving_one_rust_field_are_at_the_second_key() {
    let src = method(
        "Thing",
        &format!(
            "{THING}type = {{ type = \"integer\", description = \"a\" }}\ntype_ = {{ type = \"integer\", description = \"b\" }}\n"
        ),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "objects.Thing.fields.type_",
        "type_ =",
        0,
        "gives the Rust field `type_`, which is already taken",
    );
    // Aliases are keys too: at the alias.
    let src = method(
        "Thing",
        &format!(
            "{THING}id = {{ type = \"integer\", description = \"a\" }}\nother = {{ type = \"integer\", aliases = [\"x\", \"ID\"], description = \"b\" }}\n"
        ),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "objects.Thing.fields.other.aliases[1]",
        "\"ID\"",
        0,
        "key `ID` is described twice",
    );
}

#[test]
fn parameters_giving_one_request_field_or_setter_are_at_their_name() {
    let src = method(
        "boolean",
        &format!(
            "{}{}",
            param("chatId", "integer", false),
            param("CHAT_ID", "integer", false)
        ),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "params[1].name",
        "\"CHAT_ID\"",
        0,
        "gives the request field `chat_id`",
    );
    let src = method("boolean", &param("NEW", "integer", false));
    let e = err(&src);
    assert_at(&src, &e, "params[0].name", "\"NEW\"", 0, "`Request::new`");
    // A required parameter is an argument of `Request::new`, not a method.
    parse(&method("boolean", &param("NEW", "integer", true))).unwrap();
    // The members of a group that is the whole request are constructors.
    let src = method(
        "boolean",
        &format!(
            "{}{}{}",
            param("NEW", "integer", false),
            param("ID", "integer", false),
            group("target", &["NEW", "ID"])
        ),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "one_of[0].params[0]",
        "\"NEW\"",
        1,
        "gives the constructor `Request::new`",
    );
}

#[test]
fn one_of_mistakes_are_at_the_member() {
    let params = format!(
        "{}{}{}",
        param("CHAT_ID", "integer", false),
        param("CHAT-ID", "integer", false),
        param("USER", "integer", true)
    );
    let src = method(
        "boolean",
        &format!("{params}{}", group("target", &["CHAT_ID", "CHAT-ID"])),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "one_of[0].params[1]",
        "\"CHAT-ID\"",
        1,
        "give the same variant `ChatId`",
    );
    let src = method(
        "boolean",
        &format!("{params}{}", group("target", &["CHAT_ID", "C"])),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "one_of[0].params[1]",
        "\"C\"",
        0,
        "`C` is not a parameter",
    );
    let src = method(
        "boolean",
        &format!("{params}{}", group("target", &["CHAT_ID", "USER"])),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "one_of[0].params[1]",
        "\"USER\"",
        1,
        "is `required`",
    );
    let src = method(
        "boolean",
        &format!("{params}{}", group("target", &["CHAT_ID"])),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "one_of[0].params",
        "[\"CHAT_ID\"]",
        0,
        "at least two",
    );
}

#[test]
fn duplicate_names_are_at_the_second_name() {
    let src = method(
        "boolean",
        &format!(
            "{}{}",
            param("ID", "integer", false),
            param("id", "integer", false)
        ),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "params[1].name",
        "\"id\"",
        0,
        "duplicate parameter",
    );
    let example = "\n[[examples]]\nname = \"ok\"\ndescription = \"d\"\nstatus = 200\nbody = '{\"result\": true}'\n";
    let src = method("boolean", &format!("{example}{example}"));
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "examples[1].name",
        "\"ok\"",
        1,
        "duplicate example name",
    );
}

#[test]
fn keys_the_format_lacks_or_needs_are_named() {
    let src = method("boolean", "paged = true\npages = 1\n");
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "result.pages",
        "pages",
        0,
        "unknown key `pages`; expected one of: type, description, paged",
    );
    let src = method("boolean", &param("A", "integer", false)).replace("description = \"p\"\n", "");
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "params[0].description",
        "[[params]]",
        0,
        "missing required key `description`",
    );
    // A table is a table: an array of its values is not read as one.
    let src = method("boolean", "").replace(
        "kind = \"read\"",
        "kind = \"read\"\nerrors = [[\"A\", 400, \"m\", \"d\", \"n\"]]",
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "errors[0]",
        "[\"A\"",
        0,
        "expected a table, found array",
    );
    let src = method("boolean", "").replace(
        "[result]\ntype = \"boolean\"\ndescription = \"r\"\n",
        "result = 1979-05-27\n",
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "result",
        "1979",
        0,
        "expected a table, found datetime",
    );
    let src = method("boolean", "").replace("kind = \"read\"", "kind = 1");
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "kind",
        "1\n",
        0,
        "expected a string, found integer",
    );
}

/// `[[errors]]` with the code a webhook gets from a method for applications.
const WRONG_AUTH: &str = "\n[[errors]]\ncode = \"WRONG_AUTH_TYPE\"\nstatus = 403\n\
                          message = \"m\"\ndescription = \"d\"\n";

#[test]
fn auth_is_any_by_default_or_application() {
    let with = |line: &str, tail: &str| {
        method("boolean", tail).replace("kind = \"read\"", &format!("kind = \"read\"\n{line}"))
    };
    assert_eq!(parse(&method("boolean", "")).unwrap().auth, Auth::Any);
    assert_eq!(parse(&with("auth = \"any\"", "")).unwrap().auth, Auth::Any);
    let spec = parse(&with("auth = \"application\"", WRONG_AUTH)).unwrap();
    assert_eq!(spec.auth, Auth::Application);
    assert_eq!(spec.auth.as_str(), "application");
}

#[test]
fn an_unknown_auth_or_one_without_its_error_is_at_its_value() {
    let with = |line: &str, tail: &str| {
        method("boolean", tail).replace("kind = \"read\"", &format!("kind = \"read\"\n{line}"))
    };
    let src = with("auth = \"webhook\"", WRONG_AUTH);
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "auth",
        "\"webhook\"",
        0,
        "unknown variant `webhook`, expected `any` or `application`",
    );
    let src = with("auth = true", WRONG_AUTH);
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "auth",
        "true",
        0,
        "expected a string, found boolean",
    );
    // A method for applications says what a webhook gets.
    let src = with("auth = \"application\"", "");
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "auth",
        "\"application\"",
        0,
        "needs an `[[errors]]` entry with code `WRONG_AUTH_TYPE`",
    );
    // Event files have no `auth`.
    let event = "event = \"OnTest\"\nscope = \"imopenlines\"\nsummary = \"s\"\n\
                 docs = \"https://example.invalid\"\nauth = \"application\"\n\
                 [data]\ntype = \"object\"\ndescription = \"d\"\n";
    let e = parse_file(Path::new(FILE), event).map(drop).unwrap_err();
    assert!(e.message.contains("unknown key `auth`"), "{e}");
}

#[test]
fn values_written_in_the_file_become_json() {
    let src = method(
        "boolean",
        &param("A", "any", false).replace(
            "description = \"p\"\n",
            "description = \"p\"\nexample = { at = 1979-05-27T07:32:00Z, big = 18446744073709551615, list = [1, 2.5, true] }\n",
        ),
    );
    let spec = parse(&src).unwrap();
    assert_eq!(
        spec.params[0].example,
        Some(serde_json::json!({
            "at": "1979-05-27T07:32:00Z",
            "big": "18446744073709551615",
            "list": [1, 2.5, true]
        }))
    );
}

#[test]
fn two_methods_giving_one_module_are_refused() {
    let a = parse(&method("boolean", "")).unwrap();
    let b = parse(
        &method("boolean", "")
            .replace("imopenlines.test.get", "imopenlines.testGet")
            .replace("kind = \"read\"", "kind = \"read\"\nrust_name = \"other\""),
    )
    .unwrap();
    let mut family = Family::default();
    family.add(SpecFile::Method(a)).unwrap();
    let e = family.add(SpecFile::Method(b)).unwrap_err();
    assert_eq!(e.key, "method");
    assert!(
        e.message
            .contains("gives the module `imopenlines::test_get`"),
        "{e}"
    );
}

#[test]
fn an_object_containing_itself_is_at_the_field_type() {
    let src = method(
        "Thing",
        &format!("{THING}me = {{ type = \"Thing | null\", description = \"m\" }}\n"),
    );
    let e = err(&src);
    assert_at(
        &src,
        &e,
        "objects.Thing.fields.me.type",
        "\"Thing | null\"",
        0,
        "contains itself",
    );
}

/// A parameter and `[result]` may say where they depart from the docs (`note`), like fields
/// and errors; a note that is not a string is an error at its value.
#[test]
fn params_and_the_result_take_a_note() {
    let src = method(
        "boolean",
        "note = \"Docs: object.\"\n\n[[params]]\nname = \"ID\"\ntype = \"integer\"\n\
         description = \"d\"\nnote = \"Docs: required.\"\n",
    );
    let spec = parse(&src).unwrap();
    assert_eq!(spec.result.note.as_deref(), Some("Docs: object."));
    assert_eq!(spec.params[0].note.as_deref(), Some("Docs: required."));
    let spec = parse(&method("boolean", "")).unwrap();
    assert_eq!(spec.result.note, None);
    let bad = method(
        "boolean",
        "\n[[params]]\nname = \"ID\"\ntype = \"integer\"\ndescription = \"d\"\nnote = 1\n",
    );
    assert!(parse(&bad).is_err());
}
