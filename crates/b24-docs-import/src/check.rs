//! `xtask check`: every spec validates and every documented example decodes into its type.
//!
//! Decoding is checked without compiling the generated code: the example's JSON is walked
//! against the spec's type tree with the rules the generated visitors follow (`b24_spec::wire`:
//! containers default to empty, `optional` and `| null` fields are `Option`, `[]`/`""`/`false`
//! are "none" where `b24_core::Lenient` says so; keys match exactly then ignoring case), and
//! every scalar is decoded by `b24_core::decode_json` with the very visitors the
//! client uses. Keys an example has and the schema lacks are errors unless the object lists
//! them in `untyped_keys`.

use std::fmt;
use std::path::{Path, PathBuf};

use b24_spec::wire::{self, strip_null};
use b24_spec::{EnumDef, EventSpec, Example, Object, Spec, SpecError, SpecFile, TypeExpr};
use serde_json::{Map, Value};

/// What is wrong with one value of an example.
#[derive(Debug, Clone, PartialEq)]
pub enum MismatchKind {
    /// The example has a key the object does not describe (nor list in `untyped_keys`).
    UnknownKey(String),
    /// A required key is absent.
    MissingKey(String),
    /// The value does not decode as the spec's type.
    WrongType {
        /// The spec type.
        expected: String,
        /// The decoder's message.
        message: String,
    },
    /// No `result` in a success body.
    NoResult,
}

/// A place where an example does not decode into the spec's type.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    /// JSON path in the body (`result.readed_list[0].date`).
    pub path: String,
    /// Dotted spec key the value is checked against (`objects.Dialog.fields.date_create`).
    pub spec_key: String,
    /// The named object whose key holds the value (none at the root of `result`).
    pub object: Option<String>,
    /// That key.
    pub field: Option<String>,
    /// What is wrong.
    pub kind: MismatchKind,
    /// The offending value (for an unknown key: its value).
    pub value: Value,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            MismatchKind::UnknownKey(k) => write!(
                f,
                "{}: key `{k}` is not in the schema ({}); describe it or add it to `untyped_keys`",
                self.path, self.spec_key
            ),
            MismatchKind::MissingKey(k) => write!(
                f,
                "{}: required key `{k}` is absent ({}); mark it `optional = true` if the portal may omit it",
                self.path, self.spec_key
            ),
            MismatchKind::WrongType { expected, message } => write!(
                f,
                "{}: does not decode as `{expected}` ({}): {message}",
                self.path, self.spec_key
            ),
            MismatchKind::NoResult => write!(f, "{}: a success body without `result`", self.path),
        }
    }
}

/// A value the walk reached under a key of a named object (used by the importer to infer
/// element types).
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// The object.
    pub object: String,
    /// The key.
    pub field: String,
    /// The value.
    pub value: Value,
}

/// Walks example values against one spec's types.
pub struct Walker<'a> {
    objects: &'a [Object],
    enums: &'a [EnumDef],
    /// The type of `result` (methods) or `data` (events).
    root: &'a TypeExpr,
    /// Mismatches found so far.
    pub mismatches: Vec<Mismatch>,
    /// Enum values the spec does not list (they decode as `Unknown`): path and value.
    pub unknown_enum_values: Vec<(String, String)>,
    /// Values seen under object keys.
    pub seen: Vec<Seen>,
}

#[derive(Clone)]
struct Ctx {
    key: String,
    object: Option<String>,
    field: Option<String>,
}

impl<'a> Walker<'a> {
    /// A walker over a method spec's `result`.
    pub fn new(spec: &'a Spec) -> Self {
        Walker::over(&spec.objects, &spec.enums, &spec.result.ty)
    }

    /// A walker over an event spec's `data`.
    pub fn for_event(event: &'a EventSpec) -> Self {
        Walker::over(&event.objects, &event.enums, &event.data.ty)
    }

    fn over(objects: &'a [Object], enums: &'a [EnumDef], root: &'a TypeExpr) -> Self {
        Walker {
            objects,
            enums,
            root,
            mismatches: Vec::new(),
            unknown_enum_values: Vec::new(),
            seen: Vec::new(),
        }
    }

