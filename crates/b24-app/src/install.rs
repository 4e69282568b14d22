//! Install and uninstall: reading the install request, verifying it with the OAuth server,
//! storing the portal.
//!
//! # What an install POST can prove
//!
//! Anyone can POST to the install URL and name any `member_id`, domain, endpoints and
//! tokens. Stored blindly, such a POST would let an attacker replace a real portal's
//! `application_token` with one they chose (and then post events in its name), or point the
//! application's calls, with their tokens, at a server of their own. What the POST carries
//! that an attacker cannot make up is the OAuth pair the authorization server issued for
//! *this* application on *that* portal. So the install is verified by the authorization
//! server the application is configured with (never one the request names): the refresh
//! token is exchanged there with the application's `client_secret`. The exchange succeeds only
//! for a pair issued to this `client_id`, and the answer names the portal the pair belongs to:
//! its `member_id` must be the one claimed, and its `client_endpoint` (when given) is the one
//! stored. The new pair from that exchange is the one kept; the refresh token of the POST is
//! spent, so a replayed install POST fails.
//!
//! Left open: the `application_token` itself is not known to the authorization server. Whoever
//! holds a valid refresh token of the portal (the portal itself, or someone who stole the
//! install POST in transit and uses it before the application does) can pick it; such a party
//! already has full API access to that portal. `ONAPPUNINSTALL` carries no tokens, so it is
//! accepted only with the application token stored for the portal, compared in constant time.

use std::time::{Duration, SystemTime};

use b24_core::php::parse_query_bytes;
use b24_openlines::{OAuthTokens, Secret};
use serde_json::{Map, Value};
use url::Url;

use crate::app::{portal_root, App, AppError};
use crate::store::{AppStoreError, Installation};

/// Why an install request was refused. Never carries a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// The body is not an install request, or lacks a key it needs.
    #[error("not an install request: {0}")]
    Malformed(String),
    /// The authorization server did not confirm the tokens (or named another portal).
    #[error("install of portal `{member_id}` not verified: {reason}")]
    Unverified {
        /// The portal the request claimed.
        member_id: String,
        /// Why (an OAuth error code, a different member_id; never a token).
        reason: String,
    },
    /// The authorization server could not be reached or answered garbage.
    #[error("the authorization server could not verify the install: {0}")]
    VerifierUnavailable(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] AppStoreError),
    /// Binding the events failed (the installation is stored; a reinstall or
    /// [`App::bind_events`] retries).
    #[error(transparent)]
    Bind(AppError),
    /// The [`crate::AppBuilder::on_install`] hook failed (the installation is stored).
    #[error("the install hook failed: {0}")]
    Hook(crate::HandlerError),
}

/// What an install request claims (unverified).
pub(crate) struct InstallClaim {
    pub(crate) member_id: String,
    pub(crate) domain: Option<String>,
    pub(crate) client_endpoint: Option<String>,
    pub(crate) server_endpoint: Option<String>,
    pub(crate) scope: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) refresh_token: Secret,
    pub(crate) application_token: Secret,
    /// The frame install page (`AUTH_ID`...) rather than the `ONAPPINSTALL` event.
    pub(crate) frame: bool,
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads an install request: the `ONAPPINSTALL` event (form with `auth[...]`) or the frame
/// install page's POST (`AUTH_ID`, `REFRESH_ID`, `member_id`, `APPLICATION_TOKEN`, and
/// `DOMAIN`/`PROTOCOL` in the query string).
pub(crate) fn read_claim(body: &[u8], query: Option<&str>) -> Result<InstallClaim, InstallError> {
    let mut form = if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(InstallError::Malformed(
                    "a JSON body that is not an object".into(),
                ))
            }
        }
    } else {
        parse_query_bytes(body)
    };
    if let Some(q) = query {
        for (k, v) in parse_query_bytes(q.as_bytes()) {
            form.entry(k).or_insert(v);
        }
    }
    let missing = |what: &str| InstallError::Malformed(format!("no {what}"));
    let event = text(&form, "event");
    if let Some(event) = event {
        if !event.eq_ignore_ascii_case("ONAPPINSTALL") {
            return Err(InstallError::Malformed(format!(
                "the event is not ONAPPINSTALL ({} characters)",
                event.chars().count()
            )));
        }
        let auth = match form.get("auth") {
            Some(Value::Object(a)) => a,
            _ => return Err(missing("auth")),
        };
        return Ok(InstallClaim {
            member_id: text(auth, "member_id").ok_or_else(|| missing("auth[member_id]"))?,
            domain: text(auth, "domain"),
            client_endpoint: text(auth, "client_endpoint"),
            server_endpoint: text(auth, "server_endpoint"),
            scope: text(auth, "scope"),
            status: text(auth, "status"),
            refresh_token: Secret::new(
                text(auth, "refresh_token").ok_or_else(|| missing("auth[refresh_token]"))?,
            ),
            application_token: Secret::new(
                text(auth, "application_token")
                    .ok_or_else(|| missing("auth[application_token]"))?,
            ),
            frame: false,
        });
    }
    let member_id = text(&form, "member_id").ok_or_else(|| missing("member_id"))?;
    let domain = text(&form, "DOMAIN");
    let scheme = if text(&form, "PROTOCOL").as_deref() == Some("0") {
        "http"
    } else {
        "https"
    };
    Ok(InstallClaim {
        member_id,
        client_endpoint: domain.as_ref().map(|d| format!("{scheme}://{d}/rest/")),
        domain,
        server_endpoint: text(&form, "SERVER_ENDPOINT"),
        scope: text(&form, "APPLICATION_SCOPE"),
        status: text(&form, "status"),
        refresh_token: Secret::new(text(&form, "REFRESH_ID").ok_or_else(|| missing("REFRESH_ID"))?),
        application_token: Secret::new(
            text(&form, "APPLICATION_TOKEN").ok_or_else(|| missing("APPLICATION_TOKEN"))?,
        ),
        frame: true,
    })
}

