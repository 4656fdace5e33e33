//! KB drafts end to end: a completed ticket (the Update callout that sets the
//! complete status) becomes one unpublished article in the KB (the Hudu
//! sandbox `atpilot dev` and the tests start) and one internal note, also on
//! redelivery; a near-duplicate gets an update proposal and the existing
//! article is left alone; what a ticket says about people, credentials,
//! hosts and other customers never reaches the article; the shadow phase
//! keeps drafts on the dashboard; a ticket without a resolution is skipped.

use atpilot_autotask_sandbox::tenant::CT_RECURRING;
use atpilot_domain::TicketId;
use atpilot_e2e::Stack;
use atpilot_store::records::{KbDraftRecord, KbDraftStatus};
use serde_json::{Value, json};

/// A ticket decided at its Create callout, then completed by a technician with `resolution`.
async fn completed(s: &Stack, title: &str, description: &str, resolution: Option<&str>) -> i64 {
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(company, Some(contract), title, description, json!({}));
    let (body, sig) = s.callout("Create", t, 1, json!({}), s.human());
    assert_eq!(s.deliver(&body, &sig).await, 202);
    assert!(s.local.settle(40).await.failures.is_empty());
    let mut change = serde_json::Map::new();
    change.insert("status".into(), json!(5));
    if let Some(r) = resolution {
        change.insert("resolution".into(), json!(r));
    }
    assert!(s.sandbox().simulate_ticket_update(t, change, s.human()));
    complete_callout(s, t, 2).await;
    t
}

async fn complete_callout(s: &Stack, t: i64, seq: u64) {
    let (body, sig) = s.callout("Update", t, seq, json!({"status": 5}), s.human());
    assert_eq!(s.deliver(&body, &sig).await, 202);
    let r = s.local.settle(40).await;
    assert!(r.failures.is_empty() && r.dead_letters.is_empty(), "{r:?}");
}

async fn status(s: &Stack, t: i64) -> KbDraftStatus {
    s.local.deps.state.kb_draft(TicketId::new(t).unwrap()).await.unwrap().expect("a KB draft record").status
}

/// (title, content, company, folder) of the Hudu sandbox's articles with this title.
fn articles(s: &Stack, title: &str) -> Vec<(String, String, Option<i64>, Option<i64>)> {
    let kb = s.local.kb.as_ref().expect("the Hudu sandbox");
    kb.with_world(|w| {
        w.articles
            .iter()
            .filter(|a| a.name.starts_with(&format!("{title} [T")))
            .map(|a| (a.name.clone(), a.content.clone(), a.company_id, a.folder_id))
            .collect()
    })
}

