//! Which `publish` and `noteType` values the agent writes: tenant picklists
//! whose values and labels differ (reference §4, TicketNotes: `1` "All
//! Autotask Users" is customer-visible, `2` "Internal Users" never is, and
//! newer tenants may offer e.g. `4` "Internal & Co-Managed"; a value may be
//! inactive). Chosen from the tenant's picklists, or from the configuration
//! checked against them; an internal note never falls back to a value
//! customers can see, and with no usable value nothing is written.

use crate::ports::NewNote;
use atpilot_autotask::PicklistValue;
use atpilot_domain::untrusted::{lines, one_line};

/// What the configuration asks (`[autotask] note_publish_internal`, …), if anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoteWanted {
    pub internal: Option<i64>,
    pub customer: Option<i64>,
    pub note_type: Option<i64>,
}

impl From<&atpilot_config::AutotaskConfig> for NoteWanted {
    fn from(a: &atpilot_config::AutotaskConfig) -> Self {
        NoteWanted { internal: a.note_publish_internal, customer: a.note_publish_customer, note_type: a.note_type }
    }
}

/// The values written, with the tenant's labels (for setup and the configuration check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteValues {
    pub internal: (i64, String),
    pub customer: (i64, String),
    pub note_type: (i64, String),
}

fn all_users(label: &str) -> bool {
    let l = label.to_ascii_lowercase();
    l.starts_with("all ") || l.contains("all autotask users")
}

fn internal(label: &str) -> bool {
    label.to_ascii_lowercase().contains("internal") && !all_users(label)
}

/// The picklist entry `value`, if it is there and active; else why not.
fn active<'a>(pl: &'a [PicklistValue], field: &str, value: i64) -> Result<&'a PicklistValue, String> {
    match pl.iter().find(|p| p.value == value.to_string()) {
        Some(p) if p.is_active => Ok(p),
        Some(p) => Err(format!("TicketNotes {field} value {value} ({:?}) is inactive in this tenant", p.label)),
        None => Err(format!("TicketNotes {field} has no value {value} in this tenant")),
    }
}

fn pair(p: &PicklistValue) -> Result<(i64, String), String> {
    Ok((p.value.parse().map_err(|_| format!("picklist value {:?} is not a number", p.value))?, p.label.clone()))
}

fn listed(pl: &[PicklistValue]) -> String {
    let v: Vec<String> =
        pl.iter().map(|p| format!("{} {}{}", p.value, p.label, if p.is_active { "" } else { " (inactive)" })).collect();
    v.join(", ")
}

/// The values to write, from the tenant's `publish` and `noteType` picklists
/// and what the configuration asks. Errors, in words, name the value, what
/// the tenant has and the configuration key that fixes it.
pub fn choose(publish: &[PicklistValue], note_type: &[PicklistValue], want: NoteWanted) -> Result<NoteValues, String> {
    let fix = |key: &str| format!(" (the tenant has: {}; set [autotask] {key})", listed(publish));
    let internal = match want.internal {
        Some(v) => {
            let p = active(publish, "publish", v).map_err(|e| e + &fix("note_publish_internal"))?;
            if all_users(&p.label) {
                return Err(format!(
                    "publish value {v} ({:?}) is visible to customers: it cannot be used for internal notes",
                    p.label
                ));
            }
            p
        }
        // "Internal Users" first; another internal value (e.g. "Internal & Co-Managed") if that one is not active.
        None => publish
            .iter()
            .filter(|p| p.is_active && internal(&p.label))
            .min_by_key(|p| (!p.label.eq_ignore_ascii_case("internal users"), p.label.contains('&')))
            .ok_or_else(|| {
                format!("TicketNotes publish has no active internal value{}", fix("note_publish_internal"))
            })?,
    };
    let customer = match want.customer {
        Some(v) => active(publish, "publish", v).map_err(|e| e + &fix("note_publish_customer"))?,
        None => publish.iter().find(|p| p.is_active && all_users(&p.label)).ok_or_else(|| {
            format!("TicketNotes publish has no active \"All Autotask Users\" value{}", fix("note_publish_customer"))
        })?,
    };
    if customer.value == internal.value {
        return Err(format!("publish value {} cannot be both internal and customer-visible", customer.value));
    }
    let types = |key: &str| format!(" (the tenant has: {}; set [autotask] {key})", listed(note_type));
    let kind = match want.note_type {
        Some(v) => active(note_type, "noteType", v).map_err(|e| e + &types("note_type"))?,
        None => note_type
            .iter()
            .find(|p| p.is_active && p.label.trim().eq_ignore_ascii_case("notes"))
            .ok_or_else(|| format!("TicketNotes noteType has no active \"Notes\" value{}", types("note_type")))?,
    };
    Ok(NoteValues { internal: pair(internal)?, customer: pair(customer)?, note_type: pair(kind)? })
}

