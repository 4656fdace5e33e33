//! Client integration tests against the sandbox over real HTTP on 127.0.0.1.

mod common;

use atpilot_autotask::*;
use atpilot_autotask_sandbox::Knobs;
use common::*;
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test]
async fn zone_discovery_and_auth_errors() {
    let sb = sandbox(50, Knobs::default()).await;
    let c = client(&sb);
    assert_eq!(c.zone_url().await.unwrap(), sb.rest_url());
    assert!(c.get::<Ticket>(100_001).await.unwrap().is_some());
    // Discovery is cached: one zoneInformation call however many requests.
    c.get::<Ticket>(100_002).await.unwrap();
    let zone_calls = sb.requests().iter().filter(|r| r.path.to_ascii_lowercase().contains("zoneinformation")).count();
    assert_eq!(zone_calls, 1);

    let mut bad = config(&sb);
    bad.credentials.secret = "wrong".into();
    let e = Client::new(bad).unwrap().get::<Ticket>(100_001).await.unwrap_err();
    assert!(matches!(e, Error::Auth { status: 401, .. }), "{e:?}");

    let mut bad = config(&sb);
    bad.credentials.integration_code = "NOPE".into();
    let e = Client::new(bad).unwrap().get::<Ticket>(100_001).await.unwrap_err();
    assert!(matches!(e, Error::Auth { status: 500, .. }), "{e:?}");

    let mut bad = config(&sb);
    bad.credentials.username = "nobody@x".into();
    let e = Client::new(bad).unwrap().get::<Ticket>(100_001).await.unwrap_err();
    assert!(matches!(e, Error::Zone(_)), "{e:?}");
    let mut bad = config(&sb);
    bad.credentials.username = "nobody@x".into();
    bad.zone = ZoneSource::Fixed { rest_url: sb.rest_url() };
    let e = Client::new(bad).unwrap().get::<Ticket>(100_001).await.unwrap_err();
    assert!(matches!(e, Error::Auth { status: 500, .. }), "{e:?}");
    // Missing ids: {"item": null} → None.
    assert!(c.get::<Ticket>(999_999_999).await.unwrap().is_none());
}

#[tokio::test]
async fn pages_across_thousands_of_records_in_bounded_pages() {
    let sb = sandbox(3_200, Knobs::default()).await;
    let c = client(&sb);
    let before = sb.request_count();
    let mut stream = Box::pin(c.stream::<Ticket>(Query::all().include(["title", "queueID"])));
    let mut ids = vec![];
    while let Some(t) = stream.next().await {
        let t = t.unwrap();
        assert!(t.title.is_some() && t.description.is_none(), "IncludeFields honoured");
        ids.push(t.id.unwrap());
    }
    assert_eq!(ids.len(), 3_200);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ascending ids");
    let query_calls: Vec<_> = sb.requests()[before..]
        .iter()
        .filter(|r| r.path.to_ascii_lowercase().contains("/tickets/query"))
        .cloned()
        .collect();
    assert_eq!(query_calls.len(), 7, "7 pages of at most 500");
    assert!(query_calls[1..].iter().all(|r| r.path.to_ascii_lowercase().ends_with("/query/next")));
    assert_eq!(c.count::<Ticket>(&Query::all()).await.unwrap(), 3_200);

    // The id-cursor mode reads the same records.
    let mut cfg = config(&sb);
    cfg.paging = PagingMode::IdCursor;
    let c2 = Client::new(cfg).unwrap();
    let ids2: Vec<i64> = c2
        .query::<Ticket>(Query::all().include(["id"]).max_records(400).unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id.unwrap())
        .collect();
    assert_eq!(ids, ids2);

    // When nextPageUrl fails (404/405 seen in the field), the id cursor takes over.
    sb.set_knobs(|k| k.next_page_url_status = Some(405));
    let n = sb.request_count();
    let ids3: Vec<i64> =
        c.query::<Ticket>(Query::all().include(["id"])).await.unwrap().into_iter().map(|t| t.id.unwrap()).collect();
    assert_eq!(ids, ids3);
    assert!(sb.requests()[n..].iter().any(|r| r.status == 405));
    sb.set_knobs(|k| k.next_page_url_status = None);

    // Children are paged too (thousands of notes).
    let notes = c.count::<TicketNote>(&Query::all()).await.unwrap();
    assert!(notes > 3_000, "{notes}");
}

