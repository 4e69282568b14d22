//! How a spec's types are held in Rust and read from the wire: the one answer that code
//! generation, `xtask check`, the importer and the local portal share.
//!
//! * A key of an object has a [`FieldShape`]: containers default to empty, an optional or
//!   nullable key is an `Option`, any other key is required ([`field_shape`], [`field_type`],
//!   [`is_required`]).
//! * A `T | null` value is "none" for `null` and, depending on `T`, for `""`, `[]` and `false`
//!   ([`empty_string_is_null`], [`empty_array_is_null`], [`false_is_null`]); these mirror the
//!   constants of `b24_core::Lenient` for the Rust type of `T`, which the generated code and
//!   `b24-core` implement.
//! * A request parameter is a required argument, an optional setter or a member of a one-of
//!   choice ([`param_shape`]); its value is sent as [`param_type`], never as `null`.
//! * A value of a scalar type is what `b24-core`'s lenient decoder of the scalar's Rust type
//!   accepts ([`check_scalar`]): `xtask check` holds the docs' answers to it and the local
//!   portal the parameters it is sent.

use crate::model::{Field, Object, OneOf, Param, Spec};
use crate::types::{Scalar, TypeExpr};

/// The type without its outer `| null`.
pub fn strip_null(ty: &TypeExpr) -> &TypeExpr {
    match ty {
        TypeExpr::Nullable(inner) => inner,
        other => other,
    }
}

/// Whether a value of this type (without `| null`) has an empty default that an absent key
/// takes: arrays, maps, `object`, `any` and `file`.
pub fn is_defaultable(ty: &TypeExpr) -> bool {
    matches!(
        ty,
        TypeExpr::Array(_)
            | TypeExpr::Map(_)
            | TypeExpr::Scalar(Scalar::Object | Scalar::Any | Scalar::File)
    )
}

/// How a key of an object is held in its generated struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldShape {
    /// The type itself; an absent key is a decode error naming it.
    Required,
    /// `Option` of the type without `| null`; absent, `null` and the type's other "none"
    /// values are `None`.
    Optional,
    /// A container (or `any`) without `Option`; an absent key is empty.
    Default,
}

/// The shape of a key of type `ty` (`optional`: the spec says it may be absent).
pub fn field_shape(ty: &TypeExpr, optional: bool) -> FieldShape {
    if is_defaultable(strip_null(ty)) {
        FieldShape::Default
    } else if optional || ty.is_nullable() {
        FieldShape::Optional
    } else {
        FieldShape::Required
    }
}

/// The type a key is decoded as, in spec terms: a container without `| null`
/// ([`FieldShape::Default`]), `T | null` for an optional or nullable key, else the type.
pub fn field_type(f: &Field) -> TypeExpr {
    let base = strip_null(&f.ty).clone();
    match field_shape(&f.ty, f.optional) {
        FieldShape::Default => base,
        FieldShape::Optional => TypeExpr::Nullable(Box::new(base)),
        FieldShape::Required => f.ty.clone(),
    }
}

/// Whether the generated decoder fails when the key is absent.
pub fn is_required(f: &Field) -> bool {
    field_shape(&f.ty, f.optional) == FieldShape::Required
}

/// `b24_core::Lenient::EMPTY_STRING_IS_NULL` of the Rust type of `ty`: whether `""` is
/// "none" where `ty | null` is expected. True for numbers, booleans, dates and times,
/// `object`, arrays, maps and every generated type; false for text, `any`, `file` (`""` is a
/// value) and for a type that is itself `| null`.
pub fn empty_string_is_null(ty: &TypeExpr) -> bool {
    match ty {
        TypeExpr::Scalar(s) => !matches!(
            s,
            Scalar::String | Scalar::Text | Scalar::Char | Scalar::File | Scalar::Any
        ),
        TypeExpr::Named(_) | TypeExpr::Array(_) | TypeExpr::Map(_) => true,
        TypeExpr::Nullable(_) => false,
    }
}

/// `b24_core::Lenient::EMPTY_ARRAY_IS_NULL` of the Rust type of `ty`: whether `[]` (PHP's
/// empty array) is "none" where `ty | null` is expected. True for `object` and for the named
/// objects of the file (`objects`); false for everything else, enums included.
pub fn empty_array_is_null(ty: &TypeExpr, objects: &[Object]) -> bool {
    match ty {
        TypeExpr::Scalar(Scalar::Object) => true,
        TypeExpr::Named(n) => objects.iter().any(|o| &o.name == n),
        _ => false,
    }
}

