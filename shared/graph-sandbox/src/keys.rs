//! TEST-ONLY key material (`test-only-keys/`, generated once with the
//! `openssl` CLI): an RSA key pair and a self-signed certificate the sandbox
//! trusts for client assertions, and a second key it does not trust. They
//! protect nothing; never use them outside tests and the local sandbox.

use crate::seed::CertSeed;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha1::Digest;

/// TEST ONLY: the app's private key (PKCS#8 PEM).
pub const TEST_ONLY_PRIVATE_KEY_PEM: &str = include_str!("../test-only-keys/TEST-ONLY-app-key.pem");
/// TEST ONLY: the app's self-signed certificate (PEM).
pub const TEST_ONLY_CERTIFICATE_PEM: &str = include_str!("../test-only-keys/TEST-ONLY-app-cert.pem");
/// TEST ONLY: the certificate's public key (SPKI PEM), what the token endpoint verifies with.
pub const TEST_ONLY_PUBLIC_KEY_PEM: &str = include_str!("../test-only-keys/TEST-ONLY-app-pubkey.pem");
/// TEST ONLY: a private key the sandbox does not trust (AADSTS700027 tests).
pub const TEST_ONLY_OTHER_PRIVATE_KEY_PEM: &str = include_str!("../test-only-keys/TEST-ONLY-other-key.pem");

/// The DER of the first PEM certificate in `pem`.
pub fn certificate_der(pem: &str) -> Option<Vec<u8>> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    let start = pem.find(BEGIN)? + BEGIN.len();
    let end = start + pem[start..].find("-----END CERTIFICATE-----")?;
    let b64: String = pem[start..end].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(b64).ok()
}

/// (`x5t`, `x5t#S256`) of a PEM certificate: base64url SHA-1 and SHA-256 of its DER.
pub fn thumbprints(cert_pem: &str) -> Option<(String, String)> {
    let der = certificate_der(cert_pem)?;
    Some((URL_SAFE_NO_PAD.encode(sha1::Sha1::digest(&der)), URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(&der))))
}

/// The test-only certificate as the seed trusts it.
pub fn cert_seed() -> CertSeed {
    let (x5t, x5t_s256) = thumbprints(TEST_ONLY_CERTIFICATE_PEM).unwrap_or_default();
    CertSeed { public_key_pem: TEST_ONLY_PUBLIC_KEY_PEM.to_string(), x5t, x5t_s256 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_certificate_thumbprints_match_openssl() {
        // `openssl x509 -fingerprint -sha1` printed DB:AA:8F:F9:…
        let (x5t, s256) = thumbprints(TEST_ONLY_CERTIFICATE_PEM).expect("certificate");
        let sha1 = URL_SAFE_NO_PAD.decode(x5t).expect("b64");
        assert_eq!(&sha1[..4], &[0xDB, 0xAA, 0x8F, 0xF9]);
        let sha256 = URL_SAFE_NO_PAD.decode(s256).expect("b64");
        assert_eq!(&sha256[..4], &[0xF1, 0xCD, 0xFE, 0x17]);
    }
}
