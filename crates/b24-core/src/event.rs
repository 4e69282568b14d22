//! Events the portal posts to an application's handler (`OnSessionStart`,
//! `OnImConnectorMessageAdd`...): verification and typed decoding.
//!
//! The portal sends a form-encoded POST with PHP-style keys:
//!
//! ```text
//! event=ONSESSIONSTART&event_handler_id=12&data[DATA][0][session][id]=42&ts=1714649632
//! &auth[domain]=some.bitrix24.com&auth[member_id]=a223...&auth[application_token]=5185...
//! ```
//!
//! Anyone who knows the handler's URL can post such a body, so the only proof that it comes
//! from the portal is `auth[application_token]`, the token the portal gave the application
//! at install time. [`parse`] compares it with the expected token in constant time **before**
//! anything else is decoded, and rejects a missing or wrong token with
//! [`EventError::Forged`]; a verified payload is then decoded into the generated event type
//! (an [`EventSet`], the `events::Event` enum of a generated crate).
//!
//! Who the event is from is read once: the `auth` block is parsed a single time, with PHP's
//! own key rules ([`crate::php::parse_form`]), and the `member_id` and `domain` that
//! [`parse_with`]'s lookup sees are the very values the [`Delivery`] carries. A body that
//! sends any `auth` key twice, in whatever spellings PHP reads as the same key
//! (`auth[member_id]` and `auth[member_id]x`, ` auth[member_id]`, `auth%5Bmember_id%5D`,
//! `auth[member_id][]`...), or whose `member_id`, `domain` or `application_token` is not one
//! string (an array, a JSON number or `null`), is refused as [`EventError::Forged`].
//!
//! ```
//! use b24_core::event::{ApplicationToken, Delivery, EventError, EventSet, Verified};
//!
//! // What a generated `Event` enum does, by hand: one event with untyped data.
//! #[derive(Debug)]
//! struct AnyEvent(Delivery<serde_json::Value>);
//! impl EventSet for AnyEvent {
//!     fn decode(payload: Verified) -> Result<Self, EventError> {
//!         payload.decode().map(AnyEvent)
//!     }
//! }
//!
//! let token = ApplicationToken::new("51856fefc120afa4b628cc82d3935cce");
//! let body = b"event=ONSESSIONSTART&data[DATA][0][session][id]=42&ts=1714649632\
//!              &auth[domain]=some.bitrix24.com&auth[application_token]=51856fefc120afa4b628cc82d3935cce";
//! let AnyEvent(delivery) = b24_core::event::parse::<AnyEvent>(body, &token)?;
//! assert_eq!(delivery.event, "ONSESSIONSTART");
//! assert_eq!(delivery.data["DATA"]["0"]["session"]["id"], "42");
//!
//! let forged = b"event=ONSESSIONSTART&auth[application_token]=guess";
//! assert!(matches!(
//!     b24_core::event::parse::<AnyEvent>(forged, &token),
//!     Err(EventError::Forged { .. })
//! ));
//! # Ok::<(), EventError>(())
//! ```

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::envelope::decode_value;
use crate::lenient::Lenient;
use crate::{Redactor, Secret};

/// A documented event payload, as written in its spec file (JSON; the portal sends the same
/// tree form-encoded, see [`crate::php::http_build_query`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventExample {
    /// Short name (`current`).
    pub name: &'static str,
    /// Where it comes from.
    pub description: &'static str,
    /// The payload.
    pub body: &'static str,
}

/// The token the portal gave the application at install time (`auth[application_token]` of
/// the install event, `application_token` of `app.info`). Every event the portal sends
/// carries it; a body without it is not from the portal. Never printed.
#[derive(Clone)]
pub struct ApplicationToken(Secret);

impl ApplicationToken {
    /// Wraps the token the application stored at install time.
    pub fn new(token: impl Into<String>) -> Self {
        ApplicationToken(Secret::new(token))
    }

    /// Whether `candidate` is this token. The comparison takes the same time whichever byte
    /// differs, so a forger cannot guess the token byte by byte from response times (only
    /// the length can leak, and every portal's tokens have the same length).
    pub fn matches(&self, candidate: &str) -> bool {
        let expected = self.0.expose().as_bytes();
        let candidate = candidate.as_bytes();
        !expected.is_empty() && bool::from(expected.ct_eq(candidate))
    }
}

impl fmt::Debug for ApplicationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApplicationToken(***)")
    }
}

/// Why an event POST was refused. Never contains a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The body is neither a form nor a JSON object, or has no `event`.
    #[error("not a Bitrix24 event: {reason}")]
    Malformed {
        /// What was expected.
        reason: String,
    },
    /// `auth[application_token]` is missing, does not match, or no token is known for the
    /// sending portal: the POST did not come from the portal (or from another application's
    /// subscription). Nothing in it was decoded.
    #[error(
        "rejected a forged `{event}` event claiming to come from {}: {reason}",
        domain.as_deref().unwrap_or("an unnamed portal")
    )]
    Forged {
        /// The `event` the body claimed (control characters replaced, cut to 64 characters).
        event: String,
        /// The `auth[domain]` the body claimed, if any (shown the same way).
        domain: Option<String>,
        /// Which check failed (never the token itself).
        reason: ForgeryReason,
    },
    /// The token matched but the payload does not fit the event's spec.
    #[error("event `{event}`: at `{path}`: {message}")]
    Decode {
        /// The event name.
        event: String,
        /// JSON path of the bad value (`data.MESSAGES.0.im.chat_id`).
        path: String,
        /// What was wrong.
        message: String,
    },
}