/// `b24_core::Lenient::FALSE_IS_NULL` of the Rust type of `ty`: whether PHP's `false` is
/// "none" where `ty | null` is expected. True but for `boolean` (it is a value) and `any` and
/// `file` (which keep any value).
pub fn false_is_null(ty: &TypeExpr) -> bool {
    !matches!(
        ty,
        TypeExpr::Scalar(Scalar::Boolean | Scalar::Any | Scalar::File)
    )
}

/// Whether `v` is "none" for a value of type `inner | null`: `null`, and `""`, `[]` or
/// `false` where the three functions above say so. (A non-empty array where `[]` would be
/// none is not none: it fails to decode.)
pub fn is_none_value(inner: &TypeExpr, v: &serde_json::Value, objects: &[Object]) -> bool {
    use serde_json::Value;
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty() && empty_string_is_null(inner),
        Value::Bool(false) => false_is_null(inner),
        Value::Array(items) => items.is_empty() && empty_array_is_null(inner, objects),
        _ => false,
    }
}

/// How a request parameter is held by the generated `Request`.
#[derive(Debug, Clone, Copy)]
pub enum ParamShape<'s> {
    /// An argument of `Request::new`; always sent.
    Required,
    /// `Option`, set with a setter; sent when set.
    Optional,
    /// A variant of its group's choice, an argument of `Request::new`; exactly one member of
    /// the group is sent.
    OneOf(&'s OneOf),
}

/// The shape of parameter `p` of `spec`.
pub fn param_shape<'s>(spec: &'s Spec, p: &Param) -> ParamShape<'s> {
    match spec.group_of(&p.name) {
        Some(g) => ParamShape::OneOf(g),
        None if p.required => ParamShape::Required,
        None => ParamShape::Optional,
    }
}

/// The type of the value sent for a parameter: its type without `| null` (the client never
/// sends `null`; a parameter it has no value for is not sent).
pub fn param_type(p: &Param) -> &TypeExpr {
    strip_null(&p.ty)
}

/// Whether `v` is a value of the scalar type `s` on the wire, either way: `b24-core`'s lenient
/// decoder of the scalar's Rust type (the type the generated code uses, `spec/README.md`'s
/// table) accepts it. Numbers are accepted as numeric strings (trimmed), booleans as
/// `Y`/`N`, `1`/`0` or `true`/`false` (`""` is false), text as strings or numbers, an
/// `object` as a map, an array, `null`, `""` or `false`; `file` and `any` accept anything.
/// `Err` carries the decoder's message (it quotes the value).
pub fn check_scalar(s: Scalar, v: &serde_json::Value) -> Result<(), String> {
    use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
    use serde_json::{Map, Value};
    match s {
        Scalar::Integer => decode::<i64>(v),
        Scalar::Double => decode::<f64>(v),
        Scalar::String | Scalar::Text | Scalar::Char => decode::<String>(v),
        Scalar::Boolean => decode::<bool>(v),
        Scalar::Date => decode::<NaiveDate>(v),
        Scalar::Datetime => decode::<DateTime<FixedOffset>>(v),
        Scalar::Timestamp => decode::<DateTime<Utc>>(v),
        Scalar::Object => decode::<Map<String, Value>>(v),
        Scalar::File | Scalar::Any => Ok(()),
    }
}

/// What a value of the scalar type `s` is, for a message that must not quote the decoder
/// (`expected {}, got ...`).
pub fn scalar_expected(s: Scalar) -> &'static str {
    match s {
        Scalar::Integer | Scalar::Timestamp => "an integer",
        Scalar::Double => "a number",
        Scalar::String | Scalar::Text | Scalar::Char => "a string",
        Scalar::Boolean => "Y/N, 1/0 or true/false",
        Scalar::Date => "a date YYYY-MM-DD",
        Scalar::Datetime => "a datetime",
        Scalar::Object => "an object",
        Scalar::File | Scalar::Any => "any value",
    }
}

