//! The seed: the service account (email, OAuth client id, key id) and the
//! customers. [`Seed::for_companies`] turns each [`CustomerSeed`] into a Google
//! customer: its contacts become users (primary e-mail = their e-mail), plus
//! the super admin (`admin@{domain}`, `isAdmin`), a delegated admin
//! (`helpdesk@{domain}`, `isDelegatedAdmin`), a suspended leaver
//! (`leaver@{domain}`, suspension reason `ADMIN`) and a user enrolled in 2SV
//! (`twostep@{domain}`); the groups `staff@{domain}` (the first contact is a
//! member) and `sales@{domain}`; the SKUs Business Starter
//! (`Google-Apps/1010020027`, total = users + 5, held by every user but the
//! delegated admin and the first contact) and Business Standard
//! (`Google-Apps/1010020028`, total = used = 1, held by the admin).

use crate::world::{CustomerState, GroupRecord, SkuRecord, UserRecord};

/// The sandbox service account's e-mail (the JWT `iss` it accepts).
pub const SERVICE_ACCOUNT_EMAIL: &str = "atpilot@atpilot-sandbox.iam.gserviceaccount.com";
/// The service account's OAuth client id (delegations are keyed by it).
pub const CLIENT_ID: &str = "1000000000000000000001";
/// The TEST-ONLY key's id (the JWT `kid`; SHA-1 of its public key, see `test-only-keys/README.md`).
pub const PRIVATE_KEY_ID: &str = "70b3aae1e31f34e1503fe16d4f4ac64b25ebc788";

/// Business Starter: free seats in every seeded customer.
pub const SKU_BUSINESS_STARTER: &str = "Google-Apps/1010020027";
/// Business Standard: no free seat in any seeded customer.
pub const SKU_BUSINESS_STANDARD: &str = "Google-Apps/1010020028";

/// Scope URLs (reference §5 "Scopes").
pub mod scopes {
    pub const USER: &str = "https://www.googleapis.com/auth/admin.directory.user";
    pub const USER_READONLY: &str = "https://www.googleapis.com/auth/admin.directory.user.readonly";
    pub const USER_SECURITY: &str = "https://www.googleapis.com/auth/admin.directory.user.security";
    pub const GROUP: &str = "https://www.googleapis.com/auth/admin.directory.group";
    pub const GROUP_READONLY: &str = "https://www.googleapis.com/auth/admin.directory.group.readonly";
    pub const GROUP_MEMBER: &str = "https://www.googleapis.com/auth/admin.directory.group.member";
    pub const GROUP_MEMBER_READONLY: &str = "https://www.googleapis.com/auth/admin.directory.group.member.readonly";
    pub const LICENSING: &str = "https://www.googleapis.com/auth/apps.licensing";
}

/// The four scopes atpilot uses: the default delegation of every seeded customer.
pub const ALL_SCOPES: [&str; 4] = [scopes::USER, scopes::USER_SECURITY, scopes::GROUP_MEMBER, scopes::LICENSING];

/// (first name, last name, e-mail) of a contact.
pub type Contact = (String, String, String);

/// The customers to serve.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    pub customers: Vec<CustomerSeed>,
}

/// One Google customer (one MSP customer company).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSeed {
    /// The Autotask company this customer belongs to.
    pub company_id: i64,
    /// Google's customer id (`C0…`).
    pub customer_id: String,
    /// The primary domain.
    pub domain: String,
    /// The super admin to impersonate: `admin@{domain}`.
    pub admin: String,
    /// (first name, last name, e-mail) of each contact.
    pub contacts: Vec<(String, String, String)>,
    /// Scope URLs delegated to [`CLIENT_ID`] (default: [`ALL_SCOPES`]).
    pub delegated_scopes: Vec<String>,
}

impl Seed {
    /// One Google customer per given company (see the module docs for what each holds).
    pub fn for_companies(companies: &[CustomerSeed]) -> Seed {
        Seed { customers: companies.to_vec() }
    }

