//! `xtask drift`: what a docs checkout says that a spec folder does not, and the other way round.
//!
//! Any spec folder (open lines, tasks, disk, ...) against any docs checkout (today's, the
//! 2024 template, the English translation): the checkout's `api-reference/` is walked once
//! ([`DocsIndex`]) and each page's method is learnt from the importer ([`page_method`]), so a
//! spec finds its page wherever the page lies; when no page names the method, the file the
//! spec's `docs` URL points at is imported (the importer may still read it). Each page is
//! imported in memory and compared with the spec of the same method:
//!
//! * methods, parameters (by name, ignoring case), result keys (by their path from `result`,
//!   ignoring case, aliases count) and error codes present on one side only are *added*
//!   (docs only) or *removed* (spec only);
//! * a parameter or key whose coarse type differs (integer, number, string, boolean, date,
//!   timestamp, object, array; `any`/`file` match everything; nullability and optionality
//!   are not compared, the docs state them too loosely), a parameter whose `required`
//!   differs, an error whose status differs, a scope that differs, is *changed*;
//! * only facts are compared, never text: descriptions, summaries and error messages differ
//!   between revisions and languages (the English translation rewords them) without the API
//!   changing;
//! * what the page does not state (an untyped key, a type taken from the example, a status
//!   the 2024 template omits) is never compared;
//! * a page the importer cannot read, or of which it read none of the names of one table
//!   (a wording it does not know yet), is an *unreadable page*, reported with the reason and
//!   not compared;
//! * a finding about a spec key, parameter, `[result]` or error code that carries a `note` is
//!   a *reviewed difference*: the spec departs from the docs on purpose and says why. It is
//!   printed with the note and does not count as drift (the keys of a `[result]` whose shape
//!   differs with a note, or of which the page names no key, share its note); a scope the
//!   page does not state is not compared. A spec whose section folder the checkout does not
//!   hold at all is reported the same way (the shared checkouts are partial);
//! * docs-only methods are listed only within the sections the specs cover ([`drift_index`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use b24_spec::wire::{param_shape, param_type, strip_null, ParamShape};
use b24_spec::{Param, Scalar, Spec, TypeExpr};

use crate::{import_page, page_method, DocsContext, ImportError, Imported, Notes, Target};

/// What kind of item a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Item {
    /// A whole method.
    Method,
    /// A request parameter.
    Param,
    /// The type of `result`.
    Result,
    /// A key of the result (a path such as `result.restrictions.avatar`).
    ResultKey,
    /// An error code.
    Error,
}

impl Item {
    fn as_str(self) -> &'static str {
        match self {
            Item::Method => "method",
            Item::Param => "parameter",
            Item::Result => "result type",
            Item::ResultKey => "result key",
            Item::Error => "error",
        }
    }
}

/// Which way it differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// In the docs, not in the spec.
    Added,
    /// In the spec, not in the docs.
    Removed,
    /// In both, different.
    Changed,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The method.
    pub method: String,
    /// What kind of item.
    pub item: Item,
    /// Its name (parameter, key path, code; the method name for methods).
    pub name: String,
    /// Added, removed or changed.
    pub change: Change,
    /// What differs.
    pub detail: String,
    /// The spec's `note` when the difference is deliberate.
    pub reviewed: Option<String>,
}

impl Finding {
    /// Whether it counts as drift (not a reviewed difference).
    pub fn is_drift(&self) -> bool {
        self.reviewed.is_none()
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = match self.change {
            Change::Added => "+",
            Change::Removed => "-",
            Change::Changed => "~",
        };
        let what = match self.change {
            Change::Added => "in the docs, not in the spec",
            Change::Removed => "in the spec, not in the docs",
            Change::Changed => "changed",
        };
        write!(f, "{sign} {} `{}`: {what}", self.item.as_str(), self.name)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        if let Some(n) = &self.reviewed {
            write!(f, " [reviewed difference: {n}]")?;
        }
        Ok(())
    }
}

