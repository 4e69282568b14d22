//! The leaky bucket (`QUERY_LIMIT_EXCEEDED`) and the per-method operating-time budget
//! (`OPERATION_TIME_LIMIT`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::config::LimitConfig;

/// Leaky bucket: each request adds one; the level drains at `drain_per_sec`; a request that
/// would take the level above `burst` is refused (and adds nothing).
#[derive(Debug)]
pub(crate) struct Bucket {
    level: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new() -> Self {
        Bucket {
            level: 0.0,
            last: Instant::now(),
        }
    }

    /// Admits one request, or refuses it.
    pub(crate) fn admit(&mut self, cfg: &LimitConfig, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        // Never move the clock backwards: that would drain the same interval twice.
        self.last = self.last.max(now);
        self.level = (self.level - elapsed * cfg.drain_per_sec).max(0.0);
        if self.level + 1.0 > cfg.burst {
            false
        } else {
            self.level += 1.0;
            true
        }
    }

    /// The current level (after draining up to `now`).
    pub(crate) fn level(&self, cfg: &LimitConfig, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        (self.level - elapsed * cfg.drain_per_sec).max(0.0)
    }
}

/// Processing time of one method in 10 buckets over the window; each bucket starts at the
/// first call that falls into it and leaves the sum one window later.
#[derive(Debug, Default)]
pub(crate) struct Operating {
    buckets: HashMap<String, Vec<(Instant, u64, f64)>>,
}

/// The `operating` of a method and when its oldest bucket leaves it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OperatingState {
    pub(crate) operating: f64,
    /// Seconds from now until the oldest bucket resets.
    pub(crate) reset_in: Duration,
}

impl Operating {
    fn expire(&mut self, method: &str, cfg: &LimitConfig, now: Instant) {
        if let Some(b) = self.buckets.get_mut(method) {
            b.retain(|(start, _, _)| now.saturating_duration_since(*start) < cfg.operating_window);
        }
    }

    pub(crate) fn state(
        &mut self,
        method: &str,
        cfg: &LimitConfig,
        now: Instant,
    ) -> OperatingState {
        self.expire(method, cfg, now);
        let buckets = self.buckets.get(method).map(Vec::as_slice).unwrap_or(&[]);
        let operating = buckets.iter().map(|(_, _, s)| s).sum();
        let reset_in = buckets
            .first()
            .map(|(start, _, _)| (*start + cfg.operating_window).saturating_duration_since(now))
            .unwrap_or(cfg.operating_window);
        OperatingState {
            operating,
            reset_in,
        }
    }

    /// Whether the method is blocked: its accumulated time is already above the limit.
    pub(crate) fn blocked(&mut self, method: &str, cfg: &LimitConfig, now: Instant) -> bool {
        self.state(method, cfg, now).operating > cfg.operating_limit.as_secs_f64()
    }

    /// Adds the processing time of one call.
    pub(crate) fn add(
        &mut self,
        method: &str,
        secs: f64,
        cfg: &LimitConfig,
        epoch: Instant,
        now: Instant,
    ) {
        self.expire(method, cfg, now);
        let slot_len = (cfg.operating_window.as_secs_f64() / 10.0).max(0.001);
        let slot = (now.saturating_duration_since(epoch).as_secs_f64() / slot_len) as u64;
        let buckets = self.buckets.entry(method.to_string()).or_default();
        match buckets.last_mut() {
            Some((_, s, sum)) if *s == slot => *sum += secs,
            _ => buckets.push((now, slot, secs)),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refuses_above_burst_and_drains() {
        let cfg = LimitConfig {
            burst: 3.0,
            drain_per_sec: 2.0,
            ..LimitConfig::default()
        };
        let t0 = Instant::now();
        let mut b = Bucket::new();
        b.last = t0;
        assert!(b.admit(&cfg, t0));
        assert!(b.admit(&cfg, t0));
        assert!(b.admit(&cfg, t0));
        assert!(!b.admit(&cfg, t0));
        assert!(b.admit(&cfg, t0 + Duration::from_millis(500)));
        assert!(!b.admit(&cfg, t0 + Duration::from_millis(500)));
    }

    #[test]
    fn operating_accumulates_and_expires() {
        let cfg = LimitConfig {
            operating_limit: Duration::from_secs(1),
            operating_window: Duration::from_secs(10),
            ..LimitConfig::default()
        };
        let t0 = Instant::now();
        let mut op = Operating::default();
        op.add("m", 0.6, &cfg, t0, t0);
        assert!(!op.blocked("m", &cfg, t0));
        op.add("m", 0.6, &cfg, t0, t0 + Duration::from_millis(100));
        assert!(op.blocked("m", &cfg, t0 + Duration::from_millis(200)));
        assert!(!op.blocked("other", &cfg, t0));
        assert!(!op.blocked("m", &cfg, t0 + Duration::from_secs(11)));
    }
}
