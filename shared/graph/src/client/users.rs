//! User reads and writes (reference §3 "Get user", "Reset password", "Revoke
//! sessions", "Enable/disable", "Admin roles"; §2 "Paging and queries").

use super::transport::Req;
use super::{Client, odata_quote};
use crate::error::{ApiError, GraphError, Needs};
use crate::ids::{GroupId, TenantId, UsageLocation, UserId};
use crate::model::{DirectoryRole, USER_SELECT, User};
use crate::password::TemporaryPassword;
use reqwest::Method;
use serde_json::json;

const READ_USER: Needs = Needs { operation: "read users", permission: "User.Read.All", role: None };
const RESET: Needs = Needs {
    operation: "reset a password",
    permission: "User-PasswordProfile.ReadWrite.All",
    role: Some("User Administrator"),
};
const REVOKE: Needs = Needs { operation: "revoke sign-in sessions", permission: "User.RevokeSessions.All", role: None };
const ENABLE: Needs = Needs {
    operation: "enable or disable a sign-in",
    permission: "User.EnableDisableAccount.All (with User.Read.All)",
    role: None,
};
const USAGE: Needs = Needs { operation: "set a usage location", permission: "User.ReadWrite.All", role: None };

/// Graph's message for synced users ([C] text, reference §3 "Synced users").
pub(crate) fn is_synced_refusal(api: &ApiError) -> bool {
    api.status == 400 && api.message.to_ascii_lowercase().contains("on-premises mastered")
}

/// Graph's message for a weak password ([U] text, reference §3).
fn is_complexity_refusal(api: &ApiError) -> bool {
    api.status == 400 && api.message.to_ascii_lowercase().contains("password complexity")
}

impl Client {
    /// `GET /users/{id | userPrincipalName}?$select=…` ([`USER_SELECT`]).
    /// Permission `User.Read.All`. The UPN is percent-encoded as one path
    /// segment (guest UPNs carry `#EXT#`). Reference §3 "Get user".
    pub async fn get_user(&self, tenant: &TenantId, id_or_upn: &str) -> Result<User, GraphError> {
        let url = self.url(&["users", id_or_upn], &[("$select", USER_SELECT)])?;
        let what = format!("user {id_or_upn}");
        self.send_ok(tenant, &Req::get(url), &READ_USER, &what).await?.json(&what)
    }

    /// The one user whose UPN, mail or a proxy address is `address`:
    /// `GET /users?$filter=userPrincipalName eq 'a' or mail eq 'a' or
    /// proxyAddresses/any(x:x eq 'SMTP:a')&$count=true` with `ConsistencyLevel:
    /// eventual` (harmless if not needed, reference §2 "Looking up a user by
    /// address"). `Ok(None)` when nobody has it; an error when several do.
    /// Permission `User.Read.All`.
    pub async fn find_user_by_address(&self, tenant: &TenantId, address: &str) -> Result<Option<User>, GraphError> {
        let a = odata_quote(address.trim());
        let filter = format!("userPrincipalName eq '{a}' or mail eq '{a}' or proxyAddresses/any(x:x eq 'SMTP:{a}')");
        let url = self.url(&["users"], &[("$filter", &filter), ("$count", "true"), ("$select", USER_SELECT)])?;
        let req = Req { eventual: true, ..Req::get(url) };
        let mut users: Vec<User> = self.get_all(tenant, req, &READ_USER, "users by address").await?;
        match users.len() {
            0 => Ok(None),
            1 => Ok(users.pop()),
            count => Err(GraphError::AmbiguousAddress { tenant: tenant.clone(), address: address.to_string(), count }),
        }
    }

