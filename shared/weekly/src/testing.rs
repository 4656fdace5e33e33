//! Helpers shared by the unit tests of the figures.

use crate::period::Options;
use crate::rows::EntryRow;
use atpilot_domain::Category;
use chrono::{DateTime, NaiveDate, Utc};

pub(crate) fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub(crate) fn cat(s: &str) -> Category {
    Category::new(s).unwrap()
}

pub(crate) fn opts() -> Options {
    Options::new(t("2026-03-09T00:00:00Z"), NaiveDate::from_ymd_opt(2026, 2, 1).unwrap())
}

pub(crate) fn entry(hours: f64, ticket: i64, contract: i64, resource: i64, role: i64) -> EntryRow {
    EntryRow {
        id: 9,
        ticket: Some(ticket),
        contract: Some(contract),
        resource: Some(resource),
        role: Some(role),
        hours,
        date: None,
        created: Some(t("2026-03-03T10:00:00Z")),
        modified: Some(t("2026-03-03T10:00:00Z")),
    }
}
