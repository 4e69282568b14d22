//! The axum routes: `POST /install` and `POST /events`.
//!
//! Answers (the portal reads only the status; bodies are short and carry no detail):
//!
//! | case | status |
//! | --- | --- |
//! | event verified and handled, or no handler for it | 200 |
//! | install verified and stored, events bound | 200 |
//! | uninstall verified, portal removed | 200 |
//! | `ONOFFLINEEVENT` verified: the offline consumer polls that portal at once | 200 |
//! | body not an event / not an install request, or a verified event whose data does not decode | 400 |
//! | forged event: missing or wrong `application_token`, unknown or uninstalled portal, or an install the authorization server did not confirm | 401 |
//! | body larger than the limit | 413 |
//! | a handler failed (the portal's queue records a failed delivery; it does not resend) | 500 |
//! | the store, the authorization server or event binding failed | 502 / 503 |

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use b24_openlines::{ApplicationToken, EventError, PortalClaim};

use crate::app::{App, DispatchError, Dispatched};
use crate::events::Event;
use crate::handlers::EventSource;
use crate::install::InstallError;

fn reply(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{{\"status\":\"{text}\"}}"),
    )
        .into_response()
}

impl App {
    /// The routes to mount (`Router::new().nest("/b24", app.router())`):
    /// `POST /install` takes the install request, `POST /events` every event of every
    /// installed portal (the URL given to [`crate::AppBuilder::events_url`]).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/install", post(install_route))
            .route("/events", post(events_route))
            .layer(DefaultBodyLimit::max(self.inner.max_body_bytes))
            .with_state(self.clone())
    }

    /// Handles one event POST body as the events endpoint does, and returns the status it
    /// answers (for use outside axum).
    pub async fn handle_event_body(&self, body: &[u8]) -> u16 {
        self.event_response(body).await.status().as_u16()
    }

    async fn event_response(&self, body: &[u8]) -> Response {
        // The claims are read as the parser reads them; the token looked up for them is
        // checked by `parse_with` below.
        let b24_core::event::Claims {
            event, member_id, ..
        } = b24_core::event::claims(body);
        let Some(event) = event.filter(|e| !e.trim().is_empty()) else {
            return reply(StatusCode::BAD_REQUEST, "not an event");
        };
        if event.trim().eq_ignore_ascii_case("ONAPPINSTALL") {
            return self.install_response(body, None).await;
        }
        let Some(member_id) = member_id.filter(|m| !m.is_empty()) else {
            tracing::warn!("refused an event that names no portal");
            return reply(StatusCode::UNAUTHORIZED, "unauthorized");
        };
        let installation = match self.inner.store.portal(&member_id).await {
            Ok(Some(i)) => i,
            Ok(None) => {
                tracing::warn!(member_id = %shown(&member_id), "refused an event of a portal that is not installed");
                return reply(StatusCode::UNAUTHORIZED, "unauthorized");
            }
            Err(e) => {
                tracing::error!(error = %e, "store lookup failed");
                return reply(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
            }
        };
        let expected = ApplicationToken::new(installation.application_token.expose());
        // The token looked up belongs to `member_id`; it is offered only if the parser reads
        // the same claim, and the decoded event must name the same portal again.
        let lookup = |claim: &PortalClaim<'_>| {
            (claim.member_id == Some(member_id.as_str())).then(|| expected.clone())
        };
        let event = match Event::parse_with(body, lookup) {
            Ok(e) => e,
            Err(e @ EventError::Forged { .. }) => {
                tracing::warn!(error = %e, "refused a forged event");
                return reply(StatusCode::UNAUTHORIZED, "unauthorized");
            }
            Err(e) => {
                tracing::warn!(error = %e, "a verified event does not decode");
                return reply(StatusCode::BAD_REQUEST, "bad event");
            }
        };
        if event.auth().member_id.as_deref() != Some(member_id.as_str()) {
            tracing::warn!("refused an event whose decoded portal differs from the verified one");
            return reply(StatusCode::UNAUTHORIZED, "unauthorized");
        }
        if event.name().eq_ignore_ascii_case("ONAPPUNINSTALL") {
            return match self.uninstall(&member_id).await {
                Ok(_) => reply(StatusCode::OK, "success"),
                Err(e) => {
                    tracing::error!(error = %e, "uninstall failed");
                    reply(StatusCode::SERVICE_UNAVAILABLE, "unavailable")
                }
            };
        }
        if event.name().eq_ignore_ascii_case("ONOFFLINEEVENT") {
            // The queue has new records: the offline consumer polls this portal now.
            self.inner.offline_signal.signal(&member_id);
            return reply(StatusCode::OK, "success");
        }
        let name = event.name().to_string();
        match self.dispatch(&installation, event, EventSource::Http).await {
            Ok(Dispatched::Handled) => reply(StatusCode::OK, "success"),
            Ok(Dispatched::Unhandled) => {
                tracing::debug!(event = %shown(&name), "no handler");
                reply(StatusCode::OK, "success")
            }
            Err(e @ DispatchError::Handler(_)) => {
                tracing::warn!(event = %shown(&name), member_id = %member_id, error = %e, "event handler failed");
                reply(StatusCode::INTERNAL_SERVER_ERROR, "error")
            }
            Err(e @ DispatchError::Client(_)) => {
                tracing::error!(event = %shown(&name), member_id = %member_id, error = %e, "no client for the portal");
                reply(StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
        }
    }

    async fn install_response(&self, body: &[u8], query: Option<&str>) -> Response {
        match self.install(body, query).await {
            Ok(_) if installation_was_frame(body) => frame_page(),
            Ok(_) => reply(StatusCode::OK, "success"),
            Err(e) => {
                let status = match &e {
                    InstallError::Malformed(_) => StatusCode::BAD_REQUEST,
                    InstallError::Unverified { .. } => StatusCode::UNAUTHORIZED,
                    InstallError::VerifierUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                    InstallError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
                    InstallError::Bind(_) | InstallError::Hook(_) => StatusCode::BAD_GATEWAY,
                };
                tracing::warn!(error = %e, "install refused or failed");
                reply(status, "error")
            }
        }
    }
}

fn installation_was_frame(body: &[u8]) -> bool {
    b24_core::event::claims(body)
        .event
        .is_none_or(|e| e.is_empty())
}

/// The frame install page's answer: tells the portal the install is finished.
fn frame_page() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html><html><head><script src=\"//api.bitrix24.com/api/v1/\"></script></head>\
         <body><script>BX24.init(function(){BX24.installFinish();});</script></body></html>",
    )
        .into_response()
}

/// An unverified claim as logs show it: printable, at most 64 characters.
fn shown(claim: &str) -> String {
    claim
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(64)
        .collect()
}

async fn install_route(State(app): State<App>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    app.install_response(&body, query.as_deref()).await
}

async fn events_route(State(app): State<App>, body: Bytes) -> Response {
    app.event_response(&body).await
}
