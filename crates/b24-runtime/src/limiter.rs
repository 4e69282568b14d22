//! A client-side leaky bucket that mirrors the portal's.
//!
//! The portal counts every request into a bucket that drains at a constant rate and answers
//! 503 `QUERY_LIMIT_EXCEEDED` when the bucket is full. A client that fills its own copy of the
//! bucket before each send never meets that answer: the portal sees each request no earlier
//! than the client counted it, so its bucket has drained at least as much.
//!
//! One slot of the burst is held in reserve. The portal starts draining a request when it
//! *arrives*, and requests sent together do not arrive together (a new connection takes
//! longer than a reused one): without the reserve, a request that overtakes an earlier one
//! can meet a bucket fuller than the client's copy. One slot covers an arrival skew of
//! `1 / drain` seconds (500 ms on the standard plan).
//!
//! A failed attempt that most likely never reached the portal's limiter (nothing sent, no
//! answer at all, a proxy's gateway page) gives its slot back, so faults do not slow a job
//! down more than the portal itself counts them; a wrong guess costs one 503, which
//! resynchronises the bucket.
//!
//! Hand-written rather than `governor`: the client must be able to resynchronise its bucket
//! with the portal's verdict (a 503 means the portal's bucket is full, whatever ours says),
//! which GCRA limiters do not expose.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Request-rate limits of a portal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests that may be sent at once from an empty bucket.
    pub burst: u32,
    /// Requests per second the bucket drains.
    pub drain_per_sec: f64,
}

impl RateLimit {
    /// Standard plans: burst 50, 2 requests per second.
    pub const STANDARD: RateLimit = RateLimit {
        burst: 50,
        drain_per_sec: 2.0,
    };
    /// Enterprise plans: burst 250, 5 requests per second.
    pub const ENTERPRISE: RateLimit = RateLimit {
        burst: 250,
        drain_per_sec: 5.0,
    };

    /// Custom limits.
    pub fn custom(burst: u32, drain_per_sec: f64) -> RateLimit {
        RateLimit {
            burst: burst.max(1),
            drain_per_sec: if drain_per_sec.is_finite() && drain_per_sec > 0.0 {
                drain_per_sec
            } else {
                1.0
            },
        }
    }
}

#[derive(Debug)]
struct State {
    level: f64,
    at: Instant,
}

/// The shared bucket. Clones share one state, so every clone of a client and every task
/// waits on the same bucket.
#[derive(Debug, Clone)]
pub struct LeakyBucket {
    limit: RateLimit,
    state: Arc<Mutex<State>>,
}

impl LeakyBucket {
    /// An empty bucket.
    pub fn new(limit: RateLimit) -> Self {
        LeakyBucket {
            limit,
            state: Arc::new(Mutex::new(State {
                level: 0.0,
                at: Instant::now(),
            })),
        }
    }

    /// The limits.
    pub fn limit(&self) -> RateLimit {
        self.limit
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State, Instant) -> T) -> T {
        // A poisoned lock only means another task panicked mid-update; the numbers are
        // still usable.
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // Read the clock under the lock: a time read before it could be older than the last
        // update, and moving `at` backwards would drain the same interval twice.
        let now = Instant::now().max(s.at);
        let elapsed = now.saturating_duration_since(s.at).as_secs_f64();
        s.level = (s.level - elapsed * self.limit.drain_per_sec).max(0.0);
        s.at = now;
        f(&mut s, now)
    }

    /// The part of the burst the client uses: all but the reserved slot.
    fn usable_burst(&self) -> f64 {
        f64::from(self.limit.burst.saturating_sub(1).max(1))
    }

    /// Takes one slot, or says how long to wait for it.
    fn try_take(&self) -> Result<(), Duration> {
        let burst = self.usable_burst();
        self.with_state(|s, _| {
            if s.level + 1.0 <= burst + 1e-9 {
                s.level += 1.0;
                Ok(())
            } else {
                let wait = (s.level + 1.0 - burst) / self.limit.drain_per_sec;
                Err(Duration::from_secs_f64(wait.max(0.001)))
            }
        })
    }

    /// Waits until a request may be sent and counts it.
    pub async fn acquire(&self) {
        while let Err(wait) = self.try_take() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Gives back the slot of a request the portal never counted (see `retry::slot_unused`).
    pub fn refund(&self) {
        self.with_state(|s, _| s.level = (s.level - 1.0).max(0.0));
    }

    /// The portal said its bucket is full: fill ours, so every task waits for the drain.
    pub fn saturate(&self) {
        let burst = self.usable_burst();
        self.with_state(|s, _| s.level = s.level.max(burst));
    }

    /// The current level (requests counted and not yet drained).
    pub fn level(&self) -> f64 {
        self.with_state(|s, _| s.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn burst_then_drain_rate() {
        let bucket = LeakyBucket::new(RateLimit::custom(6, 2.0));
        let start = Instant::now();
        for _ in 0..5 {
            bucket.acquire().await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "the burst but its reserved slot goes at once"
        );
        for _ in 0..4 {
            bucket.acquire().await;
        }
        // Four more at 2 per second: two seconds.
        let waited = start.elapsed().as_secs_f64();
        assert!((waited - 2.0).abs() < 0.01, "{waited}");
    }

    #[tokio::test(start_paused = true)]
    async fn clones_share_the_bucket_and_saturate_waits() {
        let a = LeakyBucket::new(RateLimit::custom(3, 1.0));
        let b = a.clone();
        a.acquire().await;
        b.acquire().await;
        assert!((a.level() - 2.0).abs() < 1e-9);
        let start = Instant::now();
        a.acquire().await;
        assert!((start.elapsed().as_secs_f64() - 1.0).abs() < 0.01);
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert!(b.level() < 1e-9, "drained");
        b.saturate();
        let start = Instant::now();
        a.acquire().await;
        assert!((start.elapsed().as_secs_f64() - 1.0).abs() < 0.01);
    }

    #[test]
    fn plans() {
        assert_eq!(RateLimit::STANDARD.burst, 50);
        assert_eq!(RateLimit::ENTERPRISE.drain_per_sec, 5.0);
        assert_eq!(
            RateLimit::custom(0, -1.0),
            RateLimit {
                burst: 1,
                drain_per_sec: 1.0
            }
        );
    }
}
