//! What a test can read about the traffic a portal has seen.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The key of [`Counters::methods`] under which calls of every method the portal does not
/// serve are counted together (their `errors`), so random names cannot grow the counters.
pub const UNKNOWN_METHOD: &str = "(unknown)";

/// What a test can read about the traffic a portal has seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// HTTP requests received (a `batch` is one).
    pub requests: u64,
    /// TCP connections accepted (fewer than requests with keep-alive).
    pub connections: u64,
    /// Requests refused with `QUERY_LIMIT_EXCEEDED`.
    pub rejected_by_limiter: u64,
    /// Requests the leaky bucket counted (admitted): every request that reached the portal's
    /// PHP, answered or not, including the faults it produced (a JSON 500, a cut-off answer);
    /// not a proxy's 502, a dropped connection before the portal, or a 503. What the time of
    /// a job is bounded by: `max(0, counted - burst) / drain`.
    pub counted_by_limiter: u64,
    /// Calls refused with `OPERATION_TIME_LIMIT`.
    pub rejected_by_operating: u64,
    /// Faults injected, all kinds.
    pub faults_injected: u64,
    /// Faults injected by kind (`latency`, `internal_error`, `bad_gateway_html`,
    /// `truncated_body`, `drop_connection`).
    pub faults: BTreeMap<String, u64>,
    /// Per lower-case method name (calls inside `batch` included); calls of methods the
    /// portal does not serve are counted together under [`UNKNOWN_METHOD`].
    pub methods: BTreeMap<String, MethodCounters>,
    /// Requests to the token endpoint `/oauth/token/`, answered or refused (they are not
    /// REST calls: not in `requests`, not in the bucket).
    pub token_requests: u64,
    /// Token pairs the token endpoint issued (successful refreshes).
    pub tokens_refreshed: u64,
}

/// Counters of one method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MethodCounters {
    /// Calls that reached the method (after auth and the rate limit).
    pub calls: u64,
    /// Calls the method actually executed (not refused by limits, rules or faults).
    pub executed: u64,
    /// Calls answered with an error.
    pub errors: u64,
}

impl Counters {
    /// Executions of `method` (case-insensitive).
    pub fn executed(&self, method: &str) -> u64 {
        self.method(method).executed
    }

    /// Calls of `method` (case-insensitive).
    pub fn calls(&self, method: &str) -> u64 {
        self.method(method).calls
    }

    /// Counters of `method` (case-insensitive).
    pub fn method(&self, method: &str) -> MethodCounters {
        self.methods
            .get(&method.to_ascii_lowercase())
            .copied()
            .unwrap_or_default()
    }

    /// The counters as JSON, as `GET /__mock/counters` answers them: every field by its
    /// name, `methods` keyed by lower-case method name with `calls`, `executed`, `errors`.
    pub fn to_json(&self) -> Value {
        let methods: Map<String, Value> = self
            .methods
            .iter()
            .map(|(name, c)| {
                (
                    name.clone(),
                    serde_json::json!({"calls": c.calls, "executed": c.executed, "errors": c.errors}),
                )
            })
            .collect();
        serde_json::json!({
            "requests": self.requests,
            "connections": self.connections,
            "rejected_by_limiter": self.rejected_by_limiter,
            "counted_by_limiter": self.counted_by_limiter,
            "rejected_by_operating": self.rejected_by_operating,
            "faults_injected": self.faults_injected,
            "faults": self.faults,
            "methods": methods,
            "token_requests": self.token_requests,
            "tokens_refreshed": self.tokens_refreshed,
        })
    }
}
