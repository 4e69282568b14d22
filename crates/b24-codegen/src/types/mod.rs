//! The types of one spec file: the Rust type of each type expression, and the definitions of
//! its named objects and enums. Methods and events share it.

mod enums;
mod object;

use std::collections::HashSet;

use b24_spec::wire::{empty_array_is_null, empty_string_is_null, false_is_null, strip_null};
use b24_spec::{EnumDef, Object, Scalar, TypeExpr};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::names::{core, type_ident};

pub(crate) use enums::{string_enum, unknown_variant, variants};

/// Generates the types of one file.
pub(crate) struct Types<'a> {
    core: TokenStream,
    /// The file's named objects.
    objects: &'a [Object],
    /// Objects and enums a request parameter contains, directly or through other objects:
    /// only they are sent, so only they get the wire form (`ToParam`), and the objects a
    /// builder.
    request_types: HashSet<String>,
}

impl<'a> Types<'a> {
    /// Types for a file with these named objects, whose request parameters have the types
    /// `params`.
    pub(crate) fn new<'t>(
        objects: &'a [Object],
        params: impl IntoIterator<Item = &'t TypeExpr>,
    ) -> Types<'a> {
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
            objects,
            request_types,
        }
    }

    /// Whether a request contains the named type.
    fn in_request(&self, name: &str) -> bool {
        self.request_types.contains(name)
    }

    /// Every named object and enum of a file, in file order.
    pub(crate) fn definitions(&self, objects: &[Object], enums: &[EnumDef]) -> TokenStream {
        let objects = objects.iter().map(|o| self.object(o));
        let enums = enums.iter().map(|e| self.enum_def(e));
        quote! {
            #(#objects)*
            #(#enums)*
        }
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

    /// `Lenient` and a `Deserialize` that goes through it, for the generated type `name` with
    /// its visitor. Which of `""`, `[]` and `false` are "none" for it is what
    /// `b24_spec::wire` says; a constant is written where that differs from the trait's
    /// default.
    fn lenient_impls(&self, name: &str, visitor: &Ident) -> TokenStream {
        let core = &self.core;
        let ty = TypeExpr::Named(name.to_string());
        let empty_string =
            empty_string_is_null(&ty).then(|| quote! { const EMPTY_STRING_IS_NULL: bool = true; });
        let empty_array = empty_array_is_null(&ty, self.objects)
            .then(|| quote! { const EMPTY_ARRAY_IS_NULL: bool = true; });
        let not_false =
            (!false_is_null(&ty)).then(|| quote! { const FALSE_IS_NULL: bool = false; });
        let name = type_ident(name);
        quote! {
            impl #core::Lenient for #name {
                type Visitor = #visitor;
                #empty_string
                #empty_array
                #not_false
            }

            impl<'de> #core::__private::serde::Deserialize<'de> for #name {
                fn deserialize<D: #core::__private::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                    #core::__private::deserialize(d)
                }
            }
        }
    }
}
