//! Building the tenant: picklists on the entity definitions, the eager
//! tables (roles, resources, billing codes, services, surveys, companies,
//! contacts, contracts and their blocks, purchases and services) and the
//! lazily generated ticket tables with their parent indexes.

use super::catalog::*;
use super::*;
use crate::schema::{EntityDef, PicklistValue};
use crate::store::{Generator, ParentIndex, Table};
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Builds the tables, picklists and facts of the seeded tenant.
pub fn build(
    seed: u64,
    tickets: u64,
    anchor: DateTime<Utc>,
    api_user: &str,
    defs: &mut BTreeMap<String, EntityDef>,
) -> (BTreeMap<String, Table>, TenantFacts, Arc<Ctx>) {
    build_with(seed, tickets, anchor, api_user, defs, None)
}

/// [`build`], with exactly `time_entries_per_ticket` entries per ticket when set.
pub fn build_with(
    seed: u64,
    tickets: u64,
    anchor: DateTime<Utc>,
    api_user: &str,
    defs: &mut BTreeMap<String, EntityDef>,
    time_entries_per_ticket: Option<u32>,
) -> (BTreeMap<String, Table>, TenantFacts, Arc<Ctx>) {
    let te_slots = time_entries_per_ticket.map(|k| i64::from(k.clamp(1, 40))).unwrap_or(TE_SLOTS);
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut r = R::new(seed, 0, 0);
    set_picklists(defs);
    super::offices::set_picklists(defs);
    let (techs_by_queue, all_techs) = add_staff(&mut tables, api_user);
    super::offices::add_tables(&mut tables);
    add_catalog(&mut tables);
    let start = anchor - Duration::days(180);
    let Customers { companies, contracts_by_type, without, several } =
        add_customers(&mut tables, &mut r, start, anchor);

    // --- lazily generated tickets and children ---
    let n = tickets as i64;
    let ctx = Arc::new(Ctx {
        seed,
        n,
        start,
        span_secs: (anchor - start).num_seconds(),
        anchor,
        companies: companies.clone(),
        techs_by_queue,
        all_techs,
        cat_weight_total: CATEGORIES.iter().map(|c| c.weight).sum(),
        te_slots,
        te_fixed: time_entries_per_ticket.is_some(),
    });
    add_lazy_tables(&mut tables, &ctx, n, te_slots);

    let facts = TenantFacts {
        seed,
        ticket_count: tickets,
        first_ticket_id: TICKET_BASE + 1,
        last_ticket_id: TICKET_BASE + n,
        anchor,
        queues: QUEUES.iter().map(|(v, l)| (*v, l.to_string())).collect(),
        dumping_ground_queues: vec![Q_TRIAGE, Q_GENERAL, Q_MISC],
        unmonitored_queue: Q_LEGACY,
        company_ids: companies.iter().map(|c| c.id).collect(),
        contracts_by_type,
        companies_without_contract: without,
        companies_with_several_contracts: several,
        api_resource_id: API_RESOURCE_ID,
        agent_resource_id: AGENT_RESOURCE_ID,
        agent_role_id: AGENT_ROLE_ID,
    };
    let _ = &companies.first().map(|c| &c.name);
    (tables, facts, ctx)
}

