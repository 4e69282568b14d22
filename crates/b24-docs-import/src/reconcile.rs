//! The cross-check of a page's spec with the page's own success examples: each example is
//! walked once against the spec's types (the walk of [`crate::check`]), and where they
//! disagree the spec follows the example, with a `TODO(review)` note each:
//!
//! * a key the example has and the table lacks is added, typed from the example, optional;
//! * a documented key the example lacks is marked optional;
//! * a key whose value does not decode as documented is typed `any` (the result is typed from
//!   the example instead);
//! * a bare `array` (`any[]`) takes the element type of the first value that shows one; the
//!   values met before it are walked again against the new type;
//! * an example without `result` is left out and the result typed `any`.
//!
//! The walk reads each key's type when it reaches the key, so what it changed holds for the
//! rest of the walk and for the next examples. Then the objects nothing reaches any more are
//! dropped and the bare `array`s nothing refined are noted. A last check of every example
//! against the final spec makes sure they all decode (else the page is refused).

use std::collections::{BTreeMap, BTreeSet};

use b24_spec::wire::{field_type, strip_null};
use b24_spec::{EnumDef, Field, Object, Scalar, Spec, TypeExpr};
use serde_json::Value;

use crate::check::{self, walk_body, walk_value, Ctx, Flow, Mismatch, MismatchKind, Visit};
use crate::import::{field, infer};
use crate::notes::{Notes, Target};

/// Makes `spec` accept its success examples (status 200), noting each change in `notes`.
/// `Err` says what the examples show that no adjustment of the spec describes.
pub(crate) fn reconcile(spec: &mut Spec, notes: &mut Notes) -> Result<(), String> {
    drop_unreachable_objects(spec, notes);
    let examples: Vec<(String, Value)> = spec
        .examples
        .iter()
        .filter(|e| e.status == 200)
        .map(|e| (e.name.clone(), e.body.clone()))
        .collect();
    let mut r = Reconciler {
        spec,
        notes,
        result: Value::Null,
        seen: BTreeMap::new(),
        refined: BTreeSet::new(),
        again: false,
        failure: None,
    };
    for (name, body) in &examples {
        // An earlier adjustment may have left it out.
        if !r.spec.examples.iter().any(|e| &e.name == name) {
            continue;
        }
        r.result = body.get("result").cloned().unwrap_or(Value::Null);
        let root = r.spec.result.ty.clone();
        walk_body(&mut r, &root, body);
        if let Some(f) = r.failure.take() {
            return Err(f);
        }
    }
    drop_unreachable_objects(spec, notes);
    untyped_arrays(spec, notes);
    for x in spec.examples.iter().filter(|e| e.status == 200) {
        if let Some(m) = check::check_example(spec, x).mismatches.first() {
            return Err(format!(
                "its success examples to fit one schema; `{}` still does not after the adjustments: {m}",
                x.name
            ));
        }
    }
    Ok(())
}

/// The walk's visitor: it changes the spec where an example disagrees.
struct Reconciler<'s> {
    spec: &'s mut Spec,
    notes: &'s mut Notes,
    /// The `result` of the example being walked.
    result: Value,
    /// The values met under each key (object, key), with their paths.
    seen: BTreeMap<(String, String), Vec<(String, Value)>>,
    /// Keys whose `array` took an element type from an example.
    refined: BTreeSet<(String, String)>,
    /// Whether values met before are being walked again (they are not recorded twice).
    again: bool,
    /// What makes the page unusable.
    failure: Option<String>,
}

impl Visit for Reconciler<'_> {
    fn objects(&self) -> &[Object] {
        &self.spec.objects
    }

    fn enums(&self) -> &[EnumDef] {
        &self.spec.enums
    }

    fn mismatch(&mut self, m: Mismatch) -> Flow {
        self.adjust(&m)
    }

    fn key_value(&mut self, object: &str, key: &str, path: &str, value: &Value) {
        let at = (object.to_string(), key.to_string());
        if !self.again {
            self.seen
                .entry(at.clone())
                .or_default()
                .push((path.to_string(), value.clone()));
        }
        self.refine(at, value);
    }
}

