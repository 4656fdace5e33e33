//! `[google]`: Google Workspace through the Admin SDK for the `google-*`
//! runbooks (and the Google twins of the `graph-*` ones). One service account
//! with domain-wide delegation in each customer's Admin console, which
//! impersonates that customer's admin (`../shared/reference/graph-and-identity.md`
//! §5). Each Autotask company maps to at most one Google customer; a company
//! may also have a Microsoft 365 tenant, and then the requester's e-mail
//! domain chooses (a domain listed here is Google's).
//!
//! ```toml
//! [google]
//! service_account_env = "ATPILOT_GOOGLE_SERVICE_ACCOUNT"  # locally: the JSON key file's contents; in AWS: GOOGLE_SERVICE_ACCOUNT_SECRET_ARN
//! token_url = "https://oauth2.googleapis.com/token"     # default; "sandbox" locally
//! [google.customers.29683002]                          # the Autotask company id
//! customer_id = "C03az79cb"                            # the Workspace customer id (Admin console > Account settings)
//! admin = "atpilot-admin@customer.example"             # the super admin the service account impersonates
//! domains = ["customer.example"]                       # the requester domains served through Google
//! ```

use crate::{ConfigError, invalid};
use serde::Deserialize;
use std::collections::BTreeMap;

fn d_token() -> String {
    "https://oauth2.googleapis.com/token".into()
}
fn d_directory() -> String {
    "https://admin.googleapis.com/admin/directory/v1".into()
}
fn d_licensing() -> String {
    "https://licensing.googleapis.com/apps/licensing/v1".into()
}
fn d_key_env() -> String {
    "ATPILOT_GOOGLE_SERVICE_ACCOUNT".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleConfig {
    /// Locally: the environment variable holding the service account's JSON key file contents.
    #[serde(default = "d_key_env")]
    pub service_account_env: String,
    /// Google's OAuth token endpoint, or "sandbox" (the local Google Admin sandbox).
    #[serde(default = "d_token")]
    pub token_url: String,
    /// The Directory API's base URL (with the version), or "sandbox".
    #[serde(default = "d_directory")]
    pub directory_url: String,
    /// The Enterprise License Manager API's base URL, or "sandbox".
    #[serde(default = "d_licensing")]
    pub licensing_url: String,
    /// Autotask company id → its Google Workspace customer.
    #[serde(default)]
    pub customers: BTreeMap<String, GoogleCustomer>,
}

/// One customer's Google Workspace (`[google.customers.<company id>]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleCustomer {
    /// The Workspace customer id (`C0…`); a user of another customer is never touched.
    pub customer_id: String,
    /// The super admin to impersonate (the JWT `sub`).
    pub admin: String,
    /// The e-mail domains whose requesters are served through Google.
    pub domains: Vec<String>,
}

impl GoogleConfig {
    /// True when the URLs name the local sandbox.
    pub fn is_sandbox(&self) -> bool {
        [&self.token_url, &self.directory_url, &self.licensing_url].iter().any(|u| *u == "sandbox")
    }

    /// The Google customer of an Autotask company, if mapped.
    pub fn customer_of(&self, company_id: i64) -> Option<&GoogleCustomer> {
        self.customers.get(&company_id.to_string())
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let urls = [
            ("google.token_url", &self.token_url),
            ("google.directory_url", &self.directory_url),
            ("google.licensing_url", &self.licensing_url),
        ];
        for (key, url) in urls {
            if url != "sandbox" && !(url.starts_with("https://") || url.starts_with("http://127.0.0.1")) {
                return Err(invalid(
                    key,
                    format!("{url:?} is not an https URL"),
                    "use the default, or \"sandbox\" locally",
                ));
            }
        }
        if self.service_account_env.trim().is_empty() {
            return Err(invalid(
                "google.service_account_env",
                "is empty",
                "name the environment variable that holds the JSON key",
            ));
        }
        let mut owner: BTreeMap<String, &str> = BTreeMap::new();
        for (company, c) in &self.customers {
            let key = format!("google.customers.{company}");
            if company.parse::<i64>().map_or(true, |c| c <= 0) {
                return Err(invalid(
                    key,
                    "is not an Autotask company id",
                    "key each customer by the company's id (Companies.id)",
                ));
            }
            c.validate(&key)?;
            for d in &c.domains {
                if let Some(other) = owner.insert(d.to_ascii_lowercase(), company) {
                    return Err(invalid(
                        format!("{key}.domains"),
                        format!("lists {d}, which google.customers.{other} lists too"),
                        "a domain belongs to one customer: remove it from one of them",
                    ));
                }
            }
        }
        Ok(())
    }
}

