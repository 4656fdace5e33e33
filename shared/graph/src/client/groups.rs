//! Group membership (reference §3 "Groups"; §6 trap 5).

use super::transport::Req;
use super::{Client, odata_quote};
use crate::error::{ApiError, GraphError, Needs, map_api_error};
use crate::ids::{GroupId, TenantId, UserId};
use crate::model::Group;
use reqwest::Method;
use serde_json::json;

const GROUP_SELECT: &str =
    "id,displayName,mail,groupTypes,mailEnabled,securityEnabled,onPremisesSyncEnabled,isAssignableToRole";
const READ_GROUPS: Needs = Needs { operation: "read groups", permission: "GroupMember.Read.All", role: None };
const MEMBERS: Needs = Needs {
    operation: "change group membership",
    permission: "GroupMember.ReadWrite.All (role-assignable groups also RoleManagement.ReadWrite.Directory)",
    role: None,
};

/// What a membership change found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    Added,
    /// The 400 "One or more added object references already exist…": success.
    AlreadyMember,
    Removed,
    /// The 404 of a remove: the user was not a member.
    NotMember,
}

/// [C] the already-member text (CIPP's normalised errors).
fn is_already_member(api: &ApiError) -> bool {
    api.status == 400 && api.message.to_ascii_lowercase().contains("added object references already exist")
}

/// [U] mail-enabled security groups and distribution lists.
fn is_exchange_managed(api: &ApiError) -> bool {
    api.message.to_ascii_lowercase().contains("mail-enabled security group")
}

impl Client {
    /// `GET /groups?$filter=mail eq 'x'&$select=id,displayName,groupTypes,…`.
    /// Permission `GroupMember.Read.All`. `Ok(None)` when no group has that mail.
    pub async fn find_group_by_mail(&self, tenant: &TenantId, mail: &str) -> Result<Option<Group>, GraphError> {
        self.find_group(tenant, "mail", mail).await
    }

    /// `GET /groups?$filter=displayName eq 'x'&$select=…`: the same name in
    /// every customer tenant ("VPN Users"). Permission `GroupMember.Read.All`.
    /// Two groups of that name → [`GraphError::AmbiguousAddress`].
    pub async fn find_group_by_display_name(&self, tenant: &TenantId, name: &str) -> Result<Option<Group>, GraphError> {
        self.find_group(tenant, "displayName", name).await
    }

    async fn find_group(&self, tenant: &TenantId, property: &str, value: &str) -> Result<Option<Group>, GraphError> {
        let filter = format!("{property} eq '{}'", odata_quote(value.trim()));
        let url = self.url(&["groups"], &[("$filter", &filter), ("$select", GROUP_SELECT)])?;
        let what = format!("groups by {property}");
        let mut groups: Vec<Group> = self.get_all(tenant, Req::get(url), &READ_GROUPS, &what).await?;
        match groups.len() {
            0 => Ok(None),
            1 => Ok(groups.pop()),
            count => Err(GraphError::AmbiguousAddress { tenant: tenant.clone(), address: value.to_string(), count }),
        }
    }

    /// `POST /groups/{id}/members/$ref {"@odata.id":"{graph}/directoryObjects/{user}"}` → 204.
    /// Already a member (400 with the text above) → `Ok(AlreadyMember)`.
    /// Mail-enabled security groups → [`GraphError::GroupManagedInExchange`].
    /// Permission `GroupMember.ReadWrite.All`.
    pub async fn add_group_member(
        &self,
        tenant: &TenantId,
        group: &GroupId,
        user: &UserId,
    ) -> Result<Membership, GraphError> {
        let url = self.url(&["groups", group.as_str(), "members", "$ref"], &[])?;
        let base = self.config().graph_base.as_str().trim_end_matches('/').to_string();
        let body = json!({"@odata.id": format!("{base}/directoryObjects/{user}")});
        let r = self.send(tenant, &Req::with(Method::POST, url, Some(body))).await?;
        if r.ok() {
            return Ok(Membership::Added);
        }
        let api = r.api_error();
        if is_already_member(&api) {
            return Ok(Membership::AlreadyMember);
        }
        if is_exchange_managed(&api) {
            return Err(GraphError::GroupManagedInExchange { group: group.to_string(), source: Box::new(api) });
        }
        Err(map_api_error(tenant, &MEMBERS, &format!("group {group} or user {user}"), api))
    }

    /// `DELETE /groups/{id}/members/{user}/$ref` → 204; 404 → `Ok(NotMember)` ([U]).
    /// Permission `GroupMember.ReadWrite.All`.
    pub async fn remove_group_member(
        &self,
        tenant: &TenantId,
        group: &GroupId,
        user: &UserId,
    ) -> Result<Membership, GraphError> {
        let url = self.url(&["groups", group.as_str(), "members", user.as_str(), "$ref"], &[])?;
        let r = self.send(tenant, &Req::with(Method::DELETE, url, None)).await?;
        if r.ok() {
            return Ok(Membership::Removed);
        }
        let api = r.api_error();
        if api.status == 404 {
            return Ok(Membership::NotMember);
        }
        if is_exchange_managed(&api) {
            return Err(GraphError::GroupManagedInExchange { group: group.to_string(), source: Box::new(api) });
        }
        Err(map_api_error(tenant, &MEMBERS, &format!("group {group}"), api))
    }
}