/// Picklists of the entity definitions (queues, statuses, priorities, issue
/// types with their sub-issue types, contract types, …) and the webhook field ids.
fn set_picklists(defs: &mut BTreeMap<String, EntityDef>) {
    let pl = |v: &[(i64, &str)]| v.iter().map(|(a, b)| PicklistValue::new(a, *b)).collect::<Vec<_>>();
    let t = defs.get_mut("tickets").unwrap();
    t.set_picklist("queueID", pl(QUEUES));
    t.set_picklist(
        "status",
        pl(&[
            (1, "New"),
            (5, "Complete"),
            (7, "Waiting Customer"),
            (8, "In Progress"),
            (10, "Dispatched"),
            (11, "Escalate"),
            (12, "Waiting Vendor"),
            (13, "On Hold"),
            (19, "Customer Note Added"),
        ]),
    );
    t.set_picklist("priority", pl(&[(1, "High"), (2, "Medium"), (3, "Low"), (4, "Critical")]));
    t.set_picklist("issueType", CATEGORIES.iter().map(|c| PicklistValue::new(c.issue, c.issue_label)).collect());
    t.set_picklist(
        "subIssueType",
        CATEGORIES
            .iter()
            .flat_map(|c| c.subs.iter().map(move |(v, l, _)| PicklistValue::child(v, *l, c.issue)))
            .collect(),
    );
    if let Some(f) = t.field_mut("subIssueType") {
        f.picklist_parent = Some("issueType".into());
    }
    t.set_picklist("ticketCategory", pl(&[(2, "AEM Alert"), (3, "Standard"), (4, "RMA")]));
    t.set_picklist(
        "ticketType",
        pl(&[(1, "Service Request"), (2, "Incident"), (3, "Problem"), (4, "Change Request"), (5, "Alert")]),
    );
    t.set_picklist(
        "source",
        pl(&[
            (-1, "Insourced"),
            (2, "Phone"),
            (4, "Email"),
            (6, "Client Portal"),
            (8, "Monitoring Alert"),
            (11, "Web Portal"),
        ]),
    );
    t.set_picklist("serviceLevelAgreementID", pl(&[(1, "Standard SLA"), (2, "Premium SLA")]));
    t.udfs = vec![
        crate::schema::UdfDef {
            name: "Customer Impact".into(),
            label: "Customer Impact".into(),
            ty: crate::schema::Ty::String,
        },
        crate::schema::UdfDef {
            name: "atpilot Category".into(),
            label: "atpilot Category".into(),
            ty: crate::schema::Ty::String,
        },
    ];
    let n = defs.get_mut("ticketnotes").unwrap();
    n.set_picklist(
        "noteType",
        pl(&[(1, "Summary"), (2, "Detail"), (3, "Notes"), (13, "Workflow Rule Note - Task"), (99, "RMM Note")]),
    );
    n.set_picklist("publish", pl(&[(1, "All Autotask Users"), (2, "Internal Users")]));
    defs.get_mut("timeentries")
        .unwrap()
        .set_picklist("timeEntryType", pl(&[(2, "Ticket"), (6, "Task"), (11, "Regular")]));
    let c = defs.get_mut("contracts").unwrap();
    c.set_picklist(
        "contractType",
        pl(&[
            (CT_TIME_MATERIALS, "Time and Materials"),
            (CT_FIXED_PRICE, "Fixed Price"),
            (CT_BLOCK_HOURS, "Block Hours"),
            (CT_RETAINER, "Retainer"),
            (CT_RECURRING, "Recurring Service"),
            (CT_PER_TICKET, "Per Ticket"),
        ]),
    );
    c.set_picklist("contractCategory", pl(&[(1, "Standard"), (2, "Managed Services")]));
    c.set_picklist("contractPeriodType", pl(&[(1, "Monthly"), (2, "Quarterly"), (3, "Yearly")]));
    c.set_picklist("status", pl(&[(0, "Inactive"), (1, "Active")]));
    c.set_picklist("billingPreference", pl(&[(1, "Manual"), (2, "Immediate"), (3, "Timesheet")]));
    c.udfs = vec![crate::schema::UdfDef {
        name: "Billing Notes".into(),
        label: "Billing Notes".into(),
        ty: crate::schema::Ty::String,
    }];
    let co = defs.get_mut("companies").unwrap();
    co.set_picklist("companyType", pl(&[(1, "Customer"), (2, "Lead"), (3, "Prospect"), (5, "Vendor"), (7, "Partner")]));
    co.set_picklist("classification", pl(&[(1, "Gold"), (2, "Silver"), (3, "Bronze")]));
    co.udfs = vec![crate::schema::UdfDef {
        name: "Customer Ranking".into(),
        label: "Customer Ranking".into(),
        ty: crate::schema::Ty::String,
    }];
    defs.get_mut("contractblocks")
        .unwrap()
        .set_picklist("paymentType", pl(&[(1, "Cash"), (2, "Check"), (3, "Credit Card")]));
    defs.get_mut("contractticketpurchases")
        .unwrap()
        .set_picklist("paymentType", pl(&[(1, "Cash"), (2, "Check"), (3, "Credit Card")]));
    defs.get_mut("services")
        .unwrap()
        .set_picklist("periodType", pl(&[(1, "Monthly"), (2, "Quarterly"), (4, "Yearly")]));
    defs.get_mut("resourceroles").unwrap().set_picklist("queueID", pl(QUEUES));
    // Webhook field ids: the ticket's webhook-capable fields, numbered in order.
    let ticket_fields: Vec<PicklistValue> = defs["tickets"]
        .fields
        .iter()
        .filter(|f| f.name != "userDefinedFields")
        .enumerate()
        .map(|(i, f)| PicklistValue::new(i + 1, f.name.clone()))
        .collect();
    defs.get_mut("ticketwebhookfields").unwrap().set_picklist("fieldID", ticket_fields);
}

