//! No byte sequence from the network makes the envelope decoder or the PHP form parser
//! panic: they always return a typed result or a typed error. The form parser also keeps its
//! own invariants (normalised top-level names, bounded depth, reading one name alone gives the
//! same subtree) and reads back what the encoders write.

use b24_core::php::{encode_query, http_build_query, parse_form, parse_query_bytes, MAX_NESTING};
use b24_core::{decode_json, decode_response, Time, UndocumentedCode};
use chrono::{DateTime, FixedOffset};
use indexmap::IndexMap;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("Y"),
            Just("N"),
            Just(""),
            Just("2026-03-13T16:50:15+03:00"),
            Just("12abc")
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((".{0,6}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn all_decoders(status: u16, body: &[u8]) {
    let _ = decode_response::<Value, UndocumentedCode>("m", status, None, body);
    let _ = decode_response::<Vec<i64>, UndocumentedCode>("m", status, None, body);
    let _ = decode_response::<Option<bool>, UndocumentedCode>("m", status, None, body);
    let _ = decode_response::<IndexMap<String, Vec<Option<String>>>, UndocumentedCode>(
        "m", status, None, body,
    );
    let _ =
        decode_response::<Option<DateTime<FixedOffset>>, UndocumentedCode>("m", status, None, body);
    let _ = decode_response::<Map<String, Value>, UndocumentedCode>("m", status, None, body);
    let _ = decode_json::<Time>(body);
    let _ = decode_json::<Vec<f64>>(body);
}

proptest! {
    #[test]
    fn arbitrary_bytes(status in 100u16..600, body in prop::collection::vec(any::<u8>(), 0..512)) {
        all_decoders(status, &body);
    }

    #[test]
    fn arbitrary_json_in_every_slot(status in prop_oneof![Just(200u16), Just(400), Just(503)], v in json_value(), t in json_value()) {
        let mut env = Map::new();
        env.insert("result".into(), v.clone());
        env.insert("time".into(), t);
        env.insert("next".into(), v.clone());
        let body = serde_json::to_vec(&Value::Object(env)).unwrap();
        all_decoders(status, &body);
        // A cut anywhere is an error, never a panic.
        for cut in [1, body.len() / 3, body.len() / 2, body.len().saturating_sub(1)] {
            all_decoders(status, &body[..cut.min(body.len())]);
        }
        let mut err = Map::new();
        err.insert("error".into(), v);
        err.insert("error_description".into(), Value::String("x".into()));
        all_decoders(status, &serde_json::to_vec(&Value::Object(err)).unwrap());
    }
}

/// Bytes with the form's special characters over-represented.
fn form_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            any::<u8>(),
            prop::sample::select(b"[]&=%+. \0xa05BD".to_vec()),
        ],
        0..256,
    )
}

/// Bodies built from the pieces PHP's key rules care about.
fn form_pieces() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop::sample::select(vec![
        "auth",
        "event",
        "a",
        "0",
        "7",
        "-1",
        "9223372036854775807",
        "[",
        "]",
        "[]",
        "[ ]",
        "[%09]",
        "%5B",
        "%5D",
        ".",
        "+",
        "%20",
        "%00",
        "__Host-",
        "__Secure-",
        "_",
        "x",
        "=",
        "&",
        "%",
        "%ZZ",
        "%FF",
        "\u{44f}",
    ]);
    let pair = (
        prop::collection::vec(piece.clone(), 0..8),
        prop::collection::vec(piece, 0..3),
    )
        .prop_map(|(k, v)| format!("{}={}", k.concat(), v.concat()));
    prop::collection::vec(pair, 0..8).prop_map(|pairs| pairs.join("&").into_bytes())
}

