//! `[approvals]` and `[notifications]`: where approval pages live and who hears what.

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsConfig {
    /// The public base URL of the approval pages (the approval function's URL in AWS).
    pub base_url: String,
    #[serde(default = "d_ttl")]
    pub token_ttl_hours: u32,
    /// Environment variable holding the token-signing key (32+ bytes).
    #[serde(default = "d_key_env")]
    pub signing_key_env: String,
    /// Minutes after which a request posted to Teams that no approver has
    /// opened is e-mailed to each approver once (a Workflows URL answers 202
    /// before it posts, so a card may never appear). 0: never.
    #[serde(default = "d_remind")]
    pub remind_after_minutes: u32,
}
fn d_remind() -> u32 {
    60
}
fn d_ttl() -> u32 {
    24
}
fn d_key_env() -> String {
    "ATPILOT_APPROVAL_KEY".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationsConfig {
    /// Environment variable holding the Teams incoming-webhook / Workflows URL.
    #[serde(default = "d_teams_env")]
    pub teams_webhook_url_env: String,
    /// SES sender address (a verified identity).
    pub email_from: Option<String>,
    #[serde(default)]
    pub finance: Vec<String>,
    #[serde(default)]
    pub service_manager: Vec<String>,
    /// Where alerts (low block balance, spikes) go.
    #[serde(default)]
    pub alerts: Vec<String>,
}
fn d_teams_env() -> String {
    "ATPILOT_TEAMS_WEBHOOK_URL".into()
}
