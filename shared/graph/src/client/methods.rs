//! Authentication methods: forcing MFA re-registration by deleting every
//! method (reference §3 "Force MFA re-registration": v1.0 has no re-register
//! call; the password method is skipped; partial failures are reported).

use super::Client;
use super::transport::Req;
use crate::error::{GraphError, Needs};
use crate::ids::{TenantId, UserId};
use crate::model::{AuthMethod, PASSWORD_METHOD_ID, method_path};
use reqwest::Method;

const LIST: Needs =
    Needs { operation: "list authentication methods", permission: "UserAuthenticationMethod.Read.All", role: None };
const DELETE: Needs = Needs {
    operation: "delete authentication methods",
    permission: "UserAuthenticationMethod.ReadWrite.All",
    role: None,
};

/// Phone method ids whose deletion order matters: `alternateMobile` needs
/// `mobile`, so the alternates go first.
const MOBILE_PHONE_ID: &str = "3179e48a-750b-4051-897c-87b9720928f7";

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MethodDeletion {
    Deleted,
    /// Not deletable through v1.0 (the password method, an unknown type).
    Skipped {
        reason: String,
    },
}

/// The outcome of removing every method of a user.
#[derive(Debug, Default)]
pub struct MethodsReport {
    pub deleted: Vec<AuthMethod>,
    pub skipped: Vec<AuthMethod>,
    pub failed: Vec<(AuthMethod, GraphError)>,
}

impl MethodsReport {
    pub fn complete(&self) -> bool {
        self.failed.is_empty()
    }
}

impl Client {
    /// `GET /users/{id}/authentication/methods`, all pages. Permission
    /// `UserAuthenticationMethod.Read.All`.
    pub async fn list_authentication_methods(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<Vec<AuthMethod>, GraphError> {
        let url = self.url(&["users", user.as_str(), "authentication", "methods"], &[])?;
        self.get_all(tenant, Req::get(url), &LIST, &format!("user {user}")).await
    }

    /// `DELETE /users/{id}/authentication/{xMethods}/{methodId}` → 204, the
    /// collection from [`method_path`]. The password method and unknown types
    /// are skipped, not sent. Permission `UserAuthenticationMethod.ReadWrite.All`.
    pub async fn delete_authentication_method(
        &self,
        tenant: &TenantId,
        user: &UserId,
        method: &AuthMethod,
    ) -> Result<MethodDeletion, GraphError> {
        if method.id.eq_ignore_ascii_case(PASSWORD_METHOD_ID) {
            return Ok(MethodDeletion::Skipped { reason: "the password method is never deleted".into() });
        }
        let Some(path) = method_path(&method.odata_type) else {
            return Ok(MethodDeletion::Skipped {
                reason: format!("{} cannot be deleted through Graph v1.0", method.odata_type),
            });
        };
        let url = self.url(&["users", user.as_str(), "authentication", path, &method.id], &[])?;
        let what = format!("method {} of user {user}", method.id);
        self.send_ok(tenant, &Req::with(Method::DELETE, url, None), &DELETE, &what).await?;
        Ok(MethodDeletion::Deleted)
    }

    /// Deletes every deletable method of `user` (the user registers again at
    /// the next sign-in that requires MFA), non-phone methods and alternate
    /// phones before the mobile phone; failures are collected, not fatal.
    pub async fn remove_all_authentication_methods(
        &self,
        tenant: &TenantId,
        user: &UserId,
    ) -> Result<MethodsReport, GraphError> {
        let mut methods = self.list_authentication_methods(tenant, user).await?;
        methods.sort_by_key(|m| m.id.eq_ignore_ascii_case(MOBILE_PHONE_ID));
        let mut report = MethodsReport::default();
        for m in methods {
            match self.delete_authentication_method(tenant, user, &m).await {
                Ok(MethodDeletion::Deleted) => report.deleted.push(m),
                Ok(MethodDeletion::Skipped { .. }) => report.skipped.push(m),
                Err(e) => report.failed.push((m, e)),
            }
        }
        Ok(report)
    }
}
