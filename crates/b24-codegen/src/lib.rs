//! Generates typed Rust for Bitrix24 REST methods from validated specs.
//!
//! For each spec it emits one module, `<namespace>::<operation>` (`imopenlines::dialog_get`),
//! holding everything about the method: the `Request` (a one-of group is an enum, so a
//! request without an identifier does not compile), the result types (a struct per named
//! object, `#[non_exhaustive]`, unknown keys kept in `extra`, lenient decoding of the portal's
//! quirks), the enums (a variant per documented value plus `Unknown`), the `ErrorCode` enum,
//! and the documented `EXAMPLES`. Optionally it adds a convenience method per spec to a client
//! type.
//!
//! This is a plain library: the proc macro in `b24-macros` calls [`generate`], and tests
//! snapshot [`pretty`] output.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use b24_spec::{
    pascal_case, snake_case, EnumDef, EventSpec, Field, Location, MethodKind, Object, Scalar, Spec,
    SpecError, TypeExpr,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

/// What to generate besides the per-method modules.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A type to add one `async fn <rust_name>(&self, request)` per method to. It must have
    /// `async fn call<M: Method>(&self, &M) -> Result<M::Output, Error<M::ErrorCode>>`.
    pub client: Option<syn::Path>,
    /// Spec files to track with `include_bytes!` so editing one rebuilds the crate.
    pub track_files: Vec<PathBuf>,
}

/// Generates the code for `specs` (methods only).
pub fn generate(specs: &[Spec], options: &Options) -> Result<TokenStream, SpecError> {
    generate_family(specs, &[], options)
}

