//! Every path and field name the client sends is checked against Autotask's
//! Swagger document (case-insensitively) and, for webhooks, the 2026 endpoint list.

mod common;

use atpilot_autotask::*;
use atpilot_autotask_sandbox::Knobs;
use common::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn reference(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference").join(name)
}

struct Spec {
    paths: BTreeSet<String>,
    models: BTreeMap<String, BTreeSet<String>>,
}

fn load() -> Spec {
    let swagger: Value = serde_json::from_slice(
        &std::fs::read(reference("autotask-swagger-2020.json"))
            .expect("../shared/reference/autotask-swagger-2020.json"),
    )
    .unwrap();
    let mut paths: BTreeSet<String> =
        swagger["paths"].as_object().unwrap().keys().map(|p| p.to_ascii_lowercase()).collect();
    let tsv = std::fs::read_to_string(reference("autotask-endpoints-2026.tsv"))
        .expect("../shared/reference/autotask-endpoints-2026.tsv");
    for line in tsv.lines().filter(|l| !l.starts_with('#')) {
        if let Some(p) = line.split('\t').next() {
            paths.insert(p.to_ascii_lowercase());
        }
    }
    let mut models = BTreeMap::new();
    for (name, def) in swagger["definitions"].as_object().unwrap() {
        let props: BTreeSet<String> = def["properties"]
            .as_object()
            .map(|o| o.keys().map(|k| k.to_ascii_lowercase()).collect())
            .unwrap_or_default();
        models.insert(name.clone(), props);
    }
    // TicketWebhook* are newer than the 2020 Swagger: names from the current
    // TicketWebhookModel (reference §5) and the Company webhook models' shapes.
    let set = |v: &[&str]| v.iter().map(|s| s.to_ascii_lowercase()).collect::<BTreeSet<_>>();
    models.insert(
        "TicketWebhookModel".into(),
        set(&[
            "id",
            "name",
            "webhookUrl",
            "deactivationUrl",
            "secretKey",
            "notificationEmailAddress",
            "isActive",
            "isReady",
            "isSubscribedToCreateEvents",
            "isSubscribedToUpdateEvents",
            "isSubscribedToDeleteEvents",
            "sendThresholdExceededNotification",
            "ownerResourceID",
            "webhookGUID",
        ]),
    );
    let field = models["CompanyWebhookFieldModel"].clone();
    models.insert("TicketWebhookFieldModel".into(), field);
    let excl = models["CompanyWebhookExcludedResourceModel"].clone();
    models.insert("TicketWebhookExcludedResourceModel".into(), excl);
    Spec { paths, models }
}

fn model_of(entity: &str) -> &'static str {
    match entity.to_ascii_lowercase().as_str() {
        "tickets" => "TicketModel",
        "ticketnotes" => "TicketNoteModel",
        "timeentries" => "TimeEntryModel",
        "contracts" => "ContractModel",
        "contractblocks" => "ContractBlockModel",
        "contractblockhourfactors" => "ContractBlockHourFactorModel",
        "contractticketpurchases" => "ContractTicketPurchaseModel",
        "contractservices" => "ContractServiceModel",
        "services" => "ServiceModel",
        "companies" => "CompanyModel",
        "contacts" => "ContactModel",
        "resources" => "ResourceModel",
        "roles" => "RoleModel",
        "resourceroles" => "ResourceRoleModel",
        "billingcodes" => "BillingCodeModel",
        "tickethistory" => "TicketHistoryModel",
        "servicelevelagreementresults" => "ServiceLevelAgreementResultsModel",
        "surveys" => "SurveyModel",
        "surveyresults" => "SurveyResultsModel",
        "ticketwebhooks" => "TicketWebhookModel",
        "ticketwebhookfields" => "TicketWebhookFieldModel",
        "ticketwebhookexcludedresources" => "TicketWebhookExcludedResourceModel",
        other => panic!("no model mapped for {other}"),
    }
}

fn check_fields<E: Entity>(spec: &Spec, problems: &mut Vec<String>) {
    let model = model_of(E::PATH);
    let props = &spec.models[model];
    for f in E::FIELDS {
        if *f == "userDefinedFields" && !props.contains("userdefinedfields") {
            continue; // never sent for these entities (empty lists are skipped); checked on the wire below
        }
        if !props.contains(&f.to_ascii_lowercase()) {
            problems.push(format!("{}: field {f} is not in {model}", E::PATH));
        }
    }
}

