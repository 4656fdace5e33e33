//! The sandbox's state: tenants with their app grant (consent, application
//! permissions, the service principal's directory roles), users, SKUs and
//! groups, and the rules that read it (reference §1 "Entra roles for the SP",
//! §3 "Reset password" role table, "Licenses").

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Role template ids (reference §1).
pub mod roles {
    pub const GLOBAL_ADMIN: &str = "62e90394-69f5-4237-9190-012177145e10";
    pub const USER_ADMIN: &str = "fe930be7-5e62-47db-91af-98c3a49a38b1";
    pub const HELPDESK_ADMIN: &str = "729827e3-9c14-49f7-bb1b-9608f156bbb8";
    pub const PASSWORD_ADMIN: &str = "966707d0-3269-4727-9be2-8c3a10f19b9d";
    pub const AUTHENTICATION_ADMIN: &str = "c4e39bd9-1100-46d3-8c65-fb160da0071f";
    pub const PRIVILEGED_AUTHENTICATION_ADMIN: &str = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13";
    pub const PRIVILEGED_ROLE_ADMIN: &str = "e8611ab8-c189-46e8-94e1-60213ab1f814";

    /// Display names of the known templates.
    pub fn name(template: &str) -> &'static str {
        match template {
            GLOBAL_ADMIN => "Global Administrator",
            USER_ADMIN => "User Administrator",
            HELPDESK_ADMIN => "Helpdesk Administrator",
            PASSWORD_ADMIN => "Password Administrator",
            AUTHENTICATION_ADMIN => "Authentication Administrator",
            PRIVILEGED_AUTHENTICATION_ADMIN => "Privileged Authentication Administrator",
            PRIVILEGED_ROLE_ADMIN => "Privileged Role Administrator",
            _ => "Directory role",
        }
    }

    /// Roles a User Administrator may not reset or disable (reference §3).
    pub const OUTRANK_USER_ADMIN: &[&str] =
        &[GLOBAL_ADMIN, AUTHENTICATION_ADMIN, PRIVILEGED_AUTHENTICATION_ADMIN, PRIVILEGED_ROLE_ADMIN];
}

/// Whether the app may get tokens in a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Consent {
    Granted,
    /// AADSTS700016: the app has no service principal there.
    NotConsented,
    /// AADSTS90094: consent must be (re-)granted by an administrator.
    AdminConsentRequired,
    /// AADSTS53003: a Conditional Access policy blocks the app.
    BlockedByConditionalAccess,
}

/// The app registration's standing in one tenant.
#[derive(Debug, Clone, Serialize)]
pub struct AppGrant {
    pub consent: Consent,
    /// Application permissions admin-consented in this tenant.
    pub permissions: BTreeSet<String>,
    /// Role template ids assigned to the app's service principal.
    pub sp_roles: BTreeSet<String>,
}

/// The least-privileged application permissions of every operation atpilot uses.
pub const DEFAULT_PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "User-PasswordProfile.ReadWrite.All",
    "User.EnableDisableAccount.All",
    "User.RevokeSessions.All",
    "User.ReadWrite.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "LicenseAssignment.ReadWrite.All",
    "GroupMember.ReadWrite.All",
];

