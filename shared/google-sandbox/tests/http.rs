//! The sandbox over raw HTTP, checked against the reference's shapes and
//! statuses (independent of the atpilot-google client).

use atpilot_google_sandbox::{
    Knobs, PRIVATE_KEY_ID, SERVICE_ACCOUNT_EMAIL, SKU_BUSINESS_STANDARD, SKU_BUSINESS_STARTER, Sandbox, Seed, keys,
    scopes,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

async fn sandbox() -> Sandbox {
    let c = |f: &str, l: &str, e: &str| (f.to_string(), l.to_string(), e.to_string());
    let c1 =
        Seed::customer(1, "c1.example", vec![c("Ann", "Archer", "ann@c1.example"), c("Ben", "B", "ben@c1.example")]);
    let c2 = Seed::customer(2, "c2.example", vec![c("Dee", "Dunn", "dee@c2.example")]);
    atpilot_google_sandbox::start(Seed::for_companies(&[c1, c2])).await.expect("sandbox")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims(sb: &Sandbox, sub: &str, scope: &str) -> Value {
    json!({"iss": SERVICE_ACCOUNT_EMAIL, "sub": sub, "scope": scope, "aud": sb.token_url(),
           "iat": now(), "exp": now() + 3600})
}

fn sign(claims: &Value, key_pem: &str) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some(PRIVATE_KEY_ID.into());
    let key = EncodingKey::from_rsa_pem(key_pem.as_bytes()).expect("test key");
    jsonwebtoken::encode(&h, claims, &key).expect("sign")
}

async fn post_token(sb: &Sandbox, grant: &str, assertion: &str) -> (u16, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", grant)
        .append_pair("assertion", assertion)
        .finish();
    let r = reqwest::Client::new()
        .post(sb.token_url())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token request");
    (r.status().as_u16(), r.json().await.expect("json"))
}

const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

async fn token(sb: &Sandbox, sub: &str, scope: &str) -> String {
    let (s, v) = post_token(sb, GRANT, &sign(&claims(sb, sub, scope), keys::TEST_ONLY_PRIVATE_KEY_PEM)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["token_type"].as_str(), v["expires_in"].as_u64()), (Some("Bearer"), Some(3599)));
    v["access_token"].as_str().expect("token").to_string()
}

async fn call(method: reqwest::Method, url: String, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new().request(method, url);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn assert_oauth(got: (u16, Value), status: u16, error: &str, description: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error"], error, "{}", got.1);
    assert_eq!(got.1["error_description"], description, "{}", got.1);
}

#[tokio::test]
async fn token_endpoint_verifies_signature_claims_and_delegation() {
    let sb = sandbox().await;
    let good = claims(&sb, "admin@c1.example", scopes::USER);
    token(&sb, "admin@c1.example", &format!("{} {}", scopes::USER, scopes::LICENSING)).await;
    let forged = sign(&good, keys::TEST_ONLY_OTHER_PRIVATE_KEY_PEM);
    assert_oauth(post_token(&sb, GRANT, &forged).await, 400, "invalid_grant", "Invalid JWT Signature.");
    let short = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
    let mut expired = good.clone();
    (expired["iat"], expired["exp"]) = (json!(now() - 7200), json!(now() - 3600));
    assert_oauth(
        post_token(&sb, GRANT, &sign(&expired, keys::TEST_ONLY_PRIVATE_KEY_PEM)).await,
        400,
        "invalid_grant",
        short,
    );
    let mut long = good.clone();
    long["exp"] = json!(now() + 7200);
    assert_oauth(
        post_token(&sb, GRANT, &sign(&long, keys::TEST_ONLY_PRIVATE_KEY_PEM)).await,
        400,
        "invalid_grant",
        short,
    );
    let mut future = good.clone();
    (future["iat"], future["exp"]) = (json!(now() + 900), json!(now() + 1800));
    assert_oauth(
        post_token(&sb, GRANT, &sign(&future, keys::TEST_ONLY_PRIVATE_KEY_PEM)).await,
        400,
        "invalid_grant",
        short,
    );
    let mut aud = good.clone();
    aud["aud"] = json!("https://example.com/token");
    let (s, v) = post_token(&sb, GRANT, &sign(&aud, keys::TEST_ONLY_PRIVATE_KEY_PEM)).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")), "{v}");
    aud["aud"] = json!("https://oauth2.googleapis.com/token");
    assert_eq!(post_token(&sb, GRANT, &sign(&aud, keys::TEST_ONLY_PRIVATE_KEY_PEM)).await.0, 200, "Google's aud too");
    let mut sub = good.clone();
    sub["sub"] = json!("nobody@c1.example");
    assert_oauth(
        post_token(&sb, GRANT, &sign(&sub, keys::TEST_ONLY_PRIVATE_KEY_PEM)).await,
        400,
        "invalid_grant",
        "Invalid email or User ID",
    );
    let mut iss = good.clone();
    iss["iss"] = json!("other@x.iam.gserviceaccount.com");
    assert_eq!(post_token(&sb, GRANT, &sign(&iss, keys::TEST_ONLY_PRIVATE_KEY_PEM)).await.0, 401);
    let (s, v) = post_token(&sb, "client_credentials", &sign(&good, keys::TEST_ONLY_PRIVATE_KEY_PEM)).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("unsupported_grant_type")));
    // A scope the customer did not delegate (admin.directory.group is not one of the four).
    let undelegated = claims(&sb, "admin@c1.example", &format!("{} {}", scopes::USER, scopes::GROUP));
    assert_oauth(
        post_token(&sb, GRANT, &sign(&undelegated, keys::TEST_ONLY_PRIVATE_KEY_PEM)).await,
        401,
        "unauthorized_client",
        "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
    );
    let log = sb.requests();
    assert!(log.iter().all(|r| r.is_token() && r.query.is_none()));
    assert!(!format!("{log:?}").contains("eyJ"), "no assertion in the log");
}

