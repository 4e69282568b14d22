//! The validated model of one spec file.

use std::fmt;
use std::path::PathBuf;

use crate::types::TypeExpr;

/// Where something was written: file, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The spec file, as the caller named it.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Whether a method only reads or changes data: the one type the spec and the generated
/// `Method::KIND` share.
pub use b24_core::MethodKind;

/// Who may call a method: the `auth` key of a method file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// `"any"` (the default): a webhook or an application's OAuth token.
    #[default]
    Any,
    /// `"application"`: an application's OAuth token only. A webhook (or a token of no
    /// application) is refused with `WRONG_AUTH_TYPE` before anything else; the file's
    /// `[[errors]]` entry of that code gives the answer's status and message.
    Application,
}

impl Auth {
    /// The value as written in a spec file.
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::Any => "any",
            Auth::Application => "application",
        }
    }
}

/// The code a webhook gets from a method with [`Auth::Application`].
pub const WRONG_AUTH_TYPE: &str = "WRONG_AUTH_TYPE";

/// One REST method, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Where the file starts.
    pub location: Location,
    /// REST method name, e.g. `imopenlines.dialog.get`.
    pub method: String,
    /// OAuth scope the method needs.
    pub scope: String,
    /// One-line summary.
    pub summary: String,
    /// Longer description (optional).
    pub description: Option<String>,
    /// Link to the official docs page.
    pub docs: String,
    /// Who may call it.
    pub access: Option<String>,
    /// Read or write.
    pub kind: MethodKind,
    /// Who may call it: any caller, or an application only.
    pub auth: Auth,
    /// Name of the client method (`dialog_get`).
    pub rust_name: String,
    /// Parameters, in the docs' order.
    pub params: Vec<Param>,
    /// Groups of parameters of which exactly one is sent.
    pub one_of: Vec<OneOf>,
    /// The `result` of a successful call.
    pub result: ResultSpec,
    /// Named objects, in file order.
    pub objects: Vec<Object>,
    /// Named enums, in file order (inline `values` on a key become enums here too).
    pub enums: Vec<EnumDef>,
    /// Method-specific error codes.
    pub errors: Vec<ErrorCode>,
    /// Documented request/response examples.
    pub examples: Vec<Example>,
}

impl Spec {
    /// The first segment of the method name (`imopenlines`, `imconnector`): the module the
    /// generated code lives in.
    pub fn namespace(&self) -> &str {
        self.method.split('.').next().unwrap_or(&self.method)
    }

    /// The operation's module name inside its namespace (`dialog_get`, `send_messages`).
    pub fn operation_name(&self) -> String {
        let rest: Vec<&str> = self.method.split('.').skip(1).collect();
        rest.iter()
            .map(|s| snake_case(s))
            .collect::<Vec<_>>()
            .join("_")
    }

    /// A named object by name.
    pub fn object(&self, name: &str) -> Option<&Object> {
        self.objects.iter().find(|o| o.name == name)
    }

    /// A named enum by name.
    pub fn enum_def(&self, name: &str) -> Option<&EnumDef> {
        self.enums.iter().find(|e| e.name == name)
    }

    /// The `[[errors]]` entry of `code`, if the file lists it.
    pub fn error(&self, code: &str) -> Option<&ErrorCode> {
        self.errors.iter().find(|e| e.code == code)
    }

    /// The one-of group a parameter belongs to, if any.
    pub fn group_of(&self, param: &str) -> Option<&OneOf> {
        self.one_of
            .iter()
            .find(|g| g.params.iter().any(|p| p == param))
    }
}

/// A request parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Wire name (`CHAT_ID`).
    pub name: String,
    /// Type.
    pub ty: TypeExpr,
    /// Whether the method fails without it.
    pub required: bool,
    /// Description.
    pub description: String,
    /// Example value from the docs.
    pub example: Option<serde_json::Value>,
    /// Why the spec departs from the docs here (a *reviewed difference* for `xtask drift`).
    pub note: Option<String>,
    /// Where it was written.
    pub location: Location,
}

/// Parameters of which exactly one must be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct OneOf {
    /// Rust name of the choice (snake_case; the enum is its PascalCase form).
    pub name: String,
    /// The parameters, in the order the server checks them.
    pub params: Vec<String>,
    /// What the choice means and how the server resolves it.
    pub description: String,
    /// Where it was written.
    pub location: Location,
}

/// The `result` of a successful call.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultSpec {
    /// Type of `result`.
    pub ty: TypeExpr,
    /// Description.
    pub description: String,
    /// Whether the method pages with `start` / `next` / `total`.
    pub paged: bool,
    /// Why the spec departs from the docs here (a *reviewed difference* for `xtask drift`).
    pub note: Option<String>,
}

/// A named object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Type name (PascalCase).
    pub name: String,
    /// Description.
    pub description: String,
    /// Keys, in file order.
    pub fields: Vec<Field>,
    /// Keys the spec deliberately leaves untyped (kept in the object's `extra` map).
    pub untyped_keys: Vec<String>,
    /// Where it was written.
    pub location: Location,
}