/// Which check a forged event failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForgeryReason {
    /// The body has no `auth[application_token]`.
    MissingToken,
    /// The token differs from the expected one.
    WrongToken,
    /// The lookup knows no token for the portal the body names (`auth[member_id]`,
    /// `auth[domain]`).
    UnknownPortal,
    /// A key of the `auth` block is sent more than once, in spellings PHP reads as the same
    /// key (`auth[member_id]=A&auth[member_id]x=B`), or a later pair reshapes it: which
    /// value names the portal would depend on the reader.
    DuplicateAuthKey,
    /// `auth[member_id]`, `auth[domain]` or `auth[application_token]` is not one string
    /// (an array, or in a JSON body a number, boolean, `null` or object).
    MalformedClaim,
}

impl fmt::Display for ForgeryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ForgeryReason::MissingToken => "no auth[application_token]",
            ForgeryReason::WrongToken => "auth[application_token] does not match",
            ForgeryReason::UnknownPortal => "no application token is known for this portal",
            ForgeryReason::DuplicateAuthKey => {
                "an auth key is sent more than once (in spellings PHP reads as the same key)"
            }
            ForgeryReason::MalformedClaim => {
                "auth[member_id], auth[domain] or auth[application_token] is not one string"
            }
        })
    }
}

/// The `auth` block of an event: which portal sent it and, when the event was caused by a
/// user, OAuth tokens to act on their behalf. The application token is not kept (it was
/// checked); the OAuth tokens are [`Secret`]s.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct EventAuth {
    /// The portal's address (`some-domain.bitrix24.com`).
    pub domain: Option<String>,
    /// REST endpoint of the portal (`https://some-domain.bitrix24.com/rest/`).
    pub client_endpoint: Option<String>,
    /// OAuth server that refreshes the tokens.
    pub server_endpoint: Option<String>,
    /// The portal's identifier: the key to look a multi-portal application's token up by.
    pub member_id: Option<String>,
    /// Scopes of the subscription.
    pub scope: Option<String>,
    /// Application status: `L` local, `F` free, `S` subscription.
    pub status: Option<String>,
    /// The user the event's hit was bound to.
    pub user_id: Option<i64>,
    /// OAuth access token; absent when the hit was not bound to a user.
    pub access_token: Option<Secret>,
    /// OAuth refresh token; absent when the hit was not bound to a user.
    pub refresh_token: Option<Secret>,
    /// Seconds the access token lives.
    pub expires_in: Option<i64>,
    /// When the access token expires.
    pub expires: Option<DateTime<Utc>>,
    /// Other keys, kept as sent.
    pub extra: Map<String, Value>,
}

/// One verified event: the common keys and the typed `data`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Delivery<D> {
    /// The event name as the portal sent it (`ONSESSIONSTART`).
    pub event: String,
    /// `event_handler_id`: the subscription that delivered it.
    pub handler_id: Option<i64>,
    /// `eventId`, which some pages document instead of `event_handler_id`.
    pub event_id: Option<i64>,
    /// `ts`: when the event left the portal's queue.
    pub ts: Option<DateTime<Utc>>,
    /// The event's `data`.
    pub data: D,
    /// Who sent it.
    pub auth: EventAuth,
    /// Other top-level keys, kept as sent.
    pub extra: Map<String, Value>,
}

