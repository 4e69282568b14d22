//! HTTP(S) on loopback: routing `/rest/...`, reading parameters, auth, faults, encoding.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{HeaderMap, Request, Response, StatusCode};
use serde_json::{Map, Value};

use crate::config::{FaultKind, PortalConfig};
use crate::engine::{AuthCtx, Engine};
use crate::errors::{portal_error, ApiErr};
use crate::params::{as_text, get_ci, parse_query};
use b24_core::PortalErrorCode;

/// The HTML page a proxy answers with when the portal behind it is down.
const BAD_GATEWAY_HTML: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// JSON the way PHP's `json_encode` writes it: compact, UTF-8 unescaped, `/` as `\/`.
pub(crate) fn encode(v: &Value) -> String {
    // Serialising a `Value` cannot fail (its keys are strings).
    serde_json::to_string(v)
        .unwrap_or_else(|_| "null".into())
        .replace('/', "\\/")
}

/// A response body: whole, or cut short by a fault.
pub(crate) enum MockBody {
    /// The whole body.
    Full(Option<Bytes>),
    /// Part of the body, a pause so it reaches the client, then an error that closes the
    /// connection.
    Truncated {
        part: Option<Bytes>,
        pause: Option<Pin<Box<tokio::time::Sleep>>>,
    },
}