#[tokio::test]
async fn every_filter_operator_matches_a_local_evaluation() {
    let sb = sandbox(1_200, Knobs::default()).await;
    let c = client(&sb);
    let all: Vec<Ticket> = c.query(Query::all()).await.unwrap();
    assert_eq!(all.len(), 1_200);
    let mid = all[600].id.unwrap();
    let queues: Vec<i64> = c
        .picklist("Tickets", "queueID")
        .await
        .unwrap()
        .values
        .iter()
        .take(5)
        .map(|p| p.value.parse().unwrap())
        .collect();
    let lc = |t: &Ticket| t.title.clone().unwrap_or_default().to_lowercase();
    type Pred = Box<dyn Fn(&Ticket) -> bool>;
    let cases: Vec<(Filter, Pred)> = vec![
        (Filter::eq("status", 5), Box::new(|t| t.status == Some(5))),
        (Filter::noteq("status", 5), Box::new(|t| t.status != Some(5))),
        (Filter::gt("id", mid), Box::new(move |t| t.id.unwrap() > mid)),
        (Filter::gte("id", mid), Box::new(move |t| t.id.unwrap() >= mid)),
        (Filter::lt("id", mid), Box::new(move |t| t.id.unwrap() < mid)),
        (Filter::lte("id", mid), Box::new(move |t| t.id.unwrap() <= mid)),
        (Filter::begins_with("title", "vpn"), Box::new(move |t| lc(t).starts_with("vpn"))),
        (Filter::ends_with("title", "laptop"), Box::new(move |t| lc(t).ends_with("laptop"))),
        (Filter::contains("title", "password"), Box::new(move |t| lc(t).contains("password"))),
        (Filter::exist("contractID"), Box::new(|t| t.contract_id.is_some())),
        (Filter::not_exist("contractID"), Box::new(|t| t.contract_id.is_none())),
        (Filter::is_in("queueID", queues.clone()), {
            let q = queues.clone();
            Box::new(move |t| t.queue_id.is_some_and(|x| q.contains(&x)))
        }),
        (Filter::not_in("queueID", queues.clone()), {
            let q = queues.clone();
            Box::new(move |t| !t.queue_id.is_some_and(|x| q.contains(&x)))
        }),
        (
            Filter::or([
                Filter::and([Filter::eq("priority", 1), Filter::exist("assignedResourceID")]),
                Filter::contains("title", "printer"),
            ]),
            Box::new(move |t| (t.priority == Some(1) && t.assigned_resource_id.is_some()) || lc(t).contains("printer")),
        ),
        (
            Filter::eq("Customer Impact", "Whole company").udf(),
            Box::new(|t| udf(&t.user_defined_fields, "Customer Impact") == Some(&json!("Whole company"))),
        ),
    ];
    for (f, pred) in cases {
        let want: BTreeSet<i64> = all.iter().filter(|t| pred(t)).map(|t| t.id.unwrap()).collect();
        let got: BTreeSet<i64> = c
            .query::<Ticket>(Query::new().filter(f.clone()).include(["id"]))
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.id.unwrap())
            .collect();
        assert_eq!(got, want, "filter {}", serde_json::to_string(&f).unwrap());
        assert!(!want.is_empty() || f.op == "notExist", "case {} selects something", f.op);
    }
    // An `in` list of 1,100 ids is split into queries of at most 500 ORs.
    let ids: Vec<i64> = all.iter().step_by(1).take(1_100).map(|t| t.id.unwrap()).collect();
    let before = sb.request_count();
    let got = c.query::<Ticket>(Query::new().filter(Filter::is_in("id", ids.clone())).include(["id"])).await.unwrap();
    assert_eq!(got.len(), 1_100);
    let sent: Vec<_> = sb.requests()[before..]
        .iter()
        .filter(|r| r.path.to_ascii_lowercase().ends_with("/tickets/query"))
        .cloned()
        .collect();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|r| r.status == 200));
    // The sandbox enforces the limit itself.
    let raw = json!({"filter": [{"op": "in", "field": "id", "value": ids}]});
    let e = c.request(Method::POST, "Tickets/query", None, Some(&raw)).await.unwrap_err();
    assert!(e.messages()[0].contains("500 or fewer 'OR' conditions"), "{e:?}");
    // MaxRecords outside 1..=500: typed error before sending, and 500 from the server.
    assert!(matches!(Query::all().max_records(501), Err(Error::MaxRecords(501))));
    let e = c
        .request(
            Method::POST,
            "Tickets/query",
            None,
            Some(&json!({"filter": [{"op": "gte", "field": "id", "value": 0}], "MaxRecords": 20000})),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Validation { status: 500, messages, .. } if messages[0].contains("maxCountOfRecordsToReturn")),
        "{e:?}"
    );
    // Unknown field → 500 with Autotask's message, not retried.
    let n = sb.request_count();
    let e = c.query::<Ticket>(Query::new().filter(Filter::eq("Customer Impact", "x"))).await.unwrap_err();
    assert!(e.messages()[0].contains("Unable to find"), "{e:?}");
    assert_eq!(sb.request_count(), n + 1);
}

