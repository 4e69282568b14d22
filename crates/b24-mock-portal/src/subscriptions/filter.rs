//! `filter` and `order` of `event.offline.get` and `.list`: conditions on the fields of a
//! queued record (unknown fields dropped, as the server's `sanitizeFilter` does) and sorting.

use std::time::SystemTime;

use serde_json::{Map, Value};

use super::OfflineRecord;
use crate::params::{as_text, get_ci, php_intval, php_items};

/// A field of a record, for filters and sorting.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Field {
    Num(i64),
    Text(String),
}

fn field(r: &OfflineRecord, name: &str) -> Option<Field> {
    Some(match name {
        "ID" => Field::Num(r.id as i64),
        "TIMESTAMP_X" => Field::Num(
            r.timestamp
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        ),
        "EVENT_NAME" => Field::Text(r.event.clone()),
        "MESSAGE_ID" => Field::Text(r.message_id.clone()),
        "PROCESS_ID" => Field::Text(r.process_id.clone()),
        "ERROR" => Field::Num(i64::from(r.error)),
        _ => return None,
    })
}

/// A filter value in the type of `name`.
fn filter_value(name: &str, v: &Value) -> Field {
    match name {
        "ID" | "ERROR" => Field::Num(php_intval(v)),
        "TIMESTAMP_X" => {
            let t = as_text(v).unwrap_or_default();
            Field::Num(
                chrono::DateTime::parse_from_rfc3339(t.trim())
                    .map(|d| d.timestamp())
                    .unwrap_or_else(|_| php_intval(v)),
            )
        }
        _ => Field::Text(as_text(v).unwrap_or_default()),
    }
}

/// One condition of `filter`: an operation (`=`, `!`, `!=`, `<`, `<=`, `>`, `>=`, or none
/// for equality) before a field name; unknown fields are dropped, as `sanitizeFilter` does.
pub(super) struct Condition {
    op: String,
    field: String,
    value: Field,
}

/// The conditions of the `filter` parameter on the fields `allowed`.
pub(super) fn conditions(params: &Map<String, Value>, allowed: &[&str]) -> Vec<Condition> {
    let Some(items) = get_ci(params, "filter").and_then(php_items) else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|(key, v)| {
            let split = key
                .find(|c: char| c.is_ascii_alphanumeric() || c == '_')
                .unwrap_or(key.len());
            let (op, name) = key.split_at(split);
            let name = name.to_ascii_uppercase();
            if !allowed.contains(&name.as_str())
                || !matches!(op, "" | "=" | "!" | "!=" | "<" | "<=" | ">" | ">=")
            {
                return None;
            }
            Some(Condition {
                op: op.to_string(),
                value: filter_value(&name, v),
                field: name,
            })
        })
        .collect()
}

/// Whether a record meets every condition.
pub(super) fn matches(r: &OfflineRecord, conds: &[Condition]) -> bool {
    conds.iter().all(|c| {
        let Some(have) = field(r, &c.field) else {
            return false;
        };
        match c.op.as_str() {
            "" | "=" => have == c.value,
            "!" | "!=" => have != c.value,
            "<" => have < c.value,
            "<=" => have <= c.value,
            ">" => have > c.value,
            ">=" => have >= c.value,
            _ => false,
        }
    })
}

/// `order`: fields with `ASC`/`DESC`, unknown fields dropped; `default` when none is left.
pub(super) fn order(
    params: &Map<String, Value>,
    allowed: &[&str],
    default: &str,
) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = get_ci(params, "order")
        .and_then(php_items)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| {
            let name = k.to_ascii_uppercase();
            allowed.contains(&name.as_str()).then(|| {
                let desc = as_text(v).is_some_and(|d| d.trim().eq_ignore_ascii_case("desc"));
                (name, desc)
            })
        })
        .collect();
    if out.is_empty() {
        out.push((default.to_string(), false));
    }
    out
}

/// Sorts records by `order`, then by id.
pub(super) fn sort(records: &mut [&OfflineRecord], order: &[(String, bool)]) {
    records.sort_by(|a, b| {
        for (name, desc) in order {
            let ord = field(a, name)
                .partial_cmp(&field(b, name))
                .unwrap_or(std::cmp::Ordering::Equal);
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        a.id.cmp(&b.id)
    });
}
