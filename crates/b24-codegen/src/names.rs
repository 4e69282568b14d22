//! Rust names for the spec's wire names, and the one spelling of the runtime crate's path.

use b24_spec::{pascal_case, snake_case};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote_spanned};

/// The crate generated code uses at run time. Every path into it is built from this name:
/// [`core`] for tokens, `format!("::{CORE_CRATE}::…")` where an attribute or a doc needs text.
pub(crate) const CORE_CRATE: &str = "b24_core";

/// `::b24_core`: the runtime crate's path in generated tokens.
pub(crate) fn core() -> TokenStream {
    core_at(Span::call_site())
}

/// [`core`] with the tokens at `span`, so an error about the path points there.
pub(crate) fn core_at(span: Span) -> TokenStream {
    let krate = Ident::new(CORE_CRATE, span);
    quote_spanned!(span=> ::#krate)
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// A Rust identifier for a snake_case name; keywords get a trailing `_` (`type` → `type_`).
pub(crate) fn ident(name: &str) -> Ident {
    if KEYWORDS.contains(&name) {
        format_ident!("{}_", name)
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// The identifier of a type the spec names (`Dialog`), or a PascalCase name made here.
pub(crate) fn type_ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// A field or variable name for a wire key (`CHAT_ID` → `chat_id`, `chatId` → `chat_id`).
pub(crate) fn field_name(wire: &str) -> String {
    let s = snake_case(wire);
    let s: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        format!("f_{s}")
    } else {
        s
    }
}

/// A variant name for a wire value (`owner` → `Owner`, `1` → `V1`, `""` → `Empty`).
pub(crate) fn variant_name(wire: &str) -> String {
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
