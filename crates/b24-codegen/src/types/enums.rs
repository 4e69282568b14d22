//! Closed sets of wire strings: the enums of a spec and the `ErrorCode` of a method.

use b24_spec::names::{variant_name, UNKNOWN_VARIANT};
use b24_spec::EnumDef;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::Types;
use crate::docs::{code_span, doc_lines};
use crate::names::{core, type_ident};

/// One documented value of a string enum.
pub(crate) struct Variant {
    /// The Rust variant.
    pub(crate) ident: Ident,
    /// The value on the wire.
    pub(crate) wire: String,
    /// Its doc comment.
    pub(crate) doc: TokenStream,
}

/// The variants of wire strings, named by `b24_spec::names::variant_name` (the spec was
/// refused if two give one name, or `Unknown`).
pub(crate) fn variants<'v>(wires: impl Iterator<Item = (&'v str, TokenStream)>) -> Vec<Variant> {
    wires
        .map(|(wire, doc)| Variant {
            ident: type_ident(&variant_name(wire)),
            wire: wire.to_string(),
            doc,
        })
        .collect()
}

/// The variant of values the spec does not list (`Unknown`), which no documented value gives.
pub(crate) fn unknown_variant() -> Ident {
    Ident::new(UNKNOWN_VARIANT, Span::call_site())
}

/// A closed set of wire strings plus `Unknown` (an opaque `UnknownValue`): the enum, `ALL`,
/// `parse` (the documented values first, then `Unknown`), `as_str` and `Display`. Enums of
/// values and error codes are both this; each adds its own trait impls.
pub(crate) fn string_enum(
    name: &Ident,
    doc: TokenStream,
    unknown_doc: &str,
    variants: &[Variant],
) -> TokenStream {
    let decls = variants
        .iter()
        .map(|Variant { ident, doc, .. }| quote! { #doc #ident, });
    let parse_arms = variants
        .iter()
        .map(|Variant { ident, wire, .. }| quote! { #wire => #name::#ident, });
    let str_arms = variants
        .iter()
        .map(|Variant { ident, wire, .. }| quote! { #name::#ident => #wire, });
    let all = variants.iter().map(|v| {
        let ident = &v.ident;
        quote! { #name::#ident }
    });
    let unknown_doc = doc_lines(unknown_doc);
    let unknown = unknown_variant();
    let core = core();
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #(#decls)*
            #unknown_doc
            #unknown(#core::UnknownValue),
        }

        impl #name {
            /// Every documented value.
            pub const ALL: &'static [#name] = &[#(#all),*];

            /// The value for a wire string (documented values first, then `Unknown`).
            pub fn parse(value: &str) -> Self {
                match value {
                    #(#parse_arms)*
                    other => #name::#unknown(#core::__private::unknown_value(other)),
                }
            }

            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#str_arms)*
                    #name::#unknown(v) => v.as_str(),
                }
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    }
}

impl Types<'_> {
    /// A named enum of a spec: the string enum, its serde impls, and its wire form when a
    /// request contains it.
    pub(super) fn enum_def(&self, e: &EnumDef) -> TokenStream {
        let core = &self.core;
        let name = type_ident(&e.name);
        let visitor = format_ident!("__{}Visitor", e.name);
        let variants = variants(e.values.iter().map(|v| {
            let doc = doc_lines(&match &v.description {
                Some(d) => format!("{}: {d}", code_span(&v.value)),
                None => code_span(&v.value),
            });
            (v.value.as_str(), doc)
        }));
        let doc = doc_lines(&format!(
            "{}\n\nA value the spec does not list decodes as `Unknown`.",
            e.description
        ));
        let base = string_enum(
            &name,
            doc,
            "A value the spec does not document, as sent.",
            &variants,
        );
        let expecting = format!("a value of {}", e.name);
        let lenient = self.lenient_impls(&e.name, &visitor);
        let to_param = self.in_request(&e.name).then(|| {
            quote! {
                impl #core::ToParam for #name {
                    fn to_param(&self) -> #core::__private::serde_json::Value {
                        #core::__private::serde_json::Value::String(::std::string::String::from(self.as_str()))
                    }
                }
            }
        });
        quote! {
            #base

            impl #core::__private::serde::Serialize for #name {
                fn serialize<S: #core::__private::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                    s.serialize_str(self.as_str())
                }
            }

            #[doc(hidden)]
            #[derive(Default)]
            pub struct #visitor;

            impl<'de> #core::__private::serde::de::Visitor<'de> for #visitor {
                type Value = #name;
                fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(#expecting)
                }
                fn visit_str<E: #core::__private::serde::de::Error>(self, v: &str) -> ::std::result::Result<#name, E> {
                    ::std::result::Result::Ok(#name::parse(v))
                }
                fn visit_i64<E: #core::__private::serde::de::Error>(self, v: i64) -> ::std::result::Result<#name, E> {
                    ::std::result::Result::Ok(#name::parse(&v.to_string()))
                }
                fn visit_u64<E: #core::__private::serde::de::Error>(self, v: u64) -> ::std::result::Result<#name, E> {
                    ::std::result::Result::Ok(#name::parse(&v.to_string()))
                }
            }

            #lenient
            #to_param
        }
    }
}
