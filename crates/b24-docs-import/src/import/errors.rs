//! Errors: the codes table, REST 3.0 `Код ошибки:` lines and the error examples.

use b24_spec::ErrorCode;
use serde_json::{Map, Value};

use crate::markdown::{code_spans, plain, Block, Row, Table};
use crate::notes::Target;

use super::examples::http_status;
use super::sections::{Placed, SectionKind};
use super::tables::{columns, Columns};
use super::{ImportError, Importer};

impl Importer<'_> {
    /// The errors section: REST 3.0 `Код ошибки:` lines, the codes table and the error
    /// examples; last, a note on each code the page gives no HTTP status for.
    pub(super) fn errors(&mut self, placed: &[Placed<'_>]) -> Result<(), ImportError> {
        let errs: Vec<&Placed<'_>> = placed
            .iter()
            .filter(|p| p.section == SectionKind::Errors)
            .collect();
        self.v3_errors(&errs);
        for p in &errs {
            let Block::Table(t) = p.block else { continue };
            self.codes_table(t);
        }
        self.error_examples(&errs);
        let stated = stated_statuses(&errs);
        self.note_guessed_statuses(&stated);
        Ok(())
    }

    /// REST 3.0 pages: `Код ошибки: `CODE`` and a table of the fields it is about.
    fn v3_errors(&mut self, errs: &[&Placed<'_>]) {
        let mut pending: Option<(String, usize)> = None;
        for p in errs {
            match p.block {
                Block::Text { text, line } => {
                    if let Some(code) = v3_code_line(text) {
                        if let Some((c, l)) = pending.take() {
                            self.v3_error(c, l, None);
                        }
                        pending = Some((code, *line));
                    }
                }
                Block::Table(t) => {
                    if let Some((c, l)) = pending.take() {
                        self.v3_error(c, l, Some(t));
                    }
                }
                _ => {}
            }
        }
        if let Some((c, l)) = pending {
            self.v3_error(c, l, None);
        }
    }

    /// A table with a code column: one error per row.
    fn codes_table(&mut self, t: &Table) {
        let Some(header) = t.rows.first() else {
            return;
        };
        let cols = columns(header);
        let Some(ci) = cols.code else { return };
        for row in &t.rows[1..] {
            self.code_row(&cols, ci, row);
        }
    }

    /// One row of the codes table (`ci` is its code column): a new error, or one more case of
    /// a code an earlier row named.
    fn code_row(&mut self, cols: &Columns, ci: usize, row: &Row) {
        let Some(code) = self.row_code(cell(row, Some(ci)).unwrap_or_default(), row.line) else {
            return;
        };
        let mut todos = Vec::new();
        let repeated = self.spec.errors.iter().any(|e| e.code == code);
        if !repeated && b24_core::PortalErrorCode::parse(&code).is_some() {
            todos.push(self.warn(
                row.line,
                format!("`{code}` is also a portal-wide code (b24-core knows it): keep it only if this method gives it a meaning of its own"),
            ));
        }
        let (status, status_guessed) = row_status(cols, row);
        let (message, description) = row_message(cols, row);
        let description = if description.is_empty() {
            todos.push(self.warn(row.line, format!("error `{code}` has no description")));
            "TODO: no description in the docs.".to_string()
        } else {
            description
        };
        let target = Target::Error(code.clone());
        if let Some(i) = self.spec.errors.iter().position(|e| e.code == code) {
            self.merge_repeated_code(i, message.as_deref(), &description);
            // This row's notes stay with the merged entry.
            for m in todos {
                self.notes.todo(target.clone(), m);
            }
            return;
        }
        for m in todos {
            self.notes.todo(target.clone(), m);
        }
        self.add_error(
            ErrorCode {
                code,
                status,
                message: message.filter(|m| !m.is_empty()),
                description,
                note: None,
            },
            status_guessed,
            row.line,
        );
    }

    /// The code of a codes-table row (the text of its code cell); none, with a warning, when
    /// it is empty or not a code.
    fn row_code(&mut self, text: String, line: usize) -> Option<String> {
        let code = text.replace('`', "").trim().to_string();
        if code.is_empty()
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            let shown: String = code.chars().take(40).collect();
            let m = self.warn(
                line,
                format!("an error row without a code (`{shown}` in the code column) is left out: a spec keys errors by code"),
            );
            self.notes.todo(Target::Method, m);
            return None;
        }
        Some(code)
    }

    /// One code, several rows (ERROR_ARGUMENT for each bad argument): one entry (the `i`th)
    /// whose description lists every case.
    fn merge_repeated_code(&mut self, i: usize, message: Option<&str>, description: &str) {
        let target = Target::Error(self.spec.errors[i].code.clone());
        let first_extra = !self.spec.errors[i].description.contains("\n- ");
        let line = self.notes.line(&target);
        if first_extra {
            let code = &self.spec.errors[i].code;
            let m = self.warn(
                line,
                format!("error `{code}` has several rows (messages): merged into one entry; the first message is kept"),
            );
            let e = &mut self.spec.errors[i];
            let first = format!(
                "- {}{}",
                e.message
                    .as_ref()
                    .map(|m| format!("`{m}`: "))
                    .unwrap_or_default(),
                e.description
            );
            e.description = format!("Several cases:\n{first}");
            self.notes.todo(target, m);
        }
        let e = &mut self.spec.errors[i];
        e.description.push_str(&format!(
            "\n- {}{}",
            message
                .filter(|m| !m.is_empty())
                .map(|m| format!("`{m}`: "))
                .unwrap_or_default(),
            description
        ));
    }

    /// The error examples, each under the HTTP status the text before it last stated.
    fn error_examples(&mut self, errs: &[&Placed<'_>]) {
        let mut status: Option<u16> = None;
        let mut n = 0;
        for p in errs {
            match p.block {
                Block::Text { text, .. } => {
                    if let Some(s) = http_status(text) {
                        status = Some(s);
                    }
                }
                Block::Code(c) if c.lang == "json" || c.text.trim_start().starts_with('{') => {
                    let Some(body) = self.example_json(c) else {
                        continue;
                    };
                    if self.error_example_left_out(&body, status, c.line) {
                        continue;
                    }
                    n += 1;
                    self.error_example(body, status, n, p, c.line);
                }
                _ => {}
            }
        }
    }

    /// Whether an error example is left out (with a warning): one in the REST 3.0 shape
    /// (its code and message are kept), one whose `error` is no code, one with an empty code.
    fn error_example_left_out(&mut self, body: &Value, status: Option<u16>, line: usize) -> bool {
        if let Some(Value::Object(e)) = body.get("error") {
            self.v3_error_example(e, status, line);
            return true;
        }
        if let Some(e) = body.get("error").filter(|e| !e.is_string()) {
            let shown: String = e.to_string().chars().take(40).collect();
            let m = self.warn(
                line,
                format!("the error example's `error` is `{shown}`, not a code (a string): the example is left out"),
            );
            self.notes.todo(Target::Method, m);
            return true;
        }
        if example_code(body).is_some_and(|c| c.trim().is_empty()) {
            let m = self.warn(
                line,
                "an error example with an empty `error` code is left out: a spec keys errors by code",
            );
            self.notes.todo(Target::Method, m);
            return true;
        }
        false
    }

    /// REST 3.0: `{"error": {"code": ..., "message": ...}}`. The spec's examples are the
    /// REST 2 envelope the client decodes: the code and message are kept, the body is left
    /// out.
    fn v3_error_example(&mut self, e: &Map<String, Value>, status: Option<u16>, line: usize) {
        let code = e.get("code").and_then(Value::as_str).unwrap_or("");
        let message = e.get("message").and_then(Value::as_str);
        if let Some(i) = self.spec.errors.iter().position(|x| x.code == code) {
            let e = &mut self.spec.errors[i];
            if e.message.is_none() {
                e.message = message.map(str::to_string);
            }
            if let (true, Some(s)) = (self.notes.status_guessed(code), status) {
                e.status = s;
                self.notes.set_status_guessed(code, false);
            }
        }
        let m = self.warn(
            line,
            format!("the error example (`{code}`) is in the REST 3.0 shape `{{\"error\": {{\"code\", \"message\"}}}}`, not the envelope the client decodes: its code and message are kept, the example is left out"),
        );
        self.notes.todo(Target::Method, m);
    }

    /// An error example in the envelope the client decodes, the `n`th of the page: added
    /// under its code's status; its code's status and message fill what the codes table left
    /// open, and a code the table does not list is added.
    fn error_example(
        &mut self,
        body: Value,
        status: Option<u16>,
        n: usize,
        p: &Placed<'_>,
        line: usize,
    ) {
        let code = example_code(&body);
        let message = body
            .get("error_description")
            .or_else(|| body.get("result").and_then(|r| r.get("error_description")))
            .and_then(Value::as_str)
            .map(str::to_string);
        let documented = code
            .as_ref()
            .and_then(|c| self.spec.errors.iter().position(|e| &e.code == c));
        let st = match (documented, status) {
            (Some(i), _) if !self.code_status_guessed(i) => self.spec.errors[i].status,
            (_, Some(s)) => s,
            _ => 400,
        };
        if let Some(i) = documented {
            let was_guessed = self.code_status_guessed(i);
            let e = &mut self.spec.errors[i];
            if let (true, Some(s)) = (was_guessed, status) {
                e.status = s;
                self.notes.set_status_guessed(&e.code, false);
            }
            if e.message.is_none() {
                e.message = message.clone();
            }
        }
        if let (Some(c), None) = (&code, documented) {
            if body.get("error").is_some() && b24_core::PortalErrorCode::parse(c).is_none() {
                self.example_only_error(c, st, status.is_none(), message, c_line(c, p));
            }
        }
        let name = self.error_example_name(code.as_deref(), n);
        let description = format!(
            "Error{}, from the {} docs page.",
            code.as_ref().map(|c| format!(" `{c}`")).unwrap_or_default(),
            self.template_name()
        );
        self.example(name, description, st, body, line);
    }

    /// Whether the page gives no HTTP status for the `i`th error.
    fn code_status_guessed(&self, i: usize) -> bool {
        self.spec
            .errors
            .get(i)
            .is_some_and(|e| self.notes.status_guessed(&e.code))
    }

    /// An error code an example shows but the codes table does not list.
    fn example_only_error(
        &mut self,
        code: &str,
        status: u16,
        status_guessed: bool,
        message: Option<String>,
        line: usize,
    ) {
        self.notes.note(
            Target::Error(code.to_string()),
            line,
            format!("error `{code}` appears in an example but not in the codes table"),
        );
        self.add_error(
            ErrorCode {
                code: code.to_string(),
                status,
                message,
                description: "TODO: only in an example of the docs.".into(),
                note: None,
            },
            status_guessed,
            line,
        );
    }

    /// `error-<code>` (`error-<n>` without a code), made unique with `-<n>`.
    fn error_example_name(&self, code: Option<&str>, n: usize) -> String {
        let name = match code {
            Some(c) => format!("error-{}", c.to_ascii_lowercase().replace('_', "-")),
            None => format!("error-{n}"),
        };
        if self.spec.examples.iter().any(|e| e.name == name) {
            format!("{name}-{n}")
        } else {
            name
        }
    }

    /// A note on each error code the page gives no HTTP status for (`stated`: the statuses
    /// the section names without saying which code has which).
    fn note_guessed_statuses(&mut self, stated: &[u16]) {
        let guessed: Vec<String> = self
            .spec
            .errors
            .iter()
            .filter(|e| self.notes.status_guessed(&e.code))
            .map(|e| e.code.clone())
            .collect();
        for code in guessed {
            let target = Target::Error(code.clone());
            self.notes.note(
                target.clone(),
                self.notes.line(&target),
                if stated.is_empty() {
                    format!("the page gives no HTTP status for `{code}`: 400 assumed")
                } else {
                    let list: Vec<String> = stated.iter().map(u16::to_string).collect();
                    format!(
                        "the page names the statuses {} for its errors but not which one `{code}` has: 400 assumed",
                        list.join(", ")
                    )
                },
            );
        }
    }

    /// Adds an error code read at page line `line`.
    fn add_error(&mut self, e: ErrorCode, status_guessed: bool, line: usize) {
        let target = Target::Error(e.code.clone());
        self.notes.set_line(target, line);
        self.notes.set_status_guessed(&e.code, status_guessed);
        self.spec.errors.push(e);
    }

    /// An error a REST 3.0 page names in a `Код ошибки:` line; `table` lists the fields it is
    /// about (`Поле | Описание ошибки | Как исправить`).
    fn v3_error(&mut self, code: String, line: usize, table: Option<&Table>) {
        let mut cases = Vec::new();
        if let Some(t) = table {
            for row in t.rows.iter().skip(1) {
                let field = row.cells.first().map(|c| plain(c)).unwrap_or_default();
                let text = row.cells.get(1).map(|c| plain(c)).unwrap_or_default();
                if text.is_empty() {
                    continue;
                }
                let field = field.trim_matches('`');
                cases.push(if field.is_empty() || field == "-" {
                    text
                } else {
                    format!("`{field}`: {text}")
                });
            }
        }
        let target = Target::Error(code.clone());
        let description = match cases.len() {
            0 => {
                self.notes
                    .note(target, line, format!("error `{code}` has no description"));
                "TODO: no description in the docs.".to_string()
            }
            1 => cases.remove(0),
            _ => format!("Several cases:\n- {}", cases.join("\n- ")),
        };
        if let Some(e) = self.spec.errors.iter_mut().find(|e| e.code == code) {
            e.description.push_str(&format!("\n- {description}"));
            return;
        }
        self.add_error(
            ErrorCode {
                code,
                status: 400,
                message: None,
                description,
                note: None,
            },
            true,
            line,
        );
    }
}

/// The text of a row's cell `i`.
fn cell(row: &Row, i: Option<usize>) -> Option<String> {
    i.and_then(|i| row.cells.get(i)).map(|c| plain(c))
}

/// A codes-table row's HTTP status, and whether it is guessed (400: the row states none).
fn row_status(cols: &Columns, row: &Row) -> (u16, bool) {
    match cell(row, cols.status)
        .map(|s| s.replace('`', ""))
        .and_then(|s| s.trim().parse::<u16>().ok())
    {
        Some(s) => (s, false),
        None => (400, true),
    }
}

/// A codes-table row's message (the portal's text, when the table has a column explaining
/// it) and description.
fn row_message(cols: &Columns, row: &Row) -> (Option<String>, String) {
    if cols.meaning.is_some() {
        (
            cell(row, cols.message).map(|m| literal_text(&m)),
            cell(row, cols.meaning).unwrap_or_default(),
        )
    } else {
        (
            None,
            cell(row, cols.message)
                .or(cell(row, cols.description))
                .unwrap_or_default(),
        )
    }
}

/// The code of an error example in the envelope (`error`, or `result.error`).
fn example_code(body: &Value) -> Option<String> {
    body.get("error")
        .or_else(|| body.get("result").and_then(|r| r.get("error")))
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Every status the section's `HTTP-статус` lines name (`**400**, **403**`), in order.
fn stated_statuses(errs: &[&Placed<'_>]) -> Vec<u16> {
    let mut out: Vec<u16> = Vec::new();
    for p in errs {
        let Block::Text { text, .. } = p.block else {
            continue;
        };
        if http_status(text).is_none() {
            continue;
        }
        let numbers = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|w| w.len() == 3)
            .filter_map(|w| w.parse::<u16>().ok())
            .filter(|n| (400..600).contains(n));
        for n in numbers {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}

/// `Код ошибки: `CODE`` / `Error code: `CODE``: the code, when it is one.
fn v3_code_line(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    if !(lower.starts_with("код ошибки") || lower.starts_with("error code")) {
        return None;
    }
    let code = code_spans(text).into_iter().next()?;
    let valid = !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    valid.then_some(code)
}

/// A portal message as the page writes it in a cell: one code span (`` `Access denied` ``)
/// is the literal text without its backticks.
fn literal_text(cell: &str) -> String {
    let t = cell.trim();
    let t = match t.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        Some(inner) if !inner.contains('`') => inner,
        _ => t,
    };
    unescape_json(t)
}

/// `\u003Cbr\u003E` → `<br>`: a message the page copied from the portal's JSON with its
/// escapes. Anything else is kept as written.
fn unescape_json(text: &str) -> String {
    if !text.contains("\\u") {
        return text.to_string();
    }
    // Markdown writes the escape's backslash as `\\`.
    let text = text.replace("\\\\u", "\\u");
    let text = text.as_str();
    let quoted = format!("\"{}\"", text.replace('"', "\\\""));
    serde_json::from_str::<String>(&quoted).unwrap_or_else(|_| text.to_string())
}

fn c_line(_code: &str, p: &Placed<'_>) -> usize {
    match p.block {
        Block::Code(c) => c.line,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::literal_text;

    #[test]
    fn messages_as_the_portal_sends_them() {
        assert_eq!(literal_text("`Access denied`"), "Access denied");
        assert_eq!(
            literal_text("Line one\\u003Cbr\\u003ELine two"),
            "Line one<br>Line two"
        );
        assert_eq!(literal_text("прав.\\\\u003Cbr\\\\u003E"), "прав.<br>");
        // A backslash that is no JSON escape stays as written.
        assert_eq!(literal_text("a \\u12 \\d"), "a \\u12 \\d");
    }
}
