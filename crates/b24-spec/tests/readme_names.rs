//! `spec/README.md` lists exactly the names the parser reserves.

use std::collections::BTreeSet;
use std::path::Path;

use b24_spec::names::{Reserved, RESERVED_NAMES};

/// The README's list item for each kind of reservation starts with this.
const ITEMS: &[(&str, Reserved)] = &[
    ("Type names in a method file", Reserved::MethodType),
    ("Type names in an event file", Reserved::EventType),
    ("Namespaces of a method", Reserved::Namespace),
    (
        "Rust names of an optional parameter",
        Reserved::OptionalParam,
    ),
];

/// The `code` spans of `text`.
fn code_spans(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The reserved names the README lists: the items of the list under "Reserved names" in
/// `## Names`, each `- <kind>...: `a`, `b`.` (possibly over several lines).
fn readme_names(readme: &str) -> BTreeSet<(String, String)> {
    let section = readme
        .split("\n## Names\n")
        .nth(1)
        .expect("spec/README.md has a `## Names` section");
    let list = section
        .split("Reserved names")
        .nth(1)
        .expect("the section lists the reserved names");
    let mut items: Vec<String> = Vec::new();
    for line in list.lines().skip(1) {
        if let Some(item) = line.strip_prefix("- ") {
            items.push(item.to_string());
        } else if let (Some(last), Some(more)) = (items.last_mut(), line.strip_prefix("  ")) {
            last.push(' ');
            last.push_str(more);
        } else if !items.is_empty() {
            break;
        }
    }
    let mut out = BTreeSet::new();
    for item in items {
        let (_, reserved) = ITEMS
            .iter()
            .find(|(prefix, _)| item.starts_with(prefix))
            .unwrap_or_else(|| panic!("an unexpected item in the list: {item}"));
        // The names follow the last `: `; what comes before may quote other code.
        let names = item.rsplit(": ").next().unwrap_or_default();
        assert!(!code_spans(names).is_empty(), "no names in: {item}");
        for name in code_spans(names) {
            out.insert((format!("{reserved:?}"), name));
        }
    }
    out
}

#[test]
fn the_readme_lists_exactly_the_reserved_names() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../spec/README.md");
    let readme = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    let code: BTreeSet<(String, String)> = RESERVED_NAMES
        .iter()
        .map(|(r, n)| (format!("{r:?}"), n.to_string()))
        .collect();
    assert_eq!(readme_names(&readme), code);
}

#[test]
fn the_readme_check_sees_a_missing_or_extra_name() {
    let readme = "# x\n\n## Names\n\nReserved names (...):\n\n\
                  - Type names in a method file: `Request`,\n  `Response`.\n\
                  - Namespaces of a method: `events`.\n\nMore text.\n";
    let names = readme_names(readme);
    let expected: BTreeSet<(String, String)> = [
        ("MethodType", "Request"),
        ("MethodType", "Response"),
        ("Namespace", "events"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(names, expected);
}
