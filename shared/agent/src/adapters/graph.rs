//! The runbook port over Microsoft Graph (`atpilot-graph`): the `graph-*`
//! runbooks in each Autotask company's own Microsoft 365 tenant
//! (`[microsoft.tenants]`), for the ticket's contact only. Facts:
//! `../shared/reference/graph-and-identity.md` §3 ("Reset password",
//! "Admin roles") and §6 (traps 1-3: the User Administrator role, admin
//! targets, synced users).
//!
//! A reset is refused before anything changes when the company has no
//! tenant, the contact has no address or is not a user of that tenant, the
//! user is synced from on-premises AD, disabled, or holds an administrator
//! role (a human resets those). After the reset the user is read back: the
//! run is verified when `lastPasswordChangeDateTime` moved past the start.

use crate::ports::{RunbookRun, RunbookTarget, Runbooks, ShownOnce};
use async_trait::async_trait;
use atpilot_domain::{RunbookKind, RunbookOutcome, RunbookStatus};
use atpilot_graph::{Client, GraphError, TemporaryPassword, TenantId, User};
use std::collections::{BTreeMap, HashMap};

/// The Graph runbooks of one app registration.
pub struct GraphRunbooks {
    client: Client,
    /// Autotask company id → tenant.
    tenants: HashMap<i64, TenantId>,
}

impl GraphRunbooks {
    pub fn new(client: Client, tenants: impl IntoIterator<Item = (i64, TenantId)>) -> Self {
        GraphRunbooks { client, tenants: tenants.into_iter().collect() }
    }
}

/// A run that stopped before or during the change.
fn stopped(kind: RunbookKind, plan: &str, status: RunbookStatus, reason: String) -> RunbookRun {
    RunbookRun { outcome: RunbookOutcome::stopped(kind, plan, status, reason), reply: None, secret: None }
}

fn facts(u: &User) -> BTreeMap<String, String> {
    let mut m = BTreeMap::from([("userPrincipalName".to_string(), u.user_principal_name.clone())]);
    if let Some(e) = u.account_enabled {
        m.insert("accountEnabled".into(), e.to_string());
    }
    if let Some(t) = u.last_password_change_date_time {
        m.insert("lastPasswordChangeDateTime".into(), t.to_rfc3339());
    }
    m
}

fn failed(e: &GraphError) -> String {
    format!("Microsoft Graph answered: {e}. Nothing more was done; a technician must finish it by hand")
}

impl GraphRunbooks {
    /// The user the reset may touch, or why not (nothing changed yet).
    async fn preflight(&self, tenant: &TenantId, email: &str) -> Result<User, (RunbookStatus, String)> {
        let refused = |why: String| (RunbookStatus::Refused, why);
        let user = match self.client.find_user_by_address(tenant, email).await {
            Ok(Some(u)) => u,
            Ok(None) => {
                return Err(refused(format!(
                    "{email} is not a user of the company's own Microsoft 365 tenant: atpilot never acts across tenants"
                )));
            }
            Err(e) => return Err((RunbookStatus::Failed, failed(&e))),
        };
        if user.is_synced() {
            return Err(refused(format!(
                "{} is synchronised from on-premises Active Directory: reset the password there",
                user.user_principal_name
            )));
        }
        if user.account_enabled == Some(false) {
            return Err(refused(format!(
                "{} is disabled: a technician decides whether to enable it",
                user.user_principal_name
            )));
        }
        match self.client.user_directory_roles(tenant, &user.id).await {
            Ok(roles) if atpilot_graph::is_admin(&roles) => {
                let names: Vec<String> = roles.iter().filter_map(|r| r.display_name.clone()).collect();
                Err(refused(format!(
                    "{} holds an administrator role ({}): a technician resets it by hand",
                    user.user_principal_name,
                    names.join(", ")
                )))
            }
            Ok(_) => Ok(user),
            Err(e) => Err((RunbookStatus::Failed, failed(&e))),
        }
    }

