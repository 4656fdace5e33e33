//! The sandbox's state: customers with their delegation, users, groups and
//! SKUs, and the rules that read it (who a key names, seats).

use serde::Serialize;

/// One user. Passwords are never kept, only how often one was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    pub id: String,
    pub primary_email: String,
    pub given_name: String,
    pub family_name: String,
    pub is_admin: bool,
    pub is_delegated_admin: bool,
    pub suspended: bool,
    pub suspension_reason: Option<String>,
    pub change_password_at_next_login: bool,
    pub is_enrolled_in_2sv: bool,
    pub is_enforced_in_2sv: bool,
    pub archived: bool,
    pub org_unit_path: String,
    pub password_set_count: u32,
    pub sign_out_count: u32,
    /// `"product/sku"` of each licence held.
    pub licences: Vec<String>,
}

impl UserRecord {
    pub fn new(id: String, email: &str, first: &str, last: &str) -> Self {
        Self {
            id,
            primary_email: email.to_string(),
            given_name: first.to_string(),
            family_name: last.to_string(),
            is_admin: false,
            is_delegated_admin: false,
            suspended: false,
            suspension_reason: None,
            change_password_at_next_login: false,
            is_enrolled_in_2sv: false,
            is_enforced_in_2sv: false,
            archived: false,
            org_unit_path: "/".into(),
            password_set_count: 0,
            sign_out_count: 0,
            licences: vec![],
        }
    }

    /// Matches a key: the primary e-mail (case-insensitive) or the id.
    pub fn is(&self, key: &str) -> bool {
        self.id == key || self.primary_email.eq_ignore_ascii_case(key)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRecord {
    pub id: String,
    pub email: String,
    pub name: String,
    pub admin_created: bool,
    /// Member e-mails, in the order added.
    pub members: Vec<String>,
}

impl GroupRecord {
    pub fn has(&self, email: &str) -> bool {
        self.members.iter().any(|m| m.eq_ignore_ascii_case(email))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkuRecord {
    pub product_id: String,
    pub sku_id: String,
    pub product_name: String,
    pub sku_name: String,
    /// Seats bought.
    pub total: u32,
}

impl SkuRecord {
    /// From `"product/sku"`.
    pub fn new(key: &str, sku_name: &str, total: u32) -> Self {
        let (p, s) = key.split_once('/').unwrap_or((key, ""));
        Self {
            product_id: p.into(),
            sku_id: s.into(),
            product_name: "Google Workspace".into(),
            sku_name: sku_name.into(),
            total,
        }
    }
    pub fn key(&self) -> String {
        format!("{}/{}", self.product_id, self.sku_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerState {
    pub customer_id: String,
    pub company_id: i64,
    pub domain: String,
    pub admin: String,
    /// Scope URLs delegated to the service account's client id.
    pub delegated_scopes: Vec<String>,
    pub users: Vec<UserRecord>,
    pub groups: Vec<GroupRecord>,
    pub skus: Vec<SkuRecord>,
}

impl CustomerState {
    pub fn user_idx(&self, key: &str) -> Option<usize> {
        self.users.iter().position(|u| u.is(key))
    }
    pub fn group_idx(&self, key: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.id == key || g.email.eq_ignore_ascii_case(key))
    }
    /// A SKU by `"product/sku"`.
    pub fn sku_idx(&self, key: &str) -> Option<usize> {
        self.skus.iter().position(|s| s.key().eq_ignore_ascii_case(key))
    }
    /// Users holding `sku` (`"product/sku"`).
    pub fn used(&self, sku: &str) -> u32 {
        self.users.iter().filter(|u| u.licences.iter().any(|l| l.eq_ignore_ascii_case(sku))).count() as u32
    }
    /// (total, used) of `sku`, if the customer has it.
    pub fn seats(&self, sku: &str) -> Option<(u32, u32)> {
        self.sku_idx(sku).map(|i| (self.skus[i].total, self.used(sku)))
    }
    pub fn set_seats(&mut self, sku: &str, total: u32) {
        if let Some(i) = self.sku_idx(sku) {
            self.skus[i].total = total;
        }
    }
    pub fn info(&self) -> CustomerInfo {
        CustomerInfo {
            customer_id: self.customer_id.clone(),
            company_id: self.company_id,
            domain: self.domain.clone(),
            admin: self.admin.clone(),
        }
    }
}

/// What [`crate::Sandbox::customers`] tells about one customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CustomerInfo {
    pub customer_id: String,
    /// The Autotask company.
    pub company_id: i64,
    pub domain: String,
    /// The super admin to impersonate.
    pub admin: String,
}

/// Read-back of one user for tests: every [`UserRecord`] field atpilot's
/// client reads, plus the counters (never a password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserSnapshot {
    pub id: String,
    pub primary_email: String,
    pub customer_id: String,
    pub is_admin: bool,
    pub is_delegated_admin: bool,
    pub suspended: bool,
    pub suspension_reason: Option<String>,
    pub change_password_at_next_login: bool,
    pub is_enrolled_in_2sv: bool,
    pub is_enforced_in_2sv: bool,
    pub archived: bool,
    pub org_unit_path: String,
    /// How many times a password was set through the API.
    pub password_set_count: u32,
    /// How many times the user was signed out.
    pub sign_out_count: u32,
    /// `"product/sku"` of each licence held.
    pub licences: Vec<String>,
}

impl UserSnapshot {
    pub fn of(c: &CustomerState, u: &UserRecord) -> Self {
        Self {
            id: u.id.clone(),
            primary_email: u.primary_email.clone(),
            customer_id: c.customer_id.clone(),
            is_admin: u.is_admin,
            is_delegated_admin: u.is_delegated_admin,
            suspended: u.suspended,
            suspension_reason: u.suspension_reason.clone(),
            change_password_at_next_login: u.change_password_at_next_login,
            is_enrolled_in_2sv: u.is_enrolled_in_2sv,
            is_enforced_in_2sv: u.is_enforced_in_2sv,
            archived: u.archived,
            org_unit_path: u.org_unit_path.clone(),
            password_set_count: u.password_set_count,
            sign_out_count: u.sign_out_count,
            licences: u.licences.clone(),
        }
    }
}

/// All customers, in seed order.
#[derive(Debug, Clone, Default)]
pub struct World {
    pub customers: Vec<CustomerState>,
}

impl World {
    /// (customer, user) indexes of a user by e-mail or id, in any customer.
    pub fn find_user(&self, key: &str) -> Option<(usize, usize)> {
        self.customers.iter().enumerate().find_map(|(c, s)| s.user_idx(key).map(|u| (c, u)))
    }
    /// (customer, group) indexes of a group by e-mail or id, in any customer.
    pub fn find_group(&self, key: &str) -> Option<(usize, usize)> {
        self.customers.iter().enumerate().find_map(|(c, s)| s.group_idx(key).map(|g| (c, g)))
    }
    /// A customer by id or domain (case-insensitive).
    pub fn customer(&self, key: &str) -> Option<usize> {
        self.customers
            .iter()
            .position(|c| c.customer_id.eq_ignore_ascii_case(key) || c.domain.eq_ignore_ascii_case(key))
    }
}
