//! Field tables: which column holds what, one row read into a `RowInfo`, and what the
//! `###` heading over a table says.

use crate::markdown::{anchors, code_spans, plain, Row, Table};

/// Which column holds what.
#[derive(Debug, Default)]
pub(super) struct Columns {
    pub(super) name: Option<usize>,
    pub(super) ty: Option<usize>,
    pub(super) description: Option<usize>,
    pub(super) example: Option<usize>,
    pub(super) status: Option<usize>,
    pub(super) code: Option<usize>,
    pub(super) message: Option<usize>,
    pub(super) meaning: Option<usize>,
    pub(super) legacy: bool,
}

pub(super) fn columns(header: &Row) -> Columns {
    let mut c = Columns::default();
    for (i, cell) in header.cells.iter().enumerate() {
        let t = plain(cell).to_lowercase();
        // `Параметр / Тип`, `Название`, `Name`: the first word names the column.
        let first = t
            .lines()
            .next()
            .unwrap_or("")
            .split(['/', '`'])
            .next()
            .unwrap_or("")
            .trim()
            .trim_end_matches(':')
            .to_string();
        // `Сообщение об ошибке`, `Описание ошибки`: the first word decides, unless the whole
        // header is a known one (`С версии`).
        let first = match first.as_str() {
            "с версии" => first,
            _ => first.split_whitespace().next().unwrap_or("").to_string(),
        };
        match first.as_str() {
            "название" | "параметр" | "параметры" | "поле" | "ключ" | "name" | "parameter"
            | "field" | "key" => {
                c.name = Some(i);
                if t.contains("тип") || t.contains("type") {
                    c.ty = Some(i);
                }
            }
            "тип" | "type" => c.ty = Some(i),
            "описание" | "description" => {
                // `Код | Описание` (the text is the message) or, after a message column,
                // `Код | Сообщение об ошибке | Описание` (the text explains it).
                match (c.code, c.message) {
                    (Some(_), None) => c.message = Some(i),
                    (Some(_), Some(_)) => c.meaning = Some(i),
                    _ => c.description = Some(i),
                }
            }
            "сообщение" | "cообщение" | "message" | "error" if c.code.is_some() => {
                c.message = Some(i)
            }
            "пример" | "example" => {
                c.example = Some(i);
                c.legacy = true;
            }
            "ревизия" | "с версии" => c.legacy = true,
            "статус" | "status" => c.status = Some(i),
            "код" | "code" => c.code = Some(i),
            "значение" | "value" => c.meaning = Some(i),
            _ => {}
        }
    }
    c
}

/// A row of a parameter or field table.
#[derive(Debug, Clone)]
pub(super) struct RowInfo {
    pub(super) name: String,
    pub(super) required: bool,
    /// Code spans of the type part (`integer`, `null`, `object[]`).
    pub(super) types: Vec<String>,
    pub(super) anchors: Vec<String>,
    pub(super) description: String,
    pub(super) raw_description: String,
    pub(super) example: Option<String>,
    pub(super) line: usize,
}

pub(super) fn row_info(cols: &Columns, row: &Row) -> Option<RowInfo> {
    let ni = cols.name?;
    let cell = row.cells.get(ni)?;
    let mut lines = cell.lines();
    let first = lines.next().unwrap_or("").trim();
    let (name, after) = match first.strip_prefix("**") {
        Some(rest) => match rest.find("**") {
            Some(end) => (&rest[..end], &rest[end + 2..]),
            None => (rest, ""),
        },
        None => (first, ""),
    };
    let mut name = name.replace('\\', "");
    // `**TASKID^*^**`: the 2024 template's superscript star inside the bold name.
    let mut required_mark = false;
    if let Some(stripped) = name.strip_suffix("^*^") {
        name = stripped.to_string();
        required_mark = true;
    }
    // `**ID***`, `**ID**\*`, `**ID**^*^` (the 2024 template's superscript).
    let mut required = after.trim_start().starts_with('*')
        || after.contains("\\*")
        || after.trim_start().starts_with("^*^")
        || required_mark;
    if let Some(stripped) = name.strip_suffix('*') {
        name = stripped.trim().to_string();
        required = true;
    }
    let name = name.trim().trim_matches('`').to_string();
    if name.is_empty() {
        return None;
    }
    let mut type_md: String = after.to_string();
    for l in lines {
        type_md.push('\n');
        type_md.push_str(l);
    }
    if let Some(ti) = cols.ty.filter(|t| *t != ni) {
        if let Some(c) = row.cells.get(ti) {
            type_md.push('\n');
            type_md.push_str(c);
        }
    }
    let raw_description = cols
        .description
        .and_then(|d| row.cells.get(d))
        .cloned()
        .unwrap_or_default();
    let mut all_anchors = anchors(&type_md);
    all_anchors.extend(anchors(&raw_description));
    let example = cols.example.and_then(|e| row.cells.get(e)).and_then(|c| {
        let first = plain(c).lines().next().unwrap_or("").to_string();
        let v = first.replace('`', "");
        (!v.trim().is_empty()).then(|| v.trim().to_string())
    });
    Some(RowInfo {
        name,
        required,
        types: code_spans(&type_md)
            .into_iter()
            .map(|t| t.to_lowercase())
            .collect(),
        anchors: all_anchors,
        description: plain(&raw_description),
        raw_description,
        example,
        line: row.line,
    })
}

