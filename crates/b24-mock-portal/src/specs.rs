//! The methods the portal serves: the spec files (embedded at build time or read from a
//! folder) and parameter validation against them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use b24_spec::{wire, EventSpec, Scalar, Spec, TypeExpr};
use serde_json::{Map, Value};

use crate::params::{get_ci, php_items};

include!(concat!(env!("OUT_DIR"), "/embedded_specs.rs"));

/// The spec files compiled into this crate: (path under `spec/`, contents).
pub fn embedded_spec_files() -> &'static [(&'static str, &'static str)] {
    EMBEDDED_SPECS
}

/// Specs by lower-case method name, and the event specs.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpecSet {
    by_name: HashMap<String, Arc<Spec>>,
    events: Vec<Arc<EventSpec>>,
}

impl SpecSet {
    pub(crate) fn embedded() -> Result<SpecSet, b24_spec::SpecError> {
        let mut family = b24_spec::Family::default();
        for (path, src) in EMBEDDED_SPECS {
            let display = Path::new("spec").join(path);
            family.add(b24_spec::parse_file(&display, src)?)?;
        }
        Ok(SpecSet::from_family(family))
    }

    pub(crate) fn from_dir(dir: &Path) -> Result<SpecSet, b24_spec::SpecError> {
        Ok(SpecSet::from_family(b24_spec::load_family(dir, dir)?))
    }

    fn from_family(family: b24_spec::Family) -> SpecSet {
        SpecSet {
            by_name: family
                .methods
                .into_iter()
                .map(|s| (s.method.to_ascii_lowercase(), Arc::new(s)))
                .collect(),
            events: family.events.into_iter().map(Arc::new).collect(),
        }
    }

    /// Names of the event specs, as the docs spell them, sorted.
    pub(crate) fn event_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.events.iter().map(|e| e.event.clone()).collect();
        v.sort();
        v
    }

    /// The event spec named `name` (any case).
    pub(crate) fn event(&self, name: &str) -> Option<&Arc<EventSpec>> {
        self.events
            .iter()
            .find(|e| e.event.eq_ignore_ascii_case(name))
    }

    pub(crate) fn get(&self, method: &str) -> Option<&Arc<Spec>> {
        self.by_name.get(method)
    }

    pub(crate) fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.by_name.values().map(|s| s.method.clone()).collect();
        v.sort();
        v
    }
}

/// The `result` of the spec's first documented success (status 200 with a `result` key).
pub(crate) fn example_result(spec: &Spec) -> Option<&Value> {
    spec.examples
        .iter()
        .filter(|e| e.status == 200)
        .find_map(|e| e.body.get("result"))
}

/// The spec's example `result`, else the empty value of its result type.
pub(crate) fn example_or_default(spec: &Spec) -> Value {
    example_result(spec)
        .cloned()
        .unwrap_or_else(|| default_result(&spec.result.ty))
}

/// A plausible `result` when the spec documents no success: the type's empty value.
pub(crate) fn default_result(ty: &TypeExpr) -> Value {
    match ty {
        TypeExpr::Scalar(Scalar::Boolean) => Value::Bool(true),
        TypeExpr::Scalar(Scalar::Integer | Scalar::Timestamp) => Value::from(1),
        TypeExpr::Scalar(Scalar::Double) => Value::from(1.0),
        TypeExpr::Scalar(Scalar::String | Scalar::Text | Scalar::Char) => Value::from(""),
        TypeExpr::Nullable(_) => Value::Null,
        _ => Value::Array(Vec::new()),
    }
}

/// Checks the parameters against the spec: required ones present (b24-spec's
/// [`wire::param_shape`]), one-of groups satisfied, every declared parameter of the right
/// type. Unknown parameters are ignored.
pub(crate) fn validate(spec: &Spec, params: &Map<String, Value>) -> Result<(), String> {
    for p in &spec.params {
        match get_ci(params, &p.name) {
            // A member of a one-of group is checked with its group below.
            None if matches!(wire::param_shape(spec, p), wire::ParamShape::Required) => {
                return Err(format!("Required parameter '{}' is missing", p.name))
            }
            None => {}
            Some(v) => check_type(spec, &p.ty, v)
                .map_err(|why| format!("Parameter '{}' is invalid: {why}", p.name))?,
        }
    }
    for group in &spec.one_of {
        if !group.params.iter().any(|p| get_ci(params, p).is_some()) {
            return Err(format!("One of {} is required", group.params.join(", ")));
        }
    }
    Ok(())
}