/// The outcome of a drift run.
#[derive(Debug, Default)]
pub struct DriftReport {
    /// Markdown files under the checkout's `api-reference/`.
    pub files: usize,
    /// Method pages among them (pages the importer names a method on).
    pub method_pages: usize,
    /// Method pages read for the comparison (the specs' pages and, without `only_specced`,
    /// the docs-only pages of the sections the specs cover).
    pub pages: usize,
    /// Differences, grouped by method in name order.
    pub findings: Vec<Finding>,
    /// Pages that could not be imported.
    pub unreadable: Vec<ImportError>,
}

impl DriftReport {
    /// Whether anything counts as drift (unreadable pages included).
    pub fn drifted(&self) -> bool {
        !self.unreadable.is_empty() || self.findings.iter().any(Finding::is_drift)
    }

    /// Findings about one method.
    pub fn for_method<'a>(&'a self, method: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.method == method)
    }
}

impl fmt::Display for DriftReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut current = "";
        for x in &self.findings {
            if x.method != current {
                writeln!(f, "{}:", x.method)?;
                current = &x.method;
            }
            writeln!(f, "  {x}")?;
        }
        for e in &self.unreadable {
            writeln!(f, "unreadable page: {e}")?;
        }
        let drift = self.findings.iter().filter(|x| x.is_drift()).count();
        let reviewed = self.findings.len() - drift;
        write!(
            f,
            "{} method pages read, {drift} differences, {reviewed} reviewed differences, {} unreadable pages ({} method pages among {} pages of api-reference/)",
            self.pages,
            self.unreadable.len(),
            self.method_pages,
            self.files
        )
    }
}

/// Options of a drift run.
#[derive(Debug, Clone, Default)]
pub struct DriftOptions {
    /// Only compare methods that have a spec (do not list docs-only methods).
    pub only_specced: bool,
    /// Only these methods (all when empty; ASCII case is ignored, as the portal does).
    pub methods: Vec<String>,
}

/// A method page of a docs checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocsPage {
    /// The file.
    pub path: PathBuf,
    /// Its path under the checkout, `/`-separated (`api-reference/tasks/tasks-task-add.md`).
    pub rel: String,
    /// The method it documents, as the importer reads it ([`page_method`]).
    pub method: String,
}

impl DocsPage {
    /// Its section: the folder under `api-reference/` it lies in (`tasks`, `imopenlines`).
    pub fn section(&self) -> &str {
        section_of(&self.rel).unwrap_or("")
    }
}

/// The folder under `api-reference/` a checkout path lies in (`api-reference/tasks/x.md` →
/// `tasks`); none for a page directly under `api-reference/` or elsewhere.
fn section_of(rel: &str) -> Option<&str> {
    let mut parts = rel.split('/');
    if parts.next() != Some("api-reference") {
        return None;
    }
    let section = parts.next()?;
    parts.next().map(|_| section)
}

/// The first segment of a method name (`tasks.task.add` → `tasks`), lower-cased.
fn namespace_of(method: &str) -> String {
    method
        .split('.')
        .next()
        .unwrap_or(method)
        .to_ascii_lowercase()
}

/// The checkout path a docs URL names:
/// `https://apidocs.bitrix24.ru/api-reference/tasks/tasks-task-add.html#x` →
/// `api-reference/tasks/tasks-task-add.md` (a folder URL names its `index.md`). None when the
/// URL does not point under `api-reference/`.
pub fn docs_path_of_url(url: &str) -> Option<String> {
    let at = url.find("/api-reference/")?;
    let path = &url[at + 1..];
    let path = path.split(['#', '?']).next().unwrap_or(path);
    if path.split('/').any(|p| p == "." || p == "..") {
        return None;
    }
    Some(if let Some(stem) = path.strip_suffix(".html") {
        format!("{stem}.md")
    } else if path.ends_with(".md") {
        path.to_string()
    } else if path.ends_with('/') {
        format!("{path}index.md")
    } else {
        format!("{path}.md")
    })
}

