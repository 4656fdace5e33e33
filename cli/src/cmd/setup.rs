//! `atpilot setup`: register (or update) the TicketWebhook pointing at the
//! deployed intake URL, after checking the configuration against the tenant
//! (`atpilot_agent::config_check`: agent resource, role, billing codes, statuses…).

use crate::CliResult;
use atpilot_autotask::{Client, ClientConfig, Credentials, ZoneSource};
use atpilot_config::Config;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The deployed intake function's URL (the stack output IntakeUrl).
    #[arg(long)]
    pub intake_url: String,
    /// The configuration (agent resource, role, billing codes).
    #[arg(long, required_unless_present = "sandbox")]
    pub config: Option<PathBuf>,
    /// The tenant: its REST root, or the global URL to discover the zone.
    /// Credentials: AUTOTASK_USERNAME, AUTOTASK_SECRET, AUTOTASK_INTEGRATION_CODE.
    #[arg(long, conflicts_with = "sandbox", required_unless_present = "sandbox")]
    pub autotask_url: Option<String>,
    /// Run against an embedded seeded sandbox (to try the command).
    #[arg(long)]
    pub sandbox: bool,
    /// Check only; change nothing in Autotask.
    #[arg(long)]
    pub dry_run: bool,
}

fn env(name: &str, why: &str) -> Result<String, String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty()).ok_or_else(|| format!("{name} is not set: {why}"))
}

pub async fn run(args: Args) -> CliResult {
    let secret = env(
        "ATPILOT_WEBHOOK_SECRET",
        "it is the webhook's secret key, the same value as the deployed WebhookSecretArn secret",
    )?;
    let mut _sandbox = None;
    let remote = args.autotask_url.is_some();
    let (client, config) = match (&args.autotask_url, args.sandbox) {
        (Some(url), _) => {
            let config = Config::load(args.config.as_deref().ok_or("--config is required with --autotask-url")?)?;
            (Client::new(ClientConfig::new(crate::cmd::tenant::credentials()?, ZoneSource::for_url(url)))?, config)
        }
        (None, _) => {
            let sb = atpilot_autotask_sandbox::Sandbox::start(Default::default(), "127.0.0.1:0".parse()?).await?;
            let config = match &args.config {
                Some(p) => Config::load(p)?,
                None => atpilot_local::demo_config(&sb.facts(), "http://127.0.0.1:8080")?,
            };
            let c = sb.config();
            let credentials = Credentials {
                username: c.user.clone(),
                secret: c.secret.clone(),
                integration_code: c.integration_code.clone(),
                impersonation_resource_id: None,
            };
            let client = Client::new(ClientConfig::new(credentials, ZoneSource::Fixed { rest_url: sb.rest_url() }))?;
            _sandbox = Some(sb);
            (client, config)
        }
    };
    let env = |k: &str| std::env::var(k).ok();
    let report =
        atpilot_agent::setup::setup(&client, &config, &env, remote, &args.intake_url, &secret, args.dry_run).await?;
    print!("{}", report.config);
    for c in &report.checks {
        println!("{} {:<40} {}", if c.ok { "ok  " } else { "FAIL" }, c.what, c.detail);
    }
    if report.ok() { Ok(()) } else { Err("setup found problems (FAIL above); nothing was registered".into()) }
}
