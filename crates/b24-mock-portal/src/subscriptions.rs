//! Event subscriptions of the applications (`event.bind`, `event.unbind`, `event.get`) and the
//! offline queue (`event.offline.get`, `.clear`, `.error`, `.list`), following the server code
//! (the `rest` module: `Api\Event`, `EventTable`, `EventOfflineTable`).

use std::hash::{Hash, Hasher};
use std::time::SystemTime;

use serde_json::{Map, Value};

use crate::errors::ApiErr;
use crate::params::{as_text, get_ci, php_intval, php_items};

/// Events of the global scope every application may bind (the server's `rest` module
/// describes them besides the events of the scopes).
pub(crate) const GLOBAL_EVENTS: &[&str] = &[
    "ONAPPINSTALL",
    "ONAPPUNINSTALL",
    "ONAPPUPDATE",
    "ONAPPPAYMENT",
    "ONAPPTEST",
    "ONAPPMETHODCONFIRM",
    "ONOFFLINEEVENT",
];

/// Events that cannot be bound offline (`disableOffline` in the server's description).
const ONLINE_ONLY: &[&str] = &["ONOFFLINEEVENT"];

/// Records `event.offline.get` takes by default, and the page of `event.offline.list`.
const LIST_LIMIT: i64 = 50;

/// A registered handler (a row of the server's `b_rest_event`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Binding {
    pub(crate) id: u64,
    pub(crate) client_id: String,
    /// Upper case, as the server stores it.
    pub(crate) event: String,
    /// The URL; empty for an offline binding.
    pub(crate) handler: String,
    /// `auth_type`: the user the handler is authorized as; 0 for the user who raised it.
    pub(crate) user_id: i64,
    /// The `auth_connector` it was bound with (offline bindings).
    pub(crate) connector_id: String,
    /// `options[minTimeout]` (ONOFFLINEEVENT): seconds between two notifications.
    pub(crate) min_timeout: Option<i64>,
}

impl Binding {
    pub(crate) fn offline(&self) -> bool {
        self.handler.is_empty()
    }
}

/// A record of the offline queue (a row of the server's `b_rest_event_offline`).
#[derive(Debug, Clone)]
pub(crate) struct OfflineRecord {
    pub(crate) id: u64,
    pub(crate) timestamp: SystemTime,
    pub(crate) message_id: String,
    pub(crate) client_id: String,
    pub(crate) event: String,
    pub(crate) data: Value,
    pub(crate) additional: Value,
    pub(crate) process_id: String,
    pub(crate) connector_id: String,
    pub(crate) error: bool,
}

/// Bindings and the offline queue of every application of the portal.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    pub(crate) bindings: Vec<Binding>,
    pub(crate) queue: Vec<OfflineRecord>,
    /// When each ONOFFLINEEVENT binding was last notified.
    notified: std::collections::HashMap<u64, std::time::Instant>,
    next_binding: u64,
    next_record: u64,
}

/// Who calls an `event.*` method: an application's token (checked by the engine).
#[derive(Debug, Clone)]
pub(crate) struct AppCaller<'a> {
    pub(crate) client_id: &'a str,
    pub(crate) user_id: i64,
    pub(crate) admin: bool,
}

fn arg_null(name: &str) -> ApiErr {
    ApiErr::new(
        400,
        "ERROR_ARGUMENT",
        &format!("Argument '{name}' is null or empty"),
    )
}

fn arg(message: &str) -> ApiErr {
    ApiErr::new(400, "ERROR_ARGUMENT", message)
}

fn access(message: &str) -> ApiErr {
    let text = if message.is_empty() {
        "Access denied!".to_string()
    } else {
        format!("Access denied! {message}")
    };
    ApiErr::new(403, "ACCESS_DENIED", &text)
}

/// A key of an object parameter, ignoring case.
fn key_ci<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
        .map(|(_, v)| v)
}

/// A parameter as text, `""` when absent (PHP `$query['X'] ?? ''`).
fn text(params: &Map<String, Value>, name: &str) -> String {
    get_ci(params, name).and_then(as_text).unwrap_or_default()
}

