//! What to do after a failed attempt: retry (and after how long), refresh the token, or give
//! up. The rule that matters most: a write whose request reached the portal and whose answer
//! was lost is never replayed; the caller gets `Error::OutcomeUnknown` instead.

use std::time::Duration;

use b24_core::{ApiErrorCode, Error, MethodErrorCode, MethodKind, PortalErrorCode, TransportPhase};

/// Retry settings. Backoff is capped exponential with full jitter, by the number of failed
/// attempts in a row across the whole client (a successful answer to any call resets it).
/// A lost answer, a proxy's error page or the portal's 500 right after a success is retried
/// at once ([`RetryPolicy::retry_delay`]): the portal is answering, and the client's bucket,
/// not the backoff, decides when the retry goes out. Further failures in a row back off
/// exponentially, so a portal that fails everything is not hammered; so does a failure that
/// hints at load (a timeout, a gateway's 503 or 504) from the first one. `max_attempts`
/// counts per call.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Backoff after the first failure in a row (before jitter); it doubles with each further
    /// failed attempt of the client, up to `max_delay`.
    pub base_delay: Duration,
    /// Largest backoff.
    pub max_delay: Duration,
    /// Longest wait for a method's operating-time budget to reset (`OPERATION_TIME_LIMIT`).
    pub max_operating_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
            max_operating_wait: Duration::from_secs(11 * 60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The wait before retrying an attempt that failed without a sign of load (a lost or
    /// cut-off answer, a proxy's error page, the portal's 500, a refused connection), given
    /// `failures`: the failed attempts of the whole client since its last successful answer,
    /// this one included.
    ///
    /// The first failure after a success (`failures` ≤ 1) is retried at once: other calls
    /// are being answered, and the retry still waits for the client's bucket like any other
    /// request, so it asks no more of the portal than the call would have. Every further
    /// failure in a row waits [`RetryPolicy::backoff`] of the failures before it: at most
    /// `base_delay` for the second, doubling up to `max_delay`.
    pub fn retry_delay(&self, failures: u32) -> Duration {
        match failures {
            0 | 1 => Duration::ZERO,
            n => self.backoff(n - 1),
        }
    }

    /// Full-jitter backoff before attempt `attempt + 1` (`attempt` ≥ 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1).min(20))
                .unwrap_or(u32::MAX),
        );
        let ceiling = exp.min(self.max_delay);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// The verdict on one failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The portal's rate limit: it did not run the call; any method may be retried once the
    /// bucket drains.
    RateLimited,
    /// The method's operating-time budget is spent: wait for its reset.
    OperatingLimit,
    /// The access token expired: refresh it and replay.
    ExpiredToken,
    /// Safe to retry after a backoff (the portal did not run it, or it only reads).
    Retry,
    /// A write may have run and its answer was lost: report the outcome as unknown.
    OutcomeUnknown,
    /// Final: give the error to the caller.
    Fail,
}

/// Whether the portal may have run the call behind this error, and what to do.
pub(crate) fn classify<C: MethodErrorCode>(e: &Error<C>, kind: MethodKind) -> Verdict {
    let lost_answer = || match kind {
        MethodKind::Read => Verdict::Retry,
        MethodKind::Write => Verdict::OutcomeUnknown,
    };
    match e {
        Error::Api { error, .. } => match error.code {
            ApiErrorCode::Portal(PortalErrorCode::QueryLimitExceeded) => Verdict::RateLimited,
            ApiErrorCode::Portal(PortalErrorCode::OperationTimeLimit) => Verdict::OperatingLimit,
            ApiErrorCode::Portal(PortalErrorCode::ExpiredToken) => Verdict::ExpiredToken,
            // The portal answered: a write's outcome is whatever the error says; only reads
            // are worth another try.
            ApiErrorCode::Portal(
                PortalErrorCode::InternalServerError | PortalErrorCode::ErrorUnexpectedAnswer,
            ) if kind == MethodKind::Read => Verdict::Retry,
            _ => Verdict::Fail,
        },
        // A proxy's error page, a gateway timeout: the portal's answer, if any, was lost.
        Error::UnexpectedResponse { status, .. } if *status >= 500 => lost_answer(),
        Error::UnexpectedResponse { .. } => Verdict::Fail,
        // A body cut short is a lost answer; a well-formed answer of the wrong shape will be
        // the same next time.
        Error::Decode { message, .. } if message.contains("EOF") => lost_answer(),
        Error::Decode { .. } => Verdict::Fail,
        Error::Transport {
            phase: TransportPhase::Connect,
            ..
        } => Verdict::Retry,
        Error::Transport { .. } => lost_answer(),
        _ => Verdict::Fail,
    }
}

/// Whether a failure hints that the portal or the way to it is overloaded rather than that
/// one request was lost: the answer timed out, or a gateway answered 503 or 504 (the portal's
/// own `QUERY_LIMIT_EXCEEDED` is judged apart). Such a failure backs off even right after a
/// success.
pub(crate) fn load_signal<C: MethodErrorCode>(e: &Error<C>) -> bool {
    match e {
        Error::Transport { source, .. } => source
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout),
        Error::UnexpectedResponse { status, .. } => matches!(status, 503 | 504),
        _ => false,
    }
}

