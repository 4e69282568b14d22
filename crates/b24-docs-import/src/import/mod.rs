//! One docs page → a [`Draft`]: the `b24_spec::Spec` the page documents and the importer's
//! [`Notes`] about it.
//!
//! The page is split into blocks (`markdown`), then into its `##` sections: parameters
//! (`Параметры метода`, `Параметры`, `Список полей`), code examples (`Примеры кода`), the
//! answer (`Обработка ответа`, `Ответ в случае успеха`, `Возвращаемые данные`) and errors
//! (`Обработка ошибок`, `Ответ в случае ошибки`). Tables under `###` headings of a section
//! become named objects, linked from rows by `](#anchor)` or by name. Portal-wide errors
//! (`{% include [системные ошибки] %}`) are not expanded.
//!
//! One file per concern: `sections` (placing blocks under their sections), `header` (scope,
//! access, `kind`), `tables` (columns and rows), `objects` (tables as named objects), `types`
//! (spec types of rows and values), `params`, `response`, `errors` and `examples` (JSON and
//! cURL examples).

mod errors;
mod examples;
mod header;
mod objects;
mod params;
mod response;
mod sections;
mod tables;
mod types;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use b24_spec::{pascal_case, snake_case, MethodKind, Scalar, TypeExpr};
use b24_spec::{Location, ResultSpec, Spec};

use crate::markdown;
use crate::notes::{Notes, Target, Template};
use crate::page::PageKind;

use self::header::read_header;
use self::objects::RawObject;
use self::sections::{detect_template, place_blocks, Placed};

pub use header::kind_from_name;
pub(crate) use objects::field;
pub use types::infer;

/// A page read into a spec, before the cross-check with its examples
/// ([`crate::import_page`]).
#[derive(Debug, Clone)]
pub struct Draft {
    /// The page, as the caller named it.
    pub page: PathBuf,
    /// The page's path inside the docs checkout (`api-reference/...md`), when known.
    pub source: Option<String>,
    /// The template it follows.
    pub template: Template,
    /// What the page documents.
    pub spec: Spec,
    /// What the importer had to guess.
    pub notes: Notes,
}

/// A page the importer cannot read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The page.
    pub page: PathBuf,
    /// 1-based line (0: the page as a whole).
    pub line: usize,
    /// What was expected there.
    pub expected: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: cannot import: expected {}",
            self.page.display(),
            self.line,
            self.expected
        )
    }
}

impl std::error::Error for ImportError {}

/// The docs checkout a page belongs to: the folder holding `api-reference/` (and, in current
/// checkouts, `_assets/simulator/spec/methods/`).
pub fn docs_root_of(page: &Path) -> Option<PathBuf> {
    let mut cur = page.parent();
    while let Some(dir) = cur {
        if dir.file_name().is_some_and(|n| n == "api-reference") {
            return dir.parent().map(Path::to_path_buf);
        }
        cur = dir.parent();
    }
    None
}

struct Importer<'a> {
    page: &'a Path,
    template: Template,
    spec: Spec,
    notes: Notes,
    raw: Vec<RawObject>,
    used_names: HashSet<String>,
    resolving: HashSet<usize>,
    /// Objects renamed to avoid a clash, with the note to attach.
    renamed: Vec<(String, String)>,
}

/// Context of an import: where the docs checkout is (for the simulator's `kind` and the
/// page's source path).
#[derive(Debug, Clone, Default)]
pub struct DocsContext {
    /// The folder holding `api-reference/`.
    pub root: Option<PathBuf>,
}

fn err(page: &Path, line: usize, expected: impl Into<String>) -> ImportError {
    ImportError {
        page: page.to_path_buf(),
        line,
        expected: expected.into(),
    }
}

/// The method a page documents, if it is a method page (see [`crate::page`]).
pub fn page_method(src: &str) -> Option<String> {
    match crate::page::classify(src) {
        PageKind::Method { name, .. } => Some(name),
        PageKind::NotMethod(_) => None,
    }
}

