//! Fault injection: which calls get a fault (by rule, count, rotation or a seeded draw).

use crate::config::{FaultKind, FaultRule};
use crate::counters::Counters;

/// Small seeded generator (SplitMix64) deciding which calls get a fault.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    /// A number in `0..n` (`n` ≥ 1).
    fn below(&mut self, n: usize) -> usize {
        ((self.next_f64() * n as f64) as usize).min(n.saturating_sub(1))
    }

    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The fault rules' generators and tallies.
#[derive(Debug, Clone)]
pub(crate) struct Faults {
    rng: Rng,
    /// The own generators of rules with a `seed` (`None` for rules drawing from `rng`).
    rule_rngs: Vec<Option<Rng>>,
    /// Faults injected per rule (for `FaultRule::max_count`).
    fired: Vec<u64>,
    /// Matching calls seen per fault rule (for `FaultRule::every`).
    seen: Vec<u64>,
}

impl Faults {
    /// Fresh generators (seeded by `seed` or each rule's own) and zero tallies.
    pub(crate) fn new(rules: &[FaultRule], seed: u64) -> Self {
        Faults {
            rng: Rng(seed),
            rule_rngs: rule_rngs(rules),
            fired: vec![0; rules.len()],
            seen: vec![0; rules.len()],
        }
    }

    /// The generator of fault rule `i`: its own if it has a seed, else the shared one.
    fn rng(&mut self, i: usize) -> &mut Rng {
        match self.rule_rngs.get_mut(i) {
            Some(Some(rng)) => rng,
            _ => &mut self.rng,
        }
    }

    /// Decides the faults of one HTTP request for `method` (lower case) under `rules`,
    /// counting them in `counters`. A fault the portal's PHP produces must pass `admit`
    /// (the leaky bucket) first.
    pub(crate) fn plan(
        &mut self,
        rules: &[FaultRule],
        method: &str,
        counters: &mut Counters,
        mut admit: impl FnMut() -> bool,
    ) -> FaultPlan {
        let mut plan = FaultPlan::default();
        for (i, rule) in rules.iter().enumerate() {
            if !rule_matches(rule, method) {
                continue;
            }
            let seen = self.seen[i];
            self.seen[i] += 1;
            if rule.max_count.is_some_and(|n| self.fired[i] >= n) {
                continue;
            }
            match rule.every {
                Some((n, offset)) => {
                    if seen % n.max(1) != offset {
                        continue;
                    }
                }
                None => {
                    if rule.probability < 1.0 && self.rng(i).next_f64() >= rule.probability {
                        continue;
                    }
                }
            }
            let kind = if rule.kinds.is_empty() {
                rule.kind.clone()
            } else {
                let pick = self.rng(i).below(rule.kinds.len());
                rule.kinds.get(pick).unwrap_or(&rule.kind).clone()
            };
            if let FaultKind::Latency(d) = kind {
                plan.latency += d;
            } else if plan.fault.is_some() {
                continue;
            } else {
                // A fault the portal's PHP produces passes its leaky bucket first: with the
                // bucket full the call gets the 503 instead, and the fault does not happen.
                if kind.reaches_portal() && !rule.after_execution && !method.is_empty() {
                    if !admit() {
                        continue;
                    }
                    counters.counted_by_limiter += 1;
                }
                plan.fault = Some((kind.clone(), rule.after_execution));
            }
            self.fired[i] += 1;
            counters.faults_injected += 1;
            *counters
                .faults
                .entry(fault_name(&kind).to_string())
                .or_default() += 1;
        }
        plan
    }
}

/// A generator for each fault rule that has its own seed.
fn rule_rngs(rules: &[FaultRule]) -> Vec<Option<Rng>> {
    rules.iter().map(|r| r.seed.map(Rng)).collect()
}

/// The faults decided for one HTTP request.
#[derive(Debug, Clone, Default)]
pub(crate) struct FaultPlan {
    pub(crate) latency: std::time::Duration,
    pub(crate) fault: Option<(FaultKind, bool)>,
}

pub(crate) fn fault_name(k: &FaultKind) -> &'static str {
    match k {
        FaultKind::Latency(_) => "latency",
        FaultKind::InternalError => "internal_error",
        FaultKind::BadGatewayHtml => "bad_gateway_html",
        FaultKind::TruncatedBody => "truncated_body",
        FaultKind::DropConnection => "drop_connection",
    }
}

fn rule_matches(rule: &FaultRule, method: &str) -> bool {
    rule.method
        .as_deref()
        .is_none_or(|m| m.eq_ignore_ascii_case(method))
}
