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
//!
//! [`LeakyBucket`] counts for one process. Several processes that call the same portal from
//! the same address drain the same bucket at the portal, so they need one shared count: the
//! [`RateLimiter`] trait lets a client use another implementation (`b24-fleet` keeps the
//! bucket in Redis) through [`crate::ClientBuilder::limiter`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use b24_core::LimiterError;
use tokio::time::Instant;

use crate::ConfigError;

/// The boxed future a [`RateLimiter`] returns.
pub type LimiterFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A client-side copy of the portal's leaky bucket that decides when each request may be
/// sent. [`LeakyBucket`] is the in-process one (the default); `b24-fleet` shares one bucket
/// between processes through Redis.
///
/// The client calls [`RateLimiter::acquire`] before every HTTP request, then
/// [`RateLimiter::refund`] when the attempt most likely never reached the portal's limiter,
/// or [`RateLimiter::saturate`] when the portal answered `QUERY_LIMIT_EXCEEDED`.
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// The portal's limits this limiter enforces.
    fn limit(&self) -> RateLimit;

    /// Waits until one more request may be sent and counts it. Waiters are released in the
    /// order they called, one per `1 / drain_per_sec` once the burst is used. An error means
    /// the request must not be sent (the client returns [`b24_core::Error::RateLimiter`]). A
    /// waiter dropped before its departure gives its slot back.
    fn acquire(&self) -> LimiterFuture<'_, Result<(), LimiterError>>;

    /// Gives back the slot of a request the portal never counted. Best effort: an
    /// implementation that cannot reach its store logs and keeps the slot (the safe side).
    fn refund(&self) -> LimiterFuture<'_, ()>;

    /// The portal said its bucket is full: fill ours, so every waiter waits for the drain.
    /// Best effort, like [`RateLimiter::refund`].
    fn saturate(&self) -> LimiterFuture<'_, ()>;
}

/// Request-rate limits of a portal: [`RateLimit::STANDARD`], [`RateLimit::ENTERPRISE`] or
/// [`RateLimit::custom`]. Always valid: a burst of at least one and a finite drain rate of
/// at least [`RateLimit::MIN_DRAIN_PER_SEC`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    burst: u32,
    drain_per_sec: f64,
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
    /// The slowest drain [`RateLimit::custom`] accepts: one request an hour. Anything slower
    /// is a mistake (a rate in requests per hour given as per second, a zero), and would
    /// park waiters for days.
    pub const MIN_DRAIN_PER_SEC: f64 = 1.0 / 3600.0;

    /// Custom limits: `burst` requests at once from an empty bucket, which drains
    /// `drain_per_sec` requests per second.
    ///
    /// A burst of 0, or a drain rate that is not a finite number of at least
    /// [`RateLimit::MIN_DRAIN_PER_SEC`] (zero, negative, NaN, infinite), is a
    /// [`ConfigError::InvalidRateLimit`].
    pub fn custom(burst: u32, drain_per_sec: f64) -> Result<RateLimit, ConfigError> {
        if burst == 0 {
            return Err(ConfigError::InvalidRateLimit {
                reason: "the burst must be at least 1".into(),
            });
        }
        if !(drain_per_sec.is_finite() && drain_per_sec >= Self::MIN_DRAIN_PER_SEC) {
            return Err(ConfigError::InvalidRateLimit {
                reason: format!(
                    "the drain rate must be a finite number of requests per second, at least \
                     one an hour ({:e}); got {drain_per_sec}",
                    Self::MIN_DRAIN_PER_SEC
                ),
            });
        }
        Ok(RateLimit {
            burst,
            drain_per_sec,
        })
    }

    /// Requests that may be sent at once from an empty bucket.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Requests per second the bucket drains.
    pub fn drain_per_sec(&self) -> f64 {
        self.drain_per_sec
    }
}

/// The bucket's level at `at`. The level counts every slot handed out and not yet drained,
/// including the slots of waiters still sleeping until their departure time, so it may stand
/// above the burst.
#[derive(Debug)]
struct State {
    level: f64,
    at: Instant,
}

/// The shared bucket. Clones share one state, so every clone of a client and every task
/// waits on the same bucket.
///
/// Waiters are served in the order they arrive: each [`LeakyBucket::acquire`] reserves the
/// next free slot under the lock, computes its own departure time from it and sleeps until
/// then, without polling again.
#[derive(Debug, Clone)]
pub struct LeakyBucket {
    limit: RateLimit,
    state: Arc<Mutex<State>>,
}