    fn object_def(&self, name: &str) -> Option<&'a Object> {
        self.objects.iter().find(|o| o.name == name)
    }

    fn enum_def(&self, name: &str) -> Option<&'a EnumDef> {
        self.enums.iter().find(|e| e.name == name)
    }

    /// Checks an event payload's `data` (the common keys are typed by `b24-core`).
    pub fn event_payload(&mut self, body: &Value) {
        // As `b24_core::event`: a form without any `data` field is an empty object.
        let data = body
            .get("data")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        let ctx = Ctx {
            key: "data.type".into(),
            object: None,
            field: None,
        };
        let ty = self.root;
        self.value(&data, ty, "data".into(), &ctx);
    }

    /// Checks a whole example body. Error bodies (`error` key) are not walked here.
    pub fn body(&mut self, body: &Value) {
        let Some(obj) = body.as_object() else {
            self.mismatches.push(Mismatch {
                path: "$".into(),
                spec_key: "examples.body".into(),
                object: None,
                field: None,
                kind: MismatchKind::WrongType {
                    expected: "an envelope object".into(),
                    message: "the body is not a JSON object".into(),
                },
                value: body.clone(),
            });
            return;
        };
        if obj.contains_key("error") {
            return;
        }
        let Some(result) = obj.get("result") else {
            self.mismatches.push(Mismatch {
                path: "$".into(),
                spec_key: "result".into(),
                object: None,
                field: None,
                kind: MismatchKind::NoResult,
                value: body.clone(),
            });
            return;
        };
        let ctx = Ctx {
            key: "result.type".into(),
            object: None,
            field: None,
        };
        let ty = self.root;
        self.value(result, ty, "result".into(), &ctx);
        if let Some(time) = obj.get("time") {
            if let Err(e) = decode::<Option<b24_core::Time>>(time) {
                self.wrong("time".into(), &ctx_named("time"), "time block", e, time);
            }
        }
    }

    fn wrong(&mut self, path: String, ctx: &Ctx, expected: &str, message: String, v: &Value) {
        self.mismatches.push(Mismatch {
            path,
            spec_key: ctx.key.clone(),
            object: ctx.object.clone(),
            field: ctx.field.clone(),
            kind: MismatchKind::WrongType {
                expected: expected.to_string(),
                message,
            },
            value: v.clone(),
        });
    }

    fn value(&mut self, v: &Value, ty: &TypeExpr, path: String, ctx: &Ctx) {
        match ty {
            TypeExpr::Nullable(inner) => {
                // `null`, and `""`, `false`, `[]` where `b24_core::Lenient` says so.
                if wire::is_none_value(inner, v, self.objects) {
                    return;
                }
                if let Some(items) = v.as_array() {
                    if wire::empty_array_is_null(inner, self.objects) {
                        if !items.is_empty() {
                            self.wrong(
                                path,
                                ctx,
                                &ty.to_string(),
                                "a non-empty array where an object or `[]` is expected".into(),
                                v,
                            );
                        }
                        return;
                    }
                }
                self.value(v, inner, path, ctx);
            }
            TypeExpr::Scalar(s) => {
                if let Err(e) = wire::check_scalar(*s, v) {
                    self.wrong(path, ctx, s.as_str(), e, v);
                }
            }
            TypeExpr::Named(n) => {
                if let Some(o) = self.object_def(n) {
                    self.object(v, o, path, ctx);
                } else if let Some(e) = self.enum_def(n) {
                    let text = match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
                        _ => None,
                    };
                    match text {
                        Some(t) => {
                            if !e.values.iter().any(|x| x.value == t) {
                                self.unknown_enum_values.push((path, t));
                            }
                        }
                        None => {
                            self.wrong(path, ctx, n, format!("expected a value of enum {n}"), v)
                        }
                    }
                }
            }
            TypeExpr::Array(inner) => {
                let inner = strip_null(inner);
                match v {
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            self.value(item, inner, format!("{path}[{i}]"), ctx);
                        }
                    }
                    // As `b24_core`'s list decoding: keyed by numbers it is a PHP list,
                    // otherwise one element sent without its list.
                    Value::Object(m)
                        if m.keys()
                            .next()
                            .is_some_and(|k| b24_core::php::int_key(k).is_none()) =>
                    {
                        self.value(v, inner, path, ctx);
                    }
                    Value::Object(m) => {
                        for (k, item) in m {
                            self.value(item, inner, format!("{path}.{k}"), ctx);
                        }
                    }
                    // What is "none" for a list is an empty one.
                    _ if wire::is_none_value(ty, v, self.objects) => {}
                    _ => self.wrong(path, ctx, &ty.to_string(), "expected an array".into(), v),
                }
            }
            TypeExpr::Map(inner) => {
                let inner = strip_null(inner);
                match v {
                    Value::Object(m) => {
                        for (k, item) in m {
                            self.value(item, inner, format!("{path}.{k}"), ctx);
                        }
                    }
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            self.value(item, inner, format!("{path}[{i}]"), ctx);
                        }
                    }
                    // What is "none" for a map is an empty one.
                    _ if wire::is_none_value(ty, v, self.objects) => {}
                    _ => self.wrong(path, ctx, &ty.to_string(), "expected an object".into(), v),
                }
            }
        }
    }

    fn object(&mut self, v: &Value, o: &Object, path: String, ctx: &Ctx) {
        let empty = Map::new();
        let map = match v {
            Value::Object(m) => m,
            Value::Array(items) if items.is_empty() => &empty,
            Value::String(s) if s.is_empty() => &empty,
            _ => {
                self.wrong(
                    path,
                    ctx,
                    &o.name,
                    format!("expected object {} (a map, `[]` or `\"\"`)", o.name),
                    v,
                );
                return;
            }
        };
        let mut present = vec![false; o.fields.len()];
        for (k, val) in map {
            let idx = o
                .fields
                .iter()
                .position(|f| &f.name == k || f.aliases.iter().any(|a| a == k))
                .or_else(|| {
                    o.fields.iter().position(|f| {
                        f.name.eq_ignore_ascii_case(k)
                            || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(k))
                    })
                });
            let fpath = format!("{path}.{k}");
            match idx {
                Some(i) => {
                    present[i] = true;
                    let f = &o.fields[i];
                    self.seen.push(Seen {
                        object: o.name.clone(),
                        field: f.name.clone(),
                        value: val.clone(),
                    });
                    let fctx = Ctx {
                        key: format!("objects.{}.fields.{}", o.name, f.name),
                        object: Some(o.name.clone()),
                        field: Some(f.name.clone()),
                    };
                    let ty = field_type(f);
                    self.value(val, &ty, fpath, &fctx);
                }
                None => {
                    if !o.untyped_keys.iter().any(|u| u.eq_ignore_ascii_case(k)) {
                        self.mismatches.push(Mismatch {
                            path: fpath,
                            spec_key: format!("objects.{}", o.name),
                            object: Some(o.name.clone()),
                            field: None,
                            kind: MismatchKind::UnknownKey(k.clone()),
                            value: val.clone(),
                        });
                    }
                }
            }
        }
        for (f, seen) in o.fields.iter().zip(present) {
            if !seen && is_required(f) {
                self.mismatches.push(Mismatch {
                    path: path.clone(),
                    spec_key: format!("objects.{}.fields.{}", o.name, f.name),
                    object: Some(o.name.clone()),
                    field: Some(f.name.clone()),
                    kind: MismatchKind::MissingKey(f.name.clone()),
                    value: Value::Null,
                });
            }
        }
    }
}

