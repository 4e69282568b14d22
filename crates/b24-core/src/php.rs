//! PHP-style form encoding, as the portal reads and writes it: `FIELDS[NAME]=x`, `ARR[]=1`,
//! `data[MESSAGES][0][im][chat_id]=1807`.
//!
//! [`parse_query`] reads a query string or a form body into a tree the way PHP's `parse_str`
//! does (event handlers receive such bodies); [`encode_query`] writes parameters the way a
//! `batch` command carries them; [`http_build_query`] writes a tree exactly as PHP's
//! `http_build_query` does (how the portal posts events).

use serde_json::{Map, Value};

/// Deepest bracket nesting kept, as PHP's `max_input_nesting_level` (64): a deeper key is
/// dropped, so a hostile body cannot make the parser recurse without bound.
pub const MAX_NESTING: usize = 64;

/// The integer a PHP array key stands for: canonical decimal only (`"7"`, `"-3"`; not
/// `"07"`, `"+7"`, `"-0"` or `" 7"`, which PHP keeps as strings).
pub fn int_key(key: &str) -> Option<i64> {
    let digits = key.strip_prefix('-').unwrap_or(key);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" && digits.len() == key.len() || !digits.starts_with('0'));
    if canonical {
        key.parse().ok()
    } else {
        None
    }
}

/// Parses `a=1&B[c]=2&d[]=3` into a tree, PHP `parse_str` style: later keys overwrite earlier
/// ones, `[]` appends, a key nested deeper than [`MAX_NESTING`] is dropped. Lists arrive as
/// objects keyed `"0"`, `"1"`... (lenient decoding reads them as lists). Invalid UTF-8 and
/// bad percent escapes are replaced, never fatal.
pub fn parse_query(query: &str) -> Map<String, Value> {
    parse_query_bytes(query.as_bytes())
}

/// [`parse_query`] over raw bytes (a request body).
pub fn parse_query_bytes(query: &[u8]) -> Map<String, Value> {
    let mut root = Node::branch();
    for (key, value) in form_urlencoded::parse(query) {
        if let Some((base, parts)) = split_key(&key) {
            if parts.len() <= MAX_NESTING {
                root.insert(Some(base), parts, value.into_owned());
            }
        }
    }
    match root.into_value() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A PHP array while it is being built: children in insertion order and the next free
/// integer key (PHP's `nNextFreeElement`), so `a[]=` appends in constant time.
enum Node {
    Leaf(String),
    Branch {
        children: indexmap::IndexMap<String, Node>,
        next: i64,
    },
}

impl Node {
    fn branch() -> Node {
        Node::Branch {
            children: indexmap::IndexMap::new(),
            next: 0,
        }
    }

    /// Inserts `value` at `key` followed by `rest`, iteratively (depth is bounded anyway).
    fn insert(&mut self, key: Option<String>, rest: Vec<Option<String>>, value: String) {
        let mut node = self;
        let mut key = key;
        let mut rest = rest.into_iter();
        loop {
            if !matches!(node, Node::Branch { .. }) {
                // A scalar used as an array becomes one, as in PHP.
                *node = Node::branch();
            }
            let Node::Branch { children, next } = node else {
                return;
            };
            let k = match key.take() {
                Some(k) => {
                    if let Some(i) = int_key(&k) {
                        if i >= *next {
                            *next = i.saturating_add(1);
                        }
                    }
                    k
                }
                // PHP drops an append once the next index would overflow.
                None if *next == i64::MAX => return,
                None => {
                    let k = next.to_string();
                    *next += 1;
                    k
                }
            };
            match rest.next() {
                None => {
                    children.insert(k, Node::Leaf(value));
                    return;
                }
                Some(part) => {
                    node = children.entry(k).or_insert_with(Node::branch);
                    key = part;
                }
            }
        }
    }

    fn into_value(self) -> Value {
        match self {
            Node::Leaf(s) => Value::String(s),
            Node::Branch { children, .. } => Value::Object(
                children
                    .into_iter()
                    .map(|(k, v)| (k, v.into_value()))
                    .collect(),
            ),
        }
    }
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
        if parts.len() > MAX_NESTING {
            break;
        }
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

/// Characters left as they are; everything else is percent-encoded. `[` and `]` are kept
/// readable in keys when `keep_brackets` is set.
fn encode_into(out: &mut String, s: &str, keep_brackets: bool, plus_for_space: bool) {
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_brackets && matches!(b, b'[' | b']'));
        if keep {
            out.push(b as char);
        } else if plus_for_space && b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// How scalars and nulls are written.
#[derive(Clone, Copy)]
struct Style {
    /// `null` is skipped (PHP) instead of sent empty.
    skip_null: bool,
    /// `false` is `0` (PHP) or empty.
    false_text: &'static str,
    /// Brackets stay readable in keys.
    keep_brackets: bool,
    /// Spaces are `+` (PHP's `PHP_QUERY_RFC1738`) instead of `%20`.
    plus_for_space: bool,
}

fn push_pairs(out: &mut Vec<(String, String)>, key: String, value: &Value, style: Style) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                push_pairs(out, format!("{key}[{i}]"), item, style);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                push_pairs(out, format!("{key}[{k}]"), item, style);
            }
        }
        Value::Null if style.skip_null => {}
        Value::Null => out.push((key, String::new())),
        Value::Bool(true) => out.push((key, "1".to_string())),
        Value::Bool(false) => out.push((key, style.false_text.to_string())),
        Value::Number(n) => out.push((key, n.to_string())),
        Value::String(s) => out.push((key, s.clone())),
    }
}

