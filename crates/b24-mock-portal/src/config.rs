//! Settings of a [`MockPortal`](crate::MockPortal): auth, limits, data, errors and faults.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde_json::Value;

/// The default webhook secret (`http://127.0.0.1:PORT/rest/1/<secret>/`).
pub const DEFAULT_WEBHOOK_SECRET: &str = "mocksecret0123456789";

/// The default application token the portal puts in `auth[application_token]` of the events
/// it sends (32 hex digits, as the portal's own).
pub const DEFAULT_APPLICATION_TOKEN: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";

/// The `member_id` of the docs' examples. `PortalConfig::default()` draws a fresh one for
/// every portal (32 hex digits), so that two portals of one test are told apart; set
/// [`PortalConfig::member_id`] to this constant for a fixed one.
pub const DEFAULT_MEMBER_ID: &str = "a223c6b3710f85df22e9377d6c4f7553";

/// The well-known parameter that makes any call fail with the named error code
/// (`__mock_error=ACCESS_ERROR`). It is checked after auth and limits, before the method runs.
pub const MOCK_ERROR_PARAM: &str = "__mock_error";

/// The default [`PortalConfig::max_body_bytes`]: 8 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// The default [`PortalConfig::header_read_timeout`]: 10 s.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default [`PortalConfig::body_read_timeout`]: 30 s.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The default [`PortalConfig::idle_timeout`]: 60 s.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The default [`PortalConfig::max_connections`]: 512.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// Everything a portal is started with. `PortalConfig::default()` is a cloud portal on a free
/// loopback port with webhook user `1` and [`DEFAULT_WEBHOOK_SECRET`].
///
/// Its `Debug` leaves out the webhook secret, the OAuth tokens and the application token.
#[derive(Clone)]
pub struct PortalConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Serve HTTPS with a certificate generated at start (see [`MockPortal::ca_pem`](crate::MockPortal::ca_pem)).
    pub tls: bool,
    /// Read the specs from this folder instead of the ones embedded at build time.
    pub spec_dir: Option<PathBuf>,
    /// User id of the incoming webhook.
    pub webhook_user: String,
    /// Secret of the incoming webhook.
    pub webhook_secret: String,
    /// Scopes of the webhook; `None` grants every scope.
    pub webhook_scopes: Option<Vec<String>>,
    /// OAuth access tokens the portal accepts from the start (it issues more to
    /// [`PortalConfig::apps`]).
    pub oauth_tokens: Vec<OAuthToken>,
    /// The applications the portal knows (`client_id`, `client_secret`): their tokens are
    /// refreshed at `/oauth/token/`, they can be installed
    /// ([`MockPortal::install_app`](crate::MockPortal::install_app)) and bind events.
    pub apps: Vec<crate::oauth::OAuthApp>,
    /// Answer webhook calls over plain HTTP with 400 `INVALID_REQUEST` "Https required." as the
    /// cloud does (default `false`, so plain-HTTP tests work).
    pub require_https: bool,
    /// HTTP status of `insufficient_scope` (403 per the docs; the server code answers 401).
    pub insufficient_scope_status: u16,
    /// Rate and operating-time limits.
    pub limits: LimitConfig,
    /// Seeded open-lines (and other) chats of `imopenlines.dialog.get`.
    pub chats: Vec<SeedChat>,
    /// Items of paged spec methods (`result.paged = true`), by method name.
    pub lists: BTreeMap<String, Vec<Value>>,
    /// Methods that exist only on this portal (counters, lists, fixed answers) for tests.
    pub extra_methods: Vec<ExtraMethod>,
    /// Calls answered with an error code before they run.
    pub error_rules: Vec<ErrorRule>,
    /// Injected faults, evaluated in order.
    pub faults: Vec<FaultRule>,
    /// Seed of the random generator that decides which calls get a fault.
    pub fault_seed: u64,
    /// UTC offset of `date_start` / `date_finish`, in seconds (default +03:00, as a Moscow
    /// portal).
    pub utc_offset_seconds: i32,
    /// Serve the admin endpoints `GET /__mock/counters` and `POST /__mock/reset` (outside
    /// `/rest/`, so they cannot collide with a method). Default `false`: those paths answer
    /// like any other unknown path. The binary turns them on. They refuse (403) a request
    /// whose `Origin` is not the portal's own or whose `Sec-Fetch-Site` is not `same-origin`,
    /// and the reset also needs the header `X-B24-Mock-Admin` or a JSON `Content-Type`, so a
    /// web page in a browser cannot reset the portal.
    pub admin_endpoints: bool,
    /// The application token the events this portal sends carry (`auth[application_token]`).
    pub application_token: String,
    /// The portal's `member_id` (in every event's `auth`, in installs and token answers);
    /// by default a fresh random one for each `PortalConfig::default()`.
    pub member_id: String,
    /// Largest request body accepted, in bytes (default [`DEFAULT_MAX_BODY_BYTES`]). A request
    /// whose `Content-Length` is larger, or whose body (chunked or not) grows past it while it
    /// is read, is answered 413 and its connection closed; the body is never buffered whole.
    pub max_body_bytes: usize,
    /// How long the request line and headers may take to arrive, from their first byte
    /// (default [`DEFAULT_HEADER_READ_TIMEOUT`]). A client that sends them slower (a
    /// slowloris) is disconnected without an answer.
    pub header_read_timeout: Duration,
    /// How long a request body may take to arrive, from the end of the headers (default
    /// [`DEFAULT_BODY_READ_TIMEOUT`]). A client that stalls mid-body is answered 408 and
    /// disconnected.
    pub body_read_timeout: Duration,
    /// How long a connection may wait for the first byte of a request: after it is accepted
    /// (or its TLS handshake, which must also end within [`PortalConfig::header_read_timeout`])
    /// and between the requests of a keep-alive connection (default [`DEFAULT_IDLE_TIMEOUT`]).
    /// It is then closed.
    pub idle_timeout: Duration,
    /// Most connections served at once (default [`DEFAULT_MAX_CONNECTIONS`]; at least 1). Past
    /// it, new connections wait: they are not accepted (they queue in the listen backlog) until
    /// a connection closes, so a client sees a slower answer rather than an error.
    pub max_connections: usize,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            port: 0,
            tls: false,
            spec_dir: None,
            webhook_user: "1".into(),
            webhook_secret: DEFAULT_WEBHOOK_SECRET.into(),
            webhook_scopes: None,
            oauth_tokens: Vec::new(),
            apps: Vec::new(),
            require_https: false,
            insufficient_scope_status: 403,
            limits: LimitConfig::default(),
            chats: SeedChat::defaults(),
            lists: BTreeMap::new(),
            extra_methods: Vec::new(),
            error_rules: Vec::new(),
            faults: Vec::new(),
            fault_seed: 24,
            utc_offset_seconds: 3 * 3600,
            admin_endpoints: false,
            application_token: DEFAULT_APPLICATION_TOKEN.into(),
            member_id: crate::oauth::new_hex32(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// What `Debug` shows instead of a secret.
pub(crate) const REDACTED: &str = "<redacted>";

impl std::fmt::Debug for PortalConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PortalConfig")
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("spec_dir", &self.spec_dir)
            .field("webhook_user", &self.webhook_user)
            .field("webhook_secret", &REDACTED)
            .field("webhook_scopes", &self.webhook_scopes)
            .field("oauth_tokens", &self.oauth_tokens)
            .field("apps", &self.apps)
            .field("require_https", &self.require_https)
            .field("insufficient_scope_status", &self.insufficient_scope_status)
            .field("limits", &self.limits)
            .field("chats", &self.chats)
            .field("lists", &self.lists)
            .field("extra_methods", &self.extra_methods)
            .field("error_rules", &self.error_rules)
            .field("faults", &self.faults)
            .field("fault_seed", &self.fault_seed)
            .field("utc_offset_seconds", &self.utc_offset_seconds)
            .field("admin_endpoints", &self.admin_endpoints)
            .field("application_token", &REDACTED)
            .field("member_id", &self.member_id)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl PortalConfig {
    /// Adds an OAuth token.
    pub fn with_token(mut self, token: OAuthToken) -> Self {
        self.oauth_tokens.push(token);
        self
    }

    /// Adds an application (see [`PortalConfig::apps`]).
    pub fn with_app(mut self, app: crate::oauth::OAuthApp) -> Self {
        self.apps.push(app);
        self
    }

    /// Adds a portal-only method.
    pub fn with_extra_method(mut self, method: ExtraMethod) -> Self {
        self.extra_methods.push(method);
        self
    }

    /// Adds an error rule.
    pub fn with_error_rule(mut self, rule: ErrorRule) -> Self {
        self.error_rules.push(rule);
        self
    }

    /// Adds a fault rule.
    pub fn with_fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: LimitConfig) -> Self {
        self.limits = limits;
        self
    }
}

