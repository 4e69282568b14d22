//! Doc comments of generated items.

use proc_macro2::TokenStream;
use quote::quote;

/// `#[doc = "..."]` attributes, one per line of `text`.
pub(crate) fn doc_lines(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        let l = format!(" {}", l.trim_end());
        quote! { #[doc = #l] }
    });
    quote! { #(#lines)* }
}

/// `a`, `b`, `c` as inline code.
pub(crate) fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