/// Roles and resources (admin, the API user, the agent, the dispatcher,
/// technicians by queue, an inactive one and one with no role) with their
/// queue roles; returns the technicians by queue and all of them.
fn add_staff(tables: &mut BTreeMap<String, Table>, api_user: &str) -> (BTreeMap<i64, Vec<Tech>>, Vec<Tech>) {
    let roles: &[(i64, &str, f64)] = &[
        (1, "Tier 1 Technician", 95.0),
        (2, "Tier 2 Technician", 125.0),
        (3, "Engineer", 150.0),
        (4, "Field Technician", 110.0),
        (5, "Project Manager", 140.0),
        (6, "Dispatcher", 80.0),
        (7, "Security Analyst", 175.0),
        (AGENT_ROLE_ID, "AI Service Agent", 95.0),
    ];
    let mut rt = Table::new(1);
    for (id, name, rate) in roles {
        rt.insert(*id, obj(json!({"name": name, "description": name, "hourlyRate": rate, "hourlyFactor": 1.0, "isActive": true, "isExcludedFromNewContracts": false, "isSystemRole": false, "roleType": 1})));
    }
    tables.insert("roles".into(), rt);

    let mut res = Table::new(1);
    let mut rr = Table::new(1);
    let mut techs_by_queue: BTreeMap<i64, Vec<Tech>> = BTreeMap::new();
    let mut all_techs = vec![];
    let add_res = |res: &mut Table,
                   rr: &mut Table,
                   id: i64,
                   first: &str,
                   last: &str,
                   email: &str,
                   rtype: &str,
                   license: i64,
                   role: i64,
                   queues: &[i64]| {
        res.insert(
            id,
            obj(json!({"firstName": first, "lastName": last, "email": email, "userName": email.split('@').next().unwrap_or(email),
                       "isActive": true, "resourceType": rtype, "userType": 1, "licenseType": license, "defaultServiceDeskRoleID": role,
                       "title": rtype, "locationID": 1, "internalCost": 40.0, "hireDate": "2019-03-01T00:00:00.000Z"})),
        );
        for q in queues {
            let rid = rr.next_id();
            rr.insert(
                rid,
                obj(json!({"resourceID": id, "roleID": role, "queueID": q, "departmentID": 1, "isActive": true})),
            );
        }
        if queues.is_empty() {
            let rid = rr.next_id();
            rr.insert(
                rid,
                obj(json!({"resourceID": id, "roleID": role, "queueID": null, "departmentID": 1, "isActive": true})),
            );
        }
    };
    add_res(&mut res, &mut rr, 1, "Admin", "Istrator", "admin@sandbox.local", "Administrator", 1, 2, &[]);
    add_res(&mut res, &mut rr, API_RESOURCE_ID, "API", "User", api_user, "API User", 7, 1, &[]);
    add_res(
        &mut res,
        &mut rr,
        AGENT_RESOURCE_ID,
        "atpilot",
        "Agent",
        "atpilot-agent@sandbox.local",
        "Employee",
        1,
        AGENT_ROLE_ID,
        &[Q_SERVICE_DESK, Q_M365, Q_PORTAL],
    );
    add_res(
        &mut res,
        &mut rr,
        DISPATCHER_RESOURCE_ID,
        "Dana",
        "Dispatch",
        "dana@sandbox.local",
        "Employee",
        1,
        6,
        &[Q_TRIAGE, Q_GENERAL, Q_PORTAL],
    );
    let tech_plan: &[(i64, &[i64])] = &[
        (1, &[Q_SERVICE_DESK, Q_PORTAL, Q_M365]),
        (1, &[Q_SERVICE_DESK, Q_PROVISIONING]),
        (1, &[Q_SERVICE_DESK, Q_MONITORING]),
        (2, &[Q_TIER2, Q_M365]),
        (2, &[Q_TIER2, Q_SERVICE_DESK]),
        (3, &[Q_NETWORK, Q_MONITORING]),
        (3, &[Q_NETWORK, Q_TIER2]),
        (4, &[Q_FIELD]),
        (4, &[Q_FIELD, Q_NETWORK]),
        (5, &[Q_PROJECTS]),
        (7, &[Q_SECURITY, Q_MONITORING]),
        (1, &[Q_MONITORING, Q_SERVICE_DESK]),
    ];
    for (i, (role, queues)) in tech_plan.iter().enumerate() {
        let id = 7 + i as i64;
        let first = FIRST_NAMES[i % FIRST_NAMES.len()];
        let last = LAST_NAMES[i % LAST_NAMES.len()];
        let email = format!("{}.{}@sandbox.local", first.to_lowercase(), i);
        add_res(&mut res, &mut rr, id, first, last, &email, "Employee", 1, *role, queues);
        for q in *queues {
            techs_by_queue.entry(*q).or_default().push(Tech { id, role: *role });
        }
        all_techs.push(Tech { id, role: *role });
    }
    for q in [Q_TRIAGE, Q_GENERAL, Q_MISC, Q_PORTAL] {
        techs_by_queue.entry(q).or_default().push(Tech { id: DISPATCHER_RESOURCE_ID, role: 6 });
    }
    // An inactive resource and one with no role at all (for assignment validation).
    res.insert(40, obj(json!({"firstName": "Former", "lastName": "Employee", "email": "gone@sandbox.local", "userName": "gone", "isActive": false, "resourceType": "Employee", "userType": 1, "licenseType": 1, "defaultServiceDeskRoleID": 1})));
    res.insert(41, obj(json!({"firstName": "No", "lastName": "Role", "email": "norole@sandbox.local", "userName": "norole", "isActive": true, "resourceType": "Employee", "userType": 1, "licenseType": 1, "defaultServiceDeskRoleID": null})));
    tables.insert("resources".into(), res);
    tables.insert("resourceroles".into(), rr);
    (techs_by_queue, all_techs)
}

