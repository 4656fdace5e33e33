//! Proactive status updates end to end, on the Autotask sandbox: a
//! long-running ticket gets one request to its technician, and after
//! approval (with an edit) exactly one customer-visible note and one time
//! entry, also when the approver clicks twice or the scan runs again;
//! customer-visible activity meanwhile drops the pending update (also when
//! the API's notes do not stamp `lastCustomerVisibleActivityDateTime`); a
//! ticket waiting on the customer or disengaged gets none; a rejection
//! reaches no customer and is noted on the ticket; the kill switch decides
//! nothing.

use atpilot_agent::handlers::approval::handle_http;
use atpilot_agent::handlers::status_updates::scan;
use atpilot_autotask_sandbox::tenant::CT_RECURRING;
use atpilot_domain::TicketId;
use atpilot_e2e::Stack;
use atpilot_store::records::{StatusUpdateRecord, StatusUpdateState};
use chrono::{Duration, Utc};
use serde_json::{Map, json};

fn ts(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A ticket opened three years ago, assigned to a technician, whose customer
/// last heard something `contact_days` ago, with two time entries since.
fn long_running(s: &Stack, status: i64, contact_days: i64) -> i64 {
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(
        company,
        Some(contract),
        "Docking station drops monitors",
        "Both monitors go black.",
        json!({}),
    );
    let now = Utc::now();
    let mut f = Map::new();
    f.insert("createDate".into(), json!(ts(now - Duration::days(1100))));
    f.insert("status".into(), json!(status));
    f.insert("assignedResourceID".into(), json!(s.human()));
    f.insert("assignedResourceRoleID".into(), json!(1));
    f.insert("lastCustomerVisibleActivityDateTime".into(), json!(ts(now - Duration::days(contact_days))));
    assert!(s.sandbox().simulate_ticket_update(t, f, s.human()));
    for (days, summary) in [
        (contact_days - 1, "Ordered a replacement docking station from the vendor."),
        (contact_days - 2, "Tested the new firmware on fs01.contoso.local (10.20.0.15)."),
    ] {
        let at = ts(now - Duration::days(days));
        let row = json!({"ticketID": t, "resourceID": s.human(), "roleID": 1, "summaryNotes": summary,
            "startDateTime": at, "endDateTime": at, "createDateTime": at, "hoursWorked": 0.5});
        s.sandbox().insert_row("TimeEntries", row.as_object().unwrap().clone()).unwrap();
    }
    t
}

async fn kill_switch(s: &Stack, on: bool) {
    let change = atpilot_store::records::KillSwitchChange {
        on,
        changed_at: Utc::now(),
        changed_by: "ops@msp.example".into(),
        via: "test".into(),
    };
    s.local.deps.state.set_kill_switch(&change).await.unwrap();
}

async fn record(s: &Stack, t: i64) -> Vec<StatusUpdateRecord> {
    let all = s.local.deps.state.status_updates(500).await.unwrap();
    all.into_iter().filter(|r| r.ticket_id == TicketId::new(t).unwrap()).collect()
}

fn technician_email(s: &Stack) -> String {
    s.sandbox().row("Resources", s.human()).unwrap()["email"].as_str().unwrap().to_string()
}

/// The query of the Open link e-mailed to `to` for the update `id`.
async fn open_query(s: &Stack, to: &str, id: &str) -> String {
    let outbox = s.local.deps.state.outbox(200).await.unwrap();
    let mail = outbox
        .iter()
        .find(|m| m.to == [to] && m.text.as_deref().is_some_and(|t| t.contains(&format!("/approvals/{id}?"))))
        .expect("the request e-mailed to the technician");
    let text = mail.text.clone().unwrap();
    let link = text.lines().find_map(|l| l.strip_prefix("Open: ")).unwrap();
    link.split_once('?').unwrap().1.to_string()
}

fn customer_notes(s: &Stack, t: i64) -> Vec<String> {
    s.sandbox()
        .rows_where("TicketNotes", "ticketID", t)
        .into_iter()
        .filter(|n| n["publish"] == json!(1))
        .map(|n| n["description"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn post(s: &Stack, id: &str, body: String) -> (u16, String) {
    let p = handle_http(&s.local.deps, "POST", id, "", body.as_bytes(), Utc::now()).await;
    (p.status, p.html)
}

fn form(query: &str, decision: &str, extra: &[(&str, &str)]) -> String {
    let token = query.split('&').find_map(|p| p.strip_prefix("t=")).unwrap();
    let mut f = url::form_urlencoded::Serializer::new(String::new());
    f.append_pair("t", token);
    f.append_pair("decision", decision);
    for (k, v) in extra {
        f.append_pair(k, v);
    }
    f.finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_running_ticket_gets_one_request_and_after_approval_exactly_one_customer_note() {
    let s = Stack::start().await;
    let t = long_running(&s, 1, 1000);
    let report = scan(&s.local.deps, Utc::now()).await.unwrap();
    assert!(report.proposed >= 1, "{report:?}");
    let r = record(&s, t).await;
    assert_eq!(r.len(), 1, "one proposal: {r:?}");
    let r = &r[0];
    assert_eq!((r.state, r.approvers.clone()), (StatusUpdateState::Pending, vec![technician_email(&s)]));
    assert!(r.draft.contains("- Ordered a replacement docking station from the vendor."), "{}", r.draft);
    for leak in ["fs01", "10.20.0.15", "0.5", "hour"] {
        assert!(!r.draft.contains(leak), "{leak} in {}", r.draft);
    }
    assert!(r.left_out.iter().any(|l| l.contains("names a person, a company, an address, a host")), "{:?}", r.left_out);

    // The scan again: still one proposal for the ticket.
    scan(&s.local.deps, Utc::now()).await.unwrap();
    assert_eq!(record(&s, t).await.len(), 1);

    // The technician opens their link (nothing changes), edits the text and approves.
    let query = open_query(&s, &technician_email(&s), r.id.as_str()).await;
    let page = handle_http(&s.local.deps, "GET", r.id.as_str(), &query, b"", Utc::now()).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("Ordered a replacement docking station") && page.html.contains("Left out of the draft"));
    assert!(customer_notes(&s, t).is_empty(), "opening the page posts nothing");
    let edited = "Hello,\n\nWe ordered a replacement docking station; it arrives on Friday and we will fit it then.";
    let (status, html) = post(&s, r.id.as_str(), form(&query, "approve", &[("draft", edited)])).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("read back from Autotask") && html.contains("time entry"), "{html}");
    let notes = customer_notes(&s, t);
    assert_eq!(notes, vec![edited.to_string()], "exactly one customer-visible note, as edited");
    let posted = record(&s, t).await.remove(0);
    assert_eq!((posted.state, posted.edited), (StatusUpdateState::Posted, true));
    assert_eq!(posted.decided_by, Some(technician_email(&s)));

    // Its time is logged once; the ticket stays open.
    let settled = s.local.settle(20).await;
    assert!(settled.failures.is_empty(), "{settled:?}");
    let agent = s.sandbox().facts().agent_resource_id;
    let entries: Vec<_> = s
        .sandbox()
        .rows_where("TimeEntries", "ticketID", t)
        .into_iter()
        .filter(|e| e["resourceID"] == json!(agent))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_ne!(s.sandbox().row("Tickets", t).unwrap()["status"], json!(5), "a status update completes nothing");

    // A second click, and later scans, add nothing.
    let (again, html) = post(&s, r.id.as_str(), form(&query, "approve", &[])).await;
    assert_eq!(again, 409, "{html}");
    scan(&s.local.deps, Utc::now()).await.unwrap();
    assert_eq!(customer_notes(&s, t).len(), 1);
    assert_eq!(record(&s, t).await.len(), 1, "the customer just heard from us: nothing new is proposed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_activity_meanwhile_drops_the_pending_update_even_without_the_tickets_stamp() {
    let s = Stack::start().await;
    // [U]: this tenant's API notes do not stamp the ticket; the note itself must be seen.
    s.sandbox().set_knobs(|k| k.notes_stamp_customer_visible = false);
    let t = long_running(&s, 1, 1000);
    scan(&s.local.deps, Utc::now()).await.unwrap();
    let r = record(&s, t).await.remove(0);
    let query = open_query(&s, &technician_email(&s), r.id.as_str()).await;
    // A technician answers the customer in Autotask meanwhile.
    let note = json!({"ticketID": t, "title": "Update", "description": "The new dock ships today.", "noteType": 1,
        "publish": 1, "createDateTime": ts(Utc::now())});
    s.sandbox().insert_row("TicketNotes", note.as_object().unwrap().clone()).unwrap();
    let (status, html) = post(&s, r.id.as_str(), form(&query, "approve", &[])).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("the customer heard from the MSP meanwhile"), "{html}");
    assert_eq!(customer_notes(&s, t), vec!["The new dock ships today.".to_string()], "nothing of atpilot's posted");
    assert_eq!(record(&s, t).await[0].state, StatusUpdateState::Dropped);

    // The scan drops one pending too.
    let t2 = long_running(&s, 1, 1000);
    scan(&s.local.deps, Utc::now()).await.unwrap();
    assert_eq!(record(&s, t2).await[0].state, StatusUpdateState::Pending);
    let note = json!({"ticketID": t2, "title": "Update", "description": "On it.", "noteType": 1, "publish": 1,
        "createDateTime": ts(Utc::now() + Duration::seconds(1))});
    s.sandbox().insert_row("TicketNotes", note.as_object().unwrap().clone()).unwrap();
    let report = scan(&s.local.deps, Utc::now() + Duration::seconds(2)).await.unwrap();
    assert!(report.dropped >= 1, "{report:?}");
    assert_eq!(record(&s, t2).await[0].state, StatusUpdateState::Dropped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_on_the_customer_disengaged_or_recently_contacted_tickets_get_none() {
    let s = Stack::start().await;
    let waiting = long_running(&s, 7, 1000);
    let on_hold = long_running(&s, 13, 1000);
    let recent = long_running(&s, 1, 1);
    let due = long_running(&s, 1, 1000);
    scan(&s.local.deps, Utc::now()).await.unwrap();
    for t in [waiting, on_hold, recent] {
        assert!(record(&s, t).await.is_empty(), "ticket {t} got a proposal");
    }
    assert_eq!(record(&s, due).await.len(), 1, "the control ticket did");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_reaches_no_customer_is_noted_and_the_kill_switch_decides_nothing() {
    let s = Stack::start().await;
    let t = long_running(&s, 1, 1000);
    scan(&s.local.deps, Utc::now()).await.unwrap();
    let r = record(&s, t).await.remove(0);
    let query = open_query(&s, &technician_email(&s), r.id.as_str()).await;

    // Someone else's link, or a forged one, decides nothing.
    let (status, _) = post(&s, r.id.as_str(), "t=v1.forged.sig&decision=approve".into()).await;
    assert_eq!(status, 403);

    kill_switch(&s, true).await;
    let (status, html) = post(&s, r.id.as_str(), form(&query, "approve", &[])).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("kill switch"), "{html}");
    assert_eq!(record(&s, t).await[0].state, StatusUpdateState::Pending);
    kill_switch(&s, false).await;

    // A reason too long for a note is refused, nothing is decided, and the
    // page comes back with why and the reason as typed.
    let long_reason = format!("<i>{}", "x".repeat(3000));
    let (status, html) = post(&s, r.id.as_str(), form(&query, "reject", &[("reason", &long_reason)])).await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("id=error") && html.contains("longer than 2000 characters"), "{html}");
    assert!(html.contains(&format!("value=\"&lt;i&gt;{}\"", "x".repeat(3000))), "the reason is kept, escaped");
    assert!(html.contains(&format!(">\n{}</textarea>", r.draft)), "the draft is still there");
    assert_eq!(record(&s, t).await[0].state, StatusUpdateState::Pending);
    // So is an edited text too long for a note: kept as written, not cut.
    let long_text = format!("Dear customer,\n{}END", "y".repeat(8_000));
    let (status, html) = post(&s, r.id.as_str(), form(&query, "approve", &[("draft", &long_text)])).await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("longer than 8000 characters"), "{html}");
    assert!(html.contains(&format!(">\n{long_text}</textarea>")), "the edited text is kept whole");
    assert_eq!(record(&s, t).await[0].state, StatusUpdateState::Pending);
    assert!(customer_notes(&s, t).is_empty());
    let (status, html) = post(&s, r.id.as_str(), form(&query, "reject", &[("reason", "I called them today")])).await;
    assert_eq!(status, 200, "{html}");
    assert!(customer_notes(&s, t).is_empty());
    let internal: Vec<String> = s
        .sandbox()
        .rows_where("TicketNotes", "ticketID", t)
        .into_iter()
        .filter_map(|n| n["description"].as_str().map(str::to_string))
        .filter(|d| d.contains(&r.id.marker()))
        .collect();
    assert_eq!(internal.len(), 1, "{internal:?}");
    assert!(internal[0].contains("I called them today"));
    let decided = record(&s, t).await.remove(0);
    assert_eq!((decided.state, decided.note.as_deref()), (StatusUpdateState::Rejected, Some("I called them today")));
    // Rejected: none is proposed again while the ticket cools down.
    scan(&s.local.deps, Utc::now()).await.unwrap();
    assert_eq!(record(&s, t).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sign_in_only_the_signed_in_technician_or_an_admin_decides() {
    use atpilot_agent::handlers::approval::{SignedInPerson, handle_http_as};
    let s = Stack::start().await;
    let mut deps = s.local.deps.clone();
    deps.signin = true;
    let t = long_running(&s, 1, 1000);
    scan(&deps, Utc::now()).await.unwrap();
    let r = record(&s, t).await.remove(0);
    let tech = technician_email(&s);
    // The e-mail carries one Review link, no approver-bound links.
    let outbox = s.local.deps.state.outbox(200).await.unwrap();
    let mail = outbox.iter().find(|m| m.to == [tech.as_str()] && m.subject.contains(&r.ticket_number)).unwrap();
    let text = mail.text.clone().unwrap();
    assert!(text.contains("\nReview: ") && !text.contains("\nApprove: "), "{text}");
    let reference =
        text.lines().find_map(|l| l.strip_prefix("Review: ")).unwrap().split_once('?').unwrap().1.to_string();

    // The link alone opens nothing; signed in, the page shows the draft.
    let page = handle_http_as(&deps, "GET", r.id.as_str(), &reference, b"", Utc::now(), None).await;
    assert_eq!(page.status, 401, "{}", page.html);
    let as_tech = SignedInPerson { email: &tech, csrf: "form-token" };
    let page = handle_http_as(&deps, "GET", r.id.as_str(), &reference, b"", Utc::now(), Some(as_tech)).await;
    assert_eq!(page.status, 200, "{}", page.html);

    // Someone else signed in is refused; a POST without the session's form token too.
    let body = format!("{reference}&csrf=form-token&decision=approve");
    let other = SignedInPerson { email: "someone@msp.example", csrf: "form-token" };
    let page = handle_http_as(&deps, "POST", r.id.as_str(), "", body.as_bytes(), Utc::now(), Some(other)).await;
    assert_eq!(page.status, 403, "{}", page.html);
    assert!(page.html.contains("assigned technician"), "{}", page.html);
    let stale = format!("{reference}&csrf=old&decision=approve");
    let page = handle_http_as(&deps, "POST", r.id.as_str(), "", stale.as_bytes(), Utc::now(), Some(as_tech)).await;
    assert_eq!(page.status, 403, "{}", page.html);
    assert!(customer_notes(&s, t).is_empty());

    let page = handle_http_as(&deps, "POST", r.id.as_str(), "", body.as_bytes(), Utc::now(), Some(as_tech)).await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert_eq!(customer_notes(&s, t).len(), 1);
    assert_eq!(record(&s, t).await[0].decided_by.as_deref(), Some(tech.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_note_with_the_same_words_is_not_taken_for_this_update() {
    let s = Stack::start().await;
    let t = long_running(&s, 1, 1000);
    let same = "Hello, we are still working on your docking station.";
    let old = json!({"ticketID": t, "title": "Status update", "description": same, "noteType": 1, "publish": 1,
        "createDateTime": ts(Utc::now() - Duration::days(10))});
    s.sandbox().insert_row("TicketNotes", old.as_object().unwrap().clone()).unwrap();
    scan(&s.local.deps, Utc::now()).await.unwrap();
    let r = record(&s, t).await.remove(0);
    assert!(r.draft.contains("since"), "{}", r.draft);
    let query = open_query(&s, &technician_email(&s), r.id.as_str()).await;
    let (status, html) = post(&s, r.id.as_str(), form(&query, "approve", &[("draft", same)])).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(
        customer_notes(&s, t),
        vec![same.to_string(), same.to_string()],
        "written anew, not found in the old one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_written_note_that_cannot_be_read_back_is_never_written_twice_and_said_so() {
    let s = Stack::start().await;
    let t = long_running(&s, 1, 1000);
    scan(&s.local.deps, Utc::now()).await.unwrap();
    let r = record(&s, t).await.remove(0);
    let query = open_query(&s, &technician_email(&s), r.id.as_str()).await;
    let hooked = atpilot_e2e::hooked::Hooked::new(s.local.deps.autotask.clone());
    hooked.hide_customer_notes.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut deps = s.local.deps.clone();
    deps.autotask = std::sync::Arc::new(hooked);
    let body = form(&query, "approve", &[]);
    let page = handle_http(&deps, "POST", r.id.as_str(), "", body.as_bytes(), Utc::now()).await;
    assert_eq!(page.status, 202, "approved, not claimed posted: {}", page.html);
    assert!(!page.html.contains("posted the update"), "{}", page.html);
    assert_eq!(customer_notes(&s, t).len(), 1, "the note was written once");
    // The scans that finish stuck approvals never write it again, and say what happened.
    for minutes in [3, 70] {
        scan(&deps, Utc::now() + Duration::minutes(minutes)).await.unwrap();
    }
    assert_eq!(customer_notes(&s, t).len(), 1, "never a second note");
    let d = record(&s, t).await.remove(0);
    assert_eq!(d.state, StatusUpdateState::Dropped);
    let note = d.note.unwrap();
    assert!(note.contains("was written on the ticket but posting did not finish"), "{note}");
    let alerts = s.local.deps.state.alerts(20).await.unwrap();
    assert!(
        alerts.iter().any(|a| a.kind == "status-update-failed" && a.message.contains("do not post it again")),
        "{alerts:?}"
    );
}