#[tokio::test]
async fn api_calls_check_bearer_scope_admin_and_customer() {
    let sb = sandbox().await;
    let users = |k: &str| format!("{}/users/{k}", sb.directory_base());
    let post = reqwest::Method::POST;
    let (s, v) = call(reqwest::Method::GET, users("ann@c1.example"), None, None).await;
    assert_eq!((s, v["error"]["status"].as_str()), (401, Some("UNAUTHENTICATED")), "{v}");
    let user_only = token(&sb, "admin@c1.example", scopes::USER).await;
    let (s, v) = call(post.clone(), users("ann@c1.example") + "/signOut", Some(&user_only), None).await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["error"]["errors"][0]["reason"], "insufficientPermissions");
    assert_eq!(v["error"]["message"], "Request had insufficient authentication scopes.");
    assert_eq!(v["error"]["status"], "PERMISSION_DENIED");
    let security = token(&sb, "admin@c1.example", scopes::USER_SECURITY).await;
    let (s, v) = call(post.clone(), users("ann@c1.example") + "/signOut", Some(&security), None).await;
    assert_eq!((s, v), (204, Value::String(String::new())));
    assert_eq!(sb.user("ann@c1.example").expect("ann").sign_out_count, 1);
    let (s, v) = call(reqwest::Method::GET, users("dee@c2.example"), Some(&user_only), None).await;
    assert_eq!((s, v["error"]["message"].as_str()), (403, Some("Not Authorized to access this resource/api")));
    let (s, v) = call(reqwest::Method::GET, users("ghost@c1.example"), Some(&user_only), None).await;
    assert_eq!((s, v["error"]["message"].as_str()), (404, Some("Resource Not Found: userKey")));
    assert_eq!(v["error"]["errors"][0]["reason"], "notFound");
    let (s, v) = call(reqwest::Method::GET, users("ann@c1.example"), Some(&user_only), None).await;
    assert_eq!(
        (s, v["primaryEmail"].as_str(), v["customerId"].as_str()),
        (200, Some("ann@c1.example"), Some("C00000001"))
    );
    assert!(v.get("password").is_none());
    // A delegated (not super) admin gets a token, but no API access.
    let helpdesk = token(&sb, "helpdesk@c1.example", scopes::USER).await;
    let (s, v) = call(reqwest::Method::GET, users("ann@c1.example"), Some(&helpdesk), None).await;
    assert_eq!((s, v["error"]["errors"][0]["reason"].as_str()), (403, Some("forbidden")));
    // Passwords: 8–100 ASCII, counted, never logged.
    let patch = reqwest::Method::PATCH;
    let body = json!({"password": "short", "changePasswordAtNextLogin": true});
    let (s, v) = call(patch.clone(), users("ann@c1.example"), Some(&user_only), Some(body)).await;
    assert_eq!((s, v["error"]["message"].as_str()), (400, Some("Invalid Password")));
    let body = json!({"password": "Long-enough-1", "changePasswordAtNextLogin": true});
    let (s, v) = call(patch, users("ann@c1.example"), Some(&user_only), Some(body)).await;
    assert_eq!((s, v["changePasswordAtNextLogin"].as_bool()), (200, Some(true)));
    assert_eq!(sb.user("ann@c1.example").expect("ann").password_set_count, 1);
    assert!(!format!("{:?}", sb.requests()).contains("Long-enough-1"));
}