/// Billing codes, services and the satisfaction survey.
fn add_catalog(tables: &mut BTreeMap<String, Table>) {
    let mut bc = Table::new(1);
    for (id, name, ty) in [
        (1, "Remote Support", 0),
        (2, "Onsite Support", 0),
        (3, "After Hours Support", 0),
        (4, "Project Labor", 0),
        (5, "Internal Admin", 1),
        (6, "Non-Billable", 1),
    ] {
        bc.insert(id, obj(json!({"name": name, "description": name, "billingCodeType": 0, "useType": ty + 1, "afterHoursWorkType": 0, "isActive": true, "isExcludedFromNewContracts": false, "markupRate": 0.0, "unitCost": 0.0, "unitPrice": 125.0})));
    }
    tables.insert("billingcodes".into(), bc);
    let mut sv = Table::new(1);
    for (id, name, price) in [
        (1, "Managed Workstation", 45.0),
        (2, "Managed Server", 150.0),
        (3, "Microsoft 365 Seat", 22.0),
        (4, "Backup & DR", 99.0),
        (5, "Security Bundle", 15.0),
    ] {
        sv.insert(id, obj(json!({"name": name, "description": name, "invoiceDescription": name, "isActive": true, "markupRate": 0.0, "periodType": 1, "unitCost": price / 2.0, "unitPrice": price, "billingCodeID": 1})));
    }
    tables.insert("services".into(), sv);
    let mut su = Table::new(1);
    su.insert(1, obj(json!({"name": "Ticket Satisfaction", "displayName": "How did we do?", "description": "Sent when a ticket is completed"})));
    tables.insert("surveys".into(), su);
}

