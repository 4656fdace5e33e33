//! The seeded tenant: deterministic, realistic, and cheap at 250,000 tickets.

use atpilot_autotask_sandbox::tenant::{
    CT_BLOCK_HOURS, CT_FIXED_PRICE, CT_PER_TICKET, CT_RECURRING, CT_RETAINER, CT_TIME_MATERIALS,
};
use atpilot_autotask_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

async fn start(tickets: u64, seed: u64) -> Sandbox {
    let anchor = chrono::DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc);
    Sandbox::start(
        SandboxConfig { tickets, seed, anchor: Some(anchor), ..Default::default() },
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap()
}

async fn post(sb: &Sandbox, path: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}v1.0/{path}", sb.rest_url()))
        .header("ApiIntegrationCode", "SANDBOX")
        .header("UserName", "api@sandbox.local")
        .header("Secret", "sandbox-secret")
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn seed_is_deterministic_and_realistic() {
    let a = start(3_000, 42).await;
    let b = start(3_000, 42).await;
    let c = start(3_000, 43).await;
    for id in [100_001, 101_500, 103_000] {
        assert_eq!(a.row("Tickets", id), b.row("Tickets", id));
    }
    assert_ne!(a.row("Tickets", 101_500), c.row("Tickets", 101_500));
    let f = a.facts();
    assert!(f.company_ids.len() >= 31, "at least 30 customers plus the MSP");
    assert!(f.queues.len() >= 20);
    for t in [CT_TIME_MATERIALS, CT_FIXED_PRICE, CT_BLOCK_HOURS, CT_RETAINER, CT_RECURRING, CT_PER_TICKET] {
        assert!(f.contracts_by_type.get(&t).is_some_and(|v| !v.is_empty()), "contract type {t}");
    }
    assert!(!f.companies_without_contract.is_empty() && !f.companies_with_several_contracts.is_empty());
    // Block hours contracts have blocks and factors; per-ticket contracts have purchases.
    let (_, blocks) =
        post(&a, "ContractBlocks/query", json!({"filter": [{"op": "gte", "field": "id", "value": 0}]})).await;
    assert!(blocks["items"].as_array().unwrap().len() >= 2);
    let (_, factors) =
        post(&a, "ContractBlockHourFactors/query", json!({"filter": [{"op": "gte", "field": "id", "value": 0}]})).await;
    assert!(!factors["items"].as_array().unwrap().is_empty());
    let (_, purchases) =
        post(&a, "ContractTicketPurchases/query", json!({"filter": [{"op": "gte", "field": "id", "value": 0}]})).await;
    assert!(!purchases["items"].as_array().unwrap().is_empty());
    // Re-routed tickets: moved by hand within an hour, visible in TicketHistory.
    let rerouted: Vec<_> = (f.first_ticket_id..=f.last_ticket_id)
        .filter_map(|id| a.ticket_facts(id))
        .filter(|t| t.rerouted_at.is_some())
        .collect();
    assert!(rerouted.len() > 100, "{}", rerouted.len());
    let t = &rerouted[0];
    assert!(t.rerouted_at.unwrap() - t.create <= chrono::Duration::hours(1));
    assert!(f.dumping_ground_queues.contains(&t.initial_queue));
    let (_, hist) =
        post(&a, "TicketHistory/query", json!({"filter": [{"op": "eq", "field": "ticketID", "value": t.id}]})).await;
    assert!(
        hist["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["detail"].as_str().unwrap().starts_with("Queue changed from"))
    );
    // Dumping grounds hold many tickets; the unmonitored queue's tickets have no notes.
    let (_, dump) = post(
        &a,
        "Tickets/query/count",
        json!({"filter": [{"op": "in", "field": "queueID", "value": f.dumping_ground_queues}]}),
    )
    .await;
    assert!(dump["queryCount"].as_u64().unwrap() > 300);
    let (_, unmon) = post(
        &a,
        "Tickets/query",
        json!({"filter": [{"op": "eq", "field": "queueID", "value": f.unmonitored_queue}], "MaxRecords": 5}),
    )
    .await;
    let u = unmon["items"][0]["id"].as_i64().unwrap();
    let (_, notes) =
        post(&a, "TicketNotes/query/count", json!({"filter": [{"op": "eq", "field": "ticketID", "value": u}]})).await;
    assert_eq!(notes["queryCount"], 0);
    // History, time entries, surveys and SLA results exist.
    for e in ["TimeEntries", "SurveyResults", "ServiceLevelAgreementResults", "TicketNotes"] {
        let (s, v) =
            post(&a, &format!("{e}/query/count"), json!({"filter": [{"op": "gte", "field": "id", "value": 0}]})).await;
        assert_eq!(s, 200);
        assert!(v["queryCount"].as_u64().unwrap() > 100, "{e}: {v}");
    }
    // Several months of history.
    let first = a.row("Tickets", f.first_ticket_id).unwrap();
    assert!(first["createDate"].as_str().unwrap() < "2025-10-01");
}

#[tokio::test]
async fn a_quarter_million_tickets_are_generated_lazily() {
    let sb = start(250_000, 1).await;
    let f = sb.facts();
    assert_eq!(f.last_ticket_id - f.first_ticket_id + 1, 250_000);
    assert!(sb.row("Tickets", f.last_ticket_id).is_some());
    // A page deep in the range, via an id filter, and a child lookup by ticket.
    let (s, v) = post(
        &sb,
        "Tickets/query",
        json!({"filter": [{"op": "gt", "field": "id", "value": f.last_ticket_id - 700}], "IncludeFields": ["id"]}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["items"].as_array().unwrap().len(), 500);
    assert!(v["pageDetails"]["nextPageUrl"].is_string());
    let (_, n) = post(
        &sb,
        "TimeEntries/query/count",
        json!({"filter": [{"op": "eq", "field": "ticketID", "value": f.last_ticket_id - 5000}]}),
    )
    .await;
    assert!(n["queryCount"].as_u64().unwrap() <= 2);
}

#[tokio::test]
async fn errors_have_the_real_shapes_and_codes() {
    let sb = start(10, 1).await;
    let (s, v) =
        post(&sb, "TimeEntries", json!({"resourceID": 7, "hoursWorked": 30, "dateWorked": "2026-01-01"})).await;
    assert_eq!(s, 500);
    assert!(v["errors"][0].as_str().unwrap().contains("hoursWorked"));
    let (s, _) =
        post(&sb, "TicketNotes", json!({"ticketID": 100_001, "description": "x", "noteType": 1, "publish": 1})).await;
    assert_eq!(s, 405, "notes are written through Tickets/{{id}}/Notes");
    let (s, v) = post(&sb, "Companies/1/Contacts", json!({"firstName": "A", "lastName": "B", "isActive": true})).await;
    assert_eq!(s, 500, "isActive must be an int: {v}");
    let (s, v) = post(&sb, "Companies/1/Contacts", json!({"firstName": "A", "lastName": "B", "isActive": 1})).await;
    assert_eq!(s, 200);
    assert!(v["itemId"].as_i64().is_some());
    // Path case does not matter; every request was recorded.
    let r = reqwest::Client::new()
        .get(format!("{}/ATServicesRest/V1.0/Tickets/100001", sb.base_url()))
        .header("apiintegrationcode", "SANDBOX")
        .header("username", "api@sandbox.local")
        .header("secret", "sandbox-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(sb.writes().len(), 4);
    assert_eq!(sb.applied_writes().len(), 1);
}
