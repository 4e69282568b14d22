//! Where an error is: the line and column of a span, and the dotted key written there.
//!
//! The TOML reader and serde report a span; the key of a span is found in the file's tree
//! ([`key_at`]), and serde's wording is put in the spec's terms ([`serde_error`]).

use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::model::Location;
use crate::parse::join;
use crate::raw::DATETIME_KEY;
use crate::SpecError;

/// The 1-based line and column (in characters) where `span` starts in `src`.
pub(crate) fn location(file: &Path, src: &str, span: &Range<usize>) -> Location {
    // A span from the TOML reader starts on a character; should one ever not, the
    // location is that of the character it falls in rather than a panic.
    let mut offset = span.start.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = src.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
        before.get(nl + 1..).unwrap_or_default().chars().count()
    }) + 1;
    Location {
        file: file.to_path_buf(),
        line,
        column,
    }
}

/// A serde error: its span gives the location, the key written there and the TOML type
/// found; the message is reworded in the spec's terms.
pub(crate) fn serde_error(file: &Path, src: &str, e: &toml::de::Error) -> SpecError {
    let span = e.span().unwrap_or(0..0);
    let found = DeTable::parse(src).ok().and_then(|doc| key_at(&doc, &span));
    let key = found.as_ref().map(|f| f.key.clone()).unwrap_or_default();
    let msg = e.message().trim();
    // The TOML type of the value the error is about.
    let found_type = found.as_ref().filter(|f| f.exact).map(|f| f.type_str);
    let datetime = found_type == Some("datetime");
    let (key, message) = if let Some(name) = msg
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        (join(&key, name), format!("missing required key `{name}`"))
    } else if datetime && msg.contains(DATETIME_KEY) {
        // A datetime where a table is expected reaches serde as a table with one
        // private key.
        (key, "expected a table, found datetime".to_string())
    } else if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (name, expected) = match rest.rfind("`, expected ") {
            Some(i) => (
                rest.get(..i).unwrap_or_default(),
                field_list(rest.get(i + "`, expected ".len()..).unwrap_or_default()),
            ),
            None => (
                rest.trim_end_matches("`, there are no fields"),
                String::new(),
            ),
        };
        (
            key,
            format!("unknown key `{name}`; expected one of: {expected}"),
        )
    } else if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (unexpected, expected) = match rest.rfind(", expected ") {
            Some(i) => (
                rest.get(..i).unwrap_or_default(),
                rest.get(i + ", expected ".len()..).unwrap_or_default(),
            ),
            None => (rest, "another type"),
        };
        let found_type = found_type.unwrap_or_else(|| found_text(unexpected));
        (
            key,
            format!("expected {}, found {found_type}", expected_text(expected)),
        )
    } else if msg == "wanted string or table" {
        // What the TOML reader says of a key read as an enum (`auth`) given another type.
        let found_type = found_type.unwrap_or("another type");
        (key, format!("expected a string, found {found_type}"))
    } else {
        (key, msg.to_string())
    };
    SpecError {
        location: location(file, src, &span),
        key,
        message,
    }
}

/// How deep [`key_at`] looks: the deepest key of the format is
/// `objects.Name.fields.key.values[0].value` (6 levels); values written in the file
/// (`example`, `request`) are read without errors inside them.
const MAX_KEY_DEPTH: usize = 12;

/// What is written at a span: its dotted key and the TOML type of its value.
struct Found {
    key: String,
    type_str: &'static str,
    /// Whether the key or value is written exactly at the span (else the span is inside it).
    exact: bool,
}

