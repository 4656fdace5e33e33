//! The sample events in events/ are what each function really receives:
//! they parse into the function's event type, and their bodies into
//! atpilot's messages; the intake sample is signed and gets queued.

#[path = "../../shared/signin/tests/support/mod.rs"]
mod support;

use atpilot_agent::messages::{TicketEvent, TimeEntryJob};
use atpilot_local::{Local, LocalOptions, Target};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::SqsEvent;

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("events/{name}: {e}"))
}

/// A local stack whose webhook secret is the samples' (`sample-webhook-secret`).
async fn sample_local() -> (Local, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let local = Local::start(LocalOptions {
        state_dir: dir.path().into(),
        target: Target::Sandbox { tickets: 50, seed: 1 },
        config: None,
        webhook_secret: Some("sample-webhook-secret".into()),
        public_url: "http://127.0.0.1:8080".into(),
        classifier: atpilot_local::LocalClassifier::FromConfig,
        kb_sandbox: Default::default(),
    })
    .await
    .unwrap();
    (local, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_sample_is_a_signed_function_url_request_that_gets_queued() {
    let req = lambda_http::request::from_str(&read("intake-function-url.json")).expect("a Function URL request");
    let sig = req.headers().get("x-hook-signature").and_then(|v| v.to_str().ok()).expect("signed").to_string();
    let (local, _dir) = sample_local().await;
    let reply = atpilot_agent::handlers::intake::handle_webhook(
        &local.deps,
        Some(&sig),
        req.body().as_ref(),
        chrono::Utc::now(),
    )
    .await;
    assert_eq!(reply.status, 202, "{:?}", reply.body);
    assert!(!local.classify_queue.is_empty());
}

#[test]
fn sqs_samples_carry_atpilot_messages() {
    let classify: SqsEvent = serde_json::from_str(&read("classify-sqs.json")).unwrap();
    let ev: TicketEvent = serde_json::from_str(classify.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(ev.ticket_id.get(), 12345);
    let time: SqsEvent = serde_json::from_str(&read("time-entry-sqs.json")).unwrap();
    let job: TimeEntryJob = serde_json::from_str(time.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(job.span.milliseconds(), 8_000);
}

#[test]
fn schedule_samples_are_eventbridge_events() {
    for name in ["reconciler-schedule.json", "weekly-metrics-schedule.json", "audit-schedule.json"] {
        let ev: EventBridgeEvent<serde_json::Value> =
            serde_json::from_str(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ev.detail_type, "Scheduled Event", "{name}");
    }
}

/// The dashboard sample, exactly as `lambda_http` hands it to the dashboard
/// function's router (the deployed sign-in, [`atpilot_web::signin::SignIn::deployed`],
/// against the real test provider): sent to sign in; the login starts at the
/// provider with this Function URL's own callback; after signing in there, the
/// callback opens a session (a `__Host-` cookie) and the dashboard renders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_sample_is_sent_to_sign_in_and_served_once_signed_in() {
    use tower::ServiceExt;
    let host = "d4s8h2b6o0a4r8d2u6r0l4i8d2e6x0a4.lambda-url.us-east-1.on.aws";
    let callback = format!("https://{host}/auth/callback");
    let Some(provider) = support::provider(3600, &callback) else { return };
    let dir = tempfile::tempdir().unwrap();
    let state = atpilot_store::State::new(std::sync::Arc::new(
        atpilot_store::embedded::EmbeddedStateStore::open(dir.path()).unwrap(),
    ));
    let mut config = atpilot_config::Config::parse(atpilot_config::EXAMPLE, "atpilot.example.toml").unwrap();
    config.signin.issuer = Some(provider.issuer.clone());
    config.signin.client_id = Some(support::CLIENT_ID.into());
    let config = std::sync::Arc::new(config);
    let key = "k".repeat(64);
    let signin = atpilot_web::signin::SignIn::deployed(config.clone(), state.clone(), support::SECRET, &key)
        .await
        .expect("the deployed sign-in starts");
    let web = std::sync::Arc::new(atpilot_web::Web::behind_signin(state, config));
    let app = atpilot_web::signin::protect(atpilot_web::deployed_routes(web), std::sync::Arc::new(signin));
    let call = |req: axum::http::Request<axum::body::Body>| {
        let app = app.clone();
        async move {
            let res = app.oneshot(req).await.unwrap();
            let header =
                |name| res.headers().get_all(name).iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
            let (location, cookies) = (header("location").pop(), header("set-cookie"));
            (res.status().as_u16(), location, cookies)
        }
    };
    let get = |path: &str, cookie: &str| {
        let mut b = axum::http::Request::get(path).header("host", host);
        if !cookie.is_empty() {
            b = b.header("cookie", cookie);
        }
        b.body(axum::body::Body::empty()).unwrap()
    };
    // The sample: no session, sent to sign in.
    let req = lambda_http::request::from_str(&read("dashboard-function-url.json")).expect("a Function URL request");
    let (status, location, _) = call(req.map(|b| axum::body::Body::from(b.to_vec()))).await;
    assert_eq!((status, location.as_deref()), (303, Some("/auth/login?return_to=%2F")));
    // The login goes to the provider with this host's callback, keeping a Secure __Host- cookie.
    let (status, authorize, cookies) = call(get("/auth/login?return_to=%2F", "")).await;
    assert_eq!(status, 303);
    let authorize = authorize.unwrap();
    assert!(authorize.starts_with(&provider.issuer), "{authorize}");
    let redirect =
        url::Url::parse(&authorize).unwrap().query_pairs().find(|(k, _)| k == "redirect_uri").unwrap().1.into_owned();
    assert_eq!(redirect, callback);
    let login = cookies.iter().find(|c| c.starts_with("__Host-atpilot_login=")).expect("the login cookie");
    assert!(login.contains("; Secure") && login.contains("HttpOnly") && login.contains("Path=/"), "{login}");
    // Signed in at the provider, the callback opens a session and the dashboard renders.
    let mut browser = support::Browser::new();
    let back = browser.sign_in_until(authorize, "dispatch@msp.example", &callback).await;
    let path = back.strip_prefix(&format!("https://{host}")).unwrap().to_string();
    let (status, location, cookies) = call(get(&path, login.split(';').next().unwrap())).await;
    assert_eq!((status, location.as_deref()), (303, Some("/")));
    let session = cookies.iter().find(|c| c.starts_with("__Host-atpilot_session=")).expect("a session");
    let res = app.clone().oneshot(get("/", session.split(';').next().unwrap())).await.unwrap();
    assert_eq!(res.status(), 200);
    let html = String::from_utf8(axum::body::to_bytes(res.into_body(), 1 << 22).await.unwrap().to_vec()).unwrap();
    assert!(html.contains("Routing audit"), "the dashboard links the audit page");
    // Without the session cookie, nothing but the way to sign in.
    assert_eq!(call(get("/settings", "")).await.0, 303);
}

/// A sample Function URL event as the Lambda's router receives it.
async fn serve(router: axum::Router, event: serde_json::Value) -> (u16, String) {
    use tower::ServiceExt;
    let req = lambda_http::request::from_str(&event.to_string()).expect("a Function URL request");
    let res = router.oneshot(req).await.unwrap();
    let status = res.status().as_u16();
    let body = axum::body::to_bytes(res.into_body(), 1 << 22).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn base64_bodies_are_decoded_before_the_signature_check_and_the_form() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    // Intake: the signed callout, base64-encoded by Lambda, verifies and is queued.
    let (local, _dir) = sample_local().await;
    let intake: serde_json::Value = serde_json::from_str(&read("intake-function-url-base64.json")).unwrap();
    assert_eq!(intake["isBase64Encoded"], true);
    let (status, body) = serve(atpilot_web::intake_function_routes(local.deps.clone()), intake).await;
    assert_eq!(status, 202, "{body}");
    assert!(!local.classify_queue.is_empty());

    // Approval: the form post, base64-encoded, decides the request (with a real token in the sample's shape).
    let s = atpilot_e2e::Stack::start().await;
    let (_, id, token) = s.pending_approval().await;
    let mut post: serde_json::Value = serde_json::from_str(&read("approval-form-post-function-url.json")).unwrap();
    assert_eq!(b64.decode(post["body"].as_str().unwrap()).unwrap(), b"t=SAMPLE-TOKEN&decision=approve");
    post["rawPath"] = format!("/{id}").into();
    post["requestContext"]["http"]["path"] = format!("/{id}").into();
    post["body"] = b64.encode(format!("t={token}&decision=approve")).into();
    let (status, page) = serve(atpilot_web::approval_function_routes(s.local.deps.clone()), post).await;
    assert_eq!(status, 200, "{page}");
    let a = s.local.deps.state.approval(&id).await.unwrap().unwrap();
    assert_eq!(a.state, atpilot_store::records::ApprovalState::Approved, "{page}");
}