/// Generates the code for methods and events: the per-method modules as [`generate`] does,
/// and, when there are events, an `events` module with one module per event and the `Event`
/// enum that verifies and decodes a handler's POST.
pub fn generate_family(
    specs: &[Spec],
    events: &[EventSpec],
    options: &Options,
) -> Result<TokenStream, SpecError> {
    let mut namespaces: BTreeMap<String, Vec<TokenStream>> = BTreeMap::new();
    let mut client_methods = Vec::new();
    for spec in specs {
        let op = Operation::new(spec)?;
        namespaces
            .entry(spec.namespace().to_string())
            .or_default()
            .push(op.module()?);
        if options.client.is_some() {
            client_methods.push(op.client_method());
        }
    }
    let modules = namespaces.iter().map(|(ns, ops)| {
        let ns_ident = ident(ns);
        let doc = doc_lines(&format!("Methods `{ns}.*`: one module per method."));
        quote! {
            #doc
            pub mod #ns_ident {
                #(#ops)*
            }
        }
    });
    let methods = specs.iter().map(|s| s.method.as_str());
    let visits = specs.iter().map(|s| {
        let (ns, op) = (ident(s.namespace()), ident(&s.operation_name()));
        quote! { visitor.visit::<#ns::#op::Request>(#ns::#op::EXAMPLES); }
    });
    let tracked = options.track_files.iter().map(|p| {
        let p = p.to_string_lossy();
        quote! { const _: &[u8] = ::core::include_bytes!(#p); }
    });
    let client = options.client.as_ref().map(|client| {
        quote! {
            impl #client {
                #(#client_methods)*
            }
        }
    });
    let events = if events.is_empty() {
        None
    } else {
        Some(events_module(events)?)
    };
    Ok(quote! {
        /// Every REST method generated from the spec files, sorted.
        pub const METHODS: &[&str] = &[#(#methods),*];
        /// Calls `visitor` once per generated method, in [`METHODS`] order, with its request
        /// type and documented answers (for code that covers every method, such as tests).
        #[allow(unused_variables)]
        pub fn visit_methods(visitor: &mut impl ::b24_core::MethodVisitor) {
            #(#visits)*
        }
        #(#modules)*
        #events
        #client
        #(#tracked)*
    })
}

/// The `events` module: one module per event and the `Event` enum.
fn events_module(events: &[EventSpec]) -> Result<TokenStream, SpecError> {
    let core = quote!(::b24_core);
    let mut modules = Vec::new();
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    let mut seen_modules = HashSet::new();
    for e in events {
        let module_name = e.module_name();
        if !seen_modules.insert(module_name.clone()) {
            return Err(spec_error(
                &e.location,
                "event",
                format!(
                    "`{}` gives the module `{module_name}`, which another event already has",
                    e.event
                ),
            ));
        }
        let types = TypeGen::new(&e.objects, std::iter::empty());
        let m = ident(&module_name);
        let variant = Ident::new(&pascal_case(&e.event), Span::call_site());
        let event = &e.event;
        let wire = e.wire_name();
        let mut doc = format!("`{}`: {}", e.event, e.summary);
        if let Some(d) = &e.description {
            doc.push_str("\n\n");
            doc.push_str(d.trim());
        }
        doc.push_str(&format!(
            "\n\n* Docs: <{}>\n* Scope: `{}`\n* The portal sends it as `{wire}`.",
            e.docs, e.scope
        ));
        if let Some(a) = &e.access {
            doc.push_str(&format!("\n* Who may subscribe: {a}"));
        }
        let doc = doc_lines(&doc);
        let data_ty = types.rust_type(&e.data.ty);
        let data_doc = doc_lines(&format!(
            "The `data` of `{}`: {}",
            e.event, e.data.description
        ));
        let definitions = types.definitions(&e.objects, &e.enums)?;
        let examples = e.examples.iter().map(|x| {
            let (name, description, body) = (&x.name, &x.description, &x.raw);
            quote! { #core::event::EventExample { name: #name, description: #description, body: #body } }
        });
        modules.push(quote! {
            #doc
            pub mod #m {
                /// The event name as the docs spell it.
                pub const EVENT: &str = #event;
                /// The name the portal sends in `event`.
                pub const WIRE_NAME: &str = #wire;

                #data_doc
                pub type Data = #data_ty;

                /// One verified delivery of this event.
                pub type Delivery = #core::event::Delivery<Data>;

                #definitions

                /// The documented payloads of this event, as written in its spec file.
                pub const EXAMPLES: &[#core::event::EventExample] = &[#(#examples),*];
            }
        });
        let vdoc = doc_lines(&format!("`{}`: {}", e.event, e.summary));
        variants.push(quote! {
            #vdoc
            #variant(#m::Delivery),
        });
        arms.push((variant, m));
    }
    let names = events.iter().map(|e| &e.event);
    let decode_arms = arms.iter().map(|(v, m)| {
        quote! { n if n.eq_ignore_ascii_case(#m::WIRE_NAME) => payload.decode().map(Event::#v), }
    });
    let all = arms.iter().map(|(v, _)| v).collect::<Vec<_>>();
    let m = arms.iter().map(|(_, m)| m).collect::<Vec<_>>();
    Ok(quote! {
        /// Events the portal posts to a subscribed handler: one module per event (its `Data`
        /// type, objects and documented payloads) and [`Event`], which verifies a POST's
        /// `auth[application_token]` and decodes it.
        pub mod events {
            #(#modules)*

            /// Every event generated from the spec files, as the docs spell them.
            pub const EVENTS: &[&str] = &[#(#names),*];

            /// The documented payloads of every event, by event name (for testing a handler
            /// with every payload the docs show).
            pub const EXAMPLES: &[(&str, &[#core::event::EventExample])] = &[#((#m::EVENT, #m::EXAMPLES)),*];

            /// A verified event: one variant per event spec, and `Other` for events no spec
            /// describes (their `data` stays untyped; never an error).
            #[derive(Debug, Clone, PartialEq)]
            #[non_exhaustive]
            #[allow(clippy::large_enum_variant)]
            pub enum Event {
                #(#variants)*
                /// An event no spec file describes, with untyped `data`.
                Other(#core::event::Delivery<#core::__private::serde_json::Value>),
            }

            impl #core::event::EventSet for Event {
                fn decode(payload: #core::event::Verified) -> ::std::result::Result<Self, #core::event::EventError> {
                    match payload.event() {
                        #(#decode_arms)*
                        _ => payload.decode().map(Event::Other),
                    }
                }
            }

            impl Event {
                /// Verifies a handler's POST body against the application's token and decodes
                /// it. The body is the raw request body as the portal sends it (form-encoded
                /// with PHP-style keys; a JSON object is accepted too). A missing or wrong
                /// `auth[application_token]` is [`EventError::Forged`](#core::event::EventError::Forged),
                /// checked in constant time before anything else is decoded.
                pub fn parse(body: &[u8], token: &#core::event::ApplicationToken) -> ::std::result::Result<Self, #core::event::EventError> {
                    #core::event::parse(body, token)
                }

                /// [`Event::parse`] for an application installed on many portals: `lookup`
                /// gives the token stored for the portal the body claims (usually by
                /// `member_id`), or `None` to refuse it.
                pub fn parse_with(
                    body: &[u8],
                    lookup: impl ::std::ops::FnOnce(&#core::event::PortalClaim<'_>) -> ::std::option::Option<#core::event::ApplicationToken>,
                ) -> ::std::result::Result<Self, #core::event::EventError> {
                    #core::event::parse_with(body, lookup)
                }

                /// The event name as the portal sent it (`ONSESSIONSTART`).
                pub fn name(&self) -> &str {
                    match self {
                        #(Event::#all(d) => &d.event,)*
                        Event::Other(d) => &d.event,
                    }
                }

                /// Which portal sent it, and OAuth tokens when the event was caused by a user.
                pub fn auth(&self) -> &#core::event::EventAuth {
                    match self {
                        #(Event::#all(d) => &d.auth,)*
                        Event::Other(d) => &d.auth,
                    }
                }
            }
        }
    })
}

/// Pretty-prints generated tokens as a Rust file (for snapshots and `cargo xtask`).
pub fn pretty(tokens: &TokenStream) -> Result<String, syn::Error> {
    Ok(prettyplease::unparse(&syn::parse2::<syn::File>(
        tokens.clone(),
    )?))
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
];

/// A Rust identifier for a snake_case name; keywords get a trailing `_` (`type` → `type_`).
fn ident(name: &str) -> Ident {
    if KEYWORDS.contains(&name) {
        format_ident!("{}_", name)
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// A field or variable name for a wire key (`CHAT_ID` → `chat_id`, `chatId` → `chat_id`).
fn field_name(wire: &str) -> String {
    let s = snake_case(wire);
    let s: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        format!("f_{s}")
    } else {
        s
    }
}

/// A variant name for a wire value (`owner` → `Owner`, `1` → `V1`, `""` → `Empty`).
fn variant_name(wire: &str) -> String {
    let cleaned: String = wire
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let p = pascal_case(&cleaned);
    if p.is_empty() {
        "Empty".to_string()
    } else if p.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{p}")
    } else {
        p
    }
}

fn doc_lines(text: &str) -> TokenStream {
    let lines = text.lines().map(|l| {
        let l = format!(" {}", l.trim_end());
        quote! { #[doc = #l] }
    });
    quote! { #(#lines)* }
}

fn spec_error(location: &Location, key: &str, message: String) -> SpecError {
    SpecError {
        location: location.clone(),
        key: key.to_string(),
        message,
    }
}

/// Generates the types of one file (objects, enums, Rust type names); shared by methods and
/// events.
struct TypeGen {
    core: TokenStream,
    /// Objects a request parameter contains: they get a constructor and setters.
    param_objects: HashSet<String>,
}

impl TypeGen {
    /// Types for a file whose parameters use `params` (their objects get builders).
    fn new<'t>(objects: &[Object], params: impl IntoIterator<Item = &'t TypeExpr>) -> TypeGen {
        let object = |n: &str| objects.iter().find(|o| o.name == n);
        let mut param_objects = HashSet::new();
        let mut stack: Vec<&TypeExpr> = params.into_iter().collect();
        while let Some(ty) = stack.pop() {
            for n in ty.named() {
                if let Some(o) = object(n) {
                    if param_objects.insert(o.name.clone()) {
                        stack.extend(o.fields.iter().map(|f| &f.ty));
                    }
                }
            }
        }
        TypeGen {
            core: quote!(::b24_core),
            param_objects,
        }
    }

    /// Every named object and enum of a file, in file order.
    fn definitions(&self, objects: &[Object], enums: &[EnumDef]) -> Result<TokenStream, SpecError> {
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

    fn rust_type(&self, ty: &TypeExpr) -> TokenStream {
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
                let i = Ident::new(n, Span::call_site());
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

    /// How a field is stored: containers default to empty, optional or nullable values are
    /// `Option`, the rest are required.
    fn field_shape(&self, ty: &TypeExpr, optional: bool) -> Shape {
        let base = strip_null(ty);
        let defaultable = matches!(
            base,
            TypeExpr::Array(_)
                | TypeExpr::Map(_)
                | TypeExpr::Scalar(Scalar::Object | Scalar::Any | Scalar::File)
        );
        if defaultable {
            Shape::Default
        } else if optional || ty.is_nullable() {
            Shape::Optional
        } else {
            Shape::Required
        }
    }

    fn field_type(&self, ty: &TypeExpr, shape: Shape) -> TokenStream {
        let base = self.rust_type(strip_null(ty));
        match shape {
            Shape::Optional => quote!(::std::option::Option<#base>),
            Shape::Default | Shape::Required => base,
        }
    }

    fn object(&self, o: &Object) -> Result<TokenStream, SpecError> {
        let core = &self.core;
        let name = Ident::new(&o.name, Span::call_site());
        let visitor = format_ident!("__{}Visitor", o.name);
        let mut odoc = o.description.clone();
        if !o.untyped_keys.is_empty() {
            odoc.push_str(&format!(
                "\n\nDeliberately untyped keys (kept in `extra`): {}.",
                code_list(&o.untyped_keys)
            ));
        }
        let odoc = doc_lines(&odoc);
        let mut seen = HashSet::new();
        let mut fields = Vec::new();
        let mut locals = Vec::new();
        let mut exact_arms = Vec::new();
        let mut keys = Vec::new();
        let mut assign_arms = Vec::new();
        let mut inits = Vec::new();
        let mut to_param = Vec::new();
        let mut ctor_args = Vec::new();
        let mut ctor_inits = Vec::new();
        let mut setters = Vec::new();
        for (i, f) in o.fields.iter().enumerate() {
            let mut fname_s = field_name(&f.name);
            // Every object keeps its undescribed keys in `extra`: a documented key named
            // `extra` gets `extra_`, as keywords do (`type` → `type_`), and keeps its wire name.
            if fname_s == "extra" {
                fname_s.push('_');
            }
            if !seen.insert(fname_s.clone()) {
                return Err(spec_error(
                    &f.location,
                    &format!("objects.{}.fields.{}", o.name, f.name),
                    format!(
                        "the key `{}` gives the Rust field `{fname_s}`, which is already taken",
                        f.name
                    ),
                ));
            }
            let fname = ident(&fname_s);
            let shape = self.field_shape(&f.ty, f.optional);
            let ty = self.field_type(&f.ty, shape);
            let fdoc = doc_lines(&field_doc(f));
            let wire = &f.name;
            let rename = (fname != wire.as_str()).then(|| quote! { #[serde(rename = #wire)] });
            fields.push(quote! {
                #fdoc
                #rename
                pub #fname: #ty,
            });
            let local = format_ident!("__f{}", i);
            let idx = i;
            for k in std::iter::once(&f.name).chain(&f.aliases) {
                exact_arms.push(quote! { #k => ::std::option::Option::Some(#idx), });
                keys.push(quote! { (#k, #idx) });
            }
            match shape {
                Shape::Required => {
                    ctor_args.push(quote! { #fname: impl ::std::convert::Into<#ty> });
                    ctor_inits.push(quote! { #fname: #fname.into(), });
                }
                Shape::Optional | Shape::Default => {
                    let (init, inner) = match shape {
                        Shape::Optional => (
                            quote! { ::std::option::Option::None },
                            self.rust_type(strip_null(&f.ty)),
                        ),
                        _ => (quote! { ::std::default::Default::default() }, ty.clone()),
                    };
                    ctor_inits.push(quote! { #fname: #init, });
                    let value = if shape == Shape::Optional {
                        quote! { ::std::option::Option::Some(value.into()) }
                    } else {
                        quote! { value.into() }
                    };
                    let sdoc = doc_lines(&format!("Sets `{}`.", f.name));
                    if fname_s != "new" {
                        setters.push(quote! {
                            #sdoc
                            pub fn #fname(mut self, value: impl ::std::convert::Into<#inner>) -> Self {
                                self.#fname = #value;
                                self
                            }
                        });
                    }
                }
            }
            match shape {
                Shape::Optional => {
                    locals.push(quote! { let mut #local: #ty = ::std::option::Option::None; });
                    assign_arms.push(quote! {
                        ::std::option::Option::Some(#idx) => { #local = map.next_value_seed(#core::__private::Seed::<#ty>::new())?; }
                    });
                    inits.push(quote! { #fname: #local, });
                    to_param.push(quote! {
                        if let ::std::option::Option::Some(v) = &self.#fname {
                            out.insert(::std::string::String::from(#wire), #core::ToParam::to_param(v));
                        }
                    });
                }
                Shape::Required | Shape::Default => {
                    locals.push(
                        quote! { let mut #local: ::std::option::Option<#ty> = ::std::option::Option::None; },
                    );
                    assign_arms.push(quote! {
                        ::std::option::Option::Some(#idx) => { #local = ::std::option::Option::Some(map.next_value_seed(#core::__private::Seed::<#ty>::new())?); }
                    });
                    if shape == Shape::Required {
                        inits.push(quote! {
                            #fname: #local.ok_or_else(|| <A::Error as #core::__private::serde::de::Error>::missing_field(#wire))?,
                        });
                    } else {
                        inits.push(quote! { #fname: #local.unwrap_or_default(), });
                    }
                    if f.optional {
                        to_param.push(quote! {
                            if !#core::ToParam::is_absent(&self.#fname) {
                                out.insert(::std::string::String::from(#wire), #core::ToParam::to_param(&self.#fname));
                            }
                        });
                    } else {
                        to_param.push(quote! {
                            out.insert(::std::string::String::from(#wire), #core::ToParam::to_param(&self.#fname));
                        });
                    }
                }
            }
        }
        let expecting = format!("object {}", o.name);
        let lenient = self.lenient_impls(&name, &visitor, true);
        let builder = self.param_objects.contains(&o.name).then(|| {
            quote! {
                impl #name {
                    /// An object with the required keys; optional ones are set with the
                    /// methods named after them.
                    pub fn new(#(#ctor_args),*) -> Self {
                        Self {
                            #(#ctor_inits)*
                            extra: #core::__private::serde_json::Map::new(),
                        }
                    }
                    #(#setters)*
                }
            }
        });
        Ok(quote! {
            #builder

            #odoc
            #[derive(Debug, Clone, PartialEq, #core::__private::serde::Serialize)]
            #[serde(crate = "::b24_core::__private::serde")]
            #[non_exhaustive]
            pub struct #name {
                #(#fields)*
                /// Keys the spec does not describe, exactly as the portal sent them.
                #[serde(flatten)]
                pub extra: #core::__private::serde_json::Map<::std::string::String, #core::__private::serde_json::Value>,
            }

            #[doc(hidden)]
            #[derive(Default)]
            pub struct #visitor;

            impl<'de> #core::__private::serde::de::Visitor<'de> for #visitor {
                type Value = #name;
                fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(#expecting)
                }
                fn visit_map<A: #core::__private::serde::de::MapAccess<'de>>(self, mut map: A) -> ::std::result::Result<#name, A::Error> {
                    const KEYS: &[(&str, usize)] = &[#(#keys),*];
                    #(#locals)*
                    let mut extra = #core::__private::serde_json::Map::new();
                    while let ::std::option::Option::Some(#core::__private::Key(key)) = map.next_key::<#core::__private::Key<'de>>()? {
                        let index = match &*key {
                            #(#exact_arms)*
                            other => #core::__private::field_index_ignore_case(other, KEYS),
                        };
                        match index {
                            #(#assign_arms)*
                            _ => {
                                let value = map.next_value_seed(#core::__private::Seed::<#core::__private::serde_json::Value>::new())?;
                                extra.insert(key.into_owned(), value);
                            }
                        }
                    }
                    ::std::result::Result::Ok(#name { #(#inits)* extra })
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

            #lenient

            impl #core::ToParam for #name {
                fn to_param(&self) -> #core::__private::serde_json::Value {
                    let mut out = self.extra.clone();
                    #(#to_param)*
                    #core::__private::serde_json::Value::Object(out)
                }
            }
        })
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

    /// A closed set of wire strings plus `Unknown(String)`: the enum, `ALL`, `parse` (the
    /// documented values first, then `Unknown`), `as_str` and `Display`. Enums of values and
    /// error codes are both this; each adds its own trait impls.
    fn string_enum(
        &self,
        name: &Ident,
        doc: TokenStream,
        unknown_doc: &str,
        variants: &[(Ident, String, TokenStream)],
    ) -> TokenStream {
        let decls = variants.iter().map(|(v, _, d)| quote! { #d #v, });
        let parse_arms = variants
            .iter()
            .map(|(v, wire, _)| quote! { #wire => #name::#v, });
        let str_arms = variants
            .iter()
            .map(|(v, wire, _)| quote! { #name::#v => #wire, });
        let all = variants.iter().map(|(v, _, _)| quote! { #name::#v });
        let unknown_doc = doc_lines(unknown_doc);
        quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, Eq, Hash)]
            #[non_exhaustive]
            pub enum #name {
                #(#decls)*
                #unknown_doc
                Unknown(::std::string::String),
            }

            impl #name {
                /// Every documented value.
                pub const ALL: &'static [#name] = &[#(#all),*];

                /// The value for a wire string (documented values first, then `Unknown`).
                pub fn parse(value: &str) -> Self {
                    match value {
                        #(#parse_arms)*
                        other => #name::Unknown(::std::string::String::from(other)),
                    }
                }

                /// The wire string.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(#str_arms)*
                        #name::Unknown(v) => v,
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

    /// Variant names for wire strings; two strings giving one name (or `Unknown`) is a spec
    /// error at `key`.
    fn variants<'v>(
        &self,
        wires: impl Iterator<Item = (&'v str, TokenStream)>,
        location: &Location,
        key: &str,
    ) -> Result<Vec<(Ident, String, TokenStream)>, SpecError> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (wire, doc) in wires {
            let vname = variant_name(wire);
            if !seen.insert(vname.clone()) || vname == "Unknown" {
                return Err(spec_error(
                    location,
                    key,
                    format!("`{wire}` gives the variant `{vname}`, which is already taken"),
                ));
            }
            out.push((Ident::new(&vname, Span::call_site()), wire.to_string(), doc));
        }
        Ok(out)
    }

    fn enum_def(&self, e: &EnumDef) -> Result<TokenStream, SpecError> {
        let core = &self.core;
        let name = Ident::new(&e.name, Span::call_site());
        let visitor = format_ident!("__{}Visitor", e.name);
        let variants = self.variants(
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
        let edoc = doc_lines(&format!(
            "{}\n\nA value the spec does not list decodes as `Unknown`.",
            e.description
        ));
        let base = self.string_enum(
            &name,
            edoc,
            "A value the spec does not document, as sent.",
            &variants,
        );
        let expecting = format!("a value of {}", e.name);
        let lenient = self.lenient_impls(&name, &visitor, false);
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

            impl #core::ToParam for #name {
                fn to_param(&self) -> #core::__private::serde_json::Value {
                    #core::__private::serde_json::Value::String(::std::string::String::from(self.as_str()))
                }
            }
        })
    }
}

/// One method's module and client method.
struct Operation<'a> {
    spec: &'a Spec,
    types: TypeGen,
}

impl std::ops::Deref for Operation<'_> {
    type Target = TypeGen;
    fn deref(&self) -> &TypeGen {
        &self.types
    }
}

impl<'a> Operation<'a> {
    fn new(spec: &'a Spec) -> Result<Self, SpecError> {
        Ok(Operation {
            spec,
            types: TypeGen::new(&spec.objects, spec.params.iter().map(|p| &p.ty)),
        })
    }

    fn module(&self) -> Result<TokenStream, SpecError> {
        let spec = self.spec;
        let core = &self.core;
        let op = ident(&spec.operation_name());
        let method = &spec.method;
        let scope = &spec.scope;
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
        let doc = doc_lines(&doc);
        let request = self.request()?;
        let output = self.rust_type(&self.result_type());
        let kind = match spec.kind {
            MethodKind::Read => quote!(#core::MethodKind::Read),
            MethodKind::Write => quote!(#core::MethodKind::Write),
        };
        let paged = spec.result.paged;
        let result_doc = doc_lines(&format!(
            "The `result` of `{}`: {}",
            spec.method, spec.result.description
        ));
        let definitions = self.definitions(&spec.objects, &spec.enums)?;
        let errors = self.error_codes()?;
        let examples = spec.examples.iter().map(|e| {
            let name = &e.name;
            let status = e.status;
            let body = &e.raw;
            let description = &e.description;
            quote! {
                #core::Example { name: #name, description: #description, status: #status, body: #body }
            }
        });
        let params_body = self.params_body();
        let paged_impl = match self.result_type() {
            TypeExpr::Array(item) if spec.result.paged => {
                let item = self.rust_type(strip_null(&item));
                Some(quote! {
                    impl #core::PagedMethod for Request {
                        type Item = #item;
                    }
                })
            }
            _ => None,
        };
        Ok(quote! {
            #doc
            pub mod #op {
                /// The REST method name.
                pub const METHOD: &str = #method;

                #request

                #result_doc
                pub type Response = #output;

                /// The error of this method: its documented codes, the portal-wide codes,
                /// HTTP, transport and decoding failures.
                pub type Error = #core::Error<ErrorCode>;

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

                #paged_impl

                #definitions
                #errors

                /// The documented answers of this method, as written in its spec file.
                pub const EXAMPLES: &[#core::Example] = &[#(#examples),*];
            }
        })
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

    fn request(&self) -> Result<TokenStream, SpecError> {
        let spec = self.spec;
        let core = &self.core;
        let mut fields = Vec::new();
        let mut ctor_args = Vec::new();
        let mut ctor_inits = Vec::new();
        let mut setters = Vec::new();
        let mut group_enums = Vec::new();
        let mut seen = HashSet::new();
        let mut done_groups = HashSet::new();
        for (i, p) in spec.params.iter().enumerate() {
            let key = format!("params[{i}].name");
            if let Some(g) = spec.group_of(&p.name) {
                if !done_groups.insert(g.name.clone()) {
                    continue;
                }
                let fname = ident(&g.name);
                if !seen.insert(g.name.clone()) {
                    return Err(spec_error(
                        &g.location,
                        "one_of.name",
                        format!("`{}` collides with another request field", g.name),
                    ));
                }
                let enum_name = Ident::new(&pascal_case(&g.name), Span::call_site());
                let gdoc = doc_lines(&g.description);
                fields.push(quote! { #gdoc pub #fname: #enum_name, });
                ctor_args.push(quote! { #fname: impl ::std::convert::Into<#enum_name> });
                ctor_inits.push(quote! { #fname: #fname.into(), });
                let mut variants = Vec::new();
                let mut arms = Vec::new();
                let mut names = Vec::new();
                let mut variant_seen = HashSet::new();
                for member in &g.params {
                    let Some(mp) = spec.params.iter().find(|p| &p.name == member) else {
                        continue;
                    };
                    let vname = variant_name(&mp.name);
                    if !variant_seen.insert(vname.clone()) {
                        return Err(spec_error(
                            &g.location,
                            "one_of.params",
                            format!(
                                "`{}` and another member give the same variant `{vname}`",
                                mp.name
                            ),
                        ));
                    }
                    let v = Ident::new(&vname, Span::call_site());
                    let ty = self.rust_type(strip_null(&mp.ty));
                    let vdoc = doc_lines(&format!("`{}`: {}", mp.name, mp.description));
                    variants.push(quote! { #vdoc #v(#ty), });
                    let wire = &mp.name;
                    arms.push(quote! {
                        #enum_name::#v(v) => (#wire, #core::ToParam::to_param(v)),
                    });
                    names.push(wire.clone());
                }
                let edoc = doc_lines(&format!(
                    "{}\n\nOne of: {}.",
                    g.description,
                    code_list(&names)
                ));
                group_enums.push((enum_name.clone(), fname.clone(), g.params.clone()));
                let group_doc = quote! {
                    #edoc
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
                };
                setters.push(group_doc);
                continue;
            }
            let fname_s = field_name(&p.name);
            if !seen.insert(fname_s.clone()) {
                return Err(spec_error(
                    &p.location,
                    &key,
                    format!("`{}` gives the Rust name `{fname_s}` twice", p.name),
                ));
            }
            let fname = ident(&fname_s);
            let ty = self.rust_type(strip_null(&p.ty));
            let mut pdoc = format!("`{}`: {}", p.name, p.description);
            if let Some(ex) = &p.example {
                pdoc.push_str(&format!("\n\nExample: `{ex}`"));
            }
            let pdoc = doc_lines(&pdoc);
            if p.required {
                fields.push(quote! { #pdoc pub #fname: #ty, });
                ctor_args.push(quote! { #fname: impl ::std::convert::Into<#ty> });
                ctor_inits.push(quote! { #fname: #fname.into(), });
            } else {
                fields.push(quote! { #pdoc pub #fname: ::std::option::Option<#ty>, });
                ctor_inits.push(quote! { #fname: ::std::option::Option::None, });
                let sdoc = doc_lines(&format!("Sets `{}`.", p.name));
                setters.push(quote! {
                    impl Request {
                        #sdoc
                        pub fn #fname(mut self, value: impl ::std::convert::Into<#ty>) -> Self {
                            self.#fname = ::std::option::Option::Some(value.into());
                            self
                        }
                    }
                });
            }
        }
        // Shortcuts when the request is nothing but one choice: `Request::chat_id(1777)`.
        let mut shortcuts = Vec::new();
        if group_enums.len() == 1 && ctor_args.len() == 1 {
            let (enum_name, _, members) = &group_enums[0];
            for member in members {
                let Some(mp) = spec.params.iter().find(|p| &p.name == member) else {
                    continue;
                };
                let fname_s = field_name(&mp.name);
                let f = ident(&fname_s);
                let v = Ident::new(&variant_name(&mp.name), Span::call_site());
                let ty = self.rust_type(strip_null(&mp.ty));
                let sdoc = doc_lines(&format!("A request by `{}`.", mp.name));
                shortcuts.push(quote! {
                    #sdoc
                    pub fn #f(value: impl ::std::convert::Into<#ty>) -> Self {
                        Self::new(#enum_name::#v(value.into()))
                    }
                });
            }
            let from = quote! {
                impl ::std::convert::From<#enum_name> for Request {
                    fn from(value: #enum_name) -> Self {
                        Self::new(value)
                    }
                }
            };
            setters.push(from);
        }
        let rdoc = doc_lines(&format!(
            "Request of `{}`. Build it with [`Request::new`]{}.",
            spec.method,
            if ctor_args.is_empty() {
                " (or `Default`)"
            } else {
                ""
            }
        ));
        let default = ctor_args.is_empty().then(|| {
            quote! {
                impl ::std::default::Default for Request {
                    fn default() -> Self {
                        Self::new()
                    }
                }
            }
        });
        Ok(quote! {
            #rdoc
            #[derive(Debug, Clone, PartialEq)]
            #[non_exhaustive]
            pub struct Request {
                #(#fields)*
            }

            impl Request {
                /// A request with the required parameters; optional ones are set with the
                /// methods named after them.
                pub fn new(#(#ctor_args),*) -> Self {
                    Self { #(#ctor_inits)* }
                }
                #(#shortcuts)*
            }

            #default
            #(#setters)*
        })
    }

    fn params_body(&self) -> TokenStream {
        let spec = self.spec;
        let core = &self.core;
        let mut stmts = Vec::new();
        let mut done_groups = HashSet::new();
        for p in &spec.params {
            if let Some(g) = spec.group_of(&p.name) {
                if done_groups.insert(g.name.clone()) {
                    let f = ident(&g.name);
                    stmts.push(quote! {
                        let (name, value) = self.#f.to_param();
                        params.insert(::std::string::String::from(name), value);
                    });
                }
                continue;
            }
            let f = ident(&field_name(&p.name));
            let wire = &p.name;
            if p.required {
                stmts.push(quote! {
                    params.insert(::std::string::String::from(#wire), #core::ToParam::to_param(&self.#f));
                });
            } else {
                stmts.push(quote! {
                    if let ::std::option::Option::Some(v) = &self.#f {
                        params.insert(::std::string::String::from(#wire), #core::ToParam::to_param(v));
                    }
                });
            }
        }
        quote! {
            let mut params = #core::__private::serde_json::Map::new();
            #(#stmts)*
            params
        }
    }

    fn error_codes(&self) -> Result<TokenStream, SpecError> {
        let core = &self.core;
        let spec = self.spec;
        let name = Ident::new("ErrorCode", Span::call_site());
        let variants = self.variants(
            spec.errors.iter().map(|e| {
                let mut d = format!("`{}` (HTTP {}): {}", e.code, e.status, e.description);
                if let Some(m) = &e.message {
                    d.push_str(&format!("\n\nThe portal says: \"{m}\""));
                }
                if let Some(n) = &e.note {
                    d.push_str(&format!("\n\nNote: {n}"));
                }
                (e.code.as_str(), doc_lines(&d))
            }),
            &spec.location,
            "errors.code",
        )?;
        let status_arms = variants.iter().zip(&spec.errors).map(|((v, _, _), e)| {
            let status = e.status;
            quote! { ErrorCode::#v => ::std::option::Option::Some(#status), }
        });
        let doc = doc_lines(&format!(
            "Error codes `{}` documents. Portal-wide codes (`QUERY_LIMIT_EXCEEDED`, \
             `expired_token`...) are [`{core}::PortalErrorCode`]; a code neither documents is \
             `Unknown`.",
            spec.method,
            core = "b24_core"
        ));
        let base = self.string_enum(
            &name,
            doc,
            "A code neither this method nor the portal documents, as sent.",
            &variants,
        );
        Ok(quote! {
            #base

            impl #core::MethodErrorCode for ErrorCode {
                fn documented(code: &str) -> ::std::option::Option<Self> {
                    match ErrorCode::parse(code) {
                        ErrorCode::Unknown(_) => ::std::option::Option::None,
                        documented => ::std::option::Option::Some(documented),
                    }
                }
                fn unknown(code: ::std::string::String) -> Self {
                    ErrorCode::Unknown(code)
                }
                fn as_str(&self) -> &str {
                    ErrorCode::as_str(self)
                }
                fn documented_status(&self) -> ::std::option::Option<u16> {
                    match self {
                        #(#status_arms)*
                        ErrorCode::Unknown(_) => ::std::option::Option::None,
                    }
                }
            }
        })
    }

    fn client_method(&self) -> TokenStream {
        let spec = self.spec;
        let core = &self.core;
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Required,
    Optional,
    Default,
}

fn strip_null(ty: &TypeExpr) -> &TypeExpr {
    match ty {
        TypeExpr::Nullable(t) => t,
        t => t,
    }
}

/// `a`, `b`, `c` as inline code, for generated docs.
fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

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
