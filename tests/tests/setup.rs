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
