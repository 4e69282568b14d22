//! A line-based reader of the docs' Markdown dialect (YFM): headings with `{#anchor}`, code
//! fences, `#| ... |#` tables and plain text lines, each with its 1-based line number.
//!
//! It knows only what the open-lines pages use; anything it cannot split into those blocks is
//! kept as text, so the importer decides what is an error.

/// One block of a page.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// `## Text {#anchor}`.
    Heading(Heading),
    /// A fenced code block.
    Code(Code),
    /// A `#| ... |#` table.
    Table(Table),
    /// A line of text outside the other blocks (blank lines are dropped).
    Text {
        /// 1-based line number.
        line: usize,
        /// The line, trimmed.
        text: String,
    },
}

/// A heading.
#[derive(Debug, Clone, PartialEq)]
pub struct Heading {
    /// 1-based line number.
    pub line: usize,
    /// Number of `#`.
    pub level: usize,
    /// Text without the `#`s and the anchor.
    pub text: String,
    /// The `{#anchor}`, if any.
    pub anchor: Option<String>,
}

/// A fenced code block.
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    /// 1-based line number of the opening fence.
    pub line: usize,
    /// The info string (`json`, `bash`...), lower-cased.
    pub lang: String,
    /// The content, with the fence's indentation removed.
    pub text: String,
}

/// A YFM table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// 1-based line number of `#|`.
    pub line: usize,
    /// Rows, the header first.
    pub rows: Vec<Row>,
}

/// A table row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based line number where the row starts.
    pub line: usize,
    /// Raw Markdown of each cell, trimmed.
    pub cells: Vec<String>,
}

/// Something the page gets wrong that the reader repaired (a fence or table that does not
/// close, a row without its closing `||`, text between rows): where, and what was expected
/// there. The importer turns each into a `TODO(review)`.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkdownError {
    /// 1-based line.
    pub line: usize,
    /// What was expected.
    pub expected: String,
}

/// A page split into blocks, with what had to be repaired on the way.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    /// The blocks, in page order.
    pub blocks: Vec<Block>,
    /// What the page gets wrong and how it was read anyway.
    pub repairs: Vec<MarkdownError>,
}

/// Splits a page into blocks, strictly: the first repair [`read`] would make is an error.
pub fn blocks(src: &str) -> Result<Vec<Block>, MarkdownError> {
    let page = read(src);
    match page.repairs.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(page.blocks),
    }
}

/// Splits a page into blocks; never fails. Content of `{% if build == 'dev' %}` ...
/// `{% endif %}` (notes for the docs' authors) is skipped. What a renderer would also
/// tolerate is repaired and listed: a code fence that does not close runs to the end of the
/// page (as in CommonMark), a table without `|#` ends with the page, a row without its
/// closing `||` ends at `|#`, a stray `- ` before a row's `||` is dropped and other text
/// between rows is skipped.
pub fn read(src: &str) -> Page {
    let lines: Vec<&str> = src.lines().collect();
    let mut out = Vec::new();
    let mut repairs = Vec::new();
    let mut i = 0;
    let mut dev_depth = 0usize;
    while i < lines.len() {
        let raw = lines[i];
        let t = raw.trim();
        let line = i + 1;
        if t.starts_with("{% if build") {
            dev_depth += 1;
            i += 1;
            continue;
        }
        if dev_depth > 0 {
            if t.starts_with("{% endif") {
                dev_depth -= 1;
            }
            i += 1;
            continue;
        }
        if let Some(info) = fence_open(t) {
            // In characters: the docs indent with spaces, but a page may use U+00A0 or
            // U+3000, which are more than one byte.
            let indent = raw.chars().take_while(|c| c.is_whitespace()).count();
            let ticks = t.len() - t.trim_start_matches('`').len();
            let mut body = Vec::new();
            let mut j = i + 1;
            let mut closed = false;
            while j < lines.len() {
                let tj = lines[j].trim();
                if tj.len() >= ticks && tj.chars().all(|c| c == '`') {
                    closed = true;
                    break;
                }
                body.push(strip_indent(lines[j], indent));
                j += 1;
            }
            if !closed {
                repairs.push(MarkdownError {
                    line,
                    expected:
                        "a closing ``` for this code block (it was read to the end of the page)"
                            .into(),
                });
            }
            out.push(Block::Code(Code {
                line,
                lang: info.to_ascii_lowercase(),
                text: body.join("\n"),
            }));
            i = j + 1;
            continue;
        }
        // `#|s`: a stray letter after the opening marker (a typo on one page).
        let table_open = t == "#|"
            || t.strip_prefix("#|")
                .is_some_and(|rest| rest.chars().all(|c| c.is_alphabetic()) && rest.len() <= 2);
        if table_open && t != "#|" {
            repairs.push(MarkdownError {
                line,
                expected: format!("`#|` opening a table (found `{t}`, read as `#|`)"),
            });
        }
        if table_open {
            let mut j = i + 1;
            let mut content = Vec::new();
            let mut closed = false;
            while j < lines.len() {
                if lines[j].trim() == "|#" {
                    closed = true;
                    break;
                }
                content.push((j + 1, lines[j]));
                j += 1;
            }
            if !closed {
                repairs.push(MarkdownError {
                    line,
                    expected:
                        "`|#` closing the table opened here (it was read to the end of the page)"
                            .into(),
                });
            }
            out.push(Block::Table(table(line, &content, &mut repairs)));
            i = j + 1;
            continue;
        }
        if let Some(h) = heading(line, t) {
            out.push(Block::Heading(h));
        } else if !t.is_empty() {
            out.push(Block::Text {
                line,
                text: t.to_string(),
            });
        }
        i += 1;
    }
    Page {
        blocks: out,
        repairs,
    }
}

