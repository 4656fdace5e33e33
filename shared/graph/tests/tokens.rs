//! Conformance: credentials, token errors and the per-tenant token cache, on the sandbox.

mod common;

use atpilot_graph::{
    AssertionStyle, CertificateCredential, Credential, GraphError, SecretPlacement, TenantId, TokenError,
};
use atpilot_graph_sandbox::{CLIENT_SECRET_ID, Consent, EXPIRED_CLIENT_SECRET, keys};
use common::*;
use std::time::Duration;

async fn token_error(cred: Credential, tenant: &TenantId) -> TokenError {
    let sb = sandbox().await;
    let (client, _, _) = client_with(&sb, cred);
    match client.get_user(tenant, "admin@c1.example").await {
        Err(GraphError::Token { source, .. }) => source,
        other => panic!("expected a token error, got {other:?}"),
    }
}

#[tokio::test]
async fn secret_in_form_and_in_basic_auth_both_work() {
    let sb = sandbox().await;
    for placement in [SecretPlacement::Form, SecretPlacement::Basic] {
        let cred = Credential::Secret {
            secret: atpilot_graph::ClientSecret::new(atpilot_graph_sandbox::CLIENT_SECRET),
            placement,
        };
        let (client, _, _) = client_with(&sb, cred);
        let u = client.get_user(&t1(), "admin@c1.example").await.expect("user");
        assert_eq!(u.user_principal_name, "admin@c1.example");
    }
}

#[tokio::test]
async fn certificate_assertions_in_both_header_styles_are_accepted() {
    let sb = sandbox().await;
    for style in [AssertionStyle::Ps256X5tS256, AssertionStyle::Rs256X5t] {
        let (client, _, _) = client_with(&sb, certificate(style));
        let u = client.get_user(&t1(), "admin@c1.example").await.expect("user with certificate");
        assert_eq!(u.user_principal_name, "admin@c1.example");
    }
    assert_eq!(sb.token_requests(), 2);
}

#[tokio::test]
async fn one_stored_value_is_a_secret_or_a_certificate_bundle() {
    let sb = sandbox().await;
    let bundle = format!(
        "{}\n{}",
        atpilot_graph_sandbox::keys::TEST_ONLY_CERTIFICATE_PEM,
        atpilot_graph_sandbox::keys::TEST_ONLY_PRIVATE_KEY_PEM
    );
    let cred = Credential::from_secret_value(&bundle).expect("a certificate bundle");
    assert!(matches!(cred, Credential::Certificate(_)));
    let (client, _, _) = client_with(&sb, cred);
    assert!(client.get_user(&t1(), "admin@c1.example").await.is_ok(), "a token by certificate assertion");
    let secret = Credential::from_secret_value(&format!(" {} ", atpilot_graph_sandbox::CLIENT_SECRET)).unwrap();
    assert!(matches!(secret, Credential::Secret { .. }));
    let (client, _, _) = client_with(&sb, secret);
    assert!(client.get_user(&t1(), "admin@c1.example").await.is_ok(), "a token by secret");
    let no_key = Credential::from_secret_value(atpilot_graph_sandbox::keys::TEST_ONLY_CERTIFICATE_PEM);
    assert!(matches!(no_key, Err(atpilot_graph::CredentialError::MissingKey)));
}

#[tokio::test]
async fn thumbprints_from_the_portal_hex_work_too() {
    let sb = sandbox().await;
    let cred = CertificateCredential::from_thumbprints(
        keys::TEST_ONLY_PRIVATE_KEY_PEM.as_bytes(),
        Some("DB:AA:8F:F9:24:15:21:13:5D:12:B3:94:85:7C:F1:9B:BE:B2:89:2F"),
        None,
        AssertionStyle::Rs256X5t,
    )
    .expect("credential");
    let (client, _, _) = client_with(&sb, Credential::Certificate(cred));
    client.get_user(&t1(), "admin@c1.example").await.expect("RS256 with the portal's SHA-1 thumbprint");
}

#[tokio::test]
async fn an_untrusted_key_or_a_disabled_style_is_a_bad_assertion() {
    let other = CertificateCredential::from_pem(
        keys::TEST_ONLY_OTHER_PRIVATE_KEY_PEM.as_bytes(),
        keys::TEST_ONLY_CERTIFICATE_PEM,
        AssertionStyle::Ps256X5tS256,
    )
    .expect("credential");
    let e = token_error(Credential::Certificate(other), &t1()).await;
    assert!(matches!(e, TokenError::BadAssertion { ref source } if source.status == 401), "{e:?}");
    assert!(e.to_string().contains("700027"));

    let sb = sandbox().await;
    sb.set_knobs(|k| k.accept_rs256_x5t = false);
    let (client, _, _) = client_with(&sb, certificate(AssertionStyle::Rs256X5t));
    let e = client.get_user(&t1(), "admin@c1.example").await.expect_err("RS256 refused");
    assert!(matches!(e, GraphError::Token { source: TokenError::BadAssertion { .. }, .. }), "{e:?}");
}

