//! Entity rules: what Autotask enforces beyond field checks (assignment
//! needs a resource with the role, contacts and contracts of the ticket's
//! company, time-entry hours, roles and contracts, block-hour contracts,
//! webhook field lengths and URLs).

use super::write::WriteKind;
use crate::Knobs;
use crate::schema::EntityDef;
use crate::store::{Row, Table};
use crate::tenant;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

fn resource_has_role(db: &BTreeMap<String, Table>, resource: i64, role: i64) -> bool {
    let mut found = false;
    db["resourceroles"].scan(i64::MIN, i64::MAX, |_, r| {
        if r.get("resourceID").and_then(Value::as_i64) == Some(resource)
            && r.get("roleID").and_then(Value::as_i64) == Some(role)
            && r.get("isActive").and_then(Value::as_bool).unwrap_or(true)
        {
            found = true;
            return false;
        }
        true
    });
    found
}

#[allow(clippy::too_many_arguments)]
pub(super) fn entity_rules(
    db: &BTreeMap<String, Table>,
    def: &EntityDef,
    kind: WriteKind,
    row: &mut Row,
    old: Option<&Row>,
    given: &Map<String, Value>,
    person: i64,
    knobs: &Knobs,
) -> Result<(), String> {
    let geti = |r: &Row, k: &str| r.get(k).and_then(Value::as_i64);
    let _ = person;
    match def.name.as_str() {
        "Tickets" => {
            let stored = old.and_then(|o| o.get("description")).and_then(Value::as_str).map(|d| d.chars().count());
            if let (Some(n), Some(max)) = (stored, knobs.ticket_description_limit) {
                if n > max {
                    return Err("String value exceeds maximum length (field:description).  | Error updating entity for record number [1].".into());
                }
            }
            ticket_rules(db, row, given)?
        }
        "TimeEntries" => time_entry_rules(db, kind, row, knobs)?,
        "ContractBlocks" => {
            let c = geti(row, "contractID").and_then(|c| db["contracts"].get(c));
            if c.as_ref().and_then(|c| geti(c, "contractType")) != Some(tenant::CT_BLOCK_HOURS) {
                return Err("Blocks can only be added to Block Hours contracts.".into());
            }
            row.entry("hoursApproved").or_insert(Value::from(0.0));
        }
        "ContractTicketPurchases" => {
            row.entry("ticketsUsed").or_insert(Value::from(0.0));
        }
        "TicketWebhooks" => {
            for (f, max) in [
                ("name", 50),
                ("webhookUrl", 500),
                ("deactivationUrl", 500),
                ("secretKey", 64),
                ("notificationEmailAddress", 150),
            ] {
                if row.get(f).and_then(Value::as_str).is_some_and(|s| s.chars().count() > max) {
                    return Err(format!("{f} must be less than or equal to {max} characters"));
                }
            }
            for f in ["webhookUrl", "deactivationUrl"] {
                if row.get(f).and_then(Value::as_str).is_some_and(|u| url::Url::parse(u).is_err()) {
                    return Err(format!("{f} is not a valid URL."));
                }
            }
        }
        "TicketNotes" if row.get("title").is_none_or(Value::is_null) => {
            row.insert("title".into(), Value::from(""));
        }
        _ => {}
    }
    Ok(())
}

