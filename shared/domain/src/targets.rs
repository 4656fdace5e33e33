//! The day-90 targets the product is measured against (`../shared/PRODUCT.md`:
//! "the industry target by day 90: 25–40% autonomous, first response < 60 s"),
//! one copy for the weekly report and the dashboard's charts.

/// The autonomous resolution rate's target band for the categories in scope.
pub const TARGET_AUTONOMOUS_MIN: f64 = 0.25;
pub const TARGET_AUTONOMOUS_MAX: f64 = 0.40;
/// First response, seconds from the ticket's creation.
pub const TARGET_FIRST_RESPONSE_SECS: f64 = 60.0;
