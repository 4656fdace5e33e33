//! The production notifier: e-mail through Amazon SES v2 (`SendEmail` with a
//! raw MIME message, so reports can carry CSV attachments) and Teams through
//! an incoming-webhook / Workflows URL.

use async_trait::async_trait;
use atpilot_agent::PortError;
use atpilot_agent::adapters::notify::{Email, Notifier, TeamsMessage, mime_message};
use aws_sdk_sesv2::error::ProvideErrorMetadata;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};

/// What to do when a Teams URL refuses a message (4xx): Workflows flows are
/// turned off, deleted or re-created with a new URL; Office 365 connector
/// URLs were retired.
const TEAMS_FIX: &str = "Fix: open the Workflows app in Teams (or Power Automate), check that the flow that posts to the approvals channel is on, copy its current HTTP POST URL (a *.logic.azure.com or *.powerplatform.com address) into the Teams webhook secret (TEAMS_WEBHOOK_SECRET_ARN)";

/// An SES v2 `SendEmail` error as a port error, by its code: throttling and
/// other passing conditions are transient (the SDK already retried them with
/// backoff; the queue tries again later), refusals that need the operator
/// are permanent and say what to do. Codes: the SES v2 API reference,
/// `SendEmail` errors. `None`: no service answer (timeout, connection).
pub fn ses_error(code: Option<&str>, text: String, from: &str) -> PortError {
    let fix = match code {
        None | Some("TooManyRequestsException" | "LimitExceededException" | "InternalFailure" | "ServiceUnavailable") => {
            return PortError::Transient(text);
        }
        Some("MessageRejected") => format!(
            "SES refused the message: verify the sender {from} in SES (Verified identities); while the account is in the SES sandbox every recipient must be verified too, or request production access"
        ),
        Some("MailFromDomainNotVerifiedException") => {
            format!("the custom MAIL FROM domain of {from} is not verified: fix its MX and SPF records in DNS")
        }
        Some("SendingPausedException") => {
            "sending is paused for this account or configuration set: see the SES reputation dashboard, then resume sending".into()
        }
        Some("AccountSuspendedException") => {
            "the SES account is suspended from sending: open a case with AWS Support".into()
        }
        Some("NotFoundException") => {
            "the configuration set named by SES_CONFIGURATION_SET (the SesConfigurationSet parameter) does not exist in this region".into()
        }
        Some(_) => "check the message and the sender's SES settings".into(),
    };
    PortError::Permanent(format!("{text}. Fix: {fix}"))
}

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
        let raw = mime_message(from, e)?;
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
                let code = err.as_service_error().map(|e| e.code().unwrap_or("unknown"));
                ses_error(code, text, from)
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
                Err(PortError::Permanent(format!("{msg}. {TEAMS_FIX}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ses_errors_are_retried_or_told_with_their_fix() {
        let kind = |code: Option<&str>| match ses_error(code, "SES SendEmail: x".into(), "atpilot@msp.example") {
            PortError::Transient(_) => "retry".to_string(),
            PortError::Permanent(m) => m,
            other => panic!("{other:?}"),
        };
        for code in [None, Some("TooManyRequestsException"), Some("LimitExceededException")] {
            assert_eq!(kind(code), "retry", "{code:?}");
        }
        assert!(kind(Some("MessageRejected")).contains("verify the sender atpilot@msp.example"));
        assert!(kind(Some("SendingPausedException")).contains("resume sending"));
        assert!(kind(Some("AccountSuspendedException")).contains("AWS Support"));
        assert!(kind(Some("SomethingNew")).starts_with("SES SendEmail: x. Fix: "));
    }
}
