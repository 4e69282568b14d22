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
/// ones, `[]` appends, names are normalised as PHP does (see [`parse_form`]). Lists arrive as
/// objects keyed `"0"`, `"1"`... (lenient decoding reads them as lists). Invalid UTF-8 and
/// bad percent escapes are replaced, never fatal.
pub fn parse_query(query: &str) -> Map<String, Value> {
    parse_query_bytes(query.as_bytes())
}

/// [`parse_query`] over raw bytes (a request body).
pub fn parse_query_bytes(query: &[u8]) -> Map<String, Value> {
    parse_form(query, |_| true).tree
}

/// A form body read by [`parse_form`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Form {
    /// The tree PHP builds from the pairs that were kept.
    pub tree: Map<String, Value>,
    /// Top-level names (as PHP normalises them) under which a later pair replaced or
    /// reshaped a value an earlier pair had set (`a[k]=1&a[k]x=2`, `a[k]=1&a[k][]=2`,
    /// `a=1&a[k]=2`), or whose value PHP dropped (a key nested deeper than
    /// [`MAX_NESTING`], which deletes the whole variable; an append past the largest
    /// integer key). Each name once, in order.
    pub overwritten: Vec<String>,
}

/// Reads a form body the way PHP 8 fills `$_POST` (and `parse_str`), keeping only the pairs
/// whose top-level name (after PHP's normalisation) passes `keep`, and reports where pairs
/// collided. PHP's rules, which every reader of a body must share so that two readers
/// cannot disagree on what a key means:
///
/// * a key ends at its first NUL byte; leading spaces are dropped; in the top-level name
///   spaces and dots become `_`; an empty name drops the pair;
/// * `name[a][b]` nests; an index that is empty or one whitespace character (`[]`, `[ ]`)
///   appends; an index is everything up to the next `]` (it may contain `[`); anything after
///   a `]` that is not `[` is ignored (`a[k]x` is `a[k]`);
/// * an unclosed `[` in the first index makes the whole key a flat name with `[`, ` ` and `.`
///   replaced by `_` (`a[b` is `a_b`); an unclosed `[` after a complete index ends the key
///   at that index (`a[b][c` is `a[b]`);
/// * more than [`MAX_NESTING`] indexes drop the pair and delete its top-level variable;
/// * a name or index that starts with `__Host-` or `__Secure-` when the key as sent does
///   not (mangling made it, or it is an index) drops the value; the arrays above it are
///   still made (PHP's cookie-prefix guard, CVE-2022-31629 and CVE-2024-2756);
/// * a canonical decimal index is an integer key; an append takes the next integer after
///   the largest one so far (0 at first), and is dropped once that key already exists.
pub fn parse_form(query: &[u8], mut keep: impl FnMut(&str) -> bool) -> Form {
    let mut root = Node::branch();
    let mut overwritten: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(query) {
        let (base, clean) = match php_key(&key) {
            PhpKey::Dropped => continue,
            PhpKey::TooDeep(base) => {
                if !keep(&base) {
                    continue;
                }
                if let Node::Branch { children, .. } = &mut root {
                    children.shift_remove(&base);
                }
                (base, false)
            }
            PhpKey::Path(base, parts) => {
                if !keep(&base) {
                    continue;
                }
                let clean = root.insert(&base, parts, Some(value.into_owned()));
                (base, clean)
            }
            PhpKey::Arrays(base, parts) => {
                if !keep(&base) {
                    continue;
                }
                let clean = root.insert(&base, parts, None);
                (base, clean)
            }
        };
        if !clean && !overwritten.contains(&base) {
            overwritten.push(base);
        }
    }
    let tree = match root.into_value() {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Form { tree, overwritten }
}

/// A PHP array while it is being built: children in insertion order and the next free
/// integer key (PHP's `nNextFreeElement`; `None` until an integer key is used), so `a[]=`
/// appends in constant time.
enum Node {
    Leaf(String),
    Branch {
        children: indexmap::IndexMap<String, Node>,
        next: Option<i64>,
    },
}

impl Node {
    fn branch() -> Node {
        Node::Branch {
            children: indexmap::IndexMap::new(),
            next: None,
        }
    }

    /// Walks `base` then `parts` (`None` appends) from this array, making each step an array
    /// (a scalar in the way becomes one, as in PHP), and sets `value` at the last step; with
    /// no value the last step is only made an array. Iterative: depth is bounded anyway.
    /// Returns whether nothing set earlier was replaced, reshaped or lost.
    fn insert(&mut self, base: &str, parts: Vec<Option<String>>, value: Option<String>) -> bool {
        let mut clean = true;
        let mut node = self;
        let mut key = Some(base.to_string());
        let mut parts = parts.into_iter();
        loop {
            if !matches!(node, Node::Branch { .. }) {
                *node = Node::branch();
                clean = false;
            }
            let Node::Branch { children, next } = node else {
                return false;
            };
            let k = match key.take() {
                Some(k) => {
                    if let Some(i) = int_key(&k) {
                        bump(next, i);
                    }
                    k
                }
                None => {
                    let i = next.unwrap_or(0);
                    let k = i.to_string();
                    // PHP drops an append whose key exists (the counter stops at i64::MAX).
                    if children.contains_key(&k) {
                        return false;
                    }
                    bump(next, i);
                    k
                }
            };
            match (parts.next(), &value) {
                (None, Some(v)) => {
                    return children.insert(k, Node::Leaf(v.clone())).is_none() && clean;
                }
                (None, None) => {
                    let child = children.entry(k).or_insert_with(Node::branch);
                    if matches!(child, Node::Branch { .. }) {
                        return clean;
                    }
                    *child = Node::branch();
                    return false;
                }
                (Some(part), _) => {
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

/// PHP's next free integer key after `i` was used.
fn bump(next: &mut Option<i64>, i: i64) {
    if next.is_none_or(|n| i >= n) {
        *next = Some(i.saturating_add(1));
    }
}

/// What PHP makes of one decoded key.
#[derive(Debug, PartialEq)]
enum PhpKey {
    /// The pair is dropped (an empty or forbidden name).
    Dropped,
    /// Nested deeper than [`MAX_NESTING`]: the pair is dropped and the variable deleted.
    TooDeep(String),
    /// The top-level name and the indexes (`None` appends) where the value goes.
    Path(String, Vec<Option<String>>),
    /// A forbidden index: the arrays along the name and these indexes are made, and the
    /// value is dropped.
    Arrays(String, Vec<Option<String>>),
}

/// The characters C's `isspace` accepts.
fn c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// Reads a decoded key as PHP's `php_register_variable_ex` does, step by step: each loop
/// turn reads one index and makes the array of the key before it.
fn php_key(key: &str) -> PhpKey {
    // PHP reads the key as a C string.
    let key = key.split('\0').next().unwrap_or_default();
    let name = key.trim_start_matches(' ');
    let forbidden = |k: &str| {
        ["__Host-", "__Secure-"]
            .iter()
            .any(|p| k.starts_with(p) && !name.starts_with(p))
    };
    let (base, rest) = match name.find('[') {
        Some(i) => (&name[..i], Some(&name[i..])),
        None => (name, None),
    };
    let mut base: String = base
        .chars()
        .map(|c| if c == ' ' || c == '.' { '_' } else { c })
        .collect();
    if base.is_empty() || forbidden(&base) {
        return PhpKey::Dropped;
    }
    let mut parts: Vec<Option<String>> = Vec::new();
    // `open` starts at a `[` that opens an index.
    let Some(mut open) = rest else {
        return PhpKey::Path(base, parts);
    };
    loop {
        if parts.len() >= MAX_NESTING {
            return PhpKey::TooDeep(base);
        }
        // This turn makes the array of the previous index: a forbidden one stops here.
        if let Some(Some(current)) = parts.last() {
            if forbidden(current) {
                parts.pop();
                return PhpKey::Arrays(base, parts);
            }
        }
        let inner = &open[1..];
        let mut probe = inner.chars();
        if probe.clone().next().is_some_and(c_space) {
            probe.next();
        }
        let after = if let Some(after) = probe.as_str().strip_prefix(']') {
            parts.push(None);
            after
        } else {
            match inner.find(']') {
                Some(end) => {
                    parts.push(Some(inner[..end].to_string()));
                    &inner[end + 1..]
                }
                None if parts.is_empty() => {
                    // Not an index: the `[` and what follows join the name, mangled.
                    base.push('_');
                    base.extend(inner.chars().map(|c| {
                        if matches!(c, ' ' | '.' | '[') {
                            '_'
                        } else {
                            c
                        }
                    }));
                    if forbidden(&base) {
                        return PhpKey::Dropped;
                    }
                    return PhpKey::Path(base, parts);
                }
                // The key ends at the last complete index (checked above).
                None => return PhpKey::Path(base, parts),
            }
        };
        if after.starts_with('[') {
            open = after;
            continue;
        }
        if let Some(Some(last)) = parts.last() {
            if forbidden(last) {
                parts.pop();
                return PhpKey::Arrays(base, parts);
            }
        }
        return PhpKey::Path(base, parts);
    }
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

    /// What PHP 8.2's `parse_str` gives for each body (checked with `php -r`): every reader
    /// of an event body must agree with the portal's language on what a key means.
    #[test]
    fn keys_are_normalised_as_php_does() {
        for (query, php) in [
            // Text after `]` is ignored; a NUL ends the key.
            (
                "auth[member_id]=A&auth[member_id]x=B",
                json!({"auth": {"member_id": "B"}}),
            ),
            ("a%00x[b]=1", json!({"a": "1"})),
            ("a[b%00]=1", json!({"a_b": "1"})),
            ("a[b]]=1", json!({"a": {"b": "1"}})),
            ("a[b]c[d]=1", json!({"a": {"b": "1"}})),
            ("a]=1", json!({"a]": "1"})),
            // Leading spaces go; spaces and dots of the name become `_`, not of indexes.
            ("+auth[x]=1", json!({"auth": {"x": "1"}})),
            ("%20%20a=1", json!({"a": "1"})),
            ("a.b[c.d]=1", json!({"a_b": {"c.d": "1"}})),
            ("a%20b=1", json!({"a_b": "1"})),
            ("[a]=1", json!({})),
            // PHP's cookie-prefix guard: a mangled or nested `__Host-`/`__Secure-` is dropped,
            // the arrays above it are still made.
            ("_.Host-x=1&b=2", json!({"b": "2"})),
            ("_+Secure-x[a]=1", json!({})),
            ("_[Host-x=1", json!({})),
            (
                "__Host-x[__Host-y]=1",
                json!({"__Host-x": {"__Host-y": "1"}}),
            ),
            ("a[b][__Host-x][c]=1", json!({"a": {"b": {}}})),
            ("a[b]=1&a[b][__Secure-x]=2", json!({"a": {"b": {}}})),
            ("a[+__Host-x]=1", json!({"a": {" __Host-x": "1"}})),
            // Unclosed brackets.
            ("a[b=1", json!({"a_b": "1"})),
            ("a[b.c d[e=1", json!({"a_b_c_d_e": "1"})),
            ("a[b][c=1", json!({"a": {"b": "1"}})),
            ("a[][c=1", json!({"a": {"0": "1"}})),
            ("a[b[c]=1", json!({"a": {"b[c": "1"}})),
            // One whitespace character before `]` appends; otherwise it is part of the index.
            (
                "a[+]=1&a[%09]=2&a[%0B]=3",
                json!({"a": {"0": "1", "1": "2", "2": "3"}}),
            ),
            ("a[+x]=1&a[++]=2", json!({"a": {" x": "1", "  ": "2"}})),
            // Shapes replace each other.
            ("a[k]=1&a[k][]=2", json!({"a": {"k": {"0": "2"}}})),
            ("a[b][c]=1&a[b]=2", json!({"a": {"b": "2"}})),
            ("auth[member_id]=1&auth=2", json!({"auth": "2"})),
            // The next integer key follows the largest one, negative ones included.
            (
                "a[-5]=1&a[-7]=1&a[]=2",
                json!({"a": {"-5": "1", "-7": "1", "-4": "2"}}),
            ),
            (
                "a[]=1&a[-3]=2&a[]=3",
                json!({"a": {"0": "1", "-3": "2", "1": "3"}}),
            ),
            (
                "a[9223372036854775806]=1&a[]=2&a[]=3",
                json!({"a": {"9223372036854775806": "1", "9223372036854775807": "2"}}),
            ),
        ] {
            assert_eq!(Value::Object(parse_query(query)), php, "{query}");
        }
        // Too deep a key deletes its whole variable.
        let deep = format!("y[b]=2&y{}=1&y[c]=3", "[a]".repeat(MAX_NESTING + 1));
        assert_eq!(Value::Object(parse_query(&deep)), json!({"y": {"c": "3"}}));
    }

    #[test]
    fn collisions_are_reported_by_top_level_name() {
        let form = parse_form(
            b"auth[member_id]=A&auth[member_id]x=B&data[x]=1&data[x]=2&ok[]=1&ok[]=2",
            |_| true,
        );
        assert_eq!(form.overwritten, ["auth", "data"]);
        for (body, collides) in [
            ("auth[k]=1&auth[k][]=2", true),
            ("auth[k][]=1&auth[k]=2", true),
            ("auth=1&auth[k]=2", true),
            ("auth[k]=1&auth=2", true),
            ("auth[k]=1&+auth[k]=2", true),
            ("auth[k]=1&auth%5Bk%5D=2", true),
            ("auth[k]=1&auth[k][x=2", true),
            ("auth[0]=1&auth[]=2", false),
            ("auth[k]=1&auth[k=2&auth[+k]=3&auth.[k]=4", false),
            ("auth[a][b]=1&auth[a][c]=2", false),
            ("a[9223372036854775807]=1&a[]=2", true),
        ] {
            let form = parse_form(body.as_bytes(), |_| true);
            assert_eq!(!form.overwritten.is_empty(), collides, "{body}");
        }
        let deep = format!("auth[k]=1&auth{}=1", "[a]".repeat(MAX_NESTING + 1));
        let form = parse_form(deep.as_bytes(), |_| true);
        assert_eq!(form.overwritten, ["auth"]);
        assert!(form.tree.is_empty());
        // Pairs of other names are not read at all.
        let form = parse_form(b"auth[k]=1&auth[k]=2&event=E", |name| name == "event");
        assert_eq!(Value::Object(form.tree), json!({"event": "E"}));
        assert!(form.overwritten.is_empty());
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
