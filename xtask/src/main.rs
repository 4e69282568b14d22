//! `cargo xtask`: maintainer commands over `spec/` and the official docs.
//!
//! * `import PAGE.md... [--out DIR]`: docs pages → spec files (valid, with `TODO(review)`
//!   comments where the importer guessed);
//! * `check [--spec DIR]`: every spec validates and every documented example decodes into
//!   its type (CI runs it);
//! * `drift DOCS_DIR [--spec DIR]`: what a docs checkout says that a spec folder does not.
//!
//! The logic lives in `b24-docs-import`; this is its command line. See `xtask/README.md`.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use b24_docs_import::drift::{DriftOptions, DriftReport};
use clap::{Parser, Subcommand};

/// Maintainer commands of the Bitrix24 open-lines client.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Turn official docs pages into spec files.
    ///
    /// Reads each page (today's template or the 2024 one), writes `<out>/<namespace>/<method>.toml`
    /// after validating it, and prints what it had to guess; the same notes are
    /// `# TODO(review): ...` comments in the file. A page it cannot read is reported with its
    /// line and nothing is written for it. Exit code 1 if any page failed.
    Import {
        /// Docs pages (`.../api-reference/imopenlines/**/*.md`).
        #[arg(required_unless_present = "corpus")]
        pages: Vec<PathBuf>,
        /// Import every page of a docs folder and print one table per docs revision: pages,
        /// method pages, imported clean, imported with TODO(review), failed (grouped by cause,
        /// one example page each) and non-method pages (overviews, events, fragments, how-tos)
        /// skipped. A folder holding `api-reference/` is one revision; a folder of such
        /// folders (`corpus/`) gives one table each. Nothing is written unless `--out` is
        /// given. Repeatable.
        #[arg(long, value_name = "DIR")]
        corpus: Vec<PathBuf>,
        /// Spec directory to write into (with `--corpus`: only when given).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace spec files that already exist (by default they are left alone).
        #[arg(long)]
        force: bool,
        /// Print what would be written instead of writing it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Validate every spec and decode every documented example into its type.
    ///
    /// Exit code 1 on any error: a spec that does not validate, an example value that does not
    /// decode under the client's lenient rules, a key present in an example but neither
    /// described nor listed in the object's `untyped_keys`, an error example whose code is
    /// neither the method's nor portal-wide.
    Check {
        /// Spec directory.
        #[arg(long, default_value = "spec")]
        spec: PathBuf,
    },
    /// Compare a spec folder with a docs checkout and print what was added, removed or changed.
    ///
    /// Works for any spec folder (open lines, tasks, disk, user, ...) against any checkout
    /// (today's docs, the 2024 template, the English translation `en/`). Walks all of
    /// DOCS_DIR/api-reference/ once, learns each page's method from the importer, finds each
    /// spec's page by its method name wherever it lies (falling back to the file the spec's
    /// `docs` URL names), imports it in memory and diffs it against the spec. Only facts are
    /// compared: names, types, required, scopes, error codes and statuses; never descriptions
    /// or error messages, so the English translation's wording is never drift.
    ///
    /// A spec whose page is gone is reported as removed; one whose whole section folder the
    /// checkout does not hold is a reviewed difference. A page the importer cannot read, or
    /// of which it read none of the names of one table (a wording it does not know yet), is
    /// an unreadable page, reported with the reason. Differences on spec keys or error codes
    /// that carry a `note` are reviewed differences and do not count. Docs-only methods are
    /// listed only within the sections the specs cover (the folders under api-reference/
    /// their pages lie in, and their methods' namespaces). Exit code 1 on drift or on an
    /// unreadable page.
    Drift {
        /// A docs checkout: the folder holding `api-reference/` (e.g.
        /// `../shared/b24-rest-docs/current`, `.../2024-09-06`, `.../en`, `.../corpus/current`).
        docs_dir: PathBuf,
        /// Spec directory (any folder of spec files, not only `spec/`).
        #[arg(long, default_value = "spec")]
        spec: PathBuf,
        /// Only compare methods that have a spec (do not list docs-only methods).
        #[arg(long)]
        only_specced: bool,
        /// Only this method (repeatable).
        #[arg(long = "method")]
        methods: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ok = match cli.command {
        Command::Import {
            pages,
            corpus,
            out,
            force,
            dry_run,
        } => {
            let pages_ok = pages.is_empty()
                || import(
                    &pages,
                    out.as_deref().unwrap_or(Path::new("spec")),
                    force,
                    dry_run,
                );
            let corpus_ok = corpus
                .iter()
                .all(|dir| import_corpus(dir, out.as_deref(), force));
            pages_ok && corpus_ok
        }
        Command::Check { spec } => check(&spec),
        Command::Drift {
            docs_dir,
            spec,
            only_specced,
            methods,
        } => drift(
            &docs_dir,
            &spec,
            &DriftOptions {
                only_specced,
                methods,
            },
        ),
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn import(pages: &[PathBuf], out: &Path, force: bool, dry_run: bool) -> bool {
    let mut failed = 0;
    let mut written = 0;
    let mut with_todos = 0;
    for page in pages {
        match b24_docs_import::import_file(page) {
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
            }
            Ok(imp) => {
                let target = out.join(imp.relative_path());
                for w in imp.warnings() {
                    eprintln!("warning: {}:{}", page.display(), w);
                }
                if !imp.warnings().is_empty() {
                    with_todos += 1;
                }
                if dry_run {
                    println!("# ---- {}", target.display());
                    print!("{}", imp.toml);
                    continue;
                }
                match write_spec(&target, &imp.toml, force) {
                    Err(()) => {
                        failed += 1;
                    }
                    Ok(()) => {
                        written += 1;
                        println!(
                            "{} -> {} ({} TODO)",
                            page.display(),
                            target.display(),
                            imp.warnings().len()
                        );
                    }
                }
            }
        }
    }
    eprintln!(
        "{} pages: {written} written, {with_todos} with TODO(review), {failed} failed",
        pages.len()
    );
    failed == 0
}

/// Writes one spec file (creating its folder); an existing file only with `force`. A refusal
/// or a failure is printed.
fn write_spec(target: &Path, toml: &str, force: bool) -> Result<(), ()> {
    if target.exists() && !force {
        eprintln!(
            "error: {} exists; not overwritten (pass --force to replace it)",
            target.display()
        );
        return Err(());
    }
    target
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(target, toml))
        .map_err(|e| eprintln!("error: cannot write {}: {e}", target.display()))
}

fn import_corpus(dir: &Path, out: Option<&Path>, force: bool) -> bool {
    let mut ok = true;
    for root in b24_docs_import::corpus::corpus_roots(dir) {
        let report = b24_docs_import::corpus::import_corpus(&root);
        println!("{report}");
        for (method, pages) in report.duplicates() {
            let list: Vec<String> = pages.iter().map(|p| p.display().to_string()).collect();
            println!(
                "note: `{method}` is documented by {} pages: {}",
                pages.len(),
                list.join(", ")
            );
        }
        ok &= report.failed() == 0;
        let Some(out) = out else { continue };
        let mut written = 0;
        let mut seen = std::collections::HashSet::new();
        for imp in report.imported() {
            let target = out.join(imp.relative_path());
            if !seen.insert(target.clone()) {
                eprintln!(
                    "note: {} not written for {}: an earlier page of the same method wrote it",
                    target.display(),
                    imp.page.display()
                );
                continue;
            }
            match write_spec(&target, &imp.toml, force) {
                Ok(()) => written += 1,
                Err(()) => ok = false,
            }
        }
        println!("{written} spec files written under {}", out.display());
    }
    ok
}

fn check(spec: &Path) -> bool {
    let base = spec.parent().unwrap_or(Path::new("."));
    let report = b24_docs_import::check::check_dir(spec, base);
    for p in &report.problems {
        eprintln!("{p}");
    }
    let errors = report.problems.iter().filter(|p| p.is_error).count();
    eprintln!(
        "{} spec files ({} methods, {} events), {} examples: {errors} errors, {} warnings",
        report.files,
        report.files - report.events,
        report.events,
        report.examples,
        report.problems.len() - errors
    );
    !report.failed()
}

fn drift(docs: &Path, spec: &Path, opts: &DriftOptions) -> bool {
    let base = spec.parent().unwrap_or(Path::new("."));
    let specs = match b24_spec::load_dir(spec, base) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return false;
        }
    };
    let report: DriftReport = b24_docs_import::drift::drift(&specs, docs, opts);
    println!("{report}");
    !report.drifted()
}
