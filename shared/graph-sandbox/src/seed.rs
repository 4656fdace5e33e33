//! The seed: the app registration (client id, secrets, certificate) and the
//! tenants. [`Seed::demo`] gives one tenant per customer company of the
//! Autotask sandbox (same seed): that company's contacts become users (their
//! e-mail is their UPN), plus in every tenant an admin (Global Administrator),
//! a helpdesk lead (Helpdesk Administrator), an IT manager holding
//! Authentication Administrator through a role-assignable group, a synced
//! user, a disabled user and a guest; SKUs with free seats (`SPE_E3`,
//! `EXCHANGESTANDARD`), without (`O365_BUSINESS_PREMIUM`) and one that applies
//! to the company (`WINDOWS_STORE`); and four groups.

use crate::keys;
use crate::world::{AppGrant, AuthMethodRecord, GroupRecord, SkuRecord, TenantState, UserRecord, roles};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeSet;

/// The sandbox app registration's client id.
pub const CLIENT_ID: &str = "a7f1c0de-5a4d-4b0c-9a11-0000000000a1";
/// The valid secret's value, and its id (sending the id gives AADSTS7000215).
pub const CLIENT_SECRET: &str = "sandbox-graph-secret~value";
pub const CLIENT_SECRET_ID: &str = "5ec2e7a1-0000-4000-8000-000000000001";
/// A secret of the same app that has expired (AADSTS7000222).
pub const EXPIRED_CLIENT_SECRET: &str = "sandbox-graph-expired-secret~value";

pub const SKU_SPE_E3: &str = "05e9a617-0261-4cee-bb44-138d3ef5d965";
pub const SKU_O365_BUSINESS_PREMIUM: &str = "f245ecc8-75af-4f8e-b61f-27d8114de5f3";
pub const SKU_EXCHANGESTANDARD: &str = "4b9405b0-7788-4568-add1-99614e613b69";
pub const SKU_WINDOWS_STORE: &str = "6470687e-a428-4b7a-bef2-8a291ad947c9";

/// Method ids (reference §3).
pub const PASSWORD_METHOD_ID: &str = "28c10230-6103-485e-b985-444c60001490";
pub const MOBILE_PHONE_METHOD_ID: &str = "3179e48a-750b-4051-897c-87b9720928f7";

/// The certificate the token endpoint trusts for assertions.
#[derive(Debug, Clone)]
pub struct CertSeed {
    pub public_key_pem: String,
    /// base64url SHA-1 of the certificate (`x5t`).
    pub x5t: String,
    /// base64url SHA-256 of the certificate (`x5t#S256`).
    pub x5t_s256: String,
}

#[derive(Debug, Clone)]
pub struct Seed {
    pub client_id: String,
    pub secret: String,
    pub secret_id: String,
    pub expired_secret: String,
    pub certificate: Option<CertSeed>,
    pub tenants: Vec<TenantState>,
}

/// One customer company to turn into a tenant.
#[derive(Debug, Clone)]
pub struct CompanySeed {
    pub company_id: i64,
    pub name: String,
    /// (first name, last name, e-mail) of each contact.
    pub contacts: Vec<(String, String, String)>,
}

impl Seed {
    /// The demo world for the Autotask sandbox's default seed (1).
    pub fn demo() -> Self {
        Self::demo_for_autotask_seed(1)
    }

    /// The demo world for the Autotask sandbox seeded with `seed`.
    pub fn demo_for_autotask_seed(seed: u64) -> Self {
        Self::from_companies(&autotask_companies(seed))
    }

    /// A tenant per company, with the test-only certificate trusted.
    pub fn from_companies(companies: &[CompanySeed]) -> Self {
        Self {
            client_id: CLIENT_ID.into(),
            secret: CLIENT_SECRET.into(),
            secret_id: CLIENT_SECRET_ID.into(),
            expired_secret: EXPIRED_CLIENT_SECRET.into(),
            certificate: Some(keys::cert_seed()),
            tenants: companies.iter().map(tenant_for).collect(),
        }
    }
}

