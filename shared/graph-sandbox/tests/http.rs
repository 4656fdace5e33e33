//! The sandbox over raw HTTP, checked against the reference's shapes, statuses
//! and rules (independent of the atpilot-graph client).

use atpilot_graph_sandbox::{CLIENT_ID, CLIENT_SECRET, Sandbox, Seed, keys, tenant_id_for};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

async fn sandbox() -> Sandbox {
    atpilot_graph_sandbox::start(Seed::demo()).await.expect("sandbox")
}

async fn post_token(sb: &Sandbox, tenant: &str, fields: &[(&str, &str)]) -> (u16, Value) {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    let r = reqwest::Client::new()
        .post(format!("{}/{tenant}/oauth2/v2.0/token", sb.login_base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("token request");
    (r.status().as_u16(), r.json().await.expect("json"))
}

const SCOPE: &str = "https://graph.microsoft.com/.default";

async fn token(sb: &Sandbox, tenant: &str) -> String {
    let fields = [
        ("client_id", CLIENT_ID),
        ("scope", SCOPE),
        ("grant_type", "client_credentials"),
        ("client_secret", CLIENT_SECRET),
    ];
    let (status, v) = post_token(sb, tenant, &fields).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3599);
    v["access_token"].as_str().expect("token").to_string()
}

async fn get(sb: &Sandbox, token: &str, path_and_query: &str, eventual: bool) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(format!("{}{path_and_query}", sb.graph_base())).bearer_auth(token);
    if eventual {
        req = req.header("ConsistencyLevel", "eventual");
    }
    let r = req.send().await.expect("graph request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn assert_aad(v: &Value, error: &str, code: u64) {
    assert_eq!(v["error"], error, "{v}");
    assert_eq!(v["error_codes"], json!([code]), "{v}");
    let d = v["error_description"].as_str().expect("description");
    assert!(d.starts_with(&format!("AADSTS{code}: ")) && d.contains("Trace ID:"), "{d}");
    for k in ["trace_id", "correlation_id", "timestamp", "error_uri"] {
        assert!(v[k].is_string(), "{k} missing in {v}");
    }
}

#[tokio::test]
async fn token_errors_have_aadsts_bodies_and_statuses() {
    let sb = sandbox().await;
    let t1 = tenant_id_for(1);
    let base = [("client_id", CLIENT_ID), ("scope", SCOPE), ("grant_type", "client_credentials")];
    let with = |extra: (&'static str, &'static str)| [base[0], base[1], base[2], extra];
    let (s, v) = post_token(&sb, &t1, &with(("client_secret", "wrong"))).await;
    assert_eq!(s, 401);
    assert_aad(&v, "invalid_client", 7000215);
    let (s, v) = post_token(&sb, "nowhere.example", &with(("client_secret", CLIENT_SECRET))).await;
    assert_eq!(s, 400);
    assert_aad(&v, "unauthorized_client", 700016);
    let fields =
        [base[0], ("scope", "https://graph.microsoft.com/User.Read.All"), base[2], ("client_secret", CLIENT_SECRET)];
    let (s, v) = post_token(&sb, &t1, &fields).await;
    assert_eq!(s, 400);
    assert_aad(&v, "invalid_scope", 70011);
    // The verified domain names the tenant as well as its id.
    token(&sb, "c1.example").await;
    let lines: Vec<String> = sb.requests().iter().map(|r| r.line()).collect();
    assert!(lines.iter().all(|l| !l.contains(CLIENT_SECRET)), "{lines:?}");
}

fn assertion(aud: &str, iss: &str, nbf_offset: i64, lifetime: i64) -> String {
    let key = EncodingKey::from_rsa_pem(keys::TEST_ONLY_PRIVATE_KEY_PEM.as_bytes()).expect("key");
    let mut h = Header::new(Algorithm::PS256);
    h.x5t_s256 = Some(keys::thumbprints(keys::TEST_ONLY_CERTIFICATE_PEM).expect("thumbprints").1);
    let now = chrono::Utc::now().timestamp() + nbf_offset;
    let claims = json!({"aud": aud, "iss": iss, "sub": iss, "jti": uuid::Uuid::new_v4().to_string(),
                        "nbf": now, "iat": now, "exp": now + lifetime});
    jsonwebtoken::encode(&h, &claims, &key).expect("jwt")
}

#[tokio::test]
async fn assertions_are_checked_for_audience_issuer_time_and_lifetime() {
    let sb = sandbox().await;
    let t1 = tenant_id_for(1);
    let aud = format!("{}/{t1}/oauth2/v2.0/token", sb.login_base());
    let send = |jwt: String| {
        let (sb, t1) = (&sb, t1.clone());
        async move {
            let fields = [
                ("client_id", CLIENT_ID),
                ("scope", SCOPE),
                ("grant_type", "client_credentials"),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", jwt.as_str()),
            ];
            post_token(sb, &t1, &fields).await
        }
    };
    assert_eq!(send(assertion(&aud, CLIENT_ID, 0, 300)).await.0, 200);
    let (s, v) = send(assertion("https://elsewhere/token", CLIENT_ID, 0, 300)).await;
    assert_eq!(s, 401);
    assert_aad(&v, "invalid_client", 700027);
    assert_aad(&send(assertion(&aud, "someone-else", 0, 300)).await.1, "invalid_client", 700021);
    assert_aad(&send(assertion(&aud, CLIENT_ID, -3600, 300)).await.1, "invalid_client", 700024);
    assert_aad(&send(assertion(&aud, CLIENT_ID, 0, 3600)).await.1, "invalid_client", 700024);
}

#[tokio::test]
async fn graph_needs_a_token_and_honours_select_and_advanced_queries() {
    let sb = sandbox().await;
    let (s, v) = get(&sb, "", "/users/admin@c1.example", false).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("InvalidAuthenticationToken")));
    let tok = token(&sb, &tenant_id_for(1)).await;
    let (s, v) = get(&sb, &tok, "/users/admin@c1.example", false).await;
    assert_eq!(s, 200);
    assert!(v.get("accountEnabled").is_none() && v.get("assignedLicenses").is_none(), "default set: {v}");
    let (_, v) = get(&sb, &tok, "/users/admin@c1.example?$select=id,accountEnabled,usageLocation", false).await;
    assert_eq!((v["accountEnabled"].as_bool(), v["usageLocation"].as_str()), (Some(true), Some("US")));
    let ends = "/users?$filter=endsWith(userPrincipalName,'@c1.example')";
    let (s, v) = get(&sb, &tok, ends, false).await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("Request_UnsupportedQuery")));
    let (s, v) = get(&sb, &tok, &format!("{ends}&$count=true"), false).await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("Request_UnsupportedQuery")), "header missing");
    let (s, v) = get(&sb, &tok, &format!("{ends}&$count=true"), true).await;
    assert_eq!(s, 200);
    assert_eq!(v["@odata.count"].as_u64(), Some(v["value"].as_array().map_or(0, |a| a.len()) as u64));
    let (s, v) = get(&sb, &tok, "/users?$count=true", false).await;
    assert!(s == 200 && v.get("@odata.count").is_none(), "$count=true without the header is ignored");
    assert_eq!(get(&sb, &tok, "/users/$count", false).await.0, 400);
    assert_eq!(get(&sb, &tok, "/users?$top=1000", false).await.0, 400);
    // A token of tenant 1 never reaches tenant 2's users.
    assert_eq!(get(&sb, &tok, "/users/admin@c2.example", false).await.0, 404);
}

