//! Approvals: one click that is safe. Approve, reject, edit-then-approve,
//! expired, reused, forged, wrong approver, a GET prefetch, two concurrent
//! POSTs, a stale ticket; and the whole flow in headless Chromium.

use atpilot_agent::handlers::approval::{self, ApprovalError, Claims, Decided, DecisionForm, sign_token};
use atpilot_domain::TicketId;
use atpilot_e2e::{APPROVER, Stack, shape};
use atpilot_store::records::ApprovalState;
use serde_json::json;

/// A pending MFA-enrollment request (human-in-the-loop in the demo configuration).
async fn pending(s: &Stack) -> (i64, String, String) {
    s.pending_approval().await
}

fn form(token: &str, decision: &str) -> DecisionForm {
    DecisionForm { token: token.into(), decision: decision.into(), draft: None, reason: None, ..Default::default() }
}

async fn state_of(s: &Stack, id: &str) -> ApprovalState {
    s.local.deps.state.approval(id).await.unwrap().unwrap().state
}

fn writes(s: &Stack, t: i64) -> Vec<String> {
    shape(&s.applied_writes(), t)
}

const NOTE: &str = "POST /atservicesrest/V1.0/Tickets/{id}/Notes";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_goes_to_teams_and_email_and_approve_executes_once_with_one_time_entry() {
    let s = Stack::start().await;
    let (t, id, token) = pending(&s).await;
    let outbox = s.local.deps.state.outbox(10).await.unwrap();
    assert!(outbox.iter().any(|m| m.channel == "teams" && m.body.contains("Action.OpenUrl")), "a Teams card");
    let page =
        approval::handle_http(&s.local.deps, "GET", &id, &format!("t={token}&intent=approve"), b"", chrono::Utc::now())
            .await;
    assert_eq!(page.status, 200);
    assert!(
        page.html.contains(APPROVER) && page.html.contains("authenticator app"),
        "the page shows who decides and the draft"
    );
    assert_eq!(
        approval::decide_request(&s.local.deps, &id, &form(&token, "approve"), chrono::Utc::now())
            .await
            .map(|d| matches!(d, Decided::Approved(_))),
        Ok(true)
    );
    s.local.settle(40).await;
    assert_eq!(
        writes(&s, t),
        [
            // The fields before the customer reply: "done" is said only once the ticket says so.
            "PATCH /atservicesrest/V1.0/Tickets",
            NOTE,
            "POST /atservicesrest/V1.0/TimeEntries",
            "PATCH /atservicesrest/V1.0/Tickets"
        ]
    );
    let a = s.local.deps.state.approval(&id).await.unwrap().unwrap();
    assert_eq!(a.state, ApprovalState::Approved);
    assert_eq!(a.decided_by.as_deref(), Some(APPROVER));
    assert!(a.executed_at.is_some());
    let applied = s.applied_writes();
    let entry = applied[2].body.clone().unwrap();
    assert!(entry["summaryNotes"].as_str().unwrap().contains(APPROVER), "the time entry says who approved");
    assert!(
        entry["summaryNotes"].as_str().unwrap().contains("Measured work: "),
        "the time entry states the measured seconds"
    );
    // The fields first, without the status; the ticket is completed only after its time entry.
    assert!(applied[1].body.as_ref().unwrap().get("status").is_none(), "{:?}", applied[1].body);
    assert_eq!(applied[3].body.as_ref().unwrap()["status"], 5, "completed after the entry");
    // Reused: the same link a second time.
    let again = approval::decide_request(&s.local.deps, &id, &form(&token, "approve"), chrono::Utc::now()).await;
    assert!(matches!(again, Err(ApprovalError::AlreadyDecided { .. })), "{again:?}");
    assert_eq!(again.unwrap_err().status(), 409);
    s.local.settle(10).await;
    assert_eq!(writes(&s, t).len(), 4, "nothing more was written");
    // The link opened again says what is true now: the entry written and the ticket completed, read from Autotask.
    let page = approval::handle_http(&s.local.deps, "GET", &id, &format!("t={token}"), b"", chrono::Utc::now()).await;
    assert!(page.html.contains("); the ticket is completed (read from Autotask just now)"), "{}", page.html);
    // A person reopens it: the page no longer says completed.
    let reopened = json!({"status": 1}).as_object().unwrap().clone();
    assert!(s.sandbox().simulate_ticket_update(t, reopened, s.human()));
    let page = approval::handle_http(&s.local.deps, "GET", &id, &format!("t={token}"), b"", chrono::Utc::now()).await;
    assert!(page.html.contains("the ticket is not complete in Autotask right now"), "{}", page.html);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_writes_an_internal_note_only() {
    let s = Stack::start().await;
    let (t, id, token) = pending(&s).await;
    let mut f = form(&token, "reject");
    f.reason = Some("customer asked to wait".into());
    assert_eq!(approval::decide_request(&s.local.deps, &id, &f, chrono::Utc::now()).await, Ok(Decided::Rejected));
    s.local.settle(20).await;
    assert_eq!(writes(&s, t), [NOTE]);
    assert_eq!(s.applied_writes()[0].body.as_ref().unwrap()["publish"], 2);
    assert!(
        s.applied_writes()[0].body.as_ref().unwrap()["description"]
            .as_str()
            .unwrap()
            .contains("customer asked to wait")
    );
    let a = s.local.deps.state.approval(&id).await.unwrap().unwrap();
    assert_eq!((a.state, a.note.as_deref()), (ApprovalState::Rejected, Some("customer asked to wait")));
    // The note is recorded with Autotask's id, and the ticket's timeline lists it.
    let note_id = s.local.deps.state.note(&a.action_id).await.unwrap().expect("a note record").note_id;
    let row = s.sandbox().row("TicketNotes", note_id).expect("the recorded id is the note Autotask holds");
    assert_eq!((row["ticketID"].as_i64(), row["title"].as_str()), (Some(t), Some("atpilot suggestion rejected")));
    let tl =
        atpilot_agent::html::timeline::timeline(&s.local.deps.state, TicketId::new(t).unwrap(), None).await.unwrap();
    let titles: Vec<&str> = tl.entries.iter().map(|e| e.title.as_str()).collect();
    assert!(titles.contains(&format!("Internal note {note_id} posted").as_str()), "{titles:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_then_approve_sends_the_edited_reply() {
    let s = Stack::start().await;
    let (t, id, token) = pending(&s).await;
    let mut f = form(&token, "approve");
    f.draft = Some("Hello, your MFA is ready. Call us on the usual number if the app asks for a code.".into());
    approval::decide_request(&s.local.deps, &id, &f, chrono::Utc::now()).await.unwrap();
    s.local.settle(20).await;
    assert_eq!(writes(&s, t)[1], NOTE, "the reply follows the ticket's fields");
    let note = s.applied_writes()[1].body.clone().unwrap();
    assert_eq!(note["publish"], 1);
    assert!(note["description"].as_str().unwrap().starts_with("Hello, your MFA is ready."));
    assert_eq!(
        s.local.deps.state.approval(&id).await.unwrap().unwrap().note.as_deref(),
        Some("reply edited by the approver")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_too_long_for_a_note_or_emptied_is_refused_and_shown_again_as_written() {
    let s = Stack::start().await;
    let (t, id, token) = pending(&s).await;
    let before = s.applied_writes().len();
    let post = |draft: String| {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("t", &token)
            .append_pair("decision", "approve")
            .append_pair("draft", &draft)
            .append_pair("reason", &format!("typed by mistake{}", ".".repeat(2_000)))
            .finish();
        let deps = s.local.deps.clone();
        let id = id.clone();
        async move { approval::handle_http(&deps, "POST", &id, "", body.as_bytes(), chrono::Utc::now()).await }
    };
    // Autotask would keep 32,000 characters of a note: a longer edit is refused, not cut.
    let long = format!("Hello <b>there</b>,\n{}END", "z".repeat(8_000));
    let page = post(long.clone()).await;
    assert_eq!(page.status, 400, "{}", page.html);
    assert!(page.html.contains("id=error") && page.html.contains("longer than 8000 characters"), "{}", page.html);
    let kept = long.replace('<', "&lt;").replace('>', "&gt;");
    assert!(page.html.contains(&format!("<textarea name=draft id=draft>\n{kept}</textarea>")), "kept whole, escaped");
    assert!(page.html.contains(&format!("value=\"typed by mistake{}\"", ".".repeat(2_000))), "the reason is kept too");
    assert!(page.html.contains("You chose <b>Approve</b>"), "the choice is remembered");
    assert_eq!(state_of(&s, &id).await, ApprovalState::Pending);
    assert_eq!(s.applied_writes().len(), before, "nothing written to Autotask");
    // An emptied reply box is refused too: the original draft is what the approver deleted.
    let page = post("  \r\n \t".into()).await;
    assert_eq!(page.status, 400, "{}", page.html);
    assert!(page.html.contains("the reply is empty: write the reply"), "{}", page.html);
    assert_eq!(state_of(&s, &id).await, ApprovalState::Pending);
    assert_eq!(s.applied_writes().len(), before, "nothing written to Autotask");

    // Shortened, the same form decides. A browser sends line breaks as CR LF:
    // 2,100 lines are 6,300 characters as the approver saw them (8,400 sent),
    // within the limit, and posted with plain line breaks.
    let page = post("Hi\r\n".repeat(2_100)).await;
    assert_eq!(page.status, 200, "{}", page.html);
    s.local.settle(20).await;
    assert_eq!(state_of(&s, &id).await, ApprovalState::Approved);
    assert!(writes(&s, t).contains(&NOTE.to_string()));
    let note = s.applied_writes().into_iter().find(|w| w.path.ends_with("/Notes")).unwrap().body.unwrap();
    let text = note["description"].as_str().unwrap();
    assert!(text.starts_with("Hi\nHi\n") && !text.contains('\r'), "{}", &text[..40]);
}

/// The local approvals page (no sign-in).
async fn approvals_page(s: &Stack) -> String {
    use tower::ServiceExt;
    let web = atpilot_web::Web::new(s.local.deps.state.clone(), s.local.deps.config.clone(), None);
    let get = axum::http::Request::get("/approvals/").header("host", "127.0.0.1").body(axum::body::Body::empty());
    let page = atpilot_web::dashboard_routes(std::sync::Arc::new(web)).oneshot(get.unwrap()).await.unwrap();
    String::from_utf8(axum::body::to_bytes(page.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sent_by_email_and_teams_offers_its_approvers_link_once() {
    let s = Stack::start().await;
    s.pending_request().await;
    let outbox = s.local.deps.state.outbox(10).await.unwrap();
    assert!(outbox.iter().any(|m| m.channel == "teams") && outbox.iter().any(|m| m.channel == "email"));
    let html = approvals_page(&s).await;
    assert_eq!(html.matches(&format!(">Open as {APPROVER}</a>")).count(), 1, "{html}");
}

/// A request sent only to Teams (no e-mail) is still opened from the local
/// approvals page: "Open as" the approver, from the card's own button.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_sent_only_to_teams_is_opened_as_its_approver_from_the_approvals_page() {
    let mut s = Stack::start().await;
    let mut config = (*s.local.deps.config).clone();
    for c in config.categories.values_mut() {
        c.channels = [atpilot_config::Channel::Teams].into();
    }
    s.local.deps.config = std::sync::Arc::new(config);
    let (_, id) = s.pending_request().await;
    let outbox = s.local.deps.state.outbox(10).await.unwrap();
    assert!(outbox.iter().all(|m| m.channel == "teams"), "Teams only: {outbox:?}");

    let html = approvals_page(&s).await;
    let anchor = format!("\">Open as {APPROVER}</a>");
    let at = html.find(&anchor).unwrap_or_else(|| panic!("no Open as link: {html}"));
    // minijinja's HTML escaping of the attribute, undone
    let href = html[..at].rsplit("href=\"").next().unwrap().replace("&#x2f;", "/").replace("&amp;", "&");
    let (path, query) = href.split_once('?').unwrap();
    assert_eq!(path, format!("http://127.0.0.1:8080/approvals/{id}"));
    let page = approval::handle_http(&s.local.deps, "GET", &id, query, b"", chrono::Utc::now()).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains(&format!("<b id=approver>{APPROVER}</b>")), "{}", page.html);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_forged_and_wrong_approver_links_change_nothing() {
    let s = Stack::start().await;
    let (t, id, token) = pending(&s).await;
    let key = s.local.deps.approval_key.expose().to_vec();
    let now = chrono::Utc::now();
    // Expired.
    let old = sign_token(&key, &Claims { a: id.clone(), e: APPROVER.into(), x: now.timestamp() - 1 });
    let e = approval::decide_request(&s.local.deps, &id, &form(&old, "approve"), now).await.unwrap_err();
    assert!(matches!(e, ApprovalError::Expired(_)) && e.status() == 410, "{e:?}");
    // Forged: one character changed, or signed with another key, or for another request.
    let mut bytes = token.clone().into_bytes();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    for bad in [
        tampered,
        sign_token(
            b"another-key-another-key-another-k",
            &Claims { a: id.clone(), e: APPROVER.into(), x: now.timestamp() + 60 },
        ),
        "garbage".into(),
    ] {
        let e = approval::decide_request(&s.local.deps, &id, &form(&bad, "approve"), now).await.unwrap_err();
        assert_eq!(e, ApprovalError::Forged, "{bad}");
        assert_eq!(e.status(), 403);
    }
    // A link cut short (no token at all) is told apart from a forged one.
    let e = approval::decide_request(&s.local.deps, &id, &form("", "approve"), now).await.unwrap_err();
    assert_eq!((e.status(), e.clone()), (403, ApprovalError::NoToken));
    let page = approval::handle_http(&s.local.deps, "GET", &id, "", b"", now).await;
    assert!(page.html.contains("carries no approval token") && page.status == 403, "{}", page.html);
    let other_request = sign_token(
        &key,
        &Claims { a: "act-000000000000000000000000".into(), e: APPROVER.into(), x: now.timestamp() + 60 },
    );
    assert_eq!(
        approval::decide_request(&s.local.deps, &id, &form(&other_request, "approve"), now).await.unwrap_err(),
        ApprovalError::Forged
    );
    // A genuine token for someone who is not an approver of this category.
    let mallory =
        sign_token(&key, &Claims { a: id.clone(), e: "mallory@elsewhere.example".into(), x: now.timestamp() + 60 });
    let e = approval::decide_request(&s.local.deps, &id, &form(&mallory, "approve"), now).await.unwrap_err();
    assert!(matches!(e, ApprovalError::NotAnApprover(_)) && e.status() == 403);
    assert_eq!(state_of(&s, &id).await, ApprovalState::Pending);
    assert!(writes(&s, t).is_empty());
    // Unanswered requests expire on the schedule.
    let swept = approval::sweep(&s.local.deps, now + chrono::Duration::hours(25)).await.unwrap();
    assert_eq!(swept.expired, 1);
    assert_eq!(state_of(&s, &id).await, ApprovalState::Expired);
    let e = approval::decide_request(&s.local.deps, &id, &form(&token, "approve"), now).await.unwrap_err();
    assert!(matches!(e, ApprovalError::AlreadyDecided { state: "expired", .. }), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_prefetch_changes_nothing() {
    let s = Stack::start().await;
    let (t, id, token) = pending(&s).await;
    for intent in ["approve", "reject", ""] {
        for method in ["GET", "HEAD"] {
            let p = approval::handle_http(
                &s.local.deps,
                method,
                &id,
                &format!("t={token}&intent={intent}"),
                b"",
                chrono::Utc::now(),
            )
            .await;
            assert_eq!(p.status, 200);
        }
    }
    assert_eq!(state_of(&s, &id).await, ApprovalState::Pending);
    assert!(writes(&s, t).is_empty(), "{:?}", writes(&s, t));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_posts_exactly_one_wins() {
    let s = Stack::start().await;
    let (t, id, token) = pending(&s).await;
    let now = chrono::Utc::now();
    let (yes, no) = (form(&token, "approve"), form(&token, "reject"));
    let (a, b) = tokio::join!(
        approval::decide_request(&s.local.deps, &id, &yes, now),
        approval::decide_request(&s.local.deps, &id, &no, now)
    );
    assert_eq!([a.is_ok(), b.is_ok()].iter().filter(|x| **x).count(), 1, "{a:?} {b:?}");
    s.local.settle(20).await;
    let w = writes(&s, t);
    assert!(
        w == [NOTE]
            || w == [
                "PATCH /atservicesrest/V1.0/Tickets",
                NOTE,
                "POST /atservicesrest/V1.0/TimeEntries",
                "PATCH /atservicesrest/V1.0/Tickets"
            ],
        "{w:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_ticket_is_refused_with_an_explanation() {
    let s = Stack::start().await;
    let (t, id, token) = pending(&s).await;
    let mut fields = serde_json::Map::new();
    fields.insert("status".into(), json!(8));
    s.sandbox().simulate_ticket_update(t, fields, s.human());
    s.sandbox().clear_requests();
    // Opened first: the page says so before anything is read or typed, and changes nothing.
    let now = chrono::Utc::now();
    let page = approval::handle_http(&s.local.deps, "GET", &id, &format!("t={token}"), b"", now).await;
    assert_eq!(page.status, 409, "{}", page.html);
    assert!(page.html.contains("the ticket changed since the request") && !page.html.contains("id=decision"));
    assert_eq!(s.local.deps.state.approval(&id).await.unwrap().unwrap().state, ApprovalState::Pending);
    let e =
        approval::decide_request(&s.local.deps, &id, &form(&token, "approve"), chrono::Utc::now()).await.unwrap_err();
    assert!(matches!(&e, ApprovalError::Stale(why) if why.contains("status")), "{e:?}");
    assert_eq!(e.status(), 409);
    assert!(writes(&s, t).is_empty());
    let a = s.local.deps.state.approval(&id).await.unwrap().unwrap();
    assert_eq!(a.state, ApprovalState::Expired, "counted as an expiry, not a rejection");
    // Expired by atpilot, not by whoever happened to open it; the note names them.
    assert_eq!(a.decided_by, None);
    assert!(a.note.as_deref().unwrap().ends_with(&format!("found when {APPROVER} decided")), "{:?}", a.note);
    let page = approval::handle_http(&s.local.deps, "GET", &id, &format!("t={token}"), b"", now).await;
    assert!(page.html.contains("already expired by atpilot"), "{}", page.html);
    // The timeline does not say nobody answered: the note says why.
    let tl =
        atpilot_agent::html::timeline::timeline(&s.local.deps.state, TicketId::new(t).unwrap(), None).await.unwrap();
    let titles: Vec<&str> = tl.entries.iter().map(|e| e.title.as_str()).collect();
    assert!(
        titles.contains(&"Expired without being carried out (why: the note below); nothing was done"),
        "{titles:?}"
    );
    let _ = TicketId::new(t);
}

/// A request whose ticket a person closed leaves the pending lists on the
/// next sweep, expired by atpilot with why; one whose ticket is unchanged stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_expires_a_request_whose_ticket_was_closed() {
    let s = Stack::start().await;
    let (t, closed, _) = pending(&s).await;
    let (_, kept, _) = pending(&s).await;
    let fields = json!({"status": 5}).as_object().unwrap().clone();
    assert!(s.sandbox().simulate_ticket_update(t, fields, s.human()));
    let report = approval::sweep(&s.local.deps, chrono::Utc::now()).await.unwrap();
    assert_eq!(report.stale_expired, 1, "{report:?}");
    let a = s.local.deps.state.approval(&closed).await.unwrap().unwrap();
    assert_eq!((a.state, a.decided_by.as_deref()), (ApprovalState::Expired, None));
    assert!(a.note.as_deref().unwrap().contains("found by atpilot before anyone decided"), "{:?}", a.note);
    assert_eq!(state_of(&s, &kept).await, ApprovalState::Pending);
    assert_eq!(approval::sweep(&s.local.deps, chrono::Utc::now()).await.unwrap().stale_expired, 0, "once");
    assert!(writes(&s, t).is_empty(), "nothing written to Autotask");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_moved_to_another_queue_is_not_carried_out() {
    let s = Stack::start().await;
    let (t, id, token) = pending(&s).await;
    let queue = s.sandbox().row("Tickets", t).unwrap()["queueID"].as_i64().unwrap();
    let other = s.sandbox().facts().queues.iter().map(|q| q.0).find(|q| *q != queue).unwrap();
    let mut fields = serde_json::Map::new();
    fields.insert("queueID".into(), json!(other));
    s.sandbox().simulate_ticket_update(t, fields, s.human());
    s.sandbox().clear_requests();
    let e =
        approval::decide_request(&s.local.deps, &id, &form(&token, "approve"), chrono::Utc::now()).await.unwrap_err();
    assert!(matches!(&e, ApprovalError::Stale(why) if why.contains("moved to another queue")), "{e:?}");
    assert!(writes(&s, t).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approving_in_the_browser_writes_exactly_the_action_and_one_time_entry() {
    let s = Stack::start().await;
    let (t, id, token) = pending(&s).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // The router the approval Lambda serves, with its headers.
    let app = atpilot_web::approval_function_routes(s.local.deps.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    // The deployed headers, on the very router the approval Lambda serves (at both of its paths).
    for path in [format!("/approvals/{id}?t={token}"), format!("/{id}?t={token}")] {
        let res = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        for (name, value) in atpilot_web::SECURITY_HEADERS {
            assert_eq!(res.headers().get(&name).and_then(|v| v.to_str().ok()), Some(value), "{name} on {path}");
        }
    }
    let Some(browser) = atpilot_e2e::browser::Browser::start().await else { return };
    browser.goto(&format!("{base}/approvals/{id}?t={token}&intent=approve")).await;
    assert_eq!(browser.text("#approver").await, APPROVER);
    // The approver sees what the customer asked, and who asked.
    let page = browser.text("table").await;
    assert!(page.contains("Please set up the authenticator app on my new phone"), "{page}");
    assert!(page.contains("Requester (from Autotask)"), "{page}");
    assert!(writes(&s, t).is_empty(), "opening the link wrote nothing");
    browser.click("#approve").await;
    assert_eq!(browser.text("#result").await, "Approved");
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("approval-approved.png");
    browser.screenshot(&shot).await;
    s.local.settle(40).await;
    assert_eq!(
        writes(&s, t),
        [
            // The fields before the customer reply: "done" is said only once the ticket says so.
            "PATCH /atservicesrest/V1.0/Tickets",
            NOTE,
            "POST /atservicesrest/V1.0/TimeEntries",
            "PATCH /atservicesrest/V1.0/Tickets"
        ]
    );
    // The browser's back-and-resubmit is refused.
    browser.goto(&format!("{base}/approvals/{id}?t={token}")).await;
    assert!(browser.text("#message").await.contains("already approved"));
}

#[tokio::test]
async fn teams_card_validates_against_the_adaptive_card_schema_it_declares() {
    let s = Stack::start().await;
    let (_t, _id, _token) = pending(&s).await;
    let card = s.local.deps.state.outbox(10).await.unwrap().into_iter().find(|m| m.channel == "teams").unwrap();
    let body: serde_json::Value = serde_json::from_str(&card.body).unwrap();
    let content = body["attachments"][0]["content"].clone();
    assert_eq!(content["version"], approval::CARD_VERSION);
    let Some(python) = std::env::var("ATPILOT_PYTHON").ok() else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "ATPILOT_PYTHON must be set in CI (scripts/test sets it)"
        );
        eprintln!(
            "SKIPPED: set ATPILOT_PYTHON (scripts/test does) to validate the card against the Adaptive Card schema"
        );
        return;
    };
    let file = std::env::temp_dir().join(format!("atpilot-card-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(&content).unwrap()).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/validate_card.py");
    let out = std::process::Command::new(python).arg(script).arg(&file).output().expect("python runs");
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
}

/// With sign-in on, the signed-in person decides, and must be an approver of
/// the category (or an admin): anyone else holding the link decides nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_in_person_decides_only_as_an_approver_of_the_category() {
    let s = Stack::start().await;
    let (_t, id, token) = pending(&s).await;
    let mut as_stranger = form(&token, "approve");
    as_stranger.signed_in = Some("stranger@example.org".into());
    let e = approval::decide_request(&s.local.deps, &id, &as_stranger, chrono::Utc::now()).await.unwrap_err();
    assert_eq!(e.status(), 403, "{e}");
    assert!(e.to_string().contains("stranger@example.org (signed in) is not an approver"), "{e}");
    assert_eq!(state_of(&s, &id).await, ApprovalState::Pending, "nothing decided");
    // An approver of another category is refused too.
    let mut s = s;
    let mut config = (*s.local.deps.config).clone();
    let reset: atpilot_domain::Category = "password-reset".parse().unwrap();
    config.categories.get_mut(&reset).unwrap().approvers.push("pat@msp.example".into());
    s.local.deps.config = std::sync::Arc::new(config);
    let mut as_other = form(&token, "approve");
    as_other.signed_in = Some("pat@msp.example".into());
    let e = approval::decide_request(&s.local.deps, &id, &as_other, chrono::Utc::now()).await.unwrap_err();
    assert_eq!(e.status(), 403, "{e}");
    assert!(e.to_string().contains("pat@msp.example (signed in) is not an approver of this category"), "{e}");
    assert_eq!(state_of(&s, &id).await, ApprovalState::Pending, "nothing decided");
    let mut as_approver = form(&token, "reject");
    as_approver.signed_in = Some("Dispatch@MSP.example".into());
    assert_eq!(
        approval::decide_request(&s.local.deps, &id, &as_approver, chrono::Utc::now()).await,
        Ok(Decided::Rejected)
    );
    let a = s.local.deps.state.approval(&id).await.unwrap().unwrap();
    assert_eq!(a.decided_by.as_deref(), Some("Dispatch@MSP.example"), "recorded as the signed-in person");
}

/// Approved, then carrying it out is interrupted (a refused write): the
/// approver is told the truth (approved; the sweep finishes it, nothing to
/// click), and the scheduled sweep does finish it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_interrupted_midway_is_said_so_and_finished_by_the_sweep() {
    let s = Stack::start().await;
    let (t, id, token) = pending(&s).await;
    let mut deps = s.local.deps.clone();
    let hooked = atpilot_e2e::hooked::Hooked::new(s.local.deps.autotask.clone());
    hooked.deny_updates.store(1, std::sync::atomic::Ordering::SeqCst);
    deps.autotask = std::sync::Arc::new(hooked);
    let e = approval::decide_request(&deps, &id, &form(&token, "approve"), chrono::Utc::now()).await.unwrap_err();
    assert!(matches!(e, ApprovalError::Interrupted(_)), "{e:?}");
    assert!(e.to_string().contains("next scheduled sweep") && !e.to_string().contains("nothing was changed"), "{e}");
    assert_eq!(state_of(&s, &id).await, ApprovalState::Approved);
    let later = chrono::Utc::now() + chrono::Duration::minutes(3);
    let report = approval::sweep(&s.local.deps, later).await.unwrap();
    assert_eq!((report.re_executed, report.re_execute_failed), (1, 0), "{report:?}");
    assert!(writes(&s, t).iter().any(|w| w.starts_with("PATCH")), "the sweep wrote the fields: {:?}", writes(&s, t));
}