/// `/atservicesrest/v1.0/Tickets/12/Notes` → `/v1.0/tickets/{parentid}/notes`.
fn template(path: &str) -> String {
    let lower = path.to_ascii_lowercase();
    let rest = lower.strip_prefix("/atservicesrest").unwrap_or(&lower);
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let n = segs.len();
    let out: Vec<String> = segs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if s.parse::<i64>().is_ok() {
                if i + 1 < n { "{parentid}".into() } else { "{id}".into() }
            } else {
                s.to_string()
            }
        })
        .collect();
    format!("/{}", out.join("/"))
}

fn entity_of(tpl: &str) -> String {
    let segs: Vec<&str> = tpl.split('/').filter(|s| !s.is_empty()).skip(1).collect();
    match segs.as_slice() {
        [p, "{parentid}", c, ..] => atpilot_autotask::client::endpoint_key(&format!("{p}/1/{c}")),
        [e, ..] => e.to_string(),
        [] => String::new(),
    }
}

#[tokio::test]
async fn every_path_and_field_sent_is_in_the_spec() {
    let spec = load();
    let mut problems = vec![];
    check_fields::<Ticket>(&spec, &mut problems);
    check_fields::<TicketNote>(&spec, &mut problems);
    check_fields::<TimeEntry>(&spec, &mut problems);
    check_fields::<Contract>(&spec, &mut problems);
    check_fields::<ContractBlock>(&spec, &mut problems);
    check_fields::<ContractBlockHourFactor>(&spec, &mut problems);
    check_fields::<ContractTicketPurchase>(&spec, &mut problems);
    check_fields::<ContractService>(&spec, &mut problems);
    check_fields::<Service>(&spec, &mut problems);
    check_fields::<Company>(&spec, &mut problems);
    check_fields::<Contact>(&spec, &mut problems);
    check_fields::<Resource>(&spec, &mut problems);
    check_fields::<Role>(&spec, &mut problems);
    check_fields::<ResourceRole>(&spec, &mut problems);
    check_fields::<BillingCode>(&spec, &mut problems);
    check_fields::<TicketHistory>(&spec, &mut problems);
    check_fields::<ServiceLevelAgreementResult>(&spec, &mut problems);
    check_fields::<Survey>(&spec, &mut problems);
    check_fields::<SurveyResult>(&spec, &mut problems);
    check_fields::<TicketWebhook>(&spec, &mut problems);
    check_fields::<TicketWebhookField>(&spec, &mut problems);
    check_fields::<TicketWebhookExcludedResource>(&spec, &mut problems);

    // Drive the client through everything it does, then inspect the wire.
    let sb = sandbox(1_200, Knobs::default()).await;
    let c = client(&sb);
    c.threshold_information().await.unwrap();
    for e in ["Tickets", "TicketNotes", "TimeEntries", "Contracts", "Companies", "TicketWebhookFields"] {
        c.fields(e).await.unwrap();
    }
    c.udf_definitions("Tickets").await.unwrap();
    let _: Vec<Ticket> = c
        .query(
            Query::new()
                .filter(Filter::or([Filter::eq("status", 1), Filter::is_in("queueID", [29683490, 29683491])]))
                .include(Ticket::FIELDS),
        )
        .await
        .unwrap();
    let _: Vec<Ticket> = c.query(Query::all().include(["id", "title"])).await.unwrap();
    c.count::<TimeEntry>(&Query::new().filter(Filter::eq("ticketID", 100_010))).await.unwrap();
    let _: Vec<TicketHistory> = c.query(Query::new().filter(Filter::eq("ticketID", 100_010))).await.unwrap();
    let _: Vec<ContractBlock> = c.query(Query::new().filter(Filter::eq("contractID", 3))).await.unwrap();
    let _ = c.get::<Contract>(1).await.unwrap();
    let _ = c.get::<Company>(1).await.unwrap();
    let _ = c.get::<Contact>(1010).await.unwrap();
    let _ = c.get::<Ticket>(100_010).await.unwrap().unwrap();
    let t = c
        .query::<Ticket>(Query::new().filter(Filter::exist("assignedResourceID")).max_records(1).unwrap())
        .await
        .unwrap()
        .remove(0);
    let mut p = TicketPatch::new(100_010);
    p.queue_id = Opt::Value(29683481);
    p.user_defined_fields = vec![Udf::new("atpilot Category", "printing")];
    c.patch::<Ticket>(&p).await.unwrap();
    c.create_child(
        100_010,
        &TicketNote {
            title: Some("t".into()),
            description: Some("d".into()),
            note_type: Some(3),
            publish: Some(2),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    {
        let (r, role) = (t.assigned_resource_id.unwrap(), t.assigned_resource_role_id.unwrap());
        c.create(&TimeEntry {
            ticket_id: t.id,
            resource_id: Some(r),
            role_id: Some(role),
            date_worked: Some("2026-01-05T00:00:00Z".into()),
            hours_worked: Some(0.1),
            summary_notes: Some("x".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let reg = TicketWebhookRegistration {
        name: "spec".into(),
        webhook_url: "http://127.0.0.1:9/hook".into(),
        deactivation_url: "http://127.0.0.1:9/deact".into(),
        secret_key: "k".into(),
        notification_email_address: None,
        on_create: true,
        on_update: true,
        subscribed_fields: vec!["status".into()],
        display_always_fields: vec!["title".into()],
        excluded_resources: vec![5],
    };
    let hid = c.register_ticket_webhook(&reg).await.unwrap();
    let mut hp = TicketWebhookPatch::new(hid);
    hp.is_active = Opt::Value(false);
    c.patch::<TicketWebhook>(&hp).await.unwrap();
    c.delete::<TicketWebhook>(hid).await.unwrap();

    let mut seen_paths = BTreeSet::new();
    for r in sb.requests() {
        let tpl = template(&r.path);
        if tpl.ends_with("/query/next") {
            continue; // server-provided nextPageUrl, followed verbatim
        }
        seen_paths.insert(tpl.clone());
        if !spec.paths.contains(&tpl) {
            problems.push(format!("{} {}: path not in the spec", r.method, tpl));
        }
        let Some(body) = &r.body else { continue };
        let entity = entity_of(&tpl);
        if tpl.contains("/query") {
            let qm = &spec.models["QueryModel"];
            for k in body.as_object().unwrap().keys() {
                if !qm.contains(&k.to_ascii_lowercase()) {
                    problems.push(format!("{tpl}: query key {k} not in QueryModel"));
                }
            }
            let props = &spec.models[model_of(&entity)];
            let mut fields = vec![];
            for f in body.get("filter").and_then(Value::as_array).into_iter().flatten() {
                let f: Filter = serde_json::from_value(f.clone()).unwrap();
                for k in f.clone().items.iter().chain(std::iter::once(&f)) {
                    let _ = k;
                }
                f.fields(&mut fields);
                let keys = serde_json::to_value(&f).unwrap();
                for k in keys.as_object().unwrap().keys() {
                    if !spec.models["Filter"].contains(&k.to_ascii_lowercase()) {
                        problems.push(format!("{tpl}: filter key {k} not in Filter"));
                    }
                }
            }
            fields.extend(
                body.get("IncludeFields")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v.as_str().map(String::from)),
            );
            for f in fields {
                if !props.contains(&f.to_ascii_lowercase()) {
                    problems.push(format!("{tpl}: field {f} not in {}", model_of(&entity)));
                }
            }
        } else {
            let props = &spec.models[model_of(&entity)];
            for (k, v) in body.as_object().unwrap() {
                if !props.contains(&k.to_ascii_lowercase()) {
                    problems.push(format!("{} {tpl}: field {k} not in {}", r.method, model_of(&entity)));
                }
                if k == "userDefinedFields" {
                    for u in v.as_array().unwrap() {
                        for uk in u.as_object().unwrap().keys() {
                            if !spec.models["UserDefinedField"].contains(&uk.to_ascii_lowercase()) {
                                problems.push(format!("{tpl}: UDF key {uk}"));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "names not in the spec:\n{}", problems.join("\n"));
    // The check covered reads, writes, children, metadata and webhooks.
    for must in [
        "/v1.0/tickets/query",
        "/v1.0/tickets",
        "/v1.0/tickets/{parentid}/notes",
        "/v1.0/timeentries",
        "/v1.0/ticketwebhooks/{parentid}/fields",
        "/v1.0/ticketwebhooks/{parentid}/excludedresources",
        "/v1.0/thresholdinformation",
        "/v1.0/zoneinformation",
        "/v1.0/tickets/entityinformation/fields",
    ] {
        assert!(seen_paths.contains(must), "{must} not exercised: {seen_paths:?}");
    }
    let _ = json!(null);
}
