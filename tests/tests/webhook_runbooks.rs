//! The signed webhook runbook against a receiver that checks the signature
//! and answers per the contract: done → verified, the reply and one time
//! entry (a redelivered event sends no second job); refused → one internal
//! note, no reply, no time; accepted → waiting, then the signed callback
//! (wrong secret and replayed timestamps refused) finishes the resolution once.

use atpilot_e2e::{api_runbook, recurring_customer, start_edited, ticket_from, with_category};
use atpilot_local::Local;
use atpilot_webhook::{SIGNATURE_HEADER, Signer, TIMESTAMP_HEADER};
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

const SECRET: &str = "e2e-lob-runbook-secret";
const SECRET_ENV: &str = "ATPILOT_E2E_LOB_SECRET";

/// What the receiver answers, and the jobs it was sent (verified ones only).
#[derive(Clone)]
struct Receiver {
    answer: Arc<Mutex<(u16, Value)>>,
    jobs: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

async fn receive(
    axum::extract::State(r): axum::extract::State<Receiver>,
    h: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    if Signer::new(SECRET).verify(header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER), &body, now).is_err() {
        return (StatusCode::UNAUTHORIZED, "bad signature".into());
    }
    r.jobs.lock().unwrap().push((h.clone(), serde_json::from_slice(&body).unwrap()));
    let (status, answer) = r.answer.lock().unwrap().clone();
    (StatusCode::from_u16(status).unwrap(), answer.to_string())
}

