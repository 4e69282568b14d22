//! A faithful local Bitrix24 portal for tests, like `stripe-mock`: it serves every method of
//! the workspace's `spec/` over HTTP or HTTPS on loopback, with the real envelope and `time`
//! block, webhook and OAuth auth, PHP-style parameters, `batch`, paging, the leaky-bucket and
//! operating-time limits, error triggers and fault injection, and counters a test can read.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use b24_mock_portal::{MockPortal, PortalConfig};
//!
//! let portal = MockPortal::start(PortalConfig::default()).await?;
//! println!("{}", portal.webhook_url()); // http://127.0.0.1:PORT/rest/1/<secret>/
//! // ... call it ...
//! assert_eq!(portal.counters().executed("imopenlines.dialog.get"), 0);
//! portal.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! `crates/b24-mock-portal/README.md` lists the well-known trigger parameters and settings.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod batch;
mod config;
mod conn;
mod counters;
mod dialogs;
mod engine;
mod errors;
mod events;
mod faults;
mod handlers;
mod install;
mod limits;
mod oauth;
mod openlines;
mod paging;
mod params;
mod raise;
mod server;
mod specs;
mod subscriptions;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

pub use batch::MAX_BATCH;
pub use config::{
    ErrorRule, ExtraBehavior, ExtraMethod, FaultKind, FaultRule, LimitConfig, OAuthToken,
    PortalConfig, SeedChat, DEFAULT_APPLICATION_TOKEN, DEFAULT_MEMBER_ID, DEFAULT_WEBHOOK_SECRET,
    MOCK_ERROR_PARAM,
};
pub use config::{
    DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS,
};
pub use counters::{Counters, MethodCounters, UNKNOWN_METHOD};
pub use events::{DeliveryError, EventDelivery};
pub use install::Installation;
pub use oauth::{AppError, OAuthApp, TokenPair, DEFAULT_ACCESS_LIFETIME};
pub use openlines::{
    LineConversation, LineMessage, OperatorMessage, RegisteredConnector, DEFAULT_OPERATOR,
};
pub use paging::PAGE_SIZE;
pub use specs::embedded_spec_files;

use engine::Engine;
use specs::SpecSet;

/// Why a portal could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The port could not be bound.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    /// A spec file is invalid.
    #[error("invalid spec: {0}")]
    Spec(#[from] b24_spec::SpecError),
    /// The certificate could not be made.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
}

/// A running portal on 127.0.0.1. Stops when dropped or on [`MockPortal::shutdown`].
pub struct MockPortal {
    addr: SocketAddr,
    tls: bool,
    ca_pem: Option<String>,
    webhook_user: String,
    webhook_secret: String,
    engine: Arc<Engine>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The task that POSTs events to handlers.
    delivery: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for MockPortal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockPortal")
            .field("base_url", &self.base_url())
            .finish_non_exhaustive()
    }
}

