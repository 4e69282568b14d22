//! Model, parser and validator of the declarative Bitrix24 REST method specs.
//!
//! A spec file (`spec/<namespace>/<method>.toml`) describes one REST method: its parameters,
//! the shape of its `result`, its error codes and its documented examples; an event file
//! (`spec/events/<Event>.toml`) describes the `data` of one event the portal posts to a
//! handler. `spec/README.md` documents the format. This crate turns the files into a validated
//! [`Spec`]; every mistake is a [`SpecError`] naming the file, line, column and dotted key.
//!
//! [`render`] writes a model back as a spec file: the format's one writer, next to its one
//! reader, so a new key is added to the model, [`parse_file`] and [`render`].
//!
//! It is also the one answer to what a spec means for the code made from it: [`names`] gives
//! the generated Rust names and the names a spec may not use, [`wire`] the shape of a key or a
//! parameter in Rust, which values are "none" and which values a scalar type accepts.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod located;
mod model;
pub mod names;
mod parse;
pub mod prose;
mod raw;
pub mod render;
mod types;
mod validate;
pub mod wire;

use std::fmt;
use std::path::{Path, PathBuf};

pub use model::*;
pub use parse::{parse_file, parse_spec, MAX_VALUE_DEPTH};
pub use types::{is_type_name, Scalar, TypeExpr, MAX_TYPE_DEPTH};

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

/// Reads and validates one method spec file. `display` is how the file is named in messages.
pub fn load_file(path: &Path, display: &Path) -> Result<Spec, SpecError> {
    let src = std::fs::read_to_string(path).map_err(|e| SpecError::io(display, &e))?;
    parse_spec(display, &src)
}

/// Reads and validates one spec file, method or event (see [`parse_file`]).
pub fn load_any_file(path: &Path, display: &Path) -> Result<SpecFile, SpecError> {
    let src = std::fs::read_to_string(path).map_err(|e| SpecError::io(display, &e))?;
    parse_file(display, &src)
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

/// Reads every method spec under `dir`, skipping event specs (see [`load_family`]). File
/// names in messages are shown relative to `base`.
///
/// Two files describing the same method (or the same client method name) are an error.
pub fn load_dir(dir: &Path, base: &Path) -> Result<Vec<Spec>, SpecError> {
    load_family(dir, base).map(|f| f.methods)
}

/// Every method and event spec under a folder.
#[derive(Debug, Clone, Default)]
pub struct Family {
    /// Method specs, sorted by path.
    pub methods: Vec<Spec>,
    /// Event specs, sorted by path.
    pub events: Vec<EventSpec>,
}

/// Reads every spec under `dir`, methods and events. File names in messages are shown
/// relative to `base`.
///
/// Two files describing the same method (or the same client method name), or the same
/// event, are an error.
pub fn load_family(dir: &Path, base: &Path) -> Result<Family, SpecError> {
    let mut family = Family::default();
    for path in spec_files(dir)? {
        let display = path.strip_prefix(base).unwrap_or(&path);
        family.add(load_any_file(&path, display)?)?;
    }
    Ok(family)
}

impl Family {
    /// Adds one parsed file; a second description of the same method or event is an error.
    pub fn add(&mut self, file: SpecFile) -> Result<(), SpecError> {
        match file {
            SpecFile::Method(spec) => {
                if let Some(e) = method_clash(&self.methods, &spec) {
                    return Err(e);
                }
                self.methods.push(spec);
            }
            SpecFile::Event(event) => {
                if let Some(e) = event_clash(&self.events, &event) {
                    return Err(e);
                }
                self.events.push(event);
            }
        }
        Ok(())
    }
}

/// Checks what [`Family::add`] checks, for specs that are already in slices: each method and
/// each event against the ones before it. The first clash is the error.
pub fn check_family(methods: &[Spec], events: &[EventSpec]) -> Result<(), SpecError> {
    for (i, spec) in methods.iter().enumerate() {
        if let Some(e) = methods
            .get(..i)
            .and_then(|before| method_clash(before, spec))
        {
            return Err(e);
        }
    }
    for (i, event) in events.iter().enumerate() {
        if let Some(e) = events
            .get(..i)
            .and_then(|before| event_clash(before, event))
        {
            return Err(e);
        }
    }
    Ok(())
}

/// `spec` describes a method (or a client method name, or a generated module) that one of
/// `methods` already has.
fn method_clash(methods: &[Spec], spec: &Spec) -> Option<SpecError> {
    if let Some(other) = methods
        .iter()
        .find(|s| s.method.eq_ignore_ascii_case(&spec.method) || s.rust_name == spec.rust_name)
    {
        return Some(SpecError {
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
    // `imopenlines.dialogGet` and `imopenlines.dialog.get` would both be
    // `imopenlines::dialog_get`.
    let other = methods.iter().find(|s| {
        s.namespace() == spec.namespace() && s.operation_name() == spec.operation_name()
    })?;
    Some(SpecError {
        location: spec.location.clone(),
        key: "method".into(),
        message: format!(
            "`{}` gives the module `{}::{}`, which `{}` ({}) already has",
            spec.method,
            spec.namespace(),
            spec.operation_name(),
            other.method,
            other.location.file.display()
        ),
    })
}

/// `event` is one of `events` already (ignoring case).
fn event_clash(events: &[EventSpec], event: &EventSpec) -> Option<SpecError> {
    let other = events
        .iter()
        .find(|e| e.event.eq_ignore_ascii_case(&event.event))?;
    Some(SpecError {
        location: event.location.clone(),
        key: "event".into(),
        message: format!(
            "`{}` is already described by {}",
            event.event,
            other.location.file.display()
        ),
    })
}