/// `EVENT_TYPE`: `online` (also when absent or empty) or `offline`.
fn event_type(params: &Map<String, Value>) -> Result<bool, ApiErr> {
    match text(params, "event_type").to_lowercase().as_str() {
        "" | "online" => Ok(false),
        "offline" => Ok(true),
        _ => Err(arg("Value must be one of {online|offline}")),
    }
}

/// The checks of the server's `HandlerHelper::checkCallback` the local portal can make: an
/// `http`/`https` URL whose host name has a dot (`localhost` has none).
fn check_handler(url: &str) -> Result<(), ApiErr> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Err(ApiErr::new(
            400,
            "ERROR_WRONG_HANDLER_URL",
            "Wrong handler URL",
        ));
    };
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(ApiErr::new(
            400,
            "ERROR_UNSUPPORTED_PROTOCOL",
            "Unsupported handler protocol",
        ));
    }
    match parsed.host_str() {
        Some(host) if host.contains('.') || host.contains(':') => Ok(()),
        _ => Err(ApiErr::new(
            400,
            "ERROR_WRONG_HANDLER_URL",
            "Wrong handler URL",
        )),
    }
}

/// The offline queue's key of an event: the server takes md5(name|json(data)); a 128-bit
/// hash of the same text keeps the property that matters (equal events, equal key) with 32
/// hex digits.
pub(crate) fn message_id(event: &str, data: &Value) -> String {
    let text = format!(
        "{event}|{}",
        serde_json::to_string(data).unwrap_or_default()
    );
    let half = |salt: u64| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut h);
        text.hash(&mut h);
        h.finish()
    };
    format!("{:016x}{:016x}", half(0x5eed_0001), half(0x5eed_0002))
}

/// `TIMESTAMP_X` as `CRestUtil::convertDateTime` writes it.
fn timestamp(t: SystemTime, utc_offset_seconds: i32) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let offset = chrono::FixedOffset::east_opt(utc_offset_seconds)
        .unwrap_or(chrono::Offset::fix(&chrono::Utc));
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| {
            d.with_timezone(&offset)
                .format("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
}

/// A field of a record, for filters and sorting.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Field {
    Num(i64),
    Text(String),
}

fn field(r: &OfflineRecord, name: &str) -> Option<Field> {
    Some(match name {
        "ID" => Field::Num(r.id as i64),
        "TIMESTAMP_X" => Field::Num(
            r.timestamp
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        ),
        "EVENT_NAME" => Field::Text(r.event.clone()),
        "MESSAGE_ID" => Field::Text(r.message_id.clone()),
        "PROCESS_ID" => Field::Text(r.process_id.clone()),
        "ERROR" => Field::Num(i64::from(r.error)),
        _ => return None,
    })
}

/// A filter value in the type of `name`.
fn filter_value(name: &str, v: &Value) -> Field {
    match name {
        "ID" | "ERROR" => Field::Num(php_intval(v)),
        "TIMESTAMP_X" => {
            let t = as_text(v).unwrap_or_default();
            Field::Num(
                chrono::DateTime::parse_from_rfc3339(t.trim())
                    .map(|d| d.timestamp())
                    .unwrap_or_else(|_| php_intval(v)),
            )
        }
        _ => Field::Text(as_text(v).unwrap_or_default()),
    }
}

/// One condition of `filter`: an operation (`=`, `!`, `!=`, `<`, `<=`, `>`, `>=`, or none
/// for equality) before a field name; unknown fields are dropped, as `sanitizeFilter` does.
struct Condition {
    op: String,
    field: String,
    value: Field,
}

fn conditions(params: &Map<String, Value>, allowed: &[&str]) -> Vec<Condition> {
    let Some(items) = get_ci(params, "filter").and_then(php_items) else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|(key, v)| {
            let split = key
                .find(|c: char| c.is_ascii_alphanumeric() || c == '_')
                .unwrap_or(key.len());
            let (op, name) = key.split_at(split);
            let name = name.to_ascii_uppercase();
            if !allowed.contains(&name.as_str())
                || !matches!(op, "" | "=" | "!" | "!=" | "<" | "<=" | ">" | ">=")
            {
                return None;
            }
            Some(Condition {
                op: op.to_string(),
                value: filter_value(&name, v),
                field: name,
            })
        })
        .collect()
}

