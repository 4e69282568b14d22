//! Spec types: from a table row's docs type, from a linked object, or inferred from a JSON
//! value.

use b24_spec::wire::strip_null;
use b24_spec::{Scalar, TypeExpr};
use serde_json::Value;

use super::{tables::RowInfo, Importer};

/// A table row's type.
pub(super) struct RowType {
    pub(super) ty: TypeExpr,
    /// Not stated by the page.
    pub(super) guessed: bool,
    /// For the reviewer.
    pub(super) note: Option<String>,
    /// A bare `array`: no element type on the page.
    pub(super) untyped_array: bool,
}

impl Importer<'_> {
    /// Converts a table row's docs type into a spec type.
    pub(super) fn row_type(&mut self, row: &RowInfo, params: bool) -> RowType {
        let mut nullable =
            row.types.iter().any(|t| t == "null") || row.raw_description.contains("`null`");
        let base = docs_types(row);
        let link = self
            .find_link(row, params)
            .filter(|i| !self.resolving.contains(i));
        let any = TypeExpr::Scalar(Scalar::Any);
        // A bare `array`: the element type may come from the example.
        let untyped_array = matches!(base.as_slice(), [one] if one == "array") && link.is_none();
        let (ty, guessed, note) = match base.as_slice() {
            [] => {
                let (ty, note) = self.untyped_row(row, link);
                (ty, true, Some(note))
            }
            [one] => match self.one_type(one, link, &row.raw_description) {
                Some(t) => (t, false, None),
                None => {
                    let (ty, note) = self.not_a_spec_type(row, one, link);
                    (ty, true, Some(note))
                }
            },
            many => {
                let (ty, note) = union_type(row, many);
                (ty, true, Some(note))
            }
        };
        if ty == any {
            nullable = false;
        }
        RowType {
            ty: if nullable { ty.or_null() } else { ty },
            guessed,
            note,
            untyped_array,
        }
    }

    /// A row without a type: the object it links to, else `any`; with the note.
    fn untyped_row(&mut self, row: &RowInfo, link: Option<usize>) -> (TypeExpr, String) {
        match link {
            Some(i) => {
                let note = format!(
                    "`{}` has no type in the docs; it links to `{}`, so it is typed as that object",
                    row.name, self.raw[i].heading
                );
                (self.linked(i, false), note)
            }
            None => (
                TypeExpr::Scalar(Scalar::Any),
                format!("`{}` has no type in the docs", row.name),
            ),
        }
    }

    /// A row whose one docs type `one` is no spec type: the object it links to (an array of
    /// them for `...[]` and `array`), else `any`; with the note.
    fn not_a_spec_type(
        &mut self,
        row: &RowInfo,
        one: &str,
        link: Option<usize>,
    ) -> (TypeExpr, String) {
        match link {
            Some(i) => {
                let note = format!(
                    "the docs type `{one}` of `{}` is not a spec type; it links to `{}`, so it is typed as that object",
                    row.name, self.raw[i].heading
                );
                (self.linked(i, one.ends_with("[]") || one == "array"), note)
            }
            None if one == "enum" => {
                // The page lists the values in prose; a spec enum needs them as `values`.
                let note = format!(
                    "the docs type `{}` as `enum` and list its values in the description: typed `string`; make it `type = \"enum\"` with `values = [...]` from the list",
                    row.name
                );
                (TypeExpr::Scalar(Scalar::String), note)
            }
            None => {
                let why = if one == "unknown" {
                    " (`unknown` means untyped)"
                } else {
                    ""
                };
                let note = format!(
                    "the docs type `{one}` of `{}` is not a spec type{why}: typed `any`",
                    row.name
                );
                (TypeExpr::Scalar(Scalar::Any), note)
            }
        }
    }

    /// The spec type for a linked object: `Name`, `Name[]`, or `map<V>` for an object of
    /// `<id>` keys.
    pub(super) fn linked(&mut self, idx: usize, array: bool) -> TypeExpr {
        let wrap = |t: TypeExpr| if array { TypeExpr::array_of(t) } else { t };
        if let Some(row) = self.raw[idx].map_row().cloned() {
            let any = TypeExpr::Scalar(Scalar::Any);
            if !self.resolving.is_empty() {
                // The value of a map that is itself a map: the outer map types it `any`
                // below, so the chain (of any length on a hostile page) is not followed and
                // no object further down is named for nothing.
                return wrap(TypeExpr::map_of(any));
            }
            self.resolving.insert(idx);
            let params = self.raw[idx].params;
            let inner = self.row_type(&row, params).ty;
            self.resolving.remove(&idx);
            let inner = strip_null(&inner);
            let inner = if starts_with_map(inner) {
                any
            } else {
                inner.clone()
            };
            return wrap(TypeExpr::map_of(inner));
        }
        wrap(TypeExpr::Named(self.object_name(idx)))
    }

    fn one_type(&mut self, t: &str, link: Option<usize>, description: &str) -> Option<TypeExpr> {
        let scalar = |s: &str| -> Option<Scalar> {
            Some(match s {
                "integer" | "int" => Scalar::Integer,
                "string" => Scalar::String,
                "text" => Scalar::Text,
                "char" => Scalar::Char,
                "double" | "float" | "number" => Scalar::Double,
                "boolean" | "bool" => Scalar::Boolean,
                "date" => Scalar::Date,
                "datetime" => Scalar::Datetime,
                "timestamp" => Scalar::Timestamp,
                "file" => Scalar::File,
                "any" => Scalar::Any,
                _ => return None,
            })
        };
        if let Some(s) = scalar(t) {
            return Some(TypeExpr::Scalar(s));
        }
        let object = TypeExpr::Scalar(Scalar::Object);
        match t {
            "object" => Some(match link {
                Some(i) => {
                    let d = description.to_lowercase();
                    let keyed = d.contains("ключ объекта")
                        || d.contains("ключ —")
                        || d.contains("ключ -")
                        || d.contains("где ключ")
                        || d.contains("key of the object is")
                        || d.contains("keys of the object are")
                        || d.contains("where the key is")
                        || d.contains("key —")
                        || d.contains("key -");
                    let n = self.linked(i, false);
                    if keyed && !matches!(n, TypeExpr::Map(_)) {
                        TypeExpr::map_of(n)
                    } else {
                        n
                    }
                }
                None => object,
            }),
            "array" | "object[]" => Some(match link {
                Some(i) => self.linked(i, true),
                None if t == "array" => TypeExpr::array_of(TypeExpr::Scalar(Scalar::Any)),
                None => TypeExpr::array_of(object),
            }),
            _ => {
                let inner = t.strip_suffix("[]")?;
                scalar(inner).map(|s| TypeExpr::array_of(TypeExpr::Scalar(s)))
            }
        }
    }
}