/// `### Дополнительные параметры` / `### Additional Parameters`: a second table of the
/// method's own parameters.
pub(super) fn is_more_params(heading: &str) -> bool {
    let h = heading.trim().to_lowercase();
    h.starts_with("дополнительные параметры") || h.starts_with("additional parameters")
}

/// A field table whose name column is headed `Параметр` / `Parameter`.
pub(super) fn names_parameters(t: &Table) -> bool {
    is_field_table(t)
        && t.rows.first().is_some_and(|h| {
            h.cells.first().is_some_and(|c| {
                let c = plain(c).to_lowercase();
                c.starts_with("параметр") || c.starts_with("parameter")
            })
        })
}

/// `### Возвращаемые данные` / `### Returned Data`: the table of the answer's top level.
pub(super) fn is_returned_data(heading: &str) -> bool {
    let h = heading.trim().to_lowercase();
    h.starts_with("возвращаемые данные") || h.starts_with("returned data")
}

/// `### Описание ключей` / `### Key Descriptions` (2024 template): a list of keys.
pub(super) fn is_key_list(heading: &str) -> bool {
    let h = heading.trim().to_lowercase();
    h.starts_with("описание ключей")
        || h.starts_with("key description")
        || h.starts_with("description of keys")
}

pub(super) fn heading_word(text: &str) -> (String, bool) {
    let lower = text.to_lowercase();
    let is_item = text.contains("Элемент массива")
        || text.contains("элемент")
        || text.trim_end().ends_with("[]")
        || text.trim_end().ends_with("[]`")
        || lower.contains(" item")
        || lower.contains("array element");
    // The English translation puts the kind last: `Result Object`, `Readed List Item Object`.
    const KIND_WORDS: &[&str] = &["object", "item", "element", "array", "structure", "fields"];
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut end = words.len();
    while end > 1 && KIND_WORDS.contains(&words[end - 1].trim_matches('`').to_lowercase().as_str())
    {
        end -= 1;
    }
    let word = if end < words.len() && words[..end].iter().all(|w| w.is_ascii()) {
        // English: the words before the kind make the name (`Readed List` → `readedList`).
        let mut out = String::new();
        for (i, w) in words[..end].iter().enumerate() {
            let w = w.trim_matches('`');
            if i == 0 {
                out.push_str(&w.to_lowercase());
            } else {
                let mut cs = w.chars();
                if let Some(c) = cs.next() {
                    out.extend(c.to_uppercase());
                    out.push_str(cs.as_str());
                }
            }
        }
        out
    } else {
        words.last().copied().unwrap_or(text).to_string()
    };
    let word = word.trim_matches('`').trim_end_matches("[]").to_string();
    (word, is_item)
}

pub(super) fn is_field_table(t: &Table) -> bool {
    let (c, _) = table_columns(t);
    c.name.is_some() && c.code.is_none()
}

/// The table's columns and its data rows. A table whose first row is no header but already a
/// field (`|| **TASKID*** [`integer`] | Идентификатор ||`, some pages leave the header out)
/// is read as name-and-type, then description.
pub(super) fn table_columns(t: &Table) -> (Columns, &[Row]) {
    let Some(first) = t.rows.first() else {
        return (Columns::default(), &[]);
    };
    let c = columns(first);
    if c.name.is_some() || c.code.is_some() {
        return (c, t.rows.get(1..).unwrap_or_default());
    }
    let looks_like_field = first.cells.len() >= 2
        && first
            .cells
            .first()
            .is_some_and(|cell| cell.trim_start().starts_with("**"));
    if looks_like_field {
        let headerless = Columns {
            name: Some(0),
            ty: Some(0),
            description: Some(1),
            ..Columns::default()
        };
        (headerless, &t.rows)
    } else {
        (c, t.rows.get(1..).unwrap_or_default())
    }
}
