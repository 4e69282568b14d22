//! Property tests of the spec loader: whatever the text, `parse_file` returns a spec or a
//! `SpecError` whose location is inside the text; it never panics and never overflows.
//!
//! Inputs are arbitrary text, TOML-looking token soup, and the workspace's own spec files
//! (`spec/**/*.toml`) mutated as TOML trees (keys dropped, renamed, added; values retyped,
//! nested deeply, replaced with hostile type expressions and unusual Unicode) and then as
//! text. `PROPTEST_CASES` raises the number of cases (256 by default). Every spec read is also
//! written back with `b24_spec::render` and must read as the same model.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use b24_spec::{parse_file, SpecError, SpecFile, TypeExpr, MAX_TYPE_DEPTH, MAX_VALUE_DEPTH};
use proptest::prelude::*;
use proptest::sample::{select, Index};

mod common;

// ---------------------------------------------------------------------------------------
// The property.

const FILE: &str = "spec/prop/case.toml";

fn type_depth(t: &TypeExpr) -> usize {
    match t {
        TypeExpr::Scalar(_) | TypeExpr::Named(_) => 0,
        TypeExpr::Array(t) | TypeExpr::Map(t) => 1 + type_depth(t),
        TypeExpr::Nullable(t) => type_depth(t),
    }
}