fn ctx_named(key: &str) -> Ctx {
    Ctx {
        key: key.to_string(),
        object: None,
        field: None,
    }
}

/// The type a field is decoded as and whether its absence is an error: `b24_spec::wire`
/// answers for the generated code and for this check alike.
pub use b24_spec::wire::{field_type, is_required};

fn decode<T: b24_core::Lenient>(v: &Value) -> Result<T, String> {
    let bytes = serde_json::to_vec(v).map_err(|e| e.to_string())?;
    b24_core::decode_json::<T>(&bytes).map_err(|e| e.message)
}

/// Mismatches of one example of a spec (success bodies only; error bodies are checked by
/// [`check_error_example`]).
pub fn check_example<'s>(spec: &'s Spec, example: &Example) -> Walker<'s> {
    let mut w = Walker::new(spec);
    w.body(&example.body);
    w
}

/// Problems of an error example: no `error` code, or a code that is neither the method's
/// (`[[errors]]`) nor portal-wide (`b24_core::PortalErrorCode`).
pub fn check_error_example(spec: &Spec, example: &Example) -> Vec<String> {
    let Some(obj) = example.body.as_object() else {
        return Vec::new();
    };
    let Some(code) = obj.get("error") else {
        return Vec::new();
    };
    let Some(code) = code.as_str() else {
        return vec!["`error` is not a string".into()];
    };
    let own = spec.errors.iter().find(|e| e.code == code);
    match own {
        Some(e) if e.status != example.status => vec![format!(
            "error `{code}` answers status {} here but {} in [[errors]]",
            example.status, e.status
        )],
        Some(_) => Vec::new(),
        None if b24_core::PortalErrorCode::parse(code).is_some() => Vec::new(),
        None => vec![format!(
            "error code `{code}` is neither in [[errors]] nor a portal-wide code"
        )],
    }
}

