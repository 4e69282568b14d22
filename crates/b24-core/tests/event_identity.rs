//! Property: the portal an accepted event names is the portal whose token verified it.
//!
//! Bodies are built for an application installed on two portals (both tokens known to the
//! lookup), from every spelling of the `auth` keys that PHP reads as the same key, nested
//! spellings, spellings PHP keeps apart, and scalar `auth`s, in any order. A small model of
//! PHP's rules for exactly these spellings predicts the outcome; the parser must agree, and
//! whatever it accepts must deliver the `member_id` and `domain` the lookup was asked about,
//! verified by the token of that portal.

use std::cell::RefCell;
use std::collections::BTreeMap;

use b24_core::event::{
    parse_with, ApplicationToken, Delivery, EventError, EventSet, ForgeryReason, PortalClaim,
    Verified,
};
use proptest::prelude::*;
use serde_json::Value;

#[derive(Debug)]
struct Untyped(Delivery<Value>);

impl EventSet for Untyped {
    fn decode(payload: Verified) -> Result<Self, EventError> {
        payload.decode().map(Untyped)
    }
}

const TOKEN_A: &str = "aaaa1111aaaa1111aaaa1111aaaa1111";
const TOKEN_B: &str = "bbbb2222bbbb2222bbbb2222bbbb2222";

/// The token of the portal a claim names (`member_id` first, else `domain`).
fn portal_token(member_id: Option<&str>, domain: Option<&str>) -> Option<&'static str> {
    match member_id.or(domain) {
        Some("MA" | "a.bitrix24.com") => Some(TOKEN_A),
        Some("MB" | "b.bitrix24.com") => Some(TOKEN_B),
        _ => None,
    }
}

const KEYS: [&str; 3] = ["member_id", "domain", "application_token"];

fn values(key: &str) -> [&'static str; 4] {
    match key {
        "member_id" => ["MA", "MB", "", "MX"],
        "domain" => ["a.bitrix24.com", "b.bitrix24.com", "", "x.example"],
        _ => [TOKEN_A, TOKEN_B, "", "wrong"],
    }
}