/// The docs types of a row (its code spans but `null`), keeping only what looks like a type
/// (spans in descriptions were not taken).
fn docs_types(row: &RowInfo) -> Vec<String> {
    row.types
        .iter()
        .filter(|t| *t != "null")
        .filter(|t| {
            t.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '[' || c == ']')
        })
        .cloned()
        .collect()
}

/// A row documented with several types (`many`): `string` when one of them is (strings
/// accept numbers), else `any`; with the note.
fn union_type(row: &RowInfo, many: &[String]) -> (TypeExpr, String) {
    let t = if many.iter().any(|t| t == "string") {
        Scalar::String
    } else {
        Scalar::Any
    };
    let note = format!(
        "the docs give `{}` the union `{}`; a spec type is one type: typed `{}` (strings accept numbers)",
        row.name,
        many.join(" | "),
        t.as_str()
    );
    (TypeExpr::Scalar(t), note)
}

/// Whether a type is written starting with `map<` (`map<X>`, `map<X>[]`).
fn starts_with_map(t: &TypeExpr) -> bool {
    match t {
        TypeExpr::Map(_) => true,
        TypeExpr::Array(t) | TypeExpr::Nullable(t) => starts_with_map(t),
        TypeExpr::Scalar(_) | TypeExpr::Named(_) => false,
    }
}

/// The type a JSON value suggests: a scalar, or an array of one scalar (`any[]` when the
/// items differ, are arrays themselves or are none).
pub fn infer(v: &Value) -> TypeExpr {
    let any = TypeExpr::Scalar(Scalar::Any);
    match v {
        Value::Array(items) => {
            let mut kinds = items.iter().filter(|i| !i.is_null()).map(infer_scalar);
            let item = match kinds.next() {
                Some(first) if kinds.all(|k| k == first) => first.map_or(any, TypeExpr::Scalar),
                _ => any,
            };
            TypeExpr::array_of(item)
        }
        v => infer_scalar(v).map_or(any, TypeExpr::Scalar),
    }
}

/// The scalar a JSON value that is not an array suggests (none for an array).
fn infer_scalar(v: &Value) -> Option<Scalar> {
    Some(match v {
        Value::Null => Scalar::Any,
        Value::Bool(_) => Scalar::Boolean,
        Value::Number(n) if n.is_f64() => Scalar::Double,
        Value::Number(_) => Scalar::Integer,
        Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => Scalar::Datetime,
        Value::String(_) => Scalar::String,
        Value::Object(_) => Scalar::Object,
        Value::Array(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference() {
        let inferred = |v: Value| infer(&v).to_string();
        assert_eq!(inferred(serde_json::json!([1, 2])), "integer[]");
        assert_eq!(inferred(serde_json::json!([1, null, 2])), "integer[]");
        assert_eq!(inferred(serde_json::json!([])), "any[]");
        assert_eq!(inferred(serde_json::json!([1, "a"])), "any[]");
        assert_eq!(inferred(serde_json::json!([[1], [2]])), "any[]");
        assert_eq!(inferred(serde_json::json!(1.5)), "double");
        assert_eq!(
            inferred(serde_json::json!("2020-05-12T17:40:55+02:00")),
            "datetime"
        );
        assert_eq!(inferred(serde_json::json!({"a": 1})), "object");
        assert_eq!(inferred(serde_json::json!(null)), "any");
    }
}
