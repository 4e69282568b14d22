//! The convenience method per spec on a client type: `client.dialog_get(request).await`.
//!
//! The methods call the client through `b24_core::Call`, and their `impl` block requires it,
//! so a client type without it is one error at the `client = ...` of `generate!`.

use b24_spec::Spec;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::docs::{auth_note, doc_lines};
use crate::names::{core, core_at, ident};

/// `impl <client> where <client>: Call { ... }` with one method per spec.
pub(crate) fn client_impl(client: &syn::Path, specs: &[Spec]) -> TokenStream {
    // The bound carries the span of the path the macro was given, so rustc names it there.
    let span = client.span();
    let call = core_at(span);
    let bound = quote_spanned!(span=> #client: #call::Call);
    let methods = specs.iter().map(client_method);
    quote! {
        impl #client where #bound {
            #(#methods)*
        }
    }
}

/// `async fn <rust_name>(&self, request)`: builds the request and sends it with `Call::call`.
fn client_method(spec: &Spec) -> TokenStream {
    let core = core();
    let ns = ident(spec.namespace());
    let op = ident(&spec.operation_name());
    let f = ident(&spec.rust_name);
    let mut text = format!("Calls `{}`: {}", spec.method, spec.summary);
    if let Some(note) = auth_note(spec) {
        text.push_str("\n\n");
        text.push_str(note);
    }
    text.push_str(&format!(
        "\n\nSee [`{}::{}`] for the request, result and error types.",
        spec.namespace(),
        spec.operation_name()
    ));
    let doc = doc_lines(&text);
    quote! {
        #doc
        pub async fn #f(
            &self,
            request: impl ::std::convert::Into<#ns::#op::Request>,
        ) -> ::std::result::Result<#ns::#op::Response, #core::Error<#ns::#op::ErrorCode>> {
            #core::Call::call(self, &request.into()).await
        }
    }
}
