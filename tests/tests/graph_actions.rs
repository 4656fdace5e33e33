//! The Graph account and access runbooks on the Graph sandbox, each read
//! back from the provider: an autonomous licence request assigns one seat
//! once (a redelivered event assigns nothing more and logs no second entry);
//! no free seat escalates with the shortfall and writes no reply and no
//! time; sessions are revoked and MFA methods removed through a 503; a group
//! member is added once.

use atpilot_e2e::{api_runbook, recurring_customer, start_edited, ticket_from, with_category};
use atpilot_local::Local;

/// An autonomous category through `graph-{runbook}`, with `parameter` lines (e.g. `sku = "SPE_E3"`).
fn autonomous(runbook: &str, parameter: &str) -> String {
    format!("phase = \"autonomous\"\nsafe = true\nrunbook = \"graph-{runbook}\"\n{parameter}\n")
}

async fn start(category: &str, body: String) -> (Local, tempfile::TempDir) {
    let category = category.to_string();
    start_edited(move |t| with_category(&t, &category, &body)).await
}

fn posts(graph: &atpilot_graph_sandbox::Sandbox, path_end: &str) -> usize {
    graph.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with(path_end) && !r.throttled).count()
}

fn notes(l: &Local, t: i64) -> Vec<serde_json::Map<String, serde_json::Value>> {
    l.sandbox.as_deref().unwrap().rows_where("TicketNotes", "ticketID", t)
}

fn customer_reply(l: &Local, t: i64) -> Option<String> {
    notes(l, t).iter().find(|n| n["publish"].as_i64() == Some(1)).map(|n| n["description"].as_str().unwrap().into())
}

fn time_entries(l: &Local, t: i64) -> usize {
    l.sandbox.as_deref().unwrap().rows_where("TimeEntries", "ticketID", t).len()
}

