//! JSON examples: read (and repaired when they elide items or have comments), their HTTP
//! status, and the request of a code example (cURL, JavaScript or a URL).

use b24_spec::{Example, Location};
use serde_json::{Map, Value};

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
            Err(first) => match relaxed(&c.text).or_else(|| {
                // `"result": {...}` without the outer braces (many 2024 pages).
                let t = c.text.trim();
                t.starts_with('"')
                    .then(|| relaxed(&format!("{{{t}}}")))
                    .flatten()
            }) {
                Some(v) => {
                    let m = self.warn(
                        c.line,
                        "the JSON example elides items (`...`), has `//` comments or lacks its outer braces: it was repaired, so check it against the docs",
                    );
                    self.notes.todo(Target::Method, m);
                    Some(v)
                }
                None => {
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

    /// The request of the success example, from the page's code examples: the JSON body of a
    /// cURL call of this method (`-d '{...}'`; a block that does not name the method, such as
    /// a placeholder calling another one, is not read), else the object a JavaScript `callMethod('m', {...})` passes,
    /// else the query string of a URL calling the method (`.../m.json?ID=1&FIELDS[A]=x`,
    /// read as PHP reads a form). `auth` is left out.
    pub(super) fn request_example(&mut self, placed: &[Placed<'_>]) {
        let codes: Vec<&str> = placed
            .iter()
            .filter(|p| p.section == SectionKind::Examples)
            .filter_map(|p| match p.block {
                Block::Code(c) => Some(c.text.as_str()),
                _ => None,
            })
            .collect();
        let method = self.spec.method.clone();
        let found = codes
            .iter()
            .filter(|t| {
                t.to_ascii_lowercase()
                    .contains(&method.to_ascii_lowercase())
            })
            .find_map(|t| curl_request(t))
            .or_else(|| codes.iter().find_map(|t| js_request(t, &method)))
            .or_else(|| codes.iter().find_map(|t| query_request(t, &method)));
        let Some(mut m) = found else { return };
        m.remove("auth");
        if let Some(ex) = self.spec.examples.iter_mut().find(|e| e.name == "success") {
            if !m.is_empty() {
                ex.request = Some(Value::Object(m));
            }
        }
    }
}

/// Longest request literal read from a code example.
const MAX_REQUEST: usize = 64 * 1024;

/// `-d '{...}'` / `--data '{...}'` of a shell example.
fn curl_request(text: &str) -> Option<Map<String, Value>> {
    let at = text
        .find("-d '")
        .map(|i| i + 4)
        .or_else(|| text.find("--data '").map(|i| i + 8))?;
    let rest = text.get(at..)?;
    let end = rest.find('\'')?;
    match serde_json::from_str::<Value>(rest.get(..end)?) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// The object literal a `callMethod('method', {...})` passes, as JSON5 (unquoted keys,
/// single quotes, trailing commas); `None` when it calls another method or the literal holds
/// code (a variable, a function call).
fn js_request(text: &str, method: &str) -> Option<Map<String, Value>> {
    let mut rest = text;
    while let Some(at) = rest.find("callMethod(") {
        rest = rest.get(at + "callMethod(".len()..)?;
        let t = rest.trim_start();
        let quote = t.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let body = t.get(1..)?;
        let close = body.find(quote)?;
        if !body.get(..close)?.eq_ignore_ascii_case(method) {
            continue;
        }
        let after = body
            .get(close + 1..)?
            .trim_start()
            .strip_prefix(',')?
            .trim_start();
        let literal = balanced_braces(after)?;
        return match json5::from_str::<Value>(literal) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        };
    }
    None
}

/// The `{...}` that `text` starts with, braces inside strings aside; at most
/// [`MAX_REQUEST`] bytes and 32 levels.
fn balanced_braces(text: &str) -> Option<&str> {
    if !text.starts_with('{') {
        return None;
    }
    let mut depth = 0usize;
    let mut end = None;
    brackets(text, |i, c| {
        if i > MAX_REQUEST {
            return false;
        }
        match c {
            '{' | '[' => {
                depth += 1;
                depth <= 32
            }
            _ => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    end = Some(i);
                }
                depth > 0
            }
        }
    });
    text.get(..=end?)
}

