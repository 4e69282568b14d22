//! The model → the TOML text of a spec file (`spec/README.md`): the one writer of the format,
//! next to its one reader ([`crate::parse_file`]).
//!
//! Reading what this writes gives the model back: `parse(to_toml(parse(file)))` equals
//! `parse(file)` for every spec file, apart from where things are written (`location`),
//! comments, and values `null` (which TOML cannot write; a spec read from TOML has none).
//! Inline enums (`type = "enum"` with `values`) are written as the named enums the model holds
//! them as. A caller can put comment lines above any item (the importer's
//! `# TODO(review): ...` notes) through a [`Comments`] function.

use std::fmt::Write as _;

use serde_json::Value;

use crate::model::*;
use crate::names::default_rust_name;

/// An item of a spec file that comment lines can be put above.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    /// The top of the file, before any key (followed by a blank line).
    File,
    /// The method or event as a whole: the lines go right above `kind` (methods) or
    /// `[data]` (events).
    Method,
    /// A `[[params]]` entry, by name.
    Param(&'a str),
    /// A `[[one_of]]` group, by name.
    OneOf(&'a str),
    /// `[result]` (methods) or `[data]` (events).
    Result,
    /// `[objects.Name]`.
    Object(&'a str),
    /// A key of `[objects.Name.fields]`.
    Field {
        /// The object.
        object: &'a str,
        /// The key.
        field: &'a str,
    },
    /// `[enums.Name]`.
    Enum(&'a str),
    /// An `[[errors]]` entry, by code.
    Error(&'a str),
    /// An `[[examples]]` entry, by name.
    Example(&'a str),
}

/// The comment lines to write above an item, each without its `#` (an empty line is a bare
/// `#`). [`no_comments`] writes none.
pub type Comments<'c> = &'c dyn Fn(Item<'_>) -> Vec<String>;

/// No comments anywhere.
pub fn no_comments(_: Item<'_>) -> Vec<String> {
    Vec::new()
}

/// The spec file of a method.
pub fn to_toml(spec: &Spec, comments: Comments<'_>) -> String {
    let mut w = Writer {
        out: String::new(),
        comments,
    };
    w.head(Item::File);
    w.line("method", &string(&spec.method));
    w.line("scope", &string(&spec.scope));
    w.line("summary", &string(&spec.summary));
    w.opt("description", spec.description.as_deref());
    w.line("docs", &string(&spec.docs));
    w.opt("access", spec.access.as_deref());
    w.comments(Item::Method);
    w.line("kind", &string(spec.kind.as_str()));
    if spec.auth != Auth::Any {
        w.line("auth", &string(spec.auth.as_str()));
    }
    if spec.rust_name != default_rust_name(&spec.method) {
        w.line("rust_name", &string(&spec.rust_name));
    }
    for p in &spec.params {
        w.param(p);
    }
    for g in &spec.one_of {
        w.table(Item::OneOf(&g.name), "[[one_of]]");
        w.line("name", &string(&g.name));
        w.line("params", &strings(&g.params));
        w.line("description", &string(&g.description));
    }
    w.table(Item::Result, "[result]");
    w.line("type", &string(&spec.result.ty.to_string()));
    w.line("description", &string(&spec.result.description));
    if spec.result.paged {
        w.line("paged", "true");
    }
    w.opt("note", spec.result.note.as_deref());
    w.types(&spec.objects, &spec.enums);
    for e in &spec.errors {
        w.table(Item::Error(&e.code), "[[errors]]");
        w.line("code", &string(&e.code));
        w.line("status", &e.status.to_string());
        w.opt("message", e.message.as_deref());
        w.line("description", &string(&e.description));
        w.opt("note", e.note.as_deref());
    }
    for x in &spec.examples {
        w.table(Item::Example(&x.name), "[[examples]]");
        w.line("name", &string(&x.name));
        w.line("description", &string(&x.description));
        if let Some(rq) = x.request.as_ref().and_then(value) {
            w.line("request", &rq);
        }
        w.line("status", &x.status.to_string());
        w.line("body", &body(&x.raw));
    }
    w.out
}

/// The spec file of an event.
pub fn event_to_toml(event: &EventSpec, comments: Comments<'_>) -> String {
    let mut w = Writer {
        out: String::new(),
        comments,
    };
    w.head(Item::File);
    w.line("event", &string(&event.event));
    w.line("scope", &string(&event.scope));
    w.line("summary", &string(&event.summary));
    w.opt("description", event.description.as_deref());
    w.line("docs", &string(&event.docs));
    w.opt("access", event.access.as_deref());
    w.comments(Item::Method);
    w.table(Item::Result, "[data]");
    w.line("type", &string(&event.data.ty.to_string()));
    w.line("description", &string(&event.data.description));
    w.types(&event.objects, &event.enums);
    for x in &event.examples {
        w.table(Item::Example(&x.name), "[[examples]]");
        w.line("name", &string(&x.name));
        w.line("description", &string(&x.description));
        w.line("body", &body(&x.raw));
    }
    w.out
}

/// The spec file of a method or an event.
pub fn file_to_toml(file: &SpecFile, comments: Comments<'_>) -> String {
    match file {
        SpecFile::Method(spec) => to_toml(spec, comments),
        SpecFile::Event(event) => event_to_toml(event, comments),
    }
}

struct Writer<'c> {
    out: String,
    comments: Comments<'c>,
}

impl Writer<'_> {
    fn comments(&mut self, item: Item<'_>) {
        for c in (self.comments)(item) {
            if c.is_empty() {
                self.out.push_str("#\n");
            } else {
                let _ = writeln!(self.out, "# {c}");
            }
        }
    }

    /// The file's own comments, then a blank line.
    fn head(&mut self, item: Item<'_>) {
        let before = self.out.len();
        self.comments(item);
        if self.out.len() > before {
            self.out.push('\n');
        }
    }

    /// A blank line, the item's comments and a table header.
    fn table(&mut self, item: Item<'_>, header: &str) {
        self.out.push('\n');
        self.comments(item);
        self.out.push_str(header);
        self.out.push('\n');
    }

    fn line(&mut self, key: &str, value: &str) {
        let _ = writeln!(self.out, "{key} = {value}");
    }

    fn opt(&mut self, key: &str, text: Option<&str>) {
        if let Some(t) = text {
            self.line(key, &string(t));
        }
    }

    fn param(&mut self, p: &Param) {
        self.table(Item::Param(&p.name), "[[params]]");
        self.line("name", &string(&p.name));
        self.line("type", &string(&p.ty.to_string()));
        if p.required {
            self.line("required", "true");
        }
        self.line("description", &string(&p.description));
        if let Some(ex) = p.example.as_ref().and_then(value) {
            self.line("example", &ex);
        }
        self.opt("note", p.note.as_deref());
    }

    /// Objects with their keys, then enums.
    fn types(&mut self, objects: &[Object], enums: &[EnumDef]) {
        for o in objects {
            let name = key(&o.name);
            self.table(Item::Object(&o.name), &format!("[objects.{name}]"));
            self.line("description", &string(&o.description));
            if !o.untyped_keys.is_empty() {
                self.line("untyped_keys", &strings(&o.untyped_keys));
            }
            let _ = writeln!(self.out, "\n[objects.{name}.fields]");
            for f in &o.fields {
                self.comments(Item::Field {
                    object: &o.name,
                    field: &f.name,
                });
                let mut parts = vec![format!("type = {}", string(&f.ty.to_string()))];
                if f.optional {
                    parts.push("optional = true".into());
                }
                parts.push(format!("description = {}", string(&f.description)));
                if !f.aliases.is_empty() {
                    parts.push(format!("aliases = {}", strings(&f.aliases)));
                }
                if let Some(n) = &f.note {
                    parts.push(format!("note = {}", string(n)));
                }
                self.line(&key(&f.name), &format!("{{ {} }}", parts.join(", ")));
            }
        }
        for e in enums {
            self.table(Item::Enum(&e.name), &format!("[enums.{}]", key(&e.name)));
            self.line("description", &string(&e.description));
            let values: Vec<String> = e
                .values
                .iter()
                .map(|v| match &v.description {
                    None => string(&v.value),
                    Some(d) => format!(
                        "{{ value = {}, description = {} }}",
                        string(&v.value),
                        string(d)
                    ),
                })
                .collect();
            self.line("values", &format!("[{}]", values.join(", ")));
        }
    }
}

/// A TOML basic string.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An array of TOML basic strings.
fn strings(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| string(s)).collect();
    format!("[{}]", parts.join(", "))
}

/// A TOML key: bare when it can be, quoted otherwise.
pub fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        string(k)
    }
}

/// A JSON value as an inline TOML value; `null` has no TOML form and gives `None` (inside an
/// array or a table it is left out).
pub fn value(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64()?;
                if !f.is_finite() {
                    return None;
                }
                let s = f.to_string();
                if s.contains('.') || s.contains('e') {
                    s
                } else {
                    format!("{s}.0")
                }
            } else {
                n.to_string()
            }
        }
        Value::String(s) => string(s),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(value).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .filter_map(|(k, v)| value(v).map(|v| format!("{} = {v}", key(k))))
                .collect();
            if parts.is_empty() {
                "{}".to_string()
            } else {
                format!("{{ {} }}", parts.join(", "))
            }
        }
    })
}

