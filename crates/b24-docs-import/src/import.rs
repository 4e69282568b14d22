//! One docs page → a [`Draft`]: the `b24_spec::Spec` the page documents and the importer's
//! [`Notes`] about it.
//!
//! The page is split into blocks (`markdown`), then into its `##` sections: parameters
//! (`Параметры метода`, `Параметры`, `Список полей`), code examples (`Примеры кода`), the
//! answer (`Обработка ответа`, `Ответ в случае успеха`, `Возвращаемые данные`) and errors
//! (`Обработка ошибок`, `Ответ в случае ошибки`). Tables under `###` headings of a section
//! become named objects, linked from rows by `](#anchor)` or by name. Portal-wide errors
//! (`{% include [системные ошибки] %}`) are not expanded.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use b24_spec::wire::strip_null;
use b24_spec::{pascal_case, snake_case, MethodKind, Scalar, TypeExpr};
use b24_spec::{ErrorCode, Example, Field, Location, Object, Param, ResultSpec, Spec};
use serde_json::Value;

use crate::markdown::{self, anchors, code_spans, plain, Block, Heading, Row, Table};
use crate::notes::{Notes, Target, Template};
use crate::page::{NameSource, PageKind};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SectionKind {
    Params,
    Examples,
    Response,
    Errors,
    Other,
}

fn section_kind(title: &str) -> SectionKind {
    let t = title.trim().trim_end_matches(':').trim();
    let lower = t.to_lowercase();
    let starts = |words: &[&str]| words.iter().any(|w| lower.starts_with(w));
    // Errors first: "Ответ в случае ошибки" also starts with "Ответ".
    if starts(&[
        "обработка ошибок",
        "ответ в случае ошибки",
        "возможные ошибки",
        "коды ошибок",
        "error handling",
        "error response",
        "errors",
        "possible errors",
    ]) {
        SectionKind::Errors
    } else if starts(&[
        "параметры",
        "список полей",
        "method parameters",
        "parameters",
        "list of fields",
    ]) {
        SectionKind::Params
    } else if starts(&[
        "пример",
        "запрос",
        "вызов",
        "code example",
        "example",
        "request",
    ]) {
        SectionKind::Examples
    } else if starts(&[
        "обработка ответа",
        "ответ",
        "возвращаемые данные",
        "response handling",
        "successful response",
        "response",
        "returned data",
    ]) {
        SectionKind::Response
    } else {
        SectionKind::Other
    }
}

/// A block with the headings it sits under.
struct Placed<'b> {
    section: SectionKind,
    section_heading: Option<&'b Heading>,
    sub: Option<&'b Heading>,
    block: &'b Block,
}

/// Which column holds what.
#[derive(Debug, Default)]
struct Columns {
    name: Option<usize>,
    ty: Option<usize>,
    description: Option<usize>,
    example: Option<usize>,
    status: Option<usize>,
    code: Option<usize>,
    message: Option<usize>,
    meaning: Option<usize>,
    legacy: bool,
}

fn columns(header: &Row) -> Columns {
    let mut c = Columns::default();
    for (i, cell) in header.cells.iter().enumerate() {
        let t = plain(cell).to_lowercase();
        // `Параметр / Тип`, `Название`, `Name`: the first word names the column.
        let first = t
            .lines()
            .next()
            .unwrap_or("")
            .split(['/', '`'])
            .next()
            .unwrap_or("")
            .trim()
            .trim_end_matches(':')
            .to_string();
        // `Сообщение об ошибке`, `Описание ошибки`: the first word decides, unless the whole
        // header is a known one (`С версии`).
        let first = match first.as_str() {
            "с версии" => first,
            _ => first.split_whitespace().next().unwrap_or("").to_string(),
        };
        match first.as_str() {
            "название" | "параметр" | "параметры" | "поле" | "ключ" | "name" | "parameter"
            | "field" | "key" => {
                c.name = Some(i);
                if t.contains("тип") || t.contains("type") {
                    c.ty = Some(i);
                }
            }
            "тип" | "type" => c.ty = Some(i),
            "описание" | "description" => {
                // `Код | Описание` (the text is the message) or, after a message column,
                // `Код | Сообщение об ошибке | Описание` (the text explains it).
                match (c.code, c.message) {
                    (Some(_), None) => c.message = Some(i),
                    (Some(_), Some(_)) => c.meaning = Some(i),
                    _ => c.description = Some(i),
                }
            }
            "сообщение" | "cообщение" | "message" | "error" if c.code.is_some() => {
                c.message = Some(i)
            }
            "пример" | "example" => {
                c.example = Some(i);
                c.legacy = true;
            }
            "ревизия" | "с версии" => c.legacy = true,
            "статус" | "status" => c.status = Some(i),
            "код" | "code" => c.code = Some(i),
            "значение" | "value" => c.meaning = Some(i),
            _ => {}
        }
    }
    c
}

/// A row of a parameter or field table.
#[derive(Debug, Clone)]
struct RowInfo {
    name: String,
    required: bool,
    /// Code spans of the type part (`integer`, `null`, `object[]`).
    types: Vec<String>,
    anchors: Vec<String>,
    description: String,
    raw_description: String,
    example: Option<String>,
    line: usize,
}

fn row_info(cols: &Columns, row: &Row) -> Option<RowInfo> {
    let ni = cols.name?;
    let cell = row.cells.get(ni)?;
    let mut lines = cell.lines();
    let first = lines.next().unwrap_or("").trim();
    let (name, after) = match first.strip_prefix("**") {
        Some(rest) => match rest.find("**") {
            Some(end) => (&rest[..end], &rest[end + 2..]),
            None => (rest, ""),
        },
        None => (first, ""),
    };
    let mut name = name.replace('\\', "");
    // `**TASKID^*^**`: the 2024 template's superscript star inside the bold name.
    let mut required_mark = false;
    if let Some(stripped) = name.strip_suffix("^*^") {
        name = stripped.to_string();
        required_mark = true;
    }
    // `**ID***`, `**ID**\*`, `**ID**^*^` (the 2024 template's superscript).
    let mut required = after.trim_start().starts_with('*')
        || after.contains("\\*")
        || after.trim_start().starts_with("^*^")
        || required_mark;
    if let Some(stripped) = name.strip_suffix('*') {
        name = stripped.trim().to_string();
        required = true;
    }
    let name = name.trim().trim_matches('`').to_string();
    if name.is_empty() {
        return None;
    }
    let mut type_md: String = after.to_string();
    for l in lines {
        type_md.push('\n');
        type_md.push_str(l);
    }
    if let Some(ti) = cols.ty.filter(|t| *t != ni) {
        if let Some(c) = row.cells.get(ti) {
            type_md.push('\n');
            type_md.push_str(c);
        }
    }
    let raw_description = cols
        .description
        .and_then(|d| row.cells.get(d))
        .cloned()
        .unwrap_or_default();
    let mut all_anchors = anchors(&type_md);
    all_anchors.extend(anchors(&raw_description));
    let example = cols.example.and_then(|e| row.cells.get(e)).and_then(|c| {
        let first = plain(c).lines().next().unwrap_or("").to_string();
        let v = first.replace('`', "");
        (!v.trim().is_empty()).then(|| v.trim().to_string())
    });
    Some(RowInfo {
        name,
        required,
        types: code_spans(&type_md)
            .into_iter()
            .map(|t| t.to_lowercase())
            .collect(),
        anchors: all_anchors,
        description: plain(&raw_description),
        raw_description,
        example,
        line: row.line,
    })
}

/// A table under a `###` heading: a named object candidate.
#[derive(Debug, Clone)]
struct RawObject {
    /// Word from the heading (`result`, `entityLink`, `ICON`).
    word: String,
    anchor: Option<String>,
    is_item: bool,
    params: bool,
    heading: String,
    rows: Vec<RowInfo>,
    line: usize,
    /// Assigned type name, once used.
    name: Option<String>,
    /// Text right under the heading.
    description: Option<String>,
}

