//! A spec file as written: the TOML keys, derived with serde, each value that an error may be
//! about kept with its span. `deny_unknown_fields` makes every struct here the one list of the
//! keys its table may have; [`crate::parse`] turns these into the validated model.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use crate::parse::MAX_VALUE_DEPTH;

/// A method file: `method = "..."`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMethod {
    pub method: Spanned<String>,
    pub scope: Spanned<String>,
    pub summary: Spanned<String>,
    pub description: Option<String>,
    pub docs: Spanned<String>,
    pub access: Option<String>,
    pub kind: Spanned<String>,
    pub auth: Option<Spanned<crate::model::Auth>>,
    pub rust_name: Option<Spanned<String>>,
    #[serde(default)]
    pub params: Vec<Spanned<Table<RawParam>>>,
    #[serde(default)]
    pub one_of: Vec<Spanned<Table<RawOneOf>>>,
    pub result: Table<RawResult>,
    #[serde(default)]
    pub objects: Entries<RawObject>,
    #[serde(default)]
    pub enums: Entries<RawEnum>,
    #[serde(default)]
    pub errors: Vec<Spanned<Table<RawError>>>,
    #[serde(default)]
    pub examples: Vec<Spanned<Table<RawExample>>>,
}

/// An event file: `event = "..."`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvent {
    pub event: Spanned<String>,
    pub scope: Spanned<String>,
    pub summary: Spanned<String>,
    pub description: Option<String>,
    pub docs: Spanned<String>,
    pub access: Option<String>,
    pub data: Table<RawData>,
    #[serde(default)]
    pub objects: Entries<RawObject>,
    #[serde(default)]
    pub enums: Entries<RawEnum>,
    #[serde(default)]
    pub examples: Vec<Spanned<Table<RawEventExample>>>,
}

/// `[[params]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawParam {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub ty: Spanned<String>,
    #[serde(default)]
    pub required: bool,
    pub description: Spanned<String>,
    pub example: Option<Spanned<Deep>>,
    pub values: Option<Spanned<Vec<Spanned<RawEnumValue>>>>,
    pub enum_name: Option<Spanned<String>>,
    pub note: Option<String>,
}

impl RawParam {
    /// The keys that give its type.
    pub fn type_keys(&self) -> TypeKeys<'_> {
        TypeKeys {
            ty: &self.ty,
            values: self.values.as_ref(),
            enum_name: self.enum_name.as_ref(),
        }
    }
}

/// The keys that give the type of a parameter or a field: `type`, and `values` and
/// `enum_name` for an inline enum.
pub(crate) struct TypeKeys<'r> {
    pub ty: &'r Spanned<String>,
    pub values: Option<&'r Spanned<Vec<Spanned<RawEnumValue>>>>,
    pub enum_name: Option<&'r Spanned<String>>,
}

/// `[[one_of]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOneOf {
    pub name: Spanned<String>,
    pub params: Option<Spanned<Vec<Spanned<String>>>>,
    pub description: Spanned<String>,
}

/// `[result]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawResult {
    #[serde(rename = "type")]
    pub ty: Spanned<String>,
    pub description: Spanned<String>,
    #[serde(default)]
    pub paged: bool,
    pub note: Option<String>,
}

/// `[data]` of an event.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawData {
    #[serde(rename = "type")]
    pub ty: Spanned<String>,
    pub description: Spanned<String>,
}

/// `[objects.Name]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawObject {
    pub description: Spanned<String>,
    pub fields: Entries<RawField>,
    #[serde(default)]
    pub untyped_keys: Vec<String>,
}

/// A key of `[objects.Name.fields]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawField {
    #[serde(rename = "type")]
    pub ty: Spanned<String>,
    pub description: Spanned<String>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub aliases: Vec<Spanned<String>>,
    pub note: Option<String>,
    pub values: Option<Spanned<Vec<Spanned<RawEnumValue>>>>,
    pub enum_name: Option<Spanned<String>>,
}

impl RawField {
    /// The keys that give its type.
    pub fn type_keys(&self) -> TypeKeys<'_> {
        TypeKeys {
            ty: &self.ty,
            values: self.values.as_ref(),
            enum_name: self.enum_name.as_ref(),
        }
    }
}

/// `[enums.Name]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEnum {
    pub description: Spanned<String>,
    pub values: Spanned<Vec<Spanned<RawEnumValue>>>,
}

/// `[[errors]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawError {
    pub code: Spanned<String>,
    pub status: Spanned<Status>,
    pub message: Option<String>,
    pub description: Spanned<String>,
    pub note: Option<String>,
}

/// `[[examples]]` of a method.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExample {
    pub name: Spanned<String>,
    pub description: Spanned<String>,
    pub request: Option<Spanned<Deep>>,
    pub status: Spanned<Status>,
    pub body: Spanned<String>,
}

/// `[[examples]]` of an event.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEventExample {
    pub name: Spanned<String>,
    pub description: Spanned<String>,
    pub body: Spanned<String>,
}

