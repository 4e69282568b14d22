//! What the portal does with one call once the HTTP layer has read it: scope, limits, error
//! rules, the method itself (from its spec's example, or a stateful handler of the registry
//! `lib.rs` hands in), and the `time` block. Counters, faults, paging, `batch` and errors
//! live in their own modules.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use b24_core::PortalErrorCode;
use b24_spec::{Auth, Spec};
use serde_json::{Map, Value};

use crate::config::{ExtraBehavior, PortalConfig, MOCK_ERROR_PARAM};
pub use crate::counters::{Counters, UNKNOWN_METHOD};
use crate::errors::{portal_error, portal_error_named, ApiErr};
use crate::faults::{FaultPlan, Faults};
use crate::limits::{Bucket, Operating, OperatingState};
use crate::paging::page;
use crate::params::{as_text, get_ci};
use crate::specs::{example_or_default, validate, SpecSet};

/// Who is calling.
#[derive(Debug, Clone)]
pub(crate) struct AuthCtx {
    /// Granted scopes; `None` all.
    pub(crate) scopes: Option<Vec<String>>,
    /// An incoming webhook (not OAuth): methods that need an application refuse it.
    pub(crate) webhook: bool,
    /// The application of the OAuth token, if any.
    pub(crate) client_id: Option<String>,
    /// The user the call acts for.
    pub(crate) user_id: i64,
    /// Whether that user administers the portal.
    pub(crate) admin: bool,
}

impl AuthCtx {
    /// Whether the call is made in an application's context: an OAuth token of an
    /// application, not a webhook (what a spec's `auth = "application"` asks for).
    pub(crate) fn in_app_context(&self) -> bool {
        !self.webhook && self.client_id.is_some()
    }

    /// The webhook's context.
    pub(crate) fn webhook(scopes: Option<Vec<String>>, user_id: i64) -> Self {
        AuthCtx {
            scopes,
            webhook: true,
            client_id: None,
            user_id,
            admin: true,
        }
    }
}

/// A successful call.
#[derive(Debug, Clone)]
pub(crate) struct Success {
    pub(crate) result: Value,
    pub(crate) next: Option<u64>,
    pub(crate) total: Option<u64>,
    pub(crate) time: Value,
}

impl Success {
    pub(crate) fn body(self) -> Value {
        let mut m = Map::new();
        m.insert("result".into(), self.result);
        if let Some(n) = self.next {
            m.insert("next".into(), Value::from(n));
        }
        if let Some(t) = self.total {
            m.insert("total".into(), Value::from(t));
        }
        m.insert("time".into(), self.time);
        Value::Object(m)
    }
}

struct Mutable {
    bucket: Bucket,
    operating: Operating,
    counters: Counters,
    faults: Faults,
    error_fired: Vec<u64>,
    counter_values: HashMap<String, u64>,
}

/// What a method answers: `result`, and `next` and `total` of a page.
pub(crate) type Outcome = Result<(Value, Option<u64>, Option<u64>), ApiErr>;

/// A method answered from the portal's state: the engine, the caller, the method's spec and
/// its parameters.
pub(crate) type Handler = fn(&Engine, &AuthCtx, &Spec, &Map<String, Value>) -> Outcome;

/// The methods the engine does not answer from the spec's example (`handlers::REGISTRY`).
#[derive(Debug)]
pub(crate) struct Registry {
    /// Stateful methods by lower-case name.
    pub(crate) stateful: &'static [(&'static str, Handler)],
}

impl Registry {
    /// No method answered from state (an engine without handlers, in tests).
    #[cfg(test)]
    pub(crate) const EMPTY: Registry = Registry { stateful: &[] };

    /// The handler of `method` (any case).
    pub(crate) fn handler(&self, method: &str) -> Option<Handler> {
        self.stateful
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(method))
            .map(|(_, h)| *h)
    }
}

/// The portal's brain, shared by all connections.
pub(crate) struct Engine {
    pub(crate) cfg: PortalConfig,
    specs: SpecSet,
    epoch: Instant,
    m: Mutex<Mutable>,
    /// Applications and the tokens issued to them.
    pub(crate) oauth: Mutex<crate::oauth::Registry>,
    /// Where this portal is (base URL, domain, member_id).
    pub(crate) place: crate::oauth::Place,
    /// Event bindings and the offline queue.
    subs: Mutex<crate::subscriptions::Subscriptions>,
    /// Events on their way to handlers.
    pub(crate) deliveries: Arc<crate::events::Deliveries>,
    /// Custom connectors and open-line conversations.
    lines: Mutex<crate::openlines::Lines>,
    /// The stateful methods.
    handlers: &'static Registry,
}

