//! The type language of spec files.
//!
//! It follows the vocabulary of the official docs (`api-reference/data-types.md`): scalar
//! names, `type[]` for arrays and `type | null` for nullable values, plus two additions a typed
//! client needs: `Name` for a named object or enum defined in the same spec file, and
//! `map<type>` for objects keyed by ids (`{"1777": {...}}`).

use std::fmt;

/// A scalar type of the docs' vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// Whole number; ids arrive as numbers or as numeric strings.
    Integer,
    /// Floating point number.
    Double,
    /// One-line string.
    String,
    /// Multi-line string.
    Text,
    /// `CHAR(1)`, usually `Y`/`N`, kept as text.
    Char,
    /// `Y`/`N`, `true`/`false` or `0`/`1` on the wire.
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DDThh:mm:ss±hh:mm` (RFC 3339 with offset).
    Datetime,
    /// Unix timestamp in seconds.
    Timestamp,
    /// An object whose keys the spec does not describe.
    Object,
    /// A file: an id or a description array.
    File,
    /// Any JSON value.
    Any,
}

impl Scalar {
    /// Every scalar with its spelling in spec files.
    pub const ALL: [(&'static str, Scalar); 12] = [
        ("integer", Scalar::Integer),
        ("double", Scalar::Double),
        ("string", Scalar::String),
        ("text", Scalar::Text),
        ("char", Scalar::Char),
        ("boolean", Scalar::Boolean),
        ("date", Scalar::Date),
        ("datetime", Scalar::Datetime),
        ("timestamp", Scalar::Timestamp),
        ("object", Scalar::Object),
        ("file", Scalar::File),
        ("any", Scalar::Any),
    ];

    /// The spelling of this scalar in spec files.
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("any")
    }

    /// The scalar of a spelling in spec files (`integer`), if it is one.
    pub fn from_name(name: &str) -> Option<Scalar> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
    }
}

/// How many `[]` and `map<>` layers a type expression may nest (`integer[][]` nests 2,
/// `map<string[]>` 2, `array` 1): a spec describes real payloads, which never nest deeper, and
/// a bound keeps every recursive walk over a [`TypeExpr`] (display, codegen, decoding checks)
/// shallow whatever a spec file says.
pub const MAX_TYPE_DEPTH: usize = 8;

/// One layer of a type expression around its innermost type.
#[derive(Clone, Copy)]
enum Layer {
    Array,
    Map,
}

/// `text` for an error message: whole if short, else its start and end around `…`.
pub(crate) fn shorten(text: &str) -> String {
    const KEEP: usize = 40;
    if text.chars().count() <= 2 * KEEP {
        return text.to_string();
    }
    let head: String = text.chars().take(KEEP).collect();
    let mut tail: Vec<char> = text.chars().rev().take(KEEP).collect();
    tail.reverse();
    format!("{head}…{}", tail.into_iter().collect::<String>())
}

/// A parsed type expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeExpr {
    /// A scalar.
    Scalar(Scalar),
    /// A named object or enum of the same spec file.
    Named(String),
    /// `T[]` (or plain `array`, which is `any[]`).
    Array(Box<TypeExpr>),
    /// `map<T>`: an object with arbitrary keys and values of one type.
    Map(Box<TypeExpr>),
    /// `T | null`.
    Nullable(Box<TypeExpr>),
}

impl TypeExpr {
    /// Parses a type expression such as `integer`, `string[] | null`, `map<Session>`.
    pub fn parse(text: &str) -> Result<TypeExpr, String> {
        let parts: Vec<&str> = text.split('|').map(str::trim).collect();
        let mut nullable = false;
        let mut base = None;
        for part in &parts {
            if *part == "null" {
                if nullable {
                    return Err(format!("`null` appears twice in `{}`", shorten(text)));
                }
                nullable = true;
            } else if base.is_some() {
                return Err(format!(
                    "`{}` is a union of two non-null types; a spec type is one type, \
                     optionally `| null` (describe the other shape in a comment)",
                    shorten(text)
                ));
            } else {
                base = Some(Self::parse_base(part)?);
            }
        }
        let base = base.ok_or_else(|| format!("`{}` has no type besides `null`", shorten(text)))?;
        Ok(if nullable {
            TypeExpr::Nullable(Box::new(base))
        } else {
            base
        })
    }

    fn parse_base(text: &str) -> Result<TypeExpr, String> {
        // The layers are peeled in a loop and counted before anything is built, so no input
        // (`integer[][]…` thousands deep) recurses or yields a value deeper than the limit.
        let mut layers = Vec::new();
        let mut rest = text;
        loop {
            if let Some(inner) = rest.strip_suffix("[]") {
                layers.push(Layer::Array);
                rest = inner.trim();
            } else if let Some(inner) = rest.strip_prefix("map<").and_then(|t| t.strip_suffix('>'))
            {
                layers.push(Layer::Map);
                rest = inner.trim();
            } else {
                break;
            }
        }
        // `array` is `any[]`: one more level.
        let depth = layers.len() + usize::from(rest == "array");
        if depth > MAX_TYPE_DEPTH {
            return Err(format!(
                "`{}` nests {depth} levels of `[]` and `map<>`; a spec type nests at most \
                 {MAX_TYPE_DEPTH} (describe the inner levels as a named object, or as `any`)",
                shorten(text)
            ));
        }
        let mut ty = Self::parse_leaf(rest)?;
        for layer in layers.into_iter().rev() {
            ty = match layer {
                Layer::Array => TypeExpr::Array(Box::new(ty)),
                Layer::Map => TypeExpr::Map(Box::new(ty)),
            };
        }
        Ok(ty)
    }

    /// A type without `[]` or `map<>` layers (`array` is one layer itself).
    fn parse_leaf(text: &str) -> Result<TypeExpr, String> {
        if text.is_empty() {
            return Err("empty type".to_string());
        }
        if text == "array" {
            return Ok(TypeExpr::Array(Box::new(TypeExpr::Scalar(Scalar::Any))));
        }
        if text == "enum" {
            return Err(
                "`enum` needs its values: add `values = [...]` to this key or define \
                 `[enums.Name]` and write `type = \"Name\"`"
                    .to_string(),
            );
        }
        if let Some(s) = Scalar::from_name(text) {
            return Ok(TypeExpr::Scalar(s));
        }
        if is_type_name(text) {
            return Ok(TypeExpr::Named(text.to_string()));
        }
        let known: Vec<&str> = Scalar::ALL.iter().map(|(n, _)| *n).collect();
        Err(format!(
            "unknown type `{}`; expected one of {}, `T[]`, `map<T>`, `T | null` or the \
             name of an object or enum of this file (PascalCase)",
            shorten(text),
            known.join(", ")
        ))
    }

    /// `T[]`.
    pub fn array_of(item: TypeExpr) -> TypeExpr {
        TypeExpr::Array(Box::new(item))
    }

    /// `map<T>`.
    pub fn map_of(value: TypeExpr) -> TypeExpr {
        TypeExpr::Map(Box::new(value))
    }

    /// `T | null`; a type that already is `| null` stays as it is.
    pub fn or_null(self) -> TypeExpr {
        match self {
            TypeExpr::Nullable(_) => self,
            t => TypeExpr::Nullable(Box::new(t)),
        }
    }

    /// Whether the outermost layer is `| null`.
    pub fn is_nullable(&self) -> bool {
        matches!(self, TypeExpr::Nullable(_))
    }

    /// Every named type this expression mentions.
    pub fn named(&self) -> Vec<&str> {
        match self {
            TypeExpr::Scalar(_) => Vec::new(),
            TypeExpr::Named(n) => vec![n.as_str()],
            TypeExpr::Array(t) | TypeExpr::Map(t) | TypeExpr::Nullable(t) => t.named(),
        }
    }
}