/// Why a connection was closed on purpose.
#[derive(Debug)]
pub(crate) struct Dropped(&'static str);

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Dropped {}

impl Body for MockBody {
    type Data = Bytes;
    type Error = Dropped;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Dropped>>> {
        match self.get_mut() {
            MockBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            MockBody::Truncated { part, pause } => {
                if let Some(b) = part.take() {
                    return Poll::Ready(Some(Ok(Frame::data(b))));
                }
                if let Some(p) = pause {
                    if p.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    *pause = None;
                }
                Poll::Ready(Some(Err(Dropped("body truncated by fault injection"))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, MockBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            MockBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            MockBody::Full(None) => SizeHint::with_exact(0),
            MockBody::Truncated { .. } => SizeHint::default(),
        }
    }
}

fn response(status: u16, content_type: &'static str, body: String) -> Response<MockBody> {
    let mut r = Response::new(MockBody::Full(Some(Bytes::from(body))));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json_response(status: u16, body: &Value) -> Response<MockBody> {
    response(status, "application/json; charset=utf-8", encode(body))
}

/// `/rest/<user>/<secret>/<method>[.json]` or `/rest/<method>[.json]`.
struct Route {
    webhook: Option<(String, String)>,
    method: String,
}

fn route(path: &str) -> Option<Route> {
    let rest = path.strip_prefix("/rest/")?;
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let (webhook, method) = match segments.as_slice() {
        [method] => (None, *method),
        [user, secret, method] => (Some((user.to_string(), secret.to_string())), *method),
        _ => return None,
    };
    let method = method.to_ascii_lowercase();
    let method = method.strip_suffix(".json").unwrap_or(&method).to_string();
    Some(Route { webhook, method })
}

/// Query string and body merged (the body wins), PHP style.
fn request_params(headers: &HeaderMap, query: &str, body: &[u8]) -> Map<String, Value> {
    let mut params = parse_query(query);
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let body_params = if ct.contains("json") || (ct.is_empty() && first == Some(b'{')) {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    } else if ct.is_empty() || ct.contains("x-www-form-urlencoded") || ct.starts_with("text/") {
        parse_query(&String::from_utf8_lossy(body))
    } else {
        Map::new()
    };
    for (k, v) in body_params {
        params.insert(k, v);
    }
    params
}

fn authenticate(
    engine: &Engine,
    route: &Route,
    headers: &HeaderMap,
    params: &Map<String, Value>,
) -> Result<AuthCtx, ApiErr> {
    let cfg = &engine.cfg;
    if let Some((user, secret)) = &route.webhook {
        if cfg.require_https && !cfg.tls {
            return Err(portal_error(PortalErrorCode::InvalidRequest));
        }
        return if *user == cfg.webhook_user && *secret == cfg.webhook_secret {
            let user_id = crate::params::php_intval(&Value::String(user.clone()));
            Ok(AuthCtx::webhook(cfg.webhook_scopes.clone(), user_id))
        } else {
            Err(portal_error(PortalErrorCode::NoAuthFound))
        };
    }
    let bearer = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_string());
    let token = get_ci(params, "auth")
        .or_else(|| get_ci(params, "access_token"))
        .and_then(as_text)
        .filter(|t| !t.is_empty())
        .or(bearer)
        .ok_or_else(|| portal_error(PortalErrorCode::NoAuthFound))?;
    let registry = engine.registry();
    let known = registry
        .access(&token)
        .ok_or_else(|| portal_error(PortalErrorCode::NoAuthFound))?;
    if known
        .expires_at
        .is_some_and(|at| at <= std::time::SystemTime::now())
    {
        return Err(portal_error(PortalErrorCode::ExpiredToken));
    }
    Ok(AuthCtx {
        scopes: Some(known.scopes.clone()),
        webhook: false,
        client_id: known.client_id.clone(),
        user_id: known.user_id,
        admin: known.admin,
    })
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Status and body of one request, faults aside.
fn process(
    engine: &Engine,
    route: Option<&Route>,
    headers: &HeaderMap,
    query: &str,
    body: &[u8],
    start: f64,
) -> (u16, Value) {
    let Some(route) = route else {
        return err_pair(portal_error(PortalErrorCode::ErrorMethodNotFound));
    };
    if let Err(e) = engine.admit() {
        return err_pair(e);
    }
    let params = request_params(headers, query, body);
    let auth = match authenticate(engine, route, headers, &params) {
        Ok(a) => a,
        Err(e) => return err_pair(e),
    };
    if route.method == "batch" {
        return match crate::batch::batch(engine, &auth, &params) {
            Ok(result) => {
                let mut m = Map::new();
                m.insert("result".into(), result);
                m.insert("time".into(), engine.plain_time(start));
                (200, Value::Object(m))
            }
            Err(e) => err_pair(e),
        };
    }
    match engine.call(&auth, &route.method, &params, false) {
        Ok(s) => (200, s.body()),
        Err(e) => err_pair(e),
    }
}

fn err_pair(e: ApiErr) -> (u16, Value) {
    (e.status, e.body())
}

fn fault_response(
    kind: &FaultKind,
    status: u16,
    encoded: String,
) -> Result<Response<MockBody>, Dropped> {
    match kind {
        FaultKind::InternalError => Ok(json_response(
            500,
            &portal_error(PortalErrorCode::InternalServerError).body(),
        )),
        FaultKind::BadGatewayHtml => Ok(response(
            502,
            "text/html; charset=utf-8",
            BAD_GATEWAY_HTML.to_string(),
        )),
        FaultKind::DropConnection => Err(Dropped("connection dropped by fault injection")),
        FaultKind::TruncatedBody => {
            let full = Bytes::from(encoded);
            let half = full.slice(..full.len() / 2);
            let mut r = Response::new(MockBody::Truncated {
                part: Some(half),
                pause: Some(Box::pin(tokio::time::sleep(Duration::from_millis(50)))),
            });
            *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            r.headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(full.len() as u64));
            Ok(r)
        }
        // Latency is not an answer; it was applied already.
        FaultKind::Latency(_) => Ok(response(
            status,
            "application/json; charset=utf-8",
            String::new(),
        )),
    }
}

/// Prefix of the admin endpoints; outside `/rest/`, so no method can be routed there.
const ADMIN_PREFIX: &str = "/__mock/";

/// The header `POST /__mock/reset` needs (any value), unless its body is declared JSON: a
/// browser page cannot send either to another origin without a CORS preflight, which the
/// portal never grants.
pub(crate) const ADMIN_HEADER: &str = "x-b24-mock-admin";

fn admin_refusal(code: &str, message: &str) -> Response<MockBody> {
    json_response(
        403,
        &serde_json::json!({"error": code, "error_description": message}),
    )
}

/// Why an admin request looks like a browser page of another site, if it does: a
/// `Sec-Fetch-Site` other than `same-origin` or `none` (typed by the user), or an `Origin`
/// other than the portal's own (`http(s)://127.0.0.1:PORT` or `http(s)://localhost:PORT`).
/// Clients outside a browser (curl, test code) send neither.
fn cross_site(cfg: &PortalConfig, headers: &HeaderMap) -> Option<&'static str> {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("").trim();
        if !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none") {
            return Some("The admin endpoints refuse requests from other sites (Sec-Fetch-Site)");
        }
    }
    if let Some(origin) = headers.get(hyper::header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("").trim();
        let scheme = if cfg.tls { "https" } else { "http" };
        let default_port = if cfg.tls { 443 } else { 80 };
        let own = ["127.0.0.1", "localhost"].iter().any(|host| {
            origin.eq_ignore_ascii_case(&format!("{scheme}://{host}:{}", cfg.port))
                || (cfg.port == default_port
                    && origin.eq_ignore_ascii_case(&format!("{scheme}://{host}")))
        });
        if !own {
            return Some("The admin endpoints refuse requests from other origins (Origin)");
        }
    }
    None
}

/// `GET /__mock/counters` and `POST /__mock/reset` (with `admin_endpoints`). They bypass the
/// counters, the limits and the faults, and refuse what a browser page of another site could
/// send (see [`cross_site`] and [`ADMIN_HEADER`]). `None` for any other path.
fn admin(engine: &Engine, parts: &hyper::http::request::Parts) -> Option<Response<MockBody>> {
    let what = parts.uri.path().strip_prefix(ADMIN_PREFIX)?;
    let (allowed, answer) = match what {
        "counters" => (hyper::Method::GET, None),
        "reset" | "expire_tokens" => (hyper::Method::POST, Some(())),
        _ => {
            return Some(json_response(
                404,
                &serde_json::json!({"error": "NOT_FOUND", "error_description": "Unknown admin endpoint"}),
            ))
        }
    };
    if parts.method != allowed {
        return Some(json_response(
            405,
            &serde_json::json!({"error": "METHOD_NOT_ALLOWED", "error_description": format!("Use {allowed}")}),
        ));
    }
    if let Some(why) = cross_site(&engine.cfg, &parts.headers) {
        return Some(admin_refusal("CROSS_SITE_REQUEST", why));
    }
    if answer.is_some() {
        let json = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim()
                    .get(..16)
                    .is_some_and(|m| m.eq_ignore_ascii_case("application/json"))
            });
        if !json && !parts.headers.contains_key(ADMIN_HEADER) {
            return Some(admin_refusal(
                "ADMIN_HEADER_REQUIRED",
                "POST /__mock/reset and /__mock/expire_tokens need the header X-B24-Mock-Admin (any value) or Content-Type: application/json",
            ));
        }
        if what == "expire_tokens" {
            let n = engine.registry().expire(None);
            return Some(json_response(200, &serde_json::json!({"result": n})));
        }
        engine.reset();
        return Some(json_response(200, &serde_json::json!({"result": true})));
    }
    Some(json_response(200, &engine.counters().to_json()))
}

