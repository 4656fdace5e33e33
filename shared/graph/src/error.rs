//! Typed errors. Token errors branch on the AADSTS `error` and `error_codes`
//! (reference §1 "Client credentials"), Graph errors on `error.code` (reference
//! §2 "Base URL and errors"), never on a description, except where the
//! reference gives a message text as the only signal (marked below).
//! Every message says what a human can do about it; none carries a password.

use crate::ids::TenantId;
use serde::Deserialize;
use std::time::Duration;

/// The token endpoint's error body, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, thiserror::Error)]
#[error("{status} {error} (AADSTS {error_codes:?}, trace {trace_id})")]
pub struct AadError {
    #[serde(skip)]
    pub status: u16,
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub error_description: String,
    #[serde(default)]
    pub error_codes: Vec<u64>,
    #[serde(default)]
    pub trace_id: String,
    #[serde(default)]
    pub correlation_id: String,
}

impl AadError {
    /// Parses the body; a body that is not the AADSTS shape keeps its text as the description.
    pub fn parse(status: u16, body: &[u8]) -> Self {
        let mut e = serde_json::from_slice::<AadError>(body).unwrap_or_else(|_| AadError {
            error_description: String::from_utf8_lossy(body).chars().take(300).collect(),
            ..Default::default()
        });
        e.status = status;
        e
    }
}

/// Why no token could be had for a tenant.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "the app is not in tenant {tenant} (AADSTS700016): an administrator of that tenant must grant admin consent (the adminconsent link), or the tenant id is wrong"
    )]
    NotConsented { tenant: TenantId, source: Box<AadError> },
    #[error(
        "the client secret was refused (AADSTS7000215): configure the secret's VALUE, not its secret ID, and check it belongs to this app"
    )]
    BadSecret { source: Box<AadError> },
    #[error(
        "the client secret has expired (AADSTS7000222): create a new secret in the app registration and configure it"
    )]
    SecretExpired { source: Box<AadError> },
    #[error(
        "the certificate assertion was refused (AADSTS700027): upload this certificate to the app registration and check the private key and thumbprint match it"
    )]
    BadAssertion { source: Box<AadError> },
    #[error(
        "admin consent is required in tenant {tenant} (AADSTS {codes:?}): an administrator of that tenant must (re-)grant admin consent to the app's permissions"
    )]
    AdminConsentRequired { tenant: TenantId, codes: Vec<u64>, source: Box<AadError> },
    #[error(
        "a Conditional Access policy of tenant {tenant} blocks the app (AADSTS53003): exclude the app's service principal or its location from that policy"
    )]
    ConditionalAccess { tenant: TenantId, source: Box<AadError> },
    #[error("the token request was refused: {source}; see the AADSTS code in Microsoft's error reference")]
    Refused { source: Box<AadError> },
    #[error("the token endpoint throttled or failed after {attempts} attempts (status {status})")]
    Unavailable { status: u16, attempts: u32 },
    #[error("cannot build the certificate client assertion: {source}; check the private key is an RSA PEM")]
    Assertion { source: jsonwebtoken::errors::Error },
    #[error("cannot reach the token endpoint: {source}")]
    Transport { source: reqwest::Error },
    #[error("the token endpoint answered 200 without a usable token: {source}")]
    Decode { source: serde_json::Error },
}

impl TokenError {
    /// Maps an AADSTS error body to its typed error (branching on `error_codes`
    /// first, then on `error`; never on the description).
    pub fn from_aad(tenant: &TenantId, source: AadError) -> Self {
        let source = Box::new(source);
        let codes = source.error_codes.clone();
        let has = |c: u64| codes.contains(&c);
        if has(700016) {
            TokenError::NotConsented { tenant: tenant.clone(), source }
        } else if has(7000215) {
            TokenError::BadSecret { source }
        } else if has(7000222) {
            TokenError::SecretExpired { source }
        } else if has(700027) {
            TokenError::BadAssertion { source }
        } else if has(90094) || has(65001) {
            TokenError::AdminConsentRequired { tenant: tenant.clone(), codes, source }
        } else if has(53003) {
            TokenError::ConditionalAccess { tenant: tenant.clone(), source }
        } else if source.error == "unauthorized_client" {
            TokenError::NotConsented { tenant: tenant.clone(), source }
        } else {
            TokenError::Refused { source }
        }
    }
}

