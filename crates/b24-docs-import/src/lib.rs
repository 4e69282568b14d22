//! Maintainer tooling over the official Bitrix24 REST docs (`cargo xtask`):
//!
//! * [`import_page`] reads a docs page (either template: today's or the 2024 one) into a spec
//!   file (`spec/README.md`), cross-checks the result schema against the page's own JSON
//!   example, and marks every guess with a `# TODO(review): ...` comment;
//! * [`check`] walks every documented example of `spec/` against its spec's types with the
//!   client's lenient decoding rules;
//! * [`drift`] compares `spec/` with a docs checkout.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod corpus;
pub mod drift;
pub mod english;
pub mod import;
pub mod markdown;
pub mod model;
pub mod page;
pub mod render;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use import::{docs_root_of, page_method, DocsContext, ImportError};
pub use model::{Method, Template, Warning};

use check::MismatchKind;

/// A page turned into a valid spec.
#[derive(Debug, Clone)]
pub struct Imported {
    /// What was read (after the cross-check with the examples).
    pub method: Method,
    /// The spec file's text.
    pub toml: String,
    /// The spec, parsed and validated.
    pub spec: b24_spec::Spec,
}

impl Imported {
    /// What the importer had to guess.
    pub fn warnings(&self) -> &[Warning] {
        &self.method.warnings
    }

    /// The spec's path under a spec directory: `<namespace>/<method without namespace>.toml`.
    pub fn relative_path(&self) -> PathBuf {
        spec_path(&self.method.method)
    }
}

/// `imopenlines.dialog.get` → `imopenlines/dialog.get.toml`.
pub fn spec_path(method: &str) -> PathBuf {
    match method.split_once('.') {
        Some((ns, rest)) => Path::new(ns).join(format!("{rest}.toml")),
        None => PathBuf::from(format!("{method}.toml")),
    }
}

/// Reads a page from disk and imports it; the docs checkout is found from the page's path.
pub fn import_file(page: &Path) -> Result<Imported, ImportError> {
    let src = std::fs::read_to_string(page).map_err(|e| ImportError {
        page: page.to_path_buf(),
        line: 0,
        expected: format!("a readable file ({e})"),
    })?;
    let cx = DocsContext {
        root: docs_root_of(page),
    };
    import_page(page, &src, &cx)
}

/// Imports one page: reads it, cross-checks the result schema with the page's success
/// example (adjusting what disagrees, with a `TODO(review)` each), takes the summary and
/// descriptions from the English translation when the checkout has one beside it
/// ([`english`]), renders the spec and validates it with `b24_spec::parse_spec`. Nothing is
/// written here.
pub fn import_page(page: &Path, src: &str, cx: &DocsContext) -> Result<Imported, ImportError> {
    let imported = import_facts(page, src, cx)?;
    // The translation follows today's page; a page in the 2024 template keeps its own text.
    if imported.method.template == model::Template::Legacy2024 {
        return Ok(imported);
    }
    let Some(en_page) = english::english_page(page, cx.root.as_deref()) else {
        return Ok(imported);
    };
    let mut method = imported.method;
    let en = std::fs::read_to_string(&en_page).ok().and_then(|en_src| {
        let en_cx = DocsContext {
            root: docs_root_of(&en_page),
        };
        import::read_page(&en_page, &en_src, &en_cx).ok()
    });
    match en {
        Some(en) => {
            english::apply(&mut method, &en, &en_page);
        }
        None => {
            let message = format!(
                "the English page {} could not be read: the descriptions stay Russian",
                en_page.display()
            );
            method.todos.push(message.clone());
            method.warnings.push(Warning { line: 0, message });
        }
    }
    let toml = render::render(&method);
    let spec = b24_spec::parse_spec(page, &toml).map_err(|e| ImportError {
        page: page.to_path_buf(),
        line: 0,
        expected: format!("a page that gives a valid spec; the generated spec is invalid: {e}"),
    })?;
    Ok(Imported { method, toml, spec })
}

