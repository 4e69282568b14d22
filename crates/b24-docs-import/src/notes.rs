//! What the importer guessed about a page, kept beside the spec it read (`b24_spec::Spec`, the
//! one model): the `TODO(review)` notes of each item, the same notes as warnings with the page
//! line they are about, and which values the page does not state (a key's type, an error's
//! status) so that `drift` does not compare them.
//!
//! Items are keyed by what identifies them in a spec ([`Target`]): a parameter by name, a key
//! by object and name, an error by code. The notes become `# TODO(review): ...` comments above
//! their items when the spec is written ([`Notes::comments`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use b24_spec::render::Item;

/// Which page template a page follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// Today's pages: `Название`/`тип` tables, `## Обработка ответа`, `## Обработка ошибок`.
    Current,
    /// 2024 pages: `Пример`/`Описание`/`Ревизия` columns, `### Описание ключей` lists,
    /// `## Ответ в случае ошибки`.
    Legacy2024,
}

impl Template {
    /// Short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Template::Current => "current",
            Template::Legacy2024 => "2024",
        }
    }
}

/// A guess the importer made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// 1-based page line (0 when not tied to one).
    pub line: usize,
    /// What was guessed.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// An item of a spec that notes are about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// The method as a whole.
    Method,
    /// A parameter, by name.
    Param(String),
    /// The result.
    Result,
    /// A named object, by name.
    Object(String),
    /// A key of a named object.
    Field {
        /// The object.
        object: String,
        /// The key.
        field: String,
    },
    /// An error code.
    Error(String),
    /// An example, by name.
    Example(String),
}

impl Target {
    /// The key `field` of the object `object`.
    pub fn field(object: &str, field: &str) -> Target {
        Target::Field {
            object: object.to_string(),
            field: field.to_string(),
        }
    }

    /// The target of an item of the written file (none for the file's header, a one-of
    /// group or an enum, which the importer never makes).
    fn of(item: Item<'_>) -> Option<Target> {
        Some(match item {
            Item::Method => Target::Method,
            Item::Param(p) => Target::Param(p.to_string()),
            Item::Result => Target::Result,
            Item::Object(o) => Target::Object(o.to_string()),
            Item::Field { object, field } => Target::field(object, field),
            Item::Error(c) => Target::Error(c.to_string()),
            Item::Example(x) => Target::Example(x.to_string()),
            Item::File | Item::OneOf(_) | Item::Enum(_) => return None,
        })
    }
}

/// The importer's notes about one page's spec.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Notes {
    todos: BTreeMap<Target, Vec<String>>,
    warnings: Vec<Warning>,
    lines: BTreeMap<Target, usize>,
    ty_guessed: BTreeSet<Target>,
    status_guessed: BTreeSet<String>,
    untyped_arrays: BTreeSet<Target>,
    scope_guessed: bool,
}

impl Notes {
    /// Every guess, in the order it was made, with its page line.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The `TODO(review)` notes of an item, in order.
    pub fn todos(&self, target: &Target) -> &[String] {
        self.todos.get(target).map_or(&[], Vec::as_slice)
    }

    /// Whether the page does not state the type of a parameter, a key or the result.
    pub fn ty_guessed(&self, target: &Target) -> bool {
        self.ty_guessed.contains(target)
    }

    /// Whether the page does not state the HTTP status of an error code.
    pub fn status_guessed(&self, code: &str) -> bool {
        self.status_guessed.contains(code)
    }

    /// Whether the page states no scope (the spec's is the method's namespace).
    pub fn scope_guessed(&self) -> bool {
        self.scope_guessed
    }

    /// The page line an item was read from (0 when unknown).
    pub fn line(&self, target: &Target) -> usize {
        self.lines.get(target).copied().unwrap_or(0)
    }

    /// The comment lines of an item of the written spec: each note as
    /// `TODO(review): first line`, further lines indented.
    pub fn comments(&self, item: Item<'_>) -> Vec<String> {
        let Some(target) = Target::of(item) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for t in self.todos(&target) {
            for (i, line) in t.lines().enumerate() {
                out.push(if i == 0 {
                    format!("TODO(review): {line}")
                } else {
                    format!("  {line}")
                });
            }
        }
        out
    }

