//! What Graph returns, typed (reference §3), and the pure rules over it:
//! free seats, admin roles, the authentication-method path of each type.

use crate::ids::{GroupId, SkuId, SkuPartNumber, UserId};
use serde::{Deserialize, Serialize};

/// The `$select` of every user read: the default property set lacks
/// `accountEnabled`, `usageLocation`, `assignedLicenses` and
/// `onPremisesSyncEnabled` (reference §2 "Paging and queries", §6 trap 8).
pub const USER_SELECT: &str = "id,userPrincipalName,displayName,mail,accountEnabled,usageLocation,assignedLicenses,onPremisesSyncEnabled,userType,lastPasswordChangeDateTime,signInSessionsValidFromDateTime";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub user_principal_name: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub account_enabled: Option<bool>,
    #[serde(default)]
    pub usage_location: Option<String>,
    #[serde(default)]
    pub assigned_licenses: Vec<AssignedLicense>,
    /// `true` for users synchronised from on-premises AD; `null` otherwise.
    #[serde(default)]
    pub on_premises_sync_enabled: Option<bool>,
    #[serde(default)]
    pub user_type: Option<String>,
    /// When the password last changed (Graph's `lastPasswordChangeDateTime`,
    /// returned only when selected): how a reset is read back.
    #[serde(default)]
    pub last_password_change_date_time: Option<chrono::DateTime<chrono::Utc>>,
    /// Tokens issued before this are invalid (Graph's
    /// `signInSessionsValidFromDateTime`): how a session revocation is read back.
    #[serde(default)]
    pub sign_in_sessions_valid_from_date_time: Option<chrono::DateTime<chrono::Utc>>,
}

