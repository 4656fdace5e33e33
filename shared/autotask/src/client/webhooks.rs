//! Webhooks: registering a ticket webhook with its subscribed and
//! display-always fields and its excluded resources, and bringing an
//! existing one back to that shape.

use super::Client;
use super::metadata::Picklist;
use crate::entities::{TicketWebhook, TicketWebhookExcludedResource, TicketWebhookField, TicketWebhookPatch};
use crate::error::{Error, Result};
use crate::{Filter, Opt, Query};
use std::fmt;

impl Client {
    /// Registers a ticket webhook: create it, add fields one at a time (parallel
    /// field POSTs trip the thread limit), add excluded resources. Field names
    /// are resolved through the `fieldID` picklist of `TicketWebhookFields`.
    pub async fn register_ticket_webhook(&self, reg: &TicketWebhookRegistration) -> Result<i64> {
        let fields = reg.wanted_fields(&self.picklist("TicketWebhookFields", "fieldID").await?)?;
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
            self.create_child(id, &field_row(field_id, sub, always)).await?;
        }
        for r in &reg.excluded_resources {
            self.create_child(id, &TicketWebhookExcludedResource { resource_id: Some(*r), ..Default::default() })
                .await?;
        }
        Ok(id)
    }

    /// Brings the existing webhook `current` to `reg`: its settings (one
    /// PATCH: name, URLs, secret, active, Create/Update subscriptions), its
    /// fields and its excluded resources (missing rows added, extra or
    /// different ones deleted, after the missing ones are added; a field whose
    /// flags differ is replaced). Each change is pushed on `changes` as it is
    /// made (so a failure still says what was done); the secret is always set.
    pub async fn sync_ticket_webhook(
        &self,
        current: &TicketWebhook,
        reg: &TicketWebhookRegistration,
        changes: &mut Vec<String>,
    ) -> Result<()> {
        let id = current.id.ok_or_else(|| Error::Config("a webhook without an id cannot be updated".into()))?;
        let wanted = reg.wanted_fields(&self.picklist("TicketWebhookFields", "fieldID").await?)?;
        let mut p = TicketWebhookPatch::new(id);
        p.name = Opt::Value(reg.name.clone());
        p.webhook_url = Opt::Value(reg.webhook_url.clone());
        p.deactivation_url = Opt::Value(reg.deactivation_url.clone());
        p.secret_key = Opt::Value(reg.secret_key.clone());
        p.is_active = Opt::Value(true);
        p.is_subscribed_to_create_events = Opt::Value(reg.on_create);
        p.is_subscribed_to_update_events = Opt::Value(reg.on_update);
        self.patch::<TicketWebhook>(&p).await?;
        changes.extend(settings_changes(current, reg));
        let by_hook = |q: Query| q.filter(Filter::eq("webhookID", id));
        let have: Vec<TicketWebhookField> = self.query(by_hook(Query::new())).await?;
        for &(field_id, sub, always) in &wanted {
            let kept = have.iter().any(|f| {
                f.field_id == Some(field_id)
                    && (f.is_subscribed_field == Some(true)) == sub
                    && (f.is_display_always_field == Some(true)) == always
            });
            if !kept {
                self.create_child(id, &field_row(field_id, sub, always)).await?;
                changes.push(format!("added field {field_id} (subscribed {sub}, always shown {always})"));
            }
        }
        for f in &have {
            let flags = (
                f.field_id.unwrap_or_default(),
                f.is_subscribed_field == Some(true),
                f.is_display_always_field == Some(true),
            );
            if !wanted.contains(&flags) {
                self.delete_child::<TicketWebhookField>(id, f.id.unwrap_or_default()).await?;
                changes.push(format!("removed field {} (subscribed {}, always shown {})", flags.0, flags.1, flags.2));
            }
        }
        let excluded: Vec<TicketWebhookExcludedResource> = self.query(by_hook(Query::new())).await?;
        for e in &excluded {
            if !e.resource_id.is_some_and(|r| reg.excluded_resources.contains(&r)) {
                self.delete_child::<TicketWebhookExcludedResource>(id, e.id.unwrap_or_default()).await?;
                changes.push(format!("stopped excluding resource {}", e.resource_id.unwrap_or_default()));
            }
        }
        for r in &reg.excluded_resources {
            if !excluded.iter().any(|e| e.resource_id == Some(*r)) {
                self.create_child(id, &TicketWebhookExcludedResource { resource_id: Some(*r), ..Default::default() })
                    .await?;
                changes.push(format!("excluded resource {r} (its changes do not call atpilot)"));
            }
        }
        Ok(())
    }
}

/// A webhook field row: the ticket field `field_id`, subscribed and/or always shown.
fn field_row(field_id: i64, subscribed: bool, always: bool) -> TicketWebhookField {
    TicketWebhookField {
        field_id: Some(field_id),
        is_subscribed_field: Some(subscribed),
        is_display_always_field: Some(always),
        ..Default::default()
    }
}

/// The settings of `current` that differ from `reg`, as sentences.
fn settings_changes(current: &TicketWebhook, reg: &TicketWebhookRegistration) -> Vec<String> {
    let mut out = vec!["secret key set to the configured one".to_string()];
    let mut text = |what: &str, have: &Option<String>, want: &str| {
        if have.as_deref() != Some(want) {
            out.push(format!("{what} {:?} -> {want:?}", have.as_deref().unwrap_or("")));
        }
    };
    text("name", &current.name, &reg.name);
    text("webhookUrl", &current.webhook_url, &reg.webhook_url);
    text("deactivationUrl", &current.deactivation_url, &reg.deactivation_url);
    for (what, have, want) in [
        ("isActive", current.is_active, true),
        ("isSubscribedToCreateEvents", current.is_subscribed_to_create_events, reg.on_create),
        ("isSubscribedToUpdateEvents", current.is_subscribed_to_update_events, reg.on_update),
    ] {
        if have != Some(want) {
            out.push(format!("{what} {} -> {want}", have.map_or("unset".into(), |h| h.to_string())));
        }
    }
    out
}

impl TicketWebhookRegistration {
    /// (fieldID, subscribed, always shown) of every wanted field, the names
    /// resolved through the `fieldID` picklist of `TicketWebhookFields`.
    fn wanted_fields(&self, ids: &Picklist) -> Result<Vec<(i64, bool, bool)>> {
        let resolve = |name: &str| -> Result<i64> {
            ids.values
                .iter()
                .find(|p| p.label.eq_ignore_ascii_case(name))
                .and_then(|p| p.value.parse().ok())
                .ok_or_else(|| Error::Config(format!("ticket field {name} cannot be used in a webhook")))
        };
        let mut fields = vec![];
        for f in &self.subscribed_fields {
            fields.push((resolve(f)?, true, self.display_always_fields.iter().any(|d| d.eq_ignore_ascii_case(f))));
        }
        for f in &self.display_always_fields {
            if !self.subscribed_fields.iter().any(|s| s.eq_ignore_ascii_case(f)) {
                fields.push((resolve(f)?, false, true));
            }
        }
        if !fields.iter().any(|f| f.1) {
            return Err(Error::Config("a webhook needs at least one subscribed field".into()));
        }
        Ok(fields)
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
