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
use b24_spec::{EnumDef, EventSpec, Example, Field, Object, Spec, SpecError, SpecFile, TypeExpr};
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

/// What a walk over an example reads and reports: the spec's named types as they are now,
/// and what does not fit. [`Walker`] collects it (`xtask check`); the importer's cross-check
/// with a page's examples (`crate::reconcile`) changes the spec as the walk goes.
pub(crate) trait Visit {
    /// The spec's named objects.
    fn objects(&self) -> &[Object];
    /// The spec's named enums.
    fn enums(&self) -> &[EnumDef];
    /// A value that does not decode as the spec says. [`Flow::Skip`] when the visitor changed
    /// the type of the key the value is under (or of the root): the rest of the key's value
    /// is then not walked against the old type.
    fn mismatch(&mut self, m: Mismatch) -> Flow;
    /// An enum value the spec does not list (it decodes as `Unknown`).
    fn unknown_enum_value(&mut self, _path: String, _value: String) {}
    /// A value under a key of a named object, before it is walked against the key's type
    /// (read after this call, so the visitor may change it).
    fn key_value(&mut self, _object: &str, _field: &str, _path: &str, _value: &Value) {}
}

/// Whether a walk goes on into the rest of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Go on.
    Continue,
    /// The key's type changed: leave the rest of its value.
    Skip,
}

/// The spec key a walk checks values against, and the object key holding them.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// Dotted spec key (`objects.Dialog.fields.id`, `result.type`).
    pub key: String,
    /// The named object whose key holds the value (none at the root).
    pub object: Option<String>,
    /// That key.
    pub field: Option<String>,
}

impl Ctx {
    /// A value at the root of the answer (`result.type`, ...).
    pub(crate) fn named(key: &str) -> Ctx {
        Ctx {
            key: key.to_string(),
            object: None,
            field: None,
        }
    }

    /// The key `field` of the object `object`.
    pub(crate) fn field(object: &str, field: &str) -> Ctx {
        Ctx {
            key: format!("objects.{object}.fields.{field}"),
            object: Some(object.to_string()),
            field: Some(field.to_string()),
        }
    }
}

