//! Key-file parsing errors, SKU parsing and password bounds, through the public API.

use atpilot_google::client::check_password;
use atpilot_google::{GoogleError, ServiceAccountKey, Sku};
use atpilot_google_sandbox::keys;

fn key_file(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&keys::service_account_json("https://oauth2.googleapis.com/token")).expect("json");
    edit(&mut v);
    v.to_string()
}

fn key_error(json: &str) -> String {
    match ServiceAccountKey::from_json(json) {
        Err(GoogleError::Key(m)) => m,
        other => panic!("expected a key error, got {other:?}"),
    }
}

#[test]
fn the_sandbox_key_file_parses() {
    let k = ServiceAccountKey::from_json(&key_file(|_| {})).expect("key");
    assert_eq!(k.client_email, atpilot_google_sandbox::SERVICE_ACCOUNT_EMAIL);
    assert_eq!(k.private_key_id.as_deref(), Some(atpilot_google_sandbox::PRIVATE_KEY_ID));
}

#[test]
fn key_file_errors_say_what_is_wrong_without_quoting_the_key() {
    assert!(key_error("not json").contains("not JSON"));
    assert!(key_error(&key_file(|v| v["type"] = "authorized_user".into())).contains("\"authorized_user\""));
    assert!(key_error(&key_file(|v| drop(v.as_object_mut().map(|o| o.remove("type"))))).contains("\"type\""));
    assert!(key_error(&key_file(|v| v["client_email"] = "".into())).contains("client_email"));
    assert!(key_error(&key_file(|v| drop(v.as_object_mut().map(|o| o.remove("private_key"))))).contains("private_key"));
    let garbage = "-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n";
    let m = key_error(&key_file(|v| v["private_key"] = garbage.into()));
    assert!(m.contains("RSA private key") && !m.contains("not-a-key"), "{m}");
    let m = key_error(&key_file(|v| v["token_uri"] = "ftp://x".into()));
    assert!(m.contains("token_uri"), "{m}");
    let full = GoogleError::Key(m).to_string();
    assert!(full.starts_with("the Google service-account key cannot be used"), "{full}");
}

#[test]
fn skus_and_passwords() {
    let s: Sku = "Google-Apps/1010020027".parse().expect("sku");
    assert_eq!(
        (s.product_id(), s.sku_id(), s.to_string().as_str()),
        ("Google-Apps", "1010020027", "Google-Apps/1010020027")
    );
    let e = "1010020027".parse::<Sku>().expect_err("no product").to_string();
    assert!(e.contains("\"productId/skuId\""), "{e}");
    assert!(check_password("12345678").is_ok() && check_password(&"a".repeat(100)).is_ok());
    assert!(check_password("1234567").is_err() && check_password(&"a".repeat(101)).is_err());
    assert!(check_password("naïve-password").is_err());
}
