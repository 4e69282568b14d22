//! Event subscriptions of the applications (`event.bind`, `event.unbind`, `event.get`) and the
//! offline queue (`event.offline.get`, `.clear`, `.error`, `.list`), following the server code
//! (the `rest` module: `Api\Event`, `EventTable`, `EventOfflineTable`).
//!
//! [`bindings`] keeps the handlers, [`queue`] the offline queue, [`filter`] reads the `filter`
//! and `order` of the queue's methods; this module holds what they share.

mod bindings;
mod filter;
mod queue;

use std::time::SystemTime;

use serde_json::Value;

use crate::errors::ApiErr;

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

impl Subscriptions {
    /// Drops every binding and queued record of an application (an uninstall).
    pub(crate) fn drop_app(&mut self, client_id: &str) {
        self.bindings.retain(|b| b.client_id != client_id);
        self.queue.retain(|r| r.client_id != client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::queue::message_id;
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Map};

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
