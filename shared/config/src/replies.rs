//! `[replies]`: how a customer hears of atpilot's reply. A note created
//! through the API notifies nobody by itself (tenants notify contacts with
//! workflow rules), so the path is explicit: atpilot e-mails the reply itself
//! (SES, from `notifications.email_from`), and/or relies on a named tenant
//! workflow rule. Each resolution records whether the customer was told.
//!
//! ```toml
//! [replies]
//! email = true                                   # also e-mail the reply to the ticket's contact
//! workflow_rule = "Notify contact of new note"   # the tenant rule relied on (the API cannot read rules)
//! ```

use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepliesConfig {
    /// E-mail the reply to the ticket's contact through SES.
    #[serde(default)]
    pub email: bool,
    /// The tenant workflow rule that notifies the contact of a customer-visible note.
    #[serde(default)]
    pub workflow_rule: Option<String>,
}

impl RepliesConfig {
    /// The workflow rule relied on, if one is named (blank counts as none).
    pub fn rule(&self) -> Option<&str> {
        self.workflow_rule.as_deref().map(str::trim).filter(|r| !r.is_empty())
    }
}