impl fmt::Display for TypeExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeExpr::Scalar(s) => f.write_str(s.as_str()),
            TypeExpr::Named(n) => f.write_str(n),
            TypeExpr::Array(t) => write!(f, "{t}[]"),
            TypeExpr::Map(t) => write!(f, "map<{t}>"),
            TypeExpr::Nullable(t) => write!(f, "{t} | null"),
        }
    }
}

/// Whether `name` is a PascalCase identifier usable as a type name.
pub fn is_type_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_docs_vocabulary() {
        assert_eq!(
            TypeExpr::parse("integer").unwrap(),
            TypeExpr::Scalar(Scalar::Integer)
        );
        assert_eq!(
            TypeExpr::parse("string[] | null").unwrap(),
            TypeExpr::Nullable(Box::new(TypeExpr::Array(Box::new(TypeExpr::Scalar(
                Scalar::String
            )))))
        );
        assert_eq!(
            TypeExpr::parse("null | Dialog").unwrap(),
            TypeExpr::Nullable(Box::new(TypeExpr::Named("Dialog".into())))
        );
        assert_eq!(
            TypeExpr::parse("map<Chat>").unwrap().to_string(),
            "map<Chat>"
        );
        assert_eq!(TypeExpr::parse("array").unwrap().to_string(), "any[]");
        assert_eq!(
            TypeExpr::parse("integer[][]").unwrap().to_string(),
            "integer[][]"
        );
    }

    #[test]
    fn constructors_build_what_parse_reads() {
        let item = TypeExpr::Named("Item".into());
        assert_eq!(
            TypeExpr::array_of(item.clone()).or_null(),
            TypeExpr::parse("Item[] | null").unwrap()
        );
        assert_eq!(
            TypeExpr::map_of(item).or_null().or_null(),
            TypeExpr::parse("map<Item> | null").unwrap()
        );
        assert_eq!(Scalar::from_name("datetime"), Some(Scalar::Datetime));
        assert_eq!(Scalar::from_name("array"), None);
    }

    #[test]
    fn rejects_what_it_cannot_type() {
        assert!(TypeExpr::parse("integr")
            .unwrap_err()
            .contains("unknown type `integr`"));
        assert!(TypeExpr::parse("string | integer")
            .unwrap_err()
            .contains("union"));
        assert!(TypeExpr::parse("null").unwrap_err().contains("no type"));
        assert!(TypeExpr::parse("enum").unwrap_err().contains("values"));
        assert!(TypeExpr::parse("").is_err());
        assert!(TypeExpr::parse("dialog").is_err());
    }

    #[test]
    fn long_types_are_shortened_in_messages_on_character_boundaries() {
        let long = format!("Ж{}ё", "я".repeat(200));
        let e = TypeExpr::parse(&long).unwrap_err();
        assert!(
            e.contains(&format!("`Ж{}…{}ё`", "я".repeat(39), "я".repeat(39))),
            "{e}"
        );
        assert_eq!(shorten("short"), "short");
    }
}
