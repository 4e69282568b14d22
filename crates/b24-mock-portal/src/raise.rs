//! Raising events: every binding of an event gets it, an online one as a POST from the
//! delivery task (with a fresh `auth` block), an offline one in the queue.

use std::time::{Instant, UNIX_EPOCH};

use serde_json::Value;

use crate::engine::Engine;

impl Engine {
    /// Raises the events a state change asked for.
    pub(crate) fn raise_all(
        &self,
        events: Vec<crate::openlines::Raise>,
        user_id: i64,
        skip_connector: Option<&str>,
    ) {
        for (name, data, only) in events {
            self.raise(name, &data, only.as_deref(), user_id, skip_connector);
        }
    }

    /// Whether `event` (upper case) can be bound with a token of `scopes`: an event of the
    /// global scope, or an event spec of one of the scopes.
    pub(crate) fn event_known(&self, event: &str, scopes: Option<&[String]>) -> bool {
        if crate::subscriptions::GLOBAL_EVENTS.contains(&event) {
            return true;
        }
        self.event_spec(event).is_some_and(|spec| {
            scopes.is_none_or(|s| s.iter().any(|s| s.eq_ignore_ascii_case(&spec.scope)))
        })
    }

    /// The scope an event's `auth[scope]` names.
    fn event_scope(&self, event: &str) -> String {
        self.event_spec(event)
            .map_or_else(|| "basic".to_string(), |s| s.scope.clone())
    }

    /// Raises `event` with `data`: every binding of it (of `only_app`, or of every
    /// installed application) gets it, an online one as a POST from the delivery task, an
    /// offline one in the queue (unless it was bound with `skip_connector`, the source that
    /// made the change). `user_id` is the user whose action raised it. Returns how many
    /// bindings it reached.
    pub(crate) fn raise(
        &self,
        event: &str,
        data: &Value,
        only_app: Option<&str>,
        user_id: i64,
        skip_connector: Option<&str>,
    ) -> usize {
        let name = event.to_uppercase();
        let bindings = self.subs().bindings_of(&name, only_app);
        let scope = self.event_scope(&name);
        let mut offline = Vec::new();
        let mut reached = 0;
        for b in bindings {
            if !self.installed(&b.client_id) {
                // Events go to installed applications only.
                continue;
            }
            if b.offline() {
                if !b.connector_id.is_empty() && skip_connector == Some(b.connector_id.as_str()) {
                    continue;
                }
                offline.push(b);
                reached += 1;
                continue;
            }
            let user = if b.user_id > 0 { b.user_id } else { user_id };
            if self.post_event(&b, &name, data.clone(), &scope, user, false) {
                reached += 1;
            }
        }
        let mut notify: Vec<String> = Vec::new();
        {
            let mut subs = self.subs();
            for b in &offline {
                subs.enqueue(b, data, user_id);
                if !notify.contains(&b.client_id) {
                    notify.push(b.client_id.clone());
                }
            }
        }
        // New records in an application's queue: its ONOFFLINEEVENT handlers hear of it, at
        // most once per `minTimeout` (EventOfflineTable::prepareOfflineEvent).
        for client_id in notify {
            let due = self
                .subs()
                .offline_notifications(&client_id, Instant::now());
            for b in due {
                self.post_event(
                    &b,
                    "ONOFFLINEEVENT",
                    Value::Array(Vec::new()),
                    "basic",
                    user_id,
                    true,
                );
            }
        }
        reached
    }

    /// Whether `client_id` is installed (has an application token).
    fn installed(&self, client_id: &str) -> bool {
        self.registry()
            .app(client_id)
            .is_some_and(|a| a.application_token.is_some())
    }

    /// Queues the POST of `event` to an online binding, with the `auth` block: a fresh access
    /// token for `user` (and a refresh token with `with_refresh`, as ONOFFLINEEVENT sends),
    /// the portal's identity and the application's token. `false` if the application is gone.
    fn post_event(
        &self,
        b: &crate::subscriptions::Binding,
        event: &str,
        data: Value,
        scope: &str,
        user: i64,
        with_refresh: bool,
    ) -> bool {
        let (app, application_token, access, refresh) = {
            let mut registry = self.registry();
            let Some((app, application_token)) = registry
                .app(&b.client_id)
                .and_then(|a| Some((a.app.clone(), a.application_token.clone()?)))
            else {
                return false;
            };
            let (access, refresh) = if with_refresh {
                match registry.issue(&b.client_id, user, &self.place) {
                    Ok(pair) => {
                        let at = registry
                            .access(&pair.access_token)
                            .and_then(|a| a.expires_at);
                        ((pair.access_token, at), Some(pair.refresh_token))
                    }
                    Err(_) => return false,
                }
            } else {
                match registry.issue_access(&b.client_id, user) {
                    Some(a) => ((a.token, a.expires_at), None),
                    None => return false,
                }
            };
            (app, application_token, access, refresh)
        };
        let expires = access
            .1
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let client_endpoint = self.place.client_endpoint();
        let auth = crate::events::EventAuth {
            access_token: &access.0,
            expires,
            expires_in: app.access_lifetime.as_secs(),
            scope,
            domain: &self.place.domain,
            server_endpoint: &client_endpoint,
            status: &app.status,
            client_endpoint: &client_endpoint,
            member_id: &self.place.member_id,
            user_id: user,
            refresh_token: refresh.as_deref(),
            application_token: &application_token,
        }
        .into_map();
        let payload = crate::events::envelope(event, b.id, data, auth);
        self.deliveries.send(crate::events::Job {
            event: event.to_string(),
            handler: b.handler.clone(),
            client_id: b.client_id.clone(),
            body: crate::events::form_body(&payload),
        });
        true
    }
}
