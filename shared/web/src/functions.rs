//! The HTTP functions other than the dashboard, as axum routers: each is
//! served as is by its Lambda (`lambda_http::run`, behind a Function URL) and
//! merged into `atpilot dev`, so the browser tests exercise the deployed
//! routes with the deployed headers.
//!
//! * approval: `GET /approvals/{id}?t=…` shows the confirmation page and
//!   changes nothing; `POST /approvals/{id}` decides. Behind its Function URL
//!   the links are `{ApprovalUrl}/{id}?t=…`, so the function also serves `/{id}`.
//! * runbook callbacks: `POST /approvals/runbooks/callback` (`/runbooks/callback`
//!   behind the approval Function URL) takes a webhook runbook's signed result.
//! * intake: `POST /webhooks/autotask` (and `/` behind its Function URL) takes
//!   Autotask's signed ticket webhook; `…/deactivated` logs Autotask's notice.

use crate::headers::with_security_headers;
use atpilot_agent::deps::Deps;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

async fn approval_page(
    State(deps): State<Deps>,
    signed_in: Option<axum::Extension<crate::signin::SignedIn>>,
    method: Method,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let page = atpilot_agent::handlers::approval::handle_http_as(
        &deps,
        method.as_str(),
        &id,
        q.as_deref().unwrap_or(""),
        &body,
        chrono::Utc::now(),
        signed_in
            .as_ref()
            .map(|s| atpilot_agent::handlers::approval::SignedInPerson { email: &s.email, csrf: &s.csrf }),
    )
    .await;
    (StatusCode::from_u16(page.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), Html(page.html)).into_response()
}

async fn runbook_callback(State(deps): State<Deps>, headers: HeaderMap, body: Bytes) -> Response {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (ts, sig) = (h(atpilot_webhook::TIMESTAMP_HEADER), h(atpilot_webhook::SIGNATURE_HEADER));
    let reply =
        atpilot_agent::handlers::runbook_callback::handle_callback(&deps, ts, sig, &body, chrono::Utc::now()).await;
    (
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        reply.body.to_string(),
    )
        .into_response()
}

/// The approval pages at `/approvals/{id}` and the runbook callbacks at
/// `/approvals/runbooks/callback` (as `atpilot dev` mounts them).
pub fn approval_routes(deps: Deps) -> Router {
    with_security_headers(
        Router::new()
            .route("/approvals/{id}", get(approval_page).post(approval_page))
            .route("/approvals/runbooks/callback", post(runbook_callback))
            .with_state(deps),
    )
}

/// What the approval Lambda serves: [`approval_routes`] plus `/{id}` and
/// `/runbooks/callback`, the paths of links built on the Function URL.
pub fn approval_function_routes(deps: Deps) -> Router {
    with_security_headers(
        Router::new()
            .route("/{id}", get(approval_page).post(approval_page))
            .route("/runbooks/callback", post(runbook_callback))
            .with_state(deps.clone()),
    )
    .merge(approval_routes(deps))
}

async fn webhook(State(deps): State<Deps>, headers: HeaderMap, body: Bytes) -> Response {
    // The signature covers the raw bytes exactly as sent.
    let sig = headers.get("x-hook-signature").and_then(|v| v.to_str().ok());
    let reply = atpilot_agent::handlers::intake::handle_webhook(&deps, sig, &body, chrono::Utc::now()).await;
    (
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        reply.body.to_string(),
    )
        .into_response()
}

async fn deactivated(body: Bytes) -> StatusCode {
    tracing::error!(body = %String::from_utf8_lossy(&body), "Autotask says the webhook was deactivated; the reconciler keeps tickets flowing");
    StatusCode::OK
}

/// The intake webhook at `/webhooks/autotask` (as `atpilot dev` mounts it).
pub fn intake_routes(deps: Deps) -> Router {
    with_security_headers(
        Router::new()
            .route("/webhooks/autotask", post(webhook))
            .route("/webhooks/autotask/deactivated", post(deactivated))
            .with_state(deps),
    )
}

/// What the intake Lambda serves: [`intake_routes`] plus `/`, its Function URL's root.
pub fn intake_function_routes(deps: Deps) -> Router {
    with_security_headers(Router::new().route("/", post(webhook)).with_state(deps.clone())).merge(intake_routes(deps))
}