fn kb_notes(s: &Stack, t: i64) -> Vec<String> {
    s.sandbox()
        .rows_where("TicketNotes", "ticketID", t)
        .into_iter()
        .filter_map(|n| n.get("description").and_then(Value::as_str).map(str::to_string))
        .filter(|d| d.contains(&format!("[atpilot:kb-{t}]")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_ticket_becomes_one_unpublished_draft_and_one_note_even_when_redelivered() {
    let s = Stack::start().await;
    let resolution = "Granted Full Access and Send As on the shared mailbox in the Exchange admin center.\nWaited for automapping and confirmed the mailbox appears in Outlook for the accounts team.";
    let t = completed(
        &s,
        "Shared mailbox access for accounts",
        "Please give me access to the accounts shared mailbox.",
        Some(resolution),
    )
    .await;
    let KbDraftStatus::Drafted { kb, url, unpublished, .. } = status(&s, t).await else {
        panic!("{:?}", status(&s, t).await)
    };
    assert!(!unpublished, "a Hudu article is never claimed unpublished");
    assert_eq!(kb, "Hudu");
    let stored = articles(&s, "Shared mailbox access for accounts");
    assert_eq!(stored.len(), 1, "one article");
    let company = s.sandbox().row("Tickets", t).unwrap()["companyID"].as_i64();
    assert_eq!((stored[0].2, stored[0].3), (company, Some(1)), "in the ticket's company, in the drafts folder");
    assert!(stored[0].1.contains("<li>Granted Full Access and Send As"), "{}", stored[0].1);
    let notes = kb_notes(&s, t);
    assert_eq!(notes.len(), 1, "{notes:?}");
    // Hudu has no API drafts: the note says where the article is, not that it is unpublished.
    assert!(notes[0].contains(url.as_deref().unwrap()) && notes[0].contains("drafts folder"), "{}", notes[0]);
    assert!(!notes[0].contains("unpublished"), "{}", notes[0]);

    // The same completion again (a redelivery, a second save): nothing new anywhere.
    complete_callout(&s, t, 3).await;
    assert_eq!(articles(&s, "Shared mailbox access for accounts").len(), 1);
    assert_eq!(kb_notes(&s, t).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_near_duplicate_gets_an_update_proposal_and_the_article_is_left_alone() {
    let s = Stack::start().await;
    let before = s.local.kb.as_ref().unwrap().with_world(|w| w.articles.clone());
    let resolution = "Closed Outlook.\nOpened Mail in the Control Panel and added a new Outlook profile.\nSet the new profile as the default and started Outlook; new email synced again.";
    let t =
        completed(&s, "Outlook not syncing", "My Outlook mailbox stopped syncing new email.", Some(resolution)).await;
    let KbDraftStatus::UpdateProposed { article_title, similarity, .. } = status(&s, t).await else {
        panic!("{:?}", status(&s, t).await)
    };
    assert_eq!(article_title, "Outlook not syncing: rebuild the Outlook profile");
    assert!(similarity >= 0.6, "{similarity}");
    assert_eq!(
        s.local.kb.as_ref().unwrap().with_world(|w| w.articles.clone()),
        before,
        "no article written or changed"
    );
    assert_eq!(kb_notes(&s, t).len(), 1, "the note says an update is proposed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_credentials_hosts_and_other_customers_never_reach_the_article() {
    let s = Stack::start().await;
    let other =
        s.sandbox().facts().company_ids.iter().rev().find_map(|id| {
            s.sandbox().row("Companies", *id).and_then(|r| r["companyName"].as_str().map(str::to_string))
        });
    let other = other.unwrap();
    // The requester, by the name Autotask holds for the ticket's contact.
    let (_, company) = s.contract_of_type(CT_RECURRING);
    let contact = s.sandbox().row("Contacts", *s.sandbox().contacts_of(company).first().unwrap()).unwrap();
    let first = contact["firstName"].as_str().unwrap().to_string();
    let last = contact["lastName"].as_str().unwrap().to_string();
    let resolution = format!(
        "Archived mail older than two years for jane.doe@contoso-legal.example to free the mailbox.\n\
         Temporary password Spring2026! given by phone on +1 (555) 201-4455.\n\
         Moved the archive to fs01.contoso.local (10.20.0.15); {other} had the same full mailbox last month.\n\
         Raised the mailbox quota warning to 95 percent and confirmed new mail arrives.\n\
         Called {first} {last} back to confirm."
    );
    let t = completed(&s, "Mailbox full warning", "My mailbox is full and email bounces.", Some(&resolution)).await;
    assert!(matches!(status(&s, t).await, KbDraftStatus::Drafted { .. }), "{:?}", status(&s, t).await);
    let stored = articles(&s, "Mailbox full warning");
    let content = &stored[0].1;
    for leak in ["jane.doe", "contoso-legal", "Spring2026", "555", "4455", "fs01", "10.20.0.15", &other, &first, &last]
    {
        assert!(!content.contains(leak), "{leak} leaked: {content}");
    }
    assert!(content.contains("Raised the mailbox quota warning"), "the steps stay: {content}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shadow_phase_keeps_the_draft_here_and_no_resolution_is_skipped() {
    let s = Stack::start().await;
    let resolution = "Updated the VPN client to the current version.\nSet the keep-alive to 30 seconds and confirmed a stable two-hour session.";
    let vpn = completed(&s, "VPN keeps disconnecting", "The VPN drops every 20 minutes.", Some(resolution)).await;
    let KbDraftStatus::Kept { why } = status(&s, vpn).await else { panic!("{:?}", status(&s, vpn).await) };
    assert!(why.contains("shadow phase"), "{why}");
    assert!(articles(&s, "VPN keeps disconnecting").is_empty() && kb_notes(&s, vpn).is_empty());
    let bare = completed(&s, "Outlook search broken", "Search in Outlook finds nothing.", None).await;
    assert_eq!(
        status(&s, bare).await,
        KbDraftStatus::Skipped { why: "no resolution was written on the ticket".into() }
    );
    assert!(articles(&s, "Outlook search broken").is_empty() && kb_notes(&s, bare).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_is_resumed_from_the_record_never_drafted_twice() {
    let s = Stack::start().await;
    let resolution = "Granted Full Access and Send As on the shared mailbox in the Exchange admin center.\nWaited for automapping and confirmed the mailbox appears in Outlook.";
    // Claimed before a crash: the claimed title and body are what gets drafted.
    let (contract, company) = s.contract_of_type(CT_RECURRING);
    let t = s.create_ticket(
        company,
        Some(contract),
        "Shared mailbox for sales",
        "Access to the sales mailbox please.",
        json!({}),
    );
    let (body, sig) = s.callout("Create", t, 1, json!({}), s.human());
    assert_eq!(s.deliver(&body, &sig).await, 202);
    assert!(s.local.settle(40).await.failures.is_empty());
    let mut change = serde_json::Map::new();
    change.insert("status".into(), json!(5));
    change.insert("resolution".into(), json!(resolution));
    assert!(s.sandbox().simulate_ticket_update(t, change, s.human()));
    let number = s.sandbox().row("Tickets", t).unwrap()["ticketNumber"].as_str().unwrap().to_string();
    let claimed = KbDraftRecord {
        ticket_id: TicketId::new(t).unwrap(),
        ticket_number: number.clone(),
        at: chrono::Utc::now(),
        category: "email".into(),
        title: format!("Claimed title [{number}]"),
        html: "<p>Claimed body with enough words to be a real article here.</p>".into(),
        status: KbDraftStatus::Drafting,
        note_id: None,
    };
    s.local.deps.state.claim_kb_draft(&claimed).await.unwrap();
    complete_callout(&s, t, 2).await;
    assert_eq!(articles(&s, "Claimed title").len(), 1, "the claimed draft, once");
    assert!(articles(&s, "Shared mailbox for sales").is_empty(), "not a second one from the ticket");
    assert_eq!(kb_notes(&s, t).len(), 1);

    // Placed before a crash, its note not written: a retry writes the note only.
    let mut placed = s.local.deps.state.kb_draft(TicketId::new(t).unwrap()).await.unwrap().unwrap();
    placed.note_id = None;
    s.local.deps.state.save_kb_draft(&placed).await.unwrap();
    let before = s.local.kb.as_ref().unwrap().with_world(|w| w.articles.len());
    complete_callout(&s, t, 3).await;
    assert_eq!(s.local.kb.as_ref().unwrap().with_world(|w| w.articles.len()), before, "no new article");
    assert_eq!(kb_notes(&s, t).len(), 1, "the note, found by its marker, not written twice");
    assert!(s.local.deps.state.kb_draft(TicketId::new(t).unwrap()).await.unwrap().unwrap().note_id.is_some());
}