/// A ticket's assignment needs both a resource and a role the resource has;
/// its contact and contract must belong to its company.
fn ticket_rules(db: &BTreeMap<String, Table>, row: &Row, given: &Map<String, Value>) -> Result<(), String> {
    let geti = |r: &Row, k: &str| r.get(k).and_then(Value::as_i64);
    let res = geti(row, "assignedResourceID");
    let role = geti(row, "assignedResourceRoleID");
    match (res, role) {
        (Some(_), None) | (None, Some(_)) => {
            return Err(
                "When assigning a Resource, you must assign both a assignedResourceID and assignedResourceRoleID."
                    .into(),
            );
        }
        (Some(r), Some(ro))
            if (given.contains_key("assignedResourceID") || given.contains_key("assignedResourceRoleID"))
                && !resource_has_role(db, r, ro) =>
        {
            return Err(format!(
                "The resource {r} does not have the role {ro}: a resource must have a role to be assigned."
            ));
        }
        _ => {}
    }
    if let (Some(c), Some(company)) = (geti(row, "contactID"), geti(row, "companyID")) {
        if given.contains_key("contactID") || given.contains_key("companyID") {
            let cc = db["contacts"].get(c).and_then(|r| geti(&r, "companyID"));
            if cc != Some(company) {
                return Err("Reference value on field: contactID of type: Contact does not exist or is invalid.".into());
            }
        }
    }
    if let Some(contract) =
        geti(row, "contractID").filter(|_| given.contains_key("contractID") || given.contains_key("companyID"))
    {
        let cc = db["contracts"].get(contract).and_then(|r| geti(&r, "companyID"));
        if cc != geti(row, "companyID") {
            return Err("Reference value on field: contractID of type: Contract does not exist or is invalid.".into());
        }
    }
    Ok(())
}

/// A time entry's hours, rounding, resource, role and ticket, as Autotask checks and fills them.
fn time_entry_rules(db: &BTreeMap<String, Table>, kind: WriteKind, row: &mut Row, knobs: &Knobs) -> Result<(), String> {
    let geti = |r: &Row, k: &str| r.get(k).and_then(Value::as_i64);
    let hours = row.get("hoursWorked").and_then(Value::as_f64);
    match hours {
        Some(h) if h > 0.0 && h < 24.0 => {}
        Some(_) => return Err("hoursWorked must be greater than 0 and less than 24.".into()),
        None if kind == WriteKind::Patch => {}
        None => return Err("hoursWorked is required.".into()),
    }
    if let (Some(m), Some(h)) = (knobs.time_rounding_minutes, hours) {
        if m > 0 {
            let step = m as f64 / 60.0;
            let rounded = (h / step).ceil() * step;
            row.insert("hoursWorked".into(), Value::from(rounded));
        }
    }
    if row.get("hoursToBill").is_none_or(Value::is_null) {
        if let Some(h) = row.get("hoursWorked").cloned() {
            row.insert("hoursToBill".into(), h);
        }
    }
    let resource = geti(row, "resourceID").ok_or("resourceID is required.")?;
    let rrow = db["resources"]
        .get(resource)
        .ok_or("Reference value on field: resourceID of type: Resource does not exist or is invalid.")?;
    if geti(&rrow, "licenseType") == Some(7) {
        return Err("Time entries cannot be created for an API-only resource; use a licensed resource.".into());
    }
    if let Some(ticket) = geti(row, "ticketID") {
        let trow = db["tickets"]
            .get(ticket)
            .ok_or("Reference value on field: ticketID of type: Ticket does not exist or is invalid.")?;
        let role = geti(row, "roleID").ok_or("roleID is required for ticket time entries.")?;
        if !knobs.allow_role_override {
            if let Some(tr) = geti(&trow, "assignedResourceRoleID") {
                if tr != role && geti(&trow, "assignedResourceID") == Some(resource) {
                    return Err(format!("roleID {role} must match the ticket's assignedResourceRoleID {tr}."));
                }
            }
        }
        if !resource_has_role(db, resource, role) {
            return Err(format!("The resource {resource} does not have the role {role}."));
        }
        if kind == WriteKind::Create && row.get("contractID").is_none_or(Value::is_null) {
            if let Some(c) = trow.get("contractID").filter(|v| !v.is_null()) {
                row.insert("contractID".into(), c.clone());
            }
        }
        row.entry("timeEntryType").or_insert(Value::from(2));
    } else if geti(row, "taskID").is_none() {
        if let Some(r) = geti(&rrow, "defaultServiceDeskRoleID") {
            row.insert("roleID".into(), Value::from(r));
        }
        row.entry("timeEntryType").or_insert(Value::from(11));
    }
    Ok(())
}
