//! Maintainer tooling over the official Bitrix24 REST docs (`cargo xtask`):
//!
//! * [`import_page`] reads a docs page (either template: today's or the 2024 one) into a
//!   `b24_spec::Spec` with [`Notes`] beside it (what it had to guess, item by item),
//!   cross-checks the result schema against the page's own JSON examples, and writes the spec
//!   file with `b24_spec::render`, every guess a `# TODO(review): ...` comment;
//! * [`page`] tells a method page from an overview, event, fragment or how-to, by rule;
//! * [`corpus`] imports every page of a docs folder and counts the outcomes
//!   (`cargo xtask import --corpus`);
//! * [`english`] takes summaries and descriptions from the English translation beside the
//!   checkout, the facts from the Russian page;
//! * [`check`] walks every documented example of `spec/` against its spec's types with the
//!   client's lenient decoding rules;
//! * [`drift`] compares any spec folder with any docs checkout.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod check;
pub mod corpus;
pub mod drift;
pub mod english;
pub mod import;
pub mod markdown;
pub mod notes;
pub mod page;
mod reconcile;

use std::path::{Path, PathBuf};

use b24_spec::Spec;

pub use import::{docs_root_of, page_method, DocsContext, Draft, ImportError};
pub use notes::{Notes, Target, Template, Warning};

/// A page turned into a valid spec.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The page, as the caller named it.
    pub page: PathBuf,
    /// The template the page follows.
    pub template: Template,
    /// The spec, as read back from [`Imported::toml`] (parsed and validated).
    pub spec: Spec,
    /// What the importer had to guess, item by item: the `TODO(review)` comments of the file,
    /// and which types and statuses the page does not state.
    pub notes: Notes,
    /// The spec file's text.
    pub toml: String,
}

impl Imported {
    /// What the importer had to guess, in order, with the page lines.
    pub fn warnings(&self) -> &[Warning] {
        self.notes.warnings()
    }

    /// The spec's path under a spec directory: `<namespace>/<method without namespace>.toml`.
    pub fn relative_path(&self) -> PathBuf {
        spec_path(&self.spec.method)
    }
}

/// `imopenlines.dialog.get` → `imopenlines/dialog.get.toml`.
pub fn spec_path(method: &str) -> PathBuf {
    match method.split_once('.') {
        Some((ns, rest)) => Path::new(ns).join(format!("{rest}.toml")),
        None => PathBuf::from(format!("{method}.toml")),
    }
}

/// Reads a page from disk and imports it; the docs checkout is found from the page's path.
pub fn import_file(page: &Path) -> Result<Imported, ImportError> {
    let src = std::fs::read_to_string(page).map_err(|e| ImportError {
        page: page.to_path_buf(),
        line: 0,
        expected: format!("a readable file ({e})"),
    })?;
    let cx = DocsContext {
        root: docs_root_of(page),
    };
    import_page(page, &src, &cx)
}

/// Imports one page: reads it into a spec ([`import::read_page`]), cross-checks the result
/// schema with the page's success examples in one walk (adjusting what disagrees, with a
/// `TODO(review)` each), takes the summary and descriptions from the English translation when
/// the checkout has one beside it ([`english`]), writes the spec file
/// (`b24_spec::render`) and validates it with `b24_spec::parse_spec`. Nothing is written
/// to disk here.
pub fn import_page(page: &Path, src: &str, cx: &DocsContext) -> Result<Imported, ImportError> {
    let mut draft = import::read_page(page, src, cx)?;
    reconcile::reconcile(&mut draft.spec, &mut draft.notes).map_err(|expected| ImportError {
        page: page.to_path_buf(),
        line: 0,
        expected,
    })?;
    // The translation follows today's page; a page in the 2024 template keeps its own text.
    if draft.template != Template::Legacy2024 {
        translate(page, cx, &mut draft);
    }
    write(draft)
}

/// The English page's descriptions, when the checkout has the page in English.
fn translate(page: &Path, cx: &DocsContext, draft: &mut Draft) {
    let Some(en_page) = english::english_page(page, cx.root.as_deref()) else {
        return;
    };
    let en = std::fs::read_to_string(&en_page).ok().and_then(|en_src| {
        let en_cx = DocsContext {
            root: docs_root_of(&en_page),
        };
        import::read_page(&en_page, &en_src, &en_cx).ok()
    });
    match en {
        Some(en) => {
            english::apply(&mut draft.spec, &mut draft.notes, &en.spec, &en_page);
        }
        None => {
            let message = format!(
                "the English page {} could not be read: the descriptions stay Russian",
                en_page.display()
            );
            draft.notes.note(Target::Method, 0, message);
        }
    }
}

/// The spec file of a draft, with its header and notes, validated.
fn write(draft: Draft) -> Result<Imported, ImportError> {
    let Draft {
        page,
        source,
        template,
        spec,
        notes,
    } = draft;
    let source = source.unwrap_or_else(|| page.display().to_string());
    let header = vec![
        format!(
            "{} — imported by `cargo xtask import` from the official docs page",
            spec.method
        ),
        format!("  {source} ({} template).", template.as_str()),
        "Review every `TODO(review)` comment, fix what it points at, then delete the comment."
            .to_string(),
    ];
    let comments = |item: b24_spec::render::Item<'_>| match item {
        b24_spec::render::Item::File => header.clone(),
        item => notes.comments(item),
    };
    let toml = b24_spec::render::to_toml(&spec, &comments);
    let spec = b24_spec::parse_spec(&page, &toml).map_err(|e| ImportError {
        page: page.clone(),
        line: 0,
        expected: format!("a page that gives a valid spec; the generated spec is invalid: {e}"),
    })?;
    Ok(Imported {
        page,
        template,
        spec,
        notes,
        toml,
    })
}
