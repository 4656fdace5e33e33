//! The authorization code flow with PKCE (RFC 7636, S256), `state` and
//! `nonce`: [`Client::start`] gives the provider URL to send the browser to
//! and the [`PendingLogin`] to keep (in the login cookie) until the callback;
//! [`Client::finish`] redeems the code and checks the ID token.

use crate::SignInError;
use crate::discovery::{Metadata, discover};
use crate::id_token::{Identity, Validator};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// What the relying party is registered as.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The issuer, e.g. `https://login.microsoftonline.com/<tenant id>/v2.0`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// `{public base URL}/auth/callback`, registered at the provider.
    pub redirect_uri: String,
    /// Accepted clock difference for `exp`/`nbf` (Entra's libraries: 300 s).
    pub clock_skew: Duration,
}

/// A sign-in under way: kept by the browser (encrypted) until the callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub code_verifier: String,
    /// Where to go after signing in (a path on this site).
    pub return_to: String,
    /// The redirect URI this sign-in was started with (the token request
    /// must send the same one); empty: the configured one.
    #[serde(default)]
    pub redirect_uri: String,
}

/// Where to send the browser, and what to keep.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    pub authorize_url: String,
    pub pending: PendingLogin,
}

/// A relying party of one provider.
pub struct Client {
    config: ClientConfig,
    metadata: Metadata,
    validator: Validator,
    http: reqwest::Client,
}

/// 32 random bytes, base64url: a `state`, `nonce`, PKCE verifier or CSRF token (43 characters).
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    B64.encode(bytes)
}

/// A path on this site only (never another host): `/` otherwise. Control
/// characters and whitespace are refused too: browsers drop a tab or newline
/// from `/\t/evil.example`, which would leave `//evil.example`.
pub fn safe_return_to(path: &str) -> String {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.contains("://")
        && !path.chars().any(|c| c.is_control() || c.is_whitespace());
    if ok { path.to_string() } else { "/".to_string() }
}

/// What the token endpoint returned (the ID token not yet checked).
#[derive(Debug, Clone)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
    access_token: Option<String>,
}

impl Client {
    /// Discovers the provider and prepares the ID-token check.
    pub async fn connect(config: ClientConfig) -> Result<Self, SignInError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|source| SignInError::Unreachable { url: config.issuer.clone(), source })?;
        let metadata = discover(&http, &config.issuer).await?;
        let validator = Validator::new(&metadata, &config.client_id, config.clock_skew, http.clone());
        Ok(Self { config, metadata, validator, http })
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// A new sign-in: the provider's authorize URL with `state`, `nonce` and
    /// the S256 challenge of a fresh verifier, and what to keep until the callback.
    pub fn start(&self, return_to: &str) -> LoginRequest {
        self.start_at(return_to, &self.config.redirect_uri)
    }

    /// [`Client::start`] with another registered redirect URI (one app
    /// registration serving several sites: the dashboard's and the approval
    /// pages' Function URLs).
    pub fn start_at(&self, return_to: &str, redirect_uri: &str) -> LoginRequest {
        let pending = PendingLogin {
            state: random_token(),
            nonce: random_token(),
            code_verifier: random_token(),
            return_to: safe_return_to(return_to),
            redirect_uri: redirect_uri.to_string(),
        };
        let challenge = B64.encode(Sha256::digest(pending.code_verifier.as_bytes()));
        let mut url = url::Url::parse(&self.metadata.authorization_endpoint).expect("validated at discovery");
        url.query_pairs_mut()
            .append_pair("client_id", &self.config.client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", &pending.redirect_uri)
            .append_pair("response_mode", "query")
            .append_pair("scope", "openid email profile")
            .append_pair("state", &pending.state)
            .append_pair("nonce", &pending.nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        LoginRequest { authorize_url: url.into(), pending }
    }

    /// The callback: `state` must be the pending one; the code is redeemed
    /// with the verifier, and the ID token checked (with the pending nonce).
    /// The e-mail comes from the ID token, else from the userinfo endpoint.
    pub async fn finish(&self, pending: &PendingLogin, code: &str, state: &str) -> Result<Identity, SignInError> {
        let tokens = self.redeem(pending, code, state).await?;
        let mut identity = self.validator.check(&tokens.id_token, &pending.nonce).await?;
        if identity.email.is_none() {
            if let (Some(u), Some(at)) = (&self.metadata.userinfo_endpoint, &tokens.access_token) {
                identity.email = self.userinfo_email(u, at).await;
            }
        }
        Ok(identity)
    }

    /// Checks `state` and redeems `code` at the token endpoint (unchecked tokens).
    pub async fn redeem(&self, pending: &PendingLogin, code: &str, state: &str) -> Result<Tokens, SignInError> {
        use subtle::ConstantTimeEq;
        if !bool::from(state.as_bytes().ct_eq(pending.state.as_bytes())) {
            return Err(SignInError::Callback("the state does not match this browser's sign-in".into()));
        }
        let url = &self.metadata.token_endpoint;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            (
                "redirect_uri",
                if pending.redirect_uri.is_empty() { &self.config.redirect_uri } else { &pending.redirect_uri },
            ),
            ("client_id", &self.config.client_id),
            ("client_secret", &self.config.client_secret),
            ("code_verifier", &pending.code_verifier),
        ];
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let r = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|source| SignInError::Unreachable { url: url.clone(), source })?;
        let status = r.status().as_u16();
        let body = r.text().await.map_err(|source| SignInError::Unreachable { url: url.clone(), source })?;
        if status != 200 {
            return Err(SignInError::Provider { url: url.clone(), status, body: body.chars().take(300).collect() });
        }
        let t: TokenResponse = serde_json::from_str(&body)
            .map_err(|e| SignInError::Callback(format!("the token endpoint's answer is not JSON: {e}")))?;
        let id_token = t.id_token.ok_or_else(|| SignInError::Callback("the token endpoint sent no id_token".into()))?;
        Ok(Tokens { id_token, access_token: t.access_token })
    }

    async fn userinfo_email(&self, url: &str, access_token: &str) -> Option<String> {
        let v: serde_json::Value = self.http.get(url).bearer_auth(access_token).send().await.ok()?.json().await.ok()?;
        v.get("email").and_then(|e| e.as_str()).map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        for ok in ["/", "/outbox", "/approvals/act-1?r=r1.abc.def", "/?notice=kill-on"] {
            assert_eq!(safe_return_to(ok), ok);
        }
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/%0d%0a".replace("%0d%0a", "\r\n").as_str(),
            "https://evil.example/",
            "/\\evil.example",
            "evil",
            "/a b",
        ] {
            assert_eq!(safe_return_to(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(safe_return_to("/approvals/a1?x=1"), "/approvals/a1?x=1");
        for bad in ["https://evil.example/", "//evil.example/x", "/\\\\evil.example", "javascript:alert(1)"] {
            assert_eq!(safe_return_to(bad), "/", "{bad}");
        }
    }

    /// Web handlers need `Send` futures: a temporary held across an await once broke this.
    #[allow(dead_code)]
    fn finish_is_send(c: &Client, p: &PendingLogin) {
        fn send<T: Send>(_: T) {}
        send(c.finish(p, "code", "state"));
    }

    #[test]
    fn tokens_are_long_random_and_url_safe() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "RFC 7636 wants 43 to 128 characters");
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
