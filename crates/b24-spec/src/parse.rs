//! Reading a spec file: TOML → the raw structs of [`crate::raw`] (serde, with spans) → the
//! validated model.
//!
//! Every error names the dotted key it is about and the line and column where that key or its
//! value is written. Errors of the TOML reader and of serde carry a span; the dotted key of a
//! span is looked up in the file's tree ([`key_at`]).

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::de::DeTable;
use toml::Spanned;

use crate::located;
use crate::model::*;
use crate::names::{default_rust_name, is_snake_ident, object_field_name, rust_ident};
use crate::names::{is_reserved, variant_name, Reserved, UNKNOWN_VARIANT};
use crate::raw::*;
use crate::types::{is_type_name, shorten, TypeExpr};
use crate::validate::{self, Site, Sites};
use crate::SpecError;

/// How deeply a value written in a spec (a parameter's `example`, an example's `request`) may
/// nest arrays and tables: `1` nests 0, `[1]` 1, `{ a = [1] }` 2. The TOML reader bounds each
/// way of nesting (inline values, dotted keys, `[headers]`) on its own; this bounds them
/// together, so that no walk over a spec's values goes deep.
pub const MAX_VALUE_DEPTH: usize = 32;

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
    let is_event = {
        let t = doc.get_ref();
        t.get("event").is_some() && t.get("method").is_none()
    };
    let de = toml::de::Deserializer::from(doc);
    if is_event {
        let raw = RawEvent::deserialize(de).map_err(|e| located::serde_error(file, src, &e))?;
        let (event, sites) = cx.event(raw)?;
        validate::event(&event, &sites)?;
        Ok(SpecFile::Event(event))
    } else {
        let raw = RawMethod::deserialize(de).map_err(|e| located::serde_error(file, src, &e))?;
        let (spec, sites) = cx.method(raw)?;
        validate::method(&spec, &sites)?;
        Ok(SpecFile::Method(spec))
    }
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

/// `path.key`, or `key` at the top.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

struct Cx<'a> {
    file: &'a Path,
    src: &'a str,
}

/// What the conversion gathers besides the model's own parts: the enums (inline ones as their
/// keys are read, then the named ones) and where things are written, for [`validate`].
#[derive(Default)]
struct Defs {
    enums: Vec<EnumDef>,
    sites: Sites,
}

type Res<T> = Result<T, SpecError>;

