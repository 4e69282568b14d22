//! The trait that ties one REST method together, and how parameters go on the wire.

use std::future::Future;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::error::{Error, MethodErrorCode};
use crate::lenient::Lenient;

/// Whether a method only reads or changes data; decides what may be replayed after a lost
/// answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// Reads; replaying it is harmless.
    Read,
    /// Writes; a call whose answer was lost is not replayed.
    Write,
}

impl MethodKind {
    /// The spelling in spec files (`kind = "read"`).
    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Read => "read",
            MethodKind::Write => "write",
        }
    }
}

/// One REST method: the generated request type of each spec implements it.
pub trait Method: Send + Sync {
    /// REST method name (`imopenlines.dialog.get`).
    const NAME: &'static str;
    /// OAuth scope.
    const SCOPE: &'static str;
    /// Read or write.
    const KIND: MethodKind;
    /// Whether the method pages with `start` / `next` / `total`.
    const PAGED: bool = false;
    /// The typed `result`.
    type Output: Lenient + Send + 'static;
    /// The method's documented error codes.
    type ErrorCode: MethodErrorCode;
    /// The parameters as they go on the wire (JSON body or PHP-style form keys).
    fn params(&self) -> Map<String, Value>;
}

/// A client that sends typed calls. The client methods `generate!` adds
/// (`client.dialog_get(request)`) call through it, so the `client` given to the macro must
/// implement it; `b24_runtime::Client` and `b24_openlines::Client` do.
pub trait Call {
    /// Sends `request` and decodes its `result`, or gives the method's typed error.
    fn call<M: Method>(
        &self,
        request: &M,
    ) -> impl Future<Output = Result<M::Output, Error<M::ErrorCode>>> + Send;
}

/// A list method that pages with `start` / `next` / `total` (50 items a page): its
/// `Output` is a list of `Item`.
pub trait PagedMethod: Method<Output = Vec<<Self as PagedMethod>::Item>> + Clone {
    /// One item of the list.
    type Item: Lenient + Send + 'static;
}

/// Code that handles every generated method in turn (tests, tooling): a generated crate's
/// `visit_methods` calls [`MethodVisitor::visit`] once per method, with the method's request
/// type and its documented answers, so such code needs no list of methods of its own.
pub trait MethodVisitor {
    /// Called with one method's request type `M` and its documented answers.
    fn visit<M: Method>(&mut self, examples: &'static [Example]);
}

/// A documented answer of a method, as written in its spec file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Example {
    /// Short name (`current`, `docs-2024`, `access-error`).
    pub name: &'static str,
    /// Where it comes from and what it shows.
    pub description: &'static str,
    /// HTTP status.
    pub status: u16,
    /// The whole response body (JSON).
    pub body: &'static str,
}

/// A value that can be sent as a request parameter.
pub trait ToParam {
    /// The wire form.
    fn to_param(&self) -> Value;

    /// Whether the value means "not given" (an empty list or map, `null`), so an optional
    /// key holding it is left out of the request instead of sent empty.
    fn is_absent(&self) -> bool {
        false
    }
}

impl ToParam for i64 {
    fn to_param(&self) -> Value {
        Value::from(*self)
    }
}

impl ToParam for f64 {
    fn to_param(&self) -> Value {
        serde_json::Number::from_f64(*self).map_or(Value::Null, Value::Number)
    }
}

impl ToParam for String {
    fn to_param(&self) -> Value {
        Value::String(self.clone())
    }
}

/// Booleans go as `Y`/`N`, the spelling every open-lines method reads.
impl ToParam for bool {
    fn to_param(&self) -> Value {
        Value::String(if *self { "Y" } else { "N" }.into())
    }
}

impl ToParam for DateTime<FixedOffset> {
    fn to_param(&self) -> Value {
        Value::String(self.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
    }
}

impl ToParam for NaiveDate {
    fn to_param(&self) -> Value {
        Value::String(self.format("%Y-%m-%d").to_string())
    }
}

/// Timestamps go as Unix seconds.
impl ToParam for DateTime<Utc> {
    fn to_param(&self) -> Value {
        Value::from(self.timestamp())
    }
}

impl ToParam for Value {
    fn to_param(&self) -> Value {
        self.clone()
    }
    fn is_absent(&self) -> bool {
        self.is_null()
    }
}

impl ToParam for Map<String, Value> {
    fn to_param(&self) -> Value {
        Value::Object(self.clone())
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

impl<T: ToParam> ToParam for Vec<T> {
    fn to_param(&self) -> Value {
        Value::Array(self.iter().map(ToParam::to_param).collect())
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

impl<T: ToParam> ToParam for IndexMap<String, T> {
    fn to_param(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(k, v)| (k.clone(), v.to_param()))
                .collect(),
        )
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
}

impl<T: ToParam> ToParam for Option<T> {
    fn to_param(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToParam::to_param)
    }
}
