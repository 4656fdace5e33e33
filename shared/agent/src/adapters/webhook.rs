//! The runbook port over signed webhooks (`atpilot-webhook`): the `webhook`
//! runbook POSTs a signed JSON job to the category's `[webhooks.NAME]` and
//! maps the answer: done → verified (the receiver did it and read it back,
//! its before/after kept), refused → refused, accepted → executed and
//! awaiting the signed callback at `callback_url`. The job carries the
//! action id as its idempotency key; atpilot itself sends it at most once
//! (the run is claimed first), so an unreachable webhook is a failure for a
//! technician, never a retry.

use crate::ports::{RunbookRun, RunbookTarget, Runbooks, SignedCallback};
use async_trait::async_trait;
use atpilot_domain::{Runbook, RunbookKind, RunbookOutcome, RunbookStatus};
use atpilot_webhook::{Answer, Callback, Job, JobTicket, Reported, Signer, WebhookClient};
use std::collections::{BTreeMap, HashMap};

/// The configured webhooks, by name.
pub struct WebhookRunbooks {
    hooks: HashMap<String, WebhookClient>,
    /// Where accepted jobs call back (the approval function's `runbooks/callback`).
    callback_url: String,
}

/// `[webhooks]` with each secret's value (`secret_of(name, secret_env)`), calling back to `callback_url`.
pub fn from_config(
    webhooks: &BTreeMap<String, atpilot_config::WebhookConfig>,
    secret_of: impl Fn(&str, &str) -> Option<String>,
    callback_url: String,
) -> Result<WebhookRunbooks, String> {
    let http = reqwest::Client::builder().build().map_err(|e| format!("the webhook HTTP client: {e}"))?;
    let mut hooks = HashMap::new();
    for (name, w) in webhooks {
        let url = url::Url::parse(&w.url).map_err(|e| format!("webhooks.{name}.url: {e}"))?;
        let secret = secret_of(name, &w.secret_env)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("webhooks.{name}: the secret is not set (environment variable {})", w.secret_env))?;
        hooks.insert(name.clone(), WebhookClient::new(http.clone(), url, Signer::new(secret)));
    }
    Ok(WebhookRunbooks { hooks, callback_url })
}

/// A webhook run that stopped with `reason`.
fn stopped(plan: &str, status: RunbookStatus, reason: String) -> RunbookOutcome {
    RunbookOutcome::stopped(RunbookKind::Webhook, plan, status, reason)
}

/// A webhook run the receiver did and read back.
fn done(plan: &str, before: BTreeMap<String, String>, after: BTreeMap<String, String>) -> RunbookOutcome {
    RunbookOutcome { before, after, ..RunbookOutcome::new(RunbookKind::Webhook, plan, RunbookStatus::Verified) }
}

/// The customer reply for a verified job (the receiver's own words never reach the customer).
const REPLY: &str = "Hello,\n\nThe change you asked for is done and was checked by our automation. If anything still does not work, reply to this message.\n\nKind regards,\nThe service desk";

fn run_of(o: RunbookOutcome) -> RunbookRun {
    let reply = o.verified().then(|| REPLY.to_string());
    RunbookRun { outcome: o, reply, secret: None }
}

#[async_trait]
impl Runbooks for WebhookRunbooks {
    fn describe(&self, runbook: &Runbook, t: &RunbookTarget<'_>) -> String {
        let who = t.requester_email.unwrap_or("the ticket's contact (no e-mail address)");
        let name = runbook.parameter().unwrap_or_default();
        format!(
            "Send ticket {} for {who} to the {name} webhook runbook, signed; it does the work and reports back",
            t.ticket.ticket_number
        )
    }

    async fn run(&self, runbook: &Runbook, t: &RunbookTarget<'_>) -> RunbookRun {
        let plan = self.describe(runbook, t);
        let name = runbook.parameter().unwrap_or_default();
        let Some(hook) = self.hooks.get(name) else {
            let why = format!("no webhook {name:?} is configured: do it by hand");
            return run_of(stopped(&plan, RunbookStatus::Refused, why));
        };
        let job = Job {
            version: 1,
            action_id: t.action_id.to_string(),
            runbook: name.to_string(),
            plan: plan.clone(),
            ticket: JobTicket {
                id: t.ticket.id.get(),
                ticket_number: t.ticket.ticket_number.clone(),
                company_id: t.ticket.company_id.get(),
            },
            inputs: t.requester_email.map(|e| ("requester_email".to_string(), e.to_string())).into_iter().collect(),
            callback_url: self.callback_url.clone(),
        };
        let o = match hook.send(&job, chrono::Utc::now().timestamp()).await {
            Ok(Answer::Done { before, after }) => done(&plan, before, after),
            Ok(Answer::Refused { reason }) => {
                stopped(&plan, RunbookStatus::Refused, format!("the webhook refused: {reason}"))
            }
            Ok(Answer::Accepted) => RunbookOutcome {
                awaiting_callback: true,
                ..stopped(&plan, RunbookStatus::Executed, "accepted; waiting for its signed callback".into())
            },
            Err(e) => stopped(
                &plan,
                RunbookStatus::Failed,
                format!("{e}. atpilot does not send it again: a technician must check whether it ran"),
            ),
        };
        run_of(o)
    }

    fn callback(&self, runbook: &Runbook, plan: &str, s: &SignedCallback<'_>) -> Result<RunbookRun, String> {
        let name = runbook.parameter().unwrap_or_default();
        let hook = self.hooks.get(name).ok_or_else(|| format!("no webhook {name:?} is configured"))?;
        hook.signer().verify(s.timestamp, s.signature, s.body, s.now).map_err(|e| e.to_string())?;
        let c: Callback =
            serde_json::from_slice(s.body).map_err(|e| format!("the callback is not the documented contract: {e}"))?;
        let reason = c.reason.as_deref().map(atpilot_webhook::plain);
        let o = match c.status {
            Reported::Done => done(plan, atpilot_webhook::fields(&c.before), atpilot_webhook::fields(&c.after)),
            Reported::Refused => {
                stopped(plan, RunbookStatus::Refused, format!("the webhook refused: {}", reason.unwrap_or_default()))
            }
            Reported::Failed => {
                stopped(plan, RunbookStatus::Failed, format!("the webhook failed: {}", reason.unwrap_or_default()))
            }
        };
        Ok(run_of(o))
    }
}
