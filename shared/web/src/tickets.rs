//! A ticket's timeline page (`GET /tickets/{id}`) and its JSON
//! (`GET /api/tickets/{id}`): see [`atpilot_agent::html::timeline`].

use crate::Web;
use crate::pages::{not_found, respond};
use atpilot_agent::html::timeline::{Timeline, timeline};
use atpilot_domain::TicketId;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use minijinja::context;
use std::sync::Arc;

/// Why a timeline cannot be shown.
enum Miss {
    /// The path's id is not a ticket id (shown, without control characters).
    BadId(String),
    Store(String),
}

impl IntoResponse for Miss {
    fn into_response(self) -> Response {
        match self {
            Miss::BadId(shown) => {
                not_found(&format!("\"{shown}\" is not a ticket id: ticket ids are positive whole numbers."))
            }
            Miss::Store(e) => {
                (StatusCode::SERVICE_UNAVAILABLE, format!("the state store cannot be read: {e}")).into_response()
            }
        }
    }
}

async fn load(app: &Web, raw: &str) -> Result<Timeline, Miss> {
    let ticket = raw
        .parse::<i64>()
        .ok()
        .and_then(|n| TicketId::new(n).ok())
        .ok_or_else(|| Miss::BadId(crate::decisions_api::shown(raw)))?;
    let link = app.config.autotask.ticket_link.as_ref().map(|l| l.as_str());
    timeline(&app.state, ticket, link).await.map_err(|e| Miss::Store(e.to_string()))
}

/// The timeline page: every entry with its facts and text, in the layout.
pub async fn page(State(app): State<Arc<Web>>, Path(raw): Path<String>) -> Response {
    let t = match load(&app, &raw).await {
        Ok(t) => t,
        Err(miss) => return miss.into_response(),
    };
    let entries: Vec<minijinja::Value> = t
        .entries
        .iter()
        .map(|e| {
            context! {
                at => e.at.to_rfc3339(), at_text => e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                kind => e.kind, title => e.title, facts => e.facts, text => e.text, text_label => e.text_label,
            }
        })
        .collect();
    let view = context! { ticket_id => t.ticket_id, autotask_link => t.autotask_link, entries };
    let title = format!("Ticket {}", t.ticket_id);
    respond(StatusCode::OK, "ticket.html", &title, "", context! { t => view })
}

/// The timeline as JSON (`{ticket_id, autotask_link, entries}`); a miss as
/// JSON too (`{"error": "…"}`, 404 for an id that is not a ticket id, 503
/// when the state store cannot be read).
pub async fn json(State(app): State<Arc<Web>>, Path(raw): Path<String>) -> Response {
    match load(&app, &raw).await {
        Ok(t) => axum::Json(t).into_response(),
        Err(Miss::BadId(shown)) => {
            let error = format!("\"{shown}\" is not a ticket id: ticket ids are positive whole numbers");
            (StatusCode::NOT_FOUND, axum::Json(serde_json::json!({ "error": error }))).into_response()
        }
        Err(Miss::Store(e)) => {
            let error = format!("the state store cannot be read: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({ "error": error }))).into_response()
        }
    }
}
