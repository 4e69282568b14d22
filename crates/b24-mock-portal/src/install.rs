//! Installing an application the way the portal does it (`settings/app-installation/`,
//! `settings/oauth/simple-way.md`, `api-reference/common/events/on-app-install.md`,
//! `on-app-uninstall.md`): the installation callback's `ONAPPINSTALL` POST, or the install
//! page's POST of `AUTH_ID`/`REFRESH_ID`, and `ONAPPUNINSTALL` to the application's handlers.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::config::REDACTED;
use crate::oauth::{OAuthApp, Place, TokenPair};

/// What an install left: the tokens the application received, its application token, and
/// what its handler answered. Its `Debug` hides the tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct Installation {
    /// The token pair of the installing administrator (user 1), as posted to the handler.
    pub tokens: TokenPair,
    /// The application token of this install (`auth[application_token]` of every event,
    /// `APPLICATION_TOKEN` of the install page).
    pub application_token: String,
    /// The handler's HTTP status, or why there was none. The portal installs the application
    /// whatever the handler answers, as the real one does.
    pub handler: Result<u16, String>,
}

impl std::fmt::Debug for Installation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installation")
            .field("tokens", &self.tokens)
            .field("application_token", &REDACTED)
            .field("handler", &self.handler)
            .finish()
    }
}

/// How the application receives its first tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// The installation callback of an application without interface: an `ONAPPINSTALL`
    /// event POST with the `auth` block (refresh token included).
    Callback,
    /// The install page of an application with interface, opened in a frame: a POST with
    /// `AUTH_ID`, `REFRESH_ID`... (`settings/oauth/simple-way.md`); the page then calls
    /// `BX24.installFinish()`, which the local portal takes as done.
    Page,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The `ONAPPINSTALL` payload of the installation callback.
pub(crate) fn install_event(
    app: &OAuthApp,
    pair: &TokenPair,
    application_token: &str,
    language: &str,
    handler_id: u64,
) -> Value {
    let mut data = Map::new();
    data.insert("VERSION".into(), Value::from(app.version.clone()));
    data.insert("ACTIVE".into(), Value::from("Y"));
    data.insert("INSTALLED".into(), Value::from("Y"));
    data.insert("LANGUAGE_ID".into(), Value::from(language));
    // The exception among events: the install carries the refresh token.
    let auth = crate::events::EventAuth {
        access_token: &pair.access_token,
        expires: now() + pair.expires_in,
        expires_in: pair.expires_in,
        scope: &pair.scope,
        domain: &pair.domain,
        server_endpoint: &pair.server_endpoint,
        status: &pair.status,
        client_endpoint: &pair.client_endpoint,
        member_id: &pair.member_id,
        user_id: pair.user_id,
        refresh_token: Some(&pair.refresh_token),
        application_token,
    }
    .into_map();
    crate::events::envelope("ONAPPINSTALL", handler_id, Value::Object(data), auth)
}

/// The install page's POST body and the query string the portal adds to the page's URL.
pub(crate) fn install_page(
    pair: &TokenPair,
    application_token: &str,
    language: &str,
    tls: bool,
) -> (Value, String) {
    let mut body = Map::new();
    body.insert("AUTH_ID".into(), Value::from(pair.access_token.clone()));
    body.insert("AUTH_EXPIRES".into(), Value::from(pair.expires_in));
    body.insert("REFRESH_ID".into(), Value::from(pair.refresh_token.clone()));
    body.insert(
        "SERVER_ENDPOINT".into(),
        Value::from(pair.server_endpoint.clone()),
    );
    body.insert("APPLICATION_TOKEN".into(), Value::from(application_token));
    body.insert("APPLICATION_SCOPE".into(), Value::from(pair.scope.clone()));
    body.insert("member_id".into(), Value::from(pair.member_id.clone()));
    body.insert("status".into(), Value::from(pair.status.clone()));
    body.insert("PLACEMENT".into(), Value::from("DEFAULT"));
    body.insert("PLACEMENT_OPTIONS".into(), Value::from("{}"));
    let mut query = Map::new();
    query.insert("DOMAIN".into(), Value::from(pair.domain.clone()));
    query.insert("PROTOCOL".into(), Value::from(if tls { "1" } else { "0" }));
    query.insert("LANG".into(), Value::from(language));
    query.insert("APP_SID".into(), Value::from(crate::oauth::new_hex32()));
    (Value::Object(body), b24_core::php::http_build_query(&query))
}

/// The `ONAPPUNINSTALL` payload: no tokens, only where it comes from and the application
/// token of the install that is gone.
pub(crate) fn uninstall_event(
    place: &Place,
    application_token: &str,
    language: &str,
    clean: bool,
    handler_id: u64,
) -> Value {
    let mut data = Map::new();
    data.insert("LANGUAGE_ID".into(), Value::from(language));
    data.insert("CLEAN".into(), Value::from(i64::from(clean)));
    let mut auth = Map::new();
    auth.insert("domain".into(), Value::from(place.domain.clone()));
    auth.insert(
        "server_endpoint".into(),
        Value::from(place.client_endpoint()),
    );
    auth.insert(
        "client_endpoint".into(),
        Value::from(place.client_endpoint()),
    );
    auth.insert("member_id".into(), Value::from(place.member_id.clone()));
    auth.insert("application_token".into(), Value::from(application_token));
    crate::events::envelope("ONAPPUNINSTALL", handler_id, Value::Object(data), auth)
}

/// `url` with `query` appended.
pub(crate) fn with_query(url: &str, query: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}
