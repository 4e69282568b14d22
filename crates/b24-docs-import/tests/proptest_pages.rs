//! Property tests of the docs importer: whatever the page, `import_page` gives a valid spec
//! or an `ImportError` naming the page and a line of it (a page that is no method page is
//! one the tools skip); it never panics and never hangs.
//!
//! Inputs are arbitrary text, Markdown token soup shaped like the docs' pages, and real pages
//! mutated line by line (indentation with non-ASCII whitespace, fences and table markers
//! inserted, lines deleted, duplicated and swapped, characters inserted, the page cut short).
//! The real pages are the crate's fixtures (copies of pages of the current and the 2024 docs)
//! and, when the shared docs checkout is next to the workspace (or `B24_REST_DOCS` names it,
//! as for `docs_checkouts.rs`), every page of its `current/api-reference/imopenlines/`. Every
//! input stays under a few tens of kilobytes, so each case is quick. `PROPTEST_CASES` raises
//! the number of cases (256 by default).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use b24_docs_import::markdown::{self, Block};
use b24_docs_import::page::{classify, is_method_name, PageKind};
use b24_docs_import::{docs_root_of, import_page, page_method, DocsContext};
use proptest::prelude::*;
use proptest::sample::{select, Index};

// ---------------------------------------------------------------------------------------
// The property.

#[derive(Debug, PartialEq)]
enum Outcome {
    Spec,
    Error,
    /// Not a method page: `cargo xtask` skips it (the importer is still run on it here).
    Skip,
}

fn check_page(page: &Path, src: &str) -> Result<Outcome, TestCaseError> {
    let cx = DocsContext {
        root: docs_root_of(page),
    };
    let method = page_method(src);
    // A method page's name is a REST method name written on the page.
    if let PageKind::Method { name, line, .. } = classify(src) {
        prop_assert!(is_method_name(&name), "{name}");
        prop_assert!(src.contains(&name), "{name} is not on the page");
        prop_assert!(line >= 1 && line <= src.lines().count(), "line {line}");
    }
    let lines = src.lines().count();
    match import_page(page, src, &cx) {
        Ok(imp) => {
            // The spec is what the rendered text says.
            let again = b24_spec::parse_spec(page, &imp.toml);
            prop_assert_eq!(
                again.as_ref().ok(),
                Some(&imp.spec),
                "{:?}",
                again.as_ref().err()
            );
            // It documents the method the page names.
            prop_assert_eq!(Some(&imp.spec.method), method.as_ref());
            // Every guess is a warning and a `TODO(review)` comment.
            prop_assert_eq!(
                imp.toml.matches("# TODO(review)").count(),
                imp.warnings().len()
            );
            Ok(if method.is_some() {
                Outcome::Spec
            } else {
                Outcome::Skip
            })
        }
        Err(e) => {
            prop_assert_eq!(e.page.as_path(), page);
            prop_assert!(e.line <= lines + 1, "{} (the page has {} lines)", e, lines);
            prop_assert!(!e.expected.is_empty());
            Ok(if method.is_some() {
                Outcome::Error
            } else {
                Outcome::Skip
            })
        }
    }
}

/// The Markdown reader and the cell helpers on their own: blocks in page order, each on a
/// line of the page.
fn check_markdown(src: &str) -> Result<(), TestCaseError> {
    let lines = src.lines().count();
    match markdown::blocks(src) {
        Ok(blocks) => {
            let mut last = 0;
            for b in &blocks {
                let line = match b {
                    Block::Heading(h) => h.line,
                    Block::Code(c) => c.line,
                    Block::Table(t) => t.line,
                    Block::Text { line, .. } => *line,
                };
                prop_assert!(line > last && line <= lines, "{:?}", b);
                last = line;
                if let Block::Table(t) = b {
                    for row in &t.rows {
                        prop_assert!(row.line >= t.line && row.line <= lines);
                        for cell in &row.cells {
                            check_cell(cell)?;
                        }
                    }
                }
            }
        }
        Err(e) => prop_assert!(e.line >= 1 && e.line <= lines, "{:?}", e),
    }
    check_cell(src)
}

fn check_cell(md: &str) -> Result<(), TestCaseError> {
    let _ = markdown::plain(md);
    let _ = markdown::strip_links(md);
    for a in markdown::anchors(md) {
        prop_assert!(md.contains(&a));
    }
    for span in markdown::code_spans(md) {
        prop_assert!(md.contains(&span));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Seeds.

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn markdown_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            markdown_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// Real pages with their paths (which locate their docs checkout).
fn seeds() -> &'static [(PathBuf, String)] {
    static SEEDS: OnceLock<Vec<(PathBuf, String)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut paths = Vec::new();
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        markdown_under(&fixtures.join("current/api-reference"), &mut paths);
        markdown_under(&fixtures.join("2024-09-06/api-reference"), &mut paths);
        assert!(paths.len() >= 9, "the fixture pages are seeds");
        let shared = std::env::var_os("B24_REST_DOCS")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace().join("../shared/b24-rest-docs"));
        markdown_under(
            &shared.join("current/api-reference/imopenlines"),
            &mut paths,
        );
        // Every 8th page of the corpus of other sections, both revisions: page shapes the
        // open-lines pages do not have.
        for revision in ["2024-09-06", "current"] {
            let mut corpus = Vec::new();
            markdown_under(
                &shared.join("corpus").join(revision).join("api-reference"),
                &mut corpus,
            );
            corpus.sort();
            paths.extend(corpus.into_iter().step_by(8));
        }
        paths.sort();
        paths
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{e}"));
                (p, text)
            })
            .collect()
    })
}

