//! `[autotask]`: where the API is (the sandbox or a tenant's REST root), the
//! environment variables that hold the credentials, and the request budget.

use crate::{ConfigError, invalid};
use atpilot_domain::ResourceId;
use serde::Deserialize;

/// Where the Autotask API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutotaskTarget {
    /// The embedded sandbox (local runner only).
    Sandbox,
    /// A real tenant: a zone URL or the global one (the zone is then discovered).
    Url(url::Url),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutotaskConfig {
    /// `"sandbox"` or the REST root, e.g. `https://webservices2.autotask.net/atservicesrest`.
    pub url: String,
    #[serde(default = "env_username")]
    pub username_env: String,
    #[serde(default = "env_secret")]
    pub secret_env: String,
    #[serde(default = "env_integration_code")]
    pub integration_code_env: String,
    /// Write as this resource (`ImpersonationResourceId`), if set.
    pub impersonation_resource_id: Option<ResourceId>,
    /// The API user's own resource id: changes it makes are the agent's own
    /// (loop guard), like those of the agent resource.
    pub api_user_resource_id: Option<ResourceId>,
    /// The share of the tenant's hourly request limit atpilot may use (0 < share <= 1).
    #[serde(default = "default_share")]
    pub api_budget_share: f64,
    /// TicketNotes `publish` value of internal notes; unset: the tenant's
    /// active "Internal Users" value (else another active internal one). Checked
    /// against the tenant's picklist: never a value customers can see.
    #[serde(default)]
    pub note_publish_internal: Option<i64>,
    /// TicketNotes `publish` value of the customer reply; unset: "All Autotask Users".
    #[serde(default)]
    pub note_publish_customer: Option<i64>,
    /// TicketNotes `noteType` of every note; unset: the tenant's "Notes" value.
    #[serde(default)]
    pub note_type: Option<i64>,
    /// The IANA time zone of the tenant's calendar (the agent resource's
    /// location, `InternalLocations.timeZone`): time entries' `dateWorked`
    /// and block-hour coverage dates are its calendar dates. Default UTC.
    #[serde(default)]
    pub time_zone: atpilot_domain::TenantTimeZone,
    /// Where a ticket opens in Autotask, `{id}` standing for the ticket id,
    /// e.g. Autotask's ExecuteCommand link
    /// `https://ww5.autotask.net/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID={id}`
    /// (use your zone's `ww` number; source: Autotask's ExecuteCommand API
    /// help). Unset: the dashboard links to its own ticket timeline only.
    #[serde(default)]
    pub ticket_link: Option<TicketLink>,
}

/// A link template to a ticket in Autotask: `https://…` containing `{id}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TicketLink(String);

impl TicketLink {
    /// The link to `ticket`.
    pub fn to(&self, ticket: i64) -> String {
        self.0.replace("{id}", &ticket.to_string())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TicketLink {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let ok_chars = s.chars().all(|c| c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '\\' | '`'));
        if !s.starts_with("https://") || !s.contains("{id}") || !ok_chars {
            return Err(format!(
                "autotask.ticket_link must be an https:// link containing {{id}} (no spaces or quotes), e.g. \
                 https://ww5.autotask.net/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID={{id}}; got {s:?}"
            ));
        }
        Ok(TicketLink(s))
    }
}

impl From<TicketLink> for String {
    fn from(l: TicketLink) -> String {
        l.0
    }
}
fn env_username() -> String {
    "AUTOTASK_USERNAME".into()
}
fn env_secret() -> String {
    "AUTOTASK_SECRET".into()
}
fn env_integration_code() -> String {
    "AUTOTASK_INTEGRATION_CODE".into()
}
fn default_share() -> f64 {
    0.25
}

/// Credentials resolved from the environment. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct AutotaskCredentials {
    pub username: String,
    pub secret: String,
    pub integration_code: String,
}
impl std::fmt::Debug for AutotaskCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutotaskCredentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("integration_code", &"<redacted>")
            .finish()
    }
}

impl AutotaskConfig {
    pub fn target(&self) -> Result<AutotaskTarget, ConfigError> {
        if self.url.trim().eq_ignore_ascii_case("sandbox") {
            return Ok(AutotaskTarget::Sandbox);
        }
        let u = url::Url::parse(self.url.trim()).map_err(|e| {
            invalid(
                "autotask.url",
                format!("{:?} is not a URL ({e})", self.url),
                "use \"sandbox\" or e.g. \"https://webservices2.autotask.net/atservicesrest\"",
            )
        })?;
        if u.scheme() != "https" && !matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "::1")) {
            return Err(invalid(
                "autotask.url",
                format!("{u} is not HTTPS"),
                "Autotask is only reachable over https://",
            ));
        }
        Ok(AutotaskTarget::Url(u))
    }

    /// Reads the credentials from the environment variables this section names.
    pub fn credentials(&self, env: impl Fn(&str) -> Option<String>) -> Result<AutotaskCredentials, ConfigError> {
        let get = |var: &str, key: &str, why: &str| {
            env(var).filter(|v| !v.trim().is_empty()).ok_or_else(|| ConfigError::MissingSecret {
                var: var.into(),
                key: key.into(),
                why: why.into(),
            })
        };
        Ok(AutotaskCredentials {
            username: get(
                &self.username_env,
                "autotask.username_env",
                "it holds the API-only user's e-mail (UserName header)",
            )?,
            secret: get(&self.secret_env, "autotask.secret_env", "it holds the API user's password (Secret header)")?,
            integration_code: get(
                &self.integration_code_env,
                "autotask.integration_code_env",
                "it holds the API tracking identifier (ApiIntegrationCode header)",
            )?,
        })
    }
}
