//! A method's module (`imopenlines::dialog_get`): its `Request`, `Response`, `ErrorCode`,
//! types and documented `EXAMPLES`, and the `Method` impl that ties them together.

use b24_spec::wire::strip_null;
use b24_spec::{MethodKind, Spec, TypeExpr};
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::docs::{auth_note, code_span, doc_lines};
use crate::names::{core, ident, CORE_CRATE};
use crate::request::RequestGen;
use crate::types::{string_enum, unknown_variant, variants, Types};

/// Generates the module of one method.
pub(crate) struct MethodGen<'a> {
    spec: &'a Spec,
    core: TokenStream,
    types: Types<'a>,
}

impl<'a> MethodGen<'a> {
    pub(crate) fn new(spec: &'a Spec) -> Self {
        MethodGen {
            spec,
            core: core(),
            types: Types::new(&spec.objects, spec.params.iter().map(|p| &p.ty)),
        }
    }

    /// `pub mod <operation> { ... }`.
    pub(crate) fn module(&self) -> TokenStream {
        let spec = self.spec;
        let core = &self.core;
        let op = ident(&spec.operation_name());
        let method = &spec.method;
        let doc = self.module_doc();
        let request = RequestGen::new(spec, &self.types);
        let request_items = request.items();
        let method_impl = self.method_impl(&request);
        let output = self.types.rust_type(&self.result_type());
        let result_doc = doc_lines(&format!(
            "The `result` of `{}`: {}",
            spec.method, spec.result.description
        ));
        let paged_impl = self.paged_impl();
        let definitions = self.types.definitions(&spec.objects, &spec.enums);
        let errors = self.error_codes();
        let examples = spec.examples.iter().map(|e| {
            let (name, status, body, description) = (&e.name, e.status, &e.raw, &e.description);
            quote! {
                #core::Example { name: #name, description: #description, status: #status, body: #body }
            }
        });
        quote! {
            #doc
            pub mod #op {
                /// The REST method name.
                pub const METHOD: &str = #method;

                #request_items

                #result_doc
                pub type Response = #output;

                /// The error of this method: its documented codes, the portal-wide codes,
                /// HTTP, transport and decoding failures.
                pub type Error = #core::Error<ErrorCode>;

                #method_impl

                #paged_impl

                #definitions
                #errors

                /// The documented answers of this method, as written in its spec file.
                pub const EXAMPLES: &[#core::Example] = &[#(#examples),*];
            }
        }
    }

    /// The module's doc: summary, description, docs link, scope, kind, access and auth.
    fn module_doc(&self) -> TokenStream {
        let spec = self.spec;
        let mut doc = format!("`{}`: {}", spec.method, spec.summary);
        if let Some(d) = &spec.description {
            doc.push_str("\n\n");
            doc.push_str(d.trim());
        }
        doc.push_str(&format!(
            "\n\n* Docs: <{}>\n* Scope: `{}`\n* Kind: {} ({})",
            spec.docs,
            spec.scope,
            spec.kind.as_str(),
            match spec.kind {
                MethodKind::Read => "replayed after a lost answer",
                MethodKind::Write => "never replayed after a lost answer",
            }
        ));
        if let Some(a) = &spec.access {
            doc.push_str(&format!("\n* Access: {a}"));
        }
        if let Some(note) = auth_note(spec) {
            doc.push_str(&format!("\n* Auth: {note}"));
        }
        doc_lines(&doc)
    }

    /// `impl Method for Request`.
    fn method_impl(&self, request: &RequestGen) -> TokenStream {
        let spec = self.spec;
        let core = &self.core;
        let (method, scope, paged) = (&spec.method, &spec.scope, spec.result.paged);
        let kind = match spec.kind {
            MethodKind::Read => quote!(#core::MethodKind::Read),
            MethodKind::Write => quote!(#core::MethodKind::Write),
        };
        let params_body = request.params_body();
        quote! {
            impl #core::Method for Request {
                const NAME: &'static str = #method;
                const SCOPE: &'static str = #scope;
                const KIND: #core::MethodKind = #kind;
                const PAGED: bool = #paged;
                type Output = Response;
                type ErrorCode = ErrorCode;
                fn params(&self) -> #core::__private::serde_json::Map<::std::string::String, #core::__private::serde_json::Value> {
                    #params_body
                }
            }
        }
    }

    /// The type of `result`: a paged method returns a list of its item type.
    fn result_type(&self) -> TypeExpr {
        let ty = &self.spec.result.ty;
        if self.spec.result.paged && !matches!(strip_null(ty), TypeExpr::Array(_)) {
            TypeExpr::Array(Box::new(ty.clone()))
        } else {
            ty.clone()
        }
    }

    /// `impl PagedMethod for Request`, for a paged method.
    fn paged_impl(&self) -> Option<TokenStream> {
        let core = &self.core;
        match self.result_type() {
            TypeExpr::Array(item) if self.spec.result.paged => {
                let item = self.types.rust_type(strip_null(&item));
                Some(quote! {
                    impl #core::PagedMethod for Request {
                        type Item = #item;
                    }
                })
            }
            _ => None,
        }
    }

    /// `ErrorCode`: the method's documented codes, with their HTTP statuses.
    fn error_codes(&self) -> TokenStream {
        let core = &self.core;
        let spec = self.spec;
        let name = Ident::new("ErrorCode", Span::call_site());
        let variants = variants(spec.errors.iter().map(|e| {
            let mut d = format!("`{}` (HTTP {}): {}", e.code, e.status, e.description);
            if let Some(m) = &e.message {
                d.push_str(&format!("\n\nThe portal says: {}", code_span(m)));
            }
            if let Some(n) = &e.note {
                d.push_str(&format!("\n\nNote: {n}"));
            }
            (e.code.as_str(), doc_lines(&d))
        }));
        let status_arms = variants.iter().zip(&spec.errors).map(|(v, e)| {
            let (v, status) = (&v.ident, e.status);
            quote! { ErrorCode::#v => ::std::option::Option::Some(#status), }
        });
        let doc = doc_lines(&format!(
            "Error codes `{}` documents. Portal-wide codes (`QUERY_LIMIT_EXCEEDED`, \
             `expired_token`...) are [`{CORE_CRATE}::PortalErrorCode`]; a code neither documents \
             is `Unknown`.",
            spec.method,
        ));
        let base = string_enum(
            &name,
            doc,
            "A code neither this method nor the portal documents, as sent.",
            &variants,
        );
        let unknown = unknown_variant();
        quote! {
            #base

            impl #core::MethodErrorCode for ErrorCode {
                fn documented(code: &str) -> ::std::option::Option<Self> {
                    match ErrorCode::parse(code) {
                        ErrorCode::#unknown(_) => ::std::option::Option::None,
                        documented => ::std::option::Option::Some(documented),
                    }
                }
                fn unknown(code: ::std::string::String) -> Self {
                    ErrorCode::#unknown(#core::__private::unknown_value(code))
                }
                fn as_str(&self) -> &str {
                    ErrorCode::as_str(self)
                }
                fn documented_status(&self) -> ::std::option::Option<u16> {
                    match self {
                        #(#status_arms)*
                        ErrorCode::#unknown(_) => ::std::option::Option::None,
                    }
                }
            }
        }
    }
}