// ---------------------------------------------------------------------------------------
// Strategies.

const WHITESPACE: &[&str] = &[
    " ",
    "  ",
    "    ",
    "\t",
    "\u{a0}",
    "\u{3000}",
    "\u{2003}",
    " \u{a0}",
    "\u{a0} ",
    "\u{3000}\u{3000}",
    "\u{2028}",
    "\u{85}",
];

/// Lines and pieces of lines the docs' Markdown gives meaning to.
const FRAGMENTS: &[&str] = &[
    "```",
    "```json",
    "````",
    "  ```json",
    "\u{3000}```",
    "#|",
    "|#",
    "||",
    "|",
    "|| **Название**\n`тип` | **Описание** ||",
    "|| **ID***\n[`integer`](x) | Идентификатор ||",
    "|| **<id>**\n[`object`](x) | Значение [(подробное описание)](#result) ||",
    "|| `400` | `THING_NOT_FOUND` | Not found | Нет такого ||",
    "|| **Статус** | **Код** | **Описание** | **Значение** ||",
    "# Получить imopenlines.x.get",
    "# ",
    "#",
    "> Scope: [`imopenlines`](../scopes.md)",
    "## Параметры метода",
    "## Обработка ответа",
    "## Обработка ошибок",
    "## Список полей",
    "### Объект result {#result}",
    "### Возвращаемые данные",
    "### Описание ключей",
    "- `key` – описание",
    "{#}",
    "{% if build == 'dev' %}",
    "{% endif %}",
    "{% note info %}",
    "{% endnote %}",
    "HTTP-статус: **200**",
    "HTTP-статус: **99999999999**",
    "{\"result\": {\"id\": 1}}",
    "{\"error\": \"X\", \"error_description\": \"y\"}",
    "...",
    "// comment",
    "curl -d '{\"ID\": 1}'",
    "[(подробное описание)](#result)",
    "[текст](",
    "](#",
    "`",
    "``",
    "**",
    "\\|",
    "один из параметров",
    "Элемент массива",
    "ключ объекта",
    "`null`",
    "{% note info \"tasks.task.get\" %}",
    "{% note info \"disk.*\" %}",
    "{% note info \"\" %}",
    "> Название метода: **tasks.api.scrum.task.get**",
    "Метод `sonet_group.user.add` добавляет",
    "{% include notitle [Скоуп](./_includes/scope-x.md) %}",
    "{% include [x](../../../../../../../etc/passwd.md) %}",
    "**Scope**: [`task`](x) | **Кто может выполнять метод**: `любой`",
    "#|s",
    "- || **A**",
    "|| **ID**^*^ | описание | |",
    "|| **TASKID^*^**",
    "|| **Параметр** / **Тип** | **Описание** ||",
    "|| **A/B**\n[`unknown`](x) | описание ||",
    "\"result\": {\"a\": 1}",
    "# Задачи: обзор методов",
    "BX24.callMethod('imopenlines.thing.get', {ID: 1, A: {b: 'c'}, L: [1,],}, f)",
    "callMethod(\"imopenlines.thing.get\", {",
    "https://x/rest/imopenlines.thing.get.json?ID=1&F[A]=2&F[]=3",
    "-d '{\"ID\": 1}'",
    "# При добавлении задачи OnTaskAdd",
];

fn odd_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => select(WHITESPACE).prop_map(str::to_string),
            3 => select(FRAGMENTS).prop_map(str::to_string),
            1 => "\\PC{0,6}",
            1 => select(&["\u{0}", "\u{feff}", "\u{202e}", "e\u{301}", "\u{1f600}", "\r", "\n", "Ж"][..])
                .prop_map(str::to_string),
        ],
        1..4,
    )
    .prop_map(|parts| parts.concat())
}

