//! Identifiers for the Rust names `b24_spec::names` gives the spec's wire names, and the one
//! spelling of the runtime crate's path.

use b24_spec::names::rust_ident;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote_spanned;

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

/// The identifier of a snake_case name, keywords escaped as `b24_spec::names::rust_ident`
/// spells them (`type` → `type_`).
pub(crate) fn ident(name: &str) -> Ident {
    Ident::new(&rust_ident(name), Span::call_site())
}

/// The identifier of a type the spec names (`Dialog`), or a PascalCase name made by
/// `b24_spec::names`.
pub(crate) fn type_ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}
