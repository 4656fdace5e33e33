//! The runbooks' and replies' part of a configuration check: how customers
//! hear of replies (and that completing fires the tenant's rules), each provider's secret is
//! where the configuration says (locally: its environment variable), and,
//! against the tenant, which active companies have neither a Microsoft 365
//! tenant nor a Google Workspace customer mapped (their `graph-*` and
//! `google-*` tickets are refused and escalated).

use super::{ConfigReport, few};
use atpilot_autotask::{Client, Filter, Query};
use atpilot_config::Config;
use atpilot_domain::RunbookKind;
use serde_json::Value;
use std::collections::BTreeSet;

/// The categories whose runbook changes a directory account (`graph-*`, `google-*`).
fn directory_categories(config: &Config) -> Vec<String> {
    config
        .categories
        .iter()
        .filter(|(_, c)| c.runbook.as_ref().is_some_and(|r| r.kind().directory().is_some()))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Secrets named by `[microsoft]` and `[webhooks]` (checked only for a `remote` run, as the Autotask ones).
pub(super) fn offline(config: &Config, env: &dyn Fn(&str) -> Option<String>, remote: bool, r: &mut ConfigReport) {
    let set = |var: &str| env(var).is_some_and(|v| !v.trim().is_empty());
    if let Some(m) = config.microsoft.as_ref().filter(|m| remote && !m.is_sandbox()) {
        let key = "microsoft.client_secret_env";
        if set(&m.client_secret_env) {
            r.ok_(key, &m.client_secret_env, "set");
        } else {
            let fix = format!("export {} (the app registration's client secret value)", m.client_secret_env);
            r.error(key, &m.client_secret_env, "the environment variable is not set", None, &fix);
        }
    }
    if let Some(g) = config.google.as_ref().filter(|g| remote && !g.is_sandbox()) {
        let key = "google.service_account_env";
        match env(&g.service_account_env)
            .map(|v| atpilot_google::ServiceAccountKey::from_json(&v).map_err(|e| e.to_string()))
        {
            Some(Ok(k)) => r.ok_(key, &g.service_account_env, format!("a service account key for {}", k.client_email)),
            Some(Err(e)) => {
                let fix = "export the JSON key file's contents (IAM > Service accounts > Keys > Add key > JSON)";
                r.error(key, &g.service_account_env, format!("not a service account key: {e}"), None, fix);
            }
            None => {
                let fix =
                    format!("export {}=\"$(cat key.json)\" (the service account's JSON key)", g.service_account_env);
                r.error(key, &g.service_account_env, "the environment variable is not set", None, &fix);
            }
        }
    }
    if config.google.is_some() {
        google_twins(config, r);
    }
    for (name, w) in config.webhooks.iter().filter(|_| remote) {
        let key = format!("webhooks.{name}.secret_env");
        if set(&w.secret_env) {
            r.ok_(key, &w.secret_env, "set");
        } else {
            let fix = format!("export {} (the secret shared with the webhook's receiver)", w.secret_env);
            r.error(key, &w.secret_env, "the environment variable is not set", None, &fix);
        }
    }
    let completing = "; completing a ticket fires the tenant's completion workflow rules and surveys";
    match (config.replies.rule(), config.replies.email) {
        (_, true) => r.ok_("replies", "email", format!("replies are e-mailed to the ticket's contact (SES){completing}")),
        (Some(rule), false) => r.ok_(
            "replies",
            "workflow-rule",
            format!(
                "replies rely on the tenant workflow rule {rule:?} to notify the contact (the API cannot check it: make sure it exists and is active){completing}"
            ),
        ),
        (None, false) => r.warn(
            "replies",
            "(none)",
            format!("an API-created note notifies nobody: customers may never see atpilot's replies{completing}"),
            "set [replies] email = true, or workflow_rule = \"<the rule that notifies contacts of new notes>\"",
        ),
    }
    let hooks: BTreeSet<&str> = config
        .categories
        .values()
        .filter_map(|c| c.runbook.as_ref().filter(|r| r.kind() == RunbookKind::Webhook).and_then(|r| r.parameter()))
        .collect();
    for unused in config.webhooks.keys().filter(|n| !hooks.contains(n.as_str())) {
        r.warn(
            format!("webhooks.{unused}"),
            unused,
            "no category uses it",
            "remove it, or name it in a category's `webhook`",
        );
    }
}

/// Active companies with neither a tenant in `[microsoft.tenants]` nor a
/// customer in `[google.customers]`, when a category uses a directory runbook.
pub(super) async fn check_tenant_mappings(client: &Client, config: &Config, r: &mut ConfigReport) {
    let categories = directory_categories(config);
    let (m, g) = (config.microsoft.as_ref(), config.google.as_ref());
    if categories.is_empty() || (m.is_none() && g.is_none()) {
        return;
    }
    let key = if m.is_some() { "microsoft.tenants" } else { "google.customers" };
    let sandbox = m.is_none_or(|m| m.is_sandbox() && m.tenants.is_empty())
        && g.is_none_or(|g| g.is_sandbox() && g.customers.is_empty());
    if sandbox {
        r.ok_(key, "(sandbox)", "`atpilot dev` maps the sandbox companies to its Graph tenants and Google customer");
        return;
    }
    let mapped =
        |id: i64| m.is_some_and(|m| m.tenant_of(id).is_some()) || g.is_some_and(|g| g.customer_of(id).is_some());
    let count = m.map_or(0, |m| m.tenants.len()) + g.map_or(0, |g| g.customers.len());
    let q = match Query::new().filter(Filter::eq("isActive", true)).include(["id", "companyName"]).max_records(500) {
        Ok(q) => q,
        Err(e) => return r.warn(key, "(companies)", format!("cannot query companies: {e}"), super::UNREADABLE),
    };
    let page = match client.query_page("Companies", &q).await {
        Ok(p) => p,
        Err(e) => {
            return r.warn(key, "(companies)", format!("the companies could not be read: {e}"), super::UNREADABLE);
        }
    };
    let unmapped: Vec<String> = page
        .items
        .iter()
        .filter_map(|c| {
            // Company 0 is the MSP itself (the tenant's owner company), not a customer.
            let id = c.get("id").and_then(Value::as_i64).filter(|id| *id != 0)?;
            let name = c.get("companyName").and_then(Value::as_str).unwrap_or_default();
            (!mapped(id)).then(|| format!("{id} {}", atpilot_domain::untrusted::one_line(name)))
        })
        .collect();
    if unmapped.is_empty() {
        r.ok_(key, count, "every active company has a Microsoft 365 tenant or a Google Workspace customer");
    } else {
        r.warn(
            key,
            format!("{count} mapped"),
            format!(
                "{} active companies have neither a Microsoft 365 tenant nor a Google Workspace customer, so their {} tickets are refused and escalated: {}",
                unmapped.len(),
                categories.join(", "),
                few(unmapped).unwrap_or_default()
            ),
            "add `<company id> = \"<tenant id>\"` under [microsoft.tenants] for each customer on Microsoft 365, or [google.customers.<company id>] for each on Google Workspace",
        );
    }
}

/// `graph-*` categories whose Google twin could not run for the company's
/// Google Workspace users: refused only after someone approved.
fn google_twins(config: &Config, r: &mut ConfigReport) {
    for (name, c) in &config.categories {
        let Some(rb) = &c.runbook else { continue };
        let p = rb.parameter().unwrap_or_default();
        match rb.kind() {
            RunbookKind::GraphAssignLicense | RunbookKind::GraphRemoveLicense if rb.google_sku().is_none() => r.warn(
                format!("categories.{name}.google_sku"),
                "(none)",
                "names no Google SKU: licence tickets of Google Workspace users are refused (after approval)",
                "set google_sku = \"productId/skuId\" beside sku, e.g. \"Google-Apps/1010020027\"",
            ),
            RunbookKind::GraphAddGroupMember | RunbookKind::GraphRemoveGroupMember if !p.contains('@') => r.warn(
                format!("categories.{name}.group"),
                p,
                "is not a group address: group tickets of Google Workspace users are refused (after approval)",
                "name the group by its address (Graph finds it by address too)",
            ),
            _ => {}
        }
    }
}
