//! `atpilot dev`: the README's "run the main job" command. The Autotask
//! sandbox (or a real tenant, read-only in shadow), the embedded store and
//! queues, every function in one process, a scheduler, a ticket feeder, and
//! one HTTP server with the webhook, the approval pages and the dashboard.

use crate::CliResult;
use atpilot_agent::deps::Deps;
use atpilot_agent::html::esc;
use atpilot_autotask::{TicketWebhookRegistration, ZoneSource};
use atpilot_config::Config;
use atpilot_local::{Local, LocalOptions, Target};
use atpilot_web::Web;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Address for the webhook, approval pages and dashboard.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory of the embedded state store (kept across restarts).
    #[arg(long, default_value = ".state")]
    pub state: PathBuf,
    /// A real Autotask tenant (REST root, or the global URL to discover the zone) instead of the sandbox.
    /// Credentials: AUTOTASK_USERNAME, AUTOTASK_SECRET, AUTOTASK_INTEGRATION_CODE.
    #[arg(long)]
    pub autotask_url: Option<String>,
    /// New realistic sandbox tickets per minute (0: none).
    #[arg(long, default_value_t = 6)]
    pub tickets_per_minute: u32,
    /// Configuration file (default: the sandbox demo configuration; with
    /// --autotask-url, every category in shadow).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Seeded sandbox size.
    #[arg(long, default_value_t = 2000)]
    pub sandbox_tickets: u64,
    /// Require sign-in with this OpenID provider (its issuer URL, e.g.
    /// https://login.microsoftonline.com/<tenant id>/v2.0) on every page but
    /// /healthz and the webhook (default: `[signin] issuer` of --config, if
    /// set). Client credentials: ATPILOT_OIDC_CLIENT_ID (default `[signin]
    /// client_id`), ATPILOT_OIDC_CLIENT_SECRET; redirect URI:
    /// {this URL}/auth/callback.
    #[arg(long)]
    pub oidc_issuer: Option<String>,
    /// The knowledge-base sandbox completed tickets are drafted into, when the
    /// configuration has no `[kb]`: `hudu` or `itglue`.
    #[arg(long, value_enum, default_value_t = KbChoice::Hudu)]
    pub kb: KbChoice,
}

/// `--kb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KbChoice {
    Hudu,
    Itglue,
}

struct App {
    deps: Deps,
    /// The token of `<state>/dev.json`, for `/api/kill-switch`.
    dev_token: String,
    webhook_secret: String,
    autotask: String,
    state_dir: PathBuf,
    password: Option<String>,
    processed: AtomicU64,
}

/// Locally the approval links point at this process (`--listen`), unless the
/// configuration names a public, non-loopback base URL (e.g. a tunnel).
fn approvals_here(config: &mut Config, public: &str) {
    let loopback = url::Url::parse(&config.approvals.base_url)
        .ok()
        .and_then(|u| u.host_str().map(atpilot_web::is_loopback_host))
        .unwrap_or(false);
    let here = format!("{public}/approvals/");
    if loopback && config.approvals.base_url != here {
        eprintln!(
            "approval links point at {here} (this process), not at approvals.base_url {}",
            config.approvals.base_url
        );
        config.approvals.base_url = here;
    }
}

/// A real tenant without a configuration file: read-only, every category in shadow.
fn shadow_config(url: &str) -> Result<Config, Box<dyn std::error::Error + Send + Sync>> {
    let resource = crate::cmd::tenant::env("ATPILOT_AGENT_RESOURCE_ID").map_err(
        |_| "ATPILOT_AGENT_RESOURCE_ID is not set: name the resource the agent works as (or pass --config FILE)",
    )?;
    let role = crate::cmd::tenant::env("ATPILOT_AGENT_ROLE_ID").map_err(
        |_| "ATPILOT_AGENT_ROLE_ID is not set: name the role the agent logs time as (or pass --config FILE)",
    )?;
    let text = format!(
        "default_phase = \"shadow\"\n[autotask]\nurl = {url:?}\n[agent]\nresource_id = {resource}\nrole_id = {role}\n[billing_codes]\ndefault = 1\n[statuses]\ndisengage = []\ncomplete = 5\n[approvals]\nbase_url = \"http://127.0.0.1:8080/approvals/\"\n[notifications]\n"
    );
    Ok(Config::parse(&text, "the shadow configuration for a real tenant")?)
}

