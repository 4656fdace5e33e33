//! One check of a configuration against what it names: the Autotask tenant
//! it targets (agent resource and role, billing codes, statuses, the note
//! publish value the agent writes, the picklist values its models predict),
//! the model files, and the environment variables that hold its secrets.
//! `atpilot config check --against`, `atpilot dev` and `atpilot setup` all
//! run it; nothing is called valid that was not looked up. Each finding names
//! the key, the value, what the target has instead and the fix; a check that
//! could not be made (e.g. no permission to read an entity) is a warning,
//! never silence.

use crate::classifiers::model::{category_slug, picklist_value};
use atpilot_autotask::entities::{BillingCode, Resource, ResourceRole, Role};
use atpilot_autotask::{Client, Entity, Filter, Query};
use atpilot_config::Config;
use serde_json::Value;
use std::collections::BTreeSet;

mod report;
mod runbooks;
mod tenant_rules;
pub use report::{ConfigReport, Finding, Level};

/// How many alternatives a finding lists ("what the target has instead").
const A_FEW: usize = 5;

/// "a, b, c and more (N in all)" of at most [`A_FEW`] of `items` (all of them).
fn few(items: Vec<String>) -> Option<String> {
    let n = items.len();
    first_few(items).map(|s| if n > A_FEW { format!("{s} ({n} in all)") } else { s })
}

/// "a, b, c and more" of at most [`A_FEW`] of `items` (the first of more).
fn first_few(items: Vec<String>) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    let more = items.len() > A_FEW;
    let s = items.into_iter().take(A_FEW).collect::<Vec<_>>().join(", ");
    Some(if more { format!("{s} and more") } else { s })
}

fn full_name(r: &Resource) -> String {
    format!("{} {}", r.first_name.as_deref().unwrap_or_default(), r.last_name.as_deref().unwrap_or_default())
        .trim()
        .to_string()
}

/// A loaded model's labels, keyed by the configuration key of its path.
struct ModelLabels {
    key: &'static str,
    path: String,
    /// The Tickets field whose picklist values the labels are.
    field: &'static str,
    labels: Vec<String>,
}

/// The checks that need no tenant: model files (they exist, load, and the
/// category model's labels cover the configured categories) and, for a real
/// tenant (`remote`), the environment variables the configuration names.
pub fn check_offline(config: &Config, env: &dyn Fn(&str) -> Option<String>, remote: bool) -> ConfigReport {
    let mut r = ConfigReport::default();
    offline(config, env, remote, &mut r);
    r
}

/// A deployment's pages need an OpenID provider (the functions refuse to start without one).
fn signin(config: &Config, r: &mut ConfigReport) {
    match config.signin.provider() {
        Some((issuer, _)) => r.ok_("signin.issuer", issuer, "the deployed pages admit people signed in there"),
        None => r.warn(
            "signin.issuer",
            "(not set)",
            "deployed, the dashboard and approval functions refuse to start without an OpenID provider",
            "set [signin] issuer and client_id (README: Sign-in with your OpenID provider)",
        ),
    }
}

