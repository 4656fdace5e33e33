//! The access runbooks on Google Workspace: assign or remove a licence
//! (Enterprise License Manager, `productId/skuId`), add to or remove from a
//! group (by the group's address). Facts: reference §5 "Groups" (409
//! `duplicate` on a second add; 404 for a non-member) and "Licensing" (the
//! API shows no free-seat count: an insert refused for want of a seat is
//! escalated with the SKU).

use super::{Done, GoogleRunbooks, Stop, Target, google_failed, refused};
use crate::adapters::directory::reply;
use atpilot_domain::RunbookStatus;
use atpilot_google::{MemberChange, Sku};
use std::collections::BTreeMap;

fn held(sku: &Sku, holds: bool) -> BTreeMap<String, String> {
    BTreeMap::from([("sku".to_string(), sku.to_string()), ("userHasLicense".to_string(), holds.to_string())])
}

/// The licence as the customer reads it: Google's `skuName` when the
/// read-back carries one ([U]: current revisions only), with the SKU; else the SKU.
fn named(sku: &Sku, assignment: Option<&atpilot_google::LicenseAssignment>) -> String {
    match assignment.and_then(|a| a.sku_name.as_deref()).map(atpilot_domain::untrusted::one_line) {
        Some(name) if !name.is_empty() => format!("{name} ({sku})"),
        _ => sku.to_string(),
    }
}

fn sku_of(p: &str) -> Result<Sku, Stop> {
    p.parse::<Sku>().map_err(|e| refused(format!("the category's Google SKU {p:?} does not parse ({e})")))
}

impl GoogleRunbooks {
    pub(super) async fn assign_license(&self, t: Target<'_>, p: &str) -> Result<Done, Stop> {
        let sku = sku_of(p)?;
        let email = t.user.primary_email.clone();
        let held_before = self.client.license_assignment(t.admin, &sku, &email).await.map_err(google_failed)?;
        let assigned = |licence: String, n: &str| {
            reply(&format!("The Google licence {licence} is assigned to your account {email}. {n}"))
        };
        if let Some(a) = held_before {
            return Ok(Done {
                status: RunbookStatus::Verified,
                before: held(&sku, true),
                after: held(&sku, true),
                reason: None,
                reply: assigned(named(&sku, Some(&a)), "It was already assigned, so nothing needed to change."),
            });
        }
        match self.client.assign_license(t.admin, &sku, &email).await {
            // A retried insert whose first attempt was applied: the read-back below decides.
            Err(e) if e.is_already_assigned() => {}
            Err(e) if e.is_no_seats() => {
                return Err(refused(format!(
                    "Google has no free seat of {sku} for {email} ({e}): buy at least 1 more seat of {sku}, then assign it"
                )));
            }
            Err(e) => return Err(google_failed(e)),
            Ok(_) => {}
        }
        let now = self.client.license_assignment(t.admin, &sku, &email).await;
        let licence = named(&sku, now.as_ref().ok().and_then(Option::as_ref));
        let (status, holds, reason) = match now {
            Ok(Some(_)) => (RunbookStatus::Verified, true, None),
            Ok(None) => (
                RunbookStatus::Executed,
                false,
                Some(format!("Google accepted the assignment but {email} does not hold {sku}")),
            ),
            Err(e) => (RunbookStatus::Executed, false, Some(format!("the licence could not be read back ({e})"))),
        };
        Ok(Done {
            status,
            before: held(&sku, false),
            after: held(&sku, holds),
            reason,
            reply: assigned(licence, "It can take a few minutes to appear; sign out and in again if it does not."),
        })
    }

    pub(super) async fn remove_license(&self, t: Target<'_>, p: &str) -> Result<Done, Stop> {
        let sku = sku_of(p)?;
        let email = t.user.primary_email.clone();
        let held_before = self.client.license_assignment(t.admin, &sku, &email).await.map_err(google_failed)?;
        let licence = named(&sku, held_before.as_ref());
        let before = held_before.is_some();
        if before {
            self.client.remove_license(t.admin, &sku, &email).await.map_err(|e| match e.status() {
                Some(412) => refused(format!(
                    "Google refused to remove {sku} from {email} ({e}): it is assigned automatically (by organisational unit); change it in the Admin console"
                )),
                _ => google_failed(e),
            })?;
        }
        let now = self.client.license_assignment(t.admin, &sku, &email).await.map_err(google_failed)?.is_some();
        let (status, reason) = if now {
            (RunbookStatus::Executed, Some(format!("Google accepted the removal but {email} still holds {sku}")))
        } else {
            (RunbookStatus::Verified, None)
        };
        let unchanged = if before { "" } else { " It was not assigned, so nothing needed to change." };
        Ok(Done {
            status,
            before: held(&sku, before),
            after: held(&sku, now),
            reason,
            reply: reply(&format!(
                "The Google licence {licence} is no longer assigned to your account {email}.{unchanged}"
            )),
        })
    }

    /// Adds (`add`) or removes the user's membership of the group `group`
    /// (its address), then reads the membership back.
    pub(super) async fn group_membership(&self, t: Target<'_>, group: &str, add: bool) -> Result<Done, Stop> {
        let email = t.user.primary_email.clone();
        if !group.contains('@') {
            return Err(refused(format!(
                "Google groups are named by their address, and {group:?} is not one: set the category's `group` to the group's e-mail address"
            )));
        }
        let in_customer =
            group.rsplit_once('@').is_some_and(|(_, d)| t.domains.iter().any(|c| c.eq_ignore_ascii_case(d)));
        if !in_customer {
            return Err(refused(format!(
                "the group {group} is not in the customer's domains ({}): check the category's `group`",
                t.domains.join(", ")
            )));
        }
        let Some(g) = self.client.get_group(t.admin, group).await.map_err(google_failed)? else {
            return Err(refused(format!("the Google Workspace has no group {group}: check the category's `group`")));
        };
        let name = atpilot_domain::untrusted::one_line(&g.email);
        let fields = |m: bool| {
            BTreeMap::from([("group".to_string(), name.clone()), ("userIsMember".to_string(), m.to_string())])
        };
        let was = self.client.has_member(t.admin, &g.email, &email).await.map_err(google_failed)?;
        if was != add {
            let change = if add {
                self.client.add_member(t.admin, &g.email, &email).await
            } else {
                self.client.remove_member(t.admin, &g.email, &email).await
            };
            // A concurrent run may have done it first (409 duplicate, 404): the read-back decides.
            let _: MemberChange = change.map_err(google_failed)?;
        }
        let now = self.client.has_member(t.admin, &g.email, &email).await.map_err(google_failed)?;
        let (status, reason) = if now == add {
            (RunbookStatus::Verified, None)
        } else {
            let state = if now { "a member" } else { "not a member" };
            (
                RunbookStatus::Executed,
                Some(format!("Google accepted the change but {name} still lists {email} as {state}")),
            )
        };
        let unchanged = if was == add { " It already was, so nothing needed to change." } else { "" };
        let state = if add { "is a member" } else { "is no longer a member" };
        Ok(Done {
            status,
            before: fields(was),
            after: fields(now),
            reason,
            reply: reply(&format!(
                "Your account {email} {state} of the Google group {name}.{unchanged} The change in access can take a few minutes to apply."
            )),
        })
    }
}
