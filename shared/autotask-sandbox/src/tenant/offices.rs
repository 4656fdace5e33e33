//! The MSP's own reference data beside its staff: its offices
//! (`InternalLocations`, with the time zone its people work in), the
//! resource licence types (`Resources.licenseType`, a picklist), the ticket
//! categories as rows, and the empty ticket children a tenant starts with
//! (checklist items, secondary resources).

use super::obj;
use crate::schema::{EntityDef, PicklistValue};
use crate::store::Table;
use serde_json::json;
use std::collections::BTreeMap;

/// The office every seeded resource works from (`Resources.locationID`).
pub const HEAD_OFFICE_ID: i64 = 1;
/// Its `timeZone`, as Autotask labels zones (a display name, not an IANA id).
pub const HEAD_OFFICE_TIME_ZONE: &str = "(GMT-05:00) Eastern Time (US & Canada)";

/// `Resources.licenseType` values (7 is the API-only user that owns no time).
pub const LICENSE_TYPES: &[(i64, &str)] = &[
    (1, "Professional"),
    (2, "Time & Attendance"),
    (3, "Dashboard User"),
    (4, "Co-Managed Help Desk"),
    (7, "API User (system)"),
];

pub(super) fn set_picklists(defs: &mut BTreeMap<String, EntityDef>) {
    let values = LICENSE_TYPES.iter().map(|(v, l)| PicklistValue::new(v, *l)).collect();
    if let Some(r) = defs.get_mut("resources") {
        r.set_picklist("licenseType", values);
    }
}

pub(super) fn add_tables(tables: &mut BTreeMap<String, Table>) {
    let mut loc = Table::new(1);
    loc.insert(
        HEAD_OFFICE_ID,
        obj(json!({"name": "Head Office", "address1": "1 Main Street", "city": "New York", "state": "NY",
                   "postalCode": "10001", "country": "United States", "isDefault": true, "holidaySetId": 1,
                   "timeZone": HEAD_OFFICE_TIME_ZONE})),
    );
    loc.insert(
        2,
        obj(json!({"name": "London Office", "city": "London", "postalCode": "EC1A 1BB", "country": "United Kingdom",
                   "isDefault": false, "holidaySetId": 2, "timeZone": "(GMT+00:00) Dublin, Edinburgh, Lisbon, London"})),
    );
    tables.insert("internallocations".into(), loc);
    let mut cat = Table::new(1);
    for (id, name, active) in [(2, "AEM Alert", true), (3, "Standard", true), (4, "RMA", true), (5, "Legacy", false)] {
        cat.insert(
            id,
            obj(json!({"name": name, "nickname": name, "isActive": active, "isGlobalDefault": id == 3,
                       "isApiOnly": false, "displayColorRGB": 0})),
        );
    }
    tables.insert("ticketcategories".into(), cat);
    tables.insert("ticketchecklistitems".into(), Table::new(1));
    tables.insert("ticketsecondaryresources".into(), Table::new(1));
}
