//! The tenant's rules that are not ids: what the API user's security level
//! may write (`entityInformation`'s `userAccessForCreate`/`Update`), and the
//! calendar time entries are dated in (the agent resource's office).

use super::{ConfigReport, UNREADABLE, one};
use atpilot_autotask::Client;
use atpilot_autotask::entities::{InternalLocation, Resource};
use atpilot_config::Config;
use atpilot_domain::tenant_time::display_name_offset_hours;

/// The writes atpilot makes: (entity, right, what it is for).
const WRITES: &[(&str, &str, &str)] = &[
    ("Tickets", "update", "routing, status and assignment"),
    ("TicketNotes", "create", "internal notes and replies"),
    ("TimeEntries", "create", "logging its time"),
];

/// Each write atpilot makes is allowed to the API user.
pub(super) async fn check_write_rights(client: &Client, r: &mut ConfigReport) {
    for (entity, right, what) in WRITES {
        let key = format!("autotask.access.{entity}");
        match client.entity_information(entity).await {
            Err(e) => r.warn(&key, right, format!("{entity}/entityInformation could not be read: {e}"), UNREADABLE),
            Ok(info) if info.allows(right) => r.ok_(&key, right, format!("the API user may {right} {entity} ({what})")),
            Ok(info) => {
                let access = match *right {
                    "create" => info.user_access_for_create,
                    _ => info.user_access_for_update,
                };
                r.error(
                    &key,
                    right,
                    format!(
                        "the API user may not {right} {entity} (userAccessFor{}: {}), which atpilot needs for {what}",
                        if *right == "create" { "Create" } else { "Update" },
                        access.as_deref().unwrap_or("not allowed on this entity")
                    ),
                    None,
                    &format!("give the API user's security level the right to {right} {entity}"),
                );
            }
        }
    }
}

/// `[autotask] time_zone` against the agent resource's office
/// (`Resources.locationID` → `InternalLocations.timeZone`), compared by
/// standard UTC offset (Autotask names zones the Windows way).
pub(super) async fn check_time_zone(client: &Client, config: &Config, agent: Option<&Resource>, r: &mut ConfigReport) {
    let key = "autotask.time_zone";
    let zone = config.autotask.time_zone;
    let Some(location) = agent.and_then(|a| a.location_id) else {
        return r.warn(
            key,
            zone,
            "the agent resource has no office (locationID) to compare with",
            "check that time entries are dated in the MSP's calendar",
        );
    };
    let office = match one::<InternalLocation>(client, location).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            return r.warn(key, zone, format!("the agent resource's office {location} was not found"), UNREADABLE);
        }
        Err(e) => return r.warn(key, zone, format!("the agent resource's office could not be read: {e}"), UNREADABLE),
    };
    let label = office.time_zone.clone().unwrap_or_default();
    let name = office.name.clone().unwrap_or_else(|| format!("office {location}"));
    let year = chrono::Datelike::year(&chrono::Utc::now());
    match display_name_offset_hours(&label) {
        Some(h) if (h - zone.standard_offset_hours(year)).abs() < 0.01 => r.ok_(
            key,
            zone,
            format!("dateWorked and block dates use this calendar; the agent resource works from {name:?}, {label:?}"),
        ),
        Some(_) => r.warn(
            key,
            zone,
            format!("the agent resource works from {name:?}, whose zone is {label:?}: time entries would be dated in another calendar"),
            "set [autotask] time_zone to that office's IANA zone (e.g. \"America/New_York\")",
        ),
        None => r.warn(
            key,
            zone,
            format!("the agent resource's office {name:?} has time zone {label:?}, which could not be compared"),
            "check that [autotask] time_zone is that office's zone",
        ),
    }
}
