//! A method's `Request`: its fields (a plain parameter, or a one-of group as an enum so a
//! request without an identifier does not compile), constructor, setters, and its wire form.

use b24_spec::names::{field_name, one_of_type_name, variant_name};
use b24_spec::wire::{param_shape, param_type, ParamShape};
use b24_spec::{OneOf, Param, Spec};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::docs::{code_list, code_span, doc_lines};
use crate::names::{core, ident, type_ident};
use crate::types::Types;

/// One field of a `Request`, in the order the spec lists its parameters (a one-of group where
/// its first member is).
enum RequestField<'a> {
    /// A parameter on its own.
    Param(ParamField<'a>),
    /// Parameters of which exactly one is sent.
    OneOf(OneOfField<'a>),
}

/// A parameter that is a field of its own.
struct ParamField<'a> {
    param: &'a Param,
    /// Whether `Request::new` takes it (else it is an `Option` with a setter).
    required: bool,
    /// The Rust field and setter (`chat_id`).
    name: Ident,
    /// Its type, without the `Option` of an optional parameter.
    ty: TokenStream,
}

/// A one-of group: a field holding an enum with a variant per member.
struct OneOfField<'a> {
    group: &'a OneOf,
    /// The Rust field (`target`).
    name: Ident,
    /// The enum (`Target`).
    enum_name: Ident,
    /// The members, in the order the server checks them.
    members: Vec<OneOfMember<'a>>,
}

/// One member of a one-of group: its wire name, variant and type, worked out once for the
/// enum, its wire form and the request's shortcuts.
struct OneOfMember<'a> {
    param: &'a Param,
    variant: Ident,
    ty: TokenStream,
}

/// Generates the `Request` of one method.
pub(crate) struct RequestGen<'a> {
    spec: &'a Spec,
    core: TokenStream,
    fields: Vec<RequestField<'a>>,
}

impl<'a> RequestGen<'a> {
    /// The request's fields, shaped as `b24_spec::wire::param_shape` says (the spec was
    /// refused if two give one Rust name).
    pub(crate) fn new(spec: &'a Spec, types: &Types) -> Self {
        let mut fields = Vec::new();
        let mut groups_done: Vec<&str> = Vec::new();
        for p in &spec.params {
            let required = match param_shape(spec, p) {
                ParamShape::OneOf(group) => {
                    if !groups_done.contains(&group.name.as_str()) {
                        groups_done.push(&group.name);
                        fields.push(RequestField::OneOf(one_of_field(spec, group, types)));
                    }
                    continue;
                }
                ParamShape::Required => true,
                ParamShape::Optional => false,
            };
            fields.push(RequestField::Param(ParamField {
                param: p,
                required,
                name: ident(&field_name(&p.name)),
                ty: types.rust_type(param_type(p)),
            }));
        }
        RequestGen {
            spec,
            core: core(),
            fields,
        }
    }

    /// The `Request` struct, its constructor and setters, and the one-of enums.
    pub(crate) fn items(&self) -> TokenStream {
        let declarations = self.fields.iter().map(RequestField::declaration);
        let arguments: Vec<TokenStream> = self
            .fields
            .iter()
            .filter_map(RequestField::constructor_argument)
            .collect();
        let inits = self.fields.iter().map(RequestField::constructor_init);
        let field_items = self.fields.iter().map(|f| f.items(&self.core));
        let (shortcuts, from_one_of) = self.sole_one_of().map(OneOfField::shortcuts).unzip();
        let doc = doc_lines(&format!(
            "Request of `{}`. Build it with [`Request::new`]{}.",
            self.spec.method,
            if arguments.is_empty() {
                " (or `Default`)"
            } else {
                ""
            }
        ));
        let default = arguments.is_empty().then(|| {
            quote! {
                impl ::std::default::Default for Request {
                    fn default() -> Self {
                        Self::new()
                    }
                }
            }
        });
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
            #[non_exhaustive]
            pub struct Request {
                #(#declarations)*
            }

            impl Request {
                /// A request with the required parameters; optional ones are set with the
                /// methods named after them.
                pub fn new(#(#arguments),*) -> Self {
                    Self { #(#inits)* }
                }
                #shortcuts
            }

            #default
            #(#field_items)*
            #from_one_of
        }
    }

    /// The body of `Method::params`: each field under its wire name, optional ones when set.
    pub(crate) fn params_body(&self) -> TokenStream {
        let core = &self.core;
        let inserts = self.fields.iter().map(|f| f.to_param(core));
        quote! {
            let mut params = #core::__private::serde_json::Map::new();
            #(#inserts)*
            params
        }
    }

    /// The one-of group when it is the request's only constructor argument, so the request
    /// gets a shortcut per member (`Request::chat_id(1777)`).
    fn sole_one_of(&self) -> Option<&OneOfField<'a>> {
        let mut arguments = self.fields.iter().filter(|f| f.is_argument());
        match (arguments.next(), arguments.next()) {
            (Some(RequestField::OneOf(one_of)), None) => Some(one_of),
            _ => None,
        }
    }
}

/// The field of `group`: a variant per member (the spec was refused if two give one).
fn one_of_field<'a>(spec: &'a Spec, group: &'a OneOf, types: &Types) -> OneOfField<'a> {
    let members = group
        .params
        .iter()
        .filter_map(|member| spec.params.iter().find(|p| &p.name == member))
        .map(|param| OneOfMember {
            param,
            variant: type_ident(&variant_name(&param.name)),
            ty: types.rust_type(param_type(param)),
        })
        .collect();
    OneOfField {
        group,
        name: ident(&group.name),
        enum_name: type_ident(&one_of_type_name(&group.name)),
        members,
    }
}

