//! Measured quantities: work spans, hours, confidence and money.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a measurement was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MeasureError {
    #[error("work ended ({end}) before it started ({start}): a duration cannot be negative")]
    EndsBeforeStart { start: DateTime<Utc>, end: DateTime<Utc> },
    #[error("work started and ended at the same instant ({at}); Autotask needs hoursWorked > 0")]
    Empty { at: DateTime<Utc> },
    #[error("work lasted {hours:.4} h; Autotask refuses entries of 24 hours or more")]
    TooLong { hours: f64 },
    #[error("hours must be a finite number of at least 0, got {0}")]
    InvalidHours(f64),
    #[error("confidence must be a number between 0 and 1, got {0}")]
    InvalidConfidence(f64),
    #[error("currency must be a three-letter ISO 4217 code such as USD, got {0:?}")]
    InvalidCurrency(String),
}

/// Hours as Autotask stores them (`hoursWorked`, block `hours`): finite, >= 0.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Hours(f64);

impl Hours {
    pub const ZERO: Hours = Hours(0.0);
    pub fn new(value: f64) -> Result<Self, MeasureError> {
        if value.is_finite() && value >= 0.0 {
            // -0.0 is normalised so equality and display stay boring.
            Ok(Self(value + 0.0))
        } else {
            Err(MeasureError::InvalidHours(value))
        }
    }
    pub fn get(self) -> f64 {
        self.0
    }
    /// `self - other`, never below zero.
    pub fn saturating_sub(self, other: Hours) -> Hours {
        Hours((self.0 - other.0).max(0.0))
    }
}
impl TryFrom<f64> for Hours {
    type Error = MeasureError;
    fn try_from(v: f64) -> Result<Self, MeasureError> {
        Self::new(v)
    }
}
impl From<Hours> for f64 {
    fn from(h: Hours) -> f64 {
        h.0
    }
}
impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} h", self.0)
    }
}

/// A measured span of the agent's work: start and end timestamps recorded by
/// the step that did the work. Always strictly positive and under 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSpan", into = "RawSpan")]
pub struct WorkSpan {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
struct RawSpan {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// Decimal places kept when a span is written as hours: 1e-6 h is 3.6 ms, so
/// whole seconds survive the conversion exactly enough to be read back.
pub const HOURS_DECIMALS: i32 = 6;

impl WorkSpan {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, MeasureError> {
        if end < start {
            return Err(MeasureError::EndsBeforeStart { start, end });
        }
        if end == start {
            return Err(MeasureError::Empty { at: start });
        }
        let span = Self { start, end };
        let hours = span.exact_hours();
        if hours >= 24.0 {
            return Err(MeasureError::TooLong { hours });
        }
        Ok(span)
    }
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }
    pub fn milliseconds(&self) -> i64 {
        (self.end - self.start).num_milliseconds()
    }
    fn exact_hours(&self) -> f64 {
        (self.end - self.start).num_microseconds().unwrap_or(i64::MAX) as f64 / 3_600_000_000.0
    }
    /// The hours to write in `hoursWorked`: the measured time truncated (never
    /// rounded up) to [`HOURS_DECIMALS`] places, and never zero: a span shorter
    /// than the smallest step is written as that step (3.6 ms), the only case
    /// where the written value exceeds the measurement, by under 4 ms.
    pub fn hours(&self) -> Hours {
        let scale = 10f64.powi(HOURS_DECIMALS);
        let truncated = (self.exact_hours() * scale).floor() / scale;
        Hours(truncated.max(1.0 / scale))
    }
}
impl TryFrom<RawSpan> for WorkSpan {
    type Error = MeasureError;
    fn try_from(raw: RawSpan) -> Result<Self, MeasureError> {
        Self::new(raw.start, raw.end)
    }
}
impl From<WorkSpan> for RawSpan {
    fn from(s: WorkSpan) -> RawSpan {
        RawSpan { start: s.start, end: s.end }
    }
}

/// A calibrated probability that a prediction is right, in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Confidence(f64);

impl Confidence {
    pub fn new(value: f64) -> Result<Self, MeasureError> {
        if (0.0..=1.0).contains(&value) { Ok(Self(value)) } else { Err(MeasureError::InvalidConfidence(value)) }
    }
    pub fn get(self) -> f64 {
        self.0
    }
}
impl TryFrom<f64> for Confidence {
    type Error = MeasureError;
    fn try_from(v: f64) -> Result<Self, MeasureError> {
        Self::new(v)
    }
}
impl From<Confidence> for f64 {
    fn from(c: Confidence) -> f64 {
        c.0
    }
}
impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.0}%", self.0 * 100.0)
    }
}

