//! [`App`]: the application's configuration, its store, its handlers and one cached client
//! per installed portal.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use b24_openlines::event;
use b24_openlines::{
    Client, ClientBuilder, ConfigError, OAuthConfig, OAuthTokens, RateLimiter, Secret, StoreError,
    TokenCoordinator, TokenStore,
};
use url::Url;

use crate::events::{Event, TypedEvent};
use crate::handlers::{EventContext, EventSource, HandlerError, Handlers};
use crate::store::{AppStore, AppStoreError, Installation};

/// The events every install binds to the events endpoint besides the handlers' own: the
/// uninstall notice.
pub(crate) const ON_APP_UNINSTALL: &str = "OnAppUninstall";

/// The portal's signal that the offline queue has new records, bound to the events URL when
/// both delivery paths are configured.
pub(crate) const ON_OFFLINE_EVENT: &str = "OnOfflineEvent";

/// Why an [`App`] operation failed. Never carries a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The portal is not installed (never was, or was uninstalled).
    #[error("portal `{member_id}` is not installed")]
    NotInstalled {
        /// The portal asked for.
        member_id: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] AppStoreError),
    /// The portal's client could not be built (a stored endpoint that is not https...).
    #[error("cannot build the client of portal `{member_id}`: {source}")]
    Client {
        /// The portal.
        member_id: String,
        /// Why.
        source: ConfigError,
    },
    /// A REST call of the application's own (binding events, the offline queue) failed.
    #[error("`{method}` on portal `{member_id}` failed: {source}")]
    Call {
        /// The portal.
        member_id: String,
        /// The method.
        method: &'static str,
        /// The client's error (never shows a token).
        source: Box<b24_openlines::Error>,
    },
}

/// Why building an [`App`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// [`AppBuilder::store`] was not called.
    #[error("no store configured (AppBuilder::store)")]
    NoStore,
    /// A URL is not acceptable.
    #[error("{what}: {reason}")]
    Url {
        /// Which setting.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The HTTP client for install verification could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
}

type Tune = Arc<dyn Fn(ClientBuilder) -> ClientBuilder + Send + Sync>;

type PerPortal = Arc<dyn Fn(&str) -> PortalShare + Send + Sync>;

/// What the clients of one portal share with other processes (replicas of the application):
/// its rate-limit bucket and its OAuth refresh. From an [`AppBuilder::per_portal`] hook, one
/// per portal (`b24-fleet` hands out Redis-backed ones).
#[derive(Default, Clone)]
#[must_use]
pub struct PortalShare {
    limiter: Option<Arc<dyn RateLimiter>>,
    coordinator: Option<Arc<dyn TokenCoordinator>>,
}

impl PortalShare {
    /// Nothing shared: the client's own bucket and an in-process refresh.
    pub fn new() -> PortalShare {
        PortalShare::default()
    }

    /// The portal's rate limiter, shared by every replica (replaces the client's own bucket).
    pub fn limiter(mut self, limiter: Arc<dyn RateLimiter>) -> PortalShare {
        self.limiter = Some(limiter);
        self
    }

    /// The portal's refresh coordinator: a refresh runs in one replica at a time and the
    /// others take the pair it got ([`OAuthConfig::with_coordinator`]).
    pub fn coordinator(mut self, coordinator: Arc<dyn TokenCoordinator>) -> PortalShare {
        self.coordinator = Some(coordinator);
        self
    }
}

impl fmt::Debug for PortalShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PortalShare")
            .field("limiter", &self.limiter.is_some())
            .field("coordinator", &self.coordinator.is_some())
            .finish()
    }
}

/// A hook run after each install.
pub(crate) type InstallHook = Arc<
    dyn Fn(Installation, Client) -> Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send>>
        + Send
        + Sync,
>;

/// Settings and handlers of an [`App`]; from [`App::builder`].
#[must_use]
pub struct AppBuilder {
    client_id: String,
    client_secret: Secret,
    token_endpoint: Url,
    oauth_servers: Vec<(String, Url)>,
    events_url: Option<Url>,
    offline: bool,
    store: Option<Arc<dyn AppStore>>,
    tune: Option<Tune>,
    per_portal: Option<PerPortal>,
    handlers: Handlers,
    on_install: Option<InstallHook>,
    verify_timeout: Duration,
    max_body_bytes: usize,
}

