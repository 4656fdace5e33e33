//! The production notifier: e-mail through Amazon SES v2 (`SendEmail` with a
//! raw MIME message, so reports can carry CSV attachments) and Teams through
//! an incoming-webhook / Workflows URL.

use async_trait::async_trait;
use atpilot_agent::PortError;
use atpilot_agent::adapters::notify::{Email, Notifier, TeamsMessage, mime_message};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

pub struct SesTeamsNotifier {
    ses: aws_sdk_sesv2::Client,
    from: Option<String>,
    configuration_set: Option<String>,
    teams_url: Option<String>,
    http: reqwest::Client,
}

impl SesTeamsNotifier {
    pub fn new(
        ses: aws_sdk_sesv2::Client,
        from: Option<String>,
        configuration_set: Option<String>,
        teams_url: Option<String>,
    ) -> Self {
        let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap_or_default();
        Self { ses, from, configuration_set, teams_url: teams_url.filter(|u| !u.trim().is_empty()), http }
    }
}

#[async_trait]
impl Notifier for SesTeamsNotifier {
    async fn send_email(&self, e: &Email) -> Result<String, PortError> {
        let from = self
            .from
            .as_deref()
            .ok_or_else(|| PortError::Permanent("notifications.email_from is not set: no sender for e-mail".into()))?;
        if e.to.is_empty() {
            return Err(PortError::Permanent("an e-mail needs at least one recipient".into()));
        }
        let raw = mime_message(from, e, &uuid::Uuid::new_v4().simple().to_string());
        let raw =
            RawMessage::builder().data(Blob::new(raw)).build().map_err(|err| PortError::Permanent(err.to_string()))?;
        let out = self
            .ses
            .send_email()
            .from_email_address(from)
            .destination(Destination::builder().set_to_addresses(Some(e.to.clone())).build())
            .content(EmailContent::builder().raw(raw).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await
            .map_err(|err| {
                let text = format!("SES SendEmail: {}", aws_sdk_sesv2::error::DisplayErrorContext(&err));
                if err.as_service_error().is_some() { PortError::Permanent(text) } else { PortError::Transient(text) }
            })?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }

    async fn post_teams(&self, m: &TeamsMessage) -> Result<(), PortError> {
        let url = self.teams_url.as_deref().ok_or_else(|| {
            PortError::Permanent("no Teams webhook URL is configured (TEAMS_WEBHOOK_SECRET_ARN)".into())
        })?;
        let resp = self
            .http
            .post(url)
            .json(&m.webhook_body())
            .send()
            .await
            .map_err(|e| PortError::Transient(format!("Teams webhook: {e}")))?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else {
            let body = resp.text().await.unwrap_or_default();
            let msg = format!("Teams webhook answered {status}: {}", body.chars().take(300).collect::<String>());
            if status.as_u16() == 429 || status.is_server_error() {
                Err(PortError::Transient(msg))
            } else {
                Err(PortError::Permanent(msg))
            }
        }
    }
}