/// Walks a whole example body against the type of `result`. Error bodies (`error` key) are
/// not walked here.
pub(crate) fn walk_body<V: Visit>(v: &mut V, root: &TypeExpr, body: &Value) {
    let Some(obj) = body.as_object() else {
        v.mismatch(Mismatch {
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
        v.mismatch(Mismatch {
            path: "$".into(),
            spec_key: "result".into(),
            object: None,
            field: None,
            kind: MismatchKind::NoResult,
            value: body.clone(),
        });
        return;
    };
    walk_value(v, result, root, "result".into(), &Ctx::named("result.type"));
    if let Some(time) = obj.get("time") {
        if let Err(e) = decode::<Option<b24_core::Time>>(time) {
            wrong(v, "time".into(), &Ctx::named("time"), "time block", e, time);
        }
    }
}

/// Walks an event payload's `data` against its type (the common keys are typed by
/// `b24-core`).
fn walk_event_payload<V: Visit>(v: &mut V, root: &TypeExpr, body: &Value) {
    // As `b24_core::event`: a form without any `data` field is an empty object.
    let data = body
        .get("data")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    walk_value(v, &data, root, "data".into(), &Ctx::named("data.type"));
}

fn wrong<V: Visit>(
    v: &mut V,
    path: String,
    ctx: &Ctx,
    expected: &str,
    message: String,
    value: &Value,
) -> Flow {
    v.mismatch(Mismatch {
        path,
        spec_key: ctx.key.clone(),
        object: ctx.object.clone(),
        field: ctx.field.clone(),
        kind: MismatchKind::WrongType {
            expected: expected.to_string(),
            message,
        },
        value: value.clone(),
    })
}

/// Walks one value against a type, with the client's lenient rules.
pub(crate) fn walk_value<V: Visit>(
    v: &mut V,
    value: &Value,
    ty: &TypeExpr,
    path: String,
    ctx: &Ctx,
) -> Flow {
    match ty {
        TypeExpr::Nullable(inner) => {
            // `null`, and `""`, `false`, `[]` where `b24_core::Lenient` says so.
            if wire::is_none_value(inner, value, v.objects()) {
                return Flow::Continue;
            }
            if let Some(items) = value.as_array() {
                if wire::empty_array_is_null(inner, v.objects()) {
                    if items.is_empty() {
                        return Flow::Continue;
                    }
                    let message = "a non-empty array where an object or `[]` is expected";
                    return wrong(v, path, ctx, &ty.to_string(), message.into(), value);
                }
            }
            walk_value(v, value, inner, path, ctx)
        }
        TypeExpr::Scalar(s) => match wire::check_scalar(*s, value) {
            Err(e) => wrong(v, path, ctx, s.as_str(), e, value),
            Ok(()) => Flow::Continue,
        },
        TypeExpr::Named(n) => {
            if v.objects().iter().any(|o| &o.name == n) {
                return walk_object(v, value, n, path, ctx);
            }
            let Some(e) = v.enums().iter().find(|e| &e.name == n) else {
                return Flow::Continue;
            };
            let text = match value {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
                _ => None,
            };
            match text {
                Some(t) => {
                    if !e.values.iter().any(|x| x.value == t) {
                        v.unknown_enum_value(path, t);
                    }
                    Flow::Continue
                }
                None => wrong(
                    v,
                    path,
                    ctx,
                    n,
                    format!("expected a value of enum {n}"),
                    value,
                ),
            }
        }
        TypeExpr::Array(inner) => {
            let inner = strip_null(inner);
            match value {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if walk_value(v, item, inner, format!("{path}[{i}]"), ctx) == Flow::Skip {
                            return Flow::Skip;
                        }
                    }
                    Flow::Continue
                }
                // As `b24_core`'s list decoding: keyed by numbers it is a PHP list,
                // otherwise one element sent without its list.
                Value::Object(m)
                    if m.keys()
                        .next()
                        .is_some_and(|k| b24_core::php::int_key(k).is_none()) =>
                {
                    walk_value(v, value, inner, path, ctx)
                }
                Value::Object(m) => walk_items(v, m, inner, &path, ctx),
                // What is "none" for a list is an empty one.
                _ if wire::is_none_value(ty, value, v.objects()) => Flow::Continue,
                _ => wrong(
                    v,
                    path,
                    ctx,
                    &ty.to_string(),
                    "expected an array".into(),
                    value,
                ),
            }
        }
        TypeExpr::Map(inner) => {
            let inner = strip_null(inner);
            match value {
                Value::Object(m) => walk_items(v, m, inner, &path, ctx),
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if walk_value(v, item, inner, format!("{path}[{i}]"), ctx) == Flow::Skip {
                            return Flow::Skip;
                        }
                    }
                    Flow::Continue
                }
                // What is "none" for a map is an empty one.
                _ if wire::is_none_value(ty, value, v.objects()) => Flow::Continue,
                _ => wrong(
                    v,
                    path,
                    ctx,
                    &ty.to_string(),
                    "expected an object".into(),
                    value,
                ),
            }
        }
    }
}

/// The values of a JSON object, each against `item` (a map, or a PHP list).
fn walk_items<V: Visit>(
    v: &mut V,
    m: &Map<String, Value>,
    item: &TypeExpr,
    path: &str,
    ctx: &Ctx,
) -> Flow {
    for (k, value) in m {
        if walk_value(v, value, item, format!("{path}.{k}"), ctx) == Flow::Skip {
            return Flow::Skip;
        }
    }
    Flow::Continue
}