#[tokio::test]
async fn a_weak_password_and_a_half_assign_license_are_refused() {
    let sb = sandbox().await;
    let tok = token(&sb, &tenant_id_for(1)).await;
    let http = reqwest::Client::new();
    let r = http
        .patch(format!("{}/users/helpdesk.lead@c1.example", sb.graph_base()))
        .bearer_auth(&tok)
        .json(&json!({"passwordProfile": {"password": "weakpassword", "forceChangePasswordNextSignIn": true}}))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.expect("json");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("password complexity")), "{v}");
    assert_eq!(sb.user("c1.example", "helpdesk.lead@c1.example").map(|u| u.password_changes), Some(0));
    assert!(sb.requests().iter().all(|r| !r.line().contains("weakpassword")));
    let r = http
        .post(format!("{}/users/helpdesk.lead@c1.example/assignLicense", sb.graph_base()))
        .bearer_auth(&tok)
        .json(&json!({"addLicenses": [{"skuId": atpilot_graph_sandbox::seed::SKU_SPE_E3, "disabledPlans": []}]}))
        .send()
        .await
        .expect("assign");
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]["message"].as_str().is_some_and(|m| m.ends_with("The missing parameters are: removeLicenses.")),
        "{v}"
    );
}

#[tokio::test]
async fn every_autotask_contact_is_a_user_of_its_company_tenant() {
    let at = atpilot_autotask_sandbox::Sandbox::start(Default::default(), "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("autotask sandbox");
    let gs = sandbox().await;
    let companies = at.facts().company_ids;
    assert!(companies.len() > 30);
    let mut checked = 0;
    for company in companies.into_iter().filter(|c| *c > 0) {
        let tenant = tenant_id_for(company);
        for contact in at.contacts_of(company) {
            let email =
                at.row("contacts", contact).and_then(|r| r["emailAddress"].as_str().map(String::from)).expect("email");
            assert!(gs.user(&tenant, &email).is_some(), "{email} is not a user of {tenant}");
            checked += 1;
        }
        let admin = gs.user(&tenant, &format!("admin@c{company}.example")).expect("admin");
        assert_eq!(admin.roles, vec![atpilot_graph_sandbox::world::roles::GLOBAL_ADMIN.to_string()]);
    }
    assert!(checked >= 100, "{checked} contacts");
}