#[tokio::test]
async fn secret_errors_are_typed_with_an_actionable_message() {
    let e = token_error(Credential::secret(CLIENT_SECRET_ID), &t1()).await;
    assert!(
        matches!(e, TokenError::BadSecret { ref source } if source.status == 401 && source.error == "invalid_client")
    );
    assert!(e.to_string().contains("VALUE, not its secret ID"));
    let e = token_error(Credential::secret(EXPIRED_CLIENT_SECRET), &t1()).await;
    assert!(matches!(e, TokenError::SecretExpired { .. }), "{e:?}");
}

#[tokio::test]
async fn unknown_or_unconsented_tenants_are_not_consented() {
    let e =
        token_error(Credential::secret(atpilot_graph_sandbox::CLIENT_SECRET), &TenantId::new("nowhere.example")).await;
    assert!(
        matches!(e, TokenError::NotConsented { ref source, .. } if source.status == 400 && source.error_codes == vec![700016])
    );
    assert!(e.to_string().contains("admin consent"));

    let sb = sandbox().await;
    let (client, _, _) = client_with(&sb, Credential::secret(atpilot_graph_sandbox::CLIENT_SECRET));
    for (consent, check) in [
        (Consent::NotConsented, "700016"),
        (Consent::AdminConsentRequired, "90094"),
        (Consent::BlockedByConditionalAccess, "53003"),
    ] {
        sb.set_consent(t2().as_str(), consent);
        let e = client.get_user(&t2(), "admin@c2.example").await.expect_err("refused");
        let GraphError::Token { source, .. } = &e else { panic!("{e:?}") };
        match consent {
            Consent::NotConsented => assert!(matches!(source, TokenError::NotConsented { .. })),
            Consent::AdminConsentRequired => assert!(matches!(source, TokenError::AdminConsentRequired { .. })),
            _ => assert!(matches!(source, TokenError::ConditionalAccess { .. })),
        }
        assert!(e.to_string().contains(check), "{e}");
    }
}

#[tokio::test]
async fn one_token_serves_many_calls_per_tenant_and_each_tenant_has_its_own() {
    let e = env().await;
    for _ in 0..5 {
        e.client.get_user(&e.tenant, "admin@c1.example").await.expect("user");
    }
    e.client.subscribed_skus(&e.tenant).await.expect("skus");
    assert_eq!(e.sb.token_requests(), 1);
    e.client.get_user(&t2(), "admin@c2.example").await.expect("tenant 2");
    assert_eq!(e.sb.token_requests(), 2);
    assert_eq!(e.client.stats().token_requests, 2);
    // The tenant is also accepted by its verified domain.
    e.client.get_user(&TenantId::new("c3.example"), "admin@c3.example").await.expect("by domain");
}

#[tokio::test]
async fn a_token_of_one_tenant_only_sees_that_tenant() {
    let e = env().await;
    let err = e.client.get_user(&e.tenant, "admin@c2.example").await.expect_err("other tenant's user");
    assert!(matches!(err, GraphError::NotFound { .. }), "{err:?}");
    let logged = e.sb.requests().into_iter().rfind(|r| !r.is_token()).expect("graph request");
    assert_eq!(logged.tenant.as_deref(), Some(e.tenant.as_str()));
}

#[tokio::test]
async fn a_token_near_expiry_is_replaced() {
    let e = env().await;
    e.client.get_user(&e.tenant, "admin@c1.example").await.expect("user");
    e.clock.advance(Duration::from_secs(3599 - 299));
    e.client.get_user(&e.tenant, "admin@c1.example").await.expect("user");
    assert_eq!(e.sb.token_requests(), 2, "a token within the 5-minute margin is renewed");
}

#[tokio::test]
async fn an_expired_token_is_refreshed_once_then_the_401_is_reported() {
    let e = env().await;
    e.client.get_user(&e.tenant, "admin@c1.example").await.expect("user");
    e.sb.expire_tokens();
    e.client.get_user(&e.tenant, "admin@c1.example").await.expect("refreshed after 401");
    assert_eq!(e.sb.token_requests(), 2);
    let statuses: Vec<u16> = e.sb.requests().iter().filter(|r| !r.is_token()).map(|r| r.status).collect();
    assert_eq!(statuses, vec![200, 401, 200]);

    // Tokens that are always expired: one refresh, then a typed 401.
    e.sb.set_knobs(|k| k.token_lifetime_secs = 0);
    e.sb.expire_tokens();
    let err = e.client.get_user(&e.tenant, "admin@c1.example").await.expect_err("401 twice");
    assert!(
        matches!(err, GraphError::Unauthorized { ref source } if source.code == "InvalidAuthenticationToken"),
        "{err:?}"
    );
}
