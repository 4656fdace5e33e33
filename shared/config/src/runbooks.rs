//! Runbooks in the configuration: each category's `runbook` with its
//! parameter (`sku`, `group` or `webhook`), and `[webhooks.NAME]`, the
//! signed webhook runbooks' endpoints.
//!
//! ```toml
//! [categories.license-request]
//! phase = "human-in-the-loop"
//! runbook = "graph-assign-license"
//! sku = "SPE_E3"                      # the SKU part number (subscribedSkus' skuPartNumber)
//! google_sku = "Google-Apps/1010020027"  # optional: productId/skuId for the company's Google Workspace users
//! [categories.app-access]
//! runbook = "webhook"
//! webhook = "rewst"
//! [webhooks.rewst]
//! url = "https://hooks.example/atpilot"   # https; the job is POSTed here
//! secret_env = "ATPILOT_WEBHOOK_REWST_SECRET"  # locally; in AWS: RUNBOOK_WEBHOOK_SECRETS_ARN (JSON name → secret)
//! ```

use crate::{CategoryConfig, ConfigError, GoogleConfig, MicrosoftConfig, invalid};
use atpilot_domain::{Category, Directory, Phase, Runbook, RunbookKind};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One signed webhook runbook endpoint (`[webhooks.NAME]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Where the job is POSTed: https (or http on 127.0.0.1 for local test doubles).
    pub url: String,
    /// Locally: the environment variable holding the HMAC-SHA256 shared secret.
    pub secret_env: String,
    /// How long an accepted job may wait for its callback before it is reported failed (minutes).
    #[serde(default = "d_callback_minutes")]
    pub callback_timeout_minutes: u32,
}

fn d_callback_minutes() -> u32 {
    24 * 60
}

/// The runbook fields of a `[categories.X]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawRunbook {
    pub runbook: Option<RunbookKind>,
    pub sku: Option<String>,
    pub google_sku: Option<String>,
    pub group: Option<String>,
    pub webhook: Option<String>,
}

impl RawRunbook {
    /// The category's runbook with its one parameter. Errors name the key.
    pub(crate) fn parse(self, category: &Category) -> Result<Option<Runbook>, ConfigError> {
        let key = format!("categories.{category}");
        let given: Vec<(&str, String)> = [("sku", self.sku), ("group", self.group), ("webhook", self.webhook)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        let Some(kind) = self.runbook else {
            return match given.first() {
                Some((k, _)) => Err(invalid(format!("{key}.{k}"), "is set without a runbook", "set `runbook` too")),
                None => Ok(None),
            };
        };
        let mut parameter = None;
        for (k, v) in given {
            if Some(k) != kind.parameter() {
                return Err(invalid(
                    format!("{key}.{k}"),
                    format!("does not apply to runbook {kind}"),
                    match kind.parameter() {
                        Some(p) => format!("{kind} takes `{p}`"),
                        None => format!("{kind} takes no parameter: remove `{k}`"),
                    },
                ));
            }
            parameter = Some(v);
        }
        let runbook = Runbook::new(kind, parameter)
            .map_err(|e| invalid(format!("{key}.runbook"), e, "add the parameter (see the example configuration)"))?;
        match self.google_sku {
            None => Ok(Some(runbook)),
            Some(g) => runbook.with_google_sku(g).map(Some).map_err(|e| {
                invalid(
                    format!("{key}.google_sku"),
                    e,
                    "set it beside `sku` on a graph-*-license runbook, or remove it",
                )
            }),
        }
    }
}

/// The runbook kind the decision rules see for a category: its own, or the
/// twin in a configured directory that needs a human (a Google group add for
/// a `graph-add-group-member` category), so that no phase set later (the
/// dashboard, `atpilot phase set`, a weekly promotion) lets that twin run
/// without one.
pub(crate) fn policy_kind(kind: RunbookKind, microsoft: bool, google: bool) -> RunbookKind {
    [(Directory::Microsoft, microsoft), (Directory::Google, google)]
        .into_iter()
        .filter(|(_, on)| *on)
        .filter_map(|(d, _)| kind.in_directory(d))
        .find(|k| *k != kind && k.needs_human() && !kind.needs_human())
        .unwrap_or(kind)
}

pub(crate) fn validate_webhooks(webhooks: &BTreeMap<String, WebhookConfig>) -> Result<(), ConfigError> {
    for (name, w) in webhooks {
        let local = w.url.starts_with("http://127.0.0.1") || w.url.starts_with("http://localhost");
        if !(w.url.starts_with("https://") || local) || url::Url::parse(&w.url).is_err() {
            return Err(invalid(
                format!("webhooks.{name}.url"),
                format!("{:?} is not an https URL", w.url),
                "the job carries ticket data: use https",
            ));
        }
        if w.secret_env.trim().is_empty() {
            return Err(invalid(
                format!("webhooks.{name}.secret_env"),
                "is empty",
                "name the environment variable that holds the shared secret",
            ));
        }
    }
    Ok(())
}

/// Each runbook's provider is configured, and runbooks that hand their
/// result to a human are never autonomous.
pub(crate) fn validate_runbooks(
    categories: &BTreeMap<Category, CategoryConfig>,
    microsoft: Option<&MicrosoftConfig>,
    google: Option<&GoogleConfig>,
    webhooks: &BTreeMap<String, WebhookConfig>,
) -> Result<(), ConfigError> {
    for (name, c) in categories {
        let Some(runbook) = &c.runbook else { continue };
        let kind = runbook.kind();
        let directory = kind.directory().map(|(d, _)| d);
        if directory == Some(Directory::Microsoft) && microsoft.is_none() {
            return Err(invalid(
                format!("categories.{name}.runbook"),
                format!("is {kind} but there is no [microsoft] section"),
                "add [microsoft] with the app registration's client_id and [microsoft.tenants] mapping each Autotask company to its tenant (see the example configuration)",
            ));
        }
        if directory == Some(Directory::Google) && google.is_none() {
            return Err(invalid(
                format!("categories.{name}.runbook"),
                format!("is {kind} but there is no [google] section"),
                "add [google] with [google.customers.<company id>] mapping each Autotask company to its Workspace customer (see the example configuration)",
            ));
        }
        let google_licence = directory == Some(Directory::Google) && kind.parameter() == Some("sku");
        let google_sku = match (runbook.google_sku(), google_licence) {
            (Some(sku), _) => Some(("google_sku", sku)),
            (None, true) => runbook.parameter().map(|p| ("sku", p)),
            (None, false) => None,
        };
        if let Some((k, sku)) = google_sku {
            // The rule atpilot-google's `Sku` parses by: two non-empty parts, no spaces, one `/`.
            let part = |x: &str| !x.is_empty() && !x.contains('/') && !x.chars().any(char::is_whitespace);
            if sku.trim().split_once('/').is_none_or(|(p, s)| !part(p) || !part(s)) {
                return Err(invalid(
                    format!("categories.{name}.{k}"),
                    format!("{sku:?} is not productId/skuId"),
                    "e.g. \"Google-Apps/1010020027\" (Business Starter)",
                ));
            }
        }
        if kind == RunbookKind::Webhook {
            let hook = runbook.parameter().unwrap_or_default();
            if !webhooks.contains_key(hook) {
                return Err(invalid(
                    format!("categories.{name}.webhook"),
                    format!("names {hook:?}, which is not in [webhooks]"),
                    format!("add [webhooks.{hook}] with its url and secret_env"),
                ));
            }
        }
        // Its own runbook, or the twin that runs for the other configured directory's users.
        let configured = [(Directory::Microsoft, microsoft.is_some()), (Directory::Google, google.is_some())];
        let runs_as = std::iter::once(kind)
            .chain(configured.into_iter().filter(|(_, on)| *on).filter_map(|(d, _)| kind.in_directory(d)));
        let human = runs_as.into_iter().find_map(|k| k.why_human().map(|why| (k, why)));
        if let Some((k, why)) = human.filter(|_| c.phase == Phase::Autonomous) {
            let runs_as = match k.directory() {
                Some((d, _)) if k != kind => format!("for {} users {kind} runs as {k}, which", d.product()),
                _ => k.to_string(),
            };
            return Err(invalid(
                format!("categories.{name}.phase"),
                format!("is autonomous but {runs_as} {why}"),
                "use human-in-the-loop for this category",
            ));
        }
        let google_group = matches!(kind, RunbookKind::GoogleAddGroupMember | RunbookKind::GoogleRemoveGroupMember);
        let address =
            |g: &str| g.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'));
        if let Some(group) = runbook.parameter().filter(|g| google_group && !address(g)) {
            return Err(invalid(
                format!("categories.{name}.group"),
                format!("{group:?} is not a group address, which Google Workspace needs"),
                "name the group by its address, e.g. \"staff@customer.example\"",
            ));
        }
    }
    Ok(())
}
