//! The answer: the success example, the envelope table, and the result's type (from its
//! table, or from the example and the 2024 template's key list).

use b24_spec::{Field, Scalar, TypeExpr};
use serde_json::{Map, Value};

use crate::markdown::{plain, Block};
use crate::notes::Target;

use super::examples::http_status;
use super::objects::{field, norm, object, RawObject};
use super::sections::{Placed, SectionKind};
use super::tables::{
    is_field_table, is_key_list, is_returned_data, row_info, table_columns, RowInfo,
};
use super::types::infer;
use super::{ImportError, Importer};

impl Importer<'_> {
    /// The answer section: the result's type and description (from the envelope table, or
    /// from the example) and the success example.
    pub(super) fn response(&mut self, placed: &[Placed<'_>]) -> Result<(), ImportError> {
        let resp: Vec<&Placed<'_>> = placed
            .iter()
            .filter(|p| p.section == SectionKind::Response)
            .collect();
        let (status, example) = self.success_example(&resp);
        let result_row = self.envelope_table(&resp);
        let key_list = self.key_list(&resp);
        match result_row {
            Some((row, synthesized)) => self.result_from_row(&row, synthesized),
            None => self.result_without_table(&resp, example.as_ref(), &key_list),
        }
        let first_line = example.as_ref().map(|(_, line)| *line);
        self.add_success_example(status, example);
        if let Some(first) = first_line {
            self.more_success_examples(&resp, first);
        }
        Ok(())
    }

    /// Further whole answers of the section (`{"result": ...}` without `error`, after the
    /// first): more success examples (`success-2`, ...). A JSON block showing one element's
    /// shape has no `result` and is not one.
    fn more_success_examples(&mut self, resp: &[&Placed<'_>], first: usize) {
        let mut n = 1;
        for p in resp {
            let Block::Code(c) = p.block else { continue };
            if c.line <= first || !(c.lang == "json" || c.text.trim_start().starts_with('{')) {
                continue;
            }
            let Ok(body) = serde_json::from_str::<Value>(&c.text) else {
                continue;
            };
            let answer = body.get("result").is_some() && body.get("error").is_none();
            if !answer || self.spec.examples.iter().any(|e| e.body == body) {
                continue;
            }
            // One `result` type describes every answer: one of another kind (an id where the
            // first answer shows an object) is another mode of the method.
            let kind = |v: Option<&Value>| v.map(std::mem::discriminant);
            let first_kind = self
                .spec
                .examples
                .iter()
                .find(|e| e.name == "success")
                .and_then(|e| kind(e.body.get("result")));
            if first_kind != kind(body.get("result")) {
                let m = self.warn(
                    c.line,
                    "the page shows another answer whose `result` has another shape (another mode of the method): it is not imported; a spec types `result` once",
                );
                self.notes.todo(Target::Method, m);
                continue;
            }
            n += 1;
            let description = format!(
                "Success (answer {n} of the page), from the {} docs page.",
                self.template_name()
            );
            self.example(format!("success-{n}"), description, 200, body, c.line);
        }
    }

    /// The section's first JSON answer (with its line) and the last HTTP status the section
    /// states before it (200 when none). Later JSON blocks (the shape of one element under
    /// `### Структура ...`, a second answer) are not read as the answer.
    fn success_example(&mut self, resp: &[&Placed<'_>]) -> (u16, Option<(Value, usize)>) {
        let mut status = 200;
        let mut example = None;
        for p in resp {
            match p.block {
                Block::Text { text, .. } if example.is_none() => {
                    if let Some(s) = http_status(text) {
                        status = s;
                    }
                }
                Block::Code(c)
                    if example.is_none()
                        && (c.lang == "json" || c.text.trim_start().starts_with('{')) =>
                {
                    let Some(v) = self.example_json(c) else {
                        continue;
                    };
                    let v = self.enveloped(v, c.line);
                    if example.is_none() {
                        example = Some((v, c.line));
                    }
                }
                _ => {}
            }
        }
        (status, example)
    }

    /// An answer as the portal sends it: one showing only the value of `result` is wrapped
    /// in `{"result": ...}` (with a warning).
    fn enveloped(&mut self, v: Value, line: usize) -> Value {
        let enveloped = v
            .as_object()
            .is_some_and(|o| o.contains_key("result") || o.contains_key("error"));
        if enveloped {
            return v;
        }
        let m = self.warn(
            line,
            "the answer example shows only the value of `result`: it is wrapped in `{\"result\": ...}`",
        );
        self.notes.todo(Target::Result, m);
        let mut env = serde_json::Map::new();
        env.insert("result".into(), v);
        Value::Object(env)
    }

    /// The envelope table (rows `result`, `time`, `next`, `total`): the `result` row, and the
    /// object made of the keys the table lists for `result`, if it made one. A `next` or
    /// `total` row makes the result paged.
    fn envelope_table(&mut self, resp: &[&Placed<'_>]) -> Option<(RowInfo, Option<usize>)> {
        for p in resp {
            let Block::Table(t) = p.block else { continue };
            if !is_field_table(t) || p.sub.is_some_and(|h| !is_returned_data(&h.text)) {
                continue;
            }
            let (cols, data) = table_columns(t);
            let rows: Vec<RowInfo> = data.iter().filter_map(|r| row_info(&cols, r)).collect();
            for r in &rows {
                if r.name == "next" || r.name == "total" {
                    self.spec.result.paged = true;
                }
            }
            if rows.iter().any(|r| r.name == "result") {
                return Some(self.result_row(rows));
            }
            // No `result` row: the table lists the keys of `result` itself.
            if let Some(found) = self.result_keys(rows, t.line) {
                return Some(found);
            }
        }
        None
    }

    /// The `result` row of an envelope table that has one. `|| result (object) || ID || TYPE
    /// || ... || time ||`: the rows between an unlinked `result` object and `time` are its
    /// keys, made into an object.
    fn result_row(&mut self, rows: Vec<RowInfo>) -> (RowInfo, Option<usize>) {
        let (mut results, others): (Vec<RowInfo>, Vec<RowInfo>) =
            rows.into_iter().partition(|r| r.name == "result");
        let keys: Vec<RowInfo> = others
            .into_iter()
            .filter(|r| !matches!(r.name.as_str(), "time" | "next" | "total"))
            .collect();
        let row = results.remove(0);
        let unlinked_object = row.anchors.is_empty() && row.types.iter().any(|t| t == "object");
        let mut synthesized = None;
        if unlinked_object && !keys.is_empty() {
            let description = Some(row.description.clone());
            synthesized = Some(self.result_object(keys, row.line, description));
        }
        (row, synthesized)
    }

    /// An envelope table without a `result` row, listing the keys of `result` itself (on
    /// page line `line`): a `result` row typed as the object they make; none when the table
    /// lists no keys besides `time`, `next` and `total`.
    fn result_keys(&mut self, rows: Vec<RowInfo>, line: usize) -> Option<(RowInfo, Option<usize>)> {
        let keys: Vec<RowInfo> = rows
            .into_iter()
            .filter(|r| !matches!(r.name.as_str(), "time" | "next" | "total"))
            .collect();
        if keys.is_empty() {
            return None;
        }
        let synthesized = self.result_object(keys, line, None);
        let row = RowInfo {
            name: "result".into(),
            required: true,
            types: vec!["object".into()],
            anchors: Vec::new(),
            description: "The result (the keys the page's `Возвращаемые данные` table lists)."
                .into(),
            raw_description: String::new(),
            example: None,
            line,
        };
        Some((row, Some(synthesized)))
    }

    /// An object candidate for `result` made of the envelope table's `keys`; its index.
    fn result_object(
        &mut self,
        keys: Vec<RowInfo>,
        line: usize,
        description: Option<String>,
    ) -> usize {
        self.raw.push(RawObject {
            word: "result".into(),
            anchor: None,
            is_item: false,
            params: false,
            heading: "Возвращаемые данные".into(),
            rows: keys,
            line,
            name: None,
            description,
        });
        self.raw.len() - 1
    }

    /// The result from the envelope table's `result` row (typed as `synthesized`, the object
    /// made of the table's keys, when there is one).
    fn result_from_row(&mut self, row: &RowInfo, synthesized: Option<usize>) {
        let (mut ty, guessed, note) = match synthesized {
            Some(i) => (self.linked(i, false), false, None),
            None => {
                let rt = self.row_type(row, false);
                (rt.ty, rt.guessed, rt.note)
            }
        };
        if ty == TypeExpr::Scalar(Scalar::Object) {
            // Result described right under `### Объект result` without a link.
            if let Some(i) = self.result_object_below() {
                ty = self.linked(i, false);
            }
        }
        self.spec.result.ty = ty;
        self.notes.set_ty_guessed(Target::Result, guessed);
        self.spec.result.description = if row.description.is_empty() {
            let m = self.warn(row.line, "`result` has no description");
            self.notes.todo(Target::Result, m);
            "TODO: no description in the docs.".into()
        } else {
            row.description.clone()
        };
        if let Some(n) = note {
            let m = self.warn(row.line, n);
            self.notes.todo(Target::Result, m);
        }
    }

    /// The table describing `result` under a `###` heading (the last one without an anchor,
    /// else the first).
    fn result_object_below(&self) -> Option<usize> {
        self.raw
            .iter()
            .rposition(|o| !o.params && norm(&o.word) == "result" && o.anchor.is_none())
            .or_else(|| {
                self.raw
                    .iter()
                    .position(|o| !o.params && norm(&o.word) == "result")
            })
    }

    /// 2024 template: no table of the result; its type comes from the example, its keys'
    /// descriptions from `Описание ключей`.
    fn result_without_table(
        &mut self,
        resp: &[&Placed<'_>],
        example: Option<&(Value, usize)>,
        key_list: &[(String, String, usize)],
    ) {
        let line = example.map_or(0, |(_, l)| *l);
        match example.and_then(|(v, _)| v.get("result")) {
            Some(result) => {
                let ty = self.result_from_example(result, key_list, line);
                self.spec.result.ty = ty;
                let m = self.warn(
                    line,
                    "the page has no table of the result: its type is inferred from the example",
                );
                self.notes.todo(Target::Result, m);
            }
            None => {
                let described = result_description(resp, false);
                let words = !described.starts_with("TODO");
                let m = self.warn(
                    line,
                    if words {
                        "the page describes the result only in words (no table of it, no example): typed `any`"
                    } else {
                        "the page documents neither the result's type nor an example: typed `any`"
                    },
                );
                self.notes.todo(Target::Result, m);
            }
        }
        self.notes.set_ty_guessed(Target::Result, true);
        self.spec.result.description = result_description(resp, example.is_some());
    }

    /// Adds the success example, under HTTP `status` (200 for an answer with `result` the
    /// page gives an error status); notes a page without one.
    fn add_success_example(&mut self, status: u16, example: Option<(Value, usize)>) {
        let Some((body, line)) = example else {
            let m = self.warn(0, "the page has no example of a successful answer");
            self.notes.todo(Target::Method, m);
            return;
        };
        // A success answer (`result`, no `error`) under an error status is the page's
        // slip: the portal answers it with 200.
        let status = if status >= 400 && body.get("error").is_none() {
            let m = self.warn(
                line,
                format!("the page gives HTTP {status} for its answer with `result`: 200 assumed"),
            );
            self.notes.todo(Target::Method, m);
            200
        } else {
            status
        };
        let description = format!("Success, from the {} docs page.", self.template_name());
        self.example("success".into(), description, status, body, line);
    }

    /// `- `key` – description` items under `### Описание ключей` (2024 template).
    fn key_list(&self, resp: &[&Placed<'_>]) -> Vec<(String, String, usize)> {
        let mut out = Vec::new();
        for p in resp {
            if !p.sub.is_some_and(|h| is_key_list(&h.text)) {
                continue;
            }
            if let Block::Text { text, line } = p.block {
                let Some(item) = text.strip_prefix("- ") else {
                    continue;
                };
                // The key opens the item, in a code span or bold: `` `key` – ... ``,
                // `**key** - ...`, ``**`key`** - ...``.
                let Some((k, after)) = leading_key(item) else {
                    continue;
                };
                if out.iter().any(|(seen, _, _)| *seen == k) {
                    continue;
                }
                let after = after.trim_start_matches([' ', '–', '-', '—', ':']).trim();
                out.push((k, plain(after), *line));
            }
        }
        out
    }

    /// The result's type from the example's `result`: an object (or an array of objects)
    /// becomes `<Method>Result` with the example's keys, described by `keys` (the key list),
    /// plus the described keys the example lacks; anything else is inferred.
    fn result_from_example(
        &mut self,
        result: &Value,
        keys: &[(String, String, usize)],
        line: usize,
    ) -> TypeExpr {
        let (obj, array) = match result {
            Value::Object(m) => (Some(m.clone()), false),
            Value::Array(items) => match items.first() {
                Some(Value::Object(m)) => (Some(m.clone()), true),
                _ => (None, false),
            },
            _ => (None, false),
        };
        let Some(obj) = obj else {
            return infer(result);
        };
        let name = self.result_name();
        self.used_names.insert(name.clone());
        let mut fields = self.example_fields(&name, &obj, keys, line);
        fields.extend(self.absent_keys(&name, &obj, keys));
        self.notes.note(
            Target::Object(name.clone()),
            line,
            format!("the keys of `{name}` and their types come from the example (the page has no table)"),
        );
        self.notes.set_line(Target::Object(name.clone()), line);
        self.spec.objects.push(object(
            &name,
            "The result (from the docs' example).".into(),
            fields,
        ));
        let ty = TypeExpr::Named(name);
        if array {
            TypeExpr::array_of(ty)
        } else {
            ty
        }
    }

    /// The fields of `name` from the example's keys, typed from their values.
    fn example_fields(
        &mut self,
        name: &str,
        obj: &Map<String, Value>,
        keys: &[(String, String, usize)],
        line: usize,
    ) -> Vec<Field> {
        let mut fields = Vec::new();
        for (k, v) in obj {
            let desc = keys.iter().find(|(n, _, _)| n == k);
            let target = Target::field(name, k);
            let description = match desc {
                Some((_, d, _)) if !d.is_empty() => d.clone(),
                _ => {
                    self.notes.note(
                        target.clone(),
                        line,
                        format!("result key `{k}` is in the example but has no description"),
                    );
                    "TODO: no description in the docs.".into()
                }
            };
            let ty = if v.is_null() {
                self.notes.note(
                    target.clone(),
                    line,
                    format!("result key `{k}` is `null` in the example: its type is unknown"),
                );
                TypeExpr::Scalar(Scalar::Any)
            } else {
                infer(v)
            };
            self.notes.set_ty_guessed(target.clone(), true);
            self.notes.set_line(target, desc.map_or(line, |d| d.2));
            fields.push(field(k, ty, false, description));
        }
        fields
    }

    /// The fields of `name` for keys the key list describes but the example lacks: optional
    /// and untyped.
    fn absent_keys(
        &mut self,
        name: &str,
        obj: &Map<String, Value>,
        keys: &[(String, String, usize)],
    ) -> Vec<Field> {
        let mut fields = Vec::new();
        for (k, d, l) in keys {
            if !obj.contains_key(k) && !k.starts_with("error") {
                let target = Target::field(name, k);
                self.notes.note(
                    target.clone(),
                    *l,
                    format!("result key `{k}` is described but absent from the example: untyped"),
                );
                self.notes.set_ty_guessed(target.clone(), true);
                self.notes.set_line(target, *l);
                let description = if d.is_empty() {
                    "TODO: no description in the docs.".into()
                } else {
                    d.clone()
                };
                fields.push(field(k, TypeExpr::Scalar(Scalar::Any), true, description));
            }
        }
        fields
    }
}

/// The result's description when the page has no table of it: the first text of the
/// section outside a `###` heading that is no include, list item or HTTP status.
fn result_description(resp: &[&Placed<'_>], has_example: bool) -> String {
    match resp.iter().find_map(|p| match p.block {
        Block::Text { text, .. }
            if !text.starts_with("{%")
                && !text.starts_with("- ")
                && !text.contains("HTTP-статус")
                && http_status(text).is_none()
                && !text.trim_start_matches('>').trim().is_empty()
                && p.sub.is_none() =>
        {
            Some(plain(text))
        }
        _ => None,
    }) {
        Some(d) => d,
        None if has_example => "The method's result (see the example).".into(),
        None => "TODO: the docs describe no result.".into(),
    }
}

/// The key a list item opens with (`` `key` ``, `**key**` or ``**`key`**``) and the text after
/// it; `None` when the item opens with anything else or the key is not a plain name.
fn leading_key(item: &str) -> Option<(String, &str)> {
    let (key, after) = if let Some(rest) = item.strip_prefix("**") {
        let end = rest.find("**")?;
        (rest.get(..end)?.trim_matches('`'), rest.get(end + 2..)?)
    } else if let Some(rest) = item.strip_prefix('`') {
        let end = rest.find('`')?;
        (rest.get(..end)?, rest.get(end + 1..)?)
    } else {
        return None;
    };
    let plain_name = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']'));
    plain_name.then(|| (key.to_string(), after))
}