/// A payload whose application token was checked. Only [`parse`] and [`parse_with`] make
/// one, so typed decoding cannot start before the check. Its `Debug` shows the event name
/// and the top-level keys only (the payload carries tokens).
pub struct Verified {
    event: String,
    /// The body without `auth`.
    payload: Map<String, Value>,
    /// The `auth` block as it was verified (its token removed).
    auth: AuthBlock,
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("event", &self.event)
            .field("member_id", &self.auth.member_id)
            .field("domain", &self.auth.domain)
            .field("keys", &self.payload.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Verified {
    /// The event name as sent (`ONSESSIONSTART`).
    pub fn event(&self) -> &str {
        &self.event
    }

    /// Decodes the payload, with `data` as `D`.
    pub fn decode<D: Lenient>(self) -> Result<Delivery<D>, EventError> {
        let Verified {
            event,
            mut payload,
            auth,
        } = self;
        payload.remove("event");
        // A form whose data fields were all empty or null has no `data` key at all.
        let data = payload
            .remove("data")
            .unwrap_or_else(|| Value::Object(Map::new()));
        let data = decode_value::<D>(data).map_err(|e| EventError::Decode {
            event: event.clone(),
            path: if e.path == "." {
                "data".to_string()
            } else {
                format!("data.{}", e.path)
            },
            message: e.message,
        })?;
        let handler_id = optional(&mut payload, "event_handler_id", "event_handler_id", &event)?;
        let event_id = optional(&mut payload, "eventId", "eventId", &event)?;
        let ts = optional(&mut payload, "ts", "ts", &event)?;
        let AuthBlock {
            member_id,
            domain,
            rest: mut auth_map,
            ..
        } = auth;
        let text = |m: &mut Map<String, Value>, k: &str| match m.remove(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let auth = EventAuth {
            // Exactly what the token was checked for.
            domain,
            member_id,
            client_endpoint: text(&mut auth_map, "client_endpoint"),
            server_endpoint: text(&mut auth_map, "server_endpoint"),
            scope: text(&mut auth_map, "scope"),
            status: text(&mut auth_map, "status"),
            access_token: text(&mut auth_map, "access_token").map(Secret::new),
            refresh_token: text(&mut auth_map, "refresh_token").map(Secret::new),
            user_id: optional(&mut auth_map, "user_id", "auth.user_id", &event)?,
            expires_in: optional(&mut auth_map, "expires_in", "auth.expires_in", &event)?,
            expires: optional(&mut auth_map, "expires", "auth.expires", &event)?,
            extra: auth_map,
        };
        Ok(Delivery {
            event,
            handler_id,
            event_id,
            ts,
            data,
            auth,
            extra: payload,
        })
    }
}

/// Takes a common key out of `map` and decodes it; absent, `null` or empty is `None`.
fn optional<T: Lenient>(
    map: &mut Map<String, Value>,
    key: &str,
    path: &str,
    event: &str,
) -> Result<Option<T>, EventError> {
    let Some(value) = map.remove(key) else {
        return Ok(None);
    };
    decode_value::<Option<T>>(value).map_err(|e| EventError::Decode {
        event: event.to_string(),
        path: path.to_string(),
        message: e.message,
    })
}

/// A family of typed events: the generated `events::Event` enum.
pub trait EventSet: Sized {
    /// Decodes a verified payload into the variant its `event` names (an unknown name is
    /// kept untyped, never an error).
    fn decode(payload: Verified) -> Result<Self, EventError>;
}

/// Whether the body is JSON (a relay that re-encodes) rather than the portal's form.
fn is_json(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// A JSON body as an object, and whether its `auth` block (or `auth` itself) has a key
/// twice (`serde_json` would keep the last one silently).
fn json_tree(body: &[u8]) -> Result<(Map<String, Value>, bool), EventError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = serde::Deserializer::deserialize_map(&mut de, TopLevel).and_then(|t| {
        de.end()?;
        Ok(t)
    });
    parsed.map_err(|e| EventError::Malformed {
        reason: if e.is_data() {
            "expected a JSON object".to_string()
        } else {
            format!("the body starts like JSON but is not: {e}")
        },
    })
}

/// Reads a JSON body's top level, watching `auth` for repeated keys.
struct TopLevel;

impl<'de> serde::de::Visitor<'de> for TopLevel {
    type Value = (Map<String, Value>, bool);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut access: A,
    ) -> Result<Self::Value, A::Error> {
        let repeated = std::cell::Cell::new(false);
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = if key == "auth" {
                access.next_value_seed(Strict(&repeated))?
            } else {
                access.next_value::<Value>()?
            };
            if map.insert(key.clone(), value).is_some() && key == "auth" {
                repeated.set(true);
            }
        }
        Ok((map, repeated.get()))
    }
}

/// A JSON value whose objects, at any depth, must not repeat a key; a repeat sets the flag.
#[derive(Clone, Copy)]
struct Strict<'a>(&'a std::cell::Cell<bool>);

impl<'de> serde::de::DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(self)?;
            if map.insert(key, value).is_some() {
                self.0.set(true);
            }
        }
        Ok(Value::Object(map))
    }
}

/// How many characters of a claimed (unverified) name an error keeps.
const CLAIM_CHARS: usize = 64;

/// An unverified claim as an error may show it: control characters replaced, cut short.
fn shown(claim: &str) -> String {
    let mut out: String = claim
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(CLAIM_CHARS)
        .collect();
    if claim.chars().count() > CLAIM_CHARS {
        out.push('…');
    }
    out
}

/// The `auth` block of a body, read once: the `member_id` and `domain` the token is checked
/// for are the ones a [`Delivery`] carries.
#[derive(Default)]
struct AuthBlock {
    /// `application_token` (taken out once checked).
    token: Option<String>,
    member_id: Option<String>,
    domain: Option<String>,
    /// The other keys.
    rest: Map<String, Value>,
}

impl AuthBlock {
    /// Reads a body's `auth` value. `member_id`, `domain` and `application_token` must each
    /// be one string when present; an `auth` that is not an object claims nothing.
    fn read(auth: Option<Value>) -> Result<AuthBlock, ForgeryReason> {
        let Some(Value::Object(mut rest)) = auth else {
            return Ok(AuthBlock::default());
        };
        let mut claim = |key: &str| match rest.remove(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ForgeryReason::MalformedClaim),
        };
        let token = claim("application_token")?;
        let member_id = claim("member_id")?;
        let domain = claim("domain")?;
        Ok(AuthBlock {
            token,
            member_id,
            domain,
            rest,
        })
    }
}