/// One problem `check` found.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The spec file.
    pub file: PathBuf,
    /// Where in it (`examples[0]` / a key), if known.
    pub at: String,
    /// What is wrong.
    pub message: String,
    /// Errors fail the check; warnings are printed only.
    pub is_error: bool,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = if self.is_error { "error" } else { "warning" };
        if self.at.is_empty() {
            write!(f, "{level}: {}: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{level}: {}: {}: {}",
                self.file.display(),
                self.at,
                self.message
            )
        }
    }
}

/// The outcome of checking a spec directory.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Spec files read.
    pub files: usize,
    /// Of which event specs.
    pub events: usize,
    /// Examples walked.
    pub examples: usize,
    /// Problems.
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// Whether any problem is an error.
    pub fn failed(&self) -> bool {
        self.problems.iter().any(|p| p.is_error)
    }
}

fn spec_problem(e: &SpecError) -> Problem {
    Problem {
        file: e.location.file.clone(),
        at: format!("{}:{}", e.location.line, e.location.column),
        message: if e.key.is_empty() {
            e.message.clone()
        } else {
            format!("{}: {}", e.key, e.message)
        },
        is_error: true,
    }
}

/// Problems of one parsed spec's examples.
pub fn check_spec(spec: &Spec) -> Vec<Problem> {
    let mut out = Vec::new();
    for (i, ex) in spec.examples.iter().enumerate() {
        let at = format!("examples[{i}] `{}` (line {})", ex.name, ex.location.line);
        for m in check_error_example(spec, ex) {
            out.push(Problem {
                file: spec.location.file.clone(),
                at: at.clone(),
                message: m,
                is_error: true,
            });
        }
        let w = check_example(spec, ex);
        for m in &w.mismatches {
            out.push(Problem {
                file: spec.location.file.clone(),
                at: at.clone(),
                message: m.to_string(),
                is_error: true,
            });
        }
        for (path, v) in &w.unknown_enum_values {
            out.push(Problem {
                file: spec.location.file.clone(),
                at: at.clone(),
                message: format!(
                    "{path}: `{v}` is not a documented enum value (decodes as Unknown)"
                ),
                is_error: false,
            });
        }
    }
    out
}

