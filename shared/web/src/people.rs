//! The Sign-in page (`/signin`): who is bound to which account at the MSP's
//! OpenID provider (each person with a role is bound on first sign-in), and,
//! for admins, a Release button per binding (`POST /signin/release`, with
//! the session's form token): a mailbox that moved to a new account signs in
//! again and is bound anew. Without sign-in the page says so.

use crate::{Person, Web};
use atpilot_agent::html::esc;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::fmt::Write as _;
use std::sync::Arc;

/// GET `/signin`.
pub(crate) async fn page(State(app): State<Arc<Web>>, person: Person) -> Response {
    let bindings = match app.state.subject_bindings(500).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::SERVICE_UNAVAILABLE, format!("state store unavailable: {e}")).into_response(),
    };
    let admin = person.as_ref().is_some_and(|p| app.config.signin.is_admin(&p.email));
    let mut rows = String::new();
    for b in &bindings {
        let release = match &person {
            Some(p) if admin => format!(
                "<form method=post action=\"/signin/release\"><input type=hidden name=email value=\"{}\"><input type=hidden name=csrf value=\"{}\"><button type=submit>Release</button></form>",
                esc(&b.email),
                esc(&p.csrf)
            ),
            _ => String::new(),
        };
        let _ = write!(
            rows,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{release}</td></tr>",
            esc(&b.email),
            esc(&b.subject),
            b.bound_at.format("%Y-%m-%d %H:%M")
        );
    }
    let intro = match &person {
        Some(p) => format!("You are signed in as <b id=who>{}</b>.", esc(&p.email)),
        None => "Sign-in is off here (a loopback dashboard): nobody is bound.".into(),
    };
    let body = format!(
        "<p>{intro}</p><p>Each person with a role is bound to their account at the OpenID provider on their first sign-in; another account with the same e-mail is refused. Admins release a binding when a mailbox moves to a new account.</p>\
<table id=bindings><tr><th>E-mail</th><th>Account (provider subject)</th><th>Bound (UTC)</th><th></th></tr>{rows}</table>"
    );
    crate::pages::body_page("Sign-in", "/signin", "signin", body)
}

#[derive(serde::Deserialize)]
pub(crate) struct ReleaseForm {
    email: String,
    csrf: Option<String>,
}

/// POST `/signin/release`: an admin (the gate checks the role) releases one binding.
pub(crate) async fn release(State(app): State<Arc<Web>>, person: Person, Form(f): Form<ReleaseForm>) -> Response {
    if person.is_none() || !app.form_ok(&person, f.csrf.as_deref()) {
        return crate::stale_form();
    }
    match app.state.release_subject(&f.email).await {
        Ok(()) => {
            tracing::info!(email = %f.email, by = ?person.as_ref().map(|p| p.email.clone()), "sign-in binding released");
            Redirect::to("/signin").into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}
