//! The runbooks' providers of a local run: with `[microsoft]` and "sandbox"
//! URLs, the Graph sandbox seeded with a tenant per company of the Autotask
//! sandbox (its contacts are the tenant's users), every company mapped to
//! its tenant unless the configuration maps them itself; with real URLs, the
//! client secret from the variable `microsoft.client_secret_env` names.
//! With `[webhooks]`, each webhook's secret from its `secret_env`.

use crate::LocalError;
use atpilot_agent::adapters::runbooks::Providers;
use atpilot_agent::ports::Runbooks;
use atpilot_config::Config;
use std::sync::Arc;

type Started = (Option<Arc<atpilot_graph_sandbox::Sandbox>>, Arc<dyn Runbooks>);
type Graph = (Option<Arc<atpilot_graph_sandbox::Sandbox>>, Option<Arc<dyn Runbooks>>);

/// Starts what `config` needs (and fills the sandbox's tenants into it).
pub(crate) async fn start(config: &mut Config, autotask_seed: Option<u64>) -> Result<Started, LocalError> {
    let (sandbox, graph) = graph(config, autotask_seed).await?;
    let webhook: Option<Arc<dyn Runbooks>> = if config.webhooks.is_empty() {
        None
    } else {
        let url = atpilot_agent::handlers::runbook_callback::callback_url(config);
        let hooks =
            atpilot_agent::adapters::webhook::from_config(&config.webhooks, |_, env| std::env::var(env).ok(), url)
                .map_err(LocalError::Runbooks)?;
        Some(Arc::new(hooks))
    };
    Ok((sandbox, Arc::new(Providers { graph, webhook })))
}

async fn graph(config: &mut Config, autotask_seed: Option<u64>) -> Result<Graph, LocalError> {
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
        m.tenants = sb.tenants().into_iter().map(|(tenant, _, company, _)| (company.to_string(), tenant)).collect();
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