/// Decodes `v` as a lenient `T`, keeping only whether it worked.
fn decode<T: b24_core::Lenient>(v: &serde_json::Value) -> Result<(), String> {
    b24_core::lenient::deserialize::<T, _>(v)
        .map(drop)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ty(s: &str) -> TypeExpr {
        TypeExpr::parse(s).unwrap()
    }

    fn field(t: &str, optional: bool) -> Field {
        Field {
            name: "k".into(),
            ty: ty(t),
            description: String::new(),
            optional,
            aliases: Vec::new(),
            note: None,
            location: Default::default(),
        }
    }

    fn object(name: &str) -> Object {
        Object {
            name: name.into(),
            description: String::new(),
            fields: Vec::new(),
            untyped_keys: Vec::new(),
            location: Default::default(),
        }
    }

    #[test]
    fn containers_default_nullable_or_optional_keys_are_options_the_rest_is_required() {
        for t in [
            "integer[]",
            "map<string>",
            "object",
            "any",
            "file",
            "Item[] | null",
        ] {
            assert_eq!(field_shape(&ty(t), false), FieldShape::Default, "{t}");
            assert_eq!(field_shape(&ty(t), true), FieldShape::Default, "{t}");
            assert!(!is_required(&field(t, false)), "{t}");
        }
        assert_eq!(field_shape(&ty("integer"), false), FieldShape::Required);
        assert_eq!(field_shape(&ty("integer"), true), FieldShape::Optional);
        assert_eq!(field_shape(&ty("Item | null"), false), FieldShape::Optional);
        assert!(is_required(&field("date", false)));
        assert!(!is_required(&field("date", true)));
        assert!(!is_required(&field("date | null", false)));
    }

    #[test]
    fn field_types_follow_the_shapes() {
        let cases = [
            ("integer", false, "integer"),
            ("integer", true, "integer | null"),
            ("string | null", false, "string | null"),
            ("string | null", true, "string | null"),
            ("integer[] | null", false, "integer[]"),
            ("map<Item> | null", true, "map<Item>"),
            ("any | null", false, "any"),
        ];
        for (t, optional, expected) in cases {
            assert_eq!(field_type(&field(t, optional)).to_string(), expected, "{t}");
        }
    }

    #[test]
    fn none_values_mirror_b24_core_lenient() {
        let objects = [object("Item")];
        // `""`: none for everything but text, `any`, `file`.
        for t in [
            "integer",
            "double",
            "boolean",
            "date",
            "datetime",
            "timestamp",
            "object",
        ] {
            assert!(empty_string_is_null(&ty(t)), "{t}");
        }
        for t in ["Item", "Role", "integer[]", "map<string>"] {
            assert!(empty_string_is_null(&ty(t)), "{t}");
        }
        for t in ["string", "text", "char", "any", "file", "integer | null"] {
            assert!(!empty_string_is_null(&ty(t)), "{t}");
        }
        // `[]`: none for objects only.
        assert!(empty_array_is_null(&ty("object"), &objects));
        assert!(empty_array_is_null(&ty("Item"), &objects));
        for t in ["Role", "integer[]", "string", "map<string>", "any"] {
            assert!(!empty_array_is_null(&ty(t), &objects), "{t}");
        }
        // `false`: none but for booleans, `any` and `file`.
        for t in ["integer", "string", "date", "Item", "integer[]", "object"] {
            assert!(false_is_null(&ty(t)), "{t}");
        }
        for t in ["boolean", "any", "file"] {
            assert!(!false_is_null(&ty(t)), "{t}");
        }
        assert!(is_none_value(&ty("string"), &json!(null), &objects));
        assert!(!is_none_value(&ty("string"), &json!(""), &objects));
        assert!(is_none_value(&ty("integer"), &json!(""), &objects));
        assert!(is_none_value(&ty("Item"), &json!([]), &objects));
        assert!(!is_none_value(&ty("Item"), &json!([1]), &objects));
        assert!(!is_none_value(&ty("Role"), &json!([]), &objects));
        assert!(is_none_value(&ty("date"), &json!(false), &objects));
        assert!(!is_none_value(&ty("boolean"), &json!(false), &objects));
        assert!(!is_none_value(&ty("integer"), &json!(0), &objects));
    }

    /// The awkward inputs, in the order of the rows of the table below.
    fn awkward() -> [serde_json::Value; 10] {
        [
            json!("Y"),
            json!("1"),
            json!(1),
            json!(" 12"),
            json!(""),
            json!(null),
            json!([]),
            json!({}),
            json!({"a": 1}),
            json!(true),
        ]
    }

    #[test]
    fn scalars_accept_what_b24_core_decodes_on_awkward_inputs() {
        // One row per scalar: accepted (1) or refused (0) for
        //   "Y"  "1"  1  " 12"  ""  null  []  {}  {"a":1}  true
        let table: [(&str, [u8; 10]); 12] = [
            ("integer", [0, 1, 1, 1, 0, 0, 0, 0, 0, 0]),
            ("double", [0, 1, 1, 1, 0, 0, 0, 0, 0, 0]),
            ("string", [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]),
            ("text", [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]),
            ("char", [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]),
            ("boolean", [1, 1, 1, 0, 1, 0, 0, 0, 0, 1]),
            ("date", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("datetime", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            ("timestamp", [0, 1, 1, 1, 0, 0, 0, 0, 0, 0]),
            ("object", [0, 0, 0, 0, 1, 1, 1, 1, 1, 0]),
            ("file", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
            ("any", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        ];
        for (name, row) in table {
            let TypeExpr::Scalar(s) = ty(name) else {
                unreachable!("{name} is a scalar")
            };
            for (v, accepted) in awkward().iter().zip(row) {
                let got = check_scalar(s, v);
                assert_eq!(got.is_ok(), accepted == 1, "{name} of {v}: {got:?}");
            }
        }
        assert_eq!(table.len(), Scalar::ALL.len(), "every scalar has a row");
    }

    #[test]
    fn scalars_accept_their_documented_forms_and_refuse_near_misses() {
        let yes = [
            ("integer", json!("-7")),
            ("double", json!("1.5")),
            ("double", json!(2.5)),
            ("boolean", json!("n")),
            ("boolean", json!(0)),
            ("boolean", json!(false)),
            ("date", json!("2026-03-13")),
            ("date", json!(" 2026-03-13 ")),
            ("datetime", json!("2026-03-13T16:50:15+03:00")),
            ("timestamp", json!(1_773_409_815)),
            ("object", json!(false)),
            ("object", json!([1, 2])),
        ];
        for (name, v) in yes {
            let TypeExpr::Scalar(s) = ty(name) else {
                unreachable!("{name} is a scalar")
            };
            assert_eq!(check_scalar(s, &v), Ok(()), "{name} of {v}");
        }
        let no = [
            ("integer", json!("12abc")),
            ("integer", json!(1.5)),
            ("integer", json!(u64::MAX)),
            ("double", json!("NaN")),
            ("boolean", json!(2)),
            ("boolean", json!("yes")),
            ("string", json!(false)),
            ("date", json!("13.03.2026")),
            ("datetime", json!("2026-03-13 16:50:15")),
            ("object", json!(true)),
            ("object", json!("x")),
        ];
        for (name, v) in no {
            let TypeExpr::Scalar(s) = ty(name) else {
                unreachable!("{name} is a scalar")
            };
            let e = check_scalar(s, &v).expect_err(&format!("{name} of {v}"));
            assert!(!e.is_empty());
            assert!(!scalar_expected(s).is_empty());
        }
    }

    #[test]
    fn parameters_are_required_optional_or_one_of_a_choice() {
        let src = r#"
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
name = "LIMIT"
type = "integer | null"
description = "l"

[[params]]
name = "CHAT_ID"
type = "integer"
description = "c"

[[params]]
name = "USER_CODE"
type = "string"
description = "u"

[[one_of]]
name = "target"
params = ["CHAT_ID", "USER_CODE"]
description = "t"

[result]
type = "boolean"
description = "r"
"#;
        let spec = crate::parse_spec(std::path::Path::new("t.toml"), src).unwrap();
        let shapes: Vec<ParamShape<'_>> =
            spec.params.iter().map(|p| param_shape(&spec, p)).collect();
        assert!(matches!(shapes[0], ParamShape::Required));
        assert!(matches!(shapes[1], ParamShape::Optional));
        assert!(matches!(shapes[2], ParamShape::OneOf(g) if g.name == "target"));
        assert!(matches!(shapes[3], ParamShape::OneOf(g) if g.name == "target"));
        assert_eq!(param_type(&spec.params[1]).to_string(), "integer");
        assert_eq!(param_type(&spec.params[3]).to_string(), "string");
    }
}
