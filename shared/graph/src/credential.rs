//! App credentials (reference §1 "Client credentials"): a client secret, or a
//! certificate whose private key signs a JWT client assertion with
//! `aud` = the token URL, `iss` = `sub` = the client id, a GUID `jti`,
//! `nbf` = `iat` = now, `exp` = now + 5 min (Entra allows 5–10). The header is
//! `PS256` + `x5t#S256` (current doc) or `RS256` + `x5t` (SHA-1, previous doc),
//! selectable. Signing uses `jsonwebtoken` (aws-lc-rs backend): no hand-rolled RSA.

use crate::ids::ClientSecret;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use sha1::Digest;
use std::fmt;
use std::sync::Arc;

/// Assertion lifetime (Entra: `exp` at most 5–10 minutes after `nbf`).
pub const ASSERTION_LIFETIME_SECS: i64 = 300;

/// How the app proves itself.
#[derive(Debug, Clone)]
pub enum Credential {
    Secret { secret: ClientSecret, placement: SecretPlacement },
    Certificate(CertificateCredential),
}

impl Credential {
    /// A secret sent as the `client_secret` form field.
    pub fn secret(value: impl Into<String>) -> Self {
        Credential::Secret { secret: ClientSecret::new(value), placement: SecretPlacement::Form }
    }

    /// What one stored secret holds: a PEM bundle (the certificate and its
    /// RSA private key, in either order) is a certificate credential
    /// (PS256 + `x5t#S256` assertions); anything else is a client secret value.
    /// Errors: a bundle without a private key, or a key or certificate that does not parse.
    pub fn from_secret_value(value: &str) -> Result<Self, CredentialError> {
        let value = value.trim();
        if !value.contains("-----BEGIN CERTIFICATE-----") {
            return Ok(Credential::secret(value));
        }
        let key = ["PRIVATE KEY", "RSA PRIVATE KEY"]
            .iter()
            .find_map(|kind| {
                let (begin, end) = (format!("-----BEGIN {kind}-----"), format!("-----END {kind}-----"));
                let start = value.find(&begin)?;
                let stop = start + value[start..].find(&end)? + end.len();
                Some(value[start..stop].to_string())
            })
            .ok_or(CredentialError::MissingKey)?;
        let cert = CertificateCredential::from_pem(key.as_bytes(), value, AssertionStyle::Ps256X5tS256)?;
        Ok(Credential::Certificate(cert))
    }
}

/// Where the secret goes: the form field (default) or HTTP Basic auth (both accepted by Entra).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretPlacement {
    #[default]
    Form,
    Basic,
}

/// The assertion header style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssertionStyle {
    /// `alg: PS256`, `x5t#S256`: base64url SHA-256 of the certificate (current doc).
    #[default]
    Ps256X5tS256,
    /// `alg: RS256`, `x5t`: base64url SHA-1 of the certificate (previous doc).
    Rs256X5t,
}

/// Why a certificate credential cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("the private key is not an RSA PEM key: {source}")]
    Key { source: jsonwebtoken::errors::Error },
    #[error("the certificate is not a PEM certificate (-----BEGIN CERTIFICATE-----)")]
    Certificate,
    #[error("the PEM bundle has a certificate but no -----BEGIN PRIVATE KEY----- block")]
    MissingKey,
    #[error("thumbprint {0:?} is not hex (as the Azure portal shows it)")]
    Thumbprint(String),
    #[error("the {0:?} assertion style needs the certificate's {1} thumbprint")]
    MissingThumbprint(AssertionStyle, &'static str),
}

/// A certificate credential: the private key and the certificate's thumbprints.
#[derive(Clone)]
pub struct CertificateCredential {
    key: Arc<EncodingKey>,
    /// base64url SHA-1 of the certificate DER (`x5t`).
    pub x5t: Option<String>,
    /// base64url SHA-256 of the certificate DER (`x5t#S256`).
    pub x5t_s256: Option<String>,
    pub style: AssertionStyle,
}

impl fmt::Debug for CertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateCredential")
            .field("key", &"<redacted>")
            .field("x5t", &self.x5t)
            .field("x5t_s256", &self.x5t_s256)
            .field("style", &self.style)
            .finish()
    }
}