/// A key of a named object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Wire name.
    pub name: String,
    /// Type.
    pub ty: TypeExpr,
    /// Description.
    pub description: String,
    /// Whether the key may be absent (older portals, optional data).
    pub optional: bool,
    /// Other spellings the portal uses for this key.
    pub aliases: Vec<String>,
    /// Where the docs and the portal disagree, what the spec follows and why.
    pub note: Option<String>,
    /// Where it was written.
    pub location: Location,
}

/// A named enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDef {
    /// Type name (PascalCase).
    pub name: String,
    /// Description.
    pub description: String,
    /// Documented values.
    pub values: Vec<EnumValue>,
    /// Where it was written.
    pub location: Location,
}

/// One documented value of an enum.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumValue {
    /// Wire value.
    pub value: String,
    /// Description.
    pub description: Option<String>,
}

/// A method-specific error code.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorCode {
    /// Wire code (`ACCESS_ERROR`).
    pub code: String,
    /// HTTP status the portal answers with.
    pub status: u16,
    /// The portal's `error_description`.
    pub message: Option<String>,
    /// What it means.
    pub description: String,
    /// Where the docs and the portal disagree.
    pub note: Option<String>,
}

/// A documented answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Short name (`current`, `docs-2024`, `access-error`).
    pub name: String,
    /// Where it comes from and what it shows.
    pub description: String,
    /// Request parameters that produce it, if documented.
    pub request: Option<serde_json::Value>,
    /// HTTP status.
    pub status: u16,
    /// The whole response body.
    pub body: serde_json::Value,
    /// The body as written in the spec.
    pub raw: String,
    /// Where it was written.
    pub location: Location,
}

/// What one spec file describes.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum SpecFile {
    /// A REST method (`method = "..."`).
    Method(Spec),
    /// An event the portal posts to an application's handler (`event = "..."`).
    Event(EventSpec),
}

/// An event the portal sends to a subscribed handler (`OnSessionStart`), validated.
///
/// The handler receives a form-encoded POST with `event`, `data`, `ts` and `auth`; the spec
/// describes `data` (the common keys are the same for every event and live in `b24-core`).
#[derive(Debug, Clone, PartialEq)]
pub struct EventSpec {
    /// Where the file starts.
    pub location: Location,
    /// Event name as the docs spell it (`OnSessionStart`); the portal sends it in capitals.
    pub event: String,
    /// OAuth scope the subscription needs.
    pub scope: String,
    /// One-line summary.
    pub summary: String,
    /// Longer description (optional).
    pub description: Option<String>,
    /// Link to the official docs page.
    pub docs: String,
    /// Who may subscribe.
    pub access: Option<String>,
    /// The type of the payload's `data` key.
    pub data: DataSpec,
    /// Named objects, in file order.
    pub objects: Vec<Object>,
    /// Named enums, in file order (inline `values` on a key become enums here too).
    pub enums: Vec<EnumDef>,
    /// Documented payloads.
    pub examples: Vec<EventExample>,
}

impl EventSpec {
    /// The event's module name (`on_session_start`).
    pub fn module_name(&self) -> String {
        snake_case(&self.event)
    }

    /// The name as the portal sends it in `event` (`ONSESSIONSTART`).
    pub fn wire_name(&self) -> String {
        self.event.to_ascii_uppercase()
    }
}

/// The `data` of an event.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSpec {
    /// Type of `data`.
    pub ty: TypeExpr,
    /// Description.
    pub description: String,
}

/// A documented event payload, as the docs show it (JSON; the portal sends the same tree
/// form-encoded with PHP-style keys).
#[derive(Debug, Clone, PartialEq)]
pub struct EventExample {
    /// Short name (`current`).
    pub name: String,
    /// Where it comes from and what it shows.
    pub description: String,
    /// The whole payload: `event`, `data`, `ts`, `auth`...
    pub body: serde_json::Value,
    /// The payload as written in the spec.
    pub raw: String,
    /// Where it was written.
    pub location: Location,
}

/// `camelCase` or `snake_case` → `snake_case`.
pub fn snake_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c == '-' || c == '.' {
            out.push('_');
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// `snake_case`, `UPPER_CASE` or `camelCase` → `PascalCase`.
pub fn pascal_case(s: &str) -> String {
    snake_case(s)
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions() {
        assert_eq!(snake_case("getLastId"), "get_last_id");
        assert_eq!(snake_case("pinAll"), "pin_all");
        assert_eq!(snake_case("dialog_id"), "dialog_id");
        assert_eq!(pascal_case("CHAT_ID"), "ChatId");
        assert_eq!(pascal_case("readed_list"), "ReadedList");
        assert_eq!(pascal_case("chatId"), "ChatId");
        assert_eq!(pascal_case("target"), "Target");
    }
}
