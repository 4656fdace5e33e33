//! The access runbooks: assign a licence by SKU part number (only when a seat
//! is free and the user has a usage location), add to a group (by display
//! name, or by mail when the parameter is an address). Facts: reference §3
//! "Licenses", "Groups"; §6 traps 4-5.

use super::{Done, GraphRunbooks, failed, reply};
use atpilot_domain::RunbookStatus;
use atpilot_graph::{GraphError, SkuPartNumber, TenantId, User};
use std::collections::BTreeMap;

type Stop = (RunbookStatus, String);

fn graph_failed(e: GraphError) -> Stop {
    (RunbookStatus::Failed, failed(&e))
}

fn refused(why: String) -> Stop {
    (RunbookStatus::Refused, why)
}

impl GraphRunbooks {
    pub(super) async fn assign_license(&self, tenant: &TenantId, user: User, part: &str) -> Result<Done, Stop> {
        let upn = user.user_principal_name.clone();
        let sku = self.client.sku_by_part_number(tenant, &SkuPartNumber::new(part)).await.map_err(graph_failed)?;
        let Some(sku) = sku else {
            return Err(refused(format!(
                "the tenant has no user-assignable {part} subscription: buy it, or pick another SKU"
            )));
        };
        let seats = |s: &atpilot_graph::SubscribedSku| {
            BTreeMap::from([
                ("sku".to_string(), s.sku_part_number.as_str().to_string()),
                ("prepaidUnits.enabled".to_string(), s.prepaid_units.enabled.to_string()),
                ("consumedUnits".to_string(), s.consumed_units.to_string()),
            ])
        };
        let mut before = seats(&sku);
        before.insert("userHasLicense".into(), user.has_license(&sku.sku_id).to_string());
        let assigned = |n: &str| reply(&format!("A {part} licence is assigned to your account {upn}. {n}"));
        if user.has_license(&sku.sku_id) {
            // Already so: nothing to change, and nothing to bill beyond the check.
            return Ok(Done {
                status: RunbookStatus::Verified,
                after: before.clone(),
                before,
                reason: None,
                reply: assigned("It was already assigned, so nothing needed to change."),
            });
        }
        if sku.free_units() < 1 {
            return Err(refused(format!(
                "{part} has no free seat ({} enabled, {} in use): buy at least 1 more seat, then assign it",
                sku.prepaid_units.enabled, sku.consumed_units
            )));
        }
        if user.usage_location.as_deref().is_none_or(|l| l.trim().is_empty()) {
            return Err(refused(format!(
                "{upn} has no usage location, which a licence needs: set the user's country first"
            )));
        }
        self.client.assign_license(tenant, &user.id, &sku.sku_id).await.map_err(graph_failed)?;
        let back = self.client.get_user(tenant, user.id.as_str()).await.map_err(graph_failed)?;
        let skus_now = self.client.sku_by_part_number(tenant, &SkuPartNumber::new(part)).await.ok().flatten();
        let mut after = skus_now.as_ref().map(seats).unwrap_or_default();
        after.insert("userHasLicense".into(), back.has_license(&sku.sku_id).to_string());
        let (status, reason) = if back.has_license(&sku.sku_id) {
            (RunbookStatus::Verified, None)
        } else {
            (RunbookStatus::Executed, Some(format!("Graph accepted the assignment but {upn} does not show {part}")))
        };
        Ok(Done {
            status,
            before,
            after,
            reason,
            reply: assigned("It can take a few minutes to appear in your apps; sign out and in again if it does not."),
        })
    }

    pub(super) async fn remove_license(&self, tenant: &TenantId, user: User, part: &str) -> Result<Done, Stop> {
        let upn = user.user_principal_name.clone();
        let sku = self.client.sku_by_part_number(tenant, &SkuPartNumber::new(part)).await.map_err(graph_failed)?;
        let Some(sku) = sku else {
            return Err(refused(format!("the tenant has no user-assignable {part} subscription")));
        };
        let holds = |u: &User| BTreeMap::from([("userHasLicense".to_string(), u.has_license(&sku.sku_id).to_string())]);
        if user.has_license(&sku.sku_id) {
            self.client.remove_license(tenant, &user.id, &sku.sku_id).await.map_err(graph_failed)?;
        }
        let back = self.client.get_user(tenant, user.id.as_str()).await.map_err(graph_failed)?;
        let (status, reason) = if back.has_license(&sku.sku_id) {
            (RunbookStatus::Executed, Some(format!("Graph accepted the removal but {upn} still shows {part}")))
        } else {
            (RunbookStatus::Verified, None)
        };
        Ok(Done {
            status,
            before: holds(&user),
            after: holds(&back),
            reason,
            reply: reply(&format!("The {part} licence is no longer assigned to your account {upn}.")),
        })
    }

    /// Adds (`add`) or removes the user's membership of `group`, then reads the memberships back.
    pub(super) async fn group_membership(
        &self,
        tenant: &TenantId,
        user: User,
        group: &str,
        add: bool,
    ) -> Result<Done, Stop> {
        let upn = user.user_principal_name.clone();
        let found = if group.contains('@') {
            self.client.find_group_by_mail(tenant, group).await
        } else {
            self.client.find_group_by_display_name(tenant, group).await
        };
        let Some(g) = found.map_err(graph_failed)? else {
            return Err(refused(format!("the tenant has no group {group:?}: check the category's `group`")));
        };
        let name = atpilot_domain::untrusted::one_line(g.display_name.as_deref().unwrap_or(group));
        if g.is_assignable_to_role == Some(true) {
            return Err(refused(format!(
                "{name} can hold administrator roles: a technician changes its members by hand"
            )));
        }
        if g.on_premises_sync_enabled == Some(true) {
            return Err(refused(format!("{name} is synchronised from on-premises Active Directory: change it there")));
        }
        if g.is_exchange_managed() {
            return Err(refused(format!(
                "{name} is a mail-enabled security group or distribution list: change it in Exchange Online"
            )));
        }
        let member = |ids: &[atpilot_graph::GroupId]| ids.iter().any(|i| i == &g.id);
        let fields = |m: bool| {
            BTreeMap::from([("group".to_string(), name.clone()), ("userIsMember".to_string(), m.to_string())])
        };
        let was = member(&self.client.user_group_ids(tenant, &user.id).await.map_err(graph_failed)?);
        match (add, was) {
            (true, false) => self.client.add_group_member(tenant, &g.id, &user.id).await.map(|_| ()),
            (false, true) => self.client.remove_group_member(tenant, &g.id, &user.id).await.map(|_| ()),
            _ => Ok(()),
        }
        .map_err(graph_failed)?;
        let now = member(&self.client.user_group_ids(tenant, &user.id).await.map_err(graph_failed)?);
        let (status, reason) = if now == add {
            (RunbookStatus::Verified, None)
        } else {
            (
                RunbookStatus::Executed,
                Some(format!(
                    "Graph accepted the change but {name} still lists {upn} as {}",
                    if now { "a member" } else { "not a member" }
                )),
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
                "Your account {upn} {state} of the group {name}.{unchanged} The change in access can take a few minutes to apply."
            )),
        })
    }
}
