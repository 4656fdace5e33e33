//! The ID token, checked with `jsonwebtoken` against the provider's JWKS:
//! the signature (asymmetric algorithms the key supports; `none` and HMAC are
//! refused), `iss` exactly the provider's issuer, `aud` the client id, `exp`
//! and `nbf` with a bounded clock skew, then `nonce` against the pending
//! sign-in. Keys are cached and fetched again once when a token names an
//! unknown `kid` (keys roll over; reference §4 "Keys, clock, logout").

use crate::SignInError;
use crate::discovery::Metadata;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Keys are fetched again after this long even without an unknown `kid`.
const KEYS_TTL: Duration = Duration::from_secs(24 * 3600);

/// Who signed in: the provider's stable subject, and what to show and match.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    /// Stable identity: `entra:{tid}:{oid}` for Entra ID, else `{iss}#{sub}`.
    pub subject: String,
    /// The `email` claim (from the ID token, else from the userinfo endpoint).
    pub email: Option<String>,
    /// `preferred_username`: matched only when there is no e-mail.
    pub preferred_username: Option<String>,
    pub name: Option<String>,
}

impl Identity {
    /// The name matched to configured people: the e-mail, else `preferred_username`.
    pub fn login_name(&self) -> Option<&str> {
        self.email.as_deref().or(self.preferred_username.as_deref())
    }
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    tid: Option<String>,
    #[serde(default)]
    oid: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// Checks ID tokens of one provider for one client.
pub struct Validator {
    issuer: String,
    jwks_uri: String,
    client_id: String,
    clock_skew: Duration,
    http: reqwest::Client,
    keys: Mutex<Option<(Instant, JwkSet)>>,
}

impl Validator {
    pub fn new(metadata: &Metadata, client_id: &str, clock_skew: Duration, http: reqwest::Client) -> Self {
        Self {
            issuer: metadata.issuer.clone(),
            jwks_uri: metadata.jwks_uri.clone(),
            client_id: client_id.to_string(),
            clock_skew,
            http,
            keys: Mutex::new(None),
        }
    }

    /// The identity in `token`, if every check passes (see the module).
    pub async fn check(&self, token: &str, nonce: &str) -> Result<Identity, SignInError> {
        let refuse = |why: String| SignInError::IdToken(why);
        let header = decode_header(token).map_err(|e| refuse(format!("not a signed JWT: {e}")))?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
                | Algorithm::ES256
                | Algorithm::ES384
                | Algorithm::EdDSA
        ) {
            return Err(refuse(format!(
                "algorithm {:?} is not accepted (only the provider's key signatures)",
                header.alg
            )));
        }
        let kid = header.kid.clone().ok_or_else(|| refuse("the token names no key (kid)".into()))?;
        let key = self.key(&kid).await?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.client_id]);
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.validate_nbf = true;
        v.leeway = self.clock_skew.as_secs();
        let data = decode::<Claims>(token, &key, &v).map_err(|e| refuse(e.to_string()))?;
        let c = data.claims;
        let same = c.nonce.as_deref().is_some_and(|n| {
            use subtle::ConstantTimeEq;
            bool::from(n.as_bytes().ct_eq(nonce.as_bytes()))
        });
        if !same {
            return Err(refuse("the nonce is not this sign-in's (a replayed or foreign token)".into()));
        }
        let subject = match (&c.tid, &c.oid) {
            (Some(tid), Some(oid)) if c.iss.starts_with("https://login.microsoftonline.com/") => {
                format!("entra:{tid}:{oid}")
            }
            _ => format!("{}#{}", c.iss, c.sub),
        };
        Ok(Identity { subject, email: c.email, preferred_username: c.preferred_username, name: c.name })
    }

    /// The key `kid`, from the cached set or, when unknown or old, a fresh one.
    async fn key(&self, kid: &str) -> Result<DecodingKey, SignInError> {
        let mut keys = self.keys.lock().await;
        let fresh = keys.as_ref().is_some_and(|(at, _)| at.elapsed() < KEYS_TTL);
        let known = keys.as_ref().and_then(|(_, set)| set.find(kid)).is_some();
        if !fresh || !known {
            *keys = Some((Instant::now(), self.fetch_keys().await?));
        }
        let jwk = keys.as_ref().and_then(|(_, set)| set.find(kid)).ok_or_else(|| {
            SignInError::IdToken(format!("key {kid:?} is not among the provider's keys ({})", self.jwks_uri))
        })?;
        DecodingKey::from_jwk(jwk).map_err(|e| SignInError::IdToken(format!("key {kid:?} is not usable: {e}")))
    }

    async fn fetch_keys(&self) -> Result<JwkSet, SignInError> {
        let url = &self.jwks_uri;
        let r =
            self.http.get(url).send().await.map_err(|source| SignInError::Unreachable { url: url.clone(), source })?;
        let status = r.status().as_u16();
        let body = r.text().await.map_err(|source| SignInError::Unreachable { url: url.clone(), source })?;
        if status != 200 {
            return Err(SignInError::Provider { url: url.clone(), status, body: body.chars().take(300).collect() });
        }
        serde_json::from_str(&body).map_err(|e| SignInError::Metadata(format!("{url} is not a JWK set: {e}")))
    }
}
