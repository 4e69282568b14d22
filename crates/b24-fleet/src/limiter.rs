//! The portal's leaky bucket kept in Redis.
//!
//! Each acquisition runs one Lua script, atomically on the server: it drains the bucket by
//! the time elapsed on the Redis server's clock (`TIME`, so the workers' clocks do not
//! matter), counts the request and answers how long the caller must wait, after every
//! reservation made before it, whatever process made it. The caller sleeps that long from
//! the moment the answer arrives, which is never earlier than the departure the script
//! computed. As in `b24_runtime::LeakyBucket`, one slot of the burst is held in reserve for
//! arrival skew.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_core::LimiterError;
use b24_runtime::{LeakyBucket, LimiterFuture, RateLimit, RateLimiter};
use redis::Script;
use tokio::time::Instant;

use crate::{Fleet, FleetError};

/// KEYS[1]: the bucket (a hash of `level` and `at`, microseconds of the server's clock).
/// ARGV: the operation (`acquire`, `refund`, `saturate`), the usable burst, the drain per
/// second. Returns the wait in microseconds, the departure on the server's clock and the
/// level after the operation.
const BUCKET_SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local burst = tonumber(ARGV[2])
local drain = tonumber(ARGV[3]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(state[1]) or 0
local at = tonumber(state[2]) or now
if now > at then
  level = math.max(0, level - (now - at) * drain)
  at = now
end
local wait = 0
local op = ARGV[1]
if op == 'acquire' then
  level = level + 1
  local excess = level - burst
  if excess > 1e-9 then
    wait = math.ceil(excess / drain)
  end
elseif op == 'refund' then
  level = math.max(0, level - 1)
elseif op == 'saturate' then
  level = math.max(level, burst)
end
redis.call('HSET', KEYS[1], 'level', string.format('%.9f', level), 'at', string.format('%.0f', at))
redis.call('PEXPIRE', KEYS[1], math.ceil(level / drain / 1000) + 60000)
return {wait, at + wait, string.format('%.9f', level)}
";

/// The longest wait believed from the script: a year (more only with a broken bucket).
const MAX_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

/// Opt-in behaviour of a [`RedisLimiter`] while Redis is down or slow: each worker falls
/// back to a local bucket with its share of the portal's rate. See
/// [`RedisLimiter::with_local_fallback`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalFallback {
    /// How many workers share the portal (at least 1): each gets `burst / workers` (at
    /// least 1) and `drain / workers` per second.
    pub workers: u32,
    /// How long to stay on the local bucket before trying Redis again (default 1 s).
    pub probe_interval: Duration,
}

impl LocalFallback {
    /// A fallback for `workers` workers, trying Redis again every second.
    pub fn new(workers: u32) -> Self {
        LocalFallback {
            workers: workers.max(1),
            probe_interval: Duration::from_secs(1),
        }
    }

    /// The limits of one worker's local bucket.
    pub fn share(&self, limit: RateLimit) -> RateLimit {
        let workers = self.workers.max(1);
        let burst = (limit.burst() / workers).max(1);
        let drain = (limit.drain_per_sec() / f64::from(workers)).max(RateLimit::MIN_DRAIN_PER_SEC);
        RateLimit::custom(burst, drain).unwrap_or(RateLimit::custom(1, drain).unwrap_or(limit))
    }
}

/// Redis is down: the local bucket in use, and when to try Redis again.
struct Outage {
    bucket: LeakyBucket,
    next_probe: Instant,
}

struct Inner {
    fleet: Fleet,
    key: String,
    limit: RateLimit,
    script: Script,
    fallback: Option<LocalFallback>,
    outage: Mutex<Option<Outage>>,
    fallbacks: std::sync::atomic::AtomicU64,
}

/// A [`RateLimiter`] whose bucket lives in Redis, shared by every process that uses the same
/// Redis, key prefix and portal ([`Fleet::limiter`]). Cheap to clone.
///
/// When Redis cannot be reached or does not answer within [`crate::FleetConfig::timeout`],
/// [`RateLimiter::acquire`] fails with a [`LimiterError`] (the request is not sent), unless a
/// [`LocalFallback`] was set.
#[derive(Clone)]
pub struct RedisLimiter {
    inner: Arc<Inner>,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("key", &self.inner.key)
            .field("limit", &self.inner.limit)
            .field("fallback", &self.inner.fallback)
            .finish()
    }
}