/// Every method page of a docs checkout, found by what the importer reads from each page
/// (never by file or folder name).
#[derive(Debug, Clone, Default)]
pub struct DocsIndex {
    /// The checkout (the folder holding `api-reference/`).
    pub root: PathBuf,
    /// Whether `api-reference/` exists there.
    pub exists: bool,
    /// Markdown files under `api-reference/`.
    pub files: usize,
    /// The method pages among them, by path.
    pub pages: Vec<DocsPage>,
    /// The folders directly under `api-reference/`: the sections this checkout holds.
    pub sections: BTreeSet<String>,
}

impl DocsIndex {
    /// Walks `docs_dir/api-reference/` once and asks [`page_method`] which method each page
    /// documents. Files that cannot be read as text are not method pages; symbolic links to
    /// folders are not followed.
    pub fn read(docs_dir: &Path) -> DocsIndex {
        let api = docs_dir.join("api-reference");
        let mut index = DocsIndex {
            root: docs_dir.to_path_buf(),
            exists: api.is_dir(),
            ..DocsIndex::default()
        };
        if let Ok(entries) = std::fs::read_dir(&api) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    if let Some(name) = entry.file_name().to_str() {
                        index.sections.insert(name.to_string());
                    }
                }
            }
        }
        for path in md_files(&api) {
            index.files += 1;
            let Some(rel) = rel_path(docs_dir, &path) else {
                continue;
            };
            let Ok(src) = std::fs::read_to_string(&path) else {
                continue;
            };
            if let Some(method) = page_method(&src) {
                index.pages.push(DocsPage { path, rel, method });
            }
        }
        index
    }

    /// The pages documenting `method` (ASCII case ignored), by path.
    pub fn pages_of<'a>(&'a self, method: &'a str) -> impl Iterator<Item = &'a DocsPage> + 'a {
        self.pages
            .iter()
            .filter(move |p| p.method.eq_ignore_ascii_case(method))
    }

    /// The file a spec's `docs` URL names in this checkout, with its checkout path, if the
    /// file is there.
    pub fn file_of_url(&self, url: &str) -> Option<(String, PathBuf)> {
        let rel = docs_path_of_url(url)?;
        let path = self.root.join(&rel);
        path.is_file().then_some((rel, path))
    }
}

/// `page` relative to `root`, `/`-separated; none for a non-UTF-8 name.
fn rel_path(root: &Path, page: &Path) -> Option<String> {
    let rel = page.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

/// Every `*.md` under `dir`, sorted. Symbolic links to folders are not followed (a link to a
/// parent would never end).
fn md_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(p);
            } else if p.extension().is_some_and(|e| e == "md") && p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Imports one page for comparison: the importer's own reading ([`import_page`]), refused when
/// it read none of the names of one of the page's tables (a page in a wording the importer
/// does not know yet, such as the English translation's section titles, would otherwise
/// look like a page documenting nothing).
pub fn import_for_drift(page: &Path, cx: &DocsContext) -> Result<Imported, ImportError> {
    let src = std::fs::read_to_string(page).map_err(|e| ImportError {
        page: page.to_path_buf(),
        line: 0,
        expected: format!("a readable file ({e})"),
    })?;
    let imported = import_page(page, &src, cx)?;
    match unread_table(page, &src, &imported) {
        Some(e) => Err(e),
        None => Ok(imported),
    }
}