async fn start(answer: (u16, Value)) -> (Local, tempfile::TempDir, Receiver) {
    // SAFETY: set before any thread of this test reads the environment; every test sets the same value.
    unsafe { std::env::set_var(SECRET_ENV, SECRET) };
    let r = Receiver { answer: Arc::new(Mutex::new(answer)), jobs: Arc::default() };
    let app = axum::Router::new().route("/jobs", axum::routing::post(receive)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jobs", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let body = "phase = \"autonomous\"\nsafe = true\nrunbook = \"webhook\"\nwebhook = \"lob\"\n";
    let hooks = format!("\n[webhooks.lob]\nurl = \"{url}\"\nsecret_env = \"{SECRET_ENV}\"\n");
    let (l, dir) = start_edited(move |t| with_category(&t, "license-request", body) + &hooks).await;
    (l, dir, r)
}

async fn licence_ticket(l: &Local) -> i64 {
    let (company, contact, _) = recurring_customer(l, 0);
    ticket_from(l, company, contact, "App access", "Please give me a Microsoft 365 license subscription for the app")
        .await
}

fn reply_and_entries(l: &Local, t: i64) -> (Vec<String>, usize) {
    let sb = l.sandbox.as_deref().unwrap();
    let replies = sb
        .rows_where("TicketNotes", "ticketID", t)
        .iter()
        .filter(|n| n["publish"].as_i64() == Some(1))
        .map(|n| n["description"].as_str().unwrap().to_string())
        .collect();
    (replies, sb.rows_where("TimeEntries", "ticketID", t).len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_done_answer_is_verified_replied_and_billed_once() {
    let done = json!({"status": "done", "before": {"appAccess": "none"}, "after": {"appAccess": "granted\nfully"}});
    let (l, _dir, r) = start((200, done)).await;
    let t = licence_ticket(&l).await;
    let jobs = r.jobs.lock().unwrap().clone();
    assert_eq!(jobs.len(), 1, "one signed job");
    let (headers, job) = &jobs[0];
    let action = job["action_id"].as_str().unwrap();
    assert_eq!(headers["idempotency-key"].to_str().unwrap(), action);
    assert_eq!(job["ticket"]["id"], t);
    assert_eq!(job["runbook"], "lob");
    assert!(job["inputs"]["requester_email"].as_str().unwrap().contains('@'), "{job}");
    assert_eq!(job["callback_url"], "http://127.0.0.1:8080/approvals/runbooks/callback");
    let rb = api_runbook(&l, t).await;
    assert_eq!((rb["provider"].as_str(), rb["status"].as_str()), (Some("webhook"), Some("verified")), "{rb}");
    assert_eq!(rb["after"]["appAccess"], "granted fully", "outside text is kept on one line");
    let (replies, entries) = reply_and_entries(&l, t);
    assert_eq!((replies.len(), entries), (1, 1), "{replies:?}");
    assert!(replies[0].contains("is done and was checked by our automation"));
    // A redelivered event sends no second job.
    atpilot_e2e::redeliver_create(&l, t).await;
    assert_eq!(r.jobs.lock().unwrap().len(), 1);
    assert_eq!(reply_and_entries(&l, t).1, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_writes_one_internal_note_and_nothing_else() {
    let (l, _dir, _r) = start((200, json!({"status": "refused", "reason": "not a user\nof the LOB app"}))).await;
    let t = licence_ticket(&l).await;
    let rb = api_runbook(&l, t).await;
    assert_eq!(rb["status"], "refused", "{rb}");
    assert_eq!(rb["reason"], "the webhook refused: not a user of the LOB app");
    assert_eq!(reply_and_entries(&l, t), (vec![], 0));
    let notes = l.sandbox.as_deref().unwrap().rows_where("TicketNotes", "ticketID", t);
    assert!(notes.iter().any(|n| n["description"].as_str().unwrap().contains("not a user of the LOB app")));
}

/// POSTs a callback through the approval routes, signed with `secret` at `at`.
async fn callback(l: &Local, body: &Value, secret: &str, at: i64) -> (u16, String) {
    let bytes = serde_json::to_vec(body).unwrap();
    let req = axum::http::Request::post("/approvals/runbooks/callback")
        .header(TIMESTAMP_HEADER, at.to_string())
        .header(SIGNATURE_HEADER, Signer::new(secret).sign(at, &bytes))
        .body(axum::body::Body::from(bytes))
        .unwrap();
    let res = atpilot_web::approval_routes(l.deps.clone()).oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let text = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&text).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_job_waits_for_its_signed_callback_and_finishes_once() {
    let (l, _dir, r) = start((202, json!({"status": "accepted"}))).await;
    let t = licence_ticket(&l).await;
    let rb = api_runbook(&l, t).await;
    assert_eq!(rb["status"], "executed", "{rb}");
    assert_eq!(reply_and_entries(&l, t), (vec![], 0), "nothing is claimed before the result");
    let notes = l.sandbox.as_deref().unwrap().rows_where("TicketNotes", "ticketID", t);
    assert!(notes.iter().any(|n| n["description"].as_str().unwrap().contains("accepted the job and will report back")));
    let action = r.jobs.lock().unwrap()[0].1["action_id"].as_str().unwrap().to_string();
    let now = chrono::Utc::now().timestamp();
    let done = json!({"action_id": action, "status": "done", "after": {"appAccess": "granted"}});
    assert_eq!(callback(&l, &done, "wrong-secret", now).await.0, 401);
    assert_eq!(callback(&l, &done, SECRET, now - 900).await.0, 401, "a replayed callback");
    assert_eq!(api_runbook(&l, t).await["status"], "executed", "nothing recorded");
    let (status, text) = callback(&l, &done, SECRET, now).await;
    assert_eq!(status, 200, "{text}");
    l.settle(40).await;
    let rb = api_runbook(&l, t).await;
    assert_eq!((rb["status"].as_str(), rb["after"]["appAccess"].as_str()), (Some("verified"), Some("granted")), "{rb}");
    let (replies, entries) = reply_and_entries(&l, t);
    assert_eq!((replies.len(), entries), (1, 1), "{replies:?}");
    // The provider repeats its callback: nothing is done twice.
    let (status, text) = callback(&l, &done, SECRET, now).await;
    assert!(status == 200 && text.contains("already recorded"), "{status} {text}");
    l.settle(40).await;
    assert_eq!(reply_and_entries(&l, t).1, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_job_that_never_calls_back_is_reported_failed_by_the_sweep() {
    let (l, _dir, r) = start((202, json!({"status": "accepted"}))).await;
    let t = licence_ticket(&l).await;
    assert_eq!(api_runbook(&l, t).await["status"], "executed");
    // Before the deadline (24 h by default) the sweep leaves it waiting.
    let soon = atpilot_agent::handlers::approval::sweep(&l.deps, chrono::Utc::now()).await.unwrap();
    assert_eq!(soon.runbooks_timed_out, 0);
    let late = chrono::Utc::now() + chrono::Duration::hours(25);
    let swept = atpilot_agent::handlers::approval::sweep(&l.deps, late).await.unwrap();
    assert_eq!(swept.runbooks_timed_out, 1);
    l.settle(40).await;
    let rb = api_runbook(&l, t).await;
    assert_eq!(rb["status"], "failed", "{rb}");
    assert!(rb["reason"].as_str().unwrap().contains("sent no callback by"), "{rb}");
    assert_eq!(reply_and_entries(&l, t), (vec![], 0), "no reply, no time");
    let notes = l.sandbox.as_deref().unwrap().rows_where("TicketNotes", "ticketID", t);
    assert!(notes.iter().any(|n| n["description"].as_str().unwrap().contains("A technician must finish it by hand")));
    // A callback after that changes nothing.
    let action = r.jobs.lock().unwrap()[0].1["action_id"].as_str().unwrap().to_string();
    let done = json!({"action_id": action, "status": "done"});
    let (status, text) = callback(&l, &done, SECRET, chrono::Utc::now().timestamp()).await;
    assert!(status == 200 && text.contains("already recorded"), "{status} {text}");
    assert_eq!(reply_and_entries(&l, t), (vec![], 0));
    assert_eq!(atpilot_agent::handlers::approval::sweep(&l.deps, late).await.unwrap().runbooks_timed_out, 0);
}
