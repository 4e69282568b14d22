//! What the importer read from one docs page, before it becomes TOML.
//!
//! Every item carries the `TODO(review)` notes the importer attached to it (what it had to
//! guess); they become comments in the spec file and warnings on the console. Values the page
//! does not state (an error's status in the 2024 template, a key's type) are marked as
//! guessed so `drift` does not compare them.

use std::fmt;
use std::path::PathBuf;

/// Which page template a page follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// Today's pages: `Название`/`тип` tables, `## Обработка ответа`, `## Обработка ошибок`.
    Current,
    /// 2024 pages: `Пример`/`Описание`/`Ревизия` columns, `### Описание ключей` lists,
    /// `## Ответ в случае ошибки`.
    Legacy2024,
}

impl Template {
    /// Short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Template::Current => "current",
            Template::Legacy2024 => "2024",
        }
    }
}

/// A method read from a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// The page, as the caller named it.
    pub page: PathBuf,
    /// The page's path inside the docs checkout (`api-reference/...md`), when known.
    pub source: Option<String>,
    /// The template it follows.
    pub template: Template,
    /// REST name.
    pub method: String,
    /// OAuth scope.
    pub scope: String,
    /// The page states no scope: `scope` is the namespace (drift does not compare it).
    pub scope_guessed: bool,
    /// The page title without the method name.
    pub summary: String,
    /// The text between the access line and the first section.
    pub description: Option<String>,
    /// Docs URL.
    pub docs: String,
    /// Who may call it.
    pub access: Option<String>,
    /// `read` or `write`.
    pub kind: String,
    /// Notes about the method as a whole.
    pub todos: Vec<String>,
    /// Request parameters.
    pub params: Vec<Param>,
    /// The result.
    pub result: ResultType,
    /// Named objects (of the result and of parameters).
    pub objects: Vec<Object>,
    /// The method's own error codes.
    pub errors: Vec<ErrorCode>,
    /// Documented answers.
    pub examples: Vec<Example>,
    /// What the importer had to guess, with the page line it is about.
    pub warnings: Vec<Warning>,
}

/// A guess the importer made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based page line (0 when not tied to one).
    pub line: usize,
    /// What was guessed.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A request parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Wire name.
    pub name: String,
    /// Spec type expression.
    pub ty: String,
    /// Whether the type was not stated by the page.
    pub ty_guessed: bool,
    /// Marked required.
    pub required: bool,
    /// Description.
    pub description: String,
    /// Example value (2024 `Пример` column or the request example).
    pub example: Option<serde_json::Value>,
    /// Notes for the reviewer.
    pub todos: Vec<String>,
    /// Page line.
    pub line: usize,
}

/// The type of `result`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultType {
    /// Spec type expression.
    pub ty: String,
    /// Whether the type was not stated by the page.
    pub ty_guessed: bool,
    /// Description.
    pub description: String,
    /// Whether the envelope documents `next`/`total`.
    pub paged: bool,
    /// Notes for the reviewer.
    pub todos: Vec<String>,
}

/// A named object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// Type name (PascalCase).
    pub name: String,
    /// Description.
    pub description: String,
    /// Keys.
    pub fields: Vec<Field>,
    /// Notes for the reviewer.
    pub todos: Vec<String>,
    /// Page line of its heading.
    pub line: usize,
}

/// A key of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Wire name.
    pub name: String,
    /// Spec type expression.
    pub ty: String,
    /// Whether the type was not stated by the page.
    pub ty_guessed: bool,
    /// Whether the key may be absent.
    pub optional: bool,
    /// Description.
    pub description: String,
    /// Notes for the reviewer.
    pub todos: Vec<String>,
    /// Page line.
    pub line: usize,
}

/// A documented error code.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorCode {
    /// Wire code.
    pub code: String,
    /// HTTP status.
    pub status: u16,
    /// Whether the page does not state the status.
    pub status_guessed: bool,
    /// `error_description`.
    pub message: Option<String>,
    /// Meaning.
    pub description: String,
    /// Notes for the reviewer.
    pub todos: Vec<String>,
    /// Page line.
    pub line: usize,
}

/// A documented answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// Unique name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// Request parameters, when the page's cURL example shows them.
    pub request: Option<serde_json::Map<String, serde_json::Value>>,
    /// HTTP status.
    pub status: u16,
    /// The body, parsed.
    pub body: serde_json::Value,
    /// Page line of the code block.
    pub line: usize,
}

impl Method {
    /// A named object by name.
    pub fn object(&self, name: &str) -> Option<&Object> {
        self.objects.iter().find(|o| o.name == name)
    }

    /// A named object by name, mutable.
    pub fn object_mut(&mut self, name: &str) -> Option<&mut Object> {
        self.objects.iter_mut().find(|o| o.name == name)
    }

    /// A key of a named object, to change.
    pub fn field_mut(&mut self, object: &str, field: &str) -> Option<&mut Field> {
        self.object_mut(object)?
            .fields
            .iter_mut()
            .find(|f| f.name == field)
    }
}
