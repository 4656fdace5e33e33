//! The seeded tenant: a realistic MSP, deterministic for a given seed, sized
//! by the ticket count. Tickets and their children (notes, time entries,
//! history, SLA and survey results) are generated lazily from (seed, id), so a
//! 250,000-ticket tenant costs no more memory than a small one.

use crate::schema::{EntityDef, PicklistValue};
use crate::store::{Generator, ParentIndex, Row, Table};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const TICKET_BASE: i64 = 100_000;
pub const NOTE_BASE: i64 = 10_000_000;
pub const NOTE_SLOTS: i64 = 3;
pub const TE_BASE: i64 = 20_000_000;
pub const TE_SLOTS: i64 = 2;
/// Seeded labour is approved and posted this many days after it was worked.
pub const POSTING_LAG_DAYS: i64 = 7;
pub const HIST_BASE: i64 = 30_000_000;
pub const HIST_SLOTS: i64 = 4;
pub const SLA_BASE: i64 = 40_000_000;
pub const SURVEY_RESULT_BASE: i64 = 50_000_000;

/// The API user's own resource (what `PersonID` reports for API writes).
pub const API_RESOURCE_ID: i64 = 4;
/// A licensed resource for the agent's time entries.
pub const AGENT_RESOURCE_ID: i64 = 5;
pub const AGENT_ROLE_ID: i64 = 8;
pub const DISPATCHER_RESOURCE_ID: i64 = 6;

/// Contract type picklist values ([U] beyond 7; served from entityInformation/fields).
pub const CT_TIME_MATERIALS: i64 = 1;
pub const CT_FIXED_PRICE: i64 = 3;
pub const CT_BLOCK_HOURS: i64 = 4;
pub const CT_RETAINER: i64 = 6;
pub const CT_RECURRING: i64 = 7;
pub const CT_PER_TICKET: i64 = 8;

pub const STATUS_NEW: i64 = 1;
pub const STATUS_COMPLETE: i64 = 5;

/// Facts planted in the seed for later features and tests.
#[derive(Debug, Clone)]
pub struct TenantFacts {
    pub seed: u64,
    pub ticket_count: u64,
    pub first_ticket_id: i64,
    pub last_ticket_id: i64,
    pub anchor: DateTime<Utc>,
    /// Queue picklist (value, label).
    pub queues: Vec<(i64, String)>,
    /// Queues where tickets pile up without routing.
    pub dumping_ground_queues: Vec<i64>,
    /// A queue nobody watches: tickets there never get a note or a time entry.
    pub unmonitored_queue: i64,
    pub company_ids: Vec<i64>,
    /// Contract ids by contract type picklist value.
    pub contracts_by_type: BTreeMap<i64, Vec<i64>>,
    /// Companies with no contract, and with several active contracts.
    pub companies_without_contract: Vec<i64>,
    pub companies_with_several_contracts: Vec<i64>,
    pub api_resource_id: i64,
    pub agent_resource_id: i64,
    pub agent_role_id: i64,
}

#[derive(Clone, Copy)]
pub struct R(u64);
impl R {
    pub fn new(seed: u64, stream: u64, idx: u64) -> Self {
        let mut r = R(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ idx.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next();
        r
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

pub fn ts(d: DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Millis, true)
}

struct Category {
    issue: i64,
    issue_label: &'static str,
    subs: &'static [(i64, &'static str, &'static [&'static str])],
    queue: i64,
    weight: u64,
}

// Queue ids, loosely in Autotask's style.
const Q_PORTAL: i64 = 29682833;
const Q_SERVICE_DESK: i64 = 29683481;
const Q_MONITORING: i64 = 29683354;
const Q_TIER2: i64 = 29683482;
const Q_FIELD: i64 = 29683483;
const Q_NETWORK: i64 = 29683484;
const Q_SECURITY: i64 = 29683485;
const Q_PROJECTS: i64 = 29683486;
const Q_PROVISIONING: i64 = 29683487;
const Q_M365: i64 = 29683488;
const Q_TRIAGE: i64 = 29683490;
const Q_GENERAL: i64 = 29683491;
const Q_MISC: i64 = 29683492;
const Q_LEGACY: i64 = 29683499;

const QUEUES: &[(i64, &str)] = &[
    (Q_PORTAL, "Client Portal"),
    (29682969, "Post Sale"),
    (Q_MONITORING, "Monitoring Alerts"),
    (Q_SERVICE_DESK, "Service Desk"),
    (Q_TIER2, "Tier 2 Support"),
    (Q_FIELD, "Field Services"),
    (Q_NETWORK, "Network Operations"),
    (Q_SECURITY, "Security Operations"),
    (Q_PROJECTS, "Projects"),
    (Q_PROVISIONING, "Provisioning"),
    (Q_M365, "Microsoft 365"),
    (29683489, "Procurement"),
    (Q_TRIAGE, "Triage"),
    (Q_GENERAL, "General"),
    (Q_MISC, "Misc / Unsorted"),
    (29683493, "Billing Questions"),
    (29683494, "Onboarding"),
    (29683495, "Offboarding"),
    (29683496, "Backup & DR"),
    (29683497, "Line of Business Apps"),
    (29683498, "After Hours"),
    (Q_LEGACY, "Legacy Escalations"),
    (29683500, "Printers"),
    (29683501, "Tier 3 Escalations"),
];

