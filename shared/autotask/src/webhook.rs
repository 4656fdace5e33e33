//! Webhook callouts: verify `X-Hook-Signature: sha1=<base64 HMAC-SHA1(secret, raw body)>`
//! over the raw body bytes (never a re-serialized object) in constant time, and
//! parse the payload with any key casing. Never panics: every failure is a
//! typed [`WebhookError`].

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

pub const SIGNATURE_HEADER: &str = "X-Hook-Signature";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the callout is not signed (no X-Hook-Signature header)")]
    MissingSignature,
    #[error("the X-Hook-Signature header is malformed: {0}")]
    MalformedSignature(&'static str),
    #[error("the X-Hook-Signature does not match the body")]
    BadSignature,
    #[error("the webhook secret is empty")]
    EmptySecret,
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    #[error("the body is not a JSON object")]
    NotAnObject,
    #[error("the payload has no {0}")]
    MissingField(&'static str),
    #[error("the payload's {field} is not {expected}")]
    BadField { field: &'static str, expected: &'static str },
}

/// `sha1=<base64(HMAC-SHA1(secret, body))>`, as Autotask sends it.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha1={}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// Verifies the signature header against the raw body, in constant time.
pub fn verify_signature(secret: &[u8], raw_body: &[u8], header: Option<&str>) -> Result<(), WebhookError> {
    if secret.is_empty() {
        return Err(WebhookError::EmptySecret);
    }
    let header = header.map(str::trim).filter(|h| !h.is_empty()).ok_or(WebhookError::MissingSignature)?;
    let b64 = match header.split_once('=') {
        Some((algo, rest)) if algo.trim().eq_ignore_ascii_case("sha1") => rest.trim(),
        Some(_) => return Err(WebhookError::MalformedSignature("the algorithm is not sha1")),
        None => return Err(WebhookError::MalformedSignature("expected sha1=<base64>")),
    };
    let given = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| WebhookError::MalformedSignature("the signature is not base64"))?;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(raw_body);
    let expected = mac.finalize().into_bytes();
    if given.len() == expected.len() && bool::from(given.as_slice().ct_eq(expected.as_slice())) {
        Ok(())
    } else {
        Err(WebhookError::BadSignature)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookAction {
    Create,
    Update,
    Delete,
    Deactivated,
    Other(String),
}

/// A parsed callout.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub action: WebhookAction,
    /// The webhook's `webhookGUID`.
    pub guid: String,
    /// Singular entity name, e.g. `Ticket`.
    pub entity_type: String,
    pub id: i64,
    /// Changed subscribed fields and display-always fields (REST names).
    pub fields: Map<String, Value>,
    pub event_time: Option<String>,
    pub sequence_number: Option<u64>,
    /// The resource who caused the event (for the loop guard).
    pub person_id: Option<i64>,
}

impl WebhookEvent {
    /// A field of the payload, case-insensitively.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }
}

fn get<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v).filter(|v| !v.is_null())
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parses a callout body. Keys are matched case-insensitively.
pub fn parse_payload(raw: &[u8]) -> Result<WebhookEvent, WebhookError> {
    let v: Value = crate::json::from_slice(raw).map_err(|e| WebhookError::NotJson(e.to_string()))?;
    let Value::Object(o) = v else { return Err(WebhookError::NotAnObject) };
    let s = |k: &'static str| -> Result<Option<String>, WebhookError> {
        match get(&o, k) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(WebhookError::BadField { field: k, expected: "a string" }),
        }
    };
    let action = match s("Action")?.ok_or(WebhookError::MissingField("Action"))? {
        a if a.eq_ignore_ascii_case("create") => WebhookAction::Create,
        a if a.eq_ignore_ascii_case("update") => WebhookAction::Update,
        a if a.eq_ignore_ascii_case("delete") => WebhookAction::Delete,
        a if a.eq_ignore_ascii_case("deactivated") => WebhookAction::Deactivated,
        a => WebhookAction::Other(a),
    };
    let guid = s("Guid")?.ok_or(WebhookError::MissingField("Guid"))?;
    let entity_type = s("EntityType")?.unwrap_or_default();
    let id = match get(&o, "Id") {
        None => return Err(WebhookError::MissingField("Id")),
        Some(v) => as_i64(v).ok_or(WebhookError::BadField { field: "Id", expected: "an integer" })?,
    };
    let fields = match get(&o, "Fields") {
        None => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(WebhookError::BadField { field: "Fields", expected: "an object" }),
    };
    let event_time = match get(&o, "EventTime") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let sequence_number = match get(&o, "SequenceNumber") {
        None => None,
        Some(v) => Some(
            as_i64(v)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or(WebhookError::BadField { field: "SequenceNumber", expected: "a non-negative integer" })?,
        ),
    };
    let person_id = match get(&o, "PersonID") {
        None => None,
        Some(v) => Some(as_i64(v).ok_or(WebhookError::BadField { field: "PersonID", expected: "an integer" })?),
    };
    Ok(WebhookEvent { action, guid, entity_type, id, fields, event_time, sequence_number, person_id })
}

/// Verifies, then parses. Unsigned or badly signed bodies are rejected before parsing.
pub fn verify_and_parse(
    secret: &[u8],
    raw_body: &[u8],
    signature_header: Option<&str>,
) -> Result<WebhookEvent, WebhookError> {
    verify_signature(secret, raw_body, signature_header)?;
    parse_payload(raw_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_and_parses_any_casing() {
        let body = br#"{"action":"Update","GUID":"abc","entityType":"Ticket","id":"42","fields":{"queueID":5},"eventtime":"2024-01-01T00:00:00Z","sequenceNumber":3,"personId":29682886}"#;
        let sig = sign(b"s3cret", body);
        let ev = verify_and_parse(b"s3cret", body, Some(&sig)).unwrap();
        assert_eq!(ev.action, WebhookAction::Update);
        assert_eq!(ev.id, 42);
        assert_eq!(ev.person_id, Some(29682886));
        assert_eq!(ev.field("QUEUEID"), Some(&Value::from(5)));
        assert_eq!(verify_and_parse(b"other", body, Some(&sig)), Err(WebhookError::BadSignature));
        assert_eq!(verify_and_parse(b"s3cret", body, None), Err(WebhookError::MissingSignature));
        assert!(matches!(verify_and_parse(b"s3cret", body, Some("md5=abc")), Err(WebhookError::MalformedSignature(_))));
        // One changed byte breaks the signature.
        let mut tampered = body.to_vec();
        tampered[20] ^= 1;
        assert_eq!(verify_signature(b"s3cret", &tampered, Some(&sig)), Err(WebhookError::BadSignature));
    }

    #[test]
    fn documented_example_shape() {
        assert_eq!(sign(b"key", b"The quick brown fox jumps over the lazy dog"), "sha1=3nybhbi3iqa8ino29wqQcBydtNk=");
    }
}
