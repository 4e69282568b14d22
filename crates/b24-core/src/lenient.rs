//! Lenient decoding of the portal's JSON.
//!
//! The portal is written in PHP and its answers bend types: ids arrive as numbers or strings,
//! booleans as `Y`/`N`, `true`/`false` or `0`/`1`, an empty map as `[]`, "no object" as `""`,
//! lists as objects keyed `"0"`, `"1"`... Every type the generated code uses implements
//! [`Lenient`], whose visitor accepts each shape the portal is known to send for it and
//! nothing else, so a real mismatch is still an error naming the JSON path.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use indexmap::IndexMap;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A type decoded leniently from the portal's JSON.
pub trait Lenient: Sized {
    /// The visitor that accepts every shape the portal sends for this type.
    type Visitor: for<'de> Visitor<'de, Value = Self> + Default;
    /// Whether `""` means "no value" when the type is nullable (`T | null`).
    const EMPTY_STRING_IS_NULL: bool = false;
    /// Whether `[]` means "no value" when the type is nullable (objects: PHP's empty array).
    const EMPTY_ARRAY_IS_NULL: bool = false;
    /// Whether `false` means "no value" when the type is nullable: PHP's usual "none" for
    /// dates, ids, strings and objects. Not for `bool` (it is a value) or `any`.
    const FALSE_IS_NULL: bool = true;
}

/// Deserializes a `T` leniently from any self-describing deserializer.
pub fn deserialize<'de, T: Lenient, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(T::Visitor::default())
}

/// A [`DeserializeSeed`] for a lenient `T`, for `next_value_seed` and `next_element_seed`.
pub struct Seed<T>(PhantomData<fn() -> T>);

impl<T> Seed<T> {
    /// A new seed.
    pub fn new() -> Self {
        Seed(PhantomData)
    }
}

impl<T> Default for Seed<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'de, T: Lenient> DeserializeSeed<'de> for Seed<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        deserialize(d)
    }
}

/// An object key, borrowed from the input when possible.
pub struct Key<'de>(pub Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// Finds a key among `(wire name, field index)` pairs, ignoring ASCII case. Generated visitors
/// call it after an exact match failed, since the portal's key case varies by method.
pub fn field_index_ignore_case(key: &str, keys: &[(&str, usize)]) -> Option<usize> {
    keys.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, i)| *i)
}

/// Reads an object that the portal sent as an empty array (`[]`): succeeds only if the
/// array is empty.
pub fn expect_empty_seq<'de, A: SeqAccess<'de>>(
    mut seq: A,
    what: &dyn de::Expected,
) -> Result<(), A::Error> {
    match seq.next_element::<IgnoredAny>()? {
        None => Ok(()),
        Some(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, what)),
    }
}

/// An empty map, for visitors that read `[]` or `""` as an object without keys.
pub fn empty_map<'de, E: de::Error>() -> impl MapAccess<'de, Error = E> {
    de::value::MapDeserializer::<_, E>::new(std::iter::empty::<((), ())>())
}

fn unexpected_str(v: &str) -> de::Unexpected<'_> {
    de::Unexpected::Str(v)
}

// ---------------------------------------------------------------------------------------------
// Integers

/// Visitor for `i64`: numbers, whole floats and numeric strings (`"1777"`).
#[derive(Default)]
pub struct IntVisitor;

impl Visitor<'_> for IntVisitor {
    type Value = i64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer (number or numeric string)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        if v.fract() == 0.0 && v >= i64::MIN as f64 && v <= i64::MAX as f64 {
            Ok(v as i64)
        } else {
            Err(E::invalid_type(de::Unexpected::Float(v), &self))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::invalid_value(unexpected_str(v), &self))
    }
}

impl Lenient for i64 {
    type Visitor = IntVisitor;
    const EMPTY_STRING_IS_NULL: bool = true;
}

// ---------------------------------------------------------------------------------------------
// Floats

/// Visitor for `f64`: numbers and numeric strings.
#[derive(Default)]
pub struct FloatVisitor;

impl Visitor<'_> for FloatVisitor {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number (or numeric string)")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .ok_or_else(|| E::invalid_value(unexpected_str(v), &self))
    }
}

impl Lenient for f64 {
    type Visitor = FloatVisitor;
    const EMPTY_STRING_IS_NULL: bool = true;
}

