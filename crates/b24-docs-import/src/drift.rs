//! `xtask drift`: what a docs checkout says that `spec/` does not, and the other way round.
//!
//! Every method page under `api-reference/imopenlines/` is imported in memory and compared
//! with the spec of the same method:
//!
//! * methods, parameters (by name, ignoring case), result keys (by their path from `result`,
//!   ignoring case, aliases count) and error codes present on one side only are *added*
//!   (docs only) or *removed* (spec only);
//! * a parameter or key whose coarse type differs (integer, number, string, boolean, date,
//!   timestamp, object, array; `any`/`file` match everything; nullability and optionality
//!   are not compared, the docs state them too loosely), a parameter whose `required`
//!   differs, an error whose status or message differs, is *changed*;
//! * what the page does not state (an untyped key, a type taken from the example, a status
//!   the 2024 template omits) is never compared;
//! * a finding about a spec key or error code that carries a `note` is a *reviewed
//!   difference*: the spec departs from the docs on purpose and says why. It is printed with
//!   the note and does not count as drift.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use b24_spec::wire::{param_shape, param_type, strip_null, ParamShape};
use b24_spec::{Param, Scalar, Spec, TypeExpr};

use crate::{import_page, page_method, DocsContext, ImportError, Imported};

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
    /// Method pages read.
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
            "{} method pages read, {drift} differences, {reviewed} reviewed differences, {} unreadable pages",
            self.pages,
            self.unreadable.len()
        )
    }
}

/// Options of a drift run.
#[derive(Debug, Clone, Default)]
pub struct DriftOptions {
    /// Only compare methods that have a spec (do not list docs-only methods).
    pub only_specced: bool,
    /// Only these methods (all when empty).
    pub methods: Vec<String>,
}

/// Every `*.md` under `dir`, sorted.
fn md_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                pending.push(p);
            } else if p.extension().is_some_and(|e| e == "md") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Imports every open-lines method page of a docs checkout (`DOCS_DIR/api-reference/imopenlines/**`).
/// Pages that are not method pages (indexes, events) are skipped.
pub fn import_docs(docs_dir: &Path) -> (Vec<Imported>, Vec<ImportError>) {
    let cx = DocsContext {
        root: Some(docs_dir.to_path_buf()),
    };
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for page in md_files(&docs_dir.join("api-reference/imopenlines")) {
        let Ok(src) = std::fs::read_to_string(&page) else {
            continue;
        };
        if page_method(&src).is_none() {
            continue;
        }
        match import_page(&page, &src, &cx) {
            Ok(i) => ok.push(i),
            Err(e) => failed.push(e),
        }
    }
    (ok, failed)
}