impl fmt::Debug for AppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("token_endpoint", &self.token_endpoint.as_str())
            .field("events_url", &self.events_url.as_ref().map(Url::as_str))
            .field("offline", &self.offline)
            .field("events", &self.handlers.event_names())
            .finish_non_exhaustive()
    }
}

/// The default largest event or install body read: 1 MiB (an event with 50 messages is a
/// few tens of KiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

fn check_https(url: &Url, what: &'static str) -> Result<(), BuildError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if b24_runtime::is_loopback(url) => Ok(()),
        _ => Err(BuildError::Url {
            what,
            reason: "must be https (plain http only to loopback)".into(),
        }),
    }
}

impl AppBuilder {
    /// The OAuth server's token endpoint (default
    /// [`b24_openlines::DEFAULT_TOKEN_ENDPOINT`]): token refreshes and install verification
    /// go there, never to an endpoint an install request names.
    pub fn token_endpoint(mut self, url: Url) -> Self {
        self.token_endpoint = url;
        self
    }

    /// Trusts one more authorization server: an install whose `server_endpoint` is
    /// `server_endpoint` is verified, and its tokens refreshed, at `token_endpoint` instead of
    /// the default [`AppBuilder::token_endpoint`]. An install naming any other server still
    /// goes to the default: a request cannot pick a server that is not listed here.
    pub fn oauth_server(mut self, server_endpoint: impl Into<String>, token_endpoint: Url) -> Self {
        self.oauth_servers
            .push((normalize_endpoint(&server_endpoint.into()), token_endpoint));
        self
    }

    /// The public URL of the events endpoint ([`App::router`]'s `/events`, as the portal
    /// reaches it): every install binds the handlers' events (unless
    /// [`AppBuilder::offline_events`]), and `OnAppUninstall`, to it.
    pub fn events_url(mut self, url: Url) -> Self {
        self.events_url = Some(url);
        self
    }

    /// Every install binds the handlers' events to the portal's offline queue
    /// (`event_type=offline`), for [`crate::OfflineConsumer`], instead of to the events URL
    /// (each event reaches the handlers once). With an events URL too, that URL still gets
    /// `OnAppUninstall`, and `OnOfflineEvent`, the portal's signal that the queue has new
    /// records, which makes [`crate::OfflineConsumer::run`] poll that portal at once.
    pub fn offline_events(mut self, on: bool) -> Self {
        self.offline = on;
        self
    }