#[tokio::test]
async fn patch_touches_only_what_it_sets_and_put_nulls_the_rest() {
    let sb = sandbox(20, Knobs::default()).await;
    let c = client(&sb);
    let status = c.picklist("Tickets", "status").await.unwrap();
    let queue = c.picklist("Tickets", "queueID").await.unwrap();
    let new = Ticket {
        company_id: Some(1),
        title: Some("Printer offline".into()),
        description: Some("The 2nd floor printer is offline".into()),
        status: status.id_of("New"),
        priority: Some(2),
        queue_id: queue.id_of("Service Desk"),
        ..Default::default()
    };
    sb.clear_requests();
    let id = c.create(&new).await.unwrap();
    let mut p = TicketPatch::new(id);
    p.title = Opt::Value("Printer offline (floor 2)".into());
    c.patch::<Ticket>(&p).await.unwrap();
    let t = c.get::<Ticket>(id).await.unwrap().unwrap();
    assert_eq!(t.title.as_deref(), Some("Printer offline (floor 2)"));
    assert_eq!(t.description.as_deref(), Some("The 2nd floor printer is offline"), "PATCH kept the description");
    assert_eq!(t.queue_id, queue.id_of("Service Desk"));
    let mut p = TicketPatch::new(id);
    p.description = Opt::Null;
    c.patch::<Ticket>(&p).await.unwrap();
    let t = c.get::<Ticket>(id).await.unwrap().unwrap();
    assert_eq!(t.description, None);
    assert_eq!(t.title.as_deref(), Some("Printer offline (floor 2)"));
    // Exactly these writes happened, with exactly these bodies.
    let writes = sb.applied_writes();
    assert_eq!(writes.len(), 3);
    assert_eq!((writes[1].method.as_str(), writes[1].path.as_str()), ("PATCH", "/atservicesrest/v1.0/Tickets"));
    assert_eq!(writes[1].body, Some(json!({"id": id, "title": "Printer offline (floor 2)"})));
    assert_eq!(writes[2].body, Some(json!({"id": id, "description": null})));
    // PATCH on the item URL is a 405.
    let e = c
        .request(Method::PATCH, &format!("Tickets/{id}"), None, Some(&json!({"id": id, "title": "x"})))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::MethodNotAllowed { .. }), "{e:?}");
    // PUT sets omitted writable fields to null.
    let mut full = c.get::<Ticket>(id).await.unwrap().unwrap();
    full.priority = Some(1);
    full.assigned_resource_id = None;
    full.assigned_resource_role_id = None;
    let put = Ticket {
        id: full.id,
        company_id: full.company_id,
        title: full.title.clone(),
        status: full.status,
        priority: Some(1),
        queue_id: full.queue_id,
        ..Default::default()
    };
    c.put(&put).await.unwrap();
    let after = c.get::<Ticket>(id).await.unwrap().unwrap();
    assert_eq!(after.priority, Some(1));
    assert_eq!(after.issue_type, None);
    // A seeded ticket keeps its other fields under PATCH.
    let before = c.get::<Ticket>(100_003).await.unwrap().unwrap();
    let mut p = TicketPatch::new(100_003);
    p.priority = Opt::Value(4);
    c.patch::<Ticket>(&p).await.unwrap();
    let after = c.get::<Ticket>(100_003).await.unwrap().unwrap();
    assert_eq!(after.priority, Some(4));
    assert_eq!(
        (after.title, after.company_id, after.contract_id, after.queue_id),
        (before.title, before.company_id, before.contract_id, before.queue_id)
    );
}

