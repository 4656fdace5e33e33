//! Sign-in against a real OpenID provider: node-oidc-provider (OpenID
//! Certified), started here on loopback from `tests/oidc-provider` (its npm
//! packages are installed by `scripts/test`). A small client follows the
//! provider's redirects and fills its development login page, as a browser would.

mod support;

use atpilot_signin::{Client, ClientConfig, SignInError, Validator};
use std::collections::BTreeMap;
use std::time::Duration;
use support::{Browser, CLIENT_ID, Provider, SECRET};

const CALLBACK: &str = "http://127.0.0.1:9/auth/callback";

fn provider(ttl: u32) -> Option<Provider> {
    support::provider(ttl, CALLBACK)
}

async fn client(p: &Provider, skew: Duration) -> Client {
    Client::connect(ClientConfig {
        issuer: p.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        redirect_uri: CALLBACK.into(),
        clock_skew: skew,
    })
    .await
    .expect("discovery")
}

/// Signs in as `login`: the code and state the callback gets.
async fn code_for(url: &str, login: &str) -> (String, String) {
    let back = Browser::new().sign_in_until(url.to_string(), login, CALLBACK).await;
    let q: BTreeMap<String, String> = url::Url::parse(&back).unwrap().query_pairs().into_owned().collect();
    (q["code"].clone(), q["state"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_with_pkce_state_and_nonce_and_reads_the_identity() {
    let Some(p) = provider(3600) else { return };
    let c = client(&p, Duration::from_secs(120)).await;
    let login = c.start("/approvals/a1");
    assert!(login.authorize_url.contains("code_challenge_method=S256") && login.authorize_url.contains("nonce="));
    let (code, state) = code_for(&login.authorize_url, "dispatch@msp.example").await;
    let who = c.finish(&login.pending, &code, &state).await.unwrap();
    assert_eq!(who.email.as_deref(), Some("dispatch@msp.example"));
    assert_eq!(who.subject, format!("{}#dispatch@msp.example", p.issuer));
    // The code is single-use at the provider: a replayed callback is refused.
    let again = c.finish(&login.pending, &code, &state).await.unwrap_err();
    assert!(matches!(again, SignInError::Provider { status: 400, .. }), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_that_are_not_this_sign_ins_are_refused() {
    let Some(p) = provider(3600) else { return };
    let c = client(&p, Duration::from_secs(120)).await;
    let login = c.start("/");
    let (code, state) = code_for(&login.authorize_url, "ana@msp.example").await;
    let wrong_state = c.redeem(&login.pending, &code, "another-state").await.unwrap_err();
    assert!(matches!(wrong_state, SignInError::Callback(_)), "{wrong_state}");
    let tokens = c.redeem(&login.pending, &code, &state).await.unwrap();
    let id = tokens.id_token.clone();
    let refused = |r: Result<atpilot_signin::Identity, SignInError>, what: &str| {
        let e = r.expect_err(what);
        assert!(matches!(e, SignInError::IdToken(_)), "{what}: {e}");
        e.to_string()
    };
    assert!(c.validator().check(&id, &login.pending.nonce).await.is_ok(), "the genuine token passes");
    let nonce = refused(c.validator().check(&id, "a-replayed-sign-in").await, "another nonce");
    assert!(nonce.contains("nonce"), "{nonce}");
    // A changed claim breaks the signature.
    let parts: Vec<&str> = id.split('.').collect();
    let forged_claims = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut v: serde_json::Value = serde_json::from_slice(&b64.decode(parts[1]).unwrap()).unwrap();
        v["email"] = "boss@msp.example".into();
        b64.encode(serde_json::to_vec(&v).unwrap())
    };
    refused(
        c.validator().check(&format!("{}.{forged_claims}.{}", parts[0], parts[2]), &login.pending.nonce).await,
        "forged",
    );
    // alg "none": no signature at all.
    let none = {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!("{}.{}.", b64.encode(br#"{"alg":"none","typ":"JWT"}"#), parts[1])
    };
    refused(c.validator().check(&none, &login.pending.nonce).await, "alg none");
    // Another client's audience, another issuer.
    let http = reqwest::Client::new();
    let other_aud = Validator::new(c.metadata(), "another-client", Duration::from_secs(120), http.clone());
    refused(other_aud.check(&id, &login.pending.nonce).await, "wrong audience");
    let mut elsewhere = c.metadata().clone();
    elsewhere.issuer = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0".into();
    let other_iss = Validator::new(&elsewhere, CLIENT_ID, Duration::from_secs(120), http);
    refused(other_iss.check(&id, &login.pending.nonce).await, "wrong issuer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_id_token_is_refused() {
    let Some(p) = provider(1) else { return };
    let c = client(&p, Duration::ZERO).await;
    let login = c.start("/");
    let (code, state) = code_for(&login.authorize_url, "ana@msp.example").await;
    let tokens = c.redeem(&login.pending, &code, &state).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let e = c.validator().check(&tokens.id_token, &login.pending.nonce).await.unwrap_err();
    assert!(e.to_string().to_lowercase().contains("expired"), "{e}");
}