pub async fn run(args: Args) -> CliResult {
    super::init_logging();
    let password = std::env::var("ATPILOT_DASHBOARD_PASSWORD").ok().filter(|p| !p.is_empty());
    if !args.listen.ip().is_loopback() && password.is_none() {
        return Err(format!("{} is not a loopback address: set ATPILOT_DASHBOARD_PASSWORD to protect the dashboard, or listen on 127.0.0.1", args.listen).into());
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    let public = format!("http://{addr}");
    let mut config = args.config.as_deref().map(Config::load).transpose()?;
    if let Some(c) = config.as_mut() {
        approvals_here(c, &public);
    }
    let (target, config, autotask) = match &args.autotask_url {
        None => {
            (Target::Sandbox { tickets: args.sandbox_tickets, seed: 1 }, config, "the embedded sandbox".to_string())
        }
        Some(url) => {
            let credentials = crate::cmd::tenant::credentials()?;
            let config = match config {
                Some(c) => c,
                None => {
                    let mut c = shadow_config(url)?;
                    approvals_here(&mut c, &public);
                    c
                }
            };
            (Target::Remote { zone: ZoneSource::for_url(url), credentials }, Some(config), url.clone())
        }
    };
    // Model files and secrets first (Local::start loads the models), then every id against the target.
    let remote = args.autotask_url.is_some();
    let env = |k: &str| std::env::var(k).ok();
    if let Some(c) = &config {
        refuse_unless_valid(&atpilot_agent::config_check::check_offline(c, &env, remote), &autotask)?;
    }
    let mut local = Local::start(LocalOptions {
        state_dir: args.state.clone(),
        target,
        config,
        webhook_secret: std::env::var("ATPILOT_WEBHOOK_SECRET").ok().filter(|s| !s.is_empty()),
        public_url: public.clone(),
        classifier: atpilot_local::LocalClassifier::TrainOnSandbox,
        kb_sandbox: match args.kb {
            KbChoice::Hudu => atpilot_local::kb::KbSandbox::Hudu,
            KbChoice::Itglue => atpilot_local::kb::KbSandbox::ItGlue,
        },
    })
    .await?;
    refuse_unless_valid(
        &atpilot_agent::config_check::check(&local.client, &local.deps.config, &env, remote).await,
        &autotask,
    )?;

    // With sign-in (the flag, else `[signin] issuer`), approval messages carry
    // one Review link and the signed-in approver decides.
    let issuer = args.oidc_issuer.clone().or_else(|| local.deps.config.signin.issuer.clone());
    local.deps.signin = issuer.is_some();

    // Tell `atpilot kill-switch` (which cannot open the store while this process holds it) how to reach us.
    let dev_token = random_token()?;
    let dev = crate::cmd::phase::DevFile {
        url: format!(
            "http://{}",
            SocketAddr::new(
                if addr.ip().is_unspecified() { std::net::Ipv4Addr::LOCALHOST.into() } else { addr.ip() },
                addr.port()
            )
        ),
        token: dev_token.clone(),
        pid: std::process::id(),
        config: args.config.as_deref().map(|p| p.canonicalize().unwrap_or_else(|_| p.to_path_buf())),
    };
    write_dev_file(&args.state, &dev)?;

    let app = Arc::new(App {
        deps: local.deps.clone(),
        dev_token,
        webhook_secret: local.webhook_secret.clone(),
        autotask,
        state_dir: args.state.clone(),
        password,
        processed: AtomicU64::new(0),
    });
    spawn_workers(&local, app.clone());
    let signin = match &issuer {
        Some(issuer) => Some(sign_in(issuer, &public, &args.state, &local).await?),
        None => None,
    };
    let banner = match &issuer {
        Some(issuer) => format!("sign-in required: {issuer} (redirect URI {public}/auth/callback)"),
        None => {
            "no sign-in (pass --oidc-issuer to require it): the pages are open to this machine only (loopback)".into()
        }
    };
    let mut router = router(app.clone());
    if let Some(s) = signin {
        router = atpilot_web::signin::protect(router, s);
    }
    let server =
        tokio::spawn(
            async move { axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await },
        );

    register_in_sandbox(&local, &public, args.tickets_per_minute).await?;
    println!("dashboard on {public}/");
    // On stderr: scripts read the first stdout line and may close the pipe.
    eprintln!("{banner}");
    let _keep = local;
    match server.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("HTTP server stopped: {e}").into()),
        Err(e) => Err(format!("HTTP server crashed: {e}").into()),
    }
}