/// The customer tables as they are built.
struct CustomerTables {
    companies: Table,
    contacts: Table,
    contracts: Table,
    blocks: Table,
    factors: Table,
    purchases: Table,
    services: Table,
}

/// The companies, and the facts their contracts plant.
struct Customers {
    companies: Vec<CompanyInfo>,
    contracts_by_type: BTreeMap<i64, Vec<i64>>,
    without: Vec<i64>,
    several: Vec<i64>,
}

/// Companies (the MSP's own first), four contacts each, and contracts of
/// every type (with blocks, hour factors, ticket purchases and services); some
/// companies have no contract, some several. Also the empty webhook tables.
fn add_customers(
    tables: &mut BTreeMap<String, Table>,
    r: &mut R,
    start: DateTime<Utc>,
    anchor: DateTime<Utc>,
) -> Customers {
    let mut t = CustomerTables {
        companies: Table::new(1),
        contacts: Table::new(1),
        contracts: Table::new(1),
        blocks: Table::new(1),
        factors: Table::new(1),
        purchases: Table::new(1),
        services: Table::new(1),
    };
    let mut cu = Customers { companies: vec![], contracts_by_type: BTreeMap::new(), without: vec![], several: vec![] };
    let n_companies = 36;
    for ci in 0..=n_companies {
        let mut info = add_company(&mut t, ci, r, start);
        if ci > 0 {
            add_contracts(&mut t, &mut cu, &mut info, ci, r, start, anchor);
        }
        cu.companies.push(info);
    }
    tables.insert("companies".into(), t.companies);
    tables.insert("contacts".into(), t.contacts);
    tables.insert("contracts".into(), t.contracts);
    tables.insert("contractblocks".into(), t.blocks);
    tables.insert("contractblockhourfactors".into(), t.factors);
    tables.insert("contractticketpurchases".into(), t.purchases);
    tables.insert("contractservices".into(), t.services);
    tables.insert("ticketwebhooks".into(), Table::new(1));
    tables.insert("ticketwebhookfields".into(), Table::new(1));
    tables.insert("ticketwebhookexcludedresources".into(), Table::new(1));
    cu
}