/// The longest wait a reservation computes; longer only with billions of waiters queued.
const MAX_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

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

    /// Counts one request and returns when it may be sent: `None` for now, or the moment
    /// the bucket will have drained enough for it (after every earlier reservation).
    fn reserve(&self) -> Option<Instant> {
        let burst = self.usable_burst();
        let drain = self.limit.drain_per_sec;
        self.with_state(|s, now| {
            s.level += 1.0;
            let excess = s.level - burst;
            if excess <= 1e-9 {
                return None;
            }
            // `drain` is at least `MIN_DRAIN_PER_SEC`, so the quotient is finite; the
            // fallbacks only guard against a queue of absurd length.
            let wait = Duration::try_from_secs_f64(excess / drain)
                .unwrap_or(MAX_WAIT)
                .min(MAX_WAIT);
            Some(now.checked_add(wait).unwrap_or(now))
        })
    }

    /// Waits until a request may be sent and counts it. Waiters are released in the order
    /// they called `acquire`, one per `1 / drain_per_sec` once the burst is used. A waiter
    /// dropped before its departure time gives its slot back.
    pub async fn acquire(&self) {
        let Some(departure) = self.reserve() else {
            return;
        };
        let mut slot = Reservation {
            bucket: self,
            pending: true,
        };
        tokio::time::sleep_until(departure).await;
        slot.pending = false;
    }

    /// Gives back the slot of a request the portal never counted (see `retry::slot_unused`).
    pub fn refund(&self) {
        self.with_state(|s, _| s.level = (s.level - 1.0).max(0.0));
    }

    /// The portal said its bucket is full: fill ours, so every task waits for the drain.
    /// Waiters that already hold a departure time keep it (they leave one drain interval
    /// apart); new ones line up behind them.
    pub fn saturate(&self) {
        let burst = self.usable_burst();
        self.with_state(|s, _| s.level = s.level.max(burst));
    }

    /// The current level: requests counted and not yet drained, including those of waiters
    /// not yet released.
    pub fn level(&self) -> f64 {
        self.with_state(|s, _| s.level)
    }
}

impl RateLimiter for LeakyBucket {
    fn limit(&self) -> RateLimit {
        self.limit
    }

    fn acquire(&self) -> LimiterFuture<'_, Result<(), LimiterError>> {
        Box::pin(async move {
            LeakyBucket::acquire(self).await;
            Ok(())
        })
    }

    fn refund(&self) -> LimiterFuture<'_, ()> {
        LeakyBucket::refund(self);
        Box::pin(std::future::ready(()))
    }

    fn saturate(&self) -> LimiterFuture<'_, ()> {
        LeakyBucket::saturate(self);
        Box::pin(std::future::ready(()))
    }
}

