//! The REST envelope: `{"result": ..., "time": {...}, "next": N, "total": N}` on success,
//! `{"error": CODE, "error_description": TEXT}` on failure.

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, FixedOffset};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiErrorCode, Error, MethodErrorCode};
use crate::lenient::{self, Key, Lenient, Seed};
use crate::redact::Redactor;

/// The `time` block of a successful answer. Every key is optional: its content varies by
/// method and portal version. `start`, `finish`, `duration`, `processing` and `operating`
/// are seconds (floats in the server code, whole numbers in newer cloud answers).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct Time {
    /// When the request started (Unix seconds).
    pub start: Option<f64>,
    /// When it finished (Unix seconds).
    pub finish: Option<f64>,
    /// `finish - start`.
    pub duration: Option<f64>,
    /// Time spent processing.
    pub processing: Option<f64>,
    /// Start as a datetime with the portal's offset.
    pub date_start: Option<DateTime<FixedOffset>>,
    /// Finish as a datetime with the portal's offset.
    pub date_finish: Option<DateTime<FixedOffset>>,
    /// Seconds of the method's operating-time budget used in the current window.
    pub operating: Option<f64>,
    /// When the operating-time window resets (Unix seconds).
    pub operating_reset_at: Option<i64>,
}

/// Visitor for [`Time`].
#[derive(Default)]
pub struct TimeVisitor;

impl<'de> Visitor<'de> for TimeVisitor {
    type Value = Time;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the time block")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Time, A::Error> {
        let mut t = Time::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            match &*k {
                "start" => t.start = map.next_value_seed(Seed::<Option<f64>>::new())?,
                "finish" => t.finish = map.next_value_seed(Seed::<Option<f64>>::new())?,
                "duration" => t.duration = map.next_value_seed(Seed::<Option<f64>>::new())?,
                "processing" => t.processing = map.next_value_seed(Seed::<Option<f64>>::new())?,
                "operating" => t.operating = map.next_value_seed(Seed::<Option<f64>>::new())?,
                "operating_reset_at" => {
                    t.operating_reset_at = map.next_value_seed(Seed::<Option<i64>>::new())?
                }
                "date_start" => {
                    t.date_start =
                        map.next_value_seed(Seed::<Option<DateTime<FixedOffset>>>::new())?
                }
                "date_finish" => {
                    t.date_finish =
                        map.next_value_seed(Seed::<Option<DateTime<FixedOffset>>>::new())?
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(t)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Time, A::Error> {
        lenient::expect_empty_seq(seq, &self).map(|()| Time::default())
    }
}

impl Lenient for Time {
    type Visitor = TimeVisitor;
    const EMPTY_STRING_IS_NULL: bool = true;
    const EMPTY_ARRAY_IS_NULL: bool = true;
}

/// A successful answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope<T> {
    /// `result`.
    pub result: T,
    /// `time`, when sent.
    pub time: Option<Time>,
    /// `next`: the `start` of the next page of a list method.
    pub next: Option<u64>,
    /// `total`: the number of items of a list method.
    pub total: Option<u64>,
}

/// What the top level of a body held, before it is judged a success or a failure.
struct RawEnvelope<T> {
    result: Option<T>,
    error: Option<String>,
    error_description: Option<String>,
    time: Option<Time>,
    next: Option<u64>,
    total: Option<u64>,
    extra: Map<String, Value>,
}

struct RawVisitor<T>(PhantomData<fn() -> T>);

impl<'de, T: Lenient> Visitor<'de> for RawVisitor<T> {
    type Value = RawEnvelope<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a REST envelope object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawEnvelope<T>, A::Error> {
        let mut env = RawEnvelope {
            result: None,
            error: None,
            error_description: None,
            time: None,
            next: None,
            total: None,
            extra: Map::new(),
        };
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            match &*k {
                "result" => env.result = Some(map.next_value_seed(Seed::<T>::new())?),
                "error" => env.error = map.next_value_seed(Seed::<Option<String>>::new())?,
                "error_description" => {
                    env.error_description = map.next_value_seed(Seed::<Option<String>>::new())?
                }
                "time" => env.time = map.next_value_seed(Seed::<Option<Time>>::new())?,
                "next" => {
                    env.next = map
                        .next_value_seed(Seed::<Option<i64>>::new())?
                        .and_then(|n| u64::try_from(n).ok())
                }
                "total" => {
                    env.total = map
                        .next_value_seed(Seed::<Option<i64>>::new())?
                        .and_then(|n| u64::try_from(n).ok())
                }
                _ => {
                    let v = map.next_value_seed(Seed::<Value>::new())?;
                    env.extra.insert(k.into_owned(), v);
                }
            }
        }
        Ok(env)
    }
}