/// Problems of one parsed event spec's documented payloads, each walked as the JSON the docs
/// show and as the form the portal posts (every scalar text, `false` as `0`, `null` and empty
/// arrays gone).
pub fn check_event(event: &EventSpec) -> Vec<Problem> {
    let mut out = Vec::new();
    for (i, ex) in event.examples.iter().enumerate() {
        let at = format!("examples[{i}] `{}` (line {})", ex.name, ex.location.line);
        let mut w = Walker::for_event(event);
        w.event_payload(&ex.body);
        let mut seen: Vec<String> = w.mismatches.iter().map(|m| m.to_string()).collect();
        if let Some(tree) = ex.body.as_object() {
            let form = b24_core::php::parse_query(&b24_core::php::http_build_query(tree));
            let mut f = Walker::for_event(event);
            f.event_payload(&Value::Object(form));
            for m in f.mismatches {
                if !seen.iter().any(|s| *s == m.to_string()) {
                    seen.push(m.to_string());
                    w.mismatches.push(Mismatch {
                        path: format!("{} (in the portal's form body)", m.path),
                        ..m
                    });
                }
            }
        }
        for m in &w.mismatches {
            out.push(Problem {
                file: event.location.file.clone(),
                at: at.clone(),
                message: m.to_string(),
                is_error: true,
            });
        }
        for (path, v) in &w.unknown_enum_values {
            out.push(Problem {
                file: event.location.file.clone(),
                at: at.clone(),
                message: format!(
                    "{path}: `{v}` is not a documented enum value (decodes as Unknown)"
                ),
                is_error: false,
            });
        }
    }
    out
}

/// The texts of a method spec a reader reads, with their keys: summary, description, access,
/// the descriptions of parameters, groups, result, objects, keys, enums, values, errors and
/// examples, and the notes.
pub fn method_texts(spec: &Spec) -> Vec<(String, &str)> {
    let mut t = vec![("summary".to_string(), spec.summary.as_str())];
    t.extend(
        spec.description
            .as_deref()
            .map(|d| ("description".into(), d)),
    );
    t.extend(spec.access.as_deref().map(|a| ("access".into(), a)));
    for p in &spec.params {
        t.push((format!("params.{}.description", p.name), &p.description));
    }
    for g in &spec.one_of {
        t.push((format!("one_of.{}.description", g.name), &g.description));
    }
    t.push(("result.description".into(), &spec.result.description));
    t.extend(types_texts(&spec.objects, &spec.enums));
    for e in &spec.errors {
        t.push((format!("errors.{}.description", e.code), &e.description));
        t.extend(
            e.note
                .as_deref()
                .map(|n| (format!("errors.{}.note", e.code), n)),
        );
    }
    for x in &spec.examples {
        t.push((format!("examples.{}.description", x.name), &x.description));
    }
    t
}

/// The texts of an event spec a reader reads, as [`method_texts`].
pub fn event_texts(event: &EventSpec) -> Vec<(String, &str)> {
    let mut t = vec![("summary".to_string(), event.summary.as_str())];
    t.extend(
        event
            .description
            .as_deref()
            .map(|d| ("description".into(), d)),
    );
    t.extend(event.access.as_deref().map(|a| ("access".into(), a)));
    t.push(("data.description".into(), &event.data.description));
    t.extend(types_texts(&event.objects, &event.enums));
    for x in &event.examples {
        t.push((format!("examples.{}.description", x.name), &x.description));
    }
    t
}

fn types_texts<'a>(objects: &'a [Object], enums: &'a [EnumDef]) -> Vec<(String, &'a str)> {
    let mut t = Vec::new();
    for o in objects {
        t.push((
            format!("objects.{}.description", o.name),
            o.description.as_str(),
        ));
        for f in &o.fields {
            let key = format!("objects.{}.fields.{}", o.name, f.name);
            t.push((format!("{key}.description"), f.description.as_str()));
            t.extend(f.note.as_deref().map(|n| (format!("{key}.note"), n)));
        }
    }
    for e in enums {
        t.push((
            format!("enums.{}.description", e.name),
            e.description.as_str(),
        ));
        for v in &e.values {
            let key = format!("enums.{}.values.{}.description", e.name, v.value);
            t.extend(v.description.as_deref().map(|d| (key, d)));
        }
    }
    t
}