    /// The directory roles `user` holds, directly or through role-assignable
    /// groups: `GET /users/{id}/transitiveMemberOf`, keeping the
    /// `#microsoft.graph.directoryRole` entries (with `roleTemplateId`), all
    /// pages. Permission `User.Read.All`. Reference §3 "Admin roles"; see
    /// [`crate::model::is_admin`].
    pub async fn user_directory_roles(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<Vec<DirectoryRole>, GraphError> {
        let url = self.url(&["users", user.as_str(), "transitiveMemberOf"], &[])?;
        let what = format!("user {user}");
        let all: Vec<serde_json::Value> = self.get_all(tenant, Req::get(url), &READ_USER, &what).await?;
        let mut roles = Vec::new();
        for v in all {
            if v.get("@odata.type").and_then(|t| t.as_str()) == Some("#microsoft.graph.directoryRole") {
                let r = serde_json::from_value(v)
                    .map_err(|source| GraphError::Decode { context: "a directoryRole".into(), source })?;
                roles.push(r);
            }
        }
        Ok(roles)
    }

    /// The ids of the groups `user` is a direct member of: `GET
    /// /users/{id}/memberOf`, keeping the `#microsoft.graph.group` entries, all
    /// pages. Permission `User.Read.All` (group entries also `GroupMember.Read.All`).
    /// How a membership change is read back.
    pub async fn user_group_ids(&self, tenant: &TenantId, user: &UserId) -> Result<Vec<GroupId>, GraphError> {
        let url = self.url(&["users", user.as_str(), "memberOf"], &[])?;
        let what = format!("user {user}");
        let all: Vec<serde_json::Value> = self.get_all(tenant, Req::get(url), &READ_USER, &what).await?;
        Ok(all
            .iter()
            .filter(|v| v.get("@odata.type").and_then(|t| t.as_str()) == Some("#microsoft.graph.group"))
            .filter_map(|v| v.get("id").and_then(|i| i.as_str()).map(GroupId::new))
            .collect())
    }

    /// `PATCH /users/{id} {"passwordProfile":{"password","forceChangePasswordNextSignIn"}}`
    /// → 204. Permission `User-PasswordProfile.ReadWrite.All` **and** the User
    /// Administrator role on the app's service principal; admin targets need
    /// an outranking role (reference §3 "Reset password", §6 traps 1-3).
    /// Synced users → [`GraphError::SyncedUser`]. The password is in no error.
    pub async fn reset_password(
        &self,
        tenant: &TenantId,
        user: &UserId,
        password: &TemporaryPassword,
        force_change: bool,
    ) -> Result<(), GraphError> {
        let url = self.url(&["users", user.as_str()], &[])?;
        let body =
            json!({"passwordProfile": {"password": password.expose(), "forceChangePasswordNextSignIn": force_change}});
        let r = self.send(tenant, &Req::with(Method::PATCH, url, Some(body))).await?;
        if r.ok() {
            return Ok(());
        }
        let api = r.api_error();
        if is_synced_refusal(&api) {
            return Err(GraphError::SyncedUser { user: user.to_string(), source: Box::new(api) });
        }
        if is_complexity_refusal(&api) {
            return Err(GraphError::PasswordRejected { source: Box::new(api) });
        }
        Err(crate::error::map_api_error(tenant, &RESET, &format!("user {user}"), api))
    }

    /// `POST /users/{id}/revokeSignInSessions` (no body). Accepts `200
    /// {"value":true}` and 204 (the docs' known issue). Permission
    /// `User.RevokeSessions.All`. Reference §3 "Revoke sessions".
    pub async fn revoke_sign_in_sessions(&self, tenant: &TenantId, user: &UserId) -> Result<(), GraphError> {
        let url = self.url(&["users", user.as_str(), "revokeSignInSessions"], &[])?;
        let r = self.send_ok(tenant, &Req::with(Method::POST, url, None), &REVOKE, &format!("user {user}")).await?;
        if r.status == 200 && !r.body.is_empty() {
            let v: serde_json::Value = r.json("revokeSignInSessions")?;
            if v.get("value") == Some(&serde_json::Value::Bool(false)) {
                return Err(GraphError::Api {
                    source: Box::new(ApiError { status: 200, message: "value: false".into(), ..Default::default() }),
                });
            }
        }
        Ok(())
    }

    /// `PATCH /users/{id} {"accountEnabled": enabled}` → 204. Permission
    /// `User.EnableDisableAccount.All` + `User.Read.All`; synced users →
    /// [`GraphError::SyncedUser`] (disable them on-premises). Reference §3 "Enable/disable".
    pub async fn set_account_enabled(&self, tenant: &TenantId, user: &UserId, enabled: bool) -> Result<(), GraphError> {
        self.patch_user(tenant, user, json!({"accountEnabled": enabled}), &ENABLE).await
    }

    /// `PATCH /users/{id} {"usageLocation":"US"}` → 204, needed before a
    /// licence (reference §3 "Licenses: assignLicense", §6 trap 4). Permission `User.ReadWrite.All`.
    pub async fn set_usage_location(
        &self,
        tenant: &TenantId,
        user: &UserId,
        location: &UsageLocation,
    ) -> Result<(), GraphError> {
        self.patch_user(tenant, user, json!({"usageLocation": location.as_str()}), &USAGE).await
    }

    async fn patch_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
        body: serde_json::Value,
        needs: &Needs,
    ) -> Result<(), GraphError> {
        let url = self.url(&["users", user.as_str()], &[])?;
        let r = self.send(tenant, &Req::with(Method::PATCH, url, Some(body))).await?;
        if r.ok() {
            return Ok(());
        }
        let api = r.api_error();
        if is_synced_refusal(&api) {
            return Err(GraphError::SyncedUser { user: user.to_string(), source: Box::new(api) });
        }
        Err(crate::error::map_api_error(tenant, needs, &format!("user {user}"), api))
    }
}