    /// Where portals, tokens and application tokens are kept.
    pub fn store(mut self, store: Arc<dyn AppStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Adjusts every per-portal client (timeouts, rate limit, retries, a root certificate):
    /// `|b| b.timeout(Duration::from_secs(20))`.
    pub fn client_settings(
        mut self,
        tune: impl Fn(ClientBuilder) -> ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.tune = Some(Arc::new(tune));
        self
    }

    /// Called once per portal client built (`member_id` in, what it shares out): the rate
    /// limiter and the refresh coordinator that portal's clients use in every replica of the
    /// application, so that replicas drain one bucket and never exchange one portal's refresh
    /// token twice. Applied before [`AppBuilder::client_settings`].
    pub fn per_portal(
        mut self,
        share: impl Fn(&str) -> PortalShare + Send + Sync + 'static,
    ) -> Self {
        self.per_portal = Some(Arc::new(share));
        self
    }

    /// How long the install verification's call to the OAuth server may take (default 15 s).
    pub fn verify_timeout(mut self, timeout: Duration) -> Self {
        self.verify_timeout = timeout;
        self
    }

    /// The largest event or install body read (default [`DEFAULT_MAX_BODY_BYTES`]).
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Runs after every verified install (and reinstall), once the portal is stored and its
    /// events are bound, with the installation and the portal's client: register a connector,
    /// create settings. An error fails the install request (502); the portal stays stored.
    pub fn on_install<F, Fut, E>(mut self, hook: F) -> Self
    where
        F: Fn(Installation, Client) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<HandlerError>,
    {
        let hook = Arc::new(hook);
        self.on_install = Some(Arc::new(move |i: Installation, c: Client| {
            let hook = Arc::clone(&hook);
            Box::pin(async move { hook(i, c).await.map_err(Into::into) })
        }));
        self
    }

    /// Handles the event `T`: `.on(|e: OnImConnectorMessageAdd, ctx| async move { .. })`.
    /// Install binds `T`. A second handler for the same event replaces the first.
    pub fn on<T, F, Fut, E>(mut self, handler: F) -> Self
    where
        T: TypedEvent,
        F: Fn(T, EventContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<HandlerError>,
    {
        self.handlers.on::<T, F, Fut, E>(handler);
        self
    }

    /// Handles every verified event no [`AppBuilder::on`] handler takes (events of other
    /// modules arrive as [`Event::Other`]). Without one, such events are answered 200 and
    /// dropped.
    pub fn fallback<F, Fut, E>(mut self, handler: F) -> Self
    where
        F: Fn(Event, EventContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<HandlerError>,
    {
        self.handlers.fallback(handler);
        self
    }

    /// Builds the application.
    pub fn build(self) -> Result<App, BuildError> {
        let store = self.store.ok_or(BuildError::NoStore)?;
        check_https(&self.token_endpoint, "token endpoint")?;
        for (_, url) in &self.oauth_servers {
            check_https(url, "token endpoint")?;
        }
        if let Some(url) = &self.events_url {
            check_https(url, "events URL")?;
        }
        let http = reqwest::Client::builder()
            .timeout(self.verify_timeout)
            .connect_timeout(self.verify_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| BuildError::Http(e.without_url().to_string()))?;
        Ok(App {
            inner: Arc::new(Inner {
                client_id: self.client_id,
                client_secret: self.client_secret,
                token_endpoint: self.token_endpoint,
                oauth_servers: self.oauth_servers,
                events_url: self.events_url,
                offline: self.offline,
                store,
                tune: self.tune,
                per_portal: self.per_portal,
                handlers: self.handlers,
                on_install: self.on_install,
                clients: Mutex::new(HashMap::new()),
                offline_signal: OfflineSignal::default(),
                http,
                max_body_bytes: self.max_body_bytes,
            }),
        })
    }
}

/// A Bitrix24 application serving many portals. Cheap to clone.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use b24_app::{events::OnImConnectorMessageAdd, App, SqliteStore};
///
/// let store = SqliteStore::open("app.db").await?;
/// let app = App::builder("app.0123.4567", std::env::var("B24_CLIENT_SECRET")?)
///     .store(Arc::new(store))
///     .events_url("https://app.example.com/b24/events".parse()?)
///     .on(|e: OnImConnectorMessageAdd, ctx| async move {
///         println!("{} message(s) from {}", e.data.messages.len(), ctx.member_id());
///         Ok::<(), std::io::Error>(())
///     })
///     .build()?;
/// let router = axum::Router::new().nest("/b24", app.router());
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
/// axum::serve(listener, router).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct App {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) token_endpoint: Url,
    oauth_servers: Vec<(String, Url)>,
    pub(crate) events_url: Option<Url>,
    pub(crate) offline: bool,
    pub(crate) store: Arc<dyn AppStore>,
    tune: Option<Tune>,
    per_portal: Option<PerPortal>,
    pub(crate) handlers: Handlers,
    pub(crate) on_install: Option<InstallHook>,
    /// One client per portal, with the install it was built for.
    clients: Mutex<HashMap<String, (String, Client)>>,
    /// Portals whose `ONOFFLINEEVENT` arrived, for the offline consumer.
    pub(crate) offline_signal: OfflineSignal,
    pub(crate) http: reqwest::Client,
    pub(crate) max_body_bytes: usize,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("client_id", &self.inner.client_id)
            .field("token_endpoint", &self.inner.token_endpoint.as_str())
            .field(
                "events_url",
                &self.inner.events_url.as_ref().map(Url::as_str),
            )
            .field("offline", &self.inner.offline)
            .field("events", &self.inner.handlers.event_names())
            .finish_non_exhaustive()
    }
}

/// The portals that signalled new offline records, and a wake-up for the consumer.
#[derive(Default)]
pub(crate) struct OfflineSignal {
    pub(crate) portals: Mutex<std::collections::BTreeSet<String>>,
    pub(crate) notify: tokio::sync::Notify,
}

impl OfflineSignal {
    /// Records that `member_id`'s queue has new records and wakes the consumer.
    pub(crate) fn signal(&self, member_id: &str) {
        lock(&self.portals).insert(member_id.to_string());
        self.notify.notify_one();
    }

