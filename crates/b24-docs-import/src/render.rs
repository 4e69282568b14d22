//! [`Method`] → the TOML text of a spec file (`spec/README.md`), with a
//! `# TODO(review): ...` comment above every item the importer had to guess.

use std::fmt::Write as _;

use serde_json::Value;

use crate::model::Method;

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

/// A JSON value as an inline TOML value; `null` has no TOML form and gives `None`.
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

fn todos(out: &mut String, todos: &[String]) {
    for t in todos {
        for (i, line) in t.lines().enumerate() {
            if i == 0 {
                let _ = writeln!(out, "# TODO(review): {line}");
            } else {
                let _ = writeln!(out, "#   {line}");
            }
        }
    }
}

/// A multi-line body: a literal string when it can be one, a basic string otherwise.
fn body(text: &str) -> String {
    if !text.contains("'''") && !text.contains('\r') {
        format!("'''\n{text}\n'''")
    } else {
        string(text)
    }
}

/// The spec file for `m`.
pub fn render(m: &Method) -> String {
    let mut out = String::new();
    let source = m
        .source
        .clone()
        .unwrap_or_else(|| m.page.display().to_string());
    let _ = writeln!(
        out,
        "# {} — imported by `cargo xtask import` from the official docs page\n#   {source} ({} template).\n# Review every `TODO(review)` comment, fix what it points at, then delete the comment.",
        m.method,
        m.template.as_str()
    );
    out.push('\n');
    let _ = writeln!(out, "method = {}", string(&m.method));
    let _ = writeln!(out, "scope = {}", string(&m.scope));
    let _ = writeln!(out, "summary = {}", string(&m.summary));
    if let Some(d) = &m.description {
        let _ = writeln!(out, "description = {}", string(d));
    }
    let _ = writeln!(out, "docs = {}", string(&m.docs));
    if let Some(a) = &m.access {
        let _ = writeln!(out, "access = {}", string(a));
    }
    todos(&mut out, &m.todos);
    let _ = writeln!(out, "kind = {}", string(&m.kind));

    for p in &m.params {
        out.push('\n');
        todos(&mut out, &p.todos);
        out.push_str("[[params]]\n");
        let _ = writeln!(out, "name = {}", string(&p.name));
        let _ = writeln!(out, "type = {}", string(&p.ty));
        if p.required {
            out.push_str("required = true\n");
        }
        let _ = writeln!(out, "description = {}", string(&p.description));
        if let Some(ex) = p.example.as_ref().and_then(value) {
            let _ = writeln!(out, "example = {ex}");
        }
    }

    out.push('\n');
    todos(&mut out, &m.result.todos);
    out.push_str("[result]\n");
    let _ = writeln!(out, "type = {}", string(&m.result.ty));
    let _ = writeln!(out, "description = {}", string(&m.result.description));
    if m.result.paged {
        out.push_str("paged = true\n");
    }

    for o in &m.objects {
        out.push('\n');
        todos(&mut out, &o.todos);
        let _ = writeln!(out, "[objects.{}]", o.name);
        let _ = writeln!(out, "description = {}", string(&o.description));
        out.push('\n');
        let _ = writeln!(out, "[objects.{}.fields]", o.name);
        for f in &o.fields {
            todos(&mut out, &f.todos);
            let mut parts = vec![format!("type = {}", string(&f.ty))];
            if f.optional {
                parts.push("optional = true".into());
            }
            parts.push(format!("description = {}", string(&f.description)));
            let _ = writeln!(out, "{} = {{ {} }}", key(&f.name), parts.join(", "));
        }
    }

    for e in &m.errors {
        out.push('\n');
        todos(&mut out, &e.todos);
        out.push_str("[[errors]]\n");
        let _ = writeln!(out, "code = {}", string(&e.code));
        let _ = writeln!(out, "status = {}", e.status);
        if let Some(msg) = &e.message {
            let _ = writeln!(out, "message = {}", string(msg));
        }
        let _ = writeln!(out, "description = {}", string(&e.description));
    }

    for ex in &m.examples {
        out.push('\n');
        out.push_str("[[examples]]\n");
        let _ = writeln!(out, "name = {}", string(&ex.name));
        let _ = writeln!(out, "description = {}", string(&ex.description));
        if let Some(rq) = &ex.request {
            if let Some(v) = value(&Value::Object(rq.clone())) {
                let _ = writeln!(out, "request = {v}");
            }
        }
        let _ = writeln!(out, "status = {}", ex.status);
        let text = serde_json::to_string_pretty(&ex.body).unwrap_or_else(|_| ex.body.to_string());
        let _ = writeln!(out, "body = {}", body(&text));
    }
    out
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
}