impl RawObject {
    /// An object documented as `<id>` keys: a map.
    fn map_row(&self) -> Option<&RowInfo> {
        match self.rows.as_slice() {
            [only] if only.name.contains('<') => Some(only),
            _ => None,
        }
    }
}

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The one method the page's code examples call (`callMethod('x.y'`, `.../x.y` in a URL,
/// `restCommand('x.y'`), when they call exactly one and it is not `name` (ignoring case, as the
/// portal does).
fn examples_call_another(blocks: &[Block], name: &str) -> Option<String> {
    let mut called: Vec<String> = Vec::new();
    for b in blocks {
        let Block::Code(c) = b else { continue };
        for quote in ['\'', '"', '/'] {
            for part in c.text.split(quote).skip(1) {
                let word = part
                    .split(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '_'))
                    .next()
                    .unwrap_or("");
                let word = word.trim_end_matches(".json");
                if crate::page::is_method_name(word)
                    && word.matches('.').count() >= 1
                    && word.split('.').next() == name.split('.').next()
                    && !called.iter().any(|w| w == word)
                {
                    called.push(word.to_string());
                }
            }
        }
    }
    match called.as_slice() {
        [only] if !only.eq_ignore_ascii_case(name) => Some(only.clone()),
        _ => None,
    }
}

/// `Код ошибки: `CODE`` / `Error code: `CODE``: the code, when it is one.
fn v3_code_line(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    if !(lower.starts_with("код ошибки") || lower.starts_with("error code")) {
        return None;
    }
    let code = code_spans(text).into_iter().next()?;
    let valid = !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid.then_some(code)
}

/// A portal message as the page writes it in a cell: one code span (`` `Access denied` ``)
/// is the literal text without its backticks.
fn literal_text(cell: &str) -> String {
    let t = cell.trim();
    match t.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        Some(inner) if !inner.contains('`') => inner.to_string(),
        _ => t.to_string(),
    }
}

/// `### Дополнительные параметры` / `### Additional Parameters`: a second table of the
/// method's own parameters.
fn is_more_params(heading: &str) -> bool {
    let h = heading.trim().to_lowercase();
    h.starts_with("дополнительные параметры") || h.starts_with("additional parameters")
}

/// A field table whose name column is headed `Параметр` / `Parameter`.
fn names_parameters(t: &Table) -> bool {
    is_field_table(t)
        && t.rows.first().is_some_and(|h| {
            h.cells.first().is_some_and(|c| {
                let c = plain(c).to_lowercase();
                c.starts_with("параметр") || c.starts_with("parameter")
            })
        })
}

/// `### Возвращаемые данные` / `### Returned Data`: the table of the answer's top level.
fn is_returned_data(heading: &str) -> bool {
    let h = heading.trim().to_lowercase();
    h.starts_with("возвращаемые данные") || h.starts_with("returned data")
}

/// `### Описание ключей` / `### Key Descriptions` (2024 template): a list of keys.
fn is_key_list(heading: &str) -> bool {
    let h = heading.trim().to_lowercase();
    h.starts_with("описание ключей")
        || h.starts_with("key description")
        || h.starts_with("description of keys")
}

