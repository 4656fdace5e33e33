//! The dashboard function's real binary, run the way Lambda runs it (a
//! local Runtime API), with its password in Secrets Manager and its table in
//! DynamoDB (moto): the sample Function URL request renders the dashboard,
//! the same request without the password or with a wrong one gets 401, and a
//! phase change posted from the page lands in the table.

use atpilot_e2e::lambda;
use serde_json::{Value, json};

const PASSWORD: &str = "sample-dashboard-password-0123456789";

fn sample() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../events/dashboard-function-url.json"))
            .unwrap(),
    )
    .unwrap()
}

fn with_auth(mut ev: Value, auth: Option<String>) -> Value {
    let h = ev["headers"].as_object_mut().unwrap();
    match auth {
        Some(a) => h.insert("authorization".into(), Value::String(a)),
        None => h.remove("authorization"),
    };
    ev
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_the_dashboard_only_with_the_password() {
    let Some(aws) = lambda::emulator().await else { return };
    let (state, table) = lambda::table(&aws, "atpilot-dashboard-bin").await;
    let arn = lambda::secret(&aws, &format!("atpilot/dashboard-{table}"), PASSWORD).await;
    let env =
        lambda::function_env(atpilot_e2e::lambda_config_example(), &table, &[("DASHBOARD_PASSWORD_SECRET_ARN", arn)]);

    use base64::Engine;
    let wrong =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("atpilot:not-the-password-at-all"));
    let mut post = sample();
    post["requestContext"]["http"]["method"] = json!("POST");
    post["requestContext"]["http"]["path"] = json!("/phases");
    post["rawPath"] = json!("/phases");
    post["headers"]["content-type"] = json!("application/x-www-form-urlencoded");
    post["headers"]["sec-fetch-site"] = json!("same-origin");
    // The form's token, as the dashboard's own page carries it (derived from the password).
    let csrf = atpilot_web::FormToken::for_password(PASSWORD);
    post["body"] = json!(format!("category=password-reset&phase=internal-notes&csrf={}", csrf.as_str()));
    let mut cross_site = post.clone();
    cross_site["headers"]["sec-fetch-site"] = json!("cross-site");
    cross_site["body"] = json!("category=password-reset&phase=shadow");

    let out = lambda::invoke(
        env!("CARGO_BIN_EXE_dashboard"),
        &env,
        vec![sample(), with_auth(sample(), None), with_auth(sample(), Some(wrong)), cross_site, post],
    )
    .await;
    let status = |o: &lambda::Outcome| {
        o.as_ref().map(|r| r["statusCode"].as_u64().unwrap_or(0)).unwrap_or_else(|e| panic!("the function failed: {e}"))
    };
    assert_eq!(status(&out[0]), 200, "{:?}", out[0]);
    let page = out[0].as_ref().unwrap();
    assert!(page["body"].as_str().unwrap().contains("Routing audit"), "the dashboard page");
    assert_eq!(page["headers"]["cache-control"], "no-store");
    assert_eq!(status(&out[1]), 401, "no password");
    assert_eq!(status(&out[2]), 401, "wrong password");
    assert_eq!(status(&out[3]), 403, "a cross-site POST is refused");
    assert_eq!(status(&out[4]), 303, "{:?}", out[4]);
    let category: atpilot_domain::Category = "password-reset".parse().unwrap();
    let phase = state.phase(&category).await.unwrap().expect("the phase change is in the table");
    assert_eq!(phase.phase.to_string(), "internal-notes");
    assert_eq!(phase.changed_by, "dashboard");
}
