//! The offline queue consumer: events the portal keeps until the application takes them
//! (`event.offline.*`), handed to the same typed handlers as HTTP events.
//!
//! At least once, nothing lost, nothing cleared that was not handled. One poll of a portal:
//!
//! 1. `event.offline.get` with `clear=0`: the portal reserves a batch under a new
//!    `process_id` and returns it. The `process_id` is stored before any handler runs.
//! 2. Each event goes to its handler, in queue order.
//! 3. `event.offline.clear` with the `process_id` and exactly the `ID`s whose handler
//!    succeeded.
//! 4. `event.offline.error` with the `MESSAGE_ID`s whose handler failed (or that no handler
//!    takes): they stay in the portal's queue, marked, for `event.offline.list`.
//! 5. The stored `process_id` is forgotten.
//!
//! A batch the store still names at the next poll (a crash, or a failed clear, between 1 and
//! 5) is asked for again with its `process_id` (the portal returns what is still reserved
//! under it) and handled before any new batch; so is, on a consumer's first poll of a
//! portal, a batch the queue shows reserved (`event.offline.list`) that the store never
//! learnt of (a crash between the answer of 1 and its `process_id` being stored). The
//! handlers then see those events a second time: they must be idempotent (the record's
//! `MESSAGE_ID` is in [`EventSource::Offline`]). One consumer per application and portal: a
//! second one running at the same time would take over the first one's reservations.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_openlines::{event, ApplicationToken, Client, MethodKind};
use serde_json::{json, Map, Value};

use crate::app::{call_error, lock, App, AppError, DispatchError, Dispatched};
use crate::events::Event;
use crate::handlers::EventSource;
use crate::store::Installation;

/// Settings of an [`OfflineConsumer`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OfflineConfig {
    /// Pause between rounds when no portal had a full batch (default 5 s).
    pub interval: Duration,
    /// Events asked for per `event.offline.get` (`limit`, default 50).
    pub batch_size: u32,
    /// `auth_connector` to read the queue of (see the docs on avoiding loops); none by default.
    pub auth_connector: Option<String>,
}

impl Default for OfflineConfig {
    fn default() -> Self {
        OfflineConfig {
            interval: Duration::from_secs(5),
            batch_size: 50,
            auth_connector: None,
        }
    }
}

impl OfflineConfig {
    /// The pause between rounds.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Events per `event.offline.get` (at least 1).
    pub fn with_batch_size(mut self, n: u32) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// The `auth_connector` whose queue to read.
    pub fn with_auth_connector(mut self, key: impl Into<String>) -> Self {
        self.auth_connector = Some(key.into());
        self
    }
}

/// What one poll of one portal did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollReport {
    /// Events the portal returned.
    pub fetched: usize,
    /// Events whose handler succeeded, then cleared.
    pub handled: usize,
    /// Events whose handler failed, reported with `event.offline.error`.
    pub failed: usize,
    /// Events no handler takes, reported with `event.offline.error` too.
    pub unhandled: usize,
}

/// Polls the offline queue of every installed portal; from [`App::offline_consumer`].
#[derive(Debug, Clone)]
pub struct OfflineConsumer {
    app: App,
    config: OfflineConfig,
    /// Portals this consumer has looked for orphaned reservations on.
    scanned: Arc<Mutex<HashSet<String>>>,
}

impl App {
    /// A consumer of the portals' offline queues (bind with
    /// [`crate::AppBuilder::offline_events`]).
    pub fn offline_consumer(&self, config: OfflineConfig) -> OfflineConsumer {
        OfflineConsumer {
            app: self.clone(),
            config,
            scanned: Arc::default(),
        }
    }
}

/// One queue record, as `event.offline.get` answers it.
struct Record {
    id: i64,
    message_id: String,
    name: String,
    data: Value,
    additional: Value,
}

/// The elements of a JSON array, or the values of an object (PHP's list as a map).
fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(m) => m.values().collect(),
        _ => Vec::new(),
    }
}

/// A queue record as a typed event. The record comes from an authenticated answer of the
/// portal, so there is no application token to check; the generated decoder only decodes
/// verified payloads, so the record is wrapped with a one-off token it is checked against.
fn decode(member_id: &str, domain: &str, rec: &Record) -> Result<Event, String> {
    let nonce = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    let body = json!({
        "event": rec.name,
        "data": rec.data,
        "auth": {"member_id": member_id, "domain": domain, "application_token": nonce},
        "offline_id": rec.id,
        "message_id": rec.message_id,
        "event_additional": rec.additional,
    });
    let bytes = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
    let token = ApplicationToken::new(nonce);
    Event::parse_with(&bytes, |_| Some(token)).map_err(|e| e.to_string())
}