fn offline(
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
    remote: bool,
    r: &mut ConfigReport,
) -> Vec<ModelLabels> {
    if remote {
        let a = &config.autotask;
        for (key, var) in [
            ("autotask.username_env", &a.username_env),
            ("autotask.secret_env", &a.secret_env),
            ("autotask.integration_code_env", &a.integration_code_env),
        ] {
            if env(var).is_some_and(|v| !v.trim().is_empty()) {
                r.ok_(key, var, "set");
            } else {
                r.error(
                    key,
                    var,
                    format!("environment variable {var} is not set"),
                    None,
                    &format!("export {var} (the API user's credentials), or name the variable that holds it in {key}"),
                );
            }
        }
    }
    if remote {
        signin(config, r);
    }
    runbooks::offline(config, env, remote, r);
    let m = &config.model;
    let mut picklist_models = Vec::new();
    if let Some(path) = &m.category_path {
        match atpilot_model::Model::load(path) {
            Err(e) => r.error(
                "model.category_path",
                path.display(),
                format!("cannot load it: {e}"),
                None,
                "train it with `atpilot model train`, or fix the path, or remove the key to use the keyword classifier",
            ),
            Ok(model) => {
                let mut labels = BTreeSet::new();
                let mut bad = Vec::new();
                for l in model.labels() {
                    match category_slug(l) {
                        Ok(c) => {
                            labels.insert(c);
                        }
                        Err(e) => bad.push(format!("{l:?} ({e})")),
                    }
                }
                if !bad.is_empty() {
                    r.error(
                        "model.category_path",
                        path.display(),
                        format!("labels that are not category names: {}", bad.join(", ")),
                        None,
                        "retrain with labels that are category names",
                    );
                }
                let missing: Vec<String> =
                    config.categories.keys().filter(|c| !labels.contains(*c)).map(|c| c.to_string()).collect();
                if missing.is_empty() {
                    r.ok_(
                        "model.category_path",
                        path.display(),
                        format!("{} labels, covering every configured category", labels.len()),
                    );
                } else {
                    r.error(
                        "categories",
                        missing.join(", "),
                        format!("configured but never predicted: not labels of the category model {}", path.display()),
                        few(labels.iter().map(|c| c.to_string()).collect()),
                        "rename the category to one of the model's labels, remove it, or retrain the model with it",
                    );
                }
            }
        }
    }
    let keys = [
        ("model.queue_path", "queueID"),
        ("model.priority_path", "priority"),
        ("model.issue_type_path", "issueType"),
        ("model.sub_issue_type_path", "subIssueType"),
    ];
    for ((key, field), path) in keys.into_iter().zip(m.picklist_paths()) {
        let Some(path) = path else { continue };
        match atpilot_model::Model::load(path) {
            Err(e) => r.error(
                key,
                path.display(),
                format!("cannot load it: {e}"),
                None,
                "train it with `atpilot model train`, fix the path, or remove the key",
            ),
            Ok(model) => picklist_models.push(ModelLabels {
                key,
                path: path.display().to_string(),
                field,
                labels: model.labels().to_vec(),
            }),
        }
    }
    if let Some(llm) = &m.llm {
        if llm.provider == atpilot_config::LlmProviderKind::Openai
            && llm.api_key_secret_arn.is_none()
            && env("ATPILOT_LLM_API_KEY").is_none()
        {
            r.warn(
                "model.llm.api_key_secret_arn",
                "(not set)",
                "no API key: neither model.llm.api_key_secret_arn nor ATPILOT_LLM_API_KEY is set",
                "set one, or the LLM endpoint will refuse the calls (the local model's answer is then used alone)",
            );
        }
    }
    picklist_models
}

/// Everything: [`check_offline`], then every id the configuration names,
/// looked up in the tenant `client` reaches.
pub async fn check(
    client: &Client,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
    remote: bool,
) -> ConfigReport {
    let mut r = ConfigReport::default();
    let models = offline(config, env, remote, &mut r);
    check_target(client, config, &models, &mut r).await;
    r
}

/// A row by id; `Err` when it could not be read (permission, outage).
async fn one<E: Entity>(client: &Client, id: i64) -> Result<Option<E>, atpilot_autotask::Error> {
    client.query::<E>(Query::new().filter(Filter::eq("id", id))).await.map(|mut v| v.pop())
}

/// A few rows of `entity` matching `filters`, as "id name" strings.
async fn some(client: &Client, entity: &str, filters: Vec<Filter>, name: impl Fn(&Value) -> String) -> Option<String> {
    let mut q = Query::new();
    for f in filters {
        q = q.filter(f);
    }
    let q = q.max_records(A_FEW as u32 + 1).ok()?;
    let page = client.query_page(entity, &q).await.ok()?;
    let items: Vec<String> = page
        .items
        .iter()
        .map(|v| format!("{} {}", v.get("id").and_then(Value::as_i64).unwrap_or_default(), name(v)))
        .collect();
    first_few(items)
}

fn str_of(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or_default().to_string()
}

