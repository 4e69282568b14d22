//! The payload of a generated enum's `Unknown` variant.

use std::fmt;

/// A wire value no spec documents, as the portal sent it: what the `Unknown` variant of every
/// generated enum (enums of values, `ErrorCode`) holds.
///
/// It is opaque on purpose. Code reads it with [`as_str`](UnknownValue::as_str) but cannot
/// build one or match a literal against it, so no `match` has an arm like
/// `Unknown("new_role")` that would silently stop running once a later spec documents
/// `new_role` as its own variant. Match that variant instead, or compare with the enum's
/// `parse`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnknownValue(String);

impl UnknownValue {
    /// The value as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// For generated code: the `Unknown` payload of an undocumented wire value.
pub fn unknown_value(value: impl Into<String>) -> UnknownValue {
    UnknownValue(value.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_value_as_sent() {
        let v = unknown_value("superhero");
        assert_eq!(v.as_str(), "superhero");
        assert_eq!(v.to_string(), "superhero");
        assert_eq!(format!("{v:?}"), "\"superhero\"");
        assert_eq!(v, unknown_value(String::from("superhero")));
    }
}
