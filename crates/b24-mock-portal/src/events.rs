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

/// One event the portal POSTed (or tried to) to an application's handler.
#[derive(Clone, PartialEq, Eq)]
pub struct EventDelivery {
    /// The event, upper case as the portal sends it (`ONIMCONNECTORMESSAGEADD`).
    pub event: String,
    /// The handler URL.
    pub handler: String,
    /// The application whose binding it was.
    pub client_id: String,
    /// The handler's HTTP status, or why there was none.
    pub outcome: Result<u16, String>,
}

impl std::fmt::Debug for EventDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The handler URL may carry a secret in its query; show its path only.
        let shown = self
            .handler
            .split_once('?')
            .map_or(self.handler.as_str(), |(path, _)| path);
        f.debug_struct("EventDelivery")
            .field("event", &self.event)
            .field("handler", &shown)
            .field("client_id", &self.client_id)
            .field("outcome", &self.outcome)
            .finish()
    }
}

/// A POST waiting for the delivery task.
pub(crate) struct Job {
    pub(crate) event: String,
    pub(crate) handler: String,
    pub(crate) client_id: String,
    pub(crate) body: String,
}

/// The portal's outgoing events: a queue served by one background task, in the order the
/// events were raised, so that an API call that raises one never waits for the handler.
pub(crate) struct Deliveries {
    tx: tokio::sync::mpsc::UnboundedSender<Job>,
    rx: std::sync::Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<Job>>>,
    log: std::sync::Mutex<Vec<EventDelivery>>,
    done: tokio::sync::watch::Sender<usize>,
}

impl Deliveries {
    pub(crate) fn new() -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        Deliveries {
            tx,
            rx: std::sync::Mutex::new(Some(rx)),
            log: std::sync::Mutex::new(Vec::new()),
            done: tokio::sync::watch::channel(0).0,
        }
    }

    /// Queues a POST.
    pub(crate) fn send(&self, job: Job) {
        // The receiver lives as long as the portal's delivery task; a send after shutdown
        // has nobody to deliver to.
        let _ = self.tx.send(job);
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Vec<EventDelivery>> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The deliveries finished so far, oldest first.
    pub(crate) fn finished(&self) -> Vec<EventDelivery> {
        self.log().clone()
    }

    /// Waits until at least `n` deliveries have finished; all of them.
    pub(crate) async fn wait(&self, n: usize) -> Vec<EventDelivery> {
        let mut rx = self.done.subscribe();
        let _ = rx.wait_for(|done| *done >= n).await;
        self.finished()
    }

    /// Records a finished delivery (the queue's, or one made outside it: an uninstall's POST).
    pub(crate) fn record(&self, delivery: EventDelivery) {
        self.log().push(delivery);
        self.done.send_modify(|n| *n += 1);
    }

    /// Forgets the finished deliveries (a reset).
    pub(crate) fn clear(&self) {
        self.log().clear();
        self.done.send_replace(0);
    }

    /// The task that POSTs the queued events; `None` if it was started already.
    pub(crate) fn worker(
        self: &std::sync::Arc<Self>,
    ) -> Option<impl std::future::Future<Output = ()>> {
        let mut rx = self.rx.lock().unwrap_or_else(|e| e.into_inner()).take()?;
        let me = std::sync::Arc::clone(self);
        Some(async move {
            while let Some(job) = rx.recv().await {
                let outcome = post_form(&job.handler, job.body)
                    .await
                    .map_err(|e| e.to_string());
                me.record(EventDelivery {
                    event: job.event,
                    handler: job.handler,
                    client_id: job.client_id,
                    outcome,
                });
            }
        })
    }
}

/// The envelope of an event the portal POSTs: `event`, `event_handler_id`, `data`, `ts`,
/// `auth`, in the portal's order.
/// The `auth[...]` block of an event the portal posts to an application (the install and
/// every online handler), in the server's key order. Only the install and ONOFFLINEEVENT
/// carry a refresh token.
pub(crate) struct EventAuth<'a> {
    pub access_token: &'a str,
    /// Unix seconds when the access token expires.
    pub expires: u64,
    pub expires_in: u64,
    pub scope: &'a str,
    pub domain: &'a str,
    pub server_endpoint: &'a str,
    pub status: &'a str,
    pub client_endpoint: &'a str,
    pub member_id: &'a str,
    pub user_id: i64,
    pub refresh_token: Option<&'a str>,
    pub application_token: &'a str,
}

impl EventAuth<'_> {
    /// The block as the envelope carries it.
    pub(crate) fn into_map(self) -> Map<String, Value> {
        let mut auth = Map::new();
        auth.insert("access_token".into(), Value::from(self.access_token));
        auth.insert("expires".into(), Value::from(self.expires));
        auth.insert("expires_in".into(), Value::from(self.expires_in));
        auth.insert("scope".into(), Value::from(self.scope));
        auth.insert("domain".into(), Value::from(self.domain));
        auth.insert("server_endpoint".into(), Value::from(self.server_endpoint));
        auth.insert("status".into(), Value::from(self.status));
        auth.insert("client_endpoint".into(), Value::from(self.client_endpoint));
        auth.insert("member_id".into(), Value::from(self.member_id));
        auth.insert("user_id".into(), Value::from(self.user_id));
        if let Some(r) = self.refresh_token {
            auth.insert("refresh_token".into(), Value::from(r));
        }
        auth.insert(
            "application_token".into(),
            Value::from(self.application_token),
        );
        auth
    }
}

pub(crate) fn envelope(
    event: &str,
    handler_id: u64,
    data: Value,
    auth: Map<String, Value>,
) -> Value {
    let ts = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut root = Map::new();
    root.insert("event".into(), Value::from(event));
    root.insert("event_handler_id".into(), Value::from(handler_id));
    root.insert("data".into(), data);
    root.insert("ts".into(), Value::from(ts));
    root.insert("auth".into(), Value::Object(auth));
    Value::Object(root)
}
