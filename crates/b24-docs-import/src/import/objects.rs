//! Tables under `###` headings as named objects: collected, linked from rows, named, and
//! built into the spec's objects.

use std::collections::HashSet;

use b24_spec::{pascal_case, TypeExpr};
use b24_spec::{Field, Location, Object};

use crate::markdown::{plain, Block};
use crate::notes::Target;

use super::sections::{Placed, SectionKind};
use super::tables::{
    heading_word, is_field_table, is_more_params, is_returned_data, row_info, table_columns,
    RowInfo,
};
use super::{ImportError, Importer};

/// A table under a `###` heading: a named object candidate.
#[derive(Debug, Clone)]
pub(super) struct RawObject {
    /// Word from the heading (`result`, `entityLink`, `ICON`).
    pub(super) word: String,
    pub(super) anchor: Option<String>,
    pub(super) is_item: bool,
    pub(super) params: bool,
    pub(super) heading: String,
    pub(super) rows: Vec<RowInfo>,
    pub(super) line: usize,
    /// Assigned type name, once used.
    pub(super) name: Option<String>,
    /// Text right under the heading.
    pub(super) description: Option<String>,
}

impl RawObject {
    /// An object documented as `<id>` keys: a map.
    pub(super) fn map_row(&self) -> Option<&RowInfo> {
        match self.rows.as_slice() {
            [only] if only.name.contains('<') => Some(only),
            _ => None,
        }
    }
}

pub(super) fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// A key of an object.
pub(crate) fn field(name: &str, ty: TypeExpr, optional: bool, description: String) -> Field {
    Field {
        name: name.to_string(),
        ty,
        description,
        optional,
        aliases: Vec::new(),
        note: None,
        location: Location::default(),
    }
}

/// A named object.
pub(super) fn object(name: &str, description: String, fields: Vec<Field>) -> Object {
    Object {
        name: name.to_string(),
        description,
        fields,
        untyped_keys: Vec::new(),
        location: Location::default(),
    }
}