impl Reconciler<'_> {
    fn field_mut(&mut self, object: &str, key: &str) -> Option<&mut Field> {
        self.spec
            .objects
            .iter_mut()
            .find(|o| o.name == object)?
            .fields
            .iter_mut()
            .find(|f| f.name == key)
    }

    /// The page line of the first success example.
    fn example_line(&self) -> usize {
        self.spec
            .examples
            .iter()
            .find(|e| e.status == 200)
            .map_or(0, |e| self.notes.line(&Target::Example(e.name.clone())))
    }

    /// A bare `array` takes the element type of the first value that shows one; the values
    /// met before, walked against `any[]`, are walked again against the new type.
    fn refine(&mut self, at: (String, String), value: &Value) {
        if self.refined.contains(&at) {
            return;
        }
        let (object, key) = (&at.0, &at.1);
        let Some(f) = self.field_mut(object, key) else {
            return;
        };
        let any = TypeExpr::Scalar(Scalar::Any);
        if *strip_null(&f.ty) != TypeExpr::array_of(any.clone()) {
            return;
        }
        let inferred = infer(value);
        let element = match &inferred {
            TypeExpr::Array(e) if **e != any => e.to_string(),
            _ => return,
        };
        f.ty = if f.ty.is_nullable() {
            inferred.or_null()
        } else {
            inferred
        };
        let message = format!(
            "the docs type `{}` as `array`; the element type `{element}` comes from the example",
            f.name
        );
        let ty = field_type(f);
        let target = Target::field(object, key);
        let line = self.notes.line(&target);
        self.notes.note(target.clone(), line, message);
        self.notes.set_untyped_array(target, false);
        self.refined.insert(at.clone());
        let earlier = self.seen.get(&at).cloned().unwrap_or_default();
        let ctx = Ctx::field(object, key);
        let again = std::mem::replace(&mut self.again, true);
        for (path, v) in earlier.iter().filter(|(_, v)| v != value) {
            if walk_value(self, v, &ty, path.clone(), &ctx) == Flow::Skip {
                break;
            }
        }
        self.again = again;
    }

    /// Whether `result` is typed as a named object and the example's `result` is a non-empty
    /// list of objects.
    fn result_is_a_list_of_its_object(&self) -> bool {
        let TypeExpr::Named(n) = &self.spec.result.ty else {
            return false;
        };
        let is_object = self.spec.objects.iter().any(|o| &o.name == n);
        let items = self.result.as_array();
        is_object && items.is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_object))
    }

    /// Makes the spec accept what the example shows, and notes it on the changed item.
    fn adjust(&mut self, m: &Mismatch) -> Flow {
        let line = self.example_line();
        match (&m.kind, &m.object, &m.field) {
            (MismatchKind::UnknownKey(k), Some(o), _) => {
                let ty = example_type(&m.value);
                let message = format!(
                    "`{o}` has key `{k}` in the example (`{}`) but not in the docs table: typed `{ty}` from the example",
                    m.path
                );
                let Some(object) = self.spec.objects.iter_mut().find(|x| &x.name == o) else {
                    return Flow::Continue;
                };
                let description = "TODO: only in the docs' example.".to_string();
                object.fields.push(field(k, ty, true, description));
                let target = Target::field(o, k);
                self.notes.note(target.clone(), line, message);
                self.notes.set_line(target.clone(), line);
                self.notes.set_ty_guessed(target, true);
                Flow::Continue
            }
            (MismatchKind::MissingKey(k), Some(o), _) => {
                let message = format!(
                    "`{o}.{k}` is documented but absent from the example at `{}`: marked optional",
                    m.path
                );
                if let Some(f) = self.field_mut(o, k) {
                    f.optional = true;
                    self.notes.note(Target::field(o, k), line, message);
                }
                Flow::Continue
            }
            (MismatchKind::WrongType { expected, .. }, Some(o), Some(key)) if m.value.is_null() => {
                // `null` where the docs give a type: the type stays, it may be null.
                let Some(f) = self.field_mut(o, key) else {
                    return Flow::Skip;
                };
                f.ty = f.ty.clone().or_null();
                let ty = f.ty.clone();
                let note = format!(
                    "the docs type `{o}.{key}` as `{expected}`, but the example has `null` at `{}`: typed `{ty}`",
                    m.path
                );
                self.notes.note(Target::field(o, key), line, note);
                Flow::Skip
            }
            (MismatchKind::WrongType { expected, message }, Some(o), Some(key)) => {
                let note = format!(
                    "the docs type `{o}.{key}` as `{expected}`, but the example has {} at `{}` ({message}): typed `any`",
                    excerpt(&m.value),
                    m.path
                );
                if let Some(f) = self.field_mut(o, key) {
                    f.ty = TypeExpr::Scalar(Scalar::Any);
                    let target = Target::field(o, key);
                    self.notes.note(target.clone(), line, note);
                    self.notes.set_ty_guessed(target.clone(), true);
                    self.notes.set_untyped_array(target, false);
                }
                Flow::Skip
            }
            (MismatchKind::WrongType { .. }, None, _)
                if m.spec_key == "result.type" && self.result_is_a_list_of_its_object() =>
            {
                // The page types `result` as the object its table describes, the example
                // shows a list of them: a list of that object, and the table stays.
                let ty = TypeExpr::array_of(self.spec.result.ty.clone());
                let note = format!(
                    "the docs type `result` as `{}`, but the example has a list of them: typed `{ty}`",
                    self.spec.result.ty
                );
                self.spec.result.ty = ty.clone();
                self.notes.note(Target::Result, line, note);
                let value = self.result.clone();
                walk_value(
                    self,
                    &value,
                    &ty,
                    "result".into(),
                    &Ctx::named("result.type"),
                );
                Flow::Skip
            }
            (MismatchKind::WrongType { .. }, None, _) if m.spec_key == "result.type" => {
                // The whole `result` gives the type, whichever part of it disagreed.
                let ty = example_type(&self.result);
                let note = format!(
                    "the docs type `result` as `{}`, but the example has {}: typed `{ty}`",
                    self.spec.result.ty,
                    excerpt(&self.result)
                );
                self.spec.result.ty = ty;
                self.notes.note(Target::Result, line, note);
                self.notes.set_ty_guessed(Target::Result, true);
                Flow::Skip
            }
            (MismatchKind::NoResult, _, _) => {
                // Keep the example out of the cross-check by turning the schema to `any`.
                let note =
                    format!("the success example does not fit the schema: {m}; result typed `any`");
                self.spec.result.ty = TypeExpr::Scalar(Scalar::Any);
                self.notes.note(Target::Result, line, note);
                self.spec.examples.retain(|e| {
                    !(e.status == 200
                        && e.body.get("result").is_none()
                        && e.body.get("error").is_none())
                });
                Flow::Skip
            }
            _ => {
                self.failure
                    .get_or_insert_with(|| format!("a success example the spec can describe: {m}"));
                Flow::Skip
            }
        }
    }
}