/// Graph's error body `{"error":{"code","message","innerError"}}`, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("Graph {status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl ApiError {
    /// Parses Graph's error body; anything else keeps its text as the message.
    pub fn parse(status: u16, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Outer {
            error: Inner,
        }
        #[derive(Deserialize)]
        struct Inner {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
            #[serde(default, rename = "innerError")]
            inner: Option<serde_json::Value>,
        }
        match serde_json::from_slice::<Outer>(body) {
            Ok(o) => ApiError {
                status,
                code: o.error.code,
                message: o.error.message,
                request_id: o.error.inner.and_then(|i| i.get("request-id")?.as_str().map(String::from)),
            },
            Err(_) => ApiError {
                status,
                code: String::new(),
                message: String::from_utf8_lossy(body).chars().take(300).collect(),
                request_id: None,
            },
        }
    }
}

/// What an operation needs in the customer tenant, named in
/// [`GraphError::InsufficientPrivileges`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// The operation, e.g. "reset a password".
    pub operation: &'static str,
    /// The least-privileged application permission (admin-consented in the tenant).
    pub permission: &'static str,
    /// An Entra role the app's service principal also needs, if any.
    pub role: Option<&'static str>,
}

/// Everything an operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("no token for tenant {tenant}: {source}")]
    Token { tenant: TenantId, source: TokenError },
    #[error(
        "insufficient privileges to {} in tenant {tenant}: the app needs the application permission {} (admin-consented in that tenant){}; tokens issued before a change lack it (403 {})",
        needs.operation, needs.permission, needs.role.map(|r| format!(" and the {r} role on its service principal (a target holding an admin role needs a role that outranks it)")).unwrap_or_default(), source.code
    )]
    InsufficientPrivileges { tenant: TenantId, needs: Needs, source: Box<ApiError> },
    #[error("{what} not found in tenant {tenant} (404 {})", source.code)]
    NotFound { tenant: TenantId, what: String, source: Box<ApiError> },
    /// [U] detected by Graph's message text (the only signal the reference gives).
    #[error(
        "user {user} is synchronised from on-premises Active Directory: change it there (or escalate), the cloud refuses ({})",
        source.code
    )]
    SyncedUser { user: String, source: Box<ApiError> },
    /// [U] detected by Graph's message text.
    #[error("Entra refused the password as too weak (400): generate a new one with TemporaryPassword::generate")]
    PasswordRejected { source: Box<ApiError> },
    /// [C] text per reference §3; set `usageLocation` and retry.
    #[error("user {user} has no usage location: set one (set_usage_location) before assigning a licence")]
    UsageLocationRequired { user: String, source: Box<ApiError> },
    /// [U] text per reference §3.
    #[error("no free seats of licence {sku}: buy more or free one first")]
    NoFreeLicenses { sku: String, source: Box<ApiError> },
    /// [U] mail-enabled security groups and distribution lists need Exchange Online.
    #[error("group {group} is mail-enabled: change its members in Exchange Online, Graph refuses")]
    GroupManagedInExchange { group: String, source: Box<ApiError> },
    #[error("Graph refused an advanced query (400 Request_UnsupportedQuery): {source}")]
    UnsupportedQuery { source: Box<ApiError> },
    #[error("Graph refused the request (400 {}): {}", source.code, source.message)]
    BadRequest { source: Box<ApiError> },
    #[error("Graph refused the access token twice (401 {}): check the app's credential and consent", source.code)]
    Unauthorized { source: Box<ApiError> },
    #[error(
        "Graph throttled or was unavailable after {attempts} attempts (last status {status}, Retry-After {retry_after:?}); try again later"
    )]
    Throttled { status: u16, attempts: u32, retry_after: Option<Duration> },
    #[error("Graph answered {}: {source}", source.status)]
    Api { source: Box<ApiError> },
    #[error("{count} users in tenant {tenant} have the address {address}; name the user by id")]
    AmbiguousAddress { tenant: TenantId, address: String, count: usize },
    #[error("Graph's next page link {link} leaves {expected}; refusing to send the token there")]
    ForeignNextLink { link: String, expected: String },
    #[error("cannot reach Graph ({context}): {source}")]
    Transport { context: String, source: reqwest::Error },
    #[error("cannot read Graph's answer ({context}): {source}")]
    Decode { context: String, source: serde_json::Error },
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