impl Cx<'_> {
    fn location(&self, span: &Range<usize>) -> Location {
        located::location(self.file, self.src, span)
    }

    fn at<T>(&self, s: &Spanned<T>) -> Location {
        self.location(&s.span())
    }

    fn site<T>(&self, s: &Spanned<T>, key: impl Into<String>) -> Site {
        Site {
            key: key.into(),
            location: self.at(s),
        }
    }

    fn error(&self, span: Range<usize>, key: &str, message: impl Into<String>) -> SpecError {
        SpecError {
            location: self.location(&span),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn err<T>(&self, at: &Spanned<T>, key: &str, message: impl Into<String>) -> SpecError {
        self.error(at.span(), key, message)
    }

    /// A required text: not empty.
    fn text(&self, v: &Spanned<String>, key: &str) -> Res<String> {
        if v.get_ref().trim().is_empty() {
            return Err(self.err(v, key, "must not be empty"));
        }
        Ok(v.get_ref().clone())
    }

    fn ty(&self, v: &Spanned<String>, key: &str) -> Res<TypeExpr> {
        TypeExpr::parse(v.get_ref()).map_err(|m| self.err(v, key, m))
    }

    fn method(&self, raw: RawMethod) -> Res<(Spec, Sites)> {
        let method = raw.method.get_ref().clone();
        let valid_method = method.split('.').count() >= 2
            && method
                .split('.')
                .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            && method.starts_with(|c: char| c.is_ascii_lowercase());
        if !valid_method {
            return Err(self.err(
                &raw.method,
                "method",
                format!("`{method}` is not a REST method name (`namespace.part.part`)"),
            ));
        }
        let namespace = method.split('.').next().unwrap_or_default();
        if is_reserved(Reserved::Namespace, namespace) {
            return Err(self.err(
                &raw.method,
                "method",
                format!(
                    "the namespace `{namespace}` is reserved for the generated `{namespace}` \
                     module"
                ),
            ));
        }
        let kind = match raw.kind.get_ref().as_str() {
            "read" => MethodKind::Read,
            "write" => MethodKind::Write,
            other => {
                return Err(self.err(
                    &raw.kind,
                    "kind",
                    format!("expected \"read\" or \"write\", found \"{other}\""),
                ))
            }
        };
        let rust_name = match &raw.rust_name {
            Some(v) => {
                if !is_snake_ident(v.get_ref()) {
                    return Err(self.err(
                        v,
                        "rust_name",
                        format!("`{}` is not a snake_case identifier", v.get_ref()),
                    ));
                }
                v.get_ref().clone()
            }
            None => default_rust_name(&method),
        };
        let mut defs = Defs::default();
        let params = self.params(&raw.params, &mut defs)?;
        let one_of = self.one_of(&raw.one_of, &mut defs.sites)?;
        let result = ResultSpec {
            ty: self.ty(&raw.result.ty, "result.type")?,
            description: self.text(&raw.result.description, "result.description")?,
            paged: raw.result.paged,
            note: raw.result.note.clone(),
        };
        defs.sites.result = Some(self.site(&raw.result.ty, "result.type"));
        let objects = self.objects(&raw.objects, &mut defs)?;
        self.named_enums(&raw.enums, &mut defs)?;
        let errors = self.errors(&raw.errors)?;
        let auth = self.auth(raw.auth.as_ref(), &errors)?;
        let examples = self.examples(&raw.examples)?;
        let spec = Spec {
            location: self.location(&(0..0)),
            method,
            scope: self.text(&raw.scope, "scope")?,
            summary: self.text(&raw.summary, "summary")?,
            description: raw.description,
            docs: self.text(&raw.docs, "docs")?,
            access: raw.access,
            kind,
            auth,
            rust_name,
            params,
            one_of,
            result,
            objects,
            enums: defs.enums,
            errors,
            examples,
        };
        Ok((spec, defs.sites))
    }

    fn event(&self, raw: RawEvent) -> Res<(EventSpec, Sites)> {
        let event = raw.event.get_ref().clone();
        let valid = event.len() > 2
            && event.starts_with("On")
            && event.chars().all(|c| c.is_ascii_alphanumeric())
            && event
                .get(2..)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()));
        if !valid {
            return Err(self.err(
                &raw.event,
                "event",
                format!(
                    "`{event}` is not an event name (`OnSomethingHappened`, as the docs spell it)"
                ),
            ));
        }
        let mut defs = Defs::default();
        let data = DataSpec {
            ty: self.ty(&raw.data.ty, "data.type")?,
            description: self.text(&raw.data.description, "data.description")?,
        };
        defs.sites.result = Some(self.site(&raw.data.ty, "data.type"));
        let objects = self.objects(&raw.objects, &mut defs)?;
        self.named_enums(&raw.enums, &mut defs)?;
        let examples = self.event_examples(&raw.examples, &event)?;
        let spec = EventSpec {
            location: self.location(&(0..0)),
            scope: self.text(&raw.scope, "scope")?,
            summary: self.text(&raw.summary, "summary")?,
            description: raw.description,
            docs: self.text(&raw.docs, "docs")?,
            access: raw.access,
            event,
            data,
            objects,
            enums: defs.enums,
            examples,
        };
        Ok((spec, defs.sites))
    }

    /// The type of a parameter or a field, which may be written as `enum` with inline
    /// `values`: the values become a named enum (`enum_name`, or the key's name in
    /// PascalCase), added to `defs`.
    fn ty_or_inline_enum(
        &self,
        keys: TypeKeys<'_>,
        description: &str,
        path: &str,
        owner: &str,
        defs: &mut Defs,
    ) -> Res<TypeExpr> {
        let TypeKeys {
            ty,
            values,
            enum_name,
        } = keys;
        let ty_key = join(path, "type");
        let text = ty.get_ref();
        let base = text
            .split('|')
            .map(str::trim)
            .filter(|p| *p != "null")
            .collect::<Vec<_>>();
        let inline = match base.as_slice() {
            [b @ ("enum" | "enum[]")] => Some(*b),
            _ => None,
        };
        let Some(inline) = inline else {
            if values.is_some() {
                return Err(self.err(
                    ty,
                    &ty_key,
                    format!(
                        "`values` is only allowed with `type = \"enum\"`, found `{}`",
                        shorten(text)
                    ),
                ));
            }
            return self.ty(ty, &ty_key);
        };
        let Some(values) = values else {
            return Err(self.err(
                ty,
                &ty_key,
                "`enum` needs its values: add `values = [...]` next to `type`",
            ));
        };
        let name = match enum_name {
            Some(n) => n.get_ref().clone(),
            None => pascal_case(owner),
        };
        let (values, value_sites) = self.enum_values(values, &join(path, "values"))?;
        let description = if description.trim().is_empty() {
            format!("Values of `{owner}`.")
        } else {
            description.to_string()
        };
        defs.enums.push(EnumDef {
            name: name.clone(),
            description,
            values,
            location: self.at(ty),
        });
        defs.sites.enums.push(self.site(ty, ty_key.clone()));
        defs.sites.enum_values.push(value_sites);
        let rewritten = text.replacen(inline, &inline.replacen("enum", &name, 1), 1);
        TypeExpr::parse(&rewritten).map_err(|m| self.err(ty, &ty_key, m))
    }

    /// The values of an enum (`key` is that of `values`): at least one, no value twice, no two
    /// values giving one variant.
    fn enum_values(
        &self,
        v: &Spanned<Vec<Spanned<RawEnumValue>>>,
        key: &str,
    ) -> Res<(Vec<EnumValue>, Vec<Site>)> {
        if v.get_ref().is_empty() {
            return Err(self.err(v, key, "an enum needs at least one value"));
        }
        let mut out: Vec<EnumValue> = Vec::new();
        let mut sites = Vec::new();
        let mut variants = Vec::new();
        for (i, item) in v.get_ref().iter().enumerate() {
            let ikey = format!("{key}[{i}]");
            let value = item.get_ref();
            if out.iter().any(|v| v.value == value.value) {
                return Err(self.err(item, &ikey, format!("duplicate value `{}`", value.value)));
            }
            claim_variant(&mut variants, &value.value).map_err(|m| self.err(item, &ikey, m))?;
            out.push(EnumValue {
                value: value.value.clone(),
                description: value.description.clone(),
            });
            sites.push(self.site(item, ikey));
        }
        Ok((out, sites))
    }

    /// A value written in the file as JSON, if it nests at most [`MAX_VALUE_DEPTH`] levels.
    fn value(&self, v: &Spanned<Deep>, key: &str) -> Res<serde_json::Value> {
        match v.get_ref() {
            Deep::Value(value) => Ok(value.clone()),
            Deep::TooDeep => Err(self.err(
                v,
                key,
                format!(
                    "the value nests more than {MAX_VALUE_DEPTH} levels of arrays and tables; \
                     a spec value nests at most {MAX_VALUE_DEPTH}"
                ),
            )),
        }
    }

    fn params(&self, raw: &[Spanned<Table<RawParam>>], defs: &mut Defs) -> Res<Vec<Param>> {
        let mut out: Vec<Param> = Vec::new();
        for (i, rp) in raw.iter().enumerate() {
            let p = format!("params[{i}]");
            let r = rp.get_ref();
            let name_key = join(&p, "name");
            let name = self.text(&r.name, &name_key)?;
            if out.iter().any(|o| o.name.eq_ignore_ascii_case(&name)) {
                return Err(self.err(
                    &r.name,
                    &name_key,
                    format!("duplicate parameter `{name}` (parameter names are case-insensitive)"),
                ));
            }
            let description = self.text(&r.description, &join(&p, "description"))?;
            let ty = self.ty_or_inline_enum(r.type_keys(), &description, &p, &name, defs)?;
            let example = r
                .example
                .as_ref()
                .map(|v| self.value(v, &join(&p, "example")))
                .transpose()?;
            defs.sites.params.push(validate::ParamSite {
                name: self.site(&r.name, name_key),
                ty: self.site(&r.ty, join(&p, "type")),
            });
            out.push(Param {
                name,
                ty,
                required: r.required,
                description,
                example,
                note: r.note.clone(),
                location: self.at(rp),
            });
        }
        Ok(out)
    }

    fn one_of(&self, raw: &[Spanned<Table<RawOneOf>>], sites: &mut Sites) -> Res<Vec<OneOf>> {
        let mut out = Vec::new();
        for (i, rg) in raw.iter().enumerate() {
            let p = format!("one_of[{i}]");
            let g = rg.get_ref();
            let name_key = join(&p, "name");
            let name = g.name.get_ref().clone();
            if !is_snake_ident(&name) {
                return Err(self.err(
                    &g.name,
                    &name_key,
                    format!("`{name}` is not a snake_case identifier"),
                ));
            }
            let params_key = join(&p, "params");
            let (params, params_site, members) = match &g.params {
                Some(list) => (
                    list.get_ref().iter().map(|m| m.get_ref().clone()).collect(),
                    self.site(list, params_key.clone()),
                    list.get_ref()
                        .iter()
                        .enumerate()
                        .map(|(j, m)| self.site(m, format!("{params_key}[{j}]")))
                        .collect(),
                ),
                None => (Vec::new(), self.site(rg, params_key), Vec::new()),
            };
            sites.one_of.push(validate::OneOfSite {
                name: self.site(&g.name, name_key),
                params: params_site,
                members,
            });
            out.push(OneOf {
                name,
                params,
                description: self.text(&g.description, &join(&p, "description"))?,
                location: self.at(rg),
            });
        }
        Ok(out)
    }

    fn objects(&self, raw: &Entries<RawObject>, defs: &mut Defs) -> Res<Vec<Object>> {
        raw.0
            .iter()
            .map(|(name, ro)| self.object(name, ro.get_ref(), defs))
            .collect()
    }

    fn object(&self, name: &Spanned<String>, o: &RawObject, defs: &mut Defs) -> Res<Object> {
        let p = format!("objects.{}", name.get_ref());
        if !is_type_name(name.get_ref()) {
            return Err(self.err(
                name,
                &p,
                format!("object name `{}` must be PascalCase", name.get_ref()),
            ));
        }
        let description = self.text(&o.description, &join(&p, "description"))?;
        let fp = join(&p, "fields");
        let mut fields: Vec<Field> = Vec::new();
        let mut type_sites = Vec::new();
        // Keys and aliases, lowercased (keys match case-insensitively), and Rust fields.
        let mut wire_names: Vec<String> = Vec::new();
        let mut rust_names: Vec<String> = Vec::new();
        for (fname, rf) in &o.fields.0 {
            let fpath = join(&fp, fname.get_ref());
            let f = rf.get_ref();
            let fdescription = self.text(&f.description, &join(&fpath, "description"))?;
            let ty = self.ty_or_inline_enum(
                f.type_keys(),
                &fdescription,
                &fpath,
                fname.get_ref(),
                defs,
            )?;
            let described = std::iter::once((fname, fpath.clone())).chain(
                f.aliases
                    .iter()
                    .enumerate()
                    .map(|(k, a)| (a, format!("{fpath}.aliases[{k}]"))),
            );
            for (n, key) in described {
                let lower = n.get_ref().to_ascii_lowercase();
                if wire_names.contains(&lower) {
                    return Err(self.err(
                        n,
                        &key,
                        format!(
                            "key `{}` is described twice (keys match case-insensitively)",
                            n.get_ref()
                        ),
                    ));
                }
                wire_names.push(lower);
            }
            let rust = rust_ident(&object_field_name(fname.get_ref()));
            if rust_names.contains(&rust) {
                return Err(self.err(
                    fname,
                    &fpath,
                    format!(
                        "the key `{}` gives the Rust field `{rust}`, which is already taken",
                        fname.get_ref()
                    ),
                ));
            }
            rust_names.push(rust);
            type_sites.push(self.site(&f.ty, join(&fpath, "type")));
            fields.push(Field {
                name: fname.get_ref().clone(),
                ty,
                description: fdescription,
                optional: f.optional,
                aliases: f.aliases.iter().map(|a| a.get_ref().clone()).collect(),
                note: f.note.clone(),
                location: self.at(fname),
            });
        }
        defs.sites.objects.push(self.site(name, p));
        defs.sites.field_types.push(type_sites);
        Ok(Object {
            name: name.get_ref().clone(),
            description,
            fields,
            untyped_keys: o.untyped_keys.clone(),
            location: self.at(name),
        })
    }

    fn named_enums(&self, raw: &Entries<RawEnum>, defs: &mut Defs) -> Res<()> {
        for (name, re) in &raw.0 {
            let p = format!("enums.{}", name.get_ref());
            if !is_type_name(name.get_ref()) {
                return Err(self.err(
                    name,
                    &p,
                    format!("enum name `{}` must be PascalCase", name.get_ref()),
                ));
            }
            let e = re.get_ref();
            let description = self.text(&e.description, &join(&p, "description"))?;
            let (values, value_sites) = self.enum_values(&e.values, &join(&p, "values"))?;
            defs.enums.push(EnumDef {
                name: name.get_ref().clone(),
                description,
                values,
                location: self.at(name),
            });
            defs.sites.enums.push(self.site(name, p));
            defs.sites.enum_values.push(value_sites);
        }
        Ok(())
    }

    /// `auth`: `"any"` when absent. A method for applications only lists the error a webhook
    /// gets (`WRONG_AUTH_TYPE`), which the local portal answers and the docs show.
    fn auth(&self, raw: Option<&Spanned<Auth>>, errors: &[ErrorCode]) -> Res<Auth> {
        let Some(v) = raw else {
            return Ok(Auth::Any);
        };
        let auth = *v.get_ref();
        if auth == Auth::Application && !errors.iter().any(|e| e.code == WRONG_AUTH_TYPE) {
            return Err(self.err(
                v,
                "auth",
                format!(
                    "`auth = \"application\"` needs an `[[errors]]` entry with code \
                     `{WRONG_AUTH_TYPE}`: the answer a webhook gets"
                ),
            ));
        }
        Ok(auth)
    }

    fn status(&self, v: &Spanned<Status>, key: &str) -> Res<u16> {
        v.get_ref()
            .0
            .ok_or_else(|| self.err(v, key, "expected an HTTP status (100..599)"))
    }

    fn errors(&self, raw: &[Spanned<Table<RawError>>]) -> Res<Vec<ErrorCode>> {
        let mut out: Vec<ErrorCode> = Vec::new();
        let mut variants = Vec::new();
        for (i, re) in raw.iter().enumerate() {
            let p = format!("errors[{i}]");
            let e = re.get_ref();
            let code_key = join(&p, "code");
            let code = self.text(&e.code, &code_key)?;
            if !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(self.err(
                    &e.code,
                    &code_key,
                    format!("`{code}` is not an error code (letters, digits, `_`)"),
                ));
            }
            if out.iter().any(|e| e.code == code) {
                return Err(self.err(&e.code, &code_key, format!("duplicate error code `{code}`")));
            }
            claim_variant(&mut variants, &code).map_err(|m| self.err(&e.code, &code_key, m))?;
            out.push(ErrorCode {
                status: self.status(&e.status, &join(&p, "status"))?,
                message: e.message.clone(),
                description: self.text(&e.description, &join(&p, "description"))?,
                note: e.note.clone(),
                code,
            });
        }
        Ok(out)
    }

    /// An example's name (unique among `taken`) and its body as JSON.
    fn example_head<'n>(
        &self,
        p: &str,
        name: &Spanned<String>,
        body: &Spanned<String>,
        mut taken: impl Iterator<Item = &'n str>,
    ) -> Res<(String, serde_json::Value)> {
        let name_key = join(p, "name");
        let n = self.text(name, &name_key)?;
        if taken.any(|t| t == n) {
            return Err(self.err(name, &name_key, format!("duplicate example name `{n}`")));
        }
        let json = serde_json::from_str(body.get_ref()).map_err(|e| {
            self.err(
                body,
                &join(p, "body"),
                format!("the body is not JSON: {e} (line {} of the body)", e.line()),
            )
        })?;
        Ok((n, json))
    }

    fn examples(&self, raw: &[Spanned<Table<RawExample>>]) -> Res<Vec<Example>> {
        let mut out: Vec<Example> = Vec::new();
        for (i, rx) in raw.iter().enumerate() {
            let p = format!("examples[{i}]");
            let x = rx.get_ref();
            let (name, body) =
                self.example_head(&p, &x.name, &x.body, out.iter().map(|e| e.name.as_str()))?;
            let request = match &x.request {
                None => None,
                Some(v) => {
                    let key = join(&p, "request");
                    let rq = self.value(v, &key)?;
                    if !rq.is_object() {
                        return Err(self.err(v, &key, "expected a table of request parameters"));
                    }
                    Some(rq)
                }
            };
            out.push(Example {
                description: self.text(&x.description, &join(&p, "description"))?,
                status: self.status(&x.status, &join(&p, "status"))?,
                request,
                body,
                raw: x.body.get_ref().clone(),
                location: self.at(rx),
                name,
            });
        }
        Ok(out)
    }

    /// Documented handler payloads: JSON objects whose `event` is this event (the portal
    /// spells it in capitals) and which carry `data`.
    fn event_examples(
        &self,
        raw: &[Spanned<Table<RawEventExample>>],
        event: &str,
    ) -> Res<Vec<EventExample>> {
        let mut out: Vec<EventExample> = Vec::new();
        for (i, rx) in raw.iter().enumerate() {
            let p = format!("examples[{i}]");
            let x = rx.get_ref();
            let (name, body) =
                self.example_head(&p, &x.name, &x.body, out.iter().map(|e| e.name.as_str()))?;
            let key = join(&p, "body");
            let named = body.get("event").and_then(|v| v.as_str());
            if !named.is_some_and(|n| n.eq_ignore_ascii_case(event)) {
                return Err(self.err(
                    &x.body,
                    &key,
                    format!(
                        "expected a handler payload with `\"event\": \"{}\"`, found {}",
                        event.to_ascii_uppercase(),
                        named.map_or("no `event` key".to_string(), |n| format!("`{n}`"))
                    ),
                ));
            }
            if body.get("data").is_none() {
                return Err(self.err(&x.body, &key, "the payload has no `data` key"));
            }
            out.push(EventExample {
                description: self.text(&x.description, &join(&p, "description"))?,
                body,
                raw: x.body.get_ref().clone(),
                location: self.at(rx),
                name,
            });
        }
        Ok(out)
    }
}
/// Takes the Rust variant a wire value (an enum value, an error code) gives, unless another
/// value of the same type took it or it is the catch-all `Unknown`.
fn claim_variant(variants: &mut Vec<String>, wire: &str) -> Result<(), String> {
    let variant = variant_name(wire);
    if variant == UNKNOWN_VARIANT || variants.contains(&variant) {
        return Err(format!(
            "`{wire}` gives the variant `{variant}`, which is already taken"
        ));
    }
    variants.push(variant);
    Ok(())
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