async fn licensed_resources(client: &Client) -> Option<String> {
    some(client, "Resources", vec![Filter::eq("isActive", true), Filter::noteq("licenseType", 7)], |v| {
        format!("{} {}", str_of(v, "firstName"), str_of(v, "lastName"))
    })
    .await
    .map(|s| format!("active licensed resources: {s}"))
}

const UNREADABLE: &str = "grant the API user's security level read access to it, then check again";

/// Every id the configuration names, looked up in the tenant, one entity at a time.
async fn check_target(client: &Client, config: &Config, models: &[ModelLabels], r: &mut ConfigReport) {
    let resource = check_agent_resource(client, config, r).await;
    tenant_rules::check_time_zone(client, config, resource.as_ref(), r).await;
    tenant_rules::check_write_rights(client, r).await;
    check_agent_role(client, config, resource.as_ref(), r).await;
    check_other_resources(client, config, r).await;
    check_billing_codes(client, config, r).await;
    check_statuses(client, config, r).await;
    check_note_publish(client, config, r).await;
    check_picklist_models(client, models, r).await;
    runbooks::check_tenant_mappings(client, config, r).await;
}

/// The agent resource: exists, active, licensed (Autotask refuses time entries owned by an API-only user).
async fn check_agent_resource(client: &Client, config: &Config, r: &mut ConfigReport) -> Option<Resource> {
    let agent = config.agent.resource_id.get();
    match one::<Resource>(client, agent).await {
        Err(e) => {
            r.warn("agent.resource_id", agent, format!("could not be read: {e}"), UNREADABLE);
            None
        }
        Ok(None) => {
            r.error(
                "agent.resource_id",
                agent,
                "no such resource in the tenant",
                licensed_resources(client).await,
                "set agent.resource_id to an active, licensed (not API-only) resource",
            );
            None
        }
        Ok(Some(res)) => {
            let name = full_name(&res);
            if res.is_active != Some(true) {
                r.error(
                    "agent.resource_id",
                    agent,
                    format!("{name} is inactive"),
                    licensed_resources(client).await,
                    "activate the resource in Autotask, or set agent.resource_id to an active licensed one",
                );
            } else if res.license_type == Some(7) {
                r.error(
                    "agent.resource_id",
                    agent,
                    format!("{name} is an API-only user: Autotask refuses time entries it would own"),
                    licensed_resources(client).await,
                    "set agent.resource_id to a licensed resource (the API user belongs in autotask.api_user_resource_id)",
                );
            } else {
                r.ok_("agent.resource_id", agent, format!("{name}, active, licensed"));
            }
            Some(res)
        }
    }
}

/// The role: exists, active, and one the agent resource (when usable) holds.
async fn check_agent_role(client: &Client, config: &Config, resource: Option<&Resource>, r: &mut ConfigReport) {
    let agent = config.agent.resource_id.get();
    let role = config.agent.role_id.get();
    let held = match resource {
        Some(_) => match client.query::<ResourceRole>(Query::new().filter(Filter::eq("resourceID", agent))).await {
            Ok(rows) => Some(
                rows.into_iter()
                    .filter(|rr| rr.is_active != Some(false))
                    .filter_map(|rr| rr.role_id)
                    .collect::<BTreeSet<i64>>(),
            ),
            Err(e) => {
                r.warn(
                    "agent.role_id",
                    role,
                    format!("the roles of resource {agent} could not be read (ResourceRoles): {e}"),
                    UNREADABLE,
                );
                None
            }
        },
        None => None,
    };
    let mut role_names = Vec::new();
    if let Some(h) = &held {
        for id in h {
            let name = one::<Role>(client, *id).await.ok().flatten().and_then(|ro| ro.name).unwrap_or_default();
            role_names.push(format!("{id} {name}"));
        }
    }
    let held_text = few(role_names).map(|s| format!("roles resource {agent} holds: {s}"));
    match one::<Role>(client, role).await {
        Err(e) => r.warn("agent.role_id", role, format!("could not be read: {e}"), UNREADABLE),
        Ok(None) => r.error(
            "agent.role_id",
            role,
            "no such role in the tenant",
            held_text,
            "set agent.role_id to a role the agent resource holds",
        ),
        Ok(Some(ro)) => {
            let name = ro.name.unwrap_or_default();
            if ro.is_active == Some(false) {
                r.error(
                    "agent.role_id",
                    role,
                    format!("{name} is inactive"),
                    held_text,
                    "set agent.role_id to an active role the agent resource holds",
                );
            } else {
                match &held {
                    Some(h) if !h.contains(&role) => r.error(
                        "agent.role_id",
                        role,
                        format!("{name} is not a role resource {agent} holds: Autotask refuses its time entries"),
                        held_text,
                        "add the role to the resource in Autotask (Admin › Resources › Service Desk Roles), or set agent.role_id to one it holds",
                    ),
                    Some(_) => r.ok_("agent.role_id", role, format!("{name}, held by resource {agent}")),
                    None if resource.is_some() => {}
                    None => r.warn("agent.role_id", role, format!("{name} exists; whether the agent resource holds it was not checked (the resource is not usable)"), "fix agent.resource_id first"),
                }
            }
        }
    }
}