impl GraphError {
    /// The Graph error behind this one, when Graph sent one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            GraphError::InsufficientPrivileges { source, .. }
            | GraphError::NotFound { source, .. }
            | GraphError::SyncedUser { source, .. }
            | GraphError::PasswordRejected { source }
            | GraphError::UsageLocationRequired { source, .. }
            | GraphError::NoFreeLicenses { source, .. }
            | GraphError::GroupManagedInExchange { source, .. }
            | GraphError::UnsupportedQuery { source }
            | GraphError::BadRequest { source }
            | GraphError::Unauthorized { source }
            | GraphError::Api { source } => Some(source.as_ref()),
            _ => None,
        }
    }
}

/// Maps a non-2xx Graph answer to its generic typed error (operations refine
/// 400s first: synced users, licences, group membership).
pub fn map_api_error(tenant: &TenantId, needs: &Needs, what: &str, source: ApiError) -> GraphError {
    let source = Box::new(source);
    match (source.status, source.code.as_str()) {
        (403, _) | (_, "Authorization_RequestDenied") => {
            GraphError::InsufficientPrivileges { tenant: tenant.clone(), needs: *needs, source }
        }
        (404, _) | (_, "Request_ResourceNotFound") => {
            GraphError::NotFound { tenant: tenant.clone(), what: what.to_string(), source }
        }
        (400, "Request_UnsupportedQuery") => GraphError::UnsupportedQuery { source },
        (400, _) => GraphError::BadRequest { source },
        (401, _) => GraphError::Unauthorized { source },
        _ => GraphError::Api { source },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aad(error: &str, codes: &[u64]) -> AadError {
        AadError { status: 400, error: error.into(), error_codes: codes.to_vec(), ..Default::default() }
    }

    #[test]
    fn aadsts_codes_map_to_typed_errors() {
        let t = TenantId::new("t1");
        assert!(matches!(
            TokenError::from_aad(&t, aad("unauthorized_client", &[700016])),
            TokenError::NotConsented { .. }
        ));
        let e = TokenError::from_aad(&t, aad("invalid_client", &[7000215]));
        assert!(matches!(e, TokenError::BadSecret { .. }));
        assert!(e.to_string().contains("not its secret ID"));
        assert!(matches!(
            TokenError::from_aad(&t, aad("invalid_client", &[7000222])),
            TokenError::SecretExpired { .. }
        ));
        assert!(matches!(TokenError::from_aad(&t, aad("invalid_client", &[700027])), TokenError::BadAssertion { .. }));
        assert!(matches!(
            TokenError::from_aad(&t, aad("invalid_grant", &[65001])),
            TokenError::AdminConsentRequired { .. }
        ));
        assert!(matches!(
            TokenError::from_aad(&t, aad("invalid_client", &[90094])),
            TokenError::AdminConsentRequired { .. }
        ));
        assert!(matches!(
            TokenError::from_aad(&t, aad("invalid_grant", &[53003])),
            TokenError::ConditionalAccess { .. }
        ));
        assert!(matches!(TokenError::from_aad(&t, aad("invalid_scope", &[70011])), TokenError::Refused { .. }));
    }

    #[test]
    fn aad_body_is_parsed_and_description_is_not_used_for_branching() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS700016: looks like consent","error_codes":[7000215],"trace_id":"x"}"#;
        let e = TokenError::from_aad(&TenantId::new("t"), AadError::parse(401, body));
        assert!(matches!(e, TokenError::BadSecret { ref source } if source.status == 401));
        assert_eq!(AadError::parse(502, b"<html>").error_description, "<html>");
    }

    #[test]
    fn graph_error_body_maps_by_code() {
        let needs = Needs { operation: "read a user", permission: "User.Read.All", role: None };
        let t = TenantId::new("t");
        let body = br#"{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"request-id":"r1"}}}"#;
        let e = map_api_error(&t, &needs, "user", ApiError::parse(403, body));
        assert!(
            matches!(e, GraphError::InsufficientPrivileges { ref source, .. } if source.request_id.as_deref() == Some("r1"))
        );
        assert!(e.to_string().contains("User.Read.All"));
        let nf = br#"{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist"}}"#;
        assert!(matches!(map_api_error(&t, &needs, "user x", ApiError::parse(404, nf)), GraphError::NotFound { .. }));
        let uq = br#"{"error":{"code":"Request_UnsupportedQuery","message":"Try adding $count=true"}}"#;
        assert!(matches!(map_api_error(&t, &needs, "", ApiError::parse(400, uq)), GraphError::UnsupportedQuery { .. }));
        assert!(matches!(map_api_error(&t, &needs, "", ApiError::parse(500, b"oops")), GraphError::Api { .. }));
    }
}
