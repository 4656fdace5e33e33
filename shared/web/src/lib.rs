//! The dashboard's HTTP routes, over the state store and the configuration
//! only: served by `atpilot dev` (embedded store) and `atpilot dashboard`
//! (the deployed DynamoDB table, with the operator's AWS credentials).

use atpilot_agent::dashboard;
use atpilot_config::Config;
use atpilot_store::State as Store;
use atpilot_store::records::{PhaseRecord, Settings};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::sync::Arc;

pub struct Web {
    pub state: Store,
    pub config: Arc<Config>,
    /// HTTP Basic password (user `atpilot`); `None` on a loopback address only.
    pub password: Option<String>,
}

pub fn dashboard_routes(web: Arc<Web>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/phases", post(set_phase))
        .route("/kill-switch", post(kill_switch))
        .route("/approvals/", get(approvals))
        .route("/outbox", get(outbox))
        .route("/api/decisions", get(api_decisions))
        .layer(axum::middleware::from_fn_with_state(web.clone(), auth))
        .with_state(web)
}

/// Loopback: no login. Otherwise HTTP Basic with the configured password.
pub async fn auth(State(web): State<Arc<Web>>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let Some(password) = &web.password else { return next.run(req).await };
    use base64::Engine;
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("atpilot:{password}")));
    let ok = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| subtle::ConstantTimeEq::ct_eq(v.as_bytes(), expected.as_bytes()).into());
    if ok {
        next.run(req).await
    } else {
        (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"atpilot\"")], "login required").into_response()
    }
}

#[derive(serde::Deserialize)]
struct Notice {
    notice: Option<String>,
}

async fn page(State(app): State<Arc<Web>>, Query(q): Query<Notice>) -> Response {
    match dashboard::gather(&app.state, &app.config, 100).await {
        Ok(d) => Html(dashboard::render(&d, q.notice.as_deref())).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("state store unavailable: {e}")).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct PhaseForm {
    category: String,
    phase: String,
}

fn back(notice: &str) -> Redirect {
    let enc: String = notice.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect();
    Redirect::to(&format!("/?notice={enc}"))
}

async fn set_phase(State(app): State<Arc<Web>>, Form(f): Form<PhaseForm>) -> Response {
    let category = match f.category.parse::<atpilot_domain::Category>() {
        Ok(c) => c,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let phase = match f.phase.parse::<atpilot_domain::Phase>() {
        Ok(p) => p,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let safe = app.config.categories.get(&category).is_some_and(|c| c.safe);
    if phase >= atpilot_domain::Phase::HumanInTheLoop && !safe {
        return back(&format!("{category} is not on the safe list: it cannot ask for approval or act. Mark it safe in the configuration first.")).into_response();
    }
    let rec = PhaseRecord { category: category.clone(), phase, changed_at: chrono::Utc::now(), changed_by: "dashboard".into(), reason: "set in the dashboard".into() };
    match app.state.set_phase(&rec).await {
        Ok(()) => back(&format!("{category} is now in the {phase} phase")).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct KillForm {
    setting: String,
}

async fn kill_switch(State(app): State<Arc<Web>>, Form(f): Form<KillForm>) -> Response {
    let on = match f.setting.as_str() {
        "on" => true,
        "off" => false,
        other => return (StatusCode::BAD_REQUEST, format!("setting must be on or off, got {other:?}")).into_response(),
    };
    match app.state.set_settings(&Settings { kill_switch: on }).await {
        Ok(()) => back(if on { "Kill switch on: the agent writes nothing to Autotask" } else { "Kill switch released" }).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

async fn approvals(State(app): State<Arc<Web>>) -> Response {
    match app.state.approvals_in_state(atpilot_store::records::ApprovalState::Pending, 100).await {
        Ok(list) => {
            let rows: String = list
                .iter()
                .map(|a| format!("<tr><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>", a.ticket_id, dashboard::esc(a.category.as_str()), a.expires_at.format("%Y-%m-%d %H:%M"), dashboard::esc(a.draft.as_deref().unwrap_or(""))))
                .collect();
            Html(format!(
                "<!doctype html><html lang=en><head><meta charset=utf-8><title>atpilot approvals</title></head><body style=\"font-family:system-ui;margin:24px\"><p><a href=\"/\">Dashboard</a></p>\
<h1>Pending approval requests</h1><p>Approvers receive their links in Teams and e-mail; locally those messages are in the <a href=\"/outbox\">outbox</a>.</p>\
<table border=1 cellpadding=6><tr><th>Ticket</th><th>Category</th><th>Expires</th><th>Draft reply</th></tr>{rows}</table></body></html>"
            ))
            .into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

/// Messages that would have gone to Teams and e-mail (the local notifier stores them).
async fn outbox(State(app): State<Arc<Web>>) -> Response {
    match app.state.outbox(50).await {
        Ok(list) => {
            let e = dashboard::esc;
            let items: String = list
                .iter()
                .map(|m| {
                    let body = if m.channel == "email" { m.text.clone().unwrap_or_default() } else { m.body.clone() };
                    format!("<article><h3>{} – {}</h3><p>to {} at {}</p><pre style=\"white-space:pre-wrap\">{}</pre></article><hr>", e(&m.channel), e(&m.subject), e(&m.to.join(", ")), m.at.format("%H:%M:%S"), linkify(&e(&body)))
                })
                .collect();
            Html(format!("<!doctype html><html lang=en><head><meta charset=utf-8><title>atpilot outbox</title></head><body style=\"font-family:system-ui;margin:24px\"><p><a href=\"/\">Dashboard</a></p><h1>Outbox</h1><p>Locally, Teams cards and e-mails are kept here instead of being sent.</p>{items}</body></html>")).into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

/// Makes the approval links in an (escaped) message clickable.
fn linkify(escaped: &str) -> String {
    escaped
        .split_inclusive(char::is_whitespace)
        .map(|w| {
            let t = w.trim_end();
            let tail = &w[t.len()..];
            let t = t.trim_matches('"');
            if t.starts_with("http://") || t.starts_with("https://") { format!("<a href=\"{t}\">{t}</a>{tail}") } else { w.to_string() }
        })
        .collect()
}

async fn api_decisions(State(app): State<Arc<Web>>) -> Response {
    match dashboard::decisions(&app.state, 500).await {
        Ok(list) => axum::Json(list).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

