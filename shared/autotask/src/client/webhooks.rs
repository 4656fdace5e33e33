//! Webhooks: registering a ticket webhook with its subscribed and
//! display-always fields and its excluded resources.

use super::Client;
use crate::error::{Error, Result};
use std::fmt;

impl Client {
    /// Registers a ticket webhook: create it, add fields one at a time (parallel
    /// field POSTs trip the thread limit), add excluded resources. Field names
    /// are resolved through the `fieldID` picklist of `TicketWebhookFields`.
    pub async fn register_ticket_webhook(&self, reg: &TicketWebhookRegistration) -> Result<i64> {
        use crate::entities::{TicketWebhook, TicketWebhookExcludedResource, TicketWebhookField};
        let ids = self.picklist("TicketWebhookFields", "fieldID").await?;
        let resolve = |name: &str| -> Result<i64> {
            ids.values
                .iter()
                .find(|p| p.label.eq_ignore_ascii_case(name))
                .and_then(|p| p.value.parse().ok())
                .ok_or_else(|| Error::Config(format!("ticket field {name} cannot be used in a webhook")))
        };
        let mut fields = vec![];
        for f in &reg.subscribed_fields {
            fields.push((resolve(f)?, true, reg.display_always_fields.iter().any(|d| d.eq_ignore_ascii_case(f))));
        }
        for f in &reg.display_always_fields {
            if !reg.subscribed_fields.iter().any(|s| s.eq_ignore_ascii_case(f)) {
                fields.push((resolve(f)?, false, true));
            }
        }
        if !fields.iter().any(|f| f.1) {
            return Err(Error::Config("a webhook needs at least one subscribed field".into()));
        }
        let hook = TicketWebhook {
            name: Some(reg.name.clone()),
            webhook_url: Some(reg.webhook_url.clone()),
            deactivation_url: Some(reg.deactivation_url.clone()),
            secret_key: Some(reg.secret_key.clone()),
            notification_email_address: reg.notification_email_address.clone(),
            is_active: Some(true),
            is_subscribed_to_create_events: Some(reg.on_create),
            is_subscribed_to_update_events: Some(reg.on_update),
            is_subscribed_to_delete_events: Some(false),
            send_threshold_exceeded_notification: Some(true),
            ..Default::default()
        };
        let id = self.create(&hook).await?;
        for (field_id, sub, always) in fields {
            let f = TicketWebhookField {
                field_id: Some(field_id),
                is_subscribed_field: Some(sub),
                is_display_always_field: Some(always),
                ..Default::default()
            };
            self.create_child(id, &f).await?;
        }
        for r in &reg.excluded_resources {
            self.create_child(id, &TicketWebhookExcludedResource { resource_id: Some(*r), ..Default::default() })
                .await?;
        }
        Ok(id)
    }
}

/// What [`Client::register_ticket_webhook`] needs.
#[derive(Clone)]
pub struct TicketWebhookRegistration {
    pub name: String,
    pub webhook_url: String,
    pub deactivation_url: String,
    pub secret_key: String,
    pub notification_email_address: Option<String>,
    pub on_create: bool,
    pub on_update: bool,
    pub subscribed_fields: Vec<String>,
    pub display_always_fields: Vec<String>,
    /// E.g. the agent's own resource (loop guard at the source).
    pub excluded_resources: Vec<i64>,
}

impl fmt::Debug for TicketWebhookRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TicketWebhookRegistration")
            .field("name", &self.name)
            .field("webhook_url", &self.webhook_url)
            .field("secret_key", &"<redacted>")
            .field("subscribed_fields", &self.subscribed_fields)
            .field("excluded_resources", &self.excluded_resources)
            .finish()
    }
}
