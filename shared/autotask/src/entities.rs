//! Typed entities (the wire is camelCase; ids are spelled `ID` as Autotask does).
//! Each entity has a read/create struct (every field optional: unknown fields
//! are ignored, missing ones are None) and a `…Patch` struct of three-state
//! [`Opt`] fields, so a PATCH sends only what it means to change.
//! Date-times stay strings (Autotask's formats vary); see [`parse_datetime`].

use crate::opt::Opt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A user-defined field, read and written as `{"name": ..., "value": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Udf {
    pub name: String,
    #[serde(default)]
    pub value: Value,
}

impl Udf {
    pub fn new(name: impl Into<String>, value: impl Into<Value>) -> Self {
        Self { name: name.into(), value: value.into() }
    }
}

/// Finds a UDF by name (case-insensitive).
pub fn udf<'a>(udfs: &'a [Udf], name: &str) -> Option<&'a Value> {
    udfs.iter().find(|u| u.name.eq_ignore_ascii_case(name)).map(|u| &u.value).filter(|v| !v.is_null())
}

/// Parses Autotask date-times (RFC 3339, or without an offset = UTC).
pub fn parse_datetime(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|d| d.and_utc())
}

/// A REST entity: its collection path, its wire field names and, for entities
/// written through a parent, the parent's collection and the child segment.
pub trait Entity: serde::de::DeserializeOwned + Serialize + Send + 'static {
    /// Collection path under `/V1.0/` (e.g. `Tickets`).
    const PATH: &'static str;
    /// Wire field names this client reads and writes.
    const FIELDS: &'static [&'static str];
    /// `(parent collection, child segment)`, e.g. `("Tickets", "Notes")`.
    const PARENT: Option<(&'static str, &'static str)>;
    type Patch: Serialize + Send + Sync;
    fn id(&self) -> Option<i64>;
}

macro_rules! entity {
    ($(#[$m:meta])* $name:ident / $patch:ident = $path:literal, parent $parent:expr, { $($field:ident : $ty:ty = $wire:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            #[serde(rename = "id", default, skip_serializing_if = "Option::is_none")]
            pub id: Option<i64>,
            $( #[serde(rename = $wire, default, skip_serializing_if = "Option::is_none")] pub $field: Option<$ty>, )*
            #[serde(rename = "userDefinedFields", default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_empty")]
            pub user_defined_fields: Vec<Udf>,
        }

        #[doc = concat!("A PATCH body for ", stringify!($name), ": only set fields are sent; `Opt::Null` clears a field.")]
        #[derive(Debug, Clone, Default, PartialEq, Serialize)]
        pub struct $patch {
            #[serde(rename = "id")]
            pub id: i64,
            $( #[serde(rename = $wire, skip_serializing_if = "Opt::is_unset")] pub $field: Opt<$ty>, )*
            #[serde(rename = "userDefinedFields", skip_serializing_if = "Vec::is_empty")]
            pub user_defined_fields: Vec<Udf>,
        }

        impl $patch {
            pub fn new(id: i64) -> Self {
                Self { id, ..Default::default() }
            }
        }

        impl Entity for $name {
            const PATH: &'static str = $path;
            const FIELDS: &'static [&'static str] = &["id", $($wire,)* "userDefinedFields"];
            const PARENT: Option<(&'static str, &'static str)> = $parent;
            type Patch = $patch;
            fn id(&self) -> Option<i64> {
                self.id
            }
        }
    };
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Udf>, D::Error> {
    Ok(Option::<Vec<Udf>>::deserialize(d)?.unwrap_or_default())
}

entity!(
    /// A ticket (`TicketModel`).
    Ticket / TicketPatch = "Tickets", parent None, {
    ticket_number: String = "ticketNumber", title: String = "title", description: String = "description",
    status: i64 = "status", priority: i64 = "priority", queue_id: i64 = "queueID", issue_type: i64 = "issueType",
    sub_issue_type: i64 = "subIssueType", ticket_category: i64 = "ticketCategory", ticket_type: i64 = "ticketType",
    source: i64 = "source", company_id: i64 = "companyID", company_location_id: i64 = "companyLocationID",
    contact_id: i64 = "contactID", contract_id: i64 = "contractID", contract_service_id: i64 = "contractServiceID",
    service_level_agreement_id: i64 = "serviceLevelAgreementID", assigned_resource_id: i64 = "assignedResourceID",
    assigned_resource_role_id: i64 = "assignedResourceRoleID", billing_code_id: i64 = "billingCodeID",
    project_id: i64 = "projectID", configuration_item_id: i64 = "configurationItemID", create_date: String = "createDate",
    creator_resource_id: i64 = "creatorResourceID", creator_type: i64 = "creatorType",
    last_activity_date: String = "lastActivityDate", last_activity_resource_id: i64 = "lastActivityResourceID", last_tracked_modification_date_time: String = "lastTrackedModificationDateTime",
    last_activity_person_type: i64 = "lastActivityPersonType",
    last_customer_visible_activity_date_time: String = "lastCustomerVisibleActivityDateTime",
    due_date_time: String = "dueDateTime", first_response_date_time: String = "firstResponseDateTime",
    resolved_date_time: String = "resolvedDateTime", completed_date: String = "completedDate",
    completed_by_resource_id: i64 = "completedByResourceID", resolution: String = "resolution", estimated_hours: f64 = "estimatedHours",
    external_id: String = "externalID", impersonator_creator_resource_id: i64 = "impersonatorCreatorResourceID",
});

entity!(
    /// A ticket note (`TicketNoteModel`); created through `Tickets/{id}/Notes`.
    TicketNote / TicketNotePatch = "TicketNotes", parent Some(("Tickets", "Notes")), {
    ticket_id: i64 = "ticketID", title: String = "title", description: String = "description", note_type: i64 = "noteType",
    publish: i64 = "publish", create_date_time: String = "createDateTime", last_activity_date: String = "lastActivityDate",
    creator_resource_id: i64 = "creatorResourceID", impersonator_creator_resource_id: i64 = "impersonatorCreatorResourceID",
});

entity!(
    /// A time entry (`TimeEntryModel`); created at `POST /TimeEntries` only.
    TimeEntry / TimeEntryPatch = "TimeEntries", parent None, {
    ticket_id: i64 = "ticketID", task_id: i64 = "taskID", resource_id: i64 = "resourceID", role_id: i64 = "roleID",
    billing_code_id: i64 = "billingCodeID", contract_id: i64 = "contractID", contract_service_id: i64 = "contractServiceID",
    date_worked: String = "dateWorked", start_date_time: String = "startDateTime", end_date_time: String = "endDateTime",
    hours_worked: f64 = "hoursWorked", hours_to_bill: f64 = "hoursToBill", offset_hours: f64 = "offsetHours",
    summary_notes: String = "summaryNotes", internal_notes: String = "internalNotes", is_non_billable: bool = "isNonBillable",
    show_on_invoice: bool = "showOnInvoice", time_entry_type: i64 = "timeEntryType", create_date_time: String = "createDateTime",
    creator_user_id: i64 = "creatorUserID", last_modified_date_time: String = "lastModifiedDateTime",
    billing_approval_date_time: String = "billingApprovalDateTime",
});

entity!(
    /// A contract (`ContractModel`).
    Contract / ContractPatch = "Contracts", parent None, {
    contract_name: String = "contractName", contract_number: String = "contractNumber", contract_type: i64 = "contractType",
    contract_category: i64 = "contractCategory", status: i64 = "status", company_id: i64 = "companyID", contact_id: i64 = "contactID",
    is_default_contract: bool = "isDefaultContract", start_date: String = "startDate", end_date: String = "endDate",
    service_level_agreement_id: i64 = "serviceLevelAgreementID", overage_billing_rate: f64 = "overageBillingRate",
    estimated_hours: f64 = "estimatedHours", description: String = "description",
});

entity!(
    /// A block of hours on a Block Hours contract (`ContractBlockModel`).
    ContractBlock / ContractBlockPatch = "ContractBlocks", parent Some(("Contracts", "Blocks")), {
    contract_id: i64 = "contractID", date_purchased: String = "datePurchased", start_date: String = "startDate",
    end_date: String = "endDate", hours: f64 = "hours", hours_approved: f64 = "hoursApproved", hourly_rate: f64 = "hourlyRate",
    is_paid: bool = "isPaid", status: i64 = "status",
});

entity!(
    /// A per-role block hour factor (`ContractBlockHourFactorModel`).
    ContractBlockHourFactor / ContractBlockHourFactorPatch = "ContractBlockHourFactors", parent Some(("Contracts", "BlockHourFactors")), {
    contract_id: i64 = "contractID", role_id: i64 = "roleID", block_hour_multiplier: f64 = "blockHourMultiplier",
});

entity!(
    /// Tickets purchased on a Per Ticket contract (`ContractTicketPurchaseModel`).
    ContractTicketPurchase / ContractTicketPurchasePatch = "ContractTicketPurchases", parent Some(("Contracts", "TicketPurchases")), {
    contract_id: i64 = "contractID", date_purchased: String = "datePurchased", start_date: String = "startDate",
    end_date: String = "endDate", tickets_purchased: f64 = "ticketsPurchased", tickets_used: f64 = "ticketsUsed",
    per_ticket_rate: f64 = "perTicketRate", is_paid: bool = "isPaid", status: i64 = "status",
});

entity!(
    /// A service on a contract (`ContractServiceModel`).
    ContractService / ContractServicePatch = "ContractServices", parent Some(("Contracts", "Services")), {
    contract_id: i64 = "contractID", service_id: i64 = "serviceID", unit_price: f64 = "unitPrice", unit_cost: f64 = "unitCost",
    invoice_description: String = "invoiceDescription",
});

entity!(
    /// A service (`ServiceModel`).
    Service / ServicePatch = "Services", parent None, {
    name: String = "name", description: String = "description", is_active: bool = "isActive", unit_price: f64 = "unitPrice",
    unit_cost: f64 = "unitCost", period_type: i64 = "periodType", billing_code_id: i64 = "billingCodeID",
});

entity!(
    /// A company (`CompanyModel`). Company 0 is the MSP itself.
    Company / CompanyPatch = "Companies", parent None, {
    company_name: String = "companyName", company_number: String = "companyNumber", company_type: i64 = "companyType",
    is_active: bool = "isActive", owner_resource_id: i64 = "ownerResourceID", parent_company_id: i64 = "parentCompanyID",
    phone: String = "phone", city: String = "city", web_address: String = "webAddress", create_date: String = "createDate",
    last_activity_date: String = "lastActivityDate",
});

entity!(
    /// A contact (`ContactModel`); `isActive` is an integer (0/1). Written through `Companies/{id}/Contacts`.
    Contact / ContactPatch = "Contacts", parent Some(("Companies", "Contacts")), {
    company_id: i64 = "companyID", first_name: String = "firstName", last_name: String = "lastName",
    email_address: String = "emailAddress", is_active: i64 = "isActive", primary_contact: bool = "primaryContact",
    phone: String = "phone", title: String = "title",
});

entity!(
    /// A resource (user) (`ResourceModel`). Update only.
    Resource / ResourcePatch = "Resources", parent None, {
    first_name: String = "firstName", last_name: String = "lastName", email: String = "email", user_name: String = "userName",
    is_active: bool = "isActive", resource_type: String = "resourceType", license_type: i64 = "licenseType",
    default_service_desk_role_id: i64 = "defaultServiceDeskRoleID", title: String = "title",
    location_id: i64 = "locationID",
});

entity!(
    /// One of the MSP's own offices (`InternalLocationModel`). Read-only here.
    /// `timeZone` is Autotask's display name of a zone, e.g.
    /// "(GMT-05:00) Eastern Time (US & Canada)", not an IANA id.
    InternalLocation / InternalLocationPatch = "InternalLocations", parent None, {
    name: String = "name", is_default: bool = "isDefault", time_zone: String = "timeZone",
});

entity!(
    /// A role (`RoleModel`).
    Role / RolePatch = "Roles", parent None, {
    name: String = "name", description: String = "description", hourly_rate: f64 = "hourlyRate", hourly_factor: f64 = "hourlyFactor",
    is_active: bool = "isActive", is_system_role: bool = "isSystemRole", role_type: i64 = "roleType",
});

entity!(
    /// A resource's role, with its queue (`ResourceRoleModel`); read via `Resources/{id}/Roles`.
    ResourceRole / ResourceRolePatch = "ResourceRoles", parent Some(("Resources", "Roles")), {
    resource_id: i64 = "resourceID", role_id: i64 = "roleID", queue_id: i64 = "queueID", is_active: bool = "isActive",
});

entity!(
    /// A billing code / work type (`BillingCodeModel`). Read-only.
    BillingCode / BillingCodePatch = "BillingCodes", parent None, {
    name: String = "name", description: String = "description", billing_code_type: i64 = "billingCodeType",
    use_type: i64 = "useType", is_active: bool = "isActive", unit_price: f64 = "unitPrice",
});

entity!(
    /// A ticket history row (`TicketHistoryModel`); query with a single `ticketID eq` filter.
    TicketHistory / TicketHistoryPatch = "TicketHistory", parent None, {
    ticket_id: i64 = "ticketID", action: String = "action", date: String = "date", detail: String = "detail", resource_id: i64 = "resourceID",
});

entity!(
    /// SLA results of a ticket (`ServiceLevelAgreementResultsModel`).
    ServiceLevelAgreementResult / ServiceLevelAgreementResultPatch = "ServiceLevelAgreementResults", parent None, {
    ticket_id: i64 = "ticketID", service_level_agreement_name: String = "serviceLevelAgreementName",
    first_response_elapsed_hours: f64 = "firstResponseElapsedHours", is_first_response_met: bool = "isFirstResponseMet",
    resolution_elapsed_hours: f64 = "resolutionElapsedHours", is_resolution_met: bool = "isResolutionMet",
});

entity!(
    /// A survey (`SurveyModel`).
    Survey / SurveyPatch = "Surveys", parent None, {
    name: String = "name", display_name: String = "displayName", description: String = "description",
});

entity!(
    /// A survey result, i.e. CSAT (`SurveyResultsModel`).
    SurveyResult / SurveyResultPatch = "SurveyResults", parent None, {
    survey_id: i64 = "surveyID", ticket_id: i64 = "ticketID", company_id: i64 = "companyID", contact_id: i64 = "contactID",
    send_date: String = "sendDate", complete_date: String = "completeDate", survey_rating: f64 = "surveyRating",
    company_rating: f64 = "companyRating", contact_rating: f64 = "contactRating", resource_rating: f64 = "resourceRating",
});

entity!(
    /// A ticket webhook (`TicketWebhookModel`, current API).
    TicketWebhook / TicketWebhookPatch = "TicketWebhooks", parent None, {
    name: String = "name", webhook_url: String = "webhookUrl", deactivation_url: String = "deactivationUrl",
    secret_key: String = "secretKey", notification_email_address: String = "notificationEmailAddress", is_active: bool = "isActive",
    is_ready: bool = "isReady", is_subscribed_to_create_events: bool = "isSubscribedToCreateEvents",
    is_subscribed_to_update_events: bool = "isSubscribedToUpdateEvents", is_subscribed_to_delete_events: bool = "isSubscribedToDeleteEvents",
    send_threshold_exceeded_notification: bool = "sendThresholdExceededNotification", owner_resource_id: i64 = "ownerResourceID",
    webhook_guid: String = "webhookGUID",
});

entity!(
    /// A field of a ticket webhook (`TicketWebhookFieldModel`).
    TicketWebhookField / TicketWebhookFieldPatch = "TicketWebhookFields", parent Some(("TicketWebhooks", "Fields")), {
    webhook_id: i64 = "webhookID", field_id: i64 = "fieldID", is_display_always_field: bool = "isDisplayAlwaysField",
    is_subscribed_field: bool = "isSubscribedField",
});

entity!(
    /// A resource whose changes a ticket webhook ignores (`TicketWebhookExcludedResourceModel`).
    TicketWebhookExcludedResource / TicketWebhookExcludedResourcePatch = "TicketWebhookExcludedResources", parent Some(("TicketWebhooks", "ExcludedResources")), {
    webhook_id: i64 = "webhookID", resource_id: i64 = "resourceID",
});

/// `GET /V1.0/ThresholdInformation` (`ThresholdStatusResultModel`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThresholdInformation {
    #[serde(default, alias = "ExternalRequestThreshold")]
    pub external_request_threshold: u32,
    #[serde(default, alias = "RequestThresholdTimeframe")]
    pub request_threshold_timeframe: u32,
    #[serde(default, alias = "CurrentTimeframeRequestCount")]
    pub current_timeframe_request_count: u32,
}

/// `GET /V1.0/zoneInformation?user=` (`ZoneInformationResultModel`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneInformation {
    #[serde(default, alias = "ZoneName")]
    pub zone_name: Option<String>,
    #[serde(alias = "URL", alias = "Url")]
    pub url: String,
    #[serde(default, alias = "WebUrl")]
    pub web_url: Option<String>,
    #[serde(default, alias = "CI")]
    pub ci: Option<i64>,
}

/// `GET /{Entity}/entityInformation`'s `info`: what the entity allows and
/// what the API user's security level may do with it (`userAccessFor*`:
/// "All", "None", or a scope such as "Mine"; reference §2 Metadata).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EntityInformation {
    pub name: String,
    pub can_create: bool,
    pub can_update: bool,
    pub can_query: bool,
    pub can_delete: bool,
    pub user_access_for_create: Option<String>,
    pub user_access_for_update: Option<String>,
    pub user_access_for_query: Option<String>,
    pub user_access_for_delete: Option<String>,
}

impl EntityInformation {
    /// Whether the API user may create (`"create"`) or update (`"update"`)
    /// rows: the entity allows it and the access is not "None" (a missing
    /// access value is read as allowed: older tenants omit it).
    pub fn allows(&self, right: &str) -> bool {
        let (can, access) = match right {
            "create" => (self.can_create, &self.user_access_for_create),
            "update" => (self.can_update, &self.user_access_for_update),
            "delete" => (self.can_delete, &self.user_access_for_delete),
            _ => (self.can_query, &self.user_access_for_query),
        };
        can && !access.as_deref().is_some_and(|a| a.eq_ignore_ascii_case("none"))
    }
}

/// One field from `entityInformation/fields`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldInfo {
    pub name: String,
    pub data_type: Option<String>,
    pub is_required: bool,
    pub is_read_only: bool,
    pub is_queryable: bool,
    pub is_reference: bool,
    pub reference_entity_type: Option<String>,
    pub is_pick_list: bool,
    #[serde(deserialize_with = "null_as_empty_pl")]
    pub picklist_values: Vec<PicklistValue>,
    pub picklist_parent_value_field: Option<String>,
    pub is_supported_webhook_field: bool,
}

fn null_as_empty_pl<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PicklistValue>, D::Error> {
    Ok(Option::<Vec<PicklistValue>>::deserialize(d)?.unwrap_or_default())
}

/// A picklist entry. `value` is a string on the wire even for numeric picklists.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PicklistValue {
    #[serde(deserialize_with = "string_or_number")]
    pub value: String,
    pub label: String,
    pub is_default_value: bool,
    pub sort_order: i64,
    #[serde(deserialize_with = "opt_string_or_number")]
    pub parent_value: Option<String>,
    pub is_active: bool,
    pub is_system: bool,
}

fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

fn opt_string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s),
        Value::Null => None,
        other => Some(other.to_string()),
    })
}
