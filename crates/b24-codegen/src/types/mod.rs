//! The types of one spec file: the Rust type of each type expression, and the definitions of
//! its named objects and enums. Methods and events share it.

mod enums;
mod object;

use std::collections::HashSet;

use b24_spec::{EnumDef, Object, Scalar, SpecError, TypeExpr};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::names::{core, type_ident};

pub(crate) use enums::{string_enum, variants};

/// Generates the types of one file.
pub(crate) struct Types {
    core: TokenStream,
    /// Objects and enums a request parameter contains, directly or through other objects:
    /// only they are sent, so only they get the wire form (`ToParam`), and the objects a
    /// builder.
    request_types: HashSet<String>,
}

impl Types {
    /// Types for a file whose request parameters have the types `params`.
    pub(crate) fn new<'t>(
        objects: &[Object],
        params: impl IntoIterator<Item = &'t TypeExpr>,
    ) -> Types {
        let mut request_types = HashSet::new();
        let mut stack: Vec<&TypeExpr> = params.into_iter().collect();
        while let Some(ty) = stack.pop() {
            for name in ty.named() {
                if request_types.insert(name.to_string()) {
                    if let Some(o) = objects.iter().find(|o| o.name == name) {
                        stack.extend(o.fields.iter().map(|f| &f.ty));
                    }
                }
            }
        }
        Types {
            core: core(),
            request_types,
        }
    }

    /// Whether a request contains the named type.
    fn in_request(&self, name: &str) -> bool {
        self.request_types.contains(name)
    }

    /// Every named object and enum of a file, in file order.
    pub(crate) fn definitions(
        &self,
        objects: &[Object],
        enums: &[EnumDef],
    ) -> Result<TokenStream, SpecError> {
        let objects = objects
            .iter()
            .map(|o| self.object(o))
            .collect::<Result<Vec<_>, _>>()?;
        let enums = enums
            .iter()
            .map(|e| self.enum_def(e))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(quote! {
            #(#objects)*
            #(#enums)*
        })
    }

    /// The Rust type of a type expression.
    pub(crate) fn rust_type(&self, ty: &TypeExpr) -> TokenStream {
        let core = &self.core;
        match ty {
            TypeExpr::Scalar(s) => match s {
                Scalar::Integer => quote!(i64),
                Scalar::Double => quote!(f64),
                Scalar::String | Scalar::Text | Scalar::Char => {
                    quote!(::std::string::String)
                }
                Scalar::Boolean => quote!(bool),
                Scalar::Date => quote!(#core::__private::chrono::NaiveDate),
                Scalar::Datetime => quote!(
                    #core::__private::chrono::DateTime<#core::__private::chrono::FixedOffset>
                ),
                Scalar::Timestamp => {
                    quote!(#core::__private::chrono::DateTime<#core::__private::chrono::Utc>)
                }
                Scalar::Object => quote!(
                    #core::__private::serde_json::Map<::std::string::String, #core::__private::serde_json::Value>
                ),
                Scalar::File | Scalar::Any => quote!(#core::__private::serde_json::Value),
            },
            TypeExpr::Named(n) => {
                let i = type_ident(n);
                quote!(#i)
            }
            TypeExpr::Array(t) => {
                let t = self.rust_type(strip_null(t));
                quote!(::std::vec::Vec<#t>)
            }
            TypeExpr::Map(t) => {
                let t = self.rust_type(strip_null(t));
                quote!(#core::__private::indexmap::IndexMap<::std::string::String, #t>)
            }
            TypeExpr::Nullable(t) => {
                let t = self.rust_type(t);
                quote!(::std::option::Option<#t>)
            }
        }
    }

    /// `Lenient` (an empty string is "none"; for objects `[]` too) and a `Deserialize` that
    /// goes through it, for a generated type with its visitor.
    fn lenient_impls(
        &self,
        name: &Ident,
        visitor: &Ident,
        empty_array_is_null: bool,
    ) -> TokenStream {
        let core = &self.core;
        let empty_array =
            empty_array_is_null.then(|| quote! { const EMPTY_ARRAY_IS_NULL: bool = true; });
        quote! {
            impl #core::Lenient for #name {
                type Visitor = #visitor;
                const EMPTY_STRING_IS_NULL: bool = true;
                #empty_array
            }

            impl<'de> #core::__private::serde::Deserialize<'de> for #name {
                fn deserialize<D: #core::__private::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                    #core::__private::deserialize(d)
                }
            }
        }
    }
}

/// The type under a `T | null`.
pub(crate) fn strip_null(ty: &TypeExpr) -> &TypeExpr {
    match ty {
        TypeExpr::Nullable(t) => t,
        t => t,
    }
}
