//! Sign-in for every page (`atpilot dev --oidc-issuer URL`): the
//! `/auth/login`, `/auth/callback` and `/auth/logout` routes, and the gate
//! every other route passes except `/healthz`, the intake webhook and the
//! loopback kill-switch API (which has its own token). A person is signed in
//! by the MSP's OpenID provider ([`atpilot_signin`]) and holds a role from
//! the configuration (`[signin]` admins and viewers, and each category's
//! approvers) matched by e-mail; no role, 403 on every page. Dashboard
//! changes (phases, kill switch) need an admin.
//!
//! Cookies: the pending sign-in (`atpilot_login`, 10 minutes) and the session
//! (`atpilot_session`, 8 hours), both sealed with AES-256-GCM, `HttpOnly`,
//! `SameSite=Lax`, and `Secure` with the `__Host-` prefix when served over
//! HTTPS, so they never collide with the provider's cookies on the same host.

use atpilot_config::Config;
use atpilot_signin::{Client, PendingLogin, Session, SessionCodec};
use atpilot_store::State as Store;
use atpilot_store::records::{Claim, SubjectBinding};
use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use std::sync::Arc;

const LOGIN_SECS: i64 = 600;
const SESSION_SECS: i64 = 8 * 3600;

/// The signed-in person, put in the request by [`require_signin`] for the
/// pages that act as them: their e-mail, and their session's form token,
/// which every form they are shown carries as `csrf` and every POST must return.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub email: String,
    pub csrf: String,
}

impl SignedIn {
    /// Whether a submitted form token is this session's (constant time).
    pub fn csrf_matches(&self, submitted: Option<&str>) -> bool {
        !self.csrf.is_empty()
            && submitted.is_some_and(|s| subtle::ConstantTimeEq::ct_eq(s.as_bytes(), self.csrf.as_bytes()).into())
    }
}

/// What a signed-in person may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Approver,
    Admin,
}

/// The sign-in of one deployment.
pub struct SignIn {
    pub client: Client,
    pub codec: SessionCodec,
    pub config: Arc<Config>,
    pub state: Store,
    /// Served over HTTPS: `Secure` cookies with the `__Host-` prefix.
    pub https: bool,
    /// The redirect URI is `https://{Host}/auth/callback` of each request
    /// (deployed: one app registration for the dashboard's and the approval
    /// pages' Function URLs, each registered at the provider), instead of the
    /// client's configured one.
    pub callback_from_host: bool,
}

/// Why the deployed sign-in cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DeployedSignInError {
    #[error(
        "[signin] issuer and client_id are not set: the deployed dashboard and approval pages require sign-in with the MSP's OpenID provider (README: Sign-in with your OpenID provider)"
    )]
    NotConfigured,
    #[error("the session key secret is {0} characters; it needs at least 32 (the stack generates 64)")]
    WeakSessionKey(usize),
    #[error("the OpenID provider: {0}")]
    Provider(#[from] atpilot_signin::SignInError),
}

impl SignIn {
    /// The sign-in of a deployed function (HTTPS, redirect URI from the
    /// request's host): the provider from `[signin]`, the client secret and
    /// the cookie key from Secrets Manager.
    pub async fn deployed(
        config: Arc<Config>,
        state: Store,
        client_secret: &str,
        session_key: &str,
    ) -> Result<SignIn, DeployedSignInError> {
        let (issuer, client_id) = config.signin.provider().ok_or(DeployedSignInError::NotConfigured)?;
        let key = session_key.trim();
        if key.chars().count() < 32 {
            return Err(DeployedSignInError::WeakSessionKey(key.chars().count()));
        }
        let client = Client::connect(atpilot_signin::ClientConfig {
            issuer: issuer.to_string(),
            client_id: client_id.to_string(),
            client_secret: client_secret.trim().to_string(),
            redirect_uri: String::new(),
            clock_skew: std::time::Duration::from_secs(300),
        })
        .await?;
        let codec = SessionCodec::new(key.as_bytes());
        Ok(SignIn { client, codec, config, state, https: true, callback_from_host: true })
    }

    fn cookie_name(&self, base: &str) -> String {
        if self.https { format!("__Host-{base}") } else { base.to_string() }
    }

    fn cookie(&self, base: &str, value: &str, max_age: i64) -> String {
        let secure = if self.https { "; Secure" } else { "" };
        format!("{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", self.cookie_name(base))
    }