/// An answer after which the connection closes: the rest of the request is not read.
fn closing(status: u16, code: &str, message: &str) -> Response<MockBody> {
    let mut r = json_response(
        status,
        &serde_json::json!({"error": code, "error_description": message}),
    );
    r.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    r
}

/// Reads a request body of at most `max_body_bytes` within `body_read_timeout`. A body
/// announced larger (`Content-Length`) is refused unread; one that grows larger while it is
/// read (chunked, or longer than announced) is refused as soon as it does, so no more than the
/// limit is ever buffered. Both are 413, a stalled body 408; both close the connection.
async fn read_body(
    cfg: &PortalConfig,
    body: Incoming,
) -> Result<Result<Bytes, Response<MockBody>>, Dropped> {
    let limit = cfg.max_body_bytes;
    let too_large = || {
        closing(
            413,
            "REQUEST_ENTITY_TOO_LARGE",
            &format!("The request body is larger than {limit} bytes"),
        )
    };
    // hyper's size hint of a request body is its Content-Length.
    if body.size_hint().lower() > limit as u64 {
        return Ok(Err(too_large()));
    }
    let read = Limited::new(body, limit).collect();
    match tokio::time::timeout(cfg.body_read_timeout, read).await {
        Ok(Ok(collected)) => Ok(Ok(collected.to_bytes())),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Ok(Err(too_large())),
        Ok(Err(_)) => Err(Dropped("request body could not be read")),
        Err(_) => Ok(Err(closing(
            408,
            "REQUEST_TIMEOUT",
            "The request body did not arrive within the body read timeout",
        ))),
    }
}