/// An example's body, which reads back as exactly `raw`: a multi-line literal string when it
/// can be one (the text ends with a line break and has no `'''` and no control character
/// but tab and line break), a one-line literal string for short text without `'`, a basic
/// string otherwise.
fn body(raw: &str) -> String {
    let literal = !raw.contains("'''")
        && raw
            .chars()
            .all(|c| c == '\n' || c == '\t' || !(c.is_control()));
    if literal && raw.ends_with('\n') {
        format!("'''\n{raw}'''")
    } else if literal && !raw.contains(['\n', '\'']) {
        format!("'{raw}'")
    } else {
        string(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_keys_and_values() {
        assert_eq!(string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(key("entity_data_1"), "entity_data_1");
        assert_eq!(key("<chatId>"), "\"<chatId>\"");
        let v: Value = serde_json::json!({"A": 1, "B": [1.5, "x"], "C": null, "D": {"e": true}});
        assert_eq!(
            value(&v).as_deref(),
            Some("{ A = 1, B = [1.5, \"x\"], D = { e = true } }")
        );
        assert_eq!(value(&serde_json::json!(2.0)).as_deref(), Some("2.0"));
    }

    #[test]
    fn bodies_read_back_as_written() {
        for raw in [
            "{\n  \"result\": true\n}\n",
            "{\"result\": true}",
            "{\"result\": \"it's\"}",
            "{\n  \"result\": \"'''\"\n}\n",
            "{\"result\": 1}\n\n",
            "\n{}\n",
            "{}\r\n",
            "{\"a\": \"\u{7f}\"}",
        ] {
            let text = format!("body = {}\n", body(raw));
            let back: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(
                back.get("body").and_then(|b| b.as_str()),
                Some(raw),
                "{text}"
            );
        }
        assert_eq!(body("{}\n"), "'''\n{}\n'''");
    }
}
