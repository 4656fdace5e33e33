//! Where published Autotask clients found the sandbox unlike the API
//! (issue "Autotask as it really behaves", sandbox section), each checked
//! over plain HTTP as a third-party client sends it.

use atpilot_autotask_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

async fn start() -> Sandbox {
    Sandbox::start(SandboxConfig { tickets: 200, seed: 5, ..Default::default() }, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

async fn call(sb: &Sandbox, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new()
        .request(method, format!("{}v1.0/{path}", sb.rest_url()))
        .header("ApiIntegrationCode", "SANDBOX")
        .header("UserName", "api@sandbox.local")
        .header("Secret", "sandbox-secret");
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn post(sb: &Sandbox, path: &str, body: Value) -> (u16, Value) {
    call(sb, reqwest::Method::POST, path, Some(body)).await
}

async fn get(sb: &Sandbox, path: &str) -> (u16, Value) {
    call(sb, reqwest::Method::GET, path, None).await
}

#[tokio::test]
async fn a_created_record_reads_back_with_every_declared_field() {
    let sb = start().await;
    let company = sb.facts().company_ids[1];
    let (s, created) = post(
        &sb,
        &format!("Companies/{company}/Contacts"),
        json!({"firstName": "Ada", "lastName": "Byron", "isActive": 1}),
    )
    .await;
    assert_eq!(s, 200, "{created}");
    let id = created["itemId"].as_i64().unwrap();
    let (_, read) = get(&sb, &format!("Contacts/{id}")).await;
    let item = read["item"].as_object().unwrap();
    for field in ["emailAddress", "mobilePhone", "title", "primaryContact"] {
        assert!(item.contains_key(field), "{field} missing from {item:?}");
    }
    assert_eq!(item["mobilePhone"], Value::Null);
}

#[tokio::test]
async fn datetimes_are_stored_and_returned_in_utc() {
    let sb = start().await;
    let f = sb.facts();
    let ticket = f.first_ticket_id;
    let contract = sb.row("Tickets", ticket).and_then(|t| t["contractID"].as_i64());
    let mut entry = json!({"ticketID": ticket, "resourceID": f.agent_resource_id, "roleID": f.agent_role_id,
        "dateWorked": "2026-03-01", "startDateTime": "2026-03-01T09:00:00-05:00",
        "endDateTime": "2026-03-01T09:30:00-05:00", "hoursWorked": 0.5, "summaryNotes": "utc"});
    if let Some(c) = contract {
        entry["contractID"] = json!(c);
    }
    let (s, created) = post(&sb, "TimeEntries", entry).await;
    assert_eq!(s, 200, "{created}");
    let row = sb.row("TimeEntries", created["itemId"].as_i64().unwrap()).unwrap();
    assert_eq!(row["dateWorked"], "2026-03-01T00:00:00.000Z");
    assert_eq!(row["startDateTime"], "2026-03-01T14:00:00.000Z", "the offset is applied, not kept");
}

#[tokio::test]
async fn resource_license_type_is_a_picklist() {
    let sb = start().await;
    let (_, fields) = get(&sb, "Resources/entityInformation/fields").await;
    let lt = fields["fields"].as_array().unwrap().iter().find(|f| f["name"] == "licenseType").unwrap().clone();
    assert_eq!(lt["isPickList"], true, "{lt}");
    assert!(lt["picklistValues"].as_array().unwrap().iter().any(|v| v["value"] == "7"), "{lt}");
}

#[tokio::test]
async fn a_boolean_sent_as_a_string_against_an_integer_field_matches_like_one() {
    let sb = start().await;
    let count = |v: Value| {
        let sb = &sb;
        async move {
            let (s, r) =
                post(sb, "Contacts/query/count", json!({"filter": [{"op": "eq", "field": "isActive", "value": v}]}))
                    .await;
            assert_eq!(s, 200, "{r}");
            r["queryCount"].as_i64().unwrap()
        }
    };
    let ones = count(json!(1)).await;
    assert!(ones > 0);
    assert_eq!(count(json!("true")).await, ones);
    assert_eq!(count(json!("false")).await, count(json!(0)).await);
}

#[tokio::test]
async fn ticket_categories_checklist_items_secondary_resources_and_offices_are_served() {
    let sb = start().await;
    let f = sb.facts();
    let t = f.first_ticket_id;
    let all = json!({"filter": [{"op": "gte", "field": "id", "value": 0}]});
    for entity in ["TicketCategories", "InternalLocations"] {
        let (s, r) = post(&sb, &format!("{entity}/query"), all.clone()).await;
        assert!(s == 200 && !r["items"].as_array().unwrap().is_empty(), "{entity}: {s} {r}");
    }
    let (s, r) =
        post(&sb, &format!("Tickets/{t}/ChecklistItems"), json!({"itemName": "Check backups", "isCompleted": false}))
            .await;
    assert_eq!(s, 200, "{r}");
    let (s, r) = post(
        &sb,
        &format!("Tickets/{t}/SecondaryResources"),
        json!({"resourceID": f.agent_resource_id, "roleID": f.agent_role_id}),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    let (_, items) = get(&sb, &format!("Tickets/{t}/ChecklistItems")).await;
    assert_eq!(items["items"].as_array().map(Vec::len), Some(1), "{items}");
}

#[tokio::test]
async fn an_unknown_filter_operator_is_refused_or_dropped_in_the_lenient_mode() {
    let sb = start().await;
    let q = json!({"filter": [{"op": "like", "field": "companyName", "value": "x"}, {"op": "gte", "field": "id", "value": 0}]});
    let (s, r) = post(&sb, "Companies/query/count", q.clone()).await;
    assert_eq!(s, 500, "refused by default: {r}");
    sb.set_knobs(|k| k.lenient_unknown_operators = true);
    let (s, r) = post(&sb, "Companies/query/count", q).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        r["queryCount"].as_i64(),
        Some(sb.facts().company_ids.len() as i64),
        "the unknown clause matched every row"
    );
    // Inside a group too.
    let nested = json!({"filter": [{"op": "and", "items": [
        {"op": "like", "field": "companyName", "value": "x"}, {"op": "gte", "field": "id", "value": 0}]}]});
    let (s, r) = post(&sb, "Companies/query/count", nested).await;
    assert_eq!((s, r["queryCount"].as_i64()), (200, Some(sb.facts().company_ids.len() as i64)), "{r}");
}
