//! Typed errors (reference §5 "Token errors", "Errors and quotas"). Token
//! errors branch on the OAuth `error` code, API errors on the status and the
//! first `errors[].reason`; message texts are used only where the reference
//! gives them as the signal (403 "Not Authorized to access this resource/api",
//! the [U] no-seat texts). Every message says what a technician can do about
//! it; none carries a password or a key.

use crate::key::Scope;
use serde::Deserialize;
use std::fmt;

/// Everything a call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    /// The service-account key file cannot be used (what is wrong with it, never its content).
    Key(String),
    /// Input refused before anything was sent (a password outside 8–100 ASCII
    /// characters, an admin that is not an address, an empty id).
    InvalidInput(String),
    /// The token endpoint refused the JWT assertion (OAuth `error` and
    /// `error_description` as sent; `scopes` asked for, `subject` impersonated,
    /// `client_id` the delegation is keyed by, from the key file).
    Token {
        status: u16,
        error: String,
        description: Option<String>,
        scopes: Vec<Scope>,
        subject: String,
        client_id: Option<String>,
    },
    /// The Directory or Licensing API refused a call: the status, the first
    /// `errors[].reason` and the message as sent, and the scope the call used.
    Api { status: u16, reason: Option<String>, message: String, scope: Scope },
    /// Throttled or unavailable on every attempt (`attempts` made; the last status and reason).
    RateLimited { attempts: u32, status: u16, reason: Option<String> },
    /// The network failed (after retries).
    Http(String),
    /// A 2xx answer that is not the documented shape.
    Decode(String),
}

impl fmt::Display for GoogleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GoogleError::Key(m) => write!(f, "the Google service-account key cannot be used: {m}"),
            GoogleError::InvalidInput(m) => write!(f, "invalid input for Google: {m}"),
            GoogleError::Token { status, error, description, scopes, subject, client_id } => {
                let t = TokenText { status: *status, error, description: description.as_deref(), scopes, subject };
                t.write(f, client_id.as_deref())
            }
            GoogleError::Api { status, reason, message, scope } => {
                let reason_text = reason.as_deref().unwrap_or("no reason");
                if is_permission_denied(*status, reason.as_deref(), message) {
                    write!(
                        f,
                        "Google refused the call ({status} {reason_text}: {message}): it needs the scope {scope}; the impersonated admin must be a super administrator of this customer and the service account's client ID must be delegated that scope (Admin console > Security > API controls > Domain-wide delegation)"
                    )
                } else if *status == 404 {
                    write!(f, "Google found no such user, group or licence (404 {reason_text}: {message})")
                } else {
                    write!(f, "Google refused the call ({status} {reason_text}: {message})")
                }
            }
            GoogleError::RateLimited { attempts, status, reason } => write!(
                f,
                "Google throttled or was unavailable on all {attempts} attempts (last {status} {}): try again in a few minutes (the default quota is 2,400 queries per minute per admin)",
                reason.as_deref().unwrap_or("no reason")
            ),
            GoogleError::Http(m) => write!(f, "cannot reach Google: {m}"),
            GoogleError::Decode(m) => write!(f, "cannot read Google's answer: {m}"),
        }
    }
}

struct TokenText<'a> {
    status: u16,
    error: &'a str,
    description: Option<&'a str>,
    scopes: &'a [Scope],
    subject: &'a str,
}

impl TokenText<'_> {
    fn write(&self, f: &mut fmt::Formatter<'_>, client_id: Option<&str>) -> fmt::Result {
        let urls: Vec<&str> = self.scopes.iter().map(Scope::as_url).collect();
        let said = self.description.map(|d| format!(" (Google: \"{d}\")")).unwrap_or_default();
        let (status, subject) = (self.status, self.subject);
        match self.error {
            "unauthorized_client" => write!(
                f,
                "Google refused a token for admin {subject} ({status} unauthorized_client): the service account's client ID {} is not delegated these exact scopes for this customer: {}. A super admin of the customer must add them under Admin console > Security > API controls > Domain-wide delegation{said}",
                client_id.unwrap_or("(not in the key file)"),
                urls.join(", ")
            ),
            "invalid_grant" if self.description.is_some_and(|d| d.to_ascii_lowercase().contains("signature")) => {
                write!(
                    f,
                    "Google refused the service account's JWT signature for admin {subject} ({status} invalid_grant{said}): the key was deleted or rotated, or the key file is another service account's; create a new JSON key and store it"
                )
            }
            "invalid_grant" => write!(
                f,
                "Google refused the service account's JWT for admin {subject} ({status} invalid_grant{said}): either the assertion was refused (check this server's clock; the JWT may live at most 60 minutes) or the admin {subject} is unknown to Google (check the customer's configured admin address)"
            ),
            other => write!(f, "Google's token endpoint refused a token for admin {subject} ({status} {other}{said})"),
        }
    }
}

