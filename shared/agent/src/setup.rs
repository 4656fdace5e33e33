//! `atpilot setup`: registers (or updates) atpilot's TicketWebhook in
//! Autotask, pointing at the deployed intake URL, with its subscribed fields,
//! the agent's own resources excluded and the shared secret. Of several
//! (named "atpilot", or calling the intake URL itself) one is kept, brought
//! to that shape and read back active and ready; only then are the others
//! deactivated. Each change is reported. Before that it
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

/// The tenant's webhooks that are atpilot's: those named [`WEBHOOK_NAME`]
/// (setup owns that name in the tenant, wherever it points: an earlier
/// deployment's URL is stale after a redeploy), and those calling the intake
/// URL itself (same host, port and path: not merely the same host, which
/// other tools behind a shared domain may use). The one kept already calls
/// `url` if any does, else an active one, else the lowest id; the others are
/// duplicates.
fn ours(all: Vec<TicketWebhook>, url: &str) -> (Option<TicketWebhook>, Vec<TicketWebhook>) {
    let parse = |u: &str| url::Url::parse(u).ok();
    let endpoint = |u: &url::Url| {
        (
            u.host_str().map(str::to_ascii_lowercase),
            u.port_or_known_default(),
            u.path().trim_end_matches('/').to_string(),
        )
    };
    let intake = parse(url);
    let same_endpoint = |w: &TicketWebhook| {
        let theirs = w.webhook_url.as_deref().and_then(parse);
        matches!((&intake, &theirs), (Some(a), Some(b)) if endpoint(a) == endpoint(b))
    };
    let named = |w: &TicketWebhook| w.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(WEBHOOK_NAME));
    let mut mine: Vec<TicketWebhook> = all.into_iter().filter(|w| same_endpoint(w) || named(w)).collect();
    mine.sort_by_key(|w| (!same_endpoint(w), w.is_active != Some(true), w.id));
    let mut mine = mine.into_iter();
    (mine.next(), mine.collect())
}

/// Reads the webhook back until Autotask says it is active and ready (a few
/// tries a second apart: readiness follows its first subscribed field).
async fn read_back_ready(client: &Client, id: i64, r: &mut SetupReport) -> Result<(), SetupError> {
    let mut back = None;
    for attempt in 0..5 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        back = client.get::<TicketWebhook>(id).await.map_err(SetupError::Read)?;
        if back.as_ref().is_some_and(|w| w.is_active == Some(true) && w.is_ready == Some(true)) {
            r.check("webhook ready", true, "read back active and ready");
            return Ok(());
        }
    }
    r.check(
        "webhook ready",
        false,
        format!("read back as {back:?}: Autotask will not call it until it is active and ready (it needs a subscribed field)"),
    );
    Ok(())
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
        excluded_resources: {
            excluded.sort_unstable();
            excluded.dedup();
            excluded
        },
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
    let (keep, duplicates) = ours(all, url);
    if dry_run {
        let kept = keep
            .as_ref()
            .and_then(|k| k.id)
            .map_or("would be registered".into(), |id| format!("{id} would be kept and brought to the wanted fields"));
        let dups = duplicates.iter().filter_map(|w| w.id).map(|i| i.to_string()).collect::<Vec<_>>();
        let extra = if dups.is_empty() {
            String::new()
        } else {
            format!("; duplicates {} would be deactivated", dups.join(", "))
        };
        r.check("webhook", true, format!("{kept}{extra}"));
        return Ok(r);
    }
    let reg = registration(config, url, secret);
    // The kept one first, so a failure never leaves the tenant without a working webhook.
    let id = match keep {
        Some(w) => {
            let id = w.id.unwrap_or_default();
            let mut changes = vec![];
            if let Err(e) = client.sync_ticket_webhook(&w, &reg, &mut changes).await {
                let done = if changes.is_empty() {
                    "nothing changed yet".to_string()
                } else {
                    format!("changed so far: {}", changes.join("; "))
                };
                r.check(
                    "webhook",
                    false,
                    format!("webhook {id} could not be brought to the wanted shape ({done}): {e}"),
                );
                return Ok(r);
            }
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
    read_back_ready(client, id, &mut r).await?;
    for w in duplicates.iter().filter(|w| w.is_active == Some(true)) {
        let Some(dup) = w.id else { continue };
        let mut p = TicketWebhookPatch::new(dup);
        p.is_active = Opt::Value(false);
        client.patch::<TicketWebhook>(&p).await.map_err(|source| SetupError::Update { id: dup, source })?;
        let what =
            format!("{:?} calling {:?}", w.name.as_deref().unwrap_or(""), w.webhook_url.as_deref().unwrap_or(""));
        r.check(
            "webhook duplicate",
            true,
            format!("deactivated webhook {dup} ({what}): every event would reach atpilot twice"),
        );
    }
    Ok(r)
}