// ---------------------------------------------------------------------------------------------
// Strings

/// Visitor for `String`: strings, and numbers written as their decimal text.
#[derive(Default)]
pub struct StringVisitor;

impl Visitor<'_> for StringVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

impl Lenient for String {
    type Visitor = StringVisitor;
}

// ---------------------------------------------------------------------------------------------
// Booleans

/// Visitor for `bool`: `true`/`false`, `1`/`0`, and the strings `Y`/`N`, `true`/`false`,
/// `1`/`0` (any case). An empty string is `false`.
#[derive(Default)]
pub struct BoolVisitor;

impl Visitor<'_> for BoolVisitor {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean (true/false, Y/N or 1/0)")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        let t = v.trim();
        if t.eq_ignore_ascii_case("y") || t.eq_ignore_ascii_case("true") || t == "1" {
            Ok(true)
        } else if t.eq_ignore_ascii_case("n")
            || t.eq_ignore_ascii_case("false")
            || t == "0"
            || t.is_empty()
        {
            Ok(false)
        } else {
            Err(E::invalid_value(unexpected_str(v), &self))
        }
    }
}

impl Lenient for bool {
    type Visitor = BoolVisitor;
    const EMPTY_STRING_IS_NULL: bool = true;
    const FALSE_IS_NULL: bool = false;
}

// ---------------------------------------------------------------------------------------------
// Dates and times

/// Parses the portal's datetime: RFC 3339 with offset (`2026-03-13T16:50:15+03:00`), also
/// accepting `+0300` offsets and a space instead of `T`.
pub fn parse_datetime(v: &str) -> Option<DateTime<FixedOffset>> {
    let t = v.trim();
    DateTime::parse_from_rfc3339(t)
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z"))
        .or_else(|_| DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%:z"))
        .ok()
}

/// Visitor for a datetime with offset.
#[derive(Default)]
pub struct DateTimeVisitor;

impl Visitor<'_> for DateTimeVisitor {
    type Value = DateTime<FixedOffset>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a datetime YYYY-MM-DDThh:mm:ss±hh:mm")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_datetime(v).ok_or_else(|| E::invalid_value(unexpected_str(v), &self))
    }
}

impl Lenient for DateTime<FixedOffset> {
    type Visitor = DateTimeVisitor;
    const EMPTY_STRING_IS_NULL: bool = true;
}

/// Visitor for a date `YYYY-MM-DD` (a datetime is cut to its date).
#[derive(Default)]
pub struct DateVisitor;

impl Visitor<'_> for DateVisitor {
    type Value = NaiveDate;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a date YYYY-MM-DD")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<NaiveDate, E> {
        NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
            .ok()
            .or_else(|| parse_datetime(v).map(|d| d.date_naive()))
            .ok_or_else(|| E::invalid_value(unexpected_str(v), &self))
    }
}

impl Lenient for NaiveDate {
    type Visitor = DateVisitor;
    const EMPTY_STRING_IS_NULL: bool = true;
}

/// Visitor for a Unix timestamp in seconds (number or numeric string).
#[derive(Default)]
pub struct TimestampVisitor;

impl TimestampVisitor {
    fn at_secs<E: de::Error>(&self, secs: i64) -> Result<DateTime<Utc>, E> {
        Utc.timestamp_opt(secs, 0)
            .single()
            .ok_or_else(|| E::invalid_value(de::Unexpected::Signed(secs), self))
    }
}

impl Visitor<'_> for TimestampVisitor {
    type Value = DateTime<Utc>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Unix timestamp")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.at_secs(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let secs =
            i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))?;
        self.at_secs(secs)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.is_finite() && v.abs() < 1e15 {
            self.at_secs(v.trunc() as i64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let secs = v
            .trim()
            .parse::<i64>()
            .map_err(|_| E::invalid_value(unexpected_str(v), &self))?;
        self.at_secs(secs)
    }
}

impl Lenient for DateTime<Utc> {
    type Visitor = TimestampVisitor;
    const EMPTY_STRING_IS_NULL: bool = true;
}

// ---------------------------------------------------------------------------------------------
// Untyped values

/// Visitor for any JSON value (`any`, `file`).
#[derive(Default)]
pub struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Seed::<Value>::new())? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let v = map.next_value_seed(Seed::<Value>::new())?;
            out.insert(k.into_owned(), v);
        }
        Ok(Value::Object(out))
    }
}