/// Drops the objects that neither the result nor a parameter reaches (the cross-check can
/// retype a key the page described with a table), each with a note: a spec refuses an object
/// nothing uses.
fn drop_unreachable_objects(spec: &mut Spec, notes: &mut Notes) {
    let mut reached: BTreeSet<String> = BTreeSet::new();
    let mut todo: Vec<String> = spec
        .result
        .ty
        .named()
        .into_iter()
        .chain(spec.params.iter().flat_map(|p| p.ty.named()))
        .map(str::to_string)
        .collect();
    while let Some(name) = todo.pop() {
        if !reached.insert(name.clone()) {
            continue;
        }
        if let Some(o) = spec.object(&name) {
            todo.extend(
                o.fields
                    .iter()
                    .flat_map(|f| f.ty.named())
                    .map(str::to_string),
            );
        }
    }
    let (kept, dropped): (Vec<_>, Vec<_>) = std::mem::take(&mut spec.objects)
        .into_iter()
        .partition(|o| reached.contains(&o.name));
    spec.objects = kept;
    for o in dropped {
        // Its notes go with it: every warning stays a `TODO(review)` of the file.
        let line = notes.line(&Target::Object(o.name.clone()));
        notes.drop_object(&o.name);
        notes.note(
            Target::Method,
            line,
            format!(
                "the table of `{}` describes a value the example shows in another shape: the table was not imported",
                o.name
            ),
        );
    }
}