/// Calls `f` with each bracket (`{`, `[`, `}`, `]`) outside string literals (either quote)
/// and its byte index, until `f` says stop.
fn brackets(text: &str, mut f: impl FnMut(usize, char) -> bool) {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                c if c == q => quote = None,
                _ => {}
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '{' | '[' | '}' | ']' if !f(i, c) => return,
            _ => {}
        }
    }
}

/// The query string of a URL that calls `method` (`.../method.json?a=1&b[c]=2` or
/// `.../method?a=1`), read the way PHP reads it.
fn query_request(text: &str, method: &str) -> Option<Map<String, Value>> {
    let lower = text.to_ascii_lowercase();
    let m = method.to_ascii_lowercase();
    for needle in [format!("{m}.json?"), format!("/{m}?")] {
        let Some(at) = lower.find(&needle) else {
            continue;
        };
        let query: String = text
            .get(at + needle.len()..)?
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '\'' | '"' | '`' | ')'))
            .take(MAX_REQUEST)
            .collect();
        let form = b24_core::php::parse_form(query.as_bytes(), |name| name != "auth");
        if !form.tree.is_empty() {
            return Some(form.tree);
        }
    }
    None
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

/// An example the docs wrote loosely, read as JSON5 (comments, trailing commas, unquoted
/// keys) once the lines that only elide items (`...`, `…`, with a comma or a comment after
/// them) are dropped. `None` for text nested deeper than serde_json would read (128).
fn relaxed(text: &str) -> Option<Value> {
    let kept: Vec<&str> = text
        .lines()
        .filter(|line| {
            let t = line.trim();
            let rest = t
                .strip_prefix("...")
                .or_else(|| t.strip_prefix('…'))
                .map(|r| r.trim_start().trim_start_matches(',').trim_start());
            !rest.is_some_and(|r| r.is_empty() || r.starts_with("//"))
        })
        .collect();
    let text = kept.join("\n");
    if text.len() > 4 * MAX_REQUEST || nesting(&text) > 128 {
        return None;
    }
    json5::from_str::<Value>(&text).ok()
}

/// The deepest nesting of `{`/`[` outside strings (either quote).
fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    brackets(text, |_, c| {
        if matches!(c, '{' | '[') {
            depth += 1;
            deepest = deepest.max(depth);
        } else {
            depth = depth.saturating_sub(1);
        }
        true
    });
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_from_javascript_and_urls() {
        let js = "BX24.callMethod(\n    'disk.file.delete',\n    { id: 10, filter: {'>ID': 1}, list: [1, 2,], s: 'a}b' },\n    function (r) {}\n);";
        let m = js_request(js, "disk.file.delete").expect("the literal");
        assert_eq!(
            Value::Object(m),
            serde_json::json!({"id": 10, "filter": {">ID": 1}, "list": [1, 2], "s": "a}b"})
        );
        // Another method, a variable, an unclosed literal: nothing.
        assert_eq!(js_request(js, "disk.file.get"), None);
        assert_eq!(js_request("callMethod('a.b', {id: epicId})", "a.b"), None);
        assert_eq!(js_request("callMethod('a.b', {id: 1", "a.b"), None);
        let deep = format!("callMethod('a.b', {}1{})", "{a:".repeat(40), "}".repeat(40));
        assert_eq!(js_request(&deep, "a.b"), None);
        let url =
            "https://x.bitrix24.ru/rest/department.get.json?ID=222&FILTER[NAME]=a%20b&auth=secret";
        let m = query_request(url, "department.get").expect("the query");
        assert_eq!(
            Value::Object(m),
            serde_json::json!({"ID": "222", "FILTER": {"NAME": "a b"}})
        );
        let curl = "curl -X POST -H 'x' -d '{\"id\": 1}' https://x/rest/a.b";
        assert_eq!(
            curl_request(curl).map(Value::Object),
            Some(serde_json::json!({"id": 1}))
        );
    }

    #[test]
    fn relaxed_json() {
        let v =
            relaxed("{\n  \"a\": [1,\n  ...\n  ],\n  \"b\": \"x // y\", // note\n  ... // more\n}");
        assert_eq!(v, Some(serde_json::json!({"a": [1], "b": "x // y"})));
        // Deeper than serde_json reads: refused before the JSON5 reader sees it.
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(relaxed(&deep), None);
        assert_eq!(nesting("{\"a\": \"[[[\", 'b': [1]}"), 2);
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
