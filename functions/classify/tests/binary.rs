//! The classify function's real binary, run the way Lambda runs it (a local
//! Runtime API), with `[kb]` in its configuration and the knowledge base's
//! API key in Secrets Manager (moto), against the Autotask sandbox as the
//! tenant and the Hudu sandbox as the KB: a ticket decided at its Create
//! event and then completed by a technician becomes one unpublished article
//! in the ticket's Hudu company and one internal note, as the table records.

use atpilot_autotask_sandbox::{DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USER, Sandbox, SandboxConfig};
use atpilot_domain::TicketId;
use atpilot_e2e::lambda;
use atpilot_kb_sandbox::hudu;
use atpilot_store::records::KbDraftStatus;
use serde_json::{Value, json};

/// One classify message in the SQS event Lambda hands the function.
fn sqs(event: Value) -> Value {
    let mut sample: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/classify-sqs.json")).unwrap(),
    )
    .unwrap();
    sample["Records"][0]["body"] = json!(event.to_string());
    sample["Records"][0]["attributes"]["MessageGroupId"] = json!(format!("ticket-{}", event["ticket_id"]));
    sample
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_ticket_is_drafted_in_the_configured_kb_with_its_key_from_secrets_manager() {
    let Some(aws) = lambda::emulator().await else { return };
    let sb =
        Sandbox::start(SandboxConfig { tickets: 100, seed: 3, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
    let human = atpilot_e2e::human_of(&sb);
    let company = sb.facts().company_ids[0];
    let mut fields = serde_json::Map::new();
    for (k, v) in [
        ("companyID", json!(company)),
        ("title", json!("MFA enrollment for the new starter")),
        ("description", json!("Please set up the authenticator app for our new colleague.")),
        ("status", json!(1)),
        ("priority", json!(2)),
        ("queueID", json!(sb.facts().queues[0].0)),
    ] {
        fields.insert(k.into(), v);
    }
    let t = sb.simulate_ticket_create(fields, human);
    let mut world = hudu::World::default();
    let name = sb.row("Companies", company).unwrap()["companyName"].as_str().unwrap().to_string();
    world.companies.push(hudu::Company { id: 40, name, id_in_integration: Some(company.to_string()) });
    let kb = hudu::start(world).await.unwrap();

    let (state, table) = lambda::table(&aws, "atpilot-classify-bin").await;
    let secret = |name: &str, value: String| {
        let (aws, name) = (aws.clone(), format!("atpilot/{name}-{table}"));
        async move { lambda::secret(&aws, &name, &value).await }
    };
    let creds =
        json!({"username": DEFAULT_USER, "secret": DEFAULT_SECRET, "integration_code": DEFAULT_INTEGRATION_CODE});
    let secrets = [
        ("AUTOTASK_CREDENTIALS_SECRET_ARN", secret("autotask", creds.to_string()).await),
        ("WEBHOOK_SECRET_ARN", secret("webhook", "w".repeat(32)).await),
        ("APPROVAL_KEY_SECRET_ARN", secret("approval", "a".repeat(48)).await),
        ("KB_API_KEY_SECRET_ARN", secret("kb", atpilot_kb_sandbox::API_KEY.to_string()).await),
    ];
    let config = format!(
        "{}\n[kb]\nprovider = \"hudu\"\nbase_url = \"{}\"\ndrafts_folder_id = 7\n",
        atpilot_config::EXAMPLE.replace("url = \"sandbox\"", &format!("url = \"{}\"", sb.rest_url())),
        hudu::base(&kb)
    );
    let env = lambda::function_env(&config, &table, &secrets);
    let event = |key: &str, source: &str, fields: Value| {
        sqs(
            json!({"ticket_id": t, "event_key": key, "source": source, "changed_fields": fields.as_object().unwrap().keys().collect::<Vec<_>>(),
            "fields": fields, "person_id": human, "received_at": chrono::Utc::now()}),
        )
    };
    let ok = |out: &[lambda::Outcome]| {
        let v = out[0].as_ref().unwrap_or_else(|e| panic!("classify failed: {e}"));
        assert_eq!(v["batchItemFailures"], json!([]), "{v}");
    };
    ok(&lambda::invoke(env!("CARGO_BIN_EXE_classify"), &env, vec![event("g:1", "create", json!({}))]).await);

    // A technician completes it with a resolution; the Update event reaches the function.
    let mut done = serde_json::Map::new();
    done.insert("status".into(), json!(5));
    done.insert(
        "resolution".into(),
        json!("Sent the Authenticator enrollment link.\nWalked the new starter through scanning the QR code.\nConfirmed a sign-in with an app approval."),
    );
    assert!(sb.simulate_ticket_update(t, done, human));
    ok(&lambda::invoke(env!("CARGO_BIN_EXE_classify"), &env, vec![event("g:2", "update", json!({"status": 5}))]).await);

    let record = state.kb_draft(TicketId::new(t).unwrap()).await.unwrap().expect("the draft's record in the table");
    assert!(matches!(record.status, KbDraftStatus::Drafted { .. }), "{:?}", record.status);
    let stored = kb.with_world(|w| w.articles.clone());
    assert_eq!(stored.len(), 1, "one article");
    let number = sb.row("Tickets", t).unwrap()["ticketNumber"].as_str().unwrap().to_string();
    assert_eq!(stored[0].name, format!("MFA enrollment for the new starter [{number}]"));
    assert_eq!((stored[0].company_id, stored[0].folder_id), (Some(40), Some(7)));
    let note = sb
        .rows_where("TicketNotes", "ticketID", t)
        .into_iter()
        .filter(|n| n["description"].as_str().is_some_and(|d| d.contains(&format!("[atpilot:kb-{t}]"))));
    assert_eq!(note.count(), 1, "one internal note links it");
}
