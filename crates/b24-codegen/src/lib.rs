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
//!
//! One module per job: [`generate_family`] puts the whole family together (`family`) from
//! the method modules (`method`), their requests (`request`), the types of a spec file
//! (`types`), the `events` module (`events`) and the client's methods (`client`); `names`
//! makes identifiers and `docs` writes doc comments.
//!
//! The rules are `b24_spec`'s: the Rust name of a wire name is [`b24_spec::names`], how a key
//! or parameter is held and which values are "none" is [`b24_spec::wire`], and every clash of
//! names is refused there, at the key of the spec file, before anything is generated.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod docs;
mod events;
mod family;
mod method;
mod names;
mod request;
mod types;

use std::path::PathBuf;

use b24_spec::{Spec, SpecError};
use proc_macro2::TokenStream;

pub use family::generate_family;

/// What to generate besides the per-method modules.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A type to add one `async fn <rust_name>(&self, request)` per method to. It must
    /// implement `b24_core::Call`; the methods send their request through it.
    pub client: Option<syn::Path>,
    /// Spec files to track with `include_bytes!` so editing one rebuilds the crate.
    pub track_files: Vec<PathBuf>,
}

/// Generates the code for `specs` (methods only).
pub fn generate(specs: &[Spec], options: &Options) -> Result<TokenStream, SpecError> {
    generate_family(specs, &[], options)
}

/// Pretty-prints generated tokens as a Rust file (for snapshots and `cargo xtask`).
pub fn pretty(tokens: &TokenStream) -> Result<String, syn::Error> {
    Ok(prettyplease::unparse(&syn::parse2::<syn::File>(
        tokens.clone(),
    )?))
}