/// A note's title and text as written: controls and spoofing characters made
/// safe (notes may quote the customer or the model), cut to Autotask's lengths.
pub(super) fn note_fields(note: &NewNote) -> (String, String) {
    (one_line(&note.title).chars().take(250).collect(), lines(&note.text).chars().take(32_000).collect())
}

/// Text compared as Autotask may give it back (line endings and runs of spaces may differ).
pub(super) fn same_text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pl(values: &[(i64, &str, bool)]) -> Vec<PicklistValue> {
        values
            .iter()
            .map(|(v, l, a)| {
                serde_json::from_value(serde_json::json!({"value": v.to_string(), "label": l, "isDefaultValue": false,
                    "sortOrder": 0, "parentValue": null, "isActive": a, "isSystem": false}))
                .unwrap()
            })
            .collect()
    }

    fn types() -> Vec<PicklistValue> {
        pl(&[(1, "Summary", true), (3, "Notes", true), (13, "Workflow Rule Note - Task", true)])
    }

    #[test]
    fn the_usual_tenant_gets_internal_users_and_all_autotask_users() {
        let v = choose(
            &pl(&[(1, "All Autotask Users", true), (2, "Internal Users", true)]),
            &types(),
            NoteWanted::default(),
        );
        let v = v.unwrap();
        assert_eq!((v.internal.0, v.customer.0, v.note_type.0), (2, 1, 3));
    }

    #[test]
    fn an_inactive_internal_users_value_is_never_replaced_by_a_customer_visible_one() {
        let publish =
            pl(&[(1, "All Autotask Users", true), (2, "Internal Users", false), (4, "Internal & Co-Managed", true)]);
        let v = choose(&publish, &types(), NoteWanted::default()).unwrap();
        assert_eq!(v.internal, (4, "Internal & Co-Managed".into()));
        let e = choose(&publish, &types(), NoteWanted { internal: Some(2), ..Default::default() }).unwrap_err();
        assert!(e.contains("value 2 (\"Internal Users\") is inactive") && e.contains("note_publish_internal"), "{e}");
        let e = choose(&publish, &types(), NoteWanted { internal: Some(1), ..Default::default() }).unwrap_err();
        assert!(e.contains("visible to customers"), "{e}");
        let only_all = pl(&[(1, "All Autotask Users", true), (2, "Internal Users", false)]);
        assert!(choose(&only_all, &types(), NoteWanted::default()).unwrap_err().contains("no active internal value"));
    }

    #[test]
    fn a_missing_note_type_is_refused_with_what_the_tenant_has() {
        let publish = pl(&[(1, "All Autotask Users", true), (2, "Internal Users", true)]);
        let e = choose(&publish, &pl(&[(1, "Summary", true)]), NoteWanted::default()).unwrap_err();
        assert!(e.contains("no active \"Notes\" value") && e.contains("1 Summary"), "{e}");
        let v = choose(&publish, &pl(&[(1, "Summary", true)]), NoteWanted { note_type: Some(1), ..Default::default() });
        assert_eq!(v.unwrap().note_type.0, 1);
    }
}
