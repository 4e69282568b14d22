//! The offline queue: events queued for offline bindings, and `event.offline.get`, `.clear`,
//! `.error`, `.list` (`EventOfflineTable`).

use std::hash::{Hash, Hasher};
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::filter::{conditions, matches, order, sort, Condition};
use super::{access, arg, arg_null, AppCaller, Binding, OfflineRecord, Subscriptions};
use crate::errors::ApiErr;
use crate::params::{as_text, get_ci, get_text, php_intval, php_items};

/// Records `event.offline.get` takes by default, and the page of `event.offline.list`.
const LIST_LIMIT: i64 = 50;

/// The fields `event.offline.get` filters and sorts on.
const GET_FIELDS: &[&str] = &["ID", "TIMESTAMP_X", "EVENT_NAME", "MESSAGE_ID"];

/// The fields `event.offline.list` filters and sorts on.
const LIST_FIELDS: &[&str] = &[
    "ID",
    "TIMESTAMP_X",
    "EVENT_NAME",
    "MESSAGE_ID",
    "PROCESS_ID",
    "ERROR",
];

/// The offline queue's key of an event: the server takes md5(name|json(data)); a 128-bit
/// hash of the same text keeps the property that matters (equal events, equal key) with 32
/// hex digits.
pub(super) fn message_id(event: &str, data: &Value) -> String {
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

/// A record as `event.offline.get` (without its state) or `.list` (`with_state`) answer it.
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

/// What an `event.offline.get` asks for.
struct GetAsk {
    /// `CLEAR` (default 1): the records given are removed.
    clear: bool,
    /// `PROCESS_ID`: the records of an earlier call, instead of reserving new ones.
    given: Option<String>,
    /// `LIMIT`.
    limit: usize,
    /// `ERROR`: the error records instead of the others.
    errors: bool,
    /// `AUTH_CONNECTOR`.
    connector: String,
    conds: Vec<Condition>,
    order: Vec<(String, bool)>,
}

impl GetAsk {
    fn read(params: &Map<String, Value>) -> Result<GetAsk, ApiErr> {
        let limit = get_ci(params, "limit").map_or(LIST_LIMIT, php_intval);
        let ask = GetAsk {
            clear: get_ci(params, "clear").map_or(1, php_intval) != 0,
            given: get_ci(params, "process_id")
                .map(|v| as_text(v).unwrap_or_default().trim().to_string()),
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            errors: get_ci(params, "error").is_some_and(|v| php_intval(v) == 1),
            connector: get_text(params, "auth_connector"),
            conds: conditions(params, GET_FIELDS),
            order: order(params, GET_FIELDS, "TIMESTAMP_X"),
        };
        if limit <= 0 {
            return Err(arg("Value must be positive integer"));
        }
        Ok(ask)
    }

    /// A record of the caller's connector, of the kind asked for, meeting the filter.
    fn wants(&self, caller: &AppCaller<'_>, r: &OfflineRecord) -> bool {
        r.client_id == caller.client_id
            && r.connector_id == self.connector
            && r.error == self.errors
            && matches(r, &self.conds)
    }
}

/// Which records of a batch `event.offline.clear` removes.
enum ClearWhich {
    /// `MESSAGE_ID`: those of these messages.
    Messages(Vec<String>),
    /// `ID`: those of these ids.
    Ids(Vec<u64>),
    /// Neither: the whole batch.
    All,
}

impl ClearWhich {
    fn read(params: &Map<String, Value>) -> Result<ClearWhich, ApiErr> {
        if let Some(v) = get_ci(params, "message_id") {
            let bad = || arg("Value must be array of MESSAGE_ID values");
            let mut ids = Vec::new();
            for (_, item) in php_items(v).ok_or_else(bad)? {
                let id = as_text(item).unwrap_or_default().trim().to_string();
                if id.chars().count() != 32 {
                    return Err(bad());
                }
                ids.push(id);
            }
            Ok(ClearWhich::Messages(ids))
        } else if let Some(v) = get_ci(params, "id") {
            let bad = || arg("Value must be array of integers");
            let mut ids = Vec::new();
            for (_, item) in php_items(v).ok_or_else(bad)? {
                let id = php_intval(item);
                if id <= 0 {
                    return Err(bad());
                }
                ids.push(id as u64);
            }
            Ok(ClearWhich::Ids(ids))
        } else {
            Ok(ClearWhich::All)
        }
    }

    fn covers(&self, r: &OfflineRecord) -> bool {
        match self {
            ClearWhich::Messages(ids) => ids.contains(&r.message_id),
            ClearWhich::Ids(ids) => ids.contains(&r.id),
            ClearWhich::All => true,
        }
    }
}

impl Subscriptions {
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

    /// Reserves the first `limit` free records the caller asks for under a new process id.
    fn reserve(&mut self, caller: &AppCaller<'_>, ask: &GetAsk) -> String {
        let mut free: Vec<&OfflineRecord> = self
            .queue
            .iter()
            .filter(|r| ask.wants(caller, r) && r.process_id.is_empty())
            .collect();
        sort(&mut free, &ask.order);
        let ids: Vec<u64> = free.iter().take(ask.limit).map(|r| r.id).collect();
        let pid = crate::oauth::new_token();
        for r in self.queue.iter_mut().filter(|r| ids.contains(&r.id)) {
            r.process_id = pid.clone();
        }
        pid
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
        let ask = GetAsk::read(params)?;
        let process_id = match &ask.given {
            Some(p) => p.clone(),
            None => self.reserve(caller, &ask),
        };
        let mut batch: Vec<&OfflineRecord> = self
            .queue
            .iter()
            .filter(|r| ask.wants(caller, r) && r.process_id == process_id)
            .collect();
        sort(&mut batch, &ask.order);
        let events: Vec<Value> = batch
            .iter()
            .take(ask.limit)
            .map(|r| record_json(r, false, utc_offset))
            .collect();
        if ask.clear && !events.is_empty() {
            self.queue.retain(|r| {
                !(r.process_id == process_id
                    && r.client_id == caller.client_id
                    && r.connector_id == ask.connector)
            });
        }
        let return_process = !ask.clear || ask.given.is_some();
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
        let connector = get_text(params, "auth_connector");
        let which = ClearWhich::read(params)?;
        self.queue.retain(|r| {
            !(r.process_id == process_id
                && r.client_id == caller.client_id
                && r.connector_id == connector
                && which.covers(r))
        });
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
        let connector = get_text(params, "auth_connector");
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
        let connector = get_text(params, "auth_connector");
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
            .map(|r| record_json(r, true, utc_offset))
            .collect();
        Ok(crate::paging::page(&items, params))
    }
}
