//! The Rust names generated from a spec, and the names a spec may not use.
//!
//! `b24-codegen` names what it generates with these functions; the parser checks with the same
//! functions that no two things of a file get one name, so a clash is a spec error at its key
//! rather than a rustc error in generated code. `spec/README.md` lists the reserved names
//! (a test checks it lists exactly these).

use crate::model::{pascal_case, snake_case};

/// Where a reserved name may not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reserved {
    /// The type names the module of every method defines: no object, enum or one-of group
    /// of a method file may be named like them.
    MethodType,
    /// The type names the module of every event defines (and the `Event` enum next to
    /// them): no object or enum of an event file may be named like them.
    EventType,
    /// Namespaces (the first segment of a method name): the generated `events` module sits
    /// next to the namespace modules.
    Namespace,
    /// The Rust name of an optional parameter (its setter) or of a member of a one-of group
    /// that is all `Request::new` takes (its constructor): `Request::new` has it.
    OptionalParam,
}

/// Every reserved name, with where. `spec/README.md` lists exactly these (a test checks it).
pub const RESERVED_NAMES: &[(Reserved, &str)] = &[
    (Reserved::MethodType, "Request"),
    (Reserved::MethodType, "Response"),
    (Reserved::MethodType, "Error"),
    (Reserved::MethodType, "ErrorCode"),
    (Reserved::MethodType, "Method"),
    (Reserved::MethodType, "METHOD"),
    (Reserved::MethodType, "EXAMPLES"),
    (Reserved::MethodType, "Self"),
    (Reserved::EventType, "Data"),
    (Reserved::EventType, "Delivery"),
    (Reserved::EventType, "Event"),
    (Reserved::EventType, "EVENT"),
    (Reserved::EventType, "EXAMPLES"),
    (Reserved::EventType, "Self"),
    (Reserved::Namespace, "events"),
    (Reserved::OptionalParam, "new"),
];

/// The names reserved `where`.
pub fn reserved(r#where: Reserved) -> impl Iterator<Item = &'static str> {
    RESERVED_NAMES
        .iter()
        .filter(move |(w, _)| *w == r#where)
        .map(|(_, n)| *n)
}

/// Whether `name` is reserved `where`.
pub fn is_reserved(r#where: Reserved, name: &str) -> bool {
    reserved(r#where).any(|n| n == name)
}

/// Rust keywords, strict and reserved: a generated name equal to one gets a trailing `_`.
pub const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// The identifier written for a snake_case name: keywords get a trailing `_` (`type` →
/// `type_`).
pub fn rust_ident(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// A field or variable name for a wire key (`CHAT_ID` → `chat_id`, `chatId` → `chat_id`,
/// `1st` → `f_1st`), before keyword escaping ([`rust_ident`]).
pub fn field_name(wire: &str) -> String {
    let s: String = snake_case(wire)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        format!("f_{s}")
    } else {
        s
    }
}

/// The Rust field of an object's key: [`field_name`], but `extra` (the name of every object's
/// map of undescribed keys) becomes `extra_`, as a keyword would.
pub fn object_field_name(wire: &str) -> String {
    let name = field_name(wire);
    if name == "extra" {
        "extra_".to_string()
    } else {
        name
    }
}

/// A variant name for a wire value or error code (`owner` → `Owner`, `1` → `V1`, `""` →
/// `Empty`). `Unknown` is the variant of undocumented values and never a documented one.
pub fn variant_name(wire: &str) -> String {
    let cleaned: String = wire
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let p = pascal_case(&cleaned);
    if p.is_empty() {
        "Empty".to_string()
    } else if p.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{p}")
    } else {
        p
    }
}

/// The variant every generated enum has for values the spec does not list.
pub const UNKNOWN_VARIANT: &str = "Unknown";

/// The type of a one-of group's choice (`target` → `Target`).
pub fn one_of_type_name(group: &str) -> String {
    pascal_case(group)
}

/// Whether `s` is a snake_case identifier (`dialog_get`).
pub fn is_snake_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The client method of a REST method when the spec sets no `rust_name`:
/// `imopenlines.dialog.get` → `dialog_get`; other namespaces keep their prefix
/// (`imconnector.send.messages` → `imconnector_send_messages`) so names never collide.
pub fn default_rust_name(method: &str) -> String {
    let parts: Vec<&str> = method.split('.').collect();
    let parts = match parts.split_first() {
        Some((&"imopenlines", rest)) => rest,
        _ => &parts[..],
    };
    parts
        .iter()
        .map(|p| snake_case(p))
        .collect::<Vec<_>>()
        .join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_names_of_wire_names() {
        assert_eq!(field_name("CHAT_ID"), "chat_id");
        assert_eq!(field_name("chatId"), "chat_id");
        assert_eq!(field_name("1st"), "f_1st");
        assert_eq!(field_name("a-b.c"), "a_b_c");
        assert_eq!(field_name("a b"), "a_b");
        assert_eq!(object_field_name("extra"), "extra_");
        assert_eq!(object_field_name("EXTRA"), "extra_");
        assert_eq!(rust_ident("type"), "type_");
        assert_eq!(rust_ident("types"), "types");
        assert_eq!(variant_name("owner"), "Owner");
        assert_eq!(variant_name("1"), "V1");
        assert_eq!(variant_name(""), "Empty");
        assert_eq!(variant_name("ACCESS_ERROR"), "AccessError");
        assert_eq!(one_of_type_name("target"), "Target");
        assert_eq!(default_rust_name("imopenlines.dialog.get"), "dialog_get");
        assert_eq!(
            default_rust_name("imconnector.send.messages"),
            "imconnector_send_messages"
        );
        assert!(is_snake_ident("dialog_get2"));
        assert!(!is_snake_ident("DialogGet"));
        assert!(!is_snake_ident("_x"));
    }

    #[test]
    fn reserved_type_names_are_type_names() {
        // A name the parser could never accept as a type name needs no reservation.
        for n in reserved(Reserved::MethodType).chain(reserved(Reserved::EventType)) {
            assert!(crate::is_type_name(n), "{n}");
        }
        assert!(is_reserved(Reserved::Namespace, "events"));
        assert!(!is_reserved(Reserved::Namespace, "imopenlines"));
    }
}
