//! The method's parameters: the parameters table and `### Дополнительные параметры`.

use std::collections::HashSet;

use b24_spec::{Location, Param};
use b24_spec::{Scalar, TypeExpr};
use serde_json::Value;

use crate::markdown::{Block, Row, Table};
use crate::notes::Target;

use super::sections::{Placed, SectionKind};
use super::tables::{
    is_field_table, is_more_params, names_parameters, row_info, table_columns, Columns, RowInfo,
};
use super::{err, ImportError, Importer};

impl Importer<'_> {
    /// The parameters section: the parameters table and the `### Дополнительные параметры`
    /// tables, one parameter per row; a note when the page says one of them is enough.
    pub(super) fn params(&mut self, placed: &[Placed<'_>], src: &str) -> Result<(), ImportError> {
        let Some(table) = params_table(placed) else {
            let has_params_section = placed.iter().any(|p| p.section == SectionKind::Params)
                || src.contains("## Параметры")
                || src.contains("## Parameters");
            if !has_params_section {
                self.notes.note(
                    Target::Method,
                    0,
                    "the page has no `## Параметры метода` section: the method is imported without parameters",
                );
            }
            return Ok(());
        };
        let more = more_params_tables(placed);
        let infos = self.param_rows(table, &more)?;
        self.add_params(infos);
        self.note_one_of_hint(placed);
        Ok(())
    }

    /// The rows of the parameters table and of the `more` tables, each with the note on the
    /// alternatives it was split from.
    fn param_rows(
        &self,
        table: &Table,
        more: &[&Table],
    ) -> Result<Vec<(RowInfo, Option<String>)>, ImportError> {
        let (cols, data) = table_columns(table);
        if cols.name.is_none() {
            return Err(err(
                self.page,
                table.line,
                "a parameters table whose first column is `Название` or `Параметр`",
            ));
        }
        let mut rows: Vec<(&Columns, &Row)> = data.iter().map(|r| (&cols, r)).collect();
        let more_cols: Vec<(Columns, &[Row])> = more.iter().map(|t| table_columns(t)).collect();
        for (c, d) in &more_cols {
            rows.extend(d.iter().map(|r| (c, r)));
        }
        let mut infos: Vec<(RowInfo, Option<String>)> = Vec::new();
        for (cols, row) in rows {
            let Some(info) = row_info(cols, row) else {
                return Err(err(
                    self.page,
                    row.line,
                    "a parameter row starting with `|| **NAME**`",
                ));
            };
            infos.extend(alternatives(info));
        }
        Ok(infos)
    }

    /// Adds the parameters of `infos` in order; a row whose name an earlier row has (ignoring
    /// case) is dropped with a warning.
    fn add_params(&mut self, infos: Vec<(RowInfo, Option<String>)>) {
        let mut names: HashSet<String> = HashSet::new();
        let mut exact: HashSet<String> = HashSet::new();
        for (info, alt_note) in infos {
            let twice = !exact.insert(info.name.clone());
            if !names.insert(info.name.to_ascii_lowercase()) {
                let m = self.warn(
                    info.line,
                    if twice {
                        format!(
                            "parameter `{}` is documented twice; the second row is dropped",
                            info.name
                        )
                    } else {
                        format!(
                            "parameter `{}` differs only in case from an earlier one: a spec's parameter names must differ ignoring case (the portal reads them so), so this row is dropped; check which of the two the portal reads",
                            info.name
                        )
                    },
                );
                self.notes.todo(Target::Method, m);
                continue;
            }
            self.add_param(&info, alt_note);
        }
    }

    /// Adds the parameter of one row (`alt_note`: the note on the alternatives it was split
    /// from).
    fn add_param(&mut self, info: &RowInfo, alt_note: Option<String>) {
        let rt = self.row_type(info, true);
        let target = Target::Param(info.name.clone());
        if let Some(n) = alt_note {
            self.notes.note(target.clone(), info.line, n);
        }
        if let Some(n) = rt.note {
            self.notes.note(target.clone(), info.line, n);
        }
        let description = if info.description.is_empty() {
            self.notes.note(
                target.clone(),
                info.line,
                format!("parameter `{}` has no description", info.name),
            );
            "TODO: no description in the docs.".to_string()
        } else {
            info.description.clone()
        };
        let example = info.example.as_ref().map(|e| example_value(e, &rt.ty));
        self.notes.set_line(target.clone(), info.line);
        self.notes.set_ty_guessed(target.clone(), rt.guessed);
        self.notes.set_untyped_array(target, rt.untyped_array);
        self.spec.params.push(Param {
            name: info.name.clone(),
            ty: rt.ty,
            required: info.required,
            description,
            example,
            note: None,
            location: Location::default(),
        });
    }

    /// When the page says one of the parameters is enough, a note on the first one to
    /// consider a `[[one_of]]` group.
    fn note_one_of_hint(&mut self, placed: &[Placed<'_>]) {
        let one_of_hint = placed.iter().any(|p| match p.block {
            Block::Text { text, .. } => {
                p.section != SectionKind::Other
                    && (text.contains("один из параметров") || text.contains("любой из параметров"))
            }
            _ => false,
        }) || self
            .spec
            .description
            .as_deref()
            .is_some_and(|d| d.contains("один из параметров"));
        if one_of_hint {
            if let Some(first) = self.spec.params.first() {
                let target = Target::Param(first.name.clone());
                let m = self.warn(
                    self.notes.line(&target),
                    "the page says one of these parameters is enough: consider a `[[one_of]]` group (in the order the server checks them)",
                );
                self.notes.todo_first(target, m);
            }
        }
    }
}

/// The parameters table: the first field table of the parameters section (not a `###`
/// one, not `## Список полей`) or, on 2024 pages without a `## Параметры` heading, a
/// `Параметр` table in the page's opening text, before any example or answer.
fn params_table<'b>(placed: &[Placed<'b>]) -> Option<&'b Table> {
    placed
        .iter()
        .find_map(|p| match (p.section, p.sub, p.block) {
            (SectionKind::Params, None, Block::Table(t))
                if is_field_table(t)
                    && !p
                        .section_heading
                        .is_some_and(|h| h.text.starts_with("Список полей")) =>
            {
                Some(t)
            }
            _ => None,
        })
        .or_else(|| {
            placed
                .iter()
                .take_while(|p| p.section == SectionKind::Other)
                .find_map(|p| match p.block {
                    Block::Table(t) if names_parameters(t) => Some(t),
                    _ => None,
                })
        })
}

