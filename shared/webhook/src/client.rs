//! POSTing a job and reading the receiver's answer.

use crate::signature::{SIGNATURE_HEADER, Signer, TIMESTAMP_HEADER};
use crate::{Job, fields, plain};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a receiver may take to answer a job.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The receiver's answer to a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Done and read back by the receiver.
    Done { before: BTreeMap<String, String>, after: BTreeMap<String, String> },
    /// Nothing changed, and why.
    Refused { reason: String },
    /// It will POST a signed callback with the result.
    Accepted,
}

/// Why a job has no usable answer (the receiver may or may not have acted).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook could not be reached: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("the webhook answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the webhook's answer is not the documented contract ({0})")]
    Contract(String),
}

#[derive(Deserialize)]
struct RawAnswer {
    status: String,
    #[serde(default)]
    before: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    after: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    reason: Option<String>,
}

/// Reads an answer: `status` and body as received.
pub fn parse_answer(status: u16, body: &[u8]) -> Result<Answer, WebhookError> {
    if !(200..300).contains(&status) {
        return Err(WebhookError::Status { status, body: plain(&String::from_utf8_lossy(body)) });
    }
    let raw: RawAnswer = serde_json::from_slice(body).map_err(|e| WebhookError::Contract(e.to_string()))?;
    match (status, raw.status.as_str()) {
        (200, "done") => Ok(Answer::Done { before: fields(&raw.before), after: fields(&raw.after) }),
        (200, "refused") => Ok(Answer::Refused { reason: plain(raw.reason.as_deref().unwrap_or("no reason given")) }),
        (202, "accepted") => Ok(Answer::Accepted),
        (s, other) => Err(WebhookError::Contract(format!("HTTP {s} with status {:?}", plain(other)))),
    }
}

/// One configured webhook.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    url: url::Url,
    signer: Signer,
}

impl WebhookClient {
    pub fn new(http: reqwest::Client, url: url::Url, signer: Signer) -> Self {
        WebhookClient { http, url, signer }
    }

    pub fn signer(&self) -> &Signer {
        &self.signer
    }

    /// POSTs the job, signed at `now` (unix seconds), and reads the answer.
    pub async fn send(&self, job: &Job, now: i64) -> Result<Answer, WebhookError> {
        let body = serde_json::to_vec(job).map_err(|e| WebhookError::Contract(e.to_string()))?;
        let r = self
            .http
            .post(self.url.clone())
            .timeout(TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, now.to_string())
            .header(SIGNATURE_HEADER, self.signer.sign(now, &body))
            .header("Idempotency-Key", &job.action_id)
            .body(body)
            .send()
            .await
            .map_err(WebhookError::Unreachable)?;
        let status = r.status().as_u16();
        let bytes = r.bytes().await.map_err(WebhookError::Unreachable)?;
        parse_answer(status, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_follow_the_contract() {
        let done = parse_answer(200, br#"{"status":"done","before":{"enabled":false},"after":{"enabled":true}}"#);
        let Answer::Done { before, after } = done.unwrap() else { panic!("done") };
        assert_eq!((before["enabled"].as_str(), after["enabled"].as_str()), ("false", "true"));
        assert_eq!(
            parse_answer(200, br#"{"status":"refused","reason":"no such\nuser"}"#).unwrap(),
            Answer::Refused { reason: "no such user".into() }
        );
        assert_eq!(parse_answer(202, br#"{"status":"accepted"}"#).unwrap(), Answer::Accepted);
        assert!(matches!(parse_answer(200, br#"{"status":"accepted"}"#), Err(WebhookError::Contract(_))));
        assert!(matches!(parse_answer(500, b"boom"), Err(WebhookError::Status { status: 500, .. })));
        assert!(matches!(parse_answer(200, b"<html>"), Err(WebhookError::Contract(_))));
    }
}
