//! Retries (reference §5 "Errors and quotas"): 429, 500, 502, 503 and 504,
//! and a 403 or 429 whose reason is `rateLimitExceeded`,
//! `userRateLimitExceeded` (2,400 queries per minute per user per project by
//! default) or `quotaExceeded` (too many concurrent requests), are tried again
//! after an exponential backoff `base·2^(n-1)` plus a random jitter in
//! `0..base`, capped at `max_delay` ([U] "2^n seconds plus jitter, capped near
//! 64 s"); a `Retry-After` in seconds, when sent, is used instead (also
//! capped). The token endpoint's 429 and 5xx are retried the same way.
//!
//! Retrying a write is safe for every call of this client: their effects are
//! idempotent (a PATCH sets the same fields, a repeated sign-out or 2SV
//! turn-off changes nothing more, a repeated member insert answers 409
//! duplicate, which is [`crate::MemberChange::Unchanged`], a repeated licence
//! insert answers 412 "already has a license", see
//! [`crate::GoogleError::is_already_assigned`]).

use rand::Rng;
use std::time::Duration;

/// How hard the client retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (at least 1 is made). Default 5.
    pub max_attempts: u32,
    /// The first backoff, doubled per attempt, and the jitter's bound. Default 1 s.
    pub base_delay: Duration,
    /// Cap of any single delay, `Retry-After` included. Default 64 s.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 5, base_delay: Duration::from_secs(1), max_delay: Duration::from_secs(64) }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt `attempt` (counting from 1): `retry_after`
    /// if Google sent one, else `base·2^(attempt-1)` plus jitter in `0..base`;
    /// never above `max_delay`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let d = match retry_after {
            Some(d) => d,
            None => backoff(self.base_delay, attempt).saturating_add(jitter(self.base_delay)),
        };
        d.min(self.max_delay)
    }
}

/// The reasons of Google's quota errors (reference §5).
pub const RATE_LIMIT_REASONS: [&str; 3] = ["rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"];

/// Whether an answer with `status` and Google's `reason` is worth another attempt.
pub fn is_retryable(status: u16, reason: Option<&str>) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
        || (matches!(status, 403 | 429) && reason.is_some_and(|r| RATE_LIMIT_REASONS.contains(&r)))
}

/// `Retry-After` in seconds (decimals rounded up). `None` for anything else
/// (negative, not a number, an HTTP date).
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let secs: f64 = v.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::from_secs(secs.ceil().min(86_400.0) as u64))
}

/// `base · 2^(attempt-1)`, saturating.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.saturating_sub(1).min(20)).unwrap_or(u32::MAX);
    base.saturating_mul(factor)
}

/// A random duration in `0..base` (zero for a zero base).
fn jitter(base: Duration) -> Duration {
    let nanos = u64::try_from(base.as_nanos()).unwrap_or(u64::MAX);
    if nanos == 0 { Duration::ZERO } else { Duration::from_nanos(rand::rng().random_range(0..nanos)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_reasons_and_server_errors_are_retried() {
        for s in [429, 500, 502, 503, 504] {
            assert!(is_retryable(s, None), "{s}");
        }
        for r in RATE_LIMIT_REASONS {
            assert!(is_retryable(403, Some(r)) && is_retryable(429, Some(r)), "{r}");
        }
        assert!(!is_retryable(403, Some("forbidden")));
        assert!(!is_retryable(403, Some("insufficientPermissions")));
        assert!(!is_retryable(403, None));
        assert!(!is_retryable(400, Some("rateLimitExceeded")));
        assert!(!is_retryable(404, None) && !is_retryable(409, None) && !is_retryable(412, None));
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter_and_cap() {
        let base = Duration::from_millis(100);
        let p = RetryPolicy { max_attempts: 5, base_delay: base, max_delay: Duration::from_secs(1) };
        for attempt in 1..=3 {
            let lo = backoff(base, attempt);
            for _ in 0..50 {
                let d = p.delay(attempt, None);
                assert!(d >= lo && d < lo + base, "attempt {attempt}: {d:?}");
            }
        }
        assert_eq!(p.delay(10, None), Duration::from_secs(1));
        assert_eq!(p.delay(1, Some(Duration::from_secs(30))), Duration::from_secs(1));
        assert_eq!(p.delay(1, Some(Duration::from_millis(200))), Duration::from_millis(200));
        assert!(backoff(base, 500) >= base);
        let d = RetryPolicy::default();
        assert_eq!((d.max_attempts, d.base_delay, d.max_delay), (5, Duration::from_secs(1), Duration::from_secs(64)));
    }

    #[test]
    fn retry_after_is_whole_seconds() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 1.2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