#[tokio::test]
async fn udf_writes_use_name_value_pairs() {
    let sb = sandbox(20, Knobs::default()).await;
    let c = client(&sb);
    let defs = c.udf_definitions("Tickets").await.unwrap();
    assert!(defs.iter().any(|d| d.name == "atpilot Category"));
    let mut p = TicketPatch::new(100_005);
    p.user_defined_fields = vec![Udf::new("atpilot Category", "password-reset")];
    c.patch::<Ticket>(&p).await.unwrap();
    let t = c.get::<Ticket>(100_005).await.unwrap().unwrap();
    assert_eq!(udf(&t.user_defined_fields, "atpilot Category"), Some(&json!("password-reset")));
    assert!(udf(&t.user_defined_fields, "Customer Impact").is_some(), "other UDFs kept");
    let found =
        c.query::<Ticket>(Query::new().filter(Filter::eq("atpilot Category", "password-reset").udf())).await.unwrap();
    assert_eq!(found.iter().map(|t| t.id.unwrap()).collect::<Vec<_>>(), vec![100_005]);
    // Flat UDF keys fail like the real API.
    let e = c
        .request(Method::PATCH, "Tickets", None, Some(&json!({"id": 100_005, "atpilot Category": "x"})))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation { .. }), "{e:?}");
    // Two UDFs in one query are refused.
    let q =
        Query::new().filter(Filter::eq("atpilot Category", "x").udf()).filter(Filter::eq("Customer Impact", "x").udf());
    assert!(matches!(c.query::<Ticket>(q).await, Err(Error::Validation { .. })));
}