/// Registers the webhook in the sandbox, as `atpilot setup` does in a real
/// tenant, and starts the ticket feeder.
async fn register_in_sandbox(
    local: &Local,
    public: &str,
    tickets_per_minute: u32,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if let Some(sb) = &local.sandbox {
        // Register the webhook in the sandbox, as `atpilot setup` does in a real tenant.
        let reg = TicketWebhookRegistration {
            name: "atpilot (local)".into(),
            webhook_url: format!("{public}/webhooks/autotask"),
            deactivation_url: format!("{public}/webhooks/autotask/deactivated"),
            secret_key: local.webhook_secret.clone(),
            notification_email_address: None,
            on_create: true,
            on_update: true,
            subscribed_fields: ["status", "queueID", "priority", "issueType", "subIssueType", "assignedResourceID"]
                .map(String::from)
                .to_vec(),
            display_always_fields: vec!["title".into()],
            excluded_resources: local.deps.own_resources(),
        };
        local
            .client
            .register_ticket_webhook(&reg)
            .await
            .map_err(|e| format!("cannot register the webhook in the sandbox: {e}"))?;
        if tickets_per_minute > 0 {
            super::feeder::spawn(sb.clone(), tickets_per_minute, local.deps.config.statuses.complete.get());
        }
    }
    Ok(())
}

/// The sign-in of this run: the provider discovered, the client credentials
/// from the environment, the cookie key kept in the state directory.
async fn sign_in(
    issuer: &str,
    public: &str,
    state: &std::path::Path,
    local: &Local,
) -> Result<Arc<atpilot_web::signin::SignIn>, Box<dyn std::error::Error + Send + Sync>> {
    let var = |k: &str| {
        std::env::var(k).ok().filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            format!("{k} is not set: --oidc-issuer needs the client registered at the provider (ATPILOT_OIDC_CLIENT_ID, ATPILOT_OIDC_CLIENT_SECRET)")
        })
    };
    let client_id = match local.deps.config.signin.client_id.clone() {
        Some(id) if std::env::var("ATPILOT_OIDC_CLIENT_ID").is_err() => id,
        _ => var("ATPILOT_OIDC_CLIENT_ID")?,
    };
    let config = atpilot_signin::ClientConfig {
        issuer: issuer.to_string(),
        client_id,
        client_secret: var("ATPILOT_OIDC_CLIENT_SECRET")?,
        redirect_uri: format!("{public}/auth/callback"),
        clock_skew: Duration::from_secs(300),
    };
    let client = atpilot_signin::Client::connect(config).await.map_err(|e| format!("--oidc-issuer {issuer}: {e}"))?;
    let key = atpilot_local::state_dir::signin_key(state)?;
    Ok(Arc::new(atpilot_web::signin::SignIn {
        client,
        codec: atpilot_signin::SessionCodec::new(key.as_bytes()),
        config: local.deps.config.clone(),
        state: local.deps.state.clone(),
        https: public.starts_with("https://"),
        callback_from_host: false,
    }))
}

