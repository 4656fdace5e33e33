//! The runbooks' providers of a local run: with `[microsoft]` and "sandbox"
//! URLs, the Graph sandbox seeded with a tenant per company of the Autotask
//! sandbox (its contacts are the tenant's users), every company mapped to
//! its tenant unless the configuration maps them itself; with real URLs, the
//! client secret from the variable `microsoft.client_secret_env` names.
//! With `[google]` and "sandbox" URLs, the Google Admin sandbox with one
//! Workspace customer: a company of the Autotask sandbox other than the
//! recurring-contract one the demo opens with ([`google_demo_company`]),
//! its contacts the customer's users, mapped to that company and no longer
//! to a Microsoft tenant (its domain is Google's), and a second customer
//! mapped to no company ([`OTHER_GOOGLE_DOMAIN`]); with real URLs, the
//! service account's JSON key from the variable `google.service_account_env` names.
//! With `[webhooks]`, each webhook's secret from its `secret_env`.

use crate::LocalError;
use atpilot_agent::adapters::runbooks::Providers;
use atpilot_agent::ports::Runbooks;
use atpilot_autotask_sandbox::Sandbox;
use atpilot_config::Config;
use std::sync::Arc;

type Graph = (Option<Arc<atpilot_graph_sandbox::Sandbox>>, Option<Arc<dyn Runbooks>>);
type Google = (Option<Arc<atpilot_google_sandbox::Sandbox>>, Option<Arc<dyn Runbooks>>);

/// The providers of a local run, with the sandboxes started for them.
pub(crate) struct Started {
    pub graph: Option<Arc<atpilot_graph_sandbox::Sandbox>>,
    pub google: Option<Arc<atpilot_google_sandbox::Sandbox>>,
    pub runbooks: Arc<dyn Runbooks>,
}

/// Starts what `config` needs (and fills the sandboxes' tenants and customers into it).
pub(crate) async fn start(config: &mut Config, autotask: Option<&Sandbox>) -> Result<Started, LocalError> {
    let autotask_seed = autotask.map(|sb| sb.config().seed);
    let google_company = autotask.and_then(google_demo_company);
    let (google_sb, google) = google(config, autotask_seed, google_company).await?;
    let (sandbox, graph) = graph(config, autotask_seed, google_company.filter(|_| google_sb.is_some())).await?;
    let webhook: Option<Arc<dyn Runbooks>> = if config.webhooks.is_empty() {
        None
    } else {
        let url = atpilot_agent::handlers::runbook_callback::callback_url(config);
        let hooks =
            atpilot_agent::adapters::webhook::from_config(&config.webhooks, |_, env| std::env::var(env).ok(), url)
                .map_err(LocalError::Runbooks)?;
        Some(Arc::new(hooks))
    };
    Ok(Started { graph: sandbox, google: google_sb, runbooks: Arc::new(Providers { graph, google, webhook }) })
}

/// The Autotask sandbox company the local Google Workspace customer stands
/// for: the company of the second recurring contract whose company differs
/// from the first's (the tests' and the demo's Microsoft 365 customer).
pub fn google_demo_company(sb: &Sandbox) -> Option<i64> {
    let facts = sb.facts();
    let contracts = facts.contracts_by_type.get(&atpilot_autotask_sandbox::tenant::CT_RECURRING)?;
    let company = |c: &i64| sb.row("Contracts", *c).and_then(|r| r["companyID"].as_i64());
    let first = contracts.first().and_then(company)?;
    contracts.iter().filter_map(company).find(|c| *c != first && sb.contacts_of(*c).len() >= 3)
}

/// The local Google sandbox's second customer (no Autotask company): its id and domain.
pub const OTHER_GOOGLE_COMPANY: i64 = 990_001;
pub const OTHER_GOOGLE_DOMAIN: &str = "other-customer.example";

fn other_contacts() -> Vec<(String, String, String)> {
    vec![("Olive".into(), "Other".into(), format!("olive@{OTHER_GOOGLE_DOMAIN}"))]
}

