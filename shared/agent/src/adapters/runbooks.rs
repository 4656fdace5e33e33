//! The runbook port over every configured provider: each runbook goes to
//! its provider ([`atpilot_domain::RunbookKind::provider`]); a provider that
//! is not configured refuses ([`NoRunbooks`]).

use crate::ports::{NoRunbooks, RunbookRun, RunbookTarget, Runbooks, SignedCallback};
use async_trait::async_trait;
use atpilot_domain::Runbook;
use std::sync::Arc;

/// Graph and webhook runbooks, each optional.
#[derive(Clone, Default)]
pub struct Providers {
    pub graph: Option<Arc<dyn Runbooks>>,
    pub webhook: Option<Arc<dyn Runbooks>>,
}

impl Providers {
    fn of(&self, runbook: &Runbook) -> &dyn Runbooks {
        let p = match runbook.kind().provider() {
            "graph" => self.graph.as_deref(),
            "webhook" => self.webhook.as_deref(),
            _ => None,
        };
        p.unwrap_or(&NoRunbooks)
    }
}

#[async_trait]
impl Runbooks for Providers {
    fn describe(&self, runbook: &Runbook, t: &RunbookTarget<'_>) -> String {
        self.of(runbook).describe(runbook, t)
    }
    async fn run(&self, runbook: &Runbook, t: &RunbookTarget<'_>) -> RunbookRun {
        self.of(runbook).run(runbook, t).await
    }
    fn callback(&self, runbook: &Runbook, plan: &str, s: &SignedCallback<'_>) -> Result<RunbookRun, String> {
        self.of(runbook).callback(runbook, plan, s)
    }
}
