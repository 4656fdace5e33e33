//! The runbook port over every configured provider. A webhook runbook goes
//! to the webhooks; a directory runbook (`graph-*`, `google-*`) goes to the
//! ticket contact's directory: Google Workspace when the company has a
//! Workspace customer whose domains include the contact's, else Microsoft
//! 365 when the company has a tenant, and runs there as its twin ([`atpilot_domain::Runbook::in_directory`]).
//! So one category serves a company on either, or both. A provider that is
//! not configured refuses ([`NoRunbooks`]).

use crate::ports::{NoRunbooks, RunbookRun, RunbookTarget, Runbooks, SignedCallback};
use async_trait::async_trait;
use atpilot_domain::{Directory, Runbook, RunbookOutcome, RunbookStatus};
use std::sync::Arc;

/// Graph, Google Workspace and webhook runbooks, each optional.
#[derive(Clone, Default)]
pub struct Providers {
    pub graph: Option<Arc<dyn Runbooks>>,
    pub google: Option<Arc<dyn Runbooks>>,
    pub webhook: Option<Arc<dyn Runbooks>>,
}

/// Where a run goes: the runbook as that provider runs it, or why it cannot.
enum Route<'a> {
    To(&'a dyn Runbooks, Runbook),
    Refused(String),
}

impl Providers {
    fn provider(&self, name: &str) -> &dyn Runbooks {
        let p = match name {
            "graph" => self.graph.as_deref(),
            "google" => self.google.as_deref(),
            "webhook" => self.webhook.as_deref(),
            _ => None,
        };
        p.unwrap_or(&NoRunbooks)
    }

    /// The contact's directory: Google when it serves the contact (the
    /// company's Workspace customer lists the contact's domain), else
    /// Microsoft when it serves the company (a tenant is mapped), else Google
    /// when the company has a Workspace customer at all, else the runbook's
    /// own (the provider chosen then refuses, saying why).
    /// Also says whether that directory serves the contact (else it was chosen only to say why not).
    fn directory(&self, own: Directory, t: &RunbookTarget<'_>) -> (Directory, bool) {
        let serves = |p: &Option<Arc<dyn Runbooks>>| p.as_ref().is_some_and(|p| p.serves(t));
        let knows = |p: &Option<Arc<dyn Runbooks>>| p.as_ref().is_some_and(|p| p.knows_company(t));
        if serves(&self.google) {
            (Directory::Google, true)
        } else if serves(&self.graph) {
            (Directory::Microsoft, true)
        } else if knows(&self.google) {
            (Directory::Google, false)
        } else {
            (own, false)
        }
    }

    fn route(&self, runbook: &Runbook, t: &RunbookTarget<'_>) -> Route<'_> {
        let Some((own, _)) = runbook.kind().directory() else {
            return Route::To(self.provider(runbook.kind().provider()), runbook.clone());
        };
        let (directory, served) = self.directory(own, t);
        match runbook.in_directory(directory) {
            Ok(r) => Route::To(self.provider(directory.provider()), r),
            Err(why) if served => Route::Refused(format!("the contact is a {} user, but {why}", directory.product())),
            Err(_) => Route::Refused(format!(
                "no directory serves the contact: the company is on {}, whose domains do not include the contact's address",
                directory.product()
            )),
        }
    }
}

#[async_trait]
impl Runbooks for Providers {
    fn describe(&self, runbook: &Runbook, t: &RunbookTarget<'_>) -> String {
        match self.route(runbook, t) {
            Route::To(p, r) => p.describe(&r, t),
            Route::Refused(why) => format!("{runbook}: cannot run ({why})"),
        }
    }
    async fn run(&self, runbook: &Runbook, t: &RunbookTarget<'_>) -> RunbookRun {
        match self.route(runbook, t) {
            Route::To(p, r) => p.run(&r, t).await,
            Route::Refused(why) => {
                let plan = self.describe(runbook, t);
                let outcome = RunbookOutcome::stopped(runbook.kind(), plan, RunbookStatus::Refused, why);
                RunbookRun { outcome, reply: None, secret: None }
            }
        }
    }
    fn callback(&self, runbook: &Runbook, plan: &str, s: &SignedCallback<'_>) -> Result<RunbookRun, String> {
        self.provider(runbook.kind().provider()).callback(runbook, plan, s)
    }
}