#[tokio::test]
async fn validation_errors_carry_the_message_and_are_not_retried() {
    let sb = sandbox(200, Knobs::default()).await;
    let c = client(&sb);
    let facts = sb.facts();
    // A ticket with an assigned resource and role.
    let t = c
        .query::<Ticket>(
            Query::new()
                .filter(Filter::exist("assignedResourceID"))
                .filter(Filter::noteq("assignedResourceID", 6))
                .max_records(1)
                .unwrap(),
        )
        .await
        .unwrap();
    let t = &t[0];
    let entry = |hours: f64, role: i64, resource: i64| TimeEntry {
        ticket_id: t.id,
        resource_id: Some(resource),
        role_id: Some(role),
        date_worked: Some("2026-01-05T00:00:00Z".into()),
        hours_worked: Some(hours),
        summary_notes: Some("Reset the password".into()),
        ..Default::default()
    };
    let res = t.assigned_resource_id.unwrap();
    let role = t.assigned_resource_role_id.unwrap();
    let n = sb.request_count();
    let e = c.create(&entry(24.0, role, res)).await.unwrap_err();
    assert!(
        matches!(&e, Error::Validation { status: 500, messages, .. } if messages[0].contains("hoursWorked")),
        "{e:?}"
    );
    assert_eq!(sb.request_count(), n + 1, "no retry on validation errors");
    assert!(matches!(c.create(&entry(0.0, role, res)).await, Err(Error::Validation { .. })));
    let e = c.create(&entry(0.25, facts.agent_role_id, res)).await.unwrap_err();
    assert!(e.messages()[0].contains("roleID"), "{e:?}");
    // API-only resources cannot own time.
    assert!(matches!(c.create(&entry(0.25, 1, facts.api_resource_id)).await, Err(Error::Validation { .. })));
    // 8 seconds is 8 seconds.
    let ok = c.create(&entry(8.0 / 3600.0, role, res)).await.unwrap();
    let te = c.get::<TimeEntry>(ok).await.unwrap().unwrap();
    assert!((te.hours_worked.unwrap() - 8.0 / 3600.0).abs() < 1e-9);
    assert_eq!(te.contract_id, t.contract_id, "defaults to the ticket's contract");
    // Assigning a resource without a role, or to a role it does not have.
    let mut p = TicketPatch::new(t.id.unwrap());
    p.assigned_resource_id = Opt::Value(7);
    p.assigned_resource_role_id = Opt::Null;
    let e = c.patch::<Ticket>(&p).await.unwrap_err();
    assert!(e.messages()[0].contains("assignedResourceRoleID"), "{e:?}");
    let mut p = TicketPatch::new(t.id.unwrap());
    p.assigned_resource_id = Opt::Value(41);
    p.assigned_resource_role_id = Opt::Value(1);
    assert!(matches!(c.patch::<Ticket>(&p).await, Err(Error::Validation { .. })));
    // Notes go through the parent; publish 2 = internal only.
    let note = TicketNote {
        title: Some("atpilot".into()),
        description: Some("Suggests queue Service Desk".into()),
        note_type: Some(3),
        publish: Some(2),
        ..Default::default()
    };
    let nid = c.create_child(t.id.unwrap(), &note).await.unwrap();
    let back = c.get::<TicketNote>(nid).await.unwrap().unwrap();
    assert_eq!((back.ticket_id, back.publish), (t.id, Some(2)));
    assert!(matches!(c.create(&note).await, Err(Error::Config(_))));
    // Impersonation records the impersonated resource.
    let mut cfg = config(&sb);
    cfg.credentials.impersonation_resource_id = Some(facts.agent_resource_id);
    let ci = Client::new(cfg).unwrap();
    let nid = ci.create_child(t.id.unwrap(), &note).await.unwrap();
    let back = ci.get::<TicketNote>(nid).await.unwrap().unwrap();
    assert_eq!(back.creator_resource_id, Some(facts.agent_resource_id));
    assert_eq!(sb.requests().last().unwrap().impersonation, Some(facts.agent_resource_id));
}