    async fn reset_password(&self, t: &RunbookTarget<'_>, plan: &str) -> RunbookRun {
        let kind = RunbookKind::GraphResetPassword;
        let Some(tenant) = self.tenants.get(&t.ticket.company_id.get()) else {
            let why = format!(
                "company {} has no Microsoft 365 tenant in [microsoft.tenants]: reset it by hand, or map the company",
                t.ticket.company_id
            );
            return stopped(kind, plan, RunbookStatus::Refused, why);
        };
        let Some(email) = t.requester_email else {
            return stopped(
                kind,
                plan,
                RunbookStatus::Refused,
                "the ticket's contact has no e-mail address, so no user can be matched".into(),
            );
        };
        let user = match self.preflight(tenant, email).await {
            Ok(u) => u,
            Err((status, why)) => return stopped(kind, plan, status, why),
        };
        let started = chrono::Utc::now() - chrono::Duration::seconds(5);
        let password = TemporaryPassword::generate();
        if let Err(e) = self.client.reset_password(tenant, &user.id, &password, true).await {
            return stopped(kind, plan, RunbookStatus::Failed, failed(&e));
        }
        let (status, after, reason) = match self.client.get_user(tenant, user.id.as_str()).await {
            Ok(back) if back.last_password_change_date_time.is_some_and(|at| at >= started) => {
                (RunbookStatus::Verified, facts(&back), None)
            }
            Ok(back) => (
                RunbookStatus::Executed,
                facts(&back),
                Some(
                    "Graph accepted the reset but did not report a new lastPasswordChangeDateTime: check the user"
                        .into(),
                ),
            ),
            Err(e) => (
                RunbookStatus::Executed,
                BTreeMap::new(),
                Some(format!("Graph accepted the reset but the user could not be read back ({e})")),
            ),
        };
        let mut after = after;
        after.insert("forceChangePasswordNextSignIn".into(), "true".into());
        let outcome = RunbookOutcome {
            provider: kind.provider().into(),
            action: kind.as_str().into(),
            plan: plan.into(),
            status,
            before: facts(&user),
            after,
            reason,
        };
        let reply = format!(
            "Hello,\n\nWe reset the password of your account {}. The technician who approved it will give you a temporary password; you will choose a new one when you next sign in. If you did not ask for this, reply to this message straight away.\n\nKind regards,\nThe service desk",
            user.user_principal_name
        );
        RunbookRun { outcome, reply: Some(reply), secret: Some(ShownOnce(password.expose().to_string())) }
    }
}

#[async_trait]
impl Runbooks for GraphRunbooks {
    fn describe(&self, kind: RunbookKind, t: &RunbookTarget<'_>) -> String {
        let who = t.requester_email.unwrap_or("the ticket's contact (no e-mail address)");
        let tenant = match self.tenants.get(&t.ticket.company_id.get()) {
            Some(tenant) => format!("tenant {tenant} of company {}", t.ticket.company_id),
            None => format!("company {} (no tenant mapped: it will be refused)", t.ticket.company_id),
        };
        match kind {
            RunbookKind::GraphResetPassword => format!(
                "Reset the Microsoft 365 password of {who} in {tenant}; require a new one at the next sign-in; show the temporary password once to the approver"
            ),
            RunbookKind::ReplyOnly => "Post the reply; change nothing else".into(),
        }
    }

    async fn run(&self, kind: RunbookKind, t: &RunbookTarget<'_>) -> RunbookRun {
        let plan = self.describe(kind, t);
        match kind {
            RunbookKind::GraphResetPassword => self.reset_password(t, &plan).await,
            RunbookKind::ReplyOnly => {
                stopped(kind, &plan, RunbookStatus::Refused, "reply-only needs no provider".into())
            }
        }
    }
}

/// The Graph runbooks of a `[microsoft]` section, with the client secret's
/// value; `sandbox` (login and Graph base URLs) when the section says
/// "sandbox". Errors: a URL or tenant id that does not parse, in words.
pub fn from_config(
    m: &atpilot_config::MicrosoftConfig,
    client_secret: String,
    sandbox: Option<(&str, &str)>,
) -> Result<GraphRunbooks, String> {
    let (login, graph) = match (m.is_sandbox(), sandbox) {
        (true, Some(urls)) => urls,
        (true, None) => {
            return Err("microsoft.login_url is \"sandbox\": only `atpilot dev` runs the Graph sandbox".into());
        }
        (false, _) => (m.login_url.as_str(), m.graph_url.as_str()),
    };
    let parse = |key: &str, u: &str| url::Url::parse(u).map_err(|e| format!("{key} {u:?} is not a URL: {e}"));
    let cfg = atpilot_graph::GraphConfig::new(
        atpilot_graph::ClientId::new(m.client_id.clone()),
        atpilot_graph::Credential::secret(client_secret),
    )
    .with_base_urls(parse("microsoft.login_url", login)?, parse("microsoft.graph_url", graph)?);
    let client = Client::new(cfg).map_err(|e| format!("the Graph client: {e}"))?;
    let mut tenants = Vec::new();
    for (company, tenant) in &m.tenants {
        let id = company.parse::<i64>().map_err(|_| format!("microsoft.tenants.{company} is not a company id"))?;
        tenants.push((id, TenantId::new(tenant.clone())));
    }
    Ok(GraphRunbooks::new(client, tenants))
}