async fn google(config: &mut Config, autotask_seed: Option<u64>, company: Option<i64>) -> Result<Google, LocalError> {
    let Some(g) = config.google.as_mut() else { return Ok((None, None)) };
    if !g.is_sandbox() {
        let key = std::env::var(&g.service_account_env).map_err(|_| {
            LocalError::Runbooks(format!(
                "{} is not set: it holds the Google service account's JSON key",
                g.service_account_env
            ))
        })?;
        let google = atpilot_agent::adapters::google::from_config(g, &key, None).map_err(LocalError::Runbooks)?;
        return Ok((None, Some(Arc::new(google))));
    }
    let (Some(seed), Some(company)) = (autotask_seed, company) else {
        return Err(LocalError::Runbooks(
            "google URLs are \"sandbox\" but Autotask is a real tenant (or has no second customer): use real URLs"
                .into(),
        ));
    };
    let contacts = atpilot_graph_sandbox::seed::autotask_companies(seed)
        .into_iter()
        .find(|c| c.company_id == company)
        .map(|c| c.contacts)
        .unwrap_or_default();
    let domain = atpilot_graph_sandbox::seed::domain_for(company);
    let customer = atpilot_google_sandbox::Seed::customer(company, &domain, contacts);
    // Another MSP customer on Google, mapped to no company: its users are never atpilot's to touch.
    let other = atpilot_google_sandbox::Seed::customer(OTHER_GOOGLE_COMPANY, OTHER_GOOGLE_DOMAIN, other_contacts());
    let sb = atpilot_google_sandbox::start(atpilot_google_sandbox::Seed::for_companies(&[customer, other]))
        .await
        .map_err(|e| LocalError::Runbooks(format!("cannot start the Google sandbox: {e}")))?;
    if g.customers.is_empty() {
        for c in sb.customers().into_iter().filter(|c| c.company_id == company) {
            let mapped =
                atpilot_config::GoogleCustomer { customer_id: c.customer_id, admin: c.admin, domains: vec![c.domain] };
            g.customers.insert(c.company_id.to_string(), mapped);
        }
    }
    let urls = (sb.token_url(), sb.directory_base(), sb.licensing_base());
    let google = atpilot_agent::adapters::google::from_config(
        g,
        &sb.service_account_json(),
        Some((urls.0.as_str(), urls.1.as_str(), urls.2.as_str())),
    )
    .map_err(LocalError::Runbooks)?;
    tracing::info!(directory = %urls.1, customers = g.customers.len(), "Google Admin sandbox started for the [google] runbooks");
    Ok((Some(Arc::new(sb)), Some(Arc::new(google))))
}

/// The Graph runbooks; on the sandbox every company has a tenant but `on_google` (its domain is Google's).
async fn graph(config: &mut Config, autotask_seed: Option<u64>, on_google: Option<i64>) -> Result<Graph, LocalError> {
    let Some(m) = config.microsoft.as_mut() else { return Ok((None, None)) };
    if !m.is_sandbox() {
        let secret = std::env::var(&m.client_secret_env).map_err(|_| {
            LocalError::Runbooks(format!(
                "{} is not set: it holds the Graph app registration's client secret value",
                m.client_secret_env
            ))
        })?;
        let graph = atpilot_agent::adapters::graph::from_config(m, secret, None).map_err(LocalError::Runbooks)?;
        return Ok((None, Some(Arc::new(graph))));
    }
    let seed = autotask_seed.ok_or_else(|| {
        LocalError::Runbooks("microsoft.login_url is \"sandbox\" but Autotask is a real tenant: use real URLs".into())
    })?;
    let sb = atpilot_graph_sandbox::start(atpilot_graph_sandbox::Seed::demo_for_autotask_seed(seed))
        .await
        .map_err(|e| LocalError::Runbooks(format!("cannot start the Graph sandbox: {e}")))?;
    if m.tenants.is_empty() {
        m.tenants = sb
            .tenants()
            .into_iter()
            .filter(|(_, _, company, _)| Some(*company) != on_google)
            .map(|(tenant, _, company, _)| (company.to_string(), tenant))
            .collect();
    }
    m.client_id = sb.client_id().to_string();
    let urls = (sb.login_base(), sb.graph_base());
    let graph = atpilot_agent::adapters::graph::from_config(
        m,
        atpilot_graph_sandbox::CLIENT_SECRET.to_string(),
        Some((urls.0.as_str(), urls.1.as_str())),
    )
    .map_err(LocalError::Runbooks)?;
    tracing::info!(graph = %urls.1, tenants = m.tenants.len(), "Graph sandbox started for the [microsoft] runbooks");
    Ok((Some(Arc::new(sb)), Some(Arc::new(graph))))
}
