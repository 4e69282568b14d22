//! PHP-style query strings: how `batch` commands carry their parameters
//! (`method?CHAT_ID=1&FIELDS[NAME]=x&ARR[0]=1`).

use serde_json::{Map, Value};

/// Characters left as they are in keys and values; everything else is percent-encoded. `[`
/// and `]` are kept readable in keys, as PHP's `http_build_query` output is commonly written.
fn encode_into(out: &mut String, s: &str, keep_brackets: bool) {
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_brackets && matches!(b, b'[' | b']'));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

fn push_pairs(out: &mut Vec<(String, String)>, key: String, value: &Value) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                push_pairs(out, format!("{key}[{i}]"), item);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                push_pairs(out, format!("{key}[{k}]"), item);
            }
        }
        other => out.push((key, scalar(other).unwrap_or_default())),
    }
}

/// Encodes parameters as a PHP-style query string. Booleans become `1`/`0`, `null` an empty
/// value; nested objects and arrays become `KEY[sub]` / `KEY[0]` pairs.
pub fn encode_query(params: &Map<String, Value>) -> String {
    let mut pairs = Vec::new();
    for (k, v) in params {
        push_pairs(&mut pairs, k.clone(), v);
    }
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, k, true);
        out.push('=');
        encode_into(&mut out, v, false);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_keys_and_escaping() {
        let params = json!({
            "CHAT_ID": 1777,
            "USER_CODE": "livechat|1|1373|211",
            "FIELDS": {"NAME": "a b&c", "LIST": [1, 2]},
            "FLAG": true,
            "EMPTY": null,
            "REF": "$result[a][id]"
        });
        let q = encode_query(params.as_object().unwrap());
        assert_eq!(
            q,
            "CHAT_ID=1777&USER_CODE=livechat%7C1%7C1373%7C211&FIELDS[NAME]=a%20b%26c&FIELDS[LIST][0]=1&FIELDS[LIST][1]=2&FLAG=1&EMPTY=&REF=%24result%5Ba%5D%5Bid%5D"
        );
    }
}
