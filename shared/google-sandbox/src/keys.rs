//! TEST-ONLY key material (`test-only-keys/`, generated once with the
//! `openssl` CLI, see its README): the sandbox service account's RSA key pair
//! and a second key the sandbox does not trust. They protect nothing; never
//! use them outside tests and the local sandbox.

use crate::seed::{CLIENT_ID, PRIVATE_KEY_ID, SERVICE_ACCOUNT_EMAIL};

/// TEST ONLY: the service account's private key (PKCS#8 PEM).
pub const TEST_ONLY_PRIVATE_KEY_PEM: &str = include_str!("../test-only-keys/TEST-ONLY-service-account-key.pem");
/// TEST ONLY: its public key (SPKI PEM), what the token endpoint verifies assertions with.
pub const TEST_ONLY_PUBLIC_KEY_PEM: &str = include_str!("../test-only-keys/TEST-ONLY-service-account-pubkey.pem");
/// TEST ONLY: a private key the sandbox does not trust (forged-assertion tests).
pub const TEST_ONLY_OTHER_PRIVATE_KEY_PEM: &str = include_str!("../test-only-keys/TEST-ONLY-other-key.pem");

/// The TEST-ONLY service-account key file, in Google's format, naming `token_uri`.
pub fn service_account_json(token_uri: &str) -> String {
    service_account_json_with_key(token_uri, TEST_ONLY_PRIVATE_KEY_PEM)
}

/// The same key file with another private key (e.g. [`TEST_ONLY_OTHER_PRIVATE_KEY_PEM`]).
pub fn service_account_json_with_key(token_uri: &str, private_key_pem: &str) -> String {
    serde_json::json!({
        "type": "service_account",
        "project_id": "atpilot-sandbox",
        "private_key_id": PRIVATE_KEY_ID,
        "private_key": private_key_pem,
        "client_email": SERVICE_ACCOUNT_EMAIL,
        "client_id": CLIENT_ID,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/atpilot%40atpilot-sandbox.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com"
    })
    .to_string()
}
