//! The tenant's calendar. Autotask stores every date-time in UTC
//! (`../shared/reference/autotask-api.md`, TicketsEntity.htm and
//! TimeEntriesEntity.htm), but a time entry's `dateWorked` and a block's
//! start and end dates are calendar dates as the MSP's people read them:
//! work done at 23:30 in New York on 7 March is 7 March's work, not the 8th's
//! (04:30 UTC). atpilot reads those dates in one configured IANA time zone,
//! the agent resource's location (`InternalLocations.timeZone`).

use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;
use std::str::FromStr;

/// An IANA time zone (e.g. `America/New_York`), UTC by default; read from
/// and written as its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantTimeZone(chrono_tz::Tz);

/// A time zone name that is not in the IANA database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown time zone {0:?}: give an IANA name such as \"America/New_York\", \"Europe/London\" or \"UTC\" (the agent resource's location's zone)"
)]
pub struct UnknownTimeZone(pub String);

impl TenantTimeZone {
    pub const UTC: Self = Self(chrono_tz::Tz::UTC);

    /// The IANA name, e.g. `America/New_York`.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The calendar date in this zone at instant `at` (daylight saving applied).
    pub fn date_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }

    /// Hours this zone is ahead of UTC at `at` (negative west of Greenwich).
    pub fn offset_hours(&self, at: DateTime<Utc>) -> f64 {
        use chrono::Offset;
        f64::from(at.with_timezone(&self.0).offset().fix().local_minus_utc()) / 3600.0
    }
}

impl TenantTimeZone {
    /// The zone's standard (winter) offset in `year`, in hours: the smaller
    /// of its offsets in mid-January and mid-July (daylight saving adds).
    pub fn standard_offset_hours(&self, year: i32) -> f64 {
        use chrono::TimeZone;
        let at = |m| Utc.with_ymd_and_hms(year, m, 15, 12, 0, 0).single().map_or(0.0, |t| self.offset_hours(t));
        at(1).min(at(7))
    }
}

/// The UTC offset in hours at the start of Autotask's (Windows-style) zone
/// display name, `"(GMT-05:00) Eastern Time (US & Canada)"` or
/// `"(UTC+05:30) Chennai, ..."`; `None` for other text.
pub fn display_name_offset_hours(name: &str) -> Option<f64> {
    let rest = name.trim_start().strip_prefix('(')?;
    let rest = rest.strip_prefix("GMT").or_else(|| rest.strip_prefix("UTC"))?;
    if rest.starts_with(')') {
        return Some(0.0);
    }
    let sign = match rest.chars().next()? {
        '+' => 1.0,
        '-' => -1.0,
        _ => return None,
    };
    let (h, m) = rest[1..].split_once(')')?.0.split_once(':')?;
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then(|| sign * (f64::from(h) + f64::from(m) / 60.0))
}

impl FromStr for TenantTimeZone {
    type Err = UnknownTimeZone;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| UnknownTimeZone(s.to_string()))
    }
}

impl TryFrom<String> for TenantTimeZone {
    type Error = UnknownTimeZone;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<TenantTimeZone> for String {
    fn from(z: TenantTimeZone) -> Self {
        z.name().to_string()
    }
}

impl fmt::Display for TenantTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn local_midnight_belongs_to_the_new_local_day() {
        let ny: TenantTimeZone = "America/New_York".parse().unwrap();
        // 00:00 EST on 2026-01-15 is 05:00 UTC; one second earlier is still the 14th.
        assert_eq!(ny.date_of(at("2026-01-15T05:00:00Z")), day("2026-01-15"));
        assert_eq!(ny.date_of(at("2026-01-15T04:59:59Z")), day("2026-01-14"));
    }

    #[test]
    fn utc_midnight_is_still_the_previous_day_west_of_greenwich() {
        let ny: TenantTimeZone = "America/New_York".parse().unwrap();
        assert_eq!(ny.date_of(at("2026-01-15T00:00:00Z")), day("2026-01-14"));
        let sydney: TenantTimeZone = "Australia/Sydney".parse().unwrap();
        // East of Greenwich the local day starts before UTC's: 13:00 UTC is already tomorrow.
        assert_eq!(sydney.date_of(at("2026-01-15T13:00:00Z")), day("2026-01-16"));
        assert_eq!(TenantTimeZone::UTC.date_of(at("2026-01-15T00:00:00Z")), day("2026-01-15"));
    }

    #[test]
    fn daylight_saving_changes_where_the_local_day_starts() {
        let ny: TenantTimeZone = "America/New_York".parse().unwrap();
        // Clocks went forward at 02:00 EST on 2026-03-08: midnight of the 9th is 04:00 UTC, not 05:00.
        assert_eq!(ny.offset_hours(at("2026-03-08T06:00:00Z")), -5.0);
        assert_eq!(ny.offset_hours(at("2026-03-08T08:00:00Z")), -4.0);
        assert_eq!(ny.date_of(at("2026-03-09T04:00:00Z")), day("2026-03-09"));
        assert_eq!(ny.date_of(at("2026-03-09T03:59:59Z")), day("2026-03-08"));
        // And back on 2026-11-01: midnight of the 2nd is 05:00 UTC again.
        assert_eq!(ny.date_of(at("2026-11-02T04:30:00Z")), day("2026-11-01"));
        assert_eq!(ny.date_of(at("2026-11-02T05:00:00Z")), day("2026-11-02"));
    }

    #[test]
    fn autotask_display_names_give_their_standard_offset() {
        assert_eq!(display_name_offset_hours("(GMT-05:00) Eastern Time (US & Canada)"), Some(-5.0));
        assert_eq!(display_name_offset_hours("(UTC+05:30) Chennai, Kolkata"), Some(5.5));
        assert_eq!(display_name_offset_hours("(GMT) Greenwich Mean Time"), Some(0.0));
        assert_eq!(display_name_offset_hours("Eastern Standard Time"), None);
        let ny: TenantTimeZone = "America/New_York".parse().unwrap();
        assert_eq!(ny.standard_offset_hours(2026), -5.0);
        let sydney: TenantTimeZone = "Australia/Sydney".parse().unwrap();
        assert_eq!(sydney.standard_offset_hours(2026), 10.0);
    }

    #[test]
    fn names_parse_strictly_and_the_error_says_what_to_give() {
        assert_eq!("Europe/London".parse::<TenantTimeZone>().unwrap().name(), "Europe/London");
        assert_eq!(TenantTimeZone::default(), TenantTimeZone::UTC);
        let e = "Eastern Standard Time".parse::<TenantTimeZone>().unwrap_err();
        assert!(e.to_string().contains("IANA name"), "{e}");
    }
}
