//! Every generated method's typed decoder, through the envelope, on its documented answers and
//! on mutations of them (keys dropped, values retyped string/number/boolean/null/`[]`/`{}`,
//! nested one level deeper, swapped): never a panic, always the typed result or a typed
//! error. The methods come from the generated `visit_methods`, so a new spec file is covered
//! without editing this test.

mod mutate;

use b24_core::{decode_response, Error, Example, Method, MethodVisitor};
use proptest::prelude::*;
use serde_json::Value;

/// How a decode ended, without the typed value.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Ok,
    Api,
    Decode,
    Unexpected,
    /// A variant decoding must never produce.
    Other(String),
}

/// One method: its name, documented answers and typed decoder.
struct Entry {
    name: &'static str,
    examples: &'static [Example],
    decode: fn(u16, &[u8]) -> Outcome,
}

/// Decodes `body` as the answer of `M`, as the client does.
fn decode_as<M: Method>(status: u16, body: &[u8]) -> Outcome {
    match decode_response::<M::Output, M::ErrorCode>(
        M::NAME,
        status,
        Some("application/json"),
        body,
    ) {
        Ok(_) => Outcome::Ok,
        Err(Error::Api { .. }) => Outcome::Api,
        Err(Error::Decode { .. }) => Outcome::Decode,
        Err(Error::UnexpectedResponse { .. }) => Outcome::Unexpected,
        Err(other) => Outcome::Other(other.to_string()),
    }
}

struct Collect(Vec<Entry>);

impl MethodVisitor for Collect {
    fn visit<M: Method>(&mut self, examples: &'static [Example]) {
        self.0.push(Entry {
            name: M::NAME,
            examples,
            decode: decode_as::<M>,
        });
    }
}

fn methods() -> Vec<Entry> {
    let mut all = Collect(Vec::new());
    b24_openlines::visit_methods(&mut all);
    all.0
}

#[test]
fn every_method_is_visited_and_its_documented_answers_decode() {
    let methods = methods();
    let names: Vec<&str> = methods.iter().map(|m| m.name).collect();
    assert_eq!(
        names,
        b24_openlines::METHODS,
        "visit_methods covers METHODS"
    );
    let mut answers = 0;
    for m in &methods {
        assert!(!m.examples.is_empty(), "{} documents no answer", m.name);
        for ex in m.examples {
            let got = (m.decode)(ex.status, ex.body.as_bytes());
            let want = if (200..300).contains(&ex.status) {
                Outcome::Ok
            } else {
                Outcome::Api
            };
            assert_eq!(got, want, "{} / {}", m.name, ex.name);
            answers += 1;
        }
    }
    assert!(answers >= methods.len(), "{answers}");
}

proptest! {
    /// One list of mutations, applied to every documented answer of every method.
    #[test]
    fn mutated_answers_of_every_method_decode_or_fail_typed(
        mutations in prop::collection::vec(mutate::mutation(), 1..4),
    ) {
        for m in methods() {
            for ex in m.examples {
                let Ok(mut doc) = serde_json::from_str::<Value>(ex.body) else {
                    return Err(TestCaseError::fail(format!("{} / {}: not JSON", m.name, ex.name)));
                };
                for mutation in &mutations {
                    mutate::apply(&mut doc, mutation);
                }
                let body = doc.to_string();
                let got = (m.decode)(ex.status, body.as_bytes());
                prop_assert!(
                    !matches!(got, Outcome::Other(_)),
                    "{} / {}: {:?} for {}",
                    m.name,
                    ex.name,
                    got,
                    body
                );
                // A success status with `result` and no `error` is the result or a decoding
                // error, never taken for something else.
                if (200..300).contains(&ex.status)
                    && doc.get("result").is_some()
                    && doc.get("error").is_none_or(Value::is_null)
                {
                    prop_assert!(
                        matches!(got, Outcome::Ok | Outcome::Decode),
                        "{} / {}: {:?} for {}",
                        m.name,
                        ex.name,
                        got,
                        body
                    );
                }
            }
        }
    }
}