/// Notes the `array`s whose element type neither the docs nor the example show.
fn untyped_arrays(spec: &Spec, notes: &mut Notes) {
    for o in &spec.objects {
        for f in &o.fields {
            let target = Target::field(&o.name, &f.name);
            if notes.is_untyped_array(&target) {
                let line = notes.line(&target);
                notes.note(
                    target,
                    line,
                    format!(
                        "`{}.{}`: the docs say `array` without an element type and the example shows none: typed `any[]`",
                        o.name, f.name
                    ),
                );
            }
        }
    }
    for p in &spec.params {
        let target = Target::Param(p.name.clone());
        if notes.is_untyped_array(&target) {
            let line = notes.line(&target);
            notes.note(
                target,
                line,
                format!(
                    "parameter `{}`: the docs say `array` without an element type: typed `any[]`",
                    p.name
                ),
            );
        }
    }
}

/// The type an example value shows (`null` says nothing: `any`).
fn example_type(v: &Value) -> TypeExpr {
    match v {
        Value::Null => TypeExpr::Scalar(Scalar::Any),
        v => infer(v),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// A spec whose result is `result_type`, with the objects `objects` (TOML) and one success
    /// example per body.
    fn spec(result_type: &str, objects: &str, bodies: &[&str]) -> Spec {
        let mut src = format!(
            "method = \"test.thing.get\"\nscope = \"test\"\nsummary = \"s\"\ndocs = \"https://example.invalid\"\nkind = \"read\"\n\n[result]\ntype = \"{result_type}\"\ndescription = \"d\"\n\n{objects}\n"
        );
        for (i, b) in bodies.iter().enumerate() {
            src.push_str(&format!(
                "\n[[examples]]\nname = \"e{i}\"\ndescription = \"d\"\nstatus = 200\nbody = '{b}'\n"
            ));
        }
        b24_spec::parse_spec(Path::new("t.toml"), &src).unwrap_or_else(|e| panic!("{e}\n{src}"))
    }

    fn field<'s>(spec: &'s Spec, object: &str, key: &str) -> &'s Field {
        spec.object(object)
            .and_then(|o| o.fields.iter().find(|f| f.name == key))
            .unwrap_or_else(|| panic!("{object}.{key}"))
    }

    const ITEM: &str = "[objects.Item]\ndescription = \"d\"\n\n[objects.Item.fields]\nid = { type = \"integer\", description = \"d\" }\ntags = { type = \"array\", description = \"d\" }\n";

    #[test]
    fn each_disagreement_is_one_change_and_one_note() {
        let mut s = spec(
            "Item[]",
            ITEM,
            &[r#"{"result": [{"id": "x", "extra": [1, 2]}, {"id": 2, "tags": [], "extra": []}]}"#],
        );
        let mut notes = Notes::default();
        reconcile(&mut s, &mut notes).unwrap_or_else(|e| panic!("{e}"));
        // `id` does not decode in the first item: `any`, and the second item's `2` is
        // not reported again.
        assert_eq!(field(&s, "Item", "id").ty.to_string(), "any");
        assert!(notes.ty_guessed(&Target::field("Item", "id")));
        // `extra` is added from the first item that has it, optional.
        let extra = field(&s, "Item", "extra");
        assert_eq!(
            (extra.ty.to_string(), extra.optional),
            ("integer[]".into(), true)
        );
        // `tags` is absent from the first item, but an array defaults to empty.
        assert!(!field(&s, "Item", "tags").optional);
        let messages: Vec<&str> = notes
            .warnings()
            .iter()
            .map(|w| w.message.as_str())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(
            messages[0].starts_with("the docs type `Item.id` as `integer`"),
            "{}",
            messages[0]
        );
        assert!(
            messages[1].starts_with("`Item` has key `extra`"),
            "{}",
            messages[1]
        );
        assert_eq!(notes.todos(&Target::field("Item", "id")).len(), 1);
    }

    #[test]
    fn a_bare_array_takes_its_element_type_and_earlier_values_are_walked_again() {
        let mut s = spec(
            "Item[]",
            ITEM,
            &[
                r#"{"result": [{"id": 1, "tags": ["a", "b"]}]}"#,
                r#"{"result": [{"id": 1, "tags": []}, {"id": 2, "tags": [3]}]}"#,
            ],
        );
        let mut notes = Notes::default();
        notes.set_untyped_array(Target::field("Item", "tags"), true);
        reconcile(&mut s, &mut notes).unwrap_or_else(|e| panic!("{e}"));
        // `string[]` from the first example, which the second one's `[3]` still fits.
        assert_eq!(field(&s, "Item", "tags").ty.to_string(), "string[]");
        assert!(!notes.is_untyped_array(&Target::field("Item", "tags")));
        assert_eq!(notes.warnings().len(), 1, "{:?}", notes.warnings());

        // Mixed first, typed later: the element type from the later value does not fit the
        // earlier one, so the key ends `any` (and every example still decodes).
        let mut s = spec(
            "Item[]",
            ITEM,
            &[r#"{"result": [{"id": 1, "tags": [1, "a"]}, {"id": 2, "tags": [1, 2]}]}"#],
        );
        let mut notes = Notes::default();
        reconcile(&mut s, &mut notes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(field(&s, "Item", "tags").ty.to_string(), "any");
        let messages: Vec<&str> = notes
            .warnings()
            .iter()
            .map(|w| w.message.as_str())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(messages[0].contains("the element type `integer` comes from the example"));
        assert!(
            messages[1].contains("at `result[0].tags[1]`"),
            "{}",
            messages[1]
        );
    }

    #[test]
    fn the_whole_result_types_a_result_that_disagrees() {
        // The docs say a map of objects; the example's values are lists of them.
        let mut s = spec(
            "map<Item>",
            ITEM,
            &[r#"{"result": {"1": [{"id": 1}], "2": []}}"#],
        );
        let mut notes = Notes::default();
        reconcile(&mut s, &mut notes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.result.ty.to_string(), "object");
        assert!(notes.ty_guessed(&Target::Result));
        assert!(s.objects.is_empty(), "`Item` is no longer reached");
        let messages: Vec<&str> = notes
            .warnings()
            .iter()
            .map(|w| w.message.as_str())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(
            messages[0]
                .starts_with("the docs type `result` as `map<Item>`, but the example has `{\"1\""),
            "{}",
            messages[0]
        );
        assert!(
            messages[1].starts_with("the table of `Item` describes"),
            "{}",
            messages[1]
        );
    }

    #[test]
    fn what_no_schema_describes_is_refused_and_a_body_without_result_left_out() {
        let mut s = spec(
            "integer",
            "",
            &[r#"{"result": 1, "time": {"start": "soon"}}"#],
        );
        let err = reconcile(&mut s, &mut Notes::default()).unwrap_err();
        assert!(err.contains("time"), "{err}");

        let mut s = spec("integer", "", &[r#"{"total": 1}"#, r#"{"result": 2}"#]);
        let mut notes = Notes::default();
        reconcile(&mut s, &mut notes).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<&str> = s.examples.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["e1"]);
        assert_eq!(s.result.ty.to_string(), "any");
        assert_eq!(notes.todos(&Target::Result).len(), 1);
    }
}
