//! A ticket's timeline on the dashboard (`/tickets/{id}`, `/api/tickets/{id}`):
//! after a real pipeline run it shows what the agent decided and every write
//! it made with its content, read from what was stored; the dashboard links
//! ticket numbers to it (and to Autotask when configured); unknown pages and
//! ids get the layout's 404.

use atpilot_agent::handlers::approval;
use atpilot_autotask_sandbox::tenant::CT_RECURRING;
use atpilot_domain::TicketId;
use atpilot_domain::time_entry::LedgerState;
use atpilot_e2e::{APPROVER, Stack};
use atpilot_web::Web;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

async fn get(web: &Arc<Web>, path: &str) -> (StatusCode, String) {
    let req = Request::get(path).header(header::HOST, "127.0.0.1:8080").body(Body::empty()).unwrap();
    let res = atpilot_web::dashboard_routes(web.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 22).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A password reset on a recurring-service contract, resolved by the agent (autonomous in the demo).
async fn password_reset_resolved(s: &Stack) -> i64 {
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(
        company,
        Some(contract),
        "Password reset",
        "I forgot my password and I am locked out",
        json!({}),
    );
    let (body, sig) = s.callout("Create", t, 1, json!({}), s.human());
    assert_eq!(s.deliver(&body, &sig).await, 202);
    assert!(s.local.settle(40).await.failures.is_empty());
    t
}

fn web(s: &Stack, config: atpilot_config::Config) -> Arc<Web> {
    Arc::new(Web::new(s.local.deps.state.clone(), Arc::new(config), None))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_autonomous_resolution_shows_its_reply_and_time_entry() {
    let s = Stack::start().await;
    let t = password_reset_resolved(&s).await;
    let ledger = s.local.deps.state.ticket_ledger(TicketId::new(t).unwrap()).await.unwrap();
    let LedgerState::Written { time_entry_id } = &ledger[0].ledger else { panic!("{:?}", ledger[0]) };
    // The reply as the sandbox stored it (the customer-visible note).
    let note = s
        .sandbox()
        .rows_where("TicketNotes", "ticketID", t)
        .into_iter()
        .find(|n| n.get("publish").and_then(Value::as_i64) == Some(1))
        .expect("the customer-visible reply");
    let reply = note["description"].as_str().unwrap().to_string();

    let w = web(&s, (*s.local.deps.config).clone());
    let (status, json_text) = get(&w, &format!("/api/tickets/{t}")).await;
    assert_eq!(status, StatusCode::OK, "{json_text}");
    let v: Value = serde_json::from_str(&json_text).unwrap();
    let kinds: Vec<&str> = v["entries"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"decision"), "{kinds:?}");
    for k in ["reply", "time-entry"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let posted = v["entries"].as_array().unwrap().iter().find(|e| e["kind"] == "reply").unwrap();
    assert_eq!(posted["text"].as_str(), Some(reply.as_str()), "the reply shown is the note Autotask holds");

    let (status, page) = get(&w, &format!("/tickets/{t}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Decided to act on its own"), "{page}");
    assert!(page.contains(&format!("Time entry {time_entry_id} written")), "{page}");
    assert!(page.contains(&format!("{:.4} h", ledger[0].span.hours().get())), "the measured time: {page}");
    let first_line = reply.lines().next().unwrap();
    assert!(page.contains(&minijinja_escape(first_line)), "the reply text: {page}");
    assert!(page.contains("<a href=\"/approvals/\">Approvals</a>"), "the layout's navigation");

    // The dashboard links the ticket to its timeline.
    let (_, dash) = get(&w, "/").await;
    assert!(dash.contains(&format!("href=\"/tickets/{t}\"")), "{dash}");
    assert!(!dash.contains("class=autotask"), "no Autotask link without autotask.ticket_link");
    // The decisions list says what was done, from the same records as the timeline.
    let (_, api) = get(&w, "/api/decisions").await;
    let list: Vec<Value> = serde_json::from_str(&api).unwrap();
    let d = list.iter().find(|d| d["ticket_id"] == t).unwrap();
    assert_eq!(d["done"], json!(["Reply posted", format!("Time entry {time_entry_id} written")]), "{d}");
    assert!(dash.contains(&format!("<li>Time entry {time_entry_id} written</li>")), "{dash}");
}

/// minijinja's HTML escaping of a line of text.
fn minijinja_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_shows_who_decided_and_when() {
    let s = Stack::start().await;
    let (t, id, token) = s.pending_approval().await;
    let w = web(&s, (*s.local.deps.config).clone());
    let (_, page) = get(&w, &format!("/tickets/{t}")).await;
    assert!(page.contains("Decided to ask a human to approve") && page.contains("Approval requested"), "{page}");
    assert!(!page.contains("Approved by"), "{page}");
    let body = format!("t={token}&decision=approve");
    let done = approval::handle_http(&s.local.deps, "POST", &id, "", body.as_bytes(), chrono::Utc::now()).await;
    assert_eq!(done.status, 200, "{}", done.html);
    let (_, page) = get(&w, &format!("/tickets/{t}")).await;
    assert!(
        page.contains(&format!("Approved by {APPROVER}"))
            || page.contains(&format!("Approved by {}", minijinja_escape(APPROVER))),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_pages_and_ids_get_the_layouts_404_and_links_follow_the_configuration() {
    let s = Stack::start().await;
    let w = web(&s, (*s.local.deps.config).clone());
    for path in ["/tickets/abc", "/tickets/-4", "/tickets/%3Cscript%3E", "/no-such-page"] {
        let (status, page) = get(&w, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.contains("id=\"error\"") && page.contains("<a href=\"/outbox\">Outbox</a>"), "{path}: {page}");
        assert!(!page.contains("<script>"), "{path}: {page}");
    }
    // The JSON API answers in JSON, never with the HTML page.
    let (status, body) = get(&w, "/api/tickets/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(v["error"], "\"abc\" is not a ticket id: ticket ids are positive whole numbers");
    let (status, page) = get(&w, "/tickets/999999").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("atpilot has recorded nothing about this ticket"), "{page}");

    // With autotask.ticket_link, the dashboard and the timeline link to Autotask too.
    let (t, _, _) = s.pending_approval().await;
    let link =
        "https://ww5.autotask.net/Autotask/AutotaskExtend/ExecuteCommand.aspx?Code=OpenTicketDetail&TicketID={id}";
    let text = atpilot_local::demo_config_text(&s.sandbox().facts(), "http://127.0.0.1:8080").replacen(
        "[autotask]\n",
        &format!("[autotask]\nticket_link = \"{link}\"\n"),
        1,
    );
    let config = atpilot_config::Config::parse(&text, "test").unwrap();
    let w = web(&s, config);
    let want = link.replace("{id}", &t.to_string()).replace('&', "&amp;");
    let (_, dash) = get(&w, "/").await;
    assert!(dash.contains(&format!("class=autotask href=\"{want}\"")), "{dash}");
    let (_, page) = get(&w, &format!("/tickets/{t}")).await;
    assert!(page.contains("id=\"autotask-link\""), "{page}");
    let bad = text.replace(link, "javascript:alert(1)//{id}");
    let err = atpilot_config::Config::parse(&bad, "test").unwrap_err().to_string();
    assert!(err.contains("autotask.ticket_link must be an https:// link"), "{err}");
}

/// A person sets `fields` on ticket `t` in Autotask, and the Update callout
/// Autotask sends for it is delivered (this stack's sandbox has no webhook registered).
async fn person_updates(s: &Stack, t: i64, fields: serde_json::Value) {
    let map = fields.as_object().unwrap().clone();
    assert!(s.sandbox().simulate_ticket_update(t, map, s.human()));
    let (body, sig) = s.callout("Update", t, 2, fields, s.human());
    assert_eq!(s.deliver(&body, &sig).await, 202);
    assert!(s.local.settle(40).await.failures.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatchers_triage_is_compared_by_category_and_shown_on_the_timeline() {
    let s = Stack::start().await;
    let t = password_reset_resolved(&s).await;
    // A dispatcher files it under VPN (issue type 5, sub-issue type 502 "VPN" in the sandbox's picklists).
    person_updates(&s, t, json!({"issueType": 5, "subIssueType": 502})).await;
    let seen = s.local.deps.state.human_routings(TicketId::new(t).unwrap()).await.unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].category.as_ref().map(|c| c.as_str()), Some("vpn"), "the picklist label as a category");
    assert_eq!(seen[0].sub_issue_type, Some(502));

    let data = atpilot_agent::html::dashboard::gather(&s.local.deps.state, &s.local.deps.config, 50).await.unwrap();
    let row = &data.agreement["password-reset"];
    assert_eq!((row.routed_by_humans, row.category.compared, row.category.agreed), (1, 1, 0), "{row:?}");
    assert_eq!(row.queue.compared, 0, "the model predicted no queue: nothing to compare");
    let w = web(&s, (*s.local.deps.config).clone());
    let (_, page) = get(&w, &format!("/tickets/{t}")).await;
    assert!(page.contains("A dispatcher routed the ticket") && page.contains("502"), "{page}");
    let (_, dash) = get(&w, "/").await;
    assert!(dash.contains("0% <small>(0 of 1)</small>"), "{dash}");
}

/// A person who only sets the status (e.g. completes the ticket) did not
/// route it: the timeline says what they set and who they are, names no
/// assigned resource, and the shadow comparison does not count it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_change_alone_is_not_a_routing() {
    let s = Stack::start().await;
    let t = password_reset_resolved(&s).await;
    person_updates(&s, t, json!({"status": 1})).await;
    let seen = s.local.deps.state.human_routings(TicketId::new(t).unwrap()).await.unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!((seen[0].status, seen[0].resource_id, seen[0].changed_by), (Some(1), None, Some(s.human())));
    let data = atpilot_agent::html::dashboard::gather(&s.local.deps.state, &s.local.deps.config, 50).await.unwrap();
    assert_eq!(data.agreement["password-reset"].routed_by_humans, 0);
    let w = web(&s, (*s.local.deps.config).clone());
    let (_, page) = get(&w, &format!("/tickets/{t}")).await;
    assert!(page.contains("A person set the ticket&#x27;s status"), "{page}");
    assert!(!page.contains("A dispatcher routed the ticket") && !page.contains("assigned resource"), "{page}");
    assert!(page.contains("changed by resource"), "{page}");
}
