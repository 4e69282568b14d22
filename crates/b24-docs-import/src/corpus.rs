//! `xtask import --corpus DIR`: every page of a docs folder through the importer, counted.
//!
//! Each page is classified first ([`crate::page::classify`]): non-method pages are counted by
//! kind and skipped, never as failures. Each method page is imported in memory; it is *clean*
//! when the importer had to guess nothing, *imported with `TODO(review)`* when it did, and
//! *failed* when it gave no spec `b24-spec` accepts. Failures are grouped by cause, each with
//! one example page. A panic inside the importer is caught and counted as a failure of its
//! own cause, so one page never stops the run.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::page::{classify, NotMethod, PageKind};
use crate::{import_page, DocsContext, Imported};

/// What happened to one page.
#[derive(Debug)]
pub enum Outcome {
    /// A non-method page, skipped.
    Skipped(NotMethod),
    /// Imported into a valid spec (clean when it has no warnings).
    Imported(Box<Imported>),
    /// Not imported: the cause, and the whole message.
    Failed {
        /// The message with its page-specific details (lines, names) generalised.
        cause: String,
        /// The importer's message.
        message: String,
    },
}

/// One page and its outcome.
#[derive(Debug)]
pub struct PageOutcome {
    /// The page.
    pub page: PathBuf,
    /// What happened.
    pub outcome: Outcome,
}

/// Counts over one docs folder.
#[derive(Debug, Default)]
pub struct CorpusReport {
    /// The folder (the one holding `api-reference/`).
    pub root: PathBuf,
    /// Every page, in path order.
    pub pages: Vec<PageOutcome>,
}

/// One cause of failure: how many pages and the first of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureGroup {
    /// The generalised message.
    pub cause: String,
    /// Pages that failed this way.
    pub count: usize,
    /// The first of them (path order).
    pub example: PathBuf,
    /// Its whole message.
    pub message: String,
}

impl CorpusReport {
    /// All pages.
    pub fn total(&self) -> usize {
        self.pages.len()
    }

    /// Pages that document one method.
    pub fn method_pages(&self) -> usize {
        self.pages
            .iter()
            .filter(|p| !matches!(p.outcome, Outcome::Skipped(_)))
            .count()
    }

    /// Method pages imported with nothing to review.
    pub fn clean(&self) -> usize {
        self.imported().filter(|i| i.warnings().is_empty()).count()
    }

    /// Method pages imported with at least one `TODO(review)`.
    pub fn with_todos(&self) -> usize {
        self.imported().filter(|i| !i.warnings().is_empty()).count()
    }

    /// Method pages that gave no valid spec.
    pub fn failed(&self) -> usize {
        self.pages
            .iter()
            .filter(|p| matches!(p.outcome, Outcome::Failed { .. }))
            .count()
    }

    /// Imported specs.
    pub fn imported(&self) -> impl Iterator<Item = &Imported> {
        self.pages.iter().filter_map(|p| match &p.outcome {
            Outcome::Imported(i) => Some(i.as_ref()),
            _ => None,
        })
    }

    /// Non-method pages by kind.
    pub fn skipped(&self) -> BTreeMap<NotMethod, usize> {
        let mut out = BTreeMap::new();
        for p in &self.pages {
            if let Outcome::Skipped(k) = p.outcome {
                *out.entry(k).or_default() += 1;
            }
        }
        out
    }

    /// Imported method pages by the template the importer detected.
    pub fn by_template(&self) -> BTreeMap<&'static str, usize> {
        let mut out = BTreeMap::new();
        for i in self.imported() {
            *out.entry(i.template.as_str()).or_default() += 1;
        }
        out
    }

    /// Share of method pages imported into a valid spec (1.0 when there are none).
    pub fn imported_share(&self) -> f64 {
        share(self.clean() + self.with_todos(), self.method_pages())
    }

    /// Share of method pages imported with nothing to review.
    pub fn clean_share(&self) -> f64 {
        share(self.clean(), self.method_pages())
    }

    /// Failures grouped by cause, the most frequent first.
    pub fn failure_groups(&self) -> Vec<FailureGroup> {
        let mut groups: Vec<FailureGroup> = Vec::new();
        for p in &self.pages {
            let Outcome::Failed { cause, message } = &p.outcome else {
                continue;
            };
            match groups.iter_mut().find(|g| &g.cause == cause) {
                Some(g) => g.count += 1,
                None => groups.push(FailureGroup {
                    cause: cause.clone(),
                    count: 1,
                    example: p.page.clone(),
                    message: message.clone(),
                }),
            }
        }
        groups.sort_by(|a, b| b.count.cmp(&a.count).then(a.cause.cmp(&b.cause)));
        groups
    }

    /// Methods documented by more than one page, with their pages.
    pub fn duplicates(&self) -> Vec<(String, Vec<PathBuf>)> {
        let mut by_method: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
        for p in &self.pages {
            if let Outcome::Imported(i) = &p.outcome {
                by_method
                    .entry(i.spec.method.as_str())
                    .or_default()
                    .push(p.page.clone());
            }
        }
        by_method
            .into_iter()
            .filter(|(_, pages)| pages.len() > 1)
            .map(|(m, pages)| (m.to_string(), pages))
            .collect()
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

impl fmt::Display for CorpusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let methods = self.method_pages();
        let pct = |n: usize| 100.0 * share(n, methods);
        writeln!(f, "corpus {}", self.root.display())?;
        writeln!(f, "| pages | {} |", self.total())?;
        writeln!(f, "| method pages | {methods} |")?;
        writeln!(
            f,
            "| imported clean | {} ({:.1}%) |",
            self.clean(),
            pct(self.clean())
        )?;
        writeln!(
            f,
            "| imported with TODO(review) | {} ({:.1}%) |",
            self.with_todos(),
            pct(self.with_todos())
        )?;
        writeln!(
            f,
            "| failed | {} ({:.1}%) |",
            self.failed(),
            pct(self.failed())
        )?;
        let skipped = self.skipped();
        writeln!(
            f,
            "| non-method pages (skipped) | {} |",
            skipped.values().sum::<usize>()
        )?;
        for (kind, n) in &skipped {
            writeln!(f, "|   {kind} | {n} |")?;
        }
        for (template, n) in self.by_template() {
            writeln!(
                f,
                "| imported pages in the {template} page template | {n} |"
            )?;
        }
        let groups = self.failure_groups();
        if !groups.is_empty() {
            writeln!(f, "failures by cause:")?;
            for g in groups {
                writeln!(f, "  {:>4}  {}", g.count, g.cause)?;
                writeln!(f, "        e.g. {}", g.message)?;
            }
        }
        Ok(())
    }
}

