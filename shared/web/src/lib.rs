//! The dashboard's HTTP routes, over the state store and the configuration
//! only. One router, three hosts: the dashboard Lambda (behind its Function
//! URL and sign-in with the MSP's OpenID provider, [`signin::protect`]),
//! `atpilot dev` (embedded store) and `atpilot dashboard` (the deployed
//! table, with the operator's AWS credentials).
//!
//! Protection: behind sign-in, the gate admits people with a role and every
//! form carries the session's token; otherwise HTTP Basic (user `atpilot`)
//! when a password is set (`atpilot dashboard` off loopback), else loopback
//! only. State-changing POSTs must also come from the dashboard's own pages
//! (Fetch Metadata / Origin), so another site cannot make a logged-in
//! browser flip the kill switch.

pub mod charts;
pub mod decisions_api;
pub mod forms;
pub mod functions;
pub mod headers;
pub mod messages;
pub mod open_links;
pub mod pages;
mod people;
pub mod signin;
pub mod tickets;

pub use forms::FormToken;

pub use functions::{approval_function_routes, approval_routes, intake_function_routes, intake_routes};
pub use headers::{SECURITY_HEADERS, security_headers, with_security_headers};

use atpilot_agent::html::dashboard;
use atpilot_config::Config;
use atpilot_store::State as Store;
use atpilot_store::records::{KillSwitchChange, PhaseRecord};
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::sync::Arc;

pub struct Web {
    pub state: Store,
    pub config: Arc<Config>,
    /// HTTP Basic password (user `atpilot`); `None` on a loopback address only.
    pub password: Option<String>,
    /// The token the dashboard's forms carry (see [`forms`]).
    pub forms: FormToken,
    /// Served behind [`signin::protect`]: the sign-in gate in front admits
    /// people, so neither a password nor a loopback listener is needed.
    pub behind_signin: bool,
}

impl Web {
    /// A dashboard behind `password` (none: a loopback listener only), its
    /// forms' token derived from the password, else random for this process.
    pub fn new(state: Store, config: Arc<Config>, password: Option<String>) -> Self {
        let forms = password.as_deref().map(FormToken::for_password).unwrap_or_else(FormToken::random);
        Web { state, config, password, forms, behind_signin: false }
    }

    /// A dashboard served behind sign-in ([`signin::protect`]): the deployed
    /// dashboard, and `atpilot dev` with a provider.
    pub fn behind_signin(state: Store, config: Arc<Config>) -> Self {
        Web { behind_signin: true, ..Self::new(state, config, None) }
    }
}

pub fn dashboard_routes(web: Arc<Web>) -> Router {
    protected(pages(), web)
}

/// The dashboard plus a read-only settings page: what the deployed dashboard
/// (the Lambda and `atpilot dashboard`) serves. `atpilot dev` has its own
/// settings page (it also shows the generated webhook secret).
pub fn deployed_routes(web: Arc<Web>) -> Router {
    protected(pages().route("/settings", get(settings_page)), web)
}

fn pages() -> Router<Arc<Web>> {
    Router::new()
        .route("/", get(page))
        .route("/phases", post(set_phase))
        .route("/kill-switch", post(kill_switch))
        .route("/approvals/", get(messages::approvals))
        .route("/signin", get(people::page))
        .route("/signin/release", post(people::release))
        .route("/outbox", get(messages::outbox))
        .route("/audit", get(audit_page))
        .route("/api/audit", get(audit_json))
        .route("/api/decisions", get(decisions_api::decisions))
        .route("/tickets/{id}", get(tickets::page))
        .route("/api/tickets/{id}", get(tickets::json))
        .fallback(pages::fallback)
}

/// Every page behind the same layers: same-origin POSTs, the login, the security headers.
fn protected(pages: Router<Arc<Web>>, web: Arc<Web>) -> Router {
    pages
        .layer(axum::middleware::from_fn(same_origin_posts))
        .layer(axum::middleware::from_fn_with_state(web.clone(), auth))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(web)
}

