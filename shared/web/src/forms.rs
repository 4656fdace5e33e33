//! The token every dashboard form carries (`csrf`), checked on its POST: a
//! page on another site (or another name resolving to 127.0.0.1) cannot read
//! it, so it cannot post the form, whatever Origin it forges.
//!
//! Behind a password (AWS, `atpilot dashboard`) the token is derived from the
//! password (HMAC-SHA256), so every Lambda instance accepts every other's
//! forms; on a loopback listener without a password it is random per process.

use hmac::{Hmac, Mac};
use rand::RngCore;

/// The value of the hidden `csrf` field (64 hex digits).
#[derive(Clone, PartialEq, Eq)]
pub struct FormToken(String);

impl std::fmt::Debug for FormToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FormToken(..)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl FormToken {
    /// Derived from the dashboard password: the same in every process that knows it.
    pub fn for_password(password: &str) -> Self {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(password.as_bytes()).expect("HMAC takes keys of any length");
        mac.update(b"atpilot dashboard forms v1");
        FormToken(hex(&mac.finalize().into_bytes()))
    }

    /// Random, for one process (a local dashboard without a password).
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        FormToken(hex(&bytes))
    }

    /// The token, for the hidden field.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a submitted value is this token (constant time).
    pub fn matches(&self, submitted: Option<&str>) -> bool {
        submitted.is_some_and(|s| subtle::ConstantTimeEq::ct_eq(s.as_bytes(), self.0.as_bytes()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_per_password_and_differ_otherwise() {
        let a = FormToken::for_password("correct horse battery staple");
        assert_eq!(a, FormToken::for_password("correct horse battery staple"));
        assert_ne!(a, FormToken::for_password("another password entirely"));
        assert_ne!(FormToken::random(), FormToken::random());
        assert_eq!(a.as_str().len(), 64);
        assert!(a.matches(Some(a.as_str())));
        assert!(!a.matches(Some("0".repeat(64).as_str())) && !a.matches(None));
    }
}