impl GoogleCustomer {
    /// Whether `email`'s domain is one of this customer's (case ignored).
    pub fn serves(&self, email: &str) -> bool {
        let Some((_, domain)) = email.trim().rsplit_once('@') else { return false };
        self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain))
    }

    fn validate(&self, key: &str) -> Result<(), ConfigError> {
        let id = self.customer_id.trim();
        if id.len() < 3 || !id.starts_with('C') || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid(
                format!("{key}.customer_id"),
                format!("{:?} is not a Workspace customer id", self.customer_id),
                "copy it from the customer's Admin console > Account > Account settings (C followed by letters and digits, e.g. C03az79cb)",
            ));
        }
        // The rule atpilot-google's `Subject::new` applies at start-up.
        let email = |s: &str| {
            let shaped = s
                .split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'));
            shaped && s.matches('@').count() == 1 && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        };
        if !email(self.admin.trim()) {
            return Err(invalid(
                format!("{key}.admin"),
                format!("{:?} is not an e-mail address", self.admin),
                "the customer's super admin the service account impersonates",
            ));
        }
        if self.domains.is_empty() {
            return Err(invalid(
                format!("{key}.domains"),
                "is empty",
                "list the e-mail domains whose requesters are Google Workspace users",
            ));
        }
        for d in &self.domains {
            let ok = d.contains('.')
                && !d.contains('@')
                && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !ok {
                return Err(invalid(
                    format!("{key}.domains"),
                    format!("{d:?} is not a domain"),
                    "e.g. \"customer.example\"",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<(), ConfigError> {
        let g: GoogleConfig = toml::from_str(s).map_err(|e| invalid("google", e.to_string(), "fix the TOML"))?;
        g.validate()
    }

    const OK: &str = r#"
[customers.29683002]
customer_id = "C03az79cb"
admin = "admin@c2.example"
domains = ["c2.example"]
"#;

    #[test]
    fn a_customer_maps_a_company_and_serves_its_domains() {
        parse(OK).unwrap();
        let g: GoogleConfig = toml::from_str(OK).unwrap();
        let c = g.customer_of(29683002).unwrap();
        assert!(c.serves("Jo@C2.example") && !c.serves("jo@c3.example") && !c.serves("c2.example"));
        assert!(g.customer_of(1).is_none() && !g.is_sandbox());
    }

    #[test]
    fn bad_customers_are_refused_naming_the_key() {
        let bad = |from: &str, to: &str| parse(&OK.replace(from, to)).unwrap_err().to_string();
        assert!(bad("C03az79cb", "03az").contains("google.customers.29683002.customer_id"));
        assert!(bad("admin@c2.example", "admin").contains(".admin"));
        assert!(bad("admin@c2.example", "a@b@c2.example").contains(".admin"));
        assert!(bad("[\"c2.example\"]", "[]").contains(".domains"));
        assert!(bad("[\"c2.example\"]", "[\"x@c2.example\"]").contains("is not a domain"));
        assert!(bad("29683002", "acme").contains("is not an Autotask company id"));
        let twice = format!(
            "{OK}\n[customers.5]\ncustomer_id = \"C0123\"\nadmin = \"a@b.example\"\ndomains = [\"C2.example\"]\n"
        );
        assert!(parse(&twice).unwrap_err().to_string().contains("lists C2.example"));
        assert!(parse("token_url = \"http://example.com\"").unwrap_err().to_string().contains("google.token_url"));
    }
}
