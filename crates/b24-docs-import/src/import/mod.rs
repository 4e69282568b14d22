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

use b24_spec::{pascal_case, snake_case, Scalar, TypeExpr};
use b24_spec::{Location, ResultSpec, Spec};

use crate::markdown::{self, plain, Block};
use crate::notes::{Notes, Target, Template};
use crate::page::{NameSource, PageKind};

use self::header::{
    examples_call_another, header_lines, kind_of, scope_and_access, simulator_kind,
};
use self::objects::RawObject;
use self::sections::{detect_template, section_kind, Placed, SectionKind};

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
    // Title.
    let title = blocks
        .iter()
        .find_map(|b| match b {
            Block::Heading(h) if h.level == 1 => Some(h),
            _ => None,
        })
        .ok_or_else(|| err(page, 1, "a `# Title method.name` heading"))?;
    let (method_name, name_from) = match crate::page::classify(src) {
        PageKind::Method { name, from, .. } => (name, from),
        PageKind::NotMethod(why) => {
            return Err(err(
                page,
                title.line,
                format!(
                    "a method page (the method's name in the title, a `Название метода:` line, an info note or the first sentence); this page is a non-method page: {why}"
                ),
            ))
        }
    };
    let method_name = method_name.as_str();
    let summary = if name_from == NameSource::Title {
        title
            .text
            .trim_end()
            .trim_end_matches('`')
            .strip_suffix(method_name)
            .unwrap_or_default()
            .trim()
            .trim_end_matches('`')
            .trim()
            .to_string()
    } else {
        title.text.trim().to_string()
    };

    let header = header_lines(&blocks);
    let (scope, access) = scope_and_access(page, &header);
    let scope_guessed = scope.is_none();
    let (scope, scope_todo) = match scope {
        Some(s) => (s, None),
        None => {
            let guess = method_name
                .split('.')
                .next()
                .unwrap_or(method_name)
                .to_string();
            let t = format!(
                "the page names no scope (no `Scope:` line, none in its includes): `{guess}` is guessed from the method's namespace"
            );
            (guess, Some(t))
        }
    };

    // Place blocks in sections.
    let mut placed = Vec::new();
    let mut section = SectionKind::Other;
    let mut section_heading = None;
    let mut sub = None;
    let mut description_lines = Vec::new();
    let mut seen_section = false;
    let mut in_note = false;
    for b in &blocks {
        if let Block::Text { text, .. } = b {
            if text.starts_with("{% note") {
                in_note = true;
            } else if text.starts_with("{% endnote") {
                in_note = false;
            }
        }
        match b {
            Block::Heading(h) if h.level == 2 => {
                section = section_kind(&h.text);
                section_heading = Some(h);
                sub = None;
                seen_section = true;
                continue;
            }
            Block::Heading(h) if h.level > 2 => {
                sub = Some(h);
                continue;
            }
            Block::Text { text, .. }
                if !seen_section
                    && !in_note
                    && !text.starts_with('>')
                    && !text.starts_with("{%")
                    && !text.starts_with('-') =>
            {
                description_lines.push(plain(text));
            }
            _ => {}
        }
        placed.push(Placed {
            section,
            section_heading,
            sub,
            block: b,
        });
    }
    let template = detect_template(&placed);

    let source = cx
        .root
        .as_ref()
        .and_then(|r| page.strip_prefix(r).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"));
    let mut notes = Notes::default();
    for r in repairs {
        let t = format!(
            "the page's Markdown is broken here; expected {}: check what was imported from it",
            r.expected
        );
        notes.note(Target::Method, r.line, t);
    }
    if let Some(t) = scope_todo {
        notes.note(Target::Method, title.line, t);
    }
    let docs = match &source {
        Some(s) => format!(
            "https://apidocs.bitrix24.ru/{}",
            s.strip_suffix(".md")
                .map_or(s.clone(), |b| format!("{b}.html"))
        ),
        None => {
            let t = "the page is not inside a docs checkout (`.../api-reference/...`): check the `docs` URL";
            notes.note(Target::Method, 0, t);
            format!(
                "https://apidocs.bitrix24.ru/{}",
                page.file_name()
                    .map(|f| f.to_string_lossy().replace(".md", ".html"))
                    .unwrap_or_default()
            )
        }
    };
    let kind = match simulator_kind(cx, method_name) {
        Some(k) => k,
        None => {
            let (k, sure) = kind_from_name(method_name);
            if !sure {
                let t = format!(
                    "`kind` is `{k}` by default (no simulator summary `_assets/simulator/spec/methods/{method_name}.json`, and the name's last word is no known read or write verb): make it `read` if the method only reads; reads are replayed after a lost answer."
                );
                notes.note(Target::Method, title.line, t);
            }
            kind_of(k)
        }
    };
    let summary = if summary.is_empty() {
        let t = "the title has no text besides the method name: write a summary";
        notes.note(Target::Method, title.line, t);
        method_name.to_string()
    } else {
        summary
    };
    let description = {
        let d = description_lines.join("\n");
        (!d.trim().is_empty()).then_some(d)
    };

    let spec = Spec {
        location: Location {
            file: page.to_path_buf(),
            ..Location::default()
        },
        method: method_name.to_string(),
        scope,
        summary,
        description,
        docs,
        access,
        kind,
        auth: b24_spec::Auth::Any,
        rust_name: b24_spec::names::default_rust_name(method_name),
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
    };
    notes.set_ty_guessed(Target::Result, true);
    notes.set_scope_guessed(scope_guessed);
    if name_from != NameSource::Title {
        if let Some(other) = examples_call_another(&blocks, method_name) {
            let t = format!(
                "the page names `{method_name}` but its code examples call `{other}`: check which method the page documents"
            );
            notes.note(Target::Method, title.line, t);
        }
    }
    let mut imp = Importer {
        page,
        template,
        spec,
        notes,
        raw: Vec::new(),
        used_names: HashSet::new(),
        resolving: HashSet::new(),
        renamed: Vec::new(),
    };
    imp.collect_objects(&placed)?;
    imp.params(&placed, src)?;
    imp.response(&placed)?;
    imp.errors(&placed)?;
    imp.request_example(&placed);
    imp.finish_objects();
    Ok(Draft {
        page: page.to_path_buf(),
        source,
        template,
        spec: imp.spec,
        notes: imp.notes,
    })
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