/// Every name the import holds: parameters, keys of every object, error codes, and the
/// envelope's keys, lower-cased.
fn imported_names(imp: &Imported) -> HashSet<String> {
    let m = &imp.spec;
    let mut names: HashSet<String> = [
        "result",
        "time",
        "total",
        "next",
        "error",
        "error_description",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    names.extend(m.params.iter().map(|p| p.name.to_ascii_lowercase()));
    for o in &m.objects {
        names.extend(o.fields.iter().map(|f| f.name.to_ascii_lowercase()));
    }
    names.extend(m.errors.iter().map(|e| e.code.to_ascii_lowercase()));
    names
}

/// The name a table row starts with: the first `**bold**` span of its first cell, without
/// the required-marker asterisk, escapes and backticks. Only a wire name counts (letters,
/// digits, `_`, `-`, `.`, `[]`): a placeholder such as `<messageId>` names no key.
fn row_name(cell: &str) -> Option<String> {
    let start = cell.find("**")? + 2;
    let len = cell[start..].find("**")?;
    let name = cell[start..start + len]
        .trim()
        .trim_matches(|c: char| c == '*' || c == '\\' || c == '`' || c.is_whitespace());
    let wire = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']'));
    (!name.is_empty() && wire).then(|| name.to_string())
}

/// An error code a row shows as a code span (`` `ACCESS_DENIED` ``), in its first two cells.
fn row_code(cells: &[String]) -> Option<String> {
    cells.iter().take(2).find_map(|c| {
        let spans = crate::markdown::code_spans(c);
        let [span] = spans.as_slice() else {
            return None;
        };
        let s = span.trim();
        (s.len() >= 3
            && s.contains('_')
            && s.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .then(|| s.to_string())
    })
}

/// The first table of the page whose rows name things (`**NAME**` first cells, or error
/// codes) of which the import holds none.
fn unread_table(page: &Path, src: &str, imp: &Imported) -> Option<ImportError> {
    let blocks = crate::markdown::blocks(src).ok()?;
    let known = imported_names(imp);
    let is_known = |n: &str| {
        let n = n.to_ascii_lowercase();
        known.contains(&n)
            || n.rsplit(['.', '[', ']'])
                .find(|s| !s.is_empty())
                .is_some_and(|last| known.contains(last))
    };
    let mut heading = String::new();
    for b in &blocks {
        match b {
            crate::markdown::Block::Heading(h) => heading = h.text.clone(),
            crate::markdown::Block::Table(t) => {
                let rows = t.rows.get(1..).unwrap_or_default();
                let mut names: Vec<String> = rows
                    .iter()
                    .filter_map(|r| r.cells.first().and_then(|c| row_name(c)))
                    .collect();
                if names.is_empty() {
                    names = rows.iter().filter_map(|r| row_code(&r.cells)).collect();
                }
                if names.is_empty() || names.iter().any(|n| is_known(n)) {
                    continue;
                }
                let shown: Vec<String> = names.iter().take(4).map(|n| format!("`{n}`")).collect();
                let more = if names.len() > 4 { ", ..." } else { "" };
                return Some(ImportError {
                    page: page.to_path_buf(),
                    line: t.line,
                    expected: format!(
                        "the importer to read the table under `{heading}` (rows {}{more}): it took none of its {} names, so drift does not compare this page",
                        shown.join(", "),
                        names.len()
                    ),
                });
            }
            _ => {}
        }
    }
    None
}

/// Where a spec's method is in a checkout.
enum Located<'a> {
    /// A page documents it.
    Page(&'a DocsPage),
    /// No page the importer names it on; the spec's `docs` URL names this file, which may
    /// still document it (the importer decides).
    ByUrl(String, PathBuf),
    /// Nowhere.
    Missing,
}

fn locate<'a>(spec: &'a Spec, index: &'a DocsIndex) -> Located<'a> {
    let url = docs_path_of_url(&spec.docs);
    let mut pages = index.pages_of(&spec.method).peekable();
    let first = pages.peek().copied();
    // Two pages of one method: the one the spec links to.
    if let Some(p) = pages.find(|p| Some(&p.rel) == url.as_ref()).or(first) {
        return Located::Page(p);
    }
    match index.file_of_url(&spec.docs) {
        Some((rel, path)) => Located::ByUrl(rel, path),
        None => Located::Missing,
    }
}

/// Compares specs with a docs checkout: finds each spec's page by the method the importer
/// reads from it (falling back to the spec's `docs` URL), imports it and compares. Without
/// `only_specced`, method pages without a spec are listed, within the sections the specs
/// cover (see [`drift_index`]).
pub fn drift(specs: &[Spec], docs_dir: &Path, opts: &DriftOptions) -> DriftReport {
    drift_index(specs, &DocsIndex::read(docs_dir), opts)
}

/// [`drift`] over a checkout already walked.
///
/// The sections the specs cover are the folders under `api-reference/` their pages lie in
/// (or their `docs` URLs point into) and their methods' namespaces; a docs-only method is
/// listed when its page lies in one of those folders or its name is in one of those
/// namespaces. A spec whose section folder the checkout does not hold at all is reported
/// as removed but not counted as drift (the checkout is partial); one whose section is
/// there but whose page is not is drift.
pub fn drift_index(specs: &[Spec], index: &DocsIndex, opts: &DriftOptions) -> DriftReport {
    let mut report = DriftReport {
        files: index.files,
        method_pages: index.pages.len(),
        ..DriftReport::default()
    };
    if !index.exists {
        report.unreadable.push(ImportError {
            page: index.root.join("api-reference"),
            line: 0,
            expected: "a docs checkout: a folder holding `api-reference/`".into(),
        });
        return report;
    }
    let cx = DocsContext {
        root: Some(index.root.clone()),
    };
    let wanted =
        |m: &str| opts.methods.is_empty() || opts.methods.iter().any(|w| w.eq_ignore_ascii_case(m));
    let specced = |m: &str| specs.iter().any(|s| s.method.eq_ignore_ascii_case(m));
    let mut sections: BTreeSet<String> = BTreeSet::new();
    let mut namespaces: BTreeSet<String> = BTreeSet::new();
    for spec in specs {
        namespaces.insert(namespace_of(&spec.method));
        let section = match locate(spec, index) {
            Located::Page(p) => Some(p.section().to_string()),
            Located::ByUrl(rel, _) => section_of(&rel).map(str::to_string),
            Located::Missing => docs_path_of_url(&spec.docs)
                .as_deref()
                .and_then(section_of)
                .map(str::to_string),
        };
        sections.extend(section);
    }
    for spec in specs.iter().filter(|s| wanted(&s.method)) {
        let removed = |detail: String, reviewed: Option<String>| Finding {
            method: spec.method.clone(),
            item: Item::Method,
            name: spec.method.clone(),
            change: Change::Removed,
            detail,
            reviewed,
        };
        let (rel, path) = match locate(spec, index) {
            Located::Page(p) => (p.rel.clone(), p.path.clone()),
            Located::ByUrl(rel, path) => (rel, path),
            Located::Missing => {
                let url_rel = docs_path_of_url(&spec.docs);
                let section = url_rel.as_deref().and_then(section_of);
                let finding = match section {
                    Some(s) if !index.sections.contains(s) => removed(
                        format!("the checkout has no `api-reference/{s}/` folder, so no page of it documents the method"),
                        Some(format!(
                            "the checkout does not hold the section `api-reference/{s}/` the spec links to ({}): nothing to compare",
                            spec.docs
                        )),
                    ),
                    _ => removed(
                        match url_rel {
                            Some(r) => format!("no page of api-reference/ documents it (the spec's page {r} is gone)"),
                            None => "no page of api-reference/ documents it".into(),
                        },
                        None,
                    ),
                };
                report.findings.push(finding);
                continue;
            }
        };
        report.pages += 1;
        match import_for_drift(&path, &cx) {
            Err(e) => report.unreadable.push(e),
            Ok(d) if !d.spec.method.eq_ignore_ascii_case(&spec.method) => {
                report.findings.push(removed(
                    format!(
                        "no page of api-reference/ documents it; the spec's page {rel} documents `{}`",
                        d.spec.method
                    ),
                    None,
                ));
            }
            Ok(d) => compare(spec, &d, &mut report.findings),
        }
    }
    if !opts.only_specced {
        let mut listed: HashSet<String> = HashSet::new();
        for page in &index.pages {
            let covered = sections.contains(page.section())
                || namespaces.contains(&namespace_of(&page.method));
            if !covered
                || !wanted(&page.method)
                || specced(&page.method)
                || !listed.insert(page.method.to_ascii_lowercase())
            {
                continue;
            }
            report.pages += 1;
            match import_for_drift(&page.path, &cx) {
                Err(e) => report.unreadable.push(e),
                Ok(d) => report.findings.push(Finding {
                    method: d.spec.method.clone(),
                    item: Item::Method,
                    name: d.spec.method.clone(),
                    change: Change::Added,
                    detail: format!("documented by {}, no spec yet", page.rel),
                    reviewed: None,
                }),
            }
        }
    }
    report
        .findings
        .sort_by(|a, b| a.method.cmp(&b.method).then(a.item.cmp(&b.item)));
    report
}

/// The coarse type the docs can express: what `drift` compares. Nullability is not compared
/// (`strip_null`).
fn coarse(spec: &Spec, ty: &TypeExpr) -> &'static str {
    match strip_null(ty) {
        TypeExpr::Scalar(s) => match s {
            Scalar::Integer => "integer",
            Scalar::Double => "number",
            Scalar::String | Scalar::Text | Scalar::Char => "string",
            Scalar::Boolean => "boolean",
            Scalar::Date | Scalar::Datetime => "date",
            Scalar::Timestamp => "timestamp",
            Scalar::Object => "object",
            Scalar::File | Scalar::Any => "*",
        },
        TypeExpr::Named(n) => {
            if spec.object(n).is_some() {
                "object"
            } else {
                "string"
            }
        }
        TypeExpr::Array(_) => "array",
        TypeExpr::Map(_) => "object",
        // `T | null | null` does not parse; were it written, its inner type is compared.
        TypeExpr::Nullable(t) => coarse(spec, t),
    }
}