const CATEGORIES: &[Category] = &[
    Category {
        issue: 1,
        issue_label: "Account Management",
        subs: &[
            (101, "Password Reset", &["Password reset for {user}", "{user} locked out, needs a new password", "Cannot log in: forgot password"]),
            (102, "MFA Enrollment", &["Enroll {user} in MFA", "New phone, MFA needs re-registering for {user}", "Authenticator app not prompting"]),
            (103, "New User", &["New starter {user} next Monday", "Create account for {user}"]),
            (104, "Offboarding", &["Leaver: disable account for {user}", "Remove access for {user}"]),
        ],
        queue: Q_SERVICE_DESK,
        weight: 26,
    },
    Category {
        issue: 2,
        issue_label: "Licensing",
        subs: &[
            (201, "Microsoft 365 License Request", &["Need a Microsoft 365 licence for {user}", "Assign E3 licence to {user}", "Visio licence request"]),
            (202, "License Removal", &["Remove licence from {user}", "Reclaim unused Microsoft 365 licences"]),
        ],
        queue: Q_M365,
        weight: 12,
    },
    Category {
        issue: 3,
        issue_label: "Email",
        subs: &[
            (301, "Mailbox Full", &["Mailbox full for {user}", "Cannot send: mailbox over quota"]),
            (302, "Shared Mailbox Access", &["Give {user} access to the accounts@ shared mailbox", "Shared calendar permissions"]),
            (303, "Phishing Report", &["Suspicious email received by {user}", "Possible phishing: \"Invoice overdue\" & attachment"]),
        ],
        queue: Q_SERVICE_DESK,
        weight: 14,
    },
    Category {
        issue: 4,
        issue_label: "Hardware",
        subs: &[
            (401, "Laptop Failure", &["Laptop won't power on ({user})", "Cracked screen on {user}'s laptop", "Keyboard not working"]),
            (402, "Printer", &["Printer offline on 2nd floor", "Paper jam <again> in reception printer", "Scanner not emailing"]),
            (403, "Peripheral", &["Docking station not detecting monitors", "Headset request for {user}"]),
        ],
        queue: Q_FIELD,
        weight: 10,
    },
    Category {
        issue: 5,
        issue_label: "Network",
        subs: &[
            (501, "Internet Outage", &["Whole office has no internet", "Internet down at branch site"]),
            (502, "VPN", &["VPN not connecting for {user}", "VPN drops every 10 minutes"]),
            (503, "Wi-Fi", &["Guest Wi-Fi password change", "Wi-Fi slow in meeting room"]),
        ],
        queue: Q_NETWORK,
        weight: 8,
    },
    Category {
        issue: 6,
        issue_label: "Monitoring Alert",
        subs: &[
            (601, "Disk Space", &["Disk space low on FS01 (C: 4% free)", "Volume D: below 10% on SQL02"]),
            (602, "Backup Failure", &["Backup job failed: nightly-full", "Backup warning: 3 files skipped"]),
            (603, "Server Offline", &["Agent offline: DC01", "Server not responding to ping: APP03"]),
            (604, "Antivirus Alert", &["Threat quarantined on {user}-PC", "AV definitions out of date"]),
        ],
        queue: Q_MONITORING,
        weight: 18,
    },
    Category {
        issue: 7,
        issue_label: "Software",
        subs: &[
            (701, "Install Request", &["Install Adobe Acrobat for {user}", "Need Zoom installed"]),
            (702, "Application Error", &["Line-of-business app crashes on start", "Excel keeps freezing for {user}"]),
        ],
        queue: Q_TIER2,
        weight: 8,
    },
    Category {
        issue: 8,
        issue_label: "Project Work",
        subs: &[(801, "Migration", &["Phase 2: migrate file shares to SharePoint", "Server migration cut-over"]), (802, "Site Move", &["Office move: patch panel and desks"])],
        queue: Q_PROJECTS,
        weight: 3,
    },
    Category {
        issue: 9,
        issue_label: "Security",
        subs: &[(901, "Suspicious Sign-in", &["Impossible travel sign-in for {user}", "Risky sign-in detected"]), (902, "Malware", &["Ransomware note on a workstation", "Pop-ups on {user}'s PC"])],
        queue: Q_SECURITY,
        weight: 3,
    },
];