/// Whether a failed attempt most likely never reached the portal's limiter, so the client
/// gives its bucket slot back: nothing was sent (connect failed), the connection closed before
/// any answer (not a timeout: a slow portal did count the call), or a proxy answered with a
/// gateway page instead of the portal. The portal's own answers (a JSON error, a body that
/// broke off) mean it counted the request.
///
/// A wrong guess costs at most one `QUERY_LIMIT_EXCEEDED`, which the portal answers without
/// running the call and which resynchronises the bucket; keeping a slot the portal never
/// used costs `1 / drain` seconds for every such failure.
pub(crate) fn slot_unused<C: MethodErrorCode>(e: &Error<C>) -> bool {
    match e {
        Error::Transport { phase, source, .. } => match phase {
            TransportPhase::Connect => true,
            // A timeout means the request was out and the portal slow: it counted the call.
            TransportPhase::AfterSend => !source
                .downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_timeout),
            _ => false,
        },
        Error::UnexpectedResponse { status, .. } => matches!(status, 502..=504),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use b24_core::{decode_response, UndocumentedCode};

    fn api(status: u16, code: &str) -> Error<UndocumentedCode> {
        let body = format!(r#"{{"error":"{code}","error_description":"x"}}"#);
        decode_response::<serde_json::Value, UndocumentedCode>("m", status, None, body.as_bytes())
            .unwrap_err()
    }

    #[test]
    fn reads_and_writes_are_judged_differently() {
        use MethodKind::*;
        assert_eq!(
            classify(&api(503, "QUERY_LIMIT_EXCEEDED"), Write),
            Verdict::RateLimited
        );
        assert_eq!(
            classify(&api(429, "OPERATION_TIME_LIMIT"), Write),
            Verdict::OperatingLimit
        );
        assert_eq!(
            classify(&api(401, "expired_token"), Read),
            Verdict::ExpiredToken
        );
        assert_eq!(
            classify(&api(500, "INTERNAL_SERVER_ERROR"), Read),
            Verdict::Retry
        );
        assert_eq!(
            classify(&api(500, "INTERNAL_SERVER_ERROR"), Write),
            Verdict::Fail
        );
        assert_eq!(classify(&api(400, "ACCESS_ERROR"), Read), Verdict::Fail);
        let html =
            decode_response::<serde_json::Value, UndocumentedCode>("m", 502, None, b"<html>")
                .unwrap_err();
        assert_eq!(classify(&html, Read), Verdict::Retry);
        assert_eq!(classify(&html, Write), Verdict::OutcomeUnknown);
        let cut = decode_response::<serde_json::Value, UndocumentedCode>(
            "m",
            200,
            None,
            b"{\"result\":[1,",
        )
        .unwrap_err();
        assert_eq!(classify(&cut, Read), Verdict::Retry);
        assert_eq!(classify(&cut, Write), Verdict::OutcomeUnknown);
        let shape = decode_response::<i64, UndocumentedCode>("m", 200, None, b"{\"result\":\"x\"}")
            .unwrap_err();
        assert_eq!(classify(&shape, Read), Verdict::Fail);
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        for attempt in 1..40 {
            let d = p.backoff(attempt);
            assert!(d <= p.max_delay, "{attempt}: {d:?}");
        }
        let spread: std::collections::HashSet<u128> =
            (0..20).map(|_| p.backoff(3).as_micros()).collect();
        assert!(spread.len() > 1, "jitter varies the delay");
        assert!(p.backoff(1) <= p.base_delay);
    }

    /// The first failure after a success is retried without delay; the ones after it back
    /// off as `backoff` of the failures before them: capped, exponential, jittered.
    #[test]
    fn only_a_failure_after_another_one_backs_off() {
        let p = RetryPolicy {
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            ..RetryPolicy::default()
        };
        for _ in 0..100 {
            assert_eq!(p.retry_delay(0), Duration::ZERO);
            assert_eq!(p.retry_delay(1), Duration::ZERO);
            assert!(p.retry_delay(2) <= p.base_delay);
            assert!(p.retry_delay(3) <= 2 * p.base_delay);
            assert!(p.retry_delay(40) <= p.max_delay);
        }
        // Jittered up to the doubling ceiling: some draws of the fourth failure exceed what
        // the third may wait.
        let max = (0..200).map(|_| p.retry_delay(4)).max().unwrap_or_default();
        assert!(max > 2 * p.base_delay && max <= 4 * p.base_delay, "{max:?}");
    }

    #[test]
    fn timeouts_and_gateway_overload_are_load_signals() {
        let page = |status: u16| {
            decode_response::<serde_json::Value, UndocumentedCode>("m", status, None, b"<html>")
                .unwrap_err()
        };
        assert!(load_signal(&page(503)));
        assert!(load_signal(&page(504)));
        assert!(!load_signal(&page(502)));
        assert!(!load_signal(&api(500, "INTERNAL_SERVER_ERROR")));
        assert!(!load_signal(&api(503, "QUERY_LIMIT_EXCEEDED")));
    }
}