/// Company `ci` and its four contacts.
fn add_company(t: &mut CustomerTables, ci: usize, r: &mut R, start: DateTime<Utc>) -> CompanyInfo {
    let (ct, contacts) = (&mut t.companies, &mut t.contacts);
    let id = ci as i64;
    let name = if ci == 0 {
        "Sandbox MSP (own company)".to_string()
    } else {
        format!(
            "{} {}",
            COMPANY_WORDS[(ci - 1) % COMPANY_WORDS.len()],
            COMPANY_SUFFIX[r.below(COMPANY_SUFFIX.len() as u64) as usize]
        )
    };
    ct.insert(
        id,
        obj(json!({"companyName": name, "companyNumber": format!("C{:04}", ci), "companyType": if ci == 0 { 7 } else { 1 },
                   "classification": 1 + (ci % 3), "isActive": true, "ownerResourceID": 1, "phone": format!("+1 555 01{:02}", ci),
                   "address1": format!("{} Main Street", 10 + ci), "city": "Springfield", "state": "IL", "postalCode": "62701",
                   "countryID": 237, "createDate": ts(start - Duration::days(400)), "webAddress": format!("https://c{ci}.example"),
                   "userDefinedFields": [{"name": "Customer Ranking", "value": if ci % 5 == 0 { "Golden" } else { "Standard" }}]})),
    );
    let mut info = CompanyInfo { id, name: name.clone(), contacts: vec![], contact_names: vec![], contracts: vec![] };
    for k in 0..4 {
        let cid = 1000 + id * 10 + k;
        let first = FIRST_NAMES[r.below(FIRST_NAMES.len() as u64) as usize];
        let last = LAST_NAMES[r.below(LAST_NAMES.len() as u64) as usize];
        contacts.insert(
            cid,
            obj(json!({"companyID": id, "firstName": first, "lastName": last,
                       "emailAddress": format!("{}.{}@c{}.example", first.to_lowercase(), last.to_lowercase().replace('\'', ""), ci),
                       "isActive": 1, "primaryContact": k == 0, "phone": "+1 555 0100", "title": "Staff"})),
        );
        info.contacts.push(cid);
        info.contact_names.push(format!("{first} {last}"));
    }
    info
}

/// The contracts of company `ci` (none for every ninth, two for every seventh).
fn add_contracts(
    t: &mut CustomerTables,
    cu: &mut Customers,
    info: &mut CompanyInfo,
    ci: usize,
    r: &mut R,
    start: DateTime<Utc>,
    anchor: DateTime<Utc>,
) {
    let (id, name) = (info.id, info.name.clone());
    let types = [
        CT_RECURRING,
        CT_TIME_MATERIALS,
        CT_BLOCK_HOURS,
        CT_PER_TICKET,
        CT_RECURRING,
        CT_RETAINER,
        CT_FIXED_PRICE,
        CT_BLOCK_HOURS,
    ];
    let none = ci % 9 == 0;
    let count = if none {
        0
    } else if ci % 7 == 0 {
        2
    } else {
        1
    };
    if none {
        cu.without.push(id);
    }
    if count > 1 {
        cu.several.push(id);
    }
    for k in 0..count {
        let ty = types[(ci + k * 3) % types.len()];
        let cid = t.contracts.next_id();
        let label = match ty {
            CT_TIME_MATERIALS => "Time & Materials",
            CT_FIXED_PRICE => "Fixed Price",
            CT_BLOCK_HOURS => "Block Hours",
            CT_RETAINER => "Retainer",
            CT_RECURRING => "Managed Services",
            _ => "Per Ticket Support",
        };
        t.contracts.insert(
            cid,
            obj(json!({"contractName": format!("{name} - {label}"), "contractNumber": format!("K{cid:05}"), "contractType": ty,
                       "contractCategory": if ty == CT_RECURRING { 2 } else { 1 }, "contractPeriodType": 1, "status": 1,
                       "companyID": id, "isDefaultContract": k == 0, "startDate": ts(start - Duration::days(200)),
                       "endDate": ts(anchor + Duration::days(185)), "serviceLevelAgreementID": 1, "setupFee": 0.0,
                       "overageBillingRate": 150.0, "estimatedHours": 0.0, "timeReportingRequiresStartAndStopTimes": 0,
                       "billingPreference": 3, "isCompliant": true, "description": label, "lastModifiedDateTime": ts(start),
                       "userDefinedFields": [{"name": "Billing Notes", "value": null}]})),
        );
        cu.contracts_by_type.entry(ty).or_default().push(cid);
        info.contracts.push((cid, ty));
        add_contract_extras(t, cid, ty, ci, r, start, anchor);
    }
}