/// The key of `o` that a JSON key names: exactly (or an alias), else ignoring case.
fn key_of<'o>(o: &'o Object, k: &str) -> Option<&'o Field> {
    o.fields
        .iter()
        .find(|f| f.name == k || f.aliases.iter().any(|a| a == k))
        .or_else(|| {
            o.fields.iter().find(|f| {
                f.name.eq_ignore_ascii_case(k)
                    || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(k))
            })
        })
}

/// Walks a value against the named object `name`: each key against its type as the spec has
/// it when the key is reached, then the required keys that are absent.
fn walk_object<V: Visit>(v: &mut V, value: &Value, name: &str, path: String, ctx: &Ctx) -> Flow {
    let empty = Map::new();
    let map = match value {
        Value::Object(m) => m,
        Value::Array(items) if items.is_empty() => &empty,
        Value::String(s) if s.is_empty() => &empty,
        _ => {
            let message = format!("expected object {name} (a map, `[]` or `\"\"`)");
            return wrong(v, path, ctx, name, message, value);
        }
    };
    let mut present: Vec<String> = Vec::new();
    for (k, val) in map {
        let fpath = format!("{path}.{k}");
        let Some(o) = v.objects().iter().find(|o| o.name == name) else {
            return Flow::Continue;
        };
        let Some(field) = key_of(o, k).map(|f| f.name.clone()) else {
            if !o.untyped_keys.iter().any(|u| u.eq_ignore_ascii_case(k)) {
                v.mismatch(Mismatch {
                    path: fpath,
                    spec_key: format!("objects.{name}"),
                    object: Some(name.to_string()),
                    field: None,
                    kind: MismatchKind::UnknownKey(k.clone()),
                    value: val.clone(),
                });
            }
            continue;
        };
        present.push(field.clone());
        v.key_value(name, &field, &fpath, val);
        let ty = v
            .objects()
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.fields.iter().find(|f| f.name == field))
            .map(field_type);
        if let Some(ty) = ty {
            // A key whose type changed is left; the object's other keys are walked.
            walk_value(v, val, &ty, fpath, &Ctx::field(name, &field));
        }
    }
    let missing: Vec<String> = v
        .objects()
        .iter()
        .find(|o| o.name == name)
        .map(|o| {
            o.fields
                .iter()
                .filter(|f| is_required(f) && !present.contains(&f.name))
                .map(|f| f.name.clone())
                .collect()
        })
        .unwrap_or_default();
    for f in missing {
        v.mismatch(Mismatch {
            path: path.clone(),
            spec_key: format!("objects.{name}.fields.{f}"),
            object: Some(name.to_string()),
            field: Some(f.clone()),
            kind: MismatchKind::MissingKey(f),
            value: Value::Null,
        });
    }
    Flow::Continue
}

/// Walks example values against one spec's types and collects what does not fit.
pub struct Walker<'a> {
    objects: &'a [Object],
    enums: &'a [EnumDef],
    /// The type of `result` (methods) or `data` (events).
    root: &'a TypeExpr,
    /// Mismatches found so far.
    pub mismatches: Vec<Mismatch>,
    /// Enum values the spec does not list (they decode as `Unknown`): path and value.
    pub unknown_enum_values: Vec<(String, String)>,
}

impl Visit for Walker<'_> {
    fn objects(&self) -> &[Object] {
        self.objects
    }

    fn enums(&self) -> &[EnumDef] {
        self.enums
    }

    fn mismatch(&mut self, m: Mismatch) -> Flow {
        self.mismatches.push(m);
        Flow::Continue
    }

    fn unknown_enum_value(&mut self, path: String, value: String) {
        self.unknown_enum_values.push((path, value));
    }
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
        }
    }

    /// Checks an event payload's `data` (the common keys are typed by `b24-core`).
    pub fn event_payload(&mut self, body: &Value) {
        let root = self.root;
        walk_event_payload(self, root, body);
    }

    /// Checks a whole example body. Error bodies (`error` key) are not walked here.
    pub fn body(&mut self, body: &Value) {
        let root = self.root;
        walk_body(self, root, body);
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
