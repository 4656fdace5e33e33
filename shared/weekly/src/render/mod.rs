//! Rendering: the report as tables (shown in the e-mail and attached as CSV),
//! PNG charts (inline by Content-ID), the HTML e-mail and the Teams card. Pure functions of
//! the report (and the stored snapshots, for the history chart).

mod charts;
mod csv;
mod email;
mod html;
mod tables;
mod teams;

pub use charts::{
    APPROVAL_CHART_CID, BILLING_CHART_CID, FLAGGED, PALETTE, Rgb, approval_png, approval_series, billing_png,
    billing_rows,
};
pub use email::email;
pub use tables::tables;
pub use teams::teams_card;

use atpilot_domain::PhaseMove;

/// A table: the e-mail shows it and attaches it as CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub id: &'static str,
    pub title: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// What the evaluation did, in a word or two.
fn move_name(m: &PhaseMove) -> &'static str {
    match m {
        PhaseMove::Stay => "stay",
        PhaseMove::Demote { .. } => "demoted",
        PhaseMove::Promote { .. } => "promoted",
        PhaseMove::EligibleForAutonomy { .. } => "eligible for autonomy",
    }
}