    /// The portals signalled since the last call.
    pub(crate) fn take(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.portals))
            .into_iter()
            .collect()
    }
}

/// Writes a portal's refreshed pair back to the store, for its install only.
struct WriteBack {
    store: Arc<dyn AppStore>,
    member_id: String,
    install_id: String,
}

/// A refresh whose install is gone: the pair was not saved.
#[derive(Debug, thiserror::Error)]
#[error("portal `{0}` was uninstalled or reinstalled: the refreshed tokens were not saved")]
struct InstallGone(String);

impl TokenStore for WriteBack {
    fn save<'a>(
        &'a self,
        tokens: &'a OAuthTokens,
    ) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>> {
        Box::pin(async move {
            let saved = self
                .store
                .save_tokens(&self.member_id, &self.install_id, tokens)
                .await?;
            if saved {
                tracing::info!(member_id = %self.member_id, "refreshed OAuth tokens saved");
                Ok(())
            } else {
                Err(Box::new(InstallGone(self.member_id.clone())) as StoreError)
            }
        })
    }
}

/// An endpoint as compared: trimmed, lower case, without trailing slashes.
fn normalize_endpoint(s: &str) -> String {
    s.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// An error of a call the application makes on its own account.
pub(crate) fn call_error<C: b24_openlines::MethodErrorCode>(
    member_id: &str,
    method: &'static str,
    e: b24_openlines::Error<C>,
) -> AppError {
    AppError::Call {
        member_id: member_id.to_string(),
        method,
        source: Box::new(e.into_untyped()),
    }
}

/// `https://portal/rest/` → `https://portal/`.
pub(crate) fn portal_root(client_endpoint: &Url) -> Option<Url> {
    let path = client_endpoint.path();
    let base = path
        .strip_suffix("rest/")
        .or_else(|| path.strip_suffix("rest"))?;
    let mut root = client_endpoint.clone();
    root.set_path(base);
    root.set_query(None);
    root.set_fragment(None);
    Some(root)
}

/// The mutex's value; a panic of another holder does not poison it for the rest (every
/// value behind these locks stays consistent between statements).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl App {
    /// Settings for the application `client_id` with its `client_secret`.
    pub fn builder(client_id: impl Into<String>, client_secret: impl Into<String>) -> AppBuilder {
        AppBuilder {
            client_id: client_id.into(),
            client_secret: Secret::new(client_secret),
            token_endpoint: default_token_endpoint(),
            oauth_servers: Vec::new(),
            events_url: None,
            offline: false,
            store: None,
            tune: None,
            per_portal: None,
            handlers: Handlers::default(),
            on_install: None,
            verify_timeout: Duration::from_secs(15),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn AppStore> {
        &self.inner.store
    }

    /// The docs names of the events the handlers take (what install binds).
    pub fn handled_events(&self) -> Vec<&'static str> {
        self.inner.handlers.event_names()
    }

    /// The client of portal `member_id`: built from the stored tokens on first use, then
    /// cached (one client, so one rate-limit bucket and one OAuth session, per portal). A
    /// refresh writes the new pair back to the store for this install only.
    pub async fn client(&self, member_id: &str) -> Result<Client, AppError> {
        let installation =
            self.inner
                .store
                .portal(member_id)
                .await?
                .ok_or_else(|| AppError::NotInstalled {
                    member_id: member_id.to_string(),
                })?;
        self.client_for(&installation)
    }

    /// The cached client of an installation just read from the store (rebuilt when the
    /// portal was reinstalled since it was cached).
    pub(crate) fn client_for(&self, installation: &Installation) -> Result<Client, AppError> {
        if let Some((install_id, client)) = lock(&self.inner.clients).get(&installation.member_id) {
            if *install_id == installation.install_id {
                return Ok(client.clone());
            }
        }
        let client = self.build_client(installation)?;
        let mut clients = lock(&self.inner.clients);
        match clients.get(&installation.member_id) {
            // Another task built it meanwhile: keep one client per portal.
            Some((id, existing)) if *id == installation.install_id => Ok(existing.clone()),
            _ => {
                clients.insert(
                    installation.member_id.clone(),
                    (installation.install_id.clone(), client.clone()),
                );
                Ok(client)
            }
        }
    }

    fn build_client(&self, installation: &Installation) -> Result<Client, AppError> {
        let member_id = installation.member_id.clone();
        let config_error = |source| AppError::Client {
            member_id: member_id.clone(),
            source,
        };
        let root = portal_root(&installation.client_endpoint).ok_or_else(|| {
            config_error(ConfigError::InvalidUrl {
                what: "client_endpoint",
                reason: "does not end with /rest/".into(),
            })
        })?;
        let write_back = WriteBack {
            store: Arc::clone(&self.inner.store),
            member_id: installation.member_id.clone(),
            install_id: installation.install_id.clone(),
        };
        let share = self
            .inner
            .per_portal
            .as_ref()
            .map(|f| f(&installation.member_id))
            .unwrap_or_default();
        let mut oauth = OAuthConfig::new(
            self.inner.client_id.clone(),
            self.inner.client_secret.expose(),
        )
        .with_store(Arc::new(write_back))
        .with_token_endpoint(
            self.token_endpoint_for(installation.server_endpoint.as_deref())
                .clone(),
        );
        if let Some(coordinator) = share.coordinator {
            oauth = oauth.with_coordinator(coordinator);
        }
        let mut builder =
            Client::builder_oauth(root.as_str(), installation.tokens.access_token.expose())
                .refresh(installation.tokens.refresh_token.expose(), oauth);
        if let Some(limiter) = share.limiter {
            builder = builder.limiter(limiter);
        }
        if let Some(tune) = &self.inner.tune {
            builder = tune(builder);
        }
        builder.build().map_err(config_error)
    }

    /// The token endpoint of the authorization server `server_endpoint` if it is trusted
    /// ([`AppBuilder::oauth_server`]), else the default one.
    pub(crate) fn token_endpoint_for(&self, server_endpoint: Option<&str>) -> &Url {
        server_endpoint
            .map(normalize_endpoint)
            .and_then(|s| {
                self.inner
                    .oauth_servers
                    .iter()
                    .find(|(k, _)| *k == s)
                    .map(|(_, url)| url)
            })
            .unwrap_or(&self.inner.token_endpoint)
    }

    /// Forgets the cached client of `member_id` (after an install or uninstall).
    pub(crate) fn forget_client(&self, member_id: &str) {
        lock(&self.inner.clients).remove(member_id);
    }

    /// Hands a verified event of `installation` to its handler (or the fallback).
    pub(crate) async fn dispatch(
        &self,
        installation: &Installation,
        event: Event,
        source: EventSource,
    ) -> Result<Dispatched, DispatchError> {
        let Some(handler) = self.inner.handlers.handler_for(&event) else {
            return Ok(Dispatched::Unhandled);
        };
        let client = self
            .client_for(installation)
            .map_err(DispatchError::Client)?;
        let ctx = EventContext {
            member_id: Arc::from(installation.member_id.as_str()),
            domain: Arc::from(installation.domain.as_str()),
            client,
            source,
        };
        handler(event, ctx)
            .await
            .map(|()| Dispatched::Handled)
            .map_err(DispatchError::Handler)
    }

    /// Binds, on portal `member_id`, every handled event to the offline queue with
    /// [`AppBuilder::offline_events`], else to the events URL; and `OnAppUninstall` (and with
    /// offline delivery `OnOfflineEvent`) to the events URL. Bindings the portal already has
    /// (`event.get`) are not repeated. Returns how many it made.
    pub async fn bind_events(&self, member_id: &str) -> Result<usize, AppError> {
        if self.inner.events_url.is_none() && !self.inner.offline {
            return Ok(0);
        }
        let client = self.client(member_id).await?;
        let existing = client
            .call(&event::get::Request::new())
            .await
            .map_err(|e| call_error(member_id, "event.get", e))?;
        let has = |name: &str, handler: Option<&str>| {
            existing.iter().any(|b| {
                b.event.eq_ignore_ascii_case(name)
                    && match handler {
                        Some(h) => !b.offline && b.handler.as_deref() == Some(h),
                        None => b.offline,
                    }
            })
        };
        let mut wanted: Vec<(&str, Option<String>)> = Vec::new();
        let events = self.inner.handlers.event_names();
        // Each handled event is bound once: to the offline queue when offline delivery is on
        // (else a handler would see it twice), otherwise to the events URL. The events URL also
        // gets the uninstall notice and, with offline delivery, the queue's new-records signal.
        if let Some(url) = &self.inner.events_url {
            let url = url.to_string();
            if !self.inner.offline {
                for e in &events {
                    wanted.push((e, Some(url.clone())));
                }
            }
            wanted.push((ON_APP_UNINSTALL, Some(url.clone())));
            if self.inner.offline {
                wanted.push((ON_OFFLINE_EVENT, Some(url)));
            }
        }
        if self.inner.offline {
            for e in &events {
                wanted.push((e, None));
            }
        }
        let mut bound = 0;
        for (name, handler) in wanted {
            if has(name, handler.as_deref()) {
                continue;
            }
            let request = match handler {
                Some(h) => event::bind::Request::new(name).handler(h),
                None => event::bind::Request::new(name).event_type(event::bind::EventType::Offline),
            };
            client
                .call(&request)
                .await
                .map_err(|e| call_error(member_id, "event.bind", e))?;
            bound += 1;
        }
        Ok(bound)
    }
}

fn default_token_endpoint() -> Url {
    // A constant URL, checked by a test.
    #[allow(clippy::expect_used)]
    Url::parse(b24_openlines::DEFAULT_TOKEN_ENDPOINT).expect("a valid constant URL")
}

/// What dispatch did with a verified event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dispatched {
    /// A handler ran and succeeded.
    Handled,
    /// No handler and no fallback: dropped.
    Unhandled,
}