#[derive(Debug, Clone)]
enum Edit {
    /// Prefixes this many lines from a line on with whitespace.
    Indent(Index, usize, &'static str),
    /// Replaces the spaces of a line with a non-ASCII whitespace character.
    Respace(Index, &'static str),
    InsertLine(Index, String),
    DeleteLines(Index, usize),
    DuplicateLines(Index, usize),
    SwapLines(Index, Index),
    InsertText(Index, String),
    /// `||` ↔ `|` in a line.
    Pipes(Index),
    Truncate(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<Index>(), 1usize..30, select(WHITESPACE)).prop_map(|(a, n, w)| Edit::Indent(a, n, w)),
        2 => (any::<Index>(), select(&["\u{a0}", "\u{3000}", "\u{2003}", "\t"][..]))
            .prop_map(|(a, w)| Edit::Respace(a, w)),
        4 => (any::<Index>(), odd_text()).prop_map(|(a, s)| Edit::InsertLine(a, s)),
        2 => (any::<Index>(), 1usize..8).prop_map(|(a, n)| Edit::DeleteLines(a, n)),
        2 => (any::<Index>(), 1usize..12).prop_map(|(a, n)| Edit::DuplicateLines(a, n)),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        3 => (any::<Index>(), odd_text()).prop_map(|(a, s)| Edit::InsertText(a, s)),
        2 => any::<Index>().prop_map(Edit::Pipes),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ]
}

/// Byte offset of the `i`th character boundary of `s` (its end included).
fn boundary(s: &str, at: &Index) -> usize {
    let k = at.index(s.chars().count() + 1);
    s.char_indices().nth(k).map_or(s.len(), |(b, _)| b)
}

fn apply(src: &str, e: &Edit) -> String {
    let mut lines: Vec<String> = src.lines().map(str::to_string).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let n = lines.len();
    match e {
        Edit::Indent(at, count, ws) => {
            let from = at.index(n);
            for line in lines.iter_mut().skip(from).take(*count) {
                line.insert_str(0, ws);
            }
        }
        Edit::Respace(at, ws) => {
            let i = at.index(n);
            lines[i] = lines[i].replace(' ', ws);
        }
        Edit::InsertLine(at, s) => lines.insert(at.index(n + 1), s.clone()),
        Edit::DeleteLines(at, count) => {
            let from = at.index(n);
            lines.drain(from..(from + count).min(n));
        }
        Edit::DuplicateLines(at, count) => {
            let from = at.index(n);
            let chunk: Vec<String> = lines[from..(from + count).min(n)].to_vec();
            let to = (from + count).min(n);
            lines.splice(to..to, chunk);
        }
        Edit::SwapLines(a, b) => lines.swap(a.index(n), b.index(n)),
        Edit::InsertText(at, s) => {
            let mut text = lines.join("\n");
            text.insert_str(boundary(&text, at), s);
            return text;
        }
        Edit::Pipes(at) => {
            let i = at.index(n);
            lines[i] = if lines[i].contains("||") {
                lines[i].replace("||", "|")
            } else {
                lines[i].replace('|', "||")
            };
        }
        Edit::Truncate(at) => {
            let mut text = lines.join("\n");
            text.truncate(boundary(&text, at));
            return text;
        }
    }
    lines.join("\n") + "\n"
}

/// Markdown token soup that gets past the title and scope checks now and then.
fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => select(FRAGMENTS).prop_map(|f| format!("{f}\n")),
            2 => select(WHITESPACE).prop_map(str::to_string),
            1 => odd_text(),
        ],
        0..80,
    )
    .prop_map(|parts| parts.concat())
}

// ---------------------------------------------------------------------------------------
// Tests.

/// The seeds themselves import or are refused with a located error, without a panic.
#[test]
fn every_seed_page_is_a_spec_an_error_or_a_skip() {
    for (path, src) in seeds() {
        let outcome = check_page(path, src).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if path.starts_with(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")) {
            assert_eq!(outcome, Outcome::Spec, "{}", path.display());
        }
        check_markdown(src).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

proptest! {
    #[test]
    fn arbitrary_text_is_a_spec_an_error_or_a_skip(src in any::<String>()) {
        let page = Path::new("docs/api-reference/imopenlines/x.md");
        check_page(page, &src)?;
        check_markdown(&src)?;
    }

    #[test]
    fn markdown_soup_is_a_spec_an_error_or_a_skip(
        head in any::<bool>(),
        body in soup(),
    ) {
        let src = if head {
            format!("# Получить что-то imopenlines.thing.get\n\n> Scope: [`imopenlines`](x)\n\n{body}")
        } else {
            body
        };
        let page = Path::new("docs/api-reference/imopenlines/x.md");
        check_page(page, &src)?;
        check_markdown(&src)?;
    }

    #[test]
    fn mutated_real_pages_are_a_spec_an_error_or_a_skip(
        seed in any::<Index>(),
        edits in prop::collection::vec(edit(), 1..6),
    ) {
        let seeds = seeds();
        let (path, src) = &seeds[seed.index(seeds.len())];
        let mut src = src.clone();
        for e in &edits {
            src = apply(&src, e);
        }
        check_page(path, &src)?;
        check_markdown(&src)?;
    }
}
