//! Model, parser and validator of the declarative Bitrix24 REST method specs.
//!
//! A spec file (`spec/<namespace>/<method>.toml`) describes one REST method: its parameters,
//! the shape of its `result`, its error codes and its documented examples. `spec/README.md`
//! documents the format. This crate turns the files into a validated [`Spec`]; every mistake
//! is a [`SpecError`] naming the file, line, column and dotted key.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod model;
mod parse;
mod types;

use std::fmt;
use std::path::{Path, PathBuf};

pub use model::*;
pub use parse::parse_spec;
pub use types::{is_type_name, Scalar, TypeExpr};

/// A mistake in a spec file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// File, line and column.
    pub location: Location,
    /// Dotted key the mistake is about (`objects.Dialog.fields.id.type`); empty for syntax
    /// errors.
    pub key: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(f, "{}: {}: {}", self.location, self.key, self.message)
        }
    }
}

impl std::error::Error for SpecError {}

impl SpecError {
    fn io(file: &Path, e: &std::io::Error) -> SpecError {
        SpecError {
            location: Location {
                file: file.to_path_buf(),
                line: 0,
                column: 0,
            },
            key: String::new(),
            message: format!("cannot read: {e}"),
        }
    }
}

/// Reads and validates one spec file. `display` is how the file is named in messages.
pub fn load_file(path: &Path, display: &Path) -> Result<Spec, SpecError> {
    let src = std::fs::read_to_string(path).map_err(|e| SpecError::io(display, &e))?;
    parse_spec(display, &src)
}

/// Every `*.toml` file under `dir`, recursively, sorted by path.
pub fn spec_files(dir: &Path) -> Result<Vec<PathBuf>, SpecError> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| SpecError::io(&d, &e))?;
        for entry in entries {
            let entry = entry.map_err(|e| SpecError::io(&d, &e))?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads every spec under `dir`. File names in messages are shown relative to `base`.
///
/// Two files describing the same method (or the same client method name) are an error.
pub fn load_dir(dir: &Path, base: &Path) -> Result<Vec<Spec>, SpecError> {
    let mut specs: Vec<Spec> = Vec::new();
    for path in spec_files(dir)? {
        let display = path.strip_prefix(base).unwrap_or(&path).to_path_buf();
        let spec = load_file(&path, &display)?;
        if let Some(other) = specs
            .iter()
            .find(|s| s.method.eq_ignore_ascii_case(&spec.method) || s.rust_name == spec.rust_name)
        {
            return Err(SpecError {
                location: spec.location.clone(),
                key: "method".into(),
                message: format!(
                    "`{}` (client method `{}`) is already described by {}",
                    spec.method,
                    spec.rust_name,
                    other.location.file.display()
                ),
            });
        }
        specs.push(spec);
    }
    Ok(specs)
}
