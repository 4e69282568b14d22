//! Reading a spec file: TOML with spans → validated [`Spec`].
//!
//! The reader walks the spanned TOML tree by hand so that every error names the dotted key it
//! is about and the line and column where that key is written.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::model::*;
use crate::types::{is_type_name, shorten, TypeExpr};
use crate::SpecError;

type Table<'i> = DeTable<'i>;

/// Parses and validates one method spec file from its text. `file` is only used in messages.
/// An event spec (a file with `event = "..."`) is an error here; see [`parse_file`].
pub fn parse_spec(file: &Path, src: &str) -> Result<Spec, SpecError> {
    match parse_file(file, src)? {
        SpecFile::Method(spec) => Ok(spec),
        SpecFile::Event(e) => Err(SpecError {
            location: e.location,
            key: "event".into(),
            message: format!(
                "`{}` is an event spec, not a method spec (event specs live in `spec/events/`)",
                e.event
            ),
        }),
    }
}

/// Parses and validates one spec file, a method (`method = "..."`) or an event
/// (`event = "..."`), from its text. `file` is only used in messages.
pub fn parse_file(file: &Path, src: &str) -> Result<SpecFile, SpecError> {
    let cx = Cx { file, src };
    let doc = match DeTable::parse(src) {
        Ok(doc) => doc,
        Err(e) => {
            let span = e.span().unwrap_or_else(|| {
                let at = long_dotted_key(src).unwrap_or(0);
                at..at
            });
            return Err(cx.error(span, "", format!("invalid TOML: {}", e.message().trim())));
        }
    };
    let table = doc.get_ref();
    if table.get("event").is_some() && table.get("method").is_none() {
        let event = cx.event(table, doc.span())?;
        return validate_event(&cx, event).map(SpecFile::Event);
    }
    let spec = cx.spec(table, doc.span())?;
    validate(&cx, spec).map(SpecFile::Method)
}

/// Where the first dotted key that is too long for the TOML reader probably is: the start of
/// the first line with 79 or more dots outside quotes. The reader rejects such a key (`a.b.…`,
/// 80 parts or more) with "recursion limit" but without a position; this gives the error a line.
fn long_dotted_key(src: &str) -> Option<usize> {
    let mut start = 0;
    for line in src.split_inclusive('\n') {
        let mut quote = None;
        let mut dots = 0usize;
        for c in line.chars() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '.') => dots += 1,
                (None, '#') => break,
                _ => {}
            }
        }
        if dots >= 79 {
            return Some(start);
        }
        start += line.len();
    }
    None
}

struct Cx<'a> {
    file: &'a Path,
    src: &'a str,
}

type Res<T> = Result<T, SpecError>;

