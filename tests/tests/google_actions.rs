//! The Google Workspace runbooks on the Google Admin sandbox, each read back
//! from the provider. The sandbox company on Google Workspace
//! ([`atpilot_local::google_demo_company`]) also keeps its place among the
//! Microsoft 365 ones: a `graph-*` category serves its contacts through
//! Google because their domain is the Workspace customer's (the twin runs).
//! An approved reset changes the password once and shows it once; sign-out,
//! a group add (and an add that is already so) and a licence with a free
//! seat are each done once and read back; no free seat escalates with the
//! SKU; a super admin, a delegated admin and another customer's user change
//! nothing; Google's quota answers are waited out.

use atpilot_agent::handlers::approval::{self, Decided, DecisionForm};
use atpilot_autotask_sandbox::tenant::CT_RECURRING;
use atpilot_autotask_sandbox::{Sandbox, SandboxConfig};
use atpilot_e2e::{APPROVER, CalibratedKeywords, api_runbook, with_category};
use atpilot_local::{Local, LocalClassifier, LocalOptions, Target};
use atpilot_store::records::ApprovalState;
use serde_json::{Value, json};
use std::sync::Arc;

const PUBLIC: &str = "http://127.0.0.1:8080";
const STARTER: &str = "Google-Apps/1010020027";
const STANDARD: &str = "Google-Apps/1010020028";

