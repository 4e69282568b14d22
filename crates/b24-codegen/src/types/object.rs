//! A generated object: the struct (unknown keys kept in `extra`), its lenient decoder, and, for
//! an object a request contains, a builder and the wire form.

use b24_spec::names::object_field_name;
use b24_spec::wire::{field_shape, strip_null, FieldShape};
use b24_spec::{Field, Object};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::Types;
use crate::docs::{code_list, doc_lines};
use crate::names::{ident, type_ident, CORE_CRATE};

/// One field of an object, with what its declaration, decoder, builder and wire form need.
struct ObjectField<'a> {
    spec: &'a Field,
    /// Position in the object; the decoder's key table maps wire keys to it.
    index: usize,
    /// The Rust field (`type_` for `type`, `extra_` for `extra`).
    name: Ident,
    shape: FieldShape,
    /// The type as stored (`Option<T>` when optional).
    ty: TokenStream,
    /// The type a builder setter takes (`T` for an `Option<T>` field).
    value_ty: TokenStream,
    /// The decoder's local holding the value while keys are read.
    local: Ident,
}

impl ObjectField<'_> {
    fn wire(&self) -> &str {
        &self.spec.name
    }

    /// The field of the struct.
    fn declaration(&self) -> TokenStream {
        let (name, ty, wire) = (&self.name, &self.ty, self.wire());
        let doc = doc_lines(&field_doc(self.spec));
        let rename = (self.name != wire).then(|| quote! { #[serde(rename = #wire)] });
        quote! {
            #doc
            #rename
            pub #name: #ty,
        }
    }

    /// `(key, index)` for the wire key and each alias.
    fn keys(&self) -> impl Iterator<Item = (&str, usize)> {
        std::iter::once(&self.spec.name)
            .chain(&self.spec.aliases)
            .map(move |k| (k.as_str(), self.index))
    }

    /// The decoder's local, empty until the key is read.
    fn local_declaration(&self) -> TokenStream {
        let (local, ty) = (&self.local, &self.ty);
        match self.shape {
            FieldShape::Optional => quote! { let mut #local: #ty = ::std::option::Option::None; },
            FieldShape::Required | FieldShape::Default => {
                quote! { let mut #local: ::std::option::Option<#ty> = ::std::option::Option::None; }
            }
        }
    }

    /// The decoder's arm reading this field's value.
    fn read_arm(&self, core: &TokenStream) -> TokenStream {
        let (local, ty, index) = (&self.local, &self.ty, self.index);
        let seed = quote! { map.next_value_seed(#core::__private::Seed::<#ty>::new())? };
        match self.shape {
            FieldShape::Optional => quote! {
                ::std::option::Option::Some(#index) => { #local = #seed; }
            },
            FieldShape::Required | FieldShape::Default => quote! {
                ::std::option::Option::Some(#index) => { #local = ::std::option::Option::Some(#seed); }
            },
        }
    }

    /// The field's initialiser once every key is read.
    fn decoded(&self, core: &TokenStream) -> TokenStream {
        let (name, local, wire) = (&self.name, &self.local, self.wire());
        match self.shape {
            FieldShape::Optional => quote! { #name: #local, },
            FieldShape::Required => quote! {
                #name: #local.ok_or_else(|| <A::Error as #core::__private::serde::de::Error>::missing_field(#wire))?,
            },
            FieldShape::Default => quote! { #name: #local.unwrap_or_default(), },
        }
    }

    /// The builder's constructor argument: only required fields have one.
    fn constructor_argument(&self) -> Option<TokenStream> {
        let (name, ty) = (&self.name, &self.ty);
        (self.shape == FieldShape::Required)
            .then(|| quote! { #name: impl ::std::convert::Into<#ty> })
    }

    /// The field's value in a new builder.
    fn constructor_init(&self) -> TokenStream {
        let name = &self.name;
        match self.shape {
            FieldShape::Required => quote! { #name: #name.into(), },
            FieldShape::Optional => quote! { #name: ::std::option::Option::None, },
            FieldShape::Default => quote! { #name: ::std::default::Default::default(), },
        }
    }

    /// The builder's setter (not for required fields, nor for one named `new`).
    fn setter(&self) -> Option<TokenStream> {
        if self.shape == FieldShape::Required || self.name == "new" {
            return None;
        }
        let (name, value_ty) = (&self.name, &self.value_ty);
        let value = if self.shape == FieldShape::Optional {
            quote! { ::std::option::Option::Some(value.into()) }
        } else {
            quote! { value.into() }
        };
        let doc = doc_lines(&format!("Sets `{}`.", self.wire()));
        Some(quote! {
            #doc
            pub fn #name(mut self, value: impl ::std::convert::Into<#value_ty>) -> Self {
                self.#name = #value;
                self
            }
        })
    }

    /// Puts the field on the wire: optional ones only when set.
    fn to_param(&self, core: &TokenStream) -> TokenStream {
        let (name, wire) = (&self.name, self.wire());
        let insert = |value: TokenStream| {
            quote! { out.insert(::std::string::String::from(#wire), #core::ToParam::to_param(#value)); }
        };
        match self.shape {
            FieldShape::Optional => {
                let insert = insert(quote!(v));
                quote! {
                    if let ::std::option::Option::Some(v) = &self.#name {
                        #insert
                    }
                }
            }
            FieldShape::Required | FieldShape::Default if self.spec.optional => {
                let insert = insert(quote!(&self.#name));
                quote! {
                    if !#core::ToParam::is_absent(&self.#name) {
                        #insert
                    }
                }
            }
            FieldShape::Required | FieldShape::Default => insert(quote!(&self.#name)),
        }
    }
}

impl Types<'_> {
    /// A named object: the struct and its decoder, and, when a request contains it, its
    /// builder and wire form.
    pub(super) fn object(&self, o: &Object) -> TokenStream {
        let name = type_ident(&o.name);
        let visitor = format_ident!("__{}Visitor", o.name);
        let fields = self.object_fields(o);
        let in_request = self.in_request(&o.name);
        let builder = in_request.then(|| self.object_builder(&name, &fields));
        let declaration = self.object_struct(o, &name, &fields);
        let decoder = self.object_decoder(o, &name, &visitor, &fields);
        let lenient = self.lenient_impls(&o.name, &visitor);
        let to_param = in_request.then(|| self.object_to_param(&name, &fields));
        quote! {
            #builder
            #declaration
            #decoder
            #lenient
            #to_param
        }
    }

    /// The fields of `o`, named and shaped as `b24_spec` says (which refused a file where
    /// two keys give one Rust name).
    fn object_fields<'o>(&self, o: &'o Object) -> Vec<ObjectField<'o>> {
        o.fields
            .iter()
            .enumerate()
            .map(|(index, f)| {
                let shape = field_shape(&f.ty, f.optional);
                let value_ty = self.rust_type(strip_null(&f.ty));
                let ty = match shape {
                    FieldShape::Optional => quote!(::std::option::Option<#value_ty>),
                    FieldShape::Default | FieldShape::Required => value_ty.clone(),
                };
                ObjectField {
                    spec: f,
                    index,
                    name: ident(&object_field_name(&f.name)),
                    shape,
                    ty,
                    value_ty,
                    local: format_ident!("__f{}", index),
                }
            })
            .collect()
    }

    /// The struct, with `extra` for the keys the spec does not describe.
    fn object_struct(&self, o: &Object, name: &Ident, fields: &[ObjectField]) -> TokenStream {
        let core = &self.core;
        let serde_crate = format!("::{CORE_CRATE}::__private::serde");
        let mut doc = o.description.clone();
        if !o.untyped_keys.is_empty() {
            doc.push_str(&format!(
                "\n\nDeliberately untyped keys (kept in `extra`): {}.",
                code_list(&o.untyped_keys)
            ));
        }
        let doc = doc_lines(&doc);
        let declarations = fields.iter().map(ObjectField::declaration);
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, #core::__private::serde::Serialize)]
            #[serde(crate = #serde_crate)]
            #[non_exhaustive]
            pub struct #name {
                #(#declarations)*
                /// Keys the spec does not describe, exactly as the portal sent them.
                #[serde(flatten)]
                pub extra: #core::__private::serde_json::Map<::std::string::String, #core::__private::serde_json::Value>,
            }
        }
    }

    /// The serde visitor: keys matched exactly, then ignoring case; unknown keys go to
    /// `extra`; `[]` and `""` are an empty object.
    fn object_decoder(
        &self,
        o: &Object,
        name: &Ident,
        visitor: &Ident,
        fields: &[ObjectField],
    ) -> TokenStream {
        let core = &self.core;
        let expecting = format!("object {}", o.name);
        let keys: Vec<(&str, usize)> = fields.iter().flat_map(ObjectField::keys).collect();
        let key_table = keys.iter().map(|(k, i)| quote! { (#k, #i) });
        let exact_arms = keys
            .iter()
            .map(|(k, i)| quote! { #k => ::std::option::Option::Some(#i), });
        let locals = fields.iter().map(ObjectField::local_declaration);
        let read_arms = fields.iter().map(|f| f.read_arm(core));
        let decoded = fields.iter().map(|f| f.decoded(core));
        quote! {
            #[doc(hidden)]
            #[derive(Default)]
            pub struct #visitor;

            impl<'de> #core::__private::serde::de::Visitor<'de> for #visitor {
                type Value = #name;
                fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(#expecting)
                }
                fn visit_map<A: #core::__private::serde::de::MapAccess<'de>>(self, mut map: A) -> ::std::result::Result<#name, A::Error> {
                    const KEYS: &[(&str, usize)] = &[#(#key_table),*];
                    #(#locals)*
                    let mut extra = #core::__private::serde_json::Map::new();
                    while let ::std::option::Option::Some(#core::__private::Key(key)) = map.next_key::<#core::__private::Key<'de>>()? {
                        let index = match &*key {
                            #(#exact_arms)*
                            other => #core::__private::field_index_ignore_case(other, KEYS),
                        };
                        match index {
                            #(#read_arms)*
                            _ => {
                                let value = map.next_value_seed(#core::__private::Seed::<#core::__private::serde_json::Value>::new())?;
                                extra.insert(key.into_owned(), value);
                            }
                        }
                    }
                    ::std::result::Result::Ok(#name { #(#decoded)* extra })
                }
                fn visit_seq<A: #core::__private::serde::de::SeqAccess<'de>>(self, seq: A) -> ::std::result::Result<#name, A::Error> {
                    #core::__private::expect_empty_seq(seq, &self)?;
                    self.visit_map(#core::__private::empty_map::<A::Error>())
                }
                fn visit_str<E: #core::__private::serde::de::Error>(self, v: &str) -> ::std::result::Result<#name, E> {
                    if v.is_empty() {
                        self.visit_map(#core::__private::empty_map::<E>())
                    } else {
                        ::std::result::Result::Err(E::invalid_type(#core::__private::serde::de::Unexpected::Str(v), &self))
                    }
                }
            }
        }
    }

    /// `new` with the required fields, and a setter per other field.
    fn object_builder(&self, name: &Ident, fields: &[ObjectField]) -> TokenStream {
        let core = &self.core;
        let arguments = fields.iter().filter_map(ObjectField::constructor_argument);
        let inits = fields.iter().map(ObjectField::constructor_init);
        let setters = fields.iter().filter_map(ObjectField::setter);
        quote! {
            impl #name {
                /// An object with the required keys; optional ones are set with the
                /// methods named after them.
                pub fn new(#(#arguments),*) -> Self {
                    Self {
                        #(#inits)*
                        extra: #core::__private::serde_json::Map::new(),
                    }
                }
                #(#setters)*
            }
        }
    }

    /// The wire form: `extra` first, then the fields over it.
    fn object_to_param(&self, name: &Ident, fields: &[ObjectField]) -> TokenStream {
        let core = &self.core;
        let inserts = fields.iter().map(|f| f.to_param(core));
        quote! {
            impl #core::ToParam for #name {
                fn to_param(&self) -> #core::__private::serde_json::Value {
                    let mut out = self.extra.clone();
                    #(#inserts)*
                    #core::__private::serde_json::Value::Object(out)
                }
            }
        }
    }
}

/// The doc of a field: its description, wire key, type, aliases and note.
fn field_doc(f: &Field) -> String {
    let mut d = f.description.clone();
    d.push_str(&format!("\n\nWire key `{}`, type `{}`", f.name, f.ty));
    if f.optional {
        d.push_str(", may be absent");
    }
    d.push('.');
    if !f.aliases.is_empty() {
        d.push_str(&format!(" Also read from {}.", code_list(&f.aliases)));
    }
    if let Some(n) = &f.note {
        d.push_str(&format!("\n\nNote: {n}"));
    }
    d
}