/// 32 random bytes from the OS, as hex.
fn random_token() -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    use std::io::Read;
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| format!("cannot read /dev/urandom for the dev token: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Writes `<state>/dev.json`, readable by this user only (it holds the token).
fn write_dev_file(
    state: &std::path::Path,
    dev: &crate::cmd::phase::DevFile,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = state.join(crate::cmd::phase::DEV_FILE);
    let err = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    // Removed first: an existing file would keep its permissions.
    match std::fs::remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e).into()),
    }
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).map_err(err)?;
    f.write_all(&serde_json::to_vec_pretty(dev)?).map_err(err)?;
    Ok(())
}

/// `/api/kill-switch` is for `atpilot kill-switch` on this machine: loopback callers with the token of dev.json.
/// The refusal, if the caller is not one.
fn refuse_caller(app: &App, peer: SocketAddr, headers: &HeaderMap) -> Option<Response> {
    if !peer.ip().is_loopback() {
        return Some(
            (StatusCode::FORBIDDEN, "the kill-switch API answers loopback callers only; use the dashboard")
                .into_response(),
        );
    }
    let given = headers.get(crate::cmd::phase::DEV_TOKEN_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
    let expected = app.dev_token.as_bytes();
    let same = given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    (!same).then(|| (StatusCode::UNAUTHORIZED, "wrong or missing dev token (see <state>/dev.json)").into_response())
}

async fn kill_switch_state(app: &App) -> Response {
    let read = async {
        Ok::<_, atpilot_store::StoreError>(crate::cmd::phase::KillSwitchState {
            kill_switch: app.deps.state.settings().await?.kill_switch,
            history: app.deps.state.kill_switch_history(10).await?,
        })
    };
    match read.await {
        Ok(s) => axum::Json(s).into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

async fn kill_switch_get(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = refuse_caller(&app, peer, &headers) {
        return r;
    }
    kill_switch_state(&app).await
}

async fn kill_switch_post(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<axum::Json<crate::cmd::phase::KillSwitchRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    // Who may call is checked before what they sent.
    if let Some(r) = refuse_caller(&app, peer, &headers) {
        return r;
    }
    let req = match body {
        Ok(axum::Json(req)) => req,
        Err(e) => return e.into_response(),
    };
    let change = atpilot_store::records::KillSwitchChange {
        on: req.on,
        changed_at: chrono::Utc::now(),
        changed_by: req.by,
        via: "atpilot kill-switch (through atpilot dev)".into(),
    };
    if let Err(e) = app.deps.state.flip_kill_switch(&change).await {
        return (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response();
    }
    kill_switch_state(&app).await
}

/// Prints the findings that are not ok (on stderr: stdout's first line is the
/// dashboard's address) and refuses to start on any error.
fn refuse_unless_valid(report: &atpilot_agent::config_check::ConfigReport, target: &str) -> CliResult {
    for f in report.findings.iter().filter(|f| f.level != atpilot_agent::config_check::Level::Ok) {
        eprintln!("{f}");
    }
    match report.errors().count() {
        0 => Ok(()),
        n => Err(format!("the configuration is contradicted by {target}: {n} problem(s) (ERROR above); atpilot did not start. `atpilot config check FILE --against` checks it again").into()),
    }
}

fn spawn_workers(local: &Local, app: Arc<App>) {
    let deps = local.deps.clone();
    let a = app.clone();
    tokio::spawn(atpilot_local::worker(local.classify_queue.clone(), move |d| {
        let (deps, a) = (deps.clone(), a.clone());
        async move {
            let r = atpilot_local::classify_message(&deps, &d.message_id, &d.body).await;
            if r.is_ok() {
                a.processed.fetch_add(1, Ordering::Relaxed);
            }
            r.map(|_| ())
        }
    }));
    let deps = local.deps.clone();
    tokio::spawn(atpilot_local::worker(local.time_entry_queue.clone(), move |d| {
        let deps = deps.clone();
        async move { atpilot_local::time_entry_message(&deps, &d.message_id, &d.body).await.map(|_| ()) }
    }));
    // The scheduler: the reconciler every minute (the EventBridge rule in AWS), then the status-update scan.
    let deps = local.deps.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        for minute in 0u64.. {
            tick.tick().await;
            if let Err(e) =
                atpilot_agent::handlers::reconciler::reconcile(&deps, chrono::Utc::now(), chrono::Duration::minutes(10))
                    .await
            {
                tracing::warn!(error = %e, "reconciler pass failed; it runs again in a minute");
            }
            if let Err(e) = atpilot_agent::handlers::approval::sweep(&deps, chrono::Utc::now()).await {
                tracing::warn!(error = %e, "approval sweep failed; it runs again in a minute");
            }
            // Status updates (hourly in AWS): at start and every 5 minutes here, so the demo shows them soon.
            if minute % 5 != 0 {
                continue;
            }
            match atpilot_agent::handlers::status_updates::scan(&deps, chrono::Utc::now()).await {
                Ok(r) if r.proposed > 0 => {
                    tracing::info!(proposed = r.proposed, due = r.due, "status updates proposed")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "status-update scan failed; it runs again in a minute"),
            }
        }
    });
}

fn router(app: Arc<App>) -> Router {
    let web = Arc::new(Web::new(app.deps.state.clone(), app.deps.config.clone(), app.password.clone()));
    let own = Router::new()
        .route("/healthz", get(healthz))
        .route("/api/kill-switch", get(kill_switch_get).post(kill_switch_post))
        .route("/settings", get(settings).layer(axum::middleware::from_fn_with_state(web.clone(), atpilot_web::auth)))
        .with_state(app.clone());
    // The intake and approval routes are the very routers their Lambdas serve.
    atpilot_web::with_security_headers(own)
        .merge(atpilot_web::intake_routes(app.deps.clone()))
        .merge(atpilot_web::dashboard_routes(web))
        // Approval pages authenticate by their signed, approver-bound tokens.
        .merge(atpilot_web::approval_routes(app.deps.clone()))
}

async fn settings(State(app): State<Arc<App>>) -> Response {
    let e = esc;
    let body = format!(
        "<table id=settings>\
<tr><th align=left>Autotask</th><td>{}</td></tr><tr><th align=left>State directory</th><td>{}</td></tr>\
<tr><th align=left>Agent resource / role</th><td>{} / {}</td></tr>\
<tr><th align=left>Webhook secret</th><td><code id=webhook-secret>{}</code> (shown in part; set it with ATPILOT_WEBHOOK_SECRET to know it)</td></tr>\
<tr><th align=left>Events processed</th><td>{}</td></tr></table>\
<p>Autotask signs each callout with the webhook secret (X-Hook-Signature); set ATPILOT_WEBHOOK_SECRET to choose it.</p>",
        e(&app.autotask),
        e(&app.state_dir.display().to_string()),
        app.deps.config.agent.resource_id,
        app.deps.config.agent.role_id,
        e(&format!(
            "{}… ({} characters)",
            app.webhook_secret.chars().take(4).collect::<String>(),
            app.webhook_secret.chars().count()
        )),
        app.processed.load(Ordering::Relaxed),
    );
    atpilot_web::pages::body_page("Settings", "/settings", "settings-page", body)
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let store = app.deps.state.settings().await.map(|_| ()).map_err(|e| e.to_string());
    match store {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ok", "state": "ok", "queues": "ok", "http": "ok"})),
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, axum::Json(serde_json::json!({"status": "degraded", "state": e})))
            .into_response(),
    }
}