/// Whether `Request::new` takes the parameter (`b24_spec::wire::param_shape`): a member of a
/// one-of group is not required on its own.
fn required(spec: &Spec, p: &Param) -> bool {
    matches!(param_shape(spec, p), ParamShape::Required)
}

fn same(a: &str, b: &str) -> bool {
    a == b || a == "*" || b == "*"
}

/// A key of the result tree: its type, the spec's note, whether the docs guessed it.
struct KeyInfo {
    display: String,
    ty: TypeExpr,
    note: Option<String>,
    aliases: Vec<String>,
    guessed: bool,
}

/// The keys of the result tree by path; `notes` says which types the docs do not state.
fn result_keys(spec: &Spec, notes: Option<&Notes>) -> BTreeMap<String, KeyInfo> {
    let mut out = BTreeMap::new();
    let mut seen = HashSet::new();
    walk(spec, notes, &spec.result.ty, "result", &mut out, &mut seen);
    out
}

fn walk(
    spec: &Spec,
    notes: Option<&Notes>,
    ty: &TypeExpr,
    prefix: &str,
    out: &mut BTreeMap<String, KeyInfo>,
    seen: &mut HashSet<String>,
) {
    match ty {
        TypeExpr::Nullable(t) | TypeExpr::Array(t) | TypeExpr::Map(t) => {
            walk(spec, notes, t, prefix, out, seen)
        }
        TypeExpr::Scalar(_) => {}
        TypeExpr::Named(n) => {
            let Some(o) = spec.object(n) else { return };
            if !seen.insert(format!("{prefix}:{n}")) || prefix.matches('.').count() > 8 {
                return;
            }
            for f in &o.fields {
                let path = format!("{prefix}.{}", f.name);
                let guessed = notes.is_some_and(|d| d.ty_guessed(&Target::field(n, &f.name)));
                out.insert(
                    path.to_ascii_lowercase(),
                    KeyInfo {
                        display: path.clone(),
                        ty: f.ty.clone(),
                        note: f.note.clone(),
                        aliases: f.aliases.iter().map(|a| a.to_ascii_lowercase()).collect(),
                        guessed,
                    },
                );
                walk(spec, notes, &f.ty, &path, out, seen);
            }
        }
    }
}