impl CertificateCredential {
    /// From the PEM private key and the PEM certificate (both thumbprints computed).
    pub fn from_pem(
        private_key_pem: &[u8],
        certificate_pem: &str,
        style: AssertionStyle,
    ) -> Result<Self, CredentialError> {
        let der = certificate_der(certificate_pem).ok_or(CredentialError::Certificate)?;
        let key = EncodingKey::from_rsa_pem(private_key_pem).map_err(|source| CredentialError::Key { source })?;
        Ok(Self {
            key: Arc::new(key),
            x5t: Some(URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&der))),
            x5t_s256: Some(URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&der))),
            style,
        })
    }

    /// From the PEM private key and the hex thumbprints the portal shows
    /// (SHA-1 for RS256, SHA-256 for PS256; colons allowed).
    pub fn from_thumbprints(
        private_key_pem: &[u8],
        sha1_hex: Option<&str>,
        sha256_hex: Option<&str>,
        style: AssertionStyle,
    ) -> Result<Self, CredentialError> {
        let key = EncodingKey::from_rsa_pem(private_key_pem).map_err(|source| CredentialError::Key { source })?;
        let conv = |h: Option<&str>| -> Result<Option<String>, CredentialError> {
            h.map(|h| hex_to_b64url(h).ok_or_else(|| CredentialError::Thumbprint(h.to_string()))).transpose()
        };
        let c = Self { key: Arc::new(key), x5t: conv(sha1_hex)?, x5t_s256: conv(sha256_hex)?, style };
        match style {
            AssertionStyle::Ps256X5tS256 if c.x5t_s256.is_none() => {
                Err(CredentialError::MissingThumbprint(style, "SHA-256"))
            }
            AssertionStyle::Rs256X5t if c.x5t.is_none() => Err(CredentialError::MissingThumbprint(style, "SHA-1")),
            _ => Ok(c),
        }
    }

    /// The same key and thumbprints with another header style.
    pub fn with_style(mut self, style: AssertionStyle) -> Self {
        self.style = style;
        self
    }

    /// The signed assertion for `token_url` (also its `aud`).
    pub fn assertion(
        &self,
        client_id: &str,
        token_url: &str,
        now: DateTime<Utc>,
        jti: uuid::Uuid,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = match self.style {
            AssertionStyle::Ps256X5tS256 => {
                let mut h = Header::new(Algorithm::PS256);
                h.x5t_s256 = self.x5t_s256.clone();
                h
            }
            AssertionStyle::Rs256X5t => {
                let mut h = Header::new(Algorithm::RS256);
                h.x5t = self.x5t.clone();
                h
            }
        };
        header.typ = Some("JWT".into());
        let t = now.timestamp();
        let claims = AssertionClaims {
            aud: token_url,
            iss: client_id,
            sub: client_id,
            jti: jti.to_string(),
            nbf: t,
            iat: t,
            exp: t + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
    }
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

/// The DER bytes of the first certificate in a PEM text.
pub fn certificate_der(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = start + pem[start..].find("-----END CERTIFICATE-----")?;
    let b64: String = pem[start..end].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(b64).ok()
}

fn hex_to_b64url(h: &str) -> Option<String> {
    let clean: Vec<u8> = h.bytes().filter(|b| *b != b':' && !b.is_ascii_whitespace()).collect();
    if clean.is_empty() || clean.len() % 2 != 0 {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        clean.chunks(2).map(|p| std::str::from_utf8(p).ok().and_then(|s| u8::from_str_radix(s, 16).ok())).collect();
    bytes.map(|b| URL_SAFE_NO_PAD.encode(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_thumbprints_become_base64url() {
        assert_eq!(hex_to_b64url("DB:AA:8F"), Some(URL_SAFE_NO_PAD.encode([0xdb, 0xaa, 0x8f])));
        assert_eq!(hex_to_b64url("dbaa8f"), Some(URL_SAFE_NO_PAD.encode([0xdb, 0xaa, 0x8f])));
        assert_eq!(hex_to_b64url("xyz1"), None);
        assert_eq!(hex_to_b64url("abc"), None);
    }

    #[test]
    fn certificate_der_needs_a_pem_certificate() {
        assert!(certificate_der("nothing").is_none());
        assert_eq!(
            certificate_der("-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n"),
            Some(vec![0, 1, 2])
        );
    }
}