/// An OAuth access token: what it may call and until when. Its `Debug` leaves out the token.
#[derive(Clone)]
pub struct OAuthToken {
    /// The token string (`auth`, `access_token` or `Authorization: Bearer`).
    pub token: String,
    /// Scopes granted; a method whose scope is missing answers `insufficient_scope`.
    pub scopes: Vec<String>,
    /// When it expires; `None` never.
    pub expires_at: Option<SystemTime>,
    /// The application ([`PortalConfig::apps`]) it belongs to: calls made with it are in
    /// that application's context (`event.bind`, `imconnector.register`...). `None`: no
    /// application, and those methods answer `WRONG_AUTH_TYPE`.
    pub client_id: Option<String>,
}

impl std::fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthToken")
            .field("token", &REDACTED)
            .field("scopes", &self.scopes)
            .field("expires_at", &self.expires_at)
            .field("client_id", &self.client_id)
            .finish()
    }
}

impl OAuthToken {
    /// A token with these scopes that never expires.
    pub fn new(token: impl Into<String>, scopes: &[&str]) -> Self {
        OAuthToken {
            token: token.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            expires_at: None,
            client_id: None,
        }
    }

    /// The same token, issued to the application `client_id` (see [`OAuthToken::client_id`]).
    pub fn for_app(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The same token, already expired.
    pub fn expired(mut self) -> Self {
        self.expires_at = Some(SystemTime::UNIX_EPOCH);
        self
    }
}

/// The leaky bucket of the portal and the per-method operating-time budget.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    /// Requests the bucket holds before `QUERY_LIMIT_EXCEEDED` (X in the docs).
    pub burst: f64,
    /// Requests drained per second (Y in the docs).
    pub drain_per_sec: f64,
    /// Accumulated processing time of one method after which it answers
    /// `OPERATION_TIME_LIMIT`.
    pub operating_limit: Duration,
    /// Window over which processing time accumulates (10 buckets; 600 s on the cloud).
    pub operating_window: Duration,
    /// Simulated processing time of each call, added to `processing` and `operating`.
    pub processing: Duration,
    /// Per-method processing time overrides (lower-case method names).
    pub processing_per_method: BTreeMap<String, Duration>,
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            burst: 50.0,
            drain_per_sec: 2.0,
            operating_limit: Duration::from_secs(480),
            operating_window: Duration::from_secs(600),
            processing: Duration::from_millis(10),
            processing_per_method: BTreeMap::new(),
        }
    }
}