/// Where PHP puts a pair's value, for the spellings generated here.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Lands {
    /// `auth[<sub>]`: a string.
    Leaf(&'static str),
    /// `auth[<sub>][]`: appended to an array.
    Append(&'static str),
    /// `auth[<sub>][x]`: key `x` of an array.
    Named(&'static str),
    /// `auth` itself, a string.
    AuthScalar,
    /// Not under `auth` at all.
    Elsewhere,
}

/// One spelling: how to write the key for the sub-key `k`, and where PHP puts it.
type Spelling = (fn(&str) -> String, fn(&'static str) -> Lands);

fn spellings() -> Vec<Spelling> {
    fn sub(k: &'static str) -> &'static str {
        k
    }
    vec![
        // Aliases of `auth[k]`.
        (|k| format!("auth[{k}]"), |k| Lands::Leaf(sub(k))),
        (|k| format!("auth[{k}]x"), |k| Lands::Leaf(sub(k))),
        (|k| format!("auth[{k}]]"), |k| Lands::Leaf(sub(k))),
        (|k| format!("+auth[{k}]"), |k| Lands::Leaf(sub(k))),
        (|k| format!("auth%5B{k}%5D"), |k| Lands::Leaf(sub(k))),
        (|k| format!("auth[{k}]%00z"), |k| Lands::Leaf(sub(k))),
        (|k| format!("auth[{k}][y"), |k| Lands::Leaf(sub(k))),
        // Nested under `auth[k]`.
        (|k| format!("auth[{k}][]"), |k| Lands::Append(sub(k))),
        (|k| format!("auth[{k}][x]"), |k| Lands::Named(sub(k))),
        (|k| format!("auth[{k}][x]junk"), |k| Lands::Named(sub(k))),
        // Other keys under `auth`.
        (
            |k| format!("auth[+{k}]"),
            |k| match k {
                "member_id" => Lands::Leaf(" member_id"),
                "domain" => Lands::Leaf(" domain"),
                _ => Lands::Leaf(" application_token"),
            },
        ),
        (|_| "auth[scope]".to_string(), |_| Lands::Leaf("scope")),
        // Not under `auth`.
        (|k| format!("auth[{k}"), |_| Lands::Elsewhere),
        (|k| format!("auth.[{k}]"), |_| Lands::Elsewhere),
        (|k| format!("data[auth][{k}]"), |_| Lands::Elsewhere),
        (|k| format!("xauth[{k}]"), |_| Lands::Elsewhere),
        // `auth` itself.
        (|_| "auth".to_string(), |_| Lands::AuthScalar),
        (|k| format!("auth%00[{k}]"), |_| Lands::AuthScalar),
    ]
}

/// What the parser must answer.
#[derive(Debug, PartialEq)]
enum Expected {
    Accepted {
        member_id: Option<String>,
        domain: Option<String>,
    },
    Forged(ForgeryReason),
}

/// PHP's rules for the spellings above: which pairs collide, and what `auth` holds.
fn model(pairs: &[(Lands, String)]) -> Expected {
    #[derive(Clone)]
    enum Slot {
        Leaf(String),
        Array(Vec<&'static str>),
    }
    let mut auth_scalar = false;
    let mut auth: BTreeMap<&str, Slot> = BTreeMap::new();
    let mut collided = false;
    for (lands, value) in pairs {
        match *lands {
            Lands::Elsewhere => continue,
            Lands::AuthScalar => {
                collided |= auth_scalar || !auth.is_empty();
                auth_scalar = true;
                auth.clear();
                continue;
            }
            _ => {}
        }
        if auth_scalar {
            collided = true;
            auth_scalar = false;
        }
        match *lands {
            Lands::Leaf(k) => {
                collided |= auth.contains_key(k);
                auth.insert(k, Slot::Leaf(value.clone()));
            }
            Lands::Append(k) | Lands::Named(k) => {
                let named = matches!(lands, Lands::Named(_));
                let slot = auth.entry(k).or_insert(Slot::Array(Vec::new()));
                if let Slot::Leaf(_) = slot {
                    collided = true;
                    *slot = Slot::Array(Vec::new());
                }
                if let Slot::Array(keys) = slot {
                    if named {
                        collided |= keys.contains(&"x");
                        keys.push("x");
                    }
                }
            }
            Lands::AuthScalar | Lands::Elsewhere => {}
        }
    }
    if collided {
        return Expected::Forged(ForgeryReason::DuplicateAuthKey);
    }
    let mut claims = BTreeMap::new();
    for key in KEYS {
        match auth.get(key) {
            None => {}
            Some(Slot::Leaf(v)) => {
                claims.insert(key, v.clone());
            }
            Some(Slot::Array(_)) => return Expected::Forged(ForgeryReason::MalformedClaim),
        }
    }
    let token = match claims.get("application_token") {
        Some(t) if !t.is_empty() => t.clone(),
        _ => return Expected::Forged(ForgeryReason::MissingToken),
    };
    let member_id = claims.get("member_id").cloned();
    let domain = claims.get("domain").cloned();
    match portal_token(member_id.as_deref(), domain.as_deref()) {
        None => Expected::Forged(ForgeryReason::UnknownPortal),
        Some(t) if t != token => Expected::Forged(ForgeryReason::WrongToken),
        Some(_) => Expected::Accepted { member_id, domain },
    }
}

/// The `member_id` and `domain` a lookup was asked about.
type Asked = Option<(Option<String>, Option<String>)>;

/// Parses with the two-portal lookup; returns the claim the lookup saw and the outcome.
fn parse(body: &[u8]) -> (Asked, Result<Untyped, EventError>) {
    let asked = RefCell::new(None);
    let result = parse_with::<Untyped>(body, |c: &PortalClaim<'_>| {
        *asked.borrow_mut() = Some((
            c.member_id.map(str::to_string),
            c.domain.map(str::to_string),
        ));
        portal_token(c.member_id, c.domain).map(ApplicationToken::new)
    });
    (asked.into_inner(), result)
}

/// The invariant of every accepted body: the delivery names the claim that was looked up,
/// and the token of that portal is the one in the body's `auth`.
fn check_accepted(
    asked: &Asked,
    delivery: &Delivery<Value>,
    sent_token: Option<&str>,
) -> Result<(), TestCaseError> {
    let Some((member_id, domain)) = asked else {
        return Err(TestCaseError::fail("accepted without asking the lookup"));
    };
    prop_assert_eq!(&delivery.auth.member_id, member_id);
    prop_assert_eq!(&delivery.auth.domain, domain);
    let owner = portal_token(member_id.as_deref(), domain.as_deref());
    prop_assert!(owner.is_some());
    prop_assert_eq!(owner, sent_token);
    Ok(())
}

/// One pair: (spelling, key, value), all by index.
fn pair_strategy() -> impl Strategy<Value = (usize, usize, usize)> {
    (0..spellings().len(), 0..KEYS.len(), 0..4usize)
}

/// The spellings that alias `auth[k]` itself.
const ALIASES: usize = 7;

/// A genuine body of one portal (each identity key in some alias spelling, mostly present),
/// plus up to three pairs of any kind, in any order.
fn body_strategy() -> impl Strategy<Value = Vec<(usize, usize, usize)>> {
    (
        0..2usize,
        prop::collection::vec((0..ALIASES, prop::bool::weighted(0.9)), KEYS.len()),
        prop::collection::vec(pair_strategy(), 0..4),
    )
        .prop_flat_map(|(portal, genuine, noise)| {
            let mut pairs: Vec<_> = genuine
                .into_iter()
                .enumerate()
                .filter(|(_, (_, present))| *present)
                .map(|(k, (s, _))| (s, k, portal))
                .collect();
            pairs.extend(noise);
            Just(pairs).prop_shuffle()
        })
}

/// A JSON `auth` of one portal (each identity key mostly present, as a string) plus up to
/// three entries of any key and JSON type, in any order: (key, value) by index.
fn json_strategy() -> impl Strategy<Value = Vec<(usize, usize)>> {
    (
        0..2usize,
        prop::collection::vec(prop::bool::weighted(0.9), KEYS.len()),
        prop::collection::vec((0..KEYS.len() + 1, 0..9usize), 0..4),
    )
        .prop_flat_map(|(portal, present, noise)| {
            let mut entries: Vec<_> = present
                .into_iter()
                .enumerate()
                .filter(|(_, p)| *p)
                .map(|(k, _)| (k, portal))
                .collect();
            entries.extend(noise);
            Just(entries).prop_shuffle()
        })
}

proptest! {
    /// Form bodies: the parser's verdict is PHP's (by the model), and an accepted body
    /// names the portal whose token verified it.
    #[test]
    fn a_form_body_is_accepted_only_for_the_portal_whose_token_verified_it(
        pairs in body_strategy(),
        event_at in any::<prop::sample::Index>(),
    ) {
        let spellings = spellings();
        let mut written = Vec::new();
        let mut model_pairs = Vec::new();
        for (s, k, v) in pairs {
            let (spell, lands) = spellings[s];
            let key = KEYS[k];
            let value = values(key)[v];
            written.push(format!("{}={value}", spell(key)));
            model_pairs.push((lands(key), value.to_string()));
        }
        written.insert(event_at.index(written.len() + 1), "event=ONSESSIONSTART".to_string());
        let body = written.join("&");
        let expected = model(&model_pairs);
        let (asked, result) = parse(body.as_bytes());
        match (&expected, result) {
            (Expected::Accepted { member_id, domain }, Ok(Untyped(d))) => {
                prop_assert_eq!(&d.auth.member_id, member_id, "{}", body);
                prop_assert_eq!(&d.auth.domain, domain, "{}", body);
                let sent = model_pairs.iter().find_map(|(l, v)| {
                    (*l == Lands::Leaf("application_token")).then_some(v.as_str())
                });
                check_accepted(&asked, &d, sent)?;
            }
            (Expected::Forged(want), Err(EventError::Forged { reason, .. })) => {
                prop_assert_eq!(*want, reason, "{}", body);
            }
            (want, got) => {
                return Err(TestCaseError::fail(format!("{body}: expected {want:?}, got {got:?}")));
            }
        }
    }

    /// JSON bodies: an identity claim of any JSON type other than a string, or a key given
    /// twice in `auth`, is refused; an accepted body names the portal whose token verified it.
    #[test]
    fn a_json_body_is_accepted_only_for_the_portal_whose_token_verified_it(
        entries in json_strategy(),
        second_auth in prop::bool::weighted(0.1),
    ) {
        let mut members = Vec::new();
        let mut seen = BTreeMap::new();
        let mut repeated = false;
        let mut malformed = false;
        for (k, v) in &entries {
            let key = KEYS.get(*k).copied().unwrap_or("scope");
            let text: String = match v {
                0..=3 => Value::String(values(key)[*v].to_string()).to_string(),
                4 => "7".into(),
                5 => "null".into(),
                6 => "true".into(),
                7 => format!("[{}]", Value::String(values(key)[0].to_string())),
                _ => format!("{{\"v\":{}}}", Value::String(values(key)[0].to_string())),
            };
            repeated |= seen.insert(key, text.clone()).is_some();
            malformed |= *k < KEYS.len() && *v > 3;
            members.push(format!("{}:{text}", Value::String(key.to_string())));
        }
        let mut body = format!("{{\"event\":\"E\",\"auth\":{{{}}}", members.join(","));
        if second_auth {
            body.push_str(",\"auth\":{}");
        }
        body.push('}');
        let (asked, result) = parse(body.as_bytes());
        let claim = |key: &str| seen.get(key).and_then(|t| serde_json::from_str::<String>(t).ok());
        let expected = if repeated || second_auth {
            Expected::Forged(ForgeryReason::DuplicateAuthKey)
        } else if malformed {
            Expected::Forged(ForgeryReason::MalformedClaim)
        } else {
            let token = claim("application_token").filter(|t| !t.is_empty());
            let (member_id, domain) = (claim("member_id"), claim("domain"));
            match (token, portal_token(member_id.as_deref(), domain.as_deref())) {
                (None, _) => Expected::Forged(ForgeryReason::MissingToken),
                (_, None) => Expected::Forged(ForgeryReason::UnknownPortal),
                (Some(t), Some(owner)) if t != owner => Expected::Forged(ForgeryReason::WrongToken),
                _ => Expected::Accepted { member_id, domain },
            }
        };
        match (&expected, result) {
            (Expected::Accepted { member_id, domain }, Ok(Untyped(d))) => {
                prop_assert_eq!(&d.auth.member_id, member_id, "{}", body);
                prop_assert_eq!(&d.auth.domain, domain, "{}", body);
                check_accepted(&asked, &d, claim("application_token").as_deref())?;
            }
            (Expected::Forged(want), Err(EventError::Forged { reason, .. })) => {
                prop_assert_eq!(*want, reason, "{}", body);
            }
            (want, got) => {
                return Err(TestCaseError::fail(format!("{body}: expected {want:?}, got {got:?}")));
            }
        }
    }
}