fn json_depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(json_depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(json_depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn check_type(t: &TypeExpr) -> Result<(), TestCaseError> {
    prop_assert!(type_depth(t) <= MAX_TYPE_DEPTH, "{t}");
    let again = TypeExpr::parse(&t.to_string());
    prop_assert_eq!(again.as_ref(), Ok(t));
    Ok(())
}

fn check_error(text: &str, e: &SpecError) -> Result<(), TestCaseError> {
    prop_assert_eq!(e.location.file.as_path(), Path::new(FILE));
    prop_assert!(!e.message.is_empty());
    let lines: Vec<&str> = text.split('\n').collect();
    prop_assert!(
        e.location.line >= 1 && e.location.line <= lines.len(),
        "{}",
        e
    );
    let line = lines.get(e.location.line - 1).copied().unwrap_or("");
    prop_assert!(
        e.location.column >= 1 && e.location.column <= line.chars().count() + 1,
        "{}",
        e
    );
    Ok(())
}

/// Parses `text`; a spec's types are bounded and print back to themselves, an error points
/// into the text.
fn check(text: &str) -> Result<Outcome, TestCaseError> {
    let parsed = parse_file(Path::new(FILE), text);
    if let Ok(file) = &parsed {
        reads_back(file)?;
    }
    match parsed {
        Ok(SpecFile::Method(spec)) => {
            for p in &spec.params {
                check_type(&p.ty)?;
                if let Some(ex) = &p.example {
                    prop_assert!(json_depth(ex) <= MAX_VALUE_DEPTH);
                }
            }
            check_type(&spec.result.ty)?;
            for f in spec.objects.iter().flat_map(|o| &o.fields) {
                check_type(&f.ty)?;
            }
            for rq in spec.examples.iter().filter_map(|e| e.request.as_ref()) {
                prop_assert!(json_depth(rq) <= MAX_VALUE_DEPTH);
            }
            Ok(Outcome::Spec)
        }
        Ok(SpecFile::Event(event)) => {
            check_type(&event.data.ty)?;
            for f in event.objects.iter().flat_map(|o| &o.fields) {
                check_type(&f.ty)?;
            }
            Ok(Outcome::Spec)
        }
        Err(e) => {
            check_error(text, &e)?;
            Ok(Outcome::Error)
        }
    }
}

/// Whether a JSON value holds a `null` (what a non-finite TOML float reads as; TOML cannot
/// write it back).
fn has_null(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::Array(a) => a.iter().any(has_null),
        serde_json::Value::Object(o) => o.values().any(has_null),
        _ => false,
    }
}

/// The file written by `b24_spec::render` reads as the same model (values with `null` aside).
fn reads_back(file: &SpecFile) -> Result<(), TestCaseError> {
    if let SpecFile::Method(s) = file {
        let values = s.params.iter().filter_map(|p| p.example.as_ref());
        let requests = s.examples.iter().filter_map(|x| x.request.as_ref());
        if values.chain(requests).any(has_null) {
            return Ok(());
        }
    }
    let written = b24_spec::render::file_to_toml(file, &b24_spec::render::no_comments);
    match parse_file(Path::new(FILE), &written) {
        Ok(again) => prop_assert_eq!(
            common::unlocated(again),
            common::unlocated(file.clone()),
            "written as\n{}",
            written
        ),
        Err(e) => prop_assert!(false, "the written file does not read: {}\n{}", e, written),
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Spec,
    Error,
}

// ---------------------------------------------------------------------------------------
// A TOML document as a tree that mutations can break in every way (duplicate keys
// included), and back to text.

#[derive(Debug, Clone)]
enum V {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A TOML datetime as written.
    Date(String),
    Arr(Vec<V>),
    Tab(Vec<(String, V)>),
}

fn from_toml(v: &toml::Value) -> V {
    match v {
        toml::Value::String(s) => V::Str(s.clone()),
        toml::Value::Integer(i) => V::Int(*i),
        toml::Value::Float(f) => V::Float(*f),
        toml::Value::Boolean(b) => V::Bool(*b),
        toml::Value::Datetime(d) => V::Date(d.to_string()),
        toml::Value::Array(a) => V::Arr(a.iter().map(from_toml).collect()),
        toml::Value::Table(t) => V::Tab(t.iter().map(|(k, v)| (k.clone(), from_toml(v))).collect()),
    }
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        quote(k)
    }
}

fn inline(v: &V) -> String {
    match v {
        V::Str(s) => quote(s),
        V::Int(i) => i.to_string(),
        V::Float(f) if f.is_nan() => "nan".into(),
        V::Float(f) if f.is_infinite() => if *f > 0.0 { "inf" } else { "-inf" }.into(),
        V::Float(f) => format!("{f:?}"),
        V::Bool(b) => b.to_string(),
        V::Date(d) => d.clone(),
        V::Arr(items) => format!(
            "[{}]",
            items.iter().map(inline).collect::<Vec<_>>().join(", ")
        ),
        V::Tab(entries) => format!(
            "{{ {} }}",
            entries
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), inline(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn is_table_array(v: &V) -> bool {
    matches!(v, V::Arr(items) if !items.is_empty() && items.iter().all(|i| matches!(i, V::Tab(_))))
}

/// A table with `[headers]` and `[[arrays of tables]]` (as spec files are written).
fn headers(path: &[String], entries: &[(String, V)], out: &mut String) {
    for (k, v) in entries {
        if !matches!(v, V::Tab(_)) && !is_table_array(v) {
            out.push_str(&format!("{} = {}\n", key(k), inline(v)));
        }
    }
    for (k, v) in entries {
        let mut p = path.to_vec();
        p.push(key(k));
        match v {
            V::Tab(sub) => {
                out.push_str(&format!("\n[{}]\n", p.join(".")));
                headers(&p, sub, out);
            }
            V::Arr(items) if is_table_array(v) => {
                for item in items {
                    if let V::Tab(sub) = item {
                        out.push_str(&format!("\n[[{}]]\n", p.join(".")));
                        headers(&p, sub, out);
                    }
                }
            }
            _ => {}
        }
    }
}

fn emit(doc: &V, inline_only: bool) -> String {
    let V::Tab(entries) = doc else {
        return inline(doc);
    };
    let mut out = String::new();
    if inline_only {
        for (k, v) in entries {
            out.push_str(&format!("{} = {}\n", key(k), inline(v)));
        }
    } else {
        headers(&[], entries, &mut out);
    }
    out
}

fn count(v: &V, pred: &dyn Fn(&V) -> bool) -> usize {
    let own = usize::from(pred(v));
    own + match v {
        V::Arr(items) => items.iter().map(|i| count(i, pred)).sum(),
        V::Tab(entries) => entries.iter().map(|(_, v)| count(v, pred)).sum(),
        _ => 0,
    }
}

/// The `n`th node (pre-order) for which `pred` holds.
fn nth<'v>(v: &'v mut V, n: &mut usize, pred: &dyn Fn(&V) -> bool) -> Option<&'v mut V> {
    if pred(v) {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
    }
    match v {
        V::Arr(items) => items.iter_mut().find_map(|i| nth(i, n, pred)),
        V::Tab(entries) => entries.iter_mut().find_map(|(_, v)| nth(v, n, pred)),
        _ => None,
    }
}

fn pick<'v>(doc: &'v mut V, at: &Index, pred: &dyn Fn(&V) -> bool) -> Option<&'v mut V> {
    let total = count(doc, pred);
    if total == 0 {
        return None;
    }
    let mut n = at.index(total);
    nth(doc, &mut n, pred)
}