#[tokio::test]
async fn recovers_from_429_bursts_and_thread_limit_without_losing_a_request() {
    let sb = sandbox(100, Knobs { base_latency: Duration::from_millis(40), ..Knobs::default() }).await;
    let c = client(&sb);
    c.zone_url().await.unwrap();
    sb.set_knobs(|k| {
        k.burst_429 = 3;
        k.retry_after_secs = 0;
    });
    let t = c.get::<Ticket>(100_010).await.unwrap().unwrap();
    assert_eq!(t.id, Some(100_010));
    let rejected = sb.requests().iter().filter(|r| r.status == 429).count();
    assert_eq!(rejected, 3);

    // A client that allows 8 in flight per endpoint trips Itgenatr005 and recovers.
    let mut cfg = config(&sb);
    cfg.max_concurrency_per_endpoint = 8;
    cfg.retry.max_attempts = 40;
    let greedy = Client::new(cfg).unwrap();
    sb.clear_requests();
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let g = greedy.clone();
            tokio::spawn(async move {
                let n = TicketNote {
                    title: Some(format!("n{i}")),
                    description: Some(format!("note {i}")),
                    note_type: Some(3),
                    publish: Some(2),
                    ..Default::default()
                };
                g.create_child(100_020, &n).await
            })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap().expect("every write lands"));
    }
    assert_eq!(ids.len(), 24);
    let log = sb.requests();
    let thread_rejections = log.iter().filter(|r| r.body.is_some() && r.rejected).count();
    assert!(thread_rejections > 0, "the sandbox enforced the thread limit");
    assert_eq!(log.iter().filter(|r| r.is_write && r.status == 200).count(), 24, "exactly 24 notes, no duplicates");
    let notes = c
        .query::<TicketNote>(
            Query::new().filter(Filter::eq("ticketID", 100_020)).filter(Filter::begins_with("description", "note ")),
        )
        .await
        .unwrap();
    assert_eq!(notes.len(), 24);

    // The default client (3 per endpoint) never trips it.
    sb.clear_requests();
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.get::<Ticket>(100_001 + i).await })
        })
        .collect();
    for t in tasks {
        assert!(t.await.unwrap().unwrap().is_some());
    }
    assert_eq!(sb.requests().iter().filter(|r| r.rejected).count(), 0);

    // Injected 503s are retried; injected gateway timeouts are retried for reads.
    sb.set_knobs(|k| {
        k.base_latency = Duration::ZERO;
        k.error_rate = 0.3;
    });
    for i in 0..20 {
        assert!(c.get::<Ticket>(100_001 + i).await.unwrap().is_some());
    }
    sb.set_knobs(|k| {
        k.error_rate = 0.0;
        k.timeout_next = 1;
        k.timeout_delay = Duration::from_millis(10);
    });
    assert!(c.get::<Ticket>(100_001).await.unwrap().is_some());
}

#[tokio::test]
async fn hourly_limit_budget_and_threshold_information() {
    let sb = sandbox(20, Knobs { hourly_limit: 40, ..Knobs::default() }).await;
    let mut cfg = config(&sb);
    cfg.budget_share = 0.25;
    cfg.threshold_refresh = Some(Duration::from_secs(3600));
    let c = Client::new(cfg).unwrap();
    let th = c.threshold_information().await.unwrap();
    assert_eq!((th.external_request_threshold, th.request_threshold_timeframe), (40, 60));
    // First call reads ThresholdInformation (limit 40 → own budget 10).
    let mut ok = 0;
    let err = loop {
        match c.get::<Ticket>(100_001).await {
            Ok(_) => ok += 1,
            Err(e) => break e,
        }
        assert!(ok < 100);
    };
    assert!(matches!(err, Error::BudgetExhausted { allowed: 10, tenant_limit: 40, .. }), "{err:?}");
    // When the sliding hour frees the oldest request: just under an hour from now.
    let Error::BudgetExhausted { retry_after, .. } = err else { unreachable!() };
    assert!(retry_after > Duration::from_secs(3500) && retry_after <= Duration::from_secs(3600), "{retry_after:?}");
    assert!(
        !Error::BudgetExhausted { used: 1, allowed: 1, tenant_limit: 4, retry_after }.is_retryable(),
        "not retried in the client"
    );
    assert_eq!(ok, 8, "10 = 1 threshold read + 1 more threshold read + 8 gets");
    // The sandbox itself answers 429 past its limit.
    let mut cfg = config(&sb);
    cfg.budget_share = 1.0;
    cfg.threshold_refresh = None;
    cfg.retry.max_attempts = 2;
    let c = Client::new(cfg).unwrap();
    let err = loop {
        if let Err(e) = c.get::<Ticket>(100_001).await {
            break e;
        }
    };
    assert!(matches!(err, Error::RateLimited { retry_after: Some(_), .. }), "{err:?}");
}

