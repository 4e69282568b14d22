//! Request parameters as PHP sees them: query strings and form bodies with nested keys
//! (`FIELDS[NAME]=x`, `ARR[]=1`), JSON bodies, case-insensitive names, PHP's `intval`.

use serde_json::{Map, Value};

/// Parses `a=1&B[c]=2&d[]=3` into a tree, PHP `parse_str` style. Later keys overwrite
/// earlier ones; `[]` appends.
pub(crate) fn parse_query(query: &str) -> Map<String, Value> {
    let mut root = Map::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        insert_php_key(&mut root, &key, Value::String(value.into_owned()));
    }
    root
}

/// Splits `name[a][][b]` into `name` and the bracket parts (`None` for `[]`).
fn split_key(key: &str) -> Option<(String, Vec<Option<String>>)> {
    let (base, mut rest) = match key.find('[') {
        Some(i) if i > 0 => (&key[..i], &key[i..]),
        Some(_) => return None,
        None => {
            return if key.is_empty() {
                None
            } else {
                Some((key.to_string(), Vec::new()))
            }
        }
    };
    let mut parts = Vec::new();
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(end) => {
                let inner = &stripped[..end];
                parts.push(if inner.is_empty() {
                    None
                } else {
                    Some(inner.to_string())
                });
                rest = &stripped[end + 1..];
            }
            // PHP keeps an unclosed bracket as part of the name; treat the key as flat.
            None => return Some((key.to_string(), Vec::new())),
        }
    }
    Some((base.to_string(), parts))
}

fn next_index(map: &Map<String, Value>) -> String {
    map.keys()
        .filter_map(|k| k.parse::<i64>().ok())
        .max()
        .map_or(0, |m| m + 1)
        .to_string()
}

fn insert_php_key(root: &mut Map<String, Value>, key: &str, value: Value) {
    let Some((base, parts)) = split_key(key) else {
        return;
    };
    let mut keys = Vec::with_capacity(parts.len() + 1);
    keys.push(Some(base));
    keys.extend(parts);
    insert_path(root, &keys, value);
}

fn insert_path(map: &mut Map<String, Value>, keys: &[Option<String>], value: Value) {
    let Some((first, rest)) = keys.split_first() else {
        return;
    };
    let key = match first {
        Some(k) => k.clone(),
        None => next_index(map),
    };
    if rest.is_empty() {
        map.insert(key, value);
        return;
    }
    let slot = map.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(inner) = slot {
        insert_path(inner, rest, value);
    }
}

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
    fn php_nested_keys() {
        let q = parse_query("FIELDS[NAME]=x&ARR[]=1&ARR[]=2&A[b][c]=1&plain=%2Fa+b&A[b][d]=2");
        assert_eq!(
            Value::Object(q),
            json!({"FIELDS": {"NAME": "x"}, "ARR": {"0": "1", "1": "2"}, "A": {"b": {"c": "1", "d": "2"}}, "plain": "/a b"})
        );
        let q = parse_query("cmd[a]=imopenlines.dialog.get%3FCHAT_ID%3D1&halt=1");
        assert_eq!(q["cmd"]["a"], "imopenlines.dialog.get?CHAT_ID=1");
    }

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