impl MockPortal {
    /// Starts a portal; it serves until dropped. Must run inside a Tokio runtime.
    pub async fn start(mut config: PortalConfig) -> Result<MockPortal, StartError> {
        let specs = match &config.spec_dir {
            Some(dir) => SpecSet::from_dir(dir)?,
            None => SpecSet::embedded()?,
        };
        let tls = if config.tls {
            Some(tls::generate(&[
                "localhost".to_string(),
                "127.0.0.1".to_string(),
            ])?)
        } else {
            None
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        // The port picked for 0: the admin endpoints compare `Origin` with it.
        config.port = addr.port();
        let webhook_user = config.webhook_user.clone();
        let webhook_secret = config.webhook_secret.clone();
        let engine = Arc::new(Engine::new(config, specs, &handlers::REGISTRY));
        let (shutdown, rx) = tokio::sync::watch::channel(false);
        let acceptor = tls
            .as_ref()
            .map(|t| tokio_rustls::TlsAcceptor::from(t.server_config.clone()));
        let task = tokio::spawn(conn::accept_loop(listener, engine.clone(), acceptor, rx));
        let delivery = engine.deliveries.worker().map(tokio::spawn);
        Ok(MockPortal {
            addr,
            tls: tls.is_some(),
            ca_pem: tls.map(|t| t.ca_pem),
            webhook_user,
            webhook_secret,
            engine,
            shutdown,
            task: Some(task),
            delivery,
        })
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/` (or `https://`).
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/", self.addr)
    }

    /// The incoming webhook: `http://127.0.0.1:PORT/rest/<user>/<secret>/`.
    pub fn webhook_url(&self) -> String {
        format!(
            "{}rest/{}/{}/",
            self.base_url(),
            self.webhook_user,
            self.webhook_secret
        )
    }

    /// PEM of the CA that signed the HTTPS certificate (`None` over plain HTTP).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Writes [`MockPortal::ca_pem`] to `path` for clients to trust. The file is replaced as a
    /// whole (written next to it, then renamed over it), and whatever is at `path`, a symlink
    /// included, is replaced rather than followed. An error over plain HTTP (there is no CA).
    pub fn write_ca_file(&self, path: &std::path::Path) -> std::io::Result<()> {
        let pem = self.ca_pem.as_deref().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the portal serves plain HTTP: there is no CA",
            )
        })?;
        tls::write_replacing(path, pem.as_bytes())
    }

    /// A snapshot of the counters.
    pub fn counters(&self) -> Counters {
        self.engine.counters()
    }

    /// Current level of the leaky bucket (requests not yet drained).
    pub fn bucket_level(&self) -> f64 {
        self.engine.bucket_level()
    }

    /// Empties the leaky bucket and forgets accumulated operating time.
    pub fn reset_limits(&self) {
        self.engine.reset_limits();
    }

    /// Back to the state at start, as `POST /__mock/reset` does: counters zeroed, bucket
    /// empty, operating time forgotten, the fault generator re-seeded; the tokens issued, the
    /// installs, event handlers, offline queues, finished deliveries, connectors and
    /// conversations forgotten.
    pub fn reset(&self) {
        self.engine.reset();
    }

    /// Names of every method served (specs and extra methods).
    pub fn methods(&self) -> Vec<String> {
        self.engine.method_names()
    }

    /// Whether the portal answers `method` from its own state (seeded chats, bindings, the
    /// offline queue, connectors and conversations) rather than with the spec's first
    /// documented success: such answers depend on the calls before them.
    pub fn answers_from_state(method: &str) -> bool {
        handlers::REGISTRY.handler(method).is_some()
    }

    /// Names of every event the portal can send (its event specs), as the docs spell them.
    pub fn events(&self) -> Vec<String> {
        self.engine.event_names()
    }

    /// The payload the portal posts to a handler subscribed to `event` (any case): the
    /// event spec's documented payload with `ts` now and `auth` naming this portal and
    /// carrying [`PortalConfig::application_token`]. `None` for an unknown event.
    pub fn event_payload(&self, event: &str) -> Option<serde_json::Value> {
        self.engine
            .event_spec(event)
            .map(|spec| events::payload(&spec, &self.engine.cfg, &self.base_url()))
    }

    /// [`MockPortal::event_payload`] as the POST body the portal sends: form-encoded with
    /// PHP-style keys, exactly as PHP's `http_build_query` writes it.
    pub fn event_body(&self, event: &str) -> Option<String> {
        self.event_payload(event).map(|p| events::form_body(&p))
    }

    /// POSTs [`MockPortal::event_body`] to a handler (`http://127.0.0.1:PORT/path`), as the
    /// portal delivers an event; the handler's HTTP status.
    pub async fn deliver_event(&self, event: &str, handler: &str) -> Result<u16, DeliveryError> {
        let body = self
            .event_body(event)
            .ok_or_else(|| DeliveryError::UnknownEvent(event.to_string()))?;
        events::post_form(handler, body).await
    }

    /// The portal's `member_id` ([`PortalConfig::member_id`]).
    pub fn member_id(&self) -> &str {
        &self.engine.place.member_id
    }

    /// The portal's domain as its events and installs name it: `127.0.0.1:PORT`.
    pub fn domain(&self) -> &str {
        &self.engine.place.domain
    }

    /// `http://127.0.0.1:PORT/rest/`: where OAuth calls go (`client_endpoint`).
    pub fn client_endpoint(&self) -> String {
        self.engine.place.client_endpoint()
    }

    /// The authorization server's REST address the portal names (`server_endpoint`): this
    /// portal plays the authorization server too, so it is [`MockPortal::client_endpoint`].
    pub fn server_endpoint(&self) -> String {
        self.engine.place.client_endpoint()
    }

    /// `http://127.0.0.1:PORT/oauth/token/`: the token endpoint (what `oauth.bitrix.info`
    /// is for a real portal), for `OAuthConfig::with_token_endpoint`.
    pub fn token_endpoint(&self) -> String {
        format!("{}oauth/token/", self.base_url())
    }

    /// Issues a new token pair to the application `client_id` for the portal's administrator
    /// (user 1), as the full OAuth protocol would. An application that was never installed
    /// gets an application token here, as if installed without an install handler.
    pub fn issue_tokens(&self, client_id: &str) -> Result<TokenPair, AppError> {
        self.issue_user_tokens(client_id, oauth::ADMIN_USER)
    }

    /// Issues a token pair to `client_id` for another user of the portal: user 1 is the
    /// administrator, any other id an ordinary user (`event.offline.*` answer it
    /// `ACCESS_DENIED`, `event.bind` binds for that user only).
    pub fn issue_user_tokens(&self, client_id: &str, user_id: i64) -> Result<TokenPair, AppError> {
        let mut registry = self.engine.registry();
        let pair = registry.issue(client_id, user_id, &self.engine.place)?;
        if let Some(app) = registry.app_mut(client_id) {
            app.application_token.get_or_insert_with(oauth::new_hex32);
        }
        Ok(pair)
    }

    /// The application token of `client_id`'s current install (`auth[application_token]` of
    /// the events it receives); `None` while it is not installed.
    pub fn application_token(&self, client_id: &str) -> Option<String> {
        self.engine
            .registry()
            .app(client_id)
            .and_then(|a| a.application_token.clone())
    }

    /// Makes every access token the portal knows expired (issued ones and
    /// [`PortalConfig::oauth_tokens`]): the next call with one answers 401 `expired_token`.
    /// Refresh tokens stay valid. Returns how many tokens it expired. Also
    /// `POST /__mock/expire_tokens` (see the README).
    pub fn expire_access_tokens(&self) -> usize {
        self.engine.registry().expire(None)
    }

    /// Makes the access tokens of one application expired; how many.
    pub fn expire_app_tokens(&self, client_id: &str) -> usize {
        self.engine.registry().expire(Some(client_id))
    }

    /// Makes one access token expired; whether the portal knew it.
    pub fn expire_access_token(&self, token: &str) -> bool {
        self.engine.registry().expire_one(token)
    }

    /// Makes every request to the token endpoint answer this error code
    /// (`PAYMENT_REQUIRED`, `invalid_client`...), or answer normally again with `None`.
    pub fn set_token_endpoint_error(&self, code: Option<&str>) {
        self.engine.registry().forced_error = code.map(str::to_string);
    }

    /// Raises `event` (any case, e.g. `OnImConnectorMessageAdd` or `ONAPPTEST`) with `data`
    /// as the portal does when something happens: every installed application bound to it
    /// gets it, an online binding as a POST to its handler (form-encoded, with the `auth`
    /// block: a fresh access token for the binding's user, or user 1, and the application's
    /// token) from a background task, an offline binding in its queue (coalesced with an
    /// unreserved record of the same event and data). Returns how many bindings it reached;
    /// see [`MockPortal::deliveries`] for the POSTs.
    pub fn raise_event(&self, event: &str, data: serde_json::Value) -> usize {
        self.engine
            .raise(event, &data, None, oauth::ADMIN_USER, None)
    }

    /// Installs the application `client_id` (configured in [`PortalConfig::apps`]) the way
    /// the portal installs an application without interface: it POSTs the `ONAPPINSTALL`
    /// event to `handler` (the "installation handler URL" of the application's form; a
    /// loopback `http://` URL), form-encoded as PHP writes it, with `data[VERSION]`,
    /// `data[ACTIVE]=Y`, `data[INSTALLED]=Y`, `data[LANGUAGE_ID]` and the `auth` block:
    /// `access_token`, `expires`, `expires_in`, `scope`, `domain`, `server_endpoint`,
    /// `status`, `client_endpoint`, `member_id`, `user_id`, `refresh_token` and
    /// `application_token`. Every install issues a fresh token pair and application token;
    /// a reinstall revokes the old tokens and drops the handlers the application bound (it
    /// binds them again, as after an update). The application is installed whatever the
    /// handler answers ([`Installation::handler`]).
    pub async fn install_app(
        &self,
        client_id: &str,
        handler: &str,
    ) -> Result<Installation, AppError> {
        self.install(client_id, handler, install::Style::Callback)
            .await
    }

    /// Installs `client_id` the way an application with interface is installed: its install
    /// page `page` (loopback `http://`) gets the POST a page opened in Bitrix24's frame gets
    /// (`settings/oauth/simple-way.md`): `AUTH_ID`, `AUTH_EXPIRES`, `REFRESH_ID`,
    /// `SERVER_ENDPOINT`, `APPLICATION_TOKEN`, `APPLICATION_SCOPE`, `member_id`, `status`,
    /// `PLACEMENT=DEFAULT`, `PLACEMENT_OPTIONS` in the body and `DOMAIN`, `PROTOCOL`, `LANG`,
    /// `APP_SID` in the query. The page's `BX24.installFinish()` is taken as done: events flow
    /// at once.
    pub async fn install_app_page(
        &self,
        client_id: &str,
        page: &str,
    ) -> Result<Installation, AppError> {
        self.install(client_id, page, install::Style::Page).await
    }

    async fn install(
        &self,
        client_id: &str,
        url: &str,
        style: install::Style,
    ) -> Result<Installation, AppError> {
        let (tokens, application_token) = self.engine.install(client_id)?;
        let app = self
            .engine
            .registry()
            .app(client_id)
            .map(|a| a.app.clone())
            .ok_or_else(|| AppError::UnknownApp(client_id.to_string()))?;
        let handler = match style {
            install::Style::Callback => {
                let payload = install::install_event(&app, &tokens, &application_token, "en", 1);
                events::post_form(url, events::form_body(&payload)).await
            }
            install::Style::Page => {
                let (body, query) =
                    install::install_page(&tokens, &application_token, "en", self.tls);
                events::post_form(&install::with_query(url, &query), events::form_body(&body)).await
            }
        }
        .map_err(|e| e.to_string());
        Ok(Installation {
            tokens,
            application_token,
            handler,
        })
    }

    /// Uninstalls `client_id`: every `ONAPPUNINSTALL` handler it bound gets the event
    /// (`data[LANGUAGE_ID]`, `data[CLEAN]` = `clean`, and an `auth` block with `domain`,
    /// `server_endpoint`, `client_endpoint`, `member_id` and the gone install's
    /// `application_token`, no tokens), awaited here and listed in
    /// [`MockPortal::deliveries`]; then its tokens (access and refresh), handlers, offline
    /// queue and connectors are gone, and events stop. Returns those POSTs.
    pub async fn uninstall_app(
        &self,
        client_id: &str,
        clean: bool,
    ) -> Result<Vec<EventDelivery>, AppError> {
        let (handlers, application_token, _status) = self.engine.uninstall(client_id)?;
        let mut sent = Vec::new();
        for b in handlers {
            let payload =
                install::uninstall_event(&self.engine.place, &application_token, "en", clean, b.id);
            let outcome = events::post_form(&b.handler, events::form_body(&payload))
                .await
                .map_err(|e| e.to_string());
            let delivery = EventDelivery {
                event: "ONAPPUNINSTALL".into(),
                handler: b.handler.clone(),
                client_id: client_id.to_string(),
                outcome,
            };
            self.engine.deliveries.record(delivery.clone());
            sent.push(delivery);
        }
        Ok(sent)
    }

    /// Whether `client_id` is installed (by [`MockPortal::install_app`], or implicitly by
    /// [`MockPortal::issue_tokens`]).
    pub fn is_installed(&self, client_id: &str) -> bool {
        self.application_token(client_id).is_some()
    }

    /// An operator (user [`DEFAULT_OPERATOR`]) writes `text` in the open line `line`, in the
    /// conversation with the external chat `chat` (the `chat.id` a connector sent with
    /// `imconnector.send.messages`). As on the real portal (`imopenlines` Connector::
    /// sendMessage), this raises `OnImConnectorMessageAdd` for the application that
    /// registered the conversation's connector, and `OnOpenLineMessageAdd` for every
    /// application bound to it. The message waits in the conversation, `delivered: false`,
    /// until the connector calls `imconnector.send.status.delivery`. An error when no such
    /// conversation exists.
    pub fn operator_message(
        &self,
        line: i64,
        chat: &str,
        text: &str,
    ) -> Result<OperatorMessage, AppError> {
        self.operator_message_as(DEFAULT_OPERATOR, line, chat, text)
    }

    /// [`MockPortal::operator_message`] from another operator (a user id).
    pub fn operator_message_as(
        &self,
        operator: i64,
        line: i64,
        chat: &str,
        text: &str,
    ) -> Result<OperatorMessage, AppError> {
        let (sent, events) = self
            .engine
            .lines()
            .operator_message(line, chat, operator, text)
            .ok_or_else(|| AppError::UnknownChat {
                line,
                chat: chat.to_string(),
            })?;
        self.engine.raise_all(events, operator, None);
        Ok(sent)
    }

    /// The conversations of the open line `line` (every line with `None`), in the order
    /// they began, with their messages: what connectors delivered into the portal and what
    /// operators wrote back.
    pub fn conversations(&self, line: Option<i64>) -> Vec<LineConversation> {
        self.engine
            .lines()
            .conversations
            .iter()
            .filter(|c| line.is_none_or(|l| c.line == l))
            .cloned()
            .collect()
    }

    /// The connectors applications registered (`imconnector.register`), with the lines they
    /// are active on.
    pub fn connectors(&self) -> Vec<RegisteredConnector> {
        self.engine.lines().connectors.clone()
    }

    /// The events POSTed to handlers so far (finished: answered or failed), oldest first.
    pub fn deliveries(&self) -> Vec<EventDelivery> {
        self.engine.deliveries.finished()
    }

    /// Waits until at least `n` events have been POSTed (answered or failed) since the start
    /// (or the last reset), then returns them all. Wrap it in a timeout.
    pub async fn wait_for_deliveries(&self, n: usize) -> Vec<EventDelivery> {
        self.engine.deliveries.wait(n).await
    }

    /// The handlers `client_id` has bound (`event.bind`), oldest first, as `event.get`
    /// lists them to an administrator.
    pub fn bindings(&self, client_id: &str) -> Vec<BoundHandler> {
        self.engine
            .subs()
            .bindings
            .iter()
            .filter(|b| b.client_id == client_id)
            .map(|b| BoundHandler {
                event: b.event.clone(),
                handler: (!b.offline()).then(|| b.handler.clone()),
                auth_type: b.user_id,
                connector_id: b.connector_id.clone(),
            })
            .collect()
    }

    /// Stops accepting, closes every connection and waits for the listener to end.
    pub async fn shutdown(mut self) {
        if let Some(d) = self.delivery.take() {
            d.abort();
        }
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// A handler an application has bound ([`MockPortal::bindings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundHandler {
    /// The event, upper case.
    pub event: String,
    /// The handler URL; `None` for an offline binding (the queue).
    pub handler: Option<String>,
    /// The user the handler is authorized as; 0 for the user who raised the event.
    pub auth_type: i64,
    /// The `auth_connector` of an offline binding (`""` for none).
    pub connector_id: String,
}

impl Drop for MockPortal {
    fn drop(&mut self) {
        if let Some(d) = self.delivery.take() {
            d.abort();
        }
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