/// Reads one page into a [`Draft`] (not yet cross-checked against its examples; see
/// [`crate::import_page`]).
pub fn read_page(page: &Path, src: &str, cx: &DocsContext) -> Result<Draft, ImportError> {
    let markdown::Page { blocks, repairs } = markdown::read(src);
    let (placed, description) = place_blocks(&blocks);
    let template = detect_template(&placed);
    let source = source_path(cx, page);
    let mut notes = Notes::default();
    for r in repairs {
        let t = format!(
            "the page's Markdown is broken here; expected {}: check what was imported from it",
            r.expected
        );
        notes.note(Target::Method, r.line, t);
    }
    let header = read_header(page, src, cx, &blocks, source.as_deref(), &mut notes)?;
    notes.set_ty_guessed(Target::Result, true);
    let spec = Spec {
        description,
        ..header
    };
    let mut imp = Importer::new(page, template, spec, notes);
    imp.read_sections(&placed, src)?;
    Ok(Draft {
        page: page.to_path_buf(),
        source,
        template,
        spec: imp.spec,
        notes: imp.notes,
    })
}

/// The page's path inside its docs checkout (`api-reference/...md`), when it lies in one.
fn source_path(cx: &DocsContext, page: &Path) -> Option<String> {
    cx.root
        .as_ref()
        .and_then(|r| page.strip_prefix(r).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"))
}

/// A spec of `method` read from `page`, before its header and sections are: no scope, no
/// parameters, an untyped result, no objects, errors or examples.
fn method_spec(page: &Path, method: &str) -> Spec {
    Spec {
        location: Location {
            file: page.to_path_buf(),
            ..Location::default()
        },
        method: method.to_string(),
        scope: String::new(),
        summary: String::new(),
        description: None,
        docs: String::new(),
        access: None,
        kind: MethodKind::Write,
        auth: b24_spec::Auth::Any,
        rust_name: b24_spec::names::default_rust_name(method),
        params: Vec::new(),
        one_of: Vec::new(),
        result: ResultSpec {
            ty: TypeExpr::Scalar(Scalar::Any),
            description: String::new(),
            paged: false,
            note: None,
        },
        objects: Vec::new(),
        enums: Vec::new(),
        errors: Vec::new(),
        examples: Vec::new(),
    }
}

impl<'a> Importer<'a> {
    fn new(page: &'a Path, template: Template, spec: Spec, notes: Notes) -> Self {
        Importer {
            page,
            template,
            spec,
            notes,
            raw: Vec::new(),
            used_names: HashSet::new(),
            resolving: HashSet::new(),
            renamed: Vec::new(),
        }
    }

    /// Reads the page's sections into the spec: the tables under `###` headings, then the
    /// parameters, the answer, the errors and the request example; last, the objects that
    /// these use.
    fn read_sections(&mut self, placed: &[Placed<'_>], src: &str) -> Result<(), ImportError> {
        self.collect_objects(placed)?;
        self.params(placed, src)?;
        self.response(placed)?;
        self.errors(placed)?;
        self.request_example(placed);
        self.finish_objects();
        self.paging();
        Ok(())
    }

    /// A list the page does not say pages (no `next`/`total` row) but whose success example
    /// shows `next` or `total`, or which takes a `start` parameter, pages: `paged`, with a
    /// note.
    fn paging(&mut self) {
        if self.spec.result.paged {
            return;
        }
        let shown = self.spec.examples.iter().any(|e| {
            e.status == 200 && (e.body.get("next").is_some() || e.body.get("total").is_some())
        });
        let start = self
            .spec
            .params
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case("start"));
        if !(shown || start) {
            return;
        }
        self.spec.result.paged = true;
        let why = if shown {
            "its answer shows `next`/`total`"
        } else {
            "it takes a `start` parameter"
        };
        let m = self.warn(
            0,
            format!("the page does not list `next`/`total`, but {why}: marked `paged`"),
        );
        self.notes.todo(Target::Result, m);
    }
}

impl Importer<'_> {
    fn warn(&mut self, line: usize, message: impl Into<String>) -> String {
        self.notes.warn(line, message)
    }

    /// `<Method>Result`: the name of an object describing the result.
    fn result_name(&self) -> String {
        format!(
            "{}Result",
            pascal_case(&snake_case(
                &self
                    .spec
                    .method
                    .split('.')
                    .skip(1)
                    .collect::<Vec<_>>()
                    .join("_")
            ))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_pages() {
        assert_eq!(
            page_method("# Получить imopenlines.dialog.get\n").as_deref(),
            Some("imopenlines.dialog.get")
        );
        assert_eq!(page_method("# События OnImConnectorMessageAdd\n"), None);
    }
}
