//! Webhook callouts: .NET System.Text.Json-style escaping, HMAC-SHA1 signature
//! over the exact bytes sent, a 10 s timeout, 5 attempts, in-order delivery per
//! webhook, and deactivation after 25 consecutive failures.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use std::fmt::Write;

/// Writes a JSON string the way .NET's default encoder does: `& < > ' " \` +` and
/// everything outside ASCII as `\uXXXX` (uppercase hex, UTF-16 units).
pub fn dotnet_string(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '"' | '&' | '<' | '>' | '\'' | '`' | '+' => {
                let _ = write!(out, "\\u{:04X}", ch as u32);
            }
            c if (c as u32) < 0x20 || (c as u32) > 0x7E => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{:04X}", unit);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Serializes a JSON value with .NET escaping (object keys in the given order).
pub fn dotnet_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => dotnet_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                dotnet_json(x, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                dotnet_string(k, out);
                out.push(':');
                dotnet_json(x, out);
            }
            out.push('}');
        }
    }
}

/// One callout payload, in Autotask's key order.
pub struct Payload<'a> {
    pub action: &'a str,
    pub guid: &'a str,
    pub entity_type: &'a str,
    pub id: i64,
    pub fields: &'a serde_json::Map<String, Value>,
    pub event_time: &'a str,
    pub sequence_number: u64,
    pub person_id: Option<i64>,
}

impl Payload<'_> {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = String::new();
        s.push_str("{\"Action\":");
        dotnet_string(self.action, &mut s);
        s.push_str(",\"Guid\":");
        dotnet_string(self.guid, &mut s);
        s.push_str(",\"EntityType\":");
        dotnet_string(self.entity_type, &mut s);
        let _ = write!(s, ",\"Id\":{},\"Fields\":", self.id);
        dotnet_json(&Value::Object(self.fields.clone()), &mut s);
        s.push_str(",\"EventTime\":");
        dotnet_string(self.event_time, &mut s);
        let _ = write!(s, ",\"SequenceNumber\":{},\"PersonID\":", self.sequence_number);
        match self.person_id {
            Some(p) => {
                let _ = write!(s, "{p}");
            }
            None => s.push_str("null"),
        }
        s.push('}');
        s.into_bytes()
    }
}

/// `sha1=<base64(HMAC-SHA1(secret, body))>`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("hmac accepts any key length");
    mac.update(body);
    format!("sha1={}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// What happened to one delivery attempt.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    pub webhook_id: i64,
    pub ticket_id: i64,
    pub action: String,
    pub sequence_number: u64,
    pub attempt: u32,
    pub url: String,
    /// HTTP status, or None for a transport error / timeout / injected drop.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub body: Vec<u8>,
    pub signature: String,
    pub dropped: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_dotnet() {
        let mut s = String::new();
        dotnet_string("a&b<c>'d\"e`f+g é 😀 \\ \n", &mut s);
        assert_eq!(s, r#""a\u0026b\u003Cc\u003E\u0027d\u0022e\u0060f\u002Bg \u00E9 \uD83D\uDE00 \\ \n""#);
        // Still valid JSON that decodes to the same text.
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "a&b<c>'d\"e`f+g é 😀 \\ \n");
    }

    #[test]
    fn known_signature() {
        // HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog") = de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9
        assert_eq!(
            signature("key", b"The quick brown fox jumps over the lazy dog"),
            "sha1=3nybhbi3iqa8ino29wqQcBydtNk="
        );
    }
}