impl User {
    /// Synchronised from on-premises: its password and sign-in cannot be changed in the cloud.
    pub fn is_synced(&self) -> bool {
        self.on_premises_sync_enabled == Some(true)
    }
    pub fn has_license(&self, sku: &SkuId) -> bool {
        self.assigned_licenses.iter().any(|l| l.sku_id.as_str().eq_ignore_ascii_case(sku.as_str()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedLicense {
    pub sku_id: SkuId,
    #[serde(default)]
    pub disabled_plans: Vec<String>,
}

/// Entra role template ids (reference §1 "Entra roles for the SP").
pub mod roles {
    pub const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
    pub const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
    pub const HELPDESK_ADMIN: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
    pub const PASSWORD_ADMIN: &str = "966707d0-3269-4727-9be2-8c3a10f19b9d";
    pub const AUTHENTICATION_ADMIN: &str = "c4e39bd9-1100-46d3-8c65-fb160da0071f";
    pub const PRIVILEGED_AUTHENTICATION_ADMIN: &str = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13";
    pub const PRIVILEGED_ROLE_ADMIN: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";
}

/// A directory role the user holds (directly or through a role-assignable group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryRole {
    pub id: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub role_template_id: Option<String>,
}

impl DirectoryRole {
    /// Roles a User Administrator may not reset (reference §3 "Reset password").
    pub fn outranks_user_admin(&self) -> bool {
        use roles::*;
        let t = self.role_template_id.as_deref().unwrap_or_default();
        [GLOBAL_ADMIN, AUTHENTICATION_ADMIN, PRIVILEGED_AUTHENTICATION_ADMIN, PRIVILEGED_ROLE_ADMIN]
            .iter()
            .any(|r| r.eq_ignore_ascii_case(t))
    }
}

/// Any directory role makes a user an admin target that needs a human
/// (reference §3 "Admin roles": PIM-eligible roles are invisible, so treat any role as admin).
pub fn is_admin(roles: &[DirectoryRole]) -> bool {
    !roles.is_empty()
}

/// One registered authentication method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthMethod {
    pub id: String,
    #[serde(rename = "@odata.type")]
    pub odata_type: String,
}

/// The password method: never deleted (reference §3 "Force MFA re-registration").
pub const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";

/// The collection a method is deleted from: `#microsoft.graph.xAuthenticationMethod`
/// → `xMethods`, for the types v1.0 can delete; `None` for the password method
/// and for unknown types.
pub fn method_path(odata_type: &str) -> Option<&'static str> {
    let kind = odata_type.strip_prefix("#microsoft.graph.")?.strip_suffix("AuthenticationMethod")?;
    Some(match kind {
        "phone" => "phoneMethods",
        "microsoftAuthenticator" => "microsoftAuthenticatorMethods",
        "softwareOath" => "softwareOathMethods",
        "fido2" => "fido2Methods",
        "email" => "emailMethods",
        "temporaryAccessPass" => "temporaryAccessPassMethods",
        "windowsHelloForBusiness" => "windowsHelloForBusinessMethods",
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrepaidUnits {
    #[serde(default)]
    pub enabled: i64,
    #[serde(default)]
    pub suspended: i64,
    #[serde(default)]
    pub warning: i64,
    #[serde(default)]
    pub locked_out: i64,
}

/// A subscription of the tenant (`GET /subscribedSkus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    pub sku_id: SkuId,
    pub sku_part_number: SkuPartNumber,
    #[serde(default)]
    pub applies_to: String,
    #[serde(default)]
    pub capability_status: String,
    #[serde(default)]
    pub consumed_units: i64,
    #[serde(default)]
    pub prepaid_units: PrepaidUnits,
}

impl SubscribedSku {
    /// Free seats: `prepaidUnits.enabled − consumedUnits` ([U] reference §3), never below 0.
    pub fn free_units(&self) -> i64 {
        free_units(self.prepaid_units.enabled, self.consumed_units)
    }
}

/// `enabled − consumed`, never below 0.
pub fn free_units(enabled: i64, consumed: i64) -> i64 {
    enabled.saturating_sub(consumed).max(0)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: GroupId,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub mail: Option<String>,
    #[serde(default)]
    pub group_types: Vec<String>,
    #[serde(default)]
    pub mail_enabled: Option<bool>,
    #[serde(default)]
    pub security_enabled: Option<bool>,
    #[serde(default)]
    pub on_premises_sync_enabled: Option<bool>,
    #[serde(default)]
    pub is_assignable_to_role: Option<bool>,
}

impl Group {
    /// A mail-enabled security group or distribution list ([U]: Graph refuses
    /// member changes; Exchange Online manages them). Microsoft 365 groups
    /// (`groupTypes` containing `Unified`) are mail-enabled yet changeable.
    pub fn is_exchange_managed(&self) -> bool {
        self.mail_enabled == Some(true) && !self.group_types.iter().any(|t| t == "Unified")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_units_never_negative() {
        assert_eq!(free_units(20, 19), 1);
        assert_eq!(free_units(20, 20), 0);
        assert_eq!(free_units(5, 7), 0);
    }

    #[test]
    fn method_types_map_to_their_collections() {
        assert_eq!(method_path("#microsoft.graph.phoneAuthenticationMethod"), Some("phoneMethods"));
        assert_eq!(
            method_path("#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"),
            Some("microsoftAuthenticatorMethods")
        );
        assert_eq!(method_path("#microsoft.graph.fido2AuthenticationMethod"), Some("fido2Methods"));
        assert_eq!(
            method_path("#microsoft.graph.windowsHelloForBusinessAuthenticationMethod"),
            Some("windowsHelloForBusinessMethods")
        );
        assert_eq!(method_path("#microsoft.graph.passwordAuthenticationMethod"), None);
        assert_eq!(method_path("#microsoft.graph.somethingNew"), None);
        assert_eq!(method_path("phoneAuthenticationMethod"), None);
    }

    #[test]
    fn user_admin_may_not_reset_global_admins() {
        let role = |t: &str| DirectoryRole { id: "r".into(), display_name: None, role_template_id: Some(t.into()) };
        assert!(role(roles::GLOBAL_ADMIN).outranks_user_admin());
        assert!(role(roles::PRIVILEGED_AUTHENTICATION_ADMIN).outranks_user_admin());
        assert!(!role(roles::HELPDESK_ADMIN).outranks_user_admin());
        assert!(is_admin(&[role(roles::HELPDESK_ADMIN)]));
        assert!(!is_admin(&[]));
    }

    #[test]
    fn user_parses_the_test_double_shape() {
        let u: User = serde_json::from_str(
            r#"{"id":"u1","userPrincipalName":"a@b","accountEnabled":true,"usageLocation":null,
                "assignedLicenses":[{"skuId":"S1","disabledPlans":[]}],"onPremisesSyncEnabled":true}"#,
        )
        .expect("user");
        assert!(u.is_synced());
        assert!(u.has_license(&SkuId::new("s1")));
        assert_eq!(u.usage_location, None);
    }
}