/// The tenant id of an Autotask company in the demo world.
pub fn tenant_id_for(company_id: i64) -> String {
    format!("c0000000-0000-4000-8000-{company_id:012}")
}

/// The tenant's verified domain: the contacts' e-mail domain.
pub fn domain_for(company_id: i64) -> String {
    format!("c{company_id}.example")
}

/// The customer companies (id ≥ 1) of the Autotask sandbox and their contacts.
pub fn autotask_companies(seed: u64) -> Vec<CompanySeed> {
    use atpilot_autotask_sandbox::{DEFAULT_USER, schema, tenant};
    let mut defs = schema::definitions();
    let anchor = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_else(Utc::now);
    let (tables, _, _) = tenant::build(seed, 1, anchor, DEFAULT_USER, &mut defs);
    let mut out: Vec<CompanySeed> = Vec::new();
    if let Some(companies) = tables.get("companies") {
        companies.scan(1, i64::MAX, |id, row| {
            let name = row.get("companyName").and_then(|v| v.as_str()).unwrap_or("Company").to_string();
            out.push(CompanySeed { company_id: id, name, contacts: vec![] });
            true
        });
    }
    if let Some(contacts) = tables.get("contacts") {
        contacts.scan(i64::MIN, i64::MAX, |_, row| {
            let s = |k: &str| row.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let company = row.get("companyID").and_then(|v| v.as_i64());
            if let Some(c) = out.iter_mut().find(|c| Some(c.company_id) == company) {
                c.contacts.push((s("firstName"), s("lastName"), s("emailAddress")));
            }
            true
        });
    }
    out
}

fn user(ci: i64, k: u64, upn: &str, name: &str, domain: &str, epoch: DateTime<Utc>) -> UserRecord {
    UserRecord {
        id: format!("{ci:08}-0000-4000-9000-{k:012}"),
        upn: upn.to_string(),
        display_name: name.to_string(),
        mail: Some(upn.to_string()),
        proxy_addresses: vec![
            format!("SMTP:{upn}"),
            format!("smtp:{}", upn.replace(domain, &format!("{domain}.onmicrosoft.example"))),
        ],
        account_enabled: true,
        usage_location: Some("US".into()),
        licenses: vec![],
        synced: false,
        user_type: "Member".into(),
        roles: BTreeSet::new(),
        methods: vec![
            AuthMethodRecord {
                id: PASSWORD_METHOD_ID.into(),
                odata_type: "#microsoft.graph.passwordAuthenticationMethod".into(),
            },
            AuthMethodRecord {
                id: MOBILE_PHONE_METHOD_ID.into(),
                odata_type: "#microsoft.graph.phoneAuthenticationMethod".into(),
            },
            AuthMethodRecord {
                id: format!("{ci:08}-{k:04}-4000-b000-000000000001"),
                odata_type: "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod".into(),
            },
        ],
        password_changes: 0,
        password_last_set: None,
        password_sha256: None,
        force_change_password_next_sign_in: false,
        sign_in_sessions_valid_from: epoch,
        revocations: 0,
    }
}

fn group(ci: i64, k: u64, name: &str, mail: Option<String>, kind: &str) -> GroupRecord {
    GroupRecord {
        id: format!("{ci:08}-0000-4000-a000-{k:012}"),
        display_name: name.into(),
        mail,
        group_types: if kind == "m365" { vec!["Unified".into()] } else { vec![] },
        mail_enabled: kind == "m365" || kind == "mail-security",
        security_enabled: kind != "m365",
        is_assignable_to_role: kind == "role",
        roles: BTreeSet::new(),
        members: BTreeSet::new(),
    }
}

fn sku(id: &str, part: &str, applies_to: &str, enabled: i64, elsewhere: i64) -> SkuRecord {
    SkuRecord {
        sku_id: id.into(),
        part_number: part.into(),
        applies_to: applies_to.into(),
        capability_status: "Enabled".into(),
        enabled_units: enabled,
        consumed_elsewhere: elsewhere,
    }
}