/// Compares specs with a docs checkout.
pub fn drift(specs: &[Spec], docs_dir: &Path, opts: &DriftOptions) -> DriftReport {
    let (docs, unreadable) = import_docs(docs_dir);
    let mut report = DriftReport {
        pages: docs.len() + unreadable.len(),
        ..DriftReport::default()
    };
    let wanted = |m: &str| opts.methods.is_empty() || opts.methods.iter().any(|w| w == m);
    report.unreadable = unreadable
        .into_iter()
        .filter(|e| {
            std::fs::read_to_string(&e.page)
                .ok()
                .and_then(|s| page_method(&s))
                .is_none_or(|m| {
                    wanted(&m) && (!opts.only_specced || specs.iter().any(|s| s.method == m))
                })
        })
        .collect();
    for spec in specs.iter().filter(|s| wanted(&s.method)) {
        match docs.iter().find(|d| d.method.method == spec.method) {
            Some(d) => compare(spec, d, &mut report.findings),
            None => {
                let unread = report.unreadable.iter().any(|e| {
                    std::fs::read_to_string(&e.page)
                        .ok()
                        .and_then(|s| page_method(&s))
                        .as_deref()
                        == Some(spec.method.as_str())
                });
                if !unread {
                    // A method documented in another section (`event.*` under
                    // `api-reference/events/`) is not missing: drift reads open lines only.
                    let elsewhere = !spec.docs.contains("/api-reference/imopenlines/");
                    report.findings.push(Finding {
                        method: spec.method.clone(),
                        item: Item::Method,
                        name: spec.method.clone(),
                        change: Change::Removed,
                        detail: "no docs page documents it".into(),
                        reviewed: elsewhere.then(|| {
                            format!(
                                "documented outside api-reference/imopenlines/ ({}), which drift does not read",
                                spec.docs
                            )
                        }),
                    });
                }
            }
        }
    }
    if !opts.only_specced {
        for d in docs.iter().filter(|d| wanted(&d.method.method)) {
            if !specs.iter().any(|s| s.method == d.method.method) {
                report.findings.push(Finding {
                    method: d.method.method.clone(),
                    item: Item::Method,
                    name: d.method.method.clone(),
                    change: Change::Added,
                    detail: format!(
                        "documented by {}, no spec yet",
                        d.method.source.as_deref().unwrap_or("a docs page")
                    ),
                    reviewed: None,
                });
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

fn result_keys(spec: &Spec, method: Option<&crate::Method>) -> BTreeMap<String, KeyInfo> {
    let mut out = BTreeMap::new();
    let mut seen = HashSet::new();
    walk(spec, method, &spec.result.ty, "result", &mut out, &mut seen);
    out
}

fn walk(
    spec: &Spec,
    method: Option<&crate::Method>,
    ty: &TypeExpr,
    prefix: &str,
    out: &mut BTreeMap<String, KeyInfo>,
    seen: &mut HashSet<String>,
) {
    match ty {
        TypeExpr::Nullable(t) | TypeExpr::Array(t) | TypeExpr::Map(t) => {
            walk(spec, method, t, prefix, out, seen)
        }
        TypeExpr::Scalar(_) => {}
        TypeExpr::Named(n) => {
            let Some(o) = spec.object(n) else { return };
            if !seen.insert(format!("{prefix}:{n}")) || prefix.matches('.').count() > 8 {
                return;
            }
            for f in &o.fields {
                let path = format!("{prefix}.{}", f.name);
                let guessed = method
                    .and_then(|m| m.object(n))
                    .and_then(|mo| mo.fields.iter().find(|mf| mf.name == f.name))
                    .is_some_and(|mf| mf.ty_guessed);
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
                walk(spec, method, &f.ty, &path, out, seen);
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
    if d.scope != spec.scope {
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
    let (d, dm) = (&docs.spec, &docs.method);
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
                None,
            ),
            Some(q) => {
                let guessed = dm
                    .params
                    .iter()
                    .find(|x| x.name == q.name)
                    .is_some_and(|x| x.ty_guessed);
                // The type of the value sent (`param_type`): nullability is not compared.
                let (a, b) = (coarse(d, param_type(q)), coarse(spec, param_type(p)));
                if !guessed && !same(a, b) {
                    f.push(
                        Item::Param,
                        p.name.clone(),
                        Change::Changed,
                        format!("type `{}` in the docs, `{}` in the spec", q.ty, p.ty),
                        None,
                    );
                }
                let (a, b) = (required(d, q), required(spec, p));
                if a != b {
                    f.push(
                        Item::Param,
                        p.name.clone(),
                        Change::Changed,
                        format!("required {a} in the docs, {b} in the spec"),
                        None,
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
    let (d, dm) = (&docs.spec, &docs.method);
    let (a, b) = (coarse(d, &d.result.ty), coarse(spec, &spec.result.ty));
    if !dm.result.ty_guessed && !same(a, b) {
        f.push(
            Item::Result,
            "result".into(),
            Change::Changed,
            format!(
                "`{}` in the docs, `{}` in the spec",
                d.result.ty, spec.result.ty
            ),
            None,
        );
    }
    let sk = result_keys(spec, None);
    let dk = result_keys(d, Some(dm));
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
                    info.note.clone(),
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
                        info.note.clone(),
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
            None,
        );
    }
}

/// Error codes: present on one side only, or with another status or message.
fn compare_errors(spec: &Spec, docs: &Imported, f: &mut Findings) {
    let (d, dm) = (&docs.spec, &docs.method);
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
                let guessed = dm
                    .errors
                    .iter()
                    .find(|y| y.code == x.code)
                    .is_some_and(|y| y.status_guessed);
                if !guessed && x.status != e.status {
                    f.push(
                        Item::Error,
                        e.code.clone(),
                        Change::Changed,
                        format!("status {} in the docs, {} in the spec", x.status, e.status),
                        e.note.clone(),
                    );
                }
                if let (Some(a), Some(b)) = (&x.message, &e.message) {
                    if a.trim() != b.trim() {
                        f.push(
                            Item::Error,
                            e.code.clone(),
                            Change::Changed,
                            format!("message `{a}` in the docs, `{b}` in the spec"),
                            e.note.clone(),
                        );
                    }
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
