//! No byte sequence from the network makes the envelope decoder panic: it always returns a
//! typed result or a typed error.

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
    #![proptest_config(ProptestConfig::with_cases(512))]

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