/// What every example has: its name, its body as written and as JSON, and where the body is.
struct ExampleHead {
    name: String,
    raw: String,
    body: serde_json::Value,
    body_span: Range<usize>,
    body_key: String,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Cx<'_> {
    fn location(&self, span: &Range<usize>) -> Location {
        // A span from the TOML reader starts on a character; should one ever not, the
        // location is that of the character it falls in rather than a panic.
        let mut offset = span.start.min(self.src.len());
        while !self.src.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = self.src.get(..offset).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
            before[nl + 1..].chars().count()
        }) + 1;
        Location {
            file: self.file.to_path_buf(),
            line,
            column,
        }
    }

    fn error(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> SpecError {
        SpecError {
            location: self.location(&span),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn check_keys(&self, t: &Table<'_>, path: &str, allowed: &[&str]) -> Res<()> {
        for (k, _) in t.iter() {
            if !allowed.contains(&k.get_ref().as_ref()) {
                return Err(self.error(
                    k.span(),
                    &join(path, k.get_ref()),
                    format!(
                        "unknown key `{}`; expected one of: {}",
                        k.get_ref(),
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn get<'t, 'i>(&self, t: &'t Table<'i>, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        t.get(key)
    }

    fn req<'t, 'i>(
        &self,
        t: &'t Table<'i>,
        span: &Range<usize>,
        path: &str,
        key: &str,
    ) -> Res<&'t Spanned<DeValue<'i>>> {
        self.get(t, key).ok_or_else(|| {
            self.error(
                span.clone(),
                &join(path, key),
                format!("missing required key `{key}`"),
            )
        })
    }

    fn as_str(&self, v: &Spanned<DeValue<'_>>, key: &str) -> Res<String> {
        match v.get_ref() {
            DeValue::String(s) => Ok(s.to_string()),
            other => Err(self.error(
                v.span(),
                key,
                format!("expected a string, found {}", other.type_str()),
            )),
        }
    }

    fn as_bool(&self, v: &Spanned<DeValue<'_>>, key: &str) -> Res<bool> {
        v.get_ref().as_bool().ok_or_else(|| {
            self.error(
                v.span(),
                key,
                format!("expected true or false, found {}", v.get_ref().type_str()),
            )
        })
    }

    fn as_table<'t, 'i>(&self, v: &'t Spanned<DeValue<'i>>, key: &str) -> Res<&'t Table<'i>> {
        v.get_ref().as_table().ok_or_else(|| {
            self.error(
                v.span(),
                key,
                format!("expected a table, found {}", v.get_ref().type_str()),
            )
        })
    }

    fn as_array<'t, 'i>(
        &self,
        v: &'t Spanned<DeValue<'i>>,
        key: &str,
    ) -> Res<&'t [Spanned<DeValue<'i>>]> {
        v.get_ref().as_array().map(|a| &a[..]).ok_or_else(|| {
            self.error(
                v.span(),
                key,
                format!("expected an array, found {}", v.get_ref().type_str()),
            )
        })
    }

    fn req_str(&self, t: &Table<'_>, span: &Range<usize>, path: &str, key: &str) -> Res<String> {
        let v = self.req(t, span, path, key)?;
        let s = self.as_str(v, &join(path, key))?;
        if s.trim().is_empty() {
            return Err(self.error(v.span(), &join(path, key), "must not be empty"));
        }
        Ok(s)
    }

    fn opt_str(&self, t: &Table<'_>, path: &str, key: &str) -> Res<Option<String>> {
        self.get(t, key)
            .map(|v| self.as_str(v, &join(path, key)))
            .transpose()
    }

    fn opt_bool(&self, t: &Table<'_>, path: &str, key: &str) -> Res<Option<bool>> {
        self.get(t, key)
            .map(|v| self.as_bool(v, &join(path, key)))
            .transpose()
    }

    fn str_list(&self, t: &Table<'_>, path: &str, key: &str) -> Res<Vec<String>> {
        let Some(v) = self.get(t, key) else {
            return Ok(Vec::new());
        };
        let p = join(path, key);
        self.as_array(v, &p)?
            .iter()
            .enumerate()
            .map(|(i, item)| self.as_str(item, &format!("{p}[{i}]")))
            .collect()
    }

    fn status(&self, t: &Table<'_>, span: &Range<usize>, path: &str) -> Res<u16> {
        let v = self.req(t, span, path, "status")?;
        let key = join(path, "status");
        let n = match v.get_ref() {
            DeValue::Integer(n) => u64::from_str_radix(n.as_str(), n.radix()).ok(),
            _ => None,
        }
        .filter(|n| (100..600).contains(n))
        .ok_or_else(|| self.error(v.span(), &key, "expected an HTTP status (100..599)"))?;
        Ok(n as u16)
    }

    fn ty(&self, v: &Spanned<DeValue<'_>>, key: &str) -> Res<TypeExpr> {
        let text = self.as_str(v, key)?;
        TypeExpr::parse(&text).map_err(|m| self.error(v.span(), key, m))
    }

    /// A type that may be written as `enum` with inline `values`: the values become a named
    /// enum (`enum_name`, or the key's name in PascalCase).
    fn ty_or_inline_enum(
        &self,
        t: &Table<'_>,
        span: &Range<usize>,
        path: &str,
        owner: &str,
        enums: &mut Vec<EnumDef>,
    ) -> Res<TypeExpr> {
        let ty_v = self.req(t, span, path, "type")?;
        let ty_key = join(path, "type");
        let text = self.as_str(ty_v, &ty_key)?;
        let has_values = self.get(t, "values").is_some();
        let base = text
            .split('|')
            .map(str::trim)
            .filter(|p| *p != "null")
            .collect::<Vec<_>>();
        if base.len() == 1 && (base[0] == "enum" || base[0] == "enum[]") {
            if !has_values {
                return Err(self.error(
                    ty_v.span(),
                    &ty_key,
                    "`enum` needs its values: add `values = [...]` next to `type`",
                ));
            }
            let name = match self.opt_str(t, path, "enum_name")? {
                Some(n) => n,
                None => pascal_case(owner),
            };
            let values = self.enum_values(self.req(t, span, path, "values")?, path)?;
            let description = self
                .opt_str(t, path, "description")?
                .unwrap_or_else(|| format!("Values of `{owner}`."));
            enums.push(EnumDef {
                name: name.clone(),
                description,
                values,
                location: self.location(&ty_v.span()),
            });
            let rewritten = text.replacen(base[0], &base[0].replacen("enum", &name, 1), 1);
            return TypeExpr::parse(&rewritten).map_err(|m| self.error(ty_v.span(), &ty_key, m));
        }
        if has_values {
            return Err(self.error(
                ty_v.span(),
                &ty_key,
                format!(
                    "`values` is only allowed with `type = \"enum\"`, found `{}`",
                    shorten(&text)
                ),
            ));
        }
        self.ty(ty_v, &ty_key)
    }

    fn enum_values(&self, v: &Spanned<DeValue<'_>>, path: &str) -> Res<Vec<EnumValue>> {
        let key = join(path, "values");
        let items = self.as_array(v, &key)?;
        if items.is_empty() {
            return Err(self.error(v.span(), &key, "an enum needs at least one value"));
        }
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let ikey = format!("{key}[{i}]");
            let value = match item.get_ref() {
                DeValue::String(s) => EnumValue {
                    value: s.to_string(),
                    description: None,
                },
                DeValue::Integer(n) => EnumValue {
                    value: n.as_str().to_string(),
                    description: None,
                },
                DeValue::Table(t) => {
                    self.check_keys(t, &ikey, &["value", "description"])?;
                    let value_v = self.req(t, &item.span(), &ikey, "value")?;
                    let value = match value_v.get_ref() {
                        DeValue::Integer(n) => n.as_str().to_string(),
                        _ => self.as_str(value_v, &join(&ikey, "value"))?,
                    };
                    EnumValue {
                        value,
                        description: self.opt_str(t, &ikey, "description")?,
                    }
                }
                other => {
                    return Err(self.error(
                        item.span(),
                        &ikey,
                        format!(
                            "expected a string or {{ value, description }}, found {}",
                            other.type_str()
                        ),
                    ))
                }
            };
            if out.iter().any(|v: &EnumValue| v.value == value.value) {
                return Err(self.error(
                    item.span(),
                    &ikey,
                    format!("duplicate value `{}`", value.value),
                ));
            }
            out.push(value);
        }
        Ok(out)
    }

    fn spec(&self, t: &Table<'_>, span: Range<usize>) -> Res<Spec> {
        self.check_keys(
            t,
            "",
            &[
                "method",
                "scope",
                "summary",
                "description",
                "docs",
                "access",
                "kind",
                "rust_name",
                "params",
                "one_of",
                "result",
                "objects",
                "enums",
                "errors",
                "examples",
            ],
        )?;
        let method_v = self.req(t, &span, "", "method")?;
        let method = self.as_str(method_v, "method")?;
        let valid_method = method.split('.').count() >= 2
            && method
                .split('.')
                .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()))
            && method.starts_with(|c: char| c.is_ascii_lowercase());
        if !valid_method {
            return Err(self.error(
                method_v.span(),
                "method",
                format!("`{method}` is not a REST method name (`namespace.part.part`)"),
            ));
        }
        let kind_v = self.req(t, &span, "", "kind")?;
        let kind = match self.as_str(kind_v, "kind")?.as_str() {
            "read" => MethodKind::Read,
            "write" => MethodKind::Write,
            other => {
                return Err(self.error(
                    kind_v.span(),
                    "kind",
                    format!("expected \"read\" or \"write\", found \"{other}\""),
                ))
            }
        };
        let rust_name = match self.get(t, "rust_name") {
            Some(v) => {
                let n = self.as_str(v, "rust_name")?;
                if !is_snake_ident(&n) {
                    return Err(self.error(
                        v.span(),
                        "rust_name",
                        format!("`{n}` is not a snake_case identifier"),
                    ));
                }
                n
            }
            None => default_rust_name(&method),
        };
        let mut enums = Vec::new();
        let params = self.params(t, &mut enums)?;
        let one_of = self.one_of(t)?;
        let result = {
            let v = self.req(t, &span, "", "result")?;
            let rt = self.as_table(v, "result")?;
            self.check_keys(rt, "result", &["type", "description", "paged"])?;
            let ty_v = self.req(rt, &v.span(), "result", "type")?;
            ResultSpec {
                ty: self.ty(ty_v, "result.type")?,
                description: self.req_str(rt, &v.span(), "result", "description")?,
                paged: self.opt_bool(rt, "result", "paged")?.unwrap_or(false),
            }
        };
        let objects = self.objects(t, &mut enums)?;
        self.named_enums(t, &mut enums)?;
        let errors = self.errors(t)?;
        let examples = self.examples(t)?;
        Ok(Spec {
            location: self.location(&(0..0)),
            method,
            scope: self.req_str(t, &span, "", "scope")?,
            summary: self.req_str(t, &span, "", "summary")?,
            description: self.opt_str(t, "", "description")?,
            docs: self.req_str(t, &span, "", "docs")?,
            access: self.opt_str(t, "", "access")?,
            kind,
            rust_name,
            params,
            one_of,
            result,
            objects,
            enums,
            errors,
            examples,
        })
    }

    fn event(&self, t: &Table<'_>, span: Range<usize>) -> Res<EventSpec> {
        self.check_keys(
            t,
            "",
            &[
                "event",
                "scope",
                "summary",
                "description",
                "docs",
                "access",
                "data",
                "objects",
                "enums",
                "examples",
            ],
        )?;
        let event_v = self.req(t, &span, "", "event")?;
        let event = self.as_str(event_v, "event")?;
        let valid = event.len() > 2
            && event.starts_with("On")
            && event.chars().all(|c| c.is_ascii_alphanumeric())
            && event[2..].starts_with(|c: char| c.is_ascii_uppercase());
        if !valid {
            return Err(self.error(
                event_v.span(),
                "event",
                format!(
                    "`{event}` is not an event name (`OnSomethingHappened`, as the docs spell it)"
                ),
            ));
        }
        let mut enums = Vec::new();
        let data = {
            let v = self.req(t, &span, "", "data")?;
            let dt = self.as_table(v, "data")?;
            self.check_keys(dt, "data", &["type", "description"])?;
            let ty_v = self.req(dt, &v.span(), "data", "type")?;
            DataSpec {
                ty: self.ty(ty_v, "data.type")?,
                description: self.req_str(dt, &v.span(), "data", "description")?,
            }
        };
        let objects = self.objects(t, &mut enums)?;
        self.named_enums(t, &mut enums)?;
        let examples = self.event_examples(t, &event)?;
        Ok(EventSpec {
            location: self.location(&(0..0)),
            scope: self.req_str(t, &span, "", "scope")?,
            summary: self.req_str(t, &span, "", "summary")?,
            description: self.opt_str(t, "", "description")?,
            docs: self.req_str(t, &span, "", "docs")?,
            access: self.opt_str(t, "", "access")?,
            event,
            data,
            objects,
            enums,
            examples,
        })
    }

    /// The `name` (unique among `taken`) and the JSON `body` of an example, method or event.
    fn example_head<'n>(
        &self,
        et: &Table<'_>,
        span: &Range<usize>,
        p: &str,
        mut taken: impl Iterator<Item = &'n str>,
    ) -> Res<ExampleHead> {
        let name = self.req_str(et, span, p, "name")?;
        if taken.any(|n| n == name) {
            return Err(self.error(
                span.clone(),
                &join(p, "name"),
                format!("duplicate example name `{name}`"),
            ));
        }
        let body_v = self.req(et, span, p, "body")?;
        let body_key = join(p, "body");
        let raw = self.as_str(body_v, &body_key)?;
        let body = serde_json::from_str(&raw).map_err(|e| {
            self.error(
                body_v.span(),
                &body_key,
                format!("the body is not JSON: {e} (line {} of the body)", e.line()),
            )
        })?;
        Ok(ExampleHead {
            name,
            raw,
            body,
            body_span: body_v.span(),
            body_key,
        })
    }

    /// Documented handler payloads: JSON objects whose `event` is this event (the portal
    /// spells it in capitals) and which carry `data`.
    fn event_examples(&self, t: &Table<'_>, event: &str) -> Res<Vec<EventExample>> {
        let mut out: Vec<EventExample> = Vec::new();
        for (p, span, et) in self.array_of_tables(t, "examples")? {
            self.check_keys(et, &p, &["name", "description", "body"])?;
            let ExampleHead {
                name,
                raw,
                body,
                body_span,
                body_key: key,
            } = self.example_head(et, &span, &p, out.iter().map(|e| e.name.as_str()))?;
            let named = body.get("event").and_then(|v| v.as_str());
            if !named.is_some_and(|n| n.eq_ignore_ascii_case(event)) {
                return Err(self.error(
                    body_span,
                    &key,
                    format!(
                        "expected a handler payload with `\"event\": \"{}\"`, found {}",
                        event.to_ascii_uppercase(),
                        named.map_or("no `event` key".to_string(), |n| format!("`{n}`"))
                    ),
                ));
            }
            if body.get("data").is_none() {
                return Err(self.error(body_span, &key, "the payload has no `data` key"));
            }
            out.push(EventExample {
                description: self.req_str(et, &span, &p, "description")?,
                body,
                raw,
                location: self.location(&span),
                name,
            });
        }
        Ok(out)
    }

    fn array_of_tables<'t, 'i>(
        &self,
        t: &'t Table<'i>,
        key: &str,
    ) -> Res<Vec<(String, Range<usize>, &'t Table<'i>)>> {
        let Some(v) = self.get(t, key) else {
            return Ok(Vec::new());
        };
        let items = self.as_array(v, key)?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let p = format!("{key}[{i}]");
                let tbl = self.as_table(item, &p)?;
                Ok((p, item.span(), tbl))
            })
            .collect()
    }

    fn params(&self, t: &Table<'_>, enums: &mut Vec<EnumDef>) -> Res<Vec<Param>> {
        let mut out: Vec<Param> = Vec::new();
        for (p, span, pt) in self.array_of_tables(t, "params")? {
            self.check_keys(
                pt,
                &p,
                &[
                    "name",
                    "type",
                    "required",
                    "description",
                    "example",
                    "values",
                    "enum_name",
                ],
            )?;
            let name = self.req_str(pt, &span, &p, "name")?;
            if out.iter().any(|o| o.name.eq_ignore_ascii_case(&name)) {
                return Err(self.error(
                    span,
                    &join(&p, "name"),
                    format!("duplicate parameter `{name}` (parameter names are case-insensitive)"),
                ));
            }
            let ty = self.ty_or_inline_enum(pt, &span, &p, &name, enums)?;
            out.push(Param {
                ty,
                required: self.opt_bool(pt, &p, "required")?.unwrap_or(false),
                description: self.req_str(pt, &span, &p, "description")?,
                example: self
                    .get(pt, "example")
                    .map(|v| self.value(v, &join(&p, "example")))
                    .transpose()?,
                location: self.location(&span),
                name,
            });
        }
        Ok(out)
    }

    fn one_of(&self, t: &Table<'_>) -> Res<Vec<OneOf>> {
        let mut out = Vec::new();
        for (p, span, gt) in self.array_of_tables(t, "one_of")? {
            self.check_keys(gt, &p, &["name", "params", "description"])?;
            let name_v = self.req(gt, &span, &p, "name")?;
            let name = self.as_str(name_v, &join(&p, "name"))?;
            if !is_snake_ident(&name) {
                return Err(self.error(
                    name_v.span(),
                    &join(&p, "name"),
                    format!("`{name}` is not a snake_case identifier"),
                ));
            }
            let params = self.str_list(gt, &p, "params")?;
            out.push(OneOf {
                name,
                params,
                description: self.req_str(gt, &span, &p, "description")?,
                location: self.location(&span),
            });
        }
        Ok(out)
    }

    fn objects(&self, t: &Table<'_>, enums: &mut Vec<EnumDef>) -> Res<Vec<Object>> {
        let Some(v) = self.get(t, "objects") else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for (name, ov) in self.as_table(v, "objects")?.iter() {
            let p = format!("objects.{}", name.get_ref());
            if !is_type_name(name.get_ref()) {
                return Err(self.error(
                    name.span(),
                    &p,
                    format!("object name `{}` must be PascalCase", name.get_ref()),
                ));
            }
            let ot = self.as_table(ov, &p)?;
            self.check_keys(ot, &p, &["description", "fields", "untyped_keys"])?;
            let fields_v = self.req(ot, &ov.span(), &p, "fields")?;
            let fp = join(&p, "fields");
            let mut fields: Vec<Field> = Vec::new();
            for (fname, fv) in self.as_table(fields_v, &fp)?.iter() {
                let fpath = join(&fp, fname.get_ref());
                let ft = self.as_table(fv, &fpath)?;
                self.check_keys(
                    ft,
                    &fpath,
                    &[
                        "type",
                        "description",
                        "optional",
                        "aliases",
                        "note",
                        "values",
                        "enum_name",
                    ],
                )?;
                let ty = self.ty_or_inline_enum(ft, &fv.span(), &fpath, fname.get_ref(), enums)?;
                fields.push(Field {
                    name: fname.get_ref().to_string(),
                    ty,
                    description: self.req_str(ft, &fv.span(), &fpath, "description")?,
                    optional: self.opt_bool(ft, &fpath, "optional")?.unwrap_or(false),
                    aliases: self.str_list(ft, &fpath, "aliases")?,
                    note: self.opt_str(ft, &fpath, "note")?,
                    location: self.location(&fname.span()),
                });
            }
            out.push(Object {
                name: name.get_ref().to_string(),
                description: self.req_str(ot, &ov.span(), &p, "description")?,
                fields,
                untyped_keys: self.str_list(ot, &p, "untyped_keys")?,
                location: self.location(&name.span()),
            });
        }
        Ok(out)
    }

    fn named_enums(&self, t: &Table<'_>, enums: &mut Vec<EnumDef>) -> Res<()> {
        let Some(v) = self.get(t, "enums") else {
            return Ok(());
        };
        for (name, ev) in self.as_table(v, "enums")?.iter() {
            let p = format!("enums.{}", name.get_ref());
            if !is_type_name(name.get_ref()) {
                return Err(self.error(
                    name.span(),
                    &p,
                    format!("enum name `{}` must be PascalCase", name.get_ref()),
                ));
            }
            let et = self.as_table(ev, &p)?;
            self.check_keys(et, &p, &["description", "values"])?;
            enums.push(EnumDef {
                name: name.get_ref().to_string(),
                description: self.req_str(et, &ev.span(), &p, "description")?,
                values: self.enum_values(self.req(et, &ev.span(), &p, "values")?, &p)?,
                location: self.location(&name.span()),
            });
        }
        Ok(())
    }

    fn errors(&self, t: &Table<'_>) -> Res<Vec<ErrorCode>> {
        let mut out: Vec<ErrorCode> = Vec::new();
        for (p, span, et) in self.array_of_tables(t, "errors")? {
            self.check_keys(
                et,
                &p,
                &["code", "status", "message", "description", "note"],
            )?;
            let code = self.req_str(et, &span, &p, "code")?;
            if !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(self.error(
                    span,
                    &join(&p, "code"),
                    format!("`{code}` is not an error code (letters, digits, `_`)"),
                ));
            }
            if out.iter().any(|e| e.code == code) {
                return Err(self.error(
                    span,
                    &join(&p, "code"),
                    format!("duplicate error code `{code}`"),
                ));
            }
            out.push(ErrorCode {
                status: self.status(et, &span, &p)?,
                message: self.opt_str(et, &p, "message")?,
                description: self.req_str(et, &span, &p, "description")?,
                note: self.opt_str(et, &p, "note")?,
                code,
            });
        }
        Ok(out)
    }

    fn examples(&self, t: &Table<'_>) -> Res<Vec<Example>> {
        let mut out: Vec<Example> = Vec::new();
        for (p, span, et) in self.array_of_tables(t, "examples")? {
            self.check_keys(
                et,
                &p,
                &["name", "description", "request", "status", "body"],
            )?;
            let ExampleHead {
                name, raw, body, ..
            } = self.example_head(et, &span, &p, out.iter().map(|e| e.name.as_str()))?;
            let request = match self.get(et, "request") {
                None => None,
                Some(v) => {
                    let rq = self.value(v, &join(&p, "request"))?;
                    if !rq.is_object() {
                        return Err(self.error(
                            v.span(),
                            &join(&p, "request"),
                            "expected a table of request parameters",
                        ));
                    }
                    Some(rq)
                }
            };
            out.push(Example {
                description: self.req_str(et, &span, &p, "description")?,
                status: self.status(et, &span, &p)?,
                request,
                body,
                raw,
                location: self.location(&span),
                name,
            });
        }
        Ok(out)
    }
}

