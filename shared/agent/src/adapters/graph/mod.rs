//! The runbook port over Microsoft Graph (`atpilot-graph`): the `graph-*`
//! runbooks in each Autotask company's own Microsoft 365 tenant
//! (`[microsoft.tenants]`), for the ticket's contact only. Facts:
//! `../shared/reference/graph-and-identity.md` §3 (each action, "Admin
//! roles") and §6 (traps: the User Administrator role, admin targets,
//! synced users, licences without free units).
//!
//! Every run is refused before anything changes when the company has no
//! tenant, the contact has no address or is not a user of that tenant, the
//! user is disabled, or holds an administrator role (a human acts on those);
//! each action adds its own preflight. After the change the user is read
//! back: the run is verified only when the provider shows the result.
//!
//! * `account`: reset the password, revoke sign-in sessions, remove MFA
//!   methods, turn a disabled sign-in back on;
//! * `access`: assign or remove a licence, add to or remove from a group.

mod access;
mod account;

use super::directory::{Done, reply, stopped};
use crate::ports::{RunbookRun, RunbookTarget, Runbooks};
use async_trait::async_trait;
use atpilot_domain::{Directory, DirectoryAction as A, Runbook, RunbookKind, RunbookStatus};
use atpilot_graph::{Client, GraphError, TenantId, User};
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

fn facts(u: &User) -> BTreeMap<String, String> {
    let mut m = BTreeMap::from([("userPrincipalName".to_string(), u.user_principal_name.clone())]);
    if let Some(e) = u.account_enabled {
        m.insert("accountEnabled".into(), e.to_string());
    }
    if let Some(t) = u.last_password_change_date_time {
        m.insert("lastPasswordChangeDateTime".into(), t.to_rfc3339());
    }
    if let Some(t) = u.sign_in_sessions_valid_from_date_time {
        m.insert("signInSessionsValidFromDateTime".into(), t.to_rfc3339());
    }
    m
}

fn failed(e: &GraphError) -> String {
    format!("Microsoft Graph answered: {e}. Nothing more was done; a technician must finish it by hand")
}

impl GraphRunbooks {
    /// The tenant and user a run may touch, or the run that stopped (nothing changed yet).
    async fn target_user(
        &self,
        kind: RunbookKind,
        t: &RunbookTarget<'_>,
        plan: &str,
    ) -> Result<(TenantId, User), RunbookRun> {
        // Only the enable runbook acts on a disabled account (a human approved it).
        let allow_disabled = kind == RunbookKind::GraphEnableSignIn;
        let refuse = |why: String| stopped(kind, plan, RunbookStatus::Refused, why);
        let Some(tenant) = self.tenants.get(&t.ticket.company_id.get()) else {
            return Err(refuse(format!(
                "company {} has no Microsoft 365 tenant in [microsoft.tenants]: do it by hand, or map the company",
                t.ticket.company_id
            )));
        };
        let Some(email) = t.requester_email else {
            return Err(refuse("the ticket's contact has no e-mail address, so no user can be matched".into()));
        };
        let user = match self.client.find_user_by_address(tenant, email).await {
            Ok(Some(u)) => u,
            Ok(None) => {
                return Err(refuse(format!(
                    "{email} is not a user of the company's own Microsoft 365 tenant: atpilot never acts across tenants"
                )));
            }
            Err(e) => return Err(stopped(kind, plan, RunbookStatus::Failed, failed(&e))),
        };
        let upn = &user.user_principal_name;
        if user.user_type.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("guest")) {
            return Err(refuse(format!(
                "{upn} is a guest (B2B) account of another organisation: atpilot acts only on the tenant's own members"
            )));
        }
        if user.account_enabled == Some(false) && !allow_disabled {
            return Err(refuse(format!("{upn} is disabled: a technician decides whether to enable it")));
        }
        match self.client.user_directory_roles(tenant, &user.id).await {
            Ok(roles) if atpilot_graph::is_admin(&roles) => {
                let names: Vec<String> = roles.iter().filter_map(|r| r.display_name.clone()).collect();
                Err(refuse(format!(
                    "{upn} holds an administrator role ({}): a technician does this by hand",
                    names.join(", ")
                )))
            }
            Ok(_) => Ok((tenant.clone(), user)),
            Err(e) => Err(stopped(kind, plan, RunbookStatus::Failed, failed(&e))),
        }
    }
}