impl Default for AppGrant {
    fn default() -> Self {
        Self {
            consent: Consent::Granted,
            permissions: DEFAULT_PERMISSIONS.iter().map(|s| s.to_string()).collect(),
            sp_roles: [roles::USER_ADMIN.to_string()].into_iter().collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuthMethodRecord {
    pub id: String,
    pub odata_type: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct UserRecord {
    pub id: String,
    pub upn: String,
    pub display_name: String,
    pub mail: Option<String>,
    pub proxy_addresses: Vec<String>,
    pub account_enabled: bool,
    pub usage_location: Option<String>,
    /// Assigned SKU ids.
    pub licenses: Vec<String>,
    pub synced: bool,
    pub user_type: String,
    /// Directory role template ids held.
    pub roles: BTreeSet<String>,
    pub methods: Vec<AuthMethodRecord>,
    /// Password resets applied through the API (never the value itself).
    pub password_changes: u32,
    pub password_last_set: Option<DateTime<Utc>>,
    /// SHA-256 (hex) of the last password set, so a test can check which one was set.
    pub password_sha256: Option<String>,
    pub force_change_password_next_sign_in: bool,
    pub sign_in_sessions_valid_from: DateTime<Utc>,
    pub revocations: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkuRecord {
    pub sku_id: String,
    pub part_number: String,
    pub applies_to: String,
    pub capability_status: String,
    /// `prepaidUnits.enabled`.
    pub enabled_units: i64,
    /// Seats consumed outside the seeded users (other users of the tenant).
    pub consumed_elsewhere: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupRecord {
    pub id: String,
    pub display_name: String,
    pub mail: Option<String>,
    pub group_types: Vec<String>,
    pub mail_enabled: bool,
    pub security_enabled: bool,
    pub is_assignable_to_role: bool,
    /// Role template ids assigned to this (role-assignable) group; members hold them transitively.
    pub roles: BTreeSet<String>,
    /// Member user ids.
    pub members: BTreeSet<String>,
}

impl GroupRecord {
    /// A mail-enabled security group or distribution list (not a Microsoft 365 group).
    pub fn exchange_managed(&self) -> bool {
        self.mail_enabled && !self.group_types.iter().any(|t| t == "Unified")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantState {
    pub id: String,
    /// Verified domain (also accepted in the token URL).
    pub domain: String,
    pub display_name: String,
    /// The Autotask company this tenant belongs to.
    pub company_id: i64,
    pub app: AppGrant,
    pub users: Vec<UserRecord>,
    pub skus: Vec<SkuRecord>,
    pub groups: Vec<GroupRecord>,
}

impl TenantState {
    /// A user by object id or UPN (case-insensitive).
    pub fn user_idx(&self, key: &str) -> Option<usize> {
        self.users.iter().position(|u| u.id.eq_ignore_ascii_case(key) || u.upn.eq_ignore_ascii_case(key))
    }
    pub fn group_idx(&self, key: &str) -> Option<usize> {
        self.groups.iter().position(|g| {
            g.id.eq_ignore_ascii_case(key) || g.mail.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(key))
        })
    }
    pub fn sku_idx(&self, sku_id: &str) -> Option<usize> {
        self.skus.iter().position(|s| s.sku_id.eq_ignore_ascii_case(sku_id))
    }
    /// Seats in use: seeded consumption plus the users holding the SKU.
    pub fn consumed(&self, sku_id: &str) -> i64 {
        let held = self.users.iter().filter(|u| u.licenses.iter().any(|l| l.eq_ignore_ascii_case(sku_id))).count();
        self.skus.iter().find(|s| s.sku_id.eq_ignore_ascii_case(sku_id)).map(|s| s.consumed_elsewhere).unwrap_or(0)
            + held as i64
    }
    /// Role template ids a user holds, directly or through role-assignable groups.
    pub fn roles_of(&self, user: &UserRecord) -> BTreeSet<String> {
        let mut r = user.roles.clone();
        for g in self.groups.iter().filter(|g| g.is_assignable_to_role && g.members.contains(&user.id)) {
            r.extend(g.roles.iter().cloned());
        }
        r
    }
    /// Whether the user is in a role-assignable group (a protected target, reference §3).
    pub fn in_role_assignable_group(&self, user_id: &str) -> bool {
        self.groups.iter().any(|g| g.is_assignable_to_role && g.members.contains(user_id))
    }
    pub fn has_permission(&self, any_of: &[&str]) -> bool {
        any_of.iter().any(|p| self.app.permissions.contains(*p))
    }
    fn sp_has(&self, role: &str) -> bool {
        self.app.sp_roles.contains(role)
    }

    /// May the app reset the password of (or disable) `target`? Reference §3:
    /// app-only needs at least User Administrator on the SP; User Admin may not
    /// touch Global, Authentication, Privileged Authentication or Privileged
    /// Role Admins, nor members of role-assignable groups; Privileged
    /// Authentication Admin (and Global Admin) may reset anyone.
    pub fn sp_may_manage(&self, target: &UserRecord) -> bool {
        let top = self.sp_has(roles::PRIVILEGED_AUTHENTICATION_ADMIN) || self.sp_has(roles::GLOBAL_ADMIN);
        if top {
            return true;
        }
        if !self.sp_has(roles::USER_ADMIN) {
            return false;
        }
        !self.is_protected(target)
    }

    /// Holds a role that outranks User Administrator, or is in a role-assignable group.
    pub fn is_protected(&self, target: &UserRecord) -> bool {
        self.roles_of(target).iter().any(|r| roles::OUTRANK_USER_ADMIN.contains(&r.as_str()))
            || self.in_role_assignable_group(&target.id)
    }
}

/// Read-back of one user for tests (never the password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSnapshot {
    pub id: String,
    pub upn: String,
    pub account_enabled: bool,
    pub usage_location: Option<String>,
    pub licenses: Vec<String>,
    pub synced: bool,
    pub roles: Vec<String>,
    pub method_ids: Vec<String>,
    pub groups: Vec<String>,
    pub password_changes: u32,
    pub password_last_set: Option<DateTime<Utc>>,
    pub password_sha256: Option<String>,
    pub force_change_password_next_sign_in: bool,
    pub sign_in_sessions_valid_from: DateTime<Utc>,
    pub revocations: u32,
}

impl UserSnapshot {
    pub fn of(t: &TenantState, u: &UserRecord) -> Self {
        Self {
            id: u.id.clone(),
            upn: u.upn.clone(),
            account_enabled: u.account_enabled,
            usage_location: u.usage_location.clone(),
            licenses: u.licenses.clone(),
            synced: u.synced,
            roles: t.roles_of(u).into_iter().collect(),
            method_ids: u.methods.iter().map(|m| m.id.clone()).collect(),
            groups: t.groups.iter().filter(|g| g.members.contains(&u.id)).map(|g| g.id.clone()).collect(),
            password_changes: u.password_changes,
            password_last_set: u.password_last_set,
            password_sha256: u.password_sha256.clone(),
            force_change_password_next_sign_in: u.force_change_password_next_sign_in,
            sign_in_sessions_valid_from: u.sign_in_sessions_valid_from,
            revocations: u.revocations,
        }
    }
}

/// All tenants, by lower-case id.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub tenants: BTreeMap<String, TenantState>,
}

impl World {
    /// A tenant by id or verified domain (case-insensitive).
    pub fn resolve(&self, key: &str) -> Option<String> {
        let k = key.to_ascii_lowercase();
        if self.tenants.contains_key(&k) {
            return Some(k);
        }
        self.tenants.values().find(|t| t.domain.eq_ignore_ascii_case(key)).map(|t| t.id.clone())
    }
}