fn encode(params: &Map<String, Value>, style: Style) -> String {
    let mut pairs = Vec::new();
    for (k, v) in params {
        push_pairs(&mut pairs, k.clone(), v, style);
    }
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        encode_into(&mut out, k, style.keep_brackets, style.plus_for_space);
        out.push('=');
        encode_into(&mut out, v, false, style.plus_for_space);
    }
    out
}

/// Encodes parameters as a PHP-style query string, the form `batch` commands use. Booleans
/// become `1`/`0`, `null` an empty value; nested objects and arrays become `KEY[sub]` /
/// `KEY[0]` pairs (brackets kept readable).
pub fn encode_query(params: &Map<String, Value>) -> String {
    encode(
        params,
        Style {
            skip_null: false,
            false_text: "0",
            keep_brackets: true,
            plus_for_space: false,
        },
    )
}

/// Encodes a tree as PHP's `http_build_query` does (how the portal posts an event to a
/// handler): brackets percent-encoded, spaces as `+`, `true` as `1`, `false` as `0`, `null`
/// skipped. (PHP also escapes `~` as `%7E`; decoders read both.)
pub fn http_build_query(params: &Map<String, Value>) -> String {
    encode(
        params,
        Style {
            skip_null: true,
            false_text: "0",
            keep_brackets: false,
            plus_for_space: true,
        },
    )
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
        // A scalar later used as an array becomes one, as in PHP.
        let q = parse_query("a=1&a[b]=2");
        assert_eq!(Value::Object(q), json!({"a": {"b": "2"}}));
    }

    #[test]
    fn integer_keys_are_canonical_decimals() {
        for (k, want) in [("7", Some(7)), ("-3", Some(-3)), ("0", Some(0))] {
            assert_eq!(int_key(k), want, "{k}");
        }
        for k in [
            "07",
            "+7",
            "-0",
            " 7",
            "",
            "-",
            "7a",
            "99999999999999999999",
        ] {
            assert_eq!(int_key(k), None, "{k}");
        }
        // "07" is a string key: the next append is 0, not 8.
        let q = parse_query("a[07]=x&a[]=y");
        assert_eq!(Value::Object(q), json!({"a": {"07": "x", "0": "y"}}));
        let q = parse_query("a[9223372036854775807]=x&a[]=y");
        assert_eq!(Value::Object(q), json!({"a": {"9223372036854775807": "x"}}));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("a{}=1", "[x]".repeat(MAX_NESTING + 1));
        assert!(parse_query(&deep).is_empty());
        let ok = format!("a{}=1&b=2", "[x]".repeat(MAX_NESTING));
        assert_eq!(parse_query(&ok).len(), 2);
        // A million brackets neither recurse nor allocate a million levels.
        let huge = format!("a{}=1", "[".repeat(1_000_000));
        assert_eq!(parse_query(&huge).len(), 1);
        let huge = format!("a{}=1", "[]".repeat(1_000_000));
        assert!(parse_query(&huge).is_empty());
    }

    #[test]
    fn batch_encoding_keeps_brackets() {
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

    #[test]
    fn http_build_query_matches_php_and_round_trips() {
        let tree = json!({
            "event": "ONIMCONNECTORMESSAGEADD",
            "data": {"LINE": 107, "MESSAGES": [{"message": {"text": "[b]Hi[/b] a+b"}}], "GONE": null},
            "auth": {"application_token": "t0k", "ok": false}
        });
        let q = http_build_query(tree.as_object().unwrap());
        // What PHP 8 prints for the same array.
        assert_eq!(
            q,
            "event=ONIMCONNECTORMESSAGEADD&data%5BLINE%5D=107&data%5BMESSAGES%5D%5B0%5D%5Bmessage%5D%5Btext%5D=%5Bb%5DHi%5B%2Fb%5D+a%2Bb&auth%5Bapplication_token%5D=t0k&auth%5Bok%5D=0"
        );
        let back = Value::Object(parse_query(&q));
        assert_eq!(
            back["data"]["MESSAGES"]["0"]["message"]["text"],
            "[b]Hi[/b] a+b"
        );
        assert_eq!(back["data"]["LINE"], "107");
        assert!(back["data"].get("GONE").is_none());
    }
}