#[tokio::test]
async fn picklists_are_cached_with_a_ttl() {
    let sb = sandbox(20, Knobs::default()).await;
    let c = client(&sb);
    let q = c.picklist("Tickets", "queueID").await.unwrap();
    assert!(q.values.len() >= 20);
    assert_eq!(q.label_of(q.id_of("Triage").unwrap()), Some("Triage"));
    let sub = c.picklist("Tickets", "subIssueType").await.unwrap();
    assert!(sub.values.iter().all(|v| v.parent_value.is_some()));
    let ct = c.picklist("Contracts", "contractType").await.unwrap();
    assert_eq!(ct.label_of(7), Some("Recurring Service"));
    let n = sb.request_count();
    for _ in 0..10 {
        c.picklist("Tickets", "status").await.unwrap();
    }
    assert_eq!(sb.request_count(), n, "warm cache: no requests");
    let mut cfg = config(&sb);
    cfg.picklist_ttl = Duration::ZERO;
    let c = Client::new(cfg).unwrap();
    c.picklist("Tickets", "status").await.unwrap();
    let n = sb.request_count();
    c.picklist("Tickets", "status").await.unwrap();
    assert_eq!(sb.request_count(), n + 1, "expired entries are refetched");
}

#[tokio::test]
async fn every_entity_reads_with_its_own_field_names() {
    let sb = sandbox(200, Knobs::default()).await;
    let c = client(&sb);
    async fn one<E: Entity>(c: &Client) -> Vec<E> {
        let q = if E::PATH == "TicketHistory" {
            Query::new().filter(Filter::eq("ticketID", 100_010))
        } else {
            Query::all()
        };
        let q = q.include(E::FIELDS).max_records(5).unwrap();
        c.query_page(E::PATH, &q)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", E::PATH))
            .items
            .into_iter()
            .map(|v| serde_json::from_value(v).unwrap())
            .collect()
    }
    assert!(one::<Ticket>(&c).await.len() == 5);
    assert!(!one::<TicketNote>(&c).await.is_empty());
    assert!(!one::<TimeEntry>(&c).await.is_empty());
    assert!(!one::<Contract>(&c).await.is_empty());
    assert!(!one::<ContractBlock>(&c).await.is_empty());
    assert!(!one::<ContractBlockHourFactor>(&c).await.is_empty());
    assert!(!one::<ContractTicketPurchase>(&c).await.is_empty());
    assert!(!one::<ContractService>(&c).await.is_empty());
    assert!(!one::<Service>(&c).await.is_empty());
    assert!(!one::<Company>(&c).await.is_empty());
    assert!(!one::<Contact>(&c).await.is_empty());
    assert!(!one::<Resource>(&c).await.is_empty());
    assert!(!one::<Role>(&c).await.is_empty());
    assert!(!one::<ResourceRole>(&c).await.is_empty());
    assert!(!one::<BillingCode>(&c).await.is_empty());
    assert!(!one::<TicketHistory>(&c).await.is_empty());
    assert!(!one::<ServiceLevelAgreementResult>(&c).await.is_empty());
    assert!(!one::<Survey>(&c).await.is_empty());
    assert!(!one::<SurveyResult>(&c).await.is_empty());
    one::<TicketWebhook>(&c).await;
    one::<TicketWebhookField>(&c).await;
    one::<TicketWebhookExcludedResource>(&c).await;
    // Resource roles through the parent path.
    let v = c.request(Method::GET, "Resources/7/Roles", None, None).await.unwrap();
    assert!(!v["items"].as_array().unwrap().is_empty());
    // Unknown fields in responses are tolerated.
    let t: Ticket =
        serde_json::from_value(json!({"id": 1, "brandNewField": {"x": 1}, "userDefinedFields": null})).unwrap();
    assert_eq!(t.id, Some(1));
    let _ = Value::Null;
}