/// Why a verified event was not handled.
#[derive(Debug)]
pub(crate) enum DispatchError {
    /// The handler failed.
    Handler(HandlerError),
    /// The portal's client could not be had.
    Client(AppError),
}

impl fmt::Display for DispatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DispatchError::Handler(e) => write!(f, "handler failed: {e}"),
            DispatchError::Client(e) => write!(f, "{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let builder = App::builder("app.1", "client-secret-value");
        let shown = format!("{builder:?}");
        assert!(
            shown.contains("app.1") && !shown.contains("client-secret-value"),
            "{shown}"
        );
    }

    #[test]
    fn portal_roots_and_the_default_endpoint() {
        let root = |s: &str| portal_root(&Url::parse(s).unwrap()).map(|u| u.to_string());
        assert_eq!(
            root("https://a.bitrix24.ru/rest/").as_deref(),
            Some("https://a.bitrix24.ru/")
        );
        assert_eq!(
            root("http://127.0.0.1:5/sub/rest/").as_deref(),
            Some("http://127.0.0.1:5/sub/")
        );
        assert_eq!(root("https://a.bitrix24.ru/api/"), None);
        assert_eq!(
            default_token_endpoint().as_str(),
            b24_openlines::DEFAULT_TOKEN_ENDPOINT
        );
    }
}
