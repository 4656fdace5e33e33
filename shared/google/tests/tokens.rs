//! Tokens: the sandbox verifies the JWT (signature, claims, delegation); the
//! client caches per (admin, scope), names a missing delegation's scope, and
//! refreshes after a 401.

mod common;

use atpilot_google::{GoogleError, Scope, ServiceAccountKey};
use atpilot_google_sandbox::{CLIENT_ID, keys, scopes};
use common::{env, fast_retry, subject};

#[tokio::test]
async fn a_verified_assertion_gets_a_token_that_is_cached_per_scope() {
    let e = env().await;
    let u = e.client.get_user(&e.admin, "ann.archer@c1.example").await.expect("get").expect("user");
    assert_eq!(u.primary_email, "ann.archer@c1.example");
    e.client.get_user(&e.admin, "ben.baker@c1.example").await.expect("second get");
    e.client.set_suspended(&e.admin, "ben.baker@c1.example", false).await.expect("patch, same scope");
    let tokens = e.token_requests();
    assert_eq!(tokens.len(), 1, "one token for three calls with the user scope: {tokens:?}");
    assert_eq!((tokens[0].method.as_str(), tokens[0].status), ("POST", 200));
    assert_eq!(tokens[0].customer.as_deref(), Some("C00000001"));
    // Another scope is another token (each call asks only for the scope it needs).
    e.client.sign_out(&e.admin, "ann.archer@c1.example").await.expect("sign out");
    e.client.sign_out(&e.admin, "ben.baker@c1.example").await.expect("sign out again");
    assert_eq!(e.token_requests().len(), 2);
    // Another admin is another token.
    let admin2 = subject("admin@c2.example");
    e.client.get_user(&admin2, "dee.dunn@c2.example").await.expect("get").expect("user in c2");
    assert_eq!(e.token_requests().len(), 3);
    assert_eq!(e.token_requests()[2].customer.as_deref(), Some("C00000002"));
}

#[tokio::test]
async fn concurrent_calls_share_one_token_fetch() {
    let e = env().await;
    let (a, b, c) = tokio::join!(
        e.client.get_user(&e.admin, "ann.archer@c1.example"),
        e.client.get_user(&e.admin, "ben.baker@c1.example"),
        e.client.get_user(&e.admin, "admin@c1.example"),
    );
    assert!(a.expect("a").is_some() && b.expect("b").is_some() && c.expect("c").is_some());
    assert_eq!(e.token_requests().len(), 1, "one fetch per (admin, scope) at a time");
}

#[tokio::test]
async fn an_assertion_signed_by_another_key_is_refused_as_a_bad_signature() {
    let e = env().await;
    let forged = keys::service_account_json_with_key(&e.sb.token_url(), keys::TEST_ONLY_OTHER_PRIVATE_KEY_PEM);
    let client = common::client_with_key(&e.sb, &forged, fast_retry());
    let err = client.get_user(&e.admin, "ann.archer@c1.example").await.expect_err("forged");
    match &err {
        GoogleError::Token { status: 400, error, description, .. } => {
            assert_eq!(error, "invalid_grant");
            assert_eq!(description.as_deref(), Some("Invalid JWT Signature."));
        }
        other => panic!("expected a token refusal, got {other:?}"),
    }
    assert!(err.to_string().contains("deleted or rotated"), "{err}");
}

#[tokio::test]
async fn a_missing_delegation_names_exactly_the_missing_scope_and_the_client_id() {
    let e = env().await;
    e.sb.set_delegated_scopes("c1.example", &[scopes::USER, scopes::GROUP_MEMBER, scopes::LICENSING]);
    let err = e.client.sign_out(&e.admin, "ann.archer@c1.example").await.expect_err("not delegated");
    let GoogleError::Token { status, error, scopes, subject, client_id, .. } = &err else {
        panic!("expected a token refusal, got {err:?}")
    };
    assert_eq!((*status, error.as_str()), (401, "unauthorized_client"));
    assert_eq!(scopes, &vec![Scope::UserSecurity]);
    assert_eq!((subject.as_str(), client_id.as_deref()), ("admin@c1.example", Some(CLIENT_ID)));
    let text = err.to_string();
    assert!(text.contains("https://www.googleapis.com/auth/admin.directory.user.security"), "{text}");
    assert!(!text.contains("auth/apps.licensing"), "only the missing scope: {text}");
    assert!(text.contains(CLIENT_ID) && text.contains("Domain-wide delegation"), "{text}");
    assert_eq!(err.status(), Some(401));
    // The delegated scopes still work, and check_delegation finds the gap.
    assert!(e.client.get_user(&e.admin, "ann.archer@c1.example").await.expect("user scope").is_some());
    let err = e.client.check_delegation(&e.admin, &Scope::ALL).await.expect_err("gap");
    assert!(matches!(err, GoogleError::Token { ref scopes, .. } if scopes == &vec![Scope::UserSecurity]));
    e.sb.set_delegated_scopes("c1.example", &atpilot_google_sandbox::ALL_SCOPES);
    e.client.check_delegation(&e.admin, &Scope::ALL).await.expect("all delegated now");
}

#[tokio::test]
async fn an_unknown_admin_is_an_invalid_grant_naming_the_admin() {
    let e = env().await;
    let nobody = subject("nobody@c1.example");
    let err = e.client.get_user(&nobody, "ann.archer@c1.example").await.expect_err("unknown admin");
    assert!(
        matches!(&err, GoogleError::Token { error, description, .. }
            if error == "invalid_grant" && description.as_deref() == Some("Invalid email or User ID")),
        "{err:?}"
    );
    assert!(err.to_string().contains("nobody@c1.example"), "{err}");
}

#[tokio::test]
async fn an_expired_token_is_replaced_after_a_401() {
    let e = env().await;
    e.client.get_user(&e.admin, "ann.archer@c1.example").await.expect("first");
    e.sb.expire_tokens();
    e.client.get_user(&e.admin, "ann.archer@c1.example").await.expect("after expiry").expect("user");
    let gets = e.api_requests("/users/ann.archer@c1.example");
    assert_eq!(gets.iter().map(|r| r.status).collect::<Vec<_>>(), vec![200, 401, 200]);
    assert_eq!(e.token_requests().len(), 2);
}

#[tokio::test]
async fn the_key_file_names_the_token_url_and_never_prints_the_private_key() {
    let e = env().await;
    let key = ServiceAccountKey::from_json(&e.sb.service_account_json()).expect("key");
    assert_eq!(key.token_uri.as_deref(), Some(e.sb.token_url().as_str()));
    let cfg = atpilot_google::GoogleConfig::new(key.clone());
    assert_eq!(cfg.token_url.as_str(), e.sb.token_url());
    let debug = format!("{key:?} {cfg:?}");
    assert!(debug.contains("<redacted>") && !debug.contains("PRIVATE KEY"), "{debug}");
    assert_eq!(key.client_id.as_deref(), Some(CLIENT_ID));
}