/// The folders of `dir` to import as corpora: `dir` itself when it holds `api-reference/`,
/// otherwise each of its subfolders that does (`corpus/` → `2024-09-06/`, `current/`), in
/// name order. A folder with neither is taken as is (its pages outside a docs checkout).
pub fn corpus_roots(dir: &Path) -> Vec<PathBuf> {
    if dir.join("api-reference").is_dir() {
        return vec![dir.to_path_buf()];
    }
    let mut subs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("api-reference").is_dir())
        .collect();
    subs.sort();
    if subs.is_empty() {
        vec![dir.to_path_buf()]
    } else {
        subs
    }
}

/// Every `.md` file under `dir`, in path order (symbolic links are not followed).
pub fn markdown_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let path = e.path();
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() && path.extension().is_some_and(|x| x == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Generalises an importer message into a cause: line numbers and quoted page text (in
/// backticks or parentheses) are dropped, so pages that fail the same way group together.
pub fn cause_of(expected: &str) -> String {
    let mut out = String::new();
    let mut depth_tick = false;
    let mut depth_paren = 0usize;
    for c in expected.chars() {
        match c {
            '`' => {
                depth_tick = !depth_tick;
                if depth_tick && depth_paren == 0 {
                    out.push_str("`…`");
                }
            }
            '(' if !depth_tick => depth_paren += 1,
            ')' if !depth_tick && depth_paren > 0 => depth_paren -= 1,
            _ if depth_tick || depth_paren > 0 => {}
            c if c.is_ascii_digit() => {
                if !out.ends_with('N') {
                    out.push('N');
                }
            }
            c => out.push(c),
        }
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    out.chars().take(160).collect()
}

/// Imports one page for the report: classifies it, imports a method page, and turns a panic
/// into a failure.
pub fn import_one(page: &Path, cx: &DocsContext) -> Outcome {
    let src = match std::fs::read(page) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            let message = format!("{}: cannot read: {e}", page.display());
            return Outcome::Failed {
                cause: "the page cannot be read".into(),
                message,
            };
        }
    };
    if let PageKind::NotMethod(kind) = classify(&src) {
        return Outcome::Skipped(kind);
    }
    let run =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| import_page(page, &src, cx)));
    match run {
        Ok(Ok(imported)) => Outcome::Imported(Box::new(imported)),
        Ok(Err(e)) => Outcome::Failed {
            cause: cause_of(&e.expected),
            message: e.to_string(),
        },
        Err(_) => Outcome::Failed {
            cause: "the importer panicked (a bug: report the page)".into(),
            message: format!("{}: the importer panicked", page.display()),
        },
    }
}

/// Imports every page under `root` (a docs checkout or any folder of pages).
pub fn import_corpus(root: &Path) -> CorpusReport {
    let cx = DocsContext {
        root: root
            .join("api-reference")
            .is_dir()
            .then(|| root.to_path_buf()),
    };
    let pages = markdown_files(root)
        .into_iter()
        .map(|page| {
            let outcome = import_one(&page, &cx);
            PageOutcome { page, outcome }
        })
        .collect();
    CorpusReport {
        root: root.to_path_buf(),
        pages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_group_pages_that_fail_the_same_way() {
        assert_eq!(
            cause_of("a table row starting with `||` (found `- || **A**`) at line 12"),
            "a table row starting with `…` at line N"
        );
        assert_eq!(
            cause_of("a table row starting with `||` (found `x`) at line 7"),
            cause_of("a table row starting with `||` (found `- || **A**`) at line 12")
        );
    }
}
