//! `[microsoft]`: Microsoft 365 through Graph for the `graph-*` runbooks.
//! One multi-tenant app registration, consented in each customer tenant
//! (`../shared/reference/graph-and-identity.md` §1); each Autotask company
//! maps to at most one tenant, and atpilot never acts across tenants.
//!
//! ```toml
//! [microsoft]
//! client_id = "a7f1c0de-…"                       # the app registration
//! client_secret_env = "ATPILOT_GRAPH_CLIENT_SECRET"  # locally; in AWS: GRAPH_CLIENT_SECRET_ARN
//! login_url = "https://login.microsoftonline.com"  # default; "sandbox" locally
//! graph_url = "https://graph.microsoft.com/v1.0"   # default; "sandbox" locally
//! [microsoft.tenants]
//! 29683001 = "c0000000-0000-4000-8000-000000000001"  # Autotask company id = tenant id
//! ```

use crate::{ConfigError, invalid};
use serde::Deserialize;
use std::collections::BTreeMap;

fn d_login() -> String {
    "https://login.microsoftonline.com".into()
}
fn d_graph() -> String {
    "https://graph.microsoft.com/v1.0".into()
}
fn d_secret_env() -> String {
    "ATPILOT_GRAPH_CLIENT_SECRET".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MicrosoftConfig {
    /// The app registration's application (client) id.
    pub client_id: String,
    /// Locally: the environment variable holding the client secret's value.
    #[serde(default = "d_secret_env")]
    pub client_secret_env: String,
    /// The Microsoft identity platform's base URL, or "sandbox" (the local Graph sandbox).
    #[serde(default = "d_login")]
    pub login_url: String,
    /// Graph's base URL (with the version), or "sandbox".
    #[serde(default = "d_graph")]
    pub graph_url: String,
    /// Autotask company id → Microsoft 365 tenant id.
    #[serde(default)]
    pub tenants: BTreeMap<String, String>,
}

impl MicrosoftConfig {
    /// True when the URLs name the local sandbox.
    pub fn is_sandbox(&self) -> bool {
        self.login_url == "sandbox" || self.graph_url == "sandbox"
    }

    /// The tenant of an Autotask company, if mapped.
    pub fn tenant_of(&self, company_id: i64) -> Option<&str> {
        self.tenants.get(&company_id.to_string()).map(String::as_str)
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.client_id.trim().is_empty() {
            return Err(invalid("microsoft.client_id", "is empty", "the app registration's application (client) id"));
        }
        for (key, url) in [("microsoft.login_url", &self.login_url), ("microsoft.graph_url", &self.graph_url)] {
            if url != "sandbox" && !(url.starts_with("https://") || url.starts_with("http://127.0.0.1")) {
                return Err(invalid(
                    key,
                    format!("{url:?} is not an https URL"),
                    "use the default, or \"sandbox\" locally",
                ));
            }
        }
        for (company, tenant) in &self.tenants {
            if company.parse::<i64>().map_or(true, |c| c <= 0) {
                return Err(invalid(
                    format!("microsoft.tenants.{company}"),
                    "is not an Autotask company id",
                    "key each tenant by the company's id (Companies.id)",
                ));
            }
            let guid = tenant.len() == 36 && tenant.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            if !guid {
                return Err(invalid(
                    format!("microsoft.tenants.{company}"),
                    format!("{tenant:?} is not a tenant id"),
                    "use the customer's Microsoft 365 tenant id (a GUID, from the admin consent's redirect)",
                ));
            }
        }
        Ok(())
    }
}
