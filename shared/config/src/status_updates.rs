//! `[status_updates]`: proactive customer status updates on long-running
//! tickets (issue: KB drafts and status updates). Absent: none are proposed.
//! Every update is approved by a person before the customer sees it.
//!
//! ```toml
//! [status_updates]
//! open_days = 5                  # open at least this long…
//! quiet_days = 3                 # …and nothing customer-visible for this long
//! waiting_customer = [7]         # statuses that wait on the customer (Autotask's "Waiting Customer")
//! approvers = ["lead@msp.example"]  # when the assigned technician has no e-mail in Autotask
//! staff_names = false            # keep other staff's names out of the draft
//! max_per_run = 10               # proposals per scan (the quietest first)
//! expires_hours = 48             # an unanswered update expires
//!
//! [status_updates.priority.1]    # per priority id: tighter for Critical
//! open_days = 1
//! quiet_days = 1
//! ```

use crate::emails::check_emails;
use crate::{ConfigError, invalid};
use atpilot_domain::status_update::StalePolicy;
use atpilot_domain::{PriorityId, StatusId};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityPolicy {
    pub open_days: u32,
    pub quiet_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusUpdatesConfig {
    #[serde(default = "d_open")]
    pub open_days: u32,
    #[serde(default = "d_quiet")]
    pub quiet_days: u32,
    /// Per priority id (`Tickets.priority`), replacing the two numbers above.
    #[serde(default)]
    pub priority: BTreeMap<String, PriorityPolicy>,
    /// Statuses that wait on the customer: no update is proposed in them.
    #[serde(default)]
    pub waiting_customer: BTreeSet<StatusId>,
    /// Who approves when the assigned technician has no e-mail address (or
    /// the ticket is unassigned). Empty: such tickets get no proposal.
    #[serde(default)]
    pub approvers: Vec<String>,
    /// Whether the draft may name staff (resources) other than nobody: when
    /// false, every active resource's name is scrubbed from it.
    #[serde(default)]
    pub staff_names: bool,
    #[serde(default = "d_max")]
    pub max_per_run: u32,
    #[serde(default = "d_expires")]
    pub expires_hours: u32,
}

fn d_open() -> u32 {
    5
}
fn d_quiet() -> u32 {
    3
}
fn d_max() -> u32 {
    10
}
fn d_expires() -> u32 {
    48
}

impl StatusUpdatesConfig {
    /// The policy of a ticket's priority (its own entry, else the defaults).
    pub fn policy_for(&self, priority: Option<PriorityId>) -> StalePolicy {
        let own = priority.and_then(|p| self.priority.get(&p.get().to_string()));
        let p = own.copied().unwrap_or(PriorityPolicy { open_days: self.open_days, quiet_days: self.quiet_days });
        StalePolicy { open_days: p.open_days, quiet_days: p.quiet_days }
    }

    pub(crate) fn validate(&self, complete: StatusId) -> Result<(), ConfigError> {
        let all = std::iter::once((
            "status_updates",
            PriorityPolicy { open_days: self.open_days, quiet_days: self.quiet_days },
        ))
        .chain(self.priority.values().map(|p| ("status_updates.priority", *p)));
        for (at, p) in all {
            if !(1..=3650).contains(&p.open_days) || !(1..=3650).contains(&p.quiet_days) {
                return Err(invalid(
                    at,
                    format!("open_days = {}, quiet_days = {}", p.open_days, p.quiet_days),
                    "both are whole days from 1 to 3650",
                ));
            }
        }
        if let Some(bad) =
            self.priority.keys().find(|k| k.parse::<i64>().ok().and_then(|v| PriorityId::new(v).ok()).is_none())
        {
            return Err(invalid(
                "status_updates.priority",
                format!("{bad:?} is not a priority id"),
                "use the tenant's Tickets.priority values, e.g. [status_updates.priority.1]",
            ));
        }
        if self.waiting_customer.contains(&complete) {
            return Err(invalid(
                "status_updates.waiting_customer",
                "contains statuses.complete",
                "list only open statuses",
            ));
        }
        if !(1..=100).contains(&self.max_per_run) || !(1..=720).contains(&self.expires_hours) {
            return Err(invalid(
                "status_updates",
                "max_per_run must be 1 to 100 and expires_hours 1 to 720 (30 days)",
                "remove [status_updates] to propose no updates",
            ));
        }
        check_emails("status_updates.approvers", &self.approvers)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, EXAMPLE};
    use atpilot_domain::PriorityId;
    use atpilot_domain::status_update::StalePolicy;

    fn with(section: &str) -> Result<Config, String> {
        Config::parse(&format!("{EXAMPLE}\n[status_updates]\n{section}\n"), "test").map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_per_priority_policies() {
        let c = with("waiting_customer = [7]\n[status_updates.priority.1]\nopen_days = 1\nquiet_days = 1").unwrap();
        let s = c.status_updates.unwrap();
        assert_eq!(s.policy_for(None), StalePolicy { open_days: 5, quiet_days: 3 });
        assert_eq!(s.policy_for(PriorityId::new(1).ok()), StalePolicy { open_days: 1, quiet_days: 1 });
        assert_eq!(s.policy_for(PriorityId::new(2).ok()), StalePolicy { open_days: 5, quiet_days: 3 });
        assert_eq!((s.max_per_run, s.expires_hours, s.staff_names), (10, 48, false));
        assert_eq!(Config::parse(EXAMPLE, "test").unwrap().status_updates, None, "absent: no updates");
    }

    #[test]
    fn nonsense_is_refused_with_the_field_named() {
        let zero = with("quiet_days = 0").unwrap_err();
        assert!(zero.contains("status_updates") && zero.contains("from 1 to 3650"), "{zero}");
        let huge = with("expires_hours = 4000000000").unwrap_err();
        assert!(huge.contains("expires_hours 1 to 720"), "{huge}");
        let key = with("[status_updates.priority.urgent]\nopen_days = 1\nquiet_days = 1").unwrap_err();
        assert!(key.contains("\"urgent\" is not a priority id"), "{key}");
        let mail = with("approvers = [\"not an address\"]").unwrap_err();
        assert!(mail.contains("status_updates.approvers"), "{mail}");
        let unknown = with("quiet_dayz = 2").unwrap_err();
        assert!(unknown.contains("quiet_dayz"), "{unknown}");
        let no_sender = EXAMPLE.replace("email_from = \"atpilot@msp.example\"\n", "");
        let e = Config::parse(&format!("{no_sender}\n[status_updates]\n"), "test").unwrap_err().to_string();
        assert!(e.contains("notifications.email_from"), "{e}");
    }
}