    /// Records a warning (a guess tied to a page line) and returns its message, for the
    /// caller to attach to an item with [`Notes::todo`].
    pub(crate) fn warn(&mut self, line: usize, message: impl Into<String>) -> String {
        let message = message.into();
        self.warnings.push(Warning {
            line,
            message: message.clone(),
        });
        message
    }

    /// A `TODO(review)` of an item (its warning is recorded apart, with [`Notes::warn`]).
    pub(crate) fn todo(&mut self, target: Target, message: String) {
        self.todos.entry(target).or_default().push(message);
    }

    /// A `TODO(review)` put before the item's others.
    pub(crate) fn todo_first(&mut self, target: Target, message: String) {
        self.todos.entry(target).or_default().insert(0, message);
    }

    /// A guess about an item: a warning at `line` and the item's `TODO(review)`.
    pub(crate) fn note(&mut self, target: Target, line: usize, message: impl Into<String>) {
        let m = self.warn(line, message);
        self.todo(target, m);
    }

    pub(crate) fn set_line(&mut self, target: Target, line: usize) {
        self.lines.insert(target, line);
    }

    pub(crate) fn set_ty_guessed(&mut self, target: Target, guessed: bool) {
        if guessed {
            self.ty_guessed.insert(target);
        } else {
            self.ty_guessed.remove(&target);
        }
    }

    pub(crate) fn set_scope_guessed(&mut self, guessed: bool) {
        self.scope_guessed = guessed;
    }

    pub(crate) fn set_status_guessed(&mut self, code: &str, guessed: bool) {
        if guessed {
            self.status_guessed.insert(code.to_string());
        } else {
            self.status_guessed.remove(code);
        }
    }

    /// Marks a parameter or key whose docs type is a bare `array` (no element type).
    pub(crate) fn set_untyped_array(&mut self, target: Target, untyped: bool) {
        if untyped {
            self.untyped_arrays.insert(target);
        } else {
            self.untyped_arrays.remove(&target);
        }
    }

    pub(crate) fn is_untyped_array(&self, target: &Target) -> bool {
        self.untyped_arrays.contains(target)
    }

    /// Forgets an object that is not imported, its keys' notes too: each of its notes is
    /// taken out of the warnings as well, since every warning is a `TODO(review)` of the file.
    pub(crate) fn drop_object(&mut self, name: &str) {
        let of_object = |t: &Target| match t {
            Target::Object(o) => o == name,
            Target::Field { object, .. } => object == name,
            _ => false,
        };
        let dropped: Vec<String> = self
            .todos
            .iter()
            .filter(|(t, _)| of_object(t))
            .flat_map(|(_, notes)| notes.iter().cloned())
            .collect();
        self.todos.retain(|t, _| !of_object(t));
        self.ty_guessed.retain(|t| !of_object(t));
        self.untyped_arrays.retain(|t| !of_object(t));
        for n in dropped {
            if let Some(at) = self.warnings.iter().position(|w| w.message == n) {
                self.warnings.remove(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_comments_of_their_items_and_warnings() {
        let mut n = Notes::default();
        n.note(Target::Param("A".into()), 3, "first\nsecond line");
        n.note(Target::Param("A".into()), 4, "then");
        let m = n.warn(5, "before all");
        n.todo_first(Target::Param("A".into()), m);
        n.note(Target::field("O", "k"), 7, "key");
        assert_eq!(
            n.comments(Item::Param("A")),
            [
                "TODO(review): before all",
                "TODO(review): first",
                "  second line",
                "TODO(review): then"
            ]
        );
        assert_eq!(
            n.comments(Item::Field {
                object: "O",
                field: "k"
            }),
            ["TODO(review): key"]
        );
        assert!(n.comments(Item::File).is_empty());
        assert_eq!(n.warnings().len(), 4);
        n.drop_object("O");
        assert_eq!(n.warnings().len(), 3);
        assert!(n.todos(&Target::field("O", "k")).is_empty());
    }
}