/// How deep a tree nests.
fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The invariants of one parse: no panic, PHP-normalised top-level names, bounded depth,
/// `parse_query_bytes` is the unfiltered `parse_form`, and reading one top-level name alone
/// (as the event parser reads `auth` before the rest) gives the same subtree and the same
/// collision verdict.
fn form_invariants(body: &[u8]) -> Result<(), TestCaseError> {
    let all = parse_form(body, |_| true);
    prop_assert_eq!(&all.tree, &parse_query_bytes(body));
    for (name, value) in &all.tree {
        prop_assert!(!name.is_empty());
        prop_assert!(!name.contains([' ', '.', '[', '\0']), "{:?}", name);
        prop_assert!(depth(value) <= MAX_NESTING, "{:?}", name);
        let alone = parse_form(body, |n| n == name);
        prop_assert_eq!(alone.tree.len(), 1);
        prop_assert_eq!(alone.tree.get(name), Some(value));
        prop_assert_eq!(
            alone.overwritten.contains(name),
            all.overwritten.contains(name),
            "{:?}",
            name
        );
    }
    for name in &all.overwritten {
        prop_assert!(!name.is_empty());
    }
    Ok(())
}

/// What a form carries of a JSON value: text scalars (`true` as `1`, `false` as `false_text`,
/// `null` as `null_text` or nothing), lists as objects keyed by index, empty ones gone.
fn as_form(v: &Value, false_text: &str, null_text: Option<&str>) -> Option<Value> {
    Some(match v {
        Value::Null => Value::String(null_text?.to_string()),
        Value::Bool(b) => Value::String(if *b { "1" } else { false_text }.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(s) => Value::String(s.clone()),
        Value::Array(a) => {
            let m: Map<String, Value> = a
                .iter()
                .enumerate()
                .filter_map(|(i, x)| as_form(x, false_text, null_text).map(|x| (i.to_string(), x)))
                .collect();
            if m.is_empty() {
                return None;
            }
            Value::Object(m)
        }
        Value::Object(m) => {
            let m: Map<String, Value> = m
                .iter()
                .filter_map(|(k, x)| as_form(x, false_text, null_text).map(|x| (k.clone(), x)))
                .collect();
            if m.is_empty() {
                return None;
            }
            Value::Object(m)
        }
    })
}

/// A tree whose keys PHP reads back as written: top-level names without ` `, `.`, `[`;
/// indexes without `]`, not empty or one whitespace character.
fn form_tree() -> impl Strategy<Value = Map<String, Value>> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        ".{0,8}".prop_map(Value::String),
        "[&=+% \\[\\]a-z]{0,6}".prop_map(Value::String),
    ];
    let inner = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                ("[A-Za-z0-9_.&=+%-][A-Za-z0-9_ .&=+%\\[-]{0,5}", inner),
                0..4
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    });
    prop::collection::vec(("[A-Za-z][A-Za-z0-9_-]{0,5}", inner), 0..5)
        .prop_map(|kv| kv.into_iter().collect())
}

proptest! {
    #[test]
    fn php_form_arbitrary_bytes(body in form_bytes()) {
        form_invariants(&body)?;
    }

    #[test]
    fn php_form_structured_keys(body in form_pieces()) {
        form_invariants(&body)?;
    }

    /// What `http_build_query` writes (as the portal posts events), PHP's reader reads back.
    #[test]
    fn http_build_query_round_trips(tree in form_tree()) {
        let query = http_build_query(&tree);
        let back = Value::Object(parse_query_bytes(query.as_bytes()));
        let want = as_form(&Value::Object(tree), "0", None)
            .unwrap_or_else(|| Value::Object(Map::new()));
        prop_assert_eq!(back, want, "{}", query);
    }

    /// What `encode_query` writes (a batch command), PHP's reader reads back, `null` as "".
    #[test]
    fn encode_query_round_trips(tree in form_tree()) {
        let query = encode_query(&tree);
        let back = Value::Object(parse_query_bytes(query.as_bytes()));
        let want = as_form(&Value::Object(tree), "0", Some(""))
            .unwrap_or_else(|| Value::Object(Map::new()));
        prop_assert_eq!(back, want, "{}", query);
    }
}