const LICENCE: (&str, &str) =
    ("Microsoft 365 licence", "Please add a Microsoft 365 license subscription for me, I need Office 365.");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_autonomous_licence_request_assigns_one_seat_once() {
    let (l, _dir) = start("license-request", autonomous("assign-license", "sku = \"SPE_E3\"")).await;
    let graph = l.graph.clone().expect("the Graph sandbox runs");
    let (company, contact, email) = recurring_customer(&l, 0);
    let tenant = atpilot_graph_sandbox::tenant_id_for(company);
    let (_, used_before) = graph.sku(&tenant, "SPE_E3").unwrap();
    let sku_id = graph.sku(&tenant, "SPE_E3").unwrap().0.sku_id;
    assert!(!graph.user(&tenant, &email).unwrap().licenses.contains(&sku_id));
    let t = ticket_from(&l, company, contact, LICENCE.0, LICENCE.1).await;
    let (_, used) = graph.sku(&tenant, "SPE_E3").unwrap();
    assert_eq!(used, used_before + 1, "one seat assigned");
    assert!(graph.user(&tenant, &email).unwrap().licenses.contains(&sku_id));
    assert_eq!(posts(&graph, "/assignLicense"), 1);
    let reply = customer_reply(&l, t).expect("a reply written from the result");
    assert!(reply.contains(&format!("A SPE_E3 licence is assigned to your account {email}")), "{reply}");
    assert_eq!(time_entries(&l, t), 1);
    let rb = api_runbook(&l, t).await;
    assert_eq!((rb["provider"].as_str(), rb["status"].as_str()), (Some("graph"), Some("verified")), "{rb}");
    assert_eq!(
        (rb["before"]["userHasLicense"].as_str(), rb["after"]["userHasLicense"].as_str()),
        (Some("false"), Some("true"))
    );

    // The same event delivered again: nothing is assigned or logged twice.
    atpilot_e2e::redeliver_create(&l, t).await;
    assert_eq!(posts(&graph, "/assignLicense"), 1, "assigned once");
    assert_eq!(graph.sku(&tenant, "SPE_E3").unwrap().1, used);
    assert_eq!(time_entries(&l, t), 1, "one time entry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_free_seat_escalates_with_the_shortfall_and_writes_no_reply_or_time() {
    let (l, _dir) = start("license-request", autonomous("assign-license", "sku = \"O365_BUSINESS_PREMIUM\"")).await;
    let graph = l.graph.clone().unwrap();
    // The third contact holds no Business Premium seat; the tenant has none free.
    let (company, contact, _) = recurring_customer(&l, 2);
    let t = ticket_from(&l, company, contact, LICENCE.0, LICENCE.1).await;
    assert_eq!(posts(&graph, "/assignLicense"), 0, "nothing assigned");
    assert_eq!(customer_reply(&l, t), None, "no reply");
    assert_eq!(time_entries(&l, t), 0, "no time");
    let rb = api_runbook(&l, t).await;
    assert_eq!(rb["status"], "refused", "{rb}");
    let reason = rb["reason"].as_str().unwrap();
    assert!(
        reason.contains("O365_BUSINESS_PREMIUM has no free seat") && reason.contains("buy at least 1 more"),
        "{reason}"
    );
    let note = notes(&l, t).into_iter().find(|n| n["description"].as_str().unwrap().contains("no free seat"));
    assert!(note.is_some_and(|n| n["publish"].as_i64() != Some(1)), "an internal note names the shortfall");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_revoked_through_a_503_and_read_back() {
    let (l, _dir) = start("password-reset", autonomous("revoke-sessions", "")).await;
    let graph = l.graph.clone().unwrap();
    let (company, contact, email) = recurring_customer(&l, 0);
    let tenant = atpilot_graph_sandbox::tenant_id_for(company);
    let before = graph.user(&tenant, &email).unwrap();
    graph.set_knobs(|k| {
        k.throttle_next = 1;
        k.throttle_status = 503;
        k.retry_after = Some("0.5".into());
    });
    let t = ticket_from(&l, company, contact, "Locked out", "I forgot my password and I am locked out").await;
    let after = graph.user(&tenant, &email).unwrap();
    assert!(graph.requests().iter().any(|r| r.status == 503), "the 503 was met");
    assert_eq!(after.revocations, before.revocations + 1, "revoked once");
    assert!(after.sign_in_sessions_valid_from > before.sign_in_sessions_valid_from);
    assert!(customer_reply(&l, t).unwrap().contains("signed your account"));
    assert_eq!(api_runbook(&l, t).await["status"], "verified");
    assert_eq!(time_entries(&l, t), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mfa_methods_are_removed_and_a_group_member_added_and_removed_once() {
    let mfa = autonomous("reset-mfa", "");
    let group = autonomous("add-group-member", "group = \"Sales Team\"");
    let leave = autonomous("remove-group-member", "group = \"All Staff\"");
    let (l, _dir) = start_edited(move |t| {
        let t = with_category(&with_category(&t, "mfa-enrollment", &mfa), "license-request", &group);
        // An autonomous group add is for Microsoft 365 only (a Google group may hold admin roles).
        let google = "[google]\ntoken_url = \"sandbox\"\ndirectory_url = \"sandbox\"\nlicensing_url = \"sandbox\"\n";
        assert!(t.contains(google), "the demo's [google] section changed: update this test");
        with_category(&t.replace(google, ""), "password-reset", &leave)
    })
    .await;
    let graph = l.graph.clone().unwrap();
    let (company, contact, email) = recurring_customer(&l, 1);
    let tenant = atpilot_graph_sandbox::tenant_id_for(company);
    let methods = graph.user(&tenant, &email).unwrap().method_ids.len();
    assert!(methods > 1, "the contact has MFA methods registered");
    let t =
        ticket_from(&l, company, contact, "New phone", "My authenticator app is gone, reset my MFA two-factor").await;
    let u = graph.user(&tenant, &email).unwrap();
    assert!(u.method_ids.iter().all(|m| m == "28c10230-6103-485e-b985-444c60001490"), "{:?}", u.method_ids);
    assert_eq!(api_runbook(&l, t).await["status"], "verified");
    assert!(customer_reply(&l, t).unwrap().contains("sign-in verification (MFA) methods"));

    let t = ticket_from(&l, company, contact, LICENCE.0, LICENCE.1).await;
    let sales =
        graph.group(&tenant, "Sales Team").or_else(|| graph.group(&tenant, &format!("sales@c{company}.example")));
    assert!(sales.unwrap().members.iter().any(|m| *m == u.id), "a member now");
    assert_eq!(posts(&graph, "/members/$ref"), 1);
    let rb = api_runbook(&l, t).await;
    assert_eq!(
        (rb["before"]["userIsMember"].as_str(), rb["after"]["userIsMember"].as_str()),
        (Some("false"), Some("true")),
        "{rb}"
    );
    assert_eq!(time_entries(&l, t), 1);

    let all_staff =
        |g: &atpilot_graph_sandbox::Sandbox| g.group(&tenant, &format!("allstaff@c{company}.example")).unwrap();
    assert!(all_staff(&graph).members.contains(&u.id));
    let t = ticket_from(&l, company, contact, "Locked out", "I forgot my password and I am locked out").await;
    assert!(!all_staff(&graph).members.contains(&u.id), "removed");
    assert_eq!(api_runbook(&l, t).await["after"]["userIsMember"], "false");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_is_removed_and_a_leavers_sign_in_is_enabled_only_after_approval() {
    let enable = "phase = \"human-in-the-loop\"\nsafe = true\nrunbook = \"graph-enable-sign-in\"\napprovers = [\"dispatch@msp.example\"]\nchannels = [\"teams\"]\n";
    let remove = autonomous("remove-license", "sku = \"O365_BUSINESS_PREMIUM\"");
    let (l, _dir) =
        start_edited(move |t| with_category(&with_category(&t, "password-reset", enable), "license-request", &remove))
            .await;
    let graph = l.graph.clone().unwrap();
    let (company, contact, email) = recurring_customer(&l, 0);
    let tenant = atpilot_graph_sandbox::tenant_id_for(company);
    let sku_id = graph.sku(&tenant, "O365_BUSINESS_PREMIUM").unwrap().0.sku_id;
    assert!(graph.user(&tenant, &email).unwrap().licenses.contains(&sku_id));
    let t = ticket_from(&l, company, contact, LICENCE.0, LICENCE.1).await;
    assert!(!graph.user(&tenant, &email).unwrap().licenses.contains(&sku_id), "removed");
    assert_eq!(api_runbook(&l, t).await["after"]["userHasLicense"], "false");

    // The disabled account of a former employee: only an approver turns it back on.
    let leaver = format!("former.employee@c{company}.example");
    let sb = l.sandbox.as_deref().unwrap();
    let serde_json::Value::Object(fields) = serde_json::json!({"companyID": company, "firstName": "Former",
        "lastName": "Employee", "emailAddress": leaver, "isActive": 1})
    else {
        unreachable!()
    };
    let contact = sb.insert_row("Contacts", fields).unwrap();
    let t = ticket_from(&l, company, contact, "Locked out", "I forgot my password and I am locked out").await;
    assert!(!graph.user(&tenant, &leaver).unwrap().account_enabled, "asking changes nothing");
    let a = l.deps.state.approvals_in_state(atpilot_store::records::ApprovalState::Pending, 50).await.unwrap();
    let a = a.into_iter().find(|a| a.ticket_id.get() == t).expect("an approval request");
    let link = atpilot_agent::handlers::approval::links(&l.deps, &a, atpilot_e2e::APPROVER).approve;
    let token = link.split("t=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let form =
        atpilot_agent::handlers::approval::DecisionForm { token, decision: "approve".into(), ..Default::default() };
    atpilot_agent::handlers::approval::decide_request(&l.deps, &a.id, &form, chrono::Utc::now()).await.unwrap();
    l.settle(40).await;
    assert!(graph.user(&tenant, &leaver).unwrap().account_enabled, "enabled once approved");
    assert_eq!(api_runbook(&l, t).await["after"]["accountEnabled"], "true");
    assert_eq!(time_entries(&l, t), 1);
}