/// How deeply a value written in a spec (a parameter's `example`, an example's `request`) may
/// nest arrays and tables: `1` nests 0, `[1]` 1, `{ a = [1] }` 2. The TOML reader bounds each
/// way of nesting (inline values, dotted keys, `[headers]`) on its own; this bounds them
/// together, so that no walk over a spec's values goes deep.
pub const MAX_VALUE_DEPTH: usize = 32;

impl Cx<'_> {
    /// A value of the file as JSON, if it nests at most [`MAX_VALUE_DEPTH`] levels.
    fn value(&self, v: &Spanned<DeValue<'_>>, key: &str) -> Res<serde_json::Value> {
        json(v.get_ref(), 0).ok_or_else(|| {
            self.error(
                v.span(),
                key,
                format!(
                    "the value nests more than {MAX_VALUE_DEPTH} levels of arrays and tables; \
                     a spec value nests at most {MAX_VALUE_DEPTH}"
                ),
            )
        })
    }
}

/// A TOML value as JSON (datetimes become strings); `None` when it nests deeper than
/// [`MAX_VALUE_DEPTH`] (`depth` is the level of `v`), so the recursion stays shallow.
fn json(v: &DeValue<'_>, depth: usize) -> Option<serde_json::Value> {
    use serde_json::Value;
    Some(match v {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(n) => i64::from_str_radix(n.as_str(), n.radix())
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(n.as_str().to_string())),
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(_) | DeValue::Table(_) if depth >= MAX_VALUE_DEPTH => return None,
        DeValue::Array(a) => Value::Array(
            a.iter()
                .map(|i| json(i.get_ref(), depth + 1))
                .collect::<Option<_>>()?,
        ),
        DeValue::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| Some((k.get_ref().to_string(), json(v.get_ref(), depth + 1)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

fn is_snake_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `imopenlines.dialog.get` → `dialog_get`; other namespaces keep their prefix
/// (`imconnector.send.messages` → `imconnector_send_messages`) so names never collide.
fn default_rust_name(method: &str) -> String {
    let parts: Vec<&str> = method.split('.').collect();
    let parts = if parts.first() == Some(&"imopenlines") {
        &parts[1..]
    } else {
        &parts[..]
    };
    parts
        .iter()
        .map(|p| snake_case(p))
        .collect::<Vec<_>>()
        .join("_")
}

fn err(loc: &Location, key: &str, msg: String) -> SpecError {
    SpecError {
        location: loc.clone(),
        key: key.to_string(),
        message: msg,
    }
}

/// Checks shared by methods and events: type names are unique and not reserved, every name
/// resolves, and every object and enum is reachable from `roots` (so nothing is described in
/// vain).
fn validate_types(
    objects: &[Object],
    enums: &[EnumDef],
    roots: &[(&TypeExpr, Location, String)],
    reserved: &[&str],
    used_by: &str,
) -> Res<()> {
    let mut names = HashSet::new();
    for (name, loc) in objects
        .iter()
        .map(|o| (&o.name, &o.location))
        .chain(enums.iter().map(|e| (&e.name, &e.location)))
    {
        if !names.insert(name.as_str()) {
            return Err(err(
                loc,
                name,
                format!("the type name `{name}` is defined twice in this file"),
            ));
        }
        if reserved.contains(&name.as_str()) {
            return Err(err(
                loc,
                name,
                format!("`{name}` is reserved for the generated types"),
            ));
        }
    }
    let resolve = |ty: &TypeExpr, loc: &Location, key: &str| -> Res<()> {
        for n in ty.named() {
            if !names.contains(n) {
                return Err(err(
                    loc,
                    key,
                    format!("type `{n}` is not defined: add `[objects.{n}]` or `[enums.{n}]`"),
                ));
            }
        }
        Ok(())
    };
    for (ty, loc, key) in roots {
        resolve(ty, loc, key)?;
    }
    let object = |n: &str| objects.iter().find(|o| o.name == n);
    for o in objects {
        let mut seen = HashSet::new();
        for f in &o.fields {
            let key = format!("objects.{}.fields.{}", o.name, f.name);
            resolve(&f.ty, &f.location, &format!("{key}.type"))?;
            for n in std::iter::once(&f.name).chain(&f.aliases) {
                if !seen.insert(n.to_ascii_lowercase()) {
                    return Err(err(
                        &f.location,
                        &key,
                        format!("key `{n}` is described twice (keys match case-insensitively)"),
                    ));
                }
            }
        }
    }
    no_infinite_objects(objects)?;
    let mut used: HashSet<&str> = HashSet::new();
    let mut stack: Vec<&TypeExpr> = roots.iter().map(|(t, _, _)| *t).collect();
    while let Some(ty) = stack.pop() {
        for n in ty.named() {
            if used.insert(n) {
                if let Some(o) = object(n) {
                    stack.extend(o.fields.iter().map(|f| &f.ty));
                }
            }
        }
    }
    for (name, loc) in objects
        .iter()
        .map(|o| (&o.name, &o.location))
        .chain(enums.iter().map(|e| (&e.name, &e.location)))
    {
        if !used.contains(name.as_str()) {
            return Err(err(
                loc,
                name,
                format!("`{name}` is defined but {used_by} uses it"),
            ));
        }
    }
    Ok(())
}

/// An object must not contain itself by value, directly or through other objects, with no
/// array or map in between: its generated type would be infinitely large. The objects and
/// their fields form a graph walked depth-first with an explicit stack (a spec may describe
/// any number of objects).
fn no_infinite_objects(objects: &[Object]) -> Res<()> {
    fn by_value(ty: &TypeExpr) -> Option<&str> {
        match ty {
            TypeExpr::Named(n) => Some(n),
            TypeExpr::Nullable(t) => by_value(t),
            _ => None,
        }
    }
    let index: std::collections::HashMap<&str, usize> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.name.as_str(), i))
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks = vec![Mark::New; objects.len()];
    for root in 0..objects.len() {
        if marks.get(root) != Some(&Mark::New) {
            continue;
        }
        // (object, index of its next field to follow); the path is the stack.
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::OnPath;
        while let Some((node, next)) = path.last_mut() {
            let (node, k) = (*node, *next);
            let Some(field) = objects.get(node).and_then(|o| o.fields.get(k)) else {
                marks[node] = Mark::Done;
                path.pop();
                continue;
            };
            *next += 1;
            let Some(&to) = by_value(&field.ty).and_then(|n| index.get(n)) else {
                continue;
            };
            match marks[to] {
                Mark::New => {
                    marks[to] = Mark::OnPath;
                    path.push((to, 0));
                }
                Mark::OnPath => {
                    let from = path.iter().position(|(n, _)| *n == to).unwrap_or(0);
                    let steps: Vec<(&Object, &Field)> = path[from..]
                        .iter()
                        .filter_map(|&(n, next)| {
                            let o = objects.get(n)?;
                            Some((o, o.fields.get(next.checked_sub(1)?)?))
                        })
                        .collect();
                    let (o, f) = steps.first().copied().unwrap_or((&objects[to], field));
                    let cycle: Vec<String> = steps
                        .iter()
                        .map(|(o, f)| format!("`{}.{}`", o.name, f.name))
                        .collect();
                    return Err(err(
                        &f.location,
                        &format!("objects.{}.fields.{}.type", o.name, f.name),
                        format!(
                            "`{}` contains itself ({} → `{}`) with no array or map in between: \
                             its type would be infinitely large; make one of these fields an \
                             array, a map, or `any`",
                            o.name,
                            cycle.join(" → "),
                            o.name
                        ),
                    ));
                }
                Mark::Done => {}
            }
        }
    }
    Ok(())
}

/// Cross-checks of an event file: names resolve, nothing unused.
fn validate_event(cx: &Cx<'_>, event: EventSpec) -> Res<EventSpec> {
    let roots = [(
        &event.data.ty,
        cx.location(&(0..0)),
        "data.type".to_string(),
    )];
    validate_types(
        &event.objects,
        &event.enums,
        &roots,
        &["Data", "Delivery", "Event"],
        "`data` never",
    )?;
    Ok(event)
}

/// Cross-checks that need the whole file: names resolve, groups are sound.
fn validate(cx: &Cx<'_>, spec: Spec) -> Res<Spec> {
    let mut roots: Vec<(&TypeExpr, Location, String)> = spec
        .params
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.ty, p.location.clone(), format!("params[{i}].type")))
        .collect();
    roots.push((&spec.result.ty, cx.location(&(0..0)), "result.type".into()));
    validate_types(
        &spec.objects,
        &spec.enums,
        &roots,
        &["Request", "Response", "Error", "ErrorCode", "Method"],
        "neither the result nor a parameter",
    )?;
    // One-of groups.
    let mut grouped = HashSet::new();
    for (i, g) in spec.one_of.iter().enumerate() {
        let key = format!("one_of[{i}].params");
        if g.params.len() < 2 {
            return Err(err(
                &g.location,
                &key,
                "a one-of group needs at least two parameters".into(),
            ));
        }
        for name in &g.params {
            let Some(p) = spec.params.iter().find(|p| &p.name == name) else {
                return Err(err(
                    &g.location,
                    &key,
                    format!("`{name}` is not a parameter of this method"),
                ));
            };
            if p.required {
                return Err(err(
                    &g.location,
                    &key,
                    format!("`{name}` is `required`; a member of a one-of group cannot be"),
                ));
            }
            if !grouped.insert(name.as_str()) {
                return Err(err(
                    &g.location,
                    &key,
                    format!("`{name}` belongs to two one-of groups"),
                ));
            }
        }
        if spec.params.iter().any(|p| snake_case(&p.name) == g.name) {
            return Err(err(
                &g.location,
                &format!("one_of[{i}].name"),
                format!("`{}` collides with a parameter's name", g.name),
            ));
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn parse(src: &str) -> Result<Spec, SpecError> {
        parse_spec(&PathBuf::from("spec/test.toml"), src)
    }

    const MINIMAL: &str = r#"
method = "imopenlines.test.get"
scope = "imopenlines"
summary = "A test."
docs = "https://example.invalid"
kind = "read"

[result]
type = "boolean"
description = "true"
"#;

    #[test]
    fn minimal_spec_parses_with_defaults() {
        let spec = parse(MINIMAL).unwrap();
        assert_eq!(spec.rust_name, "test_get");
        assert_eq!(spec.operation_name(), "test_get");
        assert_eq!(spec.namespace(), "imopenlines");
        assert!(spec.params.is_empty());
    }

    #[test]
    fn errors_name_line_and_key() {
        let src = MINIMAL.replace("type = \"boolean\"", "type = \"bool\"");
        let e = parse(&src).unwrap_err();
        assert_eq!(e.key, "result.type");
        assert_eq!(e.location.line, 9);
        assert!(e.message.contains("unknown type `bool`"), "{e}");
        assert!(e
            .to_string()
            .starts_with("spec/test.toml:9:8: result.type: "));
    }

    #[test]
    fn missing_and_unknown_keys() {
        let e = parse(&MINIMAL.replace("scope = \"imopenlines\"\n", "")).unwrap_err();
        assert_eq!(e.key, "scope");
        assert!(e.message.contains("missing required key"));
        let e = parse(&format!("{MINIMAL}\nextra = 1\n")).unwrap_err();
        assert!(e.message.contains("unknown key `extra`"), "{e}");
        let e = parse("method = ").unwrap_err();
        assert!(e.message.starts_with("invalid TOML"), "{e}");
        assert_eq!(e.location.line, 1);
    }

    #[test]
    fn inline_enums_become_named() {
        let src = format!(
            "{}\n[objects.Thing]\ndescription = \"x\"\n[objects.Thing.fields]\nrole = {{ type = \"enum | null\", values = [\"a\", \"b\"], description = \"r\" }}\n",
            MINIMAL.replace("type = \"boolean\"", "type = \"Thing\"")
        );
        let spec = parse(&src).unwrap();
        assert_eq!(spec.enums[0].name, "Role");
        assert_eq!(spec.objects[0].fields[0].ty.to_string(), "Role | null");
    }

    #[test]
    fn one_of_rules() {
        let src = format!(
            "{MINIMAL}\n[[params]]\nname = \"A\"\ntype = \"integer\"\ndescription = \"a\"\nrequired = true\n[[params]]\nname = \"B\"\ntype = \"string\"\ndescription = \"b\"\n[[one_of]]\nname = \"target\"\nparams = [\"A\", \"B\"]\ndescription = \"d\"\n"
        );
        let e = parse(&src).unwrap_err();
        assert!(e.message.contains("`A` is `required`"), "{e}");
        let e = parse(&src.replace("\"A\", \"B\"", "\"B\", \"C\"")).unwrap_err();
        assert!(e.message.contains("`C` is not a parameter"), "{e}");
        parse(&src.replace("required = true\n", "")).unwrap();
    }

    #[test]
    fn unused_and_undefined_types() {
        let src = MINIMAL.replace("type = \"boolean\"", "type = \"Missing\"");
        assert!(parse(&src)
            .unwrap_err()
            .message
            .contains("`Missing` is not defined"));
        let src = format!("{MINIMAL}\n[enums.Unused]\ndescription = \"u\"\nvalues = [\"x\"]\n");
        assert!(parse(&src)
            .unwrap_err()
            .message
            .contains("neither the result nor a parameter"));
    }

    #[test]
    fn example_bodies_must_be_json() {
        let src = format!(
            "{MINIMAL}\n[[examples]]\nname = \"ok\"\ndescription = \"d\"\nstatus = 200\nbody = '{{\"result\": tru}}'\n"
        );
        let e = parse(&src).unwrap_err();
        assert_eq!(e.key, "examples[0].body");
        assert!(e.message.contains("not JSON"));
    }

    const EVENT: &str = r#"
event = "OnSessionStart"
scope = "imopenlines"
summary = "A session started."
docs = "https://example.invalid"

[data]
type = "Start"
description = "d"

[objects.Start]
description = "s"

[objects.Start.fields]
DATA = { type = "Item[]", description = "items" }

[objects.Item]
description = "i"

[objects.Item.fields]
closed = { type = "boolean", description = "c" }

[[examples]]
name = "current"
description = "docs"
body = '{"event": "ONSESSIONSTART", "data": {"DATA": []}, "ts": 1}'
"#;

    #[test]
    fn event_files_parse_and_are_told_apart_from_methods() {
        let path = PathBuf::from("spec/events/OnSessionStart.toml");
        let SpecFile::Event(e) = parse_file(&path, EVENT).unwrap() else {
            panic!("an event file is an event");
        };
        assert_eq!(e.module_name(), "on_session_start");
        assert_eq!(e.wire_name(), "ONSESSIONSTART");
        assert_eq!(e.objects.len(), 2);
        assert_eq!(e.examples[0].body["ts"], 1);
        let err = parse_spec(&path, EVENT).unwrap_err();
        assert!(err.message.contains("is an event spec"), "{err}");
        assert!(matches!(
            parse_file(&path, MINIMAL),
            Ok(SpecFile::Method(_))
        ));
    }

    #[test]
    fn event_mistakes_name_their_key() {
        let path = PathBuf::from("spec/events/OnSessionStart.toml");
        let e = parse_file(
            &path,
            &EVENT.replace("\"OnSessionStart\"", "\"onSessionStart\""),
        )
        .unwrap_err();
        assert_eq!(e.key, "event");
        assert_eq!(e.location.line, 2);
        let e = parse_file(
            &path,
            &EVENT.replace("\"ONSESSIONSTART\"", "\"ONSESSIONFINISH\""),
        )
        .unwrap_err();
        assert_eq!(e.key, "examples[0].body");
        assert!(e.message.contains("`ONSESSIONFINISH`"), "{e}");
        let e = parse_file(&path, &EVENT.replace("Item", "Data")).unwrap_err();
        assert!(e.message.contains("reserved"), "{e}");
        let e = parse_file(&path, &EVENT.replace("Item", "Delivery")).unwrap_err();
        assert!(e.message.contains("reserved"), "{e}");
        let e = parse_file(&path, &EVENT.replace("[data]", "[result]")).unwrap_err();
        assert!(e.message.contains("unknown key `result`"), "{e}");
        let e = parse_file(
            &path,
            &format!("{EVENT}\n[objects.Unused]\ndescription = \"u\"\n[objects.Unused.fields]\n"),
        )
        .unwrap_err();
        assert!(e.message.contains("`data` never uses it"), "{e}");
    }
}