const FIRST_NAMES: &[&str] = &["Alex", "Sam", "Jordan", "Priya", "Chen", "Maria", "José", "Fatima", "Liam", "Olivia", "Noah", "Emma", "Zoë", "Hiro", "Aisha", "Lukas"];
const LAST_NAMES: &[&str] = &["Smith", "Patel", "Nguyen", "García", "Müller", "O'Brien", "Kowalski", "Johnson", "Tanaka", "Okafor", "Rossi", "Dubois"];
const COMPANY_WORDS: &[&str] = &[
    "Acme", "Northwind", "Contoso", "Fabrikam", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne", "Hooli", "Vandelay",
    "Soylent", "Gringotts", "Oceanic", "Dunder", "Monarch", "Pied Piper", "Massive", "Aperture", "Black Mesa", "Sterling", "Bluth", "Prestige",
    "Virtucon", "Nakatomi", "Gekko", "Krusty", "Duff", "Oscorp", "Zorg", "Buy n Large", "Rekall", "Weyland",
];
const COMPANY_SUFFIX: &[&str] = &["Legal LLP", "Dental", "Accounting", "Logistics", "Manufacturing", "Architects", "Clinic", "& Sons", "Foundation", "Realty"];

#[derive(Debug, Clone)]
struct CompanyInfo {
    id: i64,
    name: String,
    contacts: Vec<i64>,
    contact_names: Vec<String>,
    contracts: Vec<(i64, i64)>,
}

#[derive(Debug, Clone)]
struct Tech {
    id: i64,
    role: i64,
}

/// What the lazy generators need: everything small, computed once.
pub struct Ctx {
    seed: u64,
    n: i64,
    start: DateTime<Utc>,
    span_secs: i64,
    anchor: DateTime<Utc>,
    companies: Vec<CompanyInfo>,
    techs_by_queue: BTreeMap<i64, Vec<Tech>>,
    all_techs: Vec<Tech>,
    cat_weight_total: u64,
    /// Id slots per ticket in the time-entry table, and whether every slot is used.
    te_slots: i64,
    te_fixed: bool,
}

/// The derived facts of one generated ticket.
#[derive(Debug, Clone)]
pub struct TicketFacts {
    pub id: i64,
    pub idx: i64,
    pub create: DateTime<Utc>,
    pub company: i64,
    pub contact: Option<i64>,
    pub contract: Option<i64>,
    pub issue: i64,
    pub sub: i64,
    pub title: String,
    pub queue: i64,
    pub initial_queue: i64,
    pub rerouted_at: Option<DateTime<Utc>>,
    pub status: i64,
    pub priority: i64,
    pub assigned: Option<Tech2>,
    pub completed: Option<DateTime<Utc>>,
    pub unmonitored: bool,
    pub project: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
pub struct Tech2 {
    pub resource: i64,
    pub role: i64,
}

impl Ctx {
    pub fn ticket_idx(&self, ticket_id: i64) -> Option<i64> {
        let idx = ticket_id - TICKET_BASE - 1;
        (0..self.n).contains(&idx).then_some(idx)
    }

    pub fn facts(&self, idx: i64) -> TicketFacts {
        let mut r = R::new(self.seed, 1, idx as u64);
        let slot = self.span_secs / self.n.max(1);
        let create = self.start + Duration::seconds(idx * slot + r.below(slot.max(1) as u64) as i64);
        let mut w = r.below(self.cat_weight_total);
        let cat = CATEGORIES
            .iter()
            .find(|c| {
                if w < c.weight {
                    true
                } else {
                    w -= c.weight;
                    false
                }
            })
            .unwrap_or(&CATEGORIES[0]);
        let (sub, _, titles) = *r.pick(cat.subs);
        let company = r.pick(&self.companies[1..]).clone();
        let contact_i = r.below(company.contacts.len() as u64) as usize;
        let user = company.contact_names[contact_i].clone();
        let title = r.pick(titles).replace("{user}", &user);
        let project = (cat.issue == 8).then(|| 500 + r.below(20) as i64);
        let contract = if project.is_some() {
            None
        } else if company.contracts.is_empty() {
            None
        } else {
            Some(company.contracts[r.below(company.contracts.len() as u64) as usize].0)
        };
        let unmonitored = r.chance(0.02);
        let dumped = !unmonitored && r.chance(0.12);
        let rerouted = !unmonitored && !dumped && r.chance(0.08);
        let dump_q = *r.pick(&[Q_TRIAGE, Q_GENERAL, Q_MISC]);
        let (queue, initial_queue, rerouted_at) = if unmonitored {
            (Q_LEGACY, Q_LEGACY, None)
        } else if dumped {
            (dump_q, dump_q, None)
        } else if rerouted {
            (cat.queue, dump_q, Some(create + Duration::minutes(5 + r.below(50) as i64)))
        } else if cat.queue == Q_SERVICE_DESK && r.chance(0.2) {
            (Q_PORTAL, Q_PORTAL, None)
        } else {
            (cat.queue, cat.queue, None)
        };
        let age = self.anchor - create;
        let (status, completed) = if unmonitored {
            (STATUS_NEW, None)
        } else if age > Duration::days(3) && r.chance(0.9) {
            (STATUS_COMPLETE, Some(create + Duration::minutes(20 + r.below(60 * 24 * 3) as i64)))
        } else {
            (*r.pick(&[1, 8, 8, 7, 13, 12, 10, 11]), None)
        };
        let assigned = if unmonitored || (status == STATUS_NEW && r.chance(0.5)) {
            None
        } else {
            let pool = self.techs_by_queue.get(&queue).filter(|v| !v.is_empty()).unwrap_or(&self.all_techs);
            let t = r.pick(pool);
            Some(Tech2 { resource: t.id, role: t.role })
        };
        let priority = *r.pick(&[3, 3, 2, 2, 2, 1, 4]);
        TicketFacts {
            id: TICKET_BASE + 1 + idx,
            idx,
            create,
            company: company.id,
            contact: Some(company.contacts[contact_i]),
            contract,
            issue: cat.issue,
            sub,
            title,
            queue,
            initial_queue,
            rerouted_at,
            status,
            priority,
            assigned,
            completed,
            unmonitored,
            project,
        }
    }

