//! The convenience method per spec on a client type: `client.dialog_get(request).await`.

use b24_spec::Spec;
use proc_macro2::TokenStream;
use quote::quote;

use crate::docs::doc_lines;
use crate::names::{core, ident};

/// `impl <client> { ... }` with one method per spec.
pub(crate) fn client_impl(client: &syn::Path, specs: &[Spec]) -> TokenStream {
    let methods = specs.iter().map(client_method);
    quote! {
        impl #client {
            #(#methods)*
        }
    }
}

/// `async fn <rust_name>(&self, request)`: builds the request and calls the client.
fn client_method(spec: &Spec) -> TokenStream {
    let core = core();
    let ns = ident(spec.namespace());
    let op = ident(&spec.operation_name());
    let f = ident(&spec.rust_name);
    let doc = doc_lines(&format!(
        "Calls `{}`: {}\n\nSee [`{}::{}`] for the request, result and error types.",
        spec.method,
        spec.summary,
        spec.namespace(),
        spec.operation_name()
    ));
    quote! {
        #doc
        pub async fn #f(
            &self,
            request: impl ::std::convert::Into<#ns::#op::Request>,
        ) -> ::std::result::Result<#ns::#op::Response, #core::Error<#ns::#op::ErrorCode>> {
            self.call(&request.into()).await
        }
    }
}