/// The slot of a waiter that is still sleeping; given back if the waiter is dropped.
struct Reservation<'a> {
    bucket: &'a LeakyBucket,
    pending: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.pending {
            self.bucket.refund();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;

    use super::*;

    fn limit(burst: u32, drain: f64) -> RateLimit {
        RateLimit::custom(burst, drain).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn burst_then_drain_rate() {
        let bucket = LeakyBucket::new(limit(6, 2.0));
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
        let a = LeakyBucket::new(limit(3, 1.0));
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

    /// Releases `arrivals` (ms after the start, ascending) through `bucket`, one task each
    /// arriving at its time, and returns each task's index, release time and how many times
    /// its `acquire` was polled, in the order they were released.
    async fn release_order(bucket: &LeakyBucket, arrivals: &[u64]) -> Vec<(usize, Duration, u32)> {
        let start = Instant::now();
        let released = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (i, at) in arrivals.iter().enumerate() {
            tokio::time::sleep_until(start + Duration::from_millis(*at)).await;
            let (bucket, released) = (bucket.clone(), released.clone());
            tasks.push(tokio::spawn(async move {
                let mut acquire = std::pin::pin!(bucket.acquire());
                let mut polls = 0;
                std::future::poll_fn(|cx| {
                    polls += 1;
                    acquire.as_mut().poll(cx)
                })
                .await;
                let at = start.elapsed();
                released.lock().unwrap().push((i, at, polls));
            }));
            // Task `i` reserves before the next one is spawned: arrivals are in order.
            tokio::task::yield_now().await;
        }
        for t in tasks {
            t.await.unwrap();
        }
        let released = released.lock().unwrap();
        released.clone()
    }

    /// The release time of each arrival in a FIFO leaky bucket (the virtual-scheduling form
    /// of the same algorithm, in whole milliseconds): `burst` at once, then one per
    /// `interval`.
    fn fifo_departures(arrivals: &[u64], usable_burst: u64, interval: u64) -> Vec<u64> {
        let mut tat = 0; // when the bucket would be empty
        arrivals
            .iter()
            .map(|&a| {
                tat = tat.max(a);
                let leave = (tat + interval)
                    .saturating_sub(usable_burst * interval)
                    .max(a);
                tat += interval;
                leave
            })
            .collect()
    }

    /// 1,000 tasks arrive at random moments (seeded; on average faster than the drain, so a
    /// queue of hundreds builds up) at a standard-plan bucket: each is released in arrival
    /// order, at its own slot of the FIFO schedule, on tokio's paused clock, after sleeping
    /// once. Sleep-and-repoll woke every queued waiter at each slot to race for it (up to 549
    /// polls for one waiter here, 252,619 in all; on a multi-threaded runtime whichever
    /// thread ran first won).
    #[tokio::test(start_paused = true)]
    async fn a_thousand_waiters_leave_in_arrival_order_one_slot_apart() {
        let mut rng = fastrand::Rng::with_seed(10);
        let mut at = 0;
        let arrivals: Vec<u64> = (0..1000)
            .map(|_| {
                at += rng.u64(0..=400);
                at
            })
            .collect();
        let bucket = LeakyBucket::new(RateLimit::STANDARD);
        let released = release_order(&bucket, &arrivals).await;
        let want = fifo_departures(&arrivals, 49, 500);
        let order: Vec<usize> = released.iter().map(|(i, _, _)| *i).collect();
        assert_eq!(
            order,
            (0..1000).collect::<Vec<_>>(),
            "released in arrival order"
        );
        for (i, at, polls) in &released {
            assert!(*polls <= 2, "waiter {i} was polled {polls} times");
            let want = Duration::from_millis(want[*i]);
            // The timer wheel fires on whole milliseconds.
            assert!(
                *at >= want && *at <= want + Duration::from_millis(1),
                "waiter {i}: released at {at:?}, its slot is {want:?}"
            );
        }
        let queued = want.iter().zip(&arrivals).filter(|(d, a)| d > a).count();
        assert!(queued > 900, "most waited: {queued}");
    }

    /// A waiter that gives up before its departure gives its slot back, so the bucket ends
    /// where it would be had the waiter never come.
    #[tokio::test(start_paused = true)]
    async fn a_dropped_waiter_gives_its_slot_back() {
        let bucket = LeakyBucket::new(limit(3, 1.0));
        bucket.acquire().await;
        bucket.acquire().await;
        let gave_up = tokio::time::timeout(Duration::from_millis(100), bucket.acquire()).await;
        assert!(gave_up.is_err(), "the third waits a second");
        assert!((bucket.level() - 1.9).abs() < 1e-9, "{}", bucket.level());
    }

    #[test]
    fn plans() {
        assert_eq!(RateLimit::STANDARD.burst(), 50);
        assert_eq!(RateLimit::STANDARD.drain_per_sec(), 2.0);
        assert_eq!(RateLimit::ENTERPRISE.burst(), 250);
        assert_eq!(RateLimit::ENTERPRISE.drain_per_sec(), 5.0);
        let min = RateLimit::custom(1, RateLimit::MIN_DRAIN_PER_SEC).unwrap();
        assert_eq!((min.burst(), min.drain_per_sec()), (1, 1.0 / 3600.0));
        assert_eq!(
            RateLimit::custom(7, 1e9).map(|l| (l.burst(), l.drain_per_sec())),
            Ok((7, 1e9))
        );
    }

    /// Every unusable rate is a typed error, never a panic (a drain of 1e-300 used to
    /// overflow `Duration` on the first wait) and never a silent substitute.
    #[test]
    fn unusable_rates_are_config_errors() {
        for (burst, drain) in [
            (0, 2.0),
            (5, 0.0),
            (5, -0.0),
            (5, -2.0),
            (5, f64::NAN),
            (5, f64::INFINITY),
            (5, f64::NEG_INFINITY),
            (5, 1e-300),
            (5, f64::MIN_POSITIVE),
            (5, RateLimit::MIN_DRAIN_PER_SEC / 2.0),
        ] {
            match RateLimit::custom(burst, drain) {
                Err(ConfigError::InvalidRateLimit { reason }) => {
                    assert!(!reason.is_empty())
                }
                other => panic!("custom({burst}, {drain}) gave {other:?}"),
            }
        }
    }

    /// The slowest valid rate with a long queue still computes finite departures.
    #[tokio::test(start_paused = true)]
    async fn the_slowest_rate_queues_without_overflow() {
        let bucket = LeakyBucket::new(limit(1, RateLimit::MIN_DRAIN_PER_SEC));
        let start = Instant::now();
        bucket.acquire().await;
        bucket.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
    }
}