/// The operations of the script.
#[derive(Debug, Clone, Copy)]
enum Op {
    Acquire,
    Refund,
    Saturate,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Acquire => "acquire",
            Op::Refund => "refund",
            Op::Saturate => "saturate",
        }
    }
}

impl RedisLimiter {
    pub(crate) fn new(fleet: Fleet, key: String, limit: RateLimit) -> Self {
        Self::with(fleet, key, limit, None)
    }

    fn with(fleet: Fleet, key: String, limit: RateLimit, fallback: Option<LocalFallback>) -> Self {
        RedisLimiter {
            inner: Arc::new(Inner {
                fleet,
                key,
                limit,
                script: Script::new(BUCKET_SCRIPT),
                fallback,
                outage: Mutex::new(None),
                fallbacks: std::sync::atomic::AtomicU64::new(0),
            }),
        }
    }

    /// Opt-in: while Redis is down or slow, send through a local bucket with this worker's
    /// share of the portal's rate ([`LocalFallback::share`]) instead of failing. The local
    /// bucket starts full, so the fleet as a whole never sends faster than the portal drains
    /// (as long as `fallback.workers` is not below the number of workers); the switch is
    /// logged at `warn`. Redis is tried again every `probe_interval`; when it answers, its
    /// bucket is filled (the requests sent meanwhile are unknown to it) and used again.
    pub fn with_local_fallback(self, fallback: LocalFallback) -> Self {
        let inner = &self.inner;
        Self::with(
            inner.fleet.clone(),
            inner.key.clone(),
            inner.limit,
            Some(fallback),
        )
    }

    /// How many acquisitions went through the local fallback bucket so far.
    pub fn fallback_acquisitions(&self) -> u64 {
        self.inner
            .fallbacks
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts one request in the Redis bucket and returns how long its sender must wait
    /// (zero within the burst; after every earlier reservation otherwise). No fallback: the
    /// Redis error as it is. [`RateLimiter::acquire`] is this plus the wait.
    pub async fn reserve(&self) -> Result<Duration, FleetError> {
        self.inner
            .run(Op::Acquire, false)
            .await
            .map(|(wait, _)| wait)
    }

    /// The bucket's level in Redis now (requests counted and not yet drained, including
    /// those of waiters not yet released), after draining.
    pub async fn level(&self) -> Result<f64, FleetError> {
        self.inner
            .run(Op::Refund, true)
            .await
            .map(|(_, level)| level)
    }
}

impl Inner {
    fn usable_burst(&self) -> u32 {
        self.limit.burst().saturating_sub(1).max(1)
    }

    /// Runs the script: the wait and the level. `peek` runs `refund` on nothing: a level
    /// read that changes nothing but the drain.
    async fn run(&self, op: Op, peek: bool) -> Result<(Duration, f64), FleetError> {
        let name = if peek { "peek" } else { op.name() };
        let burst = self.usable_burst();
        let drain = self.limit.drain_per_sec();
        let (wait_us, _departure, level): (i64, i64, String) = self
            .fleet
            .run(|mut conn| async move {
                self.script
                    .key(&self.key)
                    .arg(name)
                    .arg(burst)
                    .arg(drain)
                    .invoke_async(&mut conn)
                    .await
            })
            .await?;
        let wait = Duration::from_micros(u64::try_from(wait_us).unwrap_or(0)).min(MAX_WAIT);
        let level = level.parse::<f64>().map_err(|_| FleetError::Corrupt {
            reason: "the bucket level is not a number".into(),
        })?;
        Ok((wait, level))
    }

    /// The local bucket if Redis is known to be down and it is not yet time to try again.
    fn local_bucket(&self) -> Option<LeakyBucket> {
        let outage = self.outage.lock().unwrap_or_else(|p| p.into_inner());
        outage
            .as_ref()
            .filter(|o| Instant::now() < o.next_probe)
            .map(|o| o.bucket.clone())
    }