    fn ticket_row(&self, idx: i64) -> Row {
        let f = self.facts(idx);
        let mut r = R::new(self.seed, 2, idx as u64);
        let last_activity = f.completed.unwrap_or(if f.unmonitored { f.create } else { f.create + Duration::hours(2) }).min(self.anchor);
        let desc = format!(
            "{}\n\nReported via {}. Contact: {}. Please advise — thanks!",
            f.title,
            r.pick(&["email", "phone", "the client portal"]),
            f.contact.map(|c| c.to_string()).unwrap_or_default()
        );
        let v = json!({
            "ticketNumber": format!("T{}.{:04}", f.create.format("%Y%m%d"), f.idx % 10_000),
            "title": f.title,
            "description": desc,
            "status": f.status,
            "priority": f.priority,
            "queueID": f.queue,
            "issueType": f.issue,
            "subIssueType": f.sub,
            "ticketCategory": 3,
            "ticketType": if f.issue == 6 { 5 } else if f.issue == 5 || f.issue == 9 { 2 } else { 1 },
            "source": if f.issue == 6 { 8 } else { *r.pick(&[2, 4, 4, 6]) },
            "companyID": f.company,
            "companyLocationID": null,
            "contactID": f.contact,
            "contractID": f.contract,
            "serviceLevelAgreementID": 1,
            "serviceLevelAgreementHasBeenMet": f.completed.is_some() && r.chance(0.85),
            "assignedResourceID": f.assigned.map(|a| a.resource),
            "assignedResourceRoleID": f.assigned.map(|a| a.role),
            "billingCodeID": if f.project.is_some() { 4 } else { 1 },
            "projectID": f.project,
            "createDate": ts(f.create),
            "creatorResourceID": if f.issue == 6 { Value::from(API_RESOURCE_ID) } else { Value::Null },
            "creatorType": if f.issue == 6 { 1 } else { 2 },
            "lastActivityDate": ts(last_activity),
            "lastActivityResourceID": f.assigned.map(|a| a.resource),
            "lastActivityPersonType": 1,
            "lastTrackedModificationDateTime": ts(last_activity),
            "dueDateTime": ts(f.create + Duration::days(2)),
            "firstResponseDateTime": if f.unmonitored { Value::Null } else { Value::from(ts(f.create + Duration::minutes(30))) },
            "resolvedDateTime": f.completed.map(ts),
            "completedDate": f.completed.map(ts),
            "completedByResourceID": f.completed.and(f.assigned.map(|a| a.resource)),
            "resolution": if f.completed.is_some() { "Resolved; confirmed with the customer." } else { "" },
            "estimatedHours": 0.0,
            "externalID": null,
            "userDefinedFields": [
                {"name": "Customer Impact", "value": *r.pick(&["Single user", "Single user", "Department", "Whole company"])},
                {"name": "atpilot Category", "value": null},
            ],
        });
        v.as_object().cloned().unwrap()
    }