/// What the authorization server confirmed.
struct Confirmed {
    tokens: OAuthTokens,
    client_endpoint: Option<String>,
}

/// An OAuth error code as shown: letters, digits and `_` only, at most 64 characters.
fn shown_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

impl App {
    /// Exchanges the claim's refresh token at the configured token endpoint.
    async fn confirm(&self, claim: &InstallClaim) -> Result<Confirmed, InstallError> {
        let inner = &self.inner;
        let unavailable =
            |e: reqwest::Error| InstallError::VerifierUnavailable(e.without_url().to_string());
        let mut response = inner
            .http
            .get(
                self.token_endpoint_for(claim.server_endpoint.as_deref())
                    .clone(),
            )
            .query(&[
                ("grant_type", "refresh_token"),
                ("client_id", inner.client_id.as_str()),
                ("client_secret", inner.client_secret.expose()),
                ("refresh_token", claim.refresh_token.expose()),
            ])
            .send()
            .await
            .map_err(unavailable)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unavailable)? {
            if body.len() + chunk.len() > b24_runtime::MAX_TOKEN_ANSWER_BYTES {
                return Err(InstallError::VerifierUnavailable(
                    "the token endpoint's answer is too large".into(),
                ));
            }
            body.extend_from_slice(&chunk);
        }
        let unverified = |reason: String| InstallError::Unverified {
            member_id: claim.member_id.clone(),
            reason,
        };
        let Ok(Value::Object(answer)) = serde_json::from_slice::<Value>(&body) else {
            return Err(InstallError::VerifierUnavailable(format!(
                "the token endpoint answered HTTP {status} without a JSON object"
            )));
        };
        if let Some(code) = answer.get("error").and_then(Value::as_str) {
            return Err(unverified(format!(
                "the authorization server refused the refresh token ({})",
                shown_code(code)
            )));
        }
        let token = |k: &str| text(&answer, k);
        let (Some(access), Some(refresh)) = (token("access_token"), token("refresh_token")) else {
            return Err(InstallError::VerifierUnavailable(format!(
                "the token endpoint answered HTTP {status} without a token pair"
            )));
        };
        match token("member_id") {
            Some(m) if m == claim.member_id => {}
            Some(_) => {
                return Err(unverified(
                    "the tokens belong to another portal (member_id differs)".into(),
                ))
            }
            None => {
                return Err(unverified(
                    "the authorization server did not name the portal (no member_id)".into(),
                ))
            }
        }
        let expires_at = answer
            .get("expires_in")
            .and_then(|v| match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .and_then(|s| {
                SystemTime::now()
                    .checked_add(Duration::from_secs(s).min(b24_runtime::MAX_TOKEN_LIFETIME))
            });
        Ok(Confirmed {
            tokens: OAuthTokens {
                access_token: Secret::new(access),
                refresh_token: Secret::new(refresh),
                expires_at,
            },
            client_endpoint: token("client_endpoint"),
        })
    }

    /// Handles an install request (the body and query string as received): verifies it,
    /// stores the portal (replacing an earlier install of it) and binds the events.
    pub async fn install(
        &self,
        body: &[u8],
        query: Option<&str>,
    ) -> Result<Installation, InstallError> {
        let claim = read_claim(body, query)?;
        self.install_claim(claim).await
    }

