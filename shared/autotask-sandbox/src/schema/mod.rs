//! Entity definitions served by the sandbox: field names (camelCase, as on the
//! wire), types, flags and picklists. `entityInformation/fields` is generated
//! from these, and writes and filters are validated against them.

mod entities;

use serde_json::{Value, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Integer,
    Long,
    Double,
    String,
    Boolean,
    DateTime,
}

impl Ty {
    pub fn wire_name(self) -> &'static str {
        match self {
            Ty::Integer => "integer",
            Ty::Long => "long",
            Ty::Double => "double",
            Ty::String => "string",
            Ty::Boolean => "boolean",
            Ty::DateTime => "datetime",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PicklistValue {
    pub value: String,
    pub label: String,
    pub parent_value: Option<String>,
    pub is_active: bool,
    pub is_system: bool,
}

impl PicklistValue {
    pub fn new(value: impl ToString, label: impl Into<String>) -> Self {
        Self { value: value.to_string(), label: label.into(), parent_value: None, is_active: true, is_system: false }
    }
    pub fn child(value: impl ToString, label: impl Into<String>, parent: impl ToString) -> Self {
        Self { parent_value: Some(parent.to_string()), ..Self::new(value, label) }
    }
}

#[derive(Debug, Clone)]
pub struct FieldDef {
    pub name: String,
    pub ty: Ty,
    pub read_only: bool,
    pub required: bool,
    pub queryable: bool,
    pub reference: Option<String>,
    pub picklist: Option<Vec<PicklistValue>>,
    pub picklist_parent: Option<String>,
}

#[derive(Debug, Clone)]
pub struct UdfDef {
    pub name: String,
    pub label: String,
    pub ty: Ty,
}

#[derive(Debug, Clone)]
pub struct EntityDef {
    /// Collection name as in the URL (`Tickets`).
    pub name: String,
    pub can_create: bool,
    pub can_update: bool,
    pub can_delete: bool,
    pub fields: Vec<FieldDef>,
    pub udfs: Vec<UdfDef>,
    pub supports_webhooks: bool,
    /// For child entities: (parent collection, child segment, parent id field).
    pub parent: Option<(String, String, String)>,
    /// Writes go only through the parent path (e.g. TicketNotes).
    pub write_via_parent_only: bool,
}

impl EntityDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }
    pub fn field_mut(&mut self, name: &str) -> Option<&mut FieldDef> {
        self.fields.iter_mut().find(|f| f.name.eq_ignore_ascii_case(name))
    }
    pub fn udf(&self, name: &str) -> Option<&UdfDef> {
        self.udfs.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }
    pub fn set_picklist(&mut self, field: &str, values: Vec<PicklistValue>) {
        if let Some(f) = self.field_mut(field) {
            f.picklist = Some(values);
        }
    }

    /// `entityInformation`; `denied` lists (entity, "create" | "update") rights
    /// the API user's security level lacks.
    pub fn info_json(&self, denied: &std::collections::BTreeSet<(String, String)>) -> Value {
        let access = |can: bool, right: &str| match can && !denied.contains(&(self.name.clone(), right.to_string())) {
            true => "All",
            false => "None",
        };
        json!({"info": {
            "name": singular(&self.name),
            "canCreate": self.can_create,
            "canDelete": self.can_delete,
            "canQuery": true,
            "canUpdate": self.can_update,
            "userAccessForCreate": access(self.can_create, "create"),
            "userAccessForDelete": if self.can_delete { "All" } else { "None" },
            "userAccessForQuery": "All",
            "userAccessForUpdate": access(self.can_update, "update"),
            "hasUserDefinedFields": !self.udfs.is_empty(),
            "supportsWebhookCallouts": self.supports_webhooks,
        }})
    }

    pub fn fields_json(&self) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|f| {
                let picklist: Vec<Value> = f
                    .picklist
                    .as_ref()
                    .map(|p| {
                        p.iter()
                            .enumerate()
                            .map(|(i, v)| {
                                json!({"value": v.value, "label": v.label, "isDefaultValue": false,
                                       "sortOrder": i, "parentValue": v.parent_value.clone().unwrap_or_default(),
                                       "isActive": v.is_active, "isSystem": v.is_system})
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "name": f.name,
                    "dataType": f.ty.wire_name(),
                    "length": if f.ty == Ty::String { 8000 } else { 0 },
                    "isRequired": f.required,
                    "isReadOnly": f.read_only,
                    "isQueryable": f.queryable,
                    "isReference": f.reference.is_some(),
                    "referenceEntityType": f.reference.clone().unwrap_or_default(),
                    "isPickList": f.picklist.is_some(),
                    "picklistValues": if f.picklist.is_some() { Value::Array(picklist) } else { Value::Null },
                    "picklistParentValueField": f.picklist_parent.clone().unwrap_or_default(),
                    "isSupportedWebhookField": self.supports_webhooks && f.name != "userDefinedFields",
                })
            })
            .collect();
        json!({ "fields": fields })
    }

