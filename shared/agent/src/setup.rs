//! `atpilot setup`: registers (or updates) atpilot's TicketWebhook in
//! Autotask, pointing at the deployed intake URL, with its subscribed fields,
//! the agent's own resources excluded and the shared secret; and checks that
//! the agent resource, its role and the configured billing codes exist and
//! can be used. Every problem is reported with its fix; nothing is half-done
//! silently.

use atpilot_autotask::entities::{BillingCode, Resource, ResourceRole, Role, TicketWebhook, TicketWebhookPatch};
use atpilot_autotask::{Client, Filter, Opt, Query, TicketWebhookRegistration};
use atpilot_config::Config;

/// The webhook's name in Autotask (at most 50 characters).
pub const WEBHOOK_NAME: &str = "atpilot";
/// Ticket fields whose change calls atpilot.
pub const SUBSCRIBED_FIELDS: &[&str] = &["status", "queueID", "priority", "issueType", "subIssueType", "assignedResourceID", "contractID"];
/// Always in the payload.
pub const DISPLAY_ALWAYS: &[&str] = &["title"];

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub what: String,
    pub ok: bool,
    /// What was found, or how to fix it.
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupReport {
    pub checks: Vec<Check>,
    /// The webhook's id, registered or updated.
    pub webhook_id: Option<i64>,
    pub created: bool,
}

impl SetupReport {
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
    fn check(&mut self, what: impl Into<String>, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check { what: what.into(), ok, detail: detail.into() });
    }
}

async fn one<E: atpilot_autotask::Entity>(client: &Client, id: i64) -> Result<Option<E>, String> {
    client.query::<E>(Query::new().filter(Filter::eq("id", id))).await.map(|mut v| v.pop()).map_err(|e| e.to_string())
}

/// Checks the agent and billing codes, then registers or updates the webhook
/// (unless `dry_run`).
pub async fn setup(client: &Client, config: &Config, intake_url: &str, secret: &str, dry_run: bool) -> Result<SetupReport, String> {
    let mut r = SetupReport::default();
    let agent = config.agent.resource_id.get();
    let role = config.agent.role_id.get();
    match one::<Resource>(client, agent).await? {
        None => r.check("agent resource", false, format!("resource {agent} does not exist: set agent.resource_id to a licensed resource")),
        Some(res) => {
            let name = format!("{} {}", res.first_name.unwrap_or_default(), res.last_name.unwrap_or_default());
            r.check("agent resource is active", res.is_active == Some(true), format!("{name} ({agent})"));
            // licenseType 7 = API User (API-only): Autotask refuses time entries owned by it.
            let api_only = res.license_type == Some(7);
            r.check(
                "agent resource can own time entries",
                !api_only,
                if api_only { format!("{name} is an API-only user: Autotask needs a licensed resource to own time entries; set agent.resource_id to one") } else { "licensed".into() },
            );
            let roles = client.query::<ResourceRole>(Query::new().filter(Filter::eq("resourceID", agent))).await.map_err(|e| e.to_string())?;
            let has = roles.iter().any(|rr| rr.role_id == Some(role) && rr.is_active != Some(false));
            r.check("agent has its role", has, if has { format!("role {role}") } else { format!("resource {agent} has no active role {role}: add it in Autotask (Admin › Resources › Service Desk Roles) or change agent.role_id") });
        }
    }
    match one::<Role>(client, role).await? {
        Some(ro) if ro.is_active != Some(false) => r.check("agent role exists", true, ro.name.unwrap_or_default()),
        Some(_) => r.check("agent role exists", false, format!("role {role} is inactive")),
        None => r.check("agent role exists", false, format!("role {role} does not exist: set agent.role_id")),
    }
    let mut codes = vec![config.billing_codes.default.get()];
    codes.extend(config.billing_codes.rule_codes().map(|c| c.get()));
    codes.sort();
    codes.dedup();
    for code in codes {
        match one::<BillingCode>(client, code).await? {
            Some(b) if b.is_active != Some(false) => r.check(format!("billing code {code}"), true, b.name.unwrap_or_default()),
            Some(_) => r.check(format!("billing code {code}"), false, "inactive: choose an active work type in billing_codes"),
            None => r.check(format!("billing code {code}"), false, "does not exist: choose a work type from Admin › Billing Codes"),
        }
    }
    let url = intake_url.trim();
    if !url.starts_with("https://") && !url.starts_with("http://127.0.0.1") && !url.starts_with("http://localhost") {
        r.check("intake URL", false, format!("{url:?} is not an https:// URL: Autotask calls webhooks over HTTPS on port 443"));
    }
    if secret.len() < 16 || secret.len() > 64 {
        r.check("webhook secret", false, "must be 16 to 64 characters (Autotask's secretKey limit is 64)");
    }
    if !r.ok() {
        return Ok(r);
    }
    let existing = client.query::<TicketWebhook>(Query::new().filter(Filter::eq("name", WEBHOOK_NAME))).await.map_err(|e| e.to_string())?;
    if dry_run {
        r.check("webhook", true, if existing.is_empty() { "would be registered".into() } else { format!("{} exists; would be updated", existing.len()) });
        return Ok(r);
    }
    let mut excluded = vec![agent];
    excluded.extend([config.autotask.impersonation_resource_id, config.autotask.api_user_resource_id].into_iter().flatten().map(|x| x.get()));
    match existing.into_iter().find_map(|w| w.id) {
        Some(id) => {
            let mut p = TicketWebhookPatch::new(id);
            p.webhook_url = Opt::Value(url.to_string());
            p.deactivation_url = Opt::Value(format!("{}/deactivated", url.trim_end_matches('/')));
            p.secret_key = Opt::Value(secret.to_string());
            p.is_active = Opt::Value(true);
            p.is_subscribed_to_create_events = Opt::Value(true);
            p.is_subscribed_to_update_events = Opt::Value(true);
            client.patch::<TicketWebhook>(&p).await.map_err(|e| format!("updating webhook {id}: {e}"))?;
            r.webhook_id = Some(id);
            r.check("webhook", true, format!("updated webhook {id} to call {url}"));
        }
        None => {
            let reg = TicketWebhookRegistration {
                name: WEBHOOK_NAME.into(),
                webhook_url: url.to_string(),
                deactivation_url: format!("{}/deactivated", url.trim_end_matches('/')),
                secret_key: secret.to_string(),
                notification_email_address: config.notifications.alerts.first().cloned(),
                on_create: true,
                on_update: true,
                subscribed_fields: SUBSCRIBED_FIELDS.iter().map(|s| s.to_string()).collect(),
                display_always_fields: DISPLAY_ALWAYS.iter().map(|s| s.to_string()).collect(),
                excluded_resources: excluded,
            };
            let id = client.register_ticket_webhook(&reg).await.map_err(|e| format!("registering the webhook: {e}"))?;
            r.webhook_id = Some(id);
            r.created = true;
            r.check("webhook", true, format!("registered webhook {id} calling {url}"));
        }
    }
    Ok(r)
}