#[derive(Debug, Clone)]
enum Mutation {
    Drop(Index, Index),
    Rename(Index, Index, String),
    Insert(Index, String, V),
    Replace(Index, V),
    /// Wraps a node in this many arrays (`false`) or one-key tables (`true`).
    Nest(Index, usize, bool),
    /// Replaces a string with hostile text (a type expression, odd Unicode...).
    Text(Index, String),
}

fn apply(doc: &mut V, m: &Mutation) {
    let any = |_: &V| true;
    let table = |v: &V| matches!(v, V::Tab(e) if !e.is_empty());
    let string = |v: &V| matches!(v, V::Str(_));
    match m {
        Mutation::Drop(at, k) => {
            if let Some(V::Tab(e)) = pick(doc, at, &table) {
                let i = k.index(e.len());
                e.remove(i);
            }
        }
        Mutation::Rename(at, k, to) => {
            if let Some(V::Tab(e)) = pick(doc, at, &table) {
                let i = k.index(e.len());
                if let Some(entry) = e.get_mut(i) {
                    entry.0 = to.clone();
                }
            }
        }
        Mutation::Insert(at, k, v) => {
            if let Some(V::Tab(e)) = pick(doc, at, &|v: &V| matches!(v, V::Tab(_))) {
                e.push((k.clone(), v.clone()));
            }
        }
        Mutation::Replace(at, v) => {
            if let Some(node) = pick(doc, at, &any) {
                *node = v.clone();
            }
        }
        Mutation::Nest(at, depth, as_table) => {
            if let Some(node) = pick(doc, at, &any) {
                let mut v = std::mem::replace(node, V::Bool(false));
                for _ in 0..*depth {
                    v = if *as_table {
                        V::Tab(vec![("n".into(), v)])
                    } else {
                        V::Arr(vec![v])
                    };
                }
                *node = v;
            }
        }
        Mutation::Text(at, text) => {
            if let Some(node) = pick(doc, at, &string) {
                *node = V::Str(text.clone());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Strategies.

/// The workspace's spec files, as trees.
fn seeds() -> &'static [(PathBuf, V)] {
    static SEEDS: OnceLock<Vec<(PathBuf, V)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec");
        let files = b24_spec::spec_files(&root).unwrap_or_else(|e| panic!("{e}"));
        assert!(files.len() >= 38, "the workspace's spec files are seeds");
        files
            .into_iter()
            .map(|path| {
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
                let table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
                (path, from_toml(&toml::Value::Table(table)))
            })
            .collect()
    })
}

const ODD: &[&str] = &[
    "\u{a0}",
    "\u{3000}",
    "\u{2003}",
    "\u{200b}",
    "\u{feff}",
    "\u{202e}",
    "\u{0}",
    "\u{7f}",
    "\u{1f600}",
    "e\u{301}",
    "Ж",
    "\r\n",
    "\r",
    "'''",
    "\"\"\"",
    "\\",
    "#",
    "=",
    "[",
    "]",
    "{",
    "}",
    ".",
    "|",
    "<",
    ">",
    "null",
    " ",
    "\t",
    "\n",
];

const KEYS: &[&str] = &[
    "method",
    "event",
    "scope",
    "summary",
    "description",
    "docs",
    "access",
    "kind",
    "auth",
    "application",
    "rust_name",
    "params",
    "one_of",
    "result",
    "data",
    "objects",
    "enums",
    "errors",
    "examples",
    "name",
    "type",
    "required",
    "example",
    "values",
    "enum_name",
    "fields",
    "optional",
    "aliases",
    "note",
    "untyped_keys",
    "paged",
    "code",
    "status",
    "message",
    "request",
    "body",
    "value",
    "Dialog",
    "Thing",
    "",
];

fn odd_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => select(ODD).prop_map(str::to_string),
            1 => "\\PC{0,6}",
            1 => "[a-zA-Z0-9_]{1,8}",
        ],
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