    /// The role of `email`: admin, else approver of some category, else viewer.
    pub fn role_of(&self, email: &str) -> Option<Role> {
        let c = &self.config;
        if c.signin.is_admin(email) {
            return Some(Role::Admin);
        }
        if c.approves_any(email) {
            return Some(Role::Approver);
        }
        c.signin.is_viewer(email).then_some(Role::Viewer)
    }

    /// The session in this request's cookie, if valid now.
    pub fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let value = read_cookie(headers, &self.cookie_name("atpilot_session"))?;
        self.codec.open("session", &value, now())
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn read_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// `router` behind sign-in: the `/auth/*` routes added and every other
/// route gated by [`require_signin`].
pub fn protect(router: Router, signin: Arc<SignIn>) -> Router {
    router.merge(signin_routes(signin.clone())).layer(axum::middleware::from_fn_with_state(signin, require_signin))
}

/// `/auth/login`, `/auth/callback`, `/auth/logout`.
pub fn signin_routes(signin: Arc<SignIn>) -> Router {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", get(logout))
        .layer(axum::middleware::from_fn(crate::headers::security_headers))
        .with_state(signin)
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
}

/// `https://{host}/auth/callback` for a plain host name (and port), else `None`.
fn callback_for_host(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    plain.then(|| format!("https://{host}/auth/callback"))
}

async fn login(State(s): State<Arc<SignIn>>, headers: HeaderMap, Query(q): Query<LoginQuery>) -> Response {
    let return_to = q.return_to.as_deref().unwrap_or("/");
    let req = if s.callback_from_host {
        match callback_for_host(&headers) {
            Some(callback) => s.client.start_at(return_to, &callback),
            None => return page(StatusCode::BAD_REQUEST, "Sign-in failed", "the request names no usable host"),
        }
    } else {
        s.client.start(return_to)
    };
    let sealed = s.codec.seal("login", now() + LOGIN_SECS, &req.pending);
    ([(header::SET_COOKIE, s.cookie("atpilot_login", &sealed, LOGIN_SECS))], Redirect::to(&req.authorize_url))
        .into_response()
}

#[derive(serde::Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let e = atpilot_agent::html::esc;
    let html = format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>{t}</title></head><body style=\"font-family:system-ui;margin:24px\"><h1>{t}</h1><p>{b}</p><p><a href=\"/auth/login\">Sign in again</a></p></body></html>",
        t = e(title),
        b = e(body)
    );
    (status, Html(html)).into_response()
}

async fn callback(State(s): State<Arc<SignIn>>, headers: HeaderMap, Query(q): Query<CallbackQuery>) -> Response {
    if let Some(err) = q.error {
        let why = format!("the provider answered {err}: {}", q.error_description.unwrap_or_default());
        return page(StatusCode::FORBIDDEN, "Sign-in refused", &why);
    }
    let Some(pending) = read_cookie(&headers, &s.cookie_name("atpilot_login"))
        .and_then(|v| s.codec.open::<PendingLogin>("login", &v, now()))
    else {
        return page(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "this browser has no sign-in under way (or it took over 10 minutes)",
        );
    };
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return page(StatusCode::BAD_REQUEST, "Sign-in failed", "the provider sent no code");
    };
    // Each state is used once: a replayed callback decides nothing.
    match s.state.claim_event(&format!("oidc-state#{state}"), chrono::Utc::now(), LOGIN_SECS).await {
        Ok(true) => {}
        Ok(false) => {
            return page(StatusCode::BAD_REQUEST, "Sign-in already used", "this sign-in answer was used before");
        }
        Err(e) => return page(StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", &e.to_string()),
    }
    let identity = match s.client.finish(&pending, &code, &state).await {
        Ok(i) => i,
        Err(e) => return page(StatusCode::FORBIDDEN, "Sign-in refused", &e.to_string()),
    };
    if let Err(refused) = bind(&s, &identity).await {
        return refused;
    }
    tracing::info!(who = ?identity.login_name(), subject = %identity.subject, "signed in");
    let session = Session { identity, expires_at: now() + SESSION_SECS, csrf: atpilot_signin::random_token() };
    let sealed = s.codec.seal("session", session.expires_at, &session);
    let mut r = Redirect::to(&pending.return_to).into_response();
    let h = r.headers_mut();
    h.append(header::SET_COOKIE, s.cookie("atpilot_session", &sealed, SESSION_SECS).parse().expect("a cookie"));
    h.append(header::SET_COOKIE, s.cookie("atpilot_login", "", 0).parse().expect("a cookie"));
    r
}

