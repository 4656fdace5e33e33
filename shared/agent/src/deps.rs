//! What every handler gets: adapters behind ports, and the configuration.

use crate::adapters::notify::Notifier;
use crate::ports::{Autotask, TicketClassifier};
use atpilot_config::Config;
use atpilot_store::{Queue, State};
use std::sync::Arc;

/// A secret byte string whose `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(Arc<Vec<u8>>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Arc::new(bytes.into()))
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The wiring of one process (a Lambda container, or `atpilot dev`).
#[derive(Clone)]
pub struct Deps {
    pub config: Arc<Config>,
    pub state: State,
    pub autotask: Arc<dyn Autotask>,
    /// The model: local, or local checked against an LLM.
    pub classifier: Arc<dyn TicketClassifier>,
    /// intake → classify (FIFO, one group per ticket).
    pub classify_queue: Arc<dyn Queue>,
    /// classify/approval → time-entry.
    pub time_entry_queue: Arc<dyn Queue>,
    /// The TicketWebhook's secret key (HMAC-SHA1 of callouts).
    pub webhook_secret: Secret,
    /// E-mail and Teams (an outbox locally).
    pub notifier: Arc<dyn Notifier>,
    /// Signs approval links (HMAC-SHA256).
    pub approval_key: Secret,
    /// The pages require a person signed in with the MSP's OpenID provider:
    /// approval messages carry one Review link (no per-approver links), and
    /// who decides is the signed-in person.
    pub signin: bool,
    /// The runbooks' providers (Graph…); [`crate::ports::NoRunbooks`] when none is configured.
    pub runbooks: Arc<dyn crate::ports::Runbooks>,
    /// Where the dashboard is, for the approval pages' navigation: `""` when
    /// they share its origin (`atpilot dev`), its Function URL deployed
    /// (`DASHBOARD_URL`); `None`: the approval pages show no navigation.
    pub dashboard_url: Option<String>,
    /// The knowledge base completed tickets are drafted into (`[kb]`); `None`:
    /// drafts stay on the dashboard.
    pub kb: Option<Arc<dyn atpilot_kb::KnowledgeBase>>,
}

impl Deps {
    /// Resources whose changes are the agent's own (loop guard): the agent
    /// resource, the resource it impersonates and the API user itself.
    pub fn own_resources(&self) -> Vec<i64> {
        let mut v = vec![self.config.agent.resource_id.get()];
        for r in [self.config.autotask.impersonation_resource_id, self.config.autotask.api_user_resource_id]
            .into_iter()
            .flatten()
        {
            v.push(r.get());
        }
        v
    }
}
