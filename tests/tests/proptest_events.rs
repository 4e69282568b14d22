//! `Event::parse` and `Event::parse_with` on mutations of every documented event payload
//! (`spec/events/*.toml`), form-encoded as the portal posts it or as JSON: keys dropped,
//! values retyped, nested or swapped anywhere (`auth` included), then, for forms, pairs
//! repeated, junk added after a `]`, bytes inserted or the body cut. Never a panic; always a
//! typed event or a typed error that shows no token; and an accepted event names the portal
//! the token was looked up for.

mod mutate;

use std::cell::RefCell;

use b24_core::php::http_build_query;
use b24_openlines::events::{self, Event};
use b24_openlines::{ApplicationToken, EventError, PortalClaim};
use proptest::prelude::*;
use serde_json::{Map, Value};

const TOKEN: &str = "51856fefc120afa4b628cc82d3935cce";
const OTHER_TOKEN: &str = "0ther0ther0ther0ther0ther0ther00";

/// Every documented payload, as (event, example name, body).
fn payloads() -> Vec<(&'static str, &'static str, &'static str)> {
    events::EXAMPLES
        .iter()
        .flat_map(|(event, examples)| examples.iter().map(move |ex| (*event, ex.name, ex.body)))
        .collect()
}

/// A documented payload with `auth` naming portal `M1` and carrying `token`.
fn payload(body: &str, token: Option<&str>) -> Value {
    let mut tree: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if let Value::Object(top) = &mut tree {
        let auth = top
            .entry("auth")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(auth) = auth {
            auth.insert("member_id".into(), Value::String("M1".into()));
            if let Some(t) = token {
                auth.insert("application_token".into(), Value::String(t.into()));
            }
        }
    }
    tree
}

/// A change to the encoded form body.
#[derive(Debug, Clone)]
enum Edit {
    /// Repeat one pair at the end.
    RepeatPair(prop::sample::Index),
    /// Put text right after a `]` of one key.
    AfterBracket(prop::sample::Index, String),
    /// Insert bytes somewhere.
    Insert(prop::sample::Index, Vec<u8>),
    /// Cut the body short.
    Cut(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<prop::sample::Index>().prop_map(Edit::RepeatPair),
        (any::<prop::sample::Index>(), "[x\\]\\[%.]{1,3}")
            .prop_map(|(i, s)| Edit::AfterBracket(i, s)),
        (
            any::<prop::sample::Index>(),
            prop::collection::vec(
                prop_oneof![any::<u8>(), prop::sample::select(b"[]&=%+\0".to_vec())],
                1..6
            )
        )
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<prop::sample::Index>().prop_map(Edit::Cut),
    ]
}

fn apply_edit(body: &mut Vec<u8>, edit: &Edit) {
    match edit {
        Edit::RepeatPair(i) => {
            let pairs: Vec<Vec<u8>> = body.split(|b| *b == b'&').map(<[u8]>::to_vec).collect();
            if let Some(pair) = pairs.get(i.index(pairs.len().max(1))) {
                body.push(b'&');
                body.extend_from_slice(pair);
            }
        }
        Edit::AfterBracket(i, text) => {
            let closes: Vec<usize> = body
                .windows(3)
                .enumerate()
                .filter(|(_, w)| w.eq_ignore_ascii_case(b"%5D"))
                .map(|(at, _)| at + 3)
                .collect();
            if !closes.is_empty() {
                let at = closes[i.index(closes.len())];
                body.splice(at..at, text.bytes());
            }
        }
        Edit::Insert(i, bytes) => {
            let at = i.index(body.len() + 1);
            body.splice(at..at, bytes.iter().copied());
        }
        Edit::Cut(i) => body.truncate(i.index(body.len() + 1)),
    }
}

/// Parses with `Event::parse` and with a two-portal `parse_with`, and checks what every
/// answer must be.
fn check(body: &[u8]) -> Result<(), TestCaseError> {
    let single = Event::parse(body, &ApplicationToken::new(TOKEN));
    typed(&single)?;
    let asked = RefCell::new(None);
    let multi = Event::parse_with(body, |c: &PortalClaim<'_>| {
        *asked.borrow_mut() = Some((
            c.member_id.map(str::to_string),
            c.domain.map(str::to_string),
        ));
        match c.member_id {
            Some("M1") => Some(ApplicationToken::new(TOKEN)),
            Some("M2") => Some(ApplicationToken::new(OTHER_TOKEN)),
            _ => None,
        }
    });
    typed(&multi)?;
    if let Ok(event) = &multi {
        let Some((member_id, domain)) = asked.into_inner() else {
            return Err(TestCaseError::fail("accepted without a lookup"));
        };
        prop_assert_eq!(&event.auth().member_id, &member_id);
        prop_assert_eq!(&event.auth().domain, &domain);
        prop_assert_eq!(member_id.as_deref(), Some("M1"));
    }
    Ok(())
}

/// A typed event, or one of the typed errors; an error shows no token it was not sent as a
/// claim.
fn typed(result: &Result<Event, EventError>) -> Result<(), TestCaseError> {
    match result {
        Ok(event) => prop_assert!(!event.name().trim().is_empty()),
        Err(e) => {
            prop_assert!(
                matches!(
                    e,
                    EventError::Malformed { .. }
                        | EventError::Forged { .. }
                        | EventError::Decode { .. }
                ),
                "{:?}",
                e
            );
            // The only way a token shows is as the claim a forged body itself put in
            // `event` or `auth[domain]` (mutations swap values), which the error repeats.
            let echoed = match e {
                EventError::Forged { event, domain, .. } => {
                    format!("{event} {}", domain.as_deref().unwrap_or_default())
                }
                _ => String::new(),
            };
            let text = format!("{e} {e:?}");
            for token in [TOKEN, OTHER_TOKEN] {
                prop_assert!(!text.contains(token) || echoed.contains(token), "{}", text);
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn mutated_documented_payloads_parse_or_fail_typed(
        which in any::<prop::sample::Index>(),
        token in prop_oneof![Just(Some(TOKEN)), Just(Some(OTHER_TOKEN)), Just(None)],
        mutations in prop::collection::vec(mutate::mutation(), 0..4),
        edits in prop::collection::vec(edit(), 0..3),
        as_json in any::<bool>(),
    ) {
        let all = payloads();
        let (event, name, body) = all[which.index(all.len())];
        let mut tree = payload(body, token);
        for m in &mutations {
            mutate::apply(&mut tree, m);
        }
        let mut bytes = if as_json {
            tree.to_string().into_bytes()
        } else {
            match &tree {
                Value::Object(top) => http_build_query(top).into_bytes(),
                other => other.to_string().into_bytes(),
            }
        };
        if !as_json {
            for e in &edits {
                apply_edit(&mut bytes, e);
            }
        }
        check(&bytes).map_err(|e| {
            TestCaseError::fail(format!("{event}/{name}: {e}: {}", String::from_utf8_lossy(&bytes)))
        })?;
        // Unmutated, the genuine payload is accepted by both.
        if mutations.is_empty() && edits.is_empty() && token == Some(TOKEN) {
            prop_assert!(Event::parse(&bytes, &ApplicationToken::new(TOKEN)).is_ok(), "{}/{}", event, name);
        }
    }
}