/// An ISO 4217 currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn new(code: &str) -> Result<Self, MeasureError> {
        let b = code.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Ok(Self([b[0], b[1], b[2]]))
        } else {
            Err(MeasureError::InvalidCurrency(code.to_string()))
        }
    }
    pub fn as_str(&self) -> &str {
        // Constructed only from three ASCII capitals.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}
impl TryFrom<String> for Currency {
    type Error = MeasureError;
    fn try_from(v: String) -> Result<Self, MeasureError> {
        Self::new(&v)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_string()
    }
}

/// Money in minor units (cents), exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor_units: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor_units: i64, currency: Currency) -> Self {
        Self { minor_units, currency }
    }
    /// Sum of two amounts in the same currency; `None` for mixed currencies or overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money { minor_units: self.minor_units.checked_add(other.minor_units)?, currency: self.currency })
    }
}
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor_units < 0 { "-" } else { "" };
        let abs = self.minor_units.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
    }

    #[test]
    fn eight_seconds_is_eight_seconds() {
        let span = WorkSpan::new(t0(), t0() + Duration::seconds(8)).unwrap();
        assert_eq!(span.hours().get(), 0.002222);
        assert!(span.hours().get() * 3600.0 <= 8.0);
        assert!(span.hours().get() * 3600.0 > 7.99);
    }

    #[test]
    fn negative_duration_is_a_typed_error() {
        let err = WorkSpan::new(t0(), t0() - Duration::seconds(1)).unwrap_err();
        assert!(matches!(err, MeasureError::EndsBeforeStart { .. }));
        assert!(err.to_string().contains("negative"));
    }

    #[test]
    fn empty_and_overlong_spans_are_refused() {
        assert!(matches!(WorkSpan::new(t0(), t0()), Err(MeasureError::Empty { .. })));
        assert!(matches!(WorkSpan::new(t0(), t0() + Duration::hours(24)), Err(MeasureError::TooLong { .. })));
        assert!(WorkSpan::new(t0(), t0() + Duration::hours(23)).is_ok());
    }

    #[test]
    fn tiny_span_is_never_written_as_zero() {
        let span = WorkSpan::new(t0(), t0() + Duration::milliseconds(1)).unwrap();
        assert_eq!(span.hours().get(), 0.000001);
    }

    #[test]
    fn serde_rechecks_spans() {
        let bad = r#"{"start":"2026-11-02T09:00:10Z","end":"2026-11-02T09:00:00Z"}"#;
        assert!(serde_json::from_str::<WorkSpan>(bad).is_err());
        let good = r#"{"start":"2026-11-02T09:00:00Z","end":"2026-11-02T09:00:10Z"}"#;
        assert_eq!(serde_json::from_str::<WorkSpan>(good).unwrap().milliseconds(), 10_000);
    }

    #[test]
    fn confidence_and_hours_bounds() {
        assert!(Confidence::new(1.01).is_err());
        assert!(Confidence::new(f64::NAN).is_err());
        assert!(Confidence::new(-0.1).is_err());
        assert_eq!(Confidence::new(0.9).unwrap().to_string(), "90%");
        assert!(Hours::new(-1.0).is_err());
        assert!(Hours::new(f64::INFINITY).is_err());
        assert_eq!(Hours::new(3.0).unwrap().saturating_sub(Hours::new(5.0).unwrap()), Hours::ZERO);
    }

    #[test]
    fn money_is_exact_and_currency_checked() {
        let usd = Currency::new("USD").unwrap();
        let eur = Currency::new("EUR").unwrap();
        assert!(Currency::new("usd").is_err());
        assert!(Currency::new("DOLLARS").is_err());
        let a = Money::new(1999, usd);
        assert_eq!(a.to_string(), "19.99 USD");
        assert_eq!(Money::new(-5, usd).to_string(), "-0.05 USD");
        assert_eq!(a.checked_add(Money::new(1, usd)).unwrap().minor_units, 2000);
        assert!(a.checked_add(Money::new(1, eur)).is_none());
    }
}

#[cfg(test)]
mod props {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    proptest! {
        /// No time entry is longer than the measured work (beyond the 3.6 ms floor step).
        #[test]
        fn written_hours_never_exceed_measured(ms in 4i64..86_399_000) {
            let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            let span = WorkSpan::new(start, start + Duration::milliseconds(ms)).unwrap();
            let written_ms = span.hours().get() * 3_600_000.0;
            prop_assert!(written_ms <= ms as f64 + 1e-6, "{written_ms} > {ms}");
            // and loses less than one step (3.6 ms)
            prop_assert!(ms as f64 - written_ms < 3.6 + 1e-6);
        }
    }
}