/// The Google company of the seed-7 sandbox and its domain.
async fn google_company() -> (i64, String, String) {
    let sb =
        Sandbox::start(SandboxConfig { tickets: 300, seed: 7, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let company = atpilot_local::google_demo_company(&sb).expect("a second recurring customer");
    let text = atpilot_local::demo_config_text(&sb.facts(), PUBLIC);
    (company, atpilot_graph_sandbox::seed::domain_for(company), text)
}

/// The demo stack with `edits` (category name, its whole body) applied.
async fn start(edits: &[(&str, String)]) -> (Local, tempfile::TempDir) {
    start_with(edits, |t| t).await
}

/// [`start`], with `more` applied to the configuration text too.
async fn start_with(edits: &[(&str, String)], more: impl FnOnce(String) -> String) -> (Local, tempfile::TempDir) {
    let (_, _, text) = google_company().await;
    let mut text = more(text);
    for (name, body) in edits {
        text = with_category(&text, name, body);
    }
    let config = atpilot_config::Config::parse(&text, "google test").expect("valid configuration");
    let dir = tempfile::tempdir().unwrap();
    let local = Local::start(LocalOptions {
        state_dir: dir.path().to_path_buf(),
        target: Target::Sandbox { tickets: 300, seed: 7 },
        config: Some(config),
        webhook_secret: Some("e2e-webhook-secret".into()),
        public_url: PUBLIC.into(),
        classifier: LocalClassifier::Given(Arc::new(CalibratedKeywords)),
        kb_sandbox: Default::default(),
    })
    .await
    .expect("local stack starts");
    (local, dir)
}

fn category(phase: &str, runbook: &str, parameters: &str) -> String {
    format!(
        "phase = \"{phase}\"\nsafe = true\nrunbook = \"{runbook}\"\n{parameters}\napprovers = [\"dispatch@msp.example\"]\nchannels = [\"teams\", \"email\"]\n"
    )
}

/// The Google company's `k`-th contact: (company, contact id, e-mail).
fn google_contact(l: &Local, k: usize) -> (i64, i64, String) {
    let sb = l.sandbox.as_deref().unwrap();
    let company = atpilot_local::google_demo_company(sb).unwrap();
    let contact = sb.contacts_of(company)[k];
    let email = sb.row("Contacts", contact).unwrap()["emailAddress"].as_str().unwrap().to_string();
    (company, contact, email)
}

/// A new contact of `company` with `email`.
fn contact_with(l: &Local, company: i64, email: &str) -> i64 {
    let Value::Object(fields) =
        json!({"companyID": company, "firstName": "Test", "lastName": "Person", "emailAddress": email, "isActive": 1})
    else {
        unreachable!()
    };
    l.sandbox.as_deref().unwrap().insert_row("Contacts", fields).expect("a Contacts table")
}

/// A ticket from `contact`, decided and settled.
async fn ticket(l: &Local, company: i64, contact: i64, title: &str, description: &str) -> i64 {
    let sb = l.sandbox.as_deref().unwrap();
    let contract = sb
        .rows_where("Contracts", "companyID", company)
        .into_iter()
        .find(|c| c["contractType"].as_i64() == Some(CT_RECURRING))
        .map(|c| c["id"].as_i64().unwrap());
    let fields = json!({
        "companyID": company, "contractID": contract, "title": title, "status": 1, "priority": 2,
        "description": description, "queueID": sb.facts().queues[0].0, "contactID": contact,
    });
    atpilot_e2e::create_and_settle(l, fields).await
}

/// The pending approval of ticket `t` and the approver's token.
async fn approval_of(l: &Local, t: i64) -> (String, String) {
    let pending = l.deps.state.approvals_in_state(ApprovalState::Pending, 50).await.unwrap();
    let a = pending.into_iter().find(|a| a.ticket_id.get() == t).expect("an approval request");
    let link = approval::links(&l.deps, &a, APPROVER).approve;
    let token = link.split("t=").nth(1).unwrap().split('&').next().unwrap().to_string();
    (a.id, token)
}

fn approve(token: &str) -> DecisionForm {
    DecisionForm { token: token.into(), decision: "approve".into(), ..Default::default() }
}

fn customer_reply(l: &Local, t: i64) -> Option<String> {
    let notes = l.sandbox.as_deref().unwrap().rows_where("TicketNotes", "ticketID", t);
    notes.iter().find(|n| n["publish"].as_i64() == Some(1)).map(|n| n["description"].as_str().unwrap().to_string())
}

fn time_entries(l: &Local, t: i64) -> usize {
    l.sandbox.as_deref().unwrap().rows_where("TimeEntries", "ticketID", t).len()
}

fn writes(g: &atpilot_google_sandbox::Sandbox, method: &str, path_end: &str) -> usize {
    g.requests()
        .iter()
        .filter(|r| r.method == method && r.path.ends_with(path_end) && !r.throttled && r.status < 300)
        .count()
}

const RESET: (&str, &str) = ("Password reset", "I forgot my password and I am locked out");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_reset_for_a_google_user_resets_once_in_google_and_shows_it_once() {
    let (l, _dir) = start(&[("password-reset", category("human-in-the-loop", "graph-reset-password", ""))]).await;
    let google = l.google.clone().expect("the Google sandbox runs");
    let graph = l.graph.clone().expect("the Graph sandbox runs");
    let (company, contact, email) = google_contact(&l, 0);
    assert_eq!(google.user(&email).unwrap().password_set_count, 0);
    let t = ticket(&l, company, contact, RESET.0, RESET.1).await;
    let (id, token) = approval_of(&l, t).await;
    assert_eq!(google.user(&email).unwrap().password_set_count, 0, "asking changes nothing");
    let mails = l.deps.state.outbox(20).await.unwrap();
    let mail = mails.iter().find(|m| m.channel == "email" && m.subject.contains("password-reset")).expect("an e-mail");
    let text = mail.text.clone().unwrap();
    assert!(text.contains(&format!("What Approve does: Reset the Google Workspace password of {email}")), "{text}");

    // The reply is written from the verified result: nothing to edit, and an edit posted anyway is not used.
    let confirm = approval::handle_http(&l.deps, "GET", &id, &format!("t={token}"), b"", chrono::Utc::now()).await;
    assert!(!confirm.html.contains("<textarea") && confirm.html.contains("id=reply-from-result"), "{}", confirm.html);
    let body = format!("t={token}&decision=approve&draft=We+gave+you+an+E5+licence");
    let page = approval::handle_http(&l.deps, "POST", &id, "", body.as_bytes(), chrono::Utc::now()).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let u = google.user(&email).unwrap();
    assert_eq!(u.password_set_count, 1);
    assert!(u.change_password_at_next_login, "a new password at the next sign-in");
    let shown = page.html.split("<code id=temporary-password>").nth(1).and_then(|s| s.split("</code>").next());
    let password = shown.expect("the temporary password is shown once").replace("&amp;", "&");
    assert!(password.len() >= 12, "{password}");
    assert!(page.html.contains("done and read back"), "{}", page.html);
    assert!(graph.requests().iter().all(|r| !r.path.contains("/users/") || r.method == "GET"), "Graph changed nothing");

    // A second click and a redelivery do nothing twice.
    assert!(approval::decide_request(&l.deps, &id, &approve(&token), chrono::Utc::now()).await.is_err());
    atpilot_e2e::redeliver_create(&l, t).await;
    assert_eq!(google.user(&email).unwrap().password_set_count, 1, "reset once");
    let reply = customer_reply(&l, t).expect("a reply written from the result");
    assert!(reply.contains(&format!("We reset the password of your Google account {email}")), "{reply}");
    assert!(!reply.contains("E5"), "the posted edit is not the reply: {reply}");
    let a = l.deps.state.approval(&id).await.unwrap().unwrap();
    assert!(a.draft.is_none() && a.note.is_none(), "no edited reply is recorded: {a:?}");
    assert!(!reply.contains(&password));
    let everywhere = format!(
        "{:?}{:?}{:?}",
        l.sandbox.as_deref().unwrap().rows_where("TicketNotes", "ticketID", t),
        l.deps.state.outbox(100).await.unwrap(),
        l.deps.state.ticket_decisions(atpilot_domain::TicketId::new(t).unwrap()).await.unwrap(),
    );
    assert!(!everywhere.contains(&password), "the temporary password is stored or written somewhere");
    assert_eq!(time_entries(&l, t), 1, "one time entry for the verified work");
    let rb = api_runbook(&l, t).await;
    assert_eq!(
        (rb["provider"].as_str(), rb["action"].as_str()),
        (Some("google"), Some("google-reset-password")),
        "{rb}"
    );
    assert_eq!(
        (rb["status"].as_str(), rb["after"]["changePasswordAtNextLogin"].as_str()),
        (Some("verified"), Some("true"))
    );
    let _ = company;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_and_group_adds_are_done_once_and_read_back() {
    let (company, domain, _) = google_company().await;
    let _ = company;
    let group = format!("sales@{domain}");
    // A Google group may hold admin roles: adding to one is human in the loop only.
    let (l, _dir) = start(&[
        ("email", category("autonomous", "google-sign-out", "")),
        ("network", category("human-in-the-loop", "graph-add-group-member", &format!("group = \"{group}\""))),
    ])
    .await;
    let google = l.google.clone().unwrap();
    let (company, contact, email) = google_contact(&l, 1);

    let t = ticket(&l, company, contact, "Email hacked", "Someone is in my email account, please sign me out").await;
    assert_eq!(google.user(&email).unwrap().sign_out_count, 1);
    let reply = customer_reply(&l, t).expect("a reply");
    assert!(reply.contains(&format!("We signed your Google account {email} out of every session")), "{reply}");
    let rb = api_runbook(&l, t).await;
    assert_eq!((rb["action"].as_str(), rb["status"].as_str()), (Some("google-sign-out"), Some("verified")), "{rb}");
    assert!(rb["after"]["signOut"].as_str().unwrap().contains("no session state to read back"), "{rb}");
    atpilot_e2e::redeliver_create(&l, t).await;
    assert_eq!(google.user(&email).unwrap().sign_out_count, 1, "signed out once");
    assert_eq!(time_entries(&l, t), 1);

    // A group add through the graph-* category runs as its Google twin, once.
    assert!(!google.group_members(&group).unwrap().contains(&email));
    let t = ticket(&l, company, contact, "Network share", "I need access to the sales network drive").await;
    assert!(!google.group_members(&group).unwrap().contains(&email), "asking changes nothing");
    let (id, token) = approval_of(&l, t).await;
    let d = approval::decide_request(&l.deps, &id, &approve(&token), chrono::Utc::now()).await.unwrap();
    assert!(matches!(d, Decided::Approved(_)), "{d:?}");
    assert!(
        approval::decide_request(&l.deps, &id, &approve(&token), chrono::Utc::now()).await.is_err(),
        "one decision"
    );
    l.settle(40).await;
    assert!(google.group_members(&group).unwrap().contains(&email));
    assert_eq!(writes(&google, "POST", "/members"), 1);
    let rb = api_runbook(&l, t).await;
    assert_eq!(
        (rb["action"].as_str(), rb["status"].as_str()),
        (Some("google-add-group-member"), Some("verified")),
        "{rb}"
    );
    assert_eq!(
        (rb["before"]["userIsMember"].as_str(), rb["after"]["userIsMember"].as_str()),
        (Some("false"), Some("true"))
    );
    atpilot_e2e::redeliver_create(&l, t).await;
    assert_eq!(writes(&google, "POST", "/members"), 1, "added once");
    // A second request for the same group: already a member, nothing posted, still said truthfully.
    let t2 = ticket(&l, company, contact, "Network share again", "Please give me the sales network drive").await;
    let (id, token) = approval_of(&l, t2).await;
    approval::decide_request(&l.deps, &id, &approve(&token), chrono::Utc::now()).await.unwrap();
    l.settle(40).await;
    assert_eq!(writes(&google, "POST", "/members"), 1);
    let reply = customer_reply(&l, t2).expect("a reply");
    assert!(reply.contains("It already was, so nothing needed to change"), "{reply}");
    assert_eq!(google.group_members(&group).unwrap().iter().filter(|m| **m == email).count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_with_a_free_seat_is_assigned_once_and_without_one_escalates_with_the_sku() {
    let lic = |google_sku: &str| {
        category("autonomous", "graph-assign-license", &format!("sku = \"SPE_E3\"\ngoogle_sku = \"{google_sku}\""))
    };
    let (l, _dir) = start(&[("license-request", lic(STARTER))]).await;
    let google = l.google.clone().unwrap();
    let (company, contact, email) = google_contact(&l, 0);
    let (_, used) = google.seats(STARTER).unwrap();
    assert!(!google.user(&email).unwrap().licences.contains(&STARTER.to_string()));
    let t = ticket(&l, company, contact, "Licence", "Please add a license subscription for me").await;
    assert!(google.user(&email).unwrap().licences.contains(&STARTER.to_string()));
    assert_eq!(google.seats(STARTER).unwrap().1, used + 1, "one seat");
    // The customer reads the licence's name (Google's skuName, read back), with its SKU.
    let reply = customer_reply(&l, t).expect("a reply");
    let named =
        format!("The Google licence Google Workspace Business Starter ({STARTER}) is assigned to your account {email}");
    assert!(reply.contains(&named), "{reply}");
    let rb = api_runbook(&l, t).await;
    assert_eq!(
        (rb["action"].as_str(), rb["status"].as_str()),
        (Some("google-assign-license"), Some("verified")),
        "{rb}"
    );
    atpilot_e2e::redeliver_create(&l, t).await;
    assert_eq!(google.seats(STARTER).unwrap().1, used + 1, "assigned once");
    assert_eq!(time_entries(&l, t), 1);

    // No free Business Standard seat: refused with the SKU, no reply, no time.
    let (l, _dir) = start(&[("license-request", lic(STANDARD))]).await;
    let google = l.google.clone().unwrap();
    let (company, contact, email) = google_contact(&l, 0);
    let t = ticket(&l, company, contact, "Licence", "Please add a license subscription for me").await;
    assert!(!google.user(&email).unwrap().licences.contains(&STANDARD.to_string()));
    assert_eq!(customer_reply(&l, t), None, "no reply");
    assert_eq!(time_entries(&l, t), 0, "no time");
    let rb = api_runbook(&l, t).await;
    assert_eq!(rb["status"], "refused", "{rb}");
    assert!(rb["reason"].as_str().unwrap().contains(&format!("buy at least 1 more seat of {STANDARD}")), "{rb}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_and_other_customers_users_change_nothing_and_say_why() {
    let (l, _dir) = start(&[("password-reset", category("human-in-the-loop", "google-reset-password", ""))]).await;
    let google = l.google.clone().unwrap();
    let (company, _, _) = google_contact(&l, 0);
    let domain = atpilot_graph_sandbox::seed::domain_for(company);
    let cases = [
        (format!("admin@{domain}"), "is a super admin: a technician does this by hand"),
        (format!("helpdesk@{domain}"), "is a delegated admin"),
        (format!("leaver@{domain}"), "is suspended"),
        (format!("nobody@{domain}"), "is not a user of the company's own Google Workspace"),
        ("someone@elsewhere.example".to_string(), "is not in the company's Google Workspace domains"),
    ];
    for (email, why) in cases {
        let before = google.user(&email).map(|u| u.password_set_count);
        let contact = contact_with(&l, company, &email);
        let t = ticket(&l, company, contact, RESET.0, RESET.1).await;
        let (id, token) = approval_of(&l, t).await;
        let d = approval::decide_request(&l.deps, &id, &approve(&token), chrono::Utc::now()).await.unwrap();
        let Decided::Approved(report) = d else { panic!("{d:?}") };
        l.settle(40).await;
        let done = report.done().join(" ");
        assert!(done.contains("did NOT complete") && done.contains(why), "{email}: {done}");
        assert!(report.secret.is_none(), "{email}");
        assert_eq!(google.user(&email).map(|u| u.password_set_count), before, "{email}: nothing changed");
        assert_eq!(customer_reply(&l, t), None, "{email}: no reply");
        assert_eq!(time_entries(&l, t), 0, "{email}: no time");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_google_customers_user_is_never_touched_even_when_its_domain_is_mapped() {
    // A mapping mistake: the company's customer also lists another customer's domain.
    let (company, domain, _) = google_company().await;
    let other = atpilot_local::OTHER_GOOGLE_DOMAIN;
    let customer = atpilot_google_sandbox::seed::customer_id_for(company);
    let mapping = format!(
        "[google.customers.{company}]\ncustomer_id = \"{customer}\"\nadmin = \"admin@{domain}\"\ndomains = [\"{domain}\", \"{other}\"]\n"
    );
    let (l, _dir) =
        start_with(&[("password-reset", category("human-in-the-loop", "google-reset-password", ""))], |t| {
            t.replace("licensing_url = \"sandbox\"\n", &format!("licensing_url = \"sandbox\"\n{mapping}"))
        })
        .await;
    let google = l.google.clone().unwrap();
    let email = format!("olive@{other}");
    assert_eq!(google.user(&email).map(|u| u.password_set_count), Some(0), "a user of the other customer");
    let contact = contact_with(&l, company, &email);
    let t = ticket(&l, company, contact, RESET.0, RESET.1).await;
    let (id, token) = approval_of(&l, t).await;
    let d = approval::decide_request(&l.deps, &id, &approve(&token), chrono::Utc::now()).await.unwrap();
    let Decided::Approved(report) = d else { panic!("{d:?}") };
    l.settle(40).await;
    let done = report.done().join(" ");
    assert!(done.contains("did NOT complete"), "{done}");
    assert!(report.secret.is_none());
    assert_eq!(google.user(&email).map(|u| u.password_set_count), Some(0), "nothing changed");
    assert_eq!(customer_reply(&l, t), None, "no reply");
    assert_eq!(time_entries(&l, t), 0, "no time");
    let rb = api_runbook(&l, t).await;
    assert_eq!(rb["status"], "refused", "{rb}");
    assert!(rb["reason"].as_str().unwrap().contains("belongs to another Workspace customer"), "{rb}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_on_both_directories_is_served_by_each_requesters_own() {
    // The Microsoft 365 company (the first recurring customer) also has Google
    // Workspace users, on another domain: the local sandbox's second customer.
    let sb =
        Sandbox::start(SandboxConfig { tickets: 300, seed: 7, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let contract = sb.facts().contracts_by_type[&CT_RECURRING][0];
    let both = sb.row("Contracts", contract).unwrap()["companyID"].as_i64().unwrap();
    let other = atpilot_local::OTHER_GOOGLE_DOMAIN;
    let customer = atpilot_google_sandbox::seed::customer_id_for(atpilot_local::OTHER_GOOGLE_COMPANY);
    let mapping = format!(
        "[google.customers.{both}]\ncustomer_id = \"{customer}\"\nadmin = \"admin@{other}\"\ndomains = [\"{other}\"]\n"
    );
    // Human in the loop: a requester outside the company's web domain is never acted on unasked.
    let (l, _dir) = start_with(&[("email", category("human-in-the-loop", "graph-revoke-sessions", ""))], |t| {
        t.replace("licensing_url = \"sandbox\"\n", &format!("licensing_url = \"sandbox\"\n{mapping}"))
    })
    .await;
    let (google, graph) = (l.google.clone().unwrap(), l.graph.clone().unwrap());
    let (company, contact, email) = atpilot_e2e::recurring_customer(&l, 0);
    assert_eq!(company, both);
    const HACKED: (&str, &str) = ("Email hacked", "Someone is in my email account, please sign me out");

    let approved = |t: i64| {
        let l = &l;
        async move {
            let (id, token) = approval_of(l, t).await;
            approval::decide_request(&l.deps, &id, &approve(&token), chrono::Utc::now()).await.unwrap();
            l.settle(40).await;
        }
    };
    // A Microsoft 365 requester: Graph revokes the sessions, Google is not asked.
    let t = ticket(&l, company, contact, HACKED.0, HACKED.1).await;
    approved(t).await;
    let rb = api_runbook(&l, t).await;
    assert_eq!(
        (rb["action"].as_str(), rb["status"].as_str()),
        (Some("graph-revoke-sessions"), Some("verified")),
        "{rb}"
    );
    assert!(rb["plan"].as_str().unwrap().contains(&email), "{rb}");
    assert!(google.requests().iter().all(|r| r.method == "GET" || r.is_token()), "Google changed nothing");

    // A Google Workspace requester of the same company: the Google twin signs them out.
    let olive = format!("olive@{other}");
    let t = ticket(&l, company, contact_with(&l, company, &olive), HACKED.0, HACKED.1).await;
    approved(t).await;
    let rb = api_runbook(&l, t).await;
    assert_eq!((rb["action"].as_str(), rb["status"].as_str()), (Some("google-sign-out"), Some("verified")), "{rb}");
    assert_eq!(google.user(&olive).unwrap().sign_out_count, 1);
    let revokes = graph.requests().iter().filter(|r| r.path.ends_with("/revokeSignInSessions")).count();
    assert_eq!(revokes, 1, "Graph revoked only the Microsoft 365 user's sessions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn google_quota_answers_are_waited_out_and_the_reset_happens_once() {
    let (l, _dir) = start(&[("password-reset", category("human-in-the-loop", "google-reset-password", ""))]).await;
    let google = l.google.clone().unwrap();
    let (company, contact, email) = google_contact(&l, 0);
    let t = ticket(&l, company, contact, RESET.0, RESET.1).await;
    let (id, token) = approval_of(&l, t).await;
    let mut k = google.knobs();
    k.throttle_next = 2;
    k.throttle_status = 403;
    k.throttle_reason = "userRateLimitExceeded".into();
    google.set_knobs(k);
    let d = approval::decide_request(&l.deps, &id, &approve(&token), chrono::Utc::now()).await.unwrap();
    let Decided::Approved(report) = d else { panic!("{d:?}") };
    assert_eq!(report.runbook.as_ref().map(|o| o.status), Some(atpilot_domain::RunbookStatus::Verified), "{report:?}");
    assert_eq!(google.user(&email).unwrap().password_set_count, 1, "applied once");
    assert_eq!(google.requests().iter().filter(|r| r.throttled).count(), 2, "both quota answers were met");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsuspend_2sv_licence_removal_and_group_removal_each_read_back() {
    let (_, domain, _) = google_company().await;
    let staff = format!("staff@{domain}");
    let (l, _dir) = start(&[
        ("password-reset", category("human-in-the-loop", "google-unsuspend", "")),
        ("mfa-enrollment", category("autonomous", "google-reset-2sv", "")),
        ("license-request", category("autonomous", "google-remove-license", &format!("sku = \"{STARTER}\""))),
        ("network", category("autonomous", "google-remove-group-member", &format!("group = \"{staff}\""))),
    ])
    .await;
    let google = l.google.clone().unwrap();
    let (company, first, first_email) = google_contact(&l, 0);
    let action = |rb: &Value| (rb["action"].as_str().map(String::from), rb["status"].as_str().map(String::from));

    // A suspended leaver: unsuspended only once a human approves.
    let leaver = format!("leaver@{domain}");
    assert!(google.user(&leaver).unwrap().suspended);
    let t = ticket(&l, company, contact_with(&l, company, &leaver), RESET.0, RESET.1).await;
    assert!(google.user(&leaver).unwrap().suspended, "asking changes nothing");
    let (id, token) = approval_of(&l, t).await;
    approval::decide_request(&l.deps, &id, &approve(&token), chrono::Utc::now()).await.unwrap();
    l.settle(40).await;
    assert!(!google.user(&leaver).unwrap().suspended);
    assert_eq!(action(&api_runbook(&l, t).await), (Some("google-unsuspend".into()), Some("verified".into())));

    // 2-Step Verification turned off and read back.
    let twostep = format!("twostep@{domain}");
    assert!(google.user(&twostep).unwrap().is_enrolled_in_2sv);
    let t = ticket(&l, company, contact_with(&l, company, &twostep), "MFA", "My authenticator app is gone, reset MFA")
        .await;
    assert!(!google.user(&twostep).unwrap().is_enrolled_in_2sv);
    let rb = api_runbook(&l, t).await;
    assert_eq!(action(&rb), (Some("google-reset-2sv".into()), Some("verified".into())), "{rb}");
    assert_eq!(
        (rb["before"]["isEnrolledIn2Sv"].as_str(), rb["after"]["isEnrolledIn2Sv"].as_str()),
        (Some("true"), Some("false"))
    );

    // A licence removed: the seat comes free.
    let (_, holder, holder_email) = google_contact(&l, 1);
    assert!(google.user(&holder_email).unwrap().licences.contains(&STARTER.to_string()));
    let used = google.seats(STARTER).unwrap().1;
    let t = ticket(&l, company, holder, "Licence", "Please remove my license subscription, I am leaving").await;
    assert!(!google.user(&holder_email).unwrap().licences.contains(&STARTER.to_string()));
    assert_eq!(google.seats(STARTER).unwrap().1, used - 1);
    assert_eq!(action(&api_runbook(&l, t).await), (Some("google-remove-license".into()), Some("verified".into())));

    // Removed from a group, once.
    assert!(google.group_members(&staff).unwrap().contains(&first_email));
    let t = ticket(&l, company, first, "Network", "Please remove me from the staff network share").await;
    assert!(!google.group_members(&staff).unwrap().contains(&first_email));
    assert_eq!(action(&api_runbook(&l, t).await), (Some("google-remove-group-member".into()), Some("verified".into())));
    atpilot_e2e::redeliver_create(&l, t).await;
    let deletes = google.requests().iter().filter(|r| r.method == "DELETE" && r.path.contains("/members/")).count();
    assert_eq!(deletes, 1, "removed once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_someone_else_goes_to_a_technician_and_nothing_changes() {
    let licence =
        category("autonomous", "graph-assign-license", &format!("sku = \"SPE_E3\"\ngoogle_sku = \"{STARTER}\""));
    let (l, _dir) = start(&[("license-request", licence)]).await;
    let google = l.google.clone().unwrap();
    let (company, contact, email) = google_contact(&l, 0);
    let used = google.seats(STARTER).unwrap().1;
    let t = ticket(&l, company, contact, "Licence", "We need an extra license for the new sales assistant").await;
    assert_eq!(google.seats(STARTER).unwrap().1, used, "nothing assigned unasked");
    assert!(!google.user(&email).unwrap().licences.contains(&STARTER.to_string()));
    let pending = l.deps.state.approvals_in_state(ApprovalState::Pending, 50).await.unwrap();
    assert!(pending.iter().all(|a| a.ticket_id.get() != t), "no Approve that would change the requester's account");
    let views = atpilot_agent::html::dashboard::decisions(&l.deps.state, 100).await.unwrap();
    let all = serde_json::to_value(&views).unwrap();
    let d = all.as_array().unwrap().iter().find(|d| d["ticket_id"] == t).unwrap().clone();
    let reasons = d["reasons"].to_string();
    assert_eq!(d["action"], "internal-note", "a technician does it for the right person: {d}");
    assert!(reasons.contains("for someone other than the requester") && reasons.contains("a new person"), "{reasons}");
    let notes = l.sandbox.as_deref().unwrap().rows_where("TicketNotes", "ticketID", t);
    assert!(notes.iter().all(|n| n["publish"].as_i64() != Some(1)), "nothing said to the customer");
    // The same request in the first person is the requester's own: it is done.
    let t = ticket(&l, company, contact, "Licence", "Please add a license subscription for me").await;
    assert!(google.user(&email).unwrap().licences.contains(&STARTER.to_string()));
    assert_eq!(api_runbook(&l, t).await["status"], "verified");
}