    pub(crate) async fn install_claim(
        &self,
        claim: InstallClaim,
    ) -> Result<Installation, InstallError> {
        let confirmed = self.confirm(&claim).await?;
        // The endpoint the authorization server names wins over the claimed one.
        let endpoint = confirmed
            .client_endpoint
            .or(claim.client_endpoint)
            .ok_or_else(|| InstallError::Malformed("no client_endpoint or DOMAIN".into()))?;
        let client_endpoint = Url::parse(&endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && portal_root(u).is_some())
            .ok_or_else(|| {
                InstallError::Malformed("client_endpoint is not an http(s) …/rest/ URL".into())
            })?;
        let domain = claim
            .domain
            .or_else(|| client_endpoint.host_str().map(str::to_string))
            .unwrap_or_default();
        let installation = Installation::new(
            claim.member_id,
            domain,
            client_endpoint,
            claim.application_token,
            confirmed.tokens,
        )
        .with_details(claim.server_endpoint, claim.scope, claim.status);
        self.inner.store.install(&installation).await?;
        self.forget_client(&installation.member_id);
        tracing::info!(
            member_id = %installation.member_id,
            domain = %installation.domain,
            frame = claim.frame,
            "application installed"
        );
        self.bind_events(&installation.member_id)
            .await
            .map_err(InstallError::Bind)?;
        if let Some(hook) = &self.inner.on_install {
            let client = self.client_for(&installation).map_err(InstallError::Bind)?;
            hook(installation.clone(), client)
                .await
                .map_err(InstallError::Hook)?;
        }
        Ok(installation)
    }

    /// Removes `member_id` and everything stored for it; its events are refused from then on.
    /// Returns whether it was installed. (The events endpoint calls this for a verified
    /// `ONAPPUNINSTALL`.)
    pub async fn uninstall(&self, member_id: &str) -> Result<bool, AppStoreError> {
        let removed = self.inner.store.uninstall(member_id).await?;
        self.forget_client(member_id);
        if removed {
            tracing::info!(member_id, "application uninstalled");
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_install_shapes_are_read() {
        let event = b"event=ONAPPINSTALL&data%5BVERSION%5D=1&auth%5Bdomain%5D=a.bitrix24.ru\
            &auth%5Bmember_id%5D=m1&auth%5Brefresh_token%5D=r1&auth%5Baccess_token%5D=a1\
            &auth%5Bclient_endpoint%5D=https%3A%2F%2Fa.bitrix24.ru%2Frest%2F\
            &auth%5Bapplication_token%5D=t1";
        let c = read_claim(event, None).unwrap();
        assert_eq!(c.member_id, "m1");
        assert_eq!(c.refresh_token.expose(), "r1");
        assert_eq!(c.application_token.expose(), "t1");
        assert_eq!(
            c.client_endpoint.as_deref(),
            Some("https://a.bitrix24.ru/rest/")
        );
        assert!(!c.frame);

        let frame = b"AUTH_ID=a1&AUTH_EXPIRES=3600&REFRESH_ID=r1&member_id=m1&APPLICATION_TOKEN=t1";
        let c = read_claim(frame, Some("DOMAIN=a.bitrix24.ru&PROTOCOL=1&LANG=ru")).unwrap();
        assert_eq!(
            c.client_endpoint.as_deref(),
            Some("https://a.bitrix24.ru/rest/")
        );
        assert!(c.frame);

        for bad in [
            &b""[..],
            b"event=ONAPPUNINSTALL&auth%5Bmember_id%5D=m1",
            b"event=ONAPPINSTALL&auth%5Bmember_id%5D=m1&auth%5Brefresh_token%5D=r",
            b"event=ONAPPINSTALL&auth=flat",
            b"AUTH_ID=a&member_id=m1&APPLICATION_TOKEN=t",
            b"[1]",
        ] {
            assert!(
                matches!(read_claim(bad, None), Err(InstallError::Malformed(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // A refused claim's error does not echo a token.
        let e = read_claim(
            b"event=ONAPPINSTALL&auth%5Bmember_id%5D=m1&auth%5Brefresh_token%5D=r-secret",
            None,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(!e.contains("r-secret"), "{e}");
    }

    proptest::proptest! {
        /// Any body and query: a claim or a typed error, never a panic, and an error never
        /// shows a token the body carried.
        #[test]
        fn any_install_body_is_a_claim_or_a_typed_error(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            query in proptest::option::of("[A-Za-z_=&%0-9\\[\\]]{0,60}"),
            shape in 0usize..3,
        ) {
            let mut body = body;
            // Steer some cases into the shapes the reader looks for.
            let prefix: &[u8] = match shape {
                0 => b"event=ONAPPINSTALL&auth%5Brefresh_token%5D=tok-secret-9&",
                1 => b"REFRESH_ID=tok-secret-9&APPLICATION_TOKEN=app-secret-9&",
                _ => b"",
            };
            body.splice(0..0, prefix.iter().copied());
            match read_claim(&body, query.as_deref()) {
                Ok(c) => proptest::prop_assert!(!c.member_id.is_empty()),
                Err(e) => {
                    let text = format!("{e} {e:?}");
                    proptest::prop_assert!(!text.contains("tok-secret-9") && !text.contains("app-secret-9"), "{}", text);
                }
            }
        }
    }

    #[test]
    fn oauth_codes_are_tamed() {
        assert_eq!(shown_code("invalid_grant"), "invalid_grant");
        assert_eq!(shown_code("bad\n\u{1b}[31m<x>"), "bad31mx");
    }
}
