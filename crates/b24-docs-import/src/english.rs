//! Descriptions a Rust user can read: the English translation of a page
//! (`<docs>/en/api-reference/...`, the same path as the Russian page under
//! `<docs>/current/...`) gives the summary and every description it has; the Russian page, which
//! is newer, keeps every fact (names, types, codes, statuses, messages, examples).
//!
//! Items are matched by what identifies them, never by position: parameters by name (ignoring
//! case), object fields by object and field name (or by a field name only one object of the
//! English page has), errors by code. Text the English page does not have stays Russian and is
//! listed in one `TODO(review)`.

use std::path::{Path, PathBuf};

use b24_spec::{Object, Spec};

use crate::notes::{Notes, Target};

/// The English page of `page` when the docs checkout `root` (the folder holding
/// `api-reference/`) has a sibling `en/` holding the same path.
pub fn english_page(page: &Path, root: Option<&Path>) -> Option<PathBuf> {
    let root = root?;
    if root.file_name().is_some_and(|n| n == "en") {
        return None;
    }
    let relative = page.strip_prefix(root).ok()?;
    let en = root.parent()?.join("en").join(relative);
    en.is_file().then_some(en)
}

/// `en/api-reference/...`: the English page from its checkout's folder on, the same on every
/// machine.
fn shown_path(en_page: &Path) -> String {
    let parts: Vec<_> = en_page.components().collect();
    let at = parts
        .iter()
        .rposition(|c| c.as_os_str() == "api-reference")
        .map_or(0, |i| i.saturating_sub(1));
    parts[at..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `text` has Cyrillic letters (the docs' Russian), by the rule of
/// [`b24_spec::prose::is_cyrillic`] that the language check of `spec/` uses.
pub fn has_cyrillic(text: &str) -> bool {
    text.chars().any(b24_spec::prose::is_cyrillic)
}

/// An English text to take: not empty, not the importer's `TODO` placeholder, no Russian.
fn usable(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty() && !t.starts_with("TODO") && !has_cyrillic(t)
}

/// Replaces the Russian summary and descriptions of `method` with those of `en` (the English
/// page, read) where it has them. Returns how many were replaced; the rest are named in one
/// `TODO(review)` of `notes`.
pub fn apply(method: &mut Spec, notes: &mut Notes, en: &Spec, en_page: &Path) -> usize {
    let mut replaced = 0;
    let mut left: Vec<String> = Vec::new();
    let mut take = |target: &mut String, source: Option<&str>, what: String| {
        // Only Russian text is replaced.
        if !has_cyrillic(target) {
            return;
        }
        match source.filter(|s| usable(s)) {
            Some(s) => {
                *target = s.to_string();
                replaced += 1;
            }
            None => left.push(what),
        }
    };
    if en.method == method.method {
        take(
            &mut method.summary,
            Some(en.summary.as_str()),
            "the summary".into(),
        );
    }
    if let Some(a) = method.access.as_mut() {
        take(a, en.access.as_deref(), "who may call it (`access`)".into());
    }
    if let Some(d) = method.description.as_mut() {
        take(d, en.description.as_deref(), "the description".into());
    }
    for p in &mut method.params {
        let source = en
            .params
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(&p.name))
            .map(|e| e.description.as_str());
        take(
            &mut p.description,
            source,
            format!("parameter `{}`", p.name),
        );
    }
    take(
        &mut method.result.description,
        Some(en.result.description.as_str()),
        "the result".into(),
    );
    for o in &mut method.objects {
        // Same name, or else the English object sharing most field names (at least half of
        // this one's): the translation names some tables differently.
        let en_object = en.objects.iter().find(|e| e.name == o.name).or_else(|| {
            let shared = |e: &&Object| {
                o.fields
                    .iter()
                    .filter(|f| e.fields.iter().any(|x| x.name == f.name))
                    .count()
            };
            en.objects
                .iter()
                .max_by_key(shared)
                .filter(|e| !o.fields.is_empty() && 2 * shared(e) >= o.fields.len())
        });
        take(
            &mut o.description,
            en_object.map(|e| e.description.as_str()),
            format!("object `{}`", o.name),
        );
        for f in &mut o.fields {
            let in_object = en_object.and_then(|e| e.fields.iter().find(|x| x.name == f.name));
            let only_one = || {
                let mut all = en
                    .objects
                    .iter()
                    .flat_map(|e| e.fields.iter())
                    .filter(|x| x.name == f.name);
                match (all.next(), all.next()) {
                    (Some(x), None) => Some(x),
                    _ => None,
                }
            };
            let source = in_object.or_else(only_one).map(|x| x.description.as_str());
            take(
                &mut f.description,
                source,
                format!("`{}.{}`", o.name, f.name),
            );
        }
    }
    for e in &mut method.errors {
        let source = en
            .errors
            .iter()
            .find(|x| x.code == e.code)
            .map(|x| x.description.as_str());
        take(&mut e.description, source, format!("error `{}`", e.code));
    }
    if !left.is_empty() {
        let shown: Vec<&str> = left.iter().take(8).map(String::as_str).collect();
        let more = left.len().saturating_sub(shown.len());
        let message = format!(
            "{} description(s) have no English text on {} and stay Russian: {}{}; translate them",
            left.len(),
            shown_path(en_page),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        notes.note(Target::Method, 0, message);
    }
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic() {
        assert!(has_cyrillic("Идентификатор"));
        assert!(!has_cyrillic("Identifier `ID`"));
    }
}
