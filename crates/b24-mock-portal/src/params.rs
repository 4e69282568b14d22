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
/// A parameter as text, `""` when absent (PHP `$query['X'] ?? ''`).
pub(crate) fn get_text(params: &Map<String, Value>, name: &str) -> String {
    get_ci(params, name).and_then(as_text).unwrap_or_default()
}

/// A key of an object value, ignoring case (the first that matches).
pub(crate) fn key_ci<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map(|(_, v)| v)
}

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

/// Most characters of a request value an error message quotes.
pub(crate) const QUOTE_CHARS: usize = 64;

/// A request value as JSON for an error message: at most [`QUOTE_CHARS`] characters, cut on a
/// character boundary and marked with `…` when cut. A huge value is not serialised whole.
pub(crate) fn quote_value(v: &Value) -> String {
    /// Keeps the first bytes written and fails once it has enough.
    struct Prefix(Vec<u8>);
    impl std::io::Write for Prefix {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            // 4 bytes a character at most, and one more character to know it was cut.
            let room = (QUOTE_CHARS + 1) * 4 - self.0.len();
            if room == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            let n = buf.len().min(room);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Prefix(Vec::new());
    // Stops with an error once the prefix is full; what was written is kept.
    let _ = serde_json::to_writer(&mut out, v);
    let text = String::from_utf8_lossy(&out.0);
    match text.char_indices().nth(QUOTE_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// A boolean the way the portal reads it: `Y`/`N`, `1`/`0`, `true`/`false` (b24-core's
/// lenient `bool`, the client's own rule).
pub(crate) fn parse_bool(v: &Value) -> Option<bool> {
    b24_core::lenient::deserialize::<bool, _>(v).ok()
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
    fn quoted_values_are_short_and_cut_on_a_char_boundary() {
        assert_eq!(quote_value(&json!("abc")), r#""abc""#);
        assert_eq!(quote_value(&json!([1, 2])), "[1,2]");
        // 63 characters of a string fit (with its opening quote), the rest is cut.
        let long = "я".repeat(10_000);
        let q = quote_value(&json!(long));
        assert_eq!(q.chars().count(), QUOTE_CHARS + 1, "{q}");
        assert!(q.starts_with("\"я") && q.ends_with("я…"), "{q}");
        let q = quote_value(&json!(vec![12345; 100_000]));
        assert_eq!(q.chars().count(), QUOTE_CHARS + 1, "{q}");
        let exact = "x".repeat(QUOTE_CHARS - 2);
        assert_eq!(quote_value(&json!(exact)), format!("\"{exact}\""));
    }

    #[test]
    fn php_arrays_encode_like_json_encode() {
        assert_eq!(php_array(vec![]), json!([]));
        assert_eq!(php_array(vec![("0".into(), json!(1))]), json!([1]));
        assert_eq!(php_array(vec![("1".into(), json!(1))]), json!({"1": 1}));
    }
}
