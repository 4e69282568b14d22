//! Keeping secrets out of text taken from an answer.
//!
//! A proxy's error page may echo the request line (`POST /rest/1/<secret>/x.json HTTP/1.1`),
//! a redirect page the whole URL, and an `error_description` the token it refused. Whatever
//! text of an answer goes into an error (and from there into logs) passes a [`Redactor`]
//! first.

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

use crate::secret::Secret;

/// What replaces a secret.
pub const REDACTED: &str = "***";

/// Cuts secrets out of text taken from an answer before it is stored in an error or logged:
/// every known secret of the client (webhook secret, access and refresh tokens, the
/// application's `client_secret`), and, whatever the client knows, the secret segment of any
/// webhook path `/rest/<user id>/<secret>/` (also JSON-escaped, `\/rest\/1\/<secret>\/`).
///
/// `Redactor::default()` knows no secrets and redacts webhook paths only. `Debug` shows how
/// many secrets it knows, never them.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<Secret>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor for these secrets (empty ones are ignored).
    pub fn new(secrets: impl IntoIterator<Item = Secret>) -> Self {
        let mut secrets: Vec<Secret> = secrets
            .into_iter()
            .filter(|s| !s.expose().is_empty())
            .collect();
        // Longest first, so a secret that contains another is cut out whole.
        secrets.sort_by(|a, b| (b.expose().len(), b.expose()).cmp(&(a.expose().len(), a.expose())));
        secrets.dedup();
        Redactor { secrets }
    }

    /// `text` with every known secret and every webhook path's secret segment replaced by
    /// [`REDACTED`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for s in &self.secrets {
            if out.contains(s.expose()) {
                out = Cow::Owned(out.replace(s.expose(), REDACTED));
            }
        }
        match redact_webhook_paths(&out) {
            Some(cleaned) => Cow::Owned(cleaned),
            None => out,
        }
    }

    /// Like [`Redactor::redact`], for text that is the beginning of a longer one: a known
    /// secret cut off at the end of `text` is removed too (its first characters would
    /// otherwise survive). A webhook path cut off after `/rest/<user>/` loses the part of
    /// its secret that is there.
    pub fn redact_prefix(&self, text: &str) -> String {
        let mut out = self.redact(text).into_owned();
        for s in &self.secrets {
            let s = s.expose();
            // The longest proper prefix of the secret that `out` ends with.
            let cut = (1..s.len())
                .rev()
                .filter(|&k| s.is_char_boundary(k))
                .find(|&k| out.ends_with(&s[..k]));
            if let Some(k) = cut {
                out.truncate(out.len() - k);
            }
        }
        out
    }

    /// `value` with [`Redactor::redact`] applied to every string and every key in it.
    pub fn redact_value(&self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.redact_owned(s)),
            Value::Array(a) => Value::Array(a.into_iter().map(|v| self.redact_value(v)).collect()),
            Value::Object(m) => Value::Object(self.redact_map(m)),
            other => other,
        }
    }

    /// `map` with [`Redactor::redact_value`] applied to every key and value.
    pub fn redact_map(&self, map: Map<String, Value>) -> Map<String, Value> {
        map.into_iter()
            .map(|(k, v)| (self.redact_owned(k), self.redact_value(v)))
            .collect()
    }

    /// [`Redactor::redact`] of an owned string, without a copy when nothing changes.
    pub fn redact_owned(&self, text: String) -> String {
        match self.redact(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(s) => s,
        }
    }
}

/// The length of a path separator (`/`, or `\/` as PHP's `json_encode` writes it) at `i`.
fn separator(b: &[u8], i: usize) -> Option<usize> {
    match (b.get(i), b.get(i + 1)) {
        (Some(b'/'), _) => Some(1),
        (Some(b'\\'), Some(b'/')) => Some(2),
        _ => None,
    }
}

/// Where a URL path segment ends.
fn ends_segment(c: u8) -> bool {
    c.is_ascii_whitespace()
        || c.is_ascii_control()
        || matches!(
            c,
            b'/' | b'\\'
                | b'?'
                | b'#'
                | b'&'
                | b'"'
                | b'\''
                | b'<'
                | b'>'
                | b'('
                | b')'
                | b','
                | b';'
                | b'`'
        )
}