impl LimitConfig {
    /// The enterprise plan: burst 250, 5 per second.
    pub fn enterprise() -> Self {
        LimitConfig {
            burst: 250.0,
            drain_per_sec: 5.0,
            ..LimitConfig::default()
        }
    }

    /// No rate limit at all (a huge bucket), for tests that are not about limits.
    pub fn unlimited() -> Self {
        LimitConfig {
            burst: f64::MAX,
            ..LimitConfig::default()
        }
    }

    /// Sets the simulated processing time of one method.
    pub fn with_processing(mut self, method: &str, d: Duration) -> Self {
        self.processing_per_method
            .insert(method.to_ascii_lowercase(), d);
        self
    }
}

/// A chat of the seeded data set of `imopenlines.dialog.get`.
#[derive(Debug, Clone)]
pub struct SeedChat {
    /// Chat id.
    pub id: i64,
    /// Chat name.
    pub name: String,
    /// Whether it is an open-lines chat (`type = lines`); other chats answer ACCESS_ERROR.
    pub lines: bool,
    /// Whether the calling user may read it; `false` answers ACCESS_ERROR.
    pub accessible: bool,
    /// Current open-lines session id.
    pub session_id: Option<i64>,
    /// Open-lines user code `<connector>|<line>|<chat>|<user>`.
    pub user_code: Option<String>,
    /// Owner user id (the operator).
    pub owner: i64,
}