/// Other resources the configuration names.
async fn check_other_resources(client: &Client, config: &Config, r: &mut ConfigReport) {
    for (key, id) in [
        ("autotask.api_user_resource_id", config.autotask.api_user_resource_id),
        ("autotask.impersonation_resource_id", config.autotask.impersonation_resource_id),
    ] {
        let Some(id) = id.map(|i| i.get()) else { continue };
        match one::<Resource>(client, id).await {
            Err(e) => r.warn(key, id, format!("could not be read: {e}"), UNREADABLE),
            Ok(None) => r.error(
                key,
                id,
                "no such resource in the tenant",
                None,
                "set it to the resource's id (Admin › Resources), or remove the key",
            ),
            Ok(Some(res)) if res.is_active != Some(true) => r.error(
                key,
                id,
                format!("{} is inactive", full_name(&res)),
                None,
                "set it to an active resource, or remove the key",
            ),
            Ok(Some(res)) => r.ok_(key, id, full_name(&res)),
        }
    }
}

/// Billing codes: exist, active, work types.
async fn check_billing_codes(client: &Client, config: &Config, r: &mut ConfigReport) {
    let mut codes = vec![("billing_codes.default".to_string(), config.billing_codes.default.get())];
    codes.extend(
        config
            .billing_codes
            .rule_codes()
            .enumerate()
            .map(|(i, c)| (format!("billing_codes.rule[{i}].billing_code_id"), c.get())),
    );
    let work_types = move || async move {
        some(client, "BillingCodes", vec![Filter::eq("isActive", true), Filter::eq("useType", 1)], |v| {
            str_of(v, "name")
        })
        .await
        .map(|s| format!("active work types: {s}"))
    };
    for (key, code) in codes {
        match one::<BillingCode>(client, code).await {
            Err(e) => r.warn(key, code, format!("could not be read: {e}"), UNREADABLE),
            Ok(None) => r.error(
                key,
                code,
                "no such billing code in the tenant",
                work_types().await,
                "choose a work type from Admin › Billing Codes (Work Types)",
            ),
            Ok(Some(b)) => {
                let name = b.name.clone().unwrap_or_default();
                if b.is_active == Some(false) {
                    r.error(key, code, format!("{name} is inactive"), work_types().await, "choose an active work type");
                } else if b.use_type.is_some_and(|u| u != 1) {
                    // [U] useType 1 is a work type (general allocation code) as far as we know; the API publishes no labels for it.
                    r.warn(
                        key,
                        code,
                        format!(
                            "{name} has useType {} (a work type is expected to be 1); not confirmed",
                            b.use_type.unwrap_or_default()
                        ),
                        "check in Admin › Billing Codes that it is a work type for labour",
                    );
                } else {
                    r.ok_(key, code, format!("{name}, active"));
                }
            }
        }
    }
}