    fn note_row(&self, id: i64) -> Option<Row> {
        let k = id - NOTE_BASE;
        let (idx, j) = (k / NOTE_SLOTS, k % NOTE_SLOTS);
        if idx >= self.n {
            return None;
        }
        let f = self.facts(idx);
        let mut r = R::new(self.seed, 3, idx as u64);
        let count = if f.unmonitored { 0 } else { 1 + r.below(NOTE_SLOTS as u64) as i64 };
        if j >= count {
            return None;
        }
        let at = f.create + Duration::minutes(15 + j * 90 + r.below(30) as i64);
        let internal = r.chance(0.5);
        let v = json!({
            "ticketID": f.id,
            "title": if internal { "Internal update" } else { "Update" },
            "description": if internal { format!("Checked {}: working on it.", f.title) } else { "We are looking into this and will update you shortly.".to_string() },
            "noteType": if internal { 3 } else { 1 },
            "publish": if internal { 2 } else { 1 },
            "createDateTime": ts(at),
            "lastActivityDate": ts(at),
            "creatorResourceID": f.assigned.map(|a| a.resource).unwrap_or(DISPATCHER_RESOURCE_ID),
            "createdByContactID": null,
        });
        v.as_object().cloned()
    }

    fn time_entry_row(&self, id: i64) -> Option<Row> {
        let k = id - TE_BASE;
        let (idx, j) = (k / self.te_slots, k % self.te_slots);
        if idx >= self.n {
            return None;
        }
        let f = self.facts(idx);
        let a = if self.te_fixed { f.assigned.unwrap_or(Tech2 { resource: DISPATCHER_RESOURCE_ID, role: 6 }) } else { f.assigned? };
        let mut r = R::new(self.seed, 4, idx as u64);
        let count = if self.te_fixed {
            self.te_slots
        } else if f.completed.is_some() {
            1 + r.below(2) as i64
        } else {
            r.below(2) as i64
        };
        if j >= count {
            return None;
        }
        let start = f.create + Duration::minutes(30 + j * if self.te_fixed { 45 } else { 120 });
        let hours = [0.25, 0.5, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0][r.below(8) as usize];
        let end = start + Duration::minutes((hours * 60.0) as i64);
        let v = json!({
            "ticketID": f.id,
            "resourceID": a.resource,
            "roleID": a.role,
            "billingCodeID": if f.project.is_some() { 4 } else { 1 },
            "contractID": f.contract,
            "dateWorked": ts(start.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc()),
            "startDateTime": ts(start),
            "endDateTime": ts(end),
            "hoursWorked": hours,
            "hoursToBill": hours,
            "offsetHours": 0.0,
            "summaryNotes": format!("Worked on: {}", f.title),
            "internalNotes": "",
            "isNonBillable": false,
            "showOnInvoice": true,
            "timeEntryType": 2,
            "createDateTime": ts(end),
            "creatorUserID": a.resource,
            "lastModifiedDateTime": ts(end),
            // Labour is approved and posted weekly: the last week's is not yet.
            "billingApprovalDateTime": (end + Duration::days(POSTING_LAG_DAYS) <= self.anchor).then(|| ts(end + Duration::days(POSTING_LAG_DAYS))),
        });
        v.as_object().cloned()
    }

    fn history_row(&self, id: i64) -> Option<Row> {
        let k = id - HIST_BASE;
        let (idx, j) = (k / HIST_SLOTS, k % HIST_SLOTS);
        if idx >= self.n {
            return None;
        }
        let f = self.facts(idx);
        let qlabel = |q: i64| QUEUES.iter().find(|(v, _)| *v == q).map(|(_, l)| *l).unwrap_or("?");
        let (action, date, detail, res) = match j {
            0 => ("Created", f.create, format!("Ticket created in queue {}", qlabel(f.initial_queue)), Value::Null),
            1 => {
                let at = f.rerouted_at?;
                ("Edited", at, format!("Queue changed from {} to {}", qlabel(f.initial_queue), qlabel(f.queue)), Value::from(DISPATCHER_RESOURCE_ID))
            }
            2 => {
                let a = f.assigned?;
                ("Edited", f.create + Duration::minutes(61), format!("Primary resource set to {}", a.resource), Value::from(DISPATCHER_RESOURCE_ID))
            }
            _ => {
                let c = f.completed?;
                ("Edited", c, "Status changed from In Progress to Complete".to_string(), f.assigned.map(|a| Value::from(a.resource)).unwrap_or(Value::Null))
            }
        };
        json!({"ticketID": f.id, "action": action, "date": ts(date), "detail": detail, "resourceID": res}).as_object().cloned()
    }

    fn sla_row(&self, id: i64) -> Option<Row> {
        let idx = id - SLA_BASE;
        if idx >= self.n || idx < 0 {
            return None;
        }
        let f = self.facts(idx);
        let c = f.completed?;
        let mut r = R::new(self.seed, 5, idx as u64);
        let res_hours = (c - f.create).num_minutes() as f64 / 60.0;
        json!({"ticketID": f.id, "serviceLevelAgreementName": "Standard SLA",
               "firstResponseElapsedHours": 0.5, "firstResponseResourceID": f.assigned.map(|a| a.resource),
               "firstResponseInitiatingResourceID": f.assigned.map(|a| a.resource), "isFirstResponseMet": r.chance(0.9),
               "resolutionPlanElapsedHours": 2.0, "resolutionPlanResourceID": f.assigned.map(|a| a.resource),
               "isResolutionPlanMet": r.chance(0.85), "resolutionElapsedHours": (res_hours * 100.0).round() / 100.0,
               "resolutionResourceID": f.assigned.map(|a| a.resource), "isResolutionMet": res_hours < 48.0})
        .as_object()
        .cloned()
    }