/// `/oauth/token/` (with or without the last slash): the authorization server's token
/// endpoint, which this portal plays too.
fn is_token_endpoint(path: &str) -> bool {
    path == "/oauth/token/" || path == "/oauth/token"
}

/// The token endpoint: `grant_type=refresh_token&client_id&client_secret&refresh_token` in the
/// query (a GET, as the docs show it) or a form body; answers like `oauth.bitrix.info`. It is
/// not a REST call: no bucket, no faults, not in `requests` (in `token_requests`).
async fn token_endpoint(
    engine: &Engine,
    parts: &hyper::http::request::Parts,
    body: Incoming,
) -> Result<Response<MockBody>, Dropped> {
    let body = match read_body(&engine.cfg, body).await? {
        Ok(body) => body,
        Err(refusal) => return Ok(refusal),
    };
    if parts.method != hyper::Method::GET && parts.method != hyper::Method::POST {
        return Ok(json_response(
            405,
            &serde_json::json!({"error": "invalid_request", "error_description": "Use GET or POST"}),
        ));
    }
    let params = request_params(&parts.headers, parts.uri.query().unwrap_or(""), &body);
    let (status, answer) = engine.token_request(&params);
    Ok(json_response(status, &answer))
}

/// Handles one HTTP request. An `Err` closes the connection without an answer.
pub(crate) async fn handle(
    engine: Arc<Engine>,
    req: Request<Incoming>,
) -> Result<Response<MockBody>, Dropped> {
    let (parts, body) = req.into_parts();
    if engine.cfg.admin_endpoints {
        if let Some(r) = admin(&engine, &parts) {
            return Ok(r);
        }
    }
    if is_token_endpoint(parts.uri.path()) {
        return token_endpoint(&engine, &parts, body).await;
    }
    engine.note_request();
    let start = now_secs();
    // The body first: a request refused here takes no fault decision.
    let body = match read_body(&engine.cfg, body).await? {
        Ok(body) => body,
        Err(refusal) => return Ok(refusal),
    };
    let route = route(parts.uri.path());
    let method = route.as_ref().map(|r| r.method.clone()).unwrap_or_default();
    let plan = engine.plan_faults(&method);
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    if let Some((kind, false)) = &plan.fault {
        // A JSON 500 and a cut-off answer passed the bucket when they were planned
        // (`FaultKind::reaches_portal`); a proxy's HTML 502 and a dropped connection never
        // reached it.
        if *kind != FaultKind::TruncatedBody {
            return fault_response(kind, 500, String::new());
        }
        let mut m = Map::new();
        m.insert("result".into(), Value::Array(Vec::new()));
        m.insert("time".into(), engine.plain_time(start));
        return fault_response(kind, 200, encode(&Value::Object(m)));
    }
    let (status, value) = process(
        &engine,
        route.as_ref(),
        &parts.headers,
        parts.uri.query().unwrap_or(""),
        &body,
        start,
    );
    if let Some((kind, true)) = &plan.fault {
        return fault_response(kind, status, encode(&value));
    }
    Ok(json_response(status, &value))
}
