//! Retries (reference §2 "Retries and throttling"): 429, 503 and 504 are
//! retried; `Retry-After` is honoured, decimal seconds included (`2.542` →
//! 3 s: parsed as a float and rounded up); without it the delay doubles from
//! `base_delay`. Attempts are bounded. The waiting goes through a [`Sleeper`]
//! so tests can record the delays instead of sleeping them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How hard the client retries.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    /// The first delay when no `Retry-After` is sent; doubles per attempt.
    pub base_delay: Duration,
    /// Cap of any single delay (a `Retry-After` above it is cut to it).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 5, base_delay: Duration::from_secs(1), max_delay: Duration::from_secs(60) }
    }
}

impl RetryPolicy {
    /// The delay before attempt `attempt + 1` (attempt counts from 1).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let d = match retry_after {
            Some(d) => d,
            None => backoff(self.base_delay, attempt),
        };
        d.min(self.max_delay)
    }
}

/// Statuses worth another attempt.
pub fn is_retryable(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// `Retry-After` as Graph sends it: seconds, possibly decimal (`2.542`),
/// rounded up to whole seconds. `None` for anything unusable (negative,
/// non-numeric, an HTTP date, which Graph does not send).
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let secs: f64 = v.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    let whole = secs.ceil().min(86_400.0);
    Some(Duration::from_secs(whole as u64))
}

/// `base * 2^(attempt-1)`, saturating.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 1u32.checked_shl(attempt.saturating_sub(1).min(16)).unwrap_or(u32::MAX);
    base.saturating_mul(factor)
}

/// Waits between attempts. Production: [`TokioSleeper`]. Tests: [`RecordingSleeper`].
#[async_trait::async_trait]
pub trait Sleeper: Send + Sync + std::fmt::Debug {
    async fn sleep(&self, d: Duration);
}

/// Sleeps for real.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

#[async_trait::async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// Records every requested delay and sleeps `scale` of it (0.0: not at all),
/// so tests check that `Retry-After: 2.542` asked for 3 s without waiting 3 s.
#[derive(Debug, Clone)]
pub struct RecordingSleeper {
    pub scale: f64,
    delays: Arc<Mutex<Vec<Duration>>>,
}

impl RecordingSleeper {
    pub fn new(scale: f64) -> Self {
        Self { scale, delays: Arc::default() }
    }
    /// The delays asked for so far, in order.
    pub fn delays(&self) -> Vec<Duration> {
        self.delays.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl Sleeper for RecordingSleeper {
    async fn sleep(&self, d: Duration) {
        if let Ok(mut v) = self.delays.lock() {
            v.push(d);
        }
        if self.scale > 0.0 {
            tokio::time::sleep(d.mul_f64(self.scale)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_decimal_rounds_up() {
        assert_eq!(parse_retry_after("2.542"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("2.128"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 10 "), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("0.001"), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("NaN"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("1e9"), Some(Duration::from_secs(86_400)));
    }

    #[test]
    fn backoff_doubles_and_is_capped_by_policy() {
        let b = Duration::from_millis(100);
        assert_eq!(backoff(b, 1), b);
        assert_eq!(backoff(b, 2), b * 2);
        assert_eq!(backoff(b, 4), b * 8);
        assert!(backoff(b, 500) >= b);
        let p = RetryPolicy { max_attempts: 3, base_delay: b, max_delay: Duration::from_secs(1) };
        assert_eq!(p.delay(10, None), Duration::from_secs(1));
        assert_eq!(p.delay(1, Some(Duration::from_secs(3))), Duration::from_secs(1));
        assert_eq!(RetryPolicy::default().delay(1, Some(Duration::from_secs(3))), Duration::from_secs(3));
    }

    #[test]
    fn only_throttling_and_unavailability_are_retried() {
        assert!(is_retryable(429) && is_retryable(503) && is_retryable(504));
        assert!(!is_retryable(500) && !is_retryable(400) && !is_retryable(401));
    }
}