impl Lenient for Value {
    type Visitor = ValueVisitor;
    const FALSE_IS_NULL: bool = false;
}

/// Visitor for an untyped object (`object`): a map, or `[]` for an empty one; a non-empty
/// array becomes a map keyed `"0"`, `"1"`...
#[derive(Default)]
pub struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = Map<String, Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        match ValueVisitor.visit_map(map)? {
            Value::Object(m) => Ok(m),
            _ => Ok(Map::new()),
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        let mut i = 0usize;
        while let Some(v) = seq.next_element_seed(Seed::<Value>::new())? {
            out.insert(i.to_string(), v);
            i += 1;
        }
        Ok(out)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Map::new())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        if v {
            Err(E::invalid_type(de::Unexpected::Bool(v), &self))
        } else {
            Ok(Map::new())
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.is_empty() {
            Ok(Map::new())
        } else {
            Err(E::invalid_type(unexpected_str(v), &self))
        }
    }
}

impl Lenient for Map<String, Value> {
    type Visitor = ObjectVisitor;
    const EMPTY_STRING_IS_NULL: bool = true;
    const EMPTY_ARRAY_IS_NULL: bool = true;
}

// ---------------------------------------------------------------------------------------------
// Containers

/// Visitor for `Vec<T>`: an array; an object keyed `"0"`, `"1"`... (PHP arrays with gaps, and
/// every list of a form body) gives its values in order; an object whose first key is not a
/// number is a single element sent without its list; `null` and `""` give an empty list.
pub struct VecVisitor<T>(PhantomData<fn() -> T>);

impl<T> Default for VecVisitor<T> {
    fn default() -> Self {
        VecVisitor(PhantomData)
    }
}

impl<'de, T: Lenient> Visitor<'de> for VecVisitor<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element_seed(Seed::<T>::new())? {
            out.push(v);
        }
        Ok(out)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
        let Some(Key(first)) = map.next_key::<Key<'de>>()? else {
            return Ok(Vec::new());
        };
        if crate::php::int_key(&first).is_none() {
            // Not a PHP list: one element sent without its list (`data[DATA][connector]...`
            // where the docs show `data[DATA][0][connector]...`).
            let mut one = Map::new();
            one.insert(
                first.into_owned(),
                map.next_value_seed(Seed::<Value>::new())?,
            );
            while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                one.insert(k.into_owned(), map.next_value_seed(Seed::<Value>::new())?);
            }
            // Decoded again from the buffer: keep the position inside it in the message.
            let value = Value::Object(one);
            let mut track = serde_path_to_error::Track::new();
            let tracked = serde_path_to_error::Deserializer::new(&value, &mut track);
            let item = deserialize::<T, _>(tracked)
                .map_err(|e| de::Error::custom(format!("at `{}`: {e}", track.path())))?;
            return Ok(vec![item]);
        }
        let mut out = vec![map.next_value_seed(Seed::<T>::new())?];
        while map.next_key::<IgnoredAny>()?.is_some() {
            out.push(map.next_value_seed(Seed::<T>::new())?);
        }
        Ok(out)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Vec<T>, E> {
        if v {
            Err(E::invalid_type(de::Unexpected::Bool(v), &self))
        } else {
            Ok(Vec::new())
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<T>, E> {
        if v.is_empty() {
            Ok(Vec::new())
        } else {
            Err(E::invalid_type(unexpected_str(v), &self))
        }
    }
}

impl<T: Lenient> Lenient for Vec<T> {
    type Visitor = VecVisitor<T>;
    const EMPTY_STRING_IS_NULL: bool = true;
}

/// Visitor for `map<T>`: an object of `T` keyed by strings (often ids), in the portal's order;
/// `[]`, `null` and `""` give an empty map; a non-empty array is keyed `"0"`, `"1"`...
pub struct MapVisitor<T>(PhantomData<fn() -> T>);

impl<T> Default for MapVisitor<T> {
    fn default() -> Self {
        MapVisitor(PhantomData)
    }
}

impl<'de, T: Lenient> Visitor<'de> for MapVisitor<T> {
    type Value = IndexMap<String, T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = IndexMap::new();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let v = map.next_value_seed(Seed::<T>::new())?;
            out.insert(k.into_owned(), v);
        }
        Ok(out)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = IndexMap::new();
        let mut i = 0usize;
        while let Some(v) = seq.next_element_seed(Seed::<T>::new())? {
            out.insert(i.to_string(), v);
            i += 1;
        }
        Ok(out)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(IndexMap::new())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        if v {
            Err(E::invalid_type(de::Unexpected::Bool(v), &self))
        } else {
            Ok(IndexMap::new())
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.is_empty() {
            Ok(IndexMap::new())
        } else {
            Err(E::invalid_type(unexpected_str(v), &self))
        }
    }
}