/// Texts with Cyrillic outside a code span, each an error: the generated docs are English,
/// and only a literal value in backticks may be Russian (`b24_spec::prose`, `spec/README.md`).
pub fn check_prose(file: &Path, texts: &[(String, &str)]) -> Vec<Problem> {
    texts
        .iter()
        .filter_map(|(key, text)| {
            b24_spec::prose::cyrillic_outside_code(text).map(|line| Problem {
                file: file.to_path_buf(),
                at: key.clone(),
                message: format!(
                    "Cyrillic outside a code span: \"{line}\"; write the text in English and \
                     put a literal value (a portal message, an example) in backticks"
                ),
                is_error: true,
            })
        })
        .collect()
}

/// Checks every spec under `dir` (names shown relative to `base`): each file validates, the
/// set has no duplicate methods or events, and each example decodes into its type.
pub fn check_dir(dir: &Path, base: &Path) -> CheckReport {
    let mut report = CheckReport::default();
    let files = match b24_spec::spec_files(dir) {
        Ok(f) => f,
        Err(e) => {
            report.problems.push(spec_problem(&e));
            return report;
        }
    };
    let mut all_valid = true;
    for path in &files {
        report.files += 1;
        let display = path.strip_prefix(base).unwrap_or(path);
        match b24_spec::load_any_file(path, display) {
            Ok(SpecFile::Method(spec)) => {
                report.examples += spec.examples.len();
                report.problems.extend(check_spec(&spec));
                report
                    .problems
                    .extend(check_prose(&spec.location.file, &method_texts(&spec)));
            }
            Ok(SpecFile::Event(event)) => {
                report.events += 1;
                report.examples += event.examples.len();
                report.problems.extend(check_event(&event));
                report
                    .problems
                    .extend(check_prose(&event.location.file, &event_texts(&event)));
            }
            Err(e) => {
                all_valid = false;
                report.problems.push(spec_problem(&e));
            }
        }
    }
    if all_valid {
        if let Err(e) = b24_spec::load_family(dir, base) {
            report.problems.push(spec_problem(&e));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const SPEC: &str = r#"
method = "imopenlines.test.get"
scope = "imopenlines"
summary = "A test."
docs = "https://example.invalid"
kind = "read"

[result]
type = "Thing"
description = "d"

[objects.Thing]
description = "d"
untyped_keys = ["legacy"]

[objects.Thing.fields]
id = { type = "integer", description = "d" }
flag = { type = "boolean", optional = true, description = "d" }
when = { type = "datetime | null", description = "d" }
tags = { type = "integer[]", description = "d" }
sub = { type = "Sub | null", optional = true, description = "d" }
role = { type = "enum", values = ["a", "b"], optional = true, description = "d" }
by_id = { type = "map<Sub>", description = "d" }

[objects.Sub]
description = "d"

[objects.Sub.fields]
name = { type = "string", description = "d" }
"#;

    fn spec() -> Spec {
        b24_spec::parse_spec(Path::new("t.toml"), SPEC).unwrap_or_else(|e| panic!("{e}"))
    }

    fn walk(spec: &Spec, result: serde_json::Value) -> Walker<'_> {
        let mut w = Walker::new(spec);
        w.body(&serde_json::json!({ "result": result }));
        w
    }

    #[test]
    fn lenient_values_decode() {
        let s = spec();
        let w = walk(
            &s,
            serde_json::json!({
                "ID": "5", "flag": "Y", "when": "", "tags": {"0": "1", "3": 2},
                "sub": [], "role": "zzz", "by_id": [], "legacy": 1
            }),
        );
        assert_eq!(w.mismatches, Vec::new());
        assert_eq!(
            w.unknown_enum_values,
            [("result.role".to_string(), "zzz".to_string())]
        );
    }

    #[test]
    fn mismatches_name_path_and_key() {
        let s = spec();
        let w = walk(
            &s,
            serde_json::json!({
                "id": "x", "when": null, "tags": [1, "b"], "sub": {"name": {}},
                "by_id": {"7": {}}, "other": true
            }),
        );
        let got: Vec<(String, String)> = w
            .mismatches
            .iter()
            .map(|m| (m.path.clone(), m.spec_key.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "result.id".to_string(),
                    "objects.Thing.fields.id".to_string()
                ),
                ("result.tags[1]".into(), "objects.Thing.fields.tags".into()),
                ("result.sub.name".into(), "objects.Sub.fields.name".into()),
                ("result.by_id.7".into(), "objects.Sub.fields.name".into()),
                ("result.other".into(), "objects.Thing".into()),
            ]
        );
        assert!(matches!(w.mismatches[3].kind, MismatchKind::MissingKey(_)));
        assert!(matches!(w.mismatches[4].kind, MismatchKind::UnknownKey(_)));
        let missing = walk(&s, serde_json::json!({ "when": null }));
        assert!(
            matches!(&missing.mismatches[..], [m] if m.kind == MismatchKind::MissingKey("id".into()))
        );
        let not_null = walk(&s, serde_json::json!(null));
        assert_eq!(not_null.mismatches.len(), 1);
    }

    #[test]
    fn error_examples_need_a_known_code() {
        let src = format!(
            "{SPEC}\n[[errors]]\ncode = \"MINE\"\nstatus = 400\ndescription = \"d\"\n\n[[examples]]\nname = \"a\"\ndescription = \"d\"\nstatus = 400\nbody = '{{\"error\": \"MINE\"}}'\n\n[[examples]]\nname = \"b\"\ndescription = \"d\"\nstatus = 401\nbody = '{{\"error\": \"NO_AUTH_FOUND\"}}'\n\n[[examples]]\nname = \"c\"\ndescription = \"d\"\nstatus = 400\nbody = '{{\"error\": \"OTHER\"}}'\n"
        );
        let s = b24_spec::parse_spec(Path::new("t.toml"), &src).unwrap_or_else(|e| panic!("{e}"));
        let problems = check_spec(&s);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("`OTHER`"));
    }

    #[test]
    fn event_payloads_are_walked_as_json_and_as_the_portals_form() {
        let src = r#"
event = "OnSessionStart"
scope = "imopenlines"
summary = "s"
docs = "https://example.invalid"
[data]
type = "D"
description = "d"
[objects.D]
description = "d"
[objects.D.fields]
when = { type = "datetime | null", description = "d" }
[[examples]]
name = "a"
description = "d"
body = '{"event": "ONSESSIONSTART", "data": {"when": false}}'
"#;
        let b24_spec::SpecFile::Event(e) =
            b24_spec::parse_file(Path::new("e.toml"), src).unwrap_or_else(|e| panic!("{e}"))
        else {
            panic!("an event");
        };
        // As JSON, false is none; as a form it arrives as "0", which is no datetime.
        let problems = check_event(&e);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].message.contains("form body"),
            "{}",
            problems[0].message
        );
        let fixed = b24_spec::parse_file(Path::new("e.toml"), &src.replace("false", "null"));
        let Ok(b24_spec::SpecFile::Event(e)) = fixed else {
            panic!("an event");
        };
        assert_eq!(check_event(&e), Vec::new());
    }

    #[test]
    fn russian_prose_is_an_error_and_literals_in_backticks_are_not() {
        let src = SPEC.replace(
            "id = { type = \"integer\", description = \"d\" }",
            "id = { type = \"integer\", description = \"Идентификатор чата\" }",
        ) + "\n[[errors]]\ncode = \"MINE\"\nstatus = 400\nmessage = \"Чат не найден\"\ndescription = \"The portal says `Чат не найден`.\"\n";
        let s = b24_spec::parse_spec(Path::new("t.toml"), &src).unwrap_or_else(|e| panic!("{e}"));
        let problems = check_prose(Path::new("t.toml"), &method_texts(&s));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].at, "objects.Thing.fields.id.description");
        assert!(problems[0].is_error && problems[0].message.contains("Идентификатор чата"));
        assert_eq!(
            check_prose(Path::new("t.toml"), &method_texts(&spec())),
            Vec::new()
        );
    }

    #[test]
    fn the_workspace_specs_pass() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let report = check_dir(&root.join("spec"), &root);
        assert!(report.files >= 1);
        assert!(!report.failed(), "{:?}", report.problems);
    }
}