struct RawSeed<T>(PhantomData<fn() -> T>);

impl<'de, T: Lenient> de::DeserializeSeed<'de> for RawSeed<T> {
    type Value = RawEnvelope<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(RawVisitor(PhantomData))
    }
}

/// A decoding failure with the JSON path of the bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at `{path}`: {message}")]
pub struct DecodeError {
    /// JSON path (`result.readed_list[0].date`, `.` for the top level).
    pub path: String,
    /// What was wrong.
    pub message: String,
    /// Whether the input ended early (a truncated body).
    pub eof: bool,
    /// Whether the input is not JSON at all.
    pub syntax: bool,
}

/// Decodes a lenient `T` from JSON bytes, naming the path of the first bad value.
pub fn decode_json<T: Lenient>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode_slice(Seed::<T>::new, bytes)
}

/// Decodes a lenient `T` from an already parsed JSON value (a `batch` command's result),
/// naming the path of the first bad value.
pub fn decode_value<T: Lenient>(value: Value) -> Result<T, DecodeError> {
    // As for bodies: decode untracked first, and track the path only to explain a failure.
    if let Ok(v) = lenient::deserialize::<T, _>(&value) {
        return Ok(v);
    }
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&value, &mut track);
    match lenient::deserialize::<T, _>(tracked) {
        Ok(v) => Ok(v),
        Err(inner) => Err(DecodeError {
            path: track.path().to_string(),
            eof: false,
            syntax: false,
            message: inner.to_string(),
        }),
    }
}

