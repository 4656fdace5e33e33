//! The HMAC-SHA256 signature over `"<timestamp>.<raw body>"`, in both directions.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

pub const TIMESTAMP_HEADER: &str = "X-Atpilot-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Atpilot-Signature";

/// Why a signed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header is missing")]
    Missing,
    #[error("{TIMESTAMP_HEADER} is not unix seconds")]
    BadTimestamp,
    #[error("the signature is {0} s away from now (at most {max} s allowed): a replay or a wrong clock", max = crate::MAX_SKEW_SECS)]
    Skew(i64),
    #[error("the signature does not match the body (a wrong secret, or the body changed)")]
    Mismatch,
}

/// Signs and checks with one shared secret.
#[derive(Clone)]
pub struct Signer {
    secret: Vec<u8>,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(<secret>)")
    }
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    m.update(timestamp.as_bytes());
    m.update(b".");
    m.update(body);
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

impl Signer {
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        Signer { secret: secret.as_ref().to_vec() }
    }

    /// The signature header's value: `v1=<hex>`.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        format!("v1={}", hex(&mac(&self.secret, &timestamp.to_string(), body).finalize().into_bytes()))
    }

    /// Checks the headers against the raw body at `now` (unix seconds), in constant time.
    pub fn verify(
        &self,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        let (Some(ts), Some(sig)) = (timestamp, signature) else { return Err(SignatureError::Missing) };
        let at: i64 = ts.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
        let skew = (now - at).abs();
        if skew > crate::MAX_SKEW_SECS {
            return Err(SignatureError::Skew(skew));
        }
        let given = sig.trim().strip_prefix("v1=").and_then(unhex).ok_or(SignatureError::Mismatch)?;
        mac(&self.secret, ts.trim(), body).verify_slice(&given).map_err(|_| SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_secret_body_and_time() {
        let s = Signer::new("s3cret");
        let sig = s.sign(1_000, b"{}");
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64, "{sig}");
        assert_eq!(s.verify(Some("1000"), Some(&sig), b"{}", 1_100), Ok(()));
        assert_eq!(s.verify(Some("1000"), Some(&sig), b"{ }", 1_100), Err(SignatureError::Mismatch));
        assert_eq!(Signer::new("other").verify(Some("1000"), Some(&sig), b"{}", 1_100), Err(SignatureError::Mismatch));
        assert_eq!(s.verify(Some("1000"), Some(&sig), b"{}", 1_400), Err(SignatureError::Skew(400)));
        assert_eq!(s.verify(None, Some(&sig), b"{}", 1_000), Err(SignatureError::Missing));
        assert_eq!(s.verify(Some("x"), Some(&sig), b"{}", 1_000), Err(SignatureError::BadTimestamp));
        assert_eq!(s.verify(Some("1000"), Some("v1=zz"), b"{}", 1_000), Err(SignatureError::Mismatch));
    }
}