enum Target {
    Spec(Arc<Spec>),
    Extra(usize),
}

fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl Engine {
    /// Names of the events the portal can send.
    pub(crate) fn event_names(&self) -> Vec<String> {
        self.specs.event_names()
    }

    /// The event spec named `name` (any case).
    pub(crate) fn event_spec(&self, name: &str) -> Option<Arc<b24_spec::EventSpec>> {
        self.specs.event(name).cloned()
    }

    pub(crate) fn new(cfg: PortalConfig, specs: SpecSet, handlers: &'static Registry) -> Self {
        let n_rules = cfg.error_rules.len();
        let faults = Faults::new(&cfg.faults, cfg.fault_seed);
        let scheme = if cfg.tls { "https" } else { "http" };
        let domain = format!("127.0.0.1:{}", cfg.port);
        let place = crate::oauth::Place {
            base_url: format!("{scheme}://{domain}/"),
            domain,
            member_id: cfg.member_id.clone(),
        };
        let oauth = Mutex::new(crate::oauth::Registry::new(&cfg.apps, &cfg.oauth_tokens));
        Engine {
            oauth,
            place,
            subs: Mutex::new(crate::subscriptions::Subscriptions::default()),
            deliveries: Arc::new(crate::events::Deliveries::new()),
            lines: Mutex::new(crate::openlines::Lines::default()),
            handlers,
            cfg,
            specs,
            epoch: Instant::now(),
            m: Mutex::new(Mutable {
                bucket: Bucket::new(),
                operating: Operating::default(),
                counters: Counters::default(),
                faults,
                error_fired: vec![0; n_rules],
                counter_values: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Mutable> {
        // A panic while holding the lock cannot leave the counters inconsistent enough to
        // matter to a test; keep serving.
        self.m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The applications and tokens.
    pub(crate) fn registry(&self) -> MutexGuard<'_, crate::oauth::Registry> {
        self.oauth.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One request to the token endpoint, counted.
    pub(crate) fn token_request(&self, params: &Map<String, Value>) -> (u16, Value) {
        let (status, answer) = self.registry().token_request(params, &self.place);
        let mut m = self.lock();
        m.counters.token_requests += 1;
        if status == 200 {
            m.counters.tokens_refreshed += 1;
        }
        (status, answer)
    }

    pub(crate) fn method_names(&self) -> Vec<String> {
        let mut v = self.specs.names();
        v.extend(self.cfg.extra_methods.iter().map(|e| e.name.clone()));
        v
    }

    pub(crate) fn counters(&self) -> Counters {
        self.lock().counters.clone()
    }

    pub(crate) fn reset_limits(&self) {
        let mut m = self.lock();
        m.bucket = Bucket::new();
        m.operating.clear();
    }

    /// Back to the state at start: counters zeroed, bucket empty, operating time forgotten,
    /// the fault generator re-seeded and the `max_count`/`times` tallies cleared. Counter
    /// methods keep their values.
    pub(crate) fn reset(&self) {
        let mut m = self.lock();
        m.bucket = Bucket::new();
        m.operating.clear();
        m.counters = Counters::default();
        m.faults = Faults::new(&self.cfg.faults, self.cfg.fault_seed);
        m.error_fired.iter_mut().for_each(|n| *n = 0);
        drop(m);
        *self.registry() = crate::oauth::Registry::new(&self.cfg.apps, &self.cfg.oauth_tokens);
        *self.subs() = crate::subscriptions::Subscriptions::default();
        *self.lines() = crate::openlines::Lines::default();
        self.deliveries.clear();
    }

    /// Installs `client_id` afresh: the tokens and handlers of an earlier install are gone,
    /// a new application token and token pair (for the administrator) are issued. Returns the
    /// pair and the application token.
    pub(crate) fn install(
        &self,
        client_id: &str,
    ) -> Result<(crate::oauth::TokenPair, String), crate::oauth::AppError> {
        let mut registry = self.registry();
        if registry.app(client_id).is_none() {
            return Err(crate::oauth::AppError::UnknownApp(client_id.to_string()));
        }
        registry.revoke(client_id);
        let application_token = crate::oauth::new_hex32();
        if let Some(app) = registry.app_mut(client_id) {
            app.application_token = Some(application_token.clone());
        }
        let pair = registry.issue(client_id, crate::oauth::ADMIN_USER, &self.place)?;
        drop(registry);
        // "When an application is deleted or updated, its actions will be removed": the
        // handlers are bound again by the installer of each version.
        self.subs().drop_app(client_id);
        Ok((pair, application_token))
    }

    /// Uninstalls `client_id`: its ONAPPUNINSTALL handlers and application token (to post
    /// the event with) are returned, and its tokens, handlers, queue and connectors are gone.
    pub(crate) fn uninstall(
        &self,
        client_id: &str,
    ) -> Result<(Vec<crate::subscriptions::Binding>, String, String), crate::oauth::AppError> {
        let mut registry = self.registry();
        let app = registry
            .app_mut(client_id)
            .ok_or_else(|| crate::oauth::AppError::UnknownApp(client_id.to_string()))?;
        let token = app
            .application_token
            .take()
            .ok_or_else(|| crate::oauth::AppError::NotInstalled(client_id.to_string()))?;
        let status = app.app.status.clone();
        registry.revoke(client_id);
        drop(registry);
        let mut handlers = self.subs().bindings_of("ONAPPUNINSTALL", Some(client_id));
        handlers.retain(|b| !b.offline());
        self.subs().drop_app(client_id);
        self.lines().drop_app(client_id);
        Ok((handlers, token, status))
    }

    /// Connectors and conversations.
    pub(crate) fn lines(&self) -> MutexGuard<'_, crate::openlines::Lines> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bindings and the offline queue.
    pub(crate) fn subs(&self) -> MutexGuard<'_, crate::subscriptions::Subscriptions> {
        self.subs.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn bucket_level(&self) -> f64 {
        self.lock().bucket.level(&self.cfg.limits, Instant::now())
    }

    pub(crate) fn note_connection(&self) {
        self.lock().counters.connections += 1;
    }

    pub(crate) fn note_request(&self) {
        self.lock().counters.requests += 1;
    }

    /// The leaky bucket: admits the request or answers `QUERY_LIMIT_EXCEEDED`.
    pub(crate) fn admit(&self) -> Result<(), ApiErr> {
        let mut m = self.lock();
        if m.bucket.admit(&self.cfg.limits, Instant::now()) {
            m.counters.counted_by_limiter += 1;
            Ok(())
        } else {
            m.counters.rejected_by_limiter += 1;
            Err(portal_error(PortalErrorCode::QueryLimitExceeded))
        }
    }

    /// Decides the faults of one HTTP request for `method` (lower case).
    pub(crate) fn plan_faults(&self, method: &str) -> FaultPlan {
        let mut m = self.lock();
        let Mutable {
            bucket,
            counters,
            faults,
            ..
        } = &mut *m;
        let limits = &self.cfg.limits;
        faults.plan(&self.cfg.faults, method, counters, || {
            bucket.admit(limits, Instant::now())
        })
    }

    fn target(&self, method: &str) -> Option<Target> {
        if let Some(i) = self
            .cfg
            .extra_methods
            .iter()
            .position(|e| e.name.eq_ignore_ascii_case(method))
        {
            return Some(Target::Extra(i));
        }
        self.specs.get(method).cloned().map(Target::Spec)
    }

    /// The error answer for `code` on a method: its spec's status and message, else the
    /// portal-wide one.
    fn error_for(&self, spec: Option<&Spec>, code: &str) -> ApiErr {
        if let Some(e) =
            spec.and_then(|s| s.errors.iter().find(|e| e.code.eq_ignore_ascii_case(code)))
        {
            return ApiErr::new(
                e.status,
                &e.code,
                e.message.as_deref().unwrap_or(&e.description),
            );
        }
        let mut e = portal_error_named(code);
        if e.code == "insufficient_scope" {
            e.status = self.cfg.insufficient_scope_status;
        }
        e
    }

    fn time_block(&self, start: f64, processing: f64, op: OperatingState) -> Value {
        let now = now_secs();
        let finish = now.max(start + processing);
        let offset = chrono::FixedOffset::east_opt(self.cfg.utc_offset_seconds)
            .unwrap_or(chrono::Offset::fix(&chrono::Utc));
        let fmt = |t: f64| {
            chrono::DateTime::from_timestamp(t.floor() as i64, 0)
                .map(|d| {
                    d.with_timezone(&offset)
                        .format("%Y-%m-%dT%H:%M:%S%:z")
                        .to_string()
                })
                .unwrap_or_default()
        };
        let reset_at = (now + op.reset_in.as_secs_f64()).ceil() as i64;
        let mut m = Map::new();
        m.insert("start".into(), Value::from(round6(start)));
        m.insert("finish".into(), Value::from(round6(finish)));
        m.insert("duration".into(), Value::from(round6(finish - start)));
        m.insert("processing".into(), Value::from(round6(processing)));
        m.insert("date_start".into(), Value::from(fmt(start)));
        m.insert("date_finish".into(), Value::from(fmt(finish)));
        m.insert("operating_reset_at".into(), Value::from(reset_at));
        m.insert("operating".into(), Value::from(round6(op.operating)));
        Value::Object(m)
    }

    /// Time block of an answer that is not a method call (batch envelope).
    pub(crate) fn plain_time(&self, start: f64) -> Value {
        let op = OperatingState {
            operating: 0.0,
            reset_in: self.cfg.limits.operating_window,
        };
        self.time_block(start, now_secs() - start, op)
    }

    /// One call of `method` (lower case), from HTTP or from inside a batch.
    pub(crate) fn call(
        &self,
        auth: &AuthCtx,
        method: &str,
        params: &Map<String, Value>,
        in_batch: bool,
    ) -> Result<Success, ApiErr> {
        let start = now_secs();
        let r = self.call_inner(auth, method, params, in_batch, start);
        if r.is_err() {
            // Only names the portal serves get their own entry: a client sending random names
            // must not grow the counters without bound.
            let key = if method == "batch" || self.target(method).is_some() {
                method
            } else {
                UNKNOWN_METHOD
            };
            let mut m = self.lock();
            m.counters
                .methods
                .entry(key.to_string())
                .or_default()
                .errors += 1;
        }
        r
    }

    fn call_inner(
        &self,
        auth: &AuthCtx,
        method: &str,
        params: &Map<String, Value>,
        in_batch: bool,
        start: f64,
    ) -> Result<Success, ApiErr> {
        if method == "batch" && in_batch {
            return Err(portal_error(PortalErrorCode::ErrorBatchMethodNotAllowed));
        }
        let Some(target) = self.target(method) else {
            return Err(portal_error(PortalErrorCode::ErrorMethodNotFound));
        };
        let (scope, spec) = match &target {
            Target::Spec(s) => (s.scope.clone(), Some(s.clone())),
            Target::Extra(i) => (self.cfg.extra_methods[*i].scope.clone(), None),
        };
        let spec = spec.as_deref();
        if let Some(scopes) = &auth.scopes {
            // `basic` stands for the global scope (`event.*`): every token has it.
            if scope != "basic" && !scopes.iter().any(|s| s.eq_ignore_ascii_case(&scope)) {
                return Err(self.error_for(None, "insufficient_scope"));
            }
        }
        let limits = &self.cfg.limits;
        {
            let mut m = self.lock();
            m.counters
                .methods
                .entry(method.to_string())
                .or_default()
                .calls += 1;
            if m.operating.blocked(method, limits, Instant::now()) {
                m.counters.rejected_by_operating += 1;
                return Err(portal_error(PortalErrorCode::OperationTimeLimit));
            }
            for (i, rule) in self.cfg.error_rules.iter().enumerate() {
                if rule.method.eq_ignore_ascii_case(method)
                    && rule.times.is_none_or(|n| m.error_fired[i] < n)
                {
                    m.error_fired[i] += 1;
                    return Err(self.error_for(spec, &rule.code));
                }
            }
        }
        if let Some(code) = get_ci(params, MOCK_ERROR_PARAM).and_then(as_text) {
            if !code.is_empty() {
                return Err(self.error_for(spec, &code));
            }
        }
        // The method runs.
        let outcome = match &target {
            Target::Spec(s) => self.run_spec(auth, s, method, params),
            Target::Extra(i) => self.run_extra(*i, method, params),
        };
        let processing = limits
            .processing_per_method
            .get(method)
            .copied()
            .unwrap_or(limits.processing)
            .as_secs_f64()
            + (now_secs() - start).max(0.0);
        let op = {
            let mut m = self.lock();
            m.counters
                .methods
                .entry(method.to_string())
                .or_default()
                .executed += 1;
            let now = Instant::now();
            m.operating.add(method, processing, limits, self.epoch, now);
            m.operating.state(method, limits, now)
        };
        let (result, next, total) = outcome?;
        Ok(Success {
            result,
            next,
            total,
            time: self.time_block(start, processing, op),
        })
    }

    fn run_spec(
        &self,
        auth: &AuthCtx,
        spec: &Spec,
        method: &str,
        params: &Map<String, Value>,
    ) -> Outcome {
        // `auth = "application"` in the spec: refused before anything else.
        if spec.auth == Auth::Application && !auth.in_app_context() {
            return Err(crate::errors::wrong_auth_type_of(spec));
        }
        if let Some(handler) = self.handlers.handler(method) {
            return handler(self, auth, spec, params);
        }
        validate(spec, params).map_err(|m| ApiErr::new(400, "ERROR_ARGUMENT", &m))?;
        let example = example_or_default(spec);
        if spec.result.paged {
            let items: Vec<Value> = match self.cfg.lists.get(method) {
                Some(items) => items.clone(),
                None => match &example {
                    Value::Array(a) => a.clone(),
                    _ => Vec::new(),
                },
            };
            return Ok(page(&items, params));
        }
        Ok((example, None, None))
    }

    fn run_extra(
        &self,
        i: usize,
        method: &str,
        params: &Map<String, Value>,
    ) -> Result<(Value, Option<u64>, Option<u64>), ApiErr> {
        match &self.cfg.extra_methods[i].behavior {
            ExtraBehavior::Counter => {
                let mut m = self.lock();
                let v = m.counter_values.entry(method.to_string()).or_default();
                *v += 1;
                Ok((Value::from(*v), None, None))
            }
            ExtraBehavior::List(items) => Ok(page(items, params)),
            ExtraBehavior::Fixed(v) => Ok((v.clone(), None, None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FaultKind, FaultRule};
    use crate::faults::fault_name;

    /// The kinds `FaultRule::random` gives `n` calls in a row (`None`: no fault), and the
    /// counters after them.
    fn random_faults(share: f64, seed: u64, n: usize) -> (Vec<Option<FaultKind>>, Counters) {
        let cfg = PortalConfig {
            limits: crate::config::LimitConfig::unlimited(),
            ..PortalConfig::default()
        }
        .with_fault(FaultRule::random(share, seed));
        let engine = Engine::new(cfg, SpecSet::embedded().unwrap(), &Registry::EMPTY);
        let kinds = (0..n)
            .map(|_| {
                engine
                    .plan_faults("imopenlines.dialog.get")
                    .fault
                    .map(|(k, _)| k)
            })
            .collect();
        (kinds, engine.counters())
    }

    #[test]
    fn a_random_rule_is_reproducible_by_seed() {
        let (a, _) = random_faults(0.1, 1, 2000);
        assert_eq!(a, random_faults(0.1, 1, 2000).0, "same seed, same calls");
        assert_ne!(
            a,
            random_faults(0.1, 2, 2000).0,
            "another seed, other calls"
        );
        // A reset re-seeds the rule's own generator, whatever the portal's shared seed is.
        let cfg = PortalConfig {
            fault_seed: 99,
            limits: crate::config::LimitConfig::unlimited(),
            ..PortalConfig::default()
        }
        .with_fault(FaultRule::random(0.1, 1));
        let engine = Engine::new(cfg, SpecSet::embedded().unwrap(), &Registry::EMPTY);
        for round in 0..2 {
            let again: Vec<_> = (0..2000)
                .map(|_| {
                    engine
                        .plan_faults("imopenlines.dialog.get")
                        .fault
                        .map(|(k, _)| k)
                })
                .collect();
            assert_eq!(a, again, "round {round}");
            engine.reset();
        }
    }

    #[test]
    fn a_random_rule_mixes_the_four_failures_at_the_share() {
        let n = 20_000;
        let (kinds, c) = random_faults(0.1, 7, n);
        let faulted: Vec<usize> = (0..n).filter(|i| kinds[*i].is_some()).collect();
        // 10% of 20,000 = 2,000, binomial sd ≈ 42.
        assert!((1800..=2200).contains(&faulted.len()), "{}", faulted.len());
        assert_eq!(c.faults_injected, faulted.len() as u64);
        for kind in FaultKind::FAILURES {
            let got = kinds.iter().filter(|k| k.as_ref() == Some(&kind)).count();
            // A quarter each: 500 ± about 6 sd.
            assert!((380..=620).contains(&got), "{kind:?}: {got}");
            assert_eq!(c.faults.get(fault_name(&kind)), Some(&(got as u64)));
        }
        // Half the faults reach the portal's bucket, which counts them (nothing else ran).
        let counted = kinds
            .iter()
            .flatten()
            .filter(|k| k.reaches_portal())
            .count();
        assert_eq!(c.counted_by_limiter, counted as u64);
        assert!(counted * 10 > faulted.len() * 4 && counted * 10 < faulted.len() * 6);
        // Independent draws, not a rotation: gaps of 1 (two faulted calls in a row) and gaps
        // far above 10 both happen.
        let gaps: Vec<usize> = faulted.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.contains(&1), "runs of faults");
        assert!(gaps.iter().any(|g| *g > 30), "long quiet stretches");
    }
}