    fn survey_result_row(&self, id: i64) -> Option<Row> {
        let idx = id - SURVEY_RESULT_BASE;
        if idx >= self.n || idx < 0 {
            return None;
        }
        let f = self.facts(idx);
        let c = f.completed?;
        let mut r = R::new(self.seed, 6, idx as u64);
        if !r.chance(0.15) {
            return None;
        }
        let rating = [5.0, 5.0, 4.0, 4.0, 3.0, 2.0, 1.0][r.below(7) as usize];
        json!({"surveyID": 1, "ticketID": f.id, "companyID": f.company, "contactID": f.contact,
               "sendDate": ts(c + Duration::hours(1)), "completeDate": ts(c + Duration::hours(5)),
               "surveyRating": rating, "companyRating": rating, "contactRating": rating, "resourceRating": rating})
        .as_object()
        .cloned()
    }
}

fn obj(v: Value) -> Row {
    v.as_object().cloned().unwrap()
}

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

    // --- picklists ---
    let pl = |v: &[(i64, &str)]| v.iter().map(|(a, b)| PicklistValue::new(a, *b)).collect::<Vec<_>>();
    let t = defs.get_mut("tickets").unwrap();
    t.set_picklist("queueID", pl(QUEUES));
    t.set_picklist(
        "status",
        pl(&[(1, "New"), (5, "Complete"), (7, "Waiting Customer"), (8, "In Progress"), (10, "Dispatched"), (11, "Escalate"), (12, "Waiting Vendor"), (13, "On Hold"), (19, "Customer Note Added")]),
    );
    t.set_picklist("priority", pl(&[(1, "High"), (2, "Medium"), (3, "Low"), (4, "Critical")]));
    t.set_picklist("issueType", CATEGORIES.iter().map(|c| PicklistValue::new(c.issue, c.issue_label)).collect());
    t.set_picklist(
        "subIssueType",
        CATEGORIES.iter().flat_map(|c| c.subs.iter().map(move |(v, l, _)| PicklistValue::child(v, *l, c.issue))).collect(),
    );
    if let Some(f) = t.field_mut("subIssueType") {
        f.picklist_parent = Some("issueType".into());
    }
    t.set_picklist("ticketCategory", pl(&[(2, "AEM Alert"), (3, "Standard"), (4, "RMA")]));
    t.set_picklist("ticketType", pl(&[(1, "Service Request"), (2, "Incident"), (3, "Problem"), (4, "Change Request"), (5, "Alert")]));
    t.set_picklist("source", pl(&[(-1, "Insourced"), (2, "Phone"), (4, "Email"), (6, "Client Portal"), (8, "Monitoring Alert"), (11, "Web Portal")]));
    t.set_picklist("serviceLevelAgreementID", pl(&[(1, "Standard SLA"), (2, "Premium SLA")]));
    t.udfs = vec![
        crate::schema::UdfDef { name: "Customer Impact".into(), label: "Customer Impact".into(), ty: crate::schema::Ty::String },
        crate::schema::UdfDef { name: "atpilot Category".into(), label: "atpilot Category".into(), ty: crate::schema::Ty::String },
    ];
    let n = defs.get_mut("ticketnotes").unwrap();
    n.set_picklist("noteType", pl(&[(1, "Summary"), (2, "Detail"), (3, "Notes"), (13, "Workflow Rule Note - Task"), (99, "RMM Note")]));
    n.set_picklist("publish", pl(&[(1, "All Autotask Users"), (2, "Internal Users")]));
    defs.get_mut("timeentries").unwrap().set_picklist("timeEntryType", pl(&[(2, "Ticket"), (6, "Task"), (11, "Regular")]));
    let c = defs.get_mut("contracts").unwrap();
    c.set_picklist(
        "contractType",
        pl(&[(CT_TIME_MATERIALS, "Time and Materials"), (CT_FIXED_PRICE, "Fixed Price"), (CT_BLOCK_HOURS, "Block Hours"), (CT_RETAINER, "Retainer"), (CT_RECURRING, "Recurring Service"), (CT_PER_TICKET, "Per Ticket")]),
    );
    c.set_picklist("contractCategory", pl(&[(1, "Standard"), (2, "Managed Services")]));
    c.set_picklist("contractPeriodType", pl(&[(1, "Monthly"), (2, "Quarterly"), (3, "Yearly")]));
    c.set_picklist("status", pl(&[(0, "Inactive"), (1, "Active")]));
    c.set_picklist("billingPreference", pl(&[(1, "Manual"), (2, "Immediate"), (3, "Timesheet")]));
    c.udfs = vec![crate::schema::UdfDef { name: "Billing Notes".into(), label: "Billing Notes".into(), ty: crate::schema::Ty::String }];
    let co = defs.get_mut("companies").unwrap();
    co.set_picklist("companyType", pl(&[(1, "Customer"), (2, "Lead"), (3, "Prospect"), (5, "Vendor"), (7, "Partner")]));
    co.set_picklist("classification", pl(&[(1, "Gold"), (2, "Silver"), (3, "Bronze")]));
    co.udfs = vec![crate::schema::UdfDef { name: "Customer Ranking".into(), label: "Customer Ranking".into(), ty: crate::schema::Ty::String }];
    defs.get_mut("contractblocks").unwrap().set_picklist("paymentType", pl(&[(1, "Cash"), (2, "Check"), (3, "Credit Card")]));
    defs.get_mut("contractticketpurchases").unwrap().set_picklist("paymentType", pl(&[(1, "Cash"), (2, "Check"), (3, "Credit Card")]));
    defs.get_mut("services").unwrap().set_picklist("periodType", pl(&[(1, "Monthly"), (2, "Quarterly"), (4, "Yearly")]));
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

