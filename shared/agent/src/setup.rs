//! `atpilot setup`: registers (or updates) atpilot's TicketWebhook in
//! Autotask, pointing at the deployed intake URL, with its subscribed fields,
//! the agent's own resources excluded and the shared secret. Of several
//! (named "atpilot" or calling the intake's host) one is kept and brought to
//! that shape, the others are deactivated, and each change is reported;
//! the kept one is read back active and ready. Before that it
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
pub const SUBSCRIBED_FIELDS: &[&str] =
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

/// Splits the tenant's webhooks into the one to keep and the duplicates:
/// atpilot's are those named [`WEBHOOK_NAME`] or calling the intake's host.
/// The kept one already calls `url` and is active if any does, else the
/// lowest id.
fn ours(all: Vec<TicketWebhook>, url: &str) -> (Option<TicketWebhook>, Vec<TicketWebhook>) {
    let host = |u: &str| url::Url::parse(u).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    let intake = host(url);
    let mut mine: Vec<TicketWebhook> = all
        .into_iter()
        .filter(|w| {
            w.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(WEBHOOK_NAME))
                || (intake.is_some() && w.webhook_url.as_deref().and_then(host) == intake)
        })
        .collect();
    mine.sort_by_key(|w| (w.webhook_url.as_deref() != Some(url), w.is_active != Some(true), w.id));
    let keep = (!mine.is_empty()).then(|| mine.remove(0));
    (keep, mine)
}

/// The webhook atpilot wants: its URLs, secret, fields and excluded resources.
fn registration(config: &Config, url: &str, secret: &str) -> TicketWebhookRegistration {
    let mut excluded = vec![config.agent.resource_id.get()];
    excluded.extend(
        [config.autotask.impersonation_resource_id, config.autotask.api_user_resource_id]
            .into_iter()
            .flatten()
            .map(|x| x.get()),
    );
    TicketWebhookRegistration {
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
    let all =
        client.query::<TicketWebhook>(Query::new().filter(Filter::gte("id", 0))).await.map_err(SetupError::Read)?;
    let (keep, others) = ours(all, url);
    if dry_run {
        let kept = keep
            .as_ref()
            .and_then(|k| k.id)
            .map_or("would be registered".into(), |id| format!("{id} would be kept and brought to the wanted fields"));
        let dups = others.iter().filter_map(|w| w.id).map(|i| i.to_string()).collect::<Vec<_>>();
        let extra = if dups.is_empty() {
            String::new()
        } else {
            format!("; duplicates {} would be deactivated", dups.join(", "))
        };
        r.check("webhook", true, format!("{kept}{extra}"));
        return Ok(r);
    }
    let reg = registration(config, url, secret);
    for w in &others {
        let Some(id) = w.id else { continue };
        let mut p = TicketWebhookPatch::new(id);
        p.is_active = Opt::Value(false);
        client.patch::<TicketWebhook>(&p).await.map_err(|source| SetupError::Update { id, source })?;
        let what =
            format!("{:?} calling {:?}", w.name.as_deref().unwrap_or(""), w.webhook_url.as_deref().unwrap_or(""));
        r.check(
            "webhook duplicate",
            true,
            format!("deactivated webhook {id} ({what}): every event would reach atpilot twice"),
        );
    }
    let id = match keep {
        Some(w) => {
            let id = w.id.unwrap_or_default();
            let changes =
                client.sync_ticket_webhook(&w, &reg).await.map_err(|source| SetupError::Update { id, source })?;
            r.check("webhook", true, format!("kept webhook {id} calling {url}: {}", changes.join("; ")));
            id
        }
        None => {
            let id = client.register_ticket_webhook(&reg).await.map_err(SetupError::Register)?;
            r.created = true;
            r.check("webhook", true, format!("registered webhook {id} calling {url}"));
            id
        }
    };
    r.webhook_id = Some(id);
    let back = client.get::<TicketWebhook>(id).await.map_err(SetupError::Read)?;
    let ready = back.as_ref().is_some_and(|w| w.is_active == Some(true) && w.is_ready == Some(true));
    r.check(
        "webhook ready",
        ready,
        if ready { "read back active and ready".to_string() } else { format!("read back as {back:?}: Autotask will not call it until it is active and ready (it needs a subscribed field)") },
    );
    Ok(r)
}