impl SeedChat {
    /// The default data set: chats 1777, 1364 and 2043 are open lines; 2050 is an open-lines
    /// chat the webhook user may not read; 15 is an ordinary group chat.
    pub fn defaults() -> Vec<SeedChat> {
        let lines = |id: i64, name: &str, session: i64, code: &str, owner: i64| SeedChat {
            id,
            name: name.into(),
            lines: true,
            accessible: true,
            session_id: Some(session),
            user_code: Some(code.into()),
            owner,
        };
        vec![
            lines(
                1777,
                "Салатовый гость №17 - Документация Битрикс24",
                1743,
                "livechat|1|1373|211",
                27,
            ),
            lines(
                1364,
                "Евгений Перекопский - Приоритетная поддержка",
                1201,
                "livechat|1|1363|203",
                0,
            ),
            lines(2043, "Telegram guest", 1800, "telegrambot|2|555|777", 1),
            SeedChat {
                accessible: false,
                ..lines(2050, "Someone else's guest", 1810, "livechat|3|900|901", 44)
            },
            SeedChat {
                id: 15,
                name: "General".into(),
                lines: false,
                accessible: true,
                session_id: None,
                user_code: None,
                owner: 1,
            },
        ]
    }
}

/// A method that exists only on this portal, for tests.
#[derive(Debug, Clone)]
pub struct ExtraMethod {
    /// Method name (case-insensitive).
    pub name: String,
    /// OAuth scope it needs.
    pub scope: String,
    /// What it does.
    pub behavior: ExtraBehavior,
}

/// What an [`ExtraMethod`] does.
#[derive(Debug, Clone)]
pub enum ExtraBehavior {
    /// A write: each executed call adds one to a counter and answers the new value.
    Counter,
    /// A paged list of these items (`start`, `next`, `total`, 50 a page).
    List(Vec<Value>),
    /// Always answers this `result`.
    Fixed(Value),
}

impl ExtraMethod {
    /// A counting write method: answers `1`, `2`, ... — read the executions with
    /// [`Counters::executed`](crate::Counters::executed).
    pub fn counter(name: impl Into<String>) -> Self {
        ExtraMethod {
            name: name.into(),
            scope: "imopenlines".into(),
            behavior: ExtraBehavior::Counter,
        }
    }

    /// A paged list method over `items`.
    pub fn list(name: impl Into<String>, items: Vec<Value>) -> Self {
        ExtraMethod {
            name: name.into(),
            scope: "imopenlines".into(),
            behavior: ExtraBehavior::List(items),
        }
    }

    /// A method that always answers `result`.
    pub fn fixed(name: impl Into<String>, result: Value) -> Self {
        ExtraMethod {
            name: name.into(),
            scope: "imopenlines".into(),
            behavior: ExtraBehavior::Fixed(result),
        }
    }

    /// The same method under another scope.
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }
}

/// Answers calls of a method with an error code instead of running it.
#[derive(Debug, Clone)]
pub struct ErrorRule {
    /// Method name (case-insensitive).
    pub method: String,
    /// Error code: the method's own (from its spec), a portal-wide one, or any other (400).
    pub code: String,
    /// Only the first `n` matching calls fail; `None` all of them.
    pub times: Option<u64>,
}

impl ErrorRule {
    /// Every call of `method` fails with `code`.
    pub fn new(method: impl Into<String>, code: impl Into<String>) -> Self {
        ErrorRule {
            method: method.into(),
            code: code.into(),
            times: None,
        }
    }

    /// Only the first `n` calls fail.
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }
}

/// A fault injected into HTTP answers.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Waits this long, then answers normally.
    Latency(Duration),
    /// 500 `INTERNAL_SERVER_ERROR` "Internal server error".
    InternalError,
    /// 502 with an HTML page, as a proxy in front of the portal answers.
    BadGatewayHtml,
    /// Headers announce the whole body, half of it is sent, then the connection closes.
    TruncatedBody,
    /// The connection closes without any answer.
    DropConnection,
}

impl FaultKind {
    /// The four failures, in the order [`FaultRule::rotation_every`] turns them: a JSON 500
    /// and a cut-off answer (the portal's PHP produced them, its bucket counted the call), a
    /// proxy's HTML 502 and a dropped connection (the call never reached the portal).
    pub const FAILURES: [FaultKind; 4] = [
        FaultKind::InternalError,
        FaultKind::BadGatewayHtml,
        FaultKind::TruncatedBody,
        FaultKind::DropConnection,
    ];

