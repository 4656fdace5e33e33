//! `atpilot setup` on the sandbox: the webhook is registered once and
//! updated after; a bad agent, role, billing code or status is reported
//! (the configuration check), and nothing is half-done.

use atpilot_agent::setup::setup;
use atpilot_autotask::Query;
use atpilot_autotask::entities::TicketWebhook;
use atpilot_e2e::Stack;

const SECRET: &str = "a-webhook-secret-of-32-characters";

fn env(_: &str) -> Option<String> {
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_once_then_updates() {
    let s = Stack::start().await;
    let c = &s.local.client;
    let cfg = &s.local.deps.config;
    let r = setup(c, cfg, &env, false, "https://abc.lambda-url.us-east-1.on.aws/", SECRET, false).await.unwrap();
    assert!(r.ok() && r.created, "{}{:?}", r.config, r.checks);
    let r2 = setup(c, cfg, &env, false, "https://new.lambda-url.us-east-1.on.aws/", SECRET, false).await.unwrap();
    assert!(r2.ok() && !r2.created);
    assert_eq!(r2.webhook_id, r.webhook_id);
    let hooks = c.query::<TicketWebhook>(Query::new()).await.unwrap();
    assert_eq!(hooks.len(), 1, "no duplicate webhook");
    assert_eq!(hooks[0].webhook_url.as_deref(), Some("https://new.lambda-url.us-east-1.on.aws/"));
    // The sandbox now calls atpilot for ticket changes, and never for the agent's own.
    let excluded = s.sandbox().facts().agent_resource_id;
    let rows: Vec<_> = (1..50).filter_map(|id| s.sandbox().row("TicketWebhookExcludedResources", id)).collect();
    assert!(rows.iter().any(|r| r["resourceID"] == excluded), "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_are_reported_and_nothing_is_registered() {
    let s = Stack::start().await;
    let facts = s.sandbox().facts();
    let text = atpilot_config::EXAMPLE
        .replace("resource_id = 5\n", &format!("resource_id = {}\n", facts.api_resource_id))
        .replace("role_id = 8\n", "role_id = 987654\n")
        .replace("default = 1\n", "default = 424242\n")
        .replace("complete = 5\n", "complete = 9\n");
    let cfg = atpilot_config::Config::parse(&text, "bad").unwrap();
    s.sandbox().clear_requests();
    let r = setup(&s.local.client, &cfg, &env, false, "http://example.com/hook", "short", false).await.unwrap();
    let errors: Vec<&str> = r.config.errors().map(|f| f.key.as_str()).collect();
    for expected in ["agent.resource_id", "agent.role_id", "billing_codes.default", "statuses.complete"] {
        assert!(errors.contains(&expected), "{expected} not reported:\n{}", r.config);
    }
    let failed: Vec<&str> = r.checks.iter().filter(|c| !c.ok).map(|c| c.what.as_str()).collect();
    for expected in ["intake URL", "webhook secret"] {
        assert!(failed.contains(&expected), "{expected} not reported: {failed:?}");
    }
    assert!(!r.ok());
    assert!(r.webhook_id.is_none());
    assert!(s.applied_writes().is_empty(), "nothing written");
}

/// A webhook registered by hand (or by an older setup) in the tenant.
async fn hand_made(c: &atpilot_autotask::Client, name: &str, url: &str, fields: &[&str], excluded: Vec<i64>) -> i64 {
    let reg = atpilot_autotask::TicketWebhookRegistration {
        name: name.into(),
        webhook_url: url.into(),
        deactivation_url: format!("{url}/deactivated"),
        secret_key: "an-old-secret-of-some-length".into(),
        notification_email_address: None,
        on_create: true,
        on_update: false,
        subscribed_fields: fields.iter().map(|f| f.to_string()).collect(),
        display_always_fields: vec![],
        excluded_resources: excluded,
    };
    c.register_ticket_webhook(&reg).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_deactivated_and_the_kept_webhook_is_brought_to_the_wanted_shape() {
    use atpilot_autotask::entities::{TicketWebhookExcludedResource, TicketWebhookField};
    use atpilot_autotask::{Filter, Query};
    let s = Stack::start().await;
    let c = &s.local.client;
    let url = "https://abc.lambda-url.us-east-1.on.aws/";
    // An earlier deployment's webhook (named atpilot, its old URL), one made by hand
    // calling the intake URL itself, another tool on the intake's host, and another integration.
    let old_name = hand_made(c, "atpilot", "https://old.example.net/hook", &["status"], vec![]).await;
    let same_host = hand_made(c, "intake (manual)", url, &["title", "status"], vec![1]).await;
    let shared_domain =
        hand_made(c, "Billing sync", "https://abc.lambda-url.us-east-1.on.aws/billing", &["status"], vec![]).await;
    let other = hand_made(c, "PSA sync", "https://sync.example.org/in", &["status"], vec![]).await;
    let r = setup(c, &s.local.deps.config, &env, false, url, SECRET, false).await.unwrap();
    assert!(r.ok(), "{}{:#?}", r.config, r.checks);
    assert_eq!(r.webhook_id, Some(same_host), "the one already calling the intake URL is kept");
    let hook = |id| async move { c.get::<TicketWebhook>(id).await.unwrap().unwrap() };
    assert_eq!(hook(old_name).await.is_active, Some(false), "the duplicate is deactivated");
    assert_eq!(hook(other).await.is_active, Some(true), "another integration's webhook is untouched");
    assert_eq!(hook(shared_domain).await.is_active, Some(true), "another tool on the intake's host is untouched");
    let kept = hook(same_host).await;
    assert_eq!((kept.name.as_deref(), kept.is_subscribed_to_update_events), (Some("atpilot"), Some(true)));
    let ids = c.picklist("TicketWebhookFields", "fieldID").await.unwrap();
    let fields: Vec<TicketWebhookField> =
        c.query(Query::new().filter(Filter::eq("webhookID", same_host))).await.unwrap();
    let mut subscribed: Vec<String> = fields
        .iter()
        .filter(|f| f.is_subscribed_field == Some(true))
        .filter_map(|f| ids.label_of(f.field_id.unwrap()).map(String::from))
        .collect();
    subscribed.sort();
    let mut wanted: Vec<String> = atpilot_agent::setup::SUBSCRIBED_FIELDS.iter().map(|f| f.to_string()).collect();
    wanted.sort();
    assert_eq!(subscribed, wanted);
    let excluded: Vec<TicketWebhookExcludedResource> =
        c.query(Query::new().filter(Filter::eq("webhookID", same_host))).await.unwrap();
    let mut ex: Vec<i64> = excluded.iter().filter_map(|e| e.resource_id).collect();
    ex.sort();
    let f = s.sandbox().facts();
    let mut want_ex = vec![f.agent_resource_id, f.api_resource_id];
    want_ex.sort();
    assert_eq!(ex, want_ex, "resource 1 no longer excluded; the agent and the API user are");
    // Each change is reported, and the kept webhook was read back ready.
    let said = format!("{:?}", r.checks);
    for change in [
        "deactivated webhook",
        "isSubscribedToUpdateEvents false -> true",
        "stopped excluding resource 1",
        "added field",
    ] {
        assert!(said.contains(change), "{change} not reported: {said}");
    }
    assert!(r.checks.iter().any(|c| c.what == "webhook ready" && c.ok), "{said}");
    // A second run keeps the same webhook and changes nothing but the secret.
    let again = setup(c, &s.local.deps.config, &env, false, url, SECRET, false).await.unwrap();
    let detail = &again.checks.iter().find(|c| c.what == "webhook").unwrap().detail;
    assert!(detail.ends_with("secret key set to the configured one"), "{detail}");
}