/// Type expressions, mostly well-formed, some nested far beyond the limit.
fn type_text() -> impl Strategy<Value = String> {
    let base = select(
        &[
            "integer", "string", "boolean", "any", "object", "array", "enum", "null", "Dialog",
            "Thing", "dialog", "integr", "", " ",
        ][..],
    );
    let layers = prop_oneof![
        8 => 0usize..=MAX_TYPE_DEPTH + 2,
        1 => 0usize..5_000,
    ];
    (
        base,
        layers,
        prop::collection::vec(any::<bool>(), 0..4),
        any::<u8>(),
    )
        .prop_map(|(base, layers, maps, tail)| {
            let mut t = base.to_string();
            for i in 0..layers {
                if maps.get(i % 4).copied().unwrap_or(false) {
                    t = format!("map<{t}>");
                } else {
                    t.push_str("[]");
                }
            }
            match tail % 6 {
                0 => format!("{t} | null"),
                1 => format!("null | {t}"),
                2 => format!("{t} | string"),
                3 => format!("{t} |"),
                _ => t,
            }
        })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        type_text(),
        odd_text(),
        select(
            &[
                "imopenlines.x.get",
                "OnThing",
                "read",
                "write",
                "https://example.invalid",
                "{\"result\": true}",
                "{\"event\": \"ONTHING\", \"data\": {}}",
                "[[[[[[[[[[1]]]]]]]]]]",
            ][..]
        )
        .prop_map(str::to_string),
    ]
}

fn value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        text().prop_map(V::Str),
        any::<i64>().prop_map(V::Int),
        prop_oneof![Just(200i64), Just(99), Just(600), Just(-1)].prop_map(V::Int),
        any::<f64>().prop_map(V::Float),
        any::<bool>().prop_map(V::Bool),
        select(&["1979-05-27T07:32:00Z", "1979-05-27", "07:32:00"][..])
            .prop_map(|d| V::Date(d.to_string())),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(V::Arr),
            prop::collection::vec((key_text(), inner), 0..4).prop_map(V::Tab),
        ]
    })
}

fn key_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(KEYS).prop_map(str::to_string),
        1 => odd_text(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<Index>(), any::<Index>()).prop_map(|(a, k)| Mutation::Drop(a, k)),
        2 => (any::<Index>(), any::<Index>(), key_text())
            .prop_map(|(a, k, to)| Mutation::Rename(a, k, to)),
        2 => (any::<Index>(), key_text(), value()).prop_map(|(a, k, v)| Mutation::Insert(a, k, v)),
        3 => (any::<Index>(), value()).prop_map(|(a, v)| Mutation::Replace(a, v)),
        2 => (
            any::<Index>(),
            prop_oneof![3 => 1usize..40, 1 => 40usize..400],
            any::<bool>()
        )
            .prop_map(|(a, d, t)| Mutation::Nest(a, d, t)),
        4 => (any::<Index>(), text()).prop_map(|(a, t)| Mutation::Text(a, t)),
    ]
}