    // --- roles, resources ---
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
    let add_res = |res: &mut Table, rr: &mut Table, id: i64, first: &str, last: &str, email: &str, rtype: &str, license: i64, role: i64, queues: &[i64]| {
        res.insert(
            id,
            obj(json!({"firstName": first, "lastName": last, "email": email, "userName": email.split('@').next().unwrap_or(email),
                       "isActive": true, "resourceType": rtype, "userType": 1, "licenseType": license, "defaultServiceDeskRoleID": role,
                       "title": rtype, "locationID": 1, "internalCost": 40.0, "hireDate": "2019-03-01T00:00:00.000Z"})),
        );
        for q in queues {
            let rid = rr.next_id();
            rr.insert(rid, obj(json!({"resourceID": id, "roleID": role, "queueID": q, "departmentID": 1, "isActive": true})));
        }
        if queues.is_empty() {
            let rid = rr.next_id();
            rr.insert(rid, obj(json!({"resourceID": id, "roleID": role, "queueID": null, "departmentID": 1, "isActive": true})));
        }
    };
    add_res(&mut res, &mut rr, 1, "Admin", "Istrator", "admin@sandbox.local", "Administrator", 1, 2, &[]);
    add_res(&mut res, &mut rr, API_RESOURCE_ID, "API", "User", api_user, "API User", 7, 1, &[]);
    add_res(&mut res, &mut rr, AGENT_RESOURCE_ID, "atpilot", "Agent", "atpilot-agent@sandbox.local", "Employee", 1, AGENT_ROLE_ID, &[Q_SERVICE_DESK, Q_M365, Q_PORTAL]);
    add_res(&mut res, &mut rr, DISPATCHER_RESOURCE_ID, "Dana", "Dispatch", "dana@sandbox.local", "Employee", 1, 6, &[Q_TRIAGE, Q_GENERAL, Q_PORTAL]);
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

    // --- billing codes, services, surveys ---
    let mut bc = Table::new(1);
    for (id, name, ty) in [(1, "Remote Support", 0), (2, "Onsite Support", 0), (3, "After Hours Support", 0), (4, "Project Labor", 0), (5, "Internal Admin", 1), (6, "Non-Billable", 1)] {
        bc.insert(id, obj(json!({"name": name, "description": name, "billingCodeType": 0, "useType": ty + 1, "afterHoursWorkType": 0, "isActive": true, "isExcludedFromNewContracts": false, "markupRate": 0.0, "unitCost": 0.0, "unitPrice": 125.0})));
    }
    tables.insert("billingcodes".into(), bc);
    let mut sv = Table::new(1);
    for (id, name, price) in [(1, "Managed Workstation", 45.0), (2, "Managed Server", 150.0), (3, "Microsoft 365 Seat", 22.0), (4, "Backup & DR", 99.0), (5, "Security Bundle", 15.0)] {
        sv.insert(id, obj(json!({"name": name, "description": name, "invoiceDescription": name, "isActive": true, "markupRate": 0.0, "periodType": 1, "unitCost": price / 2.0, "unitPrice": price, "billingCodeID": 1})));
    }
    tables.insert("services".into(), sv);
    let mut su = Table::new(1);
    su.insert(1, obj(json!({"name": "Ticket Satisfaction", "displayName": "How did we do?", "description": "Sent when a ticket is completed"})));
    tables.insert("surveys".into(), su);