impl RequestField<'_> {
    /// Whether `Request::new` takes it: required parameters and one-of groups.
    fn is_argument(&self) -> bool {
        match self {
            RequestField::Param(p) => p.required,
            RequestField::OneOf(_) => true,
        }
    }

    /// The field of the struct.
    fn declaration(&self) -> TokenStream {
        match self {
            RequestField::Param(ParamField {
                param,
                required,
                name,
                ty,
            }) => {
                let mut doc = format!("`{}`: {}", param.name, param.description);
                if let Some(ex) = &param.example {
                    doc.push_str(&format!("\n\nExample: {}", code_span(&ex.to_string())));
                }
                if let Some(n) = &param.note {
                    doc.push_str(&format!("\n\nNote: {n}"));
                }
                let doc = doc_lines(&doc);
                if *required {
                    quote! { #doc pub #name: #ty, }
                } else {
                    quote! { #doc pub #name: ::std::option::Option<#ty>, }
                }
            }
            RequestField::OneOf(OneOfField {
                group,
                name,
                enum_name,
                ..
            }) => {
                let doc = doc_lines(&group.description);
                quote! { #doc pub #name: #enum_name, }
            }
        }
    }

    /// The argument of `Request::new`, for required parameters and one-of groups.
    fn constructor_argument(&self) -> Option<TokenStream> {
        let (name, ty) = match self {
            RequestField::Param(ParamField { name, ty, .. }) => (name, ty.clone()),
            RequestField::OneOf(OneOfField {
                name, enum_name, ..
            }) => (name, quote!(#enum_name)),
        };
        self.is_argument()
            .then(|| quote! { #name: impl ::std::convert::Into<#ty> })
    }

    /// The field's value in `Request::new`.
    fn constructor_init(&self) -> TokenStream {
        match self {
            RequestField::Param(ParamField {
                required: false,
                name,
                ..
            }) => {
                quote! { #name: ::std::option::Option::None, }
            }
            RequestField::Param(ParamField { name, .. })
            | RequestField::OneOf(OneOfField { name, .. }) => quote! { #name: #name.into(), },
        }
    }

    /// Items the field brings besides itself: the enum of a one-of group, the setter of an
    /// optional parameter.
    fn items(&self, core: &TokenStream) -> Option<TokenStream> {
        match self {
            RequestField::OneOf(one_of) => Some(one_of.enum_def(core)),
            RequestField::Param(ParamField {
                param,
                required: false,
                name,
                ty,
            }) => {
                let doc = doc_lines(&format!("Sets `{}`.", param.name));
                Some(quote! {
                    impl Request {
                        #doc
                        pub fn #name(mut self, value: impl ::std::convert::Into<#ty>) -> Self {
                            self.#name = ::std::option::Option::Some(value.into());
                            self
                        }
                    }
                })
            }
            RequestField::Param(_) => None,
        }
    }

    /// Puts the field in `params`: an optional parameter only when set, a one-of group under
    /// the chosen member's name.
    fn to_param(&self, core: &TokenStream) -> TokenStream {
        match self {
            RequestField::Param(ParamField {
                param,
                required,
                name,
                ..
            }) => {
                let wire = &param.name;
                if *required {
                    quote! {
                        params.insert(::std::string::String::from(#wire), #core::ToParam::to_param(&self.#name));
                    }
                } else {
                    quote! {
                        if let ::std::option::Option::Some(v) = &self.#name {
                            params.insert(::std::string::String::from(#wire), #core::ToParam::to_param(v));
                        }
                    }
                }
            }
            RequestField::OneOf(OneOfField { name, .. }) => quote! {
                let (name, value) = self.#name.to_param();
                params.insert(::std::string::String::from(name), value);
            },
        }
    }
}

impl OneOfField<'_> {
    /// The enum with a variant per member, and its wire form.
    fn enum_def(&self, core: &TokenStream) -> TokenStream {
        let enum_name = &self.enum_name;
        let variants = self.members.iter().map(|m| {
            let (variant, ty) = (&m.variant, &m.ty);
            let doc = doc_lines(&format!("`{}`: {}", m.param.name, m.param.description));
            quote! { #doc #variant(#ty), }
        });
        let arms = self.members.iter().map(|m| {
            let (variant, wire) = (&m.variant, &m.param.name);
            quote! { #enum_name::#variant(v) => (#wire, #core::ToParam::to_param(v)), }
        });
        let wires: Vec<String> = self.members.iter().map(|m| m.param.name.clone()).collect();
        let doc = doc_lines(&format!(
            "{}\n\nOne of: {}.",
            self.group.description,
            code_list(&wires)
        ));
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq)]
            pub enum #enum_name {
                #(#variants)*
            }

            impl #enum_name {
                /// The wire name and value of the chosen parameter.
                pub fn to_param(&self) -> (&'static str, #core::__private::serde_json::Value) {
                    match self {
                        #(#arms)*
                    }
                }
            }
        }
    }

    /// For a request that is nothing but this one-of group: a constructor per member
    /// (`Request::chat_id(1777)`), and `From<enum>`.
    fn shortcuts(&self) -> (TokenStream, TokenStream) {
        let enum_name = &self.enum_name;
        let constructors = self.members.iter().map(|m| {
            let (variant, ty) = (&m.variant, &m.ty);
            let f = ident(&field_name(&m.param.name));
            let doc = doc_lines(&format!("A request by `{}`.", m.param.name));
            quote! {
                #doc
                pub fn #f(value: impl ::std::convert::Into<#ty>) -> Self {
                    Self::new(#enum_name::#variant(value.into()))
                }
            }
        });
        let from = quote! {
            impl ::std::convert::From<#enum_name> for Request {
                fn from(value: #enum_name) -> Self {
                    Self::new(value)
                }
            }
        };
        (quote! { #(#constructors)* }, from)
    }
}