impl Importer<'_> {
    /// Tables under `###` headings (or `## Список полей`) become object candidates.
    pub(super) fn collect_objects(&mut self, placed: &[Placed<'_>]) -> Result<(), ImportError> {
        for (i, p) in placed.iter().enumerate() {
            let Block::Table(t) = p.block else { continue };
            if !is_field_table(t) {
                continue;
            }
            let heading = match (p.sub, p.section_heading) {
                (Some(h), _) => h,
                (None, Some(h)) if h.text.starts_with("Список полей") => h,
                _ => continue,
            };
            if is_returned_data(&heading.text) || is_more_params(&heading.text) {
                continue;
            }
            if !matches!(p.section, SectionKind::Params | SectionKind::Response) {
                continue;
            }
            let (cols, data) = table_columns(t);
            let rows: Vec<RowInfo> = data.iter().filter_map(|r| row_info(&cols, r)).collect();
            let (word, is_item) = if heading.text.starts_with("Список полей") {
                ("fields".to_string(), false)
            } else {
                heading_word(&heading.text)
            };
            let description = placed[..i]
                .iter()
                .rev()
                .take_while(|q| !matches!(q.block, Block::Table(_)))
                .filter(|q| q.sub.map(|h| h.line) == Some(heading.line))
                .find_map(|q| match q.block {
                    Block::Text { text, .. } if !text.starts_with("{%") => Some(plain(text)),
                    _ => None,
                });
            self.raw.push(RawObject {
                word,
                anchor: heading.anchor.clone(),
                is_item,
                params: p.section == SectionKind::Params,
                heading: heading.text.clone(),
                rows,
                line: heading.line,
                name: None,
                description,
            });
        }
        Ok(())
    }

    pub(super) fn find_link(&self, row: &RowInfo, params: bool) -> Option<usize> {
        for a in &row.anchors {
            if let Some(i) = self
                .raw
                .iter()
                .position(|o| o.anchor.as_deref() == Some(a.as_str()) && o.params == params)
            {
                return Some(i);
            }
            if let Some(i) = self
                .raw
                .iter()
                .position(|o| o.anchor.as_deref() == Some(a.as_str()))
            {
                return Some(i);
            }
        }
        // 2024 template: `PARAMS` "... Список полей — ниже" and a `## Список полей` table.
        if params && row.raw_description.contains("ниже") {
            let lists: Vec<usize> = (0..self.raw.len())
                .filter(|i| self.raw[*i].params && self.raw[*i].heading.starts_with("Список полей"))
                .collect();
            if let [only] = lists.as_slice() {
                return Some(*only);
            }
        }
        let n = norm(&row.name);
        self.raw.iter().position(|o| {
            o.params == params
                && (norm(&o.word) == n || (o.is_item && norm(&o.word) == n))
                && !o.rows.iter().any(|r| r.line == row.line)
        })
    }

    pub(super) fn object_name(&mut self, idx: usize) -> String {
        if let Some(n) = &self.raw[idx].name {
            return n.clone();
        }
        let o = &self.raw[idx];
        let mut base = if !o.params && norm(&o.word) == "result" && !o.is_item {
            self.result_name()
        } else {
            let w: String = o
                .word
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let p = pascal_case(&w);
            if p.is_empty() {
                "Object".to_string()
            } else if o.is_item && !p.ends_with("Item") {
                format!("{p}Item")
            } else {
                p
            }
        };
        if !base.starts_with(|c: char| c.is_ascii_uppercase()) {
            base = format!("Object{base}");
        }
        if matches!(
            base.as_str(),
            "Request" | "Response" | "Error" | "ErrorCode" | "Method"
        ) {
            base.push_str("Object");
        }
        let mut name = base.clone();
        let mut k = 2;
        while self.used_names.contains(&name) {
            name = format!("{base}{k}");
            k += 1;
        }
        if name != base {
            let line = self.raw[idx].line;
            let m = self.warn(
                line,
                format!("another table is also called `{base}`: this one is named `{name}`; choose a better name"),
            );
            self.renamed.push((name.clone(), m));
        }
        self.used_names.insert(name.clone());
        self.raw[idx].name = Some(name.clone());
        name
    }

    /// Builds the named objects that the params and the result use, in page order, and
    /// reports the tables nothing links to.
    pub(super) fn finish_objects(&mut self) {
        // Objects may be named while building others; loop until every used one is built.
        let mut built: HashSet<usize> = HashSet::new();
        loop {
            let pending: Vec<usize> = (0..self.raw.len())
                .filter(|i| self.raw[*i].name.is_some() && !built.contains(i))
                .collect();
            if pending.is_empty() {
                break;
            }
            for i in pending {
                built.insert(i);
                self.build_object(i);
            }
        }
        self.note_unlinked_tables();
        // Keep page order.
        let notes = &self.notes;
        self.spec
            .objects
            .sort_by_key(|o| notes.line(&Target::Object(o.name.clone())));
    }

    /// Builds the `i`th object candidate (named already) into a spec object.
    fn build_object(&mut self, i: usize) {
        let o = self.raw[i].clone();
        let name = o.name.clone().unwrap_or_default();
        let otarget = Target::Object(name.clone());
        let fields = self.object_fields(&o, &name);
        let renamed: Vec<String> = self
            .renamed
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, m)| m.clone())
            .collect();
        for m in renamed {
            self.notes.todo(otarget.clone(), m);
        }
        if fields.is_empty() {
            self.notes.note(
                otarget.clone(),
                o.line,
                format!("`{}` has no rows", o.heading),
            );
        }
        self.notes.set_line(otarget, o.line);
        let description = o
            .description
            .clone()
            .unwrap_or_else(|| format!("{} (docs: `{}`).", o.word, o.heading));
        self.spec.objects.push(object(&name, description, fields));
    }

    /// The fields of object `name` from the candidate's rows; a key an earlier row has
    /// (ignoring case) is dropped with a note.
    fn object_fields(&mut self, o: &RawObject, name: &str) -> Vec<Field> {
        let otarget = Target::Object(name.to_string());
        let mut fields: Vec<Field> = Vec::new();
        let mut seen = HashSet::new();
        for row in &o.rows {
            if !seen.insert(row.name.to_ascii_lowercase()) {
                self.notes.note(
                    otarget.clone(),
                    row.line,
                    format!(
                        "key `{}` of `{}` is documented twice; the second row is dropped",
                        row.name, o.heading
                    ),
                );
                continue;
            }
            let rt = self.row_type(row, o.params);
            let target = Target::field(name, &row.name);
            if let Some(n) = rt.note {
                self.notes.note(target.clone(), row.line, n);
            }
            let description = if row.description.is_empty() {
                self.notes.note(
                    target.clone(),
                    row.line,
                    format!("key `{}` of `{}` has no description", row.name, o.heading),
                );
                "TODO: no description in the docs.".into()
            } else {
                row.description.clone()
            };
            self.notes.set_line(target.clone(), row.line);
            self.notes.set_ty_guessed(target.clone(), rt.guessed);
            self.notes.set_untyped_array(target, rt.untyped_array);
            let optional = o.params && !row.required;
            fields.push(field(&row.name, rt.ty, optional, description));
        }
        fields
    }

    /// A warning for each table no parameter or result key links to (a map's value table
    /// aside).
    fn note_unlinked_tables(&mut self) {
        let unused: Vec<(usize, String)> = self
            .raw
            .iter()
            .filter(|o| o.name.is_none() && o.map_row().is_none())
            .map(|o| (o.line, o.heading.clone()))
            .collect();
        for (line, heading) in unused {
            let m = self.warn(
                line,
                format!(
                    "no parameter or result key links to `{heading}`: the table is not imported"
                ),
            );
            self.notes.todo(Target::Method, m);
        }
    }
}