/// 403 forbidden / insufficientPermissions or the "Not Authorized" text (reference §5).
fn is_permission_denied(status: u16, reason: Option<&str>, message: &str) -> bool {
    status == 403
        && (matches!(reason, Some("forbidden" | "insufficientPermissions"))
            || message.contains("Not Authorized to access this resource/api"))
}

impl GoogleError {
    /// The HTTP status behind the error, when Google answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GoogleError::Token { status, .. }
            | GoogleError::Api { status, .. }
            | GoogleError::RateLimited { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Google's reason (`errors[0].reason`, or the OAuth `error` of a token refusal).
    pub fn reason(&self) -> Option<&str> {
        match self {
            GoogleError::Token { error, .. } => Some(error),
            GoogleError::Api { reason, .. } | GoogleError::RateLimited { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }

    /// A licence insert Google refused because the subscription has no seat
    /// left. [U] exact shape unknown: true for a licensing call's 412
    /// `conditionNotMet` (except "already has a license" and the auto-licence
    /// refusal), and for a licensing 400/403 whose message mentions "limit",
    /// "seat" or "available licenses".
    pub fn is_no_seats(&self) -> bool {
        let GoogleError::Api { status, reason, message, scope: Scope::Licensing } = self else { return false };
        let m = message.to_ascii_lowercase();
        match status {
            412 => {
                reason.as_deref() == Some("conditionNotMet") && !m.contains("already") && !m.contains("auto license")
            }
            // A quota answer ("…LimitExceeded", "quotaExceeded") is not a full subscription.
            400 | 403 if reason.as_deref().is_some_and(|r| r.ends_with("LimitExceeded") || r == "quotaExceeded") => {
                false
            }
            400 | 403 => ["assignment limit", "seat", "available licenses"].iter().any(|w| m.contains(w)),
            _ => false,
        }
    }

    /// [U] A licence insert for a user who already holds that SKU (412
    /// `conditionNotMet` "User already has a license for the specified product and SKU").
    pub fn is_already_assigned(&self) -> bool {
        matches!(self, GoogleError::Api { status: 412, message, scope: Scope::Licensing, .. }
            if message.to_ascii_lowercase().contains("already has a license"))
    }
}

/// Google's API error body `{"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}`,
/// parsed tolerantly: another body keeps (up to 300 characters of) its text as the message.
pub(crate) fn parse_api_error(status: u16, body: &[u8], scope: Scope) -> GoogleError {
    #[derive(Deserialize)]
    struct Outer {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        #[serde(default)]
        message: String,
        #[serde(default)]
        errors: Vec<Item>,
        #[serde(default)]
        status: Option<String>,
    }
    #[derive(Deserialize)]
    struct Item {
        #[serde(default)]
        reason: Option<String>,
    }
    match serde_json::from_slice::<Outer>(body) {
        Ok(o) => {
            let reason = o.error.errors.into_iter().find_map(|e| e.reason).or(o.error.status);
            GoogleError::Api { status, reason, message: o.error.message, scope }
        }
        Err(_) => GoogleError::Api { status, reason: None, message: body_text(body), scope },
    }
}

/// The token endpoint's error body `{"error","error_description"}` as (error, description).
pub(crate) fn parse_token_error(body: &[u8]) -> (String, Option<String>) {
    #[derive(Deserialize)]
    struct Body {
        error: String,
        #[serde(default)]
        error_description: Option<String>,
    }
    match serde_json::from_slice::<Body>(body) {
        Ok(b) => (b.error, b.error_description),
        Err(_) => (String::new(), Some(body_text(body)).filter(|s| !s.is_empty())),
    }
}

fn body_text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, reason: &str, message: &str, scope: Scope) -> GoogleError {
        GoogleError::Api { status, reason: Some(reason.into()), message: message.into(), scope }
    }

    #[test]
    fn google_error_body_is_parsed_tolerantly() {
        let b = br#"{"error":{"code":409,"message":"Member already exists.","errors":[{"message":"Member already exists.","domain":"global","reason":"duplicate"}]}}"#;
        let e = parse_api_error(409, b, Scope::GroupMember);
        assert_eq!((e.status(), e.reason()), (Some(409), Some("duplicate")));
        let e =
            parse_api_error(403, br#"{"error":{"code":403,"message":"x","status":"PERMISSION_DENIED"}}"#, Scope::User);
        assert_eq!(e.reason(), Some("PERMISSION_DENIED"));
        let e = parse_api_error(502, b"<html>bad gateway</html>", Scope::User);
        assert!(
            matches!(e, GoogleError::Api { status: 502, reason: None, ref message, .. } if message.contains("bad gateway"))
        );
        assert_eq!(
            parse_token_error(br#"{"error":"invalid_grant","error_description":"d"}"#),
            ("invalid_grant".into(), Some("d".into()))
        );
        assert_eq!(parse_token_error(b""), (String::new(), None));
    }

    #[test]
    fn permission_errors_name_the_scope_and_the_admin_requirement() {
        for (reason, msg) in [
            ("forbidden", "Not Authorized to access this resource/api"),
            ("insufficientPermissions", "Request had insufficient authentication scopes."),
        ] {
            let t = api(403, reason, msg, Scope::UserSecurity).to_string();
            assert!(t.contains("admin.directory.user.security") && t.contains("super administrator"), "{t}");
        }
        let t = api(403, "userRateLimitExceeded", "User Rate Limit Exceeded", Scope::User).to_string();
        assert!(!t.contains("super administrator"), "{t}");
    }

    #[test]
    fn token_errors_say_what_to_fix() {
        let e = GoogleError::Token {
            status: 401,
            error: "unauthorized_client".into(),
            description: Some("Client is unauthorized".into()),
            scopes: vec![Scope::Licensing],
            subject: "admin@c1.example".into(),
            client_id: Some("1234".into()),
        };
        let t = e.to_string();
        assert!(t.contains("1234") && t.contains("https://www.googleapis.com/auth/apps.licensing"), "{t}");
        assert!(t.contains("Domain-wide delegation"), "{t}");
        assert_eq!(e.reason(), Some("unauthorized_client"));
        let e = GoogleError::Token {
            status: 400,
            error: "invalid_grant".into(),
            description: Some("Invalid email or User ID".into()),
            scopes: vec![Scope::User],
            subject: "nobody@c1.example".into(),
            client_id: None,
        };
        let t = e.to_string();
        assert!(
            t.contains("Invalid email or User ID") && t.contains("clock") && t.contains("nobody@c1.example"),
            "{t}"
        );
        let e = GoogleError::Token {
            status: 400,
            error: "invalid_grant".into(),
            description: Some("Invalid JWT Signature.".into()),
            scopes: vec![Scope::User],
            subject: "admin@c1.example".into(),
            client_id: None,
        };
        let t = e.to_string();
        assert!(t.contains("deleted or rotated") && !t.contains("clock"), "{t}");
    }

    #[test]
    fn no_seats_is_recognised_in_both_unverified_shapes_only_on_licensing() {
        let l = Scope::Licensing;
        assert!(api(412, "conditionNotMet", "User license assignment limit exceeded", l).is_no_seats());
        assert!(api(400, "invalid", "User license assignment limit exceeded", l).is_no_seats());
        assert!(api(403, "forbidden", "No available licenses", l).is_no_seats());
        let already = api(412, "conditionNotMet", "User already has a license for the specified product and SKU", l);
        assert!(!already.is_no_seats() && already.is_already_assigned());
        assert!(!api(412, "conditionNotMet", "Auto License un-assignment is not allowed.", l).is_no_seats());
        assert!(!api(412, "conditionNotMet", "limit", Scope::User).is_no_seats());
        assert!(!api(404, "notFound", "limit", l).is_no_seats());
        assert!(!api(403, "dailyLimitExceeded", "Daily Limit Exceeded", l).is_no_seats());
        assert!(!api(403, "userRateLimitExceeded", "User rate limit exceeded", l).is_no_seats());
    }
}