/// Statuses: values of the Tickets status picklist, active.
async fn check_statuses(client: &Client, config: &Config, r: &mut ConfigReport) {
    match client.picklist("Tickets", "status").await {
        Err(e) => {
            r.warn("statuses", "(all)", format!("the Tickets status picklist could not be read: {e}"), UNREADABLE)
        }
        Ok(pl) => {
            let active = || {
                few(pl.active().map(|p| format!("{} {}", p.value, p.label)).collect())
                    .map(|s| format!("active statuses: {s}"))
            };
            let mut want: Vec<(String, i64)> =
                config.statuses.disengage.iter().map(|s| ("statuses.disengage".to_string(), s.get())).collect();
            want.push(("statuses.complete".into(), config.statuses.complete.get()));
            for (key, v) in want {
                match pl.values.iter().find(|p| p.value == v.to_string()) {
                    None => r.error(
                        key,
                        v,
                        "not a value of the Tickets status picklist",
                        active(),
                        "use a value from Tickets/entityInformation/fields (status)",
                    ),
                    Some(p) if !p.is_active => {
                        r.error(key, v, format!("{} is inactive", p.label), active(), "use an active status")
                    }
                    Some(p) => r.ok_(key, v, p.label.clone()),
                }
            }
        }
    }
}

/// The publish value of the agent's internal notes ("Internal Users", 2).
async fn check_note_publish(client: &Client, config: &Config, r: &mut ConfigReport) {
    let key = "autotask.note_publish_internal";
    let (publish, types) =
        match (client.picklist("TicketNotes", "publish").await, client.picklist("TicketNotes", "noteType").await) {
            (Ok(p), Ok(t)) => (p, t),
            (Err(e), _) | (_, Err(e)) => {
                return r.warn(key, "(notes)", format!("the TicketNotes picklists could not be read: {e}"), UNREADABLE);
            }
        };
    let wanted = crate::adapters::autotask_rest::NoteWanted::from(&config.autotask);
    match crate::adapters::autotask_rest::choose_note_values(&publish.values, &types.values, wanted) {
        Ok(v) => {
            r.ok_(key, v.internal.0, format!("internal notes are written as publish {:?}", v.internal.1));
            r.ok_("autotask.note_publish_customer", v.customer.0, format!("the customer reply as publish {:?}", v.customer.1));
            r.ok_("autotask.note_type", v.note_type.0, format!("every note as noteType {:?}", v.note_type.1));
        }
        Err(e) => r.error(
            key,
            wanted.internal.map_or("(from the picklist)".to_string(), |v| v.to_string()),
            e,
            None,
            "atpilot writes no note until this is fixed: set the [autotask] note_* values to active values of this tenant",
        ),
    }
}

/// The picklist models' labels: values of their field's picklist.
async fn check_picklist_models(client: &Client, models: &[ModelLabels], r: &mut ConfigReport) {
    for m in models {
        match client.picklist("Tickets", m.field).await {
            Err(e) => {
                r.warn(m.key, &m.path, format!("the Tickets {} picklist could not be read: {e}", m.field), UNREADABLE)
            }
            Ok(pl) => {
                let unknown: Vec<String> = m
                    .labels
                    .iter()
                    .filter(|l| {
                        !picklist_value(l)
                            .is_some_and(|v| pl.values.iter().any(|p| p.is_active && p.value == v.to_string()))
                    })
                    .map(|l| format!("{l:?}"))
                    .collect();
                if unknown.is_empty() {
                    r.ok_(m.key, &m.path, format!("{} labels, all active {} values", m.labels.len(), m.field));
                } else {
                    r.error(
                        m.key,
                        &m.path,
                        format!("labels that are not active {} values: {}", m.field, unknown.join(", ")),
                        few(pl.active().map(|p| format!("{} {}", p.value, p.label)).collect()),
                        "retrain the model on this tenant (`atpilot model train --from-autotask`)",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_names_key_value_what_the_target_has_and_the_fix() {
        let mut r = ConfigReport::default();
        r.error(
            "agent.resource_id",
            7,
            "no such resource",
            few((1..=7).map(|i| format!("{i} R{i}")).collect()),
            "set it",
        );
        let s = r.to_string();
        assert!(s.starts_with("ERROR agent.resource_id = 7: no such resource. The target has: 1 R1, 2 R2, 3 R3, 4 R4, 5 R5 and more (7 in all). Fix: set it"), "{s}");
        assert!(!r.ok());
    }
}