impl<T: Lenient> Lenient for IndexMap<String, T> {
    type Visitor = MapVisitor<T>;
    const EMPTY_STRING_IS_NULL: bool = true;
}

/// Visitor for `Option<T>` (`T | null`): `null` is `None`; so is `""` when `T` says an empty
/// string means "none" (numbers, booleans, dates, objects), and `[]` when `T` is an object.
/// Everything else is handed to `T`'s visitor.
pub struct OptionVisitor<T>(PhantomData<fn() -> T>);

impl<T> Default for OptionVisitor<T> {
    fn default() -> Self {
        OptionVisitor(PhantomData)
    }
}

fn inner<T: Lenient>() -> T::Visitor {
    T::Visitor::default()
}

impl<'de, T: Lenient> Visitor<'de> for OptionVisitor<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        inner::<T>().expecting(f)?;
        f.write_str(" or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Option<T>, E> {
        if !v && T::FALSE_IS_NULL {
            Ok(None)
        } else {
            inner::<T>().visit_bool(v).map(Some)
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<T>, E> {
        inner::<T>().visit_i64(v).map(Some)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<T>, E> {
        inner::<T>().visit_u64(v).map(Some)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<T>, E> {
        inner::<T>().visit_f64(v).map(Some)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<T>, E> {
        if v.is_empty() && T::EMPTY_STRING_IS_NULL {
            Ok(None)
        } else {
            inner::<T>().visit_str(v).map(Some)
        }
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Option<T>, E> {
        if v.is_empty() && T::EMPTY_STRING_IS_NULL {
            Ok(None)
        } else {
            inner::<T>().visit_borrowed_str(v).map(Some)
        }
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Option<T>, E> {
        if v.is_empty() && T::EMPTY_STRING_IS_NULL {
            Ok(None)
        } else {
            inner::<T>().visit_string(v).map(Some)
        }
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<T>, A::Error> {
        if T::EMPTY_ARRAY_IS_NULL {
            expect_empty_seq(seq, &self).map(|()| None)
        } else {
            inner::<T>().visit_seq(seq).map(Some)
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        inner::<T>().visit_map(map).map(Some)
    }
}

impl<T: Lenient> Lenient for Option<T> {
    type Visitor = OptionVisitor<T>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de<T: Lenient>(json: &str) -> Result<T, String> {
        let mut d = serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize::<_, Wrap<T>>(&mut d)
            .map(|w| w.0)
            .map_err(|e| format!("{} at {}", e.inner(), e.path()))
    }

    struct Wrap<T>(T);
    impl<'de, T: Lenient> de::Deserialize<'de> for Wrap<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize(d).map(Wrap)
        }
    }

    #[test]
    fn integers_from_numbers_and_strings() {
        assert_eq!(de::<i64>("1777"), Ok(1777));
        assert_eq!(de::<i64>("\"1777\""), Ok(1777));
        assert_eq!(de::<i64>("12.0"), Ok(12));
        assert!(de::<i64>("\"12abc\"").is_err());
        assert!(de::<i64>("12.5").is_err());
        assert!(de::<i64>("true").is_err());
        assert!(de::<i64>("\"\"").is_err());
        assert!(de::<i64>("18446744073709551615").is_err());
        assert_eq!(de::<Option<i64>>("\"\""), Ok(None));
        assert_eq!(de::<Option<i64>>("null"), Ok(None));
        assert_eq!(de::<Option<i64>>("\"5\""), Ok(Some(5)));
    }

    #[test]
    fn booleans_in_every_spelling() {
        for (json, want) in [
            ("true", true),
            ("false", false),
            ("\"Y\"", true),
            ("\"N\"", false),
            ("\"y\"", true),
            ("1", true),
            ("0", false),
            ("\"1\"", true),
            ("\"0\"", false),
            ("\"true\"", true),
            ("\"false\"", false),
            ("\"\"", false),
        ] {
            assert_eq!(de::<bool>(json), Ok(want), "{json}");
        }
        assert!(de::<bool>("2").is_err());
        assert!(de::<bool>("\"maybe\"").is_err());
        assert_eq!(de::<Option<bool>>("\"\""), Ok(None));
    }

    #[test]
    fn strings_accept_numbers() {
        assert_eq!(de::<String>("\"chat1\""), Ok("chat1".into()));
        assert_eq!(de::<String>("2043"), Ok("2043".into()));
        assert!(de::<String>("{}").is_err());
        assert_eq!(de::<Option<String>>("\"\""), Ok(Some(String::new())));
    }

    #[test]
    fn datetimes_and_timestamps() {
        let d = de::<DateTime<FixedOffset>>("\"2026-03-13T16:50:15+03:00\"").unwrap();
        assert_eq!(d.to_rfc3339(), "2026-03-13T16:50:15+03:00");
        assert!(de::<DateTime<FixedOffset>>("\"yesterday\"").is_err());
        assert_eq!(de::<Option<DateTime<FixedOffset>>>("null"), Ok(None));
        assert_eq!(de::<Option<DateTime<FixedOffset>>>("\"\""), Ok(None));
        let t = de::<DateTime<Utc>>("1773684278").unwrap();
        assert_eq!(t.timestamp(), 1773684278);
        assert_eq!(de::<DateTime<Utc>>("\"1773684278\"").unwrap(), t);
        assert_eq!(
            de::<NaiveDate>("\"2025-12-28\"").unwrap().to_string(),
            "2025-12-28"
        );
    }

    #[test]
    fn lists_and_maps_from_php_arrays() {
        assert_eq!(de::<Vec<i64>>("[1, \"2\"]"), Ok(vec![1, 2]));
        assert_eq!(de::<Vec<i64>>("{\"0\": 1, \"5\": 2}"), Ok(vec![1, 2]));
        assert_eq!(de::<Vec<i64>>("null"), Ok(vec![]));
        // One object where a list was documented is a list of one.
        let one = de::<Vec<IndexMap<String, i64>>>("{\"a\": 1, \"b\": \"2\"}").unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0]["b"], 2);
        assert!(de::<Vec<i64>>("{\"a\": 1}").is_err());
        let e = de::<Vec<IndexMap<String, i64>>>("{\"a\": 1, \"b\": \"x\"}").unwrap_err();
        assert!(e.contains("at `b`"), "{e}");
        // PHP's `false` for "none": empty containers, `None` for nullable values but booleans.
        assert_eq!(de::<Vec<i64>>("false"), Ok(vec![]));
        assert!(de::<Vec<i64>>("true").is_err());
        assert!(de::<Map<String, Value>>("false").unwrap().is_empty());
        assert_eq!(de::<Option<String>>("false"), Ok(None));
        assert_eq!(de::<Option<DateTime<FixedOffset>>>("false"), Ok(None));
        assert_eq!(de::<Option<bool>>("false"), Ok(Some(false)));
        assert_eq!(de::<Option<Value>>("false"), Ok(Some(Value::Bool(false))));
        assert!(de::<Option<String>>("true").is_err());
        assert_eq!(de::<Option<Vec<i64>>>("[]"), Ok(Some(vec![])));
        let m = de::<IndexMap<String, i64>>("{\"9\": 1, \"10\": 2}").unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), ["9", "10"]);
        assert!(de::<IndexMap<String, i64>>("[]").unwrap().is_empty());
        assert!(de::<Map<String, Value>>("[]").unwrap().is_empty());
        assert_eq!(de::<Option<Map<String, Value>>>("[]"), Ok(None));
        assert!(de::<Option<Map<String, Value>>>("[1]").is_err());
    }

    #[test]
    fn errors_carry_the_path() {
        let e = de::<Vec<IndexMap<String, i64>>>("[{\"a\": 1}, {\"b\": \"x\"}]").unwrap_err();
        assert!(e.ends_with("at [1].b"), "{e}");
    }
}
