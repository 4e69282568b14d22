//! `event.bind`, `event.unbind`, `event.get`, and the bindings an event is raised to
//! (`Api\Event`, `EventTable`, `HandlerHelper`).

use serde_json::{Map, Value};

use super::{access, arg, arg_null, AppCaller, Binding, Subscriptions};
use crate::errors::ApiErr;
use crate::params::{get_ci, get_text, key_ci, php_intval};

/// Events that cannot be bound offline (`disableOffline` in the server's description).
const ONLINE_ONLY: &[&str] = &["ONOFFLINEEVENT"];

/// `EVENT_TYPE`: `online` (also when absent or empty) or `offline`.
fn event_type(params: &Map<String, Value>) -> Result<bool, ApiErr> {
    match get_text(params, "event_type").to_lowercase().as_str() {
        "" | "online" => Ok(false),
        "offline" => Ok(true),
        _ => Err(arg("Value must be one of {online|offline}")),
    }
}

/// The checks of the server's `HandlerHelper::checkCallback` the local portal can make: an
/// `http`/`https` URL whose host name has a dot (`localhost` has none).
fn check_handler(url: &str) -> Result<(), ApiErr> {
    let wrong_url = || ApiErr::new(400, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL");
    let parsed = url::Url::parse(url).map_err(|_| wrong_url())?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(ApiErr::new(
            400,
            "ERROR_UNSUPPORTED_PROTOCOL",
            "Unsupported handler protocol",
        ));
    }
    match parsed.host_str() {
        Some(host) if host.contains('.') || host.contains(':') => Ok(()),
        _ => Err(wrong_url()),
    }
}

/// The user an `event.bind` is authorized as (`AUTH_TYPE`): another user's only for an
/// administrator; without one, the caller (an administrator's binding acts for whoever
/// raised the event, 0).
fn bind_user(caller: &AppCaller<'_>, params: &Map<String, Value>) -> Result<i64, ApiErr> {
    let user = get_ci(params, "auth_type").map_or(0, php_intval);
    if user > 0 {
        if !caller.admin && user != caller.user_id {
            return Err(access(
                "Event binding with AUTH_TYPE requires administrator access rights",
            ));
        }
        Ok(user)
    } else if caller.admin {
        Ok(user)
    } else {
        Ok(caller.user_id)
    }
}

/// The handler of an `event.bind` or `.unbind`: none for an offline one (administrators
/// only, `denied` says what), else the required `HANDLER`.
fn handler(
    caller: &AppCaller<'_>,
    params: &Map<String, Value>,
    offline: bool,
    denied: &str,
) -> Result<String, ApiErr> {
    if offline {
        if !caller.admin {
            return Err(access(denied));
        }
        return Ok(String::new());
    }
    let handler = get_text(params, "handler");
    if handler.is_empty() {
        return Err(arg_null("HANDLER"));
    }
    Ok(handler)
}

/// The binding an `event.bind` asks for, checked as the server does, in its order; `known`
/// says whether an event exists in a scope of the token (or the global scope).
fn binding_asked(
    caller: &AppCaller<'_>,
    params: &Map<String, Value>,
    known: impl Fn(&str) -> bool,
) -> Result<Binding, ApiErr> {
    let event = get_text(params, "event").to_uppercase();
    let offline = event_type(params)?;
    let mut user_id = bind_user(caller, params)?;
    if event.is_empty() {
        return Err(arg_null("EVENT"));
    }
    let handler = handler(
        caller,
        params,
        offline,
        "Offline events binding requires administrator access rights",
    )?;
    if offline {
        user_id = 0;
    } else {
        check_handler(&handler)?;
    }
    if !known(&event) {
        return Err(ApiErr::new(400, "ERROR_EVENT_NOT_FOUND", "Event not found"));
    }
    if offline && ONLINE_ONLY.contains(&event.as_str()) {
        return Err(arg("Offline event cannot be registered for this event."));
    }
    // `allowOptions` of ONOFFLINEEVENT: `minTimeout` (int).
    let min_timeout = (event == "ONOFFLINEEVENT")
        .then(|| get_ci(params, "options").and_then(|o| key_ci(o, "minTimeout")))
        .flatten()
        .map(php_intval);
    Ok(Binding {
        id: 0,
        client_id: caller.client_id.to_string(),
        event,
        handler,
        user_id,
        connector_id: get_text(params, "auth_connector"),
        min_timeout,
    })
}

/// Which bindings of the caller an `event.unbind` may remove: of one user
/// (`AUTH_TYPE`, another's only for an administrator; the caller's own without it, unless an
/// administrator), of one connector (offline ones).
struct UnbindScope {
    user: Option<i64>,
    connector: Option<String>,
}

fn unbind_scope(
    caller: &AppCaller<'_>,
    params: &Map<String, Value>,
    offline: bool,
) -> Result<UnbindScope, ApiErr> {
    if offline {
        return Ok(UnbindScope {
            user: None,
            connector: Some(get_text(params, "auth_connector")),
        });
    }
    let user = match get_ci(params, "auth_type") {
        Some(v) => {
            let wanted = php_intval(v);
            if !caller.admin && wanted != caller.user_id {
                return Err(access(
                    "Event unbinding with AUTH_TYPE requires administrator access rights",
                ));
            }
            Some(wanted)
        }
        None if caller.admin => None,
        None => Some(caller.user_id),
    };
    Ok(UnbindScope {
        user,
        connector: None,
    })
}

/// An element of `event.get`'s answer.
fn binding_json(b: &Binding) -> Value {
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
}

impl Subscriptions {
    /// `event.bind`. `known` says whether an event exists in a scope of the token (or the
    /// global scope).
    pub(crate) fn bind(
        &mut self,
        caller: &AppCaller<'_>,
        params: &Map<String, Value>,
        known: impl Fn(&str) -> bool,
    ) -> Result<Value, ApiErr> {
        let mut asked = binding_asked(caller, params, known)?;
        let duplicate = self.bindings.iter().any(|b| {
            b.client_id == asked.client_id
                && b.event == asked.event
                && b.handler == asked.handler
                && b.user_id == asked.user_id
                && b.connector_id == asked.connector_id
        });
        if duplicate {
            return Err(ApiErr::new(
                400,
                "ERROR_CORE",
                "Unable to set event handler: Handler already binded",
            ));
        }
        self.next_binding += 1;
        asked.id = self.next_binding;
        self.bindings.push(asked);
        Ok(Value::Bool(true))
    }

    /// `event.unbind`.
    pub(crate) fn unbind(
        &mut self,
        caller: &AppCaller<'_>,
        params: &Map<String, Value>,
    ) -> Result<Value, ApiErr> {
        let event = get_text(params, "event").to_uppercase();
        if event.is_empty() {
            return Err(arg_null("EVENT"));
        }
        let offline = event_type(params)?;
        let handler = handler(
            caller,
            params,
            offline,
            "Offline events unbinding requires administrator access rights",
        )?;
        let scope = unbind_scope(caller, params, offline)?;
        let before = self.bindings.len();
        self.bindings.retain(|b| {
            !(b.client_id == caller.client_id
                && b.event == event
                && b.handler == handler
                && scope.user.is_none_or(|u| b.user_id == u)
                && scope
                    .connector
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
                .map(binding_json)
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
}
