//! `atpilot setup`: registers (or updates) atpilot's TicketWebhook in
//! Autotask, pointing at the deployed intake URL, with its subscribed fields,
//! the agent's own resources excluded and the shared secret; before that it
//! checks the configuration against the tenant (the agent resource, its role,
//! billing codes, statuses…: [`config_check`]). Every problem is reported
//! with its fix; nothing is half-done silently.

use crate::config_check::{self, ConfigReport};
use atpilot_autotask::entities::{TicketWebhook, TicketWebhookPatch};
use atpilot_autotask::{Client, Filter, Opt, Query, TicketWebhookRegistration};
use atpilot_config::Config;

/// The webhook's name in Autotask (at most 50 characters).
pub(crate) const WEBHOOK_NAME: &str = "atpilot";
/// Ticket fields whose change calls atpilot.
pub(crate) const SUBSCRIBED_FIELDS: &[&str] =
    &["status", "queueID", "priority", "issueType", "subIssueType", "assignedResourceID", "contractID"];
/// Always in the payload.
pub(crate) const DISPLAY_ALWAYS: &[&str] = &["title"];

/// Why setup stopped after its checks passed: Autotask refused a webhook call.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("reading the registered webhooks: {0}")]
    Read(#[source] atpilot_autotask::Error),
    #[error("updating webhook {id}: {source}")]
    Update {
        id: i64,
        #[source]
        source: atpilot_autotask::Error,
    },
    #[error("registering the webhook: {0}")]
    Register(#[source] atpilot_autotask::Error),
}

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
    /// The configuration checked against the tenant (agent, role, billing codes, statuses…).
    pub config: ConfigReport,
    /// The intake URL, the secret and the webhook.
    pub checks: Vec<Check>,
    /// The webhook's id, registered or updated.
    pub webhook_id: Option<i64>,
    pub created: bool,
}

impl SetupReport {
    pub fn ok(&self) -> bool {
        self.config.ok() && self.checks.iter().all(|c| c.ok)
    }
    fn check(&mut self, what: impl Into<String>, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check { what: what.into(), ok, detail: detail.into() });
    }
}

/// Checks the configuration against the tenant ([`config_check::check`]:
/// `env` reads the variables it names; `remote` for a real tenant), then
/// registers or updates the webhook (unless `dry_run`).
pub async fn setup(
    client: &Client,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
    remote: bool,
    intake_url: &str,
    secret: &str,
    dry_run: bool,
) -> Result<SetupReport, SetupError> {
    let mut r = SetupReport { config: config_check::check(client, config, env, remote).await, ..Default::default() };
    let agent = config.agent.resource_id.get();
    let url = intake_url.trim();
    if !url.starts_with("https://") && !url.starts_with("http://127.0.0.1") && !url.starts_with("http://localhost") {
        r.check(
            "intake URL",
            false,
            format!("{url:?} is not an https:// URL: Autotask calls webhooks over HTTPS on port 443"),
        );
    }
    if secret.len() < 16 || secret.len() > 64 {
        r.check("webhook secret", false, "must be 16 to 64 characters (Autotask's secretKey limit is 64)");
    }
    if !r.ok() {
        return Ok(r);
    }
    let existing = client
        .query::<TicketWebhook>(Query::new().filter(Filter::eq("name", WEBHOOK_NAME)))
        .await
        .map_err(SetupError::Read)?;
    if dry_run {
        r.check(
            "webhook",
            true,
            if existing.is_empty() {
                "would be registered".into()
            } else {
                format!("{} exists; would be updated", existing.len())
            },
        );
        return Ok(r);
    }
    let mut excluded = vec![agent];
    excluded.extend(
        [config.autotask.impersonation_resource_id, config.autotask.api_user_resource_id]
            .into_iter()
            .flatten()
            .map(|x| x.get()),
    );
    match existing.into_iter().find_map(|w| w.id) {
        Some(id) => {
            let mut p = TicketWebhookPatch::new(id);
            p.webhook_url = Opt::Value(url.to_string());
            p.deactivation_url = Opt::Value(format!("{}/deactivated", url.trim_end_matches('/')));
            p.secret_key = Opt::Value(secret.to_string());
            p.is_active = Opt::Value(true);
            p.is_subscribed_to_create_events = Opt::Value(true);
            p.is_subscribed_to_update_events = Opt::Value(true);
            client.patch::<TicketWebhook>(&p).await.map_err(|source| SetupError::Update { id, source })?;
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
            let id = client.register_ticket_webhook(&reg).await.map_err(SetupError::Register)?;
            r.webhook_id = Some(id);
            r.created = true;
            r.check("webhook", true, format!("registered webhook {id} calling {url}"));
        }
    }
    Ok(r)
}