/// Findings of one method.
pub fn compare(spec: &Spec, docs: &Imported, out: &mut Vec<Finding>) {
    let mut f = Findings {
        method: &spec.method,
        out,
    };
    let d = &docs.spec;
    // A scope the page does not state (the importer took the namespace) is not compared.
    if !docs.notes.scope_guessed() && d.scope != spec.scope {
        f.push(
            Item::Method,
            spec.method.clone(),
            Change::Changed,
            format!(
                "scope `{}` in the docs, `{}` in the spec",
                d.scope, spec.scope
            ),
            None,
        );
    }
    compare_params(spec, docs, &mut f);
    compare_result(spec, docs, &mut f);
    compare_errors(spec, docs, &mut f);
}

/// The findings of one method, as they are made.
struct Findings<'a> {
    method: &'a str,
    out: &'a mut Vec<Finding>,
}

impl Findings<'_> {
    fn push(
        &mut self,
        item: Item,
        name: String,
        change: Change,
        detail: String,
        reviewed: Option<String>,
    ) {
        self.out.push(Finding {
            method: self.method.to_string(),
            item,
            name,
            change,
            detail,
            reviewed,
        });
    }
}

/// Parameters: by name ignoring case; the type sent and whether it is required.
fn compare_params(spec: &Spec, docs: &Imported, f: &mut Findings) {
    let (d, dn) = (&docs.spec, &docs.notes);
    for p in &spec.params {
        match d
            .params
            .iter()
            .find(|q| q.name.eq_ignore_ascii_case(&p.name))
        {
            None => f.push(
                Item::Param,
                p.name.clone(),
                Change::Removed,
                String::new(),
                p.note.clone(),
            ),
            Some(q) => {
                let guessed = dn.ty_guessed(&Target::Param(q.name.clone()));
                // The type of the value sent (`param_type`): nullability is not compared.
                let (a, b) = (coarse(d, param_type(q)), coarse(spec, param_type(p)));
                if !guessed && !same(a, b) {
                    f.push(
                        Item::Param,
                        p.name.clone(),
                        Change::Changed,
                        format!("type `{}` in the docs, `{}` in the spec", q.ty, p.ty),
                        p.note.clone(),
                    );
                }
                let (a, b) = (required(d, q), required(spec, p));
                if a != b {
                    f.push(
                        Item::Param,
                        p.name.clone(),
                        Change::Changed,
                        format!("required {a} in the docs, {b} in the spec"),
                        p.note.clone(),
                    );
                }
            }
        }
    }
    for q in &d.params {
        if !spec
            .params
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(&q.name))
        {
            f.push(
                Item::Param,
                q.name.clone(),
                Change::Added,
                format!("type `{}`", q.ty),
                None,
            );
        }
    }
}