    pub fn udfs_json(&self) -> Value {
        let fields: Vec<Value> = self
            .udfs
            .iter()
            .map(|u| {
                json!({"name": u.name, "label": u.label, "type": u.ty.wire_name(), "length": 8000,
                       "description": "", "isRequired": false, "isReadOnly": false, "isQueryable": true,
                       "isReference": false, "referenceEntityType": "", "isPickList": false,
                       "picklistValues": null, "picklistParentValueField": "", "defaultValue": null,
                       "isSupportedWebhookField": self.supports_webhooks})
            })
            .collect();
        json!({ "fields": fields })
    }
}

pub fn singular(name: &str) -> String {
    if let Some(s) = name.strip_suffix("ies") {
        format!("{s}y")
    } else if name.ends_with("History") || name.ends_with("Results") {
        name.to_string()
    } else if let Some(s) = name.strip_suffix('s') {
        s.to_string()
    } else {
        name.to_string()
    }
}

fn infer_ty(name: &str) -> Ty {
    let lower = name.to_ascii_lowercase();
    if name == "id" || name.ends_with("ID") || name.ends_with("Id") {
        Ty::Long
    } else if lower.ends_with("date")
        || lower.starts_with("date")
        || lower.contains("datetime")
        || lower.ends_with("time")
    {
        Ty::DateTime
    } else if lower.starts_with("is") && name.chars().nth(2).is_some_and(|c| c.is_ascii_uppercase())
        || lower.starts_with("has")
        || lower.starts_with("can")
        || lower.starts_with("send")
    {
        Ty::Boolean
    } else if lower.contains("hours")
        || lower.contains("rate")
        || lower.contains("cost")
        || lower.contains("price")
        || lower.contains("multiplier")
        || lower.contains("factor")
        || lower.contains("amount")
        || lower.ends_with("fee")
        || lower.starts_with("estimated")
    {
        Ty::Double
    } else {
        Ty::String
    }
}

/// Parses a compact spec: `name[:flag...]` separated by spaces. Flags:
/// `ro` read-only, `req` required, `nq` not queryable, `int`/`str`/`dbl`/`bool`/`dt`
/// type override, `pl` picklist (values set later), `ref=Entity`.
fn fields(spec: &str) -> Vec<FieldDef> {
    let mut out = vec![];
    for tok in spec.split_whitespace() {
        let mut parts = tok.split(':');
        let name = parts.next().unwrap().to_string();
        let mut f = FieldDef {
            ty: infer_ty(&name),
            name,
            read_only: false,
            required: false,
            queryable: true,
            reference: None,
            picklist: None,
            picklist_parent: None,
        };
        for flag in parts {
            match flag {
                "ro" => f.read_only = true,
                "req" => f.required = true,
                "nq" => f.queryable = false,
                "int" => f.ty = Ty::Integer,
                "str" => f.ty = Ty::String,
                "dbl" => f.ty = Ty::Double,
                "bool" => f.ty = Ty::Boolean,
                "dt" => f.ty = Ty::DateTime,
                "pl" => {
                    f.picklist = Some(vec![]);
                    if f.ty == Ty::String {
                        f.ty = Ty::Integer;
                    }
                }
                r if r.starts_with("ref=") => f.reference = Some(r[4..].to_string()),
                other => panic!("bad field flag {other}"),
            }
        }
        if f.name == "id" {
            f.read_only = true;
        }
        out.push(f);
    }
    out
}

pub(crate) fn entity(name: &str, create: bool, update: bool, delete: bool, spec: &str) -> EntityDef {
    EntityDef {
        name: name.into(),
        can_create: create,
        can_update: update,
        can_delete: delete,
        fields: fields(spec),
        udfs: vec![],
        supports_webhooks: false,
        parent: None,
        write_via_parent_only: false,
    }
}

pub(crate) fn child(mut e: EntityDef, parent: &str, seg: &str, field: &str, only: bool) -> EntityDef {
    e.parent = Some((parent.into(), seg.into(), field.into()));
    e.write_via_parent_only = only;
    e
}

/// All entity definitions, keyed by lower-case collection name.
pub fn definitions() -> BTreeMap<String, EntityDef> {
    let mut v: Vec<EntityDef> = [
        entities::service_desk(),
        entities::ticket_children(),
        entities::contracts(),
        entities::companies_and_people(),
        entities::locations(),
        entities::history_and_webhooks(),
    ]
    .concat();
    // Fields whose type inference needs help; every model carries userDefinedFields.
    for e in &mut v {
        if e.field("userDefinedFields").is_none() {
            e.fields.extend(fields("userDefinedFields:nq"));
        }
        for f in &mut e.fields {
            if matches!(f.name.as_str(), "serviceLevelAgreementHasBeenMet" | "primaryContact") {
                f.ty = Ty::Boolean;
            }
            if f.name == "userDefinedFields" {
                f.ty = Ty::String;
            }
        }
    }
    v.into_iter().map(|e| (e.name.to_ascii_lowercase(), e)).collect()
}