/// Runs a seed over a whole JSON body (trailing bytes are an error). The fast path decodes
/// without tracking where it is; only when that fails is the body decoded again with
/// `serde_path_to_error` to name the path of the bad value, so correct answers pay nothing
/// for good error messages.
fn decode_slice<'de, S: de::DeserializeSeed<'de>>(
    seed: impl Fn() -> S,
    bytes: &'de [u8],
) -> Result<S::Value, DecodeError> {
    let mut d = serde_json::Deserializer::from_slice(bytes);
    let fast = seed().deserialize(&mut d).and_then(|v| d.end().map(|()| v));
    let first = match fast {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let mut d = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let tracked = serde_path_to_error::Deserializer::new(&mut d, &mut track);
    let (path, inner) = match seed().deserialize(tracked) {
        Err(inner) => (track.path().to_string(), inner),
        // Only trailing bytes remain, which the first pass reported.
        Ok(_) => (".".to_string(), first),
    };
    Err(DecodeError {
        path,
        eof: inner.is_eof(),
        syntax: inner.is_syntax(),
        message: inner.to_string(),
    })
}

/// How many characters of a non-envelope body an error keeps.
pub const EXCERPT_CHARS: usize = 200;

/// The first [`EXCERPT_CHARS`] characters of a body, control characters blanked, with the
/// secrets `redactor` knows (and any webhook path's secret) cut out before the cut, so that
/// no secret survives in whole or in part.
fn excerpt(body: &[u8], redactor: &Redactor) -> String {
    let head = body.get(..EXCERPT_CHARS * 4).unwrap_or(body);
    let text = String::from_utf8_lossy(head);
    let text = if head.len() < body.len() {
        redactor.redact_prefix(&text)
    } else {
        redactor.redact(&text).into_owned()
    };
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(EXCERPT_CHARS)
        .collect::<String>()
        .trim()
        .to_string()
}

/// Turns an HTTP answer into the typed result or a typed error.
///
/// * A JSON object with `error` is [`Error::Api`] (even with HTTP 200).
/// * A JSON object with `result` and a 2xx status is the result; a result that does not match
///   `T` is [`Error::Decode`] with the JSON path.
/// * A body that starts like JSON but ends early is [`Error::Decode`] (truncated).
/// * Anything else (an HTML 502 page, an empty body) is [`Error::UnexpectedResponse`].
///
/// Text of the answer that goes into an error has webhook paths' secrets cut out; use
/// [`decode_response_redacted`] to cut out the client's own secrets too.
pub fn decode_response<T: Lenient, C: MethodErrorCode>(
    method: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Envelope<T>, Error<C>> {
    decode_response_redacted(method, status, content_type, body, &Redactor::default())
}

/// [`decode_response`], with every secret `redactor` knows cut out of the text of the answer
/// that goes into an error: the excerpt of a body that is not an envelope, the code,
/// description and other keys of an error answer, the path and message of a decoding
/// failure. The result itself is returned as it is.
pub fn decode_response_redacted<T: Lenient, C: MethodErrorCode>(
    method: &str,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    redactor: &Redactor,
) -> Result<Envelope<T>, Error<C>> {
    let unexpected = || Error::UnexpectedResponse {
        method: method.to_string(),
        status,
        content_type: redactor
            .redact(content_type.unwrap_or("unknown"))
            .into_owned(),
        excerpt: excerpt(body, redactor),
    };
    let looks_like_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{');
    if !looks_like_json {
        return Err(unexpected());
    }
    let raw = decode_slice(|| RawSeed::<T>(PhantomData), body);
    let raw = match raw {
        Ok(raw) => raw,
        Err(e) => {
            return Err(Error::Decode {
                method: method.to_string(),
                status,
                path: redactor.redact_owned(e.path),
                message: redactor.redact_owned(e.message),
            })
        }
    };
    if let Some(code) = raw.error {
        return Err(Error::Api {
            method: method.to_string(),
            error: Box::new(ApiError {
                status,
                code: ApiErrorCode::parse(&redactor.redact(&code)),
                description: redactor.redact_owned(raw.error_description.unwrap_or_default()),
                extra: redactor.redact_map(raw.extra),
            }),
        });
    }
    match raw.result {
        Some(result) if (200..300).contains(&status) => Ok(Envelope {
            result,
            time: raw.time,
            next: raw.next,
            total: raw.total,
        }),
        Some(_) => Err(unexpected()),
        None if (200..300).contains(&status) => Err(Error::Decode {
            method: method.to_string(),
            status,
            path: ".".into(),
            message: "the answer has neither `result` nor `error`".into(),
        }),
        None => Err(unexpected()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{PortalErrorCode, UndocumentedCode};
    use crate::Secret;

    fn decode(status: u16, body: &str) -> Result<Envelope<Value>, Error<UndocumentedCode>> {
        decode_response("x.y", status, Some("application/json"), body.as_bytes())
    }

    #[test]
    fn success_with_time_and_paging() {
        let env = decode(
            200,
            r#"{"result":[1],"next":50,"total":"120","time":{"start":1773683678,"finish":1773683678.42,"date_start":"2026-03-16T20:54:38+03:00","operating_reset_at":1773684278,"operating":0}}"#,
        )
        .unwrap();
        assert_eq!(env.next, Some(50));
        assert_eq!(env.total, Some(120));
        let t = env.time.unwrap();
        assert_eq!(t.operating_reset_at, Some(1773684278));
        assert_eq!(t.date_start.unwrap().offset().local_minus_utc(), 3 * 3600);
    }

    #[test]
    fn parsed_values_decode_and_name_the_bad_path() {
        let ok: Vec<i64> = decode_value(serde_json::json!([1, "2"])).unwrap();
        assert_eq!(ok, vec![1, 2]);
        let e = decode_value::<Vec<IndexMapOfInts>>(serde_json::json!([{"a": 1}, {"b": "x"}]))
            .unwrap_err();
        assert_eq!(e.path, "[1].b");
    }

    type IndexMapOfInts = indexmap::IndexMap<String, i64>;

    #[test]
    fn no_secret_of_an_answer_reaches_an_error() {
        let token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let r = Redactor::new([Secret::new("hook-secret"), Secret::new(token)]);
        let d = |status: u16, body: &str| {
            decode_response_redacted::<i64, UndocumentedCode>(
                "m",
                status,
                Some("text/html"),
                body.as_bytes(),
                &r,
            )
            .unwrap_err()
        };
        let leaks = |e: &Error<UndocumentedCode>| {
            let text = format!("{e} {e:?}");
            text.contains("hook-secret") || text.contains(&token[..8])
        };
        // A proxy's page echoing the request line, and one echoing another webhook's URL.
        let e = d(
            502,
            "<html><pre>POST /rest/1/hook-secret/m.json HTTP/1.1</pre> /rest/9/other-code/</html>",
        );
        assert!(!leaks(&e) && !e.to_string().contains("other-code"), "{e}");
        assert!(e.to_string().contains("POST /rest/1/***/m.json"), "{e}");
        // A token across the excerpt's cut: 190 four-byte characters, then the token; the
        // excerpt keeps 200 characters, ten of which would be the token's.
        let e = d(502, &format!("{}{token} tail", "\u{1D11E}".repeat(190)));
        assert!(!leaks(&e), "{e}");
        // Error code, description and extra keys of a JSON error.
        let e = d(
            401,
            &format!(
                r#"{{"error":"invalid_token","error_description":"token {token} refused","echo":{{"url":"/rest/1/hook-secret/m.json"}}}}"#
            ),
        );
        assert!(!leaks(&e), "{e:?}");
        assert!(e.to_string().contains("token *** refused"), "{e}");
        // A result of the wrong type, echoed in the decoding message.
        let e = d(200, &format!(r#"{{"result":"{token}"}}"#));
        assert!(matches!(e, Error::Decode { .. }) && !leaks(&e), "{e:?}");
        // Without the client's secrets, webhook paths are still cut out.
        let e = decode(502, "<p>GET /rest/12/abcdef/x.json</p>").unwrap_err();
        assert!(!e.to_string().contains("abcdef"), "{e}");
    }

    #[test]
    fn errors_of_every_kind() {
        let e = decode(
            503,
            r#"{"error":"QUERY_LIMIT_EXCEEDED","error_description":"Too many requests"}"#,
        )
        .unwrap_err();
        assert!(e.is_portal(PortalErrorCode::QueryLimitExceeded));
        assert_eq!(e.status(), Some(503));
        let e = decode(502, "<html><body>Bad gateway</body></html>").unwrap_err();
        assert!(
            matches!(e, Error::UnexpectedResponse { status: 502, ref excerpt, .. } if excerpt.contains("Bad gateway"))
        );
        let e = decode(200, r#"{"result":{"id":1"#).unwrap_err();
        assert!(
            matches!(e, Error::Decode { ref message, .. } if message.contains("EOF")),
            "{e}"
        );
        let e = decode(200, "").unwrap_err();
        assert!(matches!(e, Error::UnexpectedResponse { .. }));
        let e = decode(200, r#"{"time":{}}"#).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }));
        let e = decode(
            200,
            r#"{"error":"SOMETHING_NEW","error_description":"x","argument":"ID"}"#,
        )
        .unwrap_err();
        match e {
            Error::Api { error, .. } => {
                assert_eq!(error.code.as_str(), "SOMETHING_NEW");
                assert_eq!(error.extra["argument"], "ID");
            }
            other => panic!("{other}"),
        }
        let e = decode(200, r#"{"result":1} trailing"#).unwrap_err();
        assert!(matches!(e, Error::Decode { .. }));
    }
}