fn matches(r: &OfflineRecord, conds: &[Condition]) -> bool {
    conds.iter().all(|c| {
        let Some(have) = field(r, &c.field) else {
            return false;
        };
        match c.op.as_str() {
            "" | "=" => have == c.value,
            "!" | "!=" => have != c.value,
            "<" => have < c.value,
            "<=" => have <= c.value,
            ">" => have > c.value,
            ">=" => have >= c.value,
            _ => false,
        }
    })
}

/// `order`: fields with `ASC`/`DESC`, unknown fields dropped; `default` when none is left.
fn order(params: &Map<String, Value>, allowed: &[&str], default: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = get_ci(params, "order")
        .and_then(php_items)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| {
            let name = k.to_ascii_uppercase();
            allowed.contains(&name.as_str()).then(|| {
                let desc = as_text(v).is_some_and(|d| d.trim().eq_ignore_ascii_case("desc"));
                (name, desc)
            })
        })
        .collect();
    if out.is_empty() {
        out.push((default.to_string(), false));
    }
    out
}

fn sort(records: &mut [&OfflineRecord], order: &[(String, bool)]) {
    records.sort_by(|a, b| {
        for (name, desc) in order {
            let ord = field(a, name)
                .partial_cmp(&field(b, name))
                .unwrap_or(std::cmp::Ordering::Equal);
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        a.id.cmp(&b.id)
    });
}

const GET_FIELDS: &[&str] = &["ID", "TIMESTAMP_X", "EVENT_NAME", "MESSAGE_ID"];
const LIST_FIELDS: &[&str] = &[
    "ID",
    "TIMESTAMP_X",
    "EVENT_NAME",
    "MESSAGE_ID",
    "PROCESS_ID",
    "ERROR",
];

impl Subscriptions {
    /// `event.bind`. `known` says whether an event exists in a scope of the token (or the
    /// global scope).
    pub(crate) fn bind(
        &mut self,
        caller: &AppCaller<'_>,
        params: &Map<String, Value>,
        known: impl Fn(&str) -> bool,
    ) -> Result<Value, ApiErr> {
        let event = text(params, "event").to_uppercase();
        let offline = event_type(params)?;
        let mut user = get_ci(params, "auth_type").map_or(0, php_intval);
        let mut handler = text(params, "handler");
        let connector_id = text(params, "auth_connector");
        if user > 0 {
            if !caller.admin && user != caller.user_id {
                return Err(access(
                    "Event binding with AUTH_TYPE requires administrator access rights",
                ));
            }
        } else if !caller.admin {
            user = caller.user_id;
        }
        if event.is_empty() {
            return Err(arg_null("EVENT"));
        }
        if offline {
            if !caller.admin {
                return Err(access(
                    "Offline events binding requires administrator access rights",
                ));
            }
            handler.clear();
            user = 0;
        } else if handler.is_empty() {
            return Err(arg_null("HANDLER"));
        }
        if !handler.is_empty() {
            check_handler(&handler)?;
        }
        if !known(&event) {
            return Err(ApiErr::new(400, "ERROR_EVENT_NOT_FOUND", "Event not found"));
        }
        if handler.is_empty() && ONLINE_ONLY.contains(&event.as_str()) {
            return Err(arg("Offline event cannot be registered for this event."));
        }
        let duplicate = self.bindings.iter().any(|b| {
            b.client_id == caller.client_id
                && b.event == event
                && b.handler == handler
                && b.user_id == user
                && b.connector_id == connector_id
        });
        if duplicate {
            return Err(ApiErr::new(
                400,
                "ERROR_CORE",
                "Unable to set event handler: Handler already binded",
            ));
        }
        // `allowOptions` of ONOFFLINEEVENT: `minTimeout` (int).
        let min_timeout = (event == "ONOFFLINEEVENT")
            .then(|| get_ci(params, "options").and_then(|o| key_ci(o, "minTimeout")))
            .flatten()
            .map(php_intval);
        self.next_binding += 1;
        self.bindings.push(Binding {
            id: self.next_binding,
            client_id: caller.client_id.to_string(),
            event,
            handler,
            user_id: user,
            connector_id,
            min_timeout,
        });
        Ok(Value::Bool(true))
    }

    /// `event.unbind`.
    pub(crate) fn unbind(
        &mut self,
        caller: &AppCaller<'_>,
        params: &Map<String, Value>,
    ) -> Result<Value, ApiErr> {
        let event = text(params, "event").to_uppercase();
        if event.is_empty() {
            return Err(arg_null("EVENT"));
        }
        let offline = event_type(params)?;
        let mut handler = text(params, "handler");
        if offline {
            if !caller.admin {
                return Err(access(
                    "Offline events unbinding requires administrator access rights",
                ));
            }
            handler.clear();
        } else if handler.is_empty() {
            return Err(arg_null("HANDLER"));
        }
        let mut user_filter: Option<i64> = None;
        let mut connector_filter: Option<String> = None;
        if offline {
            connector_filter = Some(text(params, "auth_connector"));
        } else if let Some(v) = get_ci(params, "auth_type") {
            let wanted = php_intval(v);
            if !caller.admin && wanted != caller.user_id {
                return Err(access(
                    "Event unbinding with AUTH_TYPE requires administrator access rights",
                ));
            }
            user_filter = Some(wanted);
        } else if !caller.admin {
            user_filter = Some(caller.user_id);
        }
        let before = self.bindings.len();
        self.bindings.retain(|b| {
            !(b.client_id == caller.client_id
                && b.event == event
                && b.handler == handler
                && user_filter.is_none_or(|u| b.user_id == u)
                && connector_filter
                    .as_ref()
                    .is_none_or(|c| &b.connector_id == c))
        });
        let mut m = Map::new();
        m.insert("count".into(), Value::from(before - self.bindings.len()));
        Ok(Value::Object(m))
    }

    /// `event.get`: the application's handlers, oldest first.
    pub(crate) fn list_bindings(&self, caller: &AppCaller<'_>) -> Value {
        Value::Array(
            self.bindings
                .iter()
                .filter(|b| b.client_id == caller.client_id)
                .filter(|b| caller.admin || b.user_id == caller.user_id)
                .map(|b| {
                    let mut m = Map::new();
                    m.insert("event".into(), Value::from(b.event.clone()));
                    if b.offline() {
                        m.insert("connector_id".into(), Value::from(b.connector_id.clone()));
                        m.insert("offline".into(), Value::from(1));
                    } else {
                        m.insert("handler".into(), Value::from(b.handler.clone()));
                        m.insert("auth_type".into(), Value::from(b.user_id.to_string()));
                        m.insert("offline".into(), Value::from(0));
                    }
                    Value::Object(m)
                })
                .collect(),
        )
    }

    /// Bindings of `event` (upper case), of one application or of all.
    pub(crate) fn bindings_of(&self, event: &str, client_id: Option<&str>) -> Vec<Binding> {
        self.bindings
            .iter()
            .filter(|b| b.event == event && client_id.is_none_or(|c| b.client_id == c))
            .cloned()
            .collect()
    }

    /// The ONOFFLINEEVENT handlers of `client_id` due a notification at `now`: never
    /// notified, or `minTimeout` (default 1 s) ago; 0 means once per raising call, which each
    /// call of this is. Marks them notified.
    pub(crate) fn offline_notifications(
        &mut self,
        client_id: &str,
        now: std::time::Instant,
    ) -> Vec<Binding> {
        let due: Vec<Binding> = self
            .bindings
            .iter()
            .filter(|b| b.client_id == client_id && b.event == "ONOFFLINEEVENT" && !b.offline())
            .filter(|b| {
                let wait = std::time::Duration::from_secs(b.min_timeout.unwrap_or(1).max(0) as u64);
                self.notified
                    .get(&b.id)
                    .is_none_or(|at| wait.is_zero() || now.duration_since(*at) >= wait)
            })
            .cloned()
            .collect();
        for b in &due {
            self.notified.insert(b.id, now);
        }
        due
    }

    /// Drops every binding and queued record of an application (an uninstall).
    pub(crate) fn drop_app(&mut self, client_id: &str) {
        self.bindings.retain(|b| b.client_id != client_id);
        self.queue.retain(|r| r.client_id != client_id);
    }

    /// Queues an event for an offline binding. An unreserved record of the same message
    /// (same event and data, same application and source) is updated instead of added: the
    /// queue keeps the object's last change, not every change (`EventOfflineTable::callEvent`).
    pub(crate) fn enqueue(&mut self, binding: &Binding, data: &Value, user_id: i64) {
        let message_id = message_id(&binding.event, data);
        let now = SystemTime::now();
        let mut additional = Map::new();
        additional.insert("user_id".into(), Value::from(user_id));
        let additional = Value::Object(additional);
        if let Some(r) = self.queue.iter_mut().find(|r| {
            r.message_id == message_id
                && r.client_id == binding.client_id
                && r.connector_id == binding.connector_id
                && r.process_id.is_empty()
        }) {
            r.timestamp = now;
            r.data = data.clone();
            r.additional = additional;
            return;
        }
        self.next_record += 1;
        self.queue.push(OfflineRecord {
            id: self.next_record,
            timestamp: now,
            message_id,
            client_id: binding.client_id.clone(),
            event: binding.event.clone(),
            data: data.clone(),
            additional,
            process_id: String::new(),
            connector_id: binding.connector_id.clone(),
            error: false,
        });
    }

    fn record_json(r: &OfflineRecord, with_state: bool, utc_offset: i32) -> Value {
        let mut m = Map::new();
        m.insert("ID".into(), Value::from(r.id.to_string()));
        m.insert(
            "TIMESTAMP_X".into(),
            Value::from(timestamp(r.timestamp, utc_offset)),
        );
        m.insert("EVENT_NAME".into(), Value::from(r.event.clone()));
        m.insert("EVENT_DATA".into(), r.data.clone());
        m.insert("EVENT_ADDITIONAL".into(), r.additional.clone());
        m.insert("MESSAGE_ID".into(), Value::from(r.message_id.clone()));
        if with_state {
            m.insert("PROCESS_ID".into(), Value::from(r.process_id.clone()));
            m.insert("ERROR".into(), Value::from(if r.error { "1" } else { "0" }));
        }
        Value::Object(m)
    }

    /// `event.offline.get`.
    pub(crate) fn offline_get(
        &mut self,
        caller: &AppCaller<'_>,
        params: &Map<String, Value>,
        utc_offset: i32,
    ) -> Result<Value, ApiErr> {
        if !caller.admin {
            return Err(access(""));
        }
        let clear = get_ci(params, "clear").map_or(1, php_intval) != 0;
        let given =
            get_ci(params, "process_id").map(|v| as_text(v).unwrap_or_default().trim().to_string());
        let limit = get_ci(params, "limit").map_or(LIST_LIMIT, php_intval);
        let errors = get_ci(params, "error").is_some_and(|v| php_intval(v) == 1);
        let connector = text(params, "auth_connector");
        if limit <= 0 {
            return Err(arg("Value must be positive integer"));
        }
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let conds = conditions(params, GET_FIELDS);
        let order = order(params, GET_FIELDS, "TIMESTAMP_X");
        let mine = |r: &OfflineRecord| {
            r.client_id == caller.client_id && r.connector_id == connector && r.error == errors
        };
        let return_process = !clear || given.is_some();
        let process_id = match given {
            Some(p) => p,
            None => {
                let mut free: Vec<&OfflineRecord> = self
                    .queue
                    .iter()
                    .filter(|r| mine(r) && r.process_id.is_empty() && matches(r, &conds))
                    .collect();
                sort(&mut free, &order);
                let ids: Vec<u64> = free.iter().take(limit).map(|r| r.id).collect();
                let pid = crate::oauth::new_token();
                for r in self.queue.iter_mut().filter(|r| ids.contains(&r.id)) {
                    r.process_id = pid.clone();
                }
                pid
            }
        };
        let mut batch: Vec<&OfflineRecord> = self
            .queue
            .iter()
            .filter(|r| mine(r) && r.process_id == process_id && matches(r, &conds))
            .collect();
        sort(&mut batch, &order);
        let events: Vec<Value> = batch
            .iter()
            .take(limit)
            .map(|r| Self::record_json(r, false, utc_offset))
            .collect();
        if clear && !events.is_empty() {
            self.queue.retain(|r| {
                !(r.process_id == process_id
                    && r.client_id == caller.client_id
                    && r.connector_id == connector)
            });
        }
        let mut m = Map::new();
        m.insert(
            "process_id".into(),
            if return_process {
                Value::from(process_id)
            } else {
                Value::Null
            },
        );
        m.insert("events".into(), Value::Array(events));
        Ok(Value::Object(m))
    }

    /// `event.offline.clear`.
    pub(crate) fn offline_clear(
        &mut self,
        caller: &AppCaller<'_>,
        params: &Map<String, Value>,
    ) -> Result<Value, ApiErr> {
        let process_id = admin_process_id(caller, params)?;
        let connector = text(params, "auth_connector");
        let in_batch = |r: &OfflineRecord| {
            r.process_id == process_id
                && r.client_id == caller.client_id
                && r.connector_id == connector
        };
        if let Some(v) = get_ci(params, "message_id") {
            let bad = || arg("Value must be array of MESSAGE_ID values");
            let items = php_items(v).ok_or_else(bad)?;
            let mut ids = Vec::new();
            for (_, item) in items {
                let id = as_text(item).unwrap_or_default().trim().to_string();
                if id.chars().count() != 32 {
                    return Err(bad());
                }
                ids.push(id);
            }
            self.queue
                .retain(|r| !(in_batch(r) && ids.contains(&r.message_id)));
        } else if let Some(v) = get_ci(params, "id") {
            let bad = || arg("Value must be array of integers");
            let items = php_items(v).ok_or_else(bad)?;
            let mut ids = Vec::new();
            for (_, item) in items {
                let id = php_intval(item);
                if id <= 0 {
                    return Err(bad());
                }
                ids.push(id as u64);
            }
            self.queue.retain(|r| !(in_batch(r) && ids.contains(&r.id)));
        } else {
            self.queue.retain(|r| !in_batch(r));
        }
        Ok(Value::Bool(true))
    }

    /// `event.offline.error`: the batch's records of `message_id` become error records (no
    /// process id, `ERROR` = 1); newer unreserved copies of them are dropped, and an error
    /// record already waiting for the same message absorbs the new one.
    pub(crate) fn offline_error(
        &mut self,
        caller: &AppCaller<'_>,
        params: &Map<String, Value>,
    ) -> Result<Value, ApiErr> {
        let process_id = admin_process_id(caller, params)?;
        let Some(items) = get_ci(params, "message_id").and_then(php_items) else {
            return Err(arg("Value must be array of MESSAGE_ID values"));
        };
        let ids: Vec<String> = items
            .into_iter()
            .map(|(_, v)| as_text(v).unwrap_or_default())
            .collect();
        if ids.is_empty() {
            return Ok(Value::Bool(true));
        }
        let connector = text(params, "auth_connector");
        let ours = |r: &OfflineRecord| {
            r.client_id == caller.client_id
                && r.connector_id == connector
                && ids.contains(&r.message_id)
        };
        self.queue
            .retain(|r| !(ours(r) && !r.error && r.process_id != process_id));
        let waiting: Vec<String> = self
            .queue
            .iter()
            .filter(|r| ours(r) && r.error && r.process_id.is_empty())
            .map(|r| r.message_id.clone())
            .collect();
        self.queue.retain(|r| {
            !(ours(r) && !r.error && r.process_id == process_id && waiting.contains(&r.message_id))
        });
        for r in self.queue.iter_mut() {
            if ours(r) && !r.error && r.process_id == process_id {
                r.error = true;
                r.process_id.clear();
            }
        }
        Ok(Value::Bool(true))
    }

    /// `event.offline.list`: one page and the total.
    pub(crate) fn offline_list(
        &self,
        caller: &AppCaller<'_>,
        params: &Map<String, Value>,
        utc_offset: i32,
    ) -> Result<(Value, Option<u64>, Option<u64>), ApiErr> {
        if !caller.admin {
            return Err(access(""));
        }
        let connector = text(params, "auth_connector");
        let conds = conditions(params, LIST_FIELDS);
        let order = order(params, LIST_FIELDS, "ID");
        let mut rows: Vec<&OfflineRecord> = self
            .queue
            .iter()
            .filter(|r| {
                r.client_id == caller.client_id && r.connector_id == connector && matches(r, &conds)
            })
            .collect();
        sort(&mut rows, &order);
        let items: Vec<Value> = rows
            .iter()
            .map(|r| Self::record_json(r, true, utc_offset))
            .collect();
        Ok(crate::paging::page(&items, params))
    }
}

/// The `PROCESS_ID` of `event.offline.clear`/`.error`, for an administrator only (the queue
/// is the application's, not a user's).
fn admin_process_id(caller: &AppCaller<'_>, params: &Map<String, Value>) -> Result<String, ApiErr> {
    if !caller.admin {
        return Err(access(""));
    }
    get_ci(params, "process_id")
        .map(|v| as_text(v).unwrap_or_default().trim().to_string())
        .ok_or_else(|| arg_null("PROCESS_ID"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Any JSON a form or a JSON body can carry, a few levels deep.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            ".{0,40}".prop_map(Value::String),
            "[<>=!]{0,2}(ID|TIMESTAMP_X|EVENT_NAME|MESSAGE_ID|PROCESS_ID|ERROR)"
                .prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(
                    "[<>=!]{0,2}(ID|TIMESTAMP_X|EVENT_NAME|MESSAGE_ID|ERROR|x)",
                    inner,
                    0..4
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn params() -> impl Strategy<Value = Map<String, Value>> {
        proptest::collection::btree_map(
            prop_oneof![
                Just("event".to_string()),
                Just("handler".to_string()),
                Just("event_type".to_string()),
                Just("auth_type".to_string()),
                Just("auth_connector".to_string()),
                Just("filter".to_string()),
                Just("order".to_string()),
                Just("limit".to_string()),
                Just("clear".to_string()),
                Just("error".to_string()),
                Just("process_id".to_string()),
                Just("message_id".to_string()),
                Just("id".to_string()),
                Just("start".to_string()),
            ],
            value(),
            0..8,
        )
        .prop_map(|m| m.into_iter().collect())
    }

    fn known(e: &str) -> bool {
        e == "ONAPPTEST"
    }

    fn seeded() -> Subscriptions {
        let mut s = Subscriptions::default();
        let caller = AppCaller {
            client_id: "app",
            user_id: 1,
            admin: true,
        };
        let bind: Map<String, Value> =
            serde_json::from_value(json!({"event": "ONAPPTEST", "event_type": "offline"})).unwrap();
        s.bind(&caller, &bind, known).unwrap();
        let b = s.bindings[0].clone();
        for i in 0..5 {
            s.enqueue(&b, &json!({"ID": i}), 1);
        }
        s
    }

    proptest! {
        /// Whatever the parameters, every `event.*` method answers a value or a typed error
        /// (400 or 403) and never panics; the queue never grows (only raising an event adds
        /// records) and its ids stay unique.
        #[test]
        fn any_parameters_give_a_value_or_a_typed_error(p in params(), admin in any::<bool>()) {
            let mut s = seeded();
            let before = s.queue.len();
            let caller = AppCaller { client_id: "app", user_id: if admin { 1 } else { 7 }, admin };
            let outcomes = [
                s.bind(&caller, &p, known).map(|_| ()),
                s.offline_get(&caller, &p, 10_800).map(|_| ()),
                s.offline_list(&caller, &p, 10_800).map(|_| ()),
                s.offline_error(&caller, &p).map(|_| ()),
                s.offline_clear(&caller, &p).map(|_| ()),
                s.unbind(&caller, &p).map(|_| ()),
            ];
            for o in outcomes {
                if let Err(e) = o {
                    prop_assert!(e.status == 400 || e.status == 403, "{e:?}");
                    prop_assert!(!e.code.is_empty());
                }
            }
            let _ = s.list_bindings(&caller);
            prop_assert!(s.queue.len() <= before);
            let mut ids: Vec<u64> = s.queue.iter().map(|r| r.id).collect();
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(ids.len(), s.queue.len());
        }
    }

    #[test]
    fn equal_events_share_a_message_id_and_others_do_not() {
        let a = message_id("ONAPPTEST", &json!({"ID": 1}));
        assert_eq!(a, message_id("ONAPPTEST", &json!({"ID": 1})));
        assert_ne!(a, message_id("ONAPPTEST", &json!({"ID": 2})));
        assert_ne!(a, message_id("ONAPPUPDATE", &json!({"ID": 1})));
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