/// A body split for verification: the event name, the `auth` value as parsed and whether
/// any of its keys collided; the rest of the body is read only after the token matched.
struct Unverified<'a> {
    event: Option<String>,
    auth: Option<Value>,
    repeated: bool,
    rest: Rest<'a>,
}

/// What is left of a body to decode once it is verified.
enum Rest<'a> {
    /// A JSON body's tree, without `auth`.
    Json(Map<String, Value>),
    /// A form body, to be read without its `auth` pairs.
    Form(&'a [u8]),
}

impl<'a> Unverified<'a> {
    fn read(body: &'a [u8]) -> Result<Self, EventError> {
        if is_json(body) {
            let (mut tree, repeated) = json_tree(body)?;
            let auth = tree.remove("auth");
            let event = tree
                .get("event")
                .and_then(Value::as_str)
                .map(str::to_string);
            return Ok(Unverified {
                event,
                auth,
                repeated,
                rest: Rest::Json(tree),
            });
        }
        // Only `event` and `auth` are read before the token is checked, so a forged body
        // costs no more than one pass over it.
        let claims = crate::php::parse_form(body, |name| name == "auth" || name == "event");
        let mut tree = claims.tree;
        let event = match tree.remove("event") {
            Some(Value::String(e)) => Some(e),
            _ => None,
        };
        Ok(Unverified {
            event,
            auth: tree.remove("auth"),
            repeated: claims.overwritten.iter().any(|name| name == "auth"),
            rest: Rest::Form(body),
        })
    }
}

/// What an event body claims before it is verified: its `event` and `auth[member_id]`, read
/// exactly as [`parse_with`] reads them. For an application that must look the claimed
/// portal's token up (asynchronously) before calling [`parse_with`] with it. `member_id` is
/// `None` where the body names no portal or its `auth` block would be refused as forged
/// (colliding spellings, a claim that is not one string).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims {
    /// `event` as sent, if it is one string.
    pub event: Option<String>,
    /// `auth[member_id]` as sent, if the `auth` block is well formed.
    pub member_id: Option<String>,
}

/// Reads a body's [`Claims`] without verifying anything.
pub fn claims(body: &[u8]) -> Claims {
    let Ok(unverified) = Unverified::read(body) else {
        return Claims::default();
    };
    let member_id = match unverified.repeated {
        true => None,
        false => AuthBlock::read(unverified.auth)
            .ok()
            .and_then(|a| a.member_id),
    };
    Claims {
        event: unverified.event,
        member_id,
    }
}

/// Verifies an event POST body against the application's token and decodes it into `E`.
///
/// The body is the raw request body (form-encoded, as the portal sends it; a JSON object is
/// accepted too). The token check runs before any typed decoding.
pub fn parse<E: EventSet>(body: &[u8], token: &ApplicationToken) -> Result<E, EventError> {
    parse_with(body, |_: &PortalClaim<'_>| Some(token.clone()))
}

/// Who a body claims to come from, for [`parse_with`]'s token lookup. Unverified.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PortalClaim<'a> {
    /// `auth[member_id]` as sent.
    pub member_id: Option<&'a str>,
    /// `auth[domain]` as sent.
    pub domain: Option<&'a str>,
    /// `event` as sent.
    pub event: &'a str,
}

