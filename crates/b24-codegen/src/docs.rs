//! Doc comments of generated items.

use b24_spec::{Auth, Spec};
use proc_macro2::TokenStream;
use quote::quote;

/// The sentence on who may call a method, for `auth = "application"` (the default, any
/// caller, says nothing).
pub(crate) fn auth_note(spec: &Spec) -> Option<&'static str> {
    match spec.auth {
        Auth::Any => None,
        Auth::Application => {
            Some("Needs an application's OAuth context: a webhook gets `WRONG_AUTH_TYPE`.")
        }
    }
}

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