#[derive(Debug, Clone)]
enum TextEdit {
    Insert(Index, String),
    DeleteLine(Index),
    DuplicateLine(Index),
    Truncate(Index),
}

fn text_edit() -> impl Strategy<Value = TextEdit> {
    prop_oneof![
        (any::<Index>(), odd_text()).prop_map(|(a, s)| TextEdit::Insert(a, s)),
        any::<Index>().prop_map(TextEdit::DeleteLine),
        any::<Index>().prop_map(TextEdit::DuplicateLine),
        any::<Index>().prop_map(TextEdit::Truncate),
    ]
}

/// Byte offset of the `i`th character boundary of `s` (its end included).
fn boundary(s: &str, at: &Index) -> usize {
    let n = s.chars().count() + 1;
    let k = at.index(n);
    s.char_indices().nth(k).map_or(s.len(), |(b, _)| b)
}

fn edit(text: &mut String, e: &TextEdit) {
    match e {
        TextEdit::Insert(at, s) => {
            let b = boundary(text, at);
            text.insert_str(b, s);
        }
        TextEdit::Truncate(at) => {
            let b = boundary(text, at);
            text.truncate(b);
        }
        TextEdit::DeleteLine(at) | TextEdit::DuplicateLine(at) => {
            let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
            if lines.is_empty() {
                return;
            }
            let i = at.index(lines.len());
            if matches!(e, TextEdit::DeleteLine(_)) {
                lines.remove(i);
            } else {
                lines.insert(i, lines[i]);
            }
            *text = lines.concat();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Tests.

/// The emitter writes each seed back as a valid spec, in both styles, so mutations start
/// from specs the loader accepts.
#[test]
fn seeds_round_trip_through_the_emitter() {
    for (path, doc) in seeds() {
        for inline_only in [false, true] {
            let text = emit(doc, inline_only);
            assert_eq!(
                check(&text).map_err(|e| e.to_string()),
                Ok(Outcome::Spec),
                "{} (inline: {inline_only}):\n{text}",
                path.display()
            );
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_text_is_a_spec_or_a_located_error(text in any::<String>()) {
        check(&text)?;
    }

    #[test]
    fn toml_like_soup_is_a_spec_or_a_located_error(
        parts in prop::collection::vec(
            prop_oneof![
                select(&[
                    "[", "]", "[[", "]]", "{", "}", " = ", "\"", "'", "'''", "\"\"\"", ",", ".",
                    "\n", "#", "method", "type", "objects", "fields", "params", "examples",
                    "1", "true", "1979-05-27", "\"integer[]\"", "\"map<X>\"", "\u{3000}", "\u{a0}",
                ][..]).prop_map(str::to_string),
                odd_text(),
            ],
            0..60,
        )
    ) {
        check(&parts.concat())?;
    }

    #[test]
    fn type_expressions_parse_to_bounded_types_or_short_errors(text in prop_oneof![type_text(), odd_text(), any::<String>()]) {
        match TypeExpr::parse(&text) {
            Ok(t) => check_type(&t)?,
            Err(m) => prop_assert!(!m.is_empty() && m.chars().count() < 1_000, "{}", m),
        }
    }

    #[test]
    fn mutated_workspace_specs_are_a_spec_or_a_located_error(
        seed in any::<Index>(),
        mutations in prop::collection::vec(mutation(), 1..5),
        inline_only in any::<bool>(),
        // Mostly none: most edits make the text invalid TOML, and the tree mutations are
        // what reaches the validation past the TOML reader.
        edits in prop_oneof![
            3 => Just(Vec::new()),
            1 => prop::collection::vec(text_edit(), 1..3),
        ],
    ) {
        let seeds = seeds();
        let mut doc = seeds[seed.index(seeds.len())].1.clone();
        for m in &mutations {
            apply(&mut doc, m);
        }
        let mut text = emit(&doc, inline_only);
        for e in &edits {
            edit(&mut text, e);
        }
        check(&text)?;
    }
}
