//! The offline queue consumer: events the portal keeps until the application takes them
//! (`event.offline.*`), handed to the same typed handlers as HTTP events.
//!
//! At least once, nothing lost, nothing cleared that was not handled:
//!
//! 1. `event.offline.get` with `clear=0` and this application's `process_id` for the portal
//!    (kept in the store, so a restarted consumer asks with the same one): the portal reserves
//!    a batch for that process and returns it, together with anything it reserved for the
//!    process before and that was never cleared.
//! 2. Each event goes to its handler, in queue order.
//! 3. `event.offline.clear` with the `process_id` and exactly the `ID`s whose handler
//!    succeeded.
//! 4. `event.offline.error` with the `MESSAGE_ID`s whose handler failed (or that no handler
//!    takes): they stay in the portal's queue, marked, for `event.offline.list`.
//!
//! A crash anywhere before step 3 leaves the batch reserved for the stored `process_id`: the
//! next poll gets it again and the handlers see those events a second time. Handlers must
//! therefore be idempotent (the queue's `MESSAGE_ID` is in [`EventSource::Offline`]).

use std::time::Duration;

use b24_openlines::{ApplicationToken, MethodKind};
use serde_json::{json, Map, Value};

use crate::app::{App, AppError, DispatchError, Dispatched};
use crate::events::Event;
use crate::handlers::EventSource;
use crate::store::new_install_id;

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
}

impl App {
    /// A consumer of the portals' offline queues (bind with
    /// [`crate::AppBuilder::offline_events`]).
    pub fn offline_consumer(&self, config: OfflineConfig) -> OfflineConsumer {
        OfflineConsumer {
            app: self.clone(),
            config,
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

    /// The process id for `member_id`: the stored one, or a new one stored before use.
    async fn process_id(&self, member_id: &str) -> Result<String, AppError> {
        let store = self.app.store();
        if let Some(id) = store.offline_process_id(member_id).await? {
            return Ok(id);
        }
        let id = new_install_id();
        store.set_offline_process_id(member_id, &id).await?;
        Ok(id)
    }

    /// One poll of one portal's queue: get, handle, clear the handled, report the failed.
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
        let call_error = |method: &'static str| {
            move |e: b24_openlines::Error| AppError::Call {
                member_id: member_id.to_string(),
                method,
                source: Box::new(e),
            }
        };
        let mut process_id = self.process_id(member_id).await?;
        let mut params = json!({
            "clear": 0,
            "limit": self.config.batch_size,
            "process_id": process_id,
        });
        if let (Some(key), Value::Object(p)) = (&self.config.auth_connector, &mut params) {
            p.insert("auth_connector".into(), Value::from(key.clone()));
        }
        let Value::Object(params) = params else {
            return Ok(PollReport::default());
        };
        // A read as far as replaying goes: with clear=0 and the same process_id a second get
        // returns the same reserved batch.
        let answer = client
            .call_raw("event.offline.get", MethodKind::Read, params)
            .await
            .map_err(call_error("event.offline.get"))?
            .result;
        if let Some(returned) = answer.get("process_id").and_then(Value::as_str) {
            if !returned.is_empty() && returned != process_id {
                // The portal chose its own: keep that one, so a crash from here on still finds
                // the batch again.
                self.app
                    .store()
                    .set_offline_process_id(member_id, returned)
                    .await?;
                process_id = returned.to_string();
            }
        }
        let items: Vec<&Value> = match answer.get("events") {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(Value::Object(m)) => m.values().collect(),
            _ => Vec::new(),
        };
        let mut report = PollReport {
            fetched: items.len(),
            ..PollReport::default()
        };
        let mut cleared: Vec<i64> = Vec::new();
        let mut errors: Vec<String> = Vec::new();
        for item in items {
            let Some(rec) = record(item) else {
                tracing::warn!(
                    member_id,
                    "an offline record without ID or EVENT_NAME; skipped"
                );
                continue;
            };
            let event = match self.decode(&installation.member_id, &installation.domain, &rec) {
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
            match self.app.dispatch(&installation, event, source).await {
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
            let params = json!({"process_id": process_id, "id": cleared});
            if let Value::Object(p) = params {
                client
                    .call_raw("event.offline.clear", MethodKind::Write, p)
                    .await
                    .map_err(call_error("event.offline.clear"))?;
            }
        }
        let errors: Vec<String> = errors.into_iter().filter(|m| !m.is_empty()).collect();
        if !errors.is_empty() {
            let params = json!({"process_id": process_id, "message_id": errors});
            if let Value::Object(p) = params {
                client
                    .call_raw("event.offline.error", MethodKind::Write, p)
                    .await
                    .map_err(call_error("event.offline.error"))?;
            }
        }
        Ok(report)
    }

    /// A queue record as a typed event. The record comes from an authenticated answer of the
    /// portal, so there is no application token to check; the generated decoder only decodes
    /// verified payloads, so the record is wrapped with a one-off token it is checked against.
    fn decode(&self, member_id: &str, domain: &str, rec: &Record) -> Result<Event, String> {
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

    /// Polls until `shutdown` completes: a round, then the next one at once if any portal
    /// returned a full batch, else after [`OfflineConfig::interval`]. Errors are logged and
    /// the portal is polled again next round.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let round = self.poll_all();
            let results = tokio::select! {
                r = round => r,
                () = &mut shutdown => return,
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
            tokio::select! {
                () = tokio::time::sleep(self.config.interval) => {}
                () = &mut shutdown => return,
            }
        }
    }
}
