//! Typed event handlers: `on(|e: OnImConnectorMessageAdd, ctx| async { .. })`, a fallback,
//! and the dispatch both delivery paths (HTTP and the offline queue) share.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use b24_openlines::Client;

use crate::events::{Event, TypedEvent};

/// What a handler may fail with: any error (it is logged by its `Display`, and the delivery is
/// reported failed to the portal: a 500 answer, or `event.offline.error`).
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), HandlerError>> + Send>>;

/// A registered handler, type-erased: it takes the decoded event.
pub(crate) type BoxHandler = Arc<dyn Fn(Event, EventContext) -> HandlerFuture + Send + Sync>;

/// How an event reached the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventSource {
    /// POSTed by the portal to the events endpoint.
    Http,
    /// Taken from the portal's offline queue (`event.offline.get`).
    Offline {
        /// The queue record's `ID`.
        id: i64,
        /// The record's `MESSAGE_ID`.
        message_id: String,
    },
}

/// What a handler gets beside the event: which portal sent it (verified) and a client of
/// that portal, whose token refreshes are written back to the store.
#[derive(Clone)]
pub struct EventContext {
    pub(crate) member_id: Arc<str>,
    pub(crate) domain: Arc<str>,
    pub(crate) client: Client,
    pub(crate) source: EventSource,
}

impl fmt::Debug for EventContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventContext")
            .field("member_id", &self.member_id)
            .field("domain", &self.domain)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl EventContext {
    /// The portal the event came from (verified by its application token, or by the
    /// authenticated queue it was read from).
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The portal's domain, as stored at install.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// A client of that portal (the application's OAuth session on it; one per portal,
    /// shared by every handler, with its own rate-limit bucket).
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// How the event arrived.
    pub fn source(&self) -> &EventSource {
        &self.source
    }
}

/// The handlers of an application: at most one per event, and a fallback.
#[derive(Clone, Default)]
pub(crate) struct Handlers {
    /// By wire name (upper case).
    by_name: HashMap<String, (&'static str, BoxHandler)>,
    fallback: Option<BoxHandler>,
}

impl Handlers {
    pub(crate) fn on<T, F, Fut, E>(&mut self, f: F)
    where
        T: TypedEvent,
        F: Fn(T, EventContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<HandlerError>,
    {
        let f = Arc::new(f);
        let handler: BoxHandler = Arc::new(move |event: Event, ctx: EventContext| {
            let f = Arc::clone(&f);
            Box::pin(async move {
                let name = event.name().to_string();
                match T::from_event(event) {
                    Some(typed) => f(typed, ctx).await.map_err(Into::into),
                    // Dispatch is by the same wire name the generated decoder uses, so this
                    // does not happen; refuse rather than hand over the wrong type.
                    None => {
                        Err(format!("`{name}` was routed to the `{}` handler", T::EVENT).into())
                    }
                }
            })
        });
        self.by_name
            .insert(T::WIRE_NAME.to_ascii_uppercase(), (T::EVENT, handler));
    }

    pub(crate) fn fallback<F, Fut, E>(&mut self, f: F)
    where
        F: Fn(Event, EventContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<HandlerError>,
    {
        let f = Arc::new(f);
        self.fallback = Some(Arc::new(move |event: Event, ctx: EventContext| {
            let f = Arc::clone(&f);
            Box::pin(async move { f(event, ctx).await.map_err(Into::into) })
        }));
    }

    /// The docs names of the events with a handler (what install binds).
    pub(crate) fn event_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.by_name.values().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names
    }

    /// The handler for `event` (its own, else the fallback), if any.
    pub(crate) fn handler_for(&self, event: &Event) -> Option<&BoxHandler> {
        let name = event.name();
        self.by_name
            .get(name)
            .or_else(|| self.by_name.get(&name.to_ascii_uppercase()))
            .map(|(_, h)| h)
            .or(self.fallback.as_ref())
    }
}
