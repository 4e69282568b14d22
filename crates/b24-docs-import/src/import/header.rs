//! The page's header: the scope and who may call the method (from the page or its
//! includes), the method's `kind`, and what its code examples call.

use std::path::Path;

use b24_spec::MethodKind;
use serde_json::Value;

use crate::markdown::{code_spans, plain, Block};

use super::{docs_root_of, DocsContext};

/// The one method the page's code examples call (`callMethod('x.y'`, `.../x.y` in a URL,
/// `restCommand('x.y'`), when they call exactly one and it is not `name` (ignoring case, as the
/// portal does).
pub(super) fn examples_call_another(blocks: &[Block], name: &str) -> Option<String> {
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

pub(super) fn kind_of(kind: &str) -> MethodKind {
    if kind == "read" {
        MethodKind::Read
    } else {
        MethodKind::Write
    }
}

/// The text lines between the title and the first `##` section (the page's header: scope,
/// who may call it, notes).
pub(super) fn header_lines(blocks: &[Block]) -> Vec<(usize, String)> {
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
pub(super) fn scope_and_access(
    page: &Path,
    header: &[(usize, String)],
) -> (Option<String>, Option<String>) {
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

pub(super) fn simulator_kind(cx: &DocsContext, method: &str) -> Option<MethodKind> {
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