    /// A customer with the defaults: id [`customer_id_for`], admin `admin@{domain}`, all four scopes delegated.
    pub fn customer(company_id: i64, domain: &str, contacts: Vec<(String, String, String)>) -> CustomerSeed {
        let domain = domain.trim().to_ascii_lowercase();
        CustomerSeed {
            company_id,
            customer_id: customer_id_for(company_id),
            admin: format!("admin@{domain}"),
            domain,
            contacts,
            delegated_scopes: ALL_SCOPES.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The demo world for the Autotask sandbox's default seed (1): one customer
    /// per customer company, domain `c{company_id}.example` (the contacts' domain).
    pub fn demo() -> Seed {
        Seed::demo_for_autotask_seed(1)
    }

    /// The demo world for the Autotask sandbox seeded with `seed`.
    pub fn demo_for_autotask_seed(seed: u64) -> Seed {
        let companies = autotask_companies(seed);
        let customers: Vec<CustomerSeed> = companies
            .into_iter()
            .map(|(id, contacts)| Seed::customer(id, &format!("c{id}.example"), contacts))
            .collect();
        Seed { customers }
    }
}

/// Google's customer id of an Autotask company in the sandbox: `C0` + 7 digits.
pub fn customer_id_for(company_id: i64) -> String {
    format!("C0{:07}", company_id.unsigned_abs())
}

/// (company id ≥ 1, contacts) of the Autotask sandbox's customer companies.
fn autotask_companies(seed: u64) -> Vec<(i64, Vec<Contact>)> {
    use atpilot_autotask_sandbox::{DEFAULT_USER, schema, tenant};
    use chrono::TimeZone;
    let mut defs = schema::definitions();
    let anchor = chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_else(chrono::Utc::now);
    let (tables, _, _) = tenant::build(seed, 1, anchor, DEFAULT_USER, &mut defs);
    let mut out: Vec<(i64, Vec<Contact>)> = Vec::new();
    if let Some(companies) = tables.get("companies") {
        companies.scan(1, i64::MAX, |id, _| {
            out.push((id, vec![]));
            true
        });
    }
    if let Some(contacts) = tables.get("contacts") {
        contacts.scan(i64::MIN, i64::MAX, |_, row| {
            let s = |k: &str| row.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let company = row.get("companyID").and_then(|v| v.as_i64());
            if let Some(c) = out.iter_mut().find(|c| Some(c.0) == company) {
                c.1.push((s("firstName"), s("lastName"), s("emailAddress")));
            }
            true
        });
    }
    out
}

/// The state of one seeded customer (`index` numbers its ids).
pub(crate) fn build(c: &CustomerSeed, index: usize) -> CustomerState {
    let d = &c.domain;
    let mut users: Vec<UserRecord> = Vec::new();
    let mut add = |first: &str, last: &str, email: &str| -> Option<usize> {
        let email = email.trim();
        if email.is_empty() || !email.contains('@') || users.iter().any(|u| u.primary_email.eq_ignore_ascii_case(email))
        {
            return None;
        }
        let id = format!("10{:04}{:015}", index + 1, users.len() + 1);
        users.push(UserRecord::new(id, email, first, last));
        Some(users.len() - 1)
    };
    let first_contact = c.contacts.iter().find_map(|(f, l, e)| add(f, l, e));
    for (f, l, e) in &c.contacts {
        add(f, l, e);
    }
    let admin = add("Ada", "Admin", &c.admin);
    let helpdesk = add("Hal", "Helpdesk", &format!("helpdesk@{d}"));
    let leaver = add("Lee", "Leaver", &format!("leaver@{d}"));
    let twostep = add("Tess", "Twostep", &format!("twostep@{d}"));
    let set = |users: &mut Vec<UserRecord>, i: Option<usize>, f: &dyn Fn(&mut UserRecord)| {
        if let Some(u) = i.and_then(|i| users.get_mut(i)) {
            f(u)
        }
    };
    set(&mut users, admin, &|u| {
        u.is_admin = true;
        u.is_enrolled_in_2sv = true;
        u.is_enforced_in_2sv = true;
        u.licences.push(SKU_BUSINESS_STANDARD.into());
    });
    set(&mut users, helpdesk, &|u| u.is_delegated_admin = true);
    set(&mut users, leaver, &|u| {
        u.suspended = true;
        u.suspension_reason = Some("ADMIN".into());
    });
    set(&mut users, twostep, &|u| u.is_enrolled_in_2sv = true);
    for (i, u) in users.iter_mut().enumerate() {
        if Some(i) != helpdesk && Some(i) != first_contact {
            u.licences.insert(0, SKU_BUSINESS_STARTER.into());
        }
    }
    let staff_members = first_contact.map(|i| vec![users[i].primary_email.clone()]).unwrap_or_default();
    let group = |n: usize, local: &str, name: &str, members: Vec<String>| GroupRecord {
        id: format!("03{:04}sbx{:06}", index + 1, n),
        email: format!("{local}@{d}"),
        name: name.into(),
        admin_created: true,
        members,
    };
    let groups = vec![group(1, "staff", "Staff", staff_members), group(2, "sales", "Sales", vec![])];
    let skus = vec![
        SkuRecord::new(SKU_BUSINESS_STARTER, "Google Workspace Business Starter", users.len() as u32 + 5),
        SkuRecord::new(SKU_BUSINESS_STANDARD, "Google Workspace Business Standard", 1),
    ];
    CustomerState {
        customer_id: c.customer_id.clone(),
        company_id: c.company_id,
        domain: c.domain.clone(),
        admin: c.admin.clone(),
        delegated_scopes: c.delegated_scopes.clone(),
        users,
        groups,
        skus,
    }
}
