//! The generated docs are English. For every file of `spec/`, the code `b24-codegen` generates
//! from it (with the client's methods) is walked token by token; every doc comment
//! (`#[doc = "..."]`, which is what `///` is) must be free of Cyrillic outside a code span.
//! Inside backticks Cyrillic marks a literal value: a message the portal returns, an example,
//! a quoted heading (the rule of `b24_spec::prose`, stated in `spec/README.md`).

use std::path::{Path, PathBuf};

use b24_codegen::Options;
use b24_spec::prose::cyrillic_outside_code;
use b24_spec::SpecFile;
use proc_macro2::{Delimiter, TokenStream, TokenTree};

fn workspace_root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).to_path_buf()
}

/// The text of a `doc = "..."` attribute body.
fn doc_text(attr: &TokenStream) -> Option<String> {
    let tokens: Vec<TokenTree> = attr.clone().into_iter().collect();
    match tokens.as_slice() {
        [TokenTree::Ident(name), TokenTree::Punct(eq), TokenTree::Literal(lit)]
            if name == "doc" && eq.as_char() == '=' =>
        {
            let lit: syn::LitStr = syn::parse2(TokenTree::Literal(lit.clone()).into()).ok()?;
            Some(lit.value())
        }
        _ => None,
    }
}

/// Every doc comment in `tokens`, at any depth: the consecutive `#[doc]` attributes of one
/// item (or `#![doc]` ones of the enclosing item) joined by newlines, as rustdoc joins them.
fn doc_comments(tokens: TokenStream, out: &mut Vec<String>) {
    let mut current: Vec<String> = Vec::new();
    let mut current_inner = false;
    let flush = |current: &mut Vec<String>, out: &mut Vec<String>| {
        if !current.is_empty() {
            out.push(current.join("\n"));
            current.clear();
        }
    };
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                let inner = matches!(iter.peek(), Some(TokenTree::Punct(b)) if b.as_char() == '!');
                if inner {
                    iter.next();
                }
                match iter.next() {
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Bracket => {
                        match doc_text(&g.stream()) {
                            Some(text) => {
                                if inner != current_inner {
                                    flush(&mut current, out);
                                    current_inner = inner;
                                }
                                current.push(text);
                            }
                            None => {
                                flush(&mut current, out);
                                doc_comments(g.stream(), out);
                            }
                        }
                    }
                    Some(TokenTree::Group(g)) => {
                        flush(&mut current, out);
                        doc_comments(g.stream(), out);
                    }
                    _ => flush(&mut current, out),
                }
            }
            TokenTree::Group(g) => {
                flush(&mut current, out);
                doc_comments(g.stream(), out);
            }
            _ => flush(&mut current, out),
        }
    }
    flush(&mut current, out);
}

/// The code generated from one spec file: a method's module and client method, or an event's
/// module and its `Event` enum.
fn generated(path: &Path) -> TokenStream {
    let root = workspace_root();
    let display = path.strip_prefix(&root).unwrap_or(path);
    let file = b24_spec::load_any_file(path, display).unwrap_or_else(|e| panic!("{e}"));
    let options = Options {
        client: Some(syn::parse_quote!(Client)),
        ..Options::default()
    };
    match file {
        SpecFile::Method(spec) => b24_codegen::generate(&[spec], &options),
        SpecFile::Event(event) => b24_codegen::generate_family(&[], &[event], &options),
    }
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn generated_docs_have_no_cyrillic_outside_code_spans() {
    let files =
        b24_spec::spec_files(&workspace_root().join("spec")).unwrap_or_else(|e| panic!("{e}"));
    assert!(files.len() >= 60, "{} spec files", files.len());
    let mut failures = Vec::new();
    let mut docs_seen = 0;
    for path in &files {
        let mut docs = Vec::new();
        doc_comments(generated(path), &mut docs);
        // Each file's module and types are documented: a walk that finds nothing is broken.
        assert!(
            docs.len() >= 5,
            "{}: {} doc comments",
            path.display(),
            docs.len()
        );
        docs_seen += docs.len();
        for doc in docs {
            if let Some(line) = cyrillic_outside_code(&doc) {
                let rel = path.strip_prefix(workspace_root()).unwrap_or(path);
                failures.push(format!("{}: {line}", rel.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {docs_seen} generated doc comments have Cyrillic outside a code span; write them \
         in English in the spec (a literal value goes in backticks):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_walk_finds_doc_comments_at_any_depth_and_joins_an_items_lines() {
    let tokens: TokenStream = syn::parse_quote! {
        //! Модуль.
        /// First line
        /// `Чат` and Чат
        #[derive(Debug)]
        /// After another attribute
        pub struct A {
            /// Поле `a`.
            pub a: i64,
        }
        mod inner {
            #![doc = "Внутри"]
            impl B { #[doc = "deep"] fn f() {} }
        }
    };
    let mut docs = Vec::new();
    doc_comments(tokens, &mut docs);
    assert_eq!(
        docs,
        [
            " Модуль.",
            " First line\n `Чат` and Чат",
            " After another attribute",
            " Поле `a`.",
            "Внутри",
            "deep",
        ]
    );
    let found: Vec<Option<String>> = docs.iter().map(|d| cyrillic_outside_code(d)).collect();
    assert_eq!(
        found,
        [
            Some("Модуль.".to_string()),
            Some("`Чат` and Чат".to_string()),
            None,
            Some("Поле `a`.".to_string()),
            Some("Внутри".to_string()),
            None,
        ]
    );
}