#[async_trait]
impl Runbooks for GraphRunbooks {
    fn describe(&self, runbook: &Runbook, t: &RunbookTarget<'_>) -> String {
        let who = t.requester_email.unwrap_or("the ticket's contact (no e-mail address)");
        let tenant = match self.tenants.get(&t.ticket.company_id.get()) {
            Some(tenant) => format!("tenant {tenant} of company {}", t.ticket.company_id),
            None => format!("company {} (no tenant mapped: it will be refused)", t.ticket.company_id),
        };
        let p = runbook.parameter().unwrap_or_default();
        let Some((Directory::Microsoft, action)) = runbook.kind().directory() else {
            return format!("{runbook}: not a Graph runbook");
        };
        match action {
            A::ResetPassword => format!(
                "Reset the Microsoft 365 password of {who} in {tenant}; require a new one at the next sign-in; show the temporary password once to the approver"
            ),
            A::SignOut => {
                format!("Sign {who} out of every Microsoft 365 session in {tenant} (revoke sign-in sessions)")
            }
            A::ResetMfa => format!(
                "Remove the registered MFA methods of {who} in {tenant}, so they register again at the next sign-in"
            ),
            A::AssignLicense => format!(
                "Assign a {p} licence to {who} in {tenant}, if a seat is free (else escalate with the shortfall)"
            ),
            A::AddGroupMember => format!("Add {who} to the group {p} in {tenant}"),
            A::RemoveLicense => format!("Remove the {p} licence of {who} in {tenant}"),
            A::RemoveGroupMember => format!("Remove {who} from the group {p} in {tenant}"),
            A::EnableSignIn => format!("Turn the sign-in of {who} back on in {tenant}"),
        }
    }

    /// The company has a tenant (any contact address is matched in it).
    fn serves(&self, t: &RunbookTarget<'_>) -> bool {
        self.tenants.contains_key(&t.ticket.company_id.get())
    }

    async fn run(&self, runbook: &Runbook, t: &RunbookTarget<'_>) -> RunbookRun {
        let plan = self.describe(runbook, t);
        let kind = runbook.kind();
        let Some((Directory::Microsoft, action)) = kind.directory() else {
            let why = format!("{kind} is not a Graph runbook");
            return stopped(kind, &plan, RunbookStatus::Refused, why);
        };
        let (tenant, user) = match self.target_user(kind, t, &plan).await {
            Ok(found) => found,
            Err(run) => return run,
        };
        let p = runbook.parameter().unwrap_or_default();
        let done = match action {
            A::ResetPassword => return self.reset_password(&tenant, user, &plan).await,
            A::SignOut => self.revoke_sessions(&tenant, user).await,
            A::ResetMfa => self.reset_mfa(&tenant, user).await,
            A::AssignLicense => self.assign_license(&tenant, user, p).await,
            A::AddGroupMember => self.group_membership(&tenant, user, p, true).await,
            A::RemoveGroupMember => self.group_membership(&tenant, user, p, false).await,
            A::RemoveLicense => self.remove_license(&tenant, user, p).await,
            A::EnableSignIn => self.enable_sign_in(&tenant, user).await,
        };
        match done {
            Ok(d) => d.into_run(kind, &plan),
            Err((status, why)) => stopped(kind, &plan, status, why),
        }
    }
}

/// The Graph runbooks of a `[microsoft]` section, with the stored secret's
/// value (a client secret, or a PEM bundle of the certificate and its private
/// key: [`atpilot_graph::Credential::from_secret_value`]); `sandbox` (login
/// and Graph base URLs) when the section says "sandbox". Errors: a URL,
/// tenant id or certificate that does not parse, in words.
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
    let credential = atpilot_graph::Credential::from_secret_value(&client_secret)
        .map_err(|e| format!("the Graph app credential: {e}"))?;
    let cfg = atpilot_graph::GraphConfig::new(atpilot_graph::ClientId::new(m.client_id.clone()), credential)
        .with_base_urls(parse("microsoft.login_url", login)?, parse("microsoft.graph_url", graph)?);
    let client = Client::new(cfg).map_err(|e| format!("the Graph client: {e}"))?;
    let mut tenants = Vec::new();
    for (company, tenant) in &m.tenants {
        let id = company.parse::<i64>().map_err(|_| format!("microsoft.tenants.{company} is not a company id"))?;
        tenants.push((id, TenantId::new(tenant.clone())));
    }
    Ok(GraphRunbooks::new(client, tenants))
}
