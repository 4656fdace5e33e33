//! The provider's metadata: `{issuer}/.well-known/openid-configuration`
//! (OpenID Connect Discovery 1.0; Entra: `https://login.microsoftonline.com/{tenant}/v2.0`).

use crate::SignInError;
use serde::Deserialize;

/// The endpoints atpilot uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// Fetches the metadata of `issuer` and checks that it names exactly that
/// issuer (a single-tenant Entra issuer, not `common`).
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<Metadata, SignInError> {
    let issuer = issuer.trim_end_matches('/');
    let url = format!("{issuer}/.well-known/openid-configuration");
    let r = http.get(&url).send().await.map_err(|source| SignInError::Unreachable { url: url.clone(), source })?;
    let status = r.status().as_u16();
    let body = r.text().await.map_err(|source| SignInError::Unreachable { url: url.clone(), source })?;
    if status != 200 {
        return Err(SignInError::Provider { url, status, body: body.chars().take(300).collect() });
    }
    let m: Metadata =
        serde_json::from_str(&body).map_err(|e| SignInError::Metadata(format!("{url} is not OpenID metadata: {e}")))?;
    if m.issuer.trim_end_matches('/') != issuer {
        return Err(SignInError::Metadata(format!(
            "{url} names issuer {:?}, not {issuer:?}: give the tenant's own issuer (for Entra ID, https://login.microsoftonline.com/<tenant id>/v2.0, not /common)",
            m.issuer
        )));
    }
    Ok(m)
}