/// The facts of a page (names, types, codes, examples), cross-checked with its examples.
fn import_facts(page: &Path, src: &str, cx: &DocsContext) -> Result<Imported, ImportError> {
    let mut method = import::read_page(page, src, cx)?;
    let display = page.to_path_buf();
    let mut refined: Vec<(String, String)> = Vec::new();
    for _round in 0..64 {
        drop_unreachable_objects(&mut method);
        let toml = render::render(&method);
        let spec = b24_spec::parse_spec(&display, &toml).map_err(|e| ImportError {
            page: page.to_path_buf(),
            line: 0,
            expected: format!("a page that gives a valid spec; the generated spec is invalid: {e}"),
        })?;
        let mut changed = false;
        for ex in spec.examples.iter().filter(|e| e.status == 200) {
            let w = check::check_example(&spec, ex);
            // Element types of untyped arrays, from the example.
            for seen in &w.seen {
                let key = (seen.object.clone(), seen.field.clone());
                if refined.contains(&key) {
                    continue;
                }
                let Some(f) = method
                    .object_mut(&seen.object)
                    .and_then(|o| o.fields.iter_mut().find(|f| f.name == seen.field))
                else {
                    continue;
                };
                let base = f.ty.trim_end_matches(" | null");
                if base == "array" || base == "any[]" {
                    let inferred = import::infer(&seen.value);
                    if inferred.ends_with("[]") && inferred != "any[]" {
                        let m = format!(
                            "the docs type `{}` as `array`; the element type `{}` comes from the example",
                            f.name,
                            inferred.trim_end_matches("[]")
                        );
                        f.ty = if f.ty.ends_with("| null") {
                            format!("{inferred} | null")
                        } else {
                            inferred
                        };
                        f.todos.push(m.clone());
                        let line = f.line;
                        method.warnings.push(Warning { line, message: m });
                        refined.push(key);
                        changed = true;
                    }
                }
            }
            let mut fixed: Vec<(String, String)> = Vec::new();
            for m in &w.mismatches {
                let key = (
                    m.spec_key.clone(),
                    format!("{:?}", std::mem::discriminant(&m.kind)),
                );
                let key = match &m.kind {
                    MismatchKind::UnknownKey(k) => (format!("{}.{k}", key.0), key.1),
                    _ => key,
                };
                if fixed.contains(&key) {
                    continue;
                }
                fixed.push(key);
                fix(&mut method, m);
                changed = true;
            }
            if changed {
                break;
            }
        }
        if !changed {
            if untyped_arrays(&mut method) {
                let toml = render::render(&method);
                let spec = b24_spec::parse_spec(&display, &toml).map_err(|e| ImportError {
                    page: page.to_path_buf(),
                    line: 0,
                    expected: format!(
                        "a page that gives a valid spec; the generated spec is invalid: {e}"
                    ),
                })?;
                return Ok(Imported { method, toml, spec });
            }
            return Ok(Imported { method, toml, spec });
        }
    }
    Err(ImportError {
        page: page.to_path_buf(),
        line: 0,
        expected: "the result schema and the JSON example to agree after 64 adjustments".into(),
    })
}

/// Drops the objects that neither the result nor a parameter reaches (the cross-check can
/// retype a key the page described with a table), each with a warning: a spec refuses an
/// object nothing uses.
fn drop_unreachable_objects(method: &mut Method) {
    fn names_in(ty: &str) -> impl Iterator<Item = &str> {
        ty.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
    }
    let mut reached: Vec<String> = Vec::new();
    let mut todo: Vec<String> = names_in(&method.result.ty)
        .chain(method.params.iter().flat_map(|p| names_in(&p.ty)))
        .map(str::to_string)
        .collect();
    while let Some(name) = todo.pop() {
        if reached.contains(&name) {
            continue;
        }
        if let Some(o) = method.object(&name) {
            todo.extend(
                o.fields
                    .iter()
                    .flat_map(|f| names_in(&f.ty))
                    .map(str::to_string),
            );
        }
        reached.push(name);
    }
    let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut method.objects)
        .into_iter()
        .partition(|o| reached.contains(&o.name));
    method.objects = kept;
    for o in dropped {
        // Its notes go with it: every warning stays a `TODO(review)` of the file.
        let notes: Vec<&String> = o
            .todos
            .iter()
            .chain(o.fields.iter().flat_map(|f| f.todos.iter()))
            .collect();
        for n in notes {
            if let Some(at) = method.warnings.iter().position(|w| &w.message == n) {
                method.warnings.remove(at);
            }
        }
        let message = format!(
            "the table of `{}` describes a value the example shows in another shape: the table was not imported",
            o.name
        );
        method.todos.push(message.clone());
        method.warnings.push(Warning {
            line: o.line,
            message,
        });
    }
}

