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
        .map(|i| code_span(i))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `text` as one Markdown code span, whatever it holds: the fence is one backtick longer than
/// the longest run of backticks inside, and a space pads a text that starts or ends with one.
/// Values the docs quote as they are (a message the portal returns, an example, an enum wire
/// value) go through here, so that they count as literals under `b24_spec::prose`.
pub(crate) fn code_span(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::code_span;

    #[test]
    fn a_code_span_holds_any_text() {
        assert_eq!(code_span("Чат не найден"), "`Чат не найден`");
        assert_eq!(code_span("a `b` c"), "``a `b` c``");
        assert_eq!(code_span("``x``"), "``` ``x`` ```");
        assert_eq!(code_span(""), "``");
    }
}
