//! JSON examples: read (and repaired when they elide items or have comments), their HTTP
//! status, and the request of a cURL example.

use b24_spec::{Example, Location};
use serde_json::Value;

use crate::markdown::{self, Block};
use crate::notes::{Target, Template};

use super::sections::{Placed, SectionKind};
use super::Importer;

/// A documented answer; its text in the spec file is the body as pretty JSON.
pub(crate) fn example(name: String, description: String, status: u16, body: Value) -> Example {
    let mut raw = serde_json::to_string_pretty(&body).unwrap_or_else(|_| body.to_string());
    raw.push('\n');
    Example {
        name,
        description,
        request: None,
        status,
        body,
        raw,
        location: Location::default(),
    }
}

impl Importer<'_> {
    /// Adds a documented answer read at page line `line`.
    pub(super) fn example(
        &mut self,
        name: String,
        description: String,
        status: u16,
        body: Value,
        line: usize,
    ) {
        self.notes.set_line(Target::Example(name.clone()), line);
        self.spec
            .examples
            .push(example(name, description, status, body));
    }

    /// The page's template as the examples' descriptions name it.
    pub(super) fn template_name(&self) -> &'static str {
        if self.template == Template::Current {
            "current"
        } else {
            "2024"
        }
    }

    /// A JSON example; one that elides items with `...` or has `//` comments is cleaned up
    /// (with a warning). One that is still not JSON is left out, with a `TODO(review)` naming
    /// the line: the page's other facts are still imported.
    pub(super) fn example_json(&mut self, c: &markdown::Code) -> Option<Value> {
        match serde_json::from_str::<Value>(&c.text) {
            Ok(v) => Some(v),
            Err(first) => match serde_json::from_str::<Value>(&relax_json(&c.text)).or_else(|e| {
                // `"result": {...}` without the outer braces (many 2024 pages).
                let t = c.text.trim();
                if t.starts_with('"') {
                    serde_json::from_str::<Value>(&relax_json(&format!("{{{t}}}")))
                } else {
                    Err(e)
                }
            }) {
                Ok(v) => {
                    let m = self.warn(
                        c.line,
                        "the JSON example elides items (`...`), has `//` comments or lacks its outer braces: it was repaired, so check it against the docs",
                    );
                    self.notes.todo(Target::Method, m);
                    Some(v)
                }
                Err(_) => {
                    let m = self.warn(
                        c.line + first.line(),
                        format!(
                            "the JSON example that starts at line {} is not JSON ({}, column {}): it is left out; fix it on the page or add it by hand",
                            c.line,
                            first.to_string().split(" at line").next().unwrap_or(""),
                            first.column()
                        ),
                    );
                    self.notes.todo(Target::Method, m);
                    None
                }
            },
        }
    }

    /// The request of the first cURL example with a JSON body (`-d '{...}'`).
    pub(super) fn request_example(&mut self, placed: &[Placed<'_>]) {
        for p in placed.iter().filter(|p| p.section == SectionKind::Examples) {
            let Block::Code(c) = p.block else { continue };
            if !c.text.contains("curl") {
                continue;
            }
            let Some(at) = c.text.find("-d '") else {
                continue;
            };
            let rest = &c.text[at + 4..];
            let Some(end) = rest.find('\'') else { continue };
            let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&rest[..end]) else {
                continue;
            };
            m.remove("auth");
            if let Some(ex) = self.spec.examples.iter_mut().find(|e| e.name == "success") {
                if !m.is_empty() {
                    ex.request = Some(Value::Object(m));
                }
            }
            return;
        }
    }
}

/// The HTTP status a line states: `HTTP-статус: **400**`, `HTTP Status: **400**`, or a
/// status line (`> 200 OK`, `400 Bad Request`) of the 2024 template.
pub(super) fn http_status(text: &str) -> Option<u16> {
    let bare = text.trim_start_matches('>').trim().trim_matches('*');
    let mut words = bare.split_whitespace();
    if let (Some(code), Some(reason)) = (words.next(), words.next()) {
        let code = code.trim_matches('*');
        if code.len() == 3
            && reason.starts_with(|c: char| c.is_ascii_uppercase())
            && bare.len() < 40
        {
            if let Ok(n) = code.parse::<u16>() {
                if (100..600).contains(&n) {
                    return Some(n);
                }
            }
        }
    }
    let at = text
        .find("HTTP-статус")
        .or_else(|| text.find("HTTP Status"))
        .or_else(|| text.find("HTTP status"))?;
    let rest = &text[at..];
    let start = rest.find(|c: char| c.is_ascii_digit())?;
    rest[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .ok()
}

/// Drops `// comments` (outside strings), lines that are only `...` and the commas those
/// leave dangling before `}` or `]`.
fn relax_json(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.lines() {
        let mut out = String::new();
        let mut in_str = false;
        let mut escaped = false;
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if in_str {
                out.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_str = false;
                }
            } else if c == '"' {
                in_str = true;
                out.push(c);
            } else if c == '/' && chars.get(i + 1) == Some(&'/') {
                break;
            } else {
                out.push(c);
            }
            i += 1;
        }
        let t = out.trim().trim_end_matches(',').trim();
        if t == "..." || t == "…" {
            continue;
        }
        if out.trim().is_empty() {
            continue;
        }
        lines.push(out);
    }
    // Remove commas before a closing bracket.
    let joined = lines.join("\n");
    let mut out = String::with_capacity(joined.len());
    let chars: Vec<char> = joined.chars().collect();
    let mut in_str = false;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            out.push(c);
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|n| !n.is_whitespace());
            if matches!(next, Some('}') | Some(']') | None) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_json() {
        let v: Value = serde_json::from_str(&relax_json(
            "{\n  \"a\": [1,\n  ...\n  ],\n  \"b\": \"x // y\", // note\n  ... // more\n}",
        ))
        .unwrap();
        assert_eq!(v, serde_json::json!({"a": [1], "b": "x // y"}));
    }

    #[test]
    fn statuses() {
        assert_eq!(http_status("HTTP-статус: **400**, **403**"), Some(400));
        assert_eq!(
            http_status("1. HTTP-статус: **200** с `result = false`"),
            Some(200)
        );
        assert_eq!(http_status("text"), None);
    }
}