    /// Whether the request reached the portal's PHP before failing, so its leaky bucket
    /// counted it: a JSON 500 and a cut-off answer did; a proxy's HTML 502 and a dropped
    /// connection did not (for faults before execution; a call that ran was always counted).
    pub fn reaches_portal(&self) -> bool {
        matches!(self, FaultKind::InternalError | FaultKind::TruncatedBody)
    }
}

/// When and how often a fault happens.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// Only calls of this method (case-insensitive; `batch` for batches); `None` any.
    pub method: Option<String>,
    /// The fault (ignored when `kinds` is not empty).
    pub kind: FaultKind,
    /// When not empty: each faulted call gets one of these instead of `kind`, drawn
    /// uniformly by the rule's generator (see [`FaultRule::random`]).
    pub kinds: Vec<FaultKind>,
    /// Share of matching calls that get it, 0.0..=1.0 (seeded, so reproducible).
    pub probability: f64,
    /// The seed of this rule's own generator; `None` draws from the portal's shared one
    /// (seeded with [`PortalConfig::fault_seed`]). With its own generator the rule faults
    /// the same calls (by their order of arrival) whatever other rules draw.
    pub seed: Option<u64>,
    /// Instead of a probability: the matching calls numbered `offset`, `offset + n`,
    /// `offset + 2n`... (from 0) get it, an exact share of `1 / n`.
    pub every: Option<(u64, u64)>,
    /// At most this many times; `None` unlimited.
    pub max_count: Option<u64>,
    /// Run the call first and then lose its answer (the write happened); otherwise the call
    /// never runs.
    pub after_execution: bool,
}

impl FaultRule {
    /// Every call of `method` (or of any method with `None`) gets `kind`, before it runs.
    pub fn new(method: Option<&str>, kind: FaultKind) -> Self {
        FaultRule {
            method: method.map(str::to_string),
            kind,
            kinds: Vec::new(),
            probability: 1.0,
            seed: None,
            every: None,
            max_count: None,
            after_execution: false,
        }
    }

    /// Only a share of matching calls.
    pub fn probability(mut self, p: f64) -> Self {
        self.probability = p;
        self
    }

    /// Exactly one in `n` matching calls: those numbered `offset`, `offset + n`... (from 0;
    /// `offset` is taken modulo `n`).
    pub fn every(mut self, n: u64, offset: u64) -> Self {
        let n = n.max(1);
        self.every = Some((n, offset % n));
        self
    }

    /// The four failure kinds (JSON 500, HTML 502, cut-off body, dropped connection) in
    /// turn, on exactly one in `n` calls: the calls numbered `n - 1`, `2n - 1`... (from 0).
    pub fn rotation_every(n: u64) -> Vec<FaultRule> {
        // Four kinds in turn: the cycle is 4n calls long, so n is kept below u64::MAX / 4.
        let n = n.clamp(1, u64::MAX / 4);
        FaultKind::FAILURES
            .into_iter()
            .enumerate()
            .map(|(i, kind)| FaultRule::new(None, kind).every(4 * n, (i as u64 + 1) * n - 1))
            .collect()
    }

    /// Each call (of any method) independently gets a fault with probability `share`, from
    /// a generator seeded with `seed`; the kind is drawn uniformly from
    /// [`FaultKind::FAILURES`]: a JSON 500 and a cut-off answer (counted by the portal's
    /// bucket), a proxy's HTML 502 and a dropped connection (not counted). The same seed
    /// faults the same calls, by their order of arrival, with the same kinds. Unlike
    /// [`FaultRule::rotation_every`] the share is only expected, and runs of faults happen.
    pub fn random(share: f64, seed: u64) -> FaultRule {
        let share = if share.is_nan() { 0.0 } else { share };
        FaultRule {
            kinds: FaultKind::FAILURES.to_vec(),
            seed: Some(seed),
            ..FaultRule::new(None, FaultKind::InternalError).probability(share)
        }
    }

    /// At most `n` times.
    pub fn max_count(mut self, n: u64) -> Self {
        self.max_count = Some(n);
        self
    }

    /// Run the call, then lose the answer.
    pub fn after_execution(mut self) -> Self {
        self.after_execution = true;
        self
    }
}