/// The configuration the functions run with, without any secret (secrets
/// are named by where they live, never shown).
async fn settings_page(State(app): State<Arc<Web>>) -> Response {
    let e = atpilot_agent::html::esc;
    let c = &app.config;
    let list = |v: &[String]| if v.is_empty() { "(none)".to_string() } else { e(&v.join(", ")) };
    let llm = match &c.model.llm {
        None => "off".to_string(),
        Some(l) => e(&format!(
            "{:?} {} (timeout {} ms; labels checked against the picklists, drafts scrubbed)",
            l.provider, l.model, l.timeout_ms
        )),
    };
    let m = &c.model;
    let model = match &m.category_path {
        None => "the model layer (/opt/models) when shipped, else the keyword classifier".to_string(),
        Some(category) => e(&std::iter::once(category.as_path())
            .chain(m.picklist_paths().into_iter().flatten())
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")),
    };
    let rows: String = c
        .categories
        .iter()
        .map(|(name, cat)| {
            let channels: Vec<String> = cat.channels.iter().map(|ch| format!("{ch:?}").to_lowercase()).collect();
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e(name.as_str()),
                cat.phase,
                if cat.safe { "yes" } else { "no" },
                list(&cat.approvers),
                list(&channels)
            )
        })
        .collect();
    let body = format!(
        "<p>The configuration the functions run with (the SSM parameter). Secrets are never shown; change settings with <code>aws ssm put-parameter</code> and a deploy (README).</p>\
<table id=settings cellpadding=4>\
<tr><th align=left>Autotask</th><td>{}</td></tr>\
<tr><th align=left>API budget share</th><td>{:.0}% of the tenant's hourly limit</td></tr>\
<tr><th align=left>Agent resource / role</th><td>{} / {}</td></tr>\
<tr><th align=left>Approval links</th><td>{} (valid {} h)</td></tr>\
<tr><th align=left>E-mail from</th><td>{}</td></tr>\
<tr><th align=left>Finance / service manager / alerts</th><td>{} / {} / {}</td></tr>\
<tr><th align=left>Classifier</th><td>{}</td></tr>\
<tr><th align=left>LLM second opinion</th><td>{}</td></tr>\
<tr><th align=left>Default phase</th><td>{}</td></tr></table>\
<h2>Categories</h2><p>Configured phases; the live phase of each category (changed in the dashboard or by the weekly promotion) is on the dashboard.</p>\
<table id=categories><tr><th>Category</th><th>Configured phase</th><th>Safe</th><th>Approvers</th><th>Channels</th></tr>{rows}</table>",
        e(&c.autotask.url),
        c.autotask.api_budget_share * 100.0,
        c.agent.resource_id,
        c.agent.role_id,
        e(&c.approvals.base_url),
        c.approvals.token_ttl_hours,
        e(c.notifications.email_from.as_deref().unwrap_or("(none)")),
        list(&c.notifications.finance),
        list(&c.notifications.service_manager),
        list(&c.notifications.alerts),
        model,
        llm,
        c.default_phase,
    );
    pages::body_page("Settings", "/settings", "settings-page", body)
}

/// Whether a `Host` header names this machine's loopback interface
/// (`localhost`, `127.x.x.x`, `[::1]`, any port). A page served to another
/// name that resolves to 127.0.0.1 (DNS rebinding) fails this.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default().to_string(),
        None => host
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map(|(n, _)| n.to_string())
            .unwrap_or(host),
    };
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Loopback without a password: no login, but only for requests addressed to
/// a loopback host name (a foreign `Host` is refused: DNS rebinding).
/// Otherwise HTTP Basic with the configured password.
pub async fn auth(State(web): State<Arc<Web>>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if web.behind_signin {
        return next.run(req).await;
    }
    let Some(password) = &web.password else {
        let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !is_loopback_host(host) {
            return (StatusCode::FORBIDDEN, "this dashboard answers requests to localhost or 127.0.0.1 only")
                .into_response();
        }
        return next.run(req).await;
    };
    use base64::Engine;
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("atpilot:{password}")));
    let ok = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| subtle::ConstantTimeEq::ct_eq(v.as_bytes(), expected.as_bytes()).into());
    if ok {
        next.run(req).await
    } else {
        (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Basic realm=\"atpilot\"")], "login required")
            .into_response()
    }
}

/// Whether a state-changing request comes from the dashboard's own pages:
/// browsers send `Sec-Fetch-Site` (same-origin for our forms) and `Origin`
/// on POSTs; a request with neither (curl, scripts) carries no ambient
/// browser credentials and is let through to the password check.
pub fn is_same_origin(headers: &HeaderMap) -> bool {
    let get = |h: &str| headers.get(h).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match (get("origin"), get("host")) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin.split_once("://").is_some_and(|(_, h)| h.eq_ignore_ascii_case(host)),
        (Some(_), None) => false,
    }
}

