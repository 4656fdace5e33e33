//! The dashboard function's real binary, run the way Lambda runs it (a local
//! Runtime API), with its sign-in secrets in Secrets Manager and its table in
//! DynamoDB (moto), against a real OpenID provider (tests/oidc-provider): the
//! sample Function URL request is sent to sign in; the login goes to the
//! provider with this Function URL's own callback; after signing in there the
//! callback opens a session, the dashboard renders, and a phase change posted
//! with the session's form token lands in the table as the signed-in admin
//! (cross-site, or without the token, nothing changes). Every step is a new
//! cold start, as Lambda may give: the session and the sign-in state live in
//! the sealed cookies and the table.

#[path = "../../../shared/signin/tests/support/mod.rs"]
mod support;

use atpilot_e2e::lambda;
use serde_json::{Value, json};

const HOST: &str = "d4s8h2b6o0a4r8d2u6r0l4i8d2e6x0a4.lambda-url.us-east-1.on.aws";
const ADMIN: &str = "dispatch@msp.example";

fn sample() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/dashboard-function-url.json"))
            .unwrap(),
    )
    .unwrap()
}

/// The sample, as `method path?query` with `cookies` (and a form `body` posted from `site`).
fn request(method: &str, target: &str, cookies: &[&str], form: Option<(&str, &str)>) -> Value {
    let mut ev = sample();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    ev["rawPath"] = json!(path);
    ev["rawQueryString"] = json!(query);
    ev["requestContext"]["http"]["method"] = json!(method);
    ev["requestContext"]["http"]["path"] = json!(path);
    if !cookies.is_empty() {
        ev["cookies"] = json!(cookies);
    }
    if let Some((site, body)) = form {
        ev["headers"]["content-type"] = json!("application/x-www-form-urlencoded");
        ev["headers"]["sec-fetch-site"] = json!(site);
        ev["body"] = json!(body);
    }
    ev
}

fn answer(o: &lambda::Outcome) -> &Value {
    o.as_ref().unwrap_or_else(|e| panic!("the function failed: {e}"))
}

fn status(o: &lambda::Outcome) -> u64 {
    answer(o)["statusCode"].as_u64().unwrap_or(0)
}

fn location(o: &lambda::Outcome) -> String {
    answer(o)["headers"]["location"].as_str().unwrap_or_default().to_string()
}

/// The cookie the response sets under `name` (`name=value`, attributes apart), and its attributes.
fn set_cookie(o: &lambda::Outcome, name: &str) -> (String, String) {
    let r = answer(o);
    let mut all: Vec<String> =
        r["cookies"].as_array().into_iter().flatten().filter_map(|c| c.as_str().map(String::from)).collect();
    all.extend(
        r["multiValueHeaders"]["set-cookie"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(String::from)),
    );
    all.extend(r["headers"]["set-cookie"].as_str().map(String::from));
    let c = all
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {r}"));
    let (pair, attributes) = c.split_once(';').unwrap_or((&c, ""));
    (pair.to_string(), attributes.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_the_dashboard_only_to_a_signed_in_person() {
    let Some(aws) = lambda::emulator().await else { return };
    let callback = format!("https://{HOST}/auth/callback");
    let Some(provider) = support::provider(3600, &callback) else { return };
    let (state, table) = lambda::table(&aws, "atpilot-dashboard-bin").await;
    let oidc = lambda::secret(&aws, &format!("atpilot/oidc-{table}"), support::SECRET).await;
    let key = lambda::secret(&aws, &format!("atpilot/session-{table}"), &"k".repeat(64)).await;
    let config = atpilot_e2e::lambda_config_example().replace(
        "[signin]\n",
        &format!("[signin]\nissuer = \"{}\"\nclient_id = \"{}\"\n", provider.issuer, support::CLIENT_ID),
    );
    let env =
        lambda::function_env(&config, &table, &[("OIDC_CLIENT_SECRET_ARN", oidc), ("SESSION_KEY_SECRET_ARN", key)]);
    let bin = env!("CARGO_BIN_EXE_dashboard");

    // No session: sent to sign in; the login goes to the provider with this host's callback.
    let out = lambda::invoke(bin, &env, vec![sample(), request("GET", "/auth/login?return_to=%2F", &[], None)]).await;
    assert_eq!((status(&out[0]), location(&out[0])), (303, "/auth/login?return_to=%2F".into()), "{:?}", out[0]);
    assert_eq!(status(&out[1]), 303, "{:?}", out[1]);
    let authorize = location(&out[1]);
    assert!(authorize.starts_with(&provider.issuer), "{authorize}");
    let (login, attributes) = set_cookie(&out[1], "__Host-atpilot_login");
    assert!(attributes.contains("Secure") && attributes.contains("HttpOnly"), "{attributes}");

    // Signed in at the provider; the callback (a new cold start) opens a session.
    let back = support::Browser::new().sign_in_until(authorize, ADMIN, &callback).await;
    let path = back.strip_prefix(&format!("https://{HOST}")).unwrap().to_string();
    let out = lambda::invoke(bin, &env, vec![request("GET", &path, &[&login], None)]).await;
    assert_eq!((status(&out[0]), location(&out[0])), (303, "/".into()), "{:?}", out[0]);
    let (session, _) = set_cookie(&out[0], "__Host-atpilot_session");

    // The dashboard with the session; its forms carry the session's token.
    let out = lambda::invoke(bin, &env, vec![request("GET", "/", &[&session], None)]).await;
    assert_eq!(status(&out[0]), 200, "{:?}", out[0]);
    let page = answer(&out[0])["body"].as_str().unwrap().to_string();
    assert!(page.contains("Routing audit"), "the dashboard page");
    assert_eq!(answer(&out[0])["headers"]["cache-control"], "no-store");
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_string();

    // A phase change: cross-site and token-less posts change nothing; the page's own lands.
    let body = format!("category=password-reset&phase=internal-notes&csrf={csrf}");
    let out = lambda::invoke(
        bin,
        &env,
        vec![
            request("POST", "/phases", &[&session], Some(("cross-site", &body))),
            request("POST", "/phases", &[&session], Some(("same-origin", "category=password-reset&phase=shadow"))),
            request("POST", "/phases", &[], Some(("same-origin", &body))),
            request("POST", "/phases", &[&session], Some(("same-origin", &body))),
        ],
    )
    .await;
    assert_eq!(status(&out[0]), 403, "a cross-site POST is refused");
    assert_eq!(status(&out[1]), 403, "a form without the session's token is refused");
    assert_eq!(status(&out[2]), 401, "no session, no change");
    assert_eq!(status(&out[3]), 303, "{:?}", out[3]);
    let category: atpilot_domain::Category = "password-reset".parse().unwrap();
    let phase = state.phase(&category).await.unwrap().expect("the phase change is in the table");
    assert_eq!(phase.phase.to_string(), "internal-notes");
    assert_eq!(phase.changed_by, format!("dashboard (signed in as {ADMIN})"));
}
