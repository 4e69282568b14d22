//! Request parameters as PHP sees them: query strings and form bodies with nested keys
//! (`FIELDS[NAME]=x`, `ARR[]=1`, parsed by `b24_core::php`), JSON bodies, case-insensitive
//! names, PHP's `intval`.

use serde_json::{Map, Value};

pub(crate) use b24_core::php::parse_query;

/// The value of a parameter, matching its name ignoring ASCII case (the last spelling wins,
/// as PHP's `array_change_key_case`). JSON `null` counts as absent (PHP `isset`).
pub(crate) fn get_ci<'a>(params: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    params
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .next_back()
        .filter(|v| !v.is_null())
}

/// PHP `intval` of a request value: `"12abc"` is 12, `"abc"` and `""` are 0.
pub(crate) fn php_intval(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f as i64))
            .unwrap_or(0),
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => {
            let t = s.trim_start();
            let (neg, digits) = match t.as_bytes().first() {
                Some(b'-') => (true, &t[1..]),
                Some(b'+') => (false, &t[1..]),
                _ => (false, t),
            };
            let end = digits
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(digits.len());
            let n = digits[..end].parse::<i64>().unwrap_or(0);
            if neg {
                -n
            } else {
                n
            }
        }
        Value::Array(a) => i64::from(!a.is_empty()),
        Value::Object(o) => i64::from(!o.is_empty()),
        Value::Null => 0,
    }
}

/// A request value as text (numbers as their text), `None` for arrays and objects.
pub(crate) fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(true) => Some("1".into()),
        Value::Bool(false) => Some(String::new()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// A boolean the way the portal reads it: `Y`/`N`, `1`/`0`, `true`/`false`.
pub(crate) fn parse_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "y" | "1" | "true" => Some(true),
            "n" | "0" | "false" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// Items of a PHP array: a JSON list, or an object keyed by anything.
pub(crate) fn php_items(v: &Value) -> Option<Vec<(String, &Value)>> {
    match v {
        Value::Array(a) => Some(
            a.iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
        ),
        Value::Object(o) => Some(o.iter().map(|(k, v)| (k.clone(), v)).collect()),
        _ => None,
    }
}

/// Whether keys are exactly `0..n` in order: such a PHP array is a JSON list.
pub(crate) fn is_list_keys<'a>(keys: impl IntoIterator<Item = &'a String>) -> bool {
    keys.into_iter()
        .enumerate()
        .all(|(i, k)| *k == i.to_string())
}

/// How PHP's `json_encode` writes an array with these entries: `[]` when empty, a list when
/// keyed `0..n`, otherwise an object.
pub(crate) fn php_array(entries: Vec<(String, Value)>) -> Value {
    if is_list_keys(entries.iter().map(|(k, _)| k)) {
        Value::Array(entries.into_iter().map(|(_, v)| v).collect())
    } else {
        Value::Object(entries.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn intval_and_case() {
        assert_eq!(php_intval(&json!("12abc")), 12);
        assert_eq!(php_intval(&json!("")), 0);
        assert_eq!(php_intval(&json!(" -3")), -3);
        assert_eq!(php_intval(&json!(1777)), 1777);
        let m: Map<String, Value> =
            serde_json::from_value(json!({"chat_id": 1, "Chat_Id": 2, "X": null})).unwrap();
        assert_eq!(get_ci(&m, "CHAT_ID"), Some(&json!(2)));
        assert_eq!(get_ci(&m, "x"), None);
    }

    #[test]
    fn php_arrays_encode_like_json_encode() {
        assert_eq!(php_array(vec![]), json!([]));
        assert_eq!(php_array(vec![("0".into(), json!(1))]), json!([1]));
        assert_eq!(php_array(vec![("1".into(), json!(1))]), json!({"1": 1}));
    }
}
