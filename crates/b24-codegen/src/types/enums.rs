//! Closed sets of wire strings: the enums of a spec and the `ErrorCode` of a method.

use std::collections::HashSet;

use b24_spec::{EnumDef, Location, SpecError};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::Types;
use crate::docs::doc_lines;
use crate::names::{core, type_ident, variant_name};
use crate::spec_error;

/// One documented value of a string enum.
pub(crate) struct Variant {
    /// The Rust variant.
    pub(crate) ident: Ident,
    /// The value on the wire.
    pub(crate) wire: String,
    /// Its doc comment.
    pub(crate) doc: TokenStream,
}

/// Variants for wire strings; two strings giving one name (or `Unknown`) is a spec error at
/// `key`.
pub(crate) fn variants<'v>(
    wires: impl Iterator<Item = (&'v str, TokenStream)>,
    location: &Location,
    key: &str,
) -> Result<Vec<Variant>, SpecError> {
    let mut taken = HashSet::new();
    let mut out = Vec::new();
    for (wire, doc) in wires {
        let name = variant_name(wire);
        if !taken.insert(name.clone()) || name == "Unknown" {
            return Err(spec_error(
                location,
                key,
                format!("`{wire}` gives the variant `{name}`, which is already taken"),
            ));
        }
        out.push(Variant {
            ident: type_ident(&name),
            wire: wire.to_string(),
            doc,
        });
    }
    Ok(out)
}

/// A closed set of wire strings plus `Unknown` (an opaque `UnknownValue`): the enum, `ALL`, `parse` (the documented
/// values first, then `Unknown`), `as_str` and `Display`. Enums of values and error codes
/// are both this; each adds its own trait impls.
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
    let core = core();
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum #name {
            #(#decls)*
            #unknown_doc
            Unknown(#core::UnknownValue),
        }

        impl #name {
            /// Every documented value.
            pub const ALL: &'static [#name] = &[#(#all),*];

            /// The value for a wire string (documented values first, then `Unknown`).
            pub fn parse(value: &str) -> Self {
                match value {
                    #(#parse_arms)*
                    other => #name::Unknown(#core::__private::unknown_value(other)),
                }
            }

            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    #(#str_arms)*
                    #name::Unknown(v) => v.as_str(),
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

impl Types {
    /// A named enum of a spec: the string enum, its serde impls, and its wire form when a
    /// request contains it.
    pub(super) fn enum_def(&self, e: &EnumDef) -> Result<TokenStream, SpecError> {
        let core = &self.core;
        let name = type_ident(&e.name);
        let visitor = format_ident!("__{}Visitor", e.name);
        let variants = variants(
            e.values.iter().map(|v| {
                let doc = doc_lines(&match &v.description {
                    Some(d) => format!("`{}`: {d}", v.value),
                    None => format!("`{}`", v.value),
                });
                (v.value.as_str(), doc)
            }),
            &e.location,
            &e.name,
        )?;
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
        let lenient = self.lenient_impls(&name, &visitor, false);
        let to_param = self.in_request(&e.name).then(|| {
            quote! {
                impl #core::ToParam for #name {
                    fn to_param(&self) -> #core::__private::serde_json::Value {
                        #core::__private::serde_json::Value::String(::std::string::String::from(self.as_str()))
                    }
                }
            }
        });
        Ok(quote! {
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
        })
    }
}