/// `### Дополнительные параметры` / `### Additional Parameters`: more top-level parameters
/// (not an object's fields).
fn more_params_tables<'b>(placed: &[Placed<'b>]) -> Vec<&'b Table> {
    placed
        .iter()
        .filter(|p| p.section == SectionKind::Params)
        .filter_map(|p| match (p.sub, p.block) {
            (Some(h), Block::Table(t)) if is_more_params(&h.text) && is_field_table(t) => Some(t),
            _ => None,
        })
        .collect()
}

/// `IBLOCK_CODE/IBLOCK_ID`: one row for alternatives, of which one is sent. Each becomes an
/// optional parameter of its own, with a note; any other row is itself.
fn alternatives(info: RowInfo) -> Vec<(RowInfo, Option<String>)> {
    let parts: Vec<String> = info
        .name
        .split('/')
        .map(|p| p.trim().trim_matches('`').to_string())
        .collect();
    let alternatives = parts.len() > 1
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    if !alternatives {
        return vec![(info, None)];
    }
    let note = format!(
        "the page documents `{}` in one row: they are alternatives, each imported as optional; consider a `[[one_of]]` group{}",
        info.name,
        if info.required { " (one of them is required)" } else { "" }
    );
    parts
        .into_iter()
        .map(|p| {
            let mut one = info.clone();
            one.name = p;
            one.required = false;
            (one, Some(note.clone()))
        })
        .collect()
}

/// A 2024 `Пример` cell as a JSON value of the parameter's type (or of its elements).
fn example_value(text: &str, ty: &TypeExpr) -> Value {
    let t = text.trim();
    let mut inner = ty;
    while let TypeExpr::Nullable(i) | TypeExpr::Array(i) = inner {
        inner = i;
    }
    let scalar = match inner {
        TypeExpr::Scalar(s) => Some(*s),
        _ => None,
    };
    if scalar == Some(Scalar::Integer) {
        if let Ok(n) = t.parse::<i64>() {
            return Value::from(n);
        }
    }
    if scalar == Some(Scalar::Double) {
        if let Some(n) = t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            return Value::Number(n);
        }
    }
    if scalar == Some(Scalar::Boolean) {
        match t {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::String(t.to_string())
}
