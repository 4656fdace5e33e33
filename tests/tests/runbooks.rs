//! The graph-reset-password runbook on the Graph sandbox: an approved
//! password reset changes the contact's password once (a second click and a
//! redelivery do nothing), requires a new one at the next sign-in, shows the
//! temporary password once to the approver and stores it nowhere; the reply
//! is written from the verified result. A refused target (an administrator,
//! a synced user, a user of another tenant) changes nothing, sends no reply
//! and logs no time.

use atpilot_agent::handlers::approval::{self, Decided, DecisionForm};
use atpilot_autotask_sandbox::tenant::CT_RECURRING;
use atpilot_autotask_sandbox::{Sandbox, SandboxConfig};
use atpilot_e2e::{APPROVER, CalibratedKeywords, api_runbook, recurring_customer};
use atpilot_local::{Local, LocalClassifier, LocalOptions, Target};
use atpilot_store::records::ApprovalState;
use serde_json::{Value, json};
use std::sync::Arc;

const PUBLIC: &str = "http://127.0.0.1:8080";

/// The demo configuration with password-reset through Graph (human in the loop).
async fn config() -> atpilot_config::Config {
    let sb =
        Sandbox::start(SandboxConfig { tickets: 300, seed: 7, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let text = atpilot_local::demo_config_text(&sb.facts(), PUBLIC);
    let old = "[categories.password-reset]\nphase = \"autonomous\"\nsafe = true\n# The reply is the work: self-service instructions; nothing is reset by atpilot.\nrunbook = \"reply-only\"\napprovers = [\"dispatch@msp.example\"]\nchannels = [\"teams\"]";
    assert!(text.contains(old), "the demo's password-reset section changed: update this test");
    let new = "[categories.password-reset]\nphase = \"human-in-the-loop\"\nsafe = true\nrunbook = \"graph-reset-password\"\napprovers = [\"dispatch@msp.example\"]\nchannels = [\"teams\", \"email\"]";
    let text = text.replace(old, new);
    atpilot_config::Config::parse(&text, "runbooks test").unwrap()
}

async fn start() -> (Local, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let local = Local::start(LocalOptions {
        state_dir: dir.path().to_path_buf(),
        target: Target::Sandbox { tickets: 300, seed: 7 },
        config: Some(config().await),
        webhook_secret: Some("e2e-webhook-secret".into()),
        public_url: PUBLIC.into(),
        classifier: LocalClassifier::Given(Arc::new(CalibratedKeywords)),
        kb_sandbox: Default::default(),
    })
    .await
    .expect("local stack starts");
    (local, dir)
}

/// A password-reset ticket from `contact` of `company`, decided: its approval id and the approver's token.
async fn request(l: &Local, company: i64, contact: i64) -> (i64, String, String) {
    let sb = l.sandbox.as_deref().unwrap();
    let f = sb.facts();
    let contract = sb
        .rows_where("Contracts", "companyID", company)
        .into_iter()
        .find(|c| c["contractType"].as_i64() == Some(CT_RECURRING))
        .map(|c| c["id"].as_i64().unwrap());
    let fields = json!({
        "companyID": company, "contractID": contract, "title": "Password reset", "status": 1, "priority": 2,
        "description": "I forgot my password and I am locked out", "queueID": f.queues[0].0, "contactID": contact,
    });
    let t = atpilot_e2e::create_and_settle(l, fields).await;
    let pending = l.deps.state.approvals_in_state(ApprovalState::Pending, 50).await.unwrap();
    let a = pending.into_iter().find(|a| a.ticket_id.get() == t).expect("an approval request");
    let link = approval::links(&l.deps, &a, APPROVER).approve;
    let token = link.split("t=").nth(1).unwrap().split('&').next().unwrap().to_string();
    (t, a.id, token)
}

fn form(token: &str) -> DecisionForm {
    DecisionForm { token: token.into(), decision: "approve".into(), draft: None, reason: None, ..Default::default() }
}

/// Every log line of this test binary, at every level (captured for the secret check).
fn captured_logs() -> Arc<std::sync::Mutex<Vec<u8>>> {
    static LOGS: std::sync::OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = buf.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || Sink(sink.clone()))
            .try_init();
        buf
    })
    .clone()
}