/// Whether `v` is a valid request value of type `ty`: containers and named types walked
/// here, each scalar as b24-spec's [`wire::check_scalar`] says.
pub(crate) fn check_type(spec: &Spec, ty: &TypeExpr, v: &Value) -> Result<(), String> {
    let bad = |what: &str| {
        Err(format!(
            "expected {what}, got {}",
            crate::params::quote_value(v)
        ))
    };
    match ty {
        // `null`, and `""`, `[]` or `false` where b24-spec's wire rules make them "none"
        // for the inner type (what the client decodes as no value).
        TypeExpr::Nullable(inner) => {
            if wire::is_none_value(inner, v, &spec.objects) {
                Ok(())
            } else {
                check_type(spec, inner, v)
            }
        }
        TypeExpr::Array(inner) => match php_items(v) {
            Some(items) => items
                .into_iter()
                .try_for_each(|(_, item)| check_type(spec, inner, item)),
            None => bad("an array"),
        },
        TypeExpr::Map(inner) => match v {
            Value::Object(o) => o
                .values()
                .try_for_each(|item| check_type(spec, inner, item)),
            Value::Array(a) if a.is_empty() => Ok(()),
            _ => bad("an object"),
        },
        TypeExpr::Named(name) => {
            if let Some(e) = spec.enum_def(name) {
                let text = crate::params::as_text(v).unwrap_or_default();
                if e.values.iter().any(|x| x.value == text) {
                    Ok(())
                } else {
                    bad(&format!(
                        "one of {:?}",
                        e.values.iter().map(|x| &x.value).collect::<Vec<_>>()
                    ))
                }
            } else if let Some(o) = spec.object(name) {
                let Value::Object(map) = v else {
                    return bad("an object");
                };
                for f in &o.fields {
                    if let Some(fv) = get_ci(map, &f.name) {
                        check_type(spec, &f.ty, fv).map_err(|w| format!("{}: {w}", f.name))?;
                    }
                }
                Ok(())
            } else {
                Ok(())
            }
        }
        // What b24-spec's wire rules say a value of the scalar is (b24-core's decoders).
        TypeExpr::Scalar(s) => match wire::check_scalar(*s, v) {
            Ok(()) => Ok(()),
            Err(_) => bad(wire::scalar_expected(*s)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SRC: &str = r#"
method = "imopenlines.test.get"
scope = "imopenlines"
summary = "s"
docs = "https://example.invalid"
kind = "read"

[[params]]
name = "ID"
type = "integer"
required = true
description = "i"

[[params]]
name = "AVATAR_ID"
type = "integer | null"
description = "a"

[[params]]
name = "FLAG"
type = "boolean | null"
description = "f"

[result]
type = "boolean"
description = "r"
"#;

    fn check(params: Value) -> Result<(), String> {
        let spec = b24_spec::parse_spec(Path::new("t.toml"), SRC).unwrap();
        let Value::Object(params) = params else {
            unreachable!()
        };
        validate(&spec, &params)
    }

    #[test]
    fn none_values_of_a_nullable_parameter_follow_b24_spec_wire() {
        assert_eq!(check(json!({"ID": 1})), Ok(()));
        assert!(check(json!({})).is_err_and(|m| m.contains("'ID' is missing")));
        // "" and false are "none" for `integer | null`; "abc" is not an integer.
        assert_eq!(check(json!({"ID": 1, "AVATAR_ID": ""})), Ok(()));
        assert_eq!(check(json!({"ID": 1, "AVATAR_ID": false})), Ok(()));
        assert_eq!(check(json!({"ID": 1, "AVATAR_ID": null})), Ok(()));
        assert!(check(json!({"ID": 1, "AVATAR_ID": "abc"})).is_err());
        // `false` is a value of `boolean | null`, `[]` is none of neither.
        assert_eq!(check(json!({"ID": 1, "FLAG": false})), Ok(()));
        assert!(check(json!({"ID": 1, "FLAG": []})).is_err());
    }

    #[test]
    fn scalars_are_checked_by_b24_spec_wire() {
        // b24-core's lenient decoders decide: numeric strings and Y/N pass.
        assert_eq!(check(json!({"ID": " 12", "FLAG": "Y"})), Ok(()));
        assert_eq!(check(json!({"ID": "+7", "FLAG": 0})), Ok(()));
        let e = check(json!({"ID": "12abc"})).unwrap_err();
        assert_eq!(
            e,
            r#"Parameter 'ID' is invalid: expected an integer, got "12abc""#
        );
        let e = check(json!({"ID": 1, "FLAG": "yes"})).unwrap_err();
        assert_eq!(
            e,
            r#"Parameter 'FLAG' is invalid: expected Y/N, 1/0 or true/false, got "yes""#
        );
    }
}
