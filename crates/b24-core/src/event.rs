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
use crate::Secret;

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
}

impl fmt::Display for ForgeryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ForgeryReason::MissingToken => "no auth[application_token]",
            ForgeryReason::WrongToken => "auth[application_token] does not match",
            ForgeryReason::UnknownPortal => "no application token is known for this portal",
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
    payload: Map<String, Value>,
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("event", &self.event)
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
        let Verified { event, mut payload } = self;
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
        let mut auth_map = match payload.remove("auth") {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        auth_map.remove("application_token");
        let text = |m: &mut Map<String, Value>, k: &str| match m.remove(k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let auth = EventAuth {
            domain: text(&mut auth_map, "domain"),
            client_endpoint: text(&mut auth_map, "client_endpoint"),
            server_endpoint: text(&mut auth_map, "server_endpoint"),
            member_id: text(&mut auth_map, "member_id"),
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

/// A JSON body as an object.
fn json_tree(body: &[u8]) -> Result<Map<String, Value>, EventError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(EventError::Malformed {
            reason: "expected a JSON object".into(),
        }),
        Err(e) => Err(EventError::Malformed {
            reason: format!("the body starts like JSON but is not: {e}"),
        }),
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

/// What an event body claims before it is verified: `event`, `auth[domain]`,
/// `auth[member_id]` and `auth[application_token]`.
#[derive(Default)]
struct Claims {
    event: Option<String>,
    domain: Option<String>,
    member_id: Option<String>,
    token: Option<String>,
}

impl Claims {
    /// Reads the claims of a form body in one pass without building its tree, so a forged
    /// body costs no more than reading it (the last spelling of a key wins, as in PHP).
    fn of_form(body: &[u8]) -> Claims {
        let mut c = Claims::default();
        for (k, v) in form_urlencoded::parse(body) {
            let slot = match &*k {
                "event" => &mut c.event,
                "auth[domain]" => &mut c.domain,
                "auth[member_id]" => &mut c.member_id,
                "auth[application_token]" => &mut c.token,
                _ => continue,
            };
            *slot = Some(v.into_owned());
        }
        c
    }

    /// The claims of an already parsed JSON body.
    fn of_tree(tree: &Map<String, Value>) -> Claims {
        let auth = tree.get("auth").and_then(Value::as_object);
        let get = |k: &str| {
            auth.and_then(|a| a.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Claims {
            event: tree
                .get("event")
                .and_then(Value::as_str)
                .map(str::to_string),
            domain: get("domain"),
            member_id: get("member_id"),
            token: get("application_token"),
        }
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
    // The token is checked before the body's tree is built: a forged body is read once and
    // costs nothing more.
    let (json, claims) = if is_json(body) {
        let tree = json_tree(body)?;
        let claims = Claims::of_tree(&tree);
        (Some(tree), claims)
    } else {
        (None, Claims::of_form(body))
    };
    let event = match claims.event.as_deref().map(str::trim) {
        Some(e) if !e.is_empty() => e.to_string(),
        _ => {
            return Err(EventError::Malformed {
                reason: "no `event` key (expected a form body such as `event=ONSESSIONSTART&data[...]=...&auth[application_token]=...`)".into(),
            })
        }
    };
    let forged = |reason| EventError::Forged {
        event: shown(&event),
        domain: claims.domain.as_deref().map(shown),
        reason,
    };
    let sent = claims
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| forged(ForgeryReason::MissingToken))?;
    let claim = PortalClaim {
        member_id: claims.member_id.as_deref(),
        domain: claims.domain.as_deref(),
        event: &event,
    };
    let expected = lookup(&claim).ok_or_else(|| forged(ForgeryReason::UnknownPortal))?;
    if !expected.matches(sent) {
        return Err(forged(ForgeryReason::WrongToken));
    }
    let payload = match json {
        Some(tree) => tree,
        None => crate::php::parse_query_bytes(body),
    };
    E::decode(Verified { event, payload })
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
        let verified = Verified {
            event: "ONSESSIONSTART".into(),
            payload: crate::php::parse_query(&body(TOKEN)),
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