/// [`parse`] for an application installed on many portals: `lookup` gives the token stored
/// for the portal the body claims to come from (usually by `member_id`), or `None` if it is
/// unknown (then the event is refused as forged).
pub fn parse_with<E: EventSet>(
    body: &[u8],
    lookup: impl FnOnce(&PortalClaim<'_>) -> Option<ApplicationToken>,
) -> Result<E, EventError> {
    let Unverified {
        event,
        auth,
        repeated,
        rest,
    } = Unverified::read(body)?;
    let event = match event.as_deref().map(str::trim) {
        Some(e) if !e.is_empty() => e.to_string(),
        _ => {
            return Err(EventError::Malformed {
                reason: "no `event` key (expected a form body such as `event=ONSESSIONSTART&data[...]=...&auth[application_token]=...`)".into(),
            })
        }
    };
    // The claims an error shows must not carry a token the body sent (a misconfigured sender
    // can put one anywhere): cut them out before the claims are shortened.
    let tokens = Redactor::new(
        ["application_token", "access_token", "refresh_token"]
            .iter()
            .filter_map(|k| auth.as_ref()?.get(*k)?.as_str())
            .map(Secret::new),
    );
    let claimed_domain = auth
        .as_ref()
        .and_then(|a| a.get("domain"))
        .and_then(Value::as_str)
        .map(|d| shown(&tokens.redact(d)));
    let shown_event = shown(&tokens.redact(&event));
    let forged = |reason| EventError::Forged {
        event: shown_event.clone(),
        domain: claimed_domain.clone(),
        reason,
    };
    if repeated {
        return Err(forged(ForgeryReason::DuplicateAuthKey));
    }
    let mut auth = AuthBlock::read(auth).map_err(forged)?;
    let sent = match auth.token.take() {
        Some(t) if !t.is_empty() => t,
        _ => return Err(forged(ForgeryReason::MissingToken)),
    };
    let claim = PortalClaim {
        member_id: auth.member_id.as_deref(),
        domain: auth.domain.as_deref(),
        event: &event,
    };
    let expected = lookup(&claim).ok_or_else(|| forged(ForgeryReason::UnknownPortal))?;
    if !expected.matches(&sent) {
        return Err(forged(ForgeryReason::WrongToken));
    }
    let payload = match rest {
        Rest::Json(tree) => tree,
        Rest::Form(body) => crate::php::parse_form(body, |name| name != "auth").tree,
    };
    E::decode(Verified {
        event,
        payload,
        auth,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Untyped(Delivery<Value>);
    impl EventSet for Untyped {
        fn decode(payload: Verified) -> Result<Self, EventError> {
            payload.decode().map(Untyped)
        }
    }

    const TOKEN: &str = "51856fefc120afa4b628cc82d3935cce";

    fn body(token: &str) -> String {
        format!(
            "event=ONSESSIONSTART&event_handler_id=7&data%5BDATA%5D%5B0%5D%5Bsession%5D%5Bid%5D=42\
             &ts=1714649632&auth%5Bdomain%5D=some.bitrix24.com&auth%5Bmember_id%5D=m1\
             &auth%5Baccess_token%5D=s6p6ecl&auth%5Bexpires_in%5D=3600&auth%5Bapplication_token%5D={token}"
        )
    }

    #[test]
    fn a_genuine_event_decodes_with_its_common_keys() {
        let token = ApplicationToken::new(TOKEN);
        let Untyped(d) = parse::<Untyped>(body(TOKEN).as_bytes(), &token).unwrap();
        assert_eq!(d.event, "ONSESSIONSTART");
        assert_eq!(d.handler_id, Some(7));
        assert_eq!(d.ts.map(|t| t.timestamp()), Some(1_714_649_632));
        assert_eq!(d.auth.domain.as_deref(), Some("some.bitrix24.com"));
        assert_eq!(d.auth.expires_in, Some(3600));
        assert_eq!(
            d.auth.access_token.as_ref().map(Secret::expose),
            Some("s6p6ecl")
        );
        assert!(!d.auth.extra.contains_key("application_token"));
        let mut payload = crate::php::parse_query(&body(TOKEN));
        let auth = AuthBlock::read(payload.remove("auth")).unwrap();
        let verified = Verified {
            event: "ONSESSIONSTART".into(),
            payload,
            auth,
        };
        let shown = format!("{verified:?}");
        assert!(
            !shown.contains(TOKEN) && !shown.contains("s6p6ecl"),
            "{shown}"
        );
        assert_eq!(d.data["DATA"]["0"]["session"]["id"], "42");
        // Tokens never print.
        let shown = format!("{d:?} {token:?}");
        assert!(
            !shown.contains("s6p6ecl") && !shown.contains(TOKEN),
            "{shown}"
        );
    }

    #[test]
    fn claims_are_read_as_the_parser_reads_them() {
        let plain = claims(b"event=ONSESSIONSTART&auth%5Bmember_id%5D=m1&auth%5Bdomain%5D=d");
        assert_eq!(
            (plain.event.as_deref(), plain.member_id.as_deref()),
            (Some("ONSESSIONSTART"), Some("m1"))
        );
        // PHP reads `auth[member_id]x` as `auth[member_id]`: colliding claims name no portal.
        let spoof = claims(b"event=E&auth%5Bmember_id%5D=ATTACKER&auth%5Bmember_id%5Dx=VICTIM");
        assert_eq!((spoof.event.as_deref(), spoof.member_id), (Some("E"), None));
        let numeric = claims(br#"{"event":"E","auth":{"member_id":7}}"#);
        assert_eq!(numeric.member_id, None);
        assert_eq!(claims(b"{not json"), Claims::default());
    }

    #[test]
    fn a_refused_post_never_shows_a_token_it_carried_in_its_claims() {
        let token = ApplicationToken::new(TOKEN);
        let sent = "51856fefc120afa4b628cc82d3935ccf";
        let access = "a11ce55a11ce55a11ce55a11ce55a11c";
        // A misconfigured (or probing) sender puts tokens where the claims are shown.
        let body = format!(
            "event=ON{access}&auth%5Bdomain%5D=x.{sent}.bitrix24.com\
             &auth%5Baccess_token%5D={access}&auth%5Bapplication_token%5D={sent}"
        );
        let e = parse::<Untyped>(body.as_bytes(), &token).unwrap_err();
        assert!(
            matches!(
                e,
                EventError::Forged {
                    reason: ForgeryReason::WrongToken,
                    ..
                }
            ),
            "{e:?}"
        );
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(sent) && !shown.contains(access), "{shown}");
        assert!(shown.contains("x.***.bitrix24.com"), "{shown}");
    }

    #[test]
    fn forged_events_are_refused_before_decoding() {
        let token = ApplicationToken::new(TOKEN);
        let wrong = body("51856fefc120afa4b628cc82d3935ccf");
        let e = parse::<Untyped>(wrong.as_bytes(), &token).unwrap_err();
        assert_eq!(
            e,
            EventError::Forged {
                event: "ONSESSIONSTART".into(),
                domain: Some("some.bitrix24.com".into()),
                reason: ForgeryReason::WrongToken
            }
        );
        let text = e.to_string();
        assert!(text.contains("forged `ONSESSIONSTART`") && text.contains("does not match"));
        assert!(!text.contains("51856fefc"), "{text}");
        for missing in [
            "event=ONSESSIONSTART&auth%5Bdomain%5D=x",
            "event=ONSESSIONSTART&auth%5Bapplication_token%5D=",
            "event=ONSESSIONSTART&auth=flat",
        ] {
            let e = parse::<Untyped>(missing.as_bytes(), &token).unwrap_err();
            assert!(
                matches!(
                    e,
                    EventError::Forged {
                        reason: ForgeryReason::MissingToken,
                        ..
                    }
                ),
                "{missing}: {e:?}"
            );
        }
        // A prefix or an extension of the token is not the token.
        for near in [&TOKEN[..31], &format!("{TOKEN}0")[..]] {
            let e = parse::<Untyped>(body(near).as_bytes(), &token).unwrap_err();
            assert!(matches!(
                e,
                EventError::Forged {
                    reason: ForgeryReason::WrongToken,
                    ..
                }
            ));
        }
        // An empty expected token matches nothing.
        assert!(!ApplicationToken::new("").matches(""));
        // The token is judged before anything is decoded: a forged body whose data would
        // not decode is still Forged, not Decode.
        let forged_bad = body("bad").replace("ts=1714649632", "ts=yesterday");
        let e = parse::<Untyped>(forged_bad.as_bytes(), &token).unwrap_err();
        assert!(matches!(
            e,
            EventError::Forged {
                reason: ForgeryReason::WrongToken,
                ..
            }
        ));
        // Claims are shown tamed: no control characters, at most 64 characters.
        let noisy = format!(
            "event=ON%0A{}&auth%5Bdomain%5D=evil%1B%5B31m.example&auth%5Bapplication_token%5D=x",
            "X".repeat(10_000)
        );
        let text = parse::<Untyped>(noisy.as_bytes(), &token)
            .unwrap_err()
            .to_string();
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text:?}");
        assert!(text.len() < 300, "{}", text.len());
    }

    #[test]
    fn multi_portal_lookup_by_member_id() {
        let lookup =
            |c: &PortalClaim<'_>| (c.member_id == Some("m1")).then(|| ApplicationToken::new(TOKEN));
        assert!(parse_with::<Untyped>(body(TOKEN).as_bytes(), lookup).is_ok());
        let other = body(TOKEN).replace("member_id%5D=m1", "member_id%5D=m2");
        let e = parse_with::<Untyped>(other.as_bytes(), lookup).unwrap_err();
        assert!(matches!(
            e,
            EventError::Forged {
                reason: ForgeryReason::UnknownPortal,
                ..
            }
        ));
    }

    const ATTACKER_TOKEN: &str = "a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7";
    const VICTIM_TOKEN: &str = "v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1";

    /// A multi-portal application that knows both portals' tokens (the attacker installed
    /// it on their own portal), and looks a token up by `member_id`, else by `domain`.
    fn two_portals(c: &PortalClaim<'_>) -> Option<ApplicationToken> {
        match c.member_id.or(c.domain) {
            Some("ATTACKER" | "attacker.bitrix24.com") => {
                Some(ApplicationToken::new(ATTACKER_TOKEN))
            }
            Some("VICTIM" | "victim.bitrix24.com") => Some(ApplicationToken::new(VICTIM_TOKEN)),
            _ => None,
        }
    }

    /// The `member_id` and `domain` a lookup was asked about.
    type Asked = Option<(Option<String>, Option<String>)>;

    /// Parses with [`two_portals`], returning what the lookup was asked and the result.
    fn parse_two(body: &str) -> (Asked, Result<Untyped, EventError>) {
        let mut asked = None;
        let result = parse_with::<Untyped>(body.as_bytes(), |c| {
            asked = Some((
                c.member_id.map(str::to_string),
                c.domain.map(str::to_string),
            ));
            two_portals(c)
        });
        (asked, result)
    }

    fn reason(result: Result<Untyped, EventError>) -> Option<ForgeryReason> {
        match result {
            Err(EventError::Forged { reason, .. }) => Some(reason),
            _ => None,
        }
    }

    /// Issue 10: the claims were read by exact key while the payload went through PHP's
    /// rules, so `auth[member_id]x` named the victim in the delivery after the attacker's
    /// own token had verified the attacker's `auth[member_id]`.
    #[test]
    fn a_second_spelling_of_member_id_cannot_name_another_portal() {
        let body = format!(
            "event=ONSESSIONSTART&auth[member_id]=ATTACKER&auth[application_token]={ATTACKER_TOKEN}\
             &auth[member_id]x=VICTIM&auth[domain]x=victim.bitrix24.com"
        );
        let (_, result) = parse_two(&body);
        assert!(
            matches!(
                result,
                Err(EventError::Forged {
                    reason: ForgeryReason::DuplicateAuthKey,
                    ..
                })
            ),
            "{result:?}"
        );
        // Without the second spelling the attacker's event is theirs, as it should be.
        let honest = format!(
            "event=ONSESSIONSTART&auth[member_id]=ATTACKER&auth[application_token]={ATTACKER_TOKEN}"
        );
        let (asked, result) = parse_two(&honest);
        let Untyped(d) = result.unwrap();
        assert_eq!(d.auth.member_id.as_deref(), Some("ATTACKER"));
        assert_eq!(asked, Some((Some("ATTACKER".into()), None)));
    }

    /// Every spelling PHP reads as the same `auth` key is a duplicate, whichever value is
    /// first and whether or not the values differ.
    #[test]
    fn every_php_alias_of_an_auth_key_is_a_duplicate() {
        let genuine = |key: &str, value: &str| {
            let mut pairs = vec![
                "event=ONSESSIONSTART".to_string(),
                "auth[member_id]=VICTIM".to_string(),
                "auth[domain]=victim.bitrix24.com".to_string(),
                format!("auth[application_token]={VICTIM_TOKEN}"),
            ];
            for p in &mut pairs {
                if p.starts_with(&format!("auth[{key}]=")) {
                    *p = format!("auth[{key}]={value}");
                }
            }
            pairs
        };
        for (key, value, other) in [
            ("member_id", "VICTIM", "ATTACKER"),
            ("domain", "victim.bitrix24.com", "attacker.bitrix24.com"),
            ("application_token", VICTIM_TOKEN, ATTACKER_TOKEN),
            ("scope", "imopenlines", "crm"),
        ] {
            for alias in [
                format!("auth[{key}]"),
                format!("auth[{key}]x"),
                format!("auth[{key}]]"),
                format!("+auth[{key}]"),
                format!("%20auth[{key}]"),
                format!("auth%5B{key}%5D"),
                format!("auth[{key}]%00tail"),
                format!("auth%00x[{key}]"),
                format!("auth[{key}][]"),
                format!("auth[{key}][0]"),
                format!("auth[{key}][x"),
                format!("auth[{key}]x[y]"),
            ] {
                for same in [false, true] {
                    let v = if same { value } else { other };
                    for alias_first in [false, true] {
                        let mut pairs = genuine(key, value);
                        if key == "scope" {
                            pairs.push(format!("auth[scope]={value}"));
                        }
                        let extra = format!("{alias}={v}");
                        if alias_first {
                            pairs.insert(1, extra);
                        } else {
                            pairs.push(extra);
                        }
                        let body = pairs.join("&");
                        let (_, result) = parse_two(&body);
                        assert_eq!(
                            reason(result),
                            Some(ForgeryReason::DuplicateAuthKey),
                            "{body}"
                        );
                    }
                }
            }
        }
        // `auth` itself as a scalar next to the block.
        for body in [
            format!("event=E&auth=x&auth[member_id]=VICTIM&auth[application_token]={VICTIM_TOKEN}"),
            format!("event=E&auth[member_id]=VICTIM&auth[application_token]={VICTIM_TOKEN}&auth=x"),
        ] {
            assert_eq!(
                reason(parse_two(&body).1),
                Some(ForgeryReason::DuplicateAuthKey),
                "{body}"
            );
        }
    }

    /// Keys PHP reads as different ones are not duplicates: the body verifies and the
    /// delivery names the portal whose token verified it.
    #[test]
    fn keys_php_keeps_apart_are_not_duplicates() {
        for decoy in [
            "auth[member_id=ATTACKER",
            "auth[+member_id]=ATTACKER",
            "auth.[member_id]=ATTACKER",
            "auth_[member_id]=ATTACKER",
            "auth[MEMBER_ID]=ATTACKER",
            "data[auth][member_id]=ATTACKER",
            "auth[__Host-member_id]=ATTACKER",
            "xauth[member_id]=ATTACKER",
        ] {
            let body = format!(
                "event=ONSESSIONSTART&auth[member_id]=VICTIM&{decoy}&auth[domain]=victim.bitrix24.com\
                 &auth[application_token]={VICTIM_TOKEN}"
            );
            let (asked, result) = parse_two(&body);
            let Untyped(d) = result.unwrap_or_else(|e| panic!("{body}: {e:?}"));
            assert_eq!(d.auth.member_id.as_deref(), Some("VICTIM"), "{body}");
            assert_eq!(
                asked,
                Some((Some("VICTIM".into()), Some("victim.bitrix24.com".into())))
            );
        }
    }

    #[test]
    fn an_identity_claim_must_be_one_string() {
        // A form key made an array.
        for body in [
            format!("event=E&auth[member_id][]=VICTIM&auth[application_token]={VICTIM_TOKEN}"),
            format!("event=E&auth[member_id][x]=VICTIM&auth[application_token]={VICTIM_TOKEN}"),
            format!(
                "event=E&auth[domain][]=victim.bitrix24.com&auth[application_token]={VICTIM_TOKEN}"
            ),
            format!("event=E&auth[member_id]=VICTIM&auth[application_token][]={VICTIM_TOKEN}"),
        ] {
            assert_eq!(
                reason(parse_two(&body).1),
                Some(ForgeryReason::MalformedClaim),
                "{body}"
            );
        }
        // JSON: a number, boolean, null, list or object is not "no claim". (The lookup
        // below would accept the body by its domain if member_id were ignored.)
        for member_id in [
            "123",
            "1.5",
            "true",
            "null",
            "[\"VICTIM\"]",
            "{\"id\": \"VICTIM\"}",
            "[]",
        ] {
            for key in ["member_id", "domain", "application_token"] {
                let mut auth = serde_json::json!({
                    "member_id": "VICTIM",
                    "domain": "victim.bitrix24.com",
                    "application_token": VICTIM_TOKEN,
                });
                auth[key] = serde_json::from_str(member_id).unwrap();
                let body = serde_json::json!({"event": "E", "auth": auth}).to_string();
                assert_eq!(
                    reason(parse_two(&body).1),
                    Some(ForgeryReason::MalformedClaim),
                    "{body}"
                );
            }
        }
        let numeric = format!(
            "{{\"event\":\"E\",\"auth\":{{\"member_id\":7,\"domain\":\"victim.bitrix24.com\",\"application_token\":\"{VICTIM_TOKEN}\"}}}}"
        );
        let (_, result) = parse_two(&numeric);
        assert!(
            matches!(result, Err(EventError::Forged { .. })),
            "{result:?}"
        );
        // An `auth` that is not an object claims nothing, so it has no token.
        for body in [
            "{\"event\":\"E\",\"auth\":null}",
            "{\"event\":\"E\",\"auth\":\"x\"}",
        ] {
            assert_eq!(
                reason(parse_two(body).1),
                Some(ForgeryReason::MissingToken),
                "{body}"
            );
        }
    }

    #[test]
    fn a_json_auth_key_twice_is_a_duplicate() {
        for body in [
            format!("{{\"event\":\"E\",\"auth\":{{\"member_id\":\"ATTACKER\",\"application_token\":\"{ATTACKER_TOKEN}\",\"member_id\":\"VICTIM\"}}}}"),
            format!("{{\"event\":\"E\",\"auth\":{{\"member_id\":\"VICTIM\",\"application_token\":\"{VICTIM_TOKEN}\",\"application_token\":\"{VICTIM_TOKEN}\"}}}}"),
            format!("{{\"event\":\"E\",\"auth\":{{\"member_id\":\"ATTACKER\",\"application_token\":\"{ATTACKER_TOKEN}\"}},\"auth\":{{\"member_id\":\"VICTIM\"}}}}"),
            format!("{{\"event\":\"E\",\"auth\":{{\"member_id\":\"VICTIM\",\"application_token\":\"{VICTIM_TOKEN}\",\"x\":{{\"a\":1,\"a\":2}}}}}}"),
        ] {
            assert_eq!(reason(parse_two(&body).1), Some(ForgeryReason::DuplicateAuthKey), "{body}");
        }
        // Repeated keys outside `auth` keep JSON's last-one-wins.
        let body = format!(
            "{{\"event\":\"E\",\"data\":{{\"a\":1,\"a\":2}},\"auth\":{{\"member_id\":\"VICTIM\",\"application_token\":\"{VICTIM_TOKEN}\"}}}}"
        );
        let Untyped(d) = parse_two(&body).1.unwrap();
        assert_eq!(d.data["a"], 2);
        assert_eq!(d.auth.member_id.as_deref(), Some("VICTIM"));
    }

    #[test]
    fn malformed_bodies_are_typed_errors() {
        let token = ApplicationToken::new(TOKEN);
        for bad in [
            &b""[..],
            b"data[x]=1",
            b"{\"event\": ",
            b"[1,2]",
            b"\xff\xfe",
            b"{}",
        ] {
            let e = parse::<Untyped>(bad, &token).unwrap_err();
            assert!(matches!(e, EventError::Malformed { .. }), "{bad:?}: {e:?}");
        }
        let json = format!(
            "{{\"event\":\"ONSESSIONSTART\",\"data\":{{}},\"auth\":{{\"application_token\":\"{TOKEN}\"}}}}"
        );
        assert!(parse::<Untyped>(json.as_bytes(), &token).is_ok());
        let bad_ts = body(TOKEN).replace("ts=1714649632", "ts=yesterday");
        let e = parse::<Untyped>(bad_ts.as_bytes(), &token).unwrap_err();
        assert!(
            matches!(&e, EventError::Decode { path, .. } if path == "ts"),
            "{e:?}"
        );
    }
}
