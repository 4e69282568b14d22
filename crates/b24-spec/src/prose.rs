//! The language rule of the texts that become the generated docs.
//!
//! The docs are English. A text a reader reads (`summary`, `description`, `access`, `note`, an
//! example's `description`) may contain Cyrillic only inside a Markdown code span: one or more
//! backticks, closed by a run of as many (CommonMark's pairing, so a fenced block counts too).
//! The span marks a literal value: a message the portal returns, an enum wire value, an
//! example, a heading quoted from the Russian page. Values that are literals by their key (an
//! error's `message`, a parameter's `example`, enum values) are rendered inside a code span by
//! the code generator. `spec/README.md` states the rule; `cargo xtask check` and the doc
//! language test in `tests/` enforce it with [`cyrillic_outside_code`].

/// Whether `c` belongs to one of Unicode's Cyrillic blocks.
pub fn is_cyrillic(c: char) -> bool {
    matches!(
        c,
        '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}'
    )
}

/// The byte ranges of `text` outside code spans. A run of backticks opens a span that the
/// next run of exactly as many backticks closes; a run nothing closes is plain text.
fn outside_code(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let run_at = |from: usize| {
        bytes
            .get(from..)
            .map_or(0, |rest| rest.iter().take_while(|b| **b == b'`').count())
    };
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if bytes.get(i) != Some(&b'`') {
            i += 1;
            continue;
        }
        let open = run_at(i);
        let mut j = i + open;
        let mut close = None;
        while j < bytes.len() {
            if bytes.get(j) == Some(&b'`') {
                let run = run_at(j);
                if run == open {
                    close = Some(j + run);
                    break;
                }
                j += run;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                parts.push((start, i));
                start = end;
                i = end;
            }
            None => i += open,
        }
    }
    parts.push((start, bytes.len()));
    parts
}

/// The line of `text` (trimmed) where Cyrillic first appears outside a code span, or `None`
/// when the text keeps the rule.
pub fn cyrillic_outside_code(text: &str) -> Option<String> {
    // Backticks are ASCII, so every range starts and ends on a character boundary.
    let at = outside_code(text).into_iter().find_map(|(from, to)| {
        let part = text.get(from..to)?;
        part.char_indices()
            .find(|(_, c)| is_cyrillic(*c))
            .map(|(i, _)| from + i)
    })?;
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text.get(at..)?.find('\n').map_or(text.len(), |i| at + i);
    Some(text.get(line_start..line_end)?.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_literals_in_code_spans_keep_the_rule() {
        for ok in [
            "",
            "Chat id.",
            "The portal says `Указан не корректный идентификатор чата`.",
            "Several: ``a `Диалог` b`` and `Чат`.",
            "Example:\n```js\n{\"NAME\": \"Линия\"}\n```",
            "An example body `{\"name\": \"Гость\"}` and\n`text` spread `over\nлинии`.",
        ] {
            assert_eq!(cyrillic_outside_code(ok), None, "{ok}");
        }
    }

    #[test]
    fn cyrillic_outside_a_code_span_is_found_with_its_line() {
        let cases = [
            ("Идентификатор чата.", "Идентификатор чата."),
            ("Chat `id`.\n  Ид `чата`  \nmore", "Ид `чата`"),
            ("`Чат` and Чат", "`Чат` and Чат"),
            // An unclosed run is plain text, so what follows it is not code.
            ("Unclosed ` run Чат", "Unclosed"),
            // A run of two is not closed by a run of one.
            ("``a` Чат", "``a"),
            ("Latin and Ё.", "Latin and Ё."),
            ("Старославянская \u{A650}", "Старославянская"),
        ];
        for (text, starts) in cases {
            let found = cyrillic_outside_code(text);
            assert!(
                found.as_deref().is_some_and(|f| f.starts_with(starts)),
                "{text:?}: {found:?}"
            );
        }
    }

    #[test]
    fn only_cyrillic_counts() {
        assert!(is_cyrillic('ж') && is_cyrillic('Ё') && is_cyrillic('\u{A650}'));
        assert!(!is_cyrillic('z') && !is_cyrillic('é') && !is_cyrillic('—') && !is_cyrillic('№'));
    }
}