fn record(item: &Value) -> Option<Record> {
    let text = |k: &str| match item.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let id = text("ID")?.trim().parse().ok()?;
    Some(Record {
        id,
        message_id: text("MESSAGE_ID").unwrap_or_default(),
        name: text("EVENT_NAME")?,
        data: match item.get("EVENT_DATA") {
            Some(v @ (Value::Object(_) | Value::Array(_))) => v.clone(),
            _ => Value::Object(Map::new()),
        },
        additional: item.get("EVENT_ADDITIONAL").cloned().unwrap_or(Value::Null),
    })
}

impl OfflineConsumer {
    /// The settings.
    pub fn config(&self) -> &OfflineConfig {
        &self.config
    }

    /// The `process_id` of a batch reserved before and never finished: the one stored, or,
    /// on this consumer's first poll of the portal, one the queue shows reserved
    /// (`event.offline.list`; a crash right after `event.offline.get` answered, before its
    /// `process_id` was stored, leaves such a batch).
    async fn pending_batch(
        &self,
        member_id: &str,
        client: &Client,
    ) -> Result<Option<String>, AppError> {
        let store = self.app.store();
        if let Some(pid) = store.offline_process_id(member_id).await? {
            return Ok(Some(pid));
        }
        let first_poll = lock(&self.scanned).insert(member_id.to_string());
        if !first_poll {
            return Ok(None);
        }
        let mut params = json!({"filter": {"!PROCESS_ID": "", "ERROR": 0}, "order": {"ID": "ASC"}});
        self.connector(&mut params);
        let Value::Object(params) = params else {
            return Ok(None);
        };
        let listed = client
            .call_raw("event.offline.list", MethodKind::Read, params)
            .await
            .map_err(|e| call_error(member_id, "event.offline.list", e))?
            .result;
        let orphan = items(&listed)
            .into_iter()
            .filter_map(|r| r.get("PROCESS_ID").and_then(Value::as_str))
            .find(|p| !p.is_empty())
            .map(str::to_string);
        if let Some(pid) = &orphan {
            tracing::info!(
                member_id,
                "resuming an offline batch reserved before a crash"
            );
            store.set_offline_process_id(member_id, Some(pid)).await?;
        }
        Ok(orphan)
    }

    fn connector(&self, params: &mut Value) {
        if let (Some(key), Value::Object(p)) = (&self.config.auth_connector, params) {
            p.insert("auth_connector".into(), Value::from(key.clone()));
        }
    }

    /// One poll of one portal's queue: a batch (the unfinished one, else a new one) taken
    /// with `clear=0`, handled, the handled cleared, the failed reported.
    pub async fn poll_portal(&self, member_id: &str) -> Result<PollReport, AppError> {
        let installation =
            self.app
                .store()
                .portal(member_id)
                .await?
                .ok_or_else(|| AppError::NotInstalled {
                    member_id: member_id.to_string(),
                })?;
        let client = self.app.client_for(&installation)?;
        if let Some(pid) = self.pending_batch(member_id, &client).await? {
            let report = self.batch(&installation, &client, Some(pid)).await?;
            if report.fetched > 0 {
                return Ok(report);
            }
        }
        self.batch(&installation, &client, None).await
    }