#[tokio::test]
async fn group_duplicate_is_the_exact_409_and_throttling_is_logged() {
    let sb = sandbox().await;
    let t = token(&sb, "admin@c1.example", scopes::GROUP_MEMBER).await;
    let members = format!("{}/groups/sales@c1.example/members", sb.directory_base());
    let body = json!({"email": "ben@c1.example", "role": "MEMBER"});
    let (s, v) = call(reqwest::Method::POST, members.clone(), Some(&t), Some(body.clone())).await;
    assert_eq!((s, v["email"].as_str(), v["role"].as_str()), (200, Some("ben@c1.example"), Some("MEMBER")));
    let (s, v) = call(reqwest::Method::POST, members.clone(), Some(&t), Some(body)).await;
    assert_eq!(s, 409);
    assert_eq!(
        v,
        json!({"error":{"code":409,"message":"Member already exists.","errors":[{"message":"Member already exists.","domain":"global","reason":"duplicate"}]}})
    );
    let has = format!("{}/groups/staff@c1.example/hasMember/ann@c1.example", sb.directory_base());
    assert_eq!(call(reqwest::Method::GET, has, Some(&t), None).await, (200, json!({"isMember": true})));
    let ext = format!("{}/groups/staff@c1.example/hasMember/x@partner.example", sb.directory_base());
    let (s, v) = call(reqwest::Method::GET, ext, Some(&t), None).await;
    assert_eq!((s, v["error"]["message"].as_str()), (400, Some("Invalid Input: memberKey")));
    sb.set_knobs(Knobs { throttle_next: 1, retry_after_secs: Some(2), ..Knobs::default() });
    let (s, v) = call(reqwest::Method::GET, members.clone() + "/ben@c1.example", Some(&t), None).await;
    assert_eq!((s, v["error"]["errors"][0]["reason"].as_str()), (403, Some("userRateLimitExceeded")));
    let last = sb.requests().pop().expect("logged");
    assert!(last.throttled && last.status == 403 && last.customer.as_deref() == Some("C00000001"), "{last:?}");
    let (s, _) = call(reqwest::Method::DELETE, members.clone() + "/ben@c1.example", Some(&t), None).await;
    assert_eq!(s, 204);
    assert_eq!(call(reqwest::Method::DELETE, members + "/ben@c1.example", Some(&t), None).await.0, 404);
    assert_eq!(sb.group_members("sales@c1.example"), Some(vec![]));
}

#[tokio::test]
async fn seats_follow_assignments_and_a_full_sku_refuses() {
    let sb = sandbox().await;
    // c1: 2 contacts + admin, helpdesk, leaver, twostep = 6 users; Starter total 11, used 4 (not helpdesk, not Ann).
    assert_eq!(sb.seats_in("c1.example", SKU_BUSINESS_STARTER), Some((11, 4)));
    assert_eq!(sb.seats(SKU_BUSINESS_STANDARD), Some((2, 2)), "one seat per customer, held by its admin");
    assert_eq!(sb.user("helpdesk@c1.example").expect("helpdesk").licences, Vec::<String>::new());
    assert_eq!(sb.user("ann@c1.example").expect("ann").licences, Vec::<String>::new());
    let t = token(&sb, "admin@c1.example", scopes::LICENSING).await;
    let base = |sku: &str| format!("{}/product/{}/user", sb.licensing_base(), sku.replace('/', "/sku/"));
    let (s, v) =
        call(reqwest::Method::POST, base(SKU_BUSINESS_STANDARD), Some(&t), Some(json!({"userId": "ann@c1.example"})))
            .await;
    assert_eq!((s, v["error"]["errors"][0]["reason"].as_str()), (412, Some("conditionNotMet")), "{v}");
    assert_eq!(v["error"]["message"], "User license assignment limit exceeded");
    let (s, v) =
        call(reqwest::Method::POST, base(SKU_BUSINESS_STARTER), Some(&t), Some(json!({"userId": "ann@c1.example"})))
            .await;
    assert_eq!(
        (s, v["kind"].as_str(), v["skuId"].as_str()),
        (200, Some("licensing#licenseAssignment"), Some("1010020027"))
    );
    assert_eq!(sb.seats_in("c1.example", SKU_BUSINESS_STARTER), Some((11, 5)));
    let (s, v) =
        call(reqwest::Method::POST, base(SKU_BUSINESS_STARTER), Some(&t), Some(json!({"userId": "ann@c1.example"})))
            .await;
    assert_eq!((s, v["error"]["errors"][0]["reason"].as_str()), (412, Some("conditionNotMet")));
    let one = format!("{}/ann@c1.example", base(SKU_BUSINESS_STARTER));
    assert_eq!(call(reqwest::Method::GET, one.clone(), Some(&t), None).await.0, 200);
    assert_eq!(call(reqwest::Method::DELETE, one.clone(), Some(&t), None).await.0, 204);
    assert_eq!(call(reqwest::Method::GET, one, Some(&t), None).await.0, 404);
    sb.set_seats(SKU_BUSINESS_STANDARD, 3);
    assert_eq!(sb.seats(SKU_BUSINESS_STANDARD), Some((6, 2)));
}

#[tokio::test]
async fn the_demo_seed_has_a_customer_per_autotask_company() {
    let sb = atpilot_google_sandbox::start(Seed::demo()).await.expect("demo");
    let customers = sb.customers();
    assert!(!customers.is_empty());
    for c in &customers {
        assert_eq!(c.admin, format!("admin@{}", c.domain));
        assert!(sb.user(&c.admin).expect("admin").is_admin);
        let staff = sb.group_members(&format!("staff@{}", c.domain)).expect("staff");
        assert!(staff.len() <= 1);
    }
    let key: Value = serde_json::from_str(&sb.service_account_json()).expect("key file");
    assert_eq!(
        (key["type"].as_str(), key["token_uri"].as_str()),
        (Some("service_account"), Some(sb.token_url().as_str()))
    );
}
