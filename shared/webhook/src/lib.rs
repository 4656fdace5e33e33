//! Signed webhook runbooks: atpilot POSTs a JSON [`Job`] to an MSP's own
//! automation (an RMM job, a Rewst / n8n / Power Automate flow) and reads
//! its [`Answer`]; an accepted job reports later through a signed
//! [`Callback`]. The contract, both directions:
//!
//! * headers `X-Atpilot-Timestamp: <unix seconds>` and
//!   `X-Atpilot-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`,
//!   plus `Idempotency-Key: <action id>` on the job: the receiver must do a
//!   job at most once per action id;
//! * a signature older or newer than [`MAX_SKEW_SECS`] is refused (replay);
//! * the job's answer, `200 {"status":"done","before":{…},"after":{…}}`
//!   (the receiver did it and read it back), `200 {"status":"refused","reason":"…"}`
//!   (nothing changed), or `202 {"status":"accepted"}` (it will POST a
//!   [`Callback`] to the job's `callback_url`); anything else is a failure;
//! * the callback, `{"action_id":"…","status":"done"|"refused"|"failed",
//!   "before":{…},"after":{…},"reason":"…"}`, signed the same way.
//!
//! Values the receiver sends are text from outside atpilot: they are kept to
//! one line and [`MAX_VALUE_CHARS`] characters, at most [`MAX_FIELDS`] fields.

mod client;
mod signature;

pub use client::{Answer, WebhookClient, WebhookError};
pub use signature::{SIGNATURE_HEADER, SignatureError, Signer, TIMESTAMP_HEADER};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most a signature's timestamp may differ from now (seconds).
pub const MAX_SKEW_SECS: i64 = 300;
/// At most this many before/after fields are kept.
pub const MAX_FIELDS: usize = 40;
/// Each kept value (and reason) is cut to this many characters.
pub const MAX_VALUE_CHARS: usize = 300;

/// The ticket a job is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobTicket {
    /// Autotask `Tickets.id`.
    pub id: i64,
    /// Autotask `Tickets.ticketNumber` (e.g. "T20261130.0001").
    #[serde(rename = "ticketNumber")]
    pub ticket_number: String,
    /// Autotask `Tickets.companyID`.
    #[serde(rename = "companyID")]
    pub company_id: i64,
}

/// The JSON body POSTed to a webhook runbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Contract version (1).
    pub version: u32,
    /// The idempotency key: one job per action, whatever the retries.
    pub action_id: String,
    /// The webhook's name in atpilot's `[webhooks]`.
    pub runbook: String,
    /// What atpilot asks, as the approver saw it.
    pub plan: String,
    pub ticket: JobTicket,
    /// Inputs parsed from the ticket, e.g. `requester_email`.
    pub inputs: BTreeMap<String, String>,
    /// Where an accepted job POSTs its signed [`Callback`].
    pub callback_url: String,
}

/// What a receiver reports, in its answer or its callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reported {
    Done,
    Refused,
    Failed,
}

/// A receiver's signed callback for an accepted job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    pub action_id: String,
    pub status: Reported,
    #[serde(default)]
    pub before: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub after: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The action id a callback body names, read before its signature is
/// checked (to find which webhook's secret signs it). Never trust more of
/// the body than this until [`Signer::verify`] passed.
pub fn callback_action_id(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Id {
        action_id: String,
    }
    serde_json::from_slice::<Id>(body).ok().map(|i| i.action_id)
}

/// Outside text on one line ([`atpilot_domain::untrusted::one_line`]), at most [`MAX_VALUE_CHARS`].
pub fn plain(s: &str) -> String {
    atpilot_domain::untrusted::one_line(s).chars().take(MAX_VALUE_CHARS).collect()
}

/// Before/after fields as kept: scalar values as text, [`plain`], at most [`MAX_FIELDS`].
pub fn fields(m: &BTreeMap<String, serde_json::Value>) -> BTreeMap<String, String> {
    m.iter()
        .take(MAX_FIELDS)
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (plain(k), plain(&v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_values_are_kept_plain_and_short() {
        assert_eq!(plain("a\n\u{200B}b\tc"), "a b c");
        assert_eq!(plain(&"x".repeat(1000)).len(), MAX_VALUE_CHARS);
        let m: BTreeMap<String, serde_json::Value> =
            [("n".to_string(), serde_json::json!(3)), ("s".to_string(), serde_json::json!("on\nline"))].into();
        let f = fields(&m);
        assert_eq!((f["n"].as_str(), f["s"].as_str()), ("3", "on line"));
        assert_eq!(callback_action_id(br#"{"action_id":"act-1","status":"done"}"#).as_deref(), Some("act-1"));
        assert_eq!(callback_action_id(b"nope"), None);
    }
}