/// The dotted key whose key or value is written exactly at `span` (the deepest one), else the
/// deepest value that contains its start. The tree is walked with an explicit stack.
fn key_at(doc: &Spanned<DeTable<'_>>, span: &Range<usize>) -> Option<Found> {
    struct Best {
        exact: bool,
        depth: usize,
        found: Found,
    }
    let mut best: Option<Best> = None;
    let mut offer = |exact: bool, depth: usize, key: &str, type_str: &'static str| {
        let better = match &best {
            None => true,
            Some(b) => (exact, depth) > (b.exact, b.depth),
        };
        if better {
            best = Some(Best {
                exact,
                depth,
                found: Found {
                    key: key.to_string(),
                    type_str,
                    exact,
                },
            });
        }
    };
    enum Node<'t, 'i> {
        Table(&'t DeTable<'i>),
        Value(&'t DeValue<'i>),
    }
    let mut stack: Vec<(Node<'_, '_>, Range<usize>, String, usize)> =
        vec![(Node::Table(doc.get_ref()), doc.span(), String::new(), 0)];
    while let Some((node, vspan, path, depth)) = stack.pop() {
        let type_str = match node {
            Node::Table(_) => "table",
            Node::Value(v) => v.type_str(),
        };
        if vspan == *span {
            offer(true, depth, &path, type_str);
        } else if vspan.start <= span.start && span.start < vspan.end {
            offer(false, depth, &path, type_str);
        }
        if depth >= MAX_KEY_DEPTH {
            continue;
        }
        let table = match node {
            Node::Table(t) | Node::Value(DeValue::Table(t)) => t,
            Node::Value(DeValue::Array(a)) => {
                for (i, item) in a.iter().enumerate() {
                    let ipath = format!("{path}[{i}]");
                    stack.push((Node::Value(item.get_ref()), item.span(), ipath, depth + 1));
                }
                continue;
            }
            Node::Value(_) => continue,
        };
        for (k, item) in table.iter() {
            let kpath = join(&path, k.get_ref());
            if k.span() == *span {
                offer(true, depth + 1, &kpath, item.get_ref().type_str());
            }
            stack.push((Node::Value(item.get_ref()), item.span(), kpath, depth + 1));
        }
    }
    best.map(|b| b.found)
}

/// serde's wording of the expected type → the spec's.
fn expected_text(expected: &str) -> String {
    match expected {
        "a boolean" => "true or false".to_string(),
        "a sequence" => "an array".to_string(),
        // A table's keys are read with their spans.
        "a map" | "a spanned value" => "a table".to_string(),
        e if e.starts_with("struct ") => "a table".to_string(),
        e => e.to_string(),
    }
}

/// serde's wording of what was found (`integer \`1\``, `map`) → a TOML type name.
fn found_text(unexpected: &str) -> &'static str {
    let word = unexpected.split([' ', '`']).next().unwrap_or_default();
    match word {
        "map" => "table",
        "sequence" => "array",
        "floating" => "float",
        "integer" => "integer",
        "string" => "string",
        "boolean" => "boolean",
        _ => "value",
    }
}

/// The field names of serde's "expected `a`, `b` or `c`" / "expected one of `a`, `b`".
fn field_list(expected: &str) -> String {
    expected
        .trim_start_matches("one of ")
        .replace(" or ", ", ")
        .replace('`', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_spans_are_the_deepest_written_there() {
        let src = "a = 1\n[[t]]\nx = 1\n[[t]]\nx = { y = [1, \"z\"] }\n";
        let doc = DeTable::parse(src).unwrap();
        let at = |needle: &str| {
            let start = src.find(needle).unwrap();
            start..start + needle.len()
        };
        let found = |span| key_at(&doc, &span).map(|f| (f.key, f.type_str, f.exact));
        assert_eq!(found(at("a")), Some(("a".into(), "integer", true)));
        assert_eq!(
            found(at("\"z\"")),
            Some(("t[1].x.y[1]".into(), "string", true))
        );
        assert_eq!(found(at("y")), Some(("t[1].x.y".into(), "array", true)));
        // The second `[[t]]` header is the span of `t[1]` (and of no shallower key).
        let second = src.rfind("[[t]]").unwrap();
        assert_eq!(
            found(second..second + 5),
            Some(("t[1]".into(), "table", true))
        );
        // The root table.
        assert_eq!(found(0..0), Some((String::new(), "table", true)));
        // Inside a value, not at one: the deepest value around it.
        let inside = src.find("1, ").unwrap() + 1;
        assert_eq!(
            found(inside..inside + 1),
            Some(("t[1].x.y".into(), "array", false))
        );
    }

    #[test]
    fn serde_words_become_the_spec_words() {
        assert_eq!(expected_text("a boolean"), "true or false");
        assert_eq!(expected_text("a sequence"), "an array");
        assert_eq!(expected_text("struct RawParam"), "a table");
        assert_eq!(expected_text("a string"), "a string");
        assert_eq!(found_text("integer `1`"), "integer");
        assert_eq!(found_text("floating point `1.5`"), "float");
        assert_eq!(found_text("sequence"), "array");
        assert_eq!(field_list("one of `a`, `b`, `c`"), "a, b, c");
        assert_eq!(field_list("`a` or `b`"), "a, b");
    }
}
