//! Events the portal sends to an application's handler: the documented payload of an event
//! spec, addressed from this portal and carrying its application token, form-encoded as PHP's
//! `http_build_query` writes it, and POSTed over HTTP.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use b24_spec::EventSpec;
use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Map, Value};

use crate::config::PortalConfig;

/// Why an event could not be delivered to a handler.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// No event spec has this name.
    #[error("no event spec named `{0}`")]
    UnknownEvent(String),
    /// The handler URL is not `http://` to a loopback address (the local portal only talks
    /// to the machine it runs on).
    #[error("handler URL `{0}` must be http:// to 127.0.0.1, [::1] or localhost")]
    BadHandler(String),
    /// The handler could not be reached or did not answer within 10 s.
    #[error("handler did not answer: {0}")]
    Http(String),
}

/// The payload the portal posts for `spec`: its first documented example with `ts` set to
/// now, `event_handler_id` set, and `auth` rewritten to this portal (`domain`,
/// `client_endpoint`, `member_id`, `application_token`).
pub(crate) fn payload(spec: &EventSpec, cfg: &PortalConfig, base_url: &str) -> Value {
    let mut root = spec
        .examples
        .first()
        .and_then(|e| e.body.as_object().cloned())
        .unwrap_or_default();
    root.insert("event".into(), Value::String(spec.wire_name()));
    root.entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    root.insert("ts".into(), Value::from(ts));
    if !root.contains_key("eventId") {
        root.insert("event_handler_id".into(), Value::from(1));
    }
    let mut auth = match root.remove("auth") {
        Some(Value::Object(a)) => a,
        _ => Map::new(),
    };
    let host = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .trim_end_matches('/');
    auth.insert("domain".into(), Value::String(host.to_string()));
    auth.insert(
        "client_endpoint".into(),
        Value::String(format!("{base_url}rest/")),
    );
    auth.insert("member_id".into(), Value::String(cfg.member_id.clone()));
    auth.insert(
        "application_token".into(),
        Value::String(cfg.application_token.clone()),
    );
    root.insert("auth".into(), Value::Object(auth));
    Value::Object(root)
}

/// The form body of a payload, as the portal POSTs it.
pub(crate) fn form_body(payload: &Value) -> String {
    payload
        .as_object()
        .map(b24_core::php::http_build_query)
        .unwrap_or_default()
}

/// POSTs a form body to a loopback handler; the handler's HTTP status.
pub(crate) async fn post_form(handler: &str, body: String) -> Result<u16, DeliveryError> {
    let bad = || DeliveryError::BadHandler(handler.to_string());
    let url = url::Url::parse(handler).map_err(|_| bad())?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if url.scheme() != "http" || !loopback {
        return Err(bad());
    }
    let port = url.port_or_known_default().ok_or_else(bad)?;
    let addrs: Vec<std::net::SocketAddr> = match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![(ip, port).into()],
        Some(url::Host::Ipv6(ip)) => vec![(ip, port).into()],
        // `localhost` is loopback by definition; no resolver is asked.
        _ => vec![
            (std::net::Ipv4Addr::LOCALHOST, port).into(),
            (std::net::Ipv6Addr::LOCALHOST, port).into(),
        ],
    };
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let send = async move {
        let stream = tokio::net::TcpStream::connect(&*addrs)
            .await
            .map_err(|e| DeliveryError::Http(e.to_string()))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| DeliveryError::Http(e.to_string()))?;
        tokio::spawn(conn);
        let request = hyper::Request::post(target)
            .header(hyper::header::HOST, authority)
            .header(
                hyper::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(hyper::header::USER_AGENT, "Bitrix24 Webhook Engine")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| DeliveryError::Http(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| DeliveryError::Http(e.to_string()))?;
        Ok(response.status().as_u16())
    };
    tokio::time::timeout(Duration::from_secs(10), send)
        .await
        .map_err(|_| DeliveryError::Http("timed out after 10 s".into()))?
}
