//! The whole generated family: a module per namespace with a module per method, the `events`
//! module, the client's methods and the tracked spec files.

use std::collections::BTreeMap;

use b24_spec::{EventSpec, Spec, SpecError};
use proc_macro2::TokenStream;
use quote::quote;

use crate::client::client_impl;
use crate::docs::doc_lines;
use crate::events::events_module;
use crate::method::MethodGen;
use crate::names::{core, ident};
use crate::Options;

/// Generates the code for methods and events: the per-method modules as
/// [`generate`](crate::generate) does, and, when there are events, an `events` module with one
/// module per event and the `Event` enum that verifies and decodes a handler's POST.
///
/// Every name a file gives is checked by `b24_spec` when the file is parsed; the names of
/// different files are checked when they make up one `b24_spec::Family`. The specs given
/// here are put through that check ([`b24_spec::check_family`]), which is the only error:
/// specs from `b24_spec::load_family` always generate.
pub fn generate_family(
    specs: &[Spec],
    events: &[EventSpec],
    options: &Options,
) -> Result<TokenStream, SpecError> {
    b24_spec::check_family(specs, events)?;
    let mut namespaces: BTreeMap<&str, Vec<TokenStream>> = BTreeMap::new();
    for spec in specs {
        namespaces
            .entry(spec.namespace())
            .or_default()
            .push(MethodGen::new(spec).module());
    }
    let modules = namespaces.iter().map(|(ns, methods)| {
        let ns_ident = ident(ns);
        let doc = doc_lines(&format!("Methods `{ns}.*`: one module per method."));
        quote! {
            #doc
            pub mod #ns_ident {
                #(#methods)*
            }
        }
    });
    let methods = specs.iter().map(|s| s.method.as_str());
    let core = core();
    let visits = specs.iter().map(|s| {
        let (ns, op) = (ident(s.namespace()), ident(&s.operation_name()));
        quote! { visitor.visit::<#ns::#op::Request>(#ns::#op::EXAMPLES); }
    });
    let tracked = options.track_files.iter().map(|p| {
        let p = p.to_string_lossy();
        quote! { const _: &[u8] = ::core::include_bytes!(#p); }
    });
    let client = options
        .client
        .as_ref()
        .map(|client| client_impl(client, specs));
    let events = (!events.is_empty()).then(|| events_module(events));
    Ok(quote! {
        /// Every REST method generated from the spec files, sorted.
        pub const METHODS: &[&str] = &[#(#methods),*];
        /// Calls `visitor` once per generated method, in [`METHODS`] order, with its request
        /// type and documented answers (for code that covers every method, such as tests).
        #[allow(unused_variables)]
        pub fn visit_methods(visitor: &mut impl #core::MethodVisitor) {
            #(#visits)*
        }
        #(#modules)*
        #events
        #client
        #(#tracked)*
    })
}