/// Marks the `array`s whose element type neither the docs nor the example show.
fn untyped_arrays(method: &mut Method) -> bool {
    let mut notes = Vec::new();
    for o in &mut method.objects {
        for f in &mut o.fields {
            if f.ty.trim_end_matches(" | null") == "array" {
                let m = format!(
                    "`{}.{}`: the docs say `array` without an element type and the example shows none: typed `any[]`",
                    o.name, f.name
                );
                f.todos.push(m.clone());
                notes.push(Warning {
                    line: f.line,
                    message: m,
                });
            }
        }
    }
    for p in &mut method.params {
        if p.ty.trim_end_matches(" | null") == "array" {
            let m = format!(
                "parameter `{}`: the docs say `array` without an element type: typed `any[]`",
                p.name
            );
            p.todos.push(m.clone());
            notes.push(Warning {
                line: p.line,
                message: m,
            });
        }
    }
    let any = !notes.is_empty();
    method.warnings.extend(notes);
    any
}

/// Makes the schema accept what the example shows, and says so: each case changes the
/// schema and returns the warning, which also goes into the changed item's TODOs.
fn fix(method: &mut Method, m: &check::Mismatch) {
    let example_line = method
        .examples
        .iter()
        .find(|e| e.status == 200)
        .map_or(0, |e| e.line);
    let message = match (&m.kind, &m.object, &m.field) {
        (MismatchKind::UnknownKey(k), Some(o), _) => {
            let ty = example_type(&m.value);
            let msg = format!(
                "`{}` has key `{k}` in the example (`{}`) but not in the docs table: typed `{ty}` from the example",
                o, m.path
            );
            if let Some(obj) = method.object_mut(o) {
                obj.fields.push(model::Field {
                    name: k.clone(),
                    ty,
                    ty_guessed: true,
                    optional: true,
                    description: "TODO: only in the docs' example.".into(),
                    todos: vec![msg.clone()],
                    line: example_line,
                });
            }
            msg
        }
        (MismatchKind::MissingKey(k), Some(o), _) => {
            let msg = format!(
                "`{o}.{k}` is documented but absent from the example at `{}`: marked optional",
                m.path
            );
            if let Some(f) = method.field_mut(o, k) {
                f.optional = true;
                f.todos.push(msg.clone());
            }
            msg
        }
        (MismatchKind::WrongType { expected, message }, Some(o), Some(field)) => {
            let excerpt = excerpt(&m.value);
            let msg = format!(
                "the docs type `{o}.{field}` as `{expected}`, but the example has {excerpt} at `{}` ({message}): typed `any`",
                m.path
            );
            if let Some(f) = method.field_mut(o, field) {
                f.ty = "any".into();
                f.ty_guessed = true;
                f.todos.push(msg.clone());
            }
            msg
        }
        (MismatchKind::WrongType { expected, .. }, None, _) => {
            let ty = example_type(&m.value);
            let msg = format!(
                "the docs type `result` as `{expected}`, but the example has {}: typed `{ty}`",
                excerpt(&m.value)
            );
            method.result.ty = ty;
            method.result.ty_guessed = true;
            method.result.todos.push(msg.clone());
            msg
        }
        _ => {
            // No `result` in a success example, or an unplaceable mismatch: keep the
            // example out of the cross-check by turning the schema to `any`.
            let msg =
                format!("the success example does not fit the schema: {m}; result typed `any`");
            method.result.ty = "any".into();
            method.result.todos.push(msg.clone());
            method.examples.retain(|e| {
                !(e.status == 200
                    && e.body.get("result").is_none()
                    && e.body.get("error").is_none())
            });
            msg
        }
    };
    method.warnings.push(Warning {
        line: example_line,
        message,
    });
}

/// The type an example value shows (`null` says nothing: `any`).
fn example_type(v: &Value) -> String {
    match v {
        Value::Null => "any".to_string(),
        v => import::infer(v),
    }
}

fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("`{}…`", s.chars().take(40).collect::<String>())
    } else {
        format!("`{s}`")
    }
}