/// The table form of an enum value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnumValueTable {
    value: StrOrInt,
    description: Option<String>,
}

/// One of `values`: `"a"`, `1` or `{ value = "a", description = "..." }`.
pub(crate) struct RawEnumValue {
    pub value: String,
    pub description: Option<String>,
}

impl<'de> Deserialize<'de> for RawEnumValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawEnumValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or { value, description }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawEnumValue, E> {
                Ok(RawEnumValue {
                    value: v.to_string(),
                    description: None,
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawEnumValue, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawEnumValue, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawEnumValue, A::Error> {
                let t = RawEnumValueTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawEnumValue {
                    value: t.value.0,
                    description: t.description,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A string, or an integer kept as its decimal text (enum values).
struct StrOrInt(String);

impl<'de> Deserialize<'de> for StrOrInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StrOrInt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StrOrInt, E> {
                Ok(StrOrInt(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StrOrInt, E> {
                Ok(StrOrInt(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StrOrInt, E> {
                Ok(StrOrInt(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// An HTTP status (100..=599), or `None` for anything else, whatever its TOML type (the
/// parser reports it with one message). Nested values are not descended into.
pub(crate) struct Status(pub Option<u16>);

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        fn status(n: i128) -> Status {
            Status(u16::try_from(n).ok().filter(|n| (100..600).contains(n)))
        }
        impl<'de> Visitor<'de> for V {
            type Value = Status;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an HTTP status")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Status, E> {
                Ok(status(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Status, E> {
                Ok(status(v.into()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Status, E> {
                Ok(status(v))
            }
            fn visit_u128<E: de::Error>(self, _: u128) -> Result<Status, E> {
                Ok(Status(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Status, E> {
                Ok(Status(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Status, E> {
                Ok(Status(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Status, E> {
                Ok(Status(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Status, A::Error> {
                Ok(Status(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Status, A::Error> {
                Ok(Status(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Any value written in the file (a parameter's `example`, an example's `request`) as JSON,
/// or [`Deep::TooDeep`] when it nests more than [`MAX_VALUE_DEPTH`] levels of arrays and
/// tables. The reader stops at that depth instead of descending, so no value of a spec makes
/// a deep recursion.
pub(crate) enum Deep {
    Value(serde_json::Value),
    TooDeep,
}

/// The key under which the TOML reader hands a datetime to a visitor.
pub(crate) const DATETIME_KEY: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for Deep {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        DeepSeed { depth: 0 }.deserialize(d)
    }
}

/// Reads a value at `depth` (the level of the value itself: `1` is 0, `[1]` is 0 with its
/// element at 1).
struct DeepSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for DeepSeed {
    type Value = Deep;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Deep, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DeepSeed {
    type Value = Deep;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Deep, E> {
        Ok(Deep::Value(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Deep, E> {
        Ok(Deep::Value(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Deep, E> {
        // As JSON's integers are kept in `i64` here, a larger one is kept as its text.
        Ok(Deep::Value(match i64::try_from(v) {
            Ok(n) => n.into(),
            Err(_) => v.to_string().into(),
        }))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Deep, E> {
        Ok(Deep::Value(v.to_string().into()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Deep, E> {
        Ok(Deep::Value(v.to_string().into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Deep, E> {
        Ok(Deep::Value(
            serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into),
        ))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Deep, E> {
        Ok(Deep::Value(v.into()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Deep, A::Error> {
        if self.depth >= MAX_VALUE_DEPTH {
            return Ok(Deep::TooDeep);
        }
        let mut out = Vec::new();
        while let Some(item) = seq.next_element_seed(DeepSeed {
            depth: self.depth + 1,
        })? {
            match item {
                Deep::Value(v) => out.push(v),
                Deep::TooDeep => return Ok(Deep::TooDeep),
            }
        }
        Ok(Deep::Value(out.into()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Deep, A::Error> {
        let mut out = serde_json::Map::new();
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            if first && key == DATETIME_KEY {
                return Ok(Deep::Value(map.next_value::<String>()?.into()));
            }
            first = false;
            if self.depth >= MAX_VALUE_DEPTH {
                return Ok(Deep::TooDeep);
            }
            match map.next_value_seed(DeepSeed {
                depth: self.depth + 1,
            })? {
                Deep::Value(v) => {
                    out.insert(key, v);
                }
                Deep::TooDeep => return Ok(Deep::TooDeep),
            }
        }
        Ok(Deep::Value(out.into()))
    }
}

/// A struct read from a TOML table, and only from a table: serde's derived structs would
/// also read an array as a tuple of their fields.
pub(crate) struct Table<T>(pub T);

impl<T> std::ops::Deref for Table<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<T>(PhantomData<fn() -> T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Vis<T> {
            type Value = Table<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Table<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Table)
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}

/// The keys of a table in file order, each with its span (`[objects.Name]`, fields).
pub(crate) struct Entries<V>(pub Vec<(Spanned<String>, Spanned<Table<V>>)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(PhantomData<fn() -> V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<Spanned<String>>()? {
                    out.push((k, map.next_value()?));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}
