//! `batch`: the commands in order, `$result[...]` references to earlier results, and the
//! five parts of its answer.

use serde_json::{Map, Value};

use b24_core::PortalErrorCode;

use crate::engine::{AuthCtx, Engine};
use crate::errors::{portal_error, ApiErr};
use crate::params::{as_text, get_ci, is_list_keys, parse_bool, parse_query, php_array, php_items};

/// Most commands in one `batch`.
pub const MAX_BATCH: usize = 50;

/// `batch`: runs the commands in order and answers the five parts.
pub(crate) fn batch(
    engine: &Engine,
    auth: &AuthCtx,
    params: &Map<String, Value>,
) -> Result<Value, ApiErr> {
    let cmds: Vec<(String, String)> = match get_ci(params, "cmd").and_then(php_items) {
        Some(items) => items
            .into_iter()
            .map(|(k, v)| (k, as_text(v).unwrap_or_default()))
            .collect(),
        None => Vec::new(),
    };
    if cmds.len() > MAX_BATCH {
        return Err(portal_error(PortalErrorCode::ErrorBatchLengthExceeded));
    }
    let halt = get_ci(params, "halt").and_then(parse_bool).unwrap_or(false);
    let list_shape = is_list_keys(cmds.iter().map(|(k, _)| k));
    let mut result: Vec<(String, Value)> = Vec::new();
    let mut errors: Vec<(String, Value)> = Vec::new();
    let mut totals: Vec<(String, Value)> = Vec::new();
    let mut nexts: Vec<(String, Value)> = Vec::new();
    let mut times: Vec<(String, Value)> = Vec::new();
    for (key, cmd) in &cmds {
        let (method, query) = cmd.split_once('?').unwrap_or((cmd.as_str(), ""));
        let method = method.trim().to_ascii_lowercase();
        let method = method.strip_suffix(".json").unwrap_or(&method).to_string();
        let mut sub = parse_query(query);
        let done: Map<String, Value> = result.iter().cloned().collect();
        substitute_refs(&mut sub, &done);
        match engine.call(auth, &method, &sub, true) {
            Ok(s) => {
                result.push((key.clone(), s.result));
                if let Some(t) = s.total {
                    totals.push((key.clone(), Value::from(t)));
                }
                if let Some(n) = s.next {
                    nexts.push((key.clone(), Value::from(n)));
                }
                times.push((key.clone(), s.time));
            }
            Err(e) => {
                errors.push((key.clone(), e.body()));
                if halt {
                    break;
                }
            }
        }
    }
    let part = |entries: Vec<(String, Value)>| {
        if list_shape {
            php_array(entries)
        } else if entries.is_empty() {
            Value::Array(Vec::new())
        } else {
            Value::Object(entries.into_iter().collect())
        }
    };
    let mut out = Map::new();
    out.insert("result".into(), part(result));
    out.insert("result_error".into(), part(errors));
    out.insert("result_total".into(), part(totals));
    out.insert("result_next".into(), part(nexts));
    out.insert("result_time".into(), part(times));
    Ok(Value::Object(out))
}

/// Replaces `$result[name][key]...` in string parameters with earlier results.
fn substitute_refs(params: &mut Map<String, Value>, done: &Map<String, Value>) {
    for v in params.values_mut() {
        substitute_value(v, done);
    }
}

fn substitute_value(v: &mut Value, done: &Map<String, Value>) {
    match v {
        Value::Object(m) => substitute_refs(m, done),
        Value::Array(a) => a.iter_mut().for_each(|x| substitute_value(x, done)),
        Value::String(s) if s.contains("$result[") => {
            if let Some((value, whole)) = resolve_refs(s, done) {
                *v = if whole {
                    value
                } else {
                    Value::String(as_text(&value).unwrap_or_default())
                };
            }
        }
        _ => {}
    }
}

/// Resolves the references in `s`. Returns the value of a string that is one whole
/// reference (`true`), or the text with every reference replaced (`false`).
fn resolve_refs(s: &str, done: &Map<String, Value>) -> Option<(Value, bool)> {
    let mut out = String::new();
    let mut rest = s;
    let mut single: Option<Value> = None;
    let mut refs = 0;
    while let Some(pos) = rest.find("$result[") {
        out.push_str(&rest[..pos]);
        let mut tail = &rest[pos + "$result".len()..];
        let mut path = Vec::new();
        while let Some(t) = tail.strip_prefix('[') {
            let Some(end) = t.find(']') else { break };
            path.push(&t[..end]);
            tail = &t[end + 1..];
        }
        let mut cur: Option<&Value> = path.first().and_then(|k| done.get(*k));
        for k in path.iter().skip(1) {
            cur = cur.and_then(|c| match c {
                Value::Object(m) => m.get(*k),
                Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            });
        }
        let value = cur.cloned().unwrap_or(Value::String(String::new()));
        out.push_str(&as_text(&value).unwrap_or_default());
        if refs == 0 && pos == 0 && tail.is_empty() {
            single = Some(value);
        }
        refs += 1;
        rest = tail;
    }
    out.push_str(rest);
    if refs == 0 {
        return None;
    }
    match single {
        Some(v) if refs == 1 => Some((v, true)),
        _ => Some((Value::String(out), false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_resolve_whole_and_embedded() {
        let done: Map<String, Value> =
            serde_json::from_value(json!({"a": {"id": 5, "list": [{"x": "y"}]}, "0": [7]}))
                .unwrap();
        assert_eq!(
            resolve_refs("$result[a][id]", &done),
            Some((json!(5), true))
        );
        assert_eq!(
            resolve_refs("chat$result[a][id]!", &done),
            Some((json!("chat5!"), false))
        );
        assert_eq!(
            resolve_refs("$result[a][list][0][x]", &done),
            Some((json!("y"), true))
        );
        assert_eq!(resolve_refs("$result[0][0]", &done), Some((json!(7), true)));
        assert_eq!(resolve_refs("plain", &done), None);
    }
}
