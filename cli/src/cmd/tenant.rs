//! A real tenant for the commands that take `--autotask-url`: credentials
//! from AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE.

use atpilot_autotask::Credentials;

pub fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("{name} is not set: with --autotask-url the credentials come from AUTOTASK_USERNAME, AUTOTASK_SECRET and AUTOTASK_INTEGRATION_CODE"))
}

pub fn credentials() -> Result<Credentials, String> {
    Ok(Credentials {
        username: env("AUTOTASK_USERNAME")?,
        secret: env("AUTOTASK_SECRET")?,
        integration_code: env("AUTOTASK_INTEGRATION_CODE")?,
        impersonation_resource_id: None,
    })
}

/// The client of a command that reads either a real tenant (`--autotask-url
/// URL`, credentials from the environment) or, without a URL, an embedded
/// sandbox seeded by `sandbox` (returned too: it serves until dropped).
pub async fn connect(
    autotask_url: Option<&str>,
    sandbox: atpilot_autotask_sandbox::SandboxConfig,
    budget_share: f64,
) -> Result<
    (atpilot_autotask::Client, Option<atpilot_autotask_sandbox::Sandbox>),
    Box<dyn std::error::Error + Send + Sync>,
> {
    use atpilot_autotask::{Client, ClientConfig, ZoneSource};
    let (credentials, zone, sb) = match autotask_url {
        Some(url) => (credentials()?, ZoneSource::for_url(url), None),
        None => {
            let (credentials, zone, sb) = start_sandbox(sandbox).await?;
            (credentials, zone, Some(sb))
        }
    };
    let mut cc = ClientConfig::new(credentials, zone);
    cc.budget_share = budget_share;
    Ok((Client::new(cc)?, sb))
}

/// An embedded sandbox seeded by `cfg` on a free loopback port, with the
/// credentials and zone a client needs to reach it (it serves until dropped).
pub async fn start_sandbox(
    cfg: atpilot_autotask_sandbox::SandboxConfig,
) -> Result<
    (Credentials, atpilot_autotask::ZoneSource, atpilot_autotask_sandbox::Sandbox),
    Box<dyn std::error::Error + Send + Sync>,
> {
    let sb = atpilot_autotask_sandbox::Sandbox::start(cfg, "127.0.0.1:0".parse()?)
        .await
        .map_err(|e| format!("cannot start the sandbox: {e}"))?;
    let c = sb.config();
    let credentials = Credentials {
        username: c.user.clone(),
        secret: c.secret.clone(),
        integration_code: c.integration_code.clone(),
        impersonation_resource_id: None,
    };
    Ok((credentials, atpilot_autotask::ZoneSource::Fixed { rest_url: sb.rest_url() }, sb))
}

/// A stderr progress bar (hidden when `quiet`) fed by the audit collector's progress events.
pub fn progress_bar(quiet: bool) -> (indicatif::ProgressBar, impl Fn(atpilot_audit::Progress) + Send + Sync + 'static) {
    use indicatif::{ProgressBar, ProgressStyle};
    let bar = if quiet { ProgressBar::hidden() } else { ProgressBar::new(0) };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:24} [{bar:30}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let b = bar.clone();
    let on_progress = move |p: atpilot_audit::Progress| match p {
        atpilot_audit::Progress::Stage { name, total } => {
            b.set_message(name);
            b.set_length(total);
            b.set_position(0);
        }
        atpilot_audit::Progress::Advance { done } => b.set_position(done),
    };
    (bar, on_progress)
}