    /// Takes a batch (`process_id` given: the records reserved under it; else a new
    /// reservation), handles it and resolves it in the queue.
    async fn batch(
        &self,
        installation: &Installation,
        client: &Client,
        process_id: Option<String>,
    ) -> Result<PollReport, AppError> {
        let member_id = installation.member_id.as_str();
        let store = self.app.store();
        let mut params = json!({"clear": 0, "limit": self.config.batch_size});
        if let (Some(pid), Value::Object(p)) = (&process_id, &mut params) {
            p.insert("process_id".into(), Value::from(pid.clone()));
        }
        self.connector(&mut params);
        let Value::Object(params) = params else {
            return Ok(PollReport::default());
        };
        // Untyped, so that one record the typed answer would not decode is reported (below)
        // rather than blocking the queue. With clear=0 nothing is deleted: a lost answer is
        // asked again, and the records it reserved are found by `pending_batch` after a
        // restart.
        let answer = client
            .call_raw("event.offline.get", MethodKind::Read, params)
            .await
            .map_err(|e| call_error(member_id, "event.offline.get", e))?
            .result;
        let records = items(answer.get("events").unwrap_or(&Value::Null));
        let resumed = process_id.is_some();
        let process_id = match answer.get("process_id").and_then(Value::as_str) {
            Some(p) if !p.is_empty() => p.to_string(),
            _ => process_id.unwrap_or_default(),
        };
        if records.is_empty() {
            // A resumed reservation is done: forget it. A new one that found nothing stored
            // nothing, so an idle poll writes nothing.
            if resumed {
                store.set_offline_process_id(member_id, None).await?;
            }
            return Ok(PollReport::default());
        }
        // Stored before any handler runs: a crash from here on finds the batch again.
        store
            .set_offline_process_id(member_id, Some(&process_id))
            .await?;
        let mut report = PollReport {
            fetched: records.len(),
            ..PollReport::default()
        };
        let mut cleared: Vec<i64> = Vec::new();
        let mut errors: Vec<String> = Vec::new();
        for item in records {
            let Some(rec) = record(item) else {
                tracing::warn!(
                    member_id,
                    "an offline record without ID or EVENT_NAME; skipped"
                );
                continue;
            };
            let event = match decode(member_id, &installation.domain, &rec) {
                Ok(e) => e,
                Err(reason) => {
                    tracing::warn!(member_id, id = rec.id, %reason, "offline event does not decode");
                    report.failed += 1;
                    errors.push(rec.message_id);
                    continue;
                }
            };
            let source = EventSource::Offline {
                id: rec.id,
                message_id: rec.message_id.clone(),
            };
            match self.app.dispatch(installation, event, source).await {
                Ok(Dispatched::Handled) => {
                    report.handled += 1;
                    cleared.push(rec.id);
                }
                Ok(Dispatched::Unhandled) => {
                    tracing::warn!(member_id, event = %rec.name, "no handler for an offline event");
                    report.unhandled += 1;
                    errors.push(rec.message_id);
                }
                Err(DispatchError::Handler(e)) => {
                    tracing::warn!(member_id, id = rec.id, error = %e, "offline event handler failed");
                    report.failed += 1;
                    errors.push(rec.message_id);
                }
                Err(DispatchError::Client(e)) => return Err(e),
            }
        }
        if !cleared.is_empty() {
            let mut request = event::offline_clear::Request::new(process_id.clone()).id(cleared);
            if let Some(key) = &self.config.auth_connector {
                request = request.auth_connector(key.clone());
            }
            client
                .call(&request)
                .await
                .map_err(|e| call_error(member_id, "event.offline.clear", e))?;
        }
        errors.retain(|m| !m.is_empty());
        if !errors.is_empty() {
            let mut request = event::offline_error::Request::new(process_id.clone(), errors);
            if let Some(key) = &self.config.auth_connector {
                request = request.auth_connector(key.clone());
            }
            client
                .call(&request)
                .await
                .map_err(|e| call_error(member_id, "event.offline.error", e))?;
        }
        // Every record of the batch is cleared or marked failed: nothing left under it.
        store.set_offline_process_id(member_id, None).await?;
        Ok(report)
    }

    /// One round: every installed portal polled once, concurrently. Per portal, its report
    /// or error.
    pub async fn poll_all(&self) -> Vec<(String, Result<PollReport, AppError>)> {
        let portals = match self.app.store().portals().await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot list the installed portals");
                return Vec::new();
            }
        };
        let mut tasks = tokio::task::JoinSet::new();
        for member_id in portals {
            let consumer = self.clone();
            tasks.spawn(async move {
                let report = consumer.poll_portal(&member_id).await;
                (member_id, report)
            });
        }
        let mut out = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Ok(r) = done {
                out.push(r);
            }
        }
        out
    }

    /// Polls until `shutdown` completes: a round over every portal, then the next one at once
    /// if any portal returned a full batch, else after [`OfflineConfig::interval`]; a verified
    /// `ONOFFLINEEVENT` (bound to the events URL when the app has one) makes the signalled
    /// portals be polled at once. Errors are logged and the portal is polled again next round.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let signal = &self.app.inner.offline_signal;
        let mut due: Option<Vec<String>> = None;
        loop {
            let results = match due.take() {
                None => {
                    tokio::select! {
                        r = self.poll_all() => r,
                        () = &mut shutdown => return,
                    }
                }
                Some(portals) => {
                    let round = async {
                        let mut out = Vec::new();
                        for member_id in portals {
                            let r = self.poll_portal(&member_id).await;
                            out.push((member_id, r));
                        }
                        out
                    };
                    tokio::select! {
                        r = round => r,
                        () = &mut shutdown => return,
                    }
                }
            };
            let mut full = false;
            for (member_id, result) in &results {
                match result {
                    Ok(r) => full |= r.fetched >= self.config.batch_size as usize,
                    Err(e) => {
                        tracing::warn!(member_id = %member_id, error = %e, "offline poll failed")
                    }
                }
            }
            if full {
                continue;
            }
            let signalled = signal.take();
            if !signalled.is_empty() {
                due = Some(signalled);
                continue;
            }
            tokio::select! {
                () = tokio::time::sleep(self.config.interval) => {}
                () = signal.notify.notified() => due = Some(signal.take()),
                () = &mut shutdown => return,
            }
        }
    }
}
