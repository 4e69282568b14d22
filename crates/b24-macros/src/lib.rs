//! `generate!`: reads a folder of spec files at compile time and expands the typed code
//! `b24-codegen` makes of them. A thin shim: all logic lives in `b24-spec` and `b24-codegen`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::{Path, PathBuf};

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

/// Generates typed request, response and error types for every method spec in a folder, and
/// the `events` module for its event specs (`spec/events/*.toml`).
///
/// ```text
/// b24_macros::generate!(spec = "spec", client = crate::Client);
/// ```
///
/// * `spec`: folder of `*.toml` spec files, relative to the crate's `Cargo.toml`
///   (`CARGO_MANIFEST_DIR`); absolute paths are refused so the crate builds anywhere.
/// * `client` (optional): a type to add one `async fn` per method to; it must implement
///   `b24_core::Call`, which the methods send their requests through.
/// * `base` (optional): `manifest` (default) resolves `spec` against `CARGO_MANIFEST_DIR`;
///   `file` resolves it against the folder of the file invoking the macro, like
///   `include_str!` (used by compile-fail tests, whose crate lives elsewhere).
///
/// Every spec file is tracked with `include_bytes!`, so editing one rebuilds the crate; a
/// `build.rs` with `cargo:rerun-if-changed=<folder>` catches added and removed files. A
/// mistake in a spec is a compile error naming the file, line, column and key.
#[proc_macro]
pub fn generate(input: TokenStream) -> TokenStream {
    let args = syn::parse_macro_input!(input as Args);
    match expand(&args) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

struct Args {
    spec: LitStr,
    client: Option<syn::Path>,
    base_is_file: bool,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut spec = None;
        let mut client = None;
        let mut base_is_file = false;
        while !input.is_empty() {
            let key: syn::Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "spec" => spec = Some(input.parse::<LitStr>()?),
                "client" => client = Some(input.parse::<syn::Path>()?),
                "base" => {
                    let base: syn::Ident = input.parse()?;
                    base_is_file = match base.to_string().as_str() {
                        "manifest" => false,
                        "file" => true,
                        other => {
                            return Err(syn::Error::new(
                                base.span(),
                                format!("unknown base `{other}`; expected `manifest` or `file`"),
                            ))
                        }
                    };
                }
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown argument `{other}`; expected `spec`, `client` or `base`"),
                    ))
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        let spec = spec.ok_or_else(|| {
            syn::Error::new(
                proc_macro2::Span::call_site(),
                "missing `spec = \"<folder>\"` (relative to Cargo.toml)",
            )
        })?;
        Ok(Args {
            spec,
            client,
            base_is_file,
        })
    }
}

fn expand(args: &Args) -> syn::Result<proc_macro2::TokenStream> {
    let span = args.spec.span();
    let manifest_dir = if args.base_is_file {
        proc_macro::Span::call_site()
            .local_file()
            .and_then(|f| f.parent().map(Path::to_path_buf))
            .ok_or_else(|| syn::Error::new(span, "the invoking file is not on disk"))?
    } else {
        std::env::var("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .map_err(|_| syn::Error::new(span, "CARGO_MANIFEST_DIR is not set; build with cargo"))?
    };
    let rel = args.spec.value();
    if Path::new(&rel).is_absolute() {
        return Err(syn::Error::new(
            span,
            format!("`{rel}` is absolute; give the spec folder relative to Cargo.toml"),
        ));
    }
    // Absolute paths, so the `include_bytes!` that track the files resolve from anywhere
    // (rustc reports the invoking file relative to its working directory).
    let manifest_dir = manifest_dir.canonicalize().unwrap_or(manifest_dir);
    let dir = manifest_dir.join(&rel);
    if !dir.is_dir() {
        return Err(syn::Error::new(
            span,
            format!("spec folder `{rel}` not found"),
        ));
    }
    let family = b24_spec::load_family(&dir, &manifest_dir)
        .map_err(|e| syn::Error::new(span, format!("spec error: {e}")))?;
    let track_files = b24_spec::spec_files(&dir)
        .map_err(|e| syn::Error::new(span, format!("spec error: {e}")))?;
    let options = b24_codegen::Options {
        client: args.client.clone(),
        track_files,
    };
    let code = b24_codegen::generate_family(&family.methods, &family.events, &options)
        .map_err(|e| syn::Error::new(span, format!("spec error: {e}")))?;
    Ok(quote! { #code })
}
