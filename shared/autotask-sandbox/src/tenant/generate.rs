//! The lazy generators: a ticket and its children (notes, time entries,
//! history, SLA and survey results) are generated from (seed, id) on demand,
//! from the small context ([`Ctx`]) computed once at build.

use super::catalog::*;
use super::*;
use crate::store::Row;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

/// What the lazy generators need: everything small, computed once.
pub struct Ctx {
    pub(super) seed: u64,
    pub(super) n: i64,
    pub(super) start: DateTime<Utc>,
    pub(super) span_secs: i64,
    pub(super) anchor: DateTime<Utc>,
    pub(super) companies: Vec<CompanyInfo>,
    pub(super) techs_by_queue: BTreeMap<i64, Vec<Tech>>,
    pub(super) all_techs: Vec<Tech>,
    pub(super) cat_weight_total: u64,
    /// Id slots per ticket in the time-entry table, and whether every slot is used.
    pub(super) te_slots: i64,
    pub(super) te_fixed: bool,
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
        let contract = if project.is_some() || company.contracts.is_empty() {
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

    pub(super) fn ticket_row(&self, idx: i64) -> Row {
        let f = self.facts(idx);
        let mut r = R::new(self.seed, 2, idx as u64);
        let last_activity = f
            .completed
            .unwrap_or(if f.unmonitored { f.create } else { f.create + Duration::hours(2) })
            .min(self.anchor);
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
        let mut row = v.as_object().cloned().unwrap();
        let visible = self.last_public_note(idx, f.create).filter(|t| *t <= self.anchor);
        row.insert("lastCustomerVisibleActivityDateTime".into(), visible.map(ts).into());
        row
    }

    /// A ticket's generated notes: how many, their minute offset, and whether they are internal.
    fn note_shape(&self, idx: i64) -> (i64, i64, bool) {
        let f = self.facts(idx);
        let mut r = R::new(self.seed, 3, idx as u64);
        let count = if f.unmonitored { 0 } else { 1 + r.below(NOTE_SLOTS as u64) as i64 };
        let offset = r.below(30) as i64;
        (count, offset, r.chance(0.5))
    }

    /// When the ticket's last customer-visible generated note was written, if it has one.
    fn last_public_note(&self, idx: i64, create: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (count, offset, internal) = self.note_shape(idx);
        (count > 0 && !internal).then(|| create + Duration::minutes(15 + (count - 1) * 90 + offset))
    }

    pub(super) fn note_row(&self, id: i64) -> Option<Row> {
        let k = id - NOTE_BASE;
        let (idx, j) = (k / NOTE_SLOTS, k % NOTE_SLOTS);
        if idx >= self.n {
            return None;
        }
        let f = self.facts(idx);
        let (count, offset, internal) = self.note_shape(idx);
        if j >= count {
            return None;
        }
        let at = f.create + Duration::minutes(15 + j * 90 + offset);
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

    pub(super) fn time_entry_row(&self, id: i64) -> Option<Row> {
        let k = id - TE_BASE;
        let (idx, j) = (k / self.te_slots, k % self.te_slots);
        if idx >= self.n {
            return None;
        }
        let f = self.facts(idx);
        let a = if self.te_fixed {
            f.assigned.unwrap_or(Tech2 { resource: DISPATCHER_RESOURCE_ID, role: 6 })
        } else {
            f.assigned?
        };
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

    pub(super) fn history_row(&self, id: i64) -> Option<Row> {
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
                (
                    "Edited",
                    at,
                    format!("Queue changed from {} to {}", qlabel(f.initial_queue), qlabel(f.queue)),
                    Value::from(DISPATCHER_RESOURCE_ID),
                )
            }
            2 => {
                let a = f.assigned?;
                (
                    "Edited",
                    f.create + Duration::minutes(61),
                    format!("Primary resource set to {}", a.resource),
                    Value::from(DISPATCHER_RESOURCE_ID),
                )
            }
            _ => {
                let c = f.completed?;
                (
                    "Edited",
                    c,
                    "Status changed from In Progress to Complete".to_string(),
                    f.assigned.map(|a| Value::from(a.resource)).unwrap_or(Value::Null),
                )
            }
        };
        json!({"ticketID": f.id, "action": action, "date": ts(date), "detail": detail, "resourceID": res})
            .as_object()
            .cloned()
    }

    pub(super) fn sla_row(&self, id: i64) -> Option<Row> {
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

    pub(super) fn survey_result_row(&self, id: i64) -> Option<Row> {
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
