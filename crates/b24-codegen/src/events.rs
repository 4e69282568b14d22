//! The `events` module: one module per event (its `Data` type, objects and documented
//! payloads) and the `Event` enum that verifies and decodes a handler's POST.

use b24_spec::{pascal_case, EventSpec};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::docs::doc_lines;
use crate::names::{core, ident, type_ident};
use crate::types::Types;

/// One event as the `Event` enum sees it.
struct EventEntry<'a> {
    spec: &'a EventSpec,
    /// Its module (`on_im_connector_message_add`).
    module: Ident,
    /// Its variant of `Event` (`OnImConnectorMessageAdd`).
    variant: Ident,
}

/// The `events` module. Events of one `b24_spec::Family` have distinct module names: two
/// names giving one module differ only in case, which the family refuses.
pub(crate) fn events_module(events: &[EventSpec]) -> TokenStream {
    let entries: Vec<EventEntry> = events
        .iter()
        .map(|e| EventEntry {
            spec: e,
            module: ident(&e.module_name()),
            variant: type_ident(&pascal_case(&e.event)),
        })
        .collect();
    let modules = entries.iter().map(event_module);
    let event_enum = event_enum(&entries);
    let core = core();
    let names = events.iter().map(|e| &e.event);
    let m = entries.iter().map(|e| &e.module);
    quote! {
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

            #event_enum
        }
    }
}

/// The module of one event: its names, `Data`, `Delivery`, types and `EXAMPLES`.
fn event_module(entry: &EventEntry) -> TokenStream {
    let core = core();
    let e = entry.spec;
    let m = &entry.module;
    let types = Types::new(&e.objects, std::iter::empty());
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
    let definitions = types.definitions(&e.objects, &e.enums);
    let examples = e.examples.iter().map(|x| {
        let (name, description, body) = (&x.name, &x.description, &x.raw);
        quote! { #core::event::EventExample { name: #name, description: #description, body: #body } }
    });
    quote! {
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
    }
}

/// `Event`: a variant per event and `Other`, with the parser and accessors.
fn event_enum(entries: &[EventEntry]) -> TokenStream {
    let core = core();
    let variants = entries.iter().map(|entry| {
        let (v, m) = (&entry.variant, &entry.module);
        let doc = doc_lines(&format!("`{}`: {}", entry.spec.event, entry.spec.summary));
        quote! {
            #doc
            #v(#m::Delivery),
        }
    });
    let decode_arms = entries.iter().map(|entry| {
        let (v, m) = (&entry.variant, &entry.module);
        quote! { n if n.eq_ignore_ascii_case(#m::WIRE_NAME) => payload.decode().map(Event::#v), }
    });
    let all: Vec<&Ident> = entries.iter().map(|e| &e.variant).collect();
    quote! {
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
}
