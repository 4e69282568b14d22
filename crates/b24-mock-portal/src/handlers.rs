//! The methods the portal answers from its own state (seeded chats, connectors and
//! conversations, event bindings and the offline queue): one table by method name, handed to
//! the [`Engine`] by `lib.rs`, so the engine never names a method.

use b24_spec::Spec;
use serde_json::{Map, Value};

use crate::engine::{AuthCtx, Engine, Handler, Outcome, Registry};
use crate::errors::{wrong_auth_type, ApiErr};
use crate::params::{as_text, get_ci};
use crate::specs::{example_or_default, validate};
use crate::subscriptions::AppCaller;

/// Every stateful method. (Which methods need an application's context is the specs'
/// `auth` key, checked by the engine before a handler runs.)
pub(crate) static REGISTRY: Registry = Registry { stateful: STATEFUL };

const STATEFUL: &[(&str, Handler)] = &[
    ("imopenlines.dialog.get", crate::dialogs::dialog_get),
    ("imconnector.register", connector_register),
    ("imconnector.unregister", connector_unregister),
    ("imconnector.activate", connector_activate),
    ("imconnector.send.status.delivery", status_delivery),
    ("imconnector.send.status.reading", status_reading),
    ("imconnector.send.messages", send_messages),
    ("event.bind", event_bind),
    ("event.unbind", event_unbind),
    ("event.get", event_get),
    ("event.offline.get", offline_get),
    ("event.offline.clear", offline_clear),
    ("event.offline.error", offline_error),
    ("event.offline.list", offline_list),
];

/// Checks the parameters against the spec, then answers the spec's example after `change`.
fn checked(spec: &Spec, params: &Map<String, Value>, change: impl FnOnce()) -> Outcome {
    validate(spec, params).map_err(|m| ApiErr::new(400, "ERROR_ARGUMENT", &m))?;
    let example = example_or_default(spec);
    change();
    Ok((example, None, None))
}

fn connector_register(e: &Engine, a: &AuthCtx, s: &Spec, p: &Map<String, Value>) -> Outcome {
    checked(s, p, || e.lines().register(a.client_id.as_deref(), p))
}

fn connector_unregister(e: &Engine, a: &AuthCtx, s: &Spec, p: &Map<String, Value>) -> Outcome {
    checked(s, p, || e.lines().unregister(a.client_id.as_deref(), p))
}

fn connector_activate(e: &Engine, _: &AuthCtx, s: &Spec, p: &Map<String, Value>) -> Outcome {
    checked(s, p, || e.lines().activate(p))
}

fn status_delivery(e: &Engine, _: &AuthCtx, s: &Spec, p: &Map<String, Value>) -> Outcome {
    checked(s, p, || e.lines().status(p, false))
}

fn status_reading(e: &Engine, _: &AuthCtx, s: &Spec, p: &Map<String, Value>) -> Outcome {
    checked(s, p, || e.lines().status(p, true))
}

fn send_messages(e: &Engine, a: &AuthCtx, s: &Spec, p: &Map<String, Value>) -> Outcome {
    validate(s, p).map_err(|m| ApiErr::new(400, "ERROR_ARGUMENT", &m))?;
    let (result, events) = e.lines().receive(p);
    let source = get_ci(p, "auth_connector").and_then(as_text);
    e.raise_all(events, a.user_id, source.as_deref());
    Ok((result, None, None))
}

/// The caller of an `event.*` method: an application's token only. The engine refused
/// any other caller already (the specs' `auth = "application"`); this names the application.
fn app_caller(auth: &AuthCtx) -> Result<AppCaller<'_>, ApiErr> {
    match &auth.client_id {
        Some(c) if auth.in_app_context() => Ok(AppCaller {
            client_id: c.as_str(),
            user_id: auth.user_id,
            admin: auth.admin,
        }),
        _ => Err(wrong_auth_type()),
    }
}

fn one(r: Result<Value, ApiErr>) -> Outcome {
    r.map(|v| (v, None, None))
}

fn event_bind(e: &Engine, a: &AuthCtx, _: &Spec, p: &Map<String, Value>) -> Outcome {
    let caller = app_caller(a)?;
    let mut subs = e.subs();
    one(subs.bind(&caller, p, |ev| e.event_known(ev, a.scopes.as_deref())))
}

fn event_unbind(e: &Engine, a: &AuthCtx, _: &Spec, p: &Map<String, Value>) -> Outcome {
    let caller = app_caller(a)?;
    one(e.subs().unbind(&caller, p))
}

fn event_get(e: &Engine, a: &AuthCtx, _: &Spec, _: &Map<String, Value>) -> Outcome {
    let caller = app_caller(a)?;
    one(Ok(e.subs().list_bindings(&caller)))
}

fn offline_get(e: &Engine, a: &AuthCtx, _: &Spec, p: &Map<String, Value>) -> Outcome {
    let caller = app_caller(a)?;
    one(e.subs().offline_get(&caller, p, e.cfg.utc_offset_seconds))
}

fn offline_clear(e: &Engine, a: &AuthCtx, _: &Spec, p: &Map<String, Value>) -> Outcome {
    let caller = app_caller(a)?;
    one(e.subs().offline_clear(&caller, p))
}

fn offline_error(e: &Engine, a: &AuthCtx, _: &Spec, p: &Map<String, Value>) -> Outcome {
    let caller = app_caller(a)?;
    one(e.subs().offline_error(&caller, p))
}

fn offline_list(e: &Engine, a: &AuthCtx, _: &Spec, p: &Map<String, Value>) -> Outcome {
    let caller = app_caller(a)?;
    e.subs().offline_list(&caller, p, e.cfg.utc_offset_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_method_has_a_spec_and_no_name_twice() {
        let specs = crate::specs::SpecSet::embedded().unwrap();
        let mut seen = std::collections::HashSet::new();
        for (name, _) in REGISTRY.stateful {
            assert!(specs.get(name).is_some(), "{name}: no spec");
            assert!(seen.insert(*name), "{name} twice");
            // The `event.*` handlers act for the calling application, which the engine has
            // made sure of from the spec.
            if name.starts_with("event.") {
                assert_eq!(
                    specs.get(name).unwrap().auth,
                    b24_spec::Auth::Application,
                    "{name}"
                );
            }
        }
    }
}
