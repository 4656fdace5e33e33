//! The dashboard's own forms (kill switch, phase) refused for what they
//! carried: the dashboard again with why (400), nothing changed; never a
//! bare line of text or the framework's 422.

use atpilot_config::Config;
use atpilot_store::State;
use atpilot_store::embedded::EmbeddedStateStore;
use atpilot_web::Web;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use std::sync::Arc;
use tower::ServiceExt;

async fn post(w: &Arc<Web>, path: &str, content_type: &str, body: String) -> (StatusCode, String) {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::HOST, "127.0.0.1")
        .body(Body::from(body))
        .unwrap();
    let r = atpilot_web::dashboard_routes(w.clone()).oneshot(req).await.unwrap();
    let status = r.status();
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 24).await.unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

#[tokio::test]
async fn malformed_dashboard_forms_bring_the_page_back_with_why_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::parse(atpilot_config::EXAMPLE, "atpilot.example.toml").unwrap();
    let state = State::new(Arc::new(EmbeddedStateStore::open(dir.path()).unwrap()));
    let w = Arc::new(Web::new(state, Arc::new(config), None));
    let csrf = w.forms.as_str().to_string();
    let form = "application/x-www-form-urlencoded";
    let long = "x".repeat(5000);
    for (path, content_type, body, says) in [
        (
            "/kill-switch",
            form,
            format!("setting=maybe&csrf={csrf}"),
            "the kill switch is set on or off, not &quot;maybe&quot;",
        ),
        ("/kill-switch", form, format!("csrf={csrf}"), "the kill switch is set on or off, not &quot;&quot;"),
        ("/kill-switch", "application/json", r#"{"setting":"on"}"#.to_string(), "the form could not be read"),
        ("/phases", form, format!("category=password-reset&csrf={csrf}"), "phase &quot;&quot; is unknown: use shadow"),
        (
            "/phases",
            form,
            format!("category=password-reset&phase=owned%3Cb%3E&csrf={csrf}"),
            "phase &quot;owned&lt;b&gt;&quot; is unknown",
        ),
        ("/phases", form, format!("category={long}&phase=shadow&csrf={csrf}"), "xxxxxxxxxx…&quot; is invalid"),
        (
            "/phases",
            form,
            format!("category=password%0Areset&phase=shadow&csrf={csrf}"),
            "&quot;password\\nreset&quot; is invalid",
        ),
    ] {
        let (status, html) = post(&w, path, content_type, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {html}");
        assert!(html.contains("<div class=\"error\" id=\"notice\">Not changed: "), "{path} {body}: {html}");
        assert!(html.contains(says), "{path} {body}: wanted {says}");
        assert!(html.contains("id=\"alerts\""), "the whole dashboard: {path} {body}");
        assert!(!html.contains(&long), "a long value is cut");
    }
    assert!(!w.state.settings().await.unwrap().kill_switch);
    assert!(w.state.phases().await.unwrap().is_empty());
    // Without the page's token it is still refused as a stale form, before anything else.
    let (status, text) = post(&w, "/kill-switch", form, "setting=maybe".into()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
}