/// Replaces the `<secret>` of every `/rest/<digits>/<secret>` with [`REDACTED`]; `None`
/// when there is none. Every byte looked at is ASCII, so the cuts fall on char boundaries.
fn redact_webhook_paths(text: &str) -> Option<String> {
    const REST: &[u8] = b"rest";
    let b = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i + REST.len() <= b.len() {
        let at = i;
        i += 1;
        let is_rest = b
            .get(at..at + REST.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(REST));
        let after_slash = at > 0 && b.get(at - 1) == Some(&b'/');
        if !is_rest || !after_slash {
            continue;
        }
        let Some(n) = separator(b, at + REST.len()) else {
            continue;
        };
        let user = at + REST.len() + n;
        let mut j = user;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j == user {
            continue;
        }
        let Some(n) = separator(b, j) else {
            continue;
        };
        let secret = j + n;
        let mut end = secret;
        while b.get(end).is_some_and(|c| !ends_segment(*c)) {
            end += 1;
        }
        if end == secret {
            continue;
        }
        // Cuts fall after ASCII bytes, so `get` always succeeds; were it ever not to, the
        // whole text is withheld rather than passed on unredacted.
        let Some(before) = text.get(copied..secret) else {
            return Some(REDACTED.to_string());
        };
        out.push_str(before);
        out.push_str(REDACTED);
        copied = end;
        i = end;
    }
    if copied == 0 {
        return None;
    }
    match text.get(copied..) {
        Some(rest) => out.push_str(rest),
        None => return Some(REDACTED.to_string()),
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::new([
            Secret::new("s3cr3t-webhook"),
            Secret::new(""),
            Secret::new("tok3n"),
        ])
    }

    #[test]
    fn known_secrets_and_webhook_paths_are_cut_out() {
        let r = r();
        assert_eq!(
            r.redact("POST /rest/1/s3cr3t-webhook/imopenlines.dialog.get.json HTTP/1.1"),
            "POST /rest/1/***/imopenlines.dialog.get.json HTTP/1.1"
        );
        assert_eq!(r.redact("token tok3n is invalid"), "token *** is invalid");
        // Another webhook's secret, unknown to the client, JSON-escaped or not.
        assert_eq!(
            Redactor::default()
                .redact(r#"see https://x.bitrix24.ru/REST/17/other-code and \/rest\/2\/abc\/x"#),
            r#"see https://x.bitrix24.ru/REST/17/*** and \/rest\/2\/***\/x"#
        );
        // OAuth paths and other text stay as they are.
        for plain in [
            "/rest/imopenlines.dialog.get.json",
            "/rest/1/",
            "rest/1/abc",
            "/restful/1/abc",
            "/rest/user/abc/",
            "ünïcödé /rest/ü/x",
            "",
        ] {
            assert!(
                matches!(Redactor::default().redact(plain), Cow::Borrowed(_)),
                "{plain}"
            );
        }
        assert_eq!(Redactor::default().redact("ü/rest/1/ä"), "ü/rest/1/***");
    }

    #[test]
    fn a_secret_cut_off_at_the_end_of_a_prefix_goes_too() {
        let r = r();
        assert_eq!(r.redact_prefix("header s3cr3t-we"), "header ");
        assert_eq!(r.redact_prefix("a tok3n b tok"), "a *** b ");
        assert_eq!(r.redact_prefix("GET /rest/1/s3cr"), "GET /rest/1/***");
        assert_eq!(r.redact_prefix("nothing here"), "nothing here");
    }

    #[test]
    fn values_are_redacted_in_keys_and_strings() {
        let v = serde_json::json!({"url": "/rest/1/zzz/", "tok3n": ["tok3n", 1, null]});
        assert_eq!(
            r().redact_value(v),
            serde_json::json!({"url": "/rest/1/***/", "***": ["***", 1, null]})
        );
        assert_eq!(format!("{:?}", r()), "Redactor { secrets: 2 }");
    }
}