/// What a contract of type `ty` carries: blocks and hour factors, a ticket
/// purchase, or recurring services.
fn add_contract_extras(
    t: &mut CustomerTables,
    cid: i64,
    ty: i64,
    ci: usize,
    r: &mut R,
    start: DateTime<Utc>,
    anchor: DateTime<Utc>,
) {
    let (blocks, factors, purchases, csvc) = (&mut t.blocks, &mut t.factors, &mut t.purchases, &mut t.services);
    match ty {
        CT_BLOCK_HOURS => {
            // An older used-up block and a current one; every third company runs low.
            let low = ci % 3 == 0;
            for (b, (hours, used)) in [(20.0, 20.0), (40.0, if low { 38.5 } else { 12.0 })].into_iter().enumerate() {
                let bid = blocks.next_id();
                let s = start - Duration::days(90) + Duration::days(135 * b as i64);
                blocks.insert(
                    bid,
                    obj(json!({"contractID": cid, "datePurchased": ts(s), "startDate": ts(s), "endDate": ts(s + Duration::days(365)),
                               "hours": hours, "hoursApproved": used, "hourlyRate": 120.0, "isPaid": true, "status": 1})),
                );
            }
            for (role, mult) in [(1, 1.0), (3, 1.5), (7, 2.0), (AGENT_ROLE_ID, 0.5)] {
                let fid = factors.next_id();
                factors.insert(fid, obj(json!({"contractID": cid, "roleID": role, "blockHourMultiplier": mult})));
            }
        }
        CT_PER_TICKET => {
            let pid = purchases.next_id();
            purchases.insert(
                pid,
                obj(json!({"contractID": cid, "datePurchased": ts(start), "startDate": ts(start), "endDate": ts(anchor + Duration::days(180)),
                           "ticketsPurchased": 25.0, "ticketsUsed": (r.below(25)) as f64, "perTicketRate": 85.0, "isPaid": true, "status": 1})),
            );
        }
        CT_RECURRING => {
            for s in 1..=3i64 {
                let sid = csvc.next_id();
                csvc.insert(sid, obj(json!({"contractID": cid, "serviceID": s, "unitPrice": 40.0 * s as f64, "unitCost": 20.0, "adjustedPrice": 40.0 * s as f64, "invoiceDescription": "Managed service"})));
            }
        }
        _ => {}
    }
}

/// The lazily generated ticket tables, each child indexed by its ticket.
fn add_lazy_tables(tables: &mut BTreeMap<String, Table>, ctx: &Arc<Ctx>, n: i64, te_slots: i64) {
    let c1 = ctx.clone();
    let gen_t: Generator = Arc::new(move |id| c1.ticket_idx(id).map(|i| c1.ticket_row(i)));
    tables
        .insert("tickets".into(), Table::new(TICKET_BASE + 1).with_generator(TICKET_BASE + 1, TICKET_BASE + n, gen_t));

    let child = |base: i64, slots: i64, g: Generator, c: Arc<Ctx>| {
        let idxr: ParentIndex =
            Arc::new(move |tid| c.ticket_idx(tid).map(|i| (base + i * slots, base + i * slots + slots - 1)));
        let mut t = Table::new(base).with_generator(base, base + n * slots - 1, g);
        t.parent_field = Some("ticketID".into());
        t.parent_index = Some(idxr);
        t
    };
    let c = ctx.clone();
    tables.insert("ticketnotes".into(), child(NOTE_BASE, NOTE_SLOTS, Arc::new(move |id| c.note_row(id)), ctx.clone()));
    let c = ctx.clone();
    tables
        .insert("timeentries".into(), child(TE_BASE, te_slots, Arc::new(move |id| c.time_entry_row(id)), ctx.clone()));
    let c = ctx.clone();
    tables.insert(
        "tickethistory".into(),
        child(HIST_BASE, HIST_SLOTS, Arc::new(move |id| c.history_row(id)), ctx.clone()),
    );
    let c = ctx.clone();
    tables.insert(
        "servicelevelagreementresults".into(),
        child(SLA_BASE, 1, Arc::new(move |id| c.sla_row(id)), ctx.clone()),
    );
    let c = ctx.clone();
    tables.insert(
        "surveyresults".into(),
        child(SURVEY_RESULT_BASE, 1, Arc::new(move |id| c.survey_result_row(id)), ctx.clone()),
    );
}