/// The tenant of one company (see the module docs).
pub fn tenant_for(c: &CompanySeed) -> TenantState {
    let ci = c.company_id;
    let domain = domain_for(ci);
    let epoch = Utc.with_ymd_and_hms(2025, 6, 1, 8, 0, 0).single().unwrap_or_else(Utc::now);
    let mut users: Vec<UserRecord> = Vec::new();
    for (k, (first, last, email)) in c.contacts.iter().enumerate() {
        if email.is_empty() || users.iter().any(|u| u.upn.eq_ignore_ascii_case(email)) {
            continue;
        }
        let mut u = user(ci, k as u64 + 1, email, &format!("{first} {last}"), &domain, epoch);
        match k {
            0 | 1 => u.licenses.push(SKU_O365_BUSINESS_PREMIUM.into()),
            2 => u.licenses.push(SKU_SPE_E3.into()),
            _ => u.usage_location = None,
        }
        users.push(u);
    }
    let contacts: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let special =
        |k: u64, local: &str, name: &str| user(ci, 100 + k, &format!("{local}@{domain}"), name, &domain, epoch);
    let mut admin = special(1, "admin", "Tenant Admin");
    admin.roles.insert(roles::GLOBAL_ADMIN.into());
    admin.licenses.push(SKU_SPE_E3.into());
    let mut helpdesk = special(2, "helpdesk.lead", "Helpdesk Lead");
    helpdesk.roles.insert(roles::HELPDESK_ADMIN.into());
    let it_manager = special(3, "it.manager", "IT Manager");
    let mut synced = special(4, "synced.user", "Synced User");
    synced.synced = true;
    synced.licenses.push(SKU_O365_BUSINESS_PREMIUM.into());
    let mut disabled = special(5, "former.employee", "Former Employee");
    disabled.account_enabled = false;
    let mut guest =
        user(ci, 106, &format!("guest.partner_partner.example#EXT#@{domain}"), "Guest Partner", &domain, epoch);
    guest.user_type = "Guest".into();
    guest.mail = Some("guest.partner@partner.example".into());
    guest.proxy_addresses = vec!["SMTP:guest.partner@partner.example".into()];
    guest.usage_location = None;
    let (admin_id, it_id) = (admin.id.clone(), it_manager.id.clone());
    users.extend([admin, helpdesk, it_manager, synced, disabled, guest]);

    let mut all_staff = group(ci, 1, "All Staff", Some(format!("allstaff@{domain}")), "m365");
    all_staff.members.extend(contacts.iter().cloned());
    let mut finance = group(ci, 2, "Finance", Some(format!("finance@{domain}")), "mail-security");
    finance.members.extend(contacts.first().cloned());
    let sales = group(ci, 3, "Sales Team", Some(format!("sales@{domain}")), "m365");
    let mut vpn = group(ci, 4, "VPN Users", None, "security");
    vpn.members.insert(admin_id);
    let mut sec = group(ci, 5, "Security Admins", None, "role");
    sec.roles.insert(roles::AUTHENTICATION_ADMIN.into());
    sec.members.insert(it_id);

    let mut t = TenantState {
        id: tenant_id_for(ci),
        domain,
        display_name: c.name.clone(),
        company_id: ci,
        app: AppGrant::default(),
        users,
        skus: vec![
            sku(SKU_SPE_E3, "SPE_E3", "User", 25, 10),
            sku(SKU_O365_BUSINESS_PREMIUM, "O365_BUSINESS_PREMIUM", "User", 0, 7),
            sku(SKU_EXCHANGESTANDARD, "EXCHANGESTANDARD", "User", 5, 0),
            sku(SKU_WINDOWS_STORE, "WINDOWS_STORE", "Company", 25, 0),
        ],
        groups: vec![all_staff, finance, sales, vpn, sec],
    };
    // O365_BUSINESS_PREMIUM: exactly as many seats as are in use, none free.
    let used = t.consumed(SKU_O365_BUSINESS_PREMIUM);
    if let Some(s) = t.skus.iter_mut().find(|s| s.sku_id == SKU_O365_BUSINESS_PREMIUM) {
        s.enabled_units = used;
    }
    t
}