async fn same_origin_posts(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if req.method() == Method::POST && !is_same_origin(req.headers()) {
        return (StatusCode::FORBIDDEN, "cross-site request refused: change settings from the dashboard's own page")
            .into_response();
    }
    next.run(req).await
}

/// The latest routing audit, as written by the audit function (or `atpilot audit --store`).
async fn audit_page(State(app): State<Arc<Web>>) -> Response {
    match app.state.latest_report("audit").await {
        Ok(Some(r)) => Html(r.html).into_response(),
        Ok(None) => pages::respond(StatusCode::OK, "no_audit.html", "Routing audit", "/audit", minijinja::context! {}),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("state store unavailable: {e}")).into_response(),
    }
}

async fn audit_json(State(app): State<Arc<Web>>) -> Response {
    match app.state.latest_report("audit").await {
        Ok(Some(r)) => {
            axum::Json(serde_json::json!({"generated_at": r.generated_at, "summary": r.summary, "report": r.json}))
                .into_response()
        }
        Ok(None) => {
            (StatusCode::NOT_FOUND, axum::Json(serde_json::json!({"error": "no routing audit has been stored yet"})))
                .into_response()
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

/// A notice is a key from a fixed set (with values checked against the
/// configuration), never text from the URL: a link cannot make the dashboard
/// say anything else.
#[derive(serde::Deserialize)]
struct Notice {
    notice: Option<String>,
    category: Option<String>,
    phase: Option<String>,
}

impl Notice {
    /// The sentence for a known key, or `None`; only when the state it
    /// announces holds now (`d`), so a crafted link cannot misreport it.
    fn text(&self, config: &Config, d: &dashboard::DashboardData) -> Option<String> {
        match self.notice.as_deref()? {
            "kill-on" if d.kill_switch => Some("Kill switch on: the agent writes nothing to Autotask".into()),
            "kill-off" if !d.kill_switch => Some("Kill switch released".into()),
            "phase-set" => {
                let category = config.categories.keys().find(|c| Some(c.as_str()) == self.category.as_deref())?;
                let phase = self.phase.as_deref()?.parse::<atpilot_domain::Phase>().ok()?;
                d.phases
                    .iter()
                    .any(|p| &p.category == category && p.phase == phase)
                    .then(|| format!("{category} is now in the {phase} phase"))
            }
            _ => None,
        }
    }
}

/// The signed-in person, when the pages require sign-in.
pub(crate) type Person = Option<axum::Extension<signin::SignedIn>>;

impl Web {
    /// The token this page's forms carry: the signed-in person's session
    /// token, else the dashboard's.
    fn form_token<'a>(&'a self, person: &'a Person) -> &'a str {
        person.as_ref().map(|p| p.csrf.as_str()).unwrap_or(self.forms.as_str())
    }

    /// Whether a POST carries the token its page was rendered with.
    fn form_ok(&self, person: &Person, submitted: Option<&str>) -> bool {
        match person {
            Some(p) => p.csrf_matches(submitted),
            None => self.forms.matches(submitted),
        }
    }

    /// Who made a change from the dashboard, for its record.
    fn changed_by(&self, person: &Person) -> String {
        match person {
            Some(p) => format!("dashboard (signed in as {})", p.email),
            None if self.password.is_some() => "dashboard (signed in as atpilot)".into(),
            None => "dashboard".into(),
        }
    }
}

async fn page(State(app): State<Arc<Web>>, person: Person, Query(q): Query<Notice>) -> Response {
    render_page(&app, &person, StatusCode::OK, Err(&q)).await
}

/// The dashboard with a notice: a sentence of the server's own (`Ok`), or the
/// one a redirect's query names (`Err`), shown only if it holds.
async fn render_page(app: &Web, person: &Person, status: StatusCode, notice: Result<&str, &Notice>) -> Response {
    match dashboard::gather(&app.state, &app.config, 100).await {
        Ok(d) => {
            let asked = notice.err().and_then(|q| q.text(&app.config, &d));
            let notice = notice.ok().or(asked.as_deref());
            let trends = match atpilot_agent::html::trends::trends(&app.state, chrono::Utc::now().date_naive()).await {
                Ok(t) => t,
                Err(e) => {
                    return (StatusCode::SERVICE_UNAVAILABLE, format!("state store unavailable: {e}")).into_response();
                }
            };
            let charts = [
                charts::decisions_per_day(&trends),
                charts::autonomous_share(&trends),
                charts::reply_time(&trends),
                charts::approval_rates(&trends),
            ];
            let sections = dashboard::sections(&d, app.form_token(person));
            // A refusal is an error, never the green banner.
            let notice_class = if status.is_success() { "notice" } else { "error" };
            let page = minijinja::context! { notice, notice_class, sections, charts };
            pages::respond(status, "dashboard.html", "Dashboard", "/", page)
        }
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("state store unavailable: {e}")).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct PhaseForm {
    #[serde(default)]
    category: String,
    #[serde(default)]
    phase: String,
    csrf: Option<String>,
}

/// A form value as an error message shows it: cut at 60 characters (with
/// "…"); the message quotes it with `{:?}`, so control characters show escaped.
fn shown(value: &str) -> String {
    match value.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_string(),
    }
}

/// A dashboard form refused for what it carried: the dashboard again, with
/// why (status 400), nothing changed.
async fn not_changed(app: &Web, person: &Person, why: &str) -> Response {
    render_page(app, person, StatusCode::BAD_REQUEST, Ok(&format!("Not changed: {why}"))).await
}

/// The form's fields, or the dashboard saying the form could not be read.
async fn read_form<T>(app: &Web, person: &Person, form: Result<Form<T>, FormRejection>) -> Result<T, Response> {
    match form {
        Ok(Form(f)) => Ok(f),
        Err(e) => Err(not_changed(app, person, &format!("the form could not be read ({})", e.body_text())).await),
    }
}

/// A form posted without the page's token: refused, nothing changed.
pub(crate) fn stale_form() -> Response {
    (StatusCode::FORBIDDEN, "this form did not come from the dashboard's own page (or the dashboard restarted): reload the dashboard and try again; nothing was changed").into_response()
}

async fn set_phase(
    State(app): State<Arc<Web>>,
    person: Person,
    form: Result<Form<PhaseForm>, FormRejection>,
) -> Response {
    let f = match read_form(&app, &person, form).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    if !app.form_ok(&person, f.csrf.as_deref()) {
        return stale_form();
    }
    let phase = match f.phase.parse::<atpilot_domain::Phase>() {
        Ok(p) => p,
        Err(_) => {
            let e = atpilot_domain::category::CategoryError::UnknownPhase(shown(&f.phase));
            return not_changed(&app, &person, &e.to_string()).await;
        }
    };
    if f.category.chars().count() > 60 || f.category.chars().any(char::is_control) {
        let e = atpilot_domain::category::CategoryError::Malformed(shown(&f.category));
        return not_changed(&app, &person, &e.to_string()).await;
    }
    // The same rule as `atpilot phase set`: unknown and unsafe categories are refused with the reason,
    // on the page itself (nothing is changed, nothing goes into a URL).
    let category = match app.config.policy().check_phase_change(&f.category, phase) {
        Ok(c) => c,
        Err(e) => return render_page(&app, &person, StatusCode::CONFLICT, Ok(&format!("Not changed: {e}"))).await,
    };
    let rec = PhaseRecord {
        category: category.clone(),
        phase,
        changed_at: chrono::Utc::now(),
        changed_by: app.changed_by(&person),
        reason: "set in the dashboard".into(),
    };
    match app.state.set_phase(&rec).await {
        Ok(()) => Redirect::to(&format!("/?notice=phase-set&category={category}&phase={phase}")).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct KillForm {
    #[serde(default)]
    setting: String,
    csrf: Option<String>,
}

async fn kill_switch(
    State(app): State<Arc<Web>>,
    person: Person,
    form: Result<Form<KillForm>, FormRejection>,
) -> Response {
    let f = match read_form(&app, &person, form).await {
        Ok(f) => f,
        Err(page) => return page,
    };
    if !app.form_ok(&person, f.csrf.as_deref()) {
        return stale_form();
    }
    let on = match f.setting.as_str() {
        "on" => true,
        "off" => false,
        other => {
            let why = format!("the kill switch is set on or off, not {:?}", shown(other));
            return not_changed(&app, &person, &why).await;
        }
    };
    let done = Redirect::to(if on { "/?notice=kill-on" } else { "/?notice=kill-off" }).into_response();
    // Already so (a double submit, a second tab): the history records flips, not clicks.
    let change = KillSwitchChange {
        on,
        changed_at: chrono::Utc::now(),
        changed_by: app.changed_by(&person),
        via: "dashboard".into(),
    };
    match app.state.flip_kill_switch(&change).await {
        Ok(_) => done,
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use atpilot_store::embedded::EmbeddedStateStore;
    use atpilot_store::records::ReportRecord;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    fn web(dir: &std::path::Path, password: Option<&str>) -> Arc<Web> {
        let config = Config::parse(atpilot_config::EXAMPLE, "atpilot.example.toml").unwrap();
        Arc::new(Web::new(
            Store::new(Arc::new(EmbeddedStateStore::open(dir).unwrap())),
            Arc::new(config),
            password.map(str::to_string),
        ))
    }

    fn basic(user: &str, pw: &str) -> String {
        use base64::Engine;
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}")))
    }

    async fn call(w: &Arc<Web>, mut req: Request<Body>) -> (StatusCode, HeaderMap, String) {
        // As a browser on this machine addresses `atpilot dev`, unless the test says otherwise.
        if !req.headers().contains_key(header::HOST) {
            req.headers_mut().insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        }
        let res = dashboard_routes(w.clone()).oneshot(req).await.unwrap();
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
    }

    fn kill_switch_post(w: &Web, auth: Option<String>, site: Option<&str>, origin: Option<&str>) -> Request<Body> {
        let mut b = Request::post("/kill-switch")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::HOST, "dash.example");
        if let Some(a) = auth {
            b = b.header(header::AUTHORIZATION, a);
        }
        if let Some(s) = site {
            b = b.header("sec-fetch-site", s);
        }
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        b.body(Body::from(format!("setting=on&csrf={}", w.forms.as_str()))).unwrap()
    }

    #[tokio::test]
    async fn with_a_password_every_page_needs_the_login() {
        let dir = tempfile_dir();
        let w = web(dir.path(), Some("s3cret-long-password"));
        for path in ["/", "/api/decisions", "/audit", "/api/audit", "/approvals/"] {
            let (status, headers, _) = call(&w, Request::get(path).body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
            assert_eq!(headers[header::WWW_AUTHENTICATE], "Basic realm=\"atpilot\"");
        }
        let (status, ..) = call(
            &w,
            Request::get("/api/decisions")
                .header(header::AUTHORIZATION, basic("atpilot", "wrong"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, headers, body) = call(
            &w,
            Request::get("/api/decisions")
                .header(header::AUTHORIZATION, basic("atpilot", "s3cret-long-password"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "[]"));
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    }

    #[tokio::test]
    async fn cross_site_posts_change_nothing() {
        let dir = tempfile_dir();
        let w = web(dir.path(), Some("pw-for-the-test"));
        let auth = || Some(basic("atpilot", "pw-for-the-test"));
        for (site, origin) in [
            (Some("cross-site"), None),
            (Some("same-site"), Some("https://evil.dash.example")),
            (None, Some("https://evil.example")),
        ] {
            let (status, _, body) = call(&w, kill_switch_post(&w, auth(), site, origin)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{site:?} {origin:?}: {body}");
            assert!(!w.state.settings().await.unwrap().kill_switch);
        }
        // The dashboard's own form (a browser sends same-origin), and a script with no browser headers.
        let (status, headers, _) =
            call(&w, kill_switch_post(&w, auth(), Some("same-origin"), Some("https://dash.example"))).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/?notice=kill-on");
        assert!(w.state.settings().await.unwrap().kill_switch);
        let (status, ..) = call(&w, kill_switch_post(&w, None, None, Some("https://dash.example"))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "the password is still required");
    }

    #[tokio::test]
    async fn the_latest_stored_audit_is_served() {
        let dir = tempfile_dir();
        let w = web(dir.path(), None);
        let (status, _, body) = call(&w, Request::get("/audit").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("No routing audit yet"), "{body}");
        assert_eq!(call(&w, Request::get("/api/audit").body(Body::empty()).unwrap()).await.0, StatusCode::NOT_FOUND);
        let at = chrono::Utc::now();
        w.state
            .put_report(&ReportRecord {
                kind: "audit".into(),
                generated_at: at,
                summary: "12 tickets".into(),
                html: "<h1>Queue audit</h1>".into(),
                json: serde_json::json!({"tickets": 12}),
            })
            .await
            .unwrap();
        let (_, _, body) = call(&w, Request::get("/audit").body(Body::empty()).unwrap()).await;
        assert_eq!(body, "<h1>Queue audit</h1>");
        let (status, _, body) = call(&w, Request::get("/api/audit").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!((v["summary"].as_str(), v["report"]["tickets"].as_i64()), (Some("12 tickets"), Some(12)));
    }

    #[tokio::test]
    async fn the_deployed_settings_page_shows_the_configuration_not_its_secrets() {
        let dir = tempfile_dir();
        let w = web(dir.path(), Some("a-password-of-some-length"));
        let get = |auth: Option<String>| {
            let mut b = Request::get("/settings");
            if let Some(a) = auth {
                b = b.header(header::AUTHORIZATION, a);
            }
            b.body(Body::empty()).unwrap()
        };
        let res = deployed_routes(w.clone()).oneshot(get(None)).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res =
            deployed_routes(w.clone()).oneshot(get(Some(basic("atpilot", "a-password-of-some-length")))).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let html = String::from_utf8(axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
        assert!(html.contains(&format!("<td>{}</td>", w.config.autotask.url)), "{html}");
        assert!(html.contains("<td>password-reset</td><td>human-in-the-loop</td><td>yes</td>"), "{html}");
        assert!(!html.contains("a-password-of-some-length"));
        // The dashboard itself is still there.
        let res = deployed_routes(w)
            .oneshot(
                Request::get("/api/decisions")
                    .header(header::AUTHORIZATION, basic("atpilot", "a-password-of-some-length"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    fn phase_post(w: &Web, category: &str, phase: &str) -> Request<Body> {
        Request::post("/phases")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("category={category}&phase={phase}&csrf={}", w.forms.as_str())))
            .unwrap()
    }

    #[tokio::test]
    async fn forms_without_the_pages_token_change_nothing() {
        let dir = tempfile_dir();
        let w = web(dir.path(), None);
        let (_, _, page) = call(&w, Request::get("/").body(Body::empty()).unwrap()).await;
        assert!(page.contains(&format!("name=\"csrf\" value=\"{}\"", w.forms.as_str())), "the forms carry it");
        let other_dir = tempfile_dir();
        let other = web(other_dir.path(), None);
        assert_ne!(w.forms, other.forms, "random per process without a password");
        for body in ["setting=on".to_string(), format!("setting=on&csrf={}", other.forms.as_str())] {
            let post = Request::post("/kill-switch")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(body.clone()))
                .unwrap();
            let (status, _, text) = call(&w, post).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}: {text}");
            assert!(text.contains("reload the dashboard"), "{text}");
        }
        let (status, ..) = call(
            &w,
            Request::post("/phases")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from("category=password-reset&phase=shadow"))
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(!w.state.settings().await.unwrap().kill_switch);
        assert!(w.state.phases().await.unwrap().is_empty());
        // Behind a password the token is the same in every process (every Lambda instance).
        let (da, db) = (tempfile_dir(), tempfile_dir());
        let (a, b) = (web(da.path(), Some("pw-for-the-test")), web(db.path(), Some("pw-for-the-test")));
        assert_eq!(a.forms, b.forms);
    }

    #[tokio::test]
    async fn the_dashboard_refuses_unknown_and_unsafe_phase_changes() {
        let dir = tempfile_dir();
        let w = web(dir.path(), None);
        let (status, _, body) = call(&w, phase_post(&w, "pasword-reset", "shadow")).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(body.contains("did you mean password-reset?"), "{body}");
        assert!(body.contains("<div class=\"error\" id=\"notice\">"), "a refusal is shown as an error: {body}");
        let unsafe_category = w
            .config
            .categories
            .iter()
            .find(|(_, c)| !c.safe)
            .map(|(n, _)| n.to_string())
            .expect("the example has an unsafe category");
        let (_, _, body) = call(&w, phase_post(&w, &unsafe_category, "autonomous")).await;
        assert!(body.contains("is not on the safe list"), "{body}");
        assert!(w.state.phases().await.unwrap().is_empty(), "nothing was changed");
        let (_, headers, _) = call(&w, phase_post(&w, "password-reset", "internal-notes")).await;
        let (_, _, body) =
            call(&w, Request::get(headers[header::LOCATION].to_str().unwrap()).body(Body::empty()).unwrap()).await;
        assert!(body.contains("password-reset is now in the internal-notes phase"), "{body}");
    }

    #[tokio::test]
    async fn notices_come_from_a_fixed_set_never_from_the_url() {
        let dir = tempfile_dir();
        let w = web(dir.path(), None);
        for url in [
            "/?notice=Your%20account%20is%20suspended%2C%20call%20555",
            "/?notice=phase-set&category=%3Cscript%3E&phase=autonomous",
            "/?notice=phase-set&category=password-reset&phase=owned",
        ] {
            let (status, _, body) = call(&w, Request::get(url).body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::OK);
            assert!(!body.contains("id=\"notice\""), "{url}: no banner");
            assert!(!body.contains("suspended") && !body.contains("<script>") && !body.contains("owned"), "{url}");
        }
        // A known notice is shown only when what it says holds: a crafted link cannot misreport.
        for url in ["/?notice=kill-on", "/?notice=phase-set&category=password-reset&phase=shadow"] {
            let (_, _, body) = call(&w, Request::get(url).body(Body::empty()).unwrap()).await;
            assert!(!body.contains("id=\"notice\""), "{url}: the switch is off and the phase is not shadow");
        }
        let change = KillSwitchChange {
            on: true,
            changed_at: chrono::Utc::now(),
            changed_by: "alice".into(),
            via: "atpilot kill-switch".into(),
        };
        w.state.set_kill_switch(&change).await.unwrap();
        let (_, _, body) = call(&w, Request::get("/?notice=kill-on").body(Body::empty()).unwrap()).await;
        assert!(body.contains("<div class=\"notice\" id=\"notice\">Kill switch on"), "{body}");
        let (_, _, body) = call(&w, Request::get("/?notice=kill-off").body(Body::empty()).unwrap()).await;
        assert!(!body.contains("id=\"notice\""), "the switch is on: no 'released' banner");
    }

    #[tokio::test]
    async fn the_dashboard_shows_who_flipped_the_kill_switch_and_when() {
        let dir = tempfile_dir();
        let w = web(dir.path(), None);
        let at = chrono::Utc::now() - chrono::Duration::minutes(3);
        w.state
            .set_kill_switch(&KillSwitchChange {
                on: false,
                changed_at: at,
                changed_by: "alice".into(),
                via: "atpilot kill-switch".into(),
            })
            .await
            .unwrap();
        let (status, _, body) = call(&w, Request::get("/").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("id=\"kill-switch-history\""), "{body}");
        assert!(body.contains("alice") && body.contains(&at.format("%Y-%m-%d %H:%M").to_string()), "{body}");
        let mut post = kill_switch_post(&w, None, Some("same-origin"), None);
        post.headers_mut().insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        let (status, ..) = call(&w, post).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let h = w.state.kill_switch_history(10).await.unwrap();
        assert_eq!((h.len(), h[0].via.as_str(), h[0].on), (2, "dashboard", true));
        // Submitted again (a double click, a second tab): still on, and no flip recorded that did not happen.
        let mut again = kill_switch_post(&w, None, Some("same-origin"), None);
        again.headers_mut().insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        let (status, headers, _) = call(&w, again).await;
        assert_eq!((status, &headers[header::LOCATION]), (StatusCode::SEE_OTHER, &"/?notice=kill-on".parse().unwrap()));
        assert!(w.state.settings().await.unwrap().kill_switch);
        assert_eq!(w.state.kill_switch_history(10).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn a_loopback_dashboard_refuses_foreign_host_names() {
        let dir = tempfile_dir();
        let w = web(dir.path(), None);
        for host in ["127.0.0.1:8080", "localhost:8080", "[::1]:8080", "localhost"] {
            let (status, ..) =
                call(&w, Request::get("/").header(header::HOST, host).body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::OK, "{host}");
        }
        // A page on another name that resolves to 127.0.0.1 (DNS rebinding) reads nothing and changes nothing.
        for host in ["rebind.attacker.example:8080", "127.0.0.1.attacker.example", "evil.example"] {
            let (status, _, body) =
                call(&w, Request::get("/").header(header::HOST, host).body(Body::empty()).unwrap()).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{host}: {body}");
            let post = Request::post("/kill-switch")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::HOST, host)
                .header("origin", format!("http://{host}"))
                .header("sec-fetch-site", "same-origin")
                .body(Body::from("setting=on"))
                .unwrap();
            assert_eq!(call(&w, post).await.0, StatusCode::FORBIDDEN, "{host}");
        }
        assert!(!w.state.settings().await.unwrap().kill_switch);
    }

    fn tempfile_dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }
}
