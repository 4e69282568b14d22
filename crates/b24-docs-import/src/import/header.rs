//! The page's title and header: the method's name and summary, the scope and who may call
//! it (from the page or its includes), its `kind` and `docs` URL, and what its code examples
//! call.

use std::path::Path;

use b24_spec::{MethodKind, Spec};
use serde_json::Value;

use crate::markdown::{code_spans, plain, Block, Heading};
use crate::notes::{Notes, Target};
use crate::page::{NameSource, PageKind};

use super::{docs_root_of, err, method_spec, DocsContext, ImportError};

/// The method's facts from the page's title and header: its name, summary, scope, who may
/// call it, `kind` and `docs` URL, with notes on what was guessed (the description is the
/// caller's: it comes from placing the page's blocks).
pub(super) fn read_header(
    page: &Path,
    src: &str,
    cx: &DocsContext,
    blocks: &[Block],
    source: Option<&str>,
    notes: &mut Notes,
) -> Result<Spec, ImportError> {
    let title = title_heading(page, blocks)?;
    let (method_name, name_from) = method_name(page, src, title)?;
    let method_name = method_name.as_str();
    let summary = title_summary(title, method_name, name_from);
    let header = header_lines(blocks);
    let (scope, access) = scope_and_access(page, &header);
    let scope_guessed = scope.is_none();
    let (scope, scope_todo) = scope_or_guess(scope, method_name);
    if let Some(t) = scope_todo {
        notes.note(Target::Method, title.line, t);
    }
    let docs = docs_url(page, source, notes);
    let kind = method_kind(cx, method_name, title.line, notes);
    let summary = if summary.is_empty() {
        let t = "the title has no text besides the method name: write a summary";
        notes.note(Target::Method, title.line, t);
        method_name.to_string()
    } else {
        summary
    };
    notes.set_scope_guessed(scope_guessed);
    if name_from != NameSource::Title {
        if let Some(other) = examples_call_another(blocks, method_name) {
            let t = format!(
                "the page names `{method_name}` but its code examples call `{other}`: check which method the page documents"
            );
            notes.note(Target::Method, title.line, t);
        }
    }
    Ok(Spec {
        scope,
        summary,
        docs,
        access,
        kind,
        ..method_spec(page, method_name)
    })
}

/// The page's `# Title`.
fn title_heading<'b>(page: &Path, blocks: &'b [Block]) -> Result<&'b Heading, ImportError> {
    blocks
        .iter()
        .find_map(|b| match b {
            Block::Heading(h) if h.level == 1 => Some(h),
            _ => None,
        })
        .ok_or_else(|| err(page, 1, "a `# Title method.name` heading"))
}

/// The method the page documents and where the page names it; an error for a non-method
/// page (see [`crate::page`]).
fn method_name(
    page: &Path,
    src: &str,
    title: &Heading,
) -> Result<(String, NameSource), ImportError> {
    match crate::page::classify(src) {
        PageKind::Method { name, from, .. } => Ok((name, from)),
        PageKind::NotMethod(why) => Err(err(
            page,
            title.line,
            format!(
                "a method page (the method's name in the title, a `Название метода:` line, an info note or the first sentence); this page is a non-method page: {why}"
            ),
        )),
    }
}

/// The title's text besides the method name (all of it when the title does not name the
/// method); may be empty.
fn title_summary(title: &Heading, method_name: &str, name_from: NameSource) -> String {
    if name_from == NameSource::Title {
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
    }
}

/// The scope the page names or, when it names none, the method's namespace with the note
/// that says so.
fn scope_or_guess(scope: Option<String>, method_name: &str) -> (String, Option<String>) {
    match scope {
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
    }
}

/// The page's URL on apidocs.bitrix24.ru, from its path in the docs checkout (or, outside
/// one, from its file name, with a note).
fn docs_url(page: &Path, source: Option<&str>, notes: &mut Notes) -> String {
    match source {
        Some(s) => format!(
            "https://apidocs.bitrix24.ru/{}",
            s.strip_suffix(".md")
                .map_or(s.to_string(), |b| format!("{b}.html"))
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
    }
}

/// The method's `kind`: the simulator's, else from the name's verb (with a note when the
/// verb is no known one).
fn method_kind(cx: &DocsContext, method_name: &str, line: usize, notes: &mut Notes) -> MethodKind {
    match simulator_kind(cx, method_name) {
        Some(k) => k,
        None => {
            let (k, sure) = kind_from_name(method_name);
            if !sure {
                let t = format!(
                    "`kind` is `{k}` by default (no simulator summary `_assets/simulator/spec/methods/{method_name}.json`, and the name's last word is no known read or write verb): make it `read` if the method only reads; reads are replayed after a lost answer."
                );
                notes.note(Target::Method, line, t);
            }
            kind_of(k)
        }
    }
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

pub(super) fn read_scope_line(text: &str, scope: &mut Option<String>, access: &mut Option<String>) {
    let t = text.trim_start_matches('>').trim();
    // Labels are separated by ` | ` (`**Scope**: [...] | **Кто может...**: ...`) or only by
    // the next bold label (`**Scope**: [...] **Права на выполнение**: ...`).
    let parts = t.split(" | ").flat_map(|p| p.split(" **"));
    for part in parts {
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

/// The verbs (a method name's last word starts with) of methods that only read.
const READ_VERBS: &[&str] = &[
    "get", "list", "fields", "search", "count", "status", "info", "find", "describe", "is", "can",
    "check", "current",
];

/// The verbs of methods that write.
const WRITE_VERBS: &[&str] = &[
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

/// `kind` from the verb the method's last word starts with (`getFields` → read,
/// `addStage` → write), and whether the verb is a known one. An unknown verb gives `write`:
/// a write is never replayed, so the default is the safe one.
pub fn kind_from_name(method: &str) -> (&'static str, bool) {
    let last = method.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    // `addStage`, `getList`, `deleteTask`: the verb, then a capitalised word (lost to
    // the lower-casing, so compare prefixes: `getfields` starts with `get`).
    let starts = |verbs: &[&str]| verbs.iter().any(|v| last.starts_with(v));
    if starts(READ_VERBS) {
        ("read", true)
    } else if starts(WRITE_VERBS) {
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

#[cfg(test)]
mod tests {
    use super::read_scope_line;

    fn read(line: &str) -> (Option<String>, Option<String>) {
        let (mut scope, mut access) = (None, None);
        read_scope_line(line, &mut scope, &mut access);
        (scope, access)
    }

    /// Every way the pages write the header line (the ` | ` form lost its access once).
    #[test]
    fn scope_and_access_in_every_form() {
        let both = |s: &str, a: &str| (Some(s.to_string()), Some(a.to_string()));
        assert_eq!(
            read("**Scope**: [`task`](x) | **Кто может выполнять метод**: `любой пользователь`"),
            both("task", "любой пользователь")
        );
        assert_eq!(
            read("**Scope**: [`bizproc`](x) **Права на выполнение**: `администратор`"),
            both("bizproc", "администратор")
        );
        assert_eq!(
            read("> Scope: [`imopenlines`](x)"),
            (Some("imopenlines".into()), None)
        );
        assert_eq!(
            read("> Who can execute the method: any user"),
            (None, Some("any user".into()))
        );
    }
}