fn heading_word(text: &str) -> (String, bool) {
    let lower = text.to_lowercase();
    let is_item = text.contains("Элемент массива")
        || text.contains("элемент")
        || text.trim_end().ends_with("[]")
        || text.trim_end().ends_with("[]`")
        || lower.contains(" item")
        || lower.contains("array element");
    // The English translation puts the kind last: `Result Object`, `Readed List Item Object`.
    const KIND_WORDS: &[&str] = &["object", "item", "element", "array", "structure", "fields"];
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut end = words.len();
    while end > 1 && KIND_WORDS.contains(&words[end - 1].trim_matches('`').to_lowercase().as_str())
    {
        end -= 1;
    }
    let word = if end < words.len() && words[..end].iter().all(|w| w.is_ascii()) {
        // English: the words before the kind make the name (`Readed List` → `readedList`).
        let mut out = String::new();
        for (i, w) in words[..end].iter().enumerate() {
            let w = w.trim_matches('`');
            if i == 0 {
                out.push_str(&w.to_lowercase());
            } else {
                let mut cs = w.chars();
                if let Some(c) = cs.next() {
                    out.extend(c.to_uppercase());
                    out.push_str(cs.as_str());
                }
            }
        }
        out
    } else {
        words.last().copied().unwrap_or(text).to_string()
    };
    let word = word.trim_matches('`').trim_end_matches("[]").to_string();
    (word, is_item)
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

/// Whether a type is written starting with `map<` (`map<X>`, `map<X>[]`).
fn starts_with_map(t: &TypeExpr) -> bool {
    match t {
        TypeExpr::Map(_) => true,
        TypeExpr::Array(t) | TypeExpr::Nullable(t) => starts_with_map(t),
        TypeExpr::Scalar(_) | TypeExpr::Named(_) => false,
    }
}

/// A table row's type.
struct RowType {
    ty: TypeExpr,
    /// Not stated by the page.
    guessed: bool,
    /// For the reviewer.
    note: Option<String>,
    /// A bare `array`: no element type on the page.
    untyped_array: bool,
}

/// A documented answer; its text in the spec file is the body as pretty JSON.
pub(crate) fn example(name: String, description: String, status: u16, body: Value) -> Example {
    let mut raw = serde_json::to_string_pretty(&body).unwrap_or_else(|_| body.to_string());
    raw.push('\n');
    Example {
        name,
        description,
        request: None,
        status,
        body,
        raw,
        location: Location::default(),
    }
}

/// A key of an object.
pub(crate) fn field(name: &str, ty: TypeExpr, optional: bool, description: String) -> Field {
    Field {
        name: name.to_string(),
        ty,
        description,
        optional,
        aliases: Vec::new(),
        note: None,
        location: Location::default(),
    }
}

/// A named object.
fn object(name: &str, description: String, fields: Vec<Field>) -> Object {
    Object {
        name: name.to_string(),
        description,
        fields,
        untyped_keys: Vec::new(),
        location: Location::default(),
    }
}

fn kind_of(kind: &str) -> MethodKind {
    if kind == "read" {
        MethodKind::Read
    } else {
        MethodKind::Write
    }
}

/// The text lines between the title and the first `##` section (the page's header: scope,
/// who may call it, notes).
fn header_lines(blocks: &[Block]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut seen_title = false;
    for b in blocks {
        match b {
            Block::Heading(h) if h.level == 1 => seen_title = true,
            Block::Heading(h) if h.level == 2 && seen_title => break,
            Block::Text { line, text } if seen_title => out.push((*line, text.clone())),
            _ => {}
        }
    }
    out
}

/// The scope (the first code span after `Scope`) and who may call the method, from the
/// header's lines (`> Scope: [`task`](...)`, `**Scope**: [`task`](...) | **Кто может
/// выполнять метод**: ...`) or, when the header only includes them, from the included
/// file (`{% include notitle [...](./_includes/scope-sonet-all.md) %}`).
fn scope_and_access(page: &Path, header: &[(usize, String)]) -> (Option<String>, Option<String>) {
    let mut scope = None;
    let mut access = None;
    for (_, text) in header {
        read_scope_line(text, &mut scope, &mut access);
    }
    if scope.is_none() {
        for (_, text) in header {
            let Some(target) = include_target(text) else {
                continue;
            };
            let Some(inc) = read_include(page, target) else {
                continue;
            };
            for line in inc.lines().take(200) {
                read_scope_line(line.trim(), &mut scope, &mut access);
            }
            if scope.is_some() {
                break;
            }
        }
    }
    (scope, access)
}

/// The text of an include a page names, if it is a `.md` file inside the page's docs
/// checkout (or, for a page outside one, beside or below the page): a docs page never makes
/// the importer read anything else. At most 256 KiB are read.
fn read_include(page: &Path, target: &str) -> Option<String> {
    use std::io::Read;
    if target.starts_with('/') || !target.ends_with(".md") || target.contains('\\') {
        return None;
    }
    let dir = page.parent()?;
    let path = std::fs::canonicalize(dir.join(target)).ok()?;
    let allowed = match docs_root_of(page) {
        Some(root) => std::fs::canonicalize(root).ok()?,
        None => std::fs::canonicalize(dir).ok()?,
    };
    if !path.starts_with(&allowed) {
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(256 * 1024)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

fn read_scope_line(text: &str, scope: &mut Option<String>, access: &mut Option<String>) {
    let t = text.trim_start_matches('>').trim();
    // `**Scope**: [...] **Права на выполнение**: ...` (no ` | ` between the two): split
    // before each bold label.
    let t = t.replace(" **", " | **");
    for part in t.split(" | ") {
        let part = part.trim().replace("**", "");
        let lower = part.to_lowercase();
        if scope.is_none() && lower.starts_with("scope") {
            if let Some((_, rest)) = part.split_once(':') {
                *scope = code_spans(rest)
                    .into_iter()
                    .next()
                    .map(|s| s.split(',').next().unwrap_or(&s).trim().to_string())
                    .filter(|s| !s.is_empty());
            }
        } else if access.is_none()
            && (lower.starts_with("кто может выполнять метод")
                || lower.starts_with("права на выполнение")
                || lower.starts_with("who can"))
        {
            if let Some((_, rest)) = part.split_once(':') {
                let a = plain(rest);
                if !a.is_empty() {
                    *access = Some(a.trim_matches('`').to_string());
                }
            }
        }
    }
}

/// `{% include [...](path) %}` / `{% include notitle [...](path) %}` → `path`.
fn include_target(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("{% include")?;
    let open = rest.find("](")?;
    let tail = rest.get(open + 2..)?;
    let close = tail.find(')')?;
    tail.get(..close)
}

/// The key a list item opens with (`` `key` ``, `**key**` or ``**`key`**``) and the text after
/// it; `None` when the item opens with anything else or the key is not a plain name.
fn leading_key(item: &str) -> Option<(String, &str)> {
    let (key, after) = if let Some(rest) = item.strip_prefix("**") {
        let end = rest.find("**")?;
        (rest.get(..end)?.trim_matches('`'), rest.get(end + 2..)?)
    } else if let Some(rest) = item.strip_prefix('`') {
        let end = rest.find('`')?;
        (rest.get(..end)?, rest.get(end + 1..)?)
    } else {
        return None;
    };
    let plain_name = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']'));
    plain_name.then(|| (key.to_string(), after))
}

fn detect_template(placed: &[Placed<'_>]) -> Template {
    let legacy_heading = placed.iter().any(|p| {
        p.section_heading.is_some_and(|h| {
            h.text.starts_with("Ответ в случае") || h.text.starts_with("Список полей")
        }) || p.sub.is_some_and(|h| is_key_list(&h.text))
    });
    let legacy_table = placed.iter().any(|p| match p.block {
        Block::Table(t) => t.rows.first().is_some_and(|h| columns(h).legacy),
        _ => false,
    });
    if legacy_heading || legacy_table {
        Template::Legacy2024
    } else {
        Template::Current
    }
}

/// `kind` from the verb the method's last word starts with (`getFields` → read,
/// `addStage` → write), and whether the verb is a known one. An unknown verb gives `write`:
/// a write is never replayed, so the default is the safe one.
pub fn kind_from_name(method: &str) -> (&'static str, bool) {
    const READ: &[&str] = &[
        "get", "list", "fields", "search", "count", "status", "info", "find", "describe", "is",
        "can", "check", "current",
    ];
    const WRITE: &[&str] = &[
        "add",
        "update",
        "delete",
        "set",
        "create",
        "remove",
        "start",
        "stop",
        "complete",
        "close",
        "open",
        "pause",
        "reopen",
        "defer",
        "renew",
        "approve",
        "disapprove",
        "register",
        "unregister",
        "bind",
        "unbind",
        "send",
        "attach",
        "detach",
        "upload",
        "move",
        "copy",
        "rename",
        "restore",
        "markdeleted",
        "kill",
        "terminate",
        "invite",
        "request",
        "accept",
        "decline",
        "delegate",
        "clear",
        "reset",
        "enable",
        "disable",
        "save",
        "hide",
        "show",
        "finish",
        "cancel",
        "activate",
        "deactivate",
        "mute",
        "unmute",
        "pin",
        "unpin",
        "vote",
        "like",
        "unlike",
        "import",
        "publish",
        "answer",
        "join",
        "leave",
        "transfer",
        "skip",
        "end",
        "init",
        "sort",
        "edit",
        "apply",
    ];
    let last = method.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    // `addStage`, `getList`, `deleteTask`: the verb, then a capitalised word (lost to
    // the lower-casing, so compare prefixes: `getfields` starts with `get`).
    let starts = |verbs: &[&str]| verbs.iter().any(|v| last.starts_with(v));
    if starts(READ) {
        ("read", true)
    } else if starts(WRITE) {
        ("write", true)
    } else {
        ("write", false)
    }
}

fn simulator_kind(cx: &DocsContext, method: &str) -> Option<MethodKind> {
    let root = cx.root.as_ref()?;
    let path = root
        .join("_assets/simulator/spec/methods")
        .join(format!("{method}.json"));
    let text = std::fs::read_to_string(path).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    match v.get("kind")?.as_str()? {
        k @ ("read" | "write") => Some(kind_of(k)),
        _ => None,
    }
}

fn is_field_table(t: &Table) -> bool {
    let (c, _) = table_columns(t);
    c.name.is_some() && c.code.is_none()
}

/// The table's columns and its data rows. A table whose first row is no header but already a
/// field (`|| **TASKID*** [`integer`] | Идентификатор ||`, some pages leave the header out)
/// is read as name-and-type, then description.
fn table_columns(t: &Table) -> (Columns, &[Row]) {
    let Some(first) = t.rows.first() else {
        return (Columns::default(), &[]);
    };
    let c = columns(first);
    if c.name.is_some() || c.code.is_some() {
        return (c, t.rows.get(1..).unwrap_or_default());
    }
    let looks_like_field = first.cells.len() >= 2
        && first
            .cells
            .first()
            .is_some_and(|cell| cell.trim_start().starts_with("**"));
    if looks_like_field {
        let headerless = Columns {
            name: Some(0),
            ty: Some(0),
            description: Some(1),
            ..Columns::default()
        };
        (headerless, &t.rows)
    } else {
        (c, t.rows.get(1..).unwrap_or_default())
    }
}

/// The HTTP status a line states: `HTTP-статус: **400**`, `HTTP Status: **400**`, or a
/// status line (`> 200 OK`, `400 Bad Request`) of the 2024 template.
fn http_status(text: &str) -> Option<u16> {
    let bare = text.trim_start_matches('>').trim().trim_matches('*');
    let mut words = bare.split_whitespace();
    if let (Some(code), Some(reason)) = (words.next(), words.next()) {
        let code = code.trim_matches('*');
        if code.len() == 3
            && reason.starts_with(|c: char| c.is_ascii_uppercase())
            && bare.len() < 40
        {
            if let Ok(n) = code.parse::<u16>() {
                if (100..600).contains(&n) {
                    return Some(n);
                }
            }
        }
    }
    let at = text
        .find("HTTP-статус")
        .or_else(|| text.find("HTTP Status"))
        .or_else(|| text.find("HTTP status"))?;
    let rest = &text[at..];
    let start = rest.find(|c: char| c.is_ascii_digit())?;
    rest[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
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

    /// Tables under `###` headings (or `## Список полей`) become object candidates.
    fn collect_objects(&mut self, placed: &[Placed<'_>]) -> Result<(), ImportError> {
        for (i, p) in placed.iter().enumerate() {
            let Block::Table(t) = p.block else { continue };
            if !is_field_table(t) {
                continue;
            }
            let heading = match (p.sub, p.section_heading) {
                (Some(h), _) => h,
                (None, Some(h)) if h.text.starts_with("Список полей") => h,
                _ => continue,
            };
            if is_returned_data(&heading.text) || is_more_params(&heading.text) {
                continue;
            }
            if !matches!(p.section, SectionKind::Params | SectionKind::Response) {
                continue;
            }
            let (cols, data) = table_columns(t);
            let rows: Vec<RowInfo> = data.iter().filter_map(|r| row_info(&cols, r)).collect();
            let (word, is_item) = if heading.text.starts_with("Список полей") {
                ("fields".to_string(), false)
            } else {
                heading_word(&heading.text)
            };
            let description = placed[..i]
                .iter()
                .rev()
                .take_while(|q| !matches!(q.block, Block::Table(_)))
                .filter(|q| q.sub.map(|h| h.line) == Some(heading.line))
                .find_map(|q| match q.block {
                    Block::Text { text, .. } if !text.starts_with("{%") => Some(plain(text)),
                    _ => None,
                });
            self.raw.push(RawObject {
                word,
                anchor: heading.anchor.clone(),
                is_item,
                params: p.section == SectionKind::Params,
                heading: heading.text.clone(),
                rows,
                line: heading.line,
                name: None,
                description,
            });
        }
        Ok(())
    }

    fn find_link(&self, row: &RowInfo, params: bool) -> Option<usize> {
        for a in &row.anchors {
            if let Some(i) = self
                .raw
                .iter()
                .position(|o| o.anchor.as_deref() == Some(a.as_str()) && o.params == params)
            {
                return Some(i);
            }
            if let Some(i) = self
                .raw
                .iter()
                .position(|o| o.anchor.as_deref() == Some(a.as_str()))
            {
                return Some(i);
            }
        }
        // 2024 template: `PARAMS` "... Список полей — ниже" and a `## Список полей` table.
        if params && row.raw_description.contains("ниже") {
            let lists: Vec<usize> = (0..self.raw.len())
                .filter(|i| self.raw[*i].params && self.raw[*i].heading.starts_with("Список полей"))
                .collect();
            if let [only] = lists.as_slice() {
                return Some(*only);
            }
        }
        let n = norm(&row.name);
        self.raw.iter().position(|o| {
            o.params == params
                && (norm(&o.word) == n || (o.is_item && norm(&o.word) == n))
                && !o.rows.iter().any(|r| r.line == row.line)
        })
    }

    fn object_name(&mut self, idx: usize) -> String {
        if let Some(n) = &self.raw[idx].name {
            return n.clone();
        }
        let o = &self.raw[idx];
        let mut base = if !o.params && norm(&o.word) == "result" && !o.is_item {
            self.result_name()
        } else {
            let w: String = o
                .word
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let p = pascal_case(&w);
            if p.is_empty() {
                "Object".to_string()
            } else if o.is_item && !p.ends_with("Item") {
                format!("{p}Item")
            } else {
                p
            }
        };
        if !base.starts_with(|c: char| c.is_ascii_uppercase()) {
            base = format!("Object{base}");
        }
        if matches!(
            base.as_str(),
            "Request" | "Response" | "Error" | "ErrorCode" | "Method"
        ) {
            base.push_str("Object");
        }
        let mut name = base.clone();
        let mut k = 2;
        while self.used_names.contains(&name) {
            name = format!("{base}{k}");
            k += 1;
        }
        if name != base {
            let line = self.raw[idx].line;
            let m = self.warn(
                line,
                format!("another table is also called `{base}`: this one is named `{name}`; choose a better name"),
            );
            self.renamed.push((name.clone(), m));
        }
        self.used_names.insert(name.clone());
        self.raw[idx].name = Some(name.clone());
        name
    }

    /// Converts a table row's docs type into a spec type.
    fn row_type(&mut self, row: &RowInfo, params: bool) -> RowType {
        let mut nullable =
            row.types.iter().any(|t| t == "null") || row.raw_description.contains("`null`");
        let base: Vec<String> = row
            .types
            .iter()
            .filter(|t| *t != "null")
            .filter(|t| {
                // Keep only what looks like a type (spans in descriptions were not taken).
                t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '[' || c == ']')
            })
            .cloned()
            .collect();
        let link = self
            .find_link(row, params)
            .filter(|i| !self.resolving.contains(i));
        let mut note = None;
        let mut guessed = false;
        let any = TypeExpr::Scalar(Scalar::Any);
        // A bare `array`: the element type may come from the example.
        let untyped_array = matches!(base.as_slice(), [one] if one == "array") && link.is_none();
        let ty = match base.as_slice() {
            [] => {
                guessed = true;
                match link {
                    Some(i) => {
                        note = Some(format!(
                            "`{}` has no type in the docs; it links to `{}`, so it is typed as that object",
                            row.name, self.raw[i].heading
                        ));
                        self.linked(i, false)
                    }
                    None => {
                        note = Some(format!("`{}` has no type in the docs", row.name));
                        any.clone()
                    }
                }
            }
            [one] => match self.one_type(one, link, &row.raw_description) {
                Some(t) => t,
                None => {
                    guessed = true;
                    match link {
                        Some(i) => {
                            note = Some(format!(
                                "the docs type `{one}` of `{}` is not a spec type; it links to `{}`, so it is typed as that object",
                                row.name, self.raw[i].heading
                            ));
                            self.linked(i, one.ends_with("[]") || one == "array")
                        }
                        None => {
                            note = Some(format!(
                                "the docs type `{one}` of `{}` is not a spec type (`unknown` means untyped): typed `any`",
                                row.name
                            ));
                            any.clone()
                        }
                    }
                }
            },
            many => {
                guessed = true;
                let t = if many.iter().any(|t| t == "string") {
                    Scalar::String
                } else {
                    Scalar::Any
                };
                note = Some(format!(
                    "the docs give `{}` the union `{}`; a spec type is one type: typed `{}` (strings accept numbers)",
                    row.name,
                    many.join(" | "),
                    t.as_str()
                ));
                TypeExpr::Scalar(t)
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

    /// The spec type for a linked object: `Name`, `Name[]`, or `map<V>` for an object of
    /// `<id>` keys.
    fn linked(&mut self, idx: usize, array: bool) -> TypeExpr {
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

    fn params(&mut self, placed: &[Placed<'_>], src: &str) -> Result<(), ImportError> {
        let table = placed
            .iter()
            .find_map(|p| match (p.section, p.sub, p.block) {
                (SectionKind::Params, None, Block::Table(t))
                    if is_field_table(t)
                        && !p
                            .section_heading
                            .is_some_and(|h| h.text.starts_with("Список полей")) =>
                {
                    Some(t)
                }
                _ => None,
            })
            .or_else(|| {
                // 2024 pages without a `## Параметры` heading: a `Параметр` table in the
                // page's opening text, before any example or answer.
                placed
                    .iter()
                    .take_while(|p| p.section == SectionKind::Other)
                    .find_map(|p| match p.block {
                        Block::Table(t) if names_parameters(t) => Some(t),
                        _ => None,
                    })
            });
        // `### Дополнительные параметры` / `### Additional Parameters`: more top-level
        // parameters (not an object's fields).
        let more: Vec<&Table> = placed
            .iter()
            .filter(|p| p.section == SectionKind::Params)
            .filter_map(|p| match (p.sub, p.block) {
                (Some(h), Block::Table(t)) if is_more_params(&h.text) && is_field_table(t) => {
                    Some(t)
                }
                _ => None,
            })
            .collect();
        let has_params_section = placed.iter().any(|p| p.section == SectionKind::Params)
            || src.contains("## Параметры")
            || src.contains("## Parameters");
        let Some(table) = table else {
            if !has_params_section {
                self.notes.note(
                    Target::Method,
                    0,
                    "the page has no `## Параметры метода` section: the method is imported without parameters",
                );
            }
            return Ok(());
        };
        let (cols, data) = table_columns(table);
        if cols.name.is_none() {
            return Err(err(
                self.page,
                table.line,
                "a parameters table whose first column is `Название` or `Параметр`",
            ));
        }
        let mut rows: Vec<(&Columns, &Row)> = data.iter().map(|r| (&cols, r)).collect();
        let more_cols: Vec<(Columns, &[Row])> = more.iter().map(|t| table_columns(t)).collect();
        for (c, d) in &more_cols {
            rows.extend(d.iter().map(|r| (c, r)));
        }
        let mut names: HashSet<String> = HashSet::new();
        let mut infos: Vec<(RowInfo, Option<String>)> = Vec::new();
        for (cols, row) in rows {
            let Some(info) = row_info(cols, row) else {
                return Err(err(
                    self.page,
                    row.line,
                    "a parameter row starting with `|| **NAME**`",
                ));
            };
            // `IBLOCK_CODE/IBLOCK_ID`: one row for alternatives, of which one is sent.
            let parts: Vec<String> = info
                .name
                .split('/')
                .map(|p| p.trim().trim_matches('`').to_string())
                .collect();
            let alternatives = parts.len() > 1
                && parts.iter().all(|p| {
                    !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            if alternatives {
                let note = format!(
                    "the page documents `{}` in one row: they are alternatives, each imported as optional; consider a `[[one_of]]` group{}",
                    info.name,
                    if info.required { " (one of them is required)" } else { "" }
                );
                for p in parts {
                    let mut one = info.clone();
                    one.name = p;
                    one.required = false;
                    infos.push((one, Some(note.clone())));
                }
            } else {
                infos.push((info, None));
            }
        }
        let mut exact: HashSet<String> = HashSet::new();
        for (info, alt_note) in infos {
            let twice = !exact.insert(info.name.clone());
            if !names.insert(info.name.to_ascii_lowercase()) {
                let m = self.warn(
                    info.line,
                    if twice {
                        format!(
                            "parameter `{}` is documented twice; the second row is dropped",
                            info.name
                        )
                    } else {
                        format!(
                            "parameter `{}` differs only in case from an earlier one: a spec's parameter names must differ ignoring case (the portal reads them so), so this row is dropped; check which of the two the portal reads",
                            info.name
                        )
                    },
                );
                self.notes.todo(Target::Method, m);
                continue;
            }
            let rt = self.row_type(&info, true);
            let target = Target::Param(info.name.clone());
            if let Some(n) = alt_note {
                self.notes.note(target.clone(), info.line, n);
            }
            if let Some(n) = rt.note {
                self.notes.note(target.clone(), info.line, n);
            }
            let description = if info.description.is_empty() {
                self.notes.note(
                    target.clone(),
                    info.line,
                    format!("parameter `{}` has no description", info.name),
                );
                "TODO: no description in the docs.".to_string()
            } else {
                info.description.clone()
            };
            let example = info.example.as_ref().map(|e| example_value(e, &rt.ty));
            self.notes.set_line(target.clone(), info.line);
            self.notes.set_ty_guessed(target.clone(), rt.guessed);
            self.notes.set_untyped_array(target, rt.untyped_array);
            self.spec.params.push(Param {
                name: info.name.clone(),
                ty: rt.ty,
                required: info.required,
                description,
                example,
                note: None,
                location: Location::default(),
            });
        }
        let one_of_hint = placed.iter().any(|p| match p.block {
            Block::Text { text, .. } => {
                p.section != SectionKind::Other
                    && (text.contains("один из параметров") || text.contains("любой из параметров"))
            }
            _ => false,
        }) || self
            .spec
            .description
            .as_deref()
            .is_some_and(|d| d.contains("один из параметров"));
        if one_of_hint {
            if let Some(first) = self.spec.params.first() {
                let target = Target::Param(first.name.clone());
                let m = self.warn(
                    self.notes.line(&target),
                    "the page says one of these parameters is enough: consider a `[[one_of]]` group (in the order the server checks them)",
                );
                self.notes.todo_first(target, m);
            }
        }
        Ok(())
    }

    fn response(&mut self, placed: &[Placed<'_>]) -> Result<(), ImportError> {
        let resp: Vec<&Placed<'_>> = placed
            .iter()
            .filter(|p| p.section == SectionKind::Response)
            .collect();
        // The success example.
        let mut status = 200;
        let mut example = None;
        for p in &resp {
            match p.block {
                Block::Text { text, .. } => {
                    if let Some(s) = http_status(text) {
                        status = s;
                    }
                }
                Block::Code(c) if c.lang == "json" || c.text.trim_start().starts_with('{') => {
                    let Some(mut v) = self.example_json(c) else {
                        continue;
                    };
                    let enveloped = v
                        .as_object()
                        .is_some_and(|o| o.contains_key("result") || o.contains_key("error"));
                    if !enveloped {
                        let m = self.warn(
                            c.line,
                            "the answer example shows only the value of `result`: it is wrapped in `{\"result\": ...}`",
                        );
                        self.notes.todo(Target::Result, m);
                        let mut env = serde_json::Map::new();
                        env.insert("result".into(), v);
                        v = Value::Object(env);
                    }
                    if example.is_none() {
                        example = Some((v, c.line));
                    }
                }
                _ => {}
            }
        }
        // The envelope table: rows `result`, `time`, `next`, `total`.
        let mut result_row = None;
        let mut synthesized = None;
        for p in &resp {
            if let Block::Table(t) = p.block {
                if !is_field_table(t) || p.sub.is_some_and(|h| !is_returned_data(&h.text)) {
                    continue;
                }
                let (cols, data) = table_columns(t);
                let rows: Vec<RowInfo> = data.iter().filter_map(|r| row_info(&cols, r)).collect();
                for r in &rows {
                    if r.name == "next" || r.name == "total" {
                        self.spec.result.paged = true;
                    }
                }
                if rows.iter().any(|r| r.name == "result") {
                    let (mut results, others): (Vec<RowInfo>, Vec<RowInfo>) =
                        rows.into_iter().partition(|r| r.name == "result");
                    let keys: Vec<RowInfo> = others
                        .into_iter()
                        .filter(|r| !matches!(r.name.as_str(), "time" | "next" | "total"))
                        .collect();
                    let row = results.remove(0);
                    // `|| result (object) || ID || TYPE || ... || time ||`: the rows between
                    // an unlinked `result` object and `time` are its keys.
                    let unlinked_object =
                        row.anchors.is_empty() && row.types.iter().any(|t| t == "object");
                    if unlinked_object && !keys.is_empty() {
                        self.raw.push(RawObject {
                            word: "result".into(),
                            anchor: None,
                            is_item: false,
                            params: false,
                            heading: "Возвращаемые данные".into(),
                            rows: keys,
                            line: row.line,
                            name: None,
                            description: Some(row.description.clone()),
                        });
                        synthesized = Some(self.raw.len() - 1);
                    }
                    result_row = Some(row);
                    break;
                }
                // No `result` row: the table lists the keys of `result` itself.
                let keys: Vec<RowInfo> = rows
                    .into_iter()
                    .filter(|r| !matches!(r.name.as_str(), "time" | "next" | "total"))
                    .collect();
                if !keys.is_empty() {
                    let line = t.line;
                    self.raw.push(RawObject {
                        word: "result".into(),
                        anchor: None,
                        is_item: false,
                        params: false,
                        heading: "Возвращаемые данные".into(),
                        rows: keys,
                        line,
                        name: None,
                        description: None,
                    });
                    synthesized = Some(self.raw.len() - 1);
                    result_row = Some(RowInfo {
                        name: "result".into(),
                        required: true,
                        types: vec!["object".into()],
                        anchors: Vec::new(),
                        description:
                            "The result (the keys the page's `Возвращаемые данные` table lists)."
                                .into(),
                        raw_description: String::new(),
                        example: None,
                        line,
                    });
                    break;
                }
            }
        }
        let key_list = self.key_list(&resp);
        match result_row {
            Some(row) => {
                let (mut ty, guessed, note) = match synthesized {
                    Some(i) => (self.linked(i, false), false, None),
                    None => {
                        let rt = self.row_type(&row, false);
                        (rt.ty, rt.guessed, rt.note)
                    }
                };
                if ty == TypeExpr::Scalar(Scalar::Object) {
                    // Result described right under `### Объект result` without a link.
                    if let Some(i) = self
                        .raw
                        .iter()
                        .rposition(|o| !o.params && norm(&o.word) == "result" && o.anchor.is_none())
                        .or_else(|| {
                            self.raw
                                .iter()
                                .position(|o| !o.params && norm(&o.word) == "result")
                        })
                    {
                        ty = self.linked(i, false);
                    }
                }
                self.spec.result.ty = ty;
                self.notes.set_ty_guessed(Target::Result, guessed);
                self.spec.result.description = if row.description.is_empty() {
                    let m = self.warn(row.line, "`result` has no description");
                    self.notes.todo(Target::Result, m);
                    "TODO: no description in the docs.".into()
                } else {
                    row.description.clone()
                };
                if let Some(n) = note {
                    let m = self.warn(row.line, n);
                    self.notes.todo(Target::Result, m);
                }
            }
            None => {
                // 2024 template: the type comes from the example, keys from `Описание ключей`.
                let line = example.as_ref().map_or(0, |(_, l)| *l);
                match example.as_ref().and_then(|(v, _)| v.get("result")) {
                    Some(result) => {
                        let ty = self.result_from_example(result, &key_list, line);
                        self.spec.result.ty = ty;
                        let m = self.warn(
                            line,
                            "the page has no table of the result: its type is inferred from the example",
                        );
                        self.notes.todo(Target::Result, m);
                    }
                    None => {
                        let m = self.warn(
                            line,
                            "the page documents neither the result's type nor an example: typed `any`",
                        );
                        self.notes.todo(Target::Result, m);
                    }
                }
                self.notes.set_ty_guessed(Target::Result, true);
                self.spec.result.description = match resp.iter().find_map(|p| match p.block {
                    Block::Text { text, .. }
                        if !text.starts_with("{%")
                            && !text.starts_with("- ")
                            && !text.contains("HTTP-статус")
                            && http_status(text).is_none()
                            && !text.trim_start_matches('>').trim().is_empty()
                            && p.sub.is_none() =>
                    {
                        Some(plain(text))
                    }
                    _ => None,
                }) {
                    Some(d) => d,
                    None if example.is_some() => "The method's result (see the example).".into(),
                    None => "TODO: the docs describe no result.".into(),
                };
            }
        }
        if let Some((body, line)) = example {
            // A success answer (`result`, no `error`) under an error status is the page's
            // slip: the portal answers it with 200.
            let status = if status >= 400 && body.get("error").is_none() {
                let m = self.warn(
                    line,
                    format!(
                        "the page gives HTTP {status} for its answer with `result`: 200 assumed"
                    ),
                );
                self.notes.todo(Target::Method, m);
                200
            } else {
                status
            };
            let description = format!(
                "Success, from the {} docs page.",
                if self.template == Template::Current {
                    "current"
                } else {
                    "2024"
                }
            );
            self.example("success".into(), description, status, body, line);
        } else {
            let m = self.warn(0, "the page has no example of a successful answer");
            self.notes.todo(Target::Method, m);
        }
        Ok(())
    }

    /// Adds a documented answer read at page line `line`.
    fn example(
        &mut self,
        name: String,
        description: String,
        status: u16,
        body: Value,
        line: usize,
    ) {
        self.notes.set_line(Target::Example(name.clone()), line);
        self.spec
            .examples
            .push(example(name, description, status, body));
    }

    /// A JSON example; one that elides items with `...` or has `//` comments is cleaned up
    /// (with a warning). One that is still not JSON is left out, with a `TODO(review)` naming
    /// the line: the page's other facts are still imported.
    fn example_json(&mut self, c: &markdown::Code) -> Option<Value> {
        match serde_json::from_str::<Value>(&c.text) {
            Ok(v) => Some(v),
            Err(first) => match serde_json::from_str::<Value>(&relax_json(&c.text)).or_else(|e| {
                // `"result": {...}` without the outer braces (many 2024 pages).
                let t = c.text.trim();
                if t.starts_with('"') {
                    serde_json::from_str::<Value>(&relax_json(&format!("{{{t}}}")))
                } else {
                    Err(e)
                }
            }) {
                Ok(v) => {
                    let m = self.warn(
                        c.line,
                        "the JSON example elides items (`...`), has `//` comments or lacks its outer braces: it was repaired, so check it against the docs",
                    );
                    self.notes.todo(Target::Method, m);
                    Some(v)
                }
                Err(_) => {
                    let m = self.warn(
                        c.line + first.line(),
                        format!(
                            "the JSON example that starts at line {} is not JSON ({}, column {}): it is left out; fix it on the page or add it by hand",
                            c.line,
                            first.to_string().split(" at line").next().unwrap_or(""),
                            first.column()
                        ),
                    );
                    self.notes.todo(Target::Method, m);
                    None
                }
            },
        }
    }

    /// `- `key` – description` items under `### Описание ключей` (2024 template).
    fn key_list(&self, resp: &[&Placed<'_>]) -> Vec<(String, String, usize)> {
        let mut out = Vec::new();
        for p in resp {
            if !p.sub.is_some_and(|h| is_key_list(&h.text)) {
                continue;
            }
            if let Block::Text { text, line } = p.block {
                let Some(item) = text.strip_prefix("- ") else {
                    continue;
                };
                // The key opens the item, in a code span or bold: `` `key` – ... ``,
                // `**key** - ...`, ``**`key`** - ...``.
                let Some((k, after)) = leading_key(item) else {
                    continue;
                };
                if out.iter().any(|(seen, _, _)| *seen == k) {
                    continue;
                }
                let after = after.trim_start_matches([' ', '–', '-', '—', ':']).trim();
                out.push((k, plain(after), *line));
            }
        }
        out
    }

    fn result_from_example(
        &mut self,
        result: &Value,
        keys: &[(String, String, usize)],
        line: usize,
    ) -> TypeExpr {
        let (obj, array) = match result {
            Value::Object(m) => (Some(m.clone()), false),
            Value::Array(items) => match items.first() {
                Some(Value::Object(m)) => (Some(m.clone()), true),
                _ => (None, false),
            },
            _ => (None, false),
        };
        let Some(obj) = obj else {
            return infer(result);
        };
        let name = self.result_name();
        self.used_names.insert(name.clone());
        let mut fields = Vec::new();
        for (k, v) in &obj {
            let desc = keys.iter().find(|(n, _, _)| n == k);
            let target = Target::field(&name, k);
            let description = match desc {
                Some((_, d, _)) if !d.is_empty() => d.clone(),
                _ => {
                    self.notes.note(
                        target.clone(),
                        line,
                        format!("result key `{k}` is in the example but has no description"),
                    );
                    "TODO: no description in the docs.".into()
                }
            };
            let ty = if v.is_null() {
                self.notes.note(
                    target.clone(),
                    line,
                    format!("result key `{k}` is `null` in the example: its type is unknown"),
                );
                TypeExpr::Scalar(Scalar::Any)
            } else {
                infer(v)
            };
            self.notes.set_ty_guessed(target.clone(), true);
            self.notes.set_line(target, desc.map_or(line, |d| d.2));
            fields.push(field(k, ty, false, description));
        }
        for (k, d, l) in keys {
            if !obj.contains_key(k) && !k.starts_with("error") {
                let target = Target::field(&name, k);
                self.notes.note(
                    target.clone(),
                    *l,
                    format!("result key `{k}` is described but absent from the example: untyped"),
                );
                self.notes.set_ty_guessed(target.clone(), true);
                self.notes.set_line(target, *l);
                let description = if d.is_empty() {
                    "TODO: no description in the docs.".into()
                } else {
                    d.clone()
                };
                fields.push(field(k, TypeExpr::Scalar(Scalar::Any), true, description));
            }
        }
        self.notes.note(
            Target::Object(name.clone()),
            line,
            format!("the keys of `{name}` and their types come from the example (the page has no table)"),
        );
        self.notes.set_line(Target::Object(name.clone()), line);
        self.spec.objects.push(object(
            &name,
            "The result (from the docs' example).".into(),
            fields,
        ));
        let ty = TypeExpr::Named(name);
        if array {
            TypeExpr::array_of(ty)
        } else {
            ty
        }
    }

    fn errors(&mut self, placed: &[Placed<'_>]) -> Result<(), ImportError> {
        let errs: Vec<&Placed<'_>> = placed
            .iter()
            .filter(|p| p.section == SectionKind::Errors)
            .collect();
        // REST 3.0 pages: `Код ошибки: `CODE`` and a table of the fields it is about.
        let mut pending: Option<(String, usize)> = None;
        for p in &errs {
            match p.block {
                Block::Text { text, line } => {
                    if let Some(code) = v3_code_line(text) {
                        if let Some((c, l)) = pending.take() {
                            self.v3_error(c, l, None);
                        }
                        pending = Some((code, *line));
                    }
                }
                Block::Table(t) => {
                    if let Some((c, l)) = pending.take() {
                        self.v3_error(c, l, Some(t));
                    }
                }
                _ => {}
            }
        }
        if let Some((c, l)) = pending {
            self.v3_error(c, l, None);
        }
        // The codes table.
        for p in &errs {
            let Block::Table(t) = p.block else { continue };
            let Some(header) = t.rows.first() else {
                continue;
            };
            let cols = columns(header);
            let Some(ci) = cols.code else { continue };
            for row in &t.rows[1..] {
                let cell = |i: Option<usize>| i.and_then(|i| row.cells.get(i)).map(|c| plain(c));
                let code = cell(Some(ci))
                    .unwrap_or_default()
                    .replace('`', "")
                    .trim()
                    .to_string();
                if code.is_empty()
                    || !code
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    let shown: String = code.chars().take(40).collect();
                    let m = self.warn(
                        row.line,
                        format!("an error row without a code (`{shown}` in the code column) is left out: a spec keys errors by code"),
                    );
                    self.notes.todo(Target::Method, m);
                    continue;
                }
                let mut todos = Vec::new();
                let repeated = self.spec.errors.iter().any(|e| e.code == code);
                if !repeated && b24_core::PortalErrorCode::parse(&code).is_some() {
                    todos.push(self.warn(
                        row.line,
                        format!("`{code}` is also a portal-wide code (b24-core knows it): keep it only if this method gives it a meaning of its own"),
                    ));
                }
                let (status, status_guessed) = match cell(cols.status)
                    .map(|s| s.replace('`', ""))
                    .and_then(|s| s.trim().parse::<u16>().ok())
                {
                    Some(s) => (s, false),
                    None => (400, true),
                };
                let (message, description) = if cols.meaning.is_some() {
                    (
                        cell(cols.message).map(|m| literal_text(&m)),
                        cell(cols.meaning).unwrap_or_default(),
                    )
                } else {
                    (
                        None,
                        cell(cols.message)
                            .or(cell(cols.description))
                            .unwrap_or_default(),
                    )
                };
                let description = if description.is_empty() {
                    todos.push(self.warn(row.line, format!("error `{code}` has no description")));
                    "TODO: no description in the docs.".to_string()
                } else {
                    description
                };
                let target = Target::Error(code.clone());
                if let Some(i) = self.spec.errors.iter().position(|e| e.code == code) {
                    // One code, several rows (ERROR_ARGUMENT for each bad argument): one
                    // entry whose description lists every case.
                    let first_extra = !self.spec.errors[i].description.contains("\n- ");
                    let line = self.notes.line(&target);
                    if first_extra {
                        let m = self.warn(
                            line,
                            format!("error `{code}` has several rows (messages): merged into one entry; the first message is kept"),
                        );
                        let e = &mut self.spec.errors[i];
                        let first = format!(
                            "- {}{}",
                            e.message
                                .as_ref()
                                .map(|m| format!("`{m}`: "))
                                .unwrap_or_default(),
                            e.description
                        );
                        e.description = format!("Several cases:\n{first}");
                        self.notes.todo(target.clone(), m);
                    }
                    let e = &mut self.spec.errors[i];
                    e.description.push_str(&format!(
                        "\n- {}{}",
                        message
                            .as_ref()
                            .filter(|m| !m.is_empty())
                            .map(|m| format!("`{m}`: "))
                            .unwrap_or_default(),
                        description
                    ));
                    // This row's notes stay with the merged entry.
                    for m in todos {
                        self.notes.todo(target.clone(), m);
                    }
                    continue;
                }
                for m in todos {
                    self.notes.todo(target.clone(), m);
                }
                self.add_error(
                    ErrorCode {
                        code,
                        status,
                        message: message.filter(|m| !m.is_empty()),
                        description,
                        note: None,
                    },
                    status_guessed,
                    row.line,
                );
            }
        }
        // Error examples.
        let mut status: Option<u16> = None;
        let mut n = 0;
        for p in &errs {
            match p.block {
                Block::Text { text, .. } => {
                    if let Some(s) = http_status(text) {
                        status = Some(s);
                    }
                }
                Block::Code(c) if c.lang == "json" || c.text.trim_start().starts_with('{') => {
                    let Some(body) = self.example_json(c) else {
                        continue;
                    };
                    // REST 3.0: `{"error": {"code": ..., "message": ...}}`. The spec's
                    // examples are the REST 2 envelope the client decodes: the code and
                    // message are kept, the body is left out.
                    if let Some(Value::Object(e)) = body.get("error") {
                        let code = e.get("code").and_then(Value::as_str).unwrap_or("");
                        let message = e.get("message").and_then(Value::as_str);
                        if let Some(i) = self.spec.errors.iter().position(|x| x.code == code) {
                            let e = &mut self.spec.errors[i];
                            if e.message.is_none() {
                                e.message = message.map(str::to_string);
                            }
                            if let (true, Some(s)) = (self.notes.status_guessed(code), status) {
                                e.status = s;
                                self.notes.set_status_guessed(code, false);
                            }
                        }
                        let m = self.warn(
                            c.line,
                            format!("the error example (`{code}`) is in the REST 3.0 shape `{{\"error\": {{\"code\", \"message\"}}}}`, not the envelope the client decodes: its code and message are kept, the example is left out"),
                        );
                        self.notes.todo(Target::Method, m);
                        continue;
                    }
                    if let Some(e) = body.get("error").filter(|e| !e.is_string()) {
                        let shown: String = e.to_string().chars().take(40).collect();
                        let m = self.warn(
                            c.line,
                            format!("the error example's `error` is `{shown}`, not a code (a string): the example is left out"),
                        );
                        self.notes.todo(Target::Method, m);
                        continue;
                    }
                    let code = body
                        .get("error")
                        .or_else(|| body.get("result").and_then(|r| r.get("error")))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    if code.as_deref().is_some_and(|c| c.trim().is_empty()) {
                        let m = self.warn(
                            c.line,
                            "an error example with an empty `error` code is left out: a spec keys errors by code",
                        );
                        self.notes.todo(Target::Method, m);
                        continue;
                    }
                    let message = body
                        .get("error_description")
                        .or_else(|| body.get("result").and_then(|r| r.get("error_description")))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    let documented = code
                        .as_ref()
                        .and_then(|c| self.spec.errors.iter().position(|e| &e.code == c));
                    let guessed = |i: usize, notes: &Notes, errors: &[ErrorCode]| {
                        errors.get(i).is_some_and(|e| notes.status_guessed(&e.code))
                    };
                    let st = match (documented, status) {
                        (Some(i), _) if !guessed(i, &self.notes, &self.spec.errors) => {
                            self.spec.errors[i].status
                        }
                        (_, Some(s)) => s,
                        _ => 400,
                    };
                    if let Some(i) = documented {
                        let was_guessed = guessed(i, &self.notes, &self.spec.errors);
                        let e = &mut self.spec.errors[i];
                        if let (true, Some(s)) = (was_guessed, status) {
                            e.status = s;
                            self.notes.set_status_guessed(&e.code, false);
                        }
                        if e.message.is_none() {
                            e.message = message.clone();
                        }
                    }
                    if let (Some(c), None) = (&code, documented) {
                        if body.get("error").is_some()
                            && b24_core::PortalErrorCode::parse(c).is_none()
                        {
                            self.notes.note(
                                Target::Error(c.clone()),
                                c_line(c, p),
                                format!(
                                    "error `{c}` appears in an example but not in the codes table"
                                ),
                            );
                            self.add_error(
                                ErrorCode {
                                    code: c.clone(),
                                    status: st,
                                    message: message.clone(),
                                    description: "TODO: only in an example of the docs.".into(),
                                    note: None,
                                },
                                status.is_none(),
                                c_line(c, p),
                            );
                        }
                    }
                    n += 1;
                    let name = match &code {
                        Some(c) => format!("error-{}", c.to_ascii_lowercase().replace('_', "-")),
                        None => format!("error-{n}"),
                    };
                    let name = if self.spec.examples.iter().any(|e| e.name == name) {
                        format!("{name}-{n}")
                    } else {
                        name
                    };
                    let description = format!(
                        "Error{}, from the {} docs page.",
                        code.as_ref().map(|c| format!(" `{c}`")).unwrap_or_default(),
                        if self.template == Template::Current {
                            "current"
                        } else {
                            "2024"
                        }
                    );
                    self.example(name, description, st, body, c.line);
                }
                _ => {}
            }
        }
        let guessed: Vec<String> = self
            .spec
            .errors
            .iter()
            .filter(|e| self.notes.status_guessed(&e.code))
            .map(|e| e.code.clone())
            .collect();
        for code in guessed {
            let target = Target::Error(code.clone());
            self.notes.note(
                target.clone(),
                self.notes.line(&target),
                format!("the page gives no HTTP status for `{code}`: 400 assumed"),
            );
        }
        Ok(())
    }

    /// Adds an error code read at page line `line`.
    fn add_error(&mut self, e: ErrorCode, status_guessed: bool, line: usize) {
        let target = Target::Error(e.code.clone());
        self.notes.set_line(target, line);
        self.notes.set_status_guessed(&e.code, status_guessed);
        self.spec.errors.push(e);
    }

    /// An error a REST 3.0 page names in a `Код ошибки:` line; `table` lists the fields it is
    /// about (`Поле | Описание ошибки | Как исправить`).
    fn v3_error(&mut self, code: String, line: usize, table: Option<&Table>) {
        let mut cases = Vec::new();
        if let Some(t) = table {
            for row in t.rows.iter().skip(1) {
                let field = row.cells.first().map(|c| plain(c)).unwrap_or_default();
                let text = row.cells.get(1).map(|c| plain(c)).unwrap_or_default();
                if text.is_empty() {
                    continue;
                }
                let field = field.trim_matches('`');
                cases.push(if field.is_empty() || field == "-" {
                    text
                } else {
                    format!("`{field}`: {text}")
                });
            }
        }
        let target = Target::Error(code.clone());
        let description = match cases.len() {
            0 => {
                self.notes
                    .note(target, line, format!("error `{code}` has no description"));
                "TODO: no description in the docs.".to_string()
            }
            1 => cases.remove(0),
            _ => format!("Several cases:\n- {}", cases.join("\n- ")),
        };
        if let Some(e) = self.spec.errors.iter_mut().find(|e| e.code == code) {
            e.description.push_str(&format!("\n- {description}"));
            return;
        }
        self.add_error(
            ErrorCode {
                code,
                status: 400,
                message: None,
                description,
                note: None,
            },
            true,
            line,
        );
    }

    /// The request of the first cURL example with a JSON body (`-d '{...}'`).
    fn request_example(&mut self, placed: &[Placed<'_>]) {
        for p in placed.iter().filter(|p| p.section == SectionKind::Examples) {
            let Block::Code(c) = p.block else { continue };
            if !c.text.contains("curl") {
                continue;
            }
            let Some(at) = c.text.find("-d '") else {
                continue;
            };
            let rest = &c.text[at + 4..];
            let Some(end) = rest.find('\'') else { continue };
            let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&rest[..end]) else {
                continue;
            };
            m.remove("auth");
            if let Some(ex) = self.spec.examples.iter_mut().find(|e| e.name == "success") {
                if !m.is_empty() {
                    ex.request = Some(Value::Object(m));
                }
            }
            return;
        }
    }

    /// Builds the named objects that the params and the result use, in page order, and
    /// reports the tables nothing links to.
    fn finish_objects(&mut self) {
        // Objects may be named while building others; loop until every used one is built.
        let mut built: HashSet<usize> = HashSet::new();
        loop {
            let pending: Vec<usize> = (0..self.raw.len())
                .filter(|i| self.raw[*i].name.is_some() && !built.contains(i))
                .collect();
            if pending.is_empty() {
                break;
            }
            for i in pending {
                built.insert(i);
                let o = self.raw[i].clone();
                let name = o.name.clone().unwrap_or_default();
                let otarget = Target::Object(name.clone());
                let mut fields: Vec<Field> = Vec::new();
                let mut seen = HashSet::new();
                for row in &o.rows {
                    if !seen.insert(row.name.to_ascii_lowercase()) {
                        self.notes.note(
                            otarget.clone(),
                            row.line,
                            format!(
                                "key `{}` of `{}` is documented twice; the second row is dropped",
                                row.name, o.heading
                            ),
                        );
                        continue;
                    }
                    let rt = self.row_type(row, o.params);
                    let target = Target::field(&name, &row.name);
                    if let Some(n) = rt.note {
                        self.notes.note(target.clone(), row.line, n);
                    }
                    let description = if row.description.is_empty() {
                        self.notes.note(
                            target.clone(),
                            row.line,
                            format!("key `{}` of `{}` has no description", row.name, o.heading),
                        );
                        "TODO: no description in the docs.".into()
                    } else {
                        row.description.clone()
                    };
                    self.notes.set_line(target.clone(), row.line);
                    self.notes.set_ty_guessed(target.clone(), rt.guessed);
                    self.notes.set_untyped_array(target, rt.untyped_array);
                    let optional = o.params && !row.required;
                    fields.push(field(&row.name, rt.ty, optional, description));
                }
                let renamed: Vec<String> = self
                    .renamed
                    .iter()
                    .filter(|(n, _)| *n == name)
                    .map(|(_, m)| m.clone())
                    .collect();
                for m in renamed {
                    self.notes.todo(otarget.clone(), m);
                }
                if fields.is_empty() {
                    self.notes.note(
                        otarget.clone(),
                        o.line,
                        format!("`{}` has no rows", o.heading),
                    );
                }
                self.notes.set_line(otarget, o.line);
                let description = o
                    .description
                    .clone()
                    .unwrap_or_else(|| format!("{} (docs: `{}`).", o.word, o.heading));
                self.spec.objects.push(object(&name, description, fields));
            }
        }
        let unused: Vec<(usize, String)> = self
            .raw
            .iter()
            .filter(|o| o.name.is_none() && o.map_row().is_none())
            .map(|o| (o.line, o.heading.clone()))
            .collect();
        for (line, heading) in unused {
            let m = self.warn(
                line,
                format!(
                    "no parameter or result key links to `{heading}`: the table is not imported"
                ),
            );
            self.notes.todo(Target::Method, m);
        }
        // Keep page order.
        let notes = &self.notes;
        self.spec
            .objects
            .sort_by_key(|o| notes.line(&Target::Object(o.name.clone())));
    }
}

fn c_line(_code: &str, p: &Placed<'_>) -> usize {
    match p.block {
        Block::Code(c) => c.line,
        _ => 0,
    }
}

/// Drops `// comments` (outside strings), lines that are only `...` and the commas those
/// leave dangling before `}` or `]`.
fn relax_json(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.lines() {
        let mut out = String::new();
        let mut in_str = false;
        let mut escaped = false;
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if in_str {
                out.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_str = false;
                }
            } else if c == '"' {
                in_str = true;
                out.push(c);
            } else if c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            } else {
                out.push(c);
            }
            i += 1;
        }
        let t = out.trim().trim_end_matches(',').trim();
        if t == "..." || t == "…" {
            continue;
        }
        if out.trim().is_empty() {
            continue;
        }
        lines.push(out);
    }
    // Remove commas before a closing bracket.
    let joined = lines.join("\n");
    let mut out = String::with_capacity(joined.len());
    let chars: Vec<char> = joined.chars().collect();
    let mut in_str = false;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            out.push(c);
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|n| !n.is_whitespace());
            if matches!(next, Some('}') | Some(']') | None) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// A 2024 `Пример` cell as a JSON value of the parameter's type (or of its elements).
fn example_value(text: &str, ty: &TypeExpr) -> Value {
    let t = text.trim();
    let mut inner = ty;
    while let TypeExpr::Nullable(i) | TypeExpr::Array(i) = inner {
        inner = i;
    }
    let scalar = match inner {
        TypeExpr::Scalar(s) => Some(*s),
        _ => None,
    };
    if scalar == Some(Scalar::Integer) {
        if let Ok(n) = t.parse::<i64>() {
            return Value::from(n);
        }
    }
    if scalar == Some(Scalar::Double) {
        if let Some(n) = t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            return Value::Number(n);
        }
    }
    if scalar == Some(Scalar::Boolean) {
        match t {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::String(t.to_string())
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

    #[test]
    fn relaxed_json() {
        let v: Value = serde_json::from_str(&relax_json(
            "{\n  \"a\": [1,\n  ...\n  ],\n  \"b\": \"x // y\", // note\n  ... // more\n}",
        ))
        .unwrap();
        assert_eq!(v, serde_json::json!({"a": [1], "b": "x // y"}));
    }

    #[test]
    fn statuses() {
        assert_eq!(http_status("HTTP-статус: **400**, **403**"), Some(400));
        assert_eq!(
            http_status("1. HTTP-статус: **200** с `result = false`"),
            Some(200)
        );
        assert_eq!(http_status("text"), None);
    }

    #[test]
    fn method_pages() {
        assert_eq!(
            page_method("# Получить imopenlines.dialog.get\n").as_deref(),
            Some("imopenlines.dialog.get")
        );
        assert_eq!(page_method("# События OnImConnectorMessageAdd\n"), None);
    }
}
