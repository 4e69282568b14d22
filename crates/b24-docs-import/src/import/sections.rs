//! The page's `##` sections: which kind each is, the blocks placed under them, and which
//! template the page follows.

use crate::markdown::{plain, Block, Heading};
use crate::notes::Template;

use super::tables::{columns, is_key_list};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SectionKind {
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
pub(super) struct Placed<'b> {
    pub(super) section: SectionKind,
    pub(super) section_heading: Option<&'b Heading>,
    pub(super) sub: Option<&'b Heading>,
    pub(super) block: &'b Block,
}

/// Places each block under the section and `###` heading it sits under (headings
/// themselves are not placed), and gathers the page's description: the text between the
/// title and the first section, notes, quotes, includes and lists left out.
pub(super) fn place_blocks(blocks: &[Block]) -> (Vec<Placed<'_>>, Option<String>) {
    let mut placed = Vec::new();
    let mut section = SectionKind::Other;
    let mut section_heading = None;
    let mut sub = None;
    let mut description_lines = Vec::new();
    let mut seen_section = false;
    let mut in_note = false;
    for b in blocks {
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
    let description = {
        let d = description_lines.join("\n");
        (!d.trim().is_empty()).then_some(d)
    };
    (placed, description)
}

pub(super) fn detect_template(placed: &[Placed<'_>]) -> Template {
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