/// A person with a role is bound to their provider account on first sign-in;
/// another account carrying the same e-mail later is refused until an admin
/// releases the binding (the dashboard's Sign-in page).
async fn bind(s: &SignIn, identity: &atpilot_signin::Identity) -> Result<(), Response> {
    let Some(email) = identity.login_name().filter(|e| s.role_of(e).is_some()) else { return Ok(()) };
    let binding =
        SubjectBinding { email: email.to_string(), subject: identity.subject.clone(), bound_at: chrono::Utc::now() };
    match s.state.bind_subject(&binding).await {
        Ok(Claim::Claimed) => {
            tracing::info!(who = %email, subject = %identity.subject, "bound to the provider account on first sign-in");
            Ok(())
        }
        Ok(Claim::Existing(b)) if b.subject == identity.subject => Ok(()),
        Ok(Claim::Existing(b)) => {
            tracing::warn!(who = %email, bound = %b.subject, signed_in = %identity.subject, "sign-in refused: another account with a bound e-mail");
            Err(page(
                StatusCode::FORBIDDEN,
                "Another account",
                &format!(
                    "{email} is bound to another account at the provider ({}, since {} UTC); this sign-in is {}. If the mailbox moved to a new account, an admin releases the binding on the dashboard's Sign-in page; then sign in again",
                    b.subject,
                    b.bound_at.format("%Y-%m-%d %H:%M"),
                    identity.subject
                ),
            ))
        }
        Err(e) => Err(page(StatusCode::SERVICE_UNAVAILABLE, "Sign-in unavailable", &e.to_string())),
    }
}

async fn logout(State(s): State<Arc<SignIn>>) -> Response {
    let to = s.client.metadata().end_session_endpoint.clone().unwrap_or_else(|| "/auth/login".into());
    ([(header::SET_COOKIE, s.cookie("atpilot_session", "", 0))], Redirect::to(&to)).into_response()
}

/// Paths that never need a person: health, the intake webhook (signed by
/// Autotask), a webhook runbook's callback (signed by its provider), the
/// sign-in itself, and the loopback kill-switch API (its own token).
fn open_path(path: &str) -> bool {
    path == "/healthz"
        || path.starts_with("/webhooks/autotask")
        || path == "/approvals/runbooks/callback"
        || path == "/runbooks/callback"
        || path.starts_with("/auth/")
        || path == "/api/kill-switch"
}

/// The gate in front of every other route (see the module).
pub async fn require_signin(State(s): State<Arc<SignIn>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if open_path(&path) {
        return next.run(req).await;
    }
    let Some(session) = s.session(req.headers()) else {
        if req.method() == Method::GET || req.method() == Method::HEAD {
            let here = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
            let to = format!(
                "/auth/login?return_to={}",
                url::form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
            );
            return Redirect::to(&to).into_response();
        }
        return page(StatusCode::UNAUTHORIZED, "Sign in first", "this action needs a signed-in person");
    };
    let who = session.identity.login_name().unwrap_or("(no e-mail)").to_string();
    let role = session.identity.login_name().and_then(|e| s.role_of(e));
    let needs_admin =
        req.method() == Method::POST && (path == "/phases" || path == "/kill-switch" || path == "/signin/release");
    match role {
        None => page(
            StatusCode::FORBIDDEN,
            "No access",
            &format!(
                "signed in as {who}, who has no role in atpilot ([signin] admins or viewers, or a category's approvers)"
            ),
        ),
        Some(r) if needs_admin && r < Role::Admin => page(
            StatusCode::FORBIDDEN,
            "Admins only",
            &format!(
                "signed in as {who}: changing phases, the kill switch or sign-in bindings needs an admin ([signin] admins)"
            ),
        ),
        Some(_) => {
            if req.method() == Method::POST {
                // Every state change: who, what, from where (the Function URL's
                // X-Forwarded-For, else the connection), in the function's log.
                let from = req
                    .headers()
                    .get("x-forwarded-for")
                    .and_then(|v| v.to_str().ok())
                    // The last hop is the one AWS added; earlier ones are the client's say-so.
                    .map(|v| v.rsplit(',').next().unwrap_or(v).trim().to_string())
                    .or_else(|| {
                        req.extensions()
                            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                            .map(|c| c.0.ip().to_string())
                    })
                    .unwrap_or_else(|| "unknown".into());
                tracing::info!(who = %who, path = %path, from = %from, "state change requested");
            }
            let mut req = req;
            req.extensions_mut().insert(SignedIn { email: who, csrf: session.csrf.clone() });
            next.run(req).await
        }
    }
}