/// `line` without up to `indent` leading whitespace characters (never part of one).
fn strip_indent(line: &str, indent: usize) -> String {
    let mut rest = line;
    for _ in 0..indent {
        let mut chars = rest.chars();
        match chars.next() {
            Some(c) if c.is_whitespace() => rest = chars.as_str(),
            _ => break,
        }
    }
    rest.to_string()
}

fn fence_open(t: &str) -> Option<&str> {
    let rest = t.strip_prefix("```")?;
    let info = rest.trim_start_matches('`').trim();
    (!info.contains('`')).then_some(info)
}

fn heading(line: usize, t: &str) -> Option<Heading> {
    let level = t.len() - t.trim_start_matches('#').len();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &t[level..];
    if !rest.starts_with(' ') {
        return None;
    }
    let mut text = rest.trim().to_string();
    let mut anchor = None;
    if let Some(open) = text.rfind("{#") {
        if text.ends_with('}') {
            anchor = Some(text[open + 2..text.len() - 1].trim().to_string());
            text = text[..open].trim().to_string();
        }
    }
    Some(Heading {
        line,
        level,
        text,
        anchor,
    })
}

/// Splits the lines between `#|` and `|#` into rows and cells. `||` opens and closes a row,
/// `|` separates cells; both are literal inside backtick code spans and when escaped (`\|`).
fn table(start: usize, content: &[(usize, &str)], repairs: &mut Vec<MarkdownError>) -> Table {
    let mut rows = Vec::new();
    let mut in_row = false;
    let mut row_line = start;
    let mut cells: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut code_ticks = 0usize;
    for (k, (line, text)) in content.iter().enumerate() {
        let chars: Vec<char> = text.chars().collect();
        let mut p = 0;
        if !in_row {
            // `- || **NAME**`: a list marker the page put before a row.
            let t = text.trim_start();
            if let Some(rest) = t.strip_prefix('-') {
                if rest.trim_start().starts_with("||") {
                    p = chars.iter().position(|c| *c == '|').unwrap_or(0);
                    repairs.push(MarkdownError {
                        line: *line,
                        expected: "a table row starting with `||` (a `- ` before it was dropped)"
                            .into(),
                    });
                }
            }
        }
        while p < chars.len() {
            let c = chars[p];
            if c == '`' {
                let mut n = 0;
                while p + n < chars.len() && chars[p + n] == '`' {
                    n += 1;
                }
                if code_ticks == 0 {
                    code_ticks = n;
                } else if code_ticks == n {
                    code_ticks = 0;
                }
                if in_row {
                    cell.extend(std::iter::repeat_n('`', n));
                }
                p += n;
                continue;
            }
            if code_ticks == 0 && c == '\\' && p + 1 < chars.len() && chars[p + 1] == '|' {
                if in_row {
                    cell.push_str("\\|");
                }
                p += 2;
                continue;
            }
            if code_ticks == 0 && c == '|' {
                if p + 1 < chars.len() && chars[p + 1] == '|' {
                    if in_row {
                        cells.push(cell.trim().to_string());
                        cell.clear();
                        rows.push(Row {
                            line: row_line,
                            cells: std::mem::take(&mut cells),
                        });
                        in_row = false;
                    } else {
                        in_row = true;
                        row_line = *line;
                    }
                    p += 2;
                    continue;
                }
                if in_row {
                    cells.push(cell.trim().to_string());
                    cell.clear();
                    p += 1;
                    continue;
                }
            }
            if in_row {
                cell.push(c);
            } else if !c.is_whitespace() {
                let shown: String = text.trim().chars().take(60).collect();
                repairs.push(MarkdownError {
                    line: *line,
                    expected: format!(
                        "a table row starting with `||` (found `{shown}`, which was skipped)"
                    ),
                });
                break;
            }
            p += 1;
        }
        // A code span never crosses a row's line break in these pages unless it is a
        // triple-backtick span; reset single-backtick state at line ends so one stray
        // backtick does not swallow the rest of the table.
        if code_ticks == 1 {
            code_ticks = 0;
        }
        if in_row && k + 1 < content.len() {
            cell.push('\n');
        }
    }
    if in_row && !(cells.is_empty() && cell.trim().is_empty()) {
        repairs.push(MarkdownError {
            line: row_line,
            expected: "`||` closing this table row before `|#` (the row ends there)".into(),
        });
        cells.push(cell.trim().to_string());
        rows.push(Row {
            line: row_line,
            cells,
        });
    }
    Table { line: start, rows }
}