/// The result's type and its keys, by path from `result` (aliases count).
fn compare_result(spec: &Spec, docs: &Imported, f: &mut Findings) {
    let (d, dn) = (&docs.spec, &docs.notes);
    let (a, b) = (coarse(d, &d.result.ty), coarse(spec, &spec.result.ty));
    // When the result's shape differs on purpose (the `[result]` carries a `note`), its keys
    // differ with it: their findings are reviewed under the same note.
    let shape_note = if same(a, b) {
        None
    } else {
        spec.result.note.clone()
    };
    if !dn.ty_guessed(&Target::Result) && !same(a, b) {
        f.push(
            Item::Result,
            "result".into(),
            Change::Changed,
            format!(
                "`{}` in the docs, `{}` in the spec",
                d.result.ty, spec.result.ty
            ),
            spec.result.note.clone(),
        );
    }
    let sk = result_keys(spec, None);
    let dk = result_keys(d, Some(dn));
    // A page that names no key of the result: the spec's keys share the result's note.
    let shape_note =
        shape_note.or_else(|| dk.is_empty().then(|| spec.result.note.clone()).flatten());
    let find_docs = |path: &str, info: &KeyInfo| -> Option<String> {
        if dk.contains_key(path) {
            return Some(path.to_string());
        }
        let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
        info.aliases
            .iter()
            .map(|a| format!("{parent}.{a}"))
            .find(|p| dk.contains_key(p))
    };
    let mut matched = HashSet::new();
    for (path, info) in &sk {
        match find_docs(path, info) {
            None => {
                // Keys under a key the docs lack are reported once, at the top.
                let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
                if parent != "result" && !dk.contains_key(parent) && sk.contains_key(parent) {
                    continue;
                }
                if dk.get(parent).is_some_and(|p| coarse(d, &p.ty) != "object") {
                    // The parent's type differs and is reported; its keys follow from that.
                    continue;
                }
                f.push(
                    Item::ResultKey,
                    info.display.clone(),
                    Change::Removed,
                    String::new(),
                    info.note.clone().or_else(|| shape_note.clone()),
                )
            }
            Some(dp) => {
                matched.insert(dp.clone());
                let di = &dk[&dp];
                let (a, b) = (coarse(d, &di.ty), coarse(spec, &info.ty));
                if !di.guessed && !same(a, b) {
                    f.push(
                        Item::ResultKey,
                        info.display.clone(),
                        Change::Changed,
                        format!("type `{}` in the docs, `{}` in the spec", di.ty, info.ty),
                        info.note.clone().or_else(|| shape_note.clone()),
                    );
                }
            }
        }
    }
    for (path, di) in &dk {
        if matched.contains(path) {
            continue;
        }
        let parent = path.rsplit_once('.').map_or("", |(p, _)| p);
        if parent != "result" && !sk.contains_key(parent) && dk.contains_key(parent) {
            continue;
        }
        if sk
            .get(parent)
            .is_some_and(|p| coarse(spec, &p.ty) != "object")
        {
            // The parent's type differs and is reported; its keys follow from that.
            continue;
        }
        f.push(
            Item::ResultKey,
            di.display.clone(),
            Change::Added,
            format!("type `{}`", di.ty),
            shape_note.clone(),
        );
    }
}

/// Error codes: present on one side only, or with another status. Messages are text (the
/// docs' languages and revisions word them differently) and are not compared.
fn compare_errors(spec: &Spec, docs: &Imported, f: &mut Findings) {
    let (d, dn) = (&docs.spec, &docs.notes);
    for e in &spec.errors {
        match d.errors.iter().find(|x| x.code == e.code) {
            None => f.push(
                Item::Error,
                e.code.clone(),
                Change::Removed,
                String::new(),
                e.note.clone(),
            ),
            Some(x) => {
                let guessed = dn.status_guessed(&x.code);
                if !guessed && x.status != e.status {
                    f.push(
                        Item::Error,
                        e.code.clone(),
                        Change::Changed,
                        format!("status {} in the docs, {} in the spec", x.status, e.status),
                        e.note.clone(),
                    );
                }
            }
        }
    }
    for x in &d.errors {
        if !spec.errors.iter().any(|e| e.code == x.code) {
            f.push(
                Item::Error,
                x.code.clone(),
                Change::Added,
                format!("status {}", x.status),
                None,
            );
        }
    }
}