    /// Redis failed: starts (or extends) the outage and returns the local bucket, if a
    /// fallback is set.
    fn fail_over(&self, error: &FleetError) -> Option<LeakyBucket> {
        let fallback = self.fallback?;
        let mut outage = self.outage.lock().unwrap_or_else(|p| p.into_inner());
        let next_probe = Instant::now() + fallback.probe_interval;
        match outage.as_mut() {
            Some(o) => {
                o.next_probe = next_probe;
                Some(o.bucket.clone())
            }
            None => {
                let share = fallback.share(self.limit);
                tracing::warn!(
                    key = self.key.as_str(),
                    error = %error,
                    burst = share.burst(),
                    drain_per_sec = share.drain_per_sec(),
                    "Redis rate limiter unavailable: using this worker's share of the rate"
                );
                let bucket = LeakyBucket::new(share);
                bucket.saturate();
                *outage = Some(Outage {
                    bucket: bucket.clone(),
                    next_probe,
                });
                Some(bucket)
            }
        }
    }

    /// Redis answered: ends an outage. Returns whether there was one.
    fn recovered(&self) -> bool {
        let mut outage = self.outage.lock().unwrap_or_else(|p| p.into_inner());
        outage.take().is_some()
    }

    /// A best-effort `refund` or `saturate`.
    async fn adjust(&self, op: Op) {
        if let Some(bucket) = self.local_bucket() {
            match op {
                Op::Refund => bucket.refund(),
                _ => bucket.saturate(),
            }
            return;
        }
        if let Err(e) = self.run(op, false).await {
            tracing::warn!(key = self.key.as_str(), error = %e, op = op.name(), "Redis rate limiter not updated");
        }
    }
}

/// The slot of a waiter still sleeping; given back (in the background) if it is dropped.
struct Pending {
    inner: Arc<Inner>,
    armed: bool,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.armed {
            let inner = self.inner.clone();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move { inner.adjust(Op::Refund).await });
            }
        }
    }
}

impl RateLimiter for RedisLimiter {
    fn limit(&self) -> RateLimit {
        self.inner.limit
    }

    fn acquire(&self) -> LimiterFuture<'_, Result<(), LimiterError>> {
        Box::pin(async move {
            let inner = &self.inner;
            if let Some(bucket) = inner.local_bucket() {
                inner
                    .fallbacks
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                bucket.acquire().await;
                return Ok(());
            }
            match inner.run(Op::Acquire, false).await {
                Ok((wait, _)) => {
                    if inner.recovered() {
                        tracing::warn!(
                            key = inner.key.as_str(),
                            "Redis rate limiter back: its bucket is filled once"
                        );
                        inner.adjust(Op::Saturate).await;
                    }
                    if !wait.is_zero() {
                        let mut slot = Pending {
                            inner: inner.clone(),
                            armed: true,
                        };
                        tokio::time::sleep(wait).await;
                        slot.armed = false;
                    }
                    Ok(())
                }
                Err(e) => match inner.fail_over(&e) {
                    Some(bucket) => {
                        inner
                            .fallbacks
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        bucket.acquire().await;
                        Ok(())
                    }
                    None => Err(match e {
                        FleetError::Timeout { timeout } => LimiterError::Timeout { timeout },
                        other => LimiterError::Unavailable {
                            source: Arc::new(other),
                        },
                    }),
                },
            }
        })
    }

    fn refund(&self) -> LimiterFuture<'_, ()> {
        Box::pin(self.inner.adjust(Op::Refund))
    }

    fn saturate(&self) -> LimiterFuture<'_, ()> {
        Box::pin(self.inner.adjust(Op::Saturate))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any number of workers and any valid limit: each worker's share is a valid limit
        /// of at least one request, and the workers together never drain faster than the
        /// portal (unless the slowest valid rate already is more than their share) nor burst
        /// more than the portal's burst or one request each.
        #[test]
        fn shares_add_up_to_at_most_the_portal_rate(
            workers in 0u32..10_000,
            burst in 1u32..100_000,
            drain in RateLimit::MIN_DRAIN_PER_SEC..1e6,
        ) {
            let limit = RateLimit::custom(burst, drain).unwrap();
            let fallback = LocalFallback::new(workers);
            let share = fallback.share(limit);
            let n = f64::from(fallback.workers);
            prop_assert!(fallback.workers >= 1);
            prop_assert!(share.burst() >= 1);
            prop_assert!(u64::from(share.burst()) * u64::from(fallback.workers)
                <= u64::from(burst).max(u64::from(fallback.workers)));
            if drain / n >= RateLimit::MIN_DRAIN_PER_SEC {
                prop_assert!(share.drain_per_sec() * n <= drain * (1.0 + 1e-12));
            } else {
                prop_assert_eq!(share.drain_per_sec(), RateLimit::MIN_DRAIN_PER_SEC);
            }
        }
    }
}
