//! Google's shapes (reference §5 "Users", "Groups", "Licensing"). Unknown
//! fields are ignored; a missing boolean is `false`, except the admin flags:
//! those stay `None` when absent, and atpilot refuses a user it cannot rule out as an admin.

use serde::{Deserialize, Serialize};

/// A Directory user (`GET /users/{userKey}`), the fields atpilot reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Google's immutable user id (digits).
    pub id: String,
    pub primary_email: String,
    #[serde(default)]
    pub customer_id: Option<String>,
    /// The resource's entity tag: it changes with every change to the user.
    #[serde(default)]
    pub etag: Option<String>,
    /// A super administrator (`None`: Google did not say).
    #[serde(default)]
    pub is_admin: Option<bool>,
    /// A delegated administrator (`None`: Google did not say).
    #[serde(default)]
    pub is_delegated_admin: Option<bool>,
    #[serde(default)]
    pub suspended: bool,
    /// Why the account is suspended (`ADMIN`, `ABUSE`, …), when it is.
    #[serde(default)]
    pub suspension_reason: Option<String>,
    /// Does not apply to users who sign in through a third-party IdP (reference §5).
    #[serde(default)]
    pub change_password_at_next_login: bool,
    #[serde(default, rename = "isEnrolledIn2Sv")]
    pub is_enrolled_in_2sv: bool,
    #[serde(default, rename = "isEnforcedIn2Sv")]
    pub is_enforced_in_2sv: bool,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub org_unit_path: Option<String>,
}

/// A group (`GET /groups/{groupKey}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Created by an administrator (not by a user).
    #[serde(default)]
    pub admin_created: Option<bool>,
}

/// A licence assignment (`licensing#licenseAssignment`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseAssignment {
    pub product_id: String,
    pub sku_id: String,
    /// The user's current primary e-mail: do not keep it as a key (reference §5).
    pub user_id: String,
    /// [U] sent by current revisions only.
    #[serde(default)]
    pub sku_name: Option<String>,
}

/// What a membership or licence change found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// The state was changed.
    Changed,
    /// It already was as asked (a duplicate member, a non-member or an unheld licence removed).
    Unchanged,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_reads_google_field_names_and_defaults_missing_bools() {
        let u: User = serde_json::from_str(
            r#"{"kind":"admin#directory#user","id":"101","primaryEmail":"a@c.example","isEnrolledIn2Sv":true,
                "isEnforcedIn2Sv":true,"suspended":true,"suspensionReason":"ADMIN","orgUnitPath":"/","extra":1}"#,
        )
        .expect("user");
        assert!(u.is_enrolled_in_2sv && u.is_enforced_in_2sv && u.suspended);
        assert_eq!(u.suspension_reason.as_deref(), Some("ADMIN"));
        assert!(u.is_admin.is_none() && u.is_delegated_admin.is_none(), "absent admin flags stay unknown");
        assert!(!u.archived && !u.change_password_at_next_login);
        assert!(serde_json::from_str::<User>(r#"{"primaryEmail":"a@c.example"}"#).is_err());
    }
}