struct Sink(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_reset_changes_the_password_once_and_shows_it_once() {
    let logs = captured_logs();
    let (l, _dir) = start().await;
    let graph = l.graph.clone().expect("the Graph sandbox runs");
    let (company, contact, email) = recurring_customer(&l, 0);
    let tenant = atpilot_graph_sandbox::tenant_id_for(company);
    assert_eq!(graph.user(&tenant, &email).unwrap().password_changes, 0);
    let (t, id, token) = request(&l, company, contact).await;
    assert_eq!(graph.user(&tenant, &email).unwrap().password_changes, 0, "asking changes nothing");
    // The approver approves the exact plan: user and tenant are in the request.
    let mails = l.deps.state.outbox(20).await.unwrap();
    let mail = mails.iter().find(|m| m.channel == "email" && m.subject.contains("password-reset")).expect("an e-mail");
    let text = mail.text.clone().unwrap();
    let plan = format!("What Approve does: Reset the Microsoft 365 password of {email} in tenant {tenant}");
    assert!(text.contains(&plan), "{text}");
    let page = approval::handle_http(&l.deps, "GET", &id, &format!("t={token}"), b"", chrono::Utc::now()).await;
    assert!(page.html.contains(&format!("Reset the Microsoft 365 password of {email}")), "{}", page.html);

    let page = approval::handle_http(
        &l.deps,
        "POST",
        &id,
        "",
        format!("t={token}&decision=approve").as_bytes(),
        chrono::Utc::now(),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.html);
    let u = graph.user(&tenant, &email).unwrap();
    assert_eq!(u.password_changes, 1);
    assert!(u.force_change_password_next_sign_in, "a new password at the next sign-in");
    let shown = page.html.split("<code id=temporary-password>").nth(1).and_then(|s| s.split("</code>").next());
    // The page escapes it as HTML (the generator's only special character there is `&`).
    let password = shown.expect("the temporary password is shown once").replace("&amp;", "&");
    assert!(password.len() >= 12, "{password}");
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(password.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(u.password_sha256.as_deref(), Some(hash.as_str()), "the password shown is the one Graph set");
    assert!(page.html.contains("done and read back"), "{}", page.html);

    // A second click and a redelivery do nothing twice.
    let again = approval::decide_request(&l.deps, &id, &form(&token), chrono::Utc::now()).await;
    assert!(again.is_err(), "{again:?}");
    l.settle(40).await;
    assert_eq!(graph.user(&tenant, &email).unwrap().password_changes, 1);

    // The reply is written from the result; the password is nowhere but that page.
    let notes = l.sandbox.as_deref().unwrap().rows_where("TicketNotes", "ticketID", t);
    let reply = notes.iter().find(|n| n["publish"].as_i64() == Some(1)).expect("a customer reply");
    assert!(reply["description"].as_str().unwrap().contains(&format!("We reset the password of your account {email}")));
    let everywhere = format!(
        "{:?}{:?}{:?}{:?}",
        notes,
        l.deps.state.outbox(100).await.unwrap(),
        l.deps.state.ticket_decisions(atpilot_domain::TicketId::new(t).unwrap()).await.unwrap(),
        l.sandbox.as_deref().unwrap().applied_writes()
    );
    assert!(!everywhere.contains(&password), "the temporary password is stored or written somewhere");
    let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(logged.contains("runbook run"), "the run is logged (the capture works)");
    assert!(!logged.contains(&password), "the temporary password is in a log line");
    let a = l.deps.state.approval(&id).await.unwrap().unwrap();
    let run = l.deps.state.runbook(&a.action_id).await.unwrap().unwrap();
    assert!(!format!("{run:?}").contains(&password));
    assert_eq!(run.outcome.unwrap().status, atpilot_domain::RunbookStatus::Verified);
    let entries = l.sandbox.as_deref().unwrap().rows_where("TimeEntries", "ticketID", t);
    assert_eq!(entries.len(), 1, "one time entry for the verified work");
    // GET /api/decisions: the decision's runbook field.
    let rb = api_runbook(&l, t).await;
    assert_eq!((rb["provider"].as_str(), rb["action"].as_str()), (Some("graph"), Some("graph-reset-password")), "{rb}");
    assert_eq!(rb["status"], "verified");
    assert!(rb["plan"].as_str().unwrap().contains(&email), "{rb}");
    assert_eq!(rb["after"]["forceChangePasswordNextSignIn"], "true");
    assert!(!rb.to_string().contains(&password));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_is_refused_with_no_reply_and_no_time() {
    let (l, _dir) = start().await;
    let graph = l.graph.clone().unwrap();
    let (company, _, _) = recurring_customer(&l, 0);
    let tenant = atpilot_graph_sandbox::tenant_id_for(company);
    // The tenant's Global Administrator, as the ticket's contact.
    let sb = l.sandbox.as_deref().unwrap();
    let admin = format!("admin@c{company}.example");
    let Value::Object(fields) =
        json!({"companyID": company, "firstName": "Ada", "lastName": "Admin", "emailAddress": admin, "isActive": 1})
    else {
        unreachable!()
    };
    let contact = sb.insert_row("Contacts", fields).expect("a Contacts table");
    let before = graph.user(&tenant, &admin).unwrap().password_changes;
    let (t, id, token) = request(&l, company, contact).await;
    let d = approval::decide_request(&l.deps, &id, &form(&token), chrono::Utc::now()).await.unwrap();
    let Decided::Approved(report) = d else { panic!("{d:?}") };
    assert!(report.secret.is_none() && report.measured.is_none(), "{report:?}");
    let done = report.done().join(" ");
    assert!(done.contains("did NOT complete") && done.contains("administrator role"), "{done}");
    l.settle(40).await;
    assert_eq!(graph.user(&tenant, &admin).unwrap().password_changes, before, "nothing changed");
    let notes = sb.rows_where("TicketNotes", "ticketID", t);
    assert!(notes.iter().all(|n| n["publish"].as_i64() != Some(1)), "no reply to the customer");
    assert!(
        notes.iter().any(|n| n["description"].as_str().unwrap_or("").contains("A technician must finish it by hand"))
    );
    assert!(sb.rows_where("TimeEntries", "ticketID", t).is_empty(), "no time logged");
    let rb = api_runbook(&l, t).await;
    assert_eq!(rb["status"], "refused", "{rb}");
    assert!(rb["reason"].as_str().unwrap().contains("administrator role"), "{rb}");
}

/// Approves a password reset for a new contact of `company` with `email`; the report and the ticket.
async fn approve_for(
    l: &Local,
    company: i64,
    email: &str,
) -> (i64, atpilot_agent::handlers::resolution::ResolutionReport) {
    let sb = l.sandbox.as_deref().unwrap();
    let Value::Object(fields) =
        json!({"companyID": company, "firstName": "Test", "lastName": "Person", "emailAddress": email, "isActive": 1})
    else {
        unreachable!()
    };
    let contact = sb.insert_row("Contacts", fields).expect("a Contacts table");
    let (t, id, token) = request(l, company, contact).await;
    let d = approval::decide_request(&l.deps, &id, &form(&token), chrono::Utc::now()).await.unwrap();
    let Decided::Approved(report) = d else { panic!("{d:?}") };
    l.settle(40).await;
    (t, *report)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_foreign_and_unprivileged_targets_change_nothing_and_say_why() {
    let (l, _dir) = start().await;
    let graph = l.graph.clone().unwrap();
    let (company, _, _) = recurring_customer(&l, 0);
    let tenant = atpilot_graph_sandbox::tenant_id_for(company);
    let other = l.sandbox.as_deref().unwrap().facts().contracts_by_type[&CT_RECURRING]
        .iter()
        .map(|c| l.sandbox.as_deref().unwrap().row("Contracts", *c).unwrap()["companyID"].as_i64().unwrap())
        .find(|c| *c != company)
        .expect("a second customer");
    let cases = [
        (format!("synced.user@c{company}.example"), tenant.clone(), "synchronised from on-premises"),
        // A user of another company's tenant named as this company's contact: never across tenants.
        (
            format!("admin@c{other}.example"),
            atpilot_graph_sandbox::tenant_id_for(other),
            "not a user of the company's own",
        ),
        // Another organisation's guest in this tenant, matched by its mail.
        (
            "guest.partner@partner.example".to_string(),
            tenant.clone(),
            "is a guest (B2B) account of another organisation",
        ),
    ];
    let guest_upn = format!("guest.partner_partner.example#EXT#@c{company}.example");
    for (email, home, why) in cases {
        let key = if email.starts_with("guest.") { guest_upn.clone() } else { email.clone() };
        let before = graph.user(&home, &key).unwrap().password_changes;
        let (t, report) = approve_for(&l, company, &email).await;
        assert!(report.done().join(" ").contains(why), "{email}: {:?}", report.done());
        assert_eq!(graph.user(&home, &key).unwrap().password_changes, before, "{email}: nothing changed");
        assert!(l.sandbox.as_deref().unwrap().rows_where("TimeEntries", "ticketID", t).is_empty(), "{email}");
    }
    // Without the password permission Graph answers 403: the run fails, naming what the app needs.
    graph.set_app_permissions(&tenant, &["User.Read.All", "Directory.Read.All"]);
    let (_, _, email) = recurring_customer(&l, 0);
    let (t, report) = approve_for(&l, company, &email).await;
    let done = report.done().join(" ");
    assert!(done.contains("did NOT complete") && done.contains("User-PasswordProfile.ReadWrite.All"), "{done}");
    assert_eq!(graph.user(&tenant, &email).unwrap().password_changes, 0);
    assert!(l.sandbox.as_deref().unwrap().rows_where("TimeEntries", "ticketID", t).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttled_by_graph_it_waits_and_resets_once() {
    let (l, _dir) = start().await;
    let graph = l.graph.clone().unwrap();
    let (company, contact, email) = recurring_customer(&l, 0);
    let tenant = atpilot_graph_sandbox::tenant_id_for(company);
    let (_, id, token) = request(&l, company, contact).await;
    // The next Graph request: a 429 with a decimal Retry-After (waited for, rounded up).
    graph.set_knobs(|k| {
        k.throttle_next = 1;
        k.throttle_status = 429;
        k.retry_after = Some("1.2".into());
    });
    let d = approval::decide_request(&l.deps, &id, &form(&token), chrono::Utc::now()).await.unwrap();
    let Decided::Approved(report) = d else { panic!("{d:?}") };
    assert_eq!(report.runbook.as_ref().map(|o| o.status), Some(atpilot_domain::RunbookStatus::Verified), "{report:?}");
    assert_eq!(graph.user(&tenant, &email).unwrap().password_changes, 1, "applied once");
    assert!(graph.requests().iter().any(|r| r.status == 429), "the throttle was met");
}