/// Markdown of a cell → plain text: links become their text (links to "detailed description"
/// disappear), `**` is dropped, escapes are resolved, lines are trimmed and blank lines
/// removed. Backtick code spans are kept.
pub fn plain(md: &str) -> String {
    let mut s = md.to_string();
    for marker in [
        "[(подробное описание)]",
        "[подробное описание]",
        "[(detailed description)]",
        "[detailed description]",
    ] {
        while let Some(at) = s.find(marker) {
            let end = s[at + marker.len()..]
                .find(')')
                .map_or(s.len(), |e| at + marker.len() + e + 1);
            s.replace_range(at..end, "");
        }
    }
    let s = strip_links(&s);
    let s = s
        .replace("**", "")
        .replace("\\|", "|")
        .replace("\\<", "<")
        .replace("\\>", ">")
        .replace("\\*", "*")
        .replace("\\_", "_")
        .replace("\\#", "#");
    s.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `[text](url)` → `text`.
pub fn strip_links(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let Some(close_rel) = rest[open..].find("](") else {
            break;
        };
        let close = open + close_rel;
        let Some(end_rel) = rest[close + 2..].find(')') else {
            break;
        };
        let end = close + 2 + end_rel;
        // Only a link if the text has no line break.
        if rest[open..close].contains('\n') {
            out.push_str(&rest[..=open]);
            rest = &rest[open + 1..];
            continue;
        }
        out.push_str(&rest[..open]);
        let text = &rest[open + 1..close];
        if text.trim() == "{#T}" {
            // YFM's "title of the linked page": the page is not at hand, its path is.
            out.push_str(rest[close + 2..end].trim());
        } else {
            out.push_str(text);
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Every `#anchor` a cell links to (`[...](#anchor)`).
pub fn anchors(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = md;
    while let Some(at) = rest.find("](#") {
        let tail = &rest[at + 3..];
        let end = tail.find(')').unwrap_or(tail.len());
        let a = tail[..end].trim();
        if !a.is_empty() {
            out.push(a.to_string());
        }
        rest = &tail[end..];
    }
    out
}

/// The contents of each backtick code span of `md`, in order.
pub fn code_spans(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = md.chars().collect();
    let mut p = 0;
    while p < chars.len() {
        if chars[p] == '`' {
            let mut n = 0;
            while p + n < chars.len() && chars[p + n] == '`' {
                n += 1;
            }
            let start = p + n;
            let mut q = start;
            let mut found = None;
            while q < chars.len() {
                if chars[q] == '`' {
                    let mut m = 0;
                    while q + m < chars.len() && chars[q + m] == '`' {
                        m += 1;
                    }
                    if m == n {
                        found = Some(q);
                        break;
                    }
                    q += m;
                } else {
                    q += 1;
                }
            }
            match found {
                Some(q) => {
                    out.push(
                        chars[start..q]
                            .iter()
                            .collect::<String>()
                            .trim()
                            .to_string(),
                    );
                    p = q + n;
                }
                None => break,
            }
        } else {
            p += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_split_on_pipes_outside_code() {
        let src = "#|\n|| **Название**\n`тип` | **Описание** ||\n|| **USER_CODE***\n[`string`](x.md) | Код ```a|b|c``` и `x\\|y` ||\n|| **B** | d || ||\n|#\n";
        let b = blocks(src).unwrap();
        let Block::Table(t) = &b[0] else {
            panic!("{b:?}")
        };
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[1].cells.len(), 2);
        assert_eq!(t.rows[1].line, 4);
        assert!(t.rows[1].cells[1].contains("```a|b|c```"));
        assert_eq!(t.rows[2].cells, ["**B**", "d"]);
    }

    #[test]
    fn unclosed_table_names_its_line() {
        let e = blocks("text\n#|\n|| a | b ||\n").unwrap_err();
        assert_eq!(e.line, 2);
        let e = blocks("#|\n|| a | b\n|#\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.expected.contains("closing this table row"));
    }

    #[test]
    fn headings_fences_and_dev_notes() {
        let src = "# T a.b\n{% if build == 'dev' %}\n## hidden\n{% endif %}\n### Объект x {#x-y}\n  ```json\n  {\"a\": 1}\n  ```\n";
        let b = blocks(src).unwrap();
        assert_eq!(b.len(), 3);
        let Block::Heading(h) = &b[1] else { panic!() };
        assert_eq!(
            (h.level, h.text.as_str(), h.anchor.as_deref()),
            (3, "Объект x", Some("x-y"))
        );
        let Block::Code(c) = &b[2] else { panic!() };
        assert_eq!(
            (c.line, c.lang.as_str(), c.text.as_str()),
            (6, "json", "{\"a\": 1}")
        );
    }

    #[test]
    fn fences_never_cut_a_character_of_the_indentation() {
        // One space before the fence; the line starts with U+00A0 (two bytes).
        let b = blocks(" ```\n\u{a0}x\n  y\n ```\n").unwrap();
        let Block::Code(c) = &b[0] else {
            panic!("{b:?}")
        };
        assert_eq!(c.text, "x\n y");
        // Two spaces before the fence; the line starts with U+3000 (three bytes).
        let b = blocks("  ```json\n\u{3000}{\"a\": 1}\n  ```\n").unwrap();
        let Block::Code(c) = &b[0] else {
            panic!("{b:?}")
        };
        assert_eq!(c.text, "{\"a\": 1}");
        // The fence itself indented with U+3000: one character of indentation.
        let b = blocks("\u{3000}```\n   x\n\u{a0}\u{a0}y\n```\n").unwrap();
        let Block::Code(c) = &b[0] else {
            panic!("{b:?}")
        };
        assert_eq!(c.text, "  x\n\u{a0}y");
    }

    #[test]
    fn plain_text_of_cells() {
        assert_eq!(
            plain("Объект [(подробное описание)](#result) и [метод](./a.md) **X** `a\\|b`"),
            "Объект и метод X `a|b`"
        );
        assert_eq!(anchors("a [x](#one) b [(y)](#two)"), ["one", "two"]);
        assert_eq!(
            code_spans("[`integer`](x) \\| [`null`]"),
            ["integer", "null"]
        );
    }
}
