//! The session cookie: the signed-in [`Session`] as JSON, sealed with
//! AES-256-GCM (encrypted and authenticated: a changed byte opens to
//! nothing) under a key derived from the deployment's secret, with its own
//! expiry inside. The same codec seals the short-lived pending sign-in.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Who is signed in, until when, and the token their forms must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub identity: crate::Identity,
    /// Unix seconds.
    pub expires_at: i64,
    /// The CSRF token every POST of this session carries.
    pub csrf: String,
}

/// Seals and opens cookie values; `purpose` separates the kinds of value
/// (a sealed login cannot be replayed as a session).
pub struct SessionCodec {
    key: LessSafeKey,
}

#[derive(Serialize, Deserialize)]
struct Sealed<T> {
    purpose: String,
    expires_at: i64,
    value: T,
}

impl SessionCodec {
    /// A codec keyed by `secret` (at least 32 bytes of randomness; the same
    /// in every process that must open the cookies).
    pub fn new(secret: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(b"atpilot sign-in cookie key v1\0");
        h.update(secret);
        let key = UnboundKey::new(&AES_256_GCM, &h.finalize()).expect("a 32-byte key");
        Self { key: LessSafeKey::new(key) }
    }

    /// `value` sealed for `purpose` until `expires_at` (Unix seconds).
    pub fn seal<T: Serialize>(&self, purpose: &str, expires_at: i64, value: &T) -> String {
        let mut data =
            serde_json::to_vec(&Sealed { purpose: purpose.to_string(), expires_at, value }).expect("serializable");
        let nonce_bytes: [u8; NONCE_LEN] = rand::random();
        let nonce = Nonce::assume_unique_for_key(nonce_bytes);
        self.key.seal_in_place_append_tag(nonce, Aad::from(purpose.as_bytes()), &mut data).expect("sealing in memory");
        let mut out = nonce_bytes.to_vec();
        out.extend(data);
        B64.encode(out)
    }

    /// The value sealed for `purpose`, if authentic and not expired at `now`.
    pub fn open<T: DeserializeOwned>(&self, purpose: &str, sealed: &str, now: i64) -> Option<T> {
        let raw = B64.decode(sealed.trim()).ok()?;
        if raw.len() <= NONCE_LEN {
            return None;
        }
        let (n, rest) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(n).ok()?;
        let mut data = rest.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut data).ok()?;
        let s: Sealed<T> = serde_json::from_slice(plain).ok()?;
        (s.purpose == purpose && s.expires_at > now).then_some(s.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_untouched_unexpired_and_for_their_purpose() {
        let c = SessionCodec::new(b"a deployment secret of thirty-two bytes!");
        let s = c.seal("session", 1_000, &"ana@msp.example");
        assert_eq!(c.open::<String>("session", &s, 999).as_deref(), Some("ana@msp.example"));
        assert_eq!(c.open::<String>("session", &s, 1_000), None, "expired");
        assert_eq!(c.open::<String>("login", &s, 999), None, "another purpose");
        let mut bytes = B64.decode(&s).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(c.open::<String>("session", &B64.encode(bytes), 999), None, "changed");
        assert_eq!(SessionCodec::new(b"another secret entirely, 32 bytes").open::<String>("session", &s, 999), None);
        // Not only signed: the decoded cookie does not hold the value. (A
        // check on the base64 text for "ana" failed once in CI: random
        // ciphertext spells three given letters about once in 2,000 seals.)
        let raw = B64.decode(&s).unwrap();
        assert!(!raw.windows(b"ana@msp.example".len()).any(|w| w == b"ana@msp.example"), "encrypted, not only signed");
    }
}