    // --- companies, contacts, contracts ---
    let start = anchor - Duration::days(180);
    let mut companies = vec![];
    let mut ct = Table::new(1);
    let mut contacts = Table::new(1);
    let mut contracts = Table::new(1);
    let mut blocks = Table::new(1);
    let mut factors = Table::new(1);
    let mut purchases = Table::new(1);
    let mut csvc = Table::new(1);
    let mut contracts_by_type: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut without = vec![];
    let mut several = vec![];
    let types = [CT_RECURRING, CT_TIME_MATERIALS, CT_BLOCK_HOURS, CT_PER_TICKET, CT_RECURRING, CT_RETAINER, CT_FIXED_PRICE, CT_BLOCK_HOURS];
    let n_companies = 36;
    for ci in 0..=n_companies {
        let id = ci as i64;
        let name = if ci == 0 {
            "Sandbox MSP (own company)".to_string()
        } else {
            format!("{} {}", COMPANY_WORDS[(ci - 1) % COMPANY_WORDS.len()], COMPANY_SUFFIX[r.below(COMPANY_SUFFIX.len() as u64) as usize])
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
        if ci > 0 {
            let none = ci % 9 == 0;
            let count = if none { 0 } else if ci % 7 == 0 { 2 } else { 1 };
            if none {
                without.push(id);
            }
            if count > 1 {
                several.push(id);
            }
            for k in 0..count {
                let ty = types[(ci + k * 3) % types.len()];
                let cid = contracts.next_id();
                let label = match ty {
                    CT_TIME_MATERIALS => "Time & Materials",
                    CT_FIXED_PRICE => "Fixed Price",
                    CT_BLOCK_HOURS => "Block Hours",
                    CT_RETAINER => "Retainer",
                    CT_RECURRING => "Managed Services",
                    _ => "Per Ticket Support",
                };
                contracts.insert(
                    cid,
                    obj(json!({"contractName": format!("{name} - {label}"), "contractNumber": format!("K{cid:05}"), "contractType": ty,
                               "contractCategory": if ty == CT_RECURRING { 2 } else { 1 }, "contractPeriodType": 1, "status": 1,
                               "companyID": id, "isDefaultContract": k == 0, "startDate": ts(start - Duration::days(200)),
                               "endDate": ts(anchor + Duration::days(185)), "serviceLevelAgreementID": 1, "setupFee": 0.0,
                               "overageBillingRate": 150.0, "estimatedHours": 0.0, "timeReportingRequiresStartAndStopTimes": 0,
                               "billingPreference": 3, "isCompliant": true, "description": label, "lastModifiedDateTime": ts(start),
                               "userDefinedFields": [{"name": "Billing Notes", "value": null}]})),
                );
                contracts_by_type.entry(ty).or_default().push(cid);
                info.contracts.push((cid, ty));
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
        }
        companies.push(info);
    }
    tables.insert("companies".into(), ct);
    tables.insert("contacts".into(), contacts);
    tables.insert("contracts".into(), contracts);
    tables.insert("contractblocks".into(), blocks);
    tables.insert("contractblockhourfactors".into(), factors);
    tables.insert("contractticketpurchases".into(), purchases);
    tables.insert("contractservices".into(), csvc);
    tables.insert("ticketwebhooks".into(), Table::new(1));
    tables.insert("ticketwebhookfields".into(), Table::new(1));
    tables.insert("ticketwebhookexcludedresources".into(), Table::new(1));

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
    let c1 = ctx.clone();
    let gen_t: Generator = Arc::new(move |id| c1.ticket_idx(id).map(|i| c1.ticket_row(i)));
    tables.insert("tickets".into(), Table::new(TICKET_BASE + 1).with_generator(TICKET_BASE + 1, TICKET_BASE + n, gen_t));

    let child = |base: i64, slots: i64, g: Generator, c: Arc<Ctx>| {
        let idxr: ParentIndex = Arc::new(move |tid| c.ticket_idx(tid).map(|i| (base + i * slots, base + i * slots + slots - 1)));
        let mut t = Table::new(base).with_generator(base, base + n * slots - 1, g);
        t.parent_field = Some("ticketID".into());
        t.parent_index = Some(idxr);
        t
    };
    let c = ctx.clone();
    tables.insert("ticketnotes".into(), child(NOTE_BASE, NOTE_SLOTS, Arc::new(move |id| c.note_row(id)), ctx.clone()));
    let c = ctx.clone();
    tables.insert("timeentries".into(), child(TE_BASE, te_slots, Arc::new(move |id| c.time_entry_row(id)), ctx.clone()));
    let c = ctx.clone();
    tables.insert("tickethistory".into(), child(HIST_BASE, HIST_SLOTS, Arc::new(move |id| c.history_row(id)), ctx.clone()));
    let c = ctx.clone();
    tables.insert("servicelevelagreementresults".into(), child(SLA_BASE, 1, Arc::new(move |id| c.sla_row(id)), ctx.clone()));
    let c = ctx.clone();
    tables.insert("surveyresults".into(), child(SURVEY_RESULT_BASE, 1, Arc::new(move |id| c.survey_result_row(id)), ctx.clone()));

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
